//! A juror's review, and what a juror releases to the candidate, as automerge documents.
//!
//! Each juror writes documents of their own (one review, one release): the envelopes that
//! carry their changes are signed by that juror, and a replica applies a juror's envelopes
//! to that juror's documents only. So two jurors never write the same document, and one
//! juror cannot overwrite (or pass something off as) another's view — by construction, not
//! by a rule checked on each key. Within a document every annotation, link and rating is a
//! key of its own, holding its value as JSON: the juror's own devices and sessions merge key
//! by key, and a value is always read whole.

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ChangeHash, ObjId, ObjType, ROOT, ReadDoc, Value};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Annotation, Decision, Evidence, JurorReview, Rating};

const ANNOTATIONS: &str = "annotations";
const LINKS: &str = "liens";
const RATINGS: &str = "notes";
const NAME: &str = "jure";
const DECISION: &str = "decision";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JuryDocError {
    #[error("document du jury illisible : {0}")]
    Corrupt(String),
}

/// One juror's document (a review, or a release).
pub struct JuryDoc {
    doc: AutoCommit,
}

impl std::fmt::Debug for JuryDoc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JuryDoc")
    }
}

fn corrupt(e: impl std::fmt::Display) -> JuryDocError {
    JuryDocError::Corrupt(e.to_string())
}

/// Evidence as a key: `fiche:3` (the fiche's place), `annexe:5` (its number).
pub fn evidence_key(evidence: &Evidence) -> String {
    match evidence {
        Evidence::Fiche(place) => format!("fiche:{place}"),
        Evidence::Annexe(n) => format!("annexe:{n}"),
    }
}

pub fn parse_evidence_key(key: &str) -> Option<Evidence> {
    let (kind, n) = key.split_once(':')?;
    match kind {
        "fiche" => n.parse().ok().map(Evidence::Fiche),
        "annexe" => n.parse().ok().map(Evidence::Annexe),
        _ => None,
    }
}

impl JuryDoc {
    /// An empty document written by `actor` (the juror's signing key), or read by anyone.
    pub fn new(actor: &[u8]) -> JuryDoc {
        JuryDoc {
            doc: AutoCommit::new().with_actor(ActorId::from(actor)),
        }
    }

    pub fn load(bytes: &[u8], actor: &[u8]) -> Result<JuryDoc, JuryDocError> {
        Ok(JuryDoc {
            doc: AutoCommit::load(bytes)
                .map_err(corrupt)?
                .with_actor(ActorId::from(actor)),
        })
    }

    pub fn save(&mut self) -> Vec<u8> {
        self.doc.save()
    }

    pub fn heads(&mut self) -> Vec<ChangeHash> {
        self.doc.get_heads()
    }

    /// Applies changes (from an envelope), all in one call.
    pub fn apply(&mut self, changes: &[u8]) -> Result<(), JuryDocError> {
        self.doc.load_incremental(changes).map_err(corrupt)?;
        Ok(())
    }

    /// The changes made after `heads`, encoded (what the next envelope carries).
    pub fn changes_since(&mut self, heads: &[ChangeHash]) -> Vec<u8> {
        self.doc
            .get_changes(heads)
            .into_iter()
            .flat_map(|mut c| c.bytes().into_owned())
            .collect()
    }

    /// The changes `actor` made after `heads`, encoded: what one of a juror's devices seals
    /// of the person's review (each device signs its own changes only; the others' reached
    /// it in their own envelopes).
    pub fn own_changes_since(&mut self, heads: &[ChangeHash], actor: &[u8]) -> Vec<u8> {
        let actor = ActorId::from(actor);
        self.doc
            .get_changes(heads)
            .into_iter()
            .filter(|c| *c.actor_id() == actor)
            .flat_map(|mut c| c.bytes().into_owned())
            .collect()
    }

    /// Whether changes wait in the document for others they depend on (another device's of
    /// the same juror, not readable yet): they are not in what [`JuryDoc::save`] keeps.
    pub fn waits_for_changes(&mut self) -> bool {
        !self.doc.get_missing_deps(&[]).is_empty()
    }

    /// The root map `name`, made at the first write. Two devices of one juror may each make
    /// it before seeing the other's: automerge then keeps both objects under the key, one
    /// visible; reads take every one of them ([`JuryDoc::maps`]), writes go to the visible.
    fn map(&mut self, name: &str) -> ObjId {
        match self.doc.get(ROOT, name) {
            Ok(Some((Value::Object(ObjType::Map), id))) => id,
            _ => self
                .doc
                .put_object(ROOT, name, ObjType::Map)
                .expect("root is a map"),
        }
    }

    /// Every map made under `name`, the visible one last (its values win).
    fn maps(&self, name: &str) -> Vec<ObjId> {
        let visible = match self.doc.get(ROOT, name) {
            Ok(Some((Value::Object(ObjType::Map), id))) => Some(id),
            _ => None,
        };
        let mut all: Vec<ObjId> = self
            .doc
            .get_all(ROOT, name)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(v, id)| matches!(v, Value::Object(ObjType::Map)).then_some(id))
            .filter(|id| Some(id) != visible.as_ref())
            .collect();
        all.extend(visible);
        all
    }

    fn put_json<T: Serialize>(&mut self, map: &str, key: &str, value: &T) {
        let obj = self.map(map);
        let text = serde_json::to_string(value).expect("review values serialise");
        self.doc.put(&obj, key, text).expect("a map takes keys");
    }

    fn delete(&mut self, map: &str, key: &str) {
        for obj in self.maps(map) {
            if self.doc.get(&obj, key).ok().flatten().is_some() {
                let _ = self.doc.delete(&obj, key);
            }
        }
    }

    /// Every entry of a map that reads as a `T` (one that does not is skipped: a newer
    /// version's value, or a damaged one, never hides the others).
    fn entries<T: DeserializeOwned>(&self, map: &str) -> Vec<(String, T)> {
        let mut out = std::collections::BTreeMap::new();
        for obj in self.maps(map) {
            for item in self.doc.map_range(&obj, ..) {
                let automerge::ValueRef::Scalar(automerge::ScalarValueRef::Str(text)) = &item.value
                else {
                    continue;
                };
                if let Ok(value) = serde_json::from_str(text) {
                    out.insert(item.key.to_string(), value);
                }
            }
        }
        out.into_iter().collect()
    }

    fn string(&self, key: &str) -> String {
        match self.doc.get(ROOT, key) {
            Ok(Some((Value::Scalar(v), _))) => v.as_str().unwrap_or_default().to_string(),
            _ => String::new(),
        }
    }

    // --- a review -------------------------------------------------------------------------

    /// The juror's name, as the jury and the documents show it.
    pub fn set_name(&mut self, name: &str) {
        if self.string(NAME) != name {
            self.doc.put(ROOT, NAME, name).expect("root is a map");
        }
    }

    pub fn annotate(&mut self, annotation: &Annotation) {
        self.put_json(ANNOTATIONS, &annotation.id, annotation);
    }

    pub fn remove_annotation(&mut self, id: &str) {
        self.delete(ANNOTATIONS, id);
    }

    /// Sets what `evidence` shows (compétence codes or `C4#2` criteria); empty unlinks it.
    pub fn link(&mut self, evidence: &Evidence, codes: &std::collections::BTreeSet<String>) {
        let key = evidence_key(evidence);
        if codes.is_empty() {
            self.delete(LINKS, &key);
        } else {
            self.put_json(LINKS, &key, codes);
        }
    }

    pub fn rate(&mut self, competence: &str, rating: &Rating) {
        self.put_json(RATINGS, competence, rating);
    }

    /// The review this document holds.
    pub fn review(&self) -> JurorReview {
        let mut annotations: Vec<Annotation> = self
            .entries(ANNOTATIONS)
            .into_iter()
            .map(|(_, a)| a)
            .collect();
        annotations.sort_by(|a: &Annotation, b| a.at_ms.cmp(&b.at_ms).then(a.id.cmp(&b.id)));
        JurorReview {
            juror: self.string(NAME),
            annotations,
            links: self
                .entries(LINKS)
                .into_iter()
                .filter_map(|(k, v)| Some((parse_evidence_key(&k)?, v)))
                .collect(),
            ratings: self.entries(RATINGS).into_iter().collect(),
        }
    }

    // --- a release ------------------------------------------------------------------------

    /// Releases (or replaces) the jury's decision.
    pub fn release(&mut self, decision: &Decision) {
        self.put_json(DECISION, "courante", decision);
    }

    pub fn decision(&self) -> Option<Decision> {
        self.entries(DECISION).into_iter().map(|(_, d)| d).next()
    }
}
