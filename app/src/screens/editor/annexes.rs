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

/// Where opening an annexe is: the `blob:` address once decrypted.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Opening {
    Idle,
    Working(String),
    Ready(String),
    Failed(session::Error),
}

#[component]
pub(super) fn AnnexeRow(annexe: livret_shared::dossier::Annexe) -> impl IntoView {
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
        </tr>
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
