//! Livret's web app. For now: the home page, listing the référentiels Livret ships with,
//! imported in the browser by the same reader the CLI uses (`livret-shared`).

use leptos::prelude::*;
use livret_shared::referentiel::{self, Referentiel};

/// The référentiels every installation starts with (the seed documents).
const BUILT_IN: &[(&str, &str)] = &[
    (
        "000",
        include_str!("../../fixtures/referentiels/000-expert-ingenierie-logiciel.txt"),
    ),
    (
        "001",
        include_str!("../../fixtures/referentiels/001-expert-ingenierie-systemes-information.txt"),
    ),
    (
        "002",
        include_str!(
            "../../fixtures/referentiels/002-developpeur-intelligence-artificielle-rncp37827.txt"
        ),
    ),
    (
        "003",
        include_str!(
            "../../fixtures/referentiels/003-expert-architecture-developpement-logiciel-rncp38822.txt"
        ),
    ),
    (
        "004",
        include_str!("../../fixtures/referentiels/004-expert-developpement-logiciel.txt"),
    ),
];

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}

#[component]
fn App() -> impl IntoView {
    let referentiels: Vec<(String, Result<Referentiel, String>)> = BUILT_IN
        .iter()
        .map(|(id, text)| {
            let result = referentiel::import_text(text)
                .map(|i| i.referentiel)
                .map_err(|e| e.to_string());
            (id.to_string(), result)
        })
        .collect();
    view! {
        <header class="banner">
            <h1>"Livret"</h1>
            <p class="tagline">
                "Votre livret 2 de VAE, écrit à votre rythme, même hors ligne, chiffré de bout en bout."
            </p>
        </header>
        <main id="contenu">
            <section aria-labelledby="titre-referentiels">
                <h2 id="titre-referentiels">"Référentiels disponibles"</h2>
                <ul class="referentiels" data-testid="referentiels">
                    {referentiels.into_iter().map(|(id, r)| view! { <ReferentielCard id=id result=r/> }).collect_view()}
                </ul>
            </section>
        </main>
        <footer><p>"Le relais Livret ne voit que des données chiffrées."</p></footer>
    }
}

#[component]
fn ReferentielCard(id: String, result: Result<Referentiel, String>) -> impl IntoView {
    match result {
        Ok(r) => {
            let title = r.title.clone().unwrap_or_else(|| "Référentiel sans titre".into());
            let rncp = r.rncp.clone().unwrap_or_default();
            let shape = r.shape().iter().map(usize::to_string).collect::<Vec<_>>().join(" / ");
            let count = r.competences().count();
            let blocs = r
                .blocs
                .iter()
                .map(|b| {
                    let label = format!(
                        "{} {} — {} ({} compétences)",
                        match b.kind {
                            referentiel::BlocKind::Bloc => "Bloc",
                            referentiel::BlocKind::Activite => "Activité",
                        },
                        b.number,
                        b.title.clone().unwrap_or_else(|| "intitulé illisible".into()),
                        b.competences.len()
                    );
                    view! { <li>{label}</li> }
                })
                .collect_view();
            view! {
                <li class="referentiel" data-id=id>
                    <h3>{title}</h3>
                    <p class="meta">
                        <span class="rncp">{rncp}</span>
                        " "
                        <span class="shape" data-testid="shape">{shape}</span>
                        {format!(" — {count} compétences")}
                    </p>
                    <details>
                        <summary>"Voir les blocs"</summary>
                        <ul>{blocs}</ul>
                    </details>
                </li>
            }
            .into_any()
        }
        Err(e) => view! {
            <li class="referentiel erreur" data-id=id role="alert">{format!("Import impossible : {e}")}</li>
        }
        .into_any(),
    }
}
