//! The relay's WebSocket: connecting as this device, asking and reading answers, catch-ups.

use super::*;

/// The relay's WebSocket address: the origin that served the app.
pub(super) fn relay_url() -> Result<String, Error> {
    let location = web_sys::window().ok_or_else(no_window)?.location();
    let protocol = location.protocol().map_err(|_| address_unreadable())?;
    let host = location.host().map_err(|_| address_unreadable())?;
    let scheme = if protocol == "https:" { "wss" } else { "ws" };
    Ok(format!("{scheme}://{host}/api/v1/sync"))
}

pub(super) async fn next_message(socket: &Socket) -> Result<ServerMsg, Error> {
    let frame = socket.next().await.ok_or_else(relay_lost)?;
    protocol::decode(&frame).ok_or_else(relay_unreadable)
}

pub(super) fn send(socket: &Socket, msg: &ClientMsg) -> Result<(), Error> {
    socket.send(&protocol::encode(msg)).map_err(Error::Browser)
}

/// Talks to the relay as the key `answer` signs with: answers its challenge.
pub(super) async fn connect(
    answer: impl FnOnce(&[u8]) -> Result<(MemberKey, [u8; 64]), Error>,
) -> Result<Socket, Error> {
    let url = relay_url()?;
    let socket = Socket::connect(&url).await.map_err(Error::Browser)?;
    let ServerMsg::Challenge { nonce } = next_message(&socket).await? else {
        return Err(Error::said(
            "le serveur n'a pas envoyé de défi",
            "the server sent no challenge",
        ));
    };
    // Signed for the relay this page came from: passed on by another relay, it fails there.
    let origin = protocol::Origin::parse(&url).ok_or_else(address_unreadable)?;
    let (device, signature) = answer(&protocol::login_message(&origin, &nonce))?;
    send(&socket, &protocol::login(device, signature))?;
    protocol::login_answer(next_message(&socket).await?).map_err(|refused| match refused {
        protocol::LoginRefused::Refused(detail) => relay_said(&detail),
        other => Error::from(other),
    })?;
    Ok(socket)
}

/// [`connect`] as this browser's device.
pub(super) async fn connect_as_me() -> Result<Socket, Error> {
    connect(|challenge| with_device(|d| (d.signing_public(), d.sign(challenge)))).await
}

/// What the relay answered to a subscription: the whole membership log and the catch-up.
pub(super) struct CatchUp {
    pub(super) entries: Vec<SignedEntry>,
    pub(super) snapshot: Option<Vec<u8>>,
    pub(super) envelopes: Vec<Vec<u8>>,
    pub(super) active_snapshot: Option<[u8; 32]>,
}

impl CatchUp {
    /// Applies the snapshot and envelopes (the membership log is the caller's business:
    /// joined from, or reconciled with).
    pub(super) fn apply_to(
        &self,
        device: &DeviceSecret,
        replica: &mut Replica,
    ) -> Result<(), Error> {
        replica
            .apply_log(
                device,
                &[],
                self.snapshot.as_deref(),
                &self.envelopes,
                self.active_snapshot,
            )
            .map(|received| warn_set_aside(&received))
            .map_err(Error::from)
    }
}

/// Envelopes set aside, the rest applied (`Replica::receive`): said to the console for
/// whoever looks into it; the dossier itself goes on.
pub(super) fn warn_set_aside(received: &livret_shared::sync::Received) {
    for q in &received.quarantined {
        leptos::logging::warn!("enveloppe n° {} mise de côté : {}", q.counter, q.reason);
    }
}

/// The dossiers the key logged in on `socket` belongs to, as the relay knows them.
pub(super) async fn my_dossiers(socket: &Socket) -> Result<Vec<DossierId>, Error> {
    ask(socket, &ClientMsg::Dossiers, |m| match m {
        ServerMsg::Dossiers { ids } => Some(ids),
        _ => None,
    })
    .await
}

/// Sends `msg` and waits for the answer `pick` recognises (or the relay's refusal),
/// passing over live messages meant for other work.
pub(super) async fn ask<T>(
    socket: &Socket,
    msg: &ClientMsg,
    pick: impl Fn(ServerMsg) -> Option<T>,
) -> Result<T, Error> {
    send(socket, msg)?;
    loop {
        match next_message(socket).await? {
            ServerMsg::Rejected { detail, reason } => return Err(relay_refused(&detail, reason)),
            other => {
                if let Some(answer) = pick(other) {
                    return Ok(answer);
                }
            }
        }
    }
}
