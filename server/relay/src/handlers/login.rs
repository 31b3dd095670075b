//! The login: a device answers the connection's challenge with its key, signing the nonce
//! and the relay's origin, in a protocol version this relay speaks.

use livret_shared::keys;
use livret_shared::protocol::{self, ClientMsg, Origin, Rejection, ServerMsg};

use super::rejected;
use crate::hub::Relay;

/// The device a first message proves, or the refusal to send: anything but a login, a
/// protocol this relay does not speak, a signature that does not hold.
pub(crate) fn login(
    relay: &Relay,
    origins: &[Origin],
    nonce: &[u8; 32],
    msg: ClientMsg,
) -> Result<keys::Verifier, Vec<ServerMsg>> {
    let ClientMsg::Login {
        protocol: version,
        device: key,
        signature,
    } = msg
    else {
        return Err(match msg {
            ClientMsg::Hello { .. } => outdated_device(relay),
            _ => rejected(
                relay,
                Rejection::NotAuthenticated,
                "authentification requise",
            ),
        });
    };
    if !protocol::PROTOCOLS_SPOKEN.contains(&version) {
        return Err(rejected(
            relay,
            Rejection::UnsupportedProtocol,
            format!(
                "protocole {version} inconnu de ce relais (il parle {} à {})",
                protocol::PROTOCOLS_SPOKEN.start(),
                protocol::PROTOCOLS_SPOKEN.end()
            ),
        ));
    }
    let Some(verifier) = protocol::check_hello(origins, nonce, &key, &signature) else {
        return Err(rejected(
            relay,
            Rejection::BadSignature,
            "réponse au défi invalide",
        ));
    };
    tracing::debug!(device = %keys::short(&key), "authenticated");
    Ok(verifier)
}

/// The answer to a device of protocol 1 (its login carried no version): update, in words it
/// shows as they are.
pub(crate) fn outdated_device(relay: &Relay) -> Vec<ServerMsg> {
    rejected(
        relay,
        Rejection::NotAuthenticated,
        protocol::OUTDATED_DEVICE,
    )
}
