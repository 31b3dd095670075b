//! A snapshot's covers (last counter per writer it includes) are what late devices mark as
//! seen. A hostile writer once sealed covers claiming far more than the history while the
//! relay checked other, clear ones: late devices then dropped the real envelopes as already
//! seen. The relay must check the very covers replicas apply.

use std::collections::BTreeMap;

use livret_shared::envelope::{self, Channel, DossierId, Envelope, Header, Kind, random_nonce};
use livret_shared::keys::{DeviceSecret, EpochKeys, MemberKey};
use livret_shared::membership::{self, Membership, Role, SignedEntry};
use livret_shared::protocol::{self, Rejection};
use livret_shared::sync::{Replica, SyncError};

/// A snapshot's sealed body, as `Replica::compact` writes it (postcard of the same fields).
#[derive(serde::Serialize)]
struct Body {
    covers: Vec<(MemberKey, u64)>,
    doc: Vec<u8>,
}

type Counters = BTreeMap<MemberKey, u64>;

/// The relay's snapshot logic without sockets: the same rules, from `protocol`.
#[derive(Default)]
struct MemRelay {
    log: Vec<SignedEntry>,
    envelopes: BTreeMap<(MemberKey, u64), Vec<u8>>,
    /// The active snapshot and the covers the relay checked.
    active: Option<(Vec<u8>, Counters)>,
}

impl MemRelay {
    fn membership(&self) -> Membership {
        Membership::from_log(&self.log).unwrap()
    }

    fn last(&self) -> BTreeMap<MemberKey, u64> {
        let mut last = BTreeMap::new();
        for (w, c) in self.envelopes.keys() {
            last.insert(*w, *c);
        }
        last
    }

    fn push(&mut self, bytes: &[u8]) {
        let env = Envelope::parse(bytes).unwrap();
        let last = self.last().get(&env.header.writer).copied().unwrap_or(0);
        protocol::check_envelope(bytes, Some(&self.membership()), last, None).unwrap();
        self.envelopes
            .insert((env.header.writer, env.header.counter), bytes.to_vec());
    }

    /// What the relay does with `ClientMsg::Snapshot { envelope, covers }`.
    fn snapshot(&mut self, bytes: &[u8], stated: &[(MemberKey, u64)]) -> Result<(), Rejection> {
        let env = protocol::parse_and_verify(bytes)?;
        let covers = protocol::snapshot_covers(&env, stated)?;
        let active = self
            .active
            .as_ref()
            .map_or([0; 32], |(b, _)| Envelope::parse(b).unwrap().id());
        protocol::check_snapshot(
            &env.header,
            Some(&self.membership()),
            active,
            &covers,
            &self.last(),
        )?;
        self.active = Some((bytes.to_vec(), covers));
        Ok(())
    }

    /// A late device's catch-up: the active snapshot, then what follows what it covers.
    fn catch_up(&self) -> (Option<Vec<u8>>, Vec<Vec<u8>>) {
        let covers = self
            .active
            .as_ref()
            .map(|(_, c)| c.clone())
            .unwrap_or_default();
        let tail = self
            .envelopes
            .iter()
            .filter(|((w, c), _)| *c > covers.get(w).copied().unwrap_or(0))
            .map(|(_, b)| b.clone())
            .collect();
        (self.active.as_ref().map(|(b, _)| b.clone()), tail)
    }
}

struct Scene {
    relay: MemRelay,
    owner: DeviceSecret,
    hostile: DeviceSecret,
    late: DeviceSecret,
    o: Replica,
    h: Replica,
}

/// An owner and a hostile advisor who both wrote; a late advisor who has read nothing yet.
fn scene() -> Scene {
    let owner = DeviceSecret::generate();
    let hostile = DeviceSecret::generate();
    let late = DeviceSecret::generate();
    let keys = EpochKeys::generate();
    let (mut o, entry) = Replica::create(&owner, DossierId::generate(), keys.duplicate()).unwrap();
    let mut relay = MemRelay {
        log: vec![entry],
        ..MemRelay::default()
    };
    for device in [&hostile, &late] {
        let state = relay.membership();
        relay
            .log
            .push(membership::add(&state, &owner, &device.id(), Role::Advisor, &keys).unwrap());
    }
    o.apply_membership(&owner, &relay.log).unwrap();
    for (i, text) in ["Analyser le besoin.", "Analyser puis chiffrer le besoin."]
        .iter()
        .enumerate()
    {
        o.dossier().set("fiches.0.taches", text).unwrap();
        relay.push(&o.flush(&owner, random_nonce()).unwrap().unwrap());
        o.acknowledged(i as u64 + 1);
    }
    let mut h = Replica::join(&hostile, relay.log.clone()).unwrap();
    let (_, tail) = relay.catch_up();
    h.receive(&tail).unwrap();
    h.dossier()
        .set("motivation.lettre", "Je suis motivée.")
        .unwrap();
    relay.push(&h.flush(&hostile, random_nonce()).unwrap().unwrap());
    h.acknowledged(1);
    Scene {
        relay,
        owner,
        hostile,
        late,
        o,
        h,
    }
}

fn snapshot_header(s: &Scene, kind: Kind) -> Header {
    Header {
        dossier: s.h.id,
        epoch: 1,
        writer: s.hostile.signing_public(),
        counter: 1,
        parent: [0; 32],
        kind,
        channel: Channel::Dossier,
    }
}

#[test]
fn covers_sealed_apart_from_the_signed_ones_are_refused_by_relay_and_replica() {
    let mut s = scene();
    let real = vec![
        (s.owner.signing_public(), 2),
        (s.hostile.signing_public(), 1),
    ];
    let inflated = vec![
        (s.owner.signing_public(), 1_000_000),
        (s.hostile.signing_public(), 1),
    ];
    let key = s.h.epoch_key().unwrap().duplicate();
    let forged_body = protocol::encode(&Body {
        covers: inflated.clone(),
        doc: s.h.dossier().save(),
    });

    // The attack as it was: covers sealed inside (kind 2), the true ones stated in clear.
    let sealed_only = envelope::seal(
        &snapshot_header(&s, Kind::Snapshot),
        &key,
        random_nonce(),
        &forged_body,
        &s.hostile,
    );
    assert_eq!(
        s.relay.snapshot(&sealed_only, &real),
        Err(Rejection::Forbidden)
    );

    // Covers in clear that claim more than the history: the relay compares them with what
    // it stores.
    let claims_more = envelope::seal_snapshot(
        &snapshot_header(&s, Kind::CoveredSnapshot),
        &inflated,
        &key,
        random_nonce(),
        &forged_body,
        &s.hostile,
    );
    assert_eq!(
        s.relay.snapshot(&claims_more, &inflated),
        Err(Rejection::StaleSnapshot)
    );
    assert_eq!(
        s.relay.snapshot(&claims_more, &real),
        Err(Rejection::Malformed)
    );

    // The true covers in clear, other ones sealed: the relay cannot see inside, so it takes
    // it; a late device refuses it rather than skip what it never saw.
    let two_faced = envelope::seal_snapshot(
        &snapshot_header(&s, Kind::CoveredSnapshot),
        &real,
        &key,
        random_nonce(),
        &forged_body,
        &s.hostile,
    );
    assert_eq!(s.relay.snapshot(&two_faced, &real), Ok(()));
    let mut late = Replica::join(&s.late, s.relay.log.clone()).unwrap();
    assert_eq!(
        late.receive_snapshot(&two_faced).unwrap_err(),
        SyncError::ForgedSnapshot
    );
    assert!(late.since().iter().all(|(_, c)| *c < 1_000_000));
}

#[test]
fn a_late_device_starts_from_an_honest_snapshot_and_keeps_up() {
    let mut s = scene();
    let (snapshot, covers) = s.h.compact(&s.hostile, random_nonce()).unwrap();
    assert_eq!(
        Envelope::parse(&snapshot).unwrap().header.kind,
        Kind::CoveredSnapshot
    );
    assert_eq!(s.relay.snapshot(&snapshot, &covers), Ok(()));

    // The owner writes after the snapshot; the late device catches up from it.
    s.o.dossier()
        .set("fiches.0.taches", "Analyser, chiffrer, livrer.")
        .unwrap();
    s.relay
        .push(&s.o.flush(&s.owner, random_nonce()).unwrap().unwrap());
    let mut late = Replica::join(&s.late, s.relay.log.clone()).unwrap();
    let (snapshot, tail) = s.relay.catch_up();
    late.receive_snapshot(&snapshot.unwrap()).unwrap();
    assert_eq!(late.receive(&tail).unwrap().applied, 1);
    assert_eq!(
        late.dossier().get("fiches.0.taches").unwrap(),
        "Analyser, chiffrer, livrer."
    );
    assert_eq!(
        late.dossier().get("motivation.lettre").unwrap(),
        "Je suis motivée."
    );
}
