//! « Mes données »: what the relay holds of the open dossier, as the relay answers its
//! candidate (`livret_shared::holdings`).

use livret_shared::holdings::Holdings;

use super::*;

/// Asks the relay what it holds of the open dossier (its candidate only).
pub async fn relay_holdings() -> Result<Holdings, Error> {
    let dossier = with_open(|r| r.id)?;
    let socket = connect_as_me().await?;
    ask(&socket, &ClientMsg::Holdings { dossier }, |m| match m {
        ServerMsg::Holdings { holdings } if holdings.dossier == dossier => Some(Ok(*holdings)),
        // The relay says it holds nothing any more; the next sync checks the candidate's
        // notice before anything is wiped here.
        ServerMsg::Deleted {
            dossier: deleted,
            deleted_ms,
            ..
        } if deleted == dossier => Some(Err(deleted_on_relay_text(deleted_ms))),
        _ => None,
    })
    .await?
}
