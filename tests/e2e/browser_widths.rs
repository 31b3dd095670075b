//! The app on a phone (390 px wide) and on a laptop (1280 px): the editor of a dossier with a
//! fiche, its compétences, an annexe and the récapitulatif fits the screen — nothing makes
//! the page scroll sideways — and axe-core finds no WCAG A/AA violation at either width.

use crate::browser::{PASSPHRASE, first_run, kit_group_asked};
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

/// Every screen a candidate meets, at 390 and 1280 px: nothing scrolls sideways and axe-core
/// finds no WCAG A/AA violation.
fn fits_both_widths(browser: &Browser, screen: &str) {
    for (width, height) in [(390, 844), (1280, 900)] {
        browser.resize(width, height);
        assert_eq!(
            browser.overflowing(),
            Vec::<String>::new(),
            "{screen} at {width} px"
        );
        browser.assert_accessible(&format!("{screen} at {width} px"));
    }
}

#[test]
fn every_screen_fits_a_phone_and_a_laptop_and_stays_accessible() {
    let relay = Relay::start();
    let browser = Browser::start();
    browser.goto(&relay.url("/"));
    browser.wait_for("#phrase-confirmation");
    fits_both_widths(&browser, "first run");
    browser.type_into("#phrase", PASSPHRASE);
    browser.type_into("#phrase-confirmation", PASSPHRASE);
    browser.click("#creer-identite");
    let kit = browser.wait_text("[data-testid=kit-secours]", |t| {
        t.starts_with("LIVRET-SIGNING-KEY-1")
    });
    fits_both_widths(&browser, "recovery kit");
    browser.click("#kit-range");
    browser.wait_for("#kit-verification");
    fits_both_widths(&browser, "recovery kit check");
    browser.type_into("#kit-verification", &kit_group_asked(&browser, &kit));
    browser.click("#kit-verifier");
    browser.wait_for("#referentiel");
    fits_both_widths(&browser, "home");
    browser.click("#referentiel option[value='003']");
    browser.click("#creer-dossier");
    browser.click("#ajouter-fiche");
    browser.type_into("#f-fiches-0-intitule", "Accueil des usagers");
    browser.wait_text("[data-testid=etat-sauvegarde]", |t| {
        t == "Enregistré sur cet appareil"
    });
    // Every folded part of the editor unfolded: sharing and members, history, what is
    // left, the exports with the checklist, the bins, my data, deletion.
    browser.run_async(
        "document.querySelectorAll('details').forEach(d => { d.open = true; });
         setTimeout(() => arguments[arguments.length - 1](0), 1500);",
    );
    fits_both_widths(&browser, "editor, everything unfolded");
    browser.refresh();
    browser.wait_for("#deverrouiller");
    browser.run_async(
        "document.querySelectorAll('details').forEach(d => { d.open = true; });
         arguments[arguments.length - 1](0);",
    );
    fits_both_widths(&browser, "unlock, with the forgotten passphrase");
}
