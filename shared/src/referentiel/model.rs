//! The référentiel as Livret uses it: blocs → compétences → critères.
//!
//! This is the JSON every other part of Livret consumes (the dossier pins it, the jury grid is
//! built from it). The JSON Schema is generated from these types and committed as
//! `docs/referentiel.schema.json`; a test fails when the two drift apart.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::epreuves::Epreuve;
use super::jury_rules::JuryRules;

/// Version of the JSON layout below. Bump it, and add a migration, on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// A certification's référentiel de compétences.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Referentiel {
    /// Always [`SCHEMA_VERSION`] for documents written by this version of Livret.
    pub schema_version: u32,
    /// The certification's title as printed, when the document names it.
    pub title: Option<String>,
    /// The RNCP number as printed (`RNCP37827`), when the document gives it.
    pub rncp: Option<String>,
    /// Which kind of input this was read from.
    pub source: SourceFormat,
    /// Blocs de compétences (or *activités*, for référentiels organised that way), in document order.
    pub blocs: Vec<Bloc>,
    /// What the document requires of the jury, when it says.
    #[serde(default, skip_serializing_if = "JuryRules::is_empty")]
    pub jury: JuryRules,
    /// The épreuves it describes (E1…), with the compétences each assesses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub epreuves: Vec<Epreuve>,
    /// Its footnotes ("chaîne de build : processus de génération du logiciel…"), in order:
    /// their marks are taken out of the text they annotate.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// The kind of input a référentiel was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SourceFormat {
    /// Plain text (markdown tables, HTML fragments, text extracted from PDFs by another tool).
    Text,
    /// A PDF file, read through pdf-extract.
    Pdf,
    /// The France Compétences RNCP XML export (flux v4.1).
    RncpXml,
}

/// What the document calls its top-level groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum BlocKind {
    /// "Bloc de compétences N".
    Bloc,
    /// "Activité N": some référentiels group competencies by activity instead.
    Activite,
}

/// One bloc de compétences.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Bloc {
    /// Position of the bloc as printed (1-based).
    pub number: u32,
    /// The bloc's code: the printed one (`RNCP37827BC01`) when there is one, else `BC01`.
    pub code: String,
    /// Whether the document calls it a bloc or an activité.
    pub kind: BlocKind,
    /// The bloc's title; `None` when the heading could not be read (garbled extraction).
    pub title: Option<String>,
    /// Competencies of this bloc, in document order.
    pub competences: Vec<Competence>,
    /// Modalités d'évaluation printed for this bloc (free text, in document order).
    pub assessment: Vec<String>,
    /// « Exemples d'éléments de preuves attendus »: the evidence the certifier gives as
    /// examples for this bloc, in document order; empty when the document gives none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence_examples: Vec<String>,
}

impl Bloc {
    /// How the livret names it: « Bloc 2 — Intégrer des modèles… », or « Bloc 2 » untitled.
    pub fn label(&self) -> String {
        match &self.title {
            Some(title) => format!("Bloc {} — {title}", self.number),
            None => format!("Bloc {}", self.number),
        }
    }
}

/// One compétence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Competence {
    /// Normalised code: `C1`, `C12`, `C1.2`, `C4.10`. Unnumbered competencies get a generated
    /// code `C<bloc>.<position>`, stable for a given document.
    pub code: String,
    /// The code exactly as printed (`C.1.`, `C.1.2`, `C1.1`); `None` when the code was generated.
    pub printed_code: Option<String>,
    /// The competency statement.
    pub title: String,
    /// Evaluation criteria attached to this competency, in document order.
    pub criteria: Vec<Criterion>,
    /// The modalités d'évaluation printed for it (a merged cell shared with the compétences
    /// above; its bloc's when the document gives them per bloc only). Absent from référentiels
    /// imported before Livret read them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assessment: Vec<String>,
}

/// One critère d'évaluation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Criterion {
    /// The criterion's printed code (`CE1`), when it has one.
    pub code: Option<String>,
    /// The criterion itself.
    pub title: String,
    /// Observable indicators listed under the criterion, if any.
    pub indicators: Vec<String>,
}

impl Referentiel {
    /// Every competency, with the bloc it belongs to.
    pub fn competences(&self) -> impl Iterator<Item = (&Bloc, &Competence)> {
        self.blocs
            .iter()
            .flat_map(|b| b.competences.iter().map(move |c| (b, c)))
    }

    /// Looks a competency up by code, printed or normalised (`C.1.2`, `c1.2` and `C1.2` match).
    pub fn competence(&self, code: &str) -> Option<&Competence> {
        let wanted = super::codes::normalise_competence_code(code)?;
        self.competences()
            .map(|(_, c)| c)
            .find(|c| c.code == wanted)
    }

    /// The documented JSON form (pretty-printed).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a référentiel always serialises")
    }

    /// Reads the JSON written by [`Referentiel::to_json`].
    pub fn from_json(json: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(json)
    }

    /// The épreuves that assess compétence `code`.
    pub fn epreuves_of(&self, code: &str) -> impl Iterator<Item = &Epreuve> {
        self.epreuves
            .iter()
            .filter(move |e| e.competences.iter().any(|c| c == code))
    }

    /// The criterion a citation names (`C5#2`: the second criterion of C5).
    pub fn criterion(&self, citation: &str) -> Option<&Criterion> {
        let (code, rank) = super::codes::split_citation(citation);
        self.competence(code)?.criteria.get(rank? - 1)
    }

    /// How compétence `code` is assessed, as the document says: its épreuves (the jury grid's
    /// « Attendu »), else the modalités printed for it, else its bloc's.
    pub fn modalites(&self, code: &str) -> Vec<String> {
        let epreuves: Vec<String> = self.epreuves_of(code).map(|e| e.attendu()).collect();
        if !epreuves.is_empty() {
            return epreuves;
        }
        let Some((bloc, competence)) = self.competences().find(|(_, c)| c.code == code) else {
            return Vec::new();
        };
        if competence.assessment.is_empty() {
            bloc.assessment.clone()
        } else {
            competence.assessment.clone()
        }
    }

    /// What the épreuves assessing compétence `code` ask the candidate to present
    /// (« Le/la candidat(e) doit : »), item by item, in the épreuves' order; each item led
    /// by its épreuve's code (« E2 : … ») when more than one épreuve asks something.
    pub fn consignes(&self, code: &str) -> Vec<String> {
        let asking: Vec<&Epreuve> = self
            .epreuves_of(code)
            .filter(|e| !e.consignes.is_empty())
            .collect();
        let several = asking.len() > 1;
        asking
            .into_iter()
            .flat_map(|e| {
                e.consignes.iter().map(move |c| {
                    if several {
                        format!("{} : {c}", e.code)
                    } else {
                        c.clone()
                    }
                })
            })
            .collect()
    }

    /// Number of competencies per bloc, in order: the shape tests and `check` talk about.
    pub fn shape(&self) -> Vec<usize> {
        self.blocs.iter().map(|b| b.competences.len()).collect()
    }
}

/// The JSON Schema of [`Referentiel`], pretty-printed.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(Referentiel);
    let mut out = serde_json::to_string_pretty(&schema).expect("a schema always serialises");
    out.push('\n');
    out
}
