//! Why something the session was asked did not happen. An error carries its words in both
//! languages and is worded when it is shown ([`Error::words`]; `Display` takes the language
//! of the moment), so the core's French texts do not reach the English screens and a message
//! on screen changes language with the rest of the page.

use std::fmt;

use livret_shared::words::Worded;

use crate::i18n;
use crate::idb::DbError;

#[derive(Clone, Debug, PartialEq)]
pub enum Error {
    /// A sentence of the app's or the core's, in both languages.
    Said { fr: String, en: String },
    /// The browser's own words (IndexedDB, a file read), shown as they are.
    Browser(String),
    /// What the relay said when it turned a request down.
    RelaySaid(String),
    /// The relay refused: its detail (in French, the relay's language) and its reason.
    RelayRefused {
        detail: String,
        reason: livret_shared::protocol::Rejection,
    },
    /// A failure about something named (a dossier, a file): "name: problem".
    About {
        subject: String,
        problem: Box<Error>,
    },
}

impl Error {
    /// The app's sentence, in French and in English.
    pub fn said(fr: impl Into<String>, en: impl Into<String>) -> Error {
        Error::Said {
            fr: fr.into(),
            en: en.into(),
        }
    }

    /// The browser's (or the PDF module's) own words.
    pub fn browser(text: impl fmt::Display) -> Error {
        Error::Browser(text.to_string())
    }

    /// A failure about `subject` (French typography puts a space before the colon).
    pub fn about(subject: impl fmt::Display, problem: impl Into<Error>) -> Error {
        Error::About {
            subject: subject.to_string(),
            problem: Box::new(problem.into()),
        }
    }

    /// The error in English when `english`, else in French.
    pub fn words(&self, english: bool) -> String {
        match (self, english) {
            (Error::Said { en, .. }, true) => en.clone(),
            (Error::Said { fr, .. }, false) => fr.clone(),
            (Error::Browser(text), _) => text.clone(),
            (Error::RelaySaid(detail), true) => format!("server: {detail}"),
            (Error::RelaySaid(detail), false) => format!("serveur : {detail}"),
            // The relay's detail in English when this version knows it; else the refusal's
            // reason, worded here, with the relay's own words quoted.
            (Error::RelayRefused { detail, reason }, true) => {
                match livret_shared::words::relay_detail_english(detail) {
                    Some(said) => format!("the server refused: {said}"),
                    None => format!("the server refused: {} (“{detail}”)", reason.english()),
                }
            }
            (Error::RelayRefused { detail, .. }, false) => {
                format!("le serveur a refusé : {detail}")
            }
            (Error::About { subject, problem }, true) => {
                format!("{subject}: {}", problem.words(true))
            }
            (Error::About { subject, problem }, false) => {
                format!("{subject} : {}", problem.words(false))
            }
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.words(i18n::en()))
    }
}

/// Every error of the core says itself in both languages.
impl<E: Worded> From<E> for Error {
    fn from(e: E) -> Error {
        Error::Said {
            fr: e.to_string(),
            en: e.english(),
        }
    }
}

impl From<DbError> for Error {
    fn from(e: DbError) -> Error {
        Error::Browser(e.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;
    use livret_shared::sync::SyncError;

    #[test]
    fn an_error_is_worded_in_the_language_shown_when_it_is_shown() {
        let e = Error::about("cv.pdf", Error::from(SyncError::ReadOnly));
        i18n::set(Lang::Fr);
        assert_eq!(
            e.to_string(),
            "cv.pdf : lecture seule : les jurés ne modifient pas le dossier"
        );
        // The same error, shown again after a switch: no French left in it.
        i18n::set(Lang::En);
        assert_eq!(
            e.to_string(),
            "cv.pdf: read only: jurors do not change the dossier"
        );
        let refused = Error::RelayRefused {
            detail: "seul le candidat renouvelle la conservation de son dossier".into(),
            reason: livret_shared::protocol::Rejection::Forbidden,
        };
        assert_eq!(
            refused.words(false),
            "le serveur a refusé : seul le candidat renouvelle la conservation de son dossier"
        );
        assert_eq!(
            refused.words(true),
            "the server refused: only the candidate renews their dossier's retention"
        );
        // A detail this version does not know: the reason in English, the words quoted.
        let newer = Error::RelayRefused {
            detail: "motif d'un relais plus récent".into(),
            reason: livret_shared::protocol::Rejection::Forbidden,
        };
        assert_eq!(
            newer.words(true),
            "the server refused: not allowed for this member (“motif d'un relais plus récent”)"
        );
    }
}
