//! Invitations by e-mail. An owner asks the relay to mail a one-time link; the invitee's
//! device answers it with its identity line; the owner's device lists the answers, shows a
//! safety code to compare with the invitee's, and on approval shares the dossier with that
//! identity (an ordinary membership entry, signed by the owner: the relay never adds anyone
//! itself). Until then the invitee gets nothing: the relay has no key to give.
//!
//! The token travels only in the mail's link; the relay keeps its SHA-256. Refusals name no
//! address and no token (they are logged).

use std::str::FromStr;

use livret_shared::envelope::DossierId;
use livret_shared::keys::{DeviceId, MemberKey};
use livret_shared::membership::Role;
use livret_shared::protocol::{JoinRequest, Rejection, ServerMsg};
use sha2::Digest;

use super::{load_membership, rejected, unavailable};
use crate::clock::now_ms;
use crate::hub::Relay;
use crate::mail;
use crate::store::{Invitation, OutgoingMail};

/// How long a link can be answered.
const VALID_FOR_MS: i64 = 14 * 24 * 3600 * 1000;
/// The most of the inviter's name a mail carries.
const MAX_NAME_CHARS: usize = 80;

fn token_hash(token: &str) -> [u8; 32] {
    sha2::Sha256::digest(token.trim().as_bytes()).into()
}

/// The inviter's name as a mail may show it: one line, printable, short.
fn clean_name(name: Option<String>) -> Option<String> {
    let name: String = name?
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME_CHARS)
        .collect();
    let name = name.trim().to_string();
    (!name.is_empty()).then_some(name)
}

/// The relay's mailer, for a request only the dossier's owner may make (`not_owner`: the
/// refusal a member who is not the owner gets); the refusal to send otherwise.
pub(crate) fn mailer_for_owner(
    relay: &Relay,
    me: &MemberKey,
    dossier: &DossierId,
    not_owner: &str,
) -> Result<std::sync::Arc<mail::Mailer>, Vec<ServerMsg>> {
    let Some(mailer) = relay.mailer.clone() else {
        return Err(rejected(
            relay,
            Rejection::Forbidden,
            "ce serveur n'envoie pas de courriel",
        ));
    };
    let membership = load_membership(relay.store.as_ref(), dossier);
    match membership.as_ref().and_then(|m| m.role_of(me)) {
        Some(Role::Owner) => Ok(mailer),
        None => Err(rejected(
            relay,
            Rejection::Forbidden,
            "pas membre du dossier",
        )),
        Some(_) => Err(rejected(relay, Rejection::Forbidden, not_owner.to_string())),
    }
}

pub fn invite(
    relay: &Relay,
    me: &MemberKey,
    peer: Option<std::net::IpAddr>,
    dossier: DossierId,
    email: &str,
    role: Role,
    inviter: Option<String>,
) -> Vec<ServerMsg> {
    let mailer = match mailer_for_owner(
        relay,
        me,
        &dossier,
        "seul le candidat invite dans son dossier",
    ) {
        Ok(mailer) => mailer,
        Err(refusal) => return refusal,
    };
    if role == Role::Owner {
        return rejected(
            relay,
            Rejection::Forbidden,
            "on invite un accompagnateur ou un juré",
        );
    }
    let to = match mail::parse_address(email) {
        Ok(mailbox) => mailbox.email.to_string(),
        Err(_) => return rejected(relay, Rejection::Malformed, "adresse e-mail invalide"),
    };
    // Each invitation is a mail to any address: counted per key and per address.
    if let Err(refusal) = super::within_quota(
        relay,
        &relay.quotas.invitations,
        me,
        peer,
        (
            crate::limits::INVITATIONS_PER_KEY_PER_DAY,
            crate::limits::INVITATIONS_PER_ADDRESS_PER_DAY,
        ),
        "invitations_per_day",
        "quota d'invitations atteint pour aujourd'hui",
    ) {
        return refusal;
    }
    let mut token = [0u8; 32];
    let mut id = [0u8; 16];
    if getrandom::fill(&mut token).is_err() || getrandom::fill(&mut id).is_err() {
        return unavailable(relay);
    }
    let token = hex::encode(token);
    let now = now_ms();
    let invitation = Invitation {
        id,
        token_hash: token_hash(&token),
        dossier,
        role,
        inviter: *me,
        expires: now + VALID_FOR_MS,
        answer: None,
    };
    let mail = invitation_mail(&to, &mailer.public_url, &token, role, clean_name(inviter));
    match relay.store.create_invitation(&invitation, &mail, now) {
        Ok(()) => {
            mailer.queued();
            tracing::info!(invitation = %hex::encode(id), "invitation queued");
            vec![ServerMsg::Invited {
                dossier,
                invitation: id,
            }]
        }
        Err(_) => unavailable(relay),
    }
}

/// The mail: the link, the role, the inviter's name if given; in French, then in English.
fn invitation_mail(
    to: &str,
    public_url: &str,
    token: &str,
    role: Role,
    inviter: Option<String>,
) -> OutgoingMail {
    let (role_fr, role_en) = match role {
        Role::Juror => ("juré", "juror"),
        _ => ("accompagnateur", "advisor"),
    };
    let (who_fr, who_en) = match &inviter {
        Some(name) => (name.clone(), name.clone()),
        None => ("Un candidat".to_string(), "A candidate".to_string()),
    };
    let link = format!("{public_url}/#invitation={token}");
    let body = format!(
        "Bonjour,\n\n\
         {who_fr} vous invite à rejoindre son dossier de VAE sur Livret, comme {role_fr}.\n\n\
         Pour accepter, ouvrez ce lien (il ne sert qu'une fois, pendant 14 jours) :\n\
         {link}\n\n\
         Votre appareil vous montrera un code de sécurité de vingt chiffres : comparez-le avec \
         celui que voit le candidat avant qu'il ne vous donne accès. Ce courriel ne contient \
         rien du dossier.\n\n\
         ---\n\n\
         Hello,\n\n\
         {who_en} invites you to their VAE dossier on Livret, as {role_en}.\n\n\
         To accept, open this link (it works once, for 14 days):\n\
         {link}\n\n\
         Your device will show a twenty-digit safety code: compare it with the one the candidate \
         sees before they give you access. This e-mail holds nothing of the dossier.\n"
    );
    OutgoingMail {
        to: to.to_string(),
        subject: "Invitation à rejoindre un dossier VAE sur Livret".to_string(),
        body,
    }
}

pub fn accept(relay: &Relay, me: &MemberKey, token: &str, identity: &str) -> Vec<ServerMsg> {
    let Ok(device) = DeviceId::from_str(identity.trim()) else {
        return rejected(relay, Rejection::Malformed, "identité illisible");
    };
    if device.signing != *me {
        return rejected(
            relay,
            Rejection::Forbidden,
            "l'identité donnée n'est pas celle de cet appareil",
        );
    }
    let invitation = match relay.store.invitation_by_token(&token_hash(token)) {
        Ok(Some(i)) => i,
        Ok(None) => return rejected(relay, Rejection::NotFound, "invitation inconnue"),
        Err(_) => return unavailable(relay),
    };
    if invitation.expires < now_ms() {
        return rejected(relay, Rejection::Forbidden, "invitation expirée");
    }
    let id = invitation.id;
    match relay.store.answer_invitation(&id, &device.to_line()) {
        Ok(true) => {
            tracing::info!(invitation = %hex::encode(id), "invitation answered");
            vec![ServerMsg::Accepted {
                dossier: invitation.dossier,
                role: invitation.role,
            }]
        }
        Ok(false) => rejected(relay, Rejection::Replay, "invitation déjà utilisée"),
        Err(_) => unavailable(relay),
    }
}

/// The answered invitations of a dossier whose device is not a member yet (approved ones
/// drop out as the owner's membership entry lands).
pub fn requests(relay: &Relay, me: &MemberKey, dossier: DossierId) -> Vec<ServerMsg> {
    let Some(membership) = load_membership(relay.store.as_ref(), &dossier) else {
        return rejected(relay, Rejection::UnknownDossier, "dossier inconnu");
    };
    if membership.role_of(me) != Some(Role::Owner) {
        return rejected(
            relay,
            Rejection::Forbidden,
            "seul le candidat voit les demandes",
        );
    }
    let Ok(answered) = relay.store.answered_invitations(&dossier) else {
        return unavailable(relay);
    };
    let requests = answered
        .into_iter()
        .filter_map(|i| {
            let identity = i.answer?;
            let device = DeviceId::from_str(&identity).ok()?;
            membership
                .role_of(&device.signing)
                .is_none()
                .then_some(JoinRequest {
                    invitation: i.id,
                    role: i.role,
                    identity,
                })
        })
        .collect();
    vec![ServerMsg::Requests { dossier, requests }]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mail_holds_the_link_and_the_name_and_nothing_else_of_note() {
        let mail = invitation_mail(
            "conseil@example.org",
            "https://livret.example.org",
            "abc123",
            Role::Advisor,
            clean_name(Some("Camille\r\nBcc: x@example.org Durand".into())),
        );
        assert!(
            mail.body
                .contains("https://livret.example.org/#invitation=abc123")
        );
        assert!(mail.body.contains("Camille"));
        assert!(
            !mail.body.contains('\r'),
            "no header smuggled through the name"
        );
        assert!(mail.body.contains("comme accompagnateur"));
        assert!(mail.body.contains("as advisor"));
    }

    #[test]
    fn names_are_one_short_printable_line() {
        assert_eq!(clean_name(Some("  ".into())), None);
        assert_eq!(clean_name(Some("A\nB".into())).as_deref(), Some("AB"));
        assert_eq!(
            clean_name(Some("é".repeat(200))).map(|n| n.chars().count()),
            Some(MAX_NAME_CHARS)
        );
    }
}
