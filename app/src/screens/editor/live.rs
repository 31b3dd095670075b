//! The editor's connection to the others: the live loop (sync, retry, others' edits shown as
//! they come), the jury's keys asked, presence announced and repeated.

use super::*;

/// Brings every field on screen (and the fiche count) up to date with the document after
/// others' edits were merged into it. A field whose text did not change is left alone, so
/// the caret of someone typing stays where it is.
pub(super) fn show_others_edits(st: EditorState) {
    // Two devices may have numbered a file alike while offline: settled here, the same way
    // on every device that merged it (nothing to do for a juror, who cannot write).
    let renumbered = session::with_open(|r| {
        r.may_write_dossier() && r.dossier().renumber_duplicate_annexes().unwrap_or(false)
    });
    if renumbered == Ok(true) {
        persist(st);
    }
    st.revision.update(|r| *r += 1);
    refresh_fiches(st);
    refresh_comments(st);
    let fields = FIELDS.with(|f| f.borrow().clone());
    for (path, shown) in fields {
        let stored = session::with_open(|r| r.dossier().get_field(&path)).unwrap_or_default();
        let text = as_input(path.kind(), stored);
        // `try_`: the editor may have closed while the sync ran.
        if shown.try_get_untracked().is_some_and(|t| t != text) {
            shown.set(text);
        }
    }
}

/// Reads the comment threads again (after others' edits or a comment here); passed on only
/// when they changed.
pub(super) fn refresh_comments(st: EditorState) {
    let (threads, may) = (session::comments(), session::may_comment());
    if st
        .comments
        .try_get_untracked()
        .is_some_and(|c| c != threads)
    {
        st.comments.set(threads);
    }
    if st.may_comment.try_get_untracked().is_some_and(|m| m != may) {
        st.may_comment.set(may);
    }
}

/// Shows the fiches in the document's order, when it changed (added, moved, deleted here or
/// on another device).
pub(super) fn refresh_fiches(st: EditorState) {
    let Ok((order, deleted)) =
        session::with_open(|r| (r.dossier().fiche_order(), r.dossier().deleted_fiches()))
    else {
        return;
    };
    if st.fiches.try_get_untracked().is_some_and(|o| o != order) {
        st.fiches.set(order);
    }
    if st.deleted.try_get_untracked().is_some_and(|d| d != deleted) {
        st.deleted.set(deleted);
    }
}

/// Keeps the open dossier live as long as the editor is on screen: a full sync, then the
/// kept connection (others' edits shown as they come, ours sent as typed); when it drops,
/// the status says offline and it starts again after a wait that doubles up to a cap, drawn
/// so that devices cut off together do not come back together (`shared::reconnect`; at once
/// when the browser says it is back online). The edits stay saved on the device throughout.
pub(super) fn keep_live(st: EditorState) {
    spawn_local(async move {
        let mut retry = livret_shared::reconnect::Reconnect::new(FIRST_RETRY_MS, MAX_RETRY_MS);
        // Ends with the editor: its signals are gone then.
        while st.sync.try_get_untracked().is_some() {
            st.sync.set(SyncState::Syncing);
            match session::go_live().await {
                Ok(changed) => {
                    retry.connected();
                    if changed {
                        show_others_edits(st);
                    }
                    st.sync.set(if changed {
                        SyncState::Merged
                    } else {
                        SyncState::Synced
                    });
                    // Connected again: the others learn where this device is.
                    session::announce_again();
                    loop {
                        match session::next_live_event().await {
                            Ok(session::LiveEvent::Merged) => {
                                show_others_edits(st);
                                st.sync.set(SyncState::Merged);
                            }
                            Ok(session::LiveEvent::Presence) => st.present.set(session::present()),
                            Ok(session::LiveEvent::Ended) => {
                                // Deleted, or this device removed: wiped here; back to the
                                // dossiers, which say so.
                                st.back.run(());
                                return;
                            }
                            Ok(session::LiveEvent::AllSent) => {
                                if st.sync.try_get_untracked() == Some(SyncState::Syncing) {
                                    st.sync.set(SyncState::Synced);
                                }
                            }
                            Ok(session::LiveEvent::Quiet) => {}
                            Err(e) => {
                                if st.sync.try_get_untracked().is_some() {
                                    st.sync.set(SyncState::Offline(e));
                                }
                                break;
                            }
                        }
                    }
                }
                Err(_) if session::end_pending() => {
                    // Deleted, or this device removed, while away: the sync wiped it.
                    st.back.run(());
                    return;
                }
                Err(e) => {
                    if st.sync.try_get_untracked().is_some() {
                        st.sync.set(SyncState::Offline(e));
                    }
                }
            }
            if session::sync_wanted_now() {
                continue;
            }
            let delay = retry.wait_ms(js_sys::Math::random()) as i32;
            let mut waited = 0;
            while waited < delay && st.sync.try_get_untracked().is_some() {
                session::sleep(RETRY_STEP_MS).await;
                waited += RETRY_STEP_MS;
                if session::sync_wanted_now() {
                    break;
                }
            }
        }
    });
}

/// While a juror's editor is open: asks the relay for jury key grants now and then (often
/// while the key is awaited, rarely once held: a juror who joins later gets it from here).
pub(super) fn keep_jury_keys(st: EditorState) {
    const WAITING_MS: i32 = 2_000;
    const HOLDING_MS: i32 = 30_000;
    spawn_local(async move {
        let mut waited = 0;
        while st.sync.try_get_untracked().is_some() {
            session::sleep(RETRY_STEP_MS).await;
            waited += RETRY_STEP_MS;
            let every = if session::waiting_for_jury_key() {
                WAITING_MS
            } else {
                HOLDING_MS
            };
            if waited >= every {
                waited = 0;
                session::ask_jury_keys_live();
            }
        }
    });
}

/// While the editor is open: says again where this device is (the others forget a silent
/// member) and forgets the members who went silent.
pub(super) fn keep_presence(st: EditorState) {
    spawn_local(async move {
        while st.present.try_get_untracked().is_some() {
            session::sleep(PRESENCE_REPEAT_MS).await;
            if st.present.try_get_untracked().is_none() {
                break;
            }
            session::announce_again();
            let now = session::present();
            if st.present.get_untracked() != now {
                st.present.set(now);
            }
        }
    });
}

/// How often the sharing panel, while open, asks the relay for answers to invitations.
pub(super) const REQUESTS_POLL_MS: i32 = 5_000;

/// How often presence is repeated: well within the time the others keep it
/// (`PRESENCE_TTL_MS`, 30 s).
pub(super) const PRESENCE_REPEAT_MS: i32 = 10_000;

/// Says where this device is now, at most once a second while typing (on focus at once).
pub(super) fn announce_here(path: &str, ev: &leptos::ev::Event, at_once: bool) {
    thread_local! {
        static LAST: Cell<f64> = const { Cell::new(0.0) };
    }
    let now = js_sys::Date::now();
    if !at_once && now - LAST.with(Cell::get) < 1_000.0 {
        return;
    }
    LAST.with(|l| l.set(now));
    let caret = ev.target().and_then(|t| {
        use wasm_bindgen::JsCast;
        if let Some(area) = t.dyn_ref::<web_sys::HtmlTextAreaElement>() {
            area.selection_start().ok().flatten()
        } else {
            t.dyn_ref::<web_sys::HtmlInputElement>()
                .and_then(|i| i.selection_start().ok().flatten())
        }
    });
    session::announce(path, caret);
}
