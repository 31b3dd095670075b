//! Presence: who is in which field of a dossier right now, and where their caret is.
//!
//! Presence travels as an envelope of kind [`Kind::Presence`](crate::envelope::Kind), sealed
//! with the dossier's current key and signed by the sender like any other, so the relay can
//! check that a member sent it and forward it to the members connected at that moment. The
//! relay never stores it. Its counter is the sender's clock in milliseconds, given by the
//! caller: a receiver keeps the newest per sender (a relay replaying an old one changes
//! nothing) and forgets a sender it has not heard from for [`PRESENCE_TTL_MS`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::keys::MemberKey;
use crate::membership::Role;

/// A sealed presence message above this size is refused (it carries a path, a caret and a
/// name: a few hundred bytes).
pub const MAX_PRESENCE: usize = 2048;
/// A sender not heard from for this long is gone (devices repeat their presence well
/// within it while a dossier is open).
pub const PRESENCE_TTL_MS: u64 = 30_000;
/// A message dated this long before the receiver's clock is not taken (replayed, or from a
/// device whose clock is far off).
pub const MAX_AGE_MS: u64 = 5 * 60_000;
/// What a device sends at most of its name and field path, in characters.
const MAX_NAME: usize = 80;
const MAX_FIELD: usize = 200;

/// Where one member is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presence {
    /// The field's path (`fiches.2.contexte`), empty when in the dossier but in no field.
    pub field: String,
    /// The caret in that field, in characters from its start.
    pub caret: Option<u32>,
    /// The name the person gave, possibly empty.
    pub name: String,
    /// Sent when closing the dossier: forget this sender at once.
    pub leaving: bool,
}

impl Presence {
    /// The same presence cut to the sizes a message may carry.
    pub fn bounded(&self) -> Presence {
        Presence {
            field: self.field.chars().take(MAX_FIELD).collect(),
            caret: self.caret,
            name: self.name.chars().take(MAX_NAME).collect(),
            leaving: self.leaving,
        }
    }
}

/// A presence message opened and checked: who sent it (their key and their role in the
/// dossier) and when (their clock).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub writer: MemberKey,
    pub role: Role,
    pub at_ms: u64,
    pub presence: Presence,
}

/// The last presence of each other member, as one device knows it.
#[derive(Debug, Default)]
pub struct Roster {
    last: BTreeMap<MemberKey, (Seen, u64)>,
}

impl Roster {
    /// Takes a message received at `now_ms` (this device's clock); returns whether it changed
    /// anything (an older or repeated message from the same sender does not).
    pub fn update(&mut self, seen: Seen, now_ms: u64) -> bool {
        // Old news (a relay replaying a captured message after a reload emptied the roster):
        // dropped, with room for clocks that disagree by a few minutes.
        if seen.at_ms.saturating_add(MAX_AGE_MS) < now_ms {
            return false;
        }
        if let Some((known, _)) = self.last.get(&seen.writer)
            && known.at_ms >= seen.at_ms
        {
            return false;
        }
        self.last.insert(seen.writer, (seen, now_ms));
        true
    }

    /// Forgets a sender (removed from the dossier).
    pub fn forget(&mut self, writer: &MemberKey) {
        self.last.remove(writer);
    }

    /// Who is here at `now_ms`: heard from within the time-to-live and not leaving, in a
    /// stable order.
    pub fn current(&self, now_ms: u64) -> Vec<&Seen> {
        self.last
            .values()
            .filter(|(s, heard)| {
                !s.presence.leaving && now_ms.saturating_sub(*heard) < PRESENCE_TTL_MS
            })
            .map(|(s, _)| s)
            .collect()
    }
}

/// Where another member's caret is, as the text around it with a bar at the caret (a few
/// words each side): "…le besoin│ du client…". `caret` counts UTF-16 units, as the browser does.
pub fn caret_in_context(text: &str, caret: usize) -> String {
    const SIDE: usize = 16;
    let chars: Vec<char> = text.chars().collect();
    // The browser counts the caret in UTF-16 units; an emoji is two of them.
    let mut units = 0;
    let at = chars
        .iter()
        .position(|c| {
            let reached = units >= caret;
            units += c.len_utf16();
            reached
        })
        .unwrap_or(chars.len());
    let from = at.saturating_sub(SIDE);
    let to = (at + SIDE).min(chars.len());
    let before: String = chars[from..at].iter().collect();
    let after: String = chars[at..to].iter().collect();
    format!(
        "{}{before}│{after}{}",
        if from > 0 { "…" } else { "" },
        if to < chars.len() { "…" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(writer: u8, at_ms: u64, field: &str) -> Seen {
        Seen {
            writer: MemberKey([writer; 32]),
            role: Role::Advisor,
            at_ms,
            presence: Presence {
                field: field.into(),
                caret: Some(3),
                name: "Camille".into(),
                leaving: false,
            },
        }
    }

    #[test]
    fn the_roster_keeps_the_newest_per_sender_and_forgets_the_silent_and_the_leaving() {
        let mut roster = Roster::default();
        assert!(roster.update(seen(1, 100, "fiches.0.contexte"), 1_000));
        assert!(
            !roster.update(seen(1, 100, "fiches.0.taches"), 1_001),
            "a replay"
        );
        assert!(
            !roster.update(seen(1, 50, "fiches.0.taches"), 1_002),
            "older"
        );
        assert_eq!(roster.current(1_000)[0].presence.field, "fiches.0.contexte");
        assert!(roster.update(seen(2, 7, "motivation.lettre"), 2_000));
        assert_eq!(roster.current(2_000).len(), 2);
        // Sender 1 was last heard at 1_000.
        assert_eq!(roster.current(1_000 + PRESENCE_TTL_MS).len(), 1);
        let mut bye = seen(2, 8, "");
        bye.presence.leaving = true;
        assert!(roster.update(bye, 2_100));
        assert!(
            roster
                .current(2_100)
                .iter()
                .all(|s| s.writer != MemberKey([2; 32]))
        );
        roster.forget(&MemberKey([1; 32]));
        assert!(roster.current(1_000).is_empty());
        // A message from long ago (replayed into a fresh roster) is not taken.
        let mut fresh = Roster::default();
        let now = 10 * MAX_AGE_MS;
        assert!(!fresh.update(seen(3, now - MAX_AGE_MS - 1, "x"), now));
        assert!(fresh.update(seen(3, now - MAX_AGE_MS + 1, "x"), now));
    }

    #[test]
    fn long_names_and_paths_are_cut() {
        let p = Presence {
            field: "x".repeat(1000),
            caret: None,
            name: "é".repeat(1000),
            leaving: false,
        }
        .bounded();
        assert_eq!(p.field.chars().count(), MAX_FIELD);
        assert_eq!(p.name.chars().count(), MAX_NAME);
    }

    #[test]
    fn a_caret_is_shown_in_its_words() {
        assert_eq!(caret_in_context("", 0), "│");
        assert_eq!(caret_in_context("Analyse", 3), "Ana│lyse");
        let long = "Recueil du besoin auprès du client final";
        // Sixteen characters each side at most.
        assert_eq!(
            caret_in_context(long, 17),
            "…ecueil du besoin│ auprès du clien…"
        );
        assert_eq!(caret_in_context(long, 40), "… du client final│");
        // UTF-16 units, as the browser counts: the emoji takes two.
        assert_eq!(caret_in_context("🙂été", 3), "🙂é│té");
        assert_eq!(caret_in_context("court", 99), "court│");
    }
}
