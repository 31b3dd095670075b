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

/// The open dossier's members: identity line, role, safety code, and whether it is this
/// device.
pub fn members() -> Vec<(String, Role, String, bool)> {
    let me = with_device(|d| d.signing_public()).ok();
    with_open(|r| {
        r.membership()
            .members
            .values()
            .map(|m| {
                let id = m.id();
                (
                    id.to_line(),
                    m.role,
                    id.safety_code(),
                    Some(m.signing) == me,
                )
            })
            .collect()
    })
    .unwrap_or_default()
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
