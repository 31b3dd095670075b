//! Deleting a dossier end to end (issue 24): a real relay process and its SQLite file, the
//! members' CLI devices, raw protocol clients for what a hostile member or a replay sends.

use std::path::PathBuf;

use livret_shared::deletion::DeletionNotice;
use livret_shared::envelope::DossierId;
use livret_shared::protocol::{ClientMsg, Rejection, ServerMsg};

use crate::smtp::free_port;
use crate::support::{Relay, temp_dir};
use crate::sync::{Device, Raw, contains, files_under, rejected};

/// Typed into the dossier and an evidence file: nothing of it may stay anywhere.
const CANARY: &str = "CANARI-suppression-e41d";

use crate::support::sample_dossier as sample;

/// Rows naming `dossier` in each table of the relay's database that holds dossiers' rows.
fn rows_left(relay: &Relay, dossier: DossierId) -> Vec<(String, i64)> {
    let db = rusqlite::Connection::open(relay.data.join("livret.sqlite3")).unwrap();
    livret_relay::store::DOSSIER_TABLES
        .iter()
        .map(|(table, column)| {
            let sql = format!("SELECT COUNT(*) FROM {table} WHERE {column} = ?1");
            let rows: i64 = db.query_row(&sql, [&dossier.0[..]], |r| r.get(0)).unwrap();
            (table.to_string(), rows)
        })
        .filter(|(_, rows)| *rows > 0)
        .collect()
}

/// Stretches of the ciphertext the relay holds for `dossier` (envelopes, snapshots,
/// evidence pieces, membership entries): what its files must not hold after the deletion.
fn ciphertext_samples(relay: &Relay, dossier: DossierId) -> Vec<Vec<u8>> {
    let db = rusqlite::Connection::open(relay.data.join("livret.sqlite3")).unwrap();
    let mut samples = Vec::new();
    for sql in [
        "SELECT body FROM envelopes WHERE dossier = ?1",
        "SELECT body FROM pieces WHERE dossier = ?1",
        "SELECT entry FROM membership WHERE dossier = ?1",
    ] {
        let mut stmt = db.prepare(sql).unwrap();
        let bodies = stmt
            .query_map([&dossier.0[..]], |r| r.get::<_, Vec<u8>>(0))
            .unwrap();
        for body in bodies {
            let body = body.unwrap();
            // From the middle: past any header two envelopes could share.
            let at = body.len() / 2;
            samples.push(body[at.saturating_sub(24)..(at + 24).min(body.len())].to_vec());
        }
    }
    samples
}

#[test]
fn a_deleted_dossier_leaves_nothing_on_the_relay_and_every_device_wipes_it() {
    // Mail goes to a port nobody listens on: the invitation and reminders stay queued,
    // and the deletion must take them too.
    let smtp = format!("smtp://127.0.0.1:{}", free_port());
    let relay = Relay::start_with(temp_dir("relais-suppression"), &["--smtp-url", &smtp]);
    let url = relay.url("");
    let candidate = Device::new("candidat-suppression");
    let advisor = Device::new("conseil-suppression");
    let juror = Device::new("jure-suppression");
    let id = candidate.run(&[
        "dossier",
        "import",
        sample().to_str().unwrap(),
        "--relay",
        &url,
    ]);
    let dossier = DossierId::from_hex(&id).unwrap();
    candidate.share_with(&id, &advisor, "advisor", &url);
    candidate.share_with(&id, &juror, "juror", &url);
    candidate.run(&["dossier", "set", &id, "motivation.lettre", CANARY]);
    let evidence = temp_dir("annexe-suppression").join("attestation.txt");
    std::fs::write(&evidence, format!("Attestation — {CANARY}")).unwrap();
    candidate.run(&[
        "dossier",
        "attach",
        &id,
        evidence.to_str().unwrap(),
        "--title",
        "Attestation",
    ]);
    candidate.run(&[
        "dossier",
        "invite",
        &id,
        "camille@example.org",
        "--role",
        "advisor",
    ]);
    candidate.run(&[
        "dossier",
        "reminders",
        &id,
        "--email",
        "candidat@example.org",
        "--jury-date",
        "2027-06-30",
    ]);
    juror.run(&[
        "jury",
        "rate",
        &id,
        "C1",
        "3",
        "--justification",
        "vu",
        "--name",
        "Alice",
    ]);
    juror.run(&["sync"]);
    candidate.run(&["dossier", "compact", &id]);
    advisor.run(&["sync"]);
    assert_eq!(
        advisor.run(&["dossier", "get", &id, "motivation.lettre"]),
        CANARY
    );
    let before = rows_left(&relay, dossier);
    for table in [
        "envelopes",
        "snapshots",
        "pieces",
        "juror_keys",
        "invitations",
        "mail_queue",
        "reminders",
    ] {
        assert!(
            before.iter().any(|(t, _)| t == table),
            "the dossier has rows in {table} before: {before:?}"
        );
    }
    let ciphertext = ciphertext_samples(&relay, dossier);
    assert!(ciphertext.len() > 5, "{}", ciphertext.len());

    // The advisor follows the dossier live.
    let mut live = Raw::connect(&relay, &advisor.secret());
    live.catch_up(dossier);

    // Only the candidate deletes: the advisor's CLI refuses, and the relay refuses a notice
    // the advisor signs as itself.
    let (ok, err) = advisor.try_run(&["dossier", "delete", &id, "--yes"]);
    assert!(!ok && err.contains("seul le candidat"), "{err}");
    let mut hostile = Raw::connect(&relay, &advisor.secret());
    let mut forged =
        DeletionNotice::sign(candidate.replica(&id).membership(), &candidate.secret(), 0).unwrap();
    forged.signer = advisor.secret().signing_public();
    forged.signature = advisor.secret().sign(b"anything").to_vec();
    hostile.send(&ClientMsg::Delete {
        notice: forged.to_bytes(),
    });
    assert_eq!(rejected(hostile.reply()), Rejection::Forbidden);
    // The candidate's own notice, sent by someone else's connection: refused too.
    let genuine =
        DeletionNotice::sign(candidate.replica(&id).membership(), &candidate.secret(), 0).unwrap();
    hostile.send(&ClientMsg::Delete {
        notice: genuine.to_bytes(),
    });
    assert_eq!(rejected(hostile.reply()), Rejection::Forbidden);
    // The candidate's notice of retention, which the dossier carries for every member to
    // read, sent by the advisor as a deletion: refused.
    let retention = advisor
        .replica(&id)
        .dossier()
        .retention_notice()
        .expect("the candidate's sync wrote its notice of retention into the dossier");
    hostile.send(&ClientMsg::Delete { notice: retention });
    assert_eq!(rejected(hostile.reply()), Rejection::Forbidden);
    // Malformed and oversized notices.
    hostile.send(&ClientMsg::Delete {
        notice: vec![0xff; 40],
    });
    assert_eq!(rejected(hostile.reply()), Rejection::Malformed);
    hostile.send(&ClientMsg::Delete {
        notice: vec![0; 100_000],
    });
    assert_eq!(rejected(hostile.reply()), Rejection::Malformed);
    assert_eq!(
        rows_left(&relay, dossier),
        before,
        "nothing erased by refusals"
    );

    // Without confirmation, nothing happens.
    let (ok, err) = candidate.try_run(&["dossier", "delete", &id]);
    assert!(!ok && err.contains("--yes"), "{err}");
    assert_eq!(rows_left(&relay, dossier), before);

    let genesis = candidate.replica(&id).log()[0].to_bytes();
    let said = candidate.run(&["dossier", "delete", &id, "--yes"]);
    assert!(said.contains("supprimé"), "{said}");

    // The relay holds no row of it, and no byte of its ciphertext in any file.
    assert_eq!(
        rows_left(&relay, dossier),
        [],
        "rows left after the deletion"
    );
    let files = files_under(&relay.data);
    for sample in &ciphertext {
        for (path, bytes) in &files {
            assert!(
                !contains(bytes, sample),
                "ciphertext of the dossier in {}",
                path.display()
            );
        }
    }
    // Nor do its logs name it (at debug level, after creation, sharing, a snapshot and the
    // deletion): their retention is the operator's, not the dossier's.
    crate::sync::assert_relay_never_saw(&relay, &[CANARY, &id[..12]]);
    let db = rusqlite::Connection::open(relay.data.join("livret.sqlite3")).unwrap();
    let tombstones: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM tombstones WHERE dossier = ?1",
            [&dossier.0[..]],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tombstones, 1);

    // The candidate's device wiped its copy.
    assert!(!candidate.has_copy(&id));
    let (ok, err) = candidate.try_run(&["dossier", "get", &id, "motivation.lettre"]);
    assert!(!ok && err.contains("supprimé"), "{err}");

    // The advisor, following live, is told, with the candidate's notice.
    let notice = loop {
        match live.recv() {
            ServerMsg::Deleted {
                dossier: d, notice, ..
            } if d == dossier => break notice,
            ServerMsg::Log { .. } | ServerMsg::Presence { .. } => continue,
            other => panic!("expected the deletion, got {other:?}"),
        }
    };
    DeletionNotice::from_bytes(&notice)
        .unwrap()
        .check_for_member(
            advisor.replica(&id).membership(),
            livret_relay::clock::now_ms(),
        )
        .unwrap();
    // Its next sync wipes its copy, and says why.
    let (ok, err) = advisor.try_run(&["sync"]);
    assert!(ok, "a deletion learnt is not a failed sync: {err}");
    assert!(err.contains("supprimé"), "{err}");
    assert!(!advisor.has_copy(&id));
    // The juror's device, offline all along, learns it at its next sync.
    assert!(juror.has_copy(&id));
    juror.run(&["sync"]);
    assert!(!juror.has_copy(&id));

    // A replay of the deletion is answered as the deletion was; a creation of the same
    // dossier from a copy kept somewhere is refused with the deletion.
    let mut again = Raw::connect(&relay, &candidate.secret());
    again.send(&ClientMsg::Delete {
        notice: notice.clone(),
    });
    let first = match again.reply() {
        ServerMsg::Deleted {
            notice: n,
            deleted_ms,
            ..
        } => {
            assert_eq!(n, notice);
            deleted_ms
        }
        other => panic!("expected the deletion again, got {other:?}"),
    };
    again.send(&ClientMsg::Create { entry: genesis });
    assert!(
        matches!(again.reply(), ServerMsg::Deleted { deleted_ms, .. } if deleted_ms == first),
        "a kept copy does not bring the dossier back"
    );
    again.send(&ClientMsg::Subscribe {
        dossier,
        since: Vec::new(),
    });
    assert!(matches!(again.reply(), ServerMsg::Deleted { .. }));
    assert_eq!(rows_left(&relay, dossier), []);
}

/// A member keeps writing while the candidate deletes: each edit is stored before the
/// deletion (and erased with it) or refused after; nothing of the dossier is left.
#[test]
fn a_deletion_racing_an_advisors_edits_leaves_nothing() {
    let relay = Relay::start();
    let url = relay.url("");
    let candidate = Device::new("candidat-course");
    let advisor = Device::new("conseil-course");
    let id = candidate.run(&["dossier", "new", "--relay", &url]);
    let dossier = DossierId::from_hex(&id).unwrap();
    candidate.share_with(&id, &advisor, "advisor", &url);
    let keys = advisor.secret();
    let mut replica = advisor.replica(&id);
    let edits: Vec<Vec<u8>> = (0..400)
        .map(|i| {
            replica
                .dossier()
                .set("motivation.lettre", &format!("{CANARY} {i}"))
                .unwrap();
            replica
                .flush(&keys, livret_shared::envelope::random_nonce())
                .unwrap()
                .expect("an edit to seal")
        })
        .collect();
    let mut writer = Raw::connect(&relay, &keys);
    let (started, under_way) = std::sync::mpsc::channel();
    let pushing = std::thread::spawn(move || {
        let (mut stored, mut refused) = (0, 0);
        for edit in &edits {
            match writer.push(edit) {
                ServerMsg::Ack { .. } => stored += 1,
                ServerMsg::Rejected { .. } => refused += 1,
                other => panic!("unexpected answer {other:?}"),
            }
            if stored == 20 {
                let _ = started.send(());
            }
        }
        (stored, refused)
    });
    under_way
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("edits under way");
    candidate.run(&["dossier", "delete", &id, "--yes"]);
    let (stored, refused) = pushing.join().unwrap();
    assert_eq!(stored + refused, 400);
    assert!(stored >= 20, "{stored}");
    assert_eq!(
        rows_left(&relay, dossier),
        [],
        "{stored} stored, {refused} refused"
    );
    crate::sync::assert_relay_never_saw(&relay, &[CANARY]);
}

/// The keys IndexedDB holds in `browser` that name `id`.
pub(crate) fn browser_keys_naming(browser: &crate::webdriver::Browser, id: &str) -> Vec<String> {
    let keys = browser.run_async(
        r#"const done = arguments[arguments.length - 1];
        const open = indexedDB.open("livret");
        open.onerror = () => done([]);
        open.onsuccess = () => {
          const all = open.result.transaction("kv").objectStore("kv").getAllKeys();
          all.onerror = () => done([]);
          all.onsuccess = () => done(all.result.map(String));
        };"#,
    );
    keys.as_array()
        .expect("the keys")
        .iter()
        .filter_map(|k| k.as_str())
        .filter(|k| k.contains(id))
        .map(str::to_string)
        .collect()
}

/// A browser holding a dossier as an advisor, open in the editor, when the candidate
/// deletes it from the command line: it goes back to the dossiers, says why, and keeps
/// nothing of it. Then its own dossier, deleted from the editor: confirmed by a typed word,
/// erased from the relay and from the browser.
#[test]
fn dossiers_deleted_leave_the_browsers_that_held_them() {
    let relay = Relay::start();
    let url = relay.url("");
    let candidate = Device::new("candidat-suppression-nav");
    let id = candidate.run(&[
        "dossier",
        "import",
        sample().to_str().unwrap(),
        "--relay",
        &url,
    ]);
    let image = sample()
        .parent()
        .unwrap()
        .join("annexes/tableau-de-bord.png");
    candidate.run(&[
        "dossier",
        "attach",
        &id,
        image.to_str().unwrap(),
        "--title",
        "Tableau",
    ]);
    candidate.run(&["sync"]);

    let (browser, _) = crate::browser::browser_member_of(&relay, &candidate, &id, "advisor");
    assert!(!browser_keys_naming(&browser, &id).is_empty());
    // An advisor is offered no deletion.
    assert!(!browser.exists("#suppression"));

    candidate.run(&["dossier", "delete", &id, "--yes"]);
    browser.wait_text("[data-testid=annonce]", |t| {
        t.starts_with("Le dossier a été supprimé par le candidat le")
    });
    assert!(!browser.exists("article.livret"), "the editor closed");
    assert_eq!(
        browser_keys_naming(&browser, &id),
        [format!("deleted:{id}")],
        "only the mark that it was deleted stays"
    );
    assert!(
        !browser.exists("[data-testid=dossiers] button"),
        "no dossier listed"
    );

    // The browser's own dossier, deleted from the editor.
    browser.click("#referentiel option[value='003']");
    browser.click("#creer-dossier");
    browser.type_into("#f-motivation-lettre", CANARY);
    browser.wait_text("[data-testid=etat-synchro]", |t| {
        t == "Synchronisé avec le serveur"
    });
    let own = browser.attribute("article.livret", "data-dossier");
    let own_id = DossierId::from_hex(&own).unwrap();
    assert!(!rows_left(&relay, own_id).is_empty());
    browser.click("#suppression summary");
    browser.assert_accessible("deleting a dossier");
    assert_eq!(
        browser.property("#supprimer-dossier", "disabled").as_bool(),
        Some(true),
        "not before the word is typed"
    );
    browser.type_into("#confirmer-suppression", "SUPPRIMER");
    browser.click("#supprimer-dossier");
    browser.wait_text("[data-testid=annonce]", |t| {
        t.starts_with("Le dossier a été supprimé par le candidat le")
    });
    assert_eq!(rows_left(&relay, own_id), [], "erased from the relay");
    assert_eq!(
        browser_keys_naming(&browser, &own),
        [format!("deleted:{own}")]
    );
    crate::sync::assert_relay_never_saw(&relay, &[CANARY]);
}

/// Two relay nodes on PostgreSQL, evidence in a bucket: the candidate deletes through one
/// node, a member following through the other is told, and neither the database nor the
/// bucket keeps anything of the dossier.
#[test]
fn a_deletion_on_postgres_and_a_bucket_leaves_nothing_and_reaches_the_other_node() {
    use livret_relay::testing::{ThrowawayPostgres, ThrowawayS3, count};
    let postgres = ThrowawayPostgres::start();
    let database = postgres.database("deletion");
    let s3 = ThrowawayS3::start();
    let settings = s3.settings();
    let start = |label: &str| {
        Relay::start_with_env(
            temp_dir(label),
            &["--store", &database, "--evidence", &s3.url()],
            &settings,
        )
    };
    let (first, second) = (start("suppression-pg-a"), start("suppression-pg-b"));
    let candidate = Device::new("candidat-suppression-pg");
    let advisor = Device::new("conseil-suppression-pg");
    let id = candidate.run(&["dossier", "new", "--relay", &first.url("")]);
    let dossier = DossierId::from_hex(&id).unwrap();
    candidate.share_with(&id, &advisor, "advisor", &second.url(""));
    candidate.run(&["dossier", "set", &id, "motivation.lettre", CANARY]);
    let evidence = temp_dir("annexe-suppression-pg").join("attestation.txt");
    std::fs::write(&evidence, format!("Attestation — {CANARY}")).unwrap();
    candidate.run(&[
        "dossier",
        "attach",
        &id,
        evidence.to_str().unwrap(),
        "--title",
        "Attestation",
    ]);
    advisor.run(&["sync"]);
    let prefix = format!("pieces/{id}/");
    let in_bucket = || {
        s3.objects()
            .iter()
            .filter(|(name, _)| name.starts_with(&prefix))
            .count()
    };
    assert!(in_bucket() > 0, "the evidence went to the bucket");
    let rows = |table: &str, column: &str| {
        count(
            &database,
            &format!("SELECT COUNT(*) FROM {table} WHERE {column} = '\\x{id}'::bytea"),
        )
    };
    assert!(rows("envelopes", "dossier") > 0);

    let mut live = Raw::connect(&second, &advisor.secret());
    live.catch_up(dossier);
    candidate.run(&["dossier", "delete", &id, "--yes"]);
    // Told through the other node (its poke, or its sweep).
    loop {
        match live.recv() {
            ServerMsg::Deleted { dossier: d, .. } if d == dossier => break,
            ServerMsg::Log { .. } | ServerMsg::Presence { .. } => continue,
            other => panic!("expected the deletion, got {other:?}"),
        }
    }
    for (table, column) in livret_relay::store::DOSSIER_TABLES
        .iter()
        .chain([&("dossier_heads", "dossier")])
    {
        assert_eq!(
            rows(table, column),
            0,
            "rows of the deleted dossier left in {table}"
        );
    }
    assert_eq!(rows("tombstones", "dossier"), 1);
    assert_eq!(in_bucket(), 0, "the evidence left the bucket");
    for (name, bytes) in s3.objects() {
        assert!(!contains(&bytes, CANARY.as_bytes()), "canary in {name}");
    }
    advisor.run(&["sync"]);
    assert!(!advisor.has_copy(&id));
}

/// Runs the relay at `data` on `port`, its clock `days` ahead, mailing through `smtp`.
fn relay_ahead(data: PathBuf, port: u16, smtp: &str, days: i64) -> Relay {
    let addr = format!("127.0.0.1:{port}");
    let days = days.to_string();
    Relay::start_with(
        data,
        &[
            "--addr",
            &addr,
            "--smtp-url",
            smtp,
            "--clock-offset-days",
            &days,
        ],
    )
}

/// A year without activity, lived through by a relay whose clock runs ahead: the candidate
/// is mailed 30 and then 7 days before the end (real SMTP), the abandoned dossier ends on
/// time while the one its candidate came back to stays, and the members' devices wipe the
/// ended one only once their own clock reached the date the candidate's notice set.
#[test]
fn a_dossier_left_a_year_ends_after_two_warnings_and_one_its_candidate_came_back_to_stays() {
    use crate::smtp::SmtpServer;
    const DAY_MS: i64 = 24 * 3600 * 1000;
    let smtp = SmtpServer::start();
    let port = free_port();
    let relay = relay_ahead(temp_dir("relais-conservation"), port, &smtp.url(), 0);
    let url = relay.url("");
    let candidate = Device::new("candidat-conservation");
    let advisor = Device::new("conseil-conservation");
    let late = Device::new("retardataire-conservation");
    // A device syncs its dossiers in the order of their ids: the one that ends comes first,
    // so that the late device syncing the other after it shows it goes on past a refusal.
    let (one, other) = (
        candidate.run(&["dossier", "new", "--relay", &url]),
        candidate.run(&["dossier", "new", "--relay", &url]),
    );
    let (left, kept) = if one < other {
        (one, other)
    } else {
        (other, one)
    };
    candidate.share_with(&left, &advisor, "advisor", &url);
    candidate.share_with(&left, &late, "advisor", &url);
    candidate.share_with(&kept, &late, "advisor", &url);
    candidate.run(&["dossier", "set", &left, "motivation.lettre", CANARY]);
    // The jury in 20 days: the retention counts from it.
    let today = livret_relay::clock::now_ms().div_euclid(DAY_MS);
    let jury = livret_shared::date::Date::from_days_since_epoch(today + 20);
    candidate.run(&[
        "dossier",
        "reminders",
        &left,
        "--email",
        "candidat@example.org",
        "--jury-date",
        &jury.iso(),
    ]);
    candidate.run(&["sync"]);
    advisor.run(&["sync"]);
    late.run(&["sync"]);
    // The warnings among the mails (the reminders before the jury go too), once `n` came.
    // A relay killed after the SMTP server took a mail but before it recorded it as sent
    // sends it again with the same Message-ID (at least once, by design): a mail client
    // shows it once, so the test counts Message-IDs.
    let warnings = |n: usize| {
        for _ in 0..600 {
            let mut seen = std::collections::HashSet::new();
            let found: Vec<_> = smtp
                .messages()
                .into_iter()
                .filter(|m| {
                    m.subject
                        .starts_with("Votre dossier VAE sera supprimé de Livret le")
                })
                .filter(|m| seen.insert(m.header("Message-ID").unwrap_or_default().to_string()))
                .collect();
            if found.len() >= n {
                return found;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("{n} warning(s) expected")
    };
    let ends_in_days = 20 + livret_shared::deletion::RETENTION_DAYS;
    let left_id = DossierId::from_hex(&left).unwrap();

    // 29 days before the end: the first warning.
    let data = relay.kill_hard();
    let relay = relay_ahead(data, port, &smtp.url(), ends_in_days - 29);
    let sent = warnings(1);
    let warning = &sent[0];
    assert_eq!(warning.to, ["candidat@example.org"]);
    assert!(warning.body.contains("dans 29 jours"), "{}", warning.body);
    assert!(!warning.body.contains(&left) && !warning.body.contains(CANARY));
    // Meanwhile the candidate comes back to their other dossier (their device a year on
    // too: it would end 9 days later).
    let back = (ends_in_days - 29).to_string();
    candidate.run(&[
        "--clock-offset-days",
        &back,
        "dossier",
        "set",
        &kept,
        "motivation.lettre",
        "Toujours là",
    ]);
    candidate.run(&["--clock-offset-days", &back, "dossier", "compact", &kept]);
    // Restarted within the same stretch: not again.
    let data = relay.kill_hard();
    let relay = relay_ahead(data, port, &smtp.url(), ends_in_days - 20);

    // 5 days before: the second.
    let data = relay.kill_hard();
    let relay = relay_ahead(data, port, &smtp.url(), ends_in_days - 5);
    let sent = warnings(2);
    assert!(sent[1].body.contains("dans 5 jours"), "{}", sent[1].body);

    // The day after the end: the abandoned dossier is erased; the other stays.
    let data = relay.kill_hard();
    let relay = relay_ahead(data, port, &smtp.url(), ends_in_days + 1);
    let mut waited = 0;
    while !rows_left(&relay, left_id).is_empty() && waited < 600 {
        std::thread::sleep(std::time::Duration::from_millis(100));
        waited += 1;
    }
    assert_eq!(
        rows_left(&relay, left_id),
        [],
        "ended at the end of its retention"
    );
    assert!(
        !rows_left(&relay, DossierId::from_hex(&kept).unwrap()).is_empty(),
        "the dossier its candidate came back to stays"
    );
    assert_eq!(warnings(2).len(), 2, "two warnings, no more");
    // Sent again only across a restart: at most once more for each of the four kills.
    let sent_in_all = smtp
        .messages()
        .iter()
        .filter(|m| {
            m.subject
                .starts_with("Votre dossier VAE sera supprimé de Livret le")
        })
        .count();
    assert!(
        sent_in_all <= 2 + 4,
        "{sent_in_all} warning mails for two warnings"
    );
    crate::sync::assert_relay_never_saw(&relay, &[CANARY]);

    // A device whose clock is a year on too wipes its copy on the candidate's notice…
    let ahead = (ends_in_days + 1).to_string();
    let (ok, err) = advisor.try_run(&["--clock-offset-days", &ahead, "sync"]);
    assert!(ok && err.contains("supprimé"), "{err}");
    assert!(!advisor.has_copy(&left));
    // …one whose clock says the candidate's date is not reached keeps it, says so, and
    // syncs its other dossier still.
    let (ok, err) = late.try_run(&["sync"]);
    assert!(ok && err.contains("date à venir"), "{err}");
    assert!(late.has_copy(&left));
    assert_eq!(
        late.run(&["dossier", "get", &kept, "motivation.lettre"]),
        "Toujours là"
    );
}
