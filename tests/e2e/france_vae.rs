//! The hand-off to France VAE end to end (issue 24): a dossier with large scanned annexes
//! on a real relay, exported by the CLI as the platform takes it — one dossier de
//! validation of at most 10 MB and at most 8 additional files of at most 10 MB — and a
//! dossier that cannot fit refused with its reasons, leaving nothing behind.

use std::path::Path;

use crate::scans::{self, Scan};
use crate::support::{Relay, temp_dir};
use crate::sync::Device;

const MAX: u64 = 10_000_000;

/// Three pages scanned at 200 dpi, made once (a test's annexes reuse them).
fn scanned_pages() -> &'static [Scan; 3] {
    static PAGES: std::sync::OnceLock<[Scan; 3]> = std::sync::OnceLock::new();
    PAGES.get_or_init(|| [1, 2, 3].map(|seed| scans::scanned_page(200, 95, seed)))
}

/// A PDF of `pages` scanned pages.
fn scanned_pdf(pages: u32, seed: u32) -> Vec<u8> {
    let chosen: Vec<Scan> = (0..pages)
        .map(|n| scanned_pages()[((seed + n) % 3) as usize].clone())
        .collect();
    scans::scanned_pdf(&chosen)
}

/// A PDF that stays 5 MB whatever is done to it.
fn heavy_pdf(seed: u32) -> Vec<u8> {
    scans::heavy_pdf(5_000_000, seed)
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
    let photo = scanned_pages()[0].jpeg.clone();
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

    let (browser, _) = crate::browser::browser_member_of(&relay, &candidate, &id, "advisor");
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

    // A file the platform does not take, added meanwhile: the refusal says why, in the
    // language the user reads.
    attach(
        &candidate,
        &id,
        &folder,
        "notes.odt",
        b"PK\x03\x04 not a pdf",
        "Notes de travail",
    );
    candidate.run(&["sync"]);
    browser.wait_text("[data-testid=annexes]", |t| t.contains("Notes de travail"));
    browser.click("#langue");
    browser.click("#preparer-france-vae");
    let refused = browser.wait_text("#export-france-vae [role=alert]", |t| !t.is_empty());
    assert!(
        refused.contains("annexe 4 (notes.odt): a format France VAE does not take"),
        "{refused}"
    );
    let _ = std::fs::remove_dir_all(&folder);
}
