//! The unlocked device and its storage. The browser runs the app on one thread, so the
//! session lives in a thread-local; components reach it through these functions and keep
//! only plain values (ids, texts) in their signals.

use std::cell::RefCell;
use std::str::FromStr;

use js_sys::Promise;
use livret_shared::envelope::{DossierId, Envelope, random_nonce};
use livret_shared::keys::{ContentKey, DeviceId, DeviceSecret};
use livret_shared::membership::{self, Role};
use livret_shared::protocol::{self, AUTH_DOMAIN, ClientMsg, ServerMsg};
use livret_shared::referentiel::Referentiel;
use livret_shared::sync::Replica;
use wasm_bindgen_futures::JsFuture;

use crate::idb::Db;
use crate::ws::Socket;

/// IndexedDB keys: the locked device keys, and one sealed replica per dossier.
const DEVICE_KEY: &str = "device";
const DOSSIER_PREFIX: &str = "dossier:";
/// How many of a dossier's membership entries the relay has (a little-endian u64).
const PUBLISHED_PREFIX: &str = "published:";

struct Session {
    db: Db,
    device: Option<DeviceSecret>,
    /// The dossier being edited, if any.
    open: Option<Replica>,
}

thread_local! {
    static SESSION: RefCell<Option<Session>> = const { RefCell::new(None) };
}

fn db() -> Result<Db, String> {
    SESSION.with(|s| {
        s.borrow()
            .as_ref()
            .map(|s| s.db.clone())
            .ok_or_else(|| "stockage non ouvert".to_string())
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
        .ok_or("aucune clé sur cet appareil")?;
    let device = DeviceSecret::unlock(&locked, passphrase)
        .map_err(|_| "Phrase de passe incorrecte.".to_string())?;
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
    pub title: String,
    pub fiches: usize,
}

fn with_device<T>(f: impl FnOnce(&DeviceSecret) -> T) -> Result<T, String> {
    SESSION.with(|s| {
        s.borrow()
            .as_ref()
            .and_then(|s| s.device.as_ref())
            .map(f)
            .ok_or_else(|| "appareil verrouillé".to_string())
    })
}

async fn load(id: &str) -> Result<Replica, String> {
    let sealed = db()?
        .get(&format!("{DOSSIER_PREFIX}{id}"))
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("dossier {id} absent de cet appareil"))?;
    with_device(|device| {
        let plain = device
            .open_own(&sealed)
            .map_err(|e| format!("dossier {id} : {e}"))?;
        Replica::restore(device, &plain).map_err(|e| format!("dossier {id} : {e}"))
    })?
}

pub async fn list_dossiers() -> Result<Vec<DossierSummary>, String> {
    let keys = db()?
        .keys(DOSSIER_PREFIX)
        .await
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for key in keys {
        let id = key[DOSSIER_PREFIX.len()..].to_string();
        let mut replica = load(&id).await?;
        let title = replica
            .dossier()
            .referentiel()
            .and_then(|r| r.title)
            .unwrap_or_else(|| "Dossier sans certification".into());
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
        Replica::create(device, DossierId::generate(), ContentKey::generate())
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
    SESSION.with(|s| {
        if let Some(s) = s.borrow_mut().as_mut() {
            s.open = Some(replica);
        }
    });
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
        let replica = load(id).await?;
        SESSION.with(|s| {
            if let Some(s) = s.borrow_mut().as_mut() {
                s.open = Some(replica);
            }
        });
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
            .ok_or_else(|| "aucun dossier ouvert".to_string())
    })
}

/// Runs `f` with the unlocked device and the open dossier's replica.
fn with_device_and_open<T>(
    f: impl FnOnce(&DeviceSecret, &mut Replica) -> Result<T, String>,
) -> Result<T, String> {
    SESSION.with(|s| {
        let mut s = s.borrow_mut();
        let s = s.as_mut().ok_or("stockage non ouvert")?;
        let device = s.device.as_ref().ok_or("appareil verrouillé")?;
        let replica = s.open.as_mut().ok_or("aucun dossier ouvert")?;
        f(device, replica)
    })
}

/// Seals the open dossier to this device and writes it to IndexedDB; resolves once the
/// write is committed. Writes are queued in order by IndexedDB, so the last one wins.
pub async fn save_open() -> Result<(), String> {
    let (key, sealed) = with_device_and_open(|device, replica| {
        let key = format!("{DOSSIER_PREFIX}{}", replica.id);
        Ok((key, device.seal_for_self(&replica.save())))
    })?;
    db()?.put(&key, &sealed).await.map_err(|e| e.to_string())
}

/// Shares the open dossier with another device (its `livret1:…` identity line), as advisor
/// or juror: the content key is wrapped to it in a signed membership entry, published to the
/// relay at the next sync.
pub async fn share(identity: &str, role: Role) -> Result<(), String> {
    let member = DeviceId::from_str(identity.trim()).map_err(|e| e.to_string())?;
    with_device_and_open(|device, replica| {
        let key = replica
            .epoch_key()
            .ok_or("clé du dossier absente")?
            .duplicate();
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
    let location = web_sys::window().ok_or("pas de fenêtre")?.location();
    let protocol = location.protocol().map_err(|_| "adresse illisible")?;
    let host = location.host().map_err(|_| "adresse illisible")?;
    let scheme = if protocol == "https:" { "wss" } else { "ws" };
    Ok(format!("{scheme}://{host}/api/v1/sync"))
}

async fn next_message(socket: &Socket) -> Result<ServerMsg, String> {
    let frame = socket.next().await.ok_or("connexion au relais perdue")?;
    protocol::decode(&frame).ok_or_else(|| "réponse illisible du relais".to_string())
}

fn send(socket: &Socket, msg: &ClientMsg) -> Result<(), String> {
    socket.send(&protocol::encode(msg))
}

/// How many membership entries of a dossier the relay already has (0: not yet created).
async fn published(db: &Db, id: &str) -> Result<usize, String> {
    let bytes = db
        .get(&format!("{PUBLISHED_PREFIX}{id}"))
        .await
        .map_err(|e| e.to_string())?;
    Ok(bytes
        .and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok())
        .map_or(0, |b| u64::from_le_bytes(b) as usize))
}

/// Pushes the open dossier's membership and edits to the relay and applies what others
/// wrote; returns once the relay has acknowledged everything (durable) and the catch-up is
/// complete; `true` when others' edits arrived. Errors leave the local copy as it was: the
/// next sync starts again.
pub async fn sync_open() -> Result<bool, String> {
    let before = with_open(|r| r.dossier().automerge().get_heads())?;
    sync_exchange().await?;
    let after = with_open(|r| r.dossier().automerge().get_heads())?;
    Ok(before != after)
}

async fn sync_exchange() -> Result<(), String> {
    let db = db()?;
    let (id, log) = with_open(|r| (r.id, r.log().to_vec()))?;
    let socket = Socket::connect(&relay_url()?).await?;
    let ServerMsg::Challenge { nonce } = next_message(&socket).await? else {
        return Err("le relais n'a pas envoyé de défi".into());
    };
    let mut signed = AUTH_DOMAIN.to_vec();
    signed.extend_from_slice(&nonce);
    let (device, signature) = with_device(|d| (d.signing_public(), d.sign(&signed)))?;
    send(
        &socket,
        &ClientMsg::Hello {
            device,
            signature: signature.to_vec(),
        },
    )?;
    match next_message(&socket).await? {
        ServerMsg::Welcome => {}
        ServerMsg::Rejected { detail, .. } => return Err(format!("relais : {detail}")),
        _ => return Err("réponse inattendue du relais".into()),
    }
    // Membership first: the relay checks every envelope against it.
    let key = id.to_string();
    let mut done = published(&db, &key).await?;
    while done < log.len() {
        let entry = log[done].to_bytes();
        send(
            &socket,
            &if done == 0 {
                ClientMsg::Create { entry }
            } else {
                ClientMsg::Membership { dossier: id, entry }
            },
        )?;
        loop {
            match next_message(&socket).await? {
                ServerMsg::MembershipOk { .. } => break,
                ServerMsg::Rejected { detail, .. } => {
                    return Err(format!("partage refusé par le relais : {detail}"));
                }
                _ => continue,
            }
        }
        done += 1;
        db.put(
            &format!("{PUBLISHED_PREFIX}{key}"),
            &(done as u64).to_le_bytes(),
        )
        .await
        .map_err(|e| e.to_string())?;
    }
    // Seal what was typed since the last sync, send the outbox, catch up.
    let (since, outbox) = with_device_and_open(|device, replica| {
        replica
            .flush(device, random_nonce())
            .map_err(|e| e.to_string())?;
        Ok((replica.since(), replica.outbox()))
    })?;
    send(&socket, &ClientMsg::Subscribe { dossier: id, since })?;
    let mut waiting = std::collections::BTreeSet::new();
    for envelope in outbox {
        let counter = Envelope::parse(&envelope)
            .map_err(|e| e.to_string())?
            .header
            .counter;
        waiting.insert(counter);
        send(&socket, &ClientMsg::Push { envelope })?;
    }
    let mut caught_up = false;
    while !caught_up || !waiting.is_empty() {
        match next_message(&socket).await? {
            ServerMsg::Ack {
                dossier, counter, ..
            } if dossier == id => {
                waiting.remove(&counter);
                with_open(|r| r.acknowledged(counter))?;
            }
            ServerMsg::Log {
                dossier,
                entries,
                snapshot,
                envelopes,
                complete,
                active_snapshot,
            } if dossier == id => {
                with_device_and_open(|device, replica| {
                    replica
                        .apply_log(
                            device,
                            &entries,
                            snapshot.as_deref(),
                            &envelopes,
                            active_snapshot,
                        )
                        .map_err(|e| e.to_string())
                })?;
                caught_up |= complete;
            }
            ServerMsg::Rejected { detail, reason } => {
                return Err(format!(
                    "le relais a refusé : {detail} ({})",
                    reason.as_str()
                ));
            }
            _ => {}
        }
    }
    save_open().await
}
