//! What every store must do, checked the same way on each backend: SQLite on a temporary
//! file, PostgreSQL on a throwaway server (`crate::testing`). A check gets `open`, which
//! opens the same fresh database each time it is called (the first call finds it empty), so
//! "after a restart" is a second call.

use std::collections::BTreeMap;

use livret_shared::envelope::{Channel, DossierId};
use livret_shared::evidence::BlobId;
use livret_shared::keys::MemberKey;
use livret_shared::membership::Role;

use super::*;

/// Opens the check's database (the same one at each call).
type Opener = Box<dyn Fn() -> Box<dyn Store>>;
type Open<'a> = &'a dyn Fn() -> Box<dyn Store>;
type Check = fn(Open);

/// Every check, by name (a failure names the check and the backend).
const CHECKS: &[(&str, Check)] = &[
    ("dossiers and their members", dossiers_and_their_members),
    (
        "a batch is all stored or none",
        a_batch_is_all_stored_or_none,
    ),
    (
        "a long history is read whole across pages",
        a_long_history_is_read_whole,
    ),
    (
        "snapshots prune the dossier channel only",
        snapshots_prune_the_dossier_channel_only,
    ),
    (
        "purged envelopes leave their counters",
        purged_envelopes_leave_their_counters,
    ),
    (
        "each juror's first review key of an epoch wins",
        each_jurors_first_key_of_an_epoch_wins,
    ),
    (
        "evidence from its first uploader only",
        evidence_from_its_first_uploader_only,
    ),
    ("a file is erased whole", a_file_is_erased_whole),
    (
        "invitations: the first answer holds",
        invitations_first_answer_holds,
    ),
    (
        "reminders replaced per dossier",
        reminders_replaced_per_dossier,
    ),
    (
        "mail that fails is retried then given up",
        mail_retried_then_given_up,
    ),
    (
        "a claimed mail is taken again only once its lease is over",
        a_claimed_mail_is_taken_again_once_its_lease_is_over,
    ),
    (
        "an append checked against what changed since stores nothing",
        an_append_checked_against_what_changed_since_stores_nothing,
    ),
    (
        "envelopes read by arrival, past what a node has",
        envelopes_read_by_arrival,
    ),
    (
        "a deletion erases the dossier and keeps its tombstone",
        a_deletion_erases_the_dossier_and_keeps_its_tombstone,
    ),
    (
        "retention counts from the last activity or the jury",
        retention_counts_from_the_last_activity_or_the_jury,
    ),
    (
        "holdings count every row of a dossier and nothing of another",
        holdings_count_every_row_of_a_dossier,
    ),
];

/// The dossier [`a_deletion_erases_the_dossier_and_keeps_its_tombstone`] deletes, and the
/// bytes of its that no file or table may keep (checked per backend after the run).
const DELETED: DossierId = DossierId([0xde; 16]);
const DELETED_CANARY: &[u8] = b"CANARY-of-the-deleted-dossier";

/// Every kind of row a dossier has, each holding `canary` where it holds bytes.
fn fill(store: &dyn Store, d: DossierId, canary: &[u8]) {
    let (owner, juror) = (MemberKey([1; 32]), MemberKey([3; 32]));
    let tagged = |what: &str| [canary, what.as_bytes()].concat();
    store
        .create_dossier(&d, &tagged("genesis"), &[owner])
        .unwrap();
    store
        .append_membership(&d, 1, &tagged("juror in"), &[owner, juror])
        .unwrap();
    let sealed = |counter, channel| NewEnvelope {
        bytes: tagged(&format!("envelope {counter}")),
        members_seen: 2,
        ..envelope(d, owner, counter, channel)
    };
    store
        .append_envelopes(&[sealed(1, Channel::Dossier), sealed(2, Channel::Dossier)])
        .unwrap();
    let snapshot = StoredSnapshot {
        id: [d.0[0]; 32],
        bytes: tagged("snapshot"),
        covers: BTreeMap::from([(owner, 1)]),
    };
    store.put_snapshot(&d, &snapshot, 5).unwrap();
    store
        .put_jury_grants(&d, 1, &juror, &[9; 16], &[(juror, tagged("grant"))])
        .unwrap();
    let file = BlobId([d.0[0]; 16]);
    store
        .put_piece(&d, &file, &owner, 0, &tagged("piece"), true)
        .unwrap();
    let invited = Invitation {
        token_hash: [d.0[0]; 32],
        ..invitation(d.0[0], d, 1_000)
    };
    store
        .create_invitation(&invited, &mail(&format!("invite-{}", d.0[0])), 10)
        .unwrap();
    store
        .set_reminders(
            &d,
            &[(mail(&format!("rappel-{}", d.0[0])), 20)],
            Some((mail(&format!("tout-de-suite-{}", d.0[0])), 10)),
            DAY,
        )
        .unwrap();
}

fn a_deletion_erases_the_dossier_and_keeps_its_tombstone(open: Open) {
    let store = open();
    let kept = DossierId([0x0e; 16]);
    fill(store.as_ref(), DELETED, DELETED_CANARY);
    fill(store.as_ref(), kept, b"kept");
    let owner = MemberKey([1; 32]);
    assert_eq!(store.tombstone(&DELETED).unwrap(), None);
    let tombstone = store
        .delete_dossier(&DELETED, Ending::Notice(b"notice"), 1_000)
        .unwrap()
        .expect("deleted");
    assert_eq!(
        tombstone,
        Tombstone {
            notice: b"notice".to_vec(),
            deleted_ms: 1_000
        }
    );
    // Replayed, or replayed with another notice: the first stands.
    assert_eq!(
        store
            .delete_dossier(&DELETED, Ending::Notice(b"other"), 2_000)
            .unwrap(),
        Some(tombstone.clone())
    );
    // After a restart too.
    let store = open();
    assert_eq!(store.tombstone(&DELETED).unwrap(), Some(tombstone));
    // Nothing of it is read back.
    assert!(store.membership_log(&DELETED).unwrap().is_empty());
    assert_eq!(store.dossiers_of(&owner).unwrap(), vec![kept]);
    assert!(
        store
            .envelopes_since(&DELETED, &BTreeMap::new(), true)
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.last_counter(&DELETED, &owner).unwrap(), 0);
    assert!(store.active_snapshot(&DELETED).unwrap().is_none());
    let file = BlobId([DELETED.0[0]; 16]);
    assert_eq!(store.get_piece(&DELETED, &file, 0).unwrap(), None);
    let grants = store.jury_grants(&DELETED, 1, &MemberKey([3; 32])).unwrap();
    assert!(grants.key_id.is_none() && grants.mine.is_empty());
    assert!(
        store
            .invitation_by_token(&[DELETED.0[0]; 32])
            .unwrap()
            .is_none()
    );
    // Its mails (invitation, reminders) are no longer queued; the other dossier's are.
    let mut queued: Vec<String> = store
        .claim_mail(i64::MAX, i64::MAX, 100)
        .unwrap()
        .into_iter()
        .map(|q| q.mail.to)
        .collect();
    queued.sort();
    assert_eq!(queued, ["invite-14", "rappel-14", "tout-de-suite-14"]);
    // Nothing brings it back: no creation, no write of any kind.
    let refused = |result: Result<(), StoreError>, what: &str| {
        assert!(
            matches!(result, Err(StoreError::Deleted)),
            "{what} after the deletion: {result:?}"
        );
    };
    refused(
        store.create_dossier(&DELETED, b"again", &[owner]),
        "creation",
    );
    refused(
        store.append_membership(&DELETED, 2, b"entry", &[owner]),
        "membership",
    );
    let snapshot = StoredSnapshot {
        id: [1; 32],
        bytes: b"s".to_vec(),
        covers: BTreeMap::new(),
    };
    refused(store.put_snapshot(&DELETED, &snapshot, 9), "snapshot");
    refused(
        store
            .put_jury_grants(&DELETED, 1, &owner, &[1; 16], &[])
            .map(|_| ()),
        "jury grants",
    );
    refused(
        store
            .put_piece(&DELETED, &BlobId([7; 16]), &owner, 0, b"p", true)
            .map(|_| ()),
        "evidence",
    );
    refused(
        store.create_invitation(&invitation(0x77, DELETED, 1), &mail("x"), 1),
        "invitation",
    );
    refused(
        store
            .set_reminders(&DELETED, &[(mail("y"), 1)], None, DAY)
            .map(|_| ()),
        "reminders",
    );
    // The other dossier is whole.
    assert_eq!(store.membership_log(&kept).unwrap().len(), 2);
    assert_eq!(
        store
            .envelopes_since(&kept, &BTreeMap::new(), true)
            .unwrap()
            .len(),
        2
    );
    assert!(
        store
            .get_piece(&kept, &BlobId([0x0e; 16]), 0)
            .unwrap()
            .is_some()
    );
    assert_eq!(store.tombstone(&kept).unwrap(), None);
}

fn retention_counts_from_the_last_activity_or_the_jury(open: Open) {
    let store = open();
    let year = 365 * DAY;
    let (quiet, busy, judged) = (DossierId([1; 16]), DossierId([2; 16]), DossierId([3; 16]));
    let owner = MemberKey([1; 32]);
    for d in [quiet, busy, judged] {
        store.create_dossier(&d, b"genesis", &[owner]).unwrap();
    }
    store.touch(&[quiet, busy, judged], 10 * DAY).unwrap();
    // Activity moves the end; an older date never moves it back.
    store.touch(&[busy], 100 * DAY).unwrap();
    store.touch(&[busy], 50 * DAY).unwrap();
    // A jury later than the activity: counted from the jury.
    store
        .set_jury(&judged, Some(200 * DAY), Some("candidat@example.org"))
        .unwrap();
    let ends = |d: DossierId| store.retention(&d, year).unwrap().unwrap().ends_ms;
    assert_eq!(ends(quiet), 10 * DAY + year);
    assert_eq!(ends(busy), 100 * DAY + year);
    assert_eq!(ends(judged), 200 * DAY + year);
    let due = |until: i64| -> Vec<DossierId> {
        store
            .retention_due(year, until, 10)
            .unwrap()
            .into_iter()
            .map(|r| r.dossier)
            .collect()
    };
    assert_eq!(due(10 * DAY + year - 1), []);
    assert_eq!(due(100 * DAY + year), [quiet, busy]);
    assert_eq!(due(i64::MAX / 2), [quiet, busy, judged]);
    // The candidate's notices: the one that takes effect later is kept; a renewal notes
    // activity too.
    store.retain(&quiet, b"first", 400 * DAY, 20 * DAY).unwrap();
    store.retain(&quiet, b"older", 300 * DAY, 15 * DAY).unwrap();
    let r = store.retention(&quiet, year).unwrap().unwrap();
    assert_eq!(r.notice.as_deref(), Some(&b"first"[..]));
    assert_eq!(r.ends_ms, 20 * DAY + year);
    assert_eq!(r.contact, None);
    // A warning recorded with its mail.
    let j = store.retention(&judged, year).unwrap().unwrap();
    assert_eq!(j.contact.as_deref(), Some("candidat@example.org"));
    assert_eq!(j.warned, None);
    store
        .warned(&judged, j.ends_ms, 30, &mail("candidat@example.org"), 5)
        .unwrap();
    let j = store.retention(&judged, year).unwrap().unwrap();
    assert_eq!(j.warned, Some((j.ends_ms, 30)));
    let queued = store.claim_mail(i64::MAX, i64::MAX, 10).unwrap();
    assert_eq!(queued.len(), 1);
    // Not due yet: left as it is. Due: erased, its tombstone the latest notice (or none).
    let now = 20 * DAY + year - 1;
    assert_eq!(
        store
            .delete_dossier(&quiet, Ending::Expired { retention_ms: year }, now)
            .unwrap(),
        None
    );
    assert_eq!(store.membership_log(&quiet).unwrap().len(), 1);
    let ended = store
        .delete_dossier(&quiet, Ending::Expired { retention_ms: year }, now + 1)
        .unwrap()
        .expect("ended");
    assert_eq!(ended.notice, b"first");
    assert!(store.membership_log(&quiet).unwrap().is_empty());
    let ended = store
        .delete_dossier(
            &busy,
            Ending::Expired { retention_ms: year },
            100 * DAY + year,
        )
        .unwrap()
        .expect("ended");
    assert!(ended.notice.is_empty(), "no notice from its candidate");
    assert_eq!(due(i64::MAX / 2), [judged]);
    assert_eq!(store.retention(&quiet, year).unwrap(), None);
}

fn holdings_count_every_row_of_a_dossier(open: Open) {
    let store = open();
    let (d, other) = (DossierId([0x0a; 16]), DossierId([0x0b; 16]));
    assert_eq!(store.held(&d).unwrap(), None, "not held yet");
    fill(store.as_ref(), d, b"ours");
    // Another dossier's rows, bigger, must not count.
    fill(store.as_ref(), other, b"someone else's, longer");
    store.touch(&[d], 1_234).unwrap();
    store
        .set_jury(&d, Some(5 * DAY), Some("anna@example.org"))
        .unwrap();
    let held = store.held(&d).unwrap().expect("held");
    let tagged = |what: &str| (b"ours".len() + what.len()) as u64;
    assert_eq!(
        (held.envelopes.count, held.envelopes.bytes),
        (2, tagged("envelope 1") + tagged("envelope 2"))
    );
    assert_eq!(
        (held.snapshots.count, held.snapshots.bytes),
        (1, tagged("snapshot"))
    );
    assert_eq!(
        (held.evidence.count, held.evidence.bytes),
        (1, tagged("piece"))
    );
    assert_eq!(held.review_keys, 2, "the juror's key and its one grant");
    assert_eq!(
        held.invitations,
        [HeldInvitation {
            role: Role::Advisor,
            expires_ms: 1_000,
            answered: false
        }]
    );
    let mut to: Vec<&str> = held.mails.iter().map(|m| m.recipient.as_str()).collect();
    to.sort();
    assert_eq!(to, ["invite-10", "rappel-10", "tout-de-suite-10"]);
    assert_eq!((held.active_ms, held.jury_ms), (1_234, Some(5 * DAY)));
    // Gone with the dossier.
    store
        .delete_dossier(&d, Ending::Notice(b"notice"), 2_000)
        .unwrap();
    assert_eq!(store.held(&d).unwrap(), None);
    assert!(store.held(&other).unwrap().is_some());
}

/// The name [`run_all`] gives the deletion check's database.
const DELETION_CHECK: &str = "a deletion erases the dossier and keeps its tombstone";

/// Runs every check on a database `fresh(name)` makes for it; `fresh` returns the opener.
fn run_all(backend: &str, fresh: &dyn Fn(&str) -> Opener) {
    for (name, check) in CHECKS {
        let open = fresh(name);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&*open)));
        if let Err(panic) = outcome {
            eprintln!("{backend}: « {name} » failed");
            std::panic::resume_unwind(panic);
        }
    }
}

fn envelope(dossier: DossierId, writer: MemberKey, counter: u64, channel: Channel) -> NewEnvelope {
    NewEnvelope {
        dossier,
        writer,
        counter,
        channel,
        bytes: counter.to_be_bytes().to_vec(),
        members_seen: 0,
    }
}

fn mail(to: &str) -> OutgoingMail {
    OutgoingMail {
        to: to.into(),
        subject: "Rappel".into(),
        body: "…".into(),
    }
}

fn dossiers_and_their_members(open: Open) {
    let store = open();
    let (d, e) = (DossierId([1; 16]), DossierId([2; 16]));
    let (owner, advisor) = (MemberKey([1; 32]), MemberKey([2; 32]));
    store.create_dossier(&d, b"genesis", &[owner]).unwrap();
    assert!(matches!(
        store.create_dossier(&d, b"again", &[advisor]),
        Err(StoreError::Exists)
    ));
    store.create_dossier(&e, b"other", &[advisor]).unwrap();
    store
        .append_membership(&d, 1, b"advisor in", &[owner, advisor])
        .unwrap();
    assert_eq!(
        store.membership_log(&d).unwrap(),
        vec![b"genesis".to_vec(), b"advisor in".to_vec()]
    );
    let mut theirs = store.dossiers_of(&advisor).unwrap();
    theirs.sort();
    assert_eq!(theirs, vec![d, e]);
    // Removed: no longer listed.
    store
        .append_membership(&d, 2, b"advisor out", &[owner])
        .unwrap();
    assert_eq!(store.dossiers_of(&advisor).unwrap(), vec![e]);
    assert!(
        store
            .membership_log(&DossierId([3; 16]))
            .unwrap()
            .is_empty()
    );
}

fn a_batch_is_all_stored_or_none(open: Open) {
    let store = open();
    let d = DossierId([1; 16]);
    let w = MemberKey([1; 32]);
    store
        .append_envelopes(&[envelope(d, w, 1, Channel::Dossier)])
        .unwrap();
    // The second envelope repeats a stored (dossier, writer, counter): nothing of the batch.
    let batch = [
        envelope(d, w, 2, Channel::Dossier),
        envelope(d, w, 1, Channel::Dossier),
    ];
    assert!(store.append_envelopes(&batch).is_err());
    assert_eq!(store.last_counter(&d, &w).unwrap(), 1);
    assert_eq!(store.envelope_at(&d, &w, 2).unwrap(), None);
    assert_eq!(
        store.envelope_at(&d, &w, 1).unwrap(),
        Some(1u64.to_be_bytes().to_vec())
    );
    assert_eq!(
        store.envelopes_since(&d, &BTreeMap::new(), false).unwrap(),
        vec![1u64.to_be_bytes().to_vec()]
    );
}

fn a_long_history_is_read_whole(open: Open) {
    let store = open();
    let d = DossierId([9; 16]);
    let (a, b) = (MemberKey([1; 32]), MemberKey([2; 32]));
    // Past several of any backend's pages (SQLite reads 1,024 rows at a time).
    let n = 3 * 1024 + 17;
    let batch: Vec<NewEnvelope> = (1..=n)
        .flat_map(|c| {
            [
                envelope(d, a, c, Channel::Dossier),
                envelope(d, b, c, Channel::Dossier),
            ]
        })
        .collect();
    // In two batches, as two commits would come.
    let (first, second) = batch.split_at(batch.len() / 2);
    store.append_envelopes(first).unwrap();
    store.append_envelopes(second).unwrap();
    let all = store.envelopes_since(&d, &BTreeMap::new(), true).unwrap();
    let expected: Vec<Vec<u8>> = batch.iter().map(|e| e.bytes.clone()).collect();
    assert_eq!(all, expected);
    let tail = store
        .envelopes_since(&d, &BTreeMap::from([(a, n - 2), (b, n)]), true)
        .unwrap();
    assert_eq!(
        tail,
        vec![(n - 1).to_be_bytes().to_vec(), n.to_be_bytes().to_vec()]
    );
    assert_eq!(
        store.last_counters(&d).unwrap(),
        BTreeMap::from([(a, n), (b, n)])
    );
    // Large envelopes: a page stops at its bytes (4 MiB on SQLite) long before its rows.
    let big = DossierId([10; 16]);
    let large: Vec<NewEnvelope> = (1..=12u64)
        .map(|c| {
            let writer = if c % 2 == 0 { a } else { b };
            let mut bytes = vec![c as u8; 1024 * 1024];
            bytes[..8].copy_from_slice(&c.to_be_bytes());
            NewEnvelope {
                dossier: big,
                writer,
                counter: c.div_ceil(2),
                channel: Channel::Dossier,
                bytes,
                members_seen: 0,
            }
        })
        .collect();
    store.append_envelopes(&large).unwrap();
    let read = store
        .envelopes_since(&big, &BTreeMap::new(), false)
        .unwrap();
    assert_eq!(read.len(), 12);
    assert!(
        read.iter().zip(&large).all(|(r, e)| *r == e.bytes),
        "in order"
    );
    // What b already has is not sent again.
    let tail = store
        .envelopes_since(&big, &BTreeMap::from([(b, 5)]), false)
        .unwrap();
    let firsts: Vec<u8> = tail.iter().map(|e| e[7]).collect();
    assert_eq!(firsts, [2, 4, 6, 8, 10, 11, 12]);
}

fn snapshots_prune_the_dossier_channel_only(open: Open) {
    let store = open();
    let d = DossierId([5; 16]);
    let (owner, juror) = (MemberKey([1; 32]), MemberKey([6; 32]));
    store
        .append_envelopes(&[
            envelope(d, owner, 1, Channel::Dossier),
            envelope(d, owner, 2, Channel::Dossier),
            envelope(d, juror, 1, Channel::Review),
        ])
        .unwrap();
    assert_eq!(
        store.last_counters(&d).unwrap(),
        BTreeMap::from([(owner, 2)]),
        "the dossier channel's writers only"
    );
    assert!(store.active_snapshot(&d).unwrap().is_none());
    let snapshot = StoredSnapshot {
        id: [1; 32],
        bytes: vec![9],
        covers: BTreeMap::from([(owner, 2), (juror, 1)]),
    };
    store.put_snapshot(&d, &snapshot, 100).unwrap();
    let active = store.active_snapshot(&d).unwrap().expect("active");
    assert_eq!(
        (active.id, active.bytes, active.covers),
        ([1; 32], vec![9], snapshot.covers.clone())
    );
    let left = store.envelopes_since(&d, &BTreeMap::new(), false).unwrap();
    assert_eq!(
        left,
        vec![1u64.to_be_bytes().to_vec()],
        "the juror's envelope is never pruned"
    );
    // Pruned ones stay readable until the purge.
    assert_eq!(
        store
            .envelopes_since(&d, &BTreeMap::new(), true)
            .unwrap()
            .len(),
        3
    );
    // A later snapshot replaces it.
    let later = StoredSnapshot {
        id: [2; 32],
        bytes: vec![10],
        covers: BTreeMap::from([(owner, 2)]),
    };
    store.put_snapshot(&d, &later, 200).unwrap();
    assert_eq!(store.active_snapshot(&d).unwrap().unwrap().id, [2; 32]);
}

fn purged_envelopes_leave_their_counters(open: Open) {
    let store = open();
    let d = DossierId([7; 16]);
    let (owner, juror) = (MemberKey([1; 32]), MemberKey([2; 32]));
    let batch: Vec<NewEnvelope> = (1..=3)
        .map(|c| envelope(d, owner, c, Channel::Dossier))
        .chain((1..=2).map(|c| envelope(d, juror, c, Channel::Review)))
        .collect();
    store.append_envelopes(&batch).unwrap();
    let snapshot = StoredSnapshot {
        id: [1; 32],
        bytes: vec![9],
        covers: BTreeMap::from([(owner, 3)]),
    };
    store.put_snapshot(&d, &snapshot, 100).unwrap();
    assert_eq!(store.purge(99).unwrap(), 0, "nothing pruned before 100");
    assert_eq!(store.purge(i64::MAX).unwrap(), 3);
    drop(store);
    // After a restart, each writer's last counter is still known.
    let store = open();
    assert_eq!(store.last_counter(&d, &owner).unwrap(), 3);
    assert_eq!(store.last_counter(&d, &juror).unwrap(), 2);
    assert_eq!(
        store.last_counters(&d).unwrap(),
        BTreeMap::from([(owner, 3)])
    );
    assert_eq!(store.envelope_at(&d, &owner, 3).unwrap(), None);
}

fn each_jurors_first_key_of_an_epoch_wins(open: Open) {
    let store = open();
    let d = DossierId([3; 16]);
    let (a, b, c) = (MemberKey([1; 32]), MemberKey([2; 32]), MemberKey([3; 32]));
    let put = |epoch, by: &MemberKey, id: [u8; 16], grants: &[(MemberKey, Vec<u8>)]| {
        store.put_jury_grants(&d, epoch, by, &id, grants).unwrap()
    };
    assert!(put(1, &a, [9; 16], &[(a, vec![1]), (b, vec![2])]));
    // Another key of A's for the same epoch is not kept; A's first grant to B stays.
    assert!(!put(1, &a, [8; 16], &[(c, vec![3])]));
    assert!(put(1, &a, [9; 16], &[(b, vec![22]), (c, vec![3])]));
    // C's own key (garbage or not) changes nothing of A's.
    assert!(put(1, &c, [5; 16], &[(a, vec![55]), (b, vec![56])]));
    assert!(put(2, &a, [7; 16], &[(b, vec![4])]));
    let keys = store.jury_grants(&d, 1, &a).unwrap();
    assert_eq!(keys.key_id, Some([9; 16]));
    let mut granted = keys.granted.clone();
    granted.sort();
    assert_eq!(granted, vec![a, b, c]);
    let keys = store.jury_grants(&d, 1, &b).unwrap();
    assert_eq!((keys.key_id, keys.granted.len()), (None, 0));
    let mine: Vec<(u32, [u8; 16], Vec<u8>)> = keys
        .mine
        .into_iter()
        .map(|g| (g.epoch, g.key_id, g.wrapped))
        .collect();
    assert_eq!(
        mine,
        vec![
            (1, [9; 16], vec![2]),
            (1, [5; 16], vec![56]),
            (2, [7; 16], vec![4])
        ]
    );
    let none = store.jury_grants(&DossierId([4; 16]), 1, &a).unwrap();
    assert!(none.key_id.is_none() && none.granted.is_empty() && none.mine.is_empty());
}

fn evidence_from_its_first_uploader_only(open: Open) {
    let store = open();
    let d = DossierId([4; 16]);
    let (candidate, advisor) = (MemberKey([1; 32]), MemberKey([2; 32]));
    let file = BlobId([1; 16]);
    let state = store
        .put_piece(&d, &file, &candidate, 0, b"un", false)
        .unwrap();
    assert_eq!((state.stored, state.complete), (1, false));
    // A retry of a stored piece writes nothing and says where the file is.
    let again = store
        .put_piece(&d, &file, &candidate, 0, b"un", false)
        .unwrap();
    assert_eq!(again.stored, 1);
    assert!(matches!(
        store.put_piece(&d, &file, &candidate, 2, b"trop loin", false),
        Err(StoreError::OutOfOrder { expected: 1 })
    ));
    assert!(matches!(
        store.put_piece(&d, &file, &advisor, 1, b"garbage", true),
        Err(StoreError::NotUploader)
    ));
    let state = store
        .put_piece(&d, &file, &candidate, 1, b"deux", true)
        .unwrap();
    assert!(state.complete);
    assert_eq!(
        store.get_piece(&d, &file, 0).unwrap(),
        Some((b"un".to_vec(), false))
    );
    assert_eq!(
        store.get_piece(&d, &file, 1).unwrap(),
        Some((b"deux".to_vec(), true))
    );
    assert_eq!(store.get_piece(&d, &file, 2).unwrap(), None);
    let theirs = BlobId([2; 16]);
    store
        .put_piece(&d, &theirs, &advisor, 0, b"a", false)
        .unwrap();
}

/// The dossier whose files the erasure check erases: none of its pieces may be left.
const ERASED: DossierId = DossierId([0x0f; 16]);

fn a_file_is_erased_whole(open: Open) {
    let store = open();
    let d = ERASED;
    let (candidate, advisor) = (MemberKey([1; 32]), MemberKey([2; 32]));
    let [mine, theirs] = [BlobId([1; 16]), BlobId([2; 16])];
    for (file, device) in [(mine, &candidate), (theirs, &advisor)] {
        store.put_piece(&d, &file, device, 0, b"un", false).unwrap();
        store
            .put_piece(&d, &file, device, 1, b"deux", true)
            .unwrap();
    }
    // The same file id in another dossier is another file.
    let elsewhere = DossierId([0x1f; 16]);
    store
        .put_piece(&elsewhere, &mine, &candidate, 0, b"ailleurs", true)
        .unwrap();
    assert!(store.erase_blob(&d, &mine).unwrap());
    assert!(store.erase_blob(&d, &theirs).unwrap());
    assert!(
        !store.erase_blob(&d, &mine).unwrap(),
        "again: nothing to erase"
    );
    for file in [mine, theirs] {
        for index in 0..2 {
            assert_eq!(store.get_piece(&d, &file, index).unwrap(), None);
        }
    }
    assert_eq!(
        store.get_piece(&elsewhere, &mine, 0).unwrap(),
        Some((b"ailleurs".to_vec(), true))
    );
    // Erased files no longer count against the dossier's space, and the file's uploader is
    // forgotten with it.
    store
        .put_piece(&d, &theirs, &candidate, 0, b"neuf", true)
        .unwrap();
    assert!(store.erase_blob(&d, &theirs).unwrap());
}

fn invitation(id: u8, dossier: DossierId, expires: i64) -> Invitation {
    Invitation {
        id: [id; 16],
        token_hash: [id; 32],
        dossier,
        role: Role::Advisor,
        inviter: MemberKey([1; 32]),
        expires,
        answer: None,
    }
}

fn invitations_first_answer_holds(open: Open) {
    let store = open();
    let d = DossierId([6; 16]);
    let first = invitation(1, d, 1_000);
    store
        .create_invitation(&first, &mail("advisor@example.org"), 10)
        .unwrap();
    store
        .create_invitation(&invitation(2, d, 2_000), &mail("juror@example.org"), 10)
        .unwrap();
    let found = store.invitation_by_token(&[1; 32]).unwrap().expect("found");
    assert_eq!(
        (found.id, found.dossier, found.role),
        ([1; 16], d, Role::Advisor)
    );
    assert!(store.invitation_by_token(&[3; 32]).unwrap().is_none());
    assert!(store.answered_invitations(&d).unwrap().is_empty());
    assert!(store.answer_invitation(&[2; 16], "livret1:c").unwrap());
    assert!(store.answer_invitation(&[1; 16], "livret1:a").unwrap());
    assert!(store.answer_invitation(&[1; 16], "livret1:a").unwrap());
    assert!(!store.answer_invitation(&[1; 16], "livret1:b").unwrap());
    // Oldest first (the one expiring first), whatever order they were answered in.
    let answered: Vec<Option<String>> = store
        .answered_invitations(&d)
        .unwrap()
        .into_iter()
        .map(|i| i.answer)
        .collect();
    assert_eq!(
        answered,
        [Some("livret1:a".to_string()), Some("livret1:c".to_string())]
    );
    // Both mails were queued with their invitations.
    let due: Vec<String> = store
        .claim_mail(i64::MAX, i64::MAX, 10)
        .unwrap()
        .into_iter()
        .map(|q| q.mail.to)
        .collect();
    assert_eq!(due, ["advisor@example.org", "juror@example.org"]);
}

const DAY: i64 = 24 * 3600 * 1000;

fn reminders_replaced_per_dossier(open: Open) {
    let store = open();
    // What is queued, in name order (claiming them changes when they are due, so the
    // order they are due in is checked apart, in `mail_retried_then_given_up`).
    let names = || -> Vec<String> {
        let mut names: Vec<String> = store
            .claim_mail(i64::MAX, i64::MAX, 100)
            .unwrap()
            .into_iter()
            .map(|q| q.mail.to)
            .collect();
        names.sort();
        names
    };
    let id_of = |to: &str| -> i64 {
        store
            .claim_mail(i64::MAX, i64::MAX, 100)
            .unwrap()
            .into_iter()
            .find(|q| q.mail.to == to)
            .expect("queued")
            .id
    };
    let (a, b) = (DossierId([1; 16]), DossierId([2; 16]));
    store
        .set_reminders(&a, &[(mail("a-30"), 10), (mail("a-7"), 20)], None, DAY)
        .unwrap();
    store
        .set_reminders(&b, &[(mail("b-7"), 15)], None, DAY)
        .unwrap();
    // Another kind of mail (an invitation's), due first.
    store
        .create_invitation(&invitation(9, a, i64::MAX), &mail("invitation"), 5)
        .unwrap();
    assert_eq!(names(), ["a-30", "a-7", "b-7", "invitation"]);
    // A new date for a: its two reminders give way to one; b's and the invitation stay.
    store
        .set_reminders(&a, &[(mail("a-1"), 30)], None, DAY)
        .unwrap();
    assert_eq!(names(), ["a-1", "b-7", "invitation"]);
    store.set_reminders(&a, &[], None, DAY).unwrap();
    assert_eq!(names(), ["b-7", "invitation"]);
    // A reminder sent leaves no link behind: replacing b's after it removes nothing else.
    store.mail_sent(id_of("b-7")).unwrap();
    store
        .set_reminders(&b, &[(mail("b-1"), 40)], None, DAY)
        .unwrap();
    assert_eq!(names(), ["b-1", "invitation"]);
    // A reminder at once replaced before it went out: the new one is queued too (the
    // first never counted as sent).
    assert!(
        store
            .set_reminders(&a, &[], Some((mail("a-now"), 50)), DAY)
            .unwrap()
    );
    assert!(
        store
            .set_reminders(&a, &[], Some((mail("a-fixed"), 60)), DAY)
            .unwrap()
    );
    assert_eq!(names(), ["a-fixed", "b-1", "invitation"]);
    // Once it went out (now, by the store's clock), another at once within the quiet time
    // is not queued, the scheduled ones are; b is not concerned.
    store.mail_sent(id_of("a-fixed")).unwrap();
    let soon = crate::clock::now_ms() + 60_000;
    assert!(
        !store
            .set_reminders(
                &a,
                &[(mail("a-1"), soon)],
                Some((mail("a-again"), soon)),
                DAY
            )
            .unwrap()
    );
    assert_eq!(names(), ["a-1", "b-1", "invitation"]);
    assert!(
        store
            .set_reminders(&b, &[], Some((mail("b-now"), soon)), DAY)
            .unwrap()
    );
}

fn mail_retried_then_given_up(open: Open) {
    let store = open();
    let d = DossierId([1; 16]);
    store
        .set_reminders(&d, &[(mail("a"), 10), (mail("b"), 20)], None, DAY)
        .unwrap();
    assert_eq!(store.next_mail_due().unwrap(), Some(10));
    let first = store.claim_mail(15, 1_000, 10).unwrap();
    assert_eq!(first.len(), 1, "only what is due");
    assert_eq!((first[0].mail.to.as_str(), first[0].attempts), ("a", 0));
    // Claimed: no one else takes it until its lease is over (or its outcome is known).
    assert!(store.claim_mail(15, 1_000, 10).unwrap().is_empty());
    assert_eq!(store.next_mail_due().unwrap(), Some(20));
    store.mail_failed(first[0].id, 1, 30).unwrap();
    assert_eq!(store.next_mail_due().unwrap(), Some(20));
    let retried = store.claim_mail(30, 1_000, 10).unwrap();
    let order: Vec<(&str, u32)> = retried
        .iter()
        .map(|q| (q.mail.to.as_str(), q.attempts))
        .collect();
    assert_eq!(order, [("b", 0), ("a", 1)]);
    store.mail_abandoned(retried[1].id).unwrap();
    store.mail_sent(retried[0].id).unwrap();
    assert!(store.claim_mail(i64::MAX, i64::MAX, 10).unwrap().is_empty());
    assert_eq!(store.next_mail_due().unwrap(), None);
    // A new date for d finds nothing left to replace and queues its own.
    store
        .set_reminders(&d, &[(mail("c"), 40)], None, DAY)
        .unwrap();
    assert_eq!(store.next_mail_due().unwrap(), Some(40));
}

fn a_claimed_mail_is_taken_again_once_its_lease_is_over(open: Open) {
    let store = open();
    store
        .set_reminders(&DossierId([1; 16]), &[(mail("a"), 10)], None, DAY)
        .unwrap();
    let claimed = store.claim_mail(10, 500, 10).unwrap();
    assert_eq!(claimed.len(), 1);
    // The node that claimed it stops before saying how it went: nobody takes it until
    // the lease is over, then it is due again, its attempts unchanged.
    assert!(store.claim_mail(499, 1_000, 10).unwrap().is_empty());
    let again = store.claim_mail(500, 1_000, 10).unwrap();
    assert_eq!((again[0].id, again[0].attempts), (claimed[0].id, 0));
    store.mail_sent(again[0].id).unwrap();
    assert!(store.claim_mail(i64::MAX, i64::MAX, 10).unwrap().is_empty());
}

fn an_append_checked_against_what_changed_since_stores_nothing(open: Open) {
    let store = open();
    let (d, other) = (DossierId([4; 16]), DossierId([8; 16]));
    let (owner, advisor) = (MemberKey([1; 32]), MemberKey([2; 32]));
    store.create_dossier(&d, b"genesis", &[owner]).unwrap();
    let checked = |counter, members_seen| NewEnvelope {
        members_seen,
        ..envelope(d, owner, counter, Channel::Dossier)
    };
    store.append_envelopes(&[checked(1, 1)]).unwrap();
    // Another node added a member since this batch was checked against the first entry.
    store
        .append_membership(&d, 1, b"advisor in", &[owner, advisor])
        .unwrap();
    let fine_elsewhere = envelope(other, advisor, 1, Channel::Dossier);
    assert!(matches!(
        store.append_envelopes(&[fine_elsewhere, checked(2, 1)]),
        Err(StoreError::Stale(stale)) if stale == [d]
    ));
    assert_eq!(store.last_counter(&d, &owner).unwrap(), 1, "nothing stored");
    assert_eq!(
        store.last_counter(&other, &advisor).unwrap(),
        0,
        "nothing at all"
    );
    // Another node appended the owner's 2 and 3 (this one thought its last was 1).
    store
        .append_envelopes(&[checked(2, 2), checked(3, 2)])
        .unwrap();
    assert!(matches!(
        store.append_envelopes(&[checked(2, 2)]),
        Err(StoreError::Stale(stale)) if stale == [d]
    ));
    assert!(matches!(
        store.append_envelopes(&[checked(5, 2)]),
        Err(StoreError::Stale(_))
    ));
    store.append_envelopes(&[checked(4, 2)]).unwrap();
    assert_eq!(store.last_counter(&d, &owner).unwrap(), 4);
}

fn envelopes_read_by_arrival(open: Open) {
    let store = open();
    let (d, e) = (DossierId([1; 16]), DossierId([2; 16]));
    let (a, b) = (MemberKey([1; 32]), MemberKey([2; 32]));
    let first = store
        .append_envelopes(&[
            envelope(d, a, 1, Channel::Dossier),
            envelope(e, a, 1, Channel::Dossier),
            envelope(d, b, 1, Channel::Dossier),
        ])
        .unwrap();
    assert_eq!(first.len(), 3);
    assert!(
        first[0] < first[2],
        "a dossier's arrivals grow in batch order"
    );
    let second = store
        .append_envelopes(&[envelope(d, a, 2, Channel::Review)])
        .unwrap();
    assert!(second[0] > first[2]);
    let bodies = |page: Vec<Arrived>| -> Vec<(Arrival, MemberKey, u64)> {
        page.into_iter()
            .map(|e| {
                let counter = u64::from_be_bytes(e.bytes.try_into().unwrap());
                (e.arrival, e.writer, counter)
            })
            .collect()
    };
    // Past the first: the rest of d, pruned or not, in arrival order; none of e.
    assert_eq!(
        bodies(store.envelopes_after(&d, first[0], 100, 1 << 20).unwrap()),
        [(first[2], b, 1), (second[0], a, 2)]
    );
    assert_eq!(
        bodies(store.envelopes_after(&d, 0, 100, 1 << 20).unwrap()).len(),
        3
    );
    // A page stops at its rows, or at its bytes past the first envelope.
    assert_eq!(store.envelopes_after(&d, 0, 2, 1 << 20).unwrap().len(), 2);
    assert_eq!(store.envelopes_after(&d, 0, 100, 12).unwrap().len(), 1);
    assert_eq!(store.envelopes_after(&d, 0, 100, 16).unwrap().len(), 2);
    assert!(
        store
            .envelopes_after(&d, second[0], 100, 16)
            .unwrap()
            .is_empty()
    );
    let mut last = store.last_arrivals(&[d, e, DossierId([3; 16])]).unwrap();
    last.sort();
    assert_eq!(last, [(d, second[0]), (e, first[1])]);
}

#[test]
fn the_sqlite_store_passes_every_check() {
    let root = std::env::temp_dir().join(format!("livret-conformance-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    let fresh = |name: &str| -> Opener {
        let path = root.join(format!("{}.sqlite3", name.replace(' ', "-")));
        Box::new(move || Box::new(SqliteStore::open(&path).unwrap()) as Box<dyn Store>)
    };
    run_all("SQLite", &fresh);
    // The deleted dossier's bytes are nowhere in the file (zeroed, not left in free
    // pages) nor in its write-ahead log; the kept one's are, which shows the search works.
    let path = root.join(format!("{}.sqlite3", DELETION_CHECK.replace(' ', "-")));
    let conn = rusqlite::Connection::open(&path).unwrap();
    for (table, column) in DOSSIER_TABLES {
        let rows: i64 = conn
            .query_row(
                &format!("SELECT COUNT(*) FROM {table} WHERE {column} = ?1"),
                [&DELETED.0[..]],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(
            rows, 0,
            "SQLite: rows of the deleted dossier left in {table}"
        );
    }
    drop(conn);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend(std::fs::read(path.with_extension("sqlite3-wal")).unwrap_or_default());
    let holds = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    assert!(holds(b"keptenvelope 1"), "the search sees what is kept");
    assert!(
        !holds(DELETED_CANARY),
        "SQLite: the deleted dossier's bytes are still in the file"
    );
    let _ = std::fs::remove_dir_all(&root);
}

/// Rows naming the deleted dossier left in any table of a PostgreSQL database.
fn postgres_rows_left(url: &str) -> Vec<(String, i64)> {
    let mut client = ::postgres::Client::connect(url, ::postgres::NoTls).unwrap();
    let tables = DOSSIER_TABLES.iter().chain([&("dossier_heads", "dossier")]);
    tables
        .filter_map(|(table, column)| {
            let sql = format!("SELECT COUNT(*) FROM {table} WHERE {column} = $1");
            let rows: i64 = client
                .query_one(sql.as_str(), &[&&DELETED.0[..]])
                .unwrap()
                .get(0);
            (rows > 0).then(|| (table.to_string(), rows))
        })
        .collect()
}

#[test]
fn the_postgres_store_passes_every_check() {
    let server = crate::testing::ThrowawayPostgres::start();
    let deletion_check = std::cell::RefCell::new(String::new());
    let fresh = |name: &str| -> Opener {
        let url = server.database(name);
        if name == DELETION_CHECK {
            *deletion_check.borrow_mut() = url.clone();
        }
        Box::new(move || Box::new(PgStore::connect(&url).unwrap()) as Box<dyn Store>)
    };
    run_all("PostgreSQL", &fresh);
    assert_eq!(postgres_rows_left(&deletion_check.borrow()), []);
}

#[test]
fn the_postgres_store_with_evidence_in_a_bucket_passes_every_check() {
    let server = crate::testing::ThrowawayPostgres::start();
    let s3 = crate::testing::ThrowawayS3::start();
    let settings: Vec<(String, String)> = s3
        .settings()
        .into_iter()
        .map(|(k, v)| (k.to_lowercase(), v))
        .collect();
    let bucket = s3.url();
    let deletion_check = std::cell::RefCell::new(String::new());
    let fresh = |name: &str| -> Opener {
        let url = server.database(name);
        if name == DELETION_CHECK {
            *deletion_check.borrow_mut() = url.clone();
        }
        let (settings, bucket) = (settings.clone(), bucket.clone());
        Box::new(move || {
            let settings: Vec<(&str, &str)> = settings
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let objects = ObjectPieces::open_with(&bucket, &settings).unwrap();
            Box::new(PgStore::connect(&url).unwrap().keep_pieces_in(objects)) as Box<dyn Store>
        })
    };
    run_all("PostgreSQL with a bucket", &fresh);
    let objects = s3.objects();
    assert!(!objects.is_empty(), "the pieces went to the bucket");
    assert_eq!(postgres_rows_left(&deletion_check.borrow()), []);
    // Of the two dossiers the deletion check filled, the kept one's piece only is left.
    let named = |d: DossierId| {
        let under = format!("pieces/{}/", hex::encode(d.0));
        objects
            .iter()
            .filter(|(name, _)| name.starts_with(&under))
            .count()
    };
    assert_eq!(named(DossierId([0x0e; 16])), 1);
    assert_eq!(
        named(DELETED),
        0,
        "the deleted dossier's pieces left the bucket"
    );
    assert_eq!(named(ERASED), 0, "the erased files' pieces left the bucket");
}

/// The server ends the store's sessions (a restart, a failover, an idle cut): the calls that
/// meet the loss fail, later ones connect again.
#[test]
fn the_postgres_store_recovers_a_lost_connection() {
    let server = crate::testing::ThrowawayPostgres::start();
    let url = server.database("lost");
    let store = PgStore::connect(&url).unwrap();
    let d = DossierId([1; 16]);
    let owner = MemberKey([1; 32]);
    store.create_dossier(&d, b"genesis", &[owner]).unwrap();
    let mut admin = ::postgres::Client::connect(&url, ::postgres::NoTls).unwrap();
    let ended = admin
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
            &[],
        )
        .unwrap();
    assert!(ended >= 2, "the store's read and write sessions, at least");
    let append = |counter| {
        store.append_envelopes(&[NewEnvelope {
            members_seen: 1,
            ..envelope(d, owner, counter, Channel::Dossier)
        }])
    };
    assert!(append(1).is_err(), "the write that met the loss");
    assert!(store.membership_log(&d).is_err(), "the read that met it");
    // The client learns a session is gone from the server's last message, then from the
    // closed socket: within three calls each connection is made again.
    assert!((0..3).any(|_| append(1).is_ok()), "writes again");
    assert!(
        (0..3).any(|_| store.membership_log(&d).is_ok()),
        "reads again"
    );
    assert_eq!(store.membership_log(&d).unwrap(), vec![b"genesis".to_vec()]);
    assert_eq!(store.last_counter(&d, &owner).unwrap(), 1);
}

/// Relay nodes on one database claim due mails at the same moment: each mail goes to
/// exactly one of them.
#[test]
fn nodes_claiming_mail_at_once_each_get_their_own() {
    let server = crate::testing::ThrowawayPostgres::start();
    let url = server.database("claims");
    let first = PgStore::connect(&url).unwrap();
    let mails: Vec<(OutgoingMail, i64)> = (0..300).map(|i| (mail(&format!("{i}")), i)).collect();
    first
        .set_reminders(&DossierId([1; 16]), &mails, None, DAY)
        .unwrap();
    let nodes: Vec<PgStore> = (0..4).map(|_| PgStore::connect(&url).unwrap()).collect();
    let claimed: Vec<Vec<i64>> = std::thread::scope(|scope| {
        let running: Vec<_> = nodes
            .iter()
            .map(|node| {
                scope.spawn(move || {
                    let mut mine = Vec::new();
                    loop {
                        let some = node.claim_mail(1_000, i64::MAX, 7).unwrap();
                        if some.is_empty() {
                            return mine;
                        }
                        mine.extend(some.iter().map(|q| q.id));
                    }
                })
            })
            .collect();
        running.into_iter().map(|r| r.join().unwrap()).collect()
    });
    let mut all: Vec<i64> = claimed.concat();
    let total = all.len();
    all.sort();
    all.dedup();
    assert_eq!((total, all.len()), (300, 300), "each mail claimed once");
    assert!(
        claimed.iter().filter(|mine| !mine.is_empty()).count() > 1,
        "the nodes claimed side by side"
    );
}
