//! Relay throughput: envelopes accepted durably and fanned out per second, with 1,000
//! WebSocket clients over 100 dossiers (10 members each), against a real `livret serve`
//! process on loopback. Goal ≥ 20,000 envelopes/s on 2 cores.
//!
//! `cargo bench -p livret-cli --bench throughput` (add `-- --quick` for 200 clients). The
//! same load runs on the SQLite store, on a PostgreSQL store (a throwaway server on
//! loopback, `--store postgres://…`) with one relay node, then with three nodes on that
//! database (each dossier's members spread over them, so most deliveries cross nodes), and
//! the three are printed side by side, each with the latency of one keystroke from a device
//! to another (on two different nodes in the three-node case).
//!
//! Every client is a member device with its own replica: it seals real automerge edits
//! before the clock starts, then pushes them all (pipelined, as a device flushing its outbox
//! does) while reading acknowledgements and its nine co-members' envelopes. The clock stops
//! when every client holds every acknowledgement and every envelope of its dossier, so the
//! figure counts an envelope once it is durable *and* delivered to all nine others. The
//! load generator runs on the same two cores as the relay; the relay's own CPU time is read
//! from /proc and printed beside the result.
//!
//! Writes `target/bench/throughput.json`.

mod support;
use support::many::{Ws, connect, recv, send};
use support::start_relay_with;

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use livret_shared::envelope::{DossierId, random_nonce};
use livret_shared::keys::DeviceSecret;
use livret_shared::membership::SignedEntry;
use livret_shared::protocol::{self, ClientMsg, ServerMsg};
use tokio_tungstenite::tungstenite::Message;

const MEMBERS: usize = 10;

/// User + system CPU seconds a process has used (Linux /proc; 0 elsewhere).
fn cpu_seconds(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')').map_or(0, |i| i + 2)..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 =
        fields[11].parse::<f64>().unwrap_or(0.0) + fields[12].parse::<f64>().unwrap_or(0.0);
    // USER_HZ is 100 on every Linux this runs on.
    ticks / 100.0
}

/// One dossier: its membership log and, per member, the envelopes it will push.
struct Dossier {
    id: DossierId,
    log: Vec<SignedEntry>,
    /// The owner's first envelope (the fiches' layout), pushed before the clock starts.
    initial: Vec<u8>,
    members: Vec<(DeviceSecret, Vec<Vec<u8>>)>,
}

fn prepare(dossiers: usize, per_client: usize) -> Vec<Dossier> {
    let text: Vec<char> =
        "Analyser le besoin du client, concevoir l'architecture et piloter l'équipe. "
            .chars()
            .collect();
    (0..dossiers)
        .map(|_| {
            // The owner lays out one fiche per member; everyone starts from that state.
            let support::LaidOut {
                id,
                log,
                initial,
                members,
            } = support::laid_out_dossier(MEMBERS);
            let members = members
                .into_iter()
                .enumerate()
                .map(|(m, (device, mut replica))| {
                    let field = format!("fiches.{m}.contexte");
                    let envelopes = (0..per_client)
                        .map(|i| {
                            // A flush every few keystrokes, as a typing device does.
                            for k in 0..4 {
                                let mut buf = [0u8; 4];
                                let ch = text[(i * 4 + k) % text.len()].encode_utf8(&mut buf);
                                replica
                                    .dossier()
                                    .splice(&field, i * 4 + k, 0, ch)
                                    .expect("type");
                            }
                            replica
                                .flush(&device, random_nonce())
                                .expect("seal")
                                .expect("an envelope")
                        })
                        .collect();
                    (device, envelopes)
                })
                .collect();
            Dossier {
                id,
                log,
                initial,
                members,
            }
        })
        .collect()
}

/// What one client saw: acknowledgements of its own pushes, envelopes from others.
struct Seen {
    acks: usize,
    received: usize,
}

async fn client(
    ws: Ws,
    envelopes: Vec<Vec<u8>>,
    expect_received: usize,
    start: Arc<tokio::sync::Barrier>,
) -> Seen {
    start.wait().await;
    let pushes = envelopes.len();
    let (mut sink, mut stream) = ws.split();
    let writer = async {
        for envelope in envelopes {
            sink.feed(Message::Binary(
                protocol::encode(&ClientMsg::Push { envelope }).into(),
            ))
            .await
            .expect("push");
        }
        sink.flush().await.expect("flush");
    };
    let reader = async {
        let mut seen = Seen {
            acks: 0,
            received: 0,
        };
        while seen.acks < pushes || seen.received < expect_received {
            let Message::Binary(b) = stream.next().await.expect("relay open").expect("frame")
            else {
                continue;
            };
            match protocol::decode::<ServerMsg>(&b).expect("server message") {
                ServerMsg::Ack { .. } => seen.acks += 1,
                ServerMsg::Log { envelopes, .. } => seen.received += envelopes.len(),
                ServerMsg::Rejected { reason, detail } => {
                    panic!(
                        "refused: {} ({detail}) after {} acks",
                        reason.as_str(),
                        seen.acks
                    )
                }
                _ => {}
            }
        }
        seen
    };
    let ((), seen) = tokio::join!(writer, reader);
    seen
}

/// What one run measured.
struct Measured {
    nodes: usize,
    envelopes: usize,
    average_bytes: usize,
    seconds: f64,
    relay_cpu: f64,
    load_cpu: f64,
    /// Keystroke A → B, sorted.
    latencies: Vec<Duration>,
}

impl Measured {
    fn rate(&self) -> f64 {
        self.envelopes as f64 / self.seconds
    }

    fn latency_ms(&self, p: f64) -> f64 {
        let i = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        self.latencies[i].as_secs_f64() * 1000.0
    }
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let dossiers = if quick { 20 } else { 100 };
    let per_client = if quick { 20 } else { 40 };
    let clients = dossiers * MEMBERS;
    let limit = fd_limit();
    if limit < (clients as u64) * 2 + 100 {
        eprintln!(
            "throughput: {clients} clients need about {} open files here and in the relay; \
             the limit is {limit} (raise it with `ulimit -n`)",
            clients * 2 + 100
        );
        std::process::exit(2);
    }
    // The same load on each store, one after the other, in this run.
    let rounds = if quick { 200 } else { 1000 };
    let sqlite = measure("SQLite", 1, &[], dossiers, per_client, rounds);
    // Waiting for its disk, as SQLite's synchronous commits do.
    let postgres = livret_relay::testing::ThrowawayPostgres::start_durable();
    let database = postgres.database("throughput");
    let options = ["--store", database.as_str()];
    let on_postgres = measure("PostgreSQL", 1, &options, dossiers, per_client, rounds);
    let database = postgres.database("throughput3");
    let options = ["--store", database.as_str()];
    let three = measure("PostgreSQL", 3, &options, dossiers, per_client, rounds);
    drop(postgres);

    println!("\n{clients} clients, {dossiers} dossiers; keystroke A → B over {rounds} edits:");
    println!(
        "  store        nodes   envelopes/s   × SQLite   × goal (20,000/s)   relay CPU s   \
         p50 ms   p99 ms   p99 / 15 ms"
    );
    let mut report = serde_json::Map::new();
    for (name, m) in [
        ("SQLite", &sqlite),
        ("PostgreSQL", &on_postgres),
        ("PostgreSQL", &three),
    ] {
        println!(
            "  {name:<11} {:>6} {:>13.0} {:>10.2} {:>19.2} {:>13.2} {:>8.2} {:>8.2} {:>13.2}",
            m.nodes,
            m.rate(),
            m.rate() / sqlite.rate(),
            m.rate() / 20_000.0,
            m.relay_cpu,
            m.latency_ms(0.5),
            m.latency_ms(0.99),
            m.latency_ms(0.99) / 15.0,
        );
        report.insert(
            format!("{}_{}_node", name.to_lowercase(), m.nodes),
            serde_json::json!({
                "nodes": m.nodes,
                "keystroke_p50_ms": m.latency_ms(0.5),
                "keystroke_p99_ms": m.latency_ms(0.99),
                "clients": clients,
                "dossiers": dossiers,
                "envelopes": m.envelopes,
                "average_envelope_bytes": m.average_bytes,
                "seconds": m.seconds,
                "envelopes_per_second": m.rate(),
                "ratio_to_sqlite": m.rate() / sqlite.rate(),
                "goal_ratio": m.rate() / 20_000.0,
                "relay_cpu_seconds": m.relay_cpu,
                "load_generator_cpu_seconds": m.load_cpu,
            }),
        );
    }
    support::write_report("throughput", &serde_json::Value::Object(report));
}

/// One run of the load against `nodes` fresh relays started with `options` (on one
/// database when there are several), then `rounds` keystrokes from a device on the first
/// node to one on the last.
fn measure(
    store: &str,
    nodes: usize,
    options: &[&str],
    dossiers: usize,
    per_client: usize,
    rounds: usize,
) -> Measured {
    let clients = dossiers * MEMBERS;
    println!("\n== {store}, {nodes} node(s)");
    let t = Instant::now();
    let plan = prepare(dossiers, per_client);
    let total: usize = plan
        .iter()
        .map(|d| d.members.iter().map(|m| m.1.len()).sum::<usize>())
        .sum();
    let bytes: usize = plan
        .iter()
        .flat_map(|d| d.members.iter().flat_map(|m| m.1.iter().map(Vec::len)))
        .sum();
    println!(
        "prepared {dossiers} dossiers × {MEMBERS} members, {total} sealed envelopes \
         ({} B on average) in {:.1} s",
        bytes / total,
        t.elapsed().as_secs_f64()
    );

    let data = std::env::temp_dir().join(format!("livret-throughput-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let relays: Vec<_> = (0..nodes)
        .map(|n| {
            let dir = data.join(format!("node-{n}"));
            std::fs::create_dir_all(&dir).expect("data dir");
            start_relay_with(&dir, options)
        })
        .collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");

    let addrs: Vec<std::net::SocketAddr> = relays
        .iter()
        .map(|r| r.addr.parse().expect("relay address"))
        .collect();
    // Client `i` on node `i % nodes`: each dossier's members spread over every node.
    let node_of = |i: usize| addrs[i % addrs.len()];
    let relay_addr = addrs[0];
    let report = runtime.block_on(async {
        // Register every dossier's membership, then connect and subscribe every member.
        for d in &plan {
            let mut ws = connect(relay_addr, support::many::source(0), &d.members[0].0).await;
            send(
                &mut ws,
                &ClientMsg::Create {
                    entry: d.log[0].to_bytes(),
                },
            )
            .await;
            assert!(matches!(
                recv(&mut ws).await,
                ServerMsg::MembershipOk { .. }
            ));
            for e in &d.log[1..] {
                send(
                    &mut ws,
                    &ClientMsg::Membership {
                        dossier: d.id,
                        entry: e.to_bytes(),
                    },
                )
                .await;
                assert!(matches!(
                    recv(&mut ws).await,
                    ServerMsg::MembershipOk { .. }
                ));
            }
        }
        for d in &plan {
            let mut ws = connect(relay_addr, support::many::source(0), &d.members[0].0).await;
            send(
                &mut ws,
                &ClientMsg::Push {
                    envelope: d.initial.clone(),
                },
            )
            .await;
            assert!(matches!(recv(&mut ws).await, ServerMsg::Ack { .. }));
        }
        let start = Arc::new(tokio::sync::Barrier::new(clients + 1));
        let mut tasks = Vec::with_capacity(clients);
        for d in plan {
            let expect_received = (MEMBERS - 1) * per_client;
            for (device, envelopes) in d.members {
                let i = tasks.len();
                let mut ws = connect(node_of(i), support::many::source(i), &device).await;
                send(
                    &mut ws,
                    &ClientMsg::Subscribe {
                        dossier: d.id,
                        since: Vec::new(),
                    },
                )
                .await;
                assert!(matches!(
                    recv(&mut ws).await,
                    ServerMsg::Log { complete: true, .. }
                ));
                tasks.push(tokio::spawn(client(
                    ws,
                    envelopes,
                    expect_received,
                    start.clone(),
                )));
            }
        }
        println!("{clients} clients connected and subscribed");
        let relays_cpu = || {
            relays
                .iter()
                .map(|r| cpu_seconds(r.child.id()))
                .sum::<f64>()
        };
        let relay_cpu = relays_cpu();
        let me_cpu = cpu_seconds(std::process::id());
        start.wait().await;
        let t = Instant::now();
        let mut acks = 0;
        let mut received = 0;
        for task in tasks {
            let seen = task.await.expect("client finished");
            acks += seen.acks;
            received += seen.received;
        }
        let elapsed = t.elapsed();
        let relay_cpu = relays_cpu() - relay_cpu;
        let me_cpu = cpu_seconds(std::process::id()) - me_cpu;
        assert_eq!(acks, total, "every push acknowledged");
        assert_eq!(
            received,
            total * (MEMBERS - 1),
            "every envelope fanned out to nine members"
        );
        (elapsed, relay_cpu, me_cpu)
    });
    let (elapsed, relay_cpu, load_cpu) = report;
    let first = &relays[0].addr;
    let last = &relays[relays.len() - 1].addr;
    let mut latencies = support::keystroke_latencies(first, last, rounds);
    latencies.sort();
    let measured = Measured {
        nodes,
        latencies,
        envelopes: total,
        average_bytes: bytes / total,
        seconds: elapsed.as_secs_f64(),
        relay_cpu,
        load_cpu,
    };
    println!(
        "{total} envelopes durable and delivered to all {} co-members in {:.2} s: \
         {:.0} envelopes/s, {:.0} deliveries/s; CPU relay {relay_cpu:.2} s, load generator \
         {load_cpu:.2} s",
        MEMBERS - 1,
        measured.seconds,
        measured.rate(),
        measured.rate() * (MEMBERS - 1) as f64
    );
    drop(relays);
    let _ = std::fs::remove_dir_all(&data);
    measured
}

/// The soft limit on open files for this process (the relay inherits it).
fn fd_limit() -> u64 {
    std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|l| {
            l.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3).map(str::to_string))
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(u64::MAX)
}
