//! Dossiers on this device: listed, made, opened, and the open one saved (in full, then in
//! deltas).

use super::*;

/// What the home page lists.
#[derive(Clone, Debug, PartialEq)]
pub struct DossierSummary {
    pub id: String,
    /// The certification's title (`None`: none targeted, or an untitled one).
    pub title: Option<String>,
    pub fiches: usize,
    /// A jury session rather than a dossier (`livret_shared::session`): its first day.
    pub session: Option<String>,
}

pub(super) fn with_device<T>(f: impl FnOnce(&DeviceSecret) -> T) -> Result<T, Error> {
    SESSION.with(|s| {
        s.borrow()
            .as_ref()
            .and_then(|s| s.device.as_ref())
            .map(f)
            .ok_or_else(device_locked)
    })
}

pub(super) fn delta_key(id: &str, generation: u32, n: u32) -> String {
    // Zero-padded: IndexedDB lists keys in string order.
    format!("{DELTA_PREFIX}{id}:{generation:010}:{n:010}")
}

/// A dossier's local copy: the full save and the deltas of its generation.
pub(super) async fn load(id: &str) -> Result<(Replica, Saved), Error> {
    let db = db()?;
    let sealed = db
        .get(&format!("{DOSSIER_PREFIX}{id}"))
        .await
        .map_err(Error::from)?
        .ok_or_else(|| {
            Error::said(
                format!("dossier {id} absent de cet appareil"),
                format!("dossier {id} is not on this device"),
            )
        })?;
    let generation = db
        .get(&format!("{GENERATION_PREFIX}{id}"))
        .await
        .map_err(Error::from)?
        .and_then(|b| <[u8; 4]>::try_from(b.as_slice()).ok())
        .map_or(0, u32::from_le_bytes);
    let mut keys = db
        .keys(&format!("{DELTA_PREFIX}{id}:{generation:010}:"))
        .await
        .map_err(Error::from)?;
    keys.sort();
    let mut sealed_deltas = Vec::with_capacity(keys.len());
    for key in &keys {
        if let Some(d) = db.get(key).await.map_err(Error::from)? {
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
pub(super) fn set_open(replica: Replica, saved: Saved) {
    SESSION.with(|s| {
        if let Some(s) = s.borrow_mut().as_mut() {
            s.open = Some(replica);
            s.open_saved = saved;
        }
    });
}

pub async fn list_dossiers() -> Result<Vec<DossierSummary>, Error> {
    let keys = db()?.keys(DOSSIER_PREFIX).await.map_err(Error::from)?;
    let mut out = Vec::new();
    for key in keys {
        let id = key[DOSSIER_PREFIX.len()..].to_string();
        let (mut replica, _) = load(&id).await?;
        let held = livret_shared::session::read(replica.dossier().automerge()).ok();
        let title = match &held {
            Some(s) => Some(s.info.certification.clone()).filter(|t| !t.is_empty()),
            None => replica.dossier().referentiel().and_then(|r| r.title),
        };
        out.push(DossierSummary {
            fiches: replica.dossier().fiche_count(),
            id,
            title,
            session: held.map(|s| s.info.debut),
        });
    }
    Ok(out)
}

/// What the session's page shows of a candidate's dossier this device holds: the decision
/// the jury released (if any) and the référentiel it targets. `None`: not on this device.
pub async fn candidate_dossier(
    id: &str,
) -> Option<(Option<livret_shared::review::Decision>, Option<Referentiel>)> {
    let Ok((mut replica, _)) = load(id).await else {
        // Deleted by its candidate since: the decision this juror's device kept.
        return kept_decision(id).await.map(|d| (Some(d), None));
    };
    let decision = replica.decision().map(|(_, d)| d);
    Some((decision, replica.dossier().referentiel()))
}

/// The rules of the référentiel on the jury that the sessions this device holds for dossier
/// `id` break (the session's pinned référentiel, else `theirs`, the dossier's): what the
/// decision form shows the jury before it releases.
pub async fn jury_breaches(
    id: &str,
    theirs: Option<&Referentiel>,
) -> Result<Vec<livret_shared::session::Breach>, Error> {
    let keys = db()?.keys(DOSSIER_PREFIX).await.map_err(Error::from)?;
    let mut out = Vec::new();
    for key in keys {
        let Ok((mut replica, _)) = load(&key[DOSSIER_PREFIX.len()..]).await else {
            continue;
        };
        let Ok(held) = livret_shared::session::read(replica.dossier().automerge()) else {
            continue;
        };
        if !held.candidates.iter().any(|c| c.dossier == id) {
            continue;
        }
        let pinned = replica.dossier().referentiel();
        if let Some(r) = pinned.as_ref().or(theirs) {
            for b in livret_shared::session::breaches(&r.jury, &held, &[id]) {
                if !out.contains(&b) {
                    out.push(b);
                }
            }
        }
    }
    Ok(out)
}

/// A new dossier owned by this device, targeting `referentiel`; returns its id.
pub async fn create_dossier(
    referentiel: &Referentiel,
    template: &livret_shared::template::Template,
) -> Result<String, Error> {
    let mut replica = with_device(|device| {
        Replica::create(device, DossierId::generate(), EpochKeys::generate())
            .map(|(replica, _genesis)| replica)
            .map_err(Error::from)
    })??;
    let dossier = replica.dossier();
    dossier.set_template(template).map_err(Error::from)?;
    dossier.set_referentiel(referentiel).map_err(Error::from)?;
    if let Some(title) = &referentiel.title {
        dossier
            .set("projet_vae.certification", title)
            .map_err(Error::from)?;
    }
    if let Some(rncp) = &referentiel.rncp {
        dossier.set("projet_vae.rncp", rncp).map_err(Error::from)?;
    }
    let id = replica.id.to_string();
    set_open(replica, Saved::default());
    // The candidate's other devices and recovery key own it too.
    add_own_keys_to_open(&own_keys().await?, &trusted_keys().await?)?;
    // Naming the kit is a courtesy: the dossier is made and saved whatever it says.
    if let Err(e) = name_kit_in_open().await {
        leptos::logging::warn!("kit de secours non nommé : {e}");
    }
    save_open().await?;
    Ok(id)
}

/// Opens a dossier for editing (kept in the session until another one is opened).
pub async fn open_dossier(id: &str) -> Result<(), Error> {
    let already = SESSION.with(|s| {
        s.borrow()
            .as_ref()
            .and_then(|s| s.open.as_ref())
            .is_some_and(|r| r.id.to_string() == id)
    });
    if !already {
        let (replica, saved) = load(id).await?;
        let removed = replica.standing() == livret_shared::membership::Standing::Removed;
        set_open(replica, saved);
        if removed {
            // Removed from it, and kept by a version that did not wipe a removed device's
            // copy: wiped now, as a removal is.
            return Err(wipe_removed().await);
        }
        // Folds the deltas into one full save now, rather than on a keystroke later.
        if saved.deltas.is_some_and(|n| n > 0) {
            save_open_full().await?;
        }
    }
    Ok(())
}

/// Opens a dossier for a pass over all of them: `false` when it ended for this device as
/// it opened (a copy of a dossier this device was removed from, wiped), so the pass goes on
/// with the others; the dossiers page says it afterwards.
pub(super) async fn open_unless_ended(id: &str) -> Result<bool, Error> {
    match open_dossier(id).await {
        Ok(()) => Ok(true),
        Err(_) if !still_stored(id).await => Ok(false),
        Err(e) => Err(e),
    }
}

/// Whether this device still holds a copy of the dossier (not wiped: deleted, removed).
pub async fn still_stored(id: &str) -> bool {
    match db() {
        Ok(db) => !matches!(db.get(&format!("{DOSSIER_PREFIX}{id}")).await, Ok(None)),
        // Cannot tell: taken as stored, so nothing is skipped on a guess.
        Err(_) => true,
    }
}

/// Runs `f` on the open dossier's replica.
pub fn with_open<T>(f: impl FnOnce(&mut Replica) -> T) -> Result<T, Error> {
    SESSION.with(|s| {
        s.borrow_mut()
            .as_mut()
            .and_then(|s| s.open.as_mut())
            .map(f)
            .ok_or_else(no_dossier_open)
    })
}

/// Runs `f` with the unlocked device and the open dossier's replica.
pub(super) fn with_device_and_open<T>(
    f: impl FnOnce(&DeviceSecret, &mut Replica) -> Result<T, Error>,
) -> Result<T, Error> {
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
pub async fn save_open() -> Result<(), Error> {
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
                Ok::<_, Error>(Some((key, device.seal_for_self(&replica.save_delta()))))
            }
            _ => Ok(None),
        }
    })?;
    match delta {
        Some((key, sealed)) => {
            metrics::record("__livretScellements", metrics::now() - started);
            let writing = metrics::now();
            let committed = match db()?.put_relaxed(&key, &sealed).await {
                Ok(at) => at,
                Err(e) => {
                    // The next deltas would build on this one's changes: the next save is
                    // a full one, which holds them all.
                    SESSION.with(|s| {
                        if let Some(s) = s.borrow_mut().as_mut() {
                            s.open_saved.deltas = None;
                        }
                    });
                    return Err(e.into());
                }
            };
            metrics::record("__livretEcritures", committed - writing);
            metrics::committed(Some(committed));
            Ok(())
        }
        None => {
            let saved = save_open_full().await;
            metrics::committed(None);
            saved
        }
    }
}

/// Seals the whole open dossier and writes it as a new generation, dropping the deltas of
/// the previous one, in one transaction.
pub async fn save_open_full() -> Result<(), Error> {
    let db = db()?;
    let id = with_open(|r| r.id.to_string())?;
    // Listed first: every delta here belongs to a generation this save replaces. Deltas
    // written after this point get the new generation (decided below, with no await
    // between the decision and the transaction that commits it).
    let stale = db
        .keys(&format!("{DELTA_PREFIX}{id}:"))
        .await
        .map_err(Error::from)?;
    let (generation, sealed) = SESSION.with(|s| {
        let mut s = s.borrow_mut();
        let s = s.as_mut().ok_or_else(storage_closed)?;
        let device = s.device.as_ref().ok_or_else(device_locked)?;
        let replica = s.open.as_mut().ok_or_else(no_dossier_open)?;
        if replica.id.to_string() != id {
            return Err(Error::said(
                "un autre dossier a été ouvert entre-temps",
                "another dossier was opened in the meantime",
            ));
        }
        let generation = s.open_saved.generation + 1;
        s.open_saved = Saved {
            generation,
            deltas: Some(0),
        };
        let started = metrics::now();
        let sealed = device.seal_for_self(&replica.save());
        metrics::record("__livretScellements", metrics::now() - started);
        Ok::<_, Error>((generation, sealed))
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
    .map_err(Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delta_keys_list_in_the_order_they_were_written() {
        let mut keys: Vec<String> = [(1, 10), (1, 9), (2, 1), (1, 100)]
            .iter()
            .map(|(generation, n)| delta_key("d", *generation, *n))
            .collect();
        keys.sort();
        assert_eq!(
            keys,
            vec![
                delta_key("d", 1, 9),
                delta_key("d", 1, 10),
                delta_key("d", 1, 100),
                delta_key("d", 2, 1),
            ]
        );
    }
}
