//! The relay's shared state: authenticates devices by their signing key, checks every envelope against the
//! dossier's membership (the same rules as the in-memory harness, from `livret-shared`),
//! stores it durably, acknowledges, and fans it out to the dossier's connected members.
//!
//! `Relay` holds the store, the appender's queue (`appender.rs`), and the hub: which
//! connections follow which dossier, for the fan-out.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use livret_shared::envelope::DossierId;
use livret_shared::keys::MemberKey;
use livret_shared::membership::Membership;
use livret_shared::protocol::{self, Origin, ServerMsg};
use livret_shared::ratelimit::TokenBucket;

use crate::appender::{Job, appender};
use crate::cluster::{Poke, PokeSender};
use crate::handlers::fold_log;
use crate::metrics::Metrics;
use crate::outgoing::Outgoing;
use crate::store::{Arrival, Store, StoreError};

/// A connection following a dossier, with the device it logged in as (so a removed member's
/// connections stop receiving the dossier the moment the removal is stored).
struct Subscriber {
    connection: u64,
    device: MemberKey,
    tx: Outgoing,
}

/// A fan-out frame never grows past this many envelope bytes; more go in further frames.
const MAX_FAN_OUT_FRAME: usize = 4 * 1024 * 1024;

/// An envelope just committed: the connection it came on, its arrival, its bytes.
pub(crate) type Committed<'a> = (u64, Arrival, &'a [u8]);

/// The connections following one dossier on this node, and (with other nodes on the same
/// database) what they have been sent of it.
#[derive(Default)]
struct Followers {
    subscribers: Vec<Subscriber>,
    delivered: Option<Delivered>,
}

/// What this node's followers of a dossier have been sent, when other nodes append to it
/// too: every envelope up to `upto` in the dossier's arrival order, those in `ahead` (this
/// node's own appends, sent as they committed, past an arrival another node has and this
/// one has not read yet), and the first `members` membership entries. Another node's poke
/// sends what lies past it, read from the store (`Relay::deliver_from_store`).
struct Delivered {
    upto: Arrival,
    ahead: BTreeSet<Arrival>,
    members: usize,
}

impl Delivered {
    /// Whether `arrival` still has to be sent; records it as sent.
    fn take(&mut self, arrival: Arrival) -> bool {
        if arrival <= self.upto || !self.ahead.insert(arrival) {
            return false;
        }
        while self.ahead.remove(&(self.upto + 1)) {
            self.upto += 1;
        }
        true
    }
}

/// Shared by every connection.
pub struct Relay {
    pub(crate) store: Arc<dyn Store>,
    /// Sends invitations; `None` in tests that need no mail.
    pub(crate) mailer: Option<Arc<crate::mail::Mailer>>,
    pub(crate) appender: std::sync::mpsc::Sender<Job>,
    hub: Mutex<HashMap<DossierId, Followers>>,
    /// Tells the other relay nodes on the same database what changed; unset when alone.
    cluster: std::sync::OnceLock<Arc<dyn PokeSender>>,
    /// Presence budgets by dossier and device (one entry per member who sent any).
    pub(crate) presence_budgets: Mutex<HashMap<(DossierId, MemberKey), TokenBucket>>,
    pub(crate) next_connection: AtomicU64,
    /// WebSocket connections open, overall and by address (see `limits`).
    pub(crate) connections: crate::limits::ConnectionSlots,
    /// Dossiers created and invitations asked, per key and per address.
    pub(crate) quotas: crate::limits::Quotas,
    pub metrics: Metrics,
    /// Where devices reach this relay: what their login signs ([`Relay::set_origins`]).
    origins: std::sync::OnceLock<Vec<Origin>>,
    /// Catch-ups read at once ([`CATCH_UPS_AT_ONCE`]); the others wait their turn.
    pub(crate) catch_ups: tokio::sync::Semaphore,
    /// How long a dossier stays without activity, in days (`retention`).
    retention_days: std::sync::atomic::AtomicI64,
}

/// Catch-ups read from the store at once. They take turns on the store's one read
/// connection anyway; without a bound, 200 devices coming back together held up to 200
/// blocking threads, each waiting for it (the others now wait as tasks, without a thread).
const CATCH_UPS_AT_ONCE: usize = 2;

impl Relay {
    pub fn new(store: Arc<dyn Store>, mailer: Option<Arc<crate::mail::Mailer>>) -> Arc<Relay> {
        let (tx, rx) = std::sync::mpsc::channel();
        let relay = Arc::new(Relay {
            store,
            mailer,
            appender: tx,
            hub: Mutex::new(HashMap::new()),
            cluster: std::sync::OnceLock::new(),
            presence_budgets: Mutex::new(HashMap::new()),
            next_connection: AtomicU64::new(1),
            connections: crate::limits::ConnectionSlots::default(),
            quotas: crate::limits::Quotas::default(),
            metrics: Metrics::default(),
            origins: std::sync::OnceLock::new(),
            catch_ups: tokio::sync::Semaphore::new(CATCH_UPS_AT_ONCE),
            retention_days: std::sync::atomic::AtomicI64::new(
                livret_shared::deletion::RETENTION_DAYS,
            ),
        });
        let weak = Arc::downgrade(&relay);
        std::thread::Builder::new()
            .name("livret-appender".into())
            .spawn(move || appender(weak, rx))
            .expect("appender thread starts");
        relay
    }

    /// Sets how long dossiers stay without activity (`livret serve --retention-days`).
    pub fn set_retention_days(&self, days: i64) {
        self.retention_days.store(days.max(1), Ordering::Relaxed);
    }

    /// How long dossiers stay without activity, in milliseconds.
    pub(crate) fn retention_ms(&self) -> i64 {
        self.retention_days.load(Ordering::Relaxed) * 24 * 3600 * 1000
    }

    pub(crate) fn fan_out(&self, dossier: &DossierId, except: u64, frame: Bytes) {
        let mut hub = self.hub.lock().expect("hub lock");
        if let Some(followers) = hub.get_mut(dossier) {
            followers
                .subscribers
                .retain(|s| s.connection == except || s.tx.send(frame.clone()).is_ok());
        }
    }

    /// Sends a committed batch's envelopes for one dossier to its subscribers, each getting
    /// what it did not write itself, in as few frames as the size cap allows: (connection
    /// it came from, arrival, bytes). With other nodes, what a poke already had this node
    /// read from the store is not sent again.
    pub(crate) fn fan_out_batch(&self, dossier: &DossierId, envelopes: &[Committed<'_>]) {
        let mut hub = self.hub.lock().expect("hub lock");
        let Some(followers) = hub.get_mut(dossier) else {
            return;
        };
        let envelopes: Vec<(u64, &[u8])> = match &mut followers.delivered {
            Some(delivered) => envelopes
                .iter()
                .filter(|(_, arrival, _)| delivered.take(*arrival))
                .map(|(from, _, bytes)| (*from, *bytes))
                .collect(),
            None => envelopes.iter().map(|(from, _, b)| (*from, *b)).collect(),
        };
        send_each_what_others_wrote(
            dossier,
            &mut followers.subscribers,
            &envelopes,
            |s, from| s.connection == *from,
        );
    }

    /// Sends new membership entries to a dossier's subscribers (but `except`), the removed
    /// member's too (so their app can say so); then those no longer members follow no more.
    pub(crate) fn fan_out_members(
        &self,
        dossier: &DossierId,
        except: u64,
        entries: Vec<Vec<u8>>,
        members: Option<&Membership>,
    ) {
        let count = entries.len();
        let frame = Bytes::from(protocol::encode(&ServerMsg::Log {
            dossier: *dossier,
            entries,
            snapshot: None,
            envelopes: Vec::new(),
            complete: false,
            active_snapshot: None,
        }));
        let mut hub = self.hub.lock().expect("hub lock");
        let Some(followers) = hub.get_mut(dossier) else {
            return;
        };
        if let Some(delivered) = &mut followers.delivered {
            delivered.members += count;
        }
        followers
            .subscribers
            .retain(|s| s.connection == except || s.tx.send(frame.clone()).is_ok());
        if let Some(members) = members {
            followers
                .subscribers
                .retain(|s| members.role_of(&s.device).is_some());
        }
    }

    /// Tells a deleted dossier's followers (the candidate's notice, which their devices
    /// check before they wipe), who then follow it no more.
    pub(crate) fn tell_deleted(&self, dossier: &DossierId, tombstone: &crate::store::Tombstone) {
        let frame = Bytes::from(protocol::encode(&tombstone.message(*dossier)));
        let followers = self.hub.lock().expect("hub lock").remove(dossier);
        for s in followers.map(|f| f.subscribers).unwrap_or_default() {
            let _ = s.tx.send(frame.clone());
        }
    }

    pub(crate) fn subscribe(
        &self,
        dossier: DossierId,
        connection: u64,
        device: MemberKey,
        tx: Outgoing,
    ) {
        let mut hub = self.hub.lock().expect("hub lock");
        let subs = &mut hub.entry(dossier).or_default().subscribers;
        if !subs.iter().any(|s| s.connection == connection) {
            subs.push(Subscriber {
                connection,
                device,
                tx,
            });
        }
    }

    /// Whether `connection` follows `dossier`.
    pub(crate) fn follows(&self, dossier: &DossierId, connection: u64) -> bool {
        self.hub
            .lock()
            .expect("hub lock")
            .get(dossier)
            .is_some_and(|f| f.subscribers.iter().any(|s| s.connection == connection))
    }

    pub(crate) fn unsubscribe(&self, dossier: &DossierId, connection: u64) {
        let mut hub = self.hub.lock().expect("hub lock");
        if let Some(followers) = hub.get_mut(dossier) {
            followers.subscribers.retain(|s| s.connection != connection);
            if followers.subscribers.is_empty() {
                hub.remove(dossier);
            }
        }
    }

    pub(crate) fn unsubscribe_all(&self, connection: u64) {
        let mut hub = self.hub.lock().expect("hub lock");
        for followers in hub.values_mut() {
            followers.subscribers.retain(|s| s.connection != connection);
        }
        hub.retain(|_, f| !f.subscribers.is_empty());
    }
}

/// Several relay nodes on one database (`cluster`): each tells the others what it changed,
/// and sends its own followers what the others changed, read from the store.
impl Relay {
    /// Makes this relay one node of several on its database: `pokes` tells the others.
    pub fn join_cluster(&self, pokes: Arc<dyn PokeSender>) {
        let _ = self.cluster.set(pokes);
    }

    /// Tells the other nodes (if any) of a change this node committed.
    pub(crate) fn poke(&self, poke: Poke) {
        if let Some(cluster) = self.cluster.get() {
            cluster.send(poke);
        }
    }

    /// Starts counting what a dossier's followers on this node are sent, once one follows
    /// it and before its catch-up is read (what commits later comes with pokes, what
    /// committed before with the catch-up; replicas drop what comes twice). `members`:
    /// the membership entries the catch-up sends. Called off the async runtime.
    pub(crate) fn watch(&self, dossier: &DossierId, members: usize) -> Result<(), StoreError> {
        if self.cluster.get().is_none() {
            return Ok(());
        }
        let watched = |hub: &HashMap<DossierId, Followers>| {
            hub.get(dossier).is_some_and(|f| f.delivered.is_some())
        };
        if watched(&self.hub.lock().expect("hub lock")) {
            return Ok(());
        }
        let upto = self
            .store
            .last_arrivals(&[*dossier])?
            .first()
            .map_or(0, |(_, last)| *last);
        let mut hub = self.hub.lock().expect("hub lock");
        if let Some(followers) = hub.get_mut(dossier) {
            followers.delivered.get_or_insert(Delivered {
                upto,
                ahead: BTreeSet::new(),
                members,
            });
        }
        Ok(())
    }

    /// What other nodes said they changed (called by the poke listener, off the async
    /// runtime): the appender forgets what it kept of those dossiers, and this node's
    /// followers are sent what they miss.
    pub(crate) fn poked(&self, pokes: Vec<Poke>) {
        let mut changed: BTreeMap<DossierId, bool> = BTreeMap::new();
        for poke in pokes {
            match poke {
                Poke::Envelopes(dossier) => {
                    changed.entry(dossier).or_default();
                }
                Poke::Members(dossier) => {
                    changed.insert(dossier, true);
                }
                Poke::Presence(dossier, envelope) => {
                    let frame = protocol::encode(&ServerMsg::Presence { envelope });
                    self.fan_out(&dossier, 0, Bytes::from(frame));
                }
            }
        }
        for (dossier, members) in changed {
            let _ = self.appender.send(Job::Forget { dossier, members });
            if members {
                self.deliver_members(&dossier);
            }
            self.deliver_from_store(&dossier);
        }
    }

    /// Sends each followed dossier's followers what they miss, whatever pokes were lost:
    /// the poke listener calls it every few seconds, and after its connection was lost
    /// (`members`: the membership entries too, and the appender forgets all it kept).
    pub(crate) fn sweep(&self, members: bool) {
        let watched: Vec<(DossierId, Arrival)> = self
            .hub
            .lock()
            .expect("hub lock")
            .iter()
            .filter_map(|(d, f)| f.delivered.as_ref().map(|w| (*d, w.upto)))
            .collect();
        if members {
            for (dossier, _) in &watched {
                let _ = self.appender.send(Job::Forget {
                    dossier: *dossier,
                    members: true,
                });
                self.deliver_members(dossier);
            }
        }
        let ids: Vec<DossierId> = watched.iter().map(|(d, _)| *d).collect();
        let Ok(last) = self.store.last_arrivals(&ids) else {
            return;
        };
        let upto: HashMap<DossierId, Arrival> = watched.into_iter().collect();
        for (dossier, last) in last {
            if upto.get(&dossier).is_some_and(|u| *u < last) {
                self.metrics.sweeps_behind.fetch_add(1, Ordering::Relaxed);
                self.deliver_from_store(&dossier);
            }
        }
    }

    /// Sends a dossier's followers the membership entries they were not sent yet.
    fn deliver_members(&self, dossier: &DossierId) {
        let known = |hub: &HashMap<DossierId, Followers>| {
            hub.get(dossier)
                .and_then(|f| f.delivered.as_ref())
                .map(|d| d.members)
        };
        let Some(sent) = known(&self.hub.lock().expect("hub lock")) else {
            return;
        };
        let Ok(log) = self.store.membership_log(dossier) else {
            return;
        };
        if log.is_empty() {
            // Deleted on another node.
            if let Ok(Some(tombstone)) = self.store.tombstone(dossier) {
                self.tell_deleted(dossier, &tombstone);
            }
            return;
        }
        if log.len() <= sent {
            return;
        }
        let members = fold_log(&log);
        let sent = known(&self.hub.lock().expect("hub lock")).unwrap_or(log.len());
        let new = log.get(sent..).unwrap_or_default().to_vec();
        if !new.is_empty() {
            self.fan_out_members(dossier, 0, new, members.as_ref());
        }
    }

    /// Sends a dossier's followers the envelopes past what they were sent, read from the
    /// store page by page.
    fn deliver_from_store(&self, dossier: &DossierId) {
        let upto = |hub: &HashMap<DossierId, Followers>| {
            hub.get(dossier)
                .and_then(|f| f.delivered.as_ref())
                .map(|d| d.upto)
        };
        let Some(mut after) = upto(&self.hub.lock().expect("hub lock")) else {
            return;
        };
        loop {
            let Ok(page) = self
                .store
                .envelopes_after(dossier, after, 512, MAX_FAN_OUT_FRAME)
            else {
                return;
            };
            let Some(last) = page.last() else {
                return;
            };
            after = last.arrival;
            let mut hub = self.hub.lock().expect("hub lock");
            let Some(followers) = hub.get_mut(dossier) else {
                return;
            };
            let Some(delivered) = &mut followers.delivered else {
                return;
            };
            let missing: Vec<(MemberKey, &[u8])> = page
                .iter()
                .filter(|e| delivered.take(e.arrival))
                .map(|e| (e.writer, &e.bytes[..]))
                .collect();
            // Everything up to the page's end is sent now, or was before.
            delivered.upto = delivered.upto.max(after);
            delivered.ahead.retain(|a| *a > after);
            // A device's own envelopes are not sent back to it (it has them; here the
            // connection they came on is not known, the device is).
            send_each_what_others_wrote(dossier, &mut followers.subscribers, &missing, |s, w| {
                s.device == *w
            });
        }
    }
}

/// Sends each subscriber the envelopes it did not write (`own` tells, from the subscriber
/// and an envelope's author: its connection, or its device), in as few frames as the size
/// cap allows; most wrote none and share one encoding of them all. Drops subscribers whose
/// queue is closed or full.
fn send_each_what_others_wrote<A>(
    dossier: &DossierId,
    subscribers: &mut Vec<Subscriber>,
    envelopes: &[(A, &[u8])],
    own: impl Fn(&Subscriber, &A) -> bool,
) {
    let mut everything: Option<Vec<Bytes>> = None;
    subscribers.retain(|s| {
        let frames = if envelopes.iter().any(|(author, _)| own(s, author)) {
            let others: Vec<&[u8]> = envelopes
                .iter()
                .filter(|(author, _)| !own(s, author))
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

/// Envelopes a snapshot replaces stay readable this long (late clients still catch up from
/// them instead of the whole snapshot).
pub const PRUNE_GRACE_SECONDS: i64 = 7 * 24 * 3600;

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

    pub(crate) fn origins_for(&self, host: Option<&str>) -> Vec<Origin> {
        match self.origins.get() {
            Some(origins) => origins.clone(),
            None => host
                .and_then(|h| Origin::parse(&format!("http://{h}")))
                .into_iter()
                .collect(),
        }
    }
}
