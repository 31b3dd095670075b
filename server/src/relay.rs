//! The relay: authenticates devices by their signing key, checks every envelope against the
//! dossier's membership (the same rules as the in-memory harness, from `livret-shared`),
//! stores it durably, acknowledges, and fans it out to the dossier's connected members.
//!
//! One appender thread owns the write path. It takes whatever is queued, checks it in order
//! and commits it in one transaction (group commit), so acknowledgements stay durable without
//! one fsync per envelope. Signature checks happen before, in the connections' tasks.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::IntoResponse;
use futures_util::{FutureExt, SinkExt};
use livret_shared::envelope::{Channel, DossierId, Envelope, Header, Kind, MAX_ENVELOPE};
use livret_shared::evidence;
use livret_shared::keys;
use livret_shared::membership::{Membership, Op, SignedEntry};
use livret_shared::protocol::{self, Accept, ClientMsg, Origin, Rejection, ServerMsg};
use tokio::sync::{mpsc, oneshot};

use crate::store::{NewEnvelope, Store, StoreError, StoredSnapshot};
use livret_shared::ratelimit::TokenBucket;

// ---- Limits on one connection (issue 19, item 13) ----

/// Bytes of frames waiting for one connection's socket (acknowledgements, fan-out). Past
/// this the device is not reading: it is disconnected and catches up when it reconnects
/// (nothing is lost, the store is the truth), instead of pinning every fan-out frame. Well
/// above one fan-out frame (`MAX_FAN_OUT_FRAME`) and a burst of acknowledgements.
const MAX_QUEUED_BYTES: usize = 16 * 1024 * 1024;

/// A connection must prove its device (`Login`) within this, or it is closed.
const LOGIN_DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);

/// Writing queued frames to a socket may take this long; a peer that takes no bytes for
/// that long is disconnected (its queue otherwise stays pinned).
const WRITE_DEADLINE: std::time::Duration = std::time::Duration::from_secs(30);

/// What each WebSocket buffers for reading and before writing (tungstenite's default is
/// 128 KiB each). With 200 devices connected those two buffers were most of the relay's
/// heap (heaptrack, under `benches/soak.rs`); 16 KiB still holds several envelopes, and a
/// connection's queue is written in one flush anyway.
const SOCKET_BUFFER: usize = 16 * 1024;

/// Frames queued for one connection, already encoded (shared between subscribers), with
/// the bytes they hold counted against [`MAX_QUEUED_BYTES`].
#[derive(Clone)]
struct Outgoing {
    tx: mpsc::UnboundedSender<Bytes>,
    queued: Arc<std::sync::atomic::AtomicUsize>,
}

/// The connection is closed, or its queue is full (it is being closed).
struct NotQueued;

impl Outgoing {
    fn new() -> (Outgoing, mpsc::UnboundedReceiver<Bytes>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let queued = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        (Outgoing { tx, queued }, rx)
    }

    fn send(&self, frame: Bytes) -> Result<(), NotQueued> {
        let len = frame.len();
        if self.queued.fetch_add(len, Ordering::Relaxed) + len > MAX_QUEUED_BYTES {
            self.queued.fetch_sub(len, Ordering::Relaxed);
            // An empty frame (never a protocol message) tells the connection to close.
            let _ = self.tx.send(Bytes::new());
            return Err(NotQueued);
        }
        self.tx.send(frame).map_err(|_| NotQueued)
    }

    /// A frame left the queue for the socket.
    fn taken(&self, frame: &Bytes) {
        self.queued.fetch_sub(frame.len(), Ordering::Relaxed);
    }
}

tokio::task_local! {
    /// The address a connection comes from, for the quotas per address of what it asks.
    pub(crate) static PEER: std::net::IpAddr;
}

/// The address of the connection this task serves, if any.
pub(crate) fn peer() -> Option<std::net::IpAddr> {
    PEER.try_with(|p| *p).ok()
}

/// Counts one against a daily quota (`limits`), or the refusal to send, counted under
/// `what` in the metrics.
pub(crate) fn within_quota(
    relay: &Relay,
    quota: &crate::limits::DailyQuota,
    me: &[u8; 32],
    (per_key, per_address): (u32, u32),
    what: &'static str,
    detail: &str,
) -> Result<(), Vec<ServerMsg>> {
    let now = crate::clock::now_ms() as u64;
    quota
        .take(me, peer(), per_key, per_address, now)
        .map_err(|_| {
            relay.metrics.limit(what);
            rejected(relay, Rejection::TooLarge, detail.to_string())
        })
}

// ---- end of the limits on one connection ----

/// A connection following a dossier, with the device it logged in as (so a removed member's
/// connections stop receiving the dossier the moment the removal is stored).
struct Subscriber {
    connection: u64,
    device: [u8; 32],
    tx: Outgoing,
}

/// Presence a device may send per dossier, whatever number of connections it opens: a burst
/// (tabbing through fields), then a few a second; beyond, messages are dropped without a
/// word (presence is a courtesy, and a refusal would cost an honest app its connection).
const PRESENCE_BURST: u32 = 30;
const PRESENCE_PER_SECOND: u32 = 5;

/// A fan-out frame never grows past this many envelope bytes; more go in further frames.
const MAX_FAN_OUT_FRAME: usize = 4 * 1024 * 1024;

/// Shared by every connection.
pub struct Relay {
    pub(crate) store: Arc<dyn Store>,
    /// Sends invitations; `None` in tests that need no mail.
    pub(crate) mailer: Option<Arc<crate::mail::Mailer>>,
    appender: std::sync::mpsc::Sender<Job>,
    hub: Mutex<HashMap<DossierId, Vec<Subscriber>>>,
    /// Presence budgets by dossier and device (one entry per member who sent any).
    presence_budgets: Mutex<HashMap<(DossierId, [u8; 32]), TokenBucket>>,
    next_connection: AtomicU64,
    /// WebSocket connections open, overall and by address (see `limits`).
    pub(crate) connections: crate::limits::ConnectionSlots,
    /// Dossiers created and invitations asked, per key and per address.
    pub(crate) quotas: crate::limits::Quotas,
    pub metrics: Metrics,
    /// Where devices reach this relay: what their login signs ([`Relay::set_origins`]).
    origins: std::sync::OnceLock<Vec<Origin>>,
    /// Catch-ups read at once ([`CATCH_UPS_AT_ONCE`]); the others wait their turn.
    catch_ups: tokio::sync::Semaphore,
}

/// Catch-ups read from the store at once. They take turns on the store's one read
/// connection anyway; without a bound, 200 devices coming back together held up to 200
/// blocking threads, each waiting for it (the others now wait as tasks, without a thread).
const CATCH_UPS_AT_ONCE: usize = 2;

#[derive(Default)]
pub struct Metrics {
    pub accepted: AtomicU64,
    pub duplicates: AtomicU64,
    /// Presence messages over a connection's budget, dropped.
    pub presence_dropped: AtomicU64,
    rejected: Mutex<BTreeMap<&'static str, u64>>,
    /// Requests and connections stopped by one of the relay's limits, by limit.
    limited: Mutex<BTreeMap<&'static str, u64>>,
}

impl Metrics {
    fn reject(&self, r: Rejection) {
        *self
            .rejected
            .lock()
            .expect("metrics lock")
            .entry(r.as_str())
            .or_default() += 1;
    }

    /// Counts a request or connection stopped by the limit named `what`.
    pub fn limit(&self, what: &'static str) {
        *self
            .limited
            .lock()
            .expect("metrics lock")
            .entry(what)
            .or_default() += 1;
    }

    pub fn snapshot(&self) -> serde_json::Value {
        serde_json::json!({
            "accepted": self.accepted.load(Ordering::Relaxed),
            "duplicates": self.duplicates.load(Ordering::Relaxed),
            "presence_dropped": self.presence_dropped.load(Ordering::Relaxed),
            "rejected": *self.rejected.lock().expect("metrics lock"),
            "limited": *self.limited.lock().expect("metrics lock"),
        })
    }
}

enum Job {
    /// Answered on the connection's own queue, so a client may pipeline its pushes.
    Envelope {
        header: Header,
        bytes: Vec<u8>,
        from: u64,
        reply: Outgoing,
    },
    /// An answer decided before the appender (a push refused at the door), queued behind
    /// the same connection's earlier pushes.
    Answer { message: ServerMsg, reply: Outgoing },
    Create {
        dossier: DossierId,
        entry: Vec<u8>,
        author: [u8; 32],
        reply: oneshot::Sender<Result<(), Rejection>>,
    },
    Membership {
        dossier: DossierId,
        entry: Vec<u8>,
        author: [u8; 32],
        from: u64,
        reply: oneshot::Sender<Result<u64, Rejection>>,
    },
    Snapshot {
        header: Header,
        bytes: Vec<u8>,
        covers: BTreeMap<[u8; 32], u64>,
        reply: oneshot::Sender<Result<[u8; 32], Rejection>>,
    },
}

impl Relay {
    pub fn new(store: Arc<dyn Store>, mailer: Option<Arc<crate::mail::Mailer>>) -> Arc<Relay> {
        let (tx, rx) = std::sync::mpsc::channel();
        let relay = Arc::new(Relay {
            store,
            mailer,
            appender: tx,
            hub: Mutex::new(HashMap::new()),
            presence_budgets: Mutex::new(HashMap::new()),
            next_connection: AtomicU64::new(1),
            connections: crate::limits::ConnectionSlots::default(),
            quotas: crate::limits::Quotas::default(),
            metrics: Metrics::default(),
            origins: std::sync::OnceLock::new(),
            catch_ups: tokio::sync::Semaphore::new(CATCH_UPS_AT_ONCE),
        });
        match relay
            .store
            .purge(crate::clock::now_seconds() - PRUNE_GRACE_SECONDS)
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(count = n, "purged envelopes past their grace period"),
            Err(e) => tracing::warn!("purge failed: {e}"),
        }
        let weak = Arc::downgrade(&relay);
        std::thread::Builder::new()
            .name("livret-appender".into())
            .spawn(move || appender(weak, rx))
            .expect("appender thread starts");
        relay
    }

    fn fan_out(&self, dossier: &DossierId, except: u64, frame: Bytes) {
        let mut hub = self.hub.lock().expect("hub lock");
        if let Some(subs) = hub.get_mut(dossier) {
            subs.retain(|s| s.connection == except || s.tx.send(frame.clone()).is_ok());
        }
    }

    /// Sends a committed batch's envelopes for one dossier to its subscribers, each getting
    /// what it did not write itself, in as few frames as the size cap allows.
    fn fan_out_batch(&self, dossier: &DossierId, envelopes: &[(u64, &[u8])]) {
        let mut hub = self.hub.lock().expect("hub lock");
        let Some(subs) = hub.get_mut(dossier) else {
            return;
        };
        // Most subscribers wrote nothing in this batch: they share one encoding of it all.
        let mut everything: Option<Vec<Bytes>> = None;
        subs.retain(|s| {
            let id = s.connection;
            let frames = if envelopes.iter().any(|(from, _)| *from == id) {
                let others: Vec<&[u8]> = envelopes
                    .iter()
                    .filter(|(from, _)| *from != id)
                    .map(|(_, b)| *b)
                    .collect();
                log_frames(dossier, &others)
            } else {
                everything
                    .get_or_insert_with(|| {
                        let all: Vec<&[u8]> = envelopes.iter().map(|(_, b)| *b).collect();
                        log_frames(dossier, &all)
                    })
                    .clone()
            };
            frames.into_iter().all(|f| s.tx.send(f).is_ok())
        });
    }

    fn subscribe(&self, dossier: DossierId, connection: u64, device: [u8; 32], tx: Outgoing) {
        let mut hub = self.hub.lock().expect("hub lock");
        let subs = hub.entry(dossier).or_default();
        if !subs.iter().any(|s| s.connection == connection) {
            subs.push(Subscriber {
                connection,
                device,
                tx,
            });
        }
    }

    /// Passes a presence message on to the other connections following its dossier, without
    /// storing or logging it. The sender must have signed it and follow the dossier itself
    /// (which proved membership, and ends with a removal); the receivers check the rest.
    fn forward_presence(
        &self,
        connection: u64,
        device: &keys::Verifier,
        envelope: Vec<u8>,
    ) -> Vec<ServerMsg> {
        if envelope.len() > livret_shared::presence::MAX_PRESENCE {
            return rejected(self, Rejection::TooLarge, "présence trop longue");
        }
        let env = match protocol::parse_and_verify_from(&envelope, device) {
            Ok(env) if env.header.kind == Kind::Presence => env,
            Ok(_) => return rejected(self, Rejection::Malformed, "pas un message de présence"),
            Err(r) => return rejected(self, r, "présence refusée"),
        };
        let dossier = env.header.dossier;
        let following = self
            .hub
            .lock()
            .expect("hub lock")
            .get(&dossier)
            .is_some_and(|subs| subs.iter().any(|s| s.connection == connection));
        if !following {
            return rejected(
                self,
                Rejection::Forbidden,
                "dossier non suivi par cette connexion",
            );
        }
        let now = crate::clock::now_ms() as u64;
        let allowed = self
            .presence_budgets
            .lock()
            .expect("budgets lock")
            .entry((dossier, *device.signer()))
            .or_insert_with(|| TokenBucket::new(PRESENCE_BURST, PRESENCE_PER_SECOND, now))
            .take(now);
        if !allowed {
            self.metrics
                .presence_dropped
                .fetch_add(1, Ordering::Relaxed);
            return Vec::new();
        }
        let frame = protocol::encode(&ServerMsg::Presence { envelope });
        self.fan_out(&dossier, connection, Bytes::from(frame));
        Vec::new()
    }

    /// Stops following `dossier` for every connection whose device is no longer a member.
    fn keep_members_only(&self, dossier: &DossierId, members: &Membership) {
        let mut hub = self.hub.lock().expect("hub lock");
        if let Some(subs) = hub.get_mut(dossier) {
            subs.retain(|s| members.role_of(&s.device).is_some());
        }
    }

    fn unsubscribe(&self, dossier: &DossierId, connection: u64) {
        let mut hub = self.hub.lock().expect("hub lock");
        if let Some(subs) = hub.get_mut(dossier) {
            subs.retain(|s| s.connection != connection);
        }
    }

    fn unsubscribe_all(&self, connection: u64) {
        let mut hub = self.hub.lock().expect("hub lock");
        for subs in hub.values_mut() {
            subs.retain(|s| s.connection != connection);
        }
        hub.retain(|_, subs| !subs.is_empty());
    }
}

/// `Log` frames carrying `envelopes` (none if empty), split so no frame passes the cap.
fn log_frames(dossier: &DossierId, envelopes: &[&[u8]]) -> Vec<Bytes> {
    let mut frames = Vec::new();
    let mut start = 0;
    while start < envelopes.len() {
        let mut end = start;
        let mut size = 0;
        while end < envelopes.len()
            && (end == start || size + envelopes[end].len() <= MAX_FAN_OUT_FRAME)
        {
            size += envelopes[end].len();
            end += 1;
        }
        frames.push(Bytes::from(protocol::encode(&ServerMsg::Log {
            dossier: *dossier,
            entries: Vec::new(),
            snapshot: None,
            envelopes: envelopes[start..end].iter().map(|b| b.to_vec()).collect(),
            complete: false,
            active_snapshot: None,
        })));
        start = end;
    }
    frames
}

/// An envelope's answer, sent once its batch is committed: where to, the verdict, and (when
/// appended) its place in the batch and the connection it came from, for the fan-out.
enum Reply {
    Push {
        to: Outgoing,
        header: Header,
        result: Result<Accept, Rejection>,
        appended: Option<(usize, u64)>,
    },
    Ready(Outgoing, ServerMsg),
}

/// State the appender keeps between jobs: folded memberships and last counters.
#[derive(Default)]
struct AppendState {
    memberships: HashMap<DossierId, Option<Membership>>,
    last: HashMap<(DossierId, [u8; 32]), u64>,
}

pub(crate) fn load_membership(store: &dyn Store, dossier: &DossierId) -> Option<Membership> {
    fold_log(&store.membership_log(dossier).ok()?)
}

/// The refusal of a subscription by a device that is not a member. One that was, and was
/// removed (while offline, say), first gets the log up to and including its removal, so
/// that it learns it was removed rather than only being refused. Nothing after the removal
/// (who came in later is none of its business), and nothing for a device that never
/// belonged.
fn refuse_non_member(
    relay: &Relay,
    dossier: DossierId,
    log: &[Vec<u8>],
    device: &[u8; 32],
) -> Vec<ServerMsg> {
    // The last removal: a device removed, added back and removed again learns of the last.
    let removal = log.iter().rposition(|b| {
        SignedEntry::from_bytes(b)
            .is_ok_and(|e| matches!(e.body.op, Op::Remove { signing } if signing == *device))
    });
    let mut answer: Vec<ServerMsg> = removal
        .map(|at| ServerMsg::Log {
            dossier,
            entries: log[..=at].to_vec(),
            snapshot: None,
            envelopes: Vec::new(),
            complete: true,
            active_snapshot: None,
        })
        .into_iter()
        .collect();
    answer.extend(rejected(
        relay,
        Rejection::Forbidden,
        "cet appareil n'est pas membre du dossier",
    ));
    answer
}

/// A stored membership log (entries as bytes) folded; `None` when empty or invalid.
fn fold_log(log: &[Vec<u8>]) -> Option<Membership> {
    let entries: Vec<SignedEntry> = log
        .iter()
        .filter_map(|b| SignedEntry::from_bytes(b).ok())
        .collect();
    if entries.is_empty() {
        return None;
    }
    Membership::from_log(&entries).ok()
}

fn appender(relay: std::sync::Weak<Relay>, jobs: std::sync::mpsc::Receiver<Job>) {
    let mut state = AppendState::default();
    while let Ok(first) = jobs.recv() {
        let Some(relay) = relay.upgrade() else { return };
        let store = relay.store.clone();
        let mut batch = vec![first];
        while batch.len() < 512 {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        // Check envelopes in order against the state as this batch changes it.
        let mut to_store: Vec<NewEnvelope> = Vec::new();
        let mut replies: Vec<Reply> = Vec::new();
        let mut pending: HashMap<(DossierId, [u8; 32], u64), usize> = HashMap::new();
        let mut snapshots = Vec::new();
        for job in batch {
            match job {
                Job::Envelope {
                    header,
                    bytes,
                    from,
                    reply,
                } => {
                    let key = (header.dossier, header.writer);
                    let membership = state
                        .memberships
                        .entry(header.dossier)
                        .or_insert_with(|| load_membership(store.as_ref(), &header.dossier));
                    let last = *state.last.entry(key).or_insert_with(|| {
                        store
                            .last_counter(&header.dossier, &header.writer)
                            .unwrap_or(0)
                    });
                    let stored = if header.counter <= last {
                        match pending.get(&(header.dossier, header.writer, header.counter)) {
                            Some(i) => Some(to_store[*i].bytes.clone()),
                            None => store
                                .envelope_at(&header.dossier, &header.writer, header.counter)
                                .ok()
                                .flatten(),
                        }
                    } else {
                        None
                    };
                    let result = protocol::check_header(
                        &header,
                        &bytes,
                        membership.as_ref(),
                        last,
                        stored.as_deref(),
                    );
                    let mut appended = None;
                    if result == Ok(Accept::Append) {
                        state.last.insert(key, header.counter);
                        pending.insert(
                            (header.dossier, header.writer, header.counter),
                            to_store.len(),
                        );
                        appended = Some((to_store.len(), from));
                        to_store.push(NewEnvelope {
                            dossier: header.dossier,
                            writer: header.writer,
                            counter: header.counter,
                            channel: header.channel,
                            bytes,
                        });
                    }
                    replies.push(Reply::Push {
                        to: reply,
                        header,
                        result,
                        appended,
                    });
                }
                Job::Answer { message, reply } => replies.push(Reply::Ready(reply, message)),
                Job::Snapshot {
                    header,
                    bytes,
                    covers,
                    reply,
                } => {
                    // After this batch's envelopes are committed: covers are checked
                    // against durable history.
                    snapshots.push((header, bytes, covers, reply));
                }
                Job::Create {
                    dossier,
                    entry,
                    author,
                    reply,
                } => {
                    let result = create(store.as_ref(), &mut state, dossier, &entry, author);
                    let _ = reply.send(result);
                }
                Job::Membership {
                    dossier,
                    entry,
                    author,
                    from,
                    reply,
                } => {
                    let result =
                        append_membership(store.as_ref(), &mut state, dossier, &entry, author);
                    if let Ok(seq) = result {
                        let frame = protocol::encode(&ServerMsg::Log {
                            dossier,
                            entries: vec![entry],
                            snapshot: None,
                            envelopes: Vec::new(),
                            complete: false,
                            active_snapshot: None,
                        });
                        // Everyone following hears of the change, the removed member too
                        // (so their app can say so); then they follow no more.
                        relay.fan_out(&dossier, from, Bytes::from(frame));
                        if let Some(Some(members)) = state.memberships.get(&dossier) {
                            relay.keep_members_only(&dossier, members);
                        }
                        let _ = reply.send(Ok(seq));
                    } else {
                        if result == Err(Rejection::TooLarge) {
                            relay.metrics.limit("members_per_dossier");
                        }
                        let _ = reply.send(result);
                    }
                }
            }
        }
        // One transaction for the whole batch; acknowledge only once it is committed.
        let committed = to_store.is_empty() || store.append_envelopes(&to_store).is_ok();
        if !committed {
            tracing::error!(
                count = to_store.len(),
                "commit failed; envelopes not acknowledged"
            );
            // Forget the counters this batch advanced: the writers will retry.
            for e in &to_store {
                state.last.remove(&(e.dossier, e.writer));
            }
        }
        // Answer every writer, then fan out per dossier in as few frames as possible.
        let mut fan: HashMap<DossierId, Vec<(u64, &[u8])>> = HashMap::new();
        for r in replies {
            let (to, header, result, appended) = match r {
                Reply::Ready(to, message) => {
                    let _ = to.send(Bytes::from(protocol::encode(&message)));
                    continue;
                }
                Reply::Push {
                    to,
                    header,
                    result,
                    appended,
                } => (to, header, result, appended),
            };
            let result = match result {
                Ok(Accept::Append) if !committed => Err(Rejection::Malformed),
                other => other,
            };
            let answer = match result {
                Ok(accept) => {
                    let counter = if accept == Accept::Append {
                        &relay.metrics.accepted
                    } else {
                        &relay.metrics.duplicates
                    };
                    counter.fetch_add(1, Ordering::Relaxed);
                    if let (Accept::Append, Some((i, from))) = (accept, appended) {
                        fan.entry(header.dossier)
                            .or_default()
                            .push((from, &to_store[i].bytes));
                    }
                    ServerMsg::Ack {
                        dossier: header.dossier,
                        writer: header.writer,
                        counter: header.counter,
                    }
                }
                Err(reason) => refusal(
                    &relay,
                    reason,
                    format!("enveloppe {} refusée", header.counter),
                ),
            };
            let _ = to.send(Bytes::from(protocol::encode(&answer)));
        }
        for (dossier, envelopes) in &fan {
            relay.fan_out_batch(dossier, envelopes);
        }
        for (header, bytes, covers, reply) in snapshots {
            let result = snapshot(store.as_ref(), &mut state, &header, bytes, covers);
            let _ = reply.send(result);
        }
    }
}

/// Seconds since the epoch: the relay's clock, for pruning only.
/// Envelopes a snapshot replaces stay readable this long (late clients still catch up from
/// them instead of the whole snapshot).
pub const PRUNE_GRACE_SECONDS: i64 = 7 * 24 * 3600;

fn snapshot(
    store: &dyn Store,
    state: &mut AppendState,
    header: &Header,
    bytes: Vec<u8>,
    covers: BTreeMap<[u8; 32], u64>,
) -> Result<[u8; 32], Rejection> {
    let membership = state
        .memberships
        .entry(header.dossier)
        .or_insert_with(|| load_membership(store, &header.dossier))
        .clone();
    let active = store
        .active_snapshot(&header.dossier)
        .map_err(|_| Rejection::Malformed)?
        .map_or([0; 32], |s| s.id);
    let stored = store
        .last_counters(&header.dossier)
        .map_err(|_| Rejection::Malformed)?;
    protocol::check_snapshot(header, membership.as_ref(), active, &covers, &stored)?;
    let id = livret_shared::envelope::Envelope::parse(&bytes)
        .map_err(|_| Rejection::Malformed)?
        .id();
    store
        .put_snapshot(
            &header.dossier,
            &StoredSnapshot { id, bytes, covers },
            crate::clock::now_seconds(),
        )
        .map_err(|_| Rejection::Malformed)?;
    tracing::info!(dossier = %keys::short(&header.dossier.0), "snapshot active");
    Ok(id)
}

fn create(
    store: &dyn Store,
    state: &mut AppendState,
    dossier: DossierId,
    entry: &[u8],
    author: [u8; 32],
) -> Result<(), Rejection> {
    let e = SignedEntry::from_bytes(entry).map_err(|_| Rejection::BadMembership)?;
    let m = Membership::genesis(&e).map_err(|_| Rejection::BadMembership)?;
    if m.dossier != dossier || m.owner != author {
        return Err(Rejection::BadMembership);
    }
    let members: Vec<[u8; 32]> = m.members.keys().copied().collect();
    store
        .create_dossier(&dossier, entry, &members)
        .map_err(|_| Rejection::BadMembership)?;
    state.memberships.insert(dossier, Some(m));
    Ok(())
}

fn append_membership(
    store: &dyn Store,
    state: &mut AppendState,
    dossier: DossierId,
    entry: &[u8],
    author: [u8; 32],
) -> Result<u64, Rejection> {
    let e = SignedEntry::from_bytes(entry).map_err(|_| Rejection::BadMembership)?;
    let current = state
        .memberships
        .entry(dossier)
        .or_insert_with(|| load_membership(store, &dossier))
        .clone()
        .ok_or(Rejection::UnknownDossier)?;
    if !current.is_owner(&author) {
        return Err(Rejection::Forbidden);
    }
    let mut next = current;
    next.apply(&e).map_err(|_| Rejection::BadMembership)?;
    if next.members.len() > crate::limits::MAX_MEMBERS_PER_DOSSIER {
        return Err(Rejection::TooLarge);
    }
    let members: Vec<[u8; 32]> = next.members.keys().copied().collect();
    store
        .append_membership(&dossier, e.body.seq, entry, &members)
        .map_err(|_| Rejection::BadMembership)?;
    state.memberships.insert(dossier, Some(next));
    Ok(e.body.seq)
}

impl Relay {
    /// The origins devices log in at (`livret serve --public-url`, or the loopback address
    /// listened on): a login signed for any other is refused, so a relay a device was lured
    /// to cannot pass this one's challenge on and log in here as the device. Left unset
    /// (listening on every interface with no public address given), the `Host` header of
    /// each upgrade request names it — which whoever connects chooses, so that setting does
    /// not stop such a relay in the middle.
    pub fn set_origins(&self, origins: Vec<Origin>) {
        let _ = self.origins.set(origins);
    }

    fn origins_for(&self, host: Option<&str>) -> Vec<Origin> {
        match self.origins.get() {
            Some(origins) => origins.clone(),
            None => host
                .and_then(|h| Origin::parse(&format!("http://{h}")))
                .into_iter()
                .collect(),
        }
    }
}

/// What a connection's login is checked against.
struct Challenge {
    nonce: [u8; 32],
    origins: Vec<Origin>,
}

pub async fn websocket(
    State(relay): State<Arc<Relay>>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    headers: axum::http::HeaderMap,
    upgrade: WebSocketUpgrade,
) -> axum::response::Response {
    // Counted from before the upgrade to the connection's end.
    let slot = match relay.connections.take(peer.ip()) {
        Ok(slot) => slot,
        Err(full) => {
            relay.metrics.limit(full.metric());
            tracing::info!(limit = full.metric(), "connection refused");
            return (axum::http::StatusCode::TOO_MANY_REQUESTS, full.message()).into_response();
        }
    };
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok());
    let origins = relay.origins_for(host);
    upgrade
        .max_message_size(MAX_ENVELOPE + 1024 * 1024)
        .read_buffer_size(SOCKET_BUFFER)
        .write_buffer_size(SOCKET_BUFFER)
        .on_upgrade(move |socket| async move {
            PEER.scope(peer.ip(), connection(relay, socket, origins))
                .await;
            drop(slot);
        })
        .into_response()
}

async fn connection(relay: Arc<Relay>, mut socket: WebSocket, origins: Vec<Origin>) {
    let id = relay.next_connection.fetch_add(1, Ordering::Relaxed);
    let mut nonce = [0u8; 32];
    if getrandom::fill(&mut nonce).is_err() {
        return;
    }
    let challenge = Challenge { nonce, origins };
    if socket
        .send(Message::Binary(
            protocol::encode(&ServerMsg::Challenge { nonce }).into(),
        ))
        .await
        .is_err()
    {
        return;
    }
    let (tx, mut rx) = Outgoing::new();
    let mut device: Option<keys::Verifier> = None;
    let login_deadline = tokio::time::sleep(LOGIN_DEADLINE);
    tokio::pin!(login_deadline);
    loop {
        tokio::select! {
            () = &mut login_deadline, if device.is_none() => {
                relay.metrics.limit("login_deadline");
                let refusal = rejected(&relay, Rejection::NotAuthenticated, "délai d'authentification dépassé");
                let _ = tokio::time::timeout(WRITE_DEADLINE, async {
                    for msg in refusal {
                        let _ = socket.send(Message::Binary(protocol::encode(&msg).into())).await;
                    }
                    let _ = socket.send(Message::Close(None)).await;
                }).await;
                break;
            }
            frame = rx.recv() => {
                let Some(frame) = frame else { break };
                // Write whatever else is already queued before flushing: one syscall for a
                // burst of acknowledgements and fan-out frames. An empty frame: the queue
                // overflowed, the device is not reading.
                let mut frames = vec![frame];
                for _ in 0..64 {
                    let Ok(more) = rx.try_recv() else { break };
                    frames.push(more);
                }
                for f in &frames {
                    tx.taken(f);
                }
                if frames.iter().any(Bytes::is_empty) {
                    relay.metrics.limit("slow_consumer");
                    tracing::info!("connection closed: its queue overflowed (not reading)");
                    break;
                }
                let written = tokio::time::timeout(WRITE_DEADLINE, async {
                    for f in frames {
                        socket.feed(Message::Binary(f)).await?;
                    }
                    socket.flush().await
                })
                .await;
                if !matches!(written, Ok(Ok(()))) {
                    if written.is_err() {
                        relay.metrics.limit("write_deadline");
                    }
                    break;
                }
            }
            incoming = socket.recv() => {
                let Some(Ok(message)) = incoming else { break };
                // Take every frame already received with this one (a pipelining client's
                // burst): their signatures are checked together, before any is handled.
                let mut size = frame_len(&message);
                let mut burst = vec![message];
                let mut closed = false;
                while burst.len() < MAX_BURST && size < MAX_BURST_BYTES {
                    match socket.recv().now_or_never() {
                        Some(Some(Ok(m))) => {
                            size += frame_len(&m);
                            burst.push(m);
                        }
                        Some(_) => {
                            closed = true;
                            break;
                        }
                        None => break,
                    }
                }
                let mut frames: Vec<Bytes> = Vec::with_capacity(burst.len());
                for m in burst {
                    match m {
                        Message::Binary(b) => frames.push(b),
                        Message::Close(_) => {
                            closed = true;
                            break;
                        }
                        _ => {}
                    }
                }
                let messages: Vec<Decoded> = frames.iter().map(|f| decode_frame(f)).collect();
                let verified = match &device {
                    Some(d) => verified_pushes(&messages, d),
                    None => messages.iter().map(|_| None).collect(),
                };
                for (message, verified) in messages.into_iter().zip(verified) {
                    let reply = handle(&relay, id, &tx, &mut device, &challenge, message, verified).await;
                    for msg in reply {
                        let sent = tokio::time::timeout(
                            WRITE_DEADLINE,
                            socket.send(Message::Binary(protocol::encode(&msg).into())),
                        )
                        .await;
                        if !matches!(sent, Ok(Ok(()))) {
                            relay.unsubscribe_all(id);
                            return;
                        }
                    }
                }
                if closed {
                    break;
                }
            }
        }
    }
    relay.unsubscribe_all(id);
}

/// Frames taken together from one connection, at most (and no more once they pass
/// `MAX_BURST_BYTES`, so a burst of large frames does not pile up in memory).
const MAX_BURST: usize = 64;
const MAX_BURST_BYTES: usize = 1024 * 1024;

fn frame_len(m: &Message) -> usize {
    match m {
        Message::Binary(b) => b.len(),
        _ => 0,
    }
}

/// What one frame says, or why it is refused before anything else (size, encoding).
type Decoded = Result<ClientMsg, (Rejection, String)>;

fn decode_frame(bytes: &[u8]) -> Decoded {
    if bytes.len() > MAX_ENVELOPE + 64 * 1024 {
        return Err((Rejection::TooLarge, format!("{} octets", bytes.len())));
    }
    protocol::decode::<ClientMsg>(bytes)
        .ok_or_else(|| (Rejection::Malformed, "message illisible".to_string()))
}

/// For each message: the envelope it pushes, parsed, when it was written by this
/// connection's device and its signature holds, by the replicas' own check (see
/// [`protocol::verify_burst`]); `None` for everything else.
fn verified_pushes(messages: &[Decoded], device: &keys::Verifier) -> Vec<Option<Envelope>> {
    let pushes: Vec<&[u8]> = messages
        .iter()
        .filter_map(|m| match m {
            Ok(ClientMsg::Push { envelope }) => Some(envelope.as_slice()),
            _ => None,
        })
        .collect();
    let mut checked = protocol::verify_burst(&pushes, device).into_iter();
    messages
        .iter()
        .map(|m| match m {
            Ok(ClientMsg::Push { .. }) => checked.next().flatten(),
            _ => None,
        })
        .collect()
}

/// Counts and logs a refusal (reason and counter only, never content) and words the answer.
fn refusal(relay: &Relay, reason: Rejection, detail: impl Into<String>) -> ServerMsg {
    relay.metrics.reject(reason);
    let detail = detail.into();
    tracing::info!(reason = reason.as_str(), %detail, "refused");
    ServerMsg::Rejected { reason, detail }
}

pub(crate) fn rejected(
    relay: &Relay,
    reason: Rejection,
    detail: impl Into<String>,
) -> Vec<ServerMsg> {
    vec![refusal(relay, reason, detail)]
}

/// The answer to a device of protocol 1 (its login carried no version): update, in words it
/// shows as they are.
fn outdated_device(relay: &Relay) -> Vec<ServerMsg> {
    rejected(
        relay,
        Rejection::NotAuthenticated,
        protocol::OUTDATED_DEVICE,
    )
}

async fn handle(
    relay: &Arc<Relay>,
    connection: u64,
    tx: &Outgoing,
    device: &mut Option<keys::Verifier>,
    challenge: &Challenge,
    message: Decoded,
    verified: Option<Envelope>,
) -> Vec<ServerMsg> {
    let msg = match message {
        Ok(msg) => msg,
        Err((reason, detail)) => return rejected(relay, reason, detail),
    };
    let Some(verifier) = device.as_ref() else {
        let ClientMsg::Login {
            protocol: version,
            device: key,
            signature,
        } = msg
        else {
            return match msg {
                ClientMsg::Hello { .. } => outdated_device(relay),
                _ => rejected(
                    relay,
                    Rejection::NotAuthenticated,
                    "authentification requise",
                ),
            };
        };
        if !protocol::PROTOCOLS_SPOKEN.contains(&version) {
            return rejected(
                relay,
                Rejection::UnsupportedProtocol,
                format!(
                    "protocole {version} inconnu de ce relais (il parle {} à {})",
                    protocol::PROTOCOLS_SPOKEN.start(),
                    protocol::PROTOCOLS_SPOKEN.end()
                ),
            );
        }
        let verifier =
            protocol::check_hello(&challenge.origins, &challenge.nonce, &key, &signature);
        let Some(verifier) = verifier else {
            return rejected(relay, Rejection::BadSignature, "réponse au défi invalide");
        };
        *device = Some(verifier);
        tracing::debug!(device = %keys::short(&key), "authenticated");
        return vec![ServerMsg::Welcome];
    };
    let me = *verifier.signer();
    match msg {
        ClientMsg::Login { .. } => vec![ServerMsg::Welcome],
        ClientMsg::Hello { .. } => outdated_device(relay),
        ClientMsg::PutPiece {
            dossier,
            blob,
            index,
            bytes,
            last,
        } => {
            if bytes.len() > evidence::PIECE || index >= evidence::MAX_PIECES {
                return rejected(relay, Rejection::TooLarge, "morceau de pièce trop grand");
            }
            let store = relay.store.clone();
            let role = load_membership(store.as_ref(), &dossier).and_then(|m| m.role_of(&me));
            match role {
                None => return rejected(relay, Rejection::Forbidden, "pas membre du dossier"),
                Some(r) if !r.may_write(Channel::Dossier) => {
                    return rejected(relay, Rejection::Forbidden, "lecture seule");
                }
                Some(_) => {}
            }
            let put = tokio::task::spawn_blocking(move || {
                store.put_piece(&dossier, &blob, &me, index, &bytes, last)
            })
            .await;
            match put {
                Ok(Ok(state)) => vec![ServerMsg::PieceStored {
                    dossier,
                    blob,
                    stored: state.stored,
                    complete: state.complete,
                }],
                Ok(Err(StoreError::OutOfOrder { expected })) => rejected(
                    relay,
                    Rejection::Gap,
                    format!("morceau {index} hors ordre (attendu {expected})"),
                ),
                Ok(Err(StoreError::Full)) => rejected(
                    relay,
                    Rejection::TooLarge,
                    "espace des pièces du dossier épuisé",
                ),
                Ok(Err(StoreError::NotUploader)) => rejected(
                    relay,
                    Rejection::Forbidden,
                    "pièce commencée par un autre appareil",
                ),
                _ => rejected(relay, Rejection::Malformed, "relais indisponible"),
            }
        }
        ClientMsg::GetPiece {
            dossier,
            blob,
            index,
        } => {
            let store = relay.store.clone();
            if load_membership(store.as_ref(), &dossier)
                .and_then(|m| m.role_of(&me))
                .is_none()
            {
                return rejected(relay, Rejection::Forbidden, "pas membre du dossier");
            }
            match store.get_piece(&dossier, &blob, index) {
                Ok(Some((bytes, last))) => vec![ServerMsg::Piece {
                    dossier,
                    blob,
                    index,
                    bytes,
                    last,
                }],
                Ok(None) => rejected(relay, Rejection::NotFound, "pièce inconnue du relais"),
                Err(_) => rejected(relay, Rejection::Malformed, "relais indisponible"),
            }
        }
        ClientMsg::Invite {
            dossier,
            email,
            role,
            inviter,
        } => crate::invitations::invite(relay, &me, dossier, &email, role, inviter).await,
        ClientMsg::Accept { token, identity } => {
            crate::invitations::accept(relay, &me, &token, &identity).await
        }
        ClientMsg::Requests { dossier } => crate::invitations::requests(relay, &me, dossier),
        ClientMsg::Presence { envelope } => relay.forward_presence(connection, verifier, envelope),
        ClientMsg::Reminders {
            dossier,
            email,
            jury_date,
        } => crate::reminders::set(relay, &me, dossier, &email, jury_date).await,
        ClientMsg::JuryKeys { dossier } => crate::jury_keys::keys(relay, &me, dossier),
        ClientMsg::GrantJuryKey {
            dossier,
            epoch,
            key_id,
            grants,
        } => crate::jury_keys::grant(relay, &me, dossier, epoch, key_id, grants),
        ClientMsg::Dossiers => {
            // An indexed read, like the membership log a subscription reads.
            match relay.store.dossiers_of(&me) {
                Ok(ids) => vec![ServerMsg::Dossiers { ids }],
                Err(_) => rejected(relay, Rejection::Malformed, "relais indisponible"),
            }
        }
        ClientMsg::Create { entry } => {
            let Ok(e) = SignedEntry::from_bytes(&entry) else {
                return rejected(relay, Rejection::BadMembership, "entrée illisible");
            };
            if let Err(refusal) = within_quota(
                relay,
                &relay.quotas.dossiers,
                &me,
                (
                    crate::limits::DOSSIERS_PER_KEY_PER_DAY,
                    crate::limits::DOSSIERS_PER_ADDRESS_PER_DAY,
                ),
                "dossiers_per_day",
                "quota de créations de dossiers atteint pour aujourd'hui",
            ) {
                return refusal;
            }
            let dossier = e.body.dossier;
            let (reply, wait) = oneshot::channel();
            let _ = relay.appender.send(Job::Create {
                dossier,
                entry,
                author: me,
                reply,
            });
            match wait.await {
                Ok(Ok(())) => {
                    relay.subscribe(dossier, connection, me, tx.clone());
                    tracing::info!(dossier = %keys::short(&dossier.0), "dossier created");
                    vec![ServerMsg::MembershipOk { dossier, seq: 0 }]
                }
                Ok(Err(r)) => rejected(relay, r, "création refusée"),
                Err(_) => rejected(relay, Rejection::Malformed, "relais indisponible"),
            }
        }
        ClientMsg::Membership { dossier, entry } => {
            let (reply, wait) = oneshot::channel();
            let _ = relay.appender.send(Job::Membership {
                dossier,
                entry,
                author: me,
                from: connection,
                reply,
            });
            match wait.await {
                Ok(Ok(seq)) => vec![ServerMsg::MembershipOk { dossier, seq }],
                Ok(Err(Rejection::TooLarge)) => rejected(
                    relay,
                    Rejection::TooLarge,
                    format!(
                        "adhésion refusée : un dossier compte au plus {} membres",
                        crate::limits::MAX_MEMBERS_PER_DOSSIER
                    ),
                ),
                Ok(Err(r)) => rejected(relay, r, "adhésion refusée"),
                Err(_) => rejected(relay, Rejection::Malformed, "relais indisponible"),
            }
        }
        ClientMsg::Push { envelope } => {
            let checked = match verified {
                Some(env) => Ok(env),
                None => protocol::parse_and_verify_from(&envelope, verifier),
            };
            // Not awaited: the appender answers on this connection's queue once the
            // envelope is durable, so the client can keep sending meanwhile. Refusals go
            // through the same queue, so a client's pushes are answered in order.
            let job = match checked {
                Ok(env) => Job::Envelope {
                    header: env.header,
                    bytes: envelope,
                    from: connection,
                    reply: tx.clone(),
                },
                Err(r) => Job::Answer {
                    message: refusal(
                        relay,
                        r,
                        if r == Rejection::Forbidden {
                            "l'auteur n'est pas l'appareil connecté"
                        } else {
                            "enveloppe refusée"
                        },
                    ),
                    reply: tx.clone(),
                },
            };
            match relay.appender.send(job) {
                Ok(()) => Vec::new(),
                Err(_) => rejected(relay, Rejection::Malformed, "relais indisponible"),
            }
        }
        ClientMsg::Snapshot { envelope, covers } => {
            let env = match protocol::parse_and_verify_from(&envelope, verifier) {
                Ok(env) => env,
                Err(Rejection::Forbidden) => {
                    return rejected(
                        relay,
                        Rejection::Forbidden,
                        "l'auteur n'est pas l'appareil connecté",
                    );
                }
                Err(r) => return rejected(relay, r, "instantané refusé"),
            };
            // The covers signed in the snapshot, which replicas apply, not just stated.
            let covers = match protocol::snapshot_covers(&env, &covers) {
                Ok(covers) => covers,
                Err(r) => return rejected(relay, r, "instantané sans couverture signée"),
            };
            let dossier = env.header.dossier;
            let (reply, wait) = oneshot::channel();
            let _ = relay.appender.send(Job::Snapshot {
                header: env.header,
                bytes: envelope,
                covers,
                reply,
            });
            match wait.await {
                Ok(Ok(id)) => vec![ServerMsg::SnapshotOk { dossier, id }],
                Ok(Err(r)) => rejected(relay, r, "instantané refusé"),
                Err(_) => rejected(relay, Rejection::Malformed, "relais indisponible"),
            }
        }
        ClientMsg::Subscribe { dossier, since } => {
            let store = relay.store.clone();
            let log = store.membership_log(&dossier).unwrap_or_default();
            let Some(membership) = fold_log(&log) else {
                return rejected(relay, Rejection::UnknownDossier, "dossier inconnu");
            };
            if membership.role_of(&me).is_none() {
                return refuse_non_member(relay, dossier, &log, &me);
            }
            // Subscribe first, then read: an envelope committed in between arrives twice at
            // worst, and replicas drop duplicates.
            relay.subscribe(dossier, connection, me, tx.clone());
            // A removal committed between the check above and the subscription would have
            // pruned the followers before this one joined: check again now that it follows
            // (a removal committed later prunes it).
            // The log read here is also the one sent back, so the catch-up matches it.
            let log = store.membership_log(&dossier).unwrap_or_default();
            let still_member = fold_log(&log).is_some_and(|m| m.role_of(&me).is_some());
            if !still_member {
                relay.unsubscribe(&dossier, connection);
                return refuse_non_member(relay, dossier, &log, &me);
            }
            // A history can be long: read off the async runtime, and sent in frames each
            // under what a client accepts.
            let since: BTreeMap<[u8; 32], u64> = since.into_iter().collect();
            let Ok(_turn) = relay.catch_ups.acquire().await else {
                return rejected(relay, Rejection::Malformed, "relais indisponible");
            };
            let read =
                tokio::task::spawn_blocking(move || catch_up(store.as_ref(), dossier, log, since))
                    .await;
            match read {
                Ok(Ok(frames)) => frames,
                _ => rejected(relay, Rejection::Malformed, "relais indisponible"),
            }
        }
    }
}

/// The catch-up of a subscription, in `Log` frames (the last one `complete`). Behind the
/// active snapshot: the snapshot, then what came after it. Otherwise the tail after what
/// the client has (pruned envelopes included while they last).
fn catch_up(
    store: &dyn Store,
    dossier: DossierId,
    log: Vec<Vec<u8>>,
    mut since: BTreeMap<[u8; 32], u64>,
) -> Result<Vec<ServerMsg>, StoreError> {
    let active = store.active_snapshot(&dossier)?;
    let active_snapshot = active.as_ref().map(|s| s.id);
    let behind = active.as_ref().is_some_and(|s| {
        s.covers
            .iter()
            .any(|(w, c)| since.get(w).copied().unwrap_or(0) < *c)
    });
    let snapshot = match active {
        Some(s) if behind => {
            for (w, c) in &s.covers {
                let e = since.entry(*w).or_default();
                *e = (*e).max(*c);
            }
            Some(s.bytes)
        }
        _ => None,
    };
    let envelopes = store.envelopes_since(&dossier, &since, snapshot.is_none())?;
    let mut frames = livret_shared::catchup::Framer::new(dossier);
    for entry in log {
        frames.entry(entry);
    }
    if let Some(snapshot) = snapshot {
        frames.snapshot(snapshot);
    }
    for envelope in envelopes {
        frames.envelope(envelope);
    }
    Ok(frames.finish(active_snapshot))
}
