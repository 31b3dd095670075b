//! « Mes données »: what the relay holds of the open dossier, as the relay answers its
//! candidate (`livret_shared::holdings`).

use livret_shared::holdings::Holdings;

use super::*;

/// Asks the relay what it holds of the open dossier (its candidate only).
pub async fn relay_holdings() -> Result<Holdings, Error> {
    let dossier = with_open(|r| r.id)?;
    let socket = connect_as_me().await?;
    ask(&socket, &ClientMsg::Holdings { dossier }, |m| match m {
        ServerMsg::Holdings { holdings } if holdings.dossier == dossier => Some(*holdings),
        _ => None,
    })
    .await
}
