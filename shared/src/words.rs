//! Errors in the user's language. Every error of the core that can reach a person says
//! itself in French — its `Display`, the product's first language — and in English
//! ([`Worded::english`]), written here beside each other so they stay the same sentence. The
//! app picks one when it shows the error (and again when the language changes); the CLI
//! prints the French.

use std::fmt::Display;

use crate::automerge_guard::GuardError;
use crate::comments::CommentError;
use crate::date::NotADate;
use crate::dossier::DossierError;
use crate::envelope::EnvelopeError;
use crate::evidence::EvidenceError;
use crate::exchange::ExchangeError;
use crate::export::ExportError;
use crate::field_path::UnknownField;
use crate::jury::JuryError;
use crate::keys::KeyError;
use crate::member_names::NameError;
use crate::membership::MembershipError;
use crate::protocol::{LoginRefused, Rejection};
use crate::referentiel::ImportError;
use crate::review::doc::JuryDocError;
use crate::sync::SyncError;

/// An error worded in French (`Display`) and in English.
pub trait Worded: Display {
    /// The same sentence in English.
    fn english(&self) -> String;

    /// The sentence in English when `english`, else in French.
    fn in_language(&self, english: bool) -> String {
        if english {
            self.english()
        } else {
            self.to_string()
        }
    }
}

impl Worded for GuardError {
    fn english(&self) -> String {
        match self {
            GuardError::Malformed(what) => format!("unreadable automerge data: {what}"),
            GuardError::TooLarge { limit, received } => format!(
                "automerge data refused: more than {limit} bytes once inflated, for {received} \
                 bytes received"
            ),
        }
    }
}

impl Worded for NameError {
    fn english(&self) -> String {
        match self {
            NameError::NotOwner => "only the candidate names the members of their dossier".into(),
            NameError::NotAMember => "this person is not a member of the dossier".into(),
            NameError::NotAKit => {
                "only one of the candidate's keys can be their recovery kit".into()
            }
            NameError::TooLong(n) => format!(
                "name too long ({n} characters; {} at most)",
                crate::member_names::MAX_NAME_CHARS
            ),
            NameError::NoKey => "this dossier's key is missing on this device".into(),
            NameError::Dossier(e) => e.english(),
        }
    }
}

impl Worded for CommentError {
    fn english(&self) -> String {
        match self {
            CommentError::Empty => "empty comment".into(),
            CommentError::TooLong(n) => format!(
                "comment too long ({n} characters; {} at most)",
                crate::comments::MAX_COMMENT_CHARS
            ),
            CommentError::NoSuchThread => {
                "this comment thread does not exist (or cannot be read on this device)".into()
            }
            CommentError::NoTeamKey => {
                "comments are for the candidate and their advisors only".into()
            }
            CommentError::Dossier(e) => e.english(),
        }
    }
}

impl Worded for NotADate {
    fn english(&self) -> String {
        "a date was expected (YYYY-MM-DD)".into()
    }
}

impl Worded for DossierError {
    fn english(&self) -> String {
        match self {
            DossierError::UnknownPath(path) => format!("unknown path: {path}"),
            DossierError::Corrupt(why) => format!("unreadable document: {why}"),
            DossierError::NotATick(value) => {
                format!("“{value}”: a box is ticked (“oui”) or left empty")
            }
            DossierError::NotAChoice(value, answers) => format!(
                "“{value}” is not one of the answers this question takes: {}",
                answers.join(", ")
            ),
            DossierError::NotADay(value) => format!("“{value}” is not a date (dd/mm/yyyy)"),
            DossierError::TooManyRepeats(section) => format!(
                "“{section}”: {} further sheets at most, deleted ones included",
                crate::dossier::MAX_REPEATS
            ),
        }
    }
}

impl Worded for UnknownField {
    fn english(&self) -> String {
        format!("unknown field: {}", self.0)
    }
}

impl Worded for EnvelopeError {
    fn english(&self) -> String {
        match self {
            EnvelopeError::TooLarge(n) => format!("envelope too large ({n} bytes)"),
            EnvelopeError::Malformed(what) => format!("malformed envelope: {what}"),
            EnvelopeError::BadSignature => "invalid signature".into(),
            EnvelopeError::Decrypt => "cannot decrypt (wrong key or altered content)".into(),
        }
    }
}

impl Worded for EvidenceError {
    fn english(&self) -> String {
        match self {
            EvidenceError::Key => "unreadable evidence key".into(),
            EvidenceError::Corrupt => "evidence piece unreadable or altered".into(),
            EvidenceError::TooLarge(n) => format!("file too large ({n} bytes; 100 MB at most)"),
        }
    }
}

impl Worded for JuryError {
    fn english(&self) -> String {
        match self {
            JuryError::Key(e) => e.english(),
            JuryError::Doc(e) => e.english(),
            JuryError::BadGrant => "the jury's key is unreadable or altered".into(),
            JuryError::NotGrantedByJuror => {
                "the jury's key was granted by someone who is not a juror".into()
            }
        }
    }
}

impl Worded for JuryDocError {
    fn english(&self) -> String {
        match self {
            JuryDocError::Corrupt(why) => format!("unreadable jury document: {why}"),
        }
    }
}

impl Worded for KeyError {
    fn english(&self) -> String {
        match self {
            KeyError::Identity(why) => format!("unreadable identity: {why}"),
            KeyError::Secret => "unreadable secret key".into(),
            KeyError::Unwrap => {
                "the dossier's key is unreadable or meant for another device".into()
            }
            KeyError::Passphrase => "wrong passphrase, or unreadable key store".into(),
        }
    }
}

impl Worded for MembershipError {
    fn english(&self) -> String {
        match self {
            MembershipError::Malformed => "malformed membership entry".into(),
            MembershipError::BadSignature => "invalid membership signature".into(),
            MembershipError::NotOwner => "only the candidate can change the members".into(),
            MembershipError::LastOwner => {
                "the dossier must keep at least one of the candidate's devices".into()
            }
            MembershipError::OutOfSequence { expected, got } => {
                format!("entry out of sequence (expected {expected}, got {got})")
            }
            MembershipError::BrokenChain => "broken chain with the previous entry".into(),
            MembershipError::WrongEpoch => "inconsistent key epoch".into(),
            MembershipError::UnknownMember => "unknown member".into(),
            MembershipError::MissingKey => "a member's key is missing".into(),
            MembershipError::OtherDossier => "entry for another dossier".into(),
            MembershipError::Demotion => "this member reads the comments: to take that right \
                                          away, remove them then invite them again (a new key \
                                          is then made)"
                .into(),
            MembershipError::NotAJurorsDevice => "a juror's other device is added as a juror, \
                                                  next to a juror of the dossier, and cannot be \
                                                  a member already"
                .into(),
            MembershipError::Key(e) => e.english(),
        }
    }
}

impl Worded for SyncError {
    fn english(&self) -> String {
        match self {
            SyncError::Envelope(e) => e.english(),
            SyncError::Membership(e) => e.english(),
            SyncError::Dossier(e) => e.english(),
            SyncError::Comment(e) => e.english(),
            SyncError::Name(e) => e.english(),
            SyncError::Jury(e) => e.english(),
            SyncError::JuryDoc(e) => e.english(),
            SyncError::Decision(e) => e.english(),
            SyncError::NotAJuror => "only jurors write a review".into(),
            SyncError::NotAMember => "this dossier is not shared with this device".into(),
            SyncError::NoKey(epoch) => format!("the key of epoch {epoch} is not on this device"),
            SyncError::OtherDossier => "envelope of another dossier".into(),
            SyncError::UnknownWriter => "envelope from a writer who is not a member".into(),
            SyncError::Corrupt => "unreadable local state".into(),
            SyncError::ReadOnly => "read only: jurors do not change the dossier".into(),
            SyncError::Forbidden => "envelope written by a member without the right to".into(),
            SyncError::NotTheAuthor => "changes signed by one member in another's name".into(),
            SyncError::NotTheOwnersPin => {
                "only the candidate changes a dossier's template or framework".into()
            }
            SyncError::Inflation(e) => e.english(),
            SyncError::ForgedSnapshot => {
                "snapshot refused: the history it says it covers is not the one it signed".into()
            }
            SyncError::MembershipWithheld { writer, epoch } => format!(
                "the relay kept a change of members from this device: device {writer} already \
                 writes for epoch {epoch} (a hidden removal?)"
            ),
            SyncError::ForeignLog => "the relay gives the membership log of another dossier \
                (another creation): refused, nothing changed on this device"
                .into(),
            SyncError::ConflictingLog => "the relay gives another sequel to the membership log \
                than the one this device already received from it: refused, nothing changed on \
                this device (a relay restored from an old backup?)"
                .into(),
        }
    }
}

impl Worded for crate::review::DecisionError {
    fn english(&self) -> String {
        match self {
            crate::review::DecisionError::CommentsRequired => "a partial admission or a refusal \
                needs the jury's comments (the official grid requires them)"
                .into(),
        }
    }
}

impl Worded for ExchangeError {
    fn english(&self) -> String {
        match self {
            // The relay's detail is in French: its reason, worded here, stands for it.
            ExchangeError::Refused { reason, .. } => {
                format!("refused by the relay: {}", reason.english())
            }
            ExchangeError::Removed(id) => format!(
                "this device is no longer a member of dossier {id}: the candidate removed it \
                 (what it had is erased from this device)"
            ),
            ExchangeError::NotAMember(id) => format!(
                "this device is not among the members of dossier {id} (its key is not the one \
                 the dossier knows): nothing is erased"
            ),
            ExchangeError::NotCreated => {
                "the relay does not know the dossier it has just created".to_string()
            }
            ExchangeError::Deleted { dossier, .. } => format!(
                "the candidate deleted dossier {dossier}: its copy is erased from this device"
            ),
            ExchangeError::UncheckedDeletion { dossier, why } => format!(
                "the relay says dossier {dossier} was deleted, without proof that the \
                 candidate wanted it ({}): nothing is erased on this device",
                why.english()
            ),
            ExchangeError::Sync(e) => e.english(),
        }
    }
}

/// What the relay says when it refuses (`ServerMsg::Rejected`'s detail, in French), in
/// English: the app's English screens show this rather than the relay's French. `None` for
/// a detail this version does not know (a newer relay's): the caller words the refusal's
/// [`Rejection`] and quotes the detail. The relay's tests check that every detail it writes
/// is here (`relay_details_are_all_worded_in_english`).
pub fn relay_detail_english(detail: &str) -> Option<String> {
    const SAID: &[(&str, &str)] = &[
        ("adhésion refusée", "membership refused"),
        ("adresse e-mail invalide", "invalid e-mail address"),
        ("authentification requise", "sign-in required"),
        (
            "avis de conservation illisible",
            "unreadable notice of retention",
        ),
        (
            "avis de suppression illisible",
            "unreadable notice of deletion",
        ),
        (
            "ce serveur n'envoie pas de courriel",
            "this server sends no e-mail",
        ),
        (
            "cet appareil n'est pas membre du dossier",
            "this device is not a member of the dossier",
        ),
        (
            "clé du jury d'une autre époque",
            "a jury key of another epoch",
        ),
        (
            "clé du jury pour un non-juré",
            "a jury key for someone who is not a juror",
        ),
        ("clé du jury trop grande", "jury key too large"),
        ("création refusée", "creation refused"),
        ("dossier inconnu", "unknown dossier"),
        (
            "dossier non suivi par cette connexion",
            "dossier not followed by this connection",
        ),
        ("délai d'authentification dépassé", "sign-in took too long"),
        ("entrée illisible", "unreadable entry"),
        (
            "espace des pièces du dossier épuisé",
            "the dossier's space for files is used up",
        ),
        ("identité illisible", "unreadable identity"),
        ("instantané refusé", "snapshot refused"),
        (
            "instantané sans couverture signée",
            "snapshot without a signed cover",
        ),
        ("invitation déjà utilisée", "invitation already used"),
        ("invitation expirée", "invitation expired"),
        ("invitation inconnue", "unknown invitation"),
        (
            "l'auteur n'est pas l'appareil connecté",
            "the writer is not the signed-in device",
        ),
        (
            "l'identité donnée n'est pas celle de cet appareil",
            "the identity given is not this device's",
        ),
        ("la date du jury est passée", "the jury's date has passed"),
        ("lecture seule", "read only"),
        ("morceau de pièce trop grand", "piece of file too large"),
        (
            "on invite un accompagnateur ou un juré",
            "one invites an advisor or a juror",
        ),
        ("pas membre du dossier", "not a member of the dossier"),
        ("pas un message de présence", "not a presence message"),
        (
            "pièce commencée par un autre appareil",
            "file started by another device",
        ),
        ("pièce inconnue du serveur", "file unknown to the server"),
        ("présence refusée", "presence refused"),
        ("présence trop longue", "presence too long"),
        ("serveur indisponible", "server unavailable"),
        (
            "réponse au défi invalide",
            "invalid answer to the challenge",
        ),
        (
            "réservé aux jurés du dossier",
            "for the dossier's jurors only",
        ),
        (
            "seul le candidat efface un fichier du dossier",
            "only the candidate erases a file of the dossier",
        ),
        (
            "seul le candidat peut supprimer son dossier",
            "only the candidate can delete their dossier",
        ),
        (
            "seul le candidat renouvelle la conservation de son dossier",
            "only the candidate renews their dossier's retention",
        ),
        (
            "seul le candidat voit ce que le serveur garde de son dossier",
            "only the candidate sees what the server keeps of their dossier",
        ),
        (
            "seul le candidat voit les demandes",
            "only the candidate sees the requests",
        ),
    ];
    if let Some((_, en)) = SAID.iter().find(|(fr, _)| *fr == detail) {
        return Some((*en).to_string());
    }
    // The details the relay writes with a number in them.
    let number = |text: &str| text.trim().parse::<u64>().ok();
    if let Some(n) = detail
        .strip_prefix("adhésion refusée : un dossier compte au plus ")
        .and_then(|rest| number(rest.strip_suffix(" membres")?))
    {
        return Some(format!(
            "membership refused: a dossier has {n} members at most"
        ));
    }
    if let Some(n) = detail
        .strip_prefix("enveloppe ")
        .and_then(|rest| rest.strip_suffix(" refusée"))
        .and_then(number)
    {
        return Some(format!("envelope {n} refused"));
    }
    let (index, expected) = detail
        .strip_prefix("morceau ")?
        .strip_suffix(')')?
        .split_once(" hors ordre (attendu ")?;
    Some(format!(
        "piece {} out of order (expected {})",
        number(index)?,
        number(expected)?
    ))
}

/// Why the relay refused, when its own detail (in French) is not shown: the app in English.
impl Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Rejection::Malformed => "message illisible",
            Rejection::TooLarge => "trop volumineux",
            Rejection::BadSignature => "signature invalide",
            Rejection::UnknownDossier => "dossier inconnu",
            Rejection::UnknownWriter => "cet appareil n'est pas membre du dossier",
            Rejection::WrongEpoch => "clé du dossier périmée (la liste des membres a changé)",
            Rejection::Replay => "message déjà reçu",
            Rejection::Gap => "des messages précédents manquent",
            Rejection::Forbidden => "non permis à ce membre",
            Rejection::BadMembership => "liste des membres invalide",
            Rejection::NotAuthenticated => "appareil non authentifié",
            Rejection::StaleSnapshot => "instantané périmé",
            Rejection::NotFound => "introuvable sur le serveur",
            Rejection::UnsupportedProtocol => "version du protocole non prise en charge",
        })
    }
}

impl Worded for Rejection {
    fn english(&self) -> String {
        match self {
            Rejection::Malformed => "unreadable message",
            Rejection::TooLarge => "too large",
            Rejection::BadSignature => "invalid signature",
            Rejection::UnknownDossier => "unknown dossier",
            Rejection::UnknownWriter => "this device is not a member of the dossier",
            Rejection::WrongEpoch => "outdated dossier key (the members changed)",
            Rejection::Replay => "message already received",
            Rejection::Gap => "earlier messages are missing",
            Rejection::Forbidden => "not allowed for this member",
            Rejection::BadMembership => "invalid member list",
            Rejection::NotAuthenticated => "device not authenticated",
            Rejection::StaleSnapshot => "outdated snapshot",
            Rejection::NotFound => "not found on the relay",
            Rejection::UnsupportedProtocol => "protocol version not supported",
        }
        .into()
    }
}

impl Worded for crate::deletion::DeletionError {
    fn english(&self) -> String {
        use crate::deletion::DeletionError;
        match self {
            DeletionError::Malformed => "unreadable deletion notice".into(),
            DeletionError::OtherDossier => "deletion notice for another dossier".into(),
            DeletionError::NotOwner => "only the candidate can delete their dossier".into(),
            DeletionError::BadSignature => "invalid deletion notice signature".into(),
            DeletionError::Outdated => {
                "the dossier's members changed since: sync, then delete again".into()
            }
            DeletionError::TooEarly => "the deletion notice takes effect at a later date".into(),
            DeletionError::Superseded => {
                "stale deletion notice: the candidate came back to the dossier since".into()
            }
            DeletionError::NoNotice => {
                "the relay erased its copy (its retention ended) without a notice from the \
                 candidate"
                    .into()
            }
        }
    }
}

impl Worded for LoginRefused {
    fn english(&self) -> String {
        match self {
            LoginRefused::RelayOutdated => {
                "the relay runs an older version than this device: it must be updated".into()
            }
            LoginRefused::DeviceOutdated => {
                "this version of Livret is too old for the relay: update it".into()
            }
            LoginRefused::Refused(detail) => format!("login refused ({detail})"),
            LoginRefused::Unexpected => "unexpected answer from the relay".into(),
        }
    }
}

impl Worded for ImportError {
    fn english(&self) -> String {
        match self {
            ImportError::Empty => "the file is empty".into(),
            ImportError::NotAReferentiel => {
                "no compétence found: this document does not look like a référentiel".into()
            }
            ImportError::Pdf(why) => format!("unreadable PDF: {why}"),
            ImportError::EncryptedPdf => {
                "encrypted PDF: remove its protection (password) and try again".into()
            }
            ImportError::PdfWithoutText => {
                "PDF without text (a scanned document?): a text or XML version is needed".into()
            }
            ImportError::PdfUnsupported => "PDF reading is not built into this version".into(),
            ImportError::Xml(why) => format!("invalid XML: {why}"),
            ImportError::NoFiche => "XML without an RNCP fiche (FICHES/FICHE expected)".into(),
        }
    }
}

impl Worded for ExportError {
    fn english(&self) -> String {
        match self {
            ExportError::NotJson(why) => {
                format!("unreadable file: this is not a Livret dossier export ({why})")
            }
            ExportError::OtherFormat(format) => {
                format!("this file is not a Livret dossier export (format “{format}”)")
            }
            ExportError::Version(v) => {
                format!("dossier export of version {v}, which this version of Livret cannot read")
            }
            ExportError::TooLarge(n) => format!("file too large ({n} bytes)"),
            ExportError::TooMany(section, n) => format!(
                "too many further “{section}” sheets in this file ({n}): Livret takes {} at most",
                crate::dossier::MAX_REPEATS
            ),
            ExportError::Dossier(e) => e.english(),
            ExportError::Template(e) => e.english(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_speaks_each_language_and_wraps_its_cause_in_the_same_one() {
        let e = SyncError::Membership(MembershipError::NotOwner);
        assert_eq!(e.to_string(), "seul le candidat peut modifier les membres");
        assert_eq!(e.english(), "only the candidate can change the members");
        assert_eq!(e.in_language(true), e.english());
        assert_eq!(e.in_language(false), e.to_string());
        let e = ExchangeError::Sync(SyncError::NoKey(3));
        assert_eq!(e.english(), "the key of epoch 3 is not on this device");
    }
}
