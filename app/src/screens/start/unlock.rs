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
    let confirming = RwSignal::new(false);
    let kit = RwSignal::new(String::new());
    let kit_problem = RwSignal::new(None::<String>);
    let checking = RwSignal::new(false);
    let wiping = RwSignal::new(false);
    // The kit first, checked with the server: without it, nothing is forgotten (anyone at
    // this screen could otherwise wipe the candidate's unsent work).
    let forget = move |_| {
        let given = kit.get_untracked();
        checking.set(true);
        kit_problem.set(None);
        spawn_local(async move {
            let outcome = match session::check_kit_for_this_device(&given).await {
                Ok(()) => {
                    let _ = wiping.try_set(true);
                    session::forget_this_device()
                        .await
                        .map_err(|e| e.to_string())
                }
                Err(e) => Err(e.to_string()),
            };
            let _ = checking.try_set(false);
            match outcome {
                Ok(()) => screen.set(crate::Screen::Recover(crate::KitText(given))),
                Err(e) => {
                    let _ = kit_problem.try_set(Some(e));
                }
            }
        });
    };
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
            <details class="oubli" id="phrase-oubliee">
                <summary>{move || i18n::t("Phrase de passe oubliée ?", "Forgot your passphrase?")}</summary>
                <p>{move || i18n::t(
                    "Sans elle, les clés de cet appareil restent fermées : personne ne peut les \
                     ouvrir, pas même nous. Votre kit de secours vous fait repartir : cet appareil \
                     oublie ses clés et sa copie des dossiers, puis les retrouve sur le serveur \
                     avec le kit et une nouvelle phrase de passe. Ce qui a été écrit ici sans être \
                     encore envoyé au serveur est perdu.",
                    "Without it, this device's keys stay closed: no one can open them, not even us. \
                     Your recovery kit gets you going again: this device forgets its keys and its \
                     copy of the dossiers, then gets them back from the server with the kit and a \
                     new passphrase. What was written here and not yet sent to the server is lost.",
                )}</p>
                <Show when=move || !confirming.get() fallback=move || view! {
                    <label for="kit-oubli">{move || i18n::t("Votre kit de secours (les deux lignes)", "Your recovery kit (both lines)")}</label>
                    <textarea id="kit-oubli" rows="3" autocomplete="off" spellcheck="false"
                        on:input=move |ev| kit.set(event_target_value(&ev)) prop:value=kit></textarea>
                    <div class="actions">
                        <button type="button" class="danger" id="oublier-appareil" on:click=forget disabled=checking>
                            {move || i18n::t("Vérifier le kit, oublier les clés de cet appareil et repartir", "Check the kit, forget this device's keys and start again")}
                        </button>
                        <button type="button" class="secondaire" id="garder-appareil" on:click=move |_| confirming.set(false)>
                            {move || i18n::t("Annuler", "Cancel")}
                        </button>
                    </div>
                    <Show when=move || checking.get()>
                        <p role="status">{move || if wiping.get() {
                            i18n::t("Effacement des clés et des copies de cet appareil…", "Erasing this device's keys and copies…")
                        } else {
                            i18n::t("Vérification du kit…", "Checking the kit…")
                        }}</p>
                    </Show>
                    {move || kit_problem.get().map(|p| view! { <p class="erreur" role="alert">{p}</p> })}
                }>
                    <button type="button" class="secondaire" id="repartir-avec-kit" on:click=move |_| confirming.set(true)>
                        {move || i18n::t("Repartir avec mon kit de secours", "Start again with my recovery kit")}
                    </button>
                </Show>
            </details>
        </section>
    }
}
