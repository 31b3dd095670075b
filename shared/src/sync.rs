//! A device's copy of one dossier and the sync engine around it. I/O-free: callers hand in
//! what arrived (membership entries, envelopes, acknowledgements) and take out what to send.
//!
//! Local edits accumulate in the automerge document; [`Replica::flush`] seals everything this
//! device wrote since the last flush into *one* envelope (batching keeps sealing overhead
//! small). Received envelopes are verified, decrypted and applied together in one
//! `load_incremental` call (automerge applies changes one by one in quadratic time).

use std::collections::BTreeMap;

use automerge::ChangeHash;
use serde::{Deserialize, Serialize};

use crate::comments::{self, Comment, CommentError, CommentId, Comments, Draft};
use crate::dossier::{Dossier, DossierError};
use crate::envelope::{self, Channel, DossierId, Envelope, EnvelopeError, Header, Kind};
use crate::jury::{self, Jury, JuryError, JuryGrant, SavedJury};
use crate::keys::{ContentKey, DeviceSecret, EpochKeys, MemberKey, Verifier};
use crate::member_names::{self, NameCard, NameError, NamesCache};
use crate::membership::{self, Membership, MembershipError, Op, Role, SignedEntry};
use crate::presence::{MAX_PRESENCE, Presence, Seen};
use crate::review::doc::JuryDoc;
use crate::review::{Decision, JurorReview};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    #[error(transparent)]
    Membership(#[from] MembershipError),
    #[error(transparent)]
    Dossier(#[from] DossierError),
    #[error(transparent)]
    Comment(#[from] CommentError),
    #[error(transparent)]
    Name(#[from] NameError),
    #[error(transparent)]
    Jury(#[from] JuryError),
    #[error(transparent)]
    JuryDoc(#[from] crate::review::doc::JuryDocError),
    #[error(transparent)]
    Decision(#[from] crate::review::DecisionError),
    #[error("seuls les jurés écrivent une évaluation")]
    NotAJuror,
    #[error("ce dossier n'est pas partagé avec cet appareil")]
    NotAMember,
    #[error("clé de l'époque {0} indisponible pour cet appareil")]
    NoKey(u32),
    #[error("enveloppe d'un autre dossier")]
    OtherDossier,
    #[error("enveloppe d'un auteur qui n'est pas membre")]
    UnknownWriter,
    #[error("état local illisible")]
    Corrupt,
    #[error("lecture seule : les jurés ne modifient pas le dossier")]
    ReadOnly,
    #[error("enveloppe écrite par un membre qui n'en avait pas le droit")]
    Forbidden,
    #[error("modifications signées par un membre au nom d'un autre")]
    NotTheAuthor,
    /// A member who is not the dossier's owner replaced its pinned template or référentiel.
    #[error("seul le candidat change le modèle ou le référentiel d'un dossier")]
    NotTheOwnersPin,
    /// Automerge data that would inflate past its budget (or is not automerge data).
    #[error(transparent)]
    Inflation(#[from] crate::automerge_guard::GuardError),
    #[error("instantané refusé : l'historique qu'il dit couvrir n'est pas celui qu'il a signé")]
    ForgedSnapshot,
    #[error(
        "le relais n'a pas transmis à cet appareil une modification des membres : l'appareil \
         {writer} écrit déjà pour l'époque {epoch} (un retrait caché ?)"
    )]
    MembershipWithheld { writer: String, epoch: u32 },
    #[error(
        "le relais donne le journal des membres d'un autre dossier (une autre création) : \
         refusé, rien n'est changé sur cet appareil"
    )]
    ForeignLog,
    #[error(
        "le relais donne une autre suite au journal des membres que celle que cet appareil \
         en a déjà reçue : refusé, rien n'est changé sur cet appareil (un relais restauré \
         d'une ancienne sauvegarde ?)"
    )]
    ConflictingLog,
}

/// What [`Replica::receive`] did. One envelope that cannot be applied never stops the
/// others: it waits for its key, or is set aside and reported.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Received {
    pub applied: usize,
    pub duplicates: usize,
    /// Envelopes sealed for an epoch whose key this device was not given (yet): kept, and
    /// opened once an owner gives it (see [`Replica::reconcile_membership`]).
    pub waiting: usize,
    /// Envelopes that can never be applied (forged, corrupt, written without the right to):
    /// set aside and reported; their writer's later envelopes are applied all the same.
    pub quarantined: Vec<Quarantined>,
}

/// An envelope [`Replica::receive`] set aside, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quarantined {
    /// The writer and counter it claims (zeros when it could not even be read).
    pub writer: MemberKey,
    pub counter: u64,
    pub reason: SyncError,
}

/// What became of one envelope taken in its writer's order.
enum Taken {
    Applied,
    /// No key for its epoch yet: kept in [`Replica::held`].
    Waiting,
}

/// A dossier change batch opened and checked, waiting to be applied with the others.
struct Opened {
    at: (MemberKey, u64),
    envelope: Vec<u8>,
    changes: Vec<u8>,
    hashes: Vec<ChangeHash>,
}

pub struct Replica {
    pub id: DossierId,
    dossier: Dossier,
    log: Vec<SignedEntry>,
    membership: Membership,
    keys: BTreeMap<u32, ContentKey>,
    /// Team keys by epoch (comments between the candidate and advisors); none for a juror.
    team: BTreeMap<u32, ContentKey>,
    me: MemberKey,
    /// Last counter this device used.
    counter: u64,
    /// Document heads at the last flush: what was sealed is below them.
    sealed_heads: Vec<ChangeHash>,
    /// Last counter applied per writer.
    seen: BTreeMap<MemberKey, u64>,
    /// Sealed envelopes not yet acknowledged by the relay, by counter.
    outbox: BTreeMap<u64, Vec<u8>>,
    /// Envelopes that arrived before their predecessor (kept until the gap fills).
    early: BTreeMap<(MemberKey, u64), Vec<u8>>,
    /// Envelopes counted as seen whose epoch's key this device lacks: opened when it comes
    /// (saved with the replica, so a restart loses none).
    held: Vec<Vec<u8>>,
    /// Id of the active snapshot this replica knows (parent of the next one).
    snapshot: [u8; 32],
    /// The jury's documents and keys (`jury.rs`).
    jury: Jury,
    /// How many of the membership log's entries the relay is known to hold (it sent them,
    /// or acknowledged them): a relay log that departs from them is another story, refused
    /// ([`SyncError::ConflictingLog`]). Saved with the replica (0 in a save older than it).
    relay_holds: u64,
    /// The members' names read last (not saved: read again after a load).
    names: NamesCache,
    /// The dossier's edits read so far (not saved: read again after a load).
    history: crate::history::History,
}

impl std::fmt::Debug for Replica {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Replica({}, counter {}, outbox {})",
            self.id,
            self.counter,
            self.outbox.len()
        )
    }
}

/// Last counter per writer that a snapshot includes.
pub type Covers = Vec<(MemberKey, u64)>;

/// What a snapshot envelope carries: the compacted document and the history it covers.
/// Since envelope kind 4 the covers are also in clear under the signature, where the relay
/// checks them against what it stores; a replica requires both to be equal (kind 2, sealed
/// before, has only these).
#[derive(Serialize, Deserialize)]
pub(crate) struct SnapshotBody {
    pub(crate) covers: Vec<(MemberKey, u64)>,
    pub(crate) doc: Vec<u8>,
}

/// The same last counter per writer, whatever the order (zeros count as absent).
fn same_covers(a: &[(MemberKey, u64)], b: &[(MemberKey, u64)]) -> bool {
    let nonzero = |c: &[(MemberKey, u64)]| -> BTreeMap<MemberKey, u64> {
        c.iter().filter(|(_, n)| *n > 0).copied().collect()
    };
    let (a_map, b_map) = (nonzero(a), nonzero(b));
    a_map.len() == a.iter().filter(|(_, n)| *n > 0).count()
        && b_map.len() == b.iter().filter(|(_, n)| *n > 0).count()
        && a_map == b_map
}

/// Local persistence: everything but the content keys, which stay wrapped in the log.
#[derive(Serialize, Deserialize)]
struct Saved {
    id: DossierId,
    doc: Vec<u8>,
    log: Vec<Vec<u8>>,
    counter: u64,
    sealed_heads: Vec<[u8; 32]>,
    seen: Vec<(MemberKey, u64)>,
    outbox: Vec<(u64, Vec<u8>)>,
    snapshot: [u8; 32],
}

impl Replica {
    /// A new dossier owned by `owner`; returns the replica and the creating membership entry.
    pub fn create(
        owner: &DeviceSecret,
        id: DossierId,
        keys: EpochKeys,
    ) -> Result<(Replica, SignedEntry), SyncError> {
        let dossier = Dossier::new(&owner.signing_public());
        Self::create_with(owner, id, keys, dossier)
    }

    /// A new jury session (`crate::session`), owned by its manager's `owner` device: shared,
    /// sealed and synced exactly like a dossier.
    pub fn create_session(
        owner: &DeviceSecret,
        id: DossierId,
        keys: EpochKeys,
    ) -> Result<(Replica, SignedEntry), SyncError> {
        let session = Dossier::new_session(&owner.signing_public());
        Self::create_with(owner, id, keys, session)
    }

    fn create_with(
        owner: &DeviceSecret,
        id: DossierId,
        keys: EpochKeys,
        dossier: Dossier,
    ) -> Result<(Replica, SignedEntry), SyncError> {
        let entry = membership::create(id, owner, &keys)?;
        let state = Membership::genesis(&entry)?;
        let me = owner.signing_public();
        let sealed_heads = Vec::new();
        let replica = Replica {
            id,
            dossier,
            log: vec![entry.clone()],
            membership: state,
            keys: BTreeMap::from([(1, keys.content.duplicate())]),
            team: keys.team.iter().map(|t| (1, t.duplicate())).collect(),
            me,
            counter: 0,
            sealed_heads,
            seen: BTreeMap::new(),
            outbox: BTreeMap::new(),
            early: BTreeMap::new(),
            held: Vec::new(),
            relay_holds: 0,
            names: NamesCache::default(),
            history: crate::history::History::default(),
            snapshot: [0; 32],
            jury: Jury::default(),
        };
        Ok((replica, entry))
    }

    /// Joins a dossier shared with `device`, from its membership log.
    pub fn join(device: &DeviceSecret, log: Vec<SignedEntry>) -> Result<Replica, SyncError> {
        let state = Membership::from_log(&log)?;
        let me = device.signing_public();
        if state.role_of(&me).is_none() {
            return Err(SyncError::NotAMember);
        }
        let keys = state.keys_for(device);
        let team = state.team_keys_for(device);
        // The log came from the relay.
        let relay_holds = log.len() as u64;
        Ok(Replica {
            id: state.dossier,
            // Empty: the dossier's content arrives in envelopes.
            dossier: Dossier::empty(&me),
            log,
            membership: state,
            keys,
            team,
            me,
            counter: 0,
            sealed_heads: Vec::new(),
            seen: BTreeMap::new(),
            outbox: BTreeMap::new(),
            early: BTreeMap::new(),
            held: Vec::new(),
            relay_holds,
            snapshot: [0; 32],
            jury: Jury::default(),
            names: NamesCache::default(),
            history: crate::history::History::default(),
        })
    }

    pub fn dossier(&mut self) -> &mut Dossier {
        &mut self.dossier
    }

    /// Whether this device is still a member (a removal it received says no).
    pub fn is_member(&self) -> bool {
        self.membership.role_of(&self.me).is_some()
    }

    /// The relay holds the membership log's first `entries` (it sent them, or acknowledged
    /// the last): a later relay log departing from them is refused. Never lowered (a relay
    /// that lost entries gets them back from the devices that hold them).
    pub fn relay_holds_entries(&mut self, entries: usize) {
        let known = (entries as u64).min(self.log.len() as u64);
        self.relay_holds = self.relay_holds.max(known);
    }

    /// Where this device stands along the dossier's membership log: removed only when an
    /// owner's signed entry removed it (what makes a device wipe its copy).
    pub fn standing(&self) -> membership::Standing {
        membership::standing(&self.log, &self.me)
    }

    /// Whether this device may change the dossier itself (owner, advisor; not a juror).
    pub fn may_write_dossier(&self) -> bool {
        self.membership
            .role_of(&self.me)
            .is_some_and(|r| r.may_write(Channel::Dossier))
    }

    pub fn membership(&self) -> &Membership {
        &self.membership
    }

    pub fn log(&self) -> &[SignedEntry] {
        &self.log
    }

    pub fn epoch_key(&self) -> Option<&ContentKey> {
        self.keys.get(&self.membership.epoch)
    }

    /// Both keys of the current epoch (the candidate's devices hold them; what an owner
    /// wraps to someone it adds).
    pub fn epoch_keys(&self) -> Option<EpochKeys> {
        let epoch = self.membership.epoch;
        Some(EpochKeys {
            content: self.keys.get(&epoch)?.duplicate(),
            team: self.team.get(&epoch).map(ContentKey::duplicate),
        })
    }

    /// The team keys this device holds, by epoch (empty for a juror).
    pub fn team_keys(&self) -> &BTreeMap<u32, ContentKey> {
        &self.team
    }

    /// Whether this device may comment (the candidate and advisors, with the team key of the
    /// current epoch).
    pub fn may_comment(&self) -> bool {
        self.may_write_dossier() && self.team.contains_key(&self.membership.epoch)
    }

    /// The comments this device can read (none for a juror: no team key).
    pub fn comments(&mut self) -> Comments {
        comments::read(&mut self.dossier, &self.id, &self.team)
    }

    /// Adds a comment (or an answer to a thread), sealed with the current team key. Goes to
    /// the others with the next [`Replica::flush`], like any edit.
    pub fn comment(
        &mut self,
        device: &DeviceSecret,
        draft: Draft,
        id: CommentId,
        at_ms: u64,
        nonce: [u8; 24],
    ) -> Result<Comment, SyncError> {
        if !self.may_write_dossier() {
            return Err(SyncError::ReadOnly);
        }
        Ok(comments::write(
            &mut self.dossier,
            &self.id,
            self.membership.epoch,
            &self.team,
            draft,
            device,
            id,
            at_ms,
            nonce,
        )?)
    }

    /// The names the candidate gave the members, by member.
    pub fn member_names(&mut self) -> BTreeMap<MemberKey, NameCard> {
        self.names
            .read(&mut self.dossier, &self.id, &self.keys, &self.membership)
            .clone()
    }

    /// The dossier's edits: who changed which fields, and when (read since the last call
    /// only). Call [`Dossier::commit_at`] after an edit first, so it has its time.
    pub fn history(&mut self) -> &crate::history::History {
        self.history.update(&mut self.dossier);
        &self.history
    }

    /// Undoes the edit ending at `after` in a section or fiche ([`crate::history::History::undo`]);
    /// an edit of this device, sent with the next [`Replica::flush`].
    pub fn undo(
        &mut self,
        after: &[ChangeHash],
        place: crate::field_path::Place,
        anyway: bool,
    ) -> Result<crate::history::Undo, SyncError> {
        if !self.may_write_dossier() {
            return Err(SyncError::ReadOnly);
        }
        Ok(self.history.undo(&mut self.dossier, after, place, anyway)?)
    }

    /// Who wrote an edit, as the members' list names them.
    pub fn author(&mut self, writer: &MemberKey) -> crate::history::Author {
        let person = self.membership.person_of(writer);
        let card = self
            .names
            .read(&mut self.dossier, &self.id, &self.keys, &self.membership)
            .get(&person)
            .cloned();
        let role = self.membership.role_of(writer);
        let mine = *writer == self.me
            || person == self.membership.person_of(&self.me)
            // The candidate's other devices and kit are the candidate.
            || (role == Some(Role::Owner) && self.membership.role_of(&self.me) == Some(Role::Owner));
        crate::history::Author {
            role,
            name: card
                .as_ref()
                .filter(|c| !c.kit && !c.name.is_empty())
                .map(|c| c.name.clone()),
            kit: card.is_some_and(|c| c.kit),
            mine,
        }
    }

    /// Names `member` (the candidate's devices only; `kit`: their recovery kit), an edit
    /// that goes to the others with the next [`Replica::flush`]. An empty name takes it back.
    pub fn name_member(
        &mut self,
        device: &DeviceSecret,
        (member, name, kit): (&MemberKey, &str, bool),
        at_ms: u64,
        nonce: [u8; 24],
    ) -> Result<NameCard, SyncError> {
        if !self.may_write_dossier() {
            return Err(SyncError::ReadOnly);
        }
        Ok(member_names::write(
            &mut self.dossier,
            &self.id,
            &self.membership,
            &self.keys,
            (member, name, kit),
            device,
            at_ms,
            nonce,
        )?)
    }

    /// Marks a thread resolved, or open again.
    pub fn set_thread_resolved(
        &mut self,
        device: &DeviceSecret,
        thread: CommentId,
        resolved: bool,
        by: &str,
        at_ms: u64,
        nonce: [u8; 24],
    ) -> Result<(), SyncError> {
        if !self.may_write_dossier() {
            return Err(SyncError::ReadOnly);
        }
        Ok(comments::set_resolved(
            &mut self.dossier,
            &self.id,
            self.membership.epoch,
            &self.team,
            thread,
            resolved,
            by,
            device,
            at_ms,
            nonce,
        )?)
    }

    fn unwrap_keys(&mut self, device: &DeviceSecret) {
        self.keys = self.membership.keys_for(device);
        self.team = self.membership.team_keys_for(device);
    }

    /// Applies new membership entries (ignores those already known).
    pub fn apply_membership(
        &mut self,
        device: &DeviceSecret,
        entries: &[SignedEntry],
    ) -> Result<(), SyncError> {
        for e in entries {
            if e.body.seq < self.membership.next_seq {
                continue;
            }
            self.membership.apply(e)?;
            self.log.push(e.clone());
        }
        self.unwrap_keys(device);
        Ok(())
    }

    /// The owner's device adds `member` with `role`: the entry, applied here, to publish
    /// (the next sync publishes it if nothing else does). The member gets every earlier
    /// epoch's key the owner holds (`membership::add`).
    pub fn add_member(
        &mut self,
        owner: &DeviceSecret,
        member: &crate::keys::DeviceId,
        role: Role,
    ) -> Result<SignedEntry, SyncError> {
        let keys = self
            .epoch_keys()
            .ok_or(SyncError::NoKey(self.membership.epoch))?;
        let entry = membership::add(&self.membership, owner, member, role, &keys)?;
        self.apply_membership(owner, std::slice::from_ref(&entry))?;
        Ok(entry)
    }

    /// The owner's device adds `member` as another device of the juror whose device `of` is
    /// (see [`Op::AddDevice`]); the entry, applied here, to publish.
    pub fn add_jurors_device(
        &mut self,
        owner: &DeviceSecret,
        member: &crate::keys::DeviceId,
        of: &MemberKey,
    ) -> Result<SignedEntry, SyncError> {
        let keys = self
            .epoch_keys()
            .ok_or(SyncError::NoKey(self.membership.epoch))?;
        let entry = membership::add_device(&self.membership, owner, member, of, &keys)?;
        self.apply_membership(owner, std::slice::from_ref(&entry))?;
        Ok(entry)
    }

    /// The owner's device removes `member` (its signing key): a new epoch whose fresh key is
    /// wrapped to everyone who remains; the entry, applied here, to publish.
    pub fn remove_member(
        &mut self,
        owner: &DeviceSecret,
        member: &MemberKey,
    ) -> Result<SignedEntry, SyncError> {
        let entry = membership::remove(&self.membership, owner, member, &EpochKeys::generate())?;
        self.apply_membership(owner, std::slice::from_ref(&entry))?;
        Ok(entry)
    }

    /// Brings this replica's membership log in line with the relay's, whose order everyone
    /// follows; returns the entries this device wrote that the relay lacks, to publish in
    /// order. When another of the candidate's devices published first (both added someone
    /// while offline), this device's entries are written again on top of the relay's log
    /// with the same intent (add this member with this role, remove that one), and those
    /// that became pointless are dropped. A removal keeps the content key it made, so edits
    /// already sealed for its epoch stay readable when the epoch number is unchanged. Only
    /// this device's own entries are rebased: a relay log that departs from entries others
    /// signed, which this device already holds, is refused ([`SyncError::ConflictingLog`]),
    /// as is one that starts at another creation ([`SyncError::ForeignLog`]).
    pub fn reconcile_membership(
        &mut self,
        device: &DeviceSecret,
        relay: &[SignedEntry],
    ) -> Result<Vec<SignedEntry>, SyncError> {
        let common = self
            .log
            .iter()
            .zip(relay)
            .take_while(|(mine, theirs)| mine.hash() == theirs.hash())
            .count();
        if common == 0 && !self.log.is_empty() && !relay.is_empty() {
            // Another creation: not this dossier's history, whoever signed it. Taken, it
            // would make this device a stranger to its own dossier.
            return Err(SyncError::ForeignLog);
        }
        if common == relay.len() {
            self.relay_holds_entries(relay.len());
            self.give_missing_keys(device)?;
            return Ok(self.log[common..].to_vec());
        }
        if common == self.log.len() {
            self.apply_membership(device, &relay[common..])?;
            self.relay_holds_entries(relay.len());
            self.give_missing_keys(device)?;
            return Ok(self.log[relay.len()..].to_vec());
        }
        let me = device.signing_public();
        if (common as u64) < self.relay_holds || self.log[common..].iter().any(|e| e.signer != me) {
            // The relay gives another sequel to entries this device already took from it
            // (signed by others): a relay restored from an older backup, or one telling a
            // different story (an alternative tail signed by a key that was an owner then,
            // a removed laptop say). Only this device's own unpublished entries are ever
            // rebased; taking the relay's tail here would let it rewrite history — and
            // signing others' entries again would launder them onto the real chain.
            return Err(SyncError::ConflictingLog);
        }
        let unpublished = self.log[common..].to_vec();
        let mut state = Membership::from_log(relay)?;
        let mut log = relay.to_vec();
        for entry in unpublished {
            if !state.is_owner(&me) {
                // Removed by another owner meanwhile: this device's changes no longer count.
                break;
            }
            let again = match &entry.body.op {
                Op::Create { .. } => return Err(MembershipError::Malformed.into()),
                Op::Add { member } => {
                    if state.members.get(&member.signing) == Some(member) {
                        continue;
                    }
                    let keys = state
                        .epoch_keys_for(device, state.epoch)
                        .ok_or(SyncError::NoKey(state.epoch))?;
                    membership::add(&state, device, &member.id(), member.role, &keys)?
                }
                Op::AddDevice { member, of } => {
                    if state.members.get(&member.signing) == Some(member) {
                        continue;
                    }
                    let keys = state
                        .epoch_keys_for(device, state.epoch)
                        .ok_or(SyncError::NoKey(state.epoch))?;
                    membership::add_device(&state, device, &member.id(), of, &keys)?
                }
                Op::Remove { signing } => {
                    if state.role_of(signing).is_none() {
                        continue;
                    }
                    let made = entry
                        .body
                        .keys
                        .iter()
                        .find(|k| k.member == me)
                        .and_then(|k| device.unwrap_keys(&k.wrapped).ok())
                        .map(|(content, team)| EpochKeys {
                            content,
                            // A removal is when a dossier without team keys gets one.
                            team: team.or_else(|| Some(ContentKey::generate())),
                        });
                    let keys = made.unwrap_or_else(EpochKeys::generate);
                    membership::remove(&state, device, signing, &keys)?
                }
            };
            state.apply(&again)?;
            log.push(again);
        }
        self.log = log;
        self.membership = state;
        self.relay_holds_entries(relay.len());
        self.unwrap_keys(device);
        self.give_missing_keys(device)?;
        Ok(self.log[relay.len()..].to_vec())
    }

    /// On an owner's device: adds again, with the same role, the members that lack an
    /// earlier epoch's key this device holds — members added after a removal by a version
    /// that wrapped only the current epoch's key, who could not read what was sealed
    /// before it (their envelopes wait in [`Replica::held`] until this arrives). The new
    /// entries are applied here and published with the rest.
    fn give_missing_keys(&mut self, device: &DeviceSecret) -> Result<(), SyncError> {
        let me = device.signing_public();
        if !self.membership.is_owner(&me) {
            return Ok(());
        }
        for member in self.membership.members_missing_keys(&me) {
            let Some(current) = self.epoch_keys() else {
                return Ok(());
            };
            let entry = membership::add(
                &self.membership,
                device,
                &member.id(),
                member.role,
                &current,
            )?;
            self.membership.apply(&entry)?;
            self.log.push(entry);
        }
        Ok(())
    }

    /// Seals again, for the current epoch, the envelopes of the outbox sealed for an older
    /// one: a member was removed while they waited (offline, or in flight), and the relay
    /// takes only the current epoch. Same counters, so the writer's log keeps no gap. Call
    /// it only once a catch-up from the relay was applied: that catch-up sent back what the
    /// relay stored of ours and not acknowledged ([`Replica::since`]), so what is left in
    /// the outbox was never stored (sealing a stored one again would be refused as a
    /// replay). Returns how many were sealed again; the caller sends the outbox again.
    /// `nonce` gives a fresh nonce per envelope.
    pub fn reseal_stale(
        &mut self,
        device: &DeviceSecret,
        mut nonce: impl FnMut() -> [u8; 24],
    ) -> Result<usize, SyncError> {
        let epoch = self.membership.epoch;
        let stale: Vec<(u64, Envelope)> = self
            .outbox
            .iter()
            .filter_map(|(c, b)| Envelope::parse(b).ok().map(|e| (*c, e)))
            .filter(|(_, e)| e.header.epoch < epoch && e.header.kind == Kind::Changes)
            .collect();
        if stale.is_empty() {
            return Ok(0);
        }
        let role = self
            .membership
            .role_of(&self.me)
            .ok_or(SyncError::NotAMember)?;
        let mut resealed = 0;
        for (counter, env) in &stale {
            if !role.may_write(env.header.channel) {
                return Err(SyncError::ReadOnly);
            }
            // A juror's review is sealed with its own review key, the rest with the dossier's.
            let (key, openers): (Option<ContentKey>, Vec<ContentKey>) = match env.header.channel {
                Channel::Review => {
                    let mine = self.jury.keys_of(&self.me);
                    let openers = mine
                        .get(&env.header.epoch)
                        .into_iter()
                        .chain(mine.values())
                        .chain(self.jury.shared.values())
                        .map(ContentKey::duplicate)
                        .collect();
                    (self.own_review_key(epoch), openers)
                }
                Channel::Dossier | Channel::Release => {
                    // Normally the key of the epoch it names; after two owners removed
                    // someone while offline (`reconcile_membership`), this device's removal
                    // moved to a later epoch with the key it had made: try the others too.
                    let openers = self
                        .keys
                        .get(&env.header.epoch)
                        .into_iter()
                        .chain(self.keys.values())
                        .map(ContentKey::duplicate)
                        .collect();
                    (self.keys.get(&epoch).map(ContentKey::duplicate), openers)
                }
            };
            let Some(key) = key else {
                if env.header.channel == Channel::Review {
                    // This juror's key of the new epoch is not confirmed yet: sealed again
                    // once it is.
                    continue;
                }
                return Err(SyncError::NoKey(epoch));
            };
            let payload = openers
                .iter()
                .find_map(|k| env.open(k).ok())
                .ok_or(SyncError::NoKey(env.header.epoch))?;
            let header = Header {
                epoch,
                ..env.header.clone()
            };
            let sealed = envelope::seal(&header, &key, nonce(), &payload, device);
            self.outbox.insert(*counter, sealed);
            resealed += 1;
        }
        Ok(resealed)
    }

    /// Seals what this device wrote since the last flush into one envelope (added to the
    /// outbox and returned). `None` when there is nothing new or no key for the epoch.
    pub fn flush(
        &mut self,
        device: &DeviceSecret,
        nonce: [u8; 24],
    ) -> Result<Option<Vec<u8>>, SyncError> {
        let role = self
            .membership
            .role_of(&self.me)
            .ok_or(SyncError::NotAMember)?;
        // A juror's documents are sealed by `flush_jury`; this is the dossier's.
        let channel = Channel::Dossier;
        let doc = self.dossier.automerge();
        let mine: Vec<u8> = doc
            .get_changes(&self.sealed_heads)
            .into_iter()
            .filter(|c| self.me == *c.actor_id().to_bytes())
            // `bytes()`, not `raw_bytes()`: a change loaded from a saved document has no raw
            // bytes until it is encoded again.
            .flat_map(|mut c| c.bytes().into_owned())
            .collect();
        self.sealed_heads = doc.get_heads();
        if mine.is_empty() {
            return Ok(None);
        }
        if !role.may_write(channel) {
            return Err(SyncError::ReadOnly);
        }
        let epoch = self.membership.epoch;
        let key = self
            .keys
            .get(&epoch)
            .ok_or(SyncError::NoKey(epoch))?
            .duplicate();
        Ok(Some(self.seal_own(device, channel, &key, nonce, &mine)))
    }

    /// Seals a batch of this device's changes with the next counter, into the outbox.
    fn seal_own(
        &mut self,
        device: &DeviceSecret,
        channel: Channel,
        key: &ContentKey,
        nonce: [u8; 24],
        payload: &[u8],
    ) -> Vec<u8> {
        self.counter += 1;
        let header = Header {
            dossier: self.id,
            epoch: self.membership.epoch,
            writer: self.me,
            counter: self.counter,
            parent: [0; 32],
            kind: Kind::Changes,
            channel,
        };
        let sealed = envelope::seal(&header, key, nonce, payload, device);
        self.outbox.insert(self.counter, sealed.clone());
        self.seen.insert(self.me, self.counter);
        sealed
    }

    /// Seals where this device is in the dossier, for the members connected now. `now_ms` is
    /// the sender's clock (the message's counter: receivers keep the newest).
    pub fn seal_presence(
        &self,
        device: &DeviceSecret,
        now_ms: u64,
        nonce: [u8; 24],
        presence: &Presence,
    ) -> Result<Vec<u8>, SyncError> {
        if self.membership.role_of(&self.me).is_none() {
            return Err(SyncError::NotAMember);
        }
        let epoch = self.membership.epoch;
        let key = self.keys.get(&epoch).ok_or(SyncError::NoKey(epoch))?;
        let header = Header {
            dossier: self.id,
            epoch,
            writer: self.me,
            counter: now_ms.max(1),
            parent: [0; 32],
            kind: Kind::Presence,
            channel: Channel::Dossier,
        };
        let payload = serde_json::to_vec(&presence.bounded()).expect("presence serialises");
        Ok(envelope::seal(&header, key, nonce, &payload, device))
    }

    /// Opens a presence message another member sent: checks its size, layout, signature,
    /// dossier, kind and that its sender is a member now, then decrypts it.
    pub fn open_presence(&self, bytes: &[u8]) -> Result<Seen, SyncError> {
        if bytes.len() > MAX_PRESENCE {
            return Err(EnvelopeError::TooLarge(bytes.len()).into());
        }
        let env = Envelope::parse(bytes)?;
        env.verify()?;
        let h = &env.header;
        if h.dossier != self.id {
            return Err(SyncError::OtherDossier);
        }
        if h.kind != Kind::Presence {
            return Err(SyncError::Forbidden);
        }
        let role = self
            .membership
            .role_of(&h.writer)
            .ok_or(SyncError::UnknownWriter)?;
        let key = self.keys.get(&h.epoch).ok_or(SyncError::NoKey(h.epoch))?;
        let presence: Presence = serde_json::from_slice(&env.open(key)?)
            .map_err(|_| SyncError::Envelope(EnvelopeError::Decrypt))?;
        Ok(Seen {
            writer: h.writer,
            role,
            at_ms: h.counter,
            presence: presence.bounded(),
        })
    }

    /// Envelopes waiting for the relay's acknowledgement, oldest first (sent again after a
    /// reconnection; the relay acknowledges duplicates without storing them twice).
    pub fn outbox(&self) -> Vec<Vec<u8>> {
        self.outbox.values().cloned().collect()
    }

    pub fn acknowledged(&mut self, counter: u64) {
        self.outbox.retain(|c, _| *c > counter);
    }

    pub fn pending(&self) -> usize {
        self.outbox.len()
    }

    /// Applies one `Log` message from the relay, in the order it must be: membership entries
    /// (known ones skipped), the snapshot when the catch-up starts from one, the envelopes;
    /// then remembers the active snapshot it names (the parent of this device's next one).
    pub fn apply_log(
        &mut self,
        device: &DeviceSecret,
        entries: &[Vec<u8>],
        snapshot: Option<&[u8]>,
        envelopes: &[Vec<u8>],
        active_snapshot: Option<[u8; 32]>,
    ) -> Result<Received, SyncError> {
        let entries: Vec<SignedEntry> = entries
            .iter()
            .map(|b| SignedEntry::from_bytes(b))
            .collect::<Result<_, _>>()?;
        self.apply_membership(device, &entries)?;
        // The relay sent them: it holds the log up to the last that is this replica's too.
        // One at a place this device filled itself (another owner's entry that won the
        // race) was skipped above and is rebased at the next catch-up: not counted.
        let agreed = entries
            .iter()
            .take_while(|e| {
                self.log
                    .get(e.body.seq as usize)
                    .is_some_and(|mine| mine.hash() == e.hash())
            })
            .last();
        if let Some(last) = agreed {
            self.relay_holds_entries(last.body.seq as usize + 1);
        }
        // A snapshot this device cannot open (no key for its epoch yet, or forged) is
        // reported like an envelope; the tail is taken all the same (what depends on the
        // snapshot waits in `held`), and the next catch-up offers the snapshot again.
        let unreadable = snapshot.and_then(|bytes| {
            let reason = self.receive_snapshot(bytes).err()?;
            let writer = Envelope::parse(bytes).map_or(MemberKey::default(), |e| e.header.writer);
            Some(quarantined((writer, 0), reason))
        });
        let mut received = self.receive(envelopes)?;
        received.quarantined.extend(unreadable);
        if let Some(active) = active_snapshot {
            self.snapshot_accepted(active);
        }
        Ok(received)
    }

    /// Verifies, decrypts and applies envelopes (any order, duplicates allowed): all new
    /// payloads go into the document in one batch. Each writer's envelopes are taken in
    /// counter order; one that cannot be applied is reported in [`Received::quarantined`]
    /// (or kept for its key, [`Received::waiting`]) and never costs the others: a device
    /// must not lose a co-editor's edits because a third member's envelope is unreadable.
    /// Only what was taken counts as seen.
    pub fn receive(&mut self, envelopes: &[Vec<u8>]) -> Result<Received, SyncError> {
        let mut report = Received::default();
        // Envelopes that failed a check but hold a place in their writer's sequence: the
        // sequence goes on past them once they are reached.
        let mut refused: BTreeMap<(MemberKey, u64), SyncError> = BTreeMap::new();
        // Few writers, many envelopes: decode each writer's key once per batch.
        let mut verifiers: BTreeMap<MemberKey, Verifier> = BTreeMap::new();
        for bytes in envelopes {
            let env = match Envelope::parse(bytes) {
                Ok(env) => env,
                Err(e) => {
                    report.quarantined.push(Quarantined {
                        writer: MemberKey::default(),
                        counter: 0,
                        reason: e.into(),
                    });
                    continue;
                }
            };
            let writer = env.header.writer;
            let key = (writer, env.header.counter);
            if let Err(reason) = self.admissible(&env, &mut verifiers) {
                report.quarantined.push(quarantined(key, reason.clone()));
                if writer != self.me && !self.early.contains_key(&key) {
                    refused.insert(key, reason);
                }
                continue;
            }
            if env.header.epoch > self.membership.epoch {
                // A relay sends the entry that begins an epoch before anything sealed in it
                // (a removal begins one): this writer saw a change of members this device
                // was not given. Said as such, before anything of the batch counts as seen.
                return Err(SyncError::MembershipWithheld {
                    writer: crate::keys::short(&writer),
                    epoch: env.header.epoch,
                });
            }
            if writer == self.me && env.header.counter <= self.counter {
                // Our own, sent back by a catch-up (see `since`): stored, so acknowledged —
                // if it is byte for byte what we sent (the relay cannot make one up).
                if self.outbox.get(&env.header.counter).map(Vec::as_slice) == Some(&bytes[..]) {
                    self.outbox.remove(&env.header.counter);
                }
                report.duplicates += 1;
                continue;
            }
            // Our own beyond what this replica sealed: this device's key wrote it in an
            // earlier replica (lost, or opened again from the relay). Taken like anyone's,
            // and this replica's next envelope follows it (see below), never reusing a
            // counter the relay holds.
            if env.header.counter <= self.seen.get(&writer).copied().unwrap_or(0)
                || self.early.contains_key(&key)
            {
                report.duplicates += 1;
                continue;
            }
            refused.remove(&key);
            self.early.insert(key, env.into_bytes());
        }
        let mut payloads: Vec<Opened> = Vec::new();
        // Those that waited for a key first: it may have come with the membership log.
        for bytes in std::mem::take(&mut self.held) {
            let env = Envelope::parse(&bytes)?;
            let at = (env.header.writer, env.header.counter);
            match self.take(env, &mut payloads) {
                Ok(Taken::Applied) => report.applied += 1,
                Ok(Taken::Waiting) => report.waiting += 1,
                Err(reason) => report.quarantined.push(quarantined(at, reason)),
            }
        }
        // Then, per writer, the run of consecutive counters that follows what was taken.
        let writers: std::collections::BTreeSet<MemberKey> = self
            .early
            .keys()
            .chain(refused.keys())
            .map(|(w, _)| *w)
            .collect();
        for writer in writers {
            loop {
                let at = (writer, self.seen.get(&writer).copied().unwrap_or(0) + 1);
                let outcome = if let Some(bytes) = self.early.remove(&at) {
                    refused.remove(&at);
                    let env = Envelope::parse(&bytes)?;
                    self.take(env, &mut payloads)
                } else if refused.remove(&at).is_some() {
                    // Reported when it arrived; its place in the sequence is passed.
                    self.seen.insert(at.0, at.1);
                    continue;
                } else {
                    break;
                };
                self.seen.insert(at.0, at.1);
                match outcome {
                    Ok(Taken::Applied) => report.applied += 1,
                    Ok(Taken::Waiting) => report.waiting += 1,
                    Err(reason) => report.quarantined.push(quarantined(at, reason)),
                }
            }
        }
        self.counter = self
            .counter
            .max(self.seen.get(&self.me).copied().unwrap_or(0));
        report.quarantined.extend(self.unlock_reviews());
        self.apply_dossier_changes(payloads, &mut report);
        Ok(report)
    }

    /// The checks an envelope passes before it takes its place in its writer's sequence:
    /// signature, dossier, kind.
    fn admissible(
        &self,
        env: &Envelope,
        verifiers: &mut BTreeMap<MemberKey, Verifier>,
    ) -> Result<(), SyncError> {
        let writer = env.header.writer;
        let verifier = match verifiers.get(&writer) {
            Some(v) => v,
            None => {
                let v = Verifier::new(&writer).ok_or(EnvelopeError::BadSignature)?;
                verifiers.entry(writer).or_insert(v)
            }
        };
        env.verify_with(verifier)?;
        if env.header.dossier != self.id {
            return Err(SyncError::OtherDossier);
        }
        if env.header.kind != Kind::Changes {
            // A relay passing on presence or a snapshot as history: not a change batch.
            return Err(SyncError::Forbidden);
        }
        Ok(())
    }

    /// Takes one envelope in its writer's order: checks the writer's role when it wrote,
    /// opens it and checks that its changes are the writer's own; the dossier's changes
    /// are collected in `payloads` (applied together), a release is applied at once.
    fn take(&mut self, env: Envelope, payloads: &mut Vec<Opened>) -> Result<Taken, SyncError> {
        let writer = env.header.writer;
        let channel = env.header.channel;
        // The relay checks roles; a replica checks again rather than trust it.
        let roles = membership::roles_held(&self.log, &writer);
        if roles.is_empty() {
            return Err(SyncError::UnknownWriter);
        }
        if !roles
            .iter()
            .any(|(epoch, role)| *epoch == env.header.epoch && role.may_write(channel))
        {
            return Err(SyncError::Forbidden);
        }
        if channel == Channel::Review {
            // Sealed for the jury: a juror opens it (now, or once granted the key); the
            // candidate and advisors only count it as seen.
            if self.is_juror() {
                self.jury.locked.push(env.into_bytes());
            }
            return Ok(Taken::Applied);
        }
        let Some(key) = self.keys.get(&env.header.epoch) else {
            self.held.push(env.into_bytes());
            return Ok(Taken::Waiting);
        };
        let changes = env.open(key)?;
        let hashes = changes_written_by(&changes, &writer)?;
        let owner = roles
            .iter()
            .any(|(epoch, role)| *epoch == env.header.epoch && *role == Role::Owner);
        if channel == Channel::Dossier && !owner && replaces_a_pin(&changes)? {
            return Err(SyncError::NotTheOwnersPin);
        }
        if channel == Channel::Release {
            let me = self.me;
            self.jury
                .releases
                .entry(writer)
                .or_insert_with(|| JuryDoc::new(&me))
                .apply(&changes)?;
        } else {
            payloads.push(Opened {
                at: (writer, env.header.counter),
                envelope: env.into_bytes(),
                changes,
                hashes,
            });
        }
        Ok(Taken::Applied)
    }

    /// Applies the dossier's new changes in one `load_incremental` (one by one is quadratic
    /// in automerge); should that fail, envelope by envelope, setting aside those that fail.
    /// Changes whose dependencies are missing (sealed in an envelope this device cannot open
    /// yet) wait inside automerge, which never saves them: their envelopes go back to
    /// [`Replica::held`] so that a restart loses none of them.
    fn apply_dossier_changes(&mut self, payloads: Vec<Opened>, report: &mut Received) {
        if payloads.is_empty() {
            return;
        }
        let batch: Vec<u8> = payloads
            .iter()
            .flat_map(|p| p.changes.iter().copied())
            .collect();
        let doc = self.dossier.automerge();
        let mut failed = std::collections::BTreeSet::new();
        if doc.load_incremental(&batch).is_err() {
            for p in &payloads {
                if let Err(e) = doc.load_incremental(&p.changes) {
                    failed.insert(p.at);
                    report.applied = report.applied.saturating_sub(1);
                    report.quarantined.push(quarantined(
                        p.at,
                        DossierError::Corrupt(e.to_string()).into(),
                    ));
                }
            }
        }
        if doc.get_missing_deps(&[]).is_empty() {
            return;
        }
        let mut waiting = Vec::new();
        for p in payloads {
            if !failed.contains(&p.at)
                && p.hashes.iter().any(|h| doc.get_change_by_hash(h).is_none())
            {
                waiting.push(p.envelope);
            }
        }
        report.applied = report.applied.saturating_sub(waiting.len());
        report.waiting += waiting.len();
        self.held.extend(waiting);
    }

    /// Whether `writer` may have written on `channel`: a role it held at any time (a snapshot
    /// compacts the history of every epoch).
    fn ever_wrote_on(&self, writer: &MemberKey, channel: Channel) -> bool {
        membership::roles_held(&self.log, writer)
            .iter()
            .any(|(_, role)| role.may_write(channel))
    }

    /// Compacts the whole history into one sealed snapshot (the caller must be caught up and
    /// have nothing unacknowledged: the relay checks `covers` against what it stores).
    /// Returns the envelope and what it covers.
    pub fn compact(
        &mut self,
        device: &DeviceSecret,
        nonce: [u8; 24],
    ) -> Result<(Vec<u8>, Covers), SyncError> {
        let role = self
            .membership
            .role_of(&self.me)
            .ok_or(SyncError::NotAMember)?;
        if !role.may_write(Channel::Dossier) {
            return Err(SyncError::ReadOnly);
        }
        // Jurors' envelopes are not the dossier's history: a snapshot neither covers nor
        // prunes them (the relay compares with the dossier channel only).
        let covers: Vec<(MemberKey, u64)> = self
            .seen
            .iter()
            .filter(|(w, _)| self.ever_wrote_on(w, Channel::Dossier))
            .map(|(w, c)| (*w, *c))
            .collect();
        let body = SnapshotBody {
            covers: covers.clone(),
            doc: self.dossier.save(),
        };
        let payload = postcard::to_stdvec(&body).expect("snapshots serialise");
        let epoch = self.membership.epoch;
        let key = self.keys.get(&epoch).ok_or(SyncError::NoKey(epoch))?;
        let header = Header {
            dossier: self.id,
            epoch,
            writer: self.me,
            counter: 1,
            parent: self.snapshot,
            kind: Kind::CoveredSnapshot,
            channel: Channel::Dossier,
        };
        let sealed = envelope::seal_snapshot(&header, &covers, key, nonce, &payload, device);
        Ok((sealed, covers))
    }

    /// The relay made this snapshot active.
    pub fn snapshot_accepted(&mut self, id: [u8; 32]) {
        self.snapshot = id;
    }

    /// Applies a snapshot: its document merges in, and what it covers counts as seen.
    pub fn receive_snapshot(&mut self, bytes: &[u8]) -> Result<(), SyncError> {
        let env = Envelope::parse(bytes)?;
        env.verify()?;
        if env.header.dossier != self.id {
            return Err(SyncError::OtherDossier);
        }
        if membership::roles_held(&self.log, &env.header.writer).is_empty() {
            return Err(SyncError::UnknownWriter);
        }
        let snapshot_kind = matches!(env.header.kind, Kind::Snapshot | Kind::CoveredSnapshot);
        if !snapshot_kind || !self.ever_wrote_on(&env.header.writer, Channel::Dossier) {
            return Err(SyncError::Forbidden);
        }
        let key = self
            .keys
            .get(&env.header.epoch)
            .ok_or(SyncError::NoKey(env.header.epoch))?;
        let body: SnapshotBody =
            postcard::from_bytes(&env.open(key)?).map_err(|_| SyncError::Corrupt)?;
        // The relay compared the clear covers with what it stores; sealed ones that say
        // otherwise would make this replica skip envelopes it never saw.
        if env
            .covers()
            .is_some_and(|clear| !same_covers(clear, &body.covers))
        {
            return Err(SyncError::ForgedSnapshot);
        }
        crate::automerge_guard::check(&body.doc)?;
        if self.dossier.automerge().get_heads().is_empty() {
            // A fresh replica (a cold open): loading is much cheaper than merging. A reader
            // (a juror) does not migrate: its changes could never be sent.
            self.dossier = if self.may_write_dossier() {
                Dossier::load(&body.doc, &self.me)?
            } else {
                Dossier::load_as_reader(&body.doc, &self.me)?
            };
        } else {
            self.dossier
                .automerge()
                .load_incremental(&body.doc)
                .map_err(|e| DossierError::Corrupt(e.to_string()))?;
        }
        for (w, c) in body.covers {
            let seen = self.seen.entry(w).or_default();
            *seen = (*seen).max(c);
            if w == self.me {
                // Our envelopes the snapshot covers were stored: acknowledged. Covers past
                // what this replica sealed are an earlier replica's of this device: the next
                // envelope follows them.
                self.outbox.retain(|counter, _| *counter > c);
                self.counter = self.counter.max(c);
            }
        }
        self.early
            .retain(|(w, c), _| *c > self.seen.get(w).copied().unwrap_or(0));
        self.snapshot = env.id();
        Ok(())
    }

    /// Last counter applied per writer: what to ask the relay for. Our own is the last one
    /// the relay acknowledged: what it stored after that comes back (and counts as
    /// acknowledged, [`Replica::receive`]) — an acknowledgement lost on the way is recovered
    /// before anything is sealed again ([`Replica::reseal_stale`]).
    pub fn since(&self) -> Vec<(MemberKey, u64)> {
        let acknowledged = self
            .outbox
            .keys()
            .next()
            .map_or(self.counter, |first| first - 1);
        self.seen
            .iter()
            .map(|(w, c)| (*w, if *w == self.me { acknowledged } else { *c }))
            .collect()
    }

    pub fn save(&mut self) -> Vec<u8> {
        let doc = self.dossier.save();
        self.saved_with(doc)
    }

    /// The replica's state around `doc` (the whole document or only its new changes), then
    /// the jury's state, then the envelopes held for a key (each appended: a save made
    /// before it existed reads without it).
    fn saved_with(&mut self, doc: Vec<u8>) -> Vec<u8> {
        let saved = Saved {
            id: self.id,
            doc,
            log: self.log.iter().map(SignedEntry::to_bytes).collect(),
            counter: self.counter,
            sealed_heads: self.sealed_heads.iter().map(|h| h.0).collect(),
            seen: self.seen.iter().map(|(k, v)| (*k, *v)).collect(),
            outbox: self.outbox.iter().map(|(k, v)| (*k, v.clone())).collect(),
            snapshot: self.snapshot,
        };
        let mut out = postcard::to_stdvec(&saved).expect("state serialises");
        out.extend(postcard::to_stdvec(&self.jury.saved()).expect("state serialises"));
        out.extend(postcard::to_stdvec(&self.held).expect("state serialises"));
        out.extend(postcard::to_stdvec(&self.relay_holds).expect("state serialises"));
        out
    }

    /// What changed since the last [`Replica::save`] or delta: the document's new changes
    /// (automerge `save_incremental`) and the replica's small state. A device appends these
    /// instead of rewriting the whole replica on every keystroke (O(change), not
    /// O(document)); [`Replica::restore_with_deltas`] puts them back together.
    pub fn save_delta(&mut self) -> Vec<u8> {
        let changes = self.dossier.automerge().save_incremental();
        self.saved_with(changes)
    }

    /// A replica from its last full save and the deltas written after it, in order: the
    /// document gets every delta's changes (in one `load_incremental`), the state is the
    /// last delta's.
    pub fn restore_with_deltas(
        device: &DeviceSecret,
        full: &[u8],
        deltas: &[Vec<u8>],
    ) -> Result<Replica, SyncError> {
        let mut replica = Replica::restore(device, full)?;
        let Some(last) = deltas.last() else {
            return Ok(replica);
        };
        let mut changes = Vec::new();
        for delta in deltas {
            let (saved, ..) = read_saved(delta)?;
            if saved.id != replica.id {
                return Err(SyncError::Corrupt);
            }
            changes.extend_from_slice(&saved.doc);
        }
        replica
            .dossier
            .automerge()
            .load_incremental(&changes)
            .map_err(|_| SyncError::Corrupt)?;
        let (state, jury, held, relay_holds) = read_saved(last)?;
        let log: Vec<SignedEntry> = state
            .log
            .iter()
            .map(|b| SignedEntry::from_bytes(b))
            .collect::<Result<_, _>>()?;
        replica.membership = Membership::from_log(&log)?;
        replica.unwrap_keys(device);
        replica.log = log;
        replica.counter = state.counter;
        replica.sealed_heads = state.sealed_heads.into_iter().map(ChangeHash).collect();
        replica.seen = state.seen.into_iter().collect();
        replica.outbox = state.outbox.into_iter().collect();
        replica.snapshot = state.snapshot;
        replica.held = held;
        replica.relay_holds = relay_holds;
        replica.jury = Jury::from_saved(jury, &replica.me)?;
        replica.open_grants(device);
        Ok(replica)
    }

    pub fn restore(device: &DeviceSecret, bytes: &[u8]) -> Result<Replica, SyncError> {
        let (saved, jury, held, relay_holds) = read_saved(bytes)?;
        let log: Vec<SignedEntry> = saved
            .log
            .iter()
            .map(|b| SignedEntry::from_bytes(b))
            .collect::<Result<_, _>>()?;
        let membership = Membership::from_log(&log)?;
        let me = device.signing_public();
        let writes = membership
            .role_of(&me)
            .is_some_and(|r| r.may_write(Channel::Dossier));
        let dossier = if writes {
            Dossier::load(&saved.doc, &me)?
        } else {
            Dossier::load_as_reader(&saved.doc, &me)?
        };
        let mut replica = Replica {
            jury: Jury::from_saved(jury, &me)?,
            id: saved.id,
            dossier,
            keys: membership.keys_for(device),
            team: membership.team_keys_for(device),
            log,
            membership,
            me,
            counter: saved.counter,
            sealed_heads: saved.sealed_heads.into_iter().map(ChangeHash).collect(),
            seen: saved.seen.into_iter().collect(),
            outbox: saved.outbox.into_iter().collect(),
            early: BTreeMap::new(),
            held,
            relay_holds,
            snapshot: saved.snapshot,
            names: NamesCache::default(),
            history: crate::history::History::default(),
        };
        replica.open_grants(device);
        Ok(replica)
    }
}

/// Where a replica's content stands (see [`Replica::others_work_marker`]).
#[derive(Debug, Clone, PartialEq)]
pub struct WorkMarker {
    dossier: Vec<ChangeHash>,
    reviews: Vec<(MemberKey, Vec<ChangeHash>)>,
    decision: Option<Decision>,
}

/// The jury's side (`jury.rs`): keys, reviews, releases.
impl Replica {
    /// What changes when others' work is applied: the dossier's heads, the jury's reviews
    /// this device reads, and the released decision (documents of their own, not in the
    /// dossier). Compared before and after a sync to know whether to show anything new.
    pub fn others_work_marker(&mut self) -> WorkMarker {
        WorkMarker {
            dossier: self.dossier.automerge().get_heads(),
            reviews: self
                .jury
                .reviews
                .iter_mut()
                .map(|(w, d)| (*w, d.heads()))
                .collect(),
            decision: self.decision().map(|(_, d)| d),
        }
    }

    /// This device's signing key: how its own review is told from the others'.
    pub fn me(&self) -> MemberKey {
        self.me
    }

    /// Whether this device sits on the dossier's jury now.
    pub fn is_juror(&self) -> bool {
        self.membership.role_of(&self.me) == Some(Role::Juror)
    }

    /// Whether a jury reads the dossier (a juror among its members): its notes name annexes
    /// by number, so a deleted annexe no longer moves the others up
    /// ([`Dossier::delete_annexe`]).
    pub fn has_jury(&self) -> bool {
        self.membership
            .members
            .values()
            .any(|m| m.role == Role::Juror)
    }

    /// Whether this device sat on the dossier's jury at some point (a juror removed since
    /// keeps the decision the jury released: its own document).
    pub fn sat_on_jury(&self) -> bool {
        self.was_juror(&self.me)
    }

    /// Whether a signing key is, or was when it wrote, one of the dossier's jurors.
    fn was_juror(&self, signing: &MemberKey) -> bool {
        membership::roles_held(&self.log, signing)
            .iter()
            .any(|(_, role)| *role == Role::Juror)
    }

    /// Opens the kept grants again (after a restore: jury keys are never saved in clear).
    fn open_grants(&mut self, device: &DeviceSecret) {
        let grants = std::mem::take(&mut self.jury.grants);
        for grant in &grants {
            // One that no longer opens (it did when accepted) just gives nothing.
            let _ = self.take_grant(device, grant);
        }
        self.jury.grants = grants;
    }

    fn take_grant(&mut self, device: &DeviceSecret, grant: &JuryGrant) -> Result<(), SyncError> {
        let granted = jury::open_grant(device, self.id, grant, |k| self.was_juror(k))?;
        match granted.by {
            Some(by) => {
                for (epoch, key) in granted.keys {
                    self.jury.keys.entry((by, epoch)).or_insert(key);
                }
                if by == self.me {
                    // This device's own grant, back from the relay: its key is the one the
                    // relay keeps for it, and the others read what it seals with it.
                    self.jury.key_ids.insert(grant.epoch, grant.key_id);
                }
            }
            None => {
                for (epoch, key) in granted.keys {
                    self.jury.shared.entry(epoch).or_insert(key);
                }
            }
        }
        for (epoch, key) in granted.shared {
            self.jury.shared.entry(epoch).or_insert(key);
        }
        Ok(())
    }

    /// This juror's review key of `epoch`, once the relay confirmed it.
    fn own_review_key(&self, epoch: u32) -> Option<ContentKey> {
        self.jury.key_ids.get(&epoch)?;
        self.jury
            .keys
            .get(&(self.me, epoch))
            .map(ContentKey::duplicate)
    }

    /// Takes the jury keys the relay keeps for this device (each grant checked: sealed to
    /// this device, signed by a juror of this dossier), then opens the reviews that waited
    /// for them. Returns how many grants were new. A grant that does not open (a forgery, a
    /// hostile juror's garbage) is left aside, not an error: the rest of the sync goes on.
    pub fn accept_jury_grants(
        &mut self,
        device: &DeviceSecret,
        grants: &[JuryGrant],
    ) -> Result<usize, SyncError> {
        let mut new = 0;
        for grant in grants {
            if self.jury.grants.contains(grant) || self.take_grant(device, grant).is_err() {
                continue;
            }
            self.jury.grants.push(grant.clone());
            new += 1;
        }
        // A review that does not open is not this sync's failure (see `receive`).
        let _ = self.unlock_reviews();
        Ok(new)
    }

    /// What this juror sends the relay about its own review key of the current epoch, given
    /// what the relay holds (`key_id`: this juror's key, if it granted one; `granted`: who
    /// holds it): a new key granted to every juror when there is none, the key to the jurors
    /// who lack it when this device holds it, else nothing. Returns (epoch, key id, grant
    /// per juror).
    pub fn jury_grants_to_send(
        &self,
        device: &DeviceSecret,
        key_id: Option<[u8; 16]>,
        granted: &[MemberKey],
    ) -> Result<Option<(u32, [u8; 16], jury::Grants)>, SyncError> {
        if !self.is_juror() {
            return Ok(None);
        }
        let epoch = self.membership.epoch;
        let jurors = self
            .membership
            .members
            .values()
            .filter(|m| m.role == Role::Juror);
        let (id, key, to): (_, ContentKey, Vec<membership::Member>) = match key_id {
            None => (
                jury::new_key_id(),
                ContentKey::generate(),
                jurors.cloned().collect(),
            ),
            Some(id) if self.jury.key_ids.get(&epoch) == Some(&id) => {
                let Some(key) = self.own_review_key(epoch) else {
                    return Ok(None);
                };
                let missing = jurors
                    .filter(|m| !granted.contains(&m.signing))
                    .cloned()
                    .collect();
                (id, key, missing)
            }
            // The relay keeps a key of this device's it does not hold yet (its own grant
            // comes back with the relay's answer): it waits for it.
            Some(_) => return Ok(None),
        };
        if to.is_empty() {
            return Ok(None);
        }
        let own = self.jury.keys_of(&self.me);
        let grants = jury::grant(
            device,
            self.id,
            epoch,
            id,
            &key,
            &own,
            &self.jury.shared,
            &to,
        )?;
        Ok(Some((epoch, id, grants)))
    }

    /// Whether this juror holds its own review key of the current epoch, confirmed by the
    /// relay (what its review is sealed with).
    pub fn has_jury_key(&self) -> bool {
        self.own_review_key(self.membership.epoch).is_some()
    }

    /// Review envelopes received and not yet readable (their jury key not granted yet).
    pub fn locked_reviews(&self) -> usize {
        self.jury.locked.len()
    }

    /// This juror's review, to read or change (sealed by [`Replica::flush_jury`]).
    pub fn my_review(&mut self) -> Result<&mut JuryDoc, SyncError> {
        if !self.is_juror() {
            return Err(SyncError::NotAJuror);
        }
        let me = self.me;
        // The person's review: a juror's other devices write the same one.
        let person = self.membership.person_of(&me);
        Ok(self
            .jury
            .reviews
            .entry(person)
            .or_insert_with(|| JuryDoc::new(&me)))
    }

    /// What this juror releases to the candidate (sealed by [`Replica::flush_jury`]).
    pub fn my_release(&mut self) -> Result<&mut JuryDoc, SyncError> {
        if !self.is_juror() {
            return Err(SyncError::NotAJuror);
        }
        let me = self.me;
        Ok(self
            .jury
            .releases
            .entry(me)
            .or_insert_with(|| JuryDoc::new(&me)))
    }

    /// The person this device writes the review of: itself, or for a juror's other device,
    /// the device the juror was first added with (what [`Replica::reviews`] keys it by).
    pub fn my_person(&self) -> MemberKey {
        self.membership.person_of(&self.me)
    }

    /// Every review this device reads (a juror: all the jury's; anyone else: none), by
    /// juror key.
    pub fn reviews(&self) -> Vec<(MemberKey, JurorReview)> {
        self.jury
            .reviews
            .iter()
            .map(|(w, d)| (*w, d.review()))
            .collect()
    }

    /// The jury's decision as released: the latest any juror released.
    pub fn decision(&self) -> Option<(MemberKey, Decision)> {
        let standing = self.standing_releases();
        let (first, rest) = standing.split_first()?;
        rest.iter()
            .all(|(_, d)| d.same_result(&first.1))
            .then(|| first.clone())
    }

    /// Whether jurors released different decisions that none of them has replaced yet
    /// (released at once, or one without having received the other's): no decision stands
    /// until a juror releases again, having seen them.
    pub fn releases_disagree(&self) -> bool {
        let standing = self.standing_releases();
        standing
            .split_first()
            .is_some_and(|(first, rest)| rest.iter().any(|(_, d)| !d.same_result(&first.1)))
    }

    /// Each juror's current release that no other current release replaces. A release
    /// replaces those its juror had received ([`Replica::release_decision`]); dates play no
    /// part, so a juror dating a release in the far future overrides nobody.
    fn standing_releases(&self) -> Vec<(MemberKey, Decision)> {
        let current: Vec<(MemberKey, Decision)> = self
            .jury
            .releases
            .iter()
            .filter_map(|(w, d)| Some((*w, d.decision()?)))
            .collect();
        current
            .iter()
            .filter(|(w, d)| {
                let named = crate::review::ReleaseRef {
                    juror: hex::encode(w),
                    at_ms: d.at_ms,
                };
                !current
                    .iter()
                    .any(|(other, o)| other != w && o.supersedes.contains(&named))
            })
            .cloned()
            .collect()
    }

    /// Releases this juror's decision to the candidate, replacing the other jurors'
    /// releases this device has received.
    pub fn release_decision(&mut self, mut decision: Decision) -> Result<(), SyncError> {
        decision.check()?;
        let me = self.me;
        decision.supersedes = self
            .jury
            .releases
            .iter()
            .filter(|(w, _)| **w != me)
            .filter_map(|(w, d)| {
                Some(crate::review::ReleaseRef {
                    juror: hex::encode(w),
                    at_ms: d.decision()?.at_ms,
                })
            })
            .collect();
        self.my_release()?.release(&decision);
        Ok(())
    }

    /// Seals this juror's new changes: its review with the jury key (only once this device
    /// holds the key the relay confirmed; until then they wait in the document), what it
    /// releases with the dossier's key. One envelope per channel with something new.
    pub fn flush_jury(
        &mut self,
        device: &DeviceSecret,
        mut nonce: impl FnMut() -> [u8; 24],
    ) -> Result<Vec<Vec<u8>>, SyncError> {
        if !self.is_juror() {
            return Ok(Vec::new());
        }
        let epoch = self.membership.epoch;
        let me = self.me;
        let mut out = Vec::new();
        let person = self.membership.person_of(&me);
        if let (Some(key), Some(doc)) = (
            self.own_review_key(epoch),
            self.jury.reviews.get_mut(&person),
        ) {
            // This device's changes only: the person's other devices sealed theirs.
            let changes = doc.own_changes_since(&self.jury.sealed_review, &me);
            self.jury.sealed_review = doc.heads();
            if !changes.is_empty() {
                out.push(self.seal_own(device, Channel::Review, &key, nonce(), &changes));
            }
        }
        if let Some(doc) = self.jury.releases.get_mut(&me) {
            let changes = doc.changes_since(&self.jury.sealed_release);
            let heads = doc.heads();
            if !changes.is_empty() {
                let key = self
                    .keys
                    .get(&epoch)
                    .ok_or(SyncError::NoKey(epoch))?
                    .duplicate();
                self.jury.sealed_release = heads;
                out.push(self.seal_own(device, Channel::Release, &key, nonce(), &changes));
            }
        }
        Ok(out)
    }

    /// Applies the review envelopes whose key this device now holds, each person's in one
    /// batch (a juror's devices write one review); returns those that cannot be (they are
    /// set aside, the others applied). A batch whose changes wait for another device's
    /// not yet readable stays locked too, to be applied again with them (automerge keeps
    /// waiting changes in memory only).
    fn unlock_reviews(&mut self) -> Vec<Quarantined> {
        let mut setaside = Vec::new();
        // Per person: each envelope's place (writer, counter), its changes and its bytes.
        type Batches = Vec<((MemberKey, u64), Vec<u8>, Vec<u8>)>;
        let mut by_person: BTreeMap<MemberKey, Batches> = BTreeMap::new();
        for bytes in std::mem::take(&mut self.jury.locked) {
            let Ok(env) = Envelope::parse(&bytes) else {
                continue;
            };
            let at = (env.header.writer, env.header.counter);
            let openers = self.jury.openers(&at.0, env.header.epoch);
            if openers.is_empty() {
                self.jury.locked.push(bytes);
                continue;
            }
            // The writer's own key, or the shared key of version 1 (reviews sealed before).
            let opened = openers
                .iter()
                .find_map(|k| env.open(k).ok())
                .ok_or(EnvelopeError::Decrypt);
            match opened
                .map_err(SyncError::from)
                .and_then(|c| changes_written_by(&c, &at.0).map(|_| c))
            {
                Ok(changes) => by_person
                    .entry(self.membership.person_of(&at.0))
                    .or_default()
                    .push((at, changes, bytes)),
                Err(reason) => setaside.push(quarantined(at, reason)),
            }
        }
        let me = self.me;
        for (person, batches) in by_person {
            let doc = self
                .jury
                .reviews
                .entry(person)
                .or_insert_with(|| JuryDoc::new(&me));
            let all: Vec<u8> = batches
                .iter()
                .flat_map(|(_, c, _)| c.iter().copied())
                .collect();
            if doc.apply(&all).is_err() {
                for (at, changes, _) in &batches {
                    if let Err(e) = doc.apply(changes) {
                        setaside.push(quarantined(*at, e.into()));
                    }
                }
            }
            if doc.waits_for_changes() {
                self.jury
                    .locked
                    .extend(batches.into_iter().map(|(_, _, bytes)| bytes));
            }
        }
        setaside
    }
}

fn quarantined(at: (MemberKey, u64), reason: SyncError) -> Quarantined {
    Quarantined {
        writer: at.0,
        counter: at.1,
        reason,
    }
}

/// Checks that a change batch holds only whole automerge changes written by `writer` (its
/// actor is the writer's signing key, as [`Dossier::new`] makes it): the envelope's
/// signature is the only proof of authorship, so a member must not slip in changes in
/// another member's name. Returns the changes' hashes.
fn changes_written_by(batch: &[u8], writer: &MemberKey) -> Result<Vec<ChangeHash>, SyncError> {
    // Bounded first: parsing a change inflates it (automerge itself sets no limit).
    crate::automerge_guard::check(batch)?;
    let mut hashes = Vec::new();
    let mut rest = batch;
    while !rest.is_empty() {
        let len = chunk_len(rest).ok_or(SyncError::Corrupt)?;
        let (chunk, after) = rest.split_at(len);
        let change = automerge::Change::try_from(chunk).map_err(|_| SyncError::Corrupt)?;
        if *writer != *change.actor_id().to_bytes() {
            return Err(SyncError::NotTheAuthor);
        }
        hashes.push(change.hash());
        rest = after;
    }
    Ok(hashes)
}

/// Whether a change batch (checked by [`changes_written_by`]) replaces the dossier's pinned
/// template or référentiel: what the candidate's dossier asks and prints. A first pin (no
/// value before it: the migration of a dossier made before templates were data, which any
/// writer's device may run) is not a replacement; writing over one is, and only the
/// candidate's devices may.
fn replaces_a_pin(batch: &[u8]) -> Result<bool, SyncError> {
    let mut rest = batch;
    while !rest.is_empty() {
        let len = chunk_len(rest).ok_or(SyncError::Corrupt)?;
        let (chunk, after) = rest.split_at(len);
        let change = automerge::Change::try_from(chunk).map_err(|_| SyncError::Corrupt)?;
        let replaces = change.decode().operations.iter().any(|op| {
            op.obj == automerge::legacy::ObjectId::Root
                && matches!(&op.key, automerge::legacy::Key::Map(key) if PINS.contains(&key.as_str()))
                && !op.pred.is_empty()
        });
        if replaces {
            return Ok(true);
        }
        rest = after;
    }
    Ok(false)
}

/// The dossier's root keys only its owner may write over.
const PINS: &[&str] = &["template", "referentiel", "referentiel_sha256"];

/// The length of the automerge chunk that starts `bytes`: magic (4), checksum (4), type (1),
/// body length (LEB128), body.
fn chunk_len(bytes: &[u8]) -> Option<usize> {
    let mut at = 9;
    let mut len: u64 = 0;
    for shift in (0..64).step_by(7) {
        let byte = *bytes.get(at)?;
        at += 1;
        len |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            let end = at.checked_add(usize::try_from(len).ok()?)?;
            return (end <= bytes.len()).then_some(end);
        }
    }
    None
}

/// A saved replica's parts: its state, the jury's state, the envelopes held for a key, and
/// how many membership entries the relay holds.
type SavedParts = (Saved, SavedJury, Vec<Vec<u8>>, u64);

/// A save's parts, each after the other (absent from a save older than it).
fn read_saved(bytes: &[u8]) -> Result<SavedParts, SyncError> {
    let (saved, rest): (Saved, &[u8]) =
        postcard::take_from_bytes(bytes).map_err(|_| SyncError::Corrupt)?;
    if rest.is_empty() {
        return Ok((saved, SavedJury::default(), Vec::new(), 0));
    }
    let (jury, rest): (SavedJury, &[u8]) =
        postcard::take_from_bytes(rest).map_err(|_| SyncError::Corrupt)?;
    if rest.is_empty() {
        return Ok((saved, jury, Vec::new(), 0));
    }
    let (held, rest): (Vec<Vec<u8>>, &[u8]) =
        postcard::take_from_bytes(rest).map_err(|_| SyncError::Corrupt)?;
    let relay_holds = if rest.is_empty() {
        0
    } else {
        postcard::from_bytes(rest).map_err(|_| SyncError::Corrupt)?
    };
    Ok((saved, jury, held, relay_holds))
}

#[cfg(test)]
mod receive_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::membership::Role;

    /// Presence goes from one member to another sealed and signed; it is not history, and
    /// neither a stranger's nor a tampered one is taken.
    #[test]
    fn presence_is_sealed_between_members_and_is_not_history() {
        let owner = DeviceSecret::generate();
        let advisor = DeviceSecret::generate();
        let stranger = DeviceSecret::generate();
        let key = EpochKeys::generate();
        let (o, entry) = Replica::create(&owner, DossierId([9; 16]), key.duplicate()).unwrap();
        let add =
            membership::add(o.membership(), &owner, &advisor.id(), Role::Advisor, &key).unwrap();
        let a = Replica::join(&advisor, vec![entry, add.clone()]).unwrap();
        let mut o = o;
        o.apply_membership(&owner, &[add]).unwrap();
        let here = Presence {
            field: "fiches.0.contexte".into(),
            caret: Some(12),
            name: "Camille Martin".into(),
            leaving: false,
        };
        let sealed = a
            .seal_presence(&advisor, 1_700_000_000_123, [3; 24], &here)
            .unwrap();
        assert!(!sealed.windows(7).any(|w| w == b"Camille"), "sealed");
        let seen = o.open_presence(&sealed).unwrap();
        assert_eq!(seen.presence, here);
        assert_eq!(seen.role, Role::Advisor);
        assert_eq!(seen.at_ms, 1_700_000_000_123);
        assert_eq!(seen.writer, advisor.signing_public());

        let mut tampered = sealed.clone();
        tampered[130] ^= 1;
        assert!(o.open_presence(&tampered).is_err());
        // Not a change batch: a relay cannot slip it into the history.
        let got = o.receive(&[sealed]).unwrap();
        assert_eq!(got.applied, 0);
        assert_eq!(got.quarantined[0].reason, SyncError::Forbidden);
        // A stranger's (same dossier id, its own key) is refused.
        let (s, _) = Replica::create(&stranger, DossierId([9; 16]), key.duplicate()).unwrap();
        let foreign = s.seal_presence(&stranger, 5, [4; 24], &here).unwrap();
        assert_eq!(
            o.open_presence(&foreign).unwrap_err(),
            SyncError::UnknownWriter
        );
        assert!(o.open_presence(&vec![0; MAX_PRESENCE + 1]).is_err());
    }

    #[test]
    fn a_juror_reads_but_cannot_seal_dossier_edits() {
        let owner = DeviceSecret::generate();
        let juror = DeviceSecret::generate();
        let key = EpochKeys::generate();
        let (mut o, entry) = Replica::create(&owner, DossierId([5; 16]), key.duplicate()).unwrap();
        o.dossier().set("fiches.0.taches", "Analyser").unwrap();
        let first = o.flush(&owner, [1; 24]).unwrap().unwrap();
        let add = membership::add(o.membership(), &owner, &juror.id(), Role::Juror, &key).unwrap();
        let mut j = Replica::join(&juror, vec![entry, add]).unwrap();
        j.receive(&[first]).unwrap();
        assert_eq!(j.dossier().get("fiches.0.taches").unwrap(), "Analyser");
        j.dossier().set("fiches.0.taches", "réécrit").unwrap();
        let mut j = Replica::restore(&juror, &j.save()).unwrap();
        assert_eq!(j.flush(&juror, [2; 24]).unwrap_err(), SyncError::ReadOnly);
    }

    /// An advisor's comment reaches the candidate through ordinary change batches; the juror
    /// receives the same batches, reads the dossier, and can neither read nor write comments.
    /// After the advisor is removed, the candidate's new comments are sealed with a team key
    /// the advisor never gets.
    #[test]
    fn comments_reach_the_candidate_and_advisors_never_the_juror() {
        let owner = DeviceSecret::generate();
        let advisor = DeviceSecret::generate();
        let juror = DeviceSecret::generate();
        let key = EpochKeys::generate();
        let (mut o, _) = Replica::create(&owner, DossierId([4; 16]), key.duplicate()).unwrap();
        o.dossier().set("fiches.0.contexte", "Une PME").unwrap();
        let first = o.flush(&owner, [1; 24]).unwrap().unwrap();
        let add_a =
            membership::add(o.membership(), &owner, &advisor.id(), Role::Advisor, &key).unwrap();
        o.apply_membership(&owner, std::slice::from_ref(&add_a))
            .unwrap();
        let add_j =
            membership::add(o.membership(), &owner, &juror.id(), Role::Juror, &key).unwrap();
        o.apply_membership(&owner, std::slice::from_ref(&add_j))
            .unwrap();
        let log = o.log().to_vec();
        let mut a = Replica::join(&advisor, log.clone()).unwrap();
        let mut j = Replica::join(&juror, log).unwrap();
        a.receive(std::slice::from_ref(&first)).unwrap();
        j.receive(std::slice::from_ref(&first)).unwrap();
        assert!(a.may_comment() && o.may_comment() && !j.may_comment());

        let draft = Draft {
            field: "fiches.0.contexte".into(),
            reply_to: None,
            author: "Alex".into(),
            text: "Combien de salariés ?".into(),
        };
        let c = a.comment(&advisor, draft, [1; 16], 100, [2; 24]).unwrap();
        let batch = a.flush(&advisor, [3; 24]).unwrap().unwrap();
        o.receive(std::slice::from_ref(&batch)).unwrap();
        j.receive(std::slice::from_ref(&batch)).unwrap();
        let seen = o.comments();
        assert_eq!(seen.threads.len(), 1);
        assert_eq!(seen.threads[0].first, c);
        assert_eq!(j.comments().threads.len(), 0);
        assert_eq!(j.comments().unreadable, 1);
        assert_eq!(j.dossier().get("fiches.0.contexte").unwrap(), "Une PME");
        let draft = Draft {
            field: "fiches.0.contexte".into(),
            reply_to: Some(c.id),
            author: "Juré".into(),
            text: "je lis tout".into(),
        };
        assert_eq!(
            j.comment(&juror, draft, [2; 16], 101, [4; 24]).unwrap_err(),
            SyncError::ReadOnly
        );

        o.set_thread_resolved(&owner, c.id, true, "Camille", 200, [5; 24])
            .unwrap();
        let resolved = o.flush(&owner, [6; 24]).unwrap().unwrap();
        a.receive(std::slice::from_ref(&resolved)).unwrap();
        assert!(a.comments().threads[0].resolved());

        let removal = membership::remove(
            o.membership(),
            &owner,
            &advisor.signing_public(),
            &EpochKeys::generate(),
        )
        .unwrap();
        o.apply_membership(&owner, std::slice::from_ref(&removal))
            .unwrap();
        a.apply_membership(&advisor, std::slice::from_ref(&removal))
            .unwrap();
        let draft = Draft {
            field: "cv.parcours".into(),
            reply_to: None,
            author: "Camille".into(),
            text: "Après le départ d'Alex".into(),
        };
        o.comment(&owner, draft, [3; 16], 300, [7; 24]).unwrap();
        // The removed advisor's copy, given the document (as if it still received it): the
        // old thread stays readable, the new one does not open.
        let doc = o.dossier().save();
        let mut copy = Dossier::load(&doc, b"x").unwrap();
        let theirs = comments::read(&mut copy, &o.id, a.team_keys());
        assert_eq!((theirs.threads.len(), theirs.unreadable), (1, 1));
        assert_eq!(o.comments().threads.len(), 2);
    }

    /// The laptop and the phone of one candidate each share the dossier while offline; the
    /// laptop publishes first. The phone's entry is written again on top, nothing is lost,
    /// and an entry both made is not repeated.
    #[test]
    fn membership_changes_made_offline_on_two_owner_devices_are_rebased() {
        let laptop = DeviceSecret::generate();
        let phone = DeviceSecret::generate();
        let advisor = DeviceSecret::generate();
        let juror = DeviceSecret::generate();
        let key = EpochKeys::generate();
        let (mut l, genesis) =
            Replica::create(&laptop, DossierId([6; 16]), key.duplicate()).unwrap();
        let pairing =
            membership::add(l.membership(), &laptop, &phone.id(), Role::Owner, &key).unwrap();
        l.apply_membership(&laptop, std::slice::from_ref(&pairing))
            .unwrap();
        let relay = vec![genesis, pairing];
        let mut p = Replica::join(&phone, relay.clone()).unwrap();
        assert!(l.reconcile_membership(&laptop, &relay).unwrap().is_empty());

        // Offline: the laptop adds the advisor; the phone adds the same advisor and a juror.
        for (replica, device) in [(&mut l, &laptop), (&mut p, &phone)] {
            let k = replica.epoch_keys().unwrap();
            let e = membership::add(
                replica.membership(),
                device,
                &advisor.id(),
                Role::Advisor,
                &k,
            )
            .unwrap();
            replica.apply_membership(device, &[e]).unwrap();
        }
        let e = membership::add(p.membership(), &phone, &juror.id(), Role::Juror, &key).unwrap();
        p.apply_membership(&phone, &[e]).unwrap();

        // The laptop reaches the relay first.
        let publish = l.reconcile_membership(&laptop, &relay).unwrap();
        assert_eq!(publish.len(), 1);
        let mut relay = relay;
        relay.extend(publish);
        // Then the phone: only the juror is left to publish, chained after the laptop's entry.
        let publish = p.reconcile_membership(&phone, &relay).unwrap();
        assert_eq!(publish.len(), 1);
        assert_eq!(publish[0].body.prev, relay.last().unwrap().hash());
        relay.extend(publish);
        let state = Membership::from_log(&relay).unwrap();
        assert_eq!(
            state.role_of(&advisor.signing_public()),
            Some(Role::Advisor)
        );
        assert_eq!(state.role_of(&juror.signing_public()), Some(Role::Juror));
        assert_eq!(p.membership(), &state);
        // The laptop catches up with no entry of its own left.
        assert!(l.reconcile_membership(&laptop, &relay).unwrap().is_empty());
        assert_eq!(l.membership(), &state);
    }

    /// A full save, then deltas (edits, a flush, a merged edit from another device): the
    /// replica put back together equals the one saved in full at the end.
    #[test]
    fn deltas_after_a_full_save_restore_the_same_replica() {
        let owner = DeviceSecret::generate();
        let other = DeviceSecret::generate();
        let key = EpochKeys::generate();
        let (mut a, entry) = Replica::create(&owner, DossierId([7; 16]), key.duplicate()).unwrap();
        let add =
            membership::add(a.membership(), &owner, &other.id(), Role::Advisor, &key).unwrap();
        a.apply_membership(&owner, std::slice::from_ref(&add))
            .unwrap();
        let mut b = Replica::join(&other, vec![entry, add]).unwrap();
        a.dossier().set("fiches.0.contexte", "Début").unwrap();
        let first = a.flush(&owner, [1; 24]).unwrap().unwrap();
        b.receive(&[first]).unwrap();
        let full = a.save();
        let mut deltas = Vec::new();
        for (i, word) in [" du", " contexte", " de", " la", " mission"]
            .iter()
            .enumerate()
        {
            a.dossier()
                .splice("fiches.0.contexte", 5 + i * 10, 0, word)
                .ok();
            deltas.push(a.save_delta());
        }
        a.flush(&owner, [3; 24]).unwrap();
        deltas.push(a.save_delta());
        b.dossier().set("etat_civil.nom", "Durand").unwrap();
        let from_b = b.flush(&other, [4; 24]).unwrap().unwrap();
        a.receive(&[from_b]).unwrap();
        deltas.push(a.save_delta());

        let mut back = Replica::restore_with_deltas(&owner, &full, &deltas).unwrap();
        let mut whole = Replica::restore(&owner, &a.save()).unwrap();
        assert_eq!(
            back.dossier().to_json_value(),
            whole.dossier().to_json_value()
        );
        assert_eq!(back.dossier().get("etat_civil.nom").unwrap(), "Durand");
        assert_eq!(back.since(), whole.since());
        assert_eq!(back.outbox(), whole.outbox());
        assert_eq!(back.membership(), whole.membership());
        // No delta: the full save alone.
        assert!(Replica::restore_with_deltas(&owner, &full, &[]).is_ok());
        // A delta from another dossier is refused.
        let (mut c, _) =
            Replica::create(&owner, DossierId([8; 16]), EpochKeys::generate()).unwrap();
        assert_eq!(
            Replica::restore_with_deltas(&owner, &full, &[c.save_delta()]).unwrap_err(),
            SyncError::Corrupt
        );
    }

    /// The template and référentiel a dossier pins are its candidate's to change: an
    /// advisor's device writing over them (a modified client: the app offers no way) is
    /// refused by every other member's replica, while its edits and a first pin (the
    /// migration of a dossier made before templates were data) are taken.
    #[test]
    fn only_the_owner_writes_over_the_pinned_template() {
        let owner = DeviceSecret::generate();
        let advisor = DeviceSecret::generate();
        let key = EpochKeys::generate();
        let (mut o, entry) = Replica::create(&owner, DossierId([7; 16]), key.duplicate()).unwrap();
        o.dossier()
            .set_template(crate::template::annexe5())
            .unwrap();
        o.dossier().set("etat_civil.nom", "Martin").unwrap();
        let first = o.flush(&owner, [9; 24]).unwrap().unwrap();
        let add =
            membership::add(o.membership(), &owner, &advisor.id(), Role::Advisor, &key).unwrap();
        o.apply_membership(&owner, std::slice::from_ref(&add))
            .unwrap();
        let mut a = Replica::join(&advisor, vec![entry, add]).unwrap();
        a.receive(&[first]).unwrap();
        assert_eq!(a.dossier().template().id, "livret2-annexe5-rncp37827");

        // An honest edit, then the template written over.
        a.dossier().set("etat_civil.prenom", "Camille").unwrap();
        let honest = a.flush(&advisor, [1; 24]).unwrap().unwrap();
        a.dossier()
            .set_template(crate::template::generic())
            .unwrap();
        let over = a.flush(&advisor, [2; 24]).unwrap().unwrap();
        let got = o.receive(&[honest, over]).unwrap();
        assert_eq!(got.applied, 1, "{got:?}");
        assert_eq!(got.quarantined[0].reason, SyncError::NotTheOwnersPin);
        assert_eq!(o.dossier().get("etat_civil.prenom").unwrap(), "Camille");
        assert_eq!(o.dossier().template().id, "livret2-annexe5-rncp37827");

        // The owner's own device may (its other devices take it).
        o.dossier()
            .set_template(crate::template::generic())
            .unwrap();
        let mine = o.flush(&owner, [3; 24]).unwrap().unwrap();
        assert!(!replaces_a_pin(&[]).unwrap());
        let content = o.keys.get(&o.membership.epoch).unwrap().duplicate();
        let batch = Envelope::parse(&mine).unwrap().open(&content).unwrap();
        assert!(
            replaces_a_pin(&batch).unwrap(),
            "a replacement, by the owner"
        );
        assert_eq!(a.receive(&[mine]).unwrap().quarantined.len(), 0);

        // A first pin, by anyone's device, is no replacement.
        let mut fresh = crate::dossier::Dossier::new(&advisor.signing_public().0);
        let before = fresh.automerge().get_heads();
        fresh.set_template(crate::template::generic()).unwrap();
        let pinned: Vec<u8> = fresh
            .automerge()
            .get_changes(&before)
            .iter()
            .flat_map(|c| c.raw_bytes().to_vec())
            .collect();
        assert!(!replaces_a_pin(&pinned).unwrap());
    }

    /// A member's envelope whose few kilobytes of DEFLATE stand for a gigabyte is refused
    /// before automerge inflates it; honest envelopes from the same writer apply, and so
    /// does a large honest one. Same for a snapshot whose document hides such a column.
    #[test]
    fn an_inflation_bomb_is_refused_and_honest_changes_pass() {
        use crate::automerge_guard::{GuardError, crafted};
        let owner = DeviceSecret::generate();
        let advisor = DeviceSecret::generate();
        let key = EpochKeys::generate();
        let (mut o, entry) = Replica::create(&owner, DossierId([6; 16]), key.duplicate()).unwrap();
        o.dossier().set("fiches.0.contexte", "Une PME").unwrap();
        let first = o.flush(&owner, [9; 24]).unwrap().unwrap();
        let add =
            membership::add(o.membership(), &owner, &advisor.id(), Role::Advisor, &key).unwrap();
        o.apply_membership(&owner, std::slice::from_ref(&add))
            .unwrap();
        let mut a = Replica::join(&advisor, vec![entry, add]).unwrap();
        a.receive(&[first]).unwrap();
        // Honest prose in one flush (the guard's own tests pass megabytes).
        let long: String = (0..2_000).map(|i| format!("mot{} ", i % 977)).collect();
        a.dossier().set("fiches.0.contexte", &long).unwrap();
        let honest = a.flush(&advisor, [1; 24]).unwrap().unwrap();
        let bomb_payload = crafted::compressed_change_bomb(1 << 30);
        assert!(bomb_payload.len() < 2_000_000);
        let content = a.keys.get(&a.membership.epoch).unwrap().duplicate();
        let bomb = a.seal_own(&advisor, Channel::Dossier, &content, [2; 24], &bomb_payload);

        assert_eq!(o.receive(&[honest]).unwrap().applied, 1);
        assert_eq!(o.dossier().get("fiches.0.contexte").unwrap(), long);
        let got = o.receive(&[bomb]).unwrap();
        assert_eq!(got.applied, 0);
        assert!(
            matches!(
                got.quarantined[0].reason,
                SyncError::Inflation(GuardError::TooLarge { .. })
            ),
            "refused by the guard: {got:?}"
        );
        assert_eq!(o.dossier().get("fiches.0.contexte").unwrap(), long);

        // A snapshot carrying the bomb as its document.
        let body = SnapshotBody {
            covers: vec![],
            doc: crafted::compressed_change_bomb(1 << 30),
        };
        let header = Header {
            dossier: a.id,
            epoch: a.membership.epoch,
            writer: a.me,
            counter: 1,
            parent: [0; 32],
            kind: Kind::Snapshot,
            channel: Channel::Dossier,
        };
        let snapshot = envelope::seal(
            &header,
            &content,
            [3; 24],
            &postcard::to_stdvec(&body).unwrap(),
            &advisor,
        );
        assert!(matches!(
            o.receive_snapshot(&snapshot),
            Err(SyncError::Inflation(GuardError::TooLarge { .. }))
        ));
        assert_eq!(o.dossier().get("fiches.0.contexte").unwrap(), long);
    }
}
