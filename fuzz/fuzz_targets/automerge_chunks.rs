//! Automerge bytes received from other devices (changes, documents, bundles), on arbitrary
//! bytes: the inflation guard never panics, and what it lets through stays within its
//! budget when automerge reads it.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    livret_shared::fuzzing::read_automerge_bytes(data);
});
