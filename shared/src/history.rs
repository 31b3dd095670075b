//! Who changed what in the dossier, and when: its history read from automerge's own
//! changes, so nothing more is stored or sent. Each change's actor is the signing key of the
//! device that wrote it (the replica refuses a change in another member's name), its time
//! the one the writing device gave ([`Dossier::commit_at`]); a member's changes close
//! together in time make one [`Edit`], like a document editor's « version ».
//!
//! An edit names the fields it touched and the heads its author saw just before it and left
//! just after it, so a screen can show a field then and now ([`Dossier::field_at`]) and undo
//! it ([`History::undo`]: its fields as they were before it) — an undo that is itself a new
//! edit, merged and synced like any other, never a rewrite of what others hold.
//!
//! Read incrementally: [`History::update`] decodes only the changes it has not seen, so a
//! screen may ask again at each pause in typing.

use std::collections::{BTreeSet, HashMap};

/// A change's hash: an edit's heads are a few of them.
pub use automerge::ChangeHash;
use automerge::legacy::{Key, ObjectId};
use automerge::{AutoCommit, ObjId, ObjType, ROOT, ReadDoc, Value, ValueRef};

use crate::dossier::{Dossier, DossierError, FICHE_FIELDS, FieldKind, REPEATED, SECTIONS};
use crate::field_path::{FieldPath, Place, repeat_id};
use crate::keys::MemberKey;

/// A member's changes at most this far apart (seconds) are one edit.
pub const SAME_EDIT_GAP_SECONDS: i64 = 10 * 60;

/// The message of a change a migration made ([`Dossier::load`]): an edit of its own.
pub const MIGRATION: &str = "livret:migration";

/// A change's time as the writing device gave it, when it can be one: from 2020 to 2100.
/// Anything else (none, a device's clock set to 1970, a hostile member's) is unknown.
fn plausible(time_s: i64) -> i64 {
    const FROM: i64 = 1_577_836_800; // 2020-01-01
    const TO: i64 = 4_102_444_800; // 2100-01-01
    if (FROM..TO).contains(&time_s) {
        time_s
    } else {
        0
    }
}

/// One member's edit: their changes close together in time, and the fields they touched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    /// The device that wrote it (its signing key).
    pub author: MemberKey,
    /// Its first and last change's time, in seconds since 1970; 0 when the writing device
    /// gave none (changes made before times were recorded).
    pub from_s: i64,
    pub to_s: i64,
    /// Its first change's dependencies (what its author saw before it) and its last change
    /// (which depends on all its others).
    pub before: Vec<ChangeHash>,
    pub after: Vec<ChangeHash>,
    /// The fields of sections and fiches it touched, sorted, each once.
    pub fields: Vec<FieldPath>,
    /// A migration of the document's layout that this device ran when it opened an older
    /// dossier ([`MIGRATION`]): shown as the program's doing, on that device, never grouped
    /// with the member's own typing.
    pub migration: bool,
}

impl Edit {
    /// Whether it touched a field of this section or fiche.
    pub fn touches(&self, place: Place) -> bool {
        self.fields.iter().any(|f| f.place() == place)
    }
}

/// Who wrote an edit ([`crate::sync::Replica::author`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
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
    /// Who wrote last in each section and fiche.
    last_writer: HashMap<Place, MemberKey>,
    /// Each change read that touched fields: those fields.
    touched: HashMap<ChangeHash, Vec<FieldPath>>,
    /// The edit (index in `edits`) each of those changes belongs to.
    edit_of: HashMap<ChangeHash, usize>,
    /// The fiches' objects by place when last read.
    fiches: Vec<String>,
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
        let (objects, fiches) = objects(dossier);
        let doc = dossier.automerge();
        // A document replaced by another (a snapshot loaded on a new device) may lack what
        // was read; fiches added at once on two devices may have moved one another down the
        // list, so the places read before name other fiches now: read again from the start.
        let replaced = self
            .read_to
            .iter()
            .any(|h| doc.get_change_meta_by_hash(h).is_none());
        if replaced || !fiches.starts_with(&self.fiches) {
            *self = History::default();
        }
        self.fiches = fiches;
        let new: Vec<(ChangeHash, MemberKey, i64, Vec<ChangeHash>, bool)> = doc
            .get_changes_meta(&self.read_to)
            .into_iter()
            // Every member's actor is its 32-byte signing key (the replica checks it).
            .filter_map(|meta| {
                let author = MemberKey(meta.actor.to_bytes().try_into().ok()?);
                let migration = meta.message.as_deref() == Some(MIGRATION);
                Some((
                    meta.hash,
                    author,
                    plausible(meta.timestamp),
                    meta.deps,
                    migration,
                ))
            })
            .collect();
        for (hash, author, time, deps, migration) in new {
            let fields = match doc.get_change_by_hash(&hash) {
                Some(change) => touched(&change.decode().operations, &objects),
                None => continue,
            };
            if fields.is_empty() {
                // Comments, names, the référentiel pinned: not an edit of the livret's text.
                continue;
            }
            let places: BTreeSet<Place> = fields.iter().map(FieldPath::place).collect();
            // Close in time, and no one else wrote, since this author's last change, in a
            // section or fiche the edit or this change touches: an edit interrupted by
            // someone else's is two, so each can be seen and undone alone. (Changes read in
            // another order elsewhere may be grouped otherwise there; an undo checks others'
            // changes itself, [`History::undo`].)
            let extends = self.latest.get(&author).copied().filter(|&i| {
                let edit = &self.edits[i];
                let close = match (edit.to_s, time) {
                    (0, 0) => true,
                    (0, _) | (_, 0) => false,
                    (last, time) => last.abs_diff(time) <= SAME_EDIT_GAP_SECONDS.unsigned_abs(),
                };
                close
                    && !migration
                    && !edit.migration
                    && places
                        .iter()
                        .copied()
                        .chain(edit.fields.iter().map(FieldPath::place))
                        .all(|p| self.last_writer.get(&p).is_none_or(|w| *w == author))
            });
            for place in places {
                self.last_writer.insert(place, author);
            }
            self.touched.insert(hash, fields.clone());
            self.edit_of
                .insert(hash, extends.unwrap_or(self.edits.len()));
            match extends {
                Some(i) => {
                    let edit = &mut self.edits[i];
                    edit.to_s = edit.to_s.max(time);
                    // A member's changes each depend on their previous one: the last holds
                    // the whole edit.
                    edit.after = vec![hash];
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
                        // What its author saw when they began: the same on every device,
                        // whatever order concurrent changes arrived in.
                        before: deps,
                        after: vec![hash],
                        fields,
                        migration,
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

    /// Of `fields`, those another change than the edit's own touched since the edit began:
    /// anyone's, concurrent with it or later, the edit's author's next ones included. What
    /// undoing the edit would also take away.
    fn changed_since(
        &mut self,
        dossier: &mut Dossier,
        edit: &Edit,
        fields: &[FieldPath],
    ) -> Vec<FieldPath> {
        self.update(dossier);
        let own = self.edits.iter().position(|e| e.after == edit.after);
        let mut changed: Vec<FieldPath> = Vec::new();
        for meta in dossier.automerge().get_changes_meta(&edit.before) {
            if own.is_some() && self.edit_of.get(&meta.hash) == own.as_ref() {
                continue;
            }
            for field in self.touched.get(&meta.hash).into_iter().flatten() {
                if fields.contains(field) && !changed.contains(field) {
                    changed.push(*field);
                }
            }
        }
        changed.sort_by(|a, b| order(a).cmp(&order(b)));
        changed
    }

    /// Undoes the edit that ends at `after` in a section or fiche: the fields it changed
    /// there put back as they were before it, as a new edit of this device — unless other
    /// changes touched them since ([`History::changed_since`]) and not `anyway`.
    pub fn undo(
        &mut self,
        dossier: &mut Dossier,
        after: &[ChangeHash],
        place: Place,
        anyway: bool,
    ) -> Result<Undo, DossierError> {
        self.update(dossier);
        let Some(edit) = self.edits.iter().find(|e| e.after == after).cloned() else {
            return Ok(Undo::NoSuchEdit);
        };
        let fields: Vec<FieldPath> = edit
            .fields
            .iter()
            .filter(|f| f.place() == place)
            .copied()
            .collect();
        if fields.is_empty() {
            return Ok(Undo::NotHere);
        }
        let since = self.changed_since(dossier, &edit, &fields);
        if !since.is_empty() && !anyway {
            return Ok(Undo::ChangedSince(since));
        }
        let changed = dossier.restore(&fields, &edit.before)?;
        Ok(if changed.is_empty() {
            Undo::NothingToChange
        } else {
            Undo::Done(changed)
        })
    }
}

/// What undoing an edit did ([`History::undo`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Undo {
    /// These fields are back as they were before the edit (a new edit, to be saved).
    Done(Vec<FieldPath>),
    /// They already were: nothing written.
    NothingToChange,
    /// Other changes touched these fields since: undoing would take them away too. Nothing
    /// written; ask, then undo `anyway`.
    ChangedSince(Vec<FieldPath>),
    /// The edit changed nothing in that section or fiche.
    NotHere,
    /// No such edit (the history was read again meanwhile: look again).
    NoSuchEdit,
}

/// A field's sort key: place, then its name.
fn order(path: &FieldPath) -> (Place, &'static str) {
    (path.place(), path.field())
}

/// The fields a change's operations touched.
fn touched(ops: &[automerge::legacy::Op], objects: &HashMap<String, Target>) -> Vec<FieldPath> {
    let mut fields: Vec<FieldPath> = Vec::new();
    // Whether the change makes a section, fiche or structure, with its texts.
    let makes_items = ops
        .iter()
        .any(|op| matches!(op.action, automerge::legacy::OpType::Make(ObjType::Map)));
    for op in ops {
        let ObjectId::Id(id) = &op.obj else {
            continue;
        };
        // An empty text made with its dossier, fiche or structure (`Dossier::make_texts`)
        // is no one's words: what is typed in it is. Made otherwise (first typing in a field
        // of an older dossier, a field emptied), making it is an edit of that field.
        if makes_items && matches!(op.action, automerge::legacy::OpType::Make(ObjType::Text)) {
            continue;
        }
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
        Place::Annexe(_) => None,
        place => FieldPath::at(place, key),
    }
}

/// The sections' and fiches' objects, and their text and list fields' objects, as they are
/// now: none is ever removed (a deleted fiche is only marked), so the current layout names
/// every object an edit of a field went to, except a list field's earlier lists (each setting
/// makes a new one, and that put is seen on the container).
fn objects(dossier: &mut Dossier) -> (HashMap<String, Target>, Vec<String>) {
    let doc = dossier.automerge();
    let mut objects = HashMap::new();
    let mut fiches = Vec::new();
    for (section, fields) in SECTIONS {
        if let Ok(Some((Value::Object(ObjType::Map), id))) = doc.get(ROOT, *section) {
            // A further structure or poste, a map in its section's under its id.
            if REPEATED.contains(section) {
                let repeats: Vec<(u64, ObjId)> = doc
                    .map_range(&id, ..)
                    .filter(|item| matches!(item.value, ValueRef::Object(ObjType::Map)))
                    .filter_map(|item| Some((repeat_id(&item.key)?, item.id())))
                    .collect();
                for (repeat, obj) in repeats {
                    add_container(
                        doc,
                        &mut objects,
                        obj,
                        Place::Repeat(section, repeat),
                        fields,
                    );
                }
            }
            add_container(doc, &mut objects, id, Place::Section(section), fields);
        }
    }
    if let Ok(Some((Value::Object(ObjType::List), list))) = doc.get(ROOT, "fiches") {
        for at in 0..doc.length(&list) {
            if let Ok(Some((Value::Object(ObjType::Map), id))) = doc.get(&list, at) {
                fiches.push(id.to_string());
                add_container(doc, &mut objects, id, Place::Fiche(at), FICHE_FIELDS);
            }
        }
    }
    (objects, fiches)
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
    /// 2027-01-15: the tests' times are seconds after it.
    const T: i64 = 1_800_000_000;

    fn path(s: &str) -> FieldPath {
        s.parse().unwrap()
    }

    fn set_at(d: &mut Dossier, field: &str, value: &str, after_s: i64) {
        d.set(&path(field), value).unwrap();
        d.commit_at(T + after_s);
    }

    fn read(d: &mut Dossier) -> History {
        let mut history = History::default();
        history.update(d);
        history
    }

    fn summary(history: &History) -> Vec<(u8, i64, i64, Vec<String>)> {
        history
            .edits()
            .iter()
            .map(|e| {
                let fields = e.fields.iter().map(|f| f.to_string()).collect();
                (e.author.0[0], e.from_s - T, e.to_s - T, fields)
            })
            .collect()
    }

    /// The candidate writes, the advisor rewrites, the two documents merge.
    fn two_writers() -> (Dossier, Dossier) {
        let mut candidate = Dossier::new(&CANDIDATE);
        set_at(&mut candidate, "motivation.lettre", "Je veux valider", 0);
        set_at(
            &mut candidate,
            "motivation.lettre",
            "Je veux valider mon titre.",
            100,
        );
        set_at(&mut candidate, "etat_civil.nom", "Durand", 150);
        let mut advisor = Dossier::load(&candidate.save(), &ADVISOR).unwrap();
        set_at(
            &mut advisor,
            "motivation.lettre",
            "Je souhaite valider mon titre.",
            200,
        );
        candidate.automerge().merge(advisor.automerge()).unwrap();
        (candidate, advisor)
    }

    #[test]
    fn edits_have_their_author_time_and_fields() {
        let (mut candidate, _) = two_writers();
        // An hour later: another edit of the candidate's.
        set_at(&mut candidate, "fiches.0.taches", "Accueillir", 4_000);
        let history = read(&mut candidate);
        let s = |x: &str| x.to_string();
        assert_eq!(
            summary(&history),
            [
                (1, 0, 150, vec![s("etat_civil.nom"), s("motivation.lettre")]),
                (2, 200, 200, vec![s("motivation.lettre")]),
                (1, 4_000, 4_000, vec![s("fiches.0.taches")]),
            ]
        );
        let motivation: Vec<u8> = history
            .edits()
            .iter()
            .rev()
            .filter(|e| e.touches(Place::Section("motivation")))
            .map(|e| e.author.0[0])
            .collect();
        assert_eq!(motivation, [2, 1], "the latest first");
    }

    #[test]
    fn an_edit_is_cut_where_someone_else_wrote_in_the_same_place_meanwhile() {
        let mut a = Dossier::new(&CANDIDATE);
        set_at(&mut a, "motivation.lettre", "Un", 0);
        let mut b = Dossier::load(&a.save(), &ADVISOR).unwrap();
        // B writes elsewhere first (its edit begins), A goes on, then B writes in A's section.
        set_at(&mut b, "cv.parcours", "Parcours", 10);
        a.automerge().merge(b.automerge()).unwrap();
        set_at(&mut a, "motivation.lettre", "Un deux", 20);
        b.automerge().merge(a.automerge()).unwrap();
        set_at(&mut b, "motivation.lettre", "Un deux trois", 30);
        a.automerge().merge(b.automerge()).unwrap();
        set_at(&mut a, "motivation.lettre", "Un deux trois quatre", 40);
        let history = read(&mut a);
        let s = |x: &str| x.to_string();
        assert_eq!(
            summary(&history),
            [
                (1, 0, 20, vec![s("motivation.lettre")]),
                (2, 10, 10, vec![s("cv.parcours")]),
                (2, 30, 30, vec![s("motivation.lettre")]),
                (1, 40, 40, vec![s("motivation.lettre")]),
            ],
            "B's word is B's own edit, A's last word A's, each undone alone"
        );
        let bs = history.edits()[2].clone();
        let lettre = path("motivation.lettre");
        assert_eq!(a.field_at(&lettre, &bs.before), "Un deux");
        assert_eq!(a.field_at(&lettre, &bs.after), "Un deux trois");
    }

    #[test]
    fn before_and_after_are_what_the_author_saw_on_every_device() {
        let (mut candidate, mut advisor) = two_writers();
        let mine = read(&mut candidate);
        // The advisor's device read the same changes in another order.
        advisor.automerge().merge(candidate.automerge()).unwrap();
        let theirs = read(&mut advisor);
        let reloaded = read(&mut Dossier::load(&candidate.save(), &CANDIDATE).unwrap());
        assert_eq!(mine.edits(), theirs.edits());
        assert_eq!(mine.edits(), reloaded.edits());
    }

    #[test]
    fn a_field_reads_as_it_was_before_and_after_an_edit() {
        let (mut candidate, _) = two_writers();
        let history = read(&mut candidate);
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
        let mut history = read(&mut candidate);
        let advisors = history.edits()[1].clone();
        // Meanwhile the advisor writes in another section.
        set_at(&mut advisor, "etat_civil.prenom", "Lou", 300);
        let motivation = Place::Section("motivation");
        let undone = history
            .undo(&mut candidate, &advisors.after, motivation, false)
            .unwrap();
        candidate.commit_at(T + 400);
        assert_eq!(undone, Undo::Done(vec![path("motivation.lettre")]));
        assert_eq!(
            candidate.get_field(&path("motivation.lettre")),
            "Je veux valider mon titre."
        );
        assert_eq!(candidate.get_field(&path("etat_civil.nom")), "Durand");
        // Undone again, it is the candidate's undo since: said, and nothing to change anyway.
        assert_eq!(
            history.undo(&mut candidate, &advisors.after, motivation, false),
            Ok(Undo::ChangedSince(vec![path("motivation.lettre")]))
        );
        assert_eq!(
            history.undo(&mut candidate, &advisors.after, motivation, true),
            Ok(Undo::NothingToChange)
        );
        assert_eq!(
            history.undo(&mut candidate, &advisors.after, Place::Section("cv"), false),
            Ok(Undo::NotHere)
        );
        assert_eq!(
            history.undo(&mut candidate, &[], motivation, false),
            Ok(Undo::NoSuchEdit)
        );
        // The undo is an edit of the candidate's, shown as such, and reaches the advisor.
        history.update(&mut candidate);
        let last = history.edits().last().unwrap();
        assert_eq!((last.author.0, last.from_s), (CANDIDATE, T + 400));
        advisor.automerge().merge(candidate.automerge()).unwrap();
        assert_eq!(
            advisor.get_field(&path("motivation.lettre")),
            "Je veux valider mon titre."
        );
        assert_eq!(advisor.get_field(&path("etat_civil.prenom")), "Lou");
    }

    #[test]
    fn typing_first_at_once_in_an_older_dossiers_field_is_both_writers_edit() {
        // A dossier as versions before this one made it: sections without their texts.
        use automerge::transaction::Transactable;
        let mut old = AutoCommit::new().with_actor(automerge::ActorId::from(&CANDIDATE[..]));
        old.put(ROOT, "schema_version", crate::dossier::SCHEMA_VERSION)
            .unwrap();
        for (section, _) in SECTIONS {
            old.put_object(ROOT, *section, ObjType::Map).unwrap();
        }
        let bytes = old.save();
        let mut candidate = Dossier::load(&bytes, &CANDIDATE).unwrap();
        let mut advisor = Dossier::load(&bytes, &ADVISOR).unwrap();
        // Both type first in the CV, offline: automerge keeps one text and hides the other.
        set_at(&mut candidate, "cv.parcours", "Dix ans en PME.", 0);
        set_at(&mut advisor, "cv.parcours", "Parcours à compléter.", 10);
        candidate.automerge().merge(advisor.automerge()).unwrap();
        let history = read(&mut candidate);
        let authors: Vec<u8> = history
            .edits()
            .iter()
            .filter(|e| e.fields == [path("cv.parcours")])
            .map(|e| e.author.0[0])
            .collect();
        assert_eq!(authors.len(), 2, "each wrote the field: {authors:?}");
    }

    #[test]
    fn a_further_structure_has_its_own_history_and_undo() {
        let mut candidate = Dossier::new(&CANDIDATE);
        let id = candidate.add_repeat("structure").unwrap();
        candidate.commit_at(T);
        let nom = FieldPath::repeat("structure", id, "nom").unwrap();
        let presentation = FieldPath::repeat("structure", id, "presentation").unwrap();
        candidate.set(&nom, "Mutuelle du Rhône").unwrap();
        candidate.set(&presentation, "Une mutuelle.").unwrap();
        candidate.commit_at(T + 10);
        let mut history = read(&mut candidate);
        let mut advisor = Dossier::load(&candidate.save(), &ADVISOR).unwrap();
        advisor
            .set(&presentation, "Une mutuelle régionale.")
            .unwrap();
        advisor.commit_at(T + 100);
        candidate.automerge().merge(advisor.automerge()).unwrap();
        history.update(&mut candidate);
        let here = Place::Repeat("structure", id);
        let edits: Vec<&Edit> = history.edits().iter().filter(|e| e.touches(here)).collect();
        assert_eq!(edits.len(), 2, "the candidate's, then the advisor's");
        assert_eq!(edits[1].fields, [presentation]);
        assert!(
            !history
                .edits()
                .iter()
                .any(|e| e.touches(Place::Section("structure")))
        );
        let advisors = edits[1].after.clone();
        assert_eq!(
            history.undo(&mut candidate, &advisors, here, false),
            Ok(Undo::Done(vec![presentation]))
        );
        assert_eq!(candidate.get_field(&presentation), "Une mutuelle.");
        assert_eq!(candidate.get_field(&nom), "Mutuelle du Rhône");
    }

    #[test]
    fn undoing_an_older_edit_touches_only_its_fields_and_says_what_changed_since() {
        let mut d = Dossier::new(&CANDIDATE);
        set_at(&mut d, "cv.parcours", "Parcours", 0);
        let mut advisor = Dossier::load(&d.save(), &ADVISOR).unwrap();
        set_at(&mut advisor, "cv.formations", "Formations", 10);
        d.automerge().merge(advisor.automerge()).unwrap();
        let mut history = read(&mut d);
        let advisors = history.edits()[1].clone();
        // Later, the candidate rewrites their own field of the same section: not one the
        // advisor's edit changed, so undoing it asks nothing and keeps it.
        set_at(&mut d, "cv.parcours", "Parcours complet", 5_000);
        let cv = Place::Section("cv");
        assert_eq!(
            history.undo(&mut d, &advisors.after, cv, false),
            Ok(Undo::Done(vec![path("cv.formations")]))
        );
        assert_eq!(d.get_field(&path("cv.formations")), "");
        assert_eq!(
            d.get_field(&path("cv.parcours")),
            "Parcours complet",
            "kept"
        );
        // A field changed again since an edit is named before it is put back.
        set_at(&mut d, "cv.formations", "Formations et stages", 6_000);
        history.update(&mut d);
        let redone = history.edits().last().unwrap().clone();
        set_at(&mut d, "cv.formations", "Formations, stages, permis", 7_000);
        assert_eq!(
            history.undo(&mut d, &redone.after, cv, false),
            Ok(Undo::ChangedSince(vec![path("cv.formations")]))
        );
        assert_eq!(
            d.get_field(&path("cv.formations")),
            "Formations, stages, permis"
        );
    }

    /// The reviews' cases: someone else's words typed between an edit's changes, or
    /// concurrently with it and read in another order, are never undone without asking.
    #[test]
    fn an_undo_asks_before_it_would_take_away_anyone_else_s_words() {
        // A types in the letter, B answers in it, A goes on in the CV.
        let mut a = Dossier::new(&CANDIDATE);
        set_at(&mut a, "motivation.lettre", "A1", 0);
        let mut b = Dossier::load(&a.save(), &ADVISOR).unwrap();
        set_at(&mut b, "motivation.lettre", "A1 B1", 10);
        a.automerge().merge(b.automerge()).unwrap();
        set_at(&mut a, "cv.parcours", "A2", 20);
        let mut history = read(&mut a);
        let first = history.edits()[0].clone();
        assert_eq!(
            first.fields,
            [path("motivation.lettre")],
            "A's CV is another edit"
        );
        let letter = Place::Section("motivation");
        assert_eq!(
            history.undo(&mut a, &first.after, letter, false),
            Ok(Undo::ChangedSince(vec![path("motivation.lettre")]))
        );
        assert_eq!(a.get_field(&path("motivation.lettre")), "A1 B1");

        // A and B type at once in the letter; A then merges B's words and goes on. On B's
        // device, which read B's change first, A's two changes may be one edit: its undo
        // there still names B's words.
        let mut a = Dossier::new(&CANDIDATE);
        set_at(&mut a, "cv.parcours", "Début", 0);
        let mut b = Dossier::load(&a.save(), &ADVISOR).unwrap();
        set_at(&mut b, "motivation.lettre", "B1", 5);
        set_at(&mut a, "motivation.lettre", "A1", 6);
        a.automerge().merge(b.automerge()).unwrap();
        let merged = a.get_field(&path("motivation.lettre"));
        set_at(&mut a, "motivation.lettre", &format!("{merged} A2"), 7);
        b.automerge().merge(a.automerge()).unwrap();
        let mut on_b = read(&mut b);
        let edits: Vec<Edit> = on_b
            .edits()
            .iter()
            .filter(|e| e.touches(letter))
            .filter(|e| e.author.0 == CANDIDATE)
            .cloned()
            .collect();
        for edit in edits {
            assert_eq!(
                on_b.undo(&mut b, &edit.after, letter, false),
                Ok(Undo::ChangedSince(vec![path("motivation.lettre")])),
                "{edit:?}"
            );
        }
        assert!(b.get_field(&path("motivation.lettre")).contains("B1"));
    }

    #[test]
    fn restoring_a_fiche_puts_back_its_lists_and_choices_as_stored() {
        let mut d = Dossier::new(&CANDIDATE);
        set_at(&mut d, "fiches.0.competences", "C1, C2", 10);
        set_at(&mut d, "fiches.0.intitule", "Accueil", 20);
        let then = d.automerge().get_heads();
        set_at(&mut d, "fiches.0.competences", "C3", 10_000);
        set_at(&mut d, "fiches.0.intitule", "", 10_010);
        set_at(&mut d, "fiches.0.taches", "Nouveau", 10_020);
        let fields: Vec<FieldPath> = ["competences", "intitule", "taches", "preuves"]
            .iter()
            .map(|f| FieldPath::fiche(0, f).unwrap())
            .collect();
        let changed: Vec<String> = d
            .restore(&fields, &then)
            .unwrap()
            .iter()
            .map(|f| f.to_string())
            .collect();
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
        // A list never made and an emptied one are the same answer: nothing to do.
        set_at(&mut d, "fiches.0.preuves", "", 10_030);
        assert!(d.restore(&fields[3..], &then).unwrap().is_empty());
        assert!(
            d.restore(&[FieldPath::annexe(0, "titre").unwrap()], &then)
                .is_err()
        );
    }

    #[test]
    fn fiches_added_at_once_on_two_devices_keep_their_own_history() {
        let mut a = Dossier::new(&CANDIDATE);
        let mut b = Dossier::load(&a.save(), &ADVISOR).unwrap();
        let at = a.add_fiche().unwrap();
        set_at(&mut a, &format!("fiches.{at}.taches"), "Fiche de A", 0);
        let mut history = read(&mut a);
        let at_b = b.add_fiche().unwrap();
        set_at(&mut b, &format!("fiches.{at_b}.taches"), "Fiche de B", 5);
        a.automerge().merge(b.automerge()).unwrap();
        history.update(&mut a);
        for edit in history.edits() {
            let field = edit.fields[0];
            let expected = if edit.author.0 == CANDIDATE {
                "Fiche de A"
            } else {
                "Fiche de B"
            };
            assert_eq!(
                a.get_field(&field),
                expected,
                "{field} named by {:?}",
                edit.author.0[0]
            );
            assert_eq!(a.field_at(&field, &edit.after), expected);
        }
        assert_eq!(history.edits().len(), 2);
    }

    #[test]
    fn read_in_steps_it_is_the_history_read_at_once() {
        let mut d = Dossier::new(&CANDIDATE);
        let mut stepwise = History::default();
        for (i, word) in ["Un", "Un deux", "Un deux trois", "Un deux trois quatre"]
            .iter()
            .enumerate()
        {
            // 500 s apart: one edit across the reads; then 700 s: another.
            set_at(&mut d, "cv.parcours", word, [0, 500, 1_000, 1_700][i]);
            stepwise.update(&mut d);
        }
        let mut advisor = Dossier::load(&d.save(), &ADVISOR).unwrap();
        set_at(
            &mut advisor,
            "cv.parcours",
            "Un deux trois quatre cinq",
            2_000,
        );
        d.automerge().merge(advisor.automerge()).unwrap();
        stepwise.update(&mut d);
        let at_once = read(&mut d);
        assert_eq!(stepwise.edits(), at_once.edits());
        assert_eq!(
            summary(&at_once)
                .iter()
                .map(|e| (e.0, e.1, e.2))
                .collect::<Vec<_>>(),
            [(1, 0, 1_000), (1, 1_700, 1_700), (2, 2_000, 2_000)]
        );
    }

    #[test]
    fn times_a_member_could_not_have_given_are_unknown_and_never_panic() {
        let mut d = Dossier::new(&CANDIDATE);
        for (i, time) in [i64::MIN, -1, 0, 86_400, i64::MAX, 9_000_000_000]
            .iter()
            .enumerate()
        {
            d.set(&path("cv.parcours"), &"x".repeat(i + 1)).unwrap();
            d.commit_at(*time);
        }
        let history = read(&mut d);
        assert_eq!(history.edits().len(), 1, "all untimed: one edit");
        assert_eq!((history.edits()[0].from_s, history.edits()[0].to_s), (0, 0));
        set_at(&mut d, "cv.parcours", "daté", 0);
        let history = read(&mut d);
        assert_eq!(history.edits().len(), 2);
        assert_eq!(history.edits()[1].from_s, T);
    }

    #[test]
    fn a_migration_is_an_edit_of_its_own_marked_as_such() {
        // Schema 0: the letter a plain string, which loading makes text.
        let mut old =
            automerge::AutoCommit::new().with_actor(automerge::ActorId::from(&ADVISOR[..]));
        automerge::transaction::Transactable::put(&mut old, ROOT, "motivation", "Ma lettre")
            .unwrap();
        let mut d = Dossier::load(&old.save(), &CANDIDATE).unwrap();
        set_at(&mut d, "etat_civil.nom", "Durand", 100);
        let history = read(&mut d);
        let s = |x: &str| x.to_string();
        // The migration made the letter text: shown as such, on the device that ran it,
        // never grouped with what is typed next.
        assert_eq!(
            summary(&history),
            [
                (1, -T, -T, vec![s("motivation.lettre")]),
                (1, 100, 100, vec![s("etat_civil.nom")])
            ]
        );
        assert!(history.edits()[0].migration && !history.edits()[1].migration);
        let last = &history.edits()[1];
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
        let mut history = read(&mut d);
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
