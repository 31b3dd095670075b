//! PDF text through pdf-extract, with its failure modes turned into [`ImportError`]s.
//!
//! pdf-extract panics on some malformed files instead of returning an error; a corrupt PDF
//! must give the user one clear line, so extraction runs under `catch_unwind` with the panic
//! message kept off stderr for this thread only.

use super::ImportError;

/// The text the référentiel reader works on: the PDF's ruled tables read by their cells
/// (`layout`) when it has some, its flowing text otherwise — both from one walk.
pub(crate) fn extract_text(bytes: &[u8]) -> Result<String, ImportError> {
    let walked = checked(bytes, quiet_catch_unwind(|| super::layout::walk(bytes)))?;
    // Reading the tables failing for any reason leaves the flowing text to read.
    let tables = quiet_catch_unwind(|| super::layout::tables_as_text(&walked))
        .ok()
        .flatten();
    Ok(without_ligatures(&tables.unwrap_or(walked.flowing)))
}

/// pdf-extract's flowing text alone (what [`extract_text`] falls back to).
pub(crate) fn extract_flowing_text(bytes: &[u8]) -> Result<String, ImportError> {
    let result = quiet_catch_unwind(|| {
        pdf_extract::extract_text_from_mem(bytes).map(|flowing| super::layout::Walked {
            flowing,
            pages: Vec::new(),
        })
    });
    Ok(checked(bytes, result)?.flowing)
}

/// A walk's failures as [`ImportError`]s: a panic or an error of a file that says it is
/// encrypted is an encrypted file; a file without 20 letters of text has none to read.
fn checked(
    bytes: &[u8],
    result: Result<Result<super::layout::Walked, pdf_extract::OutputError>, String>,
) -> Result<super::layout::Walked, ImportError> {
    let encrypted = contains(bytes, b"/Encrypt");
    let walked = match result {
        Ok(Ok(walked)) => walked,
        Ok(Err(_)) | Err(_) if encrypted => return Err(ImportError::EncryptedPdf),
        Ok(Err(e)) => return Err(ImportError::Pdf(one_line(&e.to_string()))),
        Err(message) => return Err(ImportError::Pdf(one_line(&message))),
    };
    if walked.flowing.chars().filter(|c| c.is_alphabetic()).count() < 20 {
        return Err(if encrypted {
            ImportError::EncryptedPdf
        } else {
            ImportError::PdfWithoutText
        });
    }
    Ok(walked)
}

/// Typographic ligatures (ﬁ, ﬂ, ﬀ…) as the letters they join: PDFs made by browsers and
/// desktop publishing show them, and « aﬁn » must read, search and compare as « afin ».
pub(crate) fn without_ligatures(text: &str) -> String {
    if !text.contains(|c| ('\u{fb00}'..='\u{fb06}').contains(&c)) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\u{fb00}' => out.push_str("ff"),
            '\u{fb01}' => out.push_str("fi"),
            '\u{fb02}' => out.push_str("fl"),
            '\u{fb03}' => out.push_str("ffi"),
            '\u{fb04}' => out.push_str("ffl"),
            '\u{fb05}' | '\u{fb06}' => out.push_str("st"),
            c => out.push(c),
        }
    }
    out
}

/// A PDF's text page by page (a juror anchors an annotation on evidence by page and
/// quote); a malformed file gives an error, never a panic.
pub fn text_by_pages(bytes: &[u8]) -> Result<Vec<String>, ImportError> {
    let read = |bytes: &[u8]| match quiet_catch_unwind(|| {
        pdf_extract::extract_text_from_mem_by_pages(bytes)
    }) {
        Ok(Ok(pages)) => Ok(pages),
        Ok(Err(e)) => Err(ImportError::Pdf(one_line(&e.to_string()))),
        Err(message) => Err(ImportError::Pdf(one_line(&message))),
    };
    let pages = read(bytes)?;
    let pages = if pages.iter().all(|p| !p.trim().is_empty()) {
        pages
    } else {
        match with_plain_text_operators(bytes) {
            Some(rewritten) => read(&rewritten)?,
            None => pages,
        }
    };
    Ok(pages.iter().map(|p| without_ligatures(p)).collect())
}

/// pdf-extract reads the text a page shows with `Tj` and `TJ`, but not with `'` and `"`
/// (move to the next line, then show): a page written with those reads empty although a
/// viewer shows its words. They are rewritten as their equivalents (`T*` then `Tj`; `"` also
/// sets the word and character spacing) in a copy of the file. `None`: nothing to rewrite.
fn with_plain_text_operators(bytes: &[u8]) -> Option<Vec<u8>> {
    use lopdf::content::{Content, Operation};
    let mut doc = lopdf::Document::load_mem(bytes).ok()?;
    let mut changed = false;
    for page in doc.get_pages().into_values() {
        let Ok(content) = doc.get_and_decode_page_content(page) else {
            continue;
        };
        if !content
            .operations
            .iter()
            .any(|op| op.operator == "'" || op.operator == "\"")
        {
            continue;
        }
        let mut operations = Vec::with_capacity(content.operations.len() + 8);
        for op in content.operations {
            match (op.operator.as_str(), op.operands.as_slice()) {
                ("'", [text]) => {
                    operations.push(Operation::new("T*", vec![]));
                    operations.push(Operation::new("Tj", vec![text.clone()]));
                }
                ("\"", [word, character, text]) => {
                    operations.push(Operation::new("Tw", vec![word.clone()]));
                    operations.push(Operation::new("Tc", vec![character.clone()]));
                    operations.push(Operation::new("T*", vec![]));
                    operations.push(Operation::new("Tj", vec![text.clone()]));
                }
                _ => operations.push(op),
            }
        }
        let encoded = Content { operations }.encode().ok()?;
        doc.change_page_content(page, encoded).ok()?;
        changed = true;
    }
    if !changed {
        return None;
    }
    let mut out = Vec::new();
    doc.save_to(&mut out).ok()?;
    Some(out)
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

#[cfg(test)]
mod tests {
    /// A PDF that shows its lines with the `'` operator (the sample annexe is written so)
    /// reads page by page, each page its own words.
    #[test]
    fn pages_shown_with_the_quote_operator_read_by_page() {
        let bytes =
            include_bytes!("../../../fixtures/dossiers/annexes/attestation-formation-rgpd.pdf");
        let pages = super::text_by_pages(bytes).unwrap();
        assert_eq!(pages.len(), 2);
        let words = |p: &str| p.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            words(&pages[0]).contains("analyse d'impact, pseudonymisation des jeux de données."),
            "{pages:?}"
        );
        assert!(
            words(&pages[1]).contains("pseudonymisation d'un jeu de courriers numérisés"),
            "{pages:?}"
        );
        assert!(!words(&pages[0]).contains("courriers"));
    }
}
