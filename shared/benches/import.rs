//! Référentiel import speed: every fixture (texts, PDFs, RNCP XML), measured side by side.
//!
//! `cargo bench -p livret-shared --features pdf --bench import`
//!
//! Goal (issue: foundation): importing all fixtures takes under 1 s in release. Prints a
//! table and the ratios, and writes `target/bench/import.json`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use livret_shared::referentiel;

const BUDGET: Duration = Duration::from_secs(1);

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/referentiels");
    let mut files = Vec::new();
    for dir in [
        root.clone(),
        root.join("pdf"),
        root.join("tables"),
        root.join("tables/chromium"),
        root.join("rncp"),
    ] {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file() && p.extension().is_none_or(|x| x != "py"))
            .collect();
        entries.sort();
        for path in entries {
            let name = relative(&root, &path);
            files.push((name, std::fs::read(&path).unwrap()));
        }
    }
    files
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root).unwrap().display().to_string()
}

/// Median of `runs` timings of `f`, after one warm-up run.
fn median(runs: usize, mut f: impl FnMut()) -> Duration {
    f();
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    // `cargo bench` passes `--bench`; any other argument filters nothing here.
    let files = fixtures();
    let runs = 15;
    println!("référentiel import — median of {runs} runs per file (release)\n");
    println!("{:<72} {:>10} {:>12}", "fixture", "KiB", "ms");
    let mut rows = Vec::new();
    for (name, bytes) in &files {
        let t = median(runs, || {
            let imports =
                referentiel::import_bytes(std::hint::black_box(bytes)).expect("fixture imports");
            std::hint::black_box(imports);
        });
        println!(
            "{:<72} {:>10.1} {:>12.3}",
            name,
            bytes.len() as f64 / 1024.0,
            ms(t)
        );
        rows.push((name.clone(), bytes.len(), t));
    }

    let all = median(5, || {
        for (_, bytes) in &files {
            std::hint::black_box(referentiel::import_bytes(bytes).unwrap());
        }
    });
    println!(
        "\nall {} fixtures, one after the other: {:.1} ms",
        files.len(),
        ms(all)
    );
    println!(
        "ratio to the 1 s budget: {:.3} ({})",
        all.as_secs_f64() / BUDGET.as_secs_f64(),
        if all < BUDGET {
            "goal met"
        } else {
            "GOAL MISSED"
        }
    );

    // Side by side: the cost of reading a PDF relative to reading its text.
    println!("\nPDF vs text of the same document:");
    let mut ratios = Vec::new();
    for (name, _, t_text) in rows
        .iter()
        .filter(|(n, _, _)| n.ends_with(".txt") && !n.contains('/'))
    {
        let stem = name.trim_end_matches(".txt");
        if let Some((_, _, t_pdf)) = rows
            .iter()
            .find(|(n, _, _)| *n == format!("pdf/{stem}.pdf"))
        {
            let ratio = t_pdf.as_secs_f64() / t_text.as_secs_f64();
            println!(
                "  {stem}: {ratio:.1}× ({:.2} ms vs {:.2} ms)",
                ms(*t_pdf),
                ms(*t_text)
            );
            ratios.push((stem.to_string(), ratio));
        }
    }

    // Side by side: what reading a ruled table's cells by position (`layout`) adds to
    // extracting the same PDF's flowing text.
    println!("\ntable-layout PDFs, text for the reader: by cells vs flowing text only:");
    let mut layout = Vec::new();
    for (name, bytes) in files.iter().filter(|(n, _)| n.starts_with("tables/")) {
        let by_cells = median(runs, || {
            std::hint::black_box(referentiel::pdf_text(bytes).unwrap());
        });
        let flowing = median(runs, || {
            std::hint::black_box(referentiel::pdf_flowing_text(bytes).unwrap());
        });
        let ratio = by_cells.as_secs_f64() / flowing.as_secs_f64();
        println!(
            "  {name}: {ratio:.2}× ({:.2} ms vs {:.2} ms)",
            ms(by_cells),
            ms(flowing)
        );
        layout.push((name.clone(), ratio));
    }

    let json = serde_json::json!({
        "benchmark": "referentiel_import",
        "runs_per_file": runs,
        "files": rows.iter().map(|(n, b, t)| serde_json::json!({"fixture": n, "bytes": b, "median_ms": ms(*t)})).collect::<Vec<_>>(),
        "all_fixtures_ms": ms(all),
        "budget_ms": ms(BUDGET),
        "ratio_to_budget": all.as_secs_f64() / BUDGET.as_secs_f64(),
        "pdf_over_text": ratios.iter().map(|(n, r)| serde_json::json!({"document": n, "ratio": r})).collect::<Vec<_>>(),
        "by_cells_over_flowing": layout.iter().map(|(n, r)| serde_json::json!({"document": n, "ratio": r})).collect::<Vec<_>>(),
    });
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(
        out.join("import.json"),
        serde_json::to_string_pretty(&json).unwrap(),
    )
    .unwrap();
    println!("\nwrote target/bench/import.json");
}
