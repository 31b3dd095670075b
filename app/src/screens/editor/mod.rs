//! The Livret 2 editor: every section of the official template in its order, the template's
//! guidance beside each field, fiches activité added at will. Each keystroke goes into the
//! automerge document and the dossier is saved to IndexedDB at once.

use std::cell::Cell;

use leptos::prelude::*;
use leptos::task::spawn_local;
use livret_shared::comments::{Comment, CommentId, Comments, Thread};
use livret_shared::dossier::{Annexe, FICHE_FIELDS, FieldKind, SECTIONS};
use livret_shared::membership::Role;
use livret_shared::referentiel::Referentiel;
use livret_shared::template::{self, FieldText};

use crate::i18n::{en, t};
use crate::{metrics, session};

/// What the status line says about local saving.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum SaveState {
    Saved,
    Saving,
    Failed(String),
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
    Offline(String),
    /// The candidate removed this device: what it had stays, nothing more comes.
    Removed,
}

#[derive(Clone, Copy)]
pub(crate) struct Signals {
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
}

thread_local! {
    /// Every field on screen, so edits that arrive from others can be shown (path, kind,
    /// the value the control displays).
    static FIELDS: std::cell::RefCell<Vec<(String, FieldKind, RwSignal<String>)>> =
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
pub(crate) fn persist(st: Signals) {
    st.revision.update(|r| *r += 1);
    PENDING_SAVES.with(|p| p.set(p.get() + 1));
    st.save.set(SaveState::Saving);
    let keystrokes = metrics::saving();
    if matches!(
        st.sync.get_untracked(),
        SyncState::Synced | SyncState::Merged
    ) {
        st.sync.set(SyncState::Syncing);
    }
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
}

/// Brings every field on screen (and the fiche count) up to date with the document after
/// others' edits were merged into it. A field whose text did not change is left alone, so
/// the caret of someone typing stays where it is.
fn show_others_edits(st: Signals) {
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
    for (path, kind, shown) in fields {
        let stored = session::with_open(|r| r.dossier().get(&path))
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default();
        let text = as_input(kind, stored);
        // `try_`: the editor may have closed while the sync ran.
        if shown.try_get_untracked().is_some_and(|t| t != text) {
            shown.set(text);
        }
    }
}

/// Reads the comment threads again (after others' edits or a comment here); passed on only
/// when they changed.
fn refresh_comments(st: Signals) {
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
fn refresh_fiches(st: Signals) {
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
fn keep_live(st: Signals) {
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
                            Ok(session::LiveEvent::Removed) => {
                                show_others_edits(st);
                                st.present.set(Vec::new());
                                st.sync.set(SyncState::Removed);
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
                Err(_) if session::removed_from_open() => {
                    // Removed while away: the relay sent the removal before refusing.
                    show_others_edits(st);
                    st.present.set(Vec::new());
                    st.sync.set(SyncState::Removed);
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
fn keep_jury_keys(st: Signals) {
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
fn keep_presence(st: Signals) {
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
const REQUESTS_POLL_MS: i32 = 5_000;

/// How often presence is repeated: well within the time the others keep it
/// (`PRESENCE_TTL_MS`, 30 s).
const PRESENCE_REPEAT_MS: i32 = 10_000;

/// Says where this device is now, at most once a second while typing (on focus at once).
fn announce_here(path: &str, ev: &leptos::ev::Event, at_once: bool) {
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

fn kind_of(section: &str, field: &str) -> FieldKind {
    let fields = if section == "fiches" {
        FICHE_FIELDS
    } else {
        SECTIONS
            .iter()
            .find(|(s, _)| *s == section)
            .map_or(&[][..], |(_, f)| *f)
    };
    fields
        .iter()
        .find(|(f, _)| *f == field)
        .map_or(FieldKind::Scalar, |(_, k)| *k)
}

#[component]
pub fn Editor(id: String, back: Callback<()>) -> impl IntoView {
    let ready = RwSignal::new(None::<Result<(), String>>);
    FIELDS.with(|f| f.borrow_mut().clear());
    let revision = RwSignal::new(0);
    let st = Signals {
        save: RwSignal::new(SaveState::Saved),
        sync: RwSignal::new(SyncState::Waiting),
        fiches: RwSignal::new(Vec::new()),
        deleted: RwSignal::new(Vec::new()),
        revision,
        referentiel: StoredValue::new(None),
        present: RwSignal::new(Vec::new()),
        annexes: Memo::new(move |_| {
            revision.get();
            session::with_open(|r| r.dossier().annexes()).unwrap_or_default()
        }),
        comments: RwSignal::new(Comments::default()),
        may_comment: RwSignal::new(false),
        juror: RwSignal::new(false),
    };
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
            }
            let ok = opened.is_ok();
            ready.set(Some(opened));
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
                SyncState::Synced => t("Synchronisé avec le relais", "Synced with the relay").to_string(),
                SyncState::Merged => t(
                    "Synchronisé avec le relais — modifications reçues et fusionnées",
                    "Synced with the relay — changes received and merged",
                ).to_string(),
                SyncState::Offline(e) => if en() {
                    format!("Offline ({e}): changes stay on this device")
                } else {
                    format!("Hors ligne ({e}) : les modifications restent sur cet appareil")
                },
                SyncState::Removed => t(
                    "Vous n'avez plus accès à ce dossier : le candidat vous en a retiré. Ce qui était déjà sur cet appareil y reste.",
                    "You no longer have access to this dossier: the candidate removed you. What was already on this device stays.",
                ).to_string(),
            }}</span>
        </p>
        {move || match ready.get() {
            None => view! { <p aria-busy="true">{move || t("Ouverture du dossier…", "Opening the dossier…")}</p> }.into_any(),
            Some(Err(e)) => view! { <p class="erreur" role="alert">{e}</p> }.into_any(),
            Some(Ok(())) => view! {
                <article class="livret" data-dossier=id.clone()>
                    <h2>{move || format!("Livret 2 — {}", title.get())}</h2>
                    <Presents st=st/>
                    <DecisionJury st=st/>
                    {move || st.juror.get().then(|| view! { <crate::jury::Examen st=st/> })}
                    <Sommaire/>
                    <Partage st=st/>
                    <ExportPdf/>
                    <ExportJson/>
                    {template::TEMPLATE.iter().map(|section| view! {
                        <Section section=section st=st/>
                    }).collect_view()}
                </article>
            }
            .into_any(),
        }}
    }
}

/// The Livret 2 as PDF, made on this device (the relay never sees it), with its progress
/// while the annexes go in, then a download link and what could not be printed.
#[component]
fn ExportPdf() -> impl IntoView {
    let busy = RwSignal::new(None::<livret_shared::export::Progress>);
    let made = RwSignal::new(None::<Result<(String, Vec<livret_shared::export::Notice>), String>>);
    let start = move |_| {
        if busy.get_untracked().is_some() {
            return;
        }
        if let Some(Ok((old, _))) = made.get_untracked() {
            let _ = web_sys::Url::revoke_object_url(&old);
        }
        made.set(None);
        busy.set(Some(livret_shared::export::Progress::default()));
        leptos::task::spawn_local(async move {
            let result = session::export_pdf(&|p| busy.set(Some(p))).await;
            busy.set(None);
            made.set(Some(result));
        });
    };
    view! {
        <details class="export" id="export-pdf">
            <summary>{move || t("Exporter le livret (PDF)", "Export the livret (PDF)")}</summary>
            <p class="aide">{move || t(
                "Le Livret 2 dans la mise en page du modèle officiel : couverture, sommaire, vos rubriques et vos fiches, la déclaration sur l'honneur, puis les annexes (PDF reproduits, images, autres fichiers listés avec leur empreinte). Le PDF est fait sur cet appareil ; il n'est pas chiffré : gardez-le en lieu sûr.",
                "The Livret 2 in the official template's layout: cover, contents, your sections and sheets, the declaration on honour, then the annexes (PDFs reproduced, images, other files listed with their fingerprint). The PDF is made on this device and is not encrypted: keep it safe.",
            )}</p>
            <button type="button" id="exporter-pdf" on:click=start
                prop:disabled=move || busy.get().is_some()>
                {move || t("Exporter le livret", "Export the livret")}
            </button>
            {move || busy.get().map(|p| {
                // Empty until there are annexe bytes to count.
                let percent = if p.bytes_total == 0 { 0 } else { p.percent() };
                view! {
                    " "
                    <progress id="pdf-progression" max="100" value=percent
                        aria-label=move || t("Progression de l'export", "Export progress")></progress>
                    <span aria-live="polite">{format!(
                        " {} {}/{}",
                        t("annexes", "annexes"),
                        p.annexes_done,
                        p.annexes_total
                    )}</span>
                }
            })}
            {move || made.get().map(|made| match made {
                Ok((url, notices)) => view! {
                    " "
                    <a id="telecharger-pdf" href=url download="livret-2.pdf">
                        {move || t("Télécharger livret-2.pdf", "Download livret-2.pdf")}
                    </a>
                    <ul class="avertissements" data-testid="pdf-avertissements">
                        {notices.into_iter().map(|n| view! {
                            <li>{format!("{} {} : {}", t("Annexe", "Annex"), n.numero, n.message)}</li>
                        }).collect_view()}
                    </ul>
                }
                .into_any(),
                Err(e) => view! { <p class="erreur" role="alert">{e}</p> }.into_any(),
            })}
        </details>
    }
}

/// The whole dossier as JSON, made on this device and downloaded (portability, GDPR access
/// requests): the same file as `livret dossier export`.
#[component]
fn ExportJson() -> impl IntoView {
    let link = RwSignal::new(None::<Result<String, String>>);
    view! {
        <details class="export" id="export-json">
            <summary>{move || t("Exporter le dossier (JSON)", "Export the dossier (JSON)")}</summary>
            <p class="aide">{move || t(
                "Tout le dossier dans un fichier lisible par une machine : pour le reprendre ailleurs ou répondre à une demande d'accès (RGPD). Les fichiers des annexes n'y sont pas ; leur nom, leur taille et leur empreinte, si. Le fichier est fait sur cet appareil ; il n'est pas chiffré : gardez-le en lieu sûr.",
                "The whole dossier in a machine-readable file: to take it elsewhere or answer an access request (GDPR). The annexes' files are not in it; their names, sizes and fingerprints are. The file is made on this device and is not encrypted: keep it safe.",
            )}</p>
            <button type="button" id="exporter-json" on:click=move |_| {
                // The file of an earlier click is let go.
                if let Some(Ok(old)) = link.get_untracked() {
                    let _ = web_sys::Url::revoke_object_url(&old);
                }
                link.set(Some(session::export_json()));
            }>
                {move || t("Préparer le fichier", "Prepare the file")}
            </button>
            {move || link.get().map(|made| match made {
                Ok(url) => view! {
                    " "
                    <a id="telecharger-json" href=url download="dossier-livret.json">
                        {move || t("Télécharger dossier-livret.json", "Download dossier-livret.json")}
                    </a>
                }
                .into_any(),
                Err(e) => view! { <p class="erreur" role="alert">{e}</p> }.into_any(),
            })}
        </details>
    }
}

/// Who else is in the dossier now, and the name this person shows them.
#[component]
fn Presents(st: Signals) -> impl IntoView {
    let name = RwSignal::new(session::my_name());
    view! {
        <section class="presents" aria-labelledby="titre-presents">
            <h3 id="titre-presents" class="discret">{move || t("En ce moment", "Right now")}</h3>
            <p data-testid="presents" aria-live="polite">{move || {
                let here = st.present.get();
                if here.is_empty() {
                    return t("Personne d'autre n'a ce dossier ouvert.", "Nobody else has this dossier open.").to_string();
                }
                let people: Vec<String> = here
                    .iter()
                    .map(|h| format!("{} ({})", h.who, role_name(h.role).to_lowercase()))
                    .collect();
                format!("{}{}", t("Aussi dans ce dossier : ", "Also in this dossier: "), people.join(", "))
            }}</p>
            <p class="champ-court">
                <label for="mon-nom">{move || t("Votre nom, montré aux autres membres", "Your name, as the other members see it")}</label>
                " "
                <input id="mon-nom" type="text" autocomplete="name" prop:value=name
                    on:change=move |ev| {
                        let value = event_target_value(&ev);
                        name.set(value.clone());
                        session::set_my_name(&value);
                    }/>
            </p>
        </section>
    }
}

#[component]
fn Sommaire() -> impl IntoView {
    view! {
        <nav class="sommaire" aria-labelledby="titre-sommaire">
            <h3 id="titre-sommaire">{move || t("Sommaire", "Contents")}</h3>
            <ol>
                {template::TEMPLATE.iter().map(|s| view! {
                    <li><a href=format!("#section-{}", s.key)>{move || t(s.title_fr, s.title_en)}</a></li>
                }).collect_view()}
            </ol>
        </nav>
    }
}

fn role_from_choice(choice: &str) -> Role {
    if choice == "juror" {
        Role::Juror
    } else {
        Role::Advisor
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Owner => t("Candidat", "Candidate"),
        Role::Juror => t("Juré", "Juror"),
        _ => t("Accompagnateur", "Advisor"),
    }
}

/// Shares the dossier: an invitation by e-mail (the relay mails a one-time link; the person
/// answers it from their device; their request shows here with a safety code to compare
/// before giving access), or directly with a device's identity line.
#[component]
fn Partage(st: Signals) -> impl IntoView {
    // Bumped when this device changes who belongs: the members list is read again.
    let members_rev = RwSignal::new(0u32);
    let identity = RwSignal::new(String::new());
    let role = RwSignal::new("advisor".to_string());
    let message = RwSignal::new(None::<Result<String, String>>);
    let give_access = move |line: String, role: Role| async move {
        let shared = session::share(&line, role).await;
        if shared.is_ok() {
            // The new membership entry goes to the relay with a full sync.
            session::sync_now();
            members_rev.update(|r| *r += 1);
        }
        shared
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (line, role) = (identity.get(), role_from_choice(&role.get()));
        spawn_local(async move {
            match give_access(line, role).await {
                Ok(()) => {
                    identity.set(String::new());
                    message.set(Some(Ok(t("Dossier partagé.", "Dossier shared.").into())));
                }
                Err(e) => message.set(Some(Err(e))),
            }
        });
    };
    let email = RwSignal::new(String::new());
    let invited_role = RwSignal::new("advisor".to_string());
    let name = RwSignal::new(String::new());
    let invited = RwSignal::new(None::<Result<String, String>>);
    let invite = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (to, role, name) = (
            email.get(),
            role_from_choice(&invited_role.get()),
            name.get(),
        );
        spawn_local(async move {
            invited.set(Some(match session::invite(&to, role, Some(name)).await {
                Ok(()) => {
                    email.set(String::new());
                    Ok(if en() {
                        format!("Invitation sent to {to}. Their request will show below once they open the link.")
                    } else {
                        format!("Invitation envoyée à {to}. Sa demande apparaîtra ci-dessous quand la personne aura ouvert le lien.")
                    })
                }
                Err(e) => Err(e),
            }));
        });
    };
    // Requests: identity line, role, safety code.
    let requests = RwSignal::new(None::<Result<Vec<(String, Role, String)>, String>>);
    let refresh = move || {
        spawn_local(async move {
            requests.set(Some(session::join_requests().await));
        })
    };
    // While the sharing panel is open, answers to invitations show up by themselves.
    let panel_open = RwSignal::new(false);
    let watching = StoredValue::new(false);
    let on_toggle = move |ev: leptos::ev::Event| {
        use wasm_bindgen::JsCast;
        let open = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlDetailsElement>().ok())
            .is_some_and(|d| d.open());
        panel_open.set(open);
        let owner = session::members()
            .iter()
            .any(|(_, role, _, me)| *me && *role == Role::Owner);
        if open && owner && !watching.get_value() {
            watching.set_value(true);
            spawn_local(async move {
                while panel_open.try_get_untracked() == Some(true) {
                    requests.set(Some(session::join_requests().await));
                    session::sleep(REQUESTS_POLL_MS).await;
                }
                let _ = watching.try_set_value(false);
            });
        }
    };
    view! {
        <details class="partage" on:toggle=on_toggle>
            <summary>{move || t("Partager ce dossier", "Share this dossier")}</summary>
            <form on:submit=submit>
                <label for="partage-identite">{move || t("Identité de l'appareil de la personne (livret1:…)", "The person's device identity (livret1:…)")}</label>
                <input id="partage-identite" type="text" required
                    on:input=move |ev| identity.set(event_target_value(&ev)) prop:value=identity/>
                <label for="partage-role">{move || t("Rôle", "Role")}</label>
                <select id="partage-role" on:change=move |ev| role.set(event_target_value(&ev)) prop:value=role>
                    <option value="advisor">{move || t("Accompagnateur — modifie le dossier", "Advisor — edits the dossier")}</option>
                    <option value="juror">{move || t("Juré — lit le dossier", "Juror — reads the dossier")}</option>
                </select>
                <button type="submit" id="partager">{move || t("Partager", "Share")}</button>
            </form>
            {move || message.get().map(|m| match m {
                Ok(t) => view! { <p role="status">{t}</p> }.into_any(),
                Err(e) => view! { <p class="erreur" role="alert">{e}</p> }.into_any(),
            })}
            <h4 id="titre-invitation">{move || t("Inviter par courriel", "Invite by e-mail")}</h4>
            <form on:submit=invite aria-labelledby="titre-invitation">
                <label for="invitation-courriel">{move || t("Adresse de la personne", "The person's address")}</label>
                <input id="invitation-courriel" type="email" required autocomplete="off"
                    on:input=move |ev| email.set(event_target_value(&ev)) prop:value=email/>
                <label for="invitation-role">{move || t("Rôle", "Role")}</label>
                <select id="invitation-role" on:change=move |ev| invited_role.set(event_target_value(&ev)) prop:value=invited_role>
                    <option value="advisor">{move || t("Accompagnateur — modifie le dossier", "Advisor — edits the dossier")}</option>
                    <option value="juror">{move || t("Juré — lit le dossier", "Juror — reads the dossier")}</option>
                </select>
                <label for="invitation-nom">{move || t("Votre nom, tel que le courriel le montrera (facultatif)", "Your name, as the e-mail will show it (optional)")}</label>
                <input id="invitation-nom" type="text" autocomplete="name"
                    on:input=move |ev| name.set(event_target_value(&ev)) prop:value=name/>
                <p class="aide">{move || t(
                    "Le courriel ne contient qu'un lien à usage unique et votre nom : rien du dossier.",
                    "The e-mail holds a one-time link and your name only: nothing of the dossier.",
                )}</p>
                <button type="submit" id="inviter">{move || t("Envoyer l'invitation", "Send the invitation")}</button>
            </form>
            {move || invited.get().map(|m| match m {
                Ok(t) => view! { <p role="status" data-testid="invitation-etat">{t}</p> }.into_any(),
                Err(e) => view! { <p class="erreur" role="alert" data-testid="invitation-etat">{e}</p> }.into_any(),
            })}
            <h4 id="titre-demandes">{move || t("Demandes d'accès", "Access requests")}</h4>
            <p class="aide">{move || t(
                "Avant de donner accès, demandez à la personne le code de sécurité que montre son appareil : il doit être le même qu'ici.",
                "Before giving access, ask the person for the safety code their device shows: it must be the same as here.",
            )}</p>
            <button type="button" class="secondaire" id="actualiser-demandes" on:click=move |_| refresh()>
                {move || t("Voir les demandes", "Show the requests")}
            </button>
            {move || requests.get().map(|r| match r {
                Err(e) => view! { <p class="erreur" role="alert" data-testid="demandes">{e}</p> }.into_any(),
                Ok(list) if list.is_empty() => view! {
                    <p role="status" data-testid="demandes">{move || t("Aucune demande en attente.", "No request waiting.")}</p>
                }.into_any(),
                Ok(list) => view! {
                    <ul data-testid="demandes">
                        {list.into_iter().enumerate().map(|(n, (line, role, code))| {
                            let label = code.clone();
                            view! {
                                <li data-code=code>
                                    {move || role_name(role)}
                                    " — "
                                    {move || t("code de sécurité", "safety code")}
                                    " "
                                    <strong>{label}</strong>
                                    " "
                                    <button type="button" id=format!("donner-acces-{n}") on:click=move |_| {
                                        let line = line.clone();
                                        spawn_local(async move {
                                            match give_access(line.clone(), role).await {
                                                Ok(()) => {
                                                    message.set(Some(Ok(t("Accès donné.", "Access given.").into())));
                                                    // Off the list now; the relay drops it too once the
                                                    // membership entry reaches it (the sync just asked).
                                                    requests.update(|r| {
                                                        if let Some(Ok(list)) = r {
                                                            list.retain(|(l, _, _)| *l != line);
                                                        }
                                                    });
                                                }
                                                Err(e) => message.set(Some(Err(e))),
                                            }
                                        });
                                    }>{move || t("Donner accès", "Give access")}</button>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any(),
            })}
            <Membres members_rev=members_rev st=st/>
            <Rappels/>
        </details>
    }
}

/// Who belongs to the dossier, and (for the candidate) removing someone: a new key epoch
/// for those who remain; the person keeps what they had and reads nothing written after.
#[component]
fn Membres(members_rev: RwSignal<u32>, st: Signals) -> impl IntoView {
    let status = RwSignal::new(None::<Result<String, String>>);
    // The line whose removal waits for a confirmation.
    let confirming = RwSignal::new(None::<String>);
    // A memo: the list is drawn again only when who belongs changed, not on each keystroke
    // (which would also take the focus off its buttons).
    let members = Memo::new(move |_| {
        members_rev.get();
        st.revision.get();
        session::members()
    });
    let i_own = move || {
        members
            .get()
            .iter()
            .any(|(_, role, _, me)| *me && *role == Role::Owner)
    };
    view! {
        <h4 id="titre-membres">{move || t("Membres du dossier", "Members of the dossier")}</h4>
        <ul data-testid="membres" aria-labelledby="titre-membres">
            {move || members.get().into_iter().enumerate().map(|(n, (line, role, code, me))| {
                let removable = i_own() && !me && role != Role::Owner;
                let asked = line.clone();
                let confirm_line = line.clone();
                view! {
                    <li data-code=code.clone()>
                        {move || role_name(role)}
                        " — "
                        {move || t("code de sécurité", "safety code")}
                        " "
                        <strong>{code.clone()}</strong>
                        {me.then(|| view! { " " {move || t("(cet appareil)", "(this device)")} })}
                        {removable.then(|| view! {
                            " "
                            {move || if confirming.get().as_deref() == Some(asked.as_str()) {
                                let line = confirm_line.clone();
                                view! {
                                    <button type="button" id=format!("confirmer-retrait-{n}") on:click=move |_| {
                                        let line = line.clone();
                                        confirming.set(None);
                                        status.set(Some(Ok(t("Retrait en cours…", "Removing…").into())));
                                        spawn_local(async move {
                                            status.set(Some(match session::remove_member(&line).await {
                                                Ok(()) => {
                                                    members_rev.update(|r| *r += 1);
                                                    Ok(t(
                                                        "Accès retiré : une nouvelle clé protège ce qui sera écrit désormais.",
                                                        "Access removed: a new key protects what is written from now on.",
                                                    ).into())
                                                }
                                                Err(e) => Err(e),
                                            }));
                                        });
                                    }>{move || t("Confirmer le retrait", "Confirm the removal")}</button>
                                }.into_any()
                            } else {
                                let line = asked.clone();
                                view! {
                                    <button type="button" class="secondaire" id=format!("retirer-{n}")
                                        on:click=move |_| confirming.set(Some(line.clone()))>
                                        {move || t("Retirer l'accès", "Remove access")}
                                    </button>
                                }.into_any()
                            }}
                        })}
                    </li>
                }
            }).collect_view()}
        </ul>
        {move || status.get().map(|m| match m {
            Ok(t) => view! { <p role="status" data-testid="membres-etat">{t}</p> }.into_any(),
            Err(e) => view! { <p class="erreur" role="alert" data-testid="membres-etat">{e}</p> }.into_any(),
        })}
    }
}

/// The jury's date and the reminders the relay mails before it (it learns the date and the
/// address, nothing of the dossier).
#[component]
fn Rappels() -> impl IntoView {
    let (date, email) = session::with_open(|r| {
        let d = r.dossier();
        (
            d.get("projet_vae.date_jury").unwrap_or_default(),
            d.get("etat_civil.courriel").unwrap_or_default(),
        )
    })
    .unwrap_or_default();
    // A date typed as the template asks (free text) is kept only when it reads as one.
    let date = RwSignal::new(if date.len() == 10 && date.as_bytes()[4] == b'-' {
        date
    } else {
        String::new()
    });
    let email = RwSignal::new(email);
    let status = RwSignal::new(None::<Result<String, String>>);
    let run = move |jury: Option<livret_shared::date::Date>| {
        let to = email.get_untracked();
        spawn_local(async move {
            status.set(Some(match session::set_reminders(&to, jury).await {
                Ok(due) if due.is_empty() => {
                    Ok(t("Aucun rappel programmé.", "No reminder scheduled.").into())
                }
                Ok(due) => {
                    let when: Vec<String> = due
                        .iter()
                        .map(|ms| {
                            let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(*ms as f64));
                            String::from(d.to_locale_date_string(
                                if en() { "en-GB" } else { "fr-FR" },
                                &wasm_bindgen::JsValue::UNDEFINED,
                            ))
                        })
                        .collect();
                    Ok(format!(
                        "{}{}",
                        t("Rappels programmés : ", "Reminders scheduled: "),
                        when.join(", ")
                    ))
                }
                Err(e) => Err(e),
            }));
        });
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match livret_shared::date::Date::parse(&date.get_untracked()) {
            Some(jury) => run(Some(jury)),
            None => status.set(Some(Err(t(
                "Date du jury attendue (AAAA-MM-JJ), entre 2000 et 2200.",
                "Jury date expected (YYYY-MM-DD), between 2000 and 2200.",
            )
            .into()))),
        }
    };
    view! {
        <h4 id="titre-rappels">{move || t("Rappels avant le jury", "Reminders before the jury")}</h4>
        <form on:submit=submit aria-labelledby="titre-rappels">
            <p class="aide">{move || t(
                "Le relais vous écrira 30, 7 et 1 jours avant le jury. Il apprend la date et l'adresse, rien de votre dossier.",
                "The relay will write to you 30, 7 and 1 days before the jury. It learns the date and the address, nothing of your dossier.",
            )}</p>
            <label for="rappel-date">{move || t("Date du jury", "Jury date")}</label>
            <input id="rappel-date" type="date" required prop:value=date
                on:input=move |ev| date.set(event_target_value(&ev))/>
            <label for="rappel-courriel">{move || t("Adresse à laquelle vous écrire", "Address to write to")}</label>
            <input id="rappel-courriel" type="email" required autocomplete="email" prop:value=email
                on:input=move |ev| email.set(event_target_value(&ev))/>
            <div class="actions">
                <button type="submit" id="programmer-rappels">{move || t("Programmer les rappels", "Schedule the reminders")}</button>
                <button type="button" class="secondaire" id="annuler-rappels" on:click=move |_| run(None)>
                    {move || t("Annuler les rappels", "Cancel the reminders")}
                </button>
            </div>
        </form>
        {move || status.get().map(|m| match m {
            Ok(t) => view! { <p role="status" data-testid="rappels-etat">{t}</p> }.into_any(),
            Err(e) => view! { <p class="erreur" role="alert" data-testid="rappels-etat">{e}</p> }.into_any(),
        })}
    }
}

#[component]
fn Section(section: &'static template::SectionText, st: Signals) -> impl IntoView {
    let heading = format!("titre-section-{}", section.key);
    let labelled_by = heading.clone();
    let body = match section.key {
        "fiches" => view! { <Fiches st=st/> <Recapitulatif st=st/> }.into_any(),
        "annexes" => view! { <Annexes st=st/> }.into_any(),
        key => section
            .fields
            .iter()
            .map(|f| {
                view! { <Field path=format!("{key}.{}", f.key) text=f kind=kind_of(key, f.key) st=st/> }
            })
            .collect_view()
            .into_any(),
    };
    view! {
        <section id=format!("section-{}", section.key) class="section" aria-labelledby=labelled_by>
            <h3 id=heading>{move || t(section.title_fr, section.title_en)}</h3>
            {(!section.guidance_fr.is_empty()).then(|| view! { <p class="consigne">{move || t(section.guidance_fr, section.guidance_en)}</p> })}
            {body}
        </section>
    }
}

/// Moves keyboard focus to `id` once the view has caught up (a moved fiche's button is
/// taken out of the page and put back, which drops focus), or to `fallback` when `id` is now
/// disabled (a fiche moved to the top can go up no more).
fn focus_soon(id: String, fallback: Option<String>) {
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

#[component]
fn Fiches(st: Signals) -> impl IntoView {
    let fields = template::section("fiches").map_or(&[][..], |s| s.fields);
    let first_field = fields.first().map_or("intitule", |f| f.key);
    // What the last action did, with a way back for a delete.
    let done = RwSignal::new(None::<(String, Option<usize>)>);
    let change =
        move |what: &dyn Fn(&mut livret_shared::dossier::Dossier) -> Result<(), String>| {
            let changed = session::with_open(|r| what(r.dossier())).is_ok_and(|r| r.is_ok());
            if changed {
                refresh_fiches(st);
                persist(st);
            }
            changed
        };
    let add = move |_| {
        if change(&|d| d.add_fiche().map(|_| ()).map_err(|e| e.to_string())) {
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
                            change(&|d| d.move_fiche(place, true).map_err(|e| e.to_string()));
                            focus_soon(format!("monter-{place}"), Some(format!("descendre-{place}")));
                        }>{move || t("↑ Monter", "↑ Up")}</button>
                    <button type="button" class="secondaire" id=format!("descendre-{place}")
                        disabled=move || st.fiches.with(|o| o.last() == Some(&place))
                        aria-label=move || if en() { format!("Move sheet no. {} down", number(place)) } else { format!("Descendre la fiche n° {}", number(place)) }
                        on:click=move |_| {
                            change(&|d| d.move_fiche(place, false).map_err(|e| e.to_string()));
                            focus_soon(format!("descendre-{place}"), Some(format!("monter-{place}")));
                        }>{move || t("↓ Descendre", "↓ Down")}</button>
                    <button type="button" class="secondaire" id=format!("dupliquer-{place}")
                        aria-label=move || if en() { format!("Duplicate sheet no. {}", number(place)) } else { format!("Dupliquer la fiche n° {}", number(place)) }
                        on:click=move |_| {
                            let n = number(place);
                            change(&|d| d.duplicate_fiche(place).map(|_| ()).map_err(|e| e.to_string()));
                            done.set(Some((
                                if en() { format!("Sheet no. {n} duplicated: the copy is sheet no. {}.", n + 1) } else { format!("Fiche n° {n} dupliquée : la copie est la fiche n° {}.", n + 1) },
                                None,
                            )));
                        }>{move || t("Dupliquer", "Duplicate")}</button>
                    <button type="button" class="secondaire" id=format!("supprimer-{place}")
                        aria-label=move || if en() { format!("Delete sheet no. {}", number(place)) } else { format!("Supprimer la fiche n° {}", number(place)) }
                        on:click=move |_| {
                            let n = number(place);
                            change(&|d| d.delete_fiche(place).map_err(|e| e.to_string()));
                            done.set(Some((
                                if en() { format!("Sheet no. {n} deleted.") } else { format!("Fiche n° {n} supprimée.") },
                                Some(place),
                            )));
                            focus_soon("annuler-suppression".into(), None);
                        }>{move || t("Supprimer", "Delete")}</button>
                </div>
                {fields.iter().map(|f| if f.key == "competences" {
                    view! { <CompetencePicker index=place text=f st=st/> }.into_any()
                } else if f.key == "preuves" {
                    view! { <PreuvesPicker index=place text=f st=st/> }.into_any()
                } else {
                    view! {
                        <Field path=format!("fiches.{place}.{}", f.key) text=f kind=kind_of("fiches", f.key) st=st/>
                    }.into_any()
                }).collect_view()}
            </fieldset>
        </For>
        <p role="status" aria-live="polite" data-testid="fiches-etat">
            {move || done.get().map(|(message, undo)| view! {
                {message}
                {undo.map(|place| view! {
                    " "
                    <button type="button" class="lien" id="annuler-suppression" on:click=move |_| {
                        change(&|d| d.restore_fiche(place).map_err(|e| e.to_string()));
                        done.set(Some((t("Suppression annulée.", "Deletion undone.").into(), None)));
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
                                    session::with_open(|r| r.dossier().get(&format!("fiches.{place}.intitule")))
                                        .ok().and_then(Result::ok).unwrap_or_default()
                                });
                                move || {
                                    let title = title.get();
                                    if title.is_empty() { t("Fiche sans intitulé", "Untitled sheet").to_string() } else { title }
                                }
                            }
                            " "
                            <button type="button" class="lien" id=format!("restaurer-{place}") on:click=move |_| {
                                change(&|d| d.restore_fiche(place).map_err(|e| e.to_string()));
                                done.set(Some((t("Fiche restaurée.", "Sheet restored.").into(), None)));
                            }>{move || t("Restaurer", "Restore")}</button>
                        </li>
                    </For>
                </ul>
            </details>
        </Show>
    }
}

/// "1,2 Mo": sizes as people read them.
fn human_size(bytes: u64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} {}", t("o", "B")),
        b if b < 1024 * 1024 => format!("{:.0} {}", b as f64 / 1024.0, t("Ko", "KB")),
        b if en() => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
        b => format!("{:.1} Mo", b as f64 / (1024.0 * 1024.0)).replace('.', ","),
    }
}

/// The annexes: evidence files encrypted on this device (age, piece by piece), numbered in
/// turn, sent to the relay with their progress shown, opened again on any member's device.
#[component]
fn Annexes(st: Signals) -> impl IntoView {
    let titre = RwSignal::new(String::new());
    let status = RwSignal::new(None::<Result<String, String>>);
    let percent = RwSignal::new(None::<u32>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let files: Vec<web_sys::File> = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id("annexe-fichier"))
            .and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlInputElement>(e).ok())
            .and_then(|input| input.files())
            .map(|list| (0..list.length()).filter_map(|i| list.get(i)).collect())
            .unwrap_or_default();
        if files.is_empty() {
            status.set(Some(Err(t(
                "Choisissez d'abord un fichier.",
                "Choose a file first.",
            )
            .into())));
            return;
        }
        let given = titre.get_untracked();
        busy.set(true);
        spawn_local(async move {
            for file in &files {
                let name = file.name();
                let added = session::add_evidence(file, &given, &|done, all| {
                    let pct = (done * 100).checked_div(all).map_or(100, |p| p as u32);
                    percent.set(Some(pct));
                    status.set(Some(Ok(if en() {
                        format!("Encrypting “{name}” on this device… {pct}%")
                    } else {
                        format!("Chiffrement de « {name} » sur cet appareil… {pct} %")
                    })));
                })
                .await;
                let numero = match added {
                    Ok(n) => n,
                    Err(e) => {
                        status.set(Some(Err(if en() {
                            format!("“{name}” not added: {e}")
                        } else {
                            format!("« {name} » non ajouté : {e}")
                        })));
                        continue;
                    }
                };
                st.revision.update(|r| *r += 1);
                let sent = session::upload_open_evidence(&|done, all| {
                    let pct = (done * 100).checked_div(all).unwrap_or(100);
                    percent.set(Some(pct));
                    status.set(Some(Ok(if en() {
                        format!("Sending annex no. {numero} to the relay… {pct}% ({done}/{all} encrypted pieces)")
                    } else {
                        format!("Envoi de l'annexe n° {numero} au relais… {pct} % ({done}/{all} morceaux chiffrés)")
                    })));
                })
                .await;
                status.set(Some(match sent {
                    Ok(()) if en() => Ok(format!("Annex no. {numero} added and sent to the relay.")),
                    Ok(()) => Ok(format!("Annexe n° {numero} ajoutée et envoyée au relais.")),
                    Err(_) if en() => Ok(format!(
                        "Annex no. {numero} added on this device; it will go to the relay at the next sync."
                    )),
                    Err(_) => Ok(format!(
                        "Annexe n° {numero} ajoutée sur cet appareil ; elle partira au relais à la prochaine synchronisation."
                    )),
                }));
                persist(st);
            }
            titre.set(String::new());
            percent.set(None);
            busy.set(false);
        });
    };
    // Drawn again only when the annexes change: not on each keystroke elsewhere (which
    // re-read every row's upload state from IndexedDB and dropped an opened file's link).
    let annexes = st.annexes;
    view! {
        <table class="annexes" data-testid="annexes">
            <caption>{move || t("Pièces jointes au livret", "Files attached to the livret")}</caption>
            <thead>
                <tr>
                    <th scope="col">{move || t("N°", "No.")}</th>
                    <th scope="col">{move || t("Titre", "Title")}</th>
                    <th scope="col">{move || t("Fichier", "File")}</th>
                    <th scope="col">{move || t("Pièce", "Document")}</th>
                </tr>
            </thead>
            <tbody>
                {move || {
                    let annexes = annexes.get();
                    if annexes.is_empty() {
                        return view! { <tr><td colspan="4">{move || t("Aucune annexe pour l'instant.", "No annex yet.")}</td></tr> }.into_any();
                    }
                    annexes.into_iter().map(|a| view! { <AnnexeRow annexe=a/> }).collect_view().into_any()
                }}
            </tbody>
        </table>
        <form class="ajout-annexe" on:submit=submit>
            <label for="annexe-fichier">{move || t(
                "Fichiers (PDF, images, documents bureautiques ; 100 Mo au plus chacun)",
                "Files (PDF, images, office documents; 100 MB at most each)",
            )}</label>
            <input type="file" id="annexe-fichier" multiple
                accept=".pdf,image/*,.doc,.docx,.odt,.xls,.xlsx,.ods,.ppt,.pptx,.odp,.txt,.rtf"/>
            <label for="annexe-titre">{move || t(
                "Titre de l'annexe (facultatif : le nom du fichier sinon)",
                "Title of the annex (optional: the file's name otherwise)",
            )}</label>
            <input type="text" id="annexe-titre" on:input=move |ev| titre.set(event_target_value(&ev)) prop:value=titre/>
            <button type="submit" id="ajouter-annexe" disabled=busy>{move || t("Chiffrer et ajouter", "Encrypt and add")}</button>
        </form>
        {move || percent.get().map(|p| view! {
            <progress id="annexe-progression" max="100" value=p aria-label=move || t("Progression de l'ajout", "Progress of the upload")></progress>
        })}
        {move || status.get().map(|s| match s {
            Ok(m) => view! { <p role="status" data-testid="annexe-etat">{m}</p> }.into_any(),
            Err(e) => view! { <p class="erreur" role="alert" data-testid="annexe-etat">{e}</p> }.into_any(),
        })}
    }
}

/// Where opening an annexe is: the `blob:` address once decrypted.
#[derive(Clone, Debug, PartialEq)]
enum Opening {
    Idle,
    Working(String),
    Ready(String),
    Failed(String),
}

#[component]
fn AnnexeRow(annexe: livret_shared::dossier::Annexe) -> impl IntoView {
    let pending = RwSignal::new(false);
    if let Some(blob) = annexe.blob {
        spawn_local(async move {
            let waiting = session::evidence_pending(&blob).await;
            let _ = pending.try_set(waiting);
        });
    }
    let link = RwSignal::new(Opening::Idle);
    let place = annexe.place;
    let numero = annexe.numero;
    let open = move |_| {
        link.set(Opening::Working(t("Déchiffrement…", "Decrypting…").into()));
        spawn_local(async move {
            let url = session::open_evidence(place, &|done, all| {
                let _ = link.try_set(Opening::Working(format!(
                    "{} {done}/{all}",
                    t("Déchiffrement…", "Decrypting…")
                )));
            })
            .await;
            let _ = link.try_set(match url {
                Ok(u) => Opening::Ready(u),
                Err(e) => Opening::Failed(e),
            });
        });
    };
    let fichier = annexe.fichier.clone();
    view! {
        <tr data-annexe=numero>
            <th scope="row">{numero}</th>
            <td>{annexe.titre.clone()}</td>
            <td>{format!("{} ({})", annexe.fichier, human_size(annexe.taille))}
                {move || pending.get().then(|| view! { <span class="discret">{move || t(" — en attente d'envoi au relais", " — waiting to go to the relay")}</span> })}
            </td>
            <td>
                {move || match link.get() {
                    Opening::Idle => view! {
                        <button type="button" class="lien" id=format!("ouvrir-annexe-{numero}") on:click=open>
                            {move || if en() { format!("Open annex no. {numero}") } else { format!("Ouvrir l'annexe n° {numero}") }}
                        </button>
                    }.into_any(),
                    Opening::Ready(url) => view! {
                        <a href=url download=fichier.clone() target="_blank" rel="noopener"
                            data-testid=format!("annexe-lien-{numero}")>{
                                let fichier = fichier.clone();
                                move || if en() { format!("Download “{fichier}”") } else { format!("Télécharger « {fichier} »") }
                            }</a>
                    }.into_any(),
                    Opening::Working(s) => view! { <span role="status">{s}</span> }.into_any(),
                    Opening::Failed(e) => view! { <span class="erreur" role="alert">{e}</span> }.into_any(),
                }}
            </td>
        </tr>
    }
}

/// A list field is edited as comma-separated values; the document keeps a list.
fn as_input(kind: FieldKind, stored: String) -> String {
    if kind != FieldKind::List {
        return stored;
    }
    serde_json::from_str::<Vec<String>>(&stored)
        .map(|items| items.join(", "))
        .unwrap_or(stored)
}

#[component]
fn Field(path: String, text: &'static FieldText, kind: FieldKind, st: Signals) -> impl IntoView {
    let stored = session::with_open(|r| r.dossier().get(&path))
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    let shown = RwSignal::new(as_input(kind, stored));
    FIELDS.with(|f| f.borrow_mut().push((path.clone(), kind, shown)));
    let id = format!("f-{}", path.replace('.', "-"));
    let help = format!("{id}-aide");
    let focused = {
        let path = path.clone();
        move |ev: leptos::ev::FocusEvent| announce_here(&path, &ev, true)
    };
    let here_path = path.clone();
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
    let typing_path = path.clone();
    let comment_path = path.clone();
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
            Ok(Err(e)) => st.save.set(SaveState::Failed(e.to_string())),
            Err(e) => st.save.set(SaveState::Failed(e)),
        }
    };
    let guidance = (!text.guidance_fr.is_empty())
        .then(|| view! { <p id=help.clone() class="aide">{move || t(text.guidance_fr, text.guidance_en)}</p> });
    let described = (!text.guidance_fr.is_empty()).then(|| help.clone());
    // A juror reads the fields (and selects passages in them to annotate), never writes.
    let control = if kind == FieldKind::Text {
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
                view! { <crate::jury::FieldAnnotations path=path.clone() field_id=id.clone() st=st/> }
            })
        }
    };
    view! {
        <div class="champ">
            <label for=id.clone()>{move || t(text.label_fr, text.label_en)}</label>
            {guidance}
            {others_here}
            {control}
            {annotations}
            <FieldComments path=comment_path field_id=id st=st/>
        </div>
    }
}

/// The comments on one field, for the candidate and advisors: a button that says how many
/// threads are open, and once unfolded the threads (answers, resolve / reopen) and a form
/// for a new one. Nothing for a juror.
#[component]
fn FieldComments(path: String, field_id: String, st: Signals) -> impl IntoView {
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
                Err(e) => error.set(Some(e)),
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
                                <ThreadView answers=answers thread=thread st=st/>
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
fn commented(st: Signals) {
    refresh_comments(st);
    persist(st);
}

/// One thread: its comments in order, a form to answer, and resolve / reopen.
#[component]
fn ThreadView(
    thread: Thread,
    answers: RwSignal<std::collections::HashMap<CommentId, String>>,
    st: Signals,
) -> impl IntoView {
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
            Err(e) => error.set(Some(e)),
        }
    };
    let resolve = move |_| match session::resolve_thread(id, !resolved) {
        Ok(()) => commented(st),
        Err(e) => error.set(Some(e)),
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
fn when(at_ms: u64) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(at_ms as f64));
    let locale = if en() { "en-GB" } else { "fr-FR" };
    date.to_locale_string(locale, &wasm_bindgen::JsValue::UNDEFINED)
        .as_string()
        .unwrap_or_default()
}

/// An element id made of a compétence code (`C1.2` → `C1_2`: dots would read as CSS classes).
pub(crate) fn code_id(code: &str) -> String {
    code.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// A list field's value as its picker shows it (`"a, b"`), registered with the fields on
/// screen so others' edits reach it too.
fn list_field(path: String) -> RwSignal<String> {
    let stored = session::with_open(|r| r.dossier().get(&path))
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    let shown = RwSignal::new(as_input(FieldKind::List, stored));
    FIELDS.with(|f| f.borrow_mut().push((path, FieldKind::List, shown)));
    shown
}

fn list_items(shown: &str) -> Vec<String> {
    shown
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Writes a picker's new list to the document and to what it shows.
fn set_list(path: &str, shown: RwSignal<String>, items: &[String], st: Signals) {
    let value = items.join(", ");
    shown.set(value.clone());
    match session::with_open(|r| r.dossier().set(path, &value)) {
        Ok(Ok(())) => persist(st),
        Ok(Err(e)) => st.save.set(SaveState::Failed(e.to_string())),
        Err(e) => st.save.set(SaveState::Failed(e)),
    }
}

/// The annexes a fiche gives as its evidence, ticked from the dossier's annexes (shown with
/// their numbers, stored by their files: a number given twice offline and settled later
/// does not move a fiche's evidence).
#[component]
fn PreuvesPicker(index: usize, text: &'static FieldText, st: Signals) -> impl IntoView {
    let path = format!("fiches.{index}.preuves");
    let chosen = list_field(path.clone());
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
                let (path, checked_annexe) = (path.clone(), a.clone());
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
fn CompetencePicker(index: usize, text: &'static FieldText, st: Signals) -> impl IntoView {
    let path = format!("fiches.{index}.competences");
    let referentiel = st.referentiel.get_value();
    let selected = list_field(path.clone());
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
                    let haystack = format!("{} {}", c.code, c.title).to_lowercase();
                    let code = c.code.clone();
                    let checked_code = c.code.clone();
                    let path = path.clone();
                    let toggle = move |ev: leptos::ev::Event| {
                        let on = event_target_checked(&ev);
                        let mut list = list_items(&selected.get_untracked());
                        list.retain(|x| *x != code);
                        if on {
                            list.push(code.clone());
                        }
                        set_list(&path, selected, &list, st);
                    };
                    view! {
                        <div class="case" class:masquee=move || {
                            let q = query.get().to_lowercase();
                            !q.trim().is_empty() && !haystack.contains(q.trim())
                        }>
                            <input type="checkbox" id=id.clone() on:change=toggle
                                prop:checked=move || list_items(&selected.get()).contains(&checked_code)/>
                            <label for=id>{format!("{} — {}", c.code, c.title)}</label>
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
            {blocs}
        </fieldset>
    }
    .into_any()
}

/// The jury's decision once released (sealed with the dossier's key: what the candidate and
/// advisors read of the jury's work; the reviews themselves stay sealed for the jury).
#[component]
fn DecisionJury(st: Signals) -> impl IntoView {
    let decision = Memo::new(move |_| {
        st.revision.get();
        session::with_open(|r| r.decision().map(|(_, d)| d))
            .ok()
            .flatten()
    });
    move || {
        decision.get().map(|d| {
            let outcome = if en() {
                d.outcome.label_en()
            } else {
                d.outcome.label_fr()
            };
            let results = d
                .competences
                .iter()
                .map(|(code, yes)| {
                    let result = if *yes {
                        t("acquise", "acquired")
                    } else {
                        t("non acquise", "not acquired")
                    };
                    view! { <li data-code=code.clone()>{format!("{code} : {result}")}</li> }
                })
                .collect_view();
            let jury = format!(
                "{} {} : {}",
                t("Jury du", "Jury of"),
                d.date,
                d.jury.join(", ")
            );
            let motifs = (!d.motifs.is_empty()).then(|| {
                view! { <p data-testid="decision-motifs">{format!("{} {}", t("Motifs :", "Reasons:"), d.motifs)}</p> }
            });
            view! {
                <section class="decision" aria-labelledby="titre-decision" data-testid="decision-jury">
                    <h3 id="titre-decision">{move || t("Décision du jury", "The jury's decision")}</h3>
                    <p data-testid="decision-issue"><strong>{outcome}</strong></p>
                    <p>{jury}</p>
                    {motifs}
                    <ul class="resultats">{results}</ul>
                </section>
            }
        })
    }
}

/// The récapitulatif des compétences, live: which fiches claim each compétence, and which
/// compétences no fiche claims yet.
#[component]
fn Recapitulatif(st: Signals) -> impl IntoView {
    // Computed on every change, drawn again only when it differs (most keystrokes leave it
    // as it was).
    let coverage = Memo::new(move |_| {
        st.revision.get();
        st.fiches.get();
        st.referentiel
            .with_value(|referentiel| {
                session::with_open(|r| r.dossier().coverage(referentiel.as_ref()))
            })
            .unwrap_or_default()
    });
    view! {
        <section class="recapitulatif" aria-labelledby="titre-recap">
            <h4 id="titre-recap">{move || t("Récapitulatif des compétences", "Summary of skills")}</h4>
            {move || {
                let lines = coverage.get();
                let covered = lines.iter().filter(|l| !l.fiches.is_empty()).count();
                let rows = lines
                    .into_iter()
                    .map(|l| {
                        let status = if l.fiches.is_empty() {
                            t("non couverte", "not covered").to_string()
                        } else {
                            l.fiches
                                .iter()
                                .map(|i| format!("{} {}", t("n°", "no."), i + 1))
                                .collect::<Vec<_>>()
                                .join(", ")
                        };
                        let gap = l.fiches.is_empty();
                        // Claimed by a fiche, and no annexe given as evidence for it yet.
                        let unproven = !gap && l.annexes.is_empty();
                        let evidence = if l.annexes.is_empty() {
                            t("aucune", "none").to_string()
                        } else {
                            l.annexes
                                .iter()
                                .map(|n| format!("{} {n}", t("n°", "no.")))
                                .collect::<Vec<_>>()
                                .join(", ")
                        };
                        let code = l.code.clone();
                        view! {
                            <tr class:lacune=gap class:sans-preuve=unproven data-code=code>
                                <th scope="row">{l.code}</th>
                                <td>{l.title}</td>
                                <td>{status}</td>
                                <td data-testid="recap-annexes">{evidence}</td>
                            </tr>
                        }
                    })
                    .collect_view();
                view! {
                    <p data-testid="recap-total">{if en() {
                        format!("{covered} skill(s) covered by at least one sheet")
                    } else {
                        format!("{covered} compétence(s) couverte(s) par au moins une fiche")
                    }}</p>
                    <table data-testid="recapitulatif">
                        <thead>
                            <tr>
                                <th scope="col">{t("Code", "Code")}</th>
                                <th scope="col">{t("Compétence", "Skill")}</th>
                                <th scope="col">{t("Fiches activité", "Activity sheets")}</th>
                                <th scope="col">{t("Preuves (annexes)", "Evidence (annexes)")}</th>
                            </tr>
                        </thead>
                        <tbody>{rows}</tbody>
                    </table>
                }
            }}
        </section>
    }
}
