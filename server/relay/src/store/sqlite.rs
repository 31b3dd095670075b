//! The SQLite store: one file, a write connection and a read connection, WAL; its schema
//! brought up by numbered migrations (`PRAGMA user_version`), each tested on a database
//! made by the previous version.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use livret_shared::envelope::{Channel, DossierId};
use livret_shared::evidence::BlobId;
use livret_shared::jury::JuryGrant;
use livret_shared::keys::MemberKey;
use rusqlite::{Connection, OptionalExtension, params};

use super::*;

/// Rows and bytes of envelopes read under the read lock at once (see `envelopes_since`).
const PAGE_ROWS: i64 = 1024;
const PAGE_BYTES: usize = 4 * 1024 * 1024;

pub struct SqliteStore {
    /// Writes go through one connection (the appender is single-threaded anyway).
    write: Mutex<Connection>,
    /// Reads use their own connection: WAL lets them run beside a write.
    read: Mutex<Connection>,
}

impl SqliteStore {
    fn reader(&self) -> std::sync::MutexGuard<'_, Connection> {
        super::assert_off_async_runtime();
        self.read.lock().expect("store lock")
    }

    fn writer(&self) -> std::sync::MutexGuard<'_, Connection> {
        super::assert_off_async_runtime();
        self.write.lock().expect("store lock")
    }

    /// Where a catch-up after `since` starts: the earliest arrival among each writer's
    /// envelopes past what the client has (all of a writer it does not name). `None`: there
    /// is nothing new. A device coming back after a while reads its tail, not the dossier's
    /// whole history (which every subscription used to scan, row by row).
    fn first_arrival_after(
        &self,
        dossier: &DossierId,
        since: &BTreeMap<MemberKey, u64>,
    ) -> Result<Option<i64>, StoreError> {
        let conn = self.reader();
        let writers: Vec<Vec<u8>> = conn
            .prepare_cached("SELECT DISTINCT writer FROM counters WHERE dossier = ?1")?
            .query_map(params![&dossier.0[..]], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let mut first: Option<i64> = None;
        let mut stmt = conn.prepare_cached(
            "SELECT MIN(arrival) FROM envelopes WHERE dossier = ?1 AND writer = ?2 AND counter > ?3",
        )?;
        for writer in writers {
            let has = <MemberKey>::try_from(writer.as_slice())
                .ok()
                .and_then(|w| since.get(&w).copied())
                .unwrap_or(0);
            let at: Option<i64> =
                stmt.query_row(params![&dossier.0[..], &writer, has as i64], |r| r.get(0))?;
            first = match (first, at) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        Ok(first)
    }

    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let mut write = Connection::open(path)?;
        // WAL: readers do not block the writer. synchronous=FULL: a commit is on disk before
        // the relay acknowledges it, so an acknowledged envelope survives a crash.
        write.pragma_update(None, "journal_mode", "WAL")?;
        write.pragma_update(None, "synchronous", "FULL")?;
        // What is deleted is overwritten with zeros, not left in free pages: a deleted
        // dossier's ciphertext must not stay in the file (see `delete_dossier`).
        write.pragma_update(None, "secure_delete", "ON")?;
        migrate(&mut write)?;
        let read = Connection::open(path)?;
        Ok(SqliteStore {
            write: Mutex::new(write),
            read: Mutex::new(read),
        })
    }
}

/// The schema this build writes: `PRAGMA user_version` counts the migrations applied.
const SCHEMA_VERSION: i64 = 6;

/// Brings the database to [`SCHEMA_VERSION`], one numbered migration at a time, each in
/// its own transaction with the version it reaches (a crash leaves it before or after).
fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::Newer {
            found: version,
            known: SCHEMA_VERSION,
        });
    }
    for next in version + 1..=SCHEMA_VERSION {
        let tx = conn.transaction()?;
        match next {
            1 => migration_1(&tx)?,
            2 => migration_2(&tx)?,
            3 => migration_3(&tx)?,
            4 => migration_4(&tx)?,
            5 => migration_5(&tx)?,
            6 => migration_6(&tx)?,
            _ => unreachable!("one migration per version"),
        }
        tx.pragma_update(None, "user_version", next)?;
        tx.commit()?;
    }
    Ok(())
}

/// The schema as it was before migrations were numbered: made from nothing, or completed
/// on a database of that time (every statement holds on both).
fn migration_1(tx: &rusqlite::Transaction<'_>) -> Result<(), StoreError> {
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS dossiers (
                 id BLOB PRIMARY KEY
             ) WITHOUT ROWID;
             CREATE TABLE IF NOT EXISTS membership (
                 dossier BLOB NOT NULL,
                 seq INTEGER NOT NULL,
                 entry BLOB NOT NULL,
                 PRIMARY KEY (dossier, seq)
             ) WITHOUT ROWID;
             CREATE TABLE IF NOT EXISTS blobs (
                 dossier BLOB NOT NULL,
                 blob BLOB NOT NULL,
                 stored INTEGER NOT NULL,
                 bytes INTEGER NOT NULL,
                 complete INTEGER NOT NULL,
                 PRIMARY KEY (dossier, blob)
             ) WITHOUT ROWID;
             CREATE TABLE IF NOT EXISTS pieces (
                 dossier BLOB NOT NULL,
                 blob BLOB NOT NULL,
                 idx INTEGER NOT NULL,
                 body BLOB NOT NULL,
                 PRIMARY KEY (dossier, blob, idx)
             );
             CREATE TABLE IF NOT EXISTS members (
                 member BLOB NOT NULL,
                 dossier BLOB NOT NULL,
                 PRIMARY KEY (member, dossier)
             ) WITHOUT ROWID;
             CREATE TABLE IF NOT EXISTS envelopes (
                 arrival INTEGER PRIMARY KEY AUTOINCREMENT,
                 dossier BLOB NOT NULL,
                 writer BLOB NOT NULL,
                 counter INTEGER NOT NULL,
                 body BLOB NOT NULL,
                 pruned_at INTEGER,
                 UNIQUE (dossier, writer, counter)
             );
             CREATE INDEX IF NOT EXISTS envelopes_by_dossier ON envelopes (dossier, arrival);
             -- The jury key of each epoch (its id: the first given wins) and its grants,
             -- each sealed to one juror.
             CREATE TABLE IF NOT EXISTS jury_keys (
                 dossier BLOB NOT NULL,
                 epoch INTEGER NOT NULL,
                 key_id BLOB NOT NULL,
                 PRIMARY KEY (dossier, epoch)
             ) WITHOUT ROWID;
             CREATE TABLE IF NOT EXISTS jury_grants (
                 dossier BLOB NOT NULL,
                 epoch INTEGER NOT NULL,
                 recipient BLOB NOT NULL,
                 wrapped BLOB NOT NULL,
                 PRIMARY KEY (dossier, epoch, recipient)
             ) WITHOUT ROWID;
             CREATE TABLE IF NOT EXISTS invitations (
                 id BLOB PRIMARY KEY,
                 token_hash BLOB NOT NULL UNIQUE,
                 dossier BLOB NOT NULL,
                 role INTEGER NOT NULL,
                 inviter BLOB NOT NULL,
                 expires INTEGER NOT NULL,
                 answer TEXT
             ) WITHOUT ROWID;
             CREATE INDEX IF NOT EXISTS invitations_by_dossier ON invitations (dossier);
             -- Queued reminder mails by dossier, so a new jury date replaces them.
             CREATE TABLE IF NOT EXISTS reminders (
                 mail INTEGER PRIMARY KEY,
                 dossier BLOB NOT NULL
             );
             CREATE INDEX IF NOT EXISTS reminders_by_dossier ON reminders (dossier);
             -- The last reminder sent at once per dossier (setting them again the same day
             -- must not mail again).
             CREATE TABLE IF NOT EXISTS reminders_at_once (
                 dossier BLOB PRIMARY KEY,
                 at INTEGER NOT NULL
             ) WITHOUT ROWID;
             -- Which queued reminder is one sent at once (recorded above once it went out).
             CREATE TABLE IF NOT EXISTS reminders_pending_at_once (
                 mail INTEGER PRIMARY KEY,
                 dossier BLOB NOT NULL
             );
             CREATE TABLE IF NOT EXISTS mail_queue (
                 id INTEGER PRIMARY KEY AUTOINCREMENT,
                 recipient TEXT NOT NULL,
                 subject TEXT NOT NULL,
                 body TEXT NOT NULL,
                 attempts INTEGER NOT NULL DEFAULT 0,
                 next_attempt INTEGER NOT NULL
             );
             CREATE TABLE IF NOT EXISTS snapshots (
                 dossier BLOB NOT NULL,
                 id BLOB NOT NULL,
                 body BLOB NOT NULL,
                 covers BLOB NOT NULL,
                 created INTEGER NOT NULL,
                 active INTEGER NOT NULL,
                 PRIMARY KEY (dossier, id)
             ) WITHOUT ROWID;",
    )?;
    // The envelope's channel (0 dossier, 1 review, 2 release), added after the first
    // databases were made.
    let has_channel = tx
        .prepare("SELECT 1 FROM pragma_table_info('envelopes') WHERE name = 'channel'")?
        .exists([])?;
    if !has_channel {
        tx.execute_batch("ALTER TABLE envelopes ADD COLUMN channel INTEGER NOT NULL DEFAULT 0")?;
    }
    Ok(())
}

/// Each writer's last counter, per channel, kept apart from the envelopes: a snapshot
/// prunes envelopes and the purge deletes them, but the relay must still know where each
/// writer is (or a quiet writer gets Gap for ever and its counter 1 is taken again).
/// Filled from every envelope row, pruned ones included, and from every snapshot's covers
/// (a database whose rows the previous version already purged gets its counters back).
fn migration_2(tx: &rusqlite::Transaction<'_>) -> Result<(), StoreError> {
    tx.execute_batch(
        "CREATE TABLE counters (
             dossier BLOB NOT NULL,
             writer BLOB NOT NULL,
             channel INTEGER NOT NULL,
             last INTEGER NOT NULL,
             PRIMARY KEY (dossier, writer, channel)
         ) WITHOUT ROWID;
         INSERT INTO counters (dossier, writer, channel, last)
             SELECT dossier, writer, channel, MAX(counter) FROM envelopes
             GROUP BY dossier, writer, channel;",
    )?;
    let snapshots: Vec<(Vec<u8>, Vec<u8>)> = tx
        .prepare("SELECT dossier, covers FROM snapshots")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (dossier, covers) in snapshots {
        for (writer, last) in decode_covers(&covers) {
            raise_counter(tx, &dossier, &writer, Channel::Dossier as i64, last)?;
        }
    }
    Ok(())
}

/// The device that stored an evidence file's first piece: only it may add pieces. Files
/// stored before have none recorded (see [`EvidenceStore::put_piece`]).
fn migration_3(tx: &rusqlite::Transaction<'_>) -> Result<(), StoreError> {
    tx.execute_batch("ALTER TABLE blobs ADD COLUMN uploader BLOB")?;
    Ok(())
}

/// Each juror's own review key per epoch (its id: the first the juror gives wins) and its
/// grants, each sealed to one juror. The tables of the one jury key per epoch stay, read
/// only: their grants open the reviews sealed before.
fn migration_4(tx: &rusqlite::Transaction<'_>) -> Result<(), StoreError> {
    tx.execute_batch(
        "CREATE TABLE juror_keys (
             dossier BLOB NOT NULL,
             epoch INTEGER NOT NULL,
             granter BLOB NOT NULL,
             key_id BLOB NOT NULL,
             PRIMARY KEY (dossier, epoch, granter)
         ) WITHOUT ROWID;
         CREATE TABLE juror_grants (
             dossier BLOB NOT NULL,
             epoch INTEGER NOT NULL,
             granter BLOB NOT NULL,
             recipient BLOB NOT NULL,
             wrapped BLOB NOT NULL,
             PRIMARY KEY (dossier, epoch, granter, recipient)
         ) WITHOUT ROWID;
         CREATE INDEX juror_grants_by_recipient ON juror_grants (dossier, recipient);",
    )?;
    Ok(())
}

/// Deleted dossiers' tombstones, and the dossier each queued mail is about (a deletion
/// erases its mails): reminders' from their table, invitations' from the token in their
/// link, which the invitation keeps hashed. And what retention needs of each dossier (see
/// [`RetentionStore`]).
fn migration_5(tx: &rusqlite::Transaction<'_>) -> Result<(), StoreError> {
    tx.execute_batch(
        "CREATE TABLE tombstones (
             dossier BLOB PRIMARY KEY,
             deleted INTEGER NOT NULL,
             notice BLOB NOT NULL
         ) WITHOUT ROWID;
         ALTER TABLE mail_queue ADD COLUMN dossier BLOB;
         CREATE INDEX mail_queue_by_dossier ON mail_queue (dossier);
         UPDATE mail_queue SET dossier = (SELECT r.dossier FROM reminders r
                                          WHERE r.mail = mail_queue.id);
         ALTER TABLE dossiers ADD COLUMN active INTEGER NOT NULL DEFAULT 0;
         ALTER TABLE dossiers ADD COLUMN jury INTEGER;
         ALTER TABLE dossiers ADD COLUMN contact TEXT;
         ALTER TABLE dossiers ADD COLUMN warned_ends INTEGER;
         ALTER TABLE dossiers ADD COLUMN warned_days INTEGER;
         ALTER TABLE dossiers ADD COLUMN retain_notice BLOB;
         ALTER TABLE dossiers ADD COLUMN retain_effective INTEGER;
         -- The dossiers of before: their retention starts with the upgrade, and the
         -- warnings before its end go where their reminders go.
         UPDATE dossiers SET active = CAST(strftime('%s', 'now') AS INTEGER) * 1000;
         UPDATE dossiers SET contact = (SELECT m.recipient FROM mail_queue m
                                        JOIN reminders r ON r.mail = m.id
                                        WHERE r.dossier = dossiers.id LIMIT 1);",
    )?;
    let unlinked: Vec<(i64, String)> = tx
        .prepare("SELECT id, body FROM mail_queue WHERE dossier IS NULL")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (mail, body) in unlinked {
        let Some(token_hash) = invitation_token_hash(&body) else {
            continue;
        };
        tx.execute(
            "UPDATE mail_queue SET dossier =
                 (SELECT dossier FROM invitations WHERE token_hash = ?2)
             WHERE id = ?1",
            params![mail, &token_hash[..]],
        )?;
    }
    Ok(())
}

/// The jury's date of the dossiers whose reminders an earlier version queued (migration 5
/// made the column and left it empty for them), read from the reminders still waiting,
/// which carry it: their retention counts from the jury, as it does for the others. A jury
/// still ahead always has one waiting (the day before's).
fn migration_6(tx: &rusqlite::Transaction<'_>) -> Result<(), StoreError> {
    let waiting: Vec<(Vec<u8>, String)> = tx
        .prepare(
            "SELECT r.dossier, m.body FROM reminders r
             JOIN mail_queue m ON m.id = r.mail
             JOIN dossiers d ON d.id = r.dossier
             WHERE d.jury IS NULL",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (dossier, body) in waiting {
        if let Some(jury_ms) = reminder_jury_ms(&body) {
            tx.execute(
                "UPDATE dossiers SET jury = ?2 WHERE id = ?1 AND jury IS NULL",
                params![dossier, jury_ms],
            )?;
        }
    }
    Ok(())
}

/// Raises a writer's last counter on a channel to `last` (never lowers it).
fn raise_counter(
    conn: &Connection,
    dossier: &[u8],
    writer: &[u8],
    channel: i64,
    last: u64,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO counters (dossier, writer, channel, last) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (dossier, writer, channel) DO UPDATE SET last = MAX(last, excluded.last)",
    )?
    .execute(params![dossier, writer, channel, last as i64])?;
    Ok(())
}

fn replace_members(
    tx: &rusqlite::Transaction<'_>,
    dossier: &DossierId,
    members: &[MemberKey],
) -> Result<(), StoreError> {
    tx.execute(
        "DELETE FROM members WHERE dossier = ?1",
        params![&dossier.0[..]],
    )?;
    let mut insert =
        tx.prepare_cached("INSERT OR IGNORE INTO members (member, dossier) VALUES (?1, ?2)")?;
    for member in members {
        insert.execute(params![&member[..], &dossier.0[..]])?;
    }
    Ok(())
}

impl Store for SqliteStore {}

impl DossierStore for SqliteStore {
    fn create_dossier(
        &self,
        dossier: &DossierId,
        entry: &[u8],
        members: &[MemberKey],
    ) -> Result<(), StoreError> {
        let mut conn = self.writer();
        let tx = conn.transaction()?;
        if tombstone(&tx, dossier)?.is_some() {
            return Err(StoreError::Deleted);
        }
        let inserted = tx.execute(
            "INSERT OR IGNORE INTO dossiers (id) VALUES (?1)",
            params![&dossier.0[..]],
        )?;
        if inserted == 0 {
            return Err(StoreError::Exists);
        }
        tx.execute(
            "INSERT INTO membership (dossier, seq, entry) VALUES (?1, 0, ?2)",
            params![&dossier.0[..], entry],
        )?;
        replace_members(&tx, dossier, members)?;
        tx.commit()?;
        Ok(())
    }

    fn append_membership(
        &self,
        dossier: &DossierId,
        seq: u64,
        entry: &[u8],
        members: &[MemberKey],
    ) -> Result<(), StoreError> {
        let mut conn = self.writer();
        let tx = conn.transaction()?;
        refuse_if_deleted(&tx, dossier)?;
        tx.execute(
            "INSERT INTO membership (dossier, seq, entry) VALUES (?1, ?2, ?3)",
            params![&dossier.0[..], seq as i64, entry],
        )?;
        replace_members(&tx, dossier, members)?;
        tx.commit()?;
        Ok(())
    }

    fn membership_log(&self, dossier: &DossierId) -> Result<Vec<Vec<u8>>, StoreError> {
        let conn = self.reader();
        let mut stmt =
            conn.prepare_cached("SELECT entry FROM membership WHERE dossier = ?1 ORDER BY seq")?;
        let rows = stmt.query_map(params![&dossier.0[..]], |r| r.get::<_, Vec<u8>>(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn dossiers_of(&self, member: &MemberKey) -> Result<Vec<DossierId>, StoreError> {
        let conn = self.reader();
        let mut stmt =
            conn.prepare_cached("SELECT dossier FROM members WHERE member = ?1 ORDER BY dossier")?;
        let rows = stmt.query_map(params![&member[..]], |r| r.get::<_, Vec<u8>>(0))?;
        let mut out = Vec::new();
        for row in rows {
            if let Ok(id) = <[u8; 16]>::try_from(row?.as_slice()) {
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
        let mut conn = self.writer();
        let tx = conn.transaction()?;
        if let Some(first) = tombstone(&tx, dossier)? {
            return Ok(Some(first));
        }
        let notice: Vec<u8> = match ending {
            Ending::Notice(notice) => notice.to_vec(),
            Ending::Expired { retention_ms } => {
                let due = tx
                    .prepare_cached(&format!(
                        "SELECT {RETENTION_COLUMNS} FROM dossiers WHERE id = ?1"
                    ))?
                    .query_row(params![&dossier.0[..]], |r| retention_row(r, retention_ms))
                    .optional()?
                    .flatten();
                match due {
                    Some(r) if r.ends_ms <= now => r.notice.unwrap_or_default(),
                    _ => return Ok(None),
                }
            }
        };
        for (table, column) in DOSSIER_TABLES {
            tx.execute(
                &format!("DELETE FROM {table} WHERE {column} = ?1"),
                params![&dossier.0[..]],
            )?;
        }
        tx.execute(
            "INSERT INTO tombstones (dossier, deleted, notice) VALUES (?1, ?2, ?3)",
            params![&dossier.0[..], now, &notice],
        )?;
        tx.commit()?;
        // The erased pages are zeros in the file (secure_delete); the write-ahead log still
        // holds the frames that wrote the ciphertext until a checkpoint empties it.
        let (busy, _, _): (i64, i64, i64) =
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?;
        if busy != 0 {
            tracing::warn!("write-ahead log not emptied after a deletion (a reader was busy)");
        }
        Ok(Some(Tombstone {
            notice,
            deleted_ms: now,
        }))
    }

    fn tombstone(&self, dossier: &DossierId) -> Result<Option<Tombstone>, StoreError> {
        tombstone(&self.reader(), dossier)
    }
}

/// Refuses a write for a deleted dossier: in the write's transaction, on the one write
/// connection the deletion goes through too, so the write committed before the deletion
/// (and was erased) or sees it.
fn refuse_if_deleted(conn: &Connection, dossier: &DossierId) -> Result<(), StoreError> {
    match tombstone(conn, dossier)? {
        Some(_) => Err(StoreError::Deleted),
        None => Ok(()),
    }
}

fn tombstone(conn: &Connection, dossier: &DossierId) -> Result<Option<Tombstone>, StoreError> {
    let row = conn
        .prepare_cached("SELECT notice, deleted FROM tombstones WHERE dossier = ?1")?
        .query_row(params![&dossier.0[..]], |r| {
            Ok(Tombstone {
                notice: r.get(0)?,
                deleted_ms: r.get(1)?,
            })
        })
        .optional()?;
    Ok(row)
}

impl EnvelopeStore for SqliteStore {
    fn last_counter(&self, dossier: &DossierId, writer: &MemberKey) -> Result<u64, StoreError> {
        let conn = self.reader();
        // Kept apart from the envelopes, which snapshots prune and the purge deletes.
        let last: Option<i64> = conn
            .prepare_cached("SELECT MAX(last) FROM counters WHERE dossier = ?1 AND writer = ?2")?
            .query_row(params![&dossier.0[..], &writer[..]], |r| r.get(0))?;
        Ok(last.unwrap_or(0) as u64)
    }

    fn envelope_at(
        &self,
        dossier: &DossierId,
        writer: &MemberKey,
        counter: u64,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let conn = self.reader();
        Ok(conn
            .prepare_cached(
                "SELECT body FROM envelopes WHERE dossier = ?1 AND writer = ?2 AND counter = ?3",
            )?
            .query_row(params![&dossier.0[..], &writer[..], counter as i64], |r| {
                r.get(0)
            })
            .optional()?)
    }

    fn append_envelopes(&self, batch: &[NewEnvelope]) -> Result<Vec<Arrival>, StoreError> {
        let mut conn = self.writer();
        let tx = conn.transaction()?;
        // One process writes here, so nothing changes behind the appender's back; checked
        // all the same, the same way as on a shared database.
        let stale = AppendChecks::of(batch).stale(
            |dossier, writer| -> Result<u64, StoreError> {
                let last: Option<i64> = tx
                    .prepare_cached(
                        "SELECT MAX(last) FROM counters WHERE dossier = ?1 AND writer = ?2",
                    )?
                    .query_row(params![&dossier.0[..], &writer[..]], |r| r.get(0))?;
                Ok(last.unwrap_or(0) as u64)
            },
            |dossier| -> Result<u64, StoreError> {
                let count: i64 = tx
                    .prepare_cached("SELECT COUNT(*) FROM membership WHERE dossier = ?1")?
                    .query_row(params![&dossier.0[..]], |r| r.get(0))?;
                Ok(count as u64)
            },
        )?;
        if !stale.is_empty() {
            return Err(StoreError::Stale(stale));
        }
        let mut arrivals = Vec::with_capacity(batch.len());
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO envelopes (dossier, writer, counter, body, channel)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for e in batch {
                stmt.execute(params![
                    &e.dossier.0[..],
                    &e.writer[..],
                    e.counter as i64,
                    &e.bytes,
                    e.channel as i64
                ])?;
                arrivals.push(tx.last_insert_rowid());
            }
        }
        // In the same transaction: the counters never lag or lead the stored envelopes.
        for ((dossier, writer, channel), counter) in highest_counters(batch) {
            raise_counter(&tx, &dossier.0, &writer, channel, counter)?;
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
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(
            "SELECT arrival, writer, body FROM envelopes WHERE dossier = ?1 AND arrival > ?2
             ORDER BY arrival LIMIT ?3",
        )?;
        let mut rows = stmt.query(params![&dossier.0[..], after, max_rows as i64])?;
        let (mut out, mut bytes) = (Vec::new(), 0);
        while let Some(r) = rows.next()? {
            let body: Vec<u8> = r.get(2)?;
            if !out.is_empty() && bytes + body.len() > max_bytes {
                break;
            }
            bytes += body.len();
            let writer = r
                .get_ref(1)?
                .as_blob()
                .map_or(MemberKey::default(), |w| w.try_into().unwrap_or_default());
            out.push(Arrived {
                arrival: r.get(0)?,
                writer,
                bytes: body,
            });
        }
        Ok(out)
    }

    fn last_arrivals(
        &self,
        dossiers: &[DossierId],
    ) -> Result<Vec<(DossierId, Arrival)>, StoreError> {
        let conn = self.reader();
        let mut stmt =
            conn.prepare_cached("SELECT MAX(arrival) FROM envelopes WHERE dossier = ?1")?;
        let mut out = Vec::new();
        for dossier in dossiers {
            let last: Option<i64> = stmt.query_row(params![&dossier.0[..]], |r| r.get(0))?;
            out.extend(last.map(|last| (*dossier, last)));
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
        // pages (arrival order) or with the live updates; replicas drop duplicates.
        let mut out = Vec::new();
        let Some(first) = self.first_arrival_after(dossier, since)? else {
            return Ok(out);
        };
        let mut after = first - 1;
        loop {
            let conn = self.reader();
            let mut stmt = conn.prepare_cached(
                "SELECT arrival, writer, counter, body, pruned_at IS NOT NULL FROM envelopes
                 WHERE dossier = ?1 AND arrival > ?2 ORDER BY arrival LIMIT ?3",
            )?;
            let mut rows = stmt.query(params![&dossier.0[..], after, PAGE_ROWS])?;
            let (mut read, mut bytes) = (0, 0);
            while let Some(r) = rows.next()? {
                after = r.get(0)?;
                read += 1;
                let writer: MemberKey = r
                    .get_ref(1)?
                    .as_blob()
                    .map_or(MemberKey::default(), |w| w.try_into().unwrap_or_default());
                let counter: i64 = r.get(2)?;
                let pruned: bool = r.get(4)?;
                if (include_pruned || !pruned)
                    && counter as u64 > since.get(&writer).copied().unwrap_or(0)
                {
                    let body: Vec<u8> = r.get(3)?;
                    bytes += body.len();
                    out.push(body);
                }
                if bytes >= PAGE_BYTES {
                    break;
                }
            }
            if read == 0 {
                return Ok(out);
            }
        }
    }

    fn last_counters(&self, dossier: &DossierId) -> Result<BTreeMap<MemberKey, u64>, StoreError> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(
            "SELECT writer, last FROM counters WHERE dossier = ?1 AND channel = 0",
        )?;
        let rows = stmt.query_map(params![&dossier.0[..]], |r| {
            Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, i64>(1)?))
        })?;
        let mut out = BTreeMap::new();
        for row in rows {
            let (w, c) = row?;
            if let Ok(w) = <MemberKey>::try_from(w.as_slice()) {
                out.insert(w, c as u64);
            }
        }
        Ok(out)
    }
}

impl SnapshotStore for SqliteStore {
    fn active_snapshot(&self, dossier: &DossierId) -> Result<Option<StoredSnapshot>, StoreError> {
        let conn = self.reader();
        Ok(conn
            .prepare_cached(
                "SELECT id, body, covers FROM snapshots WHERE dossier = ?1 AND active = 1",
            )?
            .query_row(params![&dossier.0[..]], |r| {
                Ok((
                    r.get::<_, Vec<u8>>(0)?,
                    r.get::<_, Vec<u8>>(1)?,
                    r.get::<_, Vec<u8>>(2)?,
                ))
            })
            .optional()?
            .map(|(id, bytes, covers)| StoredSnapshot {
                id: id.as_slice().try_into().unwrap_or([0; 32]),
                bytes,
                covers: decode_covers(&covers),
            }))
    }

    fn put_snapshot(
        &self,
        dossier: &DossierId,
        snapshot: &StoredSnapshot,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut conn = self.writer();
        let tx = conn.transaction()?;
        refuse_if_deleted(&tx, dossier)?;
        tx.execute(
            "UPDATE snapshots SET active = 0 WHERE dossier = ?1",
            params![&dossier.0[..]],
        )?;
        tx.execute(
            "INSERT INTO snapshots (dossier, id, body, covers, created, active) VALUES (?1, ?2, ?3, ?4, ?5, 1)",
            params![&dossier.0[..], &snapshot.id[..], &snapshot.bytes, encode_covers(&snapshot.covers), now],
        )?;
        // Written first, pruned after, in the same transaction: never a moment without both.
        {
            let mut stmt = tx.prepare_cached(
                "UPDATE envelopes SET pruned_at = ?4
                 WHERE dossier = ?1 AND writer = ?2 AND counter <= ?3 AND pruned_at IS NULL
                   AND channel = 0",
            )?;
            for (w, c) in &snapshot.covers {
                stmt.execute(params![&dossier.0[..], &w[..], *c as i64, now])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn purge(&self, before: i64) -> Result<usize, StoreError> {
        let conn = self.writer();
        Ok(conn.execute(
            "DELETE FROM envelopes WHERE pruned_at IS NOT NULL AND pruned_at < ?1",
            params![before],
        )?)
    }
}

impl JuryKeyStore for SqliteStore {
    fn put_jury_grants(
        &self,
        dossier: &DossierId,
        epoch: u32,
        granter: &MemberKey,
        key_id: &[u8; 16],
        grants: &[(MemberKey, Vec<u8>)],
    ) -> Result<bool, StoreError> {
        let mut conn = self.writer();
        let tx = conn.transaction()?;
        refuse_if_deleted(&tx, dossier)?;
        tx.execute(
            "INSERT OR IGNORE INTO juror_keys (dossier, epoch, granter, key_id)
             VALUES (?1, ?2, ?3, ?4)",
            params![&dossier.0[..], epoch, &granter[..], &key_id[..]],
        )?;
        let current: Vec<u8> = tx.query_row(
            "SELECT key_id FROM juror_keys WHERE dossier = ?1 AND epoch = ?2 AND granter = ?3",
            params![&dossier.0[..], epoch, &granter[..]],
            |r| r.get(0),
        )?;
        if current != key_id[..] {
            return Ok(false);
        }
        {
            let mut stmt = tx.prepare_cached(
                "INSERT OR IGNORE INTO juror_grants (dossier, epoch, granter, recipient, wrapped)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for (to, wrapped) in grants {
                stmt.execute(params![
                    &dossier.0[..],
                    epoch,
                    &granter[..],
                    &to[..],
                    wrapped
                ])?;
            }
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
        let conn = self.reader();
        let key_id = conn
            .prepare_cached(
                "SELECT key_id FROM juror_keys WHERE dossier = ?1 AND epoch = ?2 AND granter = ?3",
            )?
            .query_row(params![&dossier.0[..], epoch, &juror[..]], |r| {
                r.get::<_, Vec<u8>>(0)
            })
            .optional()?
            .and_then(|k| <[u8; 16]>::try_from(k.as_slice()).ok());
        let granted = conn
            .prepare_cached(
                "SELECT recipient FROM juror_grants
                 WHERE dossier = ?1 AND epoch = ?2 AND granter = ?3",
            )?
            .query_map(params![&dossier.0[..], epoch, &juror[..]], |r| {
                r.get::<_, Vec<u8>>(0)
            })?
            .filter_map(|r| {
                r.ok()
                    .and_then(|k| <MemberKey>::try_from(k.as_slice()).ok())
            })
            .collect();
        // The shared key's grants of earlier versions first, then each juror's.
        let mine = conn
            .prepare_cached(
                "SELECT g.epoch, k.key_id, g.wrapped, 0 AS new, X'' AS granter FROM jury_grants g
                 JOIN jury_keys k ON k.dossier = g.dossier AND k.epoch = g.epoch
                 WHERE g.dossier = ?1 AND g.recipient = ?2
                 UNION ALL
                 SELECT g.epoch, k.key_id, g.wrapped, 1 AS new, g.granter FROM juror_grants g
                 JOIN juror_keys k
                     ON k.dossier = g.dossier AND k.epoch = g.epoch AND k.granter = g.granter
                 WHERE g.dossier = ?1 AND g.recipient = ?2
                 ORDER BY 4, 1, 5",
            )?
            .query_map(params![&dossier.0[..], &juror[..]], |r| {
                Ok((
                    r.get::<_, u32>(0)?,
                    r.get::<_, Vec<u8>>(1)?,
                    r.get::<_, Vec<u8>>(2)?,
                ))
            })?
            .filter_map(|r| {
                let (epoch, key_id, wrapped) = r.ok()?;
                Some(JuryGrant {
                    epoch,
                    key_id: key_id.as_slice().try_into().ok()?,
                    wrapped,
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

impl EvidenceStore for SqliteStore {
    fn put_piece(
        &self,
        dossier: &DossierId,
        blob: &BlobId,
        device: &MemberKey,
        index: u32,
        bytes: &[u8],
        last: bool,
    ) -> Result<PieceState, StoreError> {
        let mut conn = self.writer();
        let tx = conn.transaction()?;
        refuse_if_deleted(&tx, dossier)?;
        let (stored, complete, uploader): (u32, bool, Option<Vec<u8>>) = tx
            .query_row(
                "SELECT stored, complete, uploader FROM blobs WHERE dossier = ?1 AND blob = ?2",
                params![&dossier.0[..], &blob.0[..]],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?
            .unwrap_or((0, false, None));
        if uploader.is_some_and(|u| u != device[..]) {
            return Err(StoreError::NotUploader);
        }
        if index < stored || complete {
            return Ok(PieceState { stored, complete });
        }
        if index != stored {
            return Err(StoreError::OutOfOrder { expected: stored });
        }
        let used: i64 = tx.query_row(
            "SELECT COALESCE(SUM(bytes), 0) FROM blobs WHERE dossier = ?1",
            params![&dossier.0[..]],
            |r| r.get(0),
        )?;
        if used + bytes.len() as i64 > MAX_DOSSIER_EVIDENCE {
            return Err(StoreError::Full);
        }
        tx.execute(
            "INSERT INTO pieces (dossier, blob, idx, body) VALUES (?1, ?2, ?3, ?4)",
            params![&dossier.0[..], &blob.0[..], index, bytes],
        )?;
        tx.execute(
            "INSERT INTO blobs (dossier, blob, stored, bytes, complete, uploader)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (dossier, blob) DO UPDATE SET
                 stored = excluded.stored, bytes = bytes + excluded.bytes,
                 complete = excluded.complete,
                 uploader = COALESCE(uploader, excluded.uploader)",
            params![
                &dossier.0[..],
                &blob.0[..],
                index + 1,
                bytes.len() as i64,
                last,
                &device[..]
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
        let conn = self.reader();
        let state: Option<(u32, bool)> = conn
            .query_row(
                "SELECT stored, complete FROM blobs WHERE dossier = ?1 AND blob = ?2",
                params![&dossier.0[..], &blob.0[..]],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((stored, complete)) = state else {
            return Ok(None);
        };
        let body: Option<Vec<u8>> = conn
            .query_row(
                "SELECT body FROM pieces WHERE dossier = ?1 AND blob = ?2 AND idx = ?3",
                params![&dossier.0[..], &blob.0[..], index],
                |r| r.get(0),
            )
            .optional()?;
        Ok(body.map(|b| (b, complete && index + 1 == stored)))
    }

    fn erase_blob(&self, dossier: &DossierId, blob: &BlobId) -> Result<bool, StoreError> {
        let mut conn = self.writer();
        let tx = conn.transaction()?;
        let known: Option<i64> = tx
            .query_row(
                "SELECT 1 FROM blobs WHERE dossier = ?1 AND blob = ?2",
                params![&dossier.0[..], &blob.0[..]],
                |r| r.get(0),
            )
            .optional()?;
        if known.is_none() {
            return Ok(false);
        }
        for table in ["pieces", "blobs"] {
            tx.execute(
                &format!("DELETE FROM {table} WHERE dossier = ?1 AND blob = ?2"),
                params![&dossier.0[..], &blob.0[..]],
            )?;
        }
        tx.commit()?;
        // As for a deleted dossier: the erased pages are zeros (secure_delete), and the log
        // that still holds the frames that wrote them is emptied. The erasure stands
        // whatever the checkpoint says (the next one empties the log).
        let checkpoint: Result<(i64, i64, i64), _> =
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            });
        if !matches!(checkpoint, Ok((0, _, _))) {
            tracing::warn!("write-ahead log not emptied after an erasure (a reader was busy)");
        }
        Ok(true)
    }
}

impl InvitationStore for SqliteStore {
    fn create_invitation(
        &self,
        invitation: &Invitation,
        mail: &OutgoingMail,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut conn = self.writer();
        let tx = conn.transaction()?;
        refuse_if_deleted(&tx, &invitation.dossier)?;
        tx.execute(
            "INSERT INTO invitations (id, token_hash, dossier, role, inviter, expires, answer)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL)",
            params![
                &invitation.id[..],
                &invitation.token_hash[..],
                &invitation.dossier.0[..],
                role_code(invitation.role),
                &invitation.inviter[..],
                invitation.expires,
            ],
        )?;
        insert_mail(&tx, &invitation.dossier, mail, now)?;
        tx.commit()?;
        Ok(())
    }

    fn invitation_by_token(&self, token_hash: &[u8; 32]) -> Result<Option<Invitation>, StoreError> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(
            "SELECT id, token_hash, dossier, role, inviter, expires, answer
             FROM invitations WHERE token_hash = ?1",
        )?;
        let row = stmt
            .query_row(params![&token_hash[..]], invitation_row)
            .optional()?;
        Ok(row.flatten())
    }

    fn answer_invitation(&self, id: &[u8; 16], identity: &str) -> Result<bool, StoreError> {
        let conn = self.writer();
        conn.execute(
            "UPDATE invitations SET answer = ?2 WHERE id = ?1 AND answer IS NULL",
            params![&id[..], identity],
        )?;
        let answer: Option<String> = conn
            .query_row(
                "SELECT answer FROM invitations WHERE id = ?1",
                params![&id[..]],
                |r| r.get(0),
            )
            .optional()?
            .flatten();
        Ok(answer.as_deref() == Some(identity))
    }

    fn answered_invitations(&self, dossier: &DossierId) -> Result<Vec<Invitation>, StoreError> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(
            "SELECT id, token_hash, dossier, role, inviter, expires, answer
             FROM invitations WHERE dossier = ?1 AND answer IS NOT NULL ORDER BY expires, id",
        )?;
        let rows = stmt.query_map(params![&dossier.0[..]], invitation_row)?;
        let mut out = Vec::new();
        for row in rows {
            out.extend(row?);
        }
        Ok(out)
    }
}

/// A dossier's retention from its row: (id, active, jury, contact, warned_ends, warned_days,
/// retain_notice), for a retention of `retention_ms`.
fn retention_row(r: &rusqlite::Row<'_>, retention_ms: i64) -> rusqlite::Result<Option<Retention>> {
    let id: Vec<u8> = r.get(0)?;
    let Ok(id) = <[u8; 16]>::try_from(id.as_slice()) else {
        return Ok(None);
    };
    Ok(Some(Retention::from_columns(
        DossierId(id),
        r.get(1)?,
        r.get(2)?,
        r.get(3).ok().flatten(),
        (r.get(4)?, r.get(5)?),
        r.get(6).ok().flatten(),
        retention_ms,
    )))
}

const RETENTION_COLUMNS: &str =
    "id, active, jury, contact, warned_ends, warned_days, retain_notice";

impl HoldingsStore for SqliteStore {
    fn held(&self, dossier: &DossierId) -> Result<Option<Held>, StoreError> {
        let mut conn = self.reader();
        // One read transaction: the counts of one moment.
        let tx = conn.transaction()?;
        let id = &dossier.0[..];
        let Some((active_ms, jury_ms)) = tx
            .query_row(
                "SELECT active, jury FROM dossiers WHERE id = ?1",
                params![id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
        else {
            return Ok(None);
        };
        let tally = |sql: &str| -> Result<Tally, StoreError> {
            let (count, bytes): (i64, i64) =
                tx.query_row(sql, params![id], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(Tally {
                count: count as u64,
                bytes: bytes as u64,
            })
        };
        let envelopes = tally(
            "SELECT COUNT(*), COALESCE(SUM(LENGTH(body)), 0) FROM envelopes WHERE dossier = ?1",
        )?;
        let snapshots = tally(
            "SELECT COUNT(*), COALESCE(SUM(LENGTH(body)), 0) FROM snapshots WHERE dossier = ?1",
        )?;
        let evidence =
            tally("SELECT COUNT(*), COALESCE(SUM(bytes), 0) FROM blobs WHERE dossier = ?1")?;
        let review_keys: i64 = tx.query_row(
            "SELECT (SELECT COUNT(*) FROM jury_keys WHERE dossier = ?1)
                  + (SELECT COUNT(*) FROM jury_grants WHERE dossier = ?1)
                  + (SELECT COUNT(*) FROM juror_keys WHERE dossier = ?1)
                  + (SELECT COUNT(*) FROM juror_grants WHERE dossier = ?1)",
            params![id],
            |r| r.get(0),
        )?;
        let invitations = tx
            .prepare(
                "SELECT role, expires, answer IS NOT NULL FROM invitations
                 WHERE dossier = ?1 ORDER BY expires",
            )?
            .query_map(params![id], |r| {
                Ok((r.get::<_, i64>(0)?, r.get(1)?, r.get(2)?))
            })?
            .filter_map(|row| match row {
                Ok((role, expires_ms, answered)) => Some(Ok(HeldInvitation {
                    role: role_from(role)?,
                    expires_ms,
                    answered,
                })),
                Err(e) => Some(Err(e)),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mails = tx
            .prepare(
                "SELECT recipient, subject, next_attempt FROM mail_queue
                 WHERE dossier = ?1 ORDER BY next_attempt, id",
            )?
            .query_map(params![id], |r| {
                Ok(HeldMail {
                    recipient: r.get(0)?,
                    subject: r.get(1)?,
                    due_ms: r.get(2)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
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

impl RetentionStore for SqliteStore {
    fn touch(&self, dossiers: &[DossierId], now: i64) -> Result<(), StoreError> {
        let mut conn = self.writer();
        let tx = conn.transaction()?;
        {
            let mut stmt =
                tx.prepare_cached("UPDATE dossiers SET active = ?2 WHERE id = ?1 AND active < ?2")?;
            for d in dossiers {
                stmt.execute(params![&d.0[..], now])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn retain(
        &self,
        dossier: &DossierId,
        notice: &[u8],
        effective_ms: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        let conn = self.writer();
        conn.execute(
            "UPDATE dossiers SET active = MAX(active, ?4),
                 retain_notice = CASE WHEN COALESCE(retain_effective, 0) <= ?3
                                      THEN ?2 ELSE retain_notice END,
                 retain_effective = MAX(COALESCE(retain_effective, 0), ?3)
             WHERE id = ?1",
            params![&dossier.0[..], notice, effective_ms, now],
        )?;
        Ok(())
    }

    fn set_jury(
        &self,
        dossier: &DossierId,
        jury_ms: Option<i64>,
        contact: Option<&str>,
    ) -> Result<(), StoreError> {
        let conn = self.writer();
        conn.execute(
            "UPDATE dossiers SET jury = ?2, contact = ?3 WHERE id = ?1",
            params![&dossier.0[..], jury_ms, contact],
        )?;
        Ok(())
    }

    fn retention(
        &self,
        dossier: &DossierId,
        retention_ms: i64,
    ) -> Result<Option<Retention>, StoreError> {
        let conn = self.reader();
        let row = conn
            .prepare_cached(&format!(
                "SELECT {RETENTION_COLUMNS} FROM dossiers WHERE id = ?1"
            ))?
            .query_row(params![&dossier.0[..]], |r| retention_row(r, retention_ms))
            .optional()?;
        Ok(row.flatten())
    }

    fn retention_due(
        &self,
        retention_ms: i64,
        until: i64,
        limit: usize,
    ) -> Result<Vec<Retention>, StoreError> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {RETENTION_COLUMNS} FROM dossiers
             WHERE active > 0 AND MAX(active, COALESCE(jury, 0)) + ?1 <= ?2
             ORDER BY MAX(active, COALESCE(jury, 0)) LIMIT ?3"
        ))?;
        let rows = stmt.query_map(params![retention_ms, until, limit as i64], |r| {
            retention_row(r, retention_ms)
        })?;
        let mut out = Vec::new();
        for row in rows {
            out.extend(row?);
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
        let mut conn = self.writer();
        let tx = conn.transaction()?;
        refuse_if_deleted(&tx, dossier)?;
        tx.execute(
            "UPDATE dossiers SET warned_ends = ?2, warned_days = ?3 WHERE id = ?1",
            params![&dossier.0[..], ends_ms, days],
        )?;
        insert_mail(&tx, dossier, mail, now)?;
        tx.commit()?;
        Ok(())
    }
}

impl MailQueue for SqliteStore {
    fn claim_mail(
        &self,
        now: i64,
        lease_until: i64,
        limit: usize,
    ) -> Result<Vec<QueuedMail>, StoreError> {
        let mut conn = self.writer();
        let tx = conn.transaction()?;
        let claimed: Vec<QueuedMail> = {
            let mut stmt = tx.prepare_cached(
                "SELECT id, recipient, subject, body, attempts FROM mail_queue
                 WHERE next_attempt <= ?1 ORDER BY next_attempt, id LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![now, limit as i64], |r| {
                Ok(QueuedMail {
                    id: r.get(0)?,
                    mail: OutgoingMail {
                        to: r.get(1)?,
                        subject: r.get(2)?,
                        body: r.get(3)?,
                    },
                    attempts: r.get(4)?,
                })
            })?;
            rows.collect::<Result<_, _>>()?
        };
        for q in &claimed {
            tx.prepare_cached("UPDATE mail_queue SET next_attempt = ?2 WHERE id = ?1")?
                .execute(params![q.id, lease_until])?;
        }
        tx.commit()?;
        Ok(claimed)
    }

    fn next_mail_due(&self) -> Result<Option<i64>, StoreError> {
        let conn = self.reader();
        Ok(conn.query_row("SELECT MIN(next_attempt) FROM mail_queue", [], |r| r.get(0))?)
    }

    fn mail_sent(&self, id: i64) -> Result<(), StoreError> {
        let mut conn = self.writer();
        let tx = conn.transaction()?;
        tx.execute("DELETE FROM mail_queue WHERE id = ?1", params![id])?;
        tx.execute("DELETE FROM reminders WHERE mail = ?1", params![id])?;
        tx.execute(
            "INSERT INTO reminders_at_once (dossier, at)
             SELECT dossier, CAST(unixepoch('subsec') * 1000 AS INTEGER)
             FROM reminders_pending_at_once WHERE mail = ?1
             ON CONFLICT (dossier) DO UPDATE SET at = excluded.at",
            params![id],
        )?;
        tx.execute(
            "DELETE FROM reminders_pending_at_once WHERE mail = ?1",
            params![id],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn set_reminders(
        &self,
        dossier: &DossierId,
        mails: &[(OutgoingMail, i64)],
        at_once: Option<(OutgoingMail, i64)>,
        quiet_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut conn = self.writer();
        let tx = conn.transaction()?;
        refuse_if_deleted(&tx, dossier)?;
        tx.execute(
            "DELETE FROM mail_queue WHERE id IN (SELECT mail FROM reminders WHERE dossier = ?1)",
            params![&dossier.0[..]],
        )?;
        tx.execute(
            "DELETE FROM reminders WHERE dossier = ?1",
            params![&dossier.0[..]],
        )?;
        tx.execute(
            "DELETE FROM reminders_pending_at_once WHERE dossier = ?1",
            params![&dossier.0[..]],
        )?;
        let mut queued_at_once = false;
        if let Some((mail, at)) = at_once {
            let last: Option<i64> = tx
                .query_row(
                    "SELECT at FROM reminders_at_once WHERE dossier = ?1",
                    params![&dossier.0[..]],
                    |r| r.get(0),
                )
                .optional()?;
            if last.is_none_or(|sent| at - sent >= quiet_ms) {
                let id = insert_mail(&tx, dossier, &mail, at)?;
                for table in ["reminders", "reminders_pending_at_once"] {
                    tx.execute(
                        &format!("INSERT INTO {table} (mail, dossier) VALUES (?1, ?2)"),
                        params![id, &dossier.0[..]],
                    )?;
                }
                queued_at_once = true;
            }
        }
        for (mail, at) in mails {
            let id = insert_mail(&tx, dossier, mail, *at)?;
            tx.execute(
                "INSERT INTO reminders (mail, dossier) VALUES (?1, ?2)",
                params![id, &dossier.0[..]],
            )?;
        }
        tx.commit()?;
        Ok(queued_at_once)
    }

    fn mail_failed(&self, id: i64, attempts: u32, next_attempt: i64) -> Result<(), StoreError> {
        let conn = self.writer();
        conn.execute(
            "UPDATE mail_queue SET attempts = ?2, next_attempt = ?3 WHERE id = ?1",
            params![id, attempts, next_attempt],
        )?;
        Ok(())
    }

    fn mail_abandoned(&self, id: i64) -> Result<(), StoreError> {
        let mut conn = self.writer();
        let tx = conn.transaction()?;
        tx.execute("DELETE FROM mail_queue WHERE id = ?1", params![id])?;
        tx.execute("DELETE FROM reminders WHERE mail = ?1", params![id])?;
        tx.execute(
            "DELETE FROM reminders_pending_at_once WHERE mail = ?1",
            params![id],
        )?;
        tx.commit()?;
        Ok(())
    }
}

fn insert_mail(
    conn: &Connection,
    dossier: &DossierId,
    mail: &OutgoingMail,
    now: i64,
) -> Result<i64, StoreError> {
    conn.execute(
        "INSERT INTO mail_queue (recipient, subject, body, attempts, next_attempt, dossier)
         VALUES (?1, ?2, ?3, 0, ?4, ?5)",
        params![mail.to, mail.subject, mail.body, now, &dossier.0[..]],
    )?;
    Ok(conn.last_insert_rowid())
}

/// An `invitations` row; `None` when it does not read back (a role or id this build does not
/// know), so one odd row does not hide the others.
fn invitation_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Option<Invitation>> {
    let id: Vec<u8> = r.get(0)?;
    let token_hash: Vec<u8> = r.get(1)?;
    let dossier: Vec<u8> = r.get(2)?;
    let inviter: Vec<u8> = r.get(4)?;
    let (Ok(id), Ok(token_hash), Ok(dossier), Ok(inviter), Some(role)) = (
        <[u8; 16]>::try_from(id.as_slice()),
        <[u8; 32]>::try_from(token_hash.as_slice()),
        <[u8; 16]>::try_from(dossier.as_slice()),
        <MemberKey>::try_from(inviter.as_slice()),
        role_from(r.get(3)?),
    ) else {
        return Ok(None);
    };
    Ok(Some(Invitation {
        id,
        token_hash,
        dossier: DossierId(dossier),
        role,
        inviter,
        expires: r.get(5)?,
        answer: r.get(6)?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh(label: &str) -> (std::path::PathBuf, SqliteStore) {
        let dir = std::env::temp_dir().join(format!("livret-store-{label}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let store = SqliteStore::open(&dir.join("relay.sqlite3")).unwrap();
        (dir, store)
    }

    /// A database made before envelopes recorded their channel opens, its envelopes on the
    /// dossier channel; a snapshot prunes the dossier channel only, jurors' envelopes stay.
    #[test]
    fn envelopes_keep_their_channel_and_snapshots_prune_the_dossier_channel_only() {
        let dir = std::env::temp_dir().join(format!("livret-store-canal-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("relay.sqlite3");
        {
            let old = Connection::open(&path).unwrap();
            old.execute_batch(
                "CREATE TABLE envelopes (
                     arrival INTEGER PRIMARY KEY AUTOINCREMENT,
                     dossier BLOB NOT NULL, writer BLOB NOT NULL, counter INTEGER NOT NULL,
                     body BLOB NOT NULL, pruned_at INTEGER, UNIQUE (dossier, writer, counter));
                 INSERT INTO envelopes (dossier, writer, counter, body)
                     VALUES (x'05050505050505050505050505050505', zeroblob(32), 1, x'01');",
            )
            .unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        let d = DossierId([5; 16]);
        let (owner, juror) = (MemberKey([0; 32]), MemberKey([6; 32]));
        store
            .append_envelopes(&[
                NewEnvelope {
                    dossier: d,
                    writer: owner,
                    counter: 2,
                    channel: Channel::Dossier,
                    bytes: vec![2],
                    members_seen: 0,
                },
                NewEnvelope {
                    dossier: d,
                    writer: juror,
                    counter: 1,
                    channel: Channel::Review,
                    bytes: vec![3],
                    members_seen: 0,
                },
            ])
            .unwrap();
        assert_eq!(
            store.last_counters(&d).unwrap(),
            BTreeMap::from([(owner, 2)]),
            "the dossier channel's history, the old row included"
        );
        store
            .put_snapshot(
                &d,
                &StoredSnapshot {
                    id: [1; 32],
                    bytes: vec![9],
                    covers: BTreeMap::from([(owner, 2), (juror, 1)]),
                },
                100,
            )
            .unwrap();
        let left = store.envelopes_since(&d, &BTreeMap::new(), false).unwrap();
        assert_eq!(left, vec![vec![3]], "the juror's envelope is never pruned");
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A database of the version before numbered migrations, whose rows a snapshot pruned
    /// and the purge deleted: the counters come back from the snapshots' covers and from
    /// the rows left, pruned or not.
    #[test]
    fn counters_come_back_from_snapshots_when_the_previous_version_purged_the_rows() {
        let dir = std::env::temp_dir().join(format!("livret-store-v1-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("relay.sqlite3");
        let d = DossierId([8; 16]);
        let (quiet, busy, juror) = (MemberKey([1; 32]), MemberKey([2; 32]), MemberKey([3; 32]));
        {
            let old = Connection::open(&path).unwrap();
            old.execute_batch(
                "CREATE TABLE envelopes (
                     arrival INTEGER PRIMARY KEY AUTOINCREMENT,
                     dossier BLOB NOT NULL, writer BLOB NOT NULL, counter INTEGER NOT NULL,
                     body BLOB NOT NULL, pruned_at INTEGER, UNIQUE (dossier, writer, counter));
                 ALTER TABLE envelopes ADD COLUMN channel INTEGER NOT NULL DEFAULT 0;
                 CREATE TABLE snapshots (
                     dossier BLOB NOT NULL, id BLOB NOT NULL, body BLOB NOT NULL,
                     covers BLOB NOT NULL, created INTEGER NOT NULL, active INTEGER NOT NULL,
                     PRIMARY KEY (dossier, id)) WITHOUT ROWID;
                 CREATE TABLE blobs (
                     dossier BLOB NOT NULL, blob BLOB NOT NULL, stored INTEGER NOT NULL,
                     bytes INTEGER NOT NULL, complete INTEGER NOT NULL,
                     PRIMARY KEY (dossier, blob)) WITHOUT ROWID;",
            )
            .unwrap();
            let insert = |w: MemberKey, c: i64, pruned: Option<i64>, channel: i64| {
                old.execute(
                    "INSERT INTO envelopes (dossier, writer, counter, body, pruned_at, channel)
                     VALUES (?1, ?2, ?3, x'00', ?4, ?5)",
                    params![&d.0[..], &w[..], c, pruned, channel],
                )
                .unwrap();
            };
            // The busy writer: 4 pruned (not yet purged), 5 and 6 after the snapshot.
            insert(busy, 4, Some(100), 0);
            insert(busy, 5, None, 0);
            insert(busy, 6, None, 0);
            insert(juror, 9, None, 1);
            let covers = |c: &[(MemberKey, u64)]| encode_covers(&c.iter().copied().collect());
            for (id, cover, active) in [
                (1u8, covers(&[(quiet, 2), (busy, 1)]), 0),
                (2, covers(&[(quiet, 5), (busy, 4)]), 1),
            ] {
                old.execute(
                    "INSERT INTO snapshots VALUES (?1, ?2, x'00', ?3, 100, ?4)",
                    params![&d.0[..], &MemberKey([id; 32])[..], cover, active],
                )
                .unwrap();
            }
        }
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.last_counter(&d, &quiet).unwrap(), 5);
        assert_eq!(store.last_counter(&d, &busy).unwrap(), 6);
        assert_eq!(store.last_counter(&d, &juror).unwrap(), 9);
        assert_eq!(
            store.last_counters(&d).unwrap(),
            BTreeMap::from([(quiet, 5), (busy, 6)])
        );
        drop(store);
        // Opened again: nothing migrates twice.
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.last_counter(&d, &quiet).unwrap(), 5);
        let version: i64 = store
            .read
            .lock()
            .unwrap()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        drop(store);
        // A database from a later version is not touched.
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        assert!(matches!(
            SqliteStore::open(&path),
            Err(StoreError::Newer { .. })
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A file stored before uploaders were recorded (migration 3) goes to the next device
    /// that adds a piece to it, and then to it only. What every store does with evidence is
    /// in `conformance.rs`.
    #[test]
    fn an_evidence_file_from_before_uploaders_goes_to_the_next_one() {
        let (dir, store) = fresh("pieces");
        let d = DossierId([4; 16]);
        let (candidate, advisor) = (MemberKey([1; 32]), MemberKey([2; 32]));
        // A file begun before the migration: no uploader; the next piece's device has it.
        let legacy = BlobId([3; 16]);
        store
            .put_piece(&d, &legacy, &candidate, 0, b"x", false)
            .unwrap();
        store
            .write
            .lock()
            .unwrap()
            .execute(
                "UPDATE blobs SET uploader = NULL WHERE blob = ?1",
                params![&legacy.0[..]],
            )
            .unwrap();
        store
            .put_piece(&d, &legacy, &candidate, 1, b"y", false)
            .unwrap();
        assert!(matches!(
            store.put_piece(&d, &legacy, &advisor, 2, b"z", true),
            Err(StoreError::NotUploader)
        ));
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
