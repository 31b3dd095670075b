//! The recovery kit as a candidate meets it (issue 26): read in groups of four, saved as a
//! PDF made on the device (read back with pdftotext), checked once put away (a wrong answer
//! sends back to the kit), and reachable from the unlock screen when the passphrase is
//! forgotten: this device forgets its keys and gets the dossier back with the kit.

use crate::browser::put_kit_away;
use crate::support::{Relay, temp_dir};
use crate::sync::Device;
use crate::webdriver::Browser;

const PASSPHRASE: &str = "cheval agrafe pile correcte";
const NEW_PASSPHRASE: &str = "une autre phrase bien longue";

#[test]
fn the_recovery_kit_is_saved_as_a_pdf_checked_and_brings_back_a_forgotten_passphrase() {
    let relay = Relay::start();
    let browser = Browser::start();
    browser.goto(&relay.url("/"));
    browser.type_into("#phrase", PASSPHRASE);
    browser.type_into("#phrase-confirmation", PASSPHRASE);
    browser.click("#creer-identite");
    let kit = browser.wait_text("[data-testid=kit-secours]", |t| {
        t.starts_with("LIVRET-SIGNING-KEY-1")
    });
    // Groups of four after each prefix: nothing to copy across a line's end.
    let first_line = kit.lines().next().unwrap();
    let groups: Vec<&str> = first_line.split_whitespace().collect();
    assert_eq!(groups[0], "LIVRET-SIGNING-KEY-1");
    assert_eq!(groups.len(), 17, "{first_line}");
    assert!(groups[1..].iter().all(|g| g.len() == 4));

    // Saved as a PDF made here: its text holds the kit's groups.
    browser.click("#telecharger-kit");
    browser.wait_for("[data-testid=kit-pdf]");
    let base64 = browser.run_async(
        r#"const done = arguments[arguments.length - 1];
        fetch(document.querySelector("[data-testid=kit-pdf]").href)
          .then(r => r.arrayBuffer())
          .then(b => { let s = ""; for (const x of new Uint8Array(b)) s += String.fromCharCode(x); done(btoa(s)); })
          .catch(e => done("error " + e));"#,
    );
    let bytes = crate::smtp::decode_base64(base64.as_str().unwrap().as_bytes()).expect("base64");
    assert!(bytes.starts_with(b"%PDF-"));
    let path = temp_dir("kit-pdf").join("livret-kit-de-secours.pdf");
    std::fs::write(&path, &bytes).unwrap();
    let text = crate::pdf::text(&path, None, false);
    assert!(text.contains("Livret — kit de secours"), "{text}");
    for group in [groups[1], groups[16]] {
        assert!(text.contains(group), "{group} missing in\n{text}");
    }
    // The whole kit, spaces aside.
    let squeezed = |t: &str| t.split_whitespace().collect::<String>();
    for line in kit.lines() {
        assert!(
            squeezed(&text).contains(&squeezed(line)),
            "{line} missing in\n{text}"
        );
    }

    // Put away: the kit leaves the page and one of its groups is asked; a wrong answer
    // sends back to it.
    browser.click("#kit-range");
    browser.wait_for("#kit-verification");
    assert!(
        !browser.exists("[data-testid=kit-secours]"),
        "the kit is off the page"
    );
    browser.type_into("#kit-verification", "ZZZZ");
    browser.click("#kit-verifier");
    browser.wait_text("[role=alert]", |t| t.contains("Revoir le kit"));
    browser.assert_accessible("recovery kit, the check refused");
    browser.click("#revoir-kit");
    browser.wait_for("[data-testid=kit-secours]");
    browser.wait_focus(|id| id == "titre-kit");
    put_kit_away(&browser, &kit);

    // A dossier with something in it, on the server.
    browser.wait_for("#referentiel");
    browser.click("#referentiel option[value='002']");
    browser.click("#creer-dossier");
    browser.type_into("#f-etat_civil-nom", "Durand");
    browser.wait_text("[data-testid=etat-synchro]", |t| {
        t.starts_with("Synchronisé avec le serveur")
    });

    // The passphrase forgotten: from the unlock screen, with the kit — checked with the
    // server before anything is forgotten.
    browser.refresh();
    browser.wait_for("#phrase-oubliee");
    browser.click("#phrase-oubliee summary");
    browser.click("#repartir-avec-kit");
    browser.assert_accessible("unlock, passphrase forgotten");
    // A mangled kit, then another person's real key — one the server knows a dossier for:
    // refused, this device keeps its keys.
    let stranger = Device::new("kit-inconnu");
    stranger.run(&["dossier", "new", "--relay", &relay.url("")]);
    for (wrong, said) in [
        ("LIVRET-SIGNING-KEY-1abc".to_string(), "illisible"),
        (
            stranger.secret().to_secret_string().to_string(),
            "n'est pas celui du candidat de cet appareil",
        ),
    ] {
        browser.retype("#kit-oubli", &wrong);
        browser.click("#oublier-appareil");
        browser.wait_text("[role=alert]", |t| t.contains(said));
    }
    // Copied as printed, on one line, in lower case: spaces and case do not matter.
    browser.retype("#kit-oubli", &kit.replace('\n', " ").to_lowercase());
    browser.click("#oublier-appareil");
    browser.wait_for("#creer-identite");
    assert_eq!(browser.property("#mode-kit", "checked"), true);
    assert!(
        !browser.value("#kit").is_empty(),
        "the kit checked is carried over"
    );
    browser.type_into("#phrase", NEW_PASSPHRASE);
    browser.type_into("#phrase-confirmation", NEW_PASSPHRASE);
    browser.click("#creer-identite");
    browser.wait_text("[data-testid=annonce]", |t| {
        t == "Kit de secours accepté : 1 dossier(s) récupéré(s)."
    });
    browser.click("[data-testid=dossiers] button");
    browser.wait_value("#f-etat_civil-nom", "Durand");

    // The old passphrase opens nothing now; the new one does.
    browser.refresh();
    browser.wait_for("#phrase");
    browser.type_into("#phrase", PASSPHRASE);
    browser.click("#deverrouiller");
    browser.wait_text("[role=alert]", |t| t == "Phrase de passe incorrecte.");
    browser.retype("#phrase", NEW_PASSPHRASE);
    browser.click("#deverrouiller");
    browser.wait_value("#f-etat_civil-nom", "Durand");
}
