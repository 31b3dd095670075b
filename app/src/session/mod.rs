//! The unlocked device and its storage. The browser runs the app on one thread, so the
//! session lives in a thread-local; components reach it through these functions and keep
//! only plain values (ids, texts) in their signals.

use std::cell::RefCell;
use std::rc::Rc;
use std::str::FromStr;

use js_sys::Promise;
use livret_shared::comments::{CommentId, Comments, Draft};
use livret_shared::dossier::NewAnnexe;
use livret_shared::envelope::{DossierId, Envelope, random_nonce};
use livret_shared::evidence::{self, BlobId, Sealer};
use livret_shared::exchange::{Exchange, ExchangeError};
use livret_shared::export;
use livret_shared::keys::{DeviceId, DeviceSecret, EpochKeys};
use livret_shared::membership::{self, Member, Role, SignedEntry};
use livret_shared::own_devices;
use livret_shared::presence::{Presence, Roster};
use livret_shared::protocol::{self, ClientMsg, ServerMsg};
use livret_shared::referentiel::{self, Referentiel};
use livret_shared::sync::Replica;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

use crate::clock::now_ms;
use crate::i18n;
use crate::idb::Db;
use crate::metrics;
use crate::ws::Socket;

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
/// Devices that added this one as an owner and wait for the candidate's answer ("is it
/// yours?"), and those the candidate said are not theirs: identity lines, sealed to the
/// device (see `livret_shared::own_devices`).
const PROPOSED_DEVICES: &str = "proposed-devices";
const REFUSED_DEVICES: &str = "refused-devices";
/// Encrypted evidence pieces (`piece:<blob>:<index>`): encrypted already, stored as they are.
const PIECE_PREFIX: &str = "piece:";
/// Référentiels imported on this device (`referentiel:<hash>` → its JSON, sealed).
const REFERENTIEL_PREFIX: &str = "referentiel:";
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

// Errors met in several places, worded when they happen (in the language shown then).

fn storage_closed() -> String {
    i18n::t("stockage non ouvert", "storage not open").into()
}

fn device_locked() -> String {
    i18n::t("appareil verrouillé", "device locked").into()
}

fn no_dossier_open() -> String {
    i18n::t("aucun dossier ouvert", "no dossier open").into()
}

fn no_dossier_key() -> String {
    i18n::t("clé du dossier absente", "the dossier's key is missing").into()
}

fn no_window() -> String {
    i18n::t("pas de fenêtre", "no browser window").into()
}

fn address_unreadable() -> String {
    i18n::t("adresse illisible", "unreadable address").into()
}

fn file_unreadable() -> String {
    i18n::t("lecture du fichier impossible", "the file cannot be read").into()
}

fn relay_lost() -> String {
    i18n::t("connexion au relais perdue", "connection to the relay lost").into()
}

fn relay_unreadable() -> String {
    i18n::t(
        "réponse illisible du relais",
        "unreadable answer from the relay",
    )
    .into()
}

/// What the relay said when it turned a request down.
fn relay_said(detail: &str) -> String {
    if i18n::en() {
        format!("relay: {detail}")
    } else {
        format!("relais : {detail}")
    }
}

fn relay_refused(detail: &str, reason: &str) -> String {
    if i18n::en() {
        format!("the relay refused: {detail} ({reason})")
    } else {
        format!("le relais a refusé : {detail} ({reason})")
    }
}

/// A failure about something named (a dossier, a file): "name: problem" (French typography
/// puts a space before the colon, English none).
fn about(subject: impl std::fmt::Display, problem: impl std::fmt::Display) -> String {
    if i18n::en() {
        format!("{subject}: {problem}")
    } else {
        format!("{subject} : {problem}")
    }
}

fn db() -> Result<Db, String> {
    SESSION.with(|s| {
        s.borrow()
            .as_ref()
            .map(|s| s.db.clone())
            .ok_or_else(storage_closed)
    })
}

/// Opens IndexedDB; `true` when this browser already holds locked keys.
pub async fn open_storage() -> Result<bool, String> {
    let db = Db::open("livret").await.map_err(|e| e.to_string())?;
    let has_device = db
        .get(DEVICE_KEY)
        .await
        .map_err(|e| e.to_string())?
        .is_some();
    SESSION.with(|s| {
        *s.borrow_mut() = Some(Session {
            db,
            device: None,
            open: None,
            open_saved: Saved::default(),
        })
    });
    Ok(has_device)
}

/// Gives the browser a moment to paint (before slow, synchronous work such as scrypt).
pub async fn yield_to_browser() {
    sleep(30).await;
}

/// Resolves after `ms` milliseconds.
pub async fn sleep(ms: i32) {
    let promise = Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = JsFuture::from(promise).await;
}

pub async fn create_identity(device: DeviceSecret, locked: &[u8]) -> Result<(), String> {
    db()?
        .put(DEVICE_KEY, locked)
        .await
        .map_err(|e| e.to_string())?;
    set_device(device);
    Ok(())
}

pub async fn unlock(passphrase: &str) -> Result<(), String> {
    let locked = db()?
        .get(DEVICE_KEY)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| i18n::t("aucune clé sur cet appareil", "no keys on this device"))?;
    let device = DeviceSecret::unlock(&locked, passphrase)
        .map_err(|_| i18n::t("Phrase de passe incorrecte.", "Incorrect passphrase."))?;
    set_device(device);
    Ok(())
}

fn set_device(device: DeviceSecret) {
    SESSION.with(|s| {
        if let Some(s) = s.borrow_mut().as_mut() {
            s.device = Some(device);
        }
    });
}

/// This device's public identity line (`livret1:…`), or nothing while locked.
pub fn identity_line() -> String {
    SESSION.with(|s| {
        s.borrow()
            .as_ref()
            .and_then(|s| s.device.as_ref())
            .map(|d| d.id().to_line())
            .unwrap_or_default()
    })
}

/// What the home page lists.
#[derive(Clone, Debug, PartialEq)]
pub struct DossierSummary {
    pub id: String,
    /// The certification's title (`None`: none targeted, or an untitled one).
    pub title: Option<String>,
    pub fiches: usize,
}

fn with_device<T>(f: impl FnOnce(&DeviceSecret) -> T) -> Result<T, String> {
    SESSION.with(|s| {
        s.borrow()
            .as_ref()
            .and_then(|s| s.device.as_ref())
            .map(f)
            .ok_or_else(device_locked)
    })
}

fn delta_key(id: &str, generation: u32, n: u32) -> String {
    // Zero-padded: IndexedDB lists keys in string order.
    format!("{DELTA_PREFIX}{id}:{generation:010}:{n:010}")
}

/// A dossier's local copy: the full save and the deltas of its generation.
async fn load(id: &str) -> Result<(Replica, Saved), String> {
    let db = db()?;
    let sealed = db
        .get(&format!("{DOSSIER_PREFIX}{id}"))
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| {
            if i18n::en() {
                format!("dossier {id} is not on this device")
            } else {
                format!("dossier {id} absent de cet appareil")
            }
        })?;
    let generation = db
        .get(&format!("{GENERATION_PREFIX}{id}"))
        .await
        .map_err(|e| e.to_string())?
        .and_then(|b| <[u8; 4]>::try_from(b.as_slice()).ok())
        .map_or(0, u32::from_le_bytes);
    let mut keys = db
        .keys(&format!("{DELTA_PREFIX}{id}:{generation:010}:"))
        .await
        .map_err(|e| e.to_string())?;
    keys.sort();
    let mut sealed_deltas = Vec::with_capacity(keys.len());
    for key in &keys {
        if let Some(d) = db.get(key).await.map_err(|e| e.to_string())? {
            sealed_deltas.push(d);
        }
    }
    let replica = with_device(|device| {
        let plain = device
            .open_own(&sealed)
            .map_err(|e| about(format!("dossier {id}"), e))?;
        let deltas = sealed_deltas
            .iter()
            .map(|d| device.open_own(d).map(|p| p.to_vec()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| about(format!("dossier {id}"), e))?;
        Replica::restore_with_deltas(device, &plain, &deltas)
            .map_err(|e| about(format!("dossier {id}"), e))
    })??;
    let saved = Saved {
        generation,
        deltas: Some(sealed_deltas.len() as u32),
    };
    Ok((replica, saved))
}

/// Makes `replica` the open dossier.
fn set_open(replica: Replica, saved: Saved) {
    SESSION.with(|s| {
        if let Some(s) = s.borrow_mut().as_mut() {
            s.open = Some(replica);
            s.open_saved = saved;
        }
    });
}

pub async fn list_dossiers() -> Result<Vec<DossierSummary>, String> {
    let keys = db()?
        .keys(DOSSIER_PREFIX)
        .await
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for key in keys {
        let id = key[DOSSIER_PREFIX.len()..].to_string();
        let (mut replica, _) = load(&id).await?;
        let title = replica.dossier().referentiel().and_then(|r| r.title);
        out.push(DossierSummary {
            fiches: replica.dossier().fiche_count(),
            id,
            title,
        });
    }
    Ok(out)
}

/// A new dossier owned by this device, targeting `referentiel`; returns its id.
pub async fn create_dossier(referentiel: &Referentiel) -> Result<String, String> {
    let mut replica = with_device(|device| {
        Replica::create(device, DossierId::generate(), EpochKeys::generate())
            .map(|(replica, _genesis)| replica)
            .map_err(|e| e.to_string())
    })??;
    let dossier = replica.dossier();
    dossier
        .set_referentiel(referentiel)
        .map_err(|e| e.to_string())?;
    if let Some(title) = &referentiel.title {
        dossier
            .set("projet_vae.certification", title)
            .map_err(|e| e.to_string())?;
    }
    if let Some(rncp) = &referentiel.rncp {
        dossier
            .set("projet_vae.rncp", rncp)
            .map_err(|e| e.to_string())?;
    }
    let id = replica.id.to_string();
    set_open(replica, Saved::default());
    // The candidate's other devices and recovery key own it too.
    add_own_keys_to_open(&own_keys().await?, &trusted_keys().await?)?;
    save_open().await?;
    Ok(id)
}

/// Opens a dossier for editing (kept in the session until another one is opened).
pub async fn open_dossier(id: &str) -> Result<(), String> {
    let already = SESSION.with(|s| {
        s.borrow()
            .as_ref()
            .and_then(|s| s.open.as_ref())
            .is_some_and(|r| r.id.to_string() == id)
    });
    if !already {
        let (replica, saved) = load(id).await?;
        set_open(replica, saved);
        // Folds the deltas into one full save now, rather than on a keystroke later.
        if saved.deltas.is_some_and(|n| n > 0) {
            save_open_full().await?;
        }
    }
    Ok(())
}

/// Runs `f` on the open dossier's replica.
pub fn with_open<T>(f: impl FnOnce(&mut Replica) -> T) -> Result<T, String> {
    SESSION.with(|s| {
        s.borrow_mut()
            .as_mut()
            .and_then(|s| s.open.as_mut())
            .map(f)
            .ok_or_else(no_dossier_open)
    })
}

/// Runs `f` with the unlocked device and the open dossier's replica.
fn with_device_and_open<T>(
    f: impl FnOnce(&DeviceSecret, &mut Replica) -> Result<T, String>,
) -> Result<T, String> {
    SESSION.with(|s| {
        let mut s = s.borrow_mut();
        let s = s.as_mut().ok_or_else(storage_closed)?;
        let device = s.device.as_ref().ok_or_else(device_locked)?;
        let replica = s.open.as_mut().ok_or_else(no_dossier_open)?;
        f(device, replica)
    })
}

/// Seals what changed in the open dossier to this device and writes it to IndexedDB;
/// resolves once the write is committed. A small delta most of the time (O(change), not
/// O(document)), a full save every [`MAX_DELTAS`]. Everything is decided before the first
/// await, and IndexedDB commits transactions in the order they were made, so saves started
/// in a row land in that order.
pub async fn save_open() -> Result<(), String> {
    let started = metrics::now();
    // The benchmark's switch: every save in full, as before deltas, for the side-by-side.
    let always_full = metrics::switch("__livretToujoursComplet");
    let delta = SESSION.with(|s| {
        let mut s = s.borrow_mut();
        let s = s.as_mut().ok_or_else(storage_closed)?;
        let device = s.device.as_ref().ok_or_else(device_locked)?;
        let replica = s.open.as_mut().ok_or_else(no_dossier_open)?;
        match s.open_saved.deltas {
            Some(n) if n < MAX_DELTAS && !always_full => {
                s.open_saved.deltas = Some(n + 1);
                let key = delta_key(&replica.id.to_string(), s.open_saved.generation, n);
                Ok::<_, String>(Some((key, device.seal_for_self(&replica.save_delta()))))
            }
            _ => Ok(None),
        }
    })?;
    match delta {
        Some((key, sealed)) => {
            metrics::record("__livretScellements", metrics::now() - started);
            let writing = metrics::now();
            db()?
                .put_relaxed(&key, &sealed)
                .await
                .map_err(|e| e.to_string())?;
            metrics::record("__livretEcritures", metrics::now() - writing);
            Ok(())
        }
        None => save_open_full().await,
    }
}

/// Seals the whole open dossier and writes it as a new generation, dropping the deltas of
/// the previous one, in one transaction.
pub async fn save_open_full() -> Result<(), String> {
    let db = db()?;
    let id = with_open(|r| r.id.to_string())?;
    // Listed first: every delta here belongs to a generation this save replaces. Deltas
    // written after this point get the new generation (decided below, with no await
    // between the decision and the transaction that commits it).
    let stale = db
        .keys(&format!("{DELTA_PREFIX}{id}:"))
        .await
        .map_err(|e| e.to_string())?;
    let (generation, sealed) = SESSION.with(|s| {
        let mut s = s.borrow_mut();
        let s = s.as_mut().ok_or_else(storage_closed)?;
        let device = s.device.as_ref().ok_or_else(device_locked)?;
        let replica = s.open.as_mut().ok_or_else(no_dossier_open)?;
        if replica.id.to_string() != id {
            return Err(i18n::t(
                "un autre dossier a été ouvert entre-temps",
                "another dossier was opened in the meantime",
            )
            .into());
        }
        let generation = s.open_saved.generation + 1;
        s.open_saved = Saved {
            generation,
            deltas: Some(0),
        };
        let started = metrics::now();
        let sealed = device.seal_for_self(&replica.save());
        metrics::record("__livretScellements", metrics::now() - started);
        Ok::<_, String>((generation, sealed))
    })?;
    let next = generation.to_le_bytes();
    db.write_all(
        &[
            (&format!("{DOSSIER_PREFIX}{id}"), &sealed),
            (&format!("{GENERATION_PREFIX}{id}"), &next),
        ],
        &stale,
    )
    .await
    .map_err(|e| e.to_string())
}

/// Shares the open dossier with another device (its `livret1:…` identity line), as advisor
/// or juror: the content key is wrapped to it in a signed membership entry, published to the
/// relay at the next sync.
pub async fn share(identity: &str, role: Role) -> Result<(), String> {
    let member = DeviceId::from_str(identity.trim()).map_err(|e| e.to_string())?;
    with_device_and_open(|device, replica| {
        let key = replica.epoch_keys().ok_or_else(no_dossier_key)?;
        let entry = membership::add(replica.membership(), device, &member, role, &key)
            .map_err(|e| e.to_string())?;
        replica
            .apply_membership(device, std::slice::from_ref(&entry))
            .map_err(|e| e.to_string())
    })?;
    save_open().await
}

/// The relay's WebSocket address: the origin that served the app.
fn relay_url() -> Result<String, String> {
    let location = web_sys::window().ok_or_else(no_window)?.location();
    let protocol = location.protocol().map_err(|_| address_unreadable())?;
    let host = location.host().map_err(|_| address_unreadable())?;
    let scheme = if protocol == "https:" { "wss" } else { "ws" };
    Ok(format!("{scheme}://{host}/api/v1/sync"))
}

async fn next_message(socket: &Socket) -> Result<ServerMsg, String> {
    let frame = socket.next().await.ok_or_else(relay_lost)?;
    protocol::decode(&frame).ok_or_else(relay_unreadable)
}

fn send(socket: &Socket, msg: &ClientMsg) -> Result<(), String> {
    socket.send(&protocol::encode(msg))
}

/// Talks to the relay as the key `answer` signs with: answers its challenge.
async fn connect(
    answer: impl FnOnce(&[u8]) -> Result<([u8; 32], [u8; 64]), String>,
) -> Result<Socket, String> {
    let url = relay_url()?;
    let socket = Socket::connect(&url).await?;
    let ServerMsg::Challenge { nonce } = next_message(&socket).await? else {
        return Err(i18n::t(
            "le relais n'a pas envoyé de défi",
            "the relay sent no challenge",
        )
        .into());
    };
    // Signed for the relay this page came from: passed on by another relay, it fails there.
    let origin = protocol::Origin::parse(&url).ok_or_else(address_unreadable)?;
    let (device, signature) = answer(&protocol::login_message(&origin, &nonce))?;
    send(&socket, &protocol::login(device, signature))?;
    protocol::login_answer(next_message(&socket).await?).map_err(|refused| match refused {
        protocol::LoginRefused::Refused(detail) => relay_said(&detail),
        other if i18n::en() => other.english(),
        other => other.to_string(),
    })?;
    Ok(socket)
}

/// [`connect`] as this browser's device.
async fn connect_as_me() -> Result<Socket, String> {
    connect(|challenge| with_device(|d| (d.signing_public(), d.sign(challenge)))).await
}

/// What the relay answered to a subscription: the whole membership log and the catch-up.
struct CatchUp {
    entries: Vec<SignedEntry>,
    snapshot: Option<Vec<u8>>,
    envelopes: Vec<Vec<u8>>,
    active_snapshot: Option<[u8; 32]>,
}

impl CatchUp {
    /// Applies the snapshot and envelopes (the membership log is the caller's business:
    /// joined from, or reconciled with).
    fn apply_to(&self, device: &DeviceSecret, replica: &mut Replica) -> Result<(), String> {
        replica
            .apply_log(
                device,
                &[],
                self.snapshot.as_deref(),
                &self.envelopes,
                self.active_snapshot,
            )
            .map(|received| warn_set_aside(&received))
            .map_err(|e| e.to_string())
    }
}

/// Envelopes set aside, the rest applied (`Replica::receive`): said to the console for
/// whoever looks into it; the dossier itself goes on.
fn warn_set_aside(received: &livret_shared::sync::Received) {
    for q in &received.quarantined {
        leptos::logging::warn!("enveloppe n° {} mise de côté : {}", q.counter, q.reason);
    }
}

/// The dossiers the key logged in on `socket` belongs to, as the relay knows them.
async fn my_dossiers(socket: &Socket) -> Result<Vec<DossierId>, String> {
    ask(socket, &ClientMsg::Dossiers, |m| match m {
        ServerMsg::Dossiers { ids } => Some(ids),
        _ => None,
    })
    .await
}

/// Sends `msg` and waits for the answer `pick` recognises (or the relay's refusal),
/// passing over live messages meant for other work.
async fn ask<T>(
    socket: &Socket,
    msg: &ClientMsg,
    pick: impl Fn(ServerMsg) -> Option<T>,
) -> Result<T, String> {
    send(socket, msg)?;
    loop {
        match next_message(socket).await? {
            ServerMsg::Rejected { detail, .. } => return Err(relay_said(&detail)),
            other => {
                if let Some(answer) = pick(other) {
                    return Ok(answer);
                }
            }
        }
    }
}

/// The open dossier's members: identity line, role, safety code, and whether it is this
/// device.
pub fn members() -> Vec<(String, Role, String, bool)> {
    let me = with_device(|d| d.signing_public()).ok();
    with_open(|r| {
        r.membership()
            .members
            .values()
            .map(|m| {
                let id = m.id();
                (
                    id.to_line(),
                    m.role,
                    id.safety_code(),
                    Some(m.signing) == me,
                )
            })
            .collect()
    })
    .unwrap_or_default()
}

/// Removes a member from the open dossier (owners): a new key epoch for those who remain.
/// What this device sealed for the current epoch goes to the relay first (it refuses it once
/// the epoch moves); the removal then goes with a full sync.
pub async fn remove_member(identity: &str) -> Result<(), String> {
    let member = DeviceId::from_str(identity.trim()).map_err(|e| e.to_string())?;
    sync_open().await?;
    if with_open(|r| r.pending())? > 0 {
        return Err(i18n::t(
            "des modifications attendent encore le relais : réessayez dans un instant",
            "changes are still waiting for the relay: try again in a moment",
        )
        .to_string());
    }
    with_device_and_open(|device, replica| {
        let entry = membership::remove(
            replica.membership(),
            device,
            &member.signing,
            &EpochKeys::generate(),
        )
        .map_err(|e| e.to_string())?;
        replica
            .apply_membership(device, std::slice::from_ref(&entry))
            .map_err(|e| e.to_string())
    })?;
    save_open().await?;
    sync_now();
    Ok(())
}

/// Sets the jury's date and the address the relay reminds before it, or with no date
/// cancels the reminders; returns when each queued reminder goes (ms since epoch).
pub async fn set_reminders(
    email: &str,
    jury_date: Option<livret_shared::date::Date>,
) -> Result<Vec<i64>, String> {
    let dossier = with_open(|r| r.id)?;
    let socket = connect_as_me().await?;
    let msg = ClientMsg::Reminders {
        dossier,
        email: email.trim().to_string(),
        jury_date,
    };
    ask(&socket, &msg, |m| match m {
        ServerMsg::Reminders { due, .. } => Some(due),
        _ => None,
    })
    .await
}

/// Asks the relay to mail an invitation to the open dossier (owners): a one-time link.
pub async fn invite(email: &str, role: Role, name: Option<String>) -> Result<(), String> {
    let dossier = with_open(|r| r.id)?;
    let socket = connect_as_me().await?;
    let invite = ClientMsg::Invite {
        dossier,
        email: email.trim().to_string(),
        role,
        inviter: name.filter(|n| !n.trim().is_empty()),
    };
    ask(&socket, &invite, |m| {
        matches!(m, ServerMsg::Invited { .. }).then_some(())
    })
    .await
}

/// The devices that answered an invitation to the open dossier and wait for approval: their
/// identity line, role, and safety code (computed here, from the identity the relay passed).
pub async fn join_requests() -> Result<Vec<(String, Role, String)>, String> {
    let dossier = with_open(|r| r.id)?;
    let socket = connect_as_me().await?;
    let requests = ask(&socket, &ClientMsg::Requests { dossier }, |m| match m {
        ServerMsg::Requests { requests, .. } => Some(requests),
        _ => None,
    })
    .await?;
    Ok(requests
        .into_iter()
        .filter_map(|r| {
            let code = DeviceId::from_str(&r.identity).ok()?.safety_code();
            Some((r.identity, r.role, code))
        })
        .collect())
}

/// Answers an invitation link's token with this device's identity; returns the role offered.
pub async fn accept_invitation(token: &str) -> Result<Role, String> {
    let identity = with_device(|d| d.id().to_line())?;
    let socket = connect_as_me().await?;
    let accept = ClientMsg::Accept {
        token: token.to_string(),
        identity,
    };
    ask(&socket, &accept, |m| match m {
        ServerMsg::Accepted { role, .. } => Some(role),
        _ => None,
    })
    .await
}

/// This device's safety code (what an inviting candidate compares).
pub fn safety_code() -> String {
    with_device(|d| d.id().safety_code()).unwrap_or_default()
}

/// Subscribes to `id` and waits for the catch-up; `Ok(None)` when the relay does not know
/// the dossier yet.
async fn subscribe(
    socket: &Socket,
    id: DossierId,
    since: Vec<([u8; 32], u64)>,
) -> Result<Option<CatchUp>, String> {
    send(socket, &ClientMsg::Subscribe { dossier: id, since })?;
    // A long history comes in several frames, gathered here and applied in one batch.
    let mut caught = livret_shared::catchup::Gathered::default();
    loop {
        match next_message(socket).await? {
            ServerMsg::Rejected {
                reason: protocol::Rejection::UnknownDossier,
                ..
            } => return Ok(None),
            ServerMsg::Rejected { detail, .. } => return Err(relay_said(&detail)),
            msg => {
                if caught.add_msg(id, msg) != Some(true) {
                    continue;
                }
                let entries = caught
                    .entries
                    .iter()
                    .map(|b| SignedEntry::from_bytes(b))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| e.to_string())?;
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
fn apply_live(id: DossierId, msg: &ServerMsg) -> Result<(), String> {
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
                .map_err(|e| e.to_string())
        })?;
    }
    Ok(())
}

/// Publishes one membership entry (the first one creates the dossier on the relay).
async fn publish(socket: &Socket, id: DossierId, entry: &SignedEntry) -> Result<(), String> {
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
            ServerMsg::MembershipOk { .. } => return Ok(()),
            ServerMsg::Rejected { detail, .. } => {
                return Err(if i18n::en() {
                    format!("sharing refused by the relay: {detail}")
                } else {
                    format!("partage refusé par le relais : {detail}")
                });
            }
            other => apply_live(id, &other)?,
        }
    }
}

/// Syncs the open dossier in full over a fresh connection (membership, catch-up, everything
/// waiting) and returns; `true` when others' edits arrived. Errors leave the local copy as
/// it was: the next sync starts again.
pub async fn sync_open() -> Result<bool, String> {
    let socket = connect_as_me().await?;
    sync_exchange(&socket).await
}

/// The open dossier's kept connection: subscribed (others' edits arrive on it as they are
/// made) and carrying this device's own, one envelope at a time.
struct Live {
    id: DossierId,
    socket: Rc<Socket>,
    /// The counter of the envelope sent and not yet acknowledged. What is typed meanwhile
    /// waits and goes in the next envelope, sealed when the acknowledgement comes: as few
    /// envelopes as the round trip allows, and never a wait for the one typing.
    in_flight: Option<u64>,
}

thread_local! {
    static LIVE: RefCell<Option<Live>> = const { RefCell::new(None) };
    /// Set when a full sync is wanted at once (membership changed here, the browser came
    /// back online), rather than after the wait between attempts.
    static SYNC_NOW: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// What the kept connection brought.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LiveEvent {
    /// Others' edits were merged into the open dossier (and saved on this device).
    Merged,
    /// Another member moved in the dossier (see [`present`]).
    Presence,
    /// The candidate removed this device from the dossier: nothing more will come.
    Removed,
    /// The relay acknowledged this device's edits: all of them are on it now.
    AllSent,
    /// Anything else (an acknowledgement with more to send, a message for no one here).
    Quiet,
}

/// Syncs the open dossier in full and keeps the connection for what comes next (see
/// [`next_live_event`] and [`save_typed`]); `true` when others' edits arrived.
pub async fn go_live() -> Result<bool, String> {
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

/// Whether the open dossier removed this device (it knows from the membership log).
pub fn removed_from_open() -> bool {
    with_open(|r| !r.is_member()).unwrap_or(false)
}

fn removed_text() -> String {
    i18n::t(
        "le candidat a retiré cet appareil du dossier",
        "the candidate removed this device from the dossier",
    )
    .to_string()
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
pub async fn save_typed() -> Result<(), String> {
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
async fn send_typed() -> Result<(), String> {
    let Some(socket) = LIVE.with(|l| l.borrow().as_ref().map(|live| live.socket.clone())) else {
        return save_open().await;
    };
    // The dossier's edits, and a juror's review and release (each on its own channel).
    let sealed: Vec<Vec<u8>> = with_device_and_open(|device, replica| {
        let mut sealed: Vec<Vec<u8>> = replica
            .flush(device, random_nonce())
            .map_err(|e| e.to_string())?
            .into_iter()
            .collect();
        sealed.extend(
            replica
                .flush_jury(device, random_nonce)
                .map_err(|e| e.to_string())?,
        );
        Ok::<_, String>(sealed)
    })?;
    let mut counter = None;
    for envelope in &sealed {
        let c = Envelope::parse(envelope)
            .map_err(|e| e.to_string())?
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
pub async fn next_live_event() -> Result<LiveEvent, String> {
    let (id, socket) = LIVE
        .with(|l| {
            l.borrow()
                .as_ref()
                .map(|live| (live.id, live.socket.clone()))
        })
        .ok_or_else(|| {
            i18n::t(
                "connexion au relais fermée",
                "connection to the relay closed",
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
                // A removal of this device (membership only: the text did not change).
                save_open().await?;
                close_live();
                return Ok(LiveEvent::Removed);
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
                .map_err(|e| e.to_string())
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
        ServerMsg::Rejected { detail, reason } => {
            close_live();
            Err(relay_refused(&detail, reason.as_str()))
        }
        _ => Ok(LiveEvent::Quiet),
    }
}

thread_local! {
    /// Where the other members are, as their presence messages said.
    static ROSTER: RefCell<Roster> = RefCell::new(Roster::default());
    /// Where this device is (field path, caret), repeated while the dossier stays open.
    static HERE: RefCell<Option<(String, Option<u32>)>> = const { RefCell::new(None) };
    /// The date of the last presence message sent (each one must be later).
    static LAST_PRESENCE: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// `localStorage` key of the name shown to the other members (not a secret).
const NAME_KEY: &str = "livret-nom";

/// The name this person shows to the other members of a dossier: the one they gave, or
/// for the candidate the name in their état civil.
pub fn my_name() -> String {
    let given = web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .and_then(|s| s.get_item(NAME_KEY).ok().flatten())
        .unwrap_or_default();
    if !given.trim().is_empty() {
        return given.trim().to_string();
    }
    with_open(|r| {
        // The état civil is the candidate's: an advisor or a juror is not named after it.
        if r.membership().role_of(&r.me()) != Some(Role::Owner) {
            return String::new();
        }
        let prenom = r.dossier().get("etat_civil.prenom").unwrap_or_default();
        let nom = r.dossier().get("etat_civil.nom").unwrap_or_default();
        format!("{prenom} {nom}").trim().to_string()
    })
    .unwrap_or_default()
}

/// Remembers the name shown to the other members, and tells them at once.
pub fn set_my_name(name: &str) {
    if let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = storage.set_item(NAME_KEY, name.trim());
    }
    announce_again();
}

/// Tells the members connected now where this device is (`field`: a field's path, empty for
/// none). Nothing when the dossier is not live: presence is not kept for later.
pub fn announce(field: &str, caret: Option<u32>) {
    HERE.with(|h| *h.borrow_mut() = Some((field.to_string(), caret)));
    send_presence(false);
}

/// Says the same again (the others forget a silent member after a while).
pub fn announce_again() {
    send_presence(false);
}

/// Tells the others this device left the dossier.
pub fn announce_leaving() {
    send_presence(true);
    HERE.with(|h| *h.borrow_mut() = None);
    ROSTER.with(|r| *r.borrow_mut() = Roster::default());
}

fn send_presence(leaving: bool) {
    let Some(socket) = LIVE.with(|l| l.borrow().as_ref().map(|live| live.socket.clone())) else {
        return;
    };
    let (field, caret) = HERE.with(|h| h.borrow().clone()).unwrap_or_default();
    let presence = Presence {
        field,
        caret,
        name: my_name(),
        leaving,
    };
    // Receivers keep only what is newer than the last one: two messages within one
    // millisecond (leaving a field, entering the next) must still be in order.
    let at = LAST_PRESENCE.with(|last| {
        let at = now_ms().max(last.get() + 1);
        last.set(at);
        at
    });
    let sealed = with_device_and_open(|device, replica| {
        replica
            .seal_presence(device, at, random_nonce(), &presence)
            .map_err(|e| e.to_string())
    });
    if let Ok(envelope) = sealed {
        let _ = send(&socket, &ClientMsg::Presence { envelope });
    }
}

/// Whether this device may read and write comments in the open dossier (the candidate and
/// advisors; a juror has no team key).
pub fn may_comment() -> bool {
    with_open(|r| r.may_comment()).unwrap_or(false)
}

/// The comment threads of the open dossier this device can read.
pub fn comments() -> Comments {
    with_open(|r| r.comments()).unwrap_or_default()
}

/// The name a comment is signed with: the one given, else the safety code (as presence).
fn comment_author() -> String {
    let name = my_name();
    if !name.is_empty() {
        return name;
    }
    identity_line()
        .parse::<DeviceId>()
        .map(|id| id.safety_code())
        .unwrap_or_default()
}

/// Comments `field`, or answers the thread `reply_to`, in the open dossier (saved and sent
/// by the caller, like any edit).
pub fn add_comment(field: &str, reply_to: Option<CommentId>, text: &str) -> Result<(), String> {
    // 16 of the 24 random bytes a nonce is drawn from (the same generator).
    let mut id = [0u8; 16];
    id.copy_from_slice(&random_nonce()[..16]);
    let draft = Draft {
        field: field.to_string(),
        reply_to,
        author: comment_author(),
        text: text.to_string(),
    };
    with_device_and_open(|device, r| {
        r.comment(device, draft, id, now_ms(), random_nonce())
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
}

/// Marks a thread resolved, or open again.
pub fn resolve_thread(thread: CommentId, resolved: bool) -> Result<(), String> {
    let by = comment_author();
    with_device_and_open(|device, r| {
        r.set_thread_resolved(device, thread, resolved, &by, now_ms(), random_nonce())
            .map_err(|e| e.to_string())
    })
}

/// Another member where they are now: their name (or their safety code when they gave
/// none), their role, the field's path and their caret in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Here {
    pub who: String,
    pub role: Role,
    pub field: String,
    pub caret: Option<u32>,
}

/// The other members present in the open dossier now.
pub fn present() -> Vec<Here> {
    let now = now_ms();
    let members = with_open(|r| r.membership().members.clone()).unwrap_or_default();
    ROSTER.with(|r| {
        r.borrow()
            .current(now)
            .into_iter()
            .filter(|s| members.contains_key(&s.writer))
            .map(|s| {
                let who = if s.presence.name.trim().is_empty() {
                    members
                        .get(&s.writer)
                        .map(|m| m.id().safety_code())
                        .unwrap_or_default()
                } else {
                    s.presence.name.clone()
                };
                Here {
                    who,
                    role: s.role,
                    field: s.presence.field.clone(),
                    caret: s.presence.caret,
                }
            })
            .collect()
    })
}

async fn sync_exchange(socket: &Socket) -> Result<bool, String> {
    // The exchange every device runs (`livret_shared::exchange`); this drives it over the
    // socket, with the open dossier's replica.
    let id = with_open(|r| r.id)?;
    let (mut exchange, mut out) = with_device_and_open(|device, replica| {
        Exchange::start(replica, device, &mut random_nonce).map_err(|e| exchange_failed(&e))
    })?;
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
fn exchange_failed(e: &ExchangeError) -> String {
    match e {
        ExchangeError::Refused { reason, detail } => relay_refused(detail, reason.as_str()),
        ExchangeError::Removed(_) => removed_text(),
        other if i18n::en() => other.english(),
        other => other.to_string(),
    }
}

/// Replaces the dossier's history on the relay by one sealed snapshot of this replica,
/// which must be caught up with nothing unacknowledged (see `Replica::compact`).
async fn compact(socket: &Socket, id: DossierId) -> Result<(), String> {
    let (envelope, covers) = with_device_and_open(|device, replica| {
        replica
            .compact(device, random_nonce())
            .map_err(|e| e.to_string())
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
                return Err(relay_refused(&detail, reason.as_str()));
            }
            other => apply_live(id, &other)?,
        }
    }
}

/// Identity lines kept under `key`, sealed to this device.
async fn sealed_lines(key: &str) -> Result<Vec<DeviceId>, String> {
    let Some(sealed) = db()?.get(key).await.map_err(|e| e.to_string())? else {
        return Ok(Vec::new());
    };
    let plain = with_device(|d| d.open_own(&sealed).map_err(|e| e.to_string()))??;
    let text = String::from_utf8_lossy(&plain);
    Ok(text
        .lines()
        .filter_map(|l| DeviceId::from_str(l).ok())
        .collect())
}

async fn put_sealed_lines(key: &str, ids: &[DeviceId]) -> Result<(), String> {
    let text: String = ids.iter().map(|k| format!("{}\n", k.to_line())).collect();
    let sealed = with_device(|d| d.seal_for_self(text.as_bytes()))?;
    db()?.put(key, &sealed).await.map_err(|e| e.to_string())
}

/// The candidate's other keys this device knows (identity lines).
async fn own_keys() -> Result<Vec<DeviceId>, String> {
    sealed_lines(OWN_KEYS).await
}

/// Remembers more of the candidate's keys (this device's own key is never listed).
async fn remember_own_keys(more: impl IntoIterator<Item = DeviceId>) -> Result<(), String> {
    let me = with_device(|d| d.signing_public())?;
    let mut keys = own_keys().await?;
    let before = keys.len();
    for k in more {
        if k.signing != me && !keys.iter().any(|known| known.signing == k.signing) {
            keys.push(k);
        }
    }
    if keys.len() == before && db()?.get(OWN_KEYS).await.ok().flatten().is_some() {
        return Ok(());
    }
    put_sealed_lines(OWN_KEYS, &keys).await
}

/// This device's key and the candidate's keys it knows: whose dossiers are the candidate's.
async fn trusted_keys() -> Result<std::collections::BTreeSet<[u8; 32]>, String> {
    let me = with_device(|d| d.signing_public())?;
    Ok(own_keys()
        .await?
        .iter()
        .map(|k| k.signing)
        .chain([me])
        .collect())
}

/// Adds the candidate's other keys as owners of the open dossier (those it lacks) — if it
/// is one of the candidate's own dossiers (`trusted` created it): a device never vouches
/// for a dossier a stranger made and added it to.
fn add_own_keys_to_open(
    keys: &[DeviceId],
    trusted: &std::collections::BTreeSet<[u8; 32]>,
) -> Result<usize, String> {
    with_device_and_open(|device, replica| {
        let me = device.signing_public();
        if !own_devices::is_own_dossier(replica.membership(), &me, trusted) {
            return Ok(0);
        }
        let mut added = 0;
        for k in keys {
            if replica.membership().role_of(&k.signing).is_some() {
                continue;
            }
            let key = replica.epoch_keys().ok_or_else(no_dossier_key)?;
            let entry = membership::add(replica.membership(), device, k, Role::Owner, &key)
                .map_err(|e| e.to_string())?;
            replica
                .apply_membership(device, std::slice::from_ref(&entry))
                .map_err(|e| e.to_string())?;
            added += 1;
        }
        Ok(added)
    })
}

/// A device that added this one as an owner of dossiers, for the candidate to confirm as
/// theirs (comparing safety codes) or refuse.
#[derive(Clone, Debug, PartialEq)]
pub struct DeviceProposal {
    pub identity: String,
    pub code: String,
}

/// The devices waiting for the candidate's answer.
pub async fn device_proposals() -> Result<Vec<DeviceProposal>, String> {
    Ok(sealed_lines(PROPOSED_DEVICES)
        .await?
        .into_iter()
        .map(|id| DeviceProposal {
            code: id.safety_code(),
            identity: id.to_line(),
        })
        .collect())
}

/// Sorts out the candidate's keys from these membership logs (`own_devices::review`):
/// remembers the owners of the candidate's own dossiers, and keeps the devices to ask about.
async fn review_own_keys(logs: &[Vec<SignedEntry>]) -> Result<(), String> {
    let me = with_device(|d| d.signing_public())?;
    let trusted = trusted_keys().await?;
    let refused: std::collections::BTreeSet<[u8; 32]> = sealed_lines(REFUSED_DEVICES)
        .await?
        .iter()
        .map(|k| k.signing)
        .collect();
    let found = own_devices::review(logs, &me, &trusted, &refused);
    remember_own_keys(found.vouched.iter().map(Member::id)).await?;
    let mut proposed = sealed_lines(PROPOSED_DEVICES).await?;
    let before = proposed.clone();
    for p in found.proposals {
        if !proposed.iter().any(|k| k.signing == p.member.signing) {
            proposed.push(p.member.id());
        }
    }
    let trusted = trusted_keys().await?;
    proposed.retain(|k| !trusted.contains(&k.signing) && !refused.contains(&k.signing));
    if proposed != before {
        put_sealed_lines(PROPOSED_DEVICES, &proposed).await?;
    }
    Ok(())
}

/// The candidate's answer about a proposed device: theirs (it becomes one of their keys,
/// and the owners of its dossiers too) or not (never asked again). Returns the proposals
/// left.
pub async fn answer_device_proposal(
    identity: &str,
    mine: bool,
) -> Result<Vec<DeviceProposal>, String> {
    let id = DeviceId::from_str(identity).map_err(|e| e.to_string())?;
    let mut proposed = sealed_lines(PROPOSED_DEVICES).await?;
    proposed.retain(|k| k.signing != id.signing);
    put_sealed_lines(PROPOSED_DEVICES, &proposed).await?;
    if mine {
        remember_own_keys([id]).await?;
        let mut logs = Vec::new();
        for d in list_dossiers().await? {
            open_dossier(&d.id).await?;
            logs.push(with_open(|r| r.log().to_vec())?);
        }
        review_own_keys(&logs).await?;
    } else {
        let mut refused = sealed_lines(REFUSED_DEVICES).await?;
        refused.push(id);
        put_sealed_lines(REFUSED_DEVICES, &refused).await?;
    }
    device_proposals().await
}

/// The recovery kit's secret, made when the identity is created: a key of the candidate
/// that lives on paper. It is an owner of every dossier, so a new device can be let in
/// with it when all devices are lost.
pub async fn make_recovery_kit() -> Result<String, String> {
    let recovery = DeviceSecret::generate();
    remember_own_keys([recovery.id()]).await?;
    Ok(recovery.to_secret_string().to_string())
}

/// Pairs another device of the candidate (its identity line): it becomes an owner of every
/// dossier this device owns, and is published to the relay; returns how many dossiers.
pub async fn add_own_device(identity: &str) -> Result<usize, String> {
    let other = DeviceId::from_str(identity.trim()).map_err(|e| e.to_string())?;
    if other.signing == with_device(|d| d.signing_public())? {
        return Err(i18n::t(
            "C'est l'identité de cet appareil-ci.",
            "That is this device's own identity.",
        )
        .into());
    }
    remember_own_keys([other.clone()]).await?;
    let trusted = trusted_keys().await?;
    let mut shared = 0;
    for d in list_dossiers().await? {
        open_dossier(&d.id).await?;
        if add_own_keys_to_open(std::slice::from_ref(&other), &trusted)? > 0 {
            shared += 1;
        }
        save_open().await?;
        sync_open().await.map_err(|e| {
            if i18n::en() {
                format!(
                    "added on this device, but the relay cannot be reached ({e}); \
                     it will get it at the next sync"
                )
            } else {
                format!(
                    "ajouté sur cet appareil, mais le relais est injoignable ({e}) ; \
                     il le recevra à la prochaine synchronisation"
                )
            }
        })?;
    }
    Ok(shared)
}

/// Asks the relay which dossiers this device belongs to and brings in the ones it does not
/// hold yet (shared with it, or made on another of the candidate's devices); returns how
/// many arrived. One that cannot be brought in is skipped, never the others. The owners
/// found are not taken as the candidate's keys: `review_own_keys` keeps those the
/// candidate's own dossiers vouch for and asks about the rest.
pub async fn discover() -> Result<usize, String> {
    let socket = connect_as_me().await?;
    let ids = my_dossiers(&socket).await?;
    let db = db()?;
    let mut logs = Vec::new();
    for id in ids {
        if db
            .get(&format!("{DOSSIER_PREFIX}{id}"))
            .await
            .map_err(|e| e.to_string())?
            .is_some()
        {
            continue;
        }
        match bring_in(&socket, id).await {
            Ok(Some(log)) => logs.push(log),
            Ok(None) => {}
            Err(e) => leptos::logging::warn!("dossier {id} : {e}"),
        }
    }
    review_own_keys(&logs).await?;
    Ok(logs.len())
}

/// Joins one dossier the relay lists for this device and saves it; returns its membership
/// log (`None`: the relay no longer has it).
async fn bring_in(socket: &Socket, id: DossierId) -> Result<Option<Vec<SignedEntry>>, String> {
    let Some(catch_up) = subscribe(socket, id, Vec::new()).await? else {
        return Ok(None);
    };
    let replica = with_device(|device| {
        let mut replica =
            Replica::join(device, catch_up.entries.clone()).map_err(|e| e.to_string())?;
        catch_up.apply_to(device, &mut replica)?;
        Ok::<_, String>(replica)
    })??;
    let log = replica.log().to_vec();
    set_open(replica, Saved::default());
    save_open_full().await?;
    Ok(Some(log))
}

/// Lets this (new) device in with the recovery kit: the kit's key adds it as an owner of
/// every dossier the kit's key belongs to; then the dossiers are brought in.
pub async fn recover(kit: &str) -> Result<usize, String> {
    let recovery = DeviceSecret::from_secret_string(kit).map_err(|_| {
        i18n::t(
            "Ce kit de secours est illisible : recopiez les deux lignes.",
            "This recovery kit cannot be read: copy both lines again.",
        )
    })?;
    let me = with_device(|d| d.id())?;
    let socket =
        connect(|challenge| Ok((recovery.signing_public(), recovery.sign(challenge)))).await?;
    let ids = my_dossiers(&socket).await?;
    if ids.is_empty() {
        return Err(i18n::t(
            "Le relais ne connaît aucun dossier pour ce kit de secours.",
            "The relay knows no dossier for this recovery kit.",
        )
        .into());
    }
    for id in ids {
        // One dossier the kit cannot let this device into is skipped, never the others.
        if let Err(e) = let_in_with_kit(&socket, id, &recovery, &me).await {
            leptos::logging::warn!("dossier {id} : {e}");
        }
    }
    remember_own_keys([recovery.id()]).await?;
    drop(recovery);
    discover().await
}

/// The kit's key adds this device as an owner of one dossier (unless it is a member).
async fn let_in_with_kit(
    socket: &Socket,
    id: DossierId,
    recovery: &DeviceSecret,
    me: &DeviceId,
) -> Result<(), String> {
    let Some(catch_up) = subscribe(socket, id, Vec::new()).await? else {
        return Ok(());
    };
    let state = membership::Membership::from_log(&catch_up.entries).map_err(|e| e.to_string())?;
    if state.role_of(&me.signing).is_some() {
        return Ok(());
    }
    let key = state.epoch_keys_for(recovery, state.epoch).ok_or_else(|| {
        i18n::t(
            "le kit de secours n'a plus accès à ce dossier",
            "the recovery kit no longer has access to this dossier",
        )
    })?;
    let entry =
        membership::add(&state, recovery, me, Role::Owner, &key).map_err(|e| e.to_string())?;
    publish(socket, id, &entry).await
}

fn piece_key(blob: &BlobId, index: u32) -> String {
    format!("{PIECE_PREFIX}{}:{index}", blob.to_hex())
}

/// Reads one slice of a file (the browser hands files over in slices, so a large one never
/// sits whole in memory).
async fn read_slice(file: &web_sys::File, start: u64, end: u64) -> Result<Vec<u8>, String> {
    let blob = file
        .slice_with_f64_and_f64(start as f64, end as f64)
        .map_err(|_| file_unreadable())?;
    let buffer = JsFuture::from(blob.array_buffer())
        .await
        .map_err(|_| file_unreadable())?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// Adds an evidence file to the open dossier: encrypted here, step by step (`progress`:
/// bytes done, of all), its pieces kept on this device, then numbered in the annexes; the
/// upload to the relay follows ([`upload_open_evidence`]). Returns the annexe's number.
pub async fn add_evidence(
    file: &web_sys::File,
    titre: &str,
    progress: &dyn Fn(u64, u64),
) -> Result<u32, String> {
    let size = file.size() as u64;
    if size > evidence::MAX_EVIDENCE {
        return Err(about(file.name(), evidence::EvidenceError::TooLarge(size)));
    }
    let db = db()?;
    let id = with_open(|r| r.id)?;
    let blob = BlobId::generate();
    let (mut sealer, key) = Sealer::new();
    let mut stored = 0u32;
    let mut read = 0u64;
    progress(0, size);
    while read < size {
        let end = (read + evidence::PIECE as u64).min(size);
        let plain = read_slice(file, read, end).await?;
        read = end;
        for piece in sealer.push(&plain).map_err(|e| e.to_string())? {
            db.put(&piece_key(&blob, stored), &piece)
                .await
                .map_err(|e| e.to_string())?;
            stored += 1;
        }
        progress(read, size);
    }
    let (rest, sealed) = sealer.finish();
    for piece in rest {
        db.put(&piece_key(&blob, stored), &piece)
            .await
            .map_err(|e| e.to_string())?;
        stored += 1;
    }
    let name = file.name();
    let titre = match titre.trim() {
        "" => name.clone(),
        t => t.to_string(),
    };
    let media_type = file.type_();
    let numero = with_open(|r| {
        r.dossier().add_annexe(NewAnnexe {
            titre: &titre,
            fichier: &name,
            media_type: &media_type,
            taille: sealed.size,
            empreinte: &sealed.sha256,
            blob,
            pieces: sealed.pieces,
            key: &key,
        })
    })?
    .map_err(|e| e.to_string())?;
    // Marked for upload before the dossier naming it is saved: an annexe saved on this
    // device always has its upload pending or done.
    db.put(
        &format!("{UPLOAD_PREFIX}{id}:{}", blob.to_hex()),
        &0u32.to_le_bytes(),
    )
    .await
    .map_err(|e| e.to_string())?;
    save_open().await?;
    Ok(numero)
}

/// Sends the open dossier's evidence that the relay does not have yet.
pub async fn upload_open_evidence(progress: &dyn Fn(u32, u32)) -> Result<(), String> {
    let id = with_open(|r| r.id)?;
    let socket = connect_as_me().await?;
    upload_pending(&socket, id, progress).await
}

/// Uploads every pending evidence file of dossier `id`, piece by piece, each acknowledged
/// (durable on the relay) before the next; where a cut left it, it starts again.
async fn upload_pending(
    socket: &Socket,
    id: DossierId,
    progress: &dyn Fn(u32, u32),
) -> Result<(), String> {
    let db = db()?;
    let prefix = format!("{UPLOAD_PREFIX}{id}:");
    for key in db.keys(&prefix).await.map_err(|e| e.to_string())? {
        let Some(blob) = BlobId::from_hex(&key[prefix.len()..]) else {
            continue;
        };
        let total = with_open(|r| {
            r.dossier()
                .annexes()
                .into_iter()
                .find(|a| a.blob == Some(blob))
                .map(|a| a.pieces)
        })?;
        let Some(total) = total else {
            // Encrypted, then the tab closed before the dossier named it: nothing to send.
            db.delete(&key).await.map_err(|e| e.to_string())?;
            continue;
        };
        let mut sent = db
            .get(&key)
            .await
            .map_err(|e| e.to_string())?
            .and_then(|b| <[u8; 4]>::try_from(b.as_slice()).ok())
            .map_or(0, u32::from_le_bytes);
        progress(sent, total);
        while sent < total {
            let bytes = db
                .get(&piece_key(&blob, sent))
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| {
                    i18n::t(
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
                    ServerMsg::Rejected { detail, .. } => {
                        return Err(if i18n::en() {
                            format!("piece refused by the relay: {detail}")
                        } else {
                            format!("pièce refusée par le relais : {detail}")
                        });
                    }
                    other => apply_live(id, &other)?,
                }
            }
            db.put(&key, &sent.to_le_bytes())
                .await
                .map_err(|e| e.to_string())?;
            progress(sent, total);
        }
        db.delete(&key).await.map_err(|e| e.to_string())?;
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
pub async fn open_evidence(place: usize, progress: &dyn Fn(u32, u32)) -> Result<String, String> {
    let (plain, media_type) = evidence_bytes(place, progress).await?;
    blob_url(&plain, &media_type)
}

/// The decrypted file of the annexe at `place`, and its media type.
async fn evidence_bytes(
    place: usize,
    progress: &dyn Fn(u32, u32),
) -> Result<(zeroize::Zeroizing<Vec<u8>>, String), String> {
    let db = db()?;
    let (id, annexe, key) = with_open(|r| {
        let annexe = r.dossier().annexes().into_iter().find(|a| a.place == place);
        (r.id, annexe, r.dossier().annexe_key(place))
    })?;
    let annexe = annexe.ok_or_else(|| i18n::t("annexe introuvable", "annex not found"))?;
    let key = key.ok_or_else(|| {
        i18n::t(
            "clé de la pièce absente du dossier",
            "the file's key is missing from the dossier",
        )
    })?;
    let blob = annexe
        .blob
        .ok_or_else(|| i18n::t("annexe sans fichier", "annex without a file"))?;
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
            .map_err(|e| e.to_string())?
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
                    return Err(i18n::t(
                        "le fichier n'est pas encore sur le relais : l'appareil qui l'a ajouté doit se synchroniser",
                        "the file is not on the relay yet: the device that added it must sync first",
                    )
                    .into());
                }
                ServerMsg::Rejected { detail, .. } => return Err(relay_said(&detail)),
                _ => continue,
            }
        };
        db.put(&piece_key(&blob, index), &bytes)
            .await
            .map_err(|e| e.to_string())?;
        pieces.push(bytes);
    }
    progress(annexe.pieces, annexe.pieces);
    let plain = evidence::open(&key, &pieces, Some(&annexe.empreinte))
        .map_err(|e| about(&annexe.fichier, e))?;
    Ok((plain, annexe.media_type))
}

/// A `blob:` address the page can open or download, for bytes made on this device.
fn blob_url(bytes: &[u8], media_type: &str) -> Result<String, String> {
    let array = js_sys::Array::new();
    array.push(&js_sys::Uint8Array::from(bytes));
    blob_url_of_parts(&array, media_type)
}

/// A `blob:` address for a file given in parts (typed arrays), never joined in memory.
fn blob_url_of_parts(array: &js_sys::Array, media_type: &str) -> Result<String, String> {
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(media_type);
    let file =
        web_sys::Blob::new_with_u8_array_sequence_and_options(array, &options).map_err(|_| {
            i18n::t(
                "fichier impossible à reconstituer",
                "the file cannot be put back together",
            )
            .to_string()
        })?;
    web_sys::Url::create_object_url_with_blob(&file)
        .map_err(|_| i18n::t("fichier impossible à ouvrir", "the file cannot be opened").into())
}

/// The open dossier as JSON (`livret_shared::export`, the same file as `livret dossier
/// export`), made on this device, as a `blob:` address to download.
pub fn export_json() -> Result<String, String> {
    let json = with_open(|r| {
        let comments = r.comments();
        livret_shared::export::export(r.dossier(), Some(&comments)).map_err(|e| e.to_string())
    })??;
    let text = serde_json::to_vec_pretty(&json).map_err(|e| e.to_string())?;
    blob_url(&text, "application/json")
}

/// A file the app ships (the PDF fonts), from the relay or, offline, from the service
/// worker's copy.
async fn app_file(path: &str) -> Result<Vec<u8>, String> {
    let window = web_sys::window().ok_or_else(no_window)?;
    let unavailable = || {
        format!(
            "{} {path}",
            i18n::t(
                "fichier de l'application indisponible :",
                "app file unavailable:"
            )
        )
    };
    let response = JsFuture::from(window.fetch_with_str(&relay_http(path)?))
        .await
        .map_err(|_| unavailable())?;
    let response: web_sys::Response =
        wasm_bindgen::JsCast::dyn_into(response).map_err(|_| unavailable())?;
    if !response.ok() {
        return Err(unavailable());
    }
    let buffer = JsFuture::from(response.array_buffer().map_err(|_| unavailable())?)
        .await
        .map_err(|_| unavailable())?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// Calls `method` of the JavaScript object `target` with `args`.
fn call(target: &JsValue, method: &str, args: &[JsValue]) -> Result<JsValue, String> {
    let f: js_sys::Function = js_sys::Reflect::get(target, &JsValue::from_str(method))
        .ok()
        .and_then(|f| wasm_bindgen::JsCast::dyn_into(f).ok())
        .ok_or_else(|| format!("module PDF : {method} absent"))?;
    let args: js_sys::Array = args.iter().collect();
    f.apply(target, &args).map_err(|e| {
        e.as_string()
            .unwrap_or_else(|| format!("module PDF : {method} a échoué"))
    })
}

fn json_of<T: serde::de::DeserializeOwned>(value: JsValue) -> Result<T, String> {
    serde_json::from_str(&value.as_string().unwrap_or_default()).map_err(|e| e.to_string())
}

fn pdf_module_unavailable() -> String {
    i18n::t(
        "module PDF indisponible (hors ligne avant sa première utilisation ?)",
        "PDF module unavailable (offline before its first use?)",
    )
    .to_string()
}

/// The PDF module (`app/pdf`, its own wasm), loaded by index.html's `livretLoadPdf` the
/// first time it is needed and kept by the service worker.
async fn pdf_module() -> Result<JsValue, String> {
    let window = web_sys::window().ok_or_else(no_window)?;
    JsFuture::from(js_sys::Promise::from(call(&window, "livretLoadPdf", &[])?))
        .await
        .map_err(|_| pdf_module_unavailable())
}

/// The text of the PDF annexe at `place`, page by page, read on this device by the PDF
/// module (the file decrypted here, fetched from the relay if need be): what a juror's
/// annotation on a page quotes.
pub async fn annexe_pages(
    place: usize,
    progress: &dyn Fn(u32, u32),
) -> Result<Vec<String>, String> {
    let (bytes, media_type) = evidence_bytes(place, progress).await?;
    let looks_like_pdf = bytes[..bytes.len().min(1024)]
        .windows(5)
        .any(|w| w == b"%PDF-");
    if media_type != "application/pdf" && !looks_like_pdf {
        return Err(i18n::t("cette annexe n'est pas un PDF", "this annex is not a PDF").into());
    }
    let module = pdf_module().await?;
    // A file pdf-extract cannot read is refused with its reason; one that makes it panic
    // traps the module (panic=abort in wasm), which the call reports as a failure too.
    let pages = call(
        &module,
        "pdf_pages",
        &[js_sys::Uint8Array::from(bytes.as_slice()).into()],
    )?;
    json_of(pages)
}

/// The open dossier's Livret 2 as PDF, made on this device by the PDF module (its own wasm,
/// loaded now: see `app/pdf`), with the fonts that come with the app and the annexes
/// decrypted here one at a time: a `blob:` address to download, and what was printed
/// differently from the dossier. `progress` is called after each annexe, the browser given
/// a moment to show it.
pub async fn export_pdf(
    progress: &dyn Fn(export::Progress),
) -> Result<(String, Vec<export::Notice>), String> {
    let module = pdf_module().await?;
    let regular = app_file("/fonts/DejaVuSans.ttf").await?;
    let bold = app_file("/fonts/DejaVuSans-Bold.ttf").await?;
    let (json, annexes) = with_open(|r| {
        (
            livret_shared::export::export(r.dossier(), None).map_err(|e| e.to_string()),
            r.dossier().annexes(),
        )
    })?;
    let json = serde_json::to_string(&json?).map_err(|e| e.to_string())?;
    let constructor: js_sys::Function =
        js_sys::Reflect::get(&module, &JsValue::from_str("PdfExport"))
            .ok()
            .and_then(|c| wasm_bindgen::JsCast::dyn_into(c).ok())
            .ok_or_else(pdf_module_unavailable)?;
    let args: js_sys::Array = [
        JsValue::from_str(&json),
        js_sys::Uint8Array::from(regular.as_slice()).into(),
        js_sys::Uint8Array::from(bold.as_slice()).into(),
    ]
    .iter()
    .collect();
    let pdf = js_sys::Reflect::construct(&constructor, &args)
        .map_err(|e| e.as_string().unwrap_or_else(pdf_module_unavailable))?;
    progress(json_of(call(&pdf, "progress", &[])?)?);
    yield_to_browser().await;
    while let Some(next) = call(&pdf, "next_annexe", &[])?.as_string() {
        let next: export::AnnexeJson = serde_json::from_str(&next).map_err(|e| e.to_string())?;
        let place = export::annexe_with_file(&annexes, &next).map(|a| a.place);
        // A file this device cannot get now (offline, not yet sent by its author) is
        // listed in the livret and reported, not a failure of the whole export.
        let file = match place {
            Some(place) => evidence_bytes(place, &|_, _| {}).await.ok().map(|(b, _)| b),
            None => None,
        };
        let file = match &file {
            Some(bytes) => js_sys::Uint8Array::from(bytes.as_slice()).into(),
            None => JsValue::UNDEFINED,
        };
        call(&pdf, "add_annexe", &[file])?;
        progress(json_of(call(&pdf, "progress", &[])?)?);
        yield_to_browser().await;
    }
    let notices: Vec<export::Notice> = json_of(call(&pdf, "notices", &[])?)?;
    // The PDF comes in parts (a 100 MB livret is never one 100 MB copy in the page).
    let parts = js_sys::Array::from(&call(&pdf, "finish", &[])?);
    let _ = call(&pdf, "free", &[]);
    Ok((blob_url_of_parts(&parts, "application/pdf")?, notices))
}

/// The référentiels imported on this device: (`referentiel:<hash>`, référentiel).
pub async fn imported_referentiels() -> Result<Vec<(String, Referentiel)>, String> {
    let db = db()?;
    let mut out = Vec::new();
    let mut keys = db
        .keys(REFERENTIEL_PREFIX)
        .await
        .map_err(|e| e.to_string())?;
    keys.sort();
    for key in keys {
        let Some(sealed) = db.get(&key).await.map_err(|e| e.to_string())? else {
            continue;
        };
        let plain = with_device(|d| d.open_own(&sealed).map_err(|e| e.to_string()))??;
        let json = String::from_utf8_lossy(&plain).to_string();
        if let Ok(r) = Referentiel::from_json(&json) {
            out.push((key, r));
        }
    }
    Ok(out)
}

/// The relay's address for `path` (same origin as the app).
fn relay_http(path: &str) -> Result<String, String> {
    let origin = web_sys::window()
        .ok_or_else(no_window)?
        .location()
        .origin()
        .map_err(|_| address_unreadable())?;
    Ok(format!("{origin}{path}"))
}

/// Sends a PDF to the relay's reader; the référentiels it found, as JSON.
async fn read_pdf_on_relay(bytes: &[u8]) -> Result<Vec<Referentiel>, String> {
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    let body = js_sys::Uint8Array::from(bytes);
    init.set_body(&body);
    let window = web_sys::window().ok_or_else(no_window)?;
    let response = JsFuture::from(
        window.fetch_with_str_and_init(&relay_http("/api/v1/referentiels/pdf")?, &init),
    )
    .await
    .map_err(|_| {
        i18n::t(
            "relais injoignable : un PDF se lit en ligne (un texte ou un XML, non)",
            "relay unreachable: a PDF is read online (a text or XML file is not)",
        )
    })?;
    let response: web_sys::Response =
        wasm_bindgen::JsCast::dyn_into(response).map_err(|_| relay_unreadable())?;
    let text = JsFuture::from(response.text().map_err(|_| relay_unreadable())?)
        .await
        .ok()
        .and_then(|t| t.as_string())
        .unwrap_or_default();
    if !response.ok() {
        return Err(text);
    }
    let values: Vec<serde_json::Value> =
        serde_json::from_str(&text).map_err(|_| relay_unreadable())?;
    values
        .iter()
        .map(|v| Referentiel::from_json(&v.to_string()).map_err(|e| e.to_string()))
        .collect()
}

/// Imports a référentiel file (text, RNCP XML export — possibly several fiches — or PDF)
/// and keeps what it holds on this device; returns (key, référentiel) for each.
pub async fn import_referentiel(
    file: &web_sys::File,
) -> Result<Vec<(String, Referentiel)>, String> {
    let size = file.size() as u64;
    if size > MAX_REFERENTIEL_FILE {
        return Err(i18n::t(
            "fichier trop volumineux pour un référentiel (20 Mo au plus)",
            "file too large for a framework (20 MB at most)",
        )
        .into());
    }
    let bytes = read_slice(file, 0, size).await?;
    let found: Vec<Referentiel> = match referentiel::detect(&bytes) {
        referentiel::InputKind::Pdf => read_pdf_on_relay(&bytes).await?,
        _ => referentiel::import_bytes(&bytes)
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|i| i.referentiel)
            .collect(),
    };
    let db = db()?;
    let mut out = Vec::new();
    for r in found {
        use sha2::Digest;
        let json = r.to_json();
        let key = format!(
            "{REFERENTIEL_PREFIX}{}",
            hex::encode(&sha2::Sha256::digest(json.as_bytes())[..8])
        );
        let sealed = with_device(|d| d.seal_for_self(json.as_bytes()))?;
        db.put(&key, &sealed).await.map_err(|e| e.to_string())?;
        out.push((key, r));
    }
    Ok(out)
}
