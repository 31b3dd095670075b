//! Who changed what in the dossier, and when: its history read from automerge's own
//! changes, so nothing more is stored or sent. Each change's actor is the signing key of the
//! device that wrote it (the replica refuses a change in another member's name), its time
//! the one the writing device gave ([`Dossier::commit_at`]); a member's changes close
//! together in time make one [`Edit`], like a document editor's « version ».
//!
//! An edit names the fields it touched and the document's heads just before and just after
//! it, so a screen can show a field then and now ([`Dossier::field_at`]) and put a section or
//! fiche back as it was ([`Dossier::restore`]) — an undo that is itself a new edit, merged
//! and synced like any other, never a rewrite of what others hold.
//!
//! Read incrementally: [`History::update`] decodes only the changes it has not seen, so a
//! screen may ask again at each pause in typing.

use std::collections::{BTreeSet, HashMap};

/// A change's hash: an edit's heads are a few of them.
pub use automerge::ChangeHash;
use automerge::legacy::{Key, ObjectId};
use automerge::{AutoCommit, ObjId, ObjType, ROOT, ReadDoc, Value};

use crate::dossier::{Dossier, FICHE_FIELDS, FieldKind, SECTIONS};
use crate::field_path::{FieldPath, Place};
use crate::keys::MemberKey;

/// A member's changes at most this far apart (seconds) are one edit.
pub const SAME_EDIT_GAP_SECONDS: i64 = 10 * 60;

/// One member's edit: their changes close together in time, and the fields they touched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    /// The device that wrote it (its signing key).
    pub author: MemberKey,
    /// Its first and last change's time, in seconds since 1970; 0 when the writing device
    /// gave none (changes made before times were recorded).
    pub from_s: i64,
    pub to_s: i64,
    /// The document's heads just before its first change and just after its last one.
    pub before: Vec<ChangeHash>,
    pub after: Vec<ChangeHash>,
    /// The fields of sections and fiches it touched, sorted, each once.
    pub fields: Vec<FieldPath>,
}

impl Edit {
    /// Whether it touched a field of this section or fiche.
    pub fn touches(&self, place: Place) -> bool {
        self.fields.iter().any(|f| f.place() == place)
    }
}

/// Who wrote an edit ([`crate::sync::Replica::author`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    /// Their role while a member; none once removed.
    pub role: Option<crate::membership::Role>,
    /// The name the candidate gave them.
    pub name: Option<String>,
    /// The candidate's recovery kit.
    pub kit: bool,
    /// The reader themselves (another of their devices, or their kit, included).
    pub mine: bool,
}

/// The dossier's edits, read so far.
#[derive(Debug, Default)]
pub struct History {
    /// In the order they began.
    edits: Vec<Edit>,
    /// Each author's latest edit (index in `edits`): a change close to it extends it.
    latest: HashMap<MemberKey, usize>,
    /// The heads of the changes read so far.
    frontier: BTreeSet<ChangeHash>,
    /// The document's heads when last read.
    read_to: Vec<ChangeHash>,
}

/// What an automerge object is in the dossier's layout.
#[derive(Debug, Clone, Copy)]
enum Target {
    /// A section's or a fiche's map: a key put there is one of its fields.
    Container(Place),
    /// A text or list field's own object.
    Field(FieldPath),
}

impl History {
    /// Reads the changes the document gained since the last call. Call it after
    /// [`Dossier::commit_at`]: reading closes any pending edit, without a time.
    pub fn update(&mut self, dossier: &mut Dossier) {
        if dossier.automerge().get_heads() == self.read_to {
            return;
        }
        let objects = objects(dossier);
        let doc = dossier.automerge();
        // A document replaced by another (a snapshot loaded on a new device) may lack what
        // was read: read it again from the start.
        if self
            .read_to
            .iter()
            .any(|h| doc.get_change_meta_by_hash(h).is_none())
        {
            *self = History::default();
        }
        let new: Vec<(ChangeHash, MemberKey, i64, Vec<ChangeHash>)> = doc
            .get_changes_meta(&self.read_to)
            .into_iter()
            .filter_map(|meta| {
                let author = MemberKey(meta.actor.to_bytes().try_into().ok()?);
                Some((meta.hash, author, meta.timestamp, meta.deps))
            })
            .collect();
        for (hash, author, time, deps) in new {
            let before: Vec<ChangeHash> = self.frontier.iter().copied().collect();
            for dep in &deps {
                self.frontier.remove(dep);
            }
            self.frontier.insert(hash);
            let fields = match doc.get_change_by_hash(&hash) {
                Some(change) => touched(&change.decode().operations, &objects),
                None => continue,
            };
            if fields.is_empty() {
                // Comments, names, the référentiel pinned: not an edit of the livret's text.
                continue;
            }
            let after: Vec<ChangeHash> = self.frontier.iter().copied().collect();
            // Close in time, and no one else's edit of the same section or fiche since: an
            // edit interrupted by someone else's is two, so each can be seen and undone.
            let extends = self.latest.get(&author).copied().filter(|&i| {
                let close = match (self.edits[i].to_s, time) {
                    (0, 0) => true,
                    (0, _) | (_, 0) => false,
                    (last, time) => (time - last).abs() <= SAME_EDIT_GAP_SECONDS,
                };
                close
                    && !self.edits[i + 1..]
                        .iter()
                        .any(|later| fields.iter().any(|f| later.touches(f.place())))
            });
            match extends {
                Some(i) => {
                    let edit = &mut self.edits[i];
                    edit.to_s = edit.to_s.max(time);
                    edit.after = after;
                    for field in fields {
                        if let Err(at) = edit
                            .fields
                            .binary_search_by(|f| order(f).cmp(&order(&field)))
                        {
                            edit.fields.insert(at, field);
                        }
                    }
                }
                None => {
                    self.latest.insert(author, self.edits.len());
                    self.edits.push(Edit {
                        author,
                        from_s: time,
                        to_s: time,
                        before,
                        after,
                        fields,
                    });
                }
            }
        }
        self.read_to = doc.get_heads();
    }

    /// Every edit, in the order they began.
    pub fn edits(&self) -> &[Edit] {
        &self.edits
    }

    /// The edits that touched a section or fiche, the latest first.
    pub fn of_place(&self, place: Place) -> impl Iterator<Item = &Edit> {
        self.edits.iter().rev().filter(move |e| e.touches(place))
    }
}

/// A field's sort key: place, then its name.
fn order(path: &FieldPath) -> (Place, &'static str) {
    (path.place(), path.field())
}

/// The fields a change's operations touched.
fn touched(ops: &[automerge::legacy::Op], objects: &HashMap<String, Target>) -> Vec<FieldPath> {
    let mut fields: Vec<FieldPath> = Vec::new();
    for op in ops {
        let ObjectId::Id(id) = &op.obj else {
            continue;
        };
        let field = match objects.get(&id.to_string()) {
            Some(Target::Field(path)) => Some(*path),
            Some(Target::Container(place)) => match &op.key {
                Key::Map(key) => field_of(*place, key),
                Key::Seq(_) => None,
            },
            None => None,
        };
        if let Some(field) = field
            && !fields.contains(&field)
        {
            fields.push(field);
        }
    }
    fields.sort_by(|a, b| order(a).cmp(&order(b)));
    fields
}

fn field_of(place: Place, key: &str) -> Option<FieldPath> {
    match place {
        Place::Section(section) => FieldPath::section(section, key),
        Place::Fiche(at) => FieldPath::fiche(at, key),
        Place::Annexe(_) => None,
    }
}

/// The sections' and fiches' objects, and their text and list fields' objects, as they are
/// now: none is ever removed (a deleted fiche is only marked), so the current layout names
/// every object an edit of a field went to, except a list field's earlier lists (each setting
/// makes a new one, and that put is seen on the container).
fn objects(dossier: &mut Dossier) -> HashMap<String, Target> {
    let doc = dossier.automerge();
    let mut objects = HashMap::new();
    for (section, fields) in SECTIONS {
        if let Ok(Some((Value::Object(ObjType::Map), id))) = doc.get(ROOT, *section) {
            add_container(doc, &mut objects, id, Place::Section(section), fields);
        }
    }
    if let Ok(Some((Value::Object(ObjType::List), list))) = doc.get(ROOT, "fiches") {
        for at in 0..doc.length(&list) {
            if let Ok(Some((Value::Object(ObjType::Map), id))) = doc.get(&list, at) {
                add_container(doc, &mut objects, id, Place::Fiche(at), FICHE_FIELDS);
            }
        }
    }
    objects
}

fn add_container(
    doc: &AutoCommit,
    objects: &mut HashMap<String, Target>,
    id: ObjId,
    place: Place,
    fields: &[(&str, FieldKind)],
) {
    for (field, _) in fields {
        if let Ok(Some((Value::Object(ObjType::Text | ObjType::List), field_id))) =
            doc.get(&id, *field)
            && let Some(path) = field_of(place, field)
        {
            objects.insert(field_id.to_string(), Target::Field(path));
        }
    }
    objects.insert(id.to_string(), Target::Container(place));
}

#[cfg(test)]
mod tests {
    use super::*;

    const CANDIDATE: [u8; 32] = [1; 32];
    const ADVISOR: [u8; 32] = [2; 32];

    fn path(s: &str) -> FieldPath {
        s.parse().unwrap()
    }

    fn set_at(d: &mut Dossier, field: &str, value: &str, at_s: i64) {
        d.set(&path(field), value).unwrap();
        d.commit_at(at_s);
    }

    /// The candidate writes, the advisor rewrites, the two documents merge.
    fn two_writers() -> (Dossier, Dossier) {
        let mut candidate = Dossier::new(&CANDIDATE);
        set_at(
            &mut candidate,
            "motivation.lettre",
            "Je veux valider",
            1_000,
        );
        set_at(
            &mut candidate,
            "motivation.lettre",
            "Je veux valider mon titre.",
            1_100,
        );
        set_at(&mut candidate, "etat_civil.nom", "Durand", 1_150);
        let mut advisor = Dossier::load(&candidate.save(), &ADVISOR).unwrap();
        set_at(
            &mut advisor,
            "motivation.lettre",
            "Je souhaite valider mon titre.",
            1_200,
        );
        candidate.automerge().merge(advisor.automerge()).unwrap();
        (candidate, advisor)
    }

    #[test]
    fn edits_have_their_author_time_and_fields() {
        let (mut candidate, _) = two_writers();
        // An hour later: another edit of the candidate's.
        set_at(&mut candidate, "fiches.0.taches", "Accueillir", 5_000);
        let mut history = History::default();
        history.update(&mut candidate);
        let edits: Vec<_> = history
            .edits()
            .iter()
            .map(|e| {
                let fields: Vec<String> = e.fields.iter().map(|f| f.to_string()).collect();
                (e.author.0[0], e.from_s, e.to_s, fields)
            })
            .collect();
        assert_eq!(
            edits,
            [
                (
                    1,
                    1_000,
                    1_150,
                    vec![
                        "etat_civil.nom".to_string(),
                        "motivation.lettre".to_string()
                    ]
                ),
                (2, 1_200, 1_200, vec!["motivation.lettre".to_string()]),
                (1, 5_000, 5_000, vec!["fiches.0.taches".to_string()]),
            ]
        );
        let motivation: Vec<u8> = history
            .of_place(Place::Section("motivation"))
            .map(|e| e.author.0[0])
            .collect();
        assert_eq!(motivation, [2, 1], "the latest first");
    }

    #[test]
    fn a_field_reads_as_it_was_before_and_after_an_edit() {
        let (mut candidate, _) = two_writers();
        let mut history = History::default();
        history.update(&mut candidate);
        let advisors = history.edits()[1].clone();
        let lettre = path("motivation.lettre");
        assert_eq!(
            candidate.field_at(&lettre, &advisors.before),
            "Je veux valider mon titre."
        );
        assert_eq!(
            candidate.field_at(&lettre, &advisors.after),
            "Je souhaite valider mon titre."
        );
        assert_eq!(
            candidate.field_at(&path("fiches.3.taches"), &advisors.after),
            ""
        );
        assert_eq!(candidate.field_at(&lettre, &history.edits()[0].before), "");
    }

    #[test]
    fn restoring_undoes_an_edit_as_a_new_edit_that_merges() {
        let (mut candidate, mut advisor) = two_writers();
        let mut history = History::default();
        history.update(&mut candidate);
        let advisors = history.edits()[1].clone();
        // Meanwhile the advisor types elsewhere in the same section's text... and in another.
        set_at(&mut advisor, "etat_civil.prenom", "Lou", 1_300);
        let changed = candidate
            .restore(Place::Section("motivation"), &advisors.before)
            .unwrap();
        candidate.commit_at(1_400);
        assert_eq!(changed, [path("motivation.lettre")]);
        assert_eq!(
            candidate.get_field(&path("motivation.lettre")),
            "Je veux valider mon titre."
        );
        // Nothing else of the section or the dossier moved; restoring again changes nothing.
        assert_eq!(candidate.get_field(&path("etat_civil.nom")), "Durand");
        assert!(
            candidate
                .restore(Place::Section("motivation"), &advisors.before)
                .unwrap()
                .is_empty()
        );
        // The undo is an edit of the candidate's, shown as such, and reaches the advisor.
        history.update(&mut candidate);
        let last = history.edits().last().unwrap();
        assert_eq!((last.author.0, last.from_s), (CANDIDATE, 1_400));
        advisor.automerge().merge(candidate.automerge()).unwrap();
        assert_eq!(
            advisor.get_field(&path("motivation.lettre")),
            "Je veux valider mon titre."
        );
        assert_eq!(advisor.get_field(&path("etat_civil.prenom")), "Lou");
    }

    #[test]
    fn restoring_a_fiche_puts_back_its_lists_and_choices_as_stored() {
        let mut d = Dossier::new(&CANDIDATE);
        set_at(&mut d, "fiches.0.competences", "C1, C2", 10);
        set_at(&mut d, "fiches.0.intitule", "Accueil", 20);
        let mut history = History::default();
        history.update(&mut d);
        let then = d.automerge().get_heads();
        set_at(&mut d, "fiches.0.competences", "C3", 10_000);
        set_at(&mut d, "fiches.0.intitule", "", 10_010);
        set_at(&mut d, "fiches.0.taches", "Nouveau", 10_020);
        let mut changed: Vec<String> = d
            .restore(Place::Fiche(0), &then)
            .unwrap()
            .iter()
            .map(|f| f.to_string())
            .collect();
        changed.sort();
        assert_eq!(
            changed,
            [
                "fiches.0.competences",
                "fiches.0.intitule",
                "fiches.0.taches"
            ]
        );
        assert_eq!(d.get_field(&path("fiches.0.competences")), r#"["C1","C2"]"#);
        assert_eq!(d.get_field(&path("fiches.0.intitule")), "Accueil");
        assert_eq!(d.get_field(&path("fiches.0.taches")), "");
        assert!(d.restore(Place::Annexe(0), &then).is_err());
    }

    #[test]
    fn read_in_steps_it_is_the_history_read_at_once() {
        let mut d = Dossier::new(&CANDIDATE);
        let mut stepwise = History::default();
        for (i, word) in ["Un", "Un deux", "Un deux trois"].iter().enumerate() {
            set_at(&mut d, "cv.parcours", word, 100 + 700 * i as i64);
            stepwise.update(&mut d);
        }
        let mut advisor = Dossier::load(&d.save(), &ADVISOR).unwrap();
        set_at(&mut advisor, "cv.parcours", "Un deux trois quatre", 2_000);
        d.automerge().merge(advisor.automerge()).unwrap();
        stepwise.update(&mut d);
        let mut at_once = History::default();
        at_once.update(&mut d);
        assert_eq!(stepwise.edits(), at_once.edits());
        assert_eq!(at_once.edits().len(), 4, "700 s apart: one edit each");
    }

    #[test]
    fn a_migration_on_load_is_not_part_of_the_first_edit_after_it() {
        // Schema 0: the letter a plain string, which loading makes text.
        let mut old =
            automerge::AutoCommit::new().with_actor(automerge::ActorId::from(&CANDIDATE[..]));
        automerge::transaction::Transactable::put(&mut old, ROOT, "motivation", "Ma lettre")
            .unwrap();
        let mut d = Dossier::load(&old.save(), &CANDIDATE).unwrap();
        set_at(&mut d, "etat_civil.nom", "Durand", 100);
        let mut history = History::default();
        history.update(&mut d);
        let last = history.edits().last().unwrap();
        assert_eq!(last.fields, [path("etat_civil.nom")]);
        assert_eq!(last.from_s, 100);
        assert_eq!(
            d.field_at(&path("motivation.lettre"), &last.before),
            "Ma lettre"
        );
    }

    #[test]
    fn changes_without_a_time_are_grouped_by_author_and_a_replaced_document_read_again() {
        let mut d = Dossier::new(&CANDIDATE);
        d.set(&path("cv.parcours"), "Un").unwrap();
        let _ = d.save();
        d.set(&path("cv.parcours"), "Un deux").unwrap();
        let mut history = History::default();
        history.update(&mut d);
        assert_eq!(history.edits().len(), 1);
        assert_eq!(history.edits()[0].from_s, 0);
        // Another document in its place (a snapshot loaded): read again from the start.
        let mut other = Dossier::new(&ADVISOR);
        set_at(&mut other, "etat_civil.nom", "Autre", 50);
        history.update(&mut other);
        assert_eq!(history.edits().len(), 1);
        assert_eq!(history.edits()[0].author.0, ADVISOR);
    }
}
