//! Comment threads beside each field (the candidate and advisors).

use super::*;

/// The comments on one field, for the candidate and advisors: a button that says how many
/// threads are open, and once unfolded the threads (answers, resolve / reopen) and a form
/// for a new one. Nothing for a juror.
#[component]
pub(super) fn FieldComments(path: String, field_id: String) -> impl IntoView {
    let st = EditorState::get();
    let open = RwSignal::new(false);
    let draft = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let threads = {
        let path = path.clone();
        Memo::new(move |_| {
            st.comments
                .get()
                .on_field(&path)
                .cloned()
                .collect::<Vec<Thread>>()
        })
    };
    let toggle_id = format!("commenter-{field_id}");
    let new_id = format!("nouveau-{field_id}");
    let panel_id = format!("commentaires-{field_id}");
    let label = move || {
        let all = threads.get();
        let unresolved = all.iter().filter(|t| !t.resolved()).count();
        match (all.len(), unresolved) {
            (0, _) => t("Commenter", "Comment").to_string(),
            (n, 0) if en() => format!("Comments ({n} resolved)"),
            (n, 0) => format!("Commentaires ({n} résolu{})", if n > 1 { "s" } else { "" }),
            (_, open) if en() => format!("Comments ({open})"),
            (_, open) => format!("Commentaires ({open})"),
        }
    };
    let publish = {
        let path = path.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            match session::add_comment(&path, None, &draft.get_untracked()) {
                Ok(()) => {
                    draft.set(String::new());
                    error.set(None);
                    commented(st);
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        }
    };
    // Answers being typed, by thread: kept here, outside the threads, which are drawn again
    // when they change (a comment arriving must not wipe what someone is typing). One signal
    // made with the component: signals made while drawing the list would be dropped with it.
    let answers = RwSignal::new(std::collections::HashMap::<CommentId, String>::new());
    let panel = {
        let (panel_id, new_id) = (panel_id.clone(), new_id.clone());
        move || {
            // Only `open` is read here: the list below is drawn again on its own when the
            // threads change, so the new comment's form is left as it is.
            open.get().then(|| {
                view! {
                    <div class="commentaires" id=panel_id.clone() data-testid=panel_id.clone()>
                        {move || threads.with(Vec::is_empty).then(|| view! {
                            <p class="aide">{move || t(
                                "Aucun commentaire sur ce champ. Les jurés ne voient pas les commentaires.",
                                "No comment on this field. Jurors do not see comments.",
                            )}</p>
                        })}
                        <ul class="fils">
                            {move || threads.get().into_iter().map(|thread| view! {
                                <ThreadView answers=answers thread=thread/>
                            }).collect_view()}
                        </ul>
                        <form class="nouveau-commentaire" on:submit=publish.clone()>
                            <label for=new_id.clone()>{move || t("Nouveau commentaire (candidat et accompagnateurs seulement)", "New comment (candidate and advisors only)")}</label>
                            <textarea id=new_id.clone() rows="2" prop:value=draft
                                on:input=move |ev| draft.set(event_target_value(&ev))></textarea>
                            <button type="submit" id=format!("publier-{}", new_id.trim_start_matches("nouveau-"))>{move || t("Publier", "Post")}</button>
                        </form>
                        {move || error.get().map(|e| view! { <p class="erreur" role="alert">{e}</p> })}
                    </div>
                }
            })
        }
    };
    view! {
        {move || st.may_comment.get().then(|| view! {
            <button type="button" class="commenter" id=toggle_id.clone()
                aria-expanded=move || open.get().to_string() aria-controls=panel_id.clone()
                on:click=move |_| open.update(|o| *o = !*o)>
                {label}
            </button>
            {panel.clone()}
        })}
    }
}

/// After a comment or a resolution here: shown at once, saved and sent like an edit.
pub(super) fn commented(st: EditorState) {
    refresh_comments(st);
    persist(st);
}

/// One thread: its comments in order, a form to answer, and resolve / reopen.
#[component]
pub(super) fn ThreadView(
    thread: Thread,
    answers: RwSignal<std::collections::HashMap<CommentId, String>>,
) -> impl IntoView {
    let st = EditorState::get();
    let id: CommentId = thread.first.id;
    let key = hex::encode(&id[..6]);
    let error = RwSignal::new(None::<String>);
    let resolved = thread.resolved();
    let answer_id = format!("reponse-{key}");
    let reply = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = answers.with_untracked(|a| a.get(&id).cloned().unwrap_or_default());
        match session::add_comment("", Some(id), &text) {
            Ok(()) => {
                answers.update(|a| {
                    a.remove(&id);
                });
                commented(st);
            }
            Err(e) => error.set(Some(e.to_string())),
        }
    };
    let resolve = move |_| match session::resolve_thread(id, !resolved) {
        Ok(()) => commented(st),
        Err(e) => error.set(Some(e.to_string())),
    };
    let state = thread.state.clone().map(|s| {
        if !s.resolved {
            return if en() {
                format!("Reopened by {}", s.by)
            } else {
                format!("Rouvert par {}", s.by)
            };
        }
        if en() {
            format!("Resolved by {}", s.by)
        } else {
            format!("Résolu par {}", s.by)
        }
    });
    let comments: Vec<Comment> = std::iter::once(thread.first)
        .chain(thread.replies)
        .collect();
    view! {
        <li class="fil" class:resolu=resolved data-thread=hex::encode(id)>
            {state.map(|s| view! { <p class="etat-fil">{s}</p> })}
            {comments.into_iter().map(|c| view! {
                <p class="commentaire"><strong>{c.author}</strong>" · "{when(c.at_ms)}<br/>{c.text}</p>
            }).collect_view()}
            <form class="repondre" on:submit=reply>
                <label for=answer_id.clone()>{move || t("Répondre", "Answer")}</label>
                <textarea id=answer_id class="reponse" rows="2"
                    prop:value=move || answers.with(|a| a.get(&id).cloned().unwrap_or_default())
                    on:input=move |ev| {
                        // Untracked: the box already shows it.
                        let typed = event_target_value(&ev);
                        answers.update_untracked(|a| {
                            a.insert(id, typed);
                        });
                    }></textarea>
                <button type="submit" class="repondre">{move || t("Répondre", "Answer")}</button>
            </form>
            <button type="button" class="resoudre" on:click=resolve>{move || if resolved {
                t("Rouvrir", "Reopen")
            } else {
                t("Marquer comme résolu", "Mark as resolved")
            }}</button>
            {move || error.get().map(|e| view! { <p class="erreur" role="alert">{e}</p> })}
        </li>
    }
}

/// A comment's date as the browser's locale writes it.
pub(super) fn when(at_ms: u64) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(at_ms as f64));
    let locale = if en() { "en-GB" } else { "fr-FR" };
    date.to_locale_string(locale, &wasm_bindgen::JsValue::UNDEFINED)
        .as_string()
        .unwrap_or_default()
}
