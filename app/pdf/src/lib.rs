//! The livret's PDF export for the browser: `livret_shared::pdf_export` behind a small
//! JavaScript interface. Built as its own wasm module (`/pdf/livret_pdf.js`), fetched the
//! first time a livret is exported and kept by the service worker: the PDF engine (lopdf's
//! parser for annexed PDFs, font handling) stays out of the app's start-up download.
//!
//! The app drives it one annexe at a time: `new PdfExport(json, regular, bold)`, then
//! while `next_annexe()` names a number, `add_annexe(bytes | undefined)`, then `finish()`
//! for the PDF's bytes. `progress()` and `notices()` answer JSON.

use livret_shared::export;
use livret_shared::pdf_export::{Chunks, FontFiles, LivretPdf};
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

    /// The number of the annexe wanted next, if any.
    pub fn next_annexe(&self) -> Result<Option<u32>, JsValue> {
        Ok(self.pdf()?.next_annexe().map(|a| a.numero))
    }

    /// The SHA-256 of the annexe wanted next (with its number, it tells two annexes that
    /// briefly share a number apart).
    pub fn next_empreinte(&self) -> Result<Option<String>, JsValue> {
        Ok(self.pdf()?.next_annexe().map(|a| a.empreinte.clone()))
    }

    /// The next annexe's file, or nothing when it is not at hand.
    pub fn add_annexe(&mut self, file: Option<Vec<u8>>) -> Result<(), JsValue> {
        self.inner
            .as_mut()
            .ok_or_else(|| error("export terminé"))?
            .add_annexe(file.as_deref())
            .map_err(error)
    }

    /// `{"annexes_done", "annexes_total", "bytes_done", "bytes_total"}`.
    pub fn progress(&self) -> Result<String, JsValue> {
        let p = self.pdf()?.progress();
        Ok(serde_json::json!({
            "annexes_done": p.annexes_done,
            "annexes_total": p.annexes_total,
            "bytes_done": p.bytes_done,
            "bytes_total": p.bytes_total,
        })
        .to_string())
    }

    /// `[{"numero", "message"}]`: what was printed differently from the dossier.
    pub fn notices(&self) -> Result<String, JsValue> {
        let notices: Vec<_> = self
            .pdf()?
            .notices()
            .iter()
            .map(|n| serde_json::json!({"numero": n.numero, "message": n.message}))
            .collect();
        Ok(serde_json::Value::from(notices).to_string())
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
