//! The dossier as JSON: complete and machine-readable (to take it elsewhere, or to answer a
//! GDPR access request), and read back into a new dossier with nothing lost of what it
//! holds: every field, the fiches activité in their order (deleted ones kept, marked), the
//! annexes' descriptions with their numbers, the fiches' evidence by annex number, the
//! pinned référentiel, and — when the device reads them — the comment threads.
//!
//! What it does not carry: the evidence files themselves (they stay encrypted on the relay
//! under the dossier they were added to; their name, size and SHA-256 are exported), keys,
//! and the history of edits. An imported dossier is a new dossier: new id, new keys, its
//! annexes described but without their files until they are added again.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::comments::Comments;
use crate::dossier::{
    Dossier, DossierError, FICHE_FIELDS, FieldKind, MAX_REPEATS, REPEATED, SECTIONS,
};
use crate::field_path::{FieldPath, Place};
use crate::referentiel::Referentiel;
use crate::template::{Template, TemplateError, TemplateFile};

/// What `format` says: a JSON file that is something else is refused with a clear error.
pub const FORMAT: &str = "livret-dossier";
/// This layout's version.
pub const VERSION: u32 = 1;
/// A file larger than this is not read (a dossier's text is far below).
pub const MAX_JSON: usize = 16 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("fichier illisible : ce n'est pas un export de dossier Livret ({0})")]
    NotJson(String),
    #[error("ce fichier n'est pas un export de dossier Livret (format « {0} »)")]
    OtherFormat(String),
    #[error("export de dossier en version {0}, que cette version de Livret ne lit pas")]
    Version(u32),
    #[error("fichier trop grand ({0} octets)")]
    TooLarge(usize),
    #[error(
        "trop de fiches « {0} » en plus dans ce fichier ({1}) : Livret en prend {MAX_REPEATS} au plus"
    )]
    TooMany(String, usize),
    #[error("{0}")]
    Dossier(#[from] DossierError),
    #[error("{0}")]
    Template(#[from] TemplateError),
}

/// How far a PDF export has gone, for a progress bar: annexed files are most of the work.
/// Here, outside the `pdf-export` feature, because the app shows it without holding the
/// engine (which runs in its own wasm module and reports this as JSON).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub annexes_done: usize,
    pub annexes_total: usize,
    pub bytes_done: u64,
    pub bytes_total: u64,
}

/// A size as platforms count it (1 Mo = 1,000,000 bytes), in French: `9,8 Mo`.
pub fn megabytes(bytes: u64) -> String {
    format!("{:.1} Mo", bytes as f64 / 1e6).replace('.', ",")
}

/// The same size in English: `9.8 MB`.
pub fn megabytes_in_english(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

impl Progress {
    /// Share of the annexes' bytes done, 0–100 (100 when there are none).
    pub fn percent(&self) -> u64 {
        self.bytes_done
            .saturating_mul(100)
            .checked_div(self.bytes_total)
            .unwrap_or(100)
            .min(100)
    }
}

/// What went into the livret differently from what the dossier describes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub numero: u32,
    pub message: String,
}

/// The annexe of `annexes` (the dossier's) that `described` (an export's) stands for, with
/// its file: number and fingerprint, since two devices adding annexes offline may briefly
/// give two of them the same number.
pub fn annexe_with_file<'a>(
    annexes: &'a [crate::dossier::Annexe],
    described: &AnnexeJson,
) -> Option<&'a crate::dossier::Annexe> {
    annexes.iter().find(|a| {
        a.numero == described.numero && a.empreinte == described.empreinte && a.blob.is_some()
    })
}

/// A field's value: text (short or long), or a list (compétences, blocs, evidence).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FieldValue {
    Text(String),
    List(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FicheJson {
    /// Deleted in the dossier (kept there so it can be brought back).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub supprimee: bool,
    /// Every field of the fiche, by its key (`preuves`: annex numbers).
    pub champs: BTreeMap<String, FieldValue>,
}

/// A further structure or poste.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepeatJson {
    /// Its id in the dossier ([`crate::field_path::repeat_key`]'s form), which its fields'
    /// paths carry; an import draws new ones.
    pub id: String,
    /// Deleted in the dossier (kept there so it can be brought back).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub supprimee: bool,
    /// Every field of the section, by its key.
    pub champs: BTreeMap<String, FieldValue>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnnexeJson {
    pub numero: u32,
    pub titre: String,
    pub fichier: String,
    #[serde(rename = "type")]
    pub media_type: String,
    pub taille: u64,
    /// SHA-256 of the file, hex.
    pub empreinte: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommentJson {
    pub auteur: String,
    pub date_ms: u64,
    pub texte: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadJson {
    pub champ: String,
    pub resolu: bool,
    pub commentaires: Vec<CommentJson>,
}

/// A dossier, exported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DossierJson {
    pub format: String,
    pub version: u32,
    pub referentiel: Option<Referentiel>,
    /// The template the dossier is written to ([`Dossier::template`]); absent from older
    /// exports, which get the one their dossier would have pinned ([`DossierJson::template`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modele: Option<TemplateFile>,
    /// Section → field → value, for every section of the template.
    pub sections: BTreeMap<String, BTreeMap<String, FieldValue>>,
    /// In the order the dossier shows them; deleted ones after, marked.
    pub fiches: Vec<FicheJson>,
    /// The further structures and postes ([`crate::dossier::REPEATED`]) by section, after
    /// the section's own, each with the section's fields, in the order the dossier shows
    /// them; deleted ones after, marked. Absent from older exports.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub autres: BTreeMap<String, Vec<RepeatJson>>,
    pub annexes: Vec<AnnexeJson>,
    /// The comment threads this device could read (none for a juror's export). Read for
    /// the record; an import does not bring them back (they belong to the old dossier's
    /// team key and authors).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commentaires: Vec<ThreadJson>,
}

impl FieldValue {
    /// As text: trimmed, a list's items joined by commas.
    pub fn text(&self) -> String {
        match self {
            FieldValue::Text(t) => t.trim().to_string(),
            FieldValue::List(items) => items.join(", "),
        }
    }
}

impl DossierJson {
    /// The template the dossier is written to: the one it carries, else (an older export,
    /// or one whose template does not read) the one its dossier would have pinned.
    pub fn template(&self) -> &'static Template {
        self.modele
            .as_ref()
            .and_then(|file| Template::from_file(file).ok())
            .unwrap_or_else(|| crate::template::default_for(&self.rncp(self.referentiel.as_ref())))
    }

    /// A section's field as text (a list's items joined), `""` when absent.
    pub fn text(&self, section: &str, field: &str) -> String {
        self.sections
            .get(section)
            .and_then(|s| s.get(field))
            .map(FieldValue::text)
            .unwrap_or_default()
    }

    /// The certification's RNCP number as the documents print it: the one typed in the
    /// projet VAE, else `referentiel`'s (the dossier's pinned one, or the jury's).
    pub fn rncp(&self, referentiel: Option<&Referentiel>) -> String {
        let typed = self.text("projet_vae", "rncp");
        if typed.is_empty() {
            referentiel.and_then(|r| r.rncp.clone()).unwrap_or_default()
        } else {
            typed
        }
    }

    /// Whether the template asks `section.field` given this dossier's answers
    /// ([`crate::template::is_asked`]).
    pub fn is_asked(&self, section: &str, field: &str) -> bool {
        match self.sections.get(section) {
            Some(values) => is_asked_in(section, values, field),
            None => is_asked_in(section, &BTreeMap::new(), field),
        }
    }

    /// The further structures or postes of `section` the livret prints, each with its
    /// number as the dossier shows it (from 2, after the section's own): those shown (not
    /// the deleted) with something written in them — one added by mistake and left empty
    /// is no blank page, and keeps its number.
    pub fn repeats<'a>(
        &'a self,
        section: &str,
    ) -> impl Iterator<Item = (usize, &'a RepeatJson)> + 'a {
        self.autres
            .get(section)
            .into_iter()
            .flatten()
            .filter(|item| !item.supprimee)
            .enumerate()
            .map(|(i, item)| (i + 2, item))
            .filter(|(_, item)| item.champs.values().any(|v| !v.text().is_empty()))
    }
}

/// Whether the template asks `section.field` given the answers in `values`: a section's, or
/// a further structure's or poste's (whose « précisez » follows its own answer).
pub fn is_asked_in(section: &str, values: &BTreeMap<String, FieldValue>, field: &str) -> bool {
    crate::template::is_asked(section, field, &mut |after| {
        let kind = FieldPath::section(section, after)?.kind();
        let written = values.get(after).map(FieldValue::text).unwrap_or_default();
        match crate::dossier::Answer::of(kind, &written) {
            crate::dossier::Answer::Chosen(c) => Some(c.key),
            _ => None,
        }
    })
}

/// A field as [`Dossier::get`] gives it: lists come as a JSON array (or nothing yet).
fn value_of(kind: FieldKind, stored: String) -> FieldValue {
    match kind {
        FieldKind::List => FieldValue::List(
            serde_json::from_str::<Vec<String>>(&stored).unwrap_or_else(|_| {
                stored
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            }),
        ),
        _ => FieldValue::Text(stored),
    }
}

/// The fields at `place` (a section, a fiche, a further structure), each as [`value_of`].
fn values_at(
    doc: &mut Dossier,
    place: Place,
    fields: &[(&str, FieldKind)],
) -> BTreeMap<String, FieldValue> {
    fields
        .iter()
        .map(|(field, kind)| {
            let stored = FieldPath::at(place, field)
                .map(|path| doc.get_field(&path))
                .unwrap_or_default();
            (field.to_string(), value_of(*kind, stored))
        })
        .collect()
}

/// The dossier as [`DossierJson`]; `comments`: the threads to include, if any.
pub fn export(doc: &mut Dossier, comments: Option<&Comments>) -> Result<DossierJson, ExportError> {
    let mut sections = BTreeMap::new();
    for (section, fields) in SECTIONS {
        sections.insert(
            section.to_string(),
            values_at(doc, Place::Section(section), fields),
        );
    }
    let annexes = doc.annexes();
    // Evidence by number: a fiche names its annexes by file in the dossier, which means
    // nothing outside it.
    let numero_of = |entry: &str| {
        annexes
            .iter()
            .find(|a| a.is_named_by(entry))
            .map_or_else(|| entry.to_string(), |a| a.numero.to_string())
    };
    let deleted = doc.deleted_fiches();
    let places = doc.fiche_order().into_iter().chain(deleted.iter().copied());
    let mut fiches = Vec::new();
    for place in places.collect::<Vec<_>>() {
        let mut champs = BTreeMap::new();
        for (field, kind) in FICHE_FIELDS {
            let stored = FieldPath::fiche(place, field)
                .map(|path| doc.get_field(&path))
                .unwrap_or_default();
            let mut value = value_of(*kind, stored);
            if *field == "preuves"
                && let FieldValue::List(items) = &mut value
            {
                // A file id naming no annexe of the livret any more (deleted, erased) says
                // nothing to a reader: left out rather than printed.
                items.retain(|item| {
                    item.parse::<u32>().is_ok() || annexes.iter().any(|a| a.is_named_by(item))
                });
                for item in items.iter_mut() {
                    *item = numero_of(item);
                }
            }
            champs.insert(field.to_string(), value);
        }
        fiches.push(FicheJson {
            supprimee: deleted.contains(&place),
            champs,
        });
    }
    let mut autres = BTreeMap::new();
    for (section, fields) in SECTIONS.iter().filter(|(s, _)| REPEATED.contains(s)) {
        let deleted = doc.deleted_repeats(section);
        let mut items = Vec::new();
        for id in doc
            .repeats(section)
            .into_iter()
            .chain(deleted.iter().copied())
        {
            items.push(RepeatJson {
                id: crate::field_path::repeat_key(id),
                supprimee: deleted.contains(&id),
                champs: values_at(doc, Place::Repeat(section, id), fields),
            });
        }
        if !items.is_empty() {
            autres.insert(section.to_string(), items);
        }
    }
    let commentaires = comments
        .map(|c| {
            c.threads
                .iter()
                .map(|t| ThreadJson {
                    champ: t.first.field.clone(),
                    resolu: t.resolved(),
                    commentaires: std::iter::once(&t.first)
                        .chain(&t.replies)
                        .map(|c| CommentJson {
                            auteur: c.author.clone(),
                            date_ms: c.at_ms,
                            texte: c.text.clone(),
                        })
                        .collect(),
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(DossierJson {
        format: FORMAT.to_string(),
        version: VERSION,
        referentiel: doc.referentiel(),
        modele: TemplateFile::read(doc.template().pinned).ok(),
        sections,
        fiches,
        autres,
        annexes: annexes
            .into_iter()
            .map(|a| AnnexeJson {
                numero: a.numero,
                titre: a.titre,
                fichier: a.fichier,
                media_type: a.media_type,
                taille: a.taille,
                empreinte: a.empreinte,
            })
            .collect(),
        commentaires,
    })
}

/// Reads an export, refusing anything else with a clear error (before any change is made).
/// The name the livret's PDF is saved under: `livret-2-nom-prenom.pdf` from the état civil
/// (letters without accents, words joined by hyphens), `livret-2.pdf` while it is empty —
/// a name a candidate, an advisor and a certifier's inbox can tell apart.
pub fn pdf_file_name(json: &DossierJson) -> String {
    let field = |name: &str| match json.sections.get("etat_civil").and_then(|s| s.get(name)) {
        Some(FieldValue::Text(text)) => text.clone(),
        _ => String::new(),
    };
    let mut name = String::from("livret-2");
    for part in [field("nom"), field("prenom")] {
        let slug: String = crate::search::folded(&part)
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { ' ' })
            .collect::<String>()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join("-");
        if !slug.is_empty() {
            name.push('-');
            name.push_str(&slug);
        }
    }
    name.push_str(".pdf");
    name
}

pub fn parse(bytes: &[u8]) -> Result<DossierJson, ExportError> {
    if bytes.len() > MAX_JSON {
        return Err(ExportError::TooLarge(bytes.len()));
    }
    // The header first: a JSON file of another kind says so rather than "missing field".
    #[derive(Deserialize)]
    struct Header {
        format: Option<String>,
        version: Option<u32>,
    }
    let header: Header =
        serde_json::from_slice(bytes).map_err(|e| ExportError::NotJson(e.to_string()))?;
    match header.format.as_deref() {
        Some(FORMAT) => {}
        other => return Err(ExportError::OtherFormat(other.unwrap_or("absent").into())),
    }
    if header.version != Some(VERSION) {
        return Err(ExportError::Version(header.version.unwrap_or(0)));
    }
    let json: DossierJson =
        serde_json::from_slice(bytes).map_err(|e| ExportError::NotJson(e.to_string()))?;
    if let Some(modele) = &json.modele {
        Template::import(&modele.pinned_json())?;
    }
    // Each addition reads its section's others again: thousands would freeze the import.
    if let Some((section, items)) = json.autres.iter().find(|(_, i)| i.len() > MAX_REPEATS) {
        return Err(ExportError::TooMany(section.clone(), items.len()));
    }
    // Every path must exist before anything is written: an unknown one fails here.
    let mut probe = Dossier::new(b"probe");
    fill(&mut probe, &json)?;
    Ok(json)
}

/// Writes an export into `doc` (a new, empty dossier). An export of an older version may
/// hold free text where an answer is now chosen: it is kept as written
/// ([`Dossier::set_as_written`]).
pub fn fill(doc: &mut Dossier, json: &DossierJson) -> Result<(), ExportError> {
    if let Some(r) = &json.referentiel {
        doc.set_referentiel(r)?;
    }
    doc.set_template(json.template())?;
    let as_stored = |value: &FieldValue| match value {
        FieldValue::Text(t) => t.clone(),
        FieldValue::List(items) => items.join(", "),
    };
    for (section, fields) in &json.sections {
        for (field, value) in fields {
            let path = FieldPath::section(section, field)
                .ok_or_else(|| DossierError::UnknownPath(format!("{section}.{field}")))?;
            doc.set_as_written(&path, &as_stored(value))?;
        }
    }
    for annexe in &json.annexes {
        doc.add_annexe_description(
            annexe.numero,
            crate::dossier::AnnexeDescription {
                titre: &annexe.titre,
                fichier: &annexe.fichier,
                media_type: &annexe.media_type,
                taille: annexe.taille,
                empreinte: &annexe.empreinte,
            },
        )?;
    }
    for fiche in &json.fiches {
        let place = doc.add_fiche()?;
        for (field, value) in &fiche.champs {
            let path = FieldPath::fiche(place, field)
                .ok_or_else(|| DossierError::UnknownPath(format!("fiches.{place}.{field}")))?;
            doc.set_as_written(&path, &as_stored(value))?;
        }
        if fiche.supprimee {
            doc.delete_fiche(place)?;
        }
    }
    for (section, items) in &json.autres {
        for item in items {
            let id = doc.add_repeat(section)?;
            for (field, value) in &item.champs {
                let path = FieldPath::repeat(section, id, field)
                    .ok_or_else(|| DossierError::UnknownPath(format!("{section}.{field}")))?;
                doc.set_as_written(&path, &as_stored(value))?;
            }
            if item.supprimee {
                doc.delete_repeat(section, id)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dossier::NewAnnexe;
    use crate::evidence::{BlobId, Sealer};

    #[test]
    fn the_pdf_is_named_after_the_candidate() {
        let mut d = Dossier::new(b"a");
        assert_eq!(
            pdf_file_name(&export(&mut d, None).unwrap()),
            "livret-2.pdf"
        );
        d.set("etat_civil.nom", "  Le Bihan-Gaël ").unwrap();
        d.set("etat_civil.prenom", "Anne Sophie / Zoé").unwrap();
        assert_eq!(
            pdf_file_name(&export(&mut d, None).unwrap()),
            "livret-2-le-bihan-gael-anne-sophie-zoe.pdf"
        );
    }

    fn sample() -> Dossier {
        let mut d = Dossier::new(b"a");
        d.set("etat_civil.nom", "Durand").unwrap();
        d.set(
            "motivation.lettre",
            "Valider dix ans de métier.\nAvec des accents : é, à, ç.",
        )
        .unwrap();
        d.set("projet_vae.blocs_vises", "1, 2").unwrap();
        let (_, key) = Sealer::new();
        let blob = BlobId([7; 16]);
        d.add_annexe(NewAnnexe {
            titre: "Attestation",
            fichier: "attestation.pdf",
            media_type: "application/pdf",
            taille: 1234,
            empreinte: "ab12",
            blob,
            pieces: 1,
            key: &key,
        })
        .unwrap();
        let first = d.add_fiche().unwrap();
        let second = d.add_fiche().unwrap();
        let third = d.add_fiche().unwrap();
        d.set(&format!("fiches.{first}.contexte"), "Une PME")
            .unwrap();
        d.set(&format!("fiches.{first}.preuves"), &blob.to_hex())
            .unwrap();
        d.set(&format!("fiches.{second}.competences"), "C1.1, C2.3")
            .unwrap();
        d.set(&format!("fiches.{third}.intitule"), "Supprimée")
            .unwrap();
        d.move_fiche(second, true).unwrap();
        d.delete_fiche(third).unwrap();
        // A second employer, a third one deleted, and a second position.
        d.set("structure.nom", "Datavia").unwrap();
        for name in ["Mutuelle du Rhône", "Supprimée"] {
            let id = d.add_repeat("structure").unwrap();
            d.set(&FieldPath::repeat("structure", id, "nom").unwrap(), name)
                .unwrap();
        }
        let deleted = d.repeats("structure")[1];
        d.delete_repeat("structure", deleted).unwrap();
        let poste = d.add_repeat("poste").unwrap();
        d.set(
            &FieldPath::repeat("poste", poste, "statut").unwrap(),
            "autre",
        )
        .unwrap();
        d.set(
            &FieldPath::repeat("poste", poste, "statut_autre").unwrap(),
            "Portage salarial",
        )
        .unwrap();
        d
    }

    #[test]
    fn a_deleted_annexe_is_cited_by_no_fiche_of_the_export() {
        let mut d = sample();
        let place = d.annexes()[0].place;
        d.delete_annexe(place, true).unwrap();
        let json = export(&mut d, None).unwrap();
        assert_eq!(
            json.fiches[1].champs["preuves"],
            FieldValue::List(Vec::new()),
            "no file id printed for an annexe in the bin"
        );
    }

    #[test]
    fn an_export_imported_exports_the_same() {
        let mut d = sample();
        let json = export(&mut d, None).unwrap();
        assert_eq!(json.fiches.len(), 3);
        assert_eq!(
            json.fiches[0].champs["competences"],
            FieldValue::List(vec!["C1.1".into(), "C2.3".into()]),
            "moved up"
        );
        assert_eq!(
            json.fiches[1].champs["preuves"],
            FieldValue::List(vec!["1".into()]),
            "evidence by annex number"
        );
        assert!(json.fiches[2].supprimee);
        let structures = &json.autres["structure"];
        assert_eq!(structures.len(), 2);
        assert_eq!(
            structures[0].champs["nom"],
            FieldValue::Text("Mutuelle du Rhône".into())
        );
        assert!(structures[1].supprimee);
        assert_eq!(json.repeats("structure").count(), 1);
        // Added and left empty: kept in the export, not printed.
        let mut with_empty = json.clone();
        let mut empty = structures[0].clone();
        empty
            .champs
            .values_mut()
            .for_each(|v| *v = FieldValue::Text(String::new()));
        with_empty.autres.get_mut("structure").unwrap().push(empty);
        assert_eq!(with_empty.repeats("structure").count(), 1);
        assert_eq!(
            json.autres["poste"][0].champs["statut_autre"],
            FieldValue::Text("Portage salarial".into())
        );
        let text = serde_json::to_vec_pretty(&json).unwrap();
        let back = parse(&text).unwrap();
        let mut imported = Dossier::new(b"b");
        fill(&mut imported, &back).unwrap();
        // The same, but for the further structures' ids: an import draws its own.
        let without_ids = |mut json: DossierJson| {
            for item in json.autres.values_mut().flatten() {
                item.id.clear();
            }
            json
        };
        assert_eq!(
            without_ids(export(&mut imported, None).unwrap()),
            without_ids(json.clone())
        );
        assert_eq!(
            imported.get("motivation.lettre").unwrap(),
            "Valider dix ans de métier.\nAvec des accents : é, à, ç."
        );
    }

    #[test]
    fn other_files_are_refused_with_a_clear_error() {
        assert!(matches!(
            parse(b"{ pas du json"),
            Err(ExportError::NotJson(_))
        ));
        assert!(matches!(
            parse(br#"{"format": "autre", "version": 1}"#),
            Err(ExportError::OtherFormat(f)) if f == "autre"
        ));
        assert!(matches!(
            parse(br#"{"format": "livret-dossier", "version": 9}"#),
            Err(ExportError::Version(9))
        ));
        let mut json = export(&mut sample(), None).unwrap();
        json.sections
            .get_mut("etat_civil")
            .unwrap()
            .insert("inconnu".into(), FieldValue::Text("x".into()));
        let text = serde_json::to_vec(&json).unwrap();
        assert!(matches!(
            parse(&text),
            Err(ExportError::Dossier(DossierError::UnknownPath(_)))
        ));
    }
}
