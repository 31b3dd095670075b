//! `livret`: the relay (which also serves the web app) and the command-line client.

mod app_assets;
mod client;
mod clock;
mod export_cli;
mod invitations;
mod jury_cli;
mod jury_keys;
mod limits;
mod mail;
mod pdf_reader;
mod referentiel_cli;
mod relay;
mod reminders;
mod serve;
mod store;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use livret_shared::membership::Role;

#[derive(Parser)]
#[command(
    name = "livret",
    version,
    about = "Livret : dossiers VAE chiffrés de bout en bout"
)]
struct Cli {
    /// This device's data (keys, local dossiers). Default: the user's data directory.
    #[arg(long, global = true)]
    home: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the relay and serve the web app.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
        /// Directory for the relay's data (SQLite database, logs).
        #[arg(long, default_value = "livret-data")]
        data: PathBuf,
        /// Where invitation mail goes: `smtp://host:port`, `smtp://user:pass@host:587?tls=required`
        /// (STARTTLS), `smtps://user:pass@host:465` (TLS), or `file:///dir` (each mail written
        /// as a file). Default: the `outbox` directory inside `--data`.
        #[arg(long, env = "LIVRET_SMTP_URL", hide_env_values = true)]
        smtp_url: Option<String>,
        /// The address people open the app at (invitation links point there), and the only
        /// origin devices may sign their login for (a relay they were lured to cannot pass
        /// this one's challenge on). Default: the listening address (and `localhost` on the
        /// IPv4 loopback).
        #[arg(long)]
        public_url: Option<String>,
        /// The sender of the relay's mail.
        #[arg(long, default_value = "Livret <livret@localhost>")]
        mail_from: String,
        /// A secret that reads `/api/v1/metrics` (`Authorization: Bearer …`). Without it,
        /// metrics answer only requests from this machine that no proxy forwarded.
        #[arg(long, env = "LIVRET_METRICS_TOKEN", hide_env_values = true)]
        metrics_token: Option<String>,
    },
    /// Référentiels de compétences: import and check.
    #[command(subcommand)]
    Referentiel(ReferentielCommand),
    /// This device's identity.
    #[command(subcommand)]
    Identity(IdentityCommand),
    /// Dossiers: create, share, open, edit, read.
    #[command(subcommand)]
    Dossier(DossierCommand),
    /// Invitations received by e-mail.
    #[command(subcommand)]
    Invitation(InvitationCommand),
    /// A juror's review: annotations, evidence → compétences, ratings, coverage, decision,
    /// grille and procès-verbal. Written on this device, sent sealed at the next `sync`.
    #[command(subcommand)]
    Jury(JuryCommand),
    /// Push and pull every local dossier; exits once up to date.
    Sync,
    /// Write the Livret 2 as PDF, made on this device: cover, sommaire, every section in
    /// the template's order, the fiches, the déclaration, then the annexes (PDF pages
    /// copied, images drawn, other files listed with their SHA-256).
    Export {
        /// A dossier id on this device (its annexes fetched from its relay), or a JSON
        /// export (`dossier export --json`).
        dossier: String,
        #[arg(long)]
        pdf: PathBuf,
        /// With a JSON export: the folder holding its annexed files (default: `annexes`
        /// beside the JSON file).
        #[arg(long, alias = "annexes")]
        annex_dir: Option<PathBuf>,
    },
    /// Internal: extracts a PDF's text from stdin to stdout, in the child process the relay
    /// and the CLI start under limits (see `pdf_reader`).
    #[command(name = "lire-pdf-isole", hide = true)]
    ReadPdfIsolated,
}

#[derive(Subcommand)]
enum IdentityCommand {
    /// Print this device's public identity on one line (created on first use).
    Show,
    /// Print this device's safety code, to compare with the one the candidate sees.
    Code,
}

#[derive(Subcommand)]
enum DossierCommand {
    /// Create a dossier on a relay; prints its id.
    New {
        #[arg(long)]
        relay: String,
        /// Référentiel the dossier targets (text, PDF or RNCP XML), pinned in the dossier.
        #[arg(long)]
        referentiel: Option<PathBuf>,
    },
    /// Share a dossier (owner only): wraps its key to that device.
    Share {
        id: String,
        identity: String,
        #[arg(long, value_enum)]
        role: MemberRole,
    },
    /// Remove a member (owner only): a new key epoch for those who remain; the removed
    /// device keeps what it had and reads nothing written afterwards. Prints the new epoch.
    Remove { id: String, identity: String },
    /// List the members: role, safety code, identity line.
    Members { id: String },
    /// Have the relay e-mail reminders 30, 7 and 1 days before the jury (owner only; the
    /// relay learns the date and the address, nothing of the dossier). Prints when each
    /// reminder goes.
    Reminders {
        id: String,
        /// The address to remind.
        #[arg(long, required_unless_present = "off")]
        email: Option<String>,
        /// The jury's date, YYYY-MM-DD.
        #[arg(long, required_unless_present = "off", value_parser = parse_date)]
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
}

/// The roles an owner gives (`--role`); the French words are accepted too.
#[derive(Clone, Copy, clap::ValueEnum)]
enum MemberRole {
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

#[derive(Subcommand)]
enum JuryCommand {
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
        #[arg(long, value_parser = parse_date)]
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
        /// The jury's names, comma-separated (default: the jurors' names).
        #[arg(long)]
        jury: Option<String>,
    },
    /// This juror's grille d'évaluation individuelle, as PDF.
    Grille {
        id: String,
        /// The jury's date (YYYY-MM-DD).
        #[arg(long, value_parser = parse_date)]
        date: livret_shared::date::Date,
        #[arg(long)]
        out: PathBuf,
    },
    /// The procès-verbal of the released decision, as PDF.
    Pv {
        id: String,
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum InvitationCommand {
    /// Answer an invitation link with this device's identity; prints the dossier's id and
    /// this device's safety code, then the candidate approves.
    Accept { link: String },
}

#[derive(Subcommand)]
enum ReferentielCommand {
    /// Read référentiels (text, PDF or RNCP XML) and print their structure.
    Import {
        /// Files to read.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print JSON (the documented schema) instead of a tree.
        #[arg(long)]
        json: bool,
    },
    /// Report what looks wrong in a référentiel.
    Check {
        /// File to check.
        file: PathBuf,
    },
    /// Print the JSON Schema of the référentiel JSON.
    Schema,
}

/// `--jury-date`: a real day, `YYYY-MM-DD`.
fn parse_date(text: &str) -> Result<livret_shared::date::Date, livret_shared::date::NotADate> {
    livret_shared::date::Date::parse(text).ok_or(livret_shared::date::NotADate)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let home = client::Home::new(cli.home);
    match cli.command {
        Command::Serve {
            addr,
            data,
            smtp_url,
            public_url,
            mail_from,
            metrics_token,
        } => serve::run(
            addr,
            data,
            serve::MailSettings {
                smtp_url,
                public_url,
                from: mail_from,
            },
            metrics_token,
        ),
        Command::ReadPdfIsolated => pdf_reader::worker(),
        Command::Referentiel(ReferentielCommand::Import { files, json }) => {
            referentiel_cli::import(&files, json)
        }
        Command::Referentiel(ReferentielCommand::Check { file }) => referentiel_cli::check(&file),
        Command::Referentiel(ReferentielCommand::Schema) => {
            print!("{}", livret_shared::referentiel::json_schema());
            ExitCode::SUCCESS
        }
        Command::Identity(IdentityCommand::Show) => report(client::identity_show(&home)),
        Command::Identity(IdentityCommand::Code) => report(client::identity_code(&home)),
        Command::Invitation(InvitationCommand::Accept { link }) => {
            report(block_on(client::invitation_accept(&home, &link)))
        }
        Command::Dossier(command) => report(block_on(async {
            match command {
                DossierCommand::New { relay, referentiel } => {
                    client::dossier_new(&home, &relay, referentiel.as_deref()).await
                }
                DossierCommand::Share { id, identity, role } => {
                    client::dossier_share(&home, &id, &identity, role.into()).await
                }
                DossierCommand::Remove { id, identity } => {
                    client::dossier_remove(&home, &id, &identity).await
                }
                DossierCommand::Members { id } => client::dossier_members(&home, &id),
                DossierCommand::Reminders {
                    id,
                    email,
                    jury_date,
                    off: _,
                } => client::dossier_reminders(&home, &id, email, jury_date).await,
                DossierCommand::Open { id, relay } => {
                    client::dossier_open(&home, &id, &relay).await
                }
                DossierCommand::Set { id, path, value } => {
                    client::dossier_set(&home, &id, &path, &value)
                }
                DossierCommand::Get { id, path } => client::dossier_get(&home, &id, &path),
                DossierCommand::Compact { id } => client::dossier_compact(&home, &id).await,
                DossierCommand::Comment {
                    id,
                    path,
                    text,
                    reply,
                    name,
                } => client::dossier_comment(&home, &id, &path, &text, reply.as_deref(), name),
                DossierCommand::Comments { id } => client::dossier_comments(&home, &id),
                DossierCommand::Export { id, json } => client::dossier_export(&home, &id, &json),
                DossierCommand::Attach { id, file, title } => {
                    export_cli::dossier_attach(&home, &id, &file, &title).await
                }
                DossierCommand::Import { file, relay } => {
                    client::dossier_import(&home, &file, &relay).await
                }
                DossierCommand::Resolve { id, thread, reopen } => {
                    client::dossier_resolve(&home, &id, &thread, reopen)
                }
                DossierCommand::Invite {
                    id,
                    email,
                    role,
                    name,
                } => client::dossier_invite(&home, &id, &email, role.into(), name).await,
                DossierCommand::Requests { id } => client::dossier_requests(&home, &id).await,
                DossierCommand::Decision { id } => jury_cli::decision(&home, &id),
                DossierCommand::Coverage { id } => jury_cli::candidate_coverage(&home, &id),
            }
        })),
        Command::Jury(command) => report(block_on(async {
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
                        (Some(path), None, None, None) => jury_cli::Place::Field { path, quote },
                        (None, Some(annexe), Some(page), None) => jury_cli::Place::PdfPage {
                            annexe,
                            page,
                            quote,
                        },
                        (None, Some(annexe), None, Some(region)) => {
                            jury_cli::Place::ImageRegion { annexe, region }
                        }
                        _ => anyhow::bail!(
                            "où annoter : --field CHEMIN, --annex N --page P, ou --annex N --region x,y,l,h"
                        ),
                    };
                    jury_cli::annotate(&home, &id, place, &comment, name.as_deref()).await
                }
                JuryCommand::Annotations { id } => jury_cli::annotations(&home, &id),
                JuryCommand::Link {
                    id,
                    fiche,
                    annex,
                    competences,
                    name,
                } => jury_cli::link(&home, &id, fiche, annex, &competences, name.as_deref()),
                JuryCommand::Rate {
                    id,
                    competence,
                    note,
                    justification,
                    name,
                } => jury_cli::rate(
                    &home,
                    &id,
                    &competence,
                    note,
                    &justification,
                    name.as_deref(),
                ),
                JuryCommand::Coverage { id } => jury_cli::jury_coverage(&home, &id),
                JuryCommand::Decide {
                    id,
                    date,
                    reasons,
                    acquired,
                    not_acquired,
                    jury,
                } => jury_cli::decide(
                    &home,
                    &id,
                    &date.iso(),
                    &reasons,
                    acquired.as_deref(),
                    not_acquired.as_deref(),
                    jury.as_deref(),
                ),
                JuryCommand::Grille { id, date, out } => {
                    jury_cli::grille(&home, &id, &date.iso(), &out)
                }
                JuryCommand::Pv { id, out } => jury_cli::proces_verbal(&home, &id, &out),
            }
        })),
        Command::Sync => report(block_on(client::sync(&home))),
        Command::Export {
            dossier,
            pdf,
            annex_dir,
        } => report(block_on(export_cli::export_pdf(
            &home,
            &dossier,
            &pdf,
            annex_dir.as_deref(),
        ))),
    }
}

fn block_on<T>(future: impl std::future::Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(future)
}

/// Errors as one line on stderr, exit code 1.
fn report(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let chain: Vec<String> = e.chain().map(|c| c.to_string()).collect();
            eprintln!("livret: {}", chain.join(" : "));
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("livret").chain(args.iter().copied()))
    }

    /// Flags are English; the French spellings of earlier versions still work (hidden), so
    /// scripts written for them keep running.
    #[test]
    fn the_french_spellings_of_flags_and_roles_still_parse() {
        let english = parse(&[
            "jury",
            "annotate",
            "ID",
            "--field",
            "f.0",
            "--quote",
            "q",
            "--comment",
            "c",
            "--name",
            "N",
        ])
        .unwrap();
        let french = parse(&[
            "jury",
            "annotate",
            "ID",
            "--champ",
            "f.0",
            "--citation",
            "q",
            "--commentaire",
            "c",
            "--nom",
            "N",
        ])
        .unwrap();
        let (
            Command::Jury(JuryCommand::Annotate {
                field: f1,
                quote: q1,
                comment: c1,
                name: n1,
                ..
            }),
            Command::Jury(JuryCommand::Annotate {
                field: f2,
                quote: q2,
                comment: c2,
                name: n2,
                ..
            }),
        ) = (english.command, french.command)
        else {
            panic!("annotate")
        };
        assert_eq!((f1, q1, c1, n1), (f2, q2, c2, n2));
        for (word, role) in [
            ("advisor", Role::Advisor),
            ("accompagnateur", Role::Advisor),
            ("juror", Role::Juror),
            ("juré", Role::Juror),
        ] {
            let Command::Dossier(DossierCommand::Share { role: given, .. }) =
                parse(&["dossier", "share", "ID", "IDENTITY", "--role", word])
                    .unwrap()
                    .command
            else {
                panic!("share")
            };
            assert_eq!(Role::from(given), role, "{word}");
        }
        // An owner is never given; a day that does not exist is refused before any work.
        assert!(parse(&["dossier", "share", "ID", "IDENTITY", "--role", "owner"]).is_err());
        assert!(
            parse(&[
                "dossier",
                "reminders",
                "ID",
                "--email",
                "a@b.fr",
                "--jury-date",
                "2027-02-30"
            ])
            .is_err()
        );
    }
}
