//! Comments between the candidate and advisors, on any field of the dossier: threads that
//! can be answered and marked resolved. Jurors read the dossier but must not read these, so
//! each comment is sealed a second time, with the epoch's *team* key (wrapped to the
//! candidate's devices and advisors only, see [`crate::keys::EpochKeys`]), and the sealed
//! bytes are what goes into the automerge document. Jurors (and the relay) see that notes
//! exist, roughly how long they are, and — from the automerge changes that put them — which
//! device wrote each and when; never their field, name or words.
//!
//! Each note is signed by its author's device key inside the seal: a member of the team
//! cannot pass a comment off as someone else's (one that fails the check is not shown).
//!
//! In the document: the map `commentaires` holds one sealed comment per id, the map `fils`
//! the last "resolved / reopened" word per thread (last writer wins). Every note has its
//! own key, so two people commenting at once never overwrite each other.
//!
//! A note is sealed as [`crate::sealed_notes`] says, with the team key: the slot (the
//! note's key in its map) is bound in, so a note moved to another slot, another map or
//! another dossier does not open.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::dossier::{Dossier, DossierError};
use crate::envelope::DossierId;
use crate::keys::{ContentKey, DeviceSecret, MemberKey};
use crate::sealed_notes::{self, Place};

/// The map of sealed comments, by comment id.
pub const COMMENTS_MAP: &str = "commentaires";
/// The map of sealed thread states, by the id of the thread's first comment.
pub const THREADS_MAP: &str = "fils";
/// Longest comment accepted, in characters.
pub const MAX_COMMENT_CHARS: usize = 4_000;
/// Longest author name kept, in characters.
pub const MAX_AUTHOR_CHARS: usize = 80;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommentError {
    #[error("commentaire vide")]
    Empty,
    #[error("commentaire trop long ({0} caractères ; {MAX_COMMENT_CHARS} au plus)")]
    TooLong(usize),
    #[error("ce fil de commentaires n'existe pas (ou n'est pas lisible sur cet appareil)")]
    NoSuchThread,
    #[error("les commentaires sont réservés au candidat et à ses accompagnateurs")]
    NoTeamKey,
    #[error(transparent)]
    Dossier(#[from] DossierError),
}

/// A comment id: 16 random bytes drawn by the caller.
pub type CommentId = [u8; 16];

/// One comment, as its author wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    pub id: CommentId,
    /// The first comment of the thread this answers; `None` when it opens a thread.
    pub reply_to: Option<CommentId>,
    /// The field commented on (`fiches.0.contexte`).
    pub field: String,
    /// The name the author shows the others.
    pub author: String,
    /// The author's device (its signing key).
    pub author_key: MemberKey,
    /// The author's clock, in milliseconds since 1970 (for ordering and display only).
    pub at_ms: u64,
    pub text: String,
}

/// Whether a thread is resolved, and who said so last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadState {
    pub thread: CommentId,
    pub resolved: bool,
    pub by: String,
    /// The device that said so (its signing key).
    pub by_key: MemberKey,
    pub at_ms: u64,
}

#[derive(Serialize, Deserialize)]
enum Note {
    Comment(Comment),
    State(ThreadState),
}

impl Note {
    /// The device that must have signed it.
    fn author(&self) -> MemberKey {
        match self {
            Note::Comment(c) => c.author_key,
            Note::State(s) => s.by_key,
        }
    }
}

/// A thread: its first comment, the answers in order, whether it is resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thread {
    pub first: Comment,
    pub replies: Vec<Comment>,
    pub state: Option<ThreadState>,
}

impl Thread {
    pub fn resolved(&self) -> bool {
        self.state.as_ref().is_some_and(|s| s.resolved)
    }
}

/// Every thread this device can read, and how many notes it cannot (sealed for an epoch
/// whose team key it lacks, damaged, or moved).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Comments {
    pub threads: Vec<Thread>,
    pub unreadable: usize,
}

impl Comments {
    pub fn on_field<'a>(&'a self, field: &'a str) -> impl Iterator<Item = &'a Thread> + 'a {
        self.threads.iter().filter(move |t| t.first.field == field)
    }
}

/// What the author writes; the id, time and nonce are drawn by the caller.
#[derive(Debug, Clone)]
pub struct Draft {
    pub field: String,
    pub reply_to: Option<CommentId>,
    pub author: String,
    pub text: String,
}

/// Everything `team` keys open in the dossier's comments, as threads.
pub fn read(doc: &mut Dossier, dossier: &DossierId, team: &BTreeMap<u32, ContentKey>) -> Comments {
    // A slot may hold several values (a conflict, or two maps of a concurrent migration):
    // each is its first note that opens (last writer wins); what never opens counts once.
    let (comments, unreadable_comments) = sealed_notes::read_slots(
        doc,
        team,
        (dossier, COMMENTS_MAP),
        Note::author,
        |slot, note| matches!(note, Note::Comment(c) if hex::encode(c.id) == slot),
    );
    let (states, unreadable_states) = sealed_notes::read_slots(
        doc,
        team,
        (dossier, THREADS_MAP),
        Note::author,
        |slot, note| matches!(note, Note::State(s) if hex::encode(s.thread) == slot),
    );
    let mut unreadable = unreadable_comments + unreadable_states;
    let mut states: BTreeMap<CommentId, ThreadState> = states
        .into_values()
        .filter_map(|note| match note {
            Note::State(s) => Some((s.thread, s)),
            Note::Comment(_) => None,
        })
        .collect();
    let mut comments: Vec<Comment> = comments
        .into_values()
        .filter_map(|note| match note {
            Note::Comment(c) => Some(c),
            Note::State(_) => None,
        })
        .collect();
    comments.sort_by_key(|c| (c.at_ms, c.id));
    let (firsts, replies): (Vec<Comment>, Vec<Comment>) =
        comments.into_iter().partition(|c| c.reply_to.is_none());
    let mut threads: Vec<Thread> = firsts
        .into_iter()
        .map(|first| Thread {
            state: states.remove(&first.id),
            first,
            replies: Vec::new(),
        })
        .collect();
    for reply in replies {
        match threads
            .iter_mut()
            .find(|t| Some(t.first.id) == reply.reply_to)
        {
            Some(thread) => thread.replies.push(reply),
            // An answer to a thread this device cannot read (or that does not exist).
            None => unreadable += 1,
        }
    }
    Comments {
        threads,
        unreadable,
    }
}

/// Seals `draft` with the team key of `epoch` and puts it in the document.
#[allow(clippy::too_many_arguments)]
pub fn write(
    doc: &mut Dossier,
    dossier: &DossierId,
    epoch: u32,
    team: &BTreeMap<u32, ContentKey>,
    draft: Draft,
    author: &DeviceSecret,
    id: CommentId,
    at_ms: u64,
    nonce: [u8; 24],
) -> Result<Comment, CommentError> {
    let key = team.get(&epoch).ok_or(CommentError::NoTeamKey)?;
    let text = draft.text.trim().to_string();
    if text.is_empty() {
        return Err(CommentError::Empty);
    }
    let chars = text.chars().count();
    if chars > MAX_COMMENT_CHARS {
        return Err(CommentError::TooLong(chars));
    }
    let mut field = draft.field;
    if let Some(thread) = draft.reply_to {
        let existing = read(doc, dossier, team);
        let first = existing
            .threads
            .iter()
            .find(|t| t.first.id == thread)
            .ok_or(CommentError::NoSuchThread)?;
        // An answer belongs where its thread is, whatever field the caller named.
        field.clone_from(&first.first.field);
    }
    let comment = Comment {
        id,
        reply_to: draft.reply_to,
        field,
        author: draft.author.chars().take(MAX_AUTHOR_CHARS).collect(),
        author_key: author.signing_public(),
        at_ms,
        text,
    };
    let note = Note::Comment(comment.clone());
    put_note(
        doc,
        dossier,
        (epoch, key),
        (COMMENTS_MAP, id),
        &note,
        author,
        nonce,
    )?;
    Ok(comment)
}

/// Seals `note` with the team key of `epoch`, signed by `author`, into `map` under `id`.
fn put_note(
    doc: &mut Dossier,
    dossier: &DossierId,
    key: (u32, &ContentKey),
    (map, id): (&str, CommentId),
    note: &Note,
    author: &DeviceSecret,
    nonce: [u8; 24],
) -> Result<(), CommentError> {
    let slot = hex::encode(id);
    let place = Place {
        dossier,
        map,
        slot: &slot,
    };
    Ok(sealed_notes::put(doc, key, place, note, author, nonce)?)
}

/// Marks a thread resolved (or open again).
#[allow(clippy::too_many_arguments)]
pub fn set_resolved(
    doc: &mut Dossier,
    dossier: &DossierId,
    epoch: u32,
    team: &BTreeMap<u32, ContentKey>,
    thread: CommentId,
    resolved: bool,
    by: &str,
    author: &DeviceSecret,
    at_ms: u64,
    nonce: [u8; 24],
) -> Result<(), CommentError> {
    let key = team.get(&epoch).ok_or(CommentError::NoTeamKey)?;
    if !read(doc, dossier, team)
        .threads
        .iter()
        .any(|t| t.first.id == thread)
    {
        return Err(CommentError::NoSuchThread);
    }
    let state = ThreadState {
        thread,
        resolved,
        by: by.chars().take(MAX_AUTHOR_CHARS).collect(),
        by_key: author.signing_public(),
        at_ms,
    };
    put_note(
        doc,
        dossier,
        (epoch, key),
        (THREADS_MAP, thread),
        &Note::State(state),
        author,
        nonce,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::transaction::Transactable;
    use automerge::{ObjType, ROOT, ScalarValue};

    /// A note of `map` at `slot`, if `keys` open it and its author signed it.
    fn open(
        keys: &BTreeMap<u32, ContentKey>,
        dossier: &DossierId,
        map: &str,
        slot: &str,
        sealed: &[u8],
    ) -> Option<Note> {
        let place = Place { dossier, map, slot };
        sealed_notes::open(keys, place, sealed, Note::author)
    }

    thread_local! {
        static ME: DeviceSecret = DeviceSecret::generate();
    }

    /// One device for every note of a test (its key, read again: secrets are not Clone).
    fn me() -> DeviceSecret {
        ME.with(|d| DeviceSecret::from_secret_string(&d.to_secret_string()).unwrap())
    }

    const DOSSIER: DossierId = DossierId([3; 16]);

    fn draft(field: &str, reply_to: Option<CommentId>, text: &str) -> Draft {
        Draft {
            field: field.into(),
            reply_to,
            author: "Camille".into(),
            text: text.into(),
        }
    }

    fn team() -> BTreeMap<u32, ContentKey> {
        BTreeMap::from([(1, ContentKey::generate())])
    }

    #[test]
    fn threads_are_answered_and_resolved() {
        let keys = team();
        let mut d = Dossier::new(b"a");
        let first = write(
            &mut d,
            &DOSSIER,
            1,
            &keys,
            draft("fiches.0.contexte", None, "Préciser l'effectif ?"),
            &me(),
            [1; 16],
            10,
            [0; 24],
        )
        .unwrap();
        write(
            &mut d,
            &DOSSIER,
            1,
            &keys,
            draft("ignored", Some(first.id), "  40 salariés, ajouté.  "),
            &me(),
            [2; 16],
            20,
            [1; 24],
        )
        .unwrap();
        set_resolved(
            &mut d,
            &DOSSIER,
            1,
            &keys,
            first.id,
            true,
            "Camille",
            &me(),
            30,
            [2; 24],
        )
        .unwrap();
        let read = read(&mut d, &DOSSIER, &keys);
        assert_eq!(read.unreadable, 0);
        assert_eq!(read.threads.len(), 1);
        let t = &read.threads[0];
        assert!(t.resolved());
        assert_eq!(t.first.text, "Préciser l'effectif ?");
        assert_eq!(t.replies.len(), 1);
        assert_eq!(t.replies[0].text, "40 salariés, ajouté.");
        assert_eq!(t.replies[0].field, "fiches.0.contexte");
        assert_eq!(read.on_field("fiches.0.contexte").count(), 1);
        assert_eq!(read.on_field("motivation.lettre").count(), 0);
    }

    #[test]
    fn without_the_team_key_nothing_is_readable_and_nothing_shows() {
        let keys = team();
        let mut d = Dossier::new(b"a");
        write(
            &mut d,
            &DOSSIER,
            1,
            &keys,
            draft("motivation.lettre", None, "CANARY-comment-secret"),
            &me(),
            [7; 16],
            10,
            [0; 24],
        )
        .unwrap();
        // A juror's replica: the content key opens the document, no team key.
        let none = read(&mut d, &DOSSIER, &BTreeMap::new());
        assert_eq!(
            none,
            Comments {
                threads: vec![],
                unreadable: 1
            }
        );
        let other = read(&mut d, &DOSSIER, &team());
        assert_eq!(other.unreadable, 1);
        // The words are nowhere in the document's bytes.
        let bytes = d.save();
        let json = d.to_json_value().to_string();
        assert!(!bytes.windows(6).any(|w| w == b"CANARY"));
        assert!(!json.contains("CANARY"));
        // Writing needs the key.
        assert_eq!(
            write(
                &mut d,
                &DOSSIER,
                1,
                &BTreeMap::new(),
                draft("motivation.lettre", None, "x"),
                &me(),
                [8; 16],
                11,
                [1; 24],
            )
            .unwrap_err(),
            CommentError::NoTeamKey
        );
    }

    #[test]
    fn moved_or_tampered_notes_do_not_open() {
        let keys = team();
        let mut d = Dossier::new(b"a");
        write(
            &mut d,
            &DOSSIER,
            1,
            &keys,
            draft("cv.parcours", None, "Bien"),
            &me(),
            [1; 16],
            10,
            [0; 24],
        )
        .unwrap();
        let (slot, sealed) = sealed_notes::entries(&mut d, COMMENTS_MAP).remove(0);
        // Under another id, in another dossier, or one byte changed: refused.
        let map = sealed_notes::map_of(&mut d, COMMENTS_MAP).unwrap();
        d.automerge()
            .put(
                &map,
                hex::encode([9u8; 16]),
                ScalarValue::Bytes(sealed.clone()),
            )
            .unwrap();
        let mut flipped = sealed.clone();
        *flipped.last_mut().unwrap() ^= 1;
        d.automerge()
            .put(&map, slot.clone(), ScalarValue::Bytes(flipped))
            .unwrap();
        assert!(open(&keys, &DossierId([4; 16]), COMMENTS_MAP, &slot, &sealed).is_none());
        assert!(open(&keys, &DOSSIER, THREADS_MAP, &slot, &sealed).is_none());
        let read = read(&mut d, &DOSSIER, &keys);
        assert_eq!((read.threads.len(), read.unreadable), (0, 2));
    }

    /// A member of the team writing a comment in someone else's name (their key in the note,
    /// signed with its own): not shown.
    #[test]
    fn a_comment_passed_off_as_someone_elses_is_not_shown() {
        let keys = team();
        let mut d = Dossier::new(b"a");
        let other = DeviceSecret::generate();
        let forged = Comment {
            id: [4; 16],
            reply_to: None,
            field: "cv.parcours".into(),
            author: "Le candidat".into(),
            author_key: other.signing_public(),
            at_ms: 1,
            text: "Je retire ma candidature".into(),
        };
        let slot = hex::encode(forged.id);
        let place = Place {
            dossier: &DOSSIER,
            map: COMMENTS_MAP,
            slot: &slot,
        };
        let sealed = sealed_notes::seal(
            (1, &keys[&1]),
            place,
            &Note::Comment(forged),
            &me(),
            [0; 24],
        );
        let map = sealed_notes::map_of(&mut d, COMMENTS_MAP).unwrap();
        d.automerge()
            .put(&map, slot, ScalarValue::Bytes(sealed))
            .unwrap();
        let read = read(&mut d, &DOSSIER, &keys);
        assert_eq!((read.threads.len(), read.unreadable), (0, 1));
    }

    /// Two devices migrated an older dossier at once, each making its own comments map; a
    /// comment written in each: after the merge, automerge shows one map, both are read.
    #[test]
    fn comments_in_both_maps_of_a_concurrent_migration_survive() {
        let keys = team();
        let mut a = Dossier::new(b"a");
        let mut b = Dossier::load(&a.save(), b"b").unwrap();
        for (d, id) in [(&mut a, [1u8; 16]), (&mut b, [2u8; 16])] {
            d.automerge()
                .put_object(ROOT, COMMENTS_MAP, ObjType::Map)
                .unwrap();
            write(
                d,
                &DOSSIER,
                1,
                &keys,
                draft("cv.parcours", None, "de chaque côté"),
                &me(),
                id,
                10,
                [id[0]; 24],
            )
            .unwrap();
        }
        let from_b = b.automerge().save_after(&a.automerge().get_heads());
        a.automerge().load_incremental(&from_b).unwrap();
        let read = read(&mut a, &DOSSIER, &keys);
        assert_eq!((read.threads.len(), read.unreadable), (2, 0));
    }

    #[test]
    fn empty_long_and_orphan_comments_are_refused() {
        let keys = team();
        let mut d = Dossier::new(b"a");
        let mut w = |text: &str, reply_to| {
            write(
                &mut d,
                &DOSSIER,
                1,
                &keys,
                draft("cv.parcours", reply_to, text),
                &me(),
                [1; 16],
                10,
                [0; 24],
            )
        };
        assert_eq!(w("   ", None).unwrap_err(), CommentError::Empty);
        let long = "é".repeat(MAX_COMMENT_CHARS + 1);
        assert_eq!(
            w(&long, None).unwrap_err(),
            CommentError::TooLong(MAX_COMMENT_CHARS + 1)
        );
        assert_eq!(
            w("a", Some([5; 16])).unwrap_err(),
            CommentError::NoSuchThread
        );
    }
}
