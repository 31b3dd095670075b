//! The dossier as JSON, end to end: the sample dossier of `fixtures/dossiers` imported into
//! a new dossier on a real relay, exported again identical, and the same from an advisor's
//! device that received it through the relay; files that are not exports are refused and
//! create nothing.

use livret_shared::protocol::{ClientMsg, ServerMsg};

use crate::support::{Relay, temp_dir};
use crate::sync::{Device, Raw, assert_relay_never_saw};

use crate::support::sample_dossier as sample;

fn json_of(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn the_sample_dossier_is_imported_and_exported_without_loss() {
    let relay = Relay::start();
    let url = relay.url("");
    let candidate = Device::new("candidat-export");
    let advisor = Device::new("conseil-export");
    let sample = sample();
    let id = candidate.run(&[
        "dossier",
        "import",
        sample.to_str().unwrap(),
        "--relay",
        &url,
    ]);
    assert_eq!(id.len(), 32, "a new dossier's id: {id}");
    assert_eq!(
        candidate.run(&["dossier", "get", &id, "projet_vae.rncp"]),
        "RNCP37827"
    );
    assert!(
        candidate
            .run(&["dossier", "get", &id, "fiches.1.resultats"])
            .starts_with("Exactitude portée de 88,7 %")
    );

    let dir = temp_dir("export-json");
    let mine = dir.join("candidat.json");
    candidate.run(&["dossier", "export", &id, "--json", mine.to_str().unwrap()]);
    // The sample, an export of a version before templates were data, carries none: its
    // dossier is written to its certification's (RNCP37827) model, which the export names.
    let pinned = |path: &std::path::Path| {
        let mut json = json_of(path);
        let model = json.as_object_mut().unwrap().remove("modele").unwrap();
        assert_eq!(model["id"], "livret2-annexe5-rncp37827");
        json
    };
    assert_eq!(pinned(&mine), json_of(&sample), "exported as imported");

    // Through the relay: the advisor's copy exports the same.
    candidate.share_with(&id, &advisor, "advisor", &url);
    let theirs = dir.join("accompagnateur.json");
    advisor.run(&["dossier", "export", &id, "--json", theirs.to_str().unwrap()]);
    assert_eq!(pinned(&theirs), json_of(&sample));

    // Not exports: refused with a clear error, nothing created on the relay.
    let other = dir.join("autre.json");
    std::fs::write(&other, br#"{"format": "tableur", "version": 1}"#).unwrap();
    let broken = dir.join("casse.json");
    std::fs::write(&broken, &std::fs::read(&sample).unwrap()[..500]).unwrap();
    let mut unknown = json_of(&sample);
    unknown["sections"]["etat_civil"]["pointure"] = "39".into();
    let unknown_path = dir.join("inconnu.json");
    std::fs::write(&unknown_path, serde_json::to_vec(&unknown).unwrap()).unwrap();
    for (file, says) in [
        (
            &other,
            "n'est pas un export de dossier Livret (format « tableur »)",
        ),
        (&broken, "fichier illisible"),
        (&unknown_path, "chemin inconnu : etat_civil.pointure"),
    ] {
        let (ok, err) =
            candidate.try_run(&["dossier", "import", file.to_str().unwrap(), "--relay", &url]);
        assert!(!ok && err.contains(says), "{}: {err}", file.display());
    }
    let mut raw = Raw::connect(&relay, &candidate.secret());
    raw.send(&ClientMsg::Dossiers);
    assert_eq!(
        raw.recv(),
        ServerMsg::Dossiers {
            ids: vec![livret_shared::envelope::DossierId::from_hex(&id).unwrap()]
        }
    );

    // The relay holds none of the text.
    assert_relay_never_saw(&relay, &["Tri-Courrier", "camille.martin@example.org"]);
}
