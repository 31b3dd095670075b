//! Evidence that can be fixed (issue 26), with the real CLI and relay: an annexe renamed,
//! deleted into the bin (the next ones move up a number, the fiches' citations follow, the
//! file stays on the relay so the deletion can be undone), restored, erased for good (its
//! pieces leave the relay's database), replaced (the old file is erased); an advisor erases
//! only what it stored, and a removed one nothing.

use livret_shared::envelope::DossierId;
use livret_shared::evidence::BlobId;
use livret_shared::protocol::{ClientMsg, Rejection};

use crate::jury::import_sample;
use crate::support::{Relay, temp_dir};
use crate::sync::{Device, Raw, rejected};

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
    // The sample has six annexes described; two files join them as 7 and 8.
    let mistake = file("mauvais-fichier.txt", "Pas la bonne pièce");
    let good = file("organigramme.txt", "Organigramme du service");
    for (path, title) in [(&mistake, "Erreur"), (&good, "Organigramme")] {
        candidate.run(&["dossier", "attach", &id, path, "--title", title]);
    }
    let (before, _) = files_on_relay(&relay);
    assert_eq!(before.len(), 2);
    // The first fiche cites the organigramme by its number, as typed.
    candidate.run(&["dossier", "set", &id, "fiches.0.preuves", "1, 8"]);
    candidate.run(&[
        "dossier",
        "rename-annexe",
        &id,
        "8",
        "--title",
        "Organigramme 2024",
    ]);

    let advisor = Device::new("preuves-conseiller");
    candidate.share_with(&id, &advisor, "advisor", &url);
    candidate.run(&["sync"]);

    // Deleted: into the bin, the organigramme is n° 7 now, the fiche still cites it.
    candidate.run(&["dossier", "delete-annexe", &id, "7"]);
    let listed = candidate.run(&["dossier", "annexes", &id]);
    assert!(
        listed.contains("n° 7 — Organigramme 2024 (organigramme.txt)"),
        "{listed}"
    );
    assert!(
        listed.contains("corbeille 1 — Erreur (mauvais-fichier.txt)"),
        "{listed}"
    );
    let coverage = candidate.run(&["dossier", "coverage", &id]);
    assert!(!coverage.contains("n° 8"), "{coverage}");
    assert_eq!(files_on_relay(&relay).0, before, "the bin keeps the file");
    // Undone, then deleted again.
    assert_eq!(candidate.run(&["dossier", "restore-annexe", &id, "1"]), "8");
    candidate.run(&["dossier", "delete-annexe", &id, "8"]);
    candidate.run(&["sync"]);

    // The advisor sees the bin, but may not erase the candidate's file.
    advisor.run(&["sync"]);
    assert!(
        advisor
            .run(&["dossier", "annexes", &id])
            .contains("corbeille 1 — Erreur")
    );
    let (ok, err) = advisor.try_run(&["dossier", "erase-annexe", &id, "1"]);
    assert!(!ok && err.contains("seul lui ou le candidat"), "{err}");
    assert_eq!(files_on_relay(&relay).0, before);

    // The candidate erases it: its pieces leave the relay.
    let said = candidate.run(&["dossier", "erase-annexe", &id, "1"]);
    assert!(said.contains("« Erreur » est effacée"), "{said}");
    let (left, _) = files_on_relay(&relay);
    assert_eq!(left.len(), 1);
    assert!(
        !candidate
            .run(&["dossier", "annexes", &id])
            .contains("corbeille")
    );

    // Replaced: same number, title and citation; the old file erased, the new one there.
    let newer = file("organigramme-2025.txt", "Organigramme à jour");
    candidate.run(&["dossier", "replace-annexe", &id, "7", &newer]);
    let listed = candidate.run(&["dossier", "annexes", &id]);
    assert!(
        listed.contains("n° 7 — Organigramme 2024 (organigramme-2025.txt)"),
        "{listed}"
    );
    let (now, pieces) = files_on_relay(&relay);
    assert_eq!(now.len(), 1);
    assert_ne!(now, left, "the replaced file left the relay");
    assert!(pieces >= 1);
    let coverage = candidate.run(&["dossier", "coverage", &id]);
    assert!(
        coverage.contains("7"),
        "the fiche still cites annexe 7: {coverage}"
    );

    // Removed, the advisor erases nothing, even with a raw message.
    candidate.run(&["dossier", "remove", &id, &advisor.identity()]);
    candidate.run(&["sync"]);
    let dossier = DossierId(hex::decode(&id).unwrap().try_into().unwrap());
    let blob = BlobId(hex::decode(&now[0]).unwrap().try_into().unwrap());
    let mut raw = Raw::connect(&relay, &advisor.secret());
    raw.send(&ClientMsg::Erase { dossier, blob });
    assert_eq!(rejected(raw.recv()), Rejection::Forbidden);
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
        t.starts_with("Annexe n° 1 supprimée ; les suivantes ont pris le numéro d'avant.")
    });
    browser.wait_text("tr[data-annexe='1']", |t| t.contains("Organigramme 2024"));
    browser.wait_focus(|id| id == "annuler-suppression-annexe");
    browser.click("#annuler-suppression-annexe");
    browser.wait_text("tr[data-annexe='2']", |t| t.contains("erreur.txt"));
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

    // Replaced: same number and title, another file; the old one erased.
    let newer = write("organigramme-2025.txt", "Organigramme à jour");
    browser.type_into("#remplacer-annexe-1", &newer);
    browser.wait_text("[data-testid=annexes-corrections]", |t| {
        t == "L'annexe n° 1 a son nouveau fichier ; l'ancien est effacé du serveur."
    });
    browser.wait_text("tr[data-annexe='1']", |t| {
        t.contains("Organigramme 2024") && t.contains("organigramme-2025.txt")
    });
    let mut now = files_on_relay(&relay).0;
    for _ in 0..100 {
        if now != left {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        now = files_on_relay(&relay).0;
    }
    assert_eq!(now.len(), 1);
    assert_ne!(now, left, "the replaced file left the server");
    browser.assert_accessible("annexes, after fixes");
}
