//! The livret as steps (issue 26): the sommaire says how much of each step is filled, and
//! « Ce qu'il reste à faire » lists every question still owed with a way to it; both follow
//! what is typed and chosen.

use crate::browser::new_dossier_with_a_fiche;
use crate::support::Relay;
use crate::webdriver::Browser;

#[test]
fn each_step_says_how_far_it_is_and_what_is_left_leads_to_it() {
    let relay = Relay::start();
    let browser = Browser::start();
    new_dossier_with_a_fiche(&relay, &browser, "002");

    // A new dossier: nothing filled; the état civil asks twelve questions.
    let etat_civil = "[data-testid=avancement-etat_civil]";
    browser.wait_text(etat_civil, |t| t == "0 sur 12");
    browser.type_into("#f-etat_civil-nom", "Durand");
    browser.wait_text(etat_civil, |t| t == "1 sur 12");

    // Situation: one question until « En poste » asks the position, the employer, the
    // contract, the working time and the category.
    let situation = "[data-testid=avancement-situation]";
    browser.wait_text(situation, |t| t == "0 sur 1");
    browser.click("#f-situation-statut");
    browser.wait_text(situation, |t| t == "1 sur 6");

    // What is left: each owed question, a fiche's by its number, with a way to it.
    browser.click("[data-testid=reste] summary");
    let reste = "[data-testid=reste]";
    let said = browser.wait_text(reste, |t| t.contains("Fiche 1 — Contexte"));
    assert!(said.contains("Prénom(s)"), "{said}");
    assert!(
        !said.contains("Nom d’usage"),
        "an answered question is not owed: {said}"
    );
    browser.click(&format!(
        "{reste} li[data-champ='etat_civil.prenom'] button"
    ));
    browser.wait_focus(|id| id == "f-etat_civil-prenom");
    browser.click(&format!(
        "{reste} li[data-champ='situation.contrat'] button"
    ));
    browser.wait_focus(|id| id == "f-situation-contrat");
    // A fiche's compétences: to the picker's filter.
    browser.click(&format!(
        "{reste} li[data-champ='fiches.0.competences'] button"
    ));
    browser.wait_focus(|id| id == "filtre-0");
    browser.assert_accessible("the steps and what is left");

    // A step filled is marked done: the motivation asks one letter.
    browser.type_into("#f-motivation-lettre", "Valider dix ans de métier.");
    browser.wait_text("[data-testid=avancement-motivation]", |t| t == "✓ complet");
    browser.click("#langue");
    browser.wait_text("[data-testid=avancement-motivation]", |t| t == "✓ complete");
    browser.wait_text(etat_civil, |t| t == "1 of 12");
}
