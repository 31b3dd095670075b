//! A minimal W3C WebDriver client driving Debian's chromium through chromedriver: enough to
//! type, click, reload and read what a user sees. Every wait is a bounded loop that fails
//! with what it was waiting for, never a hang.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{chromium, request, temp_dir};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
/// Polls of 100 ms before a wait gives up (a slow CI machine derives a scrypt key in wasm).
const WAIT_POLLS: u32 = 900;

pub struct Browser {
    driver: Child,
    addr: SocketAddr,
    session: String,
    profile: PathBuf,
}

use livret_relay::testing::free_port;

/// Whether chromedriver itself answers at `addr` and is ready for a session (its
/// `/status`), without failing on a connection refused or reset.
fn chromedriver_ready(addr: SocketAddr) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(addr) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let asked = stream.write_all(
        format!("GET /status HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    );
    if asked.is_err() {
        return false;
    }
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&answer);
        if text.contains("\"ready\":true") || text.contains("\"ready\": true") {
            return true;
        }
    }
    false
}

impl Browser {
    /// A fresh headless profile (its own IndexedDB).
    pub fn start() -> Browser {
        Browser::start_with_profile(temp_dir("chromium-profile"))
    }

    pub fn start_with_profile(profile: PathBuf) -> Browser {
        // The port is free when picked, but another test starting beside may take it
        // before chromedriver binds it: then chromedriver exits, and whatever answers there
        // is not chromedriver. Tried again on another port (bounded).
        let mut started = None;
        for _ in 0..5 {
            let port = free_port();
            let mut driver = Command::new("chromedriver")
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("chromedriver runs (scripts/toolchain.sh installs chromium-driver)");
            let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
            let mut ready = false;
            for _ in 0..WAIT_POLLS {
                if matches!(driver.try_wait(), Ok(Some(_))) {
                    break;
                }
                if chromedriver_ready(addr) {
                    ready = true;
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            if ready {
                started = Some((driver, addr));
                break;
            }
            let _ = driver.kill();
            let _ = driver.wait();
        }
        let (driver, addr) = started.expect("chromedriver did not start");
        let mut browser = Browser {
            driver,
            addr,
            session: String::new(),
            profile,
        };
        let created = browser.call(
            "POST",
            "/session",
            Some(json!({
                "capabilities": {"alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": {
                        "binary": chromium(),
                        "args": [
                            "--headless",
                            "--no-sandbox",
                            "--disable-gpu",
                            "--disable-background-networking",
                            "--disable-component-update",
                            "--disable-sync",
                            "--no-first-run",
                            format!("--user-data-dir={}", browser.profile.display()),
                        ],
                    },
                }},
            })),
        );
        browser.session = created["sessionId"]
            .as_str()
            .expect("a session id")
            .to_string();
        browser
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let body = body.map(|b| b.to_string());
        let response = request(self.addr, method, path, body.as_deref().map(str::as_bytes));
        let value: Value = serde_json::from_slice(&response.body)
            .unwrap_or_else(|_| panic!("webdriver {path}: {}", response.text()));
        let value = value.get("value").cloned().unwrap_or(Value::Null);
        if response.status >= 400 {
            return json!({"error": value["error"], "message": value["message"]});
        }
        value
    }

    fn session_call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.call(method, &format!("/session/{}{path}", self.session), body)
    }

    pub fn goto(&self, url: &str) {
        let r = self.session_call("POST", "/url", Some(json!({ "url": url })));
        assert!(r.get("error").is_none(), "navigation to {url}: {r}");
    }

    pub fn refresh(&self) {
        self.session_call("POST", "/refresh", Some(json!({})));
    }

    fn find(&self, css: &str) -> Option<String> {
        let r = self.session_call(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        );
        r[ELEMENT].as_str().map(str::to_string)
    }

    /// The element matching `css`, once it exists.
    pub fn wait_for(&self, css: &str) -> String {
        for _ in 0..WAIT_POLLS {
            if let Some(e) = self.find(css) {
                return e;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("never appeared: {css}\npage text:\n{}", self.text("body"));
    }

    /// Whether an element matches `css` now.
    pub fn exists(&self, css: &str) -> bool {
        self.find(css).is_some()
    }

    /// Waits until no element matches `css`.
    pub fn wait_gone(&self, css: &str) {
        for _ in 0..WAIT_POLLS {
            if self.find(css).is_none() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("never went away: {css}");
    }

    /// Waits until the text of `css` satisfies `ok`; returns it.
    pub fn wait_text(&self, css: &str, ok: impl Fn(&str) -> bool) -> String {
        let mut last = String::new();
        for _ in 0..WAIT_POLLS {
            if let Some(e) = self.find(css) {
                last = self.element_text(&e);
                if ok(&last) {
                    return last;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("{css} never had the expected text; last: {last:?}");
    }

    fn element_text(&self, element: &str) -> String {
        self.session_call("GET", &format!("/element/{element}/text"), None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub fn text(&self, css: &str) -> String {
        self.find(css)
            .map(|e| self.element_text(&e))
            .unwrap_or_default()
    }

    /// Types into the element as a user would (key events, one by one).
    pub fn type_into(&self, css: &str, text: &str) {
        let e = self.wait_for(css);
        let r = self.session_call(
            "POST",
            &format!("/element/{e}/value"),
            Some(json!({ "text": text })),
        );
        assert!(r.get("error").is_none(), "typing into {css}: {r}");
    }

    /// Replaces what a field holds: select all (Ctrl+A), delete, type.
    pub fn retype(&self, css: &str, text: &str) {
        self.type_into(css, "\u{E009}a\u{E000}\u{E003}");
        self.type_into(css, text);
    }

    pub fn click(&self, css: &str) {
        let e = self.wait_for(css);
        let mut r = self.session_call("POST", &format!("/element/{e}/click"), Some(json!({})));
        // WebDriver scrolls an element just into view, where the editor's status bar (kept at
        // the top of the window) may cover it: a person scrolls it a little further.
        if r.get("error").and_then(Value::as_str) == Some("element click intercepted") {
            let mut element = serde_json::Map::new();
            element.insert(ELEMENT.to_string(), Value::String(e.clone()));
            self.session_call(
                "POST",
                "/execute/sync",
                Some(json!({
                    "script": "arguments[0].scrollIntoView({block: 'center'});",
                    "args": [element],
                })),
            );
            r = self.session_call("POST", &format!("/element/{e}/click"), Some(json!({})));
        }
        assert!(r.get("error").is_none(), "clicking {css}: {r}");
    }

    /// The live `value` of a form control.
    pub fn value(&self, css: &str) -> String {
        let e = self.wait_for(css);
        self.session_call("GET", &format!("/element/{e}/property/value"), None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// A DOM property of the element matching `css` (`checked`, `value`…).
    pub fn property(&self, css: &str, name: &str) -> Value {
        let e = self.wait_for(css);
        self.session_call("GET", &format!("/element/{e}/property/{name}"), None)
    }

    /// Whether the element matching `css` is shown.
    pub fn displayed(&self, css: &str) -> bool {
        let e = self.wait_for(css);
        self.session_call("GET", &format!("/element/{e}/displayed"), None) == Value::Bool(true)
    }

    /// Waits until the form control matching `css` holds `expected`.
    pub fn wait_value(&self, css: &str, expected: &str) {
        let mut last = String::new();
        for _ in 0..WAIT_POLLS {
            last = self.value(css);
            if last == expected {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("{css} never held {expected:?}; last: {last:?}");
    }

    /// Waits until the checkbox matching `css` is `checked` (or not).
    pub fn wait_checked(&self, css: &str, checked: bool) {
        for _ in 0..WAIT_POLLS {
            if self.property(css, "checked") == serde_json::Value::Bool(checked) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("{css} never became checked = {checked}");
    }

    /// Runs axe-core (installed by scripts/toolchain.sh) on the page as it is now, against
    /// WCAG 2.1 A and AA, and fails with every violation found, naming `screen`.
    pub fn assert_accessible(&self, screen: &str) {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../target/npm/node_modules/axe-core/axe.min.js");
        let axe = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (run scripts/toolchain.sh)", path.display()));
        let injected = self.session_call(
            "POST",
            "/execute/sync",
            Some(json!({"script": format!("{axe}\nreturn typeof axe;"), "args": []})),
        );
        assert_eq!(injected, "object", "axe-core did not load: {injected}");
        let result = self.run_async(
            r#"const done = arguments[arguments.length - 1];
            axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
              .then(r => done(r.violations.map(v => ({
                  id: v.id, impact: v.impact, help: v.help,
                  nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " — " + n.failureSummary)
              }))))
              .catch(e => done({error: String(e)}));"#,
        );
        assert_eq!(
            result,
            json!([]),
            "axe-core violations on the {screen} screen:\n{}",
            serde_json::to_string_pretty(&result).unwrap_or_default()
        );
    }

    /// Cuts (or restores) the browser's network, as a train tunnel would (Chromium's
    /// network emulation: new connections fail, the page stays).
    pub fn set_offline(&self, offline: bool) {
        let r = self.session_call(
            "POST",
            "/chromium/network_conditions",
            Some(json!({"network_conditions": {
                "offline": offline,
                "latency": 0,
                "download_throughput": -1,
                "upload_throughput": -1,
            }})),
        );
        assert!(r.get("error").is_none(), "network conditions: {r}");
    }

    /// An attribute of the element matching `css`.
    pub fn attribute(&self, css: &str, name: &str) -> String {
        let e = self.wait_for(css);
        self.session_call("GET", &format!("/element/{e}/attribute/{name}"), None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Presses keys on whatever has the focus, as a keyboard does (WebDriver key actions):
    /// each char of `keys` is one key (WebDriver codes such as `\u{E004}` for Tab).
    pub fn press(&self, keys: &str) {
        let actions: Vec<Value> = keys
            .chars()
            .flat_map(|c| {
                let k = c.to_string();
                [
                    json!({"type": "keyDown", "value": k}),
                    json!({"type": "keyUp", "value": k}),
                ]
            })
            .collect();
        let r = self.session_call(
            "POST",
            "/actions",
            Some(json!({"actions": [{"type": "key", "id": "clavier", "actions": actions}]})),
        );
        assert!(r.get("error").is_none(), "pressing keys: {r}");
    }

    /// Shift+Tab: the focus goes back one control.
    pub fn press_back_tab(&self) {
        let actions = json!([
            {"type": "keyDown", "value": SHIFT},
            {"type": "keyDown", "value": TAB},
            {"type": "keyUp", "value": TAB},
            {"type": "keyUp", "value": SHIFT},
        ]);
        let r = self.session_call(
            "POST",
            "/actions",
            Some(json!({"actions": [{"type": "key", "id": "clavier", "actions": actions}]})),
        );
        assert!(r.get("error").is_none(), "pressing Shift+Tab: {r}");
    }

    /// Presses Shift+Tab until `#id` has the focus (at most `limit` times).
    pub fn back_tab_to(&self, id: &str, limit: usize) {
        for _ in 0..limit {
            if self.focused() == id {
                return;
            }
            self.press_back_tab();
        }
        panic!(
            "#{id} not reached with {limit} presses of Shift+Tab; focus on #{}",
            self.focused()
        );
    }

    /// Waits until the focus is on an element whose id satisfies `ok`; returns the id.
    pub fn wait_focus(&self, ok: impl Fn(&str) -> bool) -> String {
        let mut last = String::new();
        for _ in 0..WAIT_POLLS {
            last = self.focused();
            if ok(&last) {
                return last;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the focus never went where expected; it is on #{last}");
    }

    /// The id of the element that has the keyboard focus ("" for none).
    pub fn focused(&self) -> String {
        self.run_async(
            "arguments[arguments.length - 1](document.activeElement ? document.activeElement.id : '')",
        )
        .as_str()
        .unwrap_or_default()
        .to_string()
    }

    /// Presses Tab until the element `#id` has the focus (at most `limit` times): proves it
    /// is reachable from the keyboard, in the order Tab follows.
    pub fn tab_to(&self, id: &str, limit: usize) {
        for _ in 0..limit {
            if self.focused() == id {
                return;
            }
            self.press(TAB);
        }
        panic!(
            "#{id} not reached with {limit} presses of Tab; focus on #{}",
            self.focused()
        );
    }

    /// Runs an async script (its last argument is the callback) and returns its result.
    /// What the viewport shows, as a PNG in base64 (as WebDriver gives it).
    pub fn screenshot_base64(&self) -> String {
        let shot = self.session_call("GET", "/screenshot", None);
        shot.as_str().expect("a screenshot").to_string()
    }

    /// Sizes the window (headless: the viewport) to `width` × `height` CSS pixels.
    pub fn resize(&self, width: u32, height: u32) {
        self.session_call(
            "POST",
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        );
    }

    /// The elements wider than the viewport reaches (their tag, id or class and right edge),
    /// and whether the page itself scrolls sideways: empty when nothing overflows.
    pub fn overflowing(&self) -> Vec<String> {
        let found = self.run_async(
            r##"const done = arguments[arguments.length - 1];
            const width = document.documentElement.clientWidth;
            const out = [];
            if (document.documentElement.scrollWidth > width + 1) {
              out.push(`page ${document.documentElement.scrollWidth} > ${width}`);
            }
            for (const e of document.querySelectorAll("body *")) {
              const r = e.getBoundingClientRect();
              if (r.width === 0 || r.right <= width + 1) continue;
              // Inside a box that scrolls by itself: not the page's overflow.
              let scrolled = false;
              for (let p = e.parentElement; p; p = p.parentElement) {
                const s = getComputedStyle(p);
                if ((s.overflowX === "auto" || s.overflowX === "scroll") && p.getBoundingClientRect().right <= width + 1) { scrolled = true; break; }
              }
              if (!scrolled) out.push(`${e.tagName.toLowerCase()}${e.id ? "#" + e.id : ""}${e.className && typeof e.className === "string" ? "." + e.className.split(" ").join(".") : ""} right ${Math.round(r.right)}`);
            }
            done(JSON.stringify(out.slice(0, 20)));"##,
        );
        serde_json::from_str(found.as_str().unwrap_or("[]")).unwrap_or_default()
    }

    pub fn run_async(&self, script: &str) -> Value {
        self.session_call(
            "POST",
            "/execute/async",
            Some(json!({"script": script, "args": []})),
        )
    }
}

const TAB: &str = "\u{E004}";
pub const ENTER: &str = "\u{E007}";
const SHIFT: &str = "\u{E008}";

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = request(
                self.addr,
                "DELETE",
                &format!("/session/{}", self.session),
                None,
            );
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}
