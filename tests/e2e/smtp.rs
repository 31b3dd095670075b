//! A real SMTP server on 127.0.0.1 for tests of the emails the relay sends (invitations).
//!
//! [`SmtpServer`] runs Debian's aiosmtpd (package `python3-aiosmtpd`, installed by
//! `scripts/toolchain.sh`) with its built-in `Mailbox` handler, which stores every message
//! it accepts in a Maildir:
//!
//! ```text
//! /usr/bin/python3 -m aiosmtpd -n -l 127.0.0.1:<port> -c aiosmtpd.handlers.Mailbox <maildir>
//! ```
//!
//! Plain SMTP, no TLS, no authentication: what `lettre` speaks to `smtp://127.0.0.1:<port>`.
//! [`SmtpServer::messages`] reads the Maildir back and parses each message just enough for
//! assertions ([`ReceivedMail`]): envelope recipients, RFC 2047 decoded subject, the
//! text/plain body decoded from quoted-printable or base64. The small decoders this needs
//! are written here (the e2e tests take no dependency for this) and tested at the bottom.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::temp_dir;

/// How long [`SmtpServer::start_on`] waits for the server to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// How long [`SmtpServer::wait_for_messages`] waits for the messages.
const MESSAGES_TIMEOUT: Duration = Duration::from_secs(15);

pub use livret_relay::testing::free_port;

/// The interpreter that has Debian's `python3-aiosmtpd`: the system one, which a `python3`
/// earlier on PATH (pyenv, a virtualenv) would not see.
fn python() -> &'static str {
    if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    }
}

/// An aiosmtpd process listening on 127.0.0.1, storing what it receives in a Maildir;
/// killed on drop (its directory is removed too, unless the test is panicking, so it can be
/// looked at).
pub struct SmtpServer {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl SmtpServer {
    /// A server on a free port.
    pub fn start() -> SmtpServer {
        SmtpServer::start_on(free_port())
    }

    /// A server on `port`, chosen earlier (e.g. with [`free_port`]): a relay can be
    /// configured for a port where nothing listens yet, and the server appear later.
    /// Returns once the server accepts connections and greets; panics if the port is taken,
    /// or (with aiosmtpd's stderr) if it exits or still does not greet after 10 s.
    pub fn start_on(port: u16) -> SmtpServer {
        // Otherwise the readiness check below could succeed against another listener.
        if let Err(e) = TcpListener::bind(("127.0.0.1", port)) {
            panic!("cannot start the SMTP server on 127.0.0.1:{port}: {e}");
        }
        let dir = temp_dir("smtp");
        let maildir = dir.join("maildir");
        let stderr_path = dir.join("stderr.log");
        let stderr = std::fs::File::create(&stderr_path).expect("create the aiosmtpd log");
        let child = Command::new(python())
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {} -m aiosmtpd: {e}", python()));
        // From here on, Drop kills the process whatever happens.
        let mut server = SmtpServer { child, port, dir };
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!(
                    "aiosmtpd exited ({status}) instead of listening on {addr} \
                     (is python3-aiosmtpd installed? run scripts/toolchain.sh); stderr:\n{}",
                    server.stderr()
                );
            }
            if greets(addr) {
                return server;
            }
            if Instant::now() >= deadline {
                panic!(
                    "aiosmtpd does not accept connections on {addr} after {START_TIMEOUT:?}; \
                     stderr:\n{}",
                    server.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `smtp://127.0.0.1:<port>`: plain SMTP, for the relay's configuration.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// What aiosmtpd has printed on stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.join("stderr.log")).unwrap_or_default()
    }

    /// Every message received so far, in the order received.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        // The Mailbox handler writes each message in maildir/tmp, then renames it into
        // maildir/new, so a file there is complete. Names are
        // `<secs>.M<micros>P<pid>Q<n>.<host>`, `n` counting the messages of the process.
        let mut files: Vec<(u64, PathBuf)> = Vec::new();
        for sub in ["new", "cur"] {
            let Ok(entries) = std::fs::read_dir(self.dir.join("maildir").join(sub)) else {
                continue; // no message yet: the Maildir may not exist
            };
            for entry in entries.map_while(Result::ok) {
                let name = entry.file_name().to_string_lossy().into_owned();
                let n = name
                    .split('Q')
                    .nth(1)
                    .and_then(|rest| rest.split('.').next())
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(u64::MAX);
                files.push((n, entry.path()));
            }
        }
        files.sort();
        files
            .into_iter()
            .filter_map(|(_, path)| std::fs::read(path).ok())
            .map(ReceivedMail::parse)
            .collect()
    }

    /// All the messages received, once there are at least `n`; panics with what arrived
    /// if there are fewer after 15 s.
    pub fn wait_for_messages(&self, n: usize) -> Vec<ReceivedMail> {
        let deadline = Instant::now() + MESSAGES_TIMEOUT;
        loop {
            let messages = self.messages();
            if messages.len() >= n {
                return messages;
            }
            if Instant::now() >= deadline {
                panic!(
                    "{} message(s) received on {} after {MESSAGES_TIMEOUT:?}, {n} expected: \
                     {messages:#?}\naiosmtpd stderr:\n{}",
                    messages.len(),
                    self.url(),
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Whether an SMTP server on `addr` accepts a connection and sends its `220` greeting.
fn greets(addr: SocketAddr) -> bool {
    let Ok(stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    let mut greeting = String::new();
    let _ = BufReader::new(&stream).read_line(&mut greeting);
    let _ = (&stream).write_all(b"QUIT\r\n");
    greeting.starts_with("220")
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "SMTP server's Maildir and log kept in {}",
                self.dir.display()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// A message as the server stored it, parsed for assertions.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    /// The envelope sender (`MAIL FROM`).
    pub from: String,
    /// The envelope recipients (`RCPT TO`), in order; the `To` header's addresses if the
    /// envelope is unknown.
    pub to: Vec<String>,
    /// The `Subject` header, RFC 2047 decoded.
    pub subject: String,
    /// The text/plain body (the first text/plain part of a multipart message, else the
    /// first part), decoded per its Content-Transfer-Encoding and charset; line ends `\n`.
    pub body: String,
    /// Every header in order, unfolded and RFC 2047 decoded, names as written.
    pub headers: Vec<(String, String)>,
    /// The message as stored: what was sent, re-serialized by aiosmtpd (line ends `\n`),
    /// which adds the headers `X-Peer`, `X-MailFrom` and `X-RcptTo` at the end.
    pub raw: Vec<u8>,
}

impl ReceivedMail {
    /// Parses a message; the envelope comes from the `X-MailFrom` and `X-RcptTo` headers
    /// that aiosmtpd's Mailbox handler adds.
    pub fn parse(raw: Vec<u8>) -> ReceivedMail {
        let entity = Entity::parse(&raw);
        let headers: Vec<(String, String)> = entity
            .headers
            .iter()
            .map(|(name, value)| (name.clone(), decode_rfc2047(value)))
            .collect();
        let find = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.trim().to_string())
        };
        let to = match entity.header("X-RcptTo") {
            Some(rcpt) => split_addresses(rcpt),
            None => split_addresses(&find("To").unwrap_or_default()),
        };
        ReceivedMail {
            from: find("X-MailFrom").unwrap_or_default(),
            to,
            subject: find("Subject").unwrap_or_default(),
            body: entity.text_body(),
            headers,
            raw,
        }
    }

    /// The first header called `name` (case-insensitive), decoded.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    }
}

/// `a@x, Name <b@y>` → `["a@x", "b@y"]` (good enough for test addresses: no commas or
/// angle brackets in display names).
fn split_addresses(list: &str) -> Vec<String> {
    list.split(',')
        .map(|one| {
            let one = one.trim();
            match (one.rfind('<'), one.rfind('>')) {
                (Some(start), Some(end)) if start < end => one[start + 1..end].to_string(),
                _ => one.to_string(),
            }
        })
        .filter(|one| !one.is_empty())
        .collect()
}

/// A MIME entity: a message or a part of a multipart one.
struct Entity {
    /// Unfolded, raw (not RFC 2047 decoded) values.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Entity {
    fn parse(raw: &[u8]) -> Entity {
        // The header block ends at the first empty line (`\r\n` or `\n` line ends).
        let mut headers: Vec<(String, String)> = Vec::new();
        let mut rest = raw;
        loop {
            let (line, next) = match rest.iter().position(|&b| b == b'\n') {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (rest, &rest[rest.len()..]),
            };
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.is_empty() {
                rest = next;
                break;
            }
            let text = String::from_utf8_lossy(line);
            if text.starts_with([' ', '\t']) {
                // A folded line: unfolding removes the line end, keeps the whitespace.
                if let Some((_, value)) = headers.last_mut() {
                    value.push_str(&text);
                }
            } else if let Some((name, value)) = text.split_once(':') {
                headers.push((name.trim().to_string(), value.trim_start().to_string()));
            }
            rest = next;
            if rest.is_empty() {
                break;
            }
        }
        Entity {
            headers,
            body: rest.to_vec(),
        }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    }

    /// `text/plain; charset="utf-8"` → `("text/plain", [("charset", "utf-8")])`.
    fn content_type(&self) -> (String, Vec<(String, String)>) {
        let value = self.header("Content-Type").unwrap_or("text/plain");
        let mut pieces = value.split(';');
        let media = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
        let params = pieces
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| {
                (
                    k.trim().to_ascii_lowercase(),
                    v.trim().trim_matches('"').to_string(),
                )
            })
            .collect();
        (media, params)
    }

    fn param(&self, name: &str) -> Option<String> {
        self.content_type()
            .1
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    /// The first text/plain leaf (depth first), else the first leaf.
    fn text_body(&self) -> String {
        let mut leaves = Vec::new();
        self.leaves(&mut leaves);
        let plain = leaves
            .iter()
            .find(|leaf| leaf.content_type().0 == "text/plain");
        match plain.or(leaves.first()) {
            Some(leaf) => leaf.decoded_body(),
            None => String::new(),
        }
    }

    fn leaves(&self, out: &mut Vec<Entity>) {
        let (media, _) = self.content_type();
        match self.param("boundary") {
            Some(boundary) if media.starts_with("multipart/") => {
                for part in split_multipart(&self.body, &boundary) {
                    Entity::parse(&part).leaves(out);
                }
            }
            _ => out.push(Entity {
                headers: self.headers.clone(),
                body: self.body.clone(),
            }),
        }
    }

    fn decoded_body(&self) -> String {
        let encoding = self
            .header("Content-Transfer-Encoding")
            .unwrap_or("7bit")
            .to_ascii_lowercase();
        let bytes = match encoding.as_str() {
            "quoted-printable" => decode_quoted_printable(&self.body),
            "base64" => decode_base64(&self.body).unwrap_or_else(|| self.body.clone()),
            _ => self.body.clone(),
        };
        let charset = self.param("charset").unwrap_or_else(|| "utf-8".to_string());
        decode_charset(&charset, &bytes).replace("\r\n", "\n")
    }
}

/// The parts of a multipart body: what lies between the `--boundary` lines, up to
/// `--boundary--` (preamble and epilogue dropped).
fn split_multipart(body: &[u8], boundary: &str) -> Vec<Vec<u8>> {
    let delimiter = format!("--{boundary}");
    let mut parts = Vec::new();
    let mut current: Option<Vec<u8>> = None;
    for line in body.split_inclusive(|&b| b == b'\n') {
        let trimmed = String::from_utf8_lossy(line);
        let trimmed = trimmed.trim_end();
        if trimmed == delimiter || trimmed == format!("{delimiter}--") {
            if let Some(mut part) = current.take() {
                // The line end before a delimiter belongs to the delimiter.
                if part.ends_with(b"\n") {
                    part.pop();
                }
                if part.ends_with(b"\r") {
                    part.pop();
                }
                parts.push(part);
            }
            if trimmed == delimiter {
                current = Some(Vec::new());
            } else {
                break;
            }
        } else if let Some(part) = current.as_mut() {
            part.extend_from_slice(line);
        }
    }
    parts
}

/// Bytes in `charset` to text: ISO-8859-1, else UTF-8 (which covers ASCII), invalid
/// sequences replaced.
fn decode_charset(charset: &str, bytes: &[u8]) -> String {
    match charset.trim().to_ascii_lowercase().as_str() {
        "iso-8859-1" | "latin1" | "latin-1" | "iso8859-1" => {
            bytes.iter().map(|&b| b as char).collect()
        }
        _ => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// Base64 (RFC 4648, standard alphabet), whitespace and line ends ignored, stopping at the
/// `=` padding. `None` on any other character outside the alphabet.
pub fn decode_base64(input: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len() * 3 / 4);
    let mut bits: u32 = 0;
    let mut count = 0;
    for &c in input {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            b' ' | b'\t' | b'\r' | b'\n' => continue,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(value);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    Some(out)
}

/// Quoted-printable bodies (RFC 2045 §6.7): `=XX` is a byte, `=` at the end of a line a soft
/// line break, trailing whitespace on a line is dropped; hard line ends come out as `\n`.
/// Lenient: an `=` not followed by two hex digits is kept as is.
pub fn decode_quoted_printable(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut lines = input.split(|&b| b == b'\n').peekable();
    while let Some(line) = lines.next() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let mut end = line.len();
        while end > 0 && (line[end - 1] == b' ' || line[end - 1] == b'\t') {
            end -= 1;
        }
        let line = &line[..end];
        let (line, soft) = match line.strip_suffix(b"=") {
            Some(line) => (line, true),
            None => (line, false),
        };
        unescape_hex(line, &mut out);
        if !soft && lines.peek().is_some() {
            out.push(b'\n');
        }
    }
    out
}

/// Appends `input` to `out`, `=XX` replaced by the byte 0xXX.
fn unescape_hex(input: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < input.len() {
        if input[i] == b'='
            && let Some(byte) = input.get(i + 1..i + 3).and_then(|hex| {
                std::str::from_utf8(hex)
                    .ok()
                    .and_then(|hex| u8::from_str_radix(hex, 16).ok())
            })
        {
            out.push(byte);
            i += 3;
        } else {
            out.push(input[i]);
            i += 1;
        }
    }
}

/// One RFC 2047 encoded word at the start of `s` (`=?charset?b|q?text?=`): its charset,
/// decoded bytes and length.
fn encoded_word(s: &str) -> Option<(String, Vec<u8>, usize)> {
    let inner = s.strip_prefix("=?")?;
    let (charset, rest) = inner.split_once('?')?;
    let (encoding, rest) = rest.split_once('?')?;
    let end = rest.find("?=")?;
    let text = &rest[..end];
    if charset.is_empty() || text.contains(|c: char| c.is_whitespace() || c == '?') {
        return None;
    }
    let bytes = match encoding {
        "b" | "B" => decode_base64(text.as_bytes())?,
        "q" | "Q" => {
            let mut out = Vec::new();
            unescape_hex(text.replace('_', " ").as_bytes(), &mut out);
            out
        }
        _ => return None,
    };
    // RFC 2231 allows a language: `utf-8*fr`.
    let charset = charset.split('*').next().unwrap_or(charset).to_string();
    // `rest` starts within `s`; the word ends after `text?=`.
    Some((charset, bytes, s.len() - rest.len() + end + 2))
}

/// A header value with RFC 2047 encoded words (`=?utf-8?b?...?=`, `=?UTF-8?Q?...?=`)
/// decoded. Whitespace between two adjacent encoded words is dropped, as the RFC says, and
/// their bytes are joined before decoding (a character may be split between two words).
pub fn decode_rfc2047(value: &str) -> String {
    let mut out = String::new();
    // Bytes of consecutive encoded words not decoded yet, and their charset.
    let mut pending: Option<(String, Vec<u8>)> = None;
    // Whitespace seen after an encoded word: dropped if another encoded word follows.
    let mut space = String::new();
    let mut rest = value;
    while let Some(c) = rest.chars().next() {
        if let Some((charset, bytes, len)) = encoded_word(rest) {
            match pending.as_mut() {
                Some((current, buffer)) if current.eq_ignore_ascii_case(&charset) => {
                    buffer.extend_from_slice(&bytes);
                }
                _ => {
                    if let Some((current, buffer)) = pending.take() {
                        out.push_str(&decode_charset(&current, &buffer));
                    }
                    pending = Some((charset, bytes));
                }
            }
            space.clear();
            rest = &rest[len..];
        } else if c.is_whitespace() && pending.is_some() {
            space.push(c);
            rest = &rest[c.len_utf8()..];
        } else {
            if let Some((current, buffer)) = pending.take() {
                out.push_str(&decode_charset(&current, &buffer));
            }
            out.push_str(&space);
            space.clear();
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    if let Some((current, buffer)) = pending.take() {
        out.push_str(&decode_charset(&current, &buffer));
    }
    out.push_str(&space);
    out
}

// The tests of the harness itself: a hand-written SMTP client against the real server, and
// the decoders.

/// Reads one SMTP reply (its `NNN-` lines and the final `NNN ` one) and checks its code.
fn expect_reply(reader: &mut impl BufRead, code: u16) -> String {
    let mut reply = String::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).expect("read an SMTP reply");
        assert!(
            !line.is_empty(),
            "the SMTP server closed the connection after: {reply:?}"
        );
        reply.push_str(&line);
        if line.as_bytes().get(3) != Some(&b'-') {
            break;
        }
    }
    // Every line starts with the code: `250-…` lines, then `250 …`.
    assert!(
        reply
            .lines()
            .all(|line| line.starts_with(&code.to_string())),
        "expected {code}, got: {reply:?}"
    );
    reply
}

/// Sends `message` (lines separated by `\n`) from `from` to `to` over a connected stream,
/// with a hand-written SMTP dialogue: greeting, EHLO, MAIL FROM, RCPT TO, DATA (lines
/// dot-stuffed, `\r\n` ends), QUIT.
fn send_over(stream: TcpStream, from: &str, to: &[&str], message: &str) {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    expect_reply(&mut reader, 220);
    let mut command = |line: &str, code: u16| {
        writer.write_all(format!("{line}\r\n").as_bytes()).unwrap();
        expect_reply(&mut reader, code)
    };
    let ehlo = command("EHLO test.localhost", 250);
    assert!(
        !ehlo.contains("STARTTLS"),
        "plain SMTP expected, the server offers: {ehlo}"
    );
    command(&format!("MAIL FROM:<{from}>"), 250);
    for rcpt in to {
        command(&format!("RCPT TO:<{rcpt}>"), 250);
    }
    command("DATA", 354);
    let mut data = String::new();
    for line in message.lines() {
        if line.starts_with('.') {
            data.push('.');
        }
        data.push_str(line);
        data.push_str("\r\n");
    }
    data.push('.');
    command(&data, 250);
    command("QUIT", 221);
}

fn send(port: u16, from: &str, to: &[&str], message: &str) {
    let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to the SMTP server");
    send_over(stream, from, to, message);
}

/// An invitation as lettre would encode it: an RFC 2047 subject in two encoded words (base64
/// and Q, folded), a quoted-printable UTF-8 body with soft line breaks and a line starting
/// with a dot.
const INVITATION: &str = "From: Livret <livret@example.org>\n\
To: Alice <alice@example.org>, bob@example.org\n\
Subject: =?utf-8?b?SW52aXRhdGlvbiDDoCByZWpvaW5kcmU=?=\n \
=?utf-8?q?_=C2=AB_F=C3=AAte_de_l'=C3=A9cole_=C2=BB?=\n\
MIME-Version: 1.0\n\
Content-Type: text/plain; charset=utf-8\n\
Content-Transfer-Encoding: quoted-printable\n\
\n\
Bonjour Alice,\n\
\n\
Vous =C3=AAtes invit=C3=A9e =C3=A0 rejoindre le dossier =C2=AB F=C3=AAte de=\n \
l'=C3=A9cole =C2=BB ; ce lien est valable sept jours, apr=C3=A8s quoi il f=\n\
audra en demander un nouveau.\n\
.point en d=C3=A9but de ligne\n\
=C3=80 bient=C3=B4t !\n";

const INVITATION_SUBJECT: &str = "Invitation à rejoindre « Fête de l'école »";
const INVITATION_BODY: &str = "Bonjour Alice,\n\nVous êtes invitée à rejoindre le dossier \
« Fête de l'école » ; ce lien est valable sept jours, après quoi il faudra en demander un \
nouveau.\n.point en début de ligne\nÀ bientôt !\n";

#[test]
fn the_smtp_harness_receives_what_is_sent() {
    let server = SmtpServer::start();
    assert_eq!(server.url(), format!("smtp://127.0.0.1:{}", server.port()));
    assert!(server.messages().is_empty());

    send(
        server.port(),
        "livret@example.org",
        &["alice@example.org", "bob@example.org"],
        INVITATION,
    );
    let messages = server.wait_for_messages(1);
    assert_eq!(messages.len(), 1, "{messages:#?}");
    let mail = &messages[0];
    assert_eq!(mail.from, "livret@example.org");
    assert_eq!(mail.to, ["alice@example.org", "bob@example.org"]);
    assert_eq!(mail.subject, INVITATION_SUBJECT);
    assert_eq!(mail.body, INVITATION_BODY);
    assert_eq!(
        mail.header("To"),
        Some("Alice <alice@example.org>, bob@example.org")
    );
    assert_eq!(
        mail.header("content-transfer-encoding"),
        Some("quoted-printable")
    );
    let raw = String::from_utf8_lossy(&mail.raw);
    assert!(raw.contains("Vous =C3=AAtes invit=C3=A9e"), "{raw}");

    // A second message comes after the first.
    send(
        server.port(),
        "livret@example.org",
        &["carol@example.org"],
        "Subject: 2\n\nDeux\n",
    );
    let messages = server.wait_for_messages(2);
    assert_eq!(messages.len(), 2, "{messages:#?}");
    assert_eq!(messages[0].subject, INVITATION_SUBJECT);
    assert_eq!(messages[1].to, ["carol@example.org"]);
    assert_eq!(messages[1].subject, "2");
    assert_eq!(messages[1].body, "Deux\n");
}

/// A relay configured for a port where nothing listens yet keeps trying; the server
/// appears later on that port and gets the message.
#[test]
fn the_smtp_harness_starts_on_a_port_chosen_earlier() {
    let port = free_port();
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "nothing listens on {port} yet"
    );
    let sender = std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut refused = 0;
        let stream = loop {
            match TcpStream::connect(("127.0.0.1", port)) {
                Ok(stream) => break stream,
                Err(e) => {
                    assert!(
                        Instant::now() < deadline,
                        "still no SMTP server on {port}: {e}"
                    );
                    refused += 1;
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        };
        send_over(
            stream,
            "livret@example.org",
            &["late@example.org"],
            INVITATION,
        );
        refused
    });
    std::thread::sleep(Duration::from_millis(500));
    let server = SmtpServer::start_on(port);
    assert_eq!(server.port(), port);
    let refused = sender.join().expect("the sender thread");
    let messages = server.wait_for_messages(1);
    assert!(
        refused > 0,
        "the sender should have been refused before the server started"
    );
    assert_eq!(messages.len(), 1, "{messages:#?}");
    assert_eq!(messages[0].to, ["late@example.org"]);
    assert_eq!(messages[0].subject, INVITATION_SUBJECT);
    assert_eq!(messages[0].body, INVITATION_BODY);
}

#[test]
fn smtp_decodes_base64() {
    for (encoded, decoded) in [
        ("", ""),
        ("Zg==", "f"),
        ("Zm8=", "fo"),
        ("Zm9v", "foo"),
        ("Zm9vYg==", "foob"),
        ("Zm9vYmE=", "fooba"),
        ("Zm9vYmFy", "foobar"),
        ("Zm9v\r\nYmFy\n", "foobar"),
        (
            "w4dhIG1hcmNoZSwgbcOqbWUgZW4gYmFzZTY0IOKckwo=",
            "Ça marche, même en base64 ✓\n",
        ),
    ] {
        assert_eq!(
            decode_base64(encoded.as_bytes()).unwrap(),
            decoded.as_bytes(),
            "{encoded}"
        );
    }
    assert_eq!(decode_base64(b"Zm9v!"), None);
}

#[test]
fn smtp_decodes_quoted_printable() {
    let decode = |s: &str| String::from_utf8(decode_quoted_printable(s.as_bytes())).unwrap();
    assert_eq!(decode("caf=C3=A9"), "café");
    assert_eq!(decode("caf=c3=a9"), "café");
    // Soft line breaks, with `\r\n` or `\n`, and hard ones.
    assert_eq!(
        decode("un=\r\ndeux\r\ntrois=\nquatre\n"),
        "undeux\ntroisquatre\n"
    );
    // Trailing whitespace is padding; encoded whitespace is kept.
    assert_eq!(decode("fin   \nfin=20\n"), "fin\nfin \n");
    // `=` not followed by hex digits is kept.
    assert_eq!(decode("a=b =ZZ"), "a=b =ZZ");
    assert_eq!(decode("1 =3D 1"), "1 = 1");
}

#[test]
fn smtp_decodes_rfc2047() {
    // lettre's form: base64 words, folded.
    assert_eq!(
        decode_rfc2047("=?utf-8?b?SW52aXRhdGlvbiDDoCByZWpvaW5kcmU=?="),
        "Invitation à rejoindre"
    );
    // Q encoding, `_` for space, any case.
    assert_eq!(
        decode_rfc2047("=?UTF-8?Q?F=C3=AAte_de_l'=C3=A9cole?="),
        "Fête de l'école"
    );
    // Whitespace between adjacent words is dropped (even a fold), not around plain text.
    assert_eq!(decode_rfc2047("=?utf-8?q?a?=  \t =?utf-8?q?b?="), "ab");
    assert_eq!(
        decode_rfc2047("Invitation =?utf-8?q?=C3=A0?= rejoindre"),
        "Invitation à rejoindre"
    );
    // A character split between two words.
    assert_eq!(
        decode_rfc2047("=?utf-8?b?w6E=?= =?utf-8?q?=C3?= =?utf-8?q?=A9?="),
        "áé"
    );
    // Other charsets, a language, invalid words and plain text left alone.
    assert_eq!(decode_rfc2047("=?ISO-8859-1?Q?caf=E9?="), "café");
    assert_eq!(decode_rfc2047("=?utf-8*fr?q?=C3=A9t=C3=A9?="), "été");
    assert_eq!(
        decode_rfc2047("=?utf-8?x?abc?= =?utf-8?q?a b?="),
        "=?utf-8?x?abc?= =?utf-8?q?a b?="
    );
    assert_eq!(decode_rfc2047("2 + 2 = 4 ?"), "2 + 2 = 4 ?");
    assert_eq!(decode_rfc2047("déjà"), "déjà");
}

#[test]
fn smtp_parses_multipart_base64_messages() {
    let raw = "Subject: =?utf-8?b?w4dh?=\r\n\
To: =?utf-8?q?Jos=C3=A9?= <jose@example.org>\r\n\
Content-Type: multipart/alternative;\r\n boundary=\"=-limite_42\"\r\n\
\r\n\
preamble\r\n\
--=-limite_42\r\n\
Content-Type: text/html; charset=utf-8\r\n\
\r\n\
<p>HTML</p>\r\n\
--=-limite_42\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
w4dhIG1hcmNoZSwgbcOqbWUg\r\nZW4gYmFzZTY0IOKckwo=\r\n\
--=-limite_42--\r\n\
epilogue\r\n";
    let mail = ReceivedMail::parse(raw.as_bytes().to_vec());
    assert_eq!(mail.subject, "Ça");
    // No envelope headers: the To header's addresses.
    assert_eq!(mail.to, ["jose@example.org"]);
    assert_eq!(mail.header("to"), Some("José <jose@example.org>"));
    assert_eq!(mail.body, "Ça marche, même en base64 ✓\n");

    // A single part without Content-Type is text/plain, 7bit.
    let mail = ReceivedMail::parse(b"Subject: simple\n\nligne 1\r\nligne 2\r\n".to_vec());
    assert_eq!(mail.body, "ligne 1\nligne 2\n");
    assert!(mail.to.is_empty());
}
