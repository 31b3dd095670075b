//! Starting a relay on a listener: its store opened (and migrated) in the data directory,
//! its mailer, the origins logins are signed for, and the HTTP routes served until stopped.
//! `livret serve` calls it from the CLI; tests start relays in their own process with it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use livret_shared::protocol::Origin;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::hub::Relay;
use crate::mail::{MailError, Mailer, Transport};
use crate::pdf_reader::PdfReader;
use crate::router::{HttpState, router};
use crate::store::{ObjectPieces, PgStore, SqliteStore, Store, StoreError};

/// How the relay sends mail (`livret serve --smtp-url … --public-url … --mail-from …`).
#[derive(Clone, Debug)]
pub struct MailSettings {
    /// `smtp://…`, `smtps://…` or `file:///dir`; `None`: the `outbox` directory in the data.
    pub smtp_url: Option<String>,
    /// The address people open the app at; `None`: the address listened on.
    pub public_url: Option<String>,
    pub from: String,
}

/// The web app's files: (URL path, bytes, media type), as the `livret` binary embeds them.
#[derive(Clone, Copy, Debug)]
pub struct AppAssets {
    files: &'static [(&'static str, &'static [u8], &'static str)],
}

impl AppAssets {
    pub const fn new(files: &'static [(&'static str, &'static [u8], &'static str)]) -> Self {
        AppAssets { files }
    }

    /// No app: a relay for devices that bring their own (tests, the CLI).
    pub const NONE: AppAssets = AppAssets { files: &[] };

    /// The file served at `path` (`/` is `index.html`).
    pub fn find(&self, path: &str) -> Option<(&'static [u8], &'static str)> {
        let path = if path == "/" { "/index.html" } else { path };
        self.files
            .iter()
            .find(|(p, _, _)| *p == path)
            .map(|(_, bytes, mime)| (*bytes, *mime))
    }

    /// Whether there is an app to serve.
    pub fn present(&self) -> bool {
        self.find("/index.html").is_some()
    }
}

/// Shown instead of the app when the relay was built without it.
pub const MISSING_APP_PAGE: &str = "<!doctype html><html lang=\"fr\"><meta charset=\"utf-8\">\
<title>Livret</title><h1>Livret</h1><p>L'application web n'est pas incluse dans ce binaire. \
Construisez-la avec <code>scripts/build-app.sh</code> puis recompilez <code>livret</code> \
(ou lancez simplement <code>scripts/run.sh</code>).</p></html>";

/// Everything a relay is started with.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// The data directory: the SQLite database, and the mail outbox by default.
    pub data: PathBuf,
    /// Where envelopes, memberships, evidence and the mail queue are kept.
    pub store: StoreLocation,
    /// A bucket for the evidence pieces (`s3://bucket`), beside a PostgreSQL store;
    /// `None`: in the store itself.
    pub evidence: Option<String>,
    pub mail: MailSettings,
    /// A secret that reads `/api/v1/metrics`; without, this machine only.
    pub metrics_token: Option<String>,
    /// Days a dossier is kept without activity (`retention`).
    pub retention_days: i64,
    pub app: AppAssets,
    pub pdf_reader: PdfReader,
}

/// The SQLite database's name inside the data directory.
const SQLITE_FILE: &str = "livret.sqlite3";

/// Where the relay keeps its data.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// A SQLite file in the data directory: one machine, nothing else to run.
    Sqlite,
    /// A PostgreSQL database, which several relay nodes may share (`cluster`).
    Postgres(String),
}

impl StoreLocation {
    /// From `--store`: nothing is SQLite in the data directory; `postgres://…` (or
    /// `postgresql://…`) a PostgreSQL database.
    pub fn from_url(url: Option<&str>) -> Result<StoreLocation, StartError> {
        match url.map(str::trim) {
            None | Some("") => Ok(StoreLocation::Sqlite),
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Ok(StoreLocation::Postgres(url.to_string()))
            }
            Some(other) => Err(StartError::UnknownStore(without_password(other))),
        }
    }

    /// How errors and logs name it: the file, or the URL without its password.
    fn describe(&self, data: &Path) -> String {
        match self {
            StoreLocation::Sqlite => data.join(SQLITE_FILE).display().to_string(),
            StoreLocation::Postgres(url) => without_password(url),
        }
    }
}

impl std::fmt::Debug for StoreLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreLocation::Sqlite => f.write_str("Sqlite"),
            StoreLocation::Postgres(url) => write!(f, "Postgres({})", without_password(url)),
        }
    }
}

/// A URL as it may be shown: the password of `scheme://user:secret@host/…` and of a
/// `?password=secret` parameter replaced by `…`.
fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (address, query) = match rest.split_once('?') {
        Some((address, query)) => (address, Some(query)),
        None => (rest, None),
    };
    let mut shown = match address.rsplit_once('@') {
        Some((user_info, host)) => {
            let user = user_info.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:…@{host}")
        }
        None => format!("{scheme}://{address}"),
    };
    if let Some(query) = query {
        let parameters: Vec<String> = query
            .split('&')
            .map(|p| match p.split_once('=') {
                Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=…"),
                _ => p.to_string(),
            })
            .collect();
        shown.push('?');
        shown.push_str(&parameters.join("&"));
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_url_is_shown_without_its_password() {
        for (url, shown) in [
            (
                "postgres://livret:s3cret@db.example.org:5432/livret",
                "postgres://livret:…@db.example.org:5432/livret",
            ),
            (
                "postgresql://db/livret?user=livret&password=s3cret&sslmode=disable",
                "postgresql://db/livret?user=livret&password=…&sslmode=disable",
            ),
            ("postgres://a:b@c@host/db", "postgres://a:…@host/db"),
            ("postgres://host/db", "postgres://host/db"),
        ] {
            assert_eq!(without_password(url), shown);
            assert!(!without_password(url).contains("s3cret"));
        }
    }
}

/// Why a relay did not start, worded for the person who started it.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0} : impossible de créer le dossier de données : {1}")]
    DataDirectory(PathBuf, std::io::Error),
    /// The store named (a path, or a database URL without its password) did not open.
    #[error("{0} : {1}")]
    Store(String, StoreError),
    /// The evidence bucket named did not open.
    #[error("pièces justificatives, {0} : {1}")]
    Evidence(String, StoreError),
    #[error(
        "--evidence (pièces en stockage objet) va avec une base PostgreSQL (--store \
         postgres://…) ; avec SQLite, les pièces restent dans le dossier de données"
    )]
    EvidenceWithoutPostgres,
    #[error(
        "{0} : base de données non reconnue (attendu postgres://… ; sans --store, SQLite \
         dans le dossier de données)"
    )]
    UnknownStore(String),
    #[error("{0}")]
    Mail(#[from] MailError),
    #[error("{0} : adresse publique attendue en http:// ou https://")]
    PublicUrl(String),
    #[error("{0}")]
    Listener(std::io::Error),
}

/// A relay serving on its listener until [`Running::stop`] or the end of
/// [`Running::until`]'s signal.
pub struct Running {
    /// Where it listens (the port chosen when asked for port 0).
    pub addr: SocketAddr,
    pub relay: Arc<Relay>,
    stop: oneshot::Sender<()>,
    serving: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// Serves until `signal` completes, then stops (connections end, the store closes).
    pub async fn until(self, signal: impl Future<Output = ()>) -> std::io::Result<()> {
        let Running {
            stop, mut serving, ..
        } = self;
        tokio::select! {
            () = signal => {
                let _ = stop.send(());
                serving.await.unwrap_or_else(|e| Err(std::io::Error::other(e)))
            }
            served = &mut serving => served.unwrap_or_else(|e| Err(std::io::Error::other(e))),
        }
    }

    /// Stops serving and waits until it has.
    pub async fn stop(self) -> std::io::Result<()> {
        let _ = self.stop.send(());
        self.serving
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e)))
    }
}

/// The store, migrated, with what is past its grace period purged (on the blocking pool,
/// like every store call).
fn open_store(
    location: &StoreLocation,
    evidence: Option<&str>,
    data: &Path,
) -> Result<Arc<dyn Store>, StartError> {
    let named = |e| StartError::Store(location.describe(data), e);
    let store: Arc<dyn Store> = match (location, evidence) {
        (StoreLocation::Sqlite, None) => {
            Arc::new(SqliteStore::open(&data.join(SQLITE_FILE)).map_err(named)?)
        }
        (StoreLocation::Sqlite, Some(_)) => return Err(StartError::EvidenceWithoutPostgres),
        (StoreLocation::Postgres(url), None) => Arc::new(PgStore::connect(url).map_err(named)?),
        (StoreLocation::Postgres(url), Some(bucket)) => {
            let objects = ObjectPieces::open(bucket)
                .map_err(|e| StartError::Evidence(bucket.to_string(), e))?;
            Arc::new(
                PgStore::connect(url)
                    .map_err(named)?
                    .keep_pieces_in(objects),
            )
        }
    };
    match store.purge(crate::clock::now_seconds() - crate::hub::PRUNE_GRACE_SECONDS) {
        Ok(0) => {}
        Ok(n) => tracing::info!(count = n, "purged envelopes past their grace period"),
        Err(e) => tracing::warn!("purge failed: {e}"),
    }
    Ok(store)
}

/// Opens the store (migrating it), starts the mailer and serves on `listener`. Call within
/// a tokio runtime.
pub async fn start(listener: TcpListener, config: ServerConfig) -> Result<Running, StartError> {
    let data = config.data;
    std::fs::create_dir_all(&data).map_err(|e| StartError::DataDirectory(data.clone(), e))?;
    let location = config.store;
    let named = location.describe(&data);
    let opened = tokio::task::spawn_blocking({
        let data = data.clone();
        let location = location.clone();
        let evidence = config.evidence.clone();
        move || open_store(&location, evidence.as_deref(), &data)
    });
    let store = match opened.await {
        Ok(opened) => opened?,
        Err(e) => return Err(StartError::Store(named, StoreError::Task(e.to_string()))),
    };
    let transport = match &config.mail.smtp_url {
        Some(url) => Transport::from_url(url)?,
        None => Transport::Outbox(data.join("outbox")),
    };
    let from = crate::mail::parse_address(&config.mail.from)?;
    // Links in mail name the port really listened on (`127.0.0.1:0` picks one).
    let addr = listener.local_addr().map_err(StartError::Listener)?;
    let public_url = config
        .mail
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    let mailer = Mailer::start(store.clone(), transport, from, public_url);
    let relay = Relay::new(store, Some(mailer));
    relay.set_retention_days(config.retention_days);
    if let StoreLocation::Postgres(url) = &location {
        // Other nodes may serve the same database: hear of their changes, tell them ours.
        let joined = tokio::task::spawn_blocking({
            let (url, relay) = (url.clone(), relay.clone());
            move || crate::cluster::PgPokes::join(&url, &relay)
        });
        match joined.await {
            Ok(joined) => joined.map_err(|e| StartError::Store(named.clone(), e))?,
            Err(e) => return Err(StartError::Store(named, StoreError::Task(e.to_string()))),
        }
    }
    match relay_origins(config.mail.public_url.as_deref(), addr)? {
        Some(origins) => relay.set_origins(origins),
        None => tracing::warn!(
            "listening on every interface without --public-url: logins are checked against \
             the Host header, which does not stop a relay in the middle; give --public-url"
        ),
    }
    if !config.app.present() {
        tracing::warn!("web app not embedded: build it with scripts/build-app.sh");
    }
    tokio::spawn(give_back_freed_memory(Arc::downgrade(&relay)));
    tokio::spawn(crate::retention::keep_sweeping(Arc::downgrade(&relay)));
    let routes = router(HttpState {
        relay: relay.clone(),
        app: config.app,
        metrics_token: config
            .metrics_token
            .filter(|t| !t.is_empty())
            .map(Arc::from),
        pdf_reader: config.pdf_reader,
    });
    let (stop, stopped) = oneshot::channel::<()>();
    // The peer's address: connection limits per address, metrics for this machine only.
    let serving = tokio::spawn(async move {
        axum::serve(
            listener,
            routes.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async {
            let _ = stopped.await;
        })
        .await
    });
    Ok(Running {
        addr,
        relay,
        stop,
        serving,
    })
}

/// The origins devices sign their login for: the public address when given; otherwise the
/// address listened on (and `localhost` for the IPv4 loopback); `None` when that is every
/// interface, which names no origin.
fn relay_origins(
    public_url: Option<&str>,
    local: SocketAddr,
) -> Result<Option<Vec<Origin>>, StartError> {
    if let Some(url) = public_url {
        return Origin::parse(url)
            .map(|o| Some(vec![o]))
            .ok_or_else(|| StartError::PublicUrl(url.to_string()));
    }
    if local.ip().is_unspecified() {
        return Ok(None);
    }
    let mut origins: Vec<Origin> = Origin::parse(&format!("http://{local}"))
        .into_iter()
        .collect();
    if local.ip() == std::net::Ipv4Addr::LOCALHOST {
        origins.extend(Origin::parse(&format!("http://localhost:{}", local.port())));
    }
    Ok(Some(origins))
}

/// Every half minute while the relay runs, hands the memory the allocator holds free back
/// to the system (glibc keeps what connections and catch-ups free). Measured by the soak
/// (`benches/soak.rs`): a little lower after each wave of reconnections, not the cure of the
/// growth that turned out to be the soak's own (see BENCHMARKS).
async fn give_back_freed_memory(relay: std::sync::Weak<Relay>) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    loop {
        tokio::time::sleep(std::time::Duration::from_secs(30)).await;
        if relay.strong_count() == 0 {
            return;
        }
        // Walks the heap under the allocator's lock: off the async workers.
        let _ = tokio::task::spawn_blocking(|| {
            // SAFETY: malloc_trim only releases free memory; it takes no pointers.
            unsafe { libc::malloc_trim(0) };
        })
        .await;
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    drop(relay);
}
