//! The template's answers to circle and its dates (issue 20, ANNEXE 5; issue 26, real date
//! and choice inputs): radio buttons and the browser's date input, the age worked out,
//! questions asked after the answer they follow, kept across a reload; free text of an
//! older version shown until the candidate chooses, and the choice reaching the others.

use livret_shared::date::Date;

use crate::browser::{PASSPHRASE, browser_member_of, new_dossier_with_a_fiche};
use crate::support::{Relay, sample_dossier, temp_dir};
use crate::sync::Device;
use crate::webdriver::Browser;

/// Types a day into a date input as a person would, key by key, in the order the browser's
/// language shows the day, month and year (the browser sends a change at each part typed).
fn type_day(browser: &Browser, css: &str, (year, month, day): (u32, u32, u32)) {
    let language = browser.run_async("arguments[arguments.length - 1](navigator.language)");
    let keys = if language.as_str().is_some_and(|l| l == "en-US") {
        format!("{month:02}{day:02}{year}")
    } else {
        format!("{day:02}{month:02}{year}")
    };
    browser.type_into(css, &keys);
}

#[test]
fn answers_are_chosen_dates_picked_and_follow_up_questions_asked() {
    let relay = Relay::start();
    let browser = Browser::start();
    new_dossier_with_a_fiche(&relay, &browser, "002");

    // Civilité: two radio buttons, one chosen.
    assert_eq!(browser.attribute("#f-etat_civil-civilite", "type"), "radio");
    browser.click("#f-etat_civil-civilite-monsieur");
    browser.wait_checked("#f-etat_civil-civilite-monsieur", true);
    browser.wait_checked("#f-etat_civil-civilite", false);

    // The birth date, picked: the template's « Âge » is worked out from it.
    assert_eq!(
        browser.attribute("#f-etat_civil-date_naissance", "type"),
        "date"
    );
    type_day(&browser, "#f-etat_civil-date_naissance", (1989, 4, 12));
    browser.wait_value("#f-etat_civil-date_naissance", "1989-04-12");
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let today = Date::of_ms(now_ms).iso();
    let (year, rest) = today.split_once('-').unwrap();
    let years = year.parse::<u32>().unwrap() - 1989 - u32::from(rest < "04-12");
    browser.wait_text("[data-testid=age]", |t| t == format!("Âge : {years} ans"));

    // Situation: the contract is asked once « En poste » is chosen, the percentage once
    // « Temps partiel » is; « Sans emploi » asks about France Travail instead.
    assert!(!browser.exists("#f-situation-contrat"));
    assert!(!browser.exists("#f-situation-inscrit_france_travail"));
    browser.click("#f-situation-statut");
    browser.click("#f-situation-contrat-cdi");
    browser.click("#f-situation-temps-partiel");
    browser.type_into("#f-situation-quotite", "80");
    browser.assert_accessible("situation with its follow-up questions");
    // Out of work: France Travail is asked; what was answered for work stays in sight,
    // said to apply no more, until it is cleared.
    browser.click("#f-situation-statut-sans_emploi");
    browser.click("#f-situation-inscrit_france_travail");
    let note = browser.wait_text("[data-testid=plus-demande-situation-quotite]", |t| {
        t.contains("ne s’applique plus")
    });
    assert!(note.contains("ne sera pas imprimée"), "{note}");
    browser.wait_for("[data-testid=plus-demande-situation-contrat]");
    assert!(!browser.exists("[data-testid=plus-demande-situation-inscrit_france_travail]"));
    browser.click("#effacer-situation-quotite");
    browser.wait_gone("#f-situation-quotite");
    // Back in work: the contract kept, the percentage cleared, no note.
    browser.click("#f-situation-statut");
    browser.wait_checked("#f-situation-contrat-cdi", true);
    browser.wait_gone("[data-testid=plus-demande-situation-contrat]");
    browser.wait_value("#f-situation-quotite", "");
    browser.type_into("#f-situation-quotite", "80");

    // Financement: « Précisez » once OPCO is chosen.
    assert!(!browser.exists("#f-financement-organisme"));
    browser.click("#f-financement-mode-opco");
    browser.type_into("#f-financement-organisme", "Atlas");

    // Kept: after a reload, every answer is as chosen.
    browser.wait_text("[data-testid=etat-sauvegarde]", |t| {
        t == "Enregistré sur cet appareil"
    });
    browser.refresh();
    browser.type_into("#phrase", PASSPHRASE);
    browser.click("#deverrouiller");
    browser.wait_checked("#f-etat_civil-civilite-monsieur", true);
    browser.wait_value("#f-etat_civil-date_naissance", "1989-04-12");
    browser.wait_checked("#f-situation-temps-partiel", true);
    browser.wait_value("#f-situation-quotite", "80");
    browser.wait_value("#f-financement-organisme", "Atlas");

    // In English, the same answers in its words.
    browser.click("#langue");
    browser.wait_text("label[for=f-etat_civil-civilite-monsieur]", |t| t == "Mr");
    browser.wait_text("[data-testid=age]", |t| t == format!("Age: {years}"));
    browser.resize(390, 844);
    browser.assert_accessible("answers and dates at 390 px");
    assert_eq!(browser.overflowing(), Vec::<String>::new());
}

/// A dossier whose answers were typed as free text (an older version, or an old export):
/// what is not an answer is shown as written above the choices until someone chooses, and
/// the choice made in the browser reaches the candidate's other device.
#[test]
fn free_text_of_an_older_version_is_shown_until_an_answer_is_chosen() {
    let relay = Relay::start();
    let mut old: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sample_dossier()).unwrap()).unwrap();
    old["sections"]["situation"]["statut"] = "Salariée en CDI".into();
    old["sections"]["etat_civil"]["civilite"] = "Mme".into();
    let file = temp_dir("answers-old-export").join("dossier.json");
    std::fs::write(&file, serde_json::to_vec(&old).unwrap()).unwrap();
    let candidate = Device::new("answers-candidate");
    let id = candidate.run(&[
        "dossier",
        "import",
        file.to_str().unwrap(),
        "--relay",
        &relay.url(""),
    ]);
    let id = id.trim();
    assert_eq!(
        candidate
            .run(&["dossier", "get", id, "situation.statut"])
            .trim(),
        "Salariée en CDI"
    );
    candidate.run(&["sync"]);

    let (browser, _) = browser_member_of(&relay, &candidate, id, "advisor");
    // « Mme » read as Madame; « Salariée en CDI » is no answer: said, nothing chosen.
    browser.wait_checked("#f-etat_civil-civilite", true);
    let note = browser.wait_text("#section-situation [data-testid=ecrit-avant]", |t| {
        t.contains("« Salariée en CDI »")
    });
    assert!(note.starts_with("Vous aviez écrit"), "{note}");
    browser.wait_checked("#f-situation-statut", false);
    browser.assert_accessible("an answer written before it was a choice");
    browser.click("#f-situation-statut");
    browser.wait_gone("#section-situation [data-testid=ecrit-avant]");
    browser.wait_text("[data-testid=etat-synchro]", |t| {
        t.starts_with("Synchronisé")
    });

    // The candidate's device reads the choice.
    let mut read = String::new();
    for _ in 0..50 {
        candidate.run(&["sync"]);
        read = candidate.run(&["dossier", "get", id, "situation.statut"]);
        if read.trim() == "en_poste" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert_eq!(read.trim(), "en_poste");
}
