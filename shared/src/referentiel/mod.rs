//! Référentiel import: from the documents certifiers publish to [`Referentiel`].
//!
//! Three inputs, one model: text (every layout the seed documents show, see `units` and
//! `text`), PDF (text extracted with pdf-extract, then the same reader) and the France
//! Compétences RNCP XML export. Everything here works on bytes in memory: callers do the I/O.

mod check;
pub(crate) mod codes;
pub mod epreuves;
mod evidence_examples;
pub mod jury_rules;
#[cfg(feature = "pdf")]
mod layout;
mod model;
#[cfg(feature = "pdf")]
mod pdf;
mod text;
mod units;
mod xml;

pub use check::{Finding, FindingKind, check};
pub use codes::{normalise_competence_code, split_citation};
pub use epreuves::Epreuve;
pub use jury_rules::JuryRules;
pub use model::{
    Bloc, BlocKind, Competence, Criterion, Referentiel, SCHEMA_VERSION, SourceFormat, json_schema,
};
#[cfg(feature = "pdf")]
pub use pdf::text_by_pages;

/// What an import produced: the référentiel and what the reader noticed on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    pub referentiel: Referentiel,
    pub diagnostics: Vec<Diagnostic>,
}

/// Something the reader noticed and repaired or skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub kind: DiagnosticKind,
    /// A French sentence for the user.
    pub message: String,
    /// 1-based source line, when known.
    pub line: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiagnosticKind {
    /// A bloc whose heading was not found and was deduced.
    InferredBloc,
    /// A bloc heading that could not be read.
    UnreadableBlocTitle,
    /// A competency code printed outside any bloc.
    CompetenceOutsideBloc,
    /// The same code printed with two different statements.
    DivergentStatement,
}

/// Why a document could not be imported. Messages are French, one line, for the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("le fichier est vide")]
    Empty,
    #[error("aucune compétence reconnue : ce document ne semble pas être un référentiel")]
    NotAReferentiel,
    #[error("PDF illisible : {0}")]
    Pdf(String),
    #[error("PDF chiffré : retirez la protection (mot de passe) puis réessayez")]
    EncryptedPdf,
    #[error("PDF sans texte (document scanné ?) : une version texte ou XML est nécessaire")]
    PdfWithoutText,
    #[error("le support PDF n'est pas compilé dans cette version")]
    PdfUnsupported,
    #[error("XML invalide : {0}")]
    Xml(String),
    #[error("XML sans fiche RNCP (élément FICHES/FICHE attendu)")]
    NoFiche,
}

/// The kinds of input, told apart by their content rather than their file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    Pdf,
    Xml,
    Text,
}

/// Tells what `bytes` hold.
pub fn detect(bytes: &[u8]) -> InputKind {
    let start = skip_bom_and_space(bytes);
    if start.starts_with(b"%PDF") {
        InputKind::Pdf
    } else if start.starts_with(b"<?xml")
        || start.starts_with(b"<FICHES")
        || start.starts_with(b"<FICHE")
    {
        InputKind::Xml
    } else {
        InputKind::Text
    }
}

fn skip_bom_and_space(bytes: &[u8]) -> &[u8] {
    let b = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let first = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    &b[first..]
}

/// Imports any supported input. An RNCP XML file may hold several fiches: one référentiel
/// each.
pub fn import_bytes(bytes: &[u8]) -> Result<Vec<Import>, ImportError> {
    if skip_bom_and_space(bytes).is_empty() {
        return Err(ImportError::Empty);
    }
    match detect(bytes) {
        InputKind::Pdf => import_pdf(bytes).map(|i| vec![i]),
        InputKind::Xml => xml::parse(&decode_text(bytes)),
        InputKind::Text => import_text(&decode_text(bytes)).map(|i| vec![i]),
    }
}

/// Imports a référentiel from its text.
pub fn import_text(text: &str) -> Result<Import, ImportError> {
    with_whole_text(text, text::parse(text, SourceFormat::Text))
}

/// What is read from the whole document, whatever part states it: the jury's rules, the
/// épreuves and the compétences each assesses.
fn with_whole_text(text: &str, import: Result<Import, ImportError>) -> Result<Import, ImportError> {
    import.map(|mut i| {
        i.referentiel.jury = jury_rules::read(text);
        i.referentiel.epreuves = epreuves::read(text, &i.referentiel);
        evidence_examples::read(text, &mut i.referentiel);
        epreuves::drop_assessment_lines(&mut i.referentiel);
        i
    })
}

/// Imports a référentiel from a PDF file's bytes.
pub fn import_pdf(bytes: &[u8]) -> Result<Import, ImportError> {
    #[cfg(feature = "pdf")]
    {
        let text = pdf::extract_text(bytes)?;
        import_pdf_text(&text)
    }
    #[cfg(not(feature = "pdf"))]
    {
        let _ = bytes;
        Err(ImportError::PdfUnsupported)
    }
}

/// A PDF's text, as [`import_pdf`] reads it (the step that parses the PDF itself: callers
/// reading untrusted files run this one out of process, see the relay's `pdf_reader`).
#[cfg(feature = "pdf")]
pub fn pdf_text(bytes: &[u8]) -> Result<String, ImportError> {
    pdf::extract_text(bytes)
}

/// A PDF's flowing text only, without reading its ruled tables by position: what
/// [`pdf_text`] falls back to. For measuring what the table reading costs.
#[cfg(feature = "pdf")]
#[doc(hidden)]
pub fn pdf_flowing_text(bytes: &[u8]) -> Result<String, ImportError> {
    pdf::extract_flowing_text(bytes)
}

/// Imports a référentiel from the text [`pdf_text`] extracted from a PDF.
pub fn import_pdf_text(text: &str) -> Result<Import, ImportError> {
    with_whole_text(text, text::parse(text, SourceFormat::Pdf))
}

/// Imports every fiche of an RNCP XML export.
pub fn import_rncp_xml(text: &str) -> Result<Vec<Import>, ImportError> {
    xml::parse(text)
}

/// UTF-8 when it is, Windows-1252 otherwise (what older word processors export).
pub fn decode_text(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => bytes.iter().map(|&b| windows_1252(b)).collect(),
    }
}

fn windows_1252(b: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž',
        '\u{8f}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}',
        'ž', 'Ÿ',
    ];
    match b {
        0x80..=0x9f => HIGH[(b - 0x80) as usize],
        _ => b as char,
    }
}
