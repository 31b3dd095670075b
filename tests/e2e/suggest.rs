//! Suggestions end to end with the real CLI: a fiche's compétences ranked with the passages
//! and criteria behind them, computed on the device (the relay is stopped first: nothing
//! is asked of it); an empty fiche, a fiche in Spanish and a fiche that does not exist each
//! get a sentence, not noise; and the dossier's gaps with the fiches likely to fill them.

use crate::jury::import_sample;
use crate::support::Relay;
use crate::sync::Device;

#[test]
fn a_fiche_gets_its_competences_with_reasons_on_the_device_and_the_gaps_are_listed() {
    let relay = Relay::start();
    let candidate = Device::new("suggest-candidat");
    let id = import_sample(&candidate, &relay.url(""));
    // Computed here: the relay is gone before any suggestion is asked for.
    drop(relay);

    // The fourth fiche claims nothing yet and tells of monitoring in practitioners' words.
    for (field, text) in [
        ("intitule", "Astreinte et supervision du service de tri"),
        ("competences", ""),
        (
            "taches",
            "J'ai branché les logs de l'appli sur Grafana/Loki, écrit les alertes Prometheus \
             (taux d'erreur, latence p95) et le runbook d'astreinte ; chaque incident remonte \
             sur Teams et on fait un post-mortem.",
        ),
        ("moyens", "Grafana, Prometheus, Loki, Alertmanager."),
    ] {
        candidate.run(&["dossier", "set", &id, &format!("fiches.3.{field}"), text]);
    }
    let said = candidate.run(&["dossier", "suggest", &id, "--fiche", "4"]);
    let first = said.lines().nth(1).unwrap_or_default();
    assert!(first.starts_with("1. C20 — "), "{said}");
    assert!(
        said.contains("Prometheus"),
        "the passage behind it is shown: {said}"
    );
    assert!(
        said.contains(" de C20 : "),
        "the criteria behind it are shown: {said}"
    );

    let json: serde_json::Value = serde_json::from_str(
        &candidate.run(&["dossier", "suggest", &id, "--fiche", "4", "--json"]),
    )
    .unwrap();
    let codes: Vec<&str> = json["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["code"].as_str().unwrap())
        .collect();
    assert!(codes.len() <= 5 && codes[0] == "C20", "{codes:?}");
    assert!(json["notice"].is_null());

    // Nothing to go on: a sentence saying so, and no suggestion.
    for text in [
        "",
        "Desarrollé una aplicación para la gestión de los clientes con el equipo y entrené un \
         modelo de clasificación de los datos de las ventas en la nube.",
    ] {
        for field in [
            "intitule",
            "contexte",
            "problematique",
            "moyens",
            "resultats",
        ] {
            candidate.run(&["dossier", "set", &id, &format!("fiches.3.{field}"), ""]);
        }
        candidate.run(&["dossier", "set", &id, "fiches.3.taches", text]);
        let said = candidate.run(&["dossier", "suggest", &id, "--fiche", "4"]);
        assert!(!said.contains("1. "), "{said}");
        let expected = if text.is_empty() {
            "Décrivez d'abord l'activité"
        } else {
            "ni en français ni en anglais"
        };
        assert!(said.contains(expected), "{said}");
    }
    let (ok, err) = candidate.try_run(&["dossier", "suggest", &id, "--fiche", "9"]);
    assert!(!ok && err.contains("la fiche n° 9 n'existe pas"), "{err}");

    // The gaps: C20 is claimed by no fiche now; each gap says what to describe.
    let gaps = candidate.run(&["dossier", "suggest", &id]);
    assert!(gaps.contains("C20 — "), "{gaps}");
    assert!(
        gaps.contains("Pour C20, décrivez une situation qui montre"),
        "{gaps}"
    );
    assert!(!gaps.contains("C1 — "), "C1 is claimed by fiche 1: {gaps}");
    // The third fiche (inference service, Prometheus alerts) is the likely home of C20.
    let c20 = gaps
        .split("\nC")
        .find(|block| block.starts_with("20 — "))
        .unwrap_or_default();
    assert!(c20.contains("fiche n° 3"), "{c20}");
}
