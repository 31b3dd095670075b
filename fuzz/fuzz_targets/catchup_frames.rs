//! Catch-up frames, on arbitrary bytes: what the relay cuts into frames is gathered back
//! whole and in order, and frames a hostile relay makes are gathered and applied to a fresh
//! replica without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    livret_shared::fuzzing::read_catchup_frames(data);
});
