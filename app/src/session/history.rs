//! The open dossier's history: who changed which fields and when; a field then and now;
//! fields put back as they were before an edit (`shared::history`).

use super::*;
use livret_shared::field_path::{FieldPath, Place};
use livret_shared::history::{Author, ChangeHash, Edit, Undo};
use livret_shared::keys::MemberKey;

/// One edit, with who made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditRow {
    pub edit: Edit,
    pub author: Author,
}

/// The open dossier's edits, the latest first (read since the last call only).
pub fn edits() -> Vec<EditRow> {
    with_open(|r| {
        let edits: Vec<Edit> = r.history().edits().iter().rev().cloned().collect();
        // Each author named once: a dossier's edits have a handful of authors.
        let mut authors: std::collections::HashMap<MemberKey, Author> = Default::default();
        edits
            .into_iter()
            .map(|edit| EditRow {
                author: authors
                    .entry(edit.author)
                    .or_insert_with(|| r.author(&edit.author))
                    .clone(),
                edit,
            })
            .collect()
    })
    .unwrap_or_default()
}

/// A field as it was once `heads` were applied.
pub fn field_at(path: &FieldPath, heads: &[ChangeHash]) -> String {
    with_open(|r| r.dossier().field_at(path, heads)).unwrap_or_default()
}

/// Undoes the edit ending at `after` in a section or fiche, looked up again in the history
/// as it is now (`shared::history::History::undo`); saved and sent by the caller when done.
pub fn undo(place: Place, after: &[ChangeHash], anyway: bool) -> Result<Undo, Error> {
    with_open(|r| r.undo(after, place, anyway).map_err(Error::from))?
}
