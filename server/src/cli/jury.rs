//! `livret jury …`: a juror's review from the command line (annotations on fiches and
//! evidence, evidence → compétences, ratings, coverage, the decision, the official grid, a
//! juror's working grid and the procès-verbal), jury sessions (`session.rs`), and what the
//! candidate sees of it (`livret dossier decision|coverage`).
//! Everything is written on this device and sent at the next `livret sync`, sealed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use clap::Subcommand;
use livret_shared::export::{self, DossierJson};
use livret_shared::pdf_export::{self, EvidenceLabels};
use livret_shared::referentiel::{self, Referentiel};
use livret_shared::review::anchor::TextAnchor;
use livret_shared::review::{
    self, Annotation, Decision, Evidence, JurorReview, Level, Rating, Target, coverage,
};
use livret_shared::session::{self, PvLine};
use livret_shared::sync::Replica;

use crate::cli::export::{fetch_annexe, fonts};
use livret_client::{Home, parse_id};

#[derive(Subcommand)]
pub enum JuryCommand {
    /// Annotates a passage of a field (`--field fiches.0.taches --quote "…"`), a page of
    /// a PDF annexe (`--annex 5 --page 2 --quote "…"`) or a region of an image annexe
    /// (`--annex 6 --region 0.1,0.2,0.5,0.3`). Prints the annotation's id.
    Annotate {
        id: String,
        #[arg(long, alias = "commentaire")]
        comment: String,
        #[arg(long, alias = "champ", conflicts_with = "annex", requires = "quote")]
        field: Option<String>,
        #[arg(long, alias = "annexe")]
        annex: Option<u32>,
        #[arg(long, requires = "annex", requires = "quote")]
        page: Option<u32>,
        #[arg(long, requires = "annex", conflicts_with = "page")]
        region: Option<String>,
        #[arg(long, alias = "citation")]
        quote: Option<String>,
        /// Your name as the jury's documents show it.
        #[arg(long, alias = "nom")]
        name: Option<String>,
    },
    /// Every annotation of the jury, found again in the current text.
    Annotations { id: String },
    /// Links a fiche (its number) or an annexe to compétences or criteria: `C1,C2#1`.
    Link {
        id: String,
        #[arg(long, conflicts_with = "annex")]
        fiche: Option<usize>,
        #[arg(long, alias = "annexe")]
        annex: Option<u32>,
        competences: String,
        #[arg(long, alias = "nom")]
        name: Option<String>,
    },
    /// Rates a compétence 0–3 (non acquis, en cours d'acquisition, acquis, maîtrise).
    Rate {
        id: String,
        competence: String,
        note: u8,
        #[arg(long)]
        justification: String,
        #[arg(long, alias = "nom")]
        name: Option<String>,
    },
    /// The coverage matrix: each juror's view, then the jury's merged.
    Coverage { id: String },
    /// Releases the jury's decision to the candidate.
    Decide {
        id: String,
        /// The jury's date (YYYY-MM-DD).
        #[arg(long, value_parser = super::parse_date)]
        date: livret_shared::date::Date,
        /// The jury's grounds (motifs), required unless the validation is total.
        #[arg(long, alias = "motifs", default_value = "")]
        reasons: String,
        /// Compétences acquired whatever the ratings say.
        #[arg(long, alias = "acquis")]
        acquired: Option<String>,
        /// Compétences not acquired whatever the ratings say.
        #[arg(long, alias = "non-acquis")]
        not_acquired: Option<String>,
        /// The jury's names, comma-separated (default: the members of the session the
        /// dossier belongs to, else the jurors' names).
        #[arg(long)]
        jury: Option<String>,
        /// The candidate did not come to the session.
        #[arg(long, conflicts_with_all = ["acquired", "not_acquired"])]
        absent: bool,
        /// The candidate did not come and was excused.
        #[arg(long, conflicts_with_all = ["acquired", "not_acquired", "absent"])]
        excused: bool,
        /// A result « sous réserve »: what it waits for.
        #[arg(long)]
        sous_reserve: Option<String>,
    },
    /// The official grille d'évaluation (ANNEXE 3) from the decision the jury released, as
    /// PDF; with `--mine`, this juror's own working grid with their 0–3 notes.
    Grille {
        id: String,
        #[arg(long)]
        out: PathBuf,
        /// This juror's working grid (not the official one).
        #[arg(long, requires = "date")]
        mine: bool,
        /// The session's date, for the working grid (YYYY-MM-DD).
        #[arg(long, value_parser = super::parse_date)]
        date: Option<livret_shared::date::Date>,
    },
    /// The procès-verbal of this candidate alone (a session of one), as PDF; a session's
    /// whole PV is `livret jury session pv`.
    Pv {
        id: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Jury sessions: several candidates, the jury's members, the session's PV.
    #[command(subcommand)]
    Session(super::session::SessionCommand),
}

pub async fn run(home: &Home, command: JuryCommand) -> Result<()> {
    match command {
        JuryCommand::Annotate {
            id,
            comment,
            field,
            annex,
            page,
            region,
            quote,
            name,
        } => {
            let quote = quote.unwrap_or_default();
            let place = match (field, annex, page, region) {
                (Some(path), None, None, None) => Place::Field { path, quote },
                (None, Some(annexe), Some(page), None) => Place::PdfPage {
                    annexe,
                    page,
                    quote,
                },
                (None, Some(annexe), None, Some(region)) => Place::ImageRegion { annexe, region },
                _ => anyhow::bail!(
                    "où annoter : --field CHEMIN, --annex N --page P, ou --annex N --region x,y,l,h"
                ),
            };
            annotate(home, &id, place, &comment, name.as_deref()).await
        }
        JuryCommand::Annotations { id } => annotations(home, &id),
        JuryCommand::Link {
            id,
            fiche,
            annex,
            competences,
            name,
        } => link(home, &id, fiche, annex, &competences, name.as_deref()),
        JuryCommand::Rate {
            id,
            competence,
            note,
            justification,
            name,
        } => rate(
            home,
            &id,
            &competence,
            note,
            &justification,
            name.as_deref(),
        ),
        JuryCommand::Coverage { id } => jury_coverage(home, &id),
        JuryCommand::Decide {
            id,
            date,
            reasons,
            acquired,
            not_acquired,
            jury,
            absent,
            excused,
            sous_reserve,
        } => decide(
            home,
            &id,
            &date.iso(),
            &reasons,
            Amend {
                acquis: acquired.as_deref(),
                non_acquis: not_acquired.as_deref(),
                absence: (absent || excused).then_some(excused),
                reserve: sous_reserve.as_deref(),
            },
            jury.as_deref(),
        ),
        JuryCommand::Grille {
            id,
            out,
            mine: true,
            date: Some(date),
        } => grille_de_travail(home, &id, &date.iso(), &out),
        JuryCommand::Grille { id, out, .. } => grille_officielle(home, &id, &out),
        JuryCommand::Pv { id, out } => proces_verbal(home, &id, &out),
        JuryCommand::Session(command) => super::session::run(home, command).await,
    }
}

/// Where an annotation goes, as the command line gives it.
pub enum Place {
    Field {
        path: String,
        quote: String,
    },
    PdfPage {
        annexe: u32,
        page: u32,
        quote: String,
    },
    ImageRegion {
        annexe: u32,
        region: String,
    },
}

fn load(home: &Home, id: &str) -> Result<(Replica, livret_shared::keys::DeviceSecret)> {
    let id = parse_id(id)?;
    let device = home.device()?;
    let replica = home.load(&device, &id)?;
    Ok((replica, device))
}

fn juror(replica: &Replica) -> Result<()> {
    if !replica.is_juror() {
        bail!("réservé aux jurés du dossier : cet appareil n'en est pas un");
    }
    Ok(())
}

fn referentiel_of(replica: &mut Replica) -> Result<Referentiel> {
    replica
        .dossier()
        .referentiel()
        .ok_or_else(|| anyhow!("le dossier ne vise encore aucun référentiel"))
}

/// Fiche numbers as the dossier shows them (« fiche n° 2 ») → places, and labels for every
/// evidence.
fn evidence_labels(replica: &mut Replica) -> (Vec<usize>, EvidenceLabels) {
    let order = replica.dossier().fiche_order();
    let mut labels: EvidenceLabels = order
        .iter()
        .enumerate()
        .map(|(i, place)| (Evidence::Fiche(*place), format!("Fiche n° {}", i + 1)))
        .collect();
    for a in replica.dossier().annexes() {
        labels.insert(Evidence::Annexe(a.numero), format!("Annexe {}", a.numero));
    }
    (order, labels)
}

fn fiche_place(order: &[usize], number: usize) -> Result<usize> {
    number
        .checked_sub(1)
        .and_then(|i| order.get(i))
        .copied()
        .ok_or_else(|| anyhow!("le dossier n'a pas de fiche n° {number}"))
}

fn name_me(replica: &mut Replica, name: Option<&str>) -> Result<()> {
    if let Some(name) = name {
        replica.my_review()?.set_name(name.trim());
    }
    Ok(())
}

/// Adds an annotation; prints its id.
pub async fn annotate(
    home: &Home,
    id: &str,
    place: Place,
    comment: &str,
    name: Option<&str>,
) -> Result<()> {
    let (mut replica, _) = load(home, id)?;
    juror(&replica)?;
    if comment.trim().is_empty() {
        bail!("l'annotation est vide");
    }
    let target = match place {
        Place::Field { path, quote } => {
            let text = replica.dossier().get(&path)?;
            let Some(start) = text.find(&quote).filter(|_| !quote.is_empty()) else {
                bail!("« {quote} » n'est pas dans {path}");
            };
            let start = text[..start].chars().count();
            let end = start + quote.chars().count();
            let anchor = TextAnchor::new(&text, start, end).expect("found in the text");
            Target::Text { path, anchor }
        }
        Place::PdfPage {
            annexe,
            page,
            quote,
        } => {
            let bytes = fetch_annexe(home, &replica.id, annexe)
                .await?
                .ok_or_else(|| {
                    anyhow!("le fichier de l'annexe {annexe} n'est pas sur le relais")
                })?;
            let pages =
                referentiel::text_by_pages(&bytes).map_err(|e| anyhow!("annexe {annexe} : {e}"))?;
            let text = page
                .checked_sub(1)
                .and_then(|i| pages.get(i as usize))
                .ok_or_else(|| {
                    anyhow!(
                        "l'annexe {annexe} a {} page(s), pas de page {page}",
                        pages.len()
                    )
                })?;
            let quote = review::pdf_quote(text, &quote).ok_or_else(|| {
                anyhow!("« {quote} » n'est pas à la page {page} de l'annexe {annexe}")
            })?;
            Target::PdfPage {
                annexe,
                page,
                quote,
            }
        }
        Place::ImageRegion { annexe, region } => {
            let parts: Vec<f32> = region
                .split(',')
                .map(|p| p.trim().parse::<f32>())
                .collect::<Result<_, _>>()
                .map_err(|_| {
                    anyhow!("région attendue : x,y,largeur,hauteur (fractions de 0 à 1)")
                })?;
            let [x, y, w, h] = parts[..] else {
                bail!("région attendue : x,y,largeur,hauteur (fractions de 0 à 1)");
            };
            let Some(target) = Target::image_region(annexe, x, y, w, h) else {
                bail!("la région doit tenir dans l'image (fractions de 0 à 1)");
            };
            if !replica
                .dossier()
                .annexes()
                .iter()
                .any(|a| a.numero == annexe)
            {
                bail!("le dossier n'a pas d'annexe n° {annexe}");
            }
            target
        }
    };
    name_me(&mut replica, name)?;
    let annotation = Annotation {
        id: hex::encode(livret_shared::jury::new_key_id()),
        target,
        body: comment.trim().to_string(),
        at_ms: livret_client::clock::now_ms(),
    };
    replica.my_review()?.annotate(&annotation);
    home.save(&mut replica)?;
    println!("{}", annotation.id);
    Ok(())
}

/// Every annotation this juror reads, re-anchored in the current text: where each one is
/// (en place, déplacée, approximative, orpheline).
pub fn annotations(home: &Home, id: &str) -> Result<()> {
    let (mut replica, _) = load(home, id)?;
    juror(&replica)?;
    let reviews = replica.reviews();
    for (_, review) in &reviews {
        for a in &review.annotations {
            let (status, place, quote) = match &a.target {
                Target::Text { path, anchor } => {
                    let text = replica.dossier().get(path).unwrap_or_default();
                    let status = anchor.anchor(&text).label_fr();
                    (status, path.clone(), anchor.quote.exact.clone())
                }
                Target::PdfPage {
                    annexe,
                    page,
                    quote,
                } => (
                    "sur la pièce".to_string(),
                    format!("annexe {annexe} page {page}"),
                    quote.exact.clone(),
                ),
                Target::ImageRegion { annexe, x, y, w, h } => (
                    "sur la pièce".to_string(),
                    format!("annexe {annexe} région {x},{y},{w},{h}"),
                    String::new(),
                ),
            };
            let quote = if quote.is_empty() {
                String::new()
            } else {
                format!(" « {quote} »")
            };
            println!(
                "{} [{}] {} {}{} : {}",
                a.id,
                or_unnamed(&review.juror),
                status,
                place,
                quote,
                a.body
            );
        }
    }
    Ok(())
}

fn or_unnamed(name: &str) -> &str {
    if name.is_empty() { "juré" } else { name }
}

fn codes(list: &str, referentiel: &Referentiel) -> Result<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    for code in list.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        let (competence, criterion) = match code.split_once('#') {
            Some((c, k)) => (c, Some(k)),
            None => (code, None),
        };
        let Some((_, c)) = referentiel
            .competences()
            .find(|(_, c)| c.code == competence)
        else {
            bail!("{competence} n'est pas une compétence du référentiel");
        };
        if let Some(k) = criterion {
            let ok = k
                .parse::<usize>()
                .is_ok_and(|k| k >= 1 && k <= c.criteria.len());
            if !ok {
                bail!(
                    "{competence} a {} critère(s) : pas de critère {k}",
                    c.criteria.len()
                );
            }
        }
        out.insert(code.to_string());
    }
    Ok(out)
}

/// Links a fiche (by the number it shows) or an annexe to compétences or criteria.
pub fn link(
    home: &Home,
    id: &str,
    fiche: Option<usize>,
    annexe: Option<u32>,
    list: &str,
    name: Option<&str>,
) -> Result<()> {
    let (mut replica, _) = load(home, id)?;
    juror(&replica)?;
    let referentiel = referentiel_of(&mut replica)?;
    let (order, _) = evidence_labels(&mut replica);
    let evidence = match (fiche, annexe) {
        (Some(n), None) => Evidence::Fiche(fiche_place(&order, n)?),
        (None, Some(n)) => {
            if !replica.dossier().annexes().iter().any(|a| a.numero == n) {
                bail!("le dossier n'a pas d'annexe n° {n}");
            }
            Evidence::Annexe(n)
        }
        _ => bail!("une fiche (--fiche) ou une annexe (--annex)"),
    };
    let codes = codes(list, &referentiel)?;
    name_me(&mut replica, name)?;
    replica.my_review()?.link(&evidence, &codes);
    home.save(&mut replica)
}

pub fn rate(
    home: &Home,
    id: &str,
    code: &str,
    level: u8,
    justification: &str,
    name: Option<&str>,
) -> Result<()> {
    let (mut replica, _) = load(home, id)?;
    juror(&replica)?;
    let referentiel = referentiel_of(&mut replica)?;
    if !referentiel.competences().any(|(_, c)| c.code == code) {
        bail!("{code} n'est pas une compétence du référentiel");
    }
    let level = Level::from_score(level).ok_or_else(|| {
        anyhow!("note de 0 à 3 : 0 non acquis, 1 en cours d'acquisition, 2 acquis, 3 maîtrise")
    })?;
    name_me(&mut replica, name)?;
    replica.my_review()?.rate(
        code,
        &Rating {
            level,
            justification: justification.trim().to_string(),
        },
    );
    home.save(&mut replica)
}

fn print_coverage(
    title: &str,
    referentiel: &Referentiel,
    labels: &EvidenceLabels,
    reviews: &[JurorReview],
) {
    let evidence: Vec<Evidence> = labels.keys().copied().collect();
    println!("== {title}");
    for row in coverage(referentiel, &evidence, reviews) {
        let cells: Vec<String> = row
            .cells
            .iter()
            .zip(&evidence)
            .filter(|(who, _)| !who.is_empty())
            .map(|(who, e)| format!("{} ({})", labels[e], who.join(", ")))
            .collect();
        let ratings: Vec<String> = row
            .ratings
            .iter()
            .map(|(who, l)| format!("{}: {} {}", or_unnamed(who), l.score(), l.label_fr()))
            .collect();
        let mut flags = Vec::new();
        if row.gap {
            flags.push("LACUNE");
        }
        if row.disagreement {
            flags.push("DÉSACCORD");
        }
        println!(
            "{} | bloc {} | preuves : {} | notes : {} {}",
            row.competence,
            row.bloc,
            if cells.is_empty() {
                "aucune".into()
            } else {
                cells.join(" ; ")
            },
            if ratings.is_empty() {
                "aucune".into()
            } else {
                ratings.join(" ; ")
            },
            flags.join(" ")
        );
    }
}

/// The coverage matrix: each juror's, then all merged.
pub fn jury_coverage(home: &Home, id: &str) -> Result<()> {
    let (mut replica, _) = load(home, id)?;
    juror(&replica)?;
    let referentiel = referentiel_of(&mut replica)?;
    let (_, labels) = evidence_labels(&mut replica);
    let reviews: Vec<JurorReview> = replica.reviews().into_iter().map(|(_, r)| r).collect();
    for r in &reviews {
        print_coverage(
            &format!("Juré : {}", or_unnamed(&r.juror)),
            &referentiel,
            &labels,
            std::slice::from_ref(r),
        );
    }
    print_coverage("Jury (toutes les vues)", &referentiel, &labels, &reviews);
    Ok(())
}

/// The candidate's (or advisor's) own coverage before submission: what their fiches name.
pub fn candidate_coverage(home: &Home, id: &str) -> Result<()> {
    let (mut replica, _) = load(home, id)?;
    let referentiel = referentiel_of(&mut replica)?;
    let json = export::export(replica.dossier(), None)?;
    let (_, labels) = evidence_labels(&mut replica);
    let (_, mine) = candidate_mapping_by_place(&mut replica, &json);
    print_coverage(
        "Couverture du dossier (candidat)",
        &referentiel,
        &labels,
        &[mine],
    );
    Ok(())
}

/// [`review::candidate_mapping`] with fiches keyed by their place (the JSON lists them in
/// the order shown).
fn candidate_mapping_by_place(
    replica: &mut Replica,
    json: &DossierJson,
) -> (Vec<Evidence>, JurorReview) {
    let (evidence, mut mine) = review::candidate_mapping(json);
    let order = replica.dossier().fiche_order();
    mine.links = mine
        .links
        .into_iter()
        .map(|(e, codes)| match e {
            Evidence::Fiche(shown) => (
                Evidence::Fiche(order.get(shown).copied().unwrap_or(shown)),
                codes,
            ),
            other => (other, codes),
        })
        .collect();
    (evidence, mine)
}

/// What the jury changes in the proposal: compétences acquired or not whatever the ratings
/// say, or the candidate's absence (`Some(excused)`).
pub struct Amend<'a> {
    pub acquis: Option<&'a str>,
    pub non_acquis: Option<&'a str>,
    pub absence: Option<bool>,
    /// A result « sous réserve » of this.
    pub reserve: Option<&'a str>,
}

/// The names of the jury of the first of `sessions` (those this device holds for a dossier).
fn session_jury(sessions: &[super::session::Held]) -> Option<Vec<String>> {
    let s = &sessions.first()?.session;
    (!s.members.is_empty()).then(|| s.members.iter().map(|m| m.full_name()).collect())
}

/// Releases the jury's decision to the candidate: per compétence from the ratings (more
/// than half the jurors who rated it: acquired), amended by `--acquired` / `--not-acquired`,
/// or the candidate's absence. The référentiel's rules on the jury are checked against the
/// session the dossier belongs to, and every breach is said.
pub fn decide(
    home: &Home,
    id: &str,
    date: &str,
    motifs: &str,
    amend: Amend<'_>,
    jury: Option<&str>,
) -> Result<()> {
    let (mut replica, _) = load(home, id)?;
    juror(&replica)?;
    let referentiel = referentiel_of(&mut replica)?;
    let reviews: Vec<JurorReview> = replica.reviews().into_iter().map(|(_, r)| r).collect();
    // Every local dossier is read to find them: once.
    let sessions = super::session::sessions_here(home, Some(&replica.id));
    let mut results: BTreeMap<String, bool> = Decision::propose(&referentiel, &reviews);
    for (list, value) in [(amend.acquis, true), (amend.non_acquis, false)] {
        for code in codes(list.unwrap_or(""), &referentiel)? {
            results.insert(code, value);
        }
    }
    let names: Vec<String> = match jury {
        Some(list) => list
            .split(',')
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty())
            .collect(),
        None => session_jury(&sessions).unwrap_or_else(|| {
            let mut names: Vec<String> = reviews
                .iter()
                .map(|r| r.juror.clone())
                .filter(|n| !n.is_empty())
                .collect();
            names.sort();
            names
        }),
    };
    let (date, motifs, now) = (
        date.trim().to_string(),
        motifs.trim().to_string(),
        livret_client::clock::now_ms(),
    );
    let mut decision = match amend.absence {
        Some(excused) => Decision::absent(&referentiel, excused, date, names, motifs, now),
        None => Decision::new(&referentiel, results, date, names, motifs, now),
    };
    decision.reserve = amend.reserve.unwrap_or_default().trim().to_string();
    decision
        .check()
        .map_err(|e| anyhow!("{e} : --reasons « … »"))?;
    for held in &sessions {
        for breach in held.breaches(&replica.id.to_string(), Some(&referentiel)) {
            eprintln!(
                "livret: attention : {} (le PV le relèvera)",
                breach.label_fr()
            );
        }
    }
    replica.release_decision(decision.clone())?;
    home.save(&mut replica)?;
    println!("{}", decision.outcome.label_fr());
    Ok(())
}

/// What the jury released, as the candidate reads it.
pub fn decision(home: &Home, id: &str) -> Result<()> {
    let d = match load(home, id) {
        Ok((replica, _)) => match replica.decision() {
            Some((_, d)) => d,
            None => {
                println!("Le jury n'a pas encore rendu sa décision.");
                return Ok(());
            }
        },
        // The dossier deleted, or this juror removed from it: the released decision this
        // device kept, the jury's own document.
        Err(gone) => match home.kept_decision(&parse_id(id)?) {
            Some(d) => {
                eprintln!("{gone} ; la décision rendue par le jury est gardée ici");
                d
            }
            None => return Err(gone),
        },
    };
    println!("{}", d.outcome.label_fr());
    println!("Jury du {} : {}", d.date, d.jury.join(", "));
    for (code, yes) in &d.competences {
        println!("{code} : {}", if *yes { "acquis" } else { "non acquis" });
    }
    if !d.motifs.is_empty() {
        println!("Motifs : {}", d.motifs);
    }
    if !d.reserve.is_empty() {
        println!("Sous réserve : {}", d.reserve);
    }
    Ok(())
}

pub fn write_pdf(
    out: &Path,
    write: impl FnOnce(std::fs::File) -> Result<std::fs::File>,
) -> Result<()> {
    let tmp = out.with_extension("pdf.tmp");
    let file = std::fs::File::create(&tmp).with_context(|| format!("{}", tmp.display()))?;
    let result = write(file)
        .and_then(|f| Ok(f.sync_all()?))
        .and_then(|()| std::fs::rename(&tmp, out).with_context(|| format!("{}", out.display())));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// This juror's own working grid.
pub fn grille_de_travail(home: &Home, id: &str, date: &str, out: &Path) -> Result<()> {
    let (mut replica, _) = load(home, id)?;
    juror(&replica)?;
    let referentiel = referentiel_of(&mut replica)?;
    let (_, labels) = evidence_labels(&mut replica);
    let json = export::export(replica.dossier(), None)?;
    let me = replica.my_person();
    let review = replica
        .reviews()
        .into_iter()
        .find(|(w, _)| *w == me)
        .map(|(_, r)| r)
        .unwrap_or_default();
    write_pdf(out, |f| {
        Ok(pdf_export::grille_de_travail(
            &json,
            &referentiel,
            &review,
            date,
            &labels,
            fonts(),
            f,
        )?)
    })
}

fn released(replica: &Replica) -> Result<Decision> {
    replica
        .decision()
        .map(|(_, d)| d)
        .ok_or_else(|| anyhow!("le jury n'a pas encore rendu sa décision (livret jury decide)"))
}

/// The official grid (ANNEXE 3) from the released decision, signed by the session's jury.
/// A dossier pinned before épreuves were read takes them from its session's référentiel
/// (those whose compétences it has).
pub fn grille_officielle(home: &Home, id: &str, out: &Path) -> Result<()> {
    let (mut replica, _) = load(home, id)?;
    let mut referentiel = referentiel_of(&mut replica)?;
    let sessions = super::session::sessions_here(home, Some(&replica.id));
    if referentiel.epreuves.is_empty()
        && let Some(pinned) = sessions.iter().find_map(|held| held.referentiel.clone())
    {
        let known = |e: &livret_shared::referentiel::Epreuve| {
            e.competences
                .iter()
                .all(|c| referentiel.competence(c).is_some())
        };
        let epreuves = pinned.epreuves.into_iter().filter(known).collect();
        referentiel.epreuves = epreuves;
    }
    let decision = released(&replica)?;
    let json = export::export(replica.dossier(), None)?;
    let members = session_jury(&sessions).unwrap_or_else(|| decision.jury.clone());
    write_pdf(out, |f| {
        Ok(pdf_export::grille_officielle(
            &json,
            &referentiel,
            &decision,
            &members,
            fonts(),
            f,
        )?)
    })
}

/// The PV of this candidate alone: their session's details and jury when this device holds
/// it, else a session of one made from the dossier and the decision.
pub fn proces_verbal(home: &Home, id: &str, out: &Path) -> Result<()> {
    let (mut replica, _) = load(home, id)?;
    let referentiel = referentiel_of(&mut replica)?;
    let decision = released(&replica)?;
    let json = export::export(replica.dossier(), None)?;
    let dossier = replica.id.to_string();
    let mut alone = pdf_export::session_of_one(&json, &referentiel, &dossier, &decision);
    let mut rules = referentiel.jury.clone();
    if let Some(held) = super::session::sessions_here(home, Some(&replica.id)).pop() {
        let s = held.session;
        alone.info = s.info;
        alone.members = s.members;
        if let Some(c) = s.candidates.into_iter().find(|c| c.dossier == dossier) {
            alone.candidates = vec![c];
        }
        if let Some(r) = held.referentiel {
            rules = r.jury;
        }
    }
    let breaches = session::breaches(&rules, &alone, &[dossier.as_str()]);
    let lines = [PvLine {
        candidate: alone.candidates[0].clone(),
        decision: Some(decision),
    }];
    write_pdf(out, |f| {
        Ok(pdf_export::proces_verbal(
            &alone,
            &lines,
            &breaches,
            fonts(),
            f,
        )?)
    })
}
