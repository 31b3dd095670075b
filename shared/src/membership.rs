//! Who may read and write a dossier: a linear log of entries signed by the owner (the
//! candidate). Each entry names the key epoch and carries the epoch's content key wrapped with
//! age to each member who gets it. The relay folds the same log to enforce roles by signing
//! key; it can check signatures and who holds which role, never open a wrapped key.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::Digest;

use crate::envelope::{Channel, DossierId};
use crate::keys::{self, ContentKey, DeviceId, DeviceSecret, EpochKeys, KeyError, MemberKey};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    /// The candidate, on one of their devices (or their paper recovery key): writes the
    /// dossier, changes membership. A candidate has as many owner keys as devices.
    Owner,
    /// Co-edits the dossier; cannot change membership.
    Advisor,
    /// Reads the dossier, writes only review documents.
    Juror,
}

impl Role {
    /// Whether this role may write envelopes on `channel`.
    pub fn may_write(self, channel: Channel) -> bool {
        match channel {
            Channel::Dossier => matches!(self, Role::Owner | Role::Advisor),
            Channel::Review | Channel::Release => matches!(self, Role::Juror),
        }
    }

    /// Whether this role gets the team key: reads and writes the comments that the
    /// candidate and advisors exchange, which jurors never see.
    pub fn reads_team(self) -> bool {
        matches!(self, Role::Owner | Role::Advisor)
    }

    /// The word [`Role::parse`] reads back.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Advisor => "advisor",
            Role::Juror => "juror",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "owner" | "candidat" => Some(Role::Owner),
            "advisor" | "accompagnateur" => Some(Role::Advisor),
            "juror" | "jure" | "juré" => Some(Role::Juror),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub signing: MemberKey,
    pub recipient: String,
    pub role: Role,
}

impl Member {
    /// The member's device identity (what keys are wrapped to, what safety codes come from).
    pub fn id(&self) -> DeviceId {
        DeviceId {
            signing: self.signing,
            recipient: self.recipient.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    Create {
        owner: Member,
    },
    Add {
        member: Member,
    },
    /// Removes a member and starts a new epoch (new content key for those who remain).
    Remove {
        signing: MemberKey,
    },
    /// Adds another device of a juror already on the dossier (`of`, one of that juror's
    /// devices): a juror of its own for keys and signatures, the same person for the review
    /// — one juror, however many devices, counts once, and each device writes the person's
    /// review and reads what the others wrote.
    AddDevice {
        member: Member,
        of: MemberKey,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrappedKey {
    pub member: MemberKey,
    pub epoch: u32,
    pub wrapped: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryBody {
    pub dossier: DossierId,
    pub seq: u64,
    /// SHA-256 of the previous entry's bytes (zeros for the first).
    pub prev: [u8; 32],
    pub epoch: u32,
    pub op: Op,
    pub keys: Vec<WrappedKey>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedEntry {
    pub body: EntryBody,
    pub signer: MemberKey,
    pub signature: Vec<u8>,
}

const DOMAIN: &[u8] = b"livret-membership-v1";

fn signed_bytes(body: &EntryBody) -> Vec<u8> {
    let mut out = DOMAIN.to_vec();
    out.extend(postcard::to_stdvec(body).expect("entries serialise"));
    out
}

impl SignedEntry {
    fn sign(body: EntryBody, owner: &DeviceSecret) -> SignedEntry {
        let signature = owner.sign(&signed_bytes(&body)).to_vec();
        SignedEntry {
            body,
            signer: owner.signing_public(),
            signature,
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        postcard::to_stdvec(self).expect("entries serialise")
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<SignedEntry, MembershipError> {
        if bytes.len() > 1024 * 1024 {
            return Err(MembershipError::Malformed);
        }
        postcard::from_bytes(bytes).map_err(|_| MembershipError::Malformed)
    }

    pub fn hash(&self) -> [u8; 32] {
        sha2::Sha256::digest(self.to_bytes()).into()
    }

    fn signature_ok(&self) -> bool {
        let Ok(sig): Result<[u8; 64], _> = self.signature.as_slice().try_into() else {
            return false;
        };
        keys::verify(&self.signer, &signed_bytes(&self.body), &sig)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MembershipError {
    #[error("entrée d'adhésion malformée")]
    Malformed,
    #[error("signature d'adhésion invalide")]
    BadSignature,
    #[error("seul le candidat peut modifier les membres")]
    NotOwner,
    #[error("le dossier doit garder au moins un appareil du candidat")]
    LastOwner,
    #[error("entrée hors séquence (attendu {expected}, reçu {got})")]
    OutOfSequence { expected: u64, got: u64 },
    #[error("chaînage rompu avec l'entrée précédente")]
    BrokenChain,
    #[error("époque de clé incohérente")]
    WrongEpoch,
    #[error("membre inconnu")]
    UnknownMember,
    #[error("clé manquante pour un membre")]
    MissingKey,
    #[error("entrée pour un autre dossier")]
    OtherDossier,
    #[error(
        "ce membre lit les commentaires : pour lui retirer ce droit, retirez-le puis \
         invitez-le de nouveau (une nouvelle clé est alors créée)"
    )]
    Demotion,
    #[error(
        "un autre appareil d'un juré s'ajoute comme juré, à côté d'un juré du dossier, et ne \
         peut pas être déjà membre"
    )]
    NotAJurorsDevice,
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// The log folded: members, roles, current epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub dossier: DossierId,
    /// The device that created the dossier (it signs the first entry). Any owner member may
    /// sign later entries: the candidate's other devices and recovery key are owners too.
    pub owner: MemberKey,
    pub members: BTreeMap<MemberKey, Member>,
    pub epoch: u32,
    pub next_seq: u64,
    pub head: [u8; 32],
    /// Every wrapped key seen, by (member, epoch).
    wrapped: BTreeMap<(MemberKey, u32), Vec<u8>>,
    /// A juror's other devices → the device the person was first added with (kept after a
    /// removal: what a device wrote stays the person's).
    persons: BTreeMap<MemberKey, MemberKey>,
}

impl Membership {
    /// Folds a whole log; the first entry must create the dossier.
    pub fn from_log(entries: &[SignedEntry]) -> Result<Membership, MembershipError> {
        let first = entries.first().ok_or(MembershipError::Malformed)?;
        let mut state = Membership::genesis(first)?;
        for e in &entries[1..] {
            state.apply(e)?;
        }
        Ok(state)
    }

    /// Checks and applies the creating entry.
    pub fn genesis(entry: &SignedEntry) -> Result<Membership, MembershipError> {
        let Op::Create { owner } = &entry.body.op else {
            return Err(MembershipError::Malformed);
        };
        if entry.body.seq != 0 || entry.body.prev != [0; 32] || entry.body.epoch != 1 {
            return Err(MembershipError::OutOfSequence {
                expected: 0,
                got: entry.body.seq,
            });
        }
        if entry.signer != owner.signing || owner.role != Role::Owner {
            return Err(MembershipError::NotOwner);
        }
        if !entry.signature_ok() {
            return Err(MembershipError::BadSignature);
        }
        let mut state = Membership {
            dossier: entry.body.dossier,
            owner: owner.signing,
            members: BTreeMap::from([(owner.signing, owner.clone())]),
            epoch: 1,
            next_seq: 1,
            head: entry.hash(),
            wrapped: BTreeMap::new(),
            persons: BTreeMap::new(),
        };
        state.take_keys(entry)?;
        Ok(state)
    }

    /// Checks one more entry against the state and applies it.
    pub fn apply(&mut self, entry: &SignedEntry) -> Result<(), MembershipError> {
        let b = &entry.body;
        if b.dossier != self.dossier {
            return Err(MembershipError::OtherDossier);
        }
        if b.seq != self.next_seq {
            return Err(MembershipError::OutOfSequence {
                expected: self.next_seq,
                got: b.seq,
            });
        }
        if b.prev != self.head {
            return Err(MembershipError::BrokenChain);
        }
        if !self.is_owner(&entry.signer) {
            return Err(MembershipError::NotOwner);
        }
        if !entry.signature_ok() {
            return Err(MembershipError::BadSignature);
        }
        let mut next = self.clone();
        match &b.op {
            Op::Create { .. } => return Err(MembershipError::Malformed),
            Op::Add { member } => {
                if b.epoch != self.epoch {
                    return Err(MembershipError::WrongEpoch);
                }
                // It already holds this epoch's team key: a new role without it would be a
                // pretence. Taking it away takes a removal (a new epoch).
                if self.role_of(&member.signing).is_some_and(Role::reads_team)
                    && !member.role.reads_team()
                {
                    return Err(MembershipError::Demotion);
                }
                next.members.insert(member.signing, member.clone());
            }
            Op::AddDevice { member, of } => {
                if b.epoch != self.epoch {
                    return Err(MembershipError::WrongEpoch);
                }
                // Another device of a juror, as a juror; never a way in for anyone else, nor
                // a way to make a member someone else's device afterwards.
                if member.role != Role::Juror
                    || self.role_of(of) != Some(Role::Juror)
                    || self.members.contains_key(&member.signing)
                    || self.persons.contains_key(&member.signing)
                {
                    return Err(MembershipError::NotAJurorsDevice);
                }
                next.members.insert(member.signing, member.clone());
                next.persons.insert(member.signing, self.person_of(of));
            }
            Op::Remove { signing } => {
                if b.epoch != self.epoch + 1 {
                    return Err(MembershipError::WrongEpoch);
                }
                if next.members.remove(signing).is_none() {
                    return Err(MembershipError::UnknownMember);
                }
                if !next.members.values().any(|m| m.role == Role::Owner) {
                    return Err(MembershipError::LastOwner);
                }
                next.epoch = b.epoch;
            }
        }
        next.take_keys(entry)?;
        next.next_seq += 1;
        next.head = entry.hash();
        *self = next;
        Ok(())
    }

    fn take_keys(&mut self, entry: &SignedEntry) -> Result<(), MembershipError> {
        for k in &entry.body.keys {
            let fits = match &entry.body.op {
                // A newcomer joins a history sealed with every epoch's key since the dossier
                // began: an addition may carry the earlier epochs' keys, to that member only.
                Op::Add { member } | Op::AddDevice { member, .. } => {
                    k.epoch >= 1 && k.epoch <= entry.body.epoch && k.member == member.signing
                }
                Op::Create { .. } | Op::Remove { .. } => k.epoch == entry.body.epoch,
            };
            if !fits {
                return Err(MembershipError::WrongEpoch);
            }
            self.wrapped.insert((k.member, k.epoch), k.wrapped.clone());
        }
        // Every member must be able to read the current epoch.
        for m in self.members.keys() {
            if !self.wrapped.contains_key(&(*m, self.epoch)) {
                return Err(MembershipError::MissingKey);
            }
        }
        Ok(())
    }

    pub fn role_of(&self, signing: &MemberKey) -> Option<Role> {
        self.members.get(signing).map(|m| m.role)
    }

    /// The person a device belongs to: for a juror's other device, the device the juror was
    /// first added with; for any other key, itself.
    pub fn person_of(&self, signing: &MemberKey) -> MemberKey {
        self.persons.get(signing).copied().unwrap_or(*signing)
    }

    /// The devices of the person `signing` belongs to that are members now.
    pub fn devices_of(&self, signing: &MemberKey) -> Vec<MemberKey> {
        let person = self.person_of(signing);
        self.members
            .keys()
            .filter(|k| self.person_of(k) == person)
            .copied()
            .collect()
    }

    /// Whether `member` was given the key of `epoch` (wrapped to it in some entry).
    pub fn holds_key(&self, member: &MemberKey, epoch: u32) -> bool {
        self.wrapped.contains_key(&(*member, epoch))
    }

    /// Current members lacking an earlier epoch's key that `owner` holds: added after a
    /// removal by a version of Livret that wrapped only the current epoch's key, they cannot
    /// read what was sealed before (see [`add`], which now wraps every epoch).
    pub fn members_missing_keys(&self, owner: &MemberKey) -> Vec<Member> {
        let held: Vec<u32> = (1..self.epoch)
            .filter(|e| self.holds_key(owner, *e))
            .collect();
        self.members
            .values()
            .filter(|m| m.signing != *owner)
            .filter(|m| held.iter().any(|e| !self.holds_key(&m.signing, *e)))
            .cloned()
            .collect()
    }

    /// Whether `signing` is one of the candidate's keys (a device or the recovery key).
    pub fn is_owner(&self, signing: &MemberKey) -> bool {
        self.role_of(signing) == Some(Role::Owner)
    }

    /// The candidate's keys: their devices and recovery key.
    pub fn owners(&self) -> impl Iterator<Item = &Member> {
        self.members.values().filter(|m| m.role == Role::Owner)
    }

    /// The content keys this device can open, by epoch.
    pub fn keys_for(&self, device: &DeviceSecret) -> BTreeMap<u32, ContentKey> {
        self.unwrapped_for(device)
            .map(|(epoch, (content, _))| (epoch, content))
            .collect()
    }

    /// The team keys this device can open, by epoch (none for a juror).
    pub fn team_keys_for(&self, device: &DeviceSecret) -> BTreeMap<u32, ContentKey> {
        self.unwrapped_for(device)
            .filter_map(|(epoch, (_, team))| team.map(|t| (epoch, t)))
            .collect()
    }

    /// The keys of one epoch, as an owner needs them to wrap that epoch to a newcomer.
    pub fn epoch_keys_for(&self, device: &DeviceSecret, epoch: u32) -> Option<EpochKeys> {
        let wrapped = self.wrapped.get(&(device.signing_public(), epoch))?;
        let (content, team) = device.unwrap_keys(wrapped).ok()?;
        Some(EpochKeys { content, team })
    }

    fn unwrapped_for<'a>(
        &'a self,
        device: &'a DeviceSecret,
    ) -> impl Iterator<Item = (u32, (ContentKey, Option<ContentKey>))> + 'a {
        let me = device.signing_public();
        self.wrapped
            .iter()
            .filter(move |((m, _), _)| *m == me)
            .filter_map(|((_, epoch), w)| device.unwrap_keys(w).ok().map(|k| (*epoch, k)))
    }
}

/// Every role `member` held, by epoch, along a (checked) log: what an envelope it sealed for
/// an epoch may have been written as. The current role is not enough: a juror made an
/// advisor later wrote reviews as a juror, and those stay valid for every later reader.
pub fn roles_held(log: &[SignedEntry], member: &MemberKey) -> Vec<(u32, Role)> {
    let mut held = Vec::new();
    let mut epoch = 1;
    let mut role = None;
    for entry in log {
        match &entry.body.op {
            Op::Create { owner }
            | Op::Add { member: owner }
            | Op::AddDevice { member: owner, .. }
                if &owner.signing == member =>
            {
                role = Some(owner.role);
            }
            Op::Remove { signing } => {
                epoch = entry.body.epoch;
                if signing == member {
                    role = None;
                }
            }
            Op::Create { .. } | Op::Add { .. } | Op::AddDevice { .. } => {}
        }
        if let Some(r) = role
            && !held.contains(&(epoch, r))
        {
            held.push((epoch, r));
        }
    }
    held
}

/// Where a key stands along a (checked) membership log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// The log never names it.
    Absent,
    /// A member; `after_removal`: added again after a removal.
    Member { after_removal: bool },
    /// The last entry naming it removes it: a key that was an owner at that point of the
    /// (checked) log signed its removal.
    Removed,
}

/// Where `member` stands along `log`: what decides whether a device wipes its copy (only
/// [`Standing::Removed`], an owner's signed removal — never a log that merely lacks it).
pub fn standing(log: &[SignedEntry], member: &MemberKey) -> Standing {
    let mut standing = Standing::Absent;
    for entry in log {
        match &entry.body.op {
            Op::Create { owner: added }
            | Op::Add { member: added }
            | Op::AddDevice { member: added, .. }
                if &added.signing == member =>
            {
                standing = Standing::Member {
                    after_removal: matches!(
                        standing,
                        Standing::Removed
                            | Standing::Member {
                                after_removal: true
                            }
                    ),
                };
            }
            Op::Remove { signing } if signing == member => standing = Standing::Removed,
            _ => {}
        }
    }
    standing
}

/// The number of the last entry of `log` that names `member` (adds or removes it).
pub fn last_entry_naming(log: &[SignedEntry], member: &MemberKey) -> Option<u64> {
    log.iter()
        .rev()
        .find(|entry| match &entry.body.op {
            Op::Create { owner: m } | Op::Add { member: m } | Op::AddDevice { member: m, .. } => {
                &m.signing == member
            }
            Op::Remove { signing } => signing == member,
        })
        .map(|entry| entry.body.seq)
}

/// The owner's side: entries to write.
pub fn create(
    dossier: DossierId,
    owner: &DeviceSecret,
    keys: &EpochKeys,
) -> Result<SignedEntry, MembershipError> {
    let id = owner.id();
    let body = EntryBody {
        dossier,
        seq: 0,
        prev: [0; 32],
        epoch: 1,
        op: Op::Create {
            owner: Member {
                signing: id.signing,
                recipient: id.recipient.clone(),
                role: Role::Owner,
            },
        },
        keys: vec![WrappedKey {
            member: id.signing,
            epoch: 1,
            wrapped: keys.wrap_for(&id, true)?,
        }],
    };
    Ok(SignedEntry::sign(body, owner))
}

/// Adds `member` with `role`, wrapping the current epoch's keys to it (the team key only to
/// the candidate's devices and advisors), and the keys of every earlier epoch `owner` holds:
/// the history the newcomer joins was sealed with them (before a removal, or a jury's
/// release of an earlier epoch), and without them it could not open the dossier.
pub fn add(
    state: &Membership,
    owner: &DeviceSecret,
    member: &DeviceId,
    role: Role,
    current: &EpochKeys,
) -> Result<SignedEntry, MembershipError> {
    if !state.is_owner(&owner.signing_public()) {
        return Err(MembershipError::NotOwner);
    }
    if state.role_of(&member.signing).is_some_and(Role::reads_team) && !role.reads_team() {
        return Err(MembershipError::Demotion);
    }
    let keys = earlier_keys(state, owner, member, role)?
        .into_iter()
        .chain([WrappedKey {
            member: member.signing,
            epoch: state.epoch,
            wrapped: current.wrap_for(member, role.reads_team())?,
        }])
        .collect();
    Ok(SignedEntry::sign(
        addition(state, member, role, keys),
        owner,
    ))
}

/// Adds `member` as another device of the juror whose device `of` is: a juror, with the
/// keys of every epoch `owner` holds, like [`add`].
pub fn add_device(
    state: &Membership,
    owner: &DeviceSecret,
    member: &DeviceId,
    of: &MemberKey,
    current: &EpochKeys,
) -> Result<SignedEntry, MembershipError> {
    if !state.is_owner(&owner.signing_public()) {
        return Err(MembershipError::NotOwner);
    }
    if state.role_of(of) != Some(Role::Juror) || state.role_of(&member.signing).is_some() {
        return Err(MembershipError::NotAJurorsDevice);
    }
    let keys = earlier_keys(state, owner, member, Role::Juror)?
        .into_iter()
        .chain([WrappedKey {
            member: member.signing,
            epoch: state.epoch,
            wrapped: current.wrap_for(member, false)?,
        }])
        .collect();
    let mut body = addition(state, member, Role::Juror, keys);
    let Op::Add { member } = body.op else {
        unreachable!("an addition adds")
    };
    body.op = Op::AddDevice { member, of: *of };
    Ok(SignedEntry::sign(body, owner))
}

/// The body of an entry adding `member` with `role` at the end of the log, carrying `keys`.
fn addition(state: &Membership, member: &DeviceId, role: Role, keys: Vec<WrappedKey>) -> EntryBody {
    EntryBody {
        dossier: state.dossier,
        seq: state.next_seq,
        prev: state.head,
        epoch: state.epoch,
        op: Op::Add {
            member: Member {
                signing: member.signing,
                recipient: member.recipient.clone(),
                role,
            },
        },
        keys,
    }
}

/// The keys of the epochs before the current one that `owner` can open, wrapped to
/// `member` (an owner added after a removal by an older version may lack some: it gives
/// what it has, another owner [`Membership::members_missing_keys`] the rest).
fn earlier_keys(
    state: &Membership,
    owner: &DeviceSecret,
    member: &DeviceId,
    role: Role,
) -> Result<Vec<WrappedKey>, MembershipError> {
    let mut keys = Vec::new();
    for epoch in 1..state.epoch {
        if let Some(old) = state.epoch_keys_for(owner, epoch) {
            keys.push(WrappedKey {
                member: member.signing,
                epoch,
                wrapped: old.wrap_for(member, role.reads_team())?,
            });
        }
    }
    Ok(keys)
}

/// An addition as the version before issue 19 wrote it (the current epoch's key only): what
/// dossiers made then hold, for the tests of their repair.
#[cfg(test)]
pub(crate) fn add_current_epoch_only(
    state: &Membership,
    owner: &DeviceSecret,
    member: &DeviceId,
    current: &EpochKeys,
) -> SignedEntry {
    let role = state.role_of(&member.signing).unwrap_or(Role::Advisor);
    let keys = vec![WrappedKey {
        member: member.signing,
        epoch: state.epoch,
        wrapped: current.wrap_for(member, role.reads_team()).unwrap(),
    }];
    SignedEntry::sign(addition(state, member, role, keys), owner)
}

/// Removes a member: a new epoch whose keys go to everyone else.
pub fn remove(
    state: &Membership,
    owner: &DeviceSecret,
    member: &MemberKey,
    new: &EpochKeys,
) -> Result<SignedEntry, MembershipError> {
    if !state.is_owner(&owner.signing_public()) {
        return Err(MembershipError::NotOwner);
    }
    let epoch = state.epoch + 1;
    let mut keys = Vec::new();
    for (signing, m) in state.members.iter().filter(|(s, _)| *s != member) {
        keys.push(WrappedKey {
            member: *signing,
            epoch,
            wrapped: new.wrap_for(&m.id(), m.role.reads_team())?,
        });
    }
    let body = EntryBody {
        dossier: state.dossier,
        seq: state.next_seq,
        prev: state.head,
        epoch,
        op: Op::Remove { signing: *member },
        keys,
    };
    Ok(SignedEntry::sign(body, owner))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standing_follows_the_last_entry_naming_a_key() {
        let owner = DeviceSecret::generate();
        let advisor = DeviceSecret::generate();
        let stranger = DeviceSecret::generate();
        let keys = EpochKeys::generate();
        let mut log = vec![create(DossierId([9; 16]), &owner, &keys).unwrap()];
        let state = |log: &[SignedEntry]| Membership::from_log(log).unwrap();
        let me = advisor.signing_public();
        assert_eq!(standing(&log, &me), Standing::Absent);
        log.push(add(&state(&log), &owner, &advisor.id(), Role::Advisor, &keys).unwrap());
        assert_eq!(
            standing(&log, &me),
            Standing::Member {
                after_removal: false
            }
        );
        log.push(remove(&state(&log), &owner, &me, &EpochKeys::generate()).unwrap());
        assert_eq!(standing(&log, &me), Standing::Removed);
        let current = state(&log)
            .epoch_keys_for(&owner, state(&log).epoch)
            .unwrap();
        log.push(add(&state(&log), &owner, &advisor.id(), Role::Advisor, &current).unwrap());
        assert_eq!(
            standing(&log, &me),
            Standing::Member {
                after_removal: true
            }
        );
        assert_eq!(standing(&log, &stranger.signing_public()), Standing::Absent);
        assert_eq!(
            standing(&log, &owner.signing_public()),
            Standing::Member {
                after_removal: false
            }
        );
    }

    #[test]
    fn owner_adds_and_removes_members_across_epochs() {
        let owner = DeviceSecret::generate();
        let advisor = DeviceSecret::generate();
        let juror = DeviceSecret::generate();
        let k1 = EpochKeys::generate();
        let dossier = DossierId([1; 16]);
        let mut log = vec![create(dossier, &owner, &k1).unwrap()];
        let state = Membership::from_log(&log).unwrap();
        log.push(add(&state, &owner, &advisor.id(), Role::Advisor, &k1).unwrap());
        let state = Membership::from_log(&log).unwrap();
        log.push(add(&state, &owner, &juror.id(), Role::Juror, &k1).unwrap());
        let state = Membership::from_log(&log).unwrap();
        assert_eq!(state.role_of(&juror.signing_public()), Some(Role::Juror));
        assert_eq!(state.keys_for(&advisor).len(), 1);
        // The team key (comments) goes to the candidate and advisors, never to a juror.
        assert_eq!(state.team_keys_for(&advisor).len(), 1);
        assert_eq!(state.team_keys_for(&owner).len(), 1);
        assert!(state.team_keys_for(&juror).is_empty());
        assert!(state.epoch_keys_for(&juror, 1).unwrap().team.is_none());
        // An advisor made a juror would keep the team key it holds: refused, on both sides.
        assert_eq!(
            add(&state, &owner, &advisor.id(), Role::Juror, &k1).unwrap_err(),
            MembershipError::Demotion
        );
        let mut forged = add(&state, &owner, &juror.id(), Role::Juror, &k1).unwrap();
        forged.body.op = Op::Add {
            member: Member {
                signing: advisor.signing_public(),
                recipient: advisor.id().recipient,
                role: Role::Juror,
            },
        };
        let forged = SignedEntry::sign(forged.body, &owner);
        assert_eq!(
            state.clone().apply(&forged).unwrap_err(),
            MembershipError::Demotion
        );
        // A juror made an advisor gets the team key: allowed.
        let mut promoted = state.clone();
        promoted
            .apply(&add(&state, &owner, &juror.id(), Role::Advisor, &k1).unwrap())
            .unwrap();
        assert_eq!(promoted.team_keys_for(&juror).len(), 1);
        assert!(state.epoch_keys_for(&owner, 1).is_some());

        let k2 = EpochKeys::generate();
        log.push(remove(&state, &owner, &advisor.signing_public(), &k2).unwrap());
        let state = Membership::from_log(&log).unwrap();
        assert_eq!(state.epoch, 2);
        assert_eq!(state.role_of(&advisor.signing_public()), None);
        // The removed advisor keeps epoch 1 only; the juror gets epoch 2.
        assert_eq!(
            state.keys_for(&advisor).keys().copied().collect::<Vec<_>>(),
            [1]
        );
        assert_eq!(
            state.keys_for(&juror).keys().copied().collect::<Vec<_>>(),
            [1, 2]
        );
        assert!(state.team_keys_for(&juror).is_empty());
        assert_eq!(
            state
                .team_keys_for(&owner)
                .keys()
                .copied()
                .collect::<Vec<_>>(),
            [1, 2]
        );
        assert_eq!(
            state
                .team_keys_for(&advisor)
                .keys()
                .copied()
                .collect::<Vec<_>>(),
            [1]
        );
    }

    #[test]
    fn only_the_owner_changes_membership() {
        let owner = DeviceSecret::generate();
        let intruder = DeviceSecret::generate();
        let key = EpochKeys::generate();
        let log = vec![create(DossierId([2; 16]), &owner, &key).unwrap()];
        let state = Membership::from_log(&log).unwrap();
        assert_eq!(
            add(&state, &intruder, &intruder.id(), Role::Advisor, &key).unwrap_err(),
            MembershipError::NotOwner
        );
        // Forge by hand: signed by the intruder.
        let mut forged = add(&state, &owner, &intruder.id(), Role::Advisor, &key).unwrap();
        forged.signature = intruder.sign(b"whatever").to_vec();
        assert_eq!(
            state.clone().apply(&forged).unwrap_err(),
            MembershipError::BadSignature
        );
        forged.signer = intruder.signing_public();
        assert_eq!(
            state.clone().apply(&forged).unwrap_err(),
            MembershipError::NotOwner
        );
    }

    #[test]
    fn replayed_or_reordered_entries_are_refused() {
        let owner = DeviceSecret::generate();
        let a = DeviceSecret::generate();
        let key = EpochKeys::generate();
        let first = create(DossierId([3; 16]), &owner, &key).unwrap();
        let mut state = Membership::genesis(&first).unwrap();
        let entry = add(&state, &owner, &a.id(), Role::Advisor, &key).unwrap();
        state.apply(&entry).unwrap();
        assert!(matches!(
            state.apply(&entry),
            Err(MembershipError::OutOfSequence { .. })
        ));
        assert!(matches!(
            state.apply(&first),
            Err(MembershipError::OutOfSequence { .. })
        ));
    }

    #[test]
    fn a_second_device_of_the_candidate_is_an_owner_too() {
        let laptop = DeviceSecret::generate();
        let phone = DeviceSecret::generate();
        let recovery = DeviceSecret::generate();
        let advisor = DeviceSecret::generate();
        let k1 = EpochKeys::generate();
        let mut log = vec![create(DossierId([4; 16]), &laptop, &k1).unwrap()];
        let state = Membership::from_log(&log).unwrap();
        log.push(add(&state, &laptop, &phone.id(), Role::Owner, &k1).unwrap());
        let state = Membership::from_log(&log).unwrap();
        log.push(add(&state, &laptop, &recovery.id(), Role::Owner, &k1).unwrap());
        // The phone shares the dossier on its own.
        let state = Membership::from_log(&log).unwrap();
        log.push(add(&state, &phone, &advisor.id(), Role::Advisor, &k1).unwrap());
        let state = Membership::from_log(&log).unwrap();
        assert_eq!(state.owners().count(), 3);
        // The advisor may not.
        assert_eq!(
            add(&state, &advisor, &advisor.id(), Role::Owner, &k1).unwrap_err(),
            MembershipError::NotOwner
        );
        // The laptop is lost: the recovery key removes it; it reads nothing after.
        let k2 = EpochKeys::generate();
        log.push(remove(&state, &recovery, &laptop.signing_public(), &k2).unwrap());
        let state = Membership::from_log(&log).unwrap();
        assert!(!state.is_owner(&laptop.signing_public()));
        assert_eq!(state.keys_for(&laptop).len(), 1);
        assert_eq!(state.keys_for(&phone).len(), 2);
        // Owners go down to one, never to none.
        let k3 = EpochKeys::generate();
        log.push(remove(&state, &phone, &recovery.signing_public(), &k3).unwrap());
        let state = Membership::from_log(&log).unwrap();
        let k4 = EpochKeys::generate();
        let last = remove(&state, &phone, &phone.signing_public(), &k4).unwrap();
        assert_eq!(
            state.clone().apply(&last).unwrap_err(),
            MembershipError::LastOwner
        );
    }
}
