//! `livret`: the relay (which also serves the web app) and the command-line client.

mod app_assets;
mod referentiel_cli;
mod serve;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "livret",
    version,
    about = "Livret : dossiers VAE chiffrés de bout en bout"
)]
struct Cli {
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
    },
    /// Référentiels de compétences: import and check.
    #[command(subcommand)]
    Referentiel(ReferentielCommand),
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve { addr, data } => serve::run(addr, data),
        Command::Referentiel(ReferentielCommand::Import { files, json }) => {
            referentiel_cli::import(&files, json)
        }
        Command::Referentiel(ReferentielCommand::Check { file }) => referentiel_cli::check(&file),
        Command::Referentiel(ReferentielCommand::Schema) => {
            print!("{}", livret_shared::referentiel::json_schema());
            ExitCode::SUCCESS
        }
    }
}
