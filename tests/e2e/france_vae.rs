//! The hand-off to France VAE end to end (issue 24): a dossier with large scanned annexes
//! on a real relay, exported by the CLI as the platform takes it — one dossier de
//! validation of at most 10 MB and at most 8 additional files of at most 10 MB — and a
//! dossier that cannot fit refused with its reasons, leaving nothing behind.

use std::path::Path;

use crate::support::{Relay, temp_dir};
use crate::sync::Device;

const MAX: u64 = 10_000_000;

/// A 200 dpi A4 page scanned in grey: lines of "text" on paper with grain, as a JPEG of
/// high quality (what a scanner or a phone app writes).
fn scanned_page(seed: u32) -> Vec<u8> {
    let (width, height) = (1654u16, 2339u16);
    let mut x = seed | 1;
    let pixels: Vec<u8> = (0..u32::from(width) * u32::from(height))
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let (col, line) = (i % u32::from(width), i / u32::from(width));
            let ink = line % 48 < 14 && !(col / 11 + line / 48 + seed).is_multiple_of(9);
            let base: u8 = if ink { 35 } else { 232 };
            base.saturating_add((x % 18) as u8)
        })
        .collect();
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 95)
        .encode(&pixels, width, height, jpeg_encoder::ColorType::Luma)
        .unwrap();
    out
}

/// A PDF of one page whose weight no reduction removes (a 5 MB stream of noise, as an
/// embedded file or font would be).
fn heavy_pdf(seed: u32) -> Vec<u8> {
    use lopdf::{Dictionary, Object, Stream, dictionary};
    let mut x = seed | 1;
    let noise: Vec<u8> = (0..5_000_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect();
    let mut doc = lopdf::Document::with_version("1.7");
    let tree = doc.new_object_id();
    let content = doc.add_object(Stream::new(Dictionary::new(), b"% lourd".to_vec()));
    let heavy = doc.add_object(Stream::new(Dictionary::new(), noise).with_compression(false));
    let page = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => tree, "Contents" => content, "PieceInfo" => heavy,
    });
    doc.objects.insert(
        tree,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => vec![Object::from(page)], "Count" => 1,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => tree });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

/// Three scanned pages, made once (a test's annexes reuse them).
fn scanned_pages() -> &'static [Vec<u8>; 3] {
    static PAGES: std::sync::OnceLock<[Vec<u8>; 3]> = std::sync::OnceLock::new();
    PAGES.get_or_init(|| [1, 2, 3].map(scanned_page))
}

/// A PDF of `pages` scanned pages, each an A4 page showing its scan.
fn scanned_pdf(pages: u32, seed: u32) -> Vec<u8> {
    use lopdf::{Dictionary, Object, Stream, dictionary};
    let mut doc = lopdf::Document::with_version("1.7");
    let tree = doc.new_object_id();
    let mut kids = Vec::new();
    for n in 0..pages {
        let scan = doc.add_object(Stream::new(
            dictionary! {
                "Type" => "XObject", "Subtype" => "Image", "Width" => 1654, "Height" => 2339,
                "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8, "Filter" => "DCTDecode",
            },
            scanned_pages()[((seed + n) % 3) as usize].clone(),
        ));
        let content = doc.add_object(Stream::new(
            Dictionary::new(),
            b"q 595 0 0 842 0 0 cm /Scan Do Q".to_vec(),
        ));
        let page = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => tree, "Contents" => content,
            "Resources" => dictionary! { "XObject" => dictionary! { "Scan" => scan } },
        });
        kids.push(Object::from(page));
    }
    doc.objects.insert(
        tree,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => kids, "Count" => i64::from(pages),
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => tree });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

fn attach(candidate: &Device, id: &str, dir: &Path, name: &str, bytes: &[u8], title: &str) {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    candidate.run(&[
        "dossier",
        "attach",
        id,
        path.to_str().unwrap(),
        "--title",
        title,
    ]);
}

fn sizes(dir: &Path) -> Vec<(String, u64)> {
    let mut found: Vec<(String, u64)> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                e.metadata().unwrap().len(),
            )
        })
        .collect();
    found.sort();
    found
}

#[test]
fn a_dossier_with_large_scans_is_handed_over_in_files_france_vae_takes() {
    let relay = Relay::start();
    let url = relay.url("");
    let candidate = Device::new("candidat-france-vae");
    let id = candidate.run(&["dossier", "new", "--relay", &url]);
    candidate.run(&["dossier", "set", &id, "etat_civil.nom", "Durand"]);
    let files = temp_dir("annexes-france-vae");
    // Four scanned documents of three pages, and a phone photo: far more than 10 MB.
    let mut total = 0;
    for n in 1..=4u32 {
        let pdf = scanned_pdf(3, n);
        total += pdf.len();
        attach(
            &candidate,
            &id,
            &files,
            &format!("scan-{n}.pdf"),
            &pdf,
            &format!("Attestation d'emploi n° {n}"),
        );
    }
    let photo = scanned_pages()[0].clone();
    total += photo.len();
    attach(
        &candidate,
        &id,
        &files,
        "photo.jpg",
        &photo,
        "Photo du poste de travail",
    );
    // Two PDFs that stay heavy: both cannot go in the 10 MB dossier de validation.
    for n in 6..=7u32 {
        let pdf = heavy_pdf(n);
        total += pdf.len();
        attach(
            &candidate,
            &id,
            &files,
            &format!("lourd-{n}.pdf"),
            &pdf,
            &format!("Rapport annuel {n}"),
        );
    }
    assert!(total as u64 > 2 * MAX, "{total} bytes of annexes");

    let out = temp_dir("depot-france-vae");
    let said = candidate.run(&["export", &id, "--france-vae", out.to_str().unwrap()]);
    let written = sizes(&out);
    assert!(
        written.iter().all(|(_, bytes)| *bytes <= MAX),
        "{written:?}\n{said}"
    );
    assert!(written.len() <= 9, "{written:?}");
    let main = out.join("dossier-de-validation.pdf");
    assert!(main.exists(), "{written:?}");
    for (name, _) in &written {
        assert!(
            name == "dossier-de-validation.pdf"
                || (name.starts_with("annexe-0")
                    && (name.ends_with(".pdf") || name.ends_with(".jpg"))),
            "{name}"
        );
        assert!(said.contains(name.as_str()), "{name} reported:\n{said}");
    }
    // The dossier de validation opens, with its pages and the annexes that fit printed.
    let doc = lopdf::Document::load(&main).unwrap();
    assert!(doc.get_pages().len() > 6, "{}", doc.get_pages().len());
    // Scans were brought down to 150 dpi, not dropped: every image in it is at most A4 at
    // 150 dpi, and there are some.
    let images: Vec<(i64, i64)> = doc
        .objects
        .values()
        .filter_map(|o| o.as_stream().ok())
        .filter(|s| s.dict.get(b"Subtype").and_then(|o| o.as_name()).ok() == Some(&b"Image"[..]))
        .map(|s| {
            (
                s.dict.get(b"Width").unwrap().as_i64().unwrap(),
                s.dict.get(b"Height").unwrap().as_i64().unwrap(),
            )
        })
        .collect();
    assert!(!images.is_empty());
    assert!(
        images.iter().all(|(w, h)| (*w).max(*h) <= 1754),
        "{images:?}"
    );
    // The first heavy one printed in it, the second filed apart under its number and title.
    assert!(
        said.lines()
            .next()
            .is_some_and(|l| l.ends_with("annexes imprimées : 1, 2, 3, 4, 5, 6")),
        "{said}"
    );
    assert!(
        written
            .iter()
            .any(|(name, bytes)| name == "annexe-07-rapport-annuel-7.pdf" && *bytes > 4_000_000),
        "{written:?}"
    );
    // Nothing in clear left behind.
    assert!(!out.join(".livret-en-cours").exists());

    // A file in a format the platform does not take: refused, with the reason, and
    // nothing written.
    attach(
        &candidate,
        &id,
        &files,
        "notes.odt",
        b"PK\x03\x04 not a pdf",
        "Notes de travail",
    );
    let refused = temp_dir("depot-refuse");
    let (ok, err) = candidate.try_run(&["export", &id, "--france-vae", refused.to_str().unwrap()]);
    assert!(!ok, "{err}");
    assert!(
        err.contains("annexe 8 (notes.odt) : format que France VAE ne prend pas"),
        "{err}"
    );
    assert_eq!(sizes(&refused), Vec::<(String, u64)>::new());
    let _ = std::fs::remove_dir_all(&files);
    let _ = std::fs::remove_dir_all(&out);
}

/// The same hand-off from the app: an advisor's browser prepares the files from the
/// dossier the candidate filled on the command line, and gets a link per file.
#[test]
fn the_app_prepares_the_files_for_france_vae() {
    let relay = Relay::start();
    let url = relay.url("");
    let candidate = Device::new("candidat-france-vae-nav");
    let id = candidate.run(&["dossier", "new", "--relay", &url]);
    let folder = temp_dir("annexes-france-vae-nav");
    attach(
        &candidate,
        &id,
        &folder,
        "scan.pdf",
        &scanned_pdf(3, 1),
        "Attestation d'emploi",
    );
    for n in 2..=3u32 {
        attach(
            &candidate,
            &id,
            &folder,
            &format!("lourd-{n}.pdf"),
            &heavy_pdf(n),
            &format!("Rapport annuel {n}"),
        );
    }
    candidate.run(&["sync"]);

    let browser = crate::webdriver::Browser::start();
    browser.goto(&relay.url("/"));
    crate::browser::first_run(&browser);
    let identity = browser.wait_text("[data-testid=identite]", |t| t.starts_with("livret1:"));
    candidate.run(&["dossier", "share", &id, &identity, "--role", "advisor"]);
    browser.click("#rechercher-dossiers");
    browser.wait_text("[data-testid=recherche-dossiers]", |t| {
        t == "1 nouveau(x) dossier(s) reçu(s) du relais."
    });
    browser.click("[data-testid=dossiers] button");
    browser.wait_text("[data-testid=etat-synchro]", |t| {
        t.starts_with("Synchronisé avec le relais")
    });
    browser.click("#export-france-vae summary");
    browser.assert_accessible("France VAE hand-off");
    browser.click("#preparer-france-vae");
    let listed = browser.wait_text("[data-testid=fichiers-france-vae]", |t| {
        t.contains("annexe-03")
    });
    assert!(listed.contains("dossier-de-validation.pdf"), "{listed}");
    assert!(
        !listed.contains("annexe-01") && !listed.contains("annexe-02"),
        "{listed}"
    );
    // Each file is what its link says: a PDF of the size shown, within 10 MB.
    let checked = browser.run_async(
        r#"const done = arguments[arguments.length - 1];
        const links = [...document.querySelectorAll("[data-testid=fichiers-france-vae] a")];
        Promise.all(links.map(async a => {
            const bytes = new Uint8Array(await (await fetch(a.href)).arrayBuffer());
            return { name: a.getAttribute("download"), size: bytes.length,
                     said: Number(a.dataset.taille),
                     pdf: new TextDecoder().decode(bytes.slice(0, 5)) === "%PDF-" };
        })).then(done, e => done(String(e)));"#,
    );
    let files = checked.as_array().expect("the files");
    assert_eq!(files.len(), 2, "{checked}");
    for f in files {
        let size = f["size"].as_u64().unwrap();
        assert_eq!(Some(size), f["said"].as_u64(), "{f}");
        assert!(size <= MAX && f["pdf"] == true, "{f}");
    }
    let _ = std::fs::remove_dir_all(&folder);
}
