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
    rejected(relay, Rejection::Malformed, "serveur indisponible")
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

#[cfg(test)]
mod tests {
    /// Every detail this relay writes into a refusal by hand has its English, which the
    /// app's English screens show instead of the relay's French
    /// (`livret_shared::words::relay_detail_english`): read from the relay's own source,
    /// the last argument of each `rejected(…)`, `refusal(…)` and `refused(…)` call when it
    /// is a string (a detail made with `format!` is checked with numbers below).
    #[test]
    fn relay_details_are_all_worded_in_english() {
        use livret_shared::words::relay_detail_english;
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = vec![src.clone()];
        let mut details = Vec::new();
        while let Some(path) = files.pop() {
            if path.is_dir() {
                files.extend(
                    std::fs::read_dir(&path)
                        .unwrap()
                        .flatten()
                        .map(|e| e.path()),
                );
                continue;
            }
            if path.extension().is_none_or(|x| x != "rs") {
                continue;
            }
            let whole = std::fs::read_to_string(&path).unwrap();
            // The code, not its tests (this one names the calls it looks for).
            let text = whole.split("#[cfg(test)]").next().unwrap_or_default();
            for call in ["rejected(", "refusal(", "refused("] {
                for (at, _) in text.match_indices(call) {
                    let args = &text[at + call.len()..];
                    // `refused(…)` is also the name of test helpers elsewhere: only the
                    // appender's, which takes a `Rejection`, is a refusal.
                    if call == "refused(" && !args.trim_start().starts_with("Rejection") {
                        continue;
                    }
                    // The call's arguments, to its closing parenthesis.
                    let mut depth = 1;
                    let end = args
                        .char_indices()
                        .find(|(_, c)| {
                            match c {
                                '(' => depth += 1,
                                ')' => depth -= 1,
                                _ => {}
                            }
                            depth == 0
                        })
                        .map_or(0, |(i, _)| i);
                    let last = args[..end].trim().trim_end_matches(',').rsplit(',').next();
                    let Some(last) = last.map(str::trim) else {
                        continue;
                    };
                    if let Some(literal) = last.strip_prefix('"').and_then(|l| l.strip_suffix('"'))
                        && !literal.contains('{')
                    {
                        details.push(literal.to_string());
                    }
                }
            }
        }
        assert!(details.len() > 40, "{details:?}");
        let missing: Vec<_> = details
            .iter()
            .filter(|d| relay_detail_english(d).is_none())
            .collect();
        assert!(missing.is_empty(), "no English for {missing:?}");
        for (made, english) in [
            (
                format!(
                    "adhésion refusée : un dossier compte au plus {} membres",
                    64
                ),
                "membership refused: a dossier has 64 members at most",
            ),
            (format!("enveloppe {} refusée", 7), "envelope 7 refused"),
            (
                format!("morceau {} hors ordre (attendu {})", 3, 2),
                "piece 3 out of order (expected 2)",
            ),
        ] {
            assert_eq!(relay_detail_english(&made).as_deref(), Some(english));
        }
    }
}
