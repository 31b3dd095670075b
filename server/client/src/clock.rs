//! The native client's clock: wall time since 1970. The core has no clock of its own (it is
//! given times); this is what the CLI gives it.

use std::sync::atomic::{AtomicI64, Ordering};

/// Added to the system clock: zero, except in the tests of retention (`livret
/// --clock-offset-days`, hidden).
static OFFSET_MS: AtomicI64 = AtomicI64::new(0);

/// Shifts this process's clock by `ms`.
pub fn shift(ms: i64) {
    OFFSET_MS.store(ms, Ordering::Relaxed);
}

/// Milliseconds since 1970 (0 if the system clock is set before it).
pub fn now_ms() -> u64 {
    let system = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    (system + OFFSET_MS.load(Ordering::Relaxed)).max(0) as u64
}
