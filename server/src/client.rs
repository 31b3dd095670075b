//! The native client: the same sync engine as the browser (`livret_shared::sync::Replica`),
//! with a local store under `--home` and a WebSocket to the relay. Used by tests, scripts and
//! administrators.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use futures_util::{SinkExt, StreamExt};
use livret_shared::catchup::Gathered;
use livret_shared::comments::{CommentId, Draft};
use livret_shared::envelope::{DossierId, random_nonce};
use livret_shared::exchange::Exchange;
use livret_shared::keys::{self, DeviceId, DeviceSecret, EpochKeys};
use livret_shared::membership::{Role, SignedEntry};
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
        std::fs::create_dir_all(&self.root).with_context(|| format!("{}", self.root.display()))?;
        let secret = DeviceSecret::generate();
        write_private(&path, secret.to_secret_string().as_bytes())?;
        Ok(secret)
    }

    fn dir(&self, id: &DossierId) -> PathBuf {
        self.root.join("dossiers").join(id.to_hex())
    }

    pub fn load(&self, device: &DeviceSecret, id: &DossierId) -> Result<Replica> {
        let path = self.dir(id).join("replica.bin");
        let bytes =
            std::fs::read(&path).map_err(|_| anyhow!("dossier {id} inconnu sur cet appareil"))?;
        Ok(Replica::restore(device, &bytes)?)
    }

    pub fn save(&self, replica: &mut Replica) -> Result<()> {
        let dir = self.dir(&replica.id);
        std::fs::create_dir_all(&dir)?;
        // Write then rename: a crash never leaves half a replica.
        let tmp = dir.join("replica.bin.tmp");
        write_private(&tmp, &replica.save())?;
        std::fs::rename(&tmp, dir.join("replica.bin"))?;
        Ok(())
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

pub fn identity_show(home: &Home) -> Result<()> {
    println!("{}", home.device()?.id().to_line());
    Ok(())
}

pub fn identity_code(home: &Home) -> Result<()> {
    println!("{}", home.device()?.id().safety_code());
    Ok(())
}

/// Waits for the answer to a request, skipping live messages meant for other work.
async fn answer(link: &mut Link, wanted: impl Fn(&ServerMsg) -> bool) -> Result<ServerMsg> {
    loop {
        match link.next().await? {
            ServerMsg::Rejected { detail, .. } => bail!("le relais a refusé : {detail}"),
            msg if wanted(&msg) => return Ok(msg),
            _ => continue,
        }
    }
}

pub async fn dossier_invite(
    home: &Home,
    id: &str,
    email: &str,
    role: Role,
    name: Option<String>,
) -> Result<()> {
    let id = parse_id(id)?;
    let device = home.device()?;
    let mut link = Link::connect(&home.relay_of(&id)?, &device).await?;
    link.send(&ClientMsg::Invite {
        dossier: id,
        email: email.to_string(),
        role,
        inviter: name,
    })
    .await?;
    if let ServerMsg::Invited { invitation, .. } =
        answer(&mut link, |m| matches!(m, ServerMsg::Invited { .. })).await?
    {
        println!("{}", hex::encode(invitation));
    }
    Ok(())
}

pub async fn dossier_requests(home: &Home, id: &str) -> Result<()> {
    let id = parse_id(id)?;
    let device = home.device()?;
    let mut link = Link::connect(&home.relay_of(&id)?, &device).await?;
    link.send(&ClientMsg::Requests { dossier: id }).await?;
    if let ServerMsg::Requests { requests, .. } =
        answer(&mut link, |m| matches!(m, ServerMsg::Requests { .. })).await?
    {
        for r in requests {
            // The code is computed here, from the identity the relay passed on.
            let code = r.identity.parse::<DeviceId>()?.safety_code();
            println!(
                "{} {} {code} {}",
                hex::encode(r.invitation),
                r.role.as_str(),
                r.identity
            );
        }
    }
    Ok(())
}

/// `link` is the address from the mail (`<relay>/#invitation=<token>`).
pub async fn invitation_accept(home: &Home, link: &str) -> Result<()> {
    let (relay, token) = link
        .trim()
        .split_once("/#invitation=")
        .ok_or_else(|| anyhow!("lien d'invitation attendu (…/#invitation=…)"))?;
    let device = home.device()?;
    let mut connection = Link::connect(relay, &device).await?;
    connection
        .send(&ClientMsg::Accept {
            token: token.to_string(),
            identity: device.id().to_line(),
        })
        .await?;
    if let ServerMsg::Accepted { dossier, role } =
        answer(&mut connection, |m| matches!(m, ServerMsg::Accepted { .. })).await?
    {
        println!("{dossier}");
        println!("{}", device.id().safety_code());
        eprintln!(
            "En attente de l'accord du candidat ({}) : comparez ce code avec le sien.",
            role.as_str()
        );
    }
    Ok(())
}

pub async fn dossier_new(home: &Home, relay: &str, referentiel: Option<&Path>) -> Result<()> {
    let device = home.device()?;
    let id = DossierId::generate();
    let (mut replica, _) = Replica::create(&device, id, EpochKeys::generate())?;
    if let Some(path) = referentiel {
        let bytes = std::fs::read(path).with_context(|| format!("{}", path.display()))?;
        let imports = crate::pdf_reader::import_bytes(&bytes)
            .map_err(|e| anyhow!("{}: {e}", path.display()))?;
        replica.dossier().set_referentiel(&imports[0].referentiel)?;
    }
    publish_new(home, relay, &device, &mut replica).await?;
    println!("{id}");
    Ok(())
}

/// Creates a new dossier on the relay (the exchange publishes its first entry), sends its
/// content and keeps it on this device.
async fn publish_new(
    home: &Home,
    relay: &str,
    device: &DeviceSecret,
    replica: &mut Replica,
) -> Result<()> {
    let mut link = Link::connect(relay, device).await?;
    home.set_relay(&replica.id, relay)?;
    push_and_pull(&mut link, device, replica).await?;
    home.save(replica)
}

/// Writes the dossier as JSON (`livret_shared::export`): every field, the fiches in order,
/// the annexes' descriptions, the comments this device reads. Written whole or not at all.
pub fn dossier_export(home: &Home, id: &str, out: &Path) -> Result<()> {
    let id = parse_id(id)?;
    let device = home.device()?;
    let mut replica = home.load(&device, &id)?;
    let comments = replica.comments();
    let json = livret_shared::export::export(replica.dossier(), Some(&comments))?;
    let text = serde_json::to_vec_pretty(&json)?;
    let tmp = out.with_extension("json.tmp");
    std::fs::write(&tmp, text).with_context(|| format!("{}", tmp.display()))?;
    std::fs::rename(&tmp, out).with_context(|| format!("{}", out.display()))?;
    Ok(())
}

/// Makes a new dossier from a JSON export, on `relay`; prints its id. A file that is not an
/// export, or names a field Livret does not have, is refused before anything is created.
pub async fn dossier_import(home: &Home, file: &Path, relay: &str) -> Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("{}", file.display()))?;
    let json =
        livret_shared::export::parse(&bytes).map_err(|e| anyhow!("{}: {e}", file.display()))?;
    let device = home.device()?;
    let id = DossierId::generate();
    let (mut replica, _) = Replica::create(&device, id, EpochKeys::generate())?;
    livret_shared::export::fill(replica.dossier(), &json)?;
    publish_new(home, relay, &device, &mut replica).await?;
    println!("{id}");
    Ok(())
}

pub async fn dossier_share(home: &Home, id: &str, identity: &str, role: Role) -> Result<()> {
    let id = parse_id(id)?;
    let member: DeviceId = identity.parse()?;
    let device = home.device()?;
    let mut replica = home.load(&device, &id)?;
    if !replica.membership().is_owner(&device.signing_public()) {
        bail!("seul le candidat (propriétaire du dossier) peut le partager");
    }
    // Applied in memory, kept only once the relay has it (saved after the publication).
    let entry = replica.add_member(&device, &member, role)?;
    let mut link = Link::connect(&home.relay_of(&id)?, &device).await?;
    publish(&mut link, id, &entry, "le partage").await?;
    home.save(&mut replica)?;
    Ok(())
}

/// Removes a member (owner only): first brings the replica up to date and sends what is
/// still unsent (sealed for the current epoch, which the relay refuses once the epoch
/// moves), then publishes a new epoch whose key is wrapped to everyone who remains.
/// Prints the new epoch.
pub async fn dossier_remove(home: &Home, id: &str, identity: &str) -> Result<()> {
    let id = parse_id(id)?;
    let member: DeviceId = identity.parse()?;
    let device = home.device()?;
    let mut replica = home.load(&device, &id)?;
    let mut link = Link::connect(&home.relay_of(&id)?, &device).await?;
    push_and_pull(&mut link, &device, &mut replica).await?;
    home.save(&mut replica)?;
    let state = replica.membership();
    if !state.is_owner(&device.signing_public()) {
        bail!("seul le candidat (propriétaire du dossier) peut retirer un membre");
    }
    if state.role_of(&member.signing).is_none() {
        bail!("cette identité n'est pas membre du dossier");
    }
    let entry = replica.remove_member(&device, &member.signing)?;
    publish(&mut link, id, &entry, "le retrait").await?;
    home.save(&mut replica)?;
    println!("{}", replica.membership().epoch);
    Ok(())
}

/// The members as this device last saw them: `<role> <safety code> <identity>`, one a line.
pub fn dossier_members(home: &Home, id: &str) -> Result<()> {
    let id = parse_id(id)?;
    let device = home.device()?;
    let replica = home.load(&device, &id)?;
    for m in replica.membership().members.values() {
        let identity = m.id();
        println!(
            "{} {} {}",
            m.role.as_str(),
            identity.safety_code(),
            identity.to_line()
        );
    }
    Ok(())
}

/// Sets (or with no date cancels) the reminders before the jury; prints when each goes.
pub async fn dossier_reminders(
    home: &Home,
    id: &str,
    email: Option<String>,
    jury_date: Option<livret_shared::date::Date>,
) -> Result<()> {
    let id = parse_id(id)?;
    let device = home.device()?;
    let mut link = Link::connect(&home.relay_of(&id)?, &device).await?;
    link.send(&ClientMsg::Reminders {
        dossier: id,
        email: email.unwrap_or_default(),
        jury_date,
    })
    .await?;
    if let ServerMsg::Reminders { due, .. } =
        answer(&mut link, |m| matches!(m, ServerMsg::Reminders { .. })).await?
    {
        for at in due {
            let day = livret_shared::date::Date::from_days_since_epoch(at.div_euclid(86_400_000));
            let minutes = at.rem_euclid(86_400_000) / 60_000;
            println!("{} {:02}:{:02} UTC", day.iso(), minutes / 60, minutes % 60);
        }
    }
    Ok(())
}

/// Sends a membership entry and waits for the relay's verdict; `what` names the change in
/// the error.
async fn publish(link: &mut Link, id: DossierId, entry: &SignedEntry, what: &str) -> Result<()> {
    link.send(&ClientMsg::Membership {
        dossier: id,
        entry: entry.to_bytes(),
    })
    .await?;
    loop {
        match link.next().await? {
            ServerMsg::MembershipOk { .. } => return Ok(()),
            ServerMsg::Rejected { detail, .. } => bail!("le relais a refusé {what} ({detail})"),
            _ => continue,
        }
    }
}

pub async fn dossier_open(home: &Home, id: &str, relay: &str) -> Result<()> {
    let id = parse_id(id)?;
    let device = home.device()?;
    // Opening it again would replace the replica, and with it what was not sent yet.
    if home.load(&device, &id).is_ok() {
        bail!(
            "le dossier {id} est déjà sur cet appareil : `livret sync` le met à jour \
             (rien n'a été remplacé)"
        );
    }
    let mut link = Link::connect(relay, &device).await?;
    link.send(&ClientMsg::Subscribe {
        dossier: id,
        since: Vec::new(),
    })
    .await?;
    // A long history comes in several frames: gathered, then applied in one batch.
    let mut caught = Gathered::default();
    loop {
        match link.next().await? {
            ServerMsg::Rejected { detail, .. } => bail!("dossier {id} : {detail}"),
            msg => {
                if caught.add_msg(id, msg) == Some(true) {
                    break;
                }
            }
        }
    }
    let log: Vec<SignedEntry> = caught
        .entries
        .iter()
        .map(|b| SignedEntry::from_bytes(b))
        .collect::<Result<_, _>>()?;
    let mut replica = Replica::join(&device, log)?;
    let received = replica.apply_log(
        &device,
        &[],
        caught.snapshot.as_deref(),
        &caught.envelopes,
        caught.active_snapshot,
    )?;
    report_received(&id, &received);
    home.set_relay(&id, relay)?;
    home.save(&mut replica)?;
    Ok(())
}

/// Says on stderr what a sync could not apply (everything else was): envelopes set aside
/// for good, and those waiting for their epoch's key.
fn report_received(id: &DossierId, received: &Received) {
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

pub fn dossier_set(home: &Home, id: &str, path: &str, value: &str) -> Result<()> {
    let id = parse_id(id)?;
    let device = home.device()?;
    let mut replica = home.load(&device, &id)?;
    replica.dossier().set(path, value)?;
    home.save(&mut replica)
}

pub fn dossier_get(home: &Home, id: &str, path: &str) -> Result<()> {
    let id = parse_id(id)?;
    let device = home.device()?;
    let mut replica = home.load(&device, &id)?;
    println!("{}", replica.dossier().get(path)?);
    Ok(())
}

fn parse_comment_id(id: &str) -> Result<CommentId> {
    let mut bytes = [0u8; 16];
    hex::decode_to_slice(id.trim(), &mut bytes)
        .map_err(|_| anyhow!("identifiant de fil illisible : {id}"))?;
    Ok(bytes)
}

/// Comments a field (or answers a thread) on this device; `livret sync` sends it. Prints the
/// comment's id (a thread's id is its first comment's).
pub fn dossier_comment(
    home: &Home,
    id: &str,
    field: &str,
    text: &str,
    reply: Option<&str>,
    name: Option<String>,
) -> Result<()> {
    let id = parse_id(id)?;
    let device = home.device()?;
    let mut replica = home.load(&device, &id)?;
    // The field must exist: a comment on a mistyped path would never be shown anywhere.
    replica.dossier().get(field)?;
    let mut comment_id = [0u8; 16];
    getrandom::fill(&mut comment_id).map_err(|e| anyhow!("aléa indisponible : {e}"))?;
    let draft = Draft {
        field: field.to_string(),
        reply_to: reply.map(parse_comment_id).transpose()?,
        author: name.unwrap_or_else(|| device.id().safety_code()),
        text: text.to_string(),
    };
    replica.comment(
        &device,
        draft,
        comment_id,
        crate::clock::now_ms() as u64,
        random_nonce(),
    )?;
    home.save(&mut replica)?;
    println!("{}", hex::encode(comment_id));
    Ok(())
}

/// Marks a thread resolved (or open again, `reopen`) on this device; `livret sync` sends it.
pub fn dossier_resolve(home: &Home, id: &str, thread: &str, reopen: bool) -> Result<()> {
    let id = parse_id(id)?;
    let device = home.device()?;
    let mut replica = home.load(&device, &id)?;
    let by = device.id().safety_code();
    replica.set_thread_resolved(
        &device,
        parse_comment_id(thread)?,
        !reopen,
        &by,
        crate::clock::now_ms() as u64,
        random_nonce(),
    )?;
    home.save(&mut replica)
}

/// Prints the comment threads this device can read, then how many it cannot.
pub fn dossier_comments(home: &Home, id: &str) -> Result<()> {
    let id = parse_id(id)?;
    let device = home.device()?;
    let mut replica = home.load(&device, &id)?;
    let comments = replica.comments();
    for thread in &comments.threads {
        let state = if thread.resolved() {
            "résolu"
        } else {
            "ouvert"
        };
        println!(
            "{} {state} {}",
            hex::encode(thread.first.id),
            thread.first.field
        );
        for c in std::iter::once(&thread.first).chain(&thread.replies) {
            println!("  {} : {}", c.author, c.text);
        }
    }
    println!(
        "{} fil(s) lisible(s), {} note(s) illisible(s) sur cet appareil",
        comments.threads.len(),
        comments.unreadable
    );
    Ok(())
}

/// Syncs, then replaces the dossier's history on the relay by one sealed snapshot.
pub async fn dossier_compact(home: &Home, id: &str) -> Result<()> {
    let id = parse_id(id)?;
    let device = home.device()?;
    let mut replica = home.load(&device, &id)?;
    let mut link = Link::connect(&home.relay_of(&id)?, &device).await?;
    push_and_pull(&mut link, &device, &mut replica).await?;
    let (envelope, covers) = replica.compact(&device, random_nonce())?;
    link.send(&ClientMsg::Snapshot { envelope, covers }).await?;
    loop {
        match link.next().await? {
            ServerMsg::SnapshotOk {
                dossier,
                id: snapshot,
            } if dossier == id => {
                replica.snapshot_accepted(snapshot);
                break;
            }
            ServerMsg::Rejected { detail, reason } => {
                bail!(
                    "le relais a refusé l'instantané : {detail} ({})",
                    reason.as_str()
                )
            }
            _ => continue,
        }
    }
    home.save(&mut replica)
}

pub async fn sync(home: &Home) -> Result<()> {
    let device = home.device()?;
    for id in home.dossiers() {
        let mut replica = home.load(&device, &id)?;
        let relay = home.relay_of(&id)?;
        let mut link = Link::connect(&relay, &device).await?;
        let outcome = push_and_pull(&mut link, &device, &mut replica).await;
        // Whatever arrived is kept, even if the exchange failed half-way.
        home.save(&mut replica)?;
        outcome.with_context(|| format!("dossier {id}"))?;
    }
    Ok(())
}

/// One sync of `replica` over `link`, as every device does it (`livret_shared::exchange`):
/// seals local edits, catches up, publishes what the relay lacks, a juror's jury key round,
/// sends the outbox; returns once every envelope is acknowledged. What arrived is in the
/// replica even when it fails half-way (save it either way).
pub async fn push_and_pull(
    link: &mut Link,
    device: &DeviceSecret,
    replica: &mut Replica,
) -> Result<()> {
    let (mut exchange, mut out) = Exchange::start(replica, device, &mut random_nonce)?;
    let outcome = async {
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
    outcome
}
