//! The RNCP XML reader on arbitrary input: errors, never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use livret_shared::referentiel;

fuzz_target!(|data: &[u8]| {
    let text = referentiel::decode_text(data);
    if let Ok(imports) = referentiel::import_rncp_xml(&text) {
        for import in imports {
            let _ = referentiel::check(&import);
        }
    }
});
