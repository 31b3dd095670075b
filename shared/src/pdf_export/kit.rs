//! The recovery kit on paper: a page to print or keep, made on the device like the livret
//! (the kit never leaves the device: the PDF is a `blob:` address the candidate saves).

use std::io::Write;

use super::PdfExportError;
use super::jury::{load, write_document};
use super::layout::{BODY, LABEL, Typesetter};
use super::livret::FontFiles;
use crate::keys::kit_groups;

/// The kit `secret` as a one-page PDF, in French or in English, dated `date` (as the caller
/// words it): its two lines cut in groups of four, with what it is for and how to keep it.
pub fn recovery_kit<W: Write>(
    secret: &str,
    english: bool,
    date: &str,
    fonts: FontFiles,
    out: W,
) -> Result<W, PdfExportError> {
    let mut fonts = load(fonts)?;
    let mut t = Typesetter::new(&mut fonts);
    let say = |fr: &'static str, en: &'static str| if english { en } else { fr };
    t.heading(
        say("Livret — kit de secours", "Livret — recovery kit"),
        18.0,
        30.0,
    );
    t.paragraph(BODY, date, 0.0);
    t.space(6.0);
    t.paragraph(
        BODY,
        say(
            "Si vous perdez votre appareil ou oubliez votre phrase de passe, ce kit permet à un \
             nouvel appareil (ou à celui-ci, « Phrase de passe oubliée ? ») de retrouver vos \
             dossiers. Quiconque le détient le peut aussi : gardez cette page en lieu sûr, ne \
             l'envoyez à personne, ne la photographiez pas.",
            "If you lose your device or forget your passphrase, this kit lets a new device (or \
             this one, “Forgot your passphrase?”) get your dossiers back. Anyone who holds it \
             can do the same: keep this page somewhere safe, send it to no one, do not take a \
             photo of it.",
        ),
        0.0,
    );
    t.space(10.0);
    for (n, groups) in kit_groups(secret).iter().enumerate() {
        let label = if english {
            format!("Line {}", n + 1)
        } else {
            format!("Ligne {}", n + 1)
        };
        t.boxed(&label, &groups.join("  "));
        t.space(6.0);
    }
    t.paragraph(
        LABEL,
        say(
            "Pour l'utiliser : « un nouvel appareil, avec mon kit de secours », puis recopiez les \
             deux lignes (les espaces ne comptent pas).",
            "To use it: “a new device, with my recovery kit”, then copy both lines (spaces do \
             not matter).",
        ),
        0.0,
    );
    let pages = std::mem::take(&mut t.pages);
    let title = say("Livret — kit de secours", "Livret — recovery kit");
    write_document(title, title, pages, fonts, out)
}
