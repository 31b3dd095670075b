//! Several relay nodes on one PostgreSQL database. The database is the truth: every node
//! appends to it and reads from it, and checks in its transactions what it keeps in memory
//! (`store::EnvelopeStore::append_envelopes`). What nodes tell each other is only which
//! dossiers changed — a poke, small and lossy, never data: the node that hears one reads
//! what its followers miss from the store (`hub`), and a sweep every few seconds finds what
//! a lost poke did not say. Presence, which is never stored, is the one thing a poke carries.
//!
//! Pokes travel by PostgreSQL's NOTIFY, sent after the commit on a connection of their own:
//! NOTIFY inside the write transaction would serialise every commit of every node on the
//! server's notification queue, and nothing new has to run beside the database. A payload
//! is text under 8,000 bytes; LISTEN needs a session of its own (not through a
//! transaction-pooling proxy). Another transport (NATS core, say) would implement
//! [`PokeSender`] and call `Relay::poked` / `Relay::sweep` the same way.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use ::postgres::fallible_iterator::FallibleIterator;
use livret_shared::envelope::DossierId;

use crate::hub::Relay;
use crate::store::StoreError;

/// What a node tells the others it changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Poke {
    /// Envelopes were appended to the dossier.
    Envelopes(DossierId),
    /// The dossier was made, or its members changed.
    Members(DossierId),
    /// A presence message for the dossier's followers (never stored: carried whole).
    Presence(DossierId, Vec<u8>),
}

/// How a node tells the others: best effort, never waited for (called from the appender
/// and from connections' tasks alike).
pub trait PokeSender: Send + Sync {
    fn send(&self, poke: Poke);
}

/// The NOTIFY channel.
const CHANNEL: &str = "livret_pokes";

/// What the server's activity views call the connections that listen to pokes and send
/// them.
pub const LISTENER_NAME: &str = "livret-pokes-in";
pub const SENDER_NAME: &str = "livret-pokes-out";

/// A NOTIFY payload stays under this (PostgreSQL refuses 8,000 bytes and more).
const MAX_PAYLOAD: usize = 7_900;

/// How often a node checks its followed dossiers against the store, for lost pokes.
pub const SWEEP_EVERY: Duration = Duration::from_secs(2);

/// The payloads that carry `pokes` from `node`, each under `max` bytes: the node's id,
/// then one word per poke — `e` or `m` and the dossier's id, or `p`, the dossier's id, `:`
/// and the presence message — in hex. A presence message too long for one payload is
/// dropped (the relay refuses those past `MAX_PRESENCE`, far shorter).
pub fn encode(node: u64, pokes: &[Poke], max: usize) -> Vec<String> {
    let head = format!("{node:016x}");
    let mut payloads = Vec::new();
    let mut current = head.clone();
    for poke in pokes {
        let word = match poke {
            Poke::Envelopes(d) => format!("e{}", hex::encode(d.0)),
            Poke::Members(d) => format!("m{}", hex::encode(d.0)),
            Poke::Presence(d, envelope) => {
                format!("p{}:{}", hex::encode(d.0), hex::encode(envelope))
            }
        };
        if head.len() + 1 + word.len() > max {
            continue;
        }
        if current.len() + 1 + word.len() > max {
            payloads.push(std::mem::replace(&mut current, head.clone()));
        }
        current.push(' ');
        current.push_str(&word);
    }
    if current.len() > head.len() {
        payloads.push(current);
    }
    payloads
}

/// The node and pokes a payload carries; `None` when it is not one (anything on the
/// channel is read as hostile: a word that does not parse is skipped).
pub fn decode(payload: &str) -> Option<(u64, Vec<Poke>)> {
    let mut words = payload.split(' ');
    let node = u64::from_str_radix(words.next()?, 16).ok()?;
    let id = |hex: &str| -> Option<DossierId> {
        let bytes: [u8; 16] = hex::decode(hex).ok()?.try_into().ok()?;
        Some(DossierId(bytes))
    };
    let pokes = words
        .filter_map(|word| {
            let (kind, rest) = word.split_at_checked(1)?;
            match kind {
                "e" => Some(Poke::Envelopes(id(rest)?)),
                "m" => Some(Poke::Members(id(rest)?)),
                "p" => {
                    let (dossier, envelope) = rest.split_once(':')?;
                    let envelope = hex::decode(envelope).ok()?;
                    (envelope.len() <= livret_shared::presence::MAX_PRESENCE)
                        .then_some(Poke::Presence(id(dossier)?, envelope))
                }
                _ => None,
            }
        })
        .collect();
    Some((node, pokes))
}

/// Pokes by PostgreSQL's NOTIFY and LISTEN, for a relay node on the database at a URL.
pub struct PgPokes {
    queue: Mutex<Sender<Poke>>,
}

impl PokeSender for PgPokes {
    fn send(&self, poke: Poke) {
        let _ = self.queue.lock().expect("poke queue").send(poke);
    }
}

impl PgPokes {
    /// Joins `relay` to the other nodes on the database at `url`: a thread sends its pokes,
    /// another listens to theirs and sweeps. Both connect before this returns (a database
    /// that cannot be reached is said at start), and again by themselves when the
    /// connection is lost; they stop once the relay is gone.
    pub fn join(url: &str, relay: &Arc<Relay>) -> Result<(), StoreError> {
        let mut node = [0u8; 8];
        getrandom::fill(&mut node).expect("random source");
        let node = u64::from_be_bytes(node);
        // Named apart from the store's sessions in the server's views (and by tests).
        let mut listening = crate::store::PgStore::config(url)?;
        let mut sending = listening.clone();
        listening.application_name(LISTENER_NAME);
        sending.application_name(SENDER_NAME);
        let mut listener = listening.connect(::postgres::NoTls)?;
        listener.batch_execute(&format!("LISTEN {CHANNEL}"))?;
        let sender = sending.connect(::postgres::NoTls)?;
        let (tx, rx) = channel();
        relay.join_cluster(Arc::new(PgPokes {
            queue: Mutex::new(tx),
        }));
        let weak = Arc::downgrade(relay);
        std::thread::Builder::new()
            .name("livret-pokes-out".into())
            .spawn(move || send_pokes(sending, sender, node, rx))
            .map_err(|e| StoreError::Task(e.to_string()))?;
        std::thread::Builder::new()
            .name("livret-pokes-in".into())
            .spawn(move || listen(listening, listener, node, weak))
            .map_err(|e| StoreError::Task(e.to_string()))?;
        Ok(())
    }
}

/// Sends what is queued, a burst in as few NOTIFYs as fit; a poke that cannot be sent is
/// dropped (the others' sweep finds what it said). Ends when the relay is gone.
fn send_pokes(
    config: ::postgres::Config,
    client: ::postgres::Client,
    node: u64,
    rx: Receiver<Poke>,
) {
    let mut client = Some(client);
    while let Ok(first) = rx.recv() {
        let mut pokes = vec![first];
        pokes.extend(rx.try_iter().take(4096));
        pokes.dedup();
        let conn = match client.take().filter(|c| !c.is_closed()) {
            Some(c) => Some(c),
            None => config.connect(::postgres::NoTls).ok(),
        };
        let Some(mut conn) = conn else { continue };
        let mut sent = true;
        for payload in encode(node, &pokes, MAX_PAYLOAD) {
            if let Err(e) = conn.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &payload]) {
                tracing::warn!(error = %e, "pokes to the other relay nodes not sent");
                sent = false;
                break;
            }
        }
        if sent || !conn.is_closed() {
            client = Some(conn);
        }
    }
}

/// Hears the other nodes' pokes and hands them to the relay, sweeping every
/// [`SWEEP_EVERY`]; after its connection was lost (pokes may have been missed meanwhile)
/// it connects again and sweeps the membership too. Ends when the relay is gone.
fn listen(config: ::postgres::Config, client: ::postgres::Client, node: u64, relay: Weak<Relay>) {
    let mut client = Some(client);
    let mut last_sweep = Instant::now();
    loop {
        let Some(mut conn) = client.take() else {
            std::thread::sleep(Duration::from_millis(500));
            let Some(relay) = relay.upgrade() else { return };
            let connected = config
                .connect(::postgres::NoTls)
                .and_then(|mut c| c.batch_execute(&format!("LISTEN {CHANNEL}")).map(|()| c));
            match connected {
                Ok(c) => {
                    client = Some(c);
                    relay.sweep(true);
                    last_sweep = Instant::now();
                }
                Err(e) => tracing::warn!(error = %e, "relay nodes' pokes: not connected"),
            }
            continue;
        };
        let mut heard = Vec::new();
        let first = {
            let mut notifications = conn.notifications();
            let mut waiting = notifications.timeout_iter(Duration::from_millis(250));
            waiting.next()
        };
        if let Ok(Some(first)) = first {
            heard.push(first);
            // What came with it, without waiting.
            let mut notifications = conn.notifications();
            let mut buffered = notifications.iter();
            while let Ok(Some(more)) = buffered.next() {
                heard.push(more);
                if heard.len() >= 4096 {
                    break;
                }
            }
        }
        let Some(live) = relay.upgrade() else { return };
        let pokes: Vec<Poke> = heard
            .iter()
            .filter_map(|n| decode(n.payload()))
            .filter(|(from, _)| *from != node)
            .flat_map(|(_, pokes)| pokes)
            .collect();
        if !pokes.is_empty() {
            live.poked(pokes);
        }
        if last_sweep.elapsed() >= SWEEP_EVERY {
            live.sweep(false);
            last_sweep = Instant::now();
        }
        if conn.is_closed() {
            tracing::warn!("relay nodes' pokes: connection lost, connecting again");
        } else {
            client = Some(conn);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pokes_come_back_as_they_were_sent_in_payloads_under_the_limit() {
        let mut pokes: Vec<Poke> = (0..400u16)
            .map(|i| {
                let mut id = [0u8; 16];
                id[..2].copy_from_slice(&i.to_be_bytes());
                match i % 3 {
                    0 => Poke::Envelopes(DossierId(id)),
                    1 => Poke::Members(DossierId(id)),
                    _ => Poke::Presence(DossierId(id), vec![i as u8; 300]),
                }
            })
            .collect();
        let payloads = encode(0xfeed, &pokes, MAX_PAYLOAD);
        assert!(payloads.len() > 1, "more than one payload's worth");
        assert!(payloads.iter().all(|p| p.len() <= MAX_PAYLOAD));
        let mut back = Vec::new();
        for p in &payloads {
            let (node, some) = decode(p).expect("a payload");
            assert_eq!(node, 0xfeed);
            back.extend(some);
        }
        assert_eq!(back, pokes);
        // A presence message too long for any payload is dropped, not split.
        pokes.push(Poke::Presence(DossierId([1; 16]), vec![0; MAX_PAYLOAD]));
        let mut back = Vec::new();
        for p in encode(1, &pokes, MAX_PAYLOAD) {
            back.extend(decode(&p).unwrap().1);
        }
        assert_eq!(back.len(), pokes.len() - 1);
    }

    #[test]
    fn what_is_not_a_poke_is_skipped() {
        assert_eq!(decode(""), None);
        assert_eq!(decode("not-hex e00"), None);
        let (node, pokes) = decode(&format!(
            "00000000000000ff e{} x{} m12 p{}:zz eé p{}:{}",
            "ab".repeat(16),
            "ab".repeat(16),
            "ab".repeat(16),
            "cd".repeat(16),
            "00".repeat(livret_shared::presence::MAX_PRESENCE + 1),
        ))
        .unwrap();
        assert_eq!(node, 255);
        assert_eq!(pokes, vec![Poke::Envelopes(DossierId([0xab; 16]))]);
    }
}
