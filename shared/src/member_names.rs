//! What the candidate calls the members of their dossier: « Claire Martin, accompagnatrice »
//! instead of a role and a safety code, and « Kit de secours » for the paper key that lets a
//! new device in.
//!
//! The membership log ([`crate::membership`]) says who holds keys; the relay reads it, so a
//! name has no place there. A name is a card in the dossier's document, in the map `noms`
//! under the named member's signing key (hex), sealed with the epoch's content key (every
//! member reads names, the relay none) and signed by the device that wrote it, as
//! [`crate::sealed_notes`] says.
//!
//! Only the candidate names: a card counts when the device that signed it is one of the
//! candidate's keys now. An advisor also writes this document; it can delete a card (the
//! member is shown unnamed again) or put back a card the candidate signed before (an older
//! name of that member), never make one that is shown — « Candidat » on an advisor's key,
//! say. A card signed by a device the candidate has since removed is no longer shown
//! either: the candidate names that member again. Of the values a slot holds (a conflict,
//! or the two maps of a concurrent migration), the one automerge shows wins when it is a
//! valid card; what a writer put in the losing value or map never hides it.
//!
//! A juror's devices are one person: the card is the person's (their first device's
//! slot), whichever device the candidate names.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::dossier::{Dossier, DossierError};
use crate::envelope::DossierId;
use crate::keys::{ContentKey, DeviceSecret, MemberKey};
use crate::membership::Membership;
use crate::sealed_notes::{self, Place};

/// The map of name cards, by the named member's signing key in hex.
pub const NAMES_MAP: &str = "noms";
/// Longest name kept, in characters.
pub const MAX_NAME_CHARS: usize = 80;

/// One member's name, as the candidate gave it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameCard {
    /// The member named.
    pub member: MemberKey,
    /// The name; empty when the candidate took it back (the member is shown unnamed).
    pub name: String,
    /// The candidate's recovery kit: shown as such in the reader's language.
    pub kit: bool,
    /// The candidate's device that named it.
    pub by: MemberKey,
    /// That device's clock, in milliseconds since 1970 (display only).
    pub at_ms: u64,
}

impl NameCard {
    fn signer(&self) -> MemberKey {
        self.by
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("seul le candidat nomme les membres de son dossier")]
    NotOwner,
    #[error("cette personne n'est pas membre du dossier")]
    NotAMember,
    #[error("seule une clé du candidat peut être son kit de secours")]
    NotAKit,
    #[error("nom trop long ({0} caractères ; {MAX_NAME_CHARS} au plus)")]
    TooLong(usize),
    #[error("la clé de ce dossier manque sur cet appareil")]
    NoKey,
    #[error(transparent)]
    Dossier(#[from] DossierError),
}

/// `name` as it is kept and shown: one line, no control characters (a name printed in a
/// terminal must not move its cursor), spaces trimmed.
fn clean(name: &str) -> String {
    let one_line: String = name
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    one_line.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The names the candidate gave, by member, that `keys` open and one of the candidate's
/// keys signed.
pub fn read(
    doc: &mut Dossier,
    dossier: &DossierId,
    keys: &BTreeMap<u32, ContentKey>,
    membership: &Membership,
) -> BTreeMap<MemberKey, NameCard> {
    let (cards, _) = sealed_notes::read_slots(
        doc,
        keys,
        (dossier, NAMES_MAP),
        NameCard::signer,
        |slot, card: &NameCard| hex::encode(card.member.0) == slot && membership.is_owner(&card.by),
    );
    cards
        .into_values()
        .map(|mut card| {
            card.name = clean(&card.name).chars().take(MAX_NAME_CHARS).collect();
            (card.member, card)
        })
        // A name taken back (empty) wins over older values too, then means « unnamed ».
        .filter(|(_, card)| card.kit || !card.name.is_empty())
        .collect()
}

/// What names were read from: the membership's next entry number, how many epochs' keys
/// were held, and the sealed cards by slot.
type ReadFrom = (u64, usize, Vec<(String, Vec<u8>)>);

/// The names read last, and what they were read from: the membership's length, the keys
/// held and the sealed cards. Reading opens and checks every card (a signature each), which
/// the members' list, drawn again at each keystroke, need not redo while none of these
/// changed.
#[derive(Default)]
pub struct NamesCache {
    read_from: Option<ReadFrom>,
    names: BTreeMap<MemberKey, NameCard>,
}

impl NamesCache {
    /// [`read`], again only when the cards, the membership or the keys changed.
    pub fn read(
        &mut self,
        doc: &mut Dossier,
        dossier: &DossierId,
        keys: &BTreeMap<u32, ContentKey>,
        membership: &Membership,
    ) -> &BTreeMap<MemberKey, NameCard> {
        let from = (
            membership.next_seq,
            keys.len(),
            sealed_notes::entries(doc, NAMES_MAP),
        );
        if self.read_from.as_ref() != Some(&from) {
            self.names = read(doc, dossier, keys, membership);
            self.read_from = Some(from);
        }
        &self.names
    }
}

/// Names `member` (`kit`: the candidate's recovery kit), sealed with the content key of
/// `epoch`: `author` must be one of the candidate's keys. An empty name takes it back.
#[allow(clippy::too_many_arguments)]
pub fn write(
    doc: &mut Dossier,
    dossier: &DossierId,
    membership: &Membership,
    keys: &BTreeMap<u32, ContentKey>,
    (member, name, kit): (&MemberKey, &str, bool),
    author: &DeviceSecret,
    at_ms: u64,
    nonce: [u8; 24],
) -> Result<NameCard, NameError> {
    let by = author.signing_public();
    if !membership.is_owner(&by) {
        return Err(NameError::NotOwner);
    }
    // A juror's other device names the juror; a person with no device left is no member.
    let member = &membership.person_of(member);
    if membership.devices_of(member).is_empty() {
        return Err(NameError::NotAMember);
    }
    if kit && !membership.is_owner(member) {
        return Err(NameError::NotAKit);
    }
    let name = clean(name);
    let chars = name.chars().count();
    if chars > MAX_NAME_CHARS {
        return Err(NameError::TooLong(chars));
    }
    let epoch = membership.epoch;
    let key = keys.get(&epoch).ok_or(NameError::NoKey)?;
    let card = NameCard {
        member: *member,
        name,
        kit,
        by,
        at_ms,
    };
    let slot = hex::encode(member.0);
    let place = Place {
        dossier,
        map: NAMES_MAP,
        slot: &slot,
    };
    sealed_notes::put(doc, (epoch, key), place, &card, author, nonce)?;
    Ok(card)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::EpochKeys;
    use crate::membership::{self, Role, SignedEntry};
    use automerge::ScalarValue;
    use automerge::transaction::Transactable;

    const DOSSIER: DossierId = DossierId([5; 16]);

    /// A dossier of a candidate's laptop with its recovery kit, an advisor and a juror.
    struct Team {
        laptop: DeviceSecret,
        kit: DeviceSecret,
        advisor: DeviceSecret,
        juror: DeviceSecret,
        log: Vec<SignedEntry>,
    }

    impl Team {
        fn new() -> Team {
            let (laptop, kit, advisor, juror) = (
                DeviceSecret::generate(),
                DeviceSecret::generate(),
                DeviceSecret::generate(),
                DeviceSecret::generate(),
            );
            let keys = EpochKeys::generate();
            let mut log = vec![membership::create(DOSSIER, &laptop, &keys).unwrap()];
            for (who, role) in [
                (&kit, Role::Owner),
                (&advisor, Role::Advisor),
                (&juror, Role::Juror),
            ] {
                let state = Membership::from_log(&log).unwrap();
                log.push(membership::add(&state, &laptop, &who.id(), role, &keys).unwrap());
            }
            Team {
                laptop,
                kit,
                advisor,
                juror,
                log,
            }
        }

        fn state(&self) -> Membership {
            Membership::from_log(&self.log).unwrap()
        }

        fn content(&self, device: &DeviceSecret) -> BTreeMap<u32, ContentKey> {
            self.state().keys_for(device)
        }

        fn name(
            &self,
            d: &mut Dossier,
            author: &DeviceSecret,
            member: &DeviceSecret,
            name: &str,
            kit: bool,
        ) -> Result<NameCard, NameError> {
            write(
                d,
                &DOSSIER,
                &self.state(),
                &self.content(author),
                (&member.signing_public(), name, kit),
                author,
                7,
                [1; 24],
            )
        }

        /// The entry by which `by` (an owner) removes `who` from the dossier.
        fn removal(&self, by: &DeviceSecret, who: &DeviceSecret) -> SignedEntry {
            membership::remove(
                &self.state(),
                by,
                &who.signing_public(),
                &EpochKeys::generate(),
            )
            .unwrap()
        }

        fn read_as(&self, d: &mut Dossier, reader: &DeviceSecret) -> BTreeMap<MemberKey, NameCard> {
            read(d, &DOSSIER, &self.content(reader), &self.state())
        }
    }

    #[test]
    fn the_candidate_names_members_and_every_member_reads_the_names() {
        let team = Team::new();
        let mut d = Dossier::new(b"a");
        team.name(
            &mut d,
            &team.laptop,
            &team.advisor,
            "  Claire\tMartin ",
            false,
        )
        .unwrap();
        team.name(&mut d, &team.laptop, &team.kit, "", true)
            .unwrap();
        for reader in [&team.laptop, &team.advisor, &team.juror] {
            let names = team.read_as(&mut d, reader);
            assert_eq!(names[&team.advisor.signing_public()].name, "Claire Martin");
            assert!(names[&team.kit.signing_public()].kit);
            assert_eq!(names.len(), 2);
        }
        // Renamed, then the name taken back.
        team.name(&mut d, &team.laptop, &team.advisor, "Claire M.", false)
            .unwrap();
        let names = team.read_as(&mut d, &team.juror);
        assert_eq!(names[&team.advisor.signing_public()].name, "Claire M.");
        team.name(&mut d, &team.laptop, &team.advisor, " ", false)
            .unwrap();
        assert!(
            !team
                .read_as(&mut d, &team.juror)
                .contains_key(&team.advisor.signing_public())
        );
    }

    #[test]
    fn only_the_candidate_names_and_only_members() {
        let team = Team::new();
        let mut d = Dossier::new(b"a");
        for author in [&team.advisor, &team.juror] {
            assert_eq!(
                team.name(&mut d, author, &team.advisor, "Candidat", false),
                Err(NameError::NotOwner)
            );
        }
        let stranger = DeviceSecret::generate();
        assert_eq!(
            team.name(&mut d, &team.laptop, &stranger, "Personne", false),
            Err(NameError::NotAMember)
        );
        assert_eq!(
            team.name(&mut d, &team.laptop, &team.advisor, "", true),
            Err(NameError::NotAKit)
        );
        let long = "é".repeat(MAX_NAME_CHARS + 1);
        assert_eq!(
            team.name(&mut d, &team.laptop, &team.advisor, &long, false),
            Err(NameError::TooLong(MAX_NAME_CHARS + 1))
        );
        // The recovery kit names too: it is one of the candidate's keys.
        team.name(&mut d, &team.kit, &team.laptop, "Ordinateur", false)
            .unwrap();
        assert_eq!(team.read_as(&mut d, &team.advisor).len(), 1);
    }

    /// An advisor writes the document: a card it seals and signs itself (for its own key,
    /// as « Candidat ») is not shown; a card moved to another member's slot neither.
    #[test]
    fn an_advisor_cannot_make_a_name_that_is_shown() {
        let team = Team::new();
        let mut d = Dossier::new(b"a");
        let forged = NameCard {
            member: team.advisor.signing_public(),
            name: "Candidat".into(),
            kit: false,
            by: team.advisor.signing_public(),
            at_ms: 1,
        };
        let slot = hex::encode(forged.member.0);
        let place = Place {
            dossier: &DOSSIER,
            map: NAMES_MAP,
            slot: &slot,
        };
        let keys = team.content(&team.advisor);
        sealed_notes::put(
            &mut d,
            (1, &keys[&1]),
            place,
            &forged,
            &team.advisor,
            [2; 24],
        )
        .unwrap();
        // Claiming the candidate signed it: the signature does not hold.
        let claimed = NameCard {
            by: team.laptop.signing_public(),
            ..forged.clone()
        };
        let juror_slot = hex::encode(team.juror.signing_public().0);
        let place = Place {
            slot: &juror_slot,
            ..place
        };
        sealed_notes::put(
            &mut d,
            (1, &keys[&1]),
            place,
            &claimed,
            &team.advisor,
            [3; 24],
        )
        .unwrap();
        assert!(team.read_as(&mut d, &team.laptop).is_empty());
        // The candidate's real card, copied by the advisor under its own slot: not shown.
        team.name(&mut d, &team.laptop, &team.juror, "Candidat", false)
            .unwrap();
        let sealed = sealed_notes::entries(&mut d, NAMES_MAP)
            .into_iter()
            .find(|(s, _)| *s == juror_slot)
            .unwrap()
            .1;
        let map = sealed_notes::map_of(&mut d, NAMES_MAP).unwrap();
        d.automerge()
            .put(&map, slot.as_str(), ScalarValue::Bytes(sealed))
            .unwrap();
        let names = team.read_as(&mut d, &team.laptop);
        assert_eq!(names.len(), 1);
        assert_eq!(
            names[&team.juror.signing_public()].member,
            team.juror.signing_public()
        );
    }

    /// A card signed by a device of the candidate's that was removed since (a lost laptop)
    /// is no longer shown; and nobody outside the dossier (the relay) reads a name.
    #[test]
    fn names_of_a_removed_device_fade_and_the_relay_reads_none() {
        let mut team = Team::new();
        let mut d = Dossier::new(b"a");
        team.name(&mut d, &team.laptop, &team.advisor, "Claire", false)
            .unwrap();
        team.name(&mut d, &team.kit, &team.juror, "M. Durand", false)
            .unwrap();
        let removal = team.removal(&team.kit, &team.laptop);
        team.log.push(removal);
        let names = team.read_as(&mut d, &team.kit);
        assert_eq!(names.len(), 1);
        assert_eq!(names[&team.juror.signing_public()].name, "M. Durand");
        assert!(read(&mut d, &DOSSIER, &BTreeMap::new(), &team.state()).is_empty());
        // Uncompressed: a compressed save could hide a name kept in the clear.
        let saved = d.automerge().save_nocompress();
        assert!(!saved.windows(6).any(|w| w == b"Durand"));
    }

    /// Two devices migrated a schema-3 dossier at once, each making a `noms` map: the
    /// candidate names the advisor in one; the advisor puts junk and a forged card in the
    /// other. Whichever map automerge shows, the candidate's name is read.
    #[test]
    fn what_a_writer_puts_in_a_losing_map_never_hides_the_name() {
        let team = Team::new();
        let mut old = Dossier::new(b"base");
        old.automerge().delete(automerge::ROOT, NAMES_MAP).unwrap();
        old.automerge()
            .put(automerge::ROOT, "schema_version", 3_i64)
            .unwrap();
        let bytes = old.save();
        let slot = hex::encode(team.advisor.signing_public().0);
        for (candidate_actor, advisor_actor) in [(b"a", b"b"), (b"b", b"a")] {
            let mut mine = Dossier::load(&bytes, candidate_actor).unwrap();
            let mut theirs = Dossier::load(&bytes, advisor_actor).unwrap();
            team.name(&mut mine, &team.laptop, &team.advisor, "Claire", false)
                .unwrap();
            let map = sealed_notes::map_of(&mut theirs, NAMES_MAP).unwrap();
            theirs
                .automerge()
                .put(&map, slot.as_str(), ScalarValue::Bytes(vec![0; 80]))
                .unwrap();
            mine.automerge().merge(theirs.automerge()).unwrap();
            let names = team.read_as(&mut mine, &team.juror);
            assert_eq!(
                names
                    .get(&team.advisor.signing_public())
                    .map(|c| c.name.as_str()),
                Some("Claire")
            );
        }
    }

    /// A juror's second device is the same person: named through either device, the name
    /// is the juror's, and it stays when the first device is removed.
    #[test]
    fn a_jurors_devices_share_one_name() {
        let mut team = Team::new();
        let tablet = DeviceSecret::generate();
        let keys = EpochKeys::generate();
        let entry = membership::add_device(
            &team.state(),
            &team.laptop,
            &tablet.id(),
            &team.juror.signing_public(),
            &keys,
        )
        .unwrap();
        team.log.push(entry);
        let mut d = Dossier::new(b"a");
        let card = team
            .name(&mut d, &team.laptop, &tablet, "M. Durand", false)
            .unwrap();
        assert_eq!(card.member, team.juror.signing_public());
        let removal = team.removal(&team.laptop, &team.juror);
        team.log.push(removal);
        let state = team.state();
        let names = team.read_as(&mut d, &team.laptop);
        assert_eq!(
            names[&state.person_of(&tablet.signing_public())].name,
            "M. Durand"
        );
        // Still named (renamed) through the device left.
        team.name(&mut d, &team.laptop, &tablet, "Marc Durand", false)
            .unwrap();
        let names = team.read_as(&mut d, &team.laptop);
        assert_eq!(names[&team.juror.signing_public()].name, "Marc Durand");
    }

    /// The cache reads again what changed: a rename, and a removal of the device that
    /// signed a name (the membership grew, the cards did not).
    #[test]
    fn the_cache_follows_renames_and_removals() {
        let mut team = Team::new();
        let mut d = Dossier::new(b"a");
        let mut cache = NamesCache::default();
        let read = |team: &Team, d: &mut Dossier, cache: &mut NamesCache| {
            let state = team.state();
            cache
                .read(d, &DOSSIER, &state.keys_for(&team.kit), &state)
                .clone()
        };
        team.name(&mut d, &team.laptop, &team.advisor, "Claire", false)
            .unwrap();
        assert_eq!(
            read(&team, &mut d, &mut cache)[&team.advisor.signing_public()].name,
            "Claire"
        );
        team.name(&mut d, &team.laptop, &team.advisor, "Claire M.", false)
            .unwrap();
        assert_eq!(
            read(&team, &mut d, &mut cache)[&team.advisor.signing_public()].name,
            "Claire M."
        );
        let removal = team.removal(&team.kit, &team.laptop);
        team.log.push(removal);
        assert!(read(&team, &mut d, &mut cache).is_empty());
    }
}
