//! The Livret 2 as a PDF, made on the device: natively in the CLI, in wasm in the app,
//! by the same code. Nothing here reads files or the clock: fonts and annexed files come in
//! as bytes, the PDF goes out to any `Write`.
//!
//! Written on lopdf's object model (already used to read référentiels) with our own layout,
//! after measuring the alternatives (BENCHMARKS.md, « PDF engines »).

mod annex;
mod font;
mod layout;
mod livret;
mod writer;

pub use livret::{FontFiles, LivretPdf, Notice, Progress};

#[derive(Debug, thiserror::Error)]
pub enum PdfExportError {
    #[error("police illisible : {0}")]
    Font(String),
    #[error("écriture du PDF impossible : {0}")]
    Io(#[from] std::io::Error),
}

#[cfg(test)]
mod tests;
