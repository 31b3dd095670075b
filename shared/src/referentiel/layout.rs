//! Tables drawn with rules, read by where their words sit on the page.
//!
//! Certifiers publish référentiels as tables: activités | compétences | modalités | critères,
//! a row per compétence, cells wrapping over many lines and rows over pages. Extracted as a
//! flow of text, such a table comes out band by band, the lines of every column interleaved,
//! and no rule on text alone can always tell which words belong to which cell. The page itself
//! can: the table's borders are drawn, and each word lies inside one cell.
//!
//! So the PDF is walked once (`pdf_extract::output_doc`) by a collector that forwards every
//! call to pdf-extract's own plain-text output (the flowing text) and keeps every upright
//! glyph with its position and every horizontal or vertical segment drawn (stroked lines,
//! filled thin rectangles, rectangle edges). A glyph enclosed by rules is in the cell those
//! rules bound; cells with the same top make a row; a page's rows, between two lines of free
//! text, make a table whose columns are the cells' left edges. The result is written as the
//! markdown table the text reader already knows (`| cell | cell |`, the items of a cell
//! separated by `<br>`), with the free text around it as lines: one reader, fed a faithful
//! shape. A row cut by a page break is joined again with its continuation, and a header row
//! repeated on every page is kept once.
//!
//! A PDF without ruled tables gives `None` ([`tables_as_text`]): its flowing text is read as
//! before.

use pdf_extract::{
    ColorSpace, MediaBox, OutputDev, OutputError, Path, PathOp, PlainTextOutput, Transform,
};

use super::codes;

/// What a hostile file may make this pass hold; past it the PDF is read as flowing text.
const MAX_GLYPHS: usize = 2_000_000;
const MAX_SEGMENTS: usize = 400_000;
/// Glyphs × rules looked at in one document (a dense page of a real table: ~5,000 × 60).
const MAX_LOOKUPS: usize = 100_000_000;
/// A référentiel's table has a few columns and at most a few hundred rows.
const MAX_COLUMNS: usize = 16;
/// Horizontal × vertical rules of one page looked at together (a page of tables: ~50 × 10).
const MAX_RULE_PAIRS: usize = 1_000_000;
const MAX_TABLE_CELLS: usize = 20_000;

/// Two rules this close (points) are one (a border drawn as a thin filled rectangle has two
/// long edges).
const SAME_RULE: f64 = 1.6;
/// Shorter segments are not rules (glyph outlines, ticks, the short edges of thin rectangles).
const MIN_RULE: f64 = 4.0;

#[derive(Debug, Clone)]
struct Glyph {
    x: f64,
    /// Baseline, from the top of the page.
    y: f64,
    width: f64,
    size: f64,
    ch: String,
}

#[derive(Debug, Clone, Copy)]
struct Segment {
    /// For a horizontal rule its y; for a vertical one its x.
    at: f64,
    from: f64,
    to: f64,
}

#[derive(Default)]
pub(super) struct Page {
    glyphs: Vec<Glyph>,
    horizontal: Vec<Segment>,
    vertical: Vec<Segment>,
    /// Where the page's flowing text starts in the document's.
    text_start: usize,
}

/// pdf-extract's flowing text as it is written, readable while the walk goes on (where each
/// page's text starts).
#[derive(Clone, Default)]
struct SharedText(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

impl std::io::Write for SharedText {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Walks the document once for both readings: pdf-extract's own flowing text (`plain`, every
/// call forwarded to it) and the glyphs and rules the tables are read from.
struct Collector<'a> {
    plain: PlainTextOutput<&'a mut dyn std::io::Write>,
    text: SharedText,
    pages: Vec<Page>,
    flip: Option<Transform>,
    glyphs: usize,
    segments: usize,
    /// Past a budget: the tables are not read, the flowing text still is.
    over_budget: bool,
}

impl Collector<'_> {
    fn segments_of(&mut self, ctm: &Transform, path: &Path) -> Result<(), OutputError> {
        let Some(flip) = self.flip else {
            return Ok(());
        };
        let to_page = |x: f64, y: f64| {
            let (dx, dy) = (
                x * ctm.m11 + y * ctm.m21 + ctm.m31,
                x * ctm.m12 + y * ctm.m22 + ctm.m32,
            );
            (
                dx * flip.m11 + dy * flip.m21 + flip.m31,
                dx * flip.m12 + dy * flip.m22 + flip.m32,
            )
        };
        let mut found = Vec::new();
        let (mut current, mut start) = ((0.0, 0.0), (0.0, 0.0));
        for op in &path.ops {
            match *op {
                PathOp::MoveTo(x, y) => {
                    current = to_page(x, y);
                    start = current;
                }
                PathOp::LineTo(x, y) => {
                    let next = to_page(x, y);
                    found.push((current, next));
                    current = next;
                }
                PathOp::CurveTo(_, _, _, _, x, y) => current = to_page(x, y),
                PathOp::Rect(x, y, w, h) => {
                    let corners = [
                        to_page(x, y),
                        to_page(x + w, y),
                        to_page(x + w, y + h),
                        to_page(x, y + h),
                    ];
                    for i in 0..4 {
                        found.push((corners[i], corners[(i + 1) % 4]));
                    }
                    current = corners[0];
                    start = current;
                }
                PathOp::Close => {
                    found.push((current, start));
                    current = start;
                }
            }
        }
        self.segments += found.len();
        if self.segments > MAX_SEGMENTS {
            self.over_budget = true;
        }
        // `flip` is set where a page begins: there is one.
        let Some(page) = self.pages.last_mut() else {
            return Ok(());
        };
        if self.over_budget {
            return Ok(());
        }
        for ((x0, y0), (x1, y1)) in found {
            if (y0 - y1).abs() < 0.5 && (x1 - x0).abs() >= MIN_RULE {
                page.horizontal.push(Segment {
                    at: (y0 + y1) / 2.0,
                    from: x0.min(x1),
                    to: x0.max(x1),
                });
            } else if (x0 - x1).abs() < 0.5 && (y1 - y0).abs() >= MIN_RULE {
                page.vertical.push(Segment {
                    at: (x0 + x1) / 2.0,
                    from: y0.min(y1),
                    to: y0.max(y1),
                });
            }
        }
        Ok(())
    }
}

impl OutputDev for Collector<'_> {
    fn begin_page(
        &mut self,
        page_num: u32,
        media_box: &MediaBox,
        art_box: Option<(f64, f64, f64, f64)>,
    ) -> Result<(), OutputError> {
        self.plain.begin_page(page_num, media_box, art_box)?;
        let height = media_box.ury - media_box.lly;
        self.flip = Some(Transform::row_major(1., 0., 0., -1., 0., height));
        self.pages.push(Page {
            text_start: self.text.0.borrow().len(),
            ..Page::default()
        });
        Ok(())
    }

    fn end_page(&mut self) -> Result<(), OutputError> {
        self.plain.end_page()
    }

    fn output_character(
        &mut self,
        trm: &Transform,
        width: f64,
        spacing: f64,
        font_size: f64,
        ch: &str,
    ) -> Result<(), OutputError> {
        self.plain
            .output_character(trm, width, spacing, font_size, ch)?;
        let Some(flip) = self.flip else {
            return Ok(());
        };
        self.glyphs += 1;
        if self.glyphs > MAX_GLYPHS {
            self.over_budget = true;
        }
        if self.over_budget {
            return Ok(());
        }
        // Text set sideways or slanted (a margin label, a watermark) is not a cell's.
        if trm.m12.abs() > trm.m11.abs() * 0.05 || trm.m21.abs() > trm.m22.abs() * 0.05 {
            return Ok(());
        }
        let position = trm.post_transform(&flip);
        let sx = font_size * (trm.m11 + trm.m21);
        let sy = font_size * (trm.m12 + trm.m22);
        let size = (sx * sy).abs().sqrt();
        if !(size.is_finite() && position.m31.is_finite() && position.m32.is_finite()) {
            return Ok(());
        }
        let glyph = Glyph {
            x: position.m31,
            y: position.m32,
            width: width * size,
            size,
            // A glyph's text is one character or a ligature's few: nothing that could break
            // a line or a table row of the text written from it.
            ch: ch
                .chars()
                .map(|c| match c {
                    '|' => '/',
                    c if c.is_control() => ' ',
                    c => c,
                })
                .collect(),
        };
        if let Some(page) = self.pages.last_mut() {
            page.glyphs.push(glyph);
        }
        Ok(())
    }

    fn begin_word(&mut self) -> Result<(), OutputError> {
        self.plain.begin_word()
    }

    fn end_word(&mut self) -> Result<(), OutputError> {
        self.plain.end_word()
    }

    fn end_line(&mut self) -> Result<(), OutputError> {
        self.plain.end_line()
    }

    fn stroke(
        &mut self,
        ctm: &Transform,
        colorspace: &ColorSpace,
        color: &[f64],
        path: &Path,
    ) -> Result<(), OutputError> {
        self.plain.stroke(ctm, colorspace, color, path)?;
        self.segments_of(ctm, path)
    }

    fn fill(
        &mut self,
        ctm: &Transform,
        colorspace: &ColorSpace,
        color: &[f64],
        path: &Path,
    ) -> Result<(), OutputError> {
        self.plain.fill(ctm, colorspace, color, path)?;
        self.segments_of(ctm, path)
    }
}

/// What one walk of a PDF gives.
pub(super) struct Walked {
    /// pdf-extract's text, as `extract_text_from_mem` gives it.
    pub flowing: String,
    /// What the tables are read from ([`tables_as_text`]); none past the budgets.
    pub pages: Vec<Page>,
}

/// Walks a PDF once (as `pdf_extract::extract_text_from_mem` does, an encrypted file tried
/// with the empty password): its flowing text, and its tables read by their cells.
pub(super) fn walk(bytes: &[u8]) -> Result<Walked, OutputError> {
    let mut doc = lopdf::Document::load_mem(bytes)?;
    if doc.is_encrypted() {
        doc.decrypt("")?;
    }
    let text = SharedText::default();
    let mut writer = text.clone();
    let mut collector = Collector {
        plain: PlainTextOutput::new(&mut writer as &mut dyn std::io::Write),
        text: text.clone(),
        pages: Vec::new(),
        flip: None,
        glyphs: 0,
        segments: 0,
        over_budget: false,
    };
    pdf_extract::output_doc(&doc, &mut collector)?;
    let pages = if collector.over_budget {
        Vec::new()
    } else {
        std::mem::take(&mut collector.pages)
    };
    drop(collector);
    let flowing = String::from_utf8_lossy(&text.0.borrow()).into_owned();
    Ok(Walked { flowing, pages })
}

/// The document's text with its ruled tables written as markdown tables (the pages without
/// any in pdf-extract's words); `None` when it has none.
pub(super) fn tables_as_text(walked: &Walked) -> Option<String> {
    let pages = &walked.pages;
    let body = body_size(pages);
    // Where a file shows its spaces, a gap between two letters is most often widths the
    // extractor got wrong (accented letters of some embedded fonts advance by nothing, and
    // the letters after them drift until the next positioning), so only a jump of several
    // letters separates words; where it shows none, a fifth of the size does (kerning
    // moves letters less).
    let glyphs = pages.iter().flat_map(|p| &p.glyphs);
    let shown = glyphs.clone().filter(|g| g.ch.trim().is_empty()).count();
    let space_gap = if shown * 20 >= glyphs.count() {
        3.0
    } else {
        0.2
    };
    let mut lookups = MAX_LOOKUPS;
    let items: Vec<Item> = pages
        .iter()
        .enumerate()
        .flat_map(|(i, p)| {
            let end = pages
                .get(i + 1)
                .map_or(walked.flowing.len(), |n| n.text_start);
            let flowing = walked.flowing.get(p.text_start..end).unwrap_or_default();
            page_items(p, body, space_gap, &mut lookups, flowing)
        })
        .collect();
    if !items
        .iter()
        .any(|i| matches!(i, Item::Row(r) if r.cells.len() >= 2))
    {
        return None;
    }
    Some(write(join_continuations(items)))
}

/// A line of a page, in reading order.
#[derive(Debug, Clone)]
struct Line {
    text: String,
    baseline: f64,
    size: f64,
    /// Where its last letter ends.
    right: f64,
    /// How wide its first word is.
    first_word: f64,
}

#[derive(Debug, Clone)]
struct Row {
    /// One text per column of the row's table (empty where a cell merged from above covers it).
    cells: Vec<String>,
    /// The columns' left edges, to tell the same table on the next page.
    lefts: Vec<f64>,
    /// The first row of its table on its page.
    opens_page: bool,
    /// For each column, how many rows below this one its cell covers (merged cells): the
    /// cell says the same for each of them.
    spans: Vec<usize>,
}

#[derive(Debug, Clone)]
enum Item {
    /// Free text: a line, or `None` for a paragraph break.
    Line(Option<String>),
    Row(Row),
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct CellBox {
    top: f64,
    bottom: f64,
    left: f64,
    right: f64,
}

/// Rules at one place, merged where they touch.
fn merge(mut segments: Vec<Segment>) -> Vec<Segment> {
    segments.sort_by(|a, b| a.at.total_cmp(&b.at).then(a.from.total_cmp(&b.from)));
    let mut groups: Vec<Vec<Segment>> = Vec::new();
    for s in segments {
        match groups.last_mut() {
            Some(g) if (s.at - g[0].at).abs() <= SAME_RULE => g.push(s),
            _ => groups.push(vec![s]),
        }
    }
    let mut out = Vec::new();
    for mut g in groups {
        let at = g.iter().map(|s| s.at).sum::<f64>() / g.len() as f64;
        g.sort_by(|a, b| a.from.total_cmp(&b.from));
        let mut current: Option<Segment> = None;
        for s in g {
            current = match current {
                Some(c) if s.from <= c.to + 2.5 => Some(Segment {
                    at,
                    from: c.from,
                    to: c.to.max(s.to),
                }),
                Some(c) => {
                    out.push(c);
                    Some(Segment { at, ..s })
                }
                None => Some(Segment { at, ..s }),
            };
        }
        out.extend(current);
    }
    out
}

/// Rules that meet at least two rules across them: a table's borders. An underline, a
/// square bullet's edge or a lone bar meets none and bounds no cell.
fn connected(horizontal: Vec<Segment>, vertical: Vec<Segment>) -> (Vec<Segment>, Vec<Segment>) {
    let meets = |a: &Segment, b: &Segment| {
        b.at >= a.from - 2.0 && b.at <= a.to + 2.0 && a.at >= b.from - 2.0 && a.at <= b.to + 2.0
    };
    let keep = |rules: &[Segment], across: &[Segment]| -> Vec<Segment> {
        rules
            .iter()
            .filter(|r| across.iter().filter(|a| meets(r, a)).take(2).count() == 2)
            .copied()
            .collect()
    };
    (keep(&horizontal, &vertical), keep(&vertical, &horizontal))
}

/// The cell enclosing a point, if rules close it on all four sides.
fn enclosing(x: f64, y: f64, horizontal: &[Segment], vertical: &[Segment]) -> Option<CellBox> {
    let spans = |s: &Segment, v: f64| s.from - 1.0 <= v && v <= s.to + 1.0;
    let left = vertical
        .iter()
        .filter(|s| s.at <= x && spans(s, y))
        .max_by(|a, b| a.at.total_cmp(&b.at))?;
    let right = vertical
        .iter()
        .filter(|s| s.at > x && spans(s, y))
        .min_by(|a, b| a.at.total_cmp(&b.at))?;
    let top = horizontal
        .iter()
        .filter(|s| s.at <= y && spans(s, x))
        .map(|s| s.at)
        .max_by(f64::total_cmp);
    let bottom = horizontal
        .iter()
        .filter(|s| s.at > y && spans(s, x))
        .map(|s| s.at)
        .min_by(f64::total_cmp);
    // A row cut by a page break may be left open at the foot or the head of the page (some
    // producers draw no rule there): the column rules' ends close it. One rule across is
    // still needed, or a page of columns without rows would be one row.
    if top.is_none() && bottom.is_none() {
        return None;
    }
    let (head, foot) = (left.from.max(right.from), left.to.min(right.to));
    Some(CellBox {
        top: top.map_or(head, |t| t.max(head)),
        bottom: bottom.map_or(foot, |b| b.min(foot)),
        left: left.at,
        right: right.at,
    })
}

/// Glyphs into lines: the same baseline (within a third of their size), left to right, a
/// space where the file shows one or the gap is wider than `space_gap` times the size.
fn lines(mut glyphs: Vec<Glyph>, space_gap: f64) -> Vec<Line> {
    glyphs.sort_by(|a, b| a.y.total_cmp(&b.y).then(a.x.total_cmp(&b.x)));
    let mut bands: Vec<Vec<Glyph>> = Vec::new();
    for g in glyphs {
        match bands.last_mut() {
            Some(band) if (g.y - band[0].y).abs() <= band[0].size.max(g.size) / 3.0 => band.push(g),
            _ => bands.push(vec![g]),
        }
    }
    let mut out = Vec::new();
    for mut band in bands {
        band.sort_by(|a, b| a.x.total_cmp(&b.x));
        let mut text = String::new();
        let mut end = f64::NEG_INFINITY;
        let mut first_word: Option<f64> = None;
        let start = band.iter().find(|g| !g.ch.trim().is_empty()).map(|g| g.x);
        for g in band.iter() {
            if g.ch.trim().is_empty() {
                // A space the file shows: a word ends here.
                if !text.is_empty() && !text.ends_with(' ') {
                    text.push(' ');
                }
                end = end.max(g.x + g.width);
                continue;
            }
            if !text.is_empty() && !text.ends_with(' ') && g.x > end + g.size * space_gap {
                text.push(' ');
            }
            if text.ends_with(' ') && first_word.is_none() {
                first_word = Some(end - start.unwrap_or(end));
            }
            text.push_str(&g.ch);
            end = g.x + g.width;
        }
        let first_word = first_word.unwrap_or(end - start.unwrap_or(end));
        let text = text.trim_end().to_string();
        if text.is_empty() {
            continue;
        }
        let size = band.iter().map(|g| g.size).fold(0.0, f64::max);
        out.push(Line {
            text,
            baseline: band[0].y,
            size,
            right: end,
            first_word,
        });
    }
    out
}

/// A line ending on a hyphen after a letter, the next going on in lower case or a digit: a
/// compound cut at its hyphen (« celui-|ci », an address « courriels-|0 »), to be joined
/// without a space.
fn cut_at_hyphen(line: &str, next: &str) -> bool {
    line.ends_with('-')
        && line.chars().rev().nth(1).is_some_and(char::is_alphanumeric)
        && next
            .chars()
            .next()
            .is_some_and(|c| c.is_lowercase() || c.is_ascii_digit())
}

/// `last` ends a sentence (or introduces what follows, on a colon) and `next` opens with a
/// capital: where an item may end and the next begin.
fn sentence_then_capital(last: &str, next: &str) -> bool {
    last.trim_end().ends_with(['.', ';', '!', '?', ':'])
        && next.chars().next().is_some_and(char::is_uppercase)
}

fn starts_with_bullet(text: &str) -> bool {
    text.trim_start().starts_with([
        '-', '–', '—', '•', '●', '▪', '◦', '○', '■', '✓', '➢', '►', '*',
    ])
}

/// Does a line start an item of a cell's list (a bullet, a number, a code)?
fn starts_item(text: &str) -> bool {
    let t = text.trim_start();
    if starts_with_bullet(t) {
        return true;
    }
    if codes::competence_at_start(t).is_some() {
        return true;
    }
    // « CE1 », « 1. », « 2) », « a) »
    let label: String = t.chars().take_while(|c| c.is_alphanumeric()).collect();
    let after = t[label.len()..].chars().next();
    let numbered = !label.is_empty()
        && label.len() <= 4
        && label.chars().any(|c| c.is_ascii_digit())
        && label
            .chars()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase());
    numbered && matches!(after, Some('.' | ')' | ' ' | ':' | '-'))
}

/// A cell's lines as its items, separated by `<br>`: a new item at a bullet, a number or a
/// code (not right after a comma or an open parenthesis), after a wider gap than the cell's
/// line spacing (paragraphs), or after a sentence ended on a line the next one's first word
/// would have fitted on; otherwise a wrapped line goes on the one before.
fn cell_text(lines: &[Line]) -> String {
    let gaps: Vec<f64> = lines
        .windows(2)
        .map(|w| w[1].baseline - w[0].baseline)
        .filter(|g| *g > 0.0)
        .collect();
    let spacing = gaps.iter().copied().fold(f64::INFINITY, f64::min);
    // The cell's measure: where its longest line ends.
    let measure = lines
        .iter()
        .map(|l| l.right)
        .fold(f64::NEG_INFINITY, f64::max);
    let mut items: Vec<String> = Vec::new();
    let mut previous: Option<&Line> = None;
    for line in lines {
        // A glyph's text has no `|` (see `output_character`): the line is a cell's as it is.
        let text = line.text.clone();
        let new_item = match (previous, items.last()) {
            (Some(p), Some(last)) => {
                let gap = line.baseline - p.baseline;
                // A list cut after a comma or an open parenthesis goes on (« (C1, C2, | C5) »),
                // unless a bullet says otherwise.
                let cut_mid_list = last.trim_end().ends_with([',', '(']);
                // A sentence ended on a line the next line's first word would have fitted on:
                // the line was ended on purpose, a paragraph ends there.
                let ended_short = p.right + line.first_word + p.size * 0.5 < measure;
                starts_with_bullet(&text)
                    || (starts_item(&text) && !cut_mid_list)
                    || gap > spacing + 1.2
                    || (ended_short && sentence_then_capital(last, &text))
            }
            _ => true,
        };
        if new_item {
            items.push(text);
        } else if let Some(last) = items.last_mut() {
            if !cut_at_hyphen(last, &text) {
                last.push(' ');
            }
            last.push_str(&text);
        }
        previous = Some(line);
    }
    items.join("<br>")
}

/// The size most of the document's glyphs have: its running text.
fn body_size(pages: &[Page]) -> f64 {
    let mut counts: std::collections::BTreeMap<i64, usize> = Default::default();
    for g in pages.iter().flat_map(|p| &p.glyphs) {
        *counts.entry((g.size * 2.0).round() as i64).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .map_or(0.0, |(size, _)| size as f64 / 2.0)
}

fn page_items(
    page: &Page,
    body: f64,
    space_gap: f64,
    lookups: &mut usize,
    flowing: &str,
) -> Vec<Item> {
    let (horizontal, vertical) = (merge(page.horizontal.clone()), merge(page.vertical.clone()));
    // Telling borders from strokes pairs every rule with every rule across: a page ruled past
    // any table's worth is read without its rules.
    let (horizontal, vertical) = if horizontal.len() * vertical.len() <= MAX_RULE_PAIRS {
        connected(horizontal, vertical)
    } else {
        (Vec::new(), Vec::new())
    };
    // Each glyph looks at every rule: pages drawing more than a document's worth of them
    // with much text on them (a hostile file, charts) are read as flowing text.
    let cost = (horizontal.len() + vertical.len()) * page.glyphs.len();
    let ruled = cost <= *lookups;
    if ruled {
        *lookups -= cost;
    }
    let mut cells: Vec<(CellBox, Vec<Glyph>)> = Vec::new();
    let mut cell_at: std::collections::HashMap<[i64; 4], usize> = Default::default();
    let mut free = Vec::new();
    for g in &page.glyphs {
        let (x, y) = (g.x + g.width / 2.0, g.y - g.size * 0.3);
        let cell = ruled
            .then(|| enclosing(x, y, &horizontal, &vertical))
            .flatten();
        match cell {
            Some(c) => {
                let key = [c.top, c.bottom, c.left, c.right].map(|v| (v * 4.0).round() as i64);
                let next = cells.len();
                let k = *cell_at.entry(key).or_insert(next);
                if k == next {
                    cells.push((c, Vec::new()));
                }
                cells[k].1.push(g.clone());
            }
            None => free.push(g.clone()),
        }
    }

    if cells.is_empty() {
        // No table on this page: pdf-extract's text, in the order the page shows it (which
        // keeps a page's columns of running text apart).
        let mut out: Vec<Item> = flowing
            .lines()
            .map(|l| {
                let l = l.trim();
                Item::Line((!l.is_empty()).then(|| l.replace('|', "/")))
            })
            .collect();
        out.push(Item::Line(None));
        return out;
    }
    // Rows: cells with the same top. A free line between two rows ends a table.
    enum Piece {
        Free(Line),
        Row(Vec<(CellBox, String)>),
    }
    let mut rows: Vec<(f64, Vec<(CellBox, String)>)> = Vec::new();
    for (b, glyphs) in cells {
        let text = cell_text(&lines(glyphs, space_gap));
        match rows.iter_mut().find(|(top, _)| (top - b.top).abs() <= 1.5) {
            Some((_, row)) => row.push((b, text)),
            None => rows.push((b.top, vec![(b, text)])),
        }
    }
    let mut pieces: Vec<(f64, Piece)> = lines(free, space_gap)
        .into_iter()
        .map(|l| (l.baseline - l.size, Piece::Free(l)))
        .chain(rows.into_iter().map(|(top, r)| (top, Piece::Row(r))))
        .collect();
    pieces.sort_by(|a, b| a.0.total_cmp(&b.0));

    let mut out = Vec::new();
    let mut table: Vec<Vec<(CellBox, String)>> = Vec::new();
    let mut last_free: Option<Line> = None;
    // Only the page's first table may go on from the page before.
    let mut first_table = true;
    let mut flush = |table: &mut Vec<Vec<(CellBox, String)>>, out: &mut Vec<Item>| {
        if table.is_empty() {
            return;
        }
        let opens_page = std::mem::take(&mut first_table);
        let mut lefts: Vec<f64> = Vec::new();
        for row in table.iter() {
            for (b, _) in row {
                if !lefts.iter().any(|l| (l - b.left).abs() <= 2.0) {
                    lefts.push(b.left);
                }
            }
        }
        lefts.sort_by(f64::total_cmp);
        if lefts.len() > MAX_COLUMNS || lefts.len() * table.len() > MAX_TABLE_CELLS {
            // Not a référentiel's table (a grid, a form, a hostile file): its cells' text as
            // lines.
            for row in table.drain(..) {
                out.push(Item::Line(None));
                for (_, text) in row {
                    out.extend(text.split("<br>").map(|t| Item::Line(Some(t.to_string()))));
                }
            }
            return;
        }
        let tops: Vec<f64> = table
            .iter()
            .map(|row| row.iter().map(|(b, _)| b.top).fold(f64::INFINITY, f64::min))
            .collect();
        for (i, mut row) in table.drain(..).enumerate() {
            row.sort_by(|a, b| a.0.left.total_cmp(&b.0.left));
            let spans_columns = |b: &CellBox| {
                lefts
                    .iter()
                    .any(|l| *l > b.left + 2.0 && *l < b.right - 2.0)
            };
            if row.len() == 1 && (lefts.len() == 1 || spans_columns(&row[0].0)) {
                // A cell across the whole table (a bloc's title row) or a framed box: its
                // items are lines of their own.
                out.push(Item::Line(None));
                for item in row[0].1.split("<br>") {
                    out.push(Item::Line(Some(item.to_string())));
                }
                out.push(Item::Line(None));
                continue;
            }
            let mut cells = vec![String::new(); lefts.len()];
            let mut spans = vec![0; lefts.len()];
            for (b, text) in row {
                if let Some(k) = lefts.iter().position(|l| (l - b.left).abs() <= 2.0) {
                    cells[k] = text;
                    spans[k] = tops[i + 1..]
                        .iter()
                        .take_while(|top| **top < b.bottom - 2.0)
                        .count();
                }
            }
            out.push(Item::Row(Row {
                cells,
                lefts: lefts.clone(),
                opens_page: opens_page && i == 0,
                spans,
            }));
        }
    };
    for (_, piece) in pieces {
        match piece {
            Piece::Row(row) => {
                last_free = None;
                table.push(row);
            }
            Piece::Free(line) => {
                flush(&mut table, &mut out);
                let gap = last_free.as_ref().map(|p| line.baseline - p.baseline);
                let same_heading = last_free.as_ref().is_some_and(|p| {
                    (p.size - line.size).abs() < 0.3
                        && line.size > body * 1.15
                        && gap.is_some_and(|g| g <= line.size * 1.6)
                });
                let same_paragraph = gap.is_some_and(|g| g <= line.size.max(body) * 1.6);
                let previous = match out.last_mut() {
                    Some(Item::Line(Some(previous))) => Some(previous),
                    _ => None,
                };
                let hyphen_cut = previous
                    .as_ref()
                    .is_some_and(|p| cut_at_hyphen(p, &line.text));
                if let Some(previous) = previous
                    && (same_heading || (same_paragraph && hyphen_cut))
                {
                    // A heading wrapped over two lines is one heading; a word cut at its
                    // hyphen is one word.
                    if !hyphen_cut {
                        previous.push(' ');
                    }
                    previous.push_str(&line.text);
                } else {
                    if gap.is_some_and(|g| g > line.size.max(body) * 1.6) {
                        out.push(Item::Line(None));
                    }
                    out.push(Item::Line(Some(line.text.clone())));
                }
                last_free = Some(line);
            }
        }
    }
    flush(&mut table, &mut out);
    out.push(Item::Line(None));
    out
}

fn same_columns(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() <= 3.0)
}

/// Does any cell of the row open a compétence (its code at the start of one of its items)?
fn opens_a_competence(row: &Row) -> bool {
    row.cells.iter().any(|c| {
        c.split("<br>")
            .any(|item| codes::competence_at_start(item.trim()).is_some())
    })
}

/// Ends a cell's text where the next part continues it: a word cut mid-phrase goes on with a
/// space, a finished item with a new item.
fn join_cell(cell: &mut String, more: &str) {
    if more.is_empty() {
        return;
    }
    if cell.is_empty() {
        cell.push_str(more);
        return;
    }
    let first = more.split("<br>").next().unwrap_or_default();
    if starts_item(first) || sentence_then_capital(cell, first) {
        cell.push_str("<br>");
    } else {
        cell.push(' ');
    }
    cell.push_str(more);
}

/// Rows cut by a page break joined again; the header row a table repeats on each page kept
/// once; page numbers between the two parts of a table set aside.
fn join_continuations(items: Vec<Item>) -> Vec<Item> {
    let mut out: Vec<Item> = Vec::new();
    let mut header: Option<Vec<String>> = None;
    // Free lines seen since the last row, held back until we know the table does not go on.
    let mut held: Vec<Item> = Vec::new();
    // The header a table repeats at the top of a page was just skipped: the next row opens it.
    let mut after_repeated_header = false;
    for item in items {
        match item {
            Item::Line(line) => {
                if line.is_none() && held.is_empty() {
                    out.push(Item::Line(None));
                } else {
                    held.push(Item::Line(line));
                }
            }
            Item::Row(mut row) => {
                row.opens_page |= std::mem::take(&mut after_repeated_header);
                let previous = out.iter().rposition(|i| matches!(i, Item::Row(_)));
                // A page number or a running header's date (« Page 3 sur 9 », « 3/9 »), not a
                // heading (« BLOC 2 – Gérer le projet »).
                let between_is_page_furniture = held.iter().all(|i| match i {
                    Item::Line(Some(t)) => {
                        t.chars().any(|c| c.is_ascii_digit())
                            && t.chars().filter(|c| c.is_alphabetic()).count() <= 8
                    }
                    _ => true,
                }) && out[previous.map_or(out.len(), |p| p + 1)..]
                    .iter()
                    .all(|i| matches!(i, Item::Line(None)));
                let continues = row.opens_page
                    && between_is_page_furniture
                    && previous.is_some_and(|p| match &out[p] {
                        Item::Row(last) => same_columns(&last.lefts, &row.lefts),
                        _ => false,
                    });
                if continues {
                    // Page numbers between the parts go; the table goes on.
                    held.clear();
                    out.truncate(previous.map_or(out.len(), |p| p + 1));
                    if header.as_ref() == Some(&row.cells) {
                        after_repeated_header = true;
                        continue;
                    }
                    if !is_header(&row) {
                        let whole_row = !opens_a_competence(&row);
                        for (column, cell) in row.cells.iter_mut().enumerate() {
                            // A cell of a row (or of a cell merged over rows) cut by the page
                            // break goes on here: the whole row when it opens nothing new,
                            // else the cells that start mid-sentence, in lower case.
                            let goes_on =
                                whole_row || cell.chars().next().is_some_and(char::is_lowercase);
                            if goes_on && !cell.is_empty() {
                                // A cell merged over this row and the next ones goes on
                                // whole: it is the cut cell's continuation, not this row's.
                                let merged = row.spans[column] > 0;
                                let (first, rest) = match cell.split_once("<br>") {
                                    Some((first, rest)) if !whole_row && !merged => {
                                        (first.to_string(), rest.to_string())
                                    }
                                    _ => (std::mem::take(cell), String::new()),
                                };
                                let at = cut_row(&out, column);
                                let Item::Row(cut) = &mut out[at] else {
                                    unreachable!("cut_row gives a row");
                                };
                                join_cell(&mut cut.cells[column], &first);
                                // A merged cell goes on over the rows it covers here (this
                                // one too, when nothing of its own is left in it).
                                if whole_row {
                                    cut.spans[column] += row.spans[column];
                                } else if rest.is_empty() {
                                    cut.spans[column] += 1 + row.spans[column];
                                }
                                *cell = rest;
                            }
                        }
                        if whole_row {
                            continue;
                        }
                    }
                } else {
                    out.append(&mut held);
                    if is_header(&row) {
                        header = Some(row.cells.clone());
                    }
                }
                out.push(Item::Row(row));
            }
        }
    }
    out.append(&mut held);
    out
}

/// The row whose cell a page break cut in a column: the last one above with text, in the
/// table the rows at the end of `out` make (a cell merged over rows sits in the first).
fn cut_row(out: &[Item], column: usize) -> usize {
    let rows: Vec<usize> = out
        .iter()
        .enumerate()
        .rev()
        .skip_while(|(_, i)| !matches!(i, Item::Row(_)))
        .take_while(|(_, i)| matches!(i, Item::Row(_)))
        // A cell merged over more rows than a page holds is not looked for further up.
        .take(200)
        .map(|(k, _)| k)
        .collect();
    let with_text = rows.iter().copied().find(|&k| match &out[k] {
        Item::Row(r) => r.cells.get(column).is_some_and(|c| !c.is_empty()),
        _ => false,
    });
    with_text.unwrap_or(rows[0])
}

fn is_header(row: &Row) -> bool {
    row.cells
        .iter()
        .filter(|c| super::units::is_header_cell(c))
        .count()
        >= 2
}

fn write(items: Vec<Item>) -> String {
    let mut out = String::new();
    let mut in_table = false;
    // A merged cell's text and how many more rows it covers, by column.
    let mut covering: Vec<(String, usize)> = Vec::new();
    for mut item in items {
        match &mut item {
            Item::Row(row) => {
                covering.resize(row.cells.len(), (String::new(), 0));
                for (k, cell) in row.cells.iter_mut().enumerate() {
                    let (text, left) = &mut covering[k];
                    if *left > 0 && cell.is_empty() {
                        cell.clone_from(text);
                        *left -= 1;
                    } else if row.spans[k] > 0 {
                        *text = cell.clone();
                        *left = row.spans[k];
                    } else {
                        *left = 0;
                    }
                }
            }
            Item::Line(_) => covering.clear(),
        }
        match item {
            Item::Line(None) => {
                if !out.ends_with("\n\n") && !out.is_empty() {
                    out.push('\n');
                }
                in_table = false;
            }
            Item::Line(Some(text)) => {
                if in_table {
                    out.push('\n');
                    in_table = false;
                }
                out.push_str(&text);
                out.push('\n');
            }
            Item::Row(row) => {
                if !in_table && !out.is_empty() && !out.ends_with("\n\n") {
                    out.push('\n');
                }
                in_table = true;
                out.push('|');
                for cell in &row.cells {
                    out.push(' ');
                    out.push_str(cell);
                    out.push_str(" |");
                }
                out.push('\n');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cells: &[&str], opens_page: bool) -> Item {
        Item::Row(Row {
            cells: cells.iter().map(|c| c.to_string()).collect(),
            lefts: (0..cells.len()).map(|i| 50.0 + 100.0 * i as f64).collect(),
            opens_page,
            spans: vec![0; cells.len()],
        })
    }

    /// A bloc's heading between two tables of the same columns is a heading, not a page's
    /// number: the second table is not taken for the first one going on.
    #[test]
    fn a_short_heading_between_two_tables_is_kept() {
        let header = ["Compétences", "Critères d'évaluation"];
        let items = vec![
            row(&header, true),
            row(
                &[
                    "C1. Analyser les besoins.",
                    "- Les besoins sont recueillis.",
                ],
                false,
            ),
            Item::Line(None),
            Item::Line(Some("BLOC 2 – Gérer le projet".into())),
            row(&header, true),
            row(
                &["C2. Piloter le projet.", "- Le planning est tenu."],
                false,
            ),
        ];
        let text = write(join_continuations(items));
        assert!(text.contains("BLOC 2 – Gérer le projet"), "{text}");
        assert_eq!(text.matches("| Compétences |").count(), 2, "{text}");
        // A page number between the two parts of one table goes, and the table goes on.
        let items = vec![
            row(&header, true),
            row(&["C1. Analyser les besoins.", "- Les besoins sont"], false),
            Item::Line(Some("Page 3 sur 9".into())),
            row(&header, true),
            row(&["", "recueillis."], false),
        ];
        let text = write(join_continuations(items));
        assert!(!text.contains("Page 3"), "{text}");
        assert!(text.contains("- Les besoins sont recueillis. |"), "{text}");
    }

    fn segment(at: f64, from: f64, to: f64) -> Segment {
        Segment { at, from, to }
    }

    /// An underline inside a cell meets no border across it: it bounds nothing.
    #[test]
    fn only_rules_meeting_two_borders_bound_cells() {
        let horizontal = vec![
            segment(100.0, 50.0, 300.0),
            segment(200.0, 50.0, 300.0),
            segment(150.0, 80.0, 120.0), // an underline
        ];
        let vertical = vec![segment(50.0, 100.0, 200.0), segment(300.0, 100.0, 200.0)];
        let (h, v) = connected(horizontal, vertical);
        assert_eq!(h.len(), 2);
        assert_eq!(v.len(), 2);
        assert!(h.iter().all(|s| s.at != 150.0));
    }

    /// A grid of many columns (a form, a hostile file) is not written as a table row of
    /// hundreds of cells: its text comes as lines.
    #[test]
    fn a_grid_of_too_many_columns_is_read_as_lines() {
        let columns = 40;
        let vertical: Vec<Segment> = (0..=columns)
            .map(|i| segment(10.0 + 10.0 * i as f64, 100.0, 200.0))
            .collect();
        let horizontal = vec![segment(100.0, 10.0, 410.0), segment(200.0, 10.0, 410.0)];
        let glyphs: Vec<Glyph> = (0..columns)
            .map(|i| Glyph {
                x: 12.0 + 10.0 * i as f64,
                y: 150.0,
                width: 5.0,
                size: 9.0,
                ch: "x".into(),
            })
            .collect();
        let page = Page {
            glyphs,
            horizontal,
            vertical,
            text_start: 0,
        };
        let mut lookups = MAX_LOOKUPS;
        let items = page_items(&page, 9.0, 0.2, &mut lookups, "");
        assert!(items.iter().all(|i| !matches!(i, Item::Row(_))));
        assert_eq!(
            items
                .iter()
                .filter(|i| matches!(i, Item::Line(Some(_))))
                .count(),
            columns
        );
    }

    #[test]
    fn items_start_at_bullets_numbers_and_codes() {
        for t in [
            "- Les objectifs",
            "• Un",
            "CE1 - Choix",
            "1. Premier",
            "C1.2 Analyser",
        ] {
            assert!(starts_item(t), "{t}");
        }
        for t in ["les objectifs sont", "Les objectifs", "(PSH) dans"] {
            assert!(!starts_item(t), "{t}");
        }
    }
}
