//! Snapshots a late device receives, on arbitrary bytes: whole envelopes, sealed bodies
//! signed by the owner, covers and documents with the clear covers tampered or not.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    livret_shared::fuzzing::read_snapshot_bytes(data);
});
