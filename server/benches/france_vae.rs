//! The hand-off to France VAE on the 100 MB benchmark dossier (issue 24), as a user runs
//! it: the `livret` binary exporting a JSON export and its annexes folder.
//!
//! `cargo bench -p livret-cli --bench france_vae`
//!
//! The dossier of the PDF benchmark (shared/benches/pdf_export.rs: 50 fiches, 16 PDFs of
//! three scanned pages, 10 photos of 2 MB), its scans and photos real images here (a 300 dpi
//! A4 page scanned in grey, photos in colour), since this export decodes them. Side by side
//! in one run: the whole livret (`--pdf`, every annexe as it is) and the France VAE hand-off
//! (`--france-vae`): time, the process's peak resident memory (its rusage), and the files
//! written. Writes `target/bench/france_vae.json`.

#[path = "support/mod.rs"]
mod bench_support;
// The tests' annexes and their noise; the heavy PDF is theirs only.
#[allow(dead_code)]
#[path = "../../tests/e2e/scans.rs"]
mod scans;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use livret_shared::export::{AnnexeJson, FieldValue};
use sha2::Digest;

const FICHES: usize = 50;
const PDF_ANNEXES: u32 = 16;
const PHOTOS: u32 = 10;

/// A colour photo of about 2 MB as PNG: smooth light with sensor noise.
fn photo(seed: u32) -> Vec<u8> {
    let (width, height) = (1100u32, 820u32);
    let mut x = seed | 1;
    let mut pixels = Vec::with_capacity((width * height * 3) as usize);
    for y in 0..height {
        for col in 0..width {
            for c in 0..3u32 {
                let light = (col * (80 + 40 * c) / width + y * 120 / height) as u8;
                pixels.push(light.saturating_add((scans::next(&mut x) % 24) as u8 + 40));
            }
        }
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(&pixels).unwrap();
    writer.finish().unwrap();
    out
}

/// Writes the dossier's JSON export and its annexes folder into `dir`.
fn make_dossier(dir: &Path) -> u64 {
    let annexes_dir = dir.join("annexes");
    std::fs::create_dir_all(&annexes_dir).unwrap();
    let sample = std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../fixtures/dossiers/exemple-developpeuse-ia.json"),
    )
    .unwrap();
    let mut json = livret_shared::export::parse(&sample).unwrap();
    // 300 dpi at quality 85: about 1.7 MB a page, as the PDF benchmark's scans.
    let pages: Vec<scans::Scan> = (1..=6)
        .map(|seed| scans::scanned_page(300, 85, seed))
        .collect();
    let mut annexes = Vec::new();
    let mut total = 0;
    for n in 1..=PDF_ANNEXES + PHOTOS {
        let (name, media, bytes) = if n <= PDF_ANNEXES {
            let at = (n as usize * 3) % pages.len();
            let three = [0, 1, 2].map(|k| pages[(at + k) % pages.len()].clone());
            (
                format!("piece-{n}.pdf"),
                "application/pdf",
                scans::scanned_pdf(&three),
            )
        } else {
            (format!("photo-{n}.png"), "image/png", photo(n))
        };
        std::fs::write(annexes_dir.join(&name), &bytes).unwrap();
        total += bytes.len() as u64;
        annexes.push(AnnexeJson {
            numero: n,
            titre: format!("Pièce {n}"),
            fichier: name,
            media_type: media.into(),
            taille: bytes.len() as u64,
            empreinte: hex::encode(sha2::Sha256::digest(&bytes)),
        });
    }
    json.annexes = annexes;
    let sample_fiches = json.fiches.clone();
    let count = PDF_ANNEXES + PHOTOS;
    json.fiches = (0..FICHES)
        .map(|i| {
            let mut f = sample_fiches[i % sample_fiches.len()].clone();
            f.champs.insert(
                "preuves".into(),
                FieldValue::List(vec![(i as u32 % count + 1).to_string()]),
            );
            f
        })
        .collect();
    std::fs::write(
        dir.join("dossier.json"),
        serde_json::to_vec_pretty(&json).unwrap(),
    )
    .unwrap();
    total
}

struct Run {
    time: Duration,
    peak_rss: u64,
    files: Vec<(String, u64)>,
    stdout: String,
}

/// Runs `livret` with `args`, measuring its time and peak resident memory.
#[expect(
    clippy::zombie_processes,
    reason = "waited for with wait4, which also gives its rusage"
)]
fn run(args: &[&str], out: &Path) -> Run {
    let start = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_livret"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let stdout = child.stdout.unwrap();
    let text = std::io::read_to_string(stdout).unwrap();
    let mut status = 0;
    // SAFETY: rusage is plain data, filled by the kernel for this child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid);
    assert_eq!(status, 0, "livret {args:?} failed");
    let time = start.elapsed();
    let files = if out.is_dir() {
        let mut files: Vec<(String, u64)> = std::fs::read_dir(out)
            .unwrap()
            .flatten()
            .map(|e| {
                (
                    e.file_name().to_string_lossy().into_owned(),
                    e.metadata().unwrap().len(),
                )
            })
            .collect();
        files.sort();
        files
    } else {
        vec![(
            out.file_name().unwrap().to_string_lossy().into_owned(),
            std::fs::metadata(out).unwrap().len(),
        )]
    };
    Run {
        time,
        peak_rss: usage.ru_maxrss as u64 * 1024,
        files,
        stdout: text,
    }
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

fn main() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench/france-vae");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    println!("making the dossier (50 fiches, 16 scanned PDFs, 10 photos)…");
    let annexes = make_dossier(&dir);
    let json = dir.join("dossier.json");
    let json = json.to_str().unwrap();
    let pdf = dir.join("livret.pdf");
    let whole = run(&["export", json, "--pdf", pdf.to_str().unwrap()], &pdf);
    let out = dir.join("depot");
    let vae = run(
        &["export", json, "--france-vae", out.to_str().unwrap()],
        &out,
    );
    let whole_bytes: u64 = whole.files.iter().map(|(_, b)| b).sum();
    let vae_bytes: u64 = vae.files.iter().map(|(_, b)| b).sum();
    println!("\nannexes: {:.1} MB\n", mb(annexes));
    println!("| export | time | peak memory (RSS) | written |");
    println!("| --- | ---: | ---: | ---: |");
    for (name, r, bytes) in [
        ("whole livret (`--pdf`)", &whole, whole_bytes),
        ("France VAE (`--france-vae`)", &vae, vae_bytes),
    ] {
        println!(
            "| {name} | {:.1} s | {:.1} MB | {:.1} MB in {} file(s) |",
            r.time.as_secs_f64(),
            mb(r.peak_rss),
            mb(bytes),
            r.files.len()
        );
    }
    println!(
        "\nratios France VAE / whole: time {:.2}×, peak memory {:.2}×, bytes written {:.2}×",
        vae.time.as_secs_f64() / whole.time.as_secs_f64(),
        vae.peak_rss as f64 / whole.peak_rss as f64,
        vae_bytes as f64 / whole_bytes as f64
    );
    println!("\nFrance VAE files:");
    for (name, bytes) in &vae.files {
        println!("  {name}: {:.2} MB", mb(*bytes));
    }
    print!("{}", vae.stdout);
    bench_support::write_report(
        "france_vae",
        &serde_json::json!({
            "annexes_bytes": annexes,
            "whole": { "seconds": whole.time.as_secs_f64(), "peak_rss": whole.peak_rss,
                        "bytes": whole_bytes },
            "france_vae": { "seconds": vae.time.as_secs_f64(), "peak_rss": vae.peak_rss,
                             "files": vae.files },
        }),
    );
    let _ = std::fs::remove_dir_all(&dir);
}
