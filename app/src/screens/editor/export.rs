//! Documents made on this device from the editor: the Livret 2 as PDF, the JSON export.

use super::*;

/// How far a document made from the annexes is: a bar over their bytes (empty until there
/// are bytes to count) and the annexes done.
#[component]
fn AnnexesProgress(
    progress: livret_shared::export::Progress,
    id: &'static str,
    label: (&'static str, &'static str),
) -> impl IntoView {
    if progress.annexes_total == 0 && progress.bytes_total == 0 {
        // Nothing counted yet (the PDF module and the fonts load): no "annexes 0/0".
        return view! {
            " "
            <progress id=id max="100" aria-label=move || t(label.0, label.1)></progress>
            <span aria-live="polite">{format!(" {}", t("préparation…", "getting ready…"))}</span>
        }
        .into_any();
    }
    let percent = if progress.bytes_total == 0 {
        0
    } else {
        progress.percent()
    };
    view! {
        " "
        <progress id=id max="100" value=percent aria-label=move || t(label.0, label.1)></progress>
        <span aria-live="polite">{format!(
            " {} {}/{}",
            t("annexes", "annexes"),
            progress.annexes_done,
            progress.annexes_total
        )}</span>
    }
    .into_any()
}

/// The Livret 2 as PDF, made on this device (the relay never sees it), with its progress
/// while the annexes go in, then a download link and what could not be printed.
/// What to look at before exporting: each check, the ones left first with what to do and a
/// way to the field. It explains; the export stays possible (a draft is legitimate).
#[component]
fn BeforeExport() -> impl IntoView {
    let st = EditorState::get();
    let checks = Memo::new(move |_| {
        st.revision.track();
        session::export_checks().unwrap_or_default()
    });
    // A fiche's field is named by the fiche's position as shown; its id by its place.
    let field_id = move |field: &str| -> Option<String> {
        // No fiche yet: the way to one is the button that adds it.
        if field == "fiches" {
            return Some("ajouter-fiche".into());
        }
        match field.strip_prefix("fiches.") {
            Some(rest) => {
                let (shown, key) = rest.split_once('.')?;
                let place = st
                    .fiches
                    .get_untracked()
                    .get(shown.parse::<usize>().ok()?)
                    .copied()?;
                Some(control_id(&format!("fiches.{place}.{key}")))
            }
            None => Some(control_id(field)),
        }
    };
    view! {
        <div class="verifications" data-testid="verifications">
            <p>{move || {
                let left = checks.get().iter().filter(|c| !c.ok).count();
                match (left, en()) {
                    (0, false) => "Tout ce que l'on vérifie avant un dépôt est en place.".to_string(),
                    (0, true) => "Everything checked before filing is in place.".to_string(),
                    (n, false) => format!("À revoir avant de déposer : {n} point(s). L'export reste possible (un brouillon, par exemple)."),
                    (n, true) => format!("To review before filing: {n} point(s). You can still export (a draft, say)."),
                }
            }}</p>
            <ul>
                {move || {
                    let mut all = checks.get();
                    all.sort_by_key(|c| c.ok);
                    all.into_iter().map(|c| {
                        let go = c.field.as_deref().and_then(field_id);
                        let (what, advice) = (c.what.clone(), c.advice.clone());
                        view! {
                            <li class=if c.ok { "fait" } else { "a-revoir" }
                                data-champ=c.field.clone().unwrap_or_default()>
                                {move || if c.ok {
                                    format!("✓ {}", if en() { &what.1 } else { &what.0 })
                                } else if en() {
                                    format!("To review — {}: {}", what.1, advice.1)
                                } else {
                                    format!("À revoir — {} : {}", what.0, advice.0)
                                }}
                                {(!c.ok).then_some(go).flatten().map(|id| view! {
                                    " "
                                    <button type="button" class="lien"
                                        on:click=move |_| focus_soon(id.clone(), None)>
                                        {move || t("Y aller", "Go there")}
                                    </button>
                                })}
                            </li>
                        }
                    }).collect_view()
                }}
            </ul>
        </div>
    }
}

#[component]
pub(super) fn ExportPdf() -> impl IntoView {
    let busy = RwSignal::new(None::<livret_shared::export::Progress>);
    let made = RwSignal::new(None::<Result<session::ExportedPdf, String>>);
    // The checks read the whole dossier: only while the panel is open.
    let open = RwSignal::new(false);
    let start = move |_| {
        if busy.get_untracked().is_some() {
            return;
        }
        if let Some(Ok(old)) = made.get_untracked() {
            let _ = web_sys::Url::revoke_object_url(&old.url);
        }
        made.set(None);
        busy.set(Some(livret_shared::export::Progress::default()));
        leptos::task::spawn_local(async move {
            let result = session::export_pdf(&|p| busy.set(Some(p))).await;
            busy.set(None);
            made.set(Some(result.map_err(|e| e.to_string())));
        });
    };
    view! {
        <details class="export" id="export-pdf"
            on:toggle=move |ev| open.set(event_target::<web_sys::HtmlDetailsElement>(&ev).open())>
            <summary>{move || t("Exporter le livret (PDF)", "Export the livret (PDF)")}</summary>
            <p class="aide">{move || {
                let model = open_template();
                if en() {
                    format!("The {} in its template's order and words ({}): cover, contents, your sections and sheets, the declaration on honour, then the annexes (PDFs reproduced, images, other files listed with their fingerprint). The PDF is made on this device and is not encrypted: keep it safe.", model.document_en, model.title_en)
                } else {
                    format!("Le {} dans l'ordre et les mots de son modèle ({}) : couverture, sommaire, vos rubriques et vos fiches, la déclaration sur l'honneur, puis les annexes (PDF reproduits, images, autres fichiers listés avec leur empreinte). Le PDF est fait sur cet appareil ; il n'est pas chiffré : gardez-le en lieu sûr.", model.document_fr, model.title_fr)
                }
            }}</p>
            {move || open.get().then(|| view! { <BeforeExport/> })}
            <button type="button" id="exporter-pdf" on:click=start
                prop:disabled=move || busy.get().is_some()>
                {move || t("Exporter le livret", "Export the livret")}
            </button>
            {move || busy.get().map(|p| view! {
                <AnnexesProgress progress=p id="pdf-progression"
                    label=("Progression de l'export", "Export progress")/>
            })}
            {move || made.get().map(|made| match made {
                Ok(made) => view! {
                    " "
                    <a id="telecharger-pdf" href=made.url download=made.file_name.clone()>
                        {
                            let name = made.file_name.clone();
                            move || if en() { format!("Download {name}") } else { format!("Télécharger {name}") }
                        }
                    </a>
                    <ul class="avertissements" data-testid="pdf-avertissements">
                        {made.notices.into_iter().map(|n| view! {
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

/// The dossier as France VAE takes it (one file of at most 10 MB and at most 8 additional
/// files), made on this device: its progress, then a link per file with its size, or every
/// reason it cannot be handed over.
#[component]
pub(super) fn ExportFranceVae() -> impl IntoView {
    let busy = RwSignal::new(None::<livret_shared::export::Progress>);
    let made = RwSignal::new(None::<Result<Vec<session::Download>, String>>);
    let start = move |_| {
        if busy.get_untracked().is_some() {
            return;
        }
        if let Some(Ok(old)) = made.get_untracked() {
            for file in old {
                let _ = web_sys::Url::revoke_object_url(&file.url);
            }
        }
        made.set(None);
        busy.set(Some(livret_shared::export::Progress::default()));
        leptos::task::spawn_local(async move {
            let result = session::export_france_vae(&|p| busy.set(Some(p))).await;
            busy.set(None);
            made.set(Some(result.map_err(|e| e.to_string())));
        });
    };
    let megabytes = |bytes: u64| {
        let mb = livret_shared::export::megabytes(bytes);
        if en() {
            mb.replace(',', ".").replace("Mo", "MB")
        } else {
            mb
        }
    };
    view! {
        <details class="export" id="export-france-vae">
            <summary>{move || t("Préparer le dépôt sur France VAE", "Prepare the filing on France VAE")}</summary>
            <p class="aide">{move || t(
                "France VAE prend le dossier de validation en un seul fichier de 10 Mo au plus, et jusqu'à 8 fichiers complémentaires. Livret en fait le PDF sur cet appareil : les scans et les photos y sont ramenés à 150 points par pouce, lisibles à l'écran comme sur papier ; les annexes qui n'y tiennent pas deviennent des fichiers complémentaires, numérotés comme dans le livret. Vos fichiers d'origine ne changent pas.",
                "France VAE takes the dossier de validation as one file of at most 10 MB, and up to 8 additional files. Livret makes the PDF on this device: scans and photos are brought down to 150 dots per inch, readable on screen and on paper; the annexes that do not fit become additional files, numbered as in the livret. Your original files do not change.",
            )}</p>
            <button type="button" id="preparer-france-vae" on:click=start
                prop:disabled=move || busy.get().is_some()>
                {move || t("Préparer les fichiers", "Prepare the files")}
            </button>
            {move || busy.get().map(|p| view! {
                <AnnexesProgress progress=p id="france-vae-progression"
                    label=("Préparation du dépôt", "Preparing the filing")/>
            })}
            {move || made.get().map(|made| match made {
                Ok(files) => view! {
                    <ul data-testid="fichiers-france-vae">
                        {files.into_iter().map(|f| {
                            let label = format!("{} — {}", f.name, megabytes(f.size));
                            view! {
                                <li><a href=f.url download=f.name.clone() data-taille=f.size.to_string()>{label}</a></li>
                            }
                        }).collect_view()}
                    </ul>
                }
                .into_any(),
                Err(e) => view! { <p class="erreur" role="alert" style="white-space: pre-line">{e}</p> }.into_any(),
            })}
        </details>
    }
}

/// The whole dossier as JSON, made on this device and downloaded (portability, GDPR access
/// requests): the same file as `livret dossier export`.
#[component]
pub(super) fn ExportJson() -> impl IntoView {
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
                link.set(Some(session::export_json().map_err(|e| e.to_string())));
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
