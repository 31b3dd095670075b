//! French first, English available. Every text the app shows goes through [`t`] (or branches
//! on [`en`] when it is built with `format!`): both read the language signal, so a view that
//! calls them inside a closure is redrawn when the language changes. The choice is kept in
//! the browser (`localStorage`, not a secret) and given to `<html lang>` for screen readers.

use leptos::prelude::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Fr,
    En,
}

impl Lang {
    /// The BCP 47 tag, for `lang` attributes.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }
}

/// `localStorage` key of the choice.
const STORAGE_KEY: &str = "livret-langue";

thread_local! {
    // Reference-counted rather than arena-owned: it lives as long as the page, outside any
    // component.
    static LANG: ArcRwSignal<Lang> = ArcRwSignal::new(saved_choice());
}

/// The browser's `localStorage`; none outside a browser (the app's unit tests run natively,
/// where calling into JavaScript would panic).
fn storage() -> Option<web_sys::Storage> {
    if !cfg!(target_arch = "wasm32") {
        return None;
    }
    web_sys::window()?.local_storage().ok().flatten()
}

fn saved_choice() -> Lang {
    match storage().and_then(|s| s.get_item(STORAGE_KEY).ok().flatten()) {
        Some(tag) if tag == "en" => Lang::En,
        _ => Lang::Fr,
    }
}

/// The language shown (tracked: a closure reading it is run again on a change).
pub fn lang() -> Lang {
    LANG.with(|l| l.get())
}

/// Whether the app speaks English (tracked).
pub fn en() -> bool {
    lang() == Lang::En
}

/// The text in the language shown (tracked).
pub fn t(fr: &'static str, en: &'static str) -> &'static str {
    if self::en() { en } else { fr }
}

/// Switches the language, remembers it, and tells the page.
pub fn set(lang: Lang) {
    LANG.with(|l| l.set(lang));
    if let Some(s) = storage() {
        let _ = s.set_item(STORAGE_KEY, lang.tag());
    }
    mark_page(lang);
}

/// Gives `<html lang>` the language shown (at start-up, and on each change).
pub fn mark_page(lang: Lang) {
    if !cfg!(target_arch = "wasm32") {
        return;
    }
    if let Some(html) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = html.set_attribute("lang", lang.tag());
    }
}

/// Marks the page with the saved choice: called once at start-up.
pub fn init() {
    mark_page(LANG.with(|l| l.get_untracked()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_follow_the_language_chosen() {
        set(Lang::Fr);
        assert_eq!(t("Enregistré", "Saved"), "Enregistré");
        assert!(!en());
        set(Lang::En);
        assert_eq!(t("Enregistré", "Saved"), "Saved");
        assert_eq!(lang().tag(), "en");
    }
}
