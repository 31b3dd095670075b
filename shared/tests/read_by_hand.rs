//! Each seed as a person read it: `fixtures/referentiels/read/*.tsv` were written by reading the
//! certifiers' documents, never from Livret's output (see the comment at the top of each).
//! Every bloc title, statement, criterion and indicator Livret reads must be the one written
//! there. What Livret still reads wrong is listed, with the reason, in `known-gaps.tsv`: a new
//! difference fails, and so does a listed one that is gone (take it off the list).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use livret_shared::referentiel::{self, FindingKind, Referentiel};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/referentiels")
}

/// What a reading states: bloc titles, and per compétence its statement and criteria (each
/// with its indicators).
#[derive(Default)]
struct Reading {
    blocs: BTreeMap<u32, String>,
    statements: BTreeMap<String, String>,
    criteria: BTreeMap<String, Vec<(String, Vec<String>)>>,
    modalites: BTreeMap<String, Vec<String>>,
    notes: BTreeSet<String>,
    /// « Exemples d'éléments de preuves attendus », by bloc number.
    evidence: BTreeMap<u32, Vec<String>>,
}

fn words(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn reading(files: &[&str]) -> Reading {
    let mut r = Reading::default();
    for file in files {
        let text = std::fs::read_to_string(dir().join("read").join(file)).unwrap();
        for line in text.lines() {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = line.split('\t').collect();
            let key = fields[0];
            if key == "bloc" {
                r.blocs.insert(fields[1].parse().unwrap(), words(fields[2]));
            } else if key == "note" {
                r.notes.insert(words(fields[1]));
            } else if key == "preuve" {
                r.evidence
                    .entry(fields[1].parse().unwrap())
                    .or_default()
                    .push(words(fields[2]));
            } else if let Some(code) = key.strip_suffix('@') {
                r.modalites
                    .entry(code.to_string())
                    .or_default()
                    .push(words(fields[1]));
            } else if let Some((code, n)) = key.split_once('#') {
                let list = r.criteria.entry(code.to_string()).or_default();
                if n.ends_with('-') {
                    list.last_mut()
                        .unwrap_or_else(|| panic!("{file}: indicator before its criterion: {line}"))
                        .1
                        .push(words(fields[1]));
                } else {
                    list.push((words(fields[2]), Vec::new()));
                }
            } else {
                r.statements.insert(key.to_string(), words(fields[1]));
            }
        }
    }
    r
}

/// Every way `got` differs from the reading, as `"<seed> <what>"` keys with the detail.
fn differences(seed: &str, got: &Referentiel, read: &Reading) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for b in &got.blocs {
        if let Some(want) = read.blocs.get(&b.number) {
            let title = b.title.as_deref().map(words);
            if title.as_deref() != Some(want.as_str()) {
                out.insert(
                    format!("{seed} bloc {}", b.number),
                    format!("read {title:?}\n    want {want:?}"),
                );
            }
        }
    }
    for (_, c) in got.competences() {
        let Some(want) = read.statements.get(&c.code) else {
            out.insert(format!("{seed} {}", c.code), "not in the reading".into());
            continue;
        };
        if &words(&c.title) != want {
            out.insert(
                format!("{seed} {} statement", c.code),
                format!("read {:?}\n    want {want:?}", c.title),
            );
        }
        let want = read.criteria.get(&c.code).cloned().unwrap_or_default();
        let titles: Vec<String> = c.criteria.iter().map(|x| words(&x.title)).collect();
        let wanted: Vec<String> = want.iter().map(|x| x.0.clone()).collect();
        if titles != wanted {
            out.insert(
                format!("{seed} {} criteria", c.code),
                format!("read {titles:#?}\n    want {wanted:#?}"),
            );
            continue;
        }
        for (i, (x, (_, indicators))) in c.criteria.iter().zip(&want).enumerate() {
            let read: Vec<String> = x.indicators.iter().map(|s| words(s)).collect();
            if &read != indicators {
                out.insert(
                    format!("{seed} {}#{} indicators", c.code, i + 1),
                    format!("read {read:#?}\n    want {indicators:#?}"),
                );
            }
        }
    }
    // Modalités are compared by their opening words: readers joined a cell's paragraphs and
    // bullets in different ways, but each one printed for a compétence must be among those
    // Livret shows with it (its own, or its épreuves' « Attendu »).
    for (_, c) in got.competences() {
        let Some(wanted) = read.modalites.get(&c.code) else {
            continue;
        };
        let shown: Vec<String> = c
            .assessment
            .iter()
            .cloned()
            .chain(got.epreuves_of(&c.code).map(|e| e.attendu()))
            .map(|m| opening(&m, usize::MAX))
            .collect();
        let missing: Vec<String> = wanted
            .iter()
            .map(|m| opening(m, 5))
            .filter(|m| !shown.iter().any(|s| s.contains(m.as_str())))
            .collect();
        if !missing.is_empty() {
            out.insert(
                format!("{seed} {} modalités", c.code),
                format!("not shown: {missing:#?}\n    shown: {shown:#?}"),
            );
        }
    }
    // The examples of evidence, item by item, for every bloc (none where the reading has none).
    for b in &got.blocs {
        let examples: Vec<String> = b.evidence_examples.iter().map(|e| words(e)).collect();
        let want = read.evidence.get(&b.number).cloned().unwrap_or_default();
        if examples != want {
            out.insert(
                format!("{seed} bloc {} preuves", b.number),
                format!("read {examples:#?}\n    want {want:#?}"),
            );
        }
    }
    let notes: BTreeSet<String> = got.notes.iter().map(|n| words(n)).collect();
    if notes != read.notes {
        out.insert(
            format!("{seed} notes"),
            format!(
                "read but not in the document: {:#?}\n    in the document, not read: {:#?}",
                notes.difference(&read.notes).collect::<Vec<_>>(),
                read.notes.difference(&notes).collect::<Vec<_>>()
            ),
        );
    }
    for code in read.statements.keys() {
        if got.competence(code).is_none() {
            out.insert(format!("{seed} {code}"), "missed".into());
        }
    }
    out
}

/// The first `n` words, lower case, apostrophes and punctuation set aside.
fn opening(text: &str, n: usize) -> String {
    text.replace('’', "'")
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric() && c != '\'')
        .filter(|w| !w.is_empty())
        .take(n)
        .collect::<Vec<_>>()
        .join(" ")
}

const SEEDS: &[(&str, &str, &[&str])] = &[
    ("000", "000-expert-ingenierie-logiciel", &["000.tsv"]),
    (
        "001",
        "001-expert-ingenierie-systemes-information",
        &["001.tsv"],
    ),
    (
        "002",
        "002-developpeur-intelligence-artificielle-rncp37827",
        &["002.tsv"],
    ),
    (
        "003",
        "003-expert-architecture-developpement-logiciel-rncp38822",
        &["003.tsv"],
    ),
    (
        "004",
        "004-expert-developpement-logiciel",
        &["004-part1.tsv", "004-part2.tsv"],
    ),
];

/// The table-layout PDFs made from a seed's reading (`tables/make.py`), by LibreOffice
/// (`<seed>.table`, and in landscape at another size: `<seed>.landscape`) and by Chromium
/// (`<seed>.chromium`, where there is one).
#[cfg(feature = "pdf")]
fn table_pdfs(seed: &str) -> Vec<(String, Vec<u8>)> {
    [
        ("table", format!("tables/{seed}.pdf")),
        ("landscape", format!("tables/landscape/{seed}.pdf")),
        ("chromium", format!("tables/chromium/{seed}.pdf")),
    ]
    .into_iter()
    .filter_map(|(kind, path)| {
        std::fs::read(dir().join(path))
            .ok()
            .map(|bytes| (format!("{seed}.{kind}"), bytes))
    })
    .collect()
}

/// The listed gaps; those of the PDFs only when PDFs are read in this build.
fn known_gaps() -> BTreeSet<String> {
    std::fs::read_to_string(dir().join("read/known-gaps.tsv"))
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split('\t').next().unwrap().to_string())
        .filter(|k| cfg!(feature = "pdf") || !k.split(' ').next().unwrap_or("").ends_with(".pdf"))
        .collect()
}

#[test]
fn every_seed_reads_as_a_person_reads_it() {
    let mut found = BTreeMap::new();
    for (seed, file, reads) in SEEDS {
        let text = std::fs::read_to_string(dir().join(format!("{file}.txt"))).unwrap();
        let got = referentiel::import_text(&text).unwrap().referentiel;
        let read = reading(reads);
        found.extend(differences(seed, &got, &read));
        #[cfg(feature = "pdf")]
        {
            let pdf = std::fs::read(dir().join(format!("pdf/{file}.pdf"))).unwrap();
            let got = referentiel::import_pdf(&pdf).unwrap().referentiel;
            found.extend(differences(&format!("{seed}.pdf"), &got, &read));
            for (name, table) in table_pdfs(seed) {
                let got = referentiel::import_pdf(&table).unwrap().referentiel;
                found.extend(differences(&name, &got, &read));
            }
        }
    }
    let known: BTreeSet<String> = known_gaps()
        .into_iter()
        .filter(|k| !k.ends_with(" cut"))
        .collect();
    let new: Vec<String> = found
        .iter()
        .filter(|(k, _)| !known.contains(*k))
        .map(|(k, v)| format!("{k}\n    {v}"))
        .collect();
    let gone: Vec<&String> = known.iter().filter(|k| !found.contains_key(*k)).collect();
    assert!(
        new.is_empty() && gone.is_empty(),
        "read differently from the document:\n{}\nlisted in known-gaps.tsv but now read right \
         (take them off): {gone:?}",
        new.join("\n")
    );
}

/// `check` finds no statement of any seed, as text or as PDF, stopping mid-phrase, except the
/// ones listed (as `<seed> <code> cut`).
#[test]
fn no_statement_stops_mid_phrase() {
    let mut found = BTreeSet::new();
    for (seed, file, _) in SEEDS {
        let text = std::fs::read_to_string(dir().join(format!("{file}.txt"))).unwrap();
        let mut imports = vec![(seed.to_string(), referentiel::import_text(&text).unwrap())];
        #[cfg(feature = "pdf")]
        {
            let pdf = std::fs::read(dir().join(format!("pdf/{file}.pdf"))).unwrap();
            imports.push((
                format!("{seed}.pdf"),
                referentiel::import_pdf(&pdf).unwrap(),
            ));
            for (name, table) in table_pdfs(seed) {
                imports.push((name, referentiel::import_pdf(&table).unwrap()));
            }
        }
        for (name, import) in imports {
            for f in referentiel::check(&import) {
                if f.kind != FindingKind::SuspectedCut {
                    continue;
                }
                if let Some(rest) = f.message.strip_prefix("l'énoncé de ") {
                    let code = rest.split_whitespace().next().unwrap_or_default();
                    found.insert(format!("{name} {code} cut"));
                }
            }
        }
    }
    let known: BTreeSet<String> = known_gaps()
        .into_iter()
        .filter(|k| k.ends_with(" cut"))
        .collect();
    assert_eq!(
        found, known,
        "statements stopping mid-phrase (left) against known-gaps.tsv (right)"
    );
}

#[test]
fn check_reports_a_statement_cut_mid_phrase() {
    let text = "BLOC 1 - Concevoir\n\nC1. Analyser les besoins du client afin de garantir l'inclusion des\n\nC2. Rédiger les spécifications fonctionnelles et techniques du projet.\n";
    let import = referentiel::import_text(text).unwrap();
    let cuts: Vec<String> = referentiel::check(&import)
        .into_iter()
        .filter(|f| f.kind == FindingKind::SuspectedCut)
        .map(|f| f.message)
        .collect();
    assert_eq!(cuts.len(), 1, "{cuts:?}");
    assert!(
        cuts[0].contains("C1") && cuts[0].contains("inclusion des"),
        "{cuts:?}"
    );
}

/// Table PDFs made elsewhere (another producer, another layout), compared with the readings:
/// `LIVRET_TABLES=DIR` with `DIR/<seed>*.pdf`. Prints the differences; fails if any.
#[cfg(feature = "pdf")]
#[test]
#[ignore]
fn table_pdfs_in_a_directory_read_as_a_person_reads_them() {
    let dir = PathBuf::from(std::env::var("LIVRET_TABLES").expect("LIVRET_TABLES=DIR"));
    let mut found = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let Some((_, _, reads)) = SEEDS.iter().find(|(s, _, _)| name.starts_with(s)) else {
            continue;
        };
        if !name.ends_with(".pdf") {
            continue;
        }
        let got = referentiel::import_pdf(&std::fs::read(entry.path()).unwrap())
            .unwrap()
            .referentiel;
        found.extend(differences(&name, &got, &reading(reads)));
    }
    for (k, v) in &found {
        println!("{k}\n    {v}");
    }
    assert!(found.is_empty(), "{} differences", found.len());
}
