//! Annexed files made lighter for a platform that takes the dossier de validation as one
//! file of at most 10 MB (France VAE): photos and scans brought down to a resolution that
//! still reads on screen and on paper, stored as JPEG; a PDF's images the same way, its
//! other streams compressed and what no page uses dropped. Pure: bytes in, bytes out. A
//! file that does not get smaller is kept as it was.

use lopdf::{Dictionary, Object, Stream};

/// The longest side an image keeps, in pixels: an A4 page at 150 dpi (1754 × 1240), which
/// reads on screen and prints legibly.
pub const MAX_SIDE: u32 = 1754;

/// JPEG quality of what is encoded again: text in scans stays sharp, the file small.
pub const QUALITY: u8 = 72;

/// Largest image decoded (pixels): a 40-megapixel photo, as the export draws at most.
const MAX_PIXELS: u64 = 40_000_000;

/// Pixels decoded in one file at most, its images together: a PDF of a hundred scanned pages
/// at 300 dpi. Past it, its other images stay as they are (a hostile file of thousands of
/// tiny streams declaring large images would otherwise take hours).
const MAX_PIXELS_PER_FILE: u64 = 900_000_000;

/// What a file is, by its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Pdf,
    Jpeg,
    Png,
    /// Not a format the dossier's platform takes.
    Other,
}

impl Kind {
    pub fn of(bytes: &[u8]) -> Kind {
        if bytes.starts_with(b"%PDF-") {
            Kind::Pdf
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Kind::Jpeg
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Kind::Png
        } else {
            Kind::Other
        }
    }

    /// The file name extension of this kind.
    pub fn extension(self) -> Option<&'static str> {
        match self {
            Kind::Pdf => Some("pdf"),
            Kind::Jpeg => Some("jpg"),
            Kind::Png => Some("png"),
            Kind::Other => None,
        }
    }
}

/// A file made lighter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reduced {
    pub bytes: Vec<u8>,
    /// What it is now (a photo stored as PNG may come out as JPEG).
    pub kind: Kind,
    /// Whether anything changed (otherwise `bytes` are the original's).
    pub changed: bool,
}

/// `bytes` made lighter (see the module), or as they were when nothing made them smaller.
pub fn reduce(bytes: &[u8]) -> Reduced {
    let kind = Kind::of(bytes);
    let lighter = match kind {
        Kind::Pdf => reduce_pdf(bytes).map(|b| (b, Kind::Pdf)),
        Kind::Jpeg | Kind::Png => decode(bytes)
            .map(|image| encode_jpeg(&fit(image)))
            .map(|b| (b, Kind::Jpeg)),
        Kind::Other => None,
    };
    match lighter {
        Some((smaller, kind)) if smaller.len() < bytes.len() => Reduced {
            bytes: smaller,
            kind,
            changed: true,
        },
        _ => Reduced {
            bytes: bytes.to_vec(),
            kind,
            changed: false,
        },
    }
}

/// Pixels, 8 bits per sample, one (grey) or three (RGB) samples per pixel, rows in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pixels {
    pub width: u32,
    pub height: u32,
    pub channels: u8,
    pub data: Vec<u8>,
}

/// A JPEG or PNG decoded to grey or RGB pixels, turned the way its EXIF orientation says
/// (the JPEG written again carries no EXIF); transparency laid on white. `None` when it
/// cannot be read or is larger than [`MAX_PIXELS`].
pub fn decode(bytes: &[u8]) -> Option<Pixels> {
    match Kind::of(bytes) {
        Kind::Jpeg => {
            let pixels = decode_jpeg(bytes)?;
            let orientation = super::annex::jpeg_orientation(bytes);
            Some(orient(pixels, orientation))
        }
        Kind::Png => decode_png(bytes),
        _ => None,
    }
}

fn decode_jpeg(bytes: &[u8]) -> Option<Pixels> {
    let mut decoder = jpeg_decoder::Decoder::new(bytes);
    decoder.set_max_decoding_buffer_size(MAX_PIXELS as usize * 4);
    decoder.read_info().ok()?;
    let info = decoder.info()?;
    let pixels = u64::from(info.width) * u64::from(info.height);
    if pixels == 0 || pixels > MAX_PIXELS {
        return None;
    }
    let data = decoder.decode().ok()?;
    let (width, height) = (u32::from(info.width), u32::from(info.height));
    let (channels, data) = match info.pixel_format {
        jpeg_decoder::PixelFormat::L8 => (1, data),
        jpeg_decoder::PixelFormat::RGB24 => (3, data),
        jpeg_decoder::PixelFormat::CMYK32 => (3, cmyk_to_rgb(&data)),
        jpeg_decoder::PixelFormat::L16 => (1, data.chunks_exact(2).map(|p| p[0]).collect()),
    };
    Some(Pixels {
        width,
        height,
        channels,
        data,
    })
}

/// Adobe's CMYK JPEGs store inverted samples, which jpeg-decoder hands over as they are.
fn cmyk_to_rgb(data: &[u8]) -> Vec<u8> {
    data.chunks_exact(4)
        .flat_map(|p| {
            let k = u16::from(p[3]);
            [p[0], p[1], p[2]].map(|c| (u16::from(c) * k / 255) as u8)
        })
        .collect()
}

fn decode_png(bytes: &[u8]) -> Option<Pixels> {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    // Palette expanded, 16 bits cut to 8, grey below 8 bits widened.
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let header = decoder.read_header_info().ok()?;
    let pixels = u64::from(header.width) * u64::from(header.height);
    if pixels == 0 || pixels > MAX_PIXELS {
        return None;
    }
    let mut reader = decoder.read_info().ok()?;
    let mut data = vec![0; reader.output_buffer_size()];
    let frame = reader.next_frame(&mut data).ok()?;
    data.truncate(frame.buffer_size());
    let on_white = |value: u8, alpha: u8| {
        ((u16::from(value) * u16::from(alpha) + 255 * (255 - u16::from(alpha))) / 255) as u8
    };
    let (channels, data) = match frame.color_type {
        png::ColorType::Grayscale => (1, data),
        png::ColorType::Rgb => (3, data),
        png::ColorType::GrayscaleAlpha => (
            1,
            data.chunks_exact(2).map(|p| on_white(p[0], p[1])).collect(),
        ),
        png::ColorType::Rgba => (
            3,
            data.chunks_exact(4)
                .flat_map(|p| {
                    [
                        on_white(p[0], p[3]),
                        on_white(p[1], p[3]),
                        on_white(p[2], p[3]),
                    ]
                })
                .collect(),
        ),
        png::ColorType::Indexed => return None,
    };
    Some(Pixels {
        width: frame.width,
        height: frame.height,
        channels,
        data,
    })
}

/// The pixels as an EXIF orientation (1–8) says to show them.
fn orient(p: Pixels, orientation: u8) -> Pixels {
    if orientation <= 1 || orientation > 8 {
        return p;
    }
    let (w, h, c) = (p.width as usize, p.height as usize, usize::from(p.channels));
    // Orientations 5–8 swap the sides.
    let swapped = orientation >= 5;
    let (nw, nh) = if swapped { (h, w) } else { (w, h) };
    let mut out = vec![0; p.data.len()];
    for y in 0..nh {
        for x in 0..nw {
            // Where the shown pixel (x, y) is stored.
            let (sx, sy) = match orientation {
                2 => (w - 1 - x, y),
                3 => (w - 1 - x, h - 1 - y),
                4 => (x, h - 1 - y),
                5 => (y, x),
                6 => (y, h - 1 - x),
                7 => (w - 1 - y, h - 1 - x),
                _ => (w - 1 - y, x),
            };
            let from = (sy * w + sx) * c;
            let to = (y * nw + x) * c;
            out[to..to + c].copy_from_slice(&p.data[from..from + c]);
        }
    }
    Pixels {
        width: nw as u32,
        height: nh as u32,
        channels: p.channels,
        data: out,
    }
}

/// The image brought within [`MAX_SIDE`] (each new pixel the mean of those it covers), or
/// as it is when it fits.
pub fn fit(p: Pixels) -> Pixels {
    let long = p.width.max(p.height);
    if long <= MAX_SIDE || p.width == 0 || p.height == 0 {
        return p;
    }
    let scale = f64::from(MAX_SIDE) / f64::from(long);
    let nw = ((f64::from(p.width) * scale).round() as u32).max(1);
    let nh = ((f64::from(p.height) * scale).round() as u32).max(1);
    let c = usize::from(p.channels);
    let (w, h) = (p.width as usize, p.height as usize);
    let mut out = Vec::with_capacity(nw as usize * nh as usize * c);
    // The source rows and columns each new pixel covers (at least one).
    let span = |i: u32, n: u32, len: usize| {
        let start = (i as usize * len) / n as usize;
        let end = (((i as usize + 1) * len) / n as usize)
            .max(start + 1)
            .min(len);
        start..end
    };
    let mut sums = vec![0u32; nw as usize * c];
    for ny in 0..nh {
        sums.iter_mut().for_each(|s| *s = 0);
        let rows = span(ny, nh, h);
        let row_count = rows.len() as u32;
        for y in rows {
            let row = &p.data[y * w * c..(y + 1) * w * c];
            for nx in 0..nw {
                let cols = span(nx, nw, w);
                for x in cols {
                    for k in 0..c {
                        sums[nx as usize * c + k] += u32::from(row[x * c + k]);
                    }
                }
            }
        }
        for nx in 0..nw {
            let cols = span(nx, nw, w).len() as u32;
            for k in 0..c {
                out.push((sums[nx as usize * c + k] / (cols * row_count)) as u8);
            }
        }
    }
    Pixels {
        width: nw,
        height: nh,
        channels: p.channels,
        data: out,
    }
}

/// The pixels as a JPEG at [`QUALITY`].
pub fn encode_jpeg(p: &Pixels) -> Vec<u8> {
    let mut out = Vec::new();
    let encoder = jpeg_encoder::Encoder::new(&mut out, QUALITY);
    let colour = if p.channels == 1 {
        jpeg_encoder::ColorType::Luma
    } else {
        jpeg_encoder::ColorType::Rgb
    };
    // Sides fit in u16: at most MAX_SIDE once fitted; a larger one is not encoded.
    let (Ok(w), Ok(h)) = (u16::try_from(p.width), u16::try_from(p.height)) else {
        return Vec::new();
    };
    if encoder.encode(&p.data, w, h, colour).is_err() {
        return Vec::new();
    }
    out
}

/// A PDF with its images fitted and stored as JPEG, its streams compressed and what no page
/// reaches dropped; `None` when it cannot be read (or is encrypted).
fn reduce_pdf(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut doc = lopdf::Document::load_mem(bytes).ok()?;
    if doc.is_encrypted() {
        return None;
    }
    // What no page reaches is dropped first: never decoded.
    doc.prune_objects();
    let mut budget = MAX_PIXELS_PER_FILE;
    let ids: Vec<lopdf::ObjectId> = doc.objects.keys().copied().collect();
    for id in ids {
        let Some(Object::Stream(stream)) = doc.objects.get_mut(&id) else {
            continue;
        };
        if let Some(smaller) = reduce_image(stream, &mut budget) {
            *stream = smaller;
        }
    }
    doc.compress();
    let mut out = Vec::new();
    doc.save_to(&mut out).ok()?;
    Some(out)
}

/// An image XObject made lighter, if it is one this can read (a JPEG, or 8-bit grey or RGB
/// compressed with Flate), its pixels within what is left of the file's `budget`, and the
/// result is smaller.
fn reduce_image(stream: &Stream, budget: &mut u64) -> Option<Stream> {
    let dict = &stream.dict;
    if dict.get(b"Subtype").and_then(Object::as_name).ok()? != b"Image" {
        return None;
    }
    // A mask, a stencil or a Decode array changes what samples mean: left alone.
    if dict.has(b"ImageMask") || dict.has(b"Decode") || dict.has(b"Mask") {
        return None;
    }
    let filters: Vec<Vec<u8>> = match dict.get(b"Filter").ok()? {
        Object::Name(name) => vec![name.clone()],
        Object::Array(items) => items
            .iter()
            .filter_map(|o| o.as_name().ok().map(<[u8]>::to_vec))
            .collect(),
        _ => return None,
    };
    let channels = match dict.get(b"ColorSpace").ok()? {
        Object::Name(name) if name == b"DeviceGray" => 1,
        Object::Name(name) if name == b"DeviceRGB" => 3,
        _ => return None,
    };
    let declared = u64::try_from(dict.get(b"Width").and_then(Object::as_i64).ok()?).ok()?
        * u64::try_from(dict.get(b"Height").and_then(Object::as_i64).ok()?).ok()?;
    if declared == 0 || declared > *budget {
        return None;
    }
    *budget -= declared;
    let pixels = match filters.as_slice() {
        [jpeg] if jpeg == b"DCTDecode" => {
            let p = decode_jpeg(&stream.content)?;
            (p.channels == channels).then_some(p)?
        }
        [flate] if flate == b"FlateDecode" => {
            if dict
                .get(b"BitsPerComponent")
                .and_then(Object::as_i64)
                .ok()?
                != 8
            {
                return None;
            }
            let width = u32::try_from(dict.get(b"Width").and_then(Object::as_i64).ok()?).ok()?;
            let height = u32::try_from(dict.get(b"Height").and_then(Object::as_i64).ok()?).ok()?;
            if width == 0 || height == 0 || u64::from(width) * u64::from(height) > MAX_PIXELS {
                return None;
            }
            let raw = inflate(&stream.content, width, height, channels)?;
            let data = unpredict(&raw, dict, width, height, channels)?;
            Pixels {
                width,
                height,
                channels,
                data,
            }
        }
        _ => return None,
    };
    let fitted = fit(pixels);
    let jpeg = encode_jpeg(&fitted);
    if jpeg.is_empty() || jpeg.len() >= stream.content.len() {
        return None;
    }
    let mut dict: Dictionary = dict.clone();
    dict.set("Width", i64::from(fitted.width));
    dict.set("Height", i64::from(fitted.height));
    dict.set("BitsPerComponent", 8);
    dict.set("Filter", "DCTDecode");
    dict.remove(b"DecodeParms");
    dict.remove(b"Length");
    Some(Stream::new(dict, jpeg).with_compression(false))
}

/// Inflates an image's samples, never past what its size declares (a small stream may
/// inflate to gigabytes).
fn inflate(content: &[u8], width: u32, height: u32, channels: u8) -> Option<Vec<u8>> {
    use std::io::Read;
    // Each row may carry a predictor byte.
    let most = (u64::from(width) * u64::from(channels) + 1) * u64::from(height);
    let mut out = Vec::new();
    flate2::read::ZlibDecoder::new(content)
        .take(most)
        .read_to_end(&mut out)
        .ok()?;
    Some(out)
}

/// Samples without their PNG predictors (DecodeParms /Predictor 10–15), or as they are
/// without a predictor; `None` for a TIFF predictor or rows cut short.
fn unpredict(
    raw: &[u8],
    dict: &Dictionary,
    width: u32,
    height: u32,
    channels: u8,
) -> Option<Vec<u8>> {
    let row = width as usize * usize::from(channels);
    let predictor = dict
        .get(b"DecodeParms")
        .and_then(Object::as_dict)
        .and_then(|p| p.get(b"Predictor"))
        .and_then(Object::as_i64)
        .unwrap_or(1);
    let rows = height as usize;
    match predictor {
        1 => (raw.len() >= row * rows).then(|| raw[..row * rows].to_vec()),
        10..=15 => {
            if raw.len() < (row + 1) * rows {
                return None;
            }
            let bpp = usize::from(channels);
            let mut out = vec![0u8; row * rows];
            for y in 0..rows {
                let kind = raw[y * (row + 1)];
                let line = &raw[y * (row + 1) + 1..(y + 1) * (row + 1)];
                for x in 0..row {
                    let left = if x >= bpp { out[y * row + x - bpp] } else { 0 };
                    let up = if y > 0 { out[(y - 1) * row + x] } else { 0 };
                    let up_left = if y > 0 && x >= bpp {
                        out[(y - 1) * row + x - bpp]
                    } else {
                        0
                    };
                    let predicted = match kind {
                        0 => 0,
                        1 => left,
                        2 => up,
                        3 => ((u16::from(left) + u16::from(up)) / 2) as u8,
                        4 => paeth(left, up, up_left),
                        _ => return None,
                    };
                    out[y * row + x] = line[x].wrapping_add(predicted);
                }
            }
            Some(out)
        }
        _ => None,
    }
}

fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let (ia, ib, ic) = (i16::from(a), i16::from(b), i16::from(c));
    let p = ia + ib - ic;
    let (pa, pb, pc) = ((p - ia).abs(), (p - ib).abs(), (p - ic).abs());
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A page-sized grey "scan": dark text-like bars on light paper, with grain.
    pub(crate) fn scan(width: u32, height: u32) -> Pixels {
        let mut x = 0x2545_f491_u32;
        let data = (0..width * height)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                let (col, line) = (i % width, i / width);
                let ink = line % 40 < 12 && (col / 9) % 7 != 0;
                let base: u8 = if ink { 40 } else { 235 };
                base.saturating_add((x % 12) as u8)
            })
            .collect();
        Pixels {
            width,
            height,
            channels: 1,
            data,
        }
    }

    #[test]
    fn a_large_photo_is_fitted_and_stored_as_jpeg() {
        let big = scan(3508, 2480);
        let mut encoder_out = Vec::new();
        jpeg_encoder::Encoder::new(&mut encoder_out, 97)
            .encode(&big.data, 3508, 2480, jpeg_encoder::ColorType::Luma)
            .unwrap();
        let reduced = reduce(&encoder_out);
        assert!(reduced.changed);
        assert_eq!(reduced.kind, Kind::Jpeg);
        assert!(
            reduced.bytes.len() * 3 < encoder_out.len(),
            "{} → {}",
            encoder_out.len(),
            reduced.bytes.len()
        );
        let back = decode(&reduced.bytes).unwrap();
        assert_eq!((back.width, back.height), (1754, 1240));
        // What it shows is what it showed: bars where the bars were.
        let at = |p: &Pixels, x: u32, y: u32| p.data[(y * p.width + x) as usize];
        assert!(at(&back, 20, 2) < 120 && at(&back, 20, 15) > 180);
    }

    #[test]
    fn a_small_image_stays_as_it_was() {
        let small = scan(300, 200);
        let mut png_bytes = Vec::new();
        {
            let mut encoder = png::Encoder::new(&mut png_bytes, 300, 200);
            encoder.set_color(png::ColorType::Grayscale);
            encoder.set_depth(png::BitDepth::Eight);
            let mut writer = encoder.write_header().unwrap();
            writer.write_image_data(&small.data).unwrap();
        }
        let reduced = reduce(&png_bytes);
        // Smaller as JPEG or kept: never larger, and still an image the platform takes.
        assert!(reduced.bytes.len() <= png_bytes.len());
        assert!(matches!(reduced.kind, Kind::Png | Kind::Jpeg));
    }

    #[test]
    fn exif_orientation_turns_the_pixels() {
        // 3 × 2, values 1..6 in rows: orientation 6 (held turned right) shows it 2 × 3.
        let p = Pixels {
            width: 3,
            height: 2,
            channels: 1,
            data: vec![1, 2, 3, 4, 5, 6],
        };
        let shown = orient(p.clone(), 6);
        assert_eq!((shown.width, shown.height), (2, 3));
        assert_eq!(shown.data, vec![4, 1, 5, 2, 6, 3]);
        assert_eq!(orient(p.clone(), 3).data, vec![6, 5, 4, 3, 2, 1]);
        assert_eq!(orient(p.clone(), 1), p);
    }

    #[test]
    fn png_predictors_are_undone() {
        // Two rows of two RGB pixels: row 0 with Sub, row 1 with Up.
        let raw = [1, 10, 20, 30, 5, 5, 5, 2, 1, 1, 1, 2, 2, 2];
        let mut dict = Dictionary::new();
        let mut parms = Dictionary::new();
        parms.set("Predictor", 15);
        dict.set("DecodeParms", parms);
        let out = unpredict(&raw, &dict, 2, 2, 3).unwrap();
        assert_eq!(out, vec![10, 20, 30, 15, 25, 35, 11, 21, 31, 17, 27, 37]);
    }

    #[test]
    fn what_is_not_an_image_or_a_pdf_stays_as_it_was() {
        let text = b"Attestation d'emploi".to_vec();
        assert_eq!(
            reduce(&text),
            Reduced {
                bytes: text.clone(),
                kind: Kind::Other,
                changed: false
            }
        );
        // Broken files too.
        for broken in [
            &b"%PDF-1.7 garbage"[..],
            &[0xFF, 0xD8, 0xFF, 0xE0, 0, 1][..],
        ] {
            assert!(!reduce(broken).changed);
        }
    }

    /// A one-page PDF showing `image` (its dictionary's filter and bytes given).
    fn pdf_with_image(image: Stream) -> Vec<u8> {
        use lopdf::dictionary;
        let mut doc = lopdf::Document::with_version("1.7");
        let pages = doc.new_object_id();
        let picture = doc.add_object(image);
        let content = doc.add_object(Stream::new(
            Dictionary::new(),
            b"q 595 0 0 842 0 0 cm /Im0 Do Q".to_vec(),
        ));
        let page = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages, "Contents" => content,
            "Resources" => dictionary! { "XObject" => dictionary! { "Im0" => picture } },
        });
        doc.objects.insert(
            pages,
            Object::Dictionary(dictionary! {
                "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1,
                "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
            }),
        );
        let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages });
        doc.trailer.set("Root", catalog);
        let mut out = Vec::new();
        doc.save_to(&mut out).unwrap();
        out
    }

    fn image_dict(filter: &str, width: u32, height: u32) -> Dictionary {
        use lopdf::dictionary;
        dictionary! {
            "Type" => "XObject", "Subtype" => "Image", "Width" => i64::from(width),
            "Height" => i64::from(height), "ColorSpace" => "DeviceGray",
            "BitsPerComponent" => 8, "Filter" => filter,
        }
    }

    /// The one image of a PDF: its size and filter.
    fn only_image(pdf: &[u8]) -> (i64, i64, Vec<u8>) {
        let doc = lopdf::Document::load_mem(pdf).unwrap();
        assert_eq!(doc.get_pages().len(), 1);
        let images: Vec<&Stream> = doc
            .objects
            .values()
            .filter_map(|o| o.as_stream().ok())
            .filter(|s| {
                s.dict.get(b"Subtype").and_then(Object::as_name).ok() == Some(&b"Image"[..])
            })
            .collect();
        assert_eq!(images.len(), 1);
        let d = &images[0].dict;
        (
            d.get(b"Width").unwrap().as_i64().unwrap(),
            d.get(b"Height").unwrap().as_i64().unwrap(),
            d.get(b"Filter").unwrap().as_name().unwrap().to_vec(),
        )
    }

    #[test]
    fn a_scanned_pdf_keeps_its_page_with_a_lighter_image() {
        let page = scan(2480, 3508);
        let mut jpeg = Vec::new();
        jpeg_encoder::Encoder::new(&mut jpeg, 97)
            .encode(&page.data, 2480, 3508, jpeg_encoder::ColorType::Luma)
            .unwrap();
        let original = pdf_with_image(Stream::new(image_dict("DCTDecode", 2480, 3508), jpeg));
        let reduced = reduce(&original);
        assert!(reduced.changed && reduced.kind == Kind::Pdf);
        assert!(
            reduced.bytes.len() * 3 < original.len(),
            "{} → {}",
            original.len(),
            reduced.bytes.len()
        );
        assert_eq!(
            only_image(&reduced.bytes),
            (1240, 1754, b"DCTDecode".to_vec())
        );
        // A scan stored with Flate and PNG predictors (as some scanners write it) too.
        let mut rows = Vec::new();
        for line in page.data.chunks(2480) {
            rows.push(0u8);
            rows.extend_from_slice(line);
        }
        let mut flate = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut flate, &rows).unwrap();
        let mut dict = image_dict("FlateDecode", 2480, 3508);
        let mut parms = Dictionary::new();
        parms.set("Predictor", 15);
        parms.set("Colors", 1);
        parms.set("Columns", 2480);
        dict.set("DecodeParms", parms);
        let original = pdf_with_image(Stream::new(dict, flate.finish().unwrap()));
        let reduced = reduce(&original);
        assert!(reduced.changed, "{}", original.len());
        assert_eq!(
            only_image(&reduced.bytes),
            (1240, 1754, b"DCTDecode".to_vec())
        );
    }

    #[test]
    fn an_image_of_no_pixels_is_left_alone() {
        // Width 0 with an empty stream: nothing to divide by, nothing decoded.
        let mut flate = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut flate, &[]).unwrap();
        let original = pdf_with_image(Stream::new(
            image_dict("FlateDecode", 0, 100_000),
            flate.finish().unwrap(),
        ));
        let reduced = reduce(&original);
        assert!(!reduced.changed || Kind::of(&reduced.bytes) == Kind::Pdf);
        assert!(
            fit(Pixels {
                width: 0,
                height: 5000,
                channels: 1,
                data: Vec::new()
            })
            .data
            .is_empty()
        );
    }
}
