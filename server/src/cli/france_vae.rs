//! `livret export ID --france-vae DIR`: the dossier as France VAE takes it
//! (`livret_shared::france_vae`). Each annexe is fetched, checked and made lighter once,
//! kept in a working folder inside DIR (removed whatever happens: it holds the evidence in
//! clear); the livret is written with those that fit and its size checked — one too large
//! sends its largest annexe apart and is written again; then the files take their names.
//! Nothing is left in DIR when the dossier cannot be handed over: every reason is said.

use std::collections::BTreeSet;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use livret_shared::export::{AnnexeJson, DossierJson};
use livret_shared::france_vae::{self, Candidate, MAIN_FILE, MAX_BYTES, Place, Unfit, megabytes};
use livret_shared::pdf_export::reduce::{self, Kind};
use livret_shared::pdf_export::{AnnexeFile, LivretPdf};
use sha2::Digest;

use super::export::{Files, fonts, open_source, read_annexe, report};
use livret_client::Home;

/// The working folder's name inside DIR.
const WORK: &str = ".livret-en-cours";

/// Removes the working folder when dropped: it holds annexes in clear.
struct Work(PathBuf);

impl Drop for Work {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// An annexe once fetched and made lighter.
struct Prepared {
    annexe: AnnexeJson,
    /// The file to print or file apart (in the working folder); `None`: not at hand.
    file: Option<PathBuf>,
    bytes: u64,
    kind: Kind,
    /// Made lighter (the livret's caption says so).
    reduced: bool,
}

pub async fn export(home: &Home, source: &str, dir: &Path, annexes: Option<&Path>) -> Result<()> {
    let (json, mut files) = open_source(home, source, annexes)?;
    std::fs::create_dir_all(dir).with_context(|| format!("{}", dir.display()))?;
    let work = Work(dir.join(WORK));
    let _ = std::fs::remove_dir_all(&work.0);
    std::fs::create_dir_all(&work.0).with_context(|| format!("{}", work.0.display()))?;
    let prepared = prepare(&json, &mut files, &work.0).await?;
    let candidates: Vec<Candidate> = prepared
        .iter()
        .map(|p| Candidate {
            numero: p.annexe.numero,
            titre: p.annexe.titre.clone(),
            fichier: p.annexe.fichier.clone(),
            bytes: p.bytes,
            kind: if p.file.is_some() { p.kind } else { Kind::Pdf },
        })
        .collect();
    // The livret without any annexe printed: what the plan starts from.
    let every_apart: Vec<Place> = prepared
        .iter()
        .map(|_| Place::Apart(String::new()))
        .collect();
    let body = write_main(&json, &prepared, &every_apart, &work.0.join("corps.pdf"))?;
    let mut apart: BTreeSet<u32> = BTreeSet::new();
    let main = work.0.join(MAIN_FILE);
    let (places, main_bytes) = loop {
        let places = france_vae::plan(body, &candidates, &apart).map_err(|u| unfit(&u))?;
        let written = write_main(&json, &prepared, &places, &main)?;
        if written <= MAX_BYTES {
            break (places, written);
        }
        // Larger than planned: its largest printed annexe goes apart, and again.
        let largest = prepared
            .iter()
            .zip(&places)
            .filter(|(p, place)| **place == Place::Main && p.file.is_some())
            .max_by_key(|(p, _)| p.bytes)
            .map(|(p, _)| p.annexe.numero);
        match largest {
            Some(numero) => {
                apart.insert(numero);
            }
            None => bail!(
                "le dossier de validation sans annexe pèse déjà {} : plus que les 10 Mo \
                 permis",
                megabytes(written)
            ),
        }
    };
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
        megabytes(main_bytes),
        if printed.is_empty() {
            "aucune".to_string()
        } else {
            printed.join(", ")
        }
    );
    for (p, place) in prepared.iter().zip(&places) {
        let (Place::Apart(name), Some(file)) = (place, &p.file) else {
            continue;
        };
        std::fs::rename(file, dir.join(name))
            .with_context(|| format!("{}", dir.join(name).display()))?;
        let lighter = if p.reduced {
            format!(" (allégée, {} à l'origine)", megabytes(p.annexe.taille))
        } else {
            String::new()
        };
        println!(
            "{name}\t{}\tannexe {}{lighter}",
            megabytes(p.bytes),
            p.annexe.numero
        );
    }
    for p in prepared.iter().filter(|p| p.file.is_none()) {
        println!(
            "annexe {} ({}) : fichier absent, seulement décrite dans le dossier",
            p.annexe.numero, p.annexe.fichier
        );
    }
    Ok(())
}

/// Each annexe fetched, checked against its fingerprint and kept in `work`; then, when all
/// are in formats the platform takes, each made lighter in turn (one in memory at a time).
async fn prepare(json: &DossierJson, files: &mut Files, work: &Path) -> Result<Vec<Prepared>> {
    let mut annexes = json.annexes.clone();
    annexes.sort_by_key(|a| a.numero);
    let total = annexes.len();
    let mut prepared = Vec::with_capacity(total);
    let mut formats = Vec::new();
    for annexe in annexes {
        let original = read_annexe(files, &annexe).await?.filter(|bytes| {
            hex::encode(sha2::Sha256::digest(bytes.as_slice())) == annexe.empreinte
        });
        let Some(original) = original else {
            eprintln!("France VAE : annexe {} absente ou altérée", annexe.numero);
            prepared.push(Prepared {
                annexe,
                file: None,
                bytes: 0,
                kind: Kind::Other,
                reduced: false,
            });
            continue;
        };
        let kind = Kind::of(&original);
        if kind == Kind::Other {
            formats.push(Unfit::Format {
                numero: annexe.numero,
                fichier: annexe.fichier.clone(),
            });
        }
        let path = work.join(format!("{:04}", annexe.numero));
        std::fs::write(&path, original.as_slice())
            .with_context(|| format!("{}", path.display()))?;
        prepared.push(Prepared {
            annexe,
            file: Some(path),
            bytes: original.len() as u64,
            kind,
            reduced: false,
        });
    }
    // Refused before the long work, when it would be refused after it anyway.
    if !formats.is_empty() {
        return Err(unfit(&formats));
    }
    for (i, p) in prepared.iter_mut().enumerate() {
        let Some(path) = &p.file else {
            continue;
        };
        let original = std::fs::read(path).with_context(|| format!("{}", path.display()))?;
        let lighter = reduce::reduce(&original);
        if lighter.changed {
            std::fs::write(path, &lighter.bytes).with_context(|| format!("{}", path.display()))?;
        }
        eprintln!(
            "France VAE : annexe {}/{total} prête ({} → {})",
            i + 1,
            megabytes(original.len() as u64),
            megabytes(lighter.bytes.len() as u64)
        );
        p.bytes = lighter.bytes.len() as u64;
        p.kind = lighter.kind;
        p.reduced = lighter.changed;
    }
    Ok(prepared)
}

/// The refusal, every reason said.
fn unfit(reasons: &[Unfit]) -> anyhow::Error {
    let lines: Vec<String> = reasons.iter().map(|u| format!("  - {u}")).collect();
    anyhow::anyhow!(
        "le dossier ne tient pas dans ce que France VAE accepte (un fichier de 10 Mo au plus, \
         et 8 fichiers complémentaires, en PDF, JPG ou PNG) :\n{}",
        lines.join("\n")
    )
}

/// Writes the livret to `out` with each annexe where `places` says; answers its size.
fn write_main(
    json: &DossierJson,
    prepared: &[Prepared],
    places: &[Place],
    out: &Path,
) -> Result<u64> {
    let file = std::fs::File::create(out).with_context(|| format!("{}", out.display()))?;
    let mut pdf = LivretPdf::begin(json, fonts(), BufWriter::new(file))?;
    for (p, place) in prepared.iter().zip(places) {
        match (place, &p.file) {
            (Place::Apart(name), _) => pdf.add_annexe_as(AnnexeFile::Apart(name))?,
            (Place::Main, Some(path)) => {
                let bytes = std::fs::read(path).with_context(|| format!("{}", path.display()))?;
                pdf.add_annexe_as(if p.reduced {
                    AnnexeFile::Reduced(&bytes)
                } else {
                    AnnexeFile::Original(&bytes)
                })?;
            }
            (Place::Main, None) => pdf.add_annexe_as(AnnexeFile::Missing)?,
        }
        report(pdf.progress());
    }
    let mut out_file = pdf.finish()?;
    out_file.flush()?;
    out_file.get_ref().sync_all()?;
    Ok(std::fs::metadata(out)?.len())
}
