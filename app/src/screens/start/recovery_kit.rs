//! The recovery kit, shown once.

use leptos::prelude::*;

use crate::i18n;

/// The recovery kit, shown once: a key of the candidate's that lives on paper.
#[component]
pub fn RecoveryKit(secret: String, done: Callback<()>) -> impl IntoView {
    let print = move |_| {
        if let Some(w) = web_sys::window() {
            let _ = w.print();
        }
    };
    view! {
        <section aria-labelledby="titre-kit" class="carte kit">
            <h2 id="titre-kit">{move || i18n::t("Votre kit de secours", "Your recovery kit")}</h2>
            <p>
                {move || i18n::t(
                    "Imprimez cette page ou recopiez les deux lignes ci-dessous, et rangez-les en lieu \
                     sûr. Si vous perdez cet appareil ou oubliez sa phrase de passe, ce kit permet à un \
                     nouvel appareil de retrouver vos dossiers. Quiconque le détient le peut aussi : ne \
                     l'envoyez à personne, ne le photographiez pas.",
                    "Print this page or copy the two lines below, and keep them somewhere safe. If you \
                     lose this device or forget its passphrase, this kit lets a new device get your \
                     dossiers back. Anyone who holds it can do the same: send it to no one, and do not \
                     take a photo of it.",
                )}
            </p>
            <pre class="secret" data-testid="kit-secours">{secret}</pre>
            <p class="pas-imprime">
                {move || i18n::t("Livret ne le réaffichera pas.", "Livret will not show it again.")}
            </p>
            <div class="actions pas-imprime">
                <button type="button" id="imprimer-kit" on:click=print>
                    {move || i18n::t("Imprimer le kit", "Print the kit")}
                </button>
                <button type="button" id="kit-range" on:click=move |_| done.run(())>
                    {move || i18n::t("J'ai rangé mon kit, continuer", "I have put my kit away, continue")}
                </button>
            </div>
        </section>
    }
}
