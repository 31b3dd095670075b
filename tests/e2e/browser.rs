//! The web app in a real browser (Debian chromium driven through chromedriver) against a real
//! `livret serve`: first run, a whole fiche typed key by key, reload, unlock, all restored.

use livret_shared::envelope::{self, Channel, DossierId, Header, Kind, random_nonce};
use livret_shared::keys::{DeviceId, DeviceSecret, EpochKeys, MemberKey};
use livret_shared::membership::{self, Membership, Role};
use livret_shared::protocol::{ClientMsg, ServerMsg};

use crate::support::Relay;
use crate::sync::{Device, Raw, contains, files_under};
use crate::webdriver::{Browser, ENTER};

pub(crate) const PASSPHRASE: &str = "cheval agrafe pile correcte";
/// Typed into the dossier; must never be readable in the browser's storage.
const CANARY: &str = "CANARI-navigateur-7f3a";

/// Everything a candidate fills in one fiche activité (field → text typed).
const FICHE: &[(&str, &str)] = &[
    ("bloc", "Bloc 2"),
    (
        "intitule",
        "Mise en production d'un modèle de détection de fraude",
    ),
    (
        "entreprise",
        "Banque Populaire du Sud — direction des risques",
    ),
    ("periode", "septembre 2023 – juin 2024"),
    (
        "contexte",
        "L'équipe « données » comptait cinq personnes ; le modèle existant générait trop de faux positifs.",
    ),
    (
        "problematique",
        "Réduire les faux positifs de 30 % sans laisser passer davantage de fraudes.",
    ),
    (
        "taches",
        "J'ai repris le jeu d'entraînement, ré-étiqueté 4 000 cas, puis comparé trois modèles.",
    ),
    (
        "moyens",
        "Python, scikit-learn, MLflow ; un serveur GPU partagé.",
    ),
    ("frequence", "Quotidienne pendant neuf mois"),
    ("resultats", CANARY),
];

#[test]
fn a_candidate_writes_a_fiche_reloads_and_finds_everything() {
    let relay = Relay::start();
    let browser = Browser::start();
    browser.goto(&relay.url("/"));

    first_run(&browser);

    // The tab has an icon, drawn from the page itself (offline too).
    let icon = browser.run_async(
        r#"const done = arguments[arguments.length - 1];
        const link = document.querySelector("link[rel=icon]");
        if (!link) { done("no icon"); } else {
          const image = new Image();
          image.onload = () => done(image.naturalWidth > 0 ? "drawn" : "empty");
          image.onerror = () => done("unreadable");
          image.src = link.href;
        }"#,
    );
    assert_eq!(icon, "drawn");

    // Home, first visit: what a livret 2 is and the steps, before anything technical.
    let steps = browser.wait_text("[data-testid=premiers-pas]", |t| t.contains("quatre temps"));
    assert!(steps.contains("exportez-le en PDF"), "{steps}");

    // Home: the built-in référentiels, served beside the app as the relay's reader reads
    // them.
    let referentiels = browser.wait_text("[data-testid=referentiels]", |t| t.contains("RNCP37827"));
    for shape in [
        "4 blocs : 5, 4, 4 et 5 compétences (18 en tout)",
        "4 blocs : 5, 4, 4 et 3 compétences (16 en tout)",
        "3 blocs : 5, 8 et 8 compétences (21 en tout)",
        "4 blocs : 7, 5, 6 et 6 compétences (24 en tout)",
        "4 blocs : 8, 7, 6 et 10 compétences (31 en tout)",
    ] {
        assert!(
            referentiels.contains(shape),
            "missing {shape} in\n{referentiels}"
        );
    }
    assert!(
        browser
            .text("[data-testid=identite]")
            .starts_with("livret1:")
    );
    browser.assert_accessible("home");

    // A dossier for RNCP37827, then one whole fiche typed key by key.
    browser.click("#referentiel option[value='002']");
    browser.click("#creer-dossier");
    browser.click("#ajouter-fiche");
    for (field, text) in FICHE {
        browser.type_into(&format!("#f-fiches-0-{field}"), text);
    }
    // Compétences picked from the référentiel; the filter narrows the list as one types.
    browser.type_into("#filtre-0", "modèle");
    assert!(
        browser.displayed("#cb-0-C12"),
        "a C12 statement mentions modèles"
    );
    assert!(!browser.displayed("#cb-0-C1"), "C1 does not");
    // Typed without its accent: the same.
    browser.retype("#filtre-0", "modele");
    assert!(browser.displayed("#cb-0-C12"), "found without the accent");
    assert!(!browser.displayed("#cb-0-C1"));
    browser.retype("#filtre-0", "");
    for code in ["C6", "C7", "C8"] {
        browser.click(&format!("#cb-0-{code}"));
    }
    browser.wait_text("[data-testid=recap-total]", |t| {
        t.starts_with("3 compétence")
    });
    assert!(browser.text("tr[data-code=C7]").contains("n° 1"));
    assert!(browser.text("tr[data-code=C1]").contains("non couverte"));
    // What evidence to add: the certifier's examples, bloc by bloc, from the pinned référentiel.
    browser.click("[data-testid=preuves-attendues] summary");
    let examples = browser.wait_text("[data-testid=preuves-attendues]", |t| {
        t.contains("un dépôt Git en ligne accessible d'un projet d'encapsulation")
    });
    assert!(
        examples.contains("Bloc 1 — Réaliser la collecte")
            && examples.contains("Un script de récupération des données"),
        "{examples}"
    );
    browser.type_into("#f-etat_civil-nom", "Durand");
    browser.wait_text("[data-testid=etat-sauvegarde]", |t| {
        t == "Enregistré sur cet appareil"
    });
    browser.click(".partage summary");
    browser.assert_accessible("dossier editor");

    // What IndexedDB holds is sealed: the canary typed above is nowhere in it.
    let scan = browser.run_async(&format!(
        r#"const done = arguments[arguments.length - 1];
        const open = indexedDB.open("livret");
        open.onerror = () => done("error");
        open.onsuccess = () => {{
          const all = open.result.transaction("kv").objectStore("kv").getAll();
          all.onerror = () => done("error");
          all.onsuccess = () => {{
            let text = "";
            let bytes = 0;
            for (const v of all.result) {{
              bytes += v.length;
              text += new TextDecoder("latin1").decode(v);
            }}
            done({{ records: all.result.length, bytes, canary: text.includes("{CANARY}"),
                    plain: text.includes("Durand") || text.includes("fraude") }});
          }};
        }};"#
    ));
    // The locked keys, the dossier, and (once synced) how much of it the relay has.
    assert!(scan["records"].as_u64().unwrap() >= 2, "{scan}");
    assert!(scan["bytes"].as_u64().unwrap() > 1000, "{scan}");
    assert_eq!(
        scan["canary"], false,
        "the canary is stored in clear: {scan}"
    );
    assert_eq!(
        scan["plain"], false,
        "dossier text is stored in clear: {scan}"
    );

    // Reload: locked again; a wrong passphrase is refused, the right one restores it all.
    browser.refresh();
    browser.type_into("#phrase", "pas la bonne phrase");
    browser.click("#deverrouiller");
    browser.wait_text("[role=alert]", |t| t.contains("Phrase de passe incorrecte"));
    browser.assert_accessible("unlock (with an error)");
    browser.retype("#phrase", PASSPHRASE);
    browser.click("#deverrouiller");
    // The address named the dossier: unlocking comes straight back to it.
    browser.wait_for("#f-fiches-0-bloc");
    browser.click("#mes-dossiers");
    let list = browser.wait_text("[data-testid=dossiers]", |t| t.contains("1 fiche"));
    assert!(list.contains("Développeur"), "{list}");
    browser.click("[data-testid=dossiers] button");
    for (field, text) in FICHE {
        assert_eq!(
            browser.value(&format!("#f-fiches-0-{field}")),
            *text,
            "fiche field {field} after reload"
        );
    }
    assert_eq!(browser.value("#f-etat_civil-nom"), "Durand");
    for (code, picked) in [("C6", true), ("C7", true), ("C8", true), ("C9", false)] {
        assert_eq!(
            browser.property(&format!("#cb-0-{code}"), "checked"),
            serde_json::Value::Bool(picked),
            "{code} after reload"
        );
    }
    assert_eq!(
        browser.value("#f-projet_vae-rncp"),
        "RNCP37827",
        "the dossier names its certification"
    );
    // No annexe yet: the fiche's evidence picker says where to add them.
    assert!(
        browser
            .text("fieldset.preuves")
            .contains("Aucune annexe pour l'instant")
    );

    // The whole dossier as JSON, made in the browser: the file the link downloads is the
    // export format, with everything typed above.
    browser.click("#export-json summary");
    browser.click("#exporter-json");
    browser.wait_for("#telecharger-json");
    browser.assert_accessible("editor, JSON export ready");
    let exported = browser.run_async(
        r##"const done = arguments[arguments.length - 1];
        const link = document.querySelector("#telecharger-json");
        fetch(link.href).then(r => r.json()).then(j => done({
          download: link.getAttribute("download"), json: j
        }), e => done(String(e)));"##,
    );
    assert_eq!(exported["download"], "dossier-livret.json", "{exported}");
    let json = &exported["json"];
    assert_eq!(json["format"], "livret-dossier");
    assert_eq!(json["sections"]["etat_civil"]["nom"], "Durand");
    assert_eq!(json["referentiel"]["rncp"], "RNCP37827");
    for (field, text) in FICHE {
        assert_eq!(
            json["fiches"][0]["champs"][*field], *text,
            "{field} in the export"
        );
    }
    assert_eq!(
        json["fiches"][0]["champs"]["competences"],
        serde_json::json!(["C6", "C7", "C8"])
    );
}

/// First run: keys made on the device, locked by a passphrase (a mismatched confirmation is
/// refused first); then the recovery kit, shown once. Returns the kit.
pub(crate) fn first_run(browser: &Browser) -> String {
    browser.type_into("#phrase", PASSPHRASE);
    browser.type_into("#phrase-confirmation", "une autre phrase");
    browser.click("#creer-identite");
    browser.wait_text("[role=alert]", |t| t.contains("diffèrent"));
    browser.assert_accessible("first run (with an error)");
    browser.retype("#phrase-confirmation", PASSPHRASE);
    browser.click("#creer-identite");
    let kit = browser.wait_text("[data-testid=kit-secours]", |t| {
        t.starts_with("LIVRET-SIGNING-KEY-1")
    });
    browser.assert_accessible("recovery kit");
    put_kit_away(browser, &kit);
    browser.wait_for("[data-testid=identite]");
    kit
}

/// The group of `kit` the check after « J'ai rangé mon kit » asks for, read from its label
/// (« Le groupe n° 9 de la ligne 2… », or in English « Group no. 9 of line 2… »).
pub(crate) fn kit_group_asked(browser: &Browser, kit: &str) -> String {
    let label = browser.text("label[for=kit-verification]");
    let number: usize = label
        .split(|c: char| !c.is_ascii_digit())
        .find(|n| !n.is_empty())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no group number in « {label} »"));
    let line2 = kit.lines().nth(1).expect("two lines");
    line2
        .split_whitespace()
        .nth(number)
        .unwrap_or_else(|| panic!("no group {number} in {line2}"))
        .to_string()
}

/// « J'ai rangé mon kit », then the group asked typed back.
pub(crate) fn put_kit_away(browser: &Browser, kit: &str) {
    browser.click("#kit-range");
    browser.wait_for("#kit-verification");
    browser.type_into("#kit-verification", &kit_group_asked(browser, kit));
    browser.click("#kit-verifier");
}

/// A new browser device through its first run, given dossier `id` by `candidate` as
/// `role` (`advisor`, `juror`), and in it once synced; with its identity line.
pub(crate) fn browser_member_of(
    relay: &Relay,
    candidate: &Device,
    id: &str,
    role: &str,
) -> (Browser, String) {
    let browser = Browser::start();
    browser.goto(&relay.url("/"));
    first_run(&browser);
    let identity = browser.wait_text("[data-testid=identite]", |t| t.starts_with("livret1:"));
    candidate.run(&["dossier", "share", id, &identity, "--role", role]);
    browser.click("#rechercher-dossiers");
    browser.wait_text("[data-testid=recherche-dossiers]", |t| {
        t == "1 nouveau(x) dossier(s) reçu(s) du serveur."
    });
    browser.click("[data-testid=dossiers] button");
    browser.wait_text("[data-testid=etat-synchro]", |t| {
        t.starts_with("Synchronisé avec le serveur")
    });
    (browser, identity)
}

/// First run of a device that starts another way (`#mode-…`): another of the candidate's
/// devices, or one let in with the recovery kit.
fn first_run_as(browser: &Browser, mode: &str, kit: Option<&str>) {
    browser.click(&format!("#mode-{mode}"));
    if let Some(kit) = kit {
        browser.type_into("#kit", kit);
    }
    browser.type_into("#phrase", PASSPHRASE);
    browser.type_into("#phrase-confirmation", PASSPHRASE);
    browser.click("#creer-identite");
}

/// A new candidate in `browser` on `relay`: identity made, a dossier for the built-in
/// référentiel `seed` created, one fiche added.
pub(crate) fn new_dossier_with_a_fiche(relay: &Relay, browser: &Browser, seed: &str) {
    browser.goto(&relay.url("/"));
    first_run(browser);
    browser.wait_for("#referentiel");
    browser.click(&format!("#referentiel option[value='{seed}']"));
    browser.click("#creer-dossier");
    browser.click("#ajouter-fiche");
}

/// What the candidate types in the browser is sealed in wasm, stored by the relay as
/// ciphertext, and read by an advisor's native client the dossier was shared with.
#[test]
fn a_fiche_typed_in_the_browser_reaches_an_advisor_through_the_relay() {
    let relay = Relay::start();
    let browser = Browser::start();
    new_dossier_with_a_fiche(&relay, &browser, "003");
    browser.type_into("#f-fiches-0-contexte", CANARY);
    browser.type_into("#f-fiches-0-intitule", "Refonte de l'architecture");

    let advisor = Device::new("conseil");
    browser.click(".partage summary");
    browser.click(".partage-identite summary");
    browser.type_into("#partage-identite", &advisor.identity());
    browser.click("#partager");
    browser.wait_text(".partage-identite [role=status]", |t| {
        t == "Dossier partagé."
    });
    browser.wait_text("[data-testid=etat-synchro]", |t| {
        t == "Synchronisé avec le serveur"
    });

    let id = browser.attribute("article.livret", "data-dossier");
    assert_eq!(id.len(), 32, "{id}");
    advisor.run(&["dossier", "open", &id, "--relay", &relay.url("")]);
    assert_eq!(
        advisor.run(&["dossier", "get", &id, "fiches.0.contexte"]),
        CANARY
    );
    assert_eq!(
        advisor.run(&["dossier", "get", &id, "fiches.0.intitule"]),
        "Refonte de l'architecture"
    );

    // And back: the advisor's edit shows in the candidate's open dossier as soon as the
    // relay has it, with nothing clicked (the kept connection), and the status says so.
    advisor.run(&[
        "dossier",
        "set",
        &id,
        "fiches.0.moyens",
        "Ajouté par l'accompagnateur",
    ]);
    advisor.run(&["sync"]);
    browser.wait_value("#f-fiches-0-moyens", "Ajouté par l'accompagnateur");
    browser.wait_text("[data-testid=etat-synchro]", |t| {
        t == "Synchronisé avec le serveur — modifications reçues et fusionnées"
    });
    assert_eq!(browser.value("#f-fiches-0-contexte"), CANARY);
    // A compétence the advisor ticks shows ticked in the open fiche's picker too.
    let first_box = browser.attribute("fieldset.competences input[type=checkbox]", "id");
    let label = browser.text(&format!("label[for={first_box}]"));
    let code = label.split(" — ").next().unwrap();
    assert!(
        !browser
            .property(&format!("#{first_box}"), "checked")
            .as_bool()
            .unwrap()
    );
    advisor.run(&["dossier", "set", &id, "fiches.0.competences", code]);
    advisor.run(&["sync"]);
    browser.wait_checked(&format!("#{first_box}"), true);

    // Offline: the app itself still loads (kept by its service worker), with the edit that
    // came in kept on the device; what is typed stays there, the status says so; back
    // online, it syncs by itself (the app retries) and reaches the advisor.
    browser.set_offline(true);
    browser.refresh();
    // Every uncaught error from here on is kept: a reconnection that fails must not leave
    // the browser calling handlers the app dropped.
    in_page(
        &browser,
        "(() => { window.livretErrors = []; \
         addEventListener('error', e => window.livretErrors.push(String(e.message))); \
         return 'ok'; })()",
    );
    browser.type_into("#phrase", PASSPHRASE);
    browser.click("#deverrouiller");
    browser.wait_value("#f-fiches-0-moyens", "Ajouté par l'accompagnateur");
    browser.wait_text("[data-testid=etat-synchro]", |t| {
        t.starts_with("Hors ligne")
    });
    // The home's built-in référentiels come from the service worker's copy.
    browser.click("#mes-dossiers");
    browser.wait_text("[data-testid=referentiels]", |t| t.contains("RNCP37827"));
    assert!(browser.exists("#referentiel option[value='004']"));
    browser.click("[data-testid=dossiers] button");
    browser.type_into("#f-fiches-0-problematique", "Écrit dans le train");
    browser.wait_text("[data-testid=etat-synchro]", |t| {
        t.starts_with("Hors ligne")
    });
    // Saved on the device (the save may still be running when the status above shows).
    browser.wait_text("[data-testid=etat-sauvegarde]", |t| {
        t == "Enregistré sur cet appareil"
    });
    advisor.run(&["sync"]);
    assert_eq!(
        advisor.run(&["dossier", "get", &id, "fiches.0.problematique"]),
        "",
        "nothing left the browser while offline"
    );
    // RNCP38822's référentiel gives no examples of evidence: nothing is shown for them.
    assert!(!browser.exists("[data-testid=preuves-attendues]"));
    // Evidence added offline stays on the device, marked as waiting, and goes up by itself.
    let evidence_dir = crate::support::temp_dir("preuve-hors-ligne");
    let evidence = evidence_dir.join("organigramme.txt");
    std::fs::write(&evidence, format!("Organigramme — {CANARY}")).unwrap();
    browser.type_into("#annexe-fichier", evidence.to_str().unwrap());
    browser.click("#ajouter-annexe");
    browser.wait_text("[data-testid=annexe-etat]", |t| {
        t.starts_with("Annexe n° 1 ajoutée sur cet appareil ; elle partira au serveur")
    });
    assert!(
        browser
            .text("tr[data-annexe='1']")
            .contains("en attente d'envoi")
    );
    assert_eq!(complete_files_on_relay(&relay), 0);
    browser.set_offline(false);
    browser.wait_text("[data-testid=etat-synchro]", |t| {
        t == "Synchronisé avec le serveur"
    });
    // Up at the sync: the row stops saying it waits.
    browser.wait_text("tr[data-annexe='1']", |t| !t.contains("en attente d'envoi"));
    assert_eq!(
        in_page(&browser, "JSON.stringify(window.livretErrors)"),
        "[]",
        "no error while offline and back"
    );
    let mut uploaded = 0;
    for _ in 0..100 {
        uploaded = complete_files_on_relay(&relay);
        if uploaded == 1 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(uploaded, 1, "the file went up once back online");
    // Its size is written the way the language shown writes it, after a switch too.
    let size = std::fs::metadata(&evidence).unwrap().len();
    let row = "tr[data-annexe='1']";
    assert!(browser.text(row).contains(&format!("({size} o)")));
    browser.click("#langue");
    browser.wait_text(row, |t| t.contains(&format!("({size} B)")));
    browser.click("#langue");
    browser.wait_text(row, |t| t.contains(&format!("({size} o)")));
    let _ = std::fs::remove_dir_all(&evidence_dir);
    advisor.run(&["sync"]);
    assert_eq!(
        advisor.run(&["dossier", "get", &id, "fiches.0.problematique"]),
        "Écrit dans le train"
    );

    // The fiche gives the annexe as its evidence, ticked among the dossier's annexes: kept
    // as the file's id (its number may change), shown with its number.
    assert_eq!(
        browser.text("label[for=preuve-0-1]"),
        "Annexe n° 1 — organigramme.txt"
    );
    browser.click("#preuve-0-1");
    browser.wait_text("[data-testid=etat-synchro]", |t| {
        t == "Synchronisé avec le serveur"
    });
    // The récapitulatif shows the evidence behind each compétence the fiche claims.
    browser.wait_text(
        &format!("tr[data-code='{code}'] [data-testid=recap-annexes]"),
        |t| t == "n° 1",
    );
    advisor.run(&["sync"]);
    let preuves: Vec<String> =
        serde_json::from_str(&advisor.run(&["dossier", "get", &id, "fiches.0.preuves"])).unwrap();
    assert!(
        preuves.len() == 1
            && preuves[0].len() == 32
            && preuves[0].chars().all(|c| c.is_ascii_hexdigit()),
        "the fiche names the file: {preuves:?}"
    );

    // A juror, invited from the app, rates and releases the decision from the command
    // line: it shows in the candidate's open dossier by itself; the review does not.
    let juror = Device::new("jure-navigateur");
    if browser.property(".partage", "open").as_bool() != Some(true) {
        browser.click(".partage summary");
    }
    if browser.property(".partage-identite", "open").as_bool() != Some(true) {
        browser.click(".partage-identite summary");
    }
    browser.type_into("#partage-identite", &juror.identity());
    browser.click("#partage-role option[value='juror']");
    browser.click("#partager");
    let mut opened = (false, String::new());
    for _ in 0..100 {
        opened = juror.try_run(&["dossier", "open", &id, "--relay", &relay.url("")]);
        if opened.0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(opened.0, "the juror opens the dossier: {}", opened.1);
    juror.run(&[
        "jury",
        "rate",
        &id,
        code,
        "3",
        "--justification",
        JUSTIFICATION,
        "--name",
        "Jeanne Juré",
    ]);
    juror.run(&[
        "jury",
        "decide",
        &id,
        "--date",
        "2027-03-15",
        "--acquired",
        code,
        "--reasons",
        "Les autres compétences restent à démontrer.",
    ]);
    juror.run(&["sync"]);
    let issue = browser.wait_text("[data-testid=decision-issue]", |t| {
        t.starts_with("Validation")
    });
    let shown = browser.text("[data-testid=decision-jury]");
    assert!(
        shown.contains(&format!("{code} : acquise"))
            && shown.contains("Jury du 2027-03-15 : Jeanne Juré")
            && shown.contains("Motifs : Les autres compétences restent à démontrer."),
        "{issue}\n{shown}"
    );
    assert!(
        !browser.text("article.livret").contains(JUSTIFICATION),
        "the review stays the jury's"
    );

    for (path, bytes) in files_under(&relay.data) {
        for needle in [CANARY, JUSTIFICATION] {
            assert!(
                !contains(&bytes, needle.as_bytes()),
                "{needle} in {}",
                path.display()
            );
        }
    }
    assert!(
        !contains(&relay.output(), CANARY.as_bytes()),
        "canary in the relay's logs"
    );
}

/// A juror's justification: stays sealed for the jury.
const JUSTIFICATION: &str = "Justification-du-jure-4be1";

/// The accessibility check itself can fail: an unlabelled field and an image without text,
/// added to a page it passed, are reported.
#[test]
fn the_accessibility_check_reports_violations() {
    let relay = Relay::start();
    let browser = Browser::start();
    browser.goto(&relay.url("/"));
    browser.wait_for("#phrase");
    browser.assert_accessible("first run");
    browser.run_async(
        r#"const done = arguments[arguments.length - 1];
        document.querySelector("main").insertAdjacentHTML("beforeend",
            '<input type="text" id="sans-etiquette"><img src="/style.css">');
        done(true);"#,
    );
    let failure = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        browser.assert_accessible("first run, damaged")
    }))
    .expect_err("violations must be reported");
    let message = failure
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(message.contains("image-alt"), "{message}");
    assert!(message.contains("label"), "{message}");
}

/// One candidate, two browsers (two profiles: a laptop and a phone). The phone is paired
/// from the laptop with its identity line, finds the dossier on the relay, and both edit it
/// and converge. Then both are "lost": a third browser is let in with the recovery kit
/// printed at the laptop's first run, and finds everything.
#[test]
fn two_devices_of_one_candidate_converge_and_the_recovery_kit_lets_a_third_in() {
    let relay = Relay::start();
    let laptop = Browser::start();
    laptop.goto(&relay.url("/"));
    let kit = first_run(&laptop);
    laptop.click("#referentiel option[value='004']");
    laptop.click("#creer-dossier");
    laptop.type_into("#f-etat_civil-nom", "Durand");
    laptop.type_into("#f-motivation-lettre", CANARY);
    // Evidence: a 2.5 MB file, the canary inside, encrypted in the browser in three pieces.
    let evidence_dir = crate::support::temp_dir("preuve");
    let evidence = evidence_dir.join("attestation-employeur.txt");
    let mut content = "Attestation de l'employeur. ".repeat(100_000).into_bytes();
    content[1_500_000..1_500_000 + CANARY.len()].copy_from_slice(CANARY.as_bytes());
    std::fs::write(&evidence, &content).unwrap();
    laptop.type_into("#annexe-titre", "Attestation de l'employeur");
    laptop.type_into("#annexe-fichier", evidence.to_str().unwrap());
    laptop.click("#ajouter-annexe");
    laptop.wait_text("[data-testid=annexe-etat]", |t| {
        t == "Annexe n° 1 ajoutée et envoyée au serveur."
    });
    assert!(
        laptop
            .text("tr[data-annexe='1']")
            .contains("Attestation de l'employeur")
    );
    laptop.wait_text("[data-testid=etat-synchro]", |t| {
        t == "Synchronisé avec le serveur"
    });
    laptop.assert_accessible("editor with an annexe");
    laptop.click("#mes-dossiers");

    let phone = Browser::start();
    phone.goto(&relay.url("/"));
    first_run_as(&phone, "autre-appareil", None);
    let phone_identity = phone.wait_text("[data-testid=identite]", |t| t.starts_with("livret1:"));
    phone.wait_text("[data-testid=recherche-dossiers]", |t| {
        t == "Aucun nouveau dossier sur le serveur."
    });

    laptop.type_into("#appareil-identite", &phone_identity);
    laptop.click("#ajouter-appareil");
    laptop.wait_text("[data-testid=appareils-etat]", |t| {
        t == "Appareil ajouté à 1 dossier(s)."
    });
    laptop.assert_accessible("home, device paired");

    phone.click("#rechercher-dossiers");
    phone.wait_text("[data-testid=recherche-dossiers]", |t| {
        t == "1 nouveau(x) dossier(s) reçu(s) du serveur."
    });
    // The phone asks whether the laptop that made the dossier is the candidate's, showing
    // the code the laptop shows; confirmed, it is one of the candidate's devices.
    let laptop_code = laptop.text("[data-testid=code-securite]");
    phone.wait_for(&format!(
        "[data-testid=appareils-proposes] li[data-code='{laptop_code}']"
    ));
    phone.assert_accessible("home, a device to confirm");
    phone.click(".confirmer-appareil");
    phone.wait_gone("[data-testid=appareils-proposes]");
    phone.click("[data-testid=dossiers] button");
    phone.wait_value("#f-etat_civil-nom", "Durand");
    assert_eq!(phone.value("#f-motivation-lettre"), CANARY);
    // The phone never held the file: it comes from the relay, decrypted here, intact, and
    // one click hands it to the browser (the links the page clicks are noted).
    phone.run_async(
        "const done = arguments[arguments.length - 1];
         const click = HTMLAnchorElement.prototype.click;
         window.__livretDonnes = [];
         HTMLAnchorElement.prototype.click = function () {
           window.__livretDonnes.push(this.download);
           return click.call(this);
         };
         done(0);",
    );
    phone.click("#ouvrir-annexe-1");
    phone.wait_for("[data-testid=annexe-lien-1]");
    assert_eq!(
        phone.run_async("arguments[arguments.length - 1](window.__livretDonnes);"),
        serde_json::json!(["attestation-employeur.txt"]),
        "one click gives the file"
    );
    let opened = phone.run_async(&format!(
        r#"const done = arguments[arguments.length - 1];
        fetch(document.querySelector("[data-testid=annexe-lien-1]").href)
          .then(r => r.arrayBuffer())
          .then(b => done({{ size: b.byteLength,
                             canary: new TextDecoder("latin1").decode(b).includes("{CANARY}") }}))
          .catch(e => done({{ error: String(e) }}));"#
    ));
    assert_eq!(opened["size"], content.len(), "{opened}");
    assert_eq!(opened["canary"], true, "{opened}");

    // The phone makes the Livret 2 as PDF: the fonts come with the app, the annexe is
    // decrypted here; what the link downloads is the livret with what the laptop typed.
    phone.click("#export-pdf summary");
    // Before exporting, what a careful advisor would check: what is left says what to do
    // and leads to the field; filled in, it is ticked.
    let checks = phone.wait_text("[data-testid=verifications]", |t| {
        t.contains("À revoir avant de déposer")
    });
    assert!(
        checks.contains("À revoir — Le lieu de signature : Indiquez la commune"),
        "{checks}"
    );
    phone.click("[data-testid=verifications] li[data-champ='declaration.lieu'] button");
    phone.wait_focus(|id| id == "f-declaration-lieu");
    phone.type_into("#f-declaration-lieu", "Lyon");
    phone.wait_text(
        "[data-testid=verifications] li[data-champ='declaration.lieu']",
        |t| t == "✓ Le lieu de signature",
    );
    phone.assert_accessible("editor, checks before export");
    // What the progress says, noted as it changes: never « annexes 0/0 » for a livret
    // with an annexe (it used to, while the PDF module loaded).
    phone.run_async(
        "const done = arguments[arguments.length - 1];
         window.__livretProgression = [];
         new MutationObserver(() => {
           const said = document.querySelector('#export-pdf [aria-live=polite]');
           if (said) window.__livretProgression.push(said.textContent.trim());
         }).observe(document.querySelector('#export-pdf'), { childList: true, subtree: true, characterData: true });
         done(0);",
    );
    phone.click("#exporter-pdf");
    phone.wait_for("#telecharger-pdf");
    let said: Vec<String> = serde_json::from_value(
        phone.run_async("arguments[arguments.length - 1](window.__livretProgression);"),
    )
    .unwrap();
    assert!(!said.is_empty(), "no progress shown");
    assert!(
        said.iter().all(|s| s != "annexes 0/0"),
        "the progress said « annexes 0/0 »: {said:?}"
    );
    phone.assert_accessible("editor, PDF export ready");
    let made = phone.run_async(
        r##"const done = arguments[arguments.length - 1];
        const link = document.querySelector("#telecharger-pdf");
        fetch(link.href).then(r => r.arrayBuffer()).then(b => done({
          download: link.getAttribute("download"),
          hex: Array.from(new Uint8Array(b), x => x.toString(16).padStart(2, "0")).join(""),
          notices: document.querySelector("[data-testid=pdf-avertissements]").children.length,
        }), e => done({ error: String(e) }));"##,
    );
    // Named after the candidate (the laptop typed the nom).
    assert_eq!(made["download"], "livret-2-durand.pdf", "{}", made["error"]);
    assert_eq!(
        made["notices"], 0,
        "every annexe printed or listed from its file"
    );
    let pdf = evidence_dir.join("livret-2.pdf");
    std::fs::write(&pdf, hex::decode(made["hex"].as_str().unwrap()).unwrap()).unwrap();
    let text = crate::pdf::text(&pdf, None, false);
    for expected in [
        // Référentiel 004 names no RNCP number: Livret's general model.
        "DOSSIER DE VALIDATION VAE",
        "Durand",
        CANARY,
        "Annexe 1 — Attestation de l'employeur",
    ] {
        assert!(text.contains(expected), "{expected} not in the PDF: {text}");
    }
    let _ = std::fs::remove_dir_all(&evidence_dir);

    // Both have the dossier open and write, each in their own field, at the same time;
    // each sees the other's as it is typed, with no reload.
    laptop.click("[data-testid=dossiers] button");
    for device in [&phone, &laptop] {
        device.wait_text("[data-testid=etat-synchro]", |t| {
            t.starts_with("Synchronisé avec le serveur")
        });
    }
    phone.type_into("#f-etat_civil-prenom", "Camille");
    laptop.type_into("#f-etat_civil-ville", "Lyon");
    laptop.wait_value("#f-etat_civil-prenom", "Camille");
    phone.wait_value("#f-etat_civil-ville", "Lyon");
    // And both kept it: reopened, each copy has both.
    for device in [&phone, &laptop] {
        device.click("#mes-dossiers");
        device.click("[data-testid=dossiers] button");
        device.wait_value("#f-etat_civil-prenom", "Camille");
        device.wait_value("#f-etat_civil-ville", "Lyon");
        assert_eq!(device.value("#f-etat_civil-nom"), "Durand");
    }
    drop(phone);
    drop(laptop);

    // A new device with the kit: a mangled kit is refused before anything is made.
    let rescue = Browser::start();
    rescue.goto(&relay.url("/"));
    first_run_as(&rescue, "kit", Some("LIVRET-SIGNING-KEY-1abc"));
    rescue.wait_text("[role=alert]", |t| {
        t.contains("kit de secours est illisible")
    });
    rescue.retype("#kit", &kit);
    rescue.click("#creer-identite");
    rescue.wait_text("[data-testid=annonce]", |t| {
        t == "Kit de secours accepté : 1 dossier(s) récupéré(s)."
    });
    rescue.assert_accessible("home after recovery");
    rescue.click("[data-testid=dossiers] button");
    rescue.wait_value("#f-etat_civil-ville", "Lyon");
    assert_eq!(rescue.value("#f-etat_civil-prenom"), "Camille");
    assert_eq!(rescue.value("#f-motivation-lettre"), CANARY);
    // It writes as a device of its own, and the relay takes it.
    rescue.type_into("#f-etat_civil-code_postal", "69003");
    rescue.wait_text("[data-testid=etat-synchro]", |t| {
        t == "Synchronisé avec le serveur"
    });

    for (path, bytes) in files_under(&relay.data) {
        assert!(
            !contains(&bytes, CANARY.as_bytes()),
            "canary in {}",
            path.display()
        );
    }
}

/// Issue 19 item 6: a stranger who has seen the candidate's identity line makes a dossier of
/// their own and adds the candidate's device to it as an owner. The candidate's app brings
/// the dossier in but asks about its maker instead of taking it as one of the candidate's
/// keys; refused, it is not asked about again, and the candidate's next dossier has no
/// stranger among its owners (checked on the relay, which folds every membership log).
#[test]
fn a_stranger_who_adds_the_candidate_to_a_dossier_owns_none_of_the_candidates() {
    let relay = Relay::start();
    let candidate = Browser::start();
    candidate.goto(&relay.url("/"));
    first_run(&candidate);
    let identity = candidate.text("[data-testid=identite]");
    candidate.wait_text("[data-testid=recherche-dossiers]", |t| {
        t == "Aucun nouveau dossier sur le serveur."
    });

    // The stranger, with a client of their own: a dossier that adds the candidate's device
    // as an owner, and in it an envelope sealed with a key nobody was given (junk that
    // must not stop the candidate's search).
    let stranger = DeviceSecret::generate();
    let keys = EpochKeys::generate();
    let trap = DossierId::generate();
    let create = membership::create(trap, &stranger, &keys).unwrap();
    let state = Membership::from_log(std::slice::from_ref(&create)).unwrap();
    let candidate_id: DeviceId = identity.parse().unwrap();
    let add = membership::add(&state, &stranger, &candidate_id, Role::Owner, &keys).unwrap();
    let mut raw = Raw::connect(&relay, &stranger);
    raw.send(&ClientMsg::Create {
        entry: create.to_bytes(),
    });
    assert!(matches!(raw.recv(), ServerMsg::MembershipOk { .. }));
    raw.send(&ClientMsg::Membership {
        dossier: trap,
        entry: add.to_bytes(),
    });
    assert!(matches!(raw.reply(), ServerMsg::MembershipOk { .. }));
    let junk = envelope::seal(
        &Header {
            dossier: trap,
            epoch: 1,
            writer: stranger.signing_public(),
            counter: 1,
            parent: [0; 32],
            kind: Kind::Changes,
            channel: Channel::Dossier,
        },
        &EpochKeys::generate().content,
        random_nonce(),
        b"illisible",
        &stranger,
    );
    assert!(matches!(raw.push(&junk), ServerMsg::Ack { .. }));
    let stranger_id = stranger.id();

    candidate.click("#rechercher-dossiers");
    candidate.wait_text("[data-testid=recherche-dossiers]", |t| {
        t == "1 nouveau(x) dossier(s) reçu(s) du serveur."
    });
    let asked = format!(
        "[data-testid=appareils-proposes] li[data-code='{}']",
        stranger_id.safety_code()
    );
    candidate.wait_for(&asked);
    candidate.click(".refuser-appareil");
    candidate.wait_gone("[data-testid=appareils-proposes]");
    // Searching again does not ask again.
    candidate.click("#rechercher-dossiers");
    candidate.wait_text("[data-testid=recherche-dossiers]", |t| {
        t == "Aucun nouveau dossier sur le serveur."
    });
    assert!(!candidate.exists("[data-testid=appareils-proposes]"));

    candidate.click("#referentiel option[value='004']");
    candidate.click("#creer-dossier");
    candidate.type_into("#f-etat_civil-nom", "Durand");
    candidate.wait_text("[data-testid=etat-synchro]", |t| {
        t == "Synchronisé avec le serveur"
    });
    let db = rusqlite::Connection::open(relay.data.join("livret.sqlite3")).unwrap();
    let dossiers_of = |key: &MemberKey| -> i64 {
        db.query_row(
            "SELECT COUNT(*) FROM members WHERE member = ?1",
            [&key[..]],
            |r| r.get(0),
        )
        .unwrap()
    };
    assert_eq!(
        dossiers_of(&stranger_id.signing),
        1,
        "only the stranger's own"
    );
}

/// The fiches shown, in order: "place:legend" for each.
fn fiches_shown(browser: &Browser) -> Vec<String> {
    let shown = browser.run_async(
        r#"arguments[arguments.length - 1]([...document.querySelectorAll("fieldset.fiche")]
            .map(f => f.dataset.fiche + ":" + f.querySelector("legend").textContent
                      + ":" + f.querySelector("[id$='-intitule']").value));"#,
    );
    serde_json::from_value(shown).unwrap()
}

/// Keyboard only, from the first run to a reopened dossier: fiches are added, moved,
/// duplicated, deleted and the delete undone, focus following each action; the order
/// survives a reload.
#[test]
fn fiches_are_reordered_duplicated_and_deleted_from_the_keyboard_alone() {
    let relay = Relay::start();
    let browser = Browser::start();
    browser.goto(&relay.url("/"));
    browser.wait_for("#phrase");
    browser.tab_to("phrase", 20);
    browser.press(PASSPHRASE);
    browser.tab_to("phrase-confirmation", 3);
    browser.press(PASSPHRASE);
    browser.tab_to("creer-identite", 3);
    browser.press(ENTER);
    let kit = browser.wait_text("[data-testid=kit-secours]", |t| {
        t.starts_with("LIVRET-SIGNING-KEY-1")
    });
    browser.tab_to("kit-range", 10);
    browser.press(ENTER);
    // The kit leaves the page; one of its groups is asked, the focus already there.
    browser.wait_focus(|id| id == "kit-verification");
    browser.press(&kit_group_asked(&browser, &kit));
    browser.press(ENTER);
    // The form shows once the built-in référentiels are read.
    browser.wait_for("#referentiel option");
    browser.tab_to("creer-dossier", 40);
    browser.press(ENTER);

    browser.wait_for("#ajouter-fiche");
    for (n, title) in ["Paie", "Formation"].iter().enumerate() {
        browser.tab_to("ajouter-fiche", 600);
        browser.press(ENTER);
        // The new fiche's first field takes the focus.
        browser.wait_focus(|id| id == format!("f-fiches-{n}-bloc"));
        browser.tab_to(&format!("f-fiches-{n}-intitule"), 60);
        browser.press(title);
    }
    browser.wait_text("[data-testid=fiches-etat]", |t| t == "Fiche n° 2 ajoutée.");
    assert_eq!(
        fiches_shown(&browser),
        [
            "0:Fiche activité n° 1:Paie",
            "1:Fiche activité n° 2:Formation"
        ]
    );

    // Up: the fiche moves, numbers follow, the focus stays on its button.
    browser.back_tab_to("monter-1", 80);
    browser.press(ENTER);
    browser.wait_text("fieldset.fiche legend", |t| t == "Fiche activité n° 1");
    assert_eq!(
        fiches_shown(&browser),
        [
            "1:Fiche activité n° 1:Formation",
            "0:Fiche activité n° 2:Paie"
        ]
    );
    // At the top it can go up no more: the focus moves to its other arrow.
    assert_eq!(browser.property("#monter-1", "disabled"), true);
    browser.wait_focus(|id| id == "descendre-1");

    // Duplicate: the copy comes right after, with everything in it.
    browser.tab_to("dupliquer-1", 5);
    browser.press(ENTER);
    browser.wait_text("[data-testid=fiches-etat]", |t| {
        t == "Fiche n° 1 dupliquée : la copie est la fiche n° 2."
    });
    assert_eq!(
        fiches_shown(&browser),
        [
            "1:Fiche activité n° 1:Formation",
            "2:Fiche activité n° 2:Formation",
            "0:Fiche activité n° 3:Paie"
        ]
    );

    // Delete, then undo from the keyboard: the focus waits on the undo button.
    browser.tab_to("supprimer-0", 600);
    browser.press(ENTER);
    browser.wait_text("[data-testid=fiches-etat]", |t| {
        t.starts_with("Fiche n° 3 supprimée.")
    });
    browser.wait_focus(|id| id == "annuler-suppression");
    assert_eq!(fiches_shown(&browser).len(), 2);
    browser.assert_accessible("editor, fiche deleted");
    browser.press(ENTER);
    browser.wait_text("[data-testid=fiches-etat]", |t| t == "Suppression annulée.");
    assert_eq!(fiches_shown(&browser).len(), 3);
    // Deleted for good this time (the duplicate), to see it stays so.
    browser.tab_to("supprimer-2", 600);
    browser.press(ENTER);
    browser.wait_text("[data-testid=fiches-etat]", |t| {
        t.starts_with("Fiche n° 2 supprimée.")
    });

    // A second employer, from the keyboard: added after the first structure, the focus in
    // its name; deleted, the undo waits under the focus and brings it back whole.
    browser.back_tab_to("ajouter-structure", 600);
    browser.press(ENTER);
    let name = browser.wait_focus(|id| id.starts_with("f-structure-") && id.ends_with("-nom"));
    browser.press("Mutuelle du Rhône");
    browser.wait_text("[data-testid=autres-structure-etat]", |t| {
        t == "La structure n° 2 ajoutée."
    });
    assert_eq!(
        others_shown(&browser),
        ["Fiche descriptive de la structure (2):Mutuelle du Rhône"]
    );
    let place = in_page(
        &browser,
        "document.querySelector('fieldset.autre').dataset.autre",
    );
    let key = place.replace('.', "-");
    assert_eq!(name, format!("f-{key}-nom"));
    browser.back_tab_to(&format!("supprimer-{key}"), 5);
    browser.press(ENTER);
    browser.wait_text("[data-testid=autres-structure-etat]", |t| {
        t.starts_with("La structure n° 2 supprimée.")
    });
    browser.wait_focus(|id| id == "annuler-suppression-structure");
    assert!(others_shown(&browser).is_empty());
    browser.assert_accessible("editor, further structure deleted");
    browser.press(ENTER);
    browser.wait_text("[data-testid=autres-structure-etat]", |t| {
        t == "Suppression annulée."
    });
    // The focus is on the structure that came back.
    browser.wait_focus(|id| id == format!("supprimer-{key}"));
    assert_eq!(
        others_shown(&browser),
        ["Fiche descriptive de la structure (2):Mutuelle du Rhône"]
    );
    browser.wait_text("[data-testid=etat-sauvegarde]", |t| {
        t == "Enregistré sur cet appareil"
    });

    // Reload and unlock, still from the keyboard: back in the dossier, the order and the
    // delete held; then home and in again.
    browser.refresh();
    browser.wait_for("#phrase");
    browser.tab_to("phrase", 20);
    browser.press(PASSPHRASE);
    browser.press(ENTER);
    browser.wait_for("fieldset.fiche");
    assert_eq!(
        fiches_shown(&browser),
        [
            "1:Fiche activité n° 1:Formation",
            "0:Fiche activité n° 2:Paie"
        ]
    );
    browser.tab_to("mes-dossiers", 20);
    browser.press(ENTER);
    browser.wait_for("#ouvrir-0");
    browser.tab_to("ouvrir-0", 20);
    browser.press(ENTER);
    browser.wait_for("fieldset.fiche");
    assert_eq!(
        fiches_shown(&browser),
        [
            "1:Fiche activité n° 1:Formation",
            "0:Fiche activité n° 2:Paie"
        ]
    );
    assert!(
        browser
            .text(".corbeille summary")
            .contains("Fiches supprimées (1)")
    );
    assert_eq!(
        others_shown(&browser),
        ["Fiche descriptive de la structure (2):Mutuelle du Rhône"]
    );
    browser.assert_accessible("editor, reopened");
}

/// The further structures and postes on screen: each one's legend and name (or title).
fn others_shown(browser: &Browser) -> Vec<String> {
    let shown = browser.run_async(
        r#"arguments[arguments.length - 1]([...document.querySelectorAll("fieldset.autre")]
            .map(f => f.querySelector("legend").textContent + ":"
                      + f.querySelector("[id$='-nom'], [id$='-intitule']").value));"#,
    );
    serde_json::from_value(shown).unwrap()
}

/// Evidence files the relay holds whole.
fn complete_files_on_relay(relay: &Relay) -> i64 {
    let db = rusqlite::Connection::open(relay.data.join("livret.sqlite3")).unwrap();
    db.query_row("SELECT COUNT(*) FROM blobs WHERE complete = 1", [], |r| {
        r.get(0)
    })
    .unwrap()
}

/// A fixture's canonical path (a file input takes no `..`).
fn fixture(path: &str) -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/referentiels")
        .join(path)
        .canonicalize()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string()
}

/// Référentiels the certifier published, imported in the app: a PDF and an RNCP XML export
/// with two fiches, both read by the relay; bad files refused with the file's name and the
/// reason. The imported ones are kept, and a dossier targets one.
#[test]
fn referentiels_are_imported_in_the_app_from_pdf_and_rncp_xml() {
    let relay = Relay::start();
    let browser = Browser::start();
    browser.goto(&relay.url("/"));
    first_run(&browser);

    for (bad, reason) in [
        ("bad/lettre.txt", "lettre.txt"),
        ("bad/encrypted.pdf", "encrypted.pdf"),
        ("bad/invalid.xml", "invalid.xml"),
    ] {
        browser.type_into("#referentiel-fichier", &fixture(bad));
        browser.click("#importer-referentiel");
        browser.wait_text("[data-testid=import-etat][role=alert]", |t| {
            t.contains(reason)
        });
    }
    browser.assert_accessible("home, import refused");

    browser.type_into(
        "#referentiel-fichier",
        &fixture("pdf/002-developpeur-intelligence-artificielle-rncp37827.pdf"),
    );
    browser.click("#importer-referentiel");
    browser.wait_text("[data-testid=import-etat]", |t| {
        t.starts_with(
            "Importé : Développeur en intelligence artificielle (3 blocs : 5, 8 et 8 compétences)",
        )
    });
    browser.type_into(
        "#referentiel-fichier",
        &fixture("rncp/fiches-rncp37827-rncp38822.xml"),
    );
    browser.click("#importer-referentiel");
    let imported = browser.wait_text("[data-testid=import-etat]", |t| t.starts_with("Importé"));
    assert!(
        imported.contains("(3 blocs : 5, 8 et 8 compétences)"),
        "{imported}"
    );
    assert!(
        imported.contains("(4 blocs : 7, 5, 6 et 6 compétences)"),
        "{imported}"
    );
    // Five built in, three imported.
    let count = || {
        browser
            .run_async(
                "arguments[arguments.length - 1](document.querySelectorAll('[data-testid=referentiels] > li').length);",
            )
            .as_u64()
            .unwrap()
    };
    assert_eq!(count(), 8);

    // The last import is chosen for the next dossier: the XML's first fiche, RNCP37827.
    browser.click("#creer-dossier");
    browser.wait_value("#f-projet_vae-rncp", "RNCP37827");

    // Kept on the device: after a reload they are still there.
    browser.refresh();
    browser.type_into("#phrase", PASSPHRASE);
    browser.click("#deverrouiller");
    browser.click("#mes-dossiers");
    browser.wait_text("[data-testid=referentiels]", |t| t.contains("RNCP38822"));
    assert_eq!(count(), 8);
}

/// A référentiel the certifier published as a ruled table (compétences | critères |
/// modalités, cells wrapping over lines and rows over pages), imported in the app as a
/// candidate does: the picker shows each compétence's criteria as the document prints them —
/// a criterion introducing a list, then the next one, not the list's items taken for
/// criteria — and the modalité naming its épreuve.
#[test]
fn a_referentiel_printed_as_a_table_is_shown_as_the_document_prints_it() {
    let relay = Relay::start();
    let browser = Browser::start();
    browser.goto(&relay.url("/"));
    first_run(&browser);
    browser.type_into("#referentiel-fichier", &fixture("tables/002.pdf"));
    browser.click("#importer-referentiel");
    let imported = browser.wait_text("[data-testid=import-etat]", |t| t.starts_with("Importé"));
    assert!(
        imported.contains("(3 blocs : 5, 8 et 8 compétences)"),
        "{imported}"
    );
    // The import is chosen for the next dossier.
    browser.click("#creer-dossier");
    browser.click("#ajouter-fiche");
    let details = ".competences details[data-code=C4]";
    browser.wait_for(details);
    browser.click(&format!("{details} summary"));
    let shown = browser.wait_text(details, |t| t.contains("Critère 8 :"));
    for printed in [
        "Critère 7 : Les documentations techniques des scripts couvrent les parties suivantes :",
        "Critère 8 : Le registre des traitements de données personnelles intègre l'ensemble",
        "Critère 10 : Les procédures de tri détaillent les traitements de conformité",
    ] {
        assert!(shown.contains(printed), "{printed:?} not in {shown}");
    }
    assert!(!shown.contains("Critère 11"), "{shown}");
    // The list criterion 7 introduces, under it.
    for indicator in [
        "les dépendances nécessaires pour la réutilisation des scripts",
        "les commandes pour l'exécution des scripts.",
    ] {
        assert!(shown.contains(indicator), "{indicator:?} not in {shown}");
    }
    assert!(shown.contains("E1. Mise en situation"), "{shown}");
}

/// What a script `expression` gives on the page now, as text.
fn in_page(browser: &Browser, expression: &str) -> String {
    browser
        .run_async(&format!(
            "arguments[arguments.length - 1](String({expression}));"
        ))
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The language switch, on every screen: English chosen at the first run speaks on the
/// first-run, recovery kit, home and unlock screens (messages included, drawn again on a
/// switch), tells the page (`<html lang>`, the title), is kept across a reload, and French
/// comes back from the keyboard — and is kept in turn.
#[test]
fn the_app_speaks_english_when_asked_and_remembers_it() {
    let relay = Relay::start();
    let browser = Browser::start();
    browser.goto(&relay.url("/"));

    // French first; the switch is named in the language it offers, and marked so.
    browser.wait_text("#titre-bienvenue", |t| t == "Bienvenue");
    assert_eq!(in_page(&browser, "document.documentElement.lang"), "fr");
    assert_eq!(browser.text("#langue"), "English");
    assert_eq!(browser.attribute("#langue", "lang"), "en");

    browser.click("#langue");
    browser.wait_text("#titre-bienvenue", |t| t == "Welcome");
    assert_eq!(in_page(&browser, "document.documentElement.lang"), "en");
    assert_eq!(in_page(&browser, "document.title"), "Livret — VAE dossiers");
    assert_eq!(browser.text("#langue"), "Français");
    assert_eq!(browser.attribute("#langue", "lang"), "fr");
    for (css, english) in [
        (
            ".tagline",
            "Your VAE Livret 2, written at your own pace, even offline, end-to-end encrypted.",
        ),
        ("label[for=mode-premier]", "my first Livret device"),
        ("label[for=phrase]", "Passphrase for this device"),
        ("label[for=phrase-confirmation]", "Confirm the passphrase"),
        ("#creer-identite", "Create my keys"),
        (
            "footer",
            "The Livret server only ever sees encrypted data. Privacy",
        ),
    ] {
        assert_eq!(browser.text(css), english, "{css}");
    }
    // The privacy notice, readable before any key exists, in the language shown.
    browser.click("#voir-confidentialite");
    browser.wait_text("#confidentialite h2", |t| {
        t == "Privacy: what is kept, where, for how long"
    });
    assert!(
        browser
            .text("#confidentialite")
            .contains("Its logs name no dossier")
    );
    browser.click("#retour-confidentialite");
    browser.wait_text("#titre-bienvenue", |t| t == "Welcome");
    // A message is worded in the language shown, and in the other one after a switch.
    browser.type_into("#phrase", PASSPHRASE);
    browser.type_into("#phrase-confirmation", "another phrase");
    browser.click("#creer-identite");
    browser.wait_text("[role=alert]", |t| t == "The two passphrases differ.");
    browser.assert_accessible("first run, in English (with an error)");
    browser.click("#langue");
    browser.wait_text("[role=alert]", |t| {
        t == "Les deux phrases de passe diffèrent."
    });
    browser.click("#langue");
    browser.wait_text("[role=alert]", |t| t == "The two passphrases differ.");

    browser.retype("#phrase-confirmation", PASSPHRASE);
    browser.click("#creer-identite");
    browser.wait_text("#titre-kit", |t| t == "Your recovery kit");
    assert_eq!(browser.text("#imprimer-kit"), "Print the kit");
    assert_eq!(
        browser.text("#kit-range"),
        "I have put my kit away, continue"
    );
    browser.assert_accessible("recovery kit, in English");
    let kit = browser.text("[data-testid=kit-secours]");
    browser.click("#kit-range");
    let asked = browser.text("label[for=kit-verification]");
    assert!(
        asked.starts_with("Group no. ") && asked.ends_with("of line 2 of your kit (4 characters)"),
        "{asked}"
    );
    browser.type_into("#kit-verification", &kit_group_asked(&browser, &kit));
    browser.click("#kit-verifier");

    // Home: the relay's answer, headings, forms, the référentiels' cards; none of the
    // French left.
    browser.wait_text("[data-testid=recherche-dossiers]", |t| {
        t == "No new dossiers on the server."
    });
    // The new dossier's form shows once the built-in référentiels are read.
    browser.wait_for("#referentiel option");
    for (css, english) in [
        ("#titre-dossiers", "My dossiers"),
        ("#rechercher-dossiers", "Look for my dossiers"),
        ("#titre-nouveau", "New dossier"),
        ("label[for=referentiel]", "Target qualification"),
        ("#creer-dossier", "Create the dossier"),
        ("#titre-appareil", "My devices"),
        ("#ajouter-appareil", "Add this device"),
        ("#titre-referentiels", "Available frameworks (référentiels)"),
        ("#importer-referentiel", "Import"),
    ] {
        assert_eq!(browser.text(css), english, "{css}");
    }
    let meta = browser.text("[data-testid=referentiels] .meta");
    assert!(
        meta.ends_with("4 blocks: 5, 4, 4 and 5 skills (18 in all)"),
        "{meta}"
    );
    let home = browser.text("body");
    for french in [
        "Votre livret 2",
        "Mes dossiers",
        "Aucun dossier",
        "Nouveau dossier",
        "Certification visée",
        "Mes appareils",
        "Identité publique",
        "Référentiels disponibles",
        "Voir les blocs",
        "compétences",
        "Importer un référentiel",
        "Le serveur Livret",
    ] {
        assert!(
            !home.contains(french),
            "{french:?} on the English home:\n{home}"
        );
    }
    browser.assert_accessible("home, in English");

    // A dossier opens in the editor, the switch still above it.
    browser.click("#creer-dossier");
    browser.wait_for("#mes-dossiers");
    assert_eq!(browser.text("#langue"), "Français");
    assert_eq!(in_page(&browser, "document.documentElement.lang"), "en");
    // The editor in English: the template's sections and fields with their English words
    // and guidance, the fiche tools, the pickers, the annexes, the status line.
    assert_eq!(browser.text("#mes-dossiers"), "← My dossiers");
    assert_eq!(
        browser.text("#titre-section-etat_civil"),
        "Personal details"
    );
    browser.click("#ajouter-fiche");
    browser.wait_text("[data-testid=fiches-etat]", |t| {
        t == "Activity sheet no. 1 added."
    });
    assert_eq!(
        browser.text("fieldset.fiche legend"),
        "Activity sheet no. 1"
    );
    assert_eq!(browser.text("#dupliquer-0"), "Duplicate");
    assert_eq!(
        browser.text("label[for=f-fiches-0-intitule]"),
        // Référentiel 000 names no RNCP number: Livret's general model.
        "Activity title"
    );
    assert_eq!(browser.text("label[for=filtre-0]"), "Filter the skills");
    assert!(
        browser
            .text("fieldset.preuves")
            .contains("No annex yet: add the files in the Annexes section")
    );
    assert_eq!(browser.text("#ajouter-annexe"), "Add the files");
    browser.type_into("#f-fiches-0-intitule", "Migration vers le cloud");
    browser.wait_text("[data-testid=etat-sauvegarde]", |t| {
        t == "Saved on this device"
    });
    browser.wait_text("[data-testid=etat-synchro]", |t| {
        t == "Synced with the server"
    });
    let editor = browser.text("article.livret");
    for french in [
        "Fiche activité n°",
        "Ajouter une fiche activité",
        "Récapitulatif des compétences",
        "Pièces jointes au livret",
        "Filtrer les compétences",
    ] {
        assert!(!editor.contains(french), "{french:?} in the English editor");
    }
    browser.assert_accessible("editor, in English");

    // Reloaded: still English, the unlock screen and the session's refusal too.
    browser.refresh();
    browser.wait_text("#titre-deverrouiller", |t| t == "Unlock Livret");
    assert_eq!(in_page(&browser, "document.documentElement.lang"), "en");
    assert_eq!(browser.text("label[for=phrase]"), "Passphrase");
    assert_eq!(browser.text("#deverrouiller"), "Unlock");
    browser.type_into("#phrase", "not the right phrase");
    browser.click("#deverrouiller");
    browser.wait_text("[role=alert]", |t| t == "Incorrect passphrase.");
    browser.assert_accessible("unlock, in English (with an error)");

    // French again from the keyboard: the switch comes before the form, and keeps the focus.
    browser.back_tab_to("langue", 5);
    browser.press(ENTER);
    browser.wait_text("#titre-deverrouiller", |t| t == "Déverrouiller Livret");
    assert_eq!(browser.focused(), "langue");
    assert_eq!(in_page(&browser, "document.documentElement.lang"), "fr");
    assert_eq!(in_page(&browser, "document.title"), "Livret — dossiers VAE");
    assert_eq!(browser.text("#langue"), "English");
    assert_eq!(browser.attribute("#langue", "lang"), "en");

    // And kept in turn: reloaded, French; unlocked, home in French.
    browser.refresh();
    browser.wait_text("#titre-deverrouiller", |t| t == "Déverrouiller Livret");
    assert_eq!(in_page(&browser, "document.documentElement.lang"), "fr");
    browser.type_into("#phrase", PASSPHRASE);
    browser.click("#deverrouiller");
    browser.click("#mes-dossiers");
    browser.wait_text("#titre-dossiers", |t| t == "Mes dossiers");
    browser.wait_text("#creer-dossier", |t| t == "Créer le dossier");
}

/// Sharing from the app: the candidate invites by e-mail (a real SMTP server receives it),
/// the advisor opens the link in their own browser, both see the same safety code, the
/// candidate gives access, the dossier comes to the advisor by itself, and both then type in
/// one fiche — each sees the other's words as they are typed, in the same field too.
#[test]
fn an_advisor_invited_by_mail_co_edits_a_fiche_live() {
    let smtp = crate::smtp::SmtpServer::start();
    let relay = Relay::start_with(
        crate::support::temp_dir("relais-invitation-navigateur"),
        &["--smtp-url", &smtp.url()],
    );
    let candidate = Browser::start();
    candidate.goto(&relay.url("/"));
    first_run(&candidate);
    candidate.click("#referentiel option[value='002']");
    candidate.click("#creer-dossier");
    candidate.click("#ajouter-fiche");
    candidate.type_into("#f-fiches-0-contexte", CANARY);
    let id = candidate.attribute("article.livret", "data-dossier");
    candidate.click(".partage summary");
    candidate.type_into("#invitation-courriel", "camille.conseil@example.org");
    candidate.type_into("#invitation-nom", "Dominique Durand");
    candidate.click("#inviter");
    candidate.wait_text("[data-testid=invitation-etat]", |t| {
        t.starts_with("Invitation envoyée à camille.conseil@example.org")
    });
    candidate.assert_accessible("sharing, invitation sent");

    let mail = smtp.wait_for_messages(1).remove(0);
    assert_eq!(mail.to, ["camille.conseil@example.org"]);
    assert!(
        !contains(&mail.raw, CANARY.as_bytes()),
        "canary in the mail"
    );
    let link = mail
        .body
        .split_whitespace()
        .find(|w| w.contains("/#invitation="))
        .expect("a link")
        .to_string();

    let advisor = Browser::start();
    advisor.goto(&link);
    first_run(&advisor);
    let notice = advisor.wait_text("[data-testid=annonce]", |t| {
        t.starts_with("Invitation acceptée (accompagnateur)")
    });
    let code = notice
        .split("code de sécurité : ")
        .nth(1)
        .map(|rest| rest.chars().take(23).collect::<String>())
        .expect("a safety code");
    advisor.assert_accessible("home, invitation accepted");

    // The candidate sees the request by itself (the open sharing panel asks the relay) with
    // the same code, and gives access.
    let shown = candidate.wait_text("[data-testid=demandes]", |t| t.contains("Accompagnateur"));
    assert!(shown.contains(&code), "{shown} / {code}");
    candidate.assert_accessible("sharing, a request waiting");
    candidate.click("#donner-acces-0");
    candidate.wait_text("[data-testid=demandes]", |t| {
        t == "Aucune demande en attente."
    });

    // The dossier arrives on the advisor's home by itself, and opens.
    advisor.wait_text("[data-testid=dossiers]", |t| t.contains("Développeur"));
    advisor.click("[data-testid=dossiers] button");
    advisor.wait_value("#f-fiches-0-contexte", CANARY);
    for device in [&candidate, &advisor] {
        device.wait_text("[data-testid=etat-synchro]", |t| {
            t.starts_with("Synchronisé avec le serveur")
        });
    }

    // Live, both ways, and in one field at once.
    candidate.type_into("#f-fiches-0-taches", "Cadrage du besoin.");
    advisor.wait_value("#f-fiches-0-taches", "Cadrage du besoin.");
    advisor.type_into("#f-fiches-0-moyens", "Un serveur GPU partagé.");
    candidate.wait_value("#f-fiches-0-moyens", "Un serveur GPU partagé.");
    candidate.type_into("#f-fiches-0-taches", " Recueil des données.");
    advisor.type_into("#f-fiches-0-taches", " Relu par l'accompagnateur.");
    let merged =
        |v: &str| v.contains("Recueil des données.") && v.contains("Relu par l'accompagnateur.");
    for device in [&candidate, &advisor] {
        let mut last = String::new();
        for _ in 0..100 {
            last = device.value("#f-fiches-0-taches");
            if merged(&last) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        assert!(merged(&last), "both edits in one field: {last:?}");
        assert!(last.starts_with("Cadrage du besoin."), "{last:?}");
    }
    assert_eq!(
        candidate.value("#f-fiches-0-taches"),
        advisor.value("#f-fiches-0-taches"),
        "the same text on both"
    );

    // Presence: the advisor gives a name and goes to a field; the candidate sees who is in
    // the dossier and where, and the advisor sees the candidate (by safety code: they gave
    // no name).
    advisor.type_into("#mon-nom", ADVISOR_NAME);
    advisor.click("#f-fiches-0-resultats");
    candidate.wait_text("[data-testid=presents]", |t| {
        t.contains(&format!("{ADVISOR_NAME} (accompagnateur)"))
    });
    let here = candidate.wait_text("[data-testid=presence-f-fiches-0-resultats]", |t| {
        t.starts_with("Aussi ici : ") && t.contains(ADVISOR_NAME)
    });
    assert!(here.contains("au caractère 0 : « │ »"), "{here}");
    candidate.assert_accessible("editor, an advisor present");
    candidate.click("#f-fiches-0-moyens");
    advisor.wait_text("[data-testid=presents]", |t| t.contains("(candidat)"));
    advisor.wait_text("[data-testid=presence-f-fiches-0-moyens]", |t| {
        t.starts_with("Aussi ici : ")
    });
    // The advisor moves on: the marker follows.
    advisor.click("#f-fiches-0-frequence");
    candidate.wait_text("[data-testid=presence-f-fiches-0-frequence]", |t| {
        t.contains(ADVISOR_NAME)
    });
    assert_eq!(
        candidate.text("[data-testid=presence-f-fiches-0-resultats]"),
        "",
        "no longer in the field they left"
    );
    // Answers to choose are fields too: a radio focused (from the keyboard, nothing chosen)
    // says where the advisor is.
    in_page(
        &advisor,
        "(() => { document.querySelector('#f-etat_civil-civilite').focus(); return 'ok'; })()",
    );
    candidate.wait_text("[data-testid=presence-f-etat_civil-civilite]", |t| {
        t == format!("Aussi ici : {ADVISOR_NAME}")
    });

    // Comments: the advisor comments the fiche's résultats; the count shows on the
    // candidate's field by itself; the candidate reads it, answers and resolves the thread;
    // the advisor sees both.
    advisor.click("#commenter-f-fiches-0-resultats");
    advisor.assert_accessible("editor, comments unfolded");
    advisor.type_into("#nouveau-f-fiches-0-resultats", ADVISOR_COMMENT);
    advisor.click("#publier-f-fiches-0-resultats");
    let panel = "[data-testid=commentaires-f-fiches-0-resultats]";
    advisor.wait_text(panel, |t| t.contains(ADVISOR_COMMENT));
    candidate.wait_text("#commenter-f-fiches-0-resultats", |t| {
        t == "Commentaires (1)"
    });
    candidate.click("#commenter-f-fiches-0-resultats");
    let thread = candidate.wait_text(panel, |t| t.contains(ADVISOR_COMMENT));
    assert!(thread.contains(ADVISOR_NAME), "{thread}");
    candidate.assert_accessible("editor, a comment thread");
    // The advisor starts an answer it does not send yet: what arrives meanwhile keeps it.
    advisor.type_into(&format!("{panel} textarea.reponse"), "Brouillon en cours");
    candidate.type_into(&format!("{panel} textarea.reponse"), "Chiffres ajoutés.");
    candidate.click(&format!("{panel} button.repondre"));
    candidate.wait_text(panel, |t| t.contains("Chiffres ajoutés."));
    candidate.click(&format!("{panel} button.resoudre"));
    candidate.wait_text("#commenter-f-fiches-0-resultats", |t| {
        t == "Commentaires (1 résolu)"
    });
    advisor.wait_text(panel, |t| {
        t.contains("Chiffres ajoutés.") && t.contains("Résolu par ")
    });
    assert_eq!(
        advisor.value(&format!("{panel} textarea.reponse")),
        "Brouillon en cours",
        "an answer being typed survives the thread being drawn again"
    );

    // Names: the candidate names the advisor, whose own list then shows the name; the
    // candidate's recovery kit, made at the first run, is named as such.
    let member = format!("[data-testid=membres] li[data-code='{code}']");
    candidate.click(&format!("{member} button[id^='nommer-']"));
    candidate.type_into(&format!("{member} form.nommer input"), "Camille Conseil");
    candidate.assert_accessible("sharing, a member being named");
    candidate.click(&format!("{member} form.nommer button"));
    let list = candidate.wait_text("[data-testid=membres]", |t| {
        t.contains("Camille Conseil — Accompagnateur")
    });
    assert!(
        list.contains("Kit de secours (votre clé sur papier)"),
        "{list}"
    );
    advisor.click(".partage summary");
    advisor.wait_text("[data-testid=membres]", |t| {
        t.contains("Camille Conseil — Accompagnateur")
    });
    assert!(
        !advisor.exists("[data-testid=membres] button[id^='nommer-']"),
        "only the candidate names"
    );

    // Who changed what: the advisor adds a sentence to the fiche's context, which the
    // candidate wrote; the candidate's fiche says by whom (the name just given) and which
    // question, the field itself too, its history shows the edit before and after, and one
    // click undoes it — the candidate's own words back, on the advisor's screen too.
    // The candidate writes in the fiche first (its period), so the advisor's sentence is an
    // edit of its own, not the end of the advisor's earlier typing there.
    candidate.type_into("#f-fiches-0-periode", " 2024");
    advisor.wait_value(
        "#f-fiches-0-periode",
        &candidate.value("#f-fiches-0-periode"),
    );
    let context = candidate.value("#f-fiches-0-contexte");
    let relu = format!("{context} Relu par Camille.");
    advisor.type_into("#f-fiches-0-contexte", " Relu par Camille.");
    candidate.wait_value("#f-fiches-0-contexte", &relu);
    candidate.wait_text("[data-testid=modifie-par-fiche-0]", |t| {
        t.starts_with("Modifié par Camille Conseil le ") && t.contains("Contexte")
    });
    let mark = candidate.text("[data-testid=modifie-f-fiches-0-contexte]");
    assert!(
        mark.starts_with("Modifié par Camille Conseil le "),
        "{mark}"
    );
    assert!(!candidate.exists("[data-testid=modifie-f-fiches-0-periode]"));
    candidate.click("[data-testid=modifie-par-fiche-0] button");
    let history = "[data-testid=historique-fiche-0]";
    let listed = candidate.wait_text(&format!("{history} ol li"), |t| {
        t.starts_with("Camille Conseil — ")
    });
    assert!(listed.contains("Contexte"), "{listed}");
    candidate.click(&format!("{history} ol li:first-child details summary"));
    let before = candidate.wait_text(&format!("{history} ol li:first-child .avant"), |t| {
        t.starts_with("Avant")
    });
    assert!(before.ends_with(&context), "{before}");
    let after = candidate.text(&format!("{history} ol li:first-child .apres"));
    assert!(after.ends_with(&relu), "{after}");
    candidate.assert_accessible("editor, a fiche's history");
    candidate.click(&format!("{history} ol li:first-child > button"));
    candidate.wait_value("#f-fiches-0-contexte", &context);
    candidate.wait_text(&format!("{history} [role=status]"), |t| {
        t.starts_with("Modification de Camille Conseil du ")
            && t.contains("Contexte")
            && t.contains("comme avant elle.")
    });
    advisor.wait_value("#f-fiches-0-contexte", &context);
    // The latest edit is now the candidate's own: nothing flagged on the candidate's side;
    // the advisor's screen flags the candidate's undo.
    candidate.wait_gone("[data-testid=modifie-par-fiche-0]");
    assert!(!candidate.exists("[data-testid=modifie-f-fiches-0-contexte]"));
    advisor.wait_text("[data-testid=modifie-par-fiche-0]", |t| {
        t.starts_with("Modifié par le candidat le ") && t.contains("Contexte")
    });
    // Undoing an edit whose question changed again since says so first: the advisor adds a
    // word, the candidate then writes after it; undoing the advisor's word would take the
    // candidate's away too, so it asks, and nothing moves until « Annuler quand même ».
    let history_count = |b: &Browser| -> usize {
        let summary = b.text(&format!("{history} > summary"));
        summary
            .trim_end_matches(')')
            .rsplit('(')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{summary}"))
    };
    let listed_before = history_count(&candidate);
    advisor.type_into("#f-fiches-0-contexte", " Encore.");
    candidate.wait_value("#f-fiches-0-contexte", &format!("{context} Encore."));
    candidate.type_into("#f-fiches-0-contexte", " Moi.");
    let mine = format!("{context} Encore. Moi.");
    let second = format!("{history} ol li:nth-child(2)");
    // Read once typing pauses: two more edits, the advisor's word the second, alone.
    for _ in 0..100 {
        if history_count(&candidate) == listed_before + 2 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(history_count(&candidate), listed_before + 2);
    candidate.wait_text(&format!("{history} ol li:first-child .qui"), |t| {
        t.starts_with("Vous — ") && t.ends_with("— Contexte")
    });
    candidate.wait_text(&format!("{second} .qui"), |t| {
        t.starts_with("Camille Conseil — ") && t.ends_with("— Contexte")
    });
    candidate.click(&format!("{second} > button"));
    let asked = candidate.wait_text(&format!("{second} .confirmer"), |t| !t.is_empty());
    assert!(
        asked.starts_with("Modifié autrement depuis : Contexte."),
        "{asked}"
    );
    candidate.assert_accessible("editor, an undo to confirm");
    candidate.click(&format!("{second} .confirmer button.lien"));
    candidate.wait_gone(&format!("{second} .confirmer"));
    assert_eq!(
        candidate.value("#f-fiches-0-contexte"),
        mine,
        "kept as it is"
    );
    candidate.click(&format!("{second} > button"));
    candidate.click(&format!("{second} .confirmer button.secondaire"));
    candidate.wait_value("#f-fiches-0-contexte", &context);
    advisor.wait_value("#f-fiches-0-contexte", &context);

    // The candidate removes the advisor (after a confirmation): the advisor's app goes back
    // to its dossiers, says so, and keeps nothing of the dossier; what the candidate writes
    // next does not reach it.
    candidate.click(&format!("{member} button[id^='retirer-']"));
    candidate.assert_accessible("sharing, removal to confirm");
    candidate.click(&format!("{member} button[id^='confirmer-retrait-']"));
    candidate.wait_text("[data-testid=membres-etat]", |t| {
        t.starts_with("Accès retiré")
    });
    advisor.wait_text("[data-testid=annonce]", |t| {
        t.starts_with("Vous n'avez plus accès à ce dossier : le candidat a retiré cet appareil")
    });
    assert!(!advisor.exists("article.livret"), "the editor closed");
    assert_eq!(
        crate::deletion::browser_keys_naming(&advisor, &id),
        Vec::<String>::new(),
        "the removed device's copy is wiped"
    );
    candidate.type_into("#f-fiches-0-resultats", AFTER_REMOVAL);
    candidate.wait_text("[data-testid=etat-synchro]", |t| {
        t.starts_with("Synchronisé avec le serveur")
    });
    let members = candidate.text("[data-testid=membres]");
    assert!(!members.contains(&code), "{members}");

    // Reminders: the candidate sets the jury two days ahead from the app; the relay mails
    // one at once (the 7-day moment is past) and keeps the day-before one.
    let jury = crate::invitations::utc_date_in(2);
    in_page(
        &candidate,
        &format!(
            "(() => {{ const d = document.querySelector('#rappel-date'); d.value = '{jury}'; \
             d.dispatchEvent(new Event('input', {{ bubbles: true }})); return d.value; }})()"
        ),
    );
    candidate.type_into("#rappel-courriel", "dominique.durand@example.org");
    candidate.click("#programmer-rappels");
    let scheduled = candidate.wait_text("[data-testid=rappels-etat]", |t| {
        t.starts_with("Rappels programmés : ")
    });
    assert_eq!(
        scheduled.matches(", ").count(),
        1,
        "two reminders: {scheduled}"
    );
    candidate.assert_accessible("sharing, reminders scheduled");
    let mails = smtp.wait_for_messages(2);
    let reminder = &mails[1];
    assert_eq!(reminder.to, ["dominique.durand@example.org"]);
    assert_eq!(reminder.subject, "Rappel : votre jury VAE, dans 2 jours");
    assert!(reminder.body.contains(&jury), "{}", reminder.body);

    // « Mes données »: what the relay keeps of the dossier, as the relay says it (the
    // reminders' address, the removed advisor marked so, nothing of the text); then the
    // privacy notice, and back to the dossier.
    candidate.click("#donnees-relais summary");
    let held = candidate.wait_text("[data-testid=donnees-relais]", |t| {
        t.contains("dominique.durand@example.org")
    });
    assert!(held.contains("Appareil retiré"), "{held}");
    assert!(held.contains("Suppression prévue par le serveur"), "{held}");
    assert!(!held.contains(CANARY), "{held}");
    candidate.assert_accessible("my data, what the relay keeps");
    candidate.click("#confidentialite-dossier");
    candidate.wait_text("#confidentialite h2", |t| t.starts_with("Confidentialité"));
    candidate.assert_accessible("privacy notice");
    candidate.click("#retour-confidentialite");
    candidate.wait_text("article.livret h2", |t| t.starts_with("Livret 2"));

    // Neither the text nor the name (sealed like the rest) is readable on the relay.
    let logs = relay.output();
    for mail in &mails {
        for needle in [CANARY, AFTER_REMOVAL, ADVISOR_NAME, ADVISOR_COMMENT] {
            assert!(
                !contains(&mail.raw, needle.as_bytes()),
                "{needle} in a mail"
            );
        }
    }
    for needle in [CANARY, ADVISOR_NAME, AFTER_REMOVAL, ADVISOR_COMMENT] {
        assert!(
            !contains(&logs, needle.as_bytes()),
            "{needle} in the relay's logs"
        );
        for (path, bytes) in files_under(&relay.data) {
            assert!(
                !contains(&bytes, needle.as_bytes()),
                "{needle} in {}",
                path.display()
            );
        }
    }
}

/// Typed by the candidate after removing the advisor.
const AFTER_REMOVAL: &str = "Écrit après le retrait de l'accompagnateur.";

/// A name typed by the advisor, shown to the candidate through sealed presence messages.
const ADVISOR_NAME: &str = "Camille Conseil-Présence";
/// The advisor's comment: sealed for the candidate and advisors, never readable elsewhere.
const ADVISOR_COMMENT: &str = "Commentaire : chiffrer les résultats (CANARI-fil-2b9e).";

/// A juror's passage and comment typed in the browser: sealed for the jury.
const JURY_CANARY: &str = "CANARI-jure-navigateur-5c19";

/// A juror reviews in the browser while another reviews from the command line: the key the
/// first juror made reaches the browser once granted (asked for on the kept connection), the
/// other's review opens there; the browser's juror annotates a passage, links evidence,
/// rates, sees the jury's merged matrix with its disagreement, the annotation orphaned when
/// the candidate deletes its passage, and releases the decision. The other juror reads
/// all of it; the candidate reads the decision only; the relay reads nothing.
#[test]
fn a_juror_reviews_in_the_browser_beside_another_on_the_command_line() {
    let relay = Relay::start();
    let url = relay.url("");
    let candidate = Device::new("jury-nav-candidat");
    let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/dossiers/exemple-developpeuse-ia.json");
    let id = candidate.run(&[
        "dossier",
        "import",
        sample.to_str().unwrap(),
        "--relay",
        &url,
    ]);
    // Evidence files: a PDF (annexe 7) and an image (annexe 8), sealed and sent to the relay.
    let annexes = sample.parent().unwrap().join("annexes");
    for (file, titre, numero) in [
        ("attestation-formation-rgpd.pdf", "Attestation RGPD", "7"),
        ("tableau-de-bord.png", "Tableau de bord", "8"),
    ] {
        let got = candidate.run(&[
            "dossier",
            "attach",
            &id,
            annexes.join(file).to_str().unwrap(),
            "--title",
            titre,
        ]);
        assert_eq!(got, numero);
    }
    candidate.run(&["sync"]);
    let alice = Device::new("jury-nav-alice");
    candidate.share_with(&id, &alice, "juror", &url);
    alice.run(&[
        "jury",
        "rate",
        &id,
        "C1",
        "3",
        "--justification",
        "Scripts en production",
        "--name",
        "Alice Durand",
    ]);
    alice.run(&["jury", "link", &id, "--fiche", "1", "C1"]);
    alice.run(&["sync"]);

    let (browser, identity) = browser_member_of(&relay, &candidate, &id, "juror");
    browser.wait_for("[data-testid=examen-jury]");
    // The fields are read, not written, by a juror.
    assert_eq!(
        browser.property("#f-fiches-0-taches", "readOnly").as_bool(),
        Some(true)
    );
    // Alice's review waits for the jury key she holds; her next sync grants it.
    browser.wait_for("[data-testid=jury-cle]");
    alice.run(&["sync"]);
    browser.wait_text("#vue-matrice", |t| t.contains("Vue de Alice Durand"));

    browser.retype("#nom-jure", "Bruno Petit");
    // A passage of a fiche, selected in the field, annotated.
    let passage = "écrire les scripts d'extraction";
    let at = in_page(
        &browser,
        &format!(
            r##"(() => {{ const f = document.querySelector("#f-fiches-0-taches");
                const at = f.value.indexOf("{passage}");
                f.focus(); f.setSelectionRange(at, at + {}); return at; }})()"##,
            passage.chars().count()
        ),
    );
    assert_ne!(at, "-1");
    browser.click("#annoter-f-fiches-0-taches");
    browser.wait_text("[data-testid=passage]", |t| t == passage);
    browser.type_into(
        "#annotation-f-fiches-0-taches",
        &format!("Quels formats ? {JURY_CANARY}"),
    );
    browser.click("#enregistrer-annotation-f-fiches-0-taches");
    browser.wait_text(".annotations-champ [data-testid=annotation]", |t| {
        t.contains("[Bruno Petit]") && t.contains("en place")
    });
    // A passage of the PDF annexe's second page: the file fetched from the relay, decrypted
    // and its text read in the browser (by the PDF module), the passage selected in it.
    browser.click("#annexe-a-annoter option[value='7']");
    browser.click("#lire-annexe");
    browser.wait_text("[data-testid=annexe-ouverte]", |t| {
        t.starts_with("A7 — ") && t.ends_with("page(s)")
    });
    browser.click("#page-annexe option[value='2']");
    let selected = in_page(
        &browser,
        r##"(() => { const f = document.querySelector("#texte-page");
            const m = /pseudonymisation\s+d'un\s+jeu\s+de\s+courriers/.exec(f.value);
            if (!m) return "absent";
            f.focus(); f.setSelectionRange(m.index, m.index + m[0].length); return "ok"; })()"##,
    );
    assert_eq!(selected, "ok");
    browser.type_into("#annotation-annexe", &format!("Preuve de C4 {JURY_CANARY}"));
    browser.click("#enregistrer-annotation-annexe");
    browser.wait_text("[data-testid=annotation-annexe-etat]", |t| {
        t == "Annotation enregistrée."
    });
    // A region of the image, typed in percent (the keyboard's way; the mouse draws it too).
    browser.click("#annexe-a-annoter option[value='8']");
    browser.click("#lire-annexe");
    browser.wait_text("[data-testid=annexe-ouverte]", |t| t == "A8 — image");
    browser.type_into("#annotation-annexe", "Quel indicateur ?");
    browser.click("#enregistrer-annotation-annexe");
    browser.wait_text("[data-testid=annotation-annexe-etat]", |t| {
        t.starts_with("La région doit être tracée")
    });
    for (input, percent) in [
        ("#region-x", "10"),
        ("#region-y", "20"),
        ("#region-l", "50"),
        ("#region-h", "30"),
    ] {
        browser.retype(input, percent);
    }
    browser.wait_for(".image-annexe .region");
    browser.click("#enregistrer-annotation-annexe");
    browser.wait_text("[data-testid=annotation-annexe-etat]", |t| {
        t == "Annotation enregistrée."
    });
    browser.wait_text(".annotations", |t| {
        t.contains("pseudonymisation d'un jeu de courriers") && t.contains("Quel indicateur ?")
    });
    browser.assert_accessible("an annexe annotated");

    // Evidence linked, compétences rated (justification first: saved with the rating).
    browser.click("#lien-a2-C4");
    browser.type_into(
        "#justification-C1",
        "Peu de preuves du passage en production",
    );
    browser.click("#note-C1 option[value='1']");
    browser.click("#note-C4 option[value='2']");
    browser.wait_text("[data-testid=etat-sauvegarde]", |t| {
        t == "Enregistré sur cet appareil"
    });
    browser.assert_accessible("juror's review");

    // The jury's merged view: both ratings of C1, their disagreement, who linked what.
    browser.click("#vue-matrice option[value='jury']");
    let c1 = browser.wait_text("tr[data-code='C1'] [data-testid=notes]", |t| {
        t.contains("Alice Durand : 3 maîtrise")
    });
    assert!(
        c1.contains("Bruno Petit : 1 en cours d'acquisition"),
        "{c1}"
    );
    assert_eq!(
        browser.text("tr[data-code='C1'] [data-testid=drapeaux]"),
        "Désaccord"
    );
    assert!(
        browser
            .attribute("tr[data-code='C1']", "class")
            .contains("desaccord")
    );
    // A compétence nobody linked evidence to is a gap, said in words.
    assert!(
        browser
            .text("[data-testid=matrice]")
            .contains("Lacune : aucune preuve")
    );
    browser.assert_accessible("the jury's merged matrix");

    // Alice reads Bruno's review from the browser: rating, link, annotation.
    browser.wait_text("[data-testid=etat-synchro]", |t| {
        t.starts_with("Synchronisé avec le serveur")
    });
    let mut seen = String::new();
    for _ in 0..50 {
        alice.run(&["sync"]);
        seen = alice.run(&["jury", "coverage", &id]);
        if seen.contains("Bruno Petit: 1 en cours d'acquisition") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let merged = seen
        .split("== Jury (toutes les vues)")
        .nth(1)
        .unwrap_or_default();
    let c1 = merged
        .lines()
        .find(|l| l.starts_with("C1 |"))
        .unwrap_or_default();
    assert!(
        c1.contains("Alice Durand: 3 maîtrise")
            && c1.contains("Bruno Petit: 1 en cours d'acquisition")
            && c1.contains("DÉSACCORD"),
        "{seen}"
    );
    let c4 = merged
        .lines()
        .find(|l| l.starts_with("C4 |"))
        .unwrap_or_default();
    assert!(c4.contains("Annexe 2 (Bruno Petit)"), "{c4}");
    let notes = alice.run(&["jury", "annotations", &id]);
    assert!(
        notes.contains(&format!(
            "[Bruno Petit] en place fiches.0.taches « {passage} » : Quels formats ? {JURY_CANARY}"
        )),
        "{notes}"
    );
    assert!(
        notes.contains(&format!(
            "[Bruno Petit] sur la pièce annexe 7 page 2 « pseudonymisation d'un jeu de courriers » : Preuve de C4 {JURY_CANARY}"
        )),
        "{notes}"
    );
    assert!(
        notes.contains(
            "[Bruno Petit] sur la pièce annexe 8 région 0.1,0.2,0.5,0.3 : Quel indicateur ?"
        ),
        "{notes}"
    );

    // The candidate rewrites the tasks without the passage: in the juror's open dossier the
    // annotation is reported orphaned, not lost.
    candidate.run(&[
        "dossier",
        "set",
        &id,
        "fiches.0.taches",
        "Recenser les sources ; modéliser l'entrepôt PostgreSQL.",
    ]);
    candidate.run(&["sync"]);
    let orphan = browser.wait_text(
        ".annotations [data-testid=annotation][data-etat=orpheline]",
        |t| t.contains("[Bruno Petit]"),
    );
    assert!(
        orphan.contains("orpheline") && orphan.contains(passage),
        "{orphan}"
    );

    // The decision, proposed from the ratings (C1: one 3, one 1, not a majority), released.
    browser.click("#formulaire-decision summary");
    assert_eq!(
        browser.property("#acquise-C1", "checked").as_bool(),
        Some(false)
    );
    assert_eq!(
        browser.property("#acquise-C4", "checked").as_bool(),
        Some(true)
    );
    browser.click("#publier-decision");
    browser.wait_text("[data-testid=decision-etat]", |t| {
        t == "Indiquez la date du jury."
    });
    in_page(
        &browser,
        r##"document.querySelector("#decision-date").value = "2027-03-15""##,
    );
    browser.click("#publier-decision");
    browser.wait_text("[data-testid=decision-etat]", |t| {
        t.starts_with("Donnez les motifs")
    });
    browser.type_into("#decision-motifs", "C1 reste à démontrer.");
    browser.click("#publier-decision");
    browser.wait_text("[data-testid=decision-etat]", |t| {
        t.starts_with("Décision publiée")
    });
    browser.wait_text("[data-testid=etat-synchro]", |t| {
        t.starts_with("Synchronisé avec le serveur")
    });
    let mut decision = String::new();
    for _ in 0..50 {
        candidate.run(&["sync"]);
        decision = candidate.run(&["dossier", "decision", &id]);
        if decision.contains("2027-03-15") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert!(
        decision.starts_with("Validation")
            && decision.contains("C4 : acquis")
            && decision.contains("C1 : non acquis")
            && decision.contains("Alice Durand")
            && decision.contains("Bruno Petit")
            && decision.contains("C1 reste à démontrer."),
        "{decision}"
    );
    assert!(!decision.contains(JURY_CANARY), "{decision}");

    // The jury session this dossier sits in, made on the command line by its manager and
    // shared with the juror: the browser lists it apart from the dossiers and shows the
    // jury, the candidate with the decision released, and the référentiel's rule the jury
    // breaks (002 asks two professionals with two years' experience).
    let manager = Device::new("jury-nav-responsable");
    let referentiel = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/referentiels/002-developpeur-intelligence-artificielle-rncp37827.txt");
    let session = manager.run(&[
        "jury",
        "session",
        "new",
        "--relay",
        &url,
        "--referentiel",
        referentiel.to_str().unwrap(),
        "--certification",
        "Développeur en intelligence artificielle",
        "--debut",
        "2027-03-15",
    ]);
    for (nom, prenom, poste, years) in [
        ("Durand", "Alice", "Ingénieure ML", "6"),
        ("Petit", "Bruno", "Formateur", "1"),
    ] {
        manager.run(&[
            "jury",
            "session",
            "member",
            &session,
            "--nom",
            nom,
            "--prenom",
            prenom,
            "--poste",
            poste,
            "--professionnel",
            "--experience",
            years,
            "--externe",
        ]);
    }
    manager.run(&[
        "jury", "session", "add", &session, &id, "--nom", "Martin", "--prenom", "Camille",
    ]);
    manager.run(&["sync"]);
    manager.run(&["dossier", "share", &session, &identity, "--role", "juror"]);
    // Home looks for new dossiers by itself, and lists the session apart.
    browser.click("#mes-dossiers");
    browser.wait_for("[data-testid=sessions] button");
    browser.click("[data-testid=sessions] button");
    let page = browser.wait_text("[data-testid=session-jury]", |t| {
        t.contains("Camille MARTIN")
    });
    for expected in [
        "Session de jury — Développeur en intelligence artificielle",
        "Alice DURAND",
        "Ingénieure ML",
        "Bruno PETIT",
        "Validation",
        "au moins 2 professionnel(s) ayant au moins 2 an(s) d'expérience ; la session en compte 1",
    ] {
        assert!(
            page.contains(expected),
            "{expected} not on the session's page: {page}"
        );
    }
    // The session's procès-verbal, made in the browser by the PDF module.
    browser.click("#faire-pv");
    browser.wait_for("#pv-session");
    let made = browser.run_async(
        r##"const done = arguments[arguments.length - 1];
        fetch(document.querySelector("#pv-session").href).then(r => r.arrayBuffer()).then(b => done({
          hex: Array.from(new Uint8Array(b), x => x.toString(16).padStart(2, "0")).join(""),
        }), e => done({ error: String(e) }));"##,
    );
    let pv = crate::support::temp_dir("pv-navigateur").join("pv.pdf");
    std::fs::write(&pv, hex::decode(made["hex"].as_str().unwrap()).unwrap()).unwrap();
    let text = crate::pdf::text(&pv, None, false)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for expected in [
        "PROCÈS VERBAL",
        "Nombre de candidats présents : 1",
        "Nombre de candidats absents : 0",
        "MARTIN Camille",
        "Ingénieure ML",
        "au moins 2 professionnel(s)",
    ] {
        assert!(text.contains(expected), "{expected} not in the PV: {text}");
    }
    // And from there to the candidate's dossier, whose decision form says the rule the
    // session's jury breaks before anything is released again.
    browser.click("[data-testid=session-candidats] button");
    browser.wait_for("[data-testid=examen-jury]");
    browser.click("#formulaire-decision summary");
    browser.wait_text("[data-testid=decision-regles]", |t| {
        t.contains("au moins 2 professionnel(s) ayant au moins 2 an(s) d'expérience")
    });

    for (path, bytes) in files_under(&relay.data) {
        assert!(
            !contains(&bytes, JURY_CANARY.as_bytes()),
            "the juror's canary in {}",
            path.display()
        );
    }
    assert!(!contains(&relay.output(), JURY_CANARY.as_bytes()));
}

/// Several files picked at once: each annexe gets a title of its own (the one typed,
/// followed by its file's name), and the file field lets them go once added, so the next
/// add does not send them again.
#[test]
fn files_picked_together_get_their_own_titles_and_are_not_sent_twice() {
    let relay = Relay::start();
    let browser = Browser::start();
    browser.goto(&relay.url("/"));
    first_run(&browser);
    browser.click("#referentiel option[value='002']");
    browser.click("#creer-dossier");
    let folder = crate::support::temp_dir("annexes-ensemble");
    let paths: Vec<String> = ["organigramme.txt", "planning.txt"]
        .iter()
        .map(|name| {
            let path = folder.join(name);
            std::fs::write(&path, format!("contenu de {name}")).unwrap();
            path.to_str().unwrap().to_string()
        })
        .collect();
    browser.type_into("#annexe-fichier", &paths.join("\n"));
    browser.type_into("#annexe-titre", "Preuves du poste");
    browser.click("#ajouter-annexe");
    browser.wait_text("[data-testid=annexes]", |t| {
        t.contains("Preuves du poste — organigramme") && t.contains("Preuves du poste — planning")
    });
    browser.wait_text("[data-testid=annexe-etat]", |t| {
        t.starts_with("Annexe n° 2 ajoutée")
    });
    assert_eq!(
        browser.property("#annexe-fichier", "value").as_str(),
        Some(""),
        "the files added are let go"
    );
    // Adding again without picking anything adds nothing.
    browser.click("#ajouter-annexe");
    browser.wait_text("[data-testid=annexe-etat]", |t| {
        t == "Choisissez d'abord un fichier."
    });
    assert_eq!(
        in_page(
            &browser,
            "document.querySelectorAll('tr[data-annexe]').length"
        ),
        "2",
        "no third annexe"
    );
    let _ = std::fs::remove_dir_all(&folder);
}
