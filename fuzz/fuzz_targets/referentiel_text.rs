//! The text reader takes anything a user uploads: it must never panic, and what it returns
//! must hold together.
#![no_main]

use libfuzzer_sys::fuzz_target;
use livret_shared::referentiel;

fuzz_target!(|data: &[u8]| {
    let text = referentiel::decode_text(data);
    if let Ok(import) = referentiel::import_text(&text) {
        let r = &import.referentiel;
        assert!(r.competences().count() > 0);
        let _ = referentiel::check(&import);
        let json = serde_json_roundtrip(r);
        assert_eq!(&json, r);
    }
});

fn serde_json_roundtrip(r: &referentiel::Referentiel) -> referentiel::Referentiel {
    referentiel::Referentiel::from_json(&r.to_json()).expect("own JSON reads back")
}
