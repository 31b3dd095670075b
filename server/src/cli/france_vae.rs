//! `livret export ID --france-vae DIR`: the dossier as France VAE takes it
//! (`livret_shared::france_vae`, whose steps this drives). Each annexe is fetched, checked
//! and kept in a working folder inside DIR (removed whatever happens: it holds the evidence
//! in clear); a format the platform does not take is refused before the long work; each
//! annexe is then made lighter in turn; the dossier de validation is written and checked;
//! the files take their names. Nothing is left in DIR when the dossier cannot be handed
//! over: every reason is said.

use std::io::BufWriter;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use livret_shared::export::{DossierJson, megabytes};
use livret_shared::france_vae::{self, HandoffError, Kept, MAIN_FILE, Place, Prepared, unfit_text};

use super::export::{Files, fonts, open_source, read_annexe, report};
use livret_client::Home;

/// The working folder's name inside DIR.
const WORK: &str = ".livret-en-cours";

/// The working folder, removed when dropped: it holds annexes in clear.
struct Work(PathBuf);

impl Work {
    /// Where the annexe at `place` (its position) is kept.
    fn annexe(&self, place: usize) -> PathBuf {
        self.0.join(format!("{place:04}"))
    }
}

impl Drop for Work {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Kept for Work {
    fn bytes(&mut self, place: usize) -> std::io::Result<Vec<u8>> {
        std::fs::read(self.annexe(place))
    }
}

pub async fn export(home: &Home, source: &str, dir: &Path, annexes: Option<&Path>) -> Result<()> {
    let (json, mut files) = open_source(home, source, annexes)?;
    std::fs::create_dir_all(dir).with_context(|| format!("{}", dir.display()))?;
    let mut work = Work(dir.join(WORK));
    let _ = std::fs::remove_dir_all(&work.0);
    std::fs::create_dir_all(&work.0).with_context(|| format!("{}", work.0.display()))?;
    let prepared = prepare(&json, &mut files, &work).await?;
    let main = work.0.join(MAIN_FILE);
    let written = france_vae::write_dossier(
        &json,
        &fonts,
        &prepared,
        &mut work,
        &mut || std::fs::File::create(&main).map(BufWriter::new),
        &mut report,
    );
    let (out, size, places) = match written {
        Ok(written) => written,
        Err(HandoffError::Unfit(reasons)) => return Err(anyhow!(unfit_text(&reasons))),
        Err(e) => return Err(e.into()),
    };
    let file = out.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    // Everything fits: the files take their names.
    std::fs::rename(&main, dir.join(MAIN_FILE))
        .with_context(|| format!("{}", dir.join(MAIN_FILE).display()))?;
    let printed: Vec<String> = prepared
        .iter()
        .zip(&places)
        .filter(|(_, place)| **place == Place::Main)
        .map(|(p, _)| p.annexe.numero.to_string())
        .collect();
    println!(
        "{MAIN_FILE}\t{}\tannexes imprimées : {}",
        megabytes(size),
        if printed.is_empty() {
            "aucune".to_string()
        } else {
            printed.join(", ")
        }
    );
    for (at, (p, place)) in prepared.iter().zip(&places).enumerate() {
        let (Place::Apart(name), Some(bytes)) = (place, p.bytes) else {
            continue;
        };
        std::fs::rename(work.annexe(at), dir.join(name))
            .with_context(|| format!("{}", dir.join(name).display()))?;
        let lighter = if p.reduced {
            format!(" (allégée, {} à l'origine)", megabytes(p.annexe.taille))
        } else {
            String::new()
        };
        println!(
            "{name}\t{}\tannexe {}{lighter}",
            megabytes(bytes),
            p.annexe.numero
        );
    }
    for p in prepared.iter().filter(|p| p.bytes.is_none()) {
        println!(
            "annexe {} ({}) : fichier absent, seulement décrite dans le dossier",
            p.annexe.numero, p.annexe.fichier
        );
    }
    Ok(())
}

/// Each annexe fetched, checked and kept in `work`; then, when all are in formats the
/// platform takes, each made lighter in turn (one in memory at a time).
async fn prepare(json: &DossierJson, files: &mut Files, work: &Work) -> Result<Vec<Prepared>> {
    let mut annexes = json.annexes.clone();
    annexes.sort_by_key(|a| a.numero);
    let total = annexes.len();
    let mut prepared = Vec::with_capacity(total);
    for (at, annexe) in annexes.into_iter().enumerate() {
        let original = read_annexe(files, &annexe).await?;
        let checked = france_vae::check(&annexe, original.as_deref().map(Vec::as_slice));
        match (&original, checked.bytes) {
            (Some(bytes), Some(_)) => {
                let path = work.annexe(at);
                std::fs::write(&path, bytes.as_slice())
                    .with_context(|| format!("{}", path.display()))?;
            }
            _ => eprintln!("France VAE : annexe {} absente ou altérée", annexe.numero),
        }
        prepared.push(checked);
    }
    // Refused before the long work, when it would be refused after it anyway.
    let formats = france_vae::formats(&prepared);
    if !formats.is_empty() {
        return Err(anyhow!(unfit_text(&formats)));
    }
    for (i, p) in prepared.iter_mut().enumerate() {
        if p.bytes.is_none() {
            continue;
        }
        let path = work.annexe(i);
        let original = std::fs::read(&path).with_context(|| format!("{}", path.display()))?;
        if let Some(lighter) = france_vae::lighten(p, &original) {
            std::fs::write(&path, lighter).with_context(|| format!("{}", path.display()))?;
        }
        eprintln!(
            "France VAE : annexe {}/{total} prête ({} → {})",
            i + 1,
            megabytes(original.len() as u64),
            megabytes(p.bytes.unwrap_or(0))
        );
    }
    Ok(prepared)
}
