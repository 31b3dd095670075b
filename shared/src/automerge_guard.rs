//! Bounds what automerge bytes received from others may inflate to, before automerge reads
//! them.
//!
//! automerge (0.12) inflates DEFLATE data without any limit: a compressed change chunk, and
//! the compressed columns of a document or bundle chunk, are read with `read_to_end`. A few
//! kilobytes of DEFLATE can stand for gigabytes, so one envelope from a hostile member would
//! make every other member's device allocate that much. automerge has no option to bound it,
//! so this walks the same framing first (magic, checksum, chunk type, LEB128 length; then a
//! document's or bundle's column metadata) and inflates each compressed part into nothing,
//! counting, with a budget — without keeping what it inflated.
//!
//! Not covered here: automerge's run-length encoded columns can also describe many more
//! operations than they take bytes; that amplification is automerge's own to bound.

use std::io::Read;

/// automerge's chunk magic bytes.
const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];

const DOCUMENT: u8 = 0;
const CHANGE: u8 = 1;
const COMPRESSED_CHANGE: u8 = 2;
const BUNDLE: u8 = 3;

/// A column whose data is DEFLATE-compressed has this bit in its spec.
const DEFLATE_BIT: u64 = 0b1000;

/// What any payload may inflate to, whatever its size: honest small changes and documents
/// never come near (automerge only compresses chunks of a few hundred bytes and more, and
/// text compresses a few times at most), yet a pasted page of one repeated character does.
pub const MIN_INFLATED_BUDGET: usize = 4 * 1024 * 1024;

/// How many times its own size a payload may inflate to, beyond [`MIN_INFLATED_BUDGET`].
/// The budget grows with the bytes actually received, never with what they claim: a batch
/// of envelopes asks at most this factor of what the relay sent (itself bounded by
/// `MAX_ENVELOPE` per envelope and by the frame limits), so the memory a member can make
/// the others spend is proportional to what it uploads. Honest automerge data inflates far
/// less (see the tests: a large honest document about 3 to 6 times).
pub const MAX_INFLATION_RATIO: usize = 32;

/// The largest inflated size ever allowed: a maximal envelope (5 MiB) times the ratio.
pub const MAX_INFLATED: usize =
    MIN_INFLATED_BUDGET + MAX_INFLATION_RATIO * crate::envelope::MAX_ENVELOPE;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuardError {
    #[error("données automerge illisibles : {0}")]
    Malformed(&'static str),
    #[error(
        "données automerge refusées : plus de {limit} octets une fois décompressées, pour {received} octets reçus"
    )]
    TooLarge { limit: usize, received: usize },
}

/// The inflated size `payload` may reach (see [`MAX_INFLATION_RATIO`]).
pub fn budget_for(payload_len: usize) -> usize {
    MIN_INFLATED_BUDGET
        .saturating_add(payload_len.saturating_mul(MAX_INFLATION_RATIO))
        .min(MAX_INFLATED)
}

/// Checks automerge bytes (changes, a saved document, concatenated chunks) received from
/// someone else: `Ok` with their inflated size when it stays within their budget.
pub fn check(payload: &[u8]) -> Result<usize, GuardError> {
    check_within(payload, budget_for(payload.len()))
}

/// [`check`] against an explicit budget.
pub fn check_within(payload: &[u8], limit: usize) -> Result<usize, GuardError> {
    let mut walk = Walk {
        total: 0,
        limit,
        received: payload.len(),
    };
    let mut rest = payload;
    while !rest.is_empty() {
        let magic = take(&mut rest, 4)?;
        if magic != MAGIC {
            return Err(GuardError::Malformed("en-tête de bloc inconnu"));
        }
        take(&mut rest, 4)?; // checksum: automerge checks it
        let kind = take(&mut rest, 1)?[0];
        let len = leb128(&mut rest)?;
        let data = take(&mut rest, to_usize(len)?)?;
        match kind {
            DOCUMENT => walk.document(data)?,
            // automerge refuses compressed columns in a change chunk: its size is its size.
            CHANGE => walk.count(data.len())?,
            COMPRESSED_CHANGE => walk.inflate(data)?,
            BUNDLE => walk.bundle(data)?,
            _ => return Err(GuardError::Malformed("type de bloc inconnu")),
        }
    }
    Ok(walk.total)
}

struct Walk {
    total: usize,
    limit: usize,
    received: usize,
}

impl Walk {
    fn count(&mut self, n: usize) -> Result<(), GuardError> {
        self.total = self.total.saturating_add(n);
        if self.total > self.limit {
            return Err(self.too_large());
        }
        Ok(())
    }

    fn too_large(&self) -> GuardError {
        GuardError::TooLarge {
            limit: self.limit,
            received: self.received,
        }
    }

    /// Inflates raw DEFLATE data into nothing, stopping one byte past what is left of the
    /// budget: memory stays that of the decoder's window, work at most the budget.
    fn inflate(&mut self, compressed: &[u8]) -> Result<(), GuardError> {
        let left = self.limit.saturating_sub(self.total) as u64;
        let decoder = flate2::read::DeflateDecoder::new(compressed);
        let inflated = std::io::copy(&mut decoder.take(left + 1), &mut std::io::sink())
            .map_err(|_| GuardError::Malformed("données compressées invalides"))?;
        if inflated > left {
            return Err(self.too_large());
        }
        self.count(inflated as usize)
    }

    /// A document chunk: actors, heads, change and op column metadata, then the columns'
    /// data (each maybe compressed), then the heads' indices.
    fn document(&mut self, mut data: &[u8]) -> Result<(), GuardError> {
        let whole = data.len();
        skip_actors(&mut data)?;
        skip_hashes(&mut data)?;
        let change_columns = columns(&mut data)?;
        let op_columns = columns(&mut data)?;
        let compressed = self.column_data(&mut data, &change_columns)?
            + self.column_data(&mut data, &op_columns)?;
        // What is stored as is counts once; compressed columns count as inflated.
        self.count(whole - compressed.min(whole))
    }

    /// A bundle chunk: dependencies, actors, then change columns and op columns, each
    /// metadata followed by its data.
    fn bundle(&mut self, mut data: &[u8]) -> Result<(), GuardError> {
        let whole = data.len();
        skip_hashes(&mut data)?;
        skip_actors(&mut data)?;
        let change_columns = columns(&mut data)?;
        let mut compressed = self.column_data(&mut data, &change_columns)?;
        let op_columns = columns(&mut data)?;
        compressed += self.column_data(&mut data, &op_columns)?;
        self.count(whole - compressed.min(whole))
    }

    /// Takes the columns' data, inflating (and counting) the compressed ones; returns the
    /// compressed bytes, which the caller must not count again.
    fn column_data(
        &mut self,
        data: &mut &[u8],
        columns: &[(u64, usize)],
    ) -> Result<usize, GuardError> {
        let mut compressed = 0;
        for &(spec, len) in columns {
            let bytes = take(data, len)?;
            if spec & DEFLATE_BIT != 0 {
                self.inflate(bytes)?;
                compressed += len;
            }
        }
        Ok(compressed)
    }
}

/// Column metadata: a count, then each column's spec and data length.
fn columns(data: &mut &[u8]) -> Result<Vec<(u64, usize)>, GuardError> {
    let count = leb128(data)?;
    let mut out = Vec::new();
    for _ in 0..count {
        // Each column takes at least two bytes: a count past the input is caught at once.
        let spec = leb128(data)?;
        let len = to_usize(leb128(data)?)?;
        out.push((spec, len));
    }
    Ok(out)
}

fn skip_actors(data: &mut &[u8]) -> Result<(), GuardError> {
    let count = leb128(data)?;
    for _ in 0..count {
        let len = to_usize(leb128(data)?)?;
        take(data, len)?;
    }
    Ok(())
}

fn skip_hashes(data: &mut &[u8]) -> Result<(), GuardError> {
    let count = to_usize(leb128(data)?)?;
    take(data, count.checked_mul(32).ok_or(truncated())?)?;
    Ok(())
}

fn truncated() -> GuardError {
    GuardError::Malformed("bloc tronqué")
}

fn take<'a>(data: &mut &'a [u8], n: usize) -> Result<&'a [u8], GuardError> {
    if data.len() < n {
        return Err(truncated());
    }
    let (head, tail) = data.split_at(n);
    *data = tail;
    Ok(head)
}

fn to_usize(n: u64) -> Result<usize, GuardError> {
    usize::try_from(n).map_err(|_| truncated())
}

/// An unsigned LEB128 number of at most 64 bits.
fn leb128(data: &mut &[u8]) -> Result<u64, GuardError> {
    let mut value: u64 = 0;
    for shift in (0..64).step_by(7) {
        let byte = take(data, 1)?[0];
        let bits = u64::from(byte & 0x7f);
        if shift == 63 && bits > 1 {
            return Err(GuardError::Malformed("nombre trop grand"));
        }
        value |= bits << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(GuardError::Malformed("nombre trop grand"))
}

/// Crafted inputs for tests and the fuzzer's seeds.
pub mod crafted {
    use std::io::Write;

    /// A compressed change chunk whose DEFLATE data inflates to `inflated` zero bytes
    /// (rounded up to a mebibyte): a "zip bomb" about a thousand times smaller. The
    /// checksum is left zero (automerge inflates before it checks).
    pub fn compressed_change_bomb(inflated: usize) -> Vec<u8> {
        chunk(super::COMPRESSED_CHANGE, &deflated_zeros(inflated))
    }

    /// Raw DEFLATE of `inflated` zero bytes (rounded up to a mebibyte), made quickly: one
    /// sync-flushed segment for a mebibyte, repeated (it only refers back to zeros, so the
    /// repetition is valid DEFLATE), then an empty final block.
    pub fn deflated_zeros(inflated: usize) -> Vec<u8> {
        let mut encoder =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(&vec![0u8; 1 << 20]).expect("in memory");
        encoder.flush().expect("in memory");
        let segment = encoder.get_ref().clone();
        let mut out = Vec::new();
        for _ in 0..inflated.div_ceil(1 << 20) {
            out.extend_from_slice(&segment);
        }
        // BFINAL, fixed Huffman codes, end of block.
        out.extend_from_slice(&[0x03, 0x00]);
        out
    }

    /// One chunk of `kind` around `data`.
    pub fn chunk(kind: u8, data: &[u8]) -> Vec<u8> {
        let mut out = super::MAGIC.to_vec();
        out.extend([0; 4]);
        out.push(kind);
        let mut len = data.len() as u64;
        loop {
            let byte = (len & 0x7f) as u8;
            len >>= 7;
            if len == 0 {
                out.push(byte);
                break;
            }
            out.push(byte | 0x80);
        }
        out.extend_from_slice(data);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::transaction::Transactable;
    use automerge::{AutoCommit, ObjType, ROOT, ReadDoc};

    /// French-looking prose, varied enough to compress like real writing.
    fn prose(words: usize, seed: u64) -> String {
        const WORDS: [&str; 24] = [
            "j'ai",
            "accompagné",
            "l'équipe",
            "dans",
            "la",
            "mise",
            "en",
            "place",
            "d'un",
            "tableau",
            "de",
            "bord",
            "suivi",
            "des",
            "interventions",
            "clients",
            "avec",
            "responsable",
            "qualité",
            "pendant",
            "trois",
            "mois",
            "analyse",
            "procédure",
        ];
        let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
        let mut out = String::new();
        for _ in 0..words {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            out.push_str(WORDS[(x >> 33) as usize % WORDS.len()]);
            out.push(' ');
        }
        out
    }

    fn honest_document(fields: usize, words: usize) -> AutoCommit {
        let mut doc = AutoCommit::new();
        let fiches = doc.put_object(ROOT, "fiches", ObjType::List).unwrap();
        for i in 0..fields {
            let fiche = doc.insert_object(&fiches, i, ObjType::Map).unwrap();
            let text = doc.put_object(&fiche, "contexte", ObjType::Text).unwrap();
            doc.splice_text(&text, 0, 0, &prose(words, i as u64))
                .unwrap();
            doc.commit();
        }
        doc
    }

    #[test]
    fn a_small_bomb_is_refused_without_inflating_it_all() {
        let bomb = crafted::compressed_change_bomb(1 << 30);
        assert!(bomb.len() < 2_000_000, "{} bytes", bomb.len());
        let small = crafted::compressed_change_bomb(64 << 20);
        assert!(small.len() < 100_000, "{} bytes", small.len());
        for bytes in [&bomb, &small] {
            assert!(
                matches!(check(bytes), Err(GuardError::TooLarge { .. })),
                "{:?}",
                check(bytes)
            );
        }
        // Appended after honest changes, it is still found.
        let mut doc = honest_document(1, 50);
        let mut both = doc.save_incremental();
        both.extend(&small);
        assert!(matches!(check(&both), Err(GuardError::TooLarge { .. })));
    }

    #[test]
    fn a_document_with_a_bomb_column_is_refused() {
        let column = crafted::deflated_zeros(256 << 20);
        let mut data = vec![0, 0]; // no actors, no heads
        data.push(1); // one change column
        data.push(DEFLATE_BIT as u8 | 0x10); // spec with the deflate bit
        let mut len = column.len() as u64;
        while len >= 0x80 {
            data.push((len as u8 & 0x7f) | 0x80);
            len >>= 7;
        }
        data.push(len as u8);
        data.push(0); // no op columns
        data.extend(&column);
        let chunk = crafted::chunk(DOCUMENT, &data);
        assert!(matches!(check(&chunk), Err(GuardError::TooLarge { .. })));
        // The same column within budget is counted, not refused.
        let counted = check_within(&chunk, 300 << 20).unwrap();
        assert!(
            (256 << 20..(256 << 20) + 16).contains(&counted),
            "{counted}"
        );
    }

    #[test]
    fn honest_documents_and_changes_pass_large_ones_included() {
        // About 1.5 MB of text in 200 fiches: saved whole (compressed columns) and as the
        // incremental changes a flush carries.
        let mut doc = honest_document(200, 1000);
        let saved = doc.save();
        let inflated = check(&saved).unwrap();
        assert!(inflated > saved.len(), "{inflated} vs {}", saved.len());
        assert!(
            inflated < 8 * saved.len(),
            "honest ratio {}",
            inflated / saved.len()
        );
        let changes: Vec<u8> = doc
            .get_changes(&[])
            .into_iter()
            .flat_map(|mut c| c.bytes().into_owned())
            .collect();
        check(&changes).unwrap();
        let incremental = doc.save_incremental();
        check(&incremental).unwrap();
        // What the guard lets through is what automerge loads.
        let mut loaded = AutoCommit::load(&saved).unwrap();
        assert_eq!(loaded.get_heads(), doc.get_heads());
        // A single keystroke's change, and nothing at all.
        let fiches = doc.get(ROOT, "fiches").unwrap().unwrap().1;
        let fiche = doc.get(&fiches, 0).unwrap().unwrap().1;
        let text = doc.get(&fiche, "contexte").unwrap().unwrap().1;
        doc.splice_text(&text, 3, 0, "x").unwrap();
        check(&doc.save_incremental()).unwrap();
        assert_eq!(check(&[]), Ok(0));
    }

    #[test]
    fn the_crafted_bomb_is_valid_deflate_of_what_it_says() {
        let mut inflated = Vec::new();
        flate2::read::DeflateDecoder::new(&crafted::deflated_zeros(3 << 20)[..])
            .read_to_end(&mut inflated)
            .unwrap();
        assert_eq!(inflated.len(), 3 << 20);
        assert!(inflated.iter().all(|b| *b == 0));
    }

    #[test]
    fn garbage_is_refused_never_a_panic() {
        for bytes in [
            &b"hello"[..],
            &MAGIC[..],
            &[0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, 9, 0][..],
            &[
                0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                0xff, 0xff, 0x7f,
            ][..],
            &crafted::chunk(COMPRESSED_CHANGE, b"not deflate at all")[..],
            &crafted::chunk(DOCUMENT, &[0xff, 0xff, 0xff, 0xff, 0x0f])[..],
        ] {
            assert!(
                matches!(check(bytes), Err(GuardError::Malformed(_))),
                "{bytes:?}"
            );
        }
    }

    /// Writes the fuzzer's seeds (`cargo test -p livret-shared --lib write_fuzz_seeds --
    /// --ignored`): honest changes and documents, bombs; `shared/tests/fuzz_regressions.rs`
    /// checks each is read as its name says.
    #[test]
    #[ignore]
    fn write_fuzz_seeds() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fuzz/corpus/automerge_chunks");
        std::fs::create_dir_all(&dir).unwrap();
        let mut doc = honest_document(3, 40);
        let changes: Vec<u8> = doc
            .get_changes(&[])
            .into_iter()
            .flat_map(|mut c| c.bytes().into_owned())
            .collect();
        let mut big = honest_document(1, 600);
        let seeds: [(&str, Vec<u8>); 5] = [
            ("honest-document", doc.save()),
            ("honest-changes-compressed", changes),
            ("honest-incremental", big.save_incremental()),
            (
                "bomb-compressed-change",
                crafted::compressed_change_bomb(16 << 20),
            ),
            ("bomb-document-column", {
                let column = crafted::deflated_zeros(16 << 20);
                let mut data = vec![0, 0, 1, DEFLATE_BIT as u8 | 0x10];
                let mut len = column.len() as u64;
                while len >= 0x80 {
                    data.push((len as u8 & 0x7f) | 0x80);
                    len >>= 7;
                }
                data.push(len as u8);
                data.push(0);
                data.extend(&column);
                crafted::chunk(DOCUMENT, &data)
            }),
        ];
        for (name, bytes) in seeds {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
    }

    #[test]
    fn the_budget_grows_with_what_was_received_up_to_a_cap() {
        assert_eq!(budget_for(0), MIN_INFLATED_BUDGET);
        assert_eq!(
            budget_for(1000),
            MIN_INFLATED_BUDGET + 1000 * MAX_INFLATION_RATIO
        );
        assert_eq!(budget_for(usize::MAX), MAX_INFLATED);
    }
}
