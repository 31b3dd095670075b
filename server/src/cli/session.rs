//! `livret jury session …`: a jury session — the certification, dates, place or link, centre,
//! the session manager, the jury's members and the candidates' dossiers — kept in a document
//! shared and sealed like a dossier (`livret_shared::session`). The manager's device owns it
//! (`new`, `set`, `member`, `add`); they share it with each juror (`livret dossier share
//! SESSION IDENTITY --role juror`), who reads it; `pv` prints the session's procès-verbal
//! from each candidate's released decision. Written on this device, sent at the next
//! `livret sync`.

use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow, bail};
use clap::{Args, Subcommand};
use livret_shared::dossier::Dossier;
use livret_shared::envelope::DossierId;
use livret_shared::keys::EpochKeys;
use livret_shared::pdf_export;
use livret_shared::referentiel::Referentiel;
use livret_shared::review::Decision;
use livret_shared::session::{
    self, Breach, JuryMember, JurySession, PvLine, SessionCandidate, SessionInfo, Voie,
};
use livret_shared::sync::Replica;

use crate::cli::export::fonts;
use crate::cli::jury::write_pdf;
use livret_client::{Home, parse_id};

#[derive(Subcommand)]
pub enum SessionCommand {
    /// Creates a jury session on a relay (this device manages it); prints its id.
    New {
        #[arg(long)]
        relay: String,
        /// The certification's référentiel (text, PDF or RNCP XML): its rules on the jury
        /// are checked against the session's (else each dossier's référentiel is used).
        #[arg(long)]
        referentiel: Option<PathBuf>,
        #[command(flatten)]
        info: InfoArgs,
    },
    /// Changes the session's details (only those given).
    Set {
        id: String,
        #[command(flatten)]
        info: InfoArgs,
    },
    /// Adds a member of the jury; prints the member's id.
    Member {
        id: String,
        #[arg(long)]
        nom: String,
        #[arg(long)]
        prenom: String,
        /// Poste occupé.
        #[arg(long, default_value = "")]
        poste: String,
        #[arg(long, default_value = "")]
        entreprise: String,
        /// From outside the certifier and the assessing body.
        #[arg(long)]
        externe: bool,
        /// A professional of the trade the certification leads to.
        #[arg(long)]
        professionnel: bool,
        /// Years of professional experience in the field.
        #[arg(long)]
        experience: Option<u32>,
        /// A candidate's dossier this member has (or had) a tie with (repeat for several).
        #[arg(long)]
        lien: Vec<String>,
    },
    /// Removes a member of the jury (by the id `member` printed).
    RemoveMember { id: String, member: String },
    /// Adds a candidate: their dossier's id and the names the PV prints.
    Add {
        id: String,
        dossier: String,
        #[arg(long)]
        nom: String,
        #[arg(long)]
        prenom: String,
        /// Voie d'accès: vae or formation.
        #[arg(long, default_value = "vae", value_parser = parse_voie)]
        voie: Voie,
    },
    /// Removes a candidate from the session.
    RemoveCandidate { id: String, dossier: String },
    /// The sessions this device holds.
    List,
    /// A session: its details, jury, candidates with the decision released (when this device
    /// holds their dossier) and the référentiel's rules the jury breaks.
    Show { id: String },
    /// The session's procès-verbal (ANNEXE 4), as PDF.
    Pv {
        id: String,
        #[arg(long)]
        out: PathBuf,
    },
}

/// The session's details, each optional (`set` changes only those given).
#[derive(Args)]
pub struct InfoArgs {
    /// Intitulé de la certification.
    #[arg(long)]
    certification: Option<String>,
    /// N° RNCP.
    #[arg(long)]
    rncp: Option<String>,
    /// Centre organisateur.
    #[arg(long)]
    centre: Option<String>,
    /// First day of the session (YYYY-MM-DD).
    #[arg(long, value_parser = super::parse_date)]
    debut: Option<livret_shared::date::Date>,
    /// Last day of the session (YYYY-MM-DD).
    #[arg(long, value_parser = super::parse_date)]
    fin: Option<livret_shared::date::Date>,
    /// Adresse du lieu.
    #[arg(long)]
    lieu: Option<String>,
    /// Lien de la visioconférence.
    #[arg(long)]
    visio: Option<String>,
    /// Nom et prénom du responsable de session.
    #[arg(long)]
    responsable: Option<String>,
    /// Fonction du responsable de session.
    #[arg(long)]
    fonction: Option<String>,
    /// The session manager's observations (PV, part 4).
    #[arg(long)]
    observations: Option<String>,
    /// When the candidates' documents reached the jury (YYYY-MM-DD).
    #[arg(long, value_parser = super::parse_date)]
    documents_transmis: Option<livret_shared::date::Date>,
}

impl InfoArgs {
    fn apply(self, info: &mut SessionInfo) {
        let text = |slot: &mut String, value: Option<String>| {
            if let Some(v) = value {
                *slot = v.trim().to_string();
            }
        };
        text(&mut info.certification, self.certification);
        text(&mut info.rncp, self.rncp);
        text(&mut info.centre, self.centre);
        text(&mut info.debut, self.debut.map(|d| d.iso()));
        text(&mut info.fin, self.fin.map(|d| d.iso()));
        text(&mut info.lieu, self.lieu);
        text(&mut info.visio, self.visio);
        text(&mut info.responsable, self.responsable);
        text(&mut info.fonction, self.fonction);
        text(&mut info.observations, self.observations);
        text(
            &mut info.documents_transmis,
            self.documents_transmis.map(|d| d.iso()),
        );
    }
}

fn parse_voie(s: &str) -> Result<Voie, String> {
    match s.trim().to_lowercase().as_str() {
        "vae" => Ok(Voie::Vae),
        "formation" => Ok(Voie::Formation),
        other => Err(format!("voie d'accès « {other} » : vae ou formation")),
    }
}

pub async fn run(home: &Home, command: SessionCommand) -> Result<()> {
    match command {
        SessionCommand::New {
            relay,
            referentiel,
            info,
        } => new(home, &relay, referentiel.as_deref(), info).await,
        SessionCommand::Set { id, info } => edit(home, &id, |doc| {
            let mut current = session::read(doc.automerge())?.info;
            info.apply(&mut current);
            Ok(session::set_info(doc.automerge(), &current)?)
        }),
        SessionCommand::Member {
            id,
            nom,
            prenom,
            poste,
            entreprise,
            externe,
            professionnel,
            experience,
            lien,
        } => {
            if nom.trim().is_empty() {
                bail!("le nom du membre du jury est vide");
            }
            for dossier in &lien {
                parse_id(dossier)?;
            }
            let member = JuryMember {
                id: hex::encode(livret_shared::jury::new_key_id()),
                nom: nom.trim().into(),
                prenom: prenom.trim().into(),
                poste: poste.trim().into(),
                entreprise: entreprise.trim().into(),
                externe,
                professionnel,
                experience_ans: experience,
                liens: lien.iter().map(|l| l.trim().to_lowercase()).collect(),
            };
            edit(home, &id, |doc| {
                Ok(session::put_member(doc.automerge(), &member)?)
            })?;
            println!("{}", member.id);
            Ok(())
        }
        SessionCommand::RemoveMember { id, member } => edit(home, &id, |doc| {
            if !session::remove_member(doc.automerge(), &member)? {
                bail!("la session n'a pas de membre {member}");
            }
            Ok(())
        }),
        SessionCommand::Add {
            id,
            dossier,
            nom,
            prenom,
            voie,
        } => {
            let dossier = parse_id(&dossier)?.to_string();
            let candidate = SessionCandidate {
                dossier,
                nom: nom.trim().into(),
                prenom: prenom.trim().into(),
                voie,
            };
            edit(home, &id, |doc| {
                Ok(session::put_candidate(doc.automerge(), &candidate)?)
            })
        }
        SessionCommand::RemoveCandidate { id, dossier } => edit(home, &id, |doc| {
            let dossier = parse_id(&dossier)?.to_string();
            if !session::remove_candidate(doc.automerge(), &dossier)? {
                bail!("la session n'a pas de candidat au dossier {dossier}");
            }
            Ok(())
        }),
        SessionCommand::List => list(home),
        SessionCommand::Show { id } => show(home, &id),
        SessionCommand::Pv { id, out } => pv(home, &id, &out),
    }
}

async fn new(home: &Home, relay: &str, referentiel: Option<&Path>, info: InfoArgs) -> Result<()> {
    let mut details = SessionInfo::default();
    info.apply(&mut details);
    if details.certification.is_empty() {
        bail!("une session de jury porte sur une certification (--certification)");
    }
    let device = home.device()?;
    let (mut replica, _) =
        Replica::create_session(&device, DossierId::generate(), EpochKeys::generate())?;
    session::set_info(replica.dossier().automerge(), &details)?;
    super::dossier::publish_created(home, relay, &device, replica, referentiel).await
}

/// The session `id` on this device.
fn load(home: &Home, id: &str) -> Result<(Replica, Held)> {
    let id = parse_id(id)?;
    let device = home.device()?;
    let mut replica = home.load(&device, &id)?;
    let read = session::read(replica.dossier().automerge())?;
    let referentiel = replica.dossier().referentiel();
    Ok((
        replica,
        Held {
            id,
            session: read,
            referentiel,
        },
    ))
}

/// Changes the session (its manager only: the others read it) and keeps it on this device.
fn edit(home: &Home, id: &str, change: impl FnOnce(&mut Dossier) -> Result<()>) -> Result<()> {
    let device = home.device()?;
    let (mut replica, _) = load(home, id)?;
    if !replica.membership().is_owner(&device.signing_public()) {
        bail!("seul le responsable de la session la modifie ; les jurés la lisent");
    }
    change(replica.dossier())?;
    home.save(&mut replica)
}

/// A session this device holds, and the référentiel it pins.
pub struct Held {
    pub id: DossierId,
    pub session: JurySession,
    pub referentiel: Option<Referentiel>,
}

impl Held {
    /// The référentiel's rules on the jury, checked for `dossier`: the session's, else those
    /// of the référentiel the dossier targets.
    pub fn breaches(
        &self,
        dossier: &str,
        dossier_referentiel: Option<&Referentiel>,
    ) -> Vec<Breach> {
        match self.referentiel.as_ref().or(dossier_referentiel) {
            Some(r) => session::breaches(&r.jury, &self.session, &[dossier]),
            None => Vec::new(),
        }
    }
}

/// Every session this device holds, with the candidate `dossier` when given.
pub fn sessions_here(home: &Home, dossier: Option<&DossierId>) -> Vec<Held> {
    let Ok(device) = home.device() else {
        return Vec::new();
    };
    home.dossiers()
        .into_iter()
        .filter_map(|id| {
            let mut replica = home.load(&device, &id).ok()?;
            let read = session::read(replica.dossier().automerge()).ok()?;
            let wanted =
                dossier.is_none_or(|d| read.candidates.iter().any(|c| c.dossier == d.to_string()));
            wanted.then(|| Held {
                id,
                session: read,
                referentiel: replica.dossier().referentiel(),
            })
        })
        .collect()
}

fn list(home: &Home) -> Result<()> {
    for Held { id, session: s, .. } in sessions_here(home, None) {
        println!(
            "{id} {} — {} — {} candidat(s), {} membre(s) du jury",
            s.info.certification,
            s.info.debut,
            s.candidates.len(),
            s.members.len()
        );
    }
    Ok(())
}

/// Each candidate with the decision their dossier holds on this device, and the rules of
/// the référentiel their dossier targets that the jury breaks.
fn lines_and_breaches(home: &Home, held: &Held) -> Result<(Vec<PvLine>, Vec<Breach>)> {
    let device = home.device()?;
    let s = &held.session;
    let mut lines = Vec::new();
    let mut breaches: Vec<Breach> = Vec::new();
    for c in &s.candidates {
        let mut decision: Option<Decision> = None;
        let id = parse_id(&c.dossier).ok();
        if let Some(id) = id
            && home.deleted_at(&id).is_some()
        {
            // Deleted by its candidate since: the decision this device kept.
            decision = home.kept_decision(&id);
        } else if let Some(id) = id
            && let Ok(mut replica) = home.load(&device, &id)
        {
            decision = replica.decision().map(|(_, d)| d);
            let theirs = replica.dossier().referentiel();
            for b in held.breaches(&c.dossier, theirs.as_ref()) {
                if !breaches.contains(&b) {
                    breaches.push(b);
                }
            }
        }
        lines.push(PvLine {
            candidate: c.clone(),
            decision,
        });
    }
    Ok((lines, breaches))
}

fn show(home: &Home, id: &str) -> Result<()> {
    let (_, held) = load(home, id)?;
    let s = &held.session;
    let i = &s.info;
    println!("Certification : {} (RNCP {})", i.certification, i.rncp);
    println!(
        "Session : du {} au {} — centre : {}",
        i.debut, i.fin, i.centre
    );
    if !i.lieu.is_empty() {
        println!("Lieu : {}", i.lieu);
    }
    if !i.visio.is_empty() {
        println!("Visioconférence : {}", i.visio);
    }
    println!(
        "Responsable de session : {} ({})",
        i.responsable, i.fonction
    );
    for m in &s.members {
        println!(
            "Membre {} : {} — {}, {} — {}{}",
            m.id,
            m.full_name(),
            m.poste,
            m.entreprise,
            if m.externe { "extérieur" } else { "interne" },
            if m.professionnel {
                format!(
                    ", professionnel ({} an(s))",
                    m.experience_ans.map_or("?".into(), |y| y.to_string())
                )
            } else {
                String::new()
            }
        );
    }
    let (lines, breaches) = lines_and_breaches(home, &held)?;
    for line in &lines {
        let c = &line.candidate;
        let decision = match &line.decision {
            Some(d) => d.outcome.label_fr(),
            None => "décision non rendue (ou dossier absent de cet appareil)".into(),
        };
        println!(
            "Candidat {} {} ({}) : {decision}",
            c.prenom,
            c.nom.to_uppercase(),
            c.dossier
        );
    }
    for b in &breaches {
        println!("Attention : {}", b.label_fr());
    }
    Ok(())
}

fn pv(home: &Home, id: &str, out: &Path) -> Result<()> {
    let (_, held) = load(home, id)?;
    if held.session.candidates.is_empty() {
        bail!("la session n'a encore aucun candidat (livret jury session add)");
    }
    let (lines, breaches) = lines_and_breaches(home, &held)?;
    let s = &held.session;
    let pending = lines.iter().filter(|l| l.decision.is_none()).count();
    if pending > 0 {
        eprintln!(
            "livret: {pending} candidat(s) sans décision rendue sur cet appareil : le PV les marque « Décision non rendue » (synchronisez, ou ouvrez leur dossier)"
        );
    }
    write_pdf(out, |f| {
        Ok(pdf_export::proces_verbal(s, &lines, &breaches, fonts(), f)?)
    })
    .map_err(|e| anyhow!("{e}"))
}
