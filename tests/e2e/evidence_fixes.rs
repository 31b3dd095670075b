//! Evidence that can be fixed (issue 26), with the real CLI and relay: an annexe renamed,
//! deleted into the bin (the next ones move up a number, the fiches' citations follow, the
//! file stays on the relay so the deletion can be undone), restored, erased for good (its
//! pieces leave the relay's database), replaced (the old file is erased); an advisor erases
//! only what it stored, and a removed one nothing.

use livret_shared::envelope::DossierId;
use livret_shared::evidence::BlobId;
use livret_shared::protocol::{ClientMsg, Rejection, ServerMsg};

use crate::jury::import_sample;
use crate::support::{Relay, temp_dir};
use crate::sync::{Device, Raw};

/// The files the relay holds (hex ids) and their pieces, from its own database.
fn files_on_relay(relay: &Relay) -> (Vec<String>, i64) {
    let db = rusqlite::Connection::open(relay.data.join("livret.sqlite3")).unwrap();
    let mut files: Vec<String> = db
        .prepare("SELECT lower(hex(blob)) FROM blobs ORDER BY 1")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    files.sort();
    let pieces = db
        .query_row("SELECT COUNT(*) FROM pieces", [], |r| r.get(0))
        .unwrap();
    (files, pieces)
}

/// The reference (« réf. ») `dossier annexes` gives the bin's entry titled `title`.
fn bin_reference(listing: &str, title: &str) -> String {
    listing
        .lines()
        .find(|l| l.starts_with("corbeille réf. ") && l.contains(&format!(" — {title} (")))
        .and_then(|l| l["corbeille réf. ".len()..].split(' ').next())
        .unwrap_or_else(|| panic!("no « {title} » in the bin:\n{listing}"))
        .to_string()
}

/// The evidence fiche `n` (from 0) cites, as the exported JSON numbers it.
fn cited_by_fiche(device: &Device, id: &str, n: usize) -> Vec<String> {
    let out = temp_dir("preuves-export").join("dossier.json");
    device.run(&["dossier", "export", id, "--json", out.to_str().unwrap()]);
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    json["fiches"][n]["champs"]["preuves"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

/// What the relay answers `device` asking it to erase `blob` of dossier `id`.
fn raw_erase(relay: &Relay, device: &Device, id: &str, blob: &str) -> (Rejection, String) {
    let dossier = DossierId(hex::decode(id).unwrap().try_into().unwrap());
    let blob = BlobId(hex::decode(blob).unwrap().try_into().unwrap());
    let mut raw = Raw::connect(relay, &device.secret());
    raw.send(&ClientMsg::Erase { dossier, blob });
    match raw.recv() {
        ServerMsg::Rejected { reason, detail } => (reason, detail),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn an_annexe_is_renamed_deleted_restored_erased_and_replaced() {
    let relay = Relay::start();
    let url = relay.url("");
    let candidate = Device::new("preuves-candidat");
    let id = import_sample(&candidate, &url);
    let dir = temp_dir("preuves-fichiers");
    let file = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    };
    // The sample has six annexes described (no file); two files join them as 7 and 8.
    let mistake = file("mauvais-fichier.txt", "Pas la bonne pièce");
    let good = file("organigramme.txt", "Organigramme du service");
    for (path, title) in [(&mistake, "Erreur"), (&good, "Organigramme")] {
        candidate.run(&["dossier", "attach", &id, path, "--title", title]);
    }
    let (before, _) = files_on_relay(&relay);
    assert_eq!(before.len(), 2);
    // The first fiche cites a described annexe and the organigramme, by number as typed.
    candidate.run(&["dossier", "set", &id, "fiches.0.preuves", "1, 8"]);
    candidate.run(&[
        "dossier",
        "rename-annexe",
        &id,
        "8",
        "--title",
        "Organigramme 2024",
    ]);

    let (advisor, juror) = (
        Device::new("preuves-conseiller"),
        Device::new("preuves-jure"),
    );
    candidate.share_with(&id, &advisor, "advisor", &url);
    candidate.run(&["sync"]);

    // Deleted: into the bin, the organigramme is n° 7 now, and the fiche follows it.
    candidate.run(&["dossier", "delete-annexe", &id, "7"]);
    let listed = candidate.run(&["dossier", "annexes", &id]);
    assert!(
        listed.contains("n° 7 — Organigramme 2024 (organigramme.txt)"),
        "{listed}"
    );
    let erreur = bin_reference(&listed, "Erreur");
    assert_eq!(cited_by_fiche(&candidate, &id, 0), ["1", "7"]);
    assert_eq!(files_on_relay(&relay).0, before, "the bin keeps the file");
    // Undone: back under its number, the organigramme 8 again, the fiche with it.
    assert_eq!(
        candidate.run(&["dossier", "restore-annexe", &id, &erreur]),
        "7"
    );
    assert_eq!(cited_by_fiche(&candidate, &id, 0), ["1", "8"]);
    candidate.run(&["dossier", "delete-annexe", &id, "7"]);
    candidate.run(&["sync"]);

    // The advisor sees the bin, but only the candidate erases.
    advisor.run(&["sync"]);
    assert!(
        advisor
            .run(&["dossier", "annexes", &id])
            .contains(" — Erreur (mauvais-fichier.txt)")
    );
    let (ok, err) = advisor.try_run(&["dossier", "erase-annexe", &id, &erreur]);
    assert!(!ok && err.contains("seul le candidat"), "{err}");
    assert_eq!(files_on_relay(&relay).0, before);

    // The candidate erases it: its pieces leave the relay.
    let said = candidate.run(&["dossier", "erase-annexe", &id, &erreur]);
    assert!(said.contains("« Erreur » est effacée"), "{said}");
    let (left, _) = files_on_relay(&relay);
    assert_eq!(left.len(), 1);
    assert!(
        !candidate
            .run(&["dossier", "annexes", &id])
            .contains("corbeille")
    );

    // Replaced: same number, title and citation; the old file in the bin, then erased.
    let newer = file("organigramme-2025.txt", "Organigramme à jour");
    candidate.run(&["dossier", "replace-annexe", &id, "7", &newer]);
    let listed = candidate.run(&["dossier", "annexes", &id]);
    assert!(
        listed.contains("n° 7 — Organigramme 2024 (organigramme-2025.txt)"),
        "{listed}"
    );
    assert_eq!(cited_by_fiche(&candidate, &id, 0), ["1", "7"]);
    assert_eq!(
        files_on_relay(&relay).0.len(),
        2,
        "the old version is kept until erased"
    );
    let old = bin_reference(&listed, "Organigramme 2024 (ancienne version)");
    candidate.run(&["dossier", "erase-annexe", &id, &old]);
    let (now, pieces) = files_on_relay(&relay);
    assert_eq!(now.len(), 1);
    assert_ne!(now, left, "the old version left the relay");
    assert!(pieces >= 1);

    // Hostile members erase nothing, even with a raw message: a juror, an advisor, and the
    // advisor once removed.
    candidate.share_with(&id, &juror, "juror", &url);
    for member in [&juror, &advisor] {
        let (reason, detail) = raw_erase(&relay, member, &id, &now[0]);
        assert_eq!(reason, Rejection::Forbidden);
        assert!(detail.contains("seul le candidat"), "{detail}");
    }
    candidate.run(&["dossier", "remove", &id, &advisor.identity()]);
    candidate.run(&["sync"]);
    let (reason, detail) = raw_erase(&relay, &advisor, &id, &now[0]);
    assert_eq!(reason, Rejection::Forbidden);
    assert!(detail.contains("pas membre"), "{detail}");
    assert_eq!(files_on_relay(&relay).0, now);
}

/// The same in the browser: renamed, deleted with a way back, restored, erased from the
/// server after a confirmation, and replaced — as a candidate does it, with axe clean.
#[test]
fn annexes_are_fixed_in_the_browser() {
    use crate::webdriver::Browser;
    let relay = Relay::start();
    let browser = Browser::start();
    browser.goto(&relay.url("/"));
    crate::browser::first_run(&browser);
    browser.wait_for("#referentiel");
    browser.click("#referentiel option[value='002']");
    browser.click("#creer-dossier");
    let dir = temp_dir("preuves-navigateur");
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    };
    let paths = [
        write("erreur.txt", "Pas la bonne pièce"),
        write("organigramme.txt", "Organigramme du service"),
    ];
    browser.type_into("#annexe-fichier", &paths.join("\n"));
    browser.click("#ajouter-annexe");
    browser.wait_text("[data-testid=annexe-etat]", |t| {
        t.contains("n° 2 ajoutée et envoyée")
    });
    assert_eq!(files_on_relay(&relay).0.len(), 2);

    // Renamed in place.
    browser.click("#renommer-annexe-1");
    browser.retype("#titre-annexe-1", "Organigramme 2024");
    browser.click("#enregistrer-titre-1");
    browser.wait_text("tr[data-annexe='2']", |t| t.contains("Organigramme 2024"));

    // Deleted: the next one moves up, and the deletion can be undone from the keyboard.
    browser.click("#supprimer-annexe-0");
    browser.wait_text("[data-testid=annexes-corrections]", |t| {
        t.starts_with("Annexe n° 1 supprimée ; les suivantes ont avancé d'un numéro.")
    });
    browser.wait_text("tr[data-annexe='1']", |t| t.contains("Organigramme 2024"));
    browser.wait_focus(|id| id == "annuler-suppression-annexe");
    browser.click("#annuler-suppression-annexe");
    browser.wait_text("tr[data-annexe='1']", |t| t.contains("erreur.txt"));
    browser.wait_text("tr[data-annexe='2']", |t| t.contains("Organigramme 2024"));
    browser.click("#supprimer-annexe-0");
    browser.wait_for("#corbeille-annexes");
    assert_eq!(files_on_relay(&relay).0.len(), 2, "the bin keeps the file");

    // Erased after a confirmation: the file leaves the server.
    browser.click("#corbeille-annexes summary");
    browser.click("#effacer-annexe-0");
    browser.click("#confirmer-effacement-0");
    browser.wait_text("[data-testid=annexes-corrections]", |t| {
        t == "« erreur.txt » est effacée : son fichier a quitté le serveur."
    });
    browser.wait_gone("#corbeille-annexes");
    let (left, _) = files_on_relay(&relay);
    assert_eq!(left.len(), 1);

    // Replaced: same number and title, another file; the old one in the bin until erased.
    let newer = write("organigramme-2025.txt", "Organigramme à jour");
    browser.type_into("#remplacer-annexe-1", &newer);
    browser.wait_text("[data-testid=annexes-corrections]", |t| {
        t.starts_with("L'annexe n° 1 a son nouveau fichier ; l'ancien est à la corbeille")
    });
    browser.wait_text("tr[data-annexe='1']", |t| {
        t.contains("Organigramme 2024") && t.contains("organigramme-2025.txt")
    });
    assert_eq!(files_on_relay(&relay).0.len(), 2);
    browser.click("#corbeille-annexes summary");
    let bin = browser.text("#corbeille-annexes");
    assert!(
        bin.contains("Organigramme 2024 (ancienne version)"),
        "{bin}"
    );
    browser.click("#corbeille-annexes button[id^=effacer-annexe-]");
    browser.click("#corbeille-annexes button[id^=confirmer-effacement-]");
    browser.wait_text("[data-testid=annexes-corrections]", |t| {
        t.ends_with("est effacée : son fichier a quitté le serveur.")
    });
    let now = files_on_relay(&relay).0;
    assert_eq!(now.len(), 1);
    assert_ne!(now, left, "the old version left the server");
    browser.assert_accessible("annexes, after fixes");
}
