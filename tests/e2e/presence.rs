//! Presence through a real relay: forwarded live to the members following the dossier,
//! never stored, refused from anyone else.

use livret_shared::envelope::{self, Channel, DossierId, Header, Kind, random_nonce};
use livret_shared::keys::{DeviceSecret, EpochKeys};
use livret_shared::membership::{self, Role};
use livret_shared::presence::{MAX_PRESENCE, Presence};
use livret_shared::protocol::{ClientMsg, Rejection, ServerMsg};
use livret_shared::sync::Replica;

use crate::support::Relay;
use crate::sync::{Raw, contains, files_under, rejected};

const NAME: &str = "CANARI-presence-Camille-0c4d";

/// The next frame is the answer to this harmless question (nothing else came first).
fn nothing_pending(raw: &mut Raw) {
    raw.send(&ClientMsg::Dossiers);
    match raw.recv() {
        ServerMsg::Dossiers { .. } => {}
        other => panic!("unexpected frame: {other:?}"),
    }
}

/// A dossier on `relay` owned by `owner`, shared with `members`: the owner's replica,
/// `viewer`'s replica, the epoch keys, and the owner's connection (following the dossier).
fn shared_dossier(
    relay: &Relay,
    owner: &DeviceSecret,
    viewer: &DeviceSecret,
    members: &[(&DeviceSecret, Role)],
) -> (Replica, Replica, EpochKeys, Raw) {
    let key = EpochKeys::generate();
    let id = DossierId::generate();
    let (mut o, genesis) = Replica::create(owner, id, key.duplicate()).unwrap();
    let mut entries = vec![genesis.clone()];
    for (device, role) in members {
        let e = membership::add(o.membership(), owner, &device.id(), *role, &key).unwrap();
        o.apply_membership(owner, std::slice::from_ref(&e)).unwrap();
        entries.push(e);
    }
    let v = Replica::join(viewer, entries.clone()).unwrap();
    let mut raw_owner = Raw::connect(relay, owner);
    raw_owner.send(&ClientMsg::Create {
        entry: genesis.to_bytes(),
    });
    assert!(matches!(raw_owner.recv(), ServerMsg::MembershipOk { .. }));
    for e in &entries[1..] {
        raw_owner.send(&ClientMsg::Membership {
            dossier: id,
            entry: e.to_bytes(),
        });
        assert!(matches!(raw_owner.reply(), ServerMsg::MembershipOk { .. }));
    }
    raw_owner.catch_up(id);
    (o, v, key, raw_owner)
}

/// A member sending presence as fast as it can, over two connections: past a burst, the
/// relay drops the excess (counted, not forwarded) and the sender's connections stay up.
#[test]
fn a_presence_flood_is_cut_to_a_budget() {
    let relay = Relay::start();
    let owner = DeviceSecret::generate();
    let advisor = DeviceSecret::generate();
    let (_, a, _, mut raw_owner) =
        shared_dossier(&relay, &owner, &advisor, &[(&advisor, Role::Advisor)]);
    // Two connections of the same device: one budget between them.
    let mut raws = [
        Raw::connect(&relay, &advisor),
        Raw::connect(&relay, &advisor),
    ];
    for raw in &mut raws {
        raw.catch_up(a.id);
    }
    let here = Presence {
        field: "cv.parcours".into(),
        caret: None,
        name: "Alex".into(),
        leaving: false,
    };
    const SENT: u64 = 300;
    for at in 1..=SENT {
        let sealed = a
            .seal_presence(&advisor, at, random_nonce(), &here)
            .unwrap();
        raws[at as usize % 2].send(&ClientMsg::Presence { envelope: sealed });
    }
    // Still connected: the next question on each is answered (after the presence the
    // other connection of the same device sent, which each receives).
    for raw in &mut raws {
        raw.send(&ClientMsg::Dossiers);
        loop {
            match raw.recv() {
                ServerMsg::Presence { .. } => continue,
                ServerMsg::Dossiers { .. } => break,
                other => panic!("unexpected frame: {other:?}"),
            }
        }
    }
    let metrics: serde_json::Value =
        serde_json::from_slice(&crate::support::get(relay.addr, "/api/v1/metrics").body).unwrap();
    let dropped = metrics["presence_dropped"].as_u64().unwrap();
    // The owner received exactly the others, then nothing more.
    let mut received = 0;
    while received < SENT - dropped {
        match raw_owner.recv() {
            ServerMsg::Presence { .. } => received += 1,
            other => panic!("unexpected frame: {other:?}"),
        }
    }
    nothing_pending(&mut raw_owner);
    assert!(
        dropped >= SENT - 60,
        "{dropped} of {SENT} dropped: the burst is 30, the refill 5 a second"
    );
}

#[test]
fn presence_reaches_the_members_following_and_is_never_stored() {
    let relay = Relay::start();
    let owner = DeviceSecret::generate();
    let advisor = DeviceSecret::generate();
    let juror = DeviceSecret::generate();
    let stranger = DeviceSecret::generate();
    let (o, a, key, mut raw_owner) = shared_dossier(
        &relay,
        &owner,
        &advisor,
        &[(&advisor, Role::Advisor), (&juror, Role::Juror)],
    );
    let id = o.id;
    let mut raw_juror = Raw::connect(&relay, &juror);
    raw_juror.catch_up(id);
    let mut raw_advisor = Raw::connect(&relay, &advisor);

    let here = Presence {
        field: "fiches.0.contexte".into(),
        caret: Some(42),
        name: NAME.into(),
        leaving: false,
    };
    let sealed = a
        .seal_presence(&advisor, 1_000, random_nonce(), &here)
        .unwrap();
    // Not following the dossier yet: refused.
    raw_advisor.send(&ClientMsg::Presence {
        envelope: sealed.clone(),
    });
    assert_eq!(rejected(raw_advisor.recv()), Rejection::Forbidden);
    raw_advisor.catch_up(id);
    raw_advisor.send(&ClientMsg::Presence {
        envelope: sealed.clone(),
    });
    // Both other members get it as sealed; the owner opens it.
    for raw in [&mut raw_owner, &mut raw_juror] {
        match raw.recv() {
            ServerMsg::Presence { envelope } => {
                assert_eq!(envelope, sealed);
                let seen = o.open_presence(&envelope).unwrap();
                assert_eq!(seen.presence, here);
                assert_eq!(seen.role, Role::Advisor);
            }
            other => panic!("expected presence, got {other:?}"),
        }
    }
    // The sender gets no echo and no answer.
    nothing_pending(&mut raw_advisor);

    // Hostile: signed as someone else, tampered, too large, not presence, from a stranger.
    let as_owner = Header {
        dossier: id,
        epoch: 1,
        writer: owner.signing_public(),
        counter: 2_000,
        parent: [0; 32],
        kind: Kind::Presence,
        channel: Channel::Dossier,
    };
    let impostor = envelope::seal(&as_owner, &key.content, random_nonce(), b"{}", &owner);
    let mut tampered = sealed.clone();
    let n = tampered.len();
    tampered[n - 70] ^= 1;
    let changes = {
        let mut h = as_owner.clone();
        h.writer = advisor.signing_public();
        h.kind = Kind::Changes;
        envelope::seal(&h, &key.content, random_nonce(), b"x", &advisor)
    };
    for (envelope, reason) in [
        (impostor, Rejection::Forbidden),
        (tampered, Rejection::BadSignature),
        (vec![7; MAX_PRESENCE + 1], Rejection::TooLarge),
        (changes, Rejection::Malformed),
    ] {
        raw_advisor.send(&ClientMsg::Presence { envelope });
        assert_eq!(rejected(raw_advisor.recv()), reason);
    }
    let mut raw_stranger = Raw::connect(&relay, &stranger);
    let (s, _) = Replica::create(&stranger, id, key.duplicate()).unwrap();
    raw_stranger.send(&ClientMsg::Presence {
        envelope: s
            .seal_presence(&stranger, 5, random_nonce(), &here)
            .unwrap(),
    });
    assert_eq!(rejected(raw_stranger.recv()), Rejection::Forbidden);
    // None of the refused ones reached the members.
    nothing_pending(&mut raw_owner);
    nothing_pending(&mut raw_juror);

    // Removed, the advisor's connection no longer follows: their presence is refused.
    let remove = membership::remove(
        o.membership(),
        &owner,
        &advisor.signing_public(),
        &EpochKeys::generate(),
    )
    .unwrap();
    raw_owner.send(&ClientMsg::Membership {
        dossier: id,
        entry: remove.to_bytes(),
    });
    assert!(matches!(raw_owner.reply(), ServerMsg::MembershipOk { .. }));
    assert!(
        matches!(raw_advisor.recv(), ServerMsg::Log { .. }),
        "told of it"
    );
    raw_advisor.send(&ClientMsg::Presence {
        envelope: a
            .seal_presence(&advisor, 3_000, random_nonce(), &here)
            .unwrap(),
    });
    assert_eq!(rejected(raw_advisor.recv()), Rejection::Forbidden);

    // Never stored: not the message (its signature is unique to it), not the name.
    let signature = &sealed[sealed.len() - 64..];
    for (path, bytes) in files_under(&relay.data) {
        assert!(
            !contains(&bytes, signature),
            "presence stored in {}",
            path.display()
        );
        assert!(
            !contains(&bytes, NAME.as_bytes()),
            "name in {}",
            path.display()
        );
    }
    assert!(!contains(&relay.output(), NAME.as_bytes()));
}
