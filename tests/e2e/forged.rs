//! A hostile member, or a relay a device was lured to, against the real relay: what a batch
//! signature check would take, snapshot covers sealed apart from the ones the relay checks,
//! a login answer passed on from another relay.

use std::net::TcpListener;
use std::time::Duration;

use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::IsIdentity;
use livret_shared::envelope::{self, Channel, Header, Kind, random_nonce};
use livret_shared::keys::{DeviceSecret, MemberKey};
use livret_shared::protocol::{self, ClientMsg, Origin, Rejection, ServerMsg};
use sha2::{Digest, Sha512};

use crate::support::Relay;
use crate::sync::{Device, Raw, rejected, shared_dossier};

/// Owner and `advisors` advisors on a dossier with one field typed; the dossier id.
fn dossier_with(relay: &Relay, advisors: usize) -> (Device, Vec<Device>, String) {
    let (mut devices, id) = shared_dossier(relay, advisors + 1);
    let owner = devices.remove(0);
    (owner, devices, id)
}

fn hash_to_scalar(parts: &[&[u8]]) -> Scalar {
    let mut h = Sha512::new();
    for p in parts {
        h.update(p);
    }
    Scalar::from_bytes_mod_order_wide(&h.finalize().into())
}

/// The envelope signed again by `device`, with a point of order 8 added to the signature's
/// `R` (its nonce drawn with `salt`): the replicas' check refuses it, a batch check lets it
/// through for one batch in eight.
fn with_torsion_in_r(bytes: &[u8], device: &DeviceSecret, salt: u32) -> Vec<u8> {
    let stored = device.to_secret_string();
    let seed = hex::decode(
        stored
            .lines()
            .next()
            .unwrap()
            .strip_prefix("LIVRET-SIGNING-KEY-1")
            .unwrap(),
    )
    .unwrap();
    let mut a: [u8; 32] = Sha512::digest(&seed)[..32].try_into().unwrap();
    a[0] &= 248;
    a[31] &= 127;
    a[31] |= 64;
    let a = Scalar::from_bytes_mod_order(a);
    let key = device.signing_public();
    assert_eq!(EdwardsPoint::mul_base(&a).compress().to_bytes(), key.0);
    let mut t = [0u8; 32];
    hex::decode_to_slice(
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
        &mut t,
    )
    .unwrap();
    let t = CompressedEdwardsY(t).decompress().unwrap();
    assert!(t.mul_by_cofactor().is_identity() && !(Scalar::from(4u8) * t).is_identity());

    let split = bytes.len() - 64;
    let signed = &bytes[..split];
    let r = hash_to_scalar(&[a.as_bytes(), signed, &salt.to_be_bytes()]);
    let big_r = (EdwardsPoint::mul_base(&r) + t).compress();
    let k = hash_to_scalar(&[big_r.as_bytes(), &key, signed]);
    let s = r + k * a;
    let mut out = signed.to_vec();
    out.extend_from_slice(big_r.as_bytes());
    out.extend_from_slice(s.as_bytes());
    out
}

/// Does the batch check the relay used to make on a connection's burst take these?
fn batch_accepts(burst: &[Vec<u8>], key: &MemberKey) -> bool {
    let parsed: Vec<livret_shared::envelope::Envelope> = burst
        .iter()
        .map(|b| livret_shared::envelope::Envelope::parse(b).unwrap())
        .collect();
    let parts: Vec<(&[u8], [u8; 64])> = parsed.iter().map(|e| e.signed_parts()).collect();
    let messages: Vec<&[u8]> = parts.iter().map(|(m, _)| *m).collect();
    let signatures: Vec<ed25519_dalek::Signature> = parts
        .iter()
        .map(|(_, s)| ed25519_dalek::Signature::from_bytes(s))
        .collect();
    let keys = vec![ed25519_dalek::VerifyingKey::from_bytes(key.as_bytes()).unwrap(); burst.len()];
    ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok()
}

/// A member pipelines a burst holding one envelope whose signature only a batch check would
/// take: it is refused, what follows it too (a gap), and the other members go on syncing.
#[test]
fn a_signature_only_a_batch_check_takes_is_refused_and_the_others_keep_syncing() {
    let relay = Relay::in_process();
    let (owner, others, id) = dossier_with(&relay, 2);
    let (advisor, hostile) = (&others[0], &others[1]);
    let secret = hostile.secret();
    let mut replica = hostile.replica(&id);
    let honest: Vec<Vec<u8>> = (1..=3)
        .map(|i| {
            replica
                .dossier()
                .set("fiches.0.moyens", &format!("version {i}"))
                .unwrap();
            replica.flush(&secret, random_nonce()).unwrap().unwrap()
        })
        .collect();
    // Signed again until the batch check the relay used to make takes the burst (its
    // coefficients derive from the burst: one try in eight, on average; bounded).
    let burst = (1..=400)
        .map(|salt| {
            let mut burst = honest.clone();
            burst[1] = with_torsion_in_r(&honest[1], &secret, salt);
            burst
        })
        .find(|burst| batch_accepts(burst, &secret.signing_public()))
        .expect("a burst the batch check takes");
    // Written at once, so the relay takes the three frames as one burst.
    let (mut ws, welcome) = login(&relay.addr.to_string(), &secret, &relay.url(""));
    assert_eq!(welcome, ServerMsg::Welcome);
    for e in &burst {
        let push = ClientMsg::Push {
            envelope: e.clone(),
        };
        ws.write(tungstenite::Message::Binary(protocol::encode(&push).into()))
            .unwrap();
    }
    ws.flush().unwrap();
    let answers: Vec<ServerMsg> = (0..burst.len()).map(|_| read(&mut ws)).collect();
    assert!(
        matches!(answers[0], ServerMsg::Ack { counter: 1, .. }),
        "{answers:?}"
    );
    assert_eq!(rejected(answers[1].clone()), Rejection::BadSignature);
    assert_eq!(rejected(answers[2].clone()), Rejection::Gap);

    advisor.run(&["sync"]);
    assert_eq!(
        advisor.run(&["dossier", "get", &id, "fiches.0.moyens"]),
        "version 1"
    );
    advisor.run(&[
        "dossier",
        "set",
        &id,
        "fiches.0.contexte",
        "Après l'attaque.",
    ]);
    advisor.run(&["sync"]);
    owner.run(&["sync"]);
    assert_eq!(
        owner.run(&["dossier", "get", &id, "fiches.0.contexte"]),
        "Après l'attaque."
    );
}

/// A snapshot's sealed body, as `Replica::compact` writes it.
#[derive(serde::Serialize)]
struct SnapshotBody {
    covers: Vec<(MemberKey, u64)>,
    doc: Vec<u8>,
}

/// A member seals a snapshot claiming a million of the owner's envelopes, with the true
/// covers stated beside it (what the relay used to compare): refused, and a device that
/// joins later receives what the owner writes next.
#[test]
fn a_snapshot_whose_sealed_covers_claim_more_is_refused_and_late_devices_keep_up() {
    let relay = Relay::in_process();
    let url = relay.url("");
    let (owner, others, id) = dossier_with(&relay, 1);
    let hostile = &others[0];
    hostile.run(&[
        "dossier",
        "set",
        &id,
        "motivation.lettre",
        "Je suis motivée.",
    ]);
    hostile.run(&["sync"]);
    let secret = hostile.secret();
    let mut replica = hostile.replica(&id);
    // The true covers, as an honest compaction states them.
    let (_, real) = replica.compact(&secret, random_nonce()).unwrap();
    let owner_key = owner.secret().signing_public();
    assert!(real.iter().any(|(w, _)| *w == owner_key), "{real:?}");
    let inflated: Vec<(MemberKey, u64)> = real
        .iter()
        .map(|(w, c)| (*w, if *w == owner_key { 1_000_000 } else { *c }))
        .collect();
    let header = Header {
        dossier: replica.id,
        epoch: 1,
        writer: secret.signing_public(),
        counter: 1,
        parent: [0; 32],
        kind: Kind::Snapshot,
        channel: Channel::Dossier,
    };
    let body = protocol::encode(&SnapshotBody {
        covers: inflated,
        doc: replica.dossier().save(),
    });
    let forged = envelope::seal(
        &header,
        replica.epoch_key().unwrap(),
        random_nonce(),
        &body,
        &secret,
    );
    let mut raw = Raw::connect(&relay, &secret);
    raw.send(&ClientMsg::Snapshot {
        envelope: forged,
        covers: real,
    });
    assert_eq!(rejected(raw.reply()), Rejection::Forbidden);

    owner.run(&[
        "dossier",
        "set",
        &id,
        "fiches.0.taches",
        "Après l'instantané.",
    ]);
    owner.run(&["sync"]);
    let late = Device::new("late");
    owner.share_with(&id, &late, "advisor", &url);
    assert_eq!(
        late.run(&["dossier", "get", &id, "fiches.0.taches"]),
        "Après l'instantané."
    );
    // An honest compaction is still taken, and the late device keeps up past it.
    owner.run(&["dossier", "compact", &id]);
    owner.run(&["dossier", "set", &id, "fiches.0.taches", "Encore après."]);
    owner.run(&["sync"]);
    late.run(&["sync"]);
    assert_eq!(
        late.run(&["dossier", "get", &id, "fiches.0.taches"]),
        "Encore après."
    );
    assert_eq!(
        late.run(&["dossier", "get", &id, "motivation.lettre"]),
        "Je suis motivée."
    );
}

type Ws = tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<std::net::TcpStream>>;

/// A device of another protocol version: one of version 1 (its login carried no version)
/// is told in words it can show to update; one of a version the relay does not speak
/// learns it is the outdated side; neither gets in.
#[test]
fn a_device_of_another_protocol_version_is_told_which_side_to_update() {
    let relay = Relay::in_process();
    let device = DeviceSecret::generate();
    let origin = Origin::parse(&relay.url("")).unwrap();
    let answer_to = |login: &dyn Fn(&[u8; 32]) -> ClientMsg| {
        let (mut ws, _) = tungstenite::connect(format!("ws://{}/api/v1/sync", relay.addr)).unwrap();
        if let tungstenite::stream::MaybeTlsStream::Plain(tcp) = ws.get_ref() {
            tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        }
        let ServerMsg::Challenge { nonce } = read(&mut ws) else {
            panic!("no challenge")
        };
        ws.send(tungstenite::Message::Binary(
            protocol::encode(&login(&nonce)).into(),
        ))
        .unwrap();
        read(&mut ws)
    };
    // Protocol 1, signed as that version signed (the same message): refused all the same.
    let old = answer_to(&|nonce| ClientMsg::Hello {
        device: device.signing_public(),
        signature: device
            .sign(&protocol::login_message(&origin, nonce))
            .to_vec(),
    });
    assert_eq!(
        old,
        ServerMsg::Rejected {
            reason: Rejection::NotAuthenticated,
            detail: protocol::OUTDATED_DEVICE.into()
        }
    );
    let future = answer_to(&|nonce| ClientMsg::Login {
        protocol: protocol::PROTOCOL + 1,
        device: device.signing_public(),
        signature: device
            .sign(&protocol::login_message(&origin, nonce))
            .to_vec(),
    });
    assert_eq!(
        protocol::login_answer(future),
        Err(protocol::LoginRefused::DeviceOutdated)
    );
    // This build's login gets in.
    let now = answer_to(&|nonce| protocol::hello(&origin, nonce, &device));
    assert_eq!(protocol::login_answer(now), Ok(()));
}

/// One login on a fresh connection to `addr`, signed for `origin`: the connection and the
/// relay's verdict.
fn login(addr: &str, device: &DeviceSecret, origin: &str) -> (Ws, ServerMsg) {
    let (mut ws, _) = tungstenite::connect(format!("ws://{addr}/api/v1/sync")).unwrap();
    if let tungstenite::stream::MaybeTlsStream::Plain(tcp) = ws.get_ref() {
        tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    }
    let ServerMsg::Challenge { nonce } = read(&mut ws) else {
        panic!("no challenge")
    };
    let hello = protocol::hello(&Origin::parse(origin).unwrap(), &nonce, device);
    ws.send(tungstenite::Message::Binary(
        protocol::encode(&hello).into(),
    ))
    .unwrap();
    let verdict = read(&mut ws);
    (ws, verdict)
}

fn read<S: std::io::Read + std::io::Write>(ws: &mut tungstenite::WebSocket<S>) -> ServerMsg {
    loop {
        if let tungstenite::Message::Binary(b) = crate::support::read_message(ws).unwrap() {
            return protocol::decode(&b).unwrap();
        }
    }
}

#[test]
fn a_login_signed_for_another_origin_is_refused() {
    let relay = Relay::in_process();
    let device = DeviceSecret::generate();
    let addr = relay.addr.to_string();
    assert_eq!(login(&addr, &device, &relay.url("")).1, ServerMsg::Welcome);
    let port = relay.addr.port();
    assert_eq!(
        login(&addr, &device, &format!("http://localhost:{port}")).1,
        ServerMsg::Welcome,
        "the loopback's other name"
    );
    for other in [
        "https://livret-relais.example".to_string(),
        format!("http://127.0.0.1:{}", port.wrapping_add(1)),
        format!("https://127.0.0.1:{port}"),
    ] {
        assert!(
            matches!(
                login(&addr, &device, &other).1,
                ServerMsg::Rejected {
                    reason: Rejection::BadSignature,
                    ..
                }
            ),
            "{other}"
        );
    }
}

/// A device lured to another relay (a link naming it) answers that relay's challenge —
/// which is the real relay's, passed on. The answer, passed back, does not log the relay in
/// the middle in as the device.
#[test]
fn a_relay_in_the_middle_cannot_log_in_as_the_device() {
    let relay = Relay::in_process();
    let (_owner, others, id) = dossier_with(&relay, 1);
    let victim = &others[0];
    let lure = TcpListener::bind("127.0.0.1:0").unwrap();
    let lure_url = format!("http://{}", lure.local_addr().unwrap());
    let real = relay.addr.to_string();
    // Bounded: a device that never comes fails the test rather than hanging it.
    lure.set_nonblocking(true).unwrap();
    let middle = std::thread::spawn(move || {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        let stream = loop {
            match lure.accept() {
                Ok((stream, _)) => break stream,
                Err(_) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => panic!("the device never came to the lure: {e}"),
            }
        };
        stream.set_nonblocking(false).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut device_side = tungstenite::accept(stream).unwrap();
        let (mut relay_side, _) = tungstenite::connect(format!("ws://{real}/api/v1/sync")).unwrap();
        if let tungstenite::stream::MaybeTlsStream::Plain(tcp) = relay_side.get_ref() {
            tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        }
        let challenge = read(&mut relay_side);
        device_side
            .send(tungstenite::Message::Binary(
                protocol::encode(&challenge).into(),
            ))
            .unwrap();
        let hello: ClientMsg = loop {
            if let tungstenite::Message::Binary(b) =
                crate::support::read_message(&mut device_side).unwrap()
            {
                break protocol::decode(&b).unwrap();
            }
        };
        assert!(matches!(hello, ClientMsg::Login { .. }), "{hello:?}");
        relay_side
            .send(tungstenite::Message::Binary(
                protocol::encode(&hello).into(),
            ))
            .unwrap();
        read(&mut relay_side)
    });
    // Opened anew (a device whose copy was lost, following a link to the lure).
    victim.forget(&id);
    let (opened, _) = victim.try_run(&["dossier", "open", &id, "--relay", &lure_url]);
    let verdict = middle.join().unwrap();
    assert!(
        matches!(
            verdict,
            ServerMsg::Rejected {
                reason: Rejection::BadSignature,
                ..
            }
        ),
        "the real relay answered the relay in the middle: {verdict:?}"
    );
    assert!(!opened);
}
