//! Livret's pure core.
//!
//! No sockets, no files, no clocks: everything here takes bytes and values in and gives
//! values out, so the same code runs in the browser (wasm32), in the relay and in tests.
//! The one thing taken from the environment is randomness for new keys, ids and nonces
//! (the OS generator through `getrandom`); sealing itself takes its nonce as an argument.

pub mod automerge_guard;
pub mod catchup;
pub mod checklist;
pub mod comments;
pub mod date;
pub mod deletion;
pub mod dossier;
pub mod envelope;
pub mod evidence;
pub mod exchange;
pub mod export;
pub mod field_path;
#[cfg(feature = "pdf-export")]
pub mod france_vae;
pub mod fuzzing;
pub mod history;
pub mod holdings;
pub mod jury;
pub mod keys;
pub mod member_names;
pub mod membership;
pub mod own_devices;
#[cfg(feature = "pdf-export")]
pub mod pdf_export;
pub mod presence;
pub mod progress;
pub mod protocol;
pub mod ratelimit;
pub mod reconnect;
pub mod referentiel;
pub mod review;
mod sealed_notes;
pub mod search;
pub mod session;
pub mod suggest;
pub mod sync;
pub mod template;
pub mod words;
