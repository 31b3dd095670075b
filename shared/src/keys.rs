//! Device keys and dossier content keys.
//!
//! Each device holds an Ed25519 signing key (it signs envelopes and membership entries; the
//! relay authorises writes by it) and an age X25519 identity (dossier content keys are wrapped
//! to it). Secrets zero their memory on drop, cannot be cloned, and print as `[secret]`.

use std::fmt;
use std::str::FromStr;

use age::secrecy::ExposeSecret;
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// What can go wrong reading keys.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("identité illisible : {0}")]
    Identity(String),
    #[error("clé secrète illisible")]
    Secret,
    #[error("clé de dossier illisible ou destinée à un autre appareil")]
    Unwrap,
    #[error("phrase de passe incorrecte, ou coffre de clés illisible")]
    Passphrase,
}

/// scrypt cost (`N = 2^16`, 64 MiB) for keys locked with a passphrase: about a second in a
/// browser, so guessing passphrases from a stolen browser profile is slow.
pub const PASSPHRASE_WORK_FACTOR: u8 = 16;

/// The highest cost an unlock accepts: a crafted file cannot make the browser spend minutes
/// and gigabytes.
const MAX_PASSPHRASE_WORK_FACTOR: u8 = 20;

/// A member's signing key (an Ed25519 public key): who wrote an envelope, who belongs to a
/// dossier, who logged in. The same 32 bytes on the wire and on disk as the raw array it
/// replaces (`serde(transparent)`), so nothing stored or sent changes; a type of its own so
/// a snapshot's id, a nonce or an entry's hash cannot be passed where a member is meant.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct MemberKey(pub [u8; 32]);

impl MemberKey {
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl From<[u8; 32]> for MemberKey {
    fn from(bytes: [u8; 32]) -> MemberKey {
        MemberKey(bytes)
    }
}

/// Read as bytes wherever bytes are what is meant (hashing, hex, an actor id), so the type
/// guards what is passed around without a `.0` at every use.
impl std::ops::Deref for MemberKey {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl TryFrom<&[u8]> for MemberKey {
    type Error = std::array::TryFromSliceError;

    fn try_from(bytes: &[u8]) -> Result<MemberKey, Self::Error> {
        Ok(MemberKey(bytes.try_into()?))
    }
}

impl PartialEq<[u8]> for MemberKey {
    fn eq(&self, other: &[u8]) -> bool {
        self.0[..] == *other
    }
}

impl AsRef<[u8]> for MemberKey {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for MemberKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MemberKey({})", short(&self.0))
    }
}

/// A device's public identity: what others need to share a dossier with it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct DeviceId {
    /// Ed25519 public key: signs envelopes and membership entries.
    pub signing: MemberKey,
    /// age X25519 recipient (`age1…`): content keys are wrapped to it.
    pub recipient: String,
}

impl DeviceId {
    /// Twenty digits in four groups (`"48291 30571 99213 04512"`) both people compare, out
    /// loud or on a call, before an owner lets a device in: computed from the identity the
    /// invitee's device holds and from the one the owner's device received. The relay passes
    /// identities along; if it swapped one for its own, the two codes differ. Twenty digits
    /// (66 bits), because the relay could otherwise make key pairs until one matches: six
    /// digits fall to a million tries, seconds of work.
    pub fn safety_code(&self) -> String {
        use sha2::Digest;
        let mut hash = sha2::Sha256::new();
        hash.update(b"livret-safety-code-v2");
        hash.update(self.signing);
        hash.update(self.recipient.as_bytes());
        let digest = hash.finalize();
        let n = u128::from_be_bytes(digest[..16].try_into().expect("16 bytes"))
            % 100_000_000_000_000_000_000;
        let digits = format!("{n:020}");
        [
            &digits[0..5],
            &digits[5..10],
            &digits[10..15],
            &digits[15..20],
        ]
        .join(" ")
    }

    /// One line, safe to print, mail or paste: `livret1:<hex signing key>:<age recipient>`.
    pub fn to_line(&self) -> String {
        format!("livret1:{}:{}", hex::encode(self.signing), self.recipient)
    }

    pub fn verifying_key(&self) -> Result<VerifyingKey, KeyError> {
        decode_signing_key(&self.signing)
    }
}

impl FromStr for DeviceId {
    type Err = KeyError;

    fn from_str(line: &str) -> Result<Self, KeyError> {
        let mut parts = line.trim().splitn(3, ':');
        let (Some("livret1"), Some(sig), Some(recipient)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(KeyError::Identity("attendu livret1:<clé>:<age1…>".into()));
        };
        let mut signing = MemberKey::default();
        hex::decode_to_slice(sig, &mut signing.0)
            .map_err(|_| KeyError::Identity("clé de signature invalide".into()))?;
        decode_signing_key(&signing)?;
        age::x25519::Recipient::from_str(recipient)
            .map_err(|e| KeyError::Identity(format!("destinataire age invalide : {e}")))?;
        Ok(DeviceId {
            signing,
            recipient: recipient.to_string(),
        })
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_line())
    }
}

impl fmt::Debug for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeviceId({})", short(&self.signing))
    }
}

/// First bytes of a key, for logs and messages.
pub fn short(key: &[u8]) -> String {
    hex::encode(&key[..key.len().min(6)])
}

/// A device's secret keys. Not `Clone`; `Debug` prints nothing secret; memory zeroed on drop
/// (the signing key zeroes itself, the age identity too).
pub struct DeviceSecret {
    signing: SigningKey,
    age: age::x25519::Identity,
}

impl DeviceSecret {
    /// New keys from the operating system's random generator.
    pub fn generate() -> DeviceSecret {
        let mut seed = Zeroizing::new([0u8; 32]);
        getrandom::fill(seed.as_mut()).expect("the OS random generator is available");
        DeviceSecret {
            signing: SigningKey::from_bytes(&seed),
            age: age::x25519::Identity::generate(),
        }
    }

    /// Keys from their stored form ([`DeviceSecret::to_secret_string`]).
    pub fn from_secret_string(s: &str) -> Result<DeviceSecret, KeyError> {
        let s = Zeroizing::new(s.trim().to_string());
        let (sig, age_key) = s.split_once('\n').ok_or(KeyError::Secret)?;
        let hex_seed = sig
            .trim()
            .strip_prefix("LIVRET-SIGNING-KEY-1")
            .ok_or(KeyError::Secret)?;
        let mut seed = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(hex_seed, seed.as_mut()).map_err(|_| KeyError::Secret)?;
        let age = age::x25519::Identity::from_str(age_key.trim()).map_err(|_| KeyError::Secret)?;
        Ok(DeviceSecret {
            signing: SigningKey::from_bytes(&seed),
            age,
        })
    }

    /// Reads a recovery kit however it was copied: on two lines or one, cut in groups,
    /// wrapped, with spaces, in upper or lower case, its two lines in either order — and
    /// nothing else: any other character, or a line too long or too short, refuses it
    /// (line 1 has no checksum, so text dropped silently could make another key).
    pub fn from_kit(text: &str) -> Result<DeviceSecret, KeyError> {
        let upper: Zeroizing<String> = Zeroizing::new(
            text.chars()
                .filter(|c| !c.is_whitespace())
                .flat_map(char::to_uppercase)
                .collect(),
        );
        let signing_at = upper.find(SIGNING_PREFIX).ok_or(KeyError::Secret)?;
        let hex_start = signing_at + SIGNING_PREFIX.len();
        let hex_end = hex_start + 64;
        let hex = upper.get(hex_start..hex_end).ok_or(KeyError::Secret)?;
        // The age key is the rest: after line 1, or before it.
        let age = match (signing_at, upper.get(hex_end..)) {
            (0, Some(rest)) => rest,
            (_, Some("")) => &upper[..signing_at],
            _ => return Err(KeyError::Secret),
        };
        if !age.starts_with(AGE_PREFIX) || age[AGE_PREFIX.len()..].contains(SIGNING_PREFIX) {
            return Err(KeyError::Secret);
        }
        let mut seed = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(hex, seed.as_mut()).map_err(|_| KeyError::Secret)?;
        let age = age::x25519::Identity::from_str(age).map_err(|_| KeyError::Secret)?;
        Ok(DeviceSecret {
            signing: SigningKey::from_bytes(&seed),
            age,
        })
    }

    /// The stored form: two lines, to keep in a file only the device can read (and what
    /// the recovery kit writes).
    pub fn to_secret_string(&self) -> Zeroizing<String> {
        let seed = Zeroizing::new(hex::encode(self.signing.to_bytes()));
        Zeroizing::new(format!(
            "{SIGNING_PREFIX}{}\n{}\n",
            seed.as_str(),
            self.age.to_string().expose_secret()
        ))
    }

    /// The keys locked with a passphrase (age's scrypt recipient, `N = 2^work_factor`): what a
    /// browser keeps in IndexedDB, so a copied profile does not give the keys away.
    pub fn lock(&self, passphrase: &str, work_factor: u8) -> Vec<u8> {
        use std::io::Write;
        let mut recipient =
            age::scrypt::Recipient::new(age::secrecy::SecretString::from(passphrase.to_owned()));
        recipient.set_work_factor(work_factor);
        let encryptor =
            age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
                .expect("one scrypt recipient is a valid set");
        let mut out = Vec::new();
        let mut writer = encryptor
            .wrap_output(&mut out)
            .expect("writing to memory cannot fail");
        writer
            .write_all(self.to_secret_string().as_bytes())
            .and_then(|()| writer.finish().map(|_| ()))
            .expect("writing to memory cannot fail");
        out
    }

    /// Opens keys locked by [`DeviceSecret::lock`].
    pub fn unlock(locked: &[u8], passphrase: &str) -> Result<DeviceSecret, KeyError> {
        use std::io::Read;
        let decryptor = age::Decryptor::new_buffered(locked).map_err(|_| KeyError::Passphrase)?;
        let mut identity =
            age::scrypt::Identity::new(age::secrecy::SecretString::from(passphrase.to_owned()));
        identity.set_max_work_factor(MAX_PASSPHRASE_WORK_FACTOR);
        let mut reader = decryptor
            .decrypt(std::iter::once(&identity as &dyn age::Identity))
            .map_err(|_| KeyError::Passphrase)?;
        let mut plain = Zeroizing::new(Vec::new());
        reader
            .read_to_end(&mut plain)
            .map_err(|_| KeyError::Passphrase)?;
        let text = std::str::from_utf8(&plain).map_err(|_| KeyError::Passphrase)?;
        DeviceSecret::from_secret_string(text)
    }

    pub fn id(&self) -> DeviceId {
        DeviceId {
            signing: MemberKey(self.signing.verifying_key().to_bytes()),
            recipient: self.age.to_public().to_string(),
        }
    }

    pub fn signing_public(&self) -> MemberKey {
        MemberKey(self.signing.verifying_key().to_bytes())
    }

    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.signing.sign(message).to_bytes()
    }

    /// Encrypts data this device keeps for itself (a dossier's local copy, which holds its
    /// content keys), to its own age recipient.
    pub fn seal_for_self(&self, plain: &[u8]) -> Vec<u8> {
        age::encrypt(&self.age.to_public(), plain).expect("encrypting to memory cannot fail")
    }

    /// Opens what [`DeviceSecret::seal_for_self`] sealed.
    pub fn open_own(&self, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        age::decrypt(&self.age, sealed)
            .map(Zeroizing::new)
            .map_err(|_| KeyError::Unwrap)
    }

    /// Opens a content key wrapped to this device (the team key, if any, is left aside).
    pub fn unwrap_key(&self, wrapped: &[u8]) -> Result<ContentKey, KeyError> {
        self.unwrap_keys(wrapped).map(|(content, _)| content)
    }

    /// Opens an epoch's keys wrapped to this device: the content key, and the team key when
    /// it was wrapped too (to the candidate and advisors, never to jurors).
    pub fn unwrap_keys(
        &self,
        wrapped: &[u8],
    ) -> Result<(ContentKey, Option<ContentKey>), KeyError> {
        let plain = Zeroizing::new(age::decrypt(&self.age, wrapped).map_err(|_| KeyError::Unwrap)?);
        let key = |part: &[u8]| -> Result<ContentKey, KeyError> {
            Ok(ContentKey(part.try_into().map_err(|_| KeyError::Unwrap)?))
        };
        match plain.len() {
            32 => Ok((key(&plain[..])?, None)),
            64 => Ok((key(&plain[..32])?, Some(key(&plain[32..])?))),
            _ => Err(KeyError::Unwrap),
        }
    }
}

impl fmt::Debug for DeviceSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "DeviceSecret([secret], public {})",
            short(&self.signing_public())
        )
    }
}

/// Decodes an Ed25519 public key, refusing what no honest device makes and what would let
/// two checkers disagree: bytes that are not a point, small-order ("weak") points, which
/// sign every message at once, and points with a small-order (torsion) component. With such
/// a key the equation every replica checks holds for about one message in eight, and a
/// batch check (a random combination of equations, or the cofactored equation) may hold
/// where it does not: two checkers of the same envelope would disagree.
fn decode_signing_key(signer: &MemberKey) -> Result<VerifyingKey, KeyError> {
    let key = VerifyingKey::from_bytes(signer.as_bytes())
        .map_err(|e| KeyError::Identity(e.to_string()))?;
    if key.is_weak() || !key.to_edwards().is_torsion_free() {
        return Err(KeyError::Identity(
            "clé de signature refusée (point d'ordre faible)".into(),
        ));
    }
    Ok(key)
}

/// Checks an Ed25519 signature by `signer`: canonical scalars only (no malleable signatures)
/// and only keys [`decode_signing_key`] accepts.
pub fn verify(signer: &MemberKey, message: &[u8], signature: &[u8; 64]) -> bool {
    Verifier::new(signer).is_some_and(|v| v.verify(message, signature))
}

/// One signer's public key, decoded once. Decoding a key costs about a third of a check, and
/// a relay connection or a replica checks many envelopes from the same few writers.
#[derive(Clone)]
pub struct Verifier {
    signer: MemberKey,
    key: VerifyingKey,
}

impl Verifier {
    /// `None` when the bytes are not a point on the curve, are a small-order point or have a
    /// small-order component ([`decode_signing_key`]).
    pub fn new(signer: &MemberKey) -> Option<Verifier> {
        let key = decode_signing_key(signer).ok()?;
        Some(Verifier {
            signer: *signer,
            key,
        })
    }

    pub fn signer(&self) -> &MemberKey {
        &self.signer
    }

    /// What [`verify`] does, without decoding the key again: the cofactorless equation
    /// `[s]B = R + [k]A`, with `R` compared as bytes. The one rule every replica and the
    /// relay apply (the relay checks a burst one signature at a time with it, never as a
    /// batch, which can accept an `R` carrying a small-order component that this refuses).
    /// Not `verify_strict`: its extra checks are on the key (done once, in
    /// [`Verifier::new`], torsion included) and on the signature's `R` point, which this
    /// equation already pins (with a torsion-free key, `[s]B - [k]A` has no small-order
    /// component, and `R` must be its canonical encoding); non-canonical scalars, the
    /// malleability that matters, are refused either way.
    pub fn verify(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        use ed25519_dalek::Verifier as _;
        let sig = ed25519_dalek::Signature::from_bytes(signature);
        self.key.verify(message, &sig).is_ok()
    }
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Verifier({})", short(&self.signer))
    }
}

/// A dossier's symmetric content key for one epoch (XChaCha20-Poly1305).
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct ContentKey([u8; 32]);

impl ContentKey {
    /// A key from 32 random bytes (the caller draws them).
    pub fn from_random(bytes: [u8; 32]) -> ContentKey {
        ContentKey(bytes)
    }

    pub fn generate() -> ContentKey {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).expect("the OS random generator is available");
        ContentKey(bytes)
    }

    pub(crate) fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Wraps the key with age to a device's recipient.
    pub fn wrap_for(&self, device: &DeviceId) -> Result<Vec<u8>, KeyError> {
        seal_to(device, &self.0)
    }

    /// An explicit copy, for the few places that need one (tests, re-wrapping).
    pub fn duplicate(&self) -> ContentKey {
        ContentKey(self.0)
    }
}

/// Encrypts `plain` with age to a device's recipient (opened by [`DeviceSecret::open_own`]).
pub fn seal_to(device: &DeviceId, plain: &[u8]) -> Result<Vec<u8>, KeyError> {
    let recipient = age::x25519::Recipient::from_str(&device.recipient)
        .map_err(|e| KeyError::Identity(e.to_string()))?;
    age::encrypt(&recipient, plain).map_err(|e| KeyError::Identity(e.to_string()))
}

/// An epoch's keys: the content key every member gets (the dossier and presence are sealed
/// with it) and the team key only the candidate and advisors get (their comments are sealed
/// with it inside the dossier, so jurors, who read the dossier, cannot read them).
pub struct EpochKeys {
    pub content: ContentKey,
    /// `None` for an epoch begun before team keys existed: its dossier has no comments until
    /// the next epoch (a removal) brings one.
    pub team: Option<ContentKey>,
}

impl EpochKeys {
    pub fn generate() -> EpochKeys {
        EpochKeys {
            content: ContentKey::generate(),
            team: Some(ContentKey::generate()),
        }
    }

    /// Wraps the keys to a device: both (`with_team`) or the content key alone. The two
    /// shapes differ in length (32 or 64 bytes inside age), which the relay could tell
    /// apart; it knows every member's role anyway.
    pub fn wrap_for(&self, device: &DeviceId, with_team: bool) -> Result<Vec<u8>, KeyError> {
        let Some(team) = self.team.as_ref().filter(|_| with_team) else {
            return self.content.wrap_for(device);
        };
        let recipient = age::x25519::Recipient::from_str(&device.recipient)
            .map_err(|e| KeyError::Identity(e.to_string()))?;
        let mut both = Zeroizing::new([0u8; 64]);
        both[..32].copy_from_slice(&self.content.0);
        both[32..].copy_from_slice(&team.0);
        age::encrypt(&recipient, &both[..]).map_err(|e| KeyError::Identity(e.to_string()))
    }

    /// An explicit copy (tests, re-wrapping).
    pub fn duplicate(&self) -> EpochKeys {
        EpochKeys {
            content: self.content.duplicate(),
            team: self.team.as_ref().map(ContentKey::duplicate),
        }
    }
}

impl fmt::Debug for EpochKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EpochKeys([secret])")
    }
}

impl fmt::Debug for ContentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ContentKey([secret])")
    }
}

/// The recovery kit as people copy it: each of its two lines cut in groups of four
/// characters after its prefix, so that it wraps only between groups and is copied group by
/// group. [`DeviceSecret::from_kit`] reads it back however it was copied.
pub fn kit_groups(secret: &str) -> Vec<Vec<String>> {
    secret
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|line| {
            let (prefix, rest) = [SIGNING_PREFIX, AGE_PREFIX]
                .iter()
                .find_map(|p| line.strip_prefix(p).map(|rest| (*p, rest)))
                .unwrap_or(("", line));
            let mut groups: Vec<String> = Vec::new();
            if !prefix.is_empty() {
                groups.push(prefix.to_string());
            }
            let chars: Vec<char> = rest.chars().collect();
            groups.extend(chars.chunks(4).map(|c| c.iter().collect()));
            groups
        })
        .collect()
}

const SIGNING_PREFIX: &str = "LIVRET-SIGNING-KEY-1";
const AGE_PREFIX: &str = "AGE-SECRET-KEY-1";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_line_round_trips() {
        let secret = DeviceSecret::generate();
        let line = secret.id().to_line();
        assert!(line.starts_with("livret1:"));
        assert_eq!(line.parse::<DeviceId>().unwrap(), secret.id());
        assert!("livret1:zz:age1".parse::<DeviceId>().is_err());
    }

    #[test]
    fn secrets_round_trip_and_never_print() {
        let secret = DeviceSecret::generate();
        let stored = secret.to_secret_string();
        let back = DeviceSecret::from_secret_string(&stored).unwrap();
        assert_eq!(back.id(), secret.id());
        let shown = format!("{secret:?} {:?}", ContentKey::generate());
        assert!(!shown.contains(&stored[20..40]));
        assert!(shown.contains("[secret]"));
    }

    #[test]
    fn wrapped_key_opens_only_for_its_device() {
        let (a, b) = (DeviceSecret::generate(), DeviceSecret::generate());
        let key = ContentKey::generate();
        let wrapped = key.wrap_for(&a.id()).unwrap();
        assert_eq!(a.unwrap_key(&wrapped).unwrap().bytes(), key.bytes());
        assert_eq!(b.unwrap_key(&wrapped).unwrap_err(), KeyError::Unwrap);
    }

    #[test]
    fn the_team_key_opens_only_where_it_was_wrapped() {
        let (advisor, juror) = (DeviceSecret::generate(), DeviceSecret::generate());
        let keys = EpochKeys::generate();
        let (content, team) = advisor
            .unwrap_keys(&keys.wrap_for(&advisor.id(), true).unwrap())
            .unwrap();
        assert_eq!(content.bytes(), keys.content.bytes());
        assert_eq!(team.unwrap().bytes(), keys.team.as_ref().unwrap().bytes());
        let (content, team) = juror
            .unwrap_keys(&keys.wrap_for(&juror.id(), false).unwrap())
            .unwrap();
        assert_eq!(content.bytes(), keys.content.bytes());
        assert!(team.is_none());
        assert!(format!("{keys:?}").contains("[secret]"));
    }

    #[test]
    fn signatures_verify_and_forgeries_do_not() {
        let a = DeviceSecret::generate();
        let sig = a.sign(b"message");
        assert!(verify(&a.signing_public(), b"message", &sig));
        assert!(!verify(&a.signing_public(), b"messagE", &sig));
        let mut forged = sig;
        forged[0] ^= 1;
        assert!(!verify(&a.signing_public(), b"message", &forged));
    }

    #[test]
    fn what_a_device_seals_for_itself_only_it_opens() {
        let (a, b) = (DeviceSecret::generate(), DeviceSecret::generate());
        let sealed = a.seal_for_self(b"copie locale du dossier");
        assert!(!sealed.windows(6).any(|w| w == b"locale"));
        assert_eq!(
            a.open_own(&sealed).unwrap().as_slice(),
            b"copie locale du dossier"
        );
        assert!(b.open_own(&sealed).is_err());
    }

    #[test]
    fn locked_keys_open_only_with_their_passphrase() {
        let secret = DeviceSecret::generate();
        // A low cost keeps the test quick; the format records it.
        let locked = secret.lock("cheval agrafe pile", 10);
        assert!(!String::from_utf8_lossy(&locked).contains("LIVRET-SIGNING-KEY"));
        let opened = DeviceSecret::unlock(&locked, "cheval agrafe pile").unwrap();
        assert_eq!(opened.id(), secret.id());
        assert_eq!(
            DeviceSecret::unlock(&locked, "cheval agrafe pilE").unwrap_err(),
            KeyError::Passphrase
        );
        let mut damaged = locked.clone();
        let n = damaged.len();
        damaged[n - 5] ^= 1;
        assert!(DeviceSecret::unlock(&damaged, "cheval agrafe pile").is_err());
        assert!(DeviceSecret::unlock(b"", "cheval agrafe pile").is_err());
        // A file demanding more work than allowed is refused without doing it: the stanza
        // `-> scrypt <salt> 10` rewritten to ask for 2^21.
        let text = String::from_utf8_lossy(&locked[..64]).into_owned();
        let stanza = text.find("-> scrypt ").unwrap();
        let line_end = stanza + text[stanza..].find('\n').unwrap();
        assert_eq!(&text[line_end - 3..line_end], " 10");
        let mut costly = locked.clone();
        costly[line_end - 2..line_end].copy_from_slice(b"21");
        assert_eq!(
            DeviceSecret::unlock(&costly, "cheval agrafe pile").unwrap_err(),
            KeyError::Passphrase
        );
    }

    #[test]
    fn safety_codes_are_twenty_digits_that_tell_devices_apart() {
        let a = DeviceSecret::generate().id();
        let b = DeviceSecret::generate().id();
        let code = a.safety_code();
        let groups: Vec<&str> = code.split(' ').collect();
        assert_eq!(groups.len(), 4, "{code}");
        assert!(
            groups
                .iter()
                .all(|g| g.len() == 5 && g.chars().all(|c| c.is_ascii_digit())),
            "{code}"
        );
        assert_eq!(code, a.safety_code(), "the same on both sides");
        assert_ne!(code, b.safety_code());
        // A relay that kept the signing key but swapped the recipient (to read the wrapped
        // key itself) changes the code too.
        let swapped = DeviceId {
            signing: a.signing,
            recipient: b.recipient.clone(),
        };
        assert_ne!(code, swapped.safety_code());
    }

    #[test]
    fn a_weak_key_signs_nothing() {
        // The identity point as key, R = identity and s = 0: the cofactorless equation
        // [s]B = R + [k]A holds for every message, so the key itself must be refused.
        let mut identity = MemberKey::default();
        identity.0[0] = 1;
        let mut sig = [0u8; 64];
        sig[..32].copy_from_slice(&identity);
        assert!(Verifier::new(&identity).is_none());
        assert!(!verify(&identity, b"any message", &sig));
        assert!(!verify(&identity, b"another one", &sig));
    }

    #[test]
    fn a_non_canonical_scalar_is_refused() {
        // s + L verifies the same equation; accepting it would let anyone re-sign a write
        // into different bytes (malleability).
        const L: [u8; 32] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9,
            0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        let a = DeviceSecret::generate();
        let sig = a.sign(b"message");
        let mut malleated = sig;
        let mut carry = 0u16;
        for i in 0..32 {
            let sum = u16::from(sig[32 + i]) + u16::from(L[i]) + carry;
            malleated[32 + i] = sum as u8;
            carry = sum >> 8;
        }
        assert_eq!(carry, 0, "s + L fits in 32 bytes since s < L < 2^253");
        assert!(verify(&a.signing_public(), b"message", &sig));
        assert!(!verify(&a.signing_public(), b"message", &malleated));
    }

    #[test]
    fn a_kit_is_read_back_however_it_was_copied() {
        let secret = DeviceSecret::generate();
        let kit = secret.to_secret_string().to_string();
        let groups = kit_groups(&kit);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0][0], "LIVRET-SIGNING-KEY-1");
        assert!(groups[0][1..].iter().all(|g| g.chars().count() == 4));
        let printed: String = groups
            .iter()
            .map(|l| l.join(" "))
            .collect::<Vec<_>>()
            .join("\n");
        let id = secret.id();
        for copied in [
            kit.clone(),
            printed.clone(),
            printed.replace('\n', " "),
            printed.to_lowercase(),
            format!("  {}\n\n", printed.replace(' ', "\n")),
            // The lines swapped.
            printed.lines().rev().collect::<Vec<_>>().join("\n"),
        ] {
            let back = DeviceSecret::from_kit(&copied).expect("read back");
            assert_eq!(back.id(), id, "{copied:?}");
        }
        for damaged in [
            String::new(),
            printed.replacen("LIVRET", "LIVRE", 1),
            printed[..printed.len() - 5].to_string(),
            printed.replace("AGE-SECRET-KEY-1", ""),
            // A group typed twice, or words around: refused, not read as another key.
            printed.replacen(
                &groups[0][3],
                &format!("{} {}", groups[0][3], groups[0][3]),
                1,
            ),
            format!("kit : {printed}"),
            format!("{printed} merci"),
        ] {
            assert!(DeviceSecret::from_kit(&damaged).is_err(), "{damaged:?}");
        }
    }
}
