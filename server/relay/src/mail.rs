//! The mail the relay sends: invitations now, reminders later. A mail holds a link and
//! the candidate's name at most — never dossier content (the relay has none in clear) and
//! never a key. Mails wait in the store's queue (`mail_queue`) until the transport takes
//! them, so none is lost across a restart; a failed attempt is tried again after a wait that
//! doubles (1 s, 2 s, 4 s … up to an hour).
//!
//! Transports, from `--smtp-url`: `smtp://host:port` (plain, for a local relay),
//! `smtp://user:pass@host:587?tls=required` (STARTTLS), `smtps://user:pass@host:465` (TLS),
//! all through lettre; or `file:///dir` (the development default): each mail written as an
//! `.eml` file, nothing sent.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::sync::Notify;

use crate::clock::now_ms;
use crate::store::{OutgoingMail, QueuedMail, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("adresse SMTP invalide : {0}")]
    Url(String),
    #[error("adresse e-mail invalide : {0}")]
    Address(String),
    #[error("message impossible à construire : {0}")]
    Build(String),
    #[error("envoi refusé : {0}")]
    Send(String),
    #[error("boîte d'envoi : {0}")]
    Outbox(#[from] std::io::Error),
}

/// Where mail goes.
pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// A directory that receives each mail as an `.eml` file (development, tests).
    Outbox(PathBuf),
}

impl Transport {
    pub fn from_url(url: &str) -> Result<Transport, MailError> {
        if let Some(dir) = url.strip_prefix("file://") {
            return Ok(Transport::Outbox(PathBuf::from(dir)));
        }
        let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| MailError::Url(e.to_string()))?;
        Ok(Transport::Smtp(
            builder.timeout(Some(Duration::from_secs(30))).build(),
        ))
    }

    async fn send(&self, message: Message) -> Result<(), MailError> {
        match self {
            Transport::Smtp(smtp) => smtp
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| MailError::Send(e.to_string())),
            Transport::Outbox(dir) => {
                tokio::fs::create_dir_all(dir).await?;
                let name = format!("{}-{}.eml", now_ms(), hex::encode(random_id()));
                // Written whole then renamed: a reader never sees half a mail.
                let partial = dir.join(format!(".{name}.part"));
                tokio::fs::write(&partial, message.formatted()).await?;
                tokio::fs::rename(&partial, dir.join(name)).await?;
                Ok(())
            }
        }
    }
}

/// Checks an address typed by a user (what an invitation is sent to).
pub fn parse_address(address: &str) -> Result<Mailbox, MailError> {
    if address.len() > 254 {
        return Err(MailError::Address("trop longue".into()));
    }
    address
        .trim()
        .parse::<Mailbox>()
        .map_err(|e| MailError::Address(e.to_string()))
}

/// The sending side: the queue's sender task, woken when a mail is queued.
pub struct Mailer {
    /// The `From:` of every mail.
    pub from: Mailbox,
    /// Where links point (the address people open the app at).
    pub public_url: String,
    wake: Notify,
}

impl Mailer {
    /// Starts the sender task on the current tokio runtime.
    pub fn start(
        store: Arc<dyn Store>,
        transport: Transport,
        from: Mailbox,
        public_url: String,
    ) -> Arc<Mailer> {
        let mailer = Arc::new(Mailer {
            from,
            public_url: public_url.trim_end_matches('/').to_string(),
            wake: Notify::new(),
        });
        tokio::spawn(send_queued(store, transport, mailer.clone()));
        mailer
    }

    /// Tells the sender task a mail was queued.
    pub fn queued(&self) {
        self.wake.notify_one();
    }
}

/// Milliseconds since the Unix epoch: the queue's clock.
fn random_id() -> [u8; 8] {
    let mut id = [0u8; 8];
    getrandom::fill(&mut id).expect("random source");
    id
}

/// Attempts at one mail before it is given up: with [`backoff`], about a day of retries
/// (a mail server down for a day loses its invitations; the inviter invites again). Without
/// a bound, a mail to an address that refuses it would be retried for ever.
pub const MAX_MAIL_ATTEMPTS: u32 = 36;

/// How long a claimed mail is this node's to send: past it, a node that stopped before
/// recording the outcome has left it to any node (the mail may then go twice, with the same
/// Message-ID). Longer than a batch of [`MAILS_PER_CLAIM`] can take, each attempt bounded
/// by the SMTP client's own timeout (a minute).
pub const MAIL_LEASE: Duration = Duration::from_secs(15 * 60);

/// Mails claimed at once.
const MAILS_PER_CLAIM: usize = 10;

/// Claims the mails due at `now` (milliseconds) for [`MAIL_LEASE`].
fn claim(store: &dyn Store, now: i64, limit: usize) -> Result<Vec<QueuedMail>, StoreError> {
    store.claim_mail(
        now,
        now.saturating_add(MAIL_LEASE.as_millis() as i64),
        limit,
    )
}

/// The wait before attempt `attempts + 1`, after `attempts` failures.
pub fn backoff(attempts: u32) -> Duration {
    const MAX: Duration = Duration::from_secs(3600);
    Duration::from_secs(1)
        .checked_mul(1u32 << attempts.saturating_sub(1).min(12))
        .map_or(MAX, |d| d.min(MAX))
}

/// The store's answer to `work`, called on the blocking pool like every store call of the
/// relay (`handlers`); a panicked task is a store error here.
async fn on_blocking_pool<T: Send + 'static>(
    store: &Arc<dyn Store>,
    work: impl FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || work(store.as_ref()))
        .await
        .unwrap_or_else(|e| Err(StoreError::Task(e.to_string())))
}

/// The sender task: sends what is due, reschedules what failed, sleeps until the next mail
/// is due (or one is queued). Runs as long as the relay.
async fn send_queued(store: Arc<dyn Store>, transport: Transport, mailer: Arc<Mailer>) {
    // Claims that failed in a row: the next waits the longer (a queue that cannot be
    // claimed while mail is due would otherwise be asked again at once, for ever).
    let mut failed = 0;
    loop {
        match on_blocking_pool(&store, |store| claim(store, now_ms(), MAILS_PER_CLAIM)).await {
            Ok(due) => {
                failed = 0;
                for queued in due {
                    deliver(&store, &transport, &mailer, queued).await;
                }
            }
            Err(e) => {
                failed += 1;
                tracing::error!(error = %e, "mail queue unreadable");
                tokio::time::sleep(backoff(failed)).await;
                continue;
            }
        }
        let next = on_blocking_pool(&store, |store| store.next_mail_due())
            .await
            .ok()
            .flatten();
        let wait = next.map_or(60_000, |t| (t - now_ms()).clamp(0, 60_000));
        if wait == 0 {
            continue;
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(wait as u64)) => {}
            () = mailer.wake.notified() => {}
        }
    }
}

/// One attempt at one queued mail. The logs name the mail by its queue id only: its body
/// holds a one-time link, its recipient is personal data.
async fn deliver(store: &Arc<dyn Store>, transport: &Transport, mailer: &Mailer, q: QueuedMail) {
    let id = message_id(&q, &mailer.public_url);
    let result = match compose(&mailer.from, &q.mail, id) {
        Ok(message) => transport.send(message).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => {
            tracing::info!(mail = q.id, attempts = q.attempts + 1, "mail sent");
            let id = q.id;
            if let Err(e) = on_blocking_pool(store, move |store| store.mail_sent(id)).await {
                tracing::error!(mail = q.id, error = %e, "sent mail still queued");
            }
        }
        Err(e) if q.attempts + 1 >= MAX_MAIL_ATTEMPTS => {
            let error = without_addresses(&e.to_string());
            tracing::warn!(mail = q.id, attempts = q.attempts + 1, %error, "mail given up");
            let id = q.id;
            if let Err(e) = on_blocking_pool(store, move |store| store.mail_abandoned(id)).await {
                tracing::error!(mail = q.id, error = %e, "mail not given up");
            }
        }
        Err(e) => {
            let attempts = q.attempts + 1;
            let next = now_ms() + backoff(attempts).as_millis() as i64;
            let id = q.id;
            let failed = move |store: &dyn Store| store.mail_failed(id, attempts, next);
            // Said once recorded: until then the mail is still leased, and a relay stopped
            // here leaves it to the lease's end, not to the backoff.
            match on_blocking_pool(store, failed).await {
                Ok(()) => {
                    let error = without_addresses(&e.to_string());
                    tracing::warn!(mail = q.id, attempts, %error, "mail not sent, will retry")
                }
                Err(stored) => {
                    tracing::error!(mail = q.id, error = %stored, "mail retry not recorded")
                }
            }
        }
    }
}

/// A queued mail's Message-ID: the same at every attempt, so a receiver that gets it twice
/// (sent, then tried again because the relay stopped before recording it) can tell, and a
/// different one for every mail. A digest of its queue id and of what it says — not the id
/// itself, which would tell how many mails the relay has sent — at the relay's host.
fn message_id(queued: &QueuedMail, public_url: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut digest = Sha256::new();
    digest.update(queued.id.to_be_bytes());
    for part in [&queued.mail.to, &queued.mail.subject, &queued.mail.body] {
        digest.update((part.len() as u64).to_be_bytes());
        digest.update(part.as_bytes());
    }
    let host = public_url
        .split_once("://")
        .map_or(public_url, |(_, rest)| rest)
        .split(['/', ':', '@'])
        .next()
        .filter(|h| !h.is_empty())
        .unwrap_or("livret.invalid");
    format!("<{}@{host}>", hex::encode(&digest.finalize()[..16]))
}

fn compose(from: &Mailbox, mail: &OutgoingMail, message_id: String) -> Result<Message, MailError> {
    Message::builder()
        .message_id(Some(message_id))
        .from(from.clone())
        .to(parse_address(&mail.to)?)
        .subject(mail.subject.clone())
        .header(ContentType::TEXT_PLAIN)
        .body(mail.body.clone())
        .map_err(|e| MailError::Build(e.to_string()))
}

/// An SMTP server's answer as the logs keep it: every word with an `@` in it (the
/// recipient's address, which servers often quote) replaced, so that the logs name no one.
fn without_addresses(text: &str) -> String {
    text.split(' ')
        .map(|word| {
            if word.contains('@') {
                "<adresse>"
            } else {
                word
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {

    #[test]
    fn the_logs_keep_an_smtp_answer_without_its_addresses() {
        assert_eq!(
            without_addresses("550 5.1.1 <anna@example.org>: Recipient address rejected"),
            "550 5.1.1 <adresse> Recipient address rejected"
        );
    }
    use super::*;

    #[test]
    fn retries_wait_twice_as_long_each_time_up_to_an_hour() {
        let waits: Vec<u64> = (1..=5).map(|a| backoff(a).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16]);
        assert_eq!(backoff(40), Duration::from_secs(3600));
    }

    /// A mail the transport always refuses is tried `MAX_MAIL_ATTEMPTS` times, then leaves
    /// the queue (with the reminder that waited for it), instead of being retried for ever.
    #[tokio::test]
    async fn a_mail_that_keeps_failing_is_given_up() {
        use crate::store::SqliteStore;
        use livret_shared::envelope::DossierId;
        let dir = std::env::temp_dir().join(format!("livret-mail-abandon-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let sqlite = SqliteStore::open(&dir.join("relay.sqlite3")).unwrap();
        let mail = OutgoingMail {
            to: "camille.durand@example.org".into(),
            subject: "Rappel".into(),
            body: "…".into(),
        };
        let store: Arc<dyn Store> = Arc::new(sqlite);
        on_blocking_pool(&store, move |store| {
            store.set_reminders(&DossierId([3; 16]), &[(mail, 0)], None, 0)
        })
        .await
        .unwrap();
        // An "outbox" that is a file: every attempt fails.
        let not_a_dir = dir.join("fichier");
        std::fs::write(&not_a_dir, b"").unwrap();
        let transport = Transport::Outbox(not_a_dir);
        let mailer = Mailer {
            from: parse_address("livret@example.org").unwrap(),
            public_url: String::new(),
            wake: Notify::new(),
        };
        let mut attempts = 0;
        for _ in 0..MAX_MAIL_ATTEMPTS + 10 {
            let due = on_blocking_pool(&store, |store| claim(store, i64::MAX, 10))
                .await
                .unwrap();
            if due.is_empty() {
                break;
            }
            for q in due {
                attempts += 1;
                deliver(&store, &transport, &mailer, q).await;
            }
        }
        assert_eq!(attempts, MAX_MAIL_ATTEMPTS);
        let left = on_blocking_pool(&store, |store| claim(store, i64::MAX, 10)).await;
        assert!(left.unwrap().is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_mail_keeps_its_message_id_from_one_attempt_to_the_next() {
        let mail = OutgoingMail {
            to: "camille.durand@example.org".into(),
            subject: "Rappel".into(),
            body: "Votre jury a lieu le 3 mars.".into(),
        };
        let queued = |id, attempts, mail: &OutgoingMail| QueuedMail {
            id,
            mail: mail.clone(),
            attempts,
        };
        let url = "https://livret.example.org:8443/app";
        let first = message_id(&queued(7, 0, &mail), url);
        assert_eq!(first, message_id(&queued(7, 3, &mail), url));
        assert!(first.starts_with('<') && first.ends_with("@livret.example.org>"));
        let digest = &first[1..first.find('@').unwrap()];
        assert!(digest.len() == 32 && digest.bytes().all(|b| b.is_ascii_hexdigit()));
        // Another mail, or the same words queued again, is another message.
        assert_ne!(first, message_id(&queued(8, 0, &mail), url));
        let other = OutgoingMail {
            body: "Votre jury a lieu le 4 mars.".into(),
            ..mail.clone()
        };
        assert_ne!(first, message_id(&queued(7, 0, &other), url));
        let message = compose(
            &parse_address("livret@example.org").unwrap(),
            &mail,
            first.clone(),
        )
        .unwrap();
        let raw = String::from_utf8(message.formatted()).unwrap();
        assert!(raw.contains(&format!("Message-ID: {first}")), "{raw}");
    }

    #[test]
    fn addresses_are_checked_before_anything_is_queued() {
        assert!(parse_address("camille.durand@example.org").is_ok());
        for bad in [
            "",
            "pas une adresse",
            "a@b.org\r\nBcc: everyone@example.org",
        ] {
            assert!(parse_address(bad).is_err(), "{bad:?}");
        }
        assert!(parse_address(&format!("{}@example.org", "a".repeat(300))).is_err());
    }
}
