//! Which compétence does this fiche prove? Suggestions under each fiche's compétence picker,
//! with their reasons and one click to add; and under the récapitulatif, the fiches likely
//! to cover what no fiche claims yet, what to describe for it, and blocs covered unevenly.
//! All computed on this device ([`livret_shared::suggest`]), a moment after typing stops so
//! that typing is never slowed, and only for the fiches whose text changed.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use leptos::leptos_dom::helpers::{TimeoutHandle, set_timeout_with_handle};
use livret_shared::suggest::{self, FicheRead, Gap, Suggester, Suggestions, Uneven};

use super::*;

/// How long after the last keystroke the suggestions are computed again.
const AFTER_TYPING: Duration = Duration::from_millis(500);

/// The référentiel read for suggestions, made once per dossier on first use.
fn suggester(st: EditorState) -> Option<Arc<Suggester>> {
    if let Some(made) = st.suggester.try_get_value().flatten() {
        return Some(made);
    }
    let made = st
        .referentiel
        .try_with_value(|r| r.as_ref().map(|r| Arc::new(Suggester::new(r))))
        .flatten()?;
    st.suggester.set_value(Some(made.clone()));
    Some(made)
}

/// A fiche's suggestions, timed for the benchmarks.
fn suggest_timed(suggester: &Suggester, (text, bloc): &FicheRead) -> Suggestions {
    let started = metrics::now();
    let found = suggester.suggest(text, *bloc);
    metrics::record("__livretSuggestions", metrics::now() - started);
    found
}

/// Runs `work` once typing has paused, after every change to the dossier (the last
/// pending run is cancelled by the next change, and by the editor closing).
fn after_each_pause(st: EditorState, work: impl Fn() + Clone + 'static) {
    let pending = StoredValue::new(None::<TimeoutHandle>);
    Effect::new(move |_| {
        st.revision.get();
        if let Some(handle) = pending.try_get_value().flatten() {
            handle.clear();
        }
        pending.try_set_value(set_timeout_with_handle(work.clone(), AFTER_TYPING).ok());
    });
    on_cleanup(move || {
        if let Some(handle) = pending.try_get_value().flatten() {
            handle.clear();
        }
    });
}

/// The suggestions for the fiche at `index`; a click on « Ajouter » adds the compétence to
/// `selected`, the fiche's list (stored at `path`), and the focus goes to its box.
#[component]
pub(super) fn FicheSuggestions(
    index: usize,
    selected: RwSignal<String>,
    path: FieldPath,
) -> impl IntoView {
    let st = EditorState::get();
    let found = RwSignal::new(None::<Suggestions>);
    let read = StoredValue::new(None::<FicheRead>);
    after_each_pause(st, move || {
        let Ok(now) = session::with_open(|r| suggest::fiche_of(r.dossier(), index)) else {
            return;
        };
        // Others' fiches changing leave this one's suggestions as they are.
        if read.try_with_value(|r| r.as_ref() == Some(&now)) != Some(false) {
            return;
        }
        let Some(suggester) = suggester(st) else {
            return;
        };
        let suggestions = suggest_timed(&suggester, &now);
        read.try_set_value(Some(now));
        if found.try_with_untracked(|f| f.as_ref() != Some(&suggestions)) == Some(true) {
            found.set(Some(suggestions));
        }
    });
    let add = move |code: String| {
        let mut list = fiches::list_items(&selected.get_untracked());
        if !list.contains(&code) {
            list.push(code.clone());
            set_list(&path, selected, &list, st);
        }
        focus_soon(format!("cb-{index}-{}", code_id(&code)), None);
    };
    let shown = move || {
        let chosen = fiches::list_items(&selected.get());
        found.with(|f| {
            f.as_ref().map(|f| {
                f.suggestions
                    .iter()
                    .filter(|s| !chosen.contains(&s.code))
                    .cloned()
                    .collect::<Vec<_>>()
            })
        })
    };
    view! {
        <section class="suggestions" data-testid=format!("suggestions-{index}")>
            <h5 class="titre-suggestions">{move || t("Suggestions", "Suggestions")}</h5>
            <p class="aide">{move || t(
                "D'après le texte de cette fiche, calculées sur cet appareil (rien n'est envoyé). À vous de juger : chaque suggestion dit pourquoi.",
                "From this sheet's text, computed on this device (nothing is sent). You decide: each suggestion says why.",
            )}</p>
            // One short line for screen readers, not the whole list again after each pause.
            <p class="aide" role="status" data-testid="suggestions-avis">{move || {
                let notice = found.with(|f| f.as_ref().and_then(|f| f.notice));
                let count = shown().map_or(0, |s| s.len());
                match (notice, count) {
                    (Some(n), 0) => n.in_language(en()).to_string(),
                    (Some(n), _) => format!("{} {}", suggestion_count(count), n.in_language(en())),
                    (None, _) if found.with(Option::is_none) => String::new(),
                    (None, _) => suggestion_count(count),
                }
            }}</p>
            <ul class="liste-suggestions">
                {move || shown().unwrap_or_default().into_iter().map(|s| view! {
                    <SuggestionItem index=index suggestion=s add=add/>
                }).collect_view()}
            </ul>
        </section>
    }
}

fn suggestion_count(n: usize) -> String {
    match (en(), n) {
        (false, 0) => "Aucune autre suggestion.".into(),
        (false, 1) => "1 suggestion.".into(),
        (false, n) => format!("{n} suggestions."),
        (true, 0) => "No other suggestion.".into(),
        (true, 1) => "1 suggestion.".into(),
        (true, n) => format!("{n} suggestions."),
    }
}

/// One suggested compétence: the candidate's words that point to it, « Ajouter », and
/// « Pourquoi ? » unfolding the passages and criteria.
#[component]
fn SuggestionItem(
    index: usize,
    suggestion: suggest::Suggestion,
    add: impl Fn(String) + Copy + 'static,
) -> impl IntoView {
    let s = suggestion;
    let (code, label_code) = (s.code.clone(), s.code.clone());
    let mut words: Vec<String> = Vec::new();
    for w in s.passages.iter().flat_map(|p| &p.words) {
        if !words.contains(w) {
            words.push(w.clone());
        }
    }
    let words = words
        .into_iter()
        .take(6)
        .map(|w| format!("« {w} »"))
        .collect::<Vec<_>>()
        .join(", ");
    let passages = s
        .passages
        .into_iter()
        .map(|p| {
            let field = open_template().field("fiches", &p.field);
            view! { <li><q>{p.text}</q>" ("{move || field.map_or("", |f| t(f.label_fr, f.label_en))}")"</li> }
        })
        .collect_view();
    let criteria = s
        .criteria
        .into_iter()
        .map(|c| {
            let (code, rank) = c.reference.split_once('#').map_or((c.reference.clone(), String::new()), |(a, b)| (a.to_string(), b.to_string()));
            view! {
                <li>{move || if en() { format!("Criterion {rank} of {code}: ") } else { format!("Critère {rank} de {code} : ") }}{c.wording}</li>
            }
        })
        .collect_view();
    view! {
        <li data-code=s.code.clone()>
            <span><strong>{s.code.clone()}</strong>" — "{s.title}</span>" "
            <button type="button" class="secondaire" id=format!("suggestion-{index}-{}", code_id(&s.code))
                aria-label=move || if en() { format!("Add skill {label_code}") } else { format!("Ajouter la compétence {label_code}") }
                on:click=move |_| add(code.clone())>{move || t("Ajouter", "Add")}</button>
            <p class="raisons">{move || t("Vos mots : ", "Your words: ")}{words}</p>
            <details>
                <summary>{move || t("Pourquoi ?", "Why?")}</summary>
                <ul>{passages}{criteria}</ul>
            </details>
        </li>
    }
}

/// Under the récapitulatif: blocs covered unevenly, and for each compétence no fiche
/// claims, the fiches likely to show it and what to describe. Each fiche's suggestions are
/// kept and computed again only when its text or bloc changed.
#[component]
pub(super) fn CoverageHints() -> impl IntoView {
    let st = EditorState::get();
    let hints = RwSignal::new(None::<(Vec<Gap>, Option<Uneven>)>);
    let kept = StoredValue::new(HashMap::<usize, (FicheRead, Suggestions)>::new());
    after_each_pause(st, move || {
        if st.juror.get_untracked() {
            return;
        }
        let Some(suggester) = suggester(st) else {
            return;
        };
        let places = st.fiches.get_untracked();
        let Ok(read) = session::with_open(|r| {
            let d = r.dossier();
            places
                .iter()
                .map(|place| {
                    (
                        *place,
                        suggest::fiche_of(d, *place),
                        suggest::claimed_by(d, *place),
                    )
                })
                .collect::<Vec<_>>()
        }) else {
            return;
        };
        let mut claimed = Vec::new();
        let mut suggested = Vec::new();
        let mut fresh = HashMap::new();
        for (place, now, codes) in read {
            claimed.extend(codes);
            let found = match kept
                .try_with_value(|k| {
                    k.get(&place)
                        .filter(|(r, _)| *r == now)
                        .map(|(_, f)| f.clone())
                })
                .flatten()
            {
                Some(found) => found,
                None => suggest_timed(&suggester, &now),
            };
            suggested.push(found.clone());
            fresh.insert(place, (now, found));
        }
        kept.try_set_value(fresh);
        let found = (
            suggester.gaps(&suggested, &claimed),
            suggester.uneven(&claimed),
        );
        if hints.try_with_untracked(|h| h.as_ref() != Some(&found)) == Some(true) {
            hints.set(Some(found));
        }
    });
    view! {
        <Show when=move || !st.juror.get() && hints.with(|h| h.as_ref().is_some_and(|(g, u)| !g.is_empty() || u.is_some()))>
            <section class="pistes" data-testid="pistes" aria-labelledby="titre-pistes">
                <h4 id="titre-pistes">{move || t("Ce qui reste à couvrir", "What is left to cover")}</h4>
                {move || hints.get().map(|(gaps, uneven)| view! {
                    {uneven.map(|u| view! { <p class="avertissement" data-testid="couverture-inegale">{move || u.in_language(en())}</p> })}
                    <ul>
                        {gaps.into_iter().map(|g| view! { <GapItem gap=g/> }).collect_view()}
                    </ul>
                })}
            </section>
        </Show>
    }
}

#[component]
fn GapItem(gap: Gap) -> impl IntoView {
    let likely = (!gap.fiches.is_empty()).then(|| {
        let numbers = gap.fiches.clone();
        view! {
            <span class="piste-fiches">{move || {
                let list = numbers.iter().map(|n| format!("{} {n}", t("n°", "no."))).collect::<Vec<_>>().join(", ");
                if en() { format!(" — perhaps already described in sheet {list}") } else { format!(" — peut-être déjà décrite dans la fiche {list}") }
            }}</span>
        }
    });
    let prompt = gap.clone();
    view! {
        <li data-code=gap.code.clone()>
            <strong>{gap.code.clone()}</strong>" "{gap.title.clone()}{likely}
            <p class="aide">{move || prompt.prompt(en())}</p>
        </li>
    }
}
