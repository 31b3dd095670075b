//! The Livret 2 editor: every section of the official template in its order, the template's
//! guidance beside each field, fiches activité added at will. Each keystroke goes into the
//! automerge document and the dossier is saved to IndexedDB at once.

use std::cell::Cell;

use leptos::prelude::*;
use leptos::task::spawn_local;
use livret_shared::dossier::{FICHE_FIELDS, FieldKind, SECTIONS};
use livret_shared::template::{self, FieldText};

use crate::session;

/// What the status line says about local saving.
#[derive(Clone, Debug, PartialEq)]
enum SaveState {
    Saved,
    Saving,
    Failed(String),
}

thread_local! {
    /// Saves started and not yet committed: "enregistré" only once the last one lands.
    static PENDING_SAVES: Cell<u32> = const { Cell::new(0) };
}

fn persist(status: RwSignal<SaveState>) {
    PENDING_SAVES.with(|p| p.set(p.get() + 1));
    status.set(SaveState::Saving);
    spawn_local(async move {
        let result = session::save_open().await;
        let left = PENDING_SAVES.with(|p| {
            p.set(p.get().saturating_sub(1));
            p.get()
        });
        match result {
            Err(e) => status.set(SaveState::Failed(e)),
            Ok(()) if left == 0 => status.set(SaveState::Saved),
            Ok(()) => {}
        }
    });
}

fn kind_of(section: &str, field: &str) -> FieldKind {
    let fields = if section == "fiches" {
        FICHE_FIELDS
    } else {
        SECTIONS
            .iter()
            .find(|(s, _)| *s == section)
            .map_or(&[][..], |(_, f)| *f)
    };
    fields
        .iter()
        .find(|(f, _)| *f == field)
        .map_or(FieldKind::Scalar, |(_, k)| *k)
}

#[component]
pub fn Editor(id: String, back: Callback<()>) -> impl IntoView {
    let ready = RwSignal::new(None::<Result<(), String>>);
    let status = RwSignal::new(SaveState::Saved);
    let fiches = RwSignal::new(0usize);
    let title = RwSignal::new(String::new());
    {
        let id = id.clone();
        spawn_local(async move {
            let opened = session::open_dossier(&id).await;
            if opened.is_ok() {
                let (count, name) = session::with_open(|r| {
                    let d = r.dossier();
                    (
                        d.fiche_count(),
                        d.get("projet_vae.certification").unwrap_or_default(),
                    )
                })
                .unwrap_or_default();
                fiches.set(count);
                title.set(name);
            }
            ready.set(Some(opened));
        });
    }
    view! {
        <nav class="retour" aria-label="Navigation">
            <button type="button" id="mes-dossiers" on:click=move |_| back.run(())>"← Mes dossiers"</button>
        </nav>
        <p class="etat" role="status" aria-live="polite" data-testid="etat-sauvegarde">
            {move || match status.get() {
                SaveState::Saved => "Enregistré sur cet appareil".to_string(),
                SaveState::Saving => "Enregistrement…".to_string(),
                SaveState::Failed(e) => format!("Échec de l'enregistrement : {e}"),
            }}
        </p>
        {move || match ready.get() {
            None => view! { <p aria-busy="true">"Ouverture du dossier…"</p> }.into_any(),
            Some(Err(e)) => view! { <p class="erreur" role="alert">{e}</p> }.into_any(),
            Some(Ok(())) => view! {
                <article class="livret" data-dossier=id.clone()>
                    <h2>{move || format!("Livret 2 — {}", title.get())}</h2>
                    <Sommaire/>
                    {template::TEMPLATE.iter().map(|section| view! {
                        <Section section=section status=status fiches=fiches/>
                    }).collect_view()}
                </article>
            }
            .into_any(),
        }}
    }
}

#[component]
fn Sommaire() -> impl IntoView {
    view! {
        <nav class="sommaire" aria-labelledby="titre-sommaire">
            <h3 id="titre-sommaire">"Sommaire"</h3>
            <ol>
                {template::TEMPLATE.iter().map(|s| view! {
                    <li><a href=format!("#section-{}", s.key)>{s.title_fr}</a></li>
                }).collect_view()}
            </ol>
        </nav>
    }
}

#[component]
fn Section(
    section: &'static template::SectionText,
    status: RwSignal<SaveState>,
    fiches: RwSignal<usize>,
) -> impl IntoView {
    let heading = format!("titre-section-{}", section.key);
    let labelled_by = heading.clone();
    let body = match section.key {
        "fiches" => view! { <Fiches status=status fiches=fiches/> }.into_any(),
        "annexes" => view! {
            <p class="aide">
                "Le dépôt des pièces justificatives (chiffrées sur cet appareil) arrive dans une prochaine version ; "
                "vous pouvez déjà citer leurs numéros dans vos fiches."
            </p>
        }
        .into_any(),
        key => section
            .fields
            .iter()
            .map(|f| {
                view! { <Field path=format!("{key}.{}", f.key) text=f kind=kind_of(key, f.key) status=status/> }
            })
            .collect_view()
            .into_any(),
    };
    view! {
        <section id=format!("section-{}", section.key) class="section" aria-labelledby=labelled_by>
            <h3 id=heading>{section.title_fr}</h3>
            {(!section.guidance_fr.is_empty()).then(|| view! { <p class="consigne">{section.guidance_fr}</p> })}
            {body}
        </section>
    }
}

#[component]
fn Fiches(status: RwSignal<SaveState>, fiches: RwSignal<usize>) -> impl IntoView {
    let add = move |_| {
        let n = fiches.get_untracked();
        if session::with_open(|r| r.dossier().set(&format!("fiches.{n}.intitule"), ""))
            .is_ok_and(|r| r.is_ok())
        {
            fiches.set(n + 1);
            persist(status);
        }
    };
    let fields = template::section("fiches").map_or(&[][..], |s| s.fields);
    view! {
        <For each=move || 0..fiches.get() key=|i| *i let:index>
            <fieldset class="fiche" data-fiche=index>
                <legend>{format!("Fiche activité n° {}", index + 1)}</legend>
                {fields.iter().map(|f| view! {
                    <Field path=format!("fiches.{index}.{}", f.key) text=f kind=kind_of("fiches", f.key) status=status/>
                }).collect_view()}
            </fieldset>
        </For>
        <button type="button" id="ajouter-fiche" on:click=add>"Ajouter une fiche activité"</button>
    }
}

/// A list field is edited as comma-separated values; the document keeps a list.
fn as_input(kind: FieldKind, stored: String) -> String {
    if kind != FieldKind::List {
        return stored;
    }
    serde_json::from_str::<Vec<String>>(&stored)
        .map(|items| items.join(", "))
        .unwrap_or(stored)
}

#[component]
fn Field(
    path: String,
    text: &'static FieldText,
    kind: FieldKind,
    status: RwSignal<SaveState>,
) -> impl IntoView {
    let stored = session::with_open(|r| r.dossier().get(&path))
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    let initial = as_input(kind, stored);
    let id = format!("f-{}", path.replace('.', "-"));
    let help = format!("{id}-aide");
    let on_input = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        match session::with_open(|r| r.dossier().set(&path, &value)) {
            Ok(Ok(())) => persist(status),
            Ok(Err(e)) => status.set(SaveState::Failed(e.to_string())),
            Err(e) => status.set(SaveState::Failed(e)),
        }
    };
    let guidance = (!text.guidance_fr.is_empty())
        .then(|| view! { <p id=help.clone() class="aide">{text.guidance_fr}</p> });
    let described = (!text.guidance_fr.is_empty()).then(|| help.clone());
    let control = if kind == FieldKind::Text {
        view! {
            <textarea id=id.clone() rows="6" aria-describedby=described on:input=on_input prop:value=initial></textarea>
        }
        .into_any()
    } else {
        view! {
            <input id=id.clone() type="text" aria-describedby=described on:input=on_input prop:value=initial/>
        }
        .into_any()
    };
    view! {
        <div class="champ">
            <label for=id>{text.label_fr}</label>
            {guidance}
            {control}
        </div>
    }
}
