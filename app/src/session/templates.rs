//! Dossier templates: the shipped ones, and a certifier's imported on this device (kept
//! sealed, like imported référentiels). A template is read here, by the core's reader: it
//! is a small JSON file and needs no relay.

use livret_shared::template::{self, Template};
use livret_shared::words::Worded;

use super::*;

/// The templates imported on this device, in the order imported; one that this version no
/// longer reads is left out.
pub async fn imported_templates() -> Result<Vec<&'static Template>, Error> {
    let db = db()?;
    let mut out = Vec::new();
    let mut keys = db.keys(TEMPLATE_PREFIX).await.map_err(Error::from)?;
    keys.sort();
    for key in keys {
        let Some(sealed) = db.get(&key).await.map_err(Error::from)? else {
            continue;
        };
        let plain = with_device(|d| d.open_own(&sealed).map_err(Error::from))??;
        if let Ok(t) = Template::parse(&String::from_utf8_lossy(&plain)) {
            out.push(t);
        }
    }
    Ok(out)
}

/// Reads a certifier's template file and keeps it on this device: refused whole, with the
/// reader's one line, when it does not read.
pub async fn import_template(file: &web_sys::File) -> Result<&'static Template, Error> {
    let size = file.size() as u64;
    if size > template::file::MAX_TEMPLATE_BYTES as u64 {
        let e = template::TemplateError::TooLarge(size as usize);
        return Err(Error::said(e.to_string(), e.english()));
    }
    let bytes = read_slice(file, 0, size).await?;
    let text = String::from_utf8(bytes).map_err(|_| {
        Error::said(
            "modèle illisible : ce n’est pas du texte",
            "unreadable template: this is not text",
        )
    })?;
    let read = Template::import(&text).map_err(|e| Error::said(e.to_string(), e.english()))?;
    // Keyed by the template's own id and version: importing it again replaces it.
    let key = format!("{TEMPLATE_PREFIX}{}@{}", read.id, read.version);
    let sealed = with_device(|d| d.seal_for_self(read.pinned.as_bytes()))?;
    db()?.put(&key, &sealed).await.map_err(Error::from)?;
    Ok(read)
}

/// The templates a dossier for the certification numbered `rncp` may be written to: those
/// meant for it (its certifier's, shipped or imported, first), then the general ones; the
/// first is the one offered.
pub fn templates_for(rncp: &str, imported: &[&'static Template]) -> Vec<&'static Template> {
    let digits = template::rncp_digits(rncp);
    let all: Vec<&'static Template> = imported
        .iter()
        .copied()
        .chain(template::builtin())
        .filter(|t| t.is_for(digits))
        .collect();
    let (own, general): (Vec<_>, Vec<_>) = all.into_iter().partition(|t| !t.rncp.is_empty());
    let mut out: Vec<&'static Template> = Vec::new();
    for t in own.into_iter().chain(general) {
        if !out.iter().any(|o| o.id == t.id && o.version == t.version) {
            out.push(t);
        }
    }
    out
}
