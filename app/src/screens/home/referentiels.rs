//! Référentiels: the built-in ones, imported ones, and their cards.

use leptos::prelude::*;
use leptos::task::spawn_local;
use livret_shared::referentiel::{self, Referentiel};

use crate::i18n;
use crate::{Message, session};

/// A référentiel's blocs and their compétences in words, not figures and slashes: « 3 blocs :
/// 5, 8 et 8 compétences ».
fn shape_in_words(shape: &[usize]) -> String {
    let counts: Vec<String> = shape.iter().map(usize::to_string).collect();
    let and = if i18n::en() { " and " } else { " et " };
    let listed = match counts.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{}{and}{last}", rest.join(", ")),
        _ => counts.join(""),
    };
    if i18n::en() {
        format!("{} blocks: {listed} skills", shape.len())
    } else {
        format!("{} blocs : {listed} compétences", shape.len())
    }
}

/// Imports a référentiel the certifier published: a text or an RNCP XML export is read here
/// by the same importer as the CLI's; a PDF is read by the relay (a public document; the app
/// has no PDF reader of its own). Kept on this device, sealed.
#[component]
pub fn ImportReferentiel(
    all: RwSignal<Vec<(String, Result<Referentiel, session::Error>)>>,
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
                                format!("{title} ({})", shape_in_words(&r.shape()))
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
                    format!("« {name} » : {e}", e = e.words(false)),
                    format!("“{name}”: {e}", e = e.words(true)),
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

#[component]
pub fn ReferentielCard(id: String, result: Result<Referentiel, session::Error>) -> impl IntoView {
    match result {
        Ok(r) => {
            let title = r.title.clone();
            let title = move || {
                title.clone().unwrap_or_else(|| {
                    i18n::t("Référentiel sans titre", "Untitled framework").into()
                })
            };
            let rncp = r.rncp.clone().unwrap_or_default();
            let shape = r.shape();
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
                        <span class="shape" data-testid="shape">{move || shape_in_words(&shape)}</span>
                        {move || if i18n::en() {
                            format!(" ({count} in all)")
                        } else {
                            format!(" ({count} en tout)")
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
