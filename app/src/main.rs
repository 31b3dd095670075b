//! Livret's web app: the candidate's device. Keys are made here and kept in IndexedDB locked
//! by a passphrase; each dossier is an automerge document (through `livret-shared`), saved
//! to IndexedDB — sealed to the device — on every keystroke.

//!
//! `screens/` holds a folder per screen (start, home, editor, jury); `session/` the device,
//! its storage and its relay connection, by concern. What several components of the app
//! share is provided by context ([`AppState`]; the editor's `EditorState`).

mod clock;
mod i18n;
mod idb;
mod metrics;
mod screens;
mod session;
mod ws;

use i18n::Lang;
use leptos::prelude::*;
use leptos::task::spawn_local;
use screens::editor;
use screens::home::Home;
use screens::start::{FirstRun, Unlock};

fn main() {
    console_error_panic_hook::set_once();
    i18n::init();
    leptos::mount::mount_to_body(App);
}

/// A message for the user, worded in both languages and shown in the one chosen: drawn
/// again on a switch, since a message not understood is a likely reason to switch. What the
/// session reports carries both languages too ([`Message::error`]).
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

    /// What the session reported: worded again when the language changes.
    fn error(e: session::Error) -> Message {
        Message {
            fr: e.words(false),
            en: e.words(true),
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

/// A recovery kit on its way from the unlock screen to the first run: never printed.
#[derive(Clone, PartialEq)]
struct KitText(String);

impl std::fmt::Debug for KitText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KitText([secret])")
    }
}

/// Where the user is. Dossier ids travel as their hex form.
#[derive(Clone, Debug, PartialEq)]
enum Screen {
    Loading,
    FirstRun,
    /// The first run again, with the recovery kit (checked with the relay): the passphrase
    /// was forgotten.
    Recover(KitText),
    Locked,
    Home,
    Dossier(String),
    /// A jury session (shared like a dossier, shown on a page of its own).
    Session(String),
    /// The privacy notice, over the screen it was asked from (where « Retour » goes).
    Privacy(Box<Screen>),
    Failed(session::Error),
}

/// Shows the privacy notice, from wherever the user is.
fn show_privacy(screen: RwSignal<Screen>) {
    screen.update(|s| {
        if !matches!(s, Screen::Privacy(_)) {
            *s = Screen::Privacy(Box::new(s.clone()));
        }
    });
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

/// What every screen may read and change, provided by [`App`] as context.
#[derive(Clone, Copy)]
struct AppState {
    /// Where the user is.
    screen: RwSignal<Screen>,
    /// A message for the home page from the screen before it.
    notice: RwSignal<Option<Message>>,
}

impl AppState {
    /// The app's state, from any component under [`App`].
    fn get() -> AppState {
        expect_context::<AppState>()
    }
}

#[component]
fn App() -> impl IntoView {
    let screen = RwSignal::new(Screen::Loading);
    let notice = RwSignal::new(None::<Message>);
    provide_context(AppState { screen, notice });
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
                Screen::FirstRun => view! { <FirstRun/> }.into_any(),
                Screen::Recover(KitText(kit)) => view! { <FirstRun recover=kit/> }.into_any(),
                Screen::Locked => view! { <Unlock/> }.into_any(),
                Screen::Home => view! { <Home/> }.into_any(),
                Screen::Dossier(id) => {
                    set_address(Some(&id));
                    let back = Callback::new(move |()| {
                        set_address(None);
                        screen.set(Screen::Home)
                    });
                    view! { <editor::Editor id=id back=back/> }.into_any()
                }
                Screen::Session(id) => {
                    let back = Callback::new(move |()| screen.set(Screen::Home));
                    let open = Callback::new(move |dossier: String| screen.set(Screen::Dossier(dossier)));
                    view! { <screens::session::SessionJury id=id back=back open=open/> }.into_any()
                }
                Screen::Privacy(before) => {
                    let back = Callback::new(move |()| screen.set((*before).clone()));
                    view! { <screens::privacy::Privacy back=back/> }.into_any()
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
                    "Le serveur Livret ne voit que des données chiffrées.",
                    "The Livret server only ever sees encrypted data.",
                )}
                " "
                <button type="button" class="lien" id="voir-confidentialite"
                    on:click=move |_| show_privacy(screen)>
                    {move || i18n::t("Confidentialité", "Privacy")}
                </button>
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
