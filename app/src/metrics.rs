//! What the app measures about itself, for the benchmarks (kept in the page, never sent):
//! marks on the page's performance timeline (`livret-…`), and for each keystroke the time
//! until the IndexedDB transaction holding it committed, in
//! `window.__livretEnregistrements` (milliseconds), and the part of it spent sealing in
//! `window.__livretScellements`.

use std::cell::{Cell, RefCell};

use wasm_bindgen::{JsCast, JsValue};

thread_local! {
    /// When each keystroke not yet covered by a save started.
    static TYPED: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
    /// When the last save committed, if not now: [`committed`].
    static COMMITTED: Cell<Option<f64>> = const { Cell::new(None) };
}

fn performance() -> Option<web_sys::Performance> {
    web_sys::window()?.performance()
}

pub fn now() -> f64 {
    performance().map_or(0.0, |p| p.now())
}

/// A named point on the page's timeline (`performance.getEntriesByName`).
pub fn mark(name: &str) {
    if let Some(p) = performance() {
        let _ = p.mark(name);
    }
}

/// A keystroke reached the document.
pub fn keystroke() {
    TYPED.with(|t| t.borrow_mut().push(now()));
}

/// A save starts: it covers every keystroke so far.
pub fn saving() -> Vec<f64> {
    TYPED.with(|t| std::mem::take(&mut *t.borrow_mut()))
}

/// The save that just finished committed at `at` (its delta was written by the storage
/// worker, and the page may learn it later), or now (`None`: a full save, written by the
/// page). Set as the save returns and read by [`saved`] in the same turn of the page.
pub fn committed(at: Option<f64>) {
    COMMITTED.with(|c| c.set(at));
}

/// The save that covered these keystrokes is committed.
pub fn saved(starts: Vec<f64>) {
    let end = COMMITTED.with(|c| c.take()).unwrap_or_else(now);
    for start in starts {
        record("__livretEnregistrements", end - start);
    }
}

/// Appends a duration (ms) to the page's list `name`.
pub fn record(name: &str, ms: f64) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let key = JsValue::from_str(name);
    // `dyn_into`, not `Array::from` (which copies): the benchmark resets these lists.
    let list = match js_sys::Reflect::get(&window, &key).map(|v| v.dyn_into::<js_sys::Array>()) {
        Ok(Ok(list)) => list,
        _ => {
            let fresh = js_sys::Array::new();
            let _ = js_sys::Reflect::set(&window, &key, &fresh);
            fresh
        }
    };
    list.push(&JsValue::from_f64(ms));
}

/// A switch the benchmark sets on the page (`window[name] = true`), to measure the app
/// both ways in one run; off for everyone else.
pub fn switch(name: &str) -> bool {
    web_sys::window()
        .and_then(|w| js_sys::Reflect::get(&w, &JsValue::from_str(name)).ok())
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}
