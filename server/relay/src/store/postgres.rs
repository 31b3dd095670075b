//! The Postgres store: the same traits as SQLite's, for relays that keep their data in a
//! database server, possibly several relay nodes on one database. A write connection and a
//! read connection (the synchronous client: the store is only called off the async
//! runtime); its schema brought up by numbered migrations, the version in `schema_version`.
//!
//! Envelope order. SQLite numbers envelopes with one global `arrival` (AUTOINCREMENT), and a
//! catch-up pages through a dossier by it. A global sequence would not do here: a number is
//! taken when a transaction inserts, the row is seen when it commits, and two transactions
//! commit in either order, so a reader could page past 7 (committed) while 6 is not yet, and
//! never see 6. Every query on `arrival` is within one dossier, so each dossier numbers its
//! own envelopes: `dossier_heads` holds its next number, taken by an upsert ... RETURNING in
//! the append's transaction, whose row lock holds until that transaction ends. A dossier's
//! appends therefore commit one after the other, in arrival order, and a reader that sees an
//! arrival sees every smaller one.
//!
//! Concurrency. SQLite's writes are serial (one process, one writer). Here several nodes may
//! write at once, each transaction READ COMMITTED. Single-statement writes and upserts are
//! safe as they are; the operations that read and then write, or replace a set of rows (a
//! piece against the quota, the active snapshot, a dossier's members and reminders), first
//! take a per-dossier advisory lock, so they run one at a time per dossier, as on SQLite.
//!
//! Migrations. Numbered like SQLite's; each runs in its own transaction with the version it
//! reaches, under a transaction-level advisory lock, so relay nodes starting together on one
//! database migrate it once. Version 1 is the whole schema SQLite reaches in its three.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use ::postgres::fallible_iterator::FallibleIterator;
use ::postgres::types::ToSql;
use ::postgres::{Client, Config, GenericClient, NoTls, Row, Statement, Transaction};
use livret_shared::envelope::DossierId;
use livret_shared::evidence::BlobId;
use livret_shared::jury::JuryGrant;
use livret_shared::keys::MemberKey;

use super::objects::{ObjectPieces, piece_name};
use super::*;

/// Rows and bytes of envelopes read under the read lock at once (see `envelopes_since`).
const PAGE_ROWS: i64 = 1024;
const PAGE_BYTES: usize = 4 * 1024 * 1024;

/// Envelope bytes one INSERT statement carries at most (see `append_envelopes`).
const INSERT_BYTES: usize = 64 * 1024 * 1024;

/// The schema this build writes: `schema_version` counts the migrations applied.
const SCHEMA_VERSION: i64 = 5;

/// The advisory lock migrations hold (two int4 keys, "Livr" "et": a key space apart from the
/// dossiers' single bigint keys, see [`lock_dossier`]).
const MIGRATION_LOCK: (i32, i32) = (0x4c69_7672, 0x6574);

type Statements = HashMap<&'static str, Statement>;

/// A connection and the statements prepared on it.
struct Conn {
    client: Client,
    statements: Statements,
}

/// A transaction on a [`Conn`], with the connection's prepared statements.
struct Tx<'a> {
    tx: Transaction<'a>,
    statements: &'a mut Statements,
}

impl Conn {
    fn open(config: &Config) -> Result<Conn, StoreError> {
        let mut client = config.connect(NoTls)?;
        // The transactions here are written for READ COMMITTED (a wait on a dossier's lock
        // is followed by reads that see what the holder committed), whatever the
        // database's default.
        client.batch_execute("SET default_transaction_isolation = 'read committed'")?;
        // A commit is durable before the relay acknowledges it (SQLite: synchronous=FULL),
        // even on a server whose default is not to wait for the disk; a stronger setting
        // (waiting for standbys) stays.
        let synchronous: String = client
            .query_one("SHOW synchronous_commit", &[])?
            .try_get(0)?;
        if synchronous == "off" {
            client.batch_execute("SET synchronous_commit = on")?;
        }
        Ok(Conn {
            client,
            statements: HashMap::new(),
        })
    }

    fn transaction(&mut self) -> Result<Tx<'_>, StoreError> {
        Ok(Tx {
            tx: self.client.transaction()?,
            statements: &mut self.statements,
        })
    }
}

impl Tx<'_> {
    fn commit(self) -> Result<(), StoreError> {
        Ok(self.tx.commit()?)
    }
}

/// Queries given by their text, each prepared once per connection (SQLite's
/// `prepare_cached`): a query given as bare text is prepared anew each time, one more round
/// trip to the server.
trait Prepared {
    type Client: GenericClient;

    fn parts(&mut self) -> (&mut Self::Client, &mut Statements);

    fn prepared(&mut self, sql: &'static str) -> Result<Statement, ::postgres::Error> {
        let (client, statements) = self.parts();
        if let Some(statement) = statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = client.prepare(sql)?;
        statements.insert(sql, statement.clone());
        Ok(statement)
    }

    fn execute(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, ::postgres::Error> {
        let statement = self.prepared(sql)?;
        self.parts().0.execute(&statement, params)
    }

    fn query(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, ::postgres::Error> {
        let statement = self.prepared(sql)?;
        self.parts().0.query(&statement, params)
    }

    fn query_one(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Row, ::postgres::Error> {
        let statement = self.prepared(sql)?;
        self.parts().0.query_one(&statement, params)
    }

    fn query_opt(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, ::postgres::Error> {
        let statement = self.prepared(sql)?;
        self.parts().0.query_opt(&statement, params)
    }
}

impl Prepared for Conn {
    type Client = Client;

    fn parts(&mut self) -> (&mut Client, &mut Statements) {
        (&mut self.client, &mut self.statements)
    }
}

impl<'a> Prepared for Tx<'a> {
    type Client = Transaction<'a>;

    fn parts(&mut self) -> (&mut Transaction<'a>, &mut Statements) {
        (&mut self.tx, self.statements)
    }
}

pub struct PgStore {
    /// Where to connect again when a connection is lost.
    config: Config,
    /// Writes go through one connection (the appender is single-threaded anyway); other
    /// relay nodes on the database have their own (see the module's comment on concurrency).
    write: Mutex<Conn>,
    /// Reads use their own connection, beside a write.
    read: Mutex<Conn>,
    /// Where evidence pieces go, when not in the database ([`PgStore::keep_pieces_in`]).
    objects: Option<ObjectPieces>,
}

impl PgStore {
    /// Connects to the database at `url` (a `postgres://` URL or `key=value` settings, no
    /// TLS) and brings its schema to this build's version.
    /// Relay nodes may share the database: each checks what it keeps in memory again in
    /// the transactions that rely on it (see `EnvelopeStore::append_envelopes`).
    pub fn connect(url: &str) -> Result<PgStore, StoreError> {
        let config = PgStore::config(url)?;
        let mut write = Conn::open(&config)?;
        migrate(&mut write.client)?;
        let read = Conn::open(&config)?;
        Ok(PgStore {
            config,
            write: Mutex::new(write),
            read: Mutex::new(read),
            objects: None,
        })
    }

    /// Keeps the evidence pieces stored from now on in object storage; those stored in the
    /// database before stay there, readable.
    pub fn keep_pieces_in(mut self, objects: ObjectPieces) -> PgStore {
        self.objects = Some(objects);
        self
    }

    /// The connection settings of `url`, with what this relay's connections need.
    pub(crate) fn config(url: &str) -> Result<Config, StoreError> {
        let mut config: Config = url.parse()?;
        if config.get_application_name().is_none() {
            // What the server's activity views and logs name these connections.
            config.application_name("livret-relay");
        }
        // Bounded waits unless the URL says otherwise: a server that does not answer fails
        // the call (the client is told to retry) instead of holding the store's lock; a
        // half-open connection is found by keepalives instead of hanging until the kernel
        // gives up.
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(std::time::Duration::from_secs(10));
        }
        config.keepalives(true);
        if config.get_keepalives_idle() == std::time::Duration::from_secs(2 * 60 * 60) {
            config.keepalives_idle(std::time::Duration::from_secs(60));
        }
        Ok(config)
    }

    /// Locks a connection, made again if it was lost: a client whose connection dropped (the
    /// server restarted, the network cut) never recovers, so without this one failure would
    /// fail every later call. The calls that meet the loss fail (the server's last
    /// message, then the closed socket); the next one reconnects.
    fn lock<'a>(&self, conn: &'a Mutex<Conn>) -> Result<MutexGuard<'a, Conn>, StoreError> {
        super::assert_off_async_runtime();
        let mut guard = conn.lock().expect("store lock");
        if guard.client.is_closed() {
            *guard = Conn::open(&self.config)?;
        }
        Ok(guard)
    }

    fn reader(&self) -> Result<MutexGuard<'_, Conn>, StoreError> {
        self.lock(&self.read)
    }

    fn writer(&self) -> Result<MutexGuard<'_, Conn>, StoreError> {
        self.lock(&self.write)
    }

    /// Where a catch-up after `since` starts: the earliest arrival among each writer's
    /// envelopes past what the client has (all of a writer it does not name). `None`: there
    /// is nothing new. A device coming back after a while reads its tail, not the dossier's
    /// whole history. One query (SQLite's asks per writer): each writer's earliest arrival
    /// past its counter in `since`, found through the (dossier, writer, counter) index.
    fn first_arrival_after(
        &self,
        dossier: &DossierId,
        since: &BTreeMap<MemberKey, u64>,
    ) -> Result<Option<i64>, StoreError> {
        let writers: Vec<&[u8]> = since.keys().map(|w| &w[..]).collect();
        let counters: Vec<i64> = since.values().map(|&c| c as i64).collect();
        let mut conn = self.reader()?;
        let row = conn.query_one(
            "SELECT MIN(first.arrival) FROM (SELECT DISTINCT writer FROM counters
                                              WHERE dossier = $1) w
             CROSS JOIN LATERAL (
                 SELECT MIN(e.arrival) AS arrival FROM envelopes e
                 WHERE e.dossier = $1 AND e.writer = w.writer
                   AND e.counter > COALESCE(
                       (SELECT has.counter FROM UNNEST($2::BYTEA[], $3::BIGINT[])
                            AS has (writer, counter)
                        WHERE has.writer = w.writer),
                       0)
             ) first",
            &[&&dossier.0[..], &writers, &counters],
        )?;
        Ok(row.try_get(0)?)
    }
}

/// Brings the database to [`SCHEMA_VERSION`], one numbered migration at a time, each in
/// its own transaction with the version it reaches (a crash leaves it before or after).
/// Each transaction first takes the migration lock, then reads the version: a node that
/// waited for another's migration sees the version it reached and does not run it again.
fn migrate(client: &mut Client) -> Result<(), StoreError> {
    migrate_to(client, SCHEMA_VERSION)
}

/// [`migrate`] up to `target` only (tests make a database of an earlier version with it).
fn migrate_to(client: &mut Client, target: i64) -> Result<(), StoreError> {
    loop {
        let mut tx = client.transaction()?;
        tx.execute(
            "SELECT pg_advisory_xact_lock($1, $2)",
            &[&MIGRATION_LOCK.0, &MIGRATION_LOCK.1],
        )?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL);
             INSERT INTO schema_version (version)
                 SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM schema_version);",
        )?;
        let version: i64 = tx
            .query_one("SELECT version FROM schema_version", &[])?
            .try_get(0)?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::Newer {
                found: version,
                known: SCHEMA_VERSION,
            });
        }
        if version >= target {
            tx.commit()?;
            return Ok(());
        }
        let next = version + 1;
        match next {
            1 => migration_1(&mut tx)?,
            2 => migration_2(&mut tx)?,
            3 => migration_3(&mut tx)?,
            4 => migration_4(&mut tx)?,
            5 => migration_5(&mut tx)?,
            _ => unreachable!("one migration per version"),
        }
        tx.execute("UPDATE schema_version SET version = $1", &[&next])?;
        tx.commit()?;
    }
}

/// The whole schema of SQLite's three migrations (its channel, counters and uploader
/// included), with the envelopes numbered per dossier (see the module's comment).
fn migration_1(tx: &mut Transaction<'_>) -> Result<(), StoreError> {
    tx.batch_execute(
        "CREATE TABLE dossiers (
             id BYTEA PRIMARY KEY
         );
         CREATE TABLE membership (
             dossier BYTEA NOT NULL,
             seq BIGINT NOT NULL,
             entry BYTEA NOT NULL,
             PRIMARY KEY (dossier, seq)
         );
         CREATE TABLE blobs (
             dossier BYTEA NOT NULL,
             blob BYTEA NOT NULL,
             stored BIGINT NOT NULL,
             bytes BIGINT NOT NULL,
             complete BOOLEAN NOT NULL,
             -- The device that stored the first piece; NULL: none recorded, the next
             -- device to add a piece has the file (see EvidenceStore::put_piece).
             uploader BYTEA,
             PRIMARY KEY (dossier, blob)
         );
         CREATE TABLE pieces (
             dossier BYTEA NOT NULL,
             blob BYTEA NOT NULL,
             idx BIGINT NOT NULL,
             body BYTEA NOT NULL,
             PRIMARY KEY (dossier, blob, idx)
         );
         CREATE TABLE members (
             member BYTEA NOT NULL,
             dossier BYTEA NOT NULL,
             PRIMARY KEY (member, dossier)
         );
         -- A dossier's members are replaced whole at each membership entry.
         CREATE INDEX members_by_dossier ON members (dossier);
         -- The next arrival number of each dossier's envelopes; its row lock orders a
         -- dossier's appends (see the module's comment).
         CREATE TABLE dossier_heads (
             dossier BYTEA PRIMARY KEY,
             next_arrival BIGINT NOT NULL
         );
         -- No index on pruned_at: the purge runs once at start, and an index on it would
         -- make every pruning update a non-HOT one.
         CREATE TABLE envelopes (
             dossier BYTEA NOT NULL,
             arrival BIGINT NOT NULL,
             writer BYTEA NOT NULL,
             counter BIGINT NOT NULL,
             -- 0 dossier, 1 review, 2 release.
             channel BIGINT NOT NULL,
             body BYTEA NOT NULL,
             pruned_at BIGINT,
             PRIMARY KEY (dossier, arrival),
             UNIQUE (dossier, writer, counter)
         );
         -- Each writer's last counter per channel, kept apart from the envelopes, which
         -- snapshots prune and the purge deletes.
         CREATE TABLE counters (
             dossier BYTEA NOT NULL,
             writer BYTEA NOT NULL,
             channel BIGINT NOT NULL,
             last BIGINT NOT NULL,
             PRIMARY KEY (dossier, writer, channel)
         );
         -- The jury key of each epoch (its id: the first given wins) and its grants,
         -- each sealed to one juror.
         CREATE TABLE jury_keys (
             dossier BYTEA NOT NULL,
             epoch BIGINT NOT NULL,
             key_id BYTEA NOT NULL,
             PRIMARY KEY (dossier, epoch)
         );
         CREATE TABLE jury_grants (
             dossier BYTEA NOT NULL,
             epoch BIGINT NOT NULL,
             recipient BYTEA NOT NULL,
             wrapped BYTEA NOT NULL,
             PRIMARY KEY (dossier, epoch, recipient)
         );
         CREATE TABLE invitations (
             id BYTEA PRIMARY KEY,
             token_hash BYTEA NOT NULL UNIQUE,
             dossier BYTEA NOT NULL,
             role BIGINT NOT NULL,
             inviter BYTEA NOT NULL,
             expires BIGINT NOT NULL,
             answer TEXT
         );
         CREATE INDEX invitations_by_dossier ON invitations (dossier);
         -- Queued reminder mails by dossier, so a new jury date replaces them.
         CREATE TABLE reminders (
             mail BIGINT PRIMARY KEY,
             dossier BYTEA NOT NULL
         );
         CREATE INDEX reminders_by_dossier ON reminders (dossier);
         -- The last reminder sent at once per dossier (setting them again the same day
         -- must not mail again).
         CREATE TABLE reminders_at_once (
             dossier BYTEA PRIMARY KEY,
             at BIGINT NOT NULL
         );
         -- Which queued reminder is one sent at once (recorded above once it went out).
         CREATE TABLE reminders_pending_at_once (
             mail BIGINT PRIMARY KEY,
             dossier BYTEA NOT NULL
         );
         -- Ids only, not an order anyone pages by: a sequence's gaps and commit order
         -- do not matter here.
         CREATE TABLE mail_queue (
             id BIGSERIAL PRIMARY KEY,
             recipient TEXT NOT NULL,
             subject TEXT NOT NULL,
             body TEXT NOT NULL,
             attempts BIGINT NOT NULL DEFAULT 0,
             next_attempt BIGINT NOT NULL
         );
         CREATE TABLE snapshots (
             dossier BYTEA NOT NULL,
             id BYTEA NOT NULL,
             body BYTEA NOT NULL,
             covers BYTEA NOT NULL,
             created BIGINT NOT NULL,
             active BOOLEAN NOT NULL,
             PRIMARY KEY (dossier, id)
         );
         -- Ciphertext does not compress: stored out of line as it is, without the server
         -- trying to compress every large body first.
         ALTER TABLE envelopes ALTER COLUMN body SET STORAGE EXTERNAL;
         ALTER TABLE pieces ALTER COLUMN body SET STORAGE EXTERNAL;
         ALTER TABLE snapshots ALTER COLUMN body SET STORAGE EXTERNAL;",
    )?;
    Ok(())
}

/// Evidence pieces in object storage (`objects.rs`): a row names its object instead of
/// holding its bytes. Rows written before keep their bytes, read as they were.
fn migration_2(tx: &mut Transaction<'_>) -> Result<(), StoreError> {
    tx.batch_execute(
        "ALTER TABLE pieces ALTER COLUMN body DROP NOT NULL;
         ALTER TABLE pieces ADD COLUMN object TEXT;
         ALTER TABLE pieces ADD CONSTRAINT pieces_somewhere
             CHECK (body IS NOT NULL OR object IS NOT NULL);",
    )?;
    Ok(())
}

/// Each juror's own review key per epoch and its grants (SQLite's migration 4).
fn migration_3(tx: &mut Transaction<'_>) -> Result<(), StoreError> {
    tx.batch_execute(
        "CREATE TABLE juror_keys (
             dossier BYTEA NOT NULL,
             epoch BIGINT NOT NULL,
             granter BYTEA NOT NULL,
             key_id BYTEA NOT NULL,
             PRIMARY KEY (dossier, epoch, granter)
         );
         CREATE TABLE juror_grants (
             dossier BYTEA NOT NULL,
             epoch BIGINT NOT NULL,
             granter BYTEA NOT NULL,
             recipient BYTEA NOT NULL,
             wrapped BYTEA NOT NULL,
             PRIMARY KEY (dossier, epoch, granter, recipient)
         );
         CREATE INDEX juror_grants_by_recipient ON juror_grants (dossier, recipient);",
    )?;
    Ok(())
}

/// Deleted dossiers' tombstones, the dossier each queued mail is about, and what retention
/// needs of each dossier (SQLite's migration 5).
fn migration_4(tx: &mut Transaction<'_>) -> Result<(), StoreError> {
    tx.batch_execute(
        "CREATE TABLE tombstones (
             dossier BYTEA PRIMARY KEY,
             deleted BIGINT NOT NULL,
             notice BYTEA NOT NULL
         );
         ALTER TABLE mail_queue ADD COLUMN dossier BYTEA;
         CREATE INDEX mail_queue_by_dossier ON mail_queue (dossier);
         UPDATE mail_queue SET dossier = r.dossier FROM reminders r WHERE r.mail = mail_queue.id;
         ALTER TABLE dossiers ADD COLUMN active BIGINT NOT NULL DEFAULT 0;
         ALTER TABLE dossiers ADD COLUMN jury BIGINT;
         ALTER TABLE dossiers ADD COLUMN contact TEXT;
         ALTER TABLE dossiers ADD COLUMN warned_ends BIGINT;
         ALTER TABLE dossiers ADD COLUMN warned_days BIGINT;
         ALTER TABLE dossiers ADD COLUMN retain_notice BYTEA;
         ALTER TABLE dossiers ADD COLUMN retain_effective BIGINT;
         -- The dossiers of before: their retention starts with the upgrade, and the
         -- warnings before its end go where their reminders go.
         UPDATE dossiers SET active = FLOOR(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT;
         UPDATE dossiers SET contact = (SELECT m.recipient FROM mail_queue m
                                        JOIN reminders r ON r.mail = m.id
                                        WHERE r.dossier = dossiers.id LIMIT 1);",
    )?;
    let unlinked = tx.query("SELECT id, body FROM mail_queue WHERE dossier IS NULL", &[])?;
    for row in unlinked {
        let (mail, body): (i64, String) = (row.try_get(0)?, row.try_get(1)?);
        let Some(token_hash) = invitation_token_hash(&body) else {
            continue;
        };
        tx.execute(
            "UPDATE mail_queue SET dossier =
                 (SELECT dossier FROM invitations WHERE token_hash = $2)
             WHERE id = $1",
            &[&mail, &&token_hash[..]],
        )?;
    }
    Ok(())
}

/// The jury's date of the dossiers whose reminders an earlier version queued, read from
/// the reminders still waiting (SQLite's migration 6).
fn migration_5(tx: &mut Transaction<'_>) -> Result<(), StoreError> {
    let waiting = tx.query(
        "SELECT r.dossier, m.body FROM reminders r
         JOIN mail_queue m ON m.id = r.mail
         JOIN dossiers d ON d.id = r.dossier
         WHERE d.jury IS NULL",
        &[],
    )?;
    for row in waiting {
        let (dossier, body): (Vec<u8>, String) = (row.try_get(0)?, row.try_get(1)?);
        if let Some(jury_ms) = reminder_jury_ms(&body) {
            tx.execute(
                "UPDATE dossiers SET jury = $2 WHERE id = $1 AND jury IS NULL",
                &[&dossier, &jury_ms],
            )?;
        }
    }
    Ok(())
}

/// A dossier's tombstone, if it was deleted.
fn tombstone(
    conn: &mut impl Prepared,
    dossier: &DossierId,
) -> Result<Option<Tombstone>, StoreError> {
    let row = conn.query_opt(
        "SELECT notice, deleted FROM tombstones WHERE dossier = $1",
        &[&&dossier.0[..]],
    )?;
    Ok(match row {
        Some(r) => Some(Tombstone {
            notice: r.try_get(0)?,
            deleted_ms: r.try_get(1)?,
        }),
        None => None,
    })
}

/// Refuses a write for a deleted dossier: called after [`lock_dossier`], which the deletion
/// takes too, so the write either committed before the deletion (and was erased) or sees it.
fn refuse_if_deleted(tx: &mut Tx<'_>, dossier: &DossierId) -> Result<(), StoreError> {
    match tombstone(tx, dossier)? {
        Some(_) => Err(StoreError::Deleted),
        None => Ok(()),
    }
}

/// Makes the transaction wait for any other holding the same dossier's lock, until it
/// ends: for the operations that read then write, or replace a set of rows, which would
/// otherwise interleave between relay nodes (a quota passed twice, two active snapshots,
/// two lists of members or reminders merged). Always a transaction's first statement, and
/// never more than one per transaction, so these locks cannot deadlock. The key is the
/// dossier id's first 8 bytes: ids are random, and two dossiers sharing a key only wait
/// for each other.
fn lock_dossier(tx: &mut Tx<'_>, dossier: &DossierId) -> Result<(), StoreError> {
    let key = i64::from_be_bytes(dossier.0[..8].try_into().expect("16-byte ids"));
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&key])?;
    Ok(())
}

/// Raises a writer's last counter on a channel to `last` (never lowers it).
fn raise_counter(
    tx: &mut Tx<'_>,
    dossier: &[u8],
    writer: &[u8],
    channel: i64,
    last: u64,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO counters (dossier, writer, channel, last) VALUES ($1, $2, $3, $4)
         ON CONFLICT (dossier, writer, channel)
         DO UPDATE SET last = GREATEST(counters.last, excluded.last)",
        &[&dossier, &writer, &channel, &(last as i64)],
    )?;
    Ok(())
}

/// Replaces a dossier's members (under its lock, taken by the caller).
fn replace_members(
    tx: &mut Tx<'_>,
    dossier: &DossierId,
    members: &[MemberKey],
) -> Result<(), StoreError> {
    tx.execute("DELETE FROM members WHERE dossier = $1", &[&&dossier.0[..]])?;
    let members: Vec<&[u8]> = members.iter().map(|m| &m[..]).collect();
    tx.execute(
        "INSERT INTO members (member, dossier) SELECT UNNEST($1::BYTEA[]), $2
         ON CONFLICT DO NOTHING",
        &[&members, &&dossier.0[..]],
    )?;
    Ok(())
}

fn insert_mail(
    tx: &mut Tx<'_>,
    dossier: &DossierId,
    mail: &OutgoingMail,
    now: i64,
) -> Result<i64, StoreError> {
    let row = tx.query_one(
        "INSERT INTO mail_queue (recipient, subject, body, attempts, next_attempt, dossier)
         VALUES ($1, $2, $3, 0, $4, $5) RETURNING id",
        &[&mail.to, &mail.subject, &mail.body, &now, &&dossier.0[..]],
    )?;
    Ok(row.try_get(0)?)
}

/// An `invitations` row; `None` when it does not read back (a role or id this build does not
/// know), so one odd row does not hide the others.
fn invitation_row(r: &Row) -> Result<Option<Invitation>, StoreError> {
    let (Ok(id), Ok(token_hash), Ok(dossier), Ok(inviter), Some(role)) = (
        <[u8; 16]>::try_from(r.try_get::<_, &[u8]>(0)?),
        <[u8; 32]>::try_from(r.try_get::<_, &[u8]>(1)?),
        <[u8; 16]>::try_from(r.try_get::<_, &[u8]>(2)?),
        <MemberKey>::try_from(r.try_get::<_, &[u8]>(4)?),
        role_from(r.try_get(3)?),
    ) else {
        return Ok(None);
    };
    Ok(Some(Invitation {
        id,
        token_hash,
        dossier: DossierId(dossier),
        role,
        inviter,
        expires: r.try_get(5)?,
        answer: r.try_get(6)?,
    }))
}

impl Store for PgStore {}

impl DossierStore for PgStore {
    fn create_dossier(
        &self,
        dossier: &DossierId,
        entry: &[u8],
        members: &[MemberKey],
    ) -> Result<(), StoreError> {
        let mut conn = self.writer()?;
        let mut tx = conn.transaction()?;
        lock_dossier(&mut tx, dossier)?;
        refuse_if_deleted(&mut tx, dossier)?;
        let inserted = tx.execute(
            "INSERT INTO dossiers (id) VALUES ($1) ON CONFLICT DO NOTHING",
            &[&&dossier.0[..]],
        )?;
        if inserted == 0 {
            return Err(StoreError::Exists);
        }
        tx.execute(
            "INSERT INTO membership (dossier, seq, entry) VALUES ($1, 0, $2)",
            &[&&dossier.0[..], &entry],
        )?;
        replace_members(&mut tx, dossier, members)?;
        tx.commit()
    }

    fn append_membership(
        &self,
        dossier: &DossierId,
        seq: u64,
        entry: &[u8],
        members: &[MemberKey],
    ) -> Result<(), StoreError> {
        let mut conn = self.writer()?;
        let mut tx = conn.transaction()?;
        lock_dossier(&mut tx, dossier)?;
        refuse_if_deleted(&mut tx, dossier)?;
        // The dossier's order too (the row appends lock, see `append_envelopes`): an append
        // checked against the members before this entry commits before it or sees it.
        tx.execute(
            "INSERT INTO dossier_heads (dossier, next_arrival) VALUES ($1, 1)
             ON CONFLICT (dossier) DO UPDATE SET next_arrival = dossier_heads.next_arrival",
            &[&&dossier.0[..]],
        )?;
        tx.execute(
            "INSERT INTO membership (dossier, seq, entry) VALUES ($1, $2, $3)",
            &[&&dossier.0[..], &(seq as i64), &entry],
        )?;
        replace_members(&mut tx, dossier, members)?;
        tx.commit()
    }

    fn membership_log(&self, dossier: &DossierId) -> Result<Vec<Vec<u8>>, StoreError> {
        let mut conn = self.reader()?;
        conn.query(
            "SELECT entry FROM membership WHERE dossier = $1 ORDER BY seq",
            &[&&dossier.0[..]],
        )?
        .iter()
        .map(|r| Ok(r.try_get(0)?))
        .collect()
    }

    fn dossiers_of(&self, member: &MemberKey) -> Result<Vec<DossierId>, StoreError> {
        let mut conn = self.reader()?;
        let rows = conn.query(
            "SELECT dossier FROM members WHERE member = $1 ORDER BY dossier",
            &[&&member[..]],
        )?;
        let mut out = Vec::new();
        for row in rows {
            if let Ok(id) = <[u8; 16]>::try_from(row.try_get::<_, &[u8]>(0)?) {
                out.push(DossierId(id));
            }
        }
        Ok(out)
    }

    fn delete_dossier(
        &self,
        dossier: &DossierId,
        ending: Ending<'_>,
        now: i64,
    ) -> Result<Option<Tombstone>, StoreError> {
        let mut conn = self.writer()?;
        let mut tx = conn.transaction()?;
        lock_dossier(&mut tx, dossier)?;
        let kept = match tombstone(&mut tx, dossier)? {
            Some(first) => first,
            None => {
                let notice: Vec<u8> = match ending {
                    Ending::Notice(notice) => notice.to_vec(),
                    Ending::Expired { retention_ms } => {
                        // The row locked: a renewal waits for this, or this sees it.
                        let row = tx.query_opt(
                            "SELECT id, active, jury, contact, warned_ends, warned_days,
                                    retain_notice
                             FROM dossiers WHERE id = $1 FOR UPDATE",
                            &[&&dossier.0[..]],
                        )?;
                        let due = match row {
                            Some(r) => retention_row(&r, retention_ms)?,
                            None => None,
                        };
                        match due {
                            Some(r) if r.ends_ms <= now => r.notice.unwrap_or_default(),
                            _ => return Ok(None),
                        }
                    }
                };
                // The dossier's order first, as an append takes it (`append_envelopes`): an
                // append that got it before commits before, one after finds no members.
                tx.execute(
                    "INSERT INTO dossier_heads (dossier, next_arrival) VALUES ($1, 1)
                     ON CONFLICT (dossier) DO UPDATE SET next_arrival = dossier_heads.next_arrival",
                    &[&&dossier.0[..]],
                )?;
                let tables = DOSSIER_TABLES.iter().chain([&("dossier_heads", "dossier")]);
                for (table, column) in tables {
                    let sql = format!("DELETE FROM {table} WHERE {column} = $1");
                    tx.parts().0.execute(sql.as_str(), &[&&dossier.0[..]])?;
                }
                tx.execute(
                    "INSERT INTO tombstones (dossier, deleted, notice) VALUES ($1, $2, $3)",
                    &[&&dossier.0[..], &now, &notice],
                )?;
                Tombstone {
                    notice,
                    deleted_ms: now,
                }
            }
        };
        tx.commit()?;
        // The bucket after the commit: erased before, a failed transaction would have left
        // the dossier without its evidence. The deletion stands either way (its followers
        // must hear of it); what fails here a replayed deletion erases.
        if let Some(objects) = &self.objects
            && let Err(e) = objects.delete_dossier(dossier)
        {
            tracing::error!("a deleted dossier's evidence left in the bucket: {e}");
        }
        Ok(Some(kept))
    }

    fn tombstone(&self, dossier: &DossierId) -> Result<Option<Tombstone>, StoreError> {
        tombstone(&mut *self.reader()?, dossier)
    }
}

impl EnvelopeStore for PgStore {
    fn last_counter(&self, dossier: &DossierId, writer: &MemberKey) -> Result<u64, StoreError> {
        let mut conn = self.reader()?;
        // Kept apart from the envelopes, which snapshots prune and the purge deletes.
        let last: Option<i64> = conn
            .query_one(
                "SELECT MAX(last) FROM counters WHERE dossier = $1 AND writer = $2",
                &[&&dossier.0[..], &&writer[..]],
            )?
            .try_get(0)?;
        Ok(last.unwrap_or(0) as u64)
    }

    fn envelope_at(
        &self,
        dossier: &DossierId,
        writer: &MemberKey,
        counter: u64,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let mut conn = self.reader()?;
        let row = conn.query_opt(
            "SELECT body FROM envelopes WHERE dossier = $1 AND writer = $2 AND counter = $3",
            &[&&dossier.0[..], &&writer[..], &(counter as i64)],
        )?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    fn append_envelopes(&self, batch: &[NewEnvelope]) -> Result<Vec<Arrival>, StoreError> {
        let mut conn = self.writer()?;
        let mut tx = conn.transaction()?;
        // Each dossier's arrival numbers, taken in dossier order: every appender locks the
        // heads in the same order, so two batches over the same dossiers wait for each
        // other instead of deadlocking. The locks hold until commit (the module's comment).
        let mut taken: BTreeMap<DossierId, i64> = BTreeMap::new();
        for e in batch {
            *taken.entry(e.dossier).or_default() += 1;
        }
        let mut next: BTreeMap<DossierId, i64> = BTreeMap::new();
        for (dossier, count) in taken {
            let first: i64 = tx
                .query_one(
                    "INSERT INTO dossier_heads (dossier, next_arrival) VALUES ($1, 1 + $2::BIGINT)
                     ON CONFLICT (dossier)
                     DO UPDATE SET next_arrival = dossier_heads.next_arrival + $2::BIGINT
                     RETURNING next_arrival - $2::BIGINT",
                    &[&&dossier.0[..], &count],
                )?
                .try_get(0)?;
            next.insert(dossier, first);
        }
        // Each dossier's order is ours until commit: check again what the batch was checked
        // against (another node may have appended for a writer, or changed the members).
        let checks = AppendChecks::of(batch);
        let (pairs_dossiers, pairs_writers): (Vec<&[u8]>, Vec<&[u8]>) = checks
            .first_counters
            .keys()
            .map(|(d, w)| (&d.0[..], &w[..]))
            .unzip();
        let mut stored_last: HashMap<(Vec<u8>, Vec<u8>), u64> = HashMap::new();
        for row in tx.query(
            "SELECT t.d, t.w, COALESCE((SELECT MAX(c.last) FROM counters c
                                        WHERE c.dossier = t.d AND c.writer = t.w), 0)
             FROM UNNEST($1::BYTEA[], $2::BYTEA[]) AS t (d, w)",
            &[&pairs_dossiers, &pairs_writers],
        )? {
            let last: i64 = row.try_get(2)?;
            stored_last.insert((row.try_get(0)?, row.try_get(1)?), last as u64);
        }
        let dossiers: Vec<&[u8]> = checks.members_seen.keys().map(|d| &d.0[..]).collect();
        let mut stored_members: HashMap<Vec<u8>, u64> = HashMap::new();
        for row in tx.query(
            "SELECT t.d, (SELECT COUNT(*) FROM membership m WHERE m.dossier = t.d)
             FROM UNNEST($1::BYTEA[]) AS t (d)",
            &[&dossiers],
        )? {
            let count: i64 = row.try_get(1)?;
            stored_members.insert(row.try_get(0)?, count as u64);
        }
        let stale = checks.stale(
            |d, w| Ok::<_, StoreError>(stored_last[&(d.0.to_vec(), w.to_vec())]),
            |d| Ok(stored_members[&d.0.to_vec()]),
        )?;
        if !stale.is_empty() {
            return Err(StoreError::Stale(stale));
        }
        // Then the whole batch in one statement, each envelope its arrival in batch order
        // (one round trip, not one per envelope). A (dossier, writer, counter) already
        // stored fails it, and the transaction with it, as on SQLite.
        // A statement carries at most INSERT_BYTES of bodies: PostgreSQL refuses a message
        // past 1 GB, and a batch of large envelopes (512 of up to 5 MiB) must not fail whole.
        let mut arrivals = Vec::with_capacity(batch.len());
        for e in batch {
            let arrival = next.get_mut(&e.dossier).expect("counted above");
            arrivals.push(*arrival);
            *arrival += 1;
        }
        let mut start = 0;
        while start < batch.len() {
            let mut end = start;
            let mut bytes = 0;
            while end < batch.len()
                && (end == start || bytes + batch[end].bytes.len() <= INSERT_BYTES)
            {
                bytes += batch[end].bytes.len();
                end += 1;
            }
            let chunk = &batch[start..end];
            let dossiers: Vec<&[u8]> = chunk.iter().map(|e| &e.dossier.0[..]).collect();
            let writers: Vec<&[u8]> = chunk.iter().map(|e| &e.writer[..]).collect();
            let counters: Vec<i64> = chunk.iter().map(|e| e.counter as i64).collect();
            let channels: Vec<i64> = chunk.iter().map(|e| e.channel as i64).collect();
            let bodies: Vec<&[u8]> = chunk.iter().map(|e| &e.bytes[..]).collect();
            tx.execute(
                "INSERT INTO envelopes (dossier, arrival, writer, counter, channel, body)
                 SELECT * FROM UNNEST($1::BYTEA[], $2::BIGINT[], $3::BYTEA[], $4::BIGINT[],
                                      $5::BIGINT[], $6::BYTEA[])",
                &[
                    &dossiers,
                    &&arrivals[start..end],
                    &writers,
                    &counters,
                    &channels,
                    &bodies,
                ],
            )?;
            start = end;
        }
        // In the same transaction: the counters never lag or lead the stored envelopes.
        for ((dossier, writer, channel), counter) in highest_counters(batch) {
            raise_counter(&mut tx, &dossier.0, &writer, channel, counter)?;
        }
        tx.commit()?;
        Ok(arrivals)
    }

    fn envelopes_after(
        &self,
        dossier: &DossierId,
        after: Arrival,
        max_rows: usize,
        max_bytes: usize,
    ) -> Result<Vec<Arrived>, StoreError> {
        let mut conn = self.reader()?;
        // Cut at `max_bytes` by the server, as `envelopes_since` pages are.
        let rows = conn.query(
            "SELECT arrival, writer, body FROM (
                 SELECT arrival, writer, body,
                        SUM(octet_length(body)) OVER (ORDER BY arrival) AS upto,
                        octet_length(body) AS size
                 FROM envelopes WHERE dossier = $1 AND arrival > $2
                 ORDER BY arrival LIMIT $3
             ) page
             WHERE upto <= $4 OR upto = size ORDER BY arrival",
            &[
                &&dossier.0[..],
                &after,
                &(max_rows as i64),
                &(max_bytes as i64),
            ],
        )?;
        rows.iter()
            .map(|r| {
                Ok(Arrived {
                    arrival: r.try_get(0)?,
                    writer: MemberKey::try_from(r.try_get::<_, &[u8]>(1)?).unwrap_or_default(),
                    bytes: r.try_get(2)?,
                })
            })
            .collect()
    }

    fn last_arrivals(
        &self,
        dossiers: &[DossierId],
    ) -> Result<Vec<(DossierId, Arrival)>, StoreError> {
        let ids: Vec<&[u8]> = dossiers.iter().map(|d| &d.0[..]).collect();
        let mut conn = self.reader()?;
        let rows = conn.query(
            "SELECT dossier, next_arrival - 1 FROM dossier_heads
             WHERE dossier = ANY($1) AND next_arrival > 1",
            &[&ids],
        )?;
        let mut out = Vec::new();
        for r in rows {
            if let Ok(id) = <[u8; 16]>::try_from(r.try_get::<_, &[u8]>(0)?) {
                out.push((DossierId(id), r.try_get(1)?));
            }
        }
        Ok(out)
    }

    fn envelopes_since(
        &self,
        dossier: &DossierId,
        since: &BTreeMap<MemberKey, u64>,
        include_pruned: bool,
    ) -> Result<Vec<Vec<u8>>, StoreError> {
        // Page by page, the read lock taken for one page only: a long history does not stop
        // every other reader while it is read. What is committed meanwhile comes in later
        // pages (arrival order: a dossier's appends commit in it) or with the live updates;
        // replicas drop duplicates.
        let mut out = Vec::new();
        let Some(first) = self.first_arrival_after(dossier, since)? else {
            return Ok(out);
        };
        let mut after = first - 1;
        let writers: Vec<&[u8]> = since.keys().map(|w| &w[..]).collect();
        let counters: Vec<i64> = since.values().map(|&c| c as i64).collect();
        let page_bytes = PAGE_BYTES as i64;
        loop {
            let mut conn = self.reader()?;
            // The server keeps what the client does not want (pruned, or already held) and
            // stops a page at PAGE_BYTES itself (the envelopes before a row come to less
            // than it), so no body crosses the network to be dropped: a history of large
            // envelopes is sent once, not once per page it spans.
            let statement = conn.prepared(
                "SELECT arrival, body FROM (
                     SELECT e.arrival, e.body,
                            SUM(octet_length(e.body)) OVER (ORDER BY e.arrival)
                                - octet_length(e.body) AS before
                     FROM envelopes e
                     WHERE e.dossier = $1 AND e.arrival > $2
                       AND ($4 OR e.pruned_at IS NULL)
                       AND e.counter > COALESCE(
                           (SELECT has.counter FROM UNNEST($5::BYTEA[], $6::BIGINT[])
                                AS has (writer, counter)
                            WHERE has.writer = e.writer),
                           0)
                     ORDER BY e.arrival LIMIT $3
                 ) page
                 WHERE before < $7 ORDER BY arrival",
            )?;
            let params: [&(dyn ToSql + Sync); 7] = [
                &&dossier.0[..],
                &after,
                &PAGE_ROWS,
                &include_pruned,
                &writers,
                &counters,
                &page_bytes,
            ];
            // Row by row as they come, like SQLite's cursor: a page is not held whole.
            let mut rows = conn.client.query_raw(&statement, params)?;
            let mut read = 0;
            while let Some(r) = rows.next()? {
                after = r.try_get(0)?;
                read += 1;
                out.push(r.try_get(1)?);
            }
            if read == 0 {
                return Ok(out);
            }
        }
    }

    fn last_counters(&self, dossier: &DossierId) -> Result<BTreeMap<MemberKey, u64>, StoreError> {
        let mut conn = self.reader()?;
        let rows = conn.query(
            "SELECT writer, last FROM counters WHERE dossier = $1 AND channel = 0",
            &[&&dossier.0[..]],
        )?;
        let mut out = BTreeMap::new();
        for row in rows {
            let (w, c): (&[u8], i64) = (row.try_get(0)?, row.try_get(1)?);
            if let Ok(w) = <MemberKey>::try_from(w) {
                out.insert(w, c as u64);
            }
        }
        Ok(out)
    }
}

impl SnapshotStore for PgStore {
    fn active_snapshot(&self, dossier: &DossierId) -> Result<Option<StoredSnapshot>, StoreError> {
        let mut conn = self.reader()?;
        let Some(row) = conn.query_opt(
            "SELECT id, body, covers FROM snapshots WHERE dossier = $1 AND active",
            &[&&dossier.0[..]],
        )?
        else {
            return Ok(None);
        };
        Ok(Some(StoredSnapshot {
            id: row.try_get::<_, &[u8]>(0)?.try_into().unwrap_or([0; 32]),
            bytes: row.try_get(1)?,
            covers: decode_covers(row.try_get(2)?),
        }))
    }

    fn put_snapshot(
        &self,
        dossier: &DossierId,
        snapshot: &StoredSnapshot,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut conn = self.writer()?;
        let mut tx = conn.transaction()?;
        // Two snapshots put at once on two nodes would each leave theirs active.
        lock_dossier(&mut tx, dossier)?;
        refuse_if_deleted(&mut tx, dossier)?;
        tx.execute(
            "UPDATE snapshots SET active = FALSE WHERE dossier = $1",
            &[&&dossier.0[..]],
        )?;
        tx.execute(
            "INSERT INTO snapshots (dossier, id, body, covers, created, active)
             VALUES ($1, $2, $3, $4, $5, TRUE)",
            &[
                &&dossier.0[..],
                &&snapshot.id[..],
                &snapshot.bytes,
                &encode_covers(&snapshot.covers),
                &now,
            ],
        )?;
        // Written first, pruned after, in the same transaction: never a moment without both.
        for (w, c) in &snapshot.covers {
            tx.execute(
                "UPDATE envelopes SET pruned_at = $4
                 WHERE dossier = $1 AND writer = $2 AND counter <= $3 AND pruned_at IS NULL
                   AND channel = 0",
                &[&&dossier.0[..], &&w[..], &(*c as i64), &now],
            )?;
        }
        tx.commit()
    }

    fn purge(&self, before: i64) -> Result<usize, StoreError> {
        let mut conn = self.writer()?;
        let deleted = conn.execute(
            "DELETE FROM envelopes WHERE pruned_at IS NOT NULL AND pruned_at < $1",
            &[&before],
        )?;
        Ok(deleted as usize)
    }
}

impl JuryKeyStore for PgStore {
    fn put_jury_grants(
        &self,
        dossier: &DossierId,
        epoch: u32,
        granter: &MemberKey,
        key_id: &[u8; 16],
        grants: &[(MemberKey, Vec<u8>)],
    ) -> Result<bool, StoreError> {
        let epoch = i64::from(epoch);
        let mut conn = self.writer()?;
        let mut tx = conn.transaction()?;
        // The dossier's lock for its deletion only (which this must not follow): an insert
        // that meets another's uncommitted key waits for it anyway, and the read after sees
        // whichever was committed first.
        lock_dossier(&mut tx, dossier)?;
        refuse_if_deleted(&mut tx, dossier)?;
        tx.execute(
            "INSERT INTO juror_keys (dossier, epoch, granter, key_id) VALUES ($1, $2, $3, $4)
             ON CONFLICT DO NOTHING",
            &[&&dossier.0[..], &epoch, &&granter[..], &&key_id[..]],
        )?;
        let current: Vec<u8> = tx
            .query_one(
                "SELECT key_id FROM juror_keys WHERE dossier = $1 AND epoch = $2 AND granter = $3",
                &[&&dossier.0[..], &epoch, &&granter[..]],
            )?
            .try_get(0)?;
        if current != key_id[..] {
            return Ok(false);
        }
        for (to, wrapped) in grants {
            tx.execute(
                "INSERT INTO juror_grants (dossier, epoch, granter, recipient, wrapped)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                &[&&dossier.0[..], &epoch, &&granter[..], &&to[..], wrapped],
            )?;
        }
        tx.commit()?;
        Ok(true)
    }

    fn jury_grants(
        &self,
        dossier: &DossierId,
        epoch: u32,
        juror: &MemberKey,
    ) -> Result<JuryKeys, StoreError> {
        let epoch = i64::from(epoch);
        let mut conn = self.reader()?;
        let key_id = conn
            .query_opt(
                "SELECT key_id FROM juror_keys WHERE dossier = $1 AND epoch = $2 AND granter = $3",
                &[&&dossier.0[..], &epoch, &&juror[..]],
            )?
            .map(|r| r.try_get::<_, Vec<u8>>(0))
            .transpose()?
            .and_then(|k| <[u8; 16]>::try_from(k.as_slice()).ok());
        // In recipient order, as SQLite's primary key gives them.
        let granted = conn
            .query(
                "SELECT recipient FROM juror_grants
                 WHERE dossier = $1 AND epoch = $2 AND granter = $3 ORDER BY recipient",
                &[&&dossier.0[..], &epoch, &&juror[..]],
            )?
            .iter()
            .filter_map(|r| {
                r.try_get::<_, &[u8]>(0)
                    .ok()
                    .and_then(|k| <MemberKey>::try_from(k).ok())
            })
            .collect();
        // The shared key's grants of earlier versions first, then each juror's.
        let mine = conn
            .query(
                "(SELECT g.epoch, k.key_id, g.wrapped, 0 AS new, ''::BYTEA AS granter
                  FROM jury_grants g
                  JOIN jury_keys k ON k.dossier = g.dossier AND k.epoch = g.epoch
                  WHERE g.dossier = $1 AND g.recipient = $2)
                 UNION ALL
                 (SELECT g.epoch, k.key_id, g.wrapped, 1 AS new, g.granter FROM juror_grants g
                  JOIN juror_keys k
                      ON k.dossier = g.dossier AND k.epoch = g.epoch AND k.granter = g.granter
                  WHERE g.dossier = $1 AND g.recipient = $2)
                 ORDER BY new, epoch, granter",
                &[&&dossier.0[..], &&juror[..]],
            )?
            .iter()
            .filter_map(|r| {
                let epoch: i64 = r.try_get(0).ok()?;
                let key_id: &[u8] = r.try_get(1).ok()?;
                Some(JuryGrant {
                    epoch: u32::try_from(epoch).ok()?,
                    key_id: key_id.try_into().ok()?,
                    wrapped: r.try_get(2).ok()?,
                })
            })
            .collect();
        Ok(JuryKeys {
            key_id,
            granted,
            mine,
        })
    }
}

impl EvidenceStore for PgStore {
    fn put_piece(
        &self,
        dossier: &DossierId,
        blob: &BlobId,
        device: &MemberKey,
        index: u32,
        bytes: &[u8],
        last: bool,
    ) -> Result<PieceState, StoreError> {
        let mut conn = self.writer()?;
        let mut tx = conn.transaction()?;
        // The file's state and the dossier's quota are read, then written: pieces stored at
        // once on two nodes would both pass them.
        lock_dossier(&mut tx, dossier)?;
        refuse_if_deleted(&mut tx, dossier)?;
        let (stored, complete, uploader): (u32, bool, Option<Vec<u8>>) = match tx.query_opt(
            "SELECT stored, complete, uploader FROM blobs WHERE dossier = $1 AND blob = $2",
            &[&&dossier.0[..], &&blob.0[..]],
        )? {
            Some(r) => (r.try_get::<_, i64>(0)? as u32, r.try_get(1)?, r.try_get(2)?),
            None => (0, false, None),
        };
        if uploader.is_some_and(|u| u != device[..]) {
            return Err(StoreError::NotUploader);
        }
        if index < stored || complete {
            return Ok(PieceState { stored, complete });
        }
        if index != stored {
            return Err(StoreError::OutOfOrder { expected: stored });
        }
        let used: i64 = tx
            .query_one(
                "SELECT COALESCE(SUM(bytes), 0)::BIGINT FROM blobs WHERE dossier = $1",
                &[&&dossier.0[..]],
            )?
            .try_get(0)?;
        if used + bytes.len() as i64 > MAX_DOSSIER_EVIDENCE {
            return Err(StoreError::Full);
        }
        match &self.objects {
            // Written before it is recorded, recorded before it is acknowledged (on commit).
            Some(objects) => {
                let name = piece_name(dossier, blob, index, bytes);
                objects.put(&name, bytes)?;
                tx.execute(
                    "INSERT INTO pieces (dossier, blob, idx, object) VALUES ($1, $2, $3, $4)",
                    &[&&dossier.0[..], &&blob.0[..], &i64::from(index), &name],
                )?;
            }
            None => {
                tx.execute(
                    "INSERT INTO pieces (dossier, blob, idx, body) VALUES ($1, $2, $3, $4)",
                    &[&&dossier.0[..], &&blob.0[..], &i64::from(index), &bytes],
                )?;
            }
        }
        tx.execute(
            "INSERT INTO blobs (dossier, blob, stored, bytes, complete, uploader)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (dossier, blob) DO UPDATE SET
                 stored = excluded.stored, bytes = blobs.bytes + excluded.bytes,
                 complete = excluded.complete,
                 uploader = COALESCE(blobs.uploader, excluded.uploader)",
            &[
                &&dossier.0[..],
                &&blob.0[..],
                &i64::from(index + 1),
                &(bytes.len() as i64),
                &last,
                &&device[..],
            ],
        )?;
        tx.commit()?;
        Ok(PieceState {
            stored: index + 1,
            complete: last,
        })
    }

    fn get_piece(
        &self,
        dossier: &DossierId,
        blob: &BlobId,
        index: u32,
    ) -> Result<Option<(Vec<u8>, bool)>, StoreError> {
        let mut conn = self.reader()?;
        let Some(state) = conn.query_opt(
            "SELECT stored, complete FROM blobs WHERE dossier = $1 AND blob = $2",
            &[&&dossier.0[..], &&blob.0[..]],
        )?
        else {
            return Ok(None);
        };
        let (stored, complete): (i64, bool) = (state.try_get(0)?, state.try_get(1)?);
        let Some(piece) = conn.query_opt(
            "SELECT body, object FROM pieces WHERE dossier = $1 AND blob = $2 AND idx = $3",
            &[&&dossier.0[..], &&blob.0[..], &i64::from(index)],
        )?
        else {
            return Ok(None);
        };
        drop(conn);
        let (body, object): (Option<Vec<u8>>, Option<String>) =
            (piece.try_get(0)?, piece.try_get(1)?);
        let bytes = match (body, object, &self.objects) {
            (Some(body), _, _) => body,
            (None, Some(name), Some(objects)) => objects.get(&name)?,
            (None, Some(_), None) => return Err(StoreError::ObjectsMissing),
            (None, None, _) => return Ok(None),
        };
        Ok(Some((bytes, complete && i64::from(index) + 1 == stored)))
    }

    fn erase_blob(&self, dossier: &DossierId, blob: &BlobId) -> Result<bool, StoreError> {
        let mut conn = self.writer()?;
        let mut tx = conn.transaction()?;
        lock_dossier(&mut tx, dossier)?;
        if tx
            .query_opt(
                "SELECT 1 FROM blobs WHERE dossier = $1 AND blob = $2",
                &[&&dossier.0[..], &&blob.0[..]],
            )?
            .is_none()
        {
            return Ok(false);
        }
        for erase in [
            "DELETE FROM pieces WHERE dossier = $1 AND blob = $2",
            "DELETE FROM blobs WHERE dossier = $1 AND blob = $2",
        ] {
            tx.execute(erase, &[&&dossier.0[..], &&blob.0[..]])?;
        }
        tx.commit()?;
        // The bucket after the commit, as for a deleted dossier: what fails here stays
        // unreachable (no row names it) and is erased with the dossier.
        if let Some(objects) = &self.objects
            && let Err(e) = objects.delete_blob(dossier, blob)
        {
            tracing::error!("an erased file's pieces left in the bucket: {e}");
        }
        Ok(true)
    }
}

impl InvitationStore for PgStore {
    fn create_invitation(
        &self,
        invitation: &Invitation,
        mail: &OutgoingMail,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut conn = self.writer()?;
        let mut tx = conn.transaction()?;
        lock_dossier(&mut tx, &invitation.dossier)?;
        refuse_if_deleted(&mut tx, &invitation.dossier)?;
        tx.execute(
            "INSERT INTO invitations (id, token_hash, dossier, role, inviter, expires, answer)
             VALUES ($1, $2, $3, $4, $5, $6, NULL)",
            &[
                &&invitation.id[..],
                &&invitation.token_hash[..],
                &&invitation.dossier.0[..],
                &role_code(invitation.role),
                &&invitation.inviter[..],
                &invitation.expires,
            ],
        )?;
        insert_mail(&mut tx, &invitation.dossier, mail, now)?;
        tx.commit()
    }

    fn invitation_by_token(&self, token_hash: &[u8; 32]) -> Result<Option<Invitation>, StoreError> {
        let mut conn = self.reader()?;
        let row = conn.query_opt(
            "SELECT id, token_hash, dossier, role, inviter, expires, answer
             FROM invitations WHERE token_hash = $1",
            &[&&token_hash[..]],
        )?;
        Ok(row.as_ref().map(invitation_row).transpose()?.flatten())
    }

    fn answer_invitation(&self, id: &[u8; 16], identity: &str) -> Result<bool, StoreError> {
        let mut conn = self.writer()?;
        // An answer at the same moment on another node waits for this row, then finds it
        // answered: the first answer holds.
        conn.execute(
            "UPDATE invitations SET answer = $2 WHERE id = $1 AND answer IS NULL",
            &[&&id[..], &identity],
        )?;
        let answer: Option<String> = conn
            .query_opt("SELECT answer FROM invitations WHERE id = $1", &[&&id[..]])?
            .map(|r| r.try_get(0))
            .transpose()?
            .flatten();
        Ok(answer.as_deref() == Some(identity))
    }

    fn answered_invitations(&self, dossier: &DossierId) -> Result<Vec<Invitation>, StoreError> {
        let mut conn = self.reader()?;
        let rows = conn.query(
            "SELECT id, token_hash, dossier, role, inviter, expires, answer
             FROM invitations WHERE dossier = $1 AND answer IS NOT NULL ORDER BY expires, id",
            &[&&dossier.0[..]],
        )?;
        let mut out = Vec::new();
        for row in &rows {
            out.extend(invitation_row(row)?);
        }
        Ok(out)
    }
}

/// A dossier's retention from a row of [`RETENTION_COLUMNS`], for a retention of
/// `retention_ms`.
fn retention_row(r: &Row, retention_ms: i64) -> Result<Option<Retention>, StoreError> {
    let Ok(id) = <[u8; 16]>::try_from(r.try_get::<_, &[u8]>(0)?) else {
        return Ok(None);
    };
    Ok(Some(Retention::from_columns(
        DossierId(id),
        r.try_get(1)?,
        r.try_get(2)?,
        r.try_get(3)?,
        (r.try_get(4)?, r.try_get(5)?),
        r.try_get(6)?,
        retention_ms,
    )))
}

impl HoldingsStore for PgStore {
    fn held(&self, dossier: &DossierId) -> Result<Option<Held>, StoreError> {
        let mut conn = self.reader()?;
        // One read-only transaction at one snapshot: the counts of one moment.
        let mut tx = conn
            .client
            .build_transaction()
            .isolation_level(::postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()?;
        let id = &dossier.0[..];
        let Some(row) = tx.query_opt("SELECT active, jury FROM dossiers WHERE id = $1", &[&id])?
        else {
            return Ok(None);
        };
        let (active_ms, jury_ms): (i64, Option<i64>) = (row.get(0), row.get(1));
        let mut tally = |sql: &str| -> Result<Tally, StoreError> {
            let row = tx.query_one(sql, &[&id])?;
            Ok(Tally {
                count: row.get::<_, i64>(0) as u64,
                bytes: row.get::<_, i64>(1) as u64,
            })
        };
        let envelopes = tally(
            "SELECT COUNT(*), COALESCE(SUM(octet_length(body)), 0)::BIGINT
             FROM envelopes WHERE dossier = $1",
        )?;
        let snapshots = tally(
            "SELECT COUNT(*), COALESCE(SUM(octet_length(body)), 0)::BIGINT
             FROM snapshots WHERE dossier = $1",
        )?;
        let evidence = tally(
            "SELECT COUNT(*), COALESCE(SUM(bytes), 0)::BIGINT FROM blobs WHERE dossier = $1",
        )?;
        let review_keys: i64 = tx
            .query_one(
                "SELECT (SELECT COUNT(*) FROM jury_keys WHERE dossier = $1)
                      + (SELECT COUNT(*) FROM jury_grants WHERE dossier = $1)
                      + (SELECT COUNT(*) FROM juror_keys WHERE dossier = $1)
                      + (SELECT COUNT(*) FROM juror_grants WHERE dossier = $1)",
                &[&id],
            )?
            .get(0);
        let invitations = tx
            .query(
                "SELECT role, expires, answer IS NOT NULL FROM invitations
                 WHERE dossier = $1 ORDER BY expires",
                &[&id],
            )?
            .iter()
            .filter_map(|r| {
                Some(HeldInvitation {
                    role: role_from(r.get(0))?,
                    expires_ms: r.get(1),
                    answered: r.get(2),
                })
            })
            .collect();
        let mails = tx
            .query(
                "SELECT recipient, subject, next_attempt FROM mail_queue
                 WHERE dossier = $1 ORDER BY next_attempt, id",
                &[&id],
            )?
            .iter()
            .map(|r| HeldMail {
                recipient: r.get(0),
                subject: r.get(1),
                due_ms: r.get(2),
            })
            .collect();
        tx.commit()?;
        Ok(Some(Held {
            envelopes,
            snapshots,
            evidence,
            review_keys: review_keys as u64,
            invitations,
            mails,
            active_ms,
            jury_ms,
        }))
    }
}

impl RetentionStore for PgStore {
    fn touch(&self, dossiers: &[DossierId], now: i64) -> Result<(), StoreError> {
        let ids: Vec<&[u8]> = dossiers.iter().map(|d| &d.0[..]).collect();
        let mut conn = self.writer()?;
        conn.execute(
            "UPDATE dossiers SET active = $2 WHERE id = ANY($1) AND active < $2",
            &[&ids, &now],
        )?;
        Ok(())
    }

    fn retain(
        &self,
        dossier: &DossierId,
        notice: &[u8],
        effective_ms: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut conn = self.writer()?;
        conn.execute(
            "UPDATE dossiers SET active = GREATEST(active, $4),
                 retain_notice = CASE WHEN COALESCE(retain_effective, 0) <= $3
                                      THEN $2 ELSE retain_notice END,
                 retain_effective = GREATEST(COALESCE(retain_effective, 0), $3)
             WHERE id = $1",
            &[&&dossier.0[..], &notice, &effective_ms, &now],
        )?;
        Ok(())
    }

    fn set_jury(
        &self,
        dossier: &DossierId,
        jury_ms: Option<i64>,
        contact: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut conn = self.writer()?;
        conn.execute(
            "UPDATE dossiers SET jury = $2, contact = $3 WHERE id = $1",
            &[&&dossier.0[..], &jury_ms, &contact],
        )?;
        Ok(())
    }

    fn retention(
        &self,
        dossier: &DossierId,
        retention_ms: i64,
    ) -> Result<Option<Retention>, StoreError> {
        let mut conn = self.reader()?;
        let row = conn.query_opt(
            "SELECT id, active, jury, contact, warned_ends, warned_days, retain_notice
             FROM dossiers WHERE id = $1",
            &[&&dossier.0[..]],
        )?;
        match row {
            Some(r) => retention_row(&r, retention_ms),
            None => Ok(None),
        }
    }

    fn retention_due(
        &self,
        retention_ms: i64,
        until: i64,
        limit: usize,
    ) -> Result<Vec<Retention>, StoreError> {
        let mut conn = self.reader()?;
        let rows = conn.query(
            "SELECT id, active, jury, contact, warned_ends, warned_days, retain_notice
             FROM dossiers
             WHERE active > 0 AND GREATEST(active, COALESCE(jury, 0)) + $1 <= $2
             ORDER BY GREATEST(active, COALESCE(jury, 0)) LIMIT $3",
            &[&retention_ms, &until, &(limit as i64)],
        )?;
        let mut out = Vec::new();
        for r in &rows {
            out.extend(retention_row(r, retention_ms)?);
        }
        Ok(out)
    }

    fn warned(
        &self,
        dossier: &DossierId,
        ends_ms: i64,
        days: i64,
        mail: &OutgoingMail,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut conn = self.writer()?;
        let mut tx = conn.transaction()?;
        lock_dossier(&mut tx, dossier)?;
        refuse_if_deleted(&mut tx, dossier)?;
        tx.execute(
            "UPDATE dossiers SET warned_ends = $2, warned_days = $3 WHERE id = $1",
            &[&&dossier.0[..], &ends_ms, &days],
        )?;
        insert_mail(&mut tx, dossier, mail, now)?;
        tx.commit()
    }
}

impl MailQueue for PgStore {
    fn claim_mail(
        &self,
        now: i64,
        lease_until: i64,
        limit: usize,
    ) -> Result<Vec<QueuedMail>, StoreError> {
        let mut conn = self.writer()?;
        // Rows another node is claiming at the same moment are skipped, not waited for:
        // each due mail goes to one node.
        let rows = conn.query(
            "UPDATE mail_queue q SET next_attempt = $3
             FROM (SELECT id, next_attempt FROM mail_queue WHERE next_attempt <= $1
                   ORDER BY next_attempt, id LIMIT $2 FOR UPDATE SKIP LOCKED) due
             WHERE q.id = due.id
             RETURNING q.id, q.recipient, q.subject, q.body, q.attempts, due.next_attempt",
            &[&now, &(limit as i64), &lease_until],
        )?;
        let mut claimed = rows
            .iter()
            .map(|r| {
                let due: i64 = r.try_get(5)?;
                let mail = QueuedMail {
                    id: r.try_get(0)?,
                    mail: OutgoingMail {
                        to: r.try_get(1)?,
                        subject: r.try_get(2)?,
                        body: r.try_get(3)?,
                    },
                    attempts: r.try_get::<_, i64>(4)? as u32,
                };
                Ok((due, mail))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        // RETURNING follows no order: oldest due first, as they were claimed.
        claimed.sort_by_key(|(due, q)| (*due, q.id));
        Ok(claimed.into_iter().map(|(_, q)| q).collect())
    }

    fn next_mail_due(&self) -> Result<Option<i64>, StoreError> {
        let mut conn = self.reader()?;
        Ok(conn
            .query_one("SELECT MIN(next_attempt) FROM mail_queue", &[])?
            .try_get(0)?)
    }

    fn mail_sent(&self, id: i64) -> Result<(), StoreError> {
        let mut conn = self.writer()?;
        let mut tx = conn.transaction()?;
        tx.execute("DELETE FROM mail_queue WHERE id = $1", &[&id])?;
        tx.execute("DELETE FROM reminders WHERE mail = $1", &[&id])?;
        // A reminder sent at once is recorded when it went out (the server's clock, as
        // SQLite's `unixepoch` is the relay machine's). Its pending row is deleted first and
        // the record made from what was deleted: if the dossier's reminders are being set
        // again on another node, this waits for it, and a reminder it cancelled is not
        // recorded, as when the two run one after the other on SQLite.
        tx.execute(
            "WITH sent AS (
                 DELETE FROM reminders_pending_at_once WHERE mail = $1 RETURNING dossier
             )
             INSERT INTO reminders_at_once (dossier, at)
             SELECT dossier, FLOOR(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT
             FROM sent
             ON CONFLICT (dossier) DO UPDATE SET at = excluded.at",
            &[&id],
        )?;
        tx.commit()
    }

    fn set_reminders(
        &self,
        dossier: &DossierId,
        mails: &[(OutgoingMail, i64)],
        at_once: Option<(OutgoingMail, i64)>,
        quiet_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut conn = self.writer()?;
        let mut tx = conn.transaction()?;
        // Replaced at once on two nodes, both lists would stay.
        lock_dossier(&mut tx, dossier)?;
        refuse_if_deleted(&mut tx, dossier)?;
        tx.execute(
            "DELETE FROM mail_queue WHERE id IN (SELECT mail FROM reminders WHERE dossier = $1)",
            &[&&dossier.0[..]],
        )?;
        tx.execute(
            "DELETE FROM reminders WHERE dossier = $1",
            &[&&dossier.0[..]],
        )?;
        tx.execute(
            "DELETE FROM reminders_pending_at_once WHERE dossier = $1",
            &[&&dossier.0[..]],
        )?;
        let mut queued_at_once = false;
        if let Some((mail, at)) = at_once {
            let last: Option<i64> = tx
                .query_opt(
                    "SELECT at FROM reminders_at_once WHERE dossier = $1",
                    &[&&dossier.0[..]],
                )?
                .map(|r| r.try_get(0))
                .transpose()?;
            if last.is_none_or(|sent| at - sent >= quiet_ms) {
                let id = insert_mail(&mut tx, dossier, &mail, at)?;
                tx.execute(
                    "INSERT INTO reminders (mail, dossier) VALUES ($1, $2)",
                    &[&id, &&dossier.0[..]],
                )?;
                tx.execute(
                    "INSERT INTO reminders_pending_at_once (mail, dossier) VALUES ($1, $2)",
                    &[&id, &&dossier.0[..]],
                )?;
                queued_at_once = true;
            }
        }
        for (mail, at) in mails {
            let id = insert_mail(&mut tx, dossier, mail, *at)?;
            tx.execute(
                "INSERT INTO reminders (mail, dossier) VALUES ($1, $2)",
                &[&id, &&dossier.0[..]],
            )?;
        }
        tx.commit()?;
        Ok(queued_at_once)
    }

    fn mail_failed(&self, id: i64, attempts: u32, next_attempt: i64) -> Result<(), StoreError> {
        let mut conn = self.writer()?;
        conn.execute(
            "UPDATE mail_queue SET attempts = $2, next_attempt = $3 WHERE id = $1",
            &[&id, &i64::from(attempts), &next_attempt],
        )?;
        Ok(())
    }

    fn mail_abandoned(&self, id: i64) -> Result<(), StoreError> {
        let mut conn = self.writer()?;
        let mut tx = conn.transaction()?;
        tx.execute("DELETE FROM mail_queue WHERE id = $1", &[&id])?;
        tx.execute("DELETE FROM reminders WHERE mail = $1", &[&id])?;
        tx.execute(
            "DELETE FROM reminders_pending_at_once WHERE mail = $1",
            &[&id],
        )?;
        tx.commit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{ThrowawayPostgres, ThrowawayS3};

    /// A dossier of the previous version whose reminders wait in the queue, with no jury
    /// date of its own: the upgrade reads it from them, so its retention counts from the
    /// jury; one whose jury is known keeps it.
    #[test]
    fn the_jury_date_of_reminders_queued_before_is_read_from_them() {
        let server = ThrowawayPostgres::start();
        let url = server.database("v4jury");
        let (waiting, known) = (DossierId([4; 16]), DossierId([5; 16]));
        {
            let mut client = Client::connect(&url, NoTls).unwrap();
            migrate_to(&mut client, 4).unwrap();
            for d in [waiting, known] {
                client
                    .execute("INSERT INTO dossiers (id) VALUES ($1)", &[&&d.0[..]])
                    .unwrap();
                let body = "Bonjour,\n\nVotre jury VAE est prévu le 30 juin 2027 (dans 7 jours).\n\
                            --\nHello,\n\nYour VAE jury is on 2027-06-30 (in 7 days). Review…";
                let mail: i64 = client
                    .query_one(
                        "INSERT INTO mail_queue (recipient, subject, body, next_attempt, dossier)
                         VALUES ('anna@example.org', 'Rappel', $1, 0, $2) RETURNING id",
                        &[&body, &&d.0[..]],
                    )
                    .unwrap()
                    .get(0);
                client
                    .execute(
                        "INSERT INTO reminders (mail, dossier) VALUES ($1, $2)",
                        &[&mail, &&d.0[..]],
                    )
                    .unwrap();
            }
            client
                .execute(
                    "UPDATE dossiers SET jury = 86400000 WHERE id = $1",
                    &[&&known.0[..]],
                )
                .unwrap();
        }
        let store = PgStore::connect(&url).unwrap();
        let day = livret_shared::date::Date::parse("2027-06-30").unwrap();
        let jury = |d: &DossierId| store.held(d).unwrap().unwrap().jury_ms;
        assert_eq!(jury(&waiting), Some(day.days_since_epoch() * 86_400_000));
        assert_eq!(jury(&known), Some(86_400_000));
    }

    /// A database of the previous version (evidence bytes in `pieces.body`) migrated with
    /// its pieces readable; new pieces of the same file then go to the bucket, the old stay.
    #[test]
    fn pieces_stored_by_the_previous_version_stay_readable_beside_those_in_a_bucket() {
        let server = ThrowawayPostgres::start();
        let url = server.database("v1pieces");
        let mut s3 = ThrowawayS3::start();
        let (d, blob, device) = (DossierId([1; 16]), BlobId([2; 16]), MemberKey([3; 32]));
        {
            let mut client = Client::connect(&url, NoTls).unwrap();
            migrate_to(&mut client, 1).unwrap();
            // As version 1 stored a first piece.
            client
                .execute(
                    "INSERT INTO pieces (dossier, blob, idx, body) VALUES ($1, $2, 0, $3)",
                    &[&&d.0[..], &&blob.0[..], &&b"premier morceau"[..]],
                )
                .unwrap();
            client
                .execute(
                    "INSERT INTO blobs (dossier, blob, stored, bytes, complete, uploader)
                     VALUES ($1, $2, 1, 15, FALSE, $3)",
                    &[&&d.0[..], &&blob.0[..], &&device[..]],
                )
                .unwrap();
        }
        let settings: Vec<(String, String)> = s3
            .settings()
            .into_iter()
            .map(|(k, v)| (k.to_lowercase(), v))
            .collect();
        let settings: Vec<(&str, &str)> = settings
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let objects = ObjectPieces::open_with(&s3.url(), &settings).unwrap();
        let store = PgStore::connect(&url).unwrap().keep_pieces_in(objects);
        assert_eq!(
            store.get_piece(&d, &blob, 0).unwrap(),
            Some((b"premier morceau".to_vec(), false))
        );
        let state = store
            .put_piece(&d, &blob, &device, 1, b"second morceau", true)
            .unwrap();
        assert_eq!(
            state,
            PieceState {
                stored: 2,
                complete: true
            }
        );
        assert_eq!(
            store.get_piece(&d, &blob, 1).unwrap(),
            Some((b"second morceau".to_vec(), true))
        );
        let in_bucket = s3.objects();
        assert_eq!(in_bucket.len(), 1, "the new piece only");
        assert_eq!(in_bucket[0].1, b"second morceau");
        let mut client = Client::connect(&url, NoTls).unwrap();
        let body: Option<Vec<u8>> = client
            .query_one("SELECT body FROM pieces WHERE idx = 1", &[])
            .unwrap()
            .get(0);
        assert_eq!(body, None, "its bytes are not in the database");
        // The bucket lost mid-run: the piece is refused, nothing recorded (so nothing
        // acknowledged); once it answers again the same piece goes, without a restart.
        let other = BlobId([4; 16]);
        assert!(
            store
                .put_piece(&d, &other, &device, 0, b"avant", false)
                .is_ok()
        );
        s3.stop();
        assert!(matches!(
            store.put_piece(&d, &other, &device, 1, b"pendant", false),
            Err(StoreError::Objects(_))
        ));
        assert_eq!(
            store
                .put_piece(&d, &other, &device, 2, b"", false)
                .unwrap_err()
                .to_string(),
            StoreError::OutOfOrder { expected: 1 }.to_string(),
            "piece 1 not recorded"
        );
        s3.start_again();
        let state = store
            .put_piece(&d, &other, &device, 1, b"pendant", true)
            .unwrap();
        assert_eq!(
            state,
            PieceState {
                stored: 2,
                complete: true
            }
        );
        assert_eq!(
            store.get_piece(&d, &other, 1).unwrap(),
            Some((b"pendant".to_vec(), true))
        );
        // A relay started without the bucket says so instead of answering nothing.
        let without = PgStore::connect(&url).unwrap();
        assert!(matches!(
            without.get_piece(&d, &blob, 1),
            Err(StoreError::ObjectsMissing)
        ));
    }
}
