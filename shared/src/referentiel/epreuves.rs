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

/// The text of a list item (`- …`, `– …`, `* …`, `+ …`, a bullet glyph, `1.`, `1)`, `a)`),
/// without its mark; `None` for a line that is not one.
fn list_item(raw: &str) -> Option<String> {
    let line = without_tags(raw);
    let line = line.trim_start();
    let mut chars = line.chars();
    let first = chars.next()?;
    let rest = chars.as_str();
    let after = match first {
        '-' | '–' | '—' | '+' | '•' | '●' | '▪' | '◦' | '○' | '\u{f0b7}' | '➤' | '►' | '▶' => {
            Some(rest)
        }
        // A markdown bullet, not the `**` of bold text.
        '*' if rest.starts_with([' ', '\t']) => Some(rest),
        _ => {
            let mark_len = line
                .char_indices()
                .take_while(|(_, c)| c.is_ascii_digit())
                .last()
                .map(|(i, c)| i + c.len_utf8())
                .or_else(|| first.is_ascii_lowercase().then_some(first.len_utf8()))?;
            let after_mark = &line[mark_len..];
            let numbered = mark_len <= 2 && first.is_ascii_digit();
            // « 1. », « 12) », « a) »: a digit may close with either, a letter with `)`.
            let closed = after_mark.starts_with(") ") || (numbered && after_mark.starts_with(". "));
            closed.then(|| &after_mark[1..])
        }
    }?;
    let text = plain(after);
    (!text.is_empty()).then_some(text)
}

/// `Contenu`, `Contenu :` or `Contenu : its first words` (then those words): the heading
/// of an épreuve's content, not a line that starts with the word (« contenus… »).
fn contenu_heading<'a>(key: &str, line: &'a str) -> Option<&'a str> {
    let after = key.strip_prefix("contenu")?.trim_start();
    if after.is_empty() {
        return Some("");
    }
    after
        .starts_with(':')
        .then(|| line.split_once(':').map_or("", |(_, v)| v.trim()))
}

/// « Le/la candidat(e) doit : », « Le candidat doit », « La candidate ou le candidat
/// doit : »: what follows is what the épreuve asks the candidate to present. A sentence
/// that goes on after « doit » is not this heading.
fn consignes_heading(key: &str) -> bool {
    let key = key.trim_end().trim_end_matches(':').trim_end();
    key.len() < 80 && key.contains("candidat") && key.ends_with(" doit")
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
        // Inside a list, « 1. Présenter… » is an item, not the next numbered section.
        let in_list = matches!(
            reading,
            Reading::Contenu | Reading::Consignes | Reading::Evaluation
        );
        let item = list_item(raw);
        if (section(&line) && !(in_list && item.is_some())) || line.starts_with('|') {
            finish(&mut current, &mut found);
            continue;
        }
        let key = folded(&line);
        // A PDF wraps every line: what follows a deliverable, an assessment item or a
        // compétence's statement without starting anything new continues it. So the
        // headings below are told by their whole form, not by a first word that a wrapped
        // line could start with too (« le candidat doit présenter… », « contenus »).
        if key.starts_with("livrable") {
            let value = line.split_once(':').map(|(_, v)| v.trim()).unwrap_or("");
            e.livrable = (!value.is_empty()).then(|| value.to_string());
            reading = Reading::Livrable;
        } else if key.starts_with("evaluation") && key.trim_end().ends_with(':') {
            reading = Reading::Evaluation;
        } else if key.starts_with("competence(s) visee(s)") || key.starts_with("competences visees")
        {
            reading = Reading::Competences;
        } else if let Some(rest) = contenu_heading(&key, &line) {
            // « Contenu : » alone, or with its first words after the colon.
            reading = Reading::Contenu;
            if !rest.is_empty() {
                e.contenu.push(rest.to_string());
            }
        } else if consignes_heading(&key) {
            reading = Reading::Consignes;
        } else {
            match reading {
                // A list inside the content is kept item by item, as printed.
                Reading::Contenu => match (e.contenu.last_mut(), &item) {
                    (_, Some(text)) => e.contenu.push(format!("- {text}")),
                    (Some(paragraph), None) if !new_paragraph => {
                        paragraph.push(' ');
                        paragraph.push_str(&line);
                    }
                    _ => e.contenu.push(line),
                },
                Reading::Consignes => match (e.consignes.last_mut(), item) {
                    (_, Some(text)) => e.consignes.push(text),
                    // What « doit » asks, written as a sentence rather than a list.
                    (None, None) => e.consignes.push(line),
                    // A line that wraps the item above; after an empty line, what follows
                    // the list (« Durée : 30 min »), not part of it.
                    (Some(last), None) if !new_paragraph => {
                        last.push(' ');
                        last.push_str(&line);
                    }
                    (Some(_), None) => reading = Reading::Nothing,
                },
                Reading::Livrable => {
                    let so_far = e.livrable.take().unwrap_or_default();
                    e.livrable = Some(format!("{so_far} {line}").trim().to_string());
                }
                Reading::Evaluation => match (e.evaluation.last_mut(), item) {
                    (_, Some(text)) => e.evaluation.push(text),
                    (Some(last), None) => {
                        last.push(' ');
                        last.push_str(&line);
                    }
                    (None, None) => reading = Reading::Nothing,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn two_competences() -> Referentiel {
        serde_json::from_value(serde_json::json!({
            "schema_version": 1,
            "source": "text",
            "blocs": [{
                "number": 1,
                "code": "BC01",
                "kind": "bloc",
                "assessment": [],
                "competences": [
                    {"code": "C1", "title": "Concevoir", "criteria": [], "assessment": []},
                    {"code": "C2", "title": "Développer", "criteria": [], "assessment": []}
                ]
            }]
        }))
        .unwrap()
    }

    fn only(text: &str) -> Epreuve {
        let mut found = read(text, &two_competences());
        assert_eq!(found.len(), 1, "{found:?}");
        found.remove(0)
    }

    /// Other certifiers' layouts: another bullet, a numbered list, a sentence after
    /// « doit », what follows a list after an empty line, content on the heading's line.
    #[test]
    fn contenu_and_consignes_are_read_in_the_layouts_certifiers_use() {
        let e = only(
            "Étude de cas (E2)\n\nContenu : Un cas réel.\nIl dure deux heures.\n\n\
             Le candidat doit :\n\n• Analyser le besoin\n  et le reformuler,\n\
             • Proposer une solution.\n\nDurée : 30 minutes\n\n\
             Compétences visées\nC1. Concevoir\nC2. Développer\n",
        );
        assert_eq!(e.contenu, ["Un cas réel. Il dure deux heures."]);
        assert_eq!(
            e.consignes,
            [
                "Analyser le besoin et le reformuler,",
                "Proposer une solution."
            ]
        );
        assert_eq!(e.competences, ["C1", "C2"]);

        let e = only(
            "Projet (E1)\n\nLa candidate ou le candidat doit\n\n1. Présenter le projet.\n\
             2. Démontrer l'application.\n\nCompétence(s) visée(s)\nC2. Développer\n",
        );
        assert_eq!(
            e.consignes,
            ["Présenter le projet.", "Démontrer l'application."],
            "a numbered item is not the next numbered section"
        );
        assert_eq!(e.competences, ["C2"]);

        let e = only(
            "Oral (E3)\n\nLe/la candidat(e) doit\n\nprésenter son parcours devant le jury.\n\n\
             Compétence(s) visée(s)\nC1. Concevoir\n",
        );
        assert_eq!(e.consignes, ["présenter son parcours devant le jury."]);
    }

    /// A wrapped line that starts with the words of a heading is not one: an assessment item
    /// that goes on « le candidat doit présenter… », content that goes on « contenus… ».
    #[test]
    fn a_wrapped_line_is_not_taken_for_a_heading() {
        let e = only(
            "Soutenance (E4)\n\nContenu :\nUn entretien sur les\ncontenus produits.\n\n\
             Évaluation :\n- Un oral au cours duquel\nle candidat doit présenter son rapport\n\
             - Correction du rapport\n\nCompétences visées\nC1. Concevoir\n",
        );
        assert_eq!(e.contenu, ["Un entretien sur les contenus produits."]);
        assert_eq!(
            e.evaluation,
            [
                "Un oral au cours duquel le candidat doit présenter son rapport",
                "Correction du rapport"
            ]
        );
        assert!(e.consignes.is_empty(), "{:?}", e.consignes);
    }
}
