//! The app on a phone (390 px wide) and on a laptop (1280 px): the editor of a dossier with a
//! fiche, its compétences, an annexe and the récapitulatif fits the screen — nothing makes
//! the page scroll sideways — and axe-core finds no WCAG A/AA violation at either width.

use crate::browser::first_run;
use crate::support::Relay;
use crate::webdriver::Browser;

#[test]
fn the_editor_fits_a_phone_and_a_laptop_and_stays_accessible() {
    let relay = Relay::start();
    let browser = Browser::start();
    browser.resize(390, 844);
    browser.goto(&relay.url("/"));
    first_run(&browser);
    browser.wait_for("#referentiel");
    assert_eq!(
        browser.overflowing(),
        Vec::<String>::new(),
        "home at 390 px"
    );
    browser.click("#referentiel option[value='002']");
    browser.click("#creer-dossier");
    browser.click("#ajouter-fiche");
    browser.type_into(
        "#f-fiches-0-intitule",
        "Supervision du service de classification (astreinte, alertes, tableaux de bord)",
    );
    browser.type_into(
        "#f-fiches-0-taches",
        "J'ai branché les journaux de l'application sur Grafana, écrit les alertes Prometheus \
         et le runbook d'astreinte : https://wiki.exemple.fr/equipe-donnees/astreinte/runbook-classification-courrier",
    );
    for code in ["C20", "C11"] {
        browser.click(&format!("#cb-0-{code}"));
    }
    let dir = crate::support::temp_dir("largeurs");
    let evidence = dir.join("attestation-de-formation-a-la-supervision-des-modeles-2024.txt");
    std::fs::write(&evidence, "Attestation").unwrap();
    browser.type_into("#annexe-fichier", evidence.to_str().unwrap());
    browser.click("#ajouter-annexe");
    browser.wait_for("tr[data-annexe='1']");
    browser.wait_for("[data-testid=suggestions-0] li[data-code]");
    browser.wait_text("[data-testid=etat-sauvegarde]", |t| {
        t == "Enregistré sur cet appareil"
    });

    assert_eq!(
        browser.overflowing(),
        Vec::<String>::new(),
        "editor at 390 px"
    );
    browser.assert_accessible("editor at 390 px");
    browser.resize(1280, 900);
    assert_eq!(
        browser.overflowing(),
        Vec::<String>::new(),
        "editor at 1280 px"
    );
    browser.assert_accessible("editor at 1280 px");
}
