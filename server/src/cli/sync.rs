//! `livret sync`: every local dossier pushed and pulled.

use anyhow::{Context, Result};
use livret_shared::exchange::ExchangeError;

use livret_client::{Home, Link, push_and_pull};

pub async fn sync(home: &Home) -> Result<()> {
    let device = home.device()?;
    for id in home.dossiers() {
        if home.deleted_at(&id).is_some() {
            // Deleted, and its copy not yet all gone (a removal that failed): again.
            let _ = home.forget_copy(&id);
            continue;
        }
        let mut replica = match home.load(&device, &id) {
            Ok(replica) => replica,
            Err(e) if home.removed_at(&id).is_some() => {
                // Removed, kept by an older version: wiped by the load, said, and the other
                // dossiers synced still.
                eprintln!("{e}");
                continue;
            }
            Err(e) => return Err(e),
        };
        let relay = home.relay_of(&id)?;
        let mut link = Link::connect(&relay, &device).await?;
        let outcome = push_and_pull(home, &mut link, &device, &mut replica).await;
        if home.deleted_at(&id).is_some() || home.removed_at(&id).is_some() {
            // Its candidate deleted it or removed this device, and its copy is gone from
            // here: said, and the other dossiers synced still.
            if let Err(e) = outcome {
                eprintln!("{e}");
            }
            continue;
        }
        // Whatever arrived is kept, even if the exchange failed half-way.
        home.save(&mut replica)?;
        if let Err(e) = &outcome
            && let Some(ExchangeError::UncheckedDeletion { .. }) = e.downcast_ref()
        {
            // The relay says it is gone without a notice this device takes: kept whole,
            // said, and the other dossiers synced still.
            eprintln!("{e}");
            continue;
        }
        outcome.with_context(|| format!("dossier {id}"))?;
    }
    Ok(())
}
