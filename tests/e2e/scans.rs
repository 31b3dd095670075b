//! Annexes as candidates have them, made for the France VAE tests and benchmark: pages
//! scanned in grey (real JPEGs, which the export decodes), PDFs of such pages, and a PDF
//! whose weight no reduction removes.

/// xorshift: grain and noise, the same at every run.
pub fn next(x: &mut u32) -> u32 {
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    *x
}

/// An A4 page scanned in grey at `dpi` (200: 1654 × 2339 px; 300: 2480 × 3508), as a JPEG
/// of `quality`: lines of "text" on paper with grain, as a scanner or a phone app writes.
pub fn scanned_page(dpi: u32, quality: u8, seed: u32) -> Scan {
    let width = (8.27 * dpi as f32).round() as u16;
    let height = (11.69 * dpi as f32).round() as u16;
    let mut x = seed | 1;
    let pixels: Vec<u8> = (0..u32::from(width) * u32::from(height))
        .map(|i| {
            let (col, line) = (i % u32::from(width), i / u32::from(width));
            let ink = line % 48 < 14 && !(col / 11 + line / 48 + seed).is_multiple_of(9);
            let base: u8 = if ink { 35 } else { 232 };
            base.saturating_add((next(&mut x) % 18) as u8)
        })
        .collect();
    let mut jpeg = Vec::new();
    jpeg_encoder::Encoder::new(&mut jpeg, quality)
        .encode(&pixels, width, height, jpeg_encoder::ColorType::Luma)
        .unwrap();
    Scan {
        width,
        height,
        jpeg,
    }
}

/// A scanned page: its size in pixels and its JPEG.
#[derive(Clone)]
pub struct Scan {
    pub width: u16,
    pub height: u16,
    pub jpeg: Vec<u8>,
}

/// A PDF whose pages each show one of `pages`, on A4.
pub fn scanned_pdf(pages: &[Scan]) -> Vec<u8> {
    use lopdf::{Dictionary, Object, Stream, dictionary};
    let mut doc = lopdf::Document::with_version("1.7");
    let tree = doc.new_object_id();
    let mut kids = Vec::new();
    for scan in pages {
        let image = doc.add_object(Stream::new(
            dictionary! {
                "Type" => "XObject", "Subtype" => "Image",
                "Width" => i64::from(scan.width), "Height" => i64::from(scan.height),
                "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8, "Filter" => "DCTDecode",
            },
            scan.jpeg.clone(),
        ));
        let content = doc.add_object(Stream::new(
            Dictionary::new(),
            b"q 595 0 0 842 0 0 cm /Scan Do Q".to_vec(),
        ));
        let page = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => tree, "Contents" => content,
            "Resources" => dictionary! { "XObject" => dictionary! { "Scan" => image } },
        });
        kids.push(Object::from(page));
    }
    finish(doc, tree, kids)
}

/// A PDF of one page whose weight no reduction removes (`bytes` of noise in a stream, as an
/// embedded file or font would be).
pub fn heavy_pdf(bytes: usize, seed: u32) -> Vec<u8> {
    use lopdf::{Dictionary, Stream, dictionary};
    let mut x = seed | 1;
    let noise: Vec<u8> = (0..bytes).map(|_| next(&mut x) as u8).collect();
    let mut doc = lopdf::Document::with_version("1.7");
    let tree = doc.new_object_id();
    let content = doc.add_object(Stream::new(Dictionary::new(), b"% lourd".to_vec()));
    let heavy = doc.add_object(Stream::new(Dictionary::new(), noise).with_compression(false));
    let page = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => tree, "Contents" => content, "PieceInfo" => heavy,
    });
    finish(doc, tree, vec![page.into()])
}

/// The page tree `tree` with `kids` on A4, the catalog, the file's bytes.
fn finish(mut doc: lopdf::Document, tree: lopdf::ObjectId, kids: Vec<lopdf::Object>) -> Vec<u8> {
    use lopdf::{Object, dictionary};
    doc.objects.insert(
        tree,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Count" => kids.len() as i64, "Kids" => kids,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => tree });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}
