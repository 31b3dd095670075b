//! The sync spine's speed, measured side by side in one run.
//!
//! `cargo bench -p livret-cli --bench sync` (add `-- --quick` for a smaller history).
//!
//! 1. Cold open of a sealed dossier with a 200k-edit history (snapshot, as a late device gets
//!    it) vs automerge loading the same document's plain bytes. Goal ≤ 1.15×.
//! 2. Bytes the relay stores after compaction vs automerge `save()`. Goal ≤ 1.2×.
//! 3. An edit on device A visible on device B through a real relay process on loopback:
//!    p50 / p99. Goal p99 ≤ 15 ms.
//!
//! Writes `target/bench/sync.json`.

mod support;
use support::{history, start_relay};

use std::time::{Duration, Instant};

use livret_shared::envelope::random_nonce;
use livret_shared::keys::DeviceSecret;
use livret_shared::membership::{self, Role};
use livret_shared::sync::Replica;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let edits = if quick { 20_000 } else { 200_000 };
    let mut report = serde_json::Map::new();

    // 1 and 2: cold open and bytes after compaction.
    let t = Instant::now();
    let (owner, key, mut replica, envelopes, entry) = history(edits, 100);
    println!(
        "history: {edits} edits in {} sealed batches, built in {:.1} s",
        envelopes.len(),
        t.elapsed().as_secs_f64()
    );
    let plain = replica.dossier().save();
    let (snapshot, _) = replica.compact(&owner, random_nonce()).unwrap();
    let reader = DeviceSecret::generate();
    let add = membership::add(
        replica.membership(),
        &owner,
        &reader.id(),
        Role::Advisor,
        &key,
    )
    .unwrap();
    let log = vec![entry, add];

    let runs = if quick { 9 } else { 5 };
    let plain_load = median(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                let doc = automerge::AutoCommit::load(&plain).unwrap();
                std::hint::black_box(doc);
                t.elapsed()
            })
            .collect(),
    );
    let sealed_open = median(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                let mut r = Replica::join(&reader, log.clone()).unwrap();
                r.receive_snapshot(&snapshot).unwrap();
                std::hint::black_box(&mut r);
                t.elapsed()
            })
            .collect(),
    );
    let history_open = {
        let t = Instant::now();
        let mut r = Replica::join(&reader, log.clone()).unwrap();
        r.receive(&envelopes).unwrap();
        t.elapsed()
    };
    let open_ratio = sealed_open.as_secs_f64() / plain_load.as_secs_f64();
    println!("\ncold open ({edits} edits):");
    println!(
        "  automerge load of save() bytes:       {:>9.1} ms",
        ms(plain_load)
    );
    println!(
        "  sealed snapshot: verify+decrypt+load: {:>9.1} ms  → {open_ratio:.3}× (goal ≤ 1.15)",
        ms(sealed_open)
    );
    println!(
        "  whole sealed history, no snapshot:    {:>9.1} ms  ({:.1}×, one batched load)",
        ms(history_open),
        history_open.as_secs_f64() / plain_load.as_secs_f64()
    );

    let history_bytes: usize = envelopes.iter().map(Vec::len).sum();
    let bytes_ratio = snapshot.len() as f64 / plain.len() as f64;
    println!("\nbytes:");
    println!(
        "  automerge save():                     {:>9} B",
        plain.len()
    );
    println!(
        "  relay after compaction (snapshot):    {:>9} B  → {bytes_ratio:.3}× (goal ≤ 1.2)",
        snapshot.len()
    );
    println!(
        "  relay before compaction (history):    {:>9} B  ({:.2}×)",
        history_bytes,
        history_bytes as f64 / plain.len() as f64
    );
    report.insert("edits".into(), edits.into());
    report.insert("plain_load_ms".into(), ms(plain_load).into());
    report.insert("sealed_snapshot_open_ms".into(), ms(sealed_open).into());
    report.insert("cold_open_ratio".into(), open_ratio.into());
    report.insert("history_open_ms".into(), ms(history_open).into());
    report.insert("automerge_save_bytes".into(), plain.len().into());
    report.insert("snapshot_bytes".into(), snapshot.len().into());
    report.insert("bytes_ratio".into(), bytes_ratio.into());
    report.insert("history_bytes".into(), history_bytes.into());

    // 3: keystroke latency A → relay → B, real relay process on loopback.
    let data = std::env::temp_dir().join(format!("livret-bench-{}", std::process::id()));
    std::fs::create_dir_all(&data).unwrap();
    let relay = start_relay(&data);
    let rounds = if quick { 200 } else { 1000 };
    let mut latencies = support::keystroke_latencies(&relay.addr, &relay.addr, rounds);
    latencies.sort();
    let (p50, p99) = (percentile(&latencies, 0.5), percentile(&latencies, 0.99));
    println!("\nkeystroke A → relay (durable) → B on loopback, {rounds} edits:");
    println!(
        "  p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms → p99 / 15 ms goal = {:.2}",
        ms(p50),
        ms(p99),
        ms(*latencies.last().unwrap()),
        ms(p99) / 15.0
    );
    report.insert("latency_p50_ms".into(), ms(p50).into());
    report.insert("latency_p99_ms".into(), ms(p99).into());
    drop(relay);
    let _ = std::fs::remove_dir_all(&data);

    support::write_report("sync", &serde_json::Value::Object(report));
}
