//! The jury's documents of the certifier's référentiel (seed 002): the *grille d'évaluation
//! individuelle* (ANNEXE 3: acquis / non acquis per compétence, with its criteria) filled
//! from one juror's review, and the *procès-verbal de délibération du jury* (ANNEXE 4)
//! from the decision the jury released. Laid out by the livret's typesetter, written by the
//! same writer, on the device like the livret.

use std::collections::BTreeMap;
use std::io::Write;

use lopdf::{Object, dictionary};

use super::PdfExportError;
use super::font::{Font, compressed};
use super::layout::{BODY, CONTENT_WIDTH, Column, Fonts, LABEL, MARGIN, Page, SMALL, Typesetter};
use super::livret::{
    FontFiles, bloc_label, french_date, or_empty, page_object, shortened, text, utf16,
};
use super::writer::PdfWriter;
use crate::export::DossierJson;
use crate::referentiel::Referentiel;
use crate::review::{Decision, Evidence, JurorReview, Outcome, bloc_results};

/// Who and what the documents are about, from the dossier.
struct Header {
    nom: String,
    prenom: String,
    certification: String,
    rncp: String,
    centre: String,
}

impl Header {
    fn from(json: &DossierJson, referentiel: &Referentiel) -> Header {
        let or = |a: String, b: Option<&String>| {
            if a.is_empty() {
                b.cloned().unwrap_or_default()
            } else {
                a
            }
        };
        Header {
            nom: text(json, "etat_civil", "nom").to_uppercase(),
            prenom: text(json, "etat_civil", "prenom"),
            certification: or(
                text(json, "projet_vae", "certification"),
                referentiel.title.as_ref(),
            ),
            rncp: or(text(json, "projet_vae", "rncp"), referentiel.rncp.as_ref()),
            centre: text(json, "projet_vae", "centre"),
        }
    }
}

fn acquis(yes: bool) -> &'static str {
    if yes { "Acquis" } else { "Non acquis" }
}

/// The PV's « décision du jury » column.
fn pv_column(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Totale => "Admis.e totalement",
        Outcome::Blocs { .. } | Outcome::Partielle { .. } => "Admis.e partiellement",
        Outcome::NonValidation => "Refusé.e",
        Outcome::Absent | Outcome::Excuse => "Absent.e",
    }
}

/// A label per evidence, for the grille (`Fiche n° 2`, `Annexe 5`): the caller knows the
/// numbers fiches show.
pub type EvidenceLabels = BTreeMap<Evidence, String>;

/// ANNEXE 3, for one juror: every compétence of the référentiel with its criteria (and the
/// evidence the juror linked to each), the juror's rating, acquis / non acquis and the
/// justification; then the blocs.
pub fn grille<W: Write>(
    json: &DossierJson,
    referentiel: &Referentiel,
    review: &JurorReview,
    session_date: &str,
    labels: &EvidenceLabels,
    fonts: FontFiles,
    out: W,
) -> Result<W, PdfExportError> {
    let header = Header::from(json, referentiel);
    let mut fonts = load(fonts)?;
    let mut t = Typesetter::new(&mut fonts);
    t.heading("Grille d'évaluation individuelle RNCP", 18.0, 30.0);
    t.paragraph(LABEL, &or_empty(header.certification.to_uppercase()), 0.0);
    t.space(6.0);
    for (label, value) in [
        ("Date de session", french_date(session_date)),
        ("Nom du candidat", header.nom.clone()),
        ("Prénom du candidat", header.prenom.clone()),
        ("N° RNCP", header.rncp.clone()),
        ("Membre du jury", review.juror.clone()),
    ] {
        t.paragraph(BODY, &format!("{label} : {}", or_empty(value)), 0.0);
    }
    t.space(10.0);
    let columns = [
        Column::left(28.0),
        Column::left(34.0),
        Column::left(16.0),
        Column::left(22.0),
    ];
    let linked = |code: &str| -> Vec<String> {
        review
            .links
            .iter()
            .filter(|(_, codes)| codes.iter().any(|c| c == code))
            .map(|(e, _)| labels.get(e).cloned().unwrap_or_else(|| format!("{e:?}")))
            .collect()
    };
    let mut acquired = BTreeMap::new();
    for bloc in &referentiel.blocs {
        t.heading(
            &bloc_label(Some(referentiel), &bloc.number.to_string()),
            12.0,
            60.0,
        );
        t.row(
            &columns,
            &[
                (LABEL, "Compétence"),
                (LABEL, "Critères (et preuves reliées)"),
                (LABEL, "Acquis / Non acquis"),
                (LABEL, "Justification"),
            ],
            true,
        );
        for c in &bloc.competences {
            let rating = review.ratings.get(&c.code);
            let yes = rating.is_some_and(|r| r.level.acquired());
            acquired.insert(c.code.clone(), yes);
            let mut criteria: Vec<String> = c
                .criteria
                .iter()
                .enumerate()
                .map(|(i, k)| {
                    let proofs = linked(&format!("{}#{}", c.code, i + 1));
                    if proofs.is_empty() {
                        format!("{}. {}", i + 1, k.title)
                    } else {
                        format!("{}. {} — {}", i + 1, k.title, proofs.join(", "))
                    }
                })
                .collect();
            let whole = linked(&c.code);
            if !whole.is_empty() {
                criteria.push(format!("Preuves : {}", whole.join(", ")));
            }
            let result = match rating {
                Some(r) => format!(
                    "{}\n({} — {})",
                    acquis(yes),
                    r.level.score(),
                    r.level.label_fr()
                ),
                None => "Non évalué".to_string(),
            };
            let title = format!("{}. {}", c.code, c.title);
            let criteria = or_empty(criteria.join("\n"));
            let justification = rating.map(|r| r.justification.clone()).unwrap_or_default();
            t.row(
                &columns,
                &[
                    (BODY, &title),
                    (SMALL, &criteria),
                    (LABEL, &result),
                    (BODY, &or_empty(justification)),
                ],
                false,
            );
        }
    }
    t.space(10.0);
    t.heading("Blocs de compétences", 12.0, 40.0);
    let bloc_columns = [Column::left(75.0), Column::left(25.0)];
    for (number, yes) in bloc_results(referentiel, &acquired) {
        let label = bloc_label(Some(referentiel), &number.to_string());
        t.row(
            &bloc_columns,
            &[(BODY, &label), (LABEL, acquis(yes))],
            false,
        );
    }
    t.space(24.0);
    t.paragraph(
        BODY,
        &format!("Signature du membre du jury ({}) :", review.juror),
        0.0,
    );
    let pages = std::mem::take(&mut t.pages);
    let title = format!("Grille d'évaluation individuelle — {}", header.nom);
    write_document(&title, &title, pages, fonts, out)
}

/// ANNEXE 4 for this candidate: the session, the candidate's line with the jury's
/// decision, the result of every bloc and compétence, the outcome and its reasons, the
/// jury.
pub fn proces_verbal<W: Write>(
    json: &DossierJson,
    referentiel: &Referentiel,
    decision: &Decision,
    fonts: FontFiles,
    out: W,
) -> Result<W, PdfExportError> {
    let header = Header::from(json, referentiel);
    let mut fonts = load(fonts)?;
    let mut t = Typesetter::new(&mut fonts);
    t.heading("PROCÈS VERBAL — DÉLIBÉRATION DU JURY", 18.0, 30.0);
    for (label, value) in [
        (
            "Date(s) de passage des évaluations",
            french_date(&decision.date),
        ),
        (
            "Intitulé de la certification professionnelle",
            header.certification.to_uppercase(),
        ),
        (
            "N° d'enregistrement RNCP de la certification",
            header.rncp.clone(),
        ),
        ("Centre organisateur de la session", header.centre.clone()),
    ] {
        t.paragraph(BODY, &format!("{label} : {}", or_empty(value)), 0.0);
    }
    t.space(10.0);
    t.heading("Candidat.e", 12.0, 40.0);
    let refused: Vec<String> = decision
        .blocs
        .iter()
        .filter(|(_, yes)| !yes)
        .map(|(n, _)| format!("bloc {n}"))
        .collect();
    let candidate_columns = [
        Column::left(19.0),
        Column::left(17.0),
        Column::left(12.0),
        Column::left(30.0),
        Column::left(22.0),
    ];
    t.row(
        &candidate_columns,
        &[
            (LABEL, "NOM"),
            (LABEL, "PRÉNOM(S)"),
            (LABEL, "Voie d'accès"),
            (LABEL, "Décision du jury"),
            (LABEL, "Blocs refusés"),
        ],
        true,
    );
    let refused = if refused.is_empty() {
        "aucun".to_string()
    } else {
        refused.join(", ")
    };
    t.row(
        &candidate_columns,
        &[
            (BODY, &or_empty(header.nom.clone())),
            (BODY, &or_empty(header.prenom.clone())),
            (BODY, "VAE"),
            (LABEL, pv_column(&decision.outcome)),
            (BODY, &refused),
        ],
        false,
    );
    t.space(10.0);
    t.heading("Décision", 12.0, 40.0);
    t.paragraph(LABEL, &decision.outcome.label_fr(), 0.0);
    t.space(4.0);
    t.boxed(
        "Motifs et recommandations du jury",
        &or_empty(decision.motifs.clone()),
    );
    t.space(10.0);
    t.heading("Résultat par bloc et par compétence", 12.0, 60.0);
    let columns = [Column::left(12.0), Column::left(66.0), Column::left(22.0)];
    for bloc in &referentiel.blocs {
        let bloc_yes = decision
            .blocs
            .iter()
            .find(|(n, _)| *n == bloc.number)
            .is_some_and(|(_, yes)| *yes);
        let label = bloc_label(Some(referentiel), &bloc.number.to_string());
        t.row(
            &[Column::left(78.0), Column::left(22.0)],
            &[(LABEL, &label), (LABEL, acquis(bloc_yes))],
            true,
        );
        for c in &bloc.competences {
            let yes = decision.competences.get(&c.code) == Some(&true);
            t.row(
                &columns,
                &[(LABEL, &c.code), (BODY, &c.title), (LABEL, acquis(yes))],
                false,
            );
        }
    }
    t.space(10.0);
    t.heading("Informations jury", 12.0, 40.0);
    let jury_columns = [Column::left(45.0), Column::left(55.0)];
    t.row(&jury_columns, &[(LABEL, "Nom"), (LABEL, "Signature")], true);
    for name in &decision.jury {
        t.row(&jury_columns, &[(BODY, name), (BODY, "\n\n")], false);
    }
    t.space(10.0);
    t.paragraph(
        SMALL,
        &format!("Établi avec Livret le {}.", french_date(&decision.date)),
        0.0,
    );
    let pages = std::mem::take(&mut t.pages);
    let title = format!("Procès-verbal de jury — {}", header.nom);
    write_document(&title, &title, pages, fonts, out)
}

fn load(fonts: FontFiles) -> Result<Fonts, PdfExportError> {
    Ok(Fonts {
        regular: Font::parse(fonts.regular, "DejaVuSans", "LIVRTA")?,
        bold: Font::parse(fonts.bold, "DejaVuSans-Bold", "LIVRTB")?,
    })
}

/// Writes laid-out pages as a whole document, each with `footer` and « page n / N ».
fn write_document<W: Write>(
    title: &str,
    footer: &str,
    mut pages: Vec<Page>,
    mut fonts: Fonts,
    out: W,
) -> Result<W, PdfExportError> {
    let mut writer = PdfWriter::new(out)?;
    let page_tree = writer.reserve();
    let font_ids = (writer.reserve(), writer.reserve());
    let total = pages.len();
    let footer = shortened(footer, 80);
    let mut kids = Vec::new();
    for (i, page) in pages.iter_mut().enumerate() {
        let mut t = Typesetter::new(&mut fonts);
        t.new_page();
        let label = format!("page {} / {total}", i + 1);
        let right = MARGIN + CONTENT_WIDTH - t.width(SMALL, &label);
        t.text_at(SMALL, MARGIN, MARGIN - 6.0, &footer);
        t.text_at(SMALL, right, MARGIN - 6.0, &label);
        page.ops.push_str(&t.pages[0].ops);
        let content = writer.add(&compressed(dictionary! {}, page.ops.as_bytes()))?;
        let id = writer.add(&page_object(page, content, page_tree, font_ids))?;
        kids.push(Object::from((id, 0)));
    }
    for (font, id) in [(&fonts.regular, font_ids.0), (&fonts.bold, font_ids.1)] {
        let objects = font.objects(id, || writer.reserve());
        for (object_id, object) in objects {
            writer.write(object_id, &object)?;
        }
    }
    writer.write(
        page_tree,
        &Object::Dictionary(dictionary! {
            "Type" => "Pages", "Count" => kids.len() as i64, "Kids" => kids,
        }),
    )?;
    let catalog = writer.add(&Object::Dictionary(dictionary! {
        "Type" => "Catalog", "Pages" => (page_tree, 0),
        "Lang" => Object::string_literal("fr-FR"),
    }))?;
    let info = writer.add(&Object::Dictionary(dictionary! {
        "Title" => utf16(title),
        "Producer" => Object::string_literal("Livret"),
    }))?;
    Ok(writer.finish(catalog, Some(info))?)
}
