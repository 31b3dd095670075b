//! The home screen: the dossiers on this device, a new dossier on a référentiel, invitations
//! answered, this device's identity and the candidate's other devices.

mod devices;
mod referentiels;
mod templates;

use devices::{DeviceProposals, MyDevices};
use referentiels::{ImportReferentiel, ReferentielCard};
use templates::{ImportTemplate, TemplateChoice, chosen_template};

use leptos::prelude::*;
use leptos::task::spawn_local;
use livret_shared::membership::Role;

use crate::i18n;
use crate::{AppState, Message, Screen, invitation_in_address, session, set_address};

#[component]
pub fn Home() -> impl IntoView {
    let AppState { screen, notice } = AppState::get();
    // Back from a dossier its candidate deleted (here or on another device), or removed
    // this device from: said once.
    if let Some(ended) = session::take_just_ended() {
        notice.set(Some(Message::error(session::ended_text(ended))));
    }
    // The built-in référentiels, then those imported on this device (empty until read).
    let all = RwSignal::new(Vec::new());
    let read = RwSignal::new(false);
    spawn_local(async move {
        let mut found = session::built_in_referentiels().await;
        if let Ok(imported) = session::imported_referentiels().await {
            found.extend(imported.into_iter().map(|(id, r)| (id, Ok(r))));
        }
        let _ = all.try_update(|a| {
            // Imported while these were read (the form is not shown before; kept anyway).
            found.retain(|(id, _)| !a.iter().any(|(i, _)| i == id));
            a.splice(0..0, found);
        });
        let _ = read.try_set(true);
    });
    // Each readable référentiel: its id, title and RNCP number.
    let choices = move || -> Vec<(String, Option<String>, Option<String>)> {
        all.with(|a| {
            a.iter()
                .filter_map(|(id, r)| {
                    let r = r.as_ref().ok()?;
                    Some((id.clone(), r.title.clone(), r.rncp.clone()))
                })
                .collect()
        })
    };
    // An option's text alone follows the language: the options stay, and the one chosen too.
    let option = |(id, title, rncp): (String, Option<String>, Option<String>)| {
        let label = {
            let id = id.clone();
            move || {
                let title = title.clone().unwrap_or_else(|| {
                    if i18n::en() {
                        format!("Framework {id}")
                    } else {
                        format!("Référentiel {id}")
                    }
                });
                match &rncp {
                    Some(rncp) => format!("{title} ({rncp})"),
                    None => title,
                }
            }
        };
        view! { <option value=id>{label}</option> }
    };
    // The one chosen (or imported), else the first once they are read.
    let chosen = RwSignal::new(String::new());
    let selected = move || {
        let id = chosen.get();
        if id.is_empty() {
            choices()
                .into_iter()
                .next()
                .map(|c| c.0)
                .unwrap_or_default()
        } else {
            id
        }
    };
    // The chosen référentiel's RNCP number: the templates offered are those meant for it.
    let rncp = Signal::derive(move || {
        let id = selected();
        choices()
            .into_iter()
            .find(|c| c.0 == id)
            .and_then(|c| c.2)
            .unwrap_or_default()
    });
    // Templates imported on this device, and the one picked (`id@version`; the first
    // offered when none).
    let imported = RwSignal::new(Vec::new());
    let picked = RwSignal::new(String::new());
    spawn_local(async move {
        if let Ok(found) = session::imported_templates().await {
            let _ = imported.try_update(|i| {
                for t in found {
                    if !i
                        .iter()
                        .any(|o: &&livret_shared::template::Template| std::ptr::eq(*o, t))
                    {
                        i.push(t);
                    }
                }
            });
        }
    });
    let dossiers = RwSignal::new(None::<Result<Vec<session::DossierSummary>, String>>);
    // Dossiers shared with this device, or made on another of the candidate's, are found
    // by asking the relay (when it answers; the local list shows first).
    let searching = RwSignal::new(None::<Message>);
    let running = RwSignal::new(false);
    // Devices to confirm as the candidate's (see `session::discover`), shown with the list.
    let proposals = RwSignal::new(Vec::<session::DeviceProposal>::new());
    let ask_about_devices = move || {
        spawn_local(async move {
            if let Ok(p) = session::device_proposals().await {
                let _ = proposals.try_set(p);
            }
        });
    };
    let search = move || {
        // One search at a time: a second would find the first one's dossiers already here.
        if running.get_untracked() {
            return;
        }
        running.set(true);
        searching.set(Some(Message::new(
            "Recherche de vos dossiers sur le serveur…",
            "Looking for your dossiers on the server…",
        )));
        spawn_local(async move {
            let found = session::discover().await;
            searching.set(Some(match &found {
                Ok(0) => Message::new(
                    "Aucun nouveau dossier sur le serveur.",
                    "No new dossiers on the server.",
                ),
                Ok(n) => Message::new(
                    format!("{n} nouveau(x) dossier(s) reçu(s) du serveur."),
                    format!("{n} new dossier(s) received from the server."),
                ),
                Err(e) => Message::new(
                    format!(
                        "Serveur injoignable pour l'instant ({e}).",
                        e = e.words(false)
                    ),
                    format!(
                        "The server cannot be reached for now ({e}).",
                        e = e.words(true)
                    ),
                ),
            }));
            if matches!(found, Ok(n) if n > 0) {
                dossiers.set(Some(
                    session::list_dossiers().await.map_err(|e| e.to_string()),
                ));
            }
            ask_about_devices();
            running.set(false);
        });
    };
    spawn_local(async move {
        dossiers.set(Some(
            session::list_dossiers().await.map_err(|e| e.to_string()),
        ));
        search();
    });
    // Opened from an invitation link: answer it with this device's identity, show the
    // safety code to give the candidate, then look for the dossier now and then until the
    // candidate has given access (while this page is open).
    if let Some(token) = invitation_in_address() {
        set_address(None);
        notice.set(Some(Message::new(
            "Réponse à l'invitation…",
            "Answering the invitation…",
        )));
        spawn_local(async move {
            let accepted = session::accept_invitation(&token).await;
            let code = session::safety_code();
            let answered = accepted.is_ok();
            let _ = notice.try_set(Some(match accepted {
                Ok(role) => {
                    let (fr, en) = match role {
                        Role::Juror => ("juré", "juror"),
                        _ => ("accompagnateur", "advisor"),
                    };
                    Message::new(
                        format!(
                            "Invitation acceptée ({fr}). Votre code de sécurité : {code}. \
                             Donnez-le au candidat : il doit voir le même avant de vous donner \
                             accès. Le dossier apparaîtra ici ensuite."
                        ),
                        format!(
                            "Invitation accepted ({en}). Your safety code: {code}. Give it to \
                             the candidate: they must see the same one before giving you \
                             access. The dossier will then show here."
                        ),
                    )
                }
                Err(e) => Message::new(
                    format!("Invitation non acceptée : {e}", e = e.words(false)),
                    format!("Invitation not accepted: {e}", e = e.words(true)),
                ),
            }));
            if !answered {
                return;
            }
            // Bounded: about ten minutes, and never after the page has moved on.
            for _ in 0..200 {
                session::sleep(3_000).await;
                match running.try_get_untracked() {
                    None => return,
                    // A search the user started is under way: it will find it.
                    Some(true) => continue,
                    Some(false) => {}
                }
                running.set(true);
                let found = session::discover().await;
                let _ = running.try_set(false);
                if matches!(found, Ok(n) if n > 0) {
                    let _ = dossiers.try_set(Some(
                        session::list_dossiers().await.map_err(|e| e.to_string()),
                    ));
                    ask_about_devices();
                    return;
                }
            }
        });
    }
    let problem = RwSignal::new(None::<Message>);
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let id = selected();
        // The référentiels already read for this page, not read again.
        let Some(r) = all.with_untracked(|all| {
            all.iter()
                .find(|(i, _)| *i == id)
                .and_then(|(_, r)| r.as_ref().ok().cloned())
        }) else {
            problem.set(Some(Message::new(
                "Référentiel introuvable.",
                "Framework not found.",
            )));
            return;
        };
        let rncp = r.rncp.clone().unwrap_or_default();
        let template =
            imported.with_untracked(|i| chosen_template(&rncp, i, &picked.get_untracked()).1);
        let template = template.unwrap_or_else(|| livret_shared::template::default_for(&rncp));
        spawn_local(async move {
            match session::create_dossier(&r, template).await {
                Ok(id) => screen.set(Screen::Dossier(id)),
                Err(e) => problem.set(Some(Message::error(e))),
            }
        });
    };
    let identity = session::identity_line();
    view! {
        {move || notice.get().map(|n| view! { <p class="carte annonce" role="status" data-testid="annonce">{n.text()}</p> })}
        <section aria-labelledby="titre-dossiers" class="carte">
            <h2 id="titre-dossiers">{move || i18n::t("Mes dossiers", "My dossiers")}</h2>
            <p class="discret">
                <span role="status" data-testid="recherche-dossiers">
                    {move || searching.get().map(|s| s.text())}
                </span>
                " "
                <button type="button" id="rechercher-dossiers" class="lien" on:click=move |_| search()>
                    {move || i18n::t("Rechercher mes dossiers", "Look for my dossiers")}
                </button>
            </p>
            {move || match dossiers.get() {
                None => view! {
                    <p aria-busy="true">{move || i18n::t("Lecture des dossiers…", "Reading your dossiers…")}</p>
                }
                .into_any(),
                Some(Err(e)) => view! { <p class="erreur" role="alert">{e}</p> }.into_any(),
                // A first visit says what a livret 2 is and what the steps are, before any
                // device identity or sharing.
                Some(Ok(list)) if list.is_empty() => view! {
                    <p>{move || i18n::t("Aucun dossier pour l'instant.", "No dossiers yet.")}</p>
                    <div class="premiers-pas" data-testid="premiers-pas">
                        <p>{move || i18n::t(
                            "Le livret 2, ou dossier de validation, raconte votre expérience pour que le jury \
                             la compare aux compétences de la certification visée. Vous l'écrivez ici en quatre temps :",
                            "The livret 2, or validation dossier, tells your experience so that the jury can \
                             compare it with the skills of the qualification you seek. You write it here in four steps:",
                        )}</p>
                        <ol>
                            <li>{move || i18n::t("choisissez la certification visée et créez le dossier ;", "choose the qualification and create the dossier;")}</li>
                            <li>{move || i18n::t("remplissez-le étape par étape, à votre rythme, même sans connexion ;", "fill it in step by step, at your pace, even offline;")}</li>
                            <li>{move || i18n::t("invitez votre accompagnateur à le relire et l'écrire avec vous ;", "invite your advisor to read and write it with you;")}</li>
                            <li>{move || i18n::t("vérifiez ce qu'il reste à faire, puis exportez-le en PDF.", "check what is left, then export it as a PDF.")}</li>
                        </ol>
                    </div>
                }
                .into_any(),
                Some(Ok(list)) => {
                    let (sessions, dossiers): (Vec<_>, Vec<_>) =
                        list.into_iter().partition(|d| d.session.is_some());
                    view! {
                        <ul class="dossiers" data-testid="dossiers">
                            {dossiers.into_iter().enumerate().map(|(n, d)| {
                                let id = d.id.clone();
                                let title = move || d.title.clone().unwrap_or_else(|| {
                                    i18n::t("Dossier sans certification", "Dossier without a certification").into()
                                });
                                view! {
                                    <li>
                                        <button class="lien" id=format!("ouvrir-{n}") data-dossier=d.id.clone()
                                            on:click=move |_| screen.set(Screen::Dossier(id.clone()))>
                                            {title}
                                        </button>
                                        {move || if i18n::en() {
                                            format!(" — {} activity sheet(s)", d.fiches)
                                        } else {
                                            format!(" — {} fiche(s) activité", d.fiches)
                                        }}
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                        {(!sessions.is_empty()).then(|| view! {
                            <h3>{move || i18n::t("Sessions de jury", "Jury sessions")}</h3>
                            <ul class="dossiers" data-testid="sessions">
                                {sessions.into_iter().map(|d| {
                                    let id = d.id.clone();
                                    let title = d.title.clone().unwrap_or_default();
                                    let day = d.session.clone().unwrap_or_default();
                                    view! {
                                        <li>
                                            <button class="lien" data-session=d.id.clone()
                                                on:click=move |_| screen.set(Screen::Session(id.clone()))>
                                                {move || format!("{} {title} — {day}", i18n::t("Session", "Session"))}
                                            </button>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        })}
                    }
                    .into_any()
                }
            }}
            <DeviceProposals proposals=proposals/>
        </section>
        <section aria-labelledby="titre-nouveau" class="carte">
            <h2 id="titre-nouveau">{move || i18n::t("Nouveau dossier", "New dossier")}</h2>
            {move || (!read.get()).then(|| view! {
                <p aria-busy="true">{move || i18n::t("Lecture des référentiels…", "Reading the frameworks…")}</p>
            })}
            <form on:submit=create hidden=move || !read.get()>
                <label for="referentiel">
                    {move || i18n::t("Certification visée", "Target qualification")}
                </label>
                <select id="referentiel" on:change=move |ev| chosen.set(event_target_value(&ev))
                    prop:value=selected>
                    {move || choices().into_iter().map(option).collect_view()}
                </select>
                <TemplateChoice rncp=rncp imported=imported picked=picked/>
                <button type="submit" id="creer-dossier">
                    {move || i18n::t("Créer le dossier", "Create the dossier")}
                </button>
            </form>
            {move || problem.get().map(|p| view! { <p class="erreur" role="alert">{p.text()}</p> })}
            <ImportTemplate imported=imported picked=picked/>
        </section>
        <MyDevices identity=identity dossiers=dossiers/>
        <section aria-labelledby="titre-referentiels" class="carte">
            <h2 id="titre-referentiels">
                {move || i18n::t("Référentiels disponibles", "Available frameworks (référentiels)")}
            </h2>
            <ul class="referentiels" data-testid="referentiels">
                {move || all.get().into_iter().map(|(id, r)| view! { <ReferentielCard id=id result=r/> }).collect_view()}
            </ul>
            <ImportReferentiel all=all chosen=chosen/>
        </section>
    }
}
