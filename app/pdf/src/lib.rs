//! The livret's PDF export for the browser: `livret_shared::pdf_export` behind a small
//! JavaScript interface. Built as its own wasm module (`/pdf/livret_pdf.js`), fetched the
//! first time a livret is exported and kept by the service worker: the PDF engine (lopdf's
//! parser for annexed PDFs, font handling) stays out of the app's start-up download.
//!
//! The app drives it one annexe at a time: `new PdfExport(json, regular, bold)`, then
//! while `next_annexe()` describes one (JSON), `add_annexe(bytes | undefined)`, then
//! `finish()` for the PDF's bytes. `progress()` and `notices()` answer JSON too.
//!
//! `pdf_pages(bytes)` reads a PDF annexe's text page by page, for a juror's annotations;
//! `session_pv(json, regular, bold)` makes a jury session's procès-verbal.

use livret_shared::export;
use livret_shared::pdf_export::{self, Chunks, FontFiles, LivretPdf};
use livret_shared::session::SessionPv;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
pub struct PdfExport {
    inner: Option<LivretPdf<Chunks>>,
}

fn error(e: impl std::fmt::Display) -> JsValue {
    JsValue::from_str(&e.to_string())
}

#[wasm_bindgen]
impl PdfExport {
    /// Lays out the livret of `json` (the dossier's JSON export) with the two fonts.
    #[wasm_bindgen(constructor)]
    pub fn new(json: &str, regular: Vec<u8>, bold: Vec<u8>) -> Result<PdfExport, JsValue> {
        // Made by the app's own `export::export` a moment ago: read as it is (`export::parse`
        // would also check it against a dossier, which would bring automerge in here).
        let dossier: export::DossierJson = serde_json::from_str(json).map_err(error)?;
        let inner = LivretPdf::begin(&dossier, FontFiles { regular, bold }, Chunks::default())
            .map_err(error)?;
        Ok(PdfExport { inner: Some(inner) })
    }

    fn pdf(&self) -> Result<&LivretPdf<Chunks>, JsValue> {
        self.inner.as_ref().ok_or_else(|| error("export terminé"))
    }

    /// The annexe wanted next, as its JSON description (`export::AnnexeJson`), or nothing.
    pub fn next_annexe(&self) -> Result<Option<String>, JsValue> {
        self.pdf()?
            .next_annexe()
            .map(|a| serde_json::to_string(a).map_err(error))
            .transpose()
    }

    /// The next annexe's file, or nothing when it is not at hand.
    pub fn add_annexe(&mut self, file: Option<Vec<u8>>) -> Result<(), JsValue> {
        self.inner
            .as_mut()
            .ok_or_else(|| error("export terminé"))?
            .add_annexe(file.as_deref())
            .map_err(error)
    }

    /// `export::Progress` as JSON.
    pub fn progress(&self) -> Result<String, JsValue> {
        serde_json::to_string(&self.pdf()?.progress()).map_err(error)
    }

    /// `[export::Notice]` as JSON: what was printed differently from the dossier.
    pub fn notices(&self) -> Result<String, JsValue> {
        serde_json::to_string(self.pdf()?.notices()).map_err(error)
    }

    /// The PDF's bytes, as an array of `Uint8Array` parts (for a Blob), each chunk let go
    /// here as soon as it is copied out.
    pub fn finish(&mut self) -> Result<js_sys::Array, JsValue> {
        let chunks = self
            .inner
            .take()
            .ok_or_else(|| error("export terminé"))?
            .finish()
            .map_err(error)?;
        let parts = js_sys::Array::new();
        for chunk in chunks.into_chunks() {
            parts.push(&js_sys::Uint8Array::from(chunk.as_slice()));
        }
        Ok(parts)
    }
}

/// The text of a PDF annexe page by page, read here on the juror's device (the relay only
/// ever holds the file sealed): a juror anchors an annotation on a page and a quote of it.
/// A JSON array of strings; a file pdf-extract cannot read gives an error.
#[wasm_bindgen]
pub fn pdf_pages(bytes: &[u8]) -> Result<String, JsValue> {
    let pages = livret_shared::referentiel::text_by_pages(bytes).map_err(error)?;
    serde_json::to_string(&pages).map_err(error)
}

/// The procès-verbal of a jury session (ANNEXE 4) from `json` (`pdf_export::SessionPv`:
/// the session, each candidate's line with the decision released, the rules the jury
/// breaks), with the two fonts: the PDF's bytes.
#[wasm_bindgen]
pub fn session_pv(json: &str, regular: Vec<u8>, bold: Vec<u8>) -> Result<Vec<u8>, JsValue> {
    let pv: SessionPv = serde_json::from_str(json).map_err(error)?;
    pdf_export::proces_verbal(
        &pv.session,
        &pv.lines,
        &pv.breaches,
        FontFiles { regular, bold },
        Vec::new(),
    )
    .map_err(error)
}
