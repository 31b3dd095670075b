//! The sync engine on an in-memory network: a relay applying the real acceptance rules,
//! several devices editing offline, envelopes delivered in random order with duplicates.
//! Every replica must end with the same document.

use livret_shared::envelope::{DossierId, Envelope, random_nonce};
use livret_shared::keys::{DeviceSecret, EpochKeys};
use livret_shared::membership::{self, Role};
use livret_shared::protocol::{Accept, Rejection};
use livret_shared::sync::Replica;
use proptest::prelude::*;

mod support;
use support::MemRelay;

struct Device {
    secret: DeviceSecret,
    replica: Replica,
}

const FIELDS: [&str; 4] = [
    "fiches.0.contexte",
    "fiches.0.taches",
    "motivation.lettre",
    "fiches.1.resultats",
];

/// A dossier with `n` members (owner + advisors), everyone up to date.
fn setup(n: usize) -> (MemRelay, Vec<Device>) {
    let owner = DeviceSecret::generate();
    let key = EpochKeys::generate();
    let (mut replica, entry) =
        Replica::create(&owner, DossierId::generate(), key.duplicate()).unwrap();
    let mut relay = MemRelay {
        log: vec![entry],
        ..MemRelay::default()
    };
    replica.dossier().set("etat_civil.nom", "Martin").unwrap();
    for f in FIELDS {
        replica.dossier().set(f, "Texte de départ.").unwrap();
    }
    let first = replica.flush(&owner, random_nonce()).unwrap().unwrap();
    relay.push(&first).unwrap();
    replica.acknowledged(1);
    let mut others = Vec::new();
    for _ in 1..n {
        let secret = DeviceSecret::generate();
        let state = relay.membership();
        relay
            .log
            .push(membership::add(&state, &owner, &secret.id(), Role::Advisor, &key).unwrap());
        others.push(secret);
    }
    replica.apply_membership(&owner, &relay.log).unwrap();
    let mut devices = vec![Device {
        secret: owner,
        replica,
    }];
    for secret in others {
        let mut replica = Replica::join(&secret, relay.log.clone()).unwrap();
        replica.receive(&relay.order).unwrap();
        devices.push(Device { secret, replica });
    }
    (relay, devices)
}

#[derive(Debug, Clone)]
enum Edit {
    Type {
        device: usize,
        field: usize,
        at: usize,
        text: String,
    },
    Delete {
        device: usize,
        field: usize,
        at: usize,
        len: usize,
    },
    Set {
        device: usize,
        value: String,
    },
    Flush {
        device: usize,
    },
}

fn edit_strategy(devices: usize) -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => (0..devices, 0..FIELDS.len(), 0..40usize, "[a-zé ]{1,6}")
            .prop_map(|(device, field, at, text)| Edit::Type { device, field, at, text }),
        1 => (0..devices, 0..FIELDS.len(), 0..40usize, 1..4usize)
            .prop_map(|(device, field, at, len)| Edit::Delete { device, field, at, len }),
        1 => (0..devices, "[A-Z][a-z]{2,8}").prop_map(|(device, value)| Edit::Set { device, value }),
        2 => (0..devices).prop_map(|device| Edit::Flush { device }),
    ]
}

fn run(devices_n: usize, edits: Vec<Edit>, shuffle: Vec<usize>, duplicate_every: usize) {
    run_with(devices_n, edits, shuffle, duplicate_every, false);
}

/// Text a hostile member slips in; no honest replica may ever show it.
const USURPED: &str = "écrit au nom du candidat";

/// What a hostile member (the last device) stores through the relay's rules, which it
/// passes: well signed, next counter, its own epoch — a batch that is not automerge, and a
/// batch of changes written in the candidate's name.
fn hostile_pushes(relay: &mut MemRelay, devices: &mut [Device]) {
    let (owner, rest) = devices.split_first_mut().expect("an owner");
    let hostile = rest.last_mut().expect("a hostile member");
    let writer = hostile.secret.signing_public();
    let last = relay.last_counter(&writer);
    let mut impostor = livret_shared::dossier::Dossier::load(
        &hostile.replica.dossier().save(),
        &owner.secret.signing_public(),
    )
    .unwrap();
    let heads = impostor.automerge().get_heads();
    impostor.set("etat_civil.nom", USURPED).unwrap();
    let in_owners_name: Vec<u8> = impostor
        .automerge()
        .get_changes(&heads)
        .into_iter()
        .flat_map(|mut c| c.bytes().into_owned())
        .collect();
    let key = hostile.replica.epoch_key().unwrap().duplicate();
    for (counter, payload) in (last + 1..).zip([b"pas de l'automerge".to_vec(), in_owners_name]) {
        let header = livret_shared::envelope::Header {
            dossier: hostile.replica.id,
            epoch: hostile.replica.membership().epoch,
            writer,
            counter,
            parent: [0; 32],
            kind: livret_shared::envelope::Kind::Changes,
            channel: livret_shared::envelope::Channel::Dossier,
        };
        let bytes =
            livret_shared::envelope::seal(&header, &key, random_nonce(), &payload, &hostile.secret);
        assert_eq!(relay.push(&bytes), Ok(Accept::Append));
    }
}

fn run_with(
    devices_n: usize,
    edits: Vec<Edit>,
    shuffle: Vec<usize>,
    duplicate_every: usize,
    hostile: bool,
) {
    let (mut relay, mut devices) = setup(devices_n);
    // Offline editing: everyone edits and seals locally; the relay gets outboxes later.
    for edit in edits {
        match edit {
            Edit::Type {
                device,
                field,
                at,
                text,
            } => {
                let d = &mut devices[device];
                let len = d
                    .replica
                    .dossier()
                    .get(FIELDS[field])
                    .unwrap()
                    .chars()
                    .count();
                d.replica
                    .dossier()
                    .splice(FIELDS[field], at.min(len), 0, &text)
                    .unwrap();
            }
            Edit::Delete {
                device,
                field,
                at,
                len,
            } => {
                let d = &mut devices[device];
                let current = d
                    .replica
                    .dossier()
                    .get(FIELDS[field])
                    .unwrap()
                    .chars()
                    .count();
                if at < current {
                    let len = len.min(current - at) as isize;
                    d.replica
                        .dossier()
                        .splice(FIELDS[field], at, len, "")
                        .unwrap();
                }
            }
            Edit::Set { device, value } => {
                devices[device]
                    .replica
                    .dossier()
                    .set("etat_civil.nom", &value)
                    .unwrap();
            }
            Edit::Flush { device } => {
                let d = &mut devices[device];
                d.replica.flush(&d.secret, random_nonce()).unwrap();
            }
        }
    }
    // Reconnect: each device flushes and pushes its outbox, some twice (retries).
    for (i, d) in devices.iter_mut().enumerate() {
        d.replica.flush(&d.secret, random_nonce()).unwrap();
        for (k, bytes) in d.replica.outbox().iter().enumerate() {
            assert_eq!(relay.push(bytes), Ok(Accept::Append));
            d.replica
                .acknowledged(Envelope::parse(bytes).unwrap().header.counter);
            if (k + i) % duplicate_every == 0 {
                assert_eq!(
                    relay.push(bytes),
                    Ok(Accept::Duplicate),
                    "a retry is acknowledged, not stored"
                );
            }
        }
    }
    if hostile {
        hostile_pushes(&mut relay, &mut devices);
    }
    // Delivery in a shuffled order, with duplicates, in several bursts.
    let mut all = relay.order.clone();
    let n = all.len();
    for (i, s) in shuffle.iter().enumerate() {
        all.swap(i % n, s % n);
    }
    let dupes: Vec<Vec<u8>> = all.iter().step_by(duplicate_every).cloned().collect();
    all.extend(dupes);
    let honest = if hostile { devices_n - 1 } else { devices_n };
    for d in devices.iter_mut().take(honest) {
        for chunk in all.chunks(3) {
            d.replica.receive(chunk).unwrap();
        }
    }
    let reference = devices[0].replica.dossier().to_json_value();
    assert!(!reference.to_string().contains(USURPED));
    for (i, d) in devices.iter_mut().take(honest).enumerate() {
        assert_eq!(
            d.replica.dossier().to_json_value(),
            reference,
            "device {i} diverged"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn two_devices_converge(
        edits in prop::collection::vec(edit_strategy(2), 1..40),
        shuffle in prop::collection::vec(any::<usize>(), 0..30),
        dup in 1..4usize,
    ) {
        run(2, edits, shuffle, dup);
    }

    #[test]
    fn five_devices_converge(
        edits in prop::collection::vec(edit_strategy(5), 1..60),
        shuffle in prop::collection::vec(any::<usize>(), 0..60),
        dup in 1..4usize,
    ) {
        run(5, edits, shuffle, dup);
    }

    /// Issue 19: five replicas, random delivery and duplicates, and one hostile member whose
    /// envelopes pass the relay's rules but not a replica's (garbage, changes in another's
    /// name): the four honest ones converge, and none shows what the hostile one slipped in.
    #[test]
    fn five_devices_with_a_hostile_member_converge(
        edits in prop::collection::vec(edit_strategy(4), 1..60),
        shuffle in prop::collection::vec(any::<usize>(), 0..60),
        dup in 1..4usize,
    ) {
        run_with(5, edits, shuffle, dup, true);
    }
}

#[test]
fn hostile_envelopes_are_refused_by_the_rules() {
    let (mut relay, mut devices) = setup(2);
    let juror = DeviceSecret::generate();
    let key = devices[0].replica.epoch_keys().unwrap();
    let state = relay.membership();
    relay
        .log
        .push(membership::add(&state, &devices[0].secret, &juror.id(), Role::Juror, &key).unwrap());

    // A good envelope from the advisor, stored once.
    let advisor = &mut devices[1];
    advisor
        .replica
        .dossier()
        .set("fiches.0.contexte", "PME")
        .unwrap();
    let good = advisor
        .replica
        .flush(&advisor.secret, random_nonce())
        .unwrap()
        .unwrap();
    assert_eq!(relay.push(&good), Ok(Accept::Append));

    // Forged signature.
    let mut forged = good.clone();
    let n = forged.len();
    forged[n - 1] ^= 1;
    assert_eq!(relay.push(&forged), Err(Rejection::BadSignature));
    // Replayed counter with other content.
    advisor
        .replica
        .dossier()
        .set("fiches.0.contexte", "ETI")
        .unwrap();
    let next = advisor
        .replica
        .flush(&advisor.secret, random_nonce())
        .unwrap()
        .unwrap();
    let env = Envelope::parse(&next).unwrap();
    let mut header = env.header.clone();
    header.counter = 1;
    let replayed =
        livret_shared::envelope::seal(&header, &key.content, random_nonce(), b"x", &advisor.secret);
    assert_eq!(relay.push(&replayed), Err(Rejection::Replay));
    // Gap: counter 3 before 2.
    header.counter = 3;
    let gap =
        livret_shared::envelope::seal(&header, &key.content, random_nonce(), b"x", &advisor.secret);
    assert_eq!(relay.push(&gap), Err(Rejection::Gap));
    // Wrong epoch.
    header.counter = 2;
    header.epoch = 7;
    let wrong_epoch =
        livret_shared::envelope::seal(&header, &key.content, random_nonce(), b"x", &advisor.secret);
    assert_eq!(relay.push(&wrong_epoch), Err(Rejection::WrongEpoch));
    // Unknown writer.
    let stranger = DeviceSecret::generate();
    let mut h = env.header.clone();
    h.writer = stranger.signing_public();
    let unknown = livret_shared::envelope::seal(&h, &key.content, random_nonce(), b"x", &stranger);
    assert_eq!(relay.push(&unknown), Err(Rejection::UnknownWriter));
    // A juror writing the dossier.
    let mut h = env.header.clone();
    h.writer = juror.signing_public();
    h.counter = 1;
    let juror_write = livret_shared::envelope::seal(&h, &key.content, random_nonce(), b"x", &juror);
    assert_eq!(relay.push(&juror_write), Err(Rejection::Forbidden));
    // Oversized and malformed frames.
    assert_eq!(
        relay.push(&vec![0u8; 6 * 1024 * 1024]),
        Err(Rejection::Malformed)
    );
    assert_eq!(relay.push(b"LVE1 garbage"), Err(Rejection::Malformed));
    // Nothing of the above was stored; the real next envelope still goes through.
    assert_eq!(relay.order.len(), 2);
    assert_eq!(relay.push(&next), Ok(Accept::Append));
}

#[test]
fn a_removed_member_cannot_read_what_follows() {
    let (mut relay, mut devices) = setup(3);
    let removed = devices[2].secret.signing_public();
    let state = relay.membership();
    let new_key = EpochKeys::generate();
    relay
        .log
        .push(membership::remove(&state, &devices[0].secret, &removed, &new_key).unwrap());
    let log = relay.log.clone();
    for d in devices.iter_mut() {
        let _ = d.replica.apply_membership(&d.secret, &log);
    }
    let owner = &mut devices[0];
    owner
        .replica
        .dossier()
        .set("motivation.lettre", "Après le départ de l'accompagnateur.")
        .unwrap();
    let after = owner
        .replica
        .flush(&owner.secret, random_nonce())
        .unwrap()
        .unwrap();
    assert_eq!(relay.push(&after), Ok(Accept::Append));
    assert!(
        devices[1]
            .replica
            .receive(std::slice::from_ref(&after))
            .is_ok()
    );
    let got = devices[2]
        .replica
        .receive(std::slice::from_ref(&after))
        .unwrap();
    assert_eq!(
        (got.applied, got.waiting),
        (0, 1),
        "no key for the new epoch"
    );
    assert!(
        !devices[2]
            .replica
            .dossier()
            .get("motivation.lettre")
            .unwrap()
            .contains("Après le départ")
    );
    // And the relay refuses the removed member's writes.
    let removed_dev = &mut devices[2];
    removed_dev
        .replica
        .dossier()
        .set("fiches.0.contexte", "tentative")
        .unwrap();
    if let Ok(Some(bytes)) = removed_dev
        .replica
        .flush(&removed_dev.secret, random_nonce())
    {
        assert!(relay.push(&bytes).is_err());
    }
}
