//! A juror's device reads a dossier and never writes it: a snapshot of a dossier of an older
//! layout (schema 3, before the members' names) is loaded as it is on a juror's device —
//! migrating it would make changes the juror could never send, and fork its copy — while an
//! advisor's device, which writes, migrates it.

use automerge::transaction::Transactable;
use automerge::{ROOT, ReadDoc};
use livret_shared::envelope::{DossierId, random_nonce};
use livret_shared::keys::{DeviceSecret, EpochKeys};
use livret_shared::member_names::NAMES_MAP;
use livret_shared::membership::{self, Membership, Role};
use livret_shared::sync::Replica;

#[test]
fn a_snapshot_of_an_older_layout_is_not_migrated_on_a_jurors_device() {
    let owner = DeviceSecret::generate();
    let juror = DeviceSecret::generate();
    let advisor = DeviceSecret::generate();
    let keys = EpochKeys::generate();
    let (mut replica, entry) =
        Replica::create(&owner, DossierId::generate(), keys.duplicate()).unwrap();
    let mut log = vec![entry];
    for (who, role) in [(&juror, Role::Juror), (&advisor, Role::Advisor)] {
        let state = Membership::from_log(&log).unwrap();
        log.push(membership::add(&state, &owner, &who.id(), role, &keys).unwrap());
    }
    replica.apply_membership(&owner, &log).unwrap();
    // The dossier as the previous version left it: schema 3, no map of names.
    replica.dossier().set("etat_civil.nom", "Martin").unwrap();
    let doc = replica.dossier().automerge();
    doc.delete(ROOT, NAMES_MAP).unwrap();
    doc.put(ROOT, "schema_version", 3_i64).unwrap();
    replica.flush(&owner, random_nonce()).unwrap().unwrap();
    replica.acknowledged(1);
    let (snapshot, _) = replica.compact(&owner, random_nonce()).unwrap();

    let mut on_juror = Replica::join(&juror, log.clone()).unwrap();
    on_juror.receive_snapshot(&snapshot).unwrap();
    assert_eq!(on_juror.dossier().get("etat_civil.nom").unwrap(), "Martin");
    assert_eq!(on_juror.dossier().schema_version(), 3, "left as it was");
    assert!(
        on_juror
            .dossier()
            .automerge()
            .get(ROOT, NAMES_MAP)
            .unwrap()
            .is_none()
    );
    assert_eq!(
        on_juror.flush(&juror, random_nonce()).unwrap(),
        None,
        "nothing of the juror's to send"
    );

    let mut on_advisor = Replica::join(&advisor, log).unwrap();
    on_advisor.receive_snapshot(&snapshot).unwrap();
    assert_eq!(
        on_advisor.dossier().schema_version(),
        livret_shared::dossier::SCHEMA_VERSION,
        "a writer migrates"
    );
    assert!(
        on_advisor
            .dossier()
            .automerge()
            .get(ROOT, NAMES_MAP)
            .unwrap()
            .is_some()
    );
    assert!(
        on_advisor
            .flush(&advisor, random_nonce())
            .unwrap()
            .is_some()
    );
}
