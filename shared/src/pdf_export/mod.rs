//! The Livret 2 as a PDF, made on the device: natively in the CLI, in wasm in the app,
//! by the same code. Nothing here reads files or the clock: fonts and annexed files come in
//! as bytes, the PDF goes out to any `Write`.
//!
//! Written on lopdf's object model (already used to read référentiels) with our own layout,
//! after measuring the alternatives (BENCHMARKS.md, « PDF engines »).

mod annex;
mod font;
mod jury;
mod kit;
mod layout;
mod livret;
pub mod reduce;
mod writer;

pub use crate::export::{Notice, Progress};
pub use jury::{
    EvidenceLabels, grille_de_travail, grille_officielle, proces_verbal, session_of_one,
};
pub use kit::recovery_kit;
pub use livret::{AnnexeFile, FontFiles, LivretPdf};

/// An output in memory, in chunks of 1 MiB: it grows without ever copying what it holds
/// (a `Vec` doubling its capacity holds up to twice the PDF for a moment), and its chunks go
/// to the browser one by one as the parts of a Blob.
#[derive(Default)]
pub struct Chunks {
    chunks: Vec<Vec<u8>>,
}

const CHUNK: usize = 1 << 20;

impl Chunks {
    pub fn len(&self) -> usize {
        self.chunks.iter().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn into_chunks(self) -> Vec<Vec<u8>> {
        self.chunks
    }
}

impl std::io::Write for Chunks {
    fn write(&mut self, mut buf: &[u8]) -> std::io::Result<usize> {
        let written = buf.len();
        while !buf.is_empty() {
            if self.chunks.last().is_none_or(|c| c.len() == CHUNK) {
                self.chunks.push(Vec::with_capacity(CHUNK));
            }
            let last = self.chunks.last_mut().expect("pushed above");
            let take = (CHUNK - last.len()).min(buf.len());
            last.extend_from_slice(&buf[..take]);
            buf = &buf[take..];
        }
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Reads `data` as an annexed file every way the export does (sorted by content, a PDF's
/// pages and the objects they reach, an image's header and rows); for the fuzzer and the
/// test that replays what it kept. Must return, whatever the bytes.
pub fn read_annexe_bytes(data: &[u8]) -> usize {
    match annex::classify(data) {
        annex::Printable::Pdf => annex::import_pdf(data).map_or(0, |pdf| pdf.objects.len()),
        annex::Printable::Image(image) => image.pixels.0 as usize,
        annex::Printable::Listed(_) => 0,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PdfExportError {
    #[error("police illisible : {0}")]
    Font(String),
    #[error("écriture du PDF impossible : {0}")]
    Io(#[from] std::io::Error),
    #[error("le candidat était absent : il n'a pas de grille d'évaluation")]
    Absent,
}

#[cfg(test)]
mod tests;
