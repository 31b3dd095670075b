//! Device keys and dossier content keys.
//!
//! Each device holds an Ed25519 signing key (it signs envelopes and membership entries; the
//! relay authorises writes by it) and an age X25519 identity (dossier content keys are wrapped
//! to it). Secrets zero their memory on drop, cannot be cloned, and print as `[secret]`.

use std::fmt;
use std::str::FromStr;

use age::secrecy::ExposeSecret;
use ed25519_dalek::{Signer, SigningKey, Verifier, VerifyingKey};
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
}

/// A device's public identity: what others need to share a dossier with it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct DeviceId {
    /// Ed25519 public key: signs envelopes and membership entries.
    pub signing: [u8; 32],
    /// age X25519 recipient (`age1…`): content keys are wrapped to it.
    pub recipient: String,
}

impl DeviceId {
    /// One line, safe to print, mail or paste: `livret1:<hex signing key>:<age recipient>`.
    pub fn to_line(&self) -> String {
        format!("livret1:{}:{}", hex::encode(self.signing), self.recipient)
    }

    pub fn verifying_key(&self) -> Result<VerifyingKey, KeyError> {
        VerifyingKey::from_bytes(&self.signing).map_err(|e| KeyError::Identity(e.to_string()))
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
        let mut signing = [0u8; 32];
        hex::decode_to_slice(sig, &mut signing)
            .map_err(|_| KeyError::Identity("clé de signature invalide".into()))?;
        VerifyingKey::from_bytes(&signing).map_err(|e| KeyError::Identity(e.to_string()))?;
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

    /// The stored form: two lines, to keep in a file only the device can read.
    pub fn to_secret_string(&self) -> Zeroizing<String> {
        let seed = Zeroizing::new(hex::encode(self.signing.to_bytes()));
        Zeroizing::new(format!(
            "LIVRET-SIGNING-KEY-1{}\n{}\n",
            seed.as_str(),
            self.age.to_string().expose_secret()
        ))
    }

    pub fn id(&self) -> DeviceId {
        DeviceId {
            signing: self.signing.verifying_key().to_bytes(),
            recipient: self.age.to_public().to_string(),
        }
    }

    pub fn signing_public(&self) -> [u8; 32] {
        self.signing.verifying_key().to_bytes()
    }

    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.signing.sign(message).to_bytes()
    }

    /// Opens a content key wrapped to this device.
    pub fn unwrap_key(&self, wrapped: &[u8]) -> Result<ContentKey, KeyError> {
        let plain = Zeroizing::new(age::decrypt(&self.age, wrapped).map_err(|_| KeyError::Unwrap)?);
        let bytes: [u8; 32] = plain.as_slice().try_into().map_err(|_| KeyError::Unwrap)?;
        Ok(ContentKey(bytes))
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

/// Checks an Ed25519 signature by `signer` (strict verification: no malleable signatures).
pub fn verify(signer: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool {
    let Ok(key) = VerifyingKey::from_bytes(signer) else {
        return false;
    };
    let sig = ed25519_dalek::Signature::from_bytes(signature);
    key.verify_strict(message, &sig).is_ok() && key.verify(message, &sig).is_ok()
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
        let recipient = age::x25519::Recipient::from_str(&device.recipient)
            .map_err(|e| KeyError::Identity(e.to_string()))?;
        age::encrypt(&recipient, &self.0).map_err(|e| KeyError::Identity(e.to_string()))
    }

    /// An explicit copy, for the few places that need one (tests, re-wrapping).
    pub fn duplicate(&self) -> ContentKey {
        ContentKey(self.0)
    }
}

impl fmt::Debug for ContentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ContentKey([secret])")
    }
}

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
    fn signatures_verify_and_forgeries_do_not() {
        let a = DeviceSecret::generate();
        let sig = a.sign(b"message");
        assert!(verify(&a.signing_public(), b"message", &sig));
        assert!(!verify(&a.signing_public(), b"messagE", &sig));
        let mut forged = sig;
        forged[0] ^= 1;
        assert!(!verify(&a.signing_public(), b"message", &forged));
    }
}
