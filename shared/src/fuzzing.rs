//! The network readers driven together on arbitrary bytes, for the fuzzer
//! (`fuzz/fuzz_targets/relay_frames.rs`) and for the test that replays what it kept
//! (`shared/tests/fuzz_regressions.rs`): one place, so both exercise the same paths.

use std::cell::RefCell;

use crate::envelope::{DossierId, Envelope};
use crate::keys::{ContentKey, DeviceSecret, EpochKeys};
use crate::membership::{Membership, SignedEntry};
use crate::protocol::{self, ClientMsg, ServerMsg};
use crate::sync::Replica;

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
