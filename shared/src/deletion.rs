//! The end of a dossier: a notice signed by one of the candidate's owner keys, naming the
//! dossier and the membership it was decided on. The relay checks it before it erases what
//! it holds and keeps it as the dossier's tombstone; every member device checks it again
//! before it wipes its own copy. A device never erases on the relay's word alone: a relay
//! (or anyone who took it over) cannot make devices destroy a candidate's work, only stop
//! serving it.
//!
//! Erasure is cryptographic: the content was sealed on the devices, so once the relay's
//! ciphertext is gone and the devices have dropped their keys with their copies, nothing
//! left anywhere opens it (ARCHITECTURE.md says what this does not reach).

use serde::{Deserialize, Serialize};

use crate::envelope::DossierId;
use crate::keys::{self, DeviceSecret, MemberKey};
use crate::membership::Membership;

/// A notice is small; anything larger is not one.
const MAX_NOTICE: usize = 512;

/// How long a dossier is kept after its last activity, by default (the relay's
/// `--retention-days`, and the date from which the candidate's standing notice lets devices
/// wipe it): France VAE keeps a parcours' data at most twelve months after it ends.
pub const RETENTION_DAYS: i64 = 365;

const DAY_MS: i64 = 24 * 3600 * 1000;

/// How far a device's clock may be behind the date a notice takes effect and still take it
/// (clocks drift; a day is nothing against a year's retention).
const CLOCK_SLACK_MS: i64 = DAY_MS;

const DOMAIN: &[u8] = b"livret-deletion-v1";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeBody {
    pub dossier: DossierId,
    /// When the candidate decided, by their device's clock (milliseconds since 1970): what
    /// members are told. The relay dates its tombstone by its own clock.
    pub decided_ms: i64,
    /// From when it deletes: `decided_ms` for a deletion asked now; for the candidate's
    /// standing notice of retention (see [`DeletionNotice::retention`]), the end of the
    /// retention as this device counts it. A device takes a notice only once its own clock
    /// reached this date: a relay cannot make devices wipe earlier than the candidate allowed.
    pub effective_ms: i64,
    /// The membership the decision was made on: its last entry's number and hash. The relay
    /// takes a notice made on its current membership only (a candidate who removed a device
    /// just before is not overruled by that device's older view).
    pub membership_seq: u64,
    pub membership_head: [u8; 32],
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletionNotice {
    pub body: NoticeBody,
    pub signer: MemberKey,
    pub signature: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DeletionError {
    #[error("avis de suppression illisible")]
    Malformed,
    #[error("avis de suppression pour un autre dossier")]
    OtherDossier,
    #[error("seul le candidat peut supprimer son dossier")]
    NotOwner,
    #[error("signature de l'avis de suppression invalide")]
    BadSignature,
    #[error("les membres du dossier ont changé depuis : synchronisez, puis supprimez de nouveau")]
    Outdated,
    #[error("l'avis de suppression ne prend effet qu'à une date à venir")]
    TooEarly,
    #[error("le relais a effacé sa copie (durée de conservation écoulée) sans avis du candidat")]
    NoNotice,
    #[error("avis de suppression périmé : le candidat est revenu dans le dossier depuis")]
    Superseded,
}

fn signed_bytes(body: &NoticeBody) -> Vec<u8> {
    let mut out = DOMAIN.to_vec();
    out.extend(postcard::to_stdvec(body).expect("notices serialise"));
    out
}

impl DeletionNotice {
    /// The notice that deletes `membership`'s dossier, signed by `owner` (one of the
    /// candidate's keys), decided at `decided_ms`.
    pub fn sign(
        membership: &Membership,
        owner: &DeviceSecret,
        decided_ms: i64,
    ) -> Result<DeletionNotice, DeletionError> {
        DeletionNotice::sign_effective(membership, owner, decided_ms, decided_ms)
    }

    /// The candidate's standing notice of retention, renewed at each of their syncs: the
    /// dossier may be deleted from [`RETENTION_DAYS`] after `now_ms` on, if nothing renews it
    /// (the relay keeps the latest, and uses it when the dossier's retention ends).
    pub fn retention(
        membership: &Membership,
        owner: &DeviceSecret,
        now_ms: i64,
    ) -> Result<DeletionNotice, DeletionError> {
        let effective = now_ms + RETENTION_DAYS * DAY_MS;
        DeletionNotice::sign_effective(membership, owner, now_ms, effective)
    }

    fn sign_effective(
        membership: &Membership,
        owner: &DeviceSecret,
        decided_ms: i64,
        effective_ms: i64,
    ) -> Result<DeletionNotice, DeletionError> {
        if !membership.is_owner(&owner.signing_public()) {
            return Err(DeletionError::NotOwner);
        }
        let body = NoticeBody {
            dossier: membership.dossier,
            decided_ms,
            effective_ms,
            membership_seq: membership.next_seq - 1,
            membership_head: membership.head,
        };
        let signature = owner.sign(&signed_bytes(&body)).to_vec();
        Ok(DeletionNotice {
            body,
            signer: owner.signing_public(),
            signature,
        })
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        postcard::to_stdvec(self).expect("notices serialise")
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<DeletionNotice, DeletionError> {
        if bytes.is_empty() {
            // What a relay keeps of a dossier whose retention ended without a notice.
            return Err(DeletionError::NoNotice);
        }
        if bytes.len() > MAX_NOTICE {
            return Err(DeletionError::Malformed);
        }
        postcard::from_bytes(bytes).map_err(|_| DeletionError::Malformed)
    }

    /// Whether a device that knows `membership` must take this notice at `now_ms` (its own
    /// clock): it names that dossier, is signed by one of its owner keys, and is in effect.
    /// A device behind the relay checks against the members it knows; a signer it does not
    /// know as the candidate (an owner key added while it was away) is refused, and the
    /// device keeps its copy: erasing on a notice it cannot check would let a forger destroy
    /// work.
    pub fn check_for_member(
        &self,
        membership: &Membership,
        now_ms: i64,
    ) -> Result<(), DeletionError> {
        self.check_signed(membership)?;
        if now_ms < self.body.effective_ms - CLOCK_SLACK_MS {
            return Err(DeletionError::TooEarly);
        }
        Ok(())
    }

    /// [`Self::check_for_member`], and not older than `latest` — the candidate's latest
    /// notice of retention the device knows (kept in the dossier at each of their syncs): a
    /// notice signed before the candidate came back is stale, whatever a relay kept of it.
    pub fn check_fresh(
        &self,
        membership: &Membership,
        latest: Option<&DeletionNotice>,
        now_ms: i64,
    ) -> Result<(), DeletionError> {
        self.check_for_member(membership, now_ms)?;
        let latest = latest.filter(|l| l.check_signed(membership).is_ok());
        if latest.is_some_and(|l| self.body.decided_ms < l.body.decided_ms) {
            return Err(DeletionError::Superseded);
        }
        Ok(())
    }

    /// Names `membership`'s dossier and is signed by one of its owner keys.
    pub fn check_signed(&self, membership: &Membership) -> Result<(), DeletionError> {
        if self.body.dossier != membership.dossier {
            return Err(DeletionError::OtherDossier);
        }
        if !membership.is_owner(&self.signer) {
            return Err(DeletionError::NotOwner);
        }
        let Ok(signature): Result<[u8; 64], _> = self.signature.as_slice().try_into() else {
            return Err(DeletionError::BadSignature);
        };
        if !keys::verify(&self.signer, &signed_bytes(&self.body), &signature) {
            return Err(DeletionError::BadSignature);
        }
        Ok(())
    }

    /// The relay's check of a deletion asked now: signed by the candidate on its current
    /// membership, which the notice must have been made on.
    pub fn check_for_relay(&self, membership: &Membership) -> Result<(), DeletionError> {
        self.check_signed(membership)?;
        if self.body.membership_seq + 1 != membership.next_seq
            || self.body.membership_head != membership.head
        {
            return Err(DeletionError::Outdated);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::EpochKeys;
    use crate::membership::{self, Role, SignedEntry};

    /// Long after any notice here takes effect.
    const LATER: i64 = 1 << 50;

    struct Dossier {
        owner: DeviceSecret,
        advisor: DeviceSecret,
        log: Vec<SignedEntry>,
        keys: EpochKeys,
    }

    fn dossier() -> Dossier {
        dossier_numbered(7)
    }

    fn dossier_numbered(id: u8) -> Dossier {
        let owner = DeviceSecret::generate();
        let advisor = DeviceSecret::generate();
        let keys = EpochKeys::generate();
        let mut log = vec![membership::create(DossierId([id; 16]), &owner, &keys).unwrap()];
        let state = Membership::from_log(&log).unwrap();
        log.push(membership::add(&state, &owner, &advisor.id(), Role::Advisor, &keys).unwrap());
        Dossier {
            owner,
            advisor,
            log,
            keys,
        }
    }

    fn state(log: &[SignedEntry]) -> Membership {
        Membership::from_log(log).unwrap()
    }

    #[test]
    fn the_candidates_notice_holds_for_members_and_relay_alike() {
        let d = dossier();
        let notice = DeletionNotice::sign(&state(&d.log), &d.owner, 1_700_000_000_000).unwrap();
        let read = DeletionNotice::from_bytes(&notice.to_bytes()).unwrap();
        assert_eq!(read, notice);
        read.check_for_member(&state(&d.log), LATER).unwrap();
        read.check_for_relay(&state(&d.log)).unwrap();
        // A member behind (it knows the creation only) takes it too: the signer was the
        // candidate then.
        read.check_for_member(&state(&d.log[..1]), LATER).unwrap();
    }

    #[test]
    fn an_advisor_cannot_sign_one_nor_forge_the_candidates() {
        let d = dossier();
        let members = state(&d.log);
        assert_eq!(
            DeletionNotice::sign(&members, &d.advisor, 0).unwrap_err(),
            DeletionError::NotOwner
        );
        // Signed by the advisor, claiming the candidate's key.
        let mut forged = DeletionNotice::sign(&members, &d.owner, 0).unwrap();
        forged.signature = d.advisor.sign(&signed_bytes(&forged.body)).to_vec();
        assert_eq!(
            forged.check_for_member(&members, LATER).unwrap_err(),
            DeletionError::BadSignature
        );
        // Signed by the advisor as itself.
        forged.signer = d.advisor.signing_public();
        assert_eq!(
            forged.check_for_relay(&members).unwrap_err(),
            DeletionError::NotOwner
        );
        // A signature cut short, or altered.
        let mut cut = DeletionNotice::sign(&members, &d.owner, 0).unwrap();
        cut.signature.truncate(63);
        assert_eq!(
            cut.check_for_member(&members, LATER).unwrap_err(),
            DeletionError::BadSignature
        );
        let mut moved = DeletionNotice::sign(&members, &d.owner, 0).unwrap();
        moved.body.decided_ms += 1;
        assert_eq!(
            moved.check_for_member(&members, LATER).unwrap_err(),
            DeletionError::BadSignature
        );
    }

    #[test]
    fn a_notice_holds_for_its_own_dossier_only() {
        let d = dossier();
        let notice = DeletionNotice::sign(&state(&d.log), &d.owner, 0).unwrap();
        let other = dossier_numbered(8);
        assert_eq!(
            notice
                .check_for_member(&state(&other.log), LATER)
                .unwrap_err(),
            DeletionError::OtherDossier
        );
        // Renamed to the other dossier: the other candidate did not sign it.
        let mut renamed = notice.clone();
        renamed.body.dossier = other.log[0].body.dossier;
        assert_eq!(
            renamed
                .check_for_member(&state(&other.log), LATER)
                .unwrap_err(),
            DeletionError::NotOwner
        );
        // Renamed and signed by a key that owns that one: the signature no longer holds.
        renamed.signer = other.owner.signing_public();
        assert_eq!(
            renamed
                .check_for_member(&state(&other.log), LATER)
                .unwrap_err(),
            DeletionError::BadSignature
        );
    }

    #[test]
    fn the_relay_takes_a_notice_made_on_its_current_members_only() {
        let mut d = dossier();
        let before = state(&d.log);
        let notice = DeletionNotice::sign(&before, &d.owner, 0).unwrap();
        let removed = membership::remove(
            &before,
            &d.owner,
            &d.advisor.signing_public(),
            &EpochKeys::generate(),
        )
        .unwrap();
        d.log.push(removed);
        assert_eq!(
            notice.check_for_relay(&state(&d.log)).unwrap_err(),
            DeletionError::Outdated
        );
        notice.check_for_member(&state(&d.log), LATER).unwrap();
    }

    #[test]
    fn a_removed_owner_key_deletes_nothing() {
        let d = dossier();
        let second = DeviceSecret::generate();
        let mut log = d.log.clone();
        let members = state(&log);
        log.push(membership::add(&members, &d.owner, &second.id(), Role::Owner, &d.keys).unwrap());
        let with_second = state(&log);
        let notice = DeletionNotice::sign(&with_second, &second, 0).unwrap();
        notice.check_for_relay(&with_second).unwrap();
        log.push(
            membership::remove(
                &with_second,
                &d.owner,
                &second.signing_public(),
                &EpochKeys::generate(),
            )
            .unwrap(),
        );
        assert_eq!(
            notice.check_for_member(&state(&log), LATER).unwrap_err(),
            DeletionError::NotOwner
        );
    }

    #[test]
    fn a_standing_notice_of_retention_holds_only_once_the_retention_ended() {
        let d = dossier();
        let members = state(&d.log);
        let now = 1_800_000_000_000;
        let notice = DeletionNotice::retention(&members, &d.owner, now).unwrap();
        let ends = now + RETENTION_DAYS * DAY_MS;
        assert_eq!(notice.body.effective_ms, ends);
        // A relay that deletes early cannot make a device wipe early (a day's slack for
        // clocks that drift).
        for early in [now, ends - 2 * DAY_MS] {
            assert_eq!(
                notice.check_for_member(&members, early).unwrap_err(),
                DeletionError::TooEarly
            );
        }
        notice.check_for_member(&members, ends - DAY_MS).unwrap();
        notice.check_for_member(&members, ends + 1).unwrap();
        // An advisor signs none.
        assert_eq!(
            DeletionNotice::retention(&members, &d.advisor, now).unwrap_err(),
            DeletionError::NotOwner
        );
    }

    #[test]
    fn garbage_and_oversized_bytes_are_not_notices() {
        assert_eq!(
            DeletionNotice::from_bytes(&[]).unwrap_err(),
            DeletionError::NoNotice
        );
        assert_eq!(
            DeletionNotice::from_bytes(&[0xff; 40]).unwrap_err(),
            DeletionError::Malformed
        );
        assert_eq!(
            DeletionNotice::from_bytes(&vec![0; MAX_NOTICE + 1]).unwrap_err(),
            DeletionError::Malformed
        );
    }
}
