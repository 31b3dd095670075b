//! PDF text through pdf-extract, with its failure modes turned into [`ImportError`]s.
//!
//! pdf-extract panics on some malformed files instead of returning an error; a corrupt PDF
//! must give the user one clear line, so extraction runs under `catch_unwind` with the panic
//! message kept off stderr for this thread only.

use super::ImportError;

pub(crate) fn extract_text(bytes: &[u8]) -> Result<String, ImportError> {
    let encrypted = contains(bytes, b"/Encrypt");
    let result = quiet_catch_unwind(|| pdf_extract::extract_text_from_mem(bytes));
    let text = match result {
        Ok(Ok(text)) => text,
        Ok(Err(e)) if encrypted => {
            let _ = e;
            return Err(ImportError::EncryptedPdf);
        }
        Ok(Err(e)) => return Err(ImportError::Pdf(one_line(&e.to_string()))),
        Err(_) if encrypted => return Err(ImportError::EncryptedPdf),
        Err(message) => return Err(ImportError::Pdf(one_line(&message))),
    };
    if text.chars().filter(|c| c.is_alphabetic()).count() < 20 {
        return Err(if encrypted {
            ImportError::EncryptedPdf
        } else {
            ImportError::PdfWithoutText
        });
    }
    Ok(text)
}

fn one_line(s: &str) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.is_empty() {
        "structure invalide".into()
    } else {
        s
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(not(target_arch = "wasm32"))]
fn quiet_catch_unwind<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    use std::cell::Cell;
    use std::panic::{self, AssertUnwindSafe};
    use std::sync::Once;

    thread_local! {
        static QUIET: Cell<bool> = const { Cell::new(false) };
    }
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                previous(info);
            }
        }));
    });

    QUIET.with(|q| q.set(true));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    QUIET.with(|q| q.set(false));
    result.map_err(|payload| {
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "erreur interne du lecteur PDF".into())
    })
}

#[cfg(target_arch = "wasm32")]
fn quiet_catch_unwind<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    // panic=abort in the browser build: the app runs extraction in a worker instead.
    Ok(f())
}
