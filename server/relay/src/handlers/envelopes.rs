//! Envelopes and snapshots pushed by a member: signature checked here (a burst's pushes
//! together, in `connection.rs`), then the appender checks them against the membership and
//! the writer's counters, commits, acknowledges and fans out.

use std::collections::BTreeMap;

use livret_shared::envelope::Envelope;
use livret_shared::keys::MemberKey;
use livret_shared::protocol::{self, Rejection, ServerMsg};
use tokio::sync::oneshot;

use super::{Caller, refusal, rejected, unavailable};
use crate::appender::Job;

/// `verified`: the envelope already parsed and checked with the burst it came in.
pub(crate) fn push(
    caller: &Caller<'_>,
    envelope: Vec<u8>,
    verified: Option<Envelope>,
) -> Vec<ServerMsg> {
    let relay = caller.relay;
    let checked = match verified {
        Some(env) => Ok(env),
        None => protocol::parse_and_verify_from(&envelope, caller.device),
    };
    // Not awaited: the appender answers on this connection's queue once the envelope is
    // durable, so the client can keep sending meanwhile. Refusals go through the same
    // queue, so a client's pushes are answered in order.
    let job = match checked {
        Ok(env) => Job::Envelope {
            header: env.header,
            bytes: envelope,
            from: caller.connection,
            reply: caller.tx.clone(),
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
            reply: caller.tx.clone(),
        },
    };
    match relay.appender.send(job) {
        Ok(()) => Vec::new(),
        Err(_) => unavailable(relay),
    }
}

pub(crate) async fn snapshot(
    caller: &Caller<'_>,
    envelope: Vec<u8>,
    covers: Vec<(MemberKey, u64)>,
) -> Vec<ServerMsg> {
    let relay = caller.relay;
    let env = match protocol::parse_and_verify_from(&envelope, caller.device) {
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
    let covers: BTreeMap<MemberKey, u64> = match protocol::snapshot_covers(&env, &covers) {
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
        Err(_) => unavailable(relay),
    }
}
