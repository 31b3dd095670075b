//! The déclaration sur l'honneur's two boxes (issue 20, the template's ANNEXE 5): real
//! checkboxes, said by the checks before export while unticked, kept across a reload.

use crate::browser::{PASSPHRASE, new_dossier_with_a_fiche};
use crate::support::Relay;
use crate::webdriver::Browser;

#[test]
fn the_two_declaration_boxes_are_ticked_checked_and_kept() {
    let relay = Relay::start();
    let browser = Browser::start();
    new_dossier_with_a_fiche(&relay, &browser, "002");

    // Unticked: the checks before export say so and lead to the box.
    browser.click("#export-pdf summary");
    let cases = "[data-testid=verifications] li[data-champ='declaration.fraudes']";
    let said = browser.wait_text(cases, |t| t.contains("Les deux cases de la déclaration"));
    assert!(said.contains("À revoir"), "{said}");
    browser.click(&format!("{cases} button"));
    browser.wait_focus(|id| id == "f-declaration-fraudes");
    assert_eq!(
        browser.attribute("#f-declaration-fraudes", "type"),
        "checkbox"
    );

    // Ticked, both: the check is met.
    browser.click("#f-declaration-fraudes");
    browser.click("#f-declaration-exactitude");
    browser.wait_text(
        "[data-testid=verifications] li[data-champ='declaration.exactitude']",
        |t| t == "✓ Les deux cases de la déclaration sur l'honneur",
    );
    browser.assert_accessible("déclaration with its boxes ticked");

    // Kept: after a reload, still ticked.
    browser.refresh();
    browser.type_into("#phrase", PASSPHRASE);
    browser.click("#deverrouiller");
    browser.wait_checked("#f-declaration-fraudes", true);
    browser.wait_checked("#f-declaration-exactitude", true);
}
