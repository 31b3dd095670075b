//! The PDF export's readers of annexed files (PDF through lopdf, PNG, JPEG) on arbitrary
//! input: an evidence file is whatever the candidate picked; errors, never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = livret_shared::pdf_export::read_annexe_bytes(data);
});
