//! The épreuves a référentiel describes (« ➤ Mise en situation 1 (E1) »): each one's code and
//! title, what it is (« Contenu : » and its paragraphs), what the candidate is asked to
//! present (« Le/la candidat(e) doit : » and its items), its deliverable (« Livrable : … »),
//! how it is assessed (« Évaluation : » and its items) and the compétences it assesses (« Compétence(s) visée(s) » and the codes listed
//! under it, or those named in its heading). What the jury grid's « Attendu » column prints
//! for each compétence. A document that names no épreuve gets none, never a guess.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::codes::normalise_competence_code;
use super::model::Referentiel;
use crate::search::folded;

/// One épreuve of the certification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Epreuve {
    /// As printed in the heading: `E1`.
    pub code: String,
    /// The heading's words before the code: `Mise en situation 1`.
    pub title: String,
    /// What the épreuve is, paragraph by paragraph (« Contenu : »): the jury grid's
    /// « Attendu » prints them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contenu: Vec<String>,
    /// What the candidate is asked to present, item by item (« Le/la candidat(e) doit : »).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub consignes: Vec<String>,
    /// What the candidate hands in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub livrable: Option<String>,
    /// How it is assessed, item by item.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evaluation: Vec<String>,
    /// The compétences it assesses (normalised codes of the référentiel), in document order.
    pub competences: Vec<String>,
}

impl Epreuve {
    /// The « Attendu » of the jury grid: the épreuve, what it is, its deliverable, its
    /// assessment (what the candidate is asked to present is not in the grid).
    pub fn attendu(&self) -> String {
        let mut out = format!("{}. {}", self.code, self.title);
        for paragraph in &self.contenu {
            out.push('\n');
            out.push_str(paragraph);
        }
        if let Some(l) = &self.livrable {
            out.push_str(&format!("\nLivrable : {l}"));
        }
        if !self.evaluation.is_empty() {
            out.push_str(&format!("\nÉvaluation : {}", self.evaluation.join(" ; ")));
        }
        out
    }
}

/// A line without the marks around it (list arrows, markdown emphasis, HTML tags).
fn plain(line: &str) -> String {
    without_tags(line)
        .chars()
        .filter(|c| !matches!(c, '*' | '➤' | '►' | '▶' | '•'))
        .collect::<String>()
        .trim()
        .to_string()
}

/// `text` without its HTML tags (`<ul style="…">`, `<i>`), their content kept.
pub(super) fn without_tags(text: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if in_tag => {}
            _ => out.push(c),
        }
    }
    out
}

/// `E1` when the line names an épreuve in parentheses (« … (E1) »), with the words before it.
fn heading(line: &str) -> Option<(String, String)> {
    if line.chars().count() > 120 {
        return None;
    }
    let open = line.find("(E")?;
    let rest = &line[open + 2..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() || !rest[digits.len()..].starts_with(')') {
        return None;
    }
    let title = line[..open].trim().trim_end_matches([':', '-', '—']).trim();
    (!title.is_empty()).then(|| (format!("E{digits}"), title.to_string()))
}

/// A numbered section heading (« 3. Les mises en situation professionnelle ») ends an
/// épreuve's description.
fn section(line: &str) -> bool {
    let digits: String = line.chars().take_while(char::is_ascii_digit).collect();
    !digits.is_empty() && line[digits.len()..].starts_with(". ") && line.len() < 120
}

/// The competence code a line starts with, if the référentiel has it.
fn competence_code(line: &str, referentiel: &Referentiel) -> Option<String> {
    let first = line.split_whitespace().next()?;
    let code = normalise_competence_code(first.trim_end_matches([':', '-']))?;
    referentiel.competence(&code).map(|c| c.code.clone())
}

#[derive(PartialEq)]
enum Reading {
    Nothing,
    Contenu,
    Consignes,
    Evaluation,
    Competences,
    Livrable,
}

/// Every épreuve `text` describes, by code (the first description of a code wins), for the
/// compétences of `referentiel`.
pub fn read(text: &str, referentiel: &Referentiel) -> Vec<Epreuve> {
    let mut found: Vec<Epreuve> = Vec::new();
    let mut current: Option<Epreuve> = None;
    let mut reading = Reading::Nothing;
    // Whether an empty line came before this one: a new paragraph of « Contenu » (a PDF
    // wraps a paragraph's lines with none between them).
    let mut after_blank = true;
    let finish = |current: &mut Option<Epreuve>, found: &mut Vec<Epreuve>| {
        if let Some(e) = current.take()
            && !e.competences.is_empty()
            && !found.iter().any(|f| f.code == e.code)
        {
            found.push(e);
        }
    };
    for raw in text.lines() {
        let line = plain(raw);
        if line.is_empty() {
            after_blank = true;
            continue;
        }
        let new_paragraph = std::mem::replace(&mut after_blank, false);
        // An item of a list: a dash, or a bullet that `plain` took off.
        let item = line.starts_with('-')
            || raw
                .trim_start()
                .starts_with(['•', '●', '▪', '◦', '○', '➤', '►', '▶']);
        if let Some((code, title)) = heading(&line) {
            finish(&mut current, &mut found);
            current = Some(Epreuve {
                code,
                title,
                contenu: Vec::new(),
                consignes: Vec::new(),
                livrable: None,
                evaluation: Vec::new(),
                competences: Vec::new(),
            });
            reading = Reading::Nothing;
            continue;
        }
        let Some(e) = current.as_mut() else {
            continue;
        };
        if section(&line) || line.starts_with('|') {
            finish(&mut current, &mut found);
            continue;
        }
        let key = folded(&line);
        // A PDF wraps every line: what follows a deliverable, an assessment item or a
        // compétence's statement without starting anything new continues it.
        if key.starts_with("livrable") {
            let value = line.split_once(':').map(|(_, v)| v.trim()).unwrap_or("");
            e.livrable = (!value.is_empty()).then(|| value.to_string());
            reading = Reading::Livrable;
        } else if key.starts_with("evaluation") && key.trim_end().ends_with(':') {
            reading = Reading::Evaluation;
        } else if key.starts_with("competence(s) visee(s)") || key.starts_with("competences visees")
        {
            reading = Reading::Competences;
        } else if key.starts_with("contenu") {
            // « Contenu : » alone, or with its first words after the colon.
            reading = Reading::Contenu;
            let rest = line.split_once(':').map_or("", |(_, v)| v.trim());
            if !rest.is_empty() {
                e.contenu.push(rest.to_string());
            }
        } else if key.starts_with("le/la candidat") || key.starts_with("le candidat doit") {
            reading = Reading::Consignes;
        } else {
            match reading {
                Reading::Contenu => match e.contenu.last_mut() {
                    Some(paragraph) if !new_paragraph => {
                        paragraph.push(' ');
                        paragraph.push_str(&line);
                    }
                    _ => e.contenu.push(line),
                },
                Reading::Consignes if item => e
                    .consignes
                    .push(line.trim_start_matches('-').trim().to_string()),
                Reading::Consignes => {
                    if let Some(item) = e.consignes.last_mut() {
                        item.push(' ');
                        item.push_str(&line);
                    }
                }
                Reading::Livrable => {
                    let so_far = e.livrable.take().unwrap_or_default();
                    e.livrable = Some(format!("{so_far} {line}").trim().to_string());
                }
                Reading::Evaluation if line.starts_with('-') => e
                    .evaluation
                    .push(line.trim_start_matches('-').trim().to_string()),
                Reading::Evaluation => match e.evaluation.last_mut() {
                    Some(item) => {
                        item.push(' ');
                        item.push_str(&line);
                    }
                    None => reading = Reading::Nothing,
                },
                Reading::Competences => {
                    if let Some(code) = competence_code(&line, referentiel)
                        && !e.competences.contains(&code)
                    {
                        e.competences.push(code);
                    }
                }
                Reading::Nothing => {}
            }
        }
    }
    finish(&mut current, &mut found);
    found.sort_by_key(|e| e.code[1..].parse::<u32>().unwrap_or(u32::MAX));
    found
}

/// A line compared on its words: spaces collapsed, case and a final full stop ignored.
fn same_words(line: &str) -> String {
    line.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .trim_end_matches('.')
        .to_lowercase()
}

/// An épreuve's assessment lines (« Correction du rapport professionnel », « Soutenance
/// orale individuelle… ») read as criteria where a grid's cells run together are not
/// criteria: dropped, so each compétence's criteria keep the official numbering (`C5#1` is
/// the grid's first criterion of C5).
pub fn drop_assessment_lines(referentiel: &mut Referentiel) {
    let assessment: Vec<String> = referentiel
        .epreuves
        .iter()
        .flat_map(|e| e.evaluation.iter().map(|item| same_words(item)))
        .collect();
    if assessment.is_empty() {
        return;
    }
    for bloc in &mut referentiel.blocs {
        for c in &mut bloc.competences {
            c.criteria
                .retain(|k| !assessment.contains(&same_words(&k.title)));
        }
    }
}
