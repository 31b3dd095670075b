//! The relay's clock: wall time since 1970. The core has no clock of its own (it is given
//! times); this is what the relay gives it and stores.

use std::sync::atomic::{AtomicI64, Ordering};

/// Added to the system clock: zero, except in the tests of retention, which run a relay a
/// year ahead (`livret --clock-offset-days`, hidden).
static OFFSET_MS: AtomicI64 = AtomicI64::new(0);

/// Shifts this process's clock by `ms`.
pub fn shift(ms: i64) {
    OFFSET_MS.store(ms, Ordering::Relaxed);
}

/// Milliseconds since 1970 (0 if the system clock is set before it).
pub fn now_ms() -> i64 {
    let system = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    system + OFFSET_MS.load(Ordering::Relaxed)
}

/// Seconds since 1970 (the relay's pruning times).
pub fn now_seconds() -> i64 {
    now_ms().div_euclid(1000)
}
