//! Reading PDFs in a child process under limits (and, for the relay, texts and RNCP XML:
//! [`PdfReader::referentiels`]).
//!
//! pdf-extract (and lopdf under it) recurses without limit and inflates streams without
//! bound: a form XObject that draws itself overflows the stack, which aborts the whole
//! process (no `catch_unwind` catches that), and a few kilobytes of FlateDecode can ask for
//! gigabytes. The relay reads référentiel PDFs that anyone may post, so the part that parses
//! the PDF runs in a child process — this same executable, with a hidden subcommand — with
//! its address space, CPU time, stack and output bounded and a wall-clock deadline; the
//! child only extracts the text, which the parent then reads with the ordinary (fuzzed,
//! bounded) text reader. A crash, a timeout or a limit reached is one clear refusal and the
//! relay goes on serving. The CLI reads its user's own PDFs the same way, so a hostile file
//! cannot hang or exhaust it either.

use std::io::{Read, Write};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use livret_shared::referentiel::{self, Import, InputKind, Referentiel};
use livret_shared::words::Worded;

/// The hidden subcommand the child runs.
pub const WORKER_SUBCOMMAND: &str = "lire-pdf-isole";

/// Largest PDF handed to the child (the relay also refuses larger bodies).
pub const MAX_PDF: usize = 20 * 1024 * 1024;

/// Largest text the child may answer: far more than any référentiel (the seed PDFs give
/// 10–40 KB), and what the text reader then handles in well under a second.
const MAX_TEXT: usize = 8 * 1024 * 1024;

/// Largest JSON the child may answer for a text or an XML: an RNCP export of 20 MB (the
/// most the relay takes) holds a few hundred fiches, each 30–120 KB as JSON. Read straight
/// into référentiels, two reads at once.
const MAX_JSON: usize = 32 * 1024 * 1024;

/// Address space of the child. The livret binary itself takes a few tens of megabytes;
/// honest référentiel PDFs need a few more; a stream that inflates to gigabytes stops here.
const MAX_ADDRESS_SPACE: u64 = 768 * 1024 * 1024;

/// CPU seconds of the child (the kernel stops it past this): honest PDFs take well under one.
const MAX_CPU_SECONDS: u64 = 15;

/// Stack of the child's main thread: bounds how deep pdf-extract may recurse (a cycle of
/// XObjects overflows it and the child dies, not the relay), whatever the parent's limit.
const MAX_STACK: u64 = 8 * 1024 * 1024;

/// Wall-clock bound on one read (a child blocked rather than computing, say).
const DEADLINE: Duration = Duration::from_secs(30);

/// The child's last words kept for the message (the importer's one-line reason).
const MAX_REASON: usize = 2048;

/// [`PdfReadError::Limits`], [`PdfReadError::TooLarge`] and
/// [`PdfReadError::Unavailable`] said of a text or an XML, in French and in English.
const LIMITS_OTHER: (&str, &str) = (
    "référentiel illisible : sa lecture a dépassé les limites (mémoire, temps ou profondeur) et a été arrêtée",
    "unreadable framework: reading it went past the limits (memory, time or depth) and was stopped",
);
const TOO_LARGE_OTHER: (&str, &str) = (
    "fichier trop volumineux pour un référentiel (20 Mo au plus)",
    "file too large for a framework (20 MB at most)",
);
const UNAVAILABLE_OTHER: (&str, &str) = (
    "lecteur de référentiels indisponible sur le relais",
    "the server's framework reader is unavailable",
);

/// Why a référentiel was not read, in French and in English: the relay answers in the
/// language its client asks for (the app's, not the browser's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub fr: String,
    pub en: String,
}

impl Refusal {
    fn of(error: &impl Worded) -> Refusal {
        Refusal {
            fr: error.to_string(),
            en: error.english(),
        }
    }

    fn said((fr, en): (&str, &str)) -> Refusal {
        Refusal {
            fr: fr.into(),
            en: en.into(),
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.fr)
    }
}

impl Worded for Refusal {
    fn english(&self) -> String {
        self.en.clone()
    }
}

/// Why a PDF was not read.
#[derive(Debug, thiserror::Error)]
pub enum PdfReadError {
    /// The importer's own reason (encrypted, scanned, malformed…), in both languages.
    #[error("{0}")]
    Refused(Refusal),
    #[error(
        "PDF illisible : sa lecture a dépassé les limites (mémoire, temps ou profondeur) et a été arrêtée"
    )]
    Limits,
    #[error("PDF trop volumineux (plus de {} Mo)", MAX_PDF / (1024 * 1024))]
    TooLarge,
    #[error("lecteur PDF indisponible : {0}")]
    Unavailable(std::io::Error),
}

impl Worded for PdfReadError {
    fn english(&self) -> String {
        match self {
            PdfReadError::Refused(refusal) => refusal.en.clone(),
            PdfReadError::Limits => "unreadable PDF: reading it went past the limits (memory, time or depth) and was stopped".into(),
            PdfReadError::TooLarge => format!("PDF too large (over {} MB)", MAX_PDF / (1024 * 1024)),
            PdfReadError::Unavailable(e) => format!("PDF reader unavailable: {e}"),
        }
    }
}

/// Reads PDFs by running `worker` (an executable that answers [`WORKER_SUBCOMMAND`] with
/// [`worker`], the `livret` binary) as a child process under limits.
#[derive(Clone, Debug)]
pub struct PdfReader {
    worker: std::sync::Arc<std::path::Path>,
}

impl PdfReader {
    /// Children run this very executable (the `livret` binary reads its own PDFs so).
    pub fn this_executable() -> std::io::Result<PdfReader> {
        Ok(PdfReader::run(&std::env::current_exe()?))
    }

    /// Children run `worker` (a relay started in a test process names the `livret` binary).
    pub fn run(worker: &std::path::Path) -> PdfReader {
        PdfReader {
            worker: worker.into(),
        }
    }

    /// Imports any supported input; a PDF's structure is read in a child process under
    /// limits (see the module's documentation), text and XML in this one.
    pub fn import_bytes(&self, bytes: &[u8]) -> Result<Vec<Import>, String> {
        if referentiel::detect(bytes) != InputKind::Pdf {
            return referentiel::import_bytes(bytes).map_err(|e| e.to_string());
        }
        let text = self.pdf_text(bytes).map_err(|e| e.to_string())?;
        referentiel::import_pdf_text(&text)
            .map(|i| vec![i])
            .map_err(|e| e.to_string())
    }

    /// The référentiels in any supported input, every format parsed in a child process
    /// under limits: what the relay reads for anyone who posts (a text or an XML can be
    /// hostile too: elements nested 200,000 deep overflowed the relay's stack). A PDF's text
    /// is then read here, by the (fuzzed, bounded) text reader; a text's or an XML's
    /// référentiels come back whole, as JSON. Without the reader's diagnostics.
    pub fn referentiels(&self, bytes: &[u8]) -> Result<Vec<Referentiel>, Refusal> {
        let pdf = referentiel::detect(bytes) == InputKind::Pdf;
        let answered = if bytes.len() > MAX_PDF {
            Err(PdfReadError::TooLarge)
        } else {
            read_in_child(&self.worker, bytes, if pdf { MAX_TEXT } else { MAX_JSON })
        };
        let out = match answered {
            Ok(out) => out,
            Err(e) if pdf => return Err(Refusal::of(&e)),
            Err(PdfReadError::Limits) => return Err(Refusal::said(LIMITS_OTHER)),
            Err(PdfReadError::TooLarge) => return Err(Refusal::said(TOO_LARGE_OTHER)),
            Err(PdfReadError::Unavailable(_)) => return Err(Refusal::said(UNAVAILABLE_OTHER)),
            Err(PdfReadError::Refused(reason)) => return Err(reason),
        };
        if pdf {
            return referentiel::import_pdf_text(&out)
                .map(|i| vec![i.referentiel])
                .map_err(|e| Refusal::of(&e));
        }
        serde_json::from_str::<Vec<Referentiel>>(&out).map_err(|_| Refusal::said(LIMITS_OTHER))
    }

    /// What a child process answers for `bytes` (a PDF's text; any other input's
    /// référentiels as JSON), under limits.
    pub fn pdf_text(&self, bytes: &[u8]) -> Result<String, PdfReadError> {
        if bytes.len() > MAX_PDF {
            return Err(PdfReadError::TooLarge);
        }
        read_in_child(&self.worker, bytes, MAX_TEXT)
    }
}

/// Runs the child on `bytes`; its answer, of at most `max_answer` bytes.
fn read_in_child(
    exe: &std::path::Path,
    bytes: &[u8],
    max_answer: usize,
) -> Result<String, PdfReadError> {
    let mut command = Command::new(exe);
    command
        .arg(WORKER_SUBCOMMAND)
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: runs in the forked child before exec; setrlimit is async-signal-safe and
        // nothing here allocates or takes a lock.
        unsafe {
            command.pre_exec(limit_this_process);
        }
    }
    let mut child = command.spawn().map_err(PdfReadError::Unavailable)?;
    let mut stdin = child.stdin.take().expect("piped");
    let input = bytes.to_vec();
    // The child may die before reading it all: the write then fails, which is fine.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let stdout = child.stdout.take().expect("piped");
    let stderr = child.stderr.take().expect("piped");
    let out = std::thread::spawn(move || read_bounded(stdout, max_answer));
    let err = std::thread::spawn(move || read_bounded(stderr, MAX_REASON));
    let deadline = Instant::now() + DEADLINE;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(PdfReadError::Unavailable(e));
            }
        }
    };
    let _ = writer.join();
    let (text, text_overflow) = out.join().unwrap_or_default();
    let (reason, _) = err.join().unwrap_or_default();
    let Some(status) = status else {
        return Err(PdfReadError::Limits);
    };
    match status.code() {
        Some(0) if !text_overflow => String::from_utf8(text)
            .map_err(|_| PdfReadError::Refused(Refusal::said(("PDF illisible", "unreadable PDF")))),
        Some(WORKER_REFUSED) => {
            // The worker's reason: a line in French, then the same in English.
            let reason = String::from_utf8_lossy(&reason);
            let mut lines = reason.lines().map(str::trim);
            let fr = lines.next().unwrap_or("fichier illisible").to_string();
            let en = lines.next().map_or_else(|| fr.clone(), str::to_string);
            Err(PdfReadError::Refused(Refusal { fr, en }))
        }
        // Killed by a signal (stack overflow, CPU limit, out of memory's abort) or output
        // past its bound.
        _ => Err(PdfReadError::Limits),
    }
}

/// Reads at most `limit` bytes, then drains the rest (so the child never blocks on a full
/// pipe); says whether there was more.
fn read_bounded(mut from: impl Read, limit: usize) -> (Vec<u8>, bool) {
    let mut kept = Vec::new();
    let _ = (&mut from).take(limit as u64).read_to_end(&mut kept);
    let more = std::io::copy(&mut from, &mut std::io::sink()).unwrap_or(0) > 0;
    (kept, more)
}

/// Exit code of the child when the importer refused the PDF (its reason on stderr, a line
/// in French then one in English).
const WORKER_REFUSED: i32 = 3;

/// The child: a PDF on stdin, its text on stdout; a text or an RNCP XML, its référentiels
/// as a JSON array; or the importer's reason on stderr.
pub fn worker() -> ExitCode {
    let mut bytes = Vec::new();
    if std::io::stdin()
        .take(MAX_PDF as u64 + 1)
        .read_to_end(&mut bytes)
        .is_err()
        || bytes.len() > MAX_PDF
    {
        return ExitCode::FAILURE;
    }
    let read = match referentiel::detect(&bytes) {
        InputKind::Pdf => referentiel::pdf_text(&bytes),
        _ => referentiel::import_bytes(&bytes).map(|found| {
            let json: Vec<String> = found.iter().map(|i| i.referentiel.to_json()).collect();
            format!("[{}]", json.join(","))
        }),
    };
    match read {
        Ok(text) => {
            if std::io::stdout().write_all(text.as_bytes()).is_err() {
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            // One line each, of at most MAX_REASON / 2 bytes: a reason the importer wrote over
            // several lines would be cut, and a long French line (an XML's own names quoted)
            // would leave no room for the English one.
            let line = |text: String| {
                let mut text = text.replace(['\n', '\r'], " ");
                let mut end = text.len().min(MAX_REASON / 2 - 1);
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                text.truncate(end);
                text
            };
            eprintln!("{}\n{}", line(e.to_string()), line(e.english()));
            ExitCode::from(WORKER_REFUSED as u8)
        }
    }
}

#[cfg(unix)]
fn limit_this_process() -> std::io::Result<()> {
    let set = |resource, soft: u64, hard: u64| {
        let mut current = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: plain system calls on valid structures.
        if unsafe { libc::getrlimit(resource, &mut current) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        // Never above what this process may have (raising a hard limit is refused).
        let hard = (hard as libc::rlim_t).min(current.rlim_max);
        let limit = libc::rlimit {
            rlim_cur: (soft as libc::rlim_t).min(hard),
            rlim_max: hard,
        };
        // SAFETY: as above.
        if unsafe { libc::setrlimit(resource, &limit) } == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        }
    };
    set(libc::RLIMIT_AS, MAX_ADDRESS_SPACE, MAX_ADDRESS_SPACE)?;
    // SIGXCPU at the soft limit, SIGKILL a second later.
    set(libc::RLIMIT_CPU, MAX_CPU_SECONDS, MAX_CPU_SECONDS + 1)?;
    set(libc::RLIMIT_STACK, MAX_STACK, MAX_STACK)?;
    // No core file of a crash, and no file written at all.
    set(libc::RLIMIT_CORE, 0, 0)?;
    set(libc::RLIMIT_FSIZE, 0, 0)?;
    Ok(())
}
