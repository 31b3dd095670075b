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

/// Who may read `/api/v1/metrics`: with a token (`--metrics-token`), whoever presents it;
/// without, only this machine, asking directly (not through a proxy).
static METRICS_TOKEN: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();

pub fn run(
    addr: SocketAddr,
    data: PathBuf,
    mail: MailSettings,
    metrics_token: Option<String>,
) -> ExitCode {
    let _ = METRICS_TOKEN.set(metrics_token.filter(|t| !t.is_empty()));
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
    // Blocking work (catch-ups, PDF reads, mail) is bounded where it is started; this caps
    // the threads whatever else queues there (tokio's default allows 512).
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(64)
        .build()
    {
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
    tokio::spawn(give_back_freed_memory());
    // The peer's address: connection limits per address, metrics for this machine only.
    axum::serve(
        listener,
        router(relay).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
}

/// Every half minute, hands the memory the allocator holds free back to the system (glibc
/// keeps what connections and catch-ups free). Measured by the soak (`benches/soak.rs`):
/// a little lower after each wave of reconnections (50.3 against 55.8 MiB after the
/// first), not the end of the growth (see BENCHMARKS). Elsewhere the allocator is left as
/// it is.
async fn give_back_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    loop {
        tokio::time::sleep(std::time::Duration::from_secs(30)).await;
        // Walks the heap under the allocator's lock: off the async workers.
        let _ = tokio::task::spawn_blocking(|| {
            // SAFETY: malloc_trim only releases free memory; it takes no pointers.
            unsafe { libc::malloc_trim(0) };
        })
        .await;
    }
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
const MAX_REFERENTIEL_PDF: usize = crate::pdf_reader::MAX_PDF;

/// PDFs read at once: each is a child process of up to its memory limit (see
/// `pdf_reader`); more wait for none and are told to come back.
const MAX_CONCURRENT_PDF_READS: usize = 2;

static PDF_READS: tokio::sync::Semaphore =
    tokio::sync::Semaphore::const_new(MAX_CONCURRENT_PDF_READS);

/// Reads a référentiel PDF for the app, which has no PDF reader of its own (pdf-extract
/// would double its size): a public document, read in memory and forgotten — never a
/// dossier file (evidence stays encrypted on the device). Anyone may post one, so the PDF
/// is parsed in a child process under limits (`pdf_reader`). Answers the référentiels
/// found, as JSON, or 422 with one French line saying why not.
async fn referentiel_from_pdf(State(relay): State<Arc<Relay>>, body: Bytes) -> Response {
    if livret_shared::referentiel::detect(&body) != livret_shared::referentiel::InputKind::Pdf {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            "ce fichier n'est pas un PDF",
        )
            .into_response();
    }
    let Ok(_permit) = PDF_READS.try_acquire() else {
        relay.metrics.limit("pdf_reads_busy");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "5")],
            "trop de PDF en cours de lecture sur le relais : réessayez dans un instant",
        )
            .into_response();
    };
    let read = tokio::task::spawn_blocking(move || {
        let text = crate::pdf_reader::pdf_text(&body).map_err(|e| {
            if matches!(e, crate::pdf_reader::PdfReadError::Limits) {
                tracing::info!("référentiel PDF stopped at its limits");
            }
            e.to_string()
        })?;
        livret_shared::referentiel::import_pdf_text(&text)
            .map(|import| import.referentiel.to_json())
            .map_err(|e| e.to_string())
    })
    .await;
    match read {
        Ok(Ok(json)) => (
            [(header::CONTENT_TYPE, "application/json")],
            format!("[{json}]"),
        )
            .into_response(),
        Ok(Err(reason)) => {
            relay.metrics.limit("pdf_refused");
            (StatusCode::UNPROCESSABLE_ENTITY, reason).into_response()
        }
        Err(_) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "PDF illisible (lecture interrompue)",
        )
            .into_response(),
    }
}

/// Counts only: accepted, duplicates, refusals by reason, limits reached. Nothing about
/// content, yet not for everyone (traffic patterns are information): see `METRICS_TOKEN`.
async fn metrics(
    State(relay): State<Arc<Relay>>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<SocketAddr>,
    headers: axum::http::HeaderMap,
) -> Response {
    let allowed = match METRICS_TOKEN.get().and_then(Option::as_deref) {
        Some(token) => headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|given| constant_time_eq(given.as_bytes(), token.as_bytes())),
        // A proxy on this machine would make every visitor look local: it says so in
        // these headers, and is then refused.
        None => {
            peer.ip().is_loopback()
                && !headers.contains_key("x-forwarded-for")
                && !headers.contains_key(header::FORWARDED)
        }
    };
    if !allowed {
        relay.metrics.limit("metrics_refused");
        return (
            StatusCode::FORBIDDEN,
            "métriques réservées à la machine du relais (ou à qui présente --metrics-token)",
        )
            .into_response();
    }
    axum::Json(relay.metrics.snapshot()).into_response()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
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
