//! The unlocked device and its storage. The browser runs the app on one thread, so the
//! session lives in a thread-local; components reach it through these functions and keep
//! only plain values (ids, texts) in their signals. One file per concern: the device, the
//! dossiers stored here, the relay connection, the live loop, members, presence, comments,
//! the candidate's devices, evidence, documents, référentiels.

use std::cell::RefCell;
use std::rc::Rc;
use std::str::FromStr;

use js_sys::Promise;
use livret_shared::comments::{CommentId, Comments, Draft};
use livret_shared::dossier::NewAnnexe;
use livret_shared::envelope::{DossierId, Envelope, random_nonce};
use livret_shared::evidence::{BlobId, Sealer};
use livret_shared::exchange::{Exchange, ExchangeError};
use livret_shared::export;
use livret_shared::keys::{DeviceId, DeviceSecret, EpochKeys, MemberKey};
use livret_shared::membership::{self, Member, Role, SignedEntry};
use livret_shared::own_devices;
use livret_shared::presence::{Presence, Roster};
use livret_shared::protocol::{self, ClientMsg, ServerMsg};
use livret_shared::referentiel::Referentiel;
use livret_shared::sync::Replica;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

use crate::clock::now_ms;
use crate::idb::Db;
use crate::metrics;
use crate::ws::Socket;

mod comments;
mod deletion;
mod device;
mod devices;
mod documents;
mod error;
mod evidence;
mod exchange;
mod history;
mod holdings;
mod live;
mod members;
mod presence;
mod referentiels;
mod relay;
mod storage;
mod templates;

pub use comments::*;
pub use deletion::*;
pub use device::*;
pub use devices::*;
pub use documents::*;
pub use error::Error;
pub use evidence::*;
use exchange::*;
pub use history::*;
pub use holdings::*;
pub use live::*;
pub use members::*;
pub use presence::*;
pub use referentiels::*;
use relay::*;
pub use storage::*;
pub use templates::*;

/// IndexedDB keys: the locked device keys, and one sealed replica per dossier.
const DEVICE_KEY: &str = "device";
const DOSSIER_PREFIX: &str = "dossier:";
/// Between full saves, each keystroke appends a small sealed delta
/// (`delta:<dossier>:<generation>:<n>`) instead of rewriting the dossier; a full save starts a
/// new generation (`generation:<dossier>`, u32 LE) and drops the old deltas in the same
/// transaction, so a reload never mixes a full save with deltas older than it.
const DELTA_PREFIX: &str = "delta:";
const GENERATION_PREFIX: &str = "generation:";
/// Deltas before the next keystroke's save is a full one.
const MAX_DELTAS: u32 = 1_000;
/// The candidate's other keys (their other devices, their recovery key): identity lines,
/// sealed to the device. Every dossier this device creates gets them as owners.
const OWN_KEYS: &str = "own-keys";
/// The signing keys of the candidate this device knows (its own, the kit's, its other
/// devices'), in hex, one per line, unsealed: public keys, kept readable so that a locked
/// device can tell its candidate's recovery kit from anyone else's key.
const OWN_PUBLIC: &str = "own-public";
/// The recovery kit's public signing key (hex), written when the kit is made or used on this
/// device: the dossiers it owns name it « Kit de secours » in their members' list.
const KIT_PUBLIC: &str = "kit-public";
/// Devices that added this one as an owner and wait for the candidate's answer ("is it
/// yours?"), and those the candidate said are not theirs: identity lines, sealed to the
/// device (see `livret_shared::own_devices`).
const PROPOSED_DEVICES: &str = "proposed-devices";
const REFUSED_DEVICES: &str = "refused-devices";
/// Encrypted evidence pieces (`piece:<blob>:<index>`): encrypted already, stored as they are.
const PIECE_PREFIX: &str = "piece:";
/// Référentiels imported on this device (`referentiel:<hash>` → its JSON, sealed).
const REFERENTIEL_PREFIX: &str = "referentiel:";
/// A dossier template imported on this device, sealed to it.
const TEMPLATE_PREFIX: &str = "template:";
/// Largest référentiel file read (the relay takes PDFs up to this size too).
const MAX_REFERENTIEL_FILE: u64 = 20 * 1024 * 1024;
/// Evidence files not yet all on the relay (`upload:<dossier>:<blob>` → pieces sent, u32 LE).
const UPLOAD_PREFIX: &str = "upload:";
/// A catch-up this long makes the app compact the dossier once synced (as `livret dossier
/// compact` does): the next device to open it starts from a snapshot, not from every
/// keystroke.
const COMPACT_AFTER: usize = 5_000;

struct Session {
    db: Db,
    device: Option<DeviceSecret>,
    /// The dossier being edited, if any, with where its local copy stands.
    open: Option<Replica>,
    open_saved: Saved,
}

/// Where the open dossier's local copy stands: its generation, and how many deltas follow
/// the full save (`None`: never saved in full on this device).
#[derive(Clone, Copy, Default)]
struct Saved {
    generation: u32,
    deltas: Option<u32>,
}

thread_local! {
    static SESSION: RefCell<Option<Session>> = const { RefCell::new(None) };
}

// Errors met in several places.

fn storage_closed() -> Error {
    Error::said("stockage non ouvert", "storage not open")
}

fn device_locked() -> Error {
    Error::said("appareil verrouillé", "device locked")
}

fn no_dossier_open() -> Error {
    Error::said("aucun dossier ouvert", "no dossier open")
}

fn no_dossier_key() -> Error {
    Error::said("clé du dossier absente", "the dossier's key is missing")
}

fn no_window() -> Error {
    Error::said("pas de fenêtre", "no browser window")
}

fn address_unreadable() -> Error {
    Error::said("adresse illisible", "unreadable address")
}

fn file_unreadable() -> Error {
    Error::said("lecture du fichier impossible", "the file cannot be read")
}

fn relay_lost() -> Error {
    Error::said(
        "connexion au serveur perdue",
        "connection to the server lost",
    )
}

fn relay_unreadable() -> Error {
    Error::said(
        "réponse illisible du serveur",
        "unreadable answer from the server",
    )
}

/// What the relay said when it turned a request down.
fn relay_said(detail: &str) -> Error {
    Error::RelaySaid(detail.to_string())
}

fn relay_refused(detail: &str, reason: livret_shared::protocol::Rejection) -> Error {
    Error::RelayRefused {
        detail: detail.to_string(),
        reason,
    }
}

/// A failure about something named (a dossier, a file).
fn about(subject: impl std::fmt::Display, problem: impl Into<Error>) -> Error {
    Error::about(subject, problem)
}

fn db() -> Result<Db, Error> {
    SESSION.with(|s| {
        s.borrow()
            .as_ref()
            .map(|s| s.db.clone())
            .ok_or_else(storage_closed)
    })
}
