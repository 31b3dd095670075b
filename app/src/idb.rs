//! A small key → bytes store over IndexedDB: where the device's locked keys and its dossiers
//! live between visits. A write resolves only once its transaction has completed: on disk
//! (strict durability), or for the per-keystroke deltas handed to the operating system
//! (relaxed: survives the browser closing, and the next full save flushes it all). The
//! per-keystroke writes go through the storage worker ([`worker`]), off the page's thread;
//! every other read and write waits for those first.

mod worker;

use std::rc::Rc;

use js_sys::{Array, Promise, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbRequest, IdbTransaction};

use crate::{i18n, metrics};

const STORE: &str = "kv";

#[derive(Clone)]
pub struct Db {
    db: IdbDatabase,
    /// The database's name, for the storage worker's own connection.
    name: Rc<str>,
}

/// When a write counts as done: flushed to the disk, or handed to the operating system.
#[derive(Clone, Copy)]
enum Durability {
    Strict,
    Relaxed,
}

/// IndexedDB failures, worded for the user (the browser's own message appended).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbError(pub String);

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if i18n::en() {
            write!(f, "browser storage unavailable: {}", self.0)
        } else {
            write!(f, "stockage du navigateur indisponible : {}", self.0)
        }
    }
}

fn error(e: JsValue) -> DbError {
    DbError(
        e.dyn_ref::<js_sys::Error>()
            .map(|e| String::from(e.message()))
            .or_else(|| e.as_string())
            .unwrap_or_else(|| format!("{e:?}")),
    )
}

/// Resolves with the request's result once it succeeds (IndexedDB requests are not promises).
async fn finished(request: &IdbRequest) -> Result<JsValue, DbError> {
    let promise = Promise::new(&mut |resolve, reject| {
        request.set_onsuccess(Some(&resolve));
        request.set_onerror(Some(&reject));
    });
    JsFuture::from(promise).await.map_err(|_| {
        error(request.error().ok().flatten().map_or_else(
            || JsValue::from_str(i18n::t("requête refusée", "request refused")),
            JsValue::from,
        ))
    })?;
    request.result().map_err(error)
}

impl Db {
    pub async fn open(name: &str) -> Result<Db, DbError> {
        // Its script loads while the keys are unlocked, not at the first keystroke.
        worker::start();
        let factory = web_sys::window()
            .ok_or_else(|| DbError(i18n::t("pas de fenêtre", "no browser window").into()))?
            .indexed_db()
            .map_err(error)?
            .ok_or_else(|| {
                DbError(
                    i18n::t(
                        "IndexedDB absent (navigation privée ?)",
                        "IndexedDB missing (private browsing?)",
                    )
                    .into(),
                )
            })?;
        let open = factory.open_with_u32(name, 1).map_err(error)?;
        let upgrade = wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::Event)>::new(
            move |event: web_sys::Event| {
                let Some(request) = event
                    .target()
                    .and_then(|t| t.dyn_into::<web_sys::IdbOpenDbRequest>().ok())
                else {
                    return;
                };
                if let Ok(db) = request.result().and_then(|r| r.dyn_into::<IdbDatabase>())
                    && !db.object_store_names().contains(STORE)
                {
                    let _ = db.create_object_store(STORE);
                }
            },
        );
        open.set_onupgradeneeded(Some(upgrade.as_ref().unchecked_ref()));
        let db = finished(&open).await;
        open.set_onupgradeneeded(None);
        drop(upgrade);
        Ok(Db {
            db: db?.dyn_into().map_err(error)?,
            name: name.into(),
        })
    }

    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, DbError> {
        worker::settled().await;
        let tx = self.db.transaction_with_str(STORE).map_err(error)?;
        let request = tx
            .object_store(STORE)
            .map_err(error)?
            .get(&JsValue::from_str(key))
            .map_err(error)?;
        let value = finished(&request).await?;
        if value.is_undefined() {
            return Ok(None);
        }
        Ok(Some(
            value
                .dyn_into::<Uint8Array>()
                .map_err(|_| {
                    DbError(if i18n::en() {
                        format!("{key}: unexpected value")
                    } else {
                        format!("{key} : valeur inattendue")
                    })
                })?
                .to_vec(),
        ))
    }

    /// Writes and waits until the transaction is committed.
    pub async fn put(&self, key: &str, value: &[u8]) -> Result<(), DbError> {
        self.write_all(&[(key, value)], &[]).await
    }

    /// Writes and waits until the browser has it (IndexedDB's "relaxed" durability: handed to
    /// the operating system, not flushed to the disk). For what is written on every
    /// keystroke: it survives the tab or the browser closing, not a power cut — where the
    /// next full save and the relay's copy take over. Returns when it committed (the page's
    /// `performance.now()`): written by the storage worker, the page may learn it later.
    ///
    /// Written by the storage worker, or by the page when there is none (it could not
    /// start, or stopped: what it had not written is written here, nothing is lost). A
    /// write the worker could not make is made by the page, whose answer stands.
    pub async fn put_relaxed(&self, key: &str, value: &[u8]) -> Result<f64, DbError> {
        let _posted = worker::Posted::new();
        // The benchmark's switch: the page's own write, for the side-by-side.
        if !metrics::switch("__livretEcritureSurLaPage")
            && let Some(written) = worker::put(&self.name, key, value)
            && let Ok(at) = JsFuture::from(written).await
        {
            return Ok(at.as_f64().unwrap_or_else(metrics::now));
        }
        let tx = self.readwrite(Durability::Relaxed)?;
        self.commit(tx, &[(key, value)], &[]).await?;
        Ok(metrics::now())
    }

    /// Deletes a key and waits until the transaction is committed.
    pub async fn delete(&self, key: &str) -> Result<(), DbError> {
        self.write_all(&[], &[key.to_string()]).await
    }

    /// Writes `puts` and deletes `deletes` in one transaction: all or nothing.
    pub async fn write_all(
        &self,
        puts: &[(&str, &[u8])],
        deletes: &[String],
    ) -> Result<(), DbError> {
        worker::settled().await;
        let tx = self.readwrite(Durability::Strict)?;
        self.commit(tx, puts, deletes).await
    }

    /// A read-write transaction on the store. `durability` is passed as an option object
    /// (web-sys has it only behind its unstable APIs); a browser without the option ignores it.
    fn readwrite(&self, durability: Durability) -> Result<IdbTransaction, DbError> {
        let options = js_sys::Object::new();
        let value = match durability {
            Durability::Strict => "strict",
            Durability::Relaxed => "relaxed",
        };
        js_sys::Reflect::set(&options, &"durability".into(), &value.into()).map_err(error)?;
        let transaction: js_sys::Function = js_sys::Reflect::get(&self.db, &"transaction".into())
            .map_err(error)?
            .dyn_into()
            .map_err(error)?;
        transaction
            .call3(&self.db, &STORE.into(), &"readwrite".into(), &options)
            .map_err(error)?
            .dyn_into()
            .map_err(error)
    }

    async fn commit(
        &self,
        tx: IdbTransaction,
        puts: &[(&str, &[u8])],
        deletes: &[String],
    ) -> Result<(), DbError> {
        let done = Promise::new(&mut |resolve, reject| {
            tx.set_oncomplete(Some(&resolve));
            tx.set_onerror(Some(&reject));
            tx.set_onabort(Some(&reject));
        });
        let store = tx.object_store(STORE).map_err(error)?;
        for (key, value) in puts {
            store
                .put_with_key(&Uint8Array::from(*value), &JsValue::from_str(key))
                .map_err(error)?;
        }
        for key in deletes {
            store.delete(&JsValue::from_str(key)).map_err(error)?;
        }
        JsFuture::from(done)
            .await
            .map_err(|_| DbError(i18n::t("écriture annulée", "write cancelled").into()))?;
        Ok(())
    }

    /// Every key starting with `prefix`.
    pub async fn keys(&self, prefix: &str) -> Result<Vec<String>, DbError> {
        worker::settled().await;
        let tx = self.db.transaction_with_str(STORE).map_err(error)?;
        let request = tx
            .object_store(STORE)
            .map_err(error)?
            .get_all_keys()
            .map_err(error)?;
        let keys: Array = finished(&request).await?.dyn_into().map_err(error)?;
        Ok(keys
            .iter()
            .filter_map(|k| k.as_string())
            .filter(|k| k.starts_with(prefix))
            .collect())
    }
}
