//! The app's one clock: the browser's wall time, in milliseconds since 1970. The core has no
//! clock of its own (it is given times); this is what the app gives it.

pub fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}
