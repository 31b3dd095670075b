//! Annotations on the fields' passages: made on a selection, listed with where they point.

use super::*;

/// The text of an `<input>` or `<textarea>` by id (read when another control changes).
pub(super) fn input_value(id: &str) -> String {
    let element = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(id));
    match element {
        Some(e) => match e.dyn_into::<web_sys::HtmlInputElement>() {
            Ok(input) => input.value(),
            Err(e) => match e.dyn_into::<web_sys::HtmlTextAreaElement>() {
                Ok(text) => text.value(),
                Err(e) => e
                    .dyn_into::<web_sys::HtmlSelectElement>()
                    .map(|s| s.value())
                    .unwrap_or_default(),
            },
        },
        None => String::new(),
    }
}

/// Where an annotation points, in words.
pub(super) fn place_of(target: &Target, order: &[usize]) -> String {
    match target {
        Target::Text { path, .. } => field_label(path, order),
        Target::PdfPage { annexe, page, .. } => {
            format!("{} {annexe}, page {page}", t("Annexe n°", "Annex no."))
        }
        Target::ImageRegion { annexe, x, y, w, h } => format!(
            "{} {annexe}, {} {x:.2},{y:.2} {w:.2}×{h:.2}",
            t("Annexe n°", "Annex no."),
            t("région", "region")
        ),
    }
}

/// `fiches.3.taches` → « Fiche n° 2 · Tâches » (fiches by the number they show).
pub(super) fn field_label(path: &str, order: &[usize]) -> String {
    let parts: Vec<&str> = path.split('.').collect();
    match parts[..] {
        ["fiches", place, field] => {
            let number = place
                .parse::<usize>()
                .ok()
                .and_then(|p| order.iter().position(|o| *o == p))
                .map_or("?".to_string(), |i| (i + 1).to_string());
            let label = crate::screens::editor::open_template()
                .field("fiches", field)
                .map_or(field.to_string(), |f| t(f.label_fr, f.label_en).to_string());
            format!("{} {number} · {label}", t("Fiche n°", "Sheet no."))
        }
        [section, field] => crate::screens::editor::open_template()
            .field(section, field)
            .map_or(path.to_string(), |f| t(f.label_fr, f.label_en).to_string()),
        [section, id, field] if livret_shared::dossier::REPEATED.contains(&section) => {
            crate::screens::editor::repeat_label(section, id, field)
        }
        _ => path.to_string(),
    }
}

/// Where a text annotation's passage is now, in words.
pub(super) fn status_of(target: &Target) -> (String, &'static str) {
    match target {
        Target::Text { path, anchor } => {
            let text = session::with_open(|r| r.dossier().get(path))
                .ok()
                .and_then(Result::ok)
                .unwrap_or_default();
            let found = anchor.anchor(&text);
            let state = match found {
                review::anchor::Anchored::Orphaned => "orpheline",
                review::anchor::Anchored::At {
                    found: review::anchor::Found::InPlace,
                    ..
                } => "en-place",
                _ => "deplacee",
            };
            (
                if en() {
                    found.label_en()
                } else {
                    found.label_fr()
                },
                state,
            )
        }
        _ => (t("sur la pièce", "on the evidence").to_string(), "piece"),
    }
}

pub(super) fn quote_of(target: &Target) -> String {
    match target {
        Target::Text { anchor, .. } => anchor.quote.exact.clone(),
        Target::PdfPage { quote, .. } => quote.exact.clone(),
        Target::ImageRegion { .. } => String::new(),
    }
}

/// One annotation as listed: who, where, how it stands now, the passage, the comment; this
/// juror's own can be deleted.
pub(super) fn annotation_item(
    st: EditorState,
    who: &str,
    mine: bool,
    a: &Annotation,
    order: &[usize],
) -> AnyView {
    let (state_text, state) = status_of(&a.target);
    let quote = quote_of(&a.target);
    let quote = (!quote.is_empty()).then(|| view! { <q>{quote}</q> " " });
    let remove = mine.then(|| {
        let id = a.id.clone();
        view! {
            " "
            <button type="button" class="lien" on:click=move |_| {
                let _ = write_review(st, &juror_name(), |d| d.remove_annotation(&id));
            }>{t("Supprimer", "Delete")}</button>
        }
    });
    view! {
        <li data-testid="annotation" data-etat=state>
            <strong>{format!("[{}] ", or_unnamed(who))}</strong>
            {format!("{} — {state_text} : ", place_of(&a.target, order))}
            {quote}
            <span class="corps">{a.body.clone()}</span>
            {remove}
        </li>
    }
    .into_any()
}

/// Every annotation of the jury, re-anchored in today's text: en place, déplacée (the
/// passage moved), orpheline (it is gone: kept and said, never dropped).
#[component]
pub(super) fn ListeAnnotations(reviews: Memo<Vec<Seen>>) -> impl IntoView {
    let st = EditorState::get();
    let items = move || {
        st.revision.get();
        let order = st.fiches.get();
        let all = reviews.get();
        let items: Vec<AnyView> = all
            .iter()
            .flat_map(|s| {
                let order = order.clone();
                s.review
                    .annotations
                    .iter()
                    .map(move |a| annotation_item(st, &s.review.juror, s.mine, a, &order))
            })
            .collect();
        if items.is_empty() {
            view! { <p class="aide">{t(
                "Aucune annotation : sélectionnez un passage d'un champ puis « Annoter le passage sélectionné », ou ouvrez une annexe ci-dessus.",
                "No annotation yet: select a passage of a field, then “Annotate the selected passage”, or open an annex above.",
            )}</p> }
            .into_any()
        } else {
            view! { <ul class="annotations" data-testid="annotations">{items}</ul> }.into_any()
        }
    };
    view! {
        <section aria-labelledby="titre-annotations">
            <h4 id="titre-annotations">{move || t("Annotations du jury", "The jury's annotations")}</h4>
            {items}
        </section>
    }
}

/// Under a field, for a juror: annotate the passage selected in it, and the annotations on
/// it (every juror's) with where their passage stands now.
#[component]
pub fn FieldAnnotations(path: String, field_id: String) -> impl IntoView {
    let st = EditorState::get();
    let draft = RwSignal::new(None::<TextAnchor>);
    let message = RwSignal::new(None::<String>);
    let control_id = field_id.clone();
    let text_path = path.clone();
    let start = move |_| {
        message.set(None);
        let Some((from, to, shown)) = selection(&control_id) else {
            message.set(Some(
                t(
                    "Sélectionnez d'abord un passage du champ.",
                    "Select a passage of the field first.",
                )
                .into(),
            ));
            return;
        };
        let stored = session::with_open(|r| r.dossier().get(&text_path))
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default();
        // The browser counts UTF-16 units; the anchor counts characters of the stored text
        // (what the control shows, for a text field).
        let (from, to) = (char_index(&shown, from), char_index(&shown, to));
        match TextAnchor::new(&stored, from, to) {
            Some(anchor) => draft.set(Some(anchor)),
            None => message.set(Some(
                t(
                    "Sélectionnez d'abord un passage du champ.",
                    "Select a passage of the field first.",
                )
                .into(),
            )),
        }
    };
    let body_id = format!("annotation-{field_id}");
    let body_read = body_id.clone();
    let save_path = path.clone();
    let save = move |_| {
        let Some(anchor) = draft.get_untracked() else {
            return;
        };
        let body = input_value(&body_read);
        if body.trim().is_empty() {
            message.set(Some(
                t("L'annotation est vide.", "The annotation is empty.").into(),
            ));
            return;
        }
        let target = Target::Text {
            path: save_path.clone(),
            anchor,
        };
        match save_annotation(st, target, &body) {
            Ok(()) => {
                draft.set(None);
                message.set(Some(
                    t("Annotation enregistrée.", "Annotation saved.").into(),
                ));
            }
            Err(e) => message.set(Some(e.to_string())),
        }
    };
    let list_path = path.clone();
    let on_field = move || {
        st.revision.get();
        let order = st.fiches.get();
        let items: Vec<AnyView> = all_reviews()
            .iter()
            .flat_map(|s| {
                s.review
                    .annotations
                    .iter()
                    .filter(
                        |a| matches!(&a.target, Target::Text { path, .. } if *path == list_path),
                    )
                    .map(|a| annotation_item(st, &s.review.juror, s.mine, a, &order))
                    .collect::<Vec<_>>()
            })
            .collect();
        (!items.is_empty()).then(|| view! { <ul class="annotations-champ">{items}</ul> })
    };
    view! {
        <div class="annoter">
            <button type="button" class="secondaire" id=format!("annoter-{field_id}") on:click=start>
                {move || t("Annoter le passage sélectionné", "Annotate the selected passage")}
            </button>
            {move || message.get().map(|m| view! { <p role="status">{m}</p> })}
            {move || draft.get().map(|anchor| view! {
                <p>{t("Passage :", "Passage:")} " " <q data-testid="passage">{anchor.quote.exact.clone()}</q></p>
                <label for=body_id.clone()>{t("Votre annotation", "Your annotation")}</label>
                <textarea id=body_id.clone() rows="3"></textarea>
                <button type="button" id=format!("enregistrer-{}", body_id) on:click=save.clone()>{t("Enregistrer l'annotation", "Save the annotation")}</button>
            })}
            {on_field}
        </div>
    }
}

/// The selection in a field's control: UTF-16 start and end, and the control's text.
pub(super) fn selection(id: &str) -> Option<(usize, usize, String)> {
    let element = web_sys::window()?.document()?.get_element_by_id(id)?;
    let (start, end, text) = match element.dyn_into::<web_sys::HtmlTextAreaElement>() {
        Ok(area) => (
            area.selection_start().ok()??,
            area.selection_end().ok()??,
            area.value(),
        ),
        Err(element) => {
            let input = element.dyn_into::<web_sys::HtmlInputElement>().ok()?;
            (
                input.selection_start().ok()??,
                input.selection_end().ok()??,
                input.value(),
            )
        }
    };
    (start < end).then_some((start as usize, end as usize, text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{self, Lang};

    #[test]
    fn a_field_is_named_by_its_label_and_a_fiche_by_its_number_on_screen() {
        i18n::set(Lang::Fr);
        let label = crate::screens::editor::open_template()
            .field("fiches", "taches")
            .expect("the template has it");
        // The fiche stored third (place 2) is shown second.
        assert_eq!(
            field_label("fiches.2.taches", &[0, 2, 1]),
            format!("Fiche n° 2 · {}", label.label_fr)
        );
        assert_eq!(
            field_label("fiches.9.taches", &[0]),
            format!("Fiche n° ? · {}", label.label_fr)
        );
        i18n::set(Lang::En);
        assert_eq!(
            field_label("fiches.2.taches", &[0, 2, 1]),
            format!("Sheet no. 2 · {}", label.label_en)
        );
        assert_eq!(field_label("nowhere", &[]), "nowhere");
    }
}
