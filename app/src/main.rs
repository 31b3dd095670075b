//! Livret's web app: the candidate's device. Keys are made here and kept in IndexedDB locked
//! by a passphrase; each dossier is an automerge document (through `livret-shared`), saved
//! to IndexedDB — sealed to the device — on every keystroke.

mod editor;
mod i18n;
mod idb;
mod metrics;
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
    i18n::init();
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

/// The dossier named in the address (`#dossier=<id>`), so a reload or a bookmark comes back
/// to it once unlocked.
fn dossier_in_address() -> Option<String> {
    let hash = web_sys::window()?.location().hash().ok()?;
    let id = hash.strip_prefix("#dossier=")?;
    (id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())).then(|| id.to_string())
}

fn set_address(dossier: Option<&str>) {
    if let Some(location) = web_sys::window().map(|w| w.location()) {
        let _ = location.set_hash(&dossier.map(|d| format!("dossier={d}")).unwrap_or_default());
    }
}

/// Where to go once the keys are open.
fn after_unlock() -> Screen {
    dossier_in_address().map_or(Screen::Home, Screen::Dossier)
}

#[component]
fn App() -> impl IntoView {
    let screen = RwSignal::new(Screen::Loading);
    // A message for the home page from the screen before it.
    let notice = RwSignal::new(None::<String>);
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
                Screen::FirstRun => view! { <FirstRun screen=screen notice=notice/> }.into_any(),
                Screen::Locked => view! { <Unlock screen=screen/> }.into_any(),
                Screen::Home => view! { <Home screen=screen notice=notice/> }.into_any(),
                Screen::Dossier(id) => {
                    set_address(Some(&id));
                    let back = Callback::new(move |()| {
                        set_address(None);
                        screen.set(Screen::Home)
                    });
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

/// How this device starts: the candidate's first, another of theirs, or one let in with the
/// recovery kit.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Start {
    First,
    OtherDevice,
    Kit,
}

#[component]
fn FirstRun(screen: RwSignal<Screen>, notice: RwSignal<Option<String>>) -> impl IntoView {
    let passphrase = RwSignal::new(String::new());
    let confirmation = RwSignal::new(String::new());
    let start = RwSignal::new(Start::First);
    let kit_text = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let busy = RwSignal::new(None::<&'static str>);
    // The recovery kit, shown once after the keys are made (first device only).
    let kit = RwSignal::new(None::<String>);
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
        let how = start.get();
        let recovery = kit_text.get();
        if how == Start::Kit && DeviceSecret::from_secret_string(&recovery).is_err() {
            problem.set(Some(
                "Ce kit de secours est illisible : recopiez ses deux lignes en entier.".into(),
            ));
            return;
        }
        problem.set(None);
        busy.set(Some(
            "Création de vos clés et de leur coffre… (quelques secondes)",
        ));
        spawn_local(async move {
            // Let the progress message paint before the (deliberately slow) key derivation.
            session::yield_to_browser().await;
            let device = DeviceSecret::generate();
            let locked = device.lock(&p, PASSPHRASE_WORK_FACTOR);
            if let Err(e) = session::create_identity(device, &locked).await {
                busy.set(None);
                problem.set(Some(e));
                return;
            }
            match how {
                Start::First => match session::make_recovery_kit().await {
                    Ok(secret) => kit.set(Some(secret)),
                    Err(e) => {
                        notice.set(Some(format!("Kit de secours non créé : {e}")));
                        screen.set(Screen::Home);
                    }
                },
                Start::OtherDevice => screen.set(Screen::Home),
                Start::Kit => {
                    busy.set(Some("Récupération de vos dossiers avec le kit de secours…"));
                    notice.set(Some(match session::recover(&recovery).await {
                        Ok(n) => format!("Kit de secours accepté : {n} dossier(s) récupéré(s)."),
                        Err(e) => format!(
                            "La récupération n'a pas abouti : {e} Réessayez depuis « Mes appareils »."
                        ),
                    }));
                    screen.set(Screen::Home);
                }
            }
        });
    };
    let choose = move |how: Start| move |_| start.set(how);
    view! {
        <Show when=move || kit.with(Option::is_some) fallback=move || view! {
            <section aria-labelledby="titre-bienvenue" class="carte">
                <h2 id="titre-bienvenue">"Bienvenue"</h2>
                <p>
                    "Livret crée sur cet appareil vos clés de chiffrement. Elles ne le quittent pas : "
                    "une phrase de passe les protège. Sans elle, personne — ni nous, ni le relais — "
                    "ne peut lire votre dossier."
                </p>
                <form on:submit=submit>
                    <fieldset>
                        <legend>"Cet appareil est…"</legend>
                        <div class="case">
                            <input type="radio" id="mode-premier" name="mode" checked
                                on:change=choose(Start::First)/>
                            <label for="mode-premier">"mon premier appareil Livret"</label>
                        </div>
                        <div class="case">
                            <input type="radio" id="mode-autre-appareil" name="mode"
                                on:change=choose(Start::OtherDevice)/>
                            <label for="mode-autre-appareil">"un appareil de plus (j'utilise déjà Livret ailleurs)"</label>
                        </div>
                        <div class="case">
                            <input type="radio" id="mode-kit" name="mode"
                                on:change=choose(Start::Kit)/>
                            <label for="mode-kit">"un nouvel appareil, avec mon kit de secours"</label>
                        </div>
                    </fieldset>
                    <Show when=move || start.get() == Start::Kit>
                        <label for="kit">"Kit de secours (les deux lignes)"</label>
                        <textarea id="kit" rows="3" autocomplete="off" spellcheck="false"
                            on:input=move |ev| kit_text.set(event_target_value(&ev))
                            prop:value=kit_text></textarea>
                    </Show>
                    <label for="phrase">"Phrase de passe de cet appareil"</label>
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
                    <button type="submit" id="creer-identite" disabled=move || busy.get().is_some()>"Créer mes clés"</button>
                </form>
                {move || busy.get().map(|b| view! { <p role="status" aria-live="polite">{b}</p> })}
                {move || problem.get().map(|p| view! { <p class="erreur" role="alert">{p}</p> })}
            </section>
        }>
            <RecoveryKit secret=kit.get_untracked().unwrap_or_default()
                done=Callback::new(move |()| { kit.set(None); screen.set(Screen::Home) })/>
        </Show>
    }
}

/// The recovery kit, shown once: a key of the candidate's that lives on paper.
#[component]
fn RecoveryKit(secret: String, done: Callback<()>) -> impl IntoView {
    let print = move |_| {
        if let Some(w) = web_sys::window() {
            let _ = w.print();
        }
    };
    view! {
        <section aria-labelledby="titre-kit" class="carte kit">
            <h2 id="titre-kit">"Votre kit de secours"</h2>
            <p>
                "Imprimez cette page ou recopiez les deux lignes ci-dessous, et rangez-les en lieu sûr. "
                "Si vous perdez cet appareil ou oubliez sa phrase de passe, ce kit permet à un nouvel "
                "appareil de retrouver vos dossiers. Quiconque le détient le peut aussi : ne l'envoyez "
                "à personne, ne le photographiez pas."
            </p>
            <pre class="secret" data-testid="kit-secours">{secret}</pre>
            <p class="pas-imprime">"Livret ne le réaffichera pas."</p>
            <div class="actions pas-imprime">
                <button type="button" id="imprimer-kit" on:click=print>"Imprimer le kit"</button>
                <button type="button" id="kit-range" on:click=move |_| done.run(())>
                    "J'ai rangé mon kit, continuer"
                </button>
            </div>
        </section>
    }
}

#[component]
fn Unlock(screen: RwSignal<Screen>) -> impl IntoView {
    spawn_local(async {
        session::sleep(0).await;
        metrics::mark("livret-deverrouillage-affiche");
    });
    let passphrase = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        metrics::mark("livret-deverrouillage-demande");
        let p = passphrase.get();
        busy.set(true);
        problem.set(None);
        spawn_local(async move {
            session::yield_to_browser().await;
            match session::unlock(&p).await {
                Ok(()) => {
                    metrics::mark("livret-deverrouille");
                    screen.set(after_unlock())
                }
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
fn Home(screen: RwSignal<Screen>, notice: RwSignal<Option<String>>) -> impl IntoView {
    // The built-in référentiels, then those imported on this device.
    let all = RwSignal::new(built_in());
    spawn_local(async move {
        if let Ok(imported) = session::imported_referentiels().await {
            all.update(|a| a.extend(imported.into_iter().map(|(id, r)| (id, Ok(r)))));
        }
    });
    let choices = move || -> Vec<(String, String)> {
        all.with(|a| {
            a.iter()
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
                .collect()
        })
    };
    let chosen = RwSignal::new(choices().first().map(|c| c.0.clone()).unwrap_or_default());
    let dossiers = RwSignal::new(None::<Result<Vec<session::DossierSummary>, String>>);
    // Dossiers shared with this device, or made on another of the candidate's, are found
    // by asking the relay (when it answers; the local list shows first).
    let searching = RwSignal::new(None::<String>);
    let running = RwSignal::new(false);
    let search = move || {
        // One search at a time: a second would find the first one's dossiers already here.
        if running.get_untracked() {
            return;
        }
        running.set(true);
        searching.set(Some("Recherche de vos dossiers sur le relais…".into()));
        spawn_local(async move {
            let found = session::discover().await;
            searching.set(Some(match &found {
                Ok(0) => "Aucun nouveau dossier sur le relais.".into(),
                Ok(n) => format!("{n} nouveau(x) dossier(s) reçu(s) du relais."),
                Err(e) => format!("Relais injoignable pour l'instant ({e})."),
            }));
            if matches!(found, Ok(n) if n > 0) {
                dossiers.set(Some(session::list_dossiers().await));
            }
            running.set(false);
        });
    };
    spawn_local(async move {
        dossiers.set(Some(session::list_dossiers().await));
        search();
    });
    let problem = RwSignal::new(None::<String>);
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let id = chosen.get();
        // The référentiels already read for this page, not read again.
        let Some(r) = all.with_untracked(|all| {
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
        {move || notice.get().map(|n| view! { <p class="carte annonce" role="status" data-testid="annonce">{n}</p> })}
        <section aria-labelledby="titre-dossiers" class="carte">
            <h2 id="titre-dossiers">"Mes dossiers"</h2>
            <p class="discret">
                <span role="status" data-testid="recherche-dossiers">{move || searching.get()}</span>
                " "
                <button type="button" id="rechercher-dossiers" class="lien" on:click=move |_| search()>
                    "Rechercher mes dossiers"
                </button>
            </p>
            {move || match dossiers.get() {
                None => view! { <p aria-busy="true">"Lecture des dossiers…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="erreur" role="alert">{e}</p> }.into_any(),
                Some(Ok(list)) if list.is_empty() => {
                    view! { <p>"Aucun dossier pour l'instant."</p> }.into_any()
                }
                Some(Ok(list)) => view! {
                    <ul class="dossiers" data-testid="dossiers">
                        {list.into_iter().enumerate().map(|(n, d)| {
                            let id = d.id.clone();
                            view! {
                                <li>
                                    <button class="lien" id=format!("ouvrir-{n}") data-dossier=d.id.clone()
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
                    {move || choices().into_iter().map(|(id, label)| view! { <option value=id>{label}</option> }).collect_view()}
                </select>
                <button type="submit" id="creer-dossier">"Créer le dossier"</button>
            </form>
            {move || problem.get().map(|p| view! { <p class="erreur" role="alert">{p}</p> })}
        </section>
        <MyDevices identity=identity dossiers=dossiers/>
        <section aria-labelledby="titre-referentiels" class="carte">
            <h2 id="titre-referentiels">"Référentiels disponibles"</h2>
            <ul class="referentiels" data-testid="referentiels">
                {move || all.get().into_iter().map(|(id, r)| view! { <ReferentielCard id=id result=r/> }).collect_view()}
            </ul>
            <ImportReferentiel all=all chosen=chosen/>
        </section>
    }
}

/// Imports a référentiel the certifier published: a text or an RNCP XML export is read here
/// by the same importer as the CLI's; a PDF is read by the relay (a public document; the app
/// has no PDF reader of its own). Kept on this device, sealed.
#[component]
fn ImportReferentiel(
    all: RwSignal<Vec<(String, Result<Referentiel, String>)>>,
    chosen: RwSignal<String>,
) -> impl IntoView {
    let status = RwSignal::new(None::<Result<String, String>>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let file = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id("referentiel-fichier"))
            .and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlInputElement>(e).ok())
            .and_then(|input| input.files())
            .and_then(|list| list.get(0));
        let Some(file) = file else {
            status.set(Some(Err("Choisissez d'abord un fichier.".into())));
            return;
        };
        busy.set(true);
        status.set(Some(Ok(format!("Lecture de « {} »…", file.name()))));
        spawn_local(async move {
            let result = session::import_referentiel(&file).await;
            status.set(Some(match result {
                Ok(found) => {
                    let names: Vec<String> = found
                        .iter()
                        .map(|(_, r)| {
                            let title = r.title.clone().unwrap_or_else(|| "sans titre".into());
                            format!(
                                "{title} ({})",
                                r.shape()
                                    .iter()
                                    .map(usize::to_string)
                                    .collect::<Vec<_>>()
                                    .join(" / ")
                            )
                        })
                        .collect();
                    if let Some((id, _)) = found.first() {
                        chosen.set(id.clone());
                    }
                    all.update(|a| {
                        for (id, r) in found {
                            if !a.iter().any(|(i, _)| *i == id) {
                                a.push((id, Ok(r)));
                            }
                        }
                    });
                    Ok(format!("Importé : {}.", names.join(" ; ")))
                }
                Err(e) => Err(format!("« {} » : {e}", file.name())),
            }));
            busy.set(false);
        });
    };
    view! {
        <form class="import-referentiel" on:submit=submit>
            <label for="referentiel-fichier">"Importer un référentiel (PDF, texte ou export XML de France Compétences)"</label>
            <input type="file" id="referentiel-fichier" accept=".pdf,.txt,.md,.xml,.html,.htm"/>
            <button type="submit" id="importer-referentiel" disabled=busy>"Importer"</button>
        </form>
        {move || status.get().map(|s| match s {
            Ok(m) => view! { <p role="status" data-testid="import-etat">{m}</p> }.into_any(),
            Err(e) => view! { <p class="erreur" role="alert" data-testid="import-etat">{e}</p> }.into_any(),
        })}
    }
}

/// This device's identity, pairing another device of the candidate's, the recovery kit.
#[component]
fn MyDevices(
    identity: String,
    dossiers: RwSignal<Option<Result<Vec<session::DossierSummary>, String>>>,
) -> impl IntoView {
    let other = RwSignal::new(String::new());
    let kit_text = RwSignal::new(String::new());
    let status = RwSignal::new(None::<Result<String, String>>);
    let busy = RwSignal::new(false);
    let pair = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let line = other.get();
        busy.set(true);
        status.set(Some(Ok("Ajout de l'appareil à vos dossiers…".into())));
        spawn_local(async move {
            status.set(Some(match session::add_own_device(&line).await {
                Ok(n) => {
                    other.set(String::new());
                    Ok(format!("Appareil ajouté à {n} dossier(s)."))
                }
                Err(e) => Err(format!("Appareil non ajouté : {e}")),
            }));
            busy.set(false);
        });
    };
    let use_kit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let kit = kit_text.get();
        busy.set(true);
        status.set(Some(Ok(
            "Récupération de vos dossiers avec le kit de secours…".into(),
        )));
        spawn_local(async move {
            let result = session::recover(&kit).await;
            status.set(Some(match result {
                Ok(n) => {
                    kit_text.set(String::new());
                    Ok(format!(
                        "Kit de secours accepté : {n} dossier(s) récupéré(s)."
                    ))
                }
                Err(e) => Err(e),
            }));
            dossiers.set(Some(session::list_dossiers().await));
            busy.set(false);
        });
    };
    view! {
        <section aria-labelledby="titre-appareil" class="carte">
            <h2 id="titre-appareil">"Mes appareils"</h2>
            <p>"Identité publique de cet appareil (à transmettre pour qu'on partage un dossier avec vous, ou à coller sur votre autre appareil) :"</p>
            <p><code class="identite" data-testid="identite">{identity}</code></p>
            <form on:submit=pair>
                <label for="appareil-identite">"Ajouter un autre de mes appareils (son identité publique)"</label>
                <input id="appareil-identite" type="text" autocomplete="off" spellcheck="false"
                    placeholder="livret1:…" required
                    on:input=move |ev| other.set(event_target_value(&ev)) prop:value=other/>
                <button type="submit" id="ajouter-appareil" disabled=busy>"Ajouter cet appareil"</button>
            </form>
            <details>
                <summary>"Appareil perdu ? Utiliser mon kit de secours"</summary>
                <form on:submit=use_kit>
                    <label for="kit-secours">"Kit de secours (les deux lignes)"</label>
                    <textarea id="kit-secours" rows="3" autocomplete="off" spellcheck="false" required
                        on:input=move |ev| kit_text.set(event_target_value(&ev))
                        prop:value=kit_text></textarea>
                    <button type="submit" id="utiliser-kit" disabled=busy>"Récupérer mes dossiers"</button>
                </form>
            </details>
            {move || status.get().map(|s| match s {
                Ok(m) => view! { <p role="status" data-testid="appareils-etat">{m}</p> }.into_any(),
                Err(e) => view! { <p class="erreur" role="alert" data-testid="appareils-etat">{e}</p> }.into_any(),
            })}
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
