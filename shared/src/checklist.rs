//! What to look at before exporting the livret: the checks a careful advisor makes before a
//! candidate files it — who they are and what they aim at, the motivation, fiches that say
//! what was done and which compétences they prove, evidence that a fiche cites, the
//! déclaration's place, date and name. They explain; they never block (a draft PDF is
//! legitimate). One list for the app's export panel and the CLI's `livret export`, read from
//! the dossier as it is exported ([`DossierJson`]).

use std::collections::BTreeMap;

use crate::date::Date;
use crate::dossier::{Answer, SECTIONS};
use crate::export::{DossierJson, FieldValue};
use crate::field_path::FieldPath;

/// One check: what is looked at, whether it holds, what to do when it does not, and the
/// field to go to (`section.key`, or `fiches.N.key` with N the fiche's position as shown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub what: (String, String),
    pub ok: bool,
    pub advice: (String, String),
    pub field: Option<String>,
}

fn text(value: Option<&FieldValue>) -> &str {
    match value {
        Some(FieldValue::Text(t)) => t.trim(),
        _ => "",
    }
}

fn list(value: Option<&FieldValue>) -> Vec<&str> {
    match value {
        Some(FieldValue::List(items)) => items
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .collect(),
        Some(FieldValue::Text(t)) if !t.trim().is_empty() => vec![t.trim()],
        _ => Vec::new(),
    }
}

fn check(what: (&str, &str), ok: bool, advice: (String, String), field: Option<String>) -> Check {
    Check {
        what: (what.0.to_string(), what.1.to_string()),
        ok,
        advice,
        field,
    }
}

fn advice(fr: &str, en: &str) -> (String, String) {
    (fr.to_string(), en.to_string())
}

/// Every check, in the order of the livret.
pub fn before_export(json: &DossierJson) -> Vec<Check> {
    let field = |section: &str, key: &str| json.sections.get(section).and_then(|s| s.get(key));
    let filled = |section: &str, key: &str| !text(field(section, key)).is_empty();
    let mut checks = Vec::new();
    let template = json.template();

    let named = filled("etat_civil", "nom") && filled("etat_civil", "prenom");
    checks.push(check(
        ("Vos nom et prénom", "Your surname and first name"),
        named,
        advice(
            "Indiquez-les dans l'état civil : le certificateur identifie le dossier par eux.",
            "Give them in the état civil: the certifier identifies the dossier by them.",
        ),
        Some(if filled("etat_civil", "nom") {
            "etat_civil.prenom".into()
        } else {
            "etat_civil.nom".into()
        }),
    ));
    // Free text an older version kept where the template now has answers to circle or a
    // date: kept as written until the candidate picks the answer it meant. The signature's
    // date has a check of its own, below.
    // Each section's answers, then each further structure's or poste's (read against its
    // own choices), in the template's order, with the prefix of their fields' paths.
    let none = BTreeMap::new();
    let places: Vec<(String, &str, &BTreeMap<String, FieldValue>)> = SECTIONS
        .iter()
        .flat_map(|(section, _)| {
            let own = (
                section.to_string(),
                *section,
                json.sections.get(*section).unwrap_or(&none),
            );
            let repeats = json
                .autres
                .get(*section)
                .into_iter()
                .flatten()
                .filter(|item| !item.supprimee)
                .map(move |item| (format!("{section}.{}", item.id), *section, &item.champs));
            std::iter::once(own).chain(repeats)
        })
        .collect();
    let as_written: Vec<(String, String)> = places
        .iter()
        .flat_map(|(prefix, section, values)| {
            crate::dossier::section_fields(section)
                .iter()
                .filter(move |(key, _)| (*section, *key) != ("declaration", "date"))
                .filter(move |(key, _)| template.field(section, key).is_some())
                .filter_map(move |(key, kind)| {
                    let value = text(values.get(*key));
                    Answer::of(*kind, value)
                        .is_as_written(*kind)
                        .then(|| (format!("{prefix}.{key}"), value.to_string()))
                })
        })
        .collect();
    let listed = |english: bool| in_words(json, &as_written, english);
    checks.push(check(
        (
            "Les réponses à choisir et les dates",
            "Answers to choose and dates",
        ),
        as_written.is_empty(),
        (
            format!(
                "Choisissez la réponse ou la date qui correspond à ce que vous aviez écrit : {}. \
                 Ce que vous aviez écrit reste affiché jusque-là.",
                listed(false)
            ),
            format!(
                "Choose the answer or the date that matches what you had written: {}. What \
                 you had written stays shown until then.",
                listed(true)
            ),
        ),
        as_written.first().map(|(path, _)| path.clone()),
    ));
    // Answers to questions no longer asked (« Précisez » of another financement, the
    // contract of someone now out of work): kept, shown with a note, left out of the PDF.
    let no_longer_asked: Vec<(String, String)> = crate::template::ASKED_AFTER
        .iter()
        .flat_map(|(section, field, _, _)| {
            places
                .iter()
                .filter(move |(_, s, values)| {
                    s == section && !crate::export::is_asked_in(s, values, field)
                })
                .filter_map(move |(prefix, _, values)| {
                    let value = values.get(*field).map(FieldValue::text).unwrap_or_default();
                    (!value.is_empty()).then(|| (format!("{prefix}.{field}"), value))
                })
        })
        .collect();
    let kept = |english: bool| in_words(json, &no_longer_asked, english);
    checks.push(check(
        (
            "Des réponses qui ne s'appliquent plus",
            "Answers that no longer apply",
        ),
        no_longer_asked.is_empty(),
        (
            format!(
                "Ces réponses ne correspondent plus à ce que vous avez choisi et ne seront pas \
                 imprimées : {}. Effacez-les, ou déplacez ce qui compte dans un champ qui \
                 s'applique.",
                kept(false)
            ),
            format!(
                "These answers no longer match what you chose and will not be printed: {}. \
                 Clear them, or move what matters to a field that applies.",
                kept(true)
            ),
        ),
        no_longer_asked.first().map(|(path, _)| path.clone()),
    ));
    checks.push(check(
        ("La certification visée", "The certification aimed at"),
        filled("projet_vae", "certification"),
        advice(
            "Nommez la certification (et son numéro RNCP) dans le projet de VAE.",
            "Name the certification (and its RNCP number) in the VAE project.",
        ),
        Some("projet_vae.certification".into()),
    ));
    checks.push(check(
        ("Votre motivation", "Your motivation"),
        filled("motivation", "lettre"),
        advice(
            "Écrivez quelques lignes sur ce qui vous amène à la VAE.",
            "Write a few lines on what brings you to VAE.",
        ),
        Some("motivation.lettre".into()),
    ));

    let fiches: Vec<_> = json.fiches.iter().filter(|f| !f.supprimee).collect();
    checks.push(check(
        (
            "Au moins une fiche descriptive d'activité",
            "At least one activity sheet",
        ),
        !fiches.is_empty(),
        advice(
            "Le jury évalue vos compétences sur vos fiches : décrivez au moins une activité.",
            "The jury assesses your skills from your sheets: describe at least one activity.",
        ),
        Some("fiches".into()),
    ));
    for (shown, fiche) in fiches.iter().enumerate() {
        let n = shown + 1;
        let get = |key: &str| text(fiche.champs.get(key));
        // Of what the dossier's template asks.
        let missing: Vec<&str> = ["intitule", "contexte", "taches", "resultats"]
            .into_iter()
            .filter(|key| template.field("fiches", key).is_some() && get(key).is_empty())
            .collect();
        let fr_what = format!("Fiche {n} : ce que vous avez fait");
        let en_what = format!("Sheet {n}: what you did");
        checks.push(Check {
            what: (fr_what, en_what),
            ok: missing.is_empty(),
            advice: (
                format!(
                    "À remplir : {}.",
                    missing
                        .iter()
                        .map(|k| french_name(k))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                format!("To fill in: {}.", missing.join(", ")),
            ),
            field: missing.first().map(|k| format!("fiches.{shown}.{k}")),
        });
        if json.referentiel.is_some() {
            checks.push(Check {
                what: (
                    format!("Fiche {n} : les compétences qu'elle prouve"),
                    format!("Sheet {n}: the compétences it proves"),
                ),
                ok: !list(fiche.champs.get("competences")).is_empty(),
                advice: advice(
                    "Cochez les compétences du référentiel que cette activité démontre.",
                    "Tick the référentiel's compétences this activity shows.",
                ),
                field: Some(format!("fiches.{shown}.competences")),
            });
        }
    }

    // Evidence no fiche cites: the jury will not know what it proves.
    let cited: Vec<&str> = fiches
        .iter()
        .flat_map(|f| list(f.champs.get("preuves")))
        .collect();
    let uncited: Vec<u32> = json
        .annexes
        .iter()
        .map(|a| a.numero)
        .filter(|n| !cited.contains(&n.to_string().as_str()))
        .collect();
    if !json.annexes.is_empty() {
        let numbers = uncited
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        checks.push(Check {
            what: (
                "Chaque annexe citée par une fiche".into(),
                "Each annex cited by a sheet".into(),
            ),
            ok: uncited.is_empty(),
            advice: (
                format!(
                    "Annexe(s) {numbers} : citez-les dans les preuves de la fiche qu'elles appuient."
                ),
                format!("Annex(es) {numbers}: cite them in the evidence of the sheet they support."),
            ),
            field: None,
        });
    }

    let ticked = |key: &str| text(field("declaration", key)) == crate::dossier::TICKED;
    checks.push(check(
        (
            "Les deux cases de la déclaration sur l'honneur",
            "Both boxes of the sworn declaration",
        ),
        ticked("fraudes") && ticked("exactitude"),
        advice(
            "Cochez les deux cases de la déclaration : le livret n'est pas recevable sans elles.",
            "Tick both boxes of the declaration: the livret cannot be accepted without them.",
        ),
        Some(if ticked("fraudes") {
            "declaration.exactitude".into()
        } else {
            "declaration.fraudes".into()
        }),
    ));
    let date = text(field("declaration", "date"));
    checks.push(check(
        ("Le lieu de signature", "Where you sign"),
        filled("declaration", "lieu"),
        advice(
            "Indiquez la commune où vous signez la déclaration (« Fait à »).",
            "Give the town where you sign the declaration (“Signed at”).",
        ),
        Some("declaration.lieu".into()),
    ));
    checks.push(check(
        ("La date de signature", "The date of signing"),
        Date::read(date).is_some(),
        advice(
            "Indiquez le jour où vous signez la déclaration.",
            "Give the day you sign the declaration.",
        ),
        Some("declaration.date".into()),
    ));
    checks.push(check(
        (
            "Vos nom et prénom sous la déclaration",
            "Your name under the declaration",
        ),
        filled("declaration", "signature"),
        advice(
            "Écrivez vos nom et prénom : c'est votre signature de la déclaration sur l'honneur.",
            "Write your surname and first name: it is your signature of the sworn declaration.",
        ),
        Some("declaration.signature".into()),
    ));
    // A check of a field the dossier's template does not ask has nothing to tell.
    checks.retain(|c| {
        c.field.as_deref().is_none_or(|path| {
            let parts: Vec<&str> = path.split('.').collect();
            match parts[..] {
                [section] => template.section(section).is_some(),
                [section, .., key] if section == "fiches" => {
                    key.parse::<usize>().is_ok() || template.field(section, key).is_some()
                }
                [section, .., key] => template.field(section, key).is_some(),
                [] => true,
            }
        })
    });
    checks
}

/// Fields and what they hold, in words: « Civilité (« Madame ») », a chosen answer by its
/// label, anything else as written.
fn in_words(json: &DossierJson, fields: &[(String, String)], english: bool) -> String {
    fields
        .iter()
        .map(|(path, value)| {
            // `section.key`, or `section.id.key` for a further structure or poste, named
            // by its number as shown: « Fiche descriptive du poste occupé (2) — … ».
            let parts: Vec<&str> = path.split('.').collect();
            let (section, key) = (parts[0], parts[parts.len() - 1]);
            let template = json.template();
            let (fr, en) = template
                .field(section, key)
                .map_or(("", ""), |f| (f.label_fr, f.label_en));
            let (fr, en) = match parts[..] {
                [_, id, _] => {
                    let number = json
                        .autres
                        .get(section)
                        .into_iter()
                        .flatten()
                        .filter(|item| !item.supprimee)
                        .position(|item| item.id == id)
                        .map_or(0, |i| i + 2);
                    let title = template
                        .section(section)
                        .map_or(("", ""), |s| (s.title_fr, s.title_en));
                    (
                        format!("{} ({number}) — {fr}", title.0),
                        format!("{} ({number}) — {en}", title.1),
                    )
                }
                _ => (fr.to_string(), en.to_string()),
            };
            let kind = path.parse::<FieldPath>().map(|p| p.kind());
            let value = match kind.map(|kind| Answer::of(kind, value)) {
                Ok(Answer::Chosen(c)) if english => c.label_en.to_string(),
                Ok(Answer::Chosen(c)) => c.label_fr.to_string(),
                _ => value.clone(),
            };
            if english {
                format!("{en} (“{value}”)")
            } else {
                format!("{fr} (« {value} »)")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn french_name(key: &str) -> &'static str {
    match key {
        "intitule" => "l'intitulé",
        "contexte" => "le contexte",
        "taches" => "les tâches",
        "resultats" => "les résultats",
        _ => "un champ",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::{AnnexeJson, FicheJson};
    use std::collections::BTreeMap;

    fn fields(pairs: &[(&str, &str)]) -> BTreeMap<String, FieldValue> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), FieldValue::Text(v.to_string())))
            .collect()
    }

    fn empty() -> DossierJson {
        DossierJson {
            format: "livret".into(),
            version: 1,
            referentiel: None,
            // The words the checks are worded with below are ANNEXE 5's.
            modele: crate::template::TemplateFile::read(crate::template::annexe5().pinned).ok(),
            sections: BTreeMap::new(),
            fiches: Vec::new(),
            autres: BTreeMap::new(),
            annexes: Vec::new(),
            commentaires: Vec::new(),
        }
    }

    fn failing(checks: &[Check]) -> Vec<&str> {
        checks
            .iter()
            .filter(|c| !c.ok)
            .map(|c| c.what.0.as_str())
            .collect()
    }

    #[test]
    fn an_empty_dossier_is_told_everything_it_lacks() {
        let checks = before_export(&empty());
        assert_eq!(
            failing(&checks),
            [
                "Vos nom et prénom",
                "La certification visée",
                "Votre motivation",
                "Au moins une fiche descriptive d'activité",
                "Les deux cases de la déclaration sur l'honneur",
                "Le lieu de signature",
                "La date de signature",
                "Vos nom et prénom sous la déclaration",
            ]
        );
        assert_eq!(
            checks[0].field.as_deref(),
            Some("etat_civil.nom"),
            "goes to the first field missing"
        );
    }

    #[test]
    fn a_filled_dossier_passes_and_uncited_evidence_and_bad_dates_are_said() {
        let mut json = empty();
        json.sections.insert(
            "etat_civil".into(),
            fields(&[("nom", "Durand"), ("prenom", "Anna")]),
        );
        json.sections.insert(
            "projet_vae".into(),
            fields(&[("certification", "Développeur")]),
        );
        json.sections.insert(
            "motivation".into(),
            fields(&[("lettre", "Valider dix ans.")]),
        );
        json.sections.insert(
            "declaration".into(),
            fields(&[
                ("fraudes", "oui"),
                ("exactitude", "oui"),
                ("lieu", "Lyon"),
                ("date", "31/02/2027"),
                ("signature", "Anna Durand"),
            ]),
        );
        let mut champs = fields(&[
            ("intitule", "Déployer"),
            ("contexte", "PME"),
            ("taches", "Scripts"),
            ("resultats", "En production"),
        ]);
        champs.insert("preuves".into(), FieldValue::List(vec!["1".into()]));
        json.fiches.push(FicheJson {
            supprimee: false,
            champs,
        });
        // A deleted fiche counts for nothing, even empty.
        json.fiches.push(FicheJson {
            supprimee: true,
            champs: BTreeMap::new(),
        });
        for numero in [1, 2] {
            json.annexes.push(AnnexeJson {
                numero,
                titre: format!("Pièce {numero}"),
                fichier: "x.pdf".into(),
                media_type: "application/pdf".into(),
                taille: 1,
                empreinte: String::new(),
            });
        }
        let checks = before_export(&json);
        assert_eq!(
            failing(&checks),
            ["Chaque annexe citée par une fiche", "La date de signature"]
        );
        let uncited = checks.iter().find(|c| !c.ok).unwrap();
        assert!(
            uncited.advice.0.starts_with("Annexe(s) 2 :"),
            "{:?}",
            uncited.advice
        );
    }

    #[test]
    fn free_text_kept_where_an_answer_is_chosen_is_said_and_led_to() {
        let mut json = empty();
        json.sections.insert(
            "situation".into(),
            fields(&[("statut", "Salariée en CDI"), ("contrat", "cdi")]),
        );
        json.sections.insert(
            "etat_civil".into(),
            fields(&[("civilite", "Mme"), ("date_naissance", "vers 1989")]),
        );
        let checks = before_export(&json);
        let check = checks
            .iter()
            .find(|c| c.what.0 == "Les réponses à choisir et les dates")
            .unwrap();
        assert!(!check.ok);
        assert_eq!(check.field.as_deref(), Some("etat_civil.date_naissance"));
        assert!(
            check.advice.0.contains(
                "Date de naissance (« vers 1989 »), Vous êtes actuellement (« Salariée en CDI »)"
            ),
            "{:?}",
            check.advice.0
        );
        assert!(
            !check.advice.0.contains("Mme"),
            "a recognised answer is no question"
        );

        // Answers to questions no longer asked: named, with the answers' words.
        json.sections.insert(
            "financement".into(),
            fields(&[
                ("mode", "france_travail"),
                ("organisme", "Caisse des dépôts"),
            ]),
        );
        let kept = before_export(&json)
            .into_iter()
            .find(|c| c.what.0 == "Des réponses qui ne s'appliquent plus")
            .unwrap();
        assert!(!kept.ok);
        assert_eq!(kept.field.as_deref(), Some("situation.contrat"));
        assert!(
            kept.advice.0.contains(
                "Nature de votre contrat de travail (« CDI »), Précisez (« Caisse des dépôts »)"
            ),
            "{}",
            kept.advice.0
        );
        // A further poste's « précisez » follows that poste's own answer: named when it
        // applies no more there, whatever the first poste says.
        json.sections
            .insert("poste".into(), fields(&[("statut", "autre")]));
        json.autres.insert(
            "poste".into(),
            vec![crate::export::RepeatJson {
                id: "00c0ffee00000001".into(),
                supprimee: false,
                champs: fields(&[("statut", "salarie"), ("statut_autre", "Portage")]),
            }],
        );
        let kept = before_export(&json)
            .into_iter()
            .find(|c| c.what.0 == "Des réponses qui ne s'appliquent plus")
            .unwrap();
        assert!(
            kept.advice.0.contains(
                ", Fiche descriptive du poste occupé (2) — Autre statut : précisez (« Portage »)."
            ),
            "{}",
            kept.advice.0
        );
        json.autres.clear();
        json.sections.remove("poste");
        json.sections
            .insert("situation".into(), fields(&[("statut", "en_poste")]));
        json.sections.insert(
            "etat_civil".into(),
            fields(&[("date_naissance", "12/04/1989")]),
        );
        let check = before_export(&json)
            .into_iter()
            .find(|c| c.what.0 == "Les réponses à choisir et les dates")
            .unwrap();
        assert!(check.ok, "{:?}", check.advice);
    }
}
