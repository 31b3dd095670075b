//! One signature rule for the relay and the replicas. A hostile member crafts what an
//! Ed25519 batch check can accept and the replicas' single check refuses: a signature whose
//! `R` carries a small-order component, or a key that does. The relay must refuse exactly
//! what replicas refuse, or one stored envelope breaks every member's sync.

use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::IsIdentity;
use livret_shared::envelope::{self, Channel, DossierId, Envelope, Header, Kind};
use livret_shared::keys::{self, ContentKey, DeviceId, DeviceSecret, MemberKey, Verifier};
use livret_shared::protocol;
use sha2::{Digest, Sha512};

/// A point of order 8 (from the list of Ed25519's small-order encodings), checked to be one.
fn order_eight() -> EdwardsPoint {
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
        &mut bytes,
    )
    .unwrap();
    let t = CompressedEdwardsY(bytes).decompress().unwrap();
    assert!(t.mul_by_cofactor().is_identity() && !(Scalar::from(4u8) * t).is_identity());
    t
}

/// A device's secret scalar, as Ed25519 derives it from the stored seed.
fn secret_scalar(device: &DeviceSecret) -> Scalar {
    let stored = device.to_secret_string();
    let hex_seed = stored
        .lines()
        .next()
        .unwrap()
        .strip_prefix("LIVRET-SIGNING-KEY-1")
        .unwrap();
    let seed = hex::decode(hex_seed).unwrap();
    let mut a: [u8; 32] = Sha512::digest(&seed)[..32].try_into().unwrap();
    a[0] &= 248;
    a[31] &= 127;
    a[31] |= 64;
    let a = Scalar::from_bytes_mod_order(a);
    assert_eq!(
        EdwardsPoint::mul_base(&a).compress().to_bytes(),
        device.signing_public().0
    );
    a
}

fn hash_to_scalar(parts: &[&[u8]]) -> Scalar {
    let mut h = Sha512::new();
    for p in parts {
        h.update(p);
    }
    Scalar::from_bytes_mod_order_wide(&h.finalize().into())
}

/// An Ed25519 signature by secret `a` over `message` for the key encoded `key`, its `R` made
/// `[r]B + extra` (`r` drawn from `a`, the message and `salt`): with `extra` the identity,
/// an ordinary signature.
fn sign(a: &Scalar, key: &[u8; 32], message: &[u8], extra: EdwardsPoint, salt: u32) -> [u8; 64] {
    let r = hash_to_scalar(&[a.as_bytes(), message, &salt.to_be_bytes()]);
    let big_r = (EdwardsPoint::mul_base(&r) + extra).compress();
    let k = hash_to_scalar(&[big_r.as_bytes(), key, message]);
    let s = r + k * a;
    let mut sig = [0u8; 64];
    sig[..32].copy_from_slice(big_r.as_bytes());
    sig[32..].copy_from_slice(s.as_bytes());
    sig
}

/// Does the cofactored equation `[8]([s]B - R - [k]A) = 0` (what a batch checks) hold?
fn cofactored_holds(key: &[u8; 32], message: &[u8], sig: &[u8; 64]) -> bool {
    let a = CompressedEdwardsY(*key).decompress().unwrap();
    let r = CompressedEdwardsY(sig[..32].try_into().unwrap())
        .decompress()
        .unwrap();
    let s = Scalar::from_canonical_bytes(sig[32..].try_into().unwrap()).unwrap();
    let k = hash_to_scalar(&[&sig[..32], key, message]);
    (EdwardsPoint::mul_base(&s) - r - k * a)
        .mul_by_cofactor()
        .is_identity()
}

fn changes(device: &DeviceSecret, counter: u64) -> Vec<u8> {
    let h = Header {
        dossier: DossierId([5; 16]),
        epoch: 1,
        writer: device.signing_public(),
        counter,
        parent: [0; 32],
        kind: Kind::Changes,
        channel: Channel::Dossier,
    };
    envelope::seal(
        &h,
        &ContentKey::from_random([1; 32]),
        [counter as u8; 24],
        b"frappe",
        device,
    )
}

/// The envelope signed again by `a`, `R` shifted by `extra`.
fn resigned(bytes: &[u8], a: &Scalar, key: &[u8; 32], extra: EdwardsPoint, salt: u32) -> Vec<u8> {
    let split = bytes.len() - 64;
    let mut out = bytes[..split].to_vec();
    let sig = sign(a, key, &out, extra, salt);
    out.extend_from_slice(&sig);
    out
}

#[test]
fn a_signature_whose_r_has_a_small_order_part_is_refused_by_the_relay_as_by_replicas() {
    let hostile = DeviceSecret::generate();
    let a = secret_scalar(&hostile);
    let key = hostile.signing_public().0;
    let t = order_eight();
    let honest: Vec<Vec<u8>> = (1..=6).map(|c| changes(&hostile, c)).collect();
    // The signing below is right: an ordinary signature made this way passes everywhere.
    let plain = resigned(&honest[2], &a, &key, EdwardsPoint::default(), 0);
    Envelope::parse(&plain).unwrap().verify().unwrap();

    // The batch's coefficients derive from the burst: the third envelope is signed again
    // until the batch check the relay used to make lets the burst through (one try in
    // eight, on average; bounded).
    let batch_accepts = |burst: &[Vec<u8>]| {
        let parsed: Vec<Envelope> = burst.iter().map(|b| Envelope::parse(b).unwrap()).collect();
        let parts: Vec<(&[u8], [u8; 64])> = parsed.iter().map(Envelope::signed_parts).collect();
        let messages: Vec<&[u8]> = parts.iter().map(|(m, _)| *m).collect();
        let signatures: Vec<ed25519_dalek::Signature> = parts
            .iter()
            .map(|(_, s)| ed25519_dalek::Signature::from_bytes(s))
            .collect();
        let keys = vec![ed25519_dalek::VerifyingKey::from_bytes(&key).unwrap(); burst.len()];
        ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok()
    };
    let burst = (1..=400)
        .map(|salt| {
            let mut burst = honest.clone();
            burst[2] = resigned(&honest[2], &a, &key, t, salt);
            burst
        })
        .find(|burst| batch_accepts(burst))
        .expect("a burst the batch check takes");
    let env = Envelope::parse(&burst[2]).unwrap();
    let (signed, signature) = env.signed_parts();
    assert!(
        cofactored_holds(&key, signed, &signature),
        "a cofactored (batch) check accepts it"
    );
    assert!(env.verify().is_err(), "a replica refuses it");
    assert!(!keys::verify(&MemberKey(key), signed, &signature));

    // The relay's check of a connection's burst agrees with the replicas, envelope by
    // envelope.
    let device = Verifier::new(&MemberKey(key)).unwrap();
    let refs: Vec<&[u8]> = burst.iter().map(Vec::as_slice).collect();
    let relay: Vec<bool> = protocol::verify_burst(&refs, &device)
        .iter()
        .map(Option::is_some)
        .collect();
    let replica: Vec<bool> = burst
        .iter()
        .map(|b| Envelope::parse(b).unwrap().verify().is_ok())
        .collect();
    assert_eq!(replica, vec![true, true, false, true, true, true]);
    assert_eq!(relay, replica);
    assert_eq!(
        protocol::parse_and_verify_from(&burst[2], &device).unwrap_err(),
        protocol::Rejection::BadSignature
    );
}

#[test]
fn a_key_with_a_small_order_part_is_refused_wherever_a_key_is_read() {
    let hostile = DeviceSecret::generate();
    let a = secret_scalar(&hostile);
    let t = order_eight();
    // A + T: not small-order itself (so not "weak"), but not in the prime-order group.
    let shifted = (EdwardsPoint::mul_base(&a) + t).compress().to_bytes();
    // Signatures for it pass the cofactored check always and the cofactorless one only when
    // [k]T vanishes: find a message of each sort (one in eight holds; bounded search).
    let (mut holds, mut fails) = (None, None);
    for i in 0..256u32 {
        let message = format!("enveloppe {i}").into_bytes();
        let sig = sign(&a, &shifted, &message, EdwardsPoint::default(), 0);
        assert!(cofactored_holds(&shifted, &message, &sig));
        let k = hash_to_scalar(&[&sig[..32], &shifted, &message]);
        if (k * t).is_identity() {
            holds.get_or_insert((message, sig));
        } else {
            fails.get_or_insert((message, sig));
        }
        if holds.is_some() && fails.is_some() {
            break;
        }
    }
    let (holds, fails) = (holds.unwrap(), fails.unwrap());
    // Refused as a key, so nothing it signs passes anywhere — not even the messages the
    // cofactorless equation accepts.
    assert!(Verifier::new(&MemberKey(shifted)).is_none());
    assert!(!keys::verify(&MemberKey(shifted), &holds.0, &holds.1));
    assert!(!keys::verify(&MemberKey(shifted), &fails.0, &fails.1));
    let line = format!(
        "livret1:{}:{}",
        hex::encode(shifted),
        hostile.id().recipient
    );
    assert!(line.parse::<DeviceId>().is_err(), "refused as an identity");
    let id = DeviceId {
        signing: MemberKey(shifted),
        recipient: hostile.id().recipient,
    };
    assert!(id.verifying_key().is_err());
    // The device's own key stays good.
    assert!(Verifier::new(&hostile.signing_public()).is_some());
    assert!(hostile.id().to_line().parse::<DeviceId>().is_ok());
}
