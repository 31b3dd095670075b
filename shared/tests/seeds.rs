//! The five seed référentiels, as text and as PDF: exact structure.

use std::path::PathBuf;

use livret_shared::referentiel::{self, BlocKind, Referentiel, SourceFormat};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/referentiels")
        .join(name)
}

fn text(name: &str) -> String {
    std::fs::read_to_string(fixture(name)).expect("fixture present")
}

fn import_text(name: &str) -> Referentiel {
    referentiel::import_text(&text(name))
        .expect("imports")
        .referentiel
}

/// Codes `C<first>` … `C<last>`.
fn flat(first: u32, last: u32) -> Vec<String> {
    (first..=last).map(|n| format!("C{n}")).collect()
}

/// Codes `C<bloc>.1` … `C<bloc>.<count>`.
fn dotted(bloc: u32, count: u32) -> Vec<String> {
    (1..=count).map(|n| format!("C{bloc}.{n}")).collect()
}

fn codes(r: &Referentiel) -> Vec<Vec<String>> {
    r.blocs
        .iter()
        .map(|b| b.competences.iter().map(|c| c.code.clone()).collect())
        .collect()
}

struct Expected {
    file: &'static str,
    title: &'static str,
    rncp: Option<&'static str>,
    kind: BlocKind,
    bloc_codes: [&'static str; 4],
    bloc_titles: [Option<&'static str>; 4],
    codes: Vec<Vec<String>>,
}

fn expected() -> Vec<Expected> {
    vec![
        Expected {
            file: "000-expert-ingenierie-logiciel",
            title: "Expert en ingénierie du logiciel",
            rncp: None,
            kind: BlocKind::Bloc,
            bloc_codes: ["BC01", "BC02", "BC03", "BC04"],
            bloc_titles: [
                Some("Gestion de la relation client"),
                // Garbled in the source ("DLUG Z - FII LOTAGE DE FROJET…"): deduced, untitled.
                None,
                Some("Intégration, industrialisation et déploiement du logiciel"),
                Some("Conception avancée de l'architecture du logiciel"),
            ],
            codes: vec![flat(1, 5), flat(6, 9), flat(10, 13), flat(14, 18)],
        },
        Expected {
            file: "001-expert-ingenierie-systemes-information",
            title: "Expert en ingénierie des systèmes d'information",
            rncp: None,
            kind: BlocKind::Bloc,
            bloc_codes: ["BC01", "BC02", "BC03", "BC04"],
            bloc_titles: [
                Some("Gestion de la relation client"),
                Some("Pilotage de projet des systèmes d'information"),
                Some("Elaboration et déploiement de la solution technique"),
                Some("Sécurite de l'information et gouvernance des systèmes d'information"),
            ],
            codes: vec![flat(1, 5), flat(6, 9), flat(10, 13), flat(14, 16)],
        },
        Expected {
            file: "002-developpeur-intelligence-artificielle-rncp37827",
            title: "Développeur en intelligence artificielle",
            rncp: Some("RNCP37827"),
            kind: BlocKind::Bloc,
            bloc_codes: ["RNCP37827BC01", "RNCP37827BC02", "RNCP37827BC03", ""],
            bloc_titles: [
                Some(
                    "Réaliser la collecte, le stockage et la mise à disposition des données d'un projet en intelligence artificielle",
                ),
                Some("Intégrer des modèles et des services d'intelligence artificielle"),
                Some("Réaliser une application intégrant un service d'intelligence artificielle"),
                None,
            ],
            codes: vec![flat(1, 5), flat(6, 13), flat(14, 21)],
        },
        Expected {
            file: "003-expert-architecture-developpement-logiciel-rncp38822",
            title: "Expert en architecture et développement logiciel",
            rncp: Some("RNCP38822"),
            kind: BlocKind::Bloc,
            bloc_codes: [
                "RNCP38822BC01",
                "RNCP38822BC02",
                "RNCP38822BC03",
                "RNCP38822BC04",
            ],
            bloc_titles: [
                Some("Planifier et organiser un projet de développement logiciel"),
                Some("Concevoir et développer des solutions logicielles"),
                Some("Piloter la mise en production des solutions logicielles et leur évolution"),
                Some("Piloter l’équipe du projet de développement logiciel"),
            ],
            codes: vec![dotted(1, 7), dotted(2, 5), dotted(3, 6), dotted(4, 6)],
        },
        Expected {
            file: "004-expert-developpement-logiciel",
            title: "Expert en développement logiciel",
            rncp: None,
            kind: BlocKind::Activite,
            bloc_codes: ["BC01", "BC02", "BC03", "BC04"],
            bloc_titles: [
                Some("Analyser et concevoir des solutions logicielles ou applicatives"),
                Some(
                    "Piloter le développement, les tests et la maintenance des solutions logicielles ou applicatives",
                ),
                // The PDF variant loses "(DevOps)" at the end of the line: compared by prefix.
                Some("Planifier, organiser et préparer l’intégration et le déploiement"),
                Some("Manager un projet et/ou une équipe de développement"),
            ],
            // Activité 3 has six competencies: C.3.6 is printed mid-line ("Amélioration
            // continue de la C.3.6 Optimiser la solution …") with its own CE1–CE5.
            codes: vec![dotted(1, 8), dotted(2, 7), dotted(3, 6), dotted(4, 10)],
        },
    ]
}

fn assert_structure(r: &Referentiel, e: &Expected, source: &str) {
    assert_eq!(r.title.as_deref(), Some(e.title), "{source}: title");
    assert_eq!(r.rncp.as_deref(), e.rncp, "{source}: RNCP");
    assert_eq!(codes(r), e.codes, "{source}: competency codes per bloc");
    for (i, b) in r.blocs.iter().enumerate() {
        assert_eq!(b.number as usize, i + 1, "{source}: bloc numbers");
        assert_eq!(b.kind, e.kind, "{source}: bloc kind");
        assert_eq!(b.code, e.bloc_codes[i], "{source}: bloc code");
        match (b.title.as_deref(), e.bloc_titles[i]) {
            (Some(got), Some(want)) => {
                assert!(
                    got.starts_with(want),
                    "{source}: bloc {} title {got:?}",
                    b.number
                )
            }
            (got, want) => assert_eq!(got, want, "{source}: bloc {} title", b.number),
        }
        for c in &b.competences {
            assert!(
                c.title.split_whitespace().count() >= 6,
                "{source}: {} has a short statement: {:?}",
                c.code,
                c.title
            );
        }
    }
}

#[test]
fn seed_texts_have_the_exact_structure() {
    for e in expected() {
        let r = import_text(&format!("{}.txt", e.file));
        assert_eq!(r.source, SourceFormat::Text);
        assert_structure(&r, &e, e.file);
    }
}

#[test]
fn statements_are_read_whole() {
    let r = import_text("002-developpeur-intelligence-artificielle-rncp37827.txt");
    // The first printing wins over the épreuves, the jury grid and the Livret 2 récapitulatif.
    assert_eq!(
        r.competence("C5").unwrap().title,
        "Développer une API mettant à disposition le jeu de données en utilisant l'architecture REST afin de permettre l'exploitation du jeu de données par les autres composants du projet."
    );
    let r = import_text("000-expert-ingenierie-logiciel.txt");
    assert_eq!(
        r.competence("C.4.").unwrap().title,
        "Concevoir une solution à partir des besoins exprimés par la modélisation d'une architecture, afin de la présenter au client et de l'assister sur sa prise de décision"
    );
    let r = import_text("004-expert-developpement-logiciel.txt");
    let c36 = r.competence("C.3.6").unwrap();
    assert!(
        c36.title
            .starts_with("Optimiser la solution en tenant compte des retours"),
        "{}",
        c36.title
    );
    assert_eq!(c36.printed_code.as_deref(), Some("C.3.6"));
    let c11 = r.competence("C1.1").unwrap();
    assert!(
        c11.title
            .starts_with("Analyser les besoins métiers et techniques afin d’identifier")
    );
    let r = import_text("003-expert-architecture-developpement-logiciel-rncp38822.txt");
    let c = r.competence("C4.2").unwrap();
    assert!(
        c.title
            .starts_with("Constituer l’équipe du projet de développement logiciel")
    );
    assert_eq!(c.printed_code, None, "generated codes are marked as such");
}

#[test]
fn ce_criteria_are_attached_to_their_competencies() {
    let r = import_text("004-expert-developpement-logiciel.txt");
    for (_, c) in r.competences() {
        assert!(
            c.criteria.len() >= 3,
            "{} has {} criteria",
            c.code,
            c.criteria.len()
        );
        for (i, cr) in c.criteria.iter().enumerate() {
            assert_eq!(
                cr.code.as_deref(),
                Some(format!("CE{}", i + 1).as_str()),
                "{}",
                c.code
            );
            assert!(
                !cr.indicators.is_empty(),
                "{} {:?} has no indicator",
                c.code,
                cr.code
            );
        }
    }
    let c11 = r.competence("C1.1").unwrap();
    let titles: Vec<&str> = c11.criteria.iter().map(|c| c.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "Choix et conformité méthodologiques (pour le recueil / analyse des besoins)",
            "Pertinence / complétude du recueil / analyse des besoins",
            "Identification et formulation correcte des besoins en spécifications techniques",
            "Pertinence des livrables",
            "Respect des bonnes pratiques en matière d’accessibilité",
        ]
    );
    // C1.1 and C1.2 share one merged criteria cell in the source table.
    assert_eq!(r.competence("C1.2").unwrap().criteria, c11.criteria);
    assert_eq!(
        c11.criteria[0].indicators[0],
        "Une méthodologie de recueil et d’analyse du besoin est clairement définie et justifiée."
    );
    let c36 = r.competence("C3.6").unwrap();
    assert_eq!(c36.criteria.len(), 5);
    assert!(
        c36.criteria[4]
            .title
            .starts_with("Cohérence et complétude du rapport")
    );
}

#[test]
fn table_criteria_are_attached_to_their_competencies() {
    let r = import_text("002-developpeur-intelligence-artificielle-rncp37827.txt");
    let c2 = r.competence("C2").unwrap();
    let titles: Vec<&str> = c2.criteria.iter().map(|c| c.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "Les requêtes de type SQL pour la collecte de données sont fonctionnelles : les données visées sont effectivement extraites suite à l'exécution des requêtes.",
            "La documentation des requêtes met en lumière choix de sélections, filtrages, conditions, jointures, etc., en fonction des objectifs de collecte.",
            // Split by a page break in the source table, joined again.
            "La documentation explicite les optimisations appliquées aux requêtes .",
        ]
    );
    let r = import_text("001-expert-ingenierie-systemes-information.txt");
    assert!(
        r.competences().all(|(_, c)| !c.criteria.is_empty()),
        "every 001 competency has criteria"
    );
    let r = import_text("000-expert-ingenierie-logiciel.txt");
    let c1 = r.competence("C1").unwrap();
    assert_eq!(
        c1.criteria.first().map(|c| c.title.as_str()),
        Some("Les objectifs de la réunion sont clairement déterminés")
    );
    // The final exam row belongs to no competency.
    let c18 = r.competence("C18").unwrap();
    assert!(
        c18.criteria
            .iter()
            .all(|c| !c.title.contains("18 compétences")),
        "{:?}",
        c18.criteria
    );
}

#[test]
fn modalites_are_kept_per_bloc() {
    let r = import_text("003-expert-architecture-developpement-logiciel-rncp38822.txt");
    for b in &r.blocs {
        assert!(
            b.assessment
                .iter()
                .any(|a| a.starts_with("Mise en situation professionnelle reconstituée")),
            "bloc {}: {:?}",
            b.number,
            b.assessment
        );
    }
}

#[test]
fn every_competency_appears_once() {
    for e in expected() {
        let r = import_text(&format!("{}.txt", e.file));
        let mut all: Vec<&str> = r.competences().map(|(_, c)| c.code.as_str()).collect();
        let n = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), n, "{}", e.file);
    }
}

#[cfg(feature = "pdf")]
#[test]
fn seed_pdfs_have_the_same_structure_as_their_text() {
    for e in expected() {
        let bytes = std::fs::read(fixture(&format!("pdf/{}.pdf", e.file))).unwrap();
        let r = referentiel::import_pdf(&bytes)
            .expect("PDF imports")
            .referentiel;
        assert_eq!(r.source, SourceFormat::Pdf);
        assert_structure(&r, &e, &format!("{}.pdf", e.file));
        // Statements start the same way as in the text (the PDF wraps every line).
        let from_text = import_text(&format!("{}.txt", e.file));
        for ((_, a), (_, b)) in r.competences().zip(from_text.competences()) {
            let start = |s: &str| s.split_whitespace().take(6).collect::<Vec<_>>().join(" ");
            assert_eq!(start(&a.title), start(&b.title), "{}: {}", e.file, a.code);
        }
    }
}

/// The jury's composition as each seed states it, read by hand from the seed:
/// 002 § « Composition du jury » (« au moins 2 professionnels avec à minima 2 années
/// d'expérience », « Au moins 50% des jurés sont extérieurs », no tie with the candidate,
/// documents « au plus tard 5 jours avant la date de session »); 003 « composé de 5
/// personnes : 3 membres externes, professionnels… », « Le taux de membres extérieurs est de
/// 60 % », « une expérience de 3 ans » (it excludes trainers, not ties); 000, 001 and 004
/// state no rule (« un jury professionnel », « jury final »). The same from the PDFs.
#[test]
fn jury_rules_are_read_as_each_seed_states_them() {
    use referentiel::JuryRules;
    let stated = |file: &str| match &file[..3] {
        "002" => JuryRules {
            members: None,
            min_professionals: Some(2),
            min_experience_years: Some(2),
            min_external_percent: Some(50),
            no_tie_with_candidate: true,
            documents_days_before: Some(5),
        },
        "003" => JuryRules {
            members: Some(5),
            min_professionals: Some(3),
            min_experience_years: Some(3),
            min_external_percent: Some(60),
            no_tie_with_candidate: false,
            documents_days_before: None,
        },
        _ => JuryRules::default(),
    };
    for e in expected() {
        let r = import_text(&format!("{}.txt", e.file));
        assert_eq!(r.jury, stated(e.file), "{}.txt", e.file);
        #[cfg(feature = "pdf")]
        {
            let bytes = std::fs::read(fixture(&format!("pdf/{}.pdf", e.file))).unwrap();
            let r = referentiel::import_pdf(&bytes).unwrap().referentiel;
            assert_eq!(r.jury, stated(e.file), "{}.pdf", e.file);
        }
    }
}

/// The épreuves of 002 as its « Les épreuves certificatives » part describes them, read by
/// hand from the seed: « ➤ Mise en situation 1 (E1) » … « Livrables : rapport professionnel
/// individuel », « Évaluation : - Correction du rapport professionnel - Soutenance orale
/// individuelle », « Compétence(s) visée(s) C1 … C5 »; E2 « Cas pratique 1 » C6–C8; E3
/// « Mise en situation 2 » C9–C13, its oral with a demonstration; E4 « Mise en situation 3 »
/// C14–C19; E5 « Cas pratique 2 » C20–C21, its deliverable the monitoring's and the
/// incident's documentation. Each with its « Contenu » paragraphs and « Le/la candidat(e)
/// doit » items as printed (glossary asterisks off). The others name no épreuve. The same
/// from the PDFs.
#[test]
fn epreuves_are_read_as_the_seeds_describe_them() {
    use referentiel::Epreuve;
    let strings = |items: &[&str]| items.iter().map(|e| e.to_string()).collect::<Vec<_>>();
    let epreuve = |code: &str,
                   title: &str,
                   (contenu, consignes): (&[&str], &[&str]),
                   livrable: &str,
                   evaluation: &[&str],
                   from,
                   to| Epreuve {
        code: code.into(),
        title: title.into(),
        contenu: strings(contenu),
        consignes: strings(consignes),
        livrable: Some(livrable.into()),
        evaluation: strings(evaluation),
        competences: (from..=to).map(|n: u32| format!("C{n}")).collect(),
    };
    let e1: (&[&str], &[&str]) = (
        &[
            "L'évaluation doit se faire dans un contexte de réalisation d'un service numérique réel ou fictif basé sur l'usage de données, à partir du cadrage pour la réalisation d'un service numérique (spécifications fonctionnelles et techniques par exemple).",
            "Le projet évalué a pour but d'optimiser, d'automatiser, de pérenniser et de mettre à disposition les flux de données et les données, utiles et nécessaires à la réalisation du service numérique, par les équipes techniques (par exemple en analyse statistique, en business intelligence, en machine learning ou encore en intelligence artificielle).",
        ],
        &[
            "Présenter le flux automatisé de collecte des données à partir de différentes sources : service web, fichier de données, base de données, système big data,",
            "Présenter les requêtes de nettoyage et mise en forme des données,",
            "Présenter la création d'une base de données,",
            "Présenter l'exposition des données dans une API.",
        ],
    );
    let e2: (&[&str], &[&str]) = (
        &[
            "L'évaluation doit se faire à partir de l'expression d'un besoin réel ou fictif de fonctionnalités d'intelligence artificielle. Ce besoin peut résulter d'une commande client comme d'une sollicitation interne d'un collaborateur data scientist par exemple.",
            "Le cas pratique évalué a pour but l'installation et la configuration du service d'IA préconisé.",
        ],
        &[
            "Présenter son dispositif de veille.",
            "Présenter la problématique technique et fonctionnelle d'intelligence artificielle à adresser à partir de l'expression de besoin.",
            "Présenter l'inventaire des outils et services d'intelligence artificielle accessibles et répondant au problème visé.",
            "Présenter une préconisation d'un ou plusieurs services d'intelligence artificielle.",
            "Présenter les étapes de configuration et d'installation d'un ou plusieurs services d'intelligence artificielle préconisé(s).",
        ],
    );
    let e3: (&[&str], &[&str]) = (
        &[
            "L'évaluation doit se faire dans un contexte réel ou fictif de réalisation d'un service d'intelligence artificielle à partir d'un modèle fourni.",
            "Le projet évalué a pour but la mise en service (packaging, monitoring, test...) du modèle fourni, et son intégration dans une application existante.",
        ],
        &[
            "Présenter le projet de développement d'une API encapsulant un modèle d'intelligence artificielle.",
            "Présenter les différentes étapes d'intégration d'une API d'intelligence artificielle dans une application existante.",
            "Présenter le monitoring et les tests du modèle d'intelligence artificielle.",
            "Présenter la chaîne de livraison continue du modèle.",
            "Effectuer une démonstration des différents composants du projet : API du modèle, application enrichie par l'API et livraison continue du modèle.",
        ],
    );
    let e4: (&[&str], &[&str]) = (
        &[
            "L'évaluation doit se faire dans un contexte réel ou fictif de développement d'une application intégrant un service d'intelligence artificielle.",
            "Le projet évalué a pour but d'analyser un besoin en développement d'application d'intelligence artificielle, de concevoir, développer, tester et enfin livrer l'application.",
        ],
        &[
            "Présenter le projet d'application répondant au besoin : architecture applicative, pile technique, plan de réalisation,",
            "Présenter les tests de l'application et la chaîne de livraison continue.",
            "Effectuer une démonstration de l'application réalisée.",
        ],
    );
    let e5: (&[&str], &[&str]) = (
        &[
            "L'évaluation doit se faire à partir d'une application existante présentant au moins une erreur technique, en contexte réel ou fictif.",
            "Le cas pratique évalué a pour but la mise en place du monitoring applicatif et de la résolution d'un incident technique dans l'application.",
        ],
        &[
            "présenter le dispositif de monitoring applicatif,",
            "présenter la description de l'incident technique : déclenchement, périmètre impacté,",
            "présenter le diagnostic,",
            "présenter la résolution : méthodologie, tests en succès,",
            "présenter la documentation de l'incident et de sa résolution.",
        ],
    );
    let rapport = "rapport professionnel individuel";
    let soutenance = [
        "Correction du rapport professionnel",
        "Soutenance orale individuelle",
    ];
    let demonstration = [
        "Correction du rapport professionnel",
        "Soutenance orale individuelle intégrant une démonstration du projet.",
    ];
    let stated = |file: &str| -> Vec<Epreuve> {
        if !file.starts_with("002") {
            return Vec::new();
        }
        vec![
            epreuve("E1", "Mise en situation 1", e1, rapport, &soutenance, 1, 5),
            epreuve("E2", "Cas pratique 1", e2, rapport, &soutenance, 6, 8),
            epreuve(
                "E3",
                "Mise en situation 2",
                e3,
                rapport,
                &demonstration,
                9,
                13,
            ),
            epreuve(
                "E4",
                "Mise en situation 3",
                e4,
                rapport,
                &demonstration,
                14,
                19,
            ),
            epreuve(
                "E5",
                "Cas pratique 2",
                e5,
                "documentation technique du monitoring. Documentation de la résolution de l'incident technique.",
                &[
                    "Correction de la documentation",
                    "Soutenance orale individuelle présentant le monitoring de l'application et la solution implémentée en réponse à l'incident technique traité.",
                ],
                20,
                21,
            ),
        ]
    };
    for e in expected() {
        let r = import_text(&format!("{}.txt", e.file));
        assert_eq!(r.epreuves, stated(e.file), "{}.txt", e.file);
        #[cfg(feature = "pdf")]
        {
            let bytes = std::fs::read(fixture(&format!("pdf/{}.pdf", e.file))).unwrap();
            let r = referentiel::import_pdf(&bytes).unwrap().referentiel;
            assert_eq!(r.epreuves, stated(e.file), "{}.pdf", e.file);
        }
    }
}

/// 002's épreuves' assessment lines (« Correction du rapport professionnel », « Soutenance
/// orale individuelle… ») are not criteria: each compétence's criteria start where its
/// row of the seed's ANNEXE 3 does — C5 « La documentation technique de l'API (REST) couvre
/// tous les points de terminaisons. », C8 « Le service installé est accessible, avec une
/// éventuelle authentification. », C13 « La documentation pour l'utilisation de la chaîne
/// couvre toutes les étapes, les tâches et tous les déclencheurs disponibles. », C21 « La ou
/// les causes du problème sont identifiées correctement. » (read in the seed). The same from
/// the PDF.
#[test]
fn assessment_lines_are_not_criteria() {
    let first = [
        (
            "C5",
            "La documentation technique de l'API (REST) couvre tous les points de terminaisons.",
        ),
        (
            "C8",
            "Le service installé est accessible, avec une éventuelle authentification.",
        ),
        (
            "C13",
            "La documentation pour l'utilisation de la chaîne couvre toutes les étapes, les tâches et tous les déclencheurs disponibles.",
        ),
        (
            "C21",
            "La ou les causes du problème sont identifiées correctement.",
        ),
    ];
    let check = |r: &Referentiel, what: &str| {
        for (code, title) in first {
            let got = r.competence(code).unwrap().criteria[0]
                .title
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            assert_eq!(got, title, "{what} {code}");
        }
        for (_, c) in r.competences() {
            for k in &c.criteria {
                assert!(
                    !k.title.starts_with("Correction d")
                        && !k.title.starts_with("Soutenance orale"),
                    "{what} {}: {}",
                    c.code,
                    k.title
                );
            }
        }
    };
    let file = "002-developpeur-intelligence-artificielle-rncp37827";
    check(&import_text(&format!("{file}.txt")), "text");
    #[cfg(feature = "pdf")]
    {
        let bytes = std::fs::read(fixture(&format!("pdf/{file}.pdf"))).unwrap();
        check(&referentiel::import_pdf(&bytes).unwrap().referentiel, "pdf");
    }
}
