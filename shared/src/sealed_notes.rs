//! Signed notes sealed into a map of the dossier's document: the comments
//! ([`crate::comments`]) and the members' names ([`crate::member_names`]) are stored this way.
//!
//! A note is signed by the device that wrote it, then sealed with a key of the epoch it was
//! written in; the relay sees its size bucket only. One sealed note:
//!
//! ```text
//! offset size  field
//!      0    4  magic "LVC1"
//!      4    4  key epoch (u32, big-endian)
//!      8   24  XChaCha20 nonce
//!     32    n  XChaCha20-Poly1305(key, nonce, aad = magic ‖ dossier id ‖ epoch ‖ map ‖ 0 ‖ slot,
//!              plaintext = u32 length ‖ postcard(note) ‖ zero padding to a size bucket)
//! ```
//!
//! The map and the slot (the note's key in its map) are bound into the seal and the
//! signature: a note moved to another slot, another map or another dossier does not open.

use std::collections::BTreeMap;

use automerge::transaction::Transactable;
use automerge::{ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::dossier::{Dossier, DossierError};
use crate::envelope::{DossierId, padded_len};
use crate::keys::{self, ContentKey, DeviceSecret, MemberKey};

const MAGIC: &[u8; 4] = b"LVC1";
const PREFIX_LEN: usize = 4 + 4 + 24;
/// A sealed note larger than this is not even opened (a comment is at most 16 KB of UTF-8).
const MAX_SEALED: usize = 64 * 1024;

/// What is sealed: a note and its author's signature over it (and over where it goes).
#[derive(serde::Serialize, serde::Deserialize)]
struct SignedNote {
    note: Vec<u8>,
    signature: Vec<u8>,
}

const SIGNATURE_DOMAIN: &[u8] = b"livret-comment-v1";

fn signed_message(dossier: &DossierId, map: &str, slot: &str, note: &[u8]) -> Vec<u8> {
    let mut m = SIGNATURE_DOMAIN.to_vec();
    m.extend_from_slice(&dossier.0);
    m.extend_from_slice(map.as_bytes());
    m.push(0);
    m.extend_from_slice(slot.as_bytes());
    m.push(0);
    m.extend_from_slice(note);
    m
}

fn aad(dossier: &DossierId, epoch: u32, map: &str, slot: &str) -> Vec<u8> {
    let mut aad = MAGIC.to_vec();
    aad.extend_from_slice(&dossier.0);
    aad.extend_from_slice(&epoch.to_be_bytes());
    aad.extend_from_slice(map.as_bytes());
    aad.push(0);
    aad.extend_from_slice(slot.as_bytes());
    aad
}

/// Where a note goes: the dossier, the map of its document and the slot in that map.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Place<'a> {
    pub dossier: &'a DossierId,
    pub map: &'a str,
    pub slot: &'a str,
}

/// `note` signed by `author`, sealed with `key` (of `epoch`).
pub(crate) fn seal<T: Serialize>(
    (epoch, key): (u32, &ContentKey),
    place: Place<'_>,
    note: &T,
    author: &DeviceSecret,
    nonce: [u8; 24],
) -> Vec<u8> {
    let Place { dossier, map, slot } = place;
    let note = postcard::to_stdvec(note).expect("notes serialise");
    let signature = author
        .sign(&signed_message(dossier, map, slot, &note))
        .to_vec();
    let payload = postcard::to_stdvec(&SignedNote { note, signature }).expect("notes serialise");
    let mut plain = Vec::with_capacity(padded_len(payload.len()));
    plain.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    plain.extend_from_slice(&payload);
    plain.resize(padded_len(payload.len()), 0);
    let cipher = XChaCha20Poly1305::new(key.bytes().into());
    let ciphertext = cipher
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: &plain,
                aad: &aad(dossier, epoch, map, slot),
            },
        )
        .expect("encryption of an in-memory buffer cannot fail");
    let mut out = Vec::with_capacity(PREFIX_LEN + ciphertext.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&epoch.to_be_bytes());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ciphertext);
    out
}

/// The note sealed in `sealed`, if one of `keys` opens it at `place` and the device
/// `signer_of` names in it signed it.
pub(crate) fn open<T: DeserializeOwned>(
    keys: &BTreeMap<u32, ContentKey>,
    place: Place<'_>,
    sealed: &[u8],
    signer_of: impl Fn(&T) -> MemberKey,
) -> Option<T> {
    let Place { dossier, map, slot } = place;
    if sealed.len() < PREFIX_LEN + 16 || sealed.len() > MAX_SEALED || &sealed[..4] != MAGIC {
        return None;
    }
    let epoch = u32::from_be_bytes(sealed[4..8].try_into().ok()?);
    let key = keys.get(&epoch)?;
    let cipher = XChaCha20Poly1305::new(key.bytes().into());
    let plain = cipher
        .decrypt(
            XNonce::from_slice(&sealed[8..32]),
            Payload {
                msg: &sealed[PREFIX_LEN..],
                aad: &aad(dossier, epoch, map, slot),
            },
        )
        .ok()?;
    let len = u32::from_be_bytes(plain.get(..4)?.try_into().ok()?) as usize;
    let signed: SignedNote = postcard::from_bytes(plain.get(4..)?.get(..len)?).ok()?;
    let note: T = postcard::from_bytes(&signed.note).ok()?;
    let signature: [u8; 64] = signed.signature.as_slice().try_into().ok()?;
    let message = signed_message(dossier, map, slot, &signed.note);
    keys::verify(&signer_of(&note), &message, &signature).then_some(note)
}

/// The map `name` at the document's root.
pub(crate) fn map_of(doc: &mut Dossier, name: &str) -> Result<ObjId, DossierError> {
    let am = doc.automerge();
    match am.get(ROOT, name) {
        Ok(Some((Value::Object(ObjType::Map), id))) => Ok(id),
        // Created with the dossier (and by the migrations), so that two devices seldom
        // create it twice concurrently (readers read both maps when they do).
        _ => Err(DossierError::Corrupt(format!("« {name} » absent"))),
    }
}

/// Seals `note` and puts it in the document at `place`. The map is made if a writer
/// deleted it (or put something else there): readers read every map of that name.
pub(crate) fn put<T: Serialize>(
    doc: &mut Dossier,
    key: (u32, &ContentKey),
    place: Place<'_>,
    note: &T,
    author: &DeviceSecret,
    nonce: [u8; 24],
) -> Result<(), DossierError> {
    let sealed = seal(key, place, note, author, nonce);
    let map = match map_of(doc, place.map) {
        Ok(map) => map,
        Err(_) => doc
            .automerge()
            .put_object(ROOT, place.map, ObjType::Map)
            .map_err(|e| DossierError::Corrupt(e.to_string()))?,
    };
    doc.automerge()
        .put(&map, place.slot, ScalarValue::Bytes(sealed))
        .map_err(|e| DossierError::Corrupt(e.to_string()))?;
    Ok(())
}

/// Each slot's note in the map `map`: the first of its values, in automerge's order, that
/// `keys` open at its place, that its signer signed and that `accept` takes for that slot
/// (« last writer wins » among valid notes; what a writer put in a losing value or map never
/// hides the winner). Also how many slots hold values of which none is taken.
pub(crate) fn read_slots<T: DeserializeOwned>(
    doc: &mut Dossier,
    keys: &BTreeMap<u32, ContentKey>,
    (dossier, map): (&DossierId, &str),
    signer_of: impl Fn(&T) -> MemberKey,
    accept: impl Fn(&str, &T) -> bool,
) -> (BTreeMap<String, T>, usize) {
    let mut taken: BTreeMap<String, T> = BTreeMap::new();
    let mut refused = std::collections::BTreeSet::new();
    for (slot, sealed) in entries(doc, map) {
        if taken.contains_key(&slot) {
            continue;
        }
        let place = Place {
            dossier,
            map,
            slot: &slot,
        };
        match open(keys, place, &sealed, &signer_of) {
            Some(note) if accept(&slot, &note) => {
                refused.remove(&slot);
                taken.insert(slot, note);
            }
            _ => {
                refused.insert(slot);
            }
        }
    }
    (taken, refused.len())
}

/// Every sealed note under `name`, by slot: every value of every map of that name, not only
/// the one automerge shows. Devices that opened an older dossier each made the map when they
/// migrated it, and two writers may put a slot at once: a note in a map or a value that lost
/// the conflict must not vanish, and whatever a writer put in the losing one must not hide
/// the winner's. In automerge's order of preference (the map and the value it shows
/// first): a caller that takes a slot's first value that opens keeps « last writer wins ».
pub(crate) fn entries(doc: &mut Dossier, name: &str) -> Vec<(String, Vec<u8>)> {
    let am = doc.automerge();
    // `get_all` lists conflicting values in the order of their operations, the one
    // automerge shows last.
    let maps: Vec<ObjId> = am
        .get_all(ROOT, name)
        .unwrap_or_default()
        .into_iter()
        .rev()
        .filter_map(|(v, id)| matches!(v, Value::Object(ObjType::Map)).then_some(id))
        .collect();
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    for map in maps {
        for slot in am.keys(&map).collect::<Vec<_>>() {
            for (value, _) in am
                .get_all(&map, slot.as_str())
                .unwrap_or_default()
                .into_iter()
                .rev()
            {
                if let Value::Scalar(s) = value
                    && let ScalarValue::Bytes(b) = s.as_ref()
                {
                    out.push((slot.clone(), b.clone()));
                }
            }
        }
    }
    out
}
