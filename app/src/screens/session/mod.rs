//! A jury session, as a juror (or its manager) reads it in the app: the certification, the
//! dates and place, the session manager, the jury's members, each candidate with the
//! decision released for their dossier when this device holds it, and the rules of the
//! référentiel the jury breaks. The session is shared and sealed like a dossier
//! (`livret_shared::session`); it is written from the command line (`livret jury session`).

use leptos::prelude::*;
use leptos::task::spawn_local;
use livret_shared::referentiel::Referentiel;
use livret_shared::review::Decision;
use livret_shared::session::{
    self as jury_session, Breach, JurySession, PvLine, SessionCandidate, SessionPv, Voie,
};

use crate::i18n::{en, t};
use crate::session;

/// One candidate's line: who, and what this device holds of their dossier.
#[derive(Clone)]
struct Line {
    candidate: SessionCandidate,
    /// `None`: the dossier is not on this device.
    held: Option<Option<Decision>>,
}

/// What the page shows, read once the session is open and synced.
#[derive(Clone)]
struct Shown {
    session: JurySession,
    lines: Vec<Line>,
    breaches: Vec<Breach>,
}

async fn read(id: &str) -> Result<Shown, session::Error> {
    session::open_dossier(id).await?;
    // Up to date first, when the relay answers; what is here shows either way.
    let _ = session::sync_open().await;
    let (held, pinned) = session::with_open(|r| {
        (
            jury_session::read(r.dossier().automerge()),
            r.dossier().referentiel(),
        )
    })?;
    let held = held.map_err(|e| session::Error::said(e.to_string(), "not a jury session"))?;
    let mut lines = Vec::new();
    let mut breaches: Vec<Breach> = Vec::new();
    for c in &held.candidates {
        let found = session::candidate_dossier(&c.dossier).await;
        let rules: Option<Referentiel> = pinned
            .clone()
            .or_else(|| found.as_ref().and_then(|(_, r)| r.clone()));
        if let Some(r) = rules {
            for b in jury_session::breaches(&r.jury, &held, &[c.dossier.as_str()]) {
                if !breaches.contains(&b) {
                    breaches.push(b);
                }
            }
        }
        lines.push(Line {
            candidate: c.clone(),
            held: found.map(|(d, _)| d),
        });
    }
    Ok(Shown {
        session: held,
        lines,
        breaches,
    })
}

fn outcome_text(line: &Line) -> String {
    match &line.held {
        None => t(
            "dossier absent de cet appareil",
            "dossier not on this device",
        )
        .into(),
        Some(None) => t("décision non rendue", "no decision released yet").into(),
        Some(Some(d)) if en() => d.outcome.label_en(),
        Some(Some(d)) => d.outcome.label_fr(),
    }
}

#[component]
pub fn SessionJury(id: String, back: Callback<()>, open: Callback<String>) -> impl IntoView {
    let shown = RwSignal::new(None::<Result<Shown, String>>);
    spawn_local(async move {
        let result = read(&id).await.map_err(|e| e.to_string());
        let _ = shown.try_set(Some(result));
    });
    view! {
        <nav class="retour" aria-label=move || t("Navigation", "Navigation")>
            <button type="button" id="mes-dossiers" on:click=move |_| back.run(())>{move || t("← Mes dossiers", "← My dossiers")}</button>
        </nav>
        {move || match shown.get() {
            None => view! { <p aria-busy="true">{move || t("Ouverture de la session…", "Opening the session…")}</p> }.into_any(),
            Some(Err(e)) => view! { <p class="erreur" role="alert">{e}</p> }.into_any(),
            Some(Ok(s)) => view! { <Page shown=s open=open/> }.into_any(),
        }}
    }
}

#[component]
fn Page(shown: Shown, open: Callback<String>) -> impl IntoView {
    let info = shown.session.info.clone();
    let dates = if info.fin.is_empty() || info.fin == info.debut {
        info.debut.clone()
    } else {
        format!("{} → {}", info.debut, info.fin)
    };
    let place = if info.visio.is_empty() {
        info.lieu.clone()
    } else {
        info.visio.clone()
    };
    let members = shown.session.members.clone();
    let lines = shown.lines.clone();
    let breaches = shown.breaches.clone();
    view! {
        <article class="carte session-jury" data-testid="session-jury">
            <h2>{move || t("Session de jury", "Jury session")} " — " {info.certification.clone()}</h2>
            <dl class="session-infos">
                <dt>{move || t("N° RNCP", "RNCP number")}</dt><dd>{info.rncp.clone()}</dd>
                <dt>{move || t("Dates", "Dates")}</dt><dd>{dates}</dd>
                <dt>{move || t("Centre", "Centre")}</dt><dd>{info.centre.clone()}</dd>
                <dt>{move || t("Lieu ou visioconférence", "Place or video link")}</dt><dd>{place}</dd>
                <dt>{move || t("Responsable de session", "Session manager")}</dt>
                <dd>{format!("{} ({})", info.responsable, info.fonction)}</dd>
            </dl>
            <h3>{move || t("Membres du jury", "Members of the jury")}</h3>
            <table data-testid="session-membres">
                <thead><tr>
                    <th scope="col">{move || t("Nom", "Name")}</th>
                    <th scope="col">{move || t("Poste occupé", "Position")}</th>
                    <th scope="col">{move || t("Entreprise", "Company")}</th>
                    <th scope="col">{move || t("Extérieur", "From outside")}</th>
                </tr></thead>
                <tbody>
                    {members.into_iter().map(|m| view! {
                        <tr>
                            <td>{m.full_name()}</td>
                            <td>{m.poste.clone()}</td>
                            <td>{m.entreprise.clone()}</td>
                            <td>{move || if m.externe { t("oui", "yes") } else { t("non", "no") }}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            <h3>{move || t("Candidats", "Candidates")}</h3>
            <table data-testid="session-candidats">
                <thead><tr>
                    <th scope="col">{move || t("Candidat", "Candidate")}</th>
                    <th scope="col">{move || t("Voie d'accès", "Route")}</th>
                    <th scope="col">{move || t("Décision du jury", "The jury's decision")}</th>
                    <th scope="col">{move || t("Dossier", "Dossier")}</th>
                </tr></thead>
                <tbody>
                    {lines.into_iter().map(|line| {
                        let c = line.candidate.clone();
                        let voie = match c.voie { Voie::Vae => "VAE", Voie::Formation => "Formation" };
                        let dossier = c.dossier.clone();
                        let held = line.held.is_some();
                        let text = line.clone();
                        view! {
                            <tr>
                                <td>{format!("{} {}", c.prenom, c.nom.to_uppercase())}</td>
                                <td>{voie}</td>
                                <td>{move || outcome_text(&text)}</td>
                                <td>{held.then(|| {
                                    let dossier = dossier.clone();
                                    view! {
                                        <button type="button" class="lien" on:click=move |_| open.run(dossier.clone())>
                                            {move || t("Ouvrir le dossier", "Open the dossier")}
                                        </button>
                                    }
                                })}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            {(!breaches.is_empty()).then(|| view! {
                <div class="erreur" role="alert" data-testid="session-regles">
                    <p>{move || t(
                        "Règles du référentiel sur le jury non respectées (le procès-verbal les relève) :",
                        "Rules of the référentiel on the jury not met (the procès-verbal records them):",
                    )}</p>
                    <ul>
                        {breaches.into_iter().map(|b| view! {
                            <li>{move || if en() { b.label_en() } else { b.label_fr() }}</li>
                        }).collect_view()}
                    </ul>
                </div>
            })}
            <ProcesVerbal pv=SessionPv {
                session: shown.session.clone(),
                lines: shown.lines.iter().map(|l| PvLine {
                    candidate: l.candidate.clone(),
                    decision: l.held.clone().flatten(),
                }).collect(),
                breaches: shown.breaches.clone(),
            }/>
            <p class="aide">{move || t(
                "La session est écrite par son responsable (livret jury session).",
                "The session is written by its manager (livret jury session).",
            )}</p>
        </article>
    }
}

/// The session's procès-verbal as PDF, made on this device: the candidates whose decision
/// this device does not hold are marked « Décision non rendue », and said here first.
#[component]
fn ProcesVerbal(pv: SessionPv) -> impl IntoView {
    let made = RwSignal::new(None::<Result<String, String>>);
    let pending = pv.lines.iter().filter(|l| l.decision.is_none()).count();
    let pv = StoredValue::new(pv);
    let make = move |_| {
        made.set(None);
        spawn_local(async move {
            let result = session::session_pv(&pv.get_value())
                .await
                .map_err(|e| e.to_string());
            let _ = made.try_set(Some(result));
        });
    };
    view! {
        <h3>{move || t("Procès-verbal", "Procès-verbal")}</h3>
        {(pending > 0).then(|| view! {
            <p class="aide" data-testid="pv-en-attente">{move || if en() {
                format!("{pending} candidate(s) without a decision on this device: the PV marks them « Décision non rendue ».")
            } else {
                format!("{pending} candidat(s) sans décision rendue sur cet appareil : le PV les marque « Décision non rendue ».")
            }}</p>
        })}
        <button type="button" id="faire-pv" on:click=make>
            {move || t("Faire le procès-verbal de la session (PDF)", "Make the session's procès-verbal (PDF)")}
        </button>
        {move || made.get().map(|m| match m {
            Ok(url) => view! {
                <p role="status"><a id="pv-session" href=url download="proces-verbal-session.pdf">
                    {move || t("Télécharger le procès-verbal", "Download the procès-verbal")}
                </a></p>
            }.into_any(),
            Err(e) => view! { <p class="erreur" role="alert">{e}</p> }.into_any(),
        })}
    }
}
