//! The Livret 2 as the certifier expects it: cover, sommaire with real page numbers, the
//! template's sections in its order, one table per fiche activité, the « Votre projet VAE »
//! counts, the déclaration sur l'honneur, then the annexes.
//!
//! An export is a small state machine, so that the caller (the CLI reading files, the app
//! decrypting evidence) hands over one annexed file at a time and can show progress between
//! them: [`LivretPdf::begin`] lays out and writes everything but the annexes and the
//! sommaire; [`LivretPdf::next_annexe`] names the file wanted next;
//! [`LivretPdf::add_annexe`] copies it in and lets it go; [`LivretPdf::finish`] writes the
//! sommaire (now that every page number is known), the fonts and the page tree.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;

use lopdf::{Object, dictionary};
use sha2::Digest;

use super::PdfExportError;
use super::annex::{self, Printable};
use super::font::{Font, compressed};
use super::layout::{
    BODY, CONTENT_WIDTH, Column, Fonts, LABEL, MARGIN, PAGE_HEIGHT, PAGE_WIDTH, Page, SMALL,
    Typesetter,
};
use super::writer::PdfWriter;
use crate::date::Date;
use crate::dossier::{Answer, FieldKind, section_fields};
use crate::export::{AnnexeJson, DossierJson, FieldValue, Notice, Progress};
use crate::referentiel::Referentiel;
use crate::template;

/// The fonts to embed: regular and bold, TrueType (the app and the CLI ship DejaVu Sans).
pub struct FontFiles {
    pub regular: Vec<u8>,
    pub bold: Vec<u8>,
}

/// One line of the sommaire.
struct Entry {
    key: String,
    title: String,
    indent: bool,
}

/// Stands for the page tree's id in annexed pages before it is mapped.
const PARENT_PLACEHOLDER: u32 = u32::MAX;

/// What goes in place of an annexe's file ([`LivretPdf::add_annexe_as`]).
#[derive(Debug, Clone, Copy)]
pub enum AnnexeFile<'a> {
    /// Its file, checked against the fingerprint the dossier recorded.
    Original(&'a [u8]),
    /// A lighter copy made from the checked file (`reduce`): printed, its caption says so.
    Reduced(&'a [u8]),
    /// Filed apart under this name (a platform's additional files): its caption says where.
    Apart(&'a str),
    /// Not at hand: listed, and a notice says so.
    Missing,
}

pub struct LivretPdf<W: Write> {
    /// The document's title (its metadata), from the dossier.
    title: String,
    writer: PdfWriter<W>,
    fonts: Fonts,
    font_ids: (u32, u32),
    page_tree: u32,
    entries: Vec<Entry>,
    /// Reserved for the sommaire, written last.
    sommaire_ids: Vec<u32>,
    /// Every page in reading order (the sommaire's after the cover).
    page_ids: Vec<u32>,
    /// Sommaire key → page number (1-based).
    anchors: HashMap<String, usize>,
    /// Annexes in number order; the next one wanted.
    annexes: Vec<AnnexeJson>,
    next: usize,
    bytes_done: u64,
    notices: Vec<Notice>,
    footer: String,
    /// Printed in English (the template's English words and ours), else in French.
    english: bool,
}

/// `fr` or `en`, as the livret is printed: the template's words come in both languages,
/// and so do the livret's own.
fn w(english: bool, fr: &'static str, en: &'static str) -> &'static str {
    if english { en } else { fr }
}

impl<W: Write> LivretPdf<W> {
    /// Lays out the livret and writes its pages but the sommaire; annexes come next. In
    /// English when `english` (the template's English words, and the livret's own), else
    /// in French.
    pub fn begin(
        json: &DossierJson,
        fonts: FontFiles,
        out: W,
        english: bool,
    ) -> Result<Self, PdfExportError> {
        let mut fonts = Fonts {
            regular: Font::parse(fonts.regular, "DejaVuSans", "LIVRTA")?,
            bold: Font::parse(fonts.bold, "DejaVuSans-Bold", "LIVRTB")?,
        };
        let mut writer = PdfWriter::new(out)?;
        let page_tree = writer.reserve();
        let font_ids = (writer.reserve(), writer.reserve());
        let mut annexes = json.annexes.clone();
        annexes.sort_by_key(|a| a.numero);
        let entries = sommaire_entries(json, &annexes, english);

        // The sommaire's length depends only on its lines, so it is known before any page
        // number is: laid out once with placeholders, it fixes where the body starts.
        let sommaire_len = {
            let mut t = Typesetter::new(&mut fonts);
            sommaire(&mut t, &entries, &HashMap::new(), english);
            t.pages.len()
        };
        let first_body_page = 2 + sommaire_len;
        // The body shows page numbers of its own sections (« Votre projet VAE »): laid out
        // until those numbers stop moving (twice in practice).
        let mut numbers = HashMap::new();
        let mut attempts = 0;
        let (body, anchors) = loop {
            attempts += 1;
            let mut t = Typesetter::new(&mut fonts);
            let anchors = body(&mut t, json, &annexes, &numbers, english);
            let placed: HashMap<String, usize> = anchors
                .into_iter()
                .map(|(k, index)| (k, first_body_page + index))
                .collect();
            if placed == numbers || attempts == 4 {
                break (t.pages, placed);
            }
            numbers = placed;
        };

        let mut cover_set = Typesetter::new(&mut fonts);
        cover(&mut cover_set, json, english);
        let cover_page = cover_set.pages.remove(0);

        let template = json.template();
        let document = w(english, template.document_fr, template.document_en);
        let footer = {
            let name = format!(
                "{} {}",
                json.text("etat_civil", "prenom"),
                json.text("etat_civil", "nom")
            );
            format!("{document} — {}", shortened(name.trim(), 60))
        };
        let mut this = LivretPdf {
            title: format!("{document} — {}", json.text("projet_vae", "certification")),
            writer,
            fonts,
            font_ids,
            page_tree,
            entries,
            sommaire_ids: Vec::new(),
            page_ids: Vec::new(),
            anchors,
            annexes,
            next: 0,
            bytes_done: 0,
            notices: Vec::new(),
            footer,
            english,
        };
        this.write_page(cover_page, None)?;
        this.sommaire_ids = (0..sommaire_len).map(|_| this.writer.reserve()).collect();
        this.page_ids.extend(this.sommaire_ids.clone());
        this.write_numbered(body)?;
        Ok(this)
    }

    pub fn progress(&self) -> Progress {
        Progress {
            annexes_done: self.next,
            annexes_total: self.annexes.len(),
            bytes_done: self.bytes_done,
            bytes_total: self
                .annexes
                .iter()
                .fold(0u64, |sum, a| sum.saturating_add(a.taille)),
        }
    }

    /// The annexe whose file is wanted next, in number order; `None` when all are in.
    pub fn next_annexe(&self) -> Option<&AnnexeJson> {
        self.annexes.get(self.next)
    }

    /// Adds the next annexe: `file` is its content, or `None` when the file is not at hand
    /// (it is then listed, and a [`Notice`] says so). A file whose SHA-256 is not the one
    /// the dossier recorded is not printed either: it is not the evidence described.
    pub fn add_annexe(&mut self, file: Option<&[u8]>) -> Result<(), PdfExportError> {
        self.add_annexe_as(file.map_or(AnnexeFile::Missing, AnnexeFile::Original))
    }

    /// Adds the next annexe as `file` says (see [`AnnexeFile`]).
    pub fn add_annexe_as(&mut self, file: AnnexeFile<'_>) -> Result<(), PdfExportError> {
        let Some(annexe) = self.annexes.get(self.next).cloned() else {
            return Ok(());
        };
        let english = self.english;
        self.next += 1;
        self.bytes_done = self.bytes_done.saturating_add(annexe.taille);
        let mut reduced = false;
        let file = match file {
            AnnexeFile::Original(bytes)
                if hex::encode(sha2::Sha256::digest(bytes)) == annexe.empreinte =>
            {
                Some(bytes)
            }
            AnnexeFile::Original(_) => {
                self.notice(
                    &annexe,
                    "le fichier fourni n'a pas l'empreinte enregistrée : non imprimé",
                );
                None
            }
            AnnexeFile::Reduced(bytes) => {
                reduced = true;
                Some(bytes)
            }
            AnnexeFile::Apart(name) => {
                self.anchors
                    .insert(format!("annexe:{}", self.next - 1), self.page_ids.len() + 1);
                let note = if english {
                    format!(
                        "Filed separately, as an additional file: “{name}” (the fingerprint above is the original file's, which stays in the digital dossier)."
                    )
                } else {
                    format!(
                        "Déposée à part, en fichier complémentaire : « {name} » (l'empreinte ci-dessus est celle du fichier d'origine, qui reste dans le dossier numérique)."
                    )
                };
                let pages = self.caption(&annexe, &note, None);
                return self.write_numbered(pages);
            }
            AnnexeFile::Missing => {
                self.notice(&annexe, "fichier absent : annexe listée, non imprimée");
                None
            }
        };
        let lighter = match (reduced, english) {
            (false, _) => "",
            (true, false) => {
                "Version allégée pour le dépôt (images ramenées à 150 points par pouce) ; le fichier d'origine, d'empreinte ci-dessus, reste dans le dossier numérique. "
            }
            (true, true) => {
                "Lighter version for filing (images brought down to 150 dots per inch); the original file, with the fingerprint above, stays in the digital dossier. "
            }
        };
        let printable = match file {
            Some(bytes) => annex::classify(bytes),
            None => Printable::Listed((
                "fichier non disponible lors de l'export",
                "file not available at the time of export",
            )),
        };
        let caption_page = self.page_ids.len() + 1;
        self.anchors
            .insert(format!("annexe:{}", self.next - 1), caption_page);
        match printable {
            Printable::Pdf => match file.and_then(annex::import_pdf) {
                Some(pdf) => {
                    let count = pdf.pages.len();
                    let plural = if count > 1 { "s" } else { "" };
                    let note = if english {
                        format!(
                            "{lighter}PDF document of {count} page{plural}, reproduced after this page."
                        )
                    } else {
                        format!(
                            "{lighter}Document PDF de {count} page{plural}, reproduit à la suite."
                        )
                    };
                    let pages = self.caption(&annexe, &note, None);
                    self.write_numbered(pages)?;
                    self.copy_pdf(pdf)?;
                }
                None => {
                    self.notice(&annexe, "PDF illisible ou protégé : annexe listée");
                    let pages = self.caption(
                        &annexe,
                        w(
                            english,
                            "PDF illisible ou protégé par un mot de passe : joint au dossier numérique, non reproduit ici.",
                            "PDF unreadable or protected by a password: attached to the digital dossier, not reproduced here.",
                        ),
                        None,
                    );
                    self.write_numbered(pages)?;
                }
            },
            Printable::Image(image) => {
                let mask = match image.mask {
                    Some(mask) => Some(self.writer.add(&mask)?),
                    None => None,
                };
                let mut object = image.object;
                if let (Some(mask), Object::Stream(stream)) = (mask, &mut object) {
                    stream.dict.set("SMask", (mask, 0));
                }
                let id = self.writer.add(&object)?;
                let pages = self.caption(
                    &annexe,
                    lighter.trim_end(),
                    Some((id, image.pixels, image.orientation)),
                );
                self.write_numbered(pages)?;
            }
            Printable::Listed((why_fr, why_en)) => {
                let note = if english {
                    format!(
                        "File attached to the digital dossier, not reproduced here ({why_en}). Its SHA-256 fingerprint lets anyone check that it is this very file."
                    )
                } else {
                    format!(
                        "Fichier joint au dossier numérique, non reproduit ici ({why_fr}). Son empreinte SHA-256 permet de vérifier qu'il est bien celui-ci."
                    )
                };
                let pages = self.caption(&annexe, &note, None);
                self.write_numbered(pages)?;
            }
        }
        Ok(())
    }

    /// What was printed differently from the dossier (files missing, altered, unreadable).
    pub fn notices(&self) -> &[Notice] {
        &self.notices
    }

    /// Writes the sommaire, the fonts and the page tree; gives back the output. Annexes not
    /// added by then are listed as missing.
    pub fn finish(mut self) -> Result<W, PdfExportError> {
        while self.next < self.annexes.len() {
            self.add_annexe(None)?;
        }
        let mut t = Typesetter::new(&mut self.fonts);
        sommaire(&mut t, &self.entries, &self.anchors, self.english);
        let pages = std::mem::take(&mut t.pages);
        // Same lines, so the same number of pages as reserved in `begin`.
        debug_assert_eq!(pages.len(), self.sommaire_ids.len());
        for (i, (page, id)) in pages.into_iter().zip(self.sommaire_ids.clone()).enumerate() {
            self.write_page_as(id, page, Some(2 + i))?;
        }
        for (font, id) in [
            (&self.fonts.regular, self.font_ids.0),
            (&self.fonts.bold, self.font_ids.1),
        ] {
            let writer = &mut self.writer;
            for (object_id, object) in font.objects(id, || writer.reserve()) {
                writer.write(object_id, &object)?;
            }
        }
        let kids: Vec<Object> = self.page_ids.iter().map(|&id| (id, 0).into()).collect();
        self.writer.write(
            self.page_tree,
            &Object::Dictionary(dictionary! {
                "Type" => "Pages", "Count" => kids.len() as i64, "Kids" => kids,
            }),
        )?;
        let outline = self.outline()?;
        let catalog = self.writer.add(&Object::Dictionary(dictionary! {
            "Type" => "Catalog", "Pages" => (self.page_tree, 0),
            "Lang" => Object::string_literal(w(self.english, "fr-FR", "en-GB")),
            "Outlines" => (outline, 0), "PageMode" => "UseOutlines",
        }))?;
        let info = self.writer.add(&Object::Dictionary(dictionary! {
            "Title" => utf16(&self.title),
            "Producer" => Object::string_literal("Livret"),
        }))?;
        Ok(self.writer.finish(catalog, Some(info))?)
    }

    /// Bookmarks: one per line of the sommaire, pointing at its page.
    fn outline(&mut self) -> Result<u32, PdfExportError> {
        let root = self.writer.reserve();
        let items: Vec<(&Entry, usize)> = self
            .entries
            .iter()
            .filter_map(|e| self.anchors.get(&e.key).map(|&p| (e, p)))
            .collect();
        let ids: Vec<u32> = items.iter().map(|_| self.writer.reserve()).collect();
        for (i, (entry, page)) in items.iter().enumerate() {
            let mut item = dictionary! {
                "Title" => utf16(&entry.title),
                "Parent" => (root, 0),
                "Dest" => vec![(self.page_ids[page - 1], 0).into(), "Fit".into()],
            };
            if i > 0 {
                item.set("Prev", (ids[i - 1], 0));
            }
            if i + 1 < ids.len() {
                item.set("Next", (ids[i + 1], 0));
            }
            self.writer.write(ids[i], &Object::Dictionary(item))?;
        }
        let mut dict = dictionary! { "Type" => "Outlines", "Count" => ids.len() as i64 };
        if let (Some(first), Some(last)) = (ids.first(), ids.last()) {
            dict.set("First", (*first, 0));
            dict.set("Last", (*last, 0));
        }
        self.writer.write(root, &Object::Dictionary(dict))?;
        Ok(root)
    }

    fn notice(&mut self, annexe: &AnnexeJson, message: &str) {
        self.notices.push(Notice {
            numero: annexe.numero,
            message: message.to_string(),
        });
    }

    /// The page that opens an annexe: its number, title, file, size and fingerprint; then
    /// `note`, or the image fitted below.
    fn caption(
        &mut self,
        annexe: &AnnexeJson,
        note: &str,
        image: Option<(u32, (u32, u32), u8)>,
    ) -> Vec<Page> {
        let english = self.english;
        let mut t = Typesetter::new(&mut self.fonts);
        t.new_page();
        t.heading(&annexe_title(english, annexe), 14.0, 40.0);
        let columns = [Column::left(25.0), Column::left(75.0)];
        for (label, value) in [
            (w(english, "Fichier", "File"), annexe.fichier.clone()),
            ("Type", annexe.media_type.clone()),
            (w(english, "Taille", "Size"), size(annexe.taille, english)),
            ("SHA-256", annexe.empreinte.clone()),
        ] {
            t.row(&columns, &[(LABEL, label), (BODY, &value)], false);
        }
        t.space(10.0);
        if !note.is_empty() {
            t.paragraph(BODY, note, 0.0);
        }
        if let Some((id, pixels, orientation)) = image {
            t.space(6.0);
            t.image(id, pixels, CONTENT_WIDTH, orientation);
        }
        std::mem::take(&mut t.pages)
    }

    /// Writes `pages` as the next ones, each with its number (a caption with a long title
    /// may take more than one page: none is left out).
    fn write_numbered(&mut self, pages: Vec<Page>) -> Result<(), PdfExportError> {
        for page in pages {
            let number = self.page_ids.len() + 1;
            self.write_page(page, Some(number))?;
        }
        Ok(())
    }

    fn write_page(&mut self, page: Page, number: Option<usize>) -> Result<(), PdfExportError> {
        let id = self.writer.reserve();
        self.page_ids.push(id);
        self.write_page_as(id, page, number)
    }

    /// Writes `page` as object `id`, with the footer when it has a number.
    fn write_page_as(
        &mut self,
        id: u32,
        mut page: Page,
        number: Option<usize>,
    ) -> Result<(), PdfExportError> {
        if let Some(number) = number {
            let mut t = Typesetter::new(&mut self.fonts);
            t.new_page();
            let label = format!("{number}");
            let right = MARGIN + CONTENT_WIDTH - t.width(SMALL, &label);
            t.text_at(SMALL, MARGIN, MARGIN - 6.0, &self.footer);
            t.text_at(SMALL, right, MARGIN - 6.0, &label);
            page.ops.push_str(&t.pages[0].ops);
        }
        let content = self
            .writer
            .add(&compressed(dictionary! {}, page.ops.as_bytes()))?;
        self.writer.write(
            id,
            &page_object(&page, content, self.page_tree, self.font_ids),
        )?;
        Ok(())
    }

    /// Writes an annexed PDF's objects under new ids and appends its pages.
    fn copy_pdf(&mut self, pdf: annex::ImportedPdf) -> Result<(), PdfExportError> {
        let ids: HashMap<lopdf::ObjectId, u32> = pdf
            .objects
            .iter()
            .map(|(old, _)| (*old, self.writer.reserve()))
            .collect();
        let page_tree = self.page_tree;
        let map = |r: lopdf::ObjectId| {
            if r.0 == PARENT_PLACEHOLDER {
                Some(page_tree)
            } else {
                ids.get(&r).copied()
            }
        };
        for (old, mut object) in pdf.objects {
            if pdf.pages.contains(&old)
                && let Object::Dictionary(dict) = &mut object
            {
                dict.set("Parent", (PARENT_PLACEHOLDER, 0));
            }
            self.writer.write_mapped(ids[&old], &object, &map)?;
        }
        for page in &pdf.pages {
            if let Some(&id) = ids.get(page) {
                self.page_ids.push(id);
            }
        }
        Ok(())
    }
}

/// A PDF text string: UTF-16 with its byte order mark, for titles with accents.
/// A page's dictionary: its content stream, the two fonts, its images.
pub(super) fn page_object(page: &Page, content: u32, page_tree: u32, fonts: (u32, u32)) -> Object {
    let mut resources = dictionary! {
        "Font" => dictionary! { "F1" => (fonts.0, 0), "F2" => (fonts.1, 0) },
    };
    if !page.images.is_empty() {
        let mut xobjects = lopdf::Dictionary::new();
        for (name, image) in &page.images {
            xobjects.set(name.as_bytes(), (*image, 0));
        }
        resources.set("XObject", xobjects);
    }
    Object::Dictionary(dictionary! {
        "Type" => "Page", "Parent" => (page_tree, 0),
        "MediaBox" => vec![0.into(), 0.into(), Object::Real(PAGE_WIDTH), Object::Real(PAGE_HEIGHT)],
        "Resources" => resources,
        "Contents" => (content, 0),
    })
}

pub(super) fn utf16(text: &str) -> Object {
    let mut bytes = vec![0xFE, 0xFF];
    for unit in text.encode_utf16() {
        bytes.extend_from_slice(&unit.to_be_bytes());
    }
    Object::String(bytes, lopdf::StringFormat::Hexadecimal)
}

/// A file's size: `1,5 Mo (1572864 octets)` in French, `1.5 MB (1572864 bytes)` in English.
fn size(bytes: u64, english: bool) -> String {
    let (mb, kb, unit) = if english {
        ("MB", "KB", "bytes")
    } else {
        ("Mo", "Ko", "octets")
    };
    let said = match bytes {
        b if b >= 1 << 20 => format!("{:.1} {mb} ({b} {unit})", b as f64 / f64::from(1 << 20)),
        b if b >= 1 << 10 => format!("{:.1} {kb} ({b} {unit})", b as f64 / 1024.0),
        b => format!("{b} {unit}"),
    };
    if english {
        said
    } else {
        said.replace('.', ",")
    }
}

/// « Annexe 3 — Titre », as the sommaire, the captions and the fiches name an annexe.
fn annexe_title(english: bool, annexe: &AnnexeJson) -> String {
    format!(
        "{} {} — {}",
        w(english, "Annexe", "Annex"),
        annexe.numero,
        annexe.titre
    )
}

fn value_text(value: Option<&FieldValue>) -> String {
    value.map(FieldValue::text).unwrap_or_default()
}

fn list(value: Option<&FieldValue>) -> Vec<String> {
    match value {
        Some(FieldValue::List(items)) => items.clone(),
        Some(FieldValue::Text(t)) if !t.trim().is_empty() => vec![t.trim().to_string()],
        _ => Vec::new(),
    }
}

/// `2027-03-15` as `15/03/2027`; anything else as typed.
pub(super) fn french_date(date: &str) -> String {
    Date::read(date).map_or_else(|| date.trim().to_string(), Date::french_numeric)
}

/// A field as the form prints it: the answers to circle, the chosen one ticked (free text an
/// older version kept instead, as written); a day as `jj/mm/aaaa` (in English too).
fn printed(kind: FieldKind, stored: &str, english: bool) -> String {
    let answer = Answer::of(kind, stored);
    match (kind, &answer) {
        (FieldKind::Choice(options), Answer::Chosen(_) | Answer::Empty) => {
            let ticked: Vec<String> = options
                .iter()
                .map(|c| {
                    let tick = match answer {
                        Answer::Chosen(d) if d.key == c.key => "☒",
                        _ => "☐",
                    };
                    format!("{tick} {}", w(english, c.label_fr, c.label_en))
                })
                .collect();
            // Short answers side by side, as the form prints them; long ones a line each.
            let width: usize = ticked.iter().map(|t| t.chars().count() + 3).sum();
            ticked.join(if width <= 48 { "   " } else { "\n" })
        }
        (_, Answer::Day(day)) => day.french_numeric(),
        _ => stored.trim().to_string(),
    }
}

/// The candidate's age as the template asks it, on the day the déclaration is signed
/// (the PDF reads no clock): `""` without both days.
fn age(json: &DossierJson, english: bool) -> String {
    let born = Date::read(&json.text("etat_civil", "date_naissance"));
    let signed = Date::read(&json.text("declaration", "date"));
    match born.zip(signed).and_then(|(b, s)| b.years_to(s)) {
        Some(years) if english => format!("{years} years"),
        Some(years) => format!("{years} ans"),
        None => String::new(),
    }
}

/// Shown where a field is empty, so a blank is visibly blank and not a layout fault.
const EMPTY: &str = "—";

pub(super) fn or_empty(s: String) -> String {
    if s.is_empty() { EMPTY.to_string() } else { s }
}

pub(super) fn bloc_label(referentiel: Option<&Referentiel>, bloc: &str, english: bool) -> String {
    let found = referentiel.and_then(|r| {
        r.blocs
            .iter()
            .find(|b| b.number.to_string() == bloc.trim() || b.code == bloc.trim())
    });
    match found {
        Some(b) => bloc_name(b, english),
        None if bloc.trim().chars().all(|c| c.is_ascii_digit()) && !bloc.trim().is_empty() => {
            format!("{} {}", w(english, "Bloc", "Block"), bloc.trim())
        }
        None => bloc.trim().to_string(),
    }
}

/// A bloc of the référentiel as the livret names it: « Bloc 2 — Intégrer… » in French
/// ([`crate::referentiel::Bloc::label`]), « Block 2 — Intégrer… » in English (its title is
/// the référentiel's, in French).
fn bloc_name(bloc: &crate::referentiel::Bloc, english: bool) -> String {
    match (&bloc.title, english) {
        (_, false) => bloc.label(),
        (Some(title), true) => format!("Block {} — {title}", bloc.number),
        (None, true) => format!("Block {}", bloc.number),
    }
}

pub(super) fn competence_label(
    referentiel: Option<&Referentiel>,
    code: &str,
    english: bool,
) -> String {
    // A cited criterion: its compétence's code, its rank and its words.
    if let (competence, Some(rank)) = crate::referentiel::split_citation(code) {
        return match referentiel.and_then(|r| r.criterion(code)) {
            Some(c) if english => format!("{competence}, criterion {rank}: {}", c.title),
            Some(c) => format!("{competence}, critère {rank} : {}", c.title),
            None => code.trim().to_string(),
        };
    }
    referentiel
        .and_then(|r| {
            r.blocs
                .iter()
                .flat_map(|b| &b.competences)
                .find(|c| c.code == code.trim())
        })
        .map_or_else(
            || code.trim().to_string(),
            |c| format!("{}. {}", c.code, c.title),
        )
}

fn active_fiches(json: &DossierJson) -> impl Iterator<Item = &crate::export::FicheJson> {
    json.fiches.iter().filter(|f| !f.supprimee)
}

/// The fiches in the order printed, each with the heading of the bloc it opens: a model that
/// presents them bloc by bloc ([`crate::template::Template::fiches_by_bloc`]) groups them
/// under each bloc of the référentiel in its order (a fiche naming no bloc it has comes
/// last, under « Autres activités »); another keeps the dossier's order, with no heading.
///
/// Each fiche keeps its number (1-based, the dossier's order): the one the récapitulatif, the
/// app, the checks and the jury's notes call it by.
fn printed_fiches(
    json: &DossierJson,
    english: bool,
) -> Vec<(Option<String>, usize, &crate::export::FicheJson)> {
    let fiches: Vec<(usize, &crate::export::FicheJson)> = active_fiches(json)
        .enumerate()
        .map(|(i, f)| (i + 1, f))
        .collect();
    if !json.template().fiches_by_bloc {
        return fiches.into_iter().map(|(n, f)| (None, n, f)).collect();
    }
    let referentiel = json.referentiel.as_ref();
    let bloc_of = |fiche: &crate::export::FicheJson| {
        let written = value_text(fiche.champs.get("bloc"));
        referentiel.and_then(|r| {
            r.blocs
                .iter()
                .position(|b| b.number.to_string() == written.trim() || b.code == written.trim())
        })
    };
    // (the bloc's place in the référentiel, none for « Autres activités »; its fiches).
    type Group<'a> = (Option<usize>, Vec<(usize, &'a crate::export::FicheJson)>);
    let mut groups: Vec<Group> = Vec::new();
    let blocs = referentiel.map_or(0, |r| r.blocs.len());
    for at in (0..blocs).map(Some).chain(std::iter::once(None)) {
        let members: Vec<_> = fiches
            .iter()
            .copied()
            .filter(|(_, f)| bloc_of(f) == at)
            .collect();
        if !members.is_empty() {
            groups.push((at, members));
        }
    }
    let mut out = Vec::new();
    for (at, members) in groups {
        let heading = match (at, referentiel) {
            (Some(i), Some(r)) => bloc_name(&r.blocs[i], english),
            _ => w(english, "Autres activités", "Other activities").to_string(),
        };
        for (i, (number, fiche)) in members.into_iter().enumerate() {
            out.push(((i == 0).then(|| heading.clone()), number, fiche));
        }
    }
    out
}

fn fiche_title(index: usize, fiche: &crate::export::FicheJson, english: bool) -> String {
    let intitule = value_text(fiche.champs.get("intitule"));
    match (intitule.is_empty(), english) {
        (true, false) => format!("Fiche activité {index}"),
        (false, false) => format!("Fiche activité {index} : {intitule}"),
        (true, true) => format!("Activity sheet {index}"),
        (false, true) => format!("Activity sheet {index}: {intitule}"),
    }
}

/// A section's fields as the template lays them out: short answers in a two-column form,
/// long ones boxed; `values`, the section's own or a further structure's or poste's. What
/// the template no longer asks (given the answers) is left out.
fn form_fields(
    t: &mut Typesetter,
    json: &DossierJson,
    section: &template::SectionText,
    values: &BTreeMap<String, crate::export::FieldValue>,
    english: bool,
) {
    let key = section.key;
    let referentiel = json.referentiel.as_ref();
    let form = [Column::left(36.0), Column::left(64.0)];
    let kinds = section_fields(key);
    for field in section.fields {
        if !crate::export::is_asked_in(key, values, field.key) {
            continue;
        }
        let kind = kinds
            .iter()
            .find(|(f, _)| *f == field.key)
            .map_or(FieldKind::Scalar, |(_, k)| *k);
        let value = values.get(field.key);
        let shown = match (key, field.key) {
            ("projet_vae", "blocs_vises") => list(value)
                .iter()
                .map(|b| bloc_label(referentiel, b, english))
                .collect::<Vec<_>>()
                .join("\n"),
            _ => printed(kind, &value_text(value), english),
        };
        let label = w(english, field.label_fr, field.label_en);
        match kind {
            FieldKind::Text => {
                t.space(4.0);
                t.boxed(label, &or_empty(shown));
            }
            _ => t.row(&form, &[(LABEL, label), (BODY, &or_empty(shown))], false),
        }
        if (key, field.key) == ("etat_civil", "date_naissance") {
            t.row(
                &form,
                &[
                    (LABEL, w(english, "Âge", "Age")),
                    (BODY, &or_empty(age(json, english))),
                ],
                false,
            );
        }
    }
}

/// A further structure's or poste's title: the section's, numbered (the section's own is
/// the first).
fn repeat_title(section: &template::SectionText, number: usize, english: bool) -> String {
    format!("{} ({number})", section_name(section, english))
}

/// A section's title in the template's words.
fn section_name(section: &template::SectionText, english: bool) -> &'static str {
    w(english, section.title_fr, section.title_en)
}

fn section_title(json: &DossierJson, key: &str, english: bool) -> &'static str {
    json.template()
        .section(key)
        .map_or("", |s| section_name(s, english))
}

fn sommaire_entries(json: &DossierJson, annexes: &[AnnexeJson], english: bool) -> Vec<Entry> {
    let mut entries = Vec::new();
    let mut push = |key: String, title: String, indent: bool| {
        entries.push(Entry { key, title, indent });
    };
    let template = json.template();
    for section in template.sections {
        match section.key {
            "fiches" => {
                if json.referentiel.is_some() {
                    push(
                        "recapitulatif".into(),
                        w(english, RECAPITULATIF.0, RECAPITULATIF.1).into(),
                        false,
                    );
                }
                push(
                    "fiches".into(),
                    section_name(section, english).into(),
                    false,
                );
                for (_, number, fiche) in printed_fiches(json, english) {
                    push(
                        format!("fiche:{number}"),
                        fiche_title(number, fiche, english),
                        true,
                    );
                }
            }
            "declaration" => {
                if let Some(interview) = &template.interview {
                    push(
                        "entretien".into(),
                        w(english, interview.heading_fr, interview.heading_en).into(),
                        false,
                    );
                }
                push(
                    section.key.into(),
                    section_name(section, english).into(),
                    false,
                );
            }
            key => {
                push(key.into(), section_name(section, english).into(), false);
                for (number, repeat) in json.repeats(key) {
                    push(
                        format!("{key}:{}", repeat.id),
                        repeat_title(section, number, english),
                        true,
                    );
                }
            }
        }
    }
    // Keyed by place, not number: two devices adding an annexe offline may both number it
    // 7 until it is renumbered, and each must keep its line.
    for (i, a) in annexes.iter().enumerate() {
        push(format!("annexe:{i}"), annexe_title(english, a), true);
    }
    entries
}

/// The récapitulatif's title, in the sommaire and on its page.
const RECAPITULATIF: (&str, &str) = ("Récapitulatif des compétences", "Summary of skills");

fn sommaire(t: &mut Typesetter, entries: &[Entry], pages: &HashMap<String, usize>, english: bool) {
    t.new_page();
    t.heading(w(english, "Sommaire", "Contents"), 18.0, 30.0);
    let columns = [Column::left(86.0), Column::right(14.0)];
    for entry in entries {
        // Placeholder with the widest digits, so the first layout takes the room the real
        // numbers will.
        let number = pages
            .get(&entry.key)
            .map_or("000".to_string(), |p| p.to_string());
        let title = if entry.indent {
            // Non-breaking: line breaking splits on ordinary spaces and would drop these.
            format!("\u{a0}\u{a0}\u{a0}\u{a0}{}", entry.title)
        } else {
            entry.title.clone()
        };
        let style = if entry.indent { BODY } else { LABEL };
        t.row(&columns, &[(style, &title), (BODY, &number)], false);
    }
}

/// `text` cut to `max` characters with an ellipsis: the cover is one page, and every value
/// on it is printed whole in the body.
pub(super) fn shortened(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        text.chars()
            .take(max - 1)
            .chain(std::iter::once('…'))
            .collect()
    }
}

fn cover(t: &mut Typesetter, json: &DossierJson, english: bool) {
    let template = json.template();
    t.new_page();
    t.space(90.0);
    t.heading(
        &w(english, template.document_fr, template.document_en).to_uppercase(),
        28.0,
        0.0,
    );
    t.paragraph(
        LABEL.sized(14.0),
        w(
            english,
            "Dossier de validation des acquis de l'expérience (VAE)",
            "Dossier for the validation of prior experience (VAE)",
        ),
        0.0,
    );
    t.space(50.0);
    let columns = [Column::left(38.0), Column::left(62.0)];
    let name = format!(
        "{} {}",
        json.text("etat_civil", "prenom"),
        json.text("etat_civil", "nom").to_uppercase()
    );
    for (label, value) in [
        (
            w(english, "CANDIDAT(E)", "CANDIDATE"),
            name.trim().to_string(),
        ),
        (
            w(english, "DIPLÔME VISÉ", "TARGET QUALIFICATION"),
            json.text("projet_vae", "certification"),
        ),
        // The template's cover reads "RNCP : 37827": the number after the label, whether
        // the candidate typed "RNCP37827" (as France Compétences writes it) or "37827".
        (
            "RNCP",
            rncp_number(&json.text("projet_vae", "rncp")).to_string(),
        ),
        (
            w(english, "DATE DU JURY", "JURY DATE"),
            french_date(&json.text("projet_vae", "date_jury")),
        ),
        (
            w(english, "CENTRE DE CERTIFICATION", "CERTIFICATION CENTRE"),
            json.text("projet_vae", "centre"),
        ),
    ] {
        t.row(
            &columns,
            &[
                (LABEL, label),
                (BODY.sized(11.0), &or_empty(shortened(&value, 200))),
            ],
            false,
        );
    }
}

/// A RNCP code without its "RNCP" prefix (and the spaces or colon after it).
fn rncp_number(code: &str) -> &str {
    template::rncp_digits(code)
}

/// Lays out everything between the sommaire and the annexes; gives each sommaire key the
/// index of the page it starts on. `pages`: page numbers to print in « Votre projet VAE »
/// (empty on the first layout).
fn body(
    t: &mut Typesetter,
    json: &DossierJson,
    annexes: &[AnnexeJson],
    pages: &HashMap<String, usize>,
    english: bool,
) -> BTreeMap<String, usize> {
    let mut anchors = BTreeMap::new();
    let referentiel = json.referentiel.as_ref();
    let template = json.template();
    // ANNEXE 5 prints its ENGAGEMENT after the financement; a model without that section,
    // just before the déclaration (every model has one). None if the model has no words
    // for it.
    let engagement_after =
        if template.engagement.is_empty() && template.general_information.is_empty() {
            ""
        } else if template.section("financement").is_some() {
            "financement"
        } else {
            "declaration"
        };
    for section in template.sections {
        let title = section_name(section, english);
        let guidance = w(english, section.guidance_fr, section.guidance_en);
        match section.key {
            "fiches" => {
                if let Some(r) = referentiel {
                    t.new_page();
                    anchors.insert("recapitulatif".into(), t.page_index());
                    recapitulatif(t, r, json, english);
                }
                t.new_page();
                anchors.insert("fiches".into(), t.page_index());
                t.heading(title, 16.0, 40.0);
                t.paragraph(BODY, guidance, 0.0);
                for (bloc, number, fiche) in printed_fiches(json, english) {
                    t.new_page();
                    anchors.insert(format!("fiche:{number}"), t.page_index());
                    if let Some(bloc) = bloc {
                        t.paragraph(LABEL.sized(13.0), &bloc, 0.0);
                        t.space(6.0);
                    }
                    fiche_table(t, number, fiche, referentiel, annexes, template, english);
                }
            }
            "annexes" => {
                t.new_page();
                anchors.insert("annexes".into(), t.page_index());
                t.heading(title, 16.0, 40.0);
                t.paragraph(BODY, guidance, 0.0);
                t.space(8.0);
                let columns = [Column::right(8.0), Column::left(52.0), Column::left(40.0)];
                t.row(
                    &columns,
                    &[
                        (LABEL, w(english, "N°", "No.")),
                        (LABEL, w(english, "Titre", "Title")),
                        (LABEL, w(english, "Fichier", "File")),
                    ],
                    true,
                );
                for a in annexes {
                    let file = format!(
                        "{} ({}, {})",
                        a.fichier,
                        a.media_type,
                        size(a.taille, english)
                    );
                    t.row(
                        &columns,
                        &[
                            (BODY, &a.numero.to_string()),
                            (BODY, &a.titre),
                            (BODY, &file),
                        ],
                        false,
                    );
                }
                if annexes.is_empty() {
                    t.paragraph(BODY, w(english, "Aucune annexe.", "No annexes."), 0.0);
                }
            }
            "declaration" => {
                if engagement_after == "declaration" {
                    t.new_page();
                    engagement(t, json, english);
                }
                // The template's page on the interview, between the annexes and the
                // déclaration: no field of the dossier, the certifier's own words.
                if let Some(interview) = &template.interview {
                    t.new_page();
                    anchors.insert("entretien".into(), t.page_index());
                    t.heading(
                        w(english, interview.heading_fr, interview.heading_en),
                        16.0,
                        40.0,
                    );
                    for (fr, en) in interview.paragraphs {
                        t.paragraph(BODY, w(english, fr, en), 0.0);
                        t.space(5.0);
                    }
                }
                t.new_page();
                anchors.insert("declaration".into(), t.page_index());
                declaration(t, json, english);
            }
            key => {
                // Short sections share a page; each long one starts a new page.
                if matches!(
                    key,
                    "etat_civil" | "motivation" | "cv" | "structure" | "poste"
                ) || t.pages.is_empty()
                {
                    t.new_page();
                } else {
                    t.space(18.0);
                }
                t.heading(title, 16.0, 40.0);
                anchors.insert(key.into(), t.page_index());
                if !guidance.is_empty() && key != "projet_vae" {
                    t.paragraph(SMALL, guidance, 0.0);
                    t.space(6.0);
                }
                let none = BTreeMap::new();
                let values = json.sections.get(key).unwrap_or(&none);
                form_fields(t, json, section, values, english);
                // Each further structure or poste, on a page of its own, numbered from 2.
                for (number, repeat) in json.repeats(key) {
                    t.new_page();
                    anchors.insert(format!("{key}:{}", repeat.id), t.page_index());
                    t.heading(&repeat_title(section, number, english), 16.0, 40.0);
                    form_fields(t, json, section, &repeat.champs, english);
                }
                if key == "projet_vae" {
                    projet_vae(t, json, annexes, pages, english);
                }
                // The template's ENGAGEMENT page follows the financement (it has no place
                // in its sommaire).
                if key == engagement_after {
                    t.new_page();
                    engagement(t, json, english);
                }
            }
        }
    }
    anchors
}

/// « Signature : » and what the candidate typed as their signature (the déclaration's, which
/// the ENGAGEMENT page shares).
fn signature(t: &mut Typesetter, json: &DossierJson, english: bool) {
    t.paragraph(
        BODY,
        &format!(
            "{} {}",
            w(english, "Signature :", "Signature:"),
            or_empty(json.text("declaration", "signature"))
        ),
        0.0,
    );
}

/// The ENGAGEMENT page: the candidate's name in « Je, soussigné(e) », what they certify,
/// and the place, day and signature of the déclaration — the one act of signing the
/// livret asks of them — then the « Informations générales ».
fn engagement(t: &mut Typesetter, json: &DossierJson, english: bool) {
    let template = json.template();
    t.heading(w(english, "ENGAGEMENT", "COMMITMENT"), 16.0, 40.0);
    let name = format!(
        "{} {}",
        json.text("etat_civil", "prenom"),
        json.text("etat_civil", "nom")
    );
    t.paragraph(
        BODY,
        &format!(
            "{} {}",
            w(english, "Je, soussigné(e)", "I, the undersigned"),
            or_empty(name.trim().to_string())
        ),
        0.0,
    );
    t.space(4.0);
    for (fr, en) in template.engagement {
        t.paragraph(BODY, &format!("- {}", w(english, fr, en)), 12.0);
    }
    t.space(10.0);
    t.paragraph(
        BODY,
        &format!(
            "{} {}",
            w(english, "Fait à", "Signed at"),
            or_empty(json.text("declaration", "lieu"))
        ),
        0.0,
    );
    t.paragraph(
        BODY,
        &format!(
            "{} {}",
            w(english, "Le", "On"),
            or_empty(french_date(&json.text("declaration", "date")))
        ),
        0.0,
    );
    signature(t, json, english);
    t.space(14.0);
    t.heading(
        w(english, "Informations générales", "General information"),
        13.0,
        24.0,
    );
    for part in template.general_information {
        t.paragraph(LABEL, w(english, part.heading_fr, part.heading_en), 0.0);
        t.space(2.0);
        for (fr, en) in part.paragraphs {
            t.paragraph(SMALL, w(english, fr, en), 0.0);
            t.space(3.0);
        }
        t.space(4.0);
    }
}

/// The template's table of what the livret holds, with the real counts and pages.
fn projet_vae(
    t: &mut Typesetter,
    json: &DossierJson,
    annexes: &[AnnexeJson],
    pages: &HashMap<String, usize>,
    english: bool,
) {
    t.space(12.0);
    t.paragraph(
        BODY,
        w(
            english,
            "Vérifiez que les éléments suivants figurent dans votre dossier et inscrivez-en le nombre.",
            "Check that the following items are in your dossier and write down how many there are.",
        ),
        0.0,
    );
    t.space(6.0);
    let filled = |section: &str| {
        json.sections
            .get(section)
            .is_some_and(|fields| fields.values().any(|v| !value_text(Some(v)).is_empty()))
    };
    let count = |b: bool| usize::from(b);
    // The section's own fiche when filled, and each further one.
    let with_repeats = |section: &str| count(filled(section)) + json.repeats(section).count();
    let rows = [
        (
            w(english, "Votre lettre de motivation", "Your cover letter"),
            count(filled("motivation")),
            "motivation",
        ),
        (w(english, "Votre CV", "Your CV"), count(filled("cv")), "cv"),
        (
            w(
                english,
                "Fiche(s) descriptive(s) de votre (vos) structure(s)",
                "Description sheet(s) of your organisation(s)",
            ),
            with_repeats("structure"),
            "structure",
        ),
        (
            w(
                english,
                "Fiche(s) descriptive(s) de votre (vos) poste(s) occupé(s)",
                "Description sheet(s) of the position(s) you held",
            ),
            with_repeats("poste"),
            "poste",
        ),
        (
            w(
                english,
                "Fiche(s) descriptive(s) de votre (vos) activité(s) et compétences",
                "Description sheet(s) of your activity(ies) and skills",
            ),
            active_fiches(json).count(),
            "fiches",
        ),
        ("Annexes", annexes.len(), "annexes"),
        (
            w(
                english,
                "Déclaration sur l'honneur",
                "Declaration on honour",
            ),
            1,
            "declaration",
        ),
    ];
    let columns = [Column::left(64.0), Column::right(16.0), Column::right(20.0)];
    t.row(
        &columns,
        &[
            (LABEL, "Documents"),
            (LABEL, w(english, "Nombre", "Number")),
            (LABEL, w(english, "Numéro de page", "Page number")),
        ],
        true,
    );
    // The documents the dossier's template asks.
    let template = json.template();
    for (label, n, key) in rows
        .into_iter()
        .filter(|(_, _, key)| template.section(key).is_some())
    {
        let page = pages.get(key).map_or(String::new(), |p| p.to_string());
        t.row(
            &columns,
            &[(BODY, label), (BODY, &n.to_string()), (BODY, &page)],
            false,
        );
    }
}

/// The template's récapitulatif: every compétence by bloc; under each, the criteria the
/// fiches cite (`C5#2`) with the fiches citing them, numbered as printed.
fn recapitulatif(t: &mut Typesetter, referentiel: &Referentiel, json: &DossierJson, english: bool) {
    let mut cited: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, fiche) in active_fiches(json).enumerate() {
        for citation in list(fiche.champs.get("competences")) {
            if crate::referentiel::split_citation(&citation).1.is_some() {
                cited
                    .entry(citation.trim().to_string())
                    .or_default()
                    .push(i + 1);
            }
        }
    }
    t.heading(w(english, RECAPITULATIF.0, RECAPITULATIF.1), 16.0, 40.0);
    let columns = [Column::left(34.0), Column::left(66.0)];
    let blocs = w(english, "Blocs de compétences", "Skill blocks");
    t.row(
        &columns,
        &[(LABEL, blocs), (LABEL, w(english, "Compétences", "Skills"))],
        true,
    );
    for bloc in &referentiel.blocs {
        let title = bloc_label(Some(referentiel), &bloc.number.to_string(), english);
        for (i, c) in bloc.competences.iter().enumerate() {
            let left = if i == 0 { title.as_str() } else { "" };
            let right = format!("{}. {}", c.code, c.title);
            t.row(&columns, &[(LABEL, left), (BODY, &right)], false);
            for (rank, criterion) in c.criteria.iter().enumerate() {
                let Some(fiches) = cited.get(&format!("{}#{}", c.code, rank + 1)) else {
                    continue;
                };
                let numbers: Vec<String> = fiches.iter().map(ToString::to_string).collect();
                let (rank, title, fiches) = (rank + 1, &criterion.title, numbers.join(", "));
                let line = if english {
                    format!("Criterion {rank}: {title} — sheet(s) {fiches}")
                } else {
                    format!("Critère {rank} : {title} — fiche(s) {fiches}")
                };
                t.row(&columns, &[(LABEL, ""), (SMALL, &line)], false);
            }
        }
    }
    // The template's table of evidence examples follows, where the référentiel gives them.
    if referentiel
        .blocs
        .iter()
        .any(|b| !b.evidence_examples.is_empty())
    {
        t.space(14.0);
        t.heading(
            w(
                english,
                "Exemples d'éléments de preuves attendus",
                "Examples of the evidence expected",
            ),
            13.0,
            40.0,
        );
        t.row(
            &columns,
            &[
                (LABEL, blocs),
                (
                    LABEL,
                    w(
                        english,
                        "Exemples d'éléments de preuves",
                        "Examples of evidence",
                    ),
                ),
            ],
            true,
        );
        for bloc in referentiel
            .blocs
            .iter()
            .filter(|b| !b.evidence_examples.is_empty())
        {
            let title = bloc_name(bloc, english);
            let examples: Vec<String> = bloc
                .evidence_examples
                .iter()
                .map(|e| format!("- {e}"))
                .collect();
            t.row(
                &columns,
                &[(LABEL, title.as_str()), (BODY, &examples.join("\n"))],
                false,
            );
        }
    }
}

/// The rows heading a fiche's table, in capitals as ANNEXE 5's table prints them.
const FICHE_HEAD: &[&str] = &["bloc", "competences", "intitule", "entreprise", "periode"];

fn fiche_table(
    t: &mut Typesetter,
    index: usize,
    fiche: &crate::export::FicheJson,
    referentiel: Option<&Referentiel>,
    annexes: &[AnnexeJson],
    template: &template::Template,
    english: bool,
) {
    t.heading(&fiche_title(index, fiche, english), 14.0, 60.0);
    // The template's questions, in its order and words.
    for field in template.section("fiches").map_or(&[][..], |s| s.fields) {
        let key = field.key;
        let label = w(english, field.label_fr, field.label_en);
        let label = if FICHE_HEAD.contains(&key) {
            label.to_uppercase()
        } else {
            label.to_string()
        };
        let value = fiche.champs.get(key);
        let shown = match key {
            "bloc" => bloc_label(referentiel, &value_text(value), english),
            "competences" => list(value)
                .iter()
                .map(|c| competence_label(referentiel, c, english))
                .collect::<Vec<_>>()
                .join("\n"),
            "preuves" => list(value)
                .iter()
                .map(
                    |n| match annexes.iter().find(|a| a.numero.to_string() == *n) {
                        Some(a) => annexe_title(english, a),
                        None => format!("{} {n}", w(english, "Annexe", "Annex")),
                    },
                )
                .collect::<Vec<_>>()
                .join("\n"),
            _ => value_text(value),
        };
        t.boxed(&label, &or_empty(shown));
    }
}

fn declaration(t: &mut Typesetter, json: &DossierJson, english: bool) {
    t.heading(section_title(json, "declaration", english), 16.0, 40.0);
    t.paragraph(
        LABEL,
        w(
            english,
            "Information sur les risques encourus en cas de fraude.",
            "Information on the risks incurred in the event of fraud.",
        ),
        0.0,
    );
    t.space(4.0);
    for (fr, en) in json.template().fraud {
        t.paragraph(SMALL, w(english, fr, en), 0.0);
        t.space(4.0);
    }
    t.space(10.0);
    t.paragraph(
        LABEL,
        w(
            english,
            "Je déclare sur l'honneur :",
            "I declare on my honour:",
        ),
        0.0,
    );
    let boxed = |key: &str| {
        if json.text("declaration", key) == crate::dossier::TICKED {
            "☒"
        } else {
            "☐"
        }
    };
    // The boxes in the template's words, as the candidate ticked them on screen.
    let boxes = ["fraudes", "exactitude"].map(|key| json.template().field("declaration", key));
    let count = boxes.iter().flatten().count();
    for (i, field) in boxes.into_iter().flatten().enumerate() {
        let end = if i + 1 < count { " ;" } else { "." };
        let end = if english { end.trim_start() } else { end };
        t.paragraph(
            BODY,
            &format!(
                "{} {}{end}",
                boxed(field.key),
                w(english, field.label_fr, field.label_en)
            ),
            12.0,
        );
    }
    t.space(14.0);
    let place = or_empty(json.text("declaration", "lieu"));
    let date = or_empty(french_date(&json.text("declaration", "date")));
    let name = format!(
        "{} {}",
        json.text("etat_civil", "nom"),
        json.text("etat_civil", "prenom")
    );
    let name = or_empty(name.trim().to_string());
    if english {
        t.paragraph(BODY, &format!("Signed at {place}, on {date}"), 0.0);
        t.paragraph(BODY, &format!("Surname, first name: {name}"), 0.0);
    } else {
        t.paragraph(BODY, &format!("Fait à {place}, le {date}"), 0.0);
        t.paragraph(BODY, &format!("Nom, prénom : {name}"), 0.0);
    }
    signature(t, json, english);
}

#[cfg(test)]
mod tests {
    use super::rncp_number;

    #[test]
    fn the_cover_prints_the_rncp_number_as_the_template_does() {
        for typed in ["RNCP37827", "rncp 37827", "RNCP : 37827", " 37827 "] {
            assert_eq!(rncp_number(typed), "37827", "{typed:?}");
        }
        assert_eq!(rncp_number(""), "");
    }
}
