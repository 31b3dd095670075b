//! A section's or fiche's history, as a document editor shows versions: the latest edit made
//! by someone else flagged above it (who, when, which questions), every edit listed, what it
//! changed shown before and after, and the section put back as it was before any of them —
//! an undo that is itself an edit, synced, listed and undone like the others.

use super::*;
use livret_shared::field_path::Place;
use livret_shared::history::Author;
use session::EditRow;

/// How long typing pauses before the history is read again.
const PAUSE_MS: i32 = 700;

/// What a place is called in test ids and element ids: `motivation`, `fiche-2`.
fn place_key(place: Place) -> String {
    match place {
        Place::Section(key) => key.to_string(),
        Place::Fiche(at) => format!("fiche-{at}"),
        Place::Annexe(at) => format!("annexe-{at}"),
    }
}

/// Who made an edit, in the reader's words.
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
        Place::Section(key) => key,
        Place::Fiche(_) => "fiches",
        Place::Annexe(_) => "annexes",
    };
    template::field(section, path.field()).map_or("", |f| t(f.label_fr, f.label_en))
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

/// The fields of `place` an edit touched, named.
fn fields_named(row: &EditRow, place: Place) -> String {
    row.edit
        .fields
        .iter()
        .filter(|f| f.place() == place)
        .map(label)
        .collect::<Vec<_>>()
        .join(", ")
}

#[component]
pub(super) fn EditHistory(place: Place) -> impl IntoView {
    let st = EditorState::get();
    let key = place_key(place);
    let rows = RwSignal::new(Vec::<EditRow>::new());
    let opened = RwSignal::new(false);
    let message = RwSignal::new(None::<String>);
    let may_write = session::with_open(|r| r.may_write_dossier()).unwrap_or(false);
    // Read after the page is drawn and once typing pauses: reading a long history the first
    // time decodes every change, which a keystroke must not wait for.
    Effect::new(move |_| {
        let revision = st.revision.get();
        spawn_local(async move {
            session::sleep(PAUSE_MS).await;
            if st.revision.try_get_untracked() == Some(revision) {
                let now = session::edits_of(place);
                if rows.try_get_untracked().is_some_and(|old| old != now) {
                    rows.set(now);
                }
            }
        });
    });
    let restore = move |row: &EditRow| {
        let author = who(&row.author);
        let at = when(row);
        match session::restore(place, &row.edit.before) {
            Ok(changed) if changed.is_empty() => message.set(Some(
                t(
                    "Rien à changer : la section est déjà telle qu’elle était avant cette modification.",
                    "Nothing to change: the section already is as it was before this change.",
                )
                .to_string(),
            )),
            Ok(_) => {
                persist(st);
                show_others_edits(st);
                message.set(Some(if en() {
                    let at = at.map(|w| format!(" on {w}")).unwrap_or_default();
                    format!("Put back as it was before the change by {author}{at}. This is itself a change: it is listed here and can be undone the same way.")
                } else {
                    let at = at.map(|w| format!(" du {w}")).unwrap_or_default();
                    format!("Remis tel que c’était avant la modification de {author}{at}. Ce retour en arrière est lui-même une modification : il apparaît ici et s’annule de la même façon.")
                }));
            }
            Err(e) => message.set(Some(e.to_string())),
        }
    };
    let notice = {
        let key = key.clone();
        move || {
            rows.with(|all| all.first().filter(|r| !r.author.mine).cloned())
                .map(|row| {
                    let text = if en() {
                        format!(
                            "Changed by {}{}: {}.",
                            who(&row.author),
                            when(&row).map(|w| format!(" on {w}")).unwrap_or_default(),
                            fields_named(&row, place)
                        )
                    } else {
                        format!(
                            "Modifié par {}{} : {}.",
                            who(&row.author),
                            when(&row).map(|w| format!(" le {w}")).unwrap_or_default(),
                            fields_named(&row, place)
                        )
                    };
                    view! {
                        <p class="modifie-par" data-testid=format!("modifie-par-{key}")>
                            {text}
                            " "
                            <button type="button" class="lien" on:click=move |_| opened.set(true)>
                                {move || t("Voir l’historique", "See the history")}
                            </button>
                        </p>
                    }
                })
        }
    };
    let entry = move |row: EditRow| {
        let changes: Vec<(String, String, String)> = row
            .edit
            .fields
            .iter()
            .filter(|f| f.place() == place)
            .map(|f| {
                (
                    label(f).to_string(),
                    readable(f, session::field_at(f, &row.edit.before)),
                    readable(f, session::field_at(f, &row.edit.after)),
                )
            })
            .collect();
        let title = format!(
            "{} — {}{}",
            who(&row.author),
            when(&row).map(|w| format!("{w} — ")).unwrap_or_default(),
            fields_named(&row, place)
        );
        let undo = row.clone();
        view! {
            <li>
                <span class="qui">{title}</span>
                <details class="avant-apres">
                    <summary>{move || t("Voir ce qui a changé", "See what changed")}</summary>
                    {changes.into_iter().map(|(name, before, after)| view! {
                        <h5>{name}</h5>
                        <div class="avant"><span>{move || t("Avant", "Before")}</span><p>{before}</p></div>
                        <div class="apres"><span>{move || t("Après", "After")}</span><p>{after}</p></div>
                    }).collect_view()}
                </details>
                {may_write.then(|| view! {
                    <button type="button" class="secondaire" on:click=move |_| restore(&undo)>
                        {move || t("Revenir à l’état d’avant cette modification", "Go back to before this change")}
                    </button>
                })}
            </li>
        }
    };
    view! {
        <div class="historique-zone">
            {notice}
            <details class="historique" data-testid=format!("historique-{key}")
                prop:open=move || opened.get()
                on:toggle=move |ev| {
                    let open = event_target::<web_sys::HtmlDetailsElement>(&ev).open();
                    if open != opened.get_untracked() {
                        opened.set(open);
                    }
                }>
                <summary>{move || {
                    let n = rows.with(Vec::len);
                    if en() { format!("History of changes ({n})") } else { format!("Historique des modifications ({n})") }
                }}</summary>
                {move || opened.get().then(|| view! {
                    <ol class="modifications">{rows.get().into_iter().map(entry).collect_view()}</ol>
                })}
                <p role="status" aria-live="polite">{move || message.get()}</p>
            </details>
        </div>
    }
}
