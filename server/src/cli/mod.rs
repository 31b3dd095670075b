//! The `livret` command line: one module per subcommand, each with its arguments (clap) and
//! what it does. Flags are English; the French spellings of earlier versions are hidden
//! aliases. Errors reach the user as one line on stderr (`report`).

mod annexes;
pub mod dossier;
pub mod export;
mod france_vae;
mod history;
mod holdings;
pub mod identity;
pub mod invitation;
pub mod jury;
pub mod referentiel;
pub mod serve;
pub mod session;
mod suggest;
pub mod sync;
pub mod template;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use livret_client::Home;

#[derive(Parser)]
#[command(
    name = "livret",
    version,
    about = "Livret : dossiers VAE chiffrés de bout en bout"
)]
pub struct Cli {
    /// This device's data (keys, local dossiers). Default: the user's data directory.
    #[arg(long, global = true)]
    home: Option<PathBuf>,
    /// Tests only: runs this process's clock this many days ahead (retention).
    #[arg(long, global = true, hide = true, default_value_t = 0)]
    clock_offset_days: i64,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Start the relay and serve the web app.
    Serve(serve::ServeArgs),
    /// Référentiels de compétences: import and check.
    #[command(subcommand)]
    Referentiel(referentiel::ReferentielCommand),
    /// This device's identity.
    #[command(subcommand)]
    Identity(identity::IdentityCommand),
    /// Dossier templates (a certifier's model of the dossier de validation): list, show,
    /// check.
    #[command(subcommand)]
    Template(template::TemplateCommand),
    /// Dossiers: create, share, open, edit, read.
    #[command(subcommand)]
    Dossier(dossier::DossierCommand),
    /// Invitations received by e-mail.
    #[command(subcommand)]
    Invitation(invitation::InvitationCommand),
    /// A juror's review: annotations, evidence → compétences, ratings, coverage, decision,
    /// grille and procès-verbal. Written on this device, sent sealed at the next `sync`.
    #[command(subcommand)]
    Jury(jury::JuryCommand),
    /// Push and pull every local dossier; exits once up to date.
    Sync,
    /// Write the Livret 2 as PDF, made on this device: cover, sommaire, every section in
    /// the template's order, the fiches, the déclaration, then the annexes (PDF pages
    /// copied, images drawn, other files listed with their SHA-256).
    Export(export::ExportArgs),
    /// Internal: extracts a PDF's text from stdin to stdout, in the child process the relay
    /// and the CLI start under limits (see `pdf_reader`).
    #[command(name = "lire-pdf-isole", hide = true)]
    ReadPdfIsolated,
}

/// The CLI's PDF reader: this executable, as a child process under limits (a hostile file
/// cannot hang or exhaust the CLI either).
fn pdf_reader() -> Result<livret_relay::pdf_reader::PdfReader, String> {
    livret_relay::pdf_reader::PdfReader::this_executable()
        .map_err(|e| format!("lecteur PDF indisponible : {e}"))
}

/// Parses the command line and runs the subcommand.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    if cli.clock_offset_days != 0 {
        let ms = cli.clock_offset_days * 24 * 3600 * 1000;
        livret_relay::clock::shift(ms);
        livret_client::clock::shift(ms);
    }
    let home = Home::new(cli.home);
    match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::ReadPdfIsolated => livret_relay::pdf_reader::worker(),
        Command::Referentiel(command) => referentiel::run(command),
        Command::Template(command) => template::run(command),
        Command::Identity(command) => report(identity::run(&home, command)),
        Command::Invitation(command) => report(block_on(invitation::run(&home, command))),
        Command::Dossier(command) => report(block_on(dossier::run(&home, command))),
        Command::Jury(command) => report(block_on(jury::run(&home, command))),
        Command::Sync => report(block_on(sync::sync(&home))),
        Command::Export(args) => report(block_on(export::run(&home, args))),
    }
}

/// A date flag (`--jury-date`, `--date`): a real day, `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Result<livret_shared::date::Date, livret_shared::date::NotADate> {
    livret_shared::date::Date::parse(text).ok_or(livret_shared::date::NotADate)
}

fn block_on<T>(future: impl std::future::Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(future)
}

/// Errors as one line on stderr, exit code 1; 2 for a template that does not read.
fn report(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let chain: Vec<String> = e.chain().map(|c| c.to_string()).collect();
            eprintln!("livret: {}", chain.join(" : "));
            if e.downcast_ref::<template::BadTemplate>().is_some() {
                ExitCode::from(template::BAD_INPUT)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use livret_shared::membership::Role;

    use super::dossier::DossierCommand;
    use super::jury::JuryCommand;
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
