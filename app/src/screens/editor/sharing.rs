//! Sharing the dossier: members added by identity or invited by e-mail, removed; join
//! requests; reminders before the jury.

use super::*;

pub(super) fn role_from_choice(choice: &str) -> Role {
    if choice == "juror" {
        Role::Juror
    } else {
        Role::Advisor
    }
}

pub(super) fn role_name(role: Role) -> &'static str {
    match role {
        Role::Owner => t("Candidat", "Candidate"),
        Role::Juror => t("Juré", "Juror"),
        _ => t("Accompagnateur", "Advisor"),
    }
}

/// Shares the dossier: an invitation by e-mail (the relay mails a one-time link; the person
/// answers it from their device; their request shows here with a safety code to compare
/// before giving access), or directly with a device's identity line.
#[component]
pub(super) fn Partage() -> impl IntoView {
    // Bumped when this device changes who belongs: the members list is read again.
    let members_rev = RwSignal::new(0u32);
    let identity = RwSignal::new(String::new());
    let role = RwSignal::new("advisor".to_string());
    let message = RwSignal::new(None::<Result<String, String>>);
    let give_access = move |line: String, role: Role| async move {
        let shared = session::share(&line, role).await;
        if shared.is_ok() {
            // The new membership entry goes to the relay with a full sync.
            session::sync_now();
            members_rev.update(|r| *r += 1);
        }
        shared
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (line, role) = (identity.get(), role_from_choice(&role.get()));
        spawn_local(async move {
            match give_access(line, role).await {
                Ok(()) => {
                    identity.set(String::new());
                    message.set(Some(Ok(t("Dossier partagé.", "Dossier shared.").into())));
                }
                Err(e) => message.set(Some(Err(e.to_string()))),
            }
        });
    };
    let email = RwSignal::new(String::new());
    let invited_role = RwSignal::new("advisor".to_string());
    let name = RwSignal::new(String::new());
    let invited = RwSignal::new(None::<Result<String, String>>);
    let invite = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (to, role, name) = (
            email.get(),
            role_from_choice(&invited_role.get()),
            name.get(),
        );
        spawn_local(async move {
            invited.set(Some(match session::invite(&to, role, Some(name)).await {
                Ok(()) => {
                    email.set(String::new());
                    Ok(if en() {
                        format!("Invitation sent to {to}. Their request will show below once they open the link.")
                    } else {
                        format!("Invitation envoyée à {to}. Sa demande apparaîtra ci-dessous quand la personne aura ouvert le lien.")
                    })
                }
                Err(e) => Err(e.to_string()),
            }));
        });
    };
    // Requests: identity line, role, safety code.
    let requests = RwSignal::new(None::<Result<Vec<(String, Role, String)>, String>>);
    let refresh = move || {
        spawn_local(async move {
            requests.set(Some(
                session::join_requests().await.map_err(|e| e.to_string()),
            ));
        })
    };
    // While the sharing panel is open, answers to invitations show up by themselves.
    let panel_open = RwSignal::new(false);
    let watching = StoredValue::new(false);
    let on_toggle = move |ev: leptos::ev::Event| {
        use wasm_bindgen::JsCast;
        let open = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlDetailsElement>().ok())
            .is_some_and(|d| d.open());
        panel_open.set(open);
        let owner = session::members()
            .iter()
            .any(|m| m.me && m.role == Role::Owner);
        if open && owner && !watching.get_value() {
            watching.set_value(true);
            spawn_local(async move {
                while panel_open.try_get_untracked() == Some(true) {
                    requests.set(Some(
                        session::join_requests().await.map_err(|e| e.to_string()),
                    ));
                    session::sleep(REQUESTS_POLL_MS).await;
                }
                let _ = watching.try_set_value(false);
            });
        }
    };
    view! {
        <details class="partage" on:toggle=on_toggle>
            <summary>{move || t("Partager ce dossier", "Share this dossier")}</summary>
            <h4 id="titre-invitation">{move || t("Inviter par courriel", "Invite by e-mail")}</h4>
            <form on:submit=invite aria-labelledby="titre-invitation">
                <label for="invitation-courriel">{move || t("Adresse de la personne", "The person's address")}</label>
                <input id="invitation-courriel" type="email" required autocomplete="off"
                    on:input=move |ev| email.set(event_target_value(&ev)) prop:value=email/>
                <label for="invitation-role">{move || t("Rôle", "Role")}</label>
                <select id="invitation-role" on:change=move |ev| invited_role.set(event_target_value(&ev)) prop:value=invited_role>
                    <RoleOptions/>
                </select>
                <label for="invitation-nom">{move || t("Votre nom, tel que le courriel le montrera (facultatif)", "Your name, as the e-mail will show it (optional)")}</label>
                <input id="invitation-nom" type="text" autocomplete="name"
                    on:input=move |ev| name.set(event_target_value(&ev)) prop:value=name/>
                <p class="aide">{move || t(
                    "Le courriel ne contient qu'un lien à usage unique et votre nom : rien du dossier.",
                    "The e-mail holds a one-time link and your name only: nothing of the dossier.",
                )}</p>
                <button type="submit" id="inviter">{move || t("Envoyer l'invitation", "Send the invitation")}</button>
            </form>
            {move || invited.get().map(|m| match m {
                Ok(t) => view! { <p role="status" data-testid="invitation-etat">{t}</p> }.into_any(),
                Err(e) => view! { <p class="erreur" role="alert" data-testid="invitation-etat">{e}</p> }.into_any(),
            })}
            <h4 id="titre-demandes">{move || t("Demandes d'accès", "Access requests")}</h4>
            <p class="aide">{move || t(
                "Avant de donner accès, demandez à la personne le code de sécurité que montre son appareil : il doit être le même qu'ici.",
                "Before giving access, ask the person for the safety code their device shows: it must be the same as here.",
            )}</p>
            <button type="button" class="secondaire" id="actualiser-demandes" on:click=move |_| refresh()>
                {move || t("Voir les demandes", "Show the requests")}
            </button>
            {move || requests.get().map(|r| match r {
                Err(e) => view! { <p class="erreur" role="alert" data-testid="demandes">{e}</p> }.into_any(),
                Ok(list) if list.is_empty() => view! {
                    <p role="status" data-testid="demandes">{move || t("Aucune demande en attente.", "No request waiting.")}</p>
                }.into_any(),
                Ok(list) => view! {
                    <ul data-testid="demandes">
                        {list.into_iter().enumerate().map(|(n, (line, role, code))| {
                            let label = code.clone();
                            view! {
                                <li data-code=code>
                                    {move || role_name(role)}
                                    " — "
                                    {move || t("code de sécurité", "safety code")}
                                    " "
                                    <strong>{label}</strong>
                                    " "
                                    <button type="button" id=format!("donner-acces-{n}") on:click=move |_| {
                                        let line = line.clone();
                                        spawn_local(async move {
                                            match give_access(line.clone(), role).await {
                                                Ok(()) => {
                                                    message.set(Some(Ok(t("Accès donné.", "Access given.").into())));
                                                    // Off the list now; the relay drops it too once the
                                                    // membership entry reaches it (the sync just asked).
                                                    requests.update(|r| {
                                                        if let Some(Ok(list)) = r {
                                                            list.retain(|(l, _, _)| *l != line);
                                                        }
                                                    });
                                                }
                                                Err(e) => message.set(Some(Err(e.to_string()))),
                                            }
                                        });
                                    }>{move || t("Donner accès", "Give access")}</button>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any(),
            })}
            // Sharing by a device's identity line is for people who exchanged it another way:
            // the e-mail invitation above is the plain path, so this one stays folded.
            <details class="partage-identite">
                <summary>{move || t(
                    "Partager avec l'identité d'un appareil, sans courriel",
                    "Share with a device's identity, without e-mail",
                )}</summary>
                <form on:submit=submit>
                    <label for="partage-identite">{move || t("Identité de l'appareil de la personne (livret1:…)", "The person's device identity (livret1:…)")}</label>
                    <input id="partage-identite" type="text" required
                        on:input=move |ev| identity.set(event_target_value(&ev)) prop:value=identity/>
                    <label for="partage-role">{move || t("Rôle", "Role")}</label>
                    <select id="partage-role" on:change=move |ev| role.set(event_target_value(&ev)) prop:value=role>
                        <RoleOptions/>
                    </select>
                    <button type="submit" id="partager">{move || t("Partager", "Share")}</button>
                </form>
                {move || message.get().map(|m| match m {
                    Ok(t) => view! { <p role="status">{t}</p> }.into_any(),
                    Err(e) => view! { <p class="erreur" role="alert">{e}</p> }.into_any(),
                })}
            </details>
            <Membres members_rev=members_rev/>
            <Rappels/>
        </details>
    }
}

/// The roles a member can be given, said with what each does (an invitation, a share).
#[component]
fn RoleOptions() -> impl IntoView {
    view! {
        <option value="advisor">{move || t("Accompagnateur — modifie le dossier", "Advisor — edits the dossier")}</option>
        <option value="juror">{move || t("Juré — lit le dossier", "Juror — reads the dossier")}</option>
    }
}

/// Who belongs to the dossier, by the names the candidate gave, and (for the candidate)
/// naming someone and removing someone: a new key epoch for those who remain; the person
/// keeps what they had and reads nothing written after.
#[component]
pub(super) fn Membres(members_rev: RwSignal<u32>) -> impl IntoView {
    let st = EditorState::get();
    let status = RwSignal::new(None::<Result<String, String>>);
    // The line whose removal waits for a confirmation.
    let confirming = RwSignal::new(None::<String>);
    // The line being named, and the name typed.
    let naming = RwSignal::new(None::<String>);
    let draft = RwSignal::new(String::new());
    // A memo: the list is drawn again only when who belongs or their names changed, not on
    // each keystroke (which would also take the focus off its buttons).
    let members = Memo::new(move |_| {
        members_rev.get();
        st.revision.get();
        session::members()
    });
    let i_own = move || members.get().iter().any(|m| m.me && m.role == Role::Owner);
    let save_name = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(line) = naming.get_untracked() else {
            return;
        };
        match session::name_member(&line, &draft.get_untracked()) {
            Ok(()) => {
                naming.set(None);
                status.set(None);
                persist(st);
                // Back on the row's button, drawn again.
                if let Some(n) = members.get_untracked().iter().position(|m| m.line == line) {
                    super::sections::focus_soon(format!("nommer-{n}"), None);
                }
            }
            Err(e) => status.set(Some(Err(e.to_string()))),
        }
    };
    view! {
        <h4 id="titre-membres">{move || t("Membres du dossier", "Members of the dossier")}</h4>
        <ul data-testid="membres" aria-labelledby="titre-membres">
            {move || members.get().into_iter().enumerate().map(|(n, m)| {
                let removable = i_own() && !m.me && m.role != Role::Owner;
                let asked = m.line.clone();
                let confirm_line = m.line.clone();
                let named_line = m.line.clone();
                let (name, kit, me, role) = (m.name.clone(), m.kit, m.me, m.role);
                let had_name = name.clone().unwrap_or_default();
                // Who it is, in words: the kit, the name given, or (unnamed) the role, and
                // for another key of the candidate's what it may be.
                let who = move || match (&name, kit) {
                    (_, true) if i_own() => t("Kit de secours (votre clé sur papier)", "Recovery kit (your key on paper)").to_string(),
                    (_, true) => t("Kit de secours du candidat", "The candidate's recovery kit").to_string(),
                    (Some(name), _) => format!("{name} — {}", role_name(role)),
                    (None, _) if role == Role::Owner && !me && i_own() => t(
                        "Candidat — une autre de vos clés : un autre appareil ou votre kit de secours",
                        "Candidate — another of your keys: another device or your recovery kit",
                    ).to_string(),
                    (None, _) => role_name(role).to_string(),
                };
                let who_for_button = who.clone();
                view! {
                    <li data-code=m.safety_code.clone() data-nom=m.name.clone().unwrap_or_default()>
                        <span class="membre">{who}</span>
                        " — "
                        {move || t("code de sécurité", "safety code")}
                        " "
                        <strong>{m.safety_code.clone()}</strong>
                        {me.then(|| view! { " " {move || t("(cet appareil)", "(this device)")} })}
                        {move || (i_own() && !kit).then(|| {
                            let line = named_line.clone();
                            let had = had_name.clone();
                            let who = who_for_button.clone();
                            if naming.get().as_deref() == Some(line.as_str()) {
                                view! {
                                    <form class="nommer" on:submit=save_name>
                                        <label for=format!("nom-membre-{n}")>{move || t("Nom", "Name")}</label>
                                        <input id=format!("nom-membre-{n}") type="text" maxlength="80"
                                            prop:value=draft on:input=move |ev| draft.set(event_target_value(&ev))/>
                                        <button type="submit" id=format!("enregistrer-nom-{n}")>{move || t("Enregistrer", "Save")}</button>
                                        <button type="button" class="secondaire" on:click=move |_| {
                                            naming.set(None);
                                            super::sections::focus_soon(format!("nommer-{n}"), None);
                                        }>{move || t("Annuler", "Cancel")}</button>
                                    </form>
                                }.into_any()
                            } else {
                                view! {
                                    " "
                                    <button type="button" class="lien" id=format!("nommer-{n}")
                                        aria-label=move || format!("{} : {}", t("Nommer", "Name"), who())
                                        on:click=move |_| {
                                            draft.set(had.clone());
                                            naming.set(Some(line.clone()));
                                            super::sections::focus_soon(format!("nom-membre-{n}"), None);
                                        }>
                                        {move || t("Nommer", "Name")}
                                    </button>
                                }.into_any()
                            }
                        })}
                        {removable.then(|| view! {
                            " "
                            {move || if confirming.get().as_deref() == Some(asked.as_str()) {
                                let line = confirm_line.clone();
                                view! {
                                    <button type="button" id=format!("confirmer-retrait-{n}") on:click=move |_| {
                                        let line = line.clone();
                                        confirming.set(None);
                                        status.set(Some(Ok(t("Retrait en cours…", "Removing…").into())));
                                        spawn_local(async move {
                                            status.set(Some(match session::remove_member(&line).await {
                                                Ok(()) => {
                                                    members_rev.update(|r| *r += 1);
                                                    Ok(t(
                                                        "Accès retiré : une nouvelle clé protège ce qui sera écrit désormais.",
                                                        "Access removed: a new key protects what is written from now on.",
                                                    ).into())
                                                }
                                                Err(e) => Err(e.to_string()),
                                            }));
                                        });
                                    }>{move || t("Confirmer le retrait", "Confirm the removal")}</button>
                                }.into_any()
                            } else {
                                let line = asked.clone();
                                view! {
                                    <button type="button" class="secondaire" id=format!("retirer-{n}")
                                        on:click=move |_| confirming.set(Some(line.clone()))>
                                        {move || t("Retirer l'accès", "Remove access")}
                                    </button>
                                }.into_any()
                            }}
                        })}
                    </li>
                }
            }).collect_view()}
        </ul>
        {move || status.get().map(|m| match m {
            Ok(t) => view! { <p role="status" data-testid="membres-etat">{t}</p> }.into_any(),
            Err(e) => view! { <p class="erreur" role="alert" data-testid="membres-etat">{e}</p> }.into_any(),
        })}
    }
}

/// The jury's date and the reminders the relay mails before it (it learns the date and the
/// address, nothing of the dossier).
#[component]
pub(super) fn Rappels() -> impl IntoView {
    let (date, email) = session::with_open(|r| {
        let d = r.dossier();
        (
            d.get("projet_vae.date_jury").unwrap_or_default(),
            d.get("etat_civil.courriel").unwrap_or_default(),
        )
    })
    .unwrap_or_default();
    // The jury's date from the dossier (older free text only when it reads as a day).
    let date = RwSignal::new(
        livret_shared::date::Date::read(&date)
            .map(livret_shared::date::Date::iso)
            .unwrap_or_default(),
    );
    let email = RwSignal::new(email);
    let status = RwSignal::new(None::<Result<String, String>>);
    let run = move |jury: Option<livret_shared::date::Date>| {
        let to = email.get_untracked();
        spawn_local(async move {
            status.set(Some(match session::set_reminders(&to, jury).await {
                Ok(due) if due.is_empty() => {
                    Ok(t("Aucun rappel programmé.", "No reminder scheduled.").into())
                }
                Ok(due) => {
                    let when: Vec<String> = due
                        .iter()
                        .map(|ms| {
                            let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(*ms as f64));
                            String::from(d.to_locale_date_string(
                                if en() { "en-GB" } else { "fr-FR" },
                                &wasm_bindgen::JsValue::UNDEFINED,
                            ))
                        })
                        .collect();
                    Ok(format!(
                        "{}{}",
                        t("Rappels programmés : ", "Reminders scheduled: "),
                        when.join(", ")
                    ))
                }
                Err(e) => Err(e.to_string()),
            }));
        });
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match livret_shared::date::Date::parse(&date.get_untracked()) {
            Some(jury) => run(Some(jury)),
            None => status.set(Some(Err(t(
                "Indiquez le jour du jury.",
                "Give the day of the jury.",
            )
            .into()))),
        }
    };
    view! {
        <h4 id="titre-rappels">{move || t("Rappels avant le jury", "Reminders before the jury")}</h4>
        <form on:submit=submit aria-labelledby="titre-rappels">
            <p class="aide">{move || t(
                "Le serveur vous écrira 30, 7 et 1 jours avant le jury. Il apprend la date et l'adresse, rien de votre dossier.",
                "The server will write to you 30, 7 and 1 days before the jury. It learns the date and the address, nothing of your dossier.",
            )}</p>
            <label for="rappel-date">{move || t("Date du jury", "Jury date")}</label>
            <input id="rappel-date" type="date" required prop:value=date
                on:input=move |ev| date.set(event_target_value(&ev))/>
            <label for="rappel-courriel">{move || t("Adresse à laquelle vous écrire", "Address to write to")}</label>
            <input id="rappel-courriel" type="email" required autocomplete="email" prop:value=email
                on:input=move |ev| email.set(event_target_value(&ev))/>
            <div class="actions">
                <button type="submit" id="programmer-rappels">{move || t("Programmer les rappels", "Schedule the reminders")}</button>
                <button type="button" class="secondaire" id="annuler-rappels" on:click=move |_| run(None)>
                    {move || t("Annuler les rappels", "Cancel the reminders")}
                </button>
            </div>
        </form>
        {move || status.get().map(|m| match m {
            Ok(t) => view! { <p role="status" data-testid="rappels-etat">{t}</p> }.into_any(),
            Err(e) => view! { <p class="erreur" role="alert" data-testid="rappels-etat">{e}</p> }.into_any(),
        })}
    }
}
