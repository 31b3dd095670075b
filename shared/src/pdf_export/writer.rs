//! Writes PDF objects one by one to any `Write`, then the cross-reference table.
//!
//! Objects go out as soon as they are made and are forgotten: only their offsets stay, so
//! a livret with 100 MB of annexed PDFs never holds more than one annex in memory. Ids are
//! handed out before an object is written ([`PdfWriter::reserve`]), so the page tree —
//! whose children are known only at the end — can be referenced from the start.

use std::io::{self, Write};

use lopdf::{Dictionary, Object, ObjectId, StringFormat};

/// Counts what goes through, so offsets are known without `Seek`.
struct Counting<W> {
    inner: W,
    written: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

pub struct PdfWriter<W: Write> {
    out: Counting<W>,
    /// Offset of object `i + 1`; 0 while reserved and not yet written.
    offsets: Vec<u64>,
}

impl<W: Write> PdfWriter<W> {
    pub fn new(out: W) -> io::Result<PdfWriter<W>> {
        let mut out = Counting {
            inner: out,
            written: 0,
        };
        // The binary comment tells transfer tools the file is not text.
        out.write_all(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")?;
        Ok(PdfWriter {
            out,
            offsets: Vec::new(),
        })
    }

    /// A new object id, to be written later.
    pub fn reserve(&mut self) -> u32 {
        self.offsets.push(0);
        self.offsets.len() as u32
    }

    /// Writes object `id` (from [`reserve`](Self::reserve)); references in it are written
    /// as they are.
    pub fn write(&mut self, id: u32, object: &Object) -> io::Result<()> {
        self.write_mapped(id, object, &|(r, _)| Some(r))
    }

    /// Writes object `id`, every reference `r` in it written as `map(r)`: how objects of an
    /// annexed PDF take ids of this file. A reference `map` does not know is written `null`
    /// (what a reader makes of a missing object anyway).
    pub fn write_mapped(
        &mut self,
        id: u32,
        object: &Object,
        map: &dyn Fn(ObjectId) -> Option<u32>,
    ) -> io::Result<()> {
        self.offsets[id as usize - 1] = self.out.written;
        let mut buf = Vec::with_capacity(256);
        writeln!(buf, "{id} 0 obj")?;
        serialize(object, map, &mut buf);
        buf.extend_from_slice(b"\nendobj\n");
        self.out.write_all(&buf)
    }

    /// Reserves and writes in one step.
    pub fn add(&mut self, object: &Object) -> io::Result<u32> {
        let id = self.reserve();
        self.write(id, object)?;
        Ok(id)
    }

    /// The cross-reference table and trailer; gives back the output.
    pub fn finish(mut self, root: u32, info: Option<u32>) -> io::Result<W> {
        debug_assert!(
            self.offsets.iter().all(|&o| o != 0),
            "every reserved id written"
        );
        let xref = self.out.written;
        let mut buf = Vec::with_capacity(20 * (self.offsets.len() + 8));
        write!(
            buf,
            "xref\n0 {}\n0000000000 65535 f \n",
            self.offsets.len() + 1
        )?;
        for offset in &self.offsets {
            writeln!(buf, "{offset:010} 00000 n ")?;
        }
        write!(
            buf,
            "trailer\n<< /Size {} /Root {root} 0 R",
            self.offsets.len() + 1
        )?;
        if let Some(info) = info {
            write!(buf, " /Info {info} 0 R")?;
        }
        write!(buf, " >>\nstartxref\n{xref}\n%%EOF\n")?;
        self.out.write_all(&buf)?;
        self.out.flush()?;
        Ok(self.out.inner)
    }
}

fn serialize(object: &Object, map: &dyn Fn(ObjectId) -> Option<u32>, out: &mut Vec<u8>) {
    match object {
        Object::Null => out.extend_from_slice(b"null"),
        Object::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Object::Integer(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Object::Real(r) => out.extend_from_slice(real(*r).as_bytes()),
        Object::Name(name) => name_into(name, out),
        Object::String(bytes, StringFormat::Hexadecimal) => {
            out.push(b'<');
            out.extend_from_slice(hex::encode(bytes).as_bytes());
            out.push(b'>');
        }
        Object::String(bytes, StringFormat::Literal) => {
            out.push(b'(');
            for &b in bytes {
                match b {
                    b'(' | b')' | b'\\' => out.extend_from_slice(&[b'\\', b]),
                    b'\r' => out.extend_from_slice(b"\\r"),
                    _ => out.push(b),
                }
            }
            out.push(b')');
        }
        Object::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                serialize(item, map, out);
            }
            out.push(b']');
        }
        Object::Dictionary(dict) => dictionary_into(dict, map, out),
        Object::Stream(stream) => {
            let mut dict = stream.dict.clone();
            dict.set("Length", stream.content.len() as i64);
            dictionary_into(&dict, map, out);
            out.extend_from_slice(b"\nstream\n");
            out.extend_from_slice(&stream.content);
            out.extend_from_slice(b"\nendstream");
        }
        Object::Reference(r) => match map(*r) {
            Some(id) => out.extend_from_slice(format!("{id} 0 R").as_bytes()),
            None => out.extend_from_slice(b"null"),
        },
    }
}

fn dictionary_into(dict: &Dictionary, map: &dyn Fn(ObjectId) -> Option<u32>, out: &mut Vec<u8>) {
    out.extend_from_slice(b"<<");
    for (key, value) in dict.iter() {
        out.push(b' ');
        name_into(key, out);
        out.push(b' ');
        serialize(value, map, out);
    }
    out.extend_from_slice(b" >>");
}

fn name_into(name: &[u8], out: &mut Vec<u8>) {
    out.push(b'/');
    for &b in name {
        let regular = b.is_ascii_graphic()
            && !matches!(
                b,
                b'#' | b'/' | b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'%'
            );
        if regular {
            out.push(b);
        } else {
            out.extend_from_slice(format!("#{b:02X}").as_bytes());
        }
    }
}

/// A number as PDF writes it: no exponent, as many digits as the value needs (annexed PDFs'
/// matrices may hold tiny factors that four decimals would turn into 0).
pub fn real(r: f32) -> String {
    if !r.is_finite() {
        return "0".into();
    }
    // Rust's `Display` for floats never uses an exponent and round-trips.
    let s = format!("{r}");
    if s == "-0" { "0".into() } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lopdf::dictionary;

    #[test]
    fn a_written_file_is_read_back_by_lopdf() {
        let mut w = PdfWriter::new(Vec::new()).unwrap();
        let pages = w.reserve();
        let content = w
            .add(&Object::Stream(lopdf::Stream::new(
                dictionary! {},
                b"0 0 m 10 10 l S".to_vec(),
            )))
            .unwrap();
        let page = w
            .add(&Object::Dictionary(dictionary! {
                "Type" => "Page", "Parent" => (pages, 0),
                "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
                "Contents" => (content, 0),
                "Name" => Object::Name(b"a b#(c)".to_vec()),
                "Title" => Object::string_literal("(é) \\ fin"),
            }))
            .unwrap();
        w.write(
            pages,
            &Object::Dictionary(dictionary! {
                "Type" => "Pages", "Kids" => vec![(page, 0).into()], "Count" => 1,
            }),
        )
        .unwrap();
        let root = w
            .add(&Object::Dictionary(
                dictionary! { "Type" => "Catalog", "Pages" => (pages, 0) },
            ))
            .unwrap();
        let bytes = w.finish(root, None).unwrap();
        let doc = lopdf::Document::load_mem(&bytes).unwrap();
        assert_eq!(doc.get_pages().len(), 1);
        let page = doc.get_dictionary((page, 0)).unwrap();
        assert_eq!(page.get(b"Name").unwrap().as_name().unwrap(), b"a b#(c)");
        assert_eq!(
            page.get(b"Title").unwrap().as_str().unwrap(),
            "(é) \\ fin".as_bytes()
        );
    }

    #[test]
    fn reals_have_no_exponent() {
        assert_eq!(real(1.0), "1");
        assert_eq!(real(0.5), "0.5");
        assert_eq!(real(-0.0), "0");
        assert_eq!(real(0.00048828125), "0.00048828125");
        assert!(!real(1e-7).contains('e'));
        assert_eq!(real(12.25), "12.25");
        assert_eq!(real(-3.0), "-3");
    }
}
