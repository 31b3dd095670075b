//! Each keystroke's delta is written to IndexedDB by the storage worker, off the page's
//! thread (issue 26: typing p99), and nothing is lost when that worker fails halfway: what
//! it had not written, the page writes. Both read back after a reload.

use crate::browser::{PASSPHRASE, new_dossier_with_a_fiche};
use crate::support::Relay;
use crate::webdriver::Browser;

const TYPED: &str = "Tableau de bord livré, délais tenus";

/// What becomes of the storage worker in a test.
#[derive(Clone, Copy)]
enum Worker {
    /// It works.
    Works,
    /// After this many messages it throws (its error reaches the page, which stops it) and
    /// no later message reaches it.
    Breaks(u32),
    /// After this many messages none reaches it, and it says nothing: stuck.
    FallsSilent(u32),
    /// The message after this many asks for a write IndexedDB refuses (no key), as a
    /// worker whose connection broke would answer.
    Refuses(u32),
}

/// The page's workers watched: the messages posted to them are counted in
/// `window.__livretPostes`, and those after a failure (`worker`) never reach it: what was
/// posted to it then is lost unless the page writes it.
fn watch_the_storage_worker(browser: &Browser, worker: Worker) {
    let (fail_after, throws, refuses) = match worker {
        Worker::Works => ("Infinity".to_string(), false, "Infinity".to_string()),
        Worker::Breaks(n) => (n.to_string(), true, "Infinity".to_string()),
        Worker::FallsSilent(n) => (n.to_string(), false, "Infinity".to_string()),
        Worker::Refuses(n) => ("Infinity".to_string(), false, (n + 1).to_string()),
    };
    browser.run_async(&format!(
        "const done = arguments[arguments.length - 1];
         const post = Worker.prototype.postMessage;
         window.__livretPostes = 0;
         Worker.prototype.postMessage = function (message, transfer) {{
           window.__livretPostes += 1;
           if (window.__livretPostes === {refuses}) message = Object.assign({{}}, message, {{ key: null }});
           if (window.__livretPostes <= {fail_after}) return post.call(this, message, transfer);
           // A message it cannot read: it throws.
           if ({throws} && window.__livretPostes === {fail_after} + 1) post.call(this, null);
         }};
         done(0);"
    ));
}

fn posted(browser: &Browser) -> u64 {
    browser
        .run_async("arguments[arguments.length - 1](window.__livretPostes);")
        .as_u64()
        .unwrap_or(0)
}

/// The keys of the deltas IndexedDB holds, read by the test from the page.
fn delta_keys(browser: &Browser) -> u64 {
    browser
        .run_async(
            r#"const done = arguments[arguments.length - 1];
            const open = indexedDB.open("livret");
            open.onsuccess = () => {
              const all = open.result.transaction("kv").objectStore("kv").getAllKeys();
              all.onsuccess = () => { done(all.result.filter(k => String(k).startsWith("delta:")).length); open.result.close(); };
              all.onerror = () => done(-1);
            };
            open.onerror = () => done(-1);"#,
        )
        .as_u64()
        .expect("IndexedDB read from the page")
}

/// Types `TYPED` key by key in the fiche's results and waits until it is saved.
fn type_and_wait(browser: &Browser) {
    for c in TYPED.chars() {
        browser.type_into("#f-fiches-0-resultats", &c.to_string());
    }
    browser.wait_text("[data-testid=etat-sauvegarde]", |t| {
        t == "Enregistré sur cet appareil"
    });
    assert!(delta_keys(browser) >= 1, "no delta in IndexedDB");
}

/// Reloads and unlocks; what the fiche's results hold then.
fn reload_and_read(browser: &Browser) -> String {
    browser.refresh();
    browser.type_into("#phrase", PASSPHRASE);
    browser.click("#deverrouiller");
    browser.wait_for("#f-fiches-0-resultats");
    browser.value("#f-fiches-0-resultats")
}

fn keystrokes() -> u64 {
    TYPED.chars().count() as u64
}

#[test]
fn keystrokes_are_written_by_the_storage_worker_and_read_back_after_a_reload() {
    let relay = Relay::start();
    let browser = Browser::start();
    new_dossier_with_a_fiche(&relay, &browser, "003");
    watch_the_storage_worker(&browser, Worker::Works);
    type_and_wait(&browser);
    // One delta per keystroke, save a few the page folds into a full save.
    let posted = posted(&browser);
    assert!(
        posted >= keystrokes() / 2,
        "{posted} of {} keystrokes written by the worker",
        keystrokes()
    );
    assert_eq!(reload_and_read(&browser), TYPED, "after a reload");
}

/// Types while offline (the relay gets no copy: only this device's storage holds what is
/// typed) with the storage worker failing after five writes; what it had not written is
/// written by the page. Returns how many messages were posted to the worker.
fn type_offline_while_the_worker_fails(relay: &Relay, browser: &Browser, worker: Worker) -> u64 {
    new_dossier_with_a_fiche(relay, browser, "003");
    browser.wait_text("[data-testid=etat-synchro]", |t| {
        t == "Synchronisé avec le serveur"
    });
    browser.set_offline(true);
    watch_the_storage_worker(browser, worker);
    type_and_wait(browser);
    browser.set_offline(false);
    posted(browser)
}

#[test]
fn when_the_storage_worker_breaks_halfway_the_page_writes_and_nothing_is_lost() {
    let relay = Relay::start();
    let browser = Browser::start();
    let posted = type_offline_while_the_worker_fails(&relay, &browser, Worker::Breaks(5));
    // It broke at the sixth, and the page wrote the rest.
    assert!(
        posted > 5 && posted < keystrokes(),
        "{posted} of {} keystrokes posted to the worker",
        keystrokes()
    );
    assert_eq!(reload_and_read(&browser), TYPED, "after a reload");
}

#[test]
fn when_the_storage_worker_falls_silent_the_page_writes_and_nothing_is_lost() {
    let relay = Relay::start();
    let browser = Browser::start();
    let posted = type_offline_while_the_worker_fails(&relay, &browser, Worker::FallsSilent(5));
    // Nothing told the page: the keystrokes typed until the stuck write was given up on
    // were posted to it as well, and written by the page afterwards.
    assert!(posted > 5, "{posted} keystrokes posted to the worker");
    assert_eq!(reload_and_read(&browser), TYPED, "after a reload");
}

#[test]
fn when_the_storage_worker_refuses_a_write_the_page_writes_it_and_nothing_is_lost() {
    let relay = Relay::start();
    let browser = Browser::start();
    let posted = type_offline_while_the_worker_fails(&relay, &browser, Worker::Refuses(5));
    // The refusal stopped it: the page wrote that delta and the ones after.
    assert!(
        posted > 5 && posted < keystrokes(),
        "{posted} of {} keystrokes posted to the worker",
        keystrokes()
    );
    assert_eq!(reload_and_read(&browser), TYPED, "after a reload");
}
