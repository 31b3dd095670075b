//! The open dossier's history: who changed a section or fiche, and when; a field then and
//! now; a section or fiche put back as it was (`shared::history`).

use super::*;
use livret_shared::field_path::{FieldPath, Place};
use livret_shared::history::{Author, ChangeHash, Edit};

/// One edit of a section or fiche, with who made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditRow {
    pub edit: Edit,
    pub author: Author,
}

/// The edits of a section or fiche, the latest first.
pub fn edits_of(place: Place) -> Vec<EditRow> {
    with_open(|r| {
        let edits: Vec<Edit> = r.history().of_place(place).cloned().collect();
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

/// A field as it was once an edit's `heads` were applied.
pub fn field_at(path: &FieldPath, heads: &[ChangeHash]) -> String {
    with_open(|r| r.dossier().field_at(path, heads)).unwrap_or_default()
}

/// Puts a section or fiche back as it was at `heads`, as an edit of this device (saved and
/// sent by the caller, like any edit). Returns the fields that changed.
pub fn restore(place: Place, heads: &[ChangeHash]) -> Result<Vec<FieldPath>, Error> {
    with_open(|r| {
        if !r.may_write_dossier() {
            return Err(Error::from(livret_shared::sync::SyncError::ReadOnly));
        }
        r.dossier().restore(place, heads).map_err(Error::from)
    })?
}
