//! The dossier's template, chosen when it is made: the certifier's model Livret ships or
//! the candidate imported for the certification, else Livret's general one; and the import
//! of a certifier's template file.

use leptos::prelude::*;
use leptos::task::spawn_local;
use livret_shared::template::Template;

use crate::i18n;
use crate::{Message, session};

/// How a template is told apart in a list: a certifier's model may come in versions.
fn key(t: &Template) -> String {
    format!("{}@{}", t.id, t.version)
}

/// The templates offered for `rncp` and the one chosen among them (the first unless the
/// candidate picked another that is still offered).
pub fn chosen_template(
    rncp: &str,
    imported: &[&'static Template],
    picked: &str,
) -> (Vec<&'static Template>, Option<&'static Template>) {
    let offered = session::templates_for(rncp, imported);
    let chosen = offered
        .iter()
        .copied()
        .find(|t| key(t) == picked)
        .or_else(|| offered.first().copied());
    (offered, chosen)
}

/// The « Modèle de dossier » choice of the new-dossier form, with what the chosen one is.
#[component]
pub fn TemplateChoice(
    /// The RNCP number of the référentiel chosen above.
    rncp: Signal<String>,
    imported: RwSignal<Vec<&'static Template>>,
    picked: RwSignal<String>,
) -> impl IntoView {
    let offered = move || imported.with(|i| chosen_template(&rncp.get(), i, &picked.get()));
    let about = move || {
        let t = offered().1?;
        let general = std::ptr::eq(t, livret_shared::template::generic());
        let (version, title) = (t.version, i18n::t(t.title_fr, t.title_en));
        Some(match (general, t.certifier.is_empty(), i18n::en()) {
            (true, _, false) => format!(
                "Modèle général de Livret (version {version}) : les sections d’un dossier de \
                 validation, les fiches activité présentées bloc par bloc."
            ),
            (true, _, true) => format!(
                "Livret’s general model (version {version}): the sections of a validation \
                 dossier, activity sheets presented skill block by skill block."
            ),
            (false, false, false) => format!(
                "Modèle du certificateur {} (version {version}), pour cette certification.",
                t.certifier
            ),
            (false, false, true) => format!(
                "The certifier {}’s model (version {version}), for this qualification.",
                t.certifier
            ),
            (false, true, false) => format!("Modèle « {title} » (version {version})."),
            (false, true, true) => format!("Template “{title}” (version {version})."),
        })
    };
    view! {
        <label for="modele">{move || i18n::t("Modèle de dossier", "Dossier template")}</label>
        <select id="modele" aria-describedby="modele-aide"
            on:change=move |ev| picked.set(event_target_value(&ev))
            prop:value=move || offered().1.map(key).unwrap_or_default()>
            {move || offered().0.into_iter().map(|t| {
                // A certifier's file imported on this device is said to be one.
                let shipped = livret_shared::template::builtin().iter().any(|b| std::ptr::eq(*b, t));
                let label = move || {
                    let title = i18n::t(t.title_fr, t.title_en);
                    match (shipped, i18n::en()) {
                        (true, _) => title.to_string(),
                        (false, false) => format!("{title} (importé)"),
                        (false, true) => format!("{title} (imported)"),
                    }
                };
                view! { <option value=key(t)>{label}</option> }
            }).collect_view()}
        </select>
        <p class="discret" id="modele-aide" data-testid="modele-aide">{about}</p>
    }
}

/// Imports a certifier's template file (`docs/templates.md`), kept on this device.
#[component]
pub fn ImportTemplate(
    imported: RwSignal<Vec<&'static Template>>,
    picked: RwSignal<String>,
) -> impl IntoView {
    let status = RwSignal::new(None::<Result<Message, Message>>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id("modele-fichier"))
            .and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlInputElement>(e).ok());
        let Some(file) = input
            .as_ref()
            .and_then(|input| input.files())
            .and_then(|list| list.get(0))
        else {
            status.set(Some(Err(Message::new(
                "Choisissez d’abord un fichier.",
                "Choose a file first.",
            ))));
            return;
        };
        busy.set(true);
        let name = file.name();
        spawn_local(async move {
            let result = session::import_template(&file).await;
            let _ = status.try_set(Some(match result {
                Ok(t) => {
                    imported.update(|all| {
                        all.retain(|o| key(o) != key(t));
                        all.push(t);
                    });
                    picked.set(key(t));
                    // The same file can be picked again (corrected) and imported anew.
                    if let Some(input) = input {
                        input.set_value("");
                    }
                    let meant = if t.rncp.is_empty() {
                        (
                            "toute certification".to_string(),
                            "any qualification".to_string(),
                        )
                    } else {
                        let list = t
                            .rncp
                            .iter()
                            .map(|r| format!("RNCP{r}"))
                            .collect::<Vec<_>>()
                            .join(", ");
                        (list.clone(), list)
                    };
                    Ok(Message::new(
                        format!(
                            "Modèle importé : « {} » (version {}), pour {}.",
                            t.title_fr, t.version, meant.0
                        ),
                        format!(
                            "Template imported: “{}” (version {}), for {}.",
                            t.title_en, t.version, meant.1
                        ),
                    ))
                }
                Err(e) => Err(Message::new(
                    format!("« {name} » : {e}", e = e.words(false)),
                    format!("“{name}”: {e}", e = e.words(true)),
                )),
            }));
            let _ = busy.try_set(false);
        });
    };
    view! {
        <form class="import-modele" on:submit=submit>
            <label for="modele-fichier">
                {move || i18n::t(
                    "Importer le modèle de dossier d’un certificateur (fichier JSON)",
                    "Import a certifier’s dossier template (JSON file)",
                )}
            </label>
            <input type="file" id="modele-fichier" accept=".json,application/json"/>
            <button type="submit" id="importer-modele" disabled=busy>
                {move || i18n::t("Importer", "Import")}
            </button>
        </form>
        {move || status.get().map(|s| match s {
            Ok(m) => view! { <p role="status" data-testid="import-modele-etat">{m.text()}</p> }.into_any(),
            Err(e) => view! { <p class="erreur" role="alert" data-testid="import-modele-etat">{e.text()}</p> }.into_any(),
        })}
    }
}
