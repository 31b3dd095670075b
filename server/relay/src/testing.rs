//! Throwaway database servers for tests: a real PostgreSQL, made in a temporary directory on
//! a free loopback port and removed when dropped, so the Postgres store is tested against
//! the engine it will run on, not a mock. PostgreSQL refuses to run as root: as root, its
//! commands run as the `postgres` user the Debian package creates.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// A PostgreSQL server of its own, stopped and deleted on drop.
pub struct ThrowawayPostgres {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    databases: AtomicU32,
}

/// Where Debian installs PostgreSQL's server programs (the newest version present).
fn server_programs() -> PathBuf {
    let root = Path::new("/usr/lib/postgresql");
    let newest = std::fs::read_dir(root)
        .ok()
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .max()
        .unwrap_or_else(|| {
            panic!(
                "PostgreSQL is not installed ({} missing): scripts/toolchain.sh installs it \
                 (apt-get install postgresql)",
                root.display()
            )
        });
    root.join(newest.to_string()).join("bin")
}

fn running_as_root() -> bool {
    #[cfg(unix)]
    {
        // SAFETY: geteuid has no preconditions and cannot fail.
        unsafe { libc::geteuid() == 0 }
    }
    #[cfg(not(unix))]
    {
        false
    }
}

/// A port on 127.0.0.1 nobody listens on now, for a server started a moment later.
///
/// Not one the OS picks (`bind :0`): those come from its ephemeral range, which every
/// outgoing connection and every other `bind :0` of tests running at once also draws from,
/// so the port could be taken before the server binds it (seen: an SMTP server's start
/// failing with « Address already in use » while other tests ran). These come from below
/// that range, each once per process, from a start that differs per process.
pub fn free_port() -> u16 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let ephemeral_low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u32>().ok())
        .unwrap_or(32_768);
    const LOW: u32 = 20_000;
    if ephemeral_low <= LOW + 1_000 {
        // An unusual range: the OS's pick, as before.
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
        return listener.local_addr().expect("its address").port();
    }
    let span = ephemeral_low - LOW;
    let start = std::process::id().wrapping_mul(7_919) % span;
    for _ in 0..span {
        let port = LOW + (start + NEXT.fetch_add(1, Ordering::Relaxed)) % span;
        let port = u16::try_from(port).expect("below the ephemeral range");
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free loopback port between {LOW} and {ephemeral_low}");
}

impl ThrowawayPostgres {
    /// Makes and starts a server that does not wait for its disk (fsync off): a test
    /// server is thrown away, and its crash safety is PostgreSQL's, not what tests check.
    /// Panics with what is missing when it cannot.
    pub fn start() -> ThrowawayPostgres {
        ThrowawayPostgres::start_with(false)
    }

    /// A server that waits for its disk as a production one does (fsync on): for
    /// benchmarks, which compare it with SQLite's synchronous commits.
    pub fn start_durable() -> ThrowawayPostgres {
        ThrowawayPostgres::start_with(true)
    }

    fn start_with(durable: bool) -> ThrowawayPostgres {
        let bin = server_programs();
        let dir = std::env::temp_dir().join(format!(
            "livret-postgres-{}-{}",
            std::process::id(),
            free_port()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let server = ThrowawayPostgres {
            dir,
            bin,
            port: free_port(),
            databases: AtomicU32::new(0),
        };
        if running_as_root() {
            let chown = Command::new("chown")
                .arg("postgres:postgres")
                .arg(&server.dir)
                .status()
                .expect("chown runs");
            assert!(chown.success(), "the postgres user owns the test directory");
        }
        let data = server.dir.join("data");
        server.run(
            "initdb",
            &[
                "-D",
                path_str(&data),
                "-A",
                "trust",
                "-U",
                "livret",
                "--no-sync",
            ],
        );
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync={} -c max_connections=200",
            server.port,
            path_str(&server.dir),
            if durable { "on" } else { "off" }
        );
        let log = server.dir.join("server.log");
        server.run(
            "pg_ctl",
            &[
                "-D",
                path_str(&data),
                "-o",
                &options,
                "-l",
                path_str(&log),
                "-w",
                "start",
            ],
        );
        server
    }

    /// One of PostgreSQL's programs, as the `postgres` user when this runs as root.
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if running_as_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(path);
            command
        } else {
            Command::new(path)
        }
    }

    fn run(&self, program: &str, args: &[&str]) {
        let out = self
            .command(program)
            .args(args)
            .output()
            .expect("PostgreSQL's programs run");
        assert!(
            out.status.success(),
            "{program} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The URL of the server's default database.
    pub fn url(&self) -> String {
        format!("postgres://livret@127.0.0.1:{}/postgres", self.port)
    }

    /// A new empty database on this server, and its URL: each test gets its own.
    pub fn database(&self, label: &str) -> String {
        let n = self.databases.fetch_add(1, Ordering::Relaxed);
        let name = format!(
            "t{n}_{}",
            label
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .collect::<String>()
        );
        let mut admin = postgres::Client::connect(&self.url(), postgres::NoTls)
            .expect("the throwaway server answers");
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("a test database");
        format!("postgres://livret@127.0.0.1:{}/{name}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }
}

/// The one number `sql` answers on the database at `url` (what a test counts in it).
pub fn count(url: &str, sql: &str) -> i64 {
    let mut client = postgres::Client::connect(url, postgres::NoTls).expect("the server answers");
    client.query_one(sql, &[]).expect("the query runs").get(0)
}

/// Runs `sql` on the database at `url` (a test changing it behind the relay's back).
pub fn execute(url: &str, sql: &str) {
    let mut client = postgres::Client::connect(url, postgres::NoTls).expect("the server answers");
    client.batch_execute(sql).expect("the statements run");
}

/// Ends the sessions named `application_name` on the database at `url`, as an operator or
/// a failover would; answers how many.
pub fn end_sessions(url: &str, application_name: &str) -> u64 {
    let mut admin = postgres::Client::connect(url, postgres::NoTls).expect("the server answers");
    admin
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = current_database() AND application_name = $1",
            &[&application_name],
        )
        .expect("sessions ended")
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

impl Drop for ThrowawayPostgres {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let _ = self
            .command("pg_ctl")
            .args(["-D", path_str(&data), "-m", "immediate", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// An S3 server of its own on a loopback port (moto, from PyPI: `scripts/toolchain.sh`
/// installs it), with one empty bucket; stopped on drop. Moto keeps objects in memory.
pub struct ThrowawayS3 {
    child: std::process::Child,
    port: u16,
}

/// The bucket every throwaway S3 server has.
pub const BUCKET: &str = "livret";

/// Where `scripts/toolchain.sh` installs moto's server (`LIVRET_MOTO_SERVER` overrides).
fn moto_server() -> PathBuf {
    std::env::var_os("LIVRET_MOTO_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/livret-tools/moto/bin/moto_server"))
}

impl ThrowawayS3 {
    /// Starts the server and makes the bucket; panics with what is missing when it cannot.
    pub fn start() -> ThrowawayS3 {
        ThrowawayS3::start_on(free_port())
    }

    /// Stops the server, as a crash or a network cut would: requests fail at once.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// A new server where the stopped one was, its bucket empty (moto keeps nothing).
    pub fn start_again(&mut self) {
        let again = ThrowawayS3::start_on(self.port);
        *self = again;
    }

    fn start_on(port: u16) -> ThrowawayS3 {
        let program = moto_server();
        let child = Command::new(&program)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "{}: {e} (scripts/toolchain.sh installs moto's server)",
                    program.display()
                )
            });
        let server = ThrowawayS3 { child, port };
        // Up once it answers; the bucket made by a plain PUT (moto does not check
        // signatures unless asked to).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            if let Some(status) = server.http("PUT", &format!("/{BUCKET}")) {
                assert_eq!(status, 200, "the bucket is made");
                return server;
            }
            assert!(std::time::Instant::now() < deadline, "moto did not start");
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }

    /// One bodiless request; its status, `None` when nothing answers.
    fn http(&self, method: &str, path: &str) -> Option<u16> {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\n\
             Connection: close\r\n\r\n",
            self.port
        );
        stream.write_all(request.as_bytes()).ok()?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer).ok()?;
        answer.split(' ').nth(1)?.parse().ok()
    }

    /// The bucket's URL for `livret serve --evidence`.
    pub fn url(&self) -> String {
        format!("s3://{BUCKET}")
    }

    /// The settings that reach this server: as `AWS_*` variables for a relay process, or
    /// in lower case for [`crate::store::ObjectPieces::open_with`].
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT", format!("http://127.0.0.1:{}", self.port)),
            ("AWS_ALLOW_HTTP", "true".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ACCESS_KEY_ID", "livret-test".into()),
            ("AWS_SECRET_ACCESS_KEY", "livret-test-secret".into()),
        ]
    }

    /// Every object's name and bytes (a test searches them for a canary), read with a
    /// signed client as a relay would.
    pub fn objects(&self) -> Vec<(String, Vec<u8>)> {
        use futures_util::TryStreamExt;
        use object_store::{ObjectStore, ObjectStoreExt};
        let mut builder = object_store::aws::AmazonS3Builder::new().with_bucket_name(BUCKET);
        for (key, value) in self.settings() {
            builder = builder.with_config(key.to_lowercase().parse().unwrap(), value);
        }
        let _ = rustls::crypto::ring::default_provider().install_default();
        let store = builder.build().expect("a client for the throwaway server");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let listed: Vec<_> = store.list(None).try_collect().await.unwrap();
            let mut objects = Vec::new();
            for meta in listed {
                let bytes = store
                    .get(&meta.location)
                    .await
                    .unwrap()
                    .bytes()
                    .await
                    .unwrap();
                objects.push((meta.location.to_string(), bytes.to_vec()));
            }
            objects
        })
    }
}

impl Drop for ThrowawayS3 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
