//! What the relay holds of a dossier, as it tells the candidate (« Mes données », the right
//! of access of GDPR art. 15): the metadata the threat model admits — who is in the
//! membership log, how much sealed data there is and since when, the addresses it mails, when
//! the dossier ends — and never anything sealed, which the relay cannot read.
//!
//! The relay fills a [`Holdings`] from its store; every device words it the same way
//! ([`Holdings::rows`]), in French and English, for the app's page and the CLI.

use serde::{Deserialize, Serialize};

use crate::date::Date;
use crate::envelope::DossierId;
use crate::keys::MemberKey;
use crate::membership::{Op, Role, SignedEntry};

/// How many rows of one kind, and their bytes as stored (sealed).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    pub count: u64,
    pub bytes: u64,
}

/// A device the membership log names: its identity line (`livret1:…`), its role, and
/// whether a later entry removed it (the log keeps it: it is the dossier's history).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldMember {
    pub identity: String,
    pub role: Role,
    pub removed: bool,
}

/// An invitation the relay keeps (in its table, the token's hash; the link itself only in
/// the invitation's mail, until it is sent): the role offered, when it lapses, and whether
/// a device answered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldInvitation {
    pub role: Role,
    pub expires_ms: i64,
    pub answered: bool,
}

/// A mail waiting in the relay's queue: to whom, about what, when it goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldMail {
    pub recipient: String,
    pub subject: String,
    pub due_ms: i64,
}

/// Everything the relay holds of one dossier, besides the sealed bytes themselves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holdings {
    pub dossier: DossierId,
    /// Every device the membership log names, in the order it came.
    pub members: Vec<HeldMember>,
    /// The membership log's signed entries (each carries the epoch's key wrapped to members).
    pub membership_entries: u64,
    /// Sealed edits, reviews and releases.
    pub envelopes: Tally,
    /// Sealed snapshots of the whole dossier.
    pub snapshots: Tally,
    /// Sealed evidence files (their pieces).
    pub evidence: Tally,
    /// Jurors' review keys and their grants, each sealed to one juror.
    pub review_keys: u64,
    pub invitations: Vec<HeldInvitation>,
    pub mails: Vec<HeldMail>,
    /// The address the candidate gave for reminders (and the warnings before the end).
    pub contact: Option<String>,
    /// The jury's date as the candidate gave it (midnight UTC, milliseconds since 1970).
    pub jury_ms: Option<i64>,
    /// The last activity the relay noted (at most hourly).
    pub active_ms: i64,
    /// When the relay deletes the dossier unless something happens in it before.
    pub ends_ms: i64,
    /// This relay's retention, in days after the last activity or the jury.
    pub retention_days: u32,
}

/// One line of [`Holdings::rows`]: what, and how much or which, in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldRow {
    pub label: (String, String),
    pub value: (String, String),
}

/// Every device a membership log names, in order, those a later entry removed marked so.
/// Entries are taken as they are (the relay checked them when they came).
pub fn members_of_log(entries: &[SignedEntry]) -> Vec<HeldMember> {
    let mut members: Vec<(MemberKey, HeldMember)> = Vec::new();
    for entry in entries {
        match &entry.body.op {
            Op::Create { owner: member } | Op::Add { member } | Op::AddDevice { member, .. } => {
                // Added again after a removal: one line, no longer removed.
                members.retain(|(key, _)| *key != member.signing);
                members.push((
                    member.signing,
                    HeldMember {
                        identity: member.id().to_line(),
                        role: member.role,
                        removed: false,
                    },
                ));
            }
            Op::Remove { signing } => {
                for (key, member) in &mut members {
                    member.removed |= key == signing;
                }
            }
        }
    }
    members.into_iter().map(|(_, member)| member).collect()
}

/// A role in words.
pub fn role_words(role: Role) -> (&'static str, &'static str) {
    match role {
        Role::Owner => ("candidat", "candidate"),
        Role::Advisor => ("accompagnateur", "advisor"),
        Role::Juror => ("juré", "juror"),
    }
}

/// A size as platforms count it (1 ko = 1,000 bytes).
pub fn size_words(bytes: u64) -> (String, String) {
    let (value, fr, en) = match bytes {
        0..1_000 => return (format!("{bytes} octets"), format!("{bytes} bytes")),
        1_000..1_000_000 => (bytes as f64 / 1e3, "ko", "kB"),
        1_000_000..1_000_000_000 => (bytes as f64 / 1e6, "Mo", "MB"),
        _ => (bytes as f64 / 1e9, "Go", "GB"),
    };
    (
        format!("{value:.1} {fr}").replace('.', ","),
        format!("{value:.1} {en}"),
    )
}

fn day_words(ms: i64) -> (String, String) {
    let day = Date::of_ms(ms);
    (day.in_french(), day.iso())
}

fn row(label_fr: &str, label_en: &str, value: (String, String)) -> HeldRow {
    HeldRow {
        label: (label_fr.to_string(), label_en.to_string()),
        value,
    }
}

fn tally_words(tally: Tally) -> (String, String) {
    let (fr, en) = size_words(tally.bytes);
    (
        format!("{} ({fr}, chiffré)", tally.count),
        format!("{} ({en}, encrypted)", tally.count),
    )
}

impl Holdings {
    /// The holdings as rows, in the order a reader wants them: the dossier's end first, then
    /// the addresses, the sizes, the people.
    pub fn rows(&self) -> Vec<HeldRow> {
        let mut rows = Vec::new();
        let (end_fr, end_en) = day_words(self.ends_ms);
        rows.push(row(
            "Suppression prévue par le serveur",
            "Deletion planned by the server",
            (
                format!(
                    "{end_fr}, sauf activité d'ici là ({} jours après la dernière activité ou le jury)",
                    self.retention_days
                ),
                format!(
                    "{end_en}, unless something happens before ({} days after the last activity or the jury)",
                    self.retention_days
                ),
            ),
        ));
        rows.push(row(
            "Dernière activité notée",
            "Last activity noted",
            day_words(self.active_ms),
        ));
        rows.push(row(
            "Date du jury",
            "Jury date",
            match self.jury_ms {
                Some(ms) => day_words(ms),
                None => ("non donnée".into(), "not given".into()),
            },
        ));
        rows.push(row(
            "Adresse pour les rappels",
            "Address for reminders",
            match &self.contact {
                Some(address) => (address.clone(), address.clone()),
                None => ("aucune".into(), "none".into()),
            },
        ));
        for mail in &self.mails {
            let (fr, en) = day_words(mail.due_ms);
            rows.push(row(
                "Courriel en attente",
                "Mail waiting",
                (
                    format!("à {}, « {} », le {fr}", mail.recipient, mail.subject),
                    format!("to {}, “{}”, on {en}", mail.recipient, mail.subject),
                ),
            ));
        }
        for invitation in &self.invitations {
            let (role_fr, role_en) = role_words(invitation.role);
            let (fr, en) = day_words(invitation.expires_ms);
            let (state_fr, state_en) = if invitation.answered {
                ("répondue", "answered")
            } else {
                ("sans réponse", "unanswered")
            };
            rows.push(row(
                "Invitation",
                "Invitation",
                (
                    format!("{role_fr}, {state_fr}, expire le {fr}"),
                    format!("{role_en}, {state_en}, expires on {en}"),
                ),
            ));
        }
        rows.push(row("Modifications", "Edits", tally_words(self.envelopes)));
        rows.push(row(
            "Instantanés du dossier",
            "Snapshots of the dossier",
            tally_words(self.snapshots),
        ));
        rows.push(row(
            "Fichiers de preuves",
            "Evidence files",
            tally_words(self.evidence),
        ));
        rows.push(row(
            "Entrées d'appartenance signées",
            "Signed membership entries",
            (
                self.membership_entries.to_string(),
                self.membership_entries.to_string(),
            ),
        ));
        rows.push(row(
            "Clés d'évaluation du jury (chiffrées)",
            "Jury review keys (encrypted)",
            (self.review_keys.to_string(), self.review_keys.to_string()),
        ));
        for member in &self.members {
            let (role_fr, role_en) = role_words(member.role);
            let (label_fr, label_en) = if member.removed {
                ("Appareil retiré", "Removed device")
            } else {
                ("Appareil membre", "Member device")
            };
            rows.push(row(
                label_fr,
                label_en,
                (
                    format!("{role_fr} — {}", member.identity),
                    format!("{role_en} — {}", member.identity),
                ),
            ));
        }
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{DeviceSecret, EpochKeys};
    use crate::membership;

    #[test]
    fn the_log_names_every_device_once_and_marks_the_removed() {
        let owner = DeviceSecret::generate();
        let advisor = DeviceSecret::generate();
        let juror = DeviceSecret::generate();
        let keys = EpochKeys::generate();
        let dossier = DossierId([3; 16]);
        let mut log = vec![membership::create(dossier, &owner, &keys).unwrap()];
        let state = |log: &[SignedEntry]| membership::Membership::from_log(log).unwrap();
        log.push(
            membership::add(&state(&log), &owner, &advisor.id(), Role::Advisor, &keys).unwrap(),
        );
        log.push(membership::add(&state(&log), &owner, &juror.id(), Role::Juror, &keys).unwrap());
        log.push(
            membership::remove(
                &state(&log),
                &owner,
                &advisor.signing_public(),
                &EpochKeys::generate(),
            )
            .unwrap(),
        );
        let members = members_of_log(&log);
        let seen: Vec<(String, Role, bool)> = members
            .into_iter()
            .map(|m| (m.identity, m.role, m.removed))
            .collect();
        assert_eq!(
            seen,
            [
                (owner.id().to_line(), Role::Owner, false),
                (advisor.id().to_line(), Role::Advisor, true),
                (juror.id().to_line(), Role::Juror, false),
            ]
        );
    }

    #[test]
    fn sizes_read_as_platforms_count_them() {
        assert_eq!(size_words(999), ("999 octets".into(), "999 bytes".into()));
        assert_eq!(size_words(1_500), ("1,5 ko".into(), "1.5 kB".into()));
        assert_eq!(size_words(9_760_000), ("9,8 Mo".into(), "9.8 MB".into()));
    }
}
