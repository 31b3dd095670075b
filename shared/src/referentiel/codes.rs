//! Recognising the printed markers of a référentiel: competency codes (`C1`, `C.1.`, `C1.1`,
//! `C.4.10`), bloc headings (`BLOC 2 –`, `Bloc de compétences 1 :`, `RNCP38822BC01 -`,
//! `Activité 3 :`) and criterion markers (`CE1 -`).
//!
//! A competency code counts only when a competency *statement* follows it, and French
//! competency statements start with a verb in the infinitive ("Analyser", "Concevoir",
//! "Mettre en œuvre"). That is what separates `C6. Organiser …` from references such as
//! `(C1, C2, C3)`, `[C1 - C5]` or `les compétences C6, C7 et C8`.

use super::model::BlocKind;
use super::units::fold;

/// A competency code found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CodeMatch {
    /// Byte offset of the code in the text.
    pub start: usize,
    /// Byte offset where the statement starts (after the code and its punctuation).
    pub statement: usize,
    /// The code as printed, trimmed of surrounding markup (`C.1.`).
    pub printed: String,
    /// The normalised code (`C1`).
    pub code: String,
}

/// What a fiche or a juror cites: a compétence (`C5`) or one of its criteria by its rank in
/// the référentiel (`C5#2`, the second): the compétence's code and the rank, if any.
pub fn split_citation(citation: &str) -> (&str, Option<usize>) {
    match citation.split_once('#') {
        Some((code, rank)) => (code.trim(), rank.trim().parse().ok().filter(|r| *r > 0)),
        None => (citation.trim(), None),
    }
}

/// `C.1.` → `C1`, `C.1.2` → `C1.2`, `c4.10` → `C4.10`. `None` when it is not a code.
pub fn normalise_competence_code(code: &str) -> Option<String> {
    let s = code.trim();
    let rest = s.strip_prefix(['C', 'c'])?;
    let rest = rest.trim_start_matches([' ', '.']);
    let rest = rest.trim_end_matches('.');
    if rest.is_empty() {
        return None;
    }
    let mut parts = Vec::new();
    for part in rest.split('.') {
        if part.is_empty() || part.len() > 3 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        parts.push(part.trim_start_matches('0').to_string());
    }
    let parts: Vec<String> = parts
        .into_iter()
        .map(|p| if p.is_empty() { "0".into() } else { p })
        .collect();
    Some(format!("C{}", parts.join(".")))
}

/// Every competency statement that starts in `text`, in order.
pub(crate) fn find_competences(text: &str) -> Vec<CodeMatch> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if (bytes[i] == b'C')
            && boundary_before(text, i)
            && let Some(m) = code_at(text, i)
        {
            i = m.statement;
            found.push(m);
            continue;
        }
        i += 1;
    }
    found
}

/// The competency statement starting `text`, if it starts with one.
pub(crate) fn competence_at_start(text: &str) -> Option<CodeMatch> {
    let trimmed = text.trim_start();
    let offset = text.len() - trimmed.len();
    code_at(text, offset).filter(|m| m.start == offset)
}

fn boundary_before(text: &str, i: usize) -> bool {
    match text[..i].chars().next_back() {
        None => true,
        Some(c) => {
            !(c.is_alphanumeric() || matches!(c, '(' | '[' | ',' | '/' | '.' | '\'' | '-' | '_'))
        }
    }
}

/// Reads `C<digits>(.<digits>)*` at `i`, then the statement's first word.
fn code_at(text: &str, i: usize) -> Option<CodeMatch> {
    let bytes = text.as_bytes();
    if bytes.get(i) != Some(&b'C') {
        return None;
    }
    let mut j = i + 1;
    if bytes.get(j) == Some(&b'.') {
        j += 1;
    }
    let digits_start = j;
    while j < bytes.len() && (bytes[j].is_ascii_digit() || bytes[j] == b'.') {
        // A dot must be followed by a digit to stay inside the code ("C.1.2"), otherwise it
        // is the code's closing dot ("C.1. Organiser").
        if bytes[j] == b'.' && !bytes.get(j + 1).is_some_and(u8::is_ascii_digit) {
            break;
        }
        j += 1;
    }
    if j == digits_start || !bytes[digits_start].is_ascii_digit() {
        return None;
    }
    let code_end = j;
    let printed_end = if bytes.get(j) == Some(&b'.') {
        j + 1
    } else {
        j
    };
    let code = normalise_competence_code(&text[i..printed_end])?;
    // Separator between code and statement: spaces, optional one of ". : – -".
    let mut k = printed_end;
    let mut saw_space = false;
    let mut saw_punct = printed_end > code_end;
    while let Some(c) = text[k..].chars().next() {
        match c {
            ' ' | '\u{a0}' | '\n' => saw_space = true,
            ':' | '–' | '—' | '-' | ')' if !saw_punct => saw_punct = true,
            _ => break,
        }
        k += c.len_utf8();
    }
    if !(saw_space || saw_punct) {
        return None;
    }
    let rest = &text[k..];
    if !starts_with_infinitive(rest) {
        return None;
    }
    Some(CodeMatch {
        start: i,
        statement: k,
        printed: text[i..printed_end].to_string(),
        code,
    })
}

/// Words ending like infinitives that are not verbs, and start sentences that are not
/// competency statements.
const NOT_VERBS: &[&str] = &[
    "entre",
    "notre",
    "votre",
    "autre",
    "autres",
    "contre",
    "outre",
    "cadre",
    "ordre",
    "livre",
    "oeuvre",
    "manoeuvre",
    "hier",
    "premier",
    "dernier",
    "entier",
    "cahier",
    "dossier",
    "fichier",
    "metier",
    "chantier",
    "atelier",
    "quartier",
    "papier",
    "calendrier",
    "courrier",
    "clavier",
    "particulier",
    "foyer",
    "danger",
    "leger",
    "hiver",
    "loisir",
    "avenir",
    "plaisir",
    "desir",
    "souvenir",
    "soir",
    "espoir",
    "couloir",
    "miroir",
    "terroir",
    "leur",
    "pour",
    "sur",
    "par",
    "chaque",
    "genre",
    "offre",
    "preuve",
    "registre",
    "filtre",
    "cluster",
    "docker",
    "poster",
    "partner",
    "user",
    "server",
    "router",
    "container",
    "parser",
    "layer",
    "header",
    "footer",
    "master",
    "leader",
    "driver",
    "viewer",
    "player",
    "timer",
    "buffer",
    "laser",
    "super",
    "sphere",
];

/// Whether `text` starts with a capitalised French infinitive ("Concevoir", "Mettre en
/// œuvre", "S'assurer").
pub(crate) fn starts_with_infinitive(text: &str) -> bool {
    let text = text.trim_start();
    let pronominal = text
        .strip_prefix("S'")
        .or_else(|| text.strip_prefix("S’"))
        .or_else(|| text.strip_prefix("Se "));
    let word: String = pronominal
        .unwrap_or(text)
        .chars()
        .take_while(|c| c.is_alphabetic() || *c == 'œ')
        .collect();
    let Some(first) = word.chars().next() else {
        return false;
    };
    if !(first.is_uppercase() || pronominal.is_some()) || word.chars().count() < 4 {
        return false;
    }
    // Words in capitals are headings ("GESTION"), not statements.
    if word.chars().skip(1).all(char::is_uppercase) {
        return false;
    }
    is_infinitive(&word.to_lowercase())
}

/// French infinitives end in -er, -ir, -re or -oir; so do many nouns. The endings below
/// tell most of them apart without a dictionary.
fn is_infinitive(word: &str) -> bool {
    let folded = fold(word).replace('œ', "oe");
    if NOT_VERBS.contains(&folded.as_str()) {
        return false;
    }
    // Accented -ère/-ière endings are nouns (matière, carrière).
    if word.ends_with("ère") {
        return false;
    }
    let w = folded.as_str();
    if w.ends_with("aire") {
        return ["faire", "extraire", "distraire", "plaire", "taire"]
            .iter()
            .any(|v| w.ends_with(v));
    }
    if w.ends_with("ure") {
        return ["conclure", "exclure", "inclure"]
            .iter()
            .any(|v| w.ends_with(v));
    }
    if w.ends_with("oire") {
        return ["croire", "boire"].iter().any(|v| w.ends_with(v));
    }
    if w.ends_with("tre") {
        return ["ettre", "attre", "aitre", "etre"]
            .iter()
            .any(|v| w.ends_with(v));
    }
    if w.ends_with("ure") || w.ends_with("ise") {
        return false;
    }
    w.ends_with("er") || w.ends_with("ir") || w.ends_with("re") || w.ends_with("oir")
}

/// A bloc heading: kind, number, printed bloc code (if any) and title (possibly empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BlocHeading {
    pub kind: BlocKind,
    pub number: u32,
    pub printed_code: Option<String>,
    pub title: String,
}

/// Recognises a bloc heading at the start of `text`.
pub(crate) fn bloc_heading(text: &str) -> Option<BlocHeading> {
    let t = text.trim();
    let first_line = t.lines().next().unwrap_or("").trim();
    let folded = fold(first_line);

    // "RNCP38822BC01 - Planifier …" / "BC02 : …"
    if let Some(h) = printed_bloc_code_heading(first_line) {
        return Some(h);
    }
    for (prefix, kind) in [
        ("bloc de competences", BlocKind::Bloc),
        ("bloc de competence", BlocKind::Bloc),
        ("bloc", BlocKind::Bloc),
        ("activite", BlocKind::Activite),
    ] {
        let Some(after) = folded.strip_prefix(prefix) else {
            continue;
        };
        // Byte offsets differ between folded and original text; count chars instead.
        let consumed = first_line.chars().count() - after.chars().count();
        let rest: String = first_line.chars().skip(consumed).collect();
        let rest_trim = rest.trim_start_matches([' ', '\u{a0}']);
        if rest_trim.len() == rest.len() && !rest.starts_with(|c: char| c.is_ascii_digit()) {
            // "blocs", "blocage", "activités": another word.
            return None;
        }
        let rest_trim = rest_trim
            .strip_prefix("n°")
            .or_else(|| rest_trim.strip_prefix("N°"))
            .unwrap_or(rest_trim)
            .trim_start();
        let digits: String = rest_trim.chars().take_while(char::is_ascii_digit).collect();
        if digits.is_empty() || digits.len() > 2 {
            return None;
        }
        let number: u32 = digits.parse().ok()?;
        let after_number = &rest_trim[digits.len()..];
        let sep_trimmed = after_number.trim_start();
        let has_separator = sep_trimmed.starts_with([':', '.', '–', '—', '-']);
        let title = sep_trimmed
            .trim_start_matches([':', '.', '–', '—', '-'])
            .trim()
            .to_string();
        let capitals = first_line.starts_with("BLOC") || first_line.starts_with("ACTIVIT");
        let long_form = prefix.starts_with("bloc de");
        // "Bloc 1 et 2 sont …" in running text is no heading: ask for a separator, the
        // long form or capitals.
        if !(has_separator || long_form || capitals) {
            return None;
        }
        if kind == BlocKind::Activite && title.is_empty() {
            return None;
        }
        if title.chars().next().is_some_and(|c| c.is_lowercase()) {
            return None;
        }
        return Some(BlocHeading {
            kind,
            number,
            printed_code: None,
            title,
        });
    }
    None
}

fn printed_bloc_code_heading(line: &str) -> Option<BlocHeading> {
    let (code, rest) = split_printed_bloc_code(line)?;
    let rest = rest.trim_start();
    if !rest.starts_with([':', '.', '–', '—', '-']) {
        return None;
    }
    let title = rest
        .trim_start_matches([':', '.', '–', '—', '-'])
        .trim()
        .to_string();
    let number = bloc_code_number(&code)?;
    Some(BlocHeading {
        kind: BlocKind::Bloc,
        number,
        printed_code: Some(code),
        title,
    })
}

/// Splits `RNCP38822BC01 - …` into (`RNCP38822BC01`, ` - …`).
pub(crate) fn split_printed_bloc_code(line: &str) -> Option<(String, &str)> {
    let bytes = line.as_bytes();
    let mut i = 0;
    if line.starts_with("RNCP") {
        i = 4;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i == 4 {
            return None;
        }
    }
    if !line[i..].starts_with("BC") {
        return None;
    }
    let digits_start = i + 2;
    let mut j = digits_start;
    while j < bytes.len() && bytes[j].is_ascii_digit() {
        j += 1;
    }
    if j == digits_start || j - digits_start > 3 {
        return None;
    }
    Some((line[..j].to_string(), &line[j..]))
}

/// `RNCP38822BC03` → 3.
pub(crate) fn bloc_code_number(code: &str) -> Option<u32> {
    let idx = code.rfind("BC")?;
    code[idx + 2..].parse().ok()
}

/// A criterion marker (`CE1 - Titre`, `CE 2 : Titre`): number and title.
pub(crate) fn criterion_marker(text: &str) -> Option<(u32, String)> {
    let t = text.trim_start();
    let rest = t.strip_prefix("CE")?;
    let rest = rest.trim_start();
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() || digits.len() > 2 {
        return None;
    }
    let after = rest[digits.len()..].trim_start();
    if !after.starts_with([':', '.', '–', '—', '-']) {
        return None;
    }
    let title = after.trim_start_matches([':', '.', '–', '—', '-']).trim();
    if title.is_empty() {
        return None;
    }
    Some((digits.parse().ok()?, title.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_normalise() {
        for (printed, code) in [
            ("C1", "C1"),
            ("C.1", "C1"),
            ("C.1.", "C1"),
            ("C1.1", "C1.1"),
            ("C.1.2", "C1.2"),
            ("C.4.10", "C4.10"),
            ("c12", "C12"),
            ("C01", "C1"),
        ] {
            assert_eq!(
                normalise_competence_code(printed).as_deref(),
                Some(code),
                "{printed}"
            );
        }
        for not_code in ["C", "CE1", "C.", "C1a", "Cx"] {
            assert_eq!(normalise_competence_code(not_code), None, "{not_code}");
        }
    }

    #[test]
    fn statements_are_found_and_references_are_not() {
        let text = "E1. Mise en situation (C1, C2, C3) [C1 - C5] les compétences C6, C7 et C8. \
                    Amélioration continue de la C.3.6 Optimiser la solution";
        let found = find_competences(text);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].code, "C3.6");
        assert_eq!(
            &text[found[0].statement..found[0].statement + 9],
            "Optimiser"
        );
    }

    #[test]
    fn every_printed_form_is_found() {
        for (text, code) in [
            ("C.1. Organiser et conduire", "C1"),
            ("C1.1 Analyser les besoins", "C1.1"),
            ("C.4.10 Mettre en œuvre", "C4.10"),
            ("C21. Résoudre les incidents", "C21"),
            ("C3 - Établir la feuille de route", "C3"),
            ("C7 : S'assurer de la qualité", "C7"),
        ] {
            let m = competence_at_start(text).unwrap_or_else(|| panic!("{text}"));
            assert_eq!(m.code, code);
        }
        assert!(competence_at_start("C1 GESTION").is_none());
        assert!(competence_at_start("CE1 - Choix").is_none());
        assert!(competence_at_start("C1 et C2 sont").is_none());
        assert!(competence_at_start("C4 Procédure dérogatoire").is_none());
    }

    #[test]
    fn infinitives_and_nouns() {
        for verb in [
            "Analyser",
            "Concevoir",
            "Établir",
            "Mettre",
            "Permettre",
            "Produire",
            "Inclure",
            "Extraire",
            "Résoudre",
            "S'assurer",
            "Promouvoir",
            "Accueillir",
        ] {
            assert!(starts_with_infinitive(verb), "{verb}");
        }
        for noun in [
            "Procédure",
            "Structure",
            "Partenaire",
            "Mémoire",
            "Titre",
            "Matière",
            "Dossier",
            "Liste",
            "Mise",
            "GESTION",
            "Entre",
            "Cadre",
        ] {
            assert!(!starts_with_infinitive(noun), "{noun}");
        }
    }

    #[test]
    fn bloc_headings() {
        let h = bloc_heading("BLOC 1 GESTION DE LA RELATION CLIENT").unwrap();
        assert_eq!(
            (h.number, h.title.as_str()),
            (1, "GESTION DE LA RELATION CLIENT")
        );
        let h = bloc_heading("Bloc de compétences 2 : Intégrer des modèles").unwrap();
        assert_eq!((h.number, h.title.as_str()), (2, "Intégrer des modèles"));
        let h = bloc_heading("RNCP38822BC03 - Piloter la mise en production").unwrap();
        assert_eq!(h.printed_code.as_deref(), Some("RNCP38822BC03"));
        assert_eq!(h.number, 3);
        let h = bloc_heading("Activité 4 : Manager un projet").unwrap();
        assert_eq!((h.kind, h.number), (BlocKind::Activite, 4));
        let h = bloc_heading("Bloc 1. Réaliser la collecte").unwrap();
        assert_eq!(h.number, 1);
        assert!(bloc_heading("Blocs de compétences").is_none());
        assert!(bloc_heading("BLOC DE COMPÉTENCES VISE :").is_none());
        assert!(bloc_heading("Bloc 1 et 2 sont validés").is_none());
        assert!(bloc_heading("bloc 1, 2 et 3").is_none());
        assert!(bloc_heading("Activités visées :").is_none());
    }

    #[test]
    fn criterion_markers() {
        assert_eq!(
            criterion_marker("CE1 - Choix et conformité"),
            Some((1, "Choix et conformité".into()))
        );
        assert_eq!(
            criterion_marker("CE4 : Pertinence"),
            Some((4, "Pertinence".into()))
        );
        assert_eq!(criterion_marker("CE1"), None);
        assert_eq!(criterion_marker("CERTIFICATION"), None);
    }
}
