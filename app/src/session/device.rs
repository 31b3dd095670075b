//! This device's keys: the IndexedDB they live in, made and unlocked; its identity line.

use super::*;

/// Opens IndexedDB; `true` when this browser already holds locked keys.
pub async fn open_storage() -> Result<bool, Error> {
    let db = Db::open("livret").await.map_err(Error::from)?;
    let has_device = db.get(DEVICE_KEY).await.map_err(Error::from)?.is_some();
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

pub async fn create_identity(device: DeviceSecret, locked: &[u8]) -> Result<(), Error> {
    db()?.put(DEVICE_KEY, locked).await.map_err(Error::from)?;
    set_device(device);
    publish_own_public_keys().await
}

pub async fn unlock(passphrase: &str) -> Result<(), Error> {
    let locked = db()?
        .get(DEVICE_KEY)
        .await
        .map_err(Error::from)?
        .ok_or_else(|| Error::said("aucune clé sur cet appareil", "no keys on this device"))?;
    let device = DeviceSecret::unlock(&locked, passphrase)
        .map_err(|_| Error::said("Phrase de passe incorrecte.", "Incorrect passphrase."))?;
    set_device(device);
    // Written down for « Phrase de passe oubliée ? » (a device of an earlier version had
    // not); failing here costs nothing but that check.
    let _ = publish_own_public_keys().await;
    Ok(())
}

pub(super) fn set_device(device: DeviceSecret) {
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

/// Forgets what this browser holds under its keys (the locked keys, the dossiers' sealed
/// copies): the way back when the passphrase is forgotten, with the recovery kit — nothing
/// of it could be read without the passphrase anyway. Evidence files not yet sent stay
/// (sealed with keys of their own, held by the dossier): once the dossier is back, they go
/// up. The locked keys go last, so a cut leaves a device that still asks its passphrase.
pub async fn forget_this_device() -> Result<(), Error> {
    close_live();
    let db = db()?;
    for key in db.keys("").await.map_err(Error::from)? {
        let kept = key.starts_with(PIECE_PREFIX) || key.starts_with(UPLOAD_PREFIX);
        if !kept && key != DEVICE_KEY {
            db.delete(&key).await.map_err(Error::from)?;
        }
    }
    db.delete(DEVICE_KEY).await.map_err(Error::from)?;
    SESSION.with(|s| {
        if let Some(s) = s.borrow_mut().as_mut() {
            s.device = None;
            s.open = None;
            s.open_saved = Saved::default();
        }
    });
    Ok(())
}
