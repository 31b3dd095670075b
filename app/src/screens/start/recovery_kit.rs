//! The recovery kit, shown once: read in groups of four, printed or saved as a PDF, and
//! checked before the candidate goes on (its last characters typed back once it is put
//! away).

use leptos::prelude::*;
use leptos::task::spawn_local;
use livret_shared::keys::kit_groups;

use crate::{i18n, session};

/// Where the kit screen stands.
#[derive(Clone, Copy, PartialEq)]
enum Stage {
    Shown,
    /// The kit hidden, its last characters asked for.
    Checking,
}

/// How many of the kit's last characters are asked back.
const CHECKED: usize = 4;

/// The kit's last `CHECKED` characters, spaces aside, in upper case.
fn ending(kit: &str) -> String {
    let mut last: Vec<char> = kit
        .chars()
        .filter(|c| !c.is_whitespace())
        .rev()
        .take(CHECKED)
        .collect();
    last.reverse();
    last.into_iter().collect::<String>().to_uppercase()
}

/// The recovery kit, shown once: a key of the candidate's that lives on paper.
#[component]
pub fn RecoveryKit(secret: String, done: Callback<()>) -> impl IntoView {
    let stage = RwSignal::new(Stage::Shown);
    let typed = RwSignal::new(String::new());
    let wrong = RwSignal::new(false);
    let pdf = RwSignal::new(None::<Result<String, session::Error>>);
    let expected = ending(&secret);
    let lines = kit_groups(&secret);
    let print = move |_| {
        if let Some(w) = web_sys::window() {
            let _ = w.print();
        }
    };
    let for_pdf = secret.clone();
    let download = move |_| {
        let secret = for_pdf.clone();
        pdf.set(None);
        spawn_local(async move {
            let made = session::recovery_kit_pdf(&secret, i18n::en()).await;
            let _ = pdf.try_set(Some(made));
        });
    };
    let put_away = move |_| {
        stage.set(Stage::Checking);
        spawn_local(async move {
            session::sleep(0).await;
            if let Some(input) = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.get_element_by_id("kit-verification"))
                .and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(e).ok())
            {
                let _ = input.focus();
            }
        });
    };
    let check = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let given: String = typed
            .get_untracked()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_uppercase();
        if given == expected {
            done.run(());
        } else {
            wrong.set(true);
        }
    };
    let shown = view! {
        <p>
            {move || i18n::t(
                "Imprimez cette page, enregistrez le kit en PDF ou recopiez ses deux lignes, et \
                 rangez-le en lieu sûr. Si vous perdez cet appareil ou oubliez sa phrase de passe, \
                 ce kit permet de retrouver vos dossiers. Quiconque le détient le peut aussi : ne \
                 l'envoyez à personne, ne le photographiez pas.",
                "Print this page, save the kit as a PDF or copy its two lines, and keep it \
                 somewhere safe. If you lose this device or forget its passphrase, this kit gets \
                 your dossiers back. Anyone who holds it can do the same: send it to no one, and \
                 do not take a photo of it.",
            )}
        </p>
        <div class="secret" data-testid="kit-secours">
            {lines.into_iter().map(|groups| view! {
                <p class="ligne-kit">{groups.into_iter().map(|g| view! { <span class="groupe">{g}</span>" " }).collect_view()}</p>
            }).collect_view()}
        </div>
        <p class="pas-imprime">
            {move || i18n::t(
                "Livret ne le réaffichera pas. Les espaces ne comptent pas quand vous le recopiez.",
                "Livret will not show it again. Spaces do not matter when you copy it.",
            )}
        </p>
        <div class="actions pas-imprime">
            <button type="button" id="imprimer-kit" on:click=print>
                {move || i18n::t("Imprimer le kit", "Print the kit")}
            </button>
            <button type="button" class="secondaire" id="telecharger-kit" on:click=download>
                {move || i18n::t("Enregistrer le kit en PDF", "Save the kit as a PDF")}
            </button>
            <button type="button" id="kit-range" on:click=put_away>
                {move || i18n::t("J'ai rangé mon kit, continuer", "I have put my kit away, continue")}
            </button>
        </div>
        {move || pdf.get().map(|made| match made {
            Ok(url) => view! {
                <p class="pas-imprime" role="status">
                    <a href=url download="livret-kit-de-secours.pdf" data-testid="kit-pdf">
                        {move || i18n::t("Télécharger « livret-kit-de-secours.pdf »", "Download “livret-kit-de-secours.pdf”")}
                    </a>
                </p>
            }.into_any(),
            Err(e) => view! { <p class="erreur" role="alert">{move || e.to_string()}</p> }.into_any(),
        })}
    };
    let checking = view! {
        <form on:submit=check>
            <p>{move || i18n::t(
                "Vérifions que vous l'avez bien gardé : le kit n'est plus affiché.",
                "Let us check you kept it: the kit is no longer shown.",
            )}</p>
            <label for="kit-verification">{move || i18n::t(
                "Les 4 derniers caractères de la ligne 2 de votre kit",
                "The last 4 characters of line 2 of your kit",
            )}</label>
            <input type="text" id="kit-verification" autocomplete="off" spellcheck="false"
                on:input=move |ev| { typed.set(event_target_value(&ev)); wrong.set(false); }
                prop:value=typed/>
            <div class="actions">
                <button type="submit" id="kit-verifier">{move || i18n::t("Vérifier et continuer", "Check and continue")}</button>
                <button type="button" class="secondaire" id="revoir-kit" on:click=move |_| { typed.set(String::new()); wrong.set(false); stage.set(Stage::Shown); }>
                    {move || i18n::t("Revoir le kit", "See the kit again")}
                </button>
            </div>
            <Show when=move || wrong.get()>
                <p class="erreur" role="alert">{move || i18n::t(
                    "Ce ne sont pas les derniers caractères du kit : reprenez-le (« Revoir le kit »).",
                    "Those are not the kit's last characters: look at it again (« See the kit again »).",
                )}</p>
            </Show>
        </form>
    };
    view! {
        <section aria-labelledby="titre-kit" class="carte kit">
            <h2 id="titre-kit">{move || i18n::t("Votre kit de secours", "Your recovery kit")}</h2>
            <div class:masquee=move || stage.get() != Stage::Shown>{shown}</div>
            <div class:masquee=move || stage.get() != Stage::Checking>{checking}</div>
        </section>
    }
}
