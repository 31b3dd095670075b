//! Evidence files, encrypted on the device and stored piece by piece: members may read, only
//! writers may add, and only the device that began a file may go on with it.

use livret_shared::envelope::{Channel, DossierId};
use livret_shared::evidence::{self, BlobId};
use livret_shared::protocol::{Rejection, ServerMsg};

use super::{Caller, rejected, role_in};
use crate::store::StoreError;

pub(crate) async fn put_piece(
    caller: &Caller<'_>,
    dossier: DossierId,
    blob: BlobId,
    index: u32,
    bytes: Vec<u8>,
    last: bool,
) -> Vec<ServerMsg> {
    let relay = caller.relay;
    let me = caller.me;
    if bytes.len() > evidence::PIECE || index >= evidence::MAX_PIECES {
        return rejected(relay, Rejection::TooLarge, "morceau de pièce trop grand");
    }
    let store = relay.store.clone();
    match role_in(store.as_ref(), &dossier, &me) {
        None => return rejected(relay, Rejection::Forbidden, "pas membre du dossier"),
        Some(r) if !r.may_write(Channel::Dossier) => {
            return rejected(relay, Rejection::Forbidden, "lecture seule");
        }
        Some(_) => {}
    }
    let put = tokio::task::spawn_blocking(move || {
        store.put_piece(&dossier, &blob, &me, index, &bytes, last)
    })
    .await;
    match put {
        Ok(Ok(state)) => vec![ServerMsg::PieceStored {
            dossier,
            blob,
            stored: state.stored,
            complete: state.complete,
        }],
        Ok(Err(StoreError::OutOfOrder { expected })) => rejected(
            relay,
            Rejection::Gap,
            format!("morceau {index} hors ordre (attendu {expected})"),
        ),
        Ok(Err(StoreError::Full)) => rejected(
            relay,
            Rejection::TooLarge,
            "espace des pièces du dossier épuisé",
        ),
        Ok(Err(StoreError::NotUploader)) => rejected(
            relay,
            Rejection::Forbidden,
            "pièce commencée par un autre appareil",
        ),
        _ => rejected(relay, Rejection::Malformed, "relais indisponible"),
    }
}

pub(crate) fn get_piece(
    caller: &Caller<'_>,
    dossier: DossierId,
    blob: BlobId,
    index: u32,
) -> Vec<ServerMsg> {
    let relay = caller.relay;
    if role_in(relay.store.as_ref(), &dossier, &caller.me).is_none() {
        return rejected(relay, Rejection::Forbidden, "pas membre du dossier");
    }
    match relay.store.get_piece(&dossier, &blob, index) {
        Ok(Some((bytes, last))) => vec![ServerMsg::Piece {
            dossier,
            blob,
            index,
            bytes,
            last,
        }],
        Ok(None) => rejected(relay, Rejection::NotFound, "pièce inconnue du relais"),
        Err(_) => rejected(relay, Rejection::Malformed, "relais indisponible"),
    }
}
