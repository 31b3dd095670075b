//! `livret sync`: every local dossier pushed and pulled. One dossier that fails does not
//! stop the others: each failure is said, and the command fails at the end.

use anyhow::{Result, bail};
use livret_shared::exchange::ExchangeError;

use livret_client::{Home, Link, push_and_pull};

pub async fn sync(home: &Home) -> Result<()> {
    let device = home.device()?;
    let mut failed = Vec::new();
    for id in home.dossiers() {
        if home.deleted_at(&id).is_some() {
            // Deleted, and its copy not yet all gone (a removal that failed): again.
            let _ = home.forget_copy(&id);
            continue;
        }
        let mut replica = match home.load(&device, &id) {
            Ok(replica) => replica,
            Err(e) if home.removed_at(&id).is_some() => {
                // Removed, kept by an older version: wiped by the load, and said.
                eprintln!("{e}");
                continue;
            }
            Err(e) => {
                failed.push(format!("dossier {id} : {e:#}"));
                continue;
            }
        };
        let outcome = match home.relay_of(&id) {
            Ok(relay) => match Link::connect(&relay, &device).await {
                Ok(mut link) => push_and_pull(home, &mut link, &device, &mut replica).await,
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        };
        if home.deleted_at(&id).is_some() || home.removed_at(&id).is_some() {
            // Its candidate deleted it or removed this device, and its copy is gone from
            // here: said.
            if let Err(e) = outcome {
                eprintln!("{e}");
            }
            continue;
        }
        // Whatever arrived is kept, even if the exchange failed half-way.
        home.save(&mut replica)?;
        match outcome {
            Ok(()) => {}
            Err(e)
                if matches!(
                    e.downcast_ref(),
                    Some(ExchangeError::UncheckedDeletion { .. })
                ) =>
            {
                // The relay says it is gone without a notice this device takes: kept
                // whole, and said (not a failure of this device).
                eprintln!("{e}");
            }
            Err(e) => failed.push(format!("dossier {id} : {e:#}")),
        }
    }
    if !failed.is_empty() {
        bail!("{}", failed.join("\n"));
    }
    Ok(())
}
