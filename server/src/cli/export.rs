//! `livret export … --pdf` and `livret dossier attach`: the livret as PDF, made on this
//! device, and evidence files added from the command line.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use livret_shared::dossier::NewAnnexe;
use livret_shared::evidence::{self, BlobId, Sealer};
use livret_shared::export::{self, AnnexeJson, DossierJson};
use livret_shared::keys::DeviceSecret;
use livret_shared::pdf_export::{FontFiles, LivretPdf, Progress};
use livret_shared::protocol::{ClientMsg, Rejection, ServerMsg};
use livret_shared::sync::Replica;
use zeroize::Zeroizing;

use livret_client::{Home, Link, parse_id, push_and_pull};

/// `livret export`'s arguments.
#[derive(clap::Args)]
pub struct ExportArgs {
    /// A dossier id on this device (its annexes fetched from its relay), or a JSON
    /// export (`dossier export --json`).
    pub dossier: String,
    /// The livret as one PDF, with every annexe as it is.
    #[arg(long, required_unless_present = "france_vae")]
    pub pdf: Option<PathBuf>,
    /// The dossier as France VAE takes it, into this folder: the dossier de validation as
    /// one PDF of at most 10 MB (annexes made lighter), the annexes that do not fit in it
    /// as at most 8 additional files of at most 10 MB each.
    #[arg(long, conflicts_with = "pdf")]
    pub france_vae: Option<PathBuf>,
    /// With a JSON export: the folder holding its annexed files (default: `annexes`
    /// beside the JSON file).
    #[arg(long, alias = "annexes")]
    pub annex_dir: Option<PathBuf>,
    /// Print the livret in English (the template's English words).
    #[arg(long, requires = "pdf")]
    pub english: bool,
}

pub async fn run(home: &Home, args: ExportArgs) -> Result<()> {
    let annexes = args.annex_dir.as_deref();
    let (json, _) = open_source(home, &args.dossier, annexes)?;
    say_what_to_check(&json);
    match (&args.pdf, &args.france_vae) {
        (_, Some(dir)) => super::france_vae::export(home, &args.dossier, dir, annexes).await,
        (Some(pdf), None) => export_pdf(home, &args.dossier, pdf, annexes, args.english).await,
        (None, None) => bail!("--pdf FICHIER ou --france-vae DOSSIER attendu"),
    }
}

/// What to look at before filing the livret (`livret_shared::checklist`), said on standard
/// error; the export goes on (a draft is legitimate).
fn say_what_to_check(json: &DossierJson) {
    let left: Vec<_> = livret_shared::checklist::before_export(json)
        .into_iter()
        .filter(|c| !c.ok)
        .collect();
    if left.is_empty() {
        return;
    }
    eprintln!("À revoir avant de déposer le livret :");
    for check in left {
        eprintln!("  - {} : {}", check.what.0, check.advice.0);
    }
}

/// The fonts embedded in every livret: shipped with Livret, never looked up on the system.
pub fn fonts() -> FontFiles {
    FontFiles {
        regular: include_bytes!("../../../app/fonts/DejaVuSans.ttf").to_vec(),
        bold: include_bytes!("../../../app/fonts/DejaVuSans-Bold.ttf").to_vec(),
    }
}

/// Where an export's annexed files come from.
pub(super) enum Files {
    /// A folder holding them by name (beside a JSON export).
    Folder(PathBuf),
    /// The dossier's own evidence, fetched from its relay and decrypted here.
    Relay {
        device: Box<DeviceSecret>,
        replica: Box<Replica>,
        relay: String,
        link: Option<Box<Link>>,
    },
}

/// The dossier to export and where its annexed files come from: `source` is a dossier id
/// on this device, or a JSON export (its annexes read from `annexes`, by default the
/// `annexes` folder beside it).
pub(super) fn open_source(
    home: &Home,
    source: &str,
    annexes: Option<&Path>,
) -> Result<(DossierJson, Files)> {
    Ok(if Path::new(source).is_file() {
        let bytes = std::fs::read(source).with_context(|| source.to_string())?;
        let json = export::parse(&bytes).map_err(|e| anyhow!("{source} : {e}"))?;
        let folder = annexes.map(Path::to_path_buf).unwrap_or_else(|| {
            Path::new(source)
                .parent()
                .unwrap_or(Path::new("."))
                .join("annexes")
        });
        (json, Files::Folder(folder))
    } else {
        if annexes.is_some() {
            bail!(
                "--annex-dir ne sert qu'avec un export JSON : les annexes d'un dossier viennent de son relais"
            );
        }
        let id = parse_id(source)?;
        let device = home.device()?;
        let mut replica = home.load(&device, &id)?;
        let json = export::export(replica.dossier(), None)?;
        (
            json,
            Files::Relay {
                device: Box::new(device),
                replica: Box::new(replica),
                relay: home.relay_of(&id)?,
                link: None,
            },
        )
    })
}

/// Writes the Livret 2 of `source` (see [`open_source`]) to `out`, in English when
/// `english`. Progress goes to standard error; the file appears whole or not at all.
pub async fn export_pdf(
    home: &Home,
    source: &str,
    out: &Path,
    annexes: Option<&Path>,
    english: bool,
) -> Result<()> {
    let (json, mut files) = open_source(home, source, annexes)?;
    let tmp = out.with_extension("pdf.tmp");
    let file = std::fs::File::create(&tmp).with_context(|| format!("{}", tmp.display()))?;
    let result = write_livret(&json, &mut files, BufWriter::new(file), english).await;
    // The temporary file is the livret in clear: it never stays behind.
    let result = result
        .and_then(|()| std::fs::rename(&tmp, out).with_context(|| format!("{}", out.display())));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

async fn write_livret(
    json: &DossierJson,
    files: &mut Files,
    out: BufWriter<std::fs::File>,
    english: bool,
) -> Result<()> {
    let mut pdf = LivretPdf::begin(json, fonts(), out, english)?;
    report(pdf.progress());
    while let Some(annexe) = pdf.next_annexe().cloned() {
        let bytes = read_annexe(files, &annexe).await?;
        pdf.add_annexe(bytes.as_deref().map(|b| b.as_slice()))?;
        report(pdf.progress());
    }
    for notice in pdf.notices() {
        eprintln!("annexe {} : {}", notice.numero, notice.message);
    }
    let mut out = pdf.finish()?;
    out.flush()?;
    out.get_ref().sync_all()?;
    Ok(())
}

pub(super) fn report(p: Progress) {
    eprintln!(
        "export : annexes {}/{} ({} %)",
        p.annexes_done,
        p.annexes_total,
        p.percent()
    );
}

/// An annexe's file, or `None` when it is not at hand (the export lists it and says so).
pub(super) async fn read_annexe(
    files: &mut Files,
    annexe: &AnnexeJson,
) -> Result<Option<Zeroizing<Vec<u8>>>> {
    match files {
        Files::Folder(folder) => {
            // The name recorded in the dossier, never a path out of the folder.
            let Some(name) = Path::new(&annexe.fichier).file_name() else {
                return Ok(None);
            };
            Ok(std::fs::read(folder.join(name)).ok().map(Zeroizing::new))
        }
        Files::Relay {
            device,
            replica,
            relay,
            link,
        } => {
            let id = replica.id;
            let annexes = replica.dossier().annexes();
            let Some(found) = export::annexe_with_file(&annexes, annexe).cloned() else {
                return Ok(None);
            };
            let Some(key) = replica.dossier().annexe_key(found.place) else {
                return Ok(None);
            };
            let blob = found.blob.expect("filtered above");
            // The count comes from the synced dossier, which any member writes: never
            // trusted for an allocation.
            if found.pieces > evidence::MAX_PIECES {
                return Ok(None);
            }
            if link.is_none() {
                *link = Some(Box::new(Link::connect(relay, device).await?));
            }
            let link = link.as_mut().expect("just connected");
            let mut pieces = Vec::with_capacity(found.pieces as usize);
            for index in 0..found.pieces {
                link.send(&ClientMsg::GetPiece {
                    dossier: id,
                    blob,
                    index,
                })
                .await?;
                let bytes = loop {
                    match link.next().await? {
                        ServerMsg::Piece {
                            blob: b,
                            index: i,
                            bytes,
                            ..
                        } if b == blob && i == index => break bytes,
                        ServerMsg::Rejected {
                            reason: Rejection::NotFound,
                            ..
                        } => return Ok(None),
                        ServerMsg::Rejected { detail, .. } => {
                            bail!("le relais a refusé l'annexe {} ({detail})", annexe.numero)
                        }
                        _ => continue,
                    }
                };
                pieces.push(bytes);
            }
            let plain = evidence::open(&key, &pieces, Some(&found.empreinte))
                .map_err(|e| anyhow!("annexe {} : {e}", annexe.numero))?;
            Ok(Some(plain))
        }
    }
}

/// Adds `file` to the dossier as its next annexe: encrypted here piece by piece, sent to
/// the relay, then described in the dossier (which is synced). Prints the annexe's number.
pub async fn dossier_attach(home: &Home, id: &str, file: &Path, titre: &str) -> Result<()> {
    let id = parse_id(id)?;
    let device = home.device()?;
    let mut replica = home.load(&device, &id)?;
    if !replica.may_write_dossier() {
        bail!("ce dossier est en lecture seule sur cet appareil");
    }
    let mut link = Link::connect(&home.relay_of(&id)?, &device).await?;
    let sent = seal_and_send(&mut link, id, file).await?;
    let numero = replica.dossier().add_annexe(sent.annexe(titre))?;
    // Kept on this device before it is sent: a failed exchange loses nothing (`sync`
    // sends it later).
    home.save(&mut replica)?;
    push_and_pull(home, &mut link, &device, &mut replica).await?;
    home.save(&mut replica)?;
    println!("{numero}");
    Ok(())
}

/// An evidence file sealed on this device and stored whole by the relay.
pub(crate) struct Sent {
    name: String,
    sealed: evidence::Sealed,
    blob: BlobId,
    key: livret_shared::evidence::EvidenceKey,
}

impl Sent {
    /// The annexe that carries it, titled `titre`.
    pub(crate) fn annexe<'a>(&'a self, titre: &'a str) -> NewAnnexe<'a> {
        NewAnnexe {
            titre,
            fichier: &self.name,
            media_type: media_type(&self.name),
            taille: self.sealed.size,
            empreinte: &self.sealed.sha256,
            blob: self.blob,
            pieces: self.sealed.pieces,
            key: &self.key,
        }
    }
}

/// Seals `file` on this device and sends it to the relay piece by piece, each piece
/// acknowledged before the next.
pub(crate) async fn seal_and_send(
    link: &mut Link,
    id: livret_shared::envelope::DossierId,
    file: &Path,
) -> Result<Sent> {
    let size = std::fs::metadata(file)
        .with_context(|| format!("{}", file.display()))?
        .len();
    if size > evidence::MAX_EVIDENCE {
        bail!(
            "{} : {}",
            file.display(),
            evidence::EvidenceError::TooLarge(size)
        );
    }
    let plain = Zeroizing::new(std::fs::read(file).with_context(|| format!("{}", file.display()))?);
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| anyhow!("{} : nom de fichier illisible", file.display()))?
        .to_string();
    let (mut sealer, key) = Sealer::new();
    let mut pieces = Vec::new();
    for chunk in plain.chunks(evidence::PIECE) {
        pieces.extend(sealer.push(chunk)?);
    }
    let (rest, sealed) = sealer.finish();
    pieces.extend(rest);
    let blob = BlobId::generate();
    let total = pieces.len();
    for (index, bytes) in pieces.into_iter().enumerate() {
        link.send(&ClientMsg::PutPiece {
            dossier: id,
            blob,
            index: index as u32,
            bytes,
            last: index + 1 == total,
        })
        .await?;
        loop {
            match link.next().await? {
                // `stored`: how many pieces the relay holds now.
                ServerMsg::PieceStored {
                    blob: b, stored, ..
                } if b == blob && stored > index as u32 => {
                    break;
                }
                ServerMsg::Rejected { detail, .. } => {
                    bail!("le relais a refusé le fichier ({detail})")
                }
                _ => continue,
            }
        }
    }
    Ok(Sent {
        name,
        sealed,
        blob,
        key,
    })
}

/// The media type a browser would give, from the file's extension.
fn media_type(name: &str) -> &'static str {
    let ext = name.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "pdf" => "application/pdf",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "svg" => "image/svg+xml",
        "txt" => "text/plain",
        _ => "application/octet-stream",
    }
}

/// Annexe `numero` of a dossier on this device, fetched from its relay and decrypted here;
/// `None` when the relay does not have its file.
pub async fn fetch_annexe(
    home: &Home,
    id: &livret_shared::envelope::DossierId,
    numero: u32,
) -> Result<Option<Zeroizing<Vec<u8>>>> {
    let device = home.device()?;
    let mut replica = home.load(&device, id)?;
    let json = export::export(replica.dossier(), None)?;
    let annexe = json
        .annexes
        .iter()
        .find(|a| a.numero == numero)
        .cloned()
        .ok_or_else(|| anyhow!("le dossier n'a pas d'annexe n° {numero}"))?;
    let mut files = Files::Relay {
        device: Box::new(device),
        replica: Box::new(replica),
        relay: home.relay_of(id)?,
        link: None,
    };
    read_annexe(&mut files, &annexe).await
}
