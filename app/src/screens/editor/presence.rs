//! Who else is in the dossier now, and where.

use super::*;

/// Who else is in the dossier now, and the name this person shows them.
#[component]
pub(super) fn Presents() -> impl IntoView {
    let st = EditorState::get();
    let name = RwSignal::new(session::my_name());
    view! {
        <section class="presents" aria-labelledby="titre-presents">
            <h3 id="titre-presents" class="discret">{move || t("En ce moment", "Right now")}</h3>
            <p data-testid="presents" aria-live="polite">{move || {
                let here = st.present.get();
                if here.is_empty() {
                    return t("Personne d'autre n'a ce dossier ouvert.", "Nobody else has this dossier open.").to_string();
                }
                let people: Vec<String> = here
                    .iter()
                    .map(|h| format!("{} ({})", h.who, role_name(h.role).to_lowercase()))
                    .collect();
                format!("{}{}", t("Aussi dans ce dossier : ", "Also in this dossier: "), people.join(", "))
            }}</p>
            <p class="champ-court">
                <label for="mon-nom">{move || t("Votre nom, montré aux autres membres", "Your name, as the other members see it")}</label>
                " "
                <input id="mon-nom" type="text" autocomplete="name" prop:value=name
                    on:change=move |ev| {
                        let value = event_target_value(&ev);
                        name.set(value.clone());
                        session::set_my_name(&value);
                    }/>
            </p>
        </section>
    }
}
