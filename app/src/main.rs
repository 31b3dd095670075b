//! Livret's web app: the candidate's device. Keys are made here and kept in IndexedDB locked
//! by a passphrase; each dossier is an automerge document (through `livret-shared`), saved
//! to IndexedDB — sealed to the device — on every keystroke.

mod editor;
mod idb;
mod session;
mod ws;

use leptos::prelude::*;
use leptos::task::spawn_local;
use livret_shared::keys::{DeviceSecret, PASSPHRASE_WORK_FACTOR};
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

/// The built-in référentiels, read by the same importer as the CLI's.
fn built_in() -> Vec<(String, Result<Referentiel, String>)> {
    BUILT_IN
        .iter()
        .map(|(id, text)| {
            let result = referentiel::import_text(text)
                .map(|i| i.referentiel)
                .map_err(|e| e.to_string());
            (id.to_string(), result)
        })
        .collect()
}

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}

/// Where the user is. Dossier ids travel as their hex form.
#[derive(Clone, Debug, PartialEq)]
enum Screen {
    Loading,
    FirstRun,
    Locked,
    Home,
    Dossier(String),
    Failed(String),
}

#[component]
fn App() -> impl IntoView {
    let screen = RwSignal::new(Screen::Loading);
    spawn_local(async move {
        screen.set(match session::open_storage().await {
            Ok(true) => Screen::Locked,
            Ok(false) => Screen::FirstRun,
            Err(e) => Screen::Failed(e),
        });
    });
    view! {
        <header class="banner">
            <h1>"Livret"</h1>
            <p class="tagline">
                "Votre livret 2 de VAE, écrit à votre rythme, même hors ligne, chiffré de bout en bout."
            </p>
        </header>
        <main id="contenu">
            {move || match screen.get() {
                Screen::Loading => view! { <p aria-busy="true">"Chargement…"</p> }.into_any(),
                Screen::FirstRun => view! { <FirstRun screen=screen/> }.into_any(),
                Screen::Locked => view! { <Unlock screen=screen/> }.into_any(),
                Screen::Home => view! { <Home screen=screen/> }.into_any(),
                Screen::Dossier(id) => {
                    let back = Callback::new(move |()| screen.set(Screen::Home));
                    view! { <editor::Editor id=id back=back/> }.into_any()
                }
                Screen::Failed(e) => view! {
                    <p class="erreur" role="alert">{format!("Livret ne peut pas démarrer : {e}")}</p>
                }
                .into_any(),
            }}
        </main>
        <footer><p>"Le relais Livret ne voit que des données chiffrées."</p></footer>
    }
}

/// Passphrases shorter than this are refused: the lock is only as strong as the phrase.
const MIN_PASSPHRASE_CHARS: usize = 10;

#[component]
fn FirstRun(screen: RwSignal<Screen>) -> impl IntoView {
    let passphrase = RwSignal::new(String::new());
    let confirmation = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (p, c) = (passphrase.get(), confirmation.get());
        if p.chars().count() < MIN_PASSPHRASE_CHARS {
            problem.set(Some(format!(
                "Choisissez une phrase de passe d'au moins {MIN_PASSPHRASE_CHARS} caractères."
            )));
            return;
        }
        if p != c {
            problem.set(Some("Les deux phrases de passe diffèrent.".into()));
            return;
        }
        problem.set(None);
        busy.set(true);
        spawn_local(async move {
            // Let the progress message paint before the (deliberately slow) key derivation.
            session::yield_to_browser().await;
            let device = DeviceSecret::generate();
            let locked = device.lock(&p, PASSPHRASE_WORK_FACTOR);
            match session::create_identity(device, &locked).await {
                Ok(()) => screen.set(Screen::Home),
                Err(e) => {
                    busy.set(false);
                    problem.set(Some(e));
                }
            }
        });
    };
    view! {
        <section aria-labelledby="titre-bienvenue" class="carte">
            <h2 id="titre-bienvenue">"Bienvenue"</h2>
            <p>
                "Livret crée sur cet appareil vos clés de chiffrement. Elles ne le quittent pas : "
                "une phrase de passe les protège. Sans elle, personne — ni nous, ni le relais — "
                "ne peut lire votre dossier."
            </p>
            <form on:submit=submit>
                <label for="phrase">"Phrase de passe"</label>
                <input id="phrase" type="password" autocomplete="new-password" required
                    aria-describedby="phrase-aide"
                    on:input=move |ev| passphrase.set(event_target_value(&ev))
                    prop:value=passphrase/>
                <p id="phrase-aide" class="aide">
                    {format!("Au moins {MIN_PASSPHRASE_CHARS} caractères ; une courte phrase facile à retenir convient.")}
                </p>
                <label for="phrase-confirmation">"Confirmez la phrase de passe"</label>
                <input id="phrase-confirmation" type="password" autocomplete="new-password" required
                    on:input=move |ev| confirmation.set(event_target_value(&ev))
                    prop:value=confirmation/>
                <button type="submit" id="creer-identite" disabled=busy>"Créer mes clés"</button>
            </form>
            <Show when=move || busy.get()>
                <p role="status" aria-live="polite">"Création de vos clés et de leur coffre… (quelques secondes)"</p>
            </Show>
            {move || problem.get().map(|p| view! { <p class="erreur" role="alert">{p}</p> })}
        </section>
    }
}

#[component]
fn Unlock(screen: RwSignal<Screen>) -> impl IntoView {
    let passphrase = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let p = passphrase.get();
        busy.set(true);
        problem.set(None);
        spawn_local(async move {
            session::yield_to_browser().await;
            match session::unlock(&p).await {
                Ok(()) => screen.set(Screen::Home),
                Err(e) => {
                    busy.set(false);
                    problem.set(Some(e));
                }
            }
        });
    };
    view! {
        <section aria-labelledby="titre-deverrouiller" class="carte">
            <h2 id="titre-deverrouiller">"Déverrouiller Livret"</h2>
            <form on:submit=submit>
                <label for="phrase">"Phrase de passe"</label>
                <input id="phrase" type="password" autocomplete="current-password" required
                    on:input=move |ev| passphrase.set(event_target_value(&ev))
                    prop:value=passphrase/>
                <button type="submit" id="deverrouiller" disabled=busy>"Déverrouiller"</button>
            </form>
            <Show when=move || busy.get()>
                <p role="status" aria-live="polite">"Ouverture du coffre de clés…"</p>
            </Show>
            {move || problem.get().map(|p| view! { <p class="erreur" role="alert">{p}</p> })}
        </section>
    }
}

#[component]
fn Home(screen: RwSignal<Screen>) -> impl IntoView {
    let referentiels = built_in();
    let available = StoredValue::new(referentiels.clone());
    let choices: Vec<(String, String)> = referentiels
        .iter()
        .filter_map(|(id, r)| {
            let r = r.as_ref().ok()?;
            let title = r
                .title
                .clone()
                .unwrap_or_else(|| format!("Référentiel {id}"));
            let label = match &r.rncp {
                Some(rncp) => format!("{title} ({rncp})"),
                None => title,
            };
            Some((id.clone(), label))
        })
        .collect();
    let chosen = RwSignal::new(choices.first().map(|c| c.0.clone()).unwrap_or_default());
    let dossiers = RwSignal::new(None::<Result<Vec<session::DossierSummary>, String>>);
    spawn_local(async move {
        dossiers.set(Some(session::list_dossiers().await));
    });
    let problem = RwSignal::new(None::<String>);
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let id = chosen.get();
        // The référentiels already read for this page, not read again.
        let Some(r) = available.with_value(|all| {
            all.iter()
                .find(|(i, _)| *i == id)
                .and_then(|(_, r)| r.as_ref().ok().cloned())
        }) else {
            problem.set(Some("Référentiel introuvable.".into()));
            return;
        };
        spawn_local(async move {
            match session::create_dossier(&r).await {
                Ok(id) => screen.set(Screen::Dossier(id)),
                Err(e) => problem.set(Some(e)),
            }
        });
    };
    let identity = session::identity_line();
    view! {
        <section aria-labelledby="titre-dossiers" class="carte">
            <h2 id="titre-dossiers">"Mes dossiers"</h2>
            {move || match dossiers.get() {
                None => view! { <p aria-busy="true">"Lecture des dossiers…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="erreur" role="alert">{e}</p> }.into_any(),
                Some(Ok(list)) if list.is_empty() => {
                    view! { <p>"Aucun dossier pour l'instant."</p> }.into_any()
                }
                Some(Ok(list)) => view! {
                    <ul class="dossiers" data-testid="dossiers">
                        {list.into_iter().map(|d| {
                            let id = d.id.clone();
                            view! {
                                <li>
                                    <button class="lien" data-dossier=d.id.clone()
                                        on:click=move |_| screen.set(Screen::Dossier(id.clone()))>
                                        {d.title}
                                    </button>
                                    {format!(" — {} fiche(s) activité", d.fiches)}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }
                .into_any(),
            }}
        </section>
        <section aria-labelledby="titre-nouveau" class="carte">
            <h2 id="titre-nouveau">"Nouveau dossier"</h2>
            <form on:submit=create>
                <label for="referentiel">"Certification visée"</label>
                <select id="referentiel" on:change=move |ev| chosen.set(event_target_value(&ev))
                    prop:value=chosen>
                    {choices.into_iter().map(|(id, label)| view! { <option value=id>{label}</option> }).collect_view()}
                </select>
                <button type="submit" id="creer-dossier">"Créer le dossier"</button>
            </form>
            {move || problem.get().map(|p| view! { <p class="erreur" role="alert">{p}</p> })}
        </section>
        <section aria-labelledby="titre-appareil" class="carte">
            <h2 id="titre-appareil">"Cet appareil"</h2>
            <p>"Identité publique (à transmettre pour qu'on partage un dossier avec vous) :"</p>
            <p><code class="identite" data-testid="identite">{identity}</code></p>
        </section>
        <section aria-labelledby="titre-referentiels" class="carte">
            <h2 id="titre-referentiels">"Référentiels disponibles"</h2>
            <ul class="referentiels" data-testid="referentiels">
                {referentiels.into_iter().map(|(id, r)| view! { <ReferentielCard id=id result=r/> }).collect_view()}
            </ul>
        </section>
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
