//! The jury's documents as the certifier's forms lay them out (seed 002): the official
//! *grille d'évaluation individuelle* (ANNEXE 3: one per candidate, from the decision the
//! jury released), the *procès-verbal de délibération du jury* of a whole session (ANNEXE
//! 4), and each juror's own working grid with their 0–3 notes, titled as a working
//! document. Laid out by the livret's typesetter, written by the same writer, on the device
//! like the livret.

use std::collections::BTreeMap;
use std::io::Write;

use lopdf::{Object, dictionary};

use super::PdfExportError;
use super::font::{Font, compressed};
use super::layout::{BODY, CONTENT_WIDTH, Column, Fonts, LABEL, MARGIN, Page, SMALL, Typesetter};
use super::livret::{FontFiles, bloc_label, french_date, or_empty, page_object, shortened, utf16};
use super::writer::PdfWriter;
use crate::export::DossierJson;
use crate::referentiel::Referentiel;
use crate::review::{Decision, Evidence, JurorReview, Outcome, bloc_results};
use crate::session::{
    self, Breach, JuryMember, JurySession, PvLine, SessionCandidate, SessionInfo, Voie,
};

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
            nom: json.text("etat_civil", "nom").to_uppercase(),
            prenom: json.text("etat_civil", "prenom"),
            certification: or(
                json.text("projet_vae", "certification"),
                referentiel.title.as_ref(),
            ),
            rncp: json.rncp(Some(referentiel)),
            centre: json.text("projet_vae", "centre"),
        }
    }
}

fn acquis(yes: bool) -> &'static str {
    if yes { "Acquis" } else { "Non acquis" }
}

/// A label per evidence, for the grille (`Fiche n° 2`, `Annexe 5`): the caller knows the
/// numbers fiches show.
pub type EvidenceLabels = BTreeMap<Evidence, String>;

/// A juror's own working grid: every compétence of the référentiel with its criteria (and
/// the evidence the juror linked to each), the juror's 0–3 rating, acquis / non acquis and
/// the justification; then the blocs. Titled as what it is — a working document, not the
/// official grid, which follows the jury's released decision ([`grille_officielle`]).
pub fn grille_de_travail<W: Write>(
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
    t.heading("Grille de travail du juré", 18.0, 30.0);
    t.paragraph(
        SMALL,
        "Document de travail d'un membre du jury, d'après ses propres notes : ce n'est pas la grille d'évaluation officielle, qui reprend la décision du jury.",
        0.0,
    );
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
            &bloc_label(Some(referentiel), &bloc.number.to_string(), false),
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
        let label = bloc_label(Some(referentiel), &number.to_string(), false);
        t.row(
            &bloc_columns,
            &[(BODY, &label), (LABEL, acquis(yes))],
            false,
        );
    }
    let pages = std::mem::take(&mut t.pages);
    let title = format!("Grille de travail du juré — {}", header.nom);
    write_document(&title, &title, pages, fonts, out)
}

/// A ticked and an empty box, as the official forms print them.
fn tick(yes: bool) -> &'static str {
    if yes { "☒" } else { "☐" }
}

/// The « Attendu » cell of a compétence in its bloc: the épreuves that assess it (code,
/// title, deliverable, assessment), printed on the first of their compétences in the bloc
/// — the official grid spans the cell over the rows of the compétences it assesses; when
/// the référentiel names no épreuve, the bloc's modalités on its first row.
fn attendu(referentiel: &Referentiel, bloc: &crate::referentiel::Bloc, index: usize) -> String {
    if referentiel.epreuves.is_empty() {
        return if index == 0 {
            bloc.assessment.join("\n")
        } else {
            String::new()
        };
    }
    let code = &bloc.competences[index].code;
    let earlier: Vec<&str> = bloc.competences[..index]
        .iter()
        .map(|c| c.code.as_str())
        .collect();
    referentiel
        .epreuves_of(code)
        .filter(|e| !e.competences.iter().any(|c| earlier.contains(&c.as_str())))
        .map(|e| e.attendu())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The official *grille d'évaluation individuelle* (ANNEXE 3 of seed 002): one grid per
/// candidate, filled from the decision the jury released — every compétence with its
/// Attendu and criteria, ACQUIS or NON ACQUIS ticked, the overall decision marked among
/// Admis – Non admis – Admission partielle, the comments, the date and a signature line per
/// member of the jury (`members`: the session's, else the names the decision gives).
pub fn grille_officielle<W: Write>(
    json: &DossierJson,
    referentiel: &Referentiel,
    decision: &Decision,
    members: &[String],
    fonts: FontFiles,
    out: W,
) -> Result<W, PdfExportError> {
    if !decision.outcome.present() {
        return Err(PdfExportError::Absent);
    }
    let header = Header::from(json, referentiel);
    let mut fonts = load(fonts)?;
    let mut t = Typesetter::new(&mut fonts);
    t.heading("Grille d'évaluation individuelle RNCP", 18.0, 30.0);
    t.paragraph(LABEL, &or_empty(header.certification.to_uppercase()), 0.0);
    t.space(6.0);
    for (label, value) in [
        ("N° RNCP", header.rncp.clone()),
        ("Date de session", french_date(&decision.date)),
        ("Nom du candidat", header.nom.clone()),
        ("Prénom du candidat", header.prenom.clone()),
    ] {
        t.paragraph(BODY, &format!("{label} : {}", or_empty(value)), 0.0);
    }
    t.space(10.0);
    let columns = [
        Column::left(27.0),
        Column::left(25.0),
        Column::left(33.0),
        Column::left(15.0),
    ];
    for bloc in &referentiel.blocs {
        t.row(
            &columns,
            &[
                (LABEL, "Compétences"),
                (LABEL, "Attendu"),
                (LABEL, "Critère"),
                (LABEL, "Acquis / Non acquis"),
            ],
            true,
        );
        let title = match &bloc.title {
            Some(title) => format!("Bloc de compétences {} : {title}", bloc.number),
            None => format!("Bloc de compétences {}", bloc.number),
        };
        t.row(&[Column::left(100.0)], &[(LABEL, &title)], false);
        for (i, c) in bloc.competences.iter().enumerate() {
            let yes = decision.competences.get(&c.code) == Some(&true);
            let criteria: Vec<String> = c
                .criteria
                .iter()
                .map(|k| format!("- {}", k.title))
                .collect();
            let result = format!("{} ACQUIS\n{} NON ACQUIS", tick(yes), tick(!yes));
            t.row(
                &columns,
                &[
                    (BODY, &format!("{}. {}", c.code, c.title)),
                    (SMALL, &attendu(referentiel, bloc, i)),
                    (SMALL, &criteria.join("\n")),
                    (LABEL, &result),
                ],
                false,
            );
        }
        t.space(8.0);
    }
    t.heading("Décision du jury", 12.0, 80.0);
    let (admis, non_admis, partielle) = match decision.outcome {
        Outcome::Totale => (true, false, false),
        Outcome::NonValidation => (false, true, false),
        _ => (false, false, true),
    };
    t.paragraph(
        LABEL,
        &format!(
            "{} Admis   {} Non admis   {} Admission partielle",
            tick(admis),
            tick(non_admis),
            tick(partielle)
        ),
        0.0,
    );
    t.paragraph(BODY, &decision.outcome.label_fr(), 0.0);
    if !decision.reserve.trim().is_empty() {
        t.paragraph(
            LABEL,
            &format!("Sous réserve : {}", decision.reserve.trim()),
            0.0,
        );
    }
    t.space(4.0);
    t.boxed(
        "Commentaires (à renseigner obligatoirement si admission partielle ou non admis)",
        &or_empty(decision.motifs.clone()),
    );
    t.space(10.0);
    t.heading(
        "Date et signatures de l'ensemble des membres du jury",
        12.0,
        40.0 + 30.0 * members.len() as f32,
    );
    t.paragraph(
        BODY,
        &format!("Date : {}", french_date(&decision.date)),
        0.0,
    );
    let signature_columns = [Column::left(45.0), Column::left(55.0)];
    t.row(
        &signature_columns,
        &[(LABEL, "Membre du jury"), (LABEL, "Signature")],
        true,
    );
    for name in members {
        t.row(&signature_columns, &[(BODY, name), (BODY, "\n\n")], false);
    }
    let pages = std::mem::take(&mut t.pages);
    let title = format!("Grille d'évaluation — {} {}", header.nom, header.prenom);
    write_document(&title, &title, pages, fonts, out)
}

/// The « Commentaires sur les blocs refusés » cell.
fn refused_blocs_comment(decision: &Decision) -> String {
    let comment = outcome_comment(decision);
    match decision.reserve.trim() {
        "" => comment,
        reserve if comment.is_empty() => format!("Sous réserve : {reserve}"),
        reserve => format!("{comment}. Sous réserve : {reserve}"),
    }
}

fn outcome_comment(decision: &Decision) -> String {
    match &decision.outcome {
        Outcome::Totale => String::new(),
        Outcome::Absent => String::new(),
        Outcome::Excuse => "Excusé·e".into(),
        _ => {
            let refused: Vec<String> = decision
                .blocs
                .iter()
                .filter(|(_, yes)| !yes)
                .map(|(n, _)| format!("bloc {n}"))
                .collect();
            let blocs = if refused.is_empty() {
                String::new()
            } else {
                format!(
                    "Non validé{} : {}",
                    if refused.len() > 1 { "s" } else { "" },
                    refused.join(", ")
                )
            };
            [blocs, decision.motifs.trim().to_string()]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(". ")
        }
    }
}

/// The procès-verbal of a jury session (ANNEXE 4 of seed 002), its four parts: the session
/// and the five counts; one line per candidate with the voie d'accès and the jury's decision;
/// the jury with poste and entreprise and a place to sign; the session manager's observations
/// (and every rule of the référentiel the jury breaks, never left out), name, role, date and
/// signature, and the centre's stamp.
pub fn proces_verbal<W: Write>(
    session: &JurySession,
    lines: &[PvLine],
    breaches: &[Breach],
    fonts: FontFiles,
    out: W,
) -> Result<W, PdfExportError> {
    let info = &session.info;
    let mut fonts = load(fonts)?;
    let mut t = Typesetter::new(&mut fonts);
    t.heading("PROCÈS VERBAL", 18.0, 30.0);
    t.heading("DÉLIBÉRATION DU JURY", 14.0, 30.0);
    t.heading("Partie 1 — La session", 12.0, 40.0);
    let dates = if info.fin.trim().is_empty() || info.fin == info.debut {
        french_date(&info.debut)
    } else {
        format!(
            "du {} au {}",
            french_date(&info.debut),
            french_date(&info.fin)
        )
    };
    let counts = session::counts(
        lines
            .iter()
            .map(|l| l.decision.as_ref().map(|d| &d.outcome)),
    );
    let mut fields = vec![
        ("Date(s) de passage des évaluations", dates),
        (
            "Intitulé de la certification professionnelle",
            info.certification.to_uppercase(),
        ),
        (
            "N° d'enregistrement RNCP de la certification",
            info.rncp.clone(),
        ),
        ("Centre organisateur de la session", info.centre.clone()),
        ("Début de la session d'évaluation", french_date(&info.debut)),
        ("Fin de la session d'évaluation", french_date(&info.fin)),
    ];
    if info.visio.trim().is_empty() || !info.lieu.trim().is_empty() {
        fields.push(("Adresse du lieu de la session", info.lieu.clone()));
    }
    if !info.visio.trim().is_empty() {
        fields.push((
            "Lien de la visioconférence en évaluation en distanciel",
            info.visio.clone(),
        ));
    }
    for (label, count) in [
        ("Nombre de candidats présents", counts.presents),
        ("Nombre de candidats absents", counts.absents),
        (
            "Nombre de candidats admis totalement",
            counts.admis_totalement,
        ),
        (
            "Nombre de candidats admis partiellement",
            counts.admis_partiellement,
        ),
        ("Nombre de candidats refusés", counts.refuses),
    ] {
        fields.push((label, count.to_string()));
    }
    if counts.en_attente > 0 {
        fields.push((
            "Candidats dont la décision n'est pas encore rendue",
            counts.en_attente.to_string(),
        ));
    }
    for (label, value) in fields {
        t.paragraph(BODY, &format!("{label} : {}", or_empty(value)), 0.0);
    }
    t.space(10.0);
    t.heading("Partie 2 — Résultats des délibérations", 12.0, 60.0);
    let columns = [
        Column::left(12.0),
        Column::left(11.0),
        Column::left(10.0),
        Column::left(5.5),
        Column::left(9.0),
        Column::left(9.0),
        Column::left(11.5),
        Column::left(13.5),
        Column::left(18.5),
    ];
    // The form's nine columns: headers in a small size, so no word breaks across lines.
    let head = BODY.sized(6.0);
    t.row(
        &columns,
        &[
            (head, "NOM"),
            (head, "PRÉNOM(S)"),
            (head, "Formation"),
            (head, "VAE"),
            (head, "Absent.e"),
            (head, "Refusé.e"),
            (head, "Admis.e totalement"),
            (head, "Admis.e partiellement"),
            (head, "Commentaires sur les blocs refusés"),
        ],
        true,
    );
    for line in lines {
        let c = &line.candidate;
        let mark = |yes: bool| if yes { "X" } else { "" };
        let (absent, refused, total, partial, comment) = match &line.decision {
            None => (
                false,
                false,
                false,
                false,
                "Décision non rendue".to_string(),
            ),
            Some(d) => (
                !d.outcome.present(),
                d.outcome == Outcome::NonValidation,
                d.outcome == Outcome::Totale,
                matches!(d.outcome, Outcome::Blocs { .. } | Outcome::Partielle { .. }),
                refused_blocs_comment(d),
            ),
        };
        t.row(
            &columns,
            &[
                (BODY, &c.nom.to_uppercase()),
                (BODY, &c.prenom),
                (LABEL, mark(c.voie == Voie::Formation)),
                (LABEL, mark(c.voie == Voie::Vae)),
                (LABEL, mark(absent)),
                (LABEL, mark(refused)),
                (LABEL, mark(total)),
                (LABEL, mark(partial)),
                (SMALL, &comment),
            ],
            false,
        );
    }
    t.space(10.0);
    t.heading("Partie 3 — Informations jury", 12.0, 60.0);
    let jury_columns = [
        Column::left(18.0),
        Column::left(16.0),
        Column::left(22.0),
        Column::left(22.0),
        Column::left(22.0),
    ];
    t.row(
        &jury_columns,
        &[
            (LABEL, "Nom"),
            (LABEL, "Prénom"),
            (LABEL, "Poste occupé"),
            (LABEL, "Entreprise"),
            (LABEL, "Signature"),
        ],
        true,
    );
    for m in &session.members {
        t.row(
            &jury_columns,
            &[
                (BODY, &m.nom),
                (BODY, &m.prenom),
                (BODY, &m.poste),
                (BODY, &m.entreprise),
                (BODY, "\n\n"),
            ],
            false,
        );
    }
    t.space(10.0);
    t.heading("Partie 4 — Responsable de session", 12.0, 80.0);
    t.boxed(
        "Observations du responsable de session sur le déroulement de la session d'évaluation",
        &or_empty(info.observations.clone()),
    );
    if !breaches.is_empty() {
        t.space(4.0);
        let listed: Vec<String> = breaches
            .iter()
            .map(|b| format!("- {}", b.label_fr()))
            .collect();
        t.boxed(
            "Observations : règles du référentiel sur le jury non respectées (relevées par Livret)",
            &listed.join("\n"),
        );
    }
    t.space(6.0);
    for (label, value) in [
        (
            "Nom et prénom du responsable de session",
            info.responsable.clone(),
        ),
        ("Fonction du responsable de session", info.fonction.clone()),
    ] {
        t.paragraph(BODY, &format!("{label} : {}", or_empty(value)), 0.0);
    }
    t.space(6.0);
    t.boxed(
        "Date et signature du responsable de session (qui n'a pas de voix délibérative dans l'attribution de la certification)",
        "\n\n\n",
    );
    t.space(6.0);
    t.boxed("Cachet du centre organisateur de la session", "\n\n\n\n");
    let pages = std::mem::take(&mut t.pages);
    let title = format!(
        "Procès-verbal de jury — {} — {}",
        info.certification,
        french_date(&info.debut)
    );
    write_document(&title, &title, pages, fonts, out)
}

/// The session of one a dossier makes on its own, when it belongs to no session this device
/// holds: the certification from the dossier, the date of the decision, the jury as the
/// decision names it.
pub fn session_of_one(
    json: &DossierJson,
    referentiel: &Referentiel,
    dossier: &str,
    decision: &Decision,
) -> JurySession {
    let header = Header::from(json, referentiel);
    JurySession {
        info: SessionInfo {
            certification: header.certification,
            rncp: header.rncp,
            centre: header.centre,
            debut: decision.date.clone(),
            fin: decision.date.clone(),
            ..SessionInfo::default()
        },
        members: decision
            .jury
            .iter()
            .map(|name| JuryMember {
                nom: name.clone(),
                ..JuryMember::default()
            })
            .collect(),
        candidates: vec![SessionCandidate {
            dossier: dossier.to_string(),
            nom: header.nom,
            prenom: header.prenom,
            voie: Voie::Vae,
        }],
    }
}

pub(super) fn load(fonts: FontFiles) -> Result<Fonts, PdfExportError> {
    Ok(Fonts {
        regular: Font::parse(fonts.regular, "DejaVuSans", "LIVRTA")?,
        bold: Font::parse(fonts.bold, "DejaVuSans-Bold", "LIVRTB")?,
    })
}

/// Writes laid-out pages as a whole document, each with `footer` and « page n / N ».
pub(super) fn write_document<W: Write>(
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
