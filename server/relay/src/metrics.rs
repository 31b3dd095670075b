//! What the relay counts: envelopes accepted and duplicated, refusals by reason, limits
//! reached. Counts only, never content (see the router's `/api/v1/metrics`).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use livret_shared::protocol::Rejection;

#[derive(Default)]
pub struct Metrics {
    pub accepted: AtomicU64,
    pub duplicates: AtomicU64,
    /// Presence messages over a connection's budget, dropped.
    pub presence_dropped: AtomicU64,
    /// Dossiers another node changed without this node hearing of it (a lost poke), found
    /// by the periodic sweep (`cluster`).
    pub sweeps_behind: AtomicU64,
    /// Dossiers deleted on their candidate's notice (replays included).
    pub deletions: AtomicU64,
    /// Dossiers ended at the end of their retention.
    pub expirations: AtomicU64,
    rejected: Mutex<BTreeMap<&'static str, u64>>,
    /// Requests and connections stopped by one of the relay's limits, by limit.
    limited: Mutex<BTreeMap<&'static str, u64>>,
}

impl Metrics {
    pub(crate) fn reject(&self, r: Rejection) {
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
            "sweeps_behind": self.sweeps_behind.load(Ordering::Relaxed),
            "deletions": self.deletions.load(Ordering::Relaxed),
            "expirations": self.expirations.load(Ordering::Relaxed),
            "rejected": *self.rejected.lock().expect("metrics lock"),
            "limited": *self.limited.lock().expect("metrics lock"),
        })
    }
}
