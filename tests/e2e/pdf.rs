//! The Livret 2 as PDF, end to end with the real CLI: `livret export` of the sample dossier,
//! read back with poppler's `pdftotext` (every field, in the template's order; the
//! sommaire's page numbers point at the right pages; annexes under their numbers; accents;
//! long fields wrapped inside the page) and rendered with `pdftoppm` into
//! `target/test-artifacts/livret-pdf/` for a look. Then the same from a dossier on a real
//! relay, its evidence attached from the command line and fetched back for the export.

use std::path::{Path, PathBuf};
use std::process::Command;

use livret_shared::dossier::FieldKind;
use livret_shared::field_path::FieldPath;

use crate::support::{Relay, temp_dir};
use crate::sync::{Device, assert_relay_never_saw};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/dossiers")
}

fn tool(name: &str, args: &[&str]) -> String {
    let out = Command::new(name)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{name} (poppler-utils, see scripts/toolchain.sh): {e}"));
    assert!(
        out.status.success(),
        "{name} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

pub(crate) fn text(pdf: &Path, pages: Option<(usize, usize)>, layout: bool) -> String {
    let mut args = Vec::new();
    let (first, last);
    if let Some((f, l)) = pages {
        (first, last) = (f.to_string(), l.to_string());
        args.extend(["-f", first.as_str(), "-l", last.as_str()]);
    }
    if layout {
        args.push("-layout");
    }
    args.extend([pdf.to_str().unwrap(), "-"]);
    tool("pdftotext", &args)
}

fn page_count(pdf: &Path) -> usize {
    tool("pdfinfo", &[pdf.to_str().unwrap()])
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// The text of every page without its footer (name and page number), which would
/// otherwise sit in the middle of a field that runs over two pages.
fn without_footers(text: &str) -> String {
    text.lines()
        .filter(|l| {
            let l = l.trim_matches(|c: char| c.is_whitespace() || c == '\u{c}');
            let page_number =
                !l.is_empty() && l.len() <= 3 && l.chars().all(|c| c.is_ascii_digit());
            !l.starts_with("Livret 2 VAE — ") && !page_number
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Without any whitespace: how to compare text that the PDF broke into lines.
fn squeezed(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn values(v: &serde_json::Value) -> Vec<String> {
    match v {
        serde_json::Value::String(s) if !s.trim().is_empty() => vec![s.clone()],
        serde_json::Value::Array(items) => items.iter().flat_map(values).collect(),
        _ => Vec::new(),
    }
}

/// Asserts that each of `needles` occurs in `haystack` after the one before it.
fn assert_in_order(haystack: &str, needles: &[String]) {
    let mut from = 0;
    for needle in needles {
        match haystack[from..].find(needle.as_str()) {
            Some(at) => from += at + needle.len(),
            None => panic!(
                "« {needle} » missing or out of order (searched after byte {from} of {})",
                haystack.len()
            ),
        }
    }
}

/// Every word on every page inside the page, clear of the edges: no line runs off.
fn assert_words_inside_pages(pdf: &Path) {
    let bbox = tool("pdftotext", &["-bbox", pdf.to_str().unwrap(), "-"]);
    let number = |tag: &str, name: &str| -> f32 {
        let start = tag.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        tag[start..].split('"').next().unwrap().parse().unwrap()
    };
    let (mut width, mut height) = (0.0, 0.0);
    let mut words = 0;
    for line in bbox.lines() {
        let line = line.trim();
        if line.starts_with("<page ") {
            (width, height) = (number(line, "width"), number(line, "height"));
        } else if line.starts_with("<word ") {
            words += 1;
            let (x0, y0, x1, y1) = (
                number(line, "xMin"),
                number(line, "yMin"),
                number(line, "xMax"),
                number(line, "yMax"),
            );
            assert!(
                // Text starts at the 56.7 pt margin (plus the cells' padding); the footer
                // sits just under the bottom margin.
                x0 >= 55.0 && x1 <= width - 55.0 && y0 >= 50.0 && y1 <= height - 44.0,
                "word outside the page's margins: {line}"
            );
        }
    }
    assert!(words > 1000, "{words} words");
}

/// The sommaire's lines as (title start, page number): every page from 2 up to the one
/// before its first entry's.
fn sommaire(pdf: &Path) -> Vec<(String, usize)> {
    let first = sommaire_lines(pdf, 2)[0].1;
    let lines = sommaire_lines(pdf, first - 1);
    assert!(lines.iter().all(|(_, page)| *page >= first), "{lines:?}");
    lines
}

fn sommaire_lines(pdf: &Path, last_page: usize) -> Vec<(String, usize)> {
    let text = text(pdf, Some((2, last_page)), true);
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            if line.starts_with("Livret 2 VAE — ") {
                return None; // the footer
            }
            let (title, number) = line.rsplit_once(' ')?;
            Some((title.trim().to_string(), number.parse().ok()?))
        })
        .collect()
}

#[test]
fn the_sample_livret_has_every_field_in_order_and_a_true_sommaire() {
    let dir = temp_dir("livret-pdf");
    let pdf = dir.join("livret.pdf");
    let sample = fixtures().join("exemple-developpeuse-ia.json");
    let device = Device::new("pdf-sample");
    device.run(&[
        "export",
        sample.to_str().unwrap(),
        "--pdf",
        pdf.to_str().unwrap(),
    ]);
    let pages = page_count(&pdf);
    let all = without_footers(&text(&pdf, None, false));
    let dossier = json(&sample);

    // The cover.
    let cover = text(&pdf, Some((1, 1)), false);
    for expected in [
        "LIVRET 2",
        "Camille MARTIN",
        "Développeur en intelligence artificielle",
        "15/03/2027",
        "Simplon.co — Lyon",
    ] {
        assert!(cover.contains(expected), "cover lacks {expected}: {cover}");
    }
    // "RNCP : 37827" on the template's cover: the label, then the number (the candidate
    // typed "RNCP37827"), never "RNCP RNCP37827".
    let cover_laid_out = text(&pdf, Some((1, 1)), true);
    let rncp = cover_laid_out
        .lines()
        .find(|l| l.trim_start().starts_with("RNCP"))
        .unwrap_or_else(|| panic!("no RNCP line: {cover_laid_out}"));
    let words: Vec<&str> = rncp.split_whitespace().collect();
    assert_eq!(words, ["RNCP", "37827"], "{rncp:?}");

    // Every field of every section, in the template's order, then every fiche's.
    let mut expected = Vec::new();
    for section in livret_shared::template::annexe5().sections {
        if let Some(fields) = dossier["sections"].get(section.key) {
            for field in section.fields {
                for value in values(&fields[field.key]) {
                    expected.push(match (section.key, field.key) {
                        // Printed with their titles from the référentiel.
                        ("projet_vae", "blocs_vises") => continue,
                        // Printed as the template's ticked boxes.
                        ("declaration", "fraudes") => {
                            "☒ avoir pris connaissance des informations relatives aux fraudes"
                                .to_string()
                        }
                        ("declaration", "exactitude") => {
                            "☒ attester de l’exactitude de toutes les informations".to_string()
                        }
                        _ => match FieldPath::section(section.key, field.key).map(|p| p.kind()) {
                            // The days the French way.
                            Some(FieldKind::Date) => {
                                let p: Vec<&str> = value.split('-').collect();
                                format!("{}/{}/{}", p[2], p[1], p[0])
                            }
                            // The answers to circle: the chosen one ticked, by its words.
                            Some(FieldKind::Choice(options)) => {
                                let chosen = options.iter().find(|c| c.key == value).unwrap();
                                format!("☒ {}", chosen.label_fr)
                            }
                            _ => value,
                        },
                    });
                }
            }
        }
        if section.key == "fiches" {
            for fiche in dossier["fiches"].as_array().unwrap() {
                for key in [
                    "intitule",
                    "entreprise",
                    "periode",
                    "contexte",
                    "problematique",
                    "taches",
                    "moyens",
                    "frequence",
                    "resultats",
                ] {
                    expected.extend(values(&fiche["champs"][key]));
                }
            }
        }
    }
    assert!(expected.len() > 40);
    // Long values are broken into lines: compared without whitespace.
    assert_in_order(
        &squeezed(&all),
        &expected.iter().map(|v| squeezed(v)).collect::<Vec<_>>(),
    );
    // The template's « Âge », worked out: born 12/04/1989, signing on 20/11/2026.
    assert!(squeezed(&all).contains("Âge37ans"), "{all}");
    // Questions for another answer are not asked: she is in work (no France Travail
    // registration), on a full-time contract (no percentage), funded otherwise (no agency).
    for not_asked in [
        "Êtes-vous inscrit",
        "précisez le pourcentage",
        "Adresse de l'agence",
        "Adresse de l’agence",
    ] {
        assert!(!all.contains(not_asked), "{not_asked} printed: {all}");
    }

    // The « Votre projet VAE » table counts what the livret holds: 4 fiches, 6 annexes.
    // Its page is the sommaire's (checked below).
    let (_, projet_page) = sommaire(&pdf)
        .into_iter()
        .find(|(t, _)| t.starts_with("Votre projet VAE"))
        .expect("« Votre projet VAE » in the sommaire");
    let projet = text(&pdf, Some((projet_page, projet_page)), true);
    let row = |label: &str| {
        projet
            .lines()
            .find(|l| l.contains(label))
            .unwrap_or_else(|| panic!("{label} row: {projet}"))
            .split_whitespace()
            .filter_map(|w| w.parse::<usize>().ok())
            .collect::<Vec<_>>()
    };
    assert_eq!(row("activité(s) et")[0], 4, "fiches counted");
    assert_eq!(row("Annexes")[0], 6, "annexes counted");

    // The sommaire: each line's number is the page where that title is printed.
    let lines = sommaire(&pdf);
    assert!(lines.len() >= 20, "{lines:?}");
    // The template's pages without a field of the dossier are there too, in its order.
    let position = |prefix: &str| {
        lines
            .iter()
            .position(|(t, _)| t.starts_with(prefix))
            .unwrap()
    };
    assert!(position("Récapitulatif des compétences") < position("Fiche activité 1"));
    assert!(position("Annexes") < position("L'entretien devant le jury"));
    assert!(position("L'entretien devant le jury") < position("Déclaration sur"));
    for (title, page) in &lines {
        assert!(*page >= 3 && *page <= pages, "{title} → {page} of {pages}");
        let on_page = text(&pdf, Some((*page, *page)), false);
        let start: String = title.chars().take(30).collect();
        assert!(
            squeezed(&on_page).contains(&squeezed(&start)),
            "sommaire says « {title} » is on page {page}, which reads: {on_page}"
        );
    }
    // And the « Votre projet VAE » page column agrees with it.
    let fiches_page = lines
        .iter()
        .find(|(t, _)| t.starts_with("Fiche descriptive de l’activité"))
        .unwrap()
        .1;
    assert_eq!(row("activité(s) et")[1], fiches_page);

    // Annexes under their numbers: the PDF annexe's own pages follow its caption page, the
    // image is on its page, the others are listed with their fingerprints.
    let annexe = |n: u32| {
        lines
            .iter()
            .find(|(t, _)| t.starts_with(&format!("Annexe {n} —")))
            .unwrap_or_else(|| panic!("annexe {n} in the sommaire"))
            .1
    };
    let five = annexe(5);
    assert!(text(&pdf, Some((five + 1, five + 1)), false).contains("ATTESTATION DE FORMATION"));
    assert!(text(&pdf, Some((five + 2, five + 2)), false).contains("Évaluation des acquis"));
    assert_eq!(annexe(6), five + 3);
    for a in dossier["annexes"].as_array().unwrap() {
        let n = a["numero"].as_u64().unwrap() as u32;
        let page = text(&pdf, Some((annexe(n), annexe(n))), false);
        assert!(page.contains(&format!("Annexe {n} —")), "{page}");
        assert!(
            squeezed(&page).contains(a["empreinte"].as_str().unwrap()),
            "annexe {n} shows its SHA-256"
        );
    }
    let images = tool("pdfimages", &["-list", pdf.to_str().unwrap()]);
    assert_eq!(images.lines().count(), 3, "one image: {images}");

    // Accents and typography as typed, through the embedded font's Unicode map.
    for accented in [
        "Développeuse",
        "Tâches réalisées",
        "mises en œuvre",
        "Déclaration sur l’honneur",
        "Éléments de preuve",
    ] {
        assert!(all.contains(accented), "{accented}");
    }
    assert_words_inside_pages(&pdf);
    let fonts = tool("pdffonts", &[pdf.to_str().unwrap()]);
    let ours: Vec<&str> = fonts.lines().filter(|l| l.contains("DejaVuSans")).collect();
    assert_eq!(ours.len(), 2, "regular and bold: {fonts}");
    assert!(
        ours.iter().all(|l| l.contains(" yes yes ")),
        "fonts embedded and subset: {fonts}"
    );

    // Pictures of the pages, for a person to look at.
    let artifacts =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/test-artifacts/livret-pdf");
    let _ = std::fs::remove_dir_all(&artifacts);
    std::fs::create_dir_all(&artifacts).unwrap();
    tool(
        "pdftoppm",
        &[
            "-png",
            "-r",
            "60",
            pdf.to_str().unwrap(),
            artifacts.join("page").to_str().unwrap(),
        ],
    );
    let rendered = std::fs::read_dir(&artifacts).unwrap().count();
    assert_eq!(rendered, pages);
}

#[test]
fn a_long_field_wraps_and_runs_over_pages_without_losing_a_word() {
    let dir = temp_dir("livret-pdf-long");
    let mut dossier = json(&fixtures().join("exemple-developpeuse-ia.json"));
    let sentence = "Pour réduire le délai de traitement, j’ai analysé les écarts entre équipes, \
                    mesuré l’effet de chaque règle et présenté mes choix à la direction ; ";
    let unbroken = "https://git.example.org/datavia/tri-courrier/-/merge_requests/".to_string()
        + &"0123456789".repeat(12);
    let long = sentence.repeat(60) + &unbroken + " fin-du-contexte.";
    dossier["fiches"][1]["champs"]["contexte"] = long.clone().into();
    // A one-line field given a whole page's worth: its table row runs over pages too.
    let long_name = "Datavia, société par actions simplifiée au capital variable ; ".repeat(80);
    dossier["sections"]["structure"]["nom"] = long_name.clone().into();
    let source = dir.join("long.json");
    std::fs::write(&source, serde_json::to_vec(&dossier).unwrap()).unwrap();
    let pdf = dir.join("long.pdf");
    let device = Device::new("pdf-long");
    let annexes = fixtures().join("annexes");
    device.run(&[
        "export",
        source.to_str().unwrap(),
        "--pdf",
        pdf.to_str().unwrap(),
        "--annex-dir",
        annexes.to_str().unwrap(),
    ]);
    let all = without_footers(&text(&pdf, None, false));
    assert!(
        squeezed(&all).contains(&squeezed(&long)),
        "every word kept, in order"
    );
    assert!(
        squeezed(&all).contains(&squeezed(&long_name)),
        "the long row kept whole"
    );
    assert_words_inside_pages(&pdf);
    // The fiche now takes more pages: its box continues on the next ones.
    let lines = sommaire(&pdf);
    let page = |prefix: &str| lines.iter().find(|(t, _)| t.starts_with(prefix)).unwrap().1;
    assert!(page("Fiche activité 3") - page("Fiche activité 2") >= 3);
}

#[test]
fn a_dossier_on_a_relay_exports_with_its_evidence_fetched_and_decrypted_on_the_device() {
    let relay = Relay::start();
    let url = relay.url("");
    let dir = temp_dir("livret-pdf-relay");
    // The sample without its last two annexes, which are then attached as files.
    let mut dossier = json(&fixtures().join("exemple-developpeuse-ia.json"));
    dossier["annexes"]
        .as_array_mut()
        .unwrap()
        .retain(|a| a["numero"].as_u64() < Some(5));
    for fiche in dossier["fiches"].as_array_mut().unwrap() {
        fiche["champs"]["preuves"]
            .as_array_mut()
            .unwrap()
            .retain(|p| p.as_str() != Some("5") && p.as_str() != Some("6"));
    }
    let source = dir.join("sans-fichiers.json");
    std::fs::write(&source, serde_json::to_vec(&dossier).unwrap()).unwrap();
    let candidate = Device::new("pdf-candidat");
    let id = candidate.run(&[
        "dossier",
        "import",
        source.to_str().unwrap(),
        "--relay",
        &url,
    ]);
    let annexes = fixtures().join("annexes");
    let attach = |file: &str, titre: &str| {
        candidate.run(&[
            "dossier",
            "attach",
            &id,
            annexes.join(file).to_str().unwrap(),
            "--title",
            titre,
        ])
    };
    assert_eq!(
        attach(
            "attestation-formation-rgpd.pdf",
            "Attestation de formation RGPD"
        ),
        "5"
    );
    assert_eq!(
        attach("tableau-de-bord.png", "Tableau de bord du service de tri"),
        "6"
    );
    assert_eq!(
        attach(
            "attestation-employeur.txt",
            "Attestation d'emploi (fichier)"
        ),
        "7"
    );

    // An advisor's device, which never had the files, exports the same livret.
    let advisor = Device::new("pdf-conseil");
    candidate.share_with(&id, &advisor, "advisor", &url);
    let pdf = dir.join("livret.pdf");
    let (ok, stderr) = advisor.try_run(&["export", &id, "--pdf", pdf.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    // Annexes 1–4 were imported as descriptions without files: listed and reported.
    for n in 1..=4 {
        assert!(
            stderr.contains(&format!("annexe {n} : fichier absent")),
            "{stderr}"
        );
    }
    assert!(stderr.contains("export : annexes 7/7 (100 %)"), "{stderr}");
    // What to look at before filing, said and not blocking: the annexes attached since the
    // import are cited by no fiche.
    assert!(
        stderr.contains("À revoir avant de déposer le livret :")
            && stderr.contains(
                "Chaque annexe citée par une fiche : Annexe(s) 5, 6, 7 : citez-les dans les \
                 preuves de la fiche qu'elles appuient."
            ),
        "{stderr}"
    );
    let lines = sommaire(&pdf);
    let five = lines
        .iter()
        .find(|(t, _)| t.starts_with("Annexe 5 —"))
        .unwrap()
        .1;
    assert!(text(&pdf, Some((five + 1, five + 1)), false).contains("ATTESTATION DE FORMATION"));
    let images = tool("pdfimages", &["-list", pdf.to_str().unwrap()]);
    assert_eq!(images.lines().count(), 3, "the PNG drawn: {images}");

    // Refused before anything is written: an unknown dossier, and --annex-dir with an id.
    let (ok, err) = advisor.try_run(&[
        "export",
        "00ff",
        "--pdf",
        dir.join("x.pdf").to_str().unwrap(),
    ]);
    assert!(!ok && err.contains("00ff"), "{err}");
    // A destination that cannot be written (a folder): refused, and the livret in clear
    // that was being written is not left behind.
    let folder = dir.join("un-dossier");
    std::fs::create_dir_all(&folder).unwrap();
    let (ok, _) = advisor.try_run(&["export", &id, "--pdf", folder.to_str().unwrap()]);
    assert!(!ok);
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let (ok, err) = advisor.try_run(&[
        "export",
        &id,
        "--pdf",
        dir.join("y.pdf").to_str().unwrap(),
        "--annex-dir",
        "/tmp",
    ]);
    assert!(!ok && err.contains("--annex-dir"), "{err}");
    assert!(!dir.join("y.pdf").exists());

    // The relay stored the evidence encrypted: neither the text file's words nor the
    // dossier's reach it.
    let employer = std::fs::read_to_string(annexes.join("attestation-employeur.txt")).unwrap();
    let line = employer.lines().find(|l| l.len() > 30).unwrap();
    assert_relay_never_saw(&relay, &[line, "Tri-Courrier", "Camille"]);
}

/// The red and blue pixels of a page rendered by pdftoppm (PPM): each colour's bounding box
/// (left, top, right, bottom).
fn red_and_blue(pdf: &Path, page: usize) -> [(usize, usize, usize, usize); 2] {
    let page = page.to_string();
    let out = Command::new("pdftoppm")
        .args(["-r", "40", "-f", &page, "-l", &page, pdf.to_str().unwrap()])
        .output()
        .expect("pdftoppm runs");
    let ppm = out.stdout;
    // P6, width, height, maxval, each on its own token, then the pixels.
    let mut fields = Vec::new();
    let mut at = 0;
    while fields.len() < 4 {
        while ppm[at].is_ascii_whitespace() {
            at += 1;
        }
        let start = at;
        while !ppm[at].is_ascii_whitespace() {
            at += 1;
        }
        fields.push(String::from_utf8_lossy(&ppm[start..at]).to_string());
    }
    let width: usize = fields[1].parse().unwrap();
    let pixels = &ppm[at + 1..];
    let mut boxes = [(usize::MAX, usize::MAX, 0, 0); 2];
    for (i, rgb) in pixels.chunks(3).enumerate() {
        let (x, y) = (i % width, i / width);
        let colour = match rgb {
            [r, g, b] if *r > 150 && *g < 90 && *b < 90 => 0,
            [r, g, b] if *b > 150 && *r < 90 && *g < 90 => 1,
            _ => continue,
        };
        let b = &mut boxes[colour];
        *b = (b.0.min(x), b.1.min(y), b.2.max(x), b.3.max(y));
    }
    boxes
}

/// A phone photo is stored as its sensor saw it and says how the phone was held (EXIF
/// orientation): printed in the livret the way it was taken, not on its side. The fixture
/// is 40 × 20 pixels, red on the left and blue on the right, orientation 6 (a quarter turn
/// clockwise): upright it is 20 wide and 40 tall, red on top.
#[test]
fn a_phone_photo_prints_the_way_it_was_held() {
    let relay = Relay::start();
    let url = relay.url("");
    let dir = temp_dir("livret-pdf-exif");
    let mut dossier = json(&fixtures().join("exemple-developpeuse-ia.json"));
    dossier["annexes"] = serde_json::json!([]);
    for fiche in dossier["fiches"].as_array_mut().unwrap() {
        fiche["champs"]["preuves"] = serde_json::json!([]);
    }
    let source = dir.join("sans-annexes.json");
    std::fs::write(&source, serde_json::to_vec(&dossier).unwrap()).unwrap();
    let candidate = Device::new("pdf-exif");
    let id = candidate.run(&[
        "dossier",
        "import",
        source.to_str().unwrap(),
        "--relay",
        &url,
    ]);
    let photo = fixtures().join("annexes/photo-pivotee-exif-6.jpg");
    candidate.run(&[
        "dossier",
        "attach",
        &id,
        photo.to_str().unwrap(),
        "--title",
        "Photo du tableau blanc",
    ]);
    let pdf = dir.join("livret.pdf");
    candidate.run(&["export", &id, "--pdf", pdf.to_str().unwrap()]);
    let page = sommaire(&pdf)
        .iter()
        .find(|(t, _)| t.starts_with("Annexe 1 —"))
        .unwrap()
        .1;
    let [red, blue] = red_and_blue(&pdf, page);
    assert!(red.2 > red.0 && blue.2 > blue.0, "{red:?} {blue:?}");
    // Red above blue, the two side by side in the same columns, the whole taller than wide.
    assert!(red.3 < blue.1, "red {red:?} not above blue {blue:?}");
    assert!(
        red.0.abs_diff(blue.0) <= 1 && red.2.abs_diff(blue.2) <= 1,
        "{red:?} {blue:?}"
    );
    let (w, h) = (blue.2 - red.0, blue.3 - red.1);
    assert!(h > w, "upright: {w} wide, {h} tall");
}

/// The text of the Livret PDF `livret export` makes of `dossier` (a changed copy of the
/// sample), footers left out and whitespace squeezed.
fn livret_text_of(dossier: &serde_json::Value, name: &str) -> String {
    let dir = temp_dir(&format!("livret-pdf-{name}"));
    let source = dir.join(format!("{name}.json"));
    std::fs::write(&source, serde_json::to_vec(dossier).unwrap()).unwrap();
    let pdf = dir.join(format!("{name}.pdf"));
    Device::new(&format!("pdf-{name}")).run(&[
        "export",
        source.to_str().unwrap(),
        "--pdf",
        pdf.to_str().unwrap(),
    ]);
    squeezed(&without_footers(&text(&pdf, None, false)))
}

/// Fiches citing a criterion (`C1#2`): the Livret's récapitulatif prints it under its
/// compétence with the fiches citing it, the fiche's table names it by its words.
#[test]
fn cited_criteria_are_printed_in_the_recapitulatif_and_in_their_fiches() {
    let mut dossier = json(&fixtures().join("exemple-developpeuse-ia.json"));
    let c1 = &dossier["referentiel"]["blocs"][0]["competences"][0];
    let c1_title = c1["title"].as_str().unwrap().to_string();
    let criterion = c1["criteria"][1]["title"].as_str().unwrap().to_string();
    let c2_title = dossier["referentiel"]["blocs"][0]["competences"][1]["title"]
        .as_str()
        .unwrap()
        .to_string();
    for fiche in [0, 2] {
        let list = dossier["fiches"][fiche]["champs"]["competences"]
            .as_array_mut()
            .unwrap();
        if !list.iter().any(|c| c == "C1") {
            list.push("C1".into());
        }
        list.push("C1#2".into());
    }
    let all = livret_text_of(&dossier, "criteres");
    assert_in_order(
        &all,
        &[
            squeezed("Récapitulatif des compétences"),
            squeezed(&format!("C1. {c1_title}")),
            squeezed(&format!("Critère 2 : {criterion} — fiche(s) 1, 3")),
            squeezed(&format!("C2. {c2_title}")),
        ],
    );
    assert_in_order(
        &all,
        &[
            squeezed("Fiche activité 1"),
            squeezed(&format!("C1, critère 2 : {criterion}")),
            squeezed("Fiche activité 2"),
        ],
    );
}

/// The déclaration's two boxes print as the candidate left them: ticked (☒) or not (☐).
#[test]
fn the_declaration_boxes_print_ticked_as_they_were_ticked() {
    let mut dossier = json(&fixtures().join("exemple-developpeuse-ia.json"));
    dossier["sections"]["declaration"]["fraudes"] = "oui".into();
    dossier["sections"]["declaration"]["exactitude"] = "".into();
    let all = livret_text_of(&dossier, "cases");
    assert!(
        all.contains(&squeezed(
            "☒ avoir pris connaissance des informations relatives aux fraudes en VAE"
        )),
        "{all}"
    );
    assert!(all.contains(&squeezed(
        "☐ attester de l’exactitude de toutes les informations figurant dans le présent livret"
    )));
}

/// The seed's lines between `from` and `to` (ANNEXE 5 of the RNCP37827 règlement), blank
/// lines left out: what the livret must print word for word.
fn seed_lines(from: &str, to: &str) -> Vec<String> {
    let seed =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(
            "../fixtures/referentiels/002-developpeur-intelligence-artificielle-rncp37827.txt",
        ))
        .unwrap();
    let start = seed.find(from).expect("the seed's heading");
    let end = start + seed[start..].find(to).expect("the seed's next heading");
    seed[start..end]
        .lines()
        .map(|l| l.trim().trim_start_matches("- ").to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// The ENGAGEMENT page and its « Informations générales », as ANNEXE 5 prints them, with
/// the candidate's name and the déclaration's place, day and signature; in a dossier for
/// another certification, the same commitments without Simplon's name or terms.
#[test]
fn the_engagement_page_is_the_templates_and_names_its_certifier_only_in_its_own_dossiers() {
    let dir = temp_dir("livret-engagement");
    let device = Device::new("pdf-engagement");
    let sample = fixtures().join("exemple-developpeuse-ia.json");
    let print = |json: &Path, name: &str| {
        let pdf = dir.join(name);
        device.run(&[
            "export",
            json.to_str().unwrap(),
            "--pdf",
            pdf.to_str().unwrap(),
        ]);
        squeezed(&without_footers(&text(&pdf, None, false)))
    };
    let own = print(&sample, "rncp37827.pdf");
    let dossier = json(&sample);
    let declaration = &dossier["sections"]["declaration"];
    let day: Vec<&str> = declaration["date"].as_str().unwrap().split('-').collect();
    let mut expected = vec![
        "ENGAGEMENT".to_string(),
        "Je, soussigné(e) Camille Martin".into(),
    ];
    // The seed's sentences, the blank it leaves for the name, the place and the day filled.
    for line in seed_lines("ENGAGEMENT", "Informations générales") {
        expected.push(match line.as_str() {
            "ENGAGEMENT" | "Je, soussigné(e) (nom et prénom du candidat)" => continue,
            "Fait à" => format!("Fait à {}", declaration["lieu"].as_str().unwrap()),
            "Le" => format!("Le {}/{}/{}", day[2], day[1], day[0]),
            "Signature" => format!("Signature : {}", declaration["signature"].as_str().unwrap()),
            _ => line,
        });
    }
    expected.extend(seed_lines("Informations générales", "Votre projet VAE"));
    let expected: Vec<String> = expected.iter().map(|l| squeezed(l)).collect();
    assert_in_order(&own, &expected);

    // The RNCP number left blank: the pinned référentiel's (RNCP37827) decides.
    let mut blank = dossier.clone();
    blank["sections"]["projet_vae"]["rncp"] = "".into();
    let blank_json = dir.join("blank.json");
    std::fs::write(&blank_json, serde_json::to_vec(&blank).unwrap()).unwrap();
    assert!(print(&blank_json, "blank.pdf").contains(&squeezed("n'avoir saisi que SIMPLON")));

    // The same dossier for RNCP38822 (another certifier): no SIMPLON, no fees of theirs.
    let mut other = dossier.clone();
    other["sections"]["projet_vae"]["rncp"] = "RNCP38822".into();
    let other_json = dir.join("rncp38822.json");
    std::fs::write(&other_json, serde_json::to_vec(&other).unwrap()).unwrap();
    let printed = print(&other_json, "rncp38822.pdf");
    assert!(!printed.contains("SIMPLON") && !printed.contains("300€"));
    for line in [
        "déclare n'avoir déposé, au cours de la même année civile et pour cette certification, \
         qu'une seule demande et n'avoir saisi qu'un seul certificateur,",
        "veuillez-vous adresser à votre certificateur.",
        "Article 433-5 du Code pénal :",
    ] {
        assert!(printed.contains(&squeezed(line)), "{line}");
    }
}

/// A dossier pinned to the RNCP37827 référentiel as Livret reads it now prints, after the
/// récapitulatif, the template's « Exemples d'éléments de preuves attendus », every example
/// of every bloc in order (what the reader takes from the seed is checked against a
/// reading by hand in shared/tests/read_by_hand.rs).
#[test]
fn the_examples_of_evidence_follow_the_recapitulatif() {
    let dir = temp_dir("livret-preuves");
    let device = Device::new("pdf-preuves");
    let seed =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(
            "../fixtures/referentiels/002-developpeur-intelligence-artificielle-rncp37827.txt",
        ))
        .unwrap();
    let referentiel = livret_shared::referentiel::import_text(&seed)
        .unwrap()
        .referentiel;
    let mut dossier = json(&fixtures().join("exemple-developpeuse-ia.json"));
    dossier["referentiel"] = serde_json::to_value(&referentiel).unwrap();
    let pinned = dir.join("dossier.json");
    std::fs::write(&pinned, serde_json::to_vec(&dossier).unwrap()).unwrap();
    let pdf = dir.join("livret.pdf");
    device.run(&[
        "export",
        pinned.to_str().unwrap(),
        "--pdf",
        pdf.to_str().unwrap(),
    ]);
    let printed = squeezed(&without_footers(&text(&pdf, None, false)));
    let mut expected = vec![
        squeezed("Récapitulatif des compétences"),
        squeezed("Exemples d'éléments de preuves attendus"),
    ];
    let mut examples = 0;
    for bloc in &referentiel.blocs {
        for example in &bloc.evidence_examples {
            expected.push(squeezed(&format!("- {example}")));
            examples += 1;
        }
    }
    assert_eq!(
        examples, 13,
        "the seed's three blocs give 6, 4 and 3 examples"
    );
    assert_in_order(&printed, &expected);
}
