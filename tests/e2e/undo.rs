//! Who changed what, and undo, end to end: the advisor rewrites the candidate's letter through
//! a real relay; the candidate's history names the advisor, when and which field; the
//! candidate puts the section back as it was; the advisor receives the undo, which is itself
//! in the history, and the relay read none of it.

use crate::support::Relay;
use crate::sync::{Device, assert_relay_never_saw};

/// Typed by the advisor; must reach the candidate and never the relay.
const CANARY: &str = "CANARI-historique-7c2e90";

#[test]
fn the_candidate_sees_who_changed_a_section_and_undoes_it() {
    let relay = Relay::start();
    let url = relay.url("");
    let candidate = Device::new("candidat-historique");
    let advisor = Device::new("conseil-historique");
    let id = candidate.run(&["dossier", "new", "--relay", &url]);
    candidate.run(&[
        "dossier",
        "share",
        &id,
        &advisor.identity(),
        "--role",
        "advisor",
    ]);
    candidate.run(&[
        "dossier",
        "name",
        &id,
        &advisor.identity(),
        "Camille Conseil",
    ]);
    let mine = "Je veux valider mon titre de concepteur.";
    candidate.run(&["dossier", "set", &id, "motivation.lettre", mine]);
    candidate.run(&["dossier", "set", &id, "etat_civil.nom", "Durand"]);
    candidate.run(&["sync"]);

    advisor.run(&["dossier", "open", &id, "--relay", &url]);
    let theirs = format!("Je souhaite valider mon titre. {CANARY}");
    advisor.run(&["dossier", "set", &id, "motivation.lettre", &theirs]);
    advisor.run(&["sync"]);

    candidate.run(&["sync"]);
    assert_eq!(
        candidate.run(&["dossier", "get", &id, "motivation.lettre"]),
        theirs
    );
    let history = candidate.run(&["dossier", "history", &id, "motivation"]);
    let lines: Vec<&str> = history.lines().collect();
    assert_eq!(
        lines.len(),
        2,
        "the candidate's edit, then the advisor's: {history}"
    );
    assert!(
        lines[0].ends_with("motivation.lettre") && lines[0].contains("vous"),
        "{history}"
    );
    let advisors = lines[1];
    assert!(
        advisors.contains("Camille Conseil (accompagnateur)")
            && !advisors.contains("vous")
            && advisors.contains("UTC")
            && advisors.ends_with("motivation.lettre"),
        "{history}"
    );
    // The whole dossier's history also lists the candidate's other field, the section's
    // does not.
    assert!(
        candidate
            .run(&["dossier", "history", &id])
            .contains("etat_civil.nom")
    );
    assert!(!history.contains("etat_civil"));

    // Undone: the section as it was before the advisor's edit, the other sections untouched.
    let number = advisors.split('\t').next().unwrap();
    let changed = candidate.run(&["dossier", "restore", &id, "motivation", number]);
    assert_eq!(changed, "motivation.lettre");
    assert_eq!(
        candidate.run(&["dossier", "get", &id, "motivation.lettre"]),
        mine
    );
    assert_eq!(
        candidate.run(&["dossier", "get", &id, "etat_civil.nom"]),
        "Durand"
    );
    candidate.run(&["sync"]);

    // The advisor receives the undo, and sees it as the candidate's latest edit.
    advisor.run(&["sync"]);
    assert_eq!(
        advisor.run(&["dossier", "get", &id, "motivation.lettre"]),
        mine
    );
    let seen = advisor.run(&["dossier", "history", &id, "motivation"]);
    let last = seen.lines().last().unwrap();
    assert!(
        last.contains("candidat") && !last.contains("vous"),
        "{seen}"
    );

    // The advisor rewrites the letter again. Undoing its first edit once more would take
    // this later change away too: said, refused, then done when asked for anyway.
    let again = format!("{theirs} Relu.");
    advisor.run(&["dossier", "set", &id, "motivation.lettre", &again]);
    advisor.run(&["sync"]);
    candidate.run(&["sync"]);
    let (ok, err) = candidate.try_run(&["dossier", "restore", &id, "motivation", number]);
    assert!(
        !ok && err.contains("modifié autrement depuis : motivation.lettre"),
        "{err}"
    );
    assert_eq!(
        candidate.run(&["dossier", "get", &id, "motivation.lettre"]),
        again
    );
    candidate.run(&["dossier", "restore", &id, "motivation", number, "--anyway"]);
    assert_eq!(
        candidate.run(&["dossier", "get", &id, "motivation.lettre"]),
        mine
    );
    // The advisor's edit changed nothing in état civil: nothing to undo there.
    let (ok, err) = candidate.try_run(&["dossier", "restore", &id, "etat_civil", number]);
    assert!(
        !ok && err.contains("n'a rien changé à cet endroit"),
        "{err}"
    );

    // A juror reads; undoing is writing.
    let juror = Device::new("jure-historique");
    candidate.run(&[
        "dossier",
        "share",
        &id,
        &juror.identity(),
        "--role",
        "juror",
    ]);
    candidate.run(&["sync"]);
    juror.run(&["dossier", "open", &id, "--relay", &url]);
    let (ok, err) = juror.try_run(&["dossier", "restore", &id, "motivation", "1"]);
    assert!(!ok && err.contains("lecture seule"), "{err}");

    // A place that is no section, an edit that does not exist: one clear line, nothing done.
    let (ok, err) = candidate.try_run(&["dossier", "restore", &id, "nulle_part", "1"]);
    assert!(!ok && err.contains("ni une section"), "{err}");
    let (ok, err) = candidate.try_run(&["dossier", "restore", &id, "motivation", "99"]);
    assert!(!ok && err.contains("pas de modification n° 99"), "{err}");
    assert_eq!(
        candidate.run(&["dossier", "get", &id, "motivation.lettre"]),
        mine
    );

    assert_relay_never_saw(&relay, &[CANARY, "Camille Conseil"]);
}
