//! How far each step of the livret is filled, and what is left in it: the sommaire's
//! completion per section and the « Ce qu'il reste à faire » view. Read from the document
//! itself (a few map lookups per field), so it can follow every keystroke.
//!
//! A step counts the questions the template asks of it, as asked: a question that follows
//! an answer (« Si vous êtes en poste… », [`crate::template::ASKED_AFTER`]) only once that
//! answer is chosen; the « Précisions » we added beside the template's questions, and
//! « Depuis », are never owed. A fiche activité owes what a jury reads first: its title, the
//! compétences it proves, its context, its tasks and its results. Annexes are optional.

use crate::dossier::{Answer, Dossier, FieldKind, SECTIONS};
use crate::field_path::{FieldPath, Place};
use crate::template;

/// One step: the questions it asks, and the fields among them still empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepProgress {
    /// The template's section (`etat_civil`… `fiches`, `declaration`).
    pub section: &'static str,
    pub asked: usize,
    /// Each empty field's dotted path (`etat_civil.nom`, `fiches.2.contexte` with the fiche's
    /// place), in the order the step shows them.
    pub missing: Vec<String>,
}

impl StepProgress {
    pub fn filled(&self) -> usize {
        self.asked - self.missing.len()
    }

    pub fn is_done(&self) -> bool {
        self.missing.is_empty()
    }
}

/// Fields beside the template's questions that nobody owes.
const NEVER_OWED: &[(&str, &str)] = &[
    ("situation", "depuis"),
    ("situation", "precisions"),
    ("financement", "precisions"),
];

/// Questions always shown but owed only after an answer: the template asks the position
/// and the employer under « Vous êtes actuellement en poste ».
const OWED_AFTER: &[(&str, &str, &str, &str)] = &[
    ("situation", "emploi", "statut", "en_poste"),
    ("situation", "employeur", "statut", "en_poste"),
];

/// What a fiche activité owes.
const FICHE_OWES: &[&str] = &["intitule", "competences", "contexte", "taches", "resultats"];

/// Every step of the template with questions, in the template's order.
pub fn steps(dossier: &mut Dossier) -> Vec<StepProgress> {
    let mut out = Vec::new();
    for section in dossier.template().sections {
        match section.key {
            "annexes" => {}
            "fiches" => out.push(fiches(dossier)),
            key => {
                let Some((_, fields)) = SECTIONS.iter().find(|(s, _)| *s == key) else {
                    continue;
                };
                let mut step = StepProgress {
                    section: section.key,
                    asked: 0,
                    missing: Vec::new(),
                };
                // The section, then each further structure or poste it has, asks the same.
                let repeats = dossier.repeats(key);
                let places = std::iter::once(Place::Section(section.key))
                    .chain(repeats.into_iter().map(|id| Place::Repeat(section.key, id)));
                for place in places {
                    // The template's questions, in the model's order.
                    let asks = |field: &str| section.fields.iter().any(|f| f.key == field);
                    for (field, kind) in fields.iter().filter(|(field, _)| asks(field)) {
                        let Some(path) = FieldPath::at(place, field) else {
                            continue;
                        };
                        if NEVER_OWED.contains(&(key, field))
                            || !asked(dossier, &path)
                            || !owed(dossier, &path)
                        {
                            continue;
                        }
                        step.asked += 1;
                        if !answered(*kind, &dossier.get_field(&path)) {
                            step.missing.push(path.to_string());
                        }
                    }
                }
                out.push(step);
            }
        }
    }
    out
}

fn fiches(dossier: &mut Dossier) -> StepProgress {
    let mut step = StepProgress {
        section: "fiches",
        asked: 0,
        missing: Vec::new(),
    };
    // What a fiche owes, of what the dossier's template asks.
    let template = dossier.template();
    let owes: Vec<&str> = FICHE_OWES
        .iter()
        .copied()
        .filter(|field| template.field("fiches", field).is_some())
        .collect();
    let order = dossier.fiche_order();
    if order.is_empty() {
        // No fiche yet: the first one is owed, whole.
        step.asked = owes.len().max(1);
        step.missing.push("fiches".to_string());
        return step;
    }
    for place in order {
        for field in &owes {
            let Some(path) = FieldPath::fiche(place, field) else {
                continue;
            };
            step.asked += 1;
            if !answered(path.kind(), &dossier.get_field(&path)) {
                step.missing.push(path.to_string());
            }
        }
    }
    step
}

/// Whether a field holds an answer: a list with an item, a ticked box, a chosen answer or a
/// day (free text kept from an older version is still to be chosen), any other text.
fn answered(kind: FieldKind, stored: &str) -> bool {
    if kind == FieldKind::List {
        return serde_json::from_str::<Vec<String>>(stored)
            .map_or(!stored.trim().is_empty(), |items| {
                items.iter().any(|i| !i.trim().is_empty())
            });
    }
    let answer = Answer::of(kind, stored);
    !matches!(answer, Answer::Empty) && !answer.is_as_written(kind)
}

/// Whether a question always shown is owed given the answers so far.
fn owed(dossier: &mut Dossier, path: &FieldPath) -> bool {
    let Some(section) = section_of(path.place()) else {
        return true;
    };
    OWED_AFTER
        .iter()
        .filter(|(s, f, _, _)| *s == section && *f == path.field())
        .all(|(_, _, after, answer)| chosen(dossier, path.place(), after) == Some(*answer))
}

/// Whether the template asks the field at `path` given the answers so far, at its place: a
/// further poste's « précisez » follows that poste's own answer.
pub fn asked(dossier: &mut Dossier, path: &FieldPath) -> bool {
    let Some(section) = section_of(path.place()) else {
        return true;
    };
    template::is_asked(section, path.field(), &mut |after| {
        chosen(dossier, path.place(), after)
    })
}

/// The template's section a section's (or a further structure's or poste's) field is of.
fn section_of(place: Place) -> Option<&'static str> {
    match place {
        Place::Section(section) | Place::Repeat(section, _) => Some(section),
        Place::Fiche(_) | Place::Annexe(_) => None,
    }
}

/// The key of the answer chosen for `field` at `place`, if it is a choice and one is chosen.
fn chosen(dossier: &mut Dossier, place: Place, field: &str) -> Option<&'static str> {
    let path = FieldPath::at(place, field)?;
    match Answer::of(path.kind(), &dossier.get_field(&path)) {
        Answer::Chosen(c) => Some(c.key),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step<'a>(steps: &'a [StepProgress], section: &str) -> &'a StepProgress {
        steps.iter().find(|s| s.section == section).unwrap()
    }

    #[test]
    fn each_step_counts_what_it_asks_and_names_what_is_left() {
        let mut d = Dossier::new(b"a");
        let all = steps(&mut d);
        let order: Vec<&str> = all.iter().map(|s| s.section).collect();
        assert_eq!(
            order,
            [
                "etat_civil",
                "situation",
                "financement",
                "projet_vae",
                "motivation",
                "cv",
                "structure",
                "poste",
                "fiches",
                "declaration"
            ]
        );
        // Situation, nothing chosen: whether in work (the position and the employer are
        // owed by someone in work only).
        let situation = step(&all, "situation");
        assert_eq!(situation.missing, ["situation.statut"]);
        assert_eq!(step(&all, "fiches").missing, ["fiches"]);
        assert_eq!(step(&all, "etat_civil").asked, 12);

        // In work, part time: the contract, the working time, its percentage and the
        // category are asked; free text where an answer is chosen is still owed.
        d.set("situation.statut", "en poste").unwrap();
        d.set("situation.temps", "partiel").unwrap();
        d.set_as_written("situation.csp", "technicienne supérieure")
            .unwrap();
        let all = steps(&mut d);
        let situation = step(&all, "situation");
        assert_eq!(situation.asked, 7);
        assert_eq!(
            situation.missing,
            [
                "situation.emploi",
                "situation.employeur",
                "situation.contrat",
                "situation.quotite",
                "situation.csp"
            ]
        );
        // Out of work: only France Travail is asked; the step can be complete.
        d.set("situation.statut", "sans emploi").unwrap();
        let all = steps(&mut d);
        let situation = step(&all, "situation");
        assert_eq!(situation.missing, ["situation.inscrit_france_travail"]);
        d.set("situation.inscrit_france_travail", "non").unwrap();
        assert!(step(&steps(&mut d), "situation").is_done());

        // A fiche owes its five fields; a deleted one nothing.
        d.set("fiches.0.intitule", "Déployer").unwrap();
        d.set("fiches.0.competences", "C1, C2").unwrap();
        d.set("fiches.1.intitule", "Supprimée").unwrap();
        d.delete_fiche(1).unwrap();
        let fiches = step(&steps(&mut d), "fiches").clone();
        assert_eq!(fiches.asked, 5);
        assert_eq!(
            fiches.missing,
            ["fiches.0.contexte", "fiches.0.taches", "fiches.0.resultats"]
        );
        assert_eq!(fiches.filled(), 2);
    }

    #[test]
    fn a_further_poste_owes_its_questions_as_asked_after_its_own_answers() {
        let mut d = Dossier::new(b"a");
        let poste = step(&steps(&mut d), "poste").clone();
        assert_eq!(
            poste.missing,
            [
                "poste.intitule",
                "poste.statut",
                "poste.rattachement",
                "poste.missions"
            ]
        );
        let id = d.add_repeat("poste").unwrap();
        let path = |key: &str| FieldPath::repeat("poste", id, key).unwrap();
        d.set(&path("statut"), "autre").unwrap();
        d.set(&path("intitule"), "Bénévole au club").unwrap();
        let poste = step(&steps(&mut d), "poste").clone();
        assert_eq!(
            poste.asked,
            4 + 5,
            "the further poste asks « précisez » too"
        );
        let mine: Vec<&String> = poste
            .missing
            .iter()
            .filter(|p| p.contains('.') && p.matches('.').count() == 2)
            .collect();
        assert_eq!(
            mine,
            [
                &path("statut_autre").to_string(),
                &path("rattachement").to_string(),
                &path("missions").to_string()
            ]
        );
        // The section's own « précisez » follows its own answer, not the further one's.
        assert!(!asked(
            &mut d,
            &FieldPath::section("poste", "statut_autre").unwrap()
        ));
        assert!(asked(&mut d, &path("statut_autre")));
        // Deleted, it owes nothing.
        d.delete_repeat("poste", id).unwrap();
        assert_eq!(step(&steps(&mut d), "poste").asked, 4);
    }

    #[test]
    fn the_sample_dossier_answers_every_question_it_is_asked() {
        let json = crate::export::parse(include_bytes!(
            "../../fixtures/dossiers/exemple-developpeuse-ia.json"
        ))
        .unwrap();
        let mut d = Dossier::new(b"a");
        crate::export::fill(&mut d, &json).unwrap();
        let left: Vec<String> = steps(&mut d).into_iter().flat_map(|s| s.missing).collect();
        // Read in its JSON: every owed field of its four fiches and its sections is filled
        // (in work full time as a cadre, funded otherwise: nothing more is asked).
        assert_eq!(left, Vec::<String>::new());
        // Emptied, a field is owed again.
        d.set("poste.missions", "").unwrap();
        let left: Vec<String> = steps(&mut d).into_iter().flat_map(|s| s.missing).collect();
        assert_eq!(left, ["poste.missions"]);
    }
}
