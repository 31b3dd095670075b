//! What the candidate sees of the jury: its decision, and the récapitulatif of compétences
//! covered by the fiches.

use super::*;

/// The jury's decision once released (sealed with the dossier's key: what the candidate and
/// advisors read of the jury's work; the reviews themselves stay sealed for the jury).
#[component]
pub(super) fn DecisionJury() -> impl IntoView {
    let st = EditorState::get();
    let decision = Memo::new(move |_| {
        st.revision.get();
        session::with_open(|r| r.decision().map(|(_, d)| d))
            .ok()
            .flatten()
    });
    move || {
        decision.get().map(|d| {
            let outcome = if en() {
                d.outcome.label_en()
            } else {
                d.outcome.label_fr()
            };
            let results = d
                .competences
                .iter()
                .map(|(code, yes)| {
                    let result = if *yes {
                        t("acquise", "acquired")
                    } else {
                        t("non acquise", "not acquired")
                    };
                    view! { <li data-code=code.clone()>{format!("{code} : {result}")}</li> }
                })
                .collect_view();
            let jury = format!(
                "{} {} : {}",
                t("Jury du", "Jury of"),
                d.date,
                d.jury.join(", ")
            );
            let motifs = (!d.motifs.is_empty()).then(|| {
                view! { <p data-testid="decision-motifs">{format!("{} {}", t("Motifs :", "Reasons:"), d.motifs)}</p> }
            });
            view! {
                <section class="decision" aria-labelledby="titre-decision" data-testid="decision-jury">
                    <h3 id="titre-decision">{move || t("Décision du jury", "The jury's decision")}</h3>
                    <p data-testid="decision-issue"><strong>{outcome}</strong></p>
                    <p>{jury}</p>
                    {motifs}
                    <ul class="resultats">{results}</ul>
                </section>
            }
        })
    }
}

/// Under a compétence of the récapitulatif: its criteria, those the fiches cite marked with
/// their fiches, and how it is assessed.
#[component]
fn RecapDetails(
    criteria: Vec<String>,
    cited: Vec<(usize, Vec<usize>)>,
    modalites: Vec<String>,
) -> impl IntoView {
    if criteria.is_empty() && modalites.is_empty() {
        return ().into_any();
    }
    let count = cited.len();
    let items = criteria
        .into_iter()
        .enumerate()
        .map(|(i, title)| {
            let fiches = cited
                .iter()
                .find(|(rank, _)| *rank == i + 1)
                .map(|(_, fiches)| {
                    fiches
                        .iter()
                        .map(|f| (f + 1).to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                });
            let marked = fiches.is_some();
            view! {
                <li class:cite=marked>
                    {title}
                    {fiches.map(|f| view! { <em>{move || format!(" — {} {f}", t("fiche(s) n°", "sheet(s) no."))}</em> })}
                </li>
            }
        })
        .collect_view();
    let modalites = modalites
        .into_iter()
        .map(|m| view! { <p class="modalite">{m}</p> })
        .collect_view();
    view! {
        <details class="criteres" data-testid="recap-criteres">
            <summary>{move || if en() {
                format!("Criteria ({count} cited) and assessment")
            } else {
                format!("Critères ({count} cité(s)) et évaluation")
            }}</summary>
            <ol>{items}</ol>
            {modalites}
        </details>
    }
    .into_any()
}

/// The récapitulatif des compétences, live: which fiches claim each compétence, and which
/// compétences no fiche claims yet.
#[component]
pub(super) fn Recapitulatif() -> impl IntoView {
    let st = EditorState::get();
    // Computed on every change, drawn again only when it differs (most keystrokes leave it
    // as it was).
    let coverage = Memo::new(move |_| {
        st.revision.get();
        st.fiches.get();
        st.referentiel
            .with_value(|referentiel| {
                session::with_open(|r| r.dossier().coverage(referentiel.as_ref()))
            })
            .unwrap_or_default()
    });
    view! {
        <section class="recapitulatif" aria-labelledby="titre-recap">
            <h4 id="titre-recap">{move || t("Récapitulatif des compétences", "Summary of skills")}</h4>
            {move || {
                let lines = coverage.get();
                let covered = lines.iter().filter(|l| !l.fiches.is_empty()).count();
                let rows = lines
                    .into_iter()
                    .map(|l| {
                        let status = if l.fiches.is_empty() {
                            t("non couverte", "not covered").to_string()
                        } else {
                            l.fiches
                                .iter()
                                .map(|i| format!("{} {}", t("n°", "no."), i + 1))
                                .collect::<Vec<_>>()
                                .join(", ")
                        };
                        let gap = l.fiches.is_empty();
                        // Claimed by a fiche, and no annexe given as evidence for it yet.
                        let unproven = !gap && l.annexes.is_empty();
                        let evidence = if l.annexes.is_empty() {
                            t("aucune", "none").to_string()
                        } else {
                            l.annexes
                                .iter()
                                .map(|n| format!("{} {n}", t("n°", "no.")))
                                .collect::<Vec<_>>()
                                .join(", ")
                        };
                        let code = l.code.clone();
                        let details = st.referentiel.with_value(|r| {
                            r.as_ref().map(|r| {
                                let criteria: Vec<String> = r
                                    .competence(&l.code)
                                    .map(|c| c.criteria.iter().map(|x| x.title.clone()).collect())
                                    .unwrap_or_default();
                                (criteria, r.modalites(&l.code))
                            })
                        });
                        let details = details.map(|(criteria, modalites)| {
                            view! { <RecapDetails criteria=criteria cited=l.criteria modalites=modalites/> }
                        });
                        view! {
                            <tr class:lacune=gap class:sans-preuve=unproven data-code=code>
                                <th scope="row">{l.code}</th>
                                <td>{l.title}{details}</td>
                                <td>{status}</td>
                                <td data-testid="recap-annexes">{evidence}</td>
                            </tr>
                        }
                    })
                    .collect_view();
                view! {
                    <p data-testid="recap-total">{if en() {
                        format!("{covered} skill(s) covered by at least one sheet")
                    } else {
                        format!("{covered} compétence(s) couverte(s) par au moins une fiche")
                    }}</p>
                    <table data-testid="recapitulatif">
                        <thead>
                            <tr>
                                <th scope="col">{t("Code", "Code")}</th>
                                <th scope="col">{t("Compétence", "Skill")}</th>
                                <th scope="col">{t("Fiches activité", "Activity sheets")}</th>
                                <th scope="col">{t("Preuves (annexes)", "Evidence (annexes)")}</th>
                            </tr>
                        </thead>
                        <tbody>{rows}</tbody>
                    </table>
                }
            }}
        </section>
    }
}
