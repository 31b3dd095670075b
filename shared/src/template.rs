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

/// Every section in the template's order, including "fiches" (fields in `FICHE_FIELDS` order)
/// and "annexes" (`ANNEXE_FIELDS` order), placed where the template places them.
pub const TEMPLATE: &[SectionText] = &[
    SectionText {
        key: "etat_civil",
        title_fr: "État civil",
        title_en: "Personal details",
        guidance_fr: "",
        guidance_en: "",
        fields: ETAT_CIVIL,
    },
    SectionText {
        key: "situation",
        title_fr: "Situation actuelle",
        title_en: "Current situation",
        guidance_fr: "",
        guidance_en: "",
        fields: SITUATION,
    },
    SectionText {
        key: "financement",
        title_fr: "Financement envisagé",
        title_en: "Intended funding",
        guidance_fr: "",
        guidance_en: "",
        fields: FINANCEMENT,
    },
    SectionText {
        key: "projet_vae",
        title_fr: "Votre projet VAE",
        title_en: "Your VAE project",
        // The template's checklist of what the livret must contain.
        guidance_fr: "Vérifiez que votre livret contient votre lettre de motivation, votre CV, \
            les fiches descriptives de votre (vos) structure(s), de votre (vos) poste(s) \
            occupé(s) et de votre (vos) activité(s) et compétences, si besoin des annexes, et la \
            déclaration sur l’honneur.",
        guidance_en: "Check that your livret contains your cover letter, your CV, the \
            description sheets for your organisation(s), the position(s) you held and your \
            activity(ies) and skills, annexes if needed, and the declaration on honour.",
        fields: PROJET_VAE,
    },
    SectionText {
        key: "motivation",
        title_fr: "Votre lettre de motivation",
        title_en: "Your cover letter",
        guidance_fr: "",
        guidance_en: "",
        fields: MOTIVATION,
    },
    SectionText {
        key: "cv",
        title_fr: "Votre CV",
        title_en: "Your CV",
        guidance_fr: "Vous mettrez en valeur votre formation et l’ensemble des activités qui \
            vous ont permis de développer et de maîtriser les compétences attendues.",
        guidance_en: "Highlight your education and all the activities through which you \
            developed and mastered the expected skills.",
        fields: CV,
    },
    SectionText {
        key: "structure",
        title_fr: "Fiche descriptive de la structure",
        title_en: "Organisation description",
        guidance_fr: "Présentez votre structure.",
        guidance_en: "Describe your organisation.",
        fields: STRUCTURE,
    },
    SectionText {
        key: "poste",
        title_fr: "Fiche descriptive du poste occupé",
        title_en: "Position description",
        guidance_fr: "Présentez votre poste (ce que vous faites réellement).",
        guidance_en: "Describe your position (what you actually do).",
        fields: POSTE,
    },
    SectionText {
        key: "fiches",
        // The template prints « compétences mise en œuvre »; the agreement is corrected.
        title_fr: "Fiche descriptive de l’activité exercée et des compétences mises en œuvre",
        title_en: "Description of the activity carried out and the skills applied",
        guidance_fr: "En vous appuyant sur une ou des situation(s) vécue(s), présentez \
            l’activité (contexte, objectif(s), fréquence…), la méthode utilisée pour la réaliser \
            et la façon dont elle est évaluée. Il faut argumenter les choix.",
        guidance_en: "Drawing on one or more real situations, present the activity (context, \
            objective(s), frequency…), the method you used to carry it out and how it is \
            evaluated. Justify your choices.",
        fields: FICHES,
    },
    SectionText {
        key: "annexes",
        title_fr: "Annexes",
        title_en: "Annexes",
        guidance_fr: "En appui au livret 2, le jury est attentif à tout ce qui émane de \
            l’expérience acquise en entreprise ou ailleurs. Tout élément de preuve faisant \
            ressortir les objectifs fixés et les objectifs atteints peut être présenté : \
            modèles de documents, tableaux, photos, schémas… Livret numérote les annexes pour \
            vous, dans l’ordre où vous les ajoutez.",
        guidance_en: "In support of the livret, the jury pays attention to anything that comes \
            from experience gained at work or elsewhere. Any evidence showing the objectives \
            set and the objectives achieved may be submitted: document templates, tables, \
            photos, diagrams… Livret numbers the annexes for you, in the order you add them.",
        fields: ANNEXES,
    },
    SectionText {
        key: "declaration",
        title_fr: "Déclaration sur l’honneur",
        title_en: "Declaration on honour",
        // The two boxes the candidate ticks, then the two warnings that matter most when
        // writing a livret; the template's full list of offences and sanctions is longer.
        guidance_fr: "Je déclare sur l’honneur avoir pris connaissance des informations \
            relatives aux fraudes en VAE et attester de l’exactitude de toutes les informations \
            figurant dans le présent livret. La loi punit quiconque se rend coupable de fausses \
            déclarations (Code pénal, art. 441-1 et 441-6). Le plagiat, qui consiste à intégrer \
            dans son travail l’intégralité ou des extraits d’une autre œuvre dont on n’est pas \
            l’auteur, sans mention de la source, est une fraude.",
        guidance_en: "I declare on my honour that I have read the information on fraud in VAE \
            and that all the information in this livret is accurate. The law punishes anyone \
            who makes false declarations (French Criminal Code, art. 441-1 and 441-6). \
            Plagiarism, that is putting all or part of a work you did not write into your own \
            without citing the source, is fraud.",
        fields: DECLARATION,
    },
];

const ETAT_CIVIL: &[FieldText] = &[
    FieldText {
        key: "civilite",
        label_fr: "Civilité",
        label_en: "Title",
        guidance_fr: "",
        guidance_en: "",
        from_template: true,
    },
    // The template asks for « Nom de famille » (the name at birth) and « Nom d’usage »; the
    // model's `nom` is the name in use, `nom_naissance` the family name.
    FieldText {
        key: "nom",
        label_fr: "Nom d’usage",
        label_en: "Surname in use",
        guidance_fr: "Le nom sous lequel vous êtes connu(e) au quotidien (par exemple un nom \
            d’époux ou d’épouse) ; à défaut, votre nom de famille.",
        guidance_en: "The surname you go by day to day (a married name, for instance); \
            otherwise your family name.",
        from_template: false,
    },
    FieldText {
        key: "nom_naissance",
        label_fr: "Nom de famille",
        label_en: "Family name (at birth)",
        guidance_fr: "Votre nom de naissance, tel qu’il figure sur votre pièce d’identité.",
        guidance_en: "Your surname at birth, as shown on your identity document.",
        from_template: false,
    },
    FieldText {
        key: "prenom",
        label_fr: "Prénom(s)",
        label_en: "First name(s)",
        guidance_fr: "Vos prénoms, tels qu’ils figurent sur votre pièce d’identité.",
        guidance_en: "Your first names, as shown on your identity document.",
        from_template: false,
    },
    FieldText {
        key: "date_naissance",
        label_fr: "Date de naissance",
        label_en: "Date of birth",
        guidance_fr: "Votre âge, que le livret demande aussi, en est calculé.",
        guidance_en: "Your age, which the livret also asks for, is worked out from it.",
        from_template: false,
    },
    FieldText {
        key: "lieu_naissance",
        label_fr: "Lieu de naissance",
        label_en: "Place of birth",
        guidance_fr: "La commune de naissance, et le pays si vous êtes né(e) hors de France.",
        guidance_en: "Your town of birth, and the country if you were born outside France.",
        from_template: false,
    },
    FieldText {
        key: "nationalite",
        label_fr: "Nationalité",
        label_en: "Nationality",
        guidance_fr: "Par exemple : française.",
        guidance_en: "For example: French.",
        from_template: false,
    },
    // One line in the template, three fields in the model: the split is ours, so is the
    // guidance.
    FieldText {
        key: "adresse",
        label_fr: "Adresse postale personnelle",
        label_en: "Personal postal address",
        guidance_fr: "Numéro et nom de la voie, avec le complément d’adresse s’il y en a un ; \
            le code postal et la ville ont leurs propres champs.",
        guidance_en: "Street number and name, with any additional address line; postcode and \
            town have their own fields.",
        from_template: false,
    },
    FieldText {
        key: "code_postal",
        label_fr: "Code postal",
        label_en: "Postcode",
        guidance_fr: "Le code postal de votre adresse personnelle.",
        guidance_en: "The postcode of your personal address.",
        from_template: false,
    },
    FieldText {
        key: "ville",
        label_fr: "Ville",
        label_en: "Town or city",
        guidance_fr: "La commune de votre adresse personnelle.",
        guidance_en: "The town or city of your personal address.",
        from_template: false,
    },
    FieldText {
        key: "telephone",
        label_fr: "Téléphone domicile et/ou portable",
        label_en: "Home and/or mobile phone",
        guidance_fr: "Un numéro auquel on peut vous joindre au sujet de votre démarche.",
        guidance_en: "A number where you can be reached about your application.",
        from_template: false,
    },
    FieldText {
        key: "courriel",
        label_fr: "Adresse électronique",
        label_en: "Email address",
        guidance_fr: "Une adresse que vous consultez régulièrement : elle sert à communiquer \
            avec vous dans le cadre de votre démarche.",
        guidance_en: "An address you check regularly: it is used to contact you about your \
            application.",
        from_template: false,
    },
];

const SITUATION: &[FieldText] = &[
    FieldText {
        key: "statut",
        label_fr: "Vous êtes actuellement",
        label_en: "You are currently",
        guidance_fr: "",
        guidance_en: "",
        from_template: true,
    },
    FieldText {
        key: "emploi",
        label_fr: "Fonction actuellement exercée",
        label_en: "Current position",
        guidance_fr: "Si vous êtes en poste : l’intitulé de la fonction que vous exercez.",
        guidance_en: "If you are in work: the title of the position you hold.",
        from_template: false,
    },
    FieldText {
        key: "employeur",
        label_fr: "Établissement ou entreprise",
        label_en: "Establishment or company",
        guidance_fr: "Si vous êtes en poste : la structure qui vous emploie.",
        guidance_en: "If you are in work: the organisation that employs you.",
        from_template: false,
    },
    FieldText {
        key: "contrat",
        label_fr: "Nature de votre contrat de travail",
        label_en: "Type of employment contract",
        guidance_fr: "",
        guidance_en: "",
        from_template: true,
    },
    FieldText {
        key: "temps",
        label_fr: "Temps de travail",
        label_en: "Working time",
        guidance_fr: "",
        guidance_en: "",
        from_template: true,
    },
    FieldText {
        key: "quotite",
        label_fr: "Temps partiel : précisez le pourcentage",
        label_en: "Part time: give the percentage",
        guidance_fr: "Par exemple 80 pour un temps partiel à 80 %.",
        guidance_en: "For instance 80 for 80% part time.",
        from_template: true,
    },
    FieldText {
        key: "csp",
        label_fr: "Catégorie socio-professionnelle",
        label_en: "Socio-professional category",
        guidance_fr: "",
        guidance_en: "",
        from_template: true,
    },
    FieldText {
        key: "csp_autre",
        label_fr: "Autre catégorie : précisez",
        label_en: "Other category: specify",
        guidance_fr: "",
        guidance_en: "",
        from_template: true,
    },
    FieldText {
        key: "inscrit_france_travail",
        label_fr: "Êtes-vous inscrit(e) à France Travail (ex-Pôle emploi) ?",
        label_en: "Are you registered with France Travail (formerly Pôle emploi)?",
        guidance_fr: "",
        guidance_en: "",
        from_template: true,
    },
    // Not in the template: the model adds it, so the guidance is ours.
    FieldText {
        key: "depuis",
        label_fr: "Depuis",
        label_en: "Since",
        guidance_fr: "Le mois et l’année où vous avez pris cette fonction, ou depuis lesquels \
            vous êtes sans emploi.",
        guidance_en: "The month and year you took up this position, or since when you have \
            been out of work.",
        from_template: false,
    },
    FieldText {
        key: "precisions",
        label_fr: "Précisions",
        label_en: "Details",
        guidance_fr: "Ce que vous souhaitez ajouter sur votre situation actuelle.",
        guidance_en: "Anything you wish to add about your current situation.",
        from_template: false,
    },
];

const FINANCEMENT: &[FieldText] = &[
    FieldText {
        key: "mode",
        label_fr: "Mode de financement",
        label_en: "Funding",
        guidance_fr: "",
        guidance_en: "",
        from_template: true,
    },
    FieldText {
        key: "organisme",
        label_fr: "Précisez",
        label_en: "Specify",
        guidance_fr: "L’OPCO, l’association de transition professionnelle ou l’autre \
            financement (par exemple votre compte personnel de formation).",
        guidance_en: "The OPCO, the Association de transition professionnelle or the other \
            funding (your compte personnel de formation, for instance).",
        from_template: true,
    },
    FieldText {
        key: "entreprise_adresse",
        label_fr: "Adresse postale de l’entreprise",
        label_en: "Company’s postal address",
        guidance_fr: "",
        guidance_en: "",
        from_template: true,
    },
    FieldText {
        key: "entreprise_siret",
        label_fr: "Numéro de SIRET de l’entreprise",
        label_en: "Company’s SIRET number",
        guidance_fr: "",
        guidance_en: "",
        from_template: true,
    },
    FieldText {
        key: "signataire",
        label_fr: "Nom et fonction du signataire de la convention",
        label_en: "Name and position of the person signing the agreement",
        guidance_fr: "",
        guidance_en: "",
        from_template: true,
    },
    FieldText {
        key: "agence",
        label_fr: "Adresse de l’agence",
        label_en: "Agency’s address",
        guidance_fr: "",
        guidance_en: "",
        from_template: true,
    },
    FieldText {
        key: "conseiller",
        label_fr: "Nom du conseiller",
        label_en: "Adviser’s name",
        guidance_fr: "",
        guidance_en: "",
        from_template: true,
    },
    FieldText {
        key: "conseiller_contact",
        label_fr: "Coordonnées téléphoniques et mail du conseiller",
        label_en: "Adviser’s phone number and email",
        guidance_fr: "",
        guidance_en: "",
        from_template: true,
    },
    FieldText {
        key: "precisions",
        label_fr: "Précisions",
        label_en: "Details",
        guidance_fr: "Ce que vous souhaitez ajouter sur le financement de votre démarche.",
        guidance_en: "Anything you wish to add about how your VAE is funded.",
        from_template: false,
    },
];

// The template prints these on its cover page; the model groups them with the project.
const PROJET_VAE: &[FieldText] = &[
    FieldText {
        key: "certification",
        label_fr: "Diplôme visé",
        label_en: "Target qualification",
        guidance_fr: "L’intitulé de la certification que vous souhaitez obtenir, tel qu’il \
            figure au RNCP.",
        guidance_en: "The title of the certification you are seeking, as registered in the \
            RNCP.",
        from_template: false,
    },
    FieldText {
        key: "rncp",
        label_fr: "RNCP",
        label_en: "RNCP number",
        guidance_fr: "Le numéro de la fiche RNCP de la certification, par exemple 37827.",
        guidance_en: "The number of the certification’s RNCP entry, for example 37827.",
        from_template: false,
    },
    // From « La décision finale »: the jury can award the whole title or some blocs.
    FieldText {
        key: "blocs_vises",
        label_fr: "Blocs de compétences visés",
        label_en: "Skill blocks sought",
        guidance_fr: "Le jury peut valider la totalité des compétences requises pour la \
            certification, ou celles d’un ou de plusieurs blocs : indiquez les blocs que vous \
            visez.",
        guidance_en: "The jury can validate all the skills required for the certification, or \
            those of one or more blocks: list the blocks you are seeking.",
        from_template: true,
    },
    FieldText {
        key: "centre",
        label_fr: "Centre de certification",
        label_en: "Certification centre",
        guidance_fr: "Le centre auprès duquel vous déposez votre demande de VAE.",
        guidance_en: "The centre you are submitting your VAE application to.",
        from_template: false,
    },
    // From « L’entretien devant le jury de la VAE ».
    FieldText {
        key: "date_jury",
        label_fr: "Date du jury",
        label_en: "Jury date",
        guidance_fr: "Après la remise de ce livret, vous êtes convoqué(e) pour exposer votre \
            projet devant le jury de VAE : indiquez la date dès qu’elle est connue.",
        guidance_en: "Once you hand in this livret, you are called to present your project to \
            the VAE jury: enter the date as soon as you know it.",
        from_template: true,
    },
];

const MOTIVATION: &[FieldText] = &[FieldText {
    key: "lettre",
    label_fr: "Lettre de motivation",
    label_en: "Cover letter",
    guidance_fr: "Précisez les raisons qui vous conduisent à présenter votre demande de VAE \
        au jury chargé de l’examiner.",
    guidance_en: "Explain why you are submitting your VAE application to the jury that will \
        examine it.",
    from_template: true,
}];

const CV: &[FieldText] = &[
    // From the template's checklist, where the CV line says what to underline.
    FieldText {
        key: "parcours",
        label_fr: "Parcours professionnel",
        label_en: "Work history",
        guidance_fr: "Soulignez les expériences en rapport direct avec le diplôme visé.",
        guidance_en: "Underline the experience directly related to the target qualification.",
        from_template: true,
    },
    FieldText {
        key: "formations",
        label_fr: "Formations",
        label_en: "Education and training",
        guidance_fr: "Vos formations initiales et continues, avec leurs dates et les diplômes \
            ou certifications obtenus.",
        guidance_en: "Your initial and continuing education, with dates and the qualifications \
            obtained.",
        from_template: false,
    },
];

const STRUCTURE: &[FieldText] = &[
    // The template asks for the name in the sheet's title: « (indiquer le nom de la
    // structure) ».
    FieldText {
        key: "nom",
        label_fr: "Nom de la structure",
        label_en: "Organisation name",
        guidance_fr: "Le nom de la structure, qui donne son titre à la fiche.",
        guidance_en: "The organisation’s name, which gives this sheet its title.",
        from_template: true,
    },
    FieldText {
        key: "secteur",
        label_fr: "Secteur d’activité",
        label_en: "Line of business",
        guidance_fr: "Les activités de votre structure (vente, services, production de biens, \
            etc.).",
        guidance_en: "What your organisation does (sales, services, production of goods, \
            etc.).",
        from_template: true,
    },
    FieldText {
        key: "effectif",
        label_fr: "Effectif",
        label_en: "Headcount",
        guidance_fr: "Nombre de personnes, éventuellement par services, par fonctions…",
        guidance_en: "Number of people, possibly by department or by function…",
        from_template: true,
    },
    // The rest of the template's indicative list.
    FieldText {
        key: "presentation",
        label_fr: "Présentation",
        label_en: "Overview",
        guidance_fr: "À titre indicatif : statut (forme juridique : société, association, \
            etc.), situation économique (chiffre d’affaires, parts de marché…), historique \
            (date de création et évolution de la structure), localisation géographique, \
            environnement (clients, fournisseurs, concurrents, partenaires, prestataires, \
            etc.), démarche et charte qualité (normes, procédures…).",
        guidance_en: "As a guide: status (legal form: company, association, etc.), economic \
            position (turnover, market share…), history (founding date and how the \
            organisation has changed), location, environment (customers, suppliers, \
            competitors, partners, contractors, etc.), quality approach and charter \
            (standards, procedures…).",
        from_template: true,
    },
];

const POSTE: &[FieldText] = &[
    // « (indiquer l’intitulé du poste) » in the sheet's title.
    FieldText {
        key: "intitule",
        label_fr: "Intitulé du poste",
        label_en: "Job title",
        guidance_fr: "L’intitulé du poste, qui donne son titre à la fiche.",
        guidance_en: "The job title, which gives this sheet its title.",
        from_template: true,
    },
    // « Indiquez votre statut : Salarié ☐ Indépendant ☐ Bénévole ☐ Autre : ».
    FieldText {
        key: "statut",
        label_fr: "Votre statut",
        label_en: "Your status",
        guidance_fr: "Indiquez votre statut dans ce poste.",
        guidance_en: "State your status in this position.",
        from_template: true,
    },
    FieldText {
        key: "statut_autre",
        label_fr: "Autre statut : précisez",
        label_en: "Other status: please specify",
        guidance_fr: "",
        guidance_en: "",
        from_template: true,
    },
    FieldText {
        key: "rattachement",
        label_fr: "Place dans la structure",
        label_en: "Place in the organisation",
        guidance_fr: "Quelle place occupez-vous dans votre structure ? Le cas échéant, \
            présentez votre unité de travail (direction, atelier, service…) en indiquant par \
            exemple sa composition, son effectif. Vous pouvez joindre un organigramme.",
        guidance_en: "What is your place in the organisation? Where relevant, describe your \
            work unit (management, workshop, department…), for instance its make-up and \
            headcount. You may attach an organisation chart.",
        from_template: true,
    },
    FieldText {
        key: "missions",
        label_fr: "Missions réalisées",
        label_en: "Duties",
        guidance_fr: "Précisez les missions que vous réalisez. Vous indiquerez : vos marges \
            d’initiatives et d’autonomie (pouvez-vous prendre seul des décisions ? \
            lesquelles ?) ; le cas échéant, vos fonctions de tutorat ou d’encadrement ; les \
            changements importants qui ont marqué l’évolution de votre emploi et comment vous y \
            avez fait face ; si vous avez pu proposer des améliorations ou des changements sur \
            votre poste de travail ; un ou des exemple(s) de situation(s) imprévue(s) et \
            comment vous y avez fait face (une situation significative pourra faire l’objet \
            d’une fiche activité).",
        guidance_en: "Set out the duties you carry out. Include: how much initiative and \
            autonomy you have (can you make decisions on your own? which ones?); any tutoring \
            or management duties; major changes in your job and how you dealt with them; \
            whether you could propose improvements or changes to your work; one or more \
            unexpected situations and how you dealt with them (a significant one can become an \
            activity sheet).",
        from_template: true,
    },
];

// The rows of the template's table, in its order.
const FICHES: &[FieldText] = &[
    FieldText {
        key: "bloc",
        label_fr: "Bloc de compétences visé",
        label_en: "Skill block sought",
        guidance_fr: "Le bloc du référentiel auquel se rattache cette activité.",
        guidance_en: "The block of the skills framework this activity belongs to.",
        from_template: false,
    },
    FieldText {
        key: "competences",
        label_fr: "Compétence(s) du référentiel visée(s)",
        label_en: "Skill(s) sought from the framework",
        guidance_fr: "Indiquez les compétences précises si les tâches exercées ne concernent \
            pas un bloc ou tout le bloc visé.",
        guidance_en: "Name the specific skills if the tasks carried out do not cover a block, \
            or not the whole block sought.",
        from_template: true,
    },
    // « (indiquer l’intitulé de l’activité) » under the sheet's title.
    FieldText {
        key: "intitule",
        label_fr: "Intitulé de la mission",
        label_en: "Assignment title",
        guidance_fr: "L’intitulé de l’activité ou de la mission, qui donne son titre à la \
            fiche.",
        guidance_en: "The title of the activity or assignment, which gives this sheet its \
            title.",
        from_template: true,
    },
    FieldText {
        key: "entreprise",
        label_fr: "Entreprise / organisation / autre",
        label_en: "Company / organisation / other",
        guidance_fr: "La structure dans laquelle vous avez exercé cette activité.",
        guidance_en: "The organisation where you carried out this activity.",
        from_template: false,
    },
    FieldText {
        key: "periode",
        label_fr: "Période ou dates",
        label_en: "Period or dates",
        guidance_fr: "Les dates de début et de fin, ou la période, de cette activité.",
        guidance_en: "The start and end dates, or the period, of this activity.",
        from_template: false,
    },
    FieldText {
        key: "contexte",
        label_fr: "Contexte",
        label_en: "Context",
        guidance_fr: "Présentez l’activité : son contexte et son ou ses objectif(s).",
        guidance_en: "Present the activity: its context and its objective(s).",
        from_template: true,
    },
    FieldText {
        key: "problematique",
        label_fr: "Problématique et enjeux",
        label_en: "Problem and stakes",
        guidance_fr: "Le problème à résoudre et ce qui en dépendait : pour qui, et pourquoi \
            c’était important.",
        guidance_en: "The problem to solve and what depended on it: for whom, and why it \
            mattered.",
        from_template: false,
    },
    FieldText {
        key: "taches",
        label_fr: "Tâches réalisées",
        label_en: "Tasks carried out",
        guidance_fr: "En vous appuyant sur une ou des situation(s) vécue(s), décrivez la \
            méthode utilisée pour réaliser l’activité. Il faut argumenter les choix.",
        guidance_en: "Drawing on one or more real situations, describe the method you used to \
            carry out the activity. Justify your choices.",
        from_template: true,
    },
    FieldText {
        key: "moyens",
        label_fr: "Moyens mis en œuvre pour la réalisation des tâches",
        label_en: "Means used to carry out the tasks",
        guidance_fr: "Montrez comment vous tenez compte des ressources disponibles (outils, \
            matériel, informations, connaissances mobilisées, partenaires…), des contraintes \
            existantes (sécurité, délais, hygiène…), des relations internes et externes et de \
            la réglementation.",
        guidance_en: "Show how you take into account the resources available (tools, \
            equipment, information, knowledge drawn on, partners…), the constraints (safety, \
            deadlines, hygiene…), internal and external relationships, and regulations.",
        from_template: true,
    },
    // The template lists « fréquence » in the presentation but says nothing more about it.
    FieldText {
        key: "frequence",
        label_fr: "Fréquence de réalisation",
        label_en: "How often",
        guidance_fr: "À quel rythme vous réalisez cette activité (chaque jour, chaque semaine, \
            à chaque projet…).",
        guidance_en: "How often you carry out this activity (daily, weekly, on every \
            project…).",
        from_template: false,
    },
    // The template's third point, « Comment est évaluée cette activité ? ».
    FieldText {
        key: "resultats",
        label_fr: "Résultats",
        label_en: "Results",
        guidance_fr: "Comment est évaluée cette activité ? (auto-évaluation, satisfaction des \
            clients et usagers, évaluation par la hiérarchie…)",
        guidance_en: "How is this activity evaluated? (self-assessment, customer and user \
            satisfaction, assessment by management…)",
        from_template: true,
    },
    FieldText {
        key: "preuves",
        label_fr: "Éléments de preuve",
        label_en: "Evidence",
        guidance_fr: "Indiquez le numéro de la preuve déposée dans les annexes.",
        guidance_en: "Give the number of the piece of evidence filed in the annexes.",
        from_template: true,
    },
];

const ANNEXES: &[FieldText] = &[
    // « (numéroter les annexes) », and the fiches cite « le numéro de la preuve ».
    FieldText {
        key: "numero",
        label_fr: "Numéro",
        label_en: "Number",
        guidance_fr: "Le numéro de l’annexe, que les fiches activité citent comme élément de \
            preuve.",
        guidance_en: "The annex’s number, which activity sheets cite as evidence.",
        from_template: true,
    },
    FieldText {
        key: "titre",
        label_fr: "Titre",
        label_en: "Title",
        guidance_fr: "En quelques mots, ce que montre cette pièce.",
        guidance_en: "In a few words, what this document shows.",
        from_template: false,
    },
    FieldText {
        key: "fichier",
        label_fr: "Fichier",
        label_en: "File",
        guidance_fr: "Le document joint : modèle de document, tableau, photo, schéma…",
        guidance_en: "The attached document: document template, table, photo, diagram…",
        from_template: true,
    },
    FieldText {
        key: "type",
        label_fr: "Type de fichier",
        label_en: "File type",
        guidance_fr: "Le format du document (PDF, image, tableur…).",
        guidance_en: "The document’s format (PDF, image, spreadsheet…).",
        from_template: false,
    },
    FieldText {
        key: "taille",
        label_fr: "Taille",
        label_en: "Size",
        guidance_fr: "La taille du fichier joint.",
        guidance_en: "The size of the attached file.",
        from_template: false,
    },
    FieldText {
        key: "empreinte",
        label_fr: "Empreinte",
        label_en: "Fingerprint",
        guidance_fr: "L’empreinte du fichier, qui permet de vérifier que la pièce n’a pas \
            changé depuis son dépôt.",
        guidance_en: "The file’s fingerprint, which shows the document has not changed since \
            it was filed.",
        from_template: false,
    },
];

// The template closes with « Fait à, le / / » and « Nom, prénom : ».
const DECLARATION: &[FieldText] = &[
    // The template's two boxes after « Je déclare sur l'honneur : ».
    FieldText {
        key: "fraudes",
        label_fr: "avoir pris connaissance des informations relatives aux fraudes en VAE",
        label_en: "I have read the information on fraud in VAE",
        guidance_fr: "",
        guidance_en: "",
        from_template: true,
    },
    FieldText {
        key: "exactitude",
        label_fr: "attester de l’exactitude de toutes les informations figurant dans le présent livret",
        label_en: "I attest that all the information in this livret is accurate",
        guidance_fr: "",
        guidance_en: "",
        from_template: true,
    },
    FieldText {
        key: "lieu",
        label_fr: "Fait à",
        label_en: "Signed at",
        guidance_fr: "La commune où vous signez cette déclaration.",
        guidance_en: "The town where you sign this declaration.",
        from_template: false,
    },
    FieldText {
        key: "date",
        label_fr: "Date",
        label_en: "Date",
        guidance_fr: "Le jour où vous signez cette déclaration.",
        guidance_en: "The day you sign this declaration.",
        from_template: false,
    },
    // « Nom, prénom : » is what the template prints where the candidate signs.
    FieldText {
        key: "signature",
        label_fr: "Signature",
        label_en: "Signature",
        guidance_fr: "Vos nom et prénom.",
        guidance_en: "Your surname and first name.",
        from_template: true,
    },
];

/// Whose model this template is: ANNEXE 5 of the RNCP37827 règlement, by Simplon. Its words
/// that name the certifier or its own terms (its fees, its quality department) are printed
/// in a dossier for that certification only; another certification's dossier gets the
/// same sentence without them, never another certifier's name.
pub const MODEL_RNCP: &str = "37827";
const MODEL_CERTIFIER: &str = "SIMPLON";

/// The ENGAGEMENT page of the template (« Je, soussigné(e)… »), for a dossier whose
/// certification's RNCP number is `rncp` (digits): what the candidate certifies, one item a
/// line. The template's own wording for its certification; for another, the same
/// commitments without the certifier's name.
pub fn engagement(rncp: &str) -> Vec<String> {
    let own = rncp == MODEL_RNCP;
    let only_one = if own {
        format!(
            "déclare n'avoir déposé, au cours de la même année civile et pour ce diplôme, \
             qu'une seule demande et n'avoir saisi que {MODEL_CERTIFIER},"
        )
    } else {
        "déclare n'avoir déposé, au cours de la même année civile et pour cette \
         certification, qu'une seule demande et n'avoir saisi qu'un seul certificateur,"
            .to_string()
    };
    let read = if own {
        "déclare avoir lu et approuvé les informations générales données ci-dessous, \
         concernant les fausses déclarations, le traitement informatique des données \
         apportées par dans ce dossier, les frais administratifs de recevabilité et \
         l'article 433-5 du Code pénal"
    } else {
        "déclare avoir lu et approuvé les informations générales données ci-dessous, \
         concernant les fausses déclarations, le traitement informatique des données \
         apportées dans ce dossier et l'article 433-5 du Code pénal"
    };
    vec![
        "certifie sur l'honneur l'exactitude des renseignements fournis dans ce dossier,".into(),
        only_one,
        "déclare n'avoir pas déposé plus de trois demandes de validation au cours de la même \
         année civile pour des diplômes différents"
            .into(),
        read.into(),
    ]
}

/// The « Informations générales » under the ENGAGEMENT: (heading, paragraphs). The law's
/// words for every dossier; the data paragraph names the certifier's department, and the
/// fees paragraph is printed, only for the template's own certification.
pub fn general_information(rncp: &str) -> Vec<(&'static str, Vec<String>)> {
    let own = rncp == MODEL_RNCP;
    let mut parts = vec![
        (
            "La loi punit quiconque se rend coupable de fausses déclarations",
            vec![
                "« Constitue un faux toute altération frauduleuse de la vérité, de nature à \
                 causer un préjudice et accomplie par quelque moyen que ce soit, dans un écrit \
                 ou tout autre support d'expression de la pensée qui a pour objet ou qui peut \
                 avoir pour effet d'établir la preuve d'un droit ou d'un fait ayant des \
                 conséquences juridiques."
                    .to_string(),
                "Le faux et l'usage de faux sont punis de trois ans d'emprisonnement et de \
                 45000 euros d'amende (code pénal, art. 441-1)."
                    .to_string(),
                "Le fait de se faire délivrer indûment par une administration publique ou par \
                 un organisme chargé d'une mission de service public, par quelque moyen \
                 frauduleux que ce soit, un document destiné à constater un droit, une \
                 identité ou une qualité ou à accorder une autorisation est puni de deux ans \
                 d'emprisonnement et de 30 000 euros d'amende » (code pénal art. 441-6). »"
                    .to_string(),
            ],
        ),
        (
            "Traitement informatique des données apportées dans ce dossier",
            vec![format!(
                "Les informations recueillies dans ce dossier font l'objet d'un traitement \
                 informatique destiné à communiquer avec vous dans le cadre de votre démarche. \
                 Conformément à la loi \"Informatique et Libertés\", vous bénéficiez d'un droit \
                 d'accès et de rectification aux informations qui vous concernent. Si vous \
                 souhaitez exercer ce droit et obtenir communication des informations vous \
                 concernant, veuillez-vous adresser à {}. Vous pouvez également, pour des \
                 motifs légitimes, vous opposer au traitement des données vous concernant\"",
                if own {
                    "la direction Qualité et RSE de SIMPLON"
                } else {
                    "votre certificateur"
                }
            )],
        ),
    ];
    if own {
        parts.push((
            "Frais administratifs de recevabilité",
            vec![
                "Les frais de recevabilité de 300€ couvrent les frais administratifs d'étude du \
                 dossier de recevabilité. Ils ne sont pas remboursés, même en cas de \
                 recevabilité administrative défavorable ou de faisabilité pédagogique réservée \
                 ou défavorable."
                    .to_string(),
            ],
        ));
    }
    parts.push((
        "Article 433-5 du Code pénal :",
        vec![
            "« Constituent un outrage puni de 7 500 euros d'amende les paroles, gestes ou \
             menaces, les écrits ou images de toute nature non rendus publics ou l'envoi \
             d'objets quelconques adressés à une personne chargée d'une mission de service \
             public, dans l'exercice ou à l'occasion de l'exercice de sa mission, et de nature \
             à porter atteinte à sa dignité ou au respect dû à la fonction dont elle est \
             investie. Lorsqu'il est adressé à une personne dépositaire de l'autorité \
             publique, l'outrage est puni de six mois d'emprisonnement et de 7 500 euros \
             d'amende. Lorsqu'il est commis en réunion, l'outrage prévu au premier alinéa est \
             puni de six mois d'emprisonnement et de 7 500 euros d'amende, et l'outrage prévu \
             au deuxième alinéa est puni d'un an d'emprisonnement et de 15 000 euros \
             d'amende. »"
                .to_string(),
        ],
    ));
    parts
}

/// The words of one section: a model section name, `"fiches"` or `"annexes"`.
pub fn section(key: &str) -> Option<&'static SectionText> {
    TEMPLATE.iter().find(|s| s.key == key)
}

/// The words of one field, e.g. `field("fiches", "contexte")`.
pub fn field(section: &str, field: &str) -> Option<&'static FieldText> {
    self::section(section)?
        .fields
        .iter()
        .find(|f| f.key == field)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dossier::{ANNEXE_FIELDS, FICHE_FIELDS, FieldKind, SECTIONS};

    fn keys(fields: &[(&'static str, FieldKind)]) -> Vec<&'static str> {
        fields.iter().map(|(key, _)| *key).collect()
    }

    #[test]
    fn every_model_section_and_field_has_exactly_one_entry() {
        let mut model: Vec<(&str, Vec<&str>)> = SECTIONS
            .iter()
            .map(|(section, fields)| (*section, keys(fields)))
            .collect();
        model.push(("fiches", keys(FICHE_FIELDS)));
        model.push(("annexes", keys(ANNEXE_FIELDS)));

        for (i, s) in TEMPLATE.iter().enumerate() {
            assert!(
                TEMPLATE[..i].iter().all(|earlier| earlier.key != s.key),
                "section {} is listed twice",
                s.key
            );
            assert!(
                model.iter().any(|(key, _)| *key == s.key),
                "section {} is not in the model",
                s.key
            );
        }
        for (key, fields) in &model {
            let s = section(key).unwrap_or_else(|| panic!("no text for section {key}"));
            let listed: Vec<&str> = s.fields.iter().map(|f| f.key).collect();
            // Equal lists in the model's order: no field missing, extra or repeated.
            assert_eq!(&listed, fields, "fields of section {key}");
        }
    }

    #[test]
    fn sections_come_in_the_template_order() {
        let without_lists: Vec<&str> = TEMPLATE
            .iter()
            .map(|s| s.key)
            .filter(|key| !matches!(*key, "fiches" | "annexes"))
            .collect();
        let model: Vec<&str> = SECTIONS.iter().map(|(section, _)| *section).collect();
        assert_eq!(without_lists, model);
        let at = |key: &str| TEMPLATE.iter().position(|s| s.key == key).unwrap();
        assert!(at("poste") < at("fiches"));
        assert!(at("fiches") < at("annexes"));
        assert!(at("annexes") < at("declaration"));
    }

    #[test]
    fn every_label_is_written_in_both_languages() {
        for s in TEMPLATE {
            assert!(!s.title_fr.trim().is_empty(), "{}: title_fr", s.key);
            assert!(!s.title_en.trim().is_empty(), "{}: title_en", s.key);
            assert_eq!(
                s.guidance_fr.is_empty(),
                s.guidance_en.is_empty(),
                "{}: guidance in one language only",
                s.key
            );
            for f in s.fields {
                let at = format!("{}.{}", s.key, f.key);
                assert!(!f.label_fr.trim().is_empty(), "{at}: label_fr");
                assert!(!f.label_en.trim().is_empty(), "{at}: label_en");
                assert_eq!(
                    f.guidance_fr.is_empty(),
                    f.guidance_en.is_empty(),
                    "{at}: guidance in one language only"
                );
                // Our own help exists only to fill a gap in the template.
                assert!(
                    f.from_template || !f.guidance_fr.is_empty(),
                    "{at}: written by us but empty"
                );
            }
        }
    }

    #[test]
    fn apostrophes_are_typographic() {
        for s in TEMPLATE {
            let mut texts = vec![s.title_fr, s.title_en, s.guidance_fr, s.guidance_en];
            for f in s.fields {
                texts.extend([f.label_fr, f.label_en, f.guidance_fr, f.guidance_en]);
            }
            for text in texts {
                assert!(!text.contains('\''), "straight apostrophe in {text:?}");
            }
        }
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
                self::field(section, field).is_some(),
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
        assert_eq!(section("cv").map(|s| s.title_fr), Some("Votre CV"));
        assert_eq!(
            field("fiches", "contexte").map(|f| f.label_fr),
            Some("Contexte")
        );
        assert_eq!(
            field("annexes", "numero").map(|f| f.label_en),
            Some("Number")
        );
        assert!(field("etat_civil", "inconnu").is_none());
        assert!(field("inconnue", "nom").is_none());
        assert!(section("fiches.0").is_none());
    }
}
