//! Deleting the dossier (its candidate only): explained, confirmed by typing a word, then
//! done on the relay and on this device; the editor goes back to the dossiers, which say so.

use super::*;

/// The word typed to confirm, in the language shown.
fn confirmation_word() -> &'static str {
    t("SUPPRIMER", "DELETE")
}

#[component]
pub(super) fn DeleteDossier() -> impl IntoView {
    let st = EditorState::get();
    let owner = session::with_open(|r| r.membership().is_owner(&r.me())).unwrap_or(false);
    let typed = RwSignal::new(String::new());
    let working = RwSignal::new(false);
    let failed = RwSignal::new(None::<String>);
    let confirmed = move || typed.get().trim() == confirmation_word();
    owner.then(|| view! {
        <details class="suppression" id="suppression">
            <summary>{move || t("Supprimer ce dossier", "Delete this dossier")}</summary>
            <p class="aide">{move || t(
                "La suppression est définitive : le serveur efface tout ce qu'il garde du dossier (le texte chiffré, les annexes, les membres, les invitations et les rappels), et chaque appareil des membres efface sa copie dès qu'il l'apprend. Un appareil resté hors ligne l'efface à sa prochaine connexion ; une copie exportée par un membre n'est pas atteinte. Le jury garde la décision qu'il a rendue. Exportez d'abord le dossier si vous voulez en garder une copie.",
                "Deletion is final: the server erases everything it keeps of the dossier (the encrypted text, the annexes, the members, invitations and reminders), and each member's device erases its copy as soon as it learns it. A device left offline erases it when it next connects; a copy a member exported is not reached. The jury keeps the decision it released. Export the dossier first if you want to keep a copy.",
            )}</p>
            <label for="confirmer-suppression">{move || if en() {
                format!("To confirm, type {}", confirmation_word())
            } else {
                format!("Pour confirmer, tapez {}", confirmation_word())
            }}</label>
            <input id="confirmer-suppression" type="text" autocomplete="off"
                prop:value=move || typed.get()
                on:input=move |ev| typed.set(event_target_value(&ev))/>
            <button type="button" id="supprimer-dossier" class="danger"
                disabled=move || !confirmed() || working.get()
                on:click=move |_| {
                    working.set(true);
                    failed.set(None);
                    spawn_local(async move {
                        match session::delete_open_dossier().await {
                            Ok(()) => st.back.run(()),
                            Err(e) => {
                                failed.set(Some(e.to_string()));
                                working.set(false);
                            }
                        }
                    });
                }>
                {move || t("Supprimer définitivement", "Delete for good")}
            </button>
            {move || working.get().then(|| view! {
                <p role="status" aria-busy="true">{move || t("Suppression…", "Deleting…")}</p>
            })}
            {move || failed.get().map(|e| view! { <p class="erreur" role="alert">{e}</p> })}
        </details>
    })
}
