//! The candidate's rights over a dossier (« Mes données »): what the relay holds of it, as
//! the relay answers its candidate — checked against the relay's own database — and no one
//! else.

use crate::invitations::utc_date_in;
use crate::smtp::free_port;
use crate::support::{Relay, sample_dossier, temp_dir};
use crate::sync::{Device, assert_relay_never_saw};

const CANARY: &str = "CANARI-mes-donnees-5e0c";

#[test]
fn the_candidate_sees_what_the_relay_holds_and_no_one_else_does() {
    // Mail to a port nobody listens on: the invitation and reminders stay queued, so the
    // relay holds them when asked.
    let smtp = format!("smtp://127.0.0.1:{}", free_port());
    let relay = Relay::start_with(temp_dir("relais-donnees"), &["--smtp-url", &smtp]);
    let url = relay.url("");
    let candidate = Device::new("candidat-donnees");
    let advisor = Device::new("conseil-donnees");
    let stranger = Device::new("intrus-donnees");
    let sample = sample_dossier();
    let id = candidate.run(&[
        "dossier",
        "import",
        sample.to_str().unwrap(),
        "--relay",
        &url,
    ]);
    candidate.run(&["dossier", "set", &id, "motivation.lettre", CANARY]);
    let image = sample.parent().unwrap().join("annexes/tableau-de-bord.png");
    candidate.run(&[
        "dossier",
        "attach",
        &id,
        image.to_str().unwrap(),
        "--title",
        "Tableau",
    ]);
    candidate.run(&[
        "dossier",
        "share",
        &id,
        &advisor.identity(),
        "--role",
        "advisor",
    ]);
    candidate.run(&["sync"]);
    advisor.run(&["dossier", "open", &id, "--relay", &url]);
    let jury = utc_date_in(60);
    candidate.run(&[
        "dossier",
        "reminders",
        &id,
        "--email",
        "anna@example.org",
        "--jury-date",
        &jury,
    ]);
    candidate.run(&[
        "dossier",
        "invite",
        &id,
        "juge@example.org",
        "--role",
        "juror",
    ]);

    let held = candidate.run(&["dossier", "holdings", &id]);
    // The sizes are the relay's own rows.
    let db = rusqlite::Connection::open(relay.data.join("livret.sqlite3")).unwrap();
    let dossier = hex::decode(&id).unwrap();
    let count = |sql: &str| -> (i64, i64) {
        db.query_row(sql, [&dossier], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
    };
    let (envelopes, _) =
        count("SELECT COUNT(*), COALESCE(SUM(LENGTH(body)), 0) FROM envelopes WHERE dossier = ?1");
    let (files, _) =
        count("SELECT COUNT(*), COALESCE(SUM(bytes), 0) FROM blobs WHERE dossier = ?1");
    assert!(envelopes > 0 && files == 1, "{envelopes} {files}");
    for expected in [
        format!("Modifications : {envelopes} ("),
        "Fichiers de preuves : 1 (".to_string(),
        "Adresse pour les rappels : anna@example.org".to_string(),
        "Courriel en attente : à anna@example.org, « Rappel : votre jury VAE".to_string(),
        "Courriel en attente : à juge@example.org".to_string(),
        "Invitation : juré, sans réponse".to_string(),
        format!("Appareil membre : candidat — {}", candidate.identity()),
        format!("Appareil membre : accompagnateur — {}", advisor.identity()),
    ] {
        assert!(held.contains(&expected), "« {expected} » not in:\n{held}");
    }
    assert!(!held.contains("Date du jury : non donnée"), "{held}");
    assert!(!held.contains(CANARY), "{held}");

    // Neither an advisor nor a stranger is told.
    let (ok, err) = advisor.try_run(&["dossier", "holdings", &id]);
    assert!(!ok && err.contains("seul le candidat voit"), "{err}");
    stranger.run(&["identity", "show"]);
    std::fs::create_dir_all(stranger.home.join("dossiers").join(&id)).unwrap();
    std::fs::write(stranger.home.join("dossiers").join(&id).join("relay"), &url).unwrap();
    let (ok, err) = stranger.try_run(&["dossier", "holdings", &id]);
    assert!(!ok && err.contains("pas membre du dossier"), "{err}");

    // A removal shows: the log keeps the device, marked removed.
    candidate.run(&["dossier", "remove", &id, &advisor.identity()]);
    let held = candidate.run(&["dossier", "holdings", &id]);
    assert!(
        held.contains(&format!(
            "Appareil retiré : accompagnateur — {}",
            advisor.identity()
        )),
        "{held}"
    );
    assert_relay_never_saw(&relay, &[CANARY]);
}

/// A browser the candidate removed while it was on its dossiers page (not following the
/// dossier) learns it when it opens the dossier: the sync is told, the copy wiped, the page
/// says why.
#[test]
fn a_browser_removed_while_away_wipes_its_copy_when_it_opens_the_dossier() {
    let relay = Relay::start();
    let candidate = Device::new("candidat-retrait-absent");
    let sample = sample_dossier();
    let id = candidate.run(&[
        "dossier",
        "import",
        sample.to_str().unwrap(),
        "--relay",
        &relay.url(""),
    ]);
    candidate.run(&["dossier", "set", &id, "motivation.lettre", CANARY]);
    candidate.run(&["sync"]);
    let (browser, identity) = crate::browser::browser_member_of(&relay, &candidate, &id, "advisor");
    browser.click("#mes-dossiers");
    browser.wait_for("[data-testid=dossiers] button");
    assert!(!crate::deletion::browser_keys_naming(&browser, &id).is_empty());

    candidate.run(&["dossier", "remove", &id, &identity]);
    browser.click("[data-testid=dossiers] button");
    browser.wait_text("[data-testid=annonce]", |t| {
        t.starts_with("Vous n'avez plus accès à ce dossier : le candidat a retiré cet appareil")
    });
    assert!(!browser.exists("article.livret"), "back to the dossiers");
    assert_eq!(
        crate::deletion::browser_keys_naming(&browser, &id),
        Vec::<String>::new(),
        "nothing of the dossier stays in the browser"
    );
    assert!(
        !browser.exists("[data-testid=dossiers] button"),
        "no dossier listed"
    );
}
