//! The Livret 2 as an automerge document, with a typed, path-based API.
//!
//! Sections follow the official template (ANNEXE 5 of the RNCP37827 règlement): état civil,
//! situation, financement, projet VAE, lettre de motivation, CV, fiches structure and poste,
//! fiches activité, annexes, déclaration sur l'honneur. Long fields are automerge *text*, so
//! two people typing in one field merge character by character; short fields are plain values
//! (last writer wins). Paths look like `etat_civil.nom` or `fiches.0.contexte`.

use automerge::transaction::Transactable;
use automerge::{
    ActorId, AutoCommit, ChangeHash, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value,
};
use serde_json::json;

use crate::date::Date;
use crate::evidence::{BlobId, EvidenceKey};
use crate::field_path::{FieldPath, Place, ToFieldPath, UnknownField};
use crate::referentiel::{Referentiel, split_citation};
use crate::template::{self, Choice, Template};

/// An evidence file to add to the annexes ([`Dossier::add_annexe`]).
pub struct NewAnnexe<'a> {
    pub titre: &'a str,
    pub fichier: &'a str,
    pub media_type: &'a str,
    pub taille: u64,
    pub empreinte: &'a str,
    pub blob: BlobId,
    pub pieces: u32,
    pub key: &'a EvidenceKey,
}

/// An annexe described without its file (an imported dossier's: [`Dossier::add_annexe_description`]).
pub struct AnnexeDescription<'a> {
    pub titre: &'a str,
    pub fichier: &'a str,
    pub media_type: &'a str,
    pub taille: u64,
    pub empreinte: &'a str,
}

/// One annexe as listed (its key stays in the document: [`Dossier::annexe_key`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annexe {
    /// Place in the document's list.
    pub place: usize,
    pub numero: u32,
    pub titre: String,
    pub fichier: String,
    pub media_type: String,
    pub taille: u64,
    pub empreinte: String,
    pub blob: Option<BlobId>,
    pub pieces: u32,
}

impl Annexe {
    /// How a fiche names this annexe among its `preuves`: by its file, which never changes
    /// (its number may: see [`Dossier::renumber_duplicate_annexes`]); by number for an
    /// annexe without a file.
    pub fn reference(&self) -> String {
        self.blob
            .map_or_else(|| self.numero.to_string(), |b| b.to_hex())
    }

    /// Whether `entry` (one of a fiche's `preuves`) names this annexe: its file, or its
    /// number as typed before fiches named files.
    pub fn is_named_by(&self, entry: &str) -> bool {
        entry == self.reference() || entry.parse::<u32>() == Ok(self.numero)
    }
}

/// Where an annexe stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AnnexeState {
    Live,
    /// In the bin: can be restored, its file still on the server.
    Deleted,
    /// Its file erased from the server: gone for good.
    Erased,
}

/// Whether two of a field's values, as [`Dossier::get_field`] gives them, are the same
/// answer: a list never made reads "" and an emptied one "[]".
fn same_value(kind: FieldKind, a: &str, b: &str) -> bool {
    if kind == FieldKind::List {
        let items = |s: &str| serde_json::from_str::<Vec<String>>(s).unwrap_or_default();
        return items(a) == items(b);
    }
    a == b
}

/// Version of the document layout. Older documents are migrated on open ([`Dossier::load`]).
pub const SCHEMA_VERSION: i64 = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldKind {
    /// A short value: last writer wins.
    Scalar,
    /// Running text: concurrent edits merge.
    Text,
    /// A list of short values (`competences`: référentiel codes, `preuves`: the annexes'
    /// references, [`Annexe::reference`]).
    List,
    /// A box the template prints to tick: `oui` when ticked, empty when not (last writer
    /// wins, as for a short value).
    Tick,
    /// One of the answers the template prints to circle: the chosen one's key
    /// ([`Choice::key`]; last writer wins). What an older version let people type freely
    /// here is kept word for word when it is none of them ([`Answer::AsWritten`]).
    Choice(&'static [Choice]),
    /// A day of the calendar, stored `AAAA-MM-JJ` (typed `jj/mm/aaaa` is read too); older
    /// free text that is no day is kept as written, like a choice's.
    Date,
}

/// What a field of a given kind holds, read the way it is shown: a choice or a day
/// recognised however it was written (an older version's device may still write the
/// label or `jj/mm/aaaa`), else the text as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Empty,
    Chosen(&'static Choice),
    Day(Date),
    /// Free text: a text field's, or what an older version kept in a field that now takes a
    /// choice or a day and is none of them (to be chosen again; never thrown away).
    AsWritten(String),
}

impl Answer {
    pub fn of(kind: FieldKind, stored: &str) -> Answer {
        if stored.trim().is_empty() {
            return Answer::Empty;
        }
        let read = match kind {
            FieldKind::Choice(options) => template::choice_of(options, stored).map(Answer::Chosen),
            FieldKind::Date => Date::read(stored).map(Answer::Day),
            _ => None,
        };
        read.unwrap_or_else(|| Answer::AsWritten(stored.to_string()))
    }

    /// How the dossier stores this answer: a choice by its key, a day as `AAAA-MM-JJ`,
    /// nothing as `""`; `None` for free text, which a choice or a day does not take.
    fn stored_form(&self) -> Option<String> {
        match self {
            Answer::Empty => Some(String::new()),
            Answer::Chosen(choice) => Some(choice.key.to_string()),
            Answer::Day(day) => Some(day.iso()),
            Answer::AsWritten(_) => None,
        }
    }

    /// Whether a field that takes a choice or a day holds free text instead.
    pub fn is_as_written(&self, kind: FieldKind) -> bool {
        matches!(kind, FieldKind::Choice(_) | FieldKind::Date)
            && matches!(self, Answer::AsWritten(_))
    }
}

/// What a ticked box ([`FieldKind::Tick`]) holds.
pub const TICKED: &str = "oui";

/// Every section of the template, with its fields.
pub const SECTIONS: &[(&str, &[(&str, FieldKind)])] = &[
    (
        "etat_civil",
        &[
            ("civilite", FieldKind::Choice(template::CIVILITE)),
            ("nom", FieldKind::Scalar),
            ("nom_naissance", FieldKind::Scalar),
            ("prenom", FieldKind::Scalar),
            ("date_naissance", FieldKind::Date),
            ("lieu_naissance", FieldKind::Scalar),
            ("nationalite", FieldKind::Scalar),
            ("adresse", FieldKind::Scalar),
            ("code_postal", FieldKind::Scalar),
            ("ville", FieldKind::Scalar),
            ("telephone", FieldKind::Scalar),
            ("courriel", FieldKind::Scalar),
        ],
    ),
    (
        "situation",
        &[
            ("statut", FieldKind::Choice(template::STATUT)),
            ("emploi", FieldKind::Scalar),
            ("employeur", FieldKind::Scalar),
            ("contrat", FieldKind::Choice(template::CONTRAT)),
            ("temps", FieldKind::Choice(template::TEMPS)),
            ("quotite", FieldKind::Scalar),
            ("csp", FieldKind::Choice(template::CSP)),
            ("csp_autre", FieldKind::Scalar),
            (
                "inscrit_france_travail",
                FieldKind::Choice(template::OUI_NON),
            ),
            ("depuis", FieldKind::Scalar),
            ("precisions", FieldKind::Text),
        ],
    ),
    (
        "financement",
        &[
            ("mode", FieldKind::Choice(template::FINANCEMENT_MODES)),
            ("organisme", FieldKind::Scalar),
            ("entreprise_adresse", FieldKind::Scalar),
            ("entreprise_siret", FieldKind::Scalar),
            ("signataire", FieldKind::Scalar),
            ("agence", FieldKind::Scalar),
            ("conseiller", FieldKind::Scalar),
            ("conseiller_contact", FieldKind::Scalar),
            ("precisions", FieldKind::Text),
        ],
    ),
    (
        "projet_vae",
        &[
            ("certification", FieldKind::Scalar),
            ("rncp", FieldKind::Scalar),
            ("blocs_vises", FieldKind::List),
            ("centre", FieldKind::Scalar),
            ("date_jury", FieldKind::Date),
        ],
    ),
    ("motivation", &[("lettre", FieldKind::Text)]),
    (
        "cv",
        &[
            ("parcours", FieldKind::Text),
            ("formations", FieldKind::Text),
        ],
    ),
    (
        "structure",
        &[
            ("nom", FieldKind::Scalar),
            ("secteur", FieldKind::Scalar),
            ("effectif", FieldKind::Scalar),
            ("presentation", FieldKind::Text),
        ],
    ),
    (
        "poste",
        &[
            ("intitule", FieldKind::Scalar),
            ("statut", FieldKind::Choice(template::STATUT_POSTE)),
            ("statut_autre", FieldKind::Scalar),
            ("rattachement", FieldKind::Scalar),
            ("missions", FieldKind::Text),
        ],
    ),
    (
        "declaration",
        &[
            ("fraudes", FieldKind::Tick),
            ("exactitude", FieldKind::Tick),
            ("lieu", FieldKind::Scalar),
            ("date", FieldKind::Date),
            ("signature", FieldKind::Scalar),
        ],
    ),
];

/// The fields of `section` (one of [`SECTIONS`]); none for another name.
pub fn section_fields(section: &str) -> &'static [(&'static str, FieldKind)] {
    SECTIONS
        .iter()
        .find(|(s, _)| *s == section)
        .map_or(&[], |(_, fields)| fields)
}

/// Sections a candidate fills once per structure or per poste (several employers, several
/// positions: the template's « votre (vos) structure(s), votre (vos) poste(s) occupé(s) »).
/// The first is the section itself, as it always was; each further one is a map inside the
/// section's map, under its id ([`Place::Repeat`]). Nothing moves, so dossiers made before
/// keep their first structure where every version reads it; and a further one lives under a
/// key no other device can also make, so two devices adding one at once, offline, both keep
/// theirs (a new list at the document's root, made by two devices migrating at once, would
/// hide one device's items behind the other's list).
pub const REPEATED: &[&str] = &["structure", "poste"];

/// Fields of a fiche descriptive d'activité, in the template's order.
pub const FICHE_FIELDS: &[(&str, FieldKind)] = &[
    ("bloc", FieldKind::Scalar),
    ("competences", FieldKind::List),
    ("intitule", FieldKind::Scalar),
    ("entreprise", FieldKind::Scalar),
    ("periode", FieldKind::Scalar),
    ("contexte", FieldKind::Text),
    ("problematique", FieldKind::Text),
    ("taches", FieldKind::Text),
    ("moyens", FieldKind::Text),
    ("frequence", FieldKind::Scalar),
    ("resultats", FieldKind::Text),
    ("preuves", FieldKind::List),
];

/// Metadata of an annexe (the file itself is an encrypted blob elsewhere).
pub const ANNEXE_FIELDS: &[(&str, FieldKind)] = &[
    ("numero", FieldKind::Scalar),
    ("titre", FieldKind::Scalar),
    ("fichier", FieldKind::Scalar),
    ("type", FieldKind::Scalar),
    ("taille", FieldKind::Scalar),
    ("empreinte", FieldKind::Scalar),
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DossierError {
    #[error("chemin inconnu : {0}")]
    UnknownPath(String),
    #[error("document illisible : {0}")]
    Corrupt(String),
    #[error("« {0} » : une case est cochée (« oui ») ou laissée vide")]
    NotATick(String),
    /// `.0` written, `.1` the answers the field takes (their French labels).
    #[error("« {0} » n’est pas l’une des réponses possibles : {answers}", answers = .1.join(", "))]
    NotAChoice(String, Vec<String>),
    #[error("« {0} » n’est pas une date (jj/mm/aaaa)")]
    NotADay(String),
    /// A section holds [`MAX_REPEATS`] further ones already (deleted ones count: they can
    /// be restored).
    #[error("« {0} » : {MAX_REPEATS} fiches en plus au plus, supprimées comprises")]
    TooManyRepeats(String),
}

/// Further structures or postes a section holds at most, deleted ones included (a career
/// has far fewer; an export holding more is refused the same way).
pub const MAX_REPEATS: usize = 200;

impl From<UnknownField> for DossierError {
    fn from(e: UnknownField) -> DossierError {
        DossierError::UnknownPath(e.0)
    }
}

fn corrupt(e: impl std::fmt::Display) -> DossierError {
    DossierError::Corrupt(e.to_string())
}

/// One line of the récapitulatif des compétences ([`Dossier::coverage`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    /// The bloc's number, 0 for a code the référentiel does not have.
    pub bloc: u32,
    pub code: String,
    pub title: String,
    /// Fiches activité (0-based) that name this compétence.
    pub fiches: Vec<usize>,
    /// The annexes (their numbers) those fiches give as evidence: what backs the claim.
    pub annexes: Vec<u32>,
    /// The criteria fiches cite (`C5#2`): each one's rank (1-based) and the fiches citing it.
    pub criteria: Vec<(usize, Vec<usize>)>,
}

/// A Livret 2 document.
pub struct Dossier {
    doc: AutoCommit,
}

impl std::fmt::Debug for Dossier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Dossier([contenu chiffré])")
    }
}

impl Dossier {
    /// A new, empty Livret 2 written by `actor` (the device's signing key makes a good one).
    pub fn new(actor: &[u8]) -> Dossier {
        let mut doc = AutoCommit::new().with_actor(ActorId::from(actor));
        doc.put(ROOT, "schema_version", SCHEMA_VERSION)
            .expect("root is a map");
        let mut d = Dossier { doc };
        d.ensure_layout();
        // Every section's running texts, made once here by the dossier's maker: see
        // `make_texts` (a migration could not do it for older dossiers, two devices
        // migrating at once would each make theirs).
        for (section, fields) in SECTIONS {
            let section = d.map_at(&ROOT, section).expect("made by ensure_layout");
            d.make_texts(&section, fields)
                .expect("a new document takes them");
        }
        d
    }

    /// A new jury session (`crate::session`) written by `actor`: a document shared and
    /// sealed like a dossier, holding a session instead of the Livret's sections.
    pub fn new_session(actor: &[u8]) -> Dossier {
        let mut doc = AutoCommit::new().with_actor(ActorId::from(actor));
        doc.put(ROOT, "schema_version", SCHEMA_VERSION)
            .expect("root is a map");
        crate::session::init(&mut doc);
        Dossier { doc }
    }

    /// Whether this document is a jury session rather than a dossier.
    pub fn is_session(&self) -> bool {
        crate::session::is_session(&self.doc)
    }

    /// Loads saved bytes (a snapshot or a sequence of change batches) and migrates older
    /// layouts.
    pub fn load(bytes: &[u8], actor: &[u8]) -> Result<Dossier, DossierError> {
        let doc = AutoCommit::load(bytes)
            .map_err(corrupt)?
            .with_actor(ActorId::from(actor));
        let mut d = Dossier { doc };
        // An empty document is a replica waiting for the owner's first changes: creating
        // sections here would race with the owner's and hide one side's edits.
        // A session has no Livret sections to migrate.
        if d.doc.keys(ROOT).next().is_some() && !d.is_session() {
            d.migrate()?;
            // A change of its own, marked: a migration never rides on the first edit typed
            // after it, and the history does not show it as an edit of whoever opened.
            d.doc.commit_with(
                automerge::transaction::CommitOptions::default()
                    .with_message(crate::history::MIGRATION.to_string()),
            );
        }
        Ok(d)
    }

    /// Loads saved bytes as they are, without migrating: for a reader (a juror), whose
    /// migration changes could never be sent and would only fork its copy.
    pub fn load_as_reader(bytes: &[u8], actor: &[u8]) -> Result<Dossier, DossierError> {
        let doc = AutoCommit::load(bytes)
            .map_err(corrupt)?
            .with_actor(ActorId::from(actor));
        Ok(Dossier { doc })
    }

    /// A replica with no content yet (joining a shared dossier).
    pub fn empty(actor: &[u8]) -> Dossier {
        Dossier {
            doc: AutoCommit::new().with_actor(ActorId::from(actor)),
        }
    }

    pub fn automerge(&mut self) -> &mut AutoCommit {
        &mut self.doc
    }

    pub fn save(&mut self) -> Vec<u8> {
        self.doc.save()
    }

    pub fn schema_version(&self) -> i64 {
        match self.doc.get(ROOT, "schema_version") {
            Ok(Some((Value::Scalar(s), _))) => match s.as_ref() {
                ScalarValue::Int(i) => *i,
                ScalarValue::Uint(u) => *u as i64,
                _ => 0,
            },
            _ => 0,
        }
    }

    /// Older documents: version 0 kept the motivation letter as a plain string, which did not
    /// merge concurrent typing. Version 1 makes it text; version 2 adds the (sealed)
    /// comments' maps; version 3 reads the free text typed where the template has answers to
    /// circle or a date ([`Dossier::set_as_written`]: « Mme » becomes the choice madame,
    /// « 12/04/1989 » the day 1989-04-12, « Salariée en CDI » stays as written); version 4
    /// adds the map of the members' names ([`crate::member_names`]); version 5 pins the
    /// template the dossier was shown with ([`Dossier::template`]).
    fn migrate(&mut self) -> Result<(), DossierError> {
        let version = self.schema_version();
        if version >= SCHEMA_VERSION {
            return Ok(());
        }
        if version < 1
            && let Ok(Some((Value::Scalar(s), _))) = self.doc.get(ROOT, "motivation")
        {
            let old = s.as_str().unwrap_or_default().to_string();
            self.doc.delete(ROOT, "motivation").map_err(corrupt)?;
            let section = self
                .doc
                .put_object(ROOT, "motivation", ObjType::Map)
                .map_err(corrupt)?;
            let text = self
                .doc
                .put_object(&section, "lettre", ObjType::Text)
                .map_err(corrupt)?;
            self.doc.splice_text(&text, 0, 0, &old).map_err(corrupt)?;
        }
        if version < 3 {
            self.read_free_text_as_answers()?;
        }
        if version < 5 && self.pinned_template().is_none() {
            // What the version before showed: ANNEXE 5, whose certifier's own words it printed
            // only for that certifier's certification; the general model (same sections and
            // fields, no certifier named) for any other.
            let shown = crate::template::default_for(&self.certification_number());
            self.set_template(shown)?;
        }
        self.ensure_layout();
        self.doc
            .put(ROOT, "schema_version", SCHEMA_VERSION)
            .map_err(corrupt)?;
        Ok(())
    }

    fn read_free_text_as_answers(&mut self) -> Result<(), DossierError> {
        for (section, fields) in SECTIONS {
            for (field, kind) in *fields {
                if !matches!(kind, FieldKind::Choice(_) | FieldKind::Date) {
                    continue;
                }
                let Some(path) = FieldPath::section(section, field) else {
                    continue;
                };
                let stored = self.get_field(&path);
                if stored.is_empty() {
                    continue;
                }
                // Written only when it reads as something else: an untouched field gets no
                // change (two devices migrating at once write the same value anyway).
                if let Some(read) = Answer::of(*kind, &stored).stored_form()
                    && read != stored
                {
                    self.set(&path, &read)?;
                }
            }
        }
        Ok(())
    }

    /// Creates missing sections and lists (idempotent).
    fn ensure_layout(&mut self) {
        for (section, _) in SECTIONS {
            if self.map_at(&ROOT, section).is_none() {
                self.doc
                    .put_object(ROOT, *section, ObjType::Map)
                    .expect("root is a map");
            }
        }
        // Comments between the candidate and advisors, sealed with the team key
        // (`crate::comments`); made here, with the dossier, never by whoever comments first.
        // The members' names (`crate::member_names`), made here for the same reason.
        for map in [
            crate::comments::COMMENTS_MAP,
            crate::comments::THREADS_MAP,
            crate::member_names::NAMES_MAP,
        ] {
            if self.map_at(&ROOT, map).is_none() {
                self.doc
                    .put_object(ROOT, map, ObjType::Map)
                    .expect("root is a map");
            }
        }
        for list in ["fiches", "annexes"] {
            if self.list_at(&ROOT, list).is_none() {
                self.doc
                    .put_object(ROOT, list, ObjType::List)
                    .expect("root is a map");
            }
        }
    }

    fn map_at(&self, parent: &ObjId, key: &str) -> Option<ObjId> {
        match self.doc.get(parent, key) {
            Ok(Some((Value::Object(ObjType::Map), id))) => Some(id),
            _ => None,
        }
    }

    fn list_at(&self, parent: &ObjId, key: &str) -> Option<ObjId> {
        match self.doc.get(parent, key) {
            Ok(Some((Value::Object(ObjType::List), id))) => Some(id),
            _ => None,
        }
    }

    /// Pins the template the dossier is written to: its text is embedded, so a later version
    /// of the model (or of Livret) never changes the questions of a dossier already begun.
    pub fn set_template(&mut self, template: &Template) -> Result<(), DossierError> {
        self.doc
            .put(ROOT, "template", template.pinned)
            .map_err(corrupt)
    }

    /// The pinned template, if the dossier has one that reads.
    fn pinned_template(&self) -> Option<&'static Template> {
        match self.doc.get(ROOT, "template") {
            Ok(Some((Value::Scalar(s), _))) => Template::parse(s.as_str()?).ok(),
            _ => None,
        }
    }

    /// The template the dossier is written to ([`Dossier::set_template`]). A dossier that
    /// pins none (a reader's copy of one made before templates were data, not migrated
    /// by its reader) gets the one its migration pins.
    pub fn template(&self) -> &'static Template {
        self.pinned_template()
            .unwrap_or_else(|| crate::template::default_for(&self.certification_number()))
    }

    /// The certification's RNCP number as the dossier gives it: typed in « Votre projet
    /// VAE », else the pinned référentiel's.
    fn certification_number(&self) -> String {
        let typed = self
            .map_at(&ROOT, "projet_vae")
            .and_then(|section| match self.doc.get(&section, "rncp") {
                Ok(Some((Value::Scalar(s), _))) => s.as_str().map(str::to_string),
                _ => None,
            })
            .unwrap_or_default();
        if !typed.trim().is_empty() {
            return typed;
        }
        // Only the number is wanted: the référentiel's other keys are skipped unread.
        #[derive(serde::Deserialize)]
        struct Number {
            #[serde(default)]
            rncp: Option<String>,
        }
        match self.doc.get(ROOT, "referentiel") {
            Ok(Some((Value::Scalar(s), _))) => s
                .as_str()
                .and_then(|json| serde_json::from_str::<Number>(json).ok())
                .and_then(|n| n.rncp)
                .unwrap_or_default(),
            _ => String::new(),
        }
    }

    /// Pins the référentiel the dossier targets: its JSON is embedded, with its hash.
    pub fn set_referentiel(&mut self, r: &Referentiel) -> Result<(), DossierError> {
        use sha2::Digest;
        let json = r.to_json();
        let hash = hex::encode(sha2::Sha256::digest(json.as_bytes()));
        self.doc.put(ROOT, "referentiel", json).map_err(corrupt)?;
        self.doc
            .put(ROOT, "referentiel_sha256", hash)
            .map_err(corrupt)?;
        Ok(())
    }

    /// Keeps the candidate's latest standing notice of retention in the dossier (each member
    /// device learns from it that the candidate came back: a deletion notice older than it
    /// is stale, see `exchange::deletion_learnt`).
    pub fn set_retention_notice(&mut self, notice: &[u8]) -> Result<(), DossierError> {
        self.doc
            .put(
                ROOT,
                "retention_notice",
                ScalarValue::Bytes(notice.to_vec()),
            )
            .map_err(corrupt)
    }

    /// The notice [`Dossier::set_retention_notice`] kept, as written (checked by the reader).
    pub fn retention_notice(&self) -> Option<Vec<u8>> {
        match self.doc.get(ROOT, "retention_notice") {
            Ok(Some((Value::Scalar(s), _))) => match s.as_ref() {
                ScalarValue::Bytes(b) => Some(b.clone()),
                _ => None,
            },
            _ => None,
        }
    }

    pub fn referentiel(&self) -> Option<Referentiel> {
        match self.doc.get(ROOT, "referentiel") {
            Ok(Some((Value::Scalar(s), _))) => Referentiel::from_json(s.as_str()?).ok(),
            _ => None,
        }
    }

    /// The récapitulatif des compétences: every compétence of `referentiel` (the pinned one,
    /// [`Dossier::referentiel`], read once by the caller: it is recomputed on every keystroke
    /// and parsing the référentiel is the costly part), in its order, with the fiches activité
    /// that claim it (0-based numbers in the order shown, [`Dossier::fiche_order`]). Codes a fiche names that the référentiel does not have are
    /// listed last, with bloc 0, so nothing typed is hidden.
    pub fn coverage(&mut self, referentiel: Option<&Referentiel>) -> Vec<Coverage> {
        let list = |d: &mut Dossier, place: usize, field: &str| {
            let stored = FieldPath::fiche(place, field)
                .map(|path| d.get_field(&path))
                .unwrap_or_default();
            serde_json::from_str::<Vec<String>>(&stored).unwrap_or_default()
        };
        let annexes = self.annexes();
        let (claims, evidence): (Vec<Vec<String>>, Vec<Vec<u32>>) = self
            .fiche_order()
            .into_iter()
            .map(|i| {
                let claimed = list(self, i, "competences");
                let cited = list(self, i, "preuves")
                    .iter()
                    .filter_map(|entry| annexes.iter().find(|a| a.is_named_by(entry)))
                    .map(|a| a.numero)
                    .collect();
                (claimed, cited)
            })
            .unzip();
        let annexes_of = |fiches: &[usize]| -> Vec<u32> {
            let mut numbers: Vec<u32> = fiches
                .iter()
                .flat_map(|i| evidence[*i].iter().copied())
                .collect();
            numbers.sort_unstable();
            numbers.dedup();
            numbers
        };
        // A fiche citing a criterion (`C5#2`) claims its compétence.
        let fiches_of = |code: &str| -> Vec<usize> {
            claims
                .iter()
                .enumerate()
                .filter(|(_, c)| {
                    c.iter()
                        .any(|x| split_citation(x).0.eq_ignore_ascii_case(code))
                })
                .map(|(i, _)| i)
                .collect()
        };
        let criteria_of = |code: &str, count: usize| -> Vec<(usize, Vec<usize>)> {
            (1..=count)
                .filter_map(|rank| {
                    let citation = format!("{code}#{rank}");
                    let fiches: Vec<usize> = claims
                        .iter()
                        .enumerate()
                        .filter(|(_, c)| c.iter().any(|x| x.eq_ignore_ascii_case(&citation)))
                        .map(|(i, _)| i)
                        .collect();
                    (!fiches.is_empty()).then_some((rank, fiches))
                })
                .collect()
        };
        let mut out: Vec<Coverage> = Vec::new();
        if let Some(r) = referentiel {
            for bloc in &r.blocs {
                for c in &bloc.competences {
                    let fiches = fiches_of(&c.code);
                    out.push(Coverage {
                        bloc: bloc.number,
                        code: c.code.clone(),
                        title: c.title.clone(),
                        annexes: annexes_of(&fiches),
                        fiches,
                        criteria: criteria_of(&c.code, c.criteria.len()),
                    });
                }
            }
        }
        for claim in claims.iter().flatten() {
            let code = split_citation(claim).0;
            if !out.iter().any(|c| c.code.eq_ignore_ascii_case(code)) {
                let fiches = fiches_of(code);
                out.push(Coverage {
                    bloc: 0,
                    code: code.to_string(),
                    title: String::new(),
                    annexes: annexes_of(&fiches),
                    fiches,
                    criteria: Vec::new(),
                });
            }
        }
        out
    }

    /// How many fiches activité the dossier shows (deleted ones not counted).
    pub fn fiche_count(&self) -> usize {
        self.fiche_order().len()
    }

    /// The fiches activité in the order they are shown and numbered: their places in the
    /// document's list (what paths like `fiches.2.contexte` name), sorted by each fiche's
    /// `rang`, then by place. Deleted fiches are left out.
    ///
    /// Why a rang rather than the list order: automerge has no move, and moving by copying
    /// would drop what another device types into the fiche meanwhile. Why deleted fiches
    /// stay (marked `supprimee`): a delete can be undone, and an edit made concurrently on
    /// another device still lands somewhere that can be brought back. Places never shift.
    pub fn fiche_order(&self) -> Vec<usize> {
        let Some(list) = self.list_at(&ROOT, "fiches") else {
            return Vec::new();
        };
        let mut live: Vec<(f64, usize)> = (0..self.doc.length(&list))
            .filter_map(|i| {
                let item = match self.doc.get(&list, i) {
                    Ok(Some((Value::Object(ObjType::Map), item))) => item,
                    _ => return None,
                };
                if self.flag(&item, "supprimee") {
                    return None;
                }
                Some((self.rang(&item).unwrap_or(i as f64), i))
            })
            .collect();
        live.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        live.into_iter().map(|(_, i)| i).collect()
    }

    /// Deleted fiches (their places), most recently placed last.
    pub fn deleted_fiches(&self) -> Vec<usize> {
        let Some(list) = self.list_at(&ROOT, "fiches") else {
            return Vec::new();
        };
        (0..self.doc.length(&list))
            .filter(|i| {
                matches!(self.doc.get(&list, *i),
                    Ok(Some((Value::Object(ObjType::Map), item))) if self.flag(&item, "supprimee"))
            })
            .collect()
    }

    fn fiche(&self, place: usize) -> Result<ObjId, DossierError> {
        let list = self
            .list_at(&ROOT, "fiches")
            .ok_or_else(|| DossierError::UnknownPath(format!("fiches.{place}")))?;
        match self.doc.get(&list, place) {
            Ok(Some((Value::Object(ObjType::Map), item))) => Ok(item),
            _ => Err(DossierError::UnknownPath(format!("fiches.{place}"))),
        }
    }

    fn rang(&self, item: &ObjId) -> Option<f64> {
        match self.doc.get(item, "rang") {
            Ok(Some((Value::Scalar(s), _))) => match s.as_ref() {
                ScalarValue::F64(f) => Some(*f),
                ScalarValue::Int(i) => Some(*i as f64),
                ScalarValue::Uint(u) => Some(*u as f64),
                _ => None,
            },
            _ => None,
        }
    }

    fn flag(&self, item: &ObjId, key: &str) -> bool {
        matches!(self.doc.get(item, key),
            Ok(Some((Value::Scalar(s), _))) if matches!(s.as_ref(), ScalarValue::Boolean(true)))
    }

    fn rang_of(&self, place: usize) -> Result<f64, DossierError> {
        Ok(self.rang(&self.fiche(place)?).unwrap_or(place as f64))
    }

    /// A new, empty fiche, shown last; returns its place.
    pub fn add_fiche(&mut self) -> Result<usize, DossierError> {
        // After every other, deleted ones too: one restored later keeps its place.
        let mut last = -1.0_f64;
        for place in self.fiche_order().into_iter().chain(self.deleted_fiches()) {
            last = last.max(self.rang_of(place)?);
        }
        let list = self
            .list_at(&ROOT, "fiches")
            .ok_or_else(|| DossierError::UnknownPath("fiches".into()))?;
        let place = self.doc.length(&list);
        let item = self
            .doc
            .insert_object(&list, place, ObjType::Map)
            .map_err(corrupt)?;
        self.doc.put(&item, "rang", last + 1.0).map_err(corrupt)?;
        self.make_texts(&item, FICHE_FIELDS)?;
        Ok(place)
    }

    /// Moves a fiche one step up (towards n° 1) or down by swapping rangs with its
    /// neighbour; nothing happens at either end.
    pub fn move_fiche(&mut self, place: usize, up: bool) -> Result<(), DossierError> {
        let order = self.fiche_order();
        let at = order
            .iter()
            .position(|p| *p == place)
            .ok_or_else(|| DossierError::UnknownPath(format!("fiches.{place}")))?;
        let neighbour = match (up, at) {
            (true, 0) => return Ok(()),
            (true, _) => order[at - 1],
            (false, _) if at + 1 == order.len() => return Ok(()),
            (false, _) => order[at + 1],
        };
        let (mine, theirs) = (self.rang_of(place)?, self.rang_of(neighbour)?);
        // Equal rangs (two devices added a fiche at once) are ordered by place: nudge so the
        // swap shows.
        let (mine, theirs) = if mine == theirs {
            let nudge = if up { -0.5 } else { 0.5 };
            (theirs + nudge, theirs)
        } else {
            (theirs, mine)
        };
        let item = self.fiche(place)?;
        self.doc.put(&item, "rang", mine).map_err(corrupt)?;
        let other = self.fiche(neighbour)?;
        self.doc.put(&other, "rang", theirs).map_err(corrupt)?;
        Ok(())
    }

    /// A copy of a fiche (every field), shown right after it; returns the copy's place.
    pub fn duplicate_fiche(&mut self, place: usize) -> Result<usize, DossierError> {
        let order = self.fiche_order();
        let at = order
            .iter()
            .position(|p| *p == place)
            .ok_or_else(|| DossierError::UnknownPath(format!("fiches.{place}")))?;
        let here = self.rang_of(place)?;
        let rang = match order.get(at + 1) {
            Some(&next) => (here + self.rang_of(next)?) / 2.0,
            None => here + 1.0,
        };
        let copy = self.add_fiche()?;
        for (field, kind) in FICHE_FIELDS {
            let (Some(from), Some(to)) = (
                FieldPath::fiche(place, field),
                FieldPath::fiche(copy, field),
            ) else {
                continue;
            };
            let value = self.get_field(&from);
            let value = match kind {
                FieldKind::List => serde_json::from_str::<Vec<String>>(&value)
                    .unwrap_or_default()
                    .join(","),
                _ => value,
            };
            if !value.is_empty() {
                self.set(&to, &value)?;
            }
        }
        let item = self.fiche(copy)?;
        self.doc.put(&item, "rang", rang).map_err(corrupt)?;
        Ok(copy)
    }

    /// Deletes a fiche (kept, marked, so [`Dossier::restore_fiche`] brings it back).
    pub fn delete_fiche(&mut self, place: usize) -> Result<(), DossierError> {
        let item = self.fiche(place)?;
        self.mark_deleted(&item, true)
    }

    pub fn restore_fiche(&mut self, place: usize) -> Result<(), DossierError> {
        let item = self.fiche(place)?;
        self.mark_deleted(&item, false)
    }

    /// Marks a fiche or a further structure deleted, or not: kept, so it can come back
    /// with everything typed in it.
    fn mark_deleted(&mut self, item: &ObjId, deleted: bool) -> Result<(), DossierError> {
        self.doc.put(item, "supprimee", deleted).map_err(corrupt)
    }

    /// The further structures or postes (`section` one of [`REPEATED`]) in the order they
    /// are shown, after the section's own: their ids, by `rang` then id. Deleted ones are
    /// left out.
    pub fn repeats(&self, section: &str) -> Vec<u64> {
        self.repeats_where(section, false)
    }

    /// The deleted further structures or postes (kept, marked, so they can be restored).
    pub fn deleted_repeats(&self, section: &str) -> Vec<u64> {
        self.repeats_where(section, true)
    }

    fn repeats_where(&self, section: &str, deleted: bool) -> Vec<u64> {
        let mut found: Vec<(f64, u64)> = self
            .all_repeats(section)
            .into_iter()
            .filter(|(_, _, is_deleted)| *is_deleted == deleted)
            .map(|(rang, id, _)| (rang.unwrap_or(f64::MAX), id))
            .collect();
        found.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        found.into_iter().map(|(_, id)| id).collect()
    }

    /// Every further structure or poste of `section`, shown or deleted, in the map's
    /// order: its `rang`, id and whether it is deleted.
    fn all_repeats(&self, section: &str) -> Vec<(Option<f64>, u64, bool)> {
        let Some(map) = self.map_at(&ROOT, section) else {
            return Vec::new();
        };
        self.doc
            .map_range(&map, ..)
            .filter_map(|item| {
                let id = crate::field_path::repeat_id(&item.key)?;
                let obj = match item.value {
                    automerge::ValueRef::Object(ObjType::Map) => item.id(),
                    _ => return None,
                };
                Some((self.rang(&obj), id, self.flag(&obj, "supprimee")))
            })
            .collect()
    }

    fn repeat(&self, section: &str, id: u64) -> Result<ObjId, DossierError> {
        self.map_at(&ROOT, section)
            .and_then(|map| self.map_at(&map, &crate::field_path::repeat_key(id)))
            .ok_or_else(|| DossierError::UnknownPath(format!("{section}.{id:016x}")))
    }

    /// A further, empty structure or poste (`section` one of [`REPEATED`]), shown last;
    /// returns its id. The id is drawn from this device's actor and the section's size, so
    /// it is the same nowhere else: another device adding one at once gets another.
    pub fn add_repeat(&mut self, section: &str) -> Result<u64, DossierError> {
        use sha2::Digest;
        let section = REPEATED
            .iter()
            .find(|s| **s == section)
            .ok_or_else(|| DossierError::UnknownPath(section.to_string()))?;
        let map = self
            .map_at(&ROOT, section)
            .ok_or_else(|| DossierError::UnknownPath(section.to_string()))?;
        // Deleted ones count, and the new one comes after every other, deleted ones too:
        // one restored later keeps its place.
        let others = self.all_repeats(section);
        if others.len() >= MAX_REPEATS {
            return Err(DossierError::TooManyRepeats(section.to_string()));
        }
        let last = others
            .iter()
            .filter_map(|(rang, _, _)| *rang)
            .fold(0.0, f64::max);
        // The section's keys only grow (fields set, repeats added, none ever removed), so
        // this device never draws the same id twice; the loop below covers the rest.
        let mut hash = sha2::Sha256::new();
        hash.update(self.doc.get_actor().to_bytes());
        hash.update(section.as_bytes());
        hash.update((self.doc.length(&map) as u64).to_le_bytes());
        let digest = hash.finalize();
        let mut id = u64::from_le_bytes(digest[..8].try_into().expect("8 bytes"));
        while self.repeat(section, id).is_ok() {
            id = id.wrapping_add(1);
        }
        let item = self
            .doc
            .put_object(&map, crate::field_path::repeat_key(id), ObjType::Map)
            .map_err(corrupt)?;
        self.doc.put(&item, "rang", last + 1.0).map_err(corrupt)?;
        self.make_texts(&item, section_fields(section))?;
        Ok(id)
    }

    /// Makes `item`'s running-text fields, empty, with the item: two devices that then both
    /// type in one of them, offline, merge their words. Made by whoever types first, each
    /// would make its own text, and automerge would keep one and hide the other's words.
    fn make_texts(
        &mut self,
        item: &ObjId,
        fields: &[(&str, FieldKind)],
    ) -> Result<(), DossierError> {
        for (field, kind) in fields {
            if *kind == FieldKind::Text && self.doc.get(item, *field).map_err(corrupt)?.is_none() {
                self.doc
                    .put_object(item, *field, ObjType::Text)
                    .map_err(corrupt)?;
            }
        }
        Ok(())
    }

    /// Deletes a further structure or poste (kept, marked, so
    /// [`Dossier::restore_repeat`] brings it back with everything typed in it).
    pub fn delete_repeat(&mut self, section: &str, id: u64) -> Result<(), DossierError> {
        let item = self.repeat(section, id)?;
        self.mark_deleted(&item, true)
    }

    pub fn restore_repeat(&mut self, section: &str, id: u64) -> Result<(), DossierError> {
        let item = self.repeat(section, id)?;
        self.mark_deleted(&item, false)
    }

    /// Adds an evidence file to the annexes, numbered after the highest number so far;
    /// returns its number. The file's key goes into the annexe (`cle`), beside the fields
    /// the template lists: never through [`Dossier::set`], never shown.
    pub fn add_annexe(&mut self, a: NewAnnexe<'_>) -> Result<u32, DossierError> {
        let numero = self.annexes().iter().map(|x| x.numero).max().unwrap_or(0) + 1;
        let item = self.insert_annexe(
            numero,
            AnnexeDescription {
                titre: a.titre,
                fichier: a.fichier,
                media_type: a.media_type,
                taille: a.taille,
                empreinte: a.empreinte,
            },
        )?;
        self.doc
            .put(&item, "blob", a.blob.to_hex())
            .map_err(corrupt)?;
        self.doc
            .put(&item, "pieces", a.pieces as i64)
            .map_err(corrupt)?;
        self.doc
            .put(&item, "cle", a.key.to_secret_string().as_str())
            .map_err(corrupt)?;
        Ok(numero)
    }

    /// Adds an annexe described, without its file, under `numero` (an imported dossier's:
    /// its number is kept, the fiches name it by that number).
    pub fn add_annexe_description(
        &mut self,
        numero: u32,
        a: AnnexeDescription<'_>,
    ) -> Result<(), DossierError> {
        self.insert_annexe(numero, a).map(|_| ())
    }

    /// A new annexe at the end of the list, with the fields the template lists.
    fn insert_annexe(
        &mut self,
        numero: u32,
        a: AnnexeDescription<'_>,
    ) -> Result<ObjId, DossierError> {
        let list = self
            .list_at(&ROOT, "annexes")
            .ok_or_else(|| DossierError::UnknownPath("annexes".into()))?;
        let place = self.doc.length(&list);
        let item = self
            .doc
            .insert_object(&list, place, ObjType::Map)
            .map_err(corrupt)?;
        let fields: [(&str, String); 6] = [
            ("numero", numero.to_string()),
            ("titre", a.titre.to_string()),
            ("fichier", a.fichier.to_string()),
            ("type", a.media_type.to_string()),
            ("taille", a.taille.to_string()),
            ("empreinte", a.empreinte.to_string()),
        ];
        for (key, value) in fields {
            self.doc.put(&item, key, value).map_err(corrupt)?;
        }
        Ok(item)
    }

    /// The annexes by number (then by place, should two devices have given one number
    /// twice while offline). Deleted ones are left out ([`Dossier::deleted_annexes`]).
    pub fn annexes(&self) -> Vec<Annexe> {
        self.annexes_in(AnnexeState::Live)
    }

    /// The annexes deleted and not yet erased: in the bin, their files still on the server,
    /// so that a deletion can be undone.
    pub fn deleted_annexes(&self) -> Vec<Annexe> {
        self.annexes_in(AnnexeState::Deleted)
    }

    fn annexes_in(&self, wanted: AnnexeState) -> Vec<Annexe> {
        let Some(list) = self.list_at(&ROOT, "annexes") else {
            return Vec::new();
        };
        let text = |item: &ObjId, key: &str| match self.doc.get(item, key) {
            Ok(Some((Value::Scalar(s), _))) => match s.as_ref() {
                ScalarValue::Str(t) => t.to_string(),
                ScalarValue::Int(i) => i.to_string(),
                ScalarValue::Uint(u) => u.to_string(),
                _ => String::new(),
            },
            _ => String::new(),
        };
        let flag = |item: &ObjId, key: &str| matches!(self.doc.get(item, key), Ok(Some((Value::Scalar(s), _))) if matches!(s.as_ref(), ScalarValue::Boolean(true)));
        let mut out: Vec<Annexe> = (0..self.doc.length(&list))
            .filter_map(|place| match self.doc.get(&list, place) {
                Ok(Some((Value::Object(ObjType::Map), item))) => Some((place, item)),
                _ => None,
            })
            .filter(|(_, item)| {
                // Erased names the file it erased: a file given to the annexe meanwhile on
                // another device (restored and replaced there) keeps it in the bin.
                let erased = text(item, "effacee");
                let state = if !erased.is_empty() && erased == text(item, "blob") {
                    AnnexeState::Erased
                } else if flag(item, "supprimee") {
                    AnnexeState::Deleted
                } else {
                    AnnexeState::Live
                };
                state == wanted
            })
            .map(|(place, item)| Annexe {
                place,
                numero: text(&item, "numero").parse().unwrap_or(0),
                titre: text(&item, "titre"),
                fichier: text(&item, "fichier"),
                media_type: text(&item, "type"),
                taille: text(&item, "taille").parse().unwrap_or(0),
                empreinte: text(&item, "empreinte"),
                blob: BlobId::from_hex(&text(&item, "blob")),
                pieces: text(&item, "pieces").parse().unwrap_or(0),
            })
            .collect();
        out.sort_by_key(|a| (a.numero, a.place));
        out
    }

    /// The annexe at `place` if it stands in `state`, with its object in the document.
    fn annexe_at(&self, place: usize, state: AnnexeState) -> Result<(ObjId, Annexe), DossierError> {
        let annexe = self
            .annexes_in(state)
            .into_iter()
            .find(|a| a.place == place)
            .ok_or_else(|| DossierError::UnknownPath(format!("annexes.{place}")))?;
        Ok((self.annexe_item(place)?, annexe))
    }

    fn annexe_item(&self, place: usize) -> Result<ObjId, DossierError> {
        let list = self
            .list_at(&ROOT, "annexes")
            .ok_or_else(|| DossierError::UnknownPath(format!("annexes.{place}")))?;
        match self.doc.get(&list, place) {
            Ok(Some((Value::Object(ObjType::Map), item))) => Ok(item),
            _ => Err(DossierError::UnknownPath(format!("annexes.{place}"))),
        }
    }

    /// Deletes the annexe at `place` into the bin (its file stays on the server until
    /// [`Dossier::erase_annexe`]: the deletion can be undone). With `renumber`, the annexes
    /// after it move up one number, so the livret has no hole — when each of them has a
    /// file the fiches can cite it by (an annexe described without one is cited by number,
    /// which a renumbering would hand to another). Without (once a jury reads the dossier:
    /// its notes name annexes by number), numbers stay and a hole is left. Its number is
    /// kept apart (`numero_avant`) for a restore; `numero` becomes 0, so that a device of an
    /// older version, which shows it, sees no number twice.
    pub fn delete_annexe(&mut self, place: usize, renumber: bool) -> Result<(), DossierError> {
        let (item, gone) = self.annexe_at(place, AnnexeState::Live)?;
        // A fiche naming an annexe with a file by number (as typed before fiches named
        // files) names it by file now, this one included.
        self.cite_by_file()?;
        self.doc.put(&item, "supprimee", true).map_err(corrupt)?;
        self.doc
            .put(&item, "numero_avant", gone.numero.to_string())
            .map_err(corrupt)?;
        self.doc.put(&item, "numero", "0").map_err(corrupt)?;
        let later: Vec<Annexe> = self
            .annexes()
            .into_iter()
            .filter(|a| a.numero > gone.numero)
            .collect();
        if renumber && gone.blob.is_some() && later.iter().all(|a| a.blob.is_some()) {
            for a in later {
                self.put_numero(a.place, a.numero - 1)?;
            }
        }
        Ok(())
    }

    fn put_numero(&mut self, place: usize, numero: u32) -> Result<(), DossierError> {
        let item = self.annexe_item(place)?;
        self.doc
            .put(&item, "numero", numero.to_string())
            .map_err(corrupt)
    }

    /// Takes an annexe out of the bin; returns its number. It gets its number back when it
    /// can — free, or freed by moving the annexes from there on down one (each with a file,
    /// as a deletion moves them up) — else the number after the last.
    pub fn restore_annexe(&mut self, place: usize) -> Result<u32, DossierError> {
        let (item, _) = self.annexe_at(place, AnnexeState::Deleted)?;
        let before: Option<u32> = match self.doc.get(&item, "numero_avant") {
            Ok(Some((Value::Scalar(s), _))) => s.as_str().and_then(|t| t.parse().ok()),
            _ => None,
        };
        let live = self.annexes();
        let last = live.iter().map(|x| x.numero).max().unwrap_or(0);
        let numero = match before {
            Some(n) if n >= 1 && !live.iter().any(|a| a.numero == n) => n,
            Some(n)
                if n >= 1
                    && live
                        .iter()
                        .filter(|a| a.numero >= n)
                        .all(|a| a.blob.is_some()) =>
            {
                for a in live.iter().filter(|a| a.numero >= n) {
                    self.put_numero(a.place, a.numero + 1)?;
                }
                n
            }
            _ => last + 1,
        };
        self.doc.put(&item, "supprimee", false).map_err(corrupt)?;
        self.put_numero(place, numero)?;
        Ok(numero)
    }

    /// Marks a deleted annexe erased (its file gone from the server) and forgets its key:
    /// it leaves the bin for good. Returns the file it had, for the server to erase.
    pub fn erase_annexe(&mut self, place: usize) -> Result<Option<BlobId>, DossierError> {
        let (item, annexe) = self.annexe_at(place, AnnexeState::Deleted)?;
        // Named by the file erased (see `annexes_in`); an annexe without a file is erased
        // as the empty file it names.
        let erased = annexe.blob.map(|b| b.to_hex()).unwrap_or_default();
        if erased.is_empty() {
            self.doc.put(&item, "blob", "aucun").map_err(corrupt)?;
        }
        let named = if erased.is_empty() {
            "aucun".to_string()
        } else {
            erased
        };
        self.doc.put(&item, "effacee", named).map_err(corrupt)?;
        self.doc.delete(&item, "cle").map_err(corrupt)?;
        Ok(annexe.blob)
    }

    /// Gives the annexe at `place` another file (its number and title stay); the fiches
    /// citing it cite the new file. The old file stays on the server as a deleted annexe of
    /// its own (« … (ancienne version) », in the bin): it can be brought back, or erased by
    /// the candidate. Returns that bin entry's place.
    pub fn replace_annexe_file(
        &mut self,
        place: usize,
        new: NewAnnexe<'_>,
    ) -> Result<usize, DossierError> {
        let (item, old) = self.annexe_at(place, AnnexeState::Live)?;
        self.cite_by_file()?;
        // The old version, kept in the bin with its key.
        let key = match self.doc.get(&item, "cle") {
            Ok(Some((Value::Scalar(s), _))) => s.as_str().map(str::to_string),
            _ => None,
        };
        let kept = self.insert_annexe(
            0,
            AnnexeDescription {
                titre: &format!("{} (ancienne version)", old.titre),
                fichier: &old.fichier,
                media_type: &old.media_type,
                taille: old.taille,
                empreinte: &old.empreinte,
            },
        )?;
        if let Some(blob) = old.blob {
            self.doc
                .put(&kept, "blob", blob.to_hex())
                .map_err(corrupt)?;
        }
        self.doc
            .put(&kept, "pieces", old.pieces.to_string())
            .map_err(corrupt)?;
        if let Some(key) = key {
            self.doc.put(&kept, "cle", key).map_err(corrupt)?;
        }
        self.doc.put(&kept, "supprimee", true).map_err(corrupt)?;
        self.doc
            .put(&kept, "numero_avant", old.numero.to_string())
            .map_err(corrupt)?;
        let kept_place = self
            .list_at(&ROOT, "annexes")
            .map_or(0, |l| self.doc.length(&l).saturating_sub(1));
        let fields: [(&str, String); 6] = [
            ("fichier", new.fichier.to_string()),
            ("type", new.media_type.to_string()),
            ("taille", new.taille.to_string()),
            ("empreinte", new.empreinte.to_string()),
            ("blob", new.blob.to_hex()),
            ("pieces", new.pieces.to_string()),
        ];
        for (key, value) in fields {
            self.doc.put(&item, key, value).map_err(corrupt)?;
        }
        self.doc
            .put(&item, "cle", new.key.to_secret_string().as_str())
            .map_err(corrupt)?;
        let (from, to) = (old.reference(), new.blob.to_hex());
        self.rewrite_citations(|entry| (entry == from).then(|| to.clone()))?;
        Ok(kept_place)
    }

    /// Every fiche's evidence named by file where it was named by number.
    fn cite_by_file(&mut self) -> Result<(), DossierError> {
        let annexes = self.annexes();
        self.rewrite_citations(|entry| {
            entry.parse::<u32>().ok()?;
            annexes
                .iter()
                .find(|a| a.blob.is_some() && a.is_named_by(entry))
                .map(Annexe::reference)
        })
    }

    /// Rewrites, in place, the fiches' evidence entries `change` gives a new form for: each
    /// entry is put alone, so a tick made meanwhile on another device stays.
    fn rewrite_citations(
        &mut self,
        change: impl Fn(&str) -> Option<String>,
    ) -> Result<(), DossierError> {
        let Some(fiches) = self.list_at(&ROOT, "fiches") else {
            return Ok(());
        };
        for place in 0..self.doc.length(&fiches) {
            let Ok(Some((Value::Object(ObjType::Map), fiche))) = self.doc.get(&fiches, place)
            else {
                continue;
            };
            let Ok(Some((Value::Object(ObjType::List), list))) = self.doc.get(&fiche, "preuves")
            else {
                continue;
            };
            for i in 0..self.doc.length(&list) {
                let entry = match self.doc.get(&list, i) {
                    Ok(Some((Value::Scalar(s), _))) => s.as_str().map(str::to_string),
                    _ => None,
                };
                if let Some(new) = entry.as_deref().and_then(&change) {
                    self.doc.put(&list, i, new).map_err(corrupt)?;
                }
            }
        }
        Ok(())
    }

    /// Gives a new number to every annexe that shares its number with an earlier one (two
    /// devices each numbered a file while offline): the first in the list keeps it, the
    /// others follow the highest number. Every device that merged the same changes computes
    /// the same numbers, so two of them doing it at once agree. Fiches name their evidence
    /// by the file ([`Annexe::reference`]), so they still point at the right one. Returns
    /// whether anything changed.
    pub fn renumber_duplicate_annexes(&mut self) -> Result<bool, DossierError> {
        let annexes = self.annexes();
        let mut next = annexes.iter().map(|a| a.numero).max().unwrap_or(0);
        let mut seen = std::collections::BTreeSet::new();
        let Some(list) = self.list_at(&ROOT, "annexes") else {
            return Ok(false);
        };
        let mut changed = false;
        for a in annexes {
            if seen.insert(a.numero) {
                continue;
            }
            next += 1;
            let Ok(Some((Value::Object(ObjType::Map), item))) = self.doc.get(&list, a.place) else {
                continue;
            };
            self.doc
                .put(&item, "numero", next.to_string())
                .map_err(corrupt)?;
            seen.insert(next);
            changed = true;
        }
        Ok(changed)
    }

    /// The key of the evidence file of the annexe at `place`.
    pub fn annexe_key(&self, place: usize) -> Option<EvidenceKey> {
        let list = self.list_at(&ROOT, "annexes")?;
        let Ok(Some((Value::Object(ObjType::Map), item))) = self.doc.get(&list, place) else {
            return None;
        };
        match self.doc.get(&item, "cle") {
            Ok(Some((Value::Scalar(s), _))) => s.as_str()?.parse().ok(),
            _ => None,
        }
    }

    /// The list a fiche or an annexe lives in, and its place there (none for a section).
    fn list_place(place: Place) -> Option<(&'static str, usize)> {
        match place {
            Place::Section(_) | Place::Repeat(..) => None,
            Place::Fiche(index) => Some(("fiches", index)),
            Place::Annexe(index) => Some(("annexes", index)),
        }
    }

    /// A field's container (its section, fiche or annexe) as it is now, if it exists.
    fn container(&self, path: &FieldPath) -> Option<ObjId> {
        let (list, index) = match path.place() {
            Place::Section(section) => return self.map_at(&ROOT, section),
            Place::Repeat(section, id) => return self.repeat(section, id).ok(),
            place => Self::list_place(place)?,
        };
        match self.doc.get(&self.list_at(&ROOT, list)?, index) {
            Ok(Some((Value::Object(ObjType::Map), item))) => Some(item),
            _ => None,
        }
    }

    /// Resolves a field to its container, creating missing fiches or annexes.
    fn resolve(&mut self, path: &FieldPath, create: bool) -> Result<ObjId, DossierError> {
        let unknown = || DossierError::UnknownPath(path.to_string());
        if create && let Some((list, index)) = Self::list_place(path.place()) {
            let list_obj = self.list_at(&ROOT, list).ok_or_else(unknown)?;
            while self.doc.length(&list_obj) <= index {
                let at = self.doc.length(&list_obj);
                self.doc
                    .insert_object(&list_obj, at, ObjType::Map)
                    .map_err(corrupt)?;
            }
        }
        self.container(path).ok_or_else(unknown)
    }

    /// Sets a field. Text fields are updated by diff, so a concurrent edit elsewhere in the
    /// same text survives; lists take comma-separated values.
    pub fn set(
        &mut self,
        path: &(impl ToFieldPath + ?Sized),
        value: &str,
    ) -> Result<(), DossierError> {
        let path = path.to_field_path()?;
        let obj = self.resolve(&path, true)?;
        let field = path.field();
        match path.kind() {
            FieldKind::Scalar => {
                self.doc.put(&obj, field, value).map_err(corrupt)?;
            }
            FieldKind::Tick => {
                let value = match value.trim() {
                    "" | "non" => "",
                    "oui" => TICKED,
                    other => return Err(DossierError::NotATick(other.to_string())),
                };
                self.doc.put(&obj, field, value).map_err(corrupt)?;
            }
            FieldKind::Choice(_) | FieldKind::Date => {
                let Some(stored) = Answer::of(path.kind(), value).stored_form() else {
                    let written = value.trim().to_string();
                    return Err(match path.kind() {
                        FieldKind::Choice(options) => DossierError::NotAChoice(
                            written,
                            options.iter().map(|c| c.label_fr.to_string()).collect(),
                        ),
                        _ => DossierError::NotADay(written),
                    });
                };
                self.doc.put(&obj, field, stored).map_err(corrupt)?;
            }
            FieldKind::Text => {
                let text = match self.doc.get(&obj, field) {
                    Ok(Some((Value::Object(ObjType::Text), id))) => id,
                    _ => self
                        .doc
                        .put_object(&obj, field, ObjType::Text)
                        .map_err(corrupt)?,
                };
                self.doc.update_text(&text, value).map_err(corrupt)?;
            }
            FieldKind::List => {
                let list = self
                    .doc
                    .put_object(&obj, field, ObjType::List)
                    .map_err(corrupt)?;
                for (i, item) in value
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .enumerate()
                {
                    self.doc.insert(&list, i, item).map_err(corrupt)?;
                }
            }
        }
        Ok(())
    }

    /// Sets a field from what an older version let people type freely, or an old export
    /// holds: a choice or a day recognised is stored as such, anything else is kept word for
    /// word ([`Answer::AsWritten`], to be chosen again) instead of being refused and lost.
    pub fn set_as_written(
        &mut self,
        path: &(impl ToFieldPath + ?Sized),
        value: &str,
    ) -> Result<(), DossierError> {
        let path = path.to_field_path()?;
        match self.set(&path, value) {
            Err(DossierError::NotAChoice(..) | DossierError::NotADay(_)) => {
                let obj = self.resolve(&path, true)?;
                self.doc
                    .put(&obj, path.field(), value.trim())
                    .map_err(corrupt)
            }
            other => other,
        }
    }

    /// Inserts `text` at character `at` of a text field (what a keystroke does).
    pub fn splice(
        &mut self,
        path: &(impl ToFieldPath + ?Sized),
        at: usize,
        delete: isize,
        text: &str,
    ) -> Result<(), DossierError> {
        let path = path.to_field_path()?;
        if path.kind() != FieldKind::Text {
            return Err(DossierError::UnknownPath(path.to_string()));
        }
        let obj = self.resolve(&path, true)?;
        let field = path.field();
        let id = match self.doc.get(&obj, field) {
            Ok(Some((Value::Object(ObjType::Text), id))) => id,
            _ => self
                .doc
                .put_object(&obj, field, ObjType::Text)
                .map_err(corrupt)?,
        };
        let len = self.doc.length(&id);
        self.doc
            .splice_text(&id, at.min(len), delete, text)
            .map_err(corrupt)?;
        Ok(())
    }

    /// Reads a field: empty when never set (nor its fiche or annexe made); a list as JSON.
    pub fn get_field(&mut self, path: &FieldPath) -> String {
        let Ok(obj) = self.resolve(path, false) else {
            return String::new();
        };
        match self.doc.get(&obj, path.field()) {
            Ok(Some((value, id))) => match self.to_json(&value, &id) {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            },
            _ => String::new(),
        }
    }

    /// Reads a field (see [`Dossier::get_field`]), or a whole section / fiche / list as JSON.
    pub fn get(&mut self, path: &str) -> Result<String, DossierError> {
        if let Ok(field) = path.parse::<FieldPath>()
            && self.resolve(&field, false).is_ok()
        {
            return Ok(self.get_field(&field));
        }
        let mut obj = ROOT;
        for part in path.split('.').filter(|p| !p.is_empty()) {
            let next = match part.parse::<usize>() {
                Ok(i) => self.doc.get(&obj, i),
                Err(_) => self.doc.get(&obj, part),
            };
            match next {
                Ok(Some((Value::Object(_), id))) => obj = id,
                _ => return Err(DossierError::UnknownPath(path.to_string())),
            }
        }
        let value = Value::Object(self.doc.object_type(&obj).unwrap_or(ObjType::Map));
        Ok(serde_json::to_string_pretty(&self.to_json(&value, &obj)).expect("JSON"))
    }

    /// Closes what was edited since the last call into one change stamped `unix_seconds`,
    /// the « when » the history shows ([`crate::history`]); the core has no clock, so the
    /// adapter that took the keystroke gives the time. Nothing when nothing was edited.
    /// Edits closed otherwise (a save, a flush) carry no time and are shown without one.
    pub fn commit_at(&mut self, unix_seconds: i64) {
        if self.doc.pending_ops() > 0 {
            self.doc.commit_with(
                automerge::transaction::CommitOptions::default().with_time(unix_seconds),
            );
        }
    }

    /// A field as it was once `heads` were applied, in [`Dossier::get_field`]'s form (empty
    /// where the field did not exist yet). Read in its section's or fiche's object as it is
    /// now: a fiche keeps its object when others' fiches, added at once, move it down.
    pub fn field_at(&self, path: &FieldPath, heads: &[ChangeHash]) -> String {
        let Some(container) = self.container(path) else {
            return String::new();
        };
        match self.doc.get_at(&container, path.field(), heads) {
            Ok(Some((Value::Object(ObjType::Text), id))) => {
                self.doc.text_at(&id, heads).unwrap_or_default()
            }
            Ok(Some((Value::Object(ObjType::List), id))) => {
                let items: Vec<serde_json::Value> = (0..self.doc.length_at(&id, heads))
                    .filter_map(|i| match self.doc.get_at(&id, i, heads) {
                        Ok(Some((value @ Value::Scalar(_), id))) => Some(self.to_json(&value, &id)),
                        _ => None,
                    })
                    .collect();
                serde_json::Value::Array(items).to_string()
            }
            Ok(Some((value @ Value::Scalar(_), id))) => match self.to_json(&value, &id) {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            },
            _ => String::new(),
        }
    }

    /// Puts `fields` (of sections and fiches) back as they were once `heads` were applied,
    /// as a new edit of this device — synced, shown in the history and undone like any
    /// other: text by diff (what someone types meanwhile elsewhere in it survives), choices
    /// and days exactly as stored. Returns the fields that changed.
    pub fn restore(
        &mut self,
        fields: &[FieldPath],
        heads: &[ChangeHash],
    ) -> Result<Vec<FieldPath>, DossierError> {
        let mut changed = Vec::new();
        for path in fields {
            if let Place::Annexe(at) = path.place() {
                // An annexe's file has its own delete and restore.
                return Err(DossierError::UnknownPath(format!("annexes.{at}")));
            }
            let then = self.field_at(path, heads);
            if same_value(path.kind(), &then, &self.get_field(path)) {
                continue;
            }
            match path.kind() {
                FieldKind::List => {
                    let items: Vec<String> = serde_json::from_str(&then).unwrap_or_default();
                    self.set(path, &items.join(", "))?;
                }
                FieldKind::Text => self.set(path, &then)?,
                // Exactly what was stored then (a choice's key, a day, a tick, or what an
                // older version kept as written), not read again.
                _ => {
                    let obj = self.resolve(path, true)?;
                    self.doc.put(&obj, path.field(), then).map_err(corrupt)?;
                }
            }
            changed.push(*path);
        }
        Ok(changed)
    }

    /// The whole document as JSON (export, tests).
    pub fn to_json_value(&self) -> serde_json::Value {
        self.to_json(&Value::Object(ObjType::Map), &ROOT)
    }

    fn to_json(&self, value: &Value, id: &ObjId) -> serde_json::Value {
        match value {
            Value::Object(ObjType::Map | ObjType::Table) => {
                let mut map = serde_json::Map::new();
                for item in self.doc.map_range(id, ..) {
                    map.insert(
                        item.key.to_string(),
                        self.to_json(&Value::from(item.value.clone()), &item.id()),
                    );
                }
                serde_json::Value::Object(map)
            }
            Value::Object(ObjType::List) => {
                let items: Vec<serde_json::Value> = self
                    .doc
                    .list_range(id, ..)
                    .map(|item| self.to_json(&Value::from(item.value.clone()), &item.id()))
                    .collect();
                serde_json::Value::Array(items)
            }
            Value::Object(ObjType::Text) => json!(self.doc.text(id).unwrap_or_default()),
            Value::Scalar(s) => match s.as_ref() {
                ScalarValue::Str(s) => json!(s.to_string()),
                ScalarValue::Int(i) => json!(i),
                ScalarValue::Uint(u) => json!(u),
                ScalarValue::F64(f) => json!(f),
                ScalarValue::Boolean(b) => json!(b),
                ScalarValue::Null => serde_json::Value::Null,
                other => json!(other.to_string()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_set_and_get_by_path() {
        let mut d = Dossier::new(b"a");
        d.set("etat_civil.nom", "Durand").unwrap();
        d.set("fiches.1.contexte", "Une PME de 40 personnes")
            .unwrap();
        d.set("fiches.1.competences", "C1, C2 ,C5").unwrap();
        assert_eq!(d.fiche_count(), 2, "a missing fiche is created");
        assert_eq!(d.get("etat_civil.nom").unwrap(), "Durand");
        assert_eq!(
            d.get("fiches.1.contexte").unwrap(),
            "Une PME de 40 personnes"
        );
        assert_eq!(
            d.get("fiches.1.competences").unwrap(),
            r#"["C1","C2","C5"]"#
        );
        assert_eq!(d.get("fiches.0.contexte").unwrap(), "");
        assert!(d.get("fiches.1").unwrap().contains("Une PME"));
        assert!(matches!(
            d.set("etat_civil.inconnu", "x"),
            Err(DossierError::UnknownPath(_))
        ));
        assert!(matches!(
            d.set("fiches.x.contexte", "x"),
            Err(DossierError::UnknownPath(_))
        ));
    }

    #[test]
    fn concurrent_typing_in_one_text_field_merges() {
        let mut a = Dossier::new(b"a");
        a.set("fiches.0.taches", "Analyser le besoin.").unwrap();
        let bytes = a.save();
        let mut b = Dossier::load(&bytes, b"b").unwrap();
        a.splice("fiches.0.taches", 0, 0, "Lundi : ").unwrap();
        b.splice("fiches.0.taches", 19, 0, " Rédiger la note.")
            .unwrap();
        let from_b = b.automerge().save_after(&a.automerge().get_heads());
        a.automerge().load_incremental(&from_b).unwrap();
        assert_eq!(
            a.get("fiches.0.taches").unwrap(),
            "Lundi : Analyser le besoin. Rédiger la note."
        );
    }

    #[test]
    fn further_structures_and_postes_are_added_named_deleted_and_restored() {
        let mut d = Dossier::new(b"a");
        d.set("structure.nom", "Datavia").unwrap();
        assert_eq!(d.repeats("structure"), Vec::<u64>::new());
        let second = d.add_repeat("structure").unwrap();
        let third = d.add_repeat("structure").unwrap();
        assert_ne!(second, third);
        assert_eq!(
            d.repeats("structure"),
            [second, third],
            "shown in the order added"
        );
        let nom = |id: u64| format!("structure.{}.nom", crate::field_path::repeat_key(id));
        d.set(&nom(second), "Mutuelle du Rhône").unwrap();
        d.set(&nom(third), "Atelier Sud").unwrap();
        assert_eq!(d.get(&nom(second)).unwrap(), "Mutuelle du Rhône");
        assert_eq!(
            d.get("structure.nom").unwrap(),
            "Datavia",
            "the first untouched"
        );
        // A poste of its own, with its own status and « précisez ».
        let poste = d.add_repeat("poste").unwrap();
        let statut = FieldPath::repeat("poste", poste, "statut").unwrap();
        d.set(&statut, "Bénévole").unwrap();
        assert_eq!(d.get_field(&statut), "benevole");
        assert_eq!(d.get("poste.statut").unwrap(), "");

        d.delete_repeat("structure", second).unwrap();
        assert_eq!(d.repeats("structure"), [third]);
        assert_eq!(d.deleted_repeats("structure"), [second]);
        d.restore_repeat("structure", second).unwrap();
        assert_eq!(d.repeats("structure"), [second, third]);
        // One added while the last is deleted comes after it once it is restored.
        d.delete_repeat("structure", third).unwrap();
        let fourth = d.add_repeat("structure").unwrap();
        d.restore_repeat("structure", third).unwrap();
        assert_eq!(d.repeats("structure"), [second, third, fourth]);
        d.delete_repeat("structure", fourth).unwrap();
        assert_eq!(
            d.get(&nom(second)).unwrap(),
            "Mutuelle du Rhône",
            "nothing lost"
        );

        // Only structure and poste repeat; an id never added names nothing.
        assert!(d.add_repeat("motivation").is_err());
        assert!(d.add_repeat("fiches").is_err());
        assert!(matches!(
            d.set(&nom(second ^ 1), "x"),
            Err(DossierError::UnknownPath(_))
        ));
        // Saved and read again, on another device.
        let mut e = Dossier::load(&d.save(), b"b").unwrap();
        assert_eq!(e.repeats("structure"), [second, third]);
        assert_eq!(e.get(&nom(third)).unwrap(), "Atelier Sud");
    }

    #[test]
    fn structures_added_at_once_on_two_devices_offline_are_both_kept() {
        let mut a = Dossier::new(b"candidate");
        a.set("structure.nom", "Datavia").unwrap();
        let mut b = Dossier::load(&a.save(), b"advisor").unwrap();
        // Each adds one, offline, from the same state, and types in it.
        let mine = a.add_repeat("structure").unwrap();
        let theirs = b.add_repeat("structure").unwrap();
        assert_ne!(mine, theirs, "two devices never draw the same id");
        let nom = |id: u64| FieldPath::repeat("structure", id, "nom").unwrap();
        a.set(&nom(mine), "Mutuelle du Rhône").unwrap();
        b.set(&nom(theirs), "Atelier Sud").unwrap();
        let presentation = |id: u64| FieldPath::repeat("structure", id, "presentation").unwrap();
        a.set(&presentation(mine), "Une mutuelle.").unwrap();
        let from_b = b.automerge().save_after(&a.automerge().get_heads());
        let from_a = a.automerge().save_after(&b.automerge().get_heads());
        a.automerge().load_incremental(&from_b).unwrap();
        b.automerge().load_incremental(&from_a).unwrap();
        assert_eq!(a.repeats("structure"), b.repeats("structure"), "one order");
        assert_eq!(a.repeats("structure").len(), 2);
        assert_eq!(a.get_field(&nom(theirs)), "Atelier Sud");
        assert_eq!(b.get_field(&nom(mine)), "Mutuelle du Rhône");
        // Typing at once in one further structure's text merges.
        b.splice(&presentation(mine), 0, 0, "Lyon. ").unwrap();
        a.splice(&presentation(mine), 13, 0, " 300 salariés.")
            .unwrap();
        let from_b = b.automerge().save_after(&a.automerge().get_heads());
        a.automerge().load_incremental(&from_b).unwrap();
        assert_eq!(
            a.get_field(&presentation(mine)),
            "Lyon. Une mutuelle. 300 salariés."
        );
    }

    #[test]
    fn two_devices_typing_first_in_a_new_structure_or_fiche_both_keep_their_words() {
        let mut a = Dossier::new(b"candidate");
        let id = a.add_repeat("structure").unwrap();
        let fiche = a.add_fiche().unwrap();
        let mut b = Dossier::load(&a.save(), b"advisor").unwrap();
        // Neither has typed there yet; both do at once, offline.
        for (path, mine, theirs) in [
            (
                FieldPath::repeat("structure", id, "presentation").unwrap(),
                "Une mutuelle.",
                "Siège à Lyon.",
            ),
            (
                FieldPath::fiche(fiche, "contexte").unwrap(),
                "Une PME.",
                "Quarante salariés.",
            ),
        ] {
            a.set(&path, mine).unwrap();
            b.set(&path, theirs).unwrap();
            let from_b = b.automerge().save_after(&a.automerge().get_heads());
            a.automerge().load_incremental(&from_b).unwrap();
            let merged = a.get_field(&path);
            assert!(
                merged.contains(mine) && merged.contains(theirs),
                "{path}: {merged:?}"
            );
        }
    }

    #[test]
    fn two_devices_typing_first_in_a_new_dossiers_letter_both_keep_their_words() {
        let mut a = Dossier::new(b"candidate");
        let mut b = Dossier::load(&a.save(), b"advisor").unwrap();
        a.set("motivation.lettre", "Je veux valider mon titre.")
            .unwrap();
        b.set("cv.parcours", "Dix ans en PME.").unwrap();
        b.set("motivation.lettre", "Plan : 1. Parcours.").unwrap();
        let from_b = b.automerge().save_after(&a.automerge().get_heads());
        a.automerge().load_incremental(&from_b).unwrap();
        let letter = a.get("motivation.lettre").unwrap();
        assert!(
            letter.contains("Je veux valider mon titre.") && letter.contains("Plan : 1. Parcours."),
            "{letter:?}"
        );
        assert_eq!(a.get("cv.parcours").unwrap(), "Dix ans en PME.");
    }

    #[test]
    fn a_fiche_added_while_the_last_is_deleted_comes_after_it_once_restored() {
        let mut d = Dossier::new(b"a");
        let first = d.add_fiche().unwrap();
        let second = d.add_fiche().unwrap();
        d.delete_fiche(second).unwrap();
        let third = d.add_fiche().unwrap();
        d.restore_fiche(second).unwrap();
        assert_eq!(d.fiche_order(), [first, second, third]);
    }

    #[test]
    fn a_section_takes_a_bounded_number_of_further_structures() {
        let mut d = Dossier::new(b"a");
        for _ in 0..MAX_REPEATS {
            let id = d.add_repeat("poste").unwrap();
            d.delete_repeat("poste", id).unwrap();
        }
        assert_eq!(
            d.add_repeat("poste"),
            Err(DossierError::TooManyRepeats("poste".into())),
            "deleted ones count: they can be restored"
        );
        assert!(d.add_repeat("structure").is_ok());
    }

    #[test]
    fn a_dossier_made_before_structures_repeated_opens_and_takes_one() {
        // The layout of schema 4, with its first structure, as a previous version saved it:
        // nothing to migrate, the first structure stays where every version reads it.
        let mut before = Dossier::new(b"old");
        before.set("structure.nom", "Datavia").unwrap();
        before.set("poste.intitule", "Développeuse").unwrap();
        let bytes = before.save();
        let mut d = Dossier::load(&bytes, b"new").unwrap();
        assert!(d.repeats("structure").is_empty());
        let id = d.add_repeat("structure").unwrap();
        d.set(
            &FieldPath::repeat("structure", id, "nom").unwrap(),
            "Atelier",
        )
        .unwrap();
        assert_eq!(d.get("structure.nom").unwrap(), "Datavia");
        assert_eq!(d.get("poste.intitule").unwrap(), "Développeuse");
    }

    #[test]
    fn version_0_documents_are_migrated() {
        let mut old = AutoCommit::new().with_actor(ActorId::from(b"old".as_slice()));
        old.put(ROOT, "motivation", "Je souhaite valider mon expérience.")
            .unwrap();
        let bytes = old.save();
        let mut d = Dossier::load(&bytes, b"new").unwrap();
        assert_eq!(d.schema_version(), SCHEMA_VERSION);
        assert_eq!(
            d.get("motivation.lettre").unwrap(),
            "Je souhaite valider mon expérience."
        );
        assert_eq!(d.fiche_count(), 0);
        d.set("fiches.0.intitule", "Refonte du SI").unwrap();
    }

    #[test]
    fn a_choice_holds_one_of_its_answers_and_a_date_a_day() {
        let mut d = Dossier::new(b"a");
        for (typed, stored) in [
            ("Mme", "madame"),
            ("MONSIEUR.", "monsieur"),
            ("madame", "madame"),
        ] {
            d.set("etat_civil.civilite", typed).unwrap();
            assert_eq!(d.get("etat_civil.civilite").unwrap(), stored, "{typed}");
        }
        assert_eq!(
            d.set("etat_civil.civilite", "peut-être"),
            Err(DossierError::NotAChoice(
                "peut-être".into(),
                vec!["Madame".into(), "Monsieur".into()]
            ))
        );
        assert_eq!(
            d.get("etat_civil.civilite").unwrap(),
            "madame",
            "nothing written"
        );
        d.set("financement.mode", "Pôle Emploi").unwrap();
        assert_eq!(d.get("financement.mode").unwrap(), "france_travail");
        d.set("etat_civil.date_naissance", "12/4/1989").unwrap();
        assert_eq!(d.get("etat_civil.date_naissance").unwrap(), "1989-04-12");
        assert_eq!(
            d.set("projet_vae.date_jury", "31/02/2027"),
            Err(DossierError::NotADay("31/02/2027".into()))
        );
        d.set("etat_civil.date_naissance", " ").unwrap();
        assert_eq!(d.get("etat_civil.date_naissance").unwrap(), "", "cleared");
        // What an old export holds is kept when it is no answer, read when it is one.
        d.set_as_written("situation.statut", "Salariée en CDI")
            .unwrap();
        assert_eq!(d.get("situation.statut").unwrap(), "Salariée en CDI");
        d.set_as_written("situation.temps", "Temps partiel")
            .unwrap();
        assert_eq!(d.get("situation.temps").unwrap(), "partiel");
        assert!(d.set_as_written("etat_civil.inconnu", "x").is_err());
    }

    /// A document as schema 4 left it: no template pinned, the program's own shown.
    fn version_4_with(rncp_typed: &str, referentiel_rncp: Option<&str>) -> Vec<u8> {
        let mut old = Dossier::new(b"old");
        if let Some(rncp) = referentiel_rncp {
            let mut r = crate::referentiel::import_text(
                "Bloc de compétences 1 : Concevoir\n\nC1. Analyser le besoin.\n",
            )
            .unwrap()
            .referentiel;
            r.rncp = Some(rncp.into());
            old.set_referentiel(&r).unwrap();
        }
        old.set(
            &FieldPath::section("projet_vae", "rncp").unwrap(),
            rncp_typed,
        )
        .unwrap();
        old.set(&FieldPath::section("etat_civil", "nom").unwrap(), "Martin")
            .unwrap();
        old.doc.put(ROOT, "schema_version", 4_i64).unwrap();
        old.save()
    }

    /// Migrated, a dossier made before templates were data pins the one that shows what
    /// it showed: ANNEXE 5 for its own certification (typed, else the référentiel's),
    /// the general model for another; a juror's copy is left as it is and reads the same.
    #[test]
    fn version_4_documents_pin_the_template_they_were_shown_with() {
        for (typed, of_referentiel, expected) in [
            ("", Some("RNCP37827"), "livret2-annexe5-rncp37827"),
            ("37827", None, "livret2-annexe5-rncp37827"),
            ("RNCP37827", Some("RNCP38822"), "livret2-annexe5-rncp37827"),
            ("", Some("RNCP38822"), "dossier-validation-generique"),
            ("", None, "dossier-validation-generique"),
        ] {
            let bytes = version_4_with(typed, of_referentiel);
            let reader = Dossier::load_as_reader(&bytes, b"juror").unwrap();
            assert!(reader.pinned_template().is_none());
            assert_eq!(
                reader.template().id,
                expected,
                "{typed:?} {of_referentiel:?}"
            );
            let mut d = Dossier::load(&bytes, b"new").unwrap();
            assert_eq!(d.schema_version(), SCHEMA_VERSION);
            assert_eq!(d.pinned_template().map(|t| t.id), Some(expected));
            assert_eq!(d.get("etat_civil.nom").unwrap(), "Martin", "nothing lost");
            // Pinned: typing another certification's number no longer moves it.
            d.set(&FieldPath::section("projet_vae", "rncp").unwrap(), "99999")
                .unwrap();
            assert_eq!(d.template().id, expected);
        }
    }

    /// A certifier's template pinned in a dossier stays its own: saved, loaded, exported
    /// and imported again, the same words.
    #[test]
    fn a_pinned_template_travels_with_the_dossier() {
        let mut file: serde_json::Value =
            serde_json::from_str(crate::template::generic().pinned).unwrap();
        file["id"] = "certificateur-x".into();
        file["sections"][0]["title"]["fr"] = "Qui êtes-vous ?".into();
        let mine = Template::parse(&file.to_string()).unwrap();
        let mut d = Dossier::new(b"maker");
        d.set_template(mine).unwrap();
        let mut again = Dossier::load(&d.save(), b"other").unwrap();
        assert!(std::ptr::eq(again.template(), mine));
        let json = crate::export::export(&mut again, None).unwrap();
        let bytes = serde_json::to_vec(&json).unwrap();
        let read = crate::export::parse(&bytes).unwrap();
        let mut imported = Dossier::new(b"importer");
        crate::export::fill(&mut imported, &read).unwrap();
        assert_eq!(imported.template().id, "certificateur-x");
        assert_eq!(
            imported.template().section("etat_civil").unwrap().title_fr,
            "Qui êtes-vous ?"
        );
        // An export whose template does not read is refused whole.
        let mut broken: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        broken["modele"]["sections"][0]["fields"][0]["kind"] = "signature".into();
        assert!(matches!(
            crate::export::parse(&serde_json::to_vec(&broken).unwrap()),
            Err(crate::export::ExportError::Template(_))
        ));
    }

    /// A document as schema 3 left it (no map of the members' names): migrated, it has one,
    /// and a reader that does not migrate (a juror) is left as it is.
    #[test]
    fn version_3_documents_get_the_names_map() {
        let mut old = Dossier::new(b"old");
        old.doc
            .delete(ROOT, crate::member_names::NAMES_MAP)
            .unwrap();
        old.doc.put(ROOT, "schema_version", 3_i64).unwrap();
        let bytes = old.save();
        let reader = Dossier::load_as_reader(&bytes, b"juror").unwrap();
        assert_eq!(reader.schema_version(), 3);
        assert!(
            reader
                .map_at(&ROOT, crate::member_names::NAMES_MAP)
                .is_none()
        );
        let d = Dossier::load(&bytes, b"new").unwrap();
        assert_eq!(d.schema_version(), SCHEMA_VERSION);
        assert!(d.map_at(&ROOT, crate::member_names::NAMES_MAP).is_some());
    }

    /// A document as schema 2 left it: the values are plain strings wherever they were typed.
    fn version_2_with(values: &[(&str, &str, &str)]) -> Vec<u8> {
        let mut old = Dossier::new(b"old");
        for (section, field, value) in values {
            let map = old.map_at(&ROOT, section).unwrap();
            old.doc.put(&map, *field, *value).unwrap();
        }
        old.doc.put(ROOT, "schema_version", 2_i64).unwrap();
        old.save()
    }

    #[test]
    fn version_2_free_text_is_read_as_answers_or_kept_as_written() {
        let bytes = version_2_with(&[
            ("etat_civil", "civilite", "M."),
            ("etat_civil", "date_naissance", "03/11/1975"),
            ("situation", "statut", "Au  chômage"),
            ("financement", "mode", "CPF + reste à charge"),
            ("projet_vae", "date_jury", "printemps 2027"),
            ("declaration", "date", "2026-11-20"),
            ("etat_civil", "nom", "M."),
        ]);
        let mut d = Dossier::load(&bytes, b"new").unwrap();
        assert_eq!(d.schema_version(), SCHEMA_VERSION);
        for (path, read) in [
            ("etat_civil.civilite", "monsieur"),
            ("etat_civil.date_naissance", "1975-11-03"),
            ("situation.statut", "sans_emploi"),
            ("financement.mode", "CPF + reste à charge"),
            ("projet_vae.date_jury", "printemps 2027"),
            ("declaration.date", "2026-11-20"),
            ("etat_civil.nom", "M."),
        ] {
            assert_eq!(d.get(path).unwrap(), read, "{path}");
        }
        // Read again by a reader that does not migrate (a juror): shown the same way.
        let mut juror = Dossier::load_as_reader(&bytes, b"juror").unwrap();
        let civilite = juror.get("etat_civil.civilite").unwrap();
        let kind = FieldPath::section("etat_civil", "civilite").unwrap().kind();
        assert_eq!(
            Answer::of(kind, &civilite),
            Answer::Chosen(&template::CIVILITE[1])
        );
        // A document with nothing to read gets no change but its version.
        let untouched = version_2_with(&[("financement", "mode", "CPF")]);
        let mut before = Dossier::load_as_reader(&untouched, b"x").unwrap();
        let mut after = Dossier::load(&untouched, b"x").unwrap();
        let changes = after
            .automerge()
            .get_changes(&before.automerge().get_heads());
        assert_eq!(changes.len(), 1, "one change: the version");
    }

    #[test]
    fn the_recapitulatif_lists_every_competence_with_its_fiches() {
        let text = "Bloc de compétences 1 : Concevoir\n\nC1. Analyser le besoin.\nC2. Modéliser.\n\n\
                    Bloc de compétences 2 : Réaliser\n\nC3. Développer.\n";
        let r = crate::referentiel::import_text(text).unwrap().referentiel;
        let mut d = Dossier::new(b"a");
        d.set_referentiel(&r).unwrap();
        d.set("fiches.0.competences", "C1, C3").unwrap();
        d.set("fiches.1.competences", "c3, C9").unwrap();
        for numero in [2, 5] {
            d.add_annexe_description(
                numero,
                AnnexeDescription {
                    titre: "Attestation",
                    fichier: "attestation.pdf",
                    media_type: "application/pdf",
                    taille: 10,
                    empreinte: "00",
                },
            )
            .unwrap();
        }
        // Evidence by number (as imported), one that names no annexe left out.
        d.set("fiches.0.preuves", "5, 2").unwrap();
        d.set("fiches.1.preuves", "2, 9").unwrap();
        let pinned = d.referentiel();
        let lines: Vec<(u32, String, Vec<usize>, Vec<u32>)> = d
            .coverage(pinned.as_ref())
            .into_iter()
            .map(|c| (c.bloc, c.code, c.fiches, c.annexes))
            .collect();
        assert_eq!(
            lines,
            vec![
                (1, "C1".into(), vec![0], vec![2, 5]),
                (1, "C2".into(), vec![], vec![]),
                (2, "C3".into(), vec![0, 1], vec![2, 5]),
                (0, "C9".into(), vec![1], vec![2]),
            ]
        );
    }

    #[test]
    fn a_box_to_tick_holds_oui_or_nothing() {
        let mut d = Dossier::new(b"a");
        d.set("declaration.fraudes", "oui").unwrap();
        assert_eq!(d.get_field(&"declaration.fraudes".parse().unwrap()), TICKED);
        d.set("declaration.fraudes", "").unwrap();
        assert_eq!(d.get_field(&"declaration.fraudes".parse().unwrap()), "");
        assert!(matches!(
            d.set("declaration.exactitude", "peut-être"),
            Err(DossierError::NotATick(v)) if v == "peut-être"
        ));
    }

    #[test]
    fn a_cited_criterion_claims_its_competence_and_is_listed_under_it() {
        let text = "Bloc de compétences 1 : Concevoir\n\nC1. Analyser le besoin du client.\n\n\
                    Cas pratique : à partir d'un cas réel, le candidat analyse un besoin.\n\n\
                    - Le besoin est reformulé.\n- Les contraintes sont identifiées.\n\n\
                    C2. Modéliser la solution retenue.\n";
        let r = crate::referentiel::import_text(text).unwrap().referentiel;
        let mut d = Dossier::new(b"a");
        d.set_referentiel(&r).unwrap();
        d.set("fiches.0.competences", "C1#2").unwrap();
        d.set("fiches.1.competences", "C1, C1#2, C9#1").unwrap();
        let pinned = d.referentiel();
        type Cited = Vec<(usize, Vec<usize>)>;
        let lines: Vec<(u32, String, Vec<usize>, Cited)> = d
            .coverage(pinned.as_ref())
            .into_iter()
            .map(|c| (c.bloc, c.code, c.fiches, c.criteria))
            .collect();
        assert_eq!(
            lines,
            vec![
                (1, "C1".into(), vec![0, 1], vec![(2, vec![0, 1])]),
                (1, "C2".into(), vec![], vec![]),
                // A criterion of a code the référentiel lacks: the code is listed, once.
                (0, "C9".into(), vec![1], vec![]),
            ]
        );
        let r = pinned.unwrap();
        assert_eq!(
            r.criterion("C1#2").map(|c| c.title.as_str()),
            Some("Les contraintes sont identifiées.")
        );
        assert!(r.criterion("C1#3").is_none() && r.criterion("C1#0").is_none());
        // How it is assessed: its own modalité; C2, printed without one, shares it (a merged
        // cell).
        let modalite = vec![
            "Cas pratique : à partir d'un cas réel, le candidat analyse un besoin.".to_string(),
        ];
        assert_eq!(r.modalites("C1"), modalite);
        assert_eq!(r.modalites("C2"), modalite);
    }

    #[test]
    fn the_referentiel_is_pinned_in_the_dossier() {
        let text = "Bloc de compétences 1 : Concevoir\n\nC1. Analyser le besoin du client.\n";
        let r = crate::referentiel::import_text(text).unwrap().referentiel;
        let mut d = Dossier::new(b"a");
        d.set_referentiel(&r).unwrap();
        let bytes = d.save();
        let d2 = Dossier::load(&bytes, b"b").unwrap();
        assert_eq!(d2.referentiel(), Some(r));
    }

    fn titles(d: &mut Dossier) -> Vec<String> {
        d.fiche_order()
            .into_iter()
            .map(|p| d.get(&format!("fiches.{p}.intitule")).unwrap())
            .collect()
    }

    #[test]
    fn fiches_are_added_moved_duplicated_deleted_and_restored() {
        let mut d = Dossier::new(b"a");
        for title in ["Paie", "Recrutement", "Formation"] {
            let place = d.add_fiche().unwrap();
            d.set(&format!("fiches.{place}.intitule"), title).unwrap();
        }
        d.set("fiches.2.competences", "C1, C2").unwrap();
        d.set("fiches.2.contexte", "Plan de formation annuel")
            .unwrap();
        d.move_fiche(2, true).unwrap();
        assert_eq!(titles(&mut d), ["Paie", "Formation", "Recrutement"]);
        d.move_fiche(0, true).unwrap();
        d.move_fiche(1, false).unwrap();
        assert_eq!(
            titles(&mut d),
            ["Paie", "Formation", "Recrutement"],
            "ends stay"
        );

        let copy = d.duplicate_fiche(2).unwrap();
        assert_eq!(
            titles(&mut d),
            ["Paie", "Formation", "Formation", "Recrutement"]
        );
        assert_eq!(d.fiche_order()[2], copy);
        assert_eq!(
            d.get(&format!("fiches.{copy}.competences")).unwrap(),
            r#"["C1","C2"]"#
        );
        assert_eq!(
            d.get(&format!("fiches.{copy}.contexte")).unwrap(),
            "Plan de formation annuel"
        );
        // The copy is a fiche of its own.
        d.set(&format!("fiches.{copy}.intitule"), "Formation (suite)")
            .unwrap();
        assert_eq!(d.get("fiches.2.intitule").unwrap(), "Formation");

        d.delete_fiche(0).unwrap();
        assert_eq!(
            titles(&mut d),
            ["Formation", "Formation (suite)", "Recrutement"]
        );
        assert_eq!(d.fiche_count(), 3);
        assert_eq!(d.deleted_fiches(), [0]);
        // The récapitulatif numbers fiches as they are shown.
        let c1 = d
            .coverage(None)
            .into_iter()
            .find(|c| c.code == "C1")
            .unwrap();
        assert_eq!(c1.fiches, [0, 1]);
        d.restore_fiche(0).unwrap();
        assert_eq!(titles(&mut d)[0], "Paie");
        let restored = Dossier::load(&d.save(), b"b").unwrap();
        assert_eq!(restored.fiche_order(), d.fiche_order());
    }

    /// One device moves a fiche while another types into it: the move swaps two numbers,
    /// so the typing lands in the moved fiche. Fiches added at once on two devices both show,
    /// in the same order everywhere.
    #[test]
    fn moving_a_fiche_keeps_what_another_device_types_into_it() {
        let mut a = Dossier::new(b"a");
        for title in ["Un", "Deux"] {
            let place = a.add_fiche().unwrap();
            a.set(&format!("fiches.{place}.intitule"), title).unwrap();
        }
        let mut b = Dossier::load(&a.save(), b"b").unwrap();
        a.move_fiche(1, true).unwrap();
        b.splice("fiches.1.contexte", 0, 0, "écrit pendant le déplacement")
            .unwrap();
        a.add_fiche().unwrap();
        b.add_fiche().unwrap();
        a.automerge().merge(b.automerge()).unwrap();
        b.automerge().merge(a.automerge()).unwrap();
        assert_eq!(titles(&mut a)[..2], ["Deux", "Un"]);
        assert_eq!(a.fiche_order(), b.fiche_order());
        assert_eq!(a.fiche_count(), 4);
        let first = a.fiche_order()[0];
        assert_eq!(
            a.get(&format!("fiches.{first}.contexte")).unwrap(),
            "écrit pendant le déplacement"
        );
    }

    #[test]
    fn annexes_are_numbered_in_turn_and_keep_their_file_key() {
        use crate::evidence;
        let mut d = Dossier::new(b"a");
        let mut files = Vec::new();
        for (title, content) in [
            ("Attestation", &b"attestation"[..]),
            ("Organigramme", b"png"),
        ] {
            let (added, pieces) = add_file(&mut d, title, content);
            files.push((added.numero, pieces, content));
        }
        let d = Dossier::load(&d.save(), b"b").unwrap();
        let annexes = d.annexes();
        assert_eq!(
            annexes
                .iter()
                .map(|a| (a.numero, a.titre.as_str()))
                .collect::<Vec<_>>(),
            [(1, "Attestation"), (2, "Organigramme")]
        );
        for (a, (numero, pieces, content)) in annexes.iter().zip(&files) {
            assert_eq!(a.numero, *numero);
            let key = d.annexe_key(a.place).unwrap();
            let plain = evidence::open(&key, pieces, Some(&a.empreinte)).unwrap();
            assert_eq!(plain.as_slice(), *content);
        }
        // The generic path API does not reach the key.
        let mut d = d;
        assert!(d.get("annexes.0.cle").is_err());
    }

    /// `content` sealed as an evidence file, as a device seals one before naming it.
    struct TestFile {
        key: EvidenceKey,
        sealed: crate::evidence::Sealed,
        blob: BlobId,
        pieces: Vec<Vec<u8>>,
    }

    impl TestFile {
        fn seal(content: &[u8]) -> TestFile {
            let (mut sealer, key) = crate::evidence::Sealer::new();
            let mut pieces = sealer.push(content).unwrap();
            let (rest, sealed) = sealer.finish();
            pieces.extend(rest);
            TestFile {
                key,
                sealed,
                blob: BlobId::generate(),
                pieces,
            }
        }

        fn annexe<'a>(&'a self, titre: &'a str, fichier: &'a str) -> NewAnnexe<'a> {
            NewAnnexe {
                titre,
                fichier,
                media_type: "application/pdf",
                taille: self.sealed.size,
                empreinte: &self.sealed.sha256,
                blob: self.blob,
                pieces: self.sealed.pieces,
                key: &self.key,
            }
        }
    }

    /// Seals `content` as an evidence file and adds it to the annexes: the annexe as listed,
    /// and the file's encrypted pieces.
    fn add_file(d: &mut Dossier, titre: &str, content: &[u8]) -> (Annexe, Vec<Vec<u8>>) {
        let file = TestFile::seal(content);
        d.add_annexe(file.annexe(titre, &format!("{titre}.pdf")))
            .unwrap();
        let added = d.annexes().into_iter().find(|a| a.blob == Some(file.blob));
        (added.unwrap(), file.pieces)
    }

    fn annexe(d: &mut Dossier, titre: &str) -> Annexe {
        add_file(d, titre, titre.as_bytes()).0
    }

    /// The numbers of the live annexes and the titles they carry, in order.
    fn numbered(d: &Dossier) -> Vec<(u32, String)> {
        d.annexes()
            .into_iter()
            .map(|a| (a.numero, a.titre))
            .collect()
    }

    /// The titles of the annexes fiche `place` cites, through the récapitulatif's reading.
    fn cited(d: &mut Dossier, place: usize) -> Vec<String> {
        let path = FieldPath::fiche(place, "preuves").unwrap();
        let entries: Vec<String> = serde_json::from_str(&d.get_field(&path)).unwrap_or_default();
        let annexes = d.annexes();
        entries
            .iter()
            .filter_map(|e| annexes.iter().find(|a| a.is_named_by(e)))
            .map(|a| a.titre.clone())
            .collect()
    }

    #[test]
    fn a_deleted_annexe_closes_its_gap_and_the_fiches_keep_their_evidence() {
        let mut d = Dossier::new(b"candidat");
        let [first, mistake, last] =
            ["Attestation", "Erreur", "Organigramme"].map(|t| annexe(&mut d, t));
        // One fiche names its evidence by file, another by number as typed long ago.
        d.set(
            "fiches.0.preuves",
            &format!("{}, {}", first.reference(), last.reference()),
        )
        .unwrap();
        d.set("fiches.1.preuves", "3").unwrap();
        d.delete_annexe(mistake.place, true).unwrap();
        assert_eq!(
            numbered(&d),
            [
                (1, "Attestation".to_string()),
                (2, "Organigramme".to_string())
            ]
        );
        assert_eq!(cited(&mut d, 0), ["Attestation", "Organigramme"]);
        assert_eq!(
            cited(&mut d, 1),
            ["Organigramme"],
            "the old « 3 » follows its file"
        );
        assert_eq!(d.deleted_annexes().len(), 1);
        // Undone: back under its number, the next ones moved down again.
        assert_eq!(d.restore_annexe(mistake.place).unwrap(), 2);
        assert!(d.deleted_annexes().is_empty());
        assert_eq!(
            numbered(&d),
            [
                (1, "Attestation".to_string()),
                (2, "Erreur".to_string()),
                (3, "Organigramme".to_string())
            ]
        );
        assert_eq!(cited(&mut d, 1), ["Organigramme"]);
        // Deleted again and erased: out of the bin, its key forgotten, its file named for
        // the server to erase.
        d.delete_annexe(mistake.place, true).unwrap();
        assert_eq!(d.erase_annexe(mistake.place).unwrap(), mistake.blob);
        assert!(d.deleted_annexes().is_empty());
        assert!(d.annexe_key(mistake.place).is_none());
        assert!(
            d.restore_annexe(mistake.place).is_err(),
            "erased is for good"
        );
    }

    #[test]
    fn annexes_described_without_a_file_keep_their_numbers() {
        // An imported dossier's annexes are cited by number: a renumbering would hand a
        // citation to another annexe.
        let mut d = Dossier::new(b"candidat");
        for (n, titre) in [(1, "Un"), (2, "Deux"), (3, "Trois")] {
            d.add_annexe_description(
                n,
                AnnexeDescription {
                    titre,
                    fichier: "",
                    media_type: "",
                    taille: 0,
                    empreinte: "",
                },
            )
            .unwrap();
        }
        d.set("fiches.0.preuves", "1, 3").unwrap();
        let two = d.annexes()[1].place;
        d.delete_annexe(two, true).unwrap();
        assert_eq!(
            numbered(&d),
            [(1, "Un".to_string()), (3, "Trois".to_string())]
        );
        assert_eq!(cited(&mut d, 0), ["Un", "Trois"]);
        assert_eq!(d.restore_annexe(two).unwrap(), 2);
        assert_eq!(cited(&mut d, 0), ["Un", "Trois"]);
    }

    #[test]
    fn an_erasure_does_not_hide_a_file_given_meanwhile_elsewhere() {
        let mut base = Dossier::new(b"base");
        let gone = annexe(&mut base, "Attestation");
        base.delete_annexe(gone.place, true).unwrap();
        let bytes = base.save();
        let mut a = Dossier::load(&bytes, b"laptop").unwrap();
        let mut b = Dossier::load(&bytes, b"phone").unwrap();
        a.erase_annexe(gone.place).unwrap();
        // Meanwhile the phone restores it and gives it another file.
        b.restore_annexe(gone.place).unwrap();
        let file = TestFile::seal(b"la bonne");
        b.replace_annexe_file(gone.place, file.annexe("", "attestation.pdf"))
            .unwrap();
        let blob = file.blob;
        a.automerge().merge(b.automerge()).unwrap();
        let live: Vec<Option<BlobId>> = a.annexes().iter().map(|x| x.blob).collect();
        assert_eq!(
            live,
            [Some(blob)],
            "the phone's new file stays in the livret"
        );
    }

    #[test]
    fn once_numbers_are_frozen_a_deletion_leaves_a_hole() {
        let mut d = Dossier::new(b"candidat");
        let [_, middle, _] = ["Un", "Deux", "Trois"].map(|t| annexe(&mut d, t));
        d.delete_annexe(middle.place, false).unwrap();
        assert_eq!(
            numbered(&d),
            [(1, "Un".to_string()), (3, "Trois".to_string())]
        );
    }

    #[test]
    fn a_replaced_file_keeps_the_annexes_number_title_and_citations() {
        let mut d = Dossier::new(b"candidat");
        let old = annexe(&mut d, "Attestation");
        d.set("fiches.0.preuves", &old.reference()).unwrap();
        let file = TestFile::seal(b"la bonne version");
        let (blob, key) = (file.blob, &file.key);
        let kept = d
            .replace_annexe_file(old.place, file.annexe("ignored", "attestation-signee.pdf"))
            .unwrap();
        let now = &d.annexes()[0];
        assert_eq!((now.numero, now.titre.as_str()), (1, "Attestation"));
        assert_eq!(
            (now.blob, now.fichier.as_str()),
            (Some(blob), "attestation-signee.pdf")
        );
        assert_eq!(
            d.annexe_key(now.place)
                .map(|k| k.to_secret_string().to_string()),
            Some(key.to_secret_string().to_string())
        );
        assert_eq!(cited(&mut d, 0), ["Attestation"]);
        // The old file waits in the bin, still openable, under a title that says so.
        let bin = d.deleted_annexes();
        assert_eq!(bin.len(), 1);
        assert_eq!(bin[0].place, kept);
        assert_eq!(bin[0].blob, old.blob);
        assert_eq!(bin[0].titre, "Attestation (ancienne version)");
        assert!(d.annexe_key(kept).is_some());
    }

    #[test]
    fn two_devices_deleting_apart_leave_no_number_twice() {
        let mut base = Dossier::new(b"base");
        let all = ["A", "B", "C", "D"].map(|t| annexe(&mut base, t));
        let bytes = base.save();
        let mut a = Dossier::load(&bytes, b"laptop").unwrap();
        let mut b = Dossier::load(&bytes, b"phone").unwrap();
        a.delete_annexe(all[1].place, true).unwrap();
        b.delete_annexe(all[2].place, true).unwrap();
        a.automerge().merge(b.automerge()).unwrap();
        b.automerge().merge(a.automerge()).unwrap();
        // A hole, never a number twice — before any renumbering.
        let numbers: Vec<u32> = a.annexes().iter().map(|x| x.numero).collect();
        assert_eq!(numbers, [1, 3]);
        assert!(!a.renumber_duplicate_annexes().unwrap());
        assert_eq!(
            a.annexes()
                .iter()
                .map(|x| x.titre.as_str())
                .collect::<Vec<_>>(),
            ["A", "D"]
        );
    }

    #[test]
    fn annexes_numbered_twice_offline_get_one_number_each_and_fiches_keep_their_file() {
        let mut base = Dossier::new(b"base");
        annexe(&mut base, "Commune");
        base.set("fiches.1.intitule", "Deux fiches avant de partir")
            .unwrap();
        let bytes = base.save();
        let mut a = Dossier::load(&bytes, b"laptop").unwrap();
        let mut b = Dossier::load(&bytes, b"phone").unwrap();
        // Offline, each adds a file: both number it 2, and a fiche names it.
        let on_a = annexe(&mut a, "Attestation");
        let on_b = annexe(&mut b, "Organigramme");
        assert_eq!((on_a.numero, on_b.numero), (2, 2));
        a.set("fiches.0.preuves", &on_a.reference()).unwrap();
        b.set("fiches.1.preuves", &format!("1, {}", on_b.reference()))
            .unwrap();
        a.automerge().merge(b.automerge()).unwrap();
        b.automerge().merge(a.automerge()).unwrap();
        let numbers = |d: &Dossier| d.annexes().iter().map(|x| x.numero).collect::<Vec<_>>();
        assert_eq!(numbers(&a), [1, 2, 2]);
        // Both renumber at once, without talking: they agree.
        assert!(a.renumber_duplicate_annexes().unwrap());
        assert!(b.renumber_duplicate_annexes().unwrap());
        a.automerge().merge(b.automerge()).unwrap();
        b.automerge().merge(a.automerge()).unwrap();
        assert_eq!(numbers(&a), [1, 2, 3]);
        assert_eq!(a.annexes(), b.annexes());
        assert!(
            !a.renumber_duplicate_annexes().unwrap(),
            "nothing left to do"
        );
        // Each fiche still names its own file, whatever number it has now.
        let named = |d: &mut Dossier, fiche: usize| -> Vec<String> {
            let entries: Vec<String> =
                serde_json::from_str(&d.get(&format!("fiches.{fiche}.preuves")).unwrap()).unwrap();
            d.annexes()
                .into_iter()
                .filter(|x| entries.iter().any(|e| x.is_named_by(e)))
                .map(|x| x.titre)
                .collect()
        };
        assert_eq!(named(&mut a, 0), ["Attestation"]);
        assert_eq!(named(&mut b, 1), ["Commune", "Organigramme"]);
    }
}
