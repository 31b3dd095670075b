//! A dossier's end: the candidate deletes it (the signed notice sent, the relay erases its
//! copy), and every member device wipes its own once it learns it and checked the notice
//! (`livret_shared::exchange::deletion_learnt`). A device the candidate removed from a
//! dossier wipes its copy too, once the removal (an entry of the membership log the
//! candidate signed) reaches it. What stays on a device is a deleted dossier's id and date —
//! and, on a juror's, the jury's released decision, its own document.

use super::*;

/// A deleted dossier's date (`deleted:<dossier>` → milliseconds since 1970, i64 LE).
const DELETED_PREFIX: &str = "deleted:";
/// The released decision a juror's device keeps of a deleted dossier (`decision:<dossier>`
/// → its JSON, sealed to the device).
const KEPT_DECISION_PREFIX: &str = "decision:";

/// How a dossier ended for this device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Its candidate deleted it, on this date (the relay's, milliseconds since 1970).
    Deleted(i64),
    /// The candidate removed this device from it (learnt on this date, the device's clock).
    Removed(i64),
}

thread_local! {
    /// The end this device just carried out or learnt, for the page it goes back to.
    static JUST_ENDED: std::cell::Cell<Option<Ended>> = const { std::cell::Cell::new(None) };
}

/// Deletes the open dossier for good (its candidate only): synced first, so that the notice
/// is signed on the relay's current members; this device's copy is wiped once the relay
/// says its own is erased.
pub async fn delete_open_dossier() -> Result<(), Error> {
    if !with_open(|r| r.membership().is_owner(&r.me()))? {
        return Err(Error::said(
            "seul le candidat peut supprimer son dossier",
            "only the candidate can delete their dossier",
        ));
    }
    close_live();
    let socket = connect_as_me().await?;
    sync_exchange(&socket).await?;
    let (id, request) = with_device_and_open(|device, replica| {
        let request = livret_shared::exchange::delete_request(replica, device, now_ms() as i64)
            .map_err(Error::from)?;
        Ok((replica.id, request))
    })?;
    send(&socket, &request)?;
    loop {
        match next_message(&socket).await? {
            ServerMsg::Deleted {
                dossier,
                deleted_ms,
                ..
            } if dossier == id => return wipe_open(Ended::Deleted(deleted_ms)).await,
            ServerMsg::Rejected { detail, reason } => {
                return Err(relay_refused(&detail, reason));
            }
            other => apply_live(id, &other)?,
        }
    }
}

/// What this device makes of the relay's word that the open dossier was deleted: wiped when
/// the candidate's notice holds, otherwise kept whole and the claim said as an error.
pub(super) async fn deletion_told(notice: &[u8], deleted_ms: i64) -> Result<(), Error> {
    let learnt = with_open(|r| {
        livret_shared::exchange::deletion_learnt(r, notice, deleted_ms, now_ms() as i64)
    })?;
    match learnt {
        ExchangeError::Deleted { deleted_ms, .. } => wipe_open(Ended::Deleted(deleted_ms)).await,
        unchecked => Err(Error::from(unchecked)),
    }
}

/// Erases the open dossier from this device: closed first (nothing typed after is saved),
/// then its saves, deltas, evidence pieces and uploads in one transaction, with the mark
/// that it was deleted (a removal leaves none: the candidate may add this device again).
pub(super) async fn wipe_open(ended: Ended) -> Result<(), Error> {
    close_live();
    let (id, blobs, decision) = with_open(|r| {
        // The bin's files too: deleted is not yet erased.
        let d = r.dossier();
        let blobs: Vec<BlobId> = d
            .annexes()
            .iter()
            .chain(&d.deleted_annexes())
            .filter_map(|a| a.blob)
            .collect();
        let decision = r.sat_on_jury().then(|| r.decision()).flatten();
        (r.id.to_string(), blobs, decision)
    })?;
    let kept_decision = match decision {
        Some((_, decision)) => {
            let json = serde_json::to_vec(&decision).map_err(Error::browser)?;
            Some(with_device(|device| device.seal_for_self(&json))?)
        }
        None => None,
    };
    SESSION.with(|s| {
        if let Some(s) = s.borrow_mut().as_mut() {
            s.open = None;
            s.open_saved = Saved::default();
        }
    });
    let db = db()?;
    let mut erased = vec![
        format!("{DOSSIER_PREFIX}{id}"),
        format!("{GENERATION_PREFIX}{id}"),
    ];
    for prefix in [
        format!("{DELTA_PREFIX}{id}:"),
        format!("{UPLOAD_PREFIX}{id}:"),
    ]
    .into_iter()
    .chain(
        blobs
            .iter()
            .map(|b| format!("{PIECE_PREFIX}{}:", b.to_hex())),
    ) {
        erased.extend(db.keys(&prefix).await.map_err(Error::from)?);
    }
    let deleted_key = format!("{DELETED_PREFIX}{id}");
    let decision_key = format!("{KEPT_DECISION_PREFIX}{id}");
    let date = match ended {
        Ended::Deleted(ms) => Some(ms.to_le_bytes()),
        Ended::Removed(_) => None,
    };
    let mut puts: Vec<(&str, &[u8])> = Vec::new();
    if let Some(date) = &date {
        puts.push((&deleted_key, date));
    }
    if let Some(sealed) = &kept_decision {
        puts.push((&decision_key, sealed));
    }
    db.write_all(&puts, &erased).await.map_err(Error::from)?;
    JUST_ENDED.with(|j| j.set(Some(ended)));
    Ok(())
}

/// Wipes the open dossier, which the candidate removed this device from; returns what to
/// say (the wipe's own failure, if any: the copy is then wiped at the next opening).
pub(super) async fn wipe_removed() -> Error {
    match wipe_open(Ended::Removed(now_ms() as i64)).await {
        Ok(()) => removed_wiped_text(),
        Err(e) => e,
    }
}

/// Whether a deletion or a removal was carried out or learnt here and not said yet.
pub fn end_pending() -> bool {
    JUST_ENDED.with(|j| j.get().is_some())
}

/// The end just carried out or learnt here, once (the home page says it).
pub fn take_just_ended() -> Option<Ended> {
    JUST_ENDED.with(|j| j.take())
}

/// The jury's released decision on a dossier deleted since (or this juror removed from it),
/// as this juror's device kept it.
pub async fn kept_decision(id: &str) -> Option<livret_shared::review::Decision> {
    let sealed = db()
        .ok()?
        .get(&format!("{KEPT_DECISION_PREFIX}{id}"))
        .await
        .ok()??;
    let json = with_device(|device| device.open_own(&sealed).ok())
        .ok()
        .flatten()?;
    serde_json::from_slice(&json).ok()
}

/// What the relay answers about a dossier it deleted, before this device checked the
/// candidate's notice.
pub fn deleted_on_relay_text(deleted_ms: i64) -> Error {
    let day = livret_shared::date::Date::of_ms(deleted_ms);
    Error::said(
        format!(
            "Le serveur ne garde plus rien de ce dossier : il dit l'avoir supprimé le {}.",
            day.in_french()
        ),
        format!(
            "The server keeps nothing of this dossier any more: it says it deleted it on {}.",
            day.iso()
        ),
    )
}

/// The message that says this device was removed from a dossier, and its copy wiped.
pub fn removed_wiped_text() -> Error {
    Error::said(
        "Vous n'avez plus accès à ce dossier : le candidat a retiré cet appareil, et sa copie en est effacée.",
        "You no longer have access to this dossier: the candidate removed this device, and its copy is erased from it.",
    )
}

/// What the home page says of how a dossier ended here.
pub fn ended_text(ended: Ended) -> Error {
    match ended {
        Ended::Deleted(ms) => deleted_text(ms),
        Ended::Removed(_) => removed_wiped_text(),
    }
}

/// The message that says a dossier was deleted on `deleted_ms`, in both languages.
pub fn deleted_text(deleted_ms: i64) -> Error {
    let day = livret_shared::date::Date::of_ms(deleted_ms);
    Error::said(
        format!(
            "Le dossier a été supprimé par le candidat le {} : sa copie est effacée de cet appareil.",
            day.in_french()
        ),
        format!(
            "The dossier was deleted by the candidate on {}: its copy is erased from this device.",
            day.iso()
        ),
    )
}
