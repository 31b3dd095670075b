//! The coverage matrix: compétences × fiches and annexes, where the juror links evidence and
//! rates each compétence; seen as their own, another juror's, or the whole jury's.

use super::*;

/// The coverage matrix, for the view chosen: this juror's (links ticked and ratings set
/// here), another juror's, or the jury's merged (who linked what, every rating, the
/// disagreements). Gaps (a compétence no evidence shows) are said in words, not only in
/// colour.
#[component]
pub(super) fn Matrice(
    reviews: Memo<Vec<Seen>>,
    status: RwSignal<Option<Result<String, String>>>,
) -> impl IntoView {
    let st = EditorState::get();
    let view_of = RwSignal::new("moi".to_string());
    let choices = move || {
        let mut options = vec![
            view! {
                <option value="moi">{t("Ma vue", "My view")}</option>
            }
            .into_any(),
        ];
        for s in reviews.get().into_iter().filter(|s| !s.mine) {
            let label = format!("{} {}", t("Vue de", "View of"), or_unnamed(&s.review.juror));
            options.push(view! { <option value=s.key>{label}</option> }.into_any());
        }
        options.push(
            view! { <option value="jury">{t("Le jury (toutes les vues)", "The jury (all views)")}</option> }
                .into_any(),
        );
        options
    };
    let table = move || {
        let chosen = view_of.get();
        let all = reviews.get();
        let Some(referentiel) = st.referentiel.get_value() else {
            return view! { <p class="aide">{t("Le dossier ne vise encore aucun référentiel.", "The dossier targets no framework yet.")}</p> }.into_any();
        };
        let columns = columns(st);
        let shown: Vec<JurorReview> = match chosen.as_str() {
            "jury" => all.iter().map(|s| s.review.clone()).collect(),
            "moi" => all
                .iter()
                .filter(|s| s.mine)
                .map(|s| s.review.clone())
                .collect(),
            key => all
                .iter()
                .filter(|s| s.key == key)
                .map(|s| s.review.clone())
                .collect(),
        };
        let editable = chosen == "moi";
        let merged = chosen == "jury";
        let mine = all
            .iter()
            .find(|s| s.mine)
            .map(|s| s.review.clone())
            .unwrap_or_default();
        let evidence: Vec<Evidence> = columns.iter().map(|c| c.evidence).collect();
        let rows = coverage(&referentiel, &evidence, &shown);
        let titles: BTreeMap<String, String> = referentiel
            .competences()
            .map(|(_, c)| (c.code.clone(), c.title.clone()))
            .collect();
        let heads = columns
            .iter()
            .map(|c| view! { <th scope="col" title=c.long.clone()><abbr title=c.long.clone()>{c.short.clone()}</abbr></th> })
            .collect_view();
        let body = rows
            .into_iter()
            .map(|row| {
                let code = row.competence.clone();
                let cid = code_id(&code);
                // The colour of the linked cells: the view's rating (the lowest when merged:
                // a disagreement has its own mark).
                let level = row.ratings.iter().map(|(_, l)| *l).min();
                let tone = match level {
                    Some(l) if !row.disagreement => format!("note-{}", l.score()),
                    Some(_) => "desaccord".to_string(),
                    None => "sans-note".to_string(),
                };
                let cells = row
                    .cells
                    .iter()
                    .zip(&columns)
                    .map(|(who, column)| {
                        let linked = !who.is_empty();
                        let class = if linked { format!("lien {tone}") } else { String::new() };
                        if editable {
                            let (evidence, code) = (column.evidence, code.clone());
                            let id = format!("lien-{}-{cid}", column.key);
                            let label = format!("{} {} {code}", column.short, t("montre", "shows"));
                            let toggle = move |ev: leptos::ev::Event| {
                                let on = event_target_checked(&ev);
                                let mut codes = session::with_open(|r| {
                                    r.my_review().map(|d| d.review().links.get(&evidence).cloned().unwrap_or_default())
                                })
                                .ok()
                                .and_then(Result::ok)
                                .unwrap_or_default();
                                codes.retain(|c| c.split('#').next() != Some(code.as_str()));
                                if on {
                                    codes.insert(code.clone());
                                }
                                if let Err(e) = write_review(st, &juror_name(), |d| d.link(&evidence, &codes)) {
                                    status.set(Some(Err(e.to_string())));
                                }
                            };
                            view! {
                                <td class=class>
                                    <input type="checkbox" id=id aria-label=label prop:checked=linked on:change=toggle/>
                                </td>
                            }
                            .into_any()
                        } else {
                            let names: Vec<String> = who.iter().map(|w| or_unnamed(w)).collect();
                            let text = if !linked {
                                String::new()
                            } else if merged {
                                names.len().to_string()
                            } else {
                                "✓".to_string()
                            };
                            view! { <td class=class title=names.join(", ")>{text}</td> }.into_any()
                        }
                    })
                    .collect_view();
                let rating_cell = if editable {
                    let current = mine.ratings.get(&code).cloned();
                    let score = current.as_ref().map(|r| r.level.score().to_string()).unwrap_or_default();
                    let justification = current.map(|r| r.justification).unwrap_or_default();
                    let (code_a, code_b) = (code.clone(), code.clone());
                    let note_id = format!("note-{cid}");
                    let justif_id = format!("justification-{cid}");
                    let justif_read = justif_id.clone();
                    let rate = move |ev: leptos::ev::Event| {
                        let Some(level) = event_target_value(&ev).parse().ok().and_then(Level::from_score) else {
                            return;
                        };
                        let justification = input_value(&justif_read);
                        let rating = Rating { level, justification: justification.trim().to_string() };
                        if let Err(e) = write_review(st, &juror_name(), |d| d.rate(&code_a, &rating)) {
                            status.set(Some(Err(e.to_string())));
                        }
                    };
                    let justify = move |ev: leptos::ev::Event| {
                        let justification = event_target_value(&ev);
                        let level = session::with_open(|r| r.my_review().map(|d| d.review().ratings.get(&code_b).map(|r| r.level)))
                            .ok()
                            .and_then(Result::ok)
                            .flatten();
                        // Kept in the field until a rating is chosen: saved with it.
                        if let Some(level) = level {
                            let rating = Rating { level, justification: justification.trim().to_string() };
                            if let Err(e) = write_review(st, &juror_name(), |d| d.rate(&code_b, &rating)) {
                                status.set(Some(Err(e.to_string())));
                            }
                        }
                    };
                    let options = (0..=3u8)
                        .map(|n| {
                            let level = Level::from_score(n).expect("0 to 3");
                            view! { <option value=n.to_string() selected=score == n.to_string()>{format!("{n} — {}", level_label(level))}</option> }
                        })
                        .collect_view();
                    view! {
                        <td>
                            <select id=note_id aria-label=format!("{} {code}", t("Note de", "Rating of")) on:change=rate>
                                <option value="" selected=score.is_empty()>{t("— à noter", "— to rate")}</option>
                                {options}
                            </select>
                        </td>
                        <td>
                            <input type="text" id=justif_id aria-label=format!("{} {code}", t("Justification de la note de", "Justification of the rating of")) value=justification on:change=justify/>
                        </td>
                    }
                    .into_any()
                } else {
                    let ratings = if row.ratings.is_empty() {
                        t("aucune", "none").to_string()
                    } else {
                        row.ratings
                            .iter()
                            .map(|(who, l)| format!("{} : {} {}", or_unnamed(who), l.score(), level_label(*l)))
                            .collect::<Vec<_>>()
                            .join(" ; ")
                    };
                    let justifications = shown
                        .iter()
                        .filter_map(|r| r.ratings.get(&code).map(|x| (r.juror.clone(), x.justification.clone())))
                        .filter(|(_, j)| !j.is_empty())
                        .map(|(who, j)| format!("{} : {j}", or_unnamed(&who)))
                        .collect::<Vec<_>>()
                        .join(" ; ");
                    view! {
                        <td data-testid="notes">{ratings}</td>
                        <td>{justifications}</td>
                    }
                    .into_any()
                };
                let mut flags = Vec::new();
                if row.gap {
                    flags.push(t("Lacune : aucune preuve", "Gap: no evidence"));
                }
                if row.disagreement {
                    flags.push(t("Désaccord", "Disagreement"));
                }
                let title = titles.get(&code).cloned().unwrap_or_default();
                view! {
                    <tr data-code=code.clone() class:lacune=row.gap class:desaccord=row.disagreement>
                        <th scope="row" title=title.clone()>{code.clone()}<span class="intitule">{format!(" {title}")}</span></th>
                        {cells}
                        {rating_cell}
                        <td data-testid="drapeaux">{flags.join(" · ")}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            // Focusable so a keyboard can scroll a matrix wider than the screen.
            <div class="defilement" tabindex="0" role="region" aria-label=t("Matrice de couverture", "Coverage matrix")>
                <table class="matrice" data-testid="matrice" data-vue=chosen>
                    <caption>{t(
                        "Compétences × preuves : une case cochée dit que la fiche (F) ou l'annexe (A) montre la compétence ; sa couleur suit la note.",
                        "Skills × evidence: a ticked cell says the sheet (F) or annex (A) shows the skill; its colour follows the rating.",
                    )}</caption>
                    <thead>
                        <tr>
                            <th scope="col">{t("Compétence", "Skill")}</th>
                            {heads}
                            <th scope="col">{t("Note", "Rating")}</th>
                            <th scope="col">{t("Justification", "Justification")}</th>
                            <th scope="col">{t("À voir", "To look at")}</th>
                        </tr>
                    </thead>
                    <tbody>{body}</tbody>
                </table>
            </div>
        }
        .into_any()
    };
    view! {
        <section class="couverture" aria-labelledby="titre-matrice">
            <h4 id="titre-matrice">{move || t("Couverture : compétences et preuves", "Coverage: skills and evidence")}</h4>
            <label for="vue-matrice">{move || t("Vue", "View")}</label>
            <select id="vue-matrice" on:change=move |ev| view_of.set(event_target_value(&ev))>
                {choices}
            </select>
            <p class="legende" aria-hidden="true">
                <span class="note-0">"0"</span><span class="note-1">"1"</span><span class="note-2">"2"</span><span class="note-3">"3"</span>
                <span class="desaccord">{move || t("désaccord", "disagreement")}</span>
            </p>
            {table}
        </section>
    }
}
