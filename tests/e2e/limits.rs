//! The relay's limits against hostile clients: a connection that never logs in is closed,
//! a subscriber that never reads does not grow the relay's memory, one address cannot take
//! every connection, and the metrics are not for everyone.

use std::io::{Read, Write};

use livret_shared::envelope::{self, Channel, DossierId, Header, Kind, random_nonce};
use livret_shared::keys::{DeviceSecret, EpochKeys};
use livret_shared::membership;
use livret_shared::protocol::{ClientMsg, Rejection, ServerMsg};

use crate::support::{Relay, get};
use crate::sync::Raw;

type Socket = tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<std::net::TcpStream>>;

fn open(relay: &Relay) -> Result<Socket, tungstenite::Error> {
    let (ws, _) = tungstenite::connect(format!("ws://{}/api/v1/sync", relay.addr))?;
    if let tungstenite::stream::MaybeTlsStream::Plain(tcp) = ws.get_ref() {
        // A relay that never closes fails the test rather than hanging it.
        tcp.set_read_timeout(Some(std::time::Duration::from_secs(120)))
            .unwrap();
    }
    Ok(ws)
}

fn resident(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace()
        .nth(1)
        .unwrap()
        .parse::<u64>()
        .unwrap()
        * 1024
}

fn metrics(relay: &Relay) -> serde_json::Value {
    serde_json::from_slice(&get(relay.addr, "/api/v1/metrics").body).unwrap()
}

#[test]
fn a_connection_that_never_says_hello_is_closed() {
    let relay = Relay::start();
    let mut ws = open(&relay).unwrap();
    let mut refused = false;
    // Challenge, the refusal, then the close: a few frames at most.
    for _ in 0..8 {
        match crate::support::read_message(&mut ws) {
            Ok(tungstenite::Message::Binary(b)) => {
                if let Some(ServerMsg::Rejected { reason, .. }) =
                    livret_shared::protocol::decode::<ServerMsg>(&b)
                {
                    assert_eq!(reason, Rejection::NotAuthenticated);
                    refused = true;
                }
            }
            Ok(tungstenite::Message::Close(_)) => break,
            Ok(_) => {}
            Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed) => break,
            Err(tungstenite::Error::Io(e)) if e.kind() != std::io::ErrorKind::WouldBlock => break,
            Err(e) => panic!("the relay kept the connection open: {e}"),
        }
    }
    assert!(refused, "told why");
    assert_eq!(metrics(&relay)["limited"]["login_deadline"], 1);
}

#[test]
fn a_subscriber_that_never_reads_does_not_pin_the_fan_out() {
    const ENVELOPES: u64 = 150;
    const SIZE: usize = 1024 * 1024;
    let relay = Relay::start();
    let owner = DeviceSecret::generate();
    let key = EpochKeys::generate();
    let id = DossierId::generate();
    let create = membership::create(id, &owner, &key).unwrap();
    let mut writer = Raw::connect(&relay, &owner);
    writer.send(&ClientMsg::Create {
        entry: create.to_bytes(),
    });
    assert!(matches!(writer.recv(), ServerMsg::MembershipOk { .. }));
    // The same member on a second connection: subscribes, then never reads again.
    let mut idle = Raw::connect(&relay, &owner);
    idle.send(&ClientMsg::Subscribe {
        dossier: id,
        since: Vec::new(),
    });
    let before = resident(relay.pid());
    let payload = vec![0x5a; SIZE];
    for counter in 1..=ENVELOPES {
        let header = Header {
            dossier: id,
            epoch: 1,
            writer: owner.signing_public(),
            counter,
            parent: [0; 32],
            kind: Kind::Changes,
            channel: Channel::Dossier,
        };
        let sealed = envelope::seal(&header, &key.content, random_nonce(), &payload, &owner);
        assert!(matches!(writer.push(&sealed), ServerMsg::Ack { .. }));
    }
    let after = resident(relay.pid());
    let grown = after.saturating_sub(before);
    // 150 MiB were fanned out to a connection that read none of it.
    assert!(
        grown < 80 * 1024 * 1024,
        "the relay grew by {} MiB ({} -> {})",
        grown >> 20,
        before >> 20,
        after >> 20
    );
    // The idle connection was closed: reading it gives what was in flight, then the end.
    let mut received = 0;
    let mut ws = idle.into_socket();
    for _ in 0..ENVELOPES + 8 {
        match crate::support::read_message(&mut ws) {
            Ok(tungstenite::Message::Binary(_)) => received += 1,
            Ok(_) => {}
            Err(_) => break,
        }
    }
    assert!(received < ENVELOPES, "{received} frames: never closed");
    // Its queue overflowed; its socket, full, may also have passed the write deadline.
    let limited = &metrics(&relay)["limited"];
    assert!(
        limited["slow_consumer"].as_u64().unwrap_or(0)
            + limited["write_deadline"].as_u64().unwrap_or(0)
            >= 1,
        "{limited}"
    );
}

#[test]
fn one_address_cannot_take_every_connection() {
    let relay = Relay::start();
    let mut held = Vec::new();
    let mut refused = None;
    // Bounded: the limit is 64 per address.
    for _ in 0..200 {
        match open(&relay) {
            Ok(ws) => held.push(ws),
            Err(tungstenite::Error::Http(response)) => {
                refused = Some(response.status().as_u16());
                break;
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(refused, Some(429), "refused once the address has its share");
    assert_eq!(held.len(), 64);
    assert_eq!(metrics(&relay)["limited"]["connections_per_address"], 1);
    // One closed, one more may open (once the relay has seen the close).
    let mut first = held.remove(0);
    first.close(None).unwrap();
    while crate::support::read_message(&mut first).is_ok() {}
    let mut reopened = false;
    for _ in 0..400 {
        if open(&relay).is_ok() {
            reopened = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    assert!(reopened);
}

#[test]
fn metrics_answer_this_machine_only_or_a_token() {
    let relay = Relay::start();
    assert_eq!(get(relay.addr, "/api/v1/metrics").status, 200);
    // Through a proxy on the same machine: refused.
    let mut tcp = std::net::TcpStream::connect(relay.addr).unwrap();
    write!(
        tcp,
        "GET /api/v1/metrics HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.9\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    tcp.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");

    let with_token = Relay::start_with(
        crate::support::temp_dir("metrics"),
        &["--metrics-token", "jeton-de-test"],
    );
    assert_eq!(get(with_token.addr, "/api/v1/metrics").status, 403);
    let mut tcp = std::net::TcpStream::connect(with_token.addr).unwrap();
    write!(
        tcp,
        "GET /api/v1/metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer jeton-de-test\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    tcp.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

fn create(relay: &Relay, owner: &DeviceSecret) -> (DossierId, EpochKeys, ServerMsg) {
    let key = EpochKeys::generate();
    let id = DossierId::generate();
    let entry = membership::create(id, owner, &key).unwrap();
    let mut raw = Raw::connect(relay, owner);
    raw.send(&ClientMsg::Create {
        entry: entry.to_bytes(),
    });
    (id, key, raw.recv())
}

fn refused_for(answer: ServerMsg, words: &str) {
    match answer {
        ServerMsg::Rejected { reason, detail } => {
            assert_eq!(reason, Rejection::TooLarge);
            assert!(detail.contains(words), "{detail}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn dossiers_created_are_counted_per_key_and_per_address() {
    let relay = Relay::start();
    let owner = DeviceSecret::generate();
    for _ in 0..20 {
        assert!(matches!(
            create(&relay, &owner).2,
            ServerMsg::MembershipOk { .. }
        ));
    }
    refused_for(create(&relay, &owner).2, "quota");
    // Fresh keys do not escape the address's quota (100 a day, 20 already taken).
    let mut created = 20;
    let mut refusal = None;
    for _ in 0..200 {
        match create(&relay, &DeviceSecret::generate()).2 {
            ServerMsg::MembershipOk { .. } => created += 1,
            other => {
                refusal = Some(other);
                break;
            }
        }
    }
    assert_eq!(created, 100);
    refused_for(refusal.unwrap(), "quota");
    assert_eq!(metrics(&relay)["limited"]["dossiers_per_day"], 2);
}

#[test]
fn invitations_are_counted_per_key() {
    let relay = Relay::start();
    let owner = DeviceSecret::generate();
    let (id, _, created) = create(&relay, &owner);
    assert!(matches!(created, ServerMsg::MembershipOk { .. }));
    let mut raw = Raw::connect(&relay, &owner);
    let mut answers = Vec::new();
    for i in 0..31 {
        raw.send(&ClientMsg::Invite {
            dossier: id,
            email: format!("jure{i}@example.org"),
            role: livret_shared::membership::Role::Juror,
            inviter: None,
        });
        answers.push(raw.recv());
    }
    assert!(
        answers[..30]
            .iter()
            .all(|a| matches!(a, ServerMsg::Invited { .. })),
        "{:?}",
        &answers[..30]
    );
    refused_for(answers.pop().unwrap(), "quota");
    assert_eq!(metrics(&relay)["limited"]["invitations_per_day"], 1);
}

#[test]
fn a_dossier_has_at_most_64_members() {
    let relay = Relay::start();
    let owner = DeviceSecret::generate();
    let (id, key, created) = create(&relay, &owner);
    assert!(matches!(created, ServerMsg::MembershipOk { .. }));
    let mut raw = Raw::connect(&relay, &owner);
    let mut log = vec![];
    let mut answers = Vec::new();
    // The relay's log: fetched by subscribing, then folded to add members one by one.
    let (entries, _) = raw.catch_up(id);
    for e in entries {
        log.push(livret_shared::membership::SignedEntry::from_bytes(&e).unwrap());
    }
    for _ in 0..64 {
        let state = livret_shared::membership::Membership::from_log(&log).unwrap();
        let entry = membership::add(
            &state,
            &owner,
            &DeviceSecret::generate().id(),
            livret_shared::membership::Role::Juror,
            &key,
        )
        .unwrap();
        raw.send(&ClientMsg::Membership {
            dossier: id,
            entry: entry.to_bytes(),
        });
        let answer = raw.reply();
        if matches!(answer, ServerMsg::MembershipOk { .. }) {
            log.push(entry);
        }
        answers.push(answer);
    }
    // The owner and 63 others.
    assert!(
        answers[..63]
            .iter()
            .all(|a| matches!(a, ServerMsg::MembershipOk { .. })),
        "{:?}",
        &answers[..63]
    );
    refused_for(answers.pop().unwrap(), "64 membres");
    assert_eq!(metrics(&relay)["limited"]["members_per_dossier"], 1);
}
