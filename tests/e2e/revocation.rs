//! Revocation end to end: a real relay, the candidate's and the members' CLI devices, and
//! raw protocol clients for what a removed member might try.

use livret_shared::envelope::{self, Channel, DossierId, Envelope, Header, Kind, random_nonce};
use livret_shared::membership::{Op, SignedEntry};
use livret_shared::protocol::{ClientMsg, Rejection, ServerMsg};

use crate::support::Relay;
use crate::sync::{Device, Raw, assert_relay_never_saw, rejected};

/// Written after the removal; the removed advisor must never read it.
const AFTER: &str = "CANARI-apres-retrait-93be41";

#[test]
fn a_removed_advisor_is_wiped_reads_nothing_new_and_cannot_write() {
    let relay = Relay::start();
    let url = relay.url("");
    let candidate = Device::new("candidat-retrait");
    let advisor = Device::new("conseil-retrait");
    let juror = Device::new("jury-retrait");
    let id = candidate.run(&["dossier", "new", "--relay", &url]);
    let dossier = DossierId::from_hex(&id).unwrap();
    candidate.run(&[
        "dossier",
        "set",
        &id,
        "motivation.lettre",
        "Avant le retrait",
    ]);
    candidate.run(&["sync"]);
    candidate.run(&[
        "dossier",
        "share",
        &id,
        &advisor.identity(),
        "--role",
        "advisor",
    ]);
    candidate.run(&[
        "dossier",
        "share",
        &id,
        &juror.identity(),
        "--role",
        "juror",
    ]);
    advisor.run(&["dossier", "open", &id, "--relay", &url]);
    juror.run(&["dossier", "open", &id, "--relay", &url]);
    assert_eq!(
        advisor.run(&["dossier", "get", &id, "motivation.lettre"]),
        "Avant le retrait"
    );

    // Members as the candidate sees them, each with the code both sides can compare.
    let members = candidate.run(&["dossier", "members", &id]);
    assert_eq!(members.lines().count(), 3, "{members}");
    let advisor_line = format!(
        "advisor {} {}",
        advisor.run(&["identity", "code"]),
        advisor.identity()
    );
    assert!(
        members.lines().any(|l| l == advisor_line),
        "{members}\n{advisor_line}"
    );

    // Only the candidate removes: the advisor cannot remove the juror.
    let (ok, _) = advisor.try_run(&["dossier", "remove", &id, &juror.identity()]);
    assert!(!ok, "an advisor does not change who belongs");

    // The advisor is following the dossier live when the candidate removes them.
    let advisor_keys = advisor.secret();
    let mut live = Raw::connect(&relay, &advisor_keys);
    live.catch_up(dossier);
    let epoch = candidate.run(&["dossier", "remove", &id, &advisor.identity()]);
    assert_eq!(epoch, "2", "a new key epoch");
    // They hear of their removal…
    match live.recv() {
        ServerMsg::Log { entries, .. } => {
            let entry = livret_shared::membership::SignedEntry::from_bytes(&entries[0]).unwrap();
            assert_eq!(
                entry.body.op,
                Op::Remove {
                    signing: advisor_keys.signing_public()
                }
            );
            assert!(
                entry
                    .body
                    .keys
                    .iter()
                    .all(|k| k.member != advisor_keys.signing_public()),
                "the new key is wrapped for those who remain only"
            );
        }
        other => panic!("expected the removal, got {other:?}"),
    }

    // …then the candidate writes, and it reaches the juror who remains.
    candidate.run(&["dossier", "set", &id, "motivation.lettre", AFTER]);
    candidate.run(&["sync"]);
    juror.run(&["sync"]);
    assert_eq!(
        juror.run(&["dossier", "get", &id, "motivation.lettre"]),
        AFTER
    );

    // Nothing more reaches the advisor's live connection: the next frame on it is the answer
    // to its own question, and the dossier is no longer theirs.
    live.send(&ClientMsg::Dossiers);
    assert_eq!(live.recv(), ServerMsg::Dossiers { ids: Vec::new() });

    // The advisor's device learns it at its next sync (the relay sends the log up to its
    // removal, nothing after) and wipes its copy: what it read, it no longer keeps.
    let advisor_replica = advisor.replica(&id);
    assert!(
        advisor_replica.is_member(),
        "its CLI copy did not hear of it yet"
    );
    // Said, and the sync of the device's other dossiers goes on.
    let (ok, err) = advisor.try_run(&["sync"]);
    assert!(ok && err.contains("n'est plus membre du dossier"), "{err}");
    assert!(err.contains("effacé de cet appareil"), "{err}");
    assert!(
        !advisor.home.join("dossiers").join(&id).exists(),
        "the removed device's copy is wiped"
    );
    let (ok, err) = advisor.try_run(&["dossier", "get", &id, "motivation.lettre"]);
    assert!(
        !ok && err.contains("a retiré cet appareil du dossier"),
        "{err}"
    );

    // What the relay holds since the removal is sealed for epoch 2. Every key the advisor
    // ever received opens none of it; the juror's does (so the check can tell).
    let (_, envelopes) = Raw::connect(&relay, &candidate.secret()).catch_up(dossier);
    let after: Vec<Envelope> = envelopes
        .iter()
        .map(|b| Envelope::parse(b).unwrap())
        .filter(|e| e.header.epoch == 2)
        .collect();
    assert!(!after.is_empty(), "the new text travelled in epoch 2");
    // Every key the advisor held (as its copy had them before the wipe).
    let advisor_has = advisor_replica.membership().keys_for(&advisor_keys);
    assert_eq!(advisor_has.keys().copied().collect::<Vec<_>>(), [1]);
    let juror_has = juror.replica(&id).membership().keys_for(&juror.secret());
    for e in &after {
        for key in advisor_has.values() {
            assert!(e.open(key).is_err(), "the old key opens nothing new");
        }
        assert!(
            e.open(&juror_has[&2]).is_ok(),
            "a remaining member reads it"
        );
    }

    // The relay refuses the removed advisor: a write sealed with the key they keep (old
    // epoch or claiming the new one), and a subscription.
    let old_key = &advisor_has[&1];
    let mut raw = Raw::connect(&relay, &advisor_keys);
    for (epoch, counter) in [(1, 1), (2, 1), (1, 1000)] {
        let header = Header {
            dossier,
            epoch,
            writer: advisor_keys.signing_public(),
            counter,
            parent: [0; 32],
            kind: Kind::Changes,
            channel: Channel::Dossier,
        };
        let sealed = envelope::seal(
            &header,
            old_key,
            random_nonce(),
            b"ecrit apres",
            &advisor_keys,
        );
        assert_eq!(rejected(raw.push(&sealed)), Rejection::UnknownWriter);
    }
    raw.send(&ClientMsg::Subscribe {
        dossier,
        since: Vec::new(),
    });
    // Told of its removal first (the log up to it, no envelope), then refused.
    let log: Vec<SignedEntry> = match raw.recv() {
        ServerMsg::Log {
            entries, envelopes, ..
        } => {
            assert!(envelopes.is_empty());
            entries
                .iter()
                .map(|e| SignedEntry::from_bytes(e).unwrap())
                .collect()
        }
        other => panic!("expected the removal notice, got {other:?}"),
    };
    assert_eq!(
        log.last().unwrap().body.op,
        Op::Remove {
            signing: advisor_keys.signing_public()
        }
    );
    assert_eq!(rejected(raw.recv()), Rejection::Forbidden);

    // A device that kept its copy against the rule (a patched client) and took the removal
    // in still reads nothing new: what came after waits, unopened, for a key that never
    // comes to it.
    let mut stale = advisor_replica;
    let known = stale.membership().next_seq;
    let newer: Vec<SignedEntry> = log.into_iter().filter(|e| e.body.seq >= known).collect();
    stale.apply_membership(&advisor_keys, &newer).unwrap();
    assert!(!stale.is_member());
    let bytes: Vec<Vec<u8>> = after.iter().map(|e| e.bytes().to_vec()).collect();
    let got = stale.receive(&bytes).unwrap();
    assert_eq!((got.applied, got.waiting), (0, bytes.len()));

    // And nothing of the text written after the removal is readable on the relay.
    assert_relay_never_saw(&relay, &[AFTER]);
}

/// A removal while an advisor has edits waiting (typed offline, or in flight): they were
/// sealed for the old epoch, which the relay no longer takes. The advisor's next sync seals
/// them again for the new epoch and they arrive; a resent envelope the relay had already
/// stored is acknowledged (not refused for its old epoch).
#[test]
fn edits_waiting_during_a_removal_are_sealed_again_and_arrive() {
    let relay = Relay::in_process();
    let url = relay.url("");
    let candidate = Device::new("candidat-epoque");
    let advisor = Device::new("conseil-epoque");
    let juror = Device::new("jury-epoque");
    let id = candidate.run(&["dossier", "new", "--relay", &url]);
    let dossier = DossierId::from_hex(&id).unwrap();
    candidate.run(&["sync"]);
    for (device, role) in [(&advisor, "advisor"), (&juror, "juror")] {
        candidate.run(&["dossier", "share", &id, &device.identity(), "--role", role]);
        device.run(&["dossier", "open", &id, "--relay", &url]);
    }
    advisor.run(&["dossier", "set", &id, "fiches.0.contexte", "Avant"]);
    advisor.run(&["sync"]);
    let advisor_keys = advisor.secret();
    let (_, stored) = Raw::connect(&relay, &candidate.secret()).catch_up(dossier);
    let first = stored
        .iter()
        .find(|b| Envelope::parse(b).unwrap().header.writer == advisor_keys.signing_public())
        .expect("the advisor's first batch")
        .clone();

    // The advisor types while the candidate removes the juror (epoch 2). One batch (epoch 1)
    // reached the relay but its acknowledgement was lost; another was not sent yet.
    advisor.run(&[
        "dossier",
        "set",
        &id,
        "fiches.0.moyens",
        "Stocké, accusé perdu",
    ]);
    let mut replica = advisor.replica(&id);
    let lost_ack = replica
        .flush(&advisor_keys, random_nonce())
        .unwrap()
        .unwrap();
    match Raw::connect(&relay, &advisor_keys).push(&lost_ack) {
        ServerMsg::Ack { counter, .. } => assert_eq!(counter, 2),
        other => panic!("{other:?}"),
    }
    assert_eq!(replica.pending(), 1, "the device never heard of it");
    advisor.save_replica(&mut replica);
    advisor.run(&[
        "dossier",
        "set",
        &id,
        "fiches.0.taches",
        "Écrit pendant le retrait",
    ]);
    assert_eq!(
        candidate.run(&["dossier", "remove", &id, &juror.identity()]),
        "2"
    );

    // Its stored batch, resent as it was (epoch 1), is a duplicate; a new epoch-1 batch is
    // refused for its epoch.
    let mut raw = Raw::connect(&relay, &advisor_keys);
    match raw.push(&first) {
        ServerMsg::Ack { counter, .. } => assert_eq!(counter, 1),
        other => panic!("a stored envelope resent after the removal: {other:?}"),
    }
    let key = advisor.replica(&id).membership().keys_for(&advisor_keys)[&1].duplicate();
    let header = Header {
        dossier,
        epoch: 1,
        writer: advisor_keys.signing_public(),
        counter: 3,
        parent: [0; 32],
        kind: Kind::Changes,
        channel: Channel::Dossier,
    };
    let old = envelope::seal(&header, &key, random_nonce(), b"x", &advisor_keys);
    assert_eq!(rejected(raw.push(&old)), Rejection::WrongEpoch);

    // The advisor's sync learns that the relay stored its second batch (the catch-up sends
    // it back), seals the third again (epoch 2), and everything reaches the candidate.
    advisor.run(&["sync"]);
    assert_eq!(advisor.replica(&id).pending(), 0, "nothing left waiting");
    candidate.run(&["sync"]);
    assert_eq!(
        candidate.run(&["dossier", "get", &id, "fiches.0.taches"]),
        "Écrit pendant le retrait"
    );
    assert_eq!(
        candidate.run(&["dossier", "get", &id, "fiches.0.moyens"]),
        "Stocké, accusé perdu"
    );
    let (_, stored) = Raw::connect(&relay, &candidate.secret()).catch_up(dossier);
    let epochs: Vec<(u64, u32)> = stored
        .iter()
        .map(|b| Envelope::parse(b).unwrap().header)
        .filter(|h| h.writer == advisor_keys.signing_public())
        .map(|h| (h.counter, h.epoch))
        .collect();
    assert_eq!(
        epochs,
        [(1, 1), (2, 1), (3, 2)],
        "no gap; the one stored before the removal kept, the next in the new epoch"
    );
}

/// Only an owner's signed removal wipes a copy. A home whose `device.key` went missing
/// (a backup restored without it) refuses to make another — a new key would be a stranger
/// to every dossier there — and one given another key keeps its copies and says why; with
/// its own key back, everything is there.
#[test]
fn a_device_whose_key_went_missing_or_changed_wipes_nothing() {
    let relay = Relay::start();
    let candidate = Device::new("candidat-cle-perdue");
    let id = candidate.run(&["dossier", "new", "--relay", &relay.url("")]);
    candidate.run(&[
        "dossier",
        "set",
        &id,
        "motivation.lettre",
        "Des semaines de travail",
    ]);
    candidate.run(&["sync"]);
    let key = candidate.home.join("device.key");
    let own = std::fs::read(&key).unwrap();

    std::fs::remove_file(&key).unwrap();
    let (ok, err) = candidate.try_run(&["sync"]);
    assert!(!ok && err.contains("illisible ou manquant"), "{err}");
    assert!(!key.exists(), "no new key made");
    assert!(candidate.has_copy(&id));

    let other = livret_shared::keys::DeviceSecret::generate();
    std::fs::write(&key, other.to_secret_string().as_bytes()).unwrap();
    let (ok, err) = candidate.try_run(&["sync"]);
    assert!(
        !ok && err.contains("ne figure pas parmi les membres"),
        "{err}"
    );
    assert!(candidate.has_copy(&id), "a stranger's key wipes nothing");

    std::fs::write(&key, own).unwrap();
    candidate.run(&["sync"]);
    assert_eq!(
        candidate.run(&["dossier", "get", &id, "motivation.lettre"]),
        "Des semaines de travail"
    );
}
