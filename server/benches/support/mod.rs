//! What the benchmarks share: a real `livret serve` process on loopback, and where results go.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

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
    let mut child = Command::new(env!("CARGO_BIN_EXE_livret"))
        .args(["serve", "--addr", "127.0.0.1:0", "--data"])
        .arg(data)
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
