//! The network readers driven on arbitrary bytes, for the fuzzers (`fuzz/fuzz_targets/`)
//! and for the test that replays what they kept (`shared/tests/fuzz_regressions.rs`): one
//! place, so both exercise the same paths.

use std::cell::RefCell;

use crate::catchup::{Framer, Gathered};
use crate::envelope::{DossierId, Envelope};
use crate::keys::{ContentKey, DeviceSecret, EpochKeys, MemberKey};
use crate::membership::{Membership, SignedEntry};
use crate::protocol::{self, ClientMsg, ServerMsg};
use crate::sync::{Replica, SnapshotBody, SyncError};

thread_local! {
    /// A dossier with a fixed id (inputs can name it) and a fixed key (inputs can be sealed
    /// for it), made once per thread.
    static REPLICA: RefCell<Replica> = RefCell::new(
        Replica::create(
            &DeviceSecret::generate(),
            DossierId([0; 16]),
            EpochKeys {
                content: ContentKey::from_random([7; 32]),
                team: Some(ContentKey::from_random([8; 32])),
            },
        )
        .expect("a new dossier")
        .0,
    );
}

/// Reads `data` every way the relay or a device might; must return (errors are fine).
pub fn read_network_bytes(data: &[u8]) {
    let _ = protocol::decode::<ClientMsg>(data);
    let _ = protocol::decode::<ServerMsg>(data);
    if let Ok(envelope) = Envelope::parse(data) {
        let _ = envelope.verify();
        let _ = envelope.open(&ContentKey::from_random([7; 32]));
    }
    if let Ok(entry) = SignedEntry::from_bytes(data) {
        let _ = Membership::genesis(&entry);
    }
    REPLICA.with(|r| {
        let mut replica = r.borrow_mut();
        let _ = replica.open_presence(data);
        let _ = replica.receive(&[data.to_vec()]);
    });
}

/// Automerge bytes as a device receives them from others: the guard first, and automerge
/// only on what the guard let through (which must then inflate within its budget).
pub fn read_automerge_bytes(data: &[u8]) {
    if let Ok(inflated) = crate::automerge_guard::check(data) {
        assert!(inflated <= crate::automerge_guard::budget_for(data.len()));
        let mut doc = automerge::AutoCommit::new();
        let _ = doc.load_incremental(data);
        let _ = automerge::AutoCommit::load(data);
    }
}

/// A catch-up as a device receives it, on arbitrary bytes, two ways.
///
/// First the relay's side: items cut from the input (entries, at most one snapshot,
/// envelopes, of the sizes the input says) go through [`Framer`] with a small budget; every
/// frame must pass the client's decoder, and gathering the frames must give back exactly
/// the items, in order. Then the hostile relay's side: the input after its first byte read
/// as frames of its own (each after its length on two bytes), gathered as a client does and, once complete, joined and applied to
/// a fresh replica. Errors, never panics. Returns how many envelopes (the snapshot
/// counted as one) the replica applied.
pub fn read_catchup_frames(data: &[u8]) -> usize {
    frames_give_back_what_was_framed(data);
    let mut gathered = Gathered::default();
    // The first byte is the property half's budget; frames follow.
    let mut rest = data.get(1..).unwrap_or_default();
    while rest.len() >= 2 {
        let len = usize::from(u16::from_le_bytes([rest[0], rest[1]])).min(rest.len() - 2);
        let (frame, tail) = rest[2..].split_at(len);
        rest = tail;
        let Some(msg) = protocol::decode::<ServerMsg>(frame) else {
            continue;
        };
        if gathered.add_msg(DossierId([0; 16]), msg) != Some(true) {
            continue;
        }
        let Ok(log) = gathered
            .entries
            .iter()
            .map(|b| SignedEntry::from_bytes(b))
            .collect::<Result<Vec<_>, _>>()
        else {
            return 0;
        };
        let device = fuzz_device();
        let Ok(mut replica) = Replica::join(&device, log) else {
            return 0;
        };
        let Ok(received) = replica.apply_log(
            &device,
            &[],
            gathered.snapshot.as_deref(),
            &gathered.envelopes,
            gathered.active_snapshot,
        ) else {
            return 0;
        };
        let snapshot_taken =
            gathered.snapshot.is_some() && !received.quarantined.iter().any(|q| q.counter == 0);
        return received.applied + usize::from(snapshot_taken);
    }
    0
}

/// The device the fuzzers' dossiers belong to: fixed, so that kept inputs (a real catch-up
/// made for this device, `fuzz/corpus/catchup_frames`) open the same way on every run. A
/// key for tests only.
const FUZZ_DEVICE: &str =
    "LIVRET-SIGNING-KEY-1cc7f2129171630c7175400019940822bb7d4abe8bb9f0d144e725e57abbfdf2b
AGE-SECRET-KEY-10DY8CEAHQNAFYZ3DYQH0D074AZ7936U9PX52VMDAG62EG4AXY5MQ53PXXC";

pub fn fuzz_device() -> DeviceSecret {
    DeviceSecret::from_secret_string(FUZZ_DEVICE).expect("the fuzzers' device")
}

thread_local! {
    /// A dossier's first membership entry, made once per thread.
    static GENESIS: Vec<u8> = crate::membership::create(
        DossierId([3; 16]),
        &DeviceSecret::generate(),
        &EpochKeys::generate(),
    )
    .expect("a first entry")
    .to_bytes();
}

/// The property half of [`read_catchup_frames`].
fn frames_give_back_what_was_framed(data: &[u8]) {
    let Some((&budget, mut rest)) = data.split_first() else {
        return;
    };
    let budget = 64 + usize::from(budget) * 16;
    let mut framer = Framer::with_budget(DossierId([3; 16]), budget);
    let mut expected = Gathered::default();
    // A catch-up starts with the dossier's first entry (a client gathers from there).
    let genesis = GENESIS.with(Clone::clone);
    framer.entry(genesis.clone());
    expected.entries.push(genesis);
    while let Some((&tag, tail)) = rest.split_first() {
        let len = usize::from(tag >> 2).min(tail.len());
        let (item, tail) = tail.split_at(len);
        rest = tail;
        match tag & 3 {
            0 if expected.snapshot.is_none() && expected.envelopes.is_empty() => {
                framer.entry(item.to_vec());
                expected.entries.push(item.to_vec());
            }
            1 if expected.snapshot.is_none() && expected.envelopes.is_empty() => {
                framer.snapshot(item.to_vec());
                expected.snapshot = Some(item.to_vec());
            }
            _ => {
                framer.envelope(item.to_vec());
                expected.envelopes.push(item.to_vec());
            }
        }
    }
    let active = data.get(1).map(|b| [*b; 32]);
    let frames = framer.finish(active);
    let mut gathered = Gathered::default();
    let last = frames.len() - 1;
    for (i, frame) in frames.into_iter().enumerate() {
        let bytes = protocol::encode(&frame);
        let back: ServerMsg = protocol::decode(&bytes).expect("a frame the client accepts");
        assert_eq!(back, frame, "a frame survives the wire");
        let complete = gathered
            .add_msg(DossierId([3; 16]), back)
            .expect("a frame of the dossier");
        assert_eq!(complete, i == last, "only the last frame completes");
    }
    assert_eq!(gathered.entries, expected.entries);
    assert_eq!(gathered.snapshot, expected.snapshot);
    assert_eq!(gathered.envelopes, expected.envelopes);
    assert_eq!(gathered.active_snapshot, active);
}

thread_local! {
    /// A saved replica of the fixed dossier and its owner: each snapshot input gets a fresh
    /// copy, so one input's outcome never depends on the ones before.
    static SNAPSHOT_BASE: (DeviceSecret, Vec<u8>) = {
        let owner = fuzz_device();
        let (mut replica, _) = Replica::create(
            &owner,
            DossierId([0; 16]),
            EpochKeys {
                content: ContentKey::from_random([7; 32]),
                team: Some(ContentKey::from_random([8; 32])),
            },
        )
        .expect("a new dossier");
        let saved = replica.save();
        (owner, saved)
    };
}

/// A snapshot as a late device receives it, on arbitrary bytes. The first byte says how
/// the rest is taken: as a whole envelope (0); as the sealed body of a snapshot signed by
/// the dossier's owner (1); or as covers and an automerge document that the owner seals,
/// with the clear covers equal to the sealed ones or not (2, 3). A snapshot whose clear and
/// sealed covers differ is refused as forged; one that is taken counts what it covers as
/// seen. Errors, never panics. Returns whether the replica took the snapshot.
pub fn read_snapshot_bytes(data: &[u8]) -> bool {
    let Some((&mode, rest)) = data.split_first() else {
        return false;
    };
    SNAPSHOT_BASE.with(|(owner, saved)| {
        let mut replica = Replica::restore(owner, saved).expect("the saved replica");
        let key = ContentKey::from_random([7; 32]);
        match mode % 4 {
            0 => replica.receive_snapshot(rest).is_ok(),
            1 => {
                let sealed = seal_snapshot_by(owner, &[], &key, rest);
                replica.receive_snapshot(&sealed).is_ok()
            }
            tampered => {
                let (covers, doc) = covers_and_doc(rest, owner.signing_public());
                let payload = postcard::to_stdvec(&SnapshotBody {
                    covers: covers.clone(),
                    doc: doc.to_vec(),
                })
                .expect("snapshots serialise");
                let mut clear = covers.clone();
                if tampered == 3 {
                    match clear.first_mut() {
                        Some((_, counter)) => *counter += 1,
                        None => clear.push((MemberKey([5; 32]), 1)),
                    }
                }
                let sealed = seal_snapshot_by(owner, &clear, &key, &payload);
                let taken = replica.receive_snapshot(&sealed);
                if tampered == 3 {
                    assert!(
                        matches!(taken, Err(SyncError::ForgedSnapshot)),
                        "covers that differ are refused: {taken:?}"
                    );
                } else if taken.is_ok() {
                    let since: std::collections::BTreeMap<_, _> =
                        replica.since().into_iter().collect();
                    for (writer, counter) in covers {
                        if writer != owner.signing_public() {
                            assert!(since.get(&writer).copied().unwrap_or(0) >= counter);
                        }
                    }
                }
                taken.is_ok()
            }
        }
    })
}

fn seal_snapshot_by(
    owner: &DeviceSecret,
    covers: &[(MemberKey, u64)],
    key: &ContentKey,
    payload: &[u8],
) -> Vec<u8> {
    let header = crate::envelope::Header {
        dossier: DossierId([0; 16]),
        epoch: 1,
        writer: owner.signing_public(),
        counter: 1,
        parent: [0; 32],
        kind: crate::envelope::Kind::CoveredSnapshot,
        channel: crate::envelope::Channel::Dossier,
    };
    crate::envelope::seal_snapshot(&header, covers, key, [0; 24], payload, owner)
}

/// Up to four covers (each: one byte naming the writer — the owner or one of a few others —
/// and a one-byte counter) taken off the front of `bytes`; the rest is the document.
fn covers_and_doc(bytes: &[u8], owner: MemberKey) -> (Vec<(MemberKey, u64)>, &[u8]) {
    let Some((&count, mut rest)) = bytes.split_first() else {
        return (Vec::new(), bytes);
    };
    let mut covers: Vec<(MemberKey, u64)> = Vec::new();
    for _ in 0..(count % 5) {
        let [who, counter, tail @ ..] = rest else {
            break;
        };
        rest = tail;
        let writer = if who % 2 == 0 {
            owner
        } else {
            MemberKey([*who; 32])
        };
        if *counter > 0 && covers.iter().all(|(w, _)| *w != writer) {
            covers.push((writer, u64::from(*counter)));
        }
    }
    (covers, rest)
}
