//! Following a dossier: the membership checked (twice, around joining the hub, so a removal
//! committed meanwhile is not missed), then the catch-up from what the device already has,
//! read off the async runtime and sent in frames; a removed device learns of its removal.

use std::collections::BTreeMap;

use livret_shared::envelope::DossierId;
use livret_shared::keys::MemberKey;
use livret_shared::membership::{Op, SignedEntry};
use livret_shared::protocol::{Rejection, ServerMsg};

use super::{Caller, fold_log, off_runtime, rejected, unavailable};
use crate::hub::Relay;
use crate::store::{Store, StoreError};

pub(crate) async fn subscribe(
    caller: &Caller<'_>,
    dossier: DossierId,
    since: Vec<(MemberKey, u64)>,
) -> Vec<ServerMsg> {
    let relay = caller.relay;
    let me = caller.me;
    let connection = caller.connection;
    let membership_log = move |relay: &Relay| relay.store.membership_log(&dossier);
    let Some(Ok(log)) = off_runtime(relay, membership_log).await else {
        return unavailable(relay);
    };
    let Some(membership) = fold_log(&log) else {
        if let Some(deleted) = super::dossiers::deleted_answer(relay, dossier).await {
            return deleted;
        }
        return rejected(relay, Rejection::UnknownDossier, "dossier inconnu");
    };
    if membership.role_of(&me).is_none() {
        return refuse_non_member(relay, dossier, &log, &me);
    }
    // Subscribe first, then read: an envelope committed in between arrives twice at worst,
    // and replicas drop duplicates.
    relay.subscribe(dossier, connection, me, caller.tx.clone());
    // A removal committed between the check above and the subscription would have pruned
    // the followers before this one joined: check again now that it follows (a removal
    // committed later prunes it). The log read here is also the one sent back, so the
    // catch-up matches it.
    // With other relay nodes, what this node's followers of the dossier are sent is
    // counted from here, before the catch-up is read (`Relay::watch`).
    let watched_log = move |relay: &Relay| {
        let log = relay.store.membership_log(&dossier)?;
        relay.watch(&dossier, log.len())?;
        Ok::<_, StoreError>(log)
    };
    let Some(Ok(log)) = off_runtime(relay, watched_log).await else {
        relay.unsubscribe(&dossier, connection);
        return unavailable(relay);
    };
    let still_member = fold_log(&log).is_some_and(|m| m.role_of(&me).is_some());
    if log.is_empty() {
        // Deleted meanwhile.
        relay.unsubscribe(&dossier, connection);
        return super::dossiers::deleted_answer(relay, dossier)
            .await
            .unwrap_or_else(|| unavailable(relay));
    }
    if !still_member {
        relay.unsubscribe(&dossier, connection);
        return refuse_non_member(relay, dossier, &log, &me);
    }
    // A history can be long: read off the async runtime, and sent in frames each under
    // what a client accepts.
    let since: BTreeMap<MemberKey, u64> = since.into_iter().collect();
    let Ok(_turn) = relay.catch_ups.acquire().await else {
        return unavailable(relay);
    };
    let read = off_runtime(relay, move |relay| {
        catch_up(relay.store.as_ref(), dossier, log, since)
    });
    match read.await {
        Some(Ok(frames)) => frames,
        _ => unavailable(relay),
    }
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
    device: &MemberKey,
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

/// The catch-up of a subscription, in `Log` frames (the last one `complete`). Behind the
/// active snapshot: the snapshot, then what came after it. Otherwise the tail after what
/// the client has (pruned envelopes included while they last).
fn catch_up(
    store: &dyn Store,
    dossier: DossierId,
    log: Vec<Vec<u8>>,
    mut since: BTreeMap<MemberKey, u64>,
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
