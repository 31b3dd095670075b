//! Unlocking this device's keys with the passphrase.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::i18n;
use crate::{AppState, after_unlock, metrics, session};

#[component]
pub fn Unlock() -> impl IntoView {
    let screen = AppState::get().screen;
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
                    problem.set(Some(e.to_string()));
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
