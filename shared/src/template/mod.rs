//! The words of the official Livret 2 template, for every section and field of the dossier.
//!
//! The template is ANNEXE 5 « Livret 2 VAE » of the RNCP37827 règlement (kept in
//! `fixtures/referentiels/002-developpeur-intelligence-artificielle-rncp37827.txt`). For each
//! section and field of [`crate::dossier`] this module gives the French label, an English
//! label, and the guidance (« consignes ») the template prints beside it.
//!
//! Field guidance marked `from_template` is the template's own text, quoted or shortened.
//! Where the template prints only a label and a blank line, we wrote one plain sentence
//! ourselves (`from_template: false`), kept factual so that it never reads as an extra
//! requirement of the certifier. Section guidance is only ever the template's text.
//!
//! Parts of the template with no field in the model (contenu du livret, récapitulatif des
//! compétences, entretien devant le jury, informations générales) have no section here; the
//! sentences of theirs that help a candidate fill a field are reused on that field (date du
//! jury, blocs visés).
//!
//! Pure data, no I/O: the browser editor and the tests read the same tables.

pub mod file;

pub use file::{Information, Template, TemplateError, TemplateFile};

/// One field's words, in the template's language and in English.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldText {
    /// The model's field name, e.g. `"contexte"`.
    pub key: &'static str,
    pub label_fr: &'static str,
    pub label_en: &'static str,
    /// What to write in the field; `""` if there is nothing to say.
    pub guidance_fr: &'static str,
    pub guidance_en: &'static str,
    /// Guidance quoted or adapted from ANNEXE 5 (`true`) or written by us (`false`), so the
    /// interface can tell the certifier's instructions from our help.
    pub from_template: bool,
}

/// One section's words, with its fields in the model's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SectionText {
    /// The model's section name, e.g. `"etat_civil"`; `"fiches"` for the fiches activité and
    /// `"annexes"` for the annexes.
    pub key: &'static str,
    pub title_fr: &'static str,
    pub title_en: &'static str,
    /// The template's instructions for the section as a whole, `""` where it prints none.
    /// Always from the template; a section whose only consigne concerns its single field
    /// carries it on that field instead, so the editor does not show it twice.
    pub guidance_fr: &'static str,
    pub guidance_en: &'static str,
    pub fields: &'static [FieldText],
}

/// One of the answers the template prints to circle (« entourez la mention correcte »).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Choice {
    /// What the dossier stores: plain ASCII, never shown and never reworded (a label can
    /// change, « Pôle emploi » became « France Travail », the stored answer stays).
    pub key: &'static str,
    pub label_fr: &'static str,
    pub label_en: &'static str,
    /// How people wrote this answer by hand before it was a choice, folded
    /// ([`crate::search::folded`], no final full stop): an older version's free text, or an
    /// old export, is read as this answer when it is one of these, its key or its label.
    pub also: &'static [&'static str],
}

/// The answer `written` stands for: its key, its label in either language, or one of the
/// ways people write it, whatever the case, accents or final full stop.
pub fn choice_of(options: &'static [Choice], written: &str) -> Option<&'static Choice> {
    // Case, accents, spaces (doubled, non-breaking) and a final full stop do not count.
    let fold = |text: &str| {
        let folded = crate::search::folded(text);
        let words: Vec<&str> = folded.split_whitespace().collect();
        words.join(" ").trim_end_matches('.').trim_end().to_string()
    };
    let folded = fold(written);
    let folded = folded.as_str();
    if folded.is_empty() {
        return None;
    }
    let same = |text: &str| fold(text) == folded;
    options.iter().find(|c| {
        c.key == folded || same(c.label_fr) || same(c.label_en) || c.also.contains(&folded)
    })
}

pub const CIVILITE: &[Choice] = &[
    Choice {
        key: "madame",
        label_fr: "Madame",
        label_en: "Ms",
        also: &["mme", "mrs", "mlle", "mademoiselle", "miss"],
    },
    Choice {
        key: "monsieur",
        label_fr: "Monsieur",
        label_en: "Mr",
        also: &["m", "mr"],
    },
];

pub const STATUT: &[Choice] = &[
    Choice {
        key: "en_poste",
        label_fr: "En poste",
        label_en: "In work",
        also: &["en emploi", "salarie", "salariee", "employe", "employee"],
    },
    Choice {
        key: "sans_emploi",
        label_fr: "Sans emploi",
        label_en: "Out of work",
        // Not « demandeur d'emploi »: a job seeker may work part of the time.
        also: &["au chomage", "chomage", "unemployed"],
    },
];

pub const CONTRAT: &[Choice] = &[
    Choice {
        key: "interim",
        label_fr: "Intérim",
        label_en: "Temporary agency work",
        also: &["interimaire"],
    },
    Choice {
        key: "cdd",
        label_fr: "CDD",
        label_en: "Fixed-term contract",
        also: &["contrat a duree determinee"],
    },
    Choice {
        key: "cdi",
        label_fr: "CDI",
        label_en: "Permanent contract",
        also: &["contrat a duree indeterminee"],
    },
];

pub const TEMPS: &[Choice] = &[
    Choice {
        key: "plein",
        label_fr: "Temps plein",
        label_en: "Full time",
        also: &["plein temps"],
    },
    Choice {
        key: "partiel",
        label_fr: "Temps partiel",
        label_en: "Part time",
        also: &["partiel"],
    },
];

pub const CSP: &[Choice] = &[
    Choice {
        key: "ouvrier_employe",
        label_fr: "Ouvrier/Employé",
        label_en: "Manual worker/employee",
        also: &[
            "ouvrier",
            "ouvriere",
            "employe",
            "employee",
            "ouvrier / employe",
        ],
    },
    Choice {
        key: "intermediaire",
        label_fr: "Profession intermédiaire",
        label_en: "Intermediate profession",
        also: &["technicien", "agent de maitrise"],
    },
    Choice {
        key: "cadre",
        label_fr: "Cadre",
        label_en: "Manager or professional",
        also: &["cadre superieur", "ingenieur"],
    },
    Choice {
        key: "autre",
        label_fr: "Autre",
        label_en: "Other",
        also: &[],
    },
];

pub const OUI_NON: &[Choice] = &[
    Choice {
        key: "oui",
        label_fr: "Oui",
        label_en: "Yes",
        also: &[],
    },
    Choice {
        key: "non",
        label_fr: "Non",
        label_en: "No",
        also: &[],
    },
];

/// The status the template's « Fiche descriptive du poste occupé » asks to tick: « Salarié ☐
/// Indépendant ☐ Bénévole ☐ Autre : ».
pub const STATUT_POSTE: &[Choice] = &[
    Choice {
        key: "salarie",
        label_fr: "Salarié(e)",
        label_en: "Employee",
        also: &["salarie", "salariee", "employe", "employee", "salarie(e)"],
    },
    Choice {
        key: "independant",
        label_fr: "Indépendant(e)",
        label_en: "Self-employed",
        also: &[
            "independante",
            "auto-entrepreneur",
            "auto-entrepreneuse",
            "freelance",
            "micro-entrepreneur",
            "micro-entrepreneuse",
        ],
    },
    Choice {
        key: "benevole",
        label_fr: "Bénévole",
        label_en: "Volunteer",
        also: &["volontaire"],
    },
    Choice {
        key: "autre",
        label_fr: "Autre",
        label_en: "Other",
        also: &[],
    },
];

/// The template's five ways to fund a VAE; « Pôle Emploi » has been France Travail since
/// 2024.
pub const FINANCEMENT_MODES: &[Choice] = &[
    Choice {
        key: "individuel",
        label_fr: "Individuel",
        label_en: "Self-funded",
        also: &["personnel", "autofinancement", "a mes frais", "moi-meme"],
    },
    Choice {
        key: "france_travail",
        label_fr: "France Travail (ex-Pôle emploi)",
        label_en: "France Travail (formerly Pôle emploi)",
        also: &["pole emploi", "france travail"],
    },
    Choice {
        key: "plan",
        label_fr: "Plan de montée en compétences",
        label_en: "Employer’s skills development plan",
        also: &["plan de developpement des competences"],
    },
    Choice {
        key: "opco",
        label_fr: "OPCO ou Association de transition professionnelle",
        label_en: "OPCO or Association de transition professionnelle",
        also: &[
            "transitions pro",
            "association de transition professionnelle",
        ],
    },
    Choice {
        key: "autre",
        label_fr: "Autre",
        label_en: "Other",
        also: &[],
    },
];

/// A field asked only after a given answer to another field of its section (the template's
/// « Si vous êtes… » and « Précisez »): `(section, field, asked after field, one of these
/// answers' keys)`. Hidden, what it holds is kept; the PDF prints it only when asked.
pub const ASKED_AFTER: &[(&str, &str, &str, &[&str])] = &[
    ("situation", "contrat", "statut", &["en_poste"]),
    ("situation", "temps", "statut", &["en_poste"]),
    ("situation", "quotite", "temps", &["partiel"]),
    ("situation", "csp", "statut", &["en_poste"]),
    ("situation", "csp_autre", "csp", &["autre"]),
    (
        "situation",
        "inscrit_france_travail",
        "statut",
        &["sans_emploi"],
    ),
    ("financement", "organisme", "mode", &["opco", "autre"]),
    ("poste", "statut_autre", "statut", &["autre"]),
    ("financement", "entreprise_adresse", "mode", &["plan"]),
    ("financement", "entreprise_siret", "mode", &["plan"]),
    ("financement", "signataire", "mode", &["plan"]),
    ("financement", "agence", "mode", &["france_travail"]),
    ("financement", "conseiller", "mode", &["france_travail"]),
    (
        "financement",
        "conseiller_contact",
        "mode",
        &["france_travail"],
    ),
];

/// Whether the template asks `section.field`, given the key of the answer chosen for each
/// field of the section (`chosen`): always, or once the answer it follows is chosen and that
/// question is itself asked (« Temps partiel : précisez » only for someone in work).
pub fn is_asked(
    section: &str,
    field: &str,
    chosen: &mut dyn FnMut(&str) -> Option<&'static str>,
) -> bool {
    let mut field = field;
    // A chain is at most as long as the table (a test checks there is no loop).
    for _ in 0..=ASKED_AFTER.len() {
        match asked_after(section, field) {
            None => return true,
            Some((after, answers)) => {
                if !chosen(after).is_some_and(|key| answers.contains(&key)) {
                    return false;
                }
                field = after;
            }
        }
    }
    false
}

/// The field and answers after which `section.field` is asked, if it is not always asked.
pub fn asked_after(section: &str, field: &str) -> Option<(&'static str, &'static [&'static str])> {
    ASKED_AFTER
        .iter()
        .find(|(s, f, _, _)| *s == section && *f == field)
        .map(|(_, _, after, answers)| (*after, *answers))
}

/// The model printed in ANNEXE 5 of the RNCP37827 règlement, by SIMPLON, as a template file.
const ANNEXE5: &str = include_str!("../../templates/livret2-annexe5-rncp37827.json");
/// Livret's general *dossier de validation*, bloc by bloc, for a certification whose
/// certifier supplies no model of its own.
const GENERIC: &str = include_str!("../../templates/dossier-validation-generique.json");

/// The templates shipped with Livret, the certifier's ones first.
pub fn builtin() -> [&'static Template; 2] {
    [annexe5(), generic()]
}

/// ANNEXE 5 « Livret 2 VAE » of the RNCP37827 règlement.
pub fn annexe5() -> &'static Template {
    Template::parse(ANNEXE5).expect("the shipped ANNEXE 5 template reads (a test checks)")
}

/// The general, certifier-neutral *dossier de validation*.
pub fn generic() -> &'static Template {
    Template::parse(GENERIC).expect("the shipped generic template reads (a test checks)")
}

/// An RNCP code as its number: « RNCP37827 », « rncp 37827 », « RNCP : 37827 » and
/// « 37827 » are all `37827`.
pub fn rncp_digits(code: &str) -> &str {
    let code = code.trim();
    match code.get(..4) {
        Some(prefix) if prefix.eq_ignore_ascii_case("rncp") => code[4..]
            .trim_start_matches([' ', ':', '\u{a0}'])
            .trim_end(),
        _ => code,
    }
}

/// The shipped template a dossier for the certification numbered `rncp` (digits, or
/// `RNCP…`) gets when nobody chose one: its certifier's model if Livret ships it, else the
/// general one. Also what a dossier made before templates were data pins on migration.
pub fn default_for(rncp: &str) -> &'static Template {
    let digits = rncp_digits(rncp);
    builtin()
        .into_iter()
        .find(|t| !t.rncp.is_empty() && t.is_for(digits))
        .unwrap_or_else(generic)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dossier::{ANNEXE_FIELDS, FICHE_FIELDS, FieldKind, SECTIONS};
    use crate::words::Worded;

    fn keys(fields: &[(&'static str, FieldKind)]) -> Vec<&'static str> {
        fields.iter().map(|(key, _)| *key).collect()
    }

    #[test]
    fn the_shipped_templates_read_and_ask_every_field_of_the_model() {
        let mut model: Vec<(&str, Vec<&str>)> = SECTIONS
            .iter()
            .map(|(section, fields)| (*section, keys(fields)))
            .collect();
        model.push(("fiches", keys(FICHE_FIELDS)));
        model.push(("annexes", keys(ANNEXE_FIELDS)));
        // Both ask everything: a dossier made before templates were data is pinned to one
        // of them, and must show every field it showed.
        for template in builtin() {
            for (key, fields) in &model {
                let s = template
                    .section(key)
                    .unwrap_or_else(|| panic!("{}: no section {key}", template.id));
                let listed: Vec<&str> = s.fields.iter().map(|f| f.key).collect();
                assert_eq!(&listed, fields, "{}: fields of section {key}", template.id);
            }
            assert_eq!(template.sections.len(), model.len(), "{}", template.id);
            let at = |key: &str| template.sections.iter().position(|s| s.key == key).unwrap();
            assert!(at("poste") < at("fiches"));
            assert!(at("fiches") < at("annexes"));
            assert!(at("annexes") < at("declaration"));
        }
    }

    #[test]
    fn a_dossier_gets_its_certifiers_model_else_the_general_one() {
        assert_eq!(default_for("37827").id, "livret2-annexe5-rncp37827");
        assert_eq!(default_for("RNCP37827").id, "livret2-annexe5-rncp37827");
        assert_eq!(default_for("rncp : 37827").id, "livret2-annexe5-rncp37827");
        assert_eq!(default_for(" Rncp 37827 ").id, "livret2-annexe5-rncp37827");
        assert_eq!(default_for("38822").id, "dossier-validation-generique");
        assert_eq!(default_for("").id, "dossier-validation-generique");
        assert!(generic().fiches_by_bloc);
        assert!(!annexe5().fiches_by_bloc);
    }

    /// The certifier's own words (its name, its fees) belong to its model only.
    #[test]
    fn the_general_model_names_no_certifier() {
        let generic = generic().pinned;
        for word in ["SIMPLON", "Simplon", "300€", "Pôle emploi", "37827"] {
            assert!(!generic.contains(word), "{word} in the general model");
        }
        assert!(annexe5().pinned.contains("SIMPLON"));
    }

    #[test]
    fn the_same_text_is_read_once() {
        let again = Template::parse(annexe5().pinned).unwrap();
        assert!(std::ptr::eq(again, annexe5()));
        // Spacing does not make another template.
        let spaced = serde_json::to_string_pretty(&TemplateFile::read(GENERIC).unwrap()).unwrap();
        assert!(std::ptr::eq(Template::parse(&spaced).unwrap(), generic()));
    }

    #[test]
    fn every_label_is_written_in_both_languages() {
        for template in builtin() {
            for s in template.sections {
                for f in s.fields {
                    // Our own help exists only to fill a gap in the template.
                    assert!(
                        f.from_template || !f.guidance_fr.is_empty(),
                        "{}: {}.{}: written by us but empty",
                        template.id,
                        s.key,
                        f.key
                    );
                }
            }
        }
    }

    #[test]
    fn apostrophes_are_typographic() {
        for template in builtin() {
            for s in template.sections {
                let mut texts = vec![s.title_fr, s.title_en, s.guidance_fr, s.guidance_en];
                for f in s.fields {
                    texts.extend([f.label_fr, f.label_en, f.guidance_fr, f.guidance_en]);
                }
                for text in texts {
                    assert!(!text.contains('\''), "straight apostrophe in {text:?}");
                }
            }
        }
    }

    /// A template file with one fault, and the start of the one line it gets.
    fn refused(edit: impl FnOnce(&mut serde_json::Value)) -> TemplateError {
        let mut value: serde_json::Value = serde_json::from_str(ANNEXE5).unwrap();
        edit(&mut value);
        let err = Template::parse(&value.to_string()).unwrap_err();
        // One line in each language, never a dump of the file.
        for line in [err.to_string(), err.english()] {
            assert!(!line.contains('\n') && line.len() < 400, "{line}");
        }
        err
    }

    #[test]
    fn a_faulty_template_is_refused_saying_where() {
        let field = |v: &mut serde_json::Value| v["sections"][0]["fields"][0].take();
        let err = refused(|v| v["sections"][0]["fields"][0]["kind"] = "signature".into());
        assert_eq!(
            err,
            TemplateError::UnknownKind("etat_civil.civilite".into(), "signature".into())
        );
        let err = refused(|v| v["sections"][0]["fields"][1]["kind"] = "text".into());
        assert_eq!(
            err,
            TemplateError::WrongKind("etat_civil.nom".into(), "text".into(), "short")
        );
        let err = refused(|v| v["sections"][0]["fields"][1]["key"] = "pointure".into());
        assert_eq!(
            err,
            TemplateError::UnknownField("etat_civil.pointure".into())
        );
        let err = refused(|v| v["sections"][1]["key"] = "etat_civil".into());
        assert_eq!(err, TemplateError::DuplicateSection("etat_civil".into()));
        let err = refused(|v| v["sections"][1]["key"] = "loisirs".into());
        assert_eq!(err, TemplateError::UnknownSection("loisirs".into()));
        let err = refused(|v| v["sections"][0]["title"]["en"] = "".into());
        assert_eq!(
            err,
            TemplateError::MissingWords("etat_civil".into(), file::Language::English)
        );
        let err = refused(|v| v["format"] = "livret-template/2".into());
        assert_eq!(
            err,
            TemplateError::UnknownFormat("livret-template/2".into())
        );
        let err = refused(|v| v["id"] = "Mon Modèle".into());
        assert_eq!(err, TemplateError::BadId("Mon Modèle".into()));
        let err = refused(|v| v["rncp"] = serde_json::json!(["RNCP37827"]));
        assert_eq!(err, TemplateError::BadRncp("RNCP37827".into()));
        let err = refused(|v| v["sections"] = serde_json::json!([]));
        assert_eq!(err, TemplateError::NoSections);
        // « Temps partiel : précisez » without the question it follows.
        let err = refused(|v| {
            let fields = v["sections"][1]["fields"].as_array_mut().unwrap();
            fields.retain(|f| f["key"] != "temps");
        });
        assert_eq!(
            err,
            TemplateError::AskedAfterMissing("situation.quotite".into(), "situation.temps".into())
        );
        // A key of another program's format, a field left without its kind.
        assert!(matches!(
            refused(|v| v["sections"][0]["colour"] = "red".into()),
            TemplateError::NotJson(why) if why.contains("colour")
        ));
        assert!(matches!(
            refused(|v| {
                field(v);
                v["sections"][0]["fields"][0] = serde_json::json!({"key": "nom"});
            }),
            TemplateError::NotJson(why) if why.contains("kind")
        ));
        assert!(matches!(
            Template::parse("{\"format\": \"livret-template/1\", \"id\": "),
            Err(TemplateError::NotJson(_))
        ));
        assert!(matches!(
            Template::parse("[1, 2]"),
            Err(TemplateError::NotJson(_))
        ));
        let err = refused(|v| {
            let sections = v["sections"].as_array_mut().unwrap();
            sections.retain(|s| s["key"] != "declaration");
        });
        assert_eq!(err, TemplateError::NoDeclaration);
        // Words that would reorder what follows them on screen, or break the line.
        let err = refused(|v| v["sections"][0]["title"]["fr"] = "État\u{202e}livic".into());
        assert_eq!(err, TemplateError::Unprintable("etat_civil".into()));
        let err = refused(|v| v["id"] = format!("x\n{}", "y".repeat(500)).into());
        let TemplateError::BadId(echoed) = err else {
            panic!("{err:?}")
        };
        assert!(
            !echoed.contains('\n') && echoed.chars().count() <= 81,
            "{echoed}"
        );
        // A certifier's file may not take a shipped model's id with other words.
        let mut value: serde_json::Value = serde_json::from_str(ANNEXE5).unwrap();
        assert!(std::ptr::eq(Template::import(ANNEXE5).unwrap(), annexe5()));
        value["fraud"] = serde_json::json!([]);
        assert_eq!(
            Template::import(&value.to_string()),
            Err(TemplateError::ShippedId("livret2-annexe5-rncp37827".into()))
        );
        value["id"] = "certificateur-y".into();
        assert!(Template::import(&value.to_string()).is_ok());
        let huge = " ".repeat(file::MAX_TEMPLATE_BYTES + 1);
        assert_eq!(
            Template::parse(&huge),
            Err(TemplateError::TooLarge(file::MAX_TEMPLATE_BYTES + 1))
        );
    }

    /// A shipped model's words never change under the same version: a dossier pins the
    /// text, and two devices on different builds migrating one dossier must pin the same.
    /// Changing a shipped file means a new version, and this table.
    #[test]
    fn a_shipped_models_text_is_fixed_for_its_version() {
        use sha2::Digest;
        let fixed = [
            ("livret2-annexe5-rncp37827", "2023-1", ANNEXE5_SHA256),
            ("dossier-validation-generique", "1", GENERIC_SHA256),
        ];
        for (template, (id, version, sha256)) in builtin().into_iter().zip(fixed) {
            assert_eq!((template.id, template.version), (id, version));
            let hash = hex::encode(sha2::Sha256::digest(template.pinned.as_bytes()));
            assert_eq!(
                hash, sha256,
                "{id} {version} changed: give it a new version"
            );
        }
    }
    const ANNEXE5_SHA256: &str = "a58caca6ddba13109e30e613a8a7d8654e934699782c7247ad942bddcd3ac092";
    const GENERIC_SHA256: &str = "a0c22ed7ae7e21deeb877526aa0a309ac6d3c840b74ffe10cd9ca17693a5ff90";

    /// The example the format's documentation gives reads as it says.
    #[test]
    fn the_documented_example_reads() {
        let doc = include_str!("../../../docs/templates.md");
        let start = doc.find("```json\n").expect("an example") + "```json\n".len();
        let end = start + doc[start..].find("```").unwrap();
        let example = Template::parse(&doc[start..end]).unwrap();
        assert_eq!(example.id, "certificateur-exemple");
        assert!(example.fiches_by_bloc);
        assert!(example.is_for("12345") && !example.is_for("37827"));
    }

    /// A certifier may leave out what its model does not ask, and order its own way.
    #[test]
    fn a_template_may_ask_less_in_its_own_order() {
        let mut value: serde_json::Value = serde_json::from_str(GENERIC).unwrap();
        let sections = value["sections"].as_array_mut().unwrap();
        sections.retain(|s| !matches!(s["key"].as_str(), Some("financement" | "situation")));
        sections.reverse();
        value["id"] = "certificateur-x".into();
        let template = Template::parse(&value.to_string()).unwrap();
        assert_eq!(template.sections[0].key, "declaration");
        assert!(template.section("financement").is_none());
        assert!(template.field("situation", "statut").is_none());
        assert_eq!(
            template.field("cv", "parcours"),
            generic().field("cv", "parcours")
        );
    }

    #[test]
    fn a_question_follows_an_answer_its_question_has() {
        for (section, field, after, answers) in ASKED_AFTER {
            let kind = crate::field_path::FieldPath::section(section, after).map(|p| p.kind());
            let Some(FieldKind::Choice(options)) = kind else {
                panic!("{section}.{field} follows {after}, which is not a choice");
            };
            for answer in *answers {
                assert!(
                    options.iter().any(|c| c.key == *answer),
                    "{section}.{field}: {after} has no answer {answer}"
                );
            }
            assert!(
                annexe5().field(section, field).is_some(),
                "{section}.{field} is not in the template"
            );
        }
        // No loop: following each question to the one it follows ends at a question
        // always asked.
        for (section, field, _, _) in ASKED_AFTER {
            let mut seen = vec![*field];
            let mut at = *field;
            while let Some((after, _)) = asked_after(section, at) {
                assert!(
                    !seen.contains(&after),
                    "{section}.{field}: a loop through {after}"
                );
                seen.push(after);
                at = after;
            }
        }
        // A follow-up of a follow-up: asked only when both answers are chosen.
        let mut part_time_out_of_work = |f: &str| match f {
            "statut" => Some("sans_emploi"),
            "temps" => Some("partiel"),
            _ => None,
        };
        assert!(!is_asked(
            "situation",
            "quotite",
            &mut part_time_out_of_work
        ));
        let mut part_time_in_work = |f: &str| match f {
            "statut" => Some("en_poste"),
            "temps" => Some("partiel"),
            _ => None,
        };
        assert!(is_asked("situation", "quotite", &mut part_time_in_work));
        assert!(is_asked("situation", "emploi", &mut |_| None));
    }

    #[test]
    fn lookups() {
        assert_eq!(
            annexe5().section("cv").map(|s| s.title_fr),
            Some("Votre CV")
        );
        assert_eq!(
            annexe5().field("fiches", "contexte").map(|f| f.label_fr),
            Some("Contexte")
        );
        assert_eq!(
            annexe5().field("annexes", "numero").map(|f| f.label_en),
            Some("Number")
        );
        assert!(annexe5().field("etat_civil", "inconnu").is_none());
        assert!(annexe5().field("inconnue", "nom").is_none());
        assert!(annexe5().section("fiches.0").is_none());
    }
}
