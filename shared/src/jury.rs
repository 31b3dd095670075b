//! The jury's side of a dossier: the jury key, the jurors' review documents and what the jury
//! releases to the candidate. Pure, like the rest of `shared`: [`crate::sync::Replica`] holds
//! a [`Jury`] and routes envelopes of the review and release channels to it.
//!
//! **The jury key.** Reviews are sealed with a key of the jury's own, per epoch of the
//! dossier, which the candidate's devices and advisors never hold (the dossier's key would
//! let the candidate read the jurors' annotations). The first juror to write makes it and
//! grants it: the key is wrapped with age to every juror of the dossier (itself included),
//! in a grant signed by the juror who made it, and the relay keeps the grants next to the
//! dossier (it sees who granted whom, never the key). The relay keeps one key id per epoch,
//! the first it receives: a juror whose grant lost a race adopts the winner's, and seals
//! nothing before holding a key the relay confirmed. A juror added later is granted the key
//! by whichever juror syncs next; a grant also carries the jury's keys of earlier epochs, so
//! a newcomer reads the reviews written before it came. A removal starts a new epoch, and
//! with it a new jury key the removed juror never gets.

use std::collections::BTreeMap;

use automerge::ChangeHash;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use crate::envelope::DossierId;
use crate::keys::{self, ContentKey, DeviceSecret, KeyError, MemberKey};
use crate::membership::Member;
use crate::review::doc::{JuryDoc, JuryDocError};

/// Signed with the grant's body, so a grant cannot be taken for anything else.
const GRANT_DOMAIN: &[u8] = b"livret jury key grant v1\0";

/// The most grants one request may carry (a jury is a handful of people).
pub const MAX_GRANTS: usize = 64;
/// The largest wrapped grant the relay keeps (a grant with a key per epoch of a long-lived
/// dossier stays far below).
pub const MAX_GRANT_BYTES: usize = 16 * 1024;

/// Grants ready to send: each juror's signing key and the grant sealed to it.
pub type Grants = Vec<(MemberKey, Vec<u8>)>;

/// A grant as the relay keeps and hands it: sealed with age to one juror.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JuryGrant {
    pub epoch: u32,
    pub key_id: [u8; 16],
    pub wrapped: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JuryError {
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Doc(#[from] JuryDocError),
    #[error("clé du jury illisible ou altérée")]
    BadGrant,
    #[error("clé du jury accordée par quelqu'un qui n'est pas juré")]
    NotGrantedByJuror,
}

/// What a grant holds, signed by the juror who made the key. Zeroed on drop.
#[derive(Serialize, Deserialize)]
struct GrantBody {
    dossier: DossierId,
    epoch: u32,
    key_id: [u8; 16],
    key: [u8; 32],
    /// The jury's keys of earlier epochs, so a juror added later reads earlier reviews.
    earlier: Vec<(u32, [u8; 32])>,
    by: MemberKey,
}

impl Drop for GrantBody {
    fn drop(&mut self) {
        self.key.zeroize();
        for (_, k) in &mut self.earlier {
            k.zeroize();
        }
    }
}

#[derive(Serialize, Deserialize)]
struct SignedGrant {
    body: Vec<u8>,
    signature: Vec<u8>,
}

fn signed_message(body: &[u8]) -> Vec<u8> {
    [GRANT_DOMAIN, body].concat()
}

/// A new random key id.
pub fn new_key_id() -> [u8; 16] {
    let mut id = [0u8; 16];
    getrandom::fill(&mut id).expect("the OS random generator is available");
    id
}

/// Grants an epoch's jury key (and the earlier ones) to `recipients`: one age-sealed, signed
/// grant each.
#[allow(clippy::too_many_arguments)]
pub fn grant(
    device: &DeviceSecret,
    dossier: DossierId,
    epoch: u32,
    key_id: [u8; 16],
    key: &ContentKey,
    earlier: &BTreeMap<u32, ContentKey>,
    recipients: &[Member],
) -> Result<Grants, JuryError> {
    let body = GrantBody {
        dossier,
        epoch,
        key_id,
        key: *key.bytes(),
        earlier: earlier
            .iter()
            .filter(|(e, _)| **e != epoch)
            .map(|(e, k)| (*e, *k.bytes()))
            .collect(),
        by: device.signing_public(),
    };
    let body = Zeroizing::new(postcard::to_stdvec(&body).expect("grants serialise"));
    let signature = device.sign(&signed_message(&body)).to_vec();
    let signed = Zeroizing::new(
        postcard::to_stdvec(&SignedGrant {
            body: body.to_vec(),
            signature,
        })
        .expect("grants serialise"),
    );
    recipients
        .iter()
        .map(|m| Ok((m.signing, keys::seal_to(&m.id(), &signed)?)))
        .collect()
}

/// The keys a grant gives: (epoch, key) for its epoch and the earlier ones. `is_juror` says
/// whether a signing key was a juror of the dossier (the maker must have been).
pub fn open_grant(
    device: &DeviceSecret,
    dossier: DossierId,
    grant: &JuryGrant,
    is_juror: impl Fn(&MemberKey) -> bool,
) -> Result<Vec<(u32, ContentKey)>, JuryError> {
    let plain = device.open_own(&grant.wrapped)?;
    let signed: SignedGrant = postcard::from_bytes(&plain).map_err(|_| JuryError::BadGrant)?;
    let body_bytes = Zeroizing::new(signed.body);
    let body: GrantBody = postcard::from_bytes(&body_bytes).map_err(|_| JuryError::BadGrant)?;
    let signature: [u8; 64] = signed
        .signature
        .as_slice()
        .try_into()
        .map_err(|_| JuryError::BadGrant)?;
    if !keys::verify(&body.by, &signed_message(&body_bytes), &signature)
        || body.dossier != dossier
        || body.epoch != grant.epoch
        || body.key_id != grant.key_id
    {
        return Err(JuryError::BadGrant);
    }
    if !is_juror(&body.by) {
        return Err(JuryError::NotGrantedByJuror);
    }
    let mut out = vec![(body.epoch, ContentKey::from_random(body.key))];
    out.extend(
        body.earlier
            .iter()
            .map(|(e, k)| (*e, ContentKey::from_random(*k))),
    );
    Ok(out)
}

/// A replica's jury state: the jury keys (jurors only), each juror's review (jurors only),
/// each juror's release (everyone), review envelopes waiting for their key.
#[derive(Default)]
pub struct Jury {
    pub(crate) keys: BTreeMap<u32, ContentKey>,
    /// The key id the relay confirmed per epoch (what a juror seals with).
    pub(crate) key_ids: BTreeMap<u32, [u8; 16]>,
    /// The grants this device received, kept sealed (opened again on restore, like the
    /// membership log's wrapped keys).
    pub(crate) grants: Vec<JuryGrant>,
    pub(crate) reviews: BTreeMap<MemberKey, JuryDoc>,
    pub(crate) releases: BTreeMap<MemberKey, JuryDoc>,
    /// Review envelopes received before this juror held their epoch's key.
    pub(crate) locked: Vec<Vec<u8>>,
    /// Heads of this juror's own documents at the last flush.
    pub(crate) sealed_review: Vec<ChangeHash>,
    pub(crate) sealed_release: Vec<ChangeHash>,
}

#[derive(Serialize, Deserialize, Default)]
pub(crate) struct SavedJury {
    grants: Vec<JuryGrant>,
    reviews: Vec<(MemberKey, Vec<u8>)>,
    releases: Vec<(MemberKey, Vec<u8>)>,
    locked: Vec<Vec<u8>>,
    sealed_review: Vec<[u8; 32]>,
    sealed_release: Vec<[u8; 32]>,
}

impl Jury {
    pub(crate) fn saved(&mut self) -> SavedJury {
        SavedJury {
            grants: self.grants.clone(),
            reviews: self
                .reviews
                .iter_mut()
                .map(|(w, d)| (*w, d.save()))
                .collect(),
            releases: self
                .releases
                .iter_mut()
                .map(|(w, d)| (*w, d.save()))
                .collect(),
            locked: self.locked.clone(),
            sealed_review: self.sealed_review.iter().map(|h| h.0).collect(),
            sealed_release: self.sealed_release.iter().map(|h| h.0).collect(),
        }
    }

    /// The state saved by [`Jury::to_saved`]; grants are opened again by the replica.
    pub(crate) fn from_saved(saved: SavedJury, me: &MemberKey) -> Result<Jury, JuryError> {
        let load = |docs: Vec<(MemberKey, Vec<u8>)>| -> Result<BTreeMap<_, _>, JuryError> {
            docs.into_iter()
                .map(|(w, bytes)| Ok((w, JuryDoc::load(&bytes, me)?)))
                .collect()
        };
        Ok(Jury {
            keys: BTreeMap::new(),
            key_ids: BTreeMap::new(),
            grants: saved.grants,
            reviews: load(saved.reviews)?,
            releases: load(saved.releases)?,
            locked: saved.locked,
            sealed_review: saved.sealed_review.into_iter().map(ChangeHash).collect(),
            sealed_release: saved.sealed_release.into_iter().map(ChangeHash).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::{Channel, Envelope, random_nonce};
    use crate::keys::EpochKeys;
    use crate::membership::{self, Role};
    use crate::review::anchor::TextAnchor;
    use crate::review::{Annotation, Decision, Evidence, Level, Outcome, Rating, Target};
    use crate::sync::Replica;

    /// Plays the relay's part for grants: the first key of an epoch wins, grants are kept
    /// per recipient.
    #[derive(Default)]
    struct GrantDesk {
        key_id: Option<[u8; 16]>,
        grants: BTreeMap<MemberKey, JuryGrant>,
    }

    impl GrantDesk {
        fn sync(&mut self, device: &DeviceSecret, replica: &mut Replica) {
            let granted: Vec<MemberKey> = self.grants.keys().copied().collect();
            let to_send = replica
                .jury_grants_to_send(device, self.key_id, &granted)
                .unwrap();
            // The first key of the epoch wins, as on the relay.
            if let Some((epoch, id, wraps)) =
                to_send.filter(|(_, id, _)| self.key_id.is_none_or(|k| k == *id))
            {
                self.key_id = Some(id);
                for (to, wrapped) in wraps {
                    self.grants.entry(to).or_insert(JuryGrant {
                        epoch,
                        key_id: id,
                        wrapped,
                    });
                }
            }
            let mine: Vec<JuryGrant> = self
                .grants
                .get(&device.signing_public())
                .cloned()
                .into_iter()
                .collect();
            replica.accept_jury_grants(device, &mine).unwrap();
        }
    }

    fn text_annotation(id: &str, body: &str) -> Annotation {
        let text = "Je gère les stocks et les commandes du magasin.";
        Annotation {
            id: id.into(),
            target: Target::Text {
                path: "fiches.0.taches".into(),
                anchor: TextAnchor::new(text, 12, 22).unwrap(),
            },
            body: body.into(),
            at_ms: 1,
        }
    }

    /// Two jurors review the same dossier at once: both views survive, each under its
    /// juror; the candidate reads neither, only the decision once released; the candidate's
    /// snapshot does not cover (so the relay never prunes) the jurors' envelopes.
    #[test]
    fn two_jurors_review_concurrently_and_the_candidate_reads_only_the_release() {
        let owner = DeviceSecret::generate();
        let (a, b) = (DeviceSecret::generate(), DeviceSecret::generate());
        let keys = EpochKeys::generate();
        let (mut o, create) =
            Replica::create(&owner, DossierId([3; 16]), keys.duplicate()).unwrap();
        let mut log = vec![create];
        for j in [&a, &b] {
            let add = membership::add(o.membership(), &owner, &j.id(), Role::Juror, &keys).unwrap();
            o.apply_membership(&owner, std::slice::from_ref(&add))
                .unwrap();
            log.push(add);
        }
        o.dossier()
            .set("fiches.0.taches", "Je gère les stocks")
            .unwrap();
        let from_owner = o.flush(&owner, random_nonce()).unwrap().unwrap();
        let mut ra = Replica::join(&a, log.clone()).unwrap();
        let mut rb = Replica::join(&b, log).unwrap();
        ra.receive(std::slice::from_ref(&from_owner)).unwrap();
        rb.receive(std::slice::from_ref(&from_owner)).unwrap();

        // Both write before anyone holds a jury key: nothing sealed for the review yet.
        let mut desk = GrantDesk::default();
        for (r, name, level) in [(&mut ra, "Juré A", 3), (&mut rb, "Juré B", 1)] {
            let doc = r.my_review().unwrap();
            doc.set_name(name);
            doc.annotate(&text_annotation(
                &format!("{name}-1"),
                &format!("vu par {name}"),
            ));
            doc.link(&Evidence::Fiche(0), &["C1".to_string()].into());
            doc.rate(
                "C1",
                &Rating {
                    level: Level::from_score(level).unwrap(),
                    justification: format!("{name} justifie"),
                },
            );
        }
        assert!(ra.flush_jury(&a, random_nonce).unwrap().is_empty());
        // A makes the key and grants it to both; B adopts it.
        desk.sync(&a, &mut ra);
        desk.sync(&b, &mut rb);
        assert!(ra.has_jury_key() && rb.has_jury_key());
        let from_a = ra.flush_jury(&a, random_nonce).unwrap();
        let from_b = rb.flush_jury(&b, random_nonce).unwrap();
        assert_eq!((from_a.len(), from_b.len()), (1, 1));
        assert_eq!(
            Envelope::parse(&from_a[0]).unwrap().header.channel,
            Channel::Review
        );
        ra.receive(&from_b).unwrap();
        rb.receive(&from_a).unwrap();
        for r in [&ra, &rb] {
            let reviews = r.reviews();
            assert_eq!(reviews.len(), 2);
            let by = |k: &MemberKey| reviews.iter().find(|(w, _)| w == k).unwrap().1.clone();
            assert_eq!(by(&a.signing_public()).juror, "Juré A");
            assert_eq!(by(&a.signing_public()).ratings["C1"].level, Level::Maitrise);
            assert_eq!(by(&b.signing_public()).ratings["C1"].level, Level::EnCours);
            assert_eq!(by(&b.signing_public()).annotations[0].body, "vu par Juré B");
        }

        // The candidate gets the jurors' envelopes (they count as seen) and reads nothing.
        o.receive(&[from_a.clone(), from_b.clone()].concat())
            .unwrap();
        assert!(o.reviews().is_empty() && o.decision().is_none());
        assert!(o.my_review().is_err(), "the candidate writes no review");
        let (_, covers) = o.compact(&owner, random_nonce()).unwrap();
        assert!(
            covers.iter().all(|(w, _)| *w == owner.signing_public()),
            "a snapshot covers the dossier's writers only: {covers:?}"
        );

        // A releases the decision: the candidate reads it, and only it.
        let decision = Decision {
            date: "2026-12-14".into(),
            jury: vec!["Juré A".into(), "Juré B".into()],
            competences: BTreeMap::from([("C1".into(), true)]),
            blocs: vec![(1, true)],
            outcome: Outcome::Totale,
            motifs: "Compétences démontrées".into(),
            at_ms: 5,
            supersedes: Vec::new(),
        };
        ra.my_release().unwrap().release(&decision);
        let released = ra.flush_jury(&a, random_nonce).unwrap();
        assert_eq!(released.len(), 1);
        assert_eq!(
            Envelope::parse(&released[0]).unwrap().header.channel,
            Channel::Release
        );
        o.receive(&released).unwrap();
        assert_eq!(o.decision().unwrap().1, decision);
        assert!(o.reviews().is_empty());

        // Everything survives a save and a restore, keys opened again from the grants.
        let saved = rb.save();
        let mut back = Replica::restore(&b, &saved).unwrap();
        assert!(back.has_jury_key());
        assert_eq!(back.reviews().len(), 2);
        back.receive(&released).unwrap();
        assert_eq!(back.decision().unwrap().1.outcome, Outcome::Totale);
        let saved = o.save();
        assert_eq!(
            Replica::restore(&owner, &saved)
                .unwrap()
                .decision()
                .unwrap()
                .1,
            decision
        );
    }

    /// A juror added after the reviews were written is granted the key by a juror who
    /// syncs, and then reads the reviews that waited for it.
    #[test]
    fn a_juror_added_later_reads_earlier_reviews_once_granted() {
        let owner = DeviceSecret::generate();
        let (a, c) = (DeviceSecret::generate(), DeviceSecret::generate());
        let keys = EpochKeys::generate();
        let (mut o, create) =
            Replica::create(&owner, DossierId([4; 16]), keys.duplicate()).unwrap();
        let add_a = membership::add(o.membership(), &owner, &a.id(), Role::Juror, &keys).unwrap();
        o.apply_membership(&owner, std::slice::from_ref(&add_a))
            .unwrap();
        let mut ra = Replica::join(&a, vec![create.clone(), add_a.clone()]).unwrap();
        let mut desk = GrantDesk::default();
        desk.sync(&a, &mut ra);
        ra.my_review().unwrap().set_name("Juré A");
        let written = ra.flush_jury(&a, random_nonce).unwrap();

        let add_c = membership::add(o.membership(), &owner, &c.id(), Role::Juror, &keys).unwrap();
        let mut rc = Replica::join(&c, vec![create, add_a, add_c.clone()]).unwrap();
        rc.receive(&written).unwrap();
        assert_eq!(rc.locked_reviews(), 1);
        assert!(rc.reviews().is_empty());
        desk.sync(&c, &mut rc);
        assert!(!rc.has_jury_key(), "nobody granted it yet");
        // Garbage where a grant should be is left aside; the sync goes on.
        let garbage = JuryGrant {
            epoch: 1,
            key_id: [1; 16],
            wrapped: vec![7; 300],
        };
        assert_eq!(rc.accept_jury_grants(&c, &[garbage]).unwrap(), 0);
        assert!(!rc.has_jury_key());
        ra.apply_membership(&a, &[add_c]).unwrap();
        desk.sync(&a, &mut ra);
        desk.sync(&c, &mut rc);
        assert!(rc.has_jury_key());
        assert_eq!(rc.locked_reviews(), 0);
        assert_eq!(rc.reviews()[0].1.juror, "Juré A");
    }

    fn juror(d: &DeviceSecret) -> Member {
        let id = d.id();
        Member {
            signing: id.signing,
            recipient: id.recipient,
            role: Role::Juror,
        }
    }

    /// A grant opens for its recipient only, gives the earlier epochs' keys too, and is
    /// refused when altered, replayed for another dossier or epoch, or made by a non-juror.
    #[test]
    fn grants_open_for_their_recipient_and_refuse_forgeries() {
        let a = DeviceSecret::generate();
        let b = DeviceSecret::generate();
        let outsider = DeviceSecret::generate();
        let dossier = DossierId([4; 16]);
        let key = ContentKey::from_random([7; 32]);
        let earlier = BTreeMap::from([(1, ContentKey::from_random([1; 32]))]);
        let id = [9; 16];
        let wraps = grant(&a, dossier, 2, id, &key, &earlier, &[juror(&a), juror(&b)]).unwrap();
        assert_eq!(wraps.len(), 2);
        let for_b = JuryGrant {
            epoch: 2,
            key_id: id,
            wrapped: wraps[1].1.clone(),
        };
        let jurors = [a.signing_public(), b.signing_public()];
        let is_juror = |k: &MemberKey| jurors.contains(k);
        let keys = open_grant(&b, dossier, &for_b, is_juror).unwrap();
        assert_eq!(
            keys.iter()
                .map(|(e, k)| (*e, *k.bytes()))
                .collect::<Vec<_>>(),
            vec![(2, [7; 32]), (1, [1; 32])]
        );
        assert!(open_grant(&outsider, dossier, &for_b, is_juror).is_err());
        assert_eq!(
            open_grant(&b, DossierId([5; 16]), &for_b, is_juror).err(),
            Some(JuryError::BadGrant)
        );
        let other_epoch = JuryGrant {
            epoch: 3,
            ..for_b.clone()
        };
        assert_eq!(
            open_grant(&b, dossier, &other_epoch, is_juror).err(),
            Some(JuryError::BadGrant)
        );
        assert_eq!(
            open_grant(&b, dossier, &for_b, |k| *k == b.signing_public()).err(),
            Some(JuryError::NotGrantedByJuror)
        );
        // A grant re-signed by an outsider over a body naming a juror as maker.
        let plain = b.open_own(&for_b.wrapped).unwrap();
        let mut signed: SignedGrant = postcard::from_bytes(&plain).unwrap();
        signed.signature = outsider.sign(&signed_message(&signed.body)).to_vec();
        let forged = JuryGrant {
            wrapped: keys::seal_to(&b.id(), &postcard::to_stdvec(&signed).unwrap()).unwrap(),
            ..for_b
        };
        assert_eq!(
            open_grant(&b, dossier, &forged, is_juror).err(),
            Some(JuryError::BadGrant)
        );
    }
}
