//! Fiches descriptives d'activité: added, deleted and restored; the evidence and compétence
//! pickers of each.

use super::*;
use livret_shared::referentiel::{Criterion, split_citation};

#[component]
pub(super) fn Fiches() -> impl IntoView {
    let st = EditorState::get();
    let fields = open_template()
        .section("fiches")
        .map_or(&[][..], |s| s.fields);
    let first_field = fields.first().map_or("intitule", |f| f.key);
    // What the last action did, with a way back for a delete.
    let done = RwSignal::new(None::<(String, Option<usize>)>);
    let change = move |what: &dyn Fn(
        &mut livret_shared::dossier::Dossier,
    ) -> Result<(), livret_shared::dossier::DossierError>| {
        let changed = change_dossier(st, what).is_ok();
        if changed {
            refresh_fiches(st);
        }
        changed
    };
    let add = move |_| {
        if change(&|d| d.add_fiche().map(|_| ())) {
            let order = st.fiches.get_untracked();
            done.set(Some((
                if en() {
                    format!("Activity sheet no. {} added.", order.len())
                } else {
                    format!("Fiche n° {} ajoutée.", order.len())
                },
                None,
            )));
            if let Some(place) = order.last() {
                focus_soon(format!("f-fiches-{place}-{}", first_field), None);
            }
        }
    };
    let number = move |place: usize| {
        st.fiches
            .with(|o| o.iter().position(|p| *p == place))
            .map_or(0, |i| i + 1)
    };
    view! {
        <For each=move || st.fiches.get() key=|place| *place let:place>
            <fieldset class="fiche" data-fiche=place>
                <legend>{move || if en() { format!("Activity sheet no. {}", number(place)) } else { format!("Fiche activité n° {}", number(place)) }}</legend>
                <div class="outils-fiche" role="group" aria-label=move || if en() { format!("Sheet no. {}", number(place)) } else { format!("Fiche n° {}", number(place)) }>
                    <button type="button" class="secondaire" id=format!("monter-{place}")
                        disabled=move || number(place) <= 1
                        aria-label=move || if en() { format!("Move sheet no. {} up", number(place)) } else { format!("Monter la fiche n° {}", number(place)) }
                        on:click=move |_| {
                            change(&|d| d.move_fiche(place, true));
                            focus_soon(format!("monter-{place}"), Some(format!("descendre-{place}")));
                        }>{move || t("↑ Monter", "↑ Up")}</button>
                    <button type="button" class="secondaire" id=format!("descendre-{place}")
                        disabled=move || st.fiches.with(|o| o.last() == Some(&place))
                        aria-label=move || if en() { format!("Move sheet no. {} down", number(place)) } else { format!("Descendre la fiche n° {}", number(place)) }
                        on:click=move |_| {
                            change(&|d| d.move_fiche(place, false));
                            focus_soon(format!("descendre-{place}"), Some(format!("monter-{place}")));
                        }>{move || t("↓ Descendre", "↓ Down")}</button>
                    <button type="button" class="secondaire" id=format!("dupliquer-{place}")
                        aria-label=move || if en() { format!("Duplicate sheet no. {}", number(place)) } else { format!("Dupliquer la fiche n° {}", number(place)) }
                        on:click=move |_| {
                            let n = number(place);
                            change(&|d| d.duplicate_fiche(place).map(|_| ()));
                            done.set(Some((
                                if en() { format!("Sheet no. {n} duplicated: the copy is sheet no. {}.", n + 1) } else { format!("Fiche n° {n} dupliquée : la copie est la fiche n° {}.", n + 1) },
                                None,
                            )));
                        }>{move || t("Dupliquer", "Duplicate")}</button>
                    <button type="button" class="secondaire" id=format!("supprimer-{place}")
                        aria-label=move || if en() { format!("Delete sheet no. {}", number(place)) } else { format!("Supprimer la fiche n° {}", number(place)) }
                        on:click=move |_| {
                            let n = number(place);
                            change(&|d| d.delete_fiche(place));
                            done.set(Some((
                                if en() { format!("Sheet no. {n} deleted.") } else { format!("Fiche n° {n} supprimée.") },
                                Some(place),
                            )));
                            focus_soon("annuler-suppression".into(), None);
                        }>{move || t("Supprimer", "Delete")}</button>
                </div>
                {fields.iter().map(|f| if f.key == "competences" {
                    view! { <CompetencePicker index=place text=f/> }.into_any()
                } else if f.key == "preuves" {
                    view! { <PreuvesPicker index=place text=f/> }.into_any()
                } else if let Some(path) = FieldPath::fiche(place, f.key) {
                    view! { <Field path=path text=f/> }.into_any()
                } else {
                    ().into_any()
                }).collect_view()}
                <EditHistory place=livret_shared::field_path::Place::Fiche(place)/>
            </fieldset>
        </For>
        <p role="status" aria-live="polite" data-testid="fiches-etat">
            {move || done.get().map(|(message, undo)| view! {
                {message}
                {undo.map(|place| view! {
                    " "
                    <button type="button" class="lien" id="annuler-suppression" on:click=move |_| {
                        change(&|d| d.restore_fiche(place));
                        done.set(Some((t("Suppression annulée.", "Deletion undone.").into(), None)));
                        // The button goes with the message: the focus goes to the fiche back.
                        focus_soon(format!("supprimer-{place}"), Some("ajouter-fiche".into()));
                    }>{move || t("Annuler la suppression", "Undo the deletion")}</button>
                })}
            })}
        </p>
        <button type="button" id="ajouter-fiche" on:click=add>{move || t("Ajouter une fiche activité", "Add an activity sheet")}</button>
        <Show when=move || st.deleted.with(|d| !d.is_empty())>
            <details class="corbeille">
                <summary>{move || {
                    let n = st.deleted.with(Vec::len);
                    if en() { format!("Deleted sheets ({n})") } else { format!("Fiches supprimées ({n})") }
                }}</summary>
                <ul>
                    <For each=move || st.deleted.get() key=|place| *place let:place>
                        <li>
                            {
                                // Its title, redrawn only when it changes.
                                let title = Memo::new(move |_| {
                                    st.revision.get();
                                    FieldPath::fiche(place, "intitule")
                                        .and_then(|title| session::with_open(|r| r.dossier().get_field(&title)).ok())
                                        .unwrap_or_default()
                                });
                                move || {
                                    let title = title.get();
                                    if title.is_empty() { t("Fiche sans intitulé", "Untitled sheet").to_string() } else { title }
                                }
                            }
                            " "
                            <button type="button" class="lien" id=format!("restaurer-{place}") on:click=move |_| {
                                change(&|d| d.restore_fiche(place));
                                done.set(Some((t("Fiche restaurée.", "Sheet restored.").into(), None)));
                                focus_soon(format!("supprimer-{place}"), Some("ajouter-fiche".into()));
                            }>{move || t("Restaurer", "Restore")}</button>
                        </li>
                    </For>
                </ul>
            </details>
        </Show>
    }
}

/// A list field's value as its picker shows it (`"a, b"`), registered with the fields on
/// screen so others' edits reach it too.
pub(super) fn list_field(path: FieldPath) -> RwSignal<String> {
    let stored = session::with_open(|r| r.dossier().get_field(&path)).unwrap_or_default();
    let shown = RwSignal::new(as_input(FieldKind::List, stored));
    FIELDS.with(|f| f.borrow_mut().push((path, shown)));
    shown
}

pub(super) fn list_items(shown: &str) -> Vec<String> {
    shown
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Writes a picker's new list to the document and to what it shows.
pub(super) fn set_list(
    path: &FieldPath,
    shown: RwSignal<String>,
    items: &[String],
    st: EditorState,
) {
    let value = items.join(", ");
    shown.set(value.clone());
    write_field(st, path, &value);
}

/// The annexes a fiche gives as its evidence, ticked from the dossier's annexes (shown with
/// their numbers, stored by their files: a number given twice offline and settled later
/// does not move a fiche's evidence).
#[component]
pub(super) fn PreuvesPicker(index: usize, text: &'static FieldText) -> impl IntoView {
    let st = EditorState::get();
    let path = FieldPath::fiche(index, "preuves").expect("fiches have their evidence");
    let chosen = list_field(path);
    let boxes = move || {
        let annexes = st.annexes.get();
        if annexes.is_empty() {
            return view! {
                <p class="aide">{move || t(
                    "Aucune annexe pour l'instant : ajoutez les fichiers dans la section Annexes, puis cochez-les ici.",
                    "No annex yet: add the files in the Annexes section, then tick them here.",
                )}</p>
            }
            .into_any();
        }
        annexes
            .into_iter()
            .map(|a| {
                let id = format!("preuve-{index}-{}", a.numero);
                let label = if en() {
                    format!("Annex no. {} — {}", a.numero, a.titre)
                } else {
                    format!("Annexe n° {} — {}", a.numero, a.titre)
                };
                let (path, checked_annexe) = (path, a.clone());
                let toggle = move |ev: leptos::ev::Event| {
                    let mut list = list_items(&chosen.get_untracked());
                    list.retain(|entry| !a.is_named_by(entry));
                    if event_target_checked(&ev) {
                        list.push(a.reference());
                    }
                    set_list(&path, chosen, &list, st);
                };
                view! {
                    <div class="case">
                        <input type="checkbox" id=id.clone() on:change=toggle
                            prop:checked=move || list_items(&chosen.get()).iter().any(|e| checked_annexe.is_named_by(e))/>
                        <label for=id>{label}</label>
                    </div>
                }
            })
            .collect_view()
            .into_any()
    };
    view! {
        <fieldset class="preuves">
            <legend>{move || t(text.label_fr, text.label_en)}</legend>
            {(!text.guidance_fr.is_empty()).then(|| view! { <p class="aide">{move || t(text.guidance_fr, text.guidance_en)}</p> })}
            {boxes}
        </fieldset>
    }
}

/// The compétences a fiche claims, picked from the dossier's référentiel (bloc by bloc,
/// filtered as one types), stored as the list of their codes.
#[component]
pub(super) fn CompetencePicker(index: usize, text: &'static FieldText) -> impl IntoView {
    let st = EditorState::get();
    let path = FieldPath::fiche(index, "competences").expect("fiches claim compétences");
    let referentiel = st.referentiel.get_value();
    let selected = list_field(path);
    let query = RwSignal::new(String::new());
    let search_id = format!("filtre-{index}");
    let Some(referentiel) = referentiel else {
        return view! {
            <p class="erreur">{move || t(
                "Ce dossier n'indique pas de référentiel : choisissez la certification visée.",
                "This dossier names no framework: choose the certification you are aiming for.",
            )}</p>
        }
        .into_any();
    };
    let assessed: Vec<(Vec<String>, Vec<String>)> = referentiel
        .competences()
        .map(|(_, c)| {
            (
                referentiel.modalites(&c.code),
                referentiel.consignes(&c.code),
            )
        })
        .collect();
    let mut assessed = assessed.into_iter();
    let blocs = referentiel
        .blocs
        .into_iter()
        .map(|bloc| {
            let (kind, number) = (bloc.kind, bloc.number);
            let titled = bloc.title.map(|t| format!(" — {t}")).unwrap_or_default();
            let heading = move || {
                let kind = match kind {
                    livret_shared::referentiel::BlocKind::Bloc => t("Bloc", "Block"),
                    livret_shared::referentiel::BlocKind::Activite => t("Activité", "Activity"),
                };
                format!("{kind} {number}{titled}")
            };
            let boxes = bloc
                .competences
                .into_iter()
                .map(|c| {
                    let id = format!("cb-{index}-{}", code_id(&c.code));
                    let haystack = livret_shared::search::folded(&format!("{} {}", c.code, c.title));
                    let code = c.code.clone();
                    let checked_code = c.code.clone();
                    let toggle = move |ev: leptos::ev::Event| {
                        let on = event_target_checked(&ev);
                        let mut list = list_items(&selected.get_untracked());
                        // Unclaiming a compétence unclaims the criteria cited with it.
                        list.retain(|x| split_citation(x).0 != code);
                        if on {
                            list.push(code.clone());
                        }
                        set_list(&path, selected, &list, st);
                    };
                    let (modalites, consignes) = assessed.next().unwrap_or_default();
                    view! {
                        <div class="case" class:masquee=move || {
                            !livret_shared::search::matches(&haystack, &query.get())
                        }>
                            <input type="checkbox" id=id.clone() on:change=toggle
                                prop:checked=move || list_items(&selected.get()).contains(&checked_code)/>
                            <label for=id>{format!("{} — {}", c.code, c.title)}</label>
                            <CompetenceDetails index=index code=c.code criteria=c.criteria
                                modalites=modalites consignes=consignes selected=selected path=path/>
                        </div>
                    }
                })
                .collect_view();
            view! {
                <fieldset class="bloc">
                    <legend>{heading}</legend>
                    {boxes}
                </fieldset>
            }
        })
        .collect_view();
    view! {
        <fieldset class="competences">
            <legend>{move || t(text.label_fr, text.label_en)}</legend>
            {(!text.guidance_fr.is_empty()).then(|| view! { <p class="aide">{move || t(text.guidance_fr, text.guidance_en)}</p> })}
            <label for=search_id.clone()>{move || t("Filtrer les compétences", "Filter the skills")}</label>
            <input type="search" id=search_id on:input=move |ev| query.set(event_target_value(&ev))/>
            <Show when=move || !st.juror.get()>
                <FicheSuggestions index=index selected=selected path=path/>
            </Show>
            {blocs}
        </fieldset>
    }
    .into_any()
}

/// What the jury looks for in a compétence: its criteria, each of which a fiche can cite
/// (`C5#2`, stored beside the compétence's code), how it is assessed and what its épreuve
/// asks the candidate to present. Folded away: it is there when the candidate wants it.
#[component]
fn CompetenceDetails(
    index: usize,
    code: String,
    criteria: Vec<Criterion>,
    modalites: Vec<String>,
    consignes: Vec<String>,
    selected: RwSignal<String>,
    path: FieldPath,
) -> impl IntoView {
    if criteria.is_empty() && modalites.is_empty() {
        return ().into_any();
    }
    let st = EditorState::get();
    let items = criteria
        .into_iter()
        .enumerate()
        .map(|(i, criterion)| {
            let rank = i + 1;
            let citation = format!("{code}#{rank}");
            let id = format!("crit-{index}-{}-{rank}", code_id(&code));
            let (code, cited) = (code.clone(), citation.clone());
            let toggle = move |ev: leptos::ev::Event| {
                let mut list = list_items(&selected.get_untracked());
                list.retain(|x| *x != citation);
                if event_target_checked(&ev) {
                    // Citing a criterion claims its compétence.
                    if !list.contains(&code) {
                        list.push(code.clone());
                    }
                    list.push(citation.clone());
                }
                set_list(&path, selected, &list, st);
            };
            let title = criterion.title;
            let indicators = (!criterion.indicators.is_empty()).then(|| {
                view! {
                    <ul class="indicateurs">
                        {criterion.indicators.into_iter().map(|x| view! { <li>{x}</li> }).collect_view()}
                    </ul>
                }
            });
            view! {
                <li>
                    <input type="checkbox" id=id.clone() on:change=toggle
                        prop:checked=move || list_items(&selected.get()).contains(&cited)/>
                    <label for=id>{move || if en() {
                        format!("Criterion {rank}: {title}")
                    } else {
                        format!("Critère {rank} : {title}")
                    }}</label>
                    {indicators}
                </li>
            }
        })
        .collect_view();
    let modalites = modalites
        .into_iter()
        .map(|m| {
            view! {
                <p class="modalite">
                    <strong>{move || t("Évaluation : ", "Assessment: ")}</strong>
                    {m}
                </p>
            }
        })
        .collect_view();
    view! {
        <details class="criteres" data-code=code>
            <summary>{move || t("Critères et évaluation", "Criteria and assessment")}</summary>
            <ol>{items}</ol>
            {modalites}
            {(!consignes.is_empty()).then(|| view! {
                <p class="modalite">
                    <strong>{move || t("À présenter à l’épreuve :", "To present at the assessment:")}</strong>
                </p>
                <ul class="consignes">
                    {consignes.into_iter().map(|c| view! { <li>{c}</li> }).collect_view()}
                </ul>
            })}
        </details>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{self, Lang};

    #[test]
    fn a_typed_list_keeps_its_items_and_drops_the_empty_ones() {
        i18n::set(Lang::Fr);
        assert_eq!(list_items(" C1.2, ,C2.1 ,"), vec!["C1.2", "C2.1"]);
        assert!(list_items("  ").is_empty());
    }
}
