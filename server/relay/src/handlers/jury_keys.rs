//! The jurors' review keys' grants (see `livret_shared::jury`): the relay keeps, per
//! dossier, epoch and juror, the first key id the juror gives and its grants sealed to each
//! juror, and hands a juror every grant sealed to it. It never sees a key: a grant is
//! age-sealed to its juror and signed inside by the juror whose key it is — the one logged
//! in when it is given, so no juror gives grants in another's name.

use livret_shared::envelope::DossierId;
use livret_shared::jury::{MAX_GRANT_BYTES, MAX_GRANTS};
use livret_shared::keys::MemberKey;
use livret_shared::membership::{Membership, Role};
use livret_shared::protocol::{Rejection, ServerMsg};

use super::{load_membership, rejected, unavailable};
use crate::hub::Relay;

/// The dossier's membership, if `me` is one of its jurors now.
fn as_juror(relay: &Relay, me: &MemberKey, dossier: &DossierId) -> Option<Membership> {
    load_membership(relay.store.as_ref(), dossier).filter(|m| m.role_of(me) == Some(Role::Juror))
}

fn answer(relay: &Relay, me: &MemberKey, dossier: DossierId, epoch: u32) -> Vec<ServerMsg> {
    match relay.store.jury_grants(&dossier, epoch, me) {
        Ok(keys) => vec![ServerMsg::JuryKeys {
            dossier,
            epoch,
            key_id: keys.key_id,
            granted: keys.granted,
            grants: keys.mine,
        }],
        Err(_) => unavailable(relay),
    }
}

pub fn keys(relay: &Relay, me: &MemberKey, dossier: DossierId) -> Vec<ServerMsg> {
    let Some(m) = as_juror(relay, me, &dossier) else {
        return rejected(relay, Rejection::Forbidden, "réservé aux jurés du dossier");
    };
    answer(relay, me, dossier, m.epoch)
}

pub fn grant(
    relay: &Relay,
    me: &MemberKey,
    dossier: DossierId,
    epoch: u32,
    key_id: [u8; 16],
    grants: Vec<(MemberKey, Vec<u8>)>,
) -> Vec<ServerMsg> {
    let Some(m) = as_juror(relay, me, &dossier) else {
        return rejected(relay, Rejection::Forbidden, "réservé aux jurés du dossier");
    };
    if epoch != m.epoch {
        return rejected(
            relay,
            Rejection::WrongEpoch,
            "clé du jury d'une autre époque",
        );
    }
    if grants.len() > MAX_GRANTS || grants.iter().any(|(_, g)| g.len() > MAX_GRANT_BYTES) {
        return rejected(relay, Rejection::TooLarge, "clé du jury trop grande");
    }
    if grants
        .iter()
        .any(|(to, _)| m.role_of(to) != Some(Role::Juror))
    {
        return rejected(relay, Rejection::Forbidden, "clé du jury pour un non-juré");
    }
    match relay
        .store
        .put_jury_grants(&dossier, epoch, me, &key_id, &grants)
    {
        Ok(kept) => {
            tracing::info!(kept, count = grants.len(), "jury key grants");
            answer(relay, me, dossier, epoch)
        }
        Err(_) => unavailable(relay),
    }
}
