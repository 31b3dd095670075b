//! Référentiels: imported on this device, read by the relay (which has the reader, for
//! every format); the built-in ones as the relay serves them.

use super::*;

/// The référentiels imported on this device: (`referentiel:<hash>`, référentiel).
pub async fn imported_referentiels() -> Result<Vec<(String, Referentiel)>, Error> {
    let db = db()?;
    let mut out = Vec::new();
    let mut keys = db.keys(REFERENTIEL_PREFIX).await.map_err(Error::from)?;
    keys.sort();
    for key in keys {
        let Some(sealed) = db.get(&key).await.map_err(Error::from)? else {
            continue;
        };
        let plain = with_device(|d| d.open_own(&sealed).map_err(Error::from))??;
        let json = String::from_utf8_lossy(&plain).to_string();
        if let Ok(r) = Referentiel::from_json(&json) {
            out.push((key, r));
        }
    }
    Ok(out)
}

/// The référentiels every installation starts with (the seed documents), as the relay
/// serves them beside the app, read by the reader the CLI uses (`referentiels/NAME.json`,
/// kept by the service worker for offline use): neither the documents nor a reader are
/// carried in the wasm, which every screen downloads and compiles.
const BUILT_IN: &[(&str, &str)] = &[
    ("000", "000-expert-ingenierie-logiciel"),
    ("001", "001-expert-ingenierie-systemes-information"),
    ("002", "002-developpeur-intelligence-artificielle-rncp37827"),
    (
        "003",
        "003-expert-architecture-developpement-logiciel-rncp38822",
    ),
    ("004", "004-expert-developpement-logiciel"),
];

/// The built-in référentiels; one that cannot be fetched (offline before the service
/// worker kept it) is an error of its own. The five are asked for at once.
pub async fn built_in_referentiels() -> Vec<(String, Result<Referentiel, Error>)> {
    let asked: Vec<_> = BUILT_IN
        .iter()
        .map(|(id, name)| {
            let path = format!("/referentiels/{name}.json");
            (id, ask_app_file(&path), path)
        })
        .collect();
    let mut out = Vec::with_capacity(BUILT_IN.len());
    for (id, asked, path) in asked {
        let read = read_app_file(asked, &path).await.and_then(|bytes| {
            Referentiel::from_json(&String::from_utf8_lossy(&bytes)).map_err(|_| relay_unreadable())
        });
        out.push((id.to_string(), read));
    }
    out
}

/// The relay's address for `path` (same origin as the app).
pub(super) fn relay_http(path: &str) -> Result<String, Error> {
    let origin = web_sys::window()
        .ok_or_else(no_window)?
        .location()
        .origin()
        .map_err(|_| address_unreadable())?;
    Ok(format!("{origin}{path}"))
}

/// Sends a référentiel file (PDF, text or RNCP XML) to the relay's reader; the référentiels
/// it found.
pub(super) async fn read_on_relay(bytes: &[u8]) -> Result<Vec<Referentiel>, Error> {
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    let body = js_sys::Uint8Array::from(bytes);
    init.set_body(&body);
    // The relay words its refusal in the app's language, not the browser's.
    let language = if crate::i18n::en() { "en" } else { "fr" };
    let header = js_sys::Array::of2(&"Accept-Language".into(), &language.into());
    init.set_headers(&js_sys::Array::of1(&header));
    let window = web_sys::window().ok_or_else(no_window)?;
    let response = JsFuture::from(
        window.fetch_with_str_and_init(&relay_http("/api/v1/referentiels/read")?, &init),
    )
    .await
    .map_err(|_| {
        Error::said(
            "serveur injoignable : un référentiel se lit en ligne",
            "server unreachable: a framework is read online",
        )
    })?;
    let response: web_sys::Response =
        wasm_bindgen::JsCast::dyn_into(response).map_err(|_| relay_unreadable())?;
    let text = JsFuture::from(response.text().map_err(|_| relay_unreadable())?)
        .await
        .ok()
        .and_then(|t| t.as_string())
        .unwrap_or_default();
    if !response.ok() {
        // The relay's reason (the PDF reader's), in its words.
        return Err(Error::RelaySaid(text));
    }
    let values: Vec<serde_json::Value> =
        serde_json::from_str(&text).map_err(|_| relay_unreadable())?;
    values
        .iter()
        .map(|v| Referentiel::from_json(&v.to_string()).map_err(|_| relay_unreadable()))
        .collect()
}

/// Imports a référentiel file (text, RNCP XML export — possibly several fiches — or PDF)
/// and keeps what it holds on this device; returns (key, référentiel) for each.
pub async fn import_referentiel(file: &web_sys::File) -> Result<Vec<(String, Referentiel)>, Error> {
    let size = file.size() as u64;
    if size > MAX_REFERENTIEL_FILE {
        return Err(Error::said(
            "fichier trop volumineux pour un référentiel (20 Mo au plus)",
            "file too large for a framework (20 MB at most)",
        ));
    }
    let bytes = read_slice(file, 0, size).await?;
    let found = read_on_relay(&bytes).await?;
    let db = db()?;
    let mut out = Vec::new();
    for r in found {
        use sha2::Digest;
        let json = r.to_json();
        let key = format!(
            "{REFERENTIEL_PREFIX}{}",
            hex::encode(&sha2::Sha256::digest(json.as_bytes())[..8])
        );
        let sealed = with_device(|d| d.seal_for_self(json.as_bytes()))?;
        db.put(&key, &sealed).await.map_err(Error::from)?;
        out.push((key, r));
    }
    Ok(out)
}
