//! The template's sections and their fields: each field's control, kind and guidance, saved
//! on every keystroke; the sommaire.

use super::*;
use livret_shared::date::Date;
use livret_shared::dossier::{Answer, TICKED};
use livret_shared::field_path::{Place, repeat_key};

/// How long typing pauses before the steps' progress is read again.
const PAUSE_MS: i32 = 400;

/// The livret's steps in the template's order, each with how much of it is filled (from
/// the document, at each change here or from others), and « Ce qu'il reste à faire »: every
/// question still owed, a way to each.
#[component]
pub(super) fn Sommaire() -> impl IntoView {
    let st = EditorState::get();
    let read =
        || session::with_open(|r| livret_shared::progress::steps(r.dossier())).unwrap_or_default();
    let steps = RwSignal::new(read());
    when_typing_pauses(st, PAUSE_MS, move || {
        let now = read();
        if steps.try_get_untracked().is_some_and(|old| old != now) {
            steps.set(now);
        }
    });
    let progress_of =
        move |key: &str| steps.with(|all| all.iter().find(|s| s.section == key).cloned());
    view! {
        <nav class="sommaire" aria-labelledby="titre-sommaire">
            <h3 id="titre-sommaire">{move || t("Les étapes du livret", "The livret’s steps")}</h3>
            <ol>
                {open_template().sections.iter().map(|s| {
                    let avancement = move || progress_of(s.key).map(|p| {
                        let text = match (p.is_done(), en()) {
                            (true, false) => "✓ complet".to_string(),
                            (true, true) => "✓ complete".to_string(),
                            (false, false) => format!("{} sur {}", p.filled(), p.asked),
                            (false, true) => format!("{} of {}", p.filled(), p.asked),
                        };
                        view! {
                            " "
                            <span class=if p.is_done() { "avancement fait" } else { "avancement" }
                                data-testid=format!("avancement-{}", s.key)>{text}</span>
                        }
                    });
                    view! {
                        <li><a href=format!("#section-{}", s.key)>{move || t(s.title_fr, s.title_en)}</a>{avancement}</li>
                    }
                }).collect_view()}
            </ol>
            <WhatIsLeft steps=steps/>
        </nav>
    }
}

/// Every question still owed, step by step, each with a way to its field.
#[component]
fn WhatIsLeft(steps: RwSignal<Vec<livret_shared::progress::StepProgress>>) -> impl IntoView {
    let st = EditorState::get();
    let left = move || steps.with(|all| all.iter().map(|s| s.missing.len()).sum::<usize>());
    let summary = move || match (left(), en()) {
        (0, false) => {
            "Ce qu’il reste à faire : rien, toutes les questions ont une réponse.".to_string()
        }
        (0, true) => "What is left: nothing, every question has an answer.".to_string(),
        (n, false) => format!("Ce qu’il reste à faire : {n} réponse(s)"),
        (n, true) => format!("What is left: {n} answer(s)"),
    };
    // A fiche is named by its number as shown (its position), its field's id by its place.
    let fiche_number = move |place: usize| {
        st.fiches
            .with(|order| order.iter().position(|p| *p == place))
            .map_or(place + 1, |i| i + 1)
    };
    let row = move |path: String| {
        let id = control_id(&path);
        let label = path.clone();
        view! {
            <li data-champ=path>
                {move || owed_label(&label, fiche_number)}
                " "
                <button type="button" class="lien" on:click=move |_| focus_soon(id.clone(), None)>
                    {move || t("Y aller", "Go there")}
                </button>
            </li>
        }
    };
    view! {
        <details class="reste" data-testid="reste">
            <summary>{summary}</summary>
            {move || steps.get().into_iter().filter(|s| !s.is_done()).map(|s| {
                let title = open_template().section(s.section);
                view! {
                    <h4>{move || title.map_or("", |x| t(x.title_fr, x.title_en)).to_string()}</h4>
                    <ul data-etape=s.section>{s.missing.into_iter().map(row).collect_view()}</ul>
                }
            }).collect_view()}
        </details>
    }
}

#[component]
pub(super) fn Section(section: &'static template::SectionText) -> impl IntoView {
    let heading = format!("titre-section-{}", section.key);
    let labelled_by = heading.clone();
    let body = match section.key {
        "fiches" => view! { <Fiches/> <Recapitulatif/> <CoverageHints/> }.into_any(),
        "annexes" => view! { <Annexes/> }.into_any(),
        // Every field of the template is one of the dossier's (a test of shared::template).
        key => section
            .fields
            .iter()
            .filter_map(|f| Some((FieldPath::section(key, f.key)?, f)))
            .map(|(path, f)| view! { <Question path=path text=f/> })
            .collect_view()
            .into_any(),
    };
    let repeats = livret_shared::dossier::REPEATED
        .contains(&section.key)
        .then(|| view! { <Repeats section=section/> });
    view! {
        <section id=format!("section-{}", section.key) class="section" aria-labelledby=labelled_by>
            <h3 id=heading>{move || t(section.title_fr, section.title_en)}</h3>
            {(!section.guidance_fr.is_empty()).then(|| view! { <p class="consigne">{move || t(section.guidance_fr, section.guidance_en)}</p> })}
            {body}
            {(!matches!(section.key, "fiches" | "annexes")).then(|| view! {
                <EditHistory place=livret_shared::field_path::Place::Section(section.key)/>
            })}
            {repeats}
        </section>
    }
}

/// A question of a section (or of a further structure or poste): always asked, or asked
/// after an answer.
#[component]
fn Question(path: FieldPath, text: &'static FieldText) -> impl IntoView {
    let section = match path.place() {
        Place::Section(section) | Place::Repeat(section, _) => section,
        _ => "",
    };
    match template::asked_after(section, text.key) {
        None => view! { <Field path=path text=text/> }.into_any(),
        Some(_) => view! { <AskedAfter path=path text=text/> }.into_any(),
    }
}

/// How a section that repeats names its further items, in French and in English.
struct RepeatWords {
    /// « la structure n° 2 », for buttons and messages.
    one: (&'static str, &'static str),
    add: (&'static str, &'static str),
    /// The add's and the delete's messages, after the item's name.
    added: (&'static str, &'static str),
    deleted: (&'static str, &'static str),
    restored: (&'static str, &'static str),
    trash: (&'static str, &'static str),
    untitled: (&'static str, &'static str),
    /// Why one more is refused, `{n}` standing for how many a section takes.
    too_many: (&'static str, &'static str),
    /// The field that names an item.
    title_field: &'static str,
}

fn repeat_words(section: &str) -> RepeatWords {
    match section {
        "poste" => RepeatWords {
            one: ("le poste n°", "position no."),
            add: ("Ajouter un autre poste", "Add another position"),
            added: ("ajouté.", "added."),
            deleted: ("supprimé.", "deleted."),
            restored: ("Poste restauré.", "Position restored."),
            trash: ("Postes supprimés", "Deleted positions"),
            untitled: ("Poste sans intitulé", "Untitled position"),
            too_many: (
                "Pas d'autre poste : ce dossier en compte déjà {n} en plus, supprimés compris.",
                "No more positions: this dossier already has {n} further ones, deleted ones included.",
            ),
            title_field: "intitule",
        },
        _ => RepeatWords {
            one: ("la structure n°", "organisation no."),
            add: ("Ajouter une autre structure", "Add another organisation"),
            added: ("ajoutée.", "added."),
            deleted: ("supprimée.", "deleted."),
            restored: ("Structure restaurée.", "Organisation restored."),
            trash: ("Structures supprimées", "Deleted organisations"),
            untitled: ("Structure sans nom", "Unnamed organisation"),
            too_many: (
                "Pas d'autre structure : ce dossier en compte déjà {n} en plus, supprimées comprises.",
                "No more organisations: this dossier already has {n} further ones, deleted ones included.",
            ),
            title_field: "nom",
        },
    }
}

/// The further structures or postes of a section (several employers, several positions),
/// each with the section's questions, numbered from 2 after the section's own; each can be
/// deleted with a way back, and a button adds one. A juror reads them, without the buttons.
#[component]
fn Repeats(section: &'static template::SectionText) -> impl IntoView {
    let st = EditorState::get();
    let key = section.key;
    let words = repeat_words(key);
    let shown = Memo::new(move |_| {
        st.revision.track();
        session::with_open(|r| r.dossier().repeats(key)).unwrap_or_default()
    });
    let deleted = Memo::new(move |_| {
        st.revision.track();
        session::with_open(|r| r.dossier().deleted_repeats(key)).unwrap_or_default()
    });
    let number = move |id: u64| {
        shown
            .with(|ids| ids.iter().position(|i| *i == id))
            .map_or(0, |i| i + 2)
    };
    let done = RwSignal::new(None::<(String, Option<u64>)>);
    let change = move |what: &dyn Fn(
        &mut livret_shared::dossier::Dossier,
    ) -> Result<(), livret_shared::dossier::DossierError>| {
        change_dossier(st, what).is_ok()
    };
    let first_field = section.fields.first().map_or("", |f| f.key);
    let add = move |_| {
        let added = std::cell::Cell::new(None);
        // A section takes 200 further ones, deleted ones included (`add_repeat` refuses
        // more): the status line says so in the section's words.
        let max = livret_shared::dossier::MAX_REPEATS;
        let full = session::with_open(|r| {
            r.dossier().repeats(key).len() + r.dossier().deleted_repeats(key).len() >= max
        });
        if full.unwrap_or(false) {
            let said = t(words.too_many.0, words.too_many.1).replace("{n}", &max.to_string());
            done.set(Some((said, None)));
            return;
        }
        if let Err(e) = change_dossier(st, &|d| d.add_repeat(key).map(|id| added.set(Some(id)))) {
            done.set(Some((e.to_string(), None)));
        }
        if let Some(id) = added.get() {
            let n = number(id);
            done.set(Some((
                if en() {
                    format!("{} {n} {}", capitalised(words.one.1), words.added.1)
                } else {
                    format!("{} {n} {}", capitalised(words.one.0), words.added.0)
                },
                None,
            )));
            focus_soon(format!("f-{key}-{}-{first_field}", repeat_key(id)), None);
        }
    };
    let title_of = move |id: u64| {
        FieldPath::repeat(key, id, words.title_field)
            .and_then(|path| session::with_open(|r| r.dossier().get_field(&path)).ok())
            .unwrap_or_default()
    };
    view! {
        <For each=move || shown.get() key=|id| *id let:id>
            <fieldset class="autre" data-autre=format!("{key}.{}", repeat_key(id))>
                <legend>{move || format!("{} ({})", t(section.title_fr, section.title_en), number(id))}</legend>
                <Show when=move || !st.juror.get()>
                    <div class="outils-fiche">
                        <button type="button" class="secondaire" id=format!("supprimer-{key}-{}", repeat_key(id))
                            aria-label=move || if en() { format!("Delete {} {}", words.one.1, number(id)) } else { format!("Supprimer {} {}", words.one.0, number(id)) }
                            on:click=move |_| {
                                let n = number(id);
                                change(&|d| d.delete_repeat(key, id));
                                done.set(Some((
                                    if en() { format!("{} {n} {}", capitalised(words.one.1), words.deleted.1) } else { format!("{} {n} {}", capitalised(words.one.0), words.deleted.0) },
                                    Some(id),
                                )));
                                focus_soon(format!("annuler-suppression-{key}"), None);
                            }>{move || t("Supprimer", "Delete")}</button>
                    </div>
                </Show>
                {section.fields.iter().filter_map(|f| Some((FieldPath::repeat(key, id, f.key)?, f)))
                    .map(|(path, f)| view! { <Question path=path text=f/> })
                    .collect_view()}
                <EditHistory place=Place::Repeat(key, id)/>
            </fieldset>
        </For>
        <Show when=move || !st.juror.get()>
            <p role="status" aria-live="polite" data-testid=format!("autres-{key}-etat")>
                {move || done.get().map(|(message, undo)| view! {
                    {message}
                    {undo.map(|id| view! {
                        " "
                        <button type="button" class="lien" id=format!("annuler-suppression-{key}") on:click=move |_| {
                            change(&|d| d.restore_repeat(key, id));
                            done.set(Some((t("Suppression annulée.", "Deletion undone.").into(), None)));
                            // The button goes with the message: the focus goes to what is back.
                            focus_soon(
                                format!("supprimer-{key}-{}", repeat_key(id)),
                                Some(format!("ajouter-{key}")),
                            );
                        }>{move || t("Annuler la suppression", "Undo the deletion")}</button>
                    })}
                })}
            </p>
            <button type="button" class="secondaire" id=format!("ajouter-{key}") on:click=add>{move || t(words.add.0, words.add.1)}</button>
            <Show when=move || deleted.with(|d| !d.is_empty())>
                <details class="corbeille" data-testid=format!("corbeille-{key}")>
                    <summary>{move || format!("{} ({})", t(words.trash.0, words.trash.1), deleted.with(Vec::len))}</summary>
                    <ul>
                        <For each=move || deleted.get() key=|id| *id let:id>
                            <li>
                                {move || {
                                    st.revision.track();
                                    let title = title_of(id);
                                    if title.is_empty() { t(words.untitled.0, words.untitled.1).to_string() } else { title }
                                }}
                                " "
                                <button type="button" class="lien" id=format!("restaurer-{key}-{}", repeat_key(id)) on:click=move |_| {
                                    change(&|d| d.restore_repeat(key, id));
                                    done.set(Some((t(words.restored.0, words.restored.1).into(), None)));
                                    focus_soon(
                                format!("supprimer-{key}-{}", repeat_key(id)),
                                Some(format!("ajouter-{key}")),
                            );
                                }>{move || t("Restaurer", "Restore")}</button>
                            </li>
                        </For>
                    </ul>
                </details>
            </Show>
        </Show>
    }
}

/// `text` with its first letter in capitals (« la structure » → « La structure »).
fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// A field the template asks only after a given answer (« Si vous êtes en poste »,
/// « Précisez »): shown once that answer is chosen, like a public-service form's questions
/// that open below the answer. Hidden, what it holds is kept.
#[component]
fn AskedAfter(path: FieldPath, text: &'static FieldText) -> impl IntoView {
    let st = EditorState::get();
    // Read from the document at each change (here or merged from others): the answer it
    // follows may itself be a question asked after another (« Temps partiel » after « En
    // poste »), not on screen.
    let asked = move || {
        st.revision.track();
        session::with_open(|r| livret_shared::progress::asked(r.dossier(), &path)).unwrap_or(false)
    };
    // An answer given before the choice it follows changed stays in sight, said to apply
    // no more (it is not printed), until it is cleared: nothing typed disappears unseen.
    let holds = move || {
        st.revision.track();
        session::with_open(|r| !r.dossier().get_field(&path).trim().is_empty()).unwrap_or(false)
    };
    let name = path.to_string().replace('.', "-");
    let clear = move |_| write_field(st, &path, "");
    let note = move || {
        (!asked()).then(|| {
            view! {
                <p class="plus-demande" data-testid=format!("plus-demande-{name}")>
                    {move || t(
                        "Cette réponse ne s’applique plus à votre choix ci-dessus : elle est gardée, mais ne sera pas imprimée.",
                        "This answer no longer applies to your choice above: it is kept, but will not be printed.",
                    )}
                    " "
                    <button type="button" class="lien" id=format!("effacer-{name}") on:click=clear>
                        {move || t("Effacer cette réponse", "Clear this answer")}
                    </button>
                </p>
            }
        })
    };
    view! {
        <Show when=move || asked() || holds()>
            {note.clone()}
            <Field path=path text=text/>
        </Show>
    }
}

/// The id of the control a field is answered in (a dotted path, a fiche's field by its
/// place): a fiche's compétences by the picker's filter; `fiches` alone, the button that adds
/// the first fiche.
pub(super) fn control_id(path: &str) -> String {
    let parts: Vec<&str> = path.split('.').collect();
    match parts.as_slice() {
        ["fiches"] => "ajouter-fiche".to_string(),
        ["fiches", place, "competences"] => format!("filtre-{place}"),
        _ => format!("f-{}", path.replace('.', "-")),
    }
}

/// An owed question in words: its label, a fiche's prefixed by its number as shown.
fn owed_label(path: &str, fiche_number: impl Fn(usize) -> usize) -> String {
    let parts: Vec<&str> = path.split('.').collect();
    match parts.as_slice() {
        ["fiches"] => t(
            "Une première fiche descriptive d’activité",
            "A first activity sheet",
        )
        .to_string(),
        ["fiches", place, key] => {
            let n = fiche_number(place.parse().unwrap_or_default());
            let label = open_template()
                .field("fiches", key)
                .map_or("", |f| t(f.label_fr, f.label_en));
            if en() {
                format!("Sheet {n} — {label}")
            } else {
                format!("Fiche {n} — {label}")
            }
        }
        [section, key] => open_template()
            .field(section, key)
            .map_or("", |f| t(f.label_fr, f.label_en))
            .to_string(),
        [section, id, key] => repeat_label(section, id, key),
        _ => path.to_string(),
    }
}

/// A further structure's or poste's field in words: « Fiche descriptive de la structure
/// (2) — Nom de la structure », numbered as shown.
pub(crate) fn repeat_label(section: &str, id: &str, key: &str) -> String {
    let number = livret_shared::field_path::repeat_id(id)
        .and_then(|id| {
            session::with_open(|r| r.dossier().repeats(section))
                .ok()?
                .iter()
                .position(|i| *i == id)
        })
        .map_or("?".to_string(), |i| (i + 2).to_string());
    let title = open_template()
        .section(section)
        .map_or("", |s| t(s.title_fr, s.title_en));
    let label = open_template()
        .field(section, key)
        .map_or("", |f| t(f.label_fr, f.label_en));
    format!("{title} ({number}) — {label}")
}

/// The ids describing a choice or a date: its guidance, and the note on what an older
/// version kept only while that note is shown (an id that names nothing describes nothing).
fn described_by(
    guidance: Option<String>,
    note_id: String,
    kind: FieldKind,
    shown: RwSignal<String>,
) -> impl Fn() -> String + Clone + Send + Sync + 'static {
    move || {
        let as_written = shown.with(|v| Answer::of(kind, v).is_as_written(kind));
        [guidance.clone(), as_written.then(|| note_id.clone())]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// What an older version kept where an answer is now chosen or a day picked: shown until the
/// candidate chooses (it is the dossier's until then, never thrown away).
fn as_written_note(kind: FieldKind, shown: RwSignal<String>, note_id: String) -> impl IntoView {
    move || {
        shown.with(|v| match Answer::of(kind, v) {
            Answer::AsWritten(written) if matches!(kind, FieldKind::Choice(_) | FieldKind::Date) => {
                let text = if en() {
                    format!("You had written “{written}”: choose what it means below.")
                } else {
                    format!("Vous aviez écrit « {written} » : choisissez ci-dessous ce que cela veut dire.")
                };
                Some(view! { <p id=note_id.clone() class="ecrit-avant" data-testid="ecrit-avant">{text}</p> })
            }
            _ => None,
        })
    }
}

/// The candidate's age, which the template asks for, worked out from the birth date and
/// today (the template prints « Âge : »; nobody should compute it by hand).
fn age_today(shown: RwSignal<String>) -> impl IntoView {
    move || {
        let born = Date::read(&shown.get())?;
        let today = Date::of_ms(crate::clock::now_ms() as i64);
        let years = born.years_to(today)?;
        let text = if en() {
            format!("Age: {years}")
        } else {
            format!("Âge : {years} ans")
        };
        Some(view! { <p class="age" data-testid="age">{text}</p> })
    }
}

/// Moves keyboard focus to `id` once the view has caught up (a moved fiche's button is
/// taken out of the page and put back, which drops focus), or to `fallback` when `id` is now
/// disabled (a fiche moved to the top can go up no more).
pub(super) fn focus_soon(id: String, fallback: Option<String>) {
    spawn_local(async move {
        session::sleep(0).await;
        let document = web_sys::window().and_then(|w| w.document());
        let find = |id: &str| {
            document
                .as_ref()
                .and_then(|d| d.get_element_by_id(id))
                .filter(|e| !e.has_attribute("disabled"))
                .and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(e).ok())
        };
        if let Some(el) = find(&id).or_else(|| fallback.as_deref().and_then(find)) {
            let _ = el.focus();
        }
    });
}

/// A list field is edited as comma-separated values; the document keeps a list.
pub(super) fn as_input(kind: FieldKind, stored: String) -> String {
    if kind != FieldKind::List {
        return stored;
    }
    serde_json::from_str::<Vec<String>>(&stored)
        .map(|items| items.join(", "))
        .unwrap_or(stored)
}

#[component]
pub(super) fn Field(path: FieldPath, text: &'static FieldText) -> impl IntoView {
    let st = EditorState::get();
    let kind = path.kind();
    let stored = session::with_open(|r| r.dossier().get_field(&path)).unwrap_or_default();
    let shown = RwSignal::new(as_input(kind, stored));
    FIELDS.with(|f| f.borrow_mut().push((path, shown)));
    // A question hidden again (its answer changed) leaves the fields others' edits update.
    on_cleanup(move || FIELDS.with(|f| f.borrow_mut().retain(|(_, s)| *s != shown)));
    // The dotted name: what presence, comments and annotations call the field.
    let name = path.to_string();
    let id = format!("f-{}", name.replace('.', "-"));
    let help = format!("{id}-aide");
    let focused = {
        let name = name.clone();
        move |ev: leptos::ev::FocusEvent| announce_here(&name, &ev, true)
    };
    let here_path = name.clone();
    let here_testid = format!("presence-{id}");
    let others_here = move || {
        let names: Vec<String> = st
            .present
            .get()
            .into_iter()
            .filter(|h| h.field == here_path)
            .map(|h| match h.caret {
                Some(c) => {
                    let around = shown
                        .with(|text| livret_shared::presence::caret_in_context(text, c as usize));
                    if en() {
                        format!("{} (at character {c}: “{around}”)", h.who)
                    } else {
                        format!("{} (au caractère {c} : « {around} »)", h.who)
                    }
                }
                None => h.who,
            })
            .collect();
        (!names.is_empty()).then(|| {
            let text = if en() {
                format!("Here too: {}", names.join(", "))
            } else {
                format!("Aussi ici : {}", names.join(", "))
            };
            view! { <p class="presence-ici" data-testid=here_testid.clone()>{text}</p> }
        })
    };
    let typing_path = name.clone();
    let comment_path = name;
    let on_input = move |ev: leptos::ev::Event| {
        announce_here(&typing_path, &ev, false);
        let value = event_target_value(&ev);
        // Untracked: the control already shows it; writing it back would move the caret.
        shown.update_untracked(|v| v.clone_from(&value));
        match session::with_open(|r| r.dossier().set(&path, &value)) {
            Ok(Ok(())) => {
                metrics::keystroke();
                persist(st);
            }
            Ok(Err(e)) => st.save.set(SaveState::Failed(e.into())),
            Err(e) => st.save.set(SaveState::Failed(e)),
        }
    };
    let guidance = (!text.guidance_fr.is_empty())
        .then(|| view! { <p id=help.clone() class="aide">{move || t(text.guidance_fr, text.guidance_en)}</p> });
    let described = (!text.guidance_fr.is_empty()).then(|| help.clone());
    let save_answer = move |value: String| {
        shown.set(value.clone());
        write_field(st, &path, &value);
    };
    if let FieldKind::Choice(options) = kind {
        // The answers the template prints to circle: radio buttons in a group named by the
        // label. The first one carries the field's id, where the checklist leads.
        let note_id = format!("{id}-avant");
        let radios = options
            .iter()
            .enumerate()
            .map(|(i, choice)| {
                let radio_id = if i == 0 {
                    id.clone()
                } else {
                    format!("{id}-{}", choice.key)
                };
                let checked = move || {
                    shown.with(
                        |v| matches!(Answer::of(kind, v), Answer::Chosen(c) if c.key == choice.key),
                    )
                };
                let focused = focused.clone();
                view! {
                    <span class="option">
                        <input id=radio_id.clone() type="radio" name=id.clone() value=choice.key
                            on:focus=focused
                            on:change=move |_| save_answer(choice.key.to_string())
                            prop:checked=checked prop:disabled=move || st.juror.get()/>
                        <label for=radio_id>{move || t(choice.label_fr, choice.label_en)}</label>
                    </span>
                }
            })
            .collect_view();
        let described = described_by(described.clone(), note_id.clone(), kind, shown);
        return view! {
            <fieldset class="champ choix" aria-describedby=described>
                <legend>{move || t(text.label_fr, text.label_en)}</legend>
                {guidance}
                {as_written_note(kind, shown, note_id)}
                {others_here}
                <ChangedBy path=path field_id=id.clone()/>
                <div class="options">{radios}</div>
                <FieldComments path=comment_path field_id=id/>
            </fieldset>
        }
        .into_any();
    }
    if kind == FieldKind::Tick {
        // The template's box to tick: a real checkbox, its words as its label.
        let on_change = move |ev: leptos::ev::Event| {
            let ticked = event_target_checked(&ev);
            save_answer(if ticked { TICKED } else { "" }.to_string());
        };
        return view! {
            <div class="champ case">
                <input id=id.clone() type="checkbox" on:focus=focused on:change=on_change
                    prop:checked=move || shown.get() == TICKED prop:disabled=move || st.juror.get()/>
                <label for=id.clone()>{move || t(text.label_fr, text.label_en)}</label>
                {others_here}
                <ChangedBy path=path field_id=id.clone()/>
                <FieldComments path=comment_path field_id=id/>
            </div>
        }
        .into_any();
    }
    // A juror reads the fields (and selects passages in them to annotate), never writes.
    let control = if kind == FieldKind::Date {
        // The browser's own date picker; it gives (and shows) the day however the
        // candidate's system writes dates, and stores AAAA-MM-JJ.
        let note_id = format!("{id}-avant");
        let error_id = format!("{id}-erreur");
        let out_of_range = RwSignal::new(false);
        let described = {
            let (error_id, guidance) = (
                error_id.clone(),
                described_by(described.clone(), note_id.clone(), kind, shown),
            );
            move || {
                let mut ids = guidance();
                if out_of_range.get() {
                    ids = format!("{ids} {error_id}").trim().to_string();
                }
                ids
            }
        };
        let as_day = move || {
            shown.with(|v| match Answer::of(kind, v) {
                Answer::Day(day) => day.iso(),
                _ => String::new(),
            })
        };
        // The browser sends a change at each part typed: only a whole day in range is saved
        // (a year typed digit by digit passes through 0001, 0019…), and an empty value only
        // when the field was emptied, not while a part is half typed.
        let on_change = move |ev: leptos::ev::Event| {
            let input: web_sys::HtmlInputElement = event_target(&ev);
            let value = input.value();
            if value.is_empty() && !input.validity().bad_input() {
                save_answer(String::new());
            } else if Date::parse(&value).is_some() {
                out_of_range.set(false);
                save_answer(value);
            }
        };
        // Said once the candidate leaves the field, not while typing.
        let on_blur = move |ev: leptos::ev::FocusEvent| {
            let input: web_sys::HtmlInputElement = event_target(&ev);
            let value = input.value();
            out_of_range.set(!value.is_empty() && Date::parse(&value).is_none());
        };
        let age = (path.to_string() == "etat_civil.date_naissance").then(|| age_today(shown));
        view! {
            {as_written_note(kind, shown, note_id)}
            <input id=id.clone() type="date" class="date" min="1900-01-01" max="2200-12-31"
                aria-describedby=described aria-invalid=move || out_of_range.get().then_some("true")
                on:focus=focused on:change=on_change on:blur=on_blur prop:value=as_day
                prop:readOnly=move || st.juror.get()/>
            {move || out_of_range.get().then(|| view! {
                <p id=error_id.clone() class="erreur" data-testid="date-hors-limites">{move || t(
                    "Cette date n’est pas enregistrée : l’année va de 1900 à 2200.",
                    "This date is not saved: the year goes from 1900 to 2200.",
                )}</p>
            })}
            {age}
        }
        .into_any()
    } else if kind == FieldKind::Text {
        view! {
            <textarea id=id.clone() rows="6" aria-describedby=described on:focus=focused on:input=on_input prop:value=shown prop:readOnly=move || st.juror.get()></textarea>
        }
        .into_any()
    } else {
        view! {
            <input id=id.clone() type="text" aria-describedby=described on:focus=focused on:input=on_input prop:value=shown prop:readOnly=move || st.juror.get()/>
        }
        .into_any()
    };
    let annotations = {
        let (path, id) = (comment_path.clone(), id.clone());
        move || {
            st.juror.get().then(|| {
                view! { <crate::screens::jury::FieldAnnotations path=path.clone() field_id=id.clone()/> }
            })
        }
    };
    view! {
        <div class="champ">
            <label for=id.clone()>{move || t(text.label_fr, text.label_en)}</label>
            {guidance}
            {others_here}
            <ChangedBy path=path field_id=id.clone()/>
            {control}
            {annotations}
            <FieldComments path=comment_path field_id=id/>
        </div>
    }
    .into_any()
}

/// An element id made of a compétence code (`C1.2` → `C1_2`: dots would read as CSS classes).
pub(crate) fn code_id(code: &str) -> String {
    code.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{self, Lang};

    #[test]
    fn a_stored_list_is_shown_as_typed_and_other_fields_as_stored() {
        i18n::set(Lang::Fr);
        assert_eq!(
            as_input(FieldKind::List, r#"["A1","B 2"]"#.to_string()),
            "A1, B 2"
        );
        // Not a list after all (written by an older version): shown as it is, not lost.
        assert_eq!(as_input(FieldKind::List, "A1, B2".to_string()), "A1, B2");
        assert_eq!(
            as_input(FieldKind::Text, r#"["A1"]"#.to_string()),
            r#"["A1"]"#
        );
    }

    #[test]
    fn a_code_becomes_an_html_id_of_letters_digits_and_underscores() {
        assert_eq!(code_id("C1.2-b é"), "C1_2_b__");
    }
}
