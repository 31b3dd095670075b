//! `livret serve`: the relay's HTTP side. For now it serves the web app and a health route;
//! the sync API lives under `/api/v1`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::extract::State;
use axum::http::{StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};

use crate::app_assets;
use crate::relay::{self, Relay};
use crate::store::SqliteStore;

/// How the relay sends mail (`livret serve --smtp-url … --public-url … --mail-from …`).
pub struct MailSettings {
    pub smtp_url: Option<String>,
    pub public_url: Option<String>,
    pub from: String,
}

pub fn run(addr: SocketAddr, data: PathBuf, mail: MailSettings) -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("LIVRET_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    if let Err(e) = std::fs::create_dir_all(&data) {
        eprintln!(
            "livret: {}: impossible de créer le dossier de données : {e}",
            data.display()
        );
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("livret: démarrage impossible : {e}");
            return ExitCode::FAILURE;
        }
    };
    let store = match SqliteStore::open(&data.join("livret.sqlite3")) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("livret: {}: {e}", data.display());
            return ExitCode::from(2);
        }
    };
    let store: Arc<dyn crate::store::Store> = Arc::new(store);
    let transport = match &mail.smtp_url {
        Some(url) => crate::mail::Transport::from_url(url),
        None => Ok(crate::mail::Transport::Outbox(data.join("outbox"))),
    };
    let (transport, from) = match (transport, crate::mail::parse_address(&mail.from)) {
        (Ok(t), Ok(f)) => (t, f),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("livret: {e}");
            return ExitCode::from(2);
        }
    };
    // Bound first: links in mail name the port really listened on (`127.0.0.1:0` picks one).
    let listener = match runtime.block_on(tokio::net::TcpListener::bind(addr)) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("livret: {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let local = listener.local_addr().unwrap_or(addr);
    let public_url_given = mail.public_url.clone();
    let public_url = mail.public_url.unwrap_or_else(|| format!("http://{local}"));
    let mailer = {
        let _runtime = runtime.enter();
        crate::mail::Mailer::start(store.clone(), transport, from, public_url)
    };
    let relay = Relay::new(store, Some(mailer));
    match relay_origins(public_url_given.as_deref(), local) {
        Ok(Some(origins)) => relay.set_origins(origins),
        Ok(None) => tracing::warn!(
            "listening on every interface without --public-url: logins are checked against \
             the Host header, which does not stop a relay in the middle; give --public-url"
        ),
        Err(e) => {
            eprintln!("livret: {e}");
            return ExitCode::from(2);
        }
    }
    match runtime.block_on(serve(listener, relay)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("livret: {addr}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The origins devices sign their login for: the public address when given; otherwise the
/// address listened on (and `localhost` for the IPv4 loopback); `None` when that is every
/// interface, which names no origin.
fn relay_origins(
    public_url: Option<&str>,
    local: SocketAddr,
) -> Result<Option<Vec<livret_shared::protocol::Origin>>, String> {
    use livret_shared::protocol::Origin;
    if let Some(url) = public_url {
        return Origin::parse(url)
            .map(|o| Some(vec![o]))
            .ok_or_else(|| format!("{url} : adresse publique attendue en http:// ou https://"));
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

async fn serve(listener: tokio::net::TcpListener, relay: Arc<Relay>) -> std::io::Result<()> {
    let local = listener.local_addr()?;
    if !app_assets::present() {
        tracing::warn!("web app not embedded: build it with scripts/build-app.sh");
    }
    // Tests and scripts wait for this exact line to know the port.
    println!("livret: à l'écoute sur http://{local}");
    axum::serve(listener, router(relay))
        .with_graceful_shutdown(shutdown_signal())
        .await
}

pub fn router(relay: Arc<Relay>) -> Router {
    Router::new()
        .route("/api/v1/health", get(health))
        .route("/api/v1/metrics", get(metrics))
        .route("/api/v1/sync", get(relay::websocket))
        .route(
            "/api/v1/referentiels/pdf",
            post(referentiel_from_pdf).layer(DefaultBodyLimit::max(MAX_REFERENTIEL_PDF)),
        )
        .fallback(get(asset))
        .with_state(relay)
}

/// Largest référentiel PDF the relay reads for the app.
const MAX_REFERENTIEL_PDF: usize = 20 * 1024 * 1024;

/// Reads a référentiel PDF for the app, which has no PDF reader of its own (pdf-extract
/// would double its size): a public document, read in memory and forgotten — never a
/// dossier file (evidence stays encrypted on the device). Answers the référentiels found, as
/// JSON, or 422 with the importer's one-line reason.
async fn referentiel_from_pdf(body: Bytes) -> Response {
    if livret_shared::referentiel::detect(&body) != livret_shared::referentiel::InputKind::Pdf {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            "ce fichier n'est pas un PDF",
        )
            .into_response();
    }
    let read = tokio::task::spawn_blocking(move || {
        livret_shared::referentiel::import_pdf(&body).map(|import| import.referentiel.to_json())
    })
    .await;
    match read {
        Ok(Ok(json)) => (
            [(header::CONTENT_TYPE, "application/json")],
            format!("[{json}]"),
        )
            .into_response(),
        Ok(Err(e)) => (StatusCode::UNPROCESSABLE_ENTITY, e.to_string()).into_response(),
        Err(_) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "PDF illisible (lecture interrompue)",
        )
            .into_response(),
    }
}

/// Counts only: accepted, duplicates, refusals by reason. Nothing about content.
async fn metrics(State(relay): State<Arc<Relay>>) -> impl IntoResponse {
    axum::Json(relay.metrics.snapshot())
}

async fn health() -> impl IntoResponse {
    axum::Json(serde_json::json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "app": app_assets::present(),
    }))
}

async fn asset(uri: Uri) -> Response {
    let path = uri.path();
    if let Some((bytes, mime)) = app_assets::find(path) {
        // Always checked again: a new app (and its service worker) is noticed at once; the
        // service worker keeps the copy that opens offline.
        return (
            [
                (header::CONTENT_TYPE, mime),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            bytes,
        )
            .into_response();
    }
    if path.starts_with("/api/") {
        return (StatusCode::NOT_FOUND, "route inconnue").into_response();
    }
    // Client-side routes: every other path gets the app's page.
    match app_assets::find("/index.html") {
        Some((bytes, mime)) if !path.contains('.') => {
            ([(header::CONTENT_TYPE, mime)], bytes).into_response()
        }
        Some(_) => (StatusCode::NOT_FOUND, "introuvable").into_response(),
        None => Html(app_assets::MISSING_APP_PAGE).into_response(),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
