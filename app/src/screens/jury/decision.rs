//! The jury's decision form: the outcome, blocs acquired, reasons; released to the candidate.

use super::*;

/// The decision: proposed from the ratings (a compétence is acquired when most jurors who
/// rated it say acquis or maîtrise), amended by the juror, its outcome and motifs, then
/// released to the candidate.
#[component]
pub(super) fn FormulaireDecision(reviews: Memo<Vec<Seen>>) -> impl IntoView {
    let st = EditorState::get();
    // `None`: follows the ratings; set once the juror changes a result by hand.
    let chosen = RwSignal::new(None::<BTreeMap<String, bool>>);
    let message = RwSignal::new(None::<Result<String, String>>);
    let proposed = Memo::new(move |_| {
        let all: Vec<JurorReview> = reviews.get().into_iter().map(|s| s.review).collect();
        st.referentiel
            .with_value(|r| r.as_ref().map(|r| Decision::propose(r, &all)))
            .unwrap_or_default()
    });
    let results = move || chosen.get().unwrap_or_else(|| proposed.get());
    // The référentiel's rules the session's jury breaks, said before anything is released.
    let breaches = RwSignal::new(Vec::<livret_shared::session::Breach>::new());
    if let Ok(id) = session::with_open(|r| r.id.to_string()) {
        leptos::task::spawn_local(async move {
            let theirs = st.referentiel.get_value();
            if let Ok(found) = session::jury_breaches(&id, theirs.as_ref()).await {
                let _ = breaches.try_set(found);
            }
        });
    }
    let released = move || {
        st.revision.get();
        session::with_open(|r| r.decision().map(|(_, d)| d))
            .ok()
            .flatten()
    };
    let outcome = move || {
        let results = results();
        st.referentiel.with_value(|r| {
            r.as_ref().map(|r| {
                let o = review::outcome(r, &results);
                if en() { o.label_en() } else { o.label_fr() }
            })
        })
    };
    let boxes = move || {
        let results = results();
        let referentiel = st.referentiel.get_value()?;
        Some(
            referentiel
                .competences()
                .map(|(_, c)| {
                    let code = c.code.clone();
                    let id = format!("acquise-{}", code_id(&code));
                    let yes = results.get(&code).copied().unwrap_or(false);
                    let toggle = {
                        let code = code.clone();
                        move |ev: leptos::ev::Event| {
                            let on = event_target_checked(&ev);
                            let mut now = results_untracked(chosen, proposed);
                            now.insert(code.clone(), on);
                            chosen.set(Some(now));
                        }
                    };
                    view! {
                        <div class="case">
                            <input type="checkbox" id=id.clone() prop:checked=yes on:change=toggle/>
                            <label for=id>{format!("{code} — {} ({})", c.title, t("acquise", "acquired"))}</label>
                        </div>
                    }
                })
                .collect_view(),
        )
    };
    let publish = move |_| {
        message.set(None);
        let date = input_value("decision-date");
        let motifs = input_value("decision-motifs").trim().to_string();
        let Some(referentiel) = st.referentiel.get_value() else {
            return;
        };
        if date.trim().is_empty() {
            message.set(Some(Err(t(
                "Indiquez la date du jury.",
                "Give the jury's date.",
            )
            .into())));
            return;
        }
        let jury: BTreeSet<String> = reviews
            .get_untracked()
            .into_iter()
            .map(|s| s.review.juror)
            .chain(std::iter::once(juror_name()))
            .filter(|n| !n.trim().is_empty())
            .collect();
        let (date, jury) = (date.trim().to_string(), jury.into_iter().collect());
        let decision = match input_value("decision-presence").as_str() {
            absent @ ("absent" | "excuse") => Decision::absent(
                &referentiel,
                absent == "excuse",
                date,
                jury,
                motifs,
                now_ms(),
            ),
            _ => Decision::new(
                &referentiel,
                results_untracked(chosen, proposed),
                date,
                jury,
                motifs,
                now_ms(),
            ),
        };
        let mut decision = decision;
        decision.reserve = input_value("decision-reserve").trim().to_string();
        if decision.check().is_err() {
            message.set(Some(Err(t(
                "Donnez les motifs : ce qui reste à acquérir ou les raisons du refus.",
                "Give the reasons: what remains to acquire, or why it is refused.",
            )
            .into())));
            return;
        }
        let written = session::with_open(|r| r.release_decision(decision.clone()))
            .and_then(|r| r.map_err(session::Error::from));
        match written {
            Ok(()) => {
                persist(st);
                message.set(Some(Ok(t(
                    "Décision publiée : le candidat la lira à sa prochaine synchronisation.",
                    "Decision released: the candidate reads it at their next sync.",
                )
                .into())));
            }
            Err(e) => message.set(Some(Err(e.to_string()))),
        }
    };
    view! {
        <details class="decision-form" id="formulaire-decision">
            <summary>{move || t("Décision du jury", "The jury's decision")}</summary>
            <p class="aide">{move || t(
                "Proposée d'après les notes (acquise quand la majorité des jurés qui l'ont notée disent acquis ou maîtrise) ; modifiez-la si le jury en décide autrement. Seule la décision publiée est lue par le candidat.",
                "Proposed from the ratings (acquired when most jurors who rated it say acquired or mastered); change it if the jury decides otherwise. Only the released decision is read by the candidate.",
            )}</p>
            {move || (!breaches.get().is_empty()).then(|| view! {
                <div class="erreur" role="alert" data-testid="decision-regles">
                    <p>{t(
                        "Règles du référentiel sur le jury non respectées par la session (le procès-verbal les relèvera) :",
                        "Rules of the référentiel on the jury the session does not meet (the procès-verbal will record them):",
                    )}</p>
                    <ul>{breaches.get().into_iter().map(|b| view! {
                        <li>{if en() { b.label_en() } else { b.label_fr() }}</li>
                    }).collect_view()}</ul>
                </div>
            })}
            <label for="decision-date">{move || t("Date du jury", "Date of the jury")}</label>
            <input type="date" id="decision-date"/>
            <label for="decision-presence">{move || t("Le candidat à la session", "The candidate at the session")}</label>
            <select id="decision-presence">
                <option value="present">{move || t("présent·e", "present")}</option>
                <option value="absent">{move || t("absent·e", "absent")}</option>
                <option value="excuse">{move || t("absent·e excusé·e", "absent, excused")}</option>
            </select>
            <fieldset>
                <legend>{move || t("Compétences acquises", "Skills acquired")}</legend>
                {boxes}
            </fieldset>
            <button type="button" class="secondaire" on:click=move |_| chosen.set(None)>
                {move || t("Reprendre la proposition des notes", "Back to the proposal from the ratings")}
            </button>
            <p data-testid="issue-proposee">{move || t("Issue :", "Outcome:")} " " <strong>{outcome}</strong></p>
            <label for="decision-motifs">{move || t("Motifs (compétences restant à acquérir, raisons)", "Reasons (skills still to acquire, why)")}</label>
            <textarea id="decision-motifs" rows="3"></textarea>
            <label for="decision-reserve">{move || t("Sous réserve de (facultatif)", "Subject to (optional)")}</label>
            <input type="text" id="decision-reserve"/>
            <button type="button" id="publier-decision" on:click=publish>{move || t("Publier la décision au candidat", "Release the decision to the candidate")}</button>
            {move || message.get().map(|m| match m {
                Ok(m) => view! { <p role="status" data-testid="decision-etat">{m}</p> }.into_any(),
                Err(e) => view! { <p class="erreur" role="alert" data-testid="decision-etat">{e}</p> }.into_any(),
            })}
            {move || released().map(|d| view! {
                <p class="aide">{format!("{} {} ({})", t("Publiée :", "Released:"), if en() { d.outcome.label_en() } else { d.outcome.label_fr() }, d.date)}</p>
            })}
        </details>
    }
}

pub(super) fn results_untracked(
    chosen: RwSignal<Option<BTreeMap<String, bool>>>,
    proposed: Memo<BTreeMap<String, bool>>,
) -> BTreeMap<String, bool> {
    chosen
        .get_untracked()
        .unwrap_or_else(|| proposed.get_untracked())
}
