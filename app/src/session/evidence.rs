//! Evidence files: sealed on this device, uploaded piece by piece (resumable), opened again.

use super::*;
use livret_shared::evidence;

pub(super) fn piece_key(blob: &BlobId, index: u32) -> String {
    format!("{PIECE_PREFIX}{}:{index}", blob.to_hex())
}

/// Reads one slice of a file (the browser hands files over in slices, so a large one never
/// sits whole in memory).
pub(super) async fn read_slice(
    file: &web_sys::File,
    start: u64,
    end: u64,
) -> Result<Vec<u8>, Error> {
    let blob = file
        .slice_with_f64_and_f64(start as f64, end as f64)
        .map_err(|_| file_unreadable())?;
    let buffer = JsFuture::from(blob.array_buffer())
        .await
        .map_err(|_| file_unreadable())?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// An evidence file sealed on this device, its pieces kept here until they are sent.
struct SealedFile {
    blob: BlobId,
    key: evidence::EvidenceKey,
    sealed: evidence::Sealed,
    name: String,
    media_type: String,
}

impl SealedFile {
    fn annexe<'a>(&'a self, titre: &'a str) -> NewAnnexe<'a> {
        NewAnnexe {
            titre,
            fichier: &self.name,
            media_type: &self.media_type,
            taille: self.sealed.size,
            empreinte: &self.sealed.sha256,
            blob: self.blob,
            pieces: self.sealed.pieces,
            key: &self.key,
        }
    }
}

/// Encrypts `file` here, step by step (`progress`: bytes done, of all), keeping its pieces
/// on this device.
async fn seal_file(file: &web_sys::File, progress: &dyn Fn(u64, u64)) -> Result<SealedFile, Error> {
    let size = file.size() as u64;
    if size > evidence::MAX_EVIDENCE {
        return Err(about(file.name(), evidence::EvidenceError::TooLarge(size)));
    }
    let db = db()?;
    let blob = BlobId::generate();
    let (mut sealer, key) = Sealer::new();
    let mut stored = 0u32;
    let mut read = 0u64;
    progress(0, size);
    while read < size {
        let end = (read + evidence::PIECE as u64).min(size);
        let plain = read_slice(file, read, end).await?;
        read = end;
        for piece in sealer.push(&plain).map_err(Error::from)? {
            db.put(&piece_key(&blob, stored), &piece)
                .await
                .map_err(Error::from)?;
            stored += 1;
        }
        progress(read, size);
    }
    let (rest, sealed) = sealer.finish();
    for piece in rest {
        db.put(&piece_key(&blob, stored), &piece)
            .await
            .map_err(Error::from)?;
        stored += 1;
    }
    Ok(SealedFile {
        blob,
        key,
        sealed,
        name: file.name(),
        media_type: file.type_(),
    })
}

/// Marks a file for upload, before the dossier naming it is saved: an annexe saved on this
/// device always has its upload pending or done.
async fn mark_for_upload(id: DossierId, blob: &BlobId) -> Result<(), Error> {
    db()?
        .put(
            &format!("{UPLOAD_PREFIX}{id}:{}", blob.to_hex()),
            &0u32.to_le_bytes(),
        )
        .await
        .map_err(Error::from)
}

/// Adds an evidence file to the open dossier: encrypted here, its pieces kept on this
/// device, then numbered in the annexes; the upload to the relay follows
/// ([`upload_open_evidence`]). Returns the annexe's number.
pub async fn add_evidence(
    file: &web_sys::File,
    titre: &str,
    progress: &dyn Fn(u64, u64),
) -> Result<u32, Error> {
    let id = with_open(|r| r.id)?;
    let sealed = seal_file(file, progress).await?;
    let titre = match titre.trim() {
        "" => sealed.name.clone(),
        t => t.to_string(),
    };
    let numero =
        with_open(|r| r.dossier().add_annexe(sealed.annexe(&titre)))?.map_err(Error::from)?;
    mark_for_upload(id, &sealed.blob).await?;
    save_open().await?;
    Ok(numero)
}

/// Gives the annexe at `place` the file `file` instead of its own (number, title and the
/// fiches' citations stay); the old file goes to the bin as « … (ancienne version) », still
/// on the relay, for the candidate to bring back or erase.
pub async fn replace_evidence(
    place: usize,
    file: &web_sys::File,
    progress: &dyn Fn(u64, u64),
) -> Result<(), Error> {
    let id = with_open(|r| r.id)?;
    let sealed = seal_file(file, progress).await?;
    let titre = String::new();
    with_open(|r| {
        r.dossier()
            .replace_annexe_file(place, sealed.annexe(&titre))
    })?
    .map_err(Error::from)?;
    mark_for_upload(id, &sealed.blob).await?;
    save_open().await
}

async fn erase_on_relay(socket: &Socket, dossier: DossierId, blob: BlobId) -> Result<(), Error> {
    ask(socket, &ClientMsg::Erase { dossier, blob }, |m| match m {
        ServerMsg::Erased { blob: b, .. } if b == blob => Some(()),
        other => {
            let _ = apply_live(dossier, &other);
            None
        }
    })
    .await
}

/// Drops the pieces of a file kept on this device.
async fn forget_pieces(blob: &BlobId) -> Result<(), Error> {
    let db = db()?;
    let prefix = format!("{PIECE_PREFIX}{}:", blob.to_hex());
    for key in db.keys(&prefix).await.map_err(Error::from)? {
        db.delete(&key).await.map_err(Error::from)?;
    }
    Ok(())
}

/// Erases for good the deleted annexe at `place` (the candidate only: the relay refuses any
/// other member): its file leaves the relay first (offline or refused, the annexe stays in
/// the bin), then the dossier forgets it.
pub async fn erase_deleted_evidence(place: usize) -> Result<(), Error> {
    let (id, blob) = with_open(|r| {
        (
            r.id,
            r.dossier()
                .deleted_annexes()
                .into_iter()
                .find(|a| a.place == place)
                .and_then(|a| a.blob),
        )
    })?;
    if let Some(blob) = blob {
        let socket = connect_as_me().await?;
        erase_on_relay(&socket, id, blob).await?;
        forget_pieces(&blob).await?;
        let _ = db()?
            .delete(&format!("{UPLOAD_PREFIX}{id}:{}", blob.to_hex()))
            .await;
    }
    with_open(|r| r.dossier().erase_annexe(place))?.map_err(Error::from)?;
    Ok(())
}

/// Sends the open dossier's evidence that the relay does not have yet.
pub async fn upload_open_evidence(progress: &dyn Fn(u32, u32)) -> Result<(), Error> {
    let id = with_open(|r| r.id)?;
    let socket = connect_as_me().await?;
    upload_pending(&socket, id, progress).await
}

/// Uploads every pending evidence file of dossier `id`, piece by piece, each acknowledged
/// (durable on the relay) before the next; where a cut left it, it starts again.
pub(super) async fn upload_pending(
    socket: &Socket,
    id: DossierId,
    progress: &dyn Fn(u32, u32),
) -> Result<(), Error> {
    let db = db()?;
    let prefix = format!("{UPLOAD_PREFIX}{id}:");
    for key in db.keys(&prefix).await.map_err(Error::from)? {
        let Some(blob) = BlobId::from_hex(&key[prefix.len()..]) else {
            continue;
        };
        // A deleted annexe's file goes up too: the deletion may be undone.
        let total = with_open(|r| {
            let d = r.dossier();
            d.annexes()
                .into_iter()
                .chain(d.deleted_annexes())
                .find(|a| a.blob == Some(blob))
                .map(|a| a.pieces)
        })?;
        let Some(total) = total else {
            // Encrypted, then the tab closed before the dossier named it: nothing to send.
            db.delete(&key).await.map_err(Error::from)?;
            continue;
        };
        let mut sent = db
            .get(&key)
            .await
            .map_err(Error::from)?
            .and_then(|b| <[u8; 4]>::try_from(b.as_slice()).ok())
            .map_or(0, u32::from_le_bytes);
        progress(sent, total);
        while sent < total {
            let bytes = db
                .get(&piece_key(&blob, sent))
                .await
                .map_err(Error::from)?
                .ok_or_else(|| {
                    Error::said(
                        "morceau chiffré absent de cet appareil",
                        "an encrypted piece is missing from this device",
                    )
                })?;
            send(
                socket,
                &ClientMsg::PutPiece {
                    dossier: id,
                    blob,
                    index: sent,
                    bytes,
                    last: sent + 1 == total,
                },
            )?;
            loop {
                match next_message(socket).await? {
                    ServerMsg::PieceStored {
                        blob: b, stored, ..
                    } if b == blob => {
                        sent = stored.max(sent);
                        break;
                    }
                    ServerMsg::Rejected { detail, reason } => {
                        return Err(relay_refused(&detail, reason));
                    }
                    other => apply_live(id, &other)?,
                }
            }
            db.put(&key, &sent.to_le_bytes())
                .await
                .map_err(Error::from)?;
            progress(sent, total);
        }
        db.delete(&key).await.map_err(Error::from)?;
    }
    Ok(())
}

/// Whether an evidence file still waits to go to the relay from this device.
pub async fn evidence_pending(blob: &BlobId) -> bool {
    let Ok(id) = with_open(|r| r.id) else {
        return false;
    };
    let Ok(db) = db() else { return false };
    db.get(&format!("{UPLOAD_PREFIX}{id}:{}", blob.to_hex()))
        .await
        .ok()
        .flatten()
        .is_some()
}

/// Decrypts the annexe at `place` of the open dossier (fetching its pieces from the relay
/// when this device does not hold them) and returns a `blob:` address the browser can open.
pub async fn open_evidence(place: usize, progress: &dyn Fn(u32, u32)) -> Result<String, Error> {
    let (plain, media_type) = evidence_bytes(place, progress).await?;
    blob_url(&plain, &media_type)
}

/// The decrypted file of the annexe at `place`, and its media type.
pub(super) async fn evidence_bytes(
    place: usize,
    progress: &dyn Fn(u32, u32),
) -> Result<(zeroize::Zeroizing<Vec<u8>>, String), Error> {
    let db = db()?;
    let (id, annexe, key) = with_open(|r| {
        let annexe = r.dossier().annexes().into_iter().find(|a| a.place == place);
        (r.id, annexe, r.dossier().annexe_key(place))
    })?;
    let annexe = annexe.ok_or_else(|| Error::said("annexe introuvable", "annex not found"))?;
    let key = key.ok_or_else(|| {
        Error::said(
            "clé de la pièce absente du dossier",
            "the file's key is missing from the dossier",
        )
    })?;
    let blob = annexe
        .blob
        .ok_or_else(|| Error::said("annexe sans fichier", "annex without a file"))?;
    // The count comes from the synced dossier, which any member writes: checked before
    // anything is fetched or allocated for it.
    if annexe.pieces > evidence::MAX_PIECES {
        return Err(about(&annexe.fichier, evidence::EvidenceError::Corrupt));
    }
    let mut pieces = Vec::with_capacity(annexe.pieces as usize);
    let mut socket = None;
    for index in 0..annexe.pieces {
        progress(index, annexe.pieces);
        if let Some(piece) = db
            .get(&piece_key(&blob, index))
            .await
            .map_err(Error::from)?
        {
            pieces.push(piece);
            continue;
        }
        if socket.is_none() {
            socket = Some(connect_as_me().await?);
        }
        let s = socket.as_ref().expect("just connected");
        send(
            s,
            &ClientMsg::GetPiece {
                dossier: id,
                blob,
                index,
            },
        )?;
        let bytes = loop {
            match next_message(s).await? {
                ServerMsg::Piece {
                    blob: b,
                    index: i,
                    bytes,
                    ..
                } if b == blob && i == index => break bytes,
                ServerMsg::Rejected {
                    reason: protocol::Rejection::NotFound,
                    ..
                } => {
                    return Err(Error::said(
                        "le fichier n'est pas encore sur le serveur : l'appareil qui l'a ajouté doit se synchroniser",
                        "the file is not on the server yet: the device that added it must sync first",
                    ));
                }
                ServerMsg::Rejected { detail, reason } => {
                    return Err(relay_refused(&detail, reason));
                }
                _ => continue,
            }
        };
        db.put(&piece_key(&blob, index), &bytes)
            .await
            .map_err(Error::from)?;
        pieces.push(bytes);
    }
    progress(annexe.pieces, annexe.pieces);
    let plain = evidence::open(&key, &pieces, Some(&annexe.empreinte))
        .map_err(|e| about(&annexe.fichier, e))?;
    Ok((plain, annexe.media_type))
}

/// A `blob:` address the page can open or download, for bytes made on this device.
pub(super) fn blob_url(bytes: &[u8], media_type: &str) -> Result<String, Error> {
    let array = js_sys::Array::new();
    array.push(&js_sys::Uint8Array::from(bytes));
    blob_url_of_parts(&array, media_type)
}

/// A `blob:` address for a file given in parts (typed arrays), never joined in memory.
pub(super) fn blob_url_of_parts(array: &js_sys::Array, media_type: &str) -> Result<String, Error> {
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(media_type);
    let file =
        web_sys::Blob::new_with_u8_array_sequence_and_options(array, &options).map_err(|_| {
            Error::said(
                "fichier impossible à reconstituer",
                "the file cannot be put back together",
            )
        })?;
    web_sys::Url::create_object_url_with_blob(&file)
        .map_err(|_| Error::said("fichier impossible à ouvrir", "the file cannot be opened"))
}
