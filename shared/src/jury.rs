//! The jury's side of a dossier: the jurors' review keys, the jurors' review documents and
//! what the jury releases to the candidate. Pure, like the rest of `shared`:
//! [`crate::sync::Replica`] holds a [`Jury`] and routes envelopes of the review and release
//! channels to it.
//!
//! **Review keys, one per juror.** Reviews are sealed with keys the candidate's devices and
//! advisors never hold (the dossier's key would let the candidate read the jurors'
//! annotations). Each juror device makes its own key per epoch of the dossier, seals its
//! review with it, and grants it to every juror of the dossier (itself included): the key
//! wrapped with age to each juror, in a grant signed by the juror who made it. The relay
//! keeps, per epoch and per granter, the first key id and the first grant to each juror (it
//! sees who granted whom, never a key). A juror reads another's review with the key that
//! juror granted. So a hostile juror can spoil nothing but its own review — garbage where
//! its grant should be leaves every other juror's key intact, which it never held — where a
//! single jury key made by whoever synced first let it spoil everyone's (the gap of
//! earlier versions). A juror seals nothing before its own grant came back from the relay
//! (the relay keeps the first key id of a granter and epoch: a device that lost its state
//! takes its key back from there). A juror added later is granted each juror's key at their
//! next sync; a grant also carries the granter's keys of earlier epochs, and the shared jury
//! keys of earlier versions it holds, so a newcomer reads the reviews written before it
//! came. A removal starts a new epoch, and with it new keys the removed juror never gets.

use std::collections::BTreeMap;

use automerge::ChangeHash;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use crate::envelope::DossierId;
use crate::keys::{self, ContentKey, DeviceSecret, KeyError, MemberKey};
use crate::membership::Member;
use crate::review::doc::{JuryDoc, JuryDocError};

/// Signed with a grant's body, so a grant cannot be taken for anything else. Version 1
/// granted the one jury key of an epoch; version 2 a juror's own key.
const GRANT_DOMAIN_V1: &[u8] = b"livret jury key grant v1\0";
const GRANT_DOMAIN: &[u8] = b"livret jury key grant v2\0";

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

/// What a version 1 grant held: the epoch's one jury key (and the earlier ones).
#[derive(Serialize, Deserialize)]
struct GrantBodyV1 {
    dossier: DossierId,
    epoch: u32,
    key_id: [u8; 16],
    key: [u8; 32],
    earlier: Vec<(u32, [u8; 32])>,
    by: MemberKey,
}

/// What a grant holds, signed by the juror whose key it is. Zeroed on drop.
#[derive(Serialize, Deserialize)]
struct GrantBody {
    dossier: DossierId,
    epoch: u32,
    key_id: [u8; 16],
    /// The granter's review key for `epoch`.
    key: [u8; 32],
    /// The granter's review keys of earlier epochs.
    earlier: Vec<(u32, [u8; 32])>,
    /// The shared jury keys of version 1 the granter holds, passed on so a newcomer reads
    /// the reviews sealed with them.
    shared: Vec<(u32, [u8; 32])>,
    by: MemberKey,
}

impl Drop for GrantBody {
    fn drop(&mut self) {
        self.key.zeroize();
        for (_, k) in self.earlier.iter_mut().chain(self.shared.iter_mut()) {
            k.zeroize();
        }
    }
}

impl Drop for GrantBodyV1 {
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

fn signed_message(domain: &[u8], body: &[u8]) -> Vec<u8> {
    [domain, body].concat()
}

/// A new random key id.
pub fn new_key_id() -> [u8; 16] {
    let mut id = [0u8; 16];
    getrandom::fill(&mut id).expect("the OS random generator is available");
    id
}

fn raw(keys: &BTreeMap<u32, ContentKey>, except: Option<u32>) -> Vec<(u32, [u8; 32])> {
    keys.iter()
        .filter(|(e, _)| Some(**e) != except)
        .map(|(e, k)| (*e, *k.bytes()))
        .collect()
}

/// Grants this juror's review key of `epoch` (with its earlier ones, `own`, and the shared
/// keys of version 1 it holds) to `recipients`: one age-sealed, signed grant each.
#[allow(clippy::too_many_arguments)]
pub fn grant(
    device: &DeviceSecret,
    dossier: DossierId,
    epoch: u32,
    key_id: [u8; 16],
    key: &ContentKey,
    own: &BTreeMap<u32, ContentKey>,
    shared: &BTreeMap<u32, ContentKey>,
    recipients: &[Member],
) -> Result<Grants, JuryError> {
    let body = GrantBody {
        dossier,
        epoch,
        key_id,
        key: *key.bytes(),
        earlier: raw(own, Some(epoch)),
        shared: raw(shared, None),
        by: device.signing_public(),
    };
    let body = Zeroizing::new(postcard::to_stdvec(&body).expect("grants serialise"));
    let signature = device.sign(&signed_message(GRANT_DOMAIN, &body)).to_vec();
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

/// What a grant gives.
pub struct GrantedKeys {
    /// The juror whose review keys these are; `None` for a version 1 grant, whose keys are
    /// the shared jury keys of their epochs.
    pub by: Option<MemberKey>,
    /// (epoch, key): the granter's keys, the grant's epoch first.
    pub keys: Vec<(u32, ContentKey)>,
    /// Shared jury keys of version 1, passed on.
    pub shared: Vec<(u32, ContentKey)>,
}

fn keys_of(raw: &[(u32, [u8; 32])]) -> Vec<(u32, ContentKey)> {
    raw.iter()
        .map(|(e, k)| (*e, ContentKey::from_random(*k)))
        .collect()
}

/// Opens a grant sealed to `device`: checked signed by the juror it names (`is_juror` says
/// whether a signing key was one of the dossier's jurors), for this dossier, epoch and key
/// id.
pub fn open_grant(
    device: &DeviceSecret,
    dossier: DossierId,
    grant: &JuryGrant,
    is_juror: impl Fn(&MemberKey) -> bool,
) -> Result<GrantedKeys, JuryError> {
    let plain = Zeroizing::new(device.open_own(&grant.wrapped)?);
    let signed: SignedGrant = postcard::from_bytes(&plain).map_err(|_| JuryError::BadGrant)?;
    let body_bytes = Zeroizing::new(signed.body);
    let signature: [u8; 64] = signed
        .signature
        .as_slice()
        .try_into()
        .map_err(|_| JuryError::BadGrant)?;
    let verified = |by: &MemberKey, domain: &[u8]| {
        keys::verify(by, &signed_message(domain, &body_bytes), &signature)
    };
    // The signature's domain says the version: a body is read as the version it was signed as.
    let (by, epoch, key_id, granted) = match postcard::from_bytes::<GrantBody>(&body_bytes) {
        Ok(body) if verified(&body.by, GRANT_DOMAIN) && body.dossier == dossier => {
            let mut keys = vec![(body.epoch, ContentKey::from_random(body.key))];
            keys.extend(keys_of(&body.earlier));
            let granted = GrantedKeys {
                by: Some(body.by),
                keys,
                shared: keys_of(&body.shared),
            };
            (body.by, body.epoch, body.key_id, granted)
        }
        _ => {
            let body: GrantBodyV1 =
                postcard::from_bytes(&body_bytes).map_err(|_| JuryError::BadGrant)?;
            if !verified(&body.by, GRANT_DOMAIN_V1) || body.dossier != dossier {
                return Err(JuryError::BadGrant);
            }
            let mut keys = vec![(body.epoch, ContentKey::from_random(body.key))];
            keys.extend(keys_of(&body.earlier));
            let granted = GrantedKeys {
                by: None,
                keys,
                shared: Vec::new(),
            };
            (body.by, body.epoch, body.key_id, granted)
        }
    };
    if epoch != grant.epoch || key_id != grant.key_id {
        return Err(JuryError::BadGrant);
    }
    if !is_juror(&by) {
        return Err(JuryError::NotGrantedByJuror);
    }
    Ok(granted)
}

/// A replica's jury state: the review keys (jurors only), each juror's review (jurors
/// only), each juror's release (everyone), review envelopes waiting for their key.
#[derive(Default)]
pub struct Jury {
    /// Each juror's review key per epoch, from their grants (this device's own included).
    pub(crate) keys: BTreeMap<(MemberKey, u32), ContentKey>,
    /// The shared jury keys of version 1, per epoch (reviews sealed before per-juror keys).
    pub(crate) shared: BTreeMap<u32, ContentKey>,
    /// This device's own key id per epoch, once its grant came back from the relay (what
    /// it seals with).
    pub(crate) key_ids: BTreeMap<u32, [u8; 16]>,
    /// The grants this device received, kept sealed (opened again on restore, like the
    /// membership log's wrapped keys).
    pub(crate) grants: Vec<JuryGrant>,
    pub(crate) reviews: BTreeMap<MemberKey, JuryDoc>,
    pub(crate) releases: BTreeMap<MemberKey, JuryDoc>,
    /// Review envelopes received before this juror held their key.
    pub(crate) locked: Vec<Vec<u8>>,
    /// Heads of this juror's own documents at the last flush.
    pub(crate) sealed_review: Vec<ChangeHash>,
    pub(crate) sealed_release: Vec<ChangeHash>,
}

impl Jury {
    /// The keys `writer` made, per epoch.
    pub(crate) fn keys_of(&self, writer: &MemberKey) -> BTreeMap<u32, ContentKey> {
        self.keys
            .iter()
            .filter(|((w, _), _)| w == writer)
            .map(|((_, e), k)| (*e, k.duplicate()))
            .collect()
    }

    /// The keys a review envelope of `writer` sealed for `epoch` may open with: the
    /// writer's own, then the shared key of version 1.
    pub(crate) fn openers(&self, writer: &MemberKey, epoch: u32) -> Vec<&ContentKey> {
        self.keys
            .get(&(*writer, epoch))
            .into_iter()
            .chain(self.shared.get(&epoch))
            .collect()
    }
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
            shared: BTreeMap::new(),
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
    use crate::review::{
        Annotation, Decision, Evidence, JurorReview, Level, Outcome, Rating, Target,
    };
    use crate::sync::Replica;

    /// Plays the relay's part for grants: per granter, the first key id of the epoch wins
    /// and the first grant to each juror is kept; a juror gets every grant sealed to it.
    #[derive(Default)]
    struct GrantDesk {
        key_ids: BTreeMap<MemberKey, [u8; 16]>,
        grants: BTreeMap<(MemberKey, MemberKey), JuryGrant>,
    }

    impl GrantDesk {
        fn put(&mut self, by: MemberKey, epoch: u32, id: [u8; 16], wraps: Grants) {
            if *self.key_ids.entry(by).or_insert(id) != id {
                return;
            }
            for (to, wrapped) in wraps {
                self.grants.entry((by, to)).or_insert(JuryGrant {
                    epoch,
                    key_id: id,
                    wrapped,
                });
            }
        }

        fn mine(&self, me: &MemberKey) -> Vec<JuryGrant> {
            self.grants
                .iter()
                .filter(|((_, to), _)| to == me)
                .map(|(_, g)| g.clone())
                .collect()
        }

        fn sync(&mut self, device: &DeviceSecret, replica: &mut Replica) {
            let me = device.signing_public();
            replica.accept_jury_grants(device, &self.mine(&me)).unwrap();
            let granted: Vec<MemberKey> = self
                .grants
                .keys()
                .filter(|(by, _)| *by == me)
                .map(|(_, to)| *to)
                .collect();
            let to_send = replica
                .jury_grants_to_send(device, self.key_ids.get(&me).copied(), &granted)
                .unwrap();
            if let Some((epoch, id, wraps)) = to_send {
                self.put(me, epoch, id, wraps);
            }
            replica.accept_jury_grants(device, &self.mine(&me)).unwrap();
        }
    }

    /// A dossier created by `owner` with `jurors` added as jurors: the owner's replica and
    /// the membership log a juror joins with.
    fn with_jurors(
        owner: &DeviceSecret,
        dossier: u8,
        jurors: &[&DeviceSecret],
    ) -> (Replica, Vec<membership::SignedEntry>) {
        let keys = EpochKeys::generate();
        let (mut o, create) =
            Replica::create(owner, DossierId([dossier; 16]), keys.duplicate()).unwrap();
        let mut log = vec![create];
        for j in jurors {
            let add = membership::add(o.membership(), owner, &j.id(), Role::Juror, &keys).unwrap();
            o.apply_membership(owner, std::slice::from_ref(&add))
                .unwrap();
            log.push(add);
        }
        (o, log)
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
        let (mut o, log) = with_jurors(&owner, 3, &[&a, &b]);
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
        // Each makes its own key and grants it to both; A takes B's at its next sync.
        desk.sync(&a, &mut ra);
        desk.sync(&b, &mut rb);
        desk.sync(&a, &mut ra);
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
            reserve: String::new(),
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

    /// A juror added after the reviews were written is granted the writer's key when the
    /// writer syncs, and then reads the reviews that waited for it.
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
        assert!(rc.has_jury_key(), "its own key, confirmed");
        assert_eq!(rc.locked_reviews(), 1, "A has not granted its key yet");
        // Garbage where a grant should be is left aside; the sync goes on.
        let garbage = JuryGrant {
            epoch: 1,
            key_id: [1; 16],
            wrapped: vec![7; 300],
        };
        assert_eq!(rc.accept_jury_grants(&c, &[garbage]).unwrap(), 0);
        assert_eq!(rc.locked_reviews(), 1);
        ra.apply_membership(&a, &[add_c]).unwrap();
        desk.sync(&a, &mut ra);
        desk.sync(&c, &mut rc);
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

    /// A grant opens for its recipient only, gives the granter's earlier keys and the shared
    /// keys of version 1 too, and is refused when altered, replayed for another dossier or
    /// epoch, or made by a non-juror; a version 1 grant still opens, as a shared key.
    #[test]
    fn grants_open_for_their_recipient_and_refuse_forgeries() {
        let a = DeviceSecret::generate();
        let b = DeviceSecret::generate();
        let outsider = DeviceSecret::generate();
        let dossier = DossierId([4; 16]);
        let key = ContentKey::from_random([7; 32]);
        let earlier = BTreeMap::from([(1, ContentKey::from_random([1; 32]))]);
        let shared = BTreeMap::from([(1, ContentKey::from_random([5; 32]))]);
        let id = [9; 16];
        let wraps = grant(
            &a,
            dossier,
            2,
            id,
            &key,
            &earlier,
            &shared,
            &[juror(&a), juror(&b)],
        )
        .unwrap();
        assert_eq!(wraps.len(), 2);
        let for_b = JuryGrant {
            epoch: 2,
            key_id: id,
            wrapped: wraps[1].1.clone(),
        };
        let jurors = [a.signing_public(), b.signing_public()];
        let is_juror = |k: &MemberKey| jurors.contains(k);
        let granted = open_grant(&b, dossier, &for_b, is_juror).unwrap();
        let raw = |keys: &[(u32, ContentKey)]| {
            keys.iter()
                .map(|(e, k)| (*e, *k.bytes()))
                .collect::<Vec<_>>()
        };
        assert_eq!(granted.by, Some(a.signing_public()));
        assert_eq!(raw(&granted.keys), vec![(2, [7; 32]), (1, [1; 32])]);
        assert_eq!(raw(&granted.shared), vec![(1, [5; 32])]);
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
        signed.signature = outsider
            .sign(&signed_message(GRANT_DOMAIN, &signed.body))
            .to_vec();
        let forged = JuryGrant {
            wrapped: keys::seal_to(&b.id(), &postcard::to_stdvec(&signed).unwrap()).unwrap(),
            ..for_b.clone()
        };
        assert_eq!(
            open_grant(&b, dossier, &forged, is_juror).err(),
            Some(JuryError::BadGrant)
        );
        // A version 1 grant (as earlier versions made them): the shared key of its epoch.
        let v1 = GrantBodyV1 {
            dossier,
            epoch: 1,
            key_id: id,
            key: [3; 32],
            earlier: Vec::new(),
            by: a.signing_public(),
        };
        let body = postcard::to_stdvec(&v1).unwrap();
        let signed = SignedGrant {
            signature: a.sign(&signed_message(GRANT_DOMAIN_V1, &body)).to_vec(),
            body,
        };
        let old = JuryGrant {
            epoch: 1,
            key_id: id,
            wrapped: keys::seal_to(&b.id(), &postcard::to_stdvec(&signed).unwrap()).unwrap(),
        };
        let granted = open_grant(&b, dossier, &old, is_juror).unwrap();
        assert_eq!(granted.by, None);
        assert_eq!(raw(&granted.keys), vec![(1, [3; 32])]);
    }

    /// The gap of the single jury key: a hostile juror who synced first made the key and
    /// granted garbage to the others, so no other juror ever sealed or read a review. With a
    /// key per juror, its garbage spoils nothing but its own review.
    #[test]
    fn a_hostile_juror_cannot_spoil_the_other_jurors_keys() {
        let owner = DeviceSecret::generate();
        let (a, b, h) = (
            DeviceSecret::generate(),
            DeviceSecret::generate(),
            DeviceSecret::generate(),
        );
        let (_, log) = with_jurors(&owner, 6, &[&h, &a, &b]);
        let mut desk = GrantDesk::default();
        // The hostile juror syncs first and hands garbage to everyone, itself included.
        let garbage: Grants = [&h, &a, &b]
            .iter()
            .map(|d| (d.signing_public(), vec![0x55; 400]))
            .collect();
        desk.put(h.signing_public(), 1, [0xee; 16], garbage);
        let mut ra = Replica::join(&a, log.clone()).unwrap();
        let mut rb = Replica::join(&b, log).unwrap();
        for (r, name) in [(&mut ra, "Juré A"), (&mut rb, "Juré B")] {
            r.my_review().unwrap().set_name(name);
        }
        desk.sync(&a, &mut ra);
        desk.sync(&b, &mut rb);
        desk.sync(&a, &mut ra);
        assert!(ra.has_jury_key() && rb.has_jury_key());
        let from_a = ra.flush_jury(&a, random_nonce).unwrap();
        let from_b = rb.flush_jury(&b, random_nonce).unwrap();
        ra.receive(&from_b).unwrap();
        rb.receive(&from_a).unwrap();
        for r in [&ra, &rb] {
            let mut names: Vec<String> = r.reviews().into_iter().map(|(_, v)| v.juror).collect();
            names.sort();
            assert_eq!(names, ["Juré A", "Juré B"]);
        }
    }

    /// A juror on two devices is one juror: the second device, added as the first's, reads
    /// the review written on the first and writes on in it (a review is recoverable from
    /// another device), both devices' writes merge — even made before either saw the other's —
    /// and the jury counts one juror, not two.
    #[test]
    fn a_jurors_two_devices_write_one_review_and_count_once() {
        let owner = DeviceSecret::generate();
        let (a1, a2, b) = (
            DeviceSecret::generate(),
            DeviceSecret::generate(),
            DeviceSecret::generate(),
        );
        let (mut o, mut log) = with_jurors(&owner, 7, &[&a1, &b]);
        let add_a2 = o
            .add_jurors_device(&owner, &a2.id(), &a1.signing_public())
            .unwrap();
        log.push(add_a2);
        // Only another juror's device may be added so, and only once.
        assert!(
            o.add_jurors_device(&owner, &a2.id(), &a1.signing_public())
                .is_err()
        );
        assert!(
            o.add_jurors_device(
                &owner,
                &DeviceSecret::generate().id(),
                &owner.signing_public()
            )
            .is_err()
        );
        let mut r1 = Replica::join(&a1, log.clone()).unwrap();
        let mut r2 = Replica::join(&a2, log.clone()).unwrap();
        let mut rb = Replica::join(&b, log).unwrap();
        assert_eq!(r2.my_person(), a1.signing_public());
        let rate = |r: &mut Replica, code: &str, level: u8| {
            r.my_review().unwrap().rate(
                code,
                &Rating {
                    level: Level::from_score(level).unwrap(),
                    justification: format!("{code} vu"),
                },
            );
        };
        // Both devices write before either saw the other's: each makes the ratings' map.
        r1.my_review().unwrap().set_name("Alice Durand");
        rate(&mut r1, "C1", 3);
        rate(&mut r2, "C2", 2);
        rate(&mut rb, "C1", 1);
        let mut desk = GrantDesk::default();
        for _ in 0..2 {
            desk.sync(&a1, &mut r1);
            desk.sync(&a2, &mut r2);
            desk.sync(&b, &mut rb);
        }
        let sent: Vec<Vec<u8>> = [
            r1.flush_jury(&a1, random_nonce).unwrap(),
            r2.flush_jury(&a2, random_nonce).unwrap(),
            rb.flush_jury(&b, random_nonce).unwrap(),
        ]
        .concat();
        assert_eq!(sent.len(), 3);
        for r in [&mut r1, &mut r2, &mut rb] {
            let got = r.receive(&sent).unwrap();
            assert!(got.quarantined.is_empty() && r.locked_reviews() == 0);
        }
        for r in [&r1, &r2, &rb] {
            let reviews = r.reviews();
            assert_eq!(reviews.len(), 2, "Alice once, Bruno once");
            let alice = &reviews
                .iter()
                .find(|(k, _)| *k == a1.signing_public())
                .unwrap()
                .1;
            assert_eq!(alice.juror, "Alice Durand");
            assert_eq!(alice.ratings["C1"].level, Level::Maitrise);
            assert_eq!(alice.ratings["C2"].level, Level::Acquis);
        }
        // The second device writes on in the person's review: its own changes only are
        // sealed, the first device reads them.
        rate(&mut r2, "C3", 0);
        let more = r2.flush_jury(&a2, random_nonce).unwrap();
        assert_eq!(more.len(), 1);
        r1.receive(&more).unwrap();
        let alice = r1.my_review().unwrap().review();
        assert_eq!(alice.ratings.len(), 3);
        // Two devices, one vote: C1 rated 3 by Alice and 1 by Bruno is not a majority.
        let all: Vec<JurorReview> = r1.reviews().into_iter().map(|(_, r)| r).collect();
        let referentiel = crate::referentiel::import_text(
            "Bloc de compétences 1 : Gérer\nC1. Gérer les stocks\nC2. Commander\nC3. Livrer\n",
        )
        .unwrap()
        .referentiel;
        assert!(!Decision::propose(&referentiel, &all)["C1"]);
        // Everything survives a save and a restore.
        let saved = r2.save();
        let back = Replica::restore(&a2, &saved).unwrap();
        assert_eq!(back.reviews().len(), 2);
    }
}
