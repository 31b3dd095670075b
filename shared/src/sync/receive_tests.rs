//! What a replica does with envelopes it cannot take as they are: newcomers after a removal,
//! unreadable or forged envelopes among good ones, roles that changed, changes written in
//! another member's name. Each test fails on the version before issue 19's fixes.

use super::*;
use crate::envelope::random_nonce;
use crate::membership::Role;

/// A dossier with an owner and an advisor who wrote, then the advisor removed (epoch 2):
/// the envelopes sealed before the removal, and the owner's replica.
struct AfterRemoval {
    owner: DeviceSecret,
    o: Replica,
    before: Vec<Vec<u8>>,
}

fn dossier_after_a_removal() -> AfterRemoval {
    let owner = DeviceSecret::generate();
    let advisor = DeviceSecret::generate();
    let key = EpochKeys::generate();
    let (mut o, _) = Replica::create(&owner, DossierId([7; 16]), key.duplicate()).unwrap();
    o.dossier()
        .set("fiches.0.contexte", "Écrit avant le retrait")
        .unwrap();
    let first = o.flush(&owner, [1; 24]).unwrap().unwrap();
    let add = membership::add(o.membership(), &owner, &advisor.id(), Role::Advisor, &key).unwrap();
    o.apply_membership(&owner, &[add]).unwrap();
    let mut a = Replica::join(&advisor, o.log().to_vec()).unwrap();
    a.receive(std::slice::from_ref(&first)).unwrap();
    a.dossier()
        .set("fiches.0.taches", "Tâches de l'accompagnateur")
        .unwrap();
    let by_advisor = a.flush(&advisor, [2; 24]).unwrap().unwrap();
    o.receive(std::slice::from_ref(&by_advisor)).unwrap();
    let remove = membership::remove(
        o.membership(),
        &owner,
        &advisor.signing_public(),
        &EpochKeys::generate(),
    )
    .unwrap();
    o.apply_membership(&owner, &[remove]).unwrap();
    AfterRemoval {
        owner,
        o,
        before: vec![first, by_advisor],
    }
}

/// Issue 19 item 1: a member added after a removal opens the whole dossier, including
/// what was sealed for the epoch before it arrived.
#[test]
fn a_member_added_after_a_removal_reads_the_earlier_epochs() {
    let AfterRemoval {
        owner,
        mut o,
        before,
    } = dossier_after_a_removal();
    o.dossier()
        .set("fiches.0.moyens", "Écrit après le retrait")
        .unwrap();
    let after = o.flush(&owner, [3; 24]).unwrap().unwrap();
    let newcomer = DeviceSecret::generate();
    let keys = o.epoch_keys().unwrap();
    let add = membership::add(o.membership(), &owner, &newcomer.id(), Role::Juror, &keys).unwrap();
    o.apply_membership(&owner, &[add]).unwrap();
    let mut n = Replica::join(&newcomer, o.log().to_vec()).unwrap();
    let got = n.receive(&[before, vec![after]].concat()).unwrap();
    assert_eq!((got.applied, got.waiting), (3, 0), "{got:?}");
    assert!(got.quarantined.is_empty(), "{got:?}");
    assert_eq!(
        n.dossier().get("fiches.0.contexte").unwrap(),
        "Écrit avant le retrait"
    );
    assert_eq!(
        n.dossier().get("fiches.0.taches").unwrap(),
        "Tâches de l'accompagnateur"
    );
    assert_eq!(
        n.dossier().get("fiches.0.moyens").unwrap(),
        "Écrit après le retrait"
    );
}

/// Issue 19 item 1, dossiers made by the previous version: a newcomer added with the
/// current epoch's key only keeps the earlier envelopes (saved, across a restart) until an
/// owner's next reconciliation gives it the earlier keys; then everything opens.
#[test]
fn a_newcomer_added_by_the_previous_version_gets_the_earlier_keys_from_an_owner() {
    let AfterRemoval {
        owner,
        mut o,
        before,
    } = dossier_after_a_removal();
    let newcomer = DeviceSecret::generate();
    let keys = o.epoch_keys().unwrap();
    let old_style =
        membership::add_current_epoch_only(o.membership(), &owner, &newcomer.id(), &keys);
    let published = o.log().to_vec();
    o.apply_membership(&owner, std::slice::from_ref(&old_style))
        .unwrap();
    let relay_log: Vec<SignedEntry> = published.into_iter().chain([old_style]).collect();

    let mut n = Replica::join(&newcomer, relay_log.clone()).unwrap();
    let got = n.receive(&before).unwrap();
    assert_eq!((got.applied, got.waiting), (0, 2), "{got:?}");
    assert!(
        n.dossier().get("fiches.0.contexte").is_err() || {
            n.dossier().get("fiches.0.contexte").unwrap().is_empty()
        }
    );
    // Held across a restart, not lost.
    let mut n = Replica::restore(&newcomer, &n.save()).unwrap();

    let repair = o.reconcile_membership(&owner, &relay_log).unwrap();
    assert_eq!(
        repair.len(),
        1,
        "one entry gives the newcomer the earlier keys"
    );
    let entries: Vec<Vec<u8>> = repair.iter().map(SignedEntry::to_bytes).collect();
    let got = n.apply_log(&newcomer, &entries, None, &[], None).unwrap();
    assert_eq!((got.applied, got.waiting), (2, 0), "{got:?}");
    assert_eq!(
        n.dossier().get("fiches.0.contexte").unwrap(),
        "Écrit avant le retrait"
    );
    assert_eq!(
        n.dossier().get("fiches.0.taches").unwrap(),
        "Tâches de l'accompagnateur"
    );
    // Nothing more to give: the next reconciliation publishes nothing.
    let relay_log: Vec<SignedEntry> = relay_log.into_iter().chain(repair).collect();
    assert!(
        o.reconcile_membership(&owner, &relay_log)
            .unwrap()
            .is_empty()
    );
}

/// Three writers: the candidate, an advisor, and a hostile advisor.
struct ThreeWriters {
    owner: DeviceSecret,
    advisor: DeviceSecret,
    hostile: DeviceSecret,
    o: Replica,
    a: Replica,
}

fn three_writers() -> ThreeWriters {
    let owner = DeviceSecret::generate();
    let advisor = DeviceSecret::generate();
    let hostile = DeviceSecret::generate();
    let key = EpochKeys::generate();
    let (mut o, _) = Replica::create(&owner, DossierId([8; 16]), key.duplicate()).unwrap();
    for who in [&advisor, &hostile] {
        let add = membership::add(o.membership(), &owner, &who.id(), Role::Advisor, &key).unwrap();
        o.apply_membership(&owner, &[add]).unwrap();
    }
    let a = Replica::join(&advisor, o.log().to_vec()).unwrap();
    ThreeWriters {
        owner,
        advisor,
        hostile,
        o,
        a,
    }
}

/// Sealed and signed by `writer` like any batch, with whatever payload.
fn sealed_by(r: &Replica, writer: &DeviceSecret, counter: u64, payload: &[u8]) -> Vec<u8> {
    let header = Header {
        dossier: r.id,
        epoch: r.membership().epoch,
        writer: writer.signing_public(),
        counter,
        parent: [0; 32],
        kind: Kind::Changes,
        channel: Channel::Dossier,
    };
    envelope::seal(&header, r.epoch_key().unwrap(), [9; 24], payload, writer)
}

/// Issue 19 item 2: an envelope that cannot be applied (garbage sealed by a member, a
/// forged signature) is set aside and reported; the candidate's edits in the same batch
/// are applied, and the hostile writer's next, honest envelope too.
#[test]
fn one_unreadable_envelope_never_drops_the_others() {
    let ThreeWriters {
        owner,
        advisor,
        hostile,
        mut o,
        mut a,
    } = three_writers();
    o.dossier()
        .set("fiches.0.contexte", "Le texte du candidat")
        .unwrap();
    let good = o.flush(&owner, [1; 24]).unwrap().unwrap();
    let garbage = sealed_by(&a, &hostile, 1, b"ceci n'est pas automerge");
    let mut forged = sealed_by(&a, &hostile, 2, b"x");
    let last = forged.len() - 1;
    forged[last] ^= 1;
    let mut h = Replica::join(&hostile, o.log().to_vec()).unwrap();
    h.receive(std::slice::from_ref(&good)).unwrap();
    h.counter = 2;
    h.dossier()
        .set("fiches.0.moyens", "Honnête ensuite")
        .unwrap();
    let honest = h.flush(&hostile, [4; 24]).unwrap().unwrap();

    let got = a.receive(&[garbage, forged, good.clone(), honest]).unwrap();
    assert_eq!(got.applied, 2, "{got:?}");
    let mut reasons: Vec<(u64, &SyncError)> = got
        .quarantined
        .iter()
        .map(|q| (q.counter, &q.reason))
        .collect();
    reasons.sort_by_key(|(c, _)| *c);
    assert_eq!(reasons.len(), 2, "{got:?}");
    // Not automerge: the inflation guard, which reads the chunks first, says so.
    assert!(
        matches!(
            reasons[0],
            (
                1,
                SyncError::Inflation(crate::automerge_guard::GuardError::Malformed(_))
            )
        ),
        "{reasons:?}"
    );
    assert!(
        matches!(reasons[1], (2, SyncError::Envelope(_))),
        "{reasons:?}"
    );
    assert_eq!(
        a.dossier().get("fiches.0.contexte").unwrap(),
        "Le texte du candidat"
    );
    assert_eq!(
        a.dossier().get("fiches.0.moyens").unwrap(),
        "Honnête ensuite"
    );
    // Seen means taken: nothing is asked again, nothing is lost after a restart.
    let mut a = Replica::restore(&advisor, &a.save()).unwrap();
    assert!(
        a.since()
            .iter()
            .any(|(w, c)| *w == hostile.signing_public() && *c == 3)
    );
    assert_eq!(
        a.dossier().get("fiches.0.moyens").unwrap(),
        "Honnête ensuite"
    );
}

/// Issue 19 item 9: an envelope's changes must be its writer's own; an advisor's batch
/// carrying a change in the candidate's name is set aside, not applied.
#[test]
fn changes_written_in_another_members_name_are_refused() {
    let ThreeWriters {
        owner,
        advisor,
        hostile,
        mut o,
        mut a,
    } = three_writers();
    o.dossier().set("fiches.0.contexte", "Vrai").unwrap();
    let first = o.flush(&owner, [1; 24]).unwrap().unwrap();
    a.receive(std::slice::from_ref(&first)).unwrap();
    // The advisor writes with the candidate's actor id.
    let mut impostor = Dossier::load(&o.dossier().save(), &owner.signing_public()).unwrap();
    let heads = impostor.automerge().get_heads();
    impostor
        .set("fiches.0.contexte", "Faux, au nom du candidat")
        .unwrap();
    let changes: Vec<u8> = impostor
        .automerge()
        .get_changes(&heads)
        .into_iter()
        .flat_map(|mut c| c.bytes().into_owned())
        .collect();
    let forged = sealed_by(&a, &advisor, 1, &changes);
    let mut fresh = Replica::join(&hostile, o.log().to_vec()).unwrap();
    let got = fresh.receive(&[first, forged]).unwrap();
    assert_eq!(got.applied, 1, "{got:?}");
    assert_eq!(got.quarantined.len(), 1, "{got:?}");
    assert_eq!(got.quarantined[0].reason, SyncError::NotTheAuthor);
    assert_eq!(fresh.dossier().get("fiches.0.contexte").unwrap(), "Vrai");
}

/// Issue 19 item 5: a juror made an advisor later; the reviews it wrote as a juror stay
/// valid for a reader who joins afterwards.
#[test]
fn a_jurors_reviews_stay_valid_after_it_becomes_an_advisor() {
    let owner = DeviceSecret::generate();
    let juror = DeviceSecret::generate();
    let key = EpochKeys::generate();
    let (mut o, _) = Replica::create(&owner, DossierId([9; 16]), key.duplicate()).unwrap();
    let add = membership::add(o.membership(), &owner, &juror.id(), Role::Juror, &key).unwrap();
    o.apply_membership(&owner, &[add]).unwrap();
    let mut j = Replica::join(&juror, o.log().to_vec()).unwrap();
    j.my_release()
        .unwrap()
        .set_name("Juré devenu accompagnateur");
    let written = j.flush_jury(&juror, || [3; 24]).unwrap();
    assert!(!written.is_empty());
    let promote =
        membership::add(o.membership(), &owner, &juror.id(), Role::Advisor, &key).unwrap();
    o.apply_membership(&owner, &[promote]).unwrap();
    let mut later = Replica::join(&owner, o.log().to_vec()).unwrap();
    let got = later.receive(&written).unwrap();
    assert!(got.quarantined.is_empty(), "{got:?}");
    assert_eq!(got.applied, written.len());
}

/// Issue 19 item 9: which release stands follows from what each juror had seen, not from
/// the releasing device's clock. A juror dating a decision in the far future, without
/// having seen the other's, overrides nothing: the two disagree and none stands; the other
/// juror, having now seen it, releases again and theirs stands.
#[test]
fn a_release_dated_in_the_far_future_overrides_no_one() {
    use crate::review::{Decision, Outcome};
    let owner = DeviceSecret::generate();
    let (a, h) = (DeviceSecret::generate(), DeviceSecret::generate());
    let key = EpochKeys::generate();
    let (mut o, _) = Replica::create(&owner, DossierId([10; 16]), key.duplicate()).unwrap();
    for juror in [&a, &h] {
        let add = membership::add(o.membership(), &owner, &juror.id(), Role::Juror, &key).unwrap();
        o.apply_membership(&owner, &[add]).unwrap();
    }
    let mut ra = Replica::join(&a, o.log().to_vec()).unwrap();
    let mut rh = Replica::join(&h, o.log().to_vec()).unwrap();
    let decision = |outcome: Outcome, at_ms: u64| Decision {
        date: "2026-12-14".into(),
        jury: vec!["A".into(), "H".into()],
        competences: Default::default(),
        blocs: Vec::new(),
        outcome,
        motifs: "motifs".into(),
        at_ms,
        supersedes: Vec::new(),
        reserve: String::new(),
    };
    ra.release_decision(decision(Outcome::Totale, 1_000))
        .unwrap();
    let from_a = ra.flush_jury(&a, || [1; 24]).unwrap();
    rh.release_decision(decision(Outcome::NonValidation, u64::MAX))
        .unwrap();
    let from_h = rh.flush_jury(&h, || [2; 24]).unwrap();

    o.receive(&[from_a.clone(), from_h.clone()].concat())
        .unwrap();
    assert_eq!(
        o.decision(),
        None,
        "two different releases, neither replacing the other"
    );
    assert!(o.releases_disagree());

    ra.receive(&from_h).unwrap();
    ra.release_decision(decision(Outcome::Totale, 2_000))
        .unwrap();
    let again = ra.flush_jury(&a, || [3; 24]).unwrap();
    o.receive(&again).unwrap();
    let (who, stands) = o.decision().unwrap();
    assert_eq!((who, stands.outcome), (a.signing_public(), Outcome::Totale));
    assert!(!o.releases_disagree());
}

/// A device whose replica is gone (its storage lost, or the dossier opened again from the
/// relay) still has its key: what it wrote comes back from the relay, and what it writes
/// next follows it. Before, its own envelopes were skipped as acknowledgements and its
/// next one reused counter 1, which the relay refuses as a replay for good.
#[test]
fn a_device_that_lost_its_replica_gets_its_own_edits_back_and_writes_on() {
    let owner = DeviceSecret::generate();
    let (mut first, genesis) =
        Replica::create(&owner, DossierId::generate(), EpochKeys::generate()).unwrap();
    let mut stored = Vec::new();
    for name in ["Durand", "Durand-Martin", "Martin"] {
        first.dossier().set("etat_civil.nom", name).unwrap();
        stored.push(first.flush(&owner, random_nonce()).unwrap().unwrap());
    }
    first.acknowledged(3);
    let counter_of = |bytes: &[u8]| Envelope::parse(bytes).unwrap().header.counter;

    // From the envelopes.
    let mut again = Replica::join(&owner, vec![genesis.clone()]).unwrap();
    let received = again.receive(&stored).unwrap();
    assert_eq!(received.applied, 3, "{received:?}");
    assert_eq!(again.dossier().get("etat_civil.nom").unwrap(), "Martin");
    assert_eq!(again.since(), vec![(owner.signing_public(), 3)]);
    again.dossier().set("etat_civil.nom", "Martin B.").unwrap();
    let next = again.flush(&owner, random_nonce()).unwrap().unwrap();
    assert_eq!(counter_of(&next), 4);

    // From a snapshot that covers them.
    let (snapshot, _) = first.compact(&owner, random_nonce()).unwrap();
    let mut third = Replica::join(&owner, vec![genesis]).unwrap();
    third.receive_snapshot(&snapshot).unwrap();
    assert_eq!(third.dossier().get("etat_civil.nom").unwrap(), "Martin");
    third.dossier().set("etat_civil.nom", "Martin C.").unwrap();
    let next = third.flush(&owner, random_nonce()).unwrap().unwrap();
    assert_eq!(counter_of(&next), 4);
    // What it sealed before, sent again by a catch-up, changes nothing.
    let received = third.receive(&stored).unwrap();
    assert_eq!((received.applied, received.duplicates), (0, 3));
}
