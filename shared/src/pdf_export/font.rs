//! A TrueType font measured for layout and embedded in the PDF as a subset.
//!
//! Text is written as glyph ids (Identity-H encoding of a Type 0 font), so any character the
//! font has prints, accents and ligature-free French typography included; a ToUnicode map
//! lets readers (and `pdftotext`) copy the text back. The embedded file keeps only the
//! glyphs used: glyph ids do not change (outlines of unused glyphs are dropped, their
//! slots left empty), which keeps the subsetting simple and the ids in the page contents
//! valid.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write;

use lopdf::{Dictionary, Object, Stream, dictionary};

use super::PdfExportError;

pub struct Font {
    data: Vec<u8>,
    /// PostScript-like name written in the PDF (`ABCDEF+DejaVuSans`).
    name: String,
    units_per_em: f32,
    ascender: i16,
    descender: i16,
    cap_height: i16,
    bbox: [i16; 4],
    /// Glyph, advance and the character actually drawn ('?' for one the font lacks), for
    /// each character met so far.
    cache: HashMap<char, (u16, u16, char)>,
    /// Glyphs written, with the character each one stands for and its advance.
    used: BTreeMap<u16, (char, u16)>,
}

impl Font {
    pub fn parse(data: Vec<u8>, name: &str, tag: &str) -> Result<Font, PdfExportError> {
        let face = ttf_parser::Face::parse(&data, 0)
            .map_err(|e| PdfExportError::Font(format!("{name} : {e}")))?;
        let b = face.global_bounding_box();
        let (units_per_em, ascender, descender) =
            (face.units_per_em(), face.ascender(), face.descender());
        let cap_height = face.capital_height().unwrap_or(ascender);
        Ok(Font {
            data,
            name: format!("{tag}+{name}"),
            units_per_em: f32::from(units_per_em),
            ascender,
            descender,
            cap_height,
            bbox: [b.x_min, b.y_min, b.x_max, b.y_max],
            cache: HashMap::new(),
            used: BTreeMap::new(),
        })
    }

    fn glyph(&mut self, c: char) -> (u16, u16, char) {
        if let Some(&g) = self.cache.get(&c) {
            return g;
        }
        let face = ttf_parser::Face::parse(&self.data, 0).expect("parsed when loaded");
        let lookup = |c: char| {
            face.glyph_index(c)
                .map(|g| (g.0, face.glyph_hor_advance(g).unwrap_or(0), c))
        };
        // A character the font lacks prints as '?', never as nothing (and copies as '?').
        let g = lookup(c).or_else(|| lookup('?')).unwrap_or((0, 0, '?'));
        self.cache.insert(c, g);
        g
    }

    /// Width of `text` at `size` points.
    pub fn width(&mut self, text: &str, size: f32) -> f32 {
        let units: u32 = text.chars().map(|c| u32::from(self.glyph(c).1)).sum();
        units as f32 * size / self.units_per_em
    }

    /// `text` as a hexadecimal PDF string of glyph ids (`<0024004F>`), for a content
    /// stream; remembers the glyphs for the subset.
    pub fn encode(&mut self, text: &str) -> String {
        let mut hex = String::with_capacity(text.len() * 4 + 2);
        hex.push('<');
        for c in text.chars() {
            let (gid, advance, drawn) = self.glyph(c);
            self.used.entry(gid).or_insert((drawn, advance));
            hex.push_str(&format!("{gid:04X}"));
        }
        hex.push('>');
        hex
    }

    /// The Type 0 font dictionary (as object `type0`, the id pages point at) and the
    /// objects it points to, as `(id, object)` pairs; `ids` gives fresh object ids.
    pub fn objects(&self, type0: u32, mut ids: impl FnMut() -> u32) -> Vec<(u32, Object)> {
        let scale = 1000.0 / self.units_per_em;
        let (cid, descriptor, file, to_unicode) = (ids(), ids(), ids(), ids());
        let mut widths = Vec::new();
        for (&gid, &(_, advance)) in &self.used {
            widths.push(Object::Integer(i64::from(gid)));
            widths.push(Object::Array(vec![Object::Integer(
                (f32::from(advance) * scale).round() as i64,
            )]));
        }
        let glyphs: BTreeSet<u16> = self.used.keys().copied().collect();
        let subset = subset(&self.data, &glyphs).unwrap_or_else(|| self.data.clone());
        let s = |v: i16| Object::Integer((f32::from(v) * scale).round() as i64);
        vec![
            (
                type0,
                Object::Dictionary(dictionary! {
                    "Type" => "Font", "Subtype" => "Type0",
                    "BaseFont" => Object::Name(self.name.clone().into_bytes()),
                    "Encoding" => "Identity-H",
                    "DescendantFonts" => vec![(cid, 0).into()],
                    "ToUnicode" => (to_unicode, 0),
                }),
            ),
            (
                cid,
                Object::Dictionary(dictionary! {
                    "Type" => "Font", "Subtype" => "CIDFontType2",
                    "BaseFont" => Object::Name(self.name.clone().into_bytes()),
                    "CIDSystemInfo" => dictionary! {
                        "Registry" => Object::string_literal("Adobe"),
                        "Ordering" => Object::string_literal("Identity"),
                        "Supplement" => 0,
                    },
                    "FontDescriptor" => (descriptor, 0),
                    "CIDToGIDMap" => "Identity",
                    "W" => widths,
                }),
            ),
            (
                descriptor,
                Object::Dictionary(dictionary! {
                    "Type" => "FontDescriptor",
                    "FontName" => Object::Name(self.name.clone().into_bytes()),
                    // Symbolic: the font's own glyphs, not a standard Latin encoding.
                    "Flags" => 4,
                    "FontBBox" => self.bbox.iter().map(|&v| s(v)).collect::<Vec<_>>(),
                    "ItalicAngle" => 0,
                    "Ascent" => s(self.ascender),
                    "Descent" => s(self.descender),
                    "CapHeight" => s(self.cap_height),
                    "StemV" => 80,
                    "FontFile2" => (file, 0),
                }),
            ),
            (
                file,
                compressed(dictionary! { "Length1" => subset.len() as i64 }, &subset),
            ),
            (
                to_unicode,
                compressed(dictionary! {}, to_unicode_cmap(&self.used).as_bytes()),
            ),
        ]
    }
}

/// A stream holding `content` deflated.
pub fn compressed(mut dict: Dictionary, content: &[u8]) -> Object {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(6));
    encoder.write_all(content).expect("writing to memory");
    let bytes = encoder.finish().expect("writing to memory");
    dict.set("Filter", "FlateDecode");
    Object::Stream(Stream::new(dict, bytes))
}

fn to_unicode_cmap(used: &BTreeMap<u16, (char, u16)>) -> String {
    let mut cmap = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
         /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
         /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
         1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    let entries: Vec<_> = used.iter().collect();
    for chunk in entries.chunks(100) {
        cmap.push_str(&format!("{} beginbfchar\n", chunk.len()));
        for (gid, (c, _)) in chunk {
            let mut units = [0u16; 2];
            let utf16: String = c
                .encode_utf16(&mut units)
                .iter()
                .map(|u| format!("{u:04X}"))
                .collect();
            cmap.push_str(&format!("<{gid:04X}> <{utf16}>\n"));
        }
        cmap.push_str("endbfchar\n");
    }
    cmap.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    cmap
}

fn be16(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(data.get(at..at + 2)?.try_into().ok()?))
}

fn be32(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

/// The font with only `glyphs` (and the glyphs their composites use) keeping outlines, and
/// only the tables a PDF reader needs. `None` if the font is not plain TrueType.
pub fn subset(data: &[u8], glyphs: &BTreeSet<u16>) -> Option<Vec<u8>> {
    let tables: HashMap<[u8; 4], &[u8]> = {
        let count = be16(data, 4)? as usize;
        let mut tables = HashMap::new();
        for i in 0..count {
            let entry = 12 + 16 * i;
            let tag: [u8; 4] = data.get(entry..entry + 4)?.try_into().ok()?;
            let offset = be32(data, entry + 8)? as usize;
            let length = be32(data, entry + 12)? as usize;
            tables.insert(tag, data.get(offset..offset.checked_add(length)?)?);
        }
        tables
    };
    let head = *tables.get(b"head")?;
    let long_loca = be16(head, 50)? == 1;
    let num_glyphs = be16(tables.get(b"maxp")?, 4)? as usize;
    let (loca, glyf) = (*tables.get(b"loca")?, *tables.get(b"glyf")?);
    let glyph_range = |gid: usize| -> Option<(usize, usize)> {
        if long_loca {
            Some((
                be32(loca, gid * 4)? as usize,
                be32(loca, gid * 4 + 4)? as usize,
            ))
        } else {
            Some((
                be16(loca, gid * 2)? as usize * 2,
                be16(loca, gid * 2 + 2)? as usize * 2,
            ))
        }
    };
    // Glyph 0 (.notdef) always stays; composites pull in their components.
    let mut keep: BTreeSet<usize> = std::iter::once(0)
        .chain(glyphs.iter().map(|&g| g as usize))
        .collect();
    let mut queue: Vec<usize> = keep.iter().copied().collect();
    while let Some(gid) = queue.pop() {
        if gid >= num_glyphs {
            continue;
        }
        let (start, end) = glyph_range(gid)?;
        let outline = glyf.get(start..end)?;
        if outline.len() >= 10 && (be16(outline, 0)? as i16) < 0 {
            let mut at = 10;
            loop {
                let flags = be16(outline, at)?;
                let component = be16(outline, at + 2)? as usize;
                if keep.insert(component) {
                    queue.push(component);
                }
                at += 4 + if flags & 1 != 0 { 4 } else { 2 };
                at += if flags & 0x8 != 0 {
                    2
                } else if flags & 0x40 != 0 {
                    4
                } else if flags & 0x80 != 0 {
                    8
                } else {
                    0
                };
                if flags & 0x20 == 0 {
                    break;
                }
            }
        }
    }
    let mut new_glyf = Vec::new();
    let mut new_loca = Vec::with_capacity((num_glyphs + 1) * 4);
    for gid in 0..num_glyphs {
        new_loca.extend_from_slice(&(new_glyf.len() as u32).to_be_bytes());
        if keep.contains(&gid) {
            let (start, end) = glyph_range(gid)?;
            new_glyf.extend_from_slice(glyf.get(start..end)?);
            while new_glyf.len() % 4 != 0 {
                new_glyf.push(0);
            }
        }
    }
    new_loca.extend_from_slice(&(new_glyf.len() as u32).to_be_bytes());
    let mut new_head = head.to_vec();
    new_head.get_mut(8..12)?.copy_from_slice(&[0; 4]); // checkSumAdjustment: not checked by readers
    new_head
        .get_mut(50..52)?
        .copy_from_slice(&1u16.to_be_bytes()); // long loca
    let mut out_tables: Vec<([u8; 4], Vec<u8>)> = Vec::new();
    for tag in [
        b"cvt ", b"fpgm", b"glyf", b"head", b"hhea", b"hmtx", b"loca", b"maxp", b"prep",
    ] {
        let bytes = match tag {
            b"glyf" => std::mem::take(&mut new_glyf),
            b"loca" => std::mem::take(&mut new_loca),
            b"head" => std::mem::take(&mut new_head),
            _ => match tables.get(tag) {
                Some(t) => t.to_vec(),
                None => continue,
            },
        };
        out_tables.push((*tag, bytes));
    }
    let n = out_tables.len() as u16;
    let search = 1u16 << (15 - n.leading_zeros() as u16);
    let mut out = Vec::new();
    out.extend_from_slice(&0x0001_0000u32.to_be_bytes());
    out.extend_from_slice(&n.to_be_bytes());
    out.extend_from_slice(&(search * 16).to_be_bytes());
    out.extend_from_slice(&(search.trailing_zeros() as u16).to_be_bytes());
    out.extend_from_slice(&(n * 16 - search * 16).to_be_bytes());
    let mut offset = 12 + 16 * out_tables.len();
    let mut body = Vec::new();
    for (tag, bytes) in &out_tables {
        let checksum = bytes
            .chunks(4)
            .map(|c| {
                let mut w = [0u8; 4];
                w[..c.len()].copy_from_slice(c);
                u32::from_be_bytes(w)
            })
            .fold(0u32, u32::wrapping_add);
        out.extend_from_slice(tag);
        out.extend_from_slice(&checksum.to_be_bytes());
        out.extend_from_slice(&(offset as u32).to_be_bytes());
        out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        body.extend_from_slice(bytes);
        while body.len() % 4 != 0 {
            body.push(0);
        }
        offset = 12 + 16 * out_tables.len() + body.len();
    }
    out.extend_from_slice(&body);
    Some(out)
}
