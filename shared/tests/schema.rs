//! The référentiel JSON: documented schema kept in sync, lossless round trip, golden files.

use std::path::PathBuf;

use livret_shared::referentiel::{self, Referentiel};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn committed_schema_matches_the_types() {
    let path = root().join("docs/referentiel.schema.json");
    let generated = referentiel::json_schema();
    if std::env::var_os("LIVRET_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(
        committed, generated,
        "docs/referentiel.schema.json is stale: run the tests with LIVRET_BLESS=1"
    );
}

/// The full JSON of each seed, committed: any change in what the reader extracts (statements,
/// criteria, modalités) shows up in review. `LIVRET_BLESS=1` rewrites them.
#[test]
fn seed_imports_match_their_golden_json() {
    let dir = root().join("fixtures/referentiels");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    names.sort();
    assert_eq!(names.len(), 5);
    for path in names {
        let text = std::fs::read_to_string(&path).unwrap();
        let r = referentiel::import_text(&text).unwrap().referentiel;
        let mut json = serde_json::to_string_pretty(&r).unwrap();
        json.push('\n');
        let golden = dir
            .join("expected")
            .join(path.with_extension("json").file_name().unwrap());
        if std::env::var_os("LIVRET_BLESS").is_some() {
            std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
            std::fs::write(&golden, &json).unwrap();
        }
        let expected = std::fs::read_to_string(&golden).unwrap_or_default();
        assert!(
            expected == json,
            "{} differs from its golden JSON (LIVRET_BLESS=1 to accept)",
            path.display()
        );
        let back: Referentiel = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r, "lossless round trip");
    }
}
