//! The recovery kit, shown once: read in groups of four, printed or saved as a PDF, and
//! checked before the candidate goes on (one of its groups, drawn at random, typed back once
//! it is put away and no longer on the page).

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

/// One whole group of line 2, drawn at random (its number from 1, and the group): what
/// the check asks back.
fn drawn_group(kit: &str) -> (usize, String) {
    let groups = kit_groups(kit);
    let line2: Vec<&String> = groups
        .get(1)
        .map(|l| {
            l.iter()
                .skip(1)
                .filter(|g| g.chars().count() == 4)
                .collect()
        })
        .unwrap_or_default();
    if line2.is_empty() {
        return (0, String::new());
    }
    let at = ((js_sys::Math::random() * line2.len() as f64) as usize).min(line2.len() - 1);
    (at + 1, line2[at].to_uppercase())
}

fn focus(id: &'static str) {
    spawn_local(async move {
        session::sleep(0).await;
        if let Some(e) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id(id))
            .and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(e).ok())
        {
            let _ = e.focus();
        }
    });
}

/// The recovery kit, shown once: a key of the candidate's that lives on paper.
#[component]
pub fn RecoveryKit(secret: String, done: Callback<()>) -> impl IntoView {
    let stage = RwSignal::new(Stage::Shown);
    let typed = RwSignal::new(String::new());
    let wrong = RwSignal::new(false);
    let pdf = RwSignal::new(None::<Result<String, session::Error>>);
    let (number, expected) = drawn_group(&secret);
    let lines = kit_groups(&secret);
    let print = move |_| {
        if let Some(w) = web_sys::window() {
            let _ = w.print();
        }
    };
    let for_pdf = secret.clone();
    // The kit's PDF lives in the page only while needed: its address is let go when another
    // is made and when the screen goes.
    let forget_pdf = move || {
        if let Some(Some(Ok(url))) = pdf.try_get_untracked() {
            let _ = web_sys::Url::revoke_object_url(&url);
        }
    };
    on_cleanup(forget_pdf);
    let download = move |_| {
        let secret = for_pdf.clone();
        forget_pdf();
        pdf.set(None);
        spawn_local(async move {
            let made = session::recovery_kit_pdf(&secret, i18n::en()).await;
            let _ = pdf.try_set(Some(made));
        });
    };
    let put_away = move |_| {
        stage.set(Stage::Checking);
        focus("kit-verification");
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
    let shown = move || {
        view! {
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
                {lines.clone().into_iter().map(|groups| view! {
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
                <button type="button" class="secondaire" id="telecharger-kit" on:click=download.clone()>
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
                            {move || i18n::t(
                        "Télécharger « livret-kit-de-secours.pdf » (gardez-le hors d'un dossier synchronisé en ligne)",
                        "Download “livret-kit-de-secours.pdf” (keep it out of a folder synced online)",
                    )}
                        </a>
                    </p>
                }.into_any(),
                Err(e) => view! { <p class="erreur" role="alert">{move || e.to_string()}</p> }.into_any(),
            })}
        }
    };
    let checking = view! {
        <form on:submit=check>
            <p>{move || i18n::t(
                "Vérifions que vous l'avez bien gardé : le kit n'est plus affiché.",
                "Let us check you kept it: the kit is no longer shown.",
            )}</p>
            <label for="kit-verification">{move || if i18n::en() {
                format!("Group no. {number} of line 2 of your kit (4 characters)")
            } else {
                format!("Le groupe n° {number} de la ligne 2 de votre kit (4 caractères)")
            }}</label>
            <input type="text" id="kit-verification" autocomplete="off" spellcheck="false"
                on:input=move |ev| { typed.set(event_target_value(&ev)); wrong.set(false); }
                prop:value=typed/>
            <div class="actions">
                <button type="submit" id="kit-verifier">{move || i18n::t("Vérifier et continuer", "Check and continue")}</button>
                <button type="button" class="secondaire" id="revoir-kit" on:click=move |_| {
                    typed.set(String::new());
                    wrong.set(false);
                    stage.set(Stage::Shown);
                    focus("titre-kit");
                }>
                    {move || i18n::t("Revoir le kit", "See the kit again")}
                </button>
            </div>
            <Show when=move || wrong.get()>
                <p class="erreur" role="alert">{move || i18n::t(
                    "Ce n'est pas ce groupe du kit : reprenez-le (« Revoir le kit »).",
                    "That is not this group of the kit: look at it again (“See the kit again”).",
                )}</p>
            </Show>
        </form>
    };
    view! {
        <section aria-labelledby="titre-kit" class="carte kit">
            <h2 id="titre-kit" tabindex="-1">{move || i18n::t("Votre kit de secours", "Your recovery kit")}</h2>
            // The kit leaves the page while it is checked: only the group typed shows it was kept.
            <Show when=move || stage.get() == Stage::Shown>{shown.clone()}</Show>
            <div class:masquee=move || stage.get() != Stage::Checking>{checking}</div>
        </section>
    }
}
