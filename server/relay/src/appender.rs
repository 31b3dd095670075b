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
use livret_shared::keys::{self, MemberKey};
use livret_shared::membership::{Membership, SignedEntry};
use livret_shared::protocol::{self, Accept, Rejection, ServerMsg};
use tokio::sync::oneshot;

use crate::handlers::{fold_log, refusal};
use crate::hub::Relay;
use crate::outgoing::Outgoing;
use crate::store::{NewEnvelope, Store, StoredSnapshot};

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
    last: HashMap<(DossierId, MemberKey), u64>,
}

impl AppendState {
    /// The dossier's membership (`None`: no such dossier), folded once and kept. A store
    /// that failed is asked again next time: a failure kept would read as "no such
    /// dossier" until the relay restarts.
    fn membership(
        &mut self,
        store: &dyn Store,
        dossier: &DossierId,
    ) -> Result<Option<&Membership>, Rejection> {
        if !self.memberships.contains_key(dossier) {
            let log = store
                .membership_log(dossier)
                .map_err(|_| Rejection::Malformed)?;
            self.memberships.insert(*dossier, fold_log(&log));
        }
        Ok(self.memberships[dossier].as_ref())
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
}

pub(crate) fn appender(relay: std::sync::Weak<Relay>, jobs: std::sync::mpsc::Receiver<Job>) {
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
        let mut pending: HashMap<(DossierId, MemberKey, u64), usize> = HashMap::new();
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
                    let known = state.last(store.as_ref(), key).and_then(|last| {
                        Ok((state.membership(store.as_ref(), &header.dossier)?, last))
                    });
                    let (membership, last) = match known {
                        Ok(known) => known,
                        Err(unavailable) => {
                            replies.push(Reply::Push {
                                to: reply,
                                header,
                                result: Err(unavailable),
                                appended: None,
                            });
                            continue;
                        }
                    };
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
                        membership,
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

fn snapshot(
    store: &dyn Store,
    state: &mut AppendState,
    header: &Header,
    bytes: Vec<u8>,
    covers: BTreeMap<MemberKey, u64>,
) -> Result<[u8; 32], Rejection> {
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
    tracing::info!(dossier = %keys::short(&header.dossier.0), "snapshot active");
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
    state.memberships.insert(dossier, Some(m));
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
    state.memberships.insert(dossier, Some(next));
    Ok(e.body.seq)
}
