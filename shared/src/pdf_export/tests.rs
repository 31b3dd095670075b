use std::collections::{BTreeSet, HashMap};
use std::io::Write;
use std::path::Path;

use lopdf::Object;

use super::annex::{Printable, classify};
use super::font::{Font, subset};
use super::layout::{BODY, Fonts, Typesetter};
use super::*;
use crate::export::{self, DossierJson};

const REGULAR: &[u8] = include_bytes!("../../../app/fonts/DejaVuSans.ttf");
const BOLD: &[u8] = include_bytes!("../../../app/fonts/DejaVuSans-Bold.ttf");

fn fonts() -> FontFiles {
    FontFiles {
        regular: REGULAR.to_vec(),
        bold: BOLD.to_vec(),
    }
}

fn fixtures() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/dossiers"))
}

fn sample() -> DossierJson {
    let bytes = std::fs::read(fixtures().join("exemple-developpeuse-ia.json")).unwrap();
    export::parse(&bytes).unwrap()
}

/// The whole export, every annexe's file given by `file`.
fn export_with(
    json: &DossierJson,
    file: impl Fn(&crate::export::AnnexeJson) -> Option<Vec<u8>>,
) -> (Vec<u8>, Vec<Notice>, Vec<Progress>) {
    export_in(json, false, file)
}

/// The whole export in English when `english`, else in French.
fn export_in(
    json: &DossierJson,
    english: bool,
    file: impl Fn(&crate::export::AnnexeJson) -> Option<Vec<u8>>,
) -> (Vec<u8>, Vec<Notice>, Vec<Progress>) {
    let mut pdf = LivretPdf::begin(json, fonts(), Vec::new(), english).unwrap();
    let mut progress = vec![pdf.progress()];
    while let Some(annexe) = pdf.next_annexe().cloned() {
        pdf.add_annexe(file(&annexe).as_deref()).unwrap();
        progress.push(pdf.progress());
    }
    let notices = pdf.notices().to_vec();
    (pdf.finish().unwrap(), notices, progress)
}

/// Pages of ours that draw an image (annexed PDFs' pages keep their own resources).
fn pages_with_images(doc: &lopdf::Document) -> usize {
    doc.get_pages()
        .values()
        .filter(|&&id| {
            doc.get_dictionary(id)
                .unwrap()
                .get(b"Resources")
                .and_then(Object::as_dict)
                .is_ok_and(|r| r.has(b"XObject"))
        })
        .count()
}

fn from_fixtures(a: &crate::export::AnnexeJson) -> Option<Vec<u8>> {
    std::fs::read(fixtures().join("annexes").join(&a.fichier)).ok()
}

#[test]
fn the_sample_livret_is_a_valid_pdf_with_the_annexed_pages_and_image() {
    let json = sample();
    let (bytes, notices, progress) = export_with(&json, from_fixtures);
    assert!(notices.is_empty(), "{notices:?}");
    let doc = lopdf::Document::load_mem(&bytes).unwrap();
    let pages = doc.get_pages();
    // The annexed PDF's two pages are there, with the font they inherited from their old
    // page tree now on themselves.
    let helvetica_pages = pages
        .values()
        .filter(|&&id| {
            let page = doc.get_dictionary(id).unwrap();
            let resources = match page.get(b"Resources").unwrap() {
                Object::Reference(r) => doc.get_dictionary(*r).unwrap(),
                Object::Dictionary(d) => d,
                other => panic!("resources {other:?}"),
            };
            let fonts = match resources.get(b"Font").unwrap() {
                Object::Reference(r) => doc.get_dictionary(*r).unwrap(),
                Object::Dictionary(d) => d,
                other => panic!("fonts {other:?}"),
            };
            fonts.iter().any(|(_, f)| {
                let f = doc.dereference(f).unwrap().1.as_dict().unwrap();
                f.get(b"BaseFont").unwrap().as_name().unwrap() == b"Helvetica"
            })
        })
        .count();
    assert_eq!(helvetica_pages, 2);
    assert_eq!(
        pages_with_images(&doc),
        1,
        "the PNG is drawn on its annexe's page"
    );
    // Fonts are subsets: far smaller than the 1.4 MB of the two files.
    assert!(bytes.len() < 250_000, "{} bytes", bytes.len());
    // Progress counts every annexe and every byte, ending at the total.
    let last = progress.last().unwrap();
    assert_eq!(last.annexes_done, json.annexes.len());
    assert_eq!(last.bytes_done, last.bytes_total);
    assert!(
        progress
            .windows(2)
            .all(|w| w[0].bytes_done <= w[1].bytes_done)
    );
}

#[test]
fn a_missing_or_altered_file_is_listed_and_reported_not_printed() {
    let json = sample();
    let (bytes, notices, _) = export_with(&json, |a| match a.numero {
        5 => Some(b"%PDF-1.4 not the attestation".to_vec()),
        6 => None,
        _ => from_fixtures(a),
    });
    let numbers: Vec<u32> = notices.iter().map(|n| n.numero).collect();
    assert_eq!(numbers, vec![5, 6]);
    assert!(
        notices[0].message.contains("empreinte"),
        "{}",
        notices[0].message
    );
    assert!(
        notices[1].message.contains("absent"),
        "{}",
        notices[1].message
    );
    let doc = lopdf::Document::load_mem(&bytes).unwrap();
    assert_eq!(pages_with_images(&doc), 0);
}

#[test]
fn an_unreadable_pdf_annexe_is_listed() {
    let json = {
        let mut json = sample();
        let broken = b"%PDF-1.7\nthis is not a PDF body".to_vec();
        let a = json.annexes.iter_mut().find(|a| a.numero == 5).unwrap();
        a.taille = broken.len() as u64;
        a.empreinte = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&broken));
        json
    };
    let (bytes, notices, _) = export_with(&json, |a| {
        if a.numero == 5 {
            Some(b"%PDF-1.7\nthis is not a PDF body".to_vec())
        } else {
            from_fixtures(a)
        }
    });
    assert_eq!(notices.len(), 1);
    assert!(notices[0].message.contains("illisible"));
    lopdf::Document::load_mem(&bytes).unwrap();
}

#[test]
fn lines_wrap_within_the_width_and_long_words_are_cut() {
    let mut fonts = Fonts {
        regular: Font::parse(REGULAR.to_vec(), "R", "AAAAAA").unwrap(),
        bold: Font::parse(BOLD.to_vec(), "B", "AAAAAB").unwrap(),
    };
    let mut t = Typesetter::new(&mut fonts);
    let text = "Élaboration d'un entrepôt de données conforme au RGPD avec pseudonymisation \
                des courriers reçus ; "
        .repeat(5)
        + &"x".repeat(300);
    let lines = t.wrap(BODY, &text, 200.0);
    assert!(lines.len() > 10);
    for line in &lines {
        assert!(t.width(BODY, line) <= 200.0, "{line}");
    }
    // Nothing is lost or added but the spaces where lines break.
    let joined: String = lines.concat().split_whitespace().collect();
    let original: String = text.split_whitespace().collect();
    assert_eq!(joined, original);
    // Line breaks typed by the candidate are kept, empty lines too.
    assert_eq!(t.wrap(BODY, "a\n\nb", 200.0), vec!["a", "", "b"]);
}

#[test]
fn the_font_subset_keeps_the_used_glyphs_and_drops_the_others() {
    let face = ttf_parser::Face::parse(REGULAR, 0).unwrap();
    let used: BTreeSet<u16> = "Ééœ"
        .chars()
        .map(|c| face.glyph_index(c).unwrap().0)
        .collect();
    let small = subset(REGULAR, &used).unwrap();
    assert!(small.len() < REGULAR.len() / 5, "{} bytes", small.len());
    let sub = ttf_parser::Face::parse(&small, 0).unwrap();
    assert_eq!(sub.number_of_glyphs(), face.number_of_glyphs());
    let has_outline =
        |f: &ttf_parser::Face, gid: u16| f.glyph_bounding_box(ttf_parser::GlyphId(gid)).is_some();
    for &gid in &used {
        assert!(has_outline(&sub, gid));
        assert_eq!(
            sub.glyph_hor_advance(ttf_parser::GlyphId(gid)),
            face.glyph_hor_advance(ttf_parser::GlyphId(gid))
        );
    }
    let z = face.glyph_index('Z').unwrap().0;
    assert!(has_outline(&face, z) && !has_outline(&sub, z));
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8], body: &[u8]) {
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(body);
    out.extend_from_slice(&[0; 4]); // CRC: not checked by PDF readers nor here
}

#[test]
fn a_png_with_transparency_is_split_into_colour_and_mask() {
    // 2×2 RGBA, rows with filters None and Sub.
    let rows: &[u8] = &[
        0, 255, 0, 0, 255, 0, 255, 0, 128, //
        1, 10, 20, 30, 40, 5, 5, 5, 5,
    ];
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(rows).unwrap();
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = Vec::new();
    header.extend_from_slice(&2u32.to_be_bytes());
    header.extend_from_slice(&2u32.to_be_bytes());
    header.extend_from_slice(&[8, 6, 0, 0, 0]);
    png_chunk(&mut png, b"IHDR", &header);
    png_chunk(&mut png, b"IDAT", &encoder.finish().unwrap());
    png_chunk(&mut png, b"IEND", &[]);
    let Printable::Image(image) = classify(&png) else {
        panic!("not read as an image");
    };
    assert_eq!(image.pixels, (2, 2));
    let decode = |o: &Object| {
        let Object::Stream(s) = o else { panic!() };
        s.decompressed_content().unwrap()
    };
    assert_eq!(
        decode(&image.object),
        vec![255, 0, 0, 0, 255, 0, 10, 20, 30, 15, 25, 35]
    );
    assert_eq!(decode(image.mask.as_ref().unwrap()), vec![255, 128, 40, 45]);
    // Truncated or interlaced: listed, never a panic.
    assert!(matches!(classify(&png[..40]), Printable::Listed(_)));
}

#[test]
fn a_jpeg_is_embedded_as_it_is() {
    // SOI, then a baseline frame header: 8 bits, 3×2 pixels, 3 components.
    let jpeg = [
        0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 8, 0, 2, 0, 3, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1,
    ];
    let Printable::Image(image) = classify(&jpeg) else {
        panic!("not read as an image");
    };
    assert_eq!(image.pixels, (3, 2));
    let Object::Stream(s) = &image.object else {
        panic!()
    };
    assert_eq!(s.content, jpeg);
    assert_eq!(
        s.dict.get(b"Filter").unwrap().as_name().unwrap(),
        b"DCTDecode"
    );
    assert!(matches!(classify(&jpeg[..5]), Printable::Listed(_)));
    assert_eq!(image.orientation, 1);
}

/// A phone photo says how it was held (EXIF orientation 6 in the fixture); the drawing
/// turns the image's unit square into a box as tall as the photo was wide.
#[test]
fn a_jpeg_says_how_it_is_turned_and_is_drawn_so() {
    let photo = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fixtures/dossiers/annexes/photo-pivotee-exif-6.jpg"),
    )
    .unwrap();
    let Printable::Image(image) = classify(&photo) else {
        panic!("not read as an image");
    };
    assert_eq!((image.pixels, image.orientation), ((40, 20), 6));
    // A quarter turn clockwise: the stored top-left corner lands top-right of the box.
    let [a, b, c, d, e, f] = super::layout::placement(6, 10.0, 20.0, 30.0, 60.0);
    let at = |u: f32, v: f32| (a * u + c * v + e, b * u + d * v + f);
    // Stored top-left is unit (0, 1); stored top-right is (1, 1).
    assert_eq!(at(0.0, 1.0), (40.0, 80.0));
    assert_eq!(at(1.0, 1.0), (40.0, 20.0));
    // A damaged EXIF block (its byte order mark overwritten) reads as upright.
    let exif = photo.windows(6).position(|w| w == b"Exif\0\0").unwrap();
    let mut damaged = photo.clone();
    damaged[exif + 6..exif + 8].copy_from_slice(b"XX");
    let Printable::Image(image) = classify(&damaged) else {
        panic!("still an image");
    };
    assert_eq!(image.orientation, 1);
}

#[test]
fn a_character_the_font_lacks_prints_and_copies_as_a_question_mark() {
    let mut font = Font::parse(REGULAR.to_vec(), "R", "AAAAAA").unwrap();
    // DejaVu Sans has no CJK ideographs: drawn with '?', whose own glyph keeps meaning '?'.
    let missing = font.encode("漢");
    let question = font.encode("?");
    assert_eq!(missing, question);
    let objects = font.objects(1, {
        let mut next = 1;
        move || {
            next += 1;
            next
        }
    });
    let Object::Stream(cmap) = &objects.last().unwrap().1 else {
        panic!("the ToUnicode map is a stream");
    };
    let cmap = String::from_utf8(cmap.decompressed_content().unwrap()).unwrap();
    assert!(cmap.contains("<003F>"), "'?' maps to U+003F: {cmap}");
    assert!(!cmap.contains("<6F22>"), "no glyph claims to be 漢");
}

#[test]
fn an_image_declaring_gigapixels_is_listed_not_decoded() {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = Vec::new();
    header.extend_from_slice(&16_384u32.to_be_bytes());
    header.extend_from_slice(&16_384u32.to_be_bytes());
    header.extend_from_slice(&[8, 6, 0, 0, 0]);
    png_chunk(&mut png, b"IHDR", &header);
    png_chunk(&mut png, b"IDAT", &[0x78, 0x9c, 0x03, 0x00]);
    png_chunk(&mut png, b"IEND", &[]);
    assert!(matches!(classify(&png), Printable::Listed(_)));
}

#[test]
fn an_annexe_with_a_title_longer_than_a_page_keeps_its_image_and_every_page() {
    let mut json = sample();
    let long = "Tableau de bord du service de tri, ".repeat(300);
    json.annexes
        .iter_mut()
        .find(|a| a.numero == 6)
        .unwrap()
        .titre = long;
    let (bytes, notices, _) = export_with(&json, from_fixtures);
    assert!(notices.is_empty());
    let doc = lopdf::Document::load_mem(&bytes).unwrap();
    assert_eq!(
        pages_with_images(&doc),
        1,
        "the image is on a page that is written"
    );
    let (short, _, _) = export_with(&sample(), from_fixtures);
    let short_pages = lopdf::Document::load_mem(&short).unwrap().get_pages().len();
    assert!(doc.get_pages().len() > short_pages + 1);
}

/// What a `Tj` of ours draws, read back through its font's ToUnicode map: glyph id → text.
fn to_unicode(doc: &lopdf::Document, font: &lopdf::Dictionary) -> Option<HashMap<u16, String>> {
    let id = font.get(b"ToUnicode").ok()?.as_reference().ok()?;
    let Object::Stream(stream) = doc.get_object(id).ok()? else {
        return None;
    };
    let cmap = String::from_utf8(stream.decompressed_content().ok()?).ok()?;
    let hex = |h: &str| u16::from_str_radix(h, 16).ok();
    let mut map = HashMap::new();
    for line in cmap.lines() {
        let Some((gid, text)) = line
            .strip_prefix('<')
            .and_then(|l| l.strip_suffix('>'))
            .and_then(|l| l.split_once("> <"))
        else {
            continue;
        };
        let units: Option<Vec<u16>> = (0..text.len())
            .step_by(4)
            .map(|at| hex(text.get(at..at + 4)?))
            .collect();
        map.insert(hex(gid)?, String::from_utf16(&units?).ok()?);
    }
    Some(map)
}

/// The text of each of our pages (the cover, the sommaire, the body, the annexes'
/// captions; annexed PDFs' own pages read as empty), its lines joined by spaces: a line
/// broken in a heading or a cell reads whole.
fn page_texts(bytes: &[u8]) -> Vec<String> {
    let doc = lopdf::Document::load_mem(bytes).unwrap();
    doc.get_pages()
        .values()
        .map(|&page| {
            let fonts = doc
                .get_dictionary(page)
                .unwrap()
                .get(b"Resources")
                .and_then(Object::as_dict)
                .and_then(|r| r.get(b"Font"))
                .and_then(Object::as_dict);
            let Ok(fonts) = fonts else {
                return String::new();
            };
            let map = |name: &[u8]| {
                let id = fonts.get(name).ok()?.as_reference().ok()?;
                to_unicode(&doc, doc.get_dictionary(id).ok()?)
            };
            let (Some(regular), Some(bold)) = (map(b"F1"), map(b"F2")) else {
                return String::new();
            };
            let content = String::from_utf8(doc.get_page_content(page).unwrap()).unwrap();
            let mut lines = Vec::new();
            for op in content.lines().filter(|l| l.ends_with("Tj ET")) {
                let glyphs = if op.contains("/F2 ") { &bold } else { &regular };
                let (_, hex) = op.rsplit_once('<').unwrap();
                let hex = hex.trim_end_matches("> Tj ET");
                let line: String = (0..hex.len())
                    .step_by(4)
                    .map(|at| {
                        let gid = u16::from_str_radix(&hex[at..at + 4], 16).unwrap();
                        glyphs.get(&gid).cloned().unwrap_or_default()
                    })
                    .collect();
                lines.push(line);
            }
            lines.join(" ")
        })
        .collect()
}

/// The bookmarks in order: each line of the sommaire and the number of its page.
fn outline(bytes: &[u8]) -> Vec<(String, usize)> {
    let doc = lopdf::Document::load_mem(bytes).unwrap();
    let numbers: HashMap<lopdf::ObjectId, usize> = doc
        .get_pages()
        .into_iter()
        .map(|(number, id)| (id, number as usize))
        .collect();
    let catalog = doc.catalog().unwrap();
    let root = doc
        .get_dictionary(catalog.get(b"Outlines").unwrap().as_reference().unwrap())
        .unwrap();
    let mut next = root.get(b"First").and_then(Object::as_reference).ok();
    let mut items = Vec::new();
    while let Some(id) = next {
        let item = doc.get_dictionary(id).unwrap();
        let title = item.get(b"Title").unwrap().as_str().unwrap();
        let units: Vec<u16> = title[2..]
            .chunks(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        let dest = item.get(b"Dest").unwrap().as_array().unwrap()[0]
            .as_reference()
            .unwrap();
        items.push((String::from_utf16(&units).unwrap(), numbers[&dest]));
        next = item.get(b"Next").and_then(Object::as_reference).ok();
    }
    items
}

fn language_of(bytes: &[u8]) -> String {
    let doc = lopdf::Document::load_mem(bytes).unwrap();
    let lang = doc
        .catalog()
        .unwrap()
        .get(b"Lang")
        .unwrap()
        .as_str()
        .unwrap();
    String::from_utf8(lang.to_vec()).unwrap()
}

/// The words the livret prints of its own, in French and in English: each language's are
/// printed, the other's nowhere (the candidate's answers, in French in the sample, are not
/// among them).
const OWN_WORDS: &[(&str, &str)] = &[
    ("Sommaire", "Contents"),
    ("CANDIDAT(E)", "CANDIDATE"),
    ("DIPLÔME VISÉ", "TARGET QUALIFICATION"),
    ("DATE DU JURY", "JURY DATE"),
    ("CENTRE DE CERTIFICATION", "CERTIFICATION CENTRE"),
    ("Récapitulatif des compétences", "Summary of skills"),
    ("Fiche activité 1", "Activity sheet 1"),
    ("BLOC DE COMPÉTENCES VISÉ", "SKILL BLOCK SOUGHT"),
    ("Je, soussigné(e)", "I, the undersigned"),
    ("Informations générales", "General information"),
    ("Signature :", "Signature:"),
    ("Je déclare sur l'honneur :", "I declare on my honour:"),
    ("Fait à", "Signed at"),
    ("Nom, prénom :", "Surname, first name:"),
    ("Numéro de page", "Page number"),
    ("Annexe 1 —", "Annex 1 —"),
    ("octets", "bytes"),
    ("non reproduit ici", "not reproduced here"),
    ("reproduit à la suite", "reproduced after this page"),
];

#[test]
fn the_livret_prints_in_english_with_the_templates_english_words() {
    let json = sample();
    let template = json.template();
    let (bytes, notices, _) = export_in(&json, true, from_fixtures);
    assert!(notices.is_empty(), "{notices:?}");
    assert_eq!(language_of(&bytes), "en-GB");
    let pages = page_texts(&bytes);
    let all = pages.join(" ");
    for (french, english) in OWN_WORDS {
        assert!(all.contains(english), "{english:?} is printed");
        assert!(
            !all.contains(french),
            "{french:?} is not printed in English"
        );
    }
    assert!(pages[0].contains(&template.document_en.to_uppercase()));
    // The template's sections, in its English words and its order, each heading the page
    // the sommaire points to.
    let outline = outline(&bytes);
    let mut last = 0;
    for section in template.sections {
        let &(_, page) = outline
            .iter()
            .find(|(title, _)| title == section.title_en)
            .unwrap_or_else(|| panic!("{:?} in the sommaire", section.title_en));
        assert!(
            page >= last,
            "{:?} in the template's order",
            section.title_en
        );
        assert!(
            pages[page - 1].contains(section.title_en),
            "{:?} on page {page}: {}",
            section.title_en,
            pages[page - 1]
        );
        // « Annexes » is the same word in both.
        if section.title_fr != section.title_en {
            assert!(!all.contains(section.title_fr), "{:?}", section.title_fr);
        }
        last = page;
    }
    // Labels, engagement, fraud and interview: the template's English words.
    let label = template.section("etat_civil").unwrap().fields[0].label_en;
    assert!(all.contains(label), "{label:?}");
    for (french, english) in template.engagement.iter().chain(template.fraud) {
        let start: String = english.chars().take(40).collect();
        let start_fr: String = french.chars().take(40).collect();
        assert!(all.contains(&start), "{start:?}");
        assert!(!all.contains(&start_fr), "{start_fr:?}");
    }
    let interview = template.interview.as_ref().unwrap();
    assert!(all.contains(interview.heading_en));
    // The footer names the document in English.
    assert!(pages[1].contains(&format!("{} —", template.document_en)));
}

#[test]
fn the_livret_prints_in_french_by_default() {
    let json = sample();
    let template = json.template();
    let (bytes, _, _) = export_with(&json, from_fixtures);
    assert_eq!(language_of(&bytes), "fr-FR");
    let all = page_texts(&bytes).join(" ");
    for (french, english) in OWN_WORDS {
        assert!(all.contains(french), "{french:?} is printed");
        // "Contents" and "bytes" are no French words, but not in the sample either.
        assert!(
            !all.contains(english),
            "{english:?} is not printed in French"
        );
    }
    let titles: Vec<String> = outline(&bytes).into_iter().map(|(t, _)| t).collect();
    let sections: Vec<&str> = template.sections.iter().map(|s| s.title_fr).collect();
    let printed: Vec<&str> = titles
        .iter()
        .map(String::as_str)
        .filter(|t| sections.contains(t))
        .collect();
    assert_eq!(printed, sections);
}

/// The sample written to a certifier's model that leaves out the financement (where ANNEXE 5
/// prints its ENGAGEMENT) and presents the fiches bloc by bloc, with the fiches stored in
/// another order than their blocs'.
fn sample_in_a_narrower_model() -> DossierJson {
    let mut model: serde_json::Value =
        serde_json::from_str(crate::template::generic().pinned).unwrap();
    model["id"] = "certificateur-z".into();
    let sections = model["sections"].as_array_mut().unwrap();
    sections.retain(|s| s["key"] != "financement");
    let mut json = sample();
    json.modele = Some(crate::template::TemplateFile::read(&model.to_string()).unwrap());
    json.fiches.reverse();
    json
}

/// A model without the financement still has its ENGAGEMENT printed and signed (before the
/// déclaration), and its fiches, printed bloc by bloc, keep the numbers the dossier, the
/// récapitulatif and the app give them.
#[test]
fn a_narrower_model_keeps_the_engagement_and_the_fiches_numbers() {
    let json = sample_in_a_narrower_model();
    assert_eq!(json.template().id, "certificateur-z");
    let (bytes, _, _) = export_with(&json, |_| None);
    let pages = page_texts(&bytes);
    let all = pages.join("\n");
    assert!(all.contains("ENGAGEMENT"), "the engagement is printed");
    assert!(!all.contains("Financement envisagé"));
    let engagement = pages.iter().position(|p| p.contains("ENGAGEMENT")).unwrap();
    let declaration = pages
        .iter()
        .rposition(|p| p.contains("Déclaration sur l’honneur"))
        .unwrap();
    assert!(engagement < declaration, "before the déclaration");
    // Stored reversed: the bloc 3 fiche is the dossier's first, printed last under bloc 3,
    // still called « Fiche activité 1 ».
    let first = json.fiches[0].champs["intitule"].text();
    let heading = format!("Fiche activité 1 : {first}");
    let squeezed: Vec<String> = pages
        .iter()
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    let page_of = |text: &str| {
        squeezed
            .iter()
            .rposition(|p| p.contains(text))
            .unwrap_or_else(|| panic!("{text} not printed"))
    };
    assert_eq!(json.fiches[0].champs["bloc"].text(), "3");
    let last = json.fiches[3].champs["intitule"].text();
    assert!(
        page_of(&heading) > page_of(&format!("Fiche activité 4 : {last}")),
        "bloc 3's fiche after bloc 1's"
    );
}
