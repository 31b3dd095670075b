//! Annexes: evidence files added (sealed on this device, uploaded in pieces), listed, opened.

use super::*;

/// "1,2 Mo": sizes as people read them.
pub(super) fn human_size(bytes: u64) -> String {
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
pub(super) fn Annexes() -> impl IntoView {
    let st = EditorState::get();
    let titre = RwSignal::new(String::new());
    // What the last fix did (rename, replace, delete, restore, erase), with a way back
    // for a deletion.
    let done = RwSignal::new(None::<(String, Option<usize>)>);
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
        let several = files.len() > 1;
        busy.set(true);
        spawn_local(async move {
            for file in &files {
                let name = file.name();
                // Several files picked together each keep a title of their own: the one
                // typed, followed by the file's name (or the file's name alone).
                let title = match given.trim() {
                    typed if several && !typed.is_empty() => {
                        let stem = name
                            .rsplit_once('.')
                            .map_or(name.as_str(), |(stem, _)| stem);
                        format!("{typed} — {stem}")
                    }
                    _ if several => String::new(),
                    _ => given.clone(),
                };
                let added = session::add_evidence(file, &title, &|done, all| {
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
                        format!("Sending annex no. {numero} to the server… {pct}% ({done}/{all} encrypted pieces)")
                    } else {
                        format!("Envoi de l'annexe n° {numero} au serveur… {pct} % ({done}/{all} morceaux chiffrés)")
                    })));
                })
                .await;
                status.set(Some(match sent {
                    Ok(()) if en() => Ok(format!("Annex no. {numero} added and sent to the server.")),
                    Ok(()) => Ok(format!("Annexe n° {numero} ajoutée et envoyée au serveur.")),
                    Err(_) if en() => Ok(format!(
                        "Annex no. {numero} added on this device; it will go to the server at the next sync."
                    )),
                    Err(_) => Ok(format!(
                        "Annexe n° {numero} ajoutée sur cet appareil ; elle partira au serveur à la prochaine synchronisation."
                    )),
                }));
                persist(st);
            }
            titre.set(String::new());
            // The files picked are added: the field lets them go (the next add must not
            // send them again).
            if let Some(input) = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.get_element_by_id("annexe-fichier"))
                .and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlInputElement>(e).ok())
            {
                input.set_value("");
            }
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
                    <th scope="col">{move || t("Corriger", "Fix")}</th>
                </tr>
            </thead>
            <tbody>
                {move || {
                    let annexes = annexes.get();
                    if annexes.is_empty() {
                        return view! { <tr><td colspan="5">{move || t("Aucune annexe pour l'instant.", "No annex yet.")}</td></tr> }.into_any();
                    }
                    annexes.into_iter().map(|a| view! { <AnnexeRow annexe=a done=done/> }).collect_view().into_any()
                }}
            </tbody>
        </table>
        <p role="status" aria-live="polite" data-testid="annexes-corrections">
            {move || done.get().map(|(message, undo)| view! {
                {message}
                {undo.map(|place| view! {
                    " "
                    <button type="button" class="lien" id="annuler-suppression-annexe" on:click=move |_| {
                        let restored = session::with_open(|r| r.dossier().restore_annexe(place));
                        if let Ok(Ok(n)) = restored {
                            persist(st);
                            done.set(Some((if en() { format!("Deletion undone: it is annex no. {n}.") } else { format!("Suppression annulée : c'est l'annexe n° {n}.") }, None)));
                        }
                    }>{move || t("Annuler la suppression", "Undo the deletion")}</button>
                })}
            })}
        </p>
        <AnnexesBin done=done/>
        <EvidenceExamples/>
        <form class="ajout-annexe" on:submit=submit>
            <label for="annexe-fichier">{move || t(
                "Fichiers (PDF, images, documents bureautiques ; 100 Mo au plus chacun) — chiffrés sur cet appareil avant d'être envoyés",
                "Files (PDF, images, office documents; 100 MB at most each) — encrypted on this device before they are sent",
            )}</label>
            <input type="file" id="annexe-fichier" multiple
                accept=".pdf,image/*,.doc,.docx,.odt,.xls,.xlsx,.ods,.ppt,.pptx,.odp,.txt,.rtf"/>
            <label for="annexe-titre">{move || t(
                "Titre de l'annexe (facultatif : le nom du fichier sinon ; pour plusieurs fichiers, suivi du nom de chacun)",
                "Title of the annex (optional: the file's name otherwise; for several files, followed by each one's name)",
            )}</label>
            <input type="text" id="annexe-titre" on:input=move |ev| titre.set(event_target_value(&ev)) prop:value=titre/>
            <button type="submit" id="ajouter-annexe" disabled=busy>{move || t("Ajouter les fichiers", "Add the files")}</button>
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

/// The certifier's « Exemples d'éléments de preuves attendus », bloc by bloc, where the
/// pinned référentiel gives them: what evidence to add here. The certifier's words, in
/// French whatever the interface's language.
#[component]
fn EvidenceExamples() -> impl IntoView {
    let blocs: Vec<(String, Vec<String>)> = session::with_open(|r| r.dossier().referentiel())
        .ok()
        .flatten()
        .map(|r| {
            r.blocs
                .into_iter()
                .filter(|b| !b.evidence_examples.is_empty())
                .map(|b| (b.label(), b.evidence_examples))
                .collect()
        })
        .unwrap_or_default();
    (!blocs.is_empty()).then(|| {
        view! {
            <details class="preuves-attendues" data-testid="preuves-attendues">
                <summary>{move || t(
                    "Exemples de preuves attendues par le certificateur",
                    "Examples of evidence the certifier expects",
                )}</summary>
                {blocs.into_iter().map(|(title, examples)| view! {
                    <h4>{title}</h4>
                    <ul>{examples.into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}</ul>
                }).collect_view()}
            </details>
        }
    })
}

/// Where opening an annexe is: the `blob:` address once decrypted.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Opening {
    Idle,
    Working(String),
    Ready(String),
    Failed(session::Error),
}

/// Hands a decrypted file to the browser, as its link would when clicked (a download
/// under its own name).
fn hand_over(url: &str, name: &str) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    if let Ok(a) = document
        .create_element("a")
        .map(wasm_bindgen::JsCast::unchecked_into::<web_sys::HtmlAnchorElement>)
    {
        a.set_href(url);
        a.set_download(name);
        a.set_rel("noopener");
        a.click();
    }
}

#[component]
pub(super) fn AnnexeRow(
    annexe: livret_shared::dossier::Annexe,
    done: RwSignal<Option<(String, Option<usize>)>>,
) -> impl IntoView {
    let st = EditorState::get();
    let pending = RwSignal::new(false);
    if let Some(blob) = annexe.blob {
        // Asked when the row is drawn, then after each save and sync while it waits: the
        // row stops saying so once the file is up (sent at once, or at a later sync).
        Effect::new(move |asked: Option<()>| {
            st.revision.track();
            st.sync.track();
            if asked.is_some() && !pending.get_untracked() {
                return;
            }
            spawn_local(async move {
                let waiting = session::evidence_pending(&blob).await;
                let _ = pending.try_set(waiting);
            });
        });
    }
    let link = RwSignal::new(Opening::Idle);
    let place = annexe.place;
    let numero = annexe.numero;
    // Kept in the reactive store: the button's handler stays a copy the row can redraw.
    let fichier_pour_ouvrir = StoredValue::new(annexe.fichier.clone());
    let open = move |_| {
        link.set(Opening::Working(t("Déchiffrement…", "Decrypting…").into()));
        let fichier_garde = fichier_pour_ouvrir.get_value();
        spawn_local(async move {
            let url = session::open_evidence(place, &|done, all| {
                let _ = link.try_set(Opening::Working(format!(
                    "{} {done}/{all}",
                    t("Déchiffrement…", "Decrypting…")
                )));
            })
            .await;
            let _ = link.try_set(match url {
                Ok(u) => {
                    // One click gives the file: it is handed to the browser as soon as it
                    // is decrypted; the link stays to get it again.
                    hand_over(&u, &fichier_garde);
                    Opening::Ready(u)
                }
                Err(e) => Opening::Failed(e),
            });
        });
    };
    let fichier = annexe.fichier.clone();
    view! {
        <tr data-annexe=numero>
            <th scope="row">{numero}</th>
            <td>{annexe.titre.clone()}</td>
            <td>{
                    // Worded again when the language changes ("702 o" / "702 B").
                    let (fichier, taille) = (annexe.fichier.clone(), annexe.taille);
                    move || format!("{fichier} ({})", human_size(taille))
                }
                {move || pending.get().then(|| view! { <span class="discret">{move || t(" — en attente d'envoi au serveur", " — waiting to go to the server")}</span> })}
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
                    Opening::Failed(e) => view! { <span class="erreur" role="alert">{move || e.to_string()}</span> }.into_any(),
                }}
            </td>
            <td><AnnexeFixes annexe=annexe done=done/></td>
        </tr>
    }
}

/// Renaming, replacing the file of, and deleting one annexe.
#[component]
fn AnnexeFixes(
    annexe: livret_shared::dossier::Annexe,
    done: RwSignal<Option<(String, Option<usize>)>>,
) -> impl IntoView {
    let st = EditorState::get();
    let (place, numero) = (annexe.place, annexe.numero);
    let renaming = RwSignal::new(false);
    let title = RwSignal::new(annexe.titre.clone());
    let working = RwSignal::new(false);
    let rename = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let new = title.get_untracked().trim().to_string();
        if new.is_empty() {
            done.set(Some((
                t(
                    "Un titre vide : l'annexe garde le sien.",
                    "An empty title: the annex keeps its own.",
                )
                .into(),
                None,
            )));
            return;
        }
        let path = format!("annexes.{place}.titre");
        if let Ok(Ok(())) = session::with_open(|r| r.dossier().set(path.as_str(), &new)) {
            persist(st);
            renaming.set(false);
            done.set(Some((
                if en() {
                    format!("Annex no. {numero} renamed.")
                } else {
                    format!("Annexe n° {numero} renommée.")
                },
                None,
            )));
        }
    };
    let delete = move |_| {
        // A jury's notes name annexes by number: once one reads the dossier, numbers stay.
        let renumber = !session::with_open(|r| r.has_jury()).unwrap_or(true);
        if let Ok(Ok(())) = session::with_open(|r| r.dossier().delete_annexe(place, renumber)) {
            persist(st);
            done.set(Some((
                match (en(), renumber) {
                    (true, true) => format!("Annex no. {numero} deleted; the next ones moved up one number."),
                    (true, false) => format!("Annex no. {numero} deleted; a jury reads the dossier, so the numbers stay."),
                    (false, true) => format!("Annexe n° {numero} supprimée ; les suivantes ont avancé d'un numéro."),
                    (false, false) => format!("Annexe n° {numero} supprimée ; un jury lit le dossier, les numéros restent."),
                },
                Some(place),
            )));
            focus_soon("annuler-suppression-annexe".into(), None);
        }
    };
    let replace = move |ev: leptos::ev::Event| {
        let input = event_target::<web_sys::HtmlInputElement>(&ev);
        let Some(file) = input.files().and_then(|f| f.get(0)) else {
            return;
        };
        input.set_value("");
        working.set(true);
        spawn_local(async move {
            let replaced = session::replace_evidence(place, &file, &|_, _| {}).await;
            let _ = working.try_set(false);
            match replaced {
                Ok(()) => {
                    st.revision.update(|r| *r += 1);
                    let sent = session::upload_open_evidence(&|_, _| {}).await;
                    let _ = done.try_set(Some((
                        match (en(), sent.is_ok()) {
                            (true, true) => format!("Annex no. {numero} has its new file; the old one is in the bin (deleted annexes), still on the server until you erase it."),
                            (true, false) => format!("Annex no. {numero} has its new file on this device; it goes to the server at the next sync. The old one is in the bin."),
                            (false, true) => format!("L'annexe n° {numero} a son nouveau fichier ; l'ancien est à la corbeille (annexes supprimées), sur le serveur tant que vous ne l'effacez pas."),
                            (false, false) => format!("L'annexe n° {numero} a son nouveau fichier sur cet appareil ; il part au serveur à la prochaine synchronisation. L'ancien est à la corbeille."),
                        },
                        None,
                    )));
                    persist(st);
                }
                Err(e) => {
                    let _ = done.try_set(Some((e.to_string(), None)));
                }
            }
        });
    };
    let replace_id = format!("remplacer-annexe-{place}");
    view! {
        <div class="corrections">
            <Show when=move || renaming.get() fallback=move || view! {
                <button type="button" class="lien" id=format!("renommer-annexe-{place}")
                    aria-label=move || if en() { format!("Rename annex no. {numero}") } else { format!("Renommer l'annexe n° {numero}") }
                    on:click=move |_| { renaming.set(true); focus_soon(format!("titre-annexe-{place}"), None); }>{move || t("Renommer", "Rename")}</button>
            }>
                <form on:submit=rename>
                    <label for=format!("titre-annexe-{place}")>{move || if en() { format!("New title of annex no. {numero}") } else { format!("Nouveau titre de l'annexe n° {numero}") }}</label>
                    <input type="text" id=format!("titre-annexe-{place}") prop:value=title on:input=move |ev| title.set(event_target_value(&ev))/>
                    <button type="submit" id=format!("enregistrer-titre-{place}")>{move || t("Enregistrer", "Save")}</button>
                    " "
                    <button type="button" class="secondaire" on:click=move |_| renaming.set(false)>{move || t("Annuler", "Cancel")}</button>
                </form>
            </Show>
            " "
            <input type="file" class="fichier-cache" id=replace_id.clone() on:change=replace disabled=working
                accept=".pdf,image/*,.doc,.docx,.odt,.xls,.xlsx,.ods,.ppt,.pptx,.odp,.txt,.rtf"/>
            <label class="bouton-fichier" for=replace_id>{move || if working.get() { t("Chiffrement…", "Encrypting…").to_string() } else if en() { format!("Replace the file of annex no. {numero}") } else { format!("Remplacer le fichier de l'annexe n° {numero}") }}</label>
            " "
            <button type="button" class="lien" id=format!("supprimer-annexe-{place}")
                aria-label=move || if en() { format!("Delete annex no. {numero}") } else { format!("Supprimer l'annexe n° {numero}") }
                on:click=delete>{move || t("Supprimer", "Delete")}</button>
        </div>
    }
}

/// The deleted annexes, their files still on the server: restored, or erased for good.
#[component]
fn AnnexesBin(done: RwSignal<Option<(String, Option<usize>)>>) -> impl IntoView {
    let st = EditorState::get();
    let deleted = Memo::new(move |_| {
        st.revision.get();
        session::with_open(|r| r.dossier().deleted_annexes()).unwrap_or_default()
    });
    view! {
        <Show when=move || deleted.with(|d| !d.is_empty())>
            <details class="corbeille" id="corbeille-annexes">
                <summary>{move || {
                    let n = deleted.with(Vec::len);
                    if en() { format!("Deleted annexes ({n})") } else { format!("Annexes supprimées ({n})") }
                }}</summary>
                <p class="aide">{move || t(
                    "Leurs fichiers restent sur le serveur (chiffrés) tant que vous ne les effacez pas : une suppression se rattrape.",
                    "Their files stay on the server (encrypted) until you erase them: a deletion can be undone.",
                )}</p>
                <ul>
                    <For each=move || deleted.get() key=|a| (a.place, a.titre.clone()) let:annexe>
                        <BinItem annexe=annexe done=done/>
                    </For>
                </ul>
            </details>
        </Show>
    }
}

#[component]
fn BinItem(
    annexe: livret_shared::dossier::Annexe,
    done: RwSignal<Option<(String, Option<usize>)>>,
) -> impl IntoView {
    let st = EditorState::get();
    let place = annexe.place;
    let confirming = RwSignal::new(false);
    let titre = annexe.titre.clone();
    let restore = move |_| {
        if let Ok(Ok(n)) = session::with_open(|r| r.dossier().restore_annexe(place)) {
            persist(st);
            done.set(Some((
                if en() {
                    format!("Restored: it is annex no. {n}.")
                } else {
                    format!("Rétablie : c'est l'annexe n° {n}.")
                },
                None,
            )));
        }
    };
    let erase = move |_| {
        let titre = titre.clone();
        spawn_local(async move {
            match session::erase_deleted_evidence(place).await {
                Ok(()) => {
                    persist(st);
                    let _ = done.try_set(Some((
                        if en() {
                            format!("“{titre}” is erased: its file has left the server.")
                        } else {
                            format!("« {titre} » est effacée : son fichier a quitté le serveur.")
                        },
                        None,
                    )));
                }
                Err(e) => {
                    let _ = done.try_set(Some((
                        if en() {
                            format!("Not erased (it stays in the bin): {e}")
                        } else {
                            format!("Pas effacée (elle reste dans la corbeille) : {e}")
                        },
                        None,
                    )));
                }
            }
        });
    };
    view! {
        <li data-corbeille=place>
            {annexe.titre.clone()}" ("{annexe.fichier.clone()}") "
            <button type="button" class="lien" id=format!("retablir-annexe-{place}") on:click=restore>{move || t("Rétablir", "Restore")}</button>
            " "
            <Show when=move || confirming.get() fallback=move || view! {
                <button type="button" class="lien" id=format!("effacer-annexe-{place}") on:click=move |_| {
                    confirming.set(true);
                    focus_soon(format!("confirmer-effacement-{place}"), None);
                }>{move || t("Effacer définitivement", "Erase for good")}</button>
            }>
                <button type="button" class="danger" id=format!("confirmer-effacement-{place}") on:click=erase.clone()>{move || t("Effacer le fichier du serveur, pour de bon", "Erase the file from the server, for good")}</button>
                " "
                <button type="button" class="lien" id=format!("garder-annexe-{place}") on:click=move |_| {
                    confirming.set(false);
                    focus_soon(format!("effacer-annexe-{place}"), None);
                }>{move || t("Garder", "Keep it")}</button>
            </Show>
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{self, Lang};

    #[test]
    fn sizes_are_written_the_way_each_language_writes_them() {
        i18n::set(Lang::Fr);
        assert_eq!(human_size(512), "512 o");
        assert_eq!(human_size(2048), "2 Ko");
        assert_eq!(human_size(1536 * 1024), "1,5 Mo");
        i18n::set(Lang::En);
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(1536 * 1024), "1.5 MB");
    }
}
