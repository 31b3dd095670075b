//! The template's sections and their fields: each field's control, kind and guidance, saved
//! on every keystroke; the sommaire.

use super::*;
use livret_shared::dossier::TICKED;

#[component]
pub(super) fn Sommaire() -> impl IntoView {
    view! {
        <nav class="sommaire" aria-labelledby="titre-sommaire">
            <h3 id="titre-sommaire">{move || t("Sommaire", "Contents")}</h3>
            <ol>
                {template::TEMPLATE.iter().map(|s| view! {
                    <li><a href=format!("#section-{}", s.key)>{move || t(s.title_fr, s.title_en)}</a></li>
                }).collect_view()}
            </ol>
        </nav>
    }
}

#[component]
pub(super) fn Section(section: &'static template::SectionText) -> impl IntoView {
    let heading = format!("titre-section-{}", section.key);
    let labelled_by = heading.clone();
    let body = match section.key {
        "fiches" => view! { <Fiches/> <Recapitulatif/> <CoverageHints/> }.into_any(),
        "annexes" => view! { <Annexes/> }.into_any(),
        // Every field of the template is one of the dossier's (a test of shared::template).
        key => section
            .fields
            .iter()
            .filter_map(|f| Some((FieldPath::section(key, f.key)?, f)))
            .map(|(path, f)| view! { <Field path=path text=f/> })
            .collect_view()
            .into_any(),
    };
    view! {
        <section id=format!("section-{}", section.key) class="section" aria-labelledby=labelled_by>
            <h3 id=heading>{move || t(section.title_fr, section.title_en)}</h3>
            {(!section.guidance_fr.is_empty()).then(|| view! { <p class="consigne">{move || t(section.guidance_fr, section.guidance_en)}</p> })}
            {body}
        </section>
    }
}

/// Moves keyboard focus to `id` once the view has caught up (a moved fiche's button is
/// taken out of the page and put back, which drops focus), or to `fallback` when `id` is now
/// disabled (a fiche moved to the top can go up no more).
pub(super) fn focus_soon(id: String, fallback: Option<String>) {
    spawn_local(async move {
        session::sleep(0).await;
        let document = web_sys::window().and_then(|w| w.document());
        let find = |id: &str| {
            document
                .as_ref()
                .and_then(|d| d.get_element_by_id(id))
                .filter(|e| !e.has_attribute("disabled"))
                .and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(e).ok())
        };
        if let Some(el) = find(&id).or_else(|| fallback.as_deref().and_then(find)) {
            let _ = el.focus();
        }
    });
}

/// A list field is edited as comma-separated values; the document keeps a list.
pub(super) fn as_input(kind: FieldKind, stored: String) -> String {
    if kind != FieldKind::List {
        return stored;
    }
    serde_json::from_str::<Vec<String>>(&stored)
        .map(|items| items.join(", "))
        .unwrap_or(stored)
}

#[component]
pub(super) fn Field(path: FieldPath, text: &'static FieldText) -> impl IntoView {
    let st = EditorState::get();
    let kind = path.kind();
    let stored = session::with_open(|r| r.dossier().get_field(&path)).unwrap_or_default();
    let shown = RwSignal::new(as_input(kind, stored));
    FIELDS.with(|f| f.borrow_mut().push((path, shown)));
    // The dotted name: what presence, comments and annotations call the field.
    let name = path.to_string();
    let id = format!("f-{}", name.replace('.', "-"));
    let help = format!("{id}-aide");
    let focused = {
        let name = name.clone();
        move |ev: leptos::ev::FocusEvent| announce_here(&name, &ev, true)
    };
    let here_path = name.clone();
    let here_testid = format!("presence-{id}");
    let others_here = move || {
        let names: Vec<String> = st
            .present
            .get()
            .into_iter()
            .filter(|h| h.field == here_path)
            .map(|h| match h.caret {
                Some(c) => {
                    let around = shown
                        .with(|text| livret_shared::presence::caret_in_context(text, c as usize));
                    if en() {
                        format!("{} (at character {c}: “{around}”)", h.who)
                    } else {
                        format!("{} (au caractère {c} : « {around} »)", h.who)
                    }
                }
                None => h.who,
            })
            .collect();
        (!names.is_empty()).then(|| {
            let text = if en() {
                format!("Here too: {}", names.join(", "))
            } else {
                format!("Aussi ici : {}", names.join(", "))
            };
            view! { <p class="presence-ici" data-testid=here_testid.clone()>{text}</p> }
        })
    };
    let typing_path = name.clone();
    let comment_path = name;
    let on_input = move |ev: leptos::ev::Event| {
        announce_here(&typing_path, &ev, false);
        let value = event_target_value(&ev);
        // Untracked: the control already shows it; writing it back would move the caret.
        shown.update_untracked(|v| v.clone_from(&value));
        match session::with_open(|r| r.dossier().set(&path, &value)) {
            Ok(Ok(())) => {
                metrics::keystroke();
                persist(st);
            }
            Ok(Err(e)) => st.save.set(SaveState::Failed(e.into())),
            Err(e) => st.save.set(SaveState::Failed(e)),
        }
    };
    let guidance = (!text.guidance_fr.is_empty())
        .then(|| view! { <p id=help.clone() class="aide">{move || t(text.guidance_fr, text.guidance_en)}</p> });
    let described = (!text.guidance_fr.is_empty()).then(|| help.clone());
    if kind == FieldKind::Tick {
        // The template's box to tick: a real checkbox, its words as its label.
        let tick_path = path;
        let on_change = move |ev: leptos::ev::Event| {
            let value = if event_target_checked(&ev) {
                TICKED
            } else {
                ""
            };
            shown.set(value.to_string());
            match session::with_open(|r| r.dossier().set(&tick_path, value)) {
                Ok(Ok(())) => persist(st),
                Ok(Err(e)) => st.save.set(SaveState::Failed(e.into())),
                Err(e) => st.save.set(SaveState::Failed(e)),
            }
        };
        return view! {
            <div class="champ case">
                <input id=id.clone() type="checkbox" on:change=on_change
                    prop:checked=move || shown.get() == TICKED prop:disabled=move || st.juror.get()/>
                <label for=id.clone()>{move || t(text.label_fr, text.label_en)}</label>
                <FieldComments path=comment_path field_id=id/>
            </div>
        }
        .into_any();
    }
    // A juror reads the fields (and selects passages in them to annotate), never writes.
    let control = if kind == FieldKind::Text {
        view! {
            <textarea id=id.clone() rows="6" aria-describedby=described on:focus=focused on:input=on_input prop:value=shown prop:readOnly=move || st.juror.get()></textarea>
        }
        .into_any()
    } else {
        view! {
            <input id=id.clone() type="text" aria-describedby=described on:focus=focused on:input=on_input prop:value=shown prop:readOnly=move || st.juror.get()/>
        }
        .into_any()
    };
    let annotations = {
        let (path, id) = (comment_path.clone(), id.clone());
        move || {
            st.juror.get().then(|| {
                view! { <crate::screens::jury::FieldAnnotations path=path.clone() field_id=id.clone()/> }
            })
        }
    };
    view! {
        <div class="champ">
            <label for=id.clone()>{move || t(text.label_fr, text.label_en)}</label>
            {guidance}
            {others_here}
            {control}
            {annotations}
            <FieldComments path=comment_path field_id=id/>
        </div>
    }
    .into_any()
}

/// An element id made of a compétence code (`C1.2` → `C1_2`: dots would read as CSS classes).
pub(crate) fn code_id(code: &str) -> String {
    code.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{self, Lang};

    #[test]
    fn a_stored_list_is_shown_as_typed_and_other_fields_as_stored() {
        i18n::set(Lang::Fr);
        assert_eq!(
            as_input(FieldKind::List, r#"["A1","B 2"]"#.to_string()),
            "A1, B 2"
        );
        // Not a list after all (written by an older version): shown as it is, not lost.
        assert_eq!(as_input(FieldKind::List, "A1, B2".to_string()), "A1, B2");
        assert_eq!(
            as_input(FieldKind::Text, r#"["A1"]"#.to_string()),
            r#"["A1"]"#
        );
    }

    #[test]
    fn a_code_becomes_an_html_id_of_letters_digits_and_underscores() {
        assert_eq!(code_id("C1.2-b é"), "C1_2_b__");
    }
}
