//! The storage worker (`app/idb-worker.js`): the per-keystroke deltas are written to
//! IndexedDB off the page's thread. On the page, a transaction commits only after the page
//! has run its request's success callback, so a keystroke typed while the page draws waited
//! for the drawing; in the worker nothing else runs.
//!
//! Order is kept with the page's own reads and writes: each [`put`] holds a ticket
//! ([`Posted`]) until it is written, by the worker or by the page, and the page's
//! operations first wait for every ticket given before they started ([`settled`]). A full
//! save therefore lists and drops the deltas the worker wrote, and a deletion leaves none
//! landing after it.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};

use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen::JsValue;
use wasm_bindgen::closure::Closure;
use wasm_bindgen_futures::JsFuture;

/// The worker's script, served with the app and kept by its service worker.
const SCRIPT: &str = "/idb-worker.js";

/// A write the worker has not answered after this long means it is stuck (a write takes
/// milliseconds): it is stopped and the page writes what it held, since every read and
/// write of the page waits for it.
const STUCK_MS: i32 = 10_000;

thread_local! {
    /// The worker, started when the database opens. `Err(())`: it could not start or stopped;
    /// the page writes everything itself from then on.
    static WORKER: RefCell<Option<Result<web_sys::Worker, ()>>> = const { RefCell::new(None) };
    /// Writes posted to the worker and not answered: their id → (resolve, reject).
    static ANSWERS: RefCell<BTreeMap<u32, (Function, Function)>> =
        const { RefCell::new(BTreeMap::new()) };
    static NEXT_ID: Cell<u32> = const { Cell::new(0) };
    /// Tickets of the delta writes not finished (worker or page).
    static OPEN_TICKETS: RefCell<BTreeSet<u64>> = const { RefCell::new(BTreeSet::new()) };
    static NEXT_TICKET: Cell<u64> = const { Cell::new(0) };
    /// The page's operations waiting for tickets to close: woken at each close.
    static WAITING: RefCell<Vec<Function>> = const { RefCell::new(Vec::new()) };
}

/// A delta write in progress, from before it is posted until it is written or has failed
/// (dropped: closed, and whoever waits for it looks again).
pub(super) struct Posted(u64);

impl Posted {
    pub(super) fn new() -> Posted {
        let ticket = NEXT_TICKET.with(|n| {
            let t = n.get();
            n.set(t + 1);
            t
        });
        OPEN_TICKETS.with(|t| t.borrow_mut().insert(ticket));
        Posted(ticket)
    }
}

impl Drop for Posted {
    fn drop(&mut self) {
        OPEN_TICKETS.with(|t| t.borrow_mut().remove(&self.0));
        for wake in WAITING.with(|w| std::mem::take(&mut *w.borrow_mut())) {
            let _ = wake.call0(&JsValue::NULL);
        }
    }
}

/// Waits until every delta write begun before this call is finished. Later ones are not
/// waited for, so typing on does not hold the page's operations back.
pub(super) async fn settled() {
    let Some(last) = NEXT_TICKET.with(|n| n.get().checked_sub(1)) else {
        return;
    };
    while OPEN_TICKETS.with(|t| t.borrow().first().is_some_and(|first| *first <= last)) {
        let woken = Promise::new(&mut |resolve, _| WAITING.with(|w| w.borrow_mut().push(resolve)));
        let _ = JsFuture::from(woken).await;
    }
}

/// Posts a write of `value` under `key` in database `name` to the worker. The promise
/// resolves with the time it committed on the page's clock (`performance.now()`), or is
/// rejected when the worker could not write it or stopped: the page writes it then.
/// `None`: no worker here; the page writes it.
pub(super) fn put(name: &str, key: &str, value: &[u8]) -> Option<Promise> {
    let worker = worker()?;
    let id = NEXT_ID.with(|n| {
        let id = n.get();
        n.set(id.wrapping_add(1));
        id
    });
    let bytes = Uint8Array::from(value);
    let message = Object::new();
    for (field, v) in [
        ("id", JsValue::from(id)),
        ("name", JsValue::from_str(name)),
        ("key", JsValue::from_str(key)),
        ("value", bytes.clone().into()),
    ] {
        Reflect::set(&message, &field.into(), &v).ok()?;
    }
    let written = Promise::new(&mut |resolve, reject| {
        ANSWERS.with(|a| a.borrow_mut().insert(id, (resolve, reject)));
    });
    // The copy's buffer moves to the worker rather than being copied again.
    if worker
        .post_message_with_transfer(&message, &Array::of1(&bytes.buffer()))
        .is_err()
    {
        ANSWERS.with(|a| a.borrow_mut().remove(&id));
        return None;
    }
    let stuck = Closure::once_into_js(move || {
        if ANSWERS.with(|a| a.borrow().contains_key(&id)) {
            stop();
        }
    });
    if let Some(window) = web_sys::window() {
        let _ = window
            .set_timeout_with_callback_and_timeout_and_arguments_0(stuck.unchecked_ref(), STUCK_MS);
    }
    Some(written)
}

/// Starts the worker (once per page) so its script is loaded before the first keystroke.
pub(super) fn start() {
    let _ = worker();
}

/// The running worker, started at the first call.
fn worker() -> Option<web_sys::Worker> {
    if let Some(known) = WORKER.with(|w| w.borrow().clone()) {
        return known.ok();
    }
    let started = web_sys::Worker::new(SCRIPT).map_err(|_| ());
    if let Ok(worker) = &started {
        let answered = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(answered);
        worker.set_onmessage(Some(answered.as_ref().unchecked_ref()));
        // Lives as long as the page, as the worker does.
        answered.forget();
        let failed = Closure::<dyn FnMut(web_sys::Event)>::new(|_: web_sys::Event| stop());
        worker.set_onerror(Some(failed.as_ref().unchecked_ref()));
        failed.forget();
    }
    WORKER.with(|w| *w.borrow_mut() = Some(started.clone()));
    started.ok()
}

/// The worker's answer to one write.
fn answered(event: web_sys::MessageEvent) {
    let data = event.data();
    let field = |name: &str| Reflect::get(&data, &name.into()).unwrap_or(JsValue::UNDEFINED);
    let Some(id) = field("id").as_f64() else {
        return;
    };
    let Some((resolve, reject)) = ANSWERS.with(|a| a.borrow_mut().remove(&(id as u32))) else {
        return;
    };
    // The worker's clock starts with the worker: its time is given since the epoch.
    let origin = web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.time_origin());
    let _ = match field("at").as_f64() {
        Some(at) => resolve.call1(&JsValue::NULL, &JsValue::from_f64(at - origin)),
        None => {
            // Its connection may be gone (closed by the browser, the site's data
            // cleared) while the page's still works: the page writes from now on, this
            // write first.
            let _ = reject.call1(&JsValue::NULL, &field("error"));
            stop();
            Ok(JsValue::UNDEFINED)
        }
    };
}

/// The worker failed (its script did not load, it threw, or it is stuck): every write it
/// had not answered is handed back to the page, in the order posted, and the page writes
/// from now on.
fn stop() {
    if let Some(Ok(worker)) = WORKER.with(|w| w.borrow_mut().replace(Err(()))) {
        worker.terminate();
    }
    for (_, (_, reject)) in ANSWERS.with(|a| std::mem::take(&mut *a.borrow_mut())) {
        let _ = reject.call1(&JsValue::NULL, &JsValue::UNDEFINED);
    }
}
