//! The sync spine end to end: real `livret` client processes, a real relay process, the
//! relay's real database on disk.

use std::path::{Path, PathBuf};
use std::process::Command;

use livret_shared::envelope::{self, Channel, DossierId, Envelope, Header, Kind, random_nonce};
use livret_shared::keys::{DeviceSecret, EpochKeys};
use livret_shared::membership::{self, Membership, Role};
use livret_shared::protocol::{ClientMsg, Rejection, ServerMsg};
use livret_shared::sync::Replica;

use crate::support::{Relay, get, temp_dir};

/// Put into an evidence file; must never be readable on the relay.
const CANARY: &str = "CANARI-piece-relais-51c2";

/// One device: a `--home` directory driven through the `livret` binary.
pub(crate) struct Device {
    pub(crate) home: PathBuf,
}

impl Device {
    pub(crate) fn new(label: &str) -> Device {
        Device {
            home: temp_dir(label),
        }
    }

    pub(crate) fn run(&self, args: &[&str]) -> String {
        let out = Command::new(env!("CARGO_BIN_EXE_livret"))
            .arg("--home")
            .arg(&self.home)
            .args(args)
            .output()
            .expect("livret runs");
        assert!(
            out.status.success(),
            "livret {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .trim_end()
            .to_string()
    }

    pub(crate) fn try_run(&self, args: &[&str]) -> (bool, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_livret"))
            .arg("--home")
            .arg(&self.home)
            .args(args)
            .output()
            .expect("livret runs");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Shares dossier `id` (this device owns it) with `other` as `role`, and opens it on
    /// `other` from the relay at `relay_url`.
    pub(crate) fn share_with(&self, id: &str, other: &Device, role: &str, relay_url: &str) {
        self.run(&["dossier", "share", id, &other.identity(), "--role", role]);
        other.run(&["dossier", "open", id, "--relay", relay_url]);
    }

    /// Whether this device holds a copy of dossier `id`.
    pub(crate) fn has_copy(&self, id: &str) -> bool {
        self.home.join("dossiers").join(id).exists()
    }

    /// Drops this device's copy of dossier `id` (its storage lost; its key kept).
    pub(crate) fn forget(&self, id: &str) {
        std::fs::remove_dir_all(self.home.join("dossiers").join(id)).unwrap();
    }

    pub(crate) fn identity(&self) -> String {
        self.run(&["identity", "show"])
    }

    /// The device's keys, as the CLI keeps them (for raw protocol checks).
    pub(crate) fn secret(&self) -> DeviceSecret {
        let text = std::fs::read_to_string(self.home.join("device.key")).expect("device.key");
        DeviceSecret::from_secret_string(&text).unwrap()
    }

    /// Writes the device's copy of a dossier back, as the CLI would (to stage what the CLI
    /// cannot be made to do at a precise moment, such as losing an acknowledgement).
    pub(crate) fn save_replica(&self, replica: &mut Replica) {
        let path = self
            .home
            .join("dossiers")
            .join(replica.id.to_hex())
            .join("replica.bin");
        std::fs::write(path, replica.save()).unwrap();
    }

    /// The device's copy of a dossier, as the CLI saved it.
    pub(crate) fn replica(&self, id: &str) -> Replica {
        let path = self.home.join("dossiers").join(id).join("replica.bin");
        Replica::restore(&self.secret(), &std::fs::read(path).expect("replica.bin")).unwrap()
    }
}

impl Drop for Device {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.home);
    }
}

/// Owner + `n - 1` advisors on one dossier; returns the devices and the dossier id.
pub(crate) fn shared_dossier(relay: &Relay, n: usize) -> (Vec<Device>, String) {
    let url = relay.url("");
    let owner = Device::new("owner");
    let id = owner.run(&["dossier", "new", "--relay", &url]);
    owner.run(&[
        "dossier",
        "set",
        &id,
        "fiches.0.taches",
        "Analyser le besoin.",
    ]);
    owner.run(&["sync"]);
    let mut devices = vec![owner];
    for i in 1..n {
        let d = Device::new(&format!("advisor{i}"));
        devices[0].run(&["dossier", "share", &id, &d.identity(), "--role", "advisor"]);
        d.run(&["dossier", "open", &id, "--relay", &url]);
        devices.push(d);
    }
    (devices, id)
}

/// A device never loses what it wrote by opening a dossier again: while its replica is
/// there the command refuses and replaces nothing (it used to start over from the relay,
/// dropping what was not sent); once its replica is gone (its storage lost, its key kept),
/// the dossier opened again holds the device's own edits, and its next ones reach the
/// others (it used to skip its own envelopes and reuse counters the relay refuses).
#[test]
fn opening_a_dossier_again_loses_nothing_of_the_devices_own_work() {
    let relay = Relay::start();
    let url = relay.url("");
    let (devices, id) = shared_dossier(&relay, 2);
    let (owner, advisor) = (&devices[0], &devices[1]);
    let field = "fiches.0.taches";
    advisor.run(&["dossier", "set", &id, field, "Relu par le conseiller."]);
    let (opened, said) = advisor.try_run(&["dossier", "open", &id, "--relay", &url]);
    assert!(!opened, "opened again over unsent work");
    assert!(said.contains("déjà sur cet appareil"), "{said}");
    assert_eq!(
        advisor.run(&["dossier", "get", &id, field]),
        "Relu par le conseiller."
    );
    advisor.run(&["sync"]);

    advisor.forget(&id);
    advisor.run(&["dossier", "open", &id, "--relay", &url]);
    assert_eq!(
        advisor.run(&["dossier", "get", &id, field]),
        "Relu par le conseiller."
    );
    advisor.run(&["dossier", "set", &id, field, "Relu deux fois."]);
    advisor.run(&["sync"]);
    owner.run(&["sync"]);
    assert_eq!(
        owner.run(&["dossier", "get", &id, field]),
        "Relu deux fois."
    );
}

#[test]
fn two_devices_edit_offline_and_converge() {
    let relay = Relay::start();
    let (devices, id) = shared_dossier(&relay, 2);
    let (a, b) = (&devices[0], &devices[1]);
    assert_eq!(
        b.run(&["dossier", "get", &id, "fiches.0.taches"]),
        "Analyser le besoin."
    );
    // Offline on both sides: different fields, and the same text field.
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
    b.run(&[
        "dossier",
        "set",
        &id,
        "fiches.1.contexte",
        "Une PME industrielle",
    ]);
    for _ in 0..2 {
        a.run(&["sync"]);
        b.run(&["sync"]);
    }
    let fa = a.run(&["dossier", "get", &id, "fiches"]);
    let fb = b.run(&["dossier", "get", &id, "fiches"]);
    assert_eq!(fa, fb);
    assert_eq!(
        a.run(&["dossier", "get", &id, "fiches.0.taches"]),
        "Lundi : Analyser le besoin. Rédiger la note."
    );
    assert_eq!(b.run(&["dossier", "get", &id, "etat_civil.nom"]), "Durand");
}

#[test]
fn five_devices_converge() {
    let relay = Relay::start();
    let (devices, id) = shared_dossier(&relay, 5);
    for (i, d) in devices.iter().enumerate() {
        d.run(&[
            "dossier",
            "set",
            &id,
            &format!("fiches.{}.intitule", i + 1),
            &format!("Mission {i}"),
        ]);
        d.run(&[
            "dossier",
            "set",
            &id,
            "fiches.0.moyens",
            &format!("outil {i}"),
        ]);
    }
    for _ in 0..2 {
        for d in &devices {
            d.run(&["sync"]);
        }
    }
    let all: Vec<String> = devices
        .iter()
        .map(|d| d.run(&["dossier", "get", &id, "fiches"]))
        .collect();
    assert!(all.iter().all(|f| f == &all[0]), "diverged: {all:#?}");
    for i in 0..5 {
        assert!(all[0].contains(&format!("Mission {i}")));
    }
}

#[test]
fn roles_hold_on_the_command_line() {
    let relay = Relay::start();
    let (devices, id) = shared_dossier(&relay, 2);
    let juror = Device::new("juror");
    let outsider = Device::new("outsider");
    devices[0].run(&[
        "dossier",
        "share",
        &id,
        &juror.identity(),
        "--role",
        "juror",
    ]);
    juror.run(&["dossier", "open", &id, "--relay", &relay.url("")]);
    assert_eq!(
        juror.run(&["dossier", "get", &id, "fiches.0.taches"]),
        "Analyser le besoin.",
        "jurors read"
    );

    let (ok, err) = devices[1].try_run(&[
        "dossier",
        "share",
        &id,
        &outsider.identity(),
        "--role",
        "advisor",
    ]);
    assert!(!ok && err.contains("seul le candidat"), "{err}");
    juror.run(&[
        "dossier",
        "set",
        &id,
        "fiches.0.taches",
        "réécrit par le juré",
    ]);
    let (ok, err) = juror.try_run(&["sync"]);
    assert!(!ok && err.contains("lecture seule"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    let (ok, err) = outsider.try_run(&["dossier", "open", &id, "--relay", &relay.url("")]);
    assert!(!ok && err.contains("n'est pas membre"), "{err}");
    devices[1].run(&["sync"]);
    assert_eq!(
        devices[1].run(&["dossier", "get", &id, "fiches.0.taches"]),
        "Analyser le besoin."
    );
}

#[test]
fn compaction_replaces_history_and_late_devices_start_from_the_snapshot() {
    let relay = Relay::start();
    let (devices, id) = shared_dossier(&relay, 2);
    for i in 0..12 {
        let d = &devices[i % 2];
        d.run(&[
            "dossier",
            "set",
            &id,
            "fiches.0.taches",
            &format!("version {i}"),
        ]);
        d.run(&[
            "dossier",
            "set",
            &id,
            &format!("fiches.{}.intitule", i + 1),
            &format!("Mission {i}"),
        ]);
        d.run(&["sync"]);
    }
    devices[0].run(&["sync"]);
    devices[0].run(&["dossier", "compact", &id]);

    let db = rusqlite::Connection::open(relay.data.join("livret.sqlite3")).unwrap();
    let (all, pruned): (i64, i64) = db
        .query_row(
            "SELECT COUNT(*), COUNT(pruned_at) FROM envelopes",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(
        all > 12 && pruned == all,
        "{pruned} of {all} envelopes pruned"
    );
    let active: i64 = db
        .query_row("SELECT COUNT(*) FROM snapshots WHERE active = 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(active, 1);

    // A device that joins now gets the snapshot, then the tail.
    let late = Device::new("late");
    devices[0].run(&[
        "dossier",
        "share",
        &id,
        &late.identity(),
        "--role",
        "advisor",
    ]);
    late.run(&["dossier", "open", &id, "--relay", &relay.url("")]);
    assert_eq!(
        late.run(&["dossier", "get", &id, "fiches"]),
        devices[0].run(&["dossier", "get", &id, "fiches"])
    );
    devices[1].run(&[
        "dossier",
        "set",
        &id,
        "fiches.0.moyens",
        "après l'instantané",
    ]);
    devices[1].run(&["sync"]);
    late.run(&["sync"]);
    assert_eq!(
        late.run(&["dossier", "get", &id, "fiches.0.moyens"]),
        "après l'instantané"
    );

    // The next snapshot must name the active one as parent. The advisor never received the
    // snapshot's bytes (it had everything they cover), but each catch-up names the active
    // snapshot, so it can compact next; then the owner, after a sync, compacts again.
    devices[1].run(&["dossier", "compact", &id]);
    devices[0].run(&["sync"]);
    devices[0].run(&["dossier", "compact", &id]);
    let snapshots: i64 = db
        .query_row("SELECT COUNT(*) FROM snapshots", [], |r| r.get(0))
        .unwrap();
    assert_eq!(snapshots, 3);
}

/// Every file under `dir`, read whole.
pub(crate) fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push((path.clone(), std::fs::read(&path).unwrap()));
        }
    }
    out
}

pub(crate) fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// None of `needles` is anywhere in the relay's files (database, WAL, evidence) or in what
/// it printed.
pub(crate) fn assert_relay_never_saw(relay: &crate::support::Relay, needles: &[&str]) {
    let files = files_under(&relay.data);
    let logs = relay.output();
    for needle in needles {
        for (path, bytes) in &files {
            assert!(
                !contains(bytes, needle.as_bytes()),
                "{needle} in {}",
                path.display()
            );
        }
        assert!(!contains(&logs, needle.as_bytes()), "{needle} in the logs");
    }
}

#[test]
fn a_canary_typed_into_a_dossier_never_reaches_the_relay() {
    let relay = Relay::start();
    let (devices, id) = shared_dossier(&relay, 2);
    let canary = "CANARI-7f3a9e-Dupont-Écrit-dans-le-dossier";
    for path in [
        "etat_civil.nom",
        "fiches.0.contexte",
        "motivation.lettre",
        "fiches.3.resultats",
    ] {
        devices[0].run(&["dossier", "set", &id, path, canary]);
    }
    devices[0].run(&["sync"]);
    devices[1].run(&["sync"]);
    assert_eq!(
        devices[1].run(&["dossier", "get", &id, "fiches.0.contexte"]),
        canary,
        "it did travel"
    );
    // The relay's database (WAL included), every file in its data directory, and its logs.
    let files = files_under(&relay.data);
    assert!(
        files
            .iter()
            .any(|(p, _)| p.to_string_lossy().contains("sqlite3")),
        "{files:?}"
    );
    for needle in [canary.as_bytes(), b"CANARI-7f3a9e"] {
        for (path, bytes) in &files {
            assert!(!contains(bytes, needle), "canary in {}", path.display());
        }
        assert!(
            !contains(&relay.output(), needle),
            "canary in the relay's logs"
        );
    }
}

/// A raw protocol client, to send what the CLI never would.
pub(crate) struct Raw {
    ws: tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<std::net::TcpStream>>,
}

impl Raw {
    pub(crate) fn connect(relay: &Relay, device: &DeviceSecret) -> Raw {
        Raw::connect_at(relay.addr, &relay.url(""), device).unwrap()
    }

    /// Logs in at `addr` (a relay, or a proxy in front of several), signing for the relay
    /// `origin` (its public URL); an error when the connection fails.
    pub(crate) fn connect_at(
        addr: std::net::SocketAddr,
        origin: &str,
        device: &DeviceSecret,
    ) -> Result<Raw, tungstenite::Error> {
        let (ws, _) = tungstenite::connect(format!("ws://{addr}/api/v1/sync"))?;
        // An answer that never comes fails the test rather than hanging it.
        if let tungstenite::stream::MaybeTlsStream::Plain(tcp) = ws.get_ref() {
            tcp.set_read_timeout(Some(std::time::Duration::from_secs(30)))
                .unwrap();
        }
        let mut raw = Raw { ws };
        let ServerMsg::Challenge { nonce } = raw.recv() else {
            panic!("no challenge")
        };
        let origin = livret_shared::protocol::Origin::parse(origin).unwrap();
        raw.send(&livret_shared::protocol::hello(&origin, &nonce, device));
        assert_eq!(raw.recv(), ServerMsg::Welcome);
        Ok(raw)
    }

    /// The socket itself, to read it by hand.
    pub(crate) fn into_socket(
        self,
    ) -> tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<std::net::TcpStream>> {
        self.ws
    }

    pub(crate) fn send(&mut self, msg: &ClientMsg) {
        self.send_bytes(livret_shared::protocol::encode(msg));
    }

    fn send_bytes(&mut self, bytes: Vec<u8>) {
        self.ws
            .send(tungstenite::Message::Binary(bytes.into()))
            .unwrap();
    }

    pub(crate) fn recv(&mut self) -> ServerMsg {
        loop {
            match crate::support::read_message(&mut self.ws).unwrap() {
                tungstenite::Message::Binary(b) => {
                    return livret_shared::protocol::decode(&b).unwrap();
                }
                _ => continue,
            }
        }
    }

    /// The reply to a push, skipping fan-out frames.
    pub(crate) fn reply(&mut self) -> ServerMsg {
        loop {
            match self.recv() {
                ServerMsg::Log {
                    complete: false, ..
                } => continue,
                other => return other,
            }
        }
    }

    /// Every piece of an evidence file, read in order until the last.
    pub(crate) fn fetch_pieces(
        &mut self,
        dossier: DossierId,
        blob: livret_shared::evidence::BlobId,
    ) -> Vec<Vec<u8>> {
        let mut fetched = Vec::new();
        for index in 0.. {
            self.send(&ClientMsg::GetPiece {
                dossier,
                blob,
                index,
            });
            match self.reply() {
                ServerMsg::Piece { bytes, last, .. } => {
                    fetched.push(bytes);
                    if last {
                        break;
                    }
                }
                other => panic!("piece {index}: {other:?}"),
            }
        }
        fetched
    }

    /// Subscribes to `id` and reads the whole catch-up: membership entries and envelopes.
    pub(crate) fn catch_up(&mut self, id: DossierId) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
        self.send(&ClientMsg::Subscribe {
            dossier: id,
            since: Vec::new(),
        });
        let (mut entries, mut envelopes) = (Vec::new(), Vec::new());
        loop {
            match self.recv() {
                ServerMsg::Log {
                    entries: e,
                    envelopes: v,
                    complete,
                    ..
                } => {
                    entries.extend(e);
                    envelopes.extend(v);
                    if complete {
                        return (entries, envelopes);
                    }
                }
                other => panic!("expected the catch-up, got {other:?}"),
            }
        }
    }

    pub(crate) fn push(&mut self, bytes: &[u8]) -> ServerMsg {
        self.send(&ClientMsg::Push {
            envelope: bytes.to_vec(),
        });
        self.reply()
    }
}

pub(crate) fn rejected(msg: ServerMsg) -> Rejection {
    match msg {
        ServerMsg::Rejected { reason, .. } => reason,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// A device pipelining a burst of pushes (as after a reconnection) with one forged envelope
/// in the middle: what comes before is stored, the forgery is refused, and what comes after
/// is refused as a gap rather than stored out of order.
#[test]
fn a_forged_envelope_inside_a_pipelined_burst_is_singled_out() {
    let relay = Relay::start();
    let owner = DeviceSecret::generate();
    let key = EpochKeys::generate();
    let id = DossierId::generate();
    let create = membership::create(id, &owner, &key).unwrap();
    let mut o = Raw::connect(&relay, &owner);
    o.send(&ClientMsg::Create {
        entry: create.to_bytes(),
    });
    assert!(matches!(o.recv(), ServerMsg::MembershipOk { .. }));
    let header = |counter: u64| Header {
        dossier: id,
        epoch: 1,
        writer: owner.signing_public(),
        counter,
        parent: [0; 32],
        kind: Kind::Changes,
        channel: Channel::Dossier,
    };
    let mut burst: Vec<Vec<u8>> = (1..=12)
        .map(|c| envelope::seal(&header(c), &key.content, random_nonce(), b"frappe", &owner))
        .collect();
    let n = burst[5].len();
    burst[5][n - 3] ^= 0x10;
    // All sent before reading any answer.
    for e in &burst {
        o.send(&ClientMsg::Push {
            envelope: e.clone(),
        });
    }
    let answers: Vec<ServerMsg> = (0..burst.len()).map(|_| o.reply()).collect();
    for (i, answer) in answers.iter().enumerate() {
        let counter = i as u64 + 1;
        match counter {
            1..=5 => assert!(
                matches!(answer, ServerMsg::Ack { counter: c, .. } if *c == counter),
                "{counter}: {answer:?}"
            ),
            6 => assert_eq!(rejected(answer.clone()), Rejection::BadSignature),
            _ => assert_eq!(rejected(answer.clone()), Rejection::Gap, "{counter}"),
        }
    }
    assert_eq!(stored_envelopes(&relay), 5);
}

fn stored_envelopes(relay: &Relay) -> i64 {
    let db = rusqlite::Connection::open(relay.data.join("livret.sqlite3")).unwrap();
    db.query_row("SELECT COUNT(*) FROM envelopes", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn hostile_frames_are_refused_counted_and_not_stored() {
    let relay = Relay::start();
    let owner = DeviceSecret::generate();
    let advisor = DeviceSecret::generate();
    let juror = DeviceSecret::generate();
    let stranger = DeviceSecret::generate();
    let key = EpochKeys::generate();
    let id = DossierId::generate();
    let create = membership::create(id, &owner, &key).unwrap();
    let mut log = vec![create.clone()];
    let state = Membership::from_log(&log).unwrap();
    log.push(membership::add(&state, &owner, &advisor.id(), Role::Advisor, &key).unwrap());
    let state = Membership::from_log(&log).unwrap();
    log.push(membership::add(&state, &owner, &juror.id(), Role::Juror, &key).unwrap());

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
        assert!(matches!(o.recv(), ServerMsg::MembershipOk { .. }));
    }

    let header = |writer: &DeviceSecret, counter: u64| Header {
        dossier: id,
        epoch: 1,
        writer: writer.signing_public(),
        counter,
        parent: [0; 32],
        kind: Kind::Changes,
        channel: Channel::Dossier,
    };
    let mut a = Raw::connect(&relay, &advisor);
    let good = envelope::seal(
        &header(&advisor, 1),
        &key.content,
        random_nonce(),
        b"chiffre",
        &advisor,
    );
    assert!(matches!(a.push(&good), ServerMsg::Ack { counter: 1, .. }));
    assert!(
        matches!(a.push(&good), ServerMsg::Ack { counter: 1, .. }),
        "a retry is acknowledged"
    );
    let baseline = stored_envelopes(&relay);
    assert_eq!(baseline, 1);

    // Forged signature.
    let mut forged = envelope::seal(
        &header(&advisor, 2),
        &key.content,
        random_nonce(),
        b"x",
        &advisor,
    );
    let n = forged.len();
    forged[n - 10] ^= 0xff;
    assert_eq!(rejected(a.push(&forged)), Rejection::BadSignature);
    // Replayed counter, other bytes.
    let replay = envelope::seal(
        &header(&advisor, 1),
        &key.content,
        random_nonce(),
        b"autre",
        &advisor,
    );
    assert_eq!(rejected(a.push(&replay)), Rejection::Replay);
    // Wrong epoch.
    let mut h = header(&advisor, 2);
    h.epoch = 9;
    assert_eq!(
        rejected(a.push(&envelope::seal(
            &h,
            &key.content,
            random_nonce(),
            b"x",
            &advisor
        ))),
        Rejection::WrongEpoch
    );
    // Gap.
    assert_eq!(
        rejected(a.push(&envelope::seal(
            &header(&advisor, 5),
            &key.content,
            random_nonce(),
            b"x",
            &advisor
        ))),
        Rejection::Gap
    );
    // Someone else's envelope pushed by the advisor's connection.
    let theirs = envelope::seal(
        &header(&owner, 1),
        &key.content,
        random_nonce(),
        b"x",
        &owner,
    );
    assert_eq!(rejected(a.push(&theirs)), Rejection::Forbidden);
    // Unknown writer.
    let mut s = Raw::connect(&relay, &stranger);
    assert_eq!(
        rejected(s.push(&envelope::seal(
            &header(&stranger, 1),
            &key.content,
            random_nonce(),
            b"x",
            &stranger
        ))),
        Rejection::UnknownWriter
    );
    s.send(&ClientMsg::Subscribe {
        dossier: id,
        since: Vec::new(),
    });
    assert_eq!(
        rejected(s.reply()),
        Rejection::Forbidden,
        "a stranger cannot read the log either"
    );
    // A juror writing the dossier (not a review document).
    let mut j = Raw::connect(&relay, &juror);
    assert_eq!(
        rejected(j.push(&envelope::seal(
            &header(&juror, 1),
            &key.content,
            random_nonce(),
            b"x",
            &juror
        ))),
        Rejection::Forbidden
    );
    // An advisor changing membership.
    let state = Membership::from_log(&log).unwrap();
    let sneaky = membership::add(&state, &owner, &stranger.id(), Role::Advisor, &key).unwrap();
    a.send(&ClientMsg::Membership {
        dossier: id,
        entry: sneaky.to_bytes(),
    });
    assert_eq!(rejected(a.reply()), Rejection::Forbidden);
    // Oversized and malformed frames.
    assert_eq!(
        rejected(a.push(&vec![7u8; envelope::MAX_ENVELOPE + 10])),
        Rejection::TooLarge
    );
    a.send_bytes(b"\xff\xff\xff not a message".to_vec());
    assert_eq!(rejected(a.reply()), Rejection::Malformed);

    assert_eq!(
        stored_envelopes(&relay),
        baseline,
        "nothing refused was stored"
    );
    let metrics: serde_json::Value =
        serde_json::from_slice(&get(relay.addr, "/api/v1/metrics").body).unwrap();
    let rejected = &metrics["rejected"];
    for (reason, count) in [
        ("bad_signature", 1),
        ("replay", 1),
        ("wrong_epoch", 1),
        ("gap", 1),
        ("unknown_writer", 1),
        ("too_large", 1),
        ("malformed", 1),
    ] {
        assert_eq!(rejected[reason], count, "{reason} in {metrics}");
    }
    assert_eq!(rejected["forbidden"], 4, "{metrics}");
    assert_eq!(metrics["accepted"], 1);
    assert_eq!(metrics["duplicates"], 1);
}

#[test]
fn acknowledged_envelopes_survive_kill_9() {
    let relay = Relay::start();
    let owner = DeviceSecret::generate();
    let key = EpochKeys::generate();
    let id = DossierId::generate();
    let (mut replica, entry) = Replica::create(&owner, id, key.duplicate()).unwrap();
    let mut raw = Raw::connect(&relay, &owner);
    raw.send(&ClientMsg::Create {
        entry: entry.to_bytes(),
    });
    assert!(matches!(raw.recv(), ServerMsg::MembershipOk { .. }));

    // A burst: 300 sealed batches pushed back to back, acknowledgements read as they come.
    let mut sealed = Vec::new();
    for i in 0..300 {
        replica
            .dossier()
            .set("fiches.0.taches", &format!("version {i}"))
            .unwrap();
        sealed.push(replica.flush(&owner, random_nonce()).unwrap().unwrap());
    }
    for bytes in &sealed {
        raw.send(&ClientMsg::Push {
            envelope: bytes.clone(),
        });
    }
    let mut acked = 0u64;
    while acked < 120 {
        if let ServerMsg::Ack { counter, .. } = raw.reply() {
            acked = acked.max(counter);
        }
    }
    let data = relay.kill_hard();
    drop(raw);

    let relay = Relay::start_in(data);
    let mut raw = Raw::connect(&relay, &owner);
    raw.send(&ClientMsg::Subscribe {
        dossier: id,
        since: Vec::new(),
    });
    let ServerMsg::Log { envelopes, .. } = raw.reply() else {
        panic!("no log")
    };
    let counters: Vec<u64> = envelopes
        .iter()
        .map(|e| Envelope::parse(e).unwrap().header.counter)
        .collect();
    assert!(
        counters.len() as u64 >= acked,
        "{} stored, {acked} acknowledged",
        counters.len()
    );
    assert_eq!(
        counters,
        (1..=counters.len() as u64).collect::<Vec<_>>(),
        "no gaps"
    );
    // The rest is sent again and accepted in order.
    for bytes in &sealed[counters.len()..] {
        assert!(matches!(raw.push(bytes), ServerMsg::Ack { .. }));
    }
}

/// The relay tells a device which dossiers it belongs to — the candidate's second device
/// finds their dossiers, an advisor the ones shared with them — and nothing more: a
/// stranger gets an empty list, a removed device loses the dossier, and only the
/// candidate's keys (any of them, not an advisor) change who belongs.
#[test]
fn devices_find_the_dossiers_they_belong_to_and_only_those() {
    let relay = Relay::start();
    let laptop = DeviceSecret::generate();
    let phone = DeviceSecret::generate();
    let advisor = DeviceSecret::generate();
    let stranger = DeviceSecret::generate();
    let key = EpochKeys::generate();
    let id = DossierId::generate();
    let create = membership::create(id, &laptop, &key).unwrap();
    let mut log = vec![create.clone()];
    let mut l = Raw::connect(&relay, &laptop);
    l.send(&ClientMsg::Create {
        entry: create.to_bytes(),
    });
    assert!(matches!(l.recv(), ServerMsg::MembershipOk { .. }));
    let list = |device: &DeviceSecret| {
        let mut raw = Raw::connect(&relay, device);
        raw.send(&ClientMsg::Dossiers);
        match raw.recv() {
            ServerMsg::Dossiers { ids } => ids,
            other => panic!("expected the list, got {other:?}"),
        }
    };
    assert_eq!(list(&laptop), vec![id]);
    assert!(list(&phone).is_empty());

    // The laptop pairs the phone (an owner); the phone, on its own, shares with the advisor.
    let state = Membership::from_log(&log).unwrap();
    log.push(membership::add(&state, &laptop, &phone.id(), Role::Owner, &key).unwrap());
    l.send(&ClientMsg::Membership {
        dossier: id,
        entry: log[1].to_bytes(),
    });
    assert!(matches!(l.reply(), ServerMsg::MembershipOk { seq: 1, .. }));
    assert_eq!(list(&phone), vec![id]);
    let state = Membership::from_log(&log).unwrap();
    log.push(membership::add(&state, &phone, &advisor.id(), Role::Advisor, &key).unwrap());
    let mut p = Raw::connect(&relay, &phone);
    p.send(&ClientMsg::Membership {
        dossier: id,
        entry: log[2].to_bytes(),
    });
    assert!(matches!(p.reply(), ServerMsg::MembershipOk { seq: 2, .. }));
    assert_eq!(list(&advisor), vec![id]);
    assert!(list(&stranger).is_empty());

    // An advisor cannot make themselves (or anyone) an owner, even with a valid entry
    // signed by their own key.
    let state = Membership::from_log(&log).unwrap();
    let mut a = Raw::connect(&relay, &advisor);
    let forged = membership::add(&state, &laptop, &stranger.id(), Role::Owner, &key).unwrap();
    let mut by_advisor = forged.clone();
    by_advisor.signer = advisor.signing_public();
    for entry in [forged, by_advisor] {
        a.send(&ClientMsg::Membership {
            dossier: id,
            entry: entry.to_bytes(),
        });
        assert_eq!(rejected(a.reply()), Rejection::Forbidden);
    }
    assert!(list(&stranger).is_empty());

    // The phone is lost: the laptop removes it; the list follows.
    log.push(
        membership::remove(
            &state,
            &laptop,
            &phone.signing_public(),
            &EpochKeys::generate(),
        )
        .unwrap(),
    );
    l.send(&ClientMsg::Membership {
        dossier: id,
        entry: log[3].to_bytes(),
    });
    assert!(matches!(l.reply(), ServerMsg::MembershipOk { seq: 3, .. }));
    assert!(list(&phone).is_empty());
    assert_eq!(list(&laptop), vec![id]);
    assert_eq!(list(&advisor), vec![id]);
}

/// Evidence files go to the relay encrypted, in pieces, in order; members read them back and
/// decrypt them with the key the dossier holds; the rest is refused.
#[test]
fn evidence_pieces_are_stored_in_order_for_members_only_and_never_in_clear() {
    use livret_shared::evidence::{self, BlobId, PIECE, Sealer};
    let relay = Relay::start();
    let owner = DeviceSecret::generate();
    let juror = DeviceSecret::generate();
    let stranger = DeviceSecret::generate();
    let key = EpochKeys::generate();
    let id = DossierId::generate();
    let create = membership::create(id, &owner, &key).unwrap();
    let state = Membership::from_log(std::slice::from_ref(&create)).unwrap();
    let add_juror = membership::add(&state, &owner, &juror.id(), Role::Juror, &key).unwrap();
    let mut o = Raw::connect(&relay, &owner);
    o.send(&ClientMsg::Create {
        entry: create.to_bytes(),
    });
    assert!(matches!(o.recv(), ServerMsg::MembershipOk { .. }));
    o.send(&ClientMsg::Membership {
        dossier: id,
        entry: add_juror.to_bytes(),
    });
    assert!(matches!(o.reply(), ServerMsg::MembershipOk { .. }));

    // A 2.5 MiB file with a canary in it: three pieces.
    let mut file = vec![b'.'; 5 * PIECE / 2];
    file[PIECE + 7..PIECE + 7 + CANARY.len()].copy_from_slice(CANARY.as_bytes());
    let (mut sealer, file_key) = Sealer::new();
    let mut pieces = sealer.push(&file).unwrap();
    let (rest, sealed) = sealer.finish();
    pieces.extend(rest);
    assert_eq!(pieces.len(), 3);
    let blob = BlobId::generate();
    let put = |raw: &mut Raw, index: usize, bytes: Vec<u8>| {
        raw.send(&ClientMsg::PutPiece {
            dossier: id,
            blob,
            index: index as u32,
            bytes,
            last: index + 1 == pieces.len(),
        });
        raw.reply()
    };
    // Out of order, too large, not a member, a juror (read-only): refused.
    assert_eq!(rejected(put(&mut o, 1, pieces[1].clone())), Rejection::Gap);
    assert_eq!(
        rejected(put(&mut o, 0, vec![0; PIECE + 1])),
        Rejection::TooLarge
    );
    let mut s = Raw::connect(&relay, &stranger);
    assert_eq!(
        rejected(put(&mut s, 0, pieces[0].clone())),
        Rejection::Forbidden
    );
    let mut j = Raw::connect(&relay, &juror);
    assert_eq!(
        rejected(put(&mut j, 0, pieces[0].clone())),
        Rejection::Forbidden
    );
    // In order; a retried piece is acknowledged, not stored twice.
    for (index, piece) in pieces.iter().enumerate() {
        let reply = put(&mut o, index, piece.clone());
        assert_eq!(
            reply,
            ServerMsg::PieceStored {
                dossier: id,
                blob,
                stored: index as u32 + 1,
                complete: index == 2,
            }
        );
    }
    assert!(matches!(
        put(&mut o, 1, pieces[1].clone()),
        ServerMsg::PieceStored {
            stored: 3,
            complete: true,
            ..
        }
    ));

    // The juror reads it back and opens it with the key from the dossier; a stranger cannot.
    let get = |raw: &mut Raw, index: u32| {
        raw.send(&ClientMsg::GetPiece {
            dossier: id,
            blob,
            index,
        });
        raw.reply()
    };
    let fetched = j.fetch_pieces(id, blob);
    let plain = evidence::open(&file_key, &fetched, Some(&sealed.sha256)).unwrap();
    assert_eq!(plain.as_slice(), file.as_slice());
    assert_eq!(rejected(get(&mut s, 0)), Rejection::Forbidden);
    assert_eq!(rejected(get(&mut j, 3)), Rejection::NotFound);

    drop((o, j, s));
    for (path, bytes) in files_under(&relay.data) {
        assert!(
            !contains(&bytes, CANARY.as_bytes()),
            "canary in {}",
            path.display()
        );
    }
}
