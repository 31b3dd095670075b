//! The native client's clock: wall time since 1970. The core has no clock of its own (it is
//! given times); this is what the CLI gives it.

/// Milliseconds since 1970 (0 if the system clock is set before it).
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
