//! What the relay does with each kind of message once a device has logged in, one file per
//! concern; `connection.rs` hands each message to its handler. Handlers answer with the
//! messages to send back (refusals counted and worded here).
//!
//! The store is only ever called off the async runtime: handlers that read or write it are
//! plain functions run on the blocking pool ([`on_blocking_pool`]), those that wait on the
//! appender or a catch-up hand their store work there too. A database call — SQLite's lock,
//! or a network database's round trip behind the same traits — then never stalls the
//! runtime thread that other connections share.

pub(crate) mod dossiers;
pub(crate) mod envelopes;
pub(crate) mod evidence;
pub(crate) mod holdings;
pub(crate) mod invitations;
pub(crate) mod jury_keys;
pub(crate) mod login;
pub(crate) mod presence;
pub(crate) mod reminders;
pub(crate) mod subscribe;

use std::sync::Arc;

use livret_shared::envelope::DossierId;
use livret_shared::keys::{self, MemberKey};
use livret_shared::membership::{Membership, SignedEntry};
use livret_shared::protocol::{Rejection, ServerMsg};

use crate::hub::Relay;
use crate::outgoing::Outgoing;
use crate::store::Store;

/// The logged-in connection a message came on.
pub(crate) struct Caller<'a> {
    pub relay: &'a Arc<Relay>,
    /// The connection's number (the fan-out skips the envelopes it wrote itself).
    pub connection: u64,
    /// Its outgoing queue (answers that come after the appender's commit, fan-out).
    pub tx: &'a Outgoing,
    /// Its device's key, as checked at login.
    pub device: &'a keys::Verifier,
    /// The same key's bytes.
    pub me: MemberKey,
    /// The address it came from (quotas per address), when known.
    pub peer: Option<std::net::IpAddr>,
}

/// Runs `work` on the blocking pool, in the span of the message it answers (so its log
/// lines keep the connection's fields); `None` if it panicked.
pub(crate) async fn off_runtime<T: Send + 'static>(
    relay: &Arc<Relay>,
    work: impl FnOnce(&Relay) -> T + Send + 'static,
) -> Option<T> {
    let relay = relay.clone();
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || span.in_scope(|| work(&relay)))
        .await
        .ok()
}

/// A handler that works with the store, run on the blocking pool ([`off_runtime`]).
pub(crate) async fn on_blocking_pool(
    relay: &Arc<Relay>,
    handler: impl FnOnce(&Relay) -> Vec<ServerMsg> + Send + 'static,
) -> Vec<ServerMsg> {
    match off_runtime(relay, handler).await {
        Some(answer) => answer,
        None => unavailable(relay),
    }
}

/// The refusal when the relay itself failed (its store, a task).
pub(crate) fn unavailable(relay: &Relay) -> Vec<ServerMsg> {
    rejected(relay, Rejection::Malformed, "relais indisponible")
}

/// The role `me` has in `dossier` now; `None` when not a member (or no such dossier).
pub(crate) fn role_in(
    store: &dyn Store,
    dossier: &DossierId,
    me: &MemberKey,
) -> Option<livret_shared::membership::Role> {
    load_membership(store, dossier).and_then(|m| m.role_of(me))
}

/// Counts one against a daily quota (`limits`), or the refusal to send, counted under
/// `what` in the metrics.
pub(crate) fn within_quota(
    relay: &Relay,
    quota: &crate::limits::DailyQuota,
    me: &MemberKey,
    peer: Option<std::net::IpAddr>,
    (per_key, per_address): (u32, u32),
    what: &'static str,
    detail: &str,
) -> Result<(), Vec<ServerMsg>> {
    let now = crate::clock::now_ms() as u64;
    quota
        .take(me, peer, per_key, per_address, now)
        .map_err(|_| {
            relay.metrics.limit(what);
            rejected(relay, Rejection::TooLarge, detail.to_string())
        })
}

pub(crate) fn load_membership(store: &dyn Store, dossier: &DossierId) -> Option<Membership> {
    fold_log(&store.membership_log(dossier).ok()?)
}

/// A stored membership log (entries as bytes) folded; `None` when empty or invalid.
pub(crate) fn fold_log(log: &[Vec<u8>]) -> Option<Membership> {
    let entries: Vec<SignedEntry> = log
        .iter()
        .filter_map(|b| SignedEntry::from_bytes(b).ok())
        .collect();
    if entries.is_empty() {
        return None;
    }
    Membership::from_log(&entries).ok()
}

/// Counts and logs a refusal (reason and counter only, never content) and words the answer.
pub(crate) fn refusal(relay: &Relay, reason: Rejection, detail: impl Into<String>) -> ServerMsg {
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
