//! A jury session end to end, with the real CLI and a real relay: a session manager makes a
//! session of three candidates of the sample dossier (référentiel 002), names the jury and
//! shares the session with the two jurors; the jury releases one absent, one partial and one
//! total; the session's PV read back with pdftotext has the form's fields, the right counts,
//! one line per candidate and the jury table; the référentiel's composition rules the jury
//! breaks are said at the release and printed on the PV; a juror of another session reads
//! neither this session nor its dossiers; the relay's files and logs hold no juror's name.

use std::path::PathBuf;

use crate::pdf::text;
use crate::support::{Relay, temp_dir};
use crate::sync::{Device, assert_relay_never_saw};

const JUROR_A: &str = "Albertine Canarijurea";
const JUROR_B: &str = "Bastien Canarijureb";
const OBSERVATION: &str = "Salle CANARI-SESSION-5e1 chauffée tardivement";

use crate::support::sample_dossier as sample;

fn referentiel_002() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/referentiels/002-developpeur-intelligence-artificielle-rncp37827.txt")
}

fn squeezed(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn a_session_of_three_candidates_gives_the_official_pv() {
    let relay = Relay::start();
    let url = relay.url("");
    let dir = temp_dir("livret-session");
    let manager = Device::new("session-responsable");
    let (alice, bruno) = (Device::new("session-alice"), Device::new("session-bruno"));

    // Three candidates, each with their own dossier shared with both jurors.
    let names = [
        ("Absente", "Agathe"),
        ("Partiel", "Paul"),
        ("Total", "Théa"),
    ];
    let candidates: Vec<(Device, String)> = names
        .iter()
        .map(|(nom, prenom)| {
            let device = Device::new(&format!("session-{nom}"));
            let id = device.run(&[
                "dossier",
                "import",
                sample().to_str().unwrap(),
                "--relay",
                &url,
            ]);
            device.run(&["dossier", "set", &id, "etat_civil.nom", nom]);
            device.run(&["dossier", "set", &id, "etat_civil.prenom", prenom]);
            device.run(&["sync"]);
            device.share_with(&id, &alice, "juror", &url);
            device.share_with(&id, &bruno, "juror", &url);
            (device, id)
        })
        .collect();

    // The manager makes the session, names the jury and the candidates.
    let session = manager.run(&[
        "jury",
        "session",
        "new",
        "--relay",
        &url,
        "--referentiel",
        referentiel_002().to_str().unwrap(),
        "--certification",
        "Développeur en intelligence artificielle",
        "--rncp",
        "RNCP37827",
        "--centre",
        "Simplon.co — Lyon",
        "--debut",
        "2026-12-14",
        "--fin",
        "2026-12-15",
        "--lieu",
        "12 rue des Tests, 69000 Lyon",
        "--responsable",
        "Rémi Responsable",
        "--fonction",
        "Chargé de certification",
        "--documents-transmis",
        "2026-12-11",
    ]);
    let (a_first, a_last) = JUROR_A.split_once(' ').unwrap();
    let (b_first, b_last) = JUROR_B.split_once(' ').unwrap();
    manager.run(&[
        "jury",
        "session",
        "member",
        &session,
        "--nom",
        a_last,
        "--prenom",
        a_first,
        "--poste",
        "Ingénieure ML",
        "--entreprise",
        "Datalyon",
        "--externe",
        "--professionnel",
        "--experience",
        "6",
    ]);
    // Bruno is inside the certifier, a professional of one year only, and declared a tie
    // with the third candidate.
    manager.run(&[
        "jury",
        "session",
        "member",
        &session,
        "--nom",
        b_last,
        "--prenom",
        b_first,
        "--poste",
        "Formateur référent",
        "--entreprise",
        "Simplon.co",
        "--professionnel",
        "--experience",
        "1",
        "--lien",
        &candidates[2].1,
    ]);
    for ((nom, prenom), (_, id)) in names.iter().zip(&candidates) {
        let voie = if *nom == "Partiel" {
            "formation"
        } else {
            "vae"
        };
        manager.run(&[
            "jury", "session", "add", &session, id, "--nom", nom, "--prenom", prenom, "--voie",
            voie,
        ]);
    }
    manager.run(&[
        "jury",
        "session",
        "set",
        &session,
        "--observations",
        OBSERVATION,
    ]);
    manager.run(&["sync"]);
    // A juror of the session reads it; the manager alone changes it.
    manager.share_with(&session, &alice, "juror", &url);
    manager.share_with(&session, &bruno, "juror", &url);
    let (ok, err) = alice.try_run(&["jury", "session", "set", &session, "--lieu", "ailleurs"]);
    assert!(!ok && err.contains("seul le responsable"), "{err}");
    let shown = alice.run(&["jury", "session", "show", &session]);
    assert!(
        shown.contains(&format!("{a_first} {}", a_last.to_uppercase()))
            && shown.contains("Candidat Paul PARTIEL"),
        "{shown}"
    );
    assert!(alice.run(&["jury", "session", "list"]).contains(
        "Développeur en intelligence artificielle — 2026-12-14 — 3 candidat(s), 2 membre(s) du jury"
    ));

    // The jury releases: one absent, one partial (bloc 1), one total. Each release says the
    // rules of référentiel 002 the jury breaks; a partial one without comments is refused.
    alice.run(&["sync"]);
    let (ok, err) = alice.try_run(&[
        "jury",
        "decide",
        &candidates[1].1,
        "--date",
        "2026-12-14",
        "--acquired",
        "C1,C2,C3,C4,C5",
    ]);
    assert!(
        !ok && err.contains("demande les commentaires du jury"),
        "{err}"
    );
    let (ok, err) = alice.try_run(&[
        "jury",
        "decide",
        &candidates[0].1,
        "--date",
        "2026-12-14",
        "--absent",
    ]);
    assert!(ok, "{err}");
    assert!(
        err.contains("au moins 2 professionnel(s) ayant au moins 2 an(s) d'expérience ; la session en compte 1")
            && err.contains("moins de 5 jours avant la session du 14 décembre 2026"),
        "{err}"
    );
    assert!(
        !err.contains("lien avec"),
        "no tie with this candidate: {err}"
    );
    alice.run(&[
        "jury",
        "decide",
        &candidates[1].1,
        "--date",
        "2026-12-14",
        "--acquired",
        "C1,C2,C3,C4,C5",
        "--reasons",
        "Blocs 2 et 3 à compléter par un déploiement.",
    ]);
    let all: Vec<String> = (1..=21).map(|n| format!("C{n}")).collect();
    let (ok, err) = alice.try_run(&[
        "jury",
        "decide",
        &candidates[2].1,
        "--date",
        "2026-12-15",
        "--acquired",
        &all.join(","),
        "--sous-reserve",
        "attestation d'employeur à fournir",
    ]);
    assert!(
        ok && err.contains("a déclaré un lien avec Théa TOTAL"),
        "{err}"
    );
    alice.run(&["sync"]);

    // Bruno prints the session's PV from what was released.
    bruno.run(&["sync"]);
    let pv = dir.join("pv-session.pdf");
    bruno.run(&[
        "jury",
        "session",
        "pv",
        &session,
        "--out",
        pv.to_str().unwrap(),
    ]);
    let pv_text = text(&pv, None, true);
    let words = squeezed(&pv_text);
    for expected in [
        "PROCÈS VERBAL",
        "DÉLIBÉRATION DU JURY",
        "Date(s) de passage des évaluations : du 14/12/2026 au 15/12/2026",
        "Intitulé de la certification professionnelle : DÉVELOPPEUR EN INTELLIGENCE ARTIFICIELLE",
        "N° d'enregistrement RNCP de la certification : RNCP37827",
        "Centre organisateur de la session : Simplon.co — Lyon",
        "Début de la session d'évaluation : 14/12/2026",
        "Fin de la session d'évaluation : 15/12/2026",
        "Adresse du lieu de la session : 12 rue des Tests, 69000 Lyon",
        "Nombre de candidats présents : 2",
        "Nombre de candidats absents : 1",
        "Nombre de candidats admis totalement : 1",
        "Nombre de candidats admis partiellement : 1",
        "Nombre de candidats refusés : 0",
        "NOM PRÉNOM(S) Formation VAE Absent.e Refusé.e Admis.e Admis.e Commentaires sur les",
        "Nom Prénom Poste occupé Entreprise Signature",
        "Ingénieure ML Datalyon",
        "Formateur référent Simplon.co",
        OBSERVATION,
        "Nom et prénom du responsable de session : Rémi Responsable",
        "Fonction du responsable de session : Chargé de certification",
        "qui n'a pas de voix délibérative dans l'attribution de la certification",
        "Cachet du centre organisateur de la session",
        "a déclaré un lien avec Théa TOTAL",
        "Sous réserve : attestation d'employeur à fournir",
    ] {
        assert!(
            words.contains(expected),
            "{expected} not in the PV:\n{pv_text}"
        );
    }
    // One line per candidate, the X in the right columns (header order: Formation, VAE,
    // Absent.e, Refusé.e, Admis.e totalement, Admis.e partiellement).
    let header = pv_text
        .lines()
        .find(|l| l.contains("Formation") && l.contains("Refusé.e"))
        .unwrap();
    let column = |name: &str| header.find(name).unwrap();
    let marks = |nom: &str| -> Vec<usize> {
        let line = pv_text
            .lines()
            .find(|l| l.trim_start().starts_with(nom))
            .unwrap_or_else(|| panic!("{nom} not in the PV:\n{pv_text}"));
        line.char_indices()
            .filter(|(_, c)| *c == 'X')
            .map(|(i, _)| line[..i].chars().count())
            .collect()
    };
    let near = |at: usize, name: &str| {
        let start = header[..column(name)].chars().count();
        at + 2 >= start && at <= start + 6
    };
    let expect = [
        ("ABSENTE", ["VAE", "Absent.e"]),
        ("PARTIEL", ["Formation", "partiellement"]),
        ("TOTAL", ["VAE", "totalement"]),
    ];
    let second_header = pv_text
        .lines()
        .find(|l| l.contains("totalement") && l.contains("partiellement"))
        .unwrap();
    for (nom, columns) in expect {
        let found = marks(nom);
        assert_eq!(found.len(), 2, "{nom}: {found:?}");
        for (at, name) in found.iter().zip(columns) {
            let ok = if name == "totalement" || name == "partiellement" {
                let start = second_header[..second_header.find(name).unwrap()]
                    .chars()
                    .count();
                *at + 2 >= start && *at <= start + 6
            } else {
                near(*at, name)
            };
            assert!(ok, "{nom}: X at {at} is not under {name}\n{pv_text}");
        }
    }
    assert!(words.contains("Non validés : bloc 2, bloc 3"), "{pv_text}");

    // The official grid of the partial candidate, signed by the session's jury.
    let grid = dir.join("grille-partiel.pdf");
    bruno.run(&[
        "jury",
        "grille",
        &candidates[1].1,
        "--out",
        grid.to_str().unwrap(),
    ]);
    // In reading order (cell by cell), not laid out: the Attendu cell reads whole.
    let grid_words = squeezed(&text(&grid, None, false));
    for expected in [
        "Nom du candidat : PARTIEL",
        "Prénom du candidat : Paul",
        "☐ Admis ☐ Non admis ☒ Admission partielle",
        "Blocs 2 et 3 à compléter par un déploiement.",
        // The Attendu of C1–C5: épreuve E1 as the session's référentiel describes it.
        "E1. Mise en situation 1",
        "Livrable : rapport professionnel individuel",
        &format!("{a_first} {}", a_last.to_uppercase()),
        &format!("{b_first} {}", b_last.to_uppercase()),
    ] {
        assert!(
            grid_words.contains(expected),
            "{expected} not in the grid:\n{grid_words}"
        );
    }
    // An absent candidate has no grid.
    let (ok, err) = bruno.try_run(&[
        "jury",
        "grille",
        &candidates[0].1,
        "--out",
        dir.join("absent.pdf").to_str().unwrap(),
    ]);
    assert!(!ok && err.contains("absent"), "{err}");
    let artifacts =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/test-artifacts/livret-session");
    std::fs::create_dir_all(&artifacts).unwrap();
    for file in [&pv, &grid] {
        std::fs::copy(file, artifacts.join(file.file_name().unwrap())).unwrap();
    }

    // A juror of another session reads neither this session nor its dossiers.
    let other_manager = Device::new("session-autre-responsable");
    let claire = Device::new("session-claire");
    let other = other_manager.run(&[
        "jury",
        "session",
        "new",
        "--relay",
        &url,
        "--certification",
        "Autre certification",
        "--debut",
        "2027-01-10",
    ]);
    other_manager.share_with(&other, &claire, "juror", &url);
    for id in [&session, &candidates[1].1] {
        let (ok, err) = claire.try_run(&["dossier", "open", id, "--relay", &url]);
        assert!(!ok, "{id} opened by a juror of another session: {err}");
    }
    assert!(
        !claire
            .run(&["jury", "session", "list"])
            .contains("intelligence")
    );

    assert_relay_never_saw(
        &relay,
        &[
            a_last,
            b_last,
            "Ingénieure ML",
            "Datalyon",
            "Rémi Responsable",
            "CANARI-SESSION-5e1",
            "Formateur référent",
        ],
    );
}
