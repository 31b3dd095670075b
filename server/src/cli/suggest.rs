//! `livret dossier suggest ID [--fiche N]`: which compétences a fiche most likely proves, each
//! with the passages of the fiche and the criteria that point to it; without a fiche, what
//! no fiche covers yet. Computed here, from the dossier and its référentiel on this device.

use anyhow::{Result, anyhow, bail};
use livret_shared::dossier::Dossier;
use livret_shared::suggest::{Suggester, claimed_by, fiche_of, fiches_of};

use livret_client::{Home, parse_id};

pub fn dossier_suggest(home: &Home, id: &str, fiche: Option<usize>, json: bool) -> Result<()> {
    let id = parse_id(id)?;
    let device = home.device()?;
    let mut replica = home.load(&device, &id)?;
    let dossier = replica.dossier();
    let referentiel = dossier
        .referentiel()
        .ok_or_else(|| anyhow!("le dossier ne vise encore aucun référentiel"))?;
    if referentiel.competences().next().is_none() {
        bail!("le référentiel de ce dossier ne compte aucune compétence : rien à suggérer");
    }
    let suggester = Suggester::new(&referentiel);
    match fiche {
        Some(shown) => one_fiche(dossier, &suggester, shown, json),
        None => gaps(dossier, &suggester, json),
    }
}

fn one_fiche(dossier: &mut Dossier, suggester: &Suggester, shown: usize, json: bool) -> Result<()> {
    let order = dossier.fiche_order();
    let Some(place) = shown.checked_sub(1).and_then(|i| order.get(i).copied()) else {
        bail!(
            "la fiche n° {shown} n'existe pas : ce dossier compte {} fiche(s) activité",
            order.len()
        );
    };
    let (fiche, bloc) = fiche_of(dossier, place);
    let found = suggester.suggest(&fiche, bloc);
    if json {
        println!("{}", serde_json::to_string_pretty(&found)?);
        return Ok(());
    }
    let chosen = claimed_by(dossier, place);
    println!("Suggestions pour la fiche n° {shown} (calculées sur cet appareil) :");
    if let Some(notice) = found.notice {
        println!("{}", notice.in_language(false));
    }
    for (rank, s) in found.suggestions.iter().enumerate() {
        let already = if chosen.contains(&s.code) {
            " (déjà choisie)"
        } else {
            ""
        };
        println!(
            "{}. {} — {} (bloc {}){already}",
            rank + 1,
            s.code,
            s.title,
            s.bloc
        );
        for p in &s.passages {
            let field = dossier
                .template()
                .field("fiches", &p.field)
                .map_or(p.field.as_str(), |f| f.label_fr);
            println!(
                "   « {} » ({field} ; vos mots : {})",
                p.text,
                p.words.join(", ")
            );
        }
        for c in &s.criteria {
            let (code, rank) = c.reference.split_once('#').unwrap_or((&c.reference, ""));
            println!(
                "   critère {rank} de {code} : {} (vos mots : {})",
                c.wording,
                c.words.join(", ")
            );
        }
    }
    Ok(())
}

fn gaps(dossier: &mut Dossier, suggester: &Suggester, json: bool) -> Result<()> {
    let (fiches, claimed) = fiches_of(dossier);
    let suggested: Vec<_> = fiches
        .iter()
        .map(|(text, bloc)| suggester.suggest(text, *bloc))
        .collect();
    let gaps = suggester.gaps(&suggested, &claimed);
    let uneven = suggester.uneven(&claimed);
    if json {
        let both = serde_json::json!({ "gaps": gaps, "uneven": uneven });
        println!("{}", serde_json::to_string_pretty(&both)?);
        return Ok(());
    }
    if let Some(uneven) = uneven {
        println!("{}", uneven.in_language(false));
    }
    if gaps.is_empty() {
        println!("Chaque compétence du référentiel est revendiquée par au moins une fiche.");
    }
    for g in &gaps {
        println!("{} — {} (bloc {}) : non couverte", g.code, g.title, g.bloc);
        if !g.fiches.is_empty() {
            let numbers: Vec<String> = g.fiches.iter().map(|n| format!("n° {n}")).collect();
            println!(
                "   la montrent sans doute : fiche {}",
                numbers.join(", fiche ")
            );
        }
        println!("   {}", g.prompt(false));
    }
    Ok(())
}
