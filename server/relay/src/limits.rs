//! The relay's limits on connections: how many at once, overall and per address. Each
//! limit is a named constant; refusals are counted in the metrics (`limited`) and listed in
//! the README's "Limits" section.

use std::collections::HashMap;

use livret_shared::keys::MemberKey;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// WebSocket connections open at once on the relay. Each costs a task, its queues (up to
/// `MAX_QUEUED_BYTES` in `relay`) and a socket; a few thousand devices syncing at once is
/// far beyond one relay's expected use (a certifier's candidates, advisors and jurors).
pub const MAX_CONNECTIONS: usize = 4096;

/// WebSocket connections open at once from one IP address: a device keeps one per open
/// app or CLI command; an office behind one address (a training centre) has a few dozen
/// people at most. Beyond, one address would take the relay's whole capacity.
pub const MAX_CONNECTIONS_PER_ADDRESS: usize = 64;

/// Connections counted, overall and by address.
#[derive(Default)]
pub struct ConnectionSlots {
    open: Arc<Mutex<Counts>>,
}

#[derive(Default)]
struct Counts {
    total: usize,
    by_address: HashMap<IpAddr, usize>,
}

/// Which limit refused a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {
    Relay,
    Address,
}

impl Full {
    /// The metrics' name of the limit.
    pub fn metric(self) -> &'static str {
        match self {
            Full::Relay => "connections_total",
            Full::Address => "connections_per_address",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Full::Relay => "relais saturé : trop de connexions ouvertes, réessayez plus tard",
            Full::Address => {
                "trop de connexions ouvertes depuis cette adresse : fermez-en avant d'en ouvrir d'autres"
            }
        }
    }
}

/// A connection's place, given back when dropped.
pub struct Slot {
    open: Arc<Mutex<Counts>>,
    address: IpAddr,
}

impl ConnectionSlots {
    pub fn take(&self, address: IpAddr) -> Result<Slot, Full> {
        let mut counts = self.open.lock().expect("slots lock");
        if counts.total >= MAX_CONNECTIONS {
            return Err(Full::Relay);
        }
        let mine = counts.by_address.entry(address).or_default();
        if *mine >= MAX_CONNECTIONS_PER_ADDRESS {
            return Err(Full::Address);
        }
        *mine += 1;
        counts.total += 1;
        Ok(Slot {
            open: self.open.clone(),
            address,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.open.lock().expect("slots lock");
        counts.total -= 1;
        if let Some(n) = counts.by_address.get_mut(&self.address) {
            *n -= 1;
            if *n == 0 {
                counts.by_address.remove(&self.address);
            }
        }
    }
}

/// Dossiers one device key may create per day: a candidate makes one or two, a test a few
/// more; beyond, a script is filling the relay.
pub const DOSSIERS_PER_KEY_PER_DAY: u32 = 20;
/// Dossiers created per day from one IP address, whatever the keys (a fresh key costs
/// nothing, an address does): a training centre's candidates starting together.
pub const DOSSIERS_PER_ADDRESS_PER_DAY: u32 = 100;
/// Invitations (mail sent by the relay to any address) one device key may ask per day: a
/// candidate invites an advisor and a few jurors.
pub const INVITATIONS_PER_KEY_PER_DAY: u32 = 30;
/// Invitations per day from one IP address, whatever the keys.
pub const INVITATIONS_PER_ADDRESS_PER_DAY: u32 = 150;
/// Members of one dossier (devices: the candidate's few, advisors', jurors'): a jury is a
/// handful of people; the relay folds and checks every membership entry, and fans out to
/// every member's connections.
pub const MAX_MEMBERS_PER_DOSSIER: usize = 64;

const DAY_MS: u64 = 24 * 3600 * 1000;

/// Past this many counters, those of finished windows are forgotten.
const MAX_COUNTERS: usize = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Who {
    Key(MemberKey),
    Address(IpAddr),
}

/// Counts per key and per address in fixed windows of a day, in memory (a restart forgets
/// them: these bound abuse, they are not accounts).
#[derive(Default)]
pub struct DailyQuota {
    counters: Mutex<HashMap<Who, (u64, u32)>>,
}

/// The quota a request went past.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverQuota {
    Key,
    Address,
}

impl DailyQuota {
    /// Counts one for `key` and `address` unless either is at its limit.
    pub fn take(
        &self,
        key: &MemberKey,
        address: Option<IpAddr>,
        per_key: u32,
        per_address: u32,
        now_ms: u64,
    ) -> Result<(), OverQuota> {
        let mut counters = self.counters.lock().expect("quota lock");
        if counters.len() > MAX_COUNTERS {
            counters.retain(|_, (start, _)| now_ms.saturating_sub(*start) < DAY_MS);
        }
        let current = |who: Who| {
            let (start, count) = counters.get(&who).copied().unwrap_or((now_ms, 0));
            if now_ms.saturating_sub(start) >= DAY_MS {
                (now_ms, 0)
            } else {
                (start, count)
            }
        };
        let by_key = current(Who::Key(*key));
        if by_key.1 >= per_key {
            return Err(OverQuota::Key);
        }
        let by_address = address.map(|a| (a, current(Who::Address(a))));
        if let Some((_, (_, count))) = by_address
            && count >= per_address
        {
            return Err(OverQuota::Address);
        }
        counters.insert(Who::Key(*key), (by_key.0, by_key.1 + 1));
        if let Some((a, (start, count))) = by_address {
            counters.insert(Who::Address(a), (start, count + 1));
        }
        Ok(())
    }
}

/// The relay's per-key and per-address quotas.
#[derive(Default)]
pub struct Quotas {
    pub dossiers: DailyQuota,
    pub invitations: DailyQuota,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daily_quotas_count_keys_and_addresses_and_renew() {
        let quota = DailyQuota::default();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..3 {
            quota
                .take(&MemberKey([1; 32]), Some(a), 3, 5, 1000)
                .unwrap();
        }
        assert_eq!(
            quota.take(&MemberKey([1; 32]), Some(a), 3, 5, 1000),
            Err(OverQuota::Key)
        );
        // Fresh keys from the same address: the address's quota.
        quota
            .take(&MemberKey([2; 32]), Some(a), 3, 5, 1000)
            .unwrap();
        quota
            .take(&MemberKey([3; 32]), Some(a), 3, 5, 1000)
            .unwrap();
        assert_eq!(
            quota.take(&MemberKey([4; 32]), Some(a), 3, 5, 1000),
            Err(OverQuota::Address)
        );
        // A day later, all renewed.
        quota
            .take(&MemberKey([1; 32]), Some(a), 3, 5, 1000 + DAY_MS)
            .unwrap();
        quota
            .take(&MemberKey([4; 32]), Some(a), 3, 5, 1000 + DAY_MS)
            .unwrap();
    }

    #[test]
    fn slots_are_counted_per_address_and_given_back() {
        let slots = ConnectionSlots::default();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let held: Vec<Slot> = (0..MAX_CONNECTIONS_PER_ADDRESS)
            .map(|_| slots.take(a).unwrap())
            .collect();
        assert_eq!(slots.take(a).err(), Some(Full::Address));
        let other = slots.take(b).unwrap();
        drop(held);
        drop(other);
        assert!(slots.open.lock().unwrap().by_address.is_empty());
        assert!(slots.take(a).is_ok());
    }
}
