//! A relay per test (a `livret serve` process, or started in this process where a process
//! is not the point), a minimal HTTP/1.1 client, and where Chromium is.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A `livret serve` process on an ephemeral port, killed on drop. Everything it prints is
/// kept (tests search it for dossier content).
pub struct Relay {
    serving: Serving,
    pub addr: SocketAddr,
    pub data: PathBuf,
    output: Arc<Mutex<Vec<u8>>>,
    keep_data: bool,
}

/// How a test's relay runs.
enum Serving {
    Process(Child),
    /// `livret_relay::start` on a runtime of its own, stopped through `stop` on drop.
    InProcess {
        stop: Option<tokio::sync::oneshot::Sender<()>>,
        thread: Option<std::thread::JoinHandle<()>>,
    },
}

impl Relay {
    /// A relay in this test's process: the same library `livret serve` runs, without the
    /// process (no output to search, no pid to kill: tests about those start a process).
    pub fn in_process() -> Relay {
        let data = temp_dir("relay");
        let config = livret_relay::ServerConfig {
            data: data.clone(),
            store: livret_relay::StoreLocation::Sqlite,
            evidence: None,
            mail: livret_relay::MailSettings {
                smtp_url: None,
                public_url: None,
                from: "Livret <livret@localhost>".into(),
            },
            metrics_token: None,
            retention_days: livret_shared::deletion::RETENTION_DAYS,
            app: livret_relay::AppAssets::NONE,
            pdf_reader: livret_relay::pdf_reader::PdfReader::run(std::path::Path::new(env!(
                "CARGO_BIN_EXE_livret"
            ))),
        };
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a runtime for the relay");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("a loopback port");
                let running = livret_relay::start(listener, config)
                    .await
                    .expect("the relay starts");
                let _ = addr_tx.send(running.addr);
                let _ = stopped.await;
                // Bounded: a connection a failed test left open does not hold the drop.
                let _ = tokio::time::timeout(Duration::from_secs(10), running.stop()).await;
            });
        });
        let addr = addr_rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the in-process relay listens");
        Relay {
            serving: Serving::InProcess {
                stop: Some(stop),
                thread: Some(thread),
            },
            addr,
            data,
            output: Arc::default(),
            keep_data: false,
        }
    }

    pub fn start() -> Relay {
        Relay::start_in(temp_dir("relay"))
    }

    /// A relay on an existing data directory (a restart).
    pub fn start_in(data: PathBuf) -> Relay {
        Relay::start_with(data, &[])
    }

    /// A relay with more `livret serve` options (mail settings).
    pub fn start_with(data: PathBuf, options: &[&str]) -> Relay {
        Relay::start_with_env(data, options, &[])
    }

    /// A relay with more options and environment variables (an object store's settings).
    pub fn start_with_env(data: PathBuf, options: &[&str], env: &[(&str, String)]) -> Relay {
        // A port of the test's choosing (a relay started again where devices know it), or
        // one the system picks.
        let addr: &[&str] = if options.contains(&"--addr") {
            &[]
        } else {
            &["--addr", "127.0.0.1:0"]
        };
        let mut child = Command::new(env!("CARGO_BIN_EXE_livret"))
            .arg("serve")
            .args(addr)
            .arg("--data")
            .arg(&data)
            .args(options)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .env("LIVRET_LOG", "debug")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("livret serve starts");
        let output = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = output.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).split(b'\n').map_while(Result::ok) {
                let mut out = sink.lock().unwrap();
                out.extend_from_slice(&line);
                out.push(b'\n');
            }
        });
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        let sink = output.clone();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stdout).split(b'\n').map_while(Result::ok) {
                let text = String::from_utf8_lossy(&line).into_owned();
                if !sent && let Some(url) = text.split("http://").nth(1) {
                    let _ = addr_tx.send(url.trim().to_string());
                    sent = true;
                }
                let mut out = sink.lock().unwrap();
                out.extend_from_slice(&line);
                out.push(b'\n');
            }
        });
        // The relay prints its address once listening; a crash closes stdout and ends the
        // wait at once, and the timeout bounds a hang.
        let Ok(addr) = addr_rx.recv_timeout(Duration::from_secs(60)) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "livret serve did not start: {}",
                String::from_utf8_lossy(&output.lock().unwrap())
            );
        };
        Relay {
            serving: Serving::Process(child),
            addr: addr.parse().unwrap(),
            data,
            output,
            keep_data: false,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// The relay's process id (tests read its memory in /proc).
    pub fn pid(&self) -> u32 {
        self.process().id()
    }

    /// Everything the relay printed so far.
    pub fn output(&self) -> Vec<u8> {
        self.process();
        self.output.lock().unwrap().clone()
    }

    /// SIGKILL, keeping the data directory for a restart.
    pub fn kill_hard(mut self) -> PathBuf {
        self.keep_data = true;
        let child = self.process_mut();
        let _ = child.kill();
        let _ = child.wait();
        self.data.clone()
    }

    /// The relay's process; a test that needs one must not start the relay in process (its
    /// output would be empty and a search in it could not fail).
    fn process(&self) -> &Child {
        match &self.serving {
            Serving::Process(child) => child,
            Serving::InProcess { .. } => panic!("this test needs a relay process: Relay::start"),
        }
    }

    fn process_mut(&mut self) -> &mut Child {
        match &mut self.serving {
            Serving::Process(child) => child,
            Serving::InProcess { .. } => panic!("this test needs a relay process: Relay::start"),
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        match &mut self.serving {
            Serving::Process(child) => {
                let _ = child.kill();
                let _ = child.wait();
            }
            Serving::InProcess { stop, thread } => {
                if let Some(stop) = stop.take() {
                    let _ = stop.send(());
                }
                if let Some(thread) = thread.take() {
                    let _ = thread.join();
                }
            }
        }
        if !self.keep_data {
            let _ = std::fs::remove_dir_all(&self.data);
        }
    }
}

pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// GET over a fresh connection (`Connection: close`), enough for tests without an HTTP crate.
pub fn get(addr: SocketAddr, path: &str) -> Response {
    request(addr, "GET", path, None)
}

/// `Read::read` hands a signal's EINTR to its caller (CI once failed on it while chromium's
/// processes came and went); `read_to_end` and `read_line` already retry, this does the same.
fn read_retrying(stream: &mut TcpStream, buf: &mut [u8]) -> std::io::Result<usize> {
    loop {
        match stream.read(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// One HTTP/1.1 request over a fresh connection, with an optional JSON body.
pub fn request(addr: SocketAddr, method: &str, path: &str, json: Option<&[u8]>) -> Response {
    request_with(addr, method, path, json, &[])
}

/// [`request`] with more headers (`name: value`).
pub fn request_with(
    addr: SocketAddr,
    method: &str,
    path: &str,
    json: Option<&[u8]>,
    headers: &[(&str, &str)],
) -> Response {
    let mut stream = TcpStream::connect(addr).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .unwrap();
    let body = json.unwrap_or_default();
    let content = if json.is_some() {
        format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        )
    } else {
        String::new()
    };
    let extra: String = headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}\r\n"))
        .collect();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{content}{extra}Connection: close\r\n\r\n"
    )
    .unwrap();
    stream.write_all(body).unwrap();
    // Read to the end of the headers, then the body: by Content-Length when given (some
    // servers, chromedriver among them, keep the connection open), else to EOF.
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    let split = loop {
        if let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break split;
        }
        let n = read_retrying(&mut stream, &mut buf).expect("response");
        assert!(n > 0, "connection closed before the headers ended");
        raw.extend_from_slice(&buf[..n]);
    };
    let length = String::from_utf8_lossy(&raw[..split])
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok());
    match length {
        Some(length) => {
            while raw.len() < split + 4 + length {
                let n = read_retrying(&mut stream, &mut buf).expect("response body");
                assert!(n > 0, "connection closed before the body ended");
                raw.extend_from_slice(&buf[..n]);
            }
        }
        None => {
            stream.read_to_end(&mut raw).expect("response");
        }
    }
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut body = raw[split + 4..].to_vec();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    Response {
        status,
        headers,
        body,
    }
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = raw.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&raw[..end]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&raw[end + 2..end + 2 + size]);
        raw = &raw[end + 2 + size + 2..];
    }
    out
}

/// The sample dossier every test imports (a candidate developer's, with its annexes beside).
pub fn sample_dossier() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/dossiers/exemple-developpeuse-ia.json")
}

pub fn temp_dir(label: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!("livret-{label}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn chromium() -> &'static str {
    for candidate in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] {
        if std::path::Path::new(candidate).exists() {
            return candidate;
        }
    }
    panic!(
        "Chromium is missing: run scripts/toolchain.sh (Debian packages chromium, chromium-driver)"
    );
}

/// Reads one WebSocket message, reading again when a signal interrupted the read: a socket
/// with a read timeout returns EINTR on any signal that has a handler, SA_RESTART or not
/// (signal(7)), and this process's children (relays, PostgreSQL's programs) end all the
/// time. Bounded: a thousand interruptions in a row is a failure.
pub fn read_message<S: std::io::Read + std::io::Write>(
    ws: &mut tungstenite::WebSocket<S>,
) -> tungstenite::Result<tungstenite::Message> {
    for _ in 0..1000 {
        match ws.read() {
            Err(tungstenite::Error::Io(e)) if e.kind() == std::io::ErrorKind::Interrupted => {}
            other => return other,
        }
    }
    panic!("a WebSocket read interrupted a thousand times in a row")
}
