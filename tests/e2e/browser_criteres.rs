//! The référentiel's assessment where candidates work (issue 20): under each compétence of
//! the picker, its criteria (each one citable by a fiche) and how it is assessed; the
//! récapitulatif shows the criteria cited and by which fiche.

use crate::browser::new_dossier_with_a_fiche;
use crate::support::Relay;
use crate::webdriver::Browser;

#[test]
fn a_fiche_cites_a_criterion_and_the_recapitulatif_shows_it() {
    let relay = Relay::start();
    let browser = Browser::start();
    new_dossier_with_a_fiche(&relay, &browser, "002");

    // Folded under the compétence: its criteria and its épreuve (C20 is assessed in E5).
    let details = ".competences details[data-code=C20]";
    browser.wait_for(details);
    assert!(
        !browser.displayed("#crit-0-C20-1"),
        "folded until asked for"
    );
    browser.click(&format!("{details} summary"));
    let shown = browser.wait_text(details, |t| t.contains("Critère 1 :"));
    assert!(shown.contains("Évaluation : E5"), "{shown}");
    // What the épreuve is and what it asks to present, as 002 prints them for E5.
    assert!(
        shown.contains("une application existante présentant au moins une erreur technique"),
        "{shown}"
    );
    assert!(shown.contains("À présenter à l’épreuve :"), "{shown}");
    assert!(shown.contains("présenter le diagnostic,"), "{shown}");
    browser.assert_accessible("compétence picker with a compétence's criteria unfolded");

    // Citing a criterion claims its compétence; the récapitulatif says who cites it.
    browser.click("#crit-0-C20-1");
    browser.wait_checked("#cb-0-C20", true);
    browser.wait_text("tr[data-code=C20]", |t| {
        t.contains("n° 1") && t.contains("1 cité")
    });
    browser.click("tr[data-code=C20] [data-testid=recap-criteres] summary");
    browser.wait_text("tr[data-code=C20] [data-testid=recap-criteres]", |t| {
        t.contains("fiche(s) n° 1")
    });

    // Unclaiming the compétence unclaims its criteria.
    browser.click("#cb-0-C20");
    browser.wait_checked("#crit-0-C20-1", false);
    browser.wait_text("tr[data-code=C20]", |t| t.contains("non couverte"));

    // In English too.
    browser.click("#crit-0-C20-2");
    browser.wait_checked("#cb-0-C20", true);
    browser.click("#langue");
    browser.wait_text(details, |t| {
        t.contains("Criterion 2:") && t.contains("Assessment:")
    });
}
