//! Annexed files made part of the livret: PDF pages copied in whole, JPEG and PNG images
//! turned into image objects. Anything else is listed, not printed.

use std::collections::{BTreeSet, HashMap};
use std::io::{Read, Write};

use lopdf::{Dictionary, Object, ObjectId, Stream, dictionary};

use super::reduce::Kind;

/// Largest image drawn (pixels): a 40-megapixel photo.
const MAX_PIXELS: u64 = 40_000_000;

/// An image ready to be written as an XObject.
pub struct Image {
    pub pixels: (u32, u32),
    pub object: Object,
    /// Transparency, written as the image's soft mask.
    pub mask: Option<Object>,
    /// How the stored pixels are turned to be seen (EXIF orientation, 1–8: a phone keeps
    /// its sensor's rows and says how it was held); 1 for any other image.
    pub orientation: u8,
}

/// The EXIF orientation an APP1 segment's body gives (`Exif\0\0`, then a TIFF header and
/// its first directory), if any and valid. Read within the segment's bounds only.
fn exif_orientation(segment: &[u8]) -> Option<u8> {
    let tiff = segment.strip_prefix(b"Exif\0\0")?;
    let big = match tiff.get(..4)? {
        b"MM\0*" => true,
        b"II*\0" => false,
        _ => return None,
    };
    let u16_at = |at: usize| -> Option<u16> {
        let b: [u8; 2] = tiff.get(at..at + 2)?.try_into().ok()?;
        Some(if big {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    };
    let u32_at = |at: usize| -> Option<u32> {
        let b: [u8; 4] = tiff.get(at..at + 4)?.try_into().ok()?;
        Some(if big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    };
    let directory = u32_at(4)? as usize;
    let entries = u16_at(directory)? as usize;
    (0..entries.min(256)).find_map(|i| {
        let entry = directory.checked_add(2 + 12 * i)?;
        // Tag 0x0112, type SHORT: the value sits in the entry itself.
        (u16_at(entry)? == 0x0112 && u16_at(entry + 2)? == 3)
            .then(|| u16_at(entry + 8))
            .flatten()
            .and_then(|v| u8::try_from(v).ok())
            .filter(|v| (1..=8).contains(v))
    })
}

/// The EXIF orientation of a JPEG (1 when it says none): its APP1 segments, read within
/// their bounds, up to the first frame.
pub fn jpeg_orientation(bytes: &[u8]) -> u8 {
    let mut at = 2;
    while at + 4 <= bytes.len() && bytes[at] == 0xFF {
        let marker = bytes[at + 1];
        let length = u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]) as usize;
        if marker == 0xE1
            && let Some(found) = bytes
                .get(at + 4..at + 2 + length)
                .and_then(exif_orientation)
        {
            return found;
        }
        if matches!(marker, 0xC0..=0xCF | 0xDA) || length < 2 {
            break;
        }
        at += 2 + length;
    }
    1
}

/// What an annexed file is, to the export.
pub enum Printable {
    Pdf,
    Image(Box<Image>),
    /// Listed only, with the reason (in French, in English).
    Listed((&'static str, &'static str)),
}

/// Sorts a file by its content (not its declared type: a renamed file is still read right).
pub fn classify(bytes: &[u8]) -> Printable {
    match Kind::of(bytes) {
        Kind::Pdf => Printable::Pdf,
        Kind::Jpeg => jpeg(bytes).map_or(
            Printable::Listed(("image JPEG illisible", "unreadable JPEG image")),
            |i| Printable::Image(Box::new(i)),
        ),
        Kind::Png => png(bytes).map_or(
            Printable::Listed((
                "image PNG de ce type non prise en charge",
                "PNG image of a kind not supported",
            )),
            |i| Printable::Image(Box::new(i)),
        ),
        Kind::Other => {
            Printable::Listed(("format non imprimable", "format that cannot be printed"))
        }
    }
}

/// A JPEG embedded as it is (readers decode it): only its size and colours are read.
fn jpeg(bytes: &[u8]) -> Option<Image> {
    let mut at = 2;
    let mut orientation = 1;
    while at + 4 <= bytes.len() {
        if bytes[at] != 0xFF {
            return None;
        }
        let marker = bytes[at + 1];
        let length = u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]) as usize;
        if marker == 0xE1
            && let Some(found) = bytes
                .get(at + 4..at + 2 + length)
                .and_then(exif_orientation)
        {
            orientation = found;
        }
        // Start of frame (baseline, extended, progressive…), not DHT/JPG/DAC.
        if matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            let frame = bytes.get(at + 4..at + 2 + length)?;
            let height = u16::from_be_bytes([*frame.get(1)?, *frame.get(2)?]);
            let width = u16::from_be_bytes([*frame.get(3)?, *frame.get(4)?]);
            let colour = match frame.get(5)? {
                1 => "DeviceGray",
                3 => "DeviceRGB",
                4 => "DeviceCMYK",
                _ => return None,
            };
            let mut dict = dictionary! {
                "Type" => "XObject", "Subtype" => "Image",
                "Width" => i64::from(width), "Height" => i64::from(height),
                "ColorSpace" => colour, "BitsPerComponent" => 8, "Filter" => "DCTDecode",
            };
            if colour == "DeviceCMYK" {
                // Adobe's CMYK JPEGs are stored inverted.
                dict.set(
                    "Decode",
                    vec![
                        1.into(),
                        0.into(),
                        1.into(),
                        0.into(),
                        1.into(),
                        0.into(),
                        1.into(),
                        0.into(),
                    ],
                );
            }
            if width == 0 || height == 0 || u64::from(width) * u64::from(height) > MAX_PIXELS {
                return None;
            }
            return Some(Image {
                pixels: (u32::from(width), u32::from(height)),
                object: Object::Stream(Stream::new(dict, bytes.to_vec())),
                mask: None,
                orientation,
            });
        }
        at += 2 + length;
    }
    None
}

/// A PNG: grey, RGB and palette images at 8 bits go in as they are (PNG's own compressed
/// rows, which PDF reads with the PNG predictor); images with an alpha channel are decoded
/// and split into colour and soft mask.
fn png(bytes: &[u8]) -> Option<Image> {
    let mut at = 8;
    let mut header = None;
    let mut palette = None;
    let mut data = Vec::new();
    while at + 8 <= bytes.len() {
        let length = u32::from_be_bytes(bytes[at..at + 4].try_into().ok()?) as usize;
        let kind = &bytes[at + 4..at + 8];
        let body = bytes.get(at + 8..at + 8 + length)?;
        match kind {
            b"IHDR" => header = Some(body.to_vec()),
            b"PLTE" => palette = Some(body.to_vec()),
            b"IDAT" => data.extend_from_slice(body),
            b"IEND" => break,
            _ => {}
        }
        at += 12 + length;
    }
    let header = header?;
    let width = u32::from_be_bytes(header.get(0..4)?.try_into().ok()?);
    let height = u32::from_be_bytes(header.get(4..8)?.try_into().ok()?);
    let (depth, colour, interlace) = (*header.get(8)?, *header.get(9)?, *header.get(12)?);
    if width == 0 || height == 0 || interlace != 0 || depth != 8 {
        return None;
    }
    // The header's size is the file's word: a few kilobytes of zeros may declare gigapixels.
    // Beyond a 40-megapixel photo, the image is listed, not decoded nor drawn.
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return None;
    }
    let params = |colors: i64| {
        dictionary! { "Predictor" => 15, "Colors" => colors, "BitsPerComponent" => 8, "Columns" => i64::from(width) }
    };
    let image = |space: Object, colors: i64, content: Vec<u8>, predicted: bool| {
        let mut dict = dictionary! {
            "Type" => "XObject", "Subtype" => "Image",
            "Width" => i64::from(width), "Height" => i64::from(height),
            "ColorSpace" => space, "BitsPerComponent" => 8, "Filter" => "FlateDecode",
        };
        if predicted {
            dict.set("DecodeParms", params(colors));
        }
        Object::Stream(Stream::new(dict, content))
    };
    match colour {
        0 => Some(Image {
            pixels: (width, height),
            orientation: 1,
            object: image("DeviceGray".into(), 1, data, true),
            mask: None,
        }),
        2 => Some(Image {
            pixels: (width, height),
            orientation: 1,
            object: image("DeviceRGB".into(), 3, data, true),
            mask: None,
        }),
        3 => {
            let palette = palette?;
            let space = Object::Array(vec![
                "Indexed".into(),
                "DeviceRGB".into(),
                Object::Integer((palette.len() / 3).saturating_sub(1) as i64),
                Object::String(palette, lopdf::StringFormat::Hexadecimal),
            ]);
            Some(Image {
                pixels: (width, height),
                orientation: 1,
                object: image(space, 1, data, true),
                mask: None,
            })
        }
        4 | 6 => {
            let channels = if colour == 4 { 2 } else { 4 };
            let rows = unfilter(&data, width as usize, height as usize, channels)?;
            let (mut colours, mut alpha) = (Vec::new(), Vec::new());
            for pixel in rows.chunks_exact(channels) {
                colours.extend_from_slice(&pixel[..channels - 1]);
                alpha.push(pixel[channels - 1]);
            }
            let space = if colour == 4 {
                "DeviceGray"
            } else {
                "DeviceRGB"
            };
            Some(Image {
                pixels: (width, height),
                orientation: 1,
                object: image(space.into(), 0, deflate(&colours), false),
                mask: Some(image("DeviceGray".into(), 0, deflate(&alpha), false)),
            })
        }
        _ => None,
    }
}

fn deflate(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(6));
    encoder.write_all(bytes).expect("writing to memory");
    encoder.finish().expect("writing to memory")
}

/// PNG rows decompressed and unfiltered: `height` rows of `width × channels` bytes.
fn unfilter(data: &[u8], width: usize, height: usize, channels: usize) -> Option<Vec<u8>> {
    let stride = width.checked_mul(channels)?;
    let expected = (stride + 1).checked_mul(height)?;
    // A bomb guard: never inflate more than the image can hold.
    let mut raw = Vec::new();
    flate2::read::ZlibDecoder::new(data)
        .take(expected as u64)
        .read_to_end(&mut raw)
        .ok()?;
    if raw.len() != expected {
        return None;
    }
    let mut out = vec![0u8; stride * height];
    for y in 0..height {
        let filter = raw[y * (stride + 1)];
        let line = &raw[y * (stride + 1) + 1..(y + 1) * (stride + 1)];
        for x in 0..stride {
            let a = if x >= channels {
                out[y * stride + x - channels]
            } else {
                0
            };
            let b = if y > 0 { out[(y - 1) * stride + x] } else { 0 };
            let c = if x >= channels && y > 0 {
                out[(y - 1) * stride + x - channels]
            } else {
                0
            };
            let predicted = match filter {
                0 => 0,
                1 => a,
                2 => b,
                3 => ((u16::from(a) + u16::from(b)) / 2) as u8,
                4 => {
                    let p = i16::from(a) + i16::from(b) - i16::from(c);
                    let (pa, pb, pc) = (
                        (p - i16::from(a)).abs(),
                        (p - i16::from(b)).abs(),
                        (p - i16::from(c)).abs(),
                    );
                    if pa <= pb && pa <= pc {
                        a
                    } else if pb <= pc {
                        b
                    } else {
                        c
                    }
                }
                _ => return None,
            };
            out[y * stride + x] = line[x].wrapping_add(predicted);
        }
    }
    Some(out)
}

/// An annexed PDF's pages, with every object they use, ready to be written under new ids.
pub struct ImportedPdf {
    /// The pages' object ids in the annexed file, in order.
    pub pages: Vec<ObjectId>,
    /// Every object the pages need (pages included), by their id in the annexed file.
    pub objects: Vec<(ObjectId, Object)>,
}

/// Attributes a page may inherit from its parents in the page tree.
const INHERITED: [&[u8]; 4] = [b"Resources", b"MediaBox", b"CropBox", b"Rotate"];

/// Reads an annexed PDF; `None` if it cannot be read (damaged, or protected by a password).
pub fn import_pdf(bytes: &[u8]) -> Option<ImportedPdf> {
    let mut doc = lopdf::Document::load_mem(bytes).ok()?;
    if doc.is_encrypted() {
        return None;
    }
    // A page tree may name one page twice: it is copied once.
    let mut seen = BTreeSet::new();
    let pages: Vec<ObjectId> = doc
        .get_pages()
        .into_values()
        .filter(|p| seen.insert(*p))
        .collect();
    if pages.is_empty() {
        return None;
    }
    // Each page gets what it inherited written on itself, since its new parent has none.
    for &page in &pages {
        let mut found: HashMap<&[u8], Object> = HashMap::new();
        let mut node = doc.get_dictionary(page).ok()?.clone();
        for _ in 0..64 {
            for key in INHERITED {
                if !found.contains_key(key)
                    && let Ok(value) = node.get(key)
                {
                    found.insert(key, value.clone());
                }
            }
            match node.get(b"Parent").and_then(Object::as_reference) {
                Ok(parent) => node = doc.get_dictionary(parent).ok()?.clone(),
                Err(_) => break,
            }
        }
        let dict = doc.get_dictionary_mut(page).ok()?;
        for (key, value) in found {
            dict.set(key, value);
        }
        dict.remove(b"Parent");
        if !dict.has(b"MediaBox") {
            dict.set("MediaBox", vec![0.into(), 0.into(), 612.into(), 792.into()]);
        }
    }
    // Only what the pages reach (not the catalogue, outlines, the old page tree…).
    let mut reached: BTreeSet<ObjectId> = pages.iter().copied().collect();
    let mut queue: Vec<ObjectId> = pages.clone();
    while let Some(id) = queue.pop() {
        let Ok(object) = doc.get_object(id) else {
            continue;
        };
        references(object, &mut |r| {
            if doc.objects.contains_key(&r) && reached.insert(r) {
                queue.push(r);
            }
        });
    }
    let objects = reached
        .into_iter()
        .filter_map(|id| doc.objects.remove(&id).map(|o| (id, o)))
        .collect();
    Some(ImportedPdf { pages, objects })
}

fn references(object: &Object, found: &mut dyn FnMut(ObjectId)) {
    match object {
        Object::Reference(r) => found(*r),
        Object::Array(items) => items.iter().for_each(|i| references(i, found)),
        Object::Dictionary(dict) => dict_references(dict, found),
        Object::Stream(stream) => dict_references(&stream.dict, found),
        _ => {}
    }
}

fn dict_references(dict: &Dictionary, found: &mut dyn FnMut(ObjectId)) {
    for (key, value) in dict.iter() {
        // A page's annotations point back to it through /P and to other pages: followed,
        // they would pull in pages that are not being copied. /Parent is rewritten.
        if key.as_slice() != b"Parent" && key.as_slice() != b"P" {
            references(value, found);
        }
    }
}
