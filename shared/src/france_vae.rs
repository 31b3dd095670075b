//! The hand-off to France VAE, the platform candidates file on: the dossier de validation as
//! one file of at most 10 MB, and at most 8 additional files of at most 10 MB each, in PDF,
//! JPG or PNG. Which annexe goes where is decided here, without I/O: the livret with as many
//! annexes as fit (in their order), the others filed apart, named and numbered as in the
//! livret. The driver (the CLI, the app) makes the annexes lighter first
//! (`pdf_export::reduce`), writes the livret, and checks its size.

use std::collections::BTreeSet;

use crate::pdf_export::reduce::Kind;

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

/// Where each annexe goes, in order: in the livret while the room left allows (`body`: the
/// livret's size without annexes), apart otherwise — and always for those in `apart` (the
/// driver's second try when the livret came out larger than planned). Every reason the
/// dossier cannot be handed over, when it cannot.
pub fn plan(
    body: u64,
    annexes: &[Candidate],
    apart: &BTreeSet<u32>,
) -> Result<Vec<Place>, Vec<Unfit>> {
    let captions = CAPTION_BYTES * annexes.len() as u64;
    let mut unfit = Vec::new();
    if body + captions > MAX_BYTES {
        unfit.push(Unfit::BodyTooLarge { bytes: body });
    }
    let mut room = MAX_BYTES.saturating_sub(body + captions);
    let mut places = Vec::with_capacity(annexes.len());
    let mut beyond = Vec::new();
    let mut filed_apart = 0;
    for a in annexes {
        let Some(extension) = a.kind.extension() else {
            unfit.push(Unfit::Format {
                numero: a.numero,
                fichier: a.fichier.clone(),
            });
            places.push(Place::Main);
            continue;
        };
        if !apart.contains(&a.numero) && a.bytes <= room {
            room -= a.bytes;
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
        places.push(Place::Apart(apart_name(a.numero, &a.titre, extension)));
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

/// A size as the platform counts it (1 Mo = 1,000,000 bytes), in French.
pub fn megabytes(bytes: u64) -> String {
    format!("{:.1} Mo", bytes as f64 / 1e6).replace('.', ",")
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
    fn annexes_fill_the_livret_in_order_and_the_rest_go_apart() {
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
        let places = plan(MB, &annexes, &BTreeSet::from([4])).unwrap();
        assert_eq!(places[3], Place::Apart("annexe-04-piece-4.png".into()));
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
