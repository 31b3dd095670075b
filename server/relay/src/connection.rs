//! One WebSocket connection: the challenge and login, the outgoing queue written in bursts,
//! incoming frames taken in bursts (their push signatures checked together), and each
//! message handed to its concern's handler (`handlers/`).
//!
//! Limits on one connection (issue 19, item 13): a login deadline, a write deadline,
//! small socket buffers, bursts bounded in frames and bytes, a bounded outgoing queue.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::IntoResponse;
use futures_util::{FutureExt, SinkExt};
use livret_shared::envelope::{Envelope, MAX_ENVELOPE};
use livret_shared::keys;
use livret_shared::protocol::{self, ClientMsg, Origin, Rejection, ServerMsg};

use crate::handlers::{self, Caller, on_blocking_pool, rejected};
use crate::hub::Relay;
use crate::outgoing::Outgoing;

tokio::task_local! {
    /// The address a connection comes from, for the quotas per address of what it asks.
    pub(crate) static PEER: std::net::IpAddr;
}

/// The address of the connection this task serves, if any.
pub(crate) fn peer() -> Option<std::net::IpAddr> {
    PEER.try_with(|p| *p).ok()
}

/// A connection must prove its device (`Login`) within this, or it is closed.
const LOGIN_DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);

/// Writing queued frames to a socket may take this long; a peer that takes no bytes for
/// that long is disconnected (its queue otherwise stays pinned).
const WRITE_DEADLINE: std::time::Duration = std::time::Duration::from_secs(30);

/// What each WebSocket buffers for reading and before writing (tungstenite's default is
/// 128 KiB each). With 200 devices connected those two buffers were most of the relay's
/// heap (heaptrack, under `benches/soak.rs`); 16 KiB still holds several envelopes, and a
/// connection's queue is written in one flush anyway.
const SOCKET_BUFFER: usize = 16 * 1024;

/// What a connection's login is checked against.
struct Challenge {
    nonce: [u8; 32],
    origins: Vec<Origin>,
}

pub async fn websocket(
    State(relay): State<Arc<Relay>>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    headers: axum::http::HeaderMap,
    upgrade: WebSocketUpgrade,
) -> axum::response::Response {
    // Counted from before the upgrade to the connection's end.
    let slot = match relay.connections.take(peer.ip()) {
        Ok(slot) => slot,
        Err(full) => {
            relay.metrics.limit(full.metric());
            tracing::info!(limit = full.metric(), "connection refused");
            return (axum::http::StatusCode::TOO_MANY_REQUESTS, full.message()).into_response();
        }
    };
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok());
    let origins = relay.origins_for(host);
    upgrade
        .max_message_size(MAX_ENVELOPE + 1024 * 1024)
        .read_buffer_size(SOCKET_BUFFER)
        .write_buffer_size(SOCKET_BUFFER)
        .on_upgrade(move |socket| async move {
            PEER.scope(peer.ip(), connection(relay, socket, origins))
                .await;
            drop(slot);
        })
        .into_response()
}

async fn connection(relay: Arc<Relay>, mut socket: WebSocket, origins: Vec<Origin>) {
    let id = relay.next_connection.fetch_add(1, Ordering::Relaxed);
    let mut nonce = [0u8; 32];
    if getrandom::fill(&mut nonce).is_err() {
        return;
    }
    let challenge = Challenge { nonce, origins };
    if socket
        .send(Message::Binary(
            protocol::encode(&ServerMsg::Challenge { nonce }).into(),
        ))
        .await
        .is_err()
    {
        return;
    }
    let (tx, mut rx) = Outgoing::new();
    let mut device: Option<keys::Verifier> = None;
    let login_deadline = tokio::time::sleep(LOGIN_DEADLINE);
    tokio::pin!(login_deadline);
    loop {
        tokio::select! {
            () = &mut login_deadline, if device.is_none() => {
                relay.metrics.limit("login_deadline");
                let refusal = rejected(&relay, Rejection::NotAuthenticated, "délai d'authentification dépassé");
                let _ = tokio::time::timeout(WRITE_DEADLINE, async {
                    for msg in refusal {
                        let _ = socket.send(Message::Binary(protocol::encode(&msg).into())).await;
                    }
                    let _ = socket.send(Message::Close(None)).await;
                }).await;
                break;
            }
            frame = rx.recv() => {
                let Some(frame) = frame else { break };
                // Write whatever else is already queued before flushing: one syscall for a
                // burst of acknowledgements and fan-out frames. An empty frame: the queue
                // overflowed, the device is not reading.
                let mut frames = vec![frame];
                for _ in 0..64 {
                    let Ok(more) = rx.try_recv() else { break };
                    frames.push(more);
                }
                for f in &frames {
                    tx.taken(f);
                }
                if frames.iter().any(Bytes::is_empty) {
                    relay.metrics.limit("slow_consumer");
                    tracing::info!("connection closed: its queue overflowed (not reading)");
                    break;
                }
                let written = tokio::time::timeout(WRITE_DEADLINE, async {
                    for f in frames {
                        socket.feed(Message::Binary(f)).await?;
                    }
                    socket.flush().await
                })
                .await;
                if !matches!(written, Ok(Ok(()))) {
                    if written.is_err() {
                        relay.metrics.limit("write_deadline");
                    }
                    break;
                }
            }
            incoming = socket.recv() => {
                let Some(Ok(message)) = incoming else { break };
                // Take every frame already received with this one (a pipelining client's
                // burst): their signatures are checked together, before any is handled.
                let mut size = frame_len(&message);
                let mut burst = vec![message];
                let mut closed = false;
                while burst.len() < MAX_BURST && size < MAX_BURST_BYTES {
                    match socket.recv().now_or_never() {
                        Some(Some(Ok(m))) => {
                            size += frame_len(&m);
                            burst.push(m);
                        }
                        Some(_) => {
                            closed = true;
                            break;
                        }
                        None => break,
                    }
                }
                let mut frames: Vec<Bytes> = Vec::with_capacity(burst.len());
                for m in burst {
                    match m {
                        Message::Binary(b) => frames.push(b),
                        Message::Close(_) => {
                            closed = true;
                            break;
                        }
                        _ => {}
                    }
                }
                let messages: Vec<Decoded> = frames.iter().map(|f| decode_frame(f)).collect();
                let verified = match &device {
                    Some(d) => verified_pushes(&messages, d),
                    None => messages.iter().map(|_| None).collect(),
                };
                for (message, verified) in messages.into_iter().zip(verified) {
                    let reply = handle(&relay, id, &tx, &mut device, &challenge, message, verified).await;
                    for msg in reply {
                        let sent = tokio::time::timeout(
                            WRITE_DEADLINE,
                            socket.send(Message::Binary(protocol::encode(&msg).into())),
                        )
                        .await;
                        if !matches!(sent, Ok(Ok(()))) {
                            relay.unsubscribe_all(id);
                            return;
                        }
                    }
                }
                if closed {
                    break;
                }
            }
        }
    }
    relay.unsubscribe_all(id);
}

/// Frames taken together from one connection, at most (and no more once they pass
/// `MAX_BURST_BYTES`, so a burst of large frames does not pile up in memory).
const MAX_BURST: usize = 64;
const MAX_BURST_BYTES: usize = 1024 * 1024;

fn frame_len(m: &Message) -> usize {
    match m {
        Message::Binary(b) => b.len(),
        _ => 0,
    }
}

/// What one frame says, or why it is refused before anything else (size, encoding).
type Decoded = Result<ClientMsg, (Rejection, String)>;

fn decode_frame(bytes: &[u8]) -> Decoded {
    if bytes.len() > MAX_ENVELOPE + 64 * 1024 {
        return Err((Rejection::TooLarge, format!("{} octets", bytes.len())));
    }
    protocol::decode::<ClientMsg>(bytes)
        .ok_or_else(|| (Rejection::Malformed, "message illisible".to_string()))
}

/// For each message: the envelope it pushes, parsed, when it was written by this
/// connection's device and its signature holds, by the replicas' own check (see
/// [`protocol::verify_burst`]); `None` for everything else.
fn verified_pushes(messages: &[Decoded], device: &keys::Verifier) -> Vec<Option<Envelope>> {
    let pushes: Vec<&[u8]> = messages
        .iter()
        .filter_map(|m| match m {
            Ok(ClientMsg::Push { envelope }) => Some(envelope.as_slice()),
            _ => None,
        })
        .collect();
    let mut checked = protocol::verify_burst(&pushes, device).into_iter();
    messages
        .iter()
        .map(|m| match m {
            Ok(ClientMsg::Push { .. }) => checked.next().flatten(),
            _ => None,
        })
        .collect()
}

/// One message of a connection: the login first, then each kind to its concern's handler.
async fn handle(
    relay: &Arc<Relay>,
    connection: u64,
    tx: &Outgoing,
    device: &mut Option<keys::Verifier>,
    challenge: &Challenge,
    message: Decoded,
    verified: Option<Envelope>,
) -> Vec<ServerMsg> {
    let msg = match message {
        Ok(msg) => msg,
        Err((reason, detail)) => return rejected(relay, reason, detail),
    };
    let Some(verifier) = device.as_ref() else {
        return match handlers::login::login(relay, &challenge.origins, &challenge.nonce, msg) {
            Ok(verifier) => {
                *device = Some(verifier);
                vec![ServerMsg::Welcome]
            }
            Err(refusal) => refusal,
        };
    };
    let caller = Caller {
        relay,
        connection,
        tx,
        device: verifier,
        me: *verifier.signer(),
        peer: peer(),
    };
    let me = caller.me;
    let peer = caller.peer;
    match msg {
        ClientMsg::Login { .. } => vec![ServerMsg::Welcome],
        ClientMsg::Hello { .. } => handlers::login::outdated_device(relay),
        ClientMsg::PutPiece {
            dossier,
            blob,
            index,
            bytes,
            last,
        } => {
            on_blocking_pool(relay, move |relay| {
                handlers::evidence::put_piece(relay, &me, dossier, blob, index, bytes, last)
            })
            .await
        }
        ClientMsg::GetPiece {
            dossier,
            blob,
            index,
        } => {
            on_blocking_pool(relay, move |relay| {
                handlers::evidence::get_piece(relay, &me, dossier, blob, index)
            })
            .await
        }
        ClientMsg::Invite {
            dossier,
            email,
            role,
            inviter,
        } => {
            on_blocking_pool(relay, move |relay| {
                handlers::invitations::invite(relay, &me, peer, dossier, &email, role, inviter)
            })
            .await
        }
        ClientMsg::Accept { token, identity } => {
            on_blocking_pool(relay, move |relay| {
                handlers::invitations::accept(relay, &me, &token, &identity)
            })
            .await
        }
        ClientMsg::Requests { dossier } => {
            on_blocking_pool(relay, move |relay| {
                handlers::invitations::requests(relay, &me, dossier)
            })
            .await
        }
        ClientMsg::Presence { envelope } => handlers::presence::forward(&caller, envelope),
        ClientMsg::Reminders {
            dossier,
            email,
            jury_date,
        } => {
            on_blocking_pool(relay, move |relay| {
                handlers::reminders::set(relay, &me, dossier, &email, jury_date)
            })
            .await
        }
        ClientMsg::JuryKeys { dossier } => {
            on_blocking_pool(relay, move |relay| {
                handlers::jury_keys::keys(relay, &me, dossier)
            })
            .await
        }
        ClientMsg::GrantJuryKey {
            dossier,
            epoch,
            key_id,
            grants,
        } => {
            on_blocking_pool(relay, move |relay| {
                handlers::jury_keys::grant(relay, &me, dossier, epoch, key_id, grants)
            })
            .await
        }
        ClientMsg::Erase { dossier, blob } => {
            on_blocking_pool(relay, move |relay| {
                handlers::evidence::erase(relay, &me, dossier, blob)
            })
            .await
        }
        ClientMsg::Holdings { dossier } => {
            on_blocking_pool(relay, move |relay| {
                handlers::holdings::holdings(relay, &me, dossier)
            })
            .await
        }
        ClientMsg::Dossiers => {
            on_blocking_pool(relay, move |relay| handlers::dossiers::list(relay, &me)).await
        }
        ClientMsg::Create { entry } => handlers::dossiers::create(&caller, entry).await,
        ClientMsg::Delete { notice } => handlers::dossiers::delete(&caller, notice).await,
        ClientMsg::Retain { notice } => crate::retention::retain(&caller, notice).await,
        ClientMsg::Membership { dossier, entry } => {
            handlers::dossiers::membership(&caller, dossier, entry).await
        }
        ClientMsg::Push { envelope } => handlers::envelopes::push(&caller, envelope, verified),
        ClientMsg::Snapshot { envelope, covers } => {
            handlers::envelopes::snapshot(&caller, envelope, covers).await
        }
        ClientMsg::Subscribe { dossier, since } => {
            handlers::subscribe::subscribe(&caller, dossier, since).await
        }
    }
}
