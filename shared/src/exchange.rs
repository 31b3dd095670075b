//! One sync of one dossier with the relay, without I/O: the driver (the CLI, the app, the
//! in-memory harness) sends what [`Exchange::start`] returns, hands every message the relay
//! sends to [`Exchange::handle`] and sends what it returns, until [`Exchange::is_done`].
//! Written once, so that every device does the same things in the same order:
//!
//! 1. seal what was typed, subscribe from what this replica has;
//! 2. a dossier made offline that the relay does not know yet is created by its first
//!    membership entry, then subscribed to again;
//! 3. the catch-up, gathered from its frames: the replica's membership log is lined up with
//!    the relay's (entries this device wrote offline are published, one at a time; earlier
//!    epochs' keys given to members who lack them), then snapshot and envelopes applied in
//!    one batch; a device removed meanwhile stops here;
//! 4. what was sealed for an epoch that ended (a removal learnt of just now) is sealed again;
//! 5. a juror takes the jury key, makes it if the jury has none, grants it to jurors who
//!    lack it; the reviews are sealed with it;
//! 6. the outbox is pushed; the exchange is done when every envelope is acknowledged. An
//!    envelope refused for its epoch is sealed again and sent once the new epoch is known.
//!
//! Live frames (others' edits, new members) are applied as they come once caught up.

use std::collections::{BTreeSet, VecDeque};

use crate::catchup::Gathered;
use crate::deletion::DeletionNotice;
use crate::envelope::{DossierId, Envelope};
use crate::keys::{DeviceSecret, MemberKey};
use crate::membership::SignedEntry;
use crate::protocol::{ClientMsg, Rejection, ServerMsg};
use crate::sync::{Received, Replica, SyncError};

/// Why an exchange stopped. What arrived before is kept in the replica (save it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExchangeError {
    #[error("le relais a refusé : {detail} ({})", reason.as_str())]
    Refused { reason: Rejection, detail: String },
    #[error(
        "cet appareil n'est plus membre du dossier {0} : le candidat l'en a retiré (ce qu'il \
         en avait est effacé de cet appareil)"
    )]
    Removed(DossierId),
    /// The membership log does not name this device (its key is not the one the dossier
    /// knows): nothing is wiped — only an owner's signed removal wipes a copy.
    #[error(
        "cet appareil ne figure pas parmi les membres du dossier {0} (sa clé n'est pas celle \
         que le dossier connaît) : rien n'est effacé"
    )]
    NotAMember(DossierId),
    #[error("le relais ne connaît pas le dossier qu'il vient de créer")]
    NotCreated,
    /// The candidate deleted the dossier (their notice checked against the members this
    /// device knows): the driver wipes this device's copy.
    #[error("le candidat a supprimé le dossier {dossier} : sa copie est effacée de cet appareil")]
    Deleted {
        dossier: DossierId,
        notice: Box<crate::deletion::DeletionNotice>,
        deleted_ms: i64,
    },
    /// The relay says the dossier was deleted, with a notice this device cannot check (not
    /// signed by a candidate's key it knows): nothing is wiped, nothing more exchanged.
    #[error(
        "le relais dit le dossier {dossier} supprimé, sans preuve que le candidat l'a \
         voulu ({why}) : rien n'est effacé sur cet appareil"
    )]
    UncheckedDeletion {
        dossier: DossierId,
        why: crate::deletion::DeletionError,
    },
    #[error(transparent)]
    Sync(#[from] SyncError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Subscribed; gathering the catch-up's frames.
    CatchingUp,
    /// The relay did not know the dossier: its first entry is on the way.
    Creating,
    /// Entries this device wrote offline, published one at a time.
    Publishing,
    /// A juror's jury key round (asked, then answered after each grant).
    JuryKeys,
    /// The outbox sent; waiting for its acknowledgements.
    Pushing,
    Done,
}

/// Answers to jury key requests taken at most (each grant is answered once): bounds the
/// round whatever the relay says.
const JURY_ANSWERS: u8 = 3;

/// One sync in progress (see the module's description).
#[derive(Debug)]
pub struct Exchange {
    dossier: DossierId,
    phase: Phase,
    gathering: Gathered,
    created: bool,
    unpublished: VecDeque<SignedEntry>,
    jury_answers: u8,
    /// Counters pushed and not acknowledged yet.
    waiting: BTreeSet<u64>,
    received: Received,
    caught_up: usize,
    /// A snapshot was taken (its document merged in).
    snapshot_taken: bool,
    /// The device's clock when the exchange started (milliseconds since 1970): when a
    /// deletion notice takes effect is judged by it.
    now_ms: i64,
    /// The candidate's notice of retention, to send once caught up.
    retain: Option<DeletionNotice>,
    /// The candidate's notice of retention is sent and not yet answered.
    retaining: bool,
    /// When the relay says it will delete the dossier, unless something happens in it.
    expires_ms: Option<i64>,
}

/// Whether the exchange goes on: this device is a member; [`ExchangeError::Removed`] when
/// an owner's signed entry removed it (the driver wipes its copy), [`ExchangeError::NotAMember`]
/// when the log does not name it at all (nothing wiped).
fn still_member(replica: &Replica) -> Result<(), ExchangeError> {
    if replica.is_member() {
        return Ok(());
    }
    Err(match replica.standing() {
        crate::membership::Standing::Removed => ExchangeError::Removed(replica.id),
        _ => ExchangeError::NotAMember(replica.id),
    })
}

impl Exchange {
    /// Seals what was typed and subscribes; returns the messages to send. `now_ms`: the
    /// device's clock.
    pub fn start(
        replica: &mut Replica,
        device: &DeviceSecret,
        now_ms: i64,
        nonce: &mut impl FnMut() -> [u8; 24],
    ) -> Result<(Exchange, Vec<ClientMsg>), ExchangeError> {
        // Removed, as an earlier sync learnt: nothing to exchange any more.
        still_member(replica)?;
        let retain = renew_retention(replica, device, now_ms)?;
        replica.flush(device, nonce())?;
        let exchange = Exchange {
            dossier: replica.id,
            phase: Phase::CatchingUp,
            gathering: Gathered::default(),
            created: false,
            unpublished: VecDeque::new(),
            jury_answers: 0,
            waiting: BTreeSet::new(),
            received: Received::default(),
            caught_up: 0,
            snapshot_taken: false,
            now_ms,
            retain,
            retaining: false,
            expires_ms: None,
        };
        let subscribe = exchange.subscribe(replica);
        Ok((exchange, vec![subscribe]))
    }

    /// Every envelope acknowledged, nothing left to do.
    pub fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }

    /// What the replica did with what arrived (set aside, waiting for a key), so far.
    pub fn received(&self) -> &Received {
        &self.received
    }

    /// Whether others' work arrived (envelopes applied, a snapshot merged): what to tell the
    /// user. Comparing the document before and after would count what this device typed
    /// while the exchange ran.
    pub fn arrived(&self) -> bool {
        self.received.applied > 0 || self.snapshot_taken
    }

    /// When the relay will delete the dossier unless something happens in it, as it answered
    /// the candidate's notice of retention (a candidate's exchange only).
    pub fn expires_ms(&self) -> Option<i64> {
        self.expires_ms
    }

    /// How many envelopes the catch-up carried (a long one is worth compacting).
    pub fn caught_up_envelopes(&self) -> usize {
        self.caught_up
    }

    /// Takes one message from the relay; returns the messages to send.
    pub fn handle(
        &mut self,
        replica: &mut Replica,
        device: &DeviceSecret,
        msg: ServerMsg,
        nonce: &mut impl FnMut() -> [u8; 24],
    ) -> Result<Vec<ClientMsg>, ExchangeError> {
        match msg {
            ServerMsg::Rejected {
                reason: Rejection::UnknownDossier,
                ..
            } if self.phase == Phase::CatchingUp && !self.created => {
                // Made offline and never published: its first entry creates it.
                self.created = true;
                self.phase = Phase::Creating;
                let entry = replica.log()[0].to_bytes();
                Ok(vec![ClientMsg::Create { entry }])
            }
            ServerMsg::Rejected {
                reason: Rejection::UnknownDossier,
                ..
            } if self.phase == Phase::CatchingUp => Err(ExchangeError::NotCreated),
            ServerMsg::Rejected {
                reason: Rejection::WrongEpoch,
                ..
            } if self.phase == Phase::Pushing => {
                // Sealed before this device learnt of a removal: sealed again for the new
                // epoch now, or when the frame that tells of it arrives (see `live`).
                self.reseal_and_resend(replica, device, nonce)
            }
            ServerMsg::Rejected {
                reason: Rejection::WrongEpoch,
                ..
            } if self.phase == Phase::JuryKeys => {
                // A grant for an epoch that just ended: the next sync grants for the new one.
                self.push(replica, device, nonce)
            }
            ServerMsg::Rejected { reason, detail } => {
                Err(ExchangeError::Refused { reason, detail })
            }
            ServerMsg::Deleted {
                dossier,
                notice,
                deleted_ms,
            } if dossier == self.dossier => {
                Err(deletion_learnt(replica, &notice, deleted_ms, self.now_ms))
            }
            ServerMsg::Retained {
                dossier,
                expires_ms,
            } if dossier == self.dossier && self.retaining => {
                self.retaining = false;
                self.expires_ms = Some(expires_ms);
                if self.phase == Phase::Pushing && self.waiting.is_empty() {
                    self.phase = Phase::Done;
                }
                Ok(Vec::new())
            }
            msg @ ServerMsg::Log { .. } => match self.phase {
                Phase::CatchingUp => {
                    if self.gathering.add_msg(self.dossier, msg) != Some(true) {
                        return Ok(Vec::new());
                    }
                    let caught = std::mem::take(&mut self.gathering);
                    self.caught_up(replica, device, caught, nonce)
                }
                Phase::Creating => Ok(Vec::new()),
                _ => self.live(replica, device, msg, nonce),
            },
            ServerMsg::MembershipOk { dossier, seq } if dossier == self.dossier => {
                // The relay holds the log up to this entry now.
                replica.relay_holds_entries(seq as usize + 1);
                match self.phase {
                    Phase::Creating => {
                        self.phase = Phase::CatchingUp;
                        Ok(vec![self.subscribe(replica)])
                    }
                    Phase::Publishing => self.publish_next(replica, device, nonce),
                    _ => Ok(Vec::new()),
                }
            }
            ServerMsg::JuryKeys {
                dossier,
                epoch,
                key_id,
                granted,
                grants,
            } if dossier == self.dossier && self.phase == Phase::JuryKeys => {
                self.jury_answers += 1;
                let grant = jury_keys_answered(replica, device, epoch, key_id, &granted, &grants)?;
                match grant {
                    Some(grant) if self.jury_answers < JURY_ANSWERS => Ok(vec![grant]),
                    _ => self.push(replica, device, nonce),
                }
            }
            ServerMsg::Ack {
                dossier, counter, ..
            } if dossier == self.dossier => {
                replica.acknowledged(counter);
                self.waiting.remove(&counter);
                if self.phase == Phase::Pushing && self.waiting.is_empty() && !self.retaining {
                    self.phase = Phase::Done;
                }
                Ok(Vec::new())
            }
            _ => Ok(Vec::new()),
        }
    }

    fn subscribe(&self, replica: &Replica) -> ClientMsg {
        ClientMsg::Subscribe {
            dossier: self.dossier,
            since: replica.since(),
        }
    }

    fn caught_up(
        &mut self,
        replica: &mut Replica,
        device: &DeviceSecret,
        caught: Gathered,
        nonce: &mut impl FnMut() -> [u8; 24],
    ) -> Result<Vec<ClientMsg>, ExchangeError> {
        let entries = caught
            .entries
            .iter()
            .map(|b| SignedEntry::from_bytes(b))
            .collect::<Result<Vec<_>, _>>()
            .map_err(SyncError::from)?;
        // The relay's log is the order everyone follows: ours lined up with it, what it
        // lacks published after.
        let unpublished = replica.reconcile_membership(device, &entries)?;
        let received = replica.apply_log(
            device,
            &[],
            caught.snapshot.as_deref(),
            &caught.envelopes,
            caught.active_snapshot,
        )?;
        self.caught_up = caught.envelopes.len();
        self.note_snapshot(caught.snapshot.is_some(), &received);
        self.add(received);
        still_member(replica)?;
        replica.reseal_stale(device, &mut *nonce)?;
        self.unpublished = unpublished.into();
        self.publish_next(replica, device, nonce)
    }

    /// The next entry to publish; once none is left, the jury round or the push.
    fn publish_next(
        &mut self,
        replica: &mut Replica,
        device: &DeviceSecret,
        nonce: &mut impl FnMut() -> [u8; 24],
    ) -> Result<Vec<ClientMsg>, ExchangeError> {
        if let Some(entry) = self.unpublished.pop_front() {
            self.phase = Phase::Publishing;
            let bytes = entry.to_bytes();
            return Ok(vec![if entry.body.seq == 0 {
                ClientMsg::Create { entry: bytes }
            } else {
                ClientMsg::Membership {
                    dossier: self.dossier,
                    entry: bytes,
                }
            }]);
        }
        if replica.is_juror() {
            self.phase = Phase::JuryKeys;
            return Ok(vec![ClientMsg::JuryKeys {
                dossier: self.dossier,
            }]);
        }
        self.push(replica, device, nonce)
    }

    /// Seals what is left (typed meanwhile, a juror's review) and sends the whole outbox: a
    /// copy of what the relay stored is acknowledged again, never stored twice.
    fn push(
        &mut self,
        replica: &mut Replica,
        device: &DeviceSecret,
        nonce: &mut impl FnMut() -> [u8; 24],
    ) -> Result<Vec<ClientMsg>, ExchangeError> {
        // Taken once: a push again after a new epoch sends none.
        let retain = self.retain.take().map(|notice| {
            self.retaining = true;
            ClientMsg::Retain {
                notice: notice.to_bytes(),
            }
        });
        replica.flush(device, nonce())?;
        replica.flush_jury(device, &mut *nonce)?;
        let outbox = replica.outbox();
        self.waiting = outbox
            .iter()
            .map(|bytes| counter_of(bytes))
            .collect::<Result<_, _>>()?;
        let mut out: Vec<ClientMsg> = retain.into_iter().collect();
        self.phase = if self.waiting.is_empty() && !self.retaining {
            Phase::Done
        } else {
            Phase::Pushing
        };
        out.extend(
            outbox
                .into_iter()
                .map(|envelope| ClientMsg::Push { envelope }),
        );
        Ok(out)
    }

    /// A frame after the catch-up: others' edits, a change of members.
    fn live(
        &mut self,
        replica: &mut Replica,
        device: &DeviceSecret,
        msg: ServerMsg,
        nonce: &mut impl FnMut() -> [u8; 24],
    ) -> Result<Vec<ClientMsg>, ExchangeError> {
        let Some(part) = Gathered::live(self.dossier, msg) else {
            return Ok(Vec::new());
        };
        let received = replica.apply_log(
            device,
            &part.entries,
            part.snapshot.as_deref(),
            &part.envelopes,
            part.active_snapshot,
        )?;
        self.note_snapshot(part.snapshot.is_some(), &received);
        self.add(received);
        still_member(replica)?;
        if self.phase == Phase::Pushing && !part.entries.is_empty() {
            return self.reseal_and_resend(replica, device, nonce);
        }
        Ok(Vec::new())
    }

    /// Seals again for the current epoch what waits sealed for an older one, and sends it.
    fn reseal_and_resend(
        &mut self,
        replica: &mut Replica,
        device: &DeviceSecret,
        nonce: &mut impl FnMut() -> [u8; 24],
    ) -> Result<Vec<ClientMsg>, ExchangeError> {
        if replica.reseal_stale(device, &mut *nonce)? == 0 {
            return Ok(Vec::new());
        }
        let mut again = Vec::new();
        for envelope in replica.outbox() {
            if self.waiting.contains(&counter_of(&envelope)?) {
                again.push(ClientMsg::Push { envelope });
            }
        }
        Ok(again)
    }

    /// A snapshot that came is taken unless `apply_log` set it aside (reported with counter 0).
    fn note_snapshot(&mut self, came: bool, received: &Received) {
        if came && !received.quarantined.iter().any(|q| q.counter == 0) {
            self.snapshot_taken = true;
        }
    }

    fn add(&mut self, received: Received) {
        self.received.applied += received.applied;
        self.received.duplicates += received.duplicates;
        self.received.waiting += received.waiting;
        self.received.quarantined.extend(received.quarantined);
    }
}

fn counter_of(envelope: &[u8]) -> Result<u64, SyncError> {
    Ok(Envelope::parse(envelope)?.header.counter)
}

/// A juror takes the jury key grants the relay answered with (reviews that waited for the
/// key open) and returns the grant it owes the others, if any: the epoch's key (made now if
/// the jury has none) to the jurors who lack it. Nothing while the relay is at another epoch
/// than this device (a removal one of them has not learnt of yet): the next round grants.
/// The exchange's round and the app's kept connection answer the relay the same way.
pub fn jury_keys_answered(
    replica: &mut Replica,
    device: &DeviceSecret,
    relay_epoch: u32,
    key_id: Option<[u8; 16]>,
    granted: &[MemberKey],
    grants: &[crate::jury::JuryGrant],
) -> Result<Option<ClientMsg>, SyncError> {
    replica.accept_jury_grants(device, grants)?;
    if relay_epoch != replica.membership().epoch {
        return Ok(None);
    }
    Ok(replica
        .jury_grants_to_send(device, key_id, granted)?
        .map(|(epoch, key_id, grants)| ClientMsg::GrantJuryKey {
            dossier: replica.id,
            epoch,
            key_id,
            grants,
        }))
}

/// How often the candidate's notice of retention is written again into the dossier (one
/// small change an hour of use, at most): a deletion notice the relay kept from before it
/// is stale for every member.
const RETENTION_MARK_EVERY_MS: i64 = 3600 * 1000;

/// The candidate's sync renews the notice of retention: the dossier stays as long as they
/// come back. Signed here, sent once caught up; kept in the dossier too (in the envelope of
/// what was typed, at most once an hour), so that members know a deletion notice signed
/// before it is stale. `None` for others, and for a jury session: the jury's own document
/// (its PV) never ends on a notice.
fn renew_retention(
    replica: &mut Replica,
    device: &DeviceSecret,
    now_ms: i64,
) -> Result<Option<DeletionNotice>, ExchangeError> {
    if !replica.membership().is_owner(&replica.me()) || replica.dossier().is_session() {
        return Ok(None);
    }
    let latest = latest_retention(replica);
    let decided = latest
        .as_ref()
        .map_or(now_ms, |l| now_ms.max(l.body.decided_ms));
    let notice = DeletionNotice::retention(replica.membership(), device, decided)
        .map_err(|_| SyncError::NotAMember)?;
    if latest.is_none_or(|l| decided - l.body.decided_ms >= RETENTION_MARK_EVERY_MS) {
        replica
            .dossier()
            .set_retention_notice(&notice.to_bytes())
            .map_err(SyncError::from)?;
    }
    Ok(Some(notice))
}

/// The candidate's latest notice of retention kept in the dossier, if any can be read (its
/// signature is checked by whoever relies on it).
fn latest_retention(replica: &mut Replica) -> Option<DeletionNotice> {
    let bytes = replica.dossier().retention_notice()?;
    DeletionNotice::from_bytes(&bytes).ok()
}

/// What a device makes of the relay's word that a dossier was deleted: the candidate's
/// notice, checked against the members the replica knows ([`ExchangeError::Deleted`], wipe),
/// or a claim it cannot check ([`ExchangeError::UncheckedDeletion`], keep everything).
pub fn deletion_learnt(
    replica: &mut Replica,
    notice: &[u8],
    deleted_ms: i64,
    now_ms: i64,
) -> ExchangeError {
    let dossier = replica.id;
    let latest = latest_retention(replica);
    let checked = DeletionNotice::from_bytes(notice).and_then(|n| {
        n.check_fresh(replica.membership(), latest.as_ref(), now_ms)
            .map(|()| n)
    });
    match checked {
        Ok(notice) => ExchangeError::Deleted {
            dossier,
            notice: Box::new(notice),
            deleted_ms,
        },
        Err(why) => ExchangeError::UncheckedDeletion { dossier, why },
    }
}

/// The message that deletes the replica's dossier, signed by `device` (one of the
/// candidate's keys) on the members the replica knows — sync first, so that they are the
/// relay's ([`crate::deletion::DeletionNotice::check_for_relay`]).
pub fn delete_request(
    replica: &mut Replica,
    device: &DeviceSecret,
    now_ms: i64,
) -> Result<ClientMsg, crate::deletion::DeletionError> {
    // Never dated before the candidate's latest notice of retention (another device's
    // clock may run ahead): members would take it for stale.
    let decided_ms = latest_retention(replica).map_or(now_ms, |l| now_ms.max(l.body.decided_ms));
    let notice = DeletionNotice::sign(replica.membership(), device, decided_ms)?;
    Ok(ClientMsg::Delete {
        notice: notice.to_bytes(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deletion::{DeletionError, DeletionNotice};
    use crate::envelope::random_nonce;
    use crate::keys::EpochKeys;
    use crate::membership::Role;

    /// A candidate's dossier shared with an advisor; the advisor's replica in an exchange.
    fn advisor_exchanging() -> (Replica, DeviceSecret, Replica, DeviceSecret, Exchange) {
        let owner = DeviceSecret::generate();
        let advisor = DeviceSecret::generate();
        let (mut candidates, _) =
            Replica::create(&owner, DossierId([5; 16]), EpochKeys::generate()).unwrap();
        candidates
            .add_member(&owner, &advisor.id(), Role::Advisor)
            .unwrap();
        let mut advisors = Replica::join(&advisor, candidates.log().to_vec()).unwrap();
        let (exchange, _) =
            Exchange::start(&mut advisors, &advisor, 1 << 50, &mut random_nonce).unwrap();
        (candidates, owner, advisors, advisor, exchange)
    }

    fn told_deleted(
        exchange: &mut Exchange,
        replica: &mut Replica,
        device: &DeviceSecret,
        notice: Vec<u8>,
    ) -> ExchangeError {
        let msg = ServerMsg::Deleted {
            dossier: replica.id,
            notice,
            deleted_ms: 42,
        };
        exchange
            .handle(replica, device, msg, &mut random_nonce)
            .unwrap_err()
    }

    #[test]
    fn a_member_wipes_on_the_candidates_notice_only() {
        let (candidates, owner, mut advisors, advisor, mut exchange) = advisor_exchanging();
        let genuine = DeletionNotice::sign(candidates.membership(), &owner, 7).unwrap();
        match told_deleted(&mut exchange, &mut advisors, &advisor, genuine.to_bytes()) {
            ExchangeError::Deleted {
                dossier,
                notice,
                deleted_ms,
            } => {
                assert_eq!((dossier, *notice, deleted_ms), (advisors.id, genuine, 42));
            }
            other => panic!("expected the deletion, got {other:?}"),
        }
    }

    /// The relay (or whoever took it over) says the dossier was deleted: without the
    /// candidate's signature, the device keeps everything.
    #[test]
    fn a_relays_word_alone_deletes_nothing() {
        let (candidates, owner, mut advisors, advisor, mut exchange) = advisor_exchanging();
        let unchecked = |e: ExchangeError| match e {
            ExchangeError::UncheckedDeletion { why, .. } => why,
            other => panic!("expected an unchecked deletion, got {other:?}"),
        };
        // Signed by the advisor (a hostile member's key, which the relay holds no more of).
        let mut by_advisor = DeletionNotice::sign(candidates.membership(), &owner, 7).unwrap();
        by_advisor.signer = advisor.signing_public();
        by_advisor.signature = advisor.sign(b"x").to_vec();
        let why = unchecked(told_deleted(
            &mut exchange,
            &mut advisors,
            &advisor,
            by_advisor.to_bytes(),
        ));
        assert_eq!(why, DeletionError::NotOwner);
        // The candidate's signature over another body.
        let mut altered = DeletionNotice::sign(candidates.membership(), &owner, 7).unwrap();
        altered.body.decided_ms = 8;
        let why = unchecked(told_deleted(
            &mut exchange,
            &mut advisors,
            &advisor,
            altered.to_bytes(),
        ));
        assert_eq!(why, DeletionError::BadSignature);
        // Garbage.
        let why = unchecked(told_deleted(
            &mut exchange,
            &mut advisors,
            &advisor,
            vec![1, 2, 3],
        ));
        assert_eq!(why, DeletionError::Malformed);
        // Another dossier's genuine notice, sent as this one's.
        let (other, other_owner, ..) = advisor_exchanging();
        let mut elsewhere = other.membership().clone();
        elsewhere.dossier = DossierId([6; 16]);
        let theirs = DeletionNotice::sign(&elsewhere, &other_owner, 7).unwrap();
        let why = unchecked(told_deleted(
            &mut exchange,
            &mut advisors,
            &advisor,
            theirs.to_bytes(),
        ));
        assert_eq!(why, DeletionError::OtherDossier);
        // A deletion of another dossier on this exchange is not this one's.
        let msg = ServerMsg::Deleted {
            dossier: DossierId([9; 16]),
            notice: Vec::new(),
            deleted_ms: 1,
        };
        assert!(
            exchange
                .handle(&mut advisors, &advisor, msg, &mut random_nonce)
                .is_ok()
        );
        assert!(advisors.is_member());
    }
}
