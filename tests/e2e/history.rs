//! A dossier's history over weeks on a real relay: counters survive the purge of what a
//! snapshot replaced (and a database the previous version purged gets them back), a long
//! history reaches a new device in frames it accepts, and an evidence upload belongs to the
//! device that began it.

use std::path::{Path, PathBuf};
use std::process::Command;

use livret_shared::envelope::{self, DossierId, Envelope, Header, random_nonce};
use livret_shared::keys::{DeviceSecret, MemberKey};
use livret_shared::protocol::{ClientMsg, Rejection, ServerMsg};
use livret_shared::sync::Replica;

use crate::support::{Relay, temp_dir};
use crate::sync::{Raw, rejected};

/// A device's `--home`, driven through the `livret` binary.
struct Cli {
    home: PathBuf,
}

impl Cli {
    fn new(label: &str) -> Cli {
        Cli {
            home: temp_dir(label),
        }
    }

    /// A copy of a home kept under `fixtures/`.
    fn copied_from(fixture: &Path, label: &str) -> Cli {
        let cli = Cli::new(label);
        copy_dir(fixture, &cli.home);
        cli
    }

    fn try_run(&self, args: &[&str]) -> (bool, String, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_livret"))
            .arg("--home")
            .arg(&self.home)
            .args(args)
            .output()
            .expect("livret runs");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).trim_end().to_string(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn run(&self, args: &[&str]) -> String {
        let (ok, out, err) = self.try_run(args);
        assert!(ok, "livret {args:?} failed: {err}");
        out
    }

    fn identity(&self) -> String {
        self.run(&["identity", "show"])
    }

    fn secret(&self) -> DeviceSecret {
        let text = std::fs::read_to_string(self.home.join("device.key")).expect("device.key");
        DeviceSecret::from_secret_string(&text).unwrap()
    }

    fn replica(&self, id: &str) -> Replica {
        let path = self.home.join("dossiers").join(id).join("replica.bin");
        Replica::restore(&self.secret(), &std::fs::read(path).expect("replica.bin")).unwrap()
    }

    /// Where the device finds the dossier's relay (a restarted relay listens elsewhere).
    fn point_to(&self, id: &str, relay: &Relay) {
        std::fs::write(
            self.home.join("dossiers").join(id).join("relay"),
            relay.url(""),
        )
        .unwrap();
    }

    /// Shares `id` with a new device as advisor, which opens it from the relay.
    fn share_with_new_device(&self, id: &str, relay: &Relay, label: &str) -> Cli {
        let other = Cli::new(label);
        self.run(&[
            "dossier",
            "share",
            id,
            &other.identity(),
            "--role",
            "advisor",
        ]);
        other.run(&["dossier", "open", id, "--relay", &relay.url("")]);
        other
    }
}

impl Drop for Cli {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.home);
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn database(relay: &Relay) -> rusqlite::Connection {
    rusqlite::Connection::open(relay.data.join("livret.sqlite3")).unwrap()
}

/// Envelope rows a writer still has on the relay.
fn rows_of(relay: &Relay, writer: &MemberKey) -> i64 {
    database(relay)
        .query_row(
            "SELECT COUNT(*) FROM envelopes WHERE writer = ?1",
            [&writer[..]],
            |r| r.get(0),
        )
        .unwrap()
}

/// After the purge: the quiet advisor writes on (its next counter is no gap), its counter 1
/// sent again is a replay, the candidate compacts again (the snapshot must cover the quiet
/// writer too), and a new device opens the dossier with everything in it.
fn quiet_writer_carries_on(relay: &Relay, id: &str, candidate: &Cli, advisor: &Cli, first: &[u8]) {
    let advisor_key = advisor.secret().signing_public();
    assert_eq!(
        rows_of(relay, &advisor_key),
        0,
        "the advisor's rows are purged"
    );
    let mut raw = Raw::connect(relay, &advisor.secret());
    assert_eq!(
        rejected(raw.push(first)),
        Rejection::Replay,
        "counter 1 sent again must not be stored again"
    );
    let stored: i64 = database(relay)
        .query_row(
            "SELECT COUNT(*) FROM envelopes WHERE writer = ?1 AND counter = 1",
            [&advisor_key[..]],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, 0);

    advisor.run(&["dossier", "set", id, "fiches.0.moyens", "troisième jet"]);
    let (ok, _, err) = advisor.try_run(&["sync"]);
    assert!(ok, "the quiet writer's next counter is refused: {err}");

    candidate.run(&["sync"]);
    let (ok, _, err) = candidate.try_run(&["dossier", "compact", id]);
    assert!(ok, "a snapshot after the purge is refused: {err}");

    let late = candidate.share_with_new_device(id, relay, "tardif");
    assert_eq!(
        late.run(&["dossier", "get", id, "fiches.0.moyens"]),
        "troisième jet"
    );
    assert_eq!(
        late.run(&["dossier", "get", id, "fiches.0.taches"]),
        candidate.run(&["dossier", "get", id, "fiches.0.taches"])
    );
}

/// From scratch: a snapshot prunes everything, the grace passes, the relay restarts and
/// purges; every writer's last counter is still known.
#[test]
fn the_purge_after_a_snapshot_leaves_every_writers_counter_known() {
    let relay = Relay::start();
    let url = relay.url("");
    let candidate = Cli::new("candidat");
    let id = candidate.run(&["dossier", "new", "--relay", &url]);
    candidate.run(&[
        "dossier",
        "set",
        &id,
        "fiches.0.taches",
        "Analyser le besoin.",
    ]);
    candidate.run(&["sync"]);
    let advisor = candidate.share_with_new_device(&id, &relay, "conseiller");
    for text in ["premier jet", "second jet"] {
        advisor.run(&["dossier", "set", &id, "fiches.0.moyens", text]);
        advisor.run(&["sync"]);
    }
    candidate.run(&["sync"]);
    candidate.run(&["dossier", "compact", &id]);

    // The advisor's first envelope, as anyone who kept it could send it again.
    let advisor_key = advisor.secret().signing_public();
    let first: Vec<u8> = database(&relay)
        .query_row(
            "SELECT body FROM envelopes WHERE writer = ?1 AND counter = 1",
            [&advisor_key[..]],
            |r| r.get(0),
        )
        .unwrap();
    // The grace period passes (pruning dates moved back eight days); a restart purges.
    let moved = database(&relay)
        .execute(
            "UPDATE envelopes SET pruned_at = pruned_at - 8 * 24 * 3600
             WHERE pruned_at IS NOT NULL",
            [],
        )
        .unwrap();
    assert!(moved >= 3, "{moved} envelopes pruned by the snapshot");
    let relay = Relay::start_in(relay.kill_hard());
    for device in [&candidate, &advisor] {
        device.point_to(&id, &relay);
    }
    quiet_writer_carries_on(&relay, &id, &candidate, &advisor, &first);
}

/// A relay data directory made by the previous version (see fixtures/relay-v1/README.md):
/// its rows were already purged, so the counters come back from the snapshot's covers.
#[test]
fn a_relay_purged_by_the_previous_version_knows_its_writers_again() {
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/relay-v1");
    let data = temp_dir("relai-v1");
    copy_dir(&fixture.join("relay"), &data);
    let relay = Relay::start_in(data);
    let id = std::fs::read_to_string(fixture.join("dossier"))
        .unwrap()
        .trim()
        .to_string();
    let candidate = Cli::copied_from(&fixture.join("candidate"), "candidat-v1");
    let advisor = Cli::copied_from(&fixture.join("advisor"), "conseiller-v1");
    for device in [&candidate, &advisor] {
        device.point_to(&id, &relay);
    }
    let first = std::fs::read(fixture.join("advisor-counter-1.bin")).unwrap();
    quiet_writer_carries_on(&relay, &id, &candidate, &advisor, &first);
    // The file attached before the upgrade is still whole and still the candidate's.
    let version: i64 = database(&relay)
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 6);
    let (complete, uploader): (bool, Option<Vec<u8>>) = database(&relay)
        .query_row("SELECT complete, uploader FROM blobs", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert!(complete && uploader.is_none());
}

/// Reviews sealed by the previous version with the one jury key of the epoch (see
/// fixtures/relay-v3-jury/README.md): after the upgrade of the relay and the devices, the
/// jurors still read them, write on with their own keys, and a juror added afterwards reads
/// the old reviews (the shared key passed on in the current grants) and the new ones.
#[test]
fn reviews_sealed_with_the_previous_versions_jury_key_open_after_the_upgrade() {
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/relay-v3-jury");
    let data = temp_dir("relai-v3-jury");
    copy_dir(&fixture.join("relay"), &data);
    let relay = Relay::start_in(data);
    let id = std::fs::read_to_string(fixture.join("dossier"))
        .unwrap()
        .trim()
        .to_string();
    let candidate = Cli::copied_from(&fixture.join("candidate"), "candidat-v3");
    let alice = Cli::copied_from(&fixture.join("alice"), "alice-v3");
    let bruno = Cli::copied_from(&fixture.join("bruno"), "bruno-v3");
    for device in [&candidate, &alice, &bruno] {
        device.point_to(&id, &relay);
    }
    let both = |seen: &str| {
        seen.contains("Alice Durand: 3 maîtrise") && seen.contains("Bruno Petit: 1 en cours")
    };
    // Alice and Bruno still read both old reviews, and write on.
    for juror in [&alice, &bruno] {
        juror.run(&["sync"]);
        let seen = juror.run(&["jury", "coverage", &id]);
        assert!(both(&seen), "{seen}");
    }
    alice.run(&[
        "jury",
        "rate",
        &id,
        "C2",
        "2",
        "--justification",
        "Requêtes documentées",
    ]);
    alice.run(&["sync"]);
    bruno.run(&["sync"]);
    let seen = bruno.run(&["jury", "coverage", &id]);
    assert!(seen.contains("Alice Durand: 2 acquis"), "{seen}");
    // Claire, added after the upgrade, is granted each juror's key and the shared one.
    let claire = Cli::new("claire-v3");
    candidate.run(&["sync"]);
    candidate.run(&[
        "dossier",
        "share",
        &id,
        &claire.identity(),
        "--role",
        "juror",
    ]);
    claire.run(&["dossier", "open", &id, "--relay", &relay.url("")]);
    for juror in [&alice, &bruno] {
        juror.run(&["sync"]);
    }
    claire.run(&["sync"]);
    let seen = claire.run(&["jury", "coverage", &id]);
    assert!(
        both(&seen) && seen.contains("Alice Durand: 2 acquis"),
        "{seen}"
    );
    let notes = claire.run(&["jury", "annotations", &id]);
    assert!(notes.contains("Quels formats ?"), "{notes}");
    let version: i64 = database(&relay)
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 6);
}

/// Sends `envelopes` on one connection, a window of them ahead of the acknowledgements
/// (as a device catching up after a long time offline); all must be acknowledged.
fn push_pipelined(relay: &Relay, device: &DeviceSecret, envelopes: &[Vec<u8>]) {
    const WINDOW: usize = 256;
    let mut raw = Raw::connect(relay, device);
    let mut acked = 0;
    for (sent, e) in envelopes.iter().enumerate() {
        if sent >= acked + WINDOW {
            match raw.reply() {
                ServerMsg::Ack { .. } => acked += 1,
                other => panic!("envelope {acked}: {other:?}"),
            }
        }
        raw.send(&ClientMsg::Push {
            envelope: e.clone(),
        });
    }
    while acked < envelopes.len() {
        match raw.reply() {
            ServerMsg::Ack { .. } => acked += 1,
            other => panic!("envelope {acked}: {other:?}"),
        }
    }
}

/// 50,000 keystrokes, one envelope each (a candidate typing for weeks, never compacting):
/// a new device opens the dossier and reads the last text. The catch-up is far over what
/// one frame may carry.
#[test]
fn a_dossier_of_fifty_thousand_keystrokes_opens_on_a_new_device() {
    let relay = Relay::start();
    let candidate = Cli::new("candidat-frappe");
    let id = candidate.run(&["dossier", "new", "--relay", &relay.url("")]);
    let secret = candidate.secret();
    let mut replica = candidate.replica(&id);
    let phrase: Vec<char> = "Recueillir le besoin, rédiger, tester. ".chars().collect();
    // Typed across the dossier's long fields, as a candidate does over weeks (automerge's
    // cost per keystroke grows with the text typed into, so one 50,000-character field
    // would spend minutes in the test itself).
    const FIELDS: [&str; 6] = [
        "fiches.0.contexte",
        "fiches.0.problematique",
        "fiches.0.taches",
        "fiches.0.moyens",
        "fiches.0.resultats",
        "motivation.lettre",
    ];
    let mut typed = vec![String::new(); FIELDS.len()];
    let mut envelopes = Vec::with_capacity(50_000);
    let started = std::time::Instant::now();
    let mut type_one = |replica: &mut Replica, i: usize| {
        let c = phrase[i % phrase.len()];
        let field = i % FIELDS.len();
        replica
            .dossier()
            .splice(FIELDS[field], i / FIELDS.len(), 0, &c.to_string())
            .unwrap();
        // One change per keystroke, as the app makes them (it saves after each).
        replica.dossier().automerge().commit();
        typed[field].push(c);
    };
    // The first keystroke is flushed as the app does; the others are sealed one change per
    // envelope after them, as 49,999 flushes would (a flush per keystroke asks automerge for
    // the changes since the last one, which grows with the history: quadratic here).
    type_one(&mut replica, 0);
    let first = replica.flush(&secret, random_nonce()).unwrap().unwrap();
    let sealed_after = replica.dossier().automerge().get_heads();
    let header = Envelope::parse(&first).unwrap().header;
    envelopes.push(first);
    for i in 1..50_000 {
        type_one(&mut replica, i);
    }
    let key = replica.epoch_key().unwrap().duplicate();
    let changes = replica.dossier().automerge().get_changes(&sealed_after);
    assert_eq!(changes.len(), 49_999);
    for (n, mut change) in changes.into_iter().enumerate() {
        let header = Header {
            counter: header.counter + 1 + n as u64,
            ..header.clone()
        };
        envelopes.push(envelope::seal(
            &header,
            &key,
            random_nonce(),
            &change.bytes(),
            &secret,
        ));
    }
    eprintln!(
        "50,000 keystrokes sealed in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let total: usize = envelopes.iter().map(Vec::len).sum();
    assert!(total > 5 * 1024 * 1024, "{total} bytes of history");
    let started = std::time::Instant::now();
    push_pipelined(&relay, &secret, &envelopes);
    eprintln!(
        "50,000 keystroke envelopes pushed pipelined in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let started = std::time::Instant::now();
    let late = candidate.share_with_new_device(&id, &relay, "nouvel-appareil");
    eprintln!(
        "50,000 keystroke envelopes ({total} bytes): opened on a new device in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    // What the CLI prints loses its trailing blanks.
    for (field, text) in FIELDS.iter().zip(&typed) {
        assert_eq!(
            late.run(&["dossier", "get", &id, field]).trim_end(),
            text.trim_end()
        );
    }
    // The device keeps it: a sync after the open has nothing more to apply.
    late.run(&["sync"]);
    assert_eq!(
        late.run(&["dossier", "get", &id, FIELDS[2]]).trim_end(),
        typed[2].trim_end()
    );
}

/// A few large change batches (a pasted text each), over 5 MiB together, each close to the
/// envelope limit: the catch-up arrives whole on a new device.
#[test]
fn a_catch_up_of_large_batches_over_five_mebibytes_arrives_whole() {
    let relay = Relay::start();
    let candidate = Cli::new("candidat-gros");
    let id = candidate.run(&["dossier", "new", "--relay", &relay.url("")]);
    let secret = candidate.secret();
    let mut replica = candidate.replica(&id);
    let mut texts = Vec::new();
    let mut envelopes = Vec::new();
    for fiche in 0..5 {
        // Hardly compressible: random bytes written as hex.
        let mut noise = vec![0u8; 1024 * 1024];
        getrandom::fill(&mut noise).unwrap();
        let text = hex::encode(noise);
        replica
            .dossier()
            .set(&format!("fiches.{fiche}.intitule"), &text)
            .unwrap();
        envelopes.push(replica.flush(&secret, random_nonce()).unwrap().unwrap());
        texts.push(text);
    }
    let total: usize = envelopes.iter().map(Vec::len).sum();
    assert!(total > 5 * 1024 * 1024, "{total} bytes of history");
    push_pipelined(&relay, &secret, &envelopes);

    let late = candidate.share_with_new_device(&id, &relay, "nouvel-appareil-gros");
    for (fiche, text) in texts.iter().enumerate() {
        assert_eq!(
            &late.run(&["dossier", "get", &id, &format!("fiches.{fiche}.intitule")]),
            text
        );
    }
}

/// An advisor (or a juror) cannot put pieces, garbage marked last, into the candidate's
/// unfinished upload: the candidate's file completes and reads back whole.
#[test]
fn no_one_else_can_put_pieces_into_the_candidates_upload() {
    use livret_shared::evidence::{self, BlobId, PIECE, Sealer};
    use livret_shared::keys::EpochKeys;
    use livret_shared::membership::{self, Membership, Role};
    let relay = Relay::start();
    let owner = DeviceSecret::generate();
    let advisor = DeviceSecret::generate();
    let juror = DeviceSecret::generate();
    let key = EpochKeys::generate();
    let id = DossierId::generate();
    let create = membership::create(id, &owner, &key).unwrap();
    let mut log = vec![create.clone()];
    for (who, role) in [(&advisor, Role::Advisor), (&juror, Role::Juror)] {
        let state = Membership::from_log(&log).unwrap();
        log.push(membership::add(&state, &owner, &who.id(), role, &key).unwrap());
    }
    let mut o = Raw::connect(&relay, &owner);
    o.send(&ClientMsg::Create {
        entry: create.to_bytes(),
    });
    assert!(matches!(o.recv(), ServerMsg::MembershipOk { .. }));
    for e in &log[1..] {
        o.send(&ClientMsg::Membership {
            dossier: id,
            entry: e.to_bytes(),
        });
        assert!(matches!(o.reply(), ServerMsg::MembershipOk { .. }));
    }

    let file: Vec<u8> = (0..5 * PIECE / 2).map(|i| (i % 251) as u8).collect();
    let (mut sealer, file_key) = Sealer::new();
    let mut pieces = sealer.push(&file).unwrap();
    let (rest, sealed) = sealer.finish();
    pieces.extend(rest);
    assert_eq!(pieces.len(), 3);
    let blob = BlobId::generate();
    let put = |raw: &mut Raw, index: u32, bytes: Vec<u8>, last: bool| {
        raw.send(&ClientMsg::PutPiece {
            dossier: id,
            blob,
            index,
            bytes,
            last,
        });
        raw.reply()
    };
    assert!(matches!(
        put(&mut o, 0, pieces[0].clone(), false),
        ServerMsg::PieceStored { stored: 1, .. }
    ));
    // The advisor saw the file's id in the dossier; its garbage "last piece" is refused,
    // and so is a piece already stored.
    let mut a = Raw::connect(&relay, &advisor);
    assert_eq!(
        rejected(put(&mut a, 1, vec![0; 64], true)),
        Rejection::Forbidden
    );
    assert_eq!(
        rejected(put(&mut a, 0, vec![0; 64], false)),
        Rejection::Forbidden
    );
    let mut j = Raw::connect(&relay, &juror);
    assert_eq!(
        rejected(put(&mut j, 1, vec![0; 64], true)),
        Rejection::Forbidden
    );
    // The advisor may still upload a file of its own.
    let own = BlobId::generate();
    a.send(&ClientMsg::PutPiece {
        dossier: id,
        blob: own,
        index: 0,
        bytes: vec![1; 64],
        last: true,
    });
    assert!(matches!(
        a.reply(),
        ServerMsg::PieceStored { complete: true, .. }
    ));

    for (index, piece) in pieces.iter().enumerate().skip(1) {
        assert!(matches!(
            put(&mut o, index as u32, piece.clone(), index == 2),
            ServerMsg::PieceStored { .. }
        ));
    }
    let fetched = a.fetch_pieces(id, blob);
    let plain = evidence::open(&file_key, &fetched, Some(&sealed.sha256)).unwrap();
    assert_eq!(plain.as_slice(), file.as_slice());
}

/// Mails queued by the previous version did not say which dossier they were about
/// (fixtures/relay-v4-mails/README.md). After the upgrade each is linked to its dossier —
/// reminders by their table, invitations by the token of their link — so that deleting a
/// dossier takes its mails, and only its own.
#[test]
fn mails_queued_by_the_previous_version_go_with_their_dossier() {
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/relay-v4-mails");
    let data = temp_dir("relai-v4-courriels");
    copy_dir(&fixture.join("relay"), &data);
    // Mail to a port nobody listens on: the queue stays as it is while the test looks.
    let smtp = format!("smtp://127.0.0.1:{}", crate::smtp::free_port());
    let relay = Relay::start_with(data, &["--smtp-url", &smtp]);
    let read = |name: &str| {
        std::fs::read_to_string(fixture.join(name))
            .unwrap()
            .trim()
            .to_string()
    };
    let (anna_id, basile_id) = (read("anna-dossier"), read("basile-dossier"));
    let anna = Cli::copied_from(&fixture.join("anna"), "anna-v4");
    anna.point_to(&anna_id, &relay);
    let queued = || -> Vec<(String, Option<String>)> {
        let db = database(&relay);
        let mut stmt = db
            .prepare("SELECT recipient, dossier FROM mail_queue ORDER BY id")
            .unwrap();
        stmt.query_map([], |r| {
            let dossier: Option<Vec<u8>> = r.get(1)?;
            Ok((r.get(0)?, dossier.map(hex::encode)))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
    };
    let about = |who: &str, dossier: &str| (who.to_string(), Some(dossier.to_string()));
    let basiles = vec![
        about("dominique.jury@example.org", &basile_id),
        about("basile@example.org", &basile_id),
        about("basile@example.org", &basile_id),
        about("basile@example.org", &basile_id),
    ];
    let mut all = vec![
        about("camille.conseil@example.org", &anna_id),
        about("anna@example.org", &anna_id),
        about("anna@example.org", &anna_id),
        about("anna@example.org", &anna_id),
    ];
    all.extend(basiles.clone());
    assert_eq!(queued(), all);
    // The warnings before their retention ends go where their reminders went.
    let contact = |id: &str| -> Option<String> {
        database(&relay)
            .query_row(
                "SELECT contact FROM dossiers WHERE id = ?1",
                [hex::decode(id).unwrap()],
                |r| r.get(0),
            )
            .unwrap()
    };
    assert_eq!(contact(&anna_id).as_deref(), Some("anna@example.org"));
    assert_eq!(contact(&basile_id).as_deref(), Some("basile@example.org"));
    // The jury's date, which that version knew only through the reminders it queued: read
    // from them, so the retention counts from it; Anna sees it among what the relay keeps.
    let held = anna.run(&["dossier", "holdings", &anna_id]);
    assert!(held.contains("Date du jury : 30 juin 2027"), "{held}");
    let jury = |id: &str| -> Option<i64> {
        database(&relay)
            .query_row(
                "SELECT jury FROM dossiers WHERE id = ?1",
                [hex::decode(id).unwrap()],
                |r| r.get(0),
            )
            .unwrap()
    };
    let day = |iso: &str| {
        livret_shared::date::Date::parse(iso)
            .unwrap()
            .days_since_epoch()
            * 86_400_000
    };
    assert_eq!(jury(&basile_id), Some(day("2027-09-15")));
    anna.run(&["dossier", "delete", &anna_id, "--yes"]);
    assert_eq!(
        queued(),
        basiles,
        "Anna's mails went with her dossier, Basile's stay"
    );
}

/// A device the candidate removed kept its copy of the dossier in the previous version
/// (fixtures/home-v4-removed/README.md). The current one wipes it the first time it loads
/// it — a read, here — says why, and a sync afterwards carries on past it.
#[test]
fn a_copy_the_previous_version_kept_after_a_removal_is_wiped() {
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/home-v4-removed");
    let id = std::fs::read_to_string(fixture.join("dossier"))
        .unwrap()
        .trim()
        .to_string();
    let advisor = Cli::copied_from(&fixture.join("advisor"), "retire-v4");
    let copy = advisor.home.join("dossiers").join(&id);
    assert!(
        !advisor.replica(&id).is_member(),
        "the fixture: a copy of a dossier this device was removed from"
    );
    let (ok, _, err) = advisor.try_run(&["dossier", "get", &id, "motivation.lettre"]);
    assert!(!ok, "nothing read from a removed copy");
    assert!(err.contains("a retiré cet appareil du dossier"), "{err}");
    assert!(!copy.exists(), "its copy is gone: {}", copy.display());
    // Said again, and nothing brought back, by the next commands.
    let (ok, _, err) = advisor.try_run(&["dossier", "get", &id, "motivation.lettre"]);
    assert!(!ok && err.contains("sa copie en a été effacée"), "{err}");
    let (ok, _, err) = advisor.try_run(&["sync"]);
    assert!(ok, "{err}");
    assert!(!copy.exists());
}

/// A candidate's dossier of schema 2, made by the previous version
/// (fixtures/home-v2-answers/README.md), where the template's answers to circle and its
/// dates were free text. The current binary reads what it recognises as the answer or the
/// day, keeps the rest word for word, says before export what is left to choose, and the
/// dossier exports, prints and syncs as before.
#[test]
fn free_text_of_the_previous_version_becomes_answers_or_stays_as_written() {
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/home-v2-answers");
    let id = std::fs::read_to_string(fixture.join("dossier"))
        .unwrap()
        .trim()
        .to_string();
    let candidate = Cli::copied_from(&fixture.join("candidate"), "answers-v2");
    let get = |path: &str| candidate.run(&["dossier", "get", &id, path]);
    for (path, read) in [
        ("etat_civil.civilite", "madame"),
        ("etat_civil.date_naissance", "1989-04-12"),
        ("situation.statut", "Salariée en CDI"),
        ("financement.mode", "france_travail"),
        (
            "financement.organisme",
            "Caisse des dépôts (Mon Compte Formation)",
        ),
        ("projet_vae.date_jury", "2027-03-15"),
        ("declaration.date", "le 20 novembre"),
        ("etat_civil.nom", "Martin"),
    ] {
        assert_eq!(get(path), read, "{path}");
    }
    assert!(
        get("motivation.lettre").len() > 200,
        "the letter is untouched"
    );

    // The export says what is left to choose, named with what was typed, and that the
    // signature's date is no day.
    let dir = temp_dir("answers-v2-export");
    let pdf = dir.join("livret.pdf");
    let (ok, _, said) = candidate.try_run(&["export", &id, "--pdf", pdf.to_str().unwrap()]);
    assert!(ok, "{said}");
    assert!(
        said.contains("Vous êtes actuellement (« Salariée en CDI »)")
            && said.contains("La date de signature"),
        "{said}"
    );
    assert!(
        !said.contains("« Mme »"),
        "a recognised answer is no question: {said}"
    );
    // The funding body typed when every funding asked for it: France Travail does not ask
    // « Précisez », so it is said to apply no more (and not printed) rather than lost.
    assert!(
        said.contains("Des réponses qui ne s'appliquent plus")
            && said.contains("Précisez (« Caisse des dépôts (Mon Compte Formation) »)"),
        "{said}"
    );
    let printed = Command::new("pdftotext")
        .arg(&pdf)
        .arg("-")
        .output()
        .expect("pdftotext runs");
    let printed = String::from_utf8_lossy(&printed.stdout);
    for shown in [
        "☒ Madame",
        "☐ Monsieur",
        "12/04/1989",
        "Salariée en CDI",
        "15/03/2027",
    ] {
        assert!(printed.contains(shown), "{shown} not printed: {printed}");
    }
    assert!(
        printed.contains("☒ France Travail (ex-Pôle emploi)"),
        "{printed}"
    );
    let json = dir.join("dossier.json");
    candidate.run(&["dossier", "export", &id, "--json", json.to_str().unwrap()]);
    let exported: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(exported["sections"]["etat_civil"]["civilite"], "madame");
    assert_eq!(
        exported["sections"]["situation"]["statut"],
        "Salariée en CDI"
    );

    // Schema 4: the migration made the members' names map, so the candidate names a member
    // of this old dossier (its own device, the only one it has).
    let me = candidate.identity();
    candidate.run(&["dossier", "name", &id, &me, "Mon ordinateur"]);
    let members = candidate.run(&["dossier", "members", &id]);
    assert!(members.contains("« Mon ordinateur »"), "{members}");

    // Its history: what the previous version wrote is listed, without a time (it gave
    // none); an edit made now has one, and is undone back to the old value.
    let before = candidate.run(&["dossier", "history", &id, "etat_civil"]);
    assert!(
        !before.is_empty() && before.lines().all(|l| l.contains("(heure inconnue)")),
        "{before}"
    );
    candidate.run(&["dossier", "set", &id, "etat_civil.nom", "Martin-Durand"]);
    let after = candidate.run(&["dossier", "history", &id, "etat_civil"]);
    let last = after.lines().last().unwrap();
    assert!(
        last.contains("UTC") && last.ends_with("etat_civil.nom"),
        "{after}"
    );
    let number = last.split('\t').next().unwrap();
    assert_eq!(
        candidate.run(&["dossier", "restore", &id, "etat_civil", number]),
        "etat_civil.nom"
    );
    assert_eq!(get("etat_civil.nom"), "Martin");

    // A second employer and a second position, in this old dossier: its first structure
    // stays where it was, each further one is printed after it, counted in « Votre projet
    // VAE », and has a history of its own.
    let first = get("structure.nom");
    assert!(!first.is_empty());
    let structure = candidate.run(&["dossier", "add-another", &id, "structure"]);
    assert!(structure.starts_with("structure."), "{structure}");
    let field = |place: &str, key: &str| format!("{place}.{key}");
    let nom = field(&structure, "nom");
    candidate.run(&[
        "dossier",
        "set",
        &id,
        &nom,
        "Mutuelle des Monts du Lyonnais",
    ]);
    let poste = candidate.run(&["dossier", "add-another", &id, "poste"]);
    candidate.run(&[
        "dossier",
        "set",
        &id,
        &field(&poste, "intitule"),
        "Technicienne support",
    ]);
    candidate.run(&["dossier", "set", &id, &field(&poste, "statut"), "autre"]);
    candidate.run(&[
        "dossier",
        "set",
        &id,
        &field(&poste, "statut_autre"),
        "Portage salarial",
    ]);
    assert_eq!(get(&nom), "Mutuelle des Monts du Lyonnais");
    assert_eq!(get("structure.nom"), first);
    let history = candidate.run(&["dossier", "history", &id, &structure]);
    assert!(
        history.lines().count() == 1 && history.ends_with(&nom),
        "{history}"
    );
    // Only a place `add-another` printed is one.
    let (ok, _, said) = candidate.try_run(&["dossier", "add-another", &id, "motivation"]);
    assert!(!ok && said.contains("ne se répète pas"), "{said}");
    let (ok, _, said) =
        candidate.try_run(&["dossier", "set", &id, "structure.0000000000000000.nom", "x"]);
    assert!(!ok && said.contains("structure.0000000000000000"), "{said}");

    let (ok, _, said) = candidate.try_run(&["export", &id, "--pdf", pdf.to_str().unwrap()]);
    assert!(ok, "{said}");
    let printed = pdftotext(&pdf);
    let body = printed
        .split_once("Fiche descriptive de la structure")
        .map(|(_, rest)| rest)
        .unwrap_or_default();
    for shown in [
        "Fiche descriptive de la structure (2)",
        "Mutuelle des Monts du Lyonnais",
        "Fiche descriptive du poste occupé (2)",
        "Technicienne support",
        "☒ Autre",
        "Portage salarial",
    ] {
        assert!(body.contains(shown), "{shown} not printed: {printed}");
    }
    // Its own structure first, then the further one.
    assert!(printed.find(&first) < printed.find("Mutuelle des Monts du Lyonnais"));

    // Deleted, it is printed no more and comes back whole.
    candidate.run(&["dossier", "delete-another", &id, &structure]);
    let (ok, _, said) = candidate.try_run(&["export", &id, "--pdf", pdf.to_str().unwrap()]);
    assert!(ok, "{said}");
    assert!(!pdftotext(&pdf).contains("Mutuelle des Monts"));
    candidate.run(&["dossier", "delete-another", &id, &structure, "--restore"]);
    assert_eq!(get(&nom), "Mutuelle des Monts du Lyonnais");
}

fn pdftotext(pdf: &std::path::Path) -> String {
    let printed = Command::new("pdftotext")
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext runs");
    String::from_utf8_lossy(&printed.stdout).into_owned()
}
