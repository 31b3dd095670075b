//! The sync exchange (`livret_shared::exchange`) driven against an in-memory relay that
//! speaks the protocol with the relay's acceptance rules (`support::MemRelay::handle`:
//! membership entries folded by `Membership::apply`, envelopes checked by
//! `protocol::check_envelope`, catch-ups cut by the relay's `Framer` with a small budget, so
//! they come in several frames).

use std::collections::VecDeque;

use livret_shared::envelope::{DossierId, random_nonce};
use livret_shared::exchange::{Exchange, ExchangeError};
use livret_shared::keys::{DeviceSecret, EpochKeys, MemberKey};
use livret_shared::membership::{Role, SignedEntry};
use livret_shared::protocol::{ClientMsg, Rejection, ServerMsg};
use livret_shared::sync::Replica;

mod support;
use support::{MemRelay, refused};

/// The devices' clock in these exchanges (milliseconds since 1970).
const NOW: i64 = 1_800_000_000_000;

struct Device {
    secret: DeviceSecret,
    replica: Replica,
}

impl Device {
    fn me(&self) -> MemberKey {
        self.secret.signing_public()
    }
}

/// Runs one exchange to its end: every message the device sends answered at once, every
/// answer handed back in order. Bounded: an exchange that waits for nothing fails.
fn sync(relay: &mut MemRelay, d: &mut Device) -> Result<Exchange, ExchangeError> {
    sync_at(relay, d, NOW)
}

/// [`sync`] with the device's clock at `now`.
fn sync_at(relay: &mut MemRelay, d: &mut Device, now: i64) -> Result<Exchange, ExchangeError> {
    let (mut exchange, mut out) =
        Exchange::start(&mut d.replica, &d.secret, now, &mut random_nonce)?;
    let mut inbox: VecDeque<ServerMsg> = VecDeque::new();
    for _ in 0..10_000 {
        for msg in out.drain(..) {
            inbox.extend(relay.handle(d.me(), msg));
        }
        if exchange.is_done() {
            return Ok(exchange);
        }
        let msg = inbox.pop_front().expect("the exchange waits for an answer");
        out = exchange.handle(&mut d.replica, &d.secret, msg, &mut random_nonce)?;
    }
    panic!("the exchange never ended")
}

/// A dossier made offline by its owner, with an advisor added offline too.
fn offline_dossier() -> (Device, DeviceSecret) {
    let secret = DeviceSecret::generate();
    let keys = EpochKeys::generate();
    let (mut replica, _) =
        Replica::create(&secret, DossierId::generate(), keys.duplicate()).unwrap();
    replica
        .dossier()
        .set(
            "motivation.lettre",
            "Je souhaite faire valider mon expérience.",
        )
        .unwrap();
    let advisor = DeviceSecret::generate();
    replica
        .add_member(&secret, &advisor.id(), Role::Advisor)
        .unwrap();
    (Device { secret, replica }, advisor)
}

/// A device that joins from what the relay holds.
fn join(relay: &MemRelay, secret: DeviceSecret) -> Device {
    let replica = Replica::join(&secret, relay.log.clone()).unwrap();
    Device { secret, replica }
}

#[test]
fn a_dossier_made_offline_is_created_and_its_sharing_published_at_the_first_sync() {
    let mut relay = MemRelay::default();
    let (mut owner, advisor) = offline_dossier();
    let first = sync(&mut relay, &mut owner).unwrap();
    assert!(
        !first.arrived(),
        "nothing from others: its own typing does not count"
    );
    assert_eq!(relay.log.len(), 2, "the creation and the sharing published");
    assert_eq!(relay.order.len(), 1, "the letter stored");
    assert_eq!(owner.replica.pending(), 0, "acknowledged");

    let mut advisor = join(&relay, advisor);
    let synced = sync(&mut relay, &mut advisor).unwrap();
    assert_eq!(synced.received().applied, 1);
    assert!(synced.arrived());
    assert_eq!(
        advisor.replica.dossier().get("motivation.lettre").unwrap(),
        "Je souhaite faire valider mon expérience."
    );
    // Both write; both converge.
    advisor
        .replica
        .dossier()
        .set("fiches.0.taches", "Relu avec le conseiller.")
        .unwrap();
    sync(&mut relay, &mut advisor).unwrap();
    sync(&mut relay, &mut owner).unwrap();
    assert_eq!(
        owner.replica.dossier().get("fiches.0.taches").unwrap(),
        "Relu avec le conseiller."
    );
}

/// An edit sealed before this device learnt of a removal is sealed again for the new
/// epoch: when the catch-up tells of it, and when the relay refuses a push for its epoch
/// and the frame telling of the removal comes after.
#[test]
fn edits_sealed_before_a_removal_are_sealed_again_for_the_new_epoch() {
    let mut relay = MemRelay::default();
    let (mut owner, advisor) = offline_dossier();
    sync(&mut relay, &mut owner).unwrap();
    let mut advisor = join(&relay, advisor);
    sync(&mut relay, &mut advisor).unwrap();
    let other = DeviceSecret::generate();
    owner
        .replica
        .add_member(&owner.secret, &other.id(), Role::Advisor)
        .unwrap();
    sync(&mut relay, &mut owner).unwrap();
    sync(&mut relay, &mut advisor).unwrap();

    // The catch-up tells of the removal: resealed before the push.
    advisor
        .replica
        .dossier()
        .set("fiches.0.taches", "Écrit avant le retrait.")
        .unwrap();
    advisor
        .replica
        .flush(&advisor.secret, random_nonce())
        .unwrap();
    remove(&mut relay, &mut owner, &other);
    sync(&mut relay, &mut advisor).unwrap();
    assert_eq!(advisor.replica.membership().epoch, 2);
    sync(&mut relay, &mut owner).unwrap();
    assert_eq!(
        owner.replica.dossier().get("fiches.0.taches").unwrap(),
        "Écrit avant le retrait."
    );

    // The removal lands between the catch-up and the push: refused for its epoch, then
    // sealed again once the live frame that tells of it arrives.
    advisor
        .replica
        .dossier()
        .set("fiches.0.taches", "Écrit pendant le retrait.")
        .unwrap();
    let (mut exchange, out) = Exchange::start(
        &mut advisor.replica,
        &advisor.secret,
        NOW,
        &mut random_nonce,
    )
    .unwrap();
    let mut inbox: VecDeque<ServerMsg> = out
        .into_iter()
        .flat_map(|m| relay.handle(advisor.me(), m))
        .collect();
    let mut pushes = Vec::new();
    while let Some(msg) = inbox.pop_front() {
        let out = exchange
            .handle(
                &mut advisor.replica,
                &advisor.secret,
                msg,
                &mut random_nonce,
            )
            .unwrap();
        pushes.extend(out);
    }
    assert!(matches!(pushes[..], [ClientMsg::Push { .. }]), "{pushes:?}");
    let third = DeviceSecret::generate();
    owner
        .replica
        .add_member(&owner.secret, &third.id(), Role::Advisor)
        .unwrap();
    sync(&mut relay, &mut owner).unwrap();
    let removal = remove(&mut relay, &mut owner, &third);
    let answer = relay.handle(advisor.me(), pushes.remove(0));
    assert_eq!(answer, vec![refused(Rejection::WrongEpoch)]);
    let mut out = exchange
        .handle(
            &mut advisor.replica,
            &advisor.secret,
            answer[0].clone(),
            &mut random_nonce,
        )
        .unwrap();
    assert!(
        out.is_empty(),
        "nothing to reseal before the removal is known"
    );
    let live = ServerMsg::Log {
        dossier: advisor.replica.id,
        entries: relay.log[relay.log.len() - 2..]
            .iter()
            .map(SignedEntry::to_bytes)
            .collect(),
        snapshot: None,
        envelopes: Vec::new(),
        complete: false,
        active_snapshot: None,
    };
    assert_eq!(removal.body.seq as usize, relay.log.len() - 1);
    out.extend(
        exchange
            .handle(
                &mut advisor.replica,
                &advisor.secret,
                live,
                &mut random_nonce,
            )
            .unwrap(),
    );
    assert_eq!(out.len(), 1, "sealed again and sent");
    for msg in relay.handle(advisor.me(), out.remove(0)) {
        assert!(matches!(msg, ServerMsg::Ack { .. }), "{msg:?}");
        exchange
            .handle(
                &mut advisor.replica,
                &advisor.secret,
                msg,
                &mut random_nonce,
            )
            .unwrap();
    }
    assert!(exchange.is_done());
    sync(&mut relay, &mut owner).unwrap();
    assert_eq!(
        owner.replica.dossier().get("fiches.0.taches").unwrap(),
        "Écrit pendant le retrait."
    );
}

/// The owner removes `member` (a new epoch) and publishes it.
fn remove(relay: &mut MemRelay, owner: &mut Device, member: &DeviceSecret) -> SignedEntry {
    let entry = owner
        .replica
        .remove_member(&owner.secret, &member.signing_public())
        .unwrap();
    sync(relay, owner).unwrap();
    entry
}

#[test]
fn a_removed_device_stops_and_learns_it_was_removed() {
    let mut relay = MemRelay::default();
    let (mut owner, advisor) = offline_dossier();
    sync(&mut relay, &mut owner).unwrap();
    let mut advisor = join(&relay, advisor);
    sync(&mut relay, &mut advisor).unwrap();
    let gone = DeviceSecret::from_secret_string(&advisor.secret.to_secret_string()).unwrap();
    remove(&mut relay, &mut owner, &gone);
    let stopped = sync(&mut relay, &mut advisor);
    assert_eq!(
        stopped.unwrap_err(),
        ExchangeError::Removed(advisor.replica.id)
    );
    assert!(!advisor.replica.is_member());
    assert_eq!(
        advisor.replica.standing(),
        livret_shared::membership::Standing::Removed,
        "an owner's signed removal: the driver wipes the copy"
    );
    // Said again at the next sync, before anything is sent.
    assert_eq!(
        Exchange::start(
            &mut advisor.replica,
            &advisor.secret,
            NOW,
            &mut random_nonce
        )
        .unwrap_err(),
        ExchangeError::Removed(advisor.replica.id)
    );
    assert_eq!(
        advisor.replica.dossier().get("motivation.lettre").unwrap(),
        "Je souhaite faire valider mon expérience."
    );
}

/// A relay that answers with another creation of the same dossier id (its own key, its
/// own members, all well signed): the devices refuse that log — it is not this dossier's
/// history — and neither change nor end anything. Taken, it would have made each a stranger
/// to its own dossier, and a stranger's copy is not one to wipe either: only an owner's
/// signed removal ends a copy.
#[test]
fn a_relay_inventing_another_history_makes_no_device_a_stranger() {
    use livret_shared::membership::{self, Standing};
    use livret_shared::sync::SyncError;
    let mut relay = MemRelay::default();
    let (mut owner, advisor) = offline_dossier();
    sync(&mut relay, &mut owner).unwrap();
    let mut advisor = join(&relay, advisor);
    sync(&mut relay, &mut advisor).unwrap();
    let forger = DeviceSecret::generate();
    relay.log =
        vec![membership::create(owner.replica.id, &forger, &EpochKeys::generate()).unwrap()];
    for device in [&mut owner, &mut advisor] {
        let stopped = sync(&mut relay, device).unwrap_err();
        assert_eq!(stopped, ExchangeError::Sync(SyncError::ForeignLog));
        assert!(device.replica.is_member());
        assert_eq!(
            device.replica.standing(),
            Standing::Member {
                after_removal: false
            }
        );
        assert_eq!(
            device.replica.dossier().get("motivation.lettre").unwrap(),
            "Je souhaite faire valider mon expérience."
        );
    }
}

/// A key that was an owner once — a laptop the candidate has since removed — and a relay
/// that serves another sequel to the log, signed by that key where it was still an owner:
/// a device that already holds the real sequel refuses it. Taken, the advisor would be
/// "removed" (and wipe), and the candidate's device would sign the laptop's additions again
/// onto the real chain, wrapping the new keys to whoever the laptop added.
#[test]
fn another_sequel_signed_by_a_removed_owner_changes_nothing() {
    use livret_shared::membership::{self, Membership, Standing};
    use livret_shared::sync::SyncError;
    let mut relay = MemRelay::default();
    let (mut owner, advisor) = offline_dossier();
    let laptop = DeviceSecret::generate();
    owner
        .replica
        .add_member(&owner.secret, &laptop.id(), Role::Owner)
        .unwrap();
    sync(&mut relay, &mut owner).unwrap();
    let mut advisor = join(&relay, advisor);
    sync(&mut relay, &mut advisor).unwrap();
    // The laptop is lost: the candidate removes it, and everyone learns it.
    let gone = DeviceSecret::from_secret_string(&laptop.to_secret_string()).unwrap();
    remove(&mut relay, &mut owner, &gone);
    sync(&mut relay, &mut advisor).unwrap();
    let real = relay.log.clone();
    let before = Membership::from_log(&real[..real.len() - 1]).unwrap();
    let forge = |entry: SignedEntry| {
        let mut log = real[..real.len() - 1].to_vec();
        log.push(entry);
        log
    };
    // To the advisor: the laptop "removes" it.
    relay.log =
        forge(membership::remove(&before, &laptop, &advisor.me(), &EpochKeys::generate()).unwrap());
    assert_eq!(
        sync(&mut relay, &mut advisor).unwrap_err(),
        ExchangeError::Sync(SyncError::ConflictingLog)
    );
    assert_eq!(
        advisor.replica.standing(),
        Standing::Member {
            after_removal: false
        }
    );
    // To the candidate's device: the laptop adds a stranger as an owner.
    let stranger = DeviceSecret::generate();
    let keys = before.epoch_keys_for(&laptop, before.epoch).unwrap();
    relay.log =
        forge(membership::add(&before, &laptop, &stranger.id(), Role::Owner, &keys).unwrap());
    assert_eq!(
        sync(&mut relay, &mut owner).unwrap_err(),
        ExchangeError::Sync(SyncError::ConflictingLog)
    );
    assert_eq!(owner.replica.log(), real.as_slice(), "nothing signed again");
    assert_eq!(
        owner
            .replica
            .membership()
            .role_of(&stranger.signing_public()),
        None
    );
}

/// Two of the candidate's devices add someone at once: the laptop's entry reaches the
/// relay first, and the phone hears it live (skipped: the phone filled that place itself)
/// before its own is refused. Its next sync rebases its entry on the laptop's — the relay
/// never held the phone's, so this is not "another story".
#[test]
fn an_entry_that_lost_the_race_heard_live_is_rebased_at_the_next_sync() {
    let mut relay = MemRelay::default();
    let (mut phone, advisor) = offline_dossier();
    let laptop = DeviceSecret::generate();
    phone
        .replica
        .add_member(&phone.secret, &laptop.id(), Role::Owner)
        .unwrap();
    sync(&mut relay, &mut phone).unwrap();
    let mut laptop = join(&relay, laptop);
    sync(&mut relay, &mut laptop).unwrap();
    let _ = advisor;
    let (juror, other) = (DeviceSecret::generate(), DeviceSecret::generate());
    phone
        .replica
        .add_member(&phone.secret, &juror.id(), Role::Juror)
        .unwrap();
    let won = laptop
        .replica
        .add_member(&laptop.secret, &other.id(), Role::Advisor)
        .unwrap();
    sync(&mut relay, &mut laptop).unwrap();
    phone
        .replica
        .apply_log(&phone.secret, &[won.to_bytes()], None, &[], None)
        .unwrap();
    sync(&mut relay, &mut phone).unwrap();
    let members = relay.membership();
    assert_eq!(members.role_of(&juror.signing_public()), Some(Role::Juror));
    assert_eq!(
        members.role_of(&other.signing_public()),
        Some(Role::Advisor)
    );
}

#[test]
fn a_refusal_stops_the_exchange_with_the_relays_reason_and_loses_nothing() {
    let mut relay = MemRelay::default();
    let (mut owner, _) = offline_dossier();
    sync(&mut relay, &mut owner).unwrap();
    owner
        .replica
        .dossier()
        .set("fiches.0.taches", "Tapé hors ligne.")
        .unwrap();
    relay.refuse_pushes = Some(Rejection::TooLarge);
    let err = sync(&mut relay, &mut owner).unwrap_err();
    assert_eq!(
        err,
        ExchangeError::Refused {
            reason: Rejection::TooLarge,
            detail: "too_large".into()
        }
    );
    assert_eq!(owner.replica.pending(), 1, "kept for the next sync");
    relay.refuse_pushes = None;
    sync(&mut relay, &mut owner).unwrap();
    assert_eq!(owner.replica.pending(), 0);
    assert_eq!(relay.order.len(), 2);
}

/// The candidate's sync renews the standing notice of retention (a year from its clock)
/// and learns when the relay will delete the dossier; an advisor's sync sends none.
#[test]
fn the_candidates_sync_renews_the_notice_of_retention() {
    let mut relay = MemRelay::default();
    let (mut owner, advisor) = offline_dossier();
    let done = sync(&mut relay, &mut owner).unwrap();
    let year = livret_shared::deletion::RETENTION_DAYS * 24 * 3600 * 1000;
    assert_eq!(done.expires_ms(), Some(NOW + year));
    let notice = relay.retained.clone().expect("a notice kept");
    assert_eq!(notice.signer, owner.me());
    // A device that knows the members takes it once the year is over, not before.
    let members = owner.replica.membership();
    assert!(notice.check_for_member(members, NOW).is_err());
    notice.check_for_member(members, NOW + year).unwrap();
    relay.retained = None;
    let mut advisor = join(&relay, advisor);
    let done = sync(&mut relay, &mut advisor).unwrap();
    assert_eq!(done.expires_ms(), None);
    assert!(relay.retained.is_none(), "an advisor does not renew it");
}

/// A relay that kept an old notice of the candidate's (a retention notice a year old, a
/// deletion it refused) cannot use it once the candidate came back: the notice kept in the
/// dossier at their later sync makes it stale for every member.
#[test]
fn a_notice_from_before_the_candidate_came_back_wipes_nothing() {
    const HOUR: i64 = 3600 * 1000;
    const YEAR: i64 = livret_shared::deletion::RETENTION_DAYS * 24 * HOUR;
    let mut relay = MemRelay::default();
    let (mut owner, advisor) = offline_dossier();
    sync_at(&mut relay, &mut owner, NOW).unwrap();
    let old = relay.retained.clone().expect("the first notice");
    // A deletion the relay refused (and kept).
    let members = owner.replica.membership().clone();
    let refused =
        livret_shared::deletion::DeletionNotice::sign(&members, &owner.secret, NOW + HOUR).unwrap();
    // The candidate comes back two hours later: the notice kept in the dossier moves on.
    owner
        .replica
        .dossier()
        .set("motivation.lettre", "De retour")
        .unwrap();
    sync_at(&mut relay, &mut owner, NOW + 2 * HOUR).unwrap();
    let latest = relay.retained.clone().expect("the new notice");
    assert_eq!(latest.body.decided_ms, NOW + 2 * HOUR);
    let mut advisor = join(&relay, advisor);
    sync_at(&mut relay, &mut advisor, NOW + 2 * HOUR).unwrap();
    let told = |advisor: &mut Device, notice: &livret_shared::deletion::DeletionNotice, now| {
        let (mut exchange, _) = Exchange::start(
            &mut advisor.replica,
            &advisor.secret,
            now,
            &mut random_nonce,
        )
        .unwrap();
        let msg = ServerMsg::Deleted {
            dossier: advisor.replica.id,
            notice: notice.to_bytes(),
            deleted_ms: now,
        };
        exchange
            .handle(
                &mut advisor.replica,
                &advisor.secret,
                msg,
                &mut random_nonce,
            )
            .unwrap_err()
    };
    // Years on, the old ones are stale; the latest holds once its year is over.
    for stale in [&old, &refused] {
        match told(&mut advisor, stale, NOW + 3 * YEAR) {
            ExchangeError::UncheckedDeletion { why, .. } => {
                assert_eq!(why, livret_shared::deletion::DeletionError::Superseded)
            }
            other => panic!("a stale notice was taken: {other:?}"),
        }
    }
    assert!(matches!(
        told(&mut advisor, &latest, NOW + 2 * HOUR + YEAR),
        ExchangeError::Deleted { .. }
    ));
    // The candidate's own device too refuses the stale one.
    assert!(matches!(
        told(&mut owner, &old, NOW + 3 * YEAR),
        ExchangeError::UncheckedDeletion { .. }
    ));
}
