//! Pages of text, boxes and tables on A4, broken across pages where they do not fit.
//!
//! Deliberately small: greedy line breaking on spaces (a word longer than the line is cut
//! between characters rather than overflowing), boxes that continue on the next page with
//! their border closed and reopened, table rows kept whole. Page contents are PDF operators
//! written straight into a buffer per page.

use std::fmt::Write as _;

use super::font::Font;
use super::writer::real;

pub const PAGE_WIDTH: f32 = 595.28;
pub const PAGE_HEIGHT: f32 = 841.89;
pub const MARGIN: f32 = 56.7;
pub const CONTENT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN;
const TOP: f32 = PAGE_HEIGHT - MARGIN;
/// Room kept under the text for the page footer.
const BOTTOM: f32 = MARGIN + 18.0;
const PAD: f32 = 5.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Face {
    Regular,
    Bold,
}

pub struct Fonts {
    pub regular: Font,
    pub bold: Font,
}

impl Fonts {
    pub fn get(&mut self, face: Face) -> &mut Font {
        match face {
            Face::Regular => &mut self.regular,
            Face::Bold => &mut self.bold,
        }
    }
}

/// A run of text in one face and size.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub face: Face,
    pub size: f32,
    /// Grey level of the text, 0 black.
    pub grey: f32,
}

pub const BODY: Style = Style {
    face: Face::Regular,
    size: 10.0,
    grey: 0.0,
};
pub const LABEL: Style = Style {
    face: Face::Bold,
    size: 10.0,
    grey: 0.0,
};
pub const SMALL: Style = Style {
    face: Face::Regular,
    size: 8.5,
    grey: 0.3,
};

impl Style {
    pub fn sized(self, size: f32) -> Style {
        Style { size, ..self }
    }

    fn leading(self) -> f32 {
        self.size * 1.35
    }
}

/// One page's operators, and the images it draws (resource name, object id).
#[derive(Default)]
pub struct Page {
    pub ops: String,
    pub images: Vec<(String, u32)>,
}

/// A column of a table: its share of the width, and whether its text is set right.
#[derive(Clone, Copy)]
pub struct Column {
    pub width: f32,
    pub right: bool,
}

impl Column {
    pub const fn left(width: f32) -> Column {
        Column {
            width,
            right: false,
        }
    }

    pub const fn right(width: f32) -> Column {
        Column { width, right: true }
    }
}

pub struct Typesetter<'f> {
    pub fonts: &'f mut Fonts,
    pub pages: Vec<Page>,
    /// Top of the free space on the current page, in PDF coordinates (from the bottom).
    y: f32,
}

impl<'f> Typesetter<'f> {
    pub fn new(fonts: &'f mut Fonts) -> Typesetter<'f> {
        Typesetter {
            fonts,
            pages: Vec::new(),
            y: BOTTOM,
        }
    }

    /// Index of the current page (a new one is started if there is none yet).
    pub fn page_index(&mut self) -> usize {
        if self.pages.is_empty() {
            self.new_page();
        }
        self.pages.len() - 1
    }

    pub fn new_page(&mut self) {
        self.pages.push(Page::default());
        self.y = TOP;
    }

    fn page(&mut self) -> &mut Page {
        if self.pages.is_empty() {
            self.new_page();
        }
        self.pages.last_mut().expect("a page")
    }

    /// Starts a new page unless `height` still fits on this one.
    pub fn ensure(&mut self, height: f32) {
        if self.pages.is_empty() || self.y - height < BOTTOM {
            self.new_page();
        }
    }

    pub fn space(&mut self, height: f32) {
        if self.y - height < BOTTOM {
            self.new_page();
        } else {
            self.y -= height;
        }
    }

    /// Writes one line with its baseline at `baseline`.
    pub fn text_at(&mut self, style: Style, x: f32, baseline: f32, text: &str) {
        if text.is_empty() {
            return;
        }
        let font = match style.face {
            Face::Regular => "F1",
            Face::Bold => "F2",
        };
        let glyphs = self.fonts.get(style.face).encode(text);
        let ops = format!(
            "BT {} g /{font} {} Tf 1 0 0 1 {} {} Tm {glyphs} Tj ET\n",
            real(style.grey),
            real(style.size),
            real(x),
            real(baseline)
        );
        self.page().ops.push_str(&ops);
    }

    pub fn width(&mut self, style: Style, text: &str) -> f32 {
        self.fonts.get(style.face).width(text, style.size)
    }

    /// `text` broken into lines of at most `width`: paragraphs at line breaks, then words.
    pub fn wrap(&mut self, style: Style, text: &str, width: f32) -> Vec<String> {
        let font = self.fonts.get(style.face);
        let mut lines = Vec::new();
        for paragraph in text.split('\n') {
            let paragraph = paragraph.replace('\t', "    ");
            let mut line = String::new();
            for word in paragraph.split(' ').filter(|w| !w.is_empty()) {
                let candidate = if line.is_empty() {
                    word.to_string()
                } else {
                    format!("{line} {word}")
                };
                if font.width(&candidate, style.size) <= width {
                    line = candidate;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                // A word wider than the line is cut where it must be.
                let mut piece = String::new();
                for c in word.chars() {
                    piece.push(c);
                    if font.width(&piece, style.size) > width && piece.chars().count() > 1 {
                        piece.pop();
                        lines.push(std::mem::take(&mut piece));
                        piece.push(c);
                    }
                }
                line = piece;
            }
            lines.push(line);
        }
        lines
    }

    /// Lines of `text` at the left margin (plus `indent`), continued on new pages.
    pub fn paragraph(&mut self, style: Style, text: &str, indent: f32) {
        for line in self.wrap(style, text, CONTENT_WIDTH - indent) {
            self.line(style, &line, MARGIN + indent);
        }
    }

    fn line(&mut self, style: Style, text: &str, x: f32) {
        if self.pages.is_empty() || self.y - style.leading() < BOTTOM {
            self.new_page();
        }
        self.y -= style.leading();
        let baseline = self.y + (style.leading() - style.size) / 2.0 + style.size * 0.22;
        self.text_at(style, x, baseline, text);
    }

    /// A title, kept with at least `keep` points of what follows it.
    pub fn heading(&mut self, text: &str, size: f32, keep: f32) {
        let style = LABEL.sized(size);
        let lines = self.wrap(style, text, CONTENT_WIDTH);
        self.ensure(lines.len() as f32 * style.leading() + keep);
        for line in lines {
            self.line(style, &line, MARGIN);
        }
        self.y -= size * 0.4;
    }

    /// A bordered box: `label` in bold (on a grey band) above `value`; it continues on the
    /// next page when it does not fit, its border closed at the bottom of each page.
    pub fn boxed(&mut self, label: &str, value: &str) {
        let inner = CONTENT_WIDTH - 2.0 * PAD;
        let label_lines = self.wrap(LABEL, label, inner);
        let value_lines = self.wrap(BODY, value, inner);
        // The label and the value's first lines stay together.
        let first = (label_lines.len() as f32 * LABEL.leading())
            + value_lines.len().min(2) as f32 * BODY.leading()
            + 3.0 * PAD;
        self.ensure(first);
        let mut top = self.y;
        let band = label_lines.len() as f32 * LABEL.leading() + PAD;
        self.fill_rect(MARGIN, top - band, CONTENT_WIDTH, band, 0.92);
        self.y -= PAD / 2.0;
        for line in &label_lines {
            self.line(LABEL, line, MARGIN + PAD);
        }
        self.y -= PAD;
        for line in &value_lines {
            if self.y - BODY.leading() - PAD < BOTTOM {
                self.stroke_rect(MARGIN, self.y - PAD, CONTENT_WIDTH, top - self.y + PAD);
                self.new_page();
                top = self.y;
                self.y -= PAD;
            }
            self.line(BODY, line, MARGIN + PAD);
        }
        self.y -= PAD;
        self.stroke_rect(MARGIN, self.y, CONTENT_WIDTH, top - self.y);
    }

    /// A table row: one cell per column (widths are shares of the content width); the row
    /// moves to the next page whole if it does not fit. `shade`: grey background (header).
    pub fn row(&mut self, columns: &[Column], cells: &[(Style, &str)], shade: bool) {
        let total: f32 = columns.iter().map(|c| c.width).sum();
        let widths: Vec<f32> = columns
            .iter()
            .map(|c| c.width / total * CONTENT_WIDTH)
            .collect();
        let wrapped: Vec<Vec<String>> = cells
            .iter()
            .zip(&widths)
            .map(|((style, text), w)| self.wrap(*style, text, w - 2.0 * PAD))
            .collect();
        let height = wrapped
            .iter()
            .zip(cells)
            .map(|(lines, (style, _))| lines.len() as f32 * style.leading())
            .fold(0.0, f32::max)
            + 2.0 * PAD;
        if height > TOP - BOTTOM {
            // Taller than a page (a very long value): set as a box that runs over pages,
            // the first cell as its label, rather than a row that cannot fit anywhere.
            let (label, rest) = cells.split_first().expect("a row has cells");
            let value: Vec<&str> = rest.iter().map(|(_, text)| *text).collect();
            self.boxed(label.1, &value.join("\n"));
            return;
        }
        self.ensure(height);
        let top = self.y;
        if shade {
            self.fill_rect(MARGIN, top - height, CONTENT_WIDTH, height, 0.92);
        }
        let mut x = MARGIN;
        for (((lines, (style, _)), w), column) in
            wrapped.iter().zip(cells).zip(&widths).zip(columns)
        {
            self.y = top - PAD;
            for line in lines {
                let at = if column.right {
                    x + w - PAD - self.width(*style, line)
                } else {
                    x + PAD
                };
                self.line(*style, line, at);
            }
            self.stroke_rect(x, top - height, *w, height);
            x += w;
        }
        self.y = top - height;
    }

    pub fn fill_rect(&mut self, x: f32, y: f32, w: f32, h: f32, grey: f32) {
        let ops = format!(
            "q {} g {} {} {} {} re f Q\n",
            real(grey),
            real(x),
            real(y),
            real(w),
            real(h)
        );
        self.page().ops.push_str(&ops);
    }

    pub fn stroke_rect(&mut self, x: f32, y: f32, w: f32, h: f32) {
        let ops = format!(
            "q 0.5 w 0.4 G {} {} {} {} re S Q\n",
            real(x),
            real(y),
            real(w),
            real(h)
        );
        self.page().ops.push_str(&ops);
    }

    /// Draws image `name` (object `id`) scaled to fit `max_w` × the rest of the page,
    /// centred, keeping its proportions.
    /// Draws image `id` (its stored `pixels`) centred, as wide as `max_w` allows and as
    /// tall as the page's room, turned as its EXIF `orientation` (1–8) says it is seen.
    pub fn image(&mut self, id: u32, pixels: (u32, u32), max_w: f32, orientation: u8) {
        let name = format!("Im{id}");
        let (w, h) = (pixels.0.max(1) as f32, pixels.1.max(1) as f32);
        // Orientations 5–8 turn the image a quarter: it is seen h wide and w tall.
        let (w, h) = if orientation >= 5 { (h, w) } else { (w, h) };
        let room = (self.y - BOTTOM).max(1.0);
        let scale = (max_w / w).min(room / h);
        let (dw, dh) = (w * scale, h * scale);
        let x = MARGIN + (CONTENT_WIDTH - dw) / 2.0;
        let y = self.y - dh;
        let page = self.page();
        let [a, b, c, d, e, f] = placement(orientation, x, y, dw, dh);
        let _ = writeln!(
            page.ops,
            "q {} {} {} {} {} {} cm /{name} Do Q",
            real(a),
            real(b),
            real(c),
            real(d),
            real(e),
            real(f)
        );
        page.images.push((name, id));
        self.y = y;
    }
}

/// The matrix that draws an image's unit square into the box (`x`, `y`, `w`, `h`, as seen)
/// turned as EXIF orientation `o` says: the stored top-left corner lands top-left (1),
/// top-right (2, mirrored; 6, a quarter turn clockwise; 7), bottom-right (3, half a turn)
/// or bottom-left (4, 5, 8).
pub fn placement(o: u8, x: f32, y: f32, w: f32, h: f32) -> [f32; 6] {
    match o {
        2 => [-w, 0.0, 0.0, h, x + w, y],
        3 => [-w, 0.0, 0.0, -h, x + w, y + h],
        4 => [w, 0.0, 0.0, -h, x, y + h],
        5 => [0.0, -h, -w, 0.0, x + w, y + h],
        6 => [0.0, -h, w, 0.0, x, y + h],
        7 => [0.0, h, w, 0.0, x, y],
        8 => [0.0, h, -w, 0.0, x + w, y],
        _ => [w, 0.0, 0.0, h, x, y],
    }
}
