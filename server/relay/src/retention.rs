//! Dossiers end when nothing happened in them for the retention (`livret serve
//! --retention-days`, a year by default: France VAE keeps a parcours' data at most twelve
//! months after it ends), counted from their last activity or their jury, the later. The
//! candidate is mailed 30 and 7 days before, at the address they gave for reminders; coming
//! back (any sync of theirs, any write in the dossier) starts the count again. At the end
//! the relay erases the dossier as a deletion does, with the candidate's latest standing
//! notice of retention as its tombstone: devices wipe their copies on it once their own
//! clock has reached the date the candidate's device set (`shared::deletion`), never on the
//! relay's word alone.

use std::sync::Arc;
use std::time::Duration;

use livret_shared::date::Date;
use livret_shared::deletion::DeletionNotice;
use livret_shared::protocol::{Rejection, ServerMsg};
use tokio::sync::oneshot;

use crate::appender::Job;
use crate::handlers::{Caller, load_membership, off_runtime, rejected, unavailable};
use crate::hub::Relay;
use crate::store::{OutgoingMail, Retention};

const DAY_MS: i64 = 24 * 3600 * 1000;

/// Days before the end a warning goes to the candidate.
pub const WARN_DAYS: [i64; 2] = [30, 7];

/// How often the relay looks for dossiers to warn about or end (and once at start).
pub const SWEEP_EVERY: Duration = Duration::from_secs(3600);

/// Dossiers looked at in one sweep, at most (the next sweep takes the rest).
const SWEEP_LIMIT: usize = 1_000;

/// What is due for a dossier at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Nothing,
    /// The warning this many days before the end.
    Warn(i64),
    End,
}

/// What is due for `r` at `now`: its end once reached; else the latest warning whose moment
/// has come and that did not go for this end yet (a relay stopped through the 30-day
/// moment sends the 7-day one only), when there is an address to send it to.
pub fn step(r: &Retention, now: i64) -> Step {
    if r.ends_ms <= now {
        return Step::End;
    }
    if r.contact.is_none() {
        return Step::Nothing;
    }
    let left = r.ends_ms - now;
    let sent_for_this_end = |days: i64| {
        r.warned
            .is_some_and(|(ends, sent)| ends == r.ends_ms && sent <= days)
    };
    WARN_DAYS
        .iter()
        .rev()
        .copied()
        .find(|days| left <= days * DAY_MS && !sent_for_this_end(*days))
        .map_or(Step::Nothing, Step::Warn)
}

/// The warning mail, `days` before the end (counted from when it goes): the date, how to
/// keep the dossier, nothing of its content.
pub fn warning_mail(to: &str, public_url: &str, ends_ms: i64, days: i64) -> OutgoingMail {
    let day = Date::of_ms(ends_ms);
    OutgoingMail {
        to: to.to_string(),
        subject: format!(
            "Votre dossier VAE sera supprimé de Livret le {}",
            day.in_french()
        ),
        body: format!(
            "Bonjour,\n\n\
             Rien ne s'est passé dans votre dossier VAE sur Livret depuis longtemps : il sera \
             supprimé du relais le {} (dans {days} jours), comme le prévoit sa durée de \
             conservation, et effacé des appareils de ses membres.\n\
             Pour le garder, ouvrez Livret sur l'un de vos appareils avant cette date : \
             {public_url}/\n\
             Pour en garder une copie, exportez-le depuis Livret.\n\n\
             Ce courriel ne contient rien de votre dossier.\n\n\
             --\n\
             Hello,\n\n\
             Nothing happened in your VAE dossier on Livret for a long time: it will be deleted \
             from the relay on {} (in {days} days), as its retention provides, and erased from \
             its members' devices. To keep it, open Livret on one of your devices before then: \
             {public_url}/\n",
            day.in_french(),
            day.iso(),
        ),
    }
}

/// Warns about and ends the dossiers that are due (called every [`SWEEP_EVERY`]); answers
/// how many it ended.
pub async fn sweep(relay: &Arc<Relay>) -> usize {
    let now = crate::clock::now_ms();
    let retention_ms = relay.retention_ms();
    let until = now + WARN_DAYS[0] * DAY_MS;
    let due = off_runtime(relay, move |relay| {
        relay.store.retention_due(retention_ms, until, SWEEP_LIMIT)
    })
    .await;
    let Some(Ok(due)) = due else {
        tracing::warn!("retention sweep: the store did not answer");
        return 0;
    };
    let mut ended = 0;
    for r in due {
        match step(&r, now) {
            Step::Nothing => {}
            Step::End => {
                let (reply, done) = oneshot::channel();
                let _ = relay.appender.send(Job::Expire {
                    dossier: r.dossier,
                    retention_ms,
                    reply,
                });
                if let Ok(Some(_)) = done.await {
                    ended += 1;
                    relay
                        .metrics
                        .expirations
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
            Step::Warn(days) => {
                let (Some(to), Some(mailer)) = (r.contact.clone(), relay.mailer.clone()) else {
                    continue;
                };
                let left = (r.ends_ms - now + DAY_MS - 1).div_euclid(DAY_MS);
                let mail = warning_mail(&to, &mailer.public_url, r.ends_ms, left);
                let warned = off_runtime(relay, move |relay| {
                    relay.store.warned(&r.dossier, r.ends_ms, days, &mail, now)
                })
                .await;
                if let Some(Ok(())) = warned {
                    mailer.queued();
                }
            }
        }
    }
    if ended > 0 {
        tracing::info!(
            count = ended,
            "dossiers ended at the end of their retention"
        );
    }
    ended
}

/// Sweeps now, then every [`SWEEP_EVERY`], while the relay runs.
pub(crate) async fn keep_sweeping(relay: std::sync::Weak<Relay>) {
    loop {
        let Some(strong) = relay.upgrade() else {
            return;
        };
        sweep(&strong).await;
        drop(strong);
        tokio::time::sleep(SWEEP_EVERY).await;
    }
}

/// Keeps the candidate's standing notice of retention (owners only, sent by the device that
/// signed it) and answers when the dossier ends if nothing happens in it.
pub(crate) async fn retain(caller: &Caller<'_>, notice: Vec<u8>) -> Vec<ServerMsg> {
    let relay = caller.relay;
    let me = caller.me;
    let answer = off_runtime(relay, move |relay| {
        let Ok(read) = DeletionNotice::from_bytes(&notice) else {
            return rejected(
                relay,
                Rejection::Malformed,
                "avis de conservation illisible",
            );
        };
        let dossier = read.body.dossier;
        let Some(members) = load_membership(relay.store.as_ref(), &dossier) else {
            return rejected(relay, Rejection::UnknownDossier, "dossier inconnu");
        };
        if read.signer != me || read.check_signed(&members).is_err() {
            return rejected(
                relay,
                Rejection::Forbidden,
                "seul le candidat renouvelle la conservation de son dossier",
            );
        }
        let now = crate::clock::now_ms();
        let retention_ms = relay.retention_ms();
        let kept = relay
            .store
            .retain(&dossier, &notice, read.body.effective_ms, now)
            .and_then(|()| relay.store.retention(&dossier, retention_ms));
        match kept {
            Ok(Some(r)) => vec![ServerMsg::Retained {
                dossier,
                expires_ms: r.ends_ms,
            }],
            Ok(None) => rejected(relay, Rejection::UnknownDossier, "dossier inconnu"),
            Err(_) => unavailable(relay),
        }
    })
    .await;
    answer.unwrap_or_else(|| unavailable(relay))
}

#[cfg(test)]
mod tests {
    use super::*;
    use livret_shared::envelope::DossierId;

    fn due(ends_ms: i64, warned: Option<(i64, i64)>, contact: bool) -> Retention {
        Retention {
            dossier: DossierId([1; 16]),
            ends_ms,
            contact: contact.then(|| "candidat@example.org".to_string()),
            warned,
            notice: None,
        }
    }

    #[test]
    fn warnings_go_30_then_7_days_before_once_each_and_the_end_after() {
        let ends = 400 * DAY_MS;
        let at = |days_left: i64| ends - days_left * DAY_MS;
        assert_eq!(step(&due(ends, None, true), at(31)), Step::Nothing);
        assert_eq!(step(&due(ends, None, true), at(30)), Step::Warn(30));
        // Sent: not again, until the 7-day moment.
        let warned_30 = Some((ends, 30));
        assert_eq!(step(&due(ends, warned_30, true), at(20)), Step::Nothing);
        assert_eq!(step(&due(ends, warned_30, true), at(7)), Step::Warn(7));
        assert_eq!(
            step(&due(ends, Some((ends, 7)), true), at(2)),
            Step::Nothing
        );
        // A relay stopped through the 30-day moment sends the 7-day one only.
        assert_eq!(step(&due(ends, None, true), at(5)), Step::Warn(7));
        // The candidate came back: a new end, warned again when its time comes.
        let later = ends + 90 * DAY_MS;
        assert_eq!(
            step(&due(later, warned_30, true), later - 30 * DAY_MS),
            Step::Warn(30)
        );
        // No address: no warning, the end all the same.
        assert_eq!(step(&due(ends, None, false), at(7)), Step::Nothing);
        assert_eq!(step(&due(ends, None, false), ends), Step::End);
        assert_eq!(step(&due(ends, Some((ends, 7)), true), ends + 1), Step::End);
    }

    #[test]
    fn the_warning_says_when_and_how_to_keep_the_dossier_and_nothing_of_it() {
        let ends = Date::parse("2027-11-20").unwrap().days_since_epoch() * DAY_MS;
        let mail = warning_mail("c@example.org", "https://livret.example.org", ends, 7);
        assert_eq!(
            mail.subject,
            "Votre dossier VAE sera supprimé de Livret le 20 novembre 2027"
        );
        assert!(mail.body.contains("dans 7 jours"), "{}", mail.body);
        assert!(
            mail.body.contains("https://livret.example.org/"),
            "{}",
            mail.body
        );
        assert!(mail.body.contains("2027-11-20"), "{}", mail.body);
    }
}
