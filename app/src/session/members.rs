//! Members of the open dossier: shared, listed, removed; invitations by e-mail and their
//! answers; reminders; the safety code.

use super::*;

/// Shares the open dossier with another device (its `livret1:…` identity line), as advisor
/// or juror: the content key is wrapped to it in a signed membership entry, published to the
/// relay at the next sync.
pub async fn share(identity: &str, role: Role) -> Result<(), Error> {
    let member = DeviceId::from_str(identity.trim()).map_err(Error::from)?;
    with_device_and_open(|device, replica| {
        let key = replica.epoch_keys().ok_or_else(no_dossier_key)?;
        let entry = membership::add(replica.membership(), device, &member, role, &key)
            .map_err(Error::from)?;
        replica
            .apply_membership(device, std::slice::from_ref(&entry))
            .map_err(Error::from)
    })?;
    save_open().await
}

/// One member of the open dossier, as the members' list shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRow {
    /// Their identity line.
    pub line: String,
    pub role: Role,
    pub safety_code: String,
    /// This device.
    pub me: bool,
    /// The name the candidate gave them (a juror's other device: the juror's).
    pub name: Option<String>,
    /// The candidate's recovery kit.
    pub kit: bool,
}

/// The open dossier's members.
pub fn members() -> Vec<MemberRow> {
    let me = with_device(|d| d.signing_public()).ok();
    with_open(|r| {
        let names = r.member_names();
        let state = r.membership();
        state
            .members
            .values()
            .map(|m| {
                let id = m.id();
                let card = names.get(&state.person_of(&m.signing));
                MemberRow {
                    line: id.to_line(),
                    role: m.role,
                    safety_code: id.safety_code(),
                    me: Some(m.signing) == me,
                    name: card.filter(|c| !c.kit).map(|c| c.name.clone()),
                    kit: card.is_some_and(|c| c.kit),
                }
            })
            .collect()
    })
    .unwrap_or_default()
}

/// Names a member of the open dossier (the candidate only); an empty name takes it back.
/// Saved and sent by the caller, like any edit.
pub fn name_member(identity: &str, name: &str) -> Result<(), Error> {
    let member = DeviceId::from_str(identity.trim()).map_err(Error::from)?;
    with_device_and_open(|device, r| {
        r.name_member(
            device,
            (&member.signing, name, false),
            now_ms(),
            random_nonce(),
        )
        .map(|_| ())
        .map_err(Error::from)
    })
}

/// Removes a member from the open dossier (owners): a new key epoch for those who remain.
/// What this device sealed for the current epoch goes to the relay first (it refuses it once
/// the epoch moves); the removal then goes with a full sync.
pub async fn remove_member(identity: &str) -> Result<(), Error> {
    let member = DeviceId::from_str(identity.trim()).map_err(Error::from)?;
    sync_open().await?;
    if with_open(|r| r.pending())? > 0 {
        return Err(Error::said(
            "des modifications attendent encore le serveur : réessayez dans un instant",
            "changes are still waiting for the server: try again in a moment",
        ));
    }
    with_device_and_open(|device, replica| {
        let entry = membership::remove(
            replica.membership(),
            device,
            &member.signing,
            &EpochKeys::generate(),
        )
        .map_err(Error::from)?;
        replica
            .apply_membership(device, std::slice::from_ref(&entry))
            .map_err(Error::from)
    })?;
    save_open().await?;
    sync_now();
    Ok(())
}

/// Sets the jury's date and the address the relay reminds before it, or with no date
/// cancels the reminders; returns when each queued reminder goes (ms since epoch).
pub async fn set_reminders(
    email: &str,
    jury_date: Option<livret_shared::date::Date>,
) -> Result<Vec<i64>, Error> {
    let dossier = with_open(|r| r.id)?;
    let socket = connect_as_me().await?;
    let msg = ClientMsg::Reminders {
        dossier,
        email: email.trim().to_string(),
        jury_date,
    };
    ask(&socket, &msg, |m| match m {
        ServerMsg::Reminders { due, .. } => Some(due),
        _ => None,
    })
    .await
}

/// Asks the relay to mail an invitation to the open dossier (owners): a one-time link.
pub async fn invite(email: &str, role: Role, name: Option<String>) -> Result<(), Error> {
    let dossier = with_open(|r| r.id)?;
    let socket = connect_as_me().await?;
    let invite = ClientMsg::Invite {
        dossier,
        email: email.trim().to_string(),
        role,
        inviter: name.filter(|n| !n.trim().is_empty()),
    };
    ask(&socket, &invite, |m| {
        matches!(m, ServerMsg::Invited { .. }).then_some(())
    })
    .await
}

/// The devices that answered an invitation to the open dossier and wait for approval: their
/// identity line, role, and safety code (computed here, from the identity the relay passed).
pub async fn join_requests() -> Result<Vec<(String, Role, String)>, Error> {
    let dossier = with_open(|r| r.id)?;
    let socket = connect_as_me().await?;
    let requests = ask(&socket, &ClientMsg::Requests { dossier }, |m| match m {
        ServerMsg::Requests { requests, .. } => Some(requests),
        _ => None,
    })
    .await?;
    Ok(requests
        .into_iter()
        .filter_map(|r| {
            let code = DeviceId::from_str(&r.identity).ok()?.safety_code();
            Some((r.identity, r.role, code))
        })
        .collect())
}

/// Answers an invitation link's token with this device's identity; returns the role offered.
pub async fn accept_invitation(token: &str) -> Result<Role, Error> {
    let identity = with_device(|d| d.id().to_line())?;
    let socket = connect_as_me().await?;
    let accept = ClientMsg::Accept {
        token: token.to_string(),
        identity,
    };
    ask(&socket, &accept, |m| match m {
        ServerMsg::Accepted { role, .. } => Some(role),
        _ => None,
    })
    .await
}

/// This device's safety code (what an inviting candidate compares).
pub fn safety_code() -> String {
    with_device(|d| d.id().safety_code()).unwrap_or_default()
}
