//! The web app, embedded at build time (see `build.rs`).

include!(concat!(env!("OUT_DIR"), "/app_assets.rs"));

/// The asset served at `path` (`/` is `index.html`).
pub fn find(path: &str) -> Option<(&'static [u8], &'static str)> {
    let path = if path == "/" { "/index.html" } else { path };
    ASSETS
        .iter()
        .find(|(p, _, _)| *p == path)
        .map(|(_, bytes, mime)| (*bytes, *mime))
}

/// Whether the app was compiled into this binary.
pub fn present() -> bool {
    find("/index.html").is_some()
}

/// Shown instead of the app when the binary was built without it.
pub const MISSING_APP_PAGE: &str = "<!doctype html><html lang=\"fr\"><meta charset=\"utf-8\">\
<title>Livret</title><h1>Livret</h1><p>L'application web n'est pas incluse dans ce binaire. \
Construisez-la avec <code>scripts/build-app.sh</code> puis recompilez <code>livret</code> \
(ou lancez simplement <code>scripts/run.sh</code>).</p></html>";
