//! A dossier template as a data file: what a certifier's model of the *dossier de
//! validation* asks, in which order and in which words, in French and in English.
//!
//! A template words and orders what Livret's dossier model can hold (its sections and
//! fields, [`crate::dossier::SECTIONS`], the fiches activité and the annexes); it does not
//! invent storage. Each field it lists names its kind, which must be the model's, so a
//! template written for another program (or with a typo) is refused with one line saying
//! where, never half-read. The answers of a choice are the model's: they are what the
//! dossier stores and how an older version's free text is read again.
//!
//! Parsed templates are interned ([`Template::parse`]): a few distinct ones live for the
//! program's whole run, so the words can be handed out as `&'static str` like the tables
//! they replace. The same text always gives the same `&'static Template`.

use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::{FieldText, SectionText};
use crate::dossier::{ANNEXE_FIELDS, FICHE_FIELDS, FieldKind, SECTIONS};

/// The format this version reads (written first in every file).
pub const FORMAT: &str = "livret-template/1";

/// A template file larger than this is refused unread (the ANNEXE 5 file is ~50 KB).
pub const MAX_TEMPLATE_BYTES: usize = 512 * 1024;

/// Words in the template's two languages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Words {
    #[serde(default)]
    pub fr: String,
    #[serde(default)]
    pub en: String,
}

impl Words {
    fn is_empty(&self) -> bool {
        self.fr.trim().is_empty() && self.en.trim().is_empty()
    }
}

/// The file as written (see `docs/templates.md`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateFile {
    pub format: String,
    /// Lower-case letters, digits and dashes, e.g. `livret2-annexe5-rncp37827`.
    pub id: String,
    /// The certifier's version of its model, e.g. `2023-1`: a dossier pins id and version.
    pub version: String,
    pub title: Words,
    /// The document's name on its cover and at the foot of its pages (« Livret 2 VAE »).
    pub document: Words,
    /// Who supplies this model, as printed on the cover; empty for a generic model.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub certifier: String,
    /// The certifications (RNCP numbers, digits) this model is for; empty: any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rncp: Vec<String>,
    /// The fiches activité are presented bloc by bloc of the référentiel.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fiches_by_bloc: bool,
    pub sections: Vec<SectionFile>,
    /// The ENGAGEMENT page: what the candidate certifies, one item each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub engagement: Vec<Words>,
    /// The « Informations générales » printed under the engagement.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub general_information: Vec<InformationFile>,
    /// The page on the interview with the jury, printed before the déclaration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interview: Option<InformationFile>,
    /// The information on fraud the déclaration sur l'honneur prints above its boxes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fraud: Vec<Words>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SectionFile {
    pub key: String,
    pub title: Words,
    #[serde(default, skip_serializing_if = "Words::is_empty")]
    pub guidance: Words,
    pub fields: Vec<FieldFile>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldFile {
    pub key: String,
    /// `short`, `text`, `list`, `tick`, `choice` or `date` ([`kind_name`]).
    pub kind: String,
    pub label: Words,
    #[serde(default, skip_serializing_if = "Words::is_empty")]
    pub guidance: Words,
    /// The guidance is the certifier's (`true`) or Livret's own help (`false`).
    #[serde(default = "certifiers", skip_serializing_if = "Clone::clone")]
    pub from_template: bool,
}

fn certifiers() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InformationFile {
    pub heading: Words,
    pub paragraphs: Vec<Words>,
}

/// The name a template file gives a field kind of the model.
pub fn kind_name(kind: FieldKind) -> &'static str {
    match kind {
        FieldKind::Scalar => "short",
        FieldKind::Text => "text",
        FieldKind::List => "list",
        FieldKind::Tick => "tick",
        FieldKind::Choice(_) => "choice",
        FieldKind::Date => "date",
    }
}

const KIND_NAMES: &[&str] = &["short", "text", "list", "tick", "choice", "date"];

/// Why a template file is refused: one line, naming the place.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("modèle illisible : {0}")]
    NotJson(String),
    #[error("modèle trop grand : {0} octets (au plus {MAX_TEMPLATE_BYTES})")]
    TooLarge(usize),
    #[error("format de modèle « {0} » inconnu (cette version lit « {FORMAT} »)")]
    UnknownFormat(String),
    #[error(
        "identifiant de modèle « {0} » refusé : lettres minuscules, chiffres et tirets, 64 au plus"
    )]
    BadId(String),
    #[error("{0} : texte manquant en {1}")]
    MissingWords(String, Language),
    #[error("le modèle n’a aucune section")]
    NoSections,
    #[error("section « {0} » inconnue de Livret")]
    UnknownSection(String),
    #[error("section « {0} » en double")]
    DuplicateSection(String),
    #[error("champ « {0} » inconnu de Livret")]
    UnknownField(String),
    #[error("champ « {0} » en double")]
    DuplicateField(String),
    #[error("« {0} » : type de champ « {1} » inconnu (types : {kinds})", kinds = KIND_NAMES.join(", "))]
    UnknownKind(String, String),
    #[error("« {0} » : le type « {1} » n’est pas celui de Livret (« {2} »)")]
    WrongKind(String, String, &'static str),
    #[error("« {0} » n’est demandé qu’après « {1} », absent du modèle")]
    AskedAfterMissing(String, String),
    #[error("numéro RNCP « {0} » refusé : des chiffres")]
    BadRncp(String),
    #[error(
        "le modèle n’a pas de section « declaration » : la déclaration sur l’honneur est requise"
    )]
    NoDeclaration,
    #[error("{0} : caractère de contrôle ou de sens d’écriture refusé")]
    Unprintable(String),
    #[error(
        "le modèle « {0} » est fourni par Livret : un modèle importé prend un autre identifiant"
    )]
    ShippedId(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    French,
    English,
}

impl std::fmt::Display for Language {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Language::French => "français",
            Language::English => "anglais",
        })
    }
}

impl crate::words::Worded for TemplateError {
    fn english(&self) -> String {
        let language = |l: &Language| match l {
            Language::French => "French",
            Language::English => "English",
        };
        match self {
            TemplateError::NotJson(why) => format!("unreadable template: {why}"),
            TemplateError::TooLarge(n) => {
                format!("template too large: {n} bytes (at most {MAX_TEMPLATE_BYTES})")
            }
            TemplateError::UnknownFormat(f) => {
                format!("unknown template format “{f}” (this version reads “{FORMAT}”)")
            }
            TemplateError::BadId(id) => format!(
                "template id “{id}” refused: lower-case letters, digits and dashes, 64 at most"
            ),
            TemplateError::MissingWords(place, l) => {
                format!("{place}: text missing in {}", language(l))
            }
            TemplateError::NoSections => "the template has no section".into(),
            TemplateError::UnknownSection(s) => format!("section “{s}” unknown to Livret"),
            TemplateError::DuplicateSection(s) => format!("section “{s}” listed twice"),
            TemplateError::UnknownField(f) => format!("field “{f}” unknown to Livret"),
            TemplateError::DuplicateField(f) => format!("field “{f}” listed twice"),
            TemplateError::UnknownKind(f, k) => format!(
                "“{f}”: unknown field kind “{k}” (kinds: {})",
                KIND_NAMES.join(", ")
            ),
            TemplateError::WrongKind(f, k, model) => {
                format!("“{f}”: kind “{k}” is not Livret’s (“{model}”)")
            }
            TemplateError::AskedAfterMissing(f, after) => {
                format!("“{f}” is asked only after “{after}”, which the template lacks")
            }
            TemplateError::BadRncp(r) => format!("RNCP number “{r}” refused: digits"),
            TemplateError::NoDeclaration => {
                "the template has no “declaration” section: the declaration on honour is \
                 required"
                    .into()
            }
            TemplateError::Unprintable(place) => {
                format!("{place}: control or text-direction character refused")
            }
            TemplateError::ShippedId(id) => format!(
                "the template “{id}” is shipped with Livret: an imported template takes another id"
            ),
        }
    }
}

/// The fields of the model behind a template section: a section of the model, the fiches
/// activité or the annexes.
fn model_fields(section: &str) -> Option<&'static [(&'static str, FieldKind)]> {
    match section {
        "fiches" => Some(FICHE_FIELDS),
        "annexes" => Some(ANNEXE_FIELDS),
        _ => SECTIONS
            .iter()
            .find(|(key, _)| *key == section)
            .map(|(_, fields)| *fields),
    }
}

impl TemplateFile {
    /// Reads and checks a template file: the first fault found, named by its place.
    pub fn read(text: &str) -> Result<TemplateFile, TemplateError> {
        if text.len() > MAX_TEMPLATE_BYTES {
            return Err(TemplateError::TooLarge(text.len()));
        }
        // The format is checked first, so a newer file is told apart from a broken one.
        #[derive(Deserialize)]
        struct Head {
            format: Option<String>,
        }
        let head: Head = serde_json::from_str(text)
            .map_err(|e| TemplateError::NotJson(shown(&e.to_string())))?;
        match head.format {
            Some(format) if format == FORMAT => {}
            Some(format) => return Err(TemplateError::UnknownFormat(shown(&format))),
            None => return Err(TemplateError::NotJson("champ « format » absent".into())),
        }
        let file: TemplateFile = serde_json::from_str(text)
            .map_err(|e| TemplateError::NotJson(shown(&e.to_string())))?;
        file.check()?;
        Ok(file)
    }

    fn check(&self) -> Result<(), TemplateError> {
        let id_ok = !self.id.is_empty()
            && self.id.len() <= 64
            && self
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !id_ok {
            return Err(TemplateError::BadId(shown(&self.id)));
        }
        words(
            "version",
            &Words {
                fr: self.version.clone(),
                en: self.version.clone(),
            },
        )?;
        words("title", &self.title)?;
        words("document", &self.document)?;
        for rncp in &self.rncp {
            if rncp.is_empty() || rncp.len() > 8 || !rncp.bytes().all(|b| b.is_ascii_digit()) {
                return Err(TemplateError::BadRncp(shown(rncp)));
            }
        }
        if self.sections.is_empty() {
            return Err(TemplateError::NoSections);
        }
        // The déclaration sur l'honneur is where a dossier de validation is signed: a model
        // without it would print an unsigned dossier, and its checks would say nothing.
        if !self.sections.iter().any(|s| s.key == "declaration") {
            return Err(TemplateError::NoDeclaration);
        }
        for (i, section) in self.sections.iter().enumerate() {
            let Some(model) = model_fields(&section.key) else {
                return Err(TemplateError::UnknownSection(shown(&section.key)));
            };
            if self.sections[..i].iter().any(|s| s.key == section.key) {
                return Err(TemplateError::DuplicateSection(shown(&section.key)));
            }
            words(&section.key, &section.title)?;
            optional_words(&format!("{} (consignes)", section.key), &section.guidance)?;
            for (j, field) in section.fields.iter().enumerate() {
                let place = format!("{}.{}", shown(&section.key), shown(&field.key));
                let Some((_, kind)) = model.iter().find(|(key, _)| *key == field.key) else {
                    return Err(TemplateError::UnknownField(place));
                };
                if section.fields[..j].iter().any(|f| f.key == field.key) {
                    return Err(TemplateError::DuplicateField(place));
                }
                if !KIND_NAMES.contains(&field.kind.as_str()) {
                    return Err(TemplateError::UnknownKind(place, shown(&field.kind)));
                }
                if field.kind != kind_name(*kind) {
                    return Err(TemplateError::WrongKind(
                        place,
                        field.kind.clone(),
                        kind_name(*kind),
                    ));
                }
                words(&place, &field.label)?;
                optional_words(&format!("{place} (consignes)"), &field.guidance)?;
                if let Some((after, _)) = super::asked_after(&section.key, &field.key)
                    && !section.fields.iter().any(|f| f.key == after)
                {
                    return Err(TemplateError::AskedAfterMissing(
                        place,
                        format!("{}.{after}", section.key),
                    ));
                }
            }
        }
        for (i, item) in self.engagement.iter().enumerate() {
            words(&format!("engagement {}", i + 1), item)?;
        }
        let parts = self.general_information.iter().enumerate();
        let parts = parts.map(|(i, part)| (format!("informations générales {}", i + 1), part));
        for (place, part) in parts.chain(self.interview.iter().map(|p| ("entretien".into(), p))) {
            words(&place, &part.heading)?;
            for paragraph in &part.paragraphs {
                words(&place, paragraph)?;
            }
        }
        for (i, paragraph) in self.fraud.iter().enumerate() {
            words(&format!("fraude {}", i + 1), paragraph)?;
        }
        Ok(())
    }

    /// The file as a dossier pins it: compact JSON of what was read (unknown to nothing,
    /// spacing dropped), so the same model gives the same pinned text on every device.
    pub fn pinned_json(&self) -> String {
        serde_json::to_string(self).expect("a template serialises")
    }
}

/// What a file wrote, as an error line may echo it: one line, no control or direction
/// characters (which could make the line lie about what follows), at most 80 characters.
fn shown(text: &str) -> String {
    let mut out: String = text
        .chars()
        .map(|c| if unprintable(c) { '\u{fffd}' } else { c })
        .take(80)
        .collect();
    if text.chars().count() > 80 {
        out.push('…');
    }
    out
}

/// Control characters, and those that reorder the text shown around them (bidi).
fn unprintable(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Both languages are required: a template serves French and English screens alike. No
/// control or direction characters: the words are shown and printed as they are.
fn words(place: &str, words: &Words) -> Result<(), TemplateError> {
    if [&words.fr, &words.en]
        .iter()
        .any(|text| text.chars().any(unprintable))
    {
        return Err(TemplateError::Unprintable(place.into()));
    }
    if words.fr.trim().is_empty() {
        return Err(TemplateError::MissingWords(place.into(), Language::French));
    }
    if words.en.trim().is_empty() {
        return Err(TemplateError::MissingWords(place.into(), Language::English));
    }
    Ok(())
}

/// Guidance may be absent, but not in one language only.
fn optional_words(place: &str, guidance: &Words) -> Result<(), TemplateError> {
    if guidance.is_empty() {
        Ok(())
    } else {
        words(place, guidance)
    }
}

/// A paragraph of the « Informations générales »: heading and paragraphs, in both languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Information {
    pub heading_fr: &'static str,
    pub heading_en: &'static str,
    pub paragraphs: &'static [(&'static str, &'static str)],
}

/// A template as the program reads it: words handed out for the whole run.
#[derive(Debug, PartialEq, Eq)]
pub struct Template {
    pub id: &'static str,
    pub version: &'static str,
    pub title_fr: &'static str,
    pub title_en: &'static str,
    pub document_fr: &'static str,
    pub document_en: &'static str,
    pub certifier: &'static str,
    pub rncp: &'static [&'static str],
    pub fiches_by_bloc: bool,
    pub sections: &'static [SectionText],
    /// The ENGAGEMENT's items, (French, English).
    pub engagement: &'static [(&'static str, &'static str)],
    pub general_information: &'static [Information],
    pub interview: Option<Information>,
    /// The information on fraud, (French, English) paragraphs.
    pub fraud: &'static [(&'static str, &'static str)],
    /// What a dossier pins ([`TemplateFile::pinned_json`]).
    pub pinned: &'static str,
}

fn leak(text: &str) -> &'static str {
    Box::leak(text.to_string().into_boxed_str())
}

fn leak_slice<T>(items: Vec<T>) -> &'static [T] {
    Box::leak(items.into_boxed_slice())
}

fn information(part: &InformationFile) -> Information {
    Information {
        heading_fr: leak(&part.heading.fr),
        heading_en: leak(&part.heading.en),
        paragraphs: leak_slice(
            part.paragraphs
                .iter()
                .map(|w| (leak(&w.fr), leak(&w.en)))
                .collect(),
        ),
    }
}

/// The last texts refused, with why: a few, the oldest dropped first.
static REFUSED: Mutex<Vec<(Box<str>, TemplateError)>> = Mutex::new(Vec::new());
const REFUSED_KEPT: usize = 8;

/// Every template read so far, by pinned text: a handful per run.
static INTERNED: Mutex<Vec<&'static Template>> = Mutex::new(Vec::new());

impl Template {
    /// Reads a template file (or a dossier's pinned text) and hands out its words.
    pub fn parse(text: &str) -> Result<&'static Template, TemplateError> {
        // A dossier's pinned text, read again on every screen drawn: no parsing twice.
        if let Some(known) = INTERNED
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|t| t.pinned == text)
        {
            return Ok(known);
        }
        // Nor refusing twice: a dossier pinned by a newer version (a format this one does not
        // read) falls back on every screen drawn, and would be parsed again each time.
        let mut refused = REFUSED.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, why)) = refused.iter().find(|(known, _)| **known == *text) {
            return Err(why.clone());
        }
        match TemplateFile::read(text) {
            Ok(file) => {
                drop(refused);
                Ok(Template::intern(&file))
            }
            // Too large is told without reading: not kept.
            Err(why @ TemplateError::TooLarge(_)) => Err(why),
            Err(why) => {
                if refused.len() == REFUSED_KEPT {
                    refused.remove(0);
                }
                refused.push((text.into(), why.clone()));
                Err(why)
            }
        }
    }

    /// A template already read as a file (an export carries one): checked the same way.
    pub fn from_file(file: &TemplateFile) -> Result<&'static Template, TemplateError> {
        Template::parse(&file.pinned_json())
    }

    /// A certifier's file, imported (in the app, `--template FILE`, an export's): read as
    /// [`Template::parse`] does, and refused if it takes the id of a model Livret ships with
    /// other words (it would pass for it, certifier's name and version included).
    pub fn import(text: &str) -> Result<&'static Template, TemplateError> {
        let read = Template::parse(text)?;
        if super::builtin()
            .iter()
            .any(|shipped| shipped.id == read.id && !std::ptr::eq(*shipped, read))
        {
            return Err(TemplateError::ShippedId(read.id.to_string()));
        }
        Ok(read)
    }

    fn intern(file: &TemplateFile) -> &'static Template {
        let pinned = file.pinned_json();
        let mut interned = INTERNED.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(known) = interned.iter().find(|t| t.pinned == pinned) {
            return known;
        }
        let sections = file
            .sections
            .iter()
            .map(|s| SectionText {
                key: leak(&s.key),
                title_fr: leak(&s.title.fr),
                title_en: leak(&s.title.en),
                guidance_fr: leak(&s.guidance.fr),
                guidance_en: leak(&s.guidance.en),
                fields: leak_slice(
                    s.fields
                        .iter()
                        .map(|f| FieldText {
                            key: leak(&f.key),
                            label_fr: leak(&f.label.fr),
                            label_en: leak(&f.label.en),
                            guidance_fr: leak(&f.guidance.fr),
                            guidance_en: leak(&f.guidance.en),
                            from_template: f.from_template,
                        })
                        .collect(),
                ),
            })
            .collect();
        let template: &'static Template = Box::leak(Box::new(Template {
            id: leak(&file.id),
            version: leak(&file.version),
            title_fr: leak(&file.title.fr),
            title_en: leak(&file.title.en),
            document_fr: leak(&file.document.fr),
            document_en: leak(&file.document.en),
            certifier: leak(&file.certifier),
            rncp: leak_slice(file.rncp.iter().map(|r| leak(r)).collect()),
            fiches_by_bloc: file.fiches_by_bloc,
            sections: leak_slice(sections),
            engagement: leak_slice(
                file.engagement
                    .iter()
                    .map(|w| (leak(&w.fr), leak(&w.en)))
                    .collect(),
            ),
            general_information: leak_slice(
                file.general_information.iter().map(information).collect(),
            ),
            interview: file.interview.as_ref().map(information),
            fraud: leak_slice(
                file.fraud
                    .iter()
                    .map(|w| (leak(&w.fr), leak(&w.en)))
                    .collect(),
            ),
            pinned: leak(&pinned),
        }));
        interned.push(template);
        template
    }

    /// The words of one section: a model section name, `"fiches"` or `"annexes"`; `None`
    /// when this template does not ask it.
    pub fn section(&self, key: &str) -> Option<&'static SectionText> {
        self.sections.iter().find(|s| s.key == key)
    }

    /// The words of one field, e.g. `field("fiches", "contexte")`.
    pub fn field(&self, section: &str, field: &str) -> Option<&'static FieldText> {
        self.section(section)?
            .fields
            .iter()
            .find(|f| f.key == field)
    }

    /// Whether this model is meant for the certification with RNCP number `rncp` (digits):
    /// a generic model is meant for any.
    pub fn is_for(&self, rncp: &str) -> bool {
        self.rncp.is_empty() || self.rncp.contains(&rncp)
    }

    /// « Modèle (version) » as a chooser lists it.
    pub fn title(&self, english: bool) -> &'static str {
        if english {
            self.title_en
        } else {
            self.title_fr
        }
    }
}
