//! A référentiel published as a table (activités | compétences | modalités | critères, cells
//! wrapping over lines, rows and merged cells over pages), posted to the relay as the app
//! posts it: read by its cells, as a person reads it (`fixtures/referentiels/read`).

use crate::support::{Relay, request};

fn read_through_the_relay(relay: &Relay, file: &str) -> serde_json::Value {
    let bytes = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fixtures/referentiels/tables")
            .join(file),
    )
    .unwrap();
    let answer = request(relay.addr, "POST", "/api/v1/referentiels/pdf", Some(&bytes));
    assert_eq!(answer.status, 200, "{}", answer.text());
    let json: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    json[0].clone()
}

fn competence<'a>(referentiel: &'a serde_json::Value, code: &str) -> &'a serde_json::Value {
    referentiel["blocs"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|b| b["competences"].as_array().unwrap())
        .find(|c| c["code"] == code)
        .unwrap_or_else(|| panic!("{code} not read: {referentiel}"))
}

fn titles(list: &serde_json::Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| c["title"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_referentiel_printed_as_a_table_is_read_by_its_cells() {
    let relay = Relay::start();

    // 004: criteria cells shared by two compétences, merged over rows and cut by page breaks;
    // C2.3 and C2.4 share one (read: fixtures/referentiels/read/004-part1.tsv).
    let r = read_through_the_relay(&relay, "004.pdf");
    let shared = [
        "Pertinence et conformité de la structuration des interfaces techniques de l’API",
        "Pertinence de la structuration de l'architecture back-end",
        "Sécurité et scalabilité des fonctionnalités développées",
        "Qualité et conformité réglementaire du back-end",
        "Respect des règles de sécurité",
    ];
    for code in ["C2.3", "C2.4"] {
        let c = competence(&r, code);
        assert_eq!(titles(&c["criteria"]), shared, "{code}");
        assert_eq!(
            c["criteria"][4]["indicators"][2],
            "L’application est protégée contre les attaques courantes (SQL Injection, XSS, CSRF, etc.).",
            "{code}"
        );
    }
    // C1.1's statement is whole (its row is taller than the text of the other columns).
    assert!(
        competence(&r, "C1.1")["title"]
            .as_str()
            .unwrap()
            .ends_with("dans l’utilisation des outils et solutions."),
        "{}",
        competence(&r, "C1.1")["title"]
    );

    // 002: criteria and their nested lists told apart by their bullets; the modalités
    // column after the criteria, naming its épreuve.
    let r = read_through_the_relay(&relay, "002.pdf");
    let c4 = competence(&r, "C4");
    let seventh = &c4["criteria"][6];
    assert_eq!(
        seventh["title"],
        "Les documentations techniques des scripts couvrent les parties suivantes :"
    );
    assert_eq!(seventh["indicators"].as_array().unwrap().len(), 2, "{c4}");
    assert_eq!(
        c4["criteria"][7]["title"],
        "Le registre des traitements de données personnelles intègre l'ensemble des traitements de données personnelles impliqués dans la base de données."
    );
    let modalite = r["blocs"][0]["assessment"][0].as_str().unwrap();
    assert!(
        modalite
            .starts_with("E1. Mise en situation (C1, C2, C3, C4, C5) L'évaluation doit se faire"),
        "{modalite}"
    );
}
