//! Messages between a device and the relay, over one WebSocket (binary frames, postcard),
//! and the relay's acceptance rules — pure, so the in-memory harness and the relay apply the
//! very same rules.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::date::Date;
use crate::envelope::DossierId;
use crate::envelope::{Envelope, EnvelopeError, Header, Kind, MAX_ENVELOPE};
use crate::evidence::BlobId;
use crate::keys::{MemberKey, Verifier};
use crate::membership::{Membership, Role};

/// The version of these messages. A device says which it speaks when it logs in
/// ([`ClientMsg::Login`]); a relay that does not speak it refuses the login in words the
/// device shows ([`LoginRefused`]). Version 1 logged in with [`ClientMsg::Hello`], which
/// carried no version. A change of any message's layout, or of what it means, takes a new
/// version. Version 3: the jury's key messages are about each juror's own review key (one
/// shared jury key per epoch before), which a juror of version 2 would misread. Version 4:
/// a dossier can be deleted ([`ClientMsg::Delete`], [`ServerMsg::Deleted`]); a device of
/// version 3 could not read that it was, and would create the dossier again from its copy.
/// Version 5: the candidate asks what the relay holds ([`ClientMsg::Holdings`]); nothing a
/// device of version 4 sends or reads changed, so the relay speaks both. Version 6: a
/// deleted annexe's file is erased ([`ClientMsg::Erase`]); again nothing older changed.
pub const PROTOCOL: u32 = 6;

/// The versions this build's relay accepts at login.
pub const PROTOCOLS_SPOKEN: std::ops::RangeInclusive<u32> = 4..=PROTOCOL;

/// Device → relay. New kinds go at the end: the wire names a kind by its position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClientMsg {
    /// Protocol 1's login (no version). Still read, so that a device of that version is told
    /// to update ([`OUTDATED_DEVICE`]) instead of failing on a message it cannot decode.
    Hello {
        device: MemberKey,
        signature: Vec<u8>,
    },
    /// Creates a dossier with its first membership entry.
    Create { entry: Vec<u8> },
    /// Appends a membership entry (owner only).
    Membership { dossier: DossierId, entry: Vec<u8> },
    /// Stores and forwards an envelope.
    Push { envelope: Vec<u8> },
    /// Asks for the membership log and every envelope after `since` (last counter per
    /// writer), then live updates.
    Subscribe {
        dossier: DossierId,
        since: Vec<(MemberKey, u64)>,
    },
    /// Replaces the history up to `covers` (last counter per writer) by a sealed snapshot
    /// whose parent is the active one.
    Snapshot {
        envelope: Vec<u8>,
        covers: Vec<(MemberKey, u64)>,
    },
    /// Asks which dossiers this device is a member of.
    Dossiers,
    /// Stores piece `index` of an encrypted evidence file (owner and advisors). Pieces go in
    /// order; a piece already stored is acknowledged again (a retry after a cut).
    PutPiece {
        dossier: DossierId,
        blob: BlobId,
        index: u32,
        bytes: Vec<u8>,
        last: bool,
    },
    /// Asks for piece `index` of an evidence file (any member).
    GetPiece {
        dossier: DossierId,
        blob: BlobId,
        index: u32,
    },
    /// Invites someone by e-mail to a dossier (owners only). The relay mails a one-time link;
    /// the mail carries that link and `inviter` (the candidate's name, if given) — never
    /// dossier content, never a key.
    Invite {
        dossier: DossierId,
        email: String,
        role: Role,
        inviter: Option<String>,
    },
    /// The invitee's device answers an invitation link with its identity line (its own:
    /// the line's signing key must be the logged-in one); it then waits for the owner.
    Accept { token: String, identity: String },
    /// The answered invitations of a dossier that wait for an owner's approval (owners only).
    Requests { dossier: DossierId },
    /// Where this device is in a dossier it follows (an envelope of kind presence, signed by
    /// it): forwarded to the other connections following the dossier, never stored, no
    /// answer unless refused.
    Presence { envelope: Vec<u8> },
    /// Sets the jury's date and the address the relay reminds before it (owners only);
    /// `None` cancels the reminders not yet sent. A date that is not a real day does not
    /// decode.
    Reminders {
        dossier: DossierId,
        email: String,
        jury_date: Option<Date>,
    },
    /// This juror's review key of the dossier's current epoch as the relay keeps it, and
    /// every grant sealed to this device (jurors only).
    JuryKeys { dossier: DossierId },
    /// Grants this juror's review key of the current epoch (`key_id`) to jurors, each grant
    /// sealed to one (jurors only; recipients must be jurors). The first key id a juror
    /// gives for an epoch is kept; the answer is [`ServerMsg::JuryKeys`] either way.
    GrantJuryKey {
        dossier: DossierId,
        epoch: u32,
        key_id: [u8; 16],
        grants: Vec<(MemberKey, Vec<u8>)>,
    },
    /// Answer to the relay's challenge, in the protocol version the device speaks: its
    /// signing key and its signature over [`login_message`] (the relay's origin as the
    /// device knows it, and the nonce); made by [`login`], checked by [`check_hello`].
    Login {
        protocol: u32,
        device: MemberKey,
        signature: Vec<u8>,
    },
    /// Deletes a dossier for good: a [`crate::deletion::DeletionNotice`] signed by one of
    /// the candidate's keys on the relay's current membership. Answered by
    /// [`ServerMsg::Deleted`], again on a replay.
    Delete { notice: Vec<u8> },
    /// The candidate's standing notice of retention
    /// ([`crate::deletion::DeletionNotice::retention`]), renewed at each of their syncs: the
    /// relay keeps the latest and deletes the dossier with it once its retention ends.
    /// Answered by [`ServerMsg::Retained`].
    Retain { notice: Vec<u8> },
    /// What the relay holds of a dossier besides sealed bytes (owners only, « Mes données »).
    /// Answered by [`ServerMsg::Holdings`].
    Holdings { dossier: DossierId },
    /// Erases an evidence file for good, every piece (a deleted or replaced annexe's): by
    /// the device that stored it or one of the candidate's. Answered by [`ServerMsg::Erased`],
    /// again when there is nothing left to erase.
    Erase { dossier: DossierId, blob: BlobId },
}

/// An answered invitation waiting for an owner's approval: approving it is sharing the
/// dossier with `identity` as `role` (after comparing safety codes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinRequest {
    pub invitation: [u8; 16],
    pub role: Role,
    pub identity: String,
}

/// Relay → device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServerMsg {
    Challenge {
        nonce: [u8; 32],
    },
    Welcome,
    /// The envelope (writer, counter) is durable.
    Ack {
        dossier: DossierId,
        writer: MemberKey,
        counter: u64,
    },
    MembershipOk {
        dossier: DossierId,
        seq: u64,
    },
    /// The membership log and envelopes, in order per writer, after the active snapshot when
    /// the catch-up starts from it. `complete` marks the end of a catch-up, which also names
    /// the active snapshot (`active_snapshot`, the parent the next one must give) whether or
    /// not the device needed its bytes.
    Log {
        dossier: DossierId,
        entries: Vec<Vec<u8>>,
        snapshot: Option<Vec<u8>>,
        envelopes: Vec<Vec<u8>>,
        complete: bool,
        active_snapshot: Option<[u8; 32]>,
    },
    /// The snapshot is durable and active.
    SnapshotOk {
        dossier: DossierId,
        id: [u8; 32],
    },
    Rejected {
        reason: Rejection,
        detail: String,
    },
    /// The dossiers the authenticated device is a member of.
    Dossiers {
        ids: Vec<DossierId>,
    },
    /// How many pieces of the file the relay holds, durably; `complete` once the last one is.
    PieceStored {
        dossier: DossierId,
        blob: BlobId,
        stored: u32,
        complete: bool,
    },
    Piece {
        dossier: DossierId,
        blob: BlobId,
        index: u32,
        bytes: Vec<u8>,
        last: bool,
    },
    /// The invitation is recorded and its mail queued.
    Invited {
        dossier: DossierId,
        invitation: [u8; 16],
    },
    /// The invitation was answered: the owner now sees this device's request.
    Accepted {
        dossier: DossierId,
        role: Role,
    },
    Requests {
        dossier: DossierId,
        requests: Vec<JoinRequest>,
    },
    /// Another member's presence, as they sealed it.
    Presence {
        envelope: Vec<u8>,
    },
    /// The reminders now queued for a dossier: when each goes (milliseconds since the epoch).
    Reminders {
        dossier: DossierId,
        due: Vec<i64>,
    },
    /// The asking juror's review key of the current epoch (its id; none yet: the juror makes
    /// it), who it was granted to, and every grant sealed to the asking juror (every
    /// granter, every epoch).
    JuryKeys {
        dossier: DossierId,
        epoch: u32,
        key_id: Option<[u8; 16]>,
        granted: Vec<MemberKey>,
        grants: Vec<crate::jury::JuryGrant>,
    },
    /// The dossier was deleted: the candidate's notice, which a member device checks before
    /// it wipes its copy, and the relay's date of the deletion (milliseconds since 1970).
    /// Sent to its followers when it happens, and for ever after to whoever names it.
    Deleted {
        dossier: DossierId,
        notice: Vec<u8>,
        deleted_ms: i64,
    },
    /// The notice of retention is kept: the dossier is deleted on `expires_ms` (milliseconds
    /// since 1970) unless something happens in it before.
    Retained {
        dossier: DossierId,
        expires_ms: i64,
    },
    /// What the relay holds of the dossier, as it tells its candidate.
    Holdings {
        holdings: Box<crate::holdings::Holdings>,
    },
    /// The file is erased (or was not there).
    Erased {
        dossier: DossierId,
        blob: BlobId,
    },
}

/// Domain of the login signature. Version 1 signed the nonce alone, so a relay a device was
/// lured to could pass a real relay's challenge on and log in there as the device; version
/// 2 signs the relay's origin too.
pub const AUTH_DOMAIN: &[u8] = b"livret-auth-v2";

/// A relay's origin, `scheme://host:port` (scheme `http` or `https`, host in lower case, port
/// always written): what a device signs when it logs in, and what a relay expects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin(String);

impl Origin {
    /// The origin of a relay's address as a device or a relay writes it: `http(s)://` or
    /// `ws(s)://` (the WebSocket address of the same relay), any path after it ignored.
    /// `None` for anything else (another scheme, credentials in the address, a bad port).
    pub fn parse(url: &str) -> Option<Origin> {
        let (scheme, rest) = url.trim().split_once("://")?;
        let (scheme, default_port) = match scheme.to_ascii_lowercase().as_str() {
            "http" | "ws" => ("http", 80),
            "https" | "wss" => ("https", 443),
            _ => return None,
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if authority.is_empty() || authority.contains('@') {
            return None;
        }
        let (host, port) = match authority.strip_prefix('[') {
            Some(v6) => {
                let (host, after) = v6.split_once(']')?;
                (format!("[{host}]"), after)
            }
            None => match authority.rsplit_once(':') {
                Some((host, _)) => (host.to_string(), authority.get(host.len()..)?),
                None => (authority.to_string(), ""),
            },
        };
        let port = match port.strip_prefix(':') {
            Some(p) => p.parse::<u16>().ok()?,
            None if port.is_empty() => default_port,
            None => return None,
        };
        if host.is_empty() || host.len() > 255 || host.contains(char::is_whitespace) {
            return None;
        }
        Some(Origin(format!(
            "{scheme}://{}:{port}",
            host.to_ascii_lowercase()
        )))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a device signs to log in: `AUTH_DOMAIN ‖ u16 length ‖ origin ‖ nonce`. The one place
/// it is built, for every client (CLI, app, tests) and for the relay's check.
pub fn login_message(origin: &Origin, nonce: &[u8; 32]) -> Vec<u8> {
    let origin = origin.as_str().as_bytes();
    let mut signed = Vec::with_capacity(AUTH_DOMAIN.len() + 2 + origin.len() + 32);
    signed.extend_from_slice(AUTH_DOMAIN);
    signed.extend_from_slice(&(origin.len() as u16).to_be_bytes());
    signed.extend_from_slice(origin);
    signed.extend_from_slice(nonce);
    signed
}

/// A device's answer to the challenge of the relay it believes is at `origin`.
pub fn hello(origin: &Origin, nonce: &[u8; 32], device: &crate::keys::DeviceSecret) -> ClientMsg {
    login(
        device.signing_public(),
        device.sign(&login_message(origin, nonce)),
    )
}

/// The login of a device whose key signed [`login_message`] elsewhere (the app's key
/// lives behind its lock), in this build's protocol version.
pub fn login(device: MemberKey, signature: [u8; 64]) -> ClientMsg {
    ClientMsg::Login {
        protocol: PROTOCOL,
        device,
        signature: signature.to_vec(),
    }
}

/// What the relay tells a device of protocol 1 (which shows it as is).
pub const OUTDATED_DEVICE: &str = "Cette version de Livret est trop ancienne pour ce relais : \
     rechargez la page ou mettez à jour livret. / This version of Livret is too old for this \
     relay: reload the page or update livret.";

/// Why a relay did not let a device in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoginRefused {
    /// The relay is of an older version than this device (it could not read the login).
    #[error("le relais est d'une version plus ancienne que cet appareil : il doit être mis à jour")]
    RelayOutdated,
    /// This device speaks a version the relay no longer accepts.
    #[error("cette version de Livret est trop ancienne pour le relais : mettez-la à jour")]
    DeviceOutdated,
    /// Refused for another reason, in the relay's words.
    #[error("authentification refusée ({0})")]
    Refused(String),
    #[error("réponse inattendue du relais")]
    Unexpected,
}

/// The relay's answer to a [`login`]: in, or why not. A relay of protocol 1 cannot decode
/// the login and answers `Malformed`, which is only ever its answer to an unreadable login.
pub fn login_answer(answer: ServerMsg) -> Result<(), LoginRefused> {
    match answer {
        ServerMsg::Welcome => Ok(()),
        ServerMsg::Rejected {
            reason: Rejection::Malformed,
            ..
        } => Err(LoginRefused::RelayOutdated),
        ServerMsg::Rejected {
            reason: Rejection::UnsupportedProtocol,
            ..
        } => Err(LoginRefused::DeviceOutdated),
        ServerMsg::Rejected { detail, .. } => Err(LoginRefused::Refused(detail)),
        _ => Err(LoginRefused::Unexpected),
    }
}

/// The relay's check of a login: signed by `device` for one of the origins this relay is
/// reached at, and this connection's nonce. The device's key, decoded, when it holds.
pub fn check_hello(
    origins: &[Origin],
    nonce: &[u8; 32],
    device: &MemberKey,
    signature: &[u8],
) -> Option<Verifier> {
    let signature = <[u8; 64]>::try_from(signature).ok()?;
    let verifier = Verifier::new(device)?;
    origins
        .iter()
        .any(|o| verifier.verify(&login_message(o, nonce), &signature))
        .then_some(verifier)
}

/// Why the relay refused something. Counted per reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Rejection {
    Malformed,
    TooLarge,
    BadSignature,
    UnknownDossier,
    UnknownWriter,
    WrongEpoch,
    Replay,
    Gap,
    Forbidden,
    BadMembership,
    NotAuthenticated,
    /// A snapshot whose parent is not the active one, or that does not cover exactly the
    /// stored history.
    StaleSnapshot,
    /// An evidence file or piece the relay does not have.
    NotFound,
    /// A login in a protocol version the relay does not speak ([`PROTOCOLS_SPOKEN`]).
    UnsupportedProtocol,
}

impl Rejection {
    pub fn as_str(self) -> &'static str {
        match self {
            Rejection::Malformed => "malformed",
            Rejection::TooLarge => "too_large",
            Rejection::BadSignature => "bad_signature",
            Rejection::UnknownDossier => "unknown_dossier",
            Rejection::UnknownWriter => "unknown_writer",
            Rejection::WrongEpoch => "wrong_epoch",
            Rejection::Replay => "replay",
            Rejection::Gap => "gap",
            Rejection::Forbidden => "forbidden",
            Rejection::BadMembership => "bad_membership",
            Rejection::NotAuthenticated => "not_authenticated",
            Rejection::StaleSnapshot => "stale_snapshot",
            Rejection::NotFound => "not_found",
            Rejection::UnsupportedProtocol => "unsupported_protocol",
        }
    }
}

pub fn encode<T: Serialize>(msg: &T) -> Vec<u8> {
    postcard::to_stdvec(msg).expect("messages serialise")
}

pub fn decode<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Option<T> {
    if bytes.len() > MAX_ENVELOPE + 64 * 1024 {
        return None;
    }
    postcard::from_bytes(bytes).ok()
}

/// What the relay does with an envelope that passed the rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accept {
    /// Store it (it is the writer's next counter).
    Append,
    /// Already stored with these exact bytes: acknowledge again, store nothing (retries).
    Duplicate,
}

/// The relay's rules for an envelope: layout, signature, membership, role, epoch, counter.
/// `last` is the writer's last stored counter, `stored` the bytes stored at `counter` if any.
pub fn check_envelope(
    bytes: &[u8],
    membership: Option<&Membership>,
    last: u64,
    stored: Option<&[u8]>,
) -> Result<(Header, Accept), Rejection> {
    let env = parse_and_verify(bytes)?;
    check_header(&env.header, bytes, membership, last, stored).map(|a| (env.header, a))
}

/// The expensive, stateless half of the rules: layout and signature.
pub fn parse_and_verify(bytes: &[u8]) -> Result<Envelope, Rejection> {
    let env = parse(bytes)?;
    env.verify().map_err(|_| Rejection::BadSignature)?;
    Ok(env)
}

/// [`parse_and_verify`] for a connection that knows its device: an envelope written by any
/// other key is refused before its signature is even checked.
pub fn parse_and_verify_from(bytes: &[u8], device: &Verifier) -> Result<Envelope, Rejection> {
    let env = parse(bytes)?;
    if env.header.writer != *device.signer() {
        return Err(Rejection::Forbidden);
    }
    env.verify_with(device)
        .map_err(|_| Rejection::BadSignature)?;
    Ok(env)
}

/// The envelopes of a burst pushed by `device` that are well formed, written by it and
/// correctly signed, parsed (`None` for the others, in place). Checked one by one with the
/// very check replicas make ([`Envelope::verify_with`]), never as one Ed25519 batch. A batch
/// checks a random combination of the equations: a small-order component in a signature's
/// `R` vanishes from it whenever its coefficient is a multiple of 8 — one burst in eight,
/// and the coefficients derive from the burst, so a writer can try until one passes (a
/// cofactored batch accepts it always). Replicas refuse such a signature, so one such
/// envelope stored would break every member's sync for good.
/// What is `None` here goes through [`parse_and_verify_from`] for its precise refusal.
pub fn verify_burst(envelopes: &[&[u8]], device: &Verifier) -> Vec<Option<Envelope>> {
    envelopes
        .iter()
        .map(|b| {
            parse(b)
                .ok()
                .filter(|e| e.header.writer == *device.signer() && e.verify_with(device).is_ok())
        })
        .collect()
}

fn parse(bytes: &[u8]) -> Result<Envelope, Rejection> {
    Envelope::parse(bytes).map_err(|e| match e {
        EnvelopeError::TooLarge(_) => Rejection::TooLarge,
        _ => Rejection::Malformed,
    })
}

/// The cheap, stateful half: membership, role, epoch, counter (for a verified envelope).
pub fn check_header(
    h: &Header,
    bytes: &[u8],
    membership: Option<&Membership>,
    last: u64,
    stored: Option<&[u8]>,
) -> Result<Accept, Rejection> {
    let m = membership.ok_or(Rejection::UnknownDossier)?;
    let role = m.role_of(&h.writer).ok_or(Rejection::UnknownWriter)?;
    if !role.may_write(h.channel) {
        return Err(Rejection::Forbidden);
    }
    if h.kind != Kind::Changes {
        // Snapshots have their own checks (`check_snapshot`), presence its own (it is never
        // stored): neither takes a place in a writer's log.
        return Err(Rejection::Malformed);
    }
    // Before the epoch: an envelope stored before a removal, whose acknowledgement was lost,
    // is resent with its old epoch and must be acknowledged, not refused for ever.
    if h.counter <= last {
        return match stored {
            Some(s) if s == bytes => Ok(Accept::Duplicate),
            _ => Err(Rejection::Replay),
        };
    }
    if h.epoch != m.epoch {
        return Err(Rejection::WrongEpoch);
    }
    if h.counter != last + 1 {
        return Err(Rejection::Gap);
    }
    Ok(Accept::Append)
}

/// Last counter per writer, as a subscription's `since`.
pub fn since(seen: &BTreeMap<MemberKey, u64>) -> Vec<(MemberKey, u64)> {
    seen.iter().map(|(k, v)| (*k, *v)).collect()
}

/// The relay's rules for a snapshot: a writer of the dossier, the current epoch, the active
/// snapshot as parent, and exactly the stored history covered (nothing lost by pruning).
pub fn check_snapshot(
    h: &Header,
    membership: Option<&Membership>,
    active: [u8; 32],
    covers: &BTreeMap<MemberKey, u64>,
    stored_last: &BTreeMap<MemberKey, u64>,
) -> Result<(), Rejection> {
    let m = membership.ok_or(Rejection::UnknownDossier)?;
    let role = m.role_of(&h.writer).ok_or(Rejection::UnknownWriter)?;
    // Only snapshots whose covers are signed in clear (kind 4): `covers` must be those
    // ([`snapshot_covers`]), the ones replicas apply. Kind 2 hid them in the ciphertext.
    if h.kind != Kind::CoveredSnapshot || !role.may_write(crate::envelope::Channel::Dossier) {
        return Err(Rejection::Forbidden);
    }
    if h.epoch != m.epoch {
        return Err(Rejection::WrongEpoch);
    }
    if h.parent != active {
        return Err(Rejection::StaleSnapshot);
    }
    let nonzero = |map: &BTreeMap<MemberKey, u64>| -> BTreeMap<MemberKey, u64> {
        map.iter()
            .filter(|(_, c)| **c > 0)
            .map(|(w, c)| (*w, *c))
            .collect()
    };
    if nonzero(covers) != nonzero(stored_last) {
        return Err(Rejection::StaleSnapshot);
    }
    Ok(())
}

/// The covers the relay checks a pushed snapshot against ([`check_snapshot`]): those signed
/// in clear in it (kind 4), which are the ones replicas apply. The covers the message states
/// must say the same; an older snapshot kind, without signed covers, is refused.
pub fn snapshot_covers(
    env: &Envelope,
    stated: &[(MemberKey, u64)],
) -> Result<BTreeMap<MemberKey, u64>, Rejection> {
    let signed: BTreeMap<MemberKey, u64> = env
        .covers()
        .ok_or(Rejection::Forbidden)?
        .iter()
        .copied()
        .collect();
    let stated_map: BTreeMap<MemberKey, u64> = stated.iter().copied().collect();
    if stated_map.len() != stated.len() || stated_map != signed {
        return Err(Rejection::Malformed);
    }
    Ok(signed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::{Channel, Kind};
    use crate::keys::{ContentKey, DeviceSecret};
    use crate::membership;

    #[test]
    fn bad_envelopes_in_a_burst_are_singled_out() {
        let me = DeviceSecret::generate();
        let other = DeviceSecret::generate();
        let key = ContentKey::generate();
        let seal = |writer: &DeviceSecret, counter: u64| {
            let h = Header {
                dossier: DossierId([3; 16]),
                epoch: 1,
                writer: writer.signing_public(),
                counter,
                parent: [0; 32],
                kind: Kind::Changes,
                channel: Channel::Dossier,
            };
            crate::envelope::seal(&h, &key, [counter as u8; 24], b"edit", writer)
        };
        let device = Verifier::new(&me.signing_public()).unwrap();
        let good: Vec<Vec<u8>> = (1..=8).map(|c| seal(&me, c)).collect();
        let refs: Vec<&[u8]> = good.iter().map(Vec::as_slice).collect();
        let verified = |burst: &[&[u8]]| -> Vec<bool> {
            verify_burst(burst, &device)
                .iter()
                .map(Option::is_some)
                .collect()
        };
        assert_eq!(verified(&refs), vec![true; 8]);

        let mut forged = seal(&me, 9);
        let n = forged.len();
        forged[n - 1] ^= 0x40;
        let theirs = seal(&other, 1);
        let garbage = b"not an envelope".to_vec();
        let burst: Vec<&[u8]> = vec![&good[0], &forged, &good[1], &theirs, &garbage, &good[2]];
        assert_eq!(
            verified(&burst),
            vec![true, false, true, false, false, true]
        );
        assert!(verify_burst(&[], &device).is_empty());
    }

    #[test]
    fn origins_are_written_one_way() {
        let o = |s: &str| Origin::parse(s).map(|o| o.to_string());
        assert_eq!(o("http://127.0.0.1:8080").unwrap(), "http://127.0.0.1:8080");
        assert_eq!(
            o("ws://127.0.0.1:8080/api/v1/sync").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            o("HTTPS://Livret.Example/").unwrap(),
            "https://livret.example:443"
        );
        assert_eq!(
            o("wss://livret.example:443").unwrap(),
            "https://livret.example:443"
        );
        assert_eq!(o("http://[::1]:9000/x").unwrap(), "http://[::1]:9000");
        assert_eq!(o("http://[::1]").unwrap(), "http://[::1]:80");
        for bad in [
            "ftp://x",
            "livret.example",
            "http://",
            "http://a@b:80",
            "http://x:99999",
            "http://x:",
            "http://[::1]x",
        ] {
            assert_eq!(o(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_hello_logs_in_only_at_the_origin_it_was_signed_for() {
        let me = DeviceSecret::generate();
        let real = Origin::parse("https://livret.example").unwrap();
        let lure = Origin::parse("https://livret-example.fr").unwrap();
        let nonce = [7; 32];
        let ClientMsg::Login {
            device, signature, ..
        } = hello(&real, &nonce, &me)
        else {
            unreachable!()
        };
        assert!(check_hello(std::slice::from_ref(&real), &nonce, &device, &signature).is_some());
        assert!(check_hello(&[lure.clone(), real.clone()], &nonce, &device, &signature).is_some());
        assert!(check_hello(std::slice::from_ref(&real), &[8; 32], &device, &signature).is_none());
        // A device lured to another relay signs that relay's origin: its answer, passed on
        // to the real relay with the real relay's nonce, does not log in there.
        let ClientMsg::Login { signature, .. } = hello(&lure, &nonce, &me) else {
            unreachable!()
        };
        assert!(check_hello(&[real], &nonce, &device, &signature).is_none());
    }

    #[test]
    fn a_login_says_its_version_and_a_version_1_login_still_reads() {
        let me = DeviceSecret::generate();
        let origin = Origin::parse("https://livret.example").unwrap();
        let ClientMsg::Login { protocol, .. } = hello(&origin, &[1; 32], &me) else {
            panic!("a login")
        };
        assert_eq!(protocol, PROTOCOL);
        assert!(PROTOCOLS_SPOKEN.contains(&PROTOCOL));
        // What a device of protocol 1 sends: kind 0, its key, its signature (as postcard
        // laid it out then). The relay must still read it, to tell that device to update.
        let mut v1 = vec![0u8];
        v1.extend_from_slice(&me.signing_public());
        v1.push(64);
        v1.extend_from_slice(&[9; 64]);
        assert_eq!(
            decode::<ClientMsg>(&v1),
            Some(ClientMsg::Hello {
                device: me.signing_public(),
                signature: vec![9; 64],
            })
        );
        // And what a relay of protocol 1 knew stays where it was: its challenge, welcome and
        // refusals read the same (a device learns why it was refused, whatever the version).
        assert_eq!(encode(&ServerMsg::Challenge { nonce: [3; 32] })[0], 0);
        assert_eq!(encode(&ServerMsg::Welcome), vec![1]);
    }

    #[test]
    fn a_refused_login_says_which_side_is_outdated() {
        let refused = |reason| ServerMsg::Rejected {
            reason,
            detail: "x".into(),
        };
        assert_eq!(login_answer(ServerMsg::Welcome), Ok(()));
        // A relay of protocol 1 cannot read a login of protocol 2.
        assert_eq!(
            login_answer(refused(Rejection::Malformed)),
            Err(LoginRefused::RelayOutdated)
        );
        assert_eq!(
            login_answer(refused(Rejection::UnsupportedProtocol)),
            Err(LoginRefused::DeviceOutdated)
        );
        assert_eq!(
            login_answer(refused(Rejection::BadSignature)),
            Err(LoginRefused::Refused("x".into()))
        );
        assert_eq!(
            login_answer(ServerMsg::Challenge { nonce: [0; 32] }),
            Err(LoginRefused::Unexpected)
        );
    }

    #[test]
    fn a_snapshot_must_cover_exactly_what_is_stored() {
        let owner = DeviceSecret::generate();
        let id = DossierId([9; 16]);
        let m = Membership::genesis(
            &membership::create(id, &owner, &crate::keys::EpochKeys::generate()).unwrap(),
        )
        .unwrap();
        let h = Header {
            dossier: id,
            epoch: 1,
            writer: owner.signing_public(),
            counter: 1,
            parent: [0; 32],
            kind: Kind::CoveredSnapshot,
            channel: Channel::Dossier,
        };
        let me = owner.signing_public();
        let stored = BTreeMap::from([(me, 5)]);
        assert_eq!(
            check_snapshot(&h, Some(&m), [0; 32], &stored, &stored),
            Ok(())
        );
        let behind = BTreeMap::from([(me, 4)]);
        assert_eq!(
            check_snapshot(&h, Some(&m), [0; 32], &behind, &stored),
            Err(Rejection::StaleSnapshot)
        );
        assert_eq!(
            check_snapshot(&h, Some(&m), [1; 32], &stored, &stored),
            Err(Rejection::StaleSnapshot)
        );
        let mut changes = h.clone();
        changes.kind = Kind::Changes;
        assert_eq!(
            check_snapshot(&changes, Some(&m), [0; 32], &stored, &stored),
            Err(Rejection::Forbidden)
        );
        // The older kind, whose covers the relay cannot see signed, is no longer taken.
        let mut sealed_covers = h.clone();
        sealed_covers.kind = Kind::Snapshot;
        assert_eq!(
            check_snapshot(&sealed_covers, Some(&m), [0; 32], &stored, &stored),
            Err(Rejection::Forbidden)
        );
    }
}
