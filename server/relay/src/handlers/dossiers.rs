//! Dossiers and their membership: the dossiers a device belongs to, a new dossier (its
//! genesis entry), and owners' membership entries. Creations and entries go through the
//! appender, which orders them with the envelopes they govern.

use std::sync::Arc;

use livret_shared::deletion::DeletionNotice;
use livret_shared::envelope::DossierId;
use livret_shared::keys::MemberKey;
use livret_shared::membership::SignedEntry;
use livret_shared::protocol::{Rejection, ServerMsg};
use tokio::sync::oneshot;

use super::{Caller, off_runtime, rejected, unavailable, within_quota};
use crate::appender::Job;
use crate::hub::Relay;

/// The dossiers `me` belongs to (on the blocking pool).
pub(crate) fn list(relay: &Relay, me: &MemberKey) -> Vec<ServerMsg> {
    match relay.store.dossiers_of(me) {
        Ok(ids) => vec![ServerMsg::Dossiers { ids }],
        Err(_) => unavailable(relay),
    }
}

pub(crate) async fn create(caller: &Caller<'_>, entry: Vec<u8>) -> Vec<ServerMsg> {
    let relay = caller.relay;
    let me = caller.me;
    let Ok(e) = SignedEntry::from_bytes(&entry) else {
        return rejected(relay, Rejection::BadMembership, "entrée illisible");
    };
    if let Err(refusal) = within_quota(
        relay,
        &relay.quotas.dossiers,
        &me,
        caller.peer,
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
    // A device that kept a deleted dossier's copy must not bring it back.
    if let Some(deleted) = deleted_answer(relay, dossier).await {
        return deleted;
    }
    let (reply, wait) = oneshot::channel();
    let _ = relay.appender.send(Job::Create {
        dossier,
        entry,
        author: me,
        reply,
    });
    match wait.await {
        Ok(Ok(())) => {
            relay.subscribe(dossier, caller.connection, me, caller.tx.clone());
            // No dossier id in the logs: their retention is the operator's, not the
            // dossier's (a deleted dossier must not live on in them).
            tracing::info!("dossier created");
            vec![ServerMsg::MembershipOk { dossier, seq: 0 }]
        }
        Ok(Err(r)) => rejected(relay, r, "création refusée"),
        Err(_) => unavailable(relay),
    }
}

pub(crate) async fn membership(
    caller: &Caller<'_>,
    dossier: DossierId,
    entry: Vec<u8>,
) -> Vec<ServerMsg> {
    let relay = caller.relay;
    let (reply, wait) = oneshot::channel();
    let _ = relay.appender.send(Job::Membership {
        dossier,
        entry,
        author: caller.me,
        from: caller.connection,
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
        Err(_) => unavailable(relay),
    }
}

/// `ServerMsg::Deleted` when `dossier` was deleted, for whoever names it (a device that
/// comes back learns it so, and checks the notice); `None` otherwise, or when the store
/// cannot say.
pub(crate) async fn deleted_answer(
    relay: &Arc<Relay>,
    dossier: DossierId,
) -> Option<Vec<ServerMsg>> {
    let tombstone = off_runtime(relay, move |relay| relay.store.tombstone(&dossier)).await?;
    let tombstone = tombstone.ok()??;
    Some(vec![tombstone.message(dossier)])
}

/// Deletes a dossier on its candidate's notice, sent by the device that signed it; a
/// replay of a deletion done is answered as the deletion was.
pub(crate) async fn delete(caller: &Caller<'_>, notice: Vec<u8>) -> Vec<ServerMsg> {
    let relay = caller.relay;
    let Ok(read) = DeletionNotice::from_bytes(&notice) else {
        return rejected(relay, Rejection::Malformed, "avis de suppression illisible");
    };
    // Only the device that signed it sends it: checked here, before the appender (which
    // every write waits for) reads anything.
    if read.signer != caller.me {
        return rejected(
            relay,
            Rejection::Forbidden,
            "seul le candidat peut supprimer son dossier",
        );
    }
    let dossier = read.body.dossier;
    let (reply, wait) = oneshot::channel();
    let _ = relay.appender.send(Job::Delete {
        dossier,
        notice,
        author: caller.me,
        reply,
    });
    match wait.await {
        Ok(Ok(tombstone)) => {
            relay
                .metrics
                .deletions
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            tracing::info!("dossier deleted");
            vec![tombstone.message(dossier)]
        }
        Ok(Err(refused)) => rejected(relay, refused.reason, refused.detail),
        Err(_) => unavailable(relay),
    }
}
