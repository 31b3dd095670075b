//! A relay keeping a removed member in by not giving some devices the removal: those devices
//! would go on sealing for the old epoch, which the removed member still reads. A removal
//! begins an epoch; an envelope sealed for an epoch a device has not reached tells it that
//! its writer saw a change of members it was not given.

use livret_shared::envelope::{DossierId, random_nonce};
use livret_shared::keys::{self, DeviceSecret, EpochKeys};
use livret_shared::membership::{self, Membership, Role};
use livret_shared::sync::{Replica, SyncError};

#[test]
fn a_device_shown_the_log_without_a_removal_says_so_when_others_write_past_it() {
    let owner = DeviceSecret::generate();
    let advisor = DeviceSecret::generate();
    let kept_in_the_dark = DeviceSecret::generate();
    let removed = DeviceSecret::generate();
    let keys = EpochKeys::generate();
    let (mut o, entry) = Replica::create(&owner, DossierId::generate(), keys.duplicate()).unwrap();
    let mut log = vec![entry];
    for d in [&advisor, &kept_in_the_dark, &removed] {
        let state = Membership::from_log(&log).unwrap();
        log.push(membership::add(&state, &owner, &d.id(), Role::Advisor, &keys).unwrap());
    }
    o.apply_membership(&owner, &log).unwrap();
    o.dossier().set("etat_civil.nom", "Martin").unwrap();
    let first = o.flush(&owner, random_nonce()).unwrap().unwrap();
    let before_removal = log.clone();
    let mut a = Replica::join(&advisor, before_removal.clone()).unwrap();
    let mut y = Replica::join(&kept_in_the_dark, before_removal).unwrap();
    for r in [&mut a, &mut y] {
        assert_eq!(r.receive(std::slice::from_ref(&first)).unwrap().applied, 1);
    }

    let state = Membership::from_log(&log).unwrap();
    log.push(
        membership::remove(
            &state,
            &owner,
            &removed.signing_public(),
            &EpochKeys::generate(),
        )
        .unwrap(),
    );
    // The relay gives the removal to the advisor, not to `y`.
    a.apply_membership(&advisor, &log).unwrap();
    a.dossier()
        .set("motivation.lettre", "Écrit après le retrait.")
        .unwrap();
    let sealed = a.flush(&advisor, random_nonce()).unwrap().unwrap();

    let before = y.since();
    assert_eq!(
        y.receive(std::slice::from_ref(&sealed)).unwrap_err(),
        SyncError::MembershipWithheld {
            writer: keys::short(&advisor.signing_public()),
            epoch: 2,
        }
    );
    assert_eq!(y.since(), before, "nothing of it counts as seen");

    // Given the log, `y` reads it.
    y.apply_membership(&kept_in_the_dark, &log).unwrap();
    assert_eq!(y.receive(std::slice::from_ref(&sealed)).unwrap().applied, 1);
    assert_eq!(
        y.dossier().get("motivation.lettre").unwrap(),
        "Écrit après le retrait."
    );
}
