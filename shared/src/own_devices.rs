//! Which keys are the candidate's own: the devices and the recovery key that every new
//! dossier gets as owners. A key is the candidate's only if the candidate said so on this
//! device (paired it, typed the kit) or it owns a dossier that one of those keys created.
//!
//! Why not "every owner of a dossier this device owns": anyone who has seen a device's
//! identity line (a juror, a removed advisor, the relay) can create a dossier of their own
//! and add that device as an owner; a device that took that dossier's owners as its own
//! would add the stranger to every dossier it creates afterwards. Here such a stranger is
//! only ever a *proposal*, shown with its safety code for the candidate to accept or
//! refuse; and a device adds its own keys only to the dossiers it (or another trusted key)
//! created, so it never vouches for a stranger's dossier.

use std::collections::{BTreeMap, BTreeSet};

use crate::keys::MemberKey;
use crate::membership::{Member, Membership, Op, SignedEntry};

/// A device the candidate is asked about: it created dossiers this device owns (`dossiers`
/// of them: it paired this device, or this device was let in with the recovery kit), and is
/// not known as one of the candidate's keys. Once confirmed, its dossiers are the
/// candidate's and their owners too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    pub member: Member,
    pub dossiers: usize,
}

/// What the dossiers held on this device say about the candidate's keys.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct OwnKeys {
    /// Owners of dossiers created by a trusted key: the candidate's, to remember.
    pub vouched: Vec<Member>,
    /// Devices to ask the candidate about.
    pub proposals: Vec<Proposal>,
}

/// Whether the candidate's own keys may be added to this dossier: this device owns it and
/// one of the candidate's trusted keys created it.
pub fn is_own_dossier(state: &Membership, me: &MemberKey, trusted: &BTreeSet<MemberKey>) -> bool {
    state.is_owner(me) && (state.owner == *me || trusted.contains(&state.owner))
}

/// Sorts out the owners of the dossiers this device holds (their membership logs):
/// `trusted` are this device's key and the keys the candidate confirmed on it, `refused`
/// the devices the candidate said are not theirs.
pub fn review(
    logs: &[Vec<SignedEntry>],
    me: &MemberKey,
    trusted: &BTreeSet<MemberKey>,
    refused: &BTreeSet<MemberKey>,
) -> OwnKeys {
    let mut vouched: BTreeMap<MemberKey, Member> = BTreeMap::new();
    let mut proposed: BTreeMap<MemberKey, Proposal> = BTreeMap::new();
    for log in logs {
        let Ok(state) = Membership::from_log(log) else {
            continue;
        };
        if !state.is_owner(me) {
            continue;
        }
        if is_own_dossier(&state, me, trusted) {
            for owner in state.owners() {
                if owner.signing != *me && !trusted.contains(&owner.signing) {
                    vouched.insert(owner.signing, owner.clone());
                }
            }
            continue;
        }
        let Some(Op::Create { owner: creator }) = log.first().map(|e| &e.body.op) else {
            continue;
        };
        if refused.contains(&creator.signing) {
            continue;
        }
        proposed
            .entry(creator.signing)
            .or_insert(Proposal {
                member: creator.clone(),
                dossiers: 0,
            })
            .dossiers += 1;
    }
    OwnKeys {
        vouched: vouched.into_values().collect(),
        proposals: proposed.into_values().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::DossierId;
    use crate::keys::{DeviceSecret, EpochKeys};
    use crate::membership::{self, Role};

    fn dossier(creator: &DeviceSecret, owners: &[&DeviceSecret], id: u8) -> Vec<SignedEntry> {
        let keys = EpochKeys::generate();
        let mut log = vec![membership::create(DossierId([id; 16]), creator, &keys).unwrap()];
        for o in owners {
            let state = Membership::from_log(&log).unwrap();
            log.push(membership::add(&state, creator, &o.id(), Role::Owner, &keys).unwrap());
        }
        log
    }

    fn set(keys: &[&DeviceSecret]) -> BTreeSet<MemberKey> {
        keys.iter().map(|k| k.signing_public()).collect()
    }

    /// Issue 19 item 6: a stranger who adds the candidate's device to a dossier of their
    /// own is asked about, never taken as the candidate's key; once refused, not asked again.
    #[test]
    fn a_strangers_dossier_makes_a_proposal_never_an_own_key() {
        let phone = DeviceSecret::generate();
        let stranger = DeviceSecret::generate();
        let logs = vec![
            dossier(&stranger, &[&phone], 1),
            dossier(&stranger, &[&phone], 2),
        ];
        let me = phone.signing_public();
        let found = review(&logs, &me, &set(&[&phone]), &BTreeSet::new());
        assert!(found.vouched.is_empty());
        assert_eq!(found.proposals.len(), 1);
        assert_eq!(found.proposals[0].member.signing, stranger.signing_public());
        assert_eq!(found.proposals[0].dossiers, 2);
        let refused = set(&[&stranger]);
        assert_eq!(
            review(&logs, &me, &set(&[&phone]), &refused),
            OwnKeys::default()
        );
    }

    /// Pairing: the laptop added the phone to its dossiers; the phone asks about the laptop,
    /// and once the candidate confirms it, its dossiers' owners (the recovery key) are
    /// theirs. A stranger's dossier that also lists the laptop as an owner vouches for
    /// nobody: its creator is asked about, and stays a stranger.
    #[test]
    fn a_confirmed_device_vouches_for_the_owners_of_its_own_dossiers_only() {
        let laptop = DeviceSecret::generate();
        let phone = DeviceSecret::generate();
        let recovery = DeviceSecret::generate();
        let stranger = DeviceSecret::generate();
        let mine = dossier(&laptop, &[&recovery, &phone], 1);
        let trap = dossier(&stranger, &[&laptop, &phone], 2);
        let logs = vec![mine, trap];
        let me = phone.signing_public();
        let first = review(&logs, &me, &set(&[&phone]), &BTreeSet::new());
        let asked: BTreeSet<MemberKey> = first.proposals.iter().map(|p| p.member.signing).collect();
        assert_eq!(asked, set(&[&laptop, &stranger]));
        assert!(first.vouched.is_empty());

        let confirmed = review(&logs, &me, &set(&[&phone, &laptop]), &BTreeSet::new());
        let vouched: BTreeSet<MemberKey> = confirmed.vouched.iter().map(|m| m.signing).collect();
        assert_eq!(vouched, set(&[&recovery]));
        assert_eq!(confirmed.proposals.len(), 1);
        assert_eq!(
            confirmed.proposals[0].member.signing,
            stranger.signing_public()
        );
        let trap_state = Membership::from_log(&logs[1]).unwrap();
        assert!(!is_own_dossier(&trap_state, &me, &set(&[&phone, &laptop])));
    }
}
