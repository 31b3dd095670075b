//! Livret's web app: the candidate's device. Keys are made here and kept in IndexedDB locked
//! by a passphrase; each dossier is an automerge document (through `livret-shared`), saved
//! to IndexedDB — sealed to the device — on every keystroke.

mod clock;
mod editor;
mod i18n;
mod idb;
mod jury;
mod metrics;
mod session;
mod ws;

use i18n::Lang;
use leptos::prelude::*;
use leptos::task::spawn_local;
use livret_shared::keys::{DeviceSecret, PASSPHRASE_WORK_FACTOR};
use livret_shared::membership::Role;
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

/// A message for the user, worded in both languages and shown in the one chosen: drawn
/// again on a switch, since a message not understood is a likely reason to switch. What the
/// session reports comes worded once, in the language of the moment ([`Message::as_is`]).
#[derive(Clone, Debug, PartialEq)]
struct Message {
    fr: String,
    en: String,
}

impl Message {
    fn new(fr: impl Into<String>, en: impl Into<String>) -> Message {
        Message {
            fr: fr.into(),
            en: en.into(),
        }
    }

    fn as_is(text: String) -> Message {
        Message {
            fr: text.clone(),
            en: text,
        }
    }

    /// The text in the language shown (tracked).
    fn text(&self) -> String {
        if i18n::en() {
            self.en.clone()
        } else {
            self.fr.clone()
        }
    }
}

/// Said while the recovery kit lets this device in (at the first run, or later).
fn recovering() -> Message {
    Message::new(
        "Récupération de vos dossiers avec le kit de secours…",
        "Recovering your dossiers with the recovery kit…",
    )
}

/// Said once the recovery kit let this device in to `n` dossiers.
fn recovered(n: usize) -> Message {
    Message::new(
        format!("Kit de secours accepté : {n} dossier(s) récupéré(s)."),
        format!("Recovery kit accepted: {n} dossier(s) recovered."),
    )
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

/// The token of an invitation link (`#invitation=<token>`), the address the relay mailed.
fn invitation_in_address() -> Option<String> {
    let hash = web_sys::window()?.location().hash().ok()?;
    let token = hash.strip_prefix("#invitation=")?;
    (token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())).then(|| token.to_string())
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
    let notice = RwSignal::new(None::<Message>);
    // The tab's title speaks the page's language too.
    Effect::new(move |_| {
        let title = i18n::t("Livret — dossiers VAE", "Livret — VAE dossiers");
        if let Some(document) = web_sys::window().and_then(|w| w.document()) {
            document.set_title(title);
        }
    });
    spawn_local(async move {
        screen.set(match session::open_storage().await {
            Ok(true) => Screen::Locked,
            Ok(false) => Screen::FirstRun,
            Err(e) => Screen::Failed(e),
        });
    });
    view! {
        <header class="banner">
            <nav class="langues" aria-label=move || i18n::t("Langue", "Language")>
                <LanguageSwitch/>
            </nav>
            <h1>"Livret"</h1>
            <p class="tagline">
                {move || i18n::t(
                    "Votre livret 2 de VAE, écrit à votre rythme, même hors ligne, chiffré de bout en bout.",
                    "Your VAE Livret 2, written at your own pace, even offline, end-to-end encrypted.",
                )}
            </p>
        </header>
        <main id="contenu">
            {move || match screen.get() {
                Screen::Loading => view! {
                    <p aria-busy="true">{move || i18n::t("Chargement…", "Loading…")}</p>
                }
                .into_any(),
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
                    <p class="erreur" role="alert">
                        {move || if i18n::en() {
                            format!("Livret cannot start: {e}")
                        } else {
                            format!("Livret ne peut pas démarrer : {e}")
                        }}
                    </p>
                }
                .into_any(),
            }}
        </main>
        <footer>
            <p>
                {move || i18n::t(
                    "Le relais Livret ne voit que des données chiffrées.",
                    "The Livret relay only ever sees encrypted data.",
                )}
            </p>
        </footer>
    }
}

/// Switches between French and English, on every screen. Named in the language it switches
/// to, and marked so (`lang`), for a screen reader to say it in that language (RGAA 8.7,
/// WCAG 3.1.2). The same button stays, only its text changes: the focus stays on it.
#[component]
fn LanguageSwitch() -> impl IntoView {
    let other = move || match i18n::lang() {
        Lang::Fr => Lang::En,
        Lang::En => Lang::Fr,
    };
    view! {
        <button type="button" id="langue" class="secondaire" lang=move || other().tag()
            on:click=move |_| i18n::set(other())>
            {move || match other() {
                Lang::En => "English",
                Lang::Fr => "Français",
            }}
        </button>
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
fn FirstRun(screen: RwSignal<Screen>, notice: RwSignal<Option<Message>>) -> impl IntoView {
    let passphrase = RwSignal::new(String::new());
    let confirmation = RwSignal::new(String::new());
    let start = RwSignal::new(Start::First);
    let kit_text = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<Message>);
    let busy = RwSignal::new(None::<Message>);
    // The recovery kit, shown once after the keys are made (first device only).
    let kit = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (p, c) = (passphrase.get(), confirmation.get());
        if p.chars().count() < MIN_PASSPHRASE_CHARS {
            problem.set(Some(Message::new(
                format!(
                    "Choisissez une phrase de passe d'au moins {MIN_PASSPHRASE_CHARS} caractères."
                ),
                format!("Choose a passphrase of at least {MIN_PASSPHRASE_CHARS} characters."),
            )));
            return;
        }
        if p != c {
            problem.set(Some(Message::new(
                "Les deux phrases de passe diffèrent.",
                "The two passphrases differ.",
            )));
            return;
        }
        let how = start.get();
        let recovery = kit_text.get();
        if how == Start::Kit && DeviceSecret::from_secret_string(&recovery).is_err() {
            problem.set(Some(Message::new(
                "Ce kit de secours est illisible : recopiez ses deux lignes en entier.",
                "This recovery kit cannot be read: copy both of its lines in full.",
            )));
            return;
        }
        problem.set(None);
        busy.set(Some(Message::new(
            "Création de vos clés et de leur coffre… (quelques secondes)",
            "Making your keys and their vault… (a few seconds)",
        )));
        spawn_local(async move {
            // Let the progress message paint before the (deliberately slow) key derivation.
            session::yield_to_browser().await;
            let device = DeviceSecret::generate();
            let locked = device.lock(&p, PASSPHRASE_WORK_FACTOR);
            if let Err(e) = session::create_identity(device, &locked).await {
                busy.set(None);
                problem.set(Some(Message::as_is(e)));
                return;
            }
            match how {
                Start::First => match session::make_recovery_kit().await {
                    Ok(secret) => kit.set(Some(secret)),
                    Err(e) => {
                        notice.set(Some(Message::new(
                            format!("Kit de secours non créé : {e}"),
                            format!("Recovery kit not made: {e}"),
                        )));
                        screen.set(Screen::Home);
                    }
                },
                Start::OtherDevice => screen.set(Screen::Home),
                Start::Kit => {
                    busy.set(Some(recovering()));
                    notice.set(Some(match session::recover(&recovery).await {
                        Ok(n) => recovered(n),
                        Err(e) => Message::new(
                            format!(
                                "La récupération n'a pas abouti : {e} Réessayez depuis « Mes appareils »."
                            ),
                            format!("Recovery did not succeed: {e} Try again from “My devices”."),
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
                <h2 id="titre-bienvenue">{move || i18n::t("Bienvenue", "Welcome")}</h2>
                <p>
                    {move || i18n::t(
                        "Livret crée sur cet appareil vos clés de chiffrement. Elles ne le quittent \
                         pas : une phrase de passe les protège. Sans elle, personne — ni nous, ni le \
                         relais — ne peut lire votre dossier.",
                        "Livret makes your encryption keys on this device. They never leave it: a \
                         passphrase protects them. Without it, no one — not us, not the relay — can \
                         read your dossier.",
                    )}
                </p>
                <form on:submit=submit>
                    <fieldset>
                        <legend>{move || i18n::t("Cet appareil est…", "This device is…")}</legend>
                        <div class="case">
                            <input type="radio" id="mode-premier" name="mode" checked
                                on:change=choose(Start::First)/>
                            <label for="mode-premier">
                                {move || i18n::t("mon premier appareil Livret", "my first Livret device")}
                            </label>
                        </div>
                        <div class="case">
                            <input type="radio" id="mode-autre-appareil" name="mode"
                                on:change=choose(Start::OtherDevice)/>
                            <label for="mode-autre-appareil">
                                {move || i18n::t(
                                    "un appareil de plus (j'utilise déjà Livret ailleurs)",
                                    "one more device (I already use Livret elsewhere)",
                                )}
                            </label>
                        </div>
                        <div class="case">
                            <input type="radio" id="mode-kit" name="mode"
                                on:change=choose(Start::Kit)/>
                            <label for="mode-kit">
                                {move || i18n::t(
                                    "un nouvel appareil, avec mon kit de secours",
                                    "a new device, with my recovery kit",
                                )}
                            </label>
                        </div>
                    </fieldset>
                    <Show when=move || start.get() == Start::Kit>
                        <label for="kit">
                            {move || i18n::t("Kit de secours (les deux lignes)", "Recovery kit (both lines)")}
                        </label>
                        <textarea id="kit" rows="3" autocomplete="off" spellcheck="false"
                            on:input=move |ev| kit_text.set(event_target_value(&ev))
                            prop:value=kit_text></textarea>
                    </Show>
                    <label for="phrase">
                        {move || i18n::t("Phrase de passe de cet appareil", "Passphrase for this device")}
                    </label>
                    <input id="phrase" type="password" autocomplete="new-password" required
                        aria-describedby="phrase-aide"
                        on:input=move |ev| passphrase.set(event_target_value(&ev))
                        prop:value=passphrase/>
                    <p id="phrase-aide" class="aide">
                        {move || if i18n::en() {
                            format!("At least {MIN_PASSPHRASE_CHARS} characters; a short sentence that is easy to remember will do.")
                        } else {
                            format!("Au moins {MIN_PASSPHRASE_CHARS} caractères ; une courte phrase facile à retenir convient.")
                        }}
                    </p>
                    <label for="phrase-confirmation">
                        {move || i18n::t("Confirmez la phrase de passe", "Confirm the passphrase")}
                    </label>
                    <input id="phrase-confirmation" type="password" autocomplete="new-password" required
                        on:input=move |ev| confirmation.set(event_target_value(&ev))
                        prop:value=confirmation/>
                    <button type="submit" id="creer-identite" disabled=move || busy.get().is_some()>
                        {move || i18n::t("Créer mes clés", "Create my keys")}
                    </button>
                </form>
                {move || busy.get().map(|b| view! { <p role="status" aria-live="polite">{b.text()}</p> })}
                {move || problem.get().map(|p| view! { <p class="erreur" role="alert">{p.text()}</p> })}
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
            <h2 id="titre-kit">{move || i18n::t("Votre kit de secours", "Your recovery kit")}</h2>
            <p>
                {move || i18n::t(
                    "Imprimez cette page ou recopiez les deux lignes ci-dessous, et rangez-les en lieu \
                     sûr. Si vous perdez cet appareil ou oubliez sa phrase de passe, ce kit permet à un \
                     nouvel appareil de retrouver vos dossiers. Quiconque le détient le peut aussi : ne \
                     l'envoyez à personne, ne le photographiez pas.",
                    "Print this page or copy the two lines below, and keep them somewhere safe. If you \
                     lose this device or forget its passphrase, this kit lets a new device get your \
                     dossiers back. Anyone who holds it can do the same: send it to no one, and do not \
                     take a photo of it.",
                )}
            </p>
            <pre class="secret" data-testid="kit-secours">{secret}</pre>
            <p class="pas-imprime">
                {move || i18n::t("Livret ne le réaffichera pas.", "Livret will not show it again.")}
            </p>
            <div class="actions pas-imprime">
                <button type="button" id="imprimer-kit" on:click=print>
                    {move || i18n::t("Imprimer le kit", "Print the kit")}
                </button>
                <button type="button" id="kit-range" on:click=move |_| done.run(())>
                    {move || i18n::t("J'ai rangé mon kit, continuer", "I have put my kit away, continue")}
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
            <h2 id="titre-deverrouiller">{move || i18n::t("Déverrouiller Livret", "Unlock Livret")}</h2>
            <form on:submit=submit>
                <label for="phrase">{move || i18n::t("Phrase de passe", "Passphrase")}</label>
                <input id="phrase" type="password" autocomplete="current-password" required
                    on:input=move |ev| passphrase.set(event_target_value(&ev))
                    prop:value=passphrase/>
                <button type="submit" id="deverrouiller" disabled=busy>
                    {move || i18n::t("Déverrouiller", "Unlock")}
                </button>
            </form>
            <Show when=move || busy.get()>
                <p role="status" aria-live="polite">
                    {move || i18n::t("Ouverture du coffre de clés…", "Opening the key vault…")}
                </p>
            </Show>
            {move || problem.get().map(|p| view! { <p class="erreur" role="alert">{p}</p> })}
        </section>
    }
}

#[component]
fn Home(screen: RwSignal<Screen>, notice: RwSignal<Option<Message>>) -> impl IntoView {
    // The built-in référentiels, then those imported on this device.
    let all = RwSignal::new(built_in());
    spawn_local(async move {
        if let Ok(imported) = session::imported_referentiels().await {
            all.update(|a| a.extend(imported.into_iter().map(|(id, r)| (id, Ok(r)))));
        }
    });
    // Each readable référentiel: its id, title and RNCP number.
    let choices = move || -> Vec<(String, Option<String>, Option<String>)> {
        all.with(|a| {
            a.iter()
                .filter_map(|(id, r)| {
                    let r = r.as_ref().ok()?;
                    Some((id.clone(), r.title.clone(), r.rncp.clone()))
                })
                .collect()
        })
    };
    // An option's text alone follows the language: the options stay, and the one chosen too.
    let option = |(id, title, rncp): (String, Option<String>, Option<String>)| {
        let label = {
            let id = id.clone();
            move || {
                let title = title.clone().unwrap_or_else(|| {
                    if i18n::en() {
                        format!("Framework {id}")
                    } else {
                        format!("Référentiel {id}")
                    }
                });
                match &rncp {
                    Some(rncp) => format!("{title} ({rncp})"),
                    None => title,
                }
            }
        };
        view! { <option value=id>{label}</option> }
    };
    let chosen = RwSignal::new(choices().first().map(|c| c.0.clone()).unwrap_or_default());
    let dossiers = RwSignal::new(None::<Result<Vec<session::DossierSummary>, String>>);
    // Dossiers shared with this device, or made on another of the candidate's, are found
    // by asking the relay (when it answers; the local list shows first).
    let searching = RwSignal::new(None::<Message>);
    let running = RwSignal::new(false);
    // Devices to confirm as the candidate's (see `session::discover`), shown with the list.
    let proposals = RwSignal::new(Vec::<session::DeviceProposal>::new());
    let ask_about_devices = move || {
        spawn_local(async move {
            if let Ok(p) = session::device_proposals().await {
                let _ = proposals.try_set(p);
            }
        });
    };
    let search = move || {
        // One search at a time: a second would find the first one's dossiers already here.
        if running.get_untracked() {
            return;
        }
        running.set(true);
        searching.set(Some(Message::new(
            "Recherche de vos dossiers sur le relais…",
            "Looking for your dossiers on the relay…",
        )));
        spawn_local(async move {
            let found = session::discover().await;
            searching.set(Some(match &found {
                Ok(0) => Message::new(
                    "Aucun nouveau dossier sur le relais.",
                    "No new dossiers on the relay.",
                ),
                Ok(n) => Message::new(
                    format!("{n} nouveau(x) dossier(s) reçu(s) du relais."),
                    format!("{n} new dossier(s) received from the relay."),
                ),
                Err(e) => Message::new(
                    format!("Relais injoignable pour l'instant ({e})."),
                    format!("The relay cannot be reached for now ({e})."),
                ),
            }));
            if matches!(found, Ok(n) if n > 0) {
                dossiers.set(Some(session::list_dossiers().await));
            }
            ask_about_devices();
            running.set(false);
        });
    };
    spawn_local(async move {
        dossiers.set(Some(session::list_dossiers().await));
        search();
    });
    // Opened from an invitation link: answer it with this device's identity, show the
    // safety code to give the candidate, then look for the dossier now and then until the
    // candidate has given access (while this page is open).
    if let Some(token) = invitation_in_address() {
        set_address(None);
        notice.set(Some(Message::new(
            "Réponse à l'invitation…",
            "Answering the invitation…",
        )));
        spawn_local(async move {
            let accepted = session::accept_invitation(&token).await;
            let code = session::safety_code();
            let answered = accepted.is_ok();
            let _ = notice.try_set(Some(match accepted {
                Ok(role) => {
                    let (fr, en) = match role {
                        Role::Juror => ("juré", "juror"),
                        _ => ("accompagnateur", "advisor"),
                    };
                    Message::new(
                        format!(
                            "Invitation acceptée ({fr}). Votre code de sécurité : {code}. \
                             Donnez-le au candidat : il doit voir le même avant de vous donner \
                             accès. Le dossier apparaîtra ici ensuite."
                        ),
                        format!(
                            "Invitation accepted ({en}). Your safety code: {code}. Give it to \
                             the candidate: they must see the same one before giving you \
                             access. The dossier will then show here."
                        ),
                    )
                }
                Err(e) => Message::new(
                    format!("Invitation non acceptée : {e}"),
                    format!("Invitation not accepted: {e}"),
                ),
            }));
            if !answered {
                return;
            }
            // Bounded: about ten minutes, and never after the page has moved on.
            for _ in 0..200 {
                session::sleep(3_000).await;
                match running.try_get_untracked() {
                    None => return,
                    // A search the user started is under way: it will find it.
                    Some(true) => continue,
                    Some(false) => {}
                }
                running.set(true);
                let found = session::discover().await;
                let _ = running.try_set(false);
                if matches!(found, Ok(n) if n > 0) {
                    let _ = dossiers.try_set(Some(session::list_dossiers().await));
                    ask_about_devices();
                    return;
                }
            }
        });
    }
    let problem = RwSignal::new(None::<Message>);
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let id = chosen.get();
        // The référentiels already read for this page, not read again.
        let Some(r) = all.with_untracked(|all| {
            all.iter()
                .find(|(i, _)| *i == id)
                .and_then(|(_, r)| r.as_ref().ok().cloned())
        }) else {
            problem.set(Some(Message::new(
                "Référentiel introuvable.",
                "Framework not found.",
            )));
            return;
        };
        spawn_local(async move {
            match session::create_dossier(&r).await {
                Ok(id) => screen.set(Screen::Dossier(id)),
                Err(e) => problem.set(Some(Message::as_is(e))),
            }
        });
    };
    let identity = session::identity_line();
    view! {
        {move || notice.get().map(|n| view! { <p class="carte annonce" role="status" data-testid="annonce">{n.text()}</p> })}
        <section aria-labelledby="titre-dossiers" class="carte">
            <h2 id="titre-dossiers">{move || i18n::t("Mes dossiers", "My dossiers")}</h2>
            <p class="discret">
                <span role="status" data-testid="recherche-dossiers">
                    {move || searching.get().map(|s| s.text())}
                </span>
                " "
                <button type="button" id="rechercher-dossiers" class="lien" on:click=move |_| search()>
                    {move || i18n::t("Rechercher mes dossiers", "Look for my dossiers")}
                </button>
            </p>
            {move || match dossiers.get() {
                None => view! {
                    <p aria-busy="true">{move || i18n::t("Lecture des dossiers…", "Reading your dossiers…")}</p>
                }
                .into_any(),
                Some(Err(e)) => view! { <p class="erreur" role="alert">{e}</p> }.into_any(),
                Some(Ok(list)) if list.is_empty() => view! {
                    <p>{move || i18n::t("Aucun dossier pour l'instant.", "No dossiers yet.")}</p>
                }
                .into_any(),
                Some(Ok(list)) => view! {
                    <ul class="dossiers" data-testid="dossiers">
                        {list.into_iter().enumerate().map(|(n, d)| {
                            let id = d.id.clone();
                            let title = move || d.title.clone().unwrap_or_else(|| {
                                i18n::t("Dossier sans certification", "Dossier without a certification").into()
                            });
                            view! {
                                <li>
                                    <button class="lien" id=format!("ouvrir-{n}") data-dossier=d.id.clone()
                                        on:click=move |_| screen.set(Screen::Dossier(id.clone()))>
                                        {title}
                                    </button>
                                    {move || if i18n::en() {
                                        format!(" — {} activity sheet(s)", d.fiches)
                                    } else {
                                        format!(" — {} fiche(s) activité", d.fiches)
                                    }}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }
                .into_any(),
            }}
            <DeviceProposals proposals=proposals/>
        </section>
        <section aria-labelledby="titre-nouveau" class="carte">
            <h2 id="titre-nouveau">{move || i18n::t("Nouveau dossier", "New dossier")}</h2>
            <form on:submit=create>
                <label for="referentiel">
                    {move || i18n::t("Certification visée", "Target qualification")}
                </label>
                <select id="referentiel" on:change=move |ev| chosen.set(event_target_value(&ev))
                    prop:value=chosen>
                    {move || choices().into_iter().map(option).collect_view()}
                </select>
                <button type="submit" id="creer-dossier">
                    {move || i18n::t("Créer le dossier", "Create the dossier")}
                </button>
            </form>
            {move || problem.get().map(|p| view! { <p class="erreur" role="alert">{p.text()}</p> })}
        </section>
        <MyDevices identity=identity dossiers=dossiers/>
        <section aria-labelledby="titre-referentiels" class="carte">
            <h2 id="titre-referentiels">
                {move || i18n::t("Référentiels disponibles", "Available frameworks (référentiels)")}
            </h2>
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
    let status = RwSignal::new(None::<Result<Message, Message>>);
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
            status.set(Some(Err(Message::new(
                "Choisissez d'abord un fichier.",
                "Choose a file first.",
            ))));
            return;
        };
        busy.set(true);
        let name = file.name();
        status.set(Some(Ok(Message::new(
            format!("Lecture de « {name} »…"),
            format!("Reading “{name}”…"),
        ))));
        spawn_local(async move {
            let result = session::import_referentiel(&file).await;
            status.set(Some(match result {
                Ok(found) => {
                    // Each one found, named by its title (or as untitled) and its shape.
                    let names = |untitled: &str| {
                        found
                            .iter()
                            .map(|(_, r)| {
                                let title = r.title.as_deref().unwrap_or(untitled);
                                format!(
                                    "{title} ({})",
                                    r.shape()
                                        .iter()
                                        .map(usize::to_string)
                                        .collect::<Vec<_>>()
                                        .join(" / ")
                                )
                            })
                            .collect::<Vec<_>>()
                    };
                    let imported = Message::new(
                        format!("Importé : {}.", names("sans titre").join(" ; ")),
                        format!("Imported: {}.", names("untitled").join("; ")),
                    );
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
                    Ok(imported)
                }
                Err(e) => Err(Message::new(
                    format!("« {name} » : {e}"),
                    format!("“{name}”: {e}"),
                )),
            }));
            busy.set(false);
        });
    };
    view! {
        <form class="import-referentiel" on:submit=submit>
            <label for="referentiel-fichier">
                {move || i18n::t(
                    "Importer un référentiel (PDF, texte ou export XML de France Compétences)",
                    "Import a framework (PDF, text or France Compétences XML export)",
                )}
            </label>
            <input type="file" id="referentiel-fichier" accept=".pdf,.txt,.md,.xml,.html,.htm"/>
            <button type="submit" id="importer-referentiel" disabled=busy>
                {move || i18n::t("Importer", "Import")}
            </button>
        </form>
        {move || status.get().map(|s| match s {
            Ok(m) => view! { <p role="status" data-testid="import-etat">{m.text()}</p> }.into_any(),
            Err(e) => view! { <p class="erreur" role="alert" data-testid="import-etat">{e.text()}</p> }.into_any(),
        })}
    }
}

/// Devices that created dossiers this device owns and are not known as the candidate's:
/// each is confirmed (safety codes compared) or refused by the candidate, never taken as
/// theirs silently — a stranger who adds this device to a dossier of their own must not
/// become an owner of the candidate's next dossiers.
#[component]
fn DeviceProposals(proposals: RwSignal<Vec<session::DeviceProposal>>) -> impl IntoView {
    let answer = move |identity: String, mine: bool| {
        spawn_local(async move {
            if let Ok(left) = session::answer_device_proposal(&identity, mine).await {
                let _ = proposals.try_set(left);
            }
        });
    };
    move || {
        let list = proposals.get();
        (!list.is_empty()).then(|| {
            view! {
                <div class="propositions" role="group" aria-labelledby="titre-propositions">
                    <h3 id="titre-propositions">
                        {move || i18n::t("Est-ce l'un de vos appareils ?", "Is this one of your devices?")}
                    </h3>
                    <p>
                        {move || i18n::t(
                            "Un appareil a créé des dossiers auxquels celui-ci a accès comme candidat. \
                             S'il est à vous, il affiche le même code de sécurité sous « Mes appareils ». \
                             Sinon, quelqu'un cherche à se faire passer pour vous : refusez-le.",
                            "A device created dossiers this one can open as the candidate. If it is \
                             yours, it shows the same safety code under « My devices ». If not, \
                             someone is trying to pass for you: refuse it.",
                        )}
                    </p>
                    <ul data-testid="appareils-proposes">
                        {list.into_iter().map(|p| {
                            let (yes, no) = (p.identity.clone(), p.identity.clone());
                            view! {
                                <li data-code=p.code.clone()>
                                    {move || i18n::t("Code de sécurité : ", "Safety code: ")}
                                    <strong>{p.code.clone()}</strong>" "
                                    <button type="button" class="confirmer-appareil"
                                        on:click=move |_| answer(yes.clone(), true)>
                                        {move || i18n::t("C'est mon appareil", "It is my device")}
                                    </button>" "
                                    <button type="button" class="refuser-appareil"
                                        on:click=move |_| answer(no.clone(), false)>
                                        {move || i18n::t("Ce n'est pas le mien", "It is not mine")}
                                    </button>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                </div>
            }
        })
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
    let status = RwSignal::new(None::<Result<Message, Message>>);
    let busy = RwSignal::new(false);
    let pair = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let line = other.get();
        busy.set(true);
        status.set(Some(Ok(Message::new(
            "Ajout de l'appareil à vos dossiers…",
            "Adding the device to your dossiers…",
        ))));
        spawn_local(async move {
            status.set(Some(match session::add_own_device(&line).await {
                Ok(n) => {
                    other.set(String::new());
                    Ok(Message::new(
                        format!("Appareil ajouté à {n} dossier(s)."),
                        format!("Device added to {n} dossier(s)."),
                    ))
                }
                Err(e) => Err(Message::new(
                    format!("Appareil non ajouté : {e}"),
                    format!("Device not added: {e}"),
                )),
            }));
            busy.set(false);
        });
    };
    let use_kit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let kit = kit_text.get();
        busy.set(true);
        status.set(Some(Ok(recovering())));
        spawn_local(async move {
            let result = session::recover(&kit).await;
            status.set(Some(match result {
                Ok(n) => {
                    kit_text.set(String::new());
                    Ok(recovered(n))
                }
                Err(e) => Err(Message::as_is(e)),
            }));
            dossiers.set(Some(session::list_dossiers().await));
            busy.set(false);
        });
    };
    view! {
        <section aria-labelledby="titre-appareil" class="carte">
            <h2 id="titre-appareil">{move || i18n::t("Mes appareils", "My devices")}</h2>
            <p>
                {move || i18n::t(
                    "Identité publique de cet appareil (à transmettre pour qu'on partage un dossier avec \
                     vous, ou à coller sur votre autre appareil) :",
                    "This device's public identity (to give to someone who will share a dossier with \
                     you, or to paste on your other device):",
                )}
            </p>
            <p><code class="identite" data-testid="identite">{identity}</code></p>
            <p>
                {move || i18n::t("Code de sécurité de cet appareil : ", "This device's safety code: ")}
                <strong data-testid="code-securite">{session::safety_code()}</strong>
            </p>
            <form on:submit=pair>
                <label for="appareil-identite">
                    {move || i18n::t(
                        "Ajouter un autre de mes appareils (son identité publique)",
                        "Add another of my devices (its public identity)",
                    )}
                </label>
                <input id="appareil-identite" type="text" autocomplete="off" spellcheck="false"
                    placeholder="livret1:…" required
                    on:input=move |ev| other.set(event_target_value(&ev)) prop:value=other/>
                <button type="submit" id="ajouter-appareil" disabled=busy>
                    {move || i18n::t("Ajouter cet appareil", "Add this device")}
                </button>
            </form>
            <details>
                <summary>
                    {move || i18n::t(
                        "Appareil perdu ? Utiliser mon kit de secours",
                        "Lost a device? Use my recovery kit",
                    )}
                </summary>
                <form on:submit=use_kit>
                    <label for="kit-secours">
                        {move || i18n::t("Kit de secours (les deux lignes)", "Recovery kit (both lines)")}
                    </label>
                    <textarea id="kit-secours" rows="3" autocomplete="off" spellcheck="false" required
                        on:input=move |ev| kit_text.set(event_target_value(&ev))
                        prop:value=kit_text></textarea>
                    <button type="submit" id="utiliser-kit" disabled=busy>
                        {move || i18n::t("Récupérer mes dossiers", "Recover my dossiers")}
                    </button>
                </form>
            </details>
            {move || status.get().map(|s| match s {
                Ok(m) => view! { <p role="status" data-testid="appareils-etat">{m.text()}</p> }.into_any(),
                Err(e) => view! { <p class="erreur" role="alert" data-testid="appareils-etat">{e.text()}</p> }.into_any(),
            })}
        </section>
    }
}

#[component]
fn ReferentielCard(id: String, result: Result<Referentiel, String>) -> impl IntoView {
    match result {
        Ok(r) => {
            let title = r.title.clone();
            let title = move || {
                title.clone().unwrap_or_else(|| {
                    i18n::t("Référentiel sans titre", "Untitled framework").into()
                })
            };
            let rncp = r.rncp.clone().unwrap_or_default();
            let shape = r
                .shape()
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(" / ");
            let count = r.competences().count();
            let blocs = r
                .blocs
                .iter()
                .map(|b| {
                    let (kind, number, title, competences) =
                        (b.kind, b.number, b.title.clone(), b.competences.len());
                    let label = move || {
                        let kind = match kind {
                            referentiel::BlocKind::Bloc => i18n::t("Bloc", "Block"),
                            referentiel::BlocKind::Activite => i18n::t("Activité", "Activity"),
                        };
                        let title = title.clone().unwrap_or_else(|| {
                            i18n::t("intitulé illisible", "unreadable title").into()
                        });
                        if i18n::en() {
                            format!("{kind} {number} — {title} ({competences} skills)")
                        } else {
                            format!("{kind} {number} — {title} ({competences} compétences)")
                        }
                    };
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
                        {move || if i18n::en() {
                            format!(" — {count} skills")
                        } else {
                            format!(" — {count} compétences")
                        }}
                    </p>
                    <details>
                        <summary>{move || i18n::t("Voir les blocs", "Show the blocks")}</summary>
                        <ul>{blocs}</ul>
                    </details>
                </li>
            }
            .into_any()
        }
        Err(e) => view! {
            <li class="referentiel erreur" data-id=id role="alert">
                {move || if i18n::en() {
                    format!("Import failed: {e}")
                } else {
                    format!("Import impossible : {e}")
                }}
            </li>
        }
        .into_any(),
    }
}
