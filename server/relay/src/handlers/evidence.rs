//! Evidence files, encrypted on the device and stored piece by piece: members may read, only
//! writers may add, only the device that began a file may go on with it, and only the
//! candidate erases one. All run on the blocking pool.

use livret_shared::envelope::{Channel, DossierId};
use livret_shared::evidence::{self, BlobId};
use livret_shared::keys::MemberKey;
use livret_shared::protocol::{Rejection, ServerMsg};

use super::{rejected, role_in, unavailable};
use crate::hub::Relay;
use crate::store::StoreError;

pub(crate) fn put_piece(
    relay: &Relay,
    me: &MemberKey,
    dossier: DossierId,
    blob: BlobId,
    index: u32,
    bytes: Vec<u8>,
    last: bool,
) -> Vec<ServerMsg> {
    if bytes.len() > evidence::PIECE || index >= evidence::MAX_PIECES {
        return rejected(relay, Rejection::TooLarge, "morceau de pièce trop grand");
    }
    match role_in(relay.store.as_ref(), &dossier, me) {
        None => return rejected(relay, Rejection::Forbidden, "pas membre du dossier"),
        Some(r) if !r.may_write(Channel::Dossier) => {
            return rejected(relay, Rejection::Forbidden, "lecture seule");
        }
        Some(_) => {}
    }
    match relay
        .store
        .put_piece(&dossier, &blob, me, index, &bytes, last)
    {
        Ok(state) => vec![ServerMsg::PieceStored {
            dossier,
            blob,
            stored: state.stored,
            complete: state.complete,
        }],
        Err(StoreError::OutOfOrder { expected }) => rejected(
            relay,
            Rejection::Gap,
            format!("morceau {index} hors ordre (attendu {expected})"),
        ),
        Err(StoreError::Full) => rejected(
            relay,
            Rejection::TooLarge,
            "espace des pièces du dossier épuisé",
        ),
        Err(StoreError::NotUploader) => rejected(
            relay,
            Rejection::Forbidden,
            "pièce commencée par un autre appareil",
        ),
        Err(_) => unavailable(relay),
    }
}

pub(crate) fn get_piece(
    relay: &Relay,
    me: &MemberKey,
    dossier: DossierId,
    blob: BlobId,
    index: u32,
) -> Vec<ServerMsg> {
    if role_in(relay.store.as_ref(), &dossier, me).is_none() {
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
        Ok(None) => rejected(relay, Rejection::NotFound, "pièce inconnue du serveur"),
        Err(_) => unavailable(relay),
    }
}

/// Erases a file for good, for one of the candidate's devices only: an advisor's deletion
/// puts an annexe in the bin, where the candidate decides (the relay cannot tell a file in
/// the bin from one the livret uses).
pub(crate) fn erase(
    relay: &Relay,
    me: &MemberKey,
    dossier: DossierId,
    blob: BlobId,
) -> Vec<ServerMsg> {
    match role_in(relay.store.as_ref(), &dossier, me) {
        None => return rejected(relay, Rejection::Forbidden, "pas membre du dossier"),
        Some(livret_shared::membership::Role::Owner) => {}
        Some(_) => {
            return rejected(
                relay,
                Rejection::Forbidden,
                "seul le candidat efface un fichier du dossier",
            );
        }
    }
    match relay.store.erase_blob(&dossier, &blob) {
        Ok(_) => vec![ServerMsg::Erased { dossier, blob }],
        Err(_) => unavailable(relay),
    }
}
