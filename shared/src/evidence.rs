//! Evidence files (the *pièces justificatives* numbered in the annexes).
//!
//! Each file is encrypted with age, streamed, to a key of its own: an age X25519 identity
//! made for that file. The key is written into the dossier (`annexes.N.cle`), which is itself
//! sealed, so whoever can read the dossier can read its evidence — members added later
//! included — and the relay, which stores the encrypted file in pieces, cannot. Files go
//! through in [`PIECE`]-sized steps, so a large file never sits whole in memory while it is
//! encrypted; the encrypted bytes come out in pieces of exactly [`PIECE`] bytes (the last one
//! shorter), the unit the relay stores and serves.

use std::cell::RefCell;
use std::fmt;
use std::io::{Read, Write};
use std::rc::Rc;
use std::str::FromStr;

use age::secrecy::ExposeSecret;
use sha2::Digest;
use zeroize::Zeroizing;

/// Bytes per piece (plaintext read per step, ciphertext stored per relay record).
pub const PIECE: usize = 1 << 20;
/// Largest evidence file accepted (plaintext).
pub const MAX_EVIDENCE: u64 = 100 * 1024 * 1024;
/// Most pieces a file can have: its ciphertext is a little larger than the plaintext.
pub const MAX_PIECES: u32 = (MAX_EVIDENCE / PIECE as u64) as u32 + 2;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvidenceError {
    #[error("clé de pièce illisible")]
    Key,
    #[error("pièce illisible ou altérée")]
    Corrupt,
    #[error("fichier trop volumineux ({0} octets ; 100 Mo au plus)")]
    TooLarge(u64),
}

/// A file's id: 16 random bytes (names its pieces on the relay and on the device).
#[derive(
    Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct BlobId(pub [u8; 16]);

impl BlobId {
    pub fn generate() -> BlobId {
        let mut b = [0u8; 16];
        getrandom::fill(&mut b).expect("the OS random generator is available");
        BlobId(b)
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn from_hex(s: &str) -> Option<BlobId> {
        let mut b = [0u8; 16];
        hex::decode_to_slice(s.trim(), &mut b).ok()?;
        Some(BlobId(b))
    }
}

impl fmt::Debug for BlobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlobId({})", self.to_hex())
    }
}

/// The key of one file. Not `Clone`; prints as `[secret]`; age zeroes it on drop.
pub struct EvidenceKey(age::x25519::Identity);

impl EvidenceKey {
    /// The form kept in the dossier (`AGE-SECRET-KEY-1…`).
    pub fn to_secret_string(&self) -> Zeroizing<String> {
        Zeroizing::new(self.0.to_string().expose_secret().to_string())
    }
}

impl FromStr for EvidenceKey {
    type Err = EvidenceError;

    fn from_str(s: &str) -> Result<EvidenceKey, EvidenceError> {
        age::x25519::Identity::from_str(s.trim())
            .map(EvidenceKey)
            .map_err(|_| EvidenceError::Key)
    }
}

impl fmt::Debug for EvidenceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EvidenceKey([secret])")
    }
}

/// Where age writes: a buffer the sealer drains after each step.
#[derive(Clone, Default)]
struct Drain(Rc<RefCell<Vec<u8>>>);

impl Write for Drain {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What sealing a whole file gave, besides its pieces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    /// Plaintext bytes.
    pub size: u64,
    /// SHA-256 of the plaintext (hex): the *empreinte* a juror can check the file against.
    pub sha256: String,
    /// How many pieces the ciphertext has.
    pub pieces: u32,
}

/// Encrypts one file step by step: [`Sealer::push`] plaintext, take the full pieces it
/// returns; [`Sealer::finish`] gives the last piece.
pub struct Sealer {
    writer: age::stream::StreamWriter<Drain>,
    out: Drain,
    hash: sha2::Sha256,
    size: u64,
    pieces: u32,
}

impl Sealer {
    /// A sealer for a new file, and the file's key.
    pub fn new() -> (Sealer, EvidenceKey) {
        let identity = age::x25519::Identity::generate();
        let recipient = identity.to_public();
        let out = Drain::default();
        let writer =
            age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
                .expect("one recipient is a valid set")
                .wrap_output(out.clone())
                .expect("writing to memory cannot fail");
        let sealer = Sealer {
            writer,
            out,
            hash: sha2::Sha256::new(),
            size: 0,
            pieces: 0,
        };
        (sealer, EvidenceKey(identity))
    }

    /// Encrypts the next bytes of the file; returns the pieces completed so far.
    pub fn push(&mut self, plain: &[u8]) -> Result<Vec<Vec<u8>>, EvidenceError> {
        self.size += plain.len() as u64;
        if self.size > MAX_EVIDENCE {
            return Err(EvidenceError::TooLarge(self.size));
        }
        self.hash.update(plain);
        self.writer
            .write_all(plain)
            .expect("writing to memory cannot fail");
        Ok(self.take())
    }

    /// Ends the file: the remaining pieces (the last one shorter) and what the file was.
    pub fn finish(self) -> (Vec<Vec<u8>>, Sealed) {
        let Sealer {
            writer,
            out,
            hash,
            size,
            pieces,
        } = self;
        writer.finish().expect("writing to memory cannot fail");
        let last = cut(&out, true);
        let sealed = Sealed {
            size,
            sha256: hex::encode(hash.finalize()),
            pieces: pieces + last.len() as u32,
        };
        (last, sealed)
    }

    fn take(&mut self) -> Vec<Vec<u8>> {
        let pieces = cut(&self.out, false);
        self.pieces += pieces.len() as u32;
        pieces
    }
}

/// Cuts what age wrote into pieces of [`PIECE`] bytes; at the end, the rest too.
fn cut(out: &Drain, end: bool) -> Vec<Vec<u8>> {
    let mut buffer = out.0.borrow_mut();
    let mut pieces = Vec::new();
    while buffer.len() >= PIECE {
        pieces.push(buffer.drain(..PIECE).collect());
    }
    if end && !buffer.is_empty() {
        pieces.push(std::mem::take(&mut *buffer));
    }
    pieces
}

/// Decrypts a whole file from its pieces, in order; checks it against its empreinte when
/// one is given.
pub fn open(
    key: &EvidenceKey,
    pieces: &[Vec<u8>],
    sha256: Option<&str>,
) -> Result<Zeroizing<Vec<u8>>, EvidenceError> {
    let joined: Vec<u8> = pieces.concat();
    let decryptor =
        age::Decryptor::new_buffered(joined.as_slice()).map_err(|_| EvidenceError::Corrupt)?;
    let mut reader = decryptor
        .decrypt(std::iter::once(&key.0 as &dyn age::Identity))
        .map_err(|_| EvidenceError::Corrupt)?;
    let mut plain = Zeroizing::new(Vec::new());
    reader
        .read_to_end(&mut plain)
        .map_err(|_| EvidenceError::Corrupt)?;
    if let Some(expected) = sha256
        && hex::encode(sha2::Sha256::digest(plain.as_slice())) != expected
    {
        return Err(EvidenceError::Corrupt);
    }
    Ok(plain)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seal_all(data: &[u8], step: usize) -> (Vec<Vec<u8>>, Sealed, EvidenceKey) {
        let (mut sealer, key) = Sealer::new();
        let mut pieces = Vec::new();
        for chunk in data.chunks(step.max(1)) {
            pieces.extend(sealer.push(chunk).unwrap());
        }
        let (last, sealed) = sealer.finish();
        pieces.extend(last);
        (pieces, sealed, key)
    }

    #[test]
    fn files_of_every_size_round_trip_in_pieces() {
        for size in [0, 1, 1000, PIECE - 100, PIECE, 3 * PIECE + 17] {
            let data: Vec<u8> = (0..size).map(|i| (i * 7 % 251) as u8).collect();
            let (pieces, sealed, key) = seal_all(&data, 300_000);
            assert_eq!(sealed.size, size as u64);
            assert_eq!(sealed.pieces as usize, pieces.len());
            assert!(!pieces.is_empty());
            assert!(pieces[..pieces.len() - 1].iter().all(|p| p.len() == PIECE));
            let plain = open(&key, &pieces, Some(&sealed.sha256)).unwrap();
            assert_eq!(plain.as_slice(), data.as_slice(), "size {size}");
        }
    }

    #[test]
    fn tampered_reordered_or_foreign_pieces_are_refused() {
        let data = vec![42u8; 2 * PIECE + 5];
        let (pieces, sealed, key) = seal_all(&data, PIECE);
        let mut tampered = pieces.clone();
        tampered[1][10] ^= 1;
        assert_eq!(
            open(&key, &tampered, None).unwrap_err(),
            EvidenceError::Corrupt
        );
        let mut reordered = pieces.clone();
        reordered.swap(1, 2);
        assert!(open(&key, &reordered, None).is_err());
        let truncated = &pieces[..2];
        assert!(open(&key, truncated, None).is_err());
        let (_, _, other) = seal_all(b"x", 1);
        assert!(open(&other, &pieces, None).is_err());
        assert_eq!(
            open(&key, &pieces, Some(&"0".repeat(64))).unwrap_err(),
            EvidenceError::Corrupt
        );
        assert!(open(&key, &pieces, Some(&sealed.sha256)).is_ok());
    }

    #[test]
    fn the_plaintext_is_nowhere_in_the_pieces_and_the_key_round_trips() {
        let canary = b"CANARI-piece-justificative";
        let (pieces, _, key) = seal_all(canary, 5);
        assert!(!pieces.concat().windows(canary.len()).any(|w| w == canary));
        let text = key.to_secret_string();
        let again: EvidenceKey = text.parse().unwrap();
        assert_eq!(open(&again, &pieces, None).unwrap().as_slice(), canary);
        assert_eq!(format!("{key:?}"), "EvidenceKey([secret])");
    }

    #[test]
    fn files_over_the_limit_are_refused_while_streaming() {
        let (mut sealer, _) = Sealer::new();
        let chunk = vec![0u8; PIECE];
        let mut refused = None;
        for _ in 0..=(MAX_EVIDENCE / PIECE as u64) {
            if let Err(e) = sealer.push(&chunk) {
                refused = Some(e);
                break;
            }
        }
        assert!(matches!(refused, Some(EvidenceError::TooLarge(_))));
    }
}
