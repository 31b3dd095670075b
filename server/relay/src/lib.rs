//! The Livret relay as a library: it authenticates devices by their signing key, checks
//! every envelope against the dossier's membership (the rules of `livret-shared`), stores it
//! durably, acknowledges, and fans it out to the dossier's connected members; it also sends
//! the invitations and reminders that never carry content, and serves the web app.
//!
//! - `server`: start a relay on a listener (the `livret serve` CLI and in-process tests).
//! - `router`: the HTTP routes (sync WebSocket, health, metrics, référentiel PDFs, the app).
//! - `connection`: one WebSocket (login, bursts, the outgoing queue in `outgoing`).
//! - `handlers/`: one file per concern of the protocol.
//! - `hub`: the shared state and the fan-out; `appender`: the one write path.
//! - `store/`: what is kept, one trait per concern, SQLite and PostgreSQL behind them.
//! - `cluster`: several relay nodes on one PostgreSQL database, telling each other what
//!   changed.
//! - `mail`, `limits`, `metrics`, `pdf_reader`: the rest of the relay's duties.

mod appender;
pub mod clock;
pub mod cluster;
mod connection;
mod handlers;
mod hub;
pub mod limits;
pub mod mail;
mod metrics;
mod outgoing;
pub mod pdf_reader;
pub mod retention;
pub mod router;
pub mod server;
pub mod store;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use hub::{PRUNE_GRACE_SECONDS, Relay};
pub use metrics::Metrics;
pub use server::{
    AppAssets, MailSettings, Running, ServerConfig, StartError, StoreLocation, start,
};
