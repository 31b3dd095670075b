//! The native client: the same sync engine as the browser (`livret_shared::sync::Replica`,
//! driven through `livret_shared::exchange`), with a local store under `--home` and a
//! WebSocket to the relay. The `livret` CLI drives it; tests and scripts through the CLI.

pub mod clock;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use futures_util::{SinkExt, StreamExt};
use livret_shared::envelope::{DossierId, random_nonce};
use livret_shared::exchange::{Exchange, ExchangeError};
use livret_shared::keys::{self, DeviceSecret};
use livret_shared::membership::{SignedEntry, Standing};
use livret_shared::protocol::{self, ClientMsg, Origin, ServerMsg};
use livret_shared::sync::{Received, Replica};
use tokio_tungstenite::tungstenite::Message;

/// How long to wait for the relay before giving up on one exchange.
const PATIENCE: Duration = Duration::from_secs(30);

/// The device's local data: its keys and its dossiers.
pub struct Home {
    root: PathBuf,
}

impl Home {
    pub fn new(root: Option<PathBuf>) -> Home {
        let root = root.unwrap_or_else(|| {
            std::env::var_os("XDG_DATA_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
                .unwrap_or_else(|| PathBuf::from("."))
                .join("livret")
        });
        Home { root }
    }

    /// This device's keys, created on first use (file readable by its owner only).
    pub fn device(&self) -> Result<DeviceSecret> {
        let path = self.root.join("device.key");
        if let Ok(text) = std::fs::read_to_string(&path) {
            return DeviceSecret::from_secret_string(&text)
                .with_context(|| format!("{}", path.display()));
        }
        if path.exists() {
            // There, but unreadable: never replaced by another (what it opens would be lost).
            bail!(
                "{} est illisible : cet appareil ne peut pas ouvrir ses clés (un nouvel \
                 appareil se fait dans un autre dossier --home)",
                path.display()
            );
        }
        if !self.dossiers().is_empty() {
            // Dossiers without their key: a new key would be a stranger to every one of them.
            bail!(
                "{} est illisible ou manquant alors que cet appareil garde des dossiers : \
                 remettez la clé de cet appareil en place (une nouvelle n'ouvrirait aucun \
                 d'eux)",
                path.display()
            );
        }
        std::fs::create_dir_all(&self.root).with_context(|| format!("{}", self.root.display()))?;
        let secret = DeviceSecret::generate();
        write_private(&path, secret.to_secret_string().as_bytes())?;
        Ok(secret)
    }

    fn dir(&self, id: &DossierId) -> PathBuf {
        self.root.join("dossiers").join(id.to_hex())
    }

    pub fn load(&self, device: &DeviceSecret, id: &DossierId) -> Result<Replica> {
        self.refuse_if_deleted(id)?;
        let path = self.dir(id).join("replica.bin");
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(_) => {
                self.refuse_if_removed(id)?;
                bail!("dossier {id} inconnu sur cet appareil");
            }
        };
        let replica = Replica::restore(device, &bytes)?;
        if replica.standing() == Standing::Removed {
            // Removed from it by the candidate's signed entry, and kept by a version that
            // did not wipe a removed device's copy: wiped now, as a removal is.
            self.wipe_removed(&replica, clock::now_ms() as i64)?;
            self.refuse_if_removed(id)?;
        }
        Ok(replica)
    }

    pub fn save(&self, replica: &mut Replica) -> Result<()> {
        // A deleted dossier is never written back (a save after the sync that learnt it
        // would bring the copy back).
        self.refuse_if_deleted(&replica.id)?;
        match replica.standing() {
            Standing::Removed => {
                // Its removal learnt: the copy is wiped (`wipe_removed`), never written back.
                self.refuse_if_removed(&replica.id)?;
                bail!("cet appareil n'est plus membre du dossier {}", replica.id);
            }
            Standing::Member { .. } if self.removed_at(&replica.id).is_some() => {
                // Welcome back only when its log adds this device after the removal the
                // mark remembers: a copy loaded before that removal was learnt (another
                // command meanwhile) is not written back.
                let named_last =
                    livret_shared::membership::last_entry_naming(replica.log(), &replica.me());
                match (self.removed_seq(&replica.id), named_last) {
                    (Some(removed), Some(last)) if last > removed => {
                        let _ = std::fs::remove_file(self.removed_marker(&replica.id));
                    }
                    _ => self.refuse_if_removed(&replica.id)?,
                }
            }
            Standing::Member { .. } => {}
            Standing::Absent => self.refuse_if_removed(&replica.id)?,
        }
        let dir = self.dir(&replica.id);
        std::fs::create_dir_all(&dir)?;
        // Write then rename: a crash never leaves half a replica.
        let tmp = dir.join("replica.bin.tmp");
        write_private(&tmp, &replica.save())?;
        std::fs::rename(&tmp, dir.join("replica.bin"))?;
        Ok(())
    }

    fn deleted_marker(&self, id: &DossierId) -> PathBuf {
        self.root.join("deleted").join(id.to_hex())
    }

    /// When the dossier was deleted (the relay's date, milliseconds since 1970), if this
    /// device learnt that it was.
    pub fn deleted_at(&self, id: &DossierId) -> Option<i64> {
        read_mark(&self.deleted_marker(id), 0)
    }

    fn refuse_if_deleted(&self, id: &DossierId) -> Result<()> {
        match self.deleted_at(id) {
            Some(at) => bail!(
                "dossier {id} supprimé par le candidat le {} : il n'est plus sur cet appareil",
                livret_shared::date::Date::of_ms(at).in_french()
            ),
            None => Ok(()),
        }
    }

    fn removed_marker(&self, id: &DossierId) -> PathBuf {
        self.root.join("removed").join(id.to_hex())
    }

    /// When this device learnt that the candidate removed it from the dossier (its clock,
    /// milliseconds since 1970), if it was and was not added again since.
    pub fn removed_at(&self, id: &DossierId) -> Option<i64> {
        read_mark(&self.removed_marker(id), 0)
    }

    /// The number of the membership entry that removed this device, as the mark keeps it
    /// (`<when learnt, ms> <the removal's entry number>`).
    fn removed_seq(&self, id: &DossierId) -> Option<u64> {
        read_mark(&self.removed_marker(id), 1)
    }

    fn refuse_if_removed(&self, id: &DossierId) -> Result<()> {
        match self.removed_at(id) {
            Some(at) => bail!(
                "le candidat a retiré cet appareil du dossier {id} : sa copie en a été effacée \
                 le {}",
                livret_shared::date::Date::of_ms(at).in_french()
            ),
            None => Ok(()),
        }
    }

    /// Erases this device's copy of a dossier its candidate deleted (the notice checked by
    /// the exchange): what is left is its id and date, so that nothing brings it back.
    pub fn wipe_deleted(&self, replica: &Replica, deleted_ms: i64) -> Result<()> {
        self.erase_copy(
            replica,
            &self.deleted_marker(&replica.id),
            &deleted_ms.to_string(),
        )
    }

    /// Erases this device's copy of a dossier the candidate removed it from (the removal is
    /// an entry of the membership log this device holds, signed by a key that was an owner
    /// there, checked by the replica): what it read, it no longer keeps. What is left is the dossier's id and
    /// the date this device learnt it, until the candidate adds it again.
    pub fn wipe_removed(&self, replica: &Replica, now_ms: i64) -> Result<()> {
        let removal = livret_shared::membership::last_entry_naming(replica.log(), &replica.me());
        let mark = format!("{now_ms} {}", removal.unwrap_or(0));
        self.erase_copy(replica, &self.removed_marker(&replica.id), &mark)
    }

    /// Erases a dossier's copy, leaving `marker` (holding `mark`, its date first) so that
    /// nothing writes it back.
    /// A juror's device keeps the jury's released decision — the jury's own document, which
    /// the session's procès-verbal is made of.
    fn erase_copy(&self, replica: &Replica, marker: &Path, mark: &str) -> Result<()> {
        let id = replica.id;
        if replica.sat_on_jury()
            && let Some((_, decision)) = replica.decision()
        {
            let dir = self.root.join("decisions");
            std::fs::create_dir_all(&dir)?;
            let json = serde_json::to_vec_pretty(&decision)?;
            write_private(&dir.join(format!("{}.json", id.to_hex())), &json)?;
        }
        if let Some(dir) = marker.parent() {
            std::fs::create_dir_all(dir)?;
        }
        write_private(marker, mark.as_bytes())?;
        self.forget_copy(&id)
    }

    /// Removes a deleted dossier's folder (what [`Home::wipe_deleted`] could not remove is
    /// removed at the next sync).
    pub fn forget_copy(&self, id: &DossierId) -> Result<()> {
        match std::fs::remove_dir_all(self.dir(id)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e).with_context(|| format!("{}", self.dir(id).display())),
        }
    }

    /// The jury's released decision on a dossier deleted since (or this juror removed from
    /// it), as this juror's device kept it ([`Home::wipe_deleted`], [`Home::wipe_removed`]).
    pub fn kept_decision(&self, id: &DossierId) -> Option<livret_shared::review::Decision> {
        let path = self
            .root
            .join("decisions")
            .join(format!("{}.json", id.to_hex()));
        serde_json::from_slice(&std::fs::read(path).ok()?).ok()
    }

    pub fn relay_of(&self, id: &DossierId) -> Result<String> {
        std::fs::read_to_string(self.dir(id).join("relay"))
            .map(|s| s.trim().to_string())
            .map_err(|_| anyhow!("dossier {id} inconnu sur cet appareil"))
    }

    pub fn set_relay(&self, id: &DossierId, url: &str) -> Result<()> {
        std::fs::create_dir_all(self.dir(id))?;
        std::fs::write(self.dir(id).join("relay"), url)?;
        Ok(())
    }

    pub fn dossiers(&self) -> Vec<DossierId> {
        let Ok(entries) = std::fs::read_dir(self.root.join("dossiers")) else {
            return Vec::new();
        };
        let mut ids: Vec<DossierId> = entries
            .flatten()
            .filter_map(|e| DossierId::from_hex(&e.file_name().to_string_lossy()))
            .collect();
        ids.sort();
        ids
    }
}

/// The `n`-th word of a mark a wipe left ([`Home::erase_copy`]: its date first).
fn read_mark<T: std::str::FromStr>(marker: &Path, n: usize) -> Option<T> {
    std::fs::read_to_string(marker)
        .ok()?
        .split_whitespace()
        .nth(n)?
        .parse()
        .ok()
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options
        .open(path)
        .with_context(|| format!("{}", path.display()))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}

/// One authenticated connection to a relay.
pub struct Link {
    ws: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
}

impl Link {
    pub async fn connect(relay: &str, device: &DeviceSecret) -> Result<Link> {
        let base = relay.trim_end_matches('/');
        let url = if let Some(rest) = base.strip_prefix("http://") {
            format!("ws://{rest}/api/v1/sync")
        } else if let Some(rest) = base.strip_prefix("https://") {
            format!("wss://{rest}/api/v1/sync")
        } else {
            bail!("{relay} : adresse du relais attendue en http:// ou https://");
        };
        let (ws, _) = tokio::time::timeout(PATIENCE, tokio_tungstenite::connect_async(&url))
            .await
            .map_err(|_| anyhow!("{relay} : le relais ne répond pas"))?
            .map_err(|e| anyhow!("{relay} : connexion impossible ({e})"))?;
        let mut link = Link { ws };
        let ServerMsg::Challenge { nonce } = link.next().await? else {
            bail!("{relay} : réponse inattendue du relais");
        };
        // Signed for the relay this device means to reach: passed on by another, it fails.
        let origin =
            Origin::parse(base).ok_or_else(|| anyhow!("{relay} : adresse du relais illisible"))?;
        link.send(&protocol::hello(&origin, &nonce, device)).await?;
        protocol::login_answer(link.next().await?)
            .map_err(|refused| anyhow!("{relay} : {refused}"))?;
        Ok(link)
    }

    pub async fn send(&mut self, msg: &ClientMsg) -> Result<()> {
        self.ws
            .send(Message::Binary(protocol::encode(msg).into()))
            .await
            .map_err(|e| anyhow!("envoi au relais impossible ({e})"))
    }

    pub async fn next(&mut self) -> Result<ServerMsg> {
        loop {
            let frame = tokio::time::timeout(PATIENCE, self.ws.next())
                .await
                .map_err(|_| anyhow!("le relais ne répond plus"))?
                .ok_or_else(|| anyhow!("le relais a fermé la connexion"))?
                .map_err(|e| anyhow!("connexion au relais interrompue ({e})"))?;
            if let Message::Binary(bytes) = frame {
                return protocol::decode(&bytes)
                    .ok_or_else(|| anyhow!("message illisible du relais"));
            }
        }
    }
}

pub fn parse_id(id: &str) -> Result<DossierId> {
    DossierId::from_hex(id).ok_or_else(|| anyhow!("{id} : identifiant de dossier invalide"))
}

/// Waits for the answer to a request, skipping live messages meant for other work.
pub async fn answer(link: &mut Link, wanted: impl Fn(&ServerMsg) -> bool) -> Result<ServerMsg> {
    loop {
        match link.next().await? {
            ServerMsg::Rejected { detail, .. } => bail!("le relais a refusé : {detail}"),
            msg if wanted(&msg) => return Ok(msg),
            _ => continue,
        }
    }
}

/// Creates a new dossier on the relay (the exchange publishes its first entry), sends its
/// content and keeps it on this device.
pub async fn publish_new(
    home: &Home,
    relay: &str,
    device: &DeviceSecret,
    replica: &mut Replica,
) -> Result<()> {
    let mut link = Link::connect(relay, device).await?;
    home.set_relay(&replica.id, relay)?;
    push_and_pull(home, &mut link, device, replica).await?;
    home.save(replica)
}

/// Sends a membership entry and waits for the relay's verdict; `what` names the change in
/// the error. Accepted, the replica knows the relay holds the log up to it.
pub async fn publish(
    link: &mut Link,
    replica: &mut Replica,
    entry: &SignedEntry,
    what: &str,
) -> Result<()> {
    let id = replica.id;
    link.send(&ClientMsg::Membership {
        dossier: id,
        entry: entry.to_bytes(),
    })
    .await?;
    loop {
        match link.next().await? {
            ServerMsg::MembershipOk { seq, .. } => {
                replica.relay_holds_entries(seq as usize + 1);
                return Ok(());
            }
            ServerMsg::Rejected { detail, .. } => bail!("le relais a refusé {what} ({detail})"),
            _ => continue,
        }
    }
}

/// Says on stderr what a sync could not apply (everything else was): envelopes set aside
/// for good, and those waiting for their epoch's key.
pub fn report_received(id: &DossierId, received: &Received) {
    for q in &received.quarantined {
        eprintln!(
            "dossier {id} : enveloppe n° {} de {} mise de côté ({}) ; le reste est appliqué",
            q.counter,
            keys::short(&q.writer),
            q.reason
        );
    }
    if received.waiting > 0 {
        eprintln!(
            "dossier {id} : {} enveloppe(s) en attente de la clé de leur époque (un appareil \
             du candidat la donnera à sa prochaine synchronisation)",
            received.waiting
        );
    }
}

/// One sync of `replica` over `link`, as every device does it (`livret_shared::exchange`):
/// seals local edits, catches up, publishes what the relay lacks, a juror's jury key round,
/// sends the outbox; returns once every envelope is acknowledged. What arrived is in the
/// replica even when it fails half-way (save it either way).
///
/// A dossier its candidate deleted, or removed this device from, is wiped from this device
/// here (the error says so).
pub async fn push_and_pull(
    home: &Home,
    link: &mut Link,
    device: &DeviceSecret,
    replica: &mut Replica,
) -> Result<()> {
    let (mut exchange, mut out) =
        match Exchange::start(replica, device, clock::now_ms() as i64, &mut random_nonce) {
            Ok(started) => started,
            Err(e) => {
                let e = anyhow::Error::from(e);
                wipe_if_ended(home, replica, &e)?;
                return Err(e);
            }
        };
    let outcome: Result<()> = async {
        loop {
            for msg in out.drain(..) {
                link.send(&msg).await?;
            }
            if exchange.is_done() {
                return Ok(());
            }
            let msg = link.next().await?;
            out = exchange.handle(replica, device, msg, &mut random_nonce)?;
        }
    }
    .await;
    report_received(&replica.id, exchange.received());
    if let Err(e) = &outcome {
        wipe_if_ended(home, replica, e)?;
    }
    outcome
}

/// Wipes this device's copy when `e` says the dossier ended for it: deleted by its
/// candidate, or this device removed from it.
fn wipe_if_ended(home: &Home, replica: &Replica, e: &anyhow::Error) -> Result<()> {
    match e.downcast_ref::<ExchangeError>() {
        Some(ExchangeError::Deleted { deleted_ms, .. }) => home.wipe_deleted(replica, *deleted_ms),
        Some(ExchangeError::Removed(_)) => home.wipe_removed(replica, clock::now_ms() as i64),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use livret_shared::keys::EpochKeys;
    use livret_shared::membership::Role;

    use super::*;

    fn temp_home(label: &str) -> Home {
        let root = std::env::temp_dir().join(format!(
            "livret-home-{label}-{}-{}",
            std::process::id(),
            clock::now_ms()
        ));
        Home::new(Some(root))
    }

    /// A copy loaded before its removal was learnt (another command running meanwhile) is
    /// not written back once the removal wiped it; the device added again, its copy is
    /// welcome back.
    #[test]
    fn a_copy_loaded_before_its_removal_is_not_written_back() {
        let home = temp_home("retrait");
        let advisor = home.device().unwrap();
        let owner = DeviceSecret::generate();
        let (mut candidate, _) =
            Replica::create(&owner, DossierId::generate(), EpochKeys::generate()).unwrap();
        candidate
            .add_member(&owner, &advisor.id(), Role::Advisor)
            .unwrap();
        let mut loaded_before = Replica::join(&advisor, candidate.log().to_vec()).unwrap();
        home.save(&mut loaded_before).unwrap();

        let removal = candidate
            .remove_member(&owner, &advisor.signing_public())
            .unwrap();
        let mut learnt = Replica::join(&advisor, loaded_before.log().to_vec()).unwrap();
        learnt.apply_membership(&advisor, &[removal]).unwrap();
        assert_eq!(learnt.standing(), Standing::Removed);
        home.wipe_removed(&learnt, 1_000).unwrap();
        assert!(home.dossiers().is_empty());

        assert!(home.save(&mut loaded_before).is_err());
        assert!(home.dossiers().is_empty(), "not written back");

        let added = candidate
            .add_member(&owner, &advisor.id(), Role::Advisor)
            .unwrap();
        let mut again = learnt;
        again.apply_membership(&advisor, &[added]).unwrap();
        home.save(&mut again).unwrap();
        assert_eq!(home.dossiers(), [again.id]);
        assert_eq!(home.removed_at(&again.id), None);

        // Removed a second time: a copy loaded after its return but before this removal
        // was learnt is not written back either.
        let mut loaded_after_return = Replica::restore(&advisor, &again.save()).unwrap();
        let second = candidate
            .remove_member(&owner, &advisor.signing_public())
            .unwrap();
        again.apply_membership(&advisor, &[second]).unwrap();
        home.wipe_removed(&again, 2_000).unwrap();
        assert!(home.save(&mut loaded_after_return).is_err());
        assert!(home.dossiers().is_empty(), "not written back");
        let _ = std::fs::remove_dir_all(&home.root);
    }
}
