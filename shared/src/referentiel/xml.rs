//! The France Compétences RNCP XML export (flux v4.1): `FICHES/FICHE` with `NUMERO_FICHE`,
//! `INTITULE` and `BLOCS_COMPETENCES/BLOC_COMPETENCES/{CODE, LIBELLE, LISTE_COMPETENCES,
//! MODALITES_EVALUATION}`. `LISTE_COMPETENCES` is free text or HTML (often escaped twice);
//! it is split into competencies here.

use roxmltree::{Document, Node};

use super::codes::{bloc_code_number, competence_at_start, starts_with_infinitive};
use super::model::{Bloc, BlocKind, Competence, Referentiel, SCHEMA_VERSION, SourceFormat};
use super::text::tidy_title;
use super::units::clean;
use super::{Import, ImportError};

pub(crate) fn parse(text: &str) -> Result<Vec<Import>, ImportError> {
    let options = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    let doc =
        Document::parse_with_options(text, options).map_err(|e| ImportError::Xml(e.to_string()))?;
    let root = doc.root_element();
    let fiches: Vec<Node> = if root.has_tag_name("FICHE") {
        vec![root]
    } else {
        root.children()
            .filter(|n| n.has_tag_name("FICHE"))
            .collect()
    };
    if fiches.is_empty() {
        return Err(ImportError::NoFiche);
    }
    let mut out = Vec::new();
    for fiche in fiches {
        out.push(fiche_to_import(fiche)?);
    }
    Ok(out)
}

fn child_text<'a>(node: Node<'a, 'a>, name: &str) -> Option<String> {
    node.children()
        .find(|n| n.has_tag_name(name))
        .map(|n| {
            n.descendants()
                .filter(|d| d.is_text())
                .filter_map(|d| d.text())
                .collect::<String>()
        })
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

fn fiche_to_import(fiche: Node) -> Result<Import, ImportError> {
    let rncp = child_text(fiche, "NUMERO_FICHE").map(|n| {
        let n = n.trim().to_uppercase();
        if n.starts_with("RNCP") {
            n
        } else {
            format!("RNCP{n}")
        }
    });
    let title = child_text(fiche, "INTITULE").map(|t| tidy_title(&t));
    let mut blocs = Vec::new();
    let blocs_node = fiche
        .children()
        .find(|n| n.has_tag_name("BLOCS_COMPETENCES"));
    for (position, bloc) in blocs_node
        .into_iter()
        .flat_map(|n| n.children().filter(|c| c.has_tag_name("BLOC_COMPETENCES")))
        .enumerate()
    {
        let code = child_text(bloc, "CODE");
        let number = code
            .as_deref()
            .and_then(bloc_code_number)
            .unwrap_or(position as u32 + 1);
        let mut competences = split_competences(
            &child_text(bloc, "LISTE_COMPETENCES").unwrap_or_default(),
            number,
        );
        let assessment: Vec<String> = child_text(bloc, "MODALITES_EVALUATION")
            .map(|m| html_lines(&m).join(" "))
            .filter(|m| !m.is_empty())
            .into_iter()
            .collect();
        // The fiche gives modalités per bloc: they are each of its compétences'.
        for c in &mut competences {
            c.assessment = assessment.clone();
        }
        blocs.push(Bloc {
            number,
            code: code.unwrap_or_else(|| format!("BC{number:02}")),
            kind: BlocKind::Bloc,
            title: child_text(bloc, "LIBELLE").map(|t| tidy_title(&t)),
            competences,
            assessment,
            evidence_examples: Vec::new(),
        });
    }
    if blocs.iter().all(|b| b.competences.is_empty()) {
        return Err(ImportError::NotAReferentiel);
    }
    let referentiel = Referentiel {
        schema_version: SCHEMA_VERSION,
        title,
        rncp,
        source: SourceFormat::RncpXml,
        blocs,
        jury: Default::default(),
        epreuves: Vec::new(),
        notes: Vec::new(),
    };
    Ok(Import {
        referentiel,
        diagnostics: Vec::new(),
    })
}

/// Text of an HTML fragment (escaped once or twice), one entry per block or list item.
fn html_lines(raw: &str) -> Vec<String> {
    let mut s = raw.to_string();
    // Exports escape the HTML once more inside the XML text: undo until tags show.
    for _ in 0..2 {
        if s.contains("&lt;") || s.contains("&amp;") {
            s = clean_entities_only(&s);
        }
    }
    clean(&s).lines().map(str::to_string).collect()
}

fn clean_entities_only(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// One competency per item: a list item, a paragraph or a line, numbered or not. Lines that
/// start in lower case continue the previous statement; introductions ("Compétences :") are
/// dropped.
fn split_competences(raw: &str, bloc: u32) -> Vec<Competence> {
    let mut out: Vec<Competence> = Vec::new();
    for line in html_lines(raw) {
        let item = line
            .trim_start_matches(['-', '•', '●', '*', '–', ' '])
            .trim()
            .to_string();
        if item.is_empty() {
            continue;
        }
        if let Some(m) = competence_at_start(&item) {
            out.push(Competence {
                code: m.code,
                printed_code: Some(m.printed),
                title: tidy_title(&item[m.statement..]),
                criteria: Vec::new(),
                assessment: Vec::new(),
            });
        } else if starts_with_infinitive(&item) {
            out.push(Competence {
                code: String::new(),
                printed_code: None,
                title: tidy_title(&item),
                criteria: Vec::new(),
                assessment: Vec::new(),
            });
        } else if item.starts_with(|c: char| c.is_lowercase())
            && let Some(last) = out.last_mut()
        {
            last.title.push(' ');
            last.title.push_str(&item);
        }
    }
    let mut position = 0;
    for c in &mut out {
        position += 1;
        if c.code.is_empty() {
            c.code = format!("C{bloc}.{position}");
        }
    }
    out
}
