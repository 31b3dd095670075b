//! The relay's shared state: authenticates devices by their signing key, checks every envelope against the
//! dossier's membership (the same rules as the in-memory harness, from `livret-shared`),
//! stores it durably, acknowledges, and fans it out to the dossier's connected members.
//!
//! `Relay` holds the store, the appender's queue (`appender.rs`), and the hub: which
//! connections follow which dossier, for the fan-out.

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use livret_shared::envelope::DossierId;
use livret_shared::keys::MemberKey;
use livret_shared::membership::Membership;
use livret_shared::protocol::{self, Origin, ServerMsg};
use livret_shared::ratelimit::TokenBucket;

use crate::appender::{Job, appender};
use crate::metrics::Metrics;
use crate::outgoing::Outgoing;
use crate::store::Store;

/// A connection following a dossier, with the device it logged in as (so a removed member's
/// connections stop receiving the dossier the moment the removal is stored).
struct Subscriber {
    connection: u64,
    device: MemberKey,
    tx: Outgoing,
}

/// A fan-out frame never grows past this many envelope bytes; more go in further frames.
const MAX_FAN_OUT_FRAME: usize = 4 * 1024 * 1024;

/// Shared by every connection.
pub struct Relay {
    pub(crate) store: Arc<dyn Store>,
    /// Sends invitations; `None` in tests that need no mail.
    pub(crate) mailer: Option<Arc<crate::mail::Mailer>>,
    pub(crate) appender: std::sync::mpsc::Sender<Job>,
    hub: Mutex<HashMap<DossierId, Vec<Subscriber>>>,
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
            presence_budgets: Mutex::new(HashMap::new()),
            next_connection: AtomicU64::new(1),
            connections: crate::limits::ConnectionSlots::default(),
            quotas: crate::limits::Quotas::default(),
            metrics: Metrics::default(),
            origins: std::sync::OnceLock::new(),
            catch_ups: tokio::sync::Semaphore::new(CATCH_UPS_AT_ONCE),
        });
        let weak = Arc::downgrade(&relay);
        std::thread::Builder::new()
            .name("livret-appender".into())
            .spawn(move || appender(weak, rx))
            .expect("appender thread starts");
        relay
    }

    pub(crate) fn fan_out(&self, dossier: &DossierId, except: u64, frame: Bytes) {
        let mut hub = self.hub.lock().expect("hub lock");
        if let Some(subs) = hub.get_mut(dossier) {
            subs.retain(|s| s.connection == except || s.tx.send(frame.clone()).is_ok());
        }
    }

    /// Sends a committed batch's envelopes for one dossier to its subscribers, each getting
    /// what it did not write itself, in as few frames as the size cap allows.
    pub(crate) fn fan_out_batch(&self, dossier: &DossierId, envelopes: &[(u64, &[u8])]) {
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

    pub(crate) fn subscribe(
        &self,
        dossier: DossierId,
        connection: u64,
        device: MemberKey,
        tx: Outgoing,
    ) {
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

    /// Whether `connection` follows `dossier`.
    pub(crate) fn follows(&self, dossier: &DossierId, connection: u64) -> bool {
        self.hub
            .lock()
            .expect("hub lock")
            .get(dossier)
            .is_some_and(|subs| subs.iter().any(|s| s.connection == connection))
    }

    /// Stops following `dossier` for every connection whose device is no longer a member.
    pub(crate) fn keep_members_only(&self, dossier: &DossierId, members: &Membership) {
        let mut hub = self.hub.lock().expect("hub lock");
        if let Some(subs) = hub.get_mut(dossier) {
            subs.retain(|s| members.role_of(&s.device).is_some());
        }
    }

    pub(crate) fn unsubscribe(&self, dossier: &DossierId, connection: u64) {
        let mut hub = self.hub.lock().expect("hub lock");
        if let Some(subs) = hub.get_mut(dossier) {
            subs.retain(|s| s.connection != connection);
        }
    }

    pub(crate) fn unsubscribe_all(&self, connection: u64) {
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
