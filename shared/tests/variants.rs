//! The reader is written for the family of référentiel documents, not for five files: the
//! seeds are rewrapped, renumbered, reordered and re-encoded here, and other layouts are made
//! up, and the structure must survive.

use std::path::PathBuf;

use livret_shared::referentiel::{self, Referentiel};

fn seed(name: &str) -> String {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/referentiels");
    let file = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .find(|e| {
            e.file_name().to_string_lossy().starts_with(name)
                && e.path().extension().is_some_and(|x| x == "txt")
        })
        .unwrap_or_else(|| panic!("no seed {name}"));
    std::fs::read_to_string(file.path()).unwrap()
}

fn import(text: &str) -> Referentiel {
    referentiel::import_text(text).expect("imports").referentiel
}

fn codes(r: &Referentiel) -> Vec<Vec<String>> {
    r.blocs
        .iter()
        .map(|b| b.competences.iter().map(|c| c.code.clone()).collect())
        .collect()
}

const SEEDS: [&str; 5] = ["000", "001", "002", "003", "004"];

/// Greedy re-wrapping of every line at `width` characters, as PDF extraction does.
fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let mut current = String::new();
        for word in line.split(' ') {
            if !current.is_empty() && current.chars().count() + 1 + word.chars().count() > width {
                out.push_str(&current);
                out.push('\n');
                current.clear();
            } else if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(word);
        }
        out.push_str(&current);
        out.push('\n');
    }
    out
}

fn without_blank_lines(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn rewrapped_seeds_keep_their_structure() {
    for name in SEEDS {
        let original = codes(&import(&seed(name)));
        for width in [60, 75, 90] {
            let wrapped = wrap(&seed(name), width);
            assert_eq!(
                codes(&import(&wrapped)),
                original,
                "{name} wrapped at {width}"
            );
        }
    }
}

#[test]
fn seeds_without_blank_lines_keep_their_structure() {
    // pdftotext and friends drop the blank lines between paragraphs.
    for name in ["002", "003", "004"] {
        let original = codes(&import(&seed(name)));
        let squeezed = without_blank_lines(&wrap(&seed(name), 80));
        assert_eq!(codes(&import(&squeezed)), original, "{name}");
    }
}

#[test]
fn crlf_and_windows_1252_are_read() {
    let text = seed("001").replace('\n', "\r\n");
    let bytes: Vec<u8> = text
        .chars()
        .map(|c| match c {
            '’' => 0x92,
            'œ' => 0x9c,
            '–' => 0x96,
            '—' => 0x97,
            '…' => 0x85,
            '«' => 0xab,
            '»' => 0xbb,
            c if (c as u32) < 0x100 => c as u32 as u8,
            _ => b'?',
        })
        .collect();
    assert!(std::str::from_utf8(&bytes).is_err(), "really not UTF-8");
    let imports = referentiel::import_bytes(&bytes).unwrap();
    let r = &imports[0].referentiel;
    assert_eq!(r.shape(), [5, 4, 4, 3]);
    assert_eq!(
        r.blocs[1].title.as_deref(),
        Some("Pilotage de projet des systèmes d'information")
    );
}

/// Adds `offset` to every competency number (`C.4.` → `C.34.`, `C4` → `C34`).
fn renumber(text: &str, offset: u32) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let boundary = i == 0 || !chars[i - 1].is_alphanumeric();
        if chars[i] == 'C' && boundary {
            let mut j = i + 1;
            if chars.get(j) == Some(&'.') {
                j += 1;
            }
            let start = j;
            while j < chars.len() && chars[j].is_ascii_digit() {
                j += 1;
            }
            if j > start {
                let n: u32 = chars[start..j].iter().collect::<String>().parse().unwrap();
                out.extend(&chars[i..start]);
                out.push_str(&(n + offset).to_string());
                i = j;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

#[test]
fn renumbered_codes_are_followed() {
    let r = import(&renumber(&seed("002"), 40));
    let expected: Vec<Vec<String>> = [(41, 45), (46, 53), (54, 61)]
        .iter()
        .map(|&(a, b)| (a..=b).map(|n| format!("C{n}")).collect())
        .collect();
    assert_eq!(codes(&r), expected);

    let r = import(&renumber(&seed("000"), 100));
    assert_eq!(r.shape(), [5, 4, 4, 5]);
    assert_eq!(
        r.blocs[0].competences[0].printed_code.as_deref(),
        Some("C.101.")
    );
}

/// Swaps two sections of a text, each starting at its marker.
fn swap_sections(text: &str, a: &str, b: &str, end: &str) -> String {
    let ia = text.find(a).unwrap();
    let ib = text.find(b).unwrap();
    let ie = text.find(end).unwrap();
    format!(
        "{}{}{}{}",
        &text[..ia],
        &text[ib..ie],
        &text[ia..ib],
        &text[ie..]
    )
}

#[test]
fn reordered_blocs_keep_their_competencies() {
    let text = swap_sections(
        &seed("003"),
        "RNCP38822BC02 -",
        "RNCP38822BC03 -",
        "RNCP38822BC04 -",
    );
    let r = import(&text);
    // Blocs are reported in their numbering order, each with its own list.
    assert_eq!(r.shape(), [7, 5, 6, 6]);
    assert!(
        r.blocs[1].competences[0]
            .title
            .starts_with("Élaborer l’architecture")
    );
    assert!(
        r.blocs[2].competences[0]
            .title
            .starts_with("Piloter le système d’intégration continue")
    );
}

#[test]
fn reordered_competencies_keep_document_order() {
    let text = seed("002");
    // Bloc 1's list, C5 first: codes stay attached to their statements.
    let c1 = text.find("C1. Automatiser").unwrap();
    let c5 = text.find("C5. Développer une API").unwrap();
    let c5_end = c5 + text[c5..].find('\n').unwrap();
    let reordered = format!(
        "{}{}\n\n{}{}",
        &text[..c1],
        &text[c5..c5_end],
        &text[c1..c5],
        &text[c5_end..]
    );
    let r = import(&reordered);
    let bloc1: Vec<&str> = r.blocs[0]
        .competences
        .iter()
        .map(|c| c.code.as_str())
        .collect();
    assert_eq!(bloc1, ["C5", "C1", "C2", "C3", "C4"]);
    assert!(
        r.competence("C5")
            .unwrap()
            .title
            .starts_with("Développer une API")
    );
}

#[test]
fn a_plain_list_layout_is_read() {
    let text = "\
Titre professionnel Technicien d'assistance informatique
RNCP 35226

Bloc de compétences n°1 – Intervenir sur les équipements informatiques
C1 - Mettre en service des équipements numériques.
C2 - Assister les utilisateurs en centre de services.
Critères d'évaluation :
- La demande est prise en compte.
- La solution est expliquée à l'utilisateur.

Bloc de compétences n°2 – Maintenir les infrastructures
C3 - Intervenir sur les éléments de l'infrastructure.
C4 - Contribuer à la sécurisation des réseaux.
C5 - Superviser les postes de travail.
";
    let r = import(text);
    assert_eq!(
        r.title.as_deref(),
        Some("Titre professionnel Technicien d'assistance informatique")
    );
    assert_eq!(r.rncp.as_deref(), Some("RNCP35226"));
    assert_eq!(r.shape(), [2, 3]);
    assert_eq!(
        r.blocs[1].title.as_deref(),
        Some("Maintenir les infrastructures")
    );
    assert_eq!(
        r.competence("C2").unwrap().title,
        "Assister les utilisateurs en centre de services."
    );
}

#[test]
fn hierarchical_codes_without_bloc_headings_make_blocs() {
    let text = "\
Référentiel de compétences

C1.1 Analyser le besoin du client.
C1.2 Rédiger le cahier des charges.
C2.1 Développer les composants.
C2.2 Tester l'application.
C2.3 Déployer l'application.
";
    let r = import(text);
    assert_eq!(r.shape(), [2, 3]);
    assert_eq!(r.blocs[0].title, None);
}

#[test]
fn not_a_referentiel_is_refused() {
    for text in [
        "Bonjour,\n\nVoici le compte rendu de la réunion de lundi.\n",
        "C'est la fin.",
        "1,2,3\n4,5,6\n",
    ] {
        assert_eq!(
            referentiel::import_text(text).unwrap_err(),
            referentiel::ImportError::NotAReferentiel,
            "{text}"
        );
    }
    assert_eq!(
        referentiel::import_text("  \n\n ").unwrap_err(),
        referentiel::ImportError::Empty
    );
}
