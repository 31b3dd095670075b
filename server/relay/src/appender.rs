//! The write path: one thread takes whatever is queued, checks it in order against the
//! dossier's membership and each writer's last counter (the rules of `livret-shared`, the
//! same the in-memory harness runs) and commits it in one transaction (group commit), so
//! acknowledgements stay durable without one fsync per envelope. Signature checks happen
//! before, in the connections' tasks; answers go out once the batch is committed, then the
//! fan-out.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::Ordering;

use axum::body::Bytes;
use livret_shared::envelope::{DossierId, Header};
use livret_shared::keys::MemberKey;
use livret_shared::membership::{Membership, SignedEntry};
use livret_shared::protocol::{self, Accept, Rejection, ServerMsg};
use tokio::sync::oneshot;

use crate::cluster::Poke;
use crate::handlers::{fold_log, refusal};
use crate::hub::{Committed, Relay};
use crate::outgoing::Outgoing;
use crate::store::{Ending, NewEnvelope, Store, StoreError, StoredSnapshot, Tombstone};

pub(crate) enum Job {
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
        author: MemberKey,
        reply: oneshot::Sender<Result<(), Rejection>>,
    },
    Membership {
        dossier: DossierId,
        entry: Vec<u8>,
        author: MemberKey,
        from: u64,
        reply: oneshot::Sender<Result<u64, Rejection>>,
    },
    Snapshot {
        header: Header,
        bytes: Vec<u8>,
        covers: BTreeMap<MemberKey, u64>,
        reply: oneshot::Sender<Result<[u8; 32], Rejection>>,
    },
    /// Another relay node changed this dossier: what is kept of it may be out of date (its
    /// writers' counters; its members too, with `members`).
    Forget { dossier: DossierId, members: bool },
    /// Ends a dossier whose retention is over (see `retention`).
    Expire {
        dossier: DossierId,
        retention_ms: i64,
        reply: oneshot::Sender<Option<Tombstone>>,
    },
    /// Deletes a dossier on its candidate's notice (see `handlers::dossiers::delete`).
    Delete {
        dossier: DossierId,
        notice: Vec<u8>,
        author: MemberKey,
        reply: oneshot::Sender<Result<Tombstone, DeleteRefused>>,
    },
}

/// Why a deletion was refused, in the words sent back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DeleteRefused {
    pub reason: Rejection,
    pub detail: String,
}

/// An envelope's answer, sent once its batch is committed: where to, the verdict, and (when
/// appended) its place in the batch and the connection it came from, for the fan-out.
enum Reply {
    Push {
        to: Outgoing,
        header: Header,
        result: Result<Accept, Rejection>,
        appended: Option<(usize, u64)>,
        /// The connection it came on.
        from: u64,
        /// Its bytes, unless appended (then in the batch to store).
        bytes: Option<Vec<u8>>,
    },
    Ready(Outgoing, ServerMsg),
}

/// State the appender keeps between jobs: folded memberships and last counters. Other relay
/// nodes on the same database change both behind its back: what it keeps is forgotten when
/// they say so (`Job::Forget`), checked again before an envelope is refused, and checked by
/// the store in the append's transaction ([`StoreError::Stale`]).
#[derive(Default)]
struct AppendState {
    memberships: HashMap<DossierId, Membership>,
    last: HashMap<(DossierId, MemberKey), u64>,
    /// When this node last noted activity in each dossier (its retention counts from it):
    /// at most once per [`TOUCH_EVERY_MS`], not at every batch.
    touched: HashMap<DossierId, i64>,
}

/// How stale a dossier's last activity may be in the store: against a retention of months,
/// an hour is nothing, and a write per batch would be one more statement per dossier.
const TOUCH_EVERY_MS: i64 = 3600 * 1000;

impl AppendState {
    /// The dossier's membership (`None`: no such dossier), folded once and kept. Neither a
    /// store failure nor an unknown dossier is kept: the first would read as "no such
    /// dossier" until the relay restarts, the second until it learns the dossier was made
    /// (on another node, say).
    fn membership(
        &mut self,
        store: &dyn Store,
        dossier: &DossierId,
    ) -> Result<Option<&Membership>, Rejection> {
        if !self.memberships.contains_key(dossier) {
            let log = store
                .membership_log(dossier)
                .map_err(|_| Rejection::Malformed)?;
            match fold_log(&log) {
                Some(m) => self.memberships.insert(*dossier, m),
                None => return Ok(None),
            };
        }
        Ok(self.memberships.get(dossier))
    }

    /// A writer's last stored counter, kept; not kept when the store failed (a 0 kept
    /// would refuse the writer's next envelopes as a gap until the relay restarts).
    fn last(&mut self, store: &dyn Store, key: (DossierId, MemberKey)) -> Result<u64, Rejection> {
        if let Some(last) = self.last.get(&key) {
            return Ok(*last);
        }
        let last = store
            .last_counter(&key.0, &key.1)
            .map_err(|_| Rejection::Malformed)?;
        self.last.insert(key, last);
        Ok(last)
    }

    /// Notes activity in `dossiers` now, those not noted within [`TOUCH_EVERY_MS`]. A
    /// failure is logged: the dossier is touched again at its next write.
    fn touch(&mut self, store: &dyn Store, dossiers: &[DossierId]) {
        let now = crate::clock::now_ms();
        let stale: Vec<DossierId> = dossiers
            .iter()
            .filter(|d| {
                self.touched
                    .get(d)
                    .is_none_or(|at| now - at >= TOUCH_EVERY_MS)
            })
            .copied()
            .collect();
        if stale.is_empty() {
            return;
        }
        match store.touch(&stale, now) {
            Ok(()) => self.touched.extend(stale.into_iter().map(|d| (d, now))),
            Err(e) => tracing::warn!("activity not noted: {e}"),
        }
    }

    /// Forgets what is kept of a dossier: its writers' counters and, with `members`, its
    /// membership.
    fn forget(&mut self, dossier: &DossierId, members: bool) {
        self.last.retain(|(d, _), _| d != dossier);
        if members {
            self.memberships.remove(dossier);
        }
    }
}

/// Times a batch is checked and appended again when the store finds it was checked against
/// what another node has changed since; then its writers are told to retry.
const APPEND_ATTEMPTS: usize = 3;

pub(crate) fn appender(relay: std::sync::Weak<Relay>, jobs: std::sync::mpsc::Receiver<Job>) {
    let mut state = AppendState::default();
    while let Ok(first) = jobs.recv() {
        let Some(relay) = relay.upgrade() else { return };
        let mut batch = vec![first];
        while batch.len() < 512 {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        for attempt in 1..=APPEND_ATTEMPTS {
            batch = run_batch(&relay, &mut state, batch, attempt == APPEND_ATTEMPTS);
            if batch.is_empty() {
                break;
            }
        }
    }
}

/// Checks a batch in order, commits what passed in one transaction, answers and fans out.
/// Answers the jobs to run again: when the store found the batch stale (and this is not
/// the `last_try`), nothing was stored and no envelope was answered yet.
fn run_batch(relay: &Relay, state: &mut AppendState, batch: Vec<Job>, last_try: bool) -> Vec<Job> {
    let store = relay.store.clone();
    // Check envelopes in order against the state as this batch changes it.
    let mut to_store: Vec<NewEnvelope> = Vec::new();
    let mut replies: Vec<Reply> = Vec::new();
    let mut pending: HashMap<(DossierId, MemberKey, u64), usize> = HashMap::new();
    let mut snapshots = Vec::new();
    let mut deletions = Vec::new();
    let mut expiries = Vec::new();
    let mut forgotten = Vec::new();
    for job in batch {
        match job {
            Job::Envelope {
                header,
                bytes,
                from,
                reply,
            } => {
                let check = |state: &mut AppendState| {
                    check_envelope(store.as_ref(), state, &header, &bytes, &pending, &to_store)
                };
                let mut checked = check(state);
                // Refused by what is kept here? Another node may have changed it: check
                // again against the store (keeping the counter of a writer this batch
                // advanced, which the store does not have yet).
                if matches!(checked, Ok((Err(r), _)) if rechecked_after_refusal(r)) {
                    let advanced = to_store
                        .iter()
                        .any(|e| e.dossier == header.dossier && e.writer == header.writer);
                    if !advanced {
                        state.last.remove(&(header.dossier, header.writer));
                    }
                    state.memberships.remove(&header.dossier);
                    checked = check(state);
                }
                let (result, members_seen) = match checked {
                    Ok(checked) => checked,
                    Err(refused) => (Err(refused), 0),
                };
                let mut appended = None;
                let mut bytes = Some(bytes);
                if result == Ok(Accept::Append) {
                    state
                        .last
                        .insert((header.dossier, header.writer), header.counter);
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
                        bytes: bytes.take().expect("bytes not yet moved"),
                        members_seen,
                    });
                }
                replies.push(Reply::Push {
                    to: reply,
                    header,
                    result,
                    appended,
                    from,
                    bytes,
                });
            }
            Job::Answer { message, reply } => replies.push(Reply::Ready(reply, message)),
            // After this batch: forgotten now, the counters of writers whose envelopes
            // wait in it (not in the store yet) would be read back from the store, and
            // their next envelopes refused as gaps.
            Job::Forget { dossier, members } => forgotten.push((dossier, members)),
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
            // After this batch's envelopes are committed too: an envelope checked before
            // the deletion is erased with the rest, none is stored after it.
            Job::Delete {
                dossier,
                notice,
                author,
                reply,
            } => deletions.push((dossier, notice, author, reply)),
            Job::Expire {
                dossier,
                retention_ms,
                reply,
            } => expiries.push((dossier, retention_ms, reply)),
            Job::Create {
                dossier,
                entry,
                author,
                reply,
            } => {
                let result = create(store.as_ref(), state, dossier, &entry, author);
                if result.is_ok() {
                    relay.poke(Poke::Members(dossier));
                    // Its retention starts now.
                    state.touch(store.as_ref(), &[dossier]);
                }
                let _ = reply.send(result);
            }
            Job::Membership {
                dossier,
                entry,
                author,
                from,
                reply,
            } => {
                let result = append_membership(store.as_ref(), state, dossier, &entry, author);
                if let Ok(seq) = result {
                    relay.poke(Poke::Members(dossier));
                    state.touch(store.as_ref(), &[dossier]);
                    // Everyone following hears of the change, the removed member too
                    // (so their app can say so); then they follow no more.
                    relay.fan_out_members(
                        &dossier,
                        from,
                        vec![entry],
                        state.memberships.get(&dossier),
                    );
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
    let appended = if to_store.is_empty() {
        Ok(Vec::new())
    } else {
        store.append_envelopes(&to_store)
    };
    for (dossier, members) in forgotten {
        state.forget(&dossier, members);
    }
    let arrivals = match appended {
        Ok(arrivals) => Some(arrivals),
        Err(e) => {
            // Forget what the batch assumed: the counters it advanced (the writers will
            // retry) and, when stale, what another node changed.
            for e in &to_store {
                state.last.remove(&(e.dossier, e.writer));
            }
            if let StoreError::Stale(dossiers) = &e {
                for dossier in dossiers {
                    state.forget(dossier, true);
                }
                if !last_try {
                    tracing::info!(count = to_store.len(), "batch checked again: {e}");
                    for (header, bytes, covers, reply) in snapshots {
                        let result = snapshot(store.as_ref(), state, &header, bytes, covers);
                        let _ = reply.send(result);
                    }
                    delete_all(relay, state, deletions);
                    for (dossier, retention_ms, reply) in expiries {
                        let _ = reply.send(expire(relay, state, dossier, retention_ms));
                    }
                    return replies
                        .into_iter()
                        .map(|r| r.into_job(&mut to_store))
                        .collect();
                }
            }
            tracing::error!(
                count = to_store.len(),
                "commit failed; envelopes not acknowledged: {e}"
            );
            None
        }
    };
    // Answer every writer, then fan out per dossier in as few frames as possible.
    let mut fan: HashMap<DossierId, Vec<Committed<'_>>> = HashMap::new();
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
                ..
            } => (to, header, result, appended),
        };
        // Nothing stored: neither what this batch appended nor a repeat of it (answered as
        // a duplicate of what was pending) is acknowledged.
        let repeats_pending =
            pending.contains_key(&(header.dossier, header.writer, header.counter));
        let result = match result {
            Ok(_) if arrivals.is_none() && repeats_pending => Err(Rejection::Malformed),
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
                if let (Accept::Append, Some((i, from)), Some(arrivals)) =
                    (accept, appended, &arrivals)
                {
                    fan.entry(header.dossier).or_default().push((
                        from,
                        arrivals[i],
                        &to_store[i].bytes,
                    ));
                }
                ServerMsg::Ack {
                    dossier: header.dossier,
                    writer: header.writer,
                    counter: header.counter,
                }
            }
            Err(reason) => refusal(
                relay,
                reason,
                format!("enveloppe {} refusée", header.counter),
            ),
        };
        let _ = to.send(Bytes::from(protocol::encode(&answer)));
    }
    for (dossier, envelopes) in &fan {
        relay.fan_out_batch(dossier, envelopes);
        relay.poke(Poke::Envelopes(*dossier));
    }
    let written: Vec<DossierId> = fan.keys().copied().collect();
    state.touch(store.as_ref(), &written);
    for (header, bytes, covers, reply) in snapshots {
        let result = snapshot(store.as_ref(), state, &header, bytes, covers);
        let _ = reply.send(result);
    }
    delete_all(relay, state, deletions);
    for (dossier, retention_ms, reply) in expiries {
        let _ = reply.send(expire(relay, state, dossier, retention_ms));
    }
    Vec::new()
}

type Deletion = (
    DossierId,
    Vec<u8>,
    MemberKey,
    oneshot::Sender<Result<Tombstone, DeleteRefused>>,
);

/// Runs a batch's deletions, each told to the dossier's followers here and to the other
/// nodes once done.
fn delete_all(relay: &Relay, state: &mut AppendState, deletions: Vec<Deletion>) {
    for (dossier, notice, author, reply) in deletions {
        let result = delete(relay.store.as_ref(), state, dossier, &notice, author);
        if let Ok(tombstone) = &result {
            state.forget(&dossier, true);
            relay.tell_deleted(&dossier, tombstone);
            relay.poke(Poke::Members(dossier));
        }
        let _ = reply.send(result);
    }
}

/// Deletes a dossier if `notice` is its candidate's, given by the device that signed it,
/// on the members stored now; a dossier already deleted answers its tombstone (and what a
/// failure left of it is erased again).
fn delete(
    store: &dyn Store,
    state: &mut AppendState,
    dossier: DossierId,
    notice: &[u8],
    author: MemberKey,
) -> Result<Tombstone, DeleteRefused> {
    use livret_shared::deletion::{DeletionError, DeletionNotice};
    let refused = |reason, detail: &str| DeleteRefused {
        reason,
        detail: detail.to_string(),
    };
    let unavailable = || refused(Rejection::Malformed, "serveur indisponible");
    state.memberships.remove(&dossier);
    let Some(current) = state
        .membership(store, &dossier)
        .map_err(|_| unavailable())?
    else {
        let kept = store.tombstone(&dossier).map_err(|_| unavailable())?;
        return match kept {
            Some(t) => store
                .delete_dossier(&dossier, Ending::Notice(&t.notice), t.deleted_ms)
                .map_err(|_| unavailable())?
                .ok_or_else(unavailable),
            None => Err(refused(Rejection::UnknownDossier, "dossier inconnu")),
        };
    };
    let notice_read = DeletionNotice::from_bytes(notice)
        .map_err(|_| refused(Rejection::Malformed, "avis de suppression illisible"))?;
    if notice_read.signer != author || !current.is_owner(&author) {
        return Err(refused(
            Rejection::Forbidden,
            "seul le candidat peut supprimer son dossier",
        ));
    }
    notice_read.check_for_relay(current).map_err(|e| match e {
        DeletionError::Outdated => refused(Rejection::WrongEpoch, &e.to_string()),
        DeletionError::BadSignature => refused(Rejection::BadSignature, &e.to_string()),
        _ => refused(Rejection::Forbidden, &e.to_string()),
    })?;
    store
        .delete_dossier(&dossier, Ending::Notice(notice), crate::clock::now_ms())
        .map_err(|e| {
            tracing::error!("deletion failed: {e}");
            unavailable()
        })?
        .ok_or_else(unavailable)
}

/// Ends a dossier whose retention is over (checked again in the deletion's transaction: a
/// renewal meanwhile keeps it); `None` when it was not.
fn expire(
    relay: &Relay,
    state: &mut AppendState,
    dossier: DossierId,
    retention_ms: i64,
) -> Option<Tombstone> {
    let now = crate::clock::now_ms();
    match relay
        .store
        .delete_dossier(&dossier, Ending::Expired { retention_ms }, now)
    {
        Ok(Some(tombstone)) => {
            state.forget(&dossier, true);
            state.touched.remove(&dossier);
            relay.tell_deleted(&dossier, &tombstone);
            relay.poke(Poke::Members(dossier));
            Some(tombstone)
        }
        Ok(None) => None,
        Err(e) => {
            tracing::error!("expiry failed: {e}");
            None
        }
    }
}

/// Refusals that what the appender keeps can cause when another node changed the dossier
/// (a writer that pushed there, a member it added): checked again against the store.
fn rechecked_after_refusal(reason: Rejection) -> bool {
    matches!(
        reason,
        Rejection::UnknownDossier
            | Rejection::UnknownWriter
            | Rejection::Forbidden
            | Rejection::WrongEpoch
            | Rejection::Gap
    )
}

/// The verdict on one envelope, with the membership entries it was checked against.
fn check_envelope(
    store: &dyn Store,
    state: &mut AppendState,
    header: &Header,
    bytes: &[u8],
    pending: &HashMap<(DossierId, MemberKey, u64), usize>,
    to_store: &[NewEnvelope],
) -> Result<(Result<Accept, Rejection>, u64), Rejection> {
    let last = state.last(store, (header.dossier, header.writer))?;
    let membership = state.membership(store, &header.dossier)?;
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
    let members_seen = membership.map_or(0, |m| m.next_seq);
    let result = protocol::check_header(header, bytes, membership, last, stored.as_deref());
    Ok((result, members_seen))
}

impl Reply {
    /// The job that made this reply, to run again (see `run_batch`).
    fn into_job(self, to_store: &mut [NewEnvelope]) -> Job {
        match self {
            Reply::Ready(reply, message) => Job::Answer { message, reply },
            Reply::Push {
                to,
                header,
                appended,
                from,
                bytes,
                result: _,
            } => {
                let bytes = match (appended, bytes) {
                    (_, Some(bytes)) => bytes,
                    (Some((i, _)), None) => std::mem::take(&mut to_store[i].bytes),
                    (None, None) => unreachable!("bytes kept unless appended"),
                };
                Job::Envelope {
                    header,
                    bytes,
                    from,
                    reply: to,
                }
            }
        }
    }
}

fn snapshot(
    store: &dyn Store,
    state: &mut AppendState,
    header: &Header,
    bytes: Vec<u8>,
    covers: BTreeMap<MemberKey, u64>,
) -> Result<[u8; 32], Rejection> {
    // The members stored now (another node may have changed them; snapshots are rare).
    state.memberships.remove(&header.dossier);
    let membership = state.membership(store, &header.dossier)?.cloned();
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
    tracing::info!("snapshot active");
    Ok(id)
}

fn create(
    store: &dyn Store,
    state: &mut AppendState,
    dossier: DossierId,
    entry: &[u8],
    author: MemberKey,
) -> Result<(), Rejection> {
    let e = SignedEntry::from_bytes(entry).map_err(|_| Rejection::BadMembership)?;
    let m = Membership::genesis(&e).map_err(|_| Rejection::BadMembership)?;
    if m.dossier != dossier || m.owner != author {
        return Err(Rejection::BadMembership);
    }
    let members: Vec<MemberKey> = m.members.keys().copied().collect();
    store
        .create_dossier(&dossier, entry, &members)
        .map_err(|_| Rejection::BadMembership)?;
    state.memberships.insert(dossier, m);
    Ok(())
}

fn append_membership(
    store: &dyn Store,
    state: &mut AppendState,
    dossier: DossierId,
    entry: &[u8],
    author: MemberKey,
) -> Result<u64, Rejection> {
    let e = SignedEntry::from_bytes(entry).map_err(|_| Rejection::BadMembership)?;
    // Checked against the members stored now, not those kept: another node may have
    // changed them, and a change of members is rare enough to read them each time.
    state.memberships.remove(&dossier);
    let current = state
        .membership(store, &dossier)?
        .cloned()
        .ok_or(Rejection::UnknownDossier)?;
    if !current.is_owner(&author) {
        return Err(Rejection::Forbidden);
    }
    let mut next = current;
    next.apply(&e).map_err(|_| Rejection::BadMembership)?;
    if next.members.len() > crate::limits::MAX_MEMBERS_PER_DOSSIER {
        return Err(Rejection::TooLarge);
    }
    let members: Vec<MemberKey> = next.members.keys().copied().collect();
    store
        .append_membership(&dossier, e.body.seq, entry, &members)
        .map_err(|_| Rejection::BadMembership)?;
    state.memberships.insert(dossier, next);
    Ok(e.body.seq)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use livret_shared::envelope::{DossierId, Envelope, random_nonce};
    use livret_shared::keys::{DeviceSecret, EpochKeys};
    use livret_shared::membership::Role;
    use livret_shared::protocol::{self, Rejection, ServerMsg};
    use livret_shared::sync::Replica;
    use tokio::sync::oneshot;

    use super::Job;
    use crate::hub::Relay;
    use crate::outgoing::Outgoing;
    use crate::store::{EnvelopeStore, PgStore};

    /// An envelope pushed to `relay`'s appender, and its answer.
    fn push(relay: &Relay, bytes: &[u8]) -> ServerMsg {
        let header = Envelope::parse(bytes).unwrap().header;
        let (reply, mut answers) = Outgoing::new();
        relay
            .appender
            .send(Job::Envelope {
                header,
                bytes: bytes.to_vec(),
                from: 1,
                reply,
            })
            .unwrap();
        protocol::decode(&answers.blocking_recv().unwrap()).unwrap()
    }

    fn change_members(relay: &Relay, dossier: DossierId, entry: &[u8], author: &DeviceSecret) {
        let (reply, answer) = oneshot::channel();
        relay
            .appender
            .send(Job::Membership {
                dossier,
                entry: entry.to_vec(),
                author: author.signing_public(),
                from: 1,
                reply,
            })
            .unwrap();
        answer.blocking_recv().unwrap().unwrap();
    }

    /// Two relay nodes on one database that never hear from each other (their pokes lost):
    /// what each keeps in memory goes out of date, and neither refuses what it should take
    /// nor takes what it should refuse. A writer that moved to the other node and back is
    /// not refused as a gap; a member removed on the other node is refused, not stored.
    #[test]
    fn nodes_that_never_hear_from_each_other_still_check_against_the_database() {
        let server = crate::testing::ThrowawayPostgres::start();
        let url = server.database("stale");
        let node = || Relay::new(Arc::new(PgStore::connect(&url).unwrap()), None);
        let (x, y) = (node(), node());
        let owner = DeviceSecret::generate();
        let advisor = DeviceSecret::generate();
        let id = DossierId::generate();
        let (mut owners, genesis) = Replica::create(&owner, id, EpochKeys::generate()).unwrap();
        let (reply, created) = oneshot::channel();
        x.appender
            .send(Job::Create {
                dossier: id,
                entry: genesis.to_bytes(),
                author: owner.signing_public(),
                reply,
            })
            .unwrap();
        created.blocking_recv().unwrap().unwrap();
        let added = owners
            .add_member(&owner, &advisor.id(), Role::Advisor)
            .unwrap();
        change_members(&x, id, &added.to_bytes(), &owner);
        owners.dossier().set("fiches.0.taches", "").unwrap();
        let layout = owners.flush(&owner, random_nonce()).unwrap().unwrap();
        assert!(matches!(push(&x, &layout), ServerMsg::Ack { .. }));
        let mut advisors = Replica::join(&advisor, owners.log().to_vec()).unwrap();
        advisors.receive(std::slice::from_ref(&layout)).unwrap();
        let sealed: Vec<Vec<u8>> = (0..5)
            .map(|i| {
                advisors
                    .dossier()
                    .set("fiches.0.taches", &format!("v{i}"))
                    .unwrap();
                advisors.flush(&advisor, random_nonce()).unwrap().unwrap()
            })
            .collect();
        let acked = |answer: ServerMsg| matches!(answer, ServerMsg::Ack { .. });
        assert!(acked(push(&x, &sealed[0])));
        // The advisor's device reconnects to y and pushes 2 and 3 there, then comes back to
        // x, which still thinks its last counter is 1.
        assert!(acked(push(&y, &sealed[1])));
        assert!(acked(push(&y, &sealed[2])));
        let back = push(&x, &sealed[3]);
        assert!(acked(back.clone()), "refused after moving nodes: {back:?}");
        // The owner removes the advisor through y; x still holds the old members.
        let removed = owners
            .remove_member(&owner, &advisor.signing_public())
            .unwrap();
        change_members(&y, id, &removed.to_bytes(), &owner);
        let after_removal = push(&x, &sealed[4]);
        assert!(
            matches!(
                after_removal,
                ServerMsg::Rejected {
                    reason: Rejection::UnknownWriter,
                    ..
                }
            ),
            "a removed member's envelope: {after_removal:?}"
        );
        let store = PgStore::connect(&url).unwrap();
        assert_eq!(
            store.last_counter(&id, &advisor.signing_public()).unwrap(),
            4
        );
    }
}
