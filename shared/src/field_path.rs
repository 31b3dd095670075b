//! A field of the dossier, named once: a section's field (`motivation.projet`), a field of
//! the fiche or annexe at a place (`fiches.2.taches`, `annexes.0.titre`), or of a further
//! structure or poste by its id (`structure.5f0c9a1b2d3e4f60.nom`). Checked against
//! the dossier's schema when it is made, so a keystroke's path is neither formatted nor split
//! again; its dotted form (`Display`, `FromStr`) is what comments, annotations, presence and
//! the CLI name a field by, unchanged from the strings used before.

use std::fmt;
use std::str::FromStr;

use crate::dossier::{ANNEXE_FIELDS, FICHE_FIELDS, FieldKind, REPEATED, SECTIONS};

/// Where a field lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Place {
    /// A section of the dossier (`etat_civil`, `motivation`, …).
    Section(&'static str),
    /// The fiche stored at this place of the `fiches` list.
    Fiche(usize),
    /// The annexe stored at this place of the `annexes` list.
    Annexe(usize),
    /// A further structure or poste ([`crate::dossier::REPEATED`]): its section and id.
    Repeat(&'static str, u64),
}

/// How a further structure's or poste's id is written: 16 lowercase hex digits, the key of
/// its map in the section's and the middle of its fields' paths.
pub fn repeat_key(id: u64) -> String {
    format!("{id:016x}")
}

/// The id a key or a path's middle part writes, if it is one ([`repeat_key`]'s form only:
/// another spelling would name the same structure twice).
pub fn repeat_id(key: &str) -> Option<u64> {
    if key.len() != 16 || !key.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    u64::from_str_radix(key, 16).ok()
}

/// A field the dossier has, with its kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FieldPath {
    place: Place,
    field: &'static str,
    kind: FieldKind,
}

/// A path that names no field of the dossier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("champ inconnu : {0}")]
pub struct UnknownField(pub String);

impl FieldPath {
    /// Field `field` of section `section`, if the dossier has it.
    pub fn section(section: &str, field: &str) -> Option<FieldPath> {
        let (section, fields) = SECTIONS.iter().find(|(s, _)| *s == section)?;
        let (field, kind) = fields.iter().find(|(f, _)| *f == field)?;
        Some(FieldPath {
            place: Place::Section(section),
            field,
            kind: *kind,
        })
    }

    /// Field `field` of the further structure or poste `id` of `section`, if that section
    /// repeats and has the field.
    pub fn repeat(section: &str, id: u64, field: &str) -> Option<FieldPath> {
        if !REPEATED.contains(&section) {
            return None;
        }
        let path = FieldPath::section(section, field)?;
        let Place::Section(section) = path.place else {
            return None;
        };
        Some(FieldPath {
            place: Place::Repeat(section, id),
            ..path
        })
    }

    /// Field `field` at `place`, if fields there have it.
    pub fn at(place: Place, field: &str) -> Option<FieldPath> {
        match place {
            Place::Section(section) => FieldPath::section(section, field),
            Place::Fiche(at) => FieldPath::fiche(at, field),
            Place::Annexe(at) => FieldPath::annexe(at, field),
            Place::Repeat(section, id) => FieldPath::repeat(section, id, field),
        }
    }

    /// Field `field` of the fiche at `place`, if fiches have it.
    pub fn fiche(place: usize, field: &str) -> Option<FieldPath> {
        let (field, kind) = FICHE_FIELDS.iter().find(|(f, _)| *f == field)?;
        Some(FieldPath {
            place: Place::Fiche(place),
            field,
            kind: *kind,
        })
    }

    /// Field `field` of the annexe at `place`, if annexes have it.
    pub fn annexe(place: usize, field: &str) -> Option<FieldPath> {
        let (field, kind) = ANNEXE_FIELDS.iter().find(|(f, _)| *f == field)?;
        Some(FieldPath {
            place: Place::Annexe(place),
            field,
            kind: *kind,
        })
    }

    pub fn place(&self) -> Place {
        self.place
    }

    /// The field's own name (`taches` in `fiches.2.taches`).
    pub fn field(&self) -> &'static str {
        self.field
    }

    pub fn kind(&self) -> FieldKind {
        self.kind
    }
}

impl FromStr for FieldPath {
    type Err = UnknownField;

    fn from_str(path: &str) -> Result<FieldPath, UnknownField> {
        let unknown = || UnknownField(path.to_string());
        let mut parts = path.split('.');
        let path = match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(section), Some(field), None, None) => FieldPath::section(section, field),
            (Some(section), Some(id), Some(field), None) if REPEATED.contains(&section) => {
                FieldPath::repeat(section, repeat_id(id).ok_or_else(unknown)?, field)
            }
            (Some(list @ ("fiches" | "annexes")), Some(place), Some(field), None) => {
                // Digits only: `+1` or ` 1` would name the same fiche under another spelling.
                if place.is_empty() || !place.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(unknown());
                }
                let place = place.parse().map_err(|_| unknown())?;
                if list == "fiches" {
                    FieldPath::fiche(place, field)
                } else {
                    FieldPath::annexe(place, field)
                }
            }
            _ => None,
        };
        path.ok_or_else(unknown)
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.place {
            Place::Section(section) => write!(f, "{section}.{}", self.field),
            Place::Fiche(place) => write!(f, "fiches.{place}.{}", self.field),
            Place::Annexe(place) => write!(f, "annexes.{place}.{}", self.field),
            Place::Repeat(section, id) => {
                write!(f, "{section}.{}.{}", repeat_key(id), self.field)
            }
        }
    }
}

/// What the dossier's field accessors take: a [`FieldPath`] already made, or its dotted form
/// (read once, at the edge: the CLI, tests, stored names).
pub trait ToFieldPath {
    fn to_field_path(&self) -> Result<FieldPath, UnknownField>;
}

impl ToFieldPath for FieldPath {
    fn to_field_path(&self) -> Result<FieldPath, UnknownField> {
        Ok(*self)
    }
}

impl ToFieldPath for str {
    fn to_field_path(&self) -> Result<FieldPath, UnknownField> {
        self.parse()
    }
}

impl ToFieldPath for String {
    fn to_field_path(&self) -> Result<FieldPath, UnknownField> {
        self.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_of_the_schema_reads_back_from_its_dotted_form() {
        let mut paths = Vec::new();
        for (section, fields) in SECTIONS {
            for (field, _) in *fields {
                paths.push(FieldPath::section(section, field).unwrap());
            }
        }
        for (field, _) in FICHE_FIELDS {
            paths.push(FieldPath::fiche(12, field).unwrap());
        }
        for (field, _) in ANNEXE_FIELDS {
            paths.push(FieldPath::annexe(0, field).unwrap());
        }
        for section in REPEATED {
            let (_, fields) = SECTIONS.iter().find(|(s, _)| s == section).unwrap();
            for (field, _) in *fields {
                paths.push(FieldPath::repeat(section, 0x00c0_ffee_0000_0001, field).unwrap());
                paths.push(FieldPath::repeat(section, u64::MAX, field).unwrap());
            }
        }
        assert!(paths.len() > 20);
        for path in paths {
            let text = path.to_string();
            assert_eq!(text.parse::<FieldPath>(), Ok(path), "{text}");
        }
    }

    #[test]
    fn the_kind_comes_with_the_path() {
        let path: FieldPath = "fiches.3.competences".parse().unwrap();
        assert_eq!(path.kind(), FieldKind::List);
        assert_eq!(path.place(), Place::Fiche(3));
        assert_eq!(path.field(), "competences");
    }

    #[test]
    fn paths_the_dossier_does_not_have_are_refused() {
        for bad in [
            "",
            "motivation",
            "motivation.",
            "motivation.inconnu",
            "inconnu.projet",
            "fiches.x.taches",
            "fiches.+1.taches",
            "fiches. 1.taches",
            "fiches.1",
            "fiches.1.inconnu",
            "fiches.1.taches.encore",
            "annexes.99999999999999999999999.titre",
            // A further structure is named by its id's one spelling, in a section that
            // repeats.
            "structure.00c0ffee00000001",
            "structure.00c0ffee0000001.nom",
            "structure.00C0FFEE00000001.nom",
            "structure.+0c0ffee00000001.nom",
            "structure.00c0ffee00000001.inconnu",
            "motivation.00c0ffee00000001.lettre",
            "fiches.00c0ffee00000001.taches",
        ] {
            assert_eq!(
                bad.parse::<FieldPath>(),
                Err(UnknownField(bad.to_string())),
                "{bad:?}"
            );
        }
    }
}
