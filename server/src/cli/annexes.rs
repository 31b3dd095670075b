//! `livret dossier annexes | rename-annexe | replace-annexe | delete-annexe | restore-annexe
//! | erase-annexe`: evidence that can be fixed. A deleted annexe — or a replaced file, as its
//! old version — waits in the bin (its file still on the relay, so it can come back) until
//! the candidate erases it. The fiches cite their evidence by file and follow. Bin entries
//! are named by their place in the dossier (« réf. »), which never changes.

use std::path::Path;

use anyhow::{Result, anyhow, bail};
use livret_shared::dossier::Annexe;
use livret_shared::envelope::DossierId;
use livret_shared::evidence::BlobId;
use livret_shared::protocol::{ClientMsg, ServerMsg};
use livret_shared::sync::Replica;

use livret_client::{Home, Link, answer, parse_id, push_and_pull};

pub fn list(home: &Home, id: &str) -> Result<()> {
    let id = parse_id(id)?;
    let device = home.device()?;
    let mut replica = home.load(&device, &id)?;
    let d = replica.dossier();
    for a in d.annexes() {
        println!("n° {} — {} ({})", a.numero, a.titre, a.fichier);
    }
    for a in d.deleted_annexes() {
        println!("corbeille réf. {} — {} ({})", a.place, a.titre, a.fichier);
    }
    Ok(())
}

pub fn rename(home: &Home, id: &str, numero: u32, title: &str) -> Result<()> {
    let (mut replica, _) = writable(home, id)?;
    let annexe = numbered(&mut replica, numero)?;
    if title.trim().is_empty() {
        bail!("un titre vide : l'annexe n° {numero} garde le sien");
    }
    let path = format!("annexes.{}.titre", annexe.place);
    replica.dossier().set(path.as_str(), title.trim())?;
    home.save(&mut replica)
}

pub async fn replace(home: &Home, id: &str, numero: u32, file: &Path) -> Result<()> {
    let (mut replica, id) = writable(home, id)?;
    let annexe = numbered(&mut replica, numero)?;
    let device = home.device()?;
    let mut link = Link::connect(&home.relay_of(&id)?, &device).await?;
    let sent = crate::cli::export::seal_and_send(&mut link, id, file).await?;
    let kept = replica
        .dossier()
        .replace_annexe_file(annexe.place, sent.annexe(&annexe.titre))?;
    home.save(&mut replica)?;
    push_and_pull(home, &mut link, &device, &mut replica).await?;
    home.save(&mut replica)?;
    println!(
        "L'annexe n° {numero} a son nouveau fichier ; l'ancien est à la corbeille (réf. {kept}) : \
         `dossier erase-annexe {id} {kept}` l'efface du relais."
    );
    Ok(())
}

pub fn delete(home: &Home, id: &str, numero: u32) -> Result<()> {
    let (mut replica, _) = writable(home, id)?;
    let annexe = numbered(&mut replica, numero)?;
    // A jury's notes name annexes by number: once one reads the dossier, numbers stay.
    let renumber = !replica.has_jury();
    replica.dossier().delete_annexe(annexe.place, renumber)?;
    home.save(&mut replica)?;
    let (id, k) = (replica.membership().dossier, annexe.place);
    println!(
        "Annexe n° {numero} mise à la corbeille (réf. {k}) : `dossier restore-annexe {id} {k}` \
         la rétablit, `dossier erase-annexe {id} {k}` efface son fichier du relais.{}",
        if renumber {
            " Les annexes suivantes ont avancé d'un numéro."
        } else {
            " Un jury lit le dossier : les numéros restent."
        }
    );
    Ok(())
}

pub fn restore(home: &Home, id: &str, reference: usize) -> Result<()> {
    let (mut replica, _) = writable(home, id)?;
    let annexe = in_bin(&mut replica, reference)?;
    let numero = replica.dossier().restore_annexe(annexe.place)?;
    home.save(&mut replica)?;
    println!("{numero}");
    Ok(())
}

pub async fn erase(home: &Home, id: &str, reference: usize) -> Result<()> {
    let (mut replica, id) = writable(home, id)?;
    let annexe = in_bin(&mut replica, reference)?;
    let device = home.device()?;
    let mut link = Link::connect(&home.relay_of(&id)?, &device).await?;
    // The relay first: refused there, the annexe stays in the bin here.
    if let Some(blob) = annexe.blob {
        erase_on_relay(&mut link, id, blob).await?;
    }
    replica.dossier().erase_annexe(annexe.place)?;
    home.save(&mut replica)?;
    push_and_pull(home, &mut link, &device, &mut replica).await?;
    home.save(&mut replica)?;
    println!(
        "« {} » est effacée : son fichier a quitté le relais.",
        annexe.titre
    );
    Ok(())
}

async fn erase_on_relay(link: &mut Link, dossier: DossierId, blob: BlobId) -> Result<()> {
    link.send(&ClientMsg::Erase { dossier, blob }).await?;
    // A refusal comes back as the error, in the relay's words.
    answer(
        link,
        |m| matches!(m, ServerMsg::Erased { blob: b, .. } if *b == blob),
    )
    .await?;
    Ok(())
}

fn writable(home: &Home, id: &str) -> Result<(Replica, DossierId)> {
    let id = parse_id(id)?;
    let device = home.device()?;
    let replica = home.load(&device, &id)?;
    if !replica.may_write_dossier() {
        bail!("ce dossier est en lecture seule sur cet appareil");
    }
    Ok((replica, id))
}

fn numbered(replica: &mut Replica, numero: u32) -> Result<Annexe> {
    replica
        .dossier()
        .annexes()
        .into_iter()
        .find(|a| a.numero == numero)
        .ok_or_else(|| anyhow!("le dossier n'a pas d'annexe n° {numero}"))
}

/// The annexe in the bin at `reference` (its place, « réf. » in `dossier annexes`).
fn in_bin(replica: &mut Replica, reference: usize) -> Result<Annexe> {
    replica
        .dossier()
        .deleted_annexes()
        .into_iter()
        .find(|a| a.place == reference)
        .ok_or_else(|| {
            anyhow!("la corbeille n'a pas d'annexe réf. {reference} (`dossier annexes` la montre)")
        })
}
