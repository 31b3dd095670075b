//! « Mes données »: the candidate asks what the relay holds of their dossier besides the
//! sealed bytes it cannot read (`livret_shared::holdings`). Owners only: the answer names
//! every member and the addresses the relay mails, which an advisor or a juror has no
//! business reading.

use livret_shared::envelope::DossierId;
use livret_shared::holdings::{Holdings, members_of_log};
use livret_shared::keys::MemberKey;
use livret_shared::membership::{Role, SignedEntry};
use livret_shared::protocol::{Rejection, ServerMsg};

use super::{fold_log, rejected, unavailable};
use crate::hub::Relay;

pub fn holdings(relay: &Relay, me: &MemberKey, dossier: DossierId) -> Vec<ServerMsg> {
    let log = match relay.store.membership_log(&dossier) {
        Ok(log) => log,
        Err(_) => return unavailable(relay),
    };
    if log.is_empty() {
        return match relay.store.tombstone(&dossier) {
            Ok(Some(tombstone)) => vec![tombstone.message(dossier)],
            Ok(None) => rejected(relay, Rejection::UnknownDossier, "dossier inconnu"),
            Err(_) => unavailable(relay),
        };
    }
    match fold_log(&log).and_then(|m| m.role_of(me)) {
        Some(Role::Owner) => {}
        None => return rejected(relay, Rejection::Forbidden, "pas membre du dossier"),
        Some(_) => {
            return rejected(
                relay,
                Rejection::Forbidden,
                "seul le candidat voit ce que le serveur garde de son dossier",
            );
        }
    }
    let retention_ms = relay.retention_ms();
    let (held, retention) = match relay
        .store
        .held(&dossier)
        .and_then(|held| Ok((held, relay.store.retention(&dossier, retention_ms)?)))
    {
        Ok((Some(held), Some(retention))) => (held, retention),
        Ok(_) => return rejected(relay, Rejection::UnknownDossier, "dossier inconnu"),
        Err(_) => return unavailable(relay),
    };
    let entries: Vec<SignedEntry> = log
        .iter()
        .filter_map(|bytes| SignedEntry::from_bytes(bytes).ok())
        .collect();
    let holdings = Holdings {
        dossier,
        members: members_of_log(&entries),
        membership_entries: log.len() as u64,
        envelopes: held.envelopes,
        snapshots: held.snapshots,
        evidence: held.evidence,
        review_keys: held.review_keys,
        invitations: held.invitations,
        mails: held.mails,
        contact: retention.contact,
        jury_ms: held.jury_ms,
        active_ms: held.active_ms,
        ends_ms: retention.ends_ms,
        retention_days: (retention_ms / (24 * 3600 * 1000)) as u32,
    };
    vec![ServerMsg::Holdings {
        holdings: Box::new(holdings),
    }]
}
