//! Who is where in the open dossier: this device's name and place, sent as presence; the
//! others'.

use super::*;

/// `localStorage` key of the name shown to the other members (not a secret).
pub(super) const NAME_KEY: &str = "livret-nom";

/// The name this person shows to the other members of a dossier: the one they gave, or
/// for the candidate the name in their état civil.
pub fn my_name() -> String {
    let given = web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .and_then(|s| s.get_item(NAME_KEY).ok().flatten())
        .unwrap_or_default();
    if !given.trim().is_empty() {
        return given.trim().to_string();
    }
    with_open(|r| {
        // The état civil is the candidate's: an advisor or a juror is not named after it.
        if r.membership().role_of(&r.me()) != Some(Role::Owner) {
            return String::new();
        }
        let prenom = r.dossier().get("etat_civil.prenom").unwrap_or_default();
        let nom = r.dossier().get("etat_civil.nom").unwrap_or_default();
        format!("{prenom} {nom}").trim().to_string()
    })
    .unwrap_or_default()
}

/// Remembers the name shown to the other members, and tells them at once.
pub fn set_my_name(name: &str) {
    if let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = storage.set_item(NAME_KEY, name.trim());
    }
    announce_again();
}

/// Tells the members connected now where this device is (`field`: a field's path, empty for
/// none). Nothing when the dossier is not live: presence is not kept for later.
pub fn announce(field: &str, caret: Option<u32>) {
    HERE.with(|h| *h.borrow_mut() = Some((field.to_string(), caret)));
    send_presence(false);
}

/// Says the same again (the others forget a silent member after a while).
pub fn announce_again() {
    send_presence(false);
}

/// Tells the others this device left the dossier.
pub fn announce_leaving() {
    send_presence(true);
    HERE.with(|h| *h.borrow_mut() = None);
    ROSTER.with(|r| *r.borrow_mut() = Roster::default());
}

pub(super) fn send_presence(leaving: bool) {
    let Some(socket) = LIVE.with(|l| l.borrow().as_ref().map(|live| live.socket.clone())) else {
        return;
    };
    let (field, caret) = HERE.with(|h| h.borrow().clone()).unwrap_or_default();
    let presence = Presence {
        field,
        caret,
        name: my_name(),
        leaving,
    };
    // Receivers keep only what is newer than the last one: two messages within one
    // millisecond (leaving a field, entering the next) must still be in order.
    let at = LAST_PRESENCE.with(|last| {
        let at = now_ms().max(last.get() + 1);
        last.set(at);
        at
    });
    let sealed = with_device_and_open(|device, replica| {
        replica
            .seal_presence(device, at, random_nonce(), &presence)
            .map_err(Error::from)
    });
    if let Ok(envelope) = sealed {
        let _ = send(&socket, &ClientMsg::Presence { envelope });
    }
}

/// Another member where they are now: their name (or their safety code when they gave
/// none), their role, the field's path and their caret in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Here {
    pub who: String,
    pub role: Role,
    pub field: String,
    pub caret: Option<u32>,
}

/// The other members present in the open dossier now.
pub fn present() -> Vec<Here> {
    let now = now_ms();
    let members = with_open(|r| r.membership().members.clone()).unwrap_or_default();
    ROSTER.with(|r| {
        r.borrow()
            .current(now)
            .into_iter()
            .filter(|s| members.contains_key(&s.writer))
            .map(|s| {
                let who = if s.presence.name.trim().is_empty() {
                    members
                        .get(&s.writer)
                        .map(|m| m.id().safety_code())
                        .unwrap_or_default()
                } else {
                    s.presence.name.clone()
                };
                Here {
                    who,
                    role: s.role,
                    field: s.presence.field.clone(),
                    caret: s.presence.caret,
                }
            })
            .collect()
    })
}
