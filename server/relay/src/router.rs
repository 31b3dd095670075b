//! The relay's HTTP side: the sync WebSocket under `/api/v1/sync`, health, metrics, the
//! référentiel reader, and the web app's files for every other path (the built-in
//! référentiels read by that reader).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRef, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};

use crate::hub::Relay;
use crate::pdf_reader::PdfReader;
use crate::server::AppAssets;
use livret_shared::referentiel::Referentiel;
use livret_shared::words::Worded;

/// What the routes share: the relay, and what the HTTP side alone needs.
#[derive(Clone)]
pub struct HttpState {
    pub relay: Arc<Relay>,
    /// The web app's files (none in a relay built without it).
    pub app: AppAssets,
    /// Who may read `/api/v1/metrics`: with a token (`--metrics-token`), whoever presents
    /// it; without, only this machine, asking directly (not through a proxy).
    pub metrics_token: Option<Arc<str>>,
    /// Reads référentiel PDFs in a child process under limits.
    pub pdf_reader: PdfReader,
}

impl FromRef<HttpState> for Arc<Relay> {
    fn from_ref(state: &HttpState) -> Arc<Relay> {
        state.relay.clone()
    }
}

pub fn router(state: HttpState) -> Router {
    Router::new()
        .route("/api/v1/health", get(health))
        .route("/api/v1/metrics", get(metrics))
        .route("/api/v1/sync", get(crate::connection::websocket))
        .route(
            "/api/v1/referentiels/read",
            post(read_referentiel).layer(DefaultBodyLimit::max(MAX_REFERENTIEL_FILE)),
        )
        // The route's name before it read every format: an app still cached on a device
        // keeps importing.
        .route(
            "/api/v1/referentiels/pdf",
            post(read_referentiel).layer(DefaultBodyLimit::max(MAX_REFERENTIEL_FILE)),
        )
        .fallback(get(asset))
        .with_state(state)
}

/// Largest référentiel file the relay reads for the app.
const MAX_REFERENTIEL_FILE: usize = crate::pdf_reader::MAX_PDF;

/// Référentiels read at once: each read is a child process of up to its memory limit (see
/// `pdf_reader`); more wait for none and are told to come back.
const MAX_CONCURRENT_READS: usize = 2;

static REFERENTIEL_READS: tokio::sync::Semaphore =
    tokio::sync::Semaphore::const_new(MAX_CONCURRENT_READS);

/// Reads a référentiel for the app, which has no reader of its own (pdf-extract would
/// double its size, and the text and XML readers weigh on every screen it loads): a public
/// document, read in memory and forgotten — never a dossier file (evidence stays encrypted
/// on the device). Anyone may post one, so whatever its format it is parsed in a child
/// process under limits (`pdf_reader`). Answers the référentiels found, as JSON (an XML
/// export may hold several), or 422 with one line saying why not, in the language the
/// request's `Accept-Language` puts first (French unless it is English: the app sends its
/// own).
async fn read_referentiel(
    State(state): State<HttpState>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    let relay = &state.relay;
    let english = wants_english(&headers);
    let say = |fr: &'static str, en: &'static str| if english { en } else { fr };
    // Taken once the body has come (a client sending it slowly holds no place), and held by
    // the read itself: a client that leaves mid-read drops this request, not the child
    // process it started, which keeps its place until it ends (a permit held by the request
    // would let anyone start reads by the hundred, each up to its memory limit, by hanging
    // up).
    let Ok(permit) = REFERENTIEL_READS.try_acquire() else {
        relay.metrics.limit("pdf_reads_busy");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "5")],
            say(
                "trop de référentiels en cours de lecture sur le relais : réessayez dans un instant",
                "too many frameworks being read on the server: try again in a moment",
            ),
        )
            .into_response();
    };
    let pdf =
        livret_shared::referentiel::detect(&body) == livret_shared::referentiel::InputKind::Pdf;
    let reader = state.pdf_reader.clone();
    let read = tokio::task::spawn_blocking(move || {
        let _held = permit;
        reader.referentiels(&body).map(|found| {
            let json: Vec<String> = found.iter().map(Referentiel::to_json).collect();
            format!("[{}]", json.join(","))
        })
    })
    .await;
    match read {
        Ok(Ok(json)) => ([(header::CONTENT_TYPE, "application/json")], json).into_response(),
        Ok(Err(reason)) => {
            relay.metrics.limit(if pdf {
                "pdf_refused"
            } else {
                "referentiel_refused"
            });
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                reason.in_language(english),
            )
                .into_response()
        }
        Err(_) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            say(
                "référentiel illisible (lecture interrompue)",
                "unreadable framework (reading interrupted)",
            ),
        )
            .into_response(),
    }
}

/// Whether the language a request's `Accept-Language` puts first is English (`en`,
/// `en-GB`…). Quality values are not weighed: the app sends one language.
fn wants_english(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|first| {
            first
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .is_some_and(|tag| tag == "en" || tag.starts_with("en-"))
}

/// A built-in référentiel as the app takes it, `/referentiels/NAME.json`: the `NAME.txt`
/// the app ships (the seed document), read by this relay's reader — the one the CLI uses —
/// once per file.
fn built_in_referentiel(app: &AppAssets, path: &str) -> Option<Response> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static READ: OnceLock<Mutex<HashMap<usize, Arc<str>>>> = OnceLock::new();
    let stem = path.strip_prefix("/referentiels/")?.strip_suffix(".json")?;
    let (text, _) = app.find(&format!("/referentiels/{stem}.txt"))?;
    let read = READ.get_or_init(Mutex::default);
    let cached = read.lock().ok()?.get(&(text.as_ptr() as usize)).cloned();
    let json = match cached {
        Some(json) => json,
        None => {
            let json: Arc<str> =
                match livret_shared::referentiel::import_text(&String::from_utf8_lossy(text)) {
                    Ok(import) => import.referentiel.to_json().into(),
                    Err(e) => {
                        return Some(
                            (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
                        );
                    }
                };
            read.lock()
                .ok()?
                .insert(text.as_ptr() as usize, json.clone());
            json
        }
    };
    Some(
        (
            [
                (header::CONTENT_TYPE, "application/json"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            json.to_string(),
        )
            .into_response(),
    )
}

/// Counts only: accepted, duplicates, refusals by reason, limits reached. Nothing about
/// content, yet not for everyone (traffic patterns are information): see `HttpState`.
async fn metrics(
    State(state): State<HttpState>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<SocketAddr>,
    headers: axum::http::HeaderMap,
) -> Response {
    let relay = &state.relay;
    let allowed = match state.metrics_token.as_deref() {
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

async fn health(State(state): State<HttpState>) -> impl IntoResponse {
    axum::Json(serde_json::json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "app": state.app.present(),
    }))
}

async fn asset(State(state): State<HttpState>, uri: Uri) -> Response {
    let path = uri.path();
    if let Some(response) = built_in_referentiel(&state.app, path) {
        return response;
    }
    if let Some((bytes, mime)) = state.app.find(path) {
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
    match state.app.find("/index.html") {
        Some((bytes, mime)) if !path.contains('.') => {
            ([(header::CONTENT_TYPE, mime)], bytes).into_response()
        }
        Some(_) => (StatusCode::NOT_FOUND, "introuvable").into_response(),
        None => Html(crate::server::MISSING_APP_PAGE).into_response(),
    }
}
