//! Comments end to end: the advisor comments a field, the candidate answers and resolves,
//! through a real relay; the juror, who reads the same dossier, never reads a word of them.

use crate::support::Relay;
use crate::sync::{Device, assert_relay_never_saw};

/// Typed into a comment; must reach the candidate and nobody else.
const CANARY: &str = "CANARI-commentaire-5c01d7";

#[test]
fn advisor_comments_reach_the_candidate_and_never_the_juror() {
    let relay = Relay::start();
    let url = relay.url("");
    let candidate = Device::new("candidat-commentaires");
    let advisor = Device::new("conseil-commentaires");
    let juror = Device::new("jury-commentaires");
    let id = candidate.run(&["dossier", "new", "--relay", &url]);
    candidate.run(&["dossier", "set", &id, "fiches.0.contexte", "Une PME"]);
    candidate.run(&["sync"]);
    for (device, role) in [(&advisor, "advisor"), (&juror, "juror")] {
        candidate.run(&["dossier", "share", &id, &device.identity(), "--role", role]);
        device.run(&["dossier", "open", &id, "--relay", &url]);
    }

    // The advisor comments the fiche; a comment on a field that does not exist is refused.
    let (ok, err) = advisor.try_run(&["dossier", "comment", &id, "fiches.0.nulle_part", "x"]);
    assert!(!ok && err.contains("chemin inconnu"), "{err}");
    let thread = advisor.run(&[
        "dossier",
        "comment",
        &id,
        "fiches.0.contexte",
        &format!("Préciser l'effectif ({CANARY})"),
        "--name",
        "Alex Conseil",
    ]);
    assert_eq!(thread.len(), 32, "a thread id: {thread}");
    advisor.run(&["sync"]);

    // The candidate reads it, answers in the thread and resolves it.
    candidate.run(&["sync"]);
    let seen = candidate.run(&["dossier", "comments", &id]);
    assert!(
        seen.contains(&format!("{thread} ouvert fiches.0.contexte"))
            && seen.contains(&format!("Alex Conseil : Préciser l'effectif ({CANARY})")),
        "{seen}"
    );
    candidate.run(&[
        "dossier",
        "comment",
        &id,
        "fiches.0.contexte",
        "40 salariés, c'est ajouté.",
        "--reply",
        &thread,
        "--name",
        "Camille",
    ]);
    candidate.run(&["dossier", "resolve", &id, &thread]);
    candidate.run(&["sync"]);
    advisor.run(&["sync"]);
    let seen = advisor.run(&["dossier", "comments", &id]);
    assert!(
        seen.contains(&format!("{thread} résolu fiches.0.contexte"))
            && seen.contains("Camille : 40 salariés, c'est ajouté.")
            && seen.contains("1 fil(s) lisible(s), 0 note(s) illisible(s)"),
        "{seen}"
    );

    // The juror has the same document (the fiche reads) and not one comment: three notes
    // it cannot open, none in the plaintext of its copy; and it cannot comment.
    juror.run(&["sync"]);
    assert_eq!(
        juror.run(&["dossier", "get", &id, "fiches.0.contexte"]),
        "Une PME"
    );
    let seen = juror.run(&["dossier", "comments", &id]);
    assert!(
        seen.contains("0 fil(s) lisible(s), 3 note(s) illisible(s)"),
        "{seen}"
    );
    let mut copy = juror.replica(&id);
    assert!(copy.membership().team_keys_for(&juror.secret()).is_empty());
    let plain = copy.dossier().to_json_value().to_string();
    assert!(plain.contains("Une PME") && !plain.contains(CANARY));
    let (ok, err) = juror.try_run(&["dossier", "comment", &id, "fiches.0.contexte", "Vu"]);
    assert!(!ok && err.contains("lecture seule"), "{err}");

    // The relay stored and logged none of it.
    assert_relay_never_saw(&relay, &[CANARY]);
}
