//! `livret identity show|code`: this device's public identity and safety code.

use anyhow::Result;
use clap::Subcommand;

use livret_client::Home;

#[derive(Subcommand)]
pub enum IdentityCommand {
    /// Print this device's public identity on one line (created on first use).
    Show,
    /// Print this device's safety code, to compare with the one the candidate sees.
    Code,
}

pub fn run(home: &Home, command: IdentityCommand) -> Result<()> {
    match command {
        IdentityCommand::Show => identity_show(home),
        IdentityCommand::Code => identity_code(home),
    }
}

pub fn identity_show(home: &Home) -> Result<()> {
    println!("{}", home.device()?.id().to_line());
    Ok(())
}

pub fn identity_code(home: &Home) -> Result<()> {
    println!("{}", home.device()?.id().safety_code());
    Ok(())
}
