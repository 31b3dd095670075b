//! The relay's storage: membership logs and per-(dossier, writer) append-only envelope logs,
//! snapshots, jury key grants, evidence pieces, invitations and the mail queue. Ciphertext
//! and metadata only. One trait per concern, gathered by [`Store`]; SQLite (`sqlite.rs`,
//! numbered migrations) and PostgreSQL (`postgres.rs`, for several relay nodes) behind them.

mod objects;
mod postgres;
mod sqlite;

pub use self::postgres::PgStore;
pub use objects::ObjectPieces;
pub use sqlite::SqliteStore;

use std::collections::BTreeMap;

use livret_shared::envelope::{Channel, DossierId};
use livret_shared::evidence::BlobId;
use livret_shared::holdings::{HeldInvitation, HeldMail, Tally};
use livret_shared::jury::JuryGrant;
use livret_shared::keys::MemberKey;
use livret_shared::membership::Role;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("base de données : {0}")]
    Sqlite(#[from] rusqlite::Error),
    // `::postgres`: the crate, not the `postgres` module beside `sqlite`.
    #[error("base de données : {0}")]
    Postgres(#[from] ::postgres::Error),
    /// What an append was checked against changed meanwhile (another relay node appended
    /// for the same writer or changed the members): nothing was stored; check again.
    #[error("le dossier a changé sur un autre relais ; réessayer")]
    Stale(Vec<DossierId>),
    #[error("le dossier existe déjà")]
    Exists,
    #[error("le dossier a été supprimé")]
    Deleted,
    #[error("morceau hors ordre (attendu {expected})")]
    OutOfOrder { expected: u32 },
    #[error("espace des pièces du dossier épuisé")]
    Full,
    #[error("pièce commencée par un autre appareil")]
    NotUploader,
    #[error("base de données d'une version plus récente de Livret (schéma {found}, connu {known})")]
    Newer { found: i64, known: i64 },
    #[error("tâche de la base de données interrompue : {0}")]
    Task(String),
    #[error("stockage des pièces : {0}")]
    Objects(String),
    #[error("pièce conservée en stockage objet, mais ce relais n'a pas été lancé avec --evidence")]
    ObjectsMissing,
}

/// Store calls block (a lock, the disk, a network database's round trip): made on a thread
/// that drives async tasks they would stall every connection it serves, and a blocking
/// database client refuses to run there at all. So the relay calls the store on the
/// blocking pool or the appender's thread only, and debug builds (every test) check it at
/// each call.
pub(crate) fn assert_off_async_runtime() {
    #[cfg(debug_assertions)]
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        // `block_on` refuses to start on a thread that drives async tasks, and only there.
        let on_async_thread = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            runtime.block_on(async {});
        }))
        .is_err();
        assert!(!on_async_thread, "store called on the async runtime");
    }
}

/// The SHA-256 of the token in an invitation mail's link (`#invitation=TOKEN`), as the
/// invitation keeps it: which dossier a queued mail of an earlier version is about.
pub(crate) fn invitation_token_hash(body: &str) -> Option<[u8; 32]> {
    use sha2::Digest;
    let (_, after) = body.split_once("#invitation=")?;
    let token: String = after
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    (!token.is_empty()).then(|| sha2::Sha256::digest(token.as_bytes()).into())
}

/// The jury's date a reminder mail carries (`Your VAE jury is on YYYY-MM-DD`), as midnight
/// UTC in milliseconds: what an earlier version knew of a dossier's jury only through its
/// queued reminders.
pub(crate) fn reminder_jury_ms(body: &str) -> Option<i64> {
    let (_, after) = body.split_once("Your VAE jury is on ")?;
    let date = livret_shared::date::Date::parse(after.get(..10)?)?;
    Some(date.days_since_epoch() * 24 * 3600 * 1000)
}

/// How much of an evidence file the relay holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PieceState {
    pub stored: u32,
    pub complete: bool,
}

/// Evidence bytes one dossier may keep on the relay (all files, encrypted).
pub const MAX_DOSSIER_EVIDENCE: i64 = 2 * 1024 * 1024 * 1024;

/// One envelope to append: (dossier, writer, counter, channel, bytes), and what it was
/// checked against.
pub struct NewEnvelope {
    pub dossier: DossierId,
    pub writer: MemberKey,
    pub counter: u64,
    pub channel: Channel,
    pub bytes: Vec<u8>,
    /// How many membership entries the dossier had when the envelope was checked against
    /// its members (`Membership::next_seq`).
    pub members_seen: u64,
}

/// Where an envelope stands in its dossier's arrival order: what a relay node has
/// delivered of a dossier is "everything up to an arrival" (see `hub`).
pub type Arrival = i64;

/// An envelope read back by arrival ([`EnvelopeStore::envelopes_after`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arrived {
    pub arrival: Arrival,
    /// Who wrote it (a node does not send a device its own envelopes back).
    pub writer: MemberKey,
    pub bytes: Vec<u8>,
}

/// An invitation to a dossier. Its token is never stored, only its SHA-256: the database
/// alone does not let anyone answer an invitation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub id: [u8; 16],
    pub token_hash: [u8; 32],
    pub dossier: DossierId,
    pub role: Role,
    /// The owner key that invited.
    pub inviter: MemberKey,
    /// Milliseconds since the Unix epoch.
    pub expires: i64,
    /// The identity line of the device that answered, once one did.
    pub answer: Option<String>,
}

/// A mail to send: metadata and a link at most (see `mail.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// A mail waiting in the queue, with how many attempts failed so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedMail {
    pub id: i64,
    pub mail: OutgoingMail,
    pub attempts: u32,
}

/// What [`JuryKeyStore::jury_grants`] answers a juror.
pub struct JuryKeys {
    /// The juror's own review key of the epoch (its id), if it granted one.
    pub key_id: Option<[u8; 16]>,
    /// Who the juror granted that key to.
    pub granted: Vec<MemberKey>,
    /// Every grant sealed to the juror, by every granter and epoch (and those of the one
    /// shared jury key of earlier versions).
    pub mine: Vec<JuryGrant>,
}

/// The active snapshot of a dossier.
pub struct StoredSnapshot {
    pub id: [u8; 32],
    pub bytes: Vec<u8>,
    pub covers: BTreeMap<MemberKey, u64>,
}

/// Dossiers and their membership logs.
pub trait DossierStore {
    /// Creates a dossier with its first membership entry; `members` are the signing keys
    /// the entry admits (indexed for [`DossierStore::dossiers_of`]).
    fn create_dossier(
        &self,
        dossier: &DossierId,
        entry: &[u8],
        members: &[MemberKey],
    ) -> Result<(), StoreError>;
    /// Appends a membership entry; `members` is the whole member list after it.
    fn append_membership(
        &self,
        dossier: &DossierId,
        seq: u64,
        entry: &[u8],
        members: &[MemberKey],
    ) -> Result<(), StoreError>;
    fn membership_log(&self, dossier: &DossierId) -> Result<Vec<Vec<u8>>, StoreError>;
    /// The dossiers a signing key is a member of (what the relay already enforces; lets a
    /// device find the dossiers shared with it, or a new device of the candidate its own).
    fn dossiers_of(&self, member: &MemberKey) -> Result<Vec<DossierId>, StoreError>;
    /// Erases everything held for the dossier — membership, envelopes, snapshots, evidence
    /// (its objects too), jury keys and grants, invitations, queued mails and reminders — and
    /// keeps its tombstone (the notice, the date), in one transaction: an append or a
    /// creation that races it commits before it (and is erased) or finds the tombstone. On
    /// a dossier already deleted it erases what a failure may have left (objects) and
    /// answers the first tombstone. `None`: an [`Ending::Expired`] dossier that is not (its
    /// retention was renewed meanwhile, or it is gone), left as it is.
    fn delete_dossier(
        &self,
        dossier: &DossierId,
        ending: Ending<'_>,
        now: i64,
    ) -> Result<Option<Tombstone>, StoreError>;
    /// The dossier's tombstone, once deleted.
    fn tombstone(&self, dossier: &DossierId) -> Result<Option<Tombstone>, StoreError>;
}

/// What ends a dossier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending<'a> {
    /// The candidate's notice (checked by the relay), kept as the tombstone.
    Notice(&'a [u8]),
    /// The end of its retention (`retention_ms` after its last activity or its jury),
    /// checked again in the deletion's transaction; the tombstone keeps the candidate's
    /// latest notice of retention, or none.
    Expired { retention_ms: i64 },
}

/// What the relay keeps of a deleted dossier (besides its id): enough for a device that
/// comes back to learn it, and check it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tombstone {
    /// The candidate's signed notice ([`livret_shared::deletion::DeletionNotice`]).
    pub notice: Vec<u8>,
    /// When the relay erased it (milliseconds since 1970).
    pub deleted_ms: i64,
}

impl Tombstone {
    /// What whoever names the deleted dossier is told.
    pub(crate) fn message(&self, dossier: DossierId) -> livret_shared::protocol::ServerMsg {
        livret_shared::protocol::ServerMsg::Deleted {
            dossier,
            notice: self.notice.clone(),
            deleted_ms: self.deleted_ms,
        }
    }
}

/// The tables that hold rows of a dossier, and the column that names it: what a deletion
/// erases, and what the tests check it erased. The mail queue and the reminders are erased
/// apart (mails by the dossier they are about).
pub const DOSSIER_TABLES: &[(&str, &str)] = &[
    ("dossiers", "id"),
    ("membership", "dossier"),
    ("members", "dossier"),
    ("envelopes", "dossier"),
    ("counters", "dossier"),
    ("snapshots", "dossier"),
    ("blobs", "dossier"),
    ("pieces", "dossier"),
    ("jury_keys", "dossier"),
    ("jury_grants", "dossier"),
    ("juror_keys", "dossier"),
    ("juror_grants", "dossier"),
    ("invitations", "dossier"),
    ("mail_queue", "dossier"),
    ("reminders", "dossier"),
    ("reminders_at_once", "dossier"),
    ("reminders_pending_at_once", "dossier"),
];

/// Envelopes: appended per writer, read back for catch-ups, and each writer's last counter.
pub trait EnvelopeStore {
    fn last_counter(&self, dossier: &DossierId, writer: &MemberKey) -> Result<u64, StoreError>;
    fn envelope_at(
        &self,
        dossier: &DossierId,
        writer: &MemberKey,
        counter: u64,
    ) -> Result<Option<Vec<u8>>, StoreError>;
    /// Appends a batch in one transaction: all are durable when this returns, or none.
    /// Answers each envelope's arrival, in batch order.
    ///
    /// The relay checks envelopes against the members and each writer's last counter it
    /// keeps in memory, which another relay node on the same database may have changed
    /// since: the append checks both again in its transaction, after it has the dossier's
    /// order (no other append or membership change of the dossier can commit in between),
    /// and stores nothing, answering [`StoreError::Stale`] with the dossiers concerned,
    /// when a writer's first counter in the batch does not follow its stored last one or
    /// the dossier's membership entries are not [`NewEnvelope::members_seen`].
    fn append_envelopes(&self, batch: &[NewEnvelope]) -> Result<Vec<Arrival>, StoreError>;
    /// One page of a dossier's envelopes after `after`, in arrival order, pruned ones
    /// included: at most `max_rows`, and no more bytes than `max_bytes` past the first.
    /// What a relay node reads when another node says the dossier changed.
    fn envelopes_after(
        &self,
        dossier: &DossierId,
        after: Arrival,
        max_rows: usize,
        max_bytes: usize,
    ) -> Result<Vec<Arrived>, StoreError>;
    /// The last arrival of each of `dossiers` that has envelopes.
    fn last_arrivals(
        &self,
        dossiers: &[DossierId],
    ) -> Result<Vec<(DossierId, Arrival)>, StoreError>;
    /// Envelopes after `since` (last counter per writer), in arrival order; pruned ones
    /// (covered by a snapshot, kept for a grace period) only when asked.
    fn envelopes_since(
        &self,
        dossier: &DossierId,
        since: &BTreeMap<MemberKey, u64>,
        include_pruned: bool,
    ) -> Result<Vec<Vec<u8>>, StoreError>;
    /// Last counter per writer of the dossier channel that the relay ever stored, pruned and
    /// purged envelopes included (what a snapshot must cover: jurors' review and release
    /// envelopes are never covered, never pruned).
    fn last_counters(&self, dossier: &DossierId) -> Result<BTreeMap<MemberKey, u64>, StoreError>;
}

/// Snapshots, and the envelopes they let the relay prune and purge.
pub trait SnapshotStore {
    fn active_snapshot(&self, dossier: &DossierId) -> Result<Option<StoredSnapshot>, StoreError>;
    /// In one transaction: stores the snapshot, makes it active, then marks the envelopes it
    /// covers as pruned (at `now`, seconds); they stay readable until [`SnapshotStore::purge`].
    fn put_snapshot(
        &self,
        dossier: &DossierId,
        snapshot: &StoredSnapshot,
        now: i64,
    ) -> Result<(), StoreError>;
    /// Deletes envelopes pruned before `before` (seconds); returns how many.
    fn purge(&self, before: i64) -> Result<usize, StoreError>;
}

/// Grants of the jurors' review keys, each sealed to one juror (`livret_shared::jury`).
pub trait JuryKeyStore {
    /// Keeps `granter`'s grants of its review key of an epoch: the first key id a granter
    /// gives for an epoch is its key; grants of another are not kept (returns false), a
    /// recipient's first grant from that granter stays. One granter's grants never touch
    /// another's: a hostile juror spoils nothing but its own.
    fn put_jury_grants(
        &self,
        dossier: &DossierId,
        epoch: u32,
        granter: &MemberKey,
        key_id: &[u8; 16],
        grants: &[(MemberKey, Vec<u8>)],
    ) -> Result<bool, StoreError>;
    /// What `juror` granted for an epoch (its key id, to whom) and every grant sealed to it.
    fn jury_grants(
        &self,
        dossier: &DossierId,
        epoch: u32,
        juror: &MemberKey,
    ) -> Result<JuryKeys, StoreError>;
}

/// Encrypted evidence files, piece by piece.
pub trait EvidenceStore {
    /// Stores piece `index` of an evidence file, durably. Pieces come in order: one already
    /// stored is a retry (nothing written), one further on is refused. The file belongs to
    /// the device that stored its first piece (`device`): any other is refused, since pieces
    /// are not signed and the first stored wins. A file stored before uploaders were
    /// recorded belongs to the next device that adds a piece to it.
    fn put_piece(
        &self,
        dossier: &DossierId,
        blob: &BlobId,
        device: &MemberKey,
        index: u32,
        bytes: &[u8],
        last: bool,
    ) -> Result<PieceState, StoreError>;
    /// Piece `index` of an evidence file and whether it is the last one.
    fn get_piece(
        &self,
        dossier: &DossierId,
        blob: &BlobId,
        index: u32,
    ) -> Result<Option<(Vec<u8>, bool)>, StoreError>;
    /// Erases an evidence file, every piece of it, for good (the candidate's request: the
    /// caller checks). Whether there was a file to erase.
    fn erase_blob(&self, dossier: &DossierId, blob: &BlobId) -> Result<bool, StoreError>;
}

/// Invitations by e-mail and their answers.
pub trait InvitationStore {
    /// Records an invitation and queues its mail, in one transaction (`now`: when the mail
    /// may go, milliseconds).
    fn create_invitation(
        &self,
        invitation: &Invitation,
        mail: &OutgoingMail,
        now: i64,
    ) -> Result<(), StoreError>;
    fn invitation_by_token(&self, token_hash: &[u8; 32]) -> Result<Option<Invitation>, StoreError>;
    /// Records the device that answered an invitation. The first answer holds: `false` when
    /// another identity answered it before (the same one again is `true`).
    fn answer_invitation(&self, id: &[u8; 16], identity: &str) -> Result<bool, StoreError>;
    /// The answered invitations of a dossier, oldest first.
    fn answered_invitations(&self, dossier: &DossierId) -> Result<Vec<Invitation>, StoreError>;
}

/// The mail queue (invitations, reminders) and the reminders before the jury.
pub trait MailQueue {
    /// Claims mails whose next attempt is due at `now` (milliseconds), oldest first: their
    /// next attempt moves to `lease_until`, in the same statement, so no other relay node
    /// on the database takes them meanwhile; one that stops before recording the outcome
    /// leaves them to whichever node claims them once the lease is over.
    fn claim_mail(
        &self,
        now: i64,
        lease_until: i64,
        limit: usize,
    ) -> Result<Vec<QueuedMail>, StoreError>;
    /// When the next queued mail is due, if any.
    fn next_mail_due(&self) -> Result<Option<i64>, StoreError>;
    fn mail_sent(&self, id: i64) -> Result<(), StoreError>;
    /// Replaces a dossier's reminders not yet sent by `mails` (each with when it goes), in
    /// one transaction; none cancels them. `at_once`: a reminder to send now (a moment
    /// already past), queued only if none sent at once for this dossier went out less than
    /// `quiet_ms` before its time; answers whether it was queued.
    fn set_reminders(
        &self,
        dossier: &DossierId,
        mails: &[(OutgoingMail, i64)],
        at_once: Option<(OutgoingMail, i64)>,
        quiet_ms: i64,
    ) -> Result<bool, StoreError>;
    fn mail_failed(&self, id: i64, attempts: u32, next_attempt: i64) -> Result<(), StoreError>;
    /// Gives a mail up after its last attempt: out of the queue (and of the reminders that
    /// waited for it), never sent.
    fn mail_abandoned(&self, id: i64) -> Result<(), StoreError>;
}

/// What the relay keeps to end dossiers on time (`retention`): when each was last active,
/// its jury's date, the address the candidate gave for reminders, the warnings sent, and the
/// candidate's standing notice of retention.
pub trait RetentionStore {
    /// Notes activity in these dossiers at `now`: their retention counts from it.
    fn touch(&self, dossiers: &[DossierId], now: i64) -> Result<(), StoreError>;
    /// Keeps the candidate's notice of retention unless the one kept takes effect later,
    /// and notes activity at `now` (the candidate came back).
    fn retain(
        &self,
        dossier: &DossierId,
        notice: &[u8],
        effective_ms: i64,
        now: i64,
    ) -> Result<(), StoreError>;
    /// The jury's date (the retention counts from it when it is later than the last
    /// activity) and the address the candidate gave for reminders, which the warnings
    /// before the end go to; `None` forgets them.
    fn set_jury(
        &self,
        dossier: &DossierId,
        jury_ms: Option<i64>,
        contact: Option<&str>,
    ) -> Result<(), StoreError>;
    /// Where the dossier's retention stands, for a retention of `retention_ms`.
    fn retention(
        &self,
        dossier: &DossierId,
        retention_ms: i64,
    ) -> Result<Option<Retention>, StoreError>;
    /// The dossiers whose retention ends at or before `until`, soonest first, at most
    /// `limit`.
    fn retention_due(
        &self,
        retention_ms: i64,
        until: i64,
        limit: usize,
    ) -> Result<Vec<Retention>, StoreError>;
    /// Records that the warning `days` before the end `ends_ms` went, its mail queued in
    /// the same transaction.
    fn warned(
        &self,
        dossier: &DossierId,
        ends_ms: i64,
        days: i64,
        mail: &OutgoingMail,
        now: i64,
    ) -> Result<(), StoreError>;
}

/// Where a dossier's retention stands ([`RetentionStore`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retention {
    pub dossier: DossierId,
    /// When it ends: the retention after the last activity or the jury, the later.
    pub ends_ms: i64,
    /// The address the candidate gave for reminders.
    pub contact: Option<String>,
    /// The last warning sent: for which end, how many days before it.
    pub warned: Option<(i64, i64)>,
    /// The candidate's latest notice of retention.
    pub notice: Option<Vec<u8>>,
}

impl Retention {
    /// From a dossier's stored columns, for a retention of `retention_ms`: it ends that long
    /// after its last activity or its jury, the later; a warning is one for an end and a
    /// number of days.
    pub(crate) fn from_columns(
        dossier: DossierId,
        active: i64,
        jury: Option<i64>,
        contact: Option<String>,
        warned: (Option<i64>, Option<i64>),
        notice: Option<Vec<u8>>,
        retention_ms: i64,
    ) -> Retention {
        Retention {
            dossier,
            ends_ms: active.max(jury.unwrap_or(0)) + retention_ms,
            contact,
            warned: match warned {
                (Some(ends), Some(days)) => Some((ends, days)),
                _ => None,
            },
            notice,
        }
    }
}

/// What the relay holds of a dossier besides its sealed bytes and membership log, for its
/// candidate to see (« Mes données », `handlers::holdings`).
pub trait HoldingsStore {
    /// `None` for a dossier the store does not hold.
    fn held(&self, dossier: &DossierId) -> Result<Option<Held>, StoreError>;
}

/// A dossier's rows as [`HoldingsStore::held`] counts them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Held {
    pub envelopes: Tally,
    pub snapshots: Tally,
    pub evidence: Tally,
    /// Review keys and their grants, every table of them.
    pub review_keys: u64,
    pub invitations: Vec<HeldInvitation>,
    /// Its queued mails, soonest first.
    pub mails: Vec<HeldMail>,
    pub active_ms: i64,
    pub jury_ms: Option<i64>,
}

/// Everything the relay stores, one trait per concern above: a backend implements each
/// (`SqliteStore`, `PgStore`), and the relay holds it as one
/// `Arc<dyn Store>`.
pub trait Store:
    DossierStore
    + EnvelopeStore
    + SnapshotStore
    + JuryKeyStore
    + EvidenceStore
    + InvitationStore
    + MailQueue
    + RetentionStore
    + HoldingsStore
    + Send
    + Sync
    + 'static
{
}

// Encodings both backends store the same way, so a database moved from one to the other
// (or read by an operator) holds the same bytes.

pub(crate) fn role_code(role: Role) -> i64 {
    match role {
        Role::Owner => 0,
        Role::Advisor => 1,
        Role::Juror => 2,
    }
}

pub(crate) fn role_from(code: i64) -> Option<Role> {
    match code {
        0 => Some(Role::Owner),
        1 => Some(Role::Advisor),
        2 => Some(Role::Juror),
        _ => None,
    }
}

/// What an append checks again in its transaction (see [`EnvelopeStore::append_envelopes`]):
/// each (dossier, writer)'s first counter in the batch, and the membership entries each
/// dossier's envelopes were checked against.
pub(crate) struct AppendChecks {
    pub first_counters: BTreeMap<(DossierId, MemberKey), u64>,
    pub members_seen: BTreeMap<DossierId, u64>,
}

impl AppendChecks {
    pub(crate) fn of(batch: &[NewEnvelope]) -> AppendChecks {
        let mut checks = AppendChecks {
            first_counters: BTreeMap::new(),
            members_seen: BTreeMap::new(),
        };
        for e in batch {
            let first = checks
                .first_counters
                .entry((e.dossier, e.writer))
                .or_insert(e.counter);
            *first = (*first).min(e.counter);
            checks.members_seen.insert(e.dossier, e.members_seen);
        }
        checks
    }

    /// The dossiers whose stored state (each writer's last counter, the count of membership
    /// entries, as `stored_last` and `stored_members` read them in the transaction) is not
    /// what the batch was checked against.
    pub(crate) fn stale<E>(
        &self,
        mut stored_last: impl FnMut(&DossierId, &MemberKey) -> Result<u64, E>,
        mut stored_members: impl FnMut(&DossierId) -> Result<u64, E>,
    ) -> Result<Vec<DossierId>, E> {
        let mut stale = std::collections::BTreeSet::new();
        for ((dossier, writer), first) in &self.first_counters {
            if stored_last(dossier, writer)? + 1 != *first {
                stale.insert(*dossier);
            }
        }
        for (dossier, seen) in &self.members_seen {
            if stored_members(dossier)? != *seen {
                stale.insert(*dossier);
            }
        }
        Ok(stale.into_iter().collect())
    }
}

/// Each (dossier, writer, channel)'s highest counter in a batch: what an append raises the
/// writers' last counters to, in the same transaction.
pub(crate) fn highest_counters(
    batch: &[NewEnvelope],
) -> BTreeMap<(DossierId, MemberKey, i64), u64> {
    let mut last: BTreeMap<(DossierId, MemberKey, i64), u64> = BTreeMap::new();
    for e in batch {
        let c = last
            .entry((e.dossier, e.writer, e.channel as i64))
            .or_default();
        *c = (*c).max(e.counter);
    }
    last
}

/// A snapshot's covers: each writer, then its counter big-endian.
pub(crate) fn encode_covers(covers: &BTreeMap<MemberKey, u64>) -> Vec<u8> {
    let mut out = Vec::with_capacity(covers.len() * 40);
    for (w, c) in covers {
        out.extend_from_slice(w);
        out.extend_from_slice(&c.to_be_bytes());
    }
    out
}

pub(crate) fn decode_covers(bytes: &[u8]) -> BTreeMap<MemberKey, u64> {
    bytes
        .chunks_exact(40)
        .map(|c| {
            (
                c[..32].try_into().unwrap(),
                u64::from_be_bytes(c[32..].try_into().unwrap()),
            )
        })
        .collect()
}

#[cfg(test)]
mod conformance;
