//! The jury's review of a dossier (issue 6), as values and pure functions: annotations
//! anchored in the fiches' text or on the evidence, the evidence → compétences mapping, one
//! rating per compétence (0–3), the coverage matrix, and the decision with the outcomes of
//! the Livret 2 template.
//!
//! Every juror's review is a value of its own ([`JurorReview`]): views are merged for
//! reading (coverage, disagreements), never written into one another. They are stored as
//! automerge documents, one per juror ([`doc`]), synced sealed with the jury key; what the
//! jury releases to the candidate (the [`Decision`]) is a document of its own sealed with
//! the dossier's key (see `jury.rs`).

pub mod anchor;
pub mod doc;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::export::{DossierJson, FieldValue};
use crate::referentiel::Referentiel;
use anchor::{TextAnchor, TextQuote};

/// A compétence's rating, in the jury grid's four levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Level {
    NonAcquis = 0,
    EnCours = 1,
    Acquis = 2,
    Maitrise = 3,
}

impl Level {
    pub fn from_score(score: u8) -> Option<Level> {
        match score {
            0 => Some(Level::NonAcquis),
            1 => Some(Level::EnCours),
            2 => Some(Level::Acquis),
            3 => Some(Level::Maitrise),
            _ => None,
        }
    }

    pub fn score(self) -> u8 {
        self as u8
    }

    pub fn label_fr(self) -> &'static str {
        match self {
            Level::NonAcquis => "non acquis",
            Level::EnCours => "en cours d'acquisition",
            Level::Acquis => "acquis",
            Level::Maitrise => "maîtrise",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Level::NonAcquis => "not acquired",
            Level::EnCours => "being acquired",
            Level::Acquis => "acquired",
            Level::Maitrise => "mastered",
        }
    }

    /// Acquis or maîtrise: what the grille d'évaluation records as « acquis ».
    pub fn acquired(self) -> bool {
        self >= Level::Acquis
    }
}

/// What a juror maps to compétences: a fiche activité (by its place in the dossier, which
/// does not change when fiches are reordered) or an annexe (by its number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Evidence {
    Fiche(usize),
    Annexe(u32),
}

/// Where an annotation points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Target {
    /// A passage of a field (`fiches.3.contexte`…), W3C quote and position selectors.
    Text { path: String, anchor: TextAnchor },
    /// A passage of a PDF annexe: its page (from 1) and the quoted text.
    PdfPage {
        annexe: u32,
        page: u32,
        quote: TextQuote,
    },
    /// A region of an image annexe, in fractions of its width and height.
    ImageRegion {
        annexe: u32,
        x: f32,
        y: f32,
        w: f32,
        h: f32,
    },
}

impl Target {
    /// A region of image annexe `annexe`, in fractions of its width and height: `None`
    /// unless it is not empty and lies inside the image (what the CLI and the app accept).
    pub fn image_region(annexe: u32, x: f32, y: f32, w: f32, h: f32) -> Option<Target> {
        let inside = |v: f32| (0.0..=1.0).contains(&v);
        let fits = inside(x) && inside(y) && inside(w) && inside(h) && x + w <= 1.0 && y + h <= 1.0;
        (fits && w > 0.0 && h > 0.0).then_some(Target::ImageRegion { annexe, x, y, w, h })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Annotation {
    pub id: String,
    pub target: Target,
    pub body: String,
    pub at_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rating {
    pub level: Level,
    pub justification: String,
}

/// One juror's review, written by that juror alone.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct JurorReview {
    /// Who (the juror's name as the jury sees it).
    pub juror: String,
    pub annotations: Vec<Annotation>,
    /// Evidence → the compétences (codes, `C4`) or criteria (`C4#2`, the second criterion
    /// of C4) it shows.
    pub links: BTreeMap<Evidence, BTreeSet<String>>,
    /// Compétence code → rating.
    pub ratings: BTreeMap<String, Rating>,
}

/// The compétence a link names (`C4#2` → `C4`).
fn competence_of(link: &str) -> &str {
    crate::referentiel::split_citation(link).0
}

/// One compétence's row of the coverage matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct CoverageRow {
    pub bloc: u32,
    pub competence: String,
    /// For each evidence of the matrix's columns, who linked it to this compétence.
    pub cells: Vec<Vec<String>>,
    /// Each juror's rating of the compétence.
    pub ratings: Vec<(String, Level)>,
    /// No evidence linked to it by anyone in the view.
    pub gap: bool,
    /// The jurors' ratings differ on whether it is acquired, or by two levels or more.
    pub disagreement: bool,
}

/// The coverage matrix: every compétence of the référentiel × `evidence`, from the given
/// reviews (one juror's view, or several merged).
pub fn coverage(
    referentiel: &Referentiel,
    evidence: &[Evidence],
    reviews: &[JurorReview],
) -> Vec<CoverageRow> {
    let mut rows = Vec::new();
    for bloc in &referentiel.blocs {
        for c in &bloc.competences {
            let cells: Vec<Vec<String>> = evidence
                .iter()
                .map(|e| {
                    reviews
                        .iter()
                        .filter(|r| {
                            r.links
                                .get(e)
                                .is_some_and(|l| l.iter().any(|l| competence_of(l) == c.code))
                        })
                        .map(|r| r.juror.clone())
                        .collect()
                })
                .collect();
            let ratings: Vec<(String, Level)> = reviews
                .iter()
                .filter_map(|r| r.ratings.get(&c.code).map(|x| (r.juror.clone(), x.level)))
                .collect();
            let (low, high) = ratings
                .iter()
                .fold((Level::Maitrise, Level::NonAcquis), |(lo, hi), (_, l)| {
                    (lo.min(*l), hi.max(*l))
                });
            let disagreement = ratings.len() > 1
                && (low.acquired() != high.acquired() || high.score() - low.score() >= 2);
            rows.push(CoverageRow {
                bloc: bloc.number,
                competence: c.code.clone(),
                gap: cells.iter().all(Vec::is_empty),
                cells,
                ratings,
                disagreement,
            });
        }
    }
    rows
}

/// The candidate's own mapping, before submission: each fiche shows the compétences it
/// names, each annexe the compétences of the fiches that cite it as evidence. As a review
/// by « candidat », so the same [`coverage`] draws it.
pub fn candidate_mapping(json: &DossierJson) -> (Vec<Evidence>, JurorReview) {
    let mut review = JurorReview {
        juror: "candidat".into(),
        ..JurorReview::default()
    };
    let list = |v: Option<&FieldValue>| match v {
        Some(FieldValue::List(items)) => items.clone(),
        _ => Vec::new(),
    };
    let mut evidence = Vec::new();
    for (place, fiche) in json.fiches.iter().enumerate().filter(|(_, f)| !f.supprimee) {
        let competences: BTreeSet<String> =
            list(fiche.champs.get("competences")).into_iter().collect();
        evidence.push(Evidence::Fiche(place));
        review
            .links
            .insert(Evidence::Fiche(place), competences.clone());
        for numero in list(fiche.champs.get("preuves")) {
            if let Ok(n) = numero.parse::<u32>() {
                review
                    .links
                    .entry(Evidence::Annexe(n))
                    .or_default()
                    .extend(competences.iter().cloned());
            }
        }
    }
    evidence.extend(json.annexes.iter().map(|a| Evidence::Annexe(a.numero)));
    (evidence, review)
}

/// The four outcomes of the Livret 2 template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// Validation de la totalité des compétences de la certification.
    Totale,
    /// Validation d'un ou plusieurs blocs (their numbers).
    Blocs { blocs: Vec<u32> },
    /// Validation partielle: the compétences still to acquire.
    Partielle { a_acquerir: Vec<String> },
    /// Non validation, with the jury's reasons.
    NonValidation,
    /// The candidate did not come to the session (France VAE records it).
    Absent,
    /// The candidate did not come and was excused: France VAE records it apart, the PV
    /// counts it among the absents.
    Excuse,
}

impl Outcome {
    /// Whether the candidate sat before the jury (an absent one has no grid).
    pub fn present(&self) -> bool {
        !matches!(self, Outcome::Absent | Outcome::Excuse)
    }

    /// Whether the official grid asks the jury's comments: « optionnel, à renseigner
    /// obligatoirement si admission partielle ou non admis ».
    pub fn needs_comments(&self) -> bool {
        matches!(
            self,
            Outcome::Blocs { .. } | Outcome::Partielle { .. } | Outcome::NonValidation
        )
    }
}

/// Why a decision cannot be released as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecisionError {
    #[error(
        "une admission partielle ou un refus demande les commentaires du jury (la grille officielle les exige)"
    )]
    CommentsRequired,
}

/// Spaces collapsed: PDF text extraction breaks lines and spaces its own way, so a quote is
/// compared with a page on its words.
fn words(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The quote selector of `quote` on a PDF page's text (as extracted), with its context;
/// `None` when the page does not contain it.
pub fn pdf_quote(page_text: &str, quote: &str) -> Option<TextQuote> {
    let page = words(page_text);
    let exact = words(quote);
    if exact.is_empty() {
        return None;
    }
    let at = page.find(&exact)?;
    let chars_before: Vec<char> = page[..at].chars().collect();
    let after: Vec<char> = page[at + exact.len()..].chars().collect();
    Some(TextQuote {
        prefix: chars_before[chars_before.len().saturating_sub(anchor::CONTEXT)..]
            .iter()
            .collect(),
        suffix: after[..after.len().min(anchor::CONTEXT)].iter().collect(),
        exact,
    })
}

/// Whether a PDF annotation's quote is still on its page (a replaced file would not have it).
pub fn pdf_quote_found(page_text: &str, quote: &TextQuote) -> bool {
    words(page_text).contains(&quote.exact)
}

/// What the jury decides, and releases to the candidate: the result per compétence and per
/// bloc, the outcome, the reasons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// The jury's date, as the jury gives it (`2026-12-14`).
    pub date: String,
    /// Who sat on the jury.
    pub jury: Vec<String>,
    /// Compétence code → acquired.
    pub competences: BTreeMap<String, bool>,
    /// Bloc number → acquired (all its compétences are).
    pub blocs: Vec<(u32, bool)>,
    pub outcome: Outcome,
    /// The jury's reasons (what remains to acquire and why, or why not at all).
    pub motifs: String,
    /// When it was released (the releasing device's clock: shown, never compared — a
    /// juror's clock, or a juror, could say any date).
    pub at_ms: u64,
    /// The other jurors' releases this one replaces: those its juror had received when
    /// releasing. Which release stands follows from these links (see
    /// `sync::Replica::decision`), not from the dates.
    #[serde(default)]
    pub supersedes: Vec<ReleaseRef>,
    /// A result « sous réserve » (France VAE records it): what it waits for (a document, a
    /// check), empty when the result is final.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reserve: String,
}

/// One juror's release, as another release names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseRef {
    /// The juror's signing key, hex.
    pub juror: String,
    pub at_ms: u64,
}

impl Decision {
    /// The release of an absent candidate (excused or not): no result per compétence.
    pub fn absent(
        referentiel: &Referentiel,
        excused: bool,
        date: String,
        jury: Vec<String>,
        motifs: String,
        at_ms: u64,
    ) -> Decision {
        // No compétence acquired: every bloc not acquired, as `new` computes it.
        let mut decision = Decision::new(referentiel, BTreeMap::new(), date, jury, motifs, at_ms);
        decision.outcome = if excused {
            Outcome::Excuse
        } else {
            Outcome::Absent
        };
        decision
    }

    /// What the official forms require before a decision is released.
    pub fn check(&self) -> Result<(), DecisionError> {
        if self.outcome.needs_comments() && self.motifs.trim().is_empty() {
            return Err(DecisionError::CommentsRequired);
        }
        Ok(())
    }

    /// Whether two releases say the same thing to the candidate (who released it, when and
    /// what it replaced aside).
    pub fn same_result(&self, other: &Decision) -> bool {
        (
            &self.date,
            &self.competences,
            &self.blocs,
            &self.outcome,
            &self.motifs,
            &self.reserve,
        ) == (
            &other.date,
            &other.competences,
            &other.blocs,
            &other.outcome,
            &other.motifs,
            &other.reserve,
        )
    }
}

impl Decision {
    /// The decision the ratings lead to, before the jury amends it: a compétence is acquired
    /// when more than half of the jurors who rated it rated it acquis or maîtrise.
    pub fn propose(referentiel: &Referentiel, reviews: &[JurorReview]) -> BTreeMap<String, bool> {
        referentiel
            .competences()
            .map(|(_, c)| {
                let levels: Vec<Level> = reviews
                    .iter()
                    .filter_map(|r| r.ratings.get(&c.code).map(|r| r.level))
                    .collect();
                let yes = levels.iter().filter(|l| l.acquired()).count();
                (c.code.clone(), !levels.is_empty() && yes * 2 > levels.len())
            })
            .collect()
    }

    /// A decision from per-compétence results: blocs and outcome follow from them.
    pub fn new(
        referentiel: &Referentiel,
        competences: BTreeMap<String, bool>,
        date: String,
        jury: Vec<String>,
        motifs: String,
        at_ms: u64,
    ) -> Decision {
        Decision {
            blocs: bloc_results(referentiel, &competences),
            outcome: outcome(referentiel, &competences),
            competences,
            date,
            jury,
            motifs,
            at_ms,
            supersedes: Vec::new(),
            reserve: String::new(),
        }
    }
}

impl Outcome {
    /// The outcome in the template's words.
    pub fn label_fr(&self) -> String {
        match self {
            Outcome::Totale => {
                "Validation totale : toutes les compétences de la certification".into()
            }
            Outcome::Blocs { blocs } => format!(
                "Validation de blocs de compétences : bloc{} {}",
                if blocs.len() > 1 { "s" } else { "" },
                numbers(blocs)
            ),
            Outcome::Partielle { a_acquerir } => format!(
                "Validation partielle — compétences restant à acquérir : {}",
                a_acquerir.join(", ")
            ),
            Outcome::NonValidation => "Non validation".into(),
            Outcome::Absent => "Absent·e à la session".into(),
            Outcome::Excuse => "Absent·e excusé·e".into(),
        }
    }

    pub fn label_en(&self) -> String {
        match self {
            Outcome::Totale => "Full validation: every skill of the certification".into(),
            Outcome::Blocs { blocs } => format!(
                "Validation of skill block{} {}",
                if blocs.len() > 1 { "s" } else { "" },
                numbers(blocs)
            ),
            Outcome::Partielle { a_acquerir } => format!(
                "Partial validation — skills still to acquire: {}",
                a_acquerir.join(", ")
            ),
            Outcome::NonValidation => "Not validated".into(),
            Outcome::Absent => "Absent from the session".into(),
            Outcome::Excuse => "Absent, excused".into(),
        }
    }
}

fn numbers(blocs: &[u32]) -> String {
    blocs
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Each bloc's result: acquired when all its compétences are.
pub fn bloc_results(
    referentiel: &Referentiel,
    acquired: &BTreeMap<String, bool>,
) -> Vec<(u32, bool)> {
    referentiel
        .blocs
        .iter()
        .map(|b| {
            let all = !b.competences.is_empty()
                && b.competences
                    .iter()
                    .all(|c| acquired.get(&c.code) == Some(&true));
            (b.number, all)
        })
        .collect()
}

/// The outcome the per-compétence results lead to: all acquired → totale; some blocs whole
/// → those blocs; some compétences → partielle with the others to acquire; none → non
/// validation. A compétence without a result counts as not acquired.
pub fn outcome(referentiel: &Referentiel, acquired: &BTreeMap<String, bool>) -> Outcome {
    let blocs = bloc_results(referentiel, acquired);
    let all: Vec<&str> = referentiel
        .competences()
        .map(|(_, c)| c.code.as_str())
        .collect();
    let missing: Vec<String> = all
        .iter()
        .filter(|c| acquired.get(**c) != Some(&true))
        .map(|c| c.to_string())
        .collect();
    if missing.is_empty() && !all.is_empty() {
        Outcome::Totale
    } else if blocs.iter().any(|(_, whole)| *whole) {
        Outcome::Blocs {
            blocs: blocs.iter().filter(|(_, w)| *w).map(|(n, _)| *n).collect(),
        }
    } else if missing.len() < all.len() {
        Outcome::Partielle {
            a_acquerir: missing,
        }
    } else {
        Outcome::NonValidation
    }
}

#[cfg(test)]
mod tests;
