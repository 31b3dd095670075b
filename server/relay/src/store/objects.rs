//! Evidence pieces in object storage through the S3 API (`livret serve --evidence
//! s3://bucket`), beside a PostgreSQL store: 100,000 dossiers a year with up to 100 MB of
//! evidence each do not belong in the database. The database keeps what a piece is (its
//! file, its index, who uploaded it, the dossier's quota) and where it lies; the bucket
//! keeps the bytes, ciphertext as the device sealed them.
//!
//! A piece is written under a name derived from its bytes, with If-None-Match (create
//! only): a retry after a crash between the write and its record finds the same object
//! there and records it; nothing ever overwrites a piece. It is recorded in the database
//! after the write and acknowledged after the record, so an acknowledged piece is in both.
//!
//! The client is asynchronous (`object_store`); the store is called off the async runtime,
//! so these calls run on a small runtime of their own and wait for it.

use std::sync::Arc;
use std::time::Duration;

use livret_shared::envelope::DossierId;
use livret_shared::evidence::BlobId;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey, S3ConditionalPut};
use object_store::path::Path as ObjectPath;
use object_store::{
    ClientOptions, ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, RetryConfig,
};

use super::StoreError;

/// Pieces in a bucket.
pub struct ObjectPieces {
    store: Arc<dyn ObjectStore>,
    /// Under this prefix in the bucket (from the URL's path; may be empty).
    prefix: String,
    /// Always `Some` until dropped (see `Drop`).
    runtime: Option<tokio::runtime::Runtime>,
}

impl ObjectPieces {
    /// The bucket at `url` (`s3://bucket` or `s3://bucket/prefix`), reached with the
    /// endpoint, region and credentials of the usual `AWS_*` variables (`AWS_ENDPOINT`,
    /// `AWS_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_ALLOW_HTTP=true` for
    /// a server on plain HTTP). Checked at once: a bucket that cannot be reached is said at
    /// start, not at the first upload.
    pub fn open(url: &str) -> Result<ObjectPieces, StoreError> {
        ObjectPieces::open_with(url, &[])
    }

    /// [`ObjectPieces::open`] with settings given here rather than in the environment
    /// (`aws_endpoint`, `aws_allow_http`…, as the `AWS_*` variables are named in lower case).
    pub fn open_with(url: &str, settings: &[(&str, &str)]) -> Result<ObjectPieces, StoreError> {
        let Some(rest) = url.strip_prefix("s3://") else {
            return Err(StoreError::Objects(format!(
                "{url} : attendu s3://seau ou s3://seau/préfixe"
            )));
        };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(StoreError::Objects(format!("{url} : nom de seau manquant")));
        }
        // With two crypto providers built in, rustls picks none by itself and the HTTPS
        // client cannot be made: ring, as for the mail. Already installed is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        // Bounded waits first; then the environment's settings and the given ones, which
        // add to them (the client options hold `allow_http` too: set after, not replaced).
        let mut builder = AmazonS3Builder::new()
            .with_client_options(
                ClientOptions::new()
                    .with_connect_timeout(Duration::from_secs(5))
                    .with_timeout(Duration::from_secs(60)),
            )
            .with_retry(RetryConfig {
                max_retries: 4,
                retry_timeout: Duration::from_secs(60),
                ..RetryConfig::default()
            })
            // Create only, by If-None-Match (AWS S3, MinIO, Ceph, Garage…).
            .with_conditional_put(S3ConditionalPut::ETagMatch);
        for (key, value) in std::env::vars() {
            if let Some(key) = key.strip_prefix("AWS_") {
                let key = format!("aws_{}", key.to_ascii_lowercase());
                if let Ok(key) = key.parse::<AmazonS3ConfigKey>() {
                    builder = builder.with_config(key, value);
                }
            }
        }
        for (key, value) in settings {
            let key = key
                .parse::<AmazonS3ConfigKey>()
                .map_err(|e| StoreError::Objects(e.to_string()))?;
            builder = builder.with_config(key, *value);
        }
        let store = builder
            .with_bucket_name(bucket)
            .build()
            .map_err(|e| StoreError::Objects(e.to_string()))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("livret-objects")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Objects(e.to_string()))?;
        let pieces = ObjectPieces {
            store: Arc::new(store),
            prefix: prefix.trim_matches('/').to_string(),
            runtime: Some(runtime),
        };
        // Any answer but "not found" for a name nobody writes means the bucket is not there
        // to use (unreachable, unknown, credentials refused).
        match pieces.block_on(pieces.store.head(&pieces.path("livret-probe"))) {
            Ok(_) | Err(object_store::Error::NotFound { .. }) => Ok(pieces),
            Err(e) => Err(StoreError::Objects(e.to_string())),
        }
    }

    fn block_on<F: std::future::Future>(&self, work: F) -> F::Output {
        super::assert_off_async_runtime();
        self.runtime
            .as_ref()
            .expect("runtime until drop")
            .block_on(work)
    }

    fn path(&self, name: &str) -> ObjectPath {
        if self.prefix.is_empty() {
            ObjectPath::from(name)
        } else {
            ObjectPath::from(format!("{}/{name}", self.prefix))
        }
    }

    /// Writes a piece, durably, under `name` ([`piece_name`]), unless it is there already
    /// (the same bytes, since the name is derived from them).
    pub(crate) fn put(&self, name: &str, bytes: &[u8]) -> Result<(), StoreError> {
        let options = PutOptions {
            mode: PutMode::Create,
            ..PutOptions::default()
        };
        let payload = PutPayload::from(bytes.to_vec());
        match self.block_on(self.store.put_opts(&self.path(name), payload, options)) {
            Ok(_) | Err(object_store::Error::AlreadyExists { .. }) => Ok(()),
            Err(e) => Err(StoreError::Objects(e.to_string())),
        }
    }

    /// The piece under `name`.
    pub(crate) fn get(&self, name: &str) -> Result<Vec<u8>, StoreError> {
        let path = self.path(name);
        let read = self.block_on(async { self.store.get(&path).await?.bytes().await });
        read.map(|b| b.to_vec())
            .map_err(|e| StoreError::Objects(e.to_string()))
    }
}

impl ObjectPieces {
    /// Deletes every piece of a dossier (all that lies under its name, [`piece_name`]), and
    /// says how many there were.
    pub(crate) fn delete_dossier(&self, dossier: &DossierId) -> Result<usize, StoreError> {
        self.delete_under(&format!("pieces/{}", hex::encode(dossier.0)))
    }

    /// Erases every piece of one evidence file.
    pub(crate) fn delete_blob(
        &self,
        dossier: &DossierId,
        blob: &BlobId,
    ) -> Result<usize, StoreError> {
        self.delete_under(&format!(
            "pieces/{}/{}",
            hex::encode(dossier.0),
            hex::encode(blob.0)
        ))
    }

    fn delete_under(&self, prefix: &str) -> Result<usize, StoreError> {
        use futures_util::TryStreamExt;
        let under = self.path(prefix);
        let objects = |e: object_store::Error| StoreError::Objects(e.to_string());
        self.block_on(async {
            let found: Vec<_> = self
                .store
                .list(Some(&under))
                .try_collect()
                .await
                .map_err(objects)?;
            for object in &found {
                match self.store.delete(&object.location).await {
                    Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                    Err(e) => return Err(objects(e)),
                }
            }
            Ok(found.len())
        })
    }
}

impl Drop for ObjectPieces {
    fn drop(&mut self) {
        // Not waited for: a store dropped where blocking is not allowed (the relay's last
        // reference going in a task) must not panic.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Where piece `index` of an evidence file lies in the bucket: by dossier and file, then
/// the index and a digest of the bytes (so a name is only ever written with one content).
pub(crate) fn piece_name(dossier: &DossierId, blob: &BlobId, index: u32, bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(bytes);
    format!(
        "pieces/{}/{}/{index}-{}",
        hex::encode(dossier.0),
        hex::encode(blob.0),
        hex::encode(&digest[..16])
    )
}
