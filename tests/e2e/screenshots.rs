//! The screenshots of docs/screenshots, which the README shows: the main screens in
//! chromium, at 1280 px and on a phone (390 px). Not a check: run by hand after a change to
//! the screens, and look at them before committing.
//!
//! `LIVRET_SCREENSHOTS=docs/screenshots cargo test -p livret-cli --test e2e -- --ignored screenshots`

use std::path::PathBuf;

use crate::browser::put_kit_away;
use crate::support::{Relay, temp_dir};
use crate::sync::Device;
use crate::webdriver::Browser;

const PASSPHRASE: &str = "cheval agrafe pile correcte";

/// Saves what `browser` shows as `path` (PNG).
fn save(browser: &Browser, path: &std::path::Path) {
    let png = crate::smtp::decode_base64(browser.screenshot_base64().as_bytes()).expect("base64");
    std::fs::write(path, png).unwrap();
}

#[test]
#[ignore = "makes the README's screenshots; run by hand"]
fn screenshots() {
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(std::env::var("LIVRET_SCREENSHOTS").unwrap_or_else(|_| "target/screenshots".into()));
    std::fs::create_dir_all(&out).unwrap();
    let relay = Relay::start();
    let browser = Browser::start();
    browser.resize(1280, 900);
    browser.goto(&relay.url("/"));
    browser.wait_for("#phrase");
    save(&browser, &out.join("1-premier-lancement.png"));
    browser.type_into("#phrase", PASSPHRASE);
    browser.type_into("#phrase-confirmation", PASSPHRASE);
    browser.click("#creer-identite");
    let kit = browser.wait_text("[data-testid=kit-secours]", |t| {
        t.starts_with("LIVRET-SIGNING-KEY-1")
    });
    save(&browser, &out.join("2-kit-de-secours.png"));
    put_kit_away(&browser, &kit);
    // Once the built-in référentiels are read (the form waits for them).
    browser.wait_for("#referentiel option[value='002']");
    save(&browser, &out.join("3-accueil.png"));
    browser.click("#referentiel option[value='002']");
    browser.click("#creer-dossier");
    browser.type_into("#f-etat_civil-nom", "Durand");
    browser.type_into("#f-etat_civil-prenom", "Camille");
    browser.click("#ajouter-fiche");
    browser.type_into(
        "#f-fiches-0-intitule",
        "Astreinte et supervision du service de tri du courrier",
    );
    browser.type_into(
        "#f-fiches-0-taches",
        "J'ai branché les journaux de l'application sur Grafana, écrit les alertes Prometheus \
         (taux d'erreur, latence p95) et le runbook d'astreinte ; chaque incident remonte sur \
         Teams et nous en tirons un post-mortem.",
    );
    browser.wait_for("[data-testid=suggestions-0] li[data-code]");
    browser.run_async(
        "document.querySelector('[data-testid=suggestions-0]').scrollIntoView(); \
         arguments[arguments.length - 1]();",
    );
    save(&browser, &out.join("4-suggestions.png"));
    let dir = temp_dir("captures");
    let evidence = dir.join("attestation-formation-supervision.txt");
    std::fs::write(&evidence, "Attestation").unwrap();
    browser.type_into("#annexe-fichier", evidence.to_str().unwrap());
    browser.click("#ajouter-annexe");
    browser.wait_for("tr[data-annexe='1']");
    browser.run_async(
        "document.querySelector('[data-testid=annexes]').scrollIntoView(); \
         arguments[arguments.length - 1]();",
    );
    save(&browser, &out.join("5-annexes.png"));
    // The steps with what each still needs, and what is left, opened.
    browser.click("[data-testid=reste] summary");
    browser.run_async(
        "document.querySelector('[data-testid=avancement-etat_civil]').scrollIntoView({block: 'center'}); \
         arguments[arguments.length - 1]();",
    );
    save(&browser, &out.join("7-etapes.png"));
    // The members, named: this device and the recovery kit (named when the dossier was made).
    browser.click(".partage summary");
    browser.click("[data-testid=membres] li button[id^='nommer-']");
    browser.type_into(
        "[data-testid=membres] form.nommer input",
        "Mon ordinateur portable",
    );
    browser.click("[data-testid=membres] form.nommer button");
    browser.wait_text("[data-testid=membres]", |t| {
        t.contains("Mon ordinateur portable")
    });
    browser.run_async(
        "document.querySelector('[data-testid=membres]').scrollIntoView({block: 'center'}); \
         arguments[arguments.length - 1]();",
    );
    save(&browser, &out.join("8-membres.png"));
    // Someone else's change: an advisor (a CLI device here), named by the candidate, adds a
    // sentence to the fiche; the fiche says who, and its history shows it before and after.
    let advisor = Device::new("captures-conseil");
    browser.click(".partage-identite summary");
    browser.type_into("#partage-identite", &advisor.identity());
    browser.click("#partager");
    browser.wait_text(".partage-identite [role=status]", |t| {
        t == "Dossier partagé."
    });
    browser.wait_text("[data-testid=membres]", |t| t.contains("Accompagnateur"));
    browser.run_async(
        "const li = [...document.querySelectorAll('[data-testid=membres] li')] \
           .find(l => l.textContent.includes('Accompagnateur')); \
         li.querySelector(\"button[id^='nommer-']\").click(); \
         arguments[arguments.length - 1]();",
    );
    browser.type_into("[data-testid=membres] form.nommer input", "Camille Conseil");
    browser.click("[data-testid=membres] form.nommer button");
    browser.wait_text("[data-testid=membres]", |t| t.contains("Camille Conseil"));
    browser.wait_text("[data-testid=etat-synchro]", |t| {
        t.starts_with("Synchronisé avec le serveur")
    });
    let id = browser.attribute("article.livret", "data-dossier");
    advisor.run(&["dossier", "open", &id, "--relay", &relay.url("")]);
    let taches = advisor.run(&["dossier", "get", &id, "fiches.0.taches"]);
    advisor.run(&[
        "dossier",
        "set",
        &id,
        "fiches.0.taches",
        &format!("{taches} Chaque alerte renvoie à sa fiche du runbook."),
    ]);
    advisor.run(&["sync"]);
    browser.wait_text("[data-testid=modifie-par-fiche-0]", |t| {
        t.starts_with("Modifié par Camille Conseil")
    });
    browser.click("[data-testid=modifie-par-fiche-0] button");
    browser.click("[data-testid=historique-fiche-0] ol li:first-child details summary");
    browser.wait_for("[data-testid=historique-fiche-0] ol li:first-child .apres");
    browser.run_async(
        "document.querySelector('[data-testid=modifie-par-fiche-0]').scrollIntoView(); \
         window.scrollBy(0, -80); arguments[arguments.length - 1]();",
    );
    save(&browser, &out.join("9-historique.png"));
    browser.resize(390, 844);
    browser.run_async(
        "document.querySelector('#f-fiches-0-intitule').scrollIntoView(); \
         arguments[arguments.length - 1]();",
    );
    save(&browser, &out.join("6-telephone.png"));
}
