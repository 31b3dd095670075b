//! The relay's storage: membership logs and per-(dossier, writer) append-only envelope logs.
//! Ciphertext only. A trait, so another backend (Postgres) can sit behind the same relay.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use livret_shared::envelope::DossierId;
use rusqlite::{Connection, OptionalExtension, params};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("base de données : {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("le dossier existe déjà")]
    Exists,
}

/// One envelope to append: (dossier, writer, counter, channel, bytes).
pub struct NewEnvelope {
    pub dossier: DossierId,
    pub writer: [u8; 32],
    pub counter: u64,
    pub bytes: Vec<u8>,
}

pub trait Store: Send + Sync + 'static {
    fn create_dossier(&self, dossier: &DossierId, entry: &[u8]) -> Result<(), StoreError>;
    fn append_membership(
        &self,
        dossier: &DossierId,
        seq: u64,
        entry: &[u8],
    ) -> Result<(), StoreError>;
    fn membership_log(&self, dossier: &DossierId) -> Result<Vec<Vec<u8>>, StoreError>;
    fn last_counter(&self, dossier: &DossierId, writer: &[u8; 32]) -> Result<u64, StoreError>;
    fn envelope_at(
        &self,
        dossier: &DossierId,
        writer: &[u8; 32],
        counter: u64,
    ) -> Result<Option<Vec<u8>>, StoreError>;
    /// Appends a batch in one transaction: all are durable when this returns, or none.
    fn append_envelopes(&self, batch: &[NewEnvelope]) -> Result<(), StoreError>;
    /// Envelopes after `since` (last counter per writer), in arrival order.
    fn envelopes_since(
        &self,
        dossier: &DossierId,
        since: &BTreeMap<[u8; 32], u64>,
    ) -> Result<Vec<Vec<u8>>, StoreError>;
}

pub struct SqliteStore {
    /// Writes go through one connection (the appender is single-threaded anyway).
    write: Mutex<Connection>,
    /// Reads use their own connection: WAL lets them run beside a write.
    read: Mutex<Connection>,
}

impl SqliteStore {
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let write = Connection::open(path)?;
        // WAL: readers do not block the writer. synchronous=FULL: a commit is on disk before
        // the relay acknowledges it, so an acknowledged envelope survives a crash.
        write.pragma_update(None, "journal_mode", "WAL")?;
        write.pragma_update(None, "synchronous", "FULL")?;
        write.execute_batch(
            "CREATE TABLE IF NOT EXISTS dossiers (
                 id BLOB PRIMARY KEY
             ) WITHOUT ROWID;
             CREATE TABLE IF NOT EXISTS membership (
                 dossier BLOB NOT NULL,
                 seq INTEGER NOT NULL,
                 entry BLOB NOT NULL,
                 PRIMARY KEY (dossier, seq)
             ) WITHOUT ROWID;
             CREATE TABLE IF NOT EXISTS envelopes (
                 arrival INTEGER PRIMARY KEY AUTOINCREMENT,
                 dossier BLOB NOT NULL,
                 writer BLOB NOT NULL,
                 counter INTEGER NOT NULL,
                 body BLOB NOT NULL,
                 UNIQUE (dossier, writer, counter)
             );
             CREATE INDEX IF NOT EXISTS envelopes_by_dossier ON envelopes (dossier, arrival);",
        )?;
        let read = Connection::open(path)?;
        Ok(SqliteStore {
            write: Mutex::new(write),
            read: Mutex::new(read),
        })
    }
}

impl Store for SqliteStore {
    fn create_dossier(&self, dossier: &DossierId, entry: &[u8]) -> Result<(), StoreError> {
        let mut conn = self.write.lock().expect("store lock");
        let tx = conn.transaction()?;
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
        tx.commit()?;
        Ok(())
    }

    fn append_membership(
        &self,
        dossier: &DossierId,
        seq: u64,
        entry: &[u8],
    ) -> Result<(), StoreError> {
        let conn = self.write.lock().expect("store lock");
        conn.execute(
            "INSERT INTO membership (dossier, seq, entry) VALUES (?1, ?2, ?3)",
            params![&dossier.0[..], seq as i64, entry],
        )?;
        Ok(())
    }

    fn membership_log(&self, dossier: &DossierId) -> Result<Vec<Vec<u8>>, StoreError> {
        let conn = self.read.lock().expect("store lock");
        let mut stmt =
            conn.prepare_cached("SELECT entry FROM membership WHERE dossier = ?1 ORDER BY seq")?;
        let rows = stmt.query_map(params![&dossier.0[..]], |r| r.get::<_, Vec<u8>>(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn last_counter(&self, dossier: &DossierId, writer: &[u8; 32]) -> Result<u64, StoreError> {
        let conn = self.read.lock().expect("store lock");
        let last: Option<i64> = conn
            .prepare_cached(
                "SELECT MAX(counter) FROM envelopes WHERE dossier = ?1 AND writer = ?2",
            )?
            .query_row(params![&dossier.0[..], &writer[..]], |r| r.get(0))?;
        Ok(last.unwrap_or(0) as u64)
    }

    fn envelope_at(
        &self,
        dossier: &DossierId,
        writer: &[u8; 32],
        counter: u64,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let conn = self.read.lock().expect("store lock");
        Ok(conn
            .prepare_cached(
                "SELECT body FROM envelopes WHERE dossier = ?1 AND writer = ?2 AND counter = ?3",
            )?
            .query_row(params![&dossier.0[..], &writer[..], counter as i64], |r| {
                r.get(0)
            })
            .optional()?)
    }

    fn append_envelopes(&self, batch: &[NewEnvelope]) -> Result<(), StoreError> {
        let mut conn = self.write.lock().expect("store lock");
        let tx = conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO envelopes (dossier, writer, counter, body) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for e in batch {
                stmt.execute(params![
                    &e.dossier.0[..],
                    &e.writer[..],
                    e.counter as i64,
                    &e.bytes
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn envelopes_since(
        &self,
        dossier: &DossierId,
        since: &BTreeMap<[u8; 32], u64>,
    ) -> Result<Vec<Vec<u8>>, StoreError> {
        let conn = self.read.lock().expect("store lock");
        let mut stmt = conn.prepare_cached(
            "SELECT writer, counter, body FROM envelopes WHERE dossier = ?1 ORDER BY arrival",
        )?;
        let rows = stmt.query_map(params![&dossier.0[..]], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Vec<u8>>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (writer, counter, body) = row?;
            let writer: [u8; 32] = writer.as_slice().try_into().unwrap_or([0; 32]);
            if counter as u64 > since.get(&writer).copied().unwrap_or(0) {
                out.push(body);
            }
        }
        Ok(out)
    }
}
