//! `livret dossier holdings ID` (« Mes données »): what the relay holds of a dossier besides
//! the sealed bytes it cannot read — its members, sizes, dates and the addresses it mails —
//! as the relay itself answers (its candidate only).

use anyhow::{Result, bail};
use livret_shared::protocol::{ClientMsg, ServerMsg};

use livret_client::{Home, Link, answer, parse_id};

pub async fn dossier_holdings(home: &Home, id: &str) -> Result<()> {
    let id = parse_id(id)?;
    let device = home.device()?;
    let mut link = Link::connect(&home.relay_of(&id)?, &device).await?;
    link.send(&ClientMsg::Holdings { dossier: id }).await?;
    let holdings = match answer(&mut link, |m| {
        matches!(m, ServerMsg::Holdings { .. } | ServerMsg::Deleted { .. })
    })
    .await?
    {
        ServerMsg::Holdings { holdings } => holdings,
        // The next sync checks the candidate's notice before anything is wiped here.
        ServerMsg::Deleted { deleted_ms, .. } => bail!(
            "le relais ne garde plus rien du dossier {id} : il dit l'avoir supprimé le {}",
            livret_shared::date::Date::of_ms(deleted_ms).in_french()
        ),
        _ => unreachable!("the answer waited for"),
    };
    println!(
        "Ce que le relais garde du dossier {id} (en plus du contenu chiffré, illisible pour lui) :"
    );
    for row in holdings.rows() {
        println!("{} : {}", row.label.0, row.value.0);
    }
    Ok(())
}
