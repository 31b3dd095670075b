//! What the benchmarks share: a real `livret serve` process on loopback, a dossier with a
//! long typing history, a minimal sync client, and where results go. Each bench uses a part.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use livret_shared::envelope::{DossierId, random_nonce};
use livret_shared::keys::{DeviceSecret, EpochKeys};
use livret_shared::membership;
use livret_shared::protocol::{self, ClientMsg, ServerMsg};
use livret_shared::sync::Replica;
use tungstenite::Message;

/// A relay process, killed when dropped; `.addr` is its `host:port`.
pub struct RelayProcess {
    pub child: Child,
    pub addr: String,
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the relay on an ephemeral port with its data in `data`, quiet but for warnings.
pub fn start_relay(data: &Path) -> RelayProcess {
    start_relay_with(data, &[])
}

/// A relay with more `livret serve` options (`--store postgres://…`).
pub fn start_relay_with(data: &Path, options: &[&str]) -> RelayProcess {
    let mut child = Command::new(env!("CARGO_BIN_EXE_livret"))
        .args(["serve", "--addr", "127.0.0.1:0", "--data"])
        .arg(data)
        .args(options)
        .env("LIVRET_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the relay starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("the relay prints its address");
    let addr = line
        .split("http://")
        .nth(1)
        .expect("address line")
        .trim()
        .to_string();
    RelayProcess { child, addr }
}

/// Writes a benchmark's JSON report to `target/bench/<name>.json`.
pub fn write_report(name: &str, report: &serde_json::Value) {
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
    std::fs::create_dir_all(&out).expect("bench dir");
    let text = serde_json::to_string_pretty(report).expect("json");
    std::fs::write(out.join(format!("{name}.json")), text).expect("write report");
    println!("\nwrote target/bench/{name}.json");
}

/// A dossier whose text fields received `edits` keystrokes, sealed in batches of `batch`.
pub fn history(
    edits: usize,
    batch: usize,
) -> (
    DeviceSecret,
    EpochKeys,
    Replica,
    Vec<Vec<u8>>,
    membership::SignedEntry,
) {
    let owner = DeviceSecret::generate();
    let key = EpochKeys::generate();
    let (mut replica, entry) =
        Replica::create(&owner, DossierId::generate(), key.duplicate()).unwrap();
    let fields = [
        "fiches.0.contexte",
        "fiches.0.taches",
        "motivation.lettre",
        "fiches.1.resultats",
    ];
    let mut envelopes = Vec::new();
    // Keystrokes from real French prose (a seed référentiel), with a backspace now and then.
    let prose: Vec<char> = include_str!(
        "../../../fixtures/referentiels/003-expert-architecture-developpement-logiciel-rncp38822.txt"
    )
    .chars()
    .filter(|c| !c.is_control())
    .collect();
    let mut lengths = [0usize; 4];
    for i in 0..edits {
        let f = (i / 500) % fields.len();
        let mut ch = [0u8; 4];
        let ch = prose[i % prose.len()].encode_utf8(&mut ch);
        if i % 7 == 6 && lengths[f] > 0 {
            replica
                .dossier()
                .splice(fields[f], lengths[f] - 1, 1, "")
                .unwrap();
            lengths[f] -= 1;
        } else {
            replica
                .dossier()
                .splice(fields[f], lengths[f], 0, ch)
                .unwrap();
            lengths[f] += 1;
        }
        if (i + 1) % batch == 0 {
            envelopes.push(replica.flush(&owner, random_nonce()).unwrap().unwrap());
        }
    }
    if let Some(last) = replica.flush(&owner, random_nonce()).unwrap() {
        envelopes.push(last);
    }
    (owner, key, replica, envelopes, entry)
}

pub type Ws = tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<std::net::TcpStream>>;

pub fn connect(addr: &str, device: &DeviceSecret) -> Ws {
    let (mut ws, _) = tungstenite::connect(format!("ws://{addr}/api/v1/sync")).unwrap();
    if let tungstenite::stream::MaybeTlsStream::Plain(s) = ws.get_ref() {
        s.set_nodelay(true).unwrap();
    }
    let ServerMsg::Challenge { nonce } = recv(&mut ws) else {
        panic!()
    };
    let origin = protocol::Origin::parse(&format!("http://{addr}")).expect("origin");
    send(&mut ws, &protocol::hello(&origin, &nonce, device));
    assert_eq!(recv(&mut ws), ServerMsg::Welcome);
    ws
}

pub fn send(ws: &mut Ws, msg: &ClientMsg) {
    ws.send(Message::Binary(protocol::encode(msg).into()))
        .unwrap();
}

pub fn recv(ws: &mut Ws) -> ServerMsg {
    loop {
        if let Message::Binary(b) = ws.read().unwrap() {
            return protocol::decode(&b).unwrap();
        }
    }
}

/// An edit on device A visible on device B: A connected to the relay at `a_addr`, B to the
/// one at `b_addr` (the same relay, or another node on the same database), one edit at a
/// time, each timed from the keystroke to B holding it; `rounds` durations, unsorted.
pub fn keystroke_latencies(a_addr: &str, b_addr: &str, rounds: usize) -> Vec<std::time::Duration> {
    let a_dev = DeviceSecret::generate();
    let b_dev = DeviceSecret::generate();
    let key = EpochKeys::generate();
    let (mut a, entry) = Replica::create(&a_dev, DossierId::generate(), key.duplicate()).unwrap();
    let add = membership::add(
        a.membership(),
        &a_dev,
        &b_dev.id(),
        membership::Role::Advisor,
        &key,
    )
    .unwrap();
    a.apply_membership(&a_dev, std::slice::from_ref(&add))
        .unwrap();
    let mut wa = connect(a_addr, &a_dev);
    send(
        &mut wa,
        &ClientMsg::Create {
            entry: entry.to_bytes(),
        },
    );
    assert!(matches!(recv(&mut wa), ServerMsg::MembershipOk { .. }));
    send(
        &mut wa,
        &ClientMsg::Membership {
            dossier: a.id,
            entry: add.to_bytes(),
        },
    );
    assert!(matches!(recv(&mut wa), ServerMsg::MembershipOk { .. }));
    a.dossier().set("fiches.0.taches", "").unwrap();
    let first = a.flush(&a_dev, random_nonce()).unwrap().unwrap();
    send(&mut wa, &ClientMsg::Push { envelope: first });
    assert!(matches!(recv(&mut wa), ServerMsg::Ack { .. }));
    let mut b = Replica::join(&b_dev, vec![entry, add]).unwrap();
    let mut wb = connect(b_addr, &b_dev);
    send(
        &mut wb,
        &ClientMsg::Subscribe {
            dossier: a.id,
            since: Vec::new(),
        },
    );
    let ServerMsg::Log { envelopes, .. } = recv(&mut wb) else {
        panic!("a catch-up")
    };
    b.receive(&envelopes).unwrap();
    let mut latencies = Vec::with_capacity(rounds);
    for i in 0..rounds {
        let t = std::time::Instant::now();
        a.dossier().splice("fiches.0.taches", i, 0, "x").unwrap();
        let env = a.flush(&a_dev, random_nonce()).unwrap().unwrap();
        send(&mut wa, &ClientMsg::Push { envelope: env });
        loop {
            if let ServerMsg::Log { envelopes, .. } = recv(&mut wb) {
                b.receive(&envelopes).unwrap();
                break;
            }
        }
        latencies.push(t.elapsed());
        // Drain A's acknowledgement (not part of what B sees).
        let _ = recv(&mut wa);
    }
    assert_eq!(b.dossier().get("fiches.0.taches").unwrap().len(), rounds);
    latencies
}

/// A dossier of `members` devices, the owner first and advisors after: the owner lays out one
/// fiche per member (`fiches.<m>.contexte`) in its first envelope (`initial`, counter 1, not
/// acknowledged), and every member's replica starts from that state.
pub struct LaidOut {
    pub id: DossierId,
    pub log: Vec<membership::SignedEntry>,
    pub initial: Vec<u8>,
    pub members: Vec<(DeviceSecret, Replica)>,
}

pub fn laid_out_dossier(members: usize) -> LaidOut {
    let owner = DeviceSecret::generate();
    let id = DossierId::generate();
    let (mut owner_replica, genesis) =
        Replica::create(&owner, id, EpochKeys::generate()).expect("create");
    let mut log = vec![genesis];
    let mut secrets = vec![owner];
    for _ in 1..members {
        let advisor = DeviceSecret::generate();
        let entry = owner_replica
            .add_member(&secrets[0], &advisor.id(), membership::Role::Advisor)
            .expect("add");
        log.push(entry);
        secrets.push(advisor);
    }
    for m in 0..members {
        owner_replica
            .dossier()
            .set(&format!("fiches.{m}.contexte"), "")
            .expect("fiche");
    }
    let initial = owner_replica
        .flush(&secrets[0], random_nonce())
        .expect("seal")
        .expect("an envelope");
    let mut owner_replica = Some(owner_replica);
    let members = secrets
        .into_iter()
        .map(|secret| {
            let replica = owner_replica.take().unwrap_or_else(|| {
                let mut r = Replica::join(&secret, log.clone()).expect("join");
                r.receive(std::slice::from_ref(&initial))
                    .expect("initial state");
                r
            });
            (secret, replica)
        })
        .collect();
    LaidOut {
        id,
        log,
        initial,
        members,
    }
}

/// The async side, for benches with many clients at once (`soak`, `throughput`).
pub mod many {
    use std::net::{Ipv4Addr, SocketAddr};

    use futures_util::{SinkExt, StreamExt};
    use livret_shared::keys::DeviceSecret;
    use livret_shared::protocol::{self, ClientMsg, ServerMsg};
    use tokio_tungstenite::tungstenite::Message;

    pub type Ws = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

    /// Clients per source address (the relay allows 64 per address).
    const PER_ADDRESS: usize = 40;

    /// The loopback address client `i` connects from: 127.0.0.2 onwards, forty clients
    /// each, under the relay's limit per address.
    pub fn source(i: usize) -> Ipv4Addr {
        Ipv4Addr::new(127, 0, 0, 2 + (i / PER_ADDRESS) as u8)
    }

    /// Connects from `source` (a loopback address of its own) and logs in.
    pub async fn connect(relay: SocketAddr, source: Ipv4Addr, device: &DeviceSecret) -> Ws {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket
            .bind(SocketAddr::new(source.into(), 0))
            .expect("bind a loopback source address");
        let stream = socket.connect(relay).await.expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        let (mut ws, _) =
            tokio_tungstenite::client_async(format!("ws://{relay}/api/v1/sync"), stream)
                .await
                .expect("websocket");
        let ServerMsg::Challenge { nonce } = recv(&mut ws).await else {
            panic!("expected a challenge")
        };
        let origin = protocol::Origin::parse(&format!("http://{relay}")).expect("origin");
        send(&mut ws, &protocol::hello(&origin, &nonce, device)).await;
        assert_eq!(recv(&mut ws).await, ServerMsg::Welcome);
        ws
    }

    pub async fn send(ws: &mut Ws, msg: &ClientMsg) {
        ws.send(Message::Binary(protocol::encode(msg).into()))
            .await
            .expect("send");
    }

    pub async fn recv(ws: &mut Ws) -> ServerMsg {
        loop {
            match ws.next().await.expect("relay open").expect("frame") {
                Message::Binary(b) => return protocol::decode(&b).expect("server message"),
                _ => continue,
            }
        }
    }
}
