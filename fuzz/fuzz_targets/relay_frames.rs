//! What the relay and the devices read off the network, on arbitrary bytes: a frame either
//! way, an envelope (parse, verify, open), a membership entry, a presence message and a
//! change batch handed to a replica. Errors, never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    livret_shared::fuzzing::read_network_bytes(data);
});
