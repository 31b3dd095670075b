//! The first screens of a device: its first run (the candidate's first device, another of
//! theirs, or one let in with the recovery kit), the recovery kit shown once, the unlock.

mod recovery_kit;
mod unlock;

pub use recovery_kit::RecoveryKit;
pub use unlock::Unlock;

use leptos::prelude::*;
use leptos::task::spawn_local;
use livret_shared::keys::{DeviceSecret, PASSPHRASE_WORK_FACTOR};

use crate::i18n;
use crate::{AppState, Message, Screen, recovered, recovering, session};

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

/// The first run; `recover`, the kit, when this device starts again with it (its passphrase
/// forgotten: see « Phrase de passe oubliée ? »).
#[component]
pub fn FirstRun(#[prop(optional, into)] recover: Option<String>) -> impl IntoView {
    let AppState { screen, notice } = AppState::get();
    let passphrase = RwSignal::new(String::new());
    let confirmation = RwSignal::new(String::new());
    let start = RwSignal::new(if recover.is_some() {
        Start::Kit
    } else {
        Start::First
    });
    let kit_text = RwSignal::new(recover.unwrap_or_default());
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
        if how == Start::Kit && DeviceSecret::from_kit(&recovery).is_err() {
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
                problem.set(Some(Message::error(e)));
                return;
            }
            match how {
                Start::First => match session::make_recovery_kit().await {
                    Ok(secret) => kit.set(Some(secret)),
                    Err(e) => {
                        notice.set(Some(Message::new(
                            format!("Kit de secours non créé : {e}", e = e.words(false)),
                            format!("Recovery kit not made: {e}", e = e.words(true)),
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
                         serveur — ne peut lire votre dossier.",
                        "Livret makes your encryption keys on this device. They never leave it: a \
                         passphrase protects them. Without it, no one — not us, not the server — can \
                         read your dossier.",
                    )}
                </p>
                <form on:submit=submit>
                    <fieldset>
                        <legend>{move || i18n::t("Cet appareil est…", "This device is…")}</legend>
                        <div class="case">
                            <input type="radio" id="mode-premier" name="mode"
                                prop:checked=move || start.get() == Start::First
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
                                prop:checked=move || start.get() == Start::Kit
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
