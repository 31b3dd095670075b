//! Snapshots sealed before covers were signed in clear (envelope kind 2, covers only inside
//! the sealed body) are still stored on relays: a late device must still open them.
//!
//! `fixtures/snapshot_kind2.json` was written by the code of that time (commit 5f428aa) with
//! `LIVRET_WRITE_FIXTURE=1 cargo test -p livret-shared --test legacy_snapshot -- --ignored`.

use livret_shared::envelope::{DossierId, random_nonce};
use livret_shared::keys::{DeviceSecret, EpochKeys, MemberKey};
use livret_shared::membership::{self, Membership, Role, SignedEntry};
use livret_shared::sync::Replica;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/snapshot_kind2.json"
);

#[derive(serde::Serialize, serde::Deserialize)]
struct Fixture {
    /// The late device's keys (an advisor added before the snapshot was made).
    late_secret: String,
    owner: String,
    /// Membership entries, hex.
    log: Vec<String>,
    /// The snapshot envelope, hex.
    snapshot: String,
    /// What the snapshot's document says at `etat_civil.nom`.
    nom: String,
}

#[test]
#[ignore = "writes the fixture; run by hand on the code whose snapshots it records"]
fn write_fixture() {
    if std::env::var_os("LIVRET_WRITE_FIXTURE").is_none() {
        return;
    }
    let owner = DeviceSecret::generate();
    let late = DeviceSecret::generate();
    let keys = EpochKeys::generate();
    let (mut replica, entry) =
        Replica::create(&owner, DossierId::generate(), keys.duplicate()).unwrap();
    let mut log = vec![entry];
    let state = Membership::from_log(&log).unwrap();
    log.push(membership::add(&state, &owner, &late.id(), Role::Advisor, &keys).unwrap());
    replica.apply_membership(&owner, &log).unwrap();
    for (i, nom) in ["Martin", "Martin-Durand"].iter().enumerate() {
        replica.dossier().set("etat_civil.nom", nom).unwrap();
        replica.flush(&owner, random_nonce()).unwrap().unwrap();
        replica.acknowledged(i as u64 + 1);
    }
    let (snapshot, covers) = replica.compact(&owner, random_nonce()).unwrap();
    assert_eq!(covers, vec![(owner.signing_public(), 2)]);
    let fixture = Fixture {
        late_secret: late.to_secret_string().to_string(),
        owner: hex::encode(owner.signing_public()),
        log: log.iter().map(|e| hex::encode(e.to_bytes())).collect(),
        snapshot: hex::encode(snapshot),
        nom: "Martin-Durand".into(),
    };
    std::fs::write(FIXTURE, serde_json::to_string_pretty(&fixture).unwrap()).unwrap();
}

#[test]
fn a_snapshot_sealed_before_covers_were_signed_still_opens() {
    let fixture: Fixture =
        serde_json::from_str(&std::fs::read_to_string(FIXTURE).unwrap()).unwrap();
    let late = DeviceSecret::from_secret_string(&fixture.late_secret).unwrap();
    let log: Vec<SignedEntry> = fixture
        .log
        .iter()
        .map(|e| SignedEntry::from_bytes(&hex::decode(e).unwrap()).unwrap())
        .collect();
    let snapshot = hex::decode(&fixture.snapshot).unwrap();
    assert_eq!(snapshot[96], 2, "a snapshot of the old kind");
    let mut replica = Replica::join(&late, log).unwrap();
    replica.receive_snapshot(&snapshot).unwrap();
    assert_eq!(
        replica.dossier().get("etat_civil.nom").unwrap(),
        fixture.nom
    );
    let mut owner = MemberKey::default();
    hex::decode_to_slice(&fixture.owner, &mut owner.0).unwrap();
    assert!(
        replica.since().contains(&(owner, 2)),
        "{:?}",
        replica.since()
    );
}
