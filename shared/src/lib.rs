//! Livret's pure core.
//!
//! No sockets, no files, no clocks: everything here takes bytes and values in and gives
//! values out, so the same code runs in the browser (wasm32), in the relay and in tests.

pub mod referentiel;
