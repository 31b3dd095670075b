//! The dossier's template chosen in the app (issue 20): the certifier's model for its
//! certification, else the general one; a certifier's file imported (refused with its one
//! line when it does not read); the dossier opened in its template's words.

use livret_shared::template;

use crate::browser::first_run;
use crate::support::{Relay, temp_dir};
use crate::webdriver::Browser;

#[test]
fn a_dossier_is_made_with_the_template_chosen_or_imported() {
    let relay = Relay::start();
    let browser = Browser::start();
    browser.goto(&relay.url("/"));
    first_run(&browser);
    browser.wait_for("#referentiel");

    // RNCP37827: its certifier's model first, the general one too.
    browser.click("#referentiel option[value='002']");
    browser.wait_text("[data-testid=modele-aide]", |t| {
        t.starts_with("Modèle du certificateur SIMPLON")
    });
    assert!(browser.exists("#modele option[value='livret2-annexe5-rncp37827@2023-1']"));
    assert!(browser.exists("#modele option[value='dossier-validation-generique@1']"));
    // Another certification: the general one only, never SIMPLON's.
    browser.click("#referentiel option[value='003']");
    browser.wait_text("[data-testid=modele-aide]", |t| {
        t.starts_with("Modèle général de Livret")
    });
    assert!(!browser.exists("#modele option[value='livret2-annexe5-rncp37827@2023-1']"));
    browser.assert_accessible("home, template chooser");

    // A certifier's file: refused with its line when it does not read, else offered first
    // for its certification.
    let dir = temp_dir("browser-templates");
    let mut file: serde_json::Value = serde_json::from_str(template::generic().pinned).unwrap();
    file["id"] = "certificateur-x".into();
    file["version"] = "2026-2".into();
    file["certifier"] = "CERTIFICATEUR X".into();
    file["rncp"] = serde_json::json!(["38822"]);
    file["title"]["fr"] = "Dossier de validation du certificateur X".into();
    file["sections"][0]["title"]["fr"] = "Qui êtes-vous ?".into();
    let mut broken = file.clone();
    broken["sections"][0]["fields"][1]["kind"] = "signature".into();
    let bad = dir.join("modele-casse.json");
    std::fs::write(&bad, broken.to_string()).unwrap();
    browser.type_into("#modele-fichier", bad.to_str().unwrap());
    browser.click("#importer-modele");
    browser.wait_text("[data-testid=import-modele-etat][role=alert]", |t| {
        t.contains("modele-casse.json") && t.contains("type de champ « signature » inconnu")
    });
    let good = dir.join("modele-x.json");
    std::fs::write(&good, file.to_string()).unwrap();
    browser.type_into("#modele-fichier", good.to_str().unwrap());
    browser.click("#importer-modele");
    browser.wait_text("[data-testid=import-modele-etat]", |t| {
        t == "Modèle importé : « Dossier de validation du certificateur X » (version 2026-2), pour RNCP38822."
    });
    browser.wait_text("[data-testid=modele-aide]", |t| {
        t.starts_with("Modèle du certificateur CERTIFICATEUR X (version 2026-2)")
    });
    browser.click("#creer-dossier");
    browser.wait_text("[data-testid=modele]", |t| {
        t == "Modèle : Dossier de validation du certificateur X (version 2026-2)"
    });
    browser.wait_text("#titre-section-etat_civil", |t| t == "Qui êtes-vous ?");

    // Pinned: after a reload, the dossier opens in its template's words.
    browser.refresh();
    browser.type_into("#phrase", crate::browser::PASSPHRASE);
    browser.click("#deverrouiller");
    browser.wait_text("[data-testid=modele]", |t| t.contains("certificateur X"));
}
