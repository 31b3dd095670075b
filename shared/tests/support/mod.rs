//! What the tests of the sync share: an in-memory relay with the relay's acceptance rules
//! (`protocol::check_envelope`, `Membership::apply`, the relay's `Framer`), one for the
//! random-order harness (`push`) and the exchange's tests (`handle`, the protocol).
#![allow(dead_code)]

use std::collections::BTreeMap;

use livret_shared::catchup::Framer;
use livret_shared::envelope::Envelope;
use livret_shared::keys::MemberKey;
use livret_shared::membership::{Membership, SignedEntry};
use livret_shared::protocol::{Accept, ClientMsg, Rejection, ServerMsg, check_envelope};

/// The relay's logic without sockets: membership log + per-writer append-only logs.
#[derive(Default)]
pub struct MemRelay {
    /// A relay that refuses every push with this reason (full, or broken).
    pub refuse_pushes: Option<Rejection>,
    pub log: Vec<SignedEntry>,
    pub envelopes: BTreeMap<(MemberKey, u64), Vec<u8>>,
    pub order: Vec<Vec<u8>>,
    /// The candidate's latest notice of retention.
    pub retained: Option<livret_shared::deletion::DeletionNotice>,
}

/// A refusal as the relay words it (the reason's name as detail).
pub fn refused(reason: Rejection) -> ServerMsg {
    ServerMsg::Rejected {
        reason,
        detail: reason.as_str().to_string(),
    }
}

impl MemRelay {
    pub fn membership(&self) -> Membership {
        Membership::from_log(&self.log).unwrap()
    }

    /// The last counter stored for `writer` (0: none yet).
    pub fn last_counter(&self, writer: &MemberKey) -> u64 {
        self.envelopes
            .keys()
            .filter(|(w, _)| w == writer)
            .map(|(_, c)| *c)
            .max()
            .unwrap_or(0)
    }

    pub fn push(&mut self, bytes: &[u8]) -> Result<Accept, Rejection> {
        let env = Envelope::parse(bytes).map_err(|_| Rejection::Malformed)?;
        let writer = env.header.writer;
        let last = self.last_counter(&writer);
        let stored = self
            .envelopes
            .get(&(writer, env.header.counter))
            .map(Vec::as_slice);
        let membership = Membership::from_log(&self.log).ok();
        let (header, accept) = check_envelope(bytes, membership.as_ref(), last, stored)?;
        if accept == Accept::Append {
            self.envelopes
                .insert((header.writer, header.counter), bytes.to_vec());
            self.order.push(bytes.to_vec());
        }
        Ok(accept)
    }

    /// What the relay answers `me`'s message.
    pub fn handle(&mut self, me: MemberKey, msg: ClientMsg) -> Vec<ServerMsg> {
        match msg {
            ClientMsg::Create { entry } => {
                let entry = SignedEntry::from_bytes(&entry).unwrap();
                if !self.log.is_empty() || Membership::genesis(&entry).is_err() {
                    return vec![refused(Rejection::Forbidden)];
                }
                let dossier = entry.body.dossier;
                self.log.push(entry);
                vec![ServerMsg::MembershipOk { dossier, seq: 0 }]
            }
            ClientMsg::Membership { dossier, entry } => {
                let entry = SignedEntry::from_bytes(&entry).unwrap();
                let Ok(mut state) = Membership::from_log(&self.log) else {
                    return vec![refused(Rejection::UnknownDossier)];
                };
                if state.apply(&entry).is_err() {
                    return vec![refused(Rejection::Forbidden)];
                }
                let seq = entry.body.seq;
                self.log.push(entry);
                vec![ServerMsg::MembershipOk { dossier, seq }]
            }
            ClientMsg::Subscribe { dossier, since } => {
                let Ok(state) = Membership::from_log(&self.log) else {
                    return vec![refused(Rejection::UnknownDossier)];
                };
                let since: BTreeMap<MemberKey, u64> = since.into_iter().collect();
                let mut framer = Framer::with_budget(dossier, 1500);
                for e in &self.log {
                    framer.entry(e.to_bytes());
                }
                if state.role_of(&me).is_none() {
                    let mut answer = framer.finish(None);
                    answer.push(refused(Rejection::Forbidden));
                    return answer;
                }
                for bytes in &self.order {
                    let h = Envelope::parse(bytes).unwrap().header;
                    if h.counter > since.get(&h.writer).copied().unwrap_or(0) {
                        framer.envelope(bytes.clone());
                    }
                }
                framer.finish(None)
            }
            ClientMsg::Push { .. } if self.refuse_pushes.is_some() => {
                vec![refused(self.refuse_pushes.unwrap())]
            }
            ClientMsg::Push { envelope } => match self.push(&envelope) {
                Ok(_) => {
                    let h = Envelope::parse(&envelope).expect("accepted").header;
                    vec![ServerMsg::Ack {
                        dossier: h.dossier,
                        writer: h.writer,
                        counter: h.counter,
                    }]
                }
                Err(reason) => vec![refused(reason)],
            },
            ClientMsg::JuryKeys { dossier } => vec![ServerMsg::JuryKeys {
                dossier,
                epoch: Membership::from_log(&self.log).map_or(0, |m| m.epoch),
                key_id: None,
                granted: Vec::new(),
                grants: Vec::new(),
            }],
            ClientMsg::Retain { notice } => {
                let notice = livret_shared::deletion::DeletionNotice::from_bytes(&notice);
                match notice {
                    Ok(n) if n.check_signed(&self.membership()).is_ok() && n.signer == me => {
                        let answer = ServerMsg::Retained {
                            dossier: n.body.dossier,
                            expires_ms: n.body.effective_ms,
                        };
                        self.retained = Some(n);
                        vec![answer]
                    }
                    _ => vec![refused(Rejection::Forbidden)],
                }
            }
            other => panic!("not part of a sync: {other:?}"),
        }
    }
}
