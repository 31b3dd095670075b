//! The candidate's devices: proposals to confirm or refuse, this device's identity, pairing,
//! the recovery kit.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::i18n;
use crate::{Message, recovered, recovering, session};

/// Devices that created dossiers this device owns and are not known as the candidate's:
/// each is confirmed (safety codes compared) or refused by the candidate, never taken as
/// theirs silently — a stranger who adds this device to a dossier of their own must not
/// become an owner of the candidate's next dossiers.
#[component]
pub fn DeviceProposals(proposals: RwSignal<Vec<session::DeviceProposal>>) -> impl IntoView {
    let answer = move |identity: String, mine: bool| {
        spawn_local(async move {
            if let Ok(left) = session::answer_device_proposal(&identity, mine).await {
                let _ = proposals.try_set(left);
            }
        });
    };
    move || {
        let list = proposals.get();
        (!list.is_empty()).then(|| {
            view! {
                <div class="propositions" role="group" aria-labelledby="titre-propositions">
                    <h3 id="titre-propositions">
                        {move || i18n::t("Est-ce l'un de vos appareils ?", "Is this one of your devices?")}
                    </h3>
                    <p>
                        {move || i18n::t(
                            "Un appareil a créé des dossiers auxquels celui-ci a accès comme candidat. \
                             S'il est à vous, il affiche le même code de sécurité sous « Mes appareils ». \
                             Sinon, quelqu'un cherche à se faire passer pour vous : refusez-le.",
                            "A device created dossiers this one can open as the candidate. If it is \
                             yours, it shows the same safety code under « My devices ». If not, \
                             someone is trying to pass for you: refuse it.",
                        )}
                    </p>
                    <ul data-testid="appareils-proposes">
                        {list.into_iter().map(|p| {
                            let (yes, no) = (p.identity.clone(), p.identity.clone());
                            view! {
                                <li data-code=p.code.clone()>
                                    {move || i18n::t("Code de sécurité : ", "Safety code: ")}
                                    <strong>{p.code.clone()}</strong>" "
                                    <button type="button" class="confirmer-appareil"
                                        on:click=move |_| answer(yes.clone(), true)>
                                        {move || i18n::t("C'est mon appareil", "It is my device")}
                                    </button>" "
                                    <button type="button" class="refuser-appareil"
                                        on:click=move |_| answer(no.clone(), false)>
                                        {move || i18n::t("Ce n'est pas le mien", "It is not mine")}
                                    </button>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                </div>
            }
        })
    }
}

/// This device's identity, pairing another device of the candidate's, the recovery kit.
#[component]
pub fn MyDevices(
    identity: String,
    dossiers: RwSignal<Option<Result<Vec<session::DossierSummary>, String>>>,
) -> impl IntoView {
    let other = RwSignal::new(String::new());
    let kit_text = RwSignal::new(String::new());
    let status = RwSignal::new(None::<Result<Message, Message>>);
    let busy = RwSignal::new(false);
    let pair = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let line = other.get();
        busy.set(true);
        status.set(Some(Ok(Message::new(
            "Ajout de l'appareil à vos dossiers…",
            "Adding the device to your dossiers…",
        ))));
        spawn_local(async move {
            status.set(Some(match session::add_own_device(&line).await {
                Ok(n) => {
                    other.set(String::new());
                    Ok(Message::new(
                        format!("Appareil ajouté à {n} dossier(s)."),
                        format!("Device added to {n} dossier(s)."),
                    ))
                }
                Err(e) => Err(Message::new(
                    format!("Appareil non ajouté : {e}", e = e.words(false)),
                    format!("Device not added: {e}", e = e.words(true)),
                )),
            }));
            busy.set(false);
        });
    };
    let use_kit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let kit = kit_text.get();
        busy.set(true);
        status.set(Some(Ok(recovering())));
        spawn_local(async move {
            let result = session::recover(&kit).await;
            status.set(Some(match result {
                Ok(n) => {
                    kit_text.set(String::new());
                    Ok(recovered(n))
                }
                Err(e) => Err(Message::error(e)),
            }));
            dossiers.set(Some(
                session::list_dossiers().await.map_err(|e| e.to_string()),
            ));
            busy.set(false);
        });
    };
    view! {
        <section aria-labelledby="titre-appareil" class="carte">
            <h2 id="titre-appareil">{move || i18n::t("Mes appareils", "My devices")}</h2>
            <p>
                {move || i18n::t(
                    "Identité publique de cet appareil (à transmettre pour qu'on partage un dossier avec \
                     vous, ou à coller sur votre autre appareil) :",
                    "This device's public identity (to give to someone who will share a dossier with \
                     you, or to paste on your other device):",
                )}
            </p>
            <p><code class="identite" data-testid="identite">{identity}</code></p>
            <p>
                {move || i18n::t("Code de sécurité de cet appareil : ", "This device's safety code: ")}
                <strong data-testid="code-securite">{session::safety_code()}</strong>
            </p>
            <form on:submit=pair>
                <label for="appareil-identite">
                    {move || i18n::t(
                        "Ajouter un autre de mes appareils (son identité publique)",
                        "Add another of my devices (its public identity)",
                    )}
                </label>
                <input id="appareil-identite" type="text" autocomplete="off" spellcheck="false"
                    placeholder="livret1:…" required
                    on:input=move |ev| other.set(event_target_value(&ev)) prop:value=other/>
                <button type="submit" id="ajouter-appareil" disabled=busy>
                    {move || i18n::t("Ajouter cet appareil", "Add this device")}
                </button>
            </form>
            <details>
                <summary>
                    {move || i18n::t(
                        "Appareil perdu ? Utiliser mon kit de secours",
                        "Lost a device? Use my recovery kit",
                    )}
                </summary>
                <form on:submit=use_kit>
                    <label for="kit-secours">
                        {move || i18n::t("Kit de secours (les deux lignes)", "Recovery kit (both lines)")}
                    </label>
                    <textarea id="kit-secours" rows="3" autocomplete="off" spellcheck="false" required
                        on:input=move |ev| kit_text.set(event_target_value(&ev))
                        prop:value=kit_text></textarea>
                    <button type="submit" id="utiliser-kit" disabled=busy>
                        {move || i18n::t("Récupérer mes dossiers", "Recover my dossiers")}
                    </button>
                </form>
            </details>
            {move || status.get().map(|s| match s {
                Ok(m) => view! { <p role="status" data-testid="appareils-etat">{m.text()}</p> }.into_any(),
                Err(e) => view! { <p class="erreur" role="alert" data-testid="appareils-etat">{e.text()}</p> }.into_any(),
            })}
        </section>
    }
}
