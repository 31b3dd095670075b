//! `livret referentiel check`: what looks wrong in an imported référentiel.

use std::collections::BTreeMap;

use super::{DiagnosticKind, Import};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FindingKind {
    /// A bloc without any competency.
    EmptyBloc,
    /// A number skipped in a competency numbering (C6, C8).
    SkippedNumber,
    /// One code for two competencies.
    DuplicateCode,
    /// The same code printed with two different statements.
    DivergentStatement,
    /// A bloc whose heading was lost and deduced.
    InferredBloc,
    /// A bloc without a readable title.
    UntitledBloc,
    /// A competency printed outside any bloc.
    OutsideBloc,
    /// A statement, criterion or indicator that stops mid-phrase (on "des", a comma, an open
    /// parenthesis): its end was probably printed elsewhere (columns, page break) and lost.
    SuspectedCut,
}

/// One problem, in a French sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub kind: FindingKind,
    pub message: String,
}

/// Everything that looks wrong, most serious first.
pub fn check(import: &Import) -> Vec<Finding> {
    let r = &import.referentiel;
    let mut out = Vec::new();
    for b in &r.blocs {
        if b.competences.is_empty() {
            out.push(Finding {
                kind: FindingKind::EmptyBloc,
                message: format!(
                    "le bloc {} ({}) ne contient aucune compétence",
                    b.number, b.code
                ),
            });
        }
        if b.title.is_none() {
            out.push(Finding {
                kind: FindingKind::UntitledBloc,
                message: format!("le bloc {} n'a pas d'intitulé lisible", b.number),
            });
        }
    }

    // Duplicates: the same code twice in the result (XML lists are taken as printed).
    let mut seen: BTreeMap<&str, u32> = BTreeMap::new();
    for (bloc, c) in r.competences() {
        if let Some(first) = seen.insert(&c.code, bloc.number) {
            out.push(Finding {
                kind: FindingKind::DuplicateCode,
                message: format!(
                    "le code {} est utilisé deux fois (bloc {} et bloc {})",
                    c.code, first, bloc.number
                ),
            });
        }
    }

    // Skipped numbers, among printed codes: per first number for C1.1-style codes, across
    // the document for C1-style ones.
    let mut series: BTreeMap<Option<u32>, Vec<u32>> = BTreeMap::new();
    for (_, c) in r.competences().filter(|(_, c)| c.printed_code.is_some()) {
        let parts: Vec<u32> = c.code[1..]
            .split('.')
            .filter_map(|p| p.parse().ok())
            .collect();
        match parts.as_slice() {
            [n] => series.entry(None).or_default().push(*n),
            [major, minor] => series.entry(Some(*major)).or_default().push(*minor),
            _ => {}
        }
    }
    for (major, mut numbers) in series {
        numbers.sort_unstable();
        numbers.dedup();
        for pair in numbers.windows(2) {
            for missing in pair[0] + 1..pair[1] {
                let code = match major {
                    Some(m) => format!("C{m}.{missing}"),
                    None => format!("C{missing}"),
                };
                let (before, after) = match major {
                    Some(m) => (format!("C{m}.{}", pair[0]), format!("C{m}.{}", pair[1])),
                    None => (format!("C{}", pair[0]), format!("C{}", pair[1])),
                };
                out.push(Finding {
                    kind: FindingKind::SkippedNumber,
                    message: format!(
                        "numérotation sautée : {code} manque entre {before} et {after}"
                    ),
                });
            }
        }
    }

    // The RNCP export gives each statement whole, as one field: nothing was cut by a layout.
    let laid_out = r.source != super::SourceFormat::RncpXml;
    for (_, c) in r.competences().filter(|_| laid_out) {
        let mut cut = |what: String, text: &str| {
            if super::text::ends_mid_phrase(text) {
                out.push(Finding {
                    kind: FindingKind::SuspectedCut,
                    message: format!("{what} semble coupé : « …{} »", tail(text)),
                });
            }
        };
        cut(format!("l'énoncé de {}", c.code), &c.title);
        for (i, cr) in c.criteria.iter().enumerate() {
            cut(format!("le critère {}#{}", c.code, i + 1), &cr.title);
            for (j, indicator) in cr.indicators.iter().enumerate() {
                cut(
                    format!("l'indicateur {} du critère {}#{}", j + 1, c.code, i + 1),
                    indicator,
                );
            }
        }
    }

    for d in &import.diagnostics {
        let kind = match d.kind {
            DiagnosticKind::InferredBloc => FindingKind::InferredBloc,
            DiagnosticKind::UnreadableBlocTitle => continue, // reported as UntitledBloc above
            DiagnosticKind::CompetenceOutsideBloc => FindingKind::OutsideBloc,
            DiagnosticKind::DivergentStatement => FindingKind::DivergentStatement,
        };
        out.push(Finding {
            kind,
            message: d.message.clone(),
        });
    }
    out.sort_by_key(|f| f.kind);
    out
}

/// The last few words of a text, to show where it stops.
fn tail(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    words[words.len().saturating_sub(6)..].join(" ")
}
