//! Nothing acknowledged is lost when the relay dies under load: several dossiers, several
//! writers each on a connection of their own, pushing at once while the relay fans their
//! envelopes out to each other; `kill -9` in the middle of it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use livret_shared::catchup::Gathered;
use livret_shared::envelope::{DossierId, Envelope, random_nonce};
use livret_shared::keys::{DeviceSecret, EpochKeys};
use livret_shared::membership::{Role, SignedEntry};
use livret_shared::protocol::{ClientMsg, ServerMsg};
use livret_shared::sync::Replica;

use crate::support::Relay;
use crate::sync::Raw;

pub(crate) const DOSSIERS: usize = 3;
pub(crate) const WRITERS: usize = 3;
pub(crate) const BURST: usize = 150;

/// One writer: its keys and the envelopes it seals before the burst (each appends "·i" to
/// its own fiche, so a reader can tell which ones it holds).
pub(crate) struct Writer {
    pub(crate) secret: DeviceSecret,
    /// Envelopes stored before the burst (the owner's layout of the fiches).
    pub(crate) before: u64,
    pub(crate) sealed: Vec<Vec<u8>>,
}

pub(crate) struct Dossier {
    pub(crate) id: DossierId,
    pub(crate) log: Vec<SignedEntry>,
    /// The owner's layout of one fiche per writer, which every writer starts from.
    pub(crate) layout: Vec<u8>,
    pub(crate) writers: Vec<Writer>,
}

pub(crate) fn prepare() -> Dossier {
    let owner = DeviceSecret::generate();
    let key = EpochKeys::generate();
    let id = DossierId::generate();
    let (mut owner_replica, genesis) = Replica::create(&owner, id, key.duplicate()).unwrap();
    let mut log = vec![genesis];
    let mut secrets = vec![owner];
    for _ in 1..WRITERS {
        let advisor = DeviceSecret::generate();
        let entry = owner_replica
            .add_member(&secrets[0], &advisor.id(), Role::Advisor)
            .unwrap();
        log.push(entry);
        secrets.push(advisor);
    }
    for w in 0..WRITERS {
        let field = format!("fiches.{w}.taches");
        owner_replica.dossier().set(&field, "").unwrap();
    }
    let layout = owner_replica
        .flush(&secrets[0], random_nonce())
        .unwrap()
        .unwrap();
    owner_replica.acknowledged(1);
    let mut owner_replica = Some(owner_replica);
    let writers = secrets
        .into_iter()
        .enumerate()
        .map(|(w, secret)| {
            let before = u64::from(owner_replica.is_some());
            let mut replica = owner_replica.take().unwrap_or_else(|| {
                let mut r = Replica::join(&secret, log.clone()).unwrap();
                r.receive(std::slice::from_ref(&layout)).unwrap();
                r
            });
            let field = format!("fiches.{w}.taches");
            let mut text = String::new();
            let sealed = (0..BURST)
                .map(|i| {
                    text.push_str(&format!("·{i}"));
                    replica.dossier().set(&field, &text).unwrap();
                    replica.flush(&secret, random_nonce()).unwrap().unwrap()
                })
                .collect();
            Writer {
                secret,
                before,
                sealed,
            }
        })
        .collect();
    Dossier {
        id,
        log,
        layout,
        writers,
    }
}

/// Creates `d` on the relay behind `raw` (its owner's connection), adds its members and
/// stores the owner's layout.
pub(crate) fn register(raw: &mut Raw, d: &Dossier) {
    raw.send(&ClientMsg::Create {
        entry: d.log[0].to_bytes(),
    });
    assert!(matches!(raw.recv(), ServerMsg::MembershipOk { .. }));
    for e in &d.log[1..] {
        raw.send(&ClientMsg::Membership {
            dossier: d.id,
            entry: e.to_bytes(),
        });
        assert!(matches!(raw.recv(), ServerMsg::MembershipOk { .. }));
    }
    assert!(matches!(raw.push(&d.layout), ServerMsg::Ack { .. }));
}

/// Pushes every envelope back to back on a connection subscribed to the dossier (so the
/// relay fans out to it too), then reads until every acknowledgement came or the relay
/// died; returns the highest counter acknowledged.
fn burst(raw: Raw, writer: &Writer, acked_total: &AtomicUsize) -> u64 {
    let mut ws = raw.into_socket();
    let last = writer.before + writer.sealed.len() as u64;
    for envelope in &writer.sealed {
        let frame = livret_shared::protocol::encode(&ClientMsg::Push {
            envelope: envelope.clone(),
        });
        if ws.send(tungstenite::Message::Binary(frame.into())).is_err() {
            break;
        }
    }
    let mut acked = writer.before;
    while acked < last {
        let Ok(message) = crate::support::read_message(&mut ws) else {
            break; // the relay is gone
        };
        let tungstenite::Message::Binary(bytes) = message else {
            continue;
        };
        match livret_shared::protocol::decode::<ServerMsg>(&bytes) {
            Some(ServerMsg::Ack { counter, .. }) => {
                assert!(counter > acked, "acknowledgements come in order");
                acked = counter;
                acked_total.fetch_add(1, Ordering::Relaxed);
            }
            Some(ServerMsg::Rejected { reason, detail }) => {
                panic!("refused: {} ({detail})", reason.as_str())
            }
            _ => {}
        }
    }
    acked
}

/// A whole catch-up of `id`, gathered from its frames.
pub(crate) fn catch_up(raw: &mut Raw, id: DossierId) -> Gathered {
    raw.send(&ClientMsg::Subscribe {
        dossier: id,
        since: Vec::new(),
    });
    let mut gathered = Gathered::default();
    while gathered.add_msg(id, raw.recv()) != Some(true) {}
    gathered
}

#[test]
fn nothing_acknowledged_is_lost_when_the_relay_is_killed_under_load() {
    let relay = Relay::start();
    let dossiers: Vec<Dossier> = (0..DOSSIERS).map(|_| prepare()).collect();
    for d in &dossiers {
        let mut raw = Raw::connect(&relay, &d.writers[0].secret);
        register(&mut raw, d);
    }

    // Every writer connected and subscribed before the burst starts.
    let mut connections = Vec::new();
    for d in &dossiers {
        for w in &d.writers {
            let mut raw = Raw::connect(&relay, &w.secret);
            let caught = catch_up(&mut raw, d.id);
            assert_eq!(caught.envelopes, vec![d.layout.clone()]);
            connections.push(raw);
        }
    }
    let total = DOSSIERS * WRITERS * BURST;
    let acked_total = AtomicUsize::new(0);
    let pid = relay.pid();
    let acked: Vec<u64> = std::thread::scope(|scope| {
        let writers = dossiers.iter().flat_map(|d| &d.writers);
        let handles: Vec<_> = connections
            .into_iter()
            .zip(writers)
            .map(|(raw, writer)| scope.spawn(|| burst(raw, writer, &acked_total)))
            .collect();
        // Killed once a third is acknowledged: the rest is in flight, on the way in or out.
        let deadline = Instant::now() + Duration::from_secs(120);
        while acked_total.load(Ordering::Relaxed) < total / 3 {
            assert!(Instant::now() < deadline, "the burst never got going");
            std::thread::sleep(Duration::from_millis(2));
        }
        // SAFETY: a signal to the relay's process, which this test started.
        let killed = unsafe { libc::kill(pid as i32, libc::SIGKILL) };
        assert_eq!(killed, 0, "the relay was killed");
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let before: usize = dossiers
        .iter()
        .flat_map(|d| &d.writers)
        .map(|w| w.before as usize)
        .sum();
    let acknowledged = acked.iter().map(|a| *a as usize).sum::<usize>() - before;
    assert!(
        acknowledged < total,
        "the relay died mid-burst ({acknowledged} of {total} acknowledged)"
    );

    let relay = Relay::start_in(relay.kill_hard());
    let mut acked = acked.into_iter();
    for d in &dossiers {
        let mut raw = Raw::connect(&relay, &d.writers[0].secret);
        let caught = catch_up(&mut raw, d.id);
        // Per writer: stored counters are 1..=n without a gap, n at least what was acknowledged.
        let mut stored = vec![Vec::new(); WRITERS];
        for bytes in &caught.envelopes {
            let writer = Envelope::parse(bytes).unwrap().header.writer;
            let w = d
                .writers
                .iter()
                .position(|x| x.secret.signing_public() == writer)
                .expect("a writer of the dossier");
            stored[w].push(Envelope::parse(bytes).unwrap().header.counter);
        }
        let mut acknowledged_here = Vec::new();
        for (w, counters) in stored.iter().enumerate() {
            let acked = acked.next().unwrap();
            assert_eq!(
                *counters,
                (1..=counters.len() as u64).collect::<Vec<_>>(),
                "no gaps"
            );
            assert!(
                counters.len() as u64 >= acked,
                "writer {w}: {} stored, {acked} acknowledged",
                counters.len()
            );
            acknowledged_here.push(acked);
        }

        // A new device of the owner opens the dossier with every acknowledged edit in it.
        let owner = &d.writers[0].secret;
        let log = caught
            .entries
            .iter()
            .map(|b| SignedEntry::from_bytes(b).unwrap())
            .collect();
        let mut fresh = Replica::join(owner, log).unwrap();
        let received = fresh
            .apply_log(owner, &[], None, &caught.envelopes, caught.active_snapshot)
            .unwrap();
        assert!(
            received.quarantined.is_empty(),
            "{:?}",
            received.quarantined
        );
        for (w, acked) in acknowledged_here.iter().enumerate() {
            let text = fresh
                .dossier()
                .get(&format!("fiches.{w}.taches"))
                .unwrap_or_default();
            let burst_acked = acked - d.writers[w].before;
            if burst_acked > 0 {
                assert!(
                    text.contains(&format!("·{}", burst_acked - 1)),
                    "writer {w}'s acknowledged edit {} is missing from {text:?}",
                    burst_acked - 1
                );
            }
        }

        // What was not stored goes again and is taken in order.
        for (w, writer) in d.writers.iter().enumerate() {
            let mut raw = Raw::connect(&relay, &writer.secret);
            let burst_stored = stored[w].len() - writer.before as usize;
            for bytes in &writer.sealed[burst_stored..] {
                assert!(matches!(raw.push(bytes), ServerMsg::Ack { .. }));
            }
        }
    }
}
