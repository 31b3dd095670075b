//! The relay's clock: wall time since 1970. The core has no clock of its own (it is given
//! times); this is what the relay gives it and stores.

/// Milliseconds since 1970 (0 if the system clock is set before it).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Seconds since 1970 (the relay's pruning times).
pub fn now_seconds() -> i64 {
    now_ms().div_euclid(1000)
}
