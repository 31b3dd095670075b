//! The open dossier's kept connection: subscribed, others' edits merged as they come, this
//! device's own sent one envelope at a time.

use super::*;

/// Subscribes to `id` and waits for the catch-up; `Ok(None)` when the relay does not know
/// the dossier yet.
pub(super) async fn subscribe(
    socket: &Socket,
    id: DossierId,
    since: Vec<(MemberKey, u64)>,
) -> Result<Option<CatchUp>, Error> {
    send(socket, &ClientMsg::Subscribe { dossier: id, since })?;
    // A long history comes in several frames, gathered here and applied in one batch.
    let mut caught = livret_shared::catchup::Gathered::default();
    loop {
        match next_message(socket).await? {
            ServerMsg::Rejected {
                reason: protocol::Rejection::UnknownDossier,
                ..
            }
            | ServerMsg::Deleted { .. } => return Ok(None),
            ServerMsg::Rejected { detail, reason } => {
                return Err(relay_refused(&detail, reason));
            }
            msg => {
                if caught.add_msg(id, msg) != Some(true) {
                    continue;
                }
                let entries = caught
                    .entries
                    .iter()
                    .map(|b| SignedEntry::from_bytes(b))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(Error::from)?;
                return Ok(Some(CatchUp {
                    entries,
                    snapshot: caught.snapshot,
                    envelopes: caught.envelopes,
                    active_snapshot: caught.active_snapshot,
                }));
            }
        }
    }
}

/// Applies a live message (another device's edit or membership entry) to the open dossier.
pub(super) fn apply_live(id: DossierId, msg: &ServerMsg) -> Result<(), Error> {
    if let ServerMsg::Log {
        dossier,
        entries,
        snapshot,
        envelopes,
        active_snapshot,
        ..
    } = msg
        && *dossier == id
    {
        // Another dossier is open, or none (recovery and discovery talk about dossiers that
        // are not): what arrives is fetched again when that dossier syncs.
        if with_open(|r| r.id).ok() != Some(id) {
            return Ok(());
        }
        with_device_and_open(|device, replica| {
            replica
                .apply_log(
                    device,
                    entries,
                    snapshot.as_deref(),
                    envelopes,
                    *active_snapshot,
                )
                .map(|_| ())
                .map_err(Error::from)
        })?;
    }
    Ok(())
}

/// Publishes one membership entry (the first one creates the dossier on the relay).
pub(super) async fn publish(
    socket: &Socket,
    id: DossierId,
    entry: &SignedEntry,
) -> Result<(), Error> {
    let entry_bytes = entry.to_bytes();
    send(
        socket,
        &if entry.body.seq == 0 {
            ClientMsg::Create { entry: entry_bytes }
        } else {
            ClientMsg::Membership {
                dossier: id,
                entry: entry_bytes,
            }
        },
    )?;
    loop {
        match next_message(socket).await? {
            ServerMsg::MembershipOk { seq, .. } => {
                // The relay holds the log up to it (a replica open for it knows).
                let _ = with_open(|r| {
                    if r.id == id {
                        r.relay_holds_entries(seq as usize + 1)
                    }
                });
                return Ok(());
            }
            ServerMsg::Rejected { detail, reason } => return Err(relay_refused(&detail, reason)),
            other => apply_live(id, &other)?,
        }
    }
}

/// Syncs the open dossier in full over a fresh connection (membership, catch-up, everything
/// waiting) and returns; `true` when others' edits arrived. Errors leave the local copy as
/// it was: the next sync starts again.
pub async fn sync_open() -> Result<bool, Error> {
    let socket = connect_as_me().await?;
    sync_exchange(&socket).await
}

/// The open dossier's kept connection: subscribed (others' edits arrive on it as they are
/// made) and carrying this device's own, one envelope at a time.
pub(super) struct Live {
    pub(super) id: DossierId,
    pub(super) socket: Rc<Socket>,
    /// The counter of the envelope sent and not yet acknowledged. What is typed meanwhile
    /// waits and goes in the next envelope, sealed when the acknowledgement comes: as few
    /// envelopes as the round trip allows, and never a wait for the one typing.
    pub(super) in_flight: Option<u64>,
}

thread_local! {
    pub(super) static LIVE: RefCell<Option<Live>> = const { RefCell::new(None) };
    /// Set when a full sync is wanted at once (membership changed here, the browser came
    /// back online), rather than after the wait between attempts.
    pub(super) static SYNC_NOW: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// What the kept connection brought.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LiveEvent {
    /// Others' edits were merged into the open dossier (and saved on this device).
    Merged,
    /// Another member moved in the dossier (see [`present`]).
    Presence,
    /// The dossier ended for this device — deleted by its candidate, or this device
    /// removed from it — and its copy is wiped (see [`take_just_ended`]).
    Ended,
    /// The relay acknowledged this device's edits: all of them are on it now.
    AllSent,
    /// Anything else (an acknowledgement with more to send, a message for no one here).
    Quiet,
}

/// Syncs the open dossier in full and keeps the connection for what comes next (see
/// [`next_live_event`] and [`save_typed`]); `true` when others' edits arrived.
pub async fn go_live() -> Result<bool, Error> {
    close_live();
    let socket = Rc::new(connect_as_me().await?);
    let arrived = sync_exchange(&socket).await?;
    let id = with_open(|r| r.id)?;
    LIVE.with(|l| {
        *l.borrow_mut() = Some(Live {
            id,
            socket,
            in_flight: None,
        })
    });
    // Typed while the exchange ran: it goes now.
    send_typed().await?;
    Ok(arrived)
}

/// A juror asks the relay, on the kept connection, for the jury key grants it holds for
/// this device (the answer is taken by [`next_live_event`]): how a key granted after this
/// device synced reaches it without a reconnection. Nothing for anyone else, or offline.
pub fn ask_jury_keys_live() {
    let Some((id, socket)) = LIVE.with(|l| {
        l.borrow()
            .as_ref()
            .map(|live| (live.id, live.socket.clone()))
    }) else {
        return;
    };
    if with_open(|r| r.id == id && r.is_juror()).unwrap_or(false) {
        let _ = send(&socket, &ClientMsg::JuryKeys { dossier: id });
    }
}

/// Whether this juror still waits for the jury key (its own, or to read the others').
pub fn waiting_for_jury_key() -> bool {
    with_open(|r| r.is_juror() && (!r.has_jury_key() || r.locked_reviews() > 0)).unwrap_or(false)
}

/// Drops the kept connection (the browser went offline, the membership changed and wants a
/// full sync, the editor closed); whoever waits on it is told it is gone.
pub fn close_live() {
    if let Some(live) = LIVE.with(|l| l.borrow_mut().take()) {
        live.socket.close();
    }
}

/// Asks for a full sync at once: the kept connection (if any) is dropped, and whoever keeps
/// the dossier live ([`sync_wanted_now`]) starts again without waiting.
pub fn sync_now() {
    SYNC_NOW.with(|n| n.set(true));
    close_live();
}

/// Whether [`sync_now`] was asked since the last call (and forgets it).
pub fn sync_wanted_now() -> bool {
    SYNC_NOW.with(|n| n.replace(false))
}

/// Saves what was just typed on this device; when the kept connection is free, seals it
/// first (in the same save, so an envelope never leaves before the counter it used is on
/// disk) and sends it once saved.
pub async fn save_typed() -> Result<(), Error> {
    let open = with_open(|r| r.id).ok();
    let free = LIVE.with(|l| {
        l.borrow()
            .as_ref()
            .is_some_and(|live| Some(live.id) == open && live.in_flight.is_none())
    });
    if !free {
        return save_open().await;
    }
    send_typed().await
}

/// Seals what this device wrote since the last envelope, saves, and sends it on the kept
/// connection (nothing when there is nothing new, or no connection).
pub(super) async fn send_typed() -> Result<(), Error> {
    let Some(socket) = LIVE.with(|l| l.borrow().as_ref().map(|live| live.socket.clone())) else {
        return save_open().await;
    };
    // The dossier's edits, and a juror's review and release (each on its own channel).
    let sealed: Vec<Vec<u8>> = with_device_and_open(|device, replica| {
        let mut sealed: Vec<Vec<u8>> = replica
            .flush(device, random_nonce())
            .map_err(Error::from)?
            .into_iter()
            .collect();
        sealed.extend(
            replica
                .flush_jury(device, random_nonce)
                .map_err(Error::from)?,
        );
        Ok::<_, Error>(sealed)
    })?;
    let mut counter = None;
    for envelope in &sealed {
        let c = Envelope::parse(envelope)
            .map_err(Error::from)?
            .header
            .counter;
        counter = counter.max(Some(c));
    }
    if counter.is_some() {
        LIVE.with(|l| {
            if let Some(live) = l.borrow_mut().as_mut() {
                live.in_flight = counter;
            }
        });
    }
    save_open().await?;
    for envelope in sealed {
        if let Err(e) = send(&socket, &ClientMsg::Push { envelope }) {
            // Kept in the outbox: the next full sync sends it.
            close_live();
            return Err(e);
        }
    }
    Ok(())
}

/// Waits for the next message on the kept connection and applies it: others' edits merged
/// and saved, acknowledgements noted (and what was typed meanwhile sent). An error means
/// the connection is gone (or the relay refused something): sync in full again later.
pub async fn next_live_event() -> Result<LiveEvent, Error> {
    let (id, socket) = LIVE
        .with(|l| {
            l.borrow()
                .as_ref()
                .map(|live| (live.id, live.socket.clone()))
        })
        .ok_or_else(|| {
            Error::said(
                "connexion au serveur fermée",
                "connection to the server closed",
            )
        })?;
    let Some(frame) = socket.next().await else {
        close_live();
        return Err(relay_lost());
    };
    let msg = protocol::decode(&frame).ok_or_else(relay_unreadable)?;
    match msg {
        ServerMsg::Ack {
            dossier, counter, ..
        } if dossier == id => {
            with_open(|r| r.acknowledged(counter))?;
            let done = LIVE.with(|l| {
                let mut l = l.borrow_mut();
                let Some(live) = l.as_mut() else {
                    return false;
                };
                if live.in_flight.is_some_and(|c| c <= counter) {
                    live.in_flight = None;
                }
                live.in_flight.is_none()
            });
            if !done {
                return Ok(LiveEvent::Quiet);
            }
            send_typed().await?;
            let idle = LIVE.with(|l| {
                l.borrow()
                    .as_ref()
                    .is_some_and(|live| live.in_flight.is_none())
            });
            Ok(if idle {
                LiveEvent::AllSent
            } else {
                LiveEvent::Quiet
            })
        }
        ServerMsg::Log { .. } => {
            let before = with_open(Replica::others_work_marker)?;
            apply_live(id, &msg)?;
            if !with_open(|r| r.is_member())? {
                let standing = with_open(|r| r.standing())?;
                if standing == livret_shared::membership::Standing::Removed {
                    // A removal of this device, signed by the candidate: its copy goes.
                    wipe_removed().await;
                    return Ok(LiveEvent::Ended);
                }
                close_live();
                let id = with_open(|r| r.id)?;
                return Err(Error::from(ExchangeError::NotAMember(id)));
            }
            let after = with_open(Replica::others_work_marker)?;
            if before == after {
                return Ok(LiveEvent::Quiet);
            }
            // Kept on this device too: a reload before the next keystroke still has it.
            save_open().await?;
            Ok(LiveEvent::Merged)
        }
        ServerMsg::JuryKeys {
            dossier,
            epoch,
            key_id,
            granted,
            grants,
        } if dossier == id => {
            // A juror's question on the kept connection ([`ask_jury_keys_live`]): grants
            // taken (reviews that waited for the key open), the key granted to jurors who
            // joined since, and this juror's review sealed once its key is there.
            let before = with_open(Replica::others_work_marker)?;
            let grant = with_device_and_open(|device, replica| {
                livret_shared::exchange::jury_keys_answered(
                    replica, device, epoch, key_id, &granted, &grants,
                )
                .map_err(Error::from)
            })?;
            if let Some(grant) = grant {
                send(&socket, &grant)?;
            }
            save_typed().await?;
            let after = with_open(Replica::others_work_marker)?;
            Ok(if before == after {
                LiveEvent::Quiet
            } else {
                LiveEvent::Merged
            })
        }
        ServerMsg::Presence { envelope } => {
            // A message that does not open (a removed member's, a forgery, an old epoch) is
            // ignored: presence is a courtesy, never worth dropping the connection.
            let Ok(Ok(seen)) = with_open(|r| r.open_presence(&envelope)) else {
                return Ok(LiveEvent::Quiet);
            };
            let changed = ROSTER.with(|r| r.borrow_mut().update(seen, now_ms()));
            Ok(if changed {
                LiveEvent::Presence
            } else {
                LiveEvent::Quiet
            })
        }
        ServerMsg::Deleted {
            dossier,
            notice,
            deleted_ms,
        } if dossier == id => {
            close_live();
            deletion_told(&notice, deleted_ms).await?;
            Ok(LiveEvent::Ended)
        }
        ServerMsg::Rejected { detail, reason } => {
            close_live();
            Err(relay_refused(&detail, reason))
        }
        _ => Ok(LiveEvent::Quiet),
    }
}

thread_local! {
    /// Where the other members are, as their presence messages said.
    pub(super) static ROSTER: RefCell<Roster> = RefCell::new(Roster::default());
    /// Where this device is (field path, caret), repeated while the dossier stays open.
    pub(super) static HERE: RefCell<Option<(String, Option<u32>)>> = const { RefCell::new(None) };
    /// The date of the last presence message sent (each one must be later).
    pub(super) static LAST_PRESENCE: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}
