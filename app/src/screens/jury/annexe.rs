//! Annotating an annexe: a region drawn on an image or a PDF page.

use super::*;

/// An annexe opened by a juror to annotate it.
#[derive(Clone, PartialEq)]
pub(super) enum OpenedAnnexe {
    /// A PDF's text, page by page, read on this device.
    Pdf { annexe: u32, pages: Vec<String> },
    /// An image, by its `blob:` address.
    Image { annexe: u32, url: String },
}

/// A region of an image, in percent of its width and height (what the inputs show).
#[derive(Clone, Copy, PartialEq, Default)]
pub(super) struct Region {
    pub(super) x: f64,
    pub(super) y: f64,
    pub(super) w: f64,
    pub(super) h: f64,
}

/// The point of a mouse event on the image, in percent of its displayed size.
pub(super) fn percent_point(ev: &leptos::ev::MouseEvent) -> Option<(f64, f64)> {
    let target: web_sys::Element = ev.target()?.dyn_into().ok()?;
    let (width, height) = (target.client_width(), target.client_height());
    (width > 0 && height > 0).then(|| {
        let clamp = |v: f64| v.clamp(0.0, 100.0);
        (
            clamp(f64::from(ev.offset_x()) * 100.0 / f64::from(width)),
            clamp(f64::from(ev.offset_y()) * 100.0 / f64::from(height)),
        )
    })
}

/// Annotating an annexe: a passage of a PDF page (the file decrypted and its text read on
/// this device, by the PDF module) or a region of an image (drawn with the mouse, or typed
/// in percent, so the keyboard alone does it too).
#[component]
pub(super) fn AnnoterAnnexe() -> impl IntoView {
    let st = EditorState::get();
    let opened = RwSignal::new(None::<OpenedAnnexe>);
    let page = RwSignal::new(1usize);
    let region = RwSignal::new(Region::default());
    let drag_from = RwSignal::new(None::<(f64, f64)>);
    let busy = RwSignal::new(None::<String>);
    let message = RwSignal::new(None::<Result<String, String>>);
    let choices = move || {
        st.annexes
            .get()
            .into_iter()
            .filter(|a| a.blob.is_some())
            .map(|a| {
                view! { <option value=a.numero.to_string()>{format!("A{} — {}", a.numero, a.titre)}</option> }
            })
            .collect_view()
    };
    // The annexe chosen; none chosen yet is the first listed.
    let chosen = RwSignal::new(None::<u32>);
    let open = move |_| {
        message.set(None);
        let with_file: Vec<_> = st
            .annexes
            .get_untracked()
            .into_iter()
            .filter(|a| a.blob.is_some())
            .collect();
        let annexe = match chosen.get_untracked() {
            Some(numero) => with_file.into_iter().find(|a| a.numero == numero),
            None => with_file.into_iter().next(),
        };
        let Some(annexe) = annexe else {
            message.set(Some(Err(t(
                "Choisissez une annexe qui a un fichier.",
                "Choose an annex that has a file.",
            )
            .into())));
            return;
        };
        busy.set(Some(t("Lecture de l'annexe…", "Reading the annex…").into()));
        leptos::task::spawn_local(async move {
            let progress = move |done: u32, total: u32| {
                busy.set(Some(format!(
                    "{} {done} / {total}",
                    t("Morceaux du fichier reçus :", "File pieces received:")
                )));
            };
            let result = if annexe.media_type.starts_with("image/") {
                session::open_evidence(annexe.place, &progress)
                    .await
                    .map(|url| OpenedAnnexe::Image {
                        annexe: annexe.numero,
                        url,
                    })
            } else {
                session::annexe_pages(annexe.place, &progress)
                    .await
                    .map(|pages| OpenedAnnexe::Pdf {
                        annexe: annexe.numero,
                        pages,
                    })
            };
            busy.set(None);
            match result {
                Ok(o) => {
                    page.set(1);
                    region.set(Region::default());
                    // The image shown before is let go (its decrypted bytes with it).
                    if let Some(OpenedAnnexe::Image { url, .. }) = opened.get_untracked() {
                        let _ = web_sys::Url::revoke_object_url(&url);
                    }
                    opened.set(Some(o));
                }
                Err(e) => message.set(Some(Err(format!(
                    "{} {e}",
                    t("Annexe illisible :", "Annex unreadable:")
                )))),
            }
        });
    };
    let region_input = move |id: &'static str, label_fr: &'static str, label_en: &'static str| {
        let read = move || {
            let r = region.get();
            let v = match id {
                "region-x" => r.x,
                "region-y" => r.y,
                "region-l" => r.w,
                _ => r.h,
            };
            format!("{v:.0}")
        };
        let write = move |ev: leptos::ev::Event| {
            let v: f64 = event_target_value(&ev).parse().unwrap_or(0.0);
            region.update(|r| match id {
                "region-x" => r.x = v,
                "region-y" => r.y = v,
                "region-l" => r.w = v,
                _ => r.h = v,
            });
        };
        view! {
            <label for=id>{move || t(label_fr, label_en)}</label>
            <input type="number" id=id min="0" max="100" step="1" prop:value=read on:input=write/>
        }
    };
    let shown = move || {
        opened.get().map(|o| match o {
            OpenedAnnexe::Pdf { annexe, pages } => {
                let count = pages.len();
                let text =
                    move || pages.get(page.get().saturating_sub(1)).cloned().unwrap_or_default();
                let options = (1..=count)
                    .map(|n| view! { <option value=n.to_string()>{n.to_string()}</option> })
                    .collect_view();
                view! {
                    <p data-testid="annexe-ouverte">{format!("A{annexe} — {count} {}", t("page(s)", "page(s)"))}</p>
                    <label for="page-annexe">{t("Page", "Page")}</label>
                    <select id="page-annexe" on:change=move |ev| page.set(event_target_value(&ev).parse().unwrap_or(1))>
                        {options}
                    </select>
                    <label for="texte-page">{t("Texte de la page (sélectionnez le passage à annoter)", "The page's text (select the passage to annotate)")}</label>
                    <textarea id="texte-page" readonly rows="10" prop:value=text></textarea>
                }
                .into_any()
            }
            OpenedAnnexe::Image { annexe, url } => {
                let frame = move || {
                    let r = region.get();
                    (r.w > 0.0 && r.h > 0.0).then(|| {
                        let style = format!(
                            "left:{}%;top:{}%;width:{}%;height:{}%",
                            r.x, r.y, r.w, r.h
                        );
                        view! { <div class="region" style=style aria-hidden="true"></div> }
                    })
                };
                let down = move |ev: leptos::ev::MouseEvent| {
                    ev.prevent_default();
                    drag_from.set(percent_point(&ev));
                };
                let up = move |ev: leptos::ev::MouseEvent| {
                    if let (Some((x0, y0)), Some((x1, y1))) = (drag_from.get_untracked(), percent_point(&ev)) {
                        region.set(Region {
                            x: x0.min(x1).round(),
                            y: y0.min(y1).round(),
                            w: (x1 - x0).abs().round(),
                            h: (y1 - y0).abs().round(),
                        });
                    }
                    drag_from.set(None);
                };
                view! {
                    <p data-testid="annexe-ouverte">{format!("A{annexe} — {}", t("image", "image"))}</p>
                    <p class="aide">{t(
                        "Tracez la région sur l'image avec la souris, ou indiquez-la en pourcentage de la largeur et de la hauteur.",
                        "Draw the region on the image with the mouse, or give it in percent of the width and height.",
                    )}</p>
                    <div class="image-annexe">
                        <img src=url alt=t("L'annexe à annoter", "The annex to annotate") on:mousedown=down on:mouseup=up draggable="false"/>
                        {frame}
                    </div>
                    <div class="region-saisie">
                        {region_input("region-x", "Gauche (%)", "Left (%)")}
                        {region_input("region-y", "Haut (%)", "Top (%)")}
                        {region_input("region-l", "Largeur (%)", "Width (%)")}
                        {region_input("region-h", "Hauteur (%)", "Height (%)")}
                    </div>
                }
                .into_any()
            }
        })
    };
    let save = move |_| {
        message.set(None);
        let body = input_value("annotation-annexe");
        if body.trim().is_empty() {
            message.set(Some(Err(t(
                "L'annotation est vide.",
                "The annotation is empty.",
            )
            .into())));
            return;
        }
        let target = match opened.get_untracked() {
            None => return,
            Some(OpenedAnnexe::Pdf { annexe, pages }) => {
                let number = page.get_untracked();
                let text = pages
                    .get(number.saturating_sub(1))
                    .cloned()
                    .unwrap_or_default();
                // The browser counts UTF-16 units; the quote is cut in characters.
                let quote = selection("texte-page").map(|(from, to, shown)| {
                    let (from, to) = (char_index(&shown, from), char_index(&shown, to));
                    shown.chars().skip(from).take(to - from).collect::<String>()
                });
                match quote.and_then(|q| review::pdf_quote(&text, &q)) {
                    Some(quote) => Target::PdfPage {
                        annexe,
                        page: number as u32,
                        quote,
                    },
                    None => {
                        message.set(Some(Err(t(
                            "Sélectionnez d'abord un passage du texte de la page.",
                            "Select a passage of the page's text first.",
                        )
                        .into())));
                        return;
                    }
                }
            }
            Some(OpenedAnnexe::Image { annexe, .. }) => {
                let r = region.get_untracked();
                let fraction = |v: f64| (v / 100.0) as f32;
                match Target::image_region(
                    annexe,
                    fraction(r.x),
                    fraction(r.y),
                    fraction(r.w),
                    fraction(r.h),
                ) {
                    Some(target) => target,
                    None => {
                        message.set(Some(Err(t(
                            "La région doit être tracée et tenir dans l'image.",
                            "The region must be drawn and lie inside the image.",
                        )
                        .into())));
                        return;
                    }
                }
            }
        };
        match save_annotation(st, target, &body) {
            Ok(()) => {
                // Emptied for the next one (saved, the text is in the list below).
                if let Some(area) = web_sys::window()
                    .and_then(|w| w.document())
                    .and_then(|d| d.get_element_by_id("annotation-annexe"))
                    .and_then(|e| e.dyn_into::<web_sys::HtmlTextAreaElement>().ok())
                {
                    area.set_value("");
                }
                message.set(Some(Ok(
                    t("Annotation enregistrée.", "Annotation saved.").into()
                )));
            }
            Err(e) => message.set(Some(Err(e.to_string()))),
        }
    };
    view! {
        <section aria-labelledby="titre-annoter-annexe" data-testid="annoter-annexe">
            <h4 id="titre-annoter-annexe">{move || t("Annoter une annexe", "Annotate an annex")}</h4>
            <label for="annexe-a-annoter">{move || t("Annexe", "Annex")}</label>
            <select id="annexe-a-annoter" on:change=move |ev| chosen.set(event_target_value(&ev).parse().ok())>{choices}</select>
            <button type="button" id="lire-annexe" on:click=open>{move || t("Ouvrir l'annexe", "Open the annex")}</button>
            {move || busy.get().map(|b| view! { <p role="status" data-testid="lecture-annexe">{b}</p> })}
            {shown}
            {move || opened.get().is_some().then(|| view! {
                <label for="annotation-annexe">{t("Votre annotation", "Your annotation")}</label>
                <textarea id="annotation-annexe" rows="3"></textarea>
                <button type="button" id="enregistrer-annotation-annexe" on:click=save>{t("Enregistrer l'annotation", "Save the annotation")}</button>
            })}
            {move || message.get().map(|m| match m {
                Ok(m) => view! { <p role="status" data-testid="annotation-annexe-etat">{m}</p> }.into_any(),
                Err(e) => view! { <p class="erreur" role="alert" data-testid="annotation-annexe-etat">{e}</p> }.into_any(),
            })}
        </section>
    }
}
