//! A full sync of the open dossier through the shared exchange, and compaction after a long
//! catch-up.

use super::*;

pub(super) async fn sync_exchange(socket: &Socket) -> Result<bool, Error> {
    // The exchange every device runs (`livret_shared::exchange`); this drives it over the
    // socket, with the open dossier's replica.
    let id = with_open(|r| r.id)?;
    let started = with_device_and_open(|device, replica| {
        Ok(Exchange::start(
            replica,
            device,
            now_ms() as i64,
            &mut random_nonce,
        ))
    })?;
    let (mut exchange, mut out) = match started {
        Ok(started) => started,
        Err(ExchangeError::Removed(_)) => return Err(wipe_removed().await),
        Err(e) => return Err(exchange_failed(&e)),
    };
    loop {
        for msg in out.drain(..) {
            send(socket, &msg)?;
        }
        if exchange.is_done() {
            break;
        }
        let msg = next_message(socket).await?;
        let step = with_device_and_open(|device, replica| {
            Ok(exchange.handle(replica, device, msg, &mut random_nonce))
        })?;
        match step {
            Ok(next) => out = next,
            Err(ExchangeError::Deleted { deleted_ms, .. }) => {
                // The candidate's notice, checked: nothing of it stays here.
                wipe_open(Ended::Deleted(deleted_ms)).await?;
                return Err(deleted_text(deleted_ms));
            }
            Err(ExchangeError::Removed(_)) => return Err(wipe_removed().await),
            Err(e) => {
                // What arrived is kept: the next sync starts from it.
                save_open().await?;
                return Err(exchange_failed(&e));
            }
        }
    }
    warn_set_aside(exchange.received());
    save_open().await?;
    if exchange.caught_up_envelopes() >= COMPACT_AFTER && with_open(|r| r.may_write_dossier())? {
        // A courtesy to the next device: refused (someone wrote meanwhile), it waits for the
        // next long catch-up.
        let _ = compact(socket, id).await;
    }
    // Evidence added while offline (or cut mid-way) goes up now. The dossier is synced
    // whatever happens to it: a refused file stays marked as waiting (the annexes say so)
    // and is tried again at the next sync.
    let _ = upload_pending(socket, id, &|_, _| {}).await;
    Ok(exchange.arrived())
}

/// Why a sync stopped, in the UI's language.
pub(super) fn exchange_failed(e: &ExchangeError) -> Error {
    match e {
        ExchangeError::Refused { reason, detail } => relay_refused(detail, *reason),
        ExchangeError::Removed(_) => removed_wiped_text(),
        other => Error::from(other.clone()),
    }
}

/// Replaces the dossier's history on the relay by one sealed snapshot of this replica,
/// which must be caught up with nothing unacknowledged (see `Replica::compact`).
pub(super) async fn compact(socket: &Socket, id: DossierId) -> Result<(), Error> {
    let (envelope, covers) = with_device_and_open(|device, replica| {
        replica.compact(device, random_nonce()).map_err(Error::from)
    })?;
    send(socket, &ClientMsg::Snapshot { envelope, covers })?;
    loop {
        match next_message(socket).await? {
            ServerMsg::SnapshotOk {
                dossier,
                id: snapshot,
            } if dossier == id => {
                with_open(|r| r.snapshot_accepted(snapshot))?;
                return save_open().await;
            }
            ServerMsg::Rejected { detail, reason } => {
                return Err(relay_refused(&detail, reason));
            }
            other => apply_live(id, &other)?,
        }
    }
}
