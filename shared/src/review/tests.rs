use std::collections::{BTreeMap, BTreeSet};

use super::*;
use crate::export;

fn sample() -> DossierJson {
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/dossiers/exemple-developpeuse-ia.json"
    ))
    .unwrap();
    export::parse(&bytes).unwrap()
}

fn review(juror: &str, links: &[(Evidence, &[&str])], ratings: &[(&str, u8)]) -> JurorReview {
    JurorReview {
        juror: juror.into(),
        annotations: Vec::new(),
        links: links
            .iter()
            .map(|(e, cs)| {
                (
                    *e,
                    cs.iter().map(|c| c.to_string()).collect::<BTreeSet<_>>(),
                )
            })
            .collect(),
        ratings: ratings
            .iter()
            .map(|(c, s)| {
                (
                    c.to_string(),
                    Rating {
                        level: Level::from_score(*s).unwrap(),
                        justification: format!("{juror} : {c}"),
                    },
                )
            })
            .collect(),
    }
}

#[test]
fn levels_are_the_grids_four() {
    assert_eq!(Level::from_score(4), None);
    let all: Vec<Level> = (0..4).map(|s| Level::from_score(s).unwrap()).collect();
    assert_eq!(
        all.iter().map(|l| l.score()).collect::<Vec<_>>(),
        [0, 1, 2, 3]
    );
    assert_eq!(
        all.iter().map(|l| l.acquired()).collect::<Vec<_>>(),
        [false, false, true, true]
    );
    assert_eq!(Level::EnCours.label_fr(), "en cours d'acquisition");
}

#[test]
fn two_jurors_views_merge_without_overwriting_and_show_gaps_and_disagreements() {
    let json = sample();
    let referentiel = json.referentiel.clone().unwrap();
    let evidence = [Evidence::Fiche(0), Evidence::Fiche(1), Evidence::Annexe(5)];
    let a = review(
        "Juré A",
        &[
            (Evidence::Fiche(0), &["C1", "C2#3"]),
            (Evidence::Annexe(5), &["C4"]),
        ],
        &[("C1", 3), ("C2", 2), ("C4", 1)],
    );
    let b = review(
        "Juré B",
        &[(Evidence::Fiche(0), &["C1"]), (Evidence::Fiche(1), &["C6"])],
        &[("C1", 2), ("C4", 3), ("C6", 2)],
    );
    let merged = coverage(&referentiel, &evidence, &[a.clone(), b.clone()]);
    assert_eq!(merged.len(), referentiel.competences().count());
    let row = |code: &str| merged.iter().find(|r| r.competence == code).unwrap();
    // Both jurors' links are there, each under its own name.
    assert_eq!(row("C1").cells[0], vec!["Juré A", "Juré B"]);
    assert_eq!(
        row("C2").cells[0],
        vec!["Juré A"],
        "a criterion link counts for its compétence"
    );
    assert_eq!(row("C6").cells[1], vec!["Juré B"]);
    assert_eq!(row("C4").cells[2], vec!["Juré A"]);
    // Ratings side by side; 3 vs 2 agree (both acquired), 1 vs 3 do not.
    assert_eq!(
        row("C1").ratings,
        vec![
            ("Juré A".into(), Level::Maitrise),
            ("Juré B".into(), Level::Acquis)
        ]
    );
    assert!(!row("C1").disagreement);
    assert!(row("C4").disagreement);
    // Gaps: nobody linked any evidence to C3 or C21.
    assert!(row("C3").gap && row("C21").gap && !row("C1").gap);
    // One juror's own view: the other's links are not in it.
    let only_a = coverage(&referentiel, &evidence, &[a]);
    assert!(only_a.iter().find(|r| r.competence == "C6").unwrap().gap);
}

#[test]
fn the_candidate_sees_the_coverage_of_their_own_fiches_and_annexes() {
    let json = sample();
    let referentiel = json.referentiel.clone().unwrap();
    let (evidence, mine) = candidate_mapping(&json);
    assert_eq!(evidence.len(), json.fiches.len() + json.annexes.len());
    let rows = coverage(&referentiel, &evidence, &[mine]);
    let row = |code: &str| rows.iter().find(|r| r.competence == code).unwrap();
    // Fiche 1 names C1–C3 and cites annexes 1, 2 and 5.
    assert!(!row("C1").cells[0].is_empty());
    let annexe_5 = evidence
        .iter()
        .position(|e| *e == Evidence::Annexe(5))
        .unwrap();
    assert!(!row("C2").cells[annexe_5].is_empty());
    // No fiche names C5: a gap to fill before submission.
    assert!(row("C5").gap);
    assert!(rows.iter().all(|r| r.ratings.is_empty()));
}

#[test]
fn the_outcome_follows_the_templates_four_decisions() {
    let referentiel = sample().referentiel.unwrap();
    let codes: Vec<String> = referentiel
        .competences()
        .map(|(_, c)| c.code.clone())
        .collect();
    let all = |v: bool| {
        codes
            .iter()
            .map(|c| (c.clone(), v))
            .collect::<BTreeMap<_, _>>()
    };
    assert_eq!(outcome(&referentiel, &all(true)), Outcome::Totale);
    assert_eq!(outcome(&referentiel, &all(false)), Outcome::NonValidation);
    assert_eq!(
        outcome(&referentiel, &BTreeMap::new()),
        Outcome::NonValidation
    );
    // Bloc 1 whole (C1–C5), nothing else.
    let mut bloc1 = all(false);
    for c in ["C1", "C2", "C3", "C4", "C5"] {
        bloc1.insert(c.into(), true);
    }
    assert_eq!(
        outcome(&referentiel, &bloc1),
        Outcome::Blocs { blocs: vec![1] }
    );
    let results = bloc_results(&referentiel, &bloc1);
    assert_eq!(results, vec![(1, true), (2, false), (3, false)]);
    // Some compétences of several blocs, no bloc whole: partielle, the rest to acquire.
    let mut some = all(false);
    some.insert("C1".into(), true);
    some.insert("C9".into(), true);
    let Outcome::Partielle { a_acquerir } = outcome(&referentiel, &some) else {
        panic!("partielle expected");
    };
    assert_eq!(a_acquerir.len(), codes.len() - 2);
    assert!(!a_acquerir.contains(&"C1".to_string()) && a_acquerir.contains(&"C2".to_string()));
}

#[test]
fn an_image_region_must_be_inside_the_image_and_not_empty() {
    assert!(Target::image_region(6, 0.1, 0.2, 0.5, 0.3).is_some());
    assert!(Target::image_region(6, 0.0, 0.0, 1.0, 1.0).is_some());
    for (x, y, w, h) in [
        (0.6, 0.0, 0.5, 0.5),
        (0.0, 0.6, 0.5, 0.5),
        (-0.1, 0.0, 0.5, 0.5),
        (0.1, 0.1, 0.0, 0.5),
        (0.1, 0.1, 0.5, -0.2),
        (f32::NAN, 0.1, 0.5, 0.5),
        (0.1, 0.1, f32::INFINITY, 0.5),
    ] {
        assert!(
            Target::image_region(6, x, y, w, h).is_none(),
            "{x} {y} {w} {h}"
        );
    }
}
