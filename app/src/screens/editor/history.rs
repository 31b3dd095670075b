//! Others' changes and undo, as a document editor shows them: a field or section whose
//! latest change is someone else's says by whom and when; each section's and fiche's history
//! lists its edits (who, when, which questions, what they were before and after), and an
//! edit is undone — its questions put back as they were before it, saying first what later
//! changes that would take away. An undo is itself an edit, synced, listed and undone alike.

use super::*;
use livret_shared::field_path::Place;
use livret_shared::history::{Author, Undo};
use session::EditRow;

/// How long typing pauses before the history is read again.
const PAUSE_MS: i32 = 700;

/// Reads the dossier's history once the editor is drawn, then again each time typing pauses
/// or others' edits arrive: one read for every section, and only what is new is decoded.
pub(super) fn keep_history(st: EditorState) {
    when_typing_pauses(st, PAUSE_MS, move || {
        let now = session::edits();
        if st.history.try_get_untracked().is_some_and(|old| old != now) {
            st.history.set(now);
        }
        if st.history_read.try_get_untracked() == Some(false) {
            // Once drawn: the notices the first read showed are not read out.
            spawn_local(async move {
                session::sleep(0).await;
                st.history_read.set(true);
            });
        }
    });
}

/// What a place is called in test ids and element ids: `motivation`, `fiche-2`.
fn place_key(place: Place) -> String {
    match place {
        Place::Section(key) => key.to_string(),
        Place::Fiche(at) => format!("fiche-{at}"),
        Place::Annexe(at) => format!("annexe-{at}"),
        Place::Repeat(key, id) => format!("{key}-{}", livret_shared::field_path::repeat_key(id)),
    }
}

/// Who made an edit, in the reader's words (in a sentence: « vous », « le candidat »).
fn who(author: &Author) -> String {
    if author.mine {
        return t("vous", "you").to_string();
    }
    if let Some(name) = &author.name {
        return name.clone();
    }
    if author.kit {
        return t(
            "le kit de secours du candidat",
            "the candidate’s recovery kit",
        )
        .to_string();
    }
    match author.role {
        Some(Role::Owner) => t("le candidat", "the candidate"),
        Some(Role::Advisor) => t("l’accompagnateur", "the advisor"),
        Some(Role::Juror) => t("un juré", "a juror"),
        None => t("un ancien membre", "a former member"),
    }
    .to_string()
}

/// Who made an edit, and a migration said as such (the program's doing, on that device).
fn who_row(row: &EditRow) -> String {
    let who = who(&row.author);
    if row.edit.migration {
        format!(
            "{who} {}",
            t(
                "(mise à jour du format par Livret)",
                "(format update by Livret)"
            )
        )
    } else {
        who
    }
}

/// « de … » in French: « du candidat », « d’un juré », « de Camille ».
fn of_who(author: &Author) -> String {
    let who = who(author);
    if en() {
        return format!("by {who}");
    }
    if let Some(rest) = who.strip_prefix("le ") {
        format!("du {rest}")
    } else if who.starts_with("l’") || who.starts_with("un ") {
        format!("d’{}", who.trim_start_matches("l’"))
    } else {
        format!("de {who}")
    }
}

/// The same, starting a line.
fn who_first(author: &Author) -> String {
    let who = who(author);
    let mut chars = who.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// When an edit was made (its last change), as the browser's locale writes it; changes made
/// before times were recorded have none.
fn when(row: &EditRow) -> Option<String> {
    (row.edit.to_s > 0).then(|| {
        let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(
            row.edit.to_s as f64 * 1000.0,
        ));
        let options = js_sys::Object::new();
        for (key, value) in [("dateStyle", "medium"), ("timeStyle", "short")] {
            let _ = js_sys::Reflect::set(&options, &key.into(), &value.into());
        }
        date.to_locale_string(if en() { "en-GB" } else { "fr-FR" }, &options)
            .as_string()
            .unwrap_or_default()
    })
}

/// A field's label in the reader's language.
fn label(path: &FieldPath) -> &'static str {
    let section = match path.place() {
        Place::Section(key) | Place::Repeat(key, _) => key,
        Place::Fiche(_) => "fiches",
        Place::Annexe(_) => "annexes",
    };
    open_template()
        .field(section, path.field())
        .map_or("", |f| t(f.label_fr, f.label_en))
}

fn labels(fields: &[FieldPath]) -> String {
    fields.iter().map(label).collect::<Vec<_>>().join(", ")
}

/// A field's stored value as a person reads it: a choice's label, a day, a list.
fn readable(path: &FieldPath, stored: String) -> String {
    let text = match path.kind() {
        FieldKind::Choice(options) => template::choice_of(options, &stored)
            .map_or(stored, |c| t(c.label_fr, c.label_en).to_string()),
        FieldKind::Date => {
            livret_shared::date::Date::parse(&stored).map_or(stored, |d| d.french_numeric())
        }
        FieldKind::Tick if stored.is_empty() => String::new(),
        FieldKind::Tick => t("coché", "ticked").to_string(),
        kind => as_input(kind, stored),
    };
    if text.trim().is_empty() {
        t("(vide)", "(empty)").to_string()
    } else {
        text
    }
}

/// The fields of `place` an edit touched.
fn fields_in(row: &EditRow, place: Place) -> Vec<FieldPath> {
    row.edit
        .fields
        .iter()
        .filter(|f| f.place() == place)
        .copied()
        .collect()
}

/// The latest edit of a place, when someone else made it.
fn latest_by_others(st: EditorState, place: Place) -> Option<EditRow> {
    st.history.with(|all| {
        all.iter()
            .find(|r| r.edit.touches(place))
            .filter(|r| !r.author.mine)
            .cloned()
    })
}

/// Under a field whose latest change is someone else's: by whom and when.
#[component]
pub(super) fn ChangedBy(path: FieldPath, field_id: String) -> impl IntoView {
    let st = EditorState::get();
    // This field's latest change, when someone else's (not its section's latest).
    let latest = Memo::new(move |_| {
        st.history.with(|all| {
            all.iter()
                .find(|r| r.edit.fields.contains(&path))
                .filter(|r| !r.author.mine)
                .cloned()
        })
    });
    move || {
        latest.get().map(|row| {
            let text = match (en(), when(&row)) {
                (true, Some(w)) => format!("Changed by {} on {w}", who_row(&row)),
                (true, None) => format!("Changed by {}", who_row(&row)),
                (false, Some(w)) => format!("Modifié par {} le {w}", who_row(&row)),
                (false, None) => format!("Modifié par {}", who_row(&row)),
            };
            view! { <p class="modifie-ici" data-testid=format!("modifie-{field_id}")>{text}</p> }
        })
    }
}

/// A section's or fiche's history, and the notice of someone else's latest change to it.
#[component]
pub(super) fn EditHistory(place: Place) -> impl IntoView {
    let st = EditorState::get();
    if st.juror.get_untracked() {
        // A juror reads the dossier as handed in, not its drafts.
        return ().into_any();
    }
    let key = place_key(place);
    let rows = Memo::new(move |_| {
        st.history.with(|all| {
            all.iter()
                .filter(|r| r.edit.touches(place))
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    let latest = Memo::new(move |_| latest_by_others(st, place));
    let opened = RwSignal::new(false);
    let message = RwSignal::new(None::<String>);
    let summary_id = format!("historique-{key}-titre");
    let notice = {
        let (key, summary_id) = (key.clone(), summary_id.clone());
        move || {
            latest.get().map(|row| {
                let fields = labels(&fields_in(&row, place));
                let text = match (en(), when(&row)) {
                    (true, Some(w)) => format!("Changed by {} on {w}: {fields}.", who_row(&row)),
                    (true, None) => format!("Changed by {}: {fields}.", who_row(&row)),
                    (false, Some(w)) => {
                        format!("Modifié par {} le {w} : {fields}.", who_row(&row))
                    }
                    (false, None) => format!("Modifié par {} : {fields}.", who_row(&row)),
                };
                let summary_id = summary_id.clone();
                view! {
                    <p class="modifie-par" data-testid=format!("modifie-par-{key}")>
                        {text}
                        " "
                        <button type="button" class="lien" on:click=move |_| {
                            opened.set(true);
                            focus_soon(summary_id.clone(), None);
                        }>{move || t("Voir l’historique", "See the history")}</button>
                    </p>
                }
            })
        }
    };
    view! {
        <div class="historique-zone">
            <div aria-live=move || if st.history_read.get() { "polite" } else { "off" }>{notice}</div>
            <details class="historique" data-testid=format!("historique-{key}")
                prop:open=move || opened.get()
                on:toggle=move |ev| {
                    let open = event_target::<web_sys::HtmlDetailsElement>(&ev).open();
                    if open != opened.get_untracked() {
                        opened.set(open);
                    }
                }>
                <summary id=summary_id>{move || {
                    let n = rows.with(Vec::len);
                    if en() { format!("History of changes ({n})") } else { format!("Historique des modifications ({n})") }
                }}</summary>
                {move || opened.get().then(|| view! {
                    <ol class="modifications">
                        <For each=move || rows.get() key=|row| (row.edit.after.clone(), row.author.clone()) let:row>
                            <EditEntry row=row place=place message=message/>
                        </For>
                    </ol>
                })}
                <p role="status" aria-live="polite">{move || message.get()}</p>
            </details>
        </div>
    }
    .into_any()
}

/// One edit in a history: who, when, which questions; what they were before and after; undo.
#[component]
fn EditEntry(row: EditRow, place: Place, message: RwSignal<Option<String>>) -> impl IntoView {
    let st = EditorState::get();
    let fields = fields_in(&row, place);
    let title_id = format!(
        "modif-{}-{}",
        place_key(place),
        row.edit
            .after
            .first()
            .map(|h| h.to_string()[..12].to_string())
            .unwrap_or_default()
    );
    let migration = if row.edit.migration {
        format!(
            " {}",
            t(
                "(mise à jour du format par Livret)",
                "(format update by Livret)"
            )
        )
    } else {
        String::new()
    };
    let title = format!(
        "{}{migration} — {}{}",
        who_first(&row.author),
        when(&row).map(|w| format!("{w} — ")).unwrap_or_default(),
        labels(&fields)
    );
    let before_after = {
        let (fields, row) = (fields.clone(), row.clone());
        move || {
            fields
                .iter()
                .map(|f| {
                    let before = readable(f, session::field_at(f, &row.edit.before));
                    let after = readable(f, session::field_at(f, &row.edit.after));
                    view! {
                        <p class="champ-modifie"><strong>{label(f)}</strong></p>
                        <div class="avant"><span>{move || t("Avant", "Before")}</span><p>{before}</p></div>
                        <div class="apres"><span>{move || t("Après", "After")}</span><p>{after}</p></div>
                    }
                })
                .collect_view()
        }
    };
    let seen = RwSignal::new(false);
    // Fields others changed since the edit: named, and undone only when confirmed.
    let to_confirm = RwSignal::new(None::<Vec<FieldPath>>);
    let undo_id = format!("annuler-{title_id}");
    let undo = {
        let (row, undo_id) = (row.clone(), undo_id.clone());
        move |anyway: bool| {
            to_confirm.set(None);
            let done = match session::undo(place, &row.edit.after, anyway) {
                Ok(Undo::ChangedSince(later)) => {
                    to_confirm.set(Some(later));
                    return;
                }
                Ok(Undo::Done(changed)) => {
                    persist(st);
                    show_others_edits(st);
                    let fields = labels(&changed);
                    let at = when(&row);
                    match (en(), row.author.mine) {
                        (true, _) => {
                            let at = at.map(|w| format!(" on {w}")).unwrap_or_default();
                            format!("Change {}{at} undone: {fields} as before it. The undo is itself a change, listed here and undone the same way.", of_who(&row.author))
                        }
                        (false, true) => {
                            let at = at.map(|w| format!(" du {w}")).unwrap_or_default();
                            format!("Votre modification{at} est annulée : {fields} comme avant elle. Cette annulation est elle-même une modification, listée ici et annulable de la même façon.")
                        }
                        (false, false) => {
                            let at = at.map(|w| format!(" du {w}")).unwrap_or_default();
                            format!("Modification {}{at} annulée : {fields} comme avant elle. Cette annulation est elle-même une modification, listée ici et annulable de la même façon.", of_who(&row.author))
                        }
                    }
                }
                Ok(Undo::NothingToChange) => t(
                    "Rien à changer : ces questions sont déjà telles qu’elles étaient avant cette modification.",
                    "Nothing to change: these questions are already as they were before this change.",
                )
                .to_string(),
                Ok(Undo::NotHere | Undo::NoSuchEdit) => t(
                    "L’historique vient de changer : la modification est à retrouver dans la liste à jour.",
                    "The history has just changed: find the change again in the updated list.",
                )
                .to_string(),
                Err(e) => e.to_string(),
            };
            message.set(Some(done));
            focus_soon(undo_id.clone(), None);
        }
    };
    let undo_now = undo.clone();
    let may_write = session::with_open(|r| r.may_write_dossier()).unwrap_or(false);
    view! {
        <li>
            <span class="qui" id=title_id.clone()>{title}</span>
            <details class="avant-apres" on:toggle=move |ev| {
                if event_target::<web_sys::HtmlDetailsElement>(&ev).open() {
                    seen.set(true);
                }
            }>
                <summary aria-describedby=title_id.clone()>{move || t("Voir ce qui a changé", "See what changed")}</summary>
                {move || seen.get().then(before_after.clone())}
            </details>
            {may_write.then(|| view! {
                <button type="button" class="secondaire" id=undo_id.clone() aria-describedby=title_id.clone()
                    on:click=move |_| undo_now(false)>
                    {move || t("Annuler cette modification", "Undo this change")}
                </button>
            })}
            {move || to_confirm.get().map(|later| {
                let undo = undo.clone();
                let text = if en() {
                    format!("Changed otherwise since: {}. Undoing puts them back as they were before this change, and takes those other changes away too.", labels(&later))
                } else {
                    format!("Modifié autrement depuis : {}. Annuler remet ces questions comme avant cette modification, et efface aussi ces autres changements.", labels(&later))
                };
                view! {
                    <div class="confirmer" role="alert">
                        <p>{text}</p>
                        <button type="button" class="secondaire" on:click=move |_| undo(true)>
                            {move || t("Annuler quand même", "Undo anyway")}
                        </button>
                        " "
                        <button type="button" class="lien" on:click={
                            let undo_id = undo_id.clone();
                            move |_| {
                                to_confirm.set(None);
                                focus_soon(undo_id.clone(), None);
                            }
                        }>
                            {move || t("Garder tel quel", "Keep as it is")}
                        </button>
                    </div>
                }
            })}
        </li>
    }
}
