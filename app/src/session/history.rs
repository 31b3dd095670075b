//! The open dossier's history: who changed which fields and when; a field then and now;
//! fields put back as they were before an edit (`shared::history`).

use super::*;
use livret_shared::field_path::FieldPath;
use livret_shared::history::{Author, ChangeHash, Edit};

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
        edits
            .into_iter()
            .map(|edit| EditRow {
                author: r.author(&edit.author),
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

/// Of `fields`, those changed since `heads`: what undoing an edit would take away too.
pub fn changed_since(fields: &[FieldPath], heads: &[ChangeHash]) -> Vec<FieldPath> {
    with_open(|r| r.dossier().changed_since(fields, heads)).unwrap_or_default()
}

/// Puts `fields` back as they were at `heads`, as an edit of this device (saved and sent by
/// the caller, like any edit). Returns the fields that changed.
pub fn restore(fields: &[FieldPath], heads: &[ChangeHash]) -> Result<Vec<FieldPath>, Error> {
    with_open(|r| {
        if !r.may_write_dossier() {
            return Err(Error::from(livret_shared::sync::SyncError::ReadOnly));
        }
        r.dossier().restore(fields, heads).map_err(Error::from)
    })?
}
