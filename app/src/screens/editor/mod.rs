//! The Livret 2 editor: every section of the official template in its order, the template's
//! guidance beside each field, fiches activité added at will. Each keystroke goes into the
//! automerge document and the dossier is saved to IndexedDB at once.

use std::cell::Cell;

use leptos::prelude::*;
use leptos::task::spawn_local;
use livret_shared::comments::{Comment, CommentId, Comments, Thread};
use livret_shared::dossier::{Annexe, FieldKind};
use livret_shared::field_path::FieldPath;
use livret_shared::membership::Role;
use livret_shared::referentiel::Referentiel;
use livret_shared::suggest::Suggester;
use livret_shared::template::{self, FieldText, Template};

use crate::i18n::{en, t};
use crate::{metrics, session};

mod annexes;
mod comments;
mod deletion;
mod export;
mod fiches;
mod history;
mod jury_summary;
mod live;
mod my_data;
mod presence;
mod sections;
mod sharing;
mod suggestions;

use annexes::*;
use comments::*;
use deletion::*;
use export::*;
use fiches::*;
use history::*;
use jury_summary::*;
use live::*;
use my_data::*;
use presence::*;
use sections::*;

pub(crate) use sections::{code_id, repeat_label};
use sharing::*;
use suggestions::*;

/// What the status line says about local saving.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum SaveState {
    Saved,
    Saving,
    Failed(session::Error),
}

/// What the status line says about the relay.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum SyncState {
    Waiting,
    Syncing,
    Synced,
    /// Synced, and others' edits were just merged into this copy (no conflict to solve:
    /// automerge merged them).
    Merged,
    Offline(session::Error),
}

/// What the editor's components share, provided by [`Editor`] as context (each reads it
/// with [`EditorState::get`]) instead of being passed from hand to hand.
#[derive(Clone, Copy)]
pub(crate) struct EditorState {
    /// Back to the dossiers (the editor closes).
    pub(crate) back: Callback<()>,
    pub(crate) save: RwSignal<SaveState>,
    pub(crate) sync: RwSignal<SyncState>,
    /// The fiches activité shown, in order (their places in the document), and the deleted
    /// ones (kept, so a delete can be undone).
    pub(crate) fiches: RwSignal<Vec<usize>>,
    pub(crate) deleted: RwSignal<Vec<usize>>,
    /// Bumped on every change to the document (typed here or merged from others): what
    /// the récapitulatif recomputes from.
    pub(crate) revision: RwSignal<u64>,
    /// The dossier's référentiel, read once when it opens (the picker and the récapitulatif
    /// would otherwise parse it again on every keystroke).
    pub(crate) referentiel: StoredValue<Option<Referentiel>>,
    /// The référentiel read for suggestions, made the first time one is asked for (not
    /// while the dossier opens).
    pub(crate) suggester: StoredValue<Option<std::sync::Arc<Suggester>>>,
    /// The other members in the dossier now, and where.
    pub(crate) present: RwSignal<Vec<session::Here>>,
    /// The annexes, read again on every change but passed on only when they changed: the
    /// table and each fiche's evidence picker are not redrawn on each keystroke elsewhere.
    pub(crate) annexes: Memo<Vec<Annexe>>,
    /// The comment threads this device reads (none for a juror), read again when others'
    /// edits arrive and after a comment here, not on each keystroke.
    pub(crate) comments: RwSignal<Comments>,
    /// Whether this device comments (the candidate and advisors).
    pub(crate) may_comment: RwSignal<bool>,
    /// Whether this device sits on the dossier's jury (reads the fields, reviews them).
    pub(crate) juror: RwSignal<bool>,
    /// The dossier's edits with their authors, the latest first: read once typing pauses
    /// ([`keep_history`]); never for a juror, who reads the dossier as handed in.
    pub(crate) history: RwSignal<Vec<session::EditRow>>,
    /// Whether the history was read once: what it shows from then on is announced, not the
    /// whole of it at the first read.
    pub(crate) history_read: RwSignal<bool>,
}

/// The open dossier's template: its sections, fields and words ([`Dossier::template`]);
/// the shipped ANNEXE 5 model while none is open.
///
/// [`Dossier::template`]: livret_shared::dossier::Dossier::template
pub(crate) fn open_template() -> &'static Template {
    session::with_open(|r| r.dossier().template()).unwrap_or_else(|_| template::annexe5())
}

impl EditorState {
    /// The open dossier's editor state, from any component under [`Editor`].
    pub(crate) fn get() -> EditorState {
        expect_context::<EditorState>()
    }
}

thread_local! {
    /// Every field on screen, so edits that arrive from others can be shown (path, kind,
    /// the value the control displays).
    static FIELDS: std::cell::RefCell<Vec<(FieldPath, RwSignal<String>)>> =
        const { std::cell::RefCell::new(Vec::new()) };
    /// Saves started and not yet committed: "enregistré" only once the last one lands.
    static PENDING_SAVES: Cell<u32> = const { Cell::new(0) };
}

const FIRST_RETRY_MS: u32 = 1_000;
const MAX_RETRY_MS: u32 = 10_000;
/// The wait between attempts is slept in steps this long, so a request for a sync at once
/// (back online, membership changed) does not wait for the whole of it.
const RETRY_STEP_MS: i32 = 200;

/// Saves what was just changed on this device (and sends it when the relay's connection is
/// up: [`session::save_typed`]).
pub(crate) fn persist(st: EditorState) {
    // The edit's time, for the history (the core has no clock).
    let _ = session::with_open(|r| {
        r.dossier()
            .commit_at((crate::clock::now_ms() / 1000) as i64)
    });
    PENDING_SAVES.with(|p| p.set(p.get() + 1));
    let keystrokes = metrics::saving();
    // The save is queued before anything that reacts to the change (the sommaire, the
    // follow-up questions, the status line): it seals and hands the keystroke to IndexedDB
    // first, and the browser commits it while those run.
    spawn_local(async move {
        let result = session::save_typed().await;
        if result.is_ok() {
            metrics::saved(keystrokes);
        }
        let left = PENDING_SAVES.with(|p| {
            p.set(p.get().saturating_sub(1));
            p.get()
        });
        match result {
            Err(e) => st.save.set(SaveState::Failed(e)),
            Ok(()) if left == 0 => st.save.set(SaveState::Saved),
            Ok(()) => {}
        }
    });
    st.revision.update(|r| *r += 1);
    st.save.set(SaveState::Saving);
    if matches!(
        st.sync.get_untracked(),
        SyncState::Synced | SyncState::Merged
    ) {
        st.sync.set(SyncState::Syncing);
    }
}

/// Runs `work` each time the document has stopped changing (typed here or merged from
/// others) for `pause_ms`, not at every keystroke: a keystroke's budget is spent saving it
/// (BENCHMARKS, typing).
pub(super) fn when_typing_pauses(st: EditorState, pause_ms: i32, work: impl Fn() + Copy + 'static) {
    Effect::new(move |_| {
        let revision = st.revision.get();
        spawn_local(async move {
            session::sleep(pause_ms).await;
            if st.revision.try_get_untracked() == Some(revision) {
                work();
            }
        });
    });
}

/// Applies `what` (add, delete, restore…) to the open dossier and saves it, or says why it
/// could not (a section's 200 further structures reached, say).
pub(super) fn change_dossier(
    st: EditorState,
    what: &dyn Fn(
        &mut livret_shared::dossier::Dossier,
    ) -> Result<(), livret_shared::dossier::DossierError>,
) -> Result<(), session::Error> {
    session::with_open(|r| what(r.dossier()))??;
    persist(st);
    Ok(())
}

/// Writes a field of the open dossier and saves it, or says why it could not.
pub(crate) fn write_field(st: EditorState, path: &FieldPath, value: &str) {
    match session::with_open(|r| r.dossier().set(path, value)) {
        Ok(Ok(())) => persist(st),
        Ok(Err(e)) => st.save.set(SaveState::Failed(e.into())),
        Err(e) => st.save.set(SaveState::Failed(e)),
    }
}

#[component]
pub fn Editor(id: String, back: Callback<()>) -> impl IntoView {
    let ready = RwSignal::new(None::<Result<(), String>>);
    FIELDS.with(|f| f.borrow_mut().clear());
    let revision = RwSignal::new(0);
    let st = EditorState {
        back,
        save: RwSignal::new(SaveState::Saved),
        sync: RwSignal::new(SyncState::Waiting),
        fiches: RwSignal::new(Vec::new()),
        deleted: RwSignal::new(Vec::new()),
        revision,
        referentiel: StoredValue::new(None),
        suggester: StoredValue::new(None),
        present: RwSignal::new(Vec::new()),
        annexes: Memo::new(move |_| {
            revision.get();
            session::with_open(|r| r.dossier().annexes()).unwrap_or_default()
        }),
        comments: RwSignal::new(Comments::default()),
        may_comment: RwSignal::new(false),
        juror: RwSignal::new(false),
        history: RwSignal::new(Vec::new()),
        history_read: RwSignal::new(false),
    };
    provide_context(st);
    let title = RwSignal::new(String::new());
    // The browser knows first when the network goes or comes back: the kept connection is
    // dropped at once (rather than after a timeout) and tried again as soon as it returns.
    let offline = window_event_listener(leptos::ev::offline, |_| session::close_live());
    let online = window_event_listener(leptos::ev::online, |_| session::sync_now());
    on_cleanup(move || {
        offline.remove();
        online.remove();
        session::announce_leaving();
        session::close_live();
    });
    {
        let id = id.clone();
        spawn_local(async move {
            let opened = session::open_dossier(&id).await;
            if opened.is_ok() {
                let (name, referentiel) = session::with_open(|r| {
                    let d = r.dossier();
                    (
                        d.get("projet_vae.certification").unwrap_or_default(),
                        d.referentiel(),
                    )
                })
                .unwrap_or_default();
                st.referentiel.set_value(referentiel);
                st.juror
                    .set(session::with_open(|r| r.is_juror()).unwrap_or(false));
                if st.juror.get_untracked() {
                    keep_jury_keys(st);
                }
                refresh_fiches(st);
                refresh_comments(st);
                title.set(name);
                keep_live(st);
                keep_presence(st);
                if !st.juror.get_untracked() {
                    keep_history(st);
                }
            }
            if opened.is_err() && session::end_pending() && !session::still_stored(&id).await {
                // A copy this device was removed from, wiped as it opened: the dossiers
                // say so.
                back.run(());
                return;
            }
            let ok = opened.is_ok();
            ready.set(Some(opened.map_err(|e| e.to_string())));
            if ok {
                // After the fields are on the page: the next task runs once it has rendered.
                session::sleep(0).await;
                metrics::mark("livret-dossier-editable");
            }
        });
    }
    view! {
        <nav class="retour" aria-label=move || t("Navigation", "Navigation")>
            <button type="button" id="mes-dossiers" on:click=move |_| back.run(())>{move || t("← Mes dossiers", "← My dossiers")}</button>
        </nav>
        <p class="etat" role="status" aria-live="polite">
            <span data-testid="etat-sauvegarde">{move || match st.save.get() {
                SaveState::Saved => t("Enregistré sur cet appareil", "Saved on this device").to_string(),
                SaveState::Saving => t("Enregistrement…", "Saving…").to_string(),
                SaveState::Failed(e) => if en() { format!("Could not save: {e}") } else { format!("Échec de l'enregistrement : {e}") },
            }}</span>
            " · "
            <span data-testid="etat-synchro">{move || match st.sync.get() {
                SyncState::Waiting => t("Pas encore synchronisé", "Not synced yet").to_string(),
                SyncState::Syncing => t("Synchronisation…", "Syncing…").to_string(),
                SyncState::Synced => t("Synchronisé avec le serveur", "Synced with the server").to_string(),
                SyncState::Merged => t(
                    "Synchronisé avec le serveur — modifications reçues et fusionnées",
                    "Synced with the server — changes received and merged",
                ).to_string(),
                SyncState::Offline(e) => if en() {
                    format!("Offline ({e}): changes stay on this device")
                } else {
                    format!("Hors ligne ({e}) : les modifications restent sur cet appareil")
                },
            }}</span>
        </p>
        {move || match ready.get() {
            None => view! { <p aria-busy="true">{move || t("Ouverture du dossier…", "Opening the dossier…")}</p> }.into_any(),
            Some(Err(e)) => view! { <p class="erreur" role="alert">{e}</p> }.into_any(),
            Some(Ok(())) => view! {
                <article class="livret" data-dossier=id.clone()>
                    <h2>{move || format!("{} — {}", t(open_template().document_fr, open_template().document_en), title.get())}</h2>
                    <p class="discret" data-testid="modele">{move || {
                        let model = open_template();
                        if en() {
                            format!("Template: {} (version {})", model.title_en, model.version)
                        } else {
                            format!("Modèle : {} (version {})", model.title_fr, model.version)
                        }
                    }}</p>
                    <Presents/>
                    <DecisionJury/>
                    {move || st.juror.get().then(|| view! { <crate::screens::jury::Examen/> })}
                    <Sommaire/>
                    <Partage/>
                    <ExportPdf/>
                    <ExportFranceVae/>
                    <MyData/>
                    {open_template().sections.iter().map(|section| view! {
                        <Section section=section/>
                    }).collect_view()}
                </article>
            }
            .into_any(),
        }}
    }
}
