//! Several relay nodes on one PostgreSQL database, as `deploy/` runs them: real `livret
//! serve` processes on a throwaway PostgreSQL server, behind HAProxy started on the very
//! configuration operators install (`deploy/haproxy/livret.cfg`). Writers on different
//! nodes co-edit and each sees everyone's work live; a node killed -9 mid-burst costs
//! nothing acknowledged: its devices reconnect through the proxy to the others, and every
//! envelope is stored exactly once. A lost poke between nodes is made good by the sweep.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use livret_relay::testing::{ThrowawayPostgres, end_sessions, free_port};
use livret_shared::envelope::Envelope;
use livret_shared::keys::MemberKey;
use livret_shared::membership::SignedEntry;
use livret_shared::protocol::{ClientMsg, ServerMsg};
use livret_shared::sync::Replica;

use crate::durability::{BURST, DOSSIERS, Dossier, WRITERS, catch_up, prepare, register};
use crate::support::{Relay, get, temp_dir};
use crate::sync::Raw;

/// HAProxy on `deploy/haproxy/livret.cfg`, in front of `nodes`; stopped on drop.
struct Proxy {
    child: Child,
    addr: SocketAddr,
}

impl Proxy {
    fn start(port: u16, nodes: &[&Relay]) -> Proxy {
        let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/haproxy/livret.cfg");
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let mut command = Command::new("haproxy");
        command
            .args(["-db", "-f"])
            .arg(&config)
            .env("LIVRET_BIND", addr.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (i, node) in nodes.iter().enumerate() {
            command.env(format!("LIVRET_NODE{}", i + 1), node.addr.to_string());
        }
        let child = command
            .spawn()
            .expect("haproxy runs (scripts/toolchain.sh installs Debian's haproxy)");
        let proxy = Proxy { child, addr };
        // Up once it answers the health route through a node (bounded wait).
        let deadline = Instant::now() + Duration::from_secs(30);
        while !std::net::TcpStream::connect(addr)
            .is_ok_and(|_| get(addr, "/api/v1/health").status == 200)
        {
            assert!(Instant::now() < deadline, "haproxy did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        proxy
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Three relay nodes on `database`, whose devices sign for `public` (the proxy's URL).
fn nodes(database: &str, public: &str) -> Vec<Relay> {
    (0..3)
        .map(|i| {
            Relay::start_with(
                temp_dir(&format!("node-{i}")),
                &["--store", database, "--public-url", public],
            )
        })
        .collect()
}

/// A node's count of one metric (read directly, from this machine).
fn metric(node: &Relay, name: &str) -> u64 {
    let body = get(node.addr, "/api/v1/metrics").text();
    let json: serde_json::Value = serde_json::from_str(&body).expect("metrics are JSON");
    json[name].as_u64().unwrap_or(0)
}

/// (writer, counter) of each envelope in a `Log` frame.
fn envelopes_in(msg: &ServerMsg) -> Vec<(MemberKey, u64)> {
    match msg {
        ServerMsg::Log { envelopes, .. } => envelopes
            .iter()
            .map(|b| {
                let h = Envelope::parse(b).unwrap().header;
                (h.writer, h.counter)
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// What one writer did: its last acknowledged counter, whether it had to reconnect.
struct Outcome {
    acked: u64,
    reconnected: bool,
}

/// One co-editor: pushes its whole burst on `raw` (a node of its own), reading
/// acknowledgements and the others' envelopes; when its node dies, reconnects through the
/// proxy, catches up and pushes again what was not acknowledged. Done once all its own are
/// acknowledged and it has received every envelope of the others' bursts.
fn co_edit(
    raw: Raw,
    proxy: SocketAddr,
    public: &str,
    dossier: &Dossier,
    me: usize,
    acked_total: &AtomicUsize,
) -> Outcome {
    let writer = &dossier.writers[me];
    let last = writer.before + BURST as u64;
    let mut wanted: BTreeSet<(MemberKey, u64)> = dossier
        .writers
        .iter()
        .enumerate()
        .filter(|(w, _)| *w != me)
        .flat_map(|(_, other)| {
            let key = other.secret.signing_public();
            (other.before + 1..=other.before + BURST as u64).map(move |c| (key, c))
        })
        .collect();
    let mut acked = writer.before;
    let mut reconnected = false;
    let mut ws = Some(raw.into_socket());
    let deadline = Instant::now() + Duration::from_secs(240);
    let push_rest = |ws: &mut Ws, acked: u64| {
        for envelope in &writer.sealed[(acked - writer.before) as usize..] {
            let frame = livret_shared::protocol::encode(&ClientMsg::Push {
                envelope: envelope.clone(),
            });
            if ws.send(tungstenite::Message::Binary(frame.into())).is_err() {
                break;
            }
        }
    };
    push_rest(ws.as_mut().unwrap(), acked);
    while acked < last || !wanted.is_empty() {
        assert!(
            Instant::now() < deadline,
            "writer {me}: {acked} of {last} acknowledged, {} of the others' missing",
            wanted.len()
        );
        let socket = match ws.as_mut() {
            Some(socket) => socket,
            None => {
                // Through the proxy, which sends it to a node still up.
                std::thread::sleep(Duration::from_millis(200));
                let Ok(mut raw) = Raw::connect_at(proxy, public, &writer.secret) else {
                    continue;
                };
                reconnected = true;
                raw.send(&ClientMsg::Subscribe {
                    dossier: dossier.id,
                    since: Vec::new(),
                });
                let mut socket = raw.into_socket();
                push_rest(&mut socket, acked);
                ws.insert(socket)
            }
        };
        let Ok(message) = crate::support::read_message(socket) else {
            ws = None; // its node is gone
            continue;
        };
        let tungstenite::Message::Binary(bytes) = message else {
            continue;
        };
        let msg = livret_shared::protocol::decode::<ServerMsg>(&bytes).unwrap();
        match &msg {
            ServerMsg::Ack { counter, .. } => {
                if *counter > acked {
                    acked_total.fetch_add((*counter - acked) as usize, Ordering::Relaxed);
                    acked = *counter;
                }
            }
            ServerMsg::Rejected { reason, detail } => {
                panic!("writer {me} refused: {} ({detail})", reason.as_str())
            }
            _ => {
                for seen in envelopes_in(&msg) {
                    wanted.remove(&seen);
                }
            }
        }
    }
    Outcome { acked, reconnected }
}

type Ws = tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<std::net::TcpStream>>;

#[test]
fn three_nodes_behind_haproxy_converge_and_a_node_killed_under_load_loses_nothing() {
    let postgres = ThrowawayPostgres::start();
    let database = postgres.database("nodes");
    let port = free_port();
    let public = format!("http://127.0.0.1:{port}");
    let relays = nodes(&database, &public);
    let proxy = Proxy::start(port, &relays.iter().collect::<Vec<_>>());
    let dossiers: Vec<Dossier> = (0..DOSSIERS).map(|_| prepare()).collect();
    // Made through the proxy (whichever node it picks).
    for d in &dossiers {
        let mut raw = Raw::connect_at(proxy.addr, &public, &d.writers[0].secret).unwrap();
        register(&mut raw, d);
    }
    // Each dossier's writers on three different nodes, subscribed before the burst.
    let mut connections = Vec::new();
    for d in &dossiers {
        for (w, writer) in d.writers.iter().enumerate() {
            let node = &relays[w % relays.len()];
            let mut raw = Raw::connect_at(node.addr, &public, &writer.secret).unwrap();
            let caught = catch_up(&mut raw, d.id);
            assert_eq!(caught.envelopes, vec![d.layout.clone()]);
            connections.push(raw);
        }
    }
    let total = DOSSIERS * WRITERS * BURST;
    let acked_total = AtomicUsize::new(0);
    let victim = relays[1].pid();
    let outcomes: Vec<Outcome> = std::thread::scope(|scope| {
        let writers = dossiers
            .iter()
            .flat_map(|d| (0..WRITERS).map(move |w| (d, w)));
        let running: Vec<_> = connections
            .into_iter()
            .zip(writers)
            .map(|(raw, (d, w))| {
                let (public, acked_total) = (&public, &acked_total);
                scope.spawn(move || co_edit(raw, proxy.addr, public, d, w, acked_total))
            })
            .collect();
        let deadline = Instant::now() + Duration::from_secs(120);
        while acked_total.load(Ordering::Relaxed) < total / 3 {
            assert!(Instant::now() < deadline, "the burst never got going");
            std::thread::sleep(Duration::from_millis(2));
        }
        // SAFETY: a signal to a relay process this test started.
        assert_eq!(unsafe { libc::kill(victim as i32, libc::SIGKILL) }, 0);
        running.into_iter().map(|r| r.join().unwrap()).collect()
    });
    let writers = dossiers.iter().flat_map(|d| &d.writers);
    for (outcome, writer) in outcomes.iter().zip(writers) {
        assert_eq!(
            outcome.acked,
            writer.before + BURST as u64,
            "all acknowledged"
        );
    }
    let moved = outcomes.iter().filter(|o| o.reconnected).count();
    assert_eq!(
        moved, DOSSIERS,
        "the killed node's writers reconnected elsewhere"
    );
    for node in [&relays[0], &relays[2]] {
        assert!(
            metric(node, "accepted") > 0,
            "both surviving nodes appended"
        );
    }

    // What the database holds, read through the proxy: each writer's counters exactly
    // 1..=n (no gap, none twice), and a new device opens each dossier whole.
    for d in &dossiers {
        let mut raw = Raw::connect_at(proxy.addr, &public, &d.writers[0].secret).unwrap();
        let caught = catch_up(&mut raw, d.id);
        for (w, writer) in d.writers.iter().enumerate() {
            let key = writer.secret.signing_public();
            let counters: Vec<u64> = caught
                .envelopes
                .iter()
                .map(|b| Envelope::parse(b).unwrap().header)
                .filter(|h| h.writer == key)
                .map(|h| h.counter)
                .collect();
            let n = writer.before + BURST as u64;
            assert_eq!(counters, (1..=n).collect::<Vec<_>>(), "writer {w}");
        }
        let owner = &d.writers[0].secret;
        let log = caught
            .entries
            .iter()
            .map(|b| SignedEntry::from_bytes(b).unwrap())
            .collect();
        let mut fresh = Replica::join(owner, log).unwrap();
        let received = fresh
            .apply_log(owner, &[], None, &caught.envelopes, caught.active_snapshot)
            .unwrap();
        assert!(received.quarantined.is_empty());
        for w in 0..WRITERS {
            let text = fresh
                .dossier()
                .get(&format!("fiches.{w}.taches"))
                .unwrap_or_default();
            assert!(text.ends_with(&format!("·{}", BURST - 1)), "{text:?}");
        }
    }
    drop(proxy);
}

/// A poke lost between nodes (the sending node's connection for them cut, as a database
/// failover or an idle cut would) costs a follower on another node a few seconds at
/// most: the sweep finds the dossier behind and sends what it misses, without any
/// reconnection.
#[test]
fn a_lost_poke_is_made_good_by_the_sweep() {
    let postgres = ThrowawayPostgres::start();
    let database = postgres.database("lostpoke");
    let public = format!("http://127.0.0.1:{}", free_port());
    let relays = nodes(&database, &public);
    let d = prepare();
    let (owner, advisor) = (&d.writers[0], &d.writers[1]);
    let mut on_first = Raw::connect_at(relays[0].addr, &public, &owner.secret).unwrap();
    register(&mut on_first, &d);
    let mut on_second = Raw::connect_at(relays[1].addr, &public, &advisor.secret).unwrap();
    assert_eq!(
        catch_up(&mut on_second, d.id).envelopes,
        vec![d.layout.clone()]
    );
    // First, a poke that arrives: the advisor sees the owner's next edit at once.
    assert!(matches!(
        on_first.push(&owner.sealed[0]),
        ServerMsg::Ack { .. }
    ));
    assert_eq!(
        next_envelopes(&mut on_second),
        [(owner.secret.signing_public(), 2)]
    );
    assert_eq!(metric(&relays[1], "sweeps_behind"), 0, "by the poke");
    // The first node's connection for pokes is cut: its next poke is lost.
    assert!(end_sessions(&database, livret_relay::cluster::SENDER_NAME) >= 3);
    assert!(matches!(
        on_first.push(&owner.sealed[1]),
        ServerMsg::Ack { .. }
    ));
    assert_eq!(
        next_envelopes(&mut on_second),
        [(owner.secret.signing_public(), 3)]
    );
    assert!(
        metric(&relays[1], "sweeps_behind") >= 1,
        "found by the sweep, not by a poke"
    );
    drop(relays);
}

/// The next envelopes the connection receives (bounded by its read timeout).
fn next_envelopes(raw: &mut Raw) -> Vec<(MemberKey, u64)> {
    loop {
        let found = envelopes_in(&raw.recv());
        if !found.is_empty() {
            return found;
        }
    }
}

/// Evidence in a bucket (moto's S3 server on loopback), beside the database, with two
/// nodes: a file uploaded on one is read back and opened on the other; a node killed after
/// acknowledging a piece loses nothing and the retry on another node stores nothing twice;
/// the bucket holds ciphertext only, the database no piece's bytes.
#[test]
fn evidence_goes_to_a_bucket_and_a_node_killed_mid_upload_loses_or_doubles_nothing() {
    use livret_relay::testing::{ThrowawayS3, count};
    use livret_shared::envelope::DossierId;
    use livret_shared::evidence::{self, BlobId, PIECE, Sealer};
    use livret_shared::keys::{DeviceSecret, EpochKeys};
    use livret_shared::membership::{self, Membership, Role};
    const CANARY: &str = "CANARI-seau-objets-8d41";
    let postgres = ThrowawayPostgres::start();
    let database = postgres.database("bucket");
    let s3 = ThrowawayS3::start();
    let settings = s3.settings();
    let start = |label: &str| {
        Relay::start_with_env(
            temp_dir(label),
            &["--store", &database, "--evidence", &s3.url()],
            &settings,
        )
    };
    let (first, second) = (start("bucket-a"), start("bucket-b"));
    let owner = DeviceSecret::generate();
    let juror = DeviceSecret::generate();
    let key = EpochKeys::generate();
    let id = DossierId::generate();
    let create = membership::create(id, &owner, &key).unwrap();
    let state = Membership::from_log(std::slice::from_ref(&create)).unwrap();
    let add_juror = membership::add(&state, &owner, &juror.id(), Role::Juror, &key).unwrap();
    let mut o = Raw::connect(&first, &owner);
    o.send(&ClientMsg::Create {
        entry: create.to_bytes(),
    });
    assert!(matches!(o.recv(), ServerMsg::MembershipOk { .. }));
    o.send(&ClientMsg::Membership {
        dossier: id,
        entry: add_juror.to_bytes(),
    });
    assert!(matches!(o.reply(), ServerMsg::MembershipOk { .. }));
    let mut file = vec![b'.'; 5 * PIECE / 2];
    file[PIECE + 7..PIECE + 7 + CANARY.len()].copy_from_slice(CANARY.as_bytes());
    let (mut sealer, file_key) = Sealer::new();
    let mut pieces = sealer.push(&file).unwrap();
    let (rest, sealed) = sealer.finish();
    pieces.extend(rest);
    let blob = BlobId::generate();
    let put = |raw: &mut Raw, index: usize| {
        raw.send(&ClientMsg::PutPiece {
            dossier: id,
            blob,
            index: index as u32,
            bytes: pieces[index].clone(),
            last: index + 1 == pieces.len(),
        });
        raw.reply()
    };
    let stored = |reply: ServerMsg| match reply {
        ServerMsg::PieceStored { stored, .. } => stored,
        other => panic!("not stored: {other:?}"),
    };
    assert_eq!(stored(put(&mut o, 0)), 1);
    // The node dies with piece 0 acknowledged; the device goes on on the other, sending
    // piece 0 again (its acknowledgement could have been lost): stored once.
    drop(o);
    first.kill_hard();
    let mut o = Raw::connect(&second, &owner);
    assert_eq!(stored(put(&mut o, 0)), 1);
    assert_eq!(stored(put(&mut o, 1)), 2);
    assert_eq!(stored(put(&mut o, 2)), 3);
    let fetched = Raw::connect(&second, &juror).fetch_pieces(id, blob);
    let plain = evidence::open(&file_key, &fetched, Some(&sealed.sha256)).unwrap();
    assert_eq!(plain.as_slice(), file.as_slice());
    let objects = s3.objects();
    assert_eq!(objects.len(), 3, "three pieces, none twice");
    for (name, bytes) in &objects {
        assert!(
            !bytes.windows(CANARY.len()).any(|w| w == CANARY.as_bytes()),
            "canary in {name}"
        );
    }
    assert_eq!(
        count(
            &database,
            "SELECT COUNT(*) FROM pieces WHERE body IS NOT NULL"
        ),
        0,
        "no piece's bytes in the database"
    );
    assert_eq!(count(&database, "SELECT COUNT(*) FROM pieces"), 3);
}

/// `--evidence` with a bucket nobody answers for, or without PostgreSQL: one line and exit
/// code 2 at start.
#[test]
fn an_evidence_bucket_that_cannot_be_used_is_one_clear_line_and_exit_2() {
    let postgres = ThrowawayPostgres::start();
    let database = postgres.database("nobucket");
    let nobody = [
        ("AWS_ENDPOINT", "http://127.0.0.1:1".to_string()),
        ("AWS_ALLOW_HTTP", "true".to_string()),
        ("AWS_REGION", "us-east-1".to_string()),
        ("AWS_ACCESS_KEY_ID", "livret".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "s3cret-s3".to_string()),
    ];
    for (options, says) in [
        (
            vec!["--store", database.as_str(), "--evidence", "s3://livret"],
            "pièces justificatives, s3://livret",
        ),
        (vec!["--evidence", "s3://livret"], "--evidence"),
        (
            vec!["--store", database.as_str(), "--evidence", "/var/pieces"],
            "attendu s3://",
        ),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_livret"))
            .args(["serve", "--addr", "127.0.0.1:0", "--data"])
            .arg(temp_dir("nobucket"))
            .args(&options)
            .envs(nobody.iter().map(|(k, v)| (k, v)))
            .env("LIVRET_LOG", "warn")
            .stdin(Stdio::null())
            .output()
            .expect("livret runs");
        let said = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{said}");
        let lines: Vec<&str> = said.lines().filter(|l| l.starts_with("livret:")).collect();
        assert_eq!(lines.len(), 1, "{said}");
        assert!(lines[0].contains(says), "{said}");
        assert!(!said.contains("s3cret"), "{said}");
        assert!(!said.contains("panicked"), "{said}");
    }
}

/// Mail queued on three nodes while the SMTP server is down: every node retries at the same
/// moments (they read when the next mail is due from the same database), and once the
/// server is up each mail arrives once — a claim is one node's, with a lease.
#[test]
fn mail_queued_on_several_nodes_goes_once_when_the_server_comes_up() {
    use crate::smtp::SmtpServer;
    use crate::sync::Device;
    let postgres = ThrowawayPostgres::start();
    let database = postgres.database("mailnodes");
    let port = free_port();
    let smtp_url = format!("smtp://127.0.0.1:{port}");
    let relays: Vec<Relay> = (0..3)
        .map(|i| {
            Relay::start_with(
                temp_dir(&format!("mail-node-{i}")),
                &["--store", &database, "--smtp-url", &smtp_url],
            )
        })
        .collect();
    let recipients: Vec<String> = (0..3).map(|i| format!("jure{i}@example.org")).collect();
    for (i, relay) in relays.iter().enumerate() {
        let candidate = Device::new(&format!("candidat-noeud-{i}"));
        let id = candidate.run(&["dossier", "new", "--relay", &relay.url("")]);
        candidate.run(&["dossier", "invite", &id, &recipients[i], "--role", "juror"]);
    }
    // Every node has tried and failed at least once.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !relays
        .iter()
        .all(|r| String::from_utf8_lossy(&r.output()).contains("will retry"))
    {
        assert!(
            Instant::now() < deadline,
            "the nodes never tried: {}",
            String::from_utf8_lossy(&relays[0].output())
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let smtp = SmtpServer::start_on(port);
    let mails = smtp.wait_for_messages(3);
    // Past the next retries of every node (the backoff after a few failures is seconds).
    std::thread::sleep(Duration::from_secs(5));
    let mails_now = smtp.messages();
    assert_eq!(
        mails_now.len(),
        3,
        "each mail once: {:?}",
        mails_now.iter().map(|m| &m.to).collect::<Vec<_>>()
    );
    let mut to: Vec<String> = mails.iter().flat_map(|m| m.to.clone()).collect();
    to.sort();
    assert_eq!(to, recipients);
}
