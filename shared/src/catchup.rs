//! A catch-up in several frames: the relay cuts a long history into `Log` frames each under
//! what a client accepts ([`crate::protocol::decode`]'s limit), the last marked `complete`;
//! a client gathers them before applying anything, so a replica applies one large batch
//! (automerge applies a batch in one go, one change at a time is quadratic).

use crate::envelope::DossierId;
use crate::membership::SignedEntry;
use crate::protocol::ServerMsg;

/// Bytes of entries, snapshot and envelopes one catch-up frame carries at most, unless a
/// single one is larger (an envelope or snapshot is at most `MAX_ENVELOPE`, which a client
/// accepts alone in a frame).
pub const FRAME_BUDGET: usize = 4 * 1024 * 1024;

/// What postcard adds per item at most (its length as a varint) plus margin.
const PER_ITEM: usize = 8;

/// Cuts a catch-up into frames, in order: membership entries, the snapshot, envelopes.
pub struct Framer {
    dossier: DossierId,
    budget: usize,
    frames: Vec<ServerMsg>,
    entries: Vec<Vec<u8>>,
    snapshot: Option<Vec<u8>>,
    envelopes: Vec<Vec<u8>>,
    size: usize,
}

impl Framer {
    pub fn new(dossier: DossierId) -> Framer {
        Framer::with_budget(dossier, FRAME_BUDGET)
    }

    pub fn with_budget(dossier: DossierId, budget: usize) -> Framer {
        Framer {
            dossier,
            budget,
            frames: Vec::new(),
            entries: Vec::new(),
            snapshot: None,
            envelopes: Vec::new(),
            size: 0,
        }
    }

    /// Closes the frame being filled if `len` more bytes would take it past the budget;
    /// a frame always takes at least one item.
    fn make_room(&mut self, len: usize) {
        let empty = self.entries.is_empty() && self.snapshot.is_none() && self.envelopes.is_empty();
        if !empty && self.size + len + PER_ITEM > self.budget {
            self.close(false, None);
        }
        self.size += len + PER_ITEM;
    }

    fn close(&mut self, complete: bool, active_snapshot: Option<[u8; 32]>) {
        self.frames.push(ServerMsg::Log {
            dossier: self.dossier,
            entries: std::mem::take(&mut self.entries),
            snapshot: self.snapshot.take(),
            envelopes: std::mem::take(&mut self.envelopes),
            complete,
            active_snapshot,
        });
        self.size = 0;
    }

    pub fn entry(&mut self, bytes: Vec<u8>) {
        self.make_room(bytes.len());
        self.entries.push(bytes);
    }

    /// The snapshot, after every entry and before any envelope.
    pub fn snapshot(&mut self, bytes: Vec<u8>) {
        // A frame holds one snapshot: a second (never sent by the relay) starts a frame.
        if self.snapshot.is_some() {
            self.close(false, None);
        }
        self.make_room(bytes.len());
        self.snapshot = Some(bytes);
    }

    pub fn envelope(&mut self, bytes: Vec<u8>) {
        self.make_room(bytes.len());
        self.envelopes.push(bytes);
    }

    /// The frames, the last one `complete` and naming the active snapshot (one frame even
    /// for an empty catch-up).
    pub fn finish(mut self, active_snapshot: Option<[u8; 32]>) -> Vec<ServerMsg> {
        self.close(true, active_snapshot);
        self.frames
    }
}

/// A catch-up gathered from its frames. It starts with the frame carrying the whole
/// membership log (its first entry is the dossier's first, seq 0): live frames of an
/// earlier subscription that arrive before it are left out (the catch-up has what they
/// had, the relay reads it after subscribing), so the log's entries stay in order. Live
/// frames that arrive in between are kept (replicas drop what they already have).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Gathered {
    pub entries: Vec<Vec<u8>>,
    pub snapshot: Option<Vec<u8>>,
    pub envelopes: Vec<Vec<u8>>,
    pub active_snapshot: Option<[u8; 32]>,
    pub complete: bool,
    started: bool,
}

impl Gathered {
    /// Takes one frame's content; returns whether the catch-up is now complete.
    pub fn add(
        &mut self,
        entries: Vec<Vec<u8>>,
        snapshot: Option<Vec<u8>>,
        envelopes: Vec<Vec<u8>>,
        complete: bool,
        active_snapshot: Option<[u8; 32]>,
    ) -> bool {
        if !self.started {
            let whole_log = entries
                .first()
                .and_then(|e| SignedEntry::from_bytes(e).ok())
                .is_some_and(|e| e.body.seq == 0);
            if !whole_log {
                return false;
            }
            self.started = true;
        }
        self.entries.extend(entries);
        if snapshot.is_some() {
            self.snapshot = snapshot;
        }
        self.envelopes.extend(envelopes);
        if complete {
            self.active_snapshot = active_snapshot;
            self.complete = true;
        }
        self.complete
    }

    /// One live frame of dossier `id`, taken as it is (after the catch-up); `None` when it is
    /// not a `Log` of it.
    pub fn live(id: DossierId, msg: ServerMsg) -> Option<Gathered> {
        let mut g = Gathered {
            started: true,
            ..Gathered::default()
        };
        g.add_msg(id, msg)?;
        Some(g)
    }

    /// [`Gathered::add`] for a message of dossier `id`; `None` when it is not a `Log` of it.
    pub fn add_msg(&mut self, id: DossierId, msg: ServerMsg) -> Option<bool> {
        match msg {
            ServerMsg::Log {
                dossier,
                entries,
                snapshot,
                envelopes,
                complete,
                active_snapshot,
            } if dossier == id => {
                Some(self.add(entries, snapshot, envelopes, complete, active_snapshot))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::MAX_ENVELOPE;
    use crate::protocol;

    fn genesis() -> Vec<u8> {
        let owner = crate::keys::DeviceSecret::generate();
        crate::membership::create(
            DossierId([1; 16]),
            &owner,
            &crate::keys::EpochKeys::generate(),
        )
        .unwrap()
        .to_bytes()
    }

    fn gather(frames: Vec<ServerMsg>) -> Gathered {
        let mut g = Gathered::default();
        let n = frames.len();
        for (i, f) in frames.into_iter().enumerate() {
            let bytes = protocol::encode(&f);
            let back: ServerMsg = protocol::decode(&bytes).expect("every frame is accepted");
            assert_eq!(g.add_msg(DossierId([1; 16]), back), Some(i + 1 == n));
        }
        g
    }

    #[test]
    fn a_long_catch_up_is_cut_under_the_client_limit_and_gathered_whole() {
        let id = DossierId([1; 16]);
        let mut framer = Framer::new(id);
        let mut entries: Vec<Vec<u8>> = vec![genesis()];
        entries.extend((0..3u8).map(|i| vec![i; 300]));
        // Keystroke-sized envelopes, then the largest an envelope may be, twice.
        let mut envelopes: Vec<Vec<u8>> =
            (0..40_000u32).map(|i| i.to_be_bytes().repeat(60)).collect();
        envelopes.push(vec![7; MAX_ENVELOPE]);
        envelopes.push(vec![8; MAX_ENVELOPE]);
        envelopes.push(vec![9; 10]);
        let snapshot = vec![5; MAX_ENVELOPE];
        for e in &entries {
            framer.entry(e.clone());
        }
        framer.snapshot(snapshot.clone());
        for e in &envelopes {
            framer.envelope(e.clone());
        }
        let frames = framer.finish(Some([3; 32]));
        assert!(frames.len() > 5, "{} frames", frames.len());
        for f in &frames {
            assert!(protocol::encode(f).len() <= MAX_ENVELOPE + 64 * 1024);
        }
        let g = gather(frames);
        assert_eq!(g.entries, entries);
        assert_eq!(g.snapshot, Some(snapshot));
        assert_eq!(g.envelopes, envelopes);
        assert_eq!(g.active_snapshot, Some([3; 32]));
    }

    #[test]
    fn a_short_catch_up_is_one_complete_frame_as_before() {
        let id = DossierId([1; 16]);
        let mut framer = Framer::new(id);
        framer.entry(vec![1]);
        framer.envelope(vec![2]);
        assert_eq!(
            framer.finish(None),
            vec![ServerMsg::Log {
                dossier: id,
                entries: vec![vec![1]],
                snapshot: None,
                envelopes: vec![vec![2]],
                complete: true,
                active_snapshot: None,
            }]
        );
        assert_eq!(Framer::new(id).finish(None).len(), 1);
    }

    /// A live frame of an earlier subscription, before the catch-up, is left out: the
    /// membership log's entries stay in order from the first.
    #[test]
    fn frames_before_the_catch_up_are_left_out() {
        let id = DossierId([1; 16]);
        let live = |entries: Vec<Vec<u8>>, envelopes: Vec<Vec<u8>>| ServerMsg::Log {
            dossier: id,
            entries,
            snapshot: None,
            envelopes,
            complete: false,
            active_snapshot: None,
        };
        let mut g = Gathered::default();
        assert_eq!(
            g.add_msg(id, live(vec![vec![9]], vec![vec![1]])),
            Some(false)
        );
        assert_eq!(g.add_msg(DossierId([2; 16]), live(vec![], vec![])), None);
        let mut framer = Framer::new(id);
        framer.entry(genesis());
        framer.envelope(vec![2]);
        for f in framer.finish(None) {
            g.add_msg(id, f);
        }
        assert!(g.complete);
        assert_eq!(g.entries, vec![genesis_len_check(&g.entries[0])]);
        assert_eq!(g.envelopes, vec![vec![2]]);
        let after = Gathered::live(id, live(vec![vec![9]], vec![vec![3]])).unwrap();
        assert_eq!(
            (after.entries, after.envelopes),
            (vec![vec![9]], vec![vec![3]])
        );
    }

    fn genesis_len_check(e: &[u8]) -> Vec<u8> {
        assert_eq!(SignedEntry::from_bytes(e).unwrap().body.seq, 0);
        e.to_vec()
    }
}
