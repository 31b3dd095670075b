//! Documents made on this device: the JSON export, the Livret 2 as PDF (the pdf module),
//! annexes' pages.

use super::*;

/// The open dossier as JSON (`livret_shared::export`, the same file as `livret dossier
/// export`), made on this device, as a `blob:` address to download.
pub fn export_json() -> Result<String, Error> {
    let json = with_open(|r| {
        let comments = r.comments();
        livret_shared::export::export(r.dossier(), Some(&comments)).map_err(Error::from)
    })??;
    let text = serde_json::to_vec_pretty(&json).map_err(Error::browser)?;
    blob_url(&text, "application/json")
}

/// What to look at before exporting the open dossier (`livret_shared::checklist`), read
/// from it as it would be exported.
pub fn export_checks() -> Result<Vec<livret_shared::checklist::Check>, Error> {
    let json =
        with_open(|r| livret_shared::export::export(r.dossier(), None).map_err(Error::from))??;
    Ok(livret_shared::checklist::before_export(&json))
}

/// A file the app ships (the PDF fonts), from the relay or, offline, from the service
/// worker's copy.
pub(super) async fn app_file(path: &str) -> Result<Vec<u8>, Error> {
    read_app_file(ask_app_file(path), path).await
}

/// Asks for an app file now (the request leaves at once; [`read_app_file`] waits for it), so
/// several can be on their way together.
pub(super) fn ask_app_file(path: &str) -> Result<js_sys::Promise, Error> {
    let window = web_sys::window().ok_or_else(no_window)?;
    Ok(window.fetch_with_str(&relay_http(path)?))
}

/// The bytes of an app file asked for with [`ask_app_file`].
pub(super) async fn read_app_file(
    asked: Result<js_sys::Promise, Error>,
    path: &str,
) -> Result<Vec<u8>, Error> {
    let unavailable = || {
        Error::said(
            format!("fichier de l'application indisponible : {path}"),
            format!("app file unavailable: {path}"),
        )
    };
    let response = JsFuture::from(asked?).await.map_err(|_| unavailable())?;
    let response: web_sys::Response =
        wasm_bindgen::JsCast::dyn_into(response).map_err(|_| unavailable())?;
    if !response.ok() {
        return Err(unavailable());
    }
    let buffer = JsFuture::from(response.array_buffer().map_err(|_| unavailable())?)
        .await
        .map_err(|_| unavailable())?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// Calls `method` of the JavaScript object `target` with `args`.
pub(super) fn call(target: &JsValue, method: &str, args: &[JsValue]) -> Result<JsValue, Error> {
    let f: js_sys::Function = js_sys::Reflect::get(target, &JsValue::from_str(method))
        .ok()
        .and_then(|f| wasm_bindgen::JsCast::dyn_into(f).ok())
        .ok_or_else(|| {
            Error::said(
                format!("module PDF : {method} absent"),
                format!("PDF module: no {method}"),
            )
        })?;
    let args: js_sys::Array = args.iter().collect();
    f.apply(target, &args).map_err(|e| {
        if let Some(text) = e.as_string() {
            return Error::Browser(text);
        }
        // A refusal the module words in both languages (`{fr, en}`).
        let said = |lang: &str| {
            js_sys::Reflect::get(&e, &JsValue::from_str(lang))
                .ok()
                .and_then(|s| s.as_string())
        };
        match (said("fr"), said("en")) {
            (Some(fr), Some(en)) => Error::said(fr, en),
            _ => Error::said(
                format!("module PDF : {method} a échoué"),
                format!("PDF module: {method} failed"),
            ),
        }
    })
}

pub(super) fn json_of<T: serde::de::DeserializeOwned>(value: JsValue) -> Result<T, Error> {
    serde_json::from_str(&value.as_string().unwrap_or_default()).map_err(Error::browser)
}

pub(super) fn pdf_module_unavailable() -> Error {
    Error::said(
        "module PDF indisponible (hors ligne avant sa première utilisation ?)",
        "PDF module unavailable (offline before its first use?)",
    )
}

/// The PDF module (`app/pdf`, its own wasm), loaded by index.html's `livretLoadPdf` the
/// first time it is needed and kept by the service worker.
pub(super) async fn pdf_module() -> Result<JsValue, Error> {
    let window = web_sys::window().ok_or_else(no_window)?;
    JsFuture::from(js_sys::Promise::from(call(&window, "livretLoadPdf", &[])?))
        .await
        .map_err(|_| pdf_module_unavailable())
}

/// The text of the PDF annexe at `place`, page by page, read on this device by the PDF
/// module (the file decrypted here, fetched from the relay if need be): what a juror's
/// annotation on a page quotes.
pub async fn annexe_pages(place: usize, progress: &dyn Fn(u32, u32)) -> Result<Vec<String>, Error> {
    let (bytes, media_type) = evidence_bytes(place, progress).await?;
    let looks_like_pdf = bytes[..bytes.len().min(1024)]
        .windows(5)
        .any(|w| w == b"%PDF-");
    if media_type != "application/pdf" && !looks_like_pdf {
        return Err(Error::said(
            "cette annexe n'est pas un PDF",
            "this annex is not a PDF",
        ));
    }
    let module = pdf_module().await?;
    // A file pdf-extract cannot read is refused with its reason; one that makes it panic
    // traps the module (panic=abort in wasm), which the call reports as a failure too.
    let pages = call(
        &module,
        "pdf_pages",
        &[js_sys::Uint8Array::from(bytes.as_slice()).into()],
    )?;
    json_of(pages)
}

/// A jury session's procès-verbal (ANNEXE 4), made on this device by the PDF module: a
/// `blob:` address to download.
pub async fn session_pv(pv: &livret_shared::session::SessionPv) -> Result<String, Error> {
    let module = pdf_module().await?;
    let regular = app_file("/fonts/DejaVuSans.ttf").await?;
    let bold = app_file("/fonts/DejaVuSans-Bold.ttf").await?;
    let json = serde_json::to_string(pv).map_err(Error::browser)?;
    let bytes = call(
        &module,
        "session_pv",
        &[
            JsValue::from_str(&json),
            js_sys::Uint8Array::from(regular.as_slice()).into(),
            js_sys::Uint8Array::from(bold.as_slice()).into(),
        ],
    )?;
    let parts: js_sys::Array = std::iter::once(bytes).collect();
    blob_url_of_parts(&parts, "application/pdf")
}

/// The livret made as PDF on this device: where it is (a `blob:` address), the name to save
/// it under, what could not be printed.
#[derive(Clone)]
pub struct ExportedPdf {
    pub url: String,
    pub file_name: String,
    pub notices: Vec<export::Notice>,
}

/// The open dossier's Livret 2 as PDF, made on this device by the PDF module (its own wasm,
/// loaded now: see `app/pdf`), with the fonts that come with the app and the annexes
/// decrypted here one at a time: a `blob:` address to download, and what was printed
/// differently from the dossier. `progress` is called after each annexe, the browser given
/// a moment to show it.
pub async fn export_pdf(progress: &dyn Fn(export::Progress)) -> Result<ExportedPdf, Error> {
    let (pdf, json, annexes) = module_object("PdfExport").await?;
    let file_name = export::pdf_file_name(&json);
    feed_annexes(&pdf, &annexes, progress).await?;
    let notices: Vec<export::Notice> = json_of(call(&pdf, "notices", &[])?)?;
    // The PDF comes in parts (a 100 MB livret is never one 100 MB copy in the page).
    let parts = js_sys::Array::from(&call(&pdf, "finish", &[])?);
    let _ = call(&pdf, "free", &[]);
    Ok(ExportedPdf {
        url: blob_url_of_parts(&parts, "application/pdf")?,
        file_name,
        notices,
    })
}

/// An object of the PDF module (`class`: `PdfExport`, `FranceVae`) made for the open
/// dossier, with the fonts that come with the app; the dossier's JSON and its annexes.
async fn module_object(
    class: &str,
) -> Result<
    (
        JsValue,
        export::DossierJson,
        Vec<livret_shared::dossier::Annexe>,
    ),
    Error,
> {
    let module = pdf_module().await?;
    let regular = app_file("/fonts/DejaVuSans.ttf").await?;
    let bold = app_file("/fonts/DejaVuSans-Bold.ttf").await?;
    let (json, annexes) = with_open(|r| {
        (
            livret_shared::export::export(r.dossier(), None).map_err(Error::from),
            r.dossier().annexes(),
        )
    })?;
    let json = json?;
    let text = serde_json::to_string(&json).map_err(Error::browser)?;
    let constructor: js_sys::Function = js_sys::Reflect::get(&module, &JsValue::from_str(class))
        .ok()
        .and_then(|c| wasm_bindgen::JsCast::dyn_into(c).ok())
        .ok_or_else(pdf_module_unavailable)?;
    let args: js_sys::Array = [
        JsValue::from_str(&text),
        js_sys::Uint8Array::from(regular.as_slice()).into(),
        js_sys::Uint8Array::from(bold.as_slice()).into(),
        // The livret in the language the app shows (France VAE's hand-off takes three).
        JsValue::from_bool(crate::i18n::en()),
    ]
    .iter()
    .collect();
    let object = js_sys::Reflect::construct(&constructor, &args).map_err(|e| {
        e.as_string()
            .map_or_else(pdf_module_unavailable, Error::Browser)
    })?;
    Ok((object, json, annexes))
}

/// Hands `object` each annexe it asks for (`next_annexe`, `add_annexe`), decrypted here
/// one at a time; `progress` after each, the browser given a moment to show it.
async fn feed_annexes(
    object: &JsValue,
    annexes: &[livret_shared::dossier::Annexe],
    progress: &dyn Fn(export::Progress),
) -> Result<(), Error> {
    progress(json_of(call(object, "progress", &[])?)?);
    yield_to_browser().await;
    while let Some(next) = call(object, "next_annexe", &[])?.as_string() {
        let next: export::AnnexeJson = serde_json::from_str(&next).map_err(Error::browser)?;
        let place = export::annexe_with_file(annexes, &next).map(|a| a.place);
        // A file this device cannot get now (offline, not yet sent by its author) is
        // described in the livret and reported, not a failure of the whole export.
        let file = match place {
            Some(place) => evidence_bytes(place, &|_, _| {}).await.ok().map(|(b, _)| b),
            None => None,
        };
        let file = match &file {
            Some(bytes) => js_sys::Uint8Array::from(bytes.as_slice()).into(),
            None => JsValue::UNDEFINED,
        };
        call(object, "add_annexe", &[file])?;
        progress(json_of(call(object, "progress", &[])?)?);
        yield_to_browser().await;
    }
    Ok(())
}

/// A file of the France VAE hand-off, ready to download.
#[derive(Clone, Debug, PartialEq)]
pub struct Download {
    pub url: String,
    pub name: String,
    pub size: u64,
}

/// The open dossier as France VAE takes it (`livret_shared::france_vae`), made on this
/// device by the PDF module: the dossier de validation first, then the annexes filed apart;
/// or the reasons it cannot be handed over.
pub async fn export_france_vae(
    progress: &dyn Fn(export::Progress),
) -> Result<Vec<Download>, Error> {
    let (handoff, _, annexes) = module_object("FranceVae").await?;
    feed_annexes(&handoff, &annexes, progress).await?;
    let files = call(&handoff, "finish", &[]);
    let _ = call(&handoff, "free", &[]);
    let files = js_sys::Array::from(&files?);
    let mut downloads = Vec::new();
    for file in files.iter() {
        let field = |name: &str| js_sys::Reflect::get(&file, &JsValue::from_str(name)).ok();
        let name = field("name")
            .and_then(|n| n.as_string())
            .unwrap_or_default();
        let size = field("size").and_then(|s| s.as_f64()).unwrap_or(0.0) as u64;
        let parts = js_sys::Array::from(&field("parts").unwrap_or(JsValue::UNDEFINED));
        let media_type = match name.rsplit('.').next() {
            Some("jpg") => "image/jpeg",
            Some("png") => "image/png",
            _ => "application/pdf",
        };
        downloads.push(Download {
            url: blob_url_of_parts(&parts, media_type)?,
            name,
            size,
        });
    }
    Ok(downloads)
}

/// The recovery kit `secret` as a one-page PDF, made on this device by the PDF module (in
/// English when `english`), dated today: a `blob:` address to save. The kit goes nowhere.
pub async fn recovery_kit_pdf(secret: &str, english: bool) -> Result<String, Error> {
    let module = pdf_module().await?;
    let regular = app_file("/fonts/DejaVuSans.ttf").await?;
    let bold = app_file("/fonts/DejaVuSans-Bold.ttf").await?;
    let today = livret_shared::date::Date::of_ms(now_ms() as i64);
    let date = if english {
        format!("Made on {}", today.iso())
    } else {
        format!("Fait le {}", today.in_french())
    };
    let bytes = call(
        &module,
        "recovery_kit",
        &[
            JsValue::from_str(secret),
            JsValue::from_bool(english),
            JsValue::from_str(&date),
            js_sys::Uint8Array::from(regular.as_slice()).into(),
            js_sys::Uint8Array::from(bold.as_slice()).into(),
        ],
    )?;
    let parts: js_sys::Array = std::iter::once(bytes).collect();
    blob_url_of_parts(&parts, "application/pdf")
}
