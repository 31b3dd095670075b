//! Livret 2 PDF export of a large dossier: 50 fiches and 100 MB of annexes (16 PDFs of
//! 5 MB with three scanned pages each, 10 PNG photos of 2 MB), time and peak memory.
//!
//! `cargo bench -p livret-shared --features pdf-export --bench pdf_export`
//!
//! Goal (issue 7): the export does not exhaust memory. Measured side by side in one run:
//! - streamed: each annexe handed over when wanted and dropped after (the CLI reading
//!   files, the app decrypting one annexe at a time), the PDF written to a file;
//! - in Chunks: the same, the PDF kept in memory in 1 MiB chunks (the app, which hands
//!   them to the browser as the parts of a Blob);
//! - in a Vec: the same, the PDF in one growing `Vec`;
//! - all at once: every annexe held in memory before the export starts, the PDF in a `Vec`
//!   (what a simple "load everything, then lay out" implementation holds).
//!
//! Peak memory is the heap's high-water mark, counted by this binary's allocator. Prints a
//! table and the ratios, and writes `target/bench/pdf_export.json`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use livret_shared::export::{AnnexeJson, DossierJson, FieldValue};
use livret_shared::pdf_export::{Chunks, FontFiles, LivretPdf};
use sha2::Digest;

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        unsafe { System.dealloc(p, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const FICHES: usize = 50;
const PDF_ANNEXES: usize = 16;
const PDF_BYTES: usize = 5 << 20;
const PNG_ANNEXES: usize = 10;
const PNG_BYTES: usize = 2 << 20;

/// Deterministic noise: scanned pages and photos compress badly, like these bytes.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// A PDF of three pages, each showing one JPEG-coded scan (the bytes are never decoded by
/// the export, which copies streams as they are).
fn scanned_pdf(seed: u64) -> Vec<u8> {
    let scan = PDF_BYTES / 3;
    let mut objects: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R 6 0 R 9 0 R] /Count 3 /MediaBox [0 0 595 842] >>".to_vec(),
    ];
    for page in 0..3u64 {
        let first = 3 + page * 3;
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /Resources << /XObject << /Scan {} 0 R >> >> /Contents {} 0 R >>",
                first + 1,
                first + 2
            )
            .into_bytes(),
        );
        let mut image = format!(
            "<< /Type /XObject /Subtype /Image /Width 1240 /Height 1754 /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode /Length {scan} >>\nstream\n"
        )
        .into_bytes();
        image.extend(noise(seed * 31 + page, scan));
        image.extend_from_slice(b"\nendstream");
        objects.push(image);
        let content = b"q 595 0 0 842 0 0 cm /Scan Do Q";
        let mut stream = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
        stream.extend_from_slice(content);
        stream.extend_from_slice(b"\nendstream");
        objects.push(stream);
    }
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n", i + 1).into_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).into_bytes());
    for o in offsets {
        out.extend(format!("{o:010} 00000 n \n").into_bytes());
    }
    out.extend(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .into_bytes(),
    );
    out
}

/// An RGB PNG whose rows are noise (stored, not compressed: a photo compresses little).
fn photo_png(seed: u64) -> Vec<u8> {
    let width = 1024usize;
    let height = PNG_BYTES / (width * 3 + 1);
    let mut rows = Vec::with_capacity(height * (width * 3 + 1));
    let pixels = noise(seed, width * 3 * height);
    for row in pixels.chunks(width * 3) {
        rows.push(0);
        rows.extend_from_slice(row);
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::none());
    z.write_all(&rows).unwrap();
    let data = z.finish().unwrap();
    let chunk = |out: &mut Vec<u8>, kind: &[u8], body: &[u8]| {
        out.extend((body.len() as u32).to_be_bytes());
        out.extend_from_slice(kind);
        out.extend_from_slice(body);
        out.extend([0; 4]);
    };
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = (width as u32).to_be_bytes().to_vec();
    header.extend((height as u32).to_be_bytes());
    header.extend([8, 2, 0, 0, 0]);
    chunk(&mut png, b"IHDR", &header);
    chunk(&mut png, b"IDAT", &data);
    chunk(&mut png, b"IEND", &[]);
    png
}

/// The annexe numbered `n`'s file, made when asked (as a file read from disk would be).
fn annexe_file(n: u32) -> Vec<u8> {
    if (n as usize) <= PDF_ANNEXES {
        scanned_pdf(u64::from(n))
    } else {
        photo_png(u64::from(n))
    }
}

fn dossier() -> DossierJson {
    let bytes = std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../fixtures/dossiers/exemple-developpeuse-ia.json"),
    )
    .unwrap();
    let mut json = livret_shared::export::parse(&bytes).unwrap();
    let sample = json.fiches.clone();
    let total = (PDF_ANNEXES + PNG_ANNEXES) as u32;
    json.annexes = (1..=total)
        .map(|n| {
            let file = annexe_file(n);
            let pdf = (n as usize) <= PDF_ANNEXES;
            AnnexeJson {
                numero: n,
                titre: format!("Pièce {n}"),
                fichier: format!("piece-{n}.{}", if pdf { "pdf" } else { "png" }),
                media_type: if pdf { "application/pdf" } else { "image/png" }.into(),
                taille: file.len() as u64,
                empreinte: hex::encode(sha2::Sha256::digest(&file)),
            }
        })
        .collect();
    json.fiches = (0..FICHES)
        .map(|i| {
            let mut f = sample[i % sample.len()].clone();
            f.champs.insert(
                "preuves".into(),
                FieldValue::List(vec![(i as u32 % total + 1).to_string()]),
            );
            f
        })
        .collect();
    json
}

fn fonts() -> FontFiles {
    FontFiles {
        regular: include_bytes!("../../app/fonts/DejaVuSans.ttf").to_vec(),
        bold: include_bytes!("../../app/fonts/DejaVuSans-Bold.ttf").to_vec(),
    }
}

struct Run {
    mode: &'static str,
    time: Duration,
    peak: usize,
    pdf_bytes: u64,
}

/// One export; `all_at_once`: every annexe made before the export starts.
fn run<W: Write>(mode: &'static str, json: &DossierJson, out: W, all_at_once: bool) -> (Run, W) {
    let base = CURRENT.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let start = Instant::now();
    let held: Vec<Vec<u8>> = if all_at_once {
        json.annexes.iter().map(|a| annexe_file(a.numero)).collect()
    } else {
        Vec::new()
    };
    let mut pdf = LivretPdf::begin(json, fonts(), out, false).unwrap();
    let mut i = 0;
    while let Some(next) = pdf.next_annexe().cloned() {
        if all_at_once {
            pdf.add_annexe(Some(&held[i])).unwrap();
        } else {
            let file = annexe_file(next.numero);
            pdf.add_annexe(Some(&file)).unwrap();
        }
        i += 1;
    }
    assert!(pdf.notices().is_empty(), "{:?}", pdf.notices());
    let mut out = pdf.finish().unwrap();
    out.flush().unwrap();
    let time = start.elapsed();
    drop(held);
    let peak = PEAK.load(Ordering::Relaxed) - base;
    (
        Run {
            mode,
            time,
            peak,
            pdf_bytes: 0,
        },
        out,
    )
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / f64::from(1 << 20)
}

fn main() {
    let json = dossier();
    let annexes: u64 = json.annexes.iter().map(|a| a.taille).sum();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("livret-50-fiches.pdf");

    let file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let (mut streamed, _) = run("streamed, to a file", &json, file, false);
    streamed.pdf_bytes = std::fs::metadata(&path).unwrap().len();
    let (mut memory, bytes) = run("streamed, PDF in a Vec", &json, Vec::new(), false);
    memory.pdf_bytes = bytes.len() as u64;
    drop(bytes);
    let (mut chunked, bytes) = run("streamed, PDF in Chunks", &json, Chunks::default(), false);
    chunked.pdf_bytes = bytes.len() as u64;
    drop(bytes);
    let (mut naive, bytes) = run("all annexes held at once", &json, Vec::new(), true);
    naive.pdf_bytes = bytes.len() as u64;
    drop(bytes);
    let pages = lopdf::Document::load(&path).unwrap().get_pages().len();

    println!(
        "{FICHES} fiches, {} annexes, {:.0} MB of annexes; {pages} pages",
        json.annexes.len(),
        mb(annexes)
    );
    println!(
        "{:<28} {:>9} {:>9} {:>12} {:>10}",
        "mode", "time ms", "MB/s", "peak heap MB", "PDF MB"
    );
    let runs = [&streamed, &chunked, &memory, &naive];
    for r in runs {
        println!(
            "{:<28} {:>9.0} {:>9.0} {:>12.1} {:>10.1}",
            r.mode,
            r.time.as_secs_f64() * 1000.0,
            mb(annexes) / r.time.as_secs_f64(),
            mb(r.peak as u64),
            mb(r.pdf_bytes)
        );
    }
    let ratio = |a: &Run, b: &Run| a.peak as f64 / b.peak as f64;
    println!(
        "peak heap: streamed to a file = {:.2}× all-at-once; in Chunks (the app) = {:.2}×; \
         in a Vec = {:.2}×; streamed to a file = {:.2}× the annexes' size",
        ratio(&streamed, &naive),
        ratio(&chunked, &naive),
        ratio(&memory, &naive),
        streamed.peak as f64 / annexes as f64
    );
    let report = serde_json::json!({
        "fiches": FICHES,
        "annexes": json.annexes.len(),
        "annexe_bytes": annexes,
        "pages": pages,
        "runs": runs.iter().map(|r| serde_json::json!({
            "mode": r.mode,
            "ms": r.time.as_secs_f64() * 1000.0,
            "peak_heap_bytes": r.peak,
            "pdf_bytes": r.pdf_bytes,
        })).collect::<Vec<_>>(),
        "peak_streamed_over_all_at_once": ratio(&streamed, &naive),
        "peak_chunks_over_all_at_once": ratio(&chunked, &naive),
        "peak_vec_over_all_at_once": ratio(&memory, &naive),
    });
    std::fs::write(
        dir.join("pdf_export.json"),
        serde_json::to_string_pretty(&report).unwrap(),
    )
    .unwrap();
    std::fs::remove_file(&path).unwrap();
    println!("\nwrote target/bench/pdf_export.json");
}
