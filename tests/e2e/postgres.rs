//! The relay on PostgreSQL (`livret serve --store postgres://…`): real relay processes on a
//! throwaway PostgreSQL server, real `livret` devices. What the relay keeps lives in the
//! database, not in its data directory: a relay started elsewhere on the same database
//! serves the same dossiers.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use livret_relay::testing::ThrowawayPostgres;

use crate::support::{Relay, temp_dir};
use crate::sync::{Device, shared_dossier};

#[test]
fn devices_converge_through_a_relay_on_postgres_and_another_node_serves_the_same_dossiers() {
    let postgres = ThrowawayPostgres::start();
    let database = postgres.database("e2e");
    let first = Relay::start_with(temp_dir("relay-pg"), &["--store", &database]);
    let (devices, id) = shared_dossier(&first, 2);
    let (a, b) = (&devices[0], &devices[1]);
    a.run(&["dossier", "set", &id, "etat_civil.nom", "Durand"]);
    a.run(&[
        "dossier",
        "set",
        &id,
        "fiches.0.taches",
        "Lundi : Analyser le besoin.",
    ]);
    b.run(&[
        "dossier",
        "set",
        &id,
        "fiches.0.taches",
        "Analyser le besoin. Rédiger la note.",
    ]);
    for _ in 0..2 {
        a.run(&["sync"]);
        b.run(&["sync"]);
    }
    let merged = "Lundi : Analyser le besoin. Rédiger la note.";
    assert_eq!(a.run(&["dossier", "get", &id, "fiches.0.taches"]), merged);
    assert_eq!(b.run(&["dossier", "get", &id, "fiches.0.taches"]), merged);
    // A device shared now opens the dossier only after the relay is gone.
    let late = Device::new("late");
    a.run(&[
        "dossier",
        "share",
        &id,
        &late.identity(),
        "--role",
        "advisor",
    ]);

    // A second node on the same database serves the same dossiers beside the first, and
    // alone once the first is killed.
    let second = Relay::start_with(temp_dir("relay-pg-2"), &["--store", &database]);
    let data = first.kill_hard();
    assert!(
        !data.join("livret.sqlite3").exists(),
        "nothing went to a SQLite file beside the relay"
    );
    late.run(&["dossier", "open", &id, "--relay", &second.url("")]);
    assert_eq!(
        late.run(&["dossier", "get", &id, "fiches.0.taches"]),
        merged
    );
    assert_eq!(
        late.run(&["dossier", "get", &id, "etat_civil.nom"]),
        "Durand"
    );
    let _ = std::fs::remove_dir_all(data);
}

/// `livret serve` with a store it cannot use: one line saying which (never the password)
/// and exit code 2, at once, not a panic or a hang.
#[test]
fn a_store_that_cannot_be_used_is_one_clear_line_and_exit_2() {
    // Port 1 on the loopback: nothing listens there.
    let unreachable = "postgres://livret:s3cret-pg@127.0.0.1:1/livret";
    for (store, says) in [
        (unreachable, "postgres://livret:…@127.0.0.1:1/livret"),
        ("mysql://root:s3cret-pg@127.0.0.1/livret", "non reconnue"),
    ] {
        let (code, stderr) = serve_once(store);
        assert_eq!(code, Some(2), "{stderr}");
        let lines: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("livret:"))
            .collect();
        assert_eq!(lines.len(), 1, "{stderr}");
        assert!(lines[0].contains(says), "{stderr}");
        assert!(!stderr.contains("s3cret-pg"), "the password is never shown");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

/// `livret serve --store <store>` expected to stop at start: its exit code and what it
/// said. One that starts after all is killed after a bounded wait (its code is then `None`).
fn serve_once(store: &str) -> (Option<i32>, String) {
    let data = temp_dir("relay-refused");
    let mut child = Command::new(env!("CARGO_BIN_EXE_livret"))
        .args(["serve", "--addr", "127.0.0.1:0", "--data"])
        .arg(&data)
        .args(["--store", store])
        .env("LIVRET_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("livret runs");
    let mut code = None;
    for _ in 0..600 {
        if let Some(status) = child.try_wait().expect("its status") {
            code = status.code();
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    if code.is_none() {
        let _ = child.kill();
    }
    let out = child.wait_with_output().expect("its output");
    let _ = std::fs::remove_dir_all(data);
    let mut said = String::from_utf8_lossy(&out.stderr).into_owned();
    said.push_str(&String::from_utf8_lossy(&out.stdout));
    (code, said)
}

/// The backup an operator runs (`deploy/backup.sh`) while the relay serves, the database
/// lost, the dump restored into a new one (`deploy/restore.sh`), the relay started again on
/// it at the same address: devices go on where they were and converge.
#[test]
fn a_dump_restored_into_a_new_database_serves_the_same_dossiers() {
    let postgres = ThrowawayPostgres::start();
    let database = postgres.database("backup");
    let addr = format!("127.0.0.1:{}", livret_relay::testing::free_port());
    let serve = |database: &str, label: &str| {
        Relay::start_with(temp_dir(label), &["--addr", &addr, "--store", database])
    };
    let relay = serve(&database, "relay-backup");
    let (devices, id) = shared_dossier(&relay, 2);
    let (a, b) = (&devices[0], &devices[1]);
    a.run(&["dossier", "set", &id, "etat_civil.nom", "Durand"]);
    b.run(&[
        "dossier",
        "set",
        &id,
        "fiches.0.taches",
        "Analyser le besoin.",
    ]);
    for _ in 0..2 {
        a.run(&["sync"]);
        b.run(&["sync"]);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy");
    let backups = temp_dir("backups");
    let out = Command::new("bash")
        .arg(root.join("backup.sh"))
        .arg(&database)
        .arg(&backups)
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dump = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(Path::new(&dump).is_file(), "{dump}");

    // The database is lost; the dump goes into a new one.
    let _ = relay.kill_hard();
    let restored = postgres.database("restored");
    let restore = |into: &str| {
        Command::new("bash")
            .arg(root.join("restore.sh"))
            .arg(&dump)
            .arg(into)
            .output()
            .expect("bash runs")
    };
    let out = restore(&restored);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Never on top of a database in use.
    let again = restore(&restored);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"));

    let _relay = serve(&restored, "relay-restored");
    a.run(&[
        "dossier",
        "set",
        &id,
        "fiches.0.taches",
        "Analyser le besoin. Rédiger.",
    ]);
    for _ in 0..2 {
        a.run(&["sync"]);
        b.run(&["sync"]);
    }
    for device in [a, b] {
        assert_eq!(
            device.run(&["dossier", "get", &id, "etat_civil.nom"]),
            "Durand"
        );
        assert_eq!(
            device.run(&["dossier", "get", &id, "fiches.0.taches"]),
            "Analyser le besoin. Rédiger."
        );
    }
    let _ = std::fs::remove_dir_all(backups);
}

/// A mail queue that cannot be claimed while mail is due (here a trigger refuses every
/// claim) is asked again after a growing wait, not at once for ever: the relay's log
/// holds a few failures, not thousands, and it claims again once the queue is usable.
#[test]
fn a_queue_that_cannot_be_claimed_is_retried_with_a_growing_wait() {
    use livret_relay::testing::execute;
    let postgres = ThrowawayPostgres::start();
    let database = postgres.database("stuckqueue");
    let relay = Relay::start_with(temp_dir("relay-stuck"), &["--store", &database]);
    let candidate = crate::sync::Device::new("candidat-file-bloquee");
    let id = candidate.run(&["dossier", "new", "--relay", &relay.url("")]);
    // Every claim moves a due mail's next attempt forward: forbid it.
    execute(
        &database,
        "CREATE FUNCTION refuse() RETURNS trigger AS $$
             BEGIN RAISE EXCEPTION 'no claim'; END $$ LANGUAGE plpgsql;
         CREATE TRIGGER never_claimed BEFORE UPDATE ON mail_queue
             FOR EACH ROW EXECUTE FUNCTION refuse();",
    );
    candidate.run(&[
        "dossier",
        "invite",
        &id,
        "jure@example.org",
        "--role",
        "juror",
    ]);
    std::thread::sleep(Duration::from_secs(4));
    let failures = |relay: &Relay| {
        String::from_utf8_lossy(&relay.output())
            .matches("mail queue unreadable")
            .count()
    };
    let seen = failures(&relay);
    assert!((1..=6).contains(&seen), "{seen} failed claims in 4 s");
    execute(&database, "DROP TRIGGER never_claimed ON mail_queue");
    let outbox = relay.data.join("outbox");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while std::fs::read_dir(&outbox).map_or(0, |d| d.count()) == 0 {
        assert!(std::time::Instant::now() < deadline, "the mail never went");
        std::thread::sleep(Duration::from_millis(100));
    }
}
