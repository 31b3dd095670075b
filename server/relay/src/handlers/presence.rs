//! Presence ("who is in which field"): passed on to the other connections following the
//! dossier, never stored or logged.

use std::sync::atomic::Ordering;

use axum::body::Bytes;
use livret_shared::envelope::Kind;
use livret_shared::protocol::{self, Rejection, ServerMsg};
use livret_shared::ratelimit::TokenBucket;

use super::{Caller, rejected};

/// Presence a device may send per dossier, whatever number of connections it opens: a burst
/// (tabbing through fields), then a few a second; beyond, messages are dropped without a
/// word (presence is a courtesy, and a refusal would cost an honest app its connection).
const PRESENCE_BURST: u32 = 30;
const PRESENCE_PER_SECOND: u32 = 5;

/// Passes a presence message on to the other connections following its dossier. The sender
/// must have signed it and follow the dossier itself (which proved membership, and ends
/// with a removal); the receivers check the rest.
pub(crate) fn forward(caller: &Caller<'_>, envelope: Vec<u8>) -> Vec<ServerMsg> {
    let relay = caller.relay;
    if envelope.len() > livret_shared::presence::MAX_PRESENCE {
        return rejected(relay, Rejection::TooLarge, "présence trop longue");
    }
    let env = match protocol::parse_and_verify_from(&envelope, caller.device) {
        Ok(env) if env.header.kind == Kind::Presence => env,
        Ok(_) => return rejected(relay, Rejection::Malformed, "pas un message de présence"),
        Err(r) => return rejected(relay, r, "présence refusée"),
    };
    let dossier = env.header.dossier;
    if !relay.follows(&dossier, caller.connection) {
        return rejected(
            relay,
            Rejection::Forbidden,
            "dossier non suivi par cette connexion",
        );
    }
    let now = crate::clock::now_ms() as u64;
    let allowed = relay
        .presence_budgets
        .lock()
        .expect("budgets lock")
        .entry((dossier, caller.me))
        .or_insert_with(|| TokenBucket::new(PRESENCE_BURST, PRESENCE_PER_SECOND, now))
        .take(now);
    if !allowed {
        relay
            .metrics
            .presence_dropped
            .fetch_add(1, Ordering::Relaxed);
        return Vec::new();
    }
    relay.poke(crate::cluster::Poke::Presence(dossier, envelope.clone()));
    let frame = protocol::encode(&ServerMsg::Presence { envelope });
    relay.fan_out(&dossier, caller.connection, Bytes::from(frame));
    Vec::new()
}
