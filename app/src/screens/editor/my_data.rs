//! « Mes données »: the candidate's rights over the dossier in one place — what the relay
//! holds of it (as the relay says it), the JSON export (portability), deletion, and the
//! privacy notice that says what is stored where.

use livret_shared::holdings::HeldRow;

use super::*;

#[component]
pub(super) fn MyData() -> impl IntoView {
    let owner = session::with_open(|r| r.membership().is_owner(&r.me())).unwrap_or(false);
    let screen = crate::AppState::get().screen;
    view! {
        <section class="mes-donnees" id="mes-donnees" aria-labelledby="titre-mes-donnees">
            <h3 id="titre-mes-donnees">{move || t("Mes données", "My data")}</h3>
            <p class="aide">
                {move || t(
                    "Le dossier est sur vos appareils ; le serveur n'en garde qu'une copie chiffrée, et quelques données qu'il lui faut pour la transmettre.",
                    "The dossier is on your devices; the server keeps only an encrypted copy of it, and a few things it needs to pass it on.",
                )}
                " "
                <button type="button" class="lien" id="confidentialite-dossier"
                    on:click=move |_| crate::show_privacy(screen)>
                    {move || t("Ce qui est gardé, où, combien de temps", "What is kept, where, for how long")}
                </button>
            </p>
            {owner.then(|| view! { <RelayHoldings/> })}
            <ExportJson/>
            <DeleteDossier/>
        </section>
    }
}

/// What the relay holds of the dossier, asked when unfolded (and again on demand).
#[component]
fn RelayHoldings() -> impl IntoView {
    let rows = RwSignal::new(None::<Result<Vec<HeldRow>, String>>);
    let asking = RwSignal::new(false);
    let ask = move || {
        if asking.get_untracked() {
            return;
        }
        asking.set(true);
        spawn_local(async move {
            let answer = session::relay_holdings().await;
            rows.set(Some(answer.map(|h| h.rows()).map_err(|e| e.to_string())));
            asking.set(false);
        });
    };
    view! {
        <details class="donnees-relais" id="donnees-relais"
            on:toggle=move |ev| {
                let open = event_target::<web_sys::HtmlDetailsElement>(&ev).open();
                if open && rows.get_untracked().is_none() {
                    ask();
                }
            }>
            <summary>{move || t("Ce que le serveur garde de ce dossier", "What the server keeps of this dossier")}</summary>
            {move || asking.get().then(|| view! {
                <p role="status" aria-busy="true">{move || t("Question au serveur…", "Asking the server…")}</p>
            })}
            {move || rows.get().map(|answer| match answer {
                Ok(rows) => view! {
                    <table data-testid="donnees-relais">
                        <caption>{move || t(
                            "Tel que le serveur le dit ; le contenu chiffré, qu'il ne peut pas lire, n'y figure que par sa taille.",
                            "As the server says it; the encrypted content, which it cannot read, appears only by its size.",
                        )}</caption>
                        <tbody>
                            {rows.into_iter().map(|row| {
                                let HeldRow { label, value } = row;
                                view! {
                                    <tr>
                                        <th scope="row">{let label = label.clone(); move || if en() { label.1.clone() } else { label.0.clone() }}</th>
                                        <td>{let value = value.clone(); move || if en() { value.1.clone() } else { value.0.clone() }}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }
                .into_any(),
                Err(e) => view! { <p class="erreur" role="alert">{e}</p> }.into_any(),
            })}
            <button type="button" class="secondaire" id="actualiser-donnees"
                disabled=move || asking.get()
                on:click=move |_| ask()>
                {move || t("Demander à nouveau", "Ask again")}
            </button>
        </details>
    }
}
