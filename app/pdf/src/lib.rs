//! The livret's PDF export for the browser: `livret_shared::pdf_export` behind a small
//! JavaScript interface. Built as its own wasm module (`/pdf/livret_pdf.js`), fetched the
//! first time a livret is exported and kept by the service worker: the PDF engine (lopdf's
//! parser for annexed PDFs, font handling) stays out of the app's start-up download.
//!
//! The app drives it one annexe at a time: `new PdfExport(json, regular, bold, english)`,
//! then while `next_annexe()` describes one (JSON), `add_annexe(bytes | undefined)`, then
//! `finish()` for the PDF's bytes. `progress()` and `notices()` answer JSON too.
//!
//! `FranceVae` is driven the same way and answers the files France VAE takes
//! (`livret_shared::france_vae`): `finish()` gives `[{name, size, parts}]`, the dossier de
//! validation first, or an error that says every reason it cannot.
//!
//! `pdf_pages(bytes)` reads a PDF annexe's text page by page, for a juror's annotations;
//! `session_pv(json, regular, bold)` makes a jury session's procès-verbal.

use std::collections::HashMap;

use livret_shared::export;
use livret_shared::france_vae::{self, HandoffError, Kept, Place, Prepared};
use livret_shared::pdf_export::reduce::Kind;
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

/// Why the dossier cannot be handed over, in both languages (`{fr, en}`): the app shows the
/// user's.
fn unfit(reasons: &[france_vae::Unfit]) -> JsValue {
    let said = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&said, &"fr".into(), &france_vae::unfit_text(reasons).into());
    let _ = js_sys::Reflect::set(
        &said,
        &"en".into(),
        &france_vae::unfit_text_in_english(reasons).into(),
    );
    said.into()
}

#[wasm_bindgen]
impl PdfExport {
    /// Lays out the livret of `json` (the dossier's JSON export) with the two fonts, in
    /// English when `english` (the language the app shows), else in French.
    #[wasm_bindgen(constructor)]
    pub fn new(
        json: &str,
        regular: Vec<u8>,
        bold: Vec<u8>,
        english: bool,
    ) -> Result<PdfExport, JsValue> {
        // Made by the app's own `export::export` a moment ago: read as it is (`export::parse`
        // would also check it against a dossier, which would bring automerge in here).
        let dossier: export::DossierJson = serde_json::from_str(json).map_err(error)?;
        let inner = LivretPdf::begin(
            &dossier,
            FontFiles { regular, bold },
            Chunks::default(),
            english,
        )
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

/// The annexes' bytes, by their place in the list, kept in memory between the steps of the
/// hand-off.
#[derive(Default)]
struct InMemory(HashMap<usize, Vec<u8>>);

impl Kept for InMemory {
    fn bytes(&mut self, place: usize) -> std::io::Result<Vec<u8>> {
        self.0
            .get(&place)
            .cloned()
            .ok_or_else(|| std::io::Error::other(format!("annexe {}", place + 1)))
    }
}

#[wasm_bindgen]
pub struct FranceVae {
    json: export::DossierJson,
    regular: Vec<u8>,
    bold: Vec<u8>,
    /// In number order, as they are asked for.
    annexes: Vec<export::AnnexeJson>,
    prepared: Vec<Prepared>,
    kept: InMemory,
}

#[wasm_bindgen]
impl FranceVae {
    #[wasm_bindgen(constructor)]
    pub fn new(json: &str, regular: Vec<u8>, bold: Vec<u8>) -> Result<FranceVae, JsValue> {
        let json: export::DossierJson = serde_json::from_str(json).map_err(error)?;
        let mut annexes = json.annexes.clone();
        annexes.sort_by_key(|a| a.numero);
        Ok(FranceVae {
            json,
            regular,
            bold,
            annexes,
            prepared: Vec::new(),
            kept: InMemory::default(),
        })
    }

    /// The annexe wanted next, as its JSON description, or nothing.
    pub fn next_annexe(&self) -> Result<Option<String>, JsValue> {
        self.annexes
            .get(self.prepared.len())
            .map(|a| serde_json::to_string(a).map_err(error))
            .transpose()
    }

    /// The next annexe's file (nothing when it is not at hand): checked, made lighter, kept.
    /// Once one is in a format the platform does not take, the others are only checked (the
    /// hand-off will be refused: no long work for nothing).
    pub fn add_annexe(&mut self, file: Option<Vec<u8>>) -> Result<(), JsValue> {
        let Some(annexe) = self.annexes.get(self.prepared.len()).cloned() else {
            return Ok(());
        };
        let mut prepared = france_vae::check(&annexe, file.as_deref());
        let refused = !france_vae::formats(&self.prepared).is_empty();
        if let (Some(file), Some(_)) = (file, prepared.bytes)
            && prepared.kind != Kind::Other
            && !refused
        {
            let kept = france_vae::lighten(&mut prepared, &file).unwrap_or(file);
            self.kept.0.insert(self.prepared.len(), kept);
        }
        self.prepared.push(prepared);
        Ok(())
    }

    /// `export::Progress` as JSON.
    pub fn progress(&self) -> Result<String, JsValue> {
        let done = self.prepared.len();
        let progress = export::Progress {
            annexes_done: done,
            annexes_total: self.annexes.len(),
            bytes_done: self.annexes[..done].iter().map(|a| a.taille).sum(),
            bytes_total: self.annexes.iter().map(|a| a.taille).sum(),
        };
        serde_json::to_string(&progress).map_err(error)
    }

    /// The files: `[{name, size, parts}]` (parts: `Uint8Array`s for a Blob), the dossier de
    /// validation first; or the reasons it cannot be handed over, as the error.
    pub fn finish(&mut self) -> Result<js_sys::Array, JsValue> {
        let formats = france_vae::formats(&self.prepared);
        if !formats.is_empty() {
            return Err(unfit(&formats));
        }
        let (regular, bold) = (self.regular.clone(), self.bold.clone());
        let fonts = move || FontFiles {
            regular: regular.clone(),
            bold: bold.clone(),
        };
        let written = france_vae::write_dossier(
            &self.json,
            &fonts,
            &self.prepared,
            &mut self.kept,
            &mut || Ok(Chunks::default()),
            &mut |_| {},
        );
        let (main, size, places) = match written {
            Ok(written) => written,
            Err(HandoffError::Unfit(reasons)) => {
                return Err(unfit(&reasons));
            }
            Err(e) => return Err(error(e)),
        };
        let files = js_sys::Array::new();
        let file = |name: &str, size: u64, chunks: Vec<Vec<u8>>| -> Result<JsValue, JsValue> {
            let parts = js_sys::Array::new();
            for chunk in chunks {
                parts.push(&js_sys::Uint8Array::from(chunk.as_slice()));
            }
            let object = js_sys::Object::new();
            js_sys::Reflect::set(&object, &"name".into(), &name.into())?;
            js_sys::Reflect::set(&object, &"size".into(), &(size as f64).into())?;
            js_sys::Reflect::set(&object, &"parts".into(), &parts)?;
            Ok(object.into())
        };
        files.push(&file(france_vae::MAIN_FILE, size, main.into_chunks())?);
        for (at, (p, place)) in self.prepared.iter().zip(&places).enumerate() {
            if let (Place::Apart(name), Some(bytes)) = (place, p.bytes) {
                let kept = self.kept.0.remove(&at).unwrap_or_default();
                files.push(&file(name, bytes, vec![kept])?);
            }
        }
        Ok(files)
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

/// The recovery kit `secret` as a one-page PDF (in English when `english`), dated `date`:
/// made here, the kit never leaves the device.
#[wasm_bindgen]
pub fn recovery_kit(
    secret: &str,
    english: bool,
    date: &str,
    regular: Vec<u8>,
    bold: Vec<u8>,
) -> Result<Vec<u8>, JsValue> {
    pdf_export::recovery_kit(
        secret,
        english,
        date,
        FontFiles { regular, bold },
        Vec::new(),
    )
    .map_err(error)
}
