//! Members' names end to end: the candidate names the advisor and the juror through a real
//! relay; every member's list shows the names, the relay reads none; an advisor who writes
//! the same document cannot give itself a name that is shown.

use crate::support::Relay;
use crate::sync::{Device, assert_relay_never_saw};

/// Typed as a member's name; must reach the members and never the relay.
const CANARY: &str = "CANARI-nom-3f9a21";

#[test]
fn the_candidate_names_members_and_an_advisor_cannot() {
    let relay = Relay::start();
    let url = relay.url("");
    let candidate = Device::new("candidat-noms");
    let advisor = Device::new("conseil-noms");
    let juror = Device::new("jury-noms");
    let id = candidate.run(&["dossier", "new", "--relay", &url]);
    for (device, role) in [(&advisor, "advisor"), (&juror, "juror")] {
        candidate.run(&["dossier", "share", &id, &device.identity(), "--role", role]);
        device.run(&["dossier", "open", &id, "--relay", &url]);
    }
    candidate.run(&[
        "dossier",
        "name",
        &id,
        &advisor.identity(),
        &format!("Claire Martin {CANARY}"),
    ]);
    candidate.run(&["dossier", "name", &id, &juror.identity(), "M. Durand"]);
    candidate.run(&["sync"]);

    // Every member reads the names, beside the member they name.
    for device in [&candidate, &advisor, &juror] {
        device.run(&["sync"]);
        let list = device.run(&["dossier", "members", &id]);
        let line_of = |identity: &str| {
            list.lines()
                .find(|l| l.contains(identity))
                .unwrap_or_else(|| panic!("{identity} absent: {list}"))
                .to_string()
        };
        assert!(
            line_of(&advisor.identity()).ends_with(&format!("« Claire Martin {CANARY} »")),
            "{list}"
        );
        assert!(
            line_of(&juror.identity()).ends_with("« M. Durand »"),
            "{list}"
        );
        assert!(!line_of(&candidate.identity()).contains('«'), "{list}");
    }

    // The advisor and the juror may not name anyone, themselves included.
    for device in [&advisor, &juror] {
        let (ok, err) = device.try_run(&["dossier", "name", &id, &device.identity(), "Candidat"]);
        assert!(!ok, "{err}");
        assert!(
            err.contains("seul le candidat nomme") || err.contains("lecture seule"),
            "{err}"
        );
    }
    // A stranger's identity is not a member: refused, nothing written.
    let stranger = Device::new("inconnu-noms");
    let (ok, err) = candidate.try_run(&["dossier", "name", &id, &stranger.identity(), "X"]);
    assert!(!ok && err.contains("n'est pas membre"), "{err}");

    // Taken back: shown unnamed again, everywhere.
    candidate.run(&["dossier", "name", &id, &juror.identity(), ""]);
    candidate.run(&["sync"]);
    juror.run(&["sync"]);
    let list = juror.run(&["dossier", "members", &id]);
    assert!(!list.contains("Durand"), "{list}");

    assert_relay_never_saw(&relay, &[CANARY, "Durand"]);
}
