//! `livret invitation accept`: answering an invitation link with this device's identity.

use anyhow::{Result, anyhow};
use clap::Subcommand;
use livret_shared::protocol::{ClientMsg, ServerMsg};

use livret_client::{Home, Link, answer};

#[derive(Subcommand)]
pub enum InvitationCommand {
    /// Answer an invitation link with this device's identity; prints the dossier's id and
    /// this device's safety code, then the candidate approves.
    Accept { link: String },
}

pub async fn run(home: &Home, command: InvitationCommand) -> Result<()> {
    match command {
        InvitationCommand::Accept { link } => invitation_accept(home, &link).await,
    }
}

/// `link` is the address from the mail (`<relay>/#invitation=<token>`).
pub async fn invitation_accept(home: &Home, link: &str) -> Result<()> {
    let (relay, token) = link
        .trim()
        .split_once("/#invitation=")
        .ok_or_else(|| anyhow!("lien d'invitation attendu (…/#invitation=…)"))?;
    let device = home.device()?;
    let mut connection = Link::connect(relay, &device).await?;
    connection
        .send(&ClientMsg::Accept {
            token: token.to_string(),
            identity: device.id().to_line(),
        })
        .await?;
    if let ServerMsg::Accepted { dossier, role } =
        answer(&mut connection, |m| matches!(m, ServerMsg::Accepted { .. })).await?
    {
        println!("{dossier}");
        println!("{}", device.id().safety_code());
        eprintln!(
            "En attente de l'accord du candidat ({}) : comparez ce code avec le sien.",
            role.as_str()
        );
    }
    Ok(())
}
