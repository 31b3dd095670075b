//! Every input the fuzzers keep (corpus seeds and crashers under `fuzz/`) goes through the
//! readers on each test run, so a fixed crash stays fixed.

use std::path::PathBuf;

use livret_shared::referentiel;

fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let fuzz = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut out = Vec::new();
    for kind in ["corpus", "artifacts"] {
        let dir = fuzz.join(kind).join(target);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            if e.path().is_file() && !e.file_name().to_string_lossy().starts_with('.') {
                out.push((e.path(), std::fs::read(e.path()).unwrap()));
            }
        }
    }
    out
}

#[test]
fn text_reader_survives_kept_fuzz_inputs() {
    let inputs = inputs("referentiel_text");
    assert!(!inputs.is_empty(), "fuzz corpus missing");
    for (path, bytes) in inputs {
        let text = referentiel::decode_text(&bytes);
        if let Ok(import) = referentiel::import_text(&text) {
            let r = &import.referentiel;
            assert!(
                r.competences().count() > 0,
                "{}: an accepted référentiel has competencies",
                path.display()
            );
            assert_eq!(
                &referentiel::Referentiel::from_json(&r.to_json()).unwrap(),
                r,
                "{}",
                path.display()
            );
            let _ = referentiel::check(&import);
        }
    }
}

#[test]
fn xml_reader_survives_kept_fuzz_inputs() {
    let inputs = inputs("referentiel_xml");
    assert!(!inputs.is_empty(), "fuzz corpus missing");
    for (_, bytes) in inputs {
        let _ = referentiel::import_rncp_xml(&referentiel::decode_text(&bytes));
    }
}

#[test]
fn network_readers_survive_kept_fuzz_inputs() {
    let inputs = inputs("relay_frames");
    assert!(!inputs.is_empty(), "fuzz corpus missing");
    for (_, bytes) in inputs {
        livret_shared::fuzzing::read_network_bytes(&bytes);
    }
}

#[test]
fn automerge_guard_survives_kept_fuzz_inputs() {
    let inputs = inputs("automerge_chunks");
    assert!(inputs.len() >= 4, "fuzz corpus missing");
    for (path, bytes) in inputs {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let checked = livret_shared::automerge_guard::check(&bytes);
        // The kept seeds say what they are: honest data passes, bombs do not.
        if name.starts_with("honest") {
            assert!(checked.is_ok(), "{name}: {checked:?}");
        } else if name.starts_with("bomb") {
            assert!(
                matches!(
                    checked,
                    Err(livret_shared::automerge_guard::GuardError::TooLarge { .. })
                ),
                "{name}: {checked:?}"
            );
        }
        livret_shared::fuzzing::read_automerge_bytes(&bytes);
    }
}

#[cfg(feature = "pdf-export")]
#[test]
fn annexe_readers_survive_kept_fuzz_inputs() {
    let inputs = inputs("annex_files");
    assert!(inputs.len() >= 3, "fuzz corpus missing");
    for (path, bytes) in inputs {
        let read = livret_shared::pdf_export::read_annexe_bytes(&bytes);
        // The kept seeds are real files: each is read as what it is.
        if path
            .extension()
            .is_some_and(|e| e == "pdf" || e == "png" || e == "jpg")
        {
            assert!(read > 0, "{} not read", path.display());
        }
    }
}

#[test]
fn catch_up_readers_survive_kept_fuzz_inputs() {
    let inputs = inputs("catchup_frames");
    assert!(inputs.len() >= 2, "fuzz corpus missing");
    for (path, bytes) in inputs {
        let applied = livret_shared::fuzzing::read_catchup_frames(&bytes);
        // The kept seeds that are real catch-ups (made for the fuzzers' device) are applied:
        // the fuzzer's mutations start from inputs that reach the replica.
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("real-catchup") {
            assert!(applied >= 2, "{name}: {applied} applied");
        }
    }
}

#[test]
fn snapshot_readers_survive_kept_fuzz_inputs() {
    let inputs = inputs("snapshots");
    assert!(inputs.len() >= 3, "fuzz corpus missing");
    for (path, bytes) in inputs {
        let taken = livret_shared::fuzzing::read_snapshot_bytes(&bytes);
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name == "covers-and-document" || name.starts_with("document-honest") {
            assert!(taken, "{name}: an honest snapshot is taken");
        }
        if name.starts_with("tampered") || name.starts_with("document-bomb") {
            assert!(!taken, "{name}: refused");
        }
    }
}
