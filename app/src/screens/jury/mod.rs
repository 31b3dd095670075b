//! The jury's screens, shown to a juror only: annotations on the fields' passages, the
//! coverage matrix (compétences × fiches and annexes) where the juror links evidence and
//! rates each compétence, seen as their own, as another juror's or as the whole jury's with
//! the disagreements, and the decision released to the candidate. Everything goes into this
//! juror's own automerge documents ([`livret_shared::review::doc::JuryDoc`]), sealed for
//! the jury (the decision for the dossier's members) by the same save and sync as the
//! dossier's edits.

use std::collections::{BTreeMap, BTreeSet};

use leptos::prelude::*;
use livret_shared::review::anchor::{TextAnchor, char_index};
use livret_shared::review::doc::JuryDoc;
use livret_shared::review::{
    self, Annotation, Decision, Evidence, JurorReview, Level, Rating, Target, coverage,
};
use livret_shared::template;
use wasm_bindgen::JsCast;

use crate::clock::now_ms;
use crate::editor::{Signals, code_id, persist};
use crate::i18n::{en, t};
use crate::session;

fn level_label(level: Level) -> &'static str {
    if en() {
        level.label_en()
    } else {
        level.label_fr()
    }
}

fn or_unnamed(name: &str) -> String {
    if name.is_empty() {
        t("juré sans nom", "unnamed juror").to_string()
    } else {
        name.to_string()
    }
}

/// One review as this juror reads it.
#[derive(Clone, PartialEq)]
struct Seen {
    /// The juror's key, hex: what the view selector names.
    key: String,
    review: JurorReview,
    mine: bool,
}

/// Every review this juror reads, its own first (empty until it writes).
fn all_reviews() -> Vec<Seen> {
    session::with_open(|r| {
        let me = r.me();
        let mut seen: Vec<Seen> = r
            .reviews()
            .into_iter()
            .map(|(key, review)| Seen {
                key: hex::encode(key),
                review,
                mine: key == me,
            })
            .collect();
        if !seen.iter().any(|s| s.mine) {
            seen.push(Seen {
                key: hex::encode(me),
                review: JurorReview::default(),
                mine: true,
            });
        }
        seen.sort_by_key(|s| !s.mine);
        seen
    })
    .unwrap_or_default()
}

/// Changes this juror's review (named as the jury panel says) and saves it; sealed and sent
/// with the next save, like a keystroke.
fn write_review(st: Signals, name: &str, change: impl FnOnce(&mut JuryDoc)) -> Result<(), String> {
    session::with_open(|r| {
        r.my_review().map(|doc| {
            if !name.trim().is_empty() {
                doc.set_name(name.trim());
            }
            change(doc);
        })
    })?
    .map_err(|e| e.to_string())?;
    persist(st);
    Ok(())
}

/// Saves a new annotation of this juror on `target`, its body trimmed.
fn save_annotation(st: Signals, target: Target, body: &str) -> Result<(), String> {
    let annotation = Annotation {
        id: hex::encode(livret_shared::jury::new_key_id()),
        target,
        body: body.trim().to_string(),
        at_ms: now_ms(),
    };
    write_review(st, &juror_name(), |d| d.annotate(&annotation))
}

thread_local! {
    /// The juror's name as typed in the panel (the fields' annotations use it too).
    static NAME: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

fn juror_name() -> String {
    NAME.with(|n| n.borrow().clone())
}

/// A column of the matrix: a fiche (numbered as shown) or an annexe.
#[derive(Clone, PartialEq)]
struct Column {
    evidence: Evidence,
    short: String,
    long: String,
    /// For element ids.
    key: String,
}

fn columns(st: Signals) -> Vec<Column> {
    let mut out: Vec<Column> = st
        .fiches
        .get()
        .into_iter()
        .enumerate()
        .map(|(i, place)| {
            let title =
                session::with_open(|r| r.dossier().get(&format!("fiches.{place}.intitule")))
                    .ok()
                    .and_then(Result::ok)
                    .unwrap_or_default();
            Column {
                evidence: Evidence::Fiche(place),
                short: format!("F{}", i + 1),
                long: format!("{} {} — {title}", t("Fiche n°", "Sheet no."), i + 1),
                key: format!("f{place}"),
            }
        })
        .collect();
    out.extend(st.annexes.get().into_iter().map(|a| Column {
        evidence: Evidence::Annexe(a.numero),
        short: format!("A{}", a.numero),
        long: format!("{} {} — {}", t("Annexe n°", "Annex no."), a.numero, a.titre),
        key: format!("a{}", a.numero),
    }));
    out
}

/// The juror's panel: name, coverage matrix with links and ratings, annotations, decision.
#[component]
pub fn Examen(st: Signals) -> impl IntoView {
    let reviews = Memo::new(move |_| {
        st.revision.get();
        all_reviews()
    });
    let mine_name = reviews
        .get_untracked()
        .into_iter()
        .find(|s| s.mine)
        .map(|s| s.review.juror)
        .filter(|n| !n.is_empty())
        .unwrap_or_else(session::my_name);
    NAME.with(|n| n.borrow_mut().clone_from(&mine_name));
    let name = RwSignal::new(mine_name);
    let status = RwSignal::new(None::<Result<String, String>>);
    let rename = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        NAME.with(|n| n.borrow_mut().clone_from(&value));
        // The name the other members see too (presence).
        session::set_my_name(&value);
        name.set(value.clone());
        if let Err(e) = write_review(st, &value, |_| {}) {
            status.set(Some(Err(e)));
        }
    };
    let locked = move || {
        st.revision.get();
        let (locked, key) =
            session::with_open(|r| (r.locked_reviews(), r.has_jury_key())).unwrap_or((0, true));
        (locked > 0 || !key).then(|| {
            view! {
                <p class="aide" data-testid="jury-cle">{t(
                    "Les vues des autres jurés s'ouvriront quand la clé du jury sera reçue (à la prochaine synchronisation).",
                    "The other jurors' views will open once the jury key is received (at the next sync).",
                )}</p>
            }
        })
    };
    view! {
        <section class="examen" aria-labelledby="titre-examen" data-testid="examen-jury">
            <h3 id="titre-examen">{move || t("Examen du jury", "Jury review")}</h3>
            <p class="aide">{move || t(
                "Vos annotations, vos liens entre preuves et compétences et vos notes restent ceux du jury : le candidat ne lit que la décision publiée. Chaque juré a sa propre vue ; aucune n'écrase celle d'un autre.",
                "Your annotations, links between evidence and skills and your ratings stay the jury's: the candidate reads only the decision released. Each juror has a view of their own; none overwrites another's.",
            )}</p>
            <label for="nom-jure">{move || t("Votre nom au jury", "Your name on the jury")}</label>
            <input type="text" id="nom-jure" prop:value=name on:change=rename autocomplete="name"/>
            {locked}
            {move || status.get().map(|s| match s {
                Ok(m) => view! { <p role="status">{m}</p> }.into_any(),
                Err(e) => view! { <p class="erreur" role="alert">{e}</p> }.into_any(),
            })}
            <Matrice st=st reviews=reviews status=status/>
            <AnnoterAnnexe st=st/>
            <ListeAnnotations st=st reviews=reviews/>
            <FormulaireDecision st=st reviews=reviews/>
        </section>
    }
}

/// The coverage matrix, for the view chosen: this juror's (links ticked and ratings set
/// here), another juror's, or the jury's merged (who linked what, every rating, the
/// disagreements). Gaps (a compétence no evidence shows) are said in words, not only in
/// colour.
#[component]
fn Matrice(
    st: Signals,
    reviews: Memo<Vec<Seen>>,
    status: RwSignal<Option<Result<String, String>>>,
) -> impl IntoView {
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
                                    status.set(Some(Err(e)));
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
                            status.set(Some(Err(e)));
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
                                status.set(Some(Err(e)));
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

/// The text of an `<input>` or `<textarea>` by id (read when another control changes).
fn input_value(id: &str) -> String {
    let element = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(id));
    match element {
        Some(e) => match e.dyn_into::<web_sys::HtmlInputElement>() {
            Ok(input) => input.value(),
            Err(e) => e
                .dyn_into::<web_sys::HtmlTextAreaElement>()
                .map(|t| t.value())
                .unwrap_or_default(),
        },
        None => String::new(),
    }
}

/// Where an annotation points, in words.
fn place_of(target: &Target, order: &[usize]) -> String {
    match target {
        Target::Text { path, .. } => field_label(path, order),
        Target::PdfPage { annexe, page, .. } => {
            format!("{} {annexe}, page {page}", t("Annexe n°", "Annex no."))
        }
        Target::ImageRegion { annexe, x, y, w, h } => format!(
            "{} {annexe}, {} {x:.2},{y:.2} {w:.2}×{h:.2}",
            t("Annexe n°", "Annex no."),
            t("région", "region")
        ),
    }
}

/// `fiches.3.taches` → « Fiche n° 2 · Tâches » (fiches by the number they show).
fn field_label(path: &str, order: &[usize]) -> String {
    let parts: Vec<&str> = path.split('.').collect();
    match parts[..] {
        ["fiches", place, field] => {
            let number = place
                .parse::<usize>()
                .ok()
                .and_then(|p| order.iter().position(|o| *o == p))
                .map_or("?".to_string(), |i| (i + 1).to_string());
            let label = template::field("fiches", field)
                .map_or(field.to_string(), |f| t(f.label_fr, f.label_en).to_string());
            format!("{} {number} · {label}", t("Fiche n°", "Sheet no."))
        }
        [section, field] => template::field(section, field)
            .map_or(path.to_string(), |f| t(f.label_fr, f.label_en).to_string()),
        _ => path.to_string(),
    }
}

/// Where a text annotation's passage is now, in words.
fn status_of(target: &Target) -> (String, &'static str) {
    match target {
        Target::Text { path, anchor } => {
            let text = session::with_open(|r| r.dossier().get(path))
                .ok()
                .and_then(Result::ok)
                .unwrap_or_default();
            let found = anchor.anchor(&text);
            let state = match found {
                review::anchor::Anchored::Orphaned => "orpheline",
                review::anchor::Anchored::At {
                    found: review::anchor::Found::InPlace,
                    ..
                } => "en-place",
                _ => "deplacee",
            };
            (
                if en() {
                    found.label_en()
                } else {
                    found.label_fr()
                },
                state,
            )
        }
        _ => (t("sur la pièce", "on the evidence").to_string(), "piece"),
    }
}

fn quote_of(target: &Target) -> String {
    match target {
        Target::Text { anchor, .. } => anchor.quote.exact.clone(),
        Target::PdfPage { quote, .. } => quote.exact.clone(),
        Target::ImageRegion { .. } => String::new(),
    }
}

/// One annotation as listed: who, where, how it stands now, the passage, the comment; this
/// juror's own can be deleted.
fn annotation_item(st: Signals, who: &str, mine: bool, a: &Annotation, order: &[usize]) -> AnyView {
    let (state_text, state) = status_of(&a.target);
    let quote = quote_of(&a.target);
    let quote = (!quote.is_empty()).then(|| view! { <q>{quote}</q> " " });
    let remove = mine.then(|| {
        let id = a.id.clone();
        view! {
            " "
            <button type="button" class="lien" on:click=move |_| {
                let _ = write_review(st, &juror_name(), |d| d.remove_annotation(&id));
            }>{t("Supprimer", "Delete")}</button>
        }
    });
    view! {
        <li data-testid="annotation" data-etat=state>
            <strong>{format!("[{}] ", or_unnamed(who))}</strong>
            {format!("{} — {state_text} : ", place_of(&a.target, order))}
            {quote}
            <span class="corps">{a.body.clone()}</span>
            {remove}
        </li>
    }
    .into_any()
}

/// Every annotation of the jury, re-anchored in today's text: en place, déplacée (the
/// passage moved), orpheline (it is gone: kept and said, never dropped).
#[component]
fn ListeAnnotations(st: Signals, reviews: Memo<Vec<Seen>>) -> impl IntoView {
    let items = move || {
        st.revision.get();
        let order = st.fiches.get();
        let all = reviews.get();
        let items: Vec<AnyView> = all
            .iter()
            .flat_map(|s| {
                let order = order.clone();
                s.review
                    .annotations
                    .iter()
                    .map(move |a| annotation_item(st, &s.review.juror, s.mine, a, &order))
            })
            .collect();
        if items.is_empty() {
            view! { <p class="aide">{t(
                "Aucune annotation : sélectionnez un passage d'un champ puis « Annoter le passage sélectionné », ou ouvrez une annexe ci-dessus.",
                "No annotation yet: select a passage of a field, then “Annotate the selected passage”, or open an annex above.",
            )}</p> }
            .into_any()
        } else {
            view! { <ul class="annotations" data-testid="annotations">{items}</ul> }.into_any()
        }
    };
    view! {
        <section aria-labelledby="titre-annotations">
            <h4 id="titre-annotations">{move || t("Annotations du jury", "The jury's annotations")}</h4>
            {items}
        </section>
    }
}

/// Under a field, for a juror: annotate the passage selected in it, and the annotations on
/// it (every juror's) with where their passage stands now.
#[component]
pub fn FieldAnnotations(path: String, field_id: String, st: Signals) -> impl IntoView {
    let draft = RwSignal::new(None::<TextAnchor>);
    let message = RwSignal::new(None::<String>);
    let control_id = field_id.clone();
    let text_path = path.clone();
    let start = move |_| {
        message.set(None);
        let Some((from, to, shown)) = selection(&control_id) else {
            message.set(Some(
                t(
                    "Sélectionnez d'abord un passage du champ.",
                    "Select a passage of the field first.",
                )
                .into(),
            ));
            return;
        };
        let stored = session::with_open(|r| r.dossier().get(&text_path))
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default();
        // The browser counts UTF-16 units; the anchor counts characters of the stored text
        // (what the control shows, for a text field).
        let (from, to) = (char_index(&shown, from), char_index(&shown, to));
        match TextAnchor::new(&stored, from, to) {
            Some(anchor) => draft.set(Some(anchor)),
            None => message.set(Some(
                t(
                    "Sélectionnez d'abord un passage du champ.",
                    "Select a passage of the field first.",
                )
                .into(),
            )),
        }
    };
    let body_id = format!("annotation-{field_id}");
    let body_read = body_id.clone();
    let save_path = path.clone();
    let save = move |_| {
        let Some(anchor) = draft.get_untracked() else {
            return;
        };
        let body = input_value(&body_read);
        if body.trim().is_empty() {
            message.set(Some(
                t("L'annotation est vide.", "The annotation is empty.").into(),
            ));
            return;
        }
        let target = Target::Text {
            path: save_path.clone(),
            anchor,
        };
        match save_annotation(st, target, &body) {
            Ok(()) => {
                draft.set(None);
                message.set(Some(
                    t("Annotation enregistrée.", "Annotation saved.").into(),
                ));
            }
            Err(e) => message.set(Some(e)),
        }
    };
    let list_path = path.clone();
    let on_field = move || {
        st.revision.get();
        let order = st.fiches.get();
        let items: Vec<AnyView> = all_reviews()
            .iter()
            .flat_map(|s| {
                s.review
                    .annotations
                    .iter()
                    .filter(
                        |a| matches!(&a.target, Target::Text { path, .. } if *path == list_path),
                    )
                    .map(|a| annotation_item(st, &s.review.juror, s.mine, a, &order))
                    .collect::<Vec<_>>()
            })
            .collect();
        (!items.is_empty()).then(|| view! { <ul class="annotations-champ">{items}</ul> })
    };
    view! {
        <div class="annoter">
            <button type="button" class="secondaire" id=format!("annoter-{field_id}") on:click=start>
                {move || t("Annoter le passage sélectionné", "Annotate the selected passage")}
            </button>
            {move || message.get().map(|m| view! { <p role="status">{m}</p> })}
            {move || draft.get().map(|anchor| view! {
                <p>{t("Passage :", "Passage:")} " " <q data-testid="passage">{anchor.quote.exact.clone()}</q></p>
                <label for=body_id.clone()>{t("Votre annotation", "Your annotation")}</label>
                <textarea id=body_id.clone() rows="3"></textarea>
                <button type="button" id=format!("enregistrer-{}", body_id) on:click=save.clone()>{t("Enregistrer l'annotation", "Save the annotation")}</button>
            })}
            {on_field}
        </div>
    }
}

/// An annexe opened by a juror to annotate it.
#[derive(Clone, PartialEq)]
enum OpenedAnnexe {
    /// A PDF's text, page by page, read on this device.
    Pdf { annexe: u32, pages: Vec<String> },
    /// An image, by its `blob:` address.
    Image { annexe: u32, url: String },
}

/// A region of an image, in percent of its width and height (what the inputs show).
#[derive(Clone, Copy, PartialEq, Default)]
struct Region {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

/// The point of a mouse event on the image, in percent of its displayed size.
fn percent_point(ev: &leptos::ev::MouseEvent) -> Option<(f64, f64)> {
    let target: web_sys::Element = ev.target()?.dyn_into().ok()?;
    let (width, height) = (target.client_width(), target.client_height());
    (width > 0 && height > 0).then(|| {
        let clamp = |v: f64| v.clamp(0.0, 100.0);
        (
            clamp(f64::from(ev.offset_x()) * 100.0 / f64::from(width)),
            clamp(f64::from(ev.offset_y()) * 100.0 / f64::from(height)),
        )
    })
}

/// Annotating an annexe: a passage of a PDF page (the file decrypted and its text read on
/// this device, by the PDF module) or a region of an image (drawn with the mouse, or typed
/// in percent, so the keyboard alone does it too).
#[component]
fn AnnoterAnnexe(st: Signals) -> impl IntoView {
    let opened = RwSignal::new(None::<OpenedAnnexe>);
    let page = RwSignal::new(1usize);
    let region = RwSignal::new(Region::default());
    let drag_from = RwSignal::new(None::<(f64, f64)>);
    let busy = RwSignal::new(None::<String>);
    let message = RwSignal::new(None::<Result<String, String>>);
    let choices = move || {
        st.annexes
            .get()
            .into_iter()
            .filter(|a| a.blob.is_some())
            .map(|a| {
                view! { <option value=a.numero.to_string()>{format!("A{} — {}", a.numero, a.titre)}</option> }
            })
            .collect_view()
    };
    // The annexe chosen; none chosen yet is the first listed.
    let chosen = RwSignal::new(None::<u32>);
    let open = move |_| {
        message.set(None);
        let with_file: Vec<_> = st
            .annexes
            .get_untracked()
            .into_iter()
            .filter(|a| a.blob.is_some())
            .collect();
        let annexe = match chosen.get_untracked() {
            Some(numero) => with_file.into_iter().find(|a| a.numero == numero),
            None => with_file.into_iter().next(),
        };
        let Some(annexe) = annexe else {
            message.set(Some(Err(t(
                "Choisissez une annexe qui a un fichier.",
                "Choose an annex that has a file.",
            )
            .into())));
            return;
        };
        busy.set(Some(t("Lecture de l'annexe…", "Reading the annex…").into()));
        leptos::task::spawn_local(async move {
            let progress = move |done: u32, total: u32| {
                busy.set(Some(format!(
                    "{} {done} / {total}",
                    t("Morceaux du fichier reçus :", "File pieces received:")
                )));
            };
            let result = if annexe.media_type.starts_with("image/") {
                session::open_evidence(annexe.place, &progress)
                    .await
                    .map(|url| OpenedAnnexe::Image {
                        annexe: annexe.numero,
                        url,
                    })
            } else {
                session::annexe_pages(annexe.place, &progress)
                    .await
                    .map(|pages| OpenedAnnexe::Pdf {
                        annexe: annexe.numero,
                        pages,
                    })
            };
            busy.set(None);
            match result {
                Ok(o) => {
                    page.set(1);
                    region.set(Region::default());
                    // The image shown before is let go (its decrypted bytes with it).
                    if let Some(OpenedAnnexe::Image { url, .. }) = opened.get_untracked() {
                        let _ = web_sys::Url::revoke_object_url(&url);
                    }
                    opened.set(Some(o));
                }
                Err(e) => message.set(Some(Err(format!(
                    "{} {e}",
                    t("Annexe illisible :", "Annex unreadable:")
                )))),
            }
        });
    };
    let region_input = move |id: &'static str, label_fr: &'static str, label_en: &'static str| {
        let read = move || {
            let r = region.get();
            let v = match id {
                "region-x" => r.x,
                "region-y" => r.y,
                "region-l" => r.w,
                _ => r.h,
            };
            format!("{v:.0}")
        };
        let write = move |ev: leptos::ev::Event| {
            let v: f64 = event_target_value(&ev).parse().unwrap_or(0.0);
            region.update(|r| match id {
                "region-x" => r.x = v,
                "region-y" => r.y = v,
                "region-l" => r.w = v,
                _ => r.h = v,
            });
        };
        view! {
            <label for=id>{move || t(label_fr, label_en)}</label>
            <input type="number" id=id min="0" max="100" step="1" prop:value=read on:input=write/>
        }
    };
    let shown = move || {
        opened.get().map(|o| match o {
            OpenedAnnexe::Pdf { annexe, pages } => {
                let count = pages.len();
                let text =
                    move || pages.get(page.get().saturating_sub(1)).cloned().unwrap_or_default();
                let options = (1..=count)
                    .map(|n| view! { <option value=n.to_string()>{n.to_string()}</option> })
                    .collect_view();
                view! {
                    <p data-testid="annexe-ouverte">{format!("A{annexe} — {count} {}", t("page(s)", "page(s)"))}</p>
                    <label for="page-annexe">{t("Page", "Page")}</label>
                    <select id="page-annexe" on:change=move |ev| page.set(event_target_value(&ev).parse().unwrap_or(1))>
                        {options}
                    </select>
                    <label for="texte-page">{t("Texte de la page (sélectionnez le passage à annoter)", "The page's text (select the passage to annotate)")}</label>
                    <textarea id="texte-page" readonly rows="10" prop:value=text></textarea>
                }
                .into_any()
            }
            OpenedAnnexe::Image { annexe, url } => {
                let frame = move || {
                    let r = region.get();
                    (r.w > 0.0 && r.h > 0.0).then(|| {
                        let style = format!(
                            "left:{}%;top:{}%;width:{}%;height:{}%",
                            r.x, r.y, r.w, r.h
                        );
                        view! { <div class="region" style=style aria-hidden="true"></div> }
                    })
                };
                let down = move |ev: leptos::ev::MouseEvent| {
                    ev.prevent_default();
                    drag_from.set(percent_point(&ev));
                };
                let up = move |ev: leptos::ev::MouseEvent| {
                    if let (Some((x0, y0)), Some((x1, y1))) = (drag_from.get_untracked(), percent_point(&ev)) {
                        region.set(Region {
                            x: x0.min(x1).round(),
                            y: y0.min(y1).round(),
                            w: (x1 - x0).abs().round(),
                            h: (y1 - y0).abs().round(),
                        });
                    }
                    drag_from.set(None);
                };
                view! {
                    <p data-testid="annexe-ouverte">{format!("A{annexe} — {}", t("image", "image"))}</p>
                    <p class="aide">{t(
                        "Tracez la région sur l'image avec la souris, ou indiquez-la en pourcentage de la largeur et de la hauteur.",
                        "Draw the region on the image with the mouse, or give it in percent of the width and height.",
                    )}</p>
                    <div class="image-annexe">
                        <img src=url alt=t("L'annexe à annoter", "The annex to annotate") on:mousedown=down on:mouseup=up draggable="false"/>
                        {frame}
                    </div>
                    <div class="region-saisie">
                        {region_input("region-x", "Gauche (%)", "Left (%)")}
                        {region_input("region-y", "Haut (%)", "Top (%)")}
                        {region_input("region-l", "Largeur (%)", "Width (%)")}
                        {region_input("region-h", "Hauteur (%)", "Height (%)")}
                    </div>
                }
                .into_any()
            }
        })
    };
    let save = move |_| {
        message.set(None);
        let body = input_value("annotation-annexe");
        if body.trim().is_empty() {
            message.set(Some(Err(t(
                "L'annotation est vide.",
                "The annotation is empty.",
            )
            .into())));
            return;
        }
        let target = match opened.get_untracked() {
            None => return,
            Some(OpenedAnnexe::Pdf { annexe, pages }) => {
                let number = page.get_untracked();
                let text = pages
                    .get(number.saturating_sub(1))
                    .cloned()
                    .unwrap_or_default();
                // The browser counts UTF-16 units; the quote is cut in characters.
                let quote = selection("texte-page").map(|(from, to, shown)| {
                    let (from, to) = (char_index(&shown, from), char_index(&shown, to));
                    shown.chars().skip(from).take(to - from).collect::<String>()
                });
                match quote.and_then(|q| review::pdf_quote(&text, &q)) {
                    Some(quote) => Target::PdfPage {
                        annexe,
                        page: number as u32,
                        quote,
                    },
                    None => {
                        message.set(Some(Err(t(
                            "Sélectionnez d'abord un passage du texte de la page.",
                            "Select a passage of the page's text first.",
                        )
                        .into())));
                        return;
                    }
                }
            }
            Some(OpenedAnnexe::Image { annexe, .. }) => {
                let r = region.get_untracked();
                let fraction = |v: f64| (v / 100.0) as f32;
                match Target::image_region(
                    annexe,
                    fraction(r.x),
                    fraction(r.y),
                    fraction(r.w),
                    fraction(r.h),
                ) {
                    Some(target) => target,
                    None => {
                        message.set(Some(Err(t(
                            "La région doit être tracée et tenir dans l'image.",
                            "The region must be drawn and lie inside the image.",
                        )
                        .into())));
                        return;
                    }
                }
            }
        };
        match save_annotation(st, target, &body) {
            Ok(()) => {
                // Emptied for the next one (saved, the text is in the list below).
                if let Some(area) = web_sys::window()
                    .and_then(|w| w.document())
                    .and_then(|d| d.get_element_by_id("annotation-annexe"))
                    .and_then(|e| e.dyn_into::<web_sys::HtmlTextAreaElement>().ok())
                {
                    area.set_value("");
                }
                message.set(Some(Ok(
                    t("Annotation enregistrée.", "Annotation saved.").into()
                )));
            }
            Err(e) => message.set(Some(Err(e))),
        }
    };
    view! {
        <section aria-labelledby="titre-annoter-annexe" data-testid="annoter-annexe">
            <h4 id="titre-annoter-annexe">{move || t("Annoter une annexe", "Annotate an annex")}</h4>
            <label for="annexe-a-annoter">{move || t("Annexe", "Annex")}</label>
            <select id="annexe-a-annoter" on:change=move |ev| chosen.set(event_target_value(&ev).parse().ok())>{choices}</select>
            <button type="button" id="lire-annexe" on:click=open>{move || t("Ouvrir l'annexe", "Open the annex")}</button>
            {move || busy.get().map(|b| view! { <p role="status" data-testid="lecture-annexe">{b}</p> })}
            {shown}
            {move || opened.get().is_some().then(|| view! {
                <label for="annotation-annexe">{t("Votre annotation", "Your annotation")}</label>
                <textarea id="annotation-annexe" rows="3"></textarea>
                <button type="button" id="enregistrer-annotation-annexe" on:click=save>{t("Enregistrer l'annotation", "Save the annotation")}</button>
            })}
            {move || message.get().map(|m| match m {
                Ok(m) => view! { <p role="status" data-testid="annotation-annexe-etat">{m}</p> }.into_any(),
                Err(e) => view! { <p class="erreur" role="alert" data-testid="annotation-annexe-etat">{e}</p> }.into_any(),
            })}
        </section>
    }
}

/// The selection in a field's control: UTF-16 start and end, and the control's text.
fn selection(id: &str) -> Option<(usize, usize, String)> {
    let element = web_sys::window()?.document()?.get_element_by_id(id)?;
    let (start, end, text) = match element.dyn_into::<web_sys::HtmlTextAreaElement>() {
        Ok(area) => (
            area.selection_start().ok()??,
            area.selection_end().ok()??,
            area.value(),
        ),
        Err(element) => {
            let input = element.dyn_into::<web_sys::HtmlInputElement>().ok()?;
            (
                input.selection_start().ok()??,
                input.selection_end().ok()??,
                input.value(),
            )
        }
    };
    (start < end).then_some((start as usize, end as usize, text))
}

/// The decision: proposed from the ratings (a compétence is acquired when most jurors who
/// rated it say acquis or maîtrise), amended by the juror, its outcome and motifs, then
/// released to the candidate.
#[component]
fn FormulaireDecision(st: Signals, reviews: Memo<Vec<Seen>>) -> impl IntoView {
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
        let results = results_untracked(chosen, proposed);
        let outcome = review::outcome(&referentiel, &results);
        if outcome != review::Outcome::Totale && motifs.is_empty() {
            message.set(Some(Err(t(
                "Donnez les motifs : ce qui reste à acquérir ou les raisons du refus.",
                "Give the reasons: what remains to acquire, or why it is refused.",
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
        let decision = Decision::new(
            &referentiel,
            results,
            date.trim().to_string(),
            jury.into_iter().collect(),
            motifs,
            now_ms(),
        );
        let written = session::with_open(|r| r.release_decision(decision.clone()))
            .and_then(|r| r.map_err(|e| e.to_string()));
        match written {
            Ok(()) => {
                persist(st);
                message.set(Some(Ok(t(
                    "Décision publiée : le candidat la lira à sa prochaine synchronisation.",
                    "Decision released: the candidate reads it at their next sync.",
                )
                .into())));
            }
            Err(e) => message.set(Some(Err(e))),
        }
    };
    view! {
        <details class="decision-form" id="formulaire-decision">
            <summary>{move || t("Décision du jury", "The jury's decision")}</summary>
            <p class="aide">{move || t(
                "Proposée d'après les notes (acquise quand la majorité des jurés qui l'ont notée disent acquis ou maîtrise) ; modifiez-la si le jury en décide autrement. Seule la décision publiée est lue par le candidat.",
                "Proposed from the ratings (acquired when most jurors who rated it say acquired or mastered); change it if the jury decides otherwise. Only the released decision is read by the candidate.",
            )}</p>
            <label for="decision-date">{move || t("Date du jury", "Date of the jury")}</label>
            <input type="date" id="decision-date"/>
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

fn results_untracked(
    chosen: RwSignal<Option<BTreeMap<String, bool>>>,
    proposed: Memo<BTreeMap<String, bool>>,
) -> BTreeMap<String, bool> {
    chosen
        .get_untracked()
        .unwrap_or_else(|| proposed.get_untracked())
}
