//! Invitations by e-mail, end to end: a real relay process sending through a real SMTP
//! server (aiosmtpd) on 127.0.0.1, native clients for the candidate and the invitee.

use crate::smtp::{SmtpServer, free_port};
use crate::support::{Relay, temp_dir};
use crate::sync::{Device, contains, files_under};

const CANARY: &str = "CANARI-INVITATION-5f1e9a";

/// The invitation link in a mail's body.
fn link_in(body: &str) -> String {
    body.split_whitespace()
        .find(|w| w.contains("/#invitation="))
        .unwrap_or_else(|| panic!("no invitation link in:\n{body}"))
        .to_string()
}

#[test]
fn an_invitation_mail_leads_to_an_approved_advisor_and_carries_nothing_of_the_dossier() {
    let smtp = SmtpServer::start();
    let relay = Relay::start_with(temp_dir("relais-courriel"), &["--smtp-url", &smtp.url()]);
    let candidate = Device::new("candidat-invite");
    let advisor = Device::new("conseil-invite");
    let stranger = Device::new("intrus-invite");

    let id = candidate.run(&["dossier", "new", "--relay", &relay.url("")]);
    candidate.run(&["dossier", "set", &id, "motivation.lettre", CANARY]);
    candidate.run(&["sync"]);

    // Only an owner invites: the advisor-to-be, a stranger, cannot.
    let (ok, err) = stranger.try_run(&[
        "dossier",
        "invite",
        &id,
        "x@example.org",
        "--role",
        "advisor",
    ]);
    assert!(!ok, "a stranger has no dossier to invite to: {err}");

    let invitation = candidate.run(&[
        "dossier",
        "invite",
        &id,
        "camille.conseil@example.org",
        "--role",
        "advisor",
        "--name",
        "Dominique Durand",
    ]);
    assert_eq!(invitation.len(), 32, "{invitation}");
    let mails = smtp.wait_for_messages(1);
    let mail = &mails[0];
    assert_eq!(mail.to, ["camille.conseil@example.org"]);
    assert_eq!(
        mail.subject,
        "Invitation à rejoindre un dossier VAE sur Livret"
    );
    assert!(mail.body.contains("Dominique Durand"), "{}", mail.body);
    assert!(mail.body.contains("accompagnateur"), "{}", mail.body);
    // A Message-ID of the relay's own (the same if the mail is sent again).
    let message_id = mail.header("Message-ID").unwrap_or_default();
    assert!(
        message_id.starts_with('<') && message_id.ends_with("@127.0.0.1>"),
        "{message_id:?}"
    );
    // Never the dossier's content, never a key.
    for secret in [
        CANARY,
        "AGE-SECRET-KEY",
        "LIVRET-SIGNING-KEY",
        "age1",
        "livret1:",
    ] {
        assert!(
            !contains(&mail.raw, secret.as_bytes()),
            "{secret} in the mail:\n{}",
            String::from_utf8_lossy(&mail.raw)
        );
    }
    let link = link_in(&mail.body);
    assert!(link.starts_with(&relay.url("/#invitation=")), "{link}");

    // Until it is answered and approved, the invitee sees nothing.
    let (ok, _) = advisor.try_run(&["dossier", "open", &id, "--relay", &relay.url("")]);
    assert!(!ok, "not a member yet");

    // A forged or mangled token is refused.
    let forged = format!("{}/#invitation={}", relay.url(""), "0".repeat(64));
    let (ok, err) = advisor.try_run(&["invitation", "accept", &forged]);
    assert!(!ok && err.contains("invitation inconnue"), "{err}");

    let answer = advisor.run(&["invitation", "accept", &link]);
    let mut lines = answer.lines();
    assert_eq!(lines.next(), Some(id.as_str()));
    let advisor_code = lines.next().unwrap().to_string();
    assert_eq!(advisor_code, advisor.run(&["identity", "code"]));
    assert_eq!(
        advisor_code.len(),
        23,
        "twenty digits in four groups: {advisor_code}"
    );

    // The link works once: another device cannot answer it again.
    let (ok, err) = stranger.try_run(&["invitation", "accept", &link]);
    assert!(!ok && err.contains("déjà utilisée"), "{err}");
    // Only the owner sees who answered.
    let (ok, _) = advisor.try_run(&["dossier", "requests", &id]);
    assert!(!ok, "the invitee has no dossier to read requests of");

    // The candidate sees the request with the same safety code (computed on their side
    // from the identity the relay passed on), and approves it by sharing.
    let requests = candidate.run(&["dossier", "requests", &id]);
    let request: Vec<&str> = requests.split(' ').collect();
    assert_eq!(request[0], invitation);
    assert_eq!(request[1], "advisor");
    assert_eq!(request[2..6].join(" "), advisor_code);
    let identity = request[6];
    assert_eq!(identity, advisor.run(&["identity", "show"]));
    candidate.run(&["dossier", "share", &id, identity, "--role", "advisor"]);
    assert_eq!(candidate.run(&["dossier", "requests", &id]), "", "approved");

    advisor.run(&["dossier", "open", &id, "--relay", &relay.url("")]);
    assert_eq!(
        advisor.run(&["dossier", "get", &id, "motivation.lettre"]),
        CANARY
    );
    // An advisor edits the dossier but does not invite: the relay refuses, by key.
    let (ok, err) = advisor.try_run(&[
        "dossier",
        "invite",
        &id,
        "autre@example.org",
        "--role",
        "juror",
    ]);
    assert!(!ok && err.contains("seul le candidat invite"), "{err}");
    assert_eq!(smtp.messages().len(), 1, "no second mail");

    // The relay's files and logs never held the canary (the queue kept the mail until sent).
    for (path, bytes) in files_under(&relay.data) {
        assert!(
            !contains(&bytes, CANARY.as_bytes()),
            "canary in {}",
            path.display()
        );
    }
    let logs = relay.output();
    for secret in [CANARY, link.as_str(), "camille.conseil@example.org"] {
        assert!(
            !contains(&logs, secret.as_bytes()),
            "{secret} in the relay's logs"
        );
    }
}

/// A mail queued while the SMTP server is down is retried, survives a relay restart, and
/// is delivered once the server is up.
#[test]
fn a_queued_mail_survives_a_restart_and_goes_once_the_server_is_up() {
    let port = free_port();
    let url = format!("smtp://127.0.0.1:{port}");
    let data = temp_dir("relais-file-attente");
    let relay = Relay::start_with(data.clone(), &["--smtp-url", &url]);
    let candidate = Device::new("candidat-file");
    let id = candidate.run(&["dossier", "new", "--relay", &relay.url("")]);
    candidate.run(&[
        "dossier",
        "invite",
        &id,
        "jure@example.org",
        "--role",
        "juror",
    ]);
    // Nothing listens yet: the relay tries, fails, and says it will retry.
    let mut retried = false;
    for _ in 0..100 {
        if contains(&relay.output(), b"will retry") {
            retried = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(retried, "{}", String::from_utf8_lossy(&relay.output()));
    let data = relay.kill_hard();

    let smtp = SmtpServer::start_on(port);
    let _relay = Relay::start_with(data, &["--smtp-url", &url]);
    let mails = smtp.wait_for_messages(1);
    assert_eq!(mails[0].to, ["jure@example.org"]);
    assert!(mails[0].body.contains("comme juré"), "{}", mails[0].body);
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(smtp.messages().len(), 1, "sent once");
}

/// Without `--smtp-url`, mail goes to files in the data directory (development).
#[test]
fn without_smtp_the_mail_lands_in_the_outbox_directory() {
    let relay = Relay::start();
    let candidate = Device::new("candidat-boite");
    let id = candidate.run(&["dossier", "new", "--relay", &relay.url("")]);
    candidate.run(&[
        "dossier",
        "invite",
        &id,
        "conseil@example.org",
        "--role",
        "advisor",
    ]);
    let outbox = relay.data.join("outbox");
    let mut found = Vec::new();
    for _ in 0..100 {
        found = std::fs::read_dir(&outbox)
            .map(|d| {
                d.flatten()
                    .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
                    .map(|e| std::fs::read(e.path()).unwrap())
                    .collect()
            })
            .unwrap_or_default();
        if !found.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(found.len(), 1, "one mail in {}", outbox.display());
    assert!(contains(&found[0], b"conseil@example.org"));
}

/// A date `days` from today (UTC), as `YYYY-MM-DD`.
pub(crate) fn utc_date_in(days: i64) -> String {
    let out = std::process::Command::new("date")
        .args(["-u", "-d", &format!("{days} days"), "+%F"])
        .output()
        .expect("date runs");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// The candidate sets the jury's date: the relay queues reminders 30, 7 and 1 days before
/// (one at once when the date is set late), replaces them when the date changes, cancels
/// them on request; they carry the date and a link, nothing of the dossier; only the
/// candidate sets them.
#[test]
fn reminders_before_the_jury_follow_the_date_and_carry_nothing_of_the_dossier() {
    let smtp = SmtpServer::start();
    let relay = Relay::start_with(temp_dir("relais-rappels"), &["--smtp-url", &smtp.url()]);
    let candidate = Device::new("candidat-rappels");
    let advisor = Device::new("conseil-rappels");
    let id = candidate.run(&["dossier", "new", "--relay", &relay.url("")]);
    candidate.run(&["dossier", "set", &id, "motivation.lettre", CANARY]);
    candidate.run(&["sync"]);
    candidate.share_with(&id, &advisor, "advisor", &relay.url(""));
    let email = "dominique.durand@example.org";

    // Two days ahead: the 30- and 7-day moments are past, so one reminder goes now; the
    // day-before one waits for tomorrow 08:00 UTC.
    let jury = utc_date_in(2);
    let due = candidate.run(&[
        "dossier",
        "reminders",
        &id,
        "--email",
        email,
        "--jury-date",
        &jury,
    ]);
    let lines: Vec<&str> = due.lines().collect();
    assert_eq!(lines.len(), 2, "{due}");
    assert!(lines[0].starts_with(&utc_date_in(0)), "{due}");
    assert_eq!(lines[1], format!("{} 08:00 UTC", utc_date_in(1)));
    let mail = smtp.wait_for_messages(1).remove(0);
    assert_eq!(mail.to, [email]);
    assert_eq!(mail.subject, "Rappel : votre jury VAE, dans 2 jours");
    assert!(mail.body.contains(&jury), "{}", mail.body);
    assert!(mail.body.contains(&relay.url("/")), "{}", mail.body);
    assert!(
        !contains(&mail.raw, CANARY.as_bytes()),
        "canary in the reminder"
    );

    // Set again the same day, three days ahead: no second mail at once (one went today),
    // only the moment still ahead. (The relay records the mail as sent right after the SMTP
    // server's answer, which follows the message seen above: a moment for it to land.)
    std::thread::sleep(std::time::Duration::from_millis(300));
    let due = candidate.run(&[
        "dossier",
        "reminders",
        &id,
        "--email",
        email,
        "--jury-date",
        &utc_date_in(3),
    ]);
    assert_eq!(due, format!("{} 08:00 UTC", utc_date_in(2)));

    // Moved to 40 days ahead: three reminders, none now, the old day-before one gone.
    let due = candidate.run(&[
        "dossier",
        "reminders",
        &id,
        "--email",
        email,
        "--jury-date",
        &utc_date_in(40),
    ]);
    let expected: Vec<String> = [10, 33, 39]
        .iter()
        .map(|d| format!("{} 08:00 UTC", utc_date_in(*d)))
        .collect();
    assert_eq!(due.lines().collect::<Vec<_>>(), expected);

    // Refused: an advisor setting them, a date that is not one, a date past.
    let (ok, _) = advisor.try_run(&[
        "dossier",
        "reminders",
        &id,
        "--email",
        email,
        "--jury-date",
        &jury,
    ]);
    assert!(!ok, "only the candidate sets reminders");
    for bad in ["2027-02-30", "le 3 mars", &utc_date_in(-3)] {
        let (ok, err) = candidate.try_run(&[
            "dossier",
            "reminders",
            &id,
            "--email",
            email,
            "--jury-date",
            bad,
        ]);
        assert!(!ok && err.contains("jury"), "{bad}: {err}");
    }
    // Cancelled: nothing queued.
    assert_eq!(candidate.run(&["dossier", "reminders", &id, "--off"]), "");
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(smtp.messages().len(), 1, "the one sent at once, no other");
    assert!(
        !contains(&relay.output(), email.as_bytes()),
        "the address in the logs"
    );
}
