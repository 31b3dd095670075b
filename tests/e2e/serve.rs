//! `livret serve` answers on loopback with its health route and the embedded app.

use crate::support::{Relay, get};

#[test]
fn health_route_answers_json() {
    let relay = Relay::start();
    let r = get(relay.addr, "/api/v1/health");
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    let json: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(json["status"], "ok");
}

#[test]
fn unknown_api_routes_are_404() {
    let relay = Relay::start();
    assert_eq!(get(relay.addr, "/api/v1/nope").status, 404);
}

#[test]
fn app_files_are_served_with_their_media_types() {
    let relay = Relay::start();
    let health: serde_json::Value =
        serde_json::from_slice(&get(relay.addr, "/api/v1/health").body).unwrap();
    assert_eq!(
        health["app"], true,
        "the web app is not embedded: run scripts/build-app.sh before building livret"
    );
    let index = get(relay.addr, "/");
    assert_eq!(index.status, 200);
    assert!(
        index
            .header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(index.text().contains("<html lang=\"fr\">"));
    let wasm = get(relay.addr, "/livret_app_bg.wasm");
    assert_eq!(wasm.status, 200);
    assert_eq!(wasm.header("content-type"), Some("application/wasm"));
    assert_eq!(&wasm.body[..4], b"\0asm");
    let js = get(relay.addr, "/livret_app.js");
    assert!(
        js.header("content-type")
            .unwrap()
            .starts_with("text/javascript")
    );
    // Client-side routes fall back to the app; missing files do not.
    assert_eq!(get(relay.addr, "/dossiers/abc").status, 200);
    assert_eq!(get(relay.addr, "/absent.js").status, 404);
}

#[test]
fn the_relay_refuses_an_address_in_use() {
    let relay = Relay::start();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_livret"))
        .args(["serve", "--addr", &relay.addr.to_string(), "--data"])
        .arg(crate::support::temp_dir("second"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&relay.addr.to_string()), "{err}");
}
