//! The candidate's own devices: keys kept, devices proposed for trust, the recovery kit,
//! dossiers discovered on a new device.

use super::*;

/// Identity lines kept under `key`, sealed to this device.
pub(super) async fn sealed_lines(key: &str) -> Result<Vec<DeviceId>, Error> {
    let Some(sealed) = db()?.get(key).await.map_err(Error::from)? else {
        return Ok(Vec::new());
    };
    let plain = with_device(|d| d.open_own(&sealed).map_err(Error::from))??;
    let text = String::from_utf8_lossy(&plain);
    Ok(text
        .lines()
        .filter_map(|l| DeviceId::from_str(l).ok())
        .collect())
}

pub(super) async fn put_sealed_lines(key: &str, ids: &[DeviceId]) -> Result<(), Error> {
    let text: String = ids.iter().map(|k| format!("{}\n", k.to_line())).collect();
    let sealed = with_device(|d| d.seal_for_self(text.as_bytes()))?;
    db()?.put(key, &sealed).await.map_err(Error::from)
}

/// The candidate's other keys this device knows (identity lines).
pub(super) async fn own_keys() -> Result<Vec<DeviceId>, Error> {
    sealed_lines(OWN_KEYS).await
}

/// Writes the candidate's public signing keys this device knows, unsealed ([`OWN_PUBLIC`]):
/// after each change to them, and at each unlock (a device of an earlier version had none).
pub(super) async fn publish_own_public_keys() -> Result<(), Error> {
    let me = with_device(|d| d.signing_public())?;
    let lines: String = own_keys()
        .await?
        .iter()
        .map(|k| k.signing)
        .chain([me])
        .map(|k| format!("{}\n", hex::encode(k.0)))
        .collect();
    db()?
        .put(OWN_PUBLIC, lines.as_bytes())
        .await
        .map_err(Error::from)
}

/// Whether `kit` is one of this device's candidate's keys, as far as the locked device can
/// tell: `None` when it never wrote them down (an earlier version).
async fn kit_is_this_candidates(kit: &DeviceSecret) -> Result<Option<bool>, Error> {
    let Some(lines) = db()?.get(OWN_PUBLIC).await.map_err(Error::from)? else {
        return Ok(None);
    };
    let wanted = hex::encode(kit.signing_public().0);
    Ok(Some(
        String::from_utf8_lossy(&lines)
            .lines()
            .any(|l| l.trim() == wanted),
    ))
}

/// Remembers more of the candidate's keys (this device's own key is never listed).
pub(super) async fn remember_own_keys(
    more: impl IntoIterator<Item = DeviceId>,
) -> Result<(), Error> {
    let me = with_device(|d| d.signing_public())?;
    let mut keys = own_keys().await?;
    let before = keys.len();
    for k in more {
        if k.signing != me && !keys.iter().any(|known| known.signing == k.signing) {
            keys.push(k);
        }
    }
    if keys.len() == before && db()?.get(OWN_KEYS).await.ok().flatten().is_some() {
        return Ok(());
    }
    put_sealed_lines(OWN_KEYS, &keys).await?;
    publish_own_public_keys().await
}

/// This device's key and the candidate's keys it knows: whose dossiers are the candidate's.
pub(super) async fn trusted_keys() -> Result<std::collections::BTreeSet<MemberKey>, Error> {
    let me = with_device(|d| d.signing_public())?;
    Ok(own_keys()
        .await?
        .iter()
        .map(|k| k.signing)
        .chain([me])
        .collect())
}

/// Adds the candidate's other keys as owners of the open dossier (those it lacks) — if it
/// is one of the candidate's own dossiers (`trusted` created it): a device never vouches
/// for a dossier a stranger made and added it to.
pub(super) fn add_own_keys_to_open(
    keys: &[DeviceId],
    trusted: &std::collections::BTreeSet<MemberKey>,
) -> Result<usize, Error> {
    with_device_and_open(|device, replica| {
        let me = device.signing_public();
        if !own_devices::is_own_dossier(replica.membership(), &me, trusted) {
            return Ok(0);
        }
        let mut added = 0;
        for k in keys {
            if replica.membership().role_of(&k.signing).is_some() {
                continue;
            }
            let key = replica.epoch_keys().ok_or_else(no_dossier_key)?;
            let entry = membership::add(replica.membership(), device, k, Role::Owner, &key)
                .map_err(Error::from)?;
            replica
                .apply_membership(device, std::slice::from_ref(&entry))
                .map_err(Error::from)?;
            added += 1;
        }
        Ok(added)
    })
}

/// A device that added this one as an owner of dossiers, for the candidate to confirm as
/// theirs (comparing safety codes) or refuse.
#[derive(Clone, Debug, PartialEq)]
pub struct DeviceProposal {
    pub identity: String,
    pub code: String,
}

/// The devices waiting for the candidate's answer.
pub async fn device_proposals() -> Result<Vec<DeviceProposal>, Error> {
    Ok(sealed_lines(PROPOSED_DEVICES)
        .await?
        .into_iter()
        .map(|id| DeviceProposal {
            code: id.safety_code(),
            identity: id.to_line(),
        })
        .collect())
}

/// Sorts out the candidate's keys from these membership logs (`own_devices::review`):
/// remembers the owners of the candidate's own dossiers, and keeps the devices to ask about.
pub(super) async fn review_own_keys(logs: &[Vec<SignedEntry>]) -> Result<(), Error> {
    let me = with_device(|d| d.signing_public())?;
    let trusted = trusted_keys().await?;
    let refused: std::collections::BTreeSet<MemberKey> = sealed_lines(REFUSED_DEVICES)
        .await?
        .iter()
        .map(|k| k.signing)
        .collect();
    let found = own_devices::review(logs, &me, &trusted, &refused);
    remember_own_keys(found.vouched.iter().map(Member::id)).await?;
    let mut proposed = sealed_lines(PROPOSED_DEVICES).await?;
    let before = proposed.clone();
    for p in found.proposals {
        if !proposed.iter().any(|k| k.signing == p.member.signing) {
            proposed.push(p.member.id());
        }
    }
    let trusted = trusted_keys().await?;
    proposed.retain(|k| !trusted.contains(&k.signing) && !refused.contains(&k.signing));
    if proposed != before {
        put_sealed_lines(PROPOSED_DEVICES, &proposed).await?;
    }
    Ok(())
}

/// The candidate's answer about a proposed device: theirs (it becomes one of their keys,
/// and the owners of its dossiers too) or not (never asked again). Returns the proposals
/// left.
pub async fn answer_device_proposal(
    identity: &str,
    mine: bool,
) -> Result<Vec<DeviceProposal>, Error> {
    let id = DeviceId::from_str(identity).map_err(Error::from)?;
    let mut proposed = sealed_lines(PROPOSED_DEVICES).await?;
    proposed.retain(|k| k.signing != id.signing);
    put_sealed_lines(PROPOSED_DEVICES, &proposed).await?;
    if mine {
        remember_own_keys([id]).await?;
        let mut logs = Vec::new();
        for d in list_dossiers().await? {
            if open_unless_ended(&d.id).await? {
                logs.push(with_open(|r| r.log().to_vec())?);
            }
        }
        review_own_keys(&logs).await?;
    } else {
        let mut refused = sealed_lines(REFUSED_DEVICES).await?;
        refused.push(id);
        put_sealed_lines(REFUSED_DEVICES, &refused).await?;
    }
    device_proposals().await
}

/// The recovery kit's secret, made when the identity is created: a key of the candidate
/// that lives on paper. It is an owner of every dossier, so a new device can be let in
/// with it when all devices are lost.
pub async fn make_recovery_kit() -> Result<String, Error> {
    let recovery = DeviceSecret::generate();
    remember_own_keys([recovery.id()]).await?;
    remember_kit(&recovery.signing_public()).await?;
    Ok(recovery.to_secret_string().to_string())
}

/// Remembers which of the candidate's keys is the recovery kit (a public key).
async fn remember_kit(kit: &MemberKey) -> Result<(), Error> {
    db()?
        .put(KIT_PUBLIC, hex::encode(kit.0).as_bytes())
        .await
        .map_err(Error::from)
}

/// The recovery kit's key, if it was made or used on this device.
pub(super) async fn known_kit() -> Option<MemberKey> {
    let hex_key = db().ok()?.get(KIT_PUBLIC).await.ok()??;
    let bytes: [u8; 32] = hex::decode(hex_key).ok()?.try_into().ok()?;
    Some(MemberKey(bytes))
}

/// Names the recovery kit « Kit de secours » in the open dossier when this device knows
/// which key it is, owns the dossier, and the kit has no name there yet. Whether it named.
pub(super) async fn name_kit_in_open() -> Result<bool, Error> {
    let Some(kit) = known_kit().await else {
        return Ok(false);
    };
    with_device_and_open(|device, replica| {
        let unnamed = replica.membership().is_owner(&device.signing_public())
            && replica.membership().role_of(&kit) == Some(Role::Owner)
            && !replica.member_names().contains_key(&kit);
        if unnamed {
            replica
                .name_member(device, (&kit, "", true), now_ms(), random_nonce())
                .map_err(Error::from)?;
        }
        Ok(unnamed)
    })
}

/// Pairs another device of the candidate (its identity line): it becomes an owner of every
/// dossier this device owns, and is published to the relay; returns how many dossiers.
pub async fn add_own_device(identity: &str) -> Result<usize, Error> {
    let other = DeviceId::from_str(identity.trim()).map_err(Error::from)?;
    if other.signing == with_device(|d| d.signing_public())? {
        return Err(Error::said(
            "C'est l'identité de cet appareil-ci.",
            "That is this device's own identity.",
        ));
    }
    remember_own_keys([other.clone()]).await?;
    let trusted = trusted_keys().await?;
    let mut shared = 0;
    for d in list_dossiers().await? {
        if !open_unless_ended(&d.id).await? {
            continue;
        }
        if add_own_keys_to_open(std::slice::from_ref(&other), &trusted)? > 0 {
            shared += 1;
        }
        save_open().await?;
        sync_open().await.map_err(|e| {
            Error::said(
                format!(
                    "ajouté sur cet appareil, mais le serveur est injoignable ({e}) ; \
                     il le recevra à la prochaine synchronisation"
                ),
                format!(
                    "added on this device, but the server cannot be reached ({e}); \
                     it will get it at the next sync"
                ),
            )
        })?;
    }
    Ok(shared)
}

/// Asks the relay which dossiers this device belongs to and brings in the ones it does not
/// hold yet (shared with it, or made on another of the candidate's devices); returns how
/// many arrived. One that cannot be brought in is skipped, never the others. The owners
/// found are not taken as the candidate's keys: `review_own_keys` keeps those the
/// candidate's own dossiers vouch for and asks about the rest.
pub async fn discover() -> Result<usize, Error> {
    let socket = connect_as_me().await?;
    let ids = my_dossiers(&socket).await?;
    let db = db()?;
    let mut logs = Vec::new();
    for id in ids {
        if db
            .get(&format!("{DOSSIER_PREFIX}{id}"))
            .await
            .map_err(Error::from)?
            .is_some()
        {
            continue;
        }
        match bring_in(&socket, id).await {
            Ok(Some(log)) => logs.push(log),
            Ok(None) => {}
            Err(e) => leptos::logging::warn!("dossier {id} : {e}"),
        }
    }
    review_own_keys(&logs).await?;
    Ok(logs.len())
}

/// Joins one dossier the relay lists for this device and saves it; returns its membership
/// log (`None`: the relay no longer has it).
pub(super) async fn bring_in(
    socket: &Socket,
    id: DossierId,
) -> Result<Option<Vec<SignedEntry>>, Error> {
    let Some(catch_up) = subscribe(socket, id, Vec::new()).await? else {
        return Ok(None);
    };
    let replica = with_device(|device| {
        let mut replica = Replica::join(device, catch_up.entries.clone()).map_err(Error::from)?;
        catch_up.apply_to(device, &mut replica)?;
        Ok::<_, Error>(replica)
    })??;
    let log = replica.log().to_vec();
    set_open(replica, Saved::default());
    save_open_full().await?;
    Ok(Some(log))
}

/// Whether the recovery kit `kit` may make this locked device forget its keys (« Phrase de
/// passe oubliée ? »): it must be this candidate's, as the device wrote down (a device of an
/// earlier version wrote nothing: then the relay must know dossiers for it), so that no one
/// with another key — their own kit, an advisor's device — can make it forget anything.
pub async fn check_kit_for_this_device(kit: &str) -> Result<(), Error> {
    let recovery = DeviceSecret::from_kit(kit).map_err(|_| {
        Error::said(
            "Ce kit de secours est illisible : recopiez les deux lignes, rien d'autre.",
            "This recovery kit cannot be read: copy both lines, nothing else.",
        )
    })?;
    let not_ours = || {
        Error::said(
            "Ce kit n'est pas celui du candidat de cet appareil (une faute de frappe à la ligne 1 \
             donne une autre clé) : cet appareil garde ses clés.",
            "This kit is not that of this device's candidate (a typo in line 1 makes another \
             key): this device keeps its keys.",
        )
    };
    match kit_is_this_candidates(&recovery).await? {
        Some(true) => Ok(()),
        Some(false) => Err(not_ours()),
        None => {
            let socket =
                connect(|challenge| Ok((recovery.signing_public(), recovery.sign(challenge))))
                    .await?;
            if my_dossiers(&socket).await?.is_empty() {
                Err(not_ours())
            } else {
                Ok(())
            }
        }
    }
}

/// Lets this (new) device in with the recovery kit: the kit's key adds it as an owner of
/// every dossier the kit's key belongs to; then the dossiers are brought in.
pub async fn recover(kit: &str) -> Result<usize, Error> {
    let recovery = DeviceSecret::from_kit(kit).map_err(|_| {
        Error::said(
            "Ce kit de secours est illisible : recopiez les deux lignes.",
            "This recovery kit cannot be read: copy both lines again.",
        )
    })?;
    let me = with_device(|d| d.id())?;
    let socket =
        connect(|challenge| Ok((recovery.signing_public(), recovery.sign(challenge)))).await?;
    let ids = my_dossiers(&socket).await?;
    if ids.is_empty() {
        return Err(Error::said(
            "Le serveur ne connaît aucun dossier pour ce kit de secours.",
            "The server knows no dossier for this recovery kit.",
        ));
    }
    for id in ids {
        // One dossier the kit cannot let this device into is skipped, never the others.
        if let Err(e) = let_in_with_kit(&socket, id, &recovery, &me).await {
            leptos::logging::warn!("dossier {id} : {e}");
        }
    }
    remember_own_keys([recovery.id()]).await?;
    remember_kit(&recovery.signing_public()).await?;
    drop(recovery);
    discover().await
}

/// The kit's key adds this device as an owner of one dossier (unless it is a member).
pub(super) async fn let_in_with_kit(
    socket: &Socket,
    id: DossierId,
    recovery: &DeviceSecret,
    me: &DeviceId,
) -> Result<(), Error> {
    let Some(catch_up) = subscribe(socket, id, Vec::new()).await? else {
        return Ok(());
    };
    let state = membership::Membership::from_log(&catch_up.entries).map_err(Error::from)?;
    if state.role_of(&me.signing).is_some() {
        return Ok(());
    }
    let key = state.epoch_keys_for(recovery, state.epoch).ok_or_else(|| {
        Error::said(
            "le kit de secours n'a plus accès à ce dossier",
            "the recovery kit no longer has access to this dossier",
        )
    })?;
    let entry = membership::add(&state, recovery, me, Role::Owner, &key).map_err(Error::from)?;
    publish(socket, id, &entry).await
}
