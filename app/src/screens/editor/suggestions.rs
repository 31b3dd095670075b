//! Which compétence does this fiche prove? Suggestions under each fiche's compétence picker,
//! with their reasons and one click to add; and under the récapitulatif, the fiches likely
//! to cover what no fiche claims yet, what to describe for it, and blocs covered unevenly.
//! All computed on this device ([`livret_shared::suggest`]), a moment after typing stops so
//! that typing is never slowed.

use std::sync::Arc;
use std::time::Duration;

use leptos::leptos_dom::helpers::{TimeoutHandle, set_timeout_with_handle};
use livret_shared::suggest::{self, Gap, Suggester, Suggestions, Uneven};

use super::*;

/// How long after the last keystroke the suggestions are computed again.
const AFTER_TYPING: Duration = Duration::from_millis(500);

/// The référentiel read for suggestions, made once per dossier on first use.
fn suggester(st: EditorState) -> Option<Arc<Suggester>> {
    if let Some(made) = st.suggester.get_value() {
        return Some(made);
    }
    let made = st
        .referentiel
        .with_value(|r| r.as_ref().map(|r| Arc::new(Suggester::new(r))))?;
    st.suggester.set_value(Some(made.clone()));
    Some(made)
}

/// Runs `work` once typing has paused, after every change to the dossier (the last
/// pending run is cancelled by the next change).
fn after_each_pause(st: EditorState, work: impl Fn() + Clone + 'static) {
    let pending = StoredValue::new(None::<TimeoutHandle>);
    Effect::new(move |_| {
        st.revision.get();
        if let Some(handle) = pending.try_get_value().flatten() {
            handle.clear();
        }
        pending.set_value(set_timeout_with_handle(work.clone(), AFTER_TYPING).ok());
    });
    on_cleanup(move || {
        if let Some(handle) = pending.try_get_value().flatten() {
            handle.clear();
        }
    });
}

/// The suggestions for the fiche at `index`; a click on « Ajouter » adds the compétence to
/// `selected`, the fiche's list (stored at `path`).
#[component]
pub(super) fn FicheSuggestions(
    index: usize,
    selected: RwSignal<String>,
    path: FieldPath,
) -> impl IntoView {
    let st = EditorState::get();
    let found = RwSignal::new(None::<Suggestions>);
    let read = StoredValue::new(Vec::<(String, String)>::new());
    after_each_pause(st, move || {
        let Ok((text, bloc)) = session::with_open(|r| suggest::fiche_of(r.dossier(), index)) else {
            return;
        };
        // Others' fiches changing leave this one's suggestions as they are.
        if found.with_untracked(Option::is_some) && read.with_value(|r| *r == text) {
            return;
        }
        let Some(suggester) = suggester(st) else {
            return;
        };
        let started = metrics::now();
        let suggestions = suggester.suggest(&text, bloc);
        metrics::record("__livretSuggestions", metrics::now() - started);
        read.set_value(text);
        found.set(Some(suggestions));
    });
    let add = move |code: String| {
        let mut list = fiches::list_items(&selected.get_untracked());
        if !list.contains(&code) {
            list.push(code);
            set_list(&path, selected, &list, st);
        }
    };
    view! {
        <section class="suggestions" data-testid=format!("suggestions-{index}") aria-live="polite">
            <p class="titre-suggestions"><strong>{move || t("Suggestions", "Suggestions")}</strong></p>
            <p class="aide">{move || t(
                "D'après le texte de cette fiche, calculées sur cet appareil (rien n'est envoyé). À vous de juger : chaque suggestion dit pourquoi.",
                "From this sheet's text, computed on this device (nothing is sent). You decide: each suggestion says why.",
            )}</p>
            {move || found.get().map(|found| {
                let chosen = fiches::list_items(&selected.get());
                let notice = found.notice.map(|n| view! {
                    <p class="aide" data-testid="suggestions-avis">{move || n.words(en())}</p>
                });
                let items = found
                    .suggestions
                    .into_iter()
                    .filter(|s| !chosen.contains(&s.code))
                    .map(|s| {
                        let code = s.code.clone();
                        let label_code = s.code.clone();
                        let words: Vec<String> = s.passages.iter().flat_map(|p| p.words.clone()).fold(Vec::new(), |mut all, w| {
                            if !all.contains(&w) { all.push(w); }
                            all
                        });
                        let words = words.into_iter().take(6).map(|w| format!("« {w} »")).collect::<Vec<_>>().join(", ");
                        view! {
                            <li data-code=s.code.clone()>
                                <span><strong>{s.code.clone()}</strong>" — "{s.title.clone()}</span>" "
                                <button type="button" class="secondaire" id=format!("suggestion-{index}-{}", code_id(&s.code))
                                    aria-label=move || if en() { format!("Add skill {label_code}") } else { format!("Ajouter la compétence {label_code}") }
                                    on:click=move |_| add(code.clone())>{move || t("Ajouter", "Add")}</button>
                                <p class="raisons">{move || t("Vos mots : ", "Your words: ")}{words}</p>
                                <details>
                                    <summary>{move || t("Pourquoi ?", "Why?")}</summary>
                                    <ul>
                                        {s.passages.into_iter().map(|p| {
                                            let field = livret_shared::template::field("fiches", &p.field);
                                            view! { <li><q>{p.text}</q>" ("{move || field.map_or("", |f| t(f.label_fr, f.label_en))}")"</li> }
                                        }).collect_view()}
                                        {s.criteria.into_iter().map(|c| view! {
                                            <li>{move || t("Critère ", "Criterion ")}{c.reference.clone()}" : "{c.wording.clone()}</li>
                                        }).collect_view()}
                                    </ul>
                                </details>
                            </li>
                        }
                    })
                    .collect_view();
                view! { {notice} <ul class="liste-suggestions">{items}</ul> }
            })}
        </section>
    }
}

/// Under the récapitulatif: blocs covered unevenly, and for each compétence no fiche
/// claims, the fiches likely to show it and what to describe.
#[component]
pub(super) fn CoverageHints() -> impl IntoView {
    let st = EditorState::get();
    let hints = RwSignal::new(None::<(Vec<Gap>, Option<Uneven>)>);
    after_each_pause(st, move || {
        let Some(suggester) = suggester(st) else {
            return;
        };
        let Ok((fiches, claimed)) = session::with_open(|r| suggest::fiches_of(r.dossier())) else {
            return;
        };
        let found = (
            suggester.gaps(&fiches, &claimed),
            suggester.uneven(&claimed),
        );
        if hints.with_untracked(|h| h.as_ref() != Some(&found)) {
            hints.set(Some(found));
        }
    });
    view! {
        <Show when=move || !st.juror.get() && hints.with(|h| h.as_ref().is_some_and(|(g, u)| !g.is_empty() || u.is_some()))>
            <section class="pistes" data-testid="pistes" aria-labelledby="titre-pistes">
                <h4 id="titre-pistes">{move || t("Ce qui reste à couvrir", "What is left to cover")}</h4>
                {move || hints.get().map(|(gaps, uneven)| view! {
                    {uneven.map(|u| view! { <p class="avertissement" data-testid="couverture-inegale">{move || u.words(en())}</p> })}
                    <ul>
                        {gaps.into_iter().map(|g| {
                            let likely = (!g.fiches.is_empty()).then(|| {
                                let numbers = g.fiches.iter().map(|n| format!("{} {n}", t("n°", "no."))).collect::<Vec<_>>().join(", ");
                                view! { <span class="piste-fiches">{move || t(" — la montre peut-être : fiche ", " — perhaps shown by sheet ")}{numbers.clone()}</span> }
                            });
                            let prompt = g.clone();
                            view! {
                                <li data-code=g.code.clone()>
                                    <strong>{g.code.clone()}</strong>" "{g.title.clone()}{likely}
                                    <p class="aide">{move || prompt.prompt(en())}</p>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                })}
            </section>
        </Show>
    }
}
