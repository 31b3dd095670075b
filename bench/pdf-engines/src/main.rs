//! The same 50-fiche livret made by three engines, timed in one run:
//! - Livret's own layout on lopdf (`livret_shared::pdf_export`), what the product uses;
//! - typst as a library: the livret written as typst markup (tables, outline for the
//!   sommaire), compiled and exported with typst-pdf;
//! - printpdf: the same wrapped lines placed page by page (no tables nor sommaire: a lower
//!   bound on what a full layout on printpdf would cost).
//! Prints a table and writes `target/bench/pdf-engines.json`.

use std::time::Instant;

use livret_shared::export::{DossierJson, FieldValue};
use livret_shared::pdf_export::{FontFiles, LivretPdf};

const REGULAR: &[u8] = include_bytes!("../../../app/fonts/DejaVuSans.ttf");
const BOLD: &[u8] = include_bytes!("../../../app/fonts/DejaVuSans-Bold.ttf");
const FICHES: usize = 50;
const RUNS: usize = 5;

fn dossier() -> DossierJson {
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/dossiers/exemple-developpeuse-ia.json"
    ))
    .unwrap();
    let mut json = livret_shared::export::parse(&bytes).unwrap();
    let sample = json.fiches.clone();
    json.fiches = (0..FICHES)
        .map(|i| {
            let mut f = sample[i % sample.len()].clone();
            if let Some(FieldValue::Text(t)) = f.champs.get_mut("intitule") {
                *t = format!("{t} ({})", i + 1);
            }
            f
        })
        .collect();
    json.annexes.clear();
    for f in &mut json.fiches {
        f.champs.insert("preuves".into(), FieldValue::List(vec![]));
    }
    json
}

fn text(v: Option<&FieldValue>) -> String {
    match v {
        Some(FieldValue::Text(t)) => t.clone(),
        Some(FieldValue::List(l)) => l.join(", "),
        None => String::new(),
    }
}

/// Every (label, value) of the livret in order, the way the three engines print it.
fn fields(json: &DossierJson) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for section in json.template().sections {
        if let Some(values) = json.sections.get(section.key) {
            out.push((section.title_fr.to_string(), String::new()));
            for f in section.fields {
                out.push((f.label_fr.to_string(), text(values.get(f.key))));
            }
        }
        if section.key == "fiches" {
            for (i, fiche) in json.fiches.iter().enumerate() {
                out.push((format!("Fiche activité {}", i + 1), String::new()));
                for (k, v) in &fiche.champs {
                    out.push((k.clone(), text(Some(v))));
                }
            }
        }
    }
    out
}

fn ours(json: &DossierJson) -> Vec<u8> {
    let fonts = FontFiles {
        regular: REGULAR.to_vec(),
        bold: BOLD.to_vec(),
    };
    LivretPdf::begin(json, fonts, Vec::new(), false)
        .unwrap()
        .finish()
        .unwrap()
}

mod with_typst {
    use typst::diag::{FileError, FileResult};
    use typst::foundations::{Bytes, Datetime};
    use typst::syntax::{FileId, Source};
    use typst::text::{Font, FontBook};
    use typst::utils::LazyHash;
    use typst::{Library, LibraryExt, World};

    pub struct Livret {
        library: LazyHash<Library>,
        book: LazyHash<FontBook>,
        fonts: Vec<Font>,
        source: Source,
    }

    impl Livret {
        pub fn new(markup: String) -> Livret {
            let fonts: Vec<Font> = [super::REGULAR, super::BOLD]
                .iter()
                .flat_map(|b| Font::iter(Bytes::new(b.to_vec())))
                .collect();
            Livret {
                library: LazyHash::new(Library::builder().build()),
                book: LazyHash::new(FontBook::from_fonts(&fonts)),
                fonts,
                source: Source::detached(markup),
            }
        }
    }

    impl World for Livret {
        fn library(&self) -> &LazyHash<Library> {
            &self.library
        }
        fn book(&self) -> &LazyHash<FontBook> {
            &self.book
        }
        fn main(&self) -> FileId {
            self.source.id()
        }
        fn source(&self, id: FileId) -> FileResult<Source> {
            if id == self.source.id() {
                Ok(self.source.clone())
            } else {
                Err(FileError::AccessDenied)
            }
        }
        fn file(&self, _: FileId) -> FileResult<Bytes> {
            Err(FileError::AccessDenied)
        }
        fn font(&self, index: usize) -> Option<Font> {
            self.fonts.get(index).cloned()
        }
        fn today(&self, _: Option<typst::foundations::Duration>) -> Option<Datetime> {
            Datetime::from_ymd(2026, 12, 1)
        }
    }

    fn quoted(s: &str) -> String {
        format!("{:?}", s)
    }

    pub fn markup(fields: &[(String, String)]) -> String {
        let mut m = String::from(
            "#set page(paper: \"a4\", margin: 2cm, numbering: \"1\")\n\
             #set text(font: \"DejaVu Sans\", size: 10pt, lang: \"fr\")\n\
             #outline(title: [Sommaire])\n#pagebreak()\n",
        );
        for (label, value) in fields {
            // Each fiche on a page of its own, as Livret sets them.
            if label.starts_with("Fiche activité") {
                m.push_str("#pagebreak()\n");
            }
            if value.is_empty() {
                m.push_str(&format!("= #{}\n", quoted(label)));
            } else {
                m.push_str(&format!(
                    "#table(columns: (1fr,), [*#{}*], [#{}])\n",
                    quoted(label),
                    quoted(value)
                ));
            }
        }
        m
    }

    pub fn pdf(markup: &str) -> Vec<u8> {
        let world = Livret::new(markup.to_string());
        let document = typst::compile::<typst_layout::PagedDocument>(&world)
            .output
            .expect("compiles");
        typst_pdf::pdf(&document, &typst_pdf::PdfOptions::default()).expect("exports")
    }
}

mod with_printpdf {
    use printpdf::{
        Mm, Op, ParsedFont, PdfDocument, PdfFontHandle, PdfPage, PdfSaveOptions, Point, Pt,
        TextItem,
    };

    /// Greedy wrapping with the font's advances, as Livret's layout does.
    fn wrap(face: &ttf_parser::Face, text: &str, size: f32, width: f32) -> Vec<String> {
        let w = |s: &str| {
            s.chars()
                .map(|c| {
                    face.glyph_index(c)
                        .and_then(|g| face.glyph_hor_advance(g))
                        .unwrap_or(0) as f32
                })
                .sum::<f32>()
                * size
                / face.units_per_em() as f32
        };
        let mut lines = Vec::new();
        for para in text.split('\n') {
            let mut line = String::new();
            for word in para.split(' ') {
                let candidate = if line.is_empty() {
                    word.to_string()
                } else {
                    format!("{line} {word}")
                };
                if w(&candidate) > width && !line.is_empty() {
                    lines.push(std::mem::replace(&mut line, word.to_string()));
                } else {
                    line = candidate;
                }
            }
            lines.push(line);
        }
        lines
    }

    pub fn pdf(fields: &[(String, String)]) -> Vec<u8> {
        let face = ttf_parser::Face::parse(super::REGULAR, 0).unwrap();
        let regular = ParsedFont::from_bytes(super::REGULAR, 0, &mut Vec::new()).unwrap();
        let bold = ParsedFont::from_bytes(super::BOLD, 0, &mut Vec::new()).unwrap();
        let mut doc = PdfDocument::new("Livret 2");
        let (r, b) = (doc.add_font(&regular), doc.add_font(&bold));
        let mut pages = Vec::new();
        let mut ops = Vec::new();
        let mut y = 842.0 - 57.0;
        let mut line = |ops: &mut Vec<Op>, pages: &mut Vec<PdfPage>, text: &str, bold: bool| {
            if y < 75.0 {
                pages.push(PdfPage::new(Mm(210.0), Mm(297.0), std::mem::take(ops)));
                y = 842.0 - 57.0;
            }
            y -= 13.5;
            ops.extend([
                Op::StartTextSection,
                Op::SetFont {
                    font: PdfFontHandle::External(if bold { b.clone() } else { r.clone() }),
                    size: Pt(10.0),
                },
                Op::SetTextCursor {
                    pos: Point {
                        x: Pt(57.0),
                        y: Pt(y),
                    },
                },
                Op::ShowText {
                    items: vec![TextItem::Text(text.to_string())],
                },
                Op::EndTextSection,
            ]);
        };
        for (label, value) in fields {
            line(&mut ops, &mut pages, label, true);
            for l in wrap(&face, value, 10.0, 480.0) {
                line(&mut ops, &mut pages, &l, false);
            }
        }
        pages.push(PdfPage::new(Mm(210.0), Mm(297.0), ops));
        doc.with_pages(pages)
            .save(&PdfSaveOptions::default(), &mut Vec::new())
    }
}

fn pages(pdf: &[u8]) -> usize {
    lopdf::Document::load_mem(pdf).unwrap().get_pages().len()
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn main() {
    let json = dossier();
    let fields = fields(&json);
    let markup = with_typst::markup(&fields);
    let mut rows = Vec::new();
    let engines: [(&str, Box<dyn Fn() -> Vec<u8>>); 3] = [
        ("livret (lopdf + own layout)", Box::new(|| ours(&json))),
        ("typst 0.15 + typst-pdf", Box::new(|| with_typst::pdf(&markup))),
        ("printpdf 0.12 (lines only)", Box::new(|| with_printpdf::pdf(&fields))),
    ];
    for (name, make) in &engines {
        comemo::evict(0);
        let first = make();
        let times: Vec<f64> = (0..RUNS)
            .map(|_| {
                // typst memoises across compilations; each run starts cold, like an export.
                comemo::evict(0);
                let start = Instant::now();
                std::hint::black_box(make());
                start.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        rows.push((name.to_string(), median(times), first.len(), pages(&first)));
    }
    let base = rows[0].1;
    println!("{FICHES} fiches, median of {RUNS} runs");
    println!("{:<30} {:>10} {:>8} {:>10} {:>7}", "engine", "ms", "× ours", "PDF bytes", "pages");
    for (name, ms, bytes, pages) in &rows {
        println!("{name:<30} {ms:>10.1} {:>8.2} {bytes:>10} {pages:>7}", ms / base);
    }
    let json: Vec<_> = rows
        .iter()
        .map(|(name, ms, bytes, pages)| {
            serde_json::json!({"engine": name, "median_ms": ms, "ratio_to_livret": ms / base, "pdf_bytes": bytes, "pages": pages})
        })
        .collect();
    let out = concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/bench");
    std::fs::create_dir_all(out).unwrap();
    std::fs::write(
        format!("{out}/pdf-engines.json"),
        serde_json::to_vec_pretty(&json).unwrap(),
    )
    .unwrap();
}
