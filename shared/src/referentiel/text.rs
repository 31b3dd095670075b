//! Reads a référentiel's structure out of its text.
//!
//! The scanner walks the document's units (see [`super::units`]) once, keeping the bloc and
//! competency it is in, and then repairs what extraction loses: bloc headings that came out
//! garbled, competencies whose criteria sit in a merged table cell, codes that repeat.

use std::collections::{BTreeMap, HashMap, VecDeque};

use super::codes::{
    self, BlocHeading, bloc_heading, criterion_marker, find_competences, starts_with_infinitive,
};
use super::model::{
    Bloc, BlocKind, Competence, Criterion, Referentiel, SCHEMA_VERSION, SourceFormat,
};
use super::units::{Column, Unit, UnitKind, fold, is_table_header_text, units};
use super::{Diagnostic, DiagnosticKind, Import, ImportError};

pub(crate) fn parse(text: &str, source: SourceFormat) -> Result<Import, ImportError> {
    if text.trim().is_empty() {
        return Err(ImportError::Empty);
    }
    let units = units(text);
    let numbered = units.iter().any(|u| !find_competences(&u.text).is_empty());
    let mut scanner = Scanner {
        numbered,
        ..Scanner::default()
    };
    for (index, unit) in units.iter().enumerate() {
        scanner.unit(index, unit);
    }
    let title = find_title(&units);
    let rncp = find_rncp(text);
    scanner.finish(title, rncp, source, text)
}

#[derive(Default)]
struct BlocDraft {
    number: u32,
    kind: Option<BlocKind>,
    printed_code: Option<String>,
    title: Option<String>,
    assessment: Vec<String>,
    /// Unit where the bloc's heading was seen (for repairs).
    heading_unit: usize,
}

struct CompetenceDraft {
    code: String,
    printed: Option<String>,
    title: String,
    bloc: Option<usize>,
    criteria: Vec<Criterion>,
    criteria_group: Option<usize>,
    unit: usize,
    line: usize,
    /// Other statements printed under the same code (for `check`).
    variants: Vec<(String, usize)>,
    /// The modalités printed with it: (bloc, position in that bloc's list) where they were
    /// read — a bloc deduced later takes its compétences' along.
    assessment: Vec<(usize, usize)>,
}

/// Something whose text may continue in a later fragment (PDF page or column breaks).
#[derive(Clone, Copy)]
enum Open {
    Title(usize),
    Criterion(usize),
}

/// A fragment that stopped before its sentence ended, waiting for the rest.
///
/// A table turned into text by a PDF extractor comes out column by column, band by band: the
/// first lines of each column of a row, then the next lines of each column, in the same order.
/// So the lower-case fragments that continue a row come in the order their beginnings did, and
/// the oldest unfinished fragment takes the next continuation — whatever column it is in.
/// Fragments of columns Livret does not keep (activities, deliverables, notes) wait in the same
/// queue, so their ends are not taken for the end of a compétence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dangling {
    Title(usize),
    /// A numbered criterion (`CE1 - …`): group, position.
    GroupCriterion(usize, usize),
    /// An indicator under a numbered criterion: group, criterion, position.
    Indicator(usize, usize, usize),
    /// A criterion listed under a compétence: compétence, position.
    Criterion(usize, usize),
    /// A modalité d'évaluation: bloc, position.
    Assessment(usize, usize),
    /// A modalité printed again (kept once): its end is not kept either.
    RepeatedAssessment,
    /// One of the deliverables a modalité lists (see [`Deliverables`]): its position.
    Deliverable(usize),
    /// Text of a column that is not kept.
    Elsewhere,
}

impl Dangling {
    /// The column a fragment sits in: a new fragment in a column means the previous one there
    /// was whole. `None` for text not kept, whose columns are not known.
    fn column(self) -> Option<u8> {
        match self {
            Dangling::Title(_) => Some(0),
            Dangling::GroupCriterion(..) | Dangling::Indicator(..) | Dangling::Criterion(..) => {
                Some(1)
            }
            Dangling::Assessment(..) | Dangling::RepeatedAssessment => Some(2),
            Dangling::Deliverable(_) => Some(3),
            Dangling::Elsewhere => None,
        }
    }
}

/// "À partir d'un contexte donné, le candidat doit :" and the list after it ("● Analyser les
/// besoins… ● Produire un document…"): part of how the row's compétences are assessed, kept
/// as one modalité when the row ends. Its items are instructions, so they start with a verb
/// in the infinitive — which tells them from the activities listed beside them.
struct Deliverables {
    intro: String,
    items: Vec<String>,
    competences: Vec<usize>,
}

#[derive(Default)]
struct Scanner {
    numbered: bool,
    blocs: Vec<BlocDraft>,
    bloc_by_number: BTreeMap<u32, usize>,
    current_bloc: Option<usize>,
    competences: Vec<CompetenceDraft>,
    competence_by_code: HashMap<String, usize>,
    current_competence: Option<usize>,
    /// The last table row holding competencies, and those competencies: criteria cells of
    /// that row (or of its continuation after a page break) attach to all of them, since a
    /// cell may state several competencies that share one criteria cell.
    row_competences: Option<(usize, Vec<usize>)>,
    /// After a competency, inside its modalités d'évaluation: bullets are its criteria.
    in_assessment: bool,
    /// The current bloc's list of (unnumbered) competencies has ended.
    bloc_list_closed: bool,
    /// A table row that belongs to no competency (a final exam row): its criteria are dropped.
    orphan_row: Option<usize>,
    /// Criteria printed as numbered groups `CE1 … CEn`, in order.
    criteria_groups: Vec<Vec<Criterion>>,
    current_group: Option<usize>,
    last_criterion_number: u32,
    awaiting_group: Vec<usize>,
    open: Option<Open>,
    /// Fragments cut mid-phrase in the current row, oldest first (see [`Dangling`]), each with
    /// the order it came in.
    dangling: VecDeque<(Dangling, usize)>,
    /// How many fragments have been seen, and when the last one of a kept column (statement,
    /// criteria, modalités) was.
    fragments_seen: usize,
    last_kept_fragment: usize,
    /// The last fragment read was a continuation: text of another column that follows is that
    /// column going on.
    continuing: bool,
    /// Whether indicators under numbered criteria are round bullets (`●`) or dashes, learnt
    /// from the first one: bullets of the other kind belong to another column.
    indicator_dot: Option<bool>,
    /// The unit before was a numbered criterion: a bullet now is its first indicator, and
    /// tells which kind of bullet indicators are.
    after_marker: bool,
    /// A heading naming an épreuve ("Étude de cas :"): the paragraph after it describes it.
    assessment_label: Option<String>,
    /// What the candidate must do or hand in, being listed for the current row.
    deliverables: Option<Deliverables>,
    /// The document's footnotes, in order, each once.
    notes: Vec<String>,
    /// Units holding the "référentiel d'activités / de compétences" table header.
    table_headers: Vec<usize>,
    diagnostics: Vec<Diagnostic>,
}

impl Scanner {
    fn unit(&mut self, index: usize, unit: &Unit) {
        let after_marker = std::mem::take(&mut self.after_marker);
        if unit.kind != UnitKind::Paragraph {
            self.assessment_label = None;
        }
        let text = unit.text.as_str();
        if is_table_header_text(text) {
            // The header row of a bloc's table. In PDF text the rows that follow may be glued
            // to it, so the unit is still read for competencies.
            self.table_headers.push(index);
            self.in_assessment = false;
            self.open = None;
            self.dangling.clear();
            self.current_group = None;
        }
        let mut rest = text;
        if let Some(heading) = bloc_heading(text) {
            let mut lines = text.lines();
            lines.next();
            let mut title = heading.title.clone();
            // A heading wrapped over two lines continues in lower case.
            let mut remaining: Vec<&str> = lines.collect();
            while let Some(first) = remaining.first() {
                if first.starts_with(|c: char| c.is_lowercase()) && !title.is_empty() {
                    title.push(' ');
                    title.push_str(first);
                    remaining.remove(0);
                } else {
                    break;
                }
            }
            self.enter_bloc(BlocHeading { title, ..heading }, index);
            let consumed = text.len()
                - remaining
                    .iter()
                    .map(|l| l.len() + 1)
                    .sum::<usize>()
                    .min(text.len());
            rest = text[consumed..].trim_start();
            if rest.is_empty() {
                return;
            }
        }
        if let Some((number, title)) = criterion_marker(rest) {
            if unit.is_cell() && rest.contains('\n') {
                // A table cell holding numbered criteria with their indicators (« CE1 - … »,
                // « - … », « CE2 - … »): item by item, as the same lines in running text.
                self.numbered_criteria_cell(rest);
            } else {
                self.criterion_marker(number, title.replace('\n', " "));
            }
            return;
        }
        let found = find_competences(rest);
        if !found.is_empty() {
            self.competences_in(rest, &found, index, unit);
            return;
        }
        if !self.numbered
            && unit.kind != UnitKind::Heading
            && !unit.is_cell()
            && self.unnumbered_competences(rest, index, unit.line)
        {
            return;
        }
        match unit.kind {
            UnitKind::Cell { column, row } => self.cell(rest, column, row, &unit.lists),
            UnitKind::Bullet { dot } => self.bullet(rest, dot, after_marker),
            UnitKind::Heading => {
                self.dangling.clear();
                if is_assessment_start(rest) && rest.ends_with(':') {
                    self.assessment_label = Some(rest.to_string());
                }
                if is_assessment_start(rest) {
                    self.in_assessment =
                        self.current_competence.is_some() || self.current_bloc.is_some();
                } else if rest.ends_with(':') || looks_like_activity(rest) {
                    self.in_assessment = false;
                }
            }
            UnitKind::Paragraph => self.paragraph(rest),
            UnitKind::Note => {
                if !self.notes.contains(&unit.text) {
                    self.notes.push(unit.text.clone());
                }
            }
        }
    }

    /// The row's deliverables, as one modalité of its compétences.
    fn keep_deliverables(&mut self) {
        let Some(d) = self.deliverables.take() else {
            return;
        };
        if !d.items.is_empty() {
            let text = format!("{} {}", d.intro, d.items.join(" ; "));
            self.add_assessment(&text, &d.competences);
        }
    }

    fn enter_bloc(&mut self, heading: BlocHeading, unit: usize) {
        self.keep_deliverables();
        let index = match self.bloc_by_number.get(&heading.number) {
            Some(&i) => i,
            None => {
                self.blocs.push(BlocDraft {
                    number: heading.number,
                    heading_unit: unit,
                    ..BlocDraft::default()
                });
                let i = self.blocs.len() - 1;
                self.bloc_by_number.insert(heading.number, i);
                i
            }
        };
        let bloc = &mut self.blocs[index];
        bloc.kind.get_or_insert(heading.kind);
        if bloc.printed_code.is_none() {
            bloc.printed_code = heading.printed_code;
        }
        if bloc.title.is_none() && !heading.title.is_empty() {
            bloc.title = Some(tidy_title(&heading.title));
        }
        self.current_bloc = Some(index);
        self.current_competence = None;
        self.in_assessment = false;
        self.bloc_list_closed = false;
        self.current_group = None;
        self.last_criterion_number = 0;
        self.open = None;
        self.dangling.clear();
    }

    fn competences_in(
        &mut self,
        text: &str,
        found: &[codes::CodeMatch],
        index: usize,
        unit: &Unit,
    ) {
        self.keep_deliverables();
        // A new row: what was left unfinished in the previous one stays so. The row began with
        // its activities, before the code: their unfinished text waits for its end.
        let row_start = self.last_kept_fragment;
        self.dangling
            .retain(|(d, seen)| *d == Dangling::Elsewhere && *seen > row_start);
        self.continuing = false;
        if let Some(first) = found.first()
            && !unit.is_cell()
        {
            // Another column's text glued before the code ("Amélioration continue de la C.3.6
            // Optimiser…"): its end will come among the continuations.
            self.dangle(Dangling::Elsewhere, &text[..first.start]);
        }
        for (i, m) in found.iter().enumerate() {
            let end = found.get(i + 1).map_or(text.len(), |next| next.start);
            let (title, tail) = split_statement(&text[m.statement..end]);
            let competence =
                self.add_competence(&m.code, Some(m.printed.clone()), title, index, unit.line);
            if let Some(row) = unit.row() {
                match &mut self.row_competences {
                    Some((r, list)) if *r == row => list.push(competence),
                    _ => self.row_competences = Some((row, vec![competence])),
                }
            }
            if !unit.is_cell() {
                self.dangle(
                    Dangling::Title(competence),
                    &self.competences[competence].title.clone(),
                );
            }
            if is_assessment_start(tail) {
                if unit.is_cell() {
                    self.add_assessment(tail, &[competence]);
                } else {
                    self.modalite_fragment(tail, tail, &[competence]);
                }
            }
        }
        self.in_assessment = false;
    }

    fn add_competence(
        &mut self,
        code: &str,
        printed: Option<String>,
        title: String,
        unit: usize,
        line: usize,
    ) -> usize {
        let index = match self.competence_by_code.get(code) {
            Some(&i) => {
                let existing = &mut self.competences[i];
                if existing.bloc.is_none() {
                    existing.bloc = self.current_bloc;
                }
                if !same_statement(&existing.title, &title) {
                    existing.variants.push((title, line));
                }
                i
            }
            None => {
                self.competences.push(CompetenceDraft {
                    code: code.to_string(),
                    printed,
                    title: title.clone(),
                    bloc: self.current_bloc,
                    criteria: Vec::new(),
                    criteria_group: None,
                    unit,
                    line,
                    variants: Vec::new(),
                    assessment: Vec::new(),
                });
                let i = self.competences.len() - 1;
                self.competence_by_code.insert(code.to_string(), i);
                i
            }
        };
        self.current_competence = Some(index);
        self.awaiting_group.push(index);
        self.open = (!ends_sentence(&self.competences[index].title)).then_some(Open::Title(index));
        index
    }

    /// Référentiels without codes: inside a bloc, each line that starts with a verb in the
    /// infinitive is a competency, until the modalités d'évaluation start.
    fn unnumbered_competences(&mut self, text: &str, index: usize, line: usize) -> bool {
        let Some(bloc) = self.current_bloc else {
            return false;
        };
        if self.in_assessment || self.bloc_list_closed {
            return false;
        }
        let mut took_any = false;
        for l in text.lines() {
            if starts_with_infinitive(l) && l.split_whitespace().count() >= 4 {
                self.dangling.clear();
                let number = self
                    .competences
                    .iter()
                    .filter(|c| c.bloc == Some(bloc))
                    .count()
                    + 1;
                let code = format!("C{}.{}", self.blocs[bloc].number, number);
                let c = self.add_competence(&code, None, tidy_title(l), index, line);
                self.dangle(Dangling::Title(c), l);
                took_any = true;
            } else if took_any && l.starts_with(|c: char| c.is_lowercase()) {
                if let Some(Open::Title(c)) = self.open {
                    append(&mut self.competences[c].title, l);
                    if ends_phrase(&self.competences[c].title) {
                        self.dangling.retain(|(d, _)| *d != Dangling::Title(c));
                    }
                }
            } else if is_assessment_start(l) {
                self.in_assessment = true;
                self.bloc_list_closed =
                    took_any || self.competences.iter().any(|c| c.bloc == Some(bloc));
                self.add_assessment(l, &[]);
            } else if self.in_assessment {
                self.add_assessment(l, &[]);
            }
        }
        took_any
    }

    fn numbered_criteria_cell(&mut self, text: &str) {
        let mut after_marker = false;
        for line in text.lines() {
            if let Some((number, title)) = criterion_marker(line) {
                self.criterion_marker(number, title);
                after_marker = true;
            } else if let Some(item) = line
                .strip_prefix("- ")
                .or_else(|| line.strip_prefix(super::units::NESTED))
            {
                self.bullet(item, false, std::mem::take(&mut after_marker));
            } else if let Some(group) = self.current_group
                && let Some(last) = self.criteria_groups[group].last_mut()
            {
                // A line that is neither: the rest of the item before it.
                match last.indicators.last_mut() {
                    Some(indicator) => append(indicator, line),
                    None => append(&mut last.title, line),
                }
            }
        }
    }

    fn criterion_marker(&mut self, number: u32, title: String) {
        // CE numbering restarts at each group; a higher number continues the current group
        // (a merged cell shared by consecutive competencies).
        let continues = self.current_group.is_some() && number == self.last_criterion_number + 1;
        let group = if continues {
            self.current_group.unwrap_or_default()
        } else {
            self.criteria_groups.push(Vec::new());
            self.criteria_groups.len() - 1
        };
        self.current_group = Some(group);
        self.last_criterion_number = number;
        for c in self.awaiting_group.drain(..) {
            self.competences[c].criteria_group.get_or_insert(group);
        }
        self.criteria_groups[group].push(Criterion {
            code: Some(format!("CE{number}")),
            title: tidy_title(&title),
            indicators: Vec::new(),
        });
        self.open = None;
        self.after_marker = true;
        let position = self.criteria_groups[group].len() - 1;
        self.dangle(Dangling::GroupCriterion(group, position), &title);
    }

    fn cell(&mut self, text: &str, column: Option<Column>, row: usize, lists: &[String]) {
        let own_row = self
            .row_competences
            .as_ref()
            .is_some_and(|(r, _)| *r == row);
        if !own_row && self.orphan_row != Some(row) {
            // A row without a competency continues the previous one (page break), unless it
            // starts something else: a statement or a new modalité.
            let starts_other = match column {
                // Where every compétence has its code, text without one in that column is not
                // a new statement (the activities column, shifted by an empty leading cell)
                // unless it names an épreuve ("Examen final : …").
                Some(Column::Competences) if self.numbered => is_assessment_start(text),
                Some(Column::Competences) => text.starts_with(|c: char| c.is_uppercase()),
                Some(Column::Assessment) => is_assessment_start(without_epreuve_code(text)),
                _ => false,
            };
            if starts_other {
                self.orphan_row = Some(row);
                self.open = None;
            }
        }
        if self.orphan_row == Some(row) {
            return;
        }
        match column {
            Some(Column::Criteria) => {
                let targets = self.row_or_current();
                let Some(&first) = targets.first() else {
                    return;
                };
                if own_row && lists.len() >= 2 && lists.len() == targets.len() {
                    // As many lists as compétences in the row: one each, in order.
                    let shared = self.row_competences.take();
                    for (&t, list) in targets.iter().zip(lists) {
                        self.row_competences = Some((row, vec![t]));
                        self.cell(list, column, row, &[]);
                    }
                    self.row_competences = shared;
                    return;
                }
                // A bulleted list may start with its épreuve's name and a heading ("Mise en
                // situation professionnelle simulée : / Identification du besoin"): in the
                // row's own cell, lines before the first bullet are not criteria.
                let bulleted = text.lines().any(starts_with_dash_item);
                let text = if own_row && bulleted {
                    let heading = |l: &&str| {
                        !starts_with_dash_item(l)
                            && (looks_like_criteria_heading(l)
                                || l.trim_end().ends_with(':')
                                || l.split_whitespace().count() <= 4)
                    };
                    let skip = text.lines().take_while(heading).count();
                    text.lines().skip(skip).collect::<Vec<_>>().join("\n")
                } else {
                    text.to_string()
                };
                // After a page break, a cell starting with a new bullet starts a new criterion.
                let starts_new_item = starts_with_dash_item(&text);
                for (
                    i,
                    CellItem {
                        text: item,
                        indicator,
                    },
                ) in split_items(&text).into_iter().enumerate()
                {
                    if indicator {
                        for &t in &targets {
                            if let Some(last) = self.competences[t].criteria.last_mut() {
                                last.indicators.push(item.clone());
                            }
                        }
                        continue;
                    }
                    // What continues a criterion cut by the page break goes on mid-sentence,
                    // unless the criterion visibly stopped mid-phrase.
                    let goes_on = !item.starts_with(char::is_uppercase)
                        || targets.first().is_some_and(|&t| {
                            self.competences[t]
                                .criteria
                                .last()
                                .is_some_and(|c| ends_mid_phrase(&c.title))
                        });
                    let continues_previous = i == 0
                        && !own_row
                        && goes_on
                        && !starts_new_item
                        && matches!(self.open, Some(Open::Criterion(c)) if c == first);
                    if continues_previous {
                        for &t in &targets {
                            if let Some(last) = self.competences[t].criteria.last_mut() {
                                append(&mut last.title, &item);
                            }
                        }
                        if ends_sentence(&item) {
                            self.open = None;
                        }
                        continue;
                    }
                    if looks_like_criteria_heading(&item) {
                        continue;
                    }
                    for &t in &targets {
                        self.competences[t].criteria.push(Criterion {
                            code: None,
                            title: item.clone(),
                            indicators: Vec::new(),
                        });
                    }
                    self.open = (!ends_sentence(&item)).then_some(Open::Criterion(first));
                }
            }
            Some(Column::Assessment) if self.current_bloc.is_some() => {
                let first = text.lines().next().unwrap_or_default();
                if is_assessment_start(without_epreuve_code(first)) {
                    let row = self.row_or_current();
                    self.add_assessment(text, &row);
                }
            }
            Some(Column::Competences) => {
                // A competency statement cut by a page break continues in the next table.
                if text.starts_with(|c: char| c.is_lowercase())
                    && let Some(Open::Title(c)) = self.open
                {
                    append(&mut self.competences[c].title, text);
                    self.open = None;
                }
            }
            _ => {}
        }
    }

    fn bullet(&mut self, text: &str, dot: bool, after_marker: bool) {
        let text = text.replace('\n', " ");
        if let Some(group) = self.current_group {
            if after_marker {
                self.indicator_dot = Some(dot);
            }
            let indicator_dot = *self.indicator_dot.get_or_insert(dot);
            let criterion = self.criteria_groups[group].len().checked_sub(1);
            match criterion {
                Some(cr) if dot == indicator_dot => {
                    let indicators = &mut self.criteria_groups[group][cr].indicators;
                    indicators.push(tidy_title(&text));
                    let i = indicators.len() - 1;
                    self.dangle(Dangling::Indicator(group, cr, i), &text);
                }
                _ => self.other_bullet(&text),
            }
            return;
        }
        if self.in_assessment
            && let Some(c) = self.current_competence
        {
            self.competences[c].criteria.push(Criterion {
                code: None,
                title: tidy_title(&text),
                indicators: Vec::new(),
            });
            self.open = (!ends_sentence(&text)).then_some(Open::Criterion(c));
            let i = self.competences[c].criteria.len() - 1;
            self.dangle(Dangling::Criterion(c, i), &text);
            return;
        }
        self.other_bullet(&text);
    }

    /// A bullet that is neither a criterion nor an indicator: a deliverable of the row's
    /// modalité, or another column's.
    fn other_bullet(&mut self, text: &str) {
        if let Some(d) = &mut self.deliverables
            && starts_with_infinitive(text)
        {
            d.items.push(tidy_title(text));
            let i = d.items.len() - 1;
            self.dangle(Dangling::Deliverable(i), text);
            return;
        }
        self.dangle(Dangling::Elsewhere, text);
    }

    fn paragraph(&mut self, text: &str) {
        if text.starts_with(|c: char| c.is_lowercase()) {
            self.continue_open(text);
            return;
        }
        if is_assessment_start(text) {
            if self.current_competence.is_some() || self.current_bloc.is_some() {
                self.in_assessment = true;
                let current: Vec<usize> = self.current_competence.into_iter().collect();
                self.modalite_fragment(text, text, &current);
            }
            return;
        }
        if self.numbered
            && text.ends_with(':')
            && fold(text).contains("candidat")
            && let Some(c) = self.current_competence
        {
            // "À partir d'un contexte donné, le candidat doit :": the deliverables follow.
            self.keep_deliverables();
            self.deliverables = Some(Deliverables {
                intro: tidy_title(&text.replace('\n', " ")),
                items: Vec::new(),
                competences: vec![c],
            });
            self.in_assessment = false;
            return;
        }
        if let Some(label) = self.assessment_label.take() {
            // "Étude de cas :" as a heading, its description as the paragraph after it.
            let current: Vec<usize> = self.current_competence.into_iter().collect();
            self.modalite_fragment(&format!("{label} {text}"), text, &current);
            return;
        }
        if text.ends_with(':') && text.len() < 160 {
            // A section heading ("Description des modalités … :"): whatever came before ends.
            self.in_assessment = false;
        }
        if let Some(d) = &self.deliverables
            && !d.items.is_empty()
            && text.ends_with('.')
            && !fold(text).starts_with("nota")
            && text.split_whitespace().count() >= 8
        {
            // After the deliverables, what the assessment looks at ("Le rapport doit
            // justifier…", "L'évaluation portera sur…"). A « Nota » is the activities'.
            let competences = d.competences.clone();
            self.modalite_fragment(text, text, &competences);
            return;
        }
        if !self.numbered && self.in_assessment && self.bloc_list_closed {
            // After a bloc's list of unnumbered compétences, its modalités paragraph by
            // paragraph ("Le candidat présente son projet…").
            let current: Vec<usize> = self.current_competence.into_iter().collect();
            self.add_assessment(text, &current);
            return;
        }
        self.dangle(Dangling::Elsewhere, text);
    }

    /// Queues a fragment that stops mid-phrase for its continuation; a fragment in a column
    /// ends the unfinished one before it in that column.
    ///
    /// Text of a column not kept waits only when it visibly stops mid-phrase: a heading of the
    /// activities column ("Cadrage du projet") has no full stop either, and must not take the
    /// next continuation. Right after a continuation, such text is the same column going on
    /// ("supervision des équipes :" then "○ Suivi des tâches et"), so it waits first in line.
    fn dangle(&mut self, fragment: Dangling, text: &str) {
        self.fragments_seen += 1;
        let entry = (fragment, self.fragments_seen);
        match fragment.column() {
            Some(column) => {
                self.dangling.retain(|(d, _)| d.column() != Some(column));
                self.last_kept_fragment = self.fragments_seen;
                self.continuing = false;
                if !ends_phrase(text) {
                    self.dangling.push_back(entry);
                }
            }
            None if ends_mid_phrase(text) => {
                if self.continuing {
                    self.dangling.push_front(entry);
                } else {
                    self.dangling.push_back(entry);
                }
            }
            None => {}
        }
        // A row has a handful of columns: more unfinished fragments than that is not a table
        // (and must not make hostile input quadratic).
        while self.dangling.len() > MAX_DANGLING {
            let oldest_elsewhere = self.dangling.iter().position(|(d, _)| d.column().is_none());
            self.dangling.remove(oldest_elsewhere.unwrap_or(0));
        }
    }

    /// A fragment starting in lower case: the rest of the oldest unfinished one. When it
    /// finishes that one at the end of one of its lines, its next lines are the rest of the
    /// next unfinished one (two columns' ends printed as one paragraph).
    fn continue_open(&mut self, text: &str) {
        if looks_like_footnote(text) || looks_like_address(text) {
            return;
        }
        let lines: Vec<&str> = text.lines().collect();
        let mut start = 0;
        for (i, line) in lines.iter().enumerate() {
            let last = i + 1 == lines.len();
            let sentence_ends = line.trim_end().ends_with(['.', '!', '?']);
            if last || sentence_ends {
                let piece = lines[start..=i].join(" ");
                let finished = self.continue_front(&piece);
                start = i + 1;
                if !finished && !last {
                    // Not the end of what it continues: the rest of the paragraph is too.
                    let rest = lines[start..].join(" ");
                    self.continue_front(&rest);
                    return;
                }
                if self.dangling.is_empty() {
                    return;
                }
            }
        }
    }

    /// Appends `joined` to the oldest unfinished fragment; whether that fragment is now whole.
    fn continue_front(&mut self, joined: &str) -> bool {
        let Some(&(fragment, _)) = self.dangling.front() else {
            return false;
        };
        self.continuing = true;
        let whole = match fragment {
            Dangling::Title(c) => Some(&mut self.competences[c].title),
            Dangling::GroupCriterion(g, cr) => {
                self.criteria_groups[g].get_mut(cr).map(|x| &mut x.title)
            }
            Dangling::Indicator(g, cr, i) => self.criteria_groups[g]
                .get_mut(cr)
                .and_then(|x| x.indicators.get_mut(i)),
            Dangling::Criterion(c, i) => self.competences[c]
                .criteria
                .get_mut(i)
                .map(|x| &mut x.title),
            Dangling::Assessment(b, i) => self.blocs[b].assessment.get_mut(i),
            Dangling::Deliverable(i) => self.deliverables.as_mut().and_then(|d| d.items.get_mut(i)),
            Dangling::Elsewhere | Dangling::RepeatedAssessment => None,
        };
        let finished = match whole {
            Some(target) => {
                append(target, joined);
                ends_phrase(target)
            }
            None => ends_phrase(joined),
        };
        if finished {
            self.dangling.pop_front();
            if matches!(fragment, Dangling::Title(_)) {
                self.open = None;
            }
        }
        finished
    }

    /// The compétences of the current table row, else the current one: what a cell belongs to.
    fn row_or_current(&self) -> Vec<usize> {
        match &self.row_competences {
            Some((_, list)) => list.clone(),
            None => self.current_competence.into_iter().collect(),
        }
    }

    /// A modalité read from running text: kept ([`Scanner::add_assessment`]) and, when
    /// `printed` stops mid-phrase, waiting for its end (a modalité kept once already waits
    /// too, so its end is not taken for another column's).
    fn modalite_fragment(&mut self, modalite: &str, printed: &str, printed_with: &[usize]) {
        let kept = self.add_assessment(modalite, printed_with);
        self.dangle(kept.unwrap_or(Dangling::RepeatedAssessment), printed);
    }

    /// Keeps a modalité for the current bloc and for the compétences printed with it; says
    /// where, when it was new (a modalité printed again under each compétence is kept once).
    fn add_assessment(&mut self, text: &str, printed_with: &[usize]) -> Option<Dangling> {
        let bloc = self.current_bloc.or_else(|| {
            self.current_competence
                .and_then(|c| self.competences[c].bloc)
        })?;
        let text = tidy_title(&text.replace('\n', " "));
        if text.len() < 12 || names_columns_only(&text) {
            return None;
        }
        let list = &mut self.blocs[bloc].assessment;
        let (position, new) = match list.iter().position(|a| same_statement(a, &text)) {
            Some(p) => (p, false),
            None => {
                list.push(text);
                (list.len() - 1, true)
            }
        };
        for &c in printed_with {
            let refs = &mut self.competences[c].assessment;
            if !refs.contains(&(bloc, position)) {
                refs.push((bloc, position));
            }
        }
        new.then_some(Dangling::Assessment(bloc, position))
    }

    fn finish(
        mut self,
        title: Option<String>,
        rncp: Option<String>,
        source: SourceFormat,
        text: &str,
    ) -> Result<Import, ImportError> {
        self.keep_deliverables();
        self.repair_missing_bloc_headings();
        self.blocs_from_hierarchical_codes();

        // Criteria printed as CE groups go to every competency that shares the group.
        for c in &mut self.competences {
            if let Some(g) = c.criteria_group
                && c.criteria.is_empty()
            {
                c.criteria = self.criteria_groups[g].clone();
            }
        }
        if self.competences.is_empty() {
            return Err(ImportError::NotAReferentiel);
        }

        let bloc_codes = printed_bloc_codes(text, rncp.as_deref());
        let mut blocs: Vec<Bloc> = Vec::new();
        let mut order: Vec<usize> = (0..self.blocs.len()).collect();
        order.sort_by_key(|&i| self.blocs[i].number);
        for &bi in &order {
            let draft = &self.blocs[bi];
            let code = draft
                .printed_code
                .clone()
                .or_else(|| bloc_codes.get(&draft.number).cloned())
                .unwrap_or_else(|| format!("BC{:02}", draft.number));
            let members: Vec<&CompetenceDraft> = self
                .competences
                .iter()
                .filter(|c| c.bloc == Some(bi))
                .collect();
            let text_of = |(b, i): (usize, usize)| self.blocs[b].assessment.get(i).cloned();
            // The bloc's modalités: those read in it, but for the ones printed with
            // compétences of another bloc (a bloc deduced after reading), and those its own
            // compétences were printed with, wherever they were read.
            let elsewhere = |i: usize| {
                self.competences
                    .iter()
                    .any(|c| c.bloc != Some(bi) && c.assessment.contains(&(bi, i)))
                    && !members.iter().any(|c| c.assessment.contains(&(bi, i)))
            };
            let mut assessment: Vec<String> = (0..draft.assessment.len())
                .filter(|&i| !elsewhere(i))
                .filter_map(|i| text_of((bi, i)))
                .collect();
            for m in members.iter().flat_map(|c| &c.assessment) {
                if let Some(text) = text_of(*m)
                    && !assessment.contains(&text)
                {
                    assessment.push(text);
                }
            }
            // A compétence printed without a modalité shares the one above it (a merged
            // cell); before any, the bloc's (modalités printed after the list).
            let mut inherited = assessment.clone();
            let competences: Vec<Competence> = members
                .iter()
                .map(|c| {
                    if !c.assessment.is_empty() {
                        inherited = c.assessment.iter().filter_map(|m| text_of(*m)).collect();
                    }
                    Competence {
                        code: c.code.clone(),
                        printed_code: c.printed.clone(),
                        title: tidy_title(&c.title),
                        criteria: c.criteria.clone(),
                        assessment: inherited.clone(),
                    }
                })
                .collect();
            blocs.push(Bloc {
                number: draft.number,
                code,
                kind: draft.kind.unwrap_or(BlocKind::Bloc),
                title: draft.title.clone(),
                competences,
                assessment,
                evidence_examples: Vec::new(),
            });
        }
        for c in self.competences.iter().filter(|c| c.bloc.is_none()) {
            self.diagnostics.push(Diagnostic {
                kind: DiagnosticKind::CompetenceOutsideBloc,
                message: format!("{} est cité hors de tout bloc et a été ignoré", c.code),
                line: Some(c.line),
            });
        }
        for c in &self.competences {
            for (variant, line) in &c.variants {
                self.diagnostics.push(Diagnostic {
                    kind: DiagnosticKind::DivergentStatement,
                    message: format!(
                        "{} est énoncé différemment ligne {} (« {} ») et ligne {} (« {} »)",
                        c.code,
                        c.line,
                        shorten(&c.title),
                        line,
                        shorten(variant)
                    ),
                    line: Some(*line),
                });
            }
        }
        for b in &blocs {
            if b.title.is_none() {
                self.diagnostics.push(Diagnostic {
                    kind: DiagnosticKind::UnreadableBlocTitle,
                    message: format!(
                        "l'intitulé du bloc {} est illisible dans le document (titre non repris)",
                        b.number
                    ),
                    line: None,
                });
            }
        }
        if blocs.iter().all(|b| b.competences.is_empty()) {
            return Err(ImportError::NotAReferentiel);
        }
        let referentiel = Referentiel {
            schema_version: SCHEMA_VERSION,
            title,
            rncp,
            source,
            blocs,
            jury: Default::default(),
            epreuves: Vec::new(),
            notes: self.notes,
        };
        Ok(Import {
            referentiel,
            diagnostics: self.diagnostics,
        })
    }

    /// Extraction sometimes garbles a bloc heading beyond recognition ("DLUG Z - FII LOTAGE
    /// …"): the numbering then skips (BLOC 1, BLOC 3). Each bloc's table starts with the same
    /// header row, so a header met inside the previous bloc, after some of its competencies,
    /// is where the lost bloc starts.
    fn repair_missing_bloc_headings(&mut self) {
        let numbers: Vec<u32> = self.bloc_by_number.keys().copied().collect();
        for pair in numbers.windows(2) {
            let (before, after) = (pair[0], pair[1]);
            let missing = after.saturating_sub(before + 1);
            if missing == 0 || missing > 3 {
                continue;
            }
            let bi = self.bloc_by_number[&before];
            let next_heading = self.blocs[self.bloc_by_number[&after]].heading_unit;
            let start = self.blocs[bi].heading_unit;
            let members: Vec<usize> = (0..self.competences.len())
                .filter(|&c| self.competences[c].bloc == Some(bi))
                .collect();
            let first_member = members.iter().map(|&c| self.competences[c].unit).min();
            let Some(first_member) = first_member else {
                continue;
            };
            let mut cuts: Vec<usize> = self
                .table_headers
                .iter()
                .copied()
                .filter(|&h| h > start && h < next_heading && h > first_member)
                .filter(|&h| members.iter().any(|&c| self.competences[c].unit > h))
                .collect();
            cuts.truncate(missing as usize);
            for (k, cut) in cuts.iter().enumerate() {
                let number = before + 1 + k as u32;
                let next_cut = cuts.get(k + 1).copied().unwrap_or(usize::MAX);
                self.blocs.push(BlocDraft {
                    number,
                    kind: self.blocs[bi].kind,
                    heading_unit: *cut,
                    ..BlocDraft::default()
                });
                let new_index = self.blocs.len() - 1;
                self.bloc_by_number.insert(number, new_index);
                for &c in &members {
                    let u = self.competences[c].unit;
                    if u > *cut && u < next_cut {
                        self.competences[c].bloc = Some(new_index);
                    }
                }
                self.diagnostics.push(Diagnostic {
                    kind: DiagnosticKind::InferredBloc,
                    message: format!(
                        "le titre du bloc {number} est illisible : bloc déduit de la numérotation et de l'en-tête de tableau"
                    ),
                    line: None,
                });
            }
        }
    }

    /// Without any bloc heading, codes like `C2.3` still say which bloc they belong to.
    fn blocs_from_hierarchical_codes(&mut self) {
        if !self.blocs.is_empty() {
            return;
        }
        let all_hierarchical = self.competences.iter().all(|c| c.code.contains('.'));
        for c in 0..self.competences.len() {
            let number = if all_hierarchical {
                self.competences[c].code[1..]
                    .split('.')
                    .next()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(1)
            } else {
                1
            };
            let bi = match self.bloc_by_number.get(&number) {
                Some(&i) => i,
                None => {
                    self.blocs.push(BlocDraft {
                        number,
                        ..BlocDraft::default()
                    });
                    self.bloc_by_number.insert(number, self.blocs.len() - 1);
                    self.blocs.len() - 1
                }
            };
            self.competences[c].bloc = Some(bi);
        }
        if !self.blocs.is_empty() {
            self.diagnostics.push(Diagnostic {
                kind: DiagnosticKind::InferredBloc,
                message: "aucun intitulé de bloc dans le document : blocs déduits des codes".into(),
                line: None,
            });
        }
    }
}

/// Splits a competency's text into its statement and what follows it in the same fragment
/// (another column's text, joined by PDF extraction).
fn split_statement(text: &str) -> (String, &str) {
    let mut title = String::new();
    let mut consumed = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let l = line.trim_end_matches('\n');
        if i > 0 {
            let continues = l
                .starts_with(|c: char| c.is_lowercase() || c.is_ascii_digit() || c == '(')
                || (!ends_sentence(&title) && first_word_is_acronym(l))
                || (ends_mid_phrase(&title) && !is_assessment_start(l) && !l.contains(" CE1 "));
            if !continues {
                break;
            }
        }
        let (kept, cut) = cut_at_column_change(l);
        append(&mut title, kept);
        consumed += if cut { kept.len() } else { line.len() };
        if cut {
            break;
        }
    }
    (tidy_title(&title), text[consumed.min(text.len())..].trim())
}

/// Where a competency statement runs into the next column on the same line.
fn cut_at_column_change(line: &str) -> (&str, bool) {
    const MARKERS: &[&str] = &[
        " Mise en situation",
        " Cas pratique",
        " Étude de cas",
        " Etude de cas",
        " Examen final",
        " L'évaluation",
        " L’évaluation",
        " CE1 ",
        " ●",
        " •",
    ];
    let cut = MARKERS.iter().filter_map(|m| line.find(m)).min();
    match cut {
        Some(i) if i > 20 => (&line[..i], true),
        _ => (line, false),
    }
}

/// A table's column headings repeated at a page break ("Modalités d'évaluation Critères
/// d'évaluation"): no modalité.
fn names_columns_only(text: &str) -> bool {
    let mut rest = fold(text);
    for heading in [
        "referentiel d'activites",
        "referentiel de competences",
        "referentiel d'evaluation",
        "modalites d'evaluation",
        "criteres d'evaluation",
        "modalites",
        "criteres",
        "competences",
        "activites",
    ] {
        rest = rest.replace(heading, " ");
    }
    rest.chars().filter(|c| c.is_alphabetic()).count() < 3
}

/// A web address on its own (a "lien internet" column or line): never the rest of a sentence.
fn looks_like_address(text: &str) -> bool {
    let t = text.trim();
    (t.starts_with("http://") || t.starts_with("https://") || t.starts_with("www."))
        && !t.contains(char::is_whitespace)
}

/// Footnotes left by extraction ("rm 1} product backlog …", "lt;sup>2 chaîne de build").
fn looks_like_footnote(text: &str) -> bool {
    text.contains(['{', '}']) || text.starts_with("lt;") || text.starts_with("rm ")
}

fn first_word_is_acronym(line: &str) -> bool {
    let word: String = line.chars().take_while(|c| c.is_alphanumeric()).collect();
    word.len() >= 2 && word.chars().all(|c| c.is_uppercase() || c.is_ascii_digit())
}

fn is_assessment_start(text: &str) -> bool {
    let f = fold(text);
    const STARTS: &[&str] = &[
        "cas pratique",
        "etude de cas",
        "mise en situation",
        "examen",
        "l'evaluation",
        "evaluation :",
        "epreuve",
        "soutenance",
        "entretien",
        "dossier professionnel",
        "modalites d'evaluation",
    ];
    STARTS.iter().any(|s| f.starts_with(s))
}

fn looks_like_activity(text: &str) -> bool {
    let t = text.trim_start();
    let mut chars = t.chars();
    matches!(chars.next(), Some('A')) && {
        let rest: String = chars.collect();
        let rest = rest.trim_start_matches('.');
        rest.starts_with(|c: char| c.is_ascii_digit())
    }
}

/// A criteria cell sometimes starts with the name of the test it belongs to
/// ("Cas pratique : conception …"): that is no criterion.
fn looks_like_criteria_heading(item: &str) -> bool {
    is_assessment_start(item) && item.len() < 120
}

/// A list item written with a dash: "- Les objectifs…".
/// A modalité may open with its épreuve's code (« E1. Mise en situation (C1, C2) »): what
/// follows it says what kind of assessment it is.
fn without_epreuve_code(line: &str) -> &str {
    let t = line.trim_start();
    let Some(rest) = t.strip_prefix('E') else {
        return line;
    };
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    if digits == 0 || digits > 2 {
        return line;
    }
    let after = rest[digits..].trim_start();
    match after.strip_prefix(['.', ':', ')', '-', '–']) {
        Some(rest) => rest.trim_start(),
        None => line,
    }
}

fn starts_with_dash_item(line: &str) -> bool {
    let mut chars = line.trim_start().chars();
    chars.next() == Some('-')
        && chars.next() == Some(' ')
        && chars.next().is_some_and(|c| c.is_uppercase())
}

/// One item of a criteria cell: a criterion, or an indicator of the criterion before it when
/// that one introduces a list ("… couvrent les parties suivantes : - les dépendances …").
#[derive(Debug, PartialEq, Eq)]
struct CellItem {
    text: String,
    indicator: bool,
}

/// Where the items being split stand against a criterion that introduces a list.
#[derive(Clone, Copy, PartialEq, Eq)]
enum SubList {
    None,
    /// After "… suivantes :" on the same line: lower-case items are its list.
    Inline,
    /// The line after a criterion ending in ":": every item of the line is its list.
    WholeLine,
}

/// Splits a criteria cell into items: one per line, and inside a line at "- " bullets — never
/// inside parentheses, where " - " joins two names ("Atalan - AcceDe"). A criterion ending in
/// a colon introduces a list: the lower-case items after it on its line, or the whole next
/// line, are its indicators.
fn split_items(text: &str) -> Vec<CellItem> {
    let mut items = Vec::new();
    let mut next_line_is_list = false;
    for line in text.lines() {
        if let Some(nested) = line.strip_prefix(super::units::NESTED)
            && !items.is_empty()
        {
            // An item of a nested list: the criterion before it has it as an indicator (and
            // so has no whole line of them still to come).
            next_line_is_list = false;
            items.push(CellItem {
                text: tidy_title(nested),
                indicator: true,
            });
            continue;
        }
        let mut mode = if std::mem::take(&mut next_line_is_list) {
            SubList::WholeLine
        } else {
            SubList::None
        };
        let mut current = String::new();
        let mut current_mode = mode;
        let chars: Vec<char> = line.chars().collect();
        let mut depth = 0i32;
        let mut i = 0;
        while i < chars.len() {
            match chars[i] {
                '(' => depth += 1,
                ')' => depth = (depth - 1).max(0),
                _ => {}
            }
            let next = chars.get(i + 2);
            let bullet = chars[i] == '-'
                && depth <= 0
                && chars.get(i + 1) == Some(&' ')
                && next.is_some_and(|c| {
                    c.is_uppercase()
                        || (c.is_lowercase()
                            && (mode != SubList::None || current.trim_end().ends_with(':')))
                })
                && (i == 0 || matches!(chars[i - 1], ' ' | '.' | ';' | ':' | ','));
            if bullet {
                mode = push_cell_item(&mut items, &current, current_mode, mode);
                if mode == SubList::Inline && next.is_some_and(|c| c.is_uppercase()) {
                    // A capital after an inline list: the next criterion.
                    mode = SubList::None;
                }
                current.clear();
                current_mode = mode;
                i += 2;
                continue;
            }
            current.push(chars[i]);
            i += 1;
        }
        if push_cell_item(&mut items, &current, current_mode, mode) == SubList::Inline
            && current_mode == SubList::None
        {
            next_line_is_list = true;
        }
    }
    items
}

/// Keeps one item; says the mode for what follows it on the line.
fn push_cell_item(
    items: &mut Vec<CellItem>,
    item: &str,
    item_mode: SubList,
    mode: SubList,
) -> SubList {
    let t = tidy_title(item);
    if t.chars().filter(|c| c.is_alphabetic()).count() < 3 {
        return mode;
    }
    let indicator = item_mode != SubList::None && items.last().is_some();
    let introduces = !indicator && t.ends_with(':');
    items.push(CellItem { text: t, indicator });
    if introduces { SubList::Inline } else { mode }
}

/// Whether a fragment is whole: it ends a sentence, its parentheses are closed and it does not
/// stop on a word that needs another after it.
fn ends_phrase(text: &str) -> bool {
    ends_sentence(text) && !ends_mid_phrase(text)
}

/// A statement cut in the middle of a phrase: it stops on a comma, inside a parenthesis, or on
/// a word that cannot end a French (or English) phrase — an article, a preposition, a
/// conjunction.
pub(crate) fn ends_mid_phrase(text: &str) -> bool {
    let t = text.trim_end();
    // Only the end matters, and texts grow one line at a time: a bounded look keeps reading a
    // long statement linear.
    let mut start = t.len().saturating_sub(400);
    while !t.is_char_boundary(start) {
        start += 1;
    }
    let t = &t[start..];
    if t.ends_with([',', '(', '\'', '’', '-', '–']) && !t.ends_with(" -") {
        return true;
    }
    if t.matches('(').count() > t.matches(')').count() {
        return true;
    }
    let last = t
        .rsplit(|c: char| c.is_whitespace() || c == '\'' || c == '’')
        .next()
        .unwrap_or_default();
    // Words no phrase ends on. Not "son", "vers", "sous", "or" (nouns too: « prise de son »,
    // « écrire en vers »), nor single letters (« catégorie A »).
    const UNFINISHED: &[&str] = &[
        "à",
        "au",
        "aux",
        "avec",
        "ce",
        "ces",
        "cette",
        "dans",
        "de",
        "des",
        "dont",
        "du",
        "en",
        "entre",
        "et",
        "la",
        "le",
        "les",
        "leur",
        "leurs",
        "mais",
        "ni",
        "notamment",
        "ou",
        "par",
        "pour",
        "puis",
        "que",
        "qui",
        "sa",
        "sans",
        "selon",
        "ses",
        "sur",
        "un",
        "une",
        "and",
        "of",
        "the",
        "to",
        "for",
        "with",
    ];
    UNFINISHED.contains(&last) && !t.ends_with('.')
}

/// How many unfinished fragments wait at most (see [`Dangling`]).
const MAX_DANGLING: usize = 8;

fn ends_sentence(text: &str) -> bool {
    let t = text.trim_end();
    t.ends_with(['.', '!', '?', ';', ':', ')', '»']) || t.is_empty()
}

fn append(target: &mut String, more: &str) {
    let more = more.trim();
    if more.is_empty() {
        return;
    }
    if !target.is_empty() {
        if target.ends_with('-') && !target.ends_with(" -") {
            // A word cut at the end of a line.
        } else {
            target.push(' ');
        }
    }
    target.push_str(more);
}

/// Whitespace folded; a heading in capitals turned into sentence case.
pub(crate) fn tidy_title(text: &str) -> String {
    let t = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let t = t.trim_matches('|').trim().to_string();
    let letters: Vec<char> = t.chars().filter(|c| c.is_alphabetic()).collect();
    if letters.len() > 3 && letters.iter().all(|c| c.is_uppercase()) {
        let lower = t.to_lowercase();
        let mut chars = lower.chars();
        match chars.next() {
            Some(f) => f.to_uppercase().chain(chars).collect(),
            None => lower,
        }
    } else {
        t
    }
}

/// Two printings of one statement, give or take punctuation and wrapping.
fn same_statement(a: &str, b: &str) -> bool {
    let words = |s: &str| -> Vec<String> {
        fold(s)
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.len() > 2)
            .map(str::to_string)
            .collect()
    };
    let (wa, wb) = (words(a), words(b));
    if wa.is_empty() || wb.is_empty() {
        return true;
    }
    let (short, long) = if wa.len() <= wb.len() {
        (&wa, &wb)
    } else {
        (&wb, &wa)
    };
    let common = short.iter().filter(|w| long.contains(w)).count();
    // One is a truncation of the other, or they differ by a word or two.
    common * 10 >= short.len() * 8
}

fn shorten(s: &str) -> String {
    let mut out: String = s.chars().take(60).collect();
    if s.chars().count() > 60 {
        out.push('…');
    }
    out
}

/// The certification's title, from the places référentiels put it.
fn find_title(units: &[Unit]) -> Option<String> {
    const JOBS: &[&str] = &[
        "expert",
        "developpeur",
        "manager",
        "responsable",
        "chef",
        "concepteur",
        "technicien",
        "ingenieur",
        "gestionnaire",
        "consultant",
        "architecte",
        "charge",
        "administrateur",
        "designer",
        "analyste",
        "directeur",
        "conseiller",
        "assistant",
        "titre professionnel",
        "master",
        "mastere",
        "licence",
        "bachelor",
        "bts",
        "cap ",
        "bac pro",
    ];
    // 1. A short heading or line near the top that names a job or diploma.
    for unit in units.iter().take(30) {
        if unit.is_cell() {
            continue;
        }
        let first = unit.text.lines().next().unwrap_or_default().trim();
        let f = fold(first);
        let words = first.split_whitespace().count();
        if (2..=12).contains(&words)
            && !first.ends_with(['.', ':'])
            && JOBS.iter().any(|j| f.starts_with(j))
            && bloc_heading(first).is_none()
        {
            return Some(tidy_title(first));
        }
    }
    let all: String = units
        .iter()
        .map(|u| u.text.replace('\n', " "))
        .collect::<Vec<_>>()
        .join("\n");
    // 2. `la certification "Expert en …"` / « … ».
    for (open, close) in [
        ("certification \"", "\""),
        ("certification « ", " »"),
        ("certification «", "»"),
    ] {
        if let Some(start) = all.find(open) {
            let rest = &all[start + open.len()..];
            if let Some(end) = rest.find(close) {
                let t = rest[..end].trim();
                if (2..=15).contains(&t.split_whitespace().count()) {
                    return Some(tidy_title(t));
                }
            }
        }
    }
    // 3. "L'Expert en développement logiciel (EDL)": a job title followed by its initials.
    for (pos, _) in all.match_indices('(') {
        let close = all[pos..].find(')').map(|e| pos + e);
        let Some(close) = close else { continue };
        let acronym = &all[pos + 1..close];
        if !(2..=6).contains(&acronym.len()) || !acronym.chars().all(|c| c.is_ascii_uppercase()) {
            continue;
        }
        let before = &all[..pos];
        let line_start = before.rfind(['\n', '.', ',', ';']).map_or(0, |i| i + 1);
        let candidate = before[line_start..].trim();
        let candidate = candidate
            .strip_prefix("L'")
            .or_else(|| candidate.strip_prefix("l'"))
            .or_else(|| candidate.strip_prefix("L’"))
            .or_else(|| candidate.strip_prefix("l’"))
            .or_else(|| candidate.strip_prefix("Le "))
            .or_else(|| candidate.strip_prefix("La "))
            .unwrap_or(candidate);
        let significant: Vec<&str> = candidate
            .split_whitespace()
            .filter(|w| {
                w.chars().next().is_some_and(|c| c.is_alphabetic()) && w.chars().count() > 3
            })
            .collect();
        let initials: String = significant
            .iter()
            .filter_map(|w| w.chars().next())
            .flat_map(char::to_uppercase)
            .collect();
        if let Some(start) = initials.find(acronym) {
            let first_word = significant[start];
            if let Some(idx) = candidate.find(first_word) {
                let title = candidate[idx..].trim();
                if JOBS.iter().any(|j| fold(title).starts_with(j)) {
                    return Some(tidy_title(title));
                }
            }
        }
    }
    None
}

/// The RNCP number the document is about: codes of its blocs (`RNCP38822BC01`) count most,
/// so a replaced certification cited once does not win.
fn find_rncp(text: &str) -> Option<String> {
    let mut score: HashMap<String, usize> = HashMap::new();
    let bytes = text.as_bytes();
    for (pos, _) in text.match_indices("RNCP") {
        let mut i = pos + 4;
        while i < bytes.len() && matches!(bytes[i], b' ' | b':' | b'\xc2' | b'\xa0') && i - pos < 8
        {
            i += 1;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if !(3..=6).contains(&(i - start)) {
            continue;
        }
        let number = format!("RNCP{}", &text[start..i]);
        let weight = if text[i..].starts_with("BC") { 3 } else { 1 };
        *score.entry(number).or_default() += weight;
    }
    score
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        .map(|(n, _)| n)
}

/// Printed bloc codes (`RNCP37827BC02`) found anywhere in the text, by bloc number.
fn printed_bloc_codes(text: &str, rncp: Option<&str>) -> BTreeMap<u32, String> {
    let mut out = BTreeMap::new();
    let Some(rncp) = rncp else { return out };
    for (pos, _) in text.match_indices(rncp) {
        if let Some((code, _)) = codes::split_printed_bloc_code(&text[pos..])
            && let Some(n) = codes::bloc_code_number(&code)
        {
            out.entry(n).or_insert(code);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A table as the layout reader writes it: criteria after the compétence, their nested
    /// lists in another bullet, numbered criteria with indicators in one cell, and the
    /// modalités column last, opening with its épreuve's code.
    #[test]
    fn table_cells_keep_nested_lists_numbered_criteria_and_epreuve_modalites() {
        let text = "BLOC 1 – Concevoir\n\n\
            | Compétences | Critères d'évaluation | Modalités d'évaluation |\n\
            | C1. Analyser les besoins du client afin de formaliser les exigences. | – Les besoins sont recueillis :<br>- les contraintes<br>- les délais<br>– Le cahier des charges est rédigé. | E1. Mise en situation (C1, C2)<br>Le candidat présente son projet. |\n\
            | C2. Rédiger les spécifications techniques du projet. | CE1 - Choix des outils<br>- Les outils sont adaptés.<br>CE2 - Qualité<br>- Le code est lisible. | E1. Mise en situation (C1, C2)<br>Le candidat présente son projet. |\n";
        let r = crate::referentiel::import_text(text).unwrap().referentiel;
        let c1 = r.competence("C1").unwrap();
        let titles: Vec<&str> = c1.criteria.iter().map(|c| c.title.as_str()).collect();
        assert_eq!(
            titles,
            [
                "Les besoins sont recueillis :",
                "Le cahier des charges est rédigé."
            ]
        );
        assert_eq!(c1.criteria[0].indicators, ["les contraintes", "les délais"]);
        let c2 = r.competence("C2").unwrap();
        let titles: Vec<&str> = c2.criteria.iter().map(|c| c.title.as_str()).collect();
        assert_eq!(titles, ["Choix des outils", "Qualité"]);
        assert_eq!(c2.criteria[1].indicators, ["Le code est lisible."]);
        assert!(
            c1.assessment[0].starts_with("E1. Mise en situation (C1, C2)"),
            "{:?}",
            c1.assessment
        );
    }

    #[test]
    fn statement_stops_where_the_next_column_starts() {
        let (title, tail) = split_statement(
            "Concevoir une solution afin de la présenter au client Cas pratique : À partir d'un cas",
        );
        assert_eq!(
            title,
            "Concevoir une solution afin de la présenter au client"
        );
        assert!(tail.starts_with("Cas pratique"));
    }

    #[test]
    fn wrapped_statement_is_joined() {
        let (title, _) =
            split_statement("Analyser les besoins\net techniques afin\nd'identifier.\nMise en");
        assert_eq!(
            title,
            "Analyser les besoins et techniques afin d'identifier."
        );
    }

    #[test]
    fn items_split_on_dashes() {
        let items = split_items(
            "- La présentation est complète.- Les spécifications précisent : les technologies - Le périmètre",
        );
        assert_eq!(items.len(), 3);
        assert_eq!(
            items[1].text,
            "Les spécifications précisent : les technologies"
        );
        assert!(items.iter().all(|i| !i.indicator));
    }

    #[test]
    fn a_criterion_ending_in_a_colon_introduces_its_indicators() {
        let texts = |items: &[CellItem]| -> Vec<(String, bool)> {
            items
                .iter()
                .map(|i| (i.text.clone(), i.indicator))
                .collect()
        };
        // Inline: the lower-case items after it on its line.
        let items = split_items(
            "- Le code est versionné. - La documentation couvre les parties suivantes : - les dépendances - les commandes.\n- Le registre est tenu.",
        );
        assert_eq!(
            texts(&items),
            [
                ("Le code est versionné.".to_string(), false),
                (
                    "La documentation couvre les parties suivantes :".into(),
                    false
                ),
                ("les dépendances".into(), true),
                ("les commandes.".into(), true),
                ("Le registre est tenu.".into(), false),
            ]
        );
        // At the end of its line: the whole next line, capitals included.
        let items = split_items(
            "- Les sources répondent aux critères de fiabilité :\n- L'auteur est identifié - l'information est confirmée",
        );
        assert_eq!(
            texts(&items),
            [
                (
                    "Les sources répondent aux critères de fiabilité :".to_string(),
                    false
                ),
                ("L'auteur est identifié".into(), true),
                ("l'information est confirmée".into(), true),
            ]
        );
    }

    #[test]
    fn capitals_become_sentence_case() {
        assert_eq!(
            tidy_title("GESTION DE LA RELATION CLIENT"),
            "Gestion de la relation client"
        );
        assert_eq!(tidy_title("Piloter  le\nprojet"), "Piloter le projet");
    }

    #[test]
    fn rncp_number_prefers_bloc_codes() {
        let text = "RNCP38822BC01 - a\nRNCP38822BC02 - b\nremplace RNCP17285 et RNCP17285";
        assert_eq!(find_rncp(text).as_deref(), Some("RNCP38822"));
        assert_eq!(find_rncp("RNCP : 37827").as_deref(), Some("RNCP37827"));
        assert_eq!(find_rncp("Règlement spécifique RNCP"), None);
    }
}
