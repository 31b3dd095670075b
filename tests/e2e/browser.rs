//! The web app in a real browser: wasm loads, the référentiel reader runs in it, the page
//! renders in French.

use crate::support::{Relay, chromium_dom};

#[test]
fn home_page_lists_the_built_in_referentiels() {
    let relay = Relay::start();
    let dom = chromium_dom(&relay.url("/"));
    assert!(
        dom.contains("Référentiels disponibles"),
        "app did not render:\n{dom}"
    );
    // Each card shows the competencies per bloc, computed in the browser by livret-shared.
    for shape in [
        "5 / 4 / 4 / 5",
        "5 / 4 / 4 / 3",
        "5 / 8 / 8",
        "7 / 5 / 6 / 6",
        "8 / 7 / 6 / 10",
    ] {
        assert!(dom.contains(shape), "missing {shape} in\n{dom}");
    }
    assert!(dom.contains("RNCP37827"));
    assert!(!dom.contains("Import impossible"));
}
