//! `livret dossier history` and `livret dossier restore`: who changed a section or fiche and
//! when, and a section or fiche put back as it was before one of those edits.

use anyhow::{Result, anyhow, bail};
use livret_shared::date::Date;
use livret_shared::dossier::SECTIONS;
use livret_shared::field_path::Place;
use livret_shared::history::{Author, Edit, Undo};
use livret_shared::membership::Role;

use livret_client::{Home, parse_id};

/// A section (`motivation`), a fiche (`fiches.2`) or a further structure or poste
/// (`structure.5f0c9a1b2d3e4f60`), as paths name them.
fn parse_place(place: &str) -> Result<Place> {
    if let Some(at) = place.strip_prefix("fiches.") {
        return Ok(Place::Fiche(at.parse().map_err(|_| {
            anyhow!("« {place} » : une fiche se nomme par sa place, comme fiches.0")
        })?));
    }
    if let Some((section, key)) = place.split_once('.')
        && let Some(repeat) = livret_shared::field_path::repeat_id(key)
        && let Some(section) = livret_shared::dossier::REPEATED
            .iter()
            .find(|s| **s == section)
    {
        return Ok(Place::Repeat(section, repeat));
    }
    SECTIONS
        .iter()
        .find(|(key, _)| *key == place)
        .map(|(key, _)| Place::Section(key))
        .ok_or_else(|| {
            anyhow!("« {place} » n'est ni une section du dossier ni une fiche (fiches.N)")
        })
}

fn who(author: &Author) -> String {
    let role = match author.role {
        Some(Role::Owner) => "candidat",
        Some(Role::Advisor) => "accompagnateur",
        Some(Role::Juror) => "juré",
        None => "ancien membre",
    };
    let name = match (&author.name, author.kit) {
        (Some(name), _) => format!("{name} ({role})"),
        (None, true) => "kit de secours".to_string(),
        (None, false) => role.to_string(),
    };
    if author.mine {
        format!("{name}, vous")
    } else {
        name
    }
}

fn when(edit: &Edit) -> String {
    if edit.to_s <= 0 {
        return "(heure inconnue)".to_string();
    }
    let day = Date::of_ms(edit.to_s * 1000).french_numeric();
    let minutes = edit.to_s.rem_euclid(86_400) / 60;
    format!("{day} {:02}:{:02} UTC", minutes / 60, minutes % 60)
}

/// Prints the dossier's edits (of one section or fiche with `place`), numbered as
/// `dossier restore` takes them, the oldest first.
pub fn dossier_history(home: &Home, id: &str, place: Option<&str>) -> Result<()> {
    let id = parse_id(id)?;
    let device = home.device()?;
    let mut replica = home.load(&device, &id)?;
    let place = place.map(parse_place).transpose()?;
    let edits: Vec<Edit> = replica.history().edits().to_vec();
    for (n, edit) in edits.iter().enumerate() {
        if place.is_some_and(|p| !edit.touches(p)) {
            continue;
        }
        let fields: Vec<String> = edit
            .fields
            .iter()
            .filter(|f| place.is_none_or(|p| f.place() == p))
            .map(|f| f.to_string())
            .collect();
        println!(
            "{}\t{}\t{}\t{}",
            n + 1,
            when(edit),
            who(&replica.author(&edit.author)),
            fields.join(" ")
        );
    }
    Ok(())
}

/// Undoes edit number `edit` (`dossier history`'s, on this device) in a section or fiche:
/// the fields it changed there put back as they were before it — an edit of this device,
/// which `livret sync` sends. A field changed again since is named and left alone unless
/// `anyway`. Prints the fields that changed.
pub fn dossier_restore(
    home: &Home,
    id: &str,
    place: &str,
    edit: usize,
    anyway: bool,
) -> Result<()> {
    let id = parse_id(id)?;
    let device = home.device()?;
    let mut replica = home.load(&device, &id)?;
    let place = parse_place(place)?;
    let Some(chosen) = edit
        .checked_sub(1)
        .and_then(|i| replica.history().edits().get(i).cloned())
    else {
        bail!("pas de modification n° {edit} : `livret dossier history` les numérote");
    };
    match replica.undo(&chosen.after, place, anyway)? {
        Undo::Done(changed) => {
            replica
                .dossier()
                .commit_at((livret_client::clock::now_ms() / 1000) as i64);
            for field in &changed {
                println!("{field}");
            }
        }
        Undo::NothingToChange => {
            eprintln!(
                "rien à changer : ces champs sont déjà tels qu'ils étaient avant la modification n° {edit}"
            );
            return Ok(());
        }
        Undo::ChangedSince(fields) => {
            let fields: Vec<String> = fields.iter().map(|f| f.to_string()).collect();
            bail!(
                "modifié autrement depuis : {} ; l'annuler effacerait aussi ces autres changements (--anyway pour le faire)",
                fields.join(" ")
            );
        }
        Undo::NotHere => bail!("la modification n° {edit} n'a rien changé à cet endroit"),
        Undo::NoSuchEdit => {
            bail!("pas de modification n° {edit} : `livret dossier history` les numérote")
        }
    }
    home.save(&mut replica)
}
