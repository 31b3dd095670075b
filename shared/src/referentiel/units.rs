//! Turns a référentiel's text into *units*: paragraphs and table cells with the role of the
//! column they sit in.
//!
//! The inputs are a family, not one format: markdown tables with HTML inside cells,
//! tab-separated rows, plain paragraphs, and text extracted from PDFs where blank lines are gone
//! and every line is wrapped. This layer removes what is only presentation (markup, entities,
//! footnote markers, wrapping) and keeps what carries structure (table columns, list items,
//! headings, line starts), so the scanner can work on one shape.

/// What a table column holds, as far as its header tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Column {
    Activities,
    Competences,
    Assessment,
    Criteria,
    Other,
}

/// Where a unit came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UnitKind {
    /// A paragraph of running text (lines joined, wrap points kept as `\n`).
    Paragraph,
    /// A markdown heading (`# …`).
    Heading,
    /// A footnote ("¹ https://…", "<sup>2</sup> chaîne de build : …"), its mark removed.
    Note,
    /// A list item (`- …`, `• …`, `● …`). `dot` tells a round bullet from a dash: in a table
    /// turned to text, the kind of bullet is often all that tells one column's list from
    /// another's (● activities and deliverables beside - indicators).
    Bullet { dot: bool },
    /// A table cell; `column` is the header's role when known, `row` numbers rows per document.
    Cell { column: Option<Column>, row: usize },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unit {
    pub kind: UnitKind,
    /// Clean text. Lines inside a unit (HTML items, wrapped lines) are kept as `\n`.
    pub text: String,
    /// 1-based line of the source where the unit starts.
    pub line: usize,
    /// A cell holding several lists side by side (`<ul>…</ul><br><ul>…</ul>`): each one's clean
    /// text. A cell shared by several compétences may give each its own list.
    pub lists: Vec<String>,
}

impl Unit {
    pub fn is_cell(&self) -> bool {
        matches!(self.kind, UnitKind::Cell { .. })
    }

    pub fn row(&self) -> Option<usize> {
        match self.kind {
            UnitKind::Cell { row, .. } => Some(row),
            _ => None,
        }
    }
}

/// Splits a document into units.
pub(crate) fn units(text: &str) -> Vec<Unit> {
    let mut out = Vec::new();
    let mut paragraph: Option<(UnitKind, String, usize)> = None;
    let mut table = TableState::default();
    let mut row_counter = 0usize;

    let lines = join_dangling_codes(text);
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let mut i = 0;
    while i < lines.len() {
        let line_no = i + 1;
        let raw = lines[i].trim_end_matches('\r');
        let trimmed = raw.trim();
        i += 1;

        if trimmed.starts_with('|') {
            flush(&mut paragraph, &mut out);
            // A markdown row may have been wrapped over several lines (PDF extraction): join
            // lines until the row closes with `|`.
            let mut row = trimmed.to_string();
            while !row.ends_with('|') || row.len() == 1 {
                match lines.get(i) {
                    Some(next) if !next.trim().is_empty() && !next.trim().starts_with('|') => {
                        row.push(' ');
                        row.push_str(next.trim());
                        i += 1;
                    }
                    _ => break,
                }
            }
            let cells = split_markdown_row(&row);
            table.markdown_row(cells, line_no, &mut row_counter, &mut out);
            continue;
        }
        table.end_markdown(&mut row_counter, &mut out);

        if trimmed.is_empty() || trimmed.chars().all(|c| c == '\u{a0}' || c.is_whitespace()) {
            flush(&mut paragraph, &mut out);
            continue;
        }

        // Tab-separated rows: a table whose cells are separated by tabs (text copied from a
        // word processor). One tab between two pieces of text is enough to make a row.
        if raw.contains('\t') && raw.split('\t').filter(|c| !c.trim().is_empty()).count() >= 2 {
            flush(&mut paragraph, &mut out);
            let cells: Vec<String> = raw.split('\t').map(str::to_string).collect();
            table.tab_row(cells, line_no, &mut row_counter, &mut out);
            continue;
        }
        let line = raw.replace('\t', " ");
        let line = line.trim();

        if let Some(rest) = heading_text(line) {
            flush(&mut paragraph, &mut out);
            push_unit(&mut out, UnitKind::Heading, rest, line_no);
            continue;
        }
        if let Some(rest) = bullet_text(line) {
            flush(&mut paragraph, &mut out);
            let dot = !line.starts_with(['-', '*']);
            paragraph = Some((UnitKind::Bullet { dot }, rest.to_string(), line_no));
            continue;
        }
        if starts_structure(line) {
            flush(&mut paragraph, &mut out);
            paragraph = Some((UnitKind::Paragraph, line.to_string(), line_no));
            continue;
        }
        let line = split_column_gaps(line);
        match &mut paragraph {
            Some((_, text, _)) => {
                text.push('\n');
                text.push_str(&line);
            }
            None => paragraph = Some((UnitKind::Paragraph, line, line_no)),
        }
    }
    flush(&mut paragraph, &mut out);
    table.end_markdown(&mut row_counter, &mut out);
    out
}

/// A code left alone at the end of a line ("… responsabilités C.7.") belongs with the
/// statement on the next line: wrapping must not separate them.
fn join_dangling_codes(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let mut line = line.trim_end_matches('\r').to_string();
        loop {
            let last_word = line
                .trim_end()
                .rsplit([' ', '\t', '>'])
                .next()
                .unwrap_or("");
            let dangling = super::codes::normalise_competence_code(
                last_word.trim_start_matches('*').trim_end_matches('*'),
            )
            .is_some()
                && lines
                    .peek()
                    .is_some_and(|next| super::codes::starts_with_infinitive(next.trim_start()));
            if !dangling {
                break;
            }
            let next = lines.next().unwrap_or_default();
            line = format!("{} {}", line.trim_end(), next.trim_start());
        }
        out.push(line);
    }
    out
}

fn flush(paragraph: &mut Option<(UnitKind, String, usize)>, out: &mut Vec<Unit>) {
    if let Some((kind, text, line)) = paragraph.take() {
        push_unit(out, kind, &text, line);
    }
}

fn push_unit(out: &mut Vec<Unit>, kind: UnitKind, raw: &str, line: usize) {
    if kind == UnitKind::Paragraph
        && let Some(notes) = footnotes(raw)
    {
        for text in notes {
            out.push(Unit {
                kind: UnitKind::Note,
                text,
                line,
                lists: Vec::new(),
            });
        }
        return;
    }
    // Inside table cells, a run of spaces is what is left of a line break between list items
    // (word processors export "item  item  item").
    let cell = matches!(kind, UnitKind::Cell { .. });
    let text = if cell {
        dash_bullets(&clean(&split_space_runs(raw)))
    } else {
        clean(raw)
    };
    let lists = if cell { sibling_lists(raw) } else { Vec::new() };
    if !text.is_empty() {
        out.push(Unit {
            kind,
            text,
            line,
            lists,
        });
    }
}

/// A paragraph of footnotes: each line that starts with a footnote's mark (a superscript
/// number, printed or as `<sup>`, however garbled by the extraction: `$<sup>^{\rm 1}$`,
/// `<sup>&</sup>lt;sup>2`; an escaped star) starts a note, the lines after it continue it.
/// `None` when the paragraph does not start with a mark.
fn footnotes(raw: &str) -> Option<Vec<String>> {
    let marked = |line: &str| {
        let start = line.trim_start().trim_start_matches('$');
        start.starts_with("<sup>")
            || start.starts_with(['¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'])
            || start.trim_start_matches('*').starts_with("\\*")
    };
    let mut lines = raw.lines().filter(|l| !l.trim().is_empty());
    let first = lines.next()?;
    if !marked(first) {
        return None;
    }
    let mut notes: Vec<String> = vec![note_text(first)];
    for line in lines {
        if marked(line) {
            notes.push(note_text(line));
        } else if let Some(last) = notes.last_mut() {
            let more = note_text(line);
            // An address wrapped over lines is one word.
            let address = last.starts_with("http") && !last.contains(' ');
            if !address {
                last.push(' ');
            }
            last.push_str(&more);
        }
    }
    notes.retain(|n| n.chars().filter(|c| c.is_alphabetic()).count() >= 3);
    Some(notes)
}

/// One line of a footnote without what is left of its mark.
fn note_text(line: &str) -> String {
    let mut text = clean(line).replace('\n', " ");
    loop {
        let before = text.len();
        text = text
            .trim_start_matches(|c: char| c.is_ascii_digit() || " {}^&*".contains(c))
            .to_string();
        for garble in ["lt;sup>", "rm "] {
            if let Some(rest) = text.strip_prefix(garble) {
                text = rest.to_string();
            }
        }
        if text.len() == before {
            break;
        }
    }
    text.trim()
        .trim_start_matches('<')
        .trim_end_matches(['>', '*'])
        .trim()
        .to_string()
}

/// The top-level HTML lists of a cell when there are several; none otherwise (a list nested in
/// another, or left open, is part of it).
fn sibling_lists(raw: &str) -> Vec<String> {
    // ASCII lower-casing keeps byte offsets, so positions found in `lower` cut `raw`.
    let lower = raw.to_ascii_lowercase();
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    let mut from = 0;
    while let Some(offset) = lower[from..].find('<') {
        let at = from + offset;
        let tag = &lower[at..];
        if tag.starts_with("<ul") || tag.starts_with("<ol") {
            if depth == 0 {
                start = at;
            }
            depth += 1;
        } else if (tag.starts_with("</ul") || tag.starts_with("</ol")) && depth > 0 {
            depth -= 1;
            if depth == 0 {
                let end = at + tag.find('>').map_or(tag.len(), |e| e + 1);
                let text = clean(&split_space_runs(&raw[start..end]));
                if !text.is_empty() {
                    parts.push(text);
                }
            }
        }
        from = at + 1;
    }
    if parts.len() >= 2 { parts } else { Vec::new() }
}

/// Lines that always start a new unit, even without a blank line before them: PDF extraction
/// loses blank lines, so headings and codes at the start of a line are the only breaks left.
fn starts_structure(line: &str) -> bool {
    let plain = clean(line);
    let plain = plain.trim_start_matches(['-', ' ']);
    super::codes::bloc_heading(plain).is_some()
        || super::codes::competence_at_start(plain).is_some()
        || super::codes::criterion_marker(plain).is_some()
        || is_table_header_text(plain)
}

/// Two columns' text on one line of a PDF extraction ("évolutive.  de l'architecture, en"):
/// a wide gap after the end of a sentence, before a lower-case word, is a column boundary and
/// becomes a line break, so each piece can continue its own column.
fn split_column_gaps(line: &str) -> String {
    if !line.contains("  ") {
        return line.to_string();
    }
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while i < chars.len() {
        out.push(chars[i]);
        // Not after a colon: « Livrables :  rapport écrit » is one column.
        if matches!(chars[i], '.' | ';' | ')') {
            let spaces = chars[i + 1..].iter().take_while(|c| **c == ' ').count();
            if spaces >= 2 && chars.get(i + 1 + spaces).is_some_and(|c| c.is_lowercase()) {
                out.push('\n');
                i += 1 + spaces;
                continue;
            }
        }
        i += 1;
    }
    out
}

fn heading_text(line: &str) -> Option<&str> {
    let rest = line.trim_start_matches('#');
    if rest.len() < line.len() && (rest.starts_with(' ') || rest.is_empty()) {
        Some(rest.trim())
    } else {
        None
    }
}

/// A cell's list items start with "- " whatever bullet the certifier printed (•, ▪, –, ➤…):
/// inside one cell, the kind of bullet tells no column from another. Another kind of bullet
/// right after an item that ends on a colon opens a nested list (that item's indicators): its
/// items start with [`NESTED`] until the first kind comes back.
fn dash_bullets(text: &str) -> String {
    let mut first_kind: Option<char> = None;
    let mut nested = false;
    let mut previous_ends_with_colon = false;
    let mut out = Vec::new();
    for line in text.lines() {
        let mut chars = line.chars();
        let written = match (chars.next(), chars.as_str()) {
            (
                Some(
                    kind @ ('-' | '•' | '●' | '▪' | '◦' | '○' | '■' | '–' | '—' | '➤' | '►' | '✓'
                    | '➢'),
                ),
                rest,
            ) if rest.starts_with(' ') => {
                let first = *first_kind.get_or_insert(kind);
                if kind == first {
                    nested = false;
                } else if previous_ends_with_colon {
                    nested = true;
                }
                if nested {
                    format!("{NESTED}{rest}")
                } else {
                    format!("-{rest}")
                }
            }
            _ => line.to_string(),
        };
        previous_ends_with_colon =
            line.trim_end().ends_with(':') || (nested && previous_ends_with_colon);
        out.push(written);
    }
    out.join("\n")
}

/// What starts an item of a nested list in a cell (see [`dash_bullets`]).
pub(crate) const NESTED: char = '◦';

fn bullet_text(line: &str) -> Option<&str> {
    for marker in [
        "- ",
        "* ",
        "• ",
        "● ",
        "○ ",
        "▪ ",
        "➤ ",
        "-\u{a0}",
        "•\u{a0}",
    ] {
        if let Some(rest) = line.strip_prefix(marker) {
            return Some(rest.trim());
        }
    }
    for marker in ['•', '●', '○', '▪', '➤'] {
        if let Some(rest) = line.strip_prefix(marker) {
            return Some(rest.trim());
        }
    }
    None
}

/// The header row that starts every bloc's table in the "référentiel d'activités / de
/// compétences / d'évaluation" layout.
pub(crate) fn is_table_header_text(text: &str) -> bool {
    let folded = fold(text);
    folded.starts_with("referentiel d'activites") || folded.starts_with("referentiel d’activites")
}

#[derive(Default)]
struct TableState {
    /// Roles of the columns of the markdown table being read, by index.
    markdown_roles: Vec<Option<Column>>,
    /// Roles learnt from the last table, kept for continuation tables after a page break whose
    /// header is empty.
    previous_roles: Vec<Option<Column>>,
    in_markdown: bool,
    seen_header: bool,
    /// The first row of a markdown table, until the next line says whether it is a header.
    pending: Option<(Vec<String>, usize)>,
    tab_roles: Vec<Option<Column>>,
}

impl TableState {
    fn end_markdown(&mut self, rows: &mut usize, out: &mut Vec<Unit>) {
        if let Some((cells, line)) = self.pending.take() {
            self.data_row(cells, line, rows, out);
        }
        if self.in_markdown {
            if self.markdown_roles.iter().any(Option::is_some) {
                self.previous_roles = std::mem::take(&mut self.markdown_roles);
            }
            self.markdown_roles.clear();
            self.in_markdown = false;
            self.seen_header = false;
        }
    }

    fn markdown_row(
        &mut self,
        cells: Vec<String>,
        line: usize,
        rows: &mut usize,
        out: &mut Vec<Unit>,
    ) {
        if cells.iter().all(|c| {
            !c.trim().is_empty() && c.trim().chars().all(|ch| matches!(ch, '-' | ':' | ' '))
        }) {
            // The |---|---| separator: what came before it was the header.
            if let Some((header, line)) = self.pending.take() {
                self.header_row(&header, line, out);
            }
            self.seen_header = true;
            return;
        }
        if !self.in_markdown {
            self.in_markdown = true;
            self.markdown_roles = vec![None; cells.len()];
            if cells.iter().any(|c| header_role(c).is_some()) {
                self.header_row(&cells, line, out);
            } else {
                // Only the separator that may follow tells whether this row is a header.
                self.pending = Some((cells, line));
            }
            return;
        }
        if let Some((first, first_line)) = self.pending.take() {
            self.data_row(first, first_line, rows, out);
        }
        let header_roles: Vec<Option<Column>> = cells.iter().map(|c| header_role(c)).collect();
        // A second header line ("| | | MODALITÉS | CRITÈRES |") refines the first.
        if header_roles.iter().filter(|r| r.is_some()).count() >= 2
            && cells
                .iter()
                .zip(&header_roles)
                .all(|(c, r)| r.is_some() || clean(c).is_empty())
        {
            self.header_row(&cells, line, out);
            return;
        }
        self.data_row(cells, line, rows, out);
    }

    fn header_row(&mut self, cells: &[String], line: usize, out: &mut Vec<Unit>) {
        for (i, cell) in cells.iter().enumerate() {
            if let Some(role) = header_role(cell) {
                if i >= self.markdown_roles.len() {
                    self.markdown_roles.resize(i + 1, None);
                }
                self.markdown_roles[i] = Some(role);
            }
        }
        // The scanner uses the bloc tables' header to place blocs whose heading was lost.
        if let Some(first) = cells.first()
            && is_table_header_text(&clean(first))
        {
            push_unit(out, UnitKind::Paragraph, first, line);
        }
    }

    fn data_row(&mut self, cells: Vec<String>, line: usize, rows: &mut usize, out: &mut Vec<Unit>) {
        if cells.iter().all(|c| clean(c).is_empty()) {
            // An empty header: a table continued after a page break. Same columns as before.
            if self.markdown_roles.iter().all(Option::is_none)
                && self.previous_roles.len() == cells.len()
            {
                self.markdown_roles = self.previous_roles.clone();
            }
            return;
        }
        if self.markdown_roles.iter().all(Option::is_none)
            && self.previous_roles.len() == cells.len()
        {
            self.markdown_roles = self.previous_roles.clone();
        }
        *rows += 1;
        for (i, cell) in cells.iter().enumerate() {
            let column = self.markdown_roles.get(i).copied().flatten();
            push_unit(out, UnitKind::Cell { column, row: *rows }, cell, line);
        }
    }

    fn tab_row(&mut self, cells: Vec<String>, line: usize, rows: &mut usize, out: &mut Vec<Unit>) {
        let roles: Vec<Option<Column>> = cells.iter().map(|c| header_role(c)).collect();
        if roles.iter().filter(|r| r.is_some()).count() >= 2 {
            // A header row (possibly split over two lines): remember what each column holds.
            if cells
                .first()
                .is_some_and(|c| is_table_header_text(&clean(c)))
            {
                self.tab_roles = vec![None; cells.len()];
                *rows += 1;
                push_unit(
                    out,
                    UnitKind::Cell {
                        column: None,
                        row: *rows,
                    },
                    &cells[0],
                    line,
                );
            }
            if self.tab_roles.len() < roles.len() {
                self.tab_roles.resize(roles.len(), None);
            }
            for (i, role) in roles.into_iter().enumerate() {
                if role.is_some() {
                    self.tab_roles[i] = role;
                }
            }
            return;
        }
        // Tab rows shift: an empty leading cell moves every column. The competency cell is
        // the anchor: the modalité follows it, then the criteria.
        *rows += 1;
        let cleaned: Vec<String> = cells.iter().map(|c| clean(c)).collect();
        let anchor = cleaned.iter().position(|c| {
            let first = c.lines().next().unwrap_or_default();
            super::codes::competence_at_start(first.trim_start_matches(['-', ' '])).is_some()
                || !super::codes::find_competences(c).is_empty()
        });
        let last_filled = cleaned.iter().rposition(|c| !c.is_empty());
        for (i, cell) in cells.iter().enumerate() {
            let column = match anchor {
                Some(a) if i < a => Some(Column::Activities),
                Some(a) if i == a => Some(Column::Competences),
                Some(a) if i == a + 1 => Some(Column::Assessment),
                Some(_) => Some(Column::Criteria),
                None if Some(i) == last_filled && i >= 3 => Some(Column::Criteria),
                None => self
                    .tab_roles
                    .get(i)
                    .copied()
                    .flatten()
                    .filter(|r| *r != Column::Criteria),
            };
            push_unit(out, UnitKind::Cell { column, row: *rows }, cell, line);
        }
    }
}

/// Does a table cell name a column (« Critères d'évaluation », « Compétences »…)?
pub(crate) fn is_header_cell(cell: &str) -> bool {
    header_role(cell).is_some()
}

fn header_role(cell: &str) -> Option<Column> {
    let folded = fold(&clean(cell));
    if folded.is_empty() || folded.len() > 220 {
        return None;
    }
    if folded.starts_with("referentiel d'activites") || folded == "activites" {
        Some(Column::Activities)
    } else if folded.starts_with("referentiel de competences") || folded == "competences" {
        Some(Column::Competences)
    } else if folded.starts_with("modalites d") || folded == "attendu" || folded == "attendus" {
        Some(Column::Assessment)
    } else if folded.starts_with("criteres d") || folded == "critere" || folded == "criteres" {
        Some(Column::Criteria)
    } else if folded.starts_with("referentiel d'evaluation")
        || folded.starts_with("acquis / non acquis")
        || folded.starts_with("blocs de competences")
        || folded.starts_with("intitule du bloc")
    {
        Some(Column::Other)
    } else {
        None
    }
}

fn split_markdown_row(row: &str) -> Vec<String> {
    let inner = row.trim();
    let inner = inner.strip_prefix('|').unwrap_or(inner);
    let inner = inner.strip_suffix('|').unwrap_or(inner);
    inner.split('|').map(str::to_string).collect()
}

fn split_space_runs(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut spaces = 0;
    for ch in raw.trim().chars() {
        if ch == ' ' {
            spaces += 1;
            continue;
        }
        match spaces {
            0 => {}
            1 => out.push(' '),
            _ => out.push('\n'),
        }
        spaces = 0;
        out.push(ch);
    }
    out
}

/// Removes presentation: HTML tags (and footnote `<sup>` with their content), entities,
/// markdown emphasis, footnote stars, non-breaking spaces and runs of spaces. Line breaks
/// are kept; empty lines are dropped.
pub(crate) fn clean(raw: &str) -> String {
    let without_tags = strip_tags(raw);
    let decoded = decode_entities(&without_tags);
    let mut out = String::with_capacity(decoded.len());
    for line in decoded.split('\n') {
        let mut l = String::with_capacity(line.len());
        let mut prev_space = true;
        for ch in line.chars() {
            let ch = match ch {
                '\u{a0}' | '\t' | '\u{202f}' | '\u{2009}' => ' ',
                '*' | '\\' | '$' => continue,
                // Footnote marks printed as superscripts ("Valentin Haüy¹"): the note is kept
                // apart, the mark is presentation.
                '¹' | '²' | '³' | '⁴' | '⁵' | '⁶' | '⁷' | '⁸' | '⁹' | '⁰' => {
                    continue;
                }
                c => c,
            };
            if ch == ' ' {
                if !prev_space {
                    l.push(' ');
                }
                prev_space = true;
            } else {
                l.push(ch);
                prev_space = false;
            }
        }
        let l = l.trim();
        if !l.is_empty() {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(l);
        }
    }
    out
}

fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        let Some(end) = after.find('>') else {
            out.push_str(after);
            return out;
        };
        if !after[1..].starts_with(|c: char| c.is_ascii_alphabetic() || c == '/') {
            // "a < b": a comparison, not markup.
            out.push('<');
            rest = &after[1..];
            continue;
        }
        let tag = after[1..end].trim().to_ascii_lowercase();
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        let known = matches!(
            name.as_str(),
            "p" | "br"
                | "li"
                | "ul"
                | "ol"
                | "b"
                | "i"
                | "u"
                | "em"
                | "strong"
                | "span"
                | "div"
                | "sup"
                | "sub"
                | "input"
                | "a"
                | "table"
                | "tr"
                | "td"
                | "th"
                | "font"
                | "small"
        );
        if !known {
            // Not markup ("<" in running text): keep it.
            out.push('<');
            rest = &after[1..];
            continue;
        }
        if name == "sup" && !tag.starts_with('/') {
            // Footnote markers: drop the marker with its content.
            if let Some(close) = after.to_ascii_lowercase().find("</sup>") {
                rest = &after[close + "</sup>".len()..];
                continue;
            }
        }
        if matches!(
            name.as_str(),
            "p" | "br" | "li" | "ul" | "ol" | "div" | "tr"
        ) {
            out.push('\n');
        } else if matches!(name.as_str(), "td" | "th") {
            out.push(' ');
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp..];
        let end = after[1..].find(';').map(|e| e + 1).filter(|&e| e <= 10);
        let decoded = end.and_then(|e| {
            let name = &after[1..e];
            match name {
                "lt" => Some('<'),
                "gt" => Some('>'),
                "amp" => Some('&'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "rsquo" => Some('’'),
                "lsquo" => Some('‘'),
                "nbsp" => Some(' '),
                _ => {
                    let num = name.strip_prefix('#')?;
                    let code = match num.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => num.parse().ok()?,
                    };
                    char::from_u32(code)
                }
            }
            .map(|c| (c, e))
        });
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = &after[e + 1..];
            }
            None => {
                out.push('&');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Lower-case, accents removed, typographic apostrophes made plain: for comparing words.
pub(crate) fn fold(s: &str) -> String {
    s.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'à' | 'â' | 'ä' | 'á' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'î' | 'ï' | 'í' => 'i',
            'ô' | 'ö' | 'ó' => 'o',
            'ù' | 'û' | 'ü' | 'ú' => 'u',
            'ç' => 'c',
            '’' => '\'',
            c => c,
        })
        .collect::<String>()
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cells_bullets_become_dashes_and_a_second_kind_a_nested_list() {
        assert_eq!(
            dash_bullets("– Un critère :\n- un indicateur\n- un autre\n– Deux\nsuite"),
            format!("- Un critère :\n{NESTED} un indicateur\n{NESTED} un autre\n- Deux\nsuite")
        );
        // Two kinds at one level (a word processor's autocorrect): one list.
        assert_eq!(
            dash_bullets("- Un\n– Deux\n- Trois"),
            "- Un\n- Deux\n- Trois"
        );
        assert_eq!(dash_bullets("• Un\n• Deux"), "- Un\n- Deux");
        assert_eq!(dash_bullets("-suite collée"), "-suite collée");
    }

    #[test]
    fn html_is_removed_and_list_items_kept_apart() {
        let cell = "<p><b>C.1.</b> Organiser</p> <ul> <li>- Un</li> <li>Deux &amp; trois</li></ul>";
        assert_eq!(clean(cell), "C.1. Organiser\n- Un\nDeux & trois");
    }

    #[test]
    fn footnotes_and_markdown_emphasis_are_dropped() {
        assert_eq!(
            clean("**C.2.** Analyser<sup>1</sup> les *besoins*"),
            "C.2. Analyser les besoins"
        );
    }

    #[test]
    fn wrapped_markdown_row_is_joined() {
        let text = "| A | B |\n|---|---|\n| un début\nde cellule | deux |\n";
        let units = units(text);
        let texts: Vec<_> = units.iter().map(|u| u.text.as_str()).collect();
        assert_eq!(texts, ["un début de cellule", "deux"]);
    }

    #[test]
    fn footnotes_are_units_of_their_own_without_their_marks() {
        let notes = |text: &str| -> Vec<String> {
            units(text)
                .into_iter()
                .filter(|u| u.kind == UnitKind::Note)
                .map(|u| u.text)
                .collect()
        };
        assert_eq!(
            notes(
                " <sup>&</sup>lt;sup>5</sup> CAP : Théorème CAP.\n <sup>6</sup> OWASP : Open Web Application Security Project.\n"
            ),
            [
                "CAP : Théorème CAP.",
                "OWASP : Open Web Application Security Project."
            ]
        );
        assert_eq!(
            notes("$<sup>^{\\</sup>rm 1}$  \\* product backlog ou cahier des charges\n"),
            ["product backlog ou cahier des charges"]
        );
        assert_eq!(
            notes("² <https://www.example.org/guide-\naccessibilite.pdf>\n"),
            ["https://www.example.org/guide-accessibilite.pdf"]
        );
        assert_eq!(
            notes("*\\*Un portfolio est un dossier personnel.*\n"),
            ["Un portfolio est un dossier personnel."]
        );
        // A mark inside a sentence is no footnote; a list item is no footnote.
        assert!(notes("Le principe ACID<sup>7</sup> est appliqué.\n* Un élément\n").is_empty());
    }

    #[test]
    fn plain_lines_join_into_a_paragraph_until_a_blank_line() {
        let units = units("une ligne\nsa suite\n\nautre paragraphe\n- puce\nsuite de la puce\n");
        assert_eq!(units.len(), 3);
        assert_eq!(units[0].text, "une ligne\nsa suite");
        assert_eq!(units[2].kind, UnitKind::Bullet { dot: false });
        assert_eq!(units[2].text, "puce\nsuite de la puce");
    }

    #[test]
    fn entities_decode_and_unknown_ones_stay() {
        assert_eq!(
            decode_entities("a &lt;b&gt; &#233;t&#xE9; &bogus; &"),
            "a <b> été &bogus; &"
        );
    }

    #[test]
    fn angle_brackets_in_text_are_not_tags() {
        assert_eq!(clean("si a < b et c > d"), "si a < b et c > d");
    }
}
