//! Reminders before the jury. The candidate gives the relay the jury's date and the address
//! to remind (metadata, never dossier content); the relay queues one mail 30, 7 and 1 days
//! before, at 08:00 UTC, in the same queue as invitations (retried with backoff, kept across
//! restarts). Setting the date again replaces the reminders not yet sent; none cancels them.
//! When the moments before the jury are already past but the jury is not, the latest past one
//! goes at once, so a date set late still gets one reminder.

use livret_shared::date::Date;
use livret_shared::envelope::DossierId;
use livret_shared::keys::MemberKey;
use livret_shared::protocol::{Rejection, ServerMsg};

use super::invitations::mailer_for_owner;
use super::{rejected, unavailable};
use crate::clock::now_ms;
use crate::hub::Relay;
use crate::mail;
use crate::store::OutgoingMail;

/// Days before the jury a reminder goes.
pub const DAYS_BEFORE: [i64; 3] = [30, 7, 1];
const DAY_MS: i64 = 24 * 3600 * 1000;
/// The hour (UTC) reminders go on their day.
const HOUR_UTC: i64 = 8;

/// When each reminder goes (milliseconds since the epoch) and how many days before the jury,
/// for a jury on `jury` seen at `now`: the moments still ahead, and the latest one already
/// past (sent at `now`) while the jury itself is ahead.
pub fn schedule(jury: Date, now: i64) -> Vec<(i64, i64)> {
    let jury_ms = jury.days_since_epoch() * DAY_MS;
    if jury_ms + DAY_MS <= now {
        return Vec::new();
    }
    let moments: Vec<(i64, i64)> = DAYS_BEFORE
        .iter()
        .map(|d| (jury_ms - d * DAY_MS + HOUR_UTC * 3600 * 1000, *d))
        .collect();
    let mut out: Vec<(i64, i64)> = moments
        .iter()
        .copied()
        .filter(|(at, _)| *at > now)
        .collect();
    // One goes later today anyway (set on a reminder's day before its hour): no extra one now.
    let one_later_today = out
        .first()
        .is_some_and(|(at, _)| at.div_euclid(DAY_MS) == now.div_euclid(DAY_MS));
    if let Some((_, days)) = moments.iter().rev().find(|(at, _)| *at <= now).copied()
        && out.len() < DAYS_BEFORE.len()
        && !one_later_today
    {
        // Days left counted from today, not from the moment missed.
        let today = now.div_euclid(DAY_MS);
        let left = (jury.days_since_epoch() - today).clamp(0, days);
        out.insert(0, (now, left));
    }
    out
}

fn reminder_mail(to: &str, public_url: &str, jury: Date, days_left: i64) -> OutgoingMail {
    let (quand_fr, when_en) = match days_left {
        0 => ("aujourd'hui".to_string(), "today".to_string()),
        1 => ("demain".to_string(), "tomorrow".to_string()),
        n => (format!("dans {n} jours"), format!("in {n} days")),
    };
    OutgoingMail {
        to: to.to_string(),
        subject: format!("Rappel : votre jury VAE, {quand_fr}"),
        body: format!(
            "Bonjour,\n\n\
             Votre jury VAE est prévu le {} ({quand_fr}).\n\
             Relisez votre dossier et vos preuves dans Livret : {public_url}/\n\n\
             Ce courriel ne contient rien de votre dossier : il a été programmé à votre demande.\n\n\
             --\n\
             Hello,\n\n\
             Your VAE jury is on {} ({when_en}). Review your dossier in Livret: {public_url}/\n",
            jury.in_french(),
            jury.iso(),
        ),
    }
}

/// Sets (or, with no date, cancels) a dossier's reminders; owners only. Answers with when
/// the queued reminders will go.
pub fn set(
    relay: &Relay,
    me: &MemberKey,
    dossier: DossierId,
    email: &str,
    jury_date: Option<Date>,
) -> Vec<ServerMsg> {
    let mailer = match mailer_for_owner(
        relay,
        me,
        &dossier,
        "seul le candidat programme ses rappels",
    ) {
        Ok(mailer) => mailer,
        Err(refusal) => return refusal,
    };
    let now = now_ms();
    let mails: Vec<(OutgoingMail, i64)> = match jury_date {
        None => Vec::new(),
        Some(jury) => {
            let to = match mail::parse_address(email) {
                Ok(mailbox) => mailbox.email.to_string(),
                Err(_) => return rejected(relay, Rejection::Malformed, "adresse e-mail invalide"),
            };
            let planned = schedule(jury, now);
            if planned.is_empty() {
                return rejected(relay, Rejection::Malformed, "la date du jury est passée");
            }
            planned
                .into_iter()
                .map(|(at, days)| (reminder_mail(&to, &mailer.public_url, jury, days), at))
                .collect()
        }
    };
    // The one for a moment already past goes now — at most once a day per dossier (the
    // store decides, in the same transaction): setting the reminders again, with a new date
    // or address, must not turn the relay into a mail cannon.
    let mut mails = mails;
    let at_once = match mails.first() {
        Some((_, at)) if *at == now => Some(mails.remove(0)),
        _ => None,
    };
    let mut due: Vec<i64> = mails.iter().map(|(_, at)| *at).collect();
    // The jury's date and the address: the retention counts from the jury when it is
    // later, and the warnings before the end go to the address (`retention`).
    let jury_ms = jury_date.map(|jury| jury.days_since_epoch() * DAY_MS);
    let contact = mails
        .first()
        .or(at_once.as_ref())
        .map(|(m, _)| m.to.clone());
    let stored = relay
        .store
        .set_reminders(&dossier, &mails, at_once, DAY_MS)
        .and_then(|queued_now| {
            relay
                .store
                .set_jury(&dossier, jury_ms, contact.as_deref())
                .map(|()| queued_now)
        });
    match stored {
        Ok(queued_now) => {
            if queued_now {
                due.insert(0, now);
            }
            mailer.queued();
            tracing::info!(count = due.len(), "reminders scheduled");
            vec![ServerMsg::Reminders { dossier, due }]
        }
        Err(_) => unavailable(relay),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(date: &str, hour: i64) -> i64 {
        Date::parse(date).unwrap().days_since_epoch() * DAY_MS + hour * 3600 * 1000
    }

    #[test]
    fn reminders_go_30_7_and_1_days_before_and_one_at_once_when_late() {
        let jury = Date::parse("2027-03-15").unwrap();
        let early = schedule(jury, at("2027-01-01", 12));
        assert_eq!(
            early,
            vec![
                (at("2027-02-13", 8), 30),
                (at("2027-03-08", 8), 7),
                (at("2027-03-14", 8), 1),
            ]
        );
        // Set three days before: the 7-day one is past, so one goes now (3 days left).
        let now = at("2027-03-12", 10);
        assert_eq!(
            schedule(jury, now),
            vec![(now, 3), (at("2027-03-14", 8), 1)]
        );
        // Set on the day before, ahead of 08:00: the day-before one goes at 08:00, and only it.
        assert_eq!(
            schedule(jury, at("2027-03-14", 7)),
            vec![(at("2027-03-14", 8), 1)]
        );
        // The evening before: one at once, "tomorrow".
        let now = at("2027-03-14", 20);
        assert_eq!(schedule(jury, now), vec![(now, 1)]);
        // The day of the jury, and after it.
        let now = at("2027-03-15", 9);
        assert_eq!(schedule(jury, now), vec![(now, 0)]);
        assert!(schedule(jury, at("2027-03-16", 0)).is_empty());
    }
}
