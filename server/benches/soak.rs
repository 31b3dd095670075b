//! A soak: 200 devices typing for 30 minutes against a real `livret serve` process on
//! loopback, the relay's memory sampled every 30 seconds. The relay must hold steady: what
//! it keeps per connection and per dossier is bounded, and the envelopes go to disk.
//!
//! `cargo bench -p livret-cli --bench soak -- [--minutes 30] [--clients 200]
//! [--session-seconds 300] [--relay HOST:PORT]` (`--relay`: a relay started by hand, under
//! a profiler say; its memory is read from /proc all the same).
//!
//! Every client is a member device of a dossier of ten (the candidate and nine advisors)
//! with its own replica: about once a second it types a few characters into its own fiche,
//! seals them and pushes the envelope, while reading acknowledgements and its co-members'
//! envelopes. Every five minutes or so each client drops its connection and reconnects from
//! what it has (a laptop waking up): it catches up on what it missed and sends again what
//! was not acknowledged. Clients connect from 127.0.0.2 onwards, forty per address, under
//! the relay's per-address limit.
//!
//! At the end every client must hold an acknowledgement for each envelope it sealed and
//! every envelope its co-members sealed; memory is read from /proc (VmRSS). The verdict
//! compares the relay's resident memory over the last fifth of the run with its level after
//! the first fifth (warm-up: caches and SQLite's page cache filling). Clients do not apply
//! what they receive (the soak is about the relay; the replicas' cost is in `sync`).
//!
//! Writes `target/bench/soak.json`.

mod support;
use support::many::{connect, recv, send};
use support::start_relay;

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use livret_shared::envelope::{DossierId, Envelope, random_nonce};
use livret_shared::keys::{DeviceSecret, MemberKey};
use livret_shared::membership::SignedEntry;
use livret_shared::protocol::{self, ClientMsg, ServerMsg};
use livret_shared::sync::Replica;
use tokio_tungstenite::tungstenite::Message;

const MEMBERS: usize = 10;

/// Counters every client adds to, read by the sampler.
#[derive(Default)]
struct Totals {
    sealed: AtomicU64,
    acked: AtomicU64,
    received: AtomicU64,
    /// Envelopes of others received again (already had): what catch-ups sent for nothing.
    received_again: AtomicU64,
    reconnects: AtomicU64,
}

/// One device: its keys, replica and what it has seen of its co-members.
struct Device {
    secret: DeviceSecret,
    replica: Replica,
    field: String,
    typed: usize,
    /// Counter of the last envelope this device sealed.
    last_sealed: u64,
    /// Highest counter received per co-member.
    seen: BTreeMap<MemberKey, u64>,
    /// A small generator for the typing rhythm (no two clients in step).
    rng: u64,
}

impl Device {
    fn next_random(&mut self) -> u64 {
        // xorshift64: enough to spread the clients' timing.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }

    /// Types one to six characters and seals them.
    fn type_and_seal(&mut self) -> Vec<u8> {
        const TEXT: &str = "J'ai accompagné l'équipe dans la refonte du processus de facturation. ";
        let chars: Vec<char> = TEXT.chars().collect();
        let n = 1 + (self.next_random() % 6) as usize;
        for _ in 0..n {
            let mut buf = [0u8; 4];
            let ch = chars[self.typed % chars.len()].encode_utf8(&mut buf);
            self.replica
                .dossier()
                .splice(&self.field, self.typed, 0, ch)
                .expect("type");
            self.typed += 1;
        }
        let sealed = self
            .replica
            .flush(&self.secret, random_nonce())
            .expect("seal")
            .expect("an envelope");
        self.last_sealed = Envelope::parse(&sealed).expect("sealed").header.counter;
        sealed
    }

    /// What to ask the relay for on reconnecting: what this device has of each writer, the
    /// higher of what it counted and what its replica holds. (The replica is not given what
    /// arrives, so it still says "counter 1" of the owner's first envelope: letting that
    /// override the count asked the owner's whole history again at every reconnection, a
    /// catch-up growing with the run that passed for the relay's memory growing.)
    fn since(&self) -> Vec<(MemberKey, u64)> {
        let mut since: BTreeMap<MemberKey, u64> = self.seen.clone();
        for (writer, counter) in self.replica.since() {
            let had = since.entry(writer).or_default();
            *had = (*had).max(counter);
        }
        since.into_iter().collect()
    }

    /// Takes one message from the relay.
    fn take(&mut self, msg: ServerMsg, totals: &Totals) {
        match msg {
            ServerMsg::Ack { counter, .. } if self.replica.pending() > 0 => {
                let before = self.replica.pending();
                self.replica.acknowledged(counter);
                totals
                    .acked
                    .fetch_add((before - self.replica.pending()) as u64, Ordering::Relaxed);
            }
            ServerMsg::Log { envelopes, .. } => {
                let me = self.replica.me();
                for bytes in envelopes {
                    let header = Envelope::parse(&bytes).expect("an envelope").header;
                    if header.writer == me {
                        continue;
                    }
                    let seen = self.seen.entry(header.writer).or_default();
                    if header.counter > *seen {
                        *seen = header.counter;
                        totals.received.fetch_add(1, Ordering::Relaxed);
                    } else {
                        totals.received_again.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            ServerMsg::Rejected { reason, detail } => {
                panic!("refused: {} ({detail})", reason.as_str())
            }
            _ => {}
        }
    }
}

/// A client's life: sessions of about five minutes until `typing_ends`, then one last
/// session that waits for every acknowledgement and every co-member's last envelope.
/// What the clients of one dossier share.
struct Dossier {
    relay: SocketAddr,
    id: DossierId,
    typing_ends: Instant,
    session_seconds: u64,
    /// Each member's last counter, published when it stops typing.
    last_counters: tokio::sync::Mutex<BTreeMap<MemberKey, u64>>,
    totals: Arc<Totals>,
}

async fn client(dossier: Arc<Dossier>, source: Ipv4Addr, mut device: Device) -> Device {
    loop {
        let Dossier {
            relay,
            id,
            typing_ends,
            session_seconds,
            ref last_counters,
            ref totals,
        } = *dossier;
        let mut ws = connect(relay, source, &device.secret).await;
        send(
            &mut ws,
            &ClientMsg::Subscribe {
                dossier: id,
                since: device.since(),
            },
        )
        .await;
        // What was sealed and not acknowledged goes again (the relay acknowledges a copy).
        for envelope in device.replica.outbox() {
            send(&mut ws, &ClientMsg::Push { envelope }).await;
        }
        let typing = Instant::now() < typing_ends;
        let session = Duration::from_secs(
            session_seconds * 4 / 5 + device.next_random() % (session_seconds * 2 / 5).max(1),
        );
        let session_ends = (Instant::now() + session).min(typing_ends);
        let (mut sink, mut stream) = ws.split();
        if typing {
            let mut next_key =
                Instant::now() + Duration::from_millis(500 + device.next_random() % 1000);
            loop {
                tokio::select! {
                    _ = tokio::time::sleep_until(next_key.into()) => {
                        if Instant::now() >= session_ends {
                            break;
                        }
                        let envelope = device.type_and_seal();
                        totals.sealed.fetch_add(1, Ordering::Relaxed);
                        sink.send(Message::Binary(
                            protocol::encode(&ClientMsg::Push { envelope }).into(),
                        ))
                        .await
                        .expect("push");
                        next_key += Duration::from_millis(500 + device.next_random() % 1000);
                    }
                    frame = stream.next() => {
                        let Message::Binary(b) = frame.expect("relay open").expect("frame") else {
                            continue;
                        };
                        device.take(protocol::decode(&b).expect("server message"), totals);
                    }
                }
            }
            if Instant::now() < typing_ends {
                let _ = sink.close().await;
                totals.reconnects.fetch_add(1, Ordering::Relaxed);
                continue;
            }
        }
        // Typing is over: publish what this device sealed, then drain on the same
        // connection until everything is in (bounded: a client that never completes is
        // reported, not waited for).
        last_counters
            .lock()
            .await
            .insert(device.replica.me(), device.last_sealed);
        let drain_ends = Instant::now() + Duration::from_secs(120);
        while Instant::now() < drain_ends {
            let complete = {
                let last = last_counters.lock().await;
                device.replica.pending() == 0
                    && last.len() == MEMBERS
                    && last
                        .iter()
                        .filter(|(w, _)| **w != device.replica.me())
                        .all(|(w, c)| device.seen.get(w).copied().unwrap_or(0) >= *c)
            };
            if complete {
                break;
            }
            if let Ok(Some(frame)) =
                tokio::time::timeout(Duration::from_millis(200), stream.next()).await
                && let Message::Binary(b) = frame.expect("frame")
            {
                device.take(protocol::decode(&b).expect("server message"), totals);
            }
        }
        let _ = sink.close().await;
        return device;
    }
}

/// The process listening on a loopback port (a relay started by hand), from /proc.
fn listening_pid(port: u16) -> Option<u32> {
    let hex_port = format!(":{port:04X}");
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    // Listening sockets (state 0A) on that port: their inode.
    let inode = table.lines().skip(1).find_map(|l| {
        let fields: Vec<&str> = l.split_whitespace().collect();
        (fields.get(1)?.ends_with(&hex_port) && fields.get(3) == Some(&"0A"))
            .then(|| fields.get(9).map(|s| s.to_string()))
            .flatten()
    })?;
    let target = format!("socket:[{inode}]");
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|p| {
        let pid: u32 = p.file_name().to_str()?.parse().ok()?;
        std::fs::read_dir(p.path().join("fd"))
            .ok()?
            .flatten()
            .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|l| l.to_string_lossy() == target))
            .then_some(pid)
    })
}

/// Resident and peak memory of a process, in KiB (Linux /proc).
fn memory_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// User + system CPU seconds a process has used (Linux /proc).
fn cpu_seconds(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    let rest = &stat[stat.rfind(')').map_or(0, |i| i + 2)..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 =
        fields[11].parse::<f64>().unwrap_or(0.0) + fields[12].parse::<f64>().unwrap_or(0.0);
    ticks / 100.0
}

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A dossier of ten laid out by its owner (`support::laid_out_dossier`), as soak devices.
fn prepare(seed: u64) -> (DossierId, Vec<SignedEntry>, Vec<u8>, Vec<Device>) {
    let support::LaidOut {
        id,
        log,
        initial,
        members,
    } = support::laid_out_dossier(MEMBERS);
    let owner_key = members[0].0.signing_public();
    let devices = members
        .into_iter()
        .enumerate()
        .map(|(m, (secret, mut replica))| {
            if m == 0 {
                // Acknowledged before the clients start (pushed by `main`).
                replica.acknowledged(1);
            }
            Device {
                secret,
                replica,
                field: format!("fiches.{m}.contexte"),
                typed: 0,
                last_sealed: u64::from(m == 0),
                seen: BTreeMap::from([(owner_key, 1)]),
                rng: seed.wrapping_mul(6364136223846793005) + m as u64 + 1,
            }
        })
        .collect();
    (id, log, initial, devices)
}

fn main() {
    let minutes = arg("--minutes", 30);
    let clients = arg("--clients", 200) as usize;
    let session_seconds = arg("--session-seconds", 300);
    let dossiers = clients.div_ceil(MEMBERS);
    let clients = dossiers * MEMBERS;
    let data = std::env::temp_dir().join(format!("livret-soak-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data).expect("data dir");
    let args: Vec<String> = std::env::args().collect();
    let external = args
        .iter()
        .position(|a| a == "--relay")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let relay = match &external {
        Some(_) => None,
        None => Some(start_relay(&data)),
    };
    let relay_addr: SocketAddr = external
        .clone()
        .unwrap_or_else(|| relay.as_ref().expect("started").addr.clone())
        .parse()
        .expect("relay address");
    let pid = match &relay {
        Some(r) => r.child.id(),
        None => listening_pid(relay_addr.port()).expect("the relay's process"),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let source = support::many::source;
    println!(
        "soak: {clients} clients in {dossiers} dossiers of {MEMBERS}, typing for {minutes} min"
    );

    let samples = runtime.block_on(async {
        let totals = Arc::new(Totals::default());
        let typing_ends = Instant::now() + Duration::from_secs(minutes * 60);
        let mut tasks = Vec::new();
        for d in 0..dossiers {
            let (id, log, initial, devices) = prepare(d as u64 + 1);
            let mut ws = connect(relay_addr, source(d * MEMBERS), &devices[0].secret).await;
            send(
                &mut ws,
                &ClientMsg::Create {
                    entry: log[0].to_bytes(),
                },
            )
            .await;
            assert!(matches!(
                recv(&mut ws).await,
                ServerMsg::MembershipOk { .. }
            ));
            for e in &log[1..] {
                let entry = e.to_bytes();
                send(&mut ws, &ClientMsg::Membership { dossier: id, entry }).await;
                assert!(matches!(
                    recv(&mut ws).await,
                    ServerMsg::MembershipOk { .. }
                ));
            }
            send(&mut ws, &ClientMsg::Push { envelope: initial }).await;
            assert!(matches!(recv(&mut ws).await, ServerMsg::Ack { .. }));
            let shared = Arc::new(Dossier {
                relay: relay_addr,
                id,
                typing_ends,
                session_seconds,
                last_counters: tokio::sync::Mutex::new(BTreeMap::new()),
                totals: totals.clone(),
            });
            for (m, device) in devices.into_iter().enumerate() {
                tasks.push(tokio::spawn(client(
                    shared.clone(),
                    source(d * MEMBERS + m),
                    device,
                )));
            }
        }
        // The sampler: a line every 30 s until every client is done.
        let started = Instant::now();
        let mut samples: Vec<serde_json::Value> = Vec::new();
        let mut tick = tokio::time::interval(Duration::from_secs(30));
        let all = futures_util::future::join_all(tasks);
        tokio::pin!(all);
        println!(
            "{:>6} {:>9} {:>9} {:>11} {:>10} {:>10} {:>8}",
            "min", "sealed", "acked", "delivered", "relay MiB", "peak MiB", "relay %"
        );
        let mut last_cpu = (cpu_seconds(pid), Instant::now());
        let devices = loop {
            tokio::select! {
                done = &mut all => break done,
                _ = tick.tick() => {
                    let (rss, peak) = memory_kib(pid);
                    let cpu = cpu_seconds(pid);
                    let share = 100.0 * (cpu - last_cpu.0) / last_cpu.1.elapsed().as_secs_f64();
                    last_cpu = (cpu, Instant::now());
                    let row = serde_json::json!({
                        "minute": started.elapsed().as_secs_f64() / 60.0,
                        "typing": Instant::now() < typing_ends,
                        "sealed": totals.sealed.load(Ordering::Relaxed),
                        "acked": totals.acked.load(Ordering::Relaxed),
                        "delivered": totals.received.load(Ordering::Relaxed),
                        "relay_rss_kib": rss,
                        "relay_peak_kib": peak,
                        "relay_cpu_percent": share,
                    });
                    println!(
                        "{:>6.1} {:>9} {:>9} {:>11} {:>10.1} {:>10.1} {:>8.0}",
                        row["minute"].as_f64().unwrap_or(0.0),
                        row["sealed"].as_u64().unwrap_or(0),
                        row["acked"].as_u64().unwrap_or(0),
                        row["delivered"].as_u64().unwrap_or(0),
                        rss as f64 / 1024.0,
                        peak as f64 / 1024.0,
                        share
                    );
                    samples.push(row);
                }
            }
        };
        let devices: Vec<Device> = devices.into_iter().map(|d| d.expect("client")).collect();
        let unacked: usize = devices.iter().map(|d| d.replica.pending()).sum();
        (samples, totals, devices.len(), unacked)
    });
    let (samples, totals, finished, unacked) = samples;
    let sealed = totals.sealed.load(Ordering::Relaxed);
    let acked = totals.acked.load(Ordering::Relaxed);
    let delivered = totals.received.load(Ordering::Relaxed);
    let expected_deliveries = sealed * (MEMBERS as u64 - 1);
    // While typing only: the drain at the end is not the steady state.
    let rss: Vec<(f64, u64)> = samples
        .iter()
        .filter(|s| s["typing"].as_bool() == Some(true))
        .map(|s| {
            (
                s["minute"].as_f64().unwrap_or(0.0),
                s["relay_rss_kib"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    let typing_minutes = minutes as f64;
    let warm = rss
        .iter()
        .find(|(m, _)| *m >= typing_minutes / 5.0)
        .or(rss.last())
        .map_or(0, |(_, r)| *r);
    let late: Vec<u64> = rss
        .iter()
        .filter(|(m, _)| *m >= typing_minutes * 0.8)
        .map(|(_, r)| *r)
        .collect();
    let late_max = late
        .iter()
        .copied()
        .max()
        .or(rss.last().map(|(_, r)| *r))
        .unwrap_or(0);
    let ratio = late_max as f64 / warm.max(1) as f64;
    let (_, peak) = memory_kib(pid);
    let db_bytes: u64 = std::fs::read_dir(&data)
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0);
    println!(
        "\n{finished} clients finished; {sealed} envelopes sealed, {acked} acknowledged ({unacked} left unacknowledged)"
    );
    println!(
        "{delivered} deliveries of {expected_deliveries} expected ({:.4}×)",
        delivered as f64 / expected_deliveries.max(1) as f64
    );
    println!(
        "{} received again (catch-ups overlapping what a device had)",
        totals.received_again.load(Ordering::Relaxed)
    );
    println!(
        "{} reconnections; relay data {:.1} MiB on disk",
        totals.reconnects.load(Ordering::Relaxed),
        db_bytes as f64 / 1048576.0
    );
    println!(
        "relay memory: {:.1} MiB after warm-up (min {:.1}), at most {:.1} MiB over the last fifth → {ratio:.2}×; peak {:.1} MiB",
        warm as f64 / 1024.0,
        typing_minutes / 5.0,
        late_max as f64 / 1024.0,
        peak as f64 / 1024.0
    );
    let flat = ratio <= 1.25;
    let whole = acked == sealed && unacked == 0 && delivered == expected_deliveries;
    println!(
        "verdict: memory {}; {}",
        if flat { "flat" } else { "GROWING" },
        if whole {
            "every envelope acknowledged and delivered"
        } else {
            "ENVELOPES MISSING"
        }
    );
    drop(relay);
    let _ = std::fs::remove_dir_all(&data);
    support::write_report(
        "soak",
        &serde_json::json!({
            "clients": clients,
            "minutes": minutes,
            "sealed": sealed,
            "acknowledged": acked,
            "delivered": delivered,
            "expected_deliveries": expected_deliveries,
            "received_again": totals.received_again.load(Ordering::Relaxed),
            "reconnections": totals.reconnects.load(Ordering::Relaxed),
            "relay_rss_after_warmup_kib": warm,
            "relay_rss_last_fifth_max_kib": late_max,
            "growth_ratio": ratio,
            "relay_peak_kib": peak,
            "data_bytes": db_bytes,
            "samples": samples,
        }),
    );
    if !(flat && whole) {
        std::process::exit(1);
    }
}
