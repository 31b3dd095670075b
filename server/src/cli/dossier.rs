//! `livret dossier …`: create, share, open, edit and read dossiers from the command line,
//! with the same sync engine as the browser (`livret_client`).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use clap::Subcommand;
use livret_shared::catchup::Gathered;
use livret_shared::comments::{CommentId, Draft};
use livret_shared::envelope::{DossierId, random_nonce};
use livret_shared::keys::{DeviceId, EpochKeys};
use livret_shared::membership::{Role, SignedEntry};
use livret_shared::protocol::{ClientMsg, ServerMsg};
use livret_shared::sync::Replica;

use livret_client::{
    Home, Link, answer, parse_id, publish, publish_new, push_and_pull, report_received,
};

#[derive(Subcommand)]
pub enum DossierCommand {
    /// Create a dossier on a relay; prints its id.
    New {
        #[arg(long)]
        relay: String,
        /// Référentiel the dossier targets (text, PDF or RNCP XML), pinned in the dossier.
        #[arg(long)]
        referentiel: Option<PathBuf>,
        /// The dossier's template, pinned in it: a shipped one's id (`livret template
        /// list`) or a certifier's file. Default: the certifier's model Livret ships for
        /// the référentiel's certification, else the general one.
        #[arg(long)]
        template: Option<String>,
    },
    /// Share a dossier (owner only): wraps its key to that device.
    Share {
        id: String,
        identity: String,
        #[arg(long, value_enum)]
        role: MemberRole,
        /// With `--role juror`: this identity is another device of the juror whose identity
        /// line is given (one juror, one review, however many devices).
        #[arg(long)]
        device_of: Option<String>,
    },
    /// Remove a member (owner only): a new key epoch for those who remain; the removed
    /// device keeps what it had and reads nothing written afterwards. Prints the new epoch.
    Remove { id: String, identity: String },
    /// List the members: role, safety code, identity line, and the name the candidate gave.
    Members { id: String },
    /// Name a member (the candidate only), as every member's list shows them; an empty name
    /// takes it back. `sync` sends it.
    Name {
        id: String,
        /// The member's identity line (as `dossier members` prints it).
        identity: String,
        name: String,
        /// This member is the candidate's recovery kit.
        #[arg(long)]
        kit: bool,
    },
    /// Delete a dossier for good (the candidate only): the relay erases all it holds of it
    /// and keeps its id and date; every member's device wipes its copy when it learns it.
    /// Without --yes, says what would go and deletes nothing.
    Delete {
        id: String,
        /// Confirms the deletion.
        #[arg(long)]
        yes: bool,
    },
    /// What the relay holds of a dossier besides its sealed content (the candidate only):
    /// members, sizes, dates, the addresses it mails, when it deletes the dossier.
    #[command(alias = "donnees")]
    Holdings { id: String },
    /// Have the relay e-mail reminders 30, 7 and 1 days before the jury (owner only; the
    /// relay learns the date and the address, nothing of the dossier). Prints when each
    /// reminder goes.
    Reminders {
        id: String,
        /// The address to remind.
        #[arg(long, required_unless_present = "off")]
        email: Option<String>,
        /// The jury's date, YYYY-MM-DD.
        #[arg(long, required_unless_present = "off", value_parser = super::parse_date)]
        jury_date: Option<livret_shared::date::Date>,
        /// Cancel the reminders not yet sent.
        #[arg(long, conflicts_with_all = ["email", "jury_date"])]
        off: bool,
    },
    /// Open a dossier shared with this device.
    Open {
        id: String,
        #[arg(long)]
        relay: String,
    },
    /// Set a field (PATH like etat_civil.nom or fiches.0.contexte).
    Set {
        id: String,
        path: String,
        value: String,
    },
    /// Print a field, a fiche or a section.
    Get { id: String, path: String },
    /// Add a further structure or poste (SECTION: structure or poste; the section's own is
    /// the first). Prints its place, e.g. `structure.5f0c9a1b2d3e4f60`, whose fields `set`
    /// takes (`structure.5f0c9a1b2d3e4f60.nom`).
    AddAnother { id: String, section: String },
    /// Delete a further structure or poste (PLACE as `add-another` printed it); kept in the
    /// dossier, so `--restore` brings it back with what was typed in it.
    DeleteAnother {
        id: String,
        place: String,
        #[arg(long)]
        restore: bool,
    },
    /// List who changed the dossier (or one section, `motivation`, or fiche, `fiches.0`),
    /// when, and which fields, numbered the oldest first.
    History { id: String, place: Option<String> },
    /// Undo edit number EDIT (as `history` numbers them on this device) in a section or
    /// fiche: the fields it changed there as they were before it. A new edit of this device,
    /// which `sync` sends and which can itself be undone.
    Restore {
        id: String,
        place: String,
        edit: usize,
        /// Even when those fields changed again since (those later changes go too).
        #[arg(long)]
        anyway: bool,
    },
    /// Replace the dossier's history on the relay by one sealed snapshot.
    Compact { id: String },
    /// Comment a field, or answer a thread with --reply (the candidate and advisors only;
    /// sealed with a key jurors do not have). Prints the comment's id; `sync` sends it.
    Comment {
        id: String,
        /// The field commented on (etat_civil.nom, fiches.0.contexte…).
        path: String,
        text: String,
        /// The thread to answer (its id, as `dossier comments` prints it).
        #[arg(long)]
        reply: Option<String>,
        /// Your name, as the others see it (your safety code otherwise).
        #[arg(long)]
        name: Option<String>,
    },
    /// List the comment threads this device can read.
    Comments { id: String },
    /// Write the dossier as JSON: every field, fiches in order, annexes described (not
    /// their files), the comments this device reads.
    Export {
        id: String,
        #[arg(long)]
        json: PathBuf,
    },
    /// Make a new dossier on a relay from a JSON export; prints its id.
    Import {
        file: PathBuf,
        #[arg(long)]
        relay: String,
    },
    /// Add an evidence file as the dossier's next annexe (encrypted on this device, sent
    /// to the relay in pieces); prints its number.
    Attach {
        id: String,
        file: PathBuf,
        /// The annexe's title, as the livret prints it.
        #[arg(long, alias = "titre")]
        title: String,
    },
    /// The annexes, numbered as the livret prints them, and those in the bin.
    Annexes { id: String },
    /// Give annexe N another title.
    RenameAnnexe {
        id: String,
        numero: u32,
        #[arg(long, alias = "titre")]
        title: String,
    },
    /// Give annexe N another file (its number, title and citations stay); the old one goes
    /// to the bin.
    ReplaceAnnexe {
        id: String,
        numero: u32,
        file: PathBuf,
    },
    /// Put annexe N in the bin: the annexes after it move up one number (unless a jury
    /// reads the dossier), its file stays on the relay until it is erased.
    DeleteAnnexe { id: String, numero: u32 },
    /// Take the annexe of the bin with reference R (as `dossier annexes` shows it) back,
    /// under its number when it can.
    RestoreAnnexe { id: String, reference: usize },
    /// Erase the annexe of the bin with reference R for good: its file leaves the relay
    /// (the candidate only).
    EraseAnnexe { id: String, reference: usize },
    /// Mark a comment thread resolved (or open again with --reopen).
    Resolve {
        id: String,
        thread: String,
        #[arg(long)]
        reopen: bool,
    },
    /// Invite someone by e-mail (owner only): the relay mails them a one-time link.
    Invite {
        id: String,
        email: String,
        #[arg(long, value_enum)]
        role: MemberRole,
        /// Your name, as the mail shows it.
        #[arg(long)]
        name: Option<String>,
    },
    /// List the devices that answered an invitation and wait for approval, with their
    /// safety codes; approve one with `dossier share ID IDENTITY --role ROLE`.
    Requests { id: String },
    /// The jury's decision, once released.
    Decision { id: String },
    /// The dossier's own coverage of the référentiel (what its fiches name).
    Coverage { id: String },
    /// Which compétences a fiche most likely proves, with the passages and criteria behind
    /// each suggestion; without --fiche, the compétences no fiche claims yet, the fiches
    /// likely to cover them and what to describe. Computed on this device, nothing is sent.
    Suggest {
        id: String,
        /// The fiche's number as the dossier shows it (« fiche n° 2 »).
        #[arg(long)]
        fiche: Option<usize>,
        /// Print JSON instead of sentences.
        #[arg(long)]
        json: bool,
    },
}

/// The roles an owner gives (`--role`); the French words are accepted too.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum MemberRole {
    #[value(alias = "accompagnateur")]
    Advisor,
    #[value(alias = "juré", alias = "jure")]
    Juror,
}

impl From<MemberRole> for Role {
    fn from(role: MemberRole) -> Role {
        match role {
            MemberRole::Advisor => Role::Advisor,
            MemberRole::Juror => Role::Juror,
        }
    }
}

pub async fn run(home: &Home, command: DossierCommand) -> Result<()> {
    match command {
        DossierCommand::New {
            relay,
            referentiel,
            template,
        } => dossier_new(home, &relay, referentiel.as_deref(), template.as_deref()).await,
        DossierCommand::Share {
            id,
            identity,
            role,
            device_of,
        } => dossier_share(home, &id, &identity, role.into(), device_of.as_deref()).await,
        DossierCommand::Remove { id, identity } => dossier_remove(home, &id, &identity).await,
        DossierCommand::Members { id } => dossier_members(home, &id),
        DossierCommand::Name {
            id,
            identity,
            name,
            kit,
        } => dossier_name(home, &id, &identity, &name, kit),
        DossierCommand::Delete { id, yes } => dossier_delete(home, &id, yes).await,
        DossierCommand::Holdings { id } => super::holdings::dossier_holdings(home, &id).await,
        DossierCommand::Reminders {
            id,
            email,
            jury_date,
            off: _,
        } => dossier_reminders(home, &id, email, jury_date).await,
        DossierCommand::Open { id, relay } => dossier_open(home, &id, &relay).await,
        DossierCommand::Set { id, path, value } => dossier_set(home, &id, &path, &value),
        DossierCommand::Get { id, path } => dossier_get(home, &id, &path),
        DossierCommand::AddAnother { id, section } => dossier_add_another(home, &id, &section),
        DossierCommand::DeleteAnother { id, place, restore } => {
            dossier_delete_another(home, &id, &place, restore)
        }
        DossierCommand::History { id, place } => {
            super::history::dossier_history(home, &id, place.as_deref())
        }
        DossierCommand::Restore {
            id,
            place,
            edit,
            anyway,
        } => super::history::dossier_restore(home, &id, &place, edit, anyway),
        DossierCommand::Compact { id } => dossier_compact(home, &id).await,
        DossierCommand::Comment {
            id,
            path,
            text,
            reply,
            name,
        } => dossier_comment(home, &id, &path, &text, reply.as_deref(), name),
        DossierCommand::Comments { id } => dossier_comments(home, &id),
        DossierCommand::Export { id, json } => dossier_export(home, &id, &json),
        DossierCommand::Attach { id, file, title } => {
            crate::cli::export::dossier_attach(home, &id, &file, &title).await
        }
        DossierCommand::Import { file, relay } => dossier_import(home, &file, &relay).await,
        DossierCommand::Annexes { id } => super::annexes::list(home, &id),
        DossierCommand::RenameAnnexe { id, numero, title } => {
            super::annexes::rename(home, &id, numero, &title)
        }
        DossierCommand::ReplaceAnnexe { id, numero, file } => {
            super::annexes::replace(home, &id, numero, &file).await
        }
        DossierCommand::DeleteAnnexe { id, numero } => super::annexes::delete(home, &id, numero),
        DossierCommand::RestoreAnnexe { id, reference } => {
            super::annexes::restore(home, &id, reference)
        }
        DossierCommand::EraseAnnexe { id, reference } => {
            super::annexes::erase(home, &id, reference).await
        }
        DossierCommand::Resolve { id, thread, reopen } => {
            dossier_resolve(home, &id, &thread, reopen)
        }
        DossierCommand::Invite {
            id,
            email,
            role,
            name,
        } => dossier_invite(home, &id, &email, role.into(), name).await,
        DossierCommand::Requests { id } => dossier_requests(home, &id).await,
        DossierCommand::Decision { id } => crate::cli::jury::decision(home, &id),
        DossierCommand::Coverage { id } => crate::cli::jury::candidate_coverage(home, &id),
        DossierCommand::Suggest { id, fiche, json } => {
            super::suggest::dossier_suggest(home, &id, fiche, json)
        }
    }
}

pub async fn dossier_invite(
    home: &Home,
    id: &str,
    email: &str,
    role: Role,
    name: Option<String>,
) -> Result<()> {
    let id = parse_id(id)?;
    let device = home.device()?;
    let mut link = Link::connect(&home.relay_of(&id)?, &device).await?;
    link.send(&ClientMsg::Invite {
        dossier: id,
        email: email.to_string(),
        role,
        inviter: name,
    })
    .await?;
    if let ServerMsg::Invited { invitation, .. } =
        answer(&mut link, |m| matches!(m, ServerMsg::Invited { .. })).await?
    {
        println!("{}", hex::encode(invitation));
    }
    Ok(())
}

pub async fn dossier_requests(home: &Home, id: &str) -> Result<()> {
    let id = parse_id(id)?;
    let device = home.device()?;
    let mut link = Link::connect(&home.relay_of(&id)?, &device).await?;
    link.send(&ClientMsg::Requests { dossier: id }).await?;
    if let ServerMsg::Requests { requests, .. } =
        answer(&mut link, |m| matches!(m, ServerMsg::Requests { .. })).await?
    {
        for r in requests {
            // The code is computed here, from the identity the relay passed on.
            let code = r.identity.parse::<DeviceId>()?.safety_code();
            println!(
                "{} {} {code} {}",
                hex::encode(r.invitation),
                r.role.as_str(),
                r.identity
            );
        }
    }
    Ok(())
}

pub async fn dossier_new(
    home: &Home,
    relay: &str,
    referentiel: Option<&Path>,
    template: Option<&str>,
) -> Result<()> {
    // Both read before anything is made: a file that does not read creates nothing.
    let template = template.map(super::template::read).transpose()?;
    let referentiel = referentiel.map(super::referentiel::read_one).transpose()?;
    let template = template.unwrap_or_else(|| {
        let rncp = referentiel.as_ref().and_then(|r| r.rncp.clone());
        livret_shared::template::default_for(&rncp.unwrap_or_default())
    });
    let device = home.device()?;
    let (mut replica, _) = Replica::create(&device, DossierId::generate(), EpochKeys::generate())?;
    replica.dossier().set_template(template)?;
    if let Some(r) = &referentiel {
        replica.dossier().set_referentiel(r)?;
    }
    publish_created(home, relay, &device, replica, None).await
}

/// A new dossier or jury session made on this device: pins `referentiel` (a file) in it,
/// creates it on `relay` and prints its id.
pub async fn publish_created(
    home: &Home,
    relay: &str,
    device: &livret_shared::keys::DeviceSecret,
    mut replica: Replica,
    referentiel: Option<&Path>,
) -> Result<()> {
    if let Some(path) = referentiel {
        replica
            .dossier()
            .set_referentiel(&super::referentiel::read_one(path)?)?;
    }
    publish_new(home, relay, device, &mut replica).await?;
    println!("{}", replica.id);
    Ok(())
}

/// Writes the dossier as JSON (`livret_shared::export`): every field, the fiches in order,
/// the annexes' descriptions, the comments this device reads. Written whole or not at all.
pub fn dossier_export(home: &Home, id: &str, out: &Path) -> Result<()> {
    let id = parse_id(id)?;
    let device = home.device()?;
    let mut replica = home.load(&device, &id)?;
    let comments = replica.comments();
    let json = livret_shared::export::export(replica.dossier(), Some(&comments))?;
    let text = serde_json::to_vec_pretty(&json)?;
    let tmp = out.with_extension("json.tmp");
    std::fs::write(&tmp, text).with_context(|| format!("{}", tmp.display()))?;
    std::fs::rename(&tmp, out).with_context(|| format!("{}", out.display()))?;
    Ok(())
}

/// Makes a new dossier from a JSON export, on `relay`; prints its id. A file that is not an
/// export, or names a field Livret does not have, is refused before anything is created.
pub async fn dossier_import(home: &Home, file: &Path, relay: &str) -> Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("{}", file.display()))?;
    let json =
        livret_shared::export::parse(&bytes).map_err(|e| anyhow!("{}: {e}", file.display()))?;
    let device = home.device()?;
    let id = DossierId::generate();
    let (mut replica, _) = Replica::create(&device, id, EpochKeys::generate())?;
    livret_shared::export::fill(replica.dossier(), &json)?;
    publish_new(home, relay, &device, &mut replica).await?;
    println!("{id}");
    Ok(())
}

pub async fn dossier_share(
    home: &Home,
    id: &str,
    identity: &str,
    role: Role,
    device_of: Option<&str>,
) -> Result<()> {
    let id = parse_id(id)?;
    let member: DeviceId = identity.parse()?;
    let device = home.device()?;
    let mut replica = home.load(&device, &id)?;
    if !replica.membership().is_owner(&device.signing_public()) {
        bail!("seul le candidat (propriétaire du dossier) peut le partager");
    }
    // Applied in memory, kept only once the relay has it (saved after the publication).
    let entry = match device_of {
        Some(of) => {
            if role != Role::Juror {
                bail!("--device-of ajoute l'appareil d'un juré : --role juror");
            }
            let of: DeviceId = of.parse()?;
            replica.add_jurors_device(&device, &member, &of.signing)?
        }
        None => replica.add_member(&device, &member, role)?,
    };
    let mut link = Link::connect(&home.relay_of(&id)?, &device).await?;
    publish(&mut link, &mut replica, &entry, "le partage").await?;
    home.save(&mut replica)?;
    Ok(())
}

/// Removes a member (owner only): first brings the replica up to date and sends what is
/// still unsent (sealed for the current epoch, which the relay refuses once the epoch
/// moves), then publishes a new epoch whose key is wrapped to everyone who remains.
/// Prints the new epoch.
pub async fn dossier_remove(home: &Home, id: &str, identity: &str) -> Result<()> {
    let id = parse_id(id)?;
    let member: DeviceId = identity.parse()?;
    let device = home.device()?;
    if member.signing == device.signing_public() {
        // Its copy would go with it, half-way through the command that asked.
        bail!(
            "cet appareil ne se retire pas lui-même d'un dossier : retirez-le depuis un autre \
             appareil du candidat"
        );
    }
    let mut replica = home.load(&device, &id)?;
    let mut link = Link::connect(&home.relay_of(&id)?, &device).await?;
    push_and_pull(home, &mut link, &device, &mut replica).await?;
    home.save(&mut replica)?;
    let state = replica.membership();
    if !state.is_owner(&device.signing_public()) {
        bail!("seul le candidat (propriétaire du dossier) peut retirer un membre");
    }
    if state.role_of(&member.signing).is_none() {
        bail!("cette identité n'est pas membre du dossier");
    }
    let entry = replica.remove_member(&device, &member.signing)?;
    publish(&mut link, &mut replica, &entry, "le retrait").await?;
    home.save(&mut replica)?;
    println!("{}", replica.membership().epoch);
    Ok(())
}

/// The members as this device last saw them: `<role> <safety code> <identity>`, one a line.
/// Deletes a dossier (its candidate only), once confirmed: syncs first (the notice is
/// signed on the relay's current members), sends the notice, and wipes this device's copy
/// once the relay says it erased its own.
pub async fn dossier_delete(home: &Home, id: &str, confirmed: bool) -> Result<()> {
    let id = parse_id(id)?;
    let device = home.device()?;
    let mut replica = home.load(&device, &id)?;
    if !replica.membership().is_owner(&device.signing_public()) {
        bail!("seul le candidat peut supprimer son dossier");
    }
    if !confirmed {
        let members = replica.membership().members.len();
        bail!(
            "la suppression efface le dossier {id} du relais et des appareils de ses {members} \
             membre(s), définitivement (gardez d'abord un export si besoin : livret dossier \
             export) ; pour supprimer, ajoutez --yes"
        );
    }
    let mut link = Link::connect(&home.relay_of(&id)?, &device).await?;
    push_and_pull(home, &mut link, &device, &mut replica).await?;
    home.save(&mut replica)?;
    let now = livret_client::clock::now_ms() as i64;
    link.send(&livret_shared::exchange::delete_request(
        &mut replica,
        &device,
        now,
    )?)
    .await?;
    let deleted = answer(
        &mut link,
        |m| matches!(m, ServerMsg::Deleted { dossier, .. } if *dossier == id),
    )
    .await?;
    let ServerMsg::Deleted { deleted_ms, .. } = deleted else {
        unreachable!("the answer waited for");
    };
    home.wipe_deleted(&replica, deleted_ms)?;
    println!("dossier {id} supprimé du relais et de cet appareil");
    Ok(())
}

pub fn dossier_members(home: &Home, id: &str) -> Result<()> {
    let id = parse_id(id)?;
    let device = home.device()?;
    let mut replica = home.load(&device, &id)?;
    let names = replica.member_names();
    let state = replica.membership();
    for m in state.members.values() {
        let identity = m.id();
        // A juror's other device says whose: the person's first device's safety code.
        let person = state.person_of(&m.signing);
        let whose = match state.members.get(&person) {
            Some(first) if person != m.signing => {
                format!(" (appareil du juré {})", first.id().safety_code())
            }
            _ => String::new(),
        };
        let named = match names.get(&person) {
            Some(card) if card.kit => " « kit de secours »".to_string(),
            Some(card) => format!(" « {} »", card.name),
            None => String::new(),
        };
        println!(
            "{} {} {}{whose}{named}",
            m.role.as_str(),
            identity.safety_code(),
            identity.to_line()
        );
    }
    Ok(())
}

/// Names a member on this device; `livret sync` sends it.
pub fn dossier_name(home: &Home, id: &str, identity: &str, name: &str, kit: bool) -> Result<()> {
    let id = parse_id(id)?;
    let device = home.device()?;
    let mut replica = home.load(&device, &id)?;
    let member = identity.trim().parse::<DeviceId>()?;
    replica.name_member(
        &device,
        (&member.signing, name, kit),
        livret_client::clock::now_ms(),
        random_nonce(),
    )?;
    home.save(&mut replica)
}

/// Sets (or with no date cancels) the reminders before the jury; prints when each goes.
pub async fn dossier_reminders(
    home: &Home,
    id: &str,
    email: Option<String>,
    jury_date: Option<livret_shared::date::Date>,
) -> Result<()> {
    let id = parse_id(id)?;
    let device = home.device()?;
    let mut link = Link::connect(&home.relay_of(&id)?, &device).await?;
    link.send(&ClientMsg::Reminders {
        dossier: id,
        email: email.unwrap_or_default(),
        jury_date,
    })
    .await?;
    if let ServerMsg::Reminders { due, .. } =
        answer(&mut link, |m| matches!(m, ServerMsg::Reminders { .. })).await?
    {
        for at in due {
            let day = livret_shared::date::Date::of_ms(at);
            let minutes = at.rem_euclid(86_400_000) / 60_000;
            println!("{} {:02}:{:02} UTC", day.iso(), minutes / 60, minutes % 60);
        }
    }
    Ok(())
}

pub async fn dossier_open(home: &Home, id: &str, relay: &str) -> Result<()> {
    let id = parse_id(id)?;
    let device = home.device()?;
    // Opening it again would replace the replica, and with it what was not sent yet.
    if home.load(&device, &id).is_ok() {
        bail!(
            "le dossier {id} est déjà sur cet appareil : `livret sync` le met à jour \
             (rien n'a été remplacé)"
        );
    }
    let mut link = Link::connect(relay, &device).await?;
    link.send(&ClientMsg::Subscribe {
        dossier: id,
        since: Vec::new(),
    })
    .await?;
    // A long history comes in several frames: gathered, then applied in one batch.
    let mut caught = Gathered::default();
    loop {
        match link.next().await? {
            ServerMsg::Rejected { detail, .. } => bail!("dossier {id} : {detail}"),
            msg => {
                if caught.add_msg(id, msg) == Some(true) {
                    break;
                }
            }
        }
    }
    let log: Vec<SignedEntry> = caught
        .entries
        .iter()
        .map(|b| SignedEntry::from_bytes(b))
        .collect::<Result<_, _>>()?;
    let mut replica = Replica::join(&device, log)?;
    let received = replica.apply_log(
        &device,
        &[],
        caught.snapshot.as_deref(),
        &caught.envelopes,
        caught.active_snapshot,
    )?;
    report_received(&id, &received);
    home.set_relay(&id, relay)?;
    home.save(&mut replica)?;
    Ok(())
}

pub fn dossier_set(home: &Home, id: &str, path: &str, value: &str) -> Result<()> {
    let id = parse_id(id)?;
    let device = home.device()?;
    let mut replica = home.load(&device, &id)?;
    replica.dossier().set(path, value)?;
    replica
        .dossier()
        .commit_at((livret_client::clock::now_ms() / 1000) as i64);
    home.save(&mut replica)
}

pub fn dossier_add_another(home: &Home, id: &str, section: &str) -> Result<()> {
    let id = parse_id(id)?;
    let device = home.device()?;
    let mut replica = home.load(&device, &id)?;
    if !livret_shared::dossier::REPEATED.contains(&section) {
        bail!("« {section} » ne se répète pas : seules « structure » et « poste » le font");
    }
    let added = replica.dossier().add_repeat(section)?;
    replica
        .dossier()
        .commit_at((livret_client::clock::now_ms() / 1000) as i64);
    home.save(&mut replica)?;
    println!("{section}.{}", livret_shared::field_path::repeat_key(added));
    Ok(())
}

pub fn dossier_delete_another(home: &Home, id: &str, place: &str, restore: bool) -> Result<()> {
    let id = parse_id(id)?;
    let device = home.device()?;
    let mut replica = home.load(&device, &id)?;
    let (section, repeat) = place
        .split_once('.')
        .and_then(|(section, key)| Some((section, livret_shared::field_path::repeat_id(key)?)))
        .ok_or_else(|| anyhow!("« {place} » ne nomme pas une autre structure ou un autre poste"))?;
    if restore {
        replica.dossier().restore_repeat(section, repeat)?;
    } else {
        replica.dossier().delete_repeat(section, repeat)?;
    }
    replica
        .dossier()
        .commit_at((livret_client::clock::now_ms() / 1000) as i64);
    home.save(&mut replica)
}

pub fn dossier_get(home: &Home, id: &str, path: &str) -> Result<()> {
    let id = parse_id(id)?;
    let device = home.device()?;
    let mut replica = home.load(&device, &id)?;
    println!("{}", replica.dossier().get(path)?);
    Ok(())
}

/// Comments a field (or answers a thread) on this device; `livret sync` sends it. Prints the
/// comment's id (a thread's id is its first comment's).
pub fn dossier_comment(
    home: &Home,
    id: &str,
    field: &str,
    text: &str,
    reply: Option<&str>,
    name: Option<String>,
) -> Result<()> {
    let id = parse_id(id)?;
    let device = home.device()?;
    let mut replica = home.load(&device, &id)?;
    // The field must exist: a comment on a mistyped path would never be shown anywhere.
    replica.dossier().get(field)?;
    let mut comment_id = [0u8; 16];
    getrandom::fill(&mut comment_id).map_err(|e| anyhow!("aléa indisponible : {e}"))?;
    let draft = Draft {
        field: field.to_string(),
        reply_to: reply.map(parse_comment_id).transpose()?,
        author: name.unwrap_or_else(|| device.id().safety_code()),
        text: text.to_string(),
    };
    replica.comment(
        &device,
        draft,
        comment_id,
        livret_client::clock::now_ms(),
        random_nonce(),
    )?;
    home.save(&mut replica)?;
    println!("{}", hex::encode(comment_id));
    Ok(())
}

/// Marks a thread resolved (or open again, `reopen`) on this device; `livret sync` sends it.
pub fn dossier_resolve(home: &Home, id: &str, thread: &str, reopen: bool) -> Result<()> {
    let id = parse_id(id)?;
    let device = home.device()?;
    let mut replica = home.load(&device, &id)?;
    let by = device.id().safety_code();
    replica.set_thread_resolved(
        &device,
        parse_comment_id(thread)?,
        !reopen,
        &by,
        livret_client::clock::now_ms(),
        random_nonce(),
    )?;
    home.save(&mut replica)
}

/// Prints the comment threads this device can read, then how many it cannot.
pub fn dossier_comments(home: &Home, id: &str) -> Result<()> {
    let id = parse_id(id)?;
    let device = home.device()?;
    let mut replica = home.load(&device, &id)?;
    let comments = replica.comments();
    for thread in &comments.threads {
        let state = if thread.resolved() {
            "résolu"
        } else {
            "ouvert"
        };
        println!(
            "{} {state} {}",
            hex::encode(thread.first.id),
            thread.first.field
        );
        for c in std::iter::once(&thread.first).chain(&thread.replies) {
            println!("  {} : {}", c.author, c.text);
        }
    }
    println!(
        "{} fil(s) lisible(s), {} note(s) illisible(s) sur cet appareil",
        comments.threads.len(),
        comments.unreadable
    );
    Ok(())
}

/// Syncs, then replaces the dossier's history on the relay by one sealed snapshot.
pub async fn dossier_compact(home: &Home, id: &str) -> Result<()> {
    let id = parse_id(id)?;
    let device = home.device()?;
    let mut replica = home.load(&device, &id)?;
    let mut link = Link::connect(&home.relay_of(&id)?, &device).await?;
    push_and_pull(home, &mut link, &device, &mut replica).await?;
    let (envelope, covers) = replica.compact(&device, random_nonce())?;
    link.send(&ClientMsg::Snapshot { envelope, covers }).await?;
    loop {
        match link.next().await? {
            ServerMsg::SnapshotOk {
                dossier,
                id: snapshot,
            } if dossier == id => {
                replica.snapshot_accepted(snapshot);
                break;
            }
            ServerMsg::Rejected { detail, reason } => {
                bail!(
                    "le relais a refusé l'instantané : {detail} ({})",
                    reason.as_str()
                )
            }
            _ => continue,
        }
    }
    home.save(&mut replica)
}

fn parse_comment_id(id: &str) -> Result<CommentId> {
    let mut bytes = [0u8; 16];
    hex::decode_to_slice(id.trim(), &mut bytes)
        .map_err(|_| anyhow!("identifiant de fil illisible : {id}"))?;
    Ok(bytes)
}
