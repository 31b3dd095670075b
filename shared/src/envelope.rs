//! The envelope: what leaves a device. A signed header the relay can check, and a padded,
//! encrypted body it cannot read.
//!
//! ```text
//! offset size  field
//!      0    4  magic "LVE1"
//!      4   16  dossier id
//!     20    4  key epoch (u32, big-endian)
//!     24   32  writer: Ed25519 public key of the device
//!     56    8  counter (u64, big-endian): per (dossier, writer), 1, 2, 3… without gaps
//!     64   32  parent snapshot id (zeros: none)
//!     96    1  kind: 1 change batch, 2 snapshot (before covers were signed in clear),
//!              3 presence (relayed live, never stored), 4 snapshot with its covers
//!     97    1  channel: 0 dossier, 1 review (jurors' documents)
//!     98   24  XChaCha20 nonce
//!    122    4  body length n (u32, big-endian)
//!    126    n  body: [kind 4 only: covers in clear, u32 count ‖ count × (32-byte writer ‖
//!              u64 counter), writers strictly increasing] ‖ ciphertext:
//!              XChaCha20-Poly1305(content key, nonce, aad = every byte before the
//!              ciphertext, plaintext = u32 length ‖ payload ‖ zero padding to a size bucket)
//!  126+n   64  Ed25519 signature by the writer over bytes 0..126+n
//! ```
//!
//! A snapshot's covers (the last counter per writer it includes) are what late devices mark
//! as seen. Kind 4 carries them in clear under the writer's signature: the relay checks the
//! very covers replicas apply. Kind 2, sealed before, had them only inside the ciphertext,
//! where the relay could not compare them with what it stores; replicas still open it.
//!
//! Verify before decrypting: [`Envelope::parse`] checks the layout, [`Envelope::verify`]
//! the signature, and only then [`Envelope::open`] decrypts.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use crate::keys::{self, ContentKey, DeviceSecret, MemberKey};

pub const MAGIC: &[u8; 4] = b"LVE1";
pub const HEADER_LEN: usize = 126;
pub const SIGNATURE_LEN: usize = 64;
/// Frames above this are refused before anything else is looked at.
pub const MAX_ENVELOPE: usize = 5 * 1024 * 1024;

/// A dossier's id: 16 random bytes.
#[derive(
    Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct DossierId(pub [u8; 16]);

impl DossierId {
    pub fn generate() -> DossierId {
        let mut b = [0u8; 16];
        getrandom::fill(&mut b).expect("the OS random generator is available");
        DossierId(b)
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn from_hex(s: &str) -> Option<DossierId> {
        let mut b = [0u8; 16];
        hex::decode_to_slice(s.trim(), &mut b).ok()?;
        Some(DossierId(b))
    }
}

impl std::fmt::Debug for DossierId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DossierId({})", self.to_hex())
    }
}

impl std::fmt::Display for DossierId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Changes = 1,
    /// A snapshot sealed before covers were signed in clear: still opened, no longer made.
    Snapshot = 2,
    /// Who is where in the dossier: forwarded to the members connected now, never stored.
    /// Its counter is the sender's clock in milliseconds (receivers drop what is not newer).
    Presence = 3,
    /// A snapshot whose covers are in clear, signed ([`Envelope::covers`]).
    CoveredSnapshot = 4,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Channel {
    /// The Livret 2 itself: owner and advisors write it.
    Dossier = 0,
    /// A juror's review (annotations, mapping, ratings): jurors write it, sealed with the
    /// jury key, which the candidate and advisors do not hold.
    Review = 1,
    /// What the jury releases to the candidate (the decision and its reasons): jurors write
    /// it, sealed with the dossier's key, so every member reads it.
    Release = 2,
}

/// The cleartext part of an envelope: what the relay sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub dossier: DossierId,
    pub epoch: u32,
    pub writer: MemberKey,
    pub counter: u64,
    pub parent: [u8; 32],
    pub kind: Kind,
    pub channel: Channel,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("enveloppe trop grande ({0} octets)")]
    TooLarge(usize),
    #[error("enveloppe malformée : {0}")]
    Malformed(&'static str),
    #[error("signature invalide")]
    BadSignature,
    #[error("déchiffrement impossible (clé ou contenu altéré)")]
    Decrypt,
}

/// Last counter per writer, as a snapshot of kind 4 carries them in clear.
type SignedCovers = Vec<(MemberKey, u64)>;

/// A parsed envelope (signature not yet checked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub header: Header,
    nonce: [u8; 24],
    /// Covers in clear (kind 4), as signed.
    covers: Option<SignedCovers>,
    /// Where the ciphertext starts (after the header and the clear covers, if any).
    sealed_from: usize,
    bytes: Vec<u8>,
}

/// Padding buckets hide exact sizes: powers of two from 256 bytes to 4 KiB (keystroke
/// batches all look alike), then 16 steps per doubling (at most 12.5 % added to a large
/// snapshot).
pub fn padded_len(len: usize) -> usize {
    let with_prefix = len + 4;
    if with_prefix <= 4 * 1024 {
        with_prefix.next_power_of_two().max(256)
    } else {
        let step = with_prefix.next_power_of_two() / 16;
        with_prefix.div_ceil(step) * step
    }
}

/// Seals `payload`: encrypts it under `key` with `nonce` (24 random bytes, never reused
/// with one key) and signs the whole with the writer's key.
pub fn seal(
    header: &Header,
    key: &ContentKey,
    nonce: [u8; 24],
    payload: &[u8],
    writer: &DeviceSecret,
) -> Vec<u8> {
    debug_assert_ne!(header.kind, Kind::CoveredSnapshot, "use seal_snapshot");
    seal_with_clear(header, &[], key, nonce, payload, writer)
}

/// Seals a snapshot (kind 4): like [`seal`], with `covers` (last counter per writer the
/// snapshot includes) in clear before the ciphertext, under the signature.
pub fn seal_snapshot(
    header: &Header,
    covers: &[(MemberKey, u64)],
    key: &ContentKey,
    nonce: [u8; 24],
    payload: &[u8],
    writer: &DeviceSecret,
) -> Vec<u8> {
    debug_assert_eq!(header.kind, Kind::CoveredSnapshot);
    let mut sorted = covers.to_vec();
    sorted.sort_by_key(|(w, _)| *w);
    sorted.dedup_by_key(|(w, _)| *w);
    let mut clear = Vec::with_capacity(4 + sorted.len() * 40);
    clear.extend_from_slice(&(sorted.len() as u32).to_be_bytes());
    for (w, c) in &sorted {
        clear.extend_from_slice(w);
        clear.extend_from_slice(&c.to_be_bytes());
    }
    seal_with_clear(header, &clear, key, nonce, payload, writer)
}

fn seal_with_clear(
    header: &Header,
    clear: &[u8],
    key: &ContentKey,
    nonce: [u8; 24],
    payload: &[u8],
    writer: &DeviceSecret,
) -> Vec<u8> {
    debug_assert_eq!(header.writer, writer.signing_public());
    let mut plain = Vec::with_capacity(padded_len(payload.len()));
    plain.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    plain.extend_from_slice(payload);
    plain.resize(padded_len(payload.len()), 0);

    let mut out = Vec::with_capacity(HEADER_LEN + clear.len() + plain.len() + 16 + SIGNATURE_LEN);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&header.dossier.0);
    out.extend_from_slice(&header.epoch.to_be_bytes());
    out.extend_from_slice(&header.writer);
    out.extend_from_slice(&header.counter.to_be_bytes());
    out.extend_from_slice(&header.parent);
    out.push(header.kind as u8);
    out.push(header.channel as u8);
    out.extend_from_slice(&nonce);
    let cipher = XChaCha20Poly1305::new(key.bytes().into());
    let body_len = clear.len() + plain.len() + 16;
    out.extend_from_slice(&(body_len as u32).to_be_bytes());
    debug_assert_eq!(out.len(), HEADER_LEN);
    out.extend_from_slice(clear);
    let ciphertext = cipher
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: &plain,
                aad: &out,
            },
        )
        .expect("encryption of an in-memory buffer cannot fail");
    out.extend_from_slice(&ciphertext);
    let signature = writer.sign(&out);
    out.extend_from_slice(&signature);
    out
}

impl Envelope {
    /// Checks the layout. Cheap; does not verify the signature.
    pub fn parse(bytes: &[u8]) -> Result<Envelope, EnvelopeError> {
        if bytes.len() > MAX_ENVELOPE {
            return Err(EnvelopeError::TooLarge(bytes.len()));
        }
        if bytes.len() < HEADER_LEN + 16 + SIGNATURE_LEN {
            return Err(EnvelopeError::Malformed("trop courte"));
        }
        if &bytes[..4] != MAGIC {
            return Err(EnvelopeError::Malformed("en-tête inconnu"));
        }
        let ct_len = u32::from_be_bytes(bytes[122..126].try_into().unwrap()) as usize;
        if HEADER_LEN + ct_len + SIGNATURE_LEN != bytes.len() {
            return Err(EnvelopeError::Malformed("longueur incohérente"));
        }
        let kind = match bytes[96] {
            1 => Kind::Changes,
            2 => Kind::Snapshot,
            3 => Kind::Presence,
            4 => Kind::CoveredSnapshot,
            _ => return Err(EnvelopeError::Malformed("type inconnu")),
        };
        let channel = match bytes[97] {
            0 => Channel::Dossier,
            1 => Channel::Review,
            2 => Channel::Release,
            _ => return Err(EnvelopeError::Malformed("canal inconnu")),
        };
        let header = Header {
            dossier: DossierId(bytes[4..20].try_into().unwrap()),
            epoch: u32::from_be_bytes(bytes[20..24].try_into().unwrap()),
            writer: bytes[24..56].try_into().unwrap(),
            counter: u64::from_be_bytes(bytes[56..64].try_into().unwrap()),
            parent: bytes[64..96].try_into().unwrap(),
            kind,
            channel,
        };
        if header.counter == 0 {
            return Err(EnvelopeError::Malformed("compteur nul"));
        }
        let (covers, sealed_from) = if kind == Kind::CoveredSnapshot {
            let (covers, len) = parse_covers(&bytes[HEADER_LEN..HEADER_LEN + ct_len])?;
            (Some(covers), HEADER_LEN + len)
        } else {
            (None, HEADER_LEN)
        };
        if bytes.len() - SIGNATURE_LEN - sealed_from < 16 {
            return Err(EnvelopeError::Malformed("trop courte"));
        }
        Ok(Envelope {
            header,
            nonce: bytes[98..122].try_into().unwrap(),
            covers,
            sealed_from,
            bytes: bytes.to_vec(),
        })
    }

    /// The covers a snapshot of kind 4 carries in clear, signed with it (`None` for other
    /// kinds, the older snapshots included).
    pub fn covers(&self) -> Option<&[(MemberKey, u64)]> {
        self.covers.as_deref()
    }

    /// Checks the writer's signature over everything else.
    pub fn verify(&self) -> Result<(), EnvelopeError> {
        let verifier =
            keys::Verifier::new(&self.header.writer).ok_or(EnvelopeError::BadSignature)?;
        self.verify_with(&verifier)
    }

    /// [`Envelope::verify`] with the writer's key already decoded; refuses an envelope whose
    /// writer is not `verifier`'s signer.
    pub fn verify_with(&self, verifier: &keys::Verifier) -> Result<(), EnvelopeError> {
        let (signed, signature) = self.signed_parts();
        if *verifier.signer() == self.header.writer && verifier.verify(signed, &signature) {
            Ok(())
        } else {
            Err(EnvelopeError::BadSignature)
        }
    }

    /// The signed bytes (header and ciphertext) and the signature over them.
    pub fn signed_parts(&self) -> (&[u8], [u8; 64]) {
        let split = self.bytes.len() - SIGNATURE_LEN;
        let signature: [u8; 64] = self.bytes[split..]
            .try_into()
            .expect("parse checked the length");
        (&self.bytes[..split], signature)
    }

    /// Decrypts the payload. Call [`Envelope::verify`] first.
    pub fn open(&self, key: &ContentKey) -> Result<Vec<u8>, EnvelopeError> {
        let split = self.bytes.len() - SIGNATURE_LEN;
        let cipher = XChaCha20Poly1305::new(key.bytes().into());
        let plain = cipher
            .decrypt(
                XNonce::from_slice(&self.nonce),
                Payload {
                    msg: &self.bytes[self.sealed_from..split],
                    aad: &self.bytes[..self.sealed_from],
                },
            )
            .map_err(|_| EnvelopeError::Decrypt)?;
        let len =
            u32::from_be_bytes(plain[..4].try_into().map_err(|_| EnvelopeError::Decrypt)?) as usize;
        if len + 4 > plain.len() {
            return Err(EnvelopeError::Decrypt);
        }
        Ok(plain[4..4 + len].to_vec())
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// The id a snapshot is referred to by (`parent` of later envelopes): SHA-256 of it.
    pub fn id(&self) -> [u8; 32] {
        use sha2::Digest;
        sha2::Sha256::digest(&self.bytes).into()
    }
}

/// Reads the clear covers at the start of a kind 4 body: their list and their length. One
/// encoding per list (writers strictly increasing), so the signed bytes say one thing.
fn parse_covers(body: &[u8]) -> Result<(SignedCovers, usize), EnvelopeError> {
    let malformed = EnvelopeError::Malformed("couverture illisible");
    let count = u32::from_be_bytes(body.get(..4).ok_or(malformed.clone())?.try_into().unwrap());
    let len = (count as usize)
        .checked_mul(40)
        .and_then(|n| n.checked_add(4))
        .filter(|n| *n <= body.len())
        .ok_or(malformed.clone())?;
    let covers: Vec<(MemberKey, u64)> = body[4..len]
        .chunks_exact(40)
        .map(|c| {
            (
                c[..32].try_into().unwrap(),
                u64::from_be_bytes(c[32..].try_into().unwrap()),
            )
        })
        .collect();
    if covers.windows(2).any(|w| w[0].0 >= w[1].0) {
        return Err(malformed);
    }
    Ok((covers, len))
}

/// 24 fresh random bytes for a nonce.
pub fn random_nonce() -> [u8; 24] {
    let mut n = [0u8; 24];
    getrandom::fill(&mut n).expect("the OS random generator is available");
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(writer: &DeviceSecret) -> Header {
        Header {
            dossier: DossierId([7; 16]),
            epoch: 1,
            writer: writer.signing_public(),
            counter: 1,
            parent: [0; 32],
            kind: Kind::Changes,
            channel: Channel::Dossier,
        }
    }

    #[test]
    fn sealed_envelope_opens_with_its_key() {
        let w = DeviceSecret::generate();
        let key = ContentKey::generate();
        let bytes = seal(&header(&w), &key, random_nonce(), b"des modifications", &w);
        let env = Envelope::parse(&bytes).unwrap();
        assert_eq!(env.header, header(&w));
        env.verify().unwrap();
        assert_eq!(env.open(&key).unwrap(), b"des modifications");
        assert_eq!(
            env.open(&ContentKey::generate()).unwrap_err(),
            EnvelopeError::Decrypt
        );
    }

    #[test]
    fn sizes_are_padded_to_buckets() {
        let w = DeviceSecret::generate();
        let key = ContentKey::generate();
        let a = seal(&header(&w), &key, random_nonce(), &[1; 10], &w);
        let b = seal(&header(&w), &key, random_nonce(), &[1; 200], &w);
        assert_eq!(a.len(), b.len());
        assert_eq!(padded_len(300), 512);
        assert_eq!(padded_len(70_000), 72 * 1024);
        assert_eq!(padded_len(5_000), 5 * 1024);
        for n in [4_100, 65_537, 1_000_000, 3_000_000] {
            assert!(padded_len(n) <= (n + 4) * 9 / 8, "{n}");
        }
    }

    #[test]
    fn any_flipped_bit_is_caught() {
        let w = DeviceSecret::generate();
        let key = ContentKey::generate();
        let bytes = seal(&header(&w), &key, random_nonce(), b"contenu", &w);
        for i in (0..bytes.len()).step_by(7) {
            let mut tampered = bytes.clone();
            tampered[i] ^= 0x10;
            let ok = Envelope::parse(&tampered).and_then(|e| e.verify().map(|_| e));
            assert!(ok.is_err(), "flip at {i} went unnoticed");
        }
    }

    #[test]
    fn a_snapshot_carries_its_covers_in_clear_under_the_signature() {
        let w = DeviceSecret::generate();
        let key = ContentKey::generate();
        let mut h = header(&w);
        h.kind = Kind::CoveredSnapshot;
        let covers = [(MemberKey([9; 32]), 4), (MemberKey([2; 32]), 70_000)];
        let bytes = seal_snapshot(&h, &covers, &key, random_nonce(), b"document", &w);
        let env = Envelope::parse(&bytes).unwrap();
        env.verify().unwrap();
        assert_eq!(
            env.covers().unwrap(),
            &[(MemberKey([2; 32]), 70_000), (MemberKey([9; 32]), 4)]
        );
        assert_eq!(env.open(&key).unwrap(), b"document");
        // A counter raised in the clear covers breaks the signature.
        let at = HEADER_LEN + 4 + 32 + 7;
        assert_eq!(bytes[at], 0x70);
        let mut raised = bytes.clone();
        raised[at] = 0xff;
        assert!(Envelope::parse(&raised).unwrap().verify().is_err());
        // Other kinds have none.
        let changes = seal(&header(&w), &key, random_nonce(), b"x", &w);
        assert!(Envelope::parse(&changes).unwrap().covers().is_none());
        // Covers running past the body are refused, not read out of bounds.
        let mut long = bytes.clone();
        long[HEADER_LEN..HEADER_LEN + 4].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(Envelope::parse(&long).is_err());
    }

    #[test]
    fn malformed_input_is_refused() {
        assert!(matches!(
            Envelope::parse(b"LVE1"),
            Err(EnvelopeError::Malformed(_))
        ));
        assert!(matches!(
            Envelope::parse(&vec![0; MAX_ENVELOPE + 1]),
            Err(EnvelopeError::TooLarge(_))
        ));
        let w = DeviceSecret::generate();
        let mut bytes = seal(
            &header(&w),
            &ContentKey::generate(),
            random_nonce(),
            b"x",
            &w,
        );
        bytes.truncate(bytes.len() - 1);
        assert!(Envelope::parse(&bytes).is_err());
    }
}
