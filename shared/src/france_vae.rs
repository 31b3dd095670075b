//! The hand-off to France VAE, the platform candidates file on: the dossier de validation as
//! one file of at most 10 MB, and at most 8 additional files of at most 10 MB each, in PDF,
//! JPG or PNG. Which annexe goes where is decided here, without I/O: the livret with as many
//! annexes as fit (the smallest first), the others filed apart, named and numbered as in
//! the livret. The driver (the CLI, the app) makes the annexes lighter first
//! (`pdf_export::reduce`), writes the livret, and checks its size.

use std::collections::BTreeSet;
use std::io::Write;

use sha2::Digest;

use crate::export::{AnnexeJson, DossierJson, megabytes, megabytes_in_english};
use crate::pdf_export::reduce::{self, Kind};
use crate::pdf_export::{AnnexeFile, FontFiles, LivretPdf, PdfExportError, Progress};

/// The largest file the platform takes (10 MB, counted in the smaller of the two ways).
pub const MAX_BYTES: u64 = 10_000_000;

/// Additional files the platform takes beside the dossier de validation.
pub const MAX_APART: usize = 8;

/// The dossier de validation's file name.
pub const MAIN_FILE: &str = "dossier-de-validation.pdf";

/// What a caption page costs the livret, about: its text, in the fonts already embedded.
pub const CAPTION_BYTES: u64 = 6_000;

/// An annexe as the plan sees it: made lighter already.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub numero: u32,
    pub titre: String,
    /// Its original file's name (said when it cannot be filed).
    pub fichier: String,
    pub bytes: u64,
    pub kind: Kind,
}

/// Where an annexe goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// Printed in the dossier de validation.
    Main,
    /// Filed apart under this name.
    Apart(String),
}

/// Why the dossier cannot be handed over as the platform takes it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unfit {
    #[error(
        "le dossier sans ses annexes pèse déjà {} : plus que les 10 Mo permis",
        megabytes(*bytes)
    )]
    BodyTooLarge { bytes: u64 },
    #[error(
        "annexe {numero} ({titre}) : {} même allégée, plus que les 10 Mo permis pour un fichier ; \
         scindez-la en plusieurs annexes",
        megabytes(*bytes)
    )]
    TooLarge {
        numero: u32,
        titre: String,
        bytes: u64,
    },
    #[error(
        "annexe {numero} ({fichier}) : format que France VAE ne prend pas (PDF, JPG ou PNG) ; \
         enregistrez-la en PDF"
    )]
    Format { numero: u32, fichier: String },
    #[error(
        "annexes {} : au-delà des 8 fichiers complémentaires permis ; regroupez des annexes \
         dans un même PDF",
        numeros.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
    )]
    TooMany { numeros: Vec<u32> },
}

impl Unfit {
    /// The same reason in English (the app speaks the user's language).
    pub fn in_english(&self) -> String {
        match self {
            Unfit::BodyTooLarge { bytes } => format!(
                "the dossier without its annexes already weighs {}: more than the 10 MB allowed",
                megabytes_in_english(*bytes)
            ),
            Unfit::TooLarge {
                numero,
                titre,
                bytes,
            } => format!(
                "annexe {numero} ({titre}): {} even lightened, more than the 10 MB allowed for \
                 one file; split it into several annexes",
                megabytes_in_english(*bytes)
            ),
            Unfit::Format { numero, fichier } => format!(
                "annexe {numero} ({fichier}): a format France VAE does not take (PDF, JPG or \
                 PNG); save it as PDF"
            ),
            Unfit::TooMany { numeros } => format!(
                "annexes {}: beyond the 8 additional files allowed; gather annexes into one PDF",
                numeros
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

/// Where each annexe goes (in their order): in the livret as many as the room left allows
/// (`body`: the livret's size without annexes) — the smallest first, so that as few as
/// possible go apart — the others apart, and always those at the positions in `apart` (the
/// driver's next try when the livret came out larger than planned). Every reason the
/// dossier cannot be handed over, when it cannot. Annexes are told apart by their position:
/// two devices offline may have given two of them one number, for a while.
pub fn plan(
    body: u64,
    annexes: &[Candidate],
    apart: &BTreeSet<usize>,
) -> Result<Vec<Place>, Vec<Unfit>> {
    let captions = CAPTION_BYTES * annexes.len() as u64;
    let mut unfit = Vec::new();
    if body + captions > MAX_BYTES {
        unfit.push(Unfit::BodyTooLarge { bytes: body });
    }
    let mut room = MAX_BYTES.saturating_sub(body + captions);
    // The printed ones: smallest first while they fit.
    let mut by_size: Vec<(usize, &Candidate)> = annexes
        .iter()
        .enumerate()
        .filter(|(at, a)| a.kind.extension().is_some() && !apart.contains(at))
        .collect();
    by_size.sort_by_key(|(at, a)| (a.bytes, *at));
    let mut printed = BTreeSet::new();
    for (at, a) in by_size {
        if a.bytes > room {
            break;
        }
        room -= a.bytes;
        printed.insert(at);
    }
    let mut places = Vec::with_capacity(annexes.len());
    let mut beyond = Vec::new();
    let mut filed_apart = 0;
    let mut names = BTreeSet::new();
    for (at, a) in annexes.iter().enumerate() {
        let Some(extension) = a.kind.extension() else {
            unfit.push(Unfit::Format {
                numero: a.numero,
                fichier: a.fichier.clone(),
            });
            places.push(Place::Main);
            continue;
        };
        if printed.contains(&at) {
            places.push(Place::Main);
            continue;
        }
        if a.bytes > MAX_BYTES {
            unfit.push(Unfit::TooLarge {
                numero: a.numero,
                titre: a.titre.clone(),
                bytes: a.bytes,
            });
        } else if filed_apart == MAX_APART {
            beyond.push(a.numero);
        } else {
            filed_apart += 1;
        }
        // Two annexes of one number and title (made offline on two devices) get two names.
        let mut name = apart_name(a.numero, &a.titre, extension);
        let mut again = 1;
        while !names.insert(name.clone()) {
            again += 1;
            let stem = name.trim_end_matches(&format!(".{extension}")).to_string();
            name = format!("{stem}-{again}.{extension}");
        }
        places.push(Place::Apart(name));
    }
    if !beyond.is_empty() {
        unfit.push(Unfit::TooMany { numeros: beyond });
    }
    if unfit.is_empty() {
        Ok(places)
    } else {
        Err(unfit)
    }
}

/// An additional file's name: `annexe-07-attestation-de-formation.pdf` — numbered as in the
/// livret, titled in plain letters (what any system and the platform take).
pub fn apart_name(numero: u32, titre: &str, extension: &str) -> String {
    let mut slug = String::new();
    for c in crate::search::folded(titre).chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
        if slug.len() >= 48 {
            break;
        }
    }
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() {
        format!("annexe-{numero:02}.{extension}")
    } else {
        format!("annexe-{numero:02}-{slug}.{extension}")
    }
}

/// An annexe on its way to the platform, as the driver keeps it between the steps below.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    pub annexe: AnnexeJson,
    /// The size of the bytes kept for it; `None`: its file was not at hand, or not the one
    /// the dossier recorded (then only described).
    pub bytes: Option<u64>,
    pub kind: Kind,
    /// The bytes kept are a lighter copy.
    pub reduced: bool,
}

/// The first step, for each annexe in number order: its file (`None`: not at hand) checked
/// against the fingerprint the dossier recorded and sorted by content. The driver keeps
/// the file when `bytes` is set.
pub fn check(annexe: &AnnexeJson, original: Option<&[u8]>) -> Prepared {
    let genuine =
        original.filter(|bytes| hex::encode(sha2::Sha256::digest(bytes)) == annexe.empreinte);
    Prepared {
        annexe: annexe.clone(),
        bytes: genuine.map(|b| b.len() as u64),
        kind: genuine.map_or(Kind::Other, Kind::of),
        reduced: false,
    }
}

/// The annexes whose format the platform does not take: refused before the long work.
pub fn formats(prepared: &[Prepared]) -> Vec<Unfit> {
    prepared
        .iter()
        .filter(|p| p.bytes.is_some() && p.kind == Kind::Other)
        .map(|p| Unfit::Format {
            numero: p.annexe.numero,
            fichier: p.annexe.fichier.clone(),
        })
        .collect()
}

/// The second step, for each annexe kept: made lighter (`pdf_export::reduce`); answers
/// the bytes to keep instead, `None` when they are the same.
pub fn lighten(prepared: &mut Prepared, original: &[u8]) -> Option<Vec<u8>> {
    let lighter = reduce::reduce(original);
    prepared.bytes = Some(lighter.bytes.len() as u64);
    prepared.kind = lighter.kind;
    prepared.reduced = lighter.changed;
    lighter.changed.then_some(lighter.bytes)
}

/// Where the driver keeps the annexes' bytes between the steps (a working folder, memory).
pub trait Kept {
    /// The bytes kept for the annexe at `place` in the prepared list (its position, not its
    /// number: two devices offline may have given two annexes one number, for a while).
    fn bytes(&mut self, place: usize) -> std::io::Result<Vec<u8>>;
}

/// An output that counts what is written to it (the livret's size, without asking a file).
pub struct Counted<W> {
    pub inner: W,
    pub written: u64,
}

impl<W: Write> Write for Counted<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Why the dossier de validation could not be written.
#[derive(Debug, thiserror::Error)]
pub enum HandoffError {
    /// It cannot fit: every reason.
    #[error("{}", unfit_text(.0))]
    Unfit(Vec<Unfit>),
    #[error(transparent)]
    Pdf(#[from] PdfExportError),
    #[error("annexe conservée illisible : {0}")]
    Kept(#[from] std::io::Error),
}

/// The refusal, every reason on its line.
pub fn unfit_text(reasons: &[Unfit]) -> String {
    let lines: Vec<String> = reasons.iter().map(|u| format!("  - {u}")).collect();
    format!(
        "le dossier ne tient pas dans ce que France VAE accepte (un fichier de 10 Mo au plus, \
         et 8 fichiers complémentaires, en PDF, JPG ou PNG) :\n{}",
        lines.join("\n")
    )
}

/// The refusal in English, every reason on its line.
pub fn unfit_text_in_english(reasons: &[Unfit]) -> String {
    let lines: Vec<String> = reasons
        .iter()
        .map(|u| format!("  - {}", u.in_english()))
        .collect();
    format!(
        "the dossier does not fit what France VAE accepts (one file of at most 10 MB, and 8 \
         additional files, as PDF, JPG or PNG):\n{}",
        lines.join("\n")
    )
}

/// The last step: the dossier de validation written to a new output each try (`out`),
/// with as many annexes as fit ([`plan`]); one that comes out over 10 MB sends its largest
/// printed annexe apart and is written again. Answers the output, its size and where each
/// annexe went; `progress` hears of each annexe written.
pub fn write_dossier<W: Write>(
    json: &DossierJson,
    fonts: &dyn Fn() -> FontFiles,
    prepared: &[Prepared],
    kept: &mut dyn Kept,
    out: &mut dyn FnMut() -> std::io::Result<W>,
    progress: &mut dyn FnMut(Progress),
) -> Result<(W, u64, Vec<Place>), HandoffError> {
    let candidates: Vec<Candidate> = prepared
        .iter()
        .map(|p| Candidate {
            numero: p.annexe.numero,
            titre: p.annexe.titre.clone(),
            fichier: p.annexe.fichier.clone(),
            bytes: p.bytes.unwrap_or(0),
            // Not at hand: described in the livret, whatever its format.
            kind: if p.bytes.is_some() { p.kind } else { Kind::Pdf },
        })
        .collect();
    // The livret without any annexe printed: what the plan starts from.
    let every_apart: Vec<Place> = prepared
        .iter()
        .map(|_| Place::Apart(String::new()))
        .collect();
    let (_, body) = write_once(
        json,
        fonts,
        prepared,
        &every_apart,
        kept,
        out()?,
        &mut |_| {},
    )?;
    let mut apart = BTreeSet::new();
    loop {
        let places = plan(body, &candidates, &apart).map_err(HandoffError::Unfit)?;
        let (written, size) = write_once(json, fonts, prepared, &places, kept, out()?, progress)?;
        if size <= MAX_BYTES {
            return Ok((written, size, places));
        }
        let largest = prepared
            .iter()
            .zip(&places)
            .enumerate()
            .filter(|(_, (p, place))| **place == Place::Main && p.bytes.is_some_and(|b| b > 0))
            .max_by_key(|(_, (p, _))| p.bytes)
            .map(|(at, _)| at);
        match largest {
            Some(at) => {
                apart.insert(at);
            }
            None => {
                return Err(HandoffError::Unfit(vec![Unfit::BodyTooLarge {
                    bytes: size,
                }]));
            }
        }
    }
}

/// Writes the livret once, each annexe where `places` says.
fn write_once<W: Write>(
    json: &DossierJson,
    fonts: &dyn Fn() -> FontFiles,
    prepared: &[Prepared],
    places: &[Place],
    kept: &mut dyn Kept,
    out: W,
    progress: &mut dyn FnMut(Progress),
) -> Result<(W, u64), HandoffError> {
    let mut pdf = LivretPdf::begin(
        json,
        fonts(),
        Counted {
            inner: out,
            written: 0,
        },
        // France VAE takes the dossier in French.
        false,
    )?;
    for (at, (p, place)) in prepared.iter().zip(places).enumerate() {
        match (place, p.bytes) {
            (Place::Apart(name), _) => pdf.add_annexe_as(AnnexeFile::Apart(name))?,
            (Place::Main, Some(_)) => {
                let bytes = kept.bytes(at)?;
                pdf.add_annexe_as(if p.reduced {
                    AnnexeFile::Reduced(&bytes)
                } else {
                    AnnexeFile::Original(&bytes)
                })?;
            }
            (Place::Main, None) => pdf.add_annexe_as(AnnexeFile::Missing)?,
        }
        progress(pdf.progress());
    }
    let mut counted = pdf.finish()?;
    counted.flush().map_err(PdfExportError::from)?;
    Ok((counted.inner, counted.written))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MB: u64 = 1_000_000;

    fn annexe(numero: u32, mb: u64, kind: Kind) -> Candidate {
        Candidate {
            numero,
            titre: format!("Pièce {numero}"),
            fichier: format!("piece-{numero}"),
            bytes: mb * MB,
            kind,
        }
    }

    #[test]
    fn the_smallest_annexes_fill_the_livret_and_the_largest_go_apart() {
        let annexes = [
            annexe(1, 3, Kind::Pdf),
            annexe(2, 4, Kind::Jpeg),
            annexe(3, 5, Kind::Pdf),
            annexe(4, 1, Kind::Png),
        ];
        let places = plan(MB, &annexes, &BTreeSet::new()).unwrap();
        assert_eq!(
            places,
            [
                Place::Main,
                Place::Main,
                Place::Apart("annexe-03-piece-3.pdf".into()),
                Place::Main,
            ]
        );
        // Asked to file the fourth apart as well (the livret came out larger).
        let places = plan(MB, &annexes, &BTreeSet::from([3])).unwrap();
        assert_eq!(places[3], Place::Apart("annexe-04-piece-4.png".into()));
        // Sixteen scans of 800 kB then ten photos of 200 kB (the benchmark's dossier, made
        // lighter): filled in their order, the livret would leave fourteen apart; the
        // smallest first, seven — within the eight the platform takes.
        let mut many: Vec<Candidate> = (1..=16)
            .map(|n| Candidate {
                bytes: 800_000,
                ..annexe(n, 0, Kind::Pdf)
            })
            .collect();
        many.extend((17..=26).map(|n| Candidate {
            bytes: 200_000,
            ..annexe(n, 0, Kind::Jpeg)
        }));
        let places = plan(500_000, &many, &BTreeSet::new()).unwrap();
        let apart: Vec<usize> = (0..places.len())
            .filter(|i| places[*i] != Place::Main)
            .collect();
        assert_eq!(apart.len(), 7, "{places:?}");
        assert!(places[16..].iter().all(|p| *p == Place::Main));
    }

    #[test]
    fn what_cannot_be_filed_is_said_all_at_once() {
        let mut annexes: Vec<Candidate> = (1..=10).map(|n| annexe(n, 6, Kind::Pdf)).collect();
        annexes.push(annexe(11, 12, Kind::Jpeg));
        annexes.push(Candidate {
            fichier: "rapport.docx".into(),
            ..annexe(12, 1, Kind::Other)
        });
        let unfit = plan(MB, &annexes, &BTreeSet::new()).unwrap_err();
        // One in the livret, eight apart, the tenth beyond; the 12 MB one too large; the
        // .docx in no format the platform takes.
        assert_eq!(
            unfit,
            [
                Unfit::TooLarge {
                    numero: 11,
                    titre: "Pièce 11".into(),
                    bytes: 12 * MB
                },
                Unfit::Format {
                    numero: 12,
                    fichier: "rapport.docx".into()
                },
                Unfit::TooMany { numeros: vec![10] },
            ]
        );
        assert!(
            unfit[2]
                .to_string()
                .starts_with("annexes 10 : au-delà des 8")
        );
        assert_eq!(
            plan(11 * MB, &[], &BTreeSet::new()).unwrap_err(),
            [Unfit::BodyTooLarge { bytes: 11 * MB }]
        );
    }

    #[test]
    fn two_annexes_of_one_number_go_apart_under_two_names() {
        // Made offline on two devices, for a while both numbered 3.
        let annexes = [annexe(3, 6, Kind::Pdf), annexe(3, 6, Kind::Pdf)];
        let places = plan(MB, &annexes, &BTreeSet::new()).unwrap();
        assert_eq!(
            places,
            [Place::Main, Place::Apart("annexe-03-piece-3.pdf".into())]
        );
        let places = plan(MB, &annexes, &BTreeSet::from([0, 1])).unwrap();
        assert_eq!(
            places,
            [
                Place::Apart("annexe-03-piece-3.pdf".into()),
                Place::Apart("annexe-03-piece-3-2.pdf".into())
            ]
        );
    }

    #[test]
    fn names_are_plain_and_numbered_as_in_the_livret() {
        assert_eq!(
            apart_name(7, "Attestation de formation — RGPD (2024)", "pdf"),
            "annexe-07-attestation-de-formation-rgpd-2024.pdf"
        );
        assert_eq!(
            apart_name(12, "Œuvre « été »", "jpg"),
            "annexe-12-oeuvre-ete.jpg"
        );
        assert_eq!(apart_name(3, "—", "png"), "annexe-03.png");
    }
}
