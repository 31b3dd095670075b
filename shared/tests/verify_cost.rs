//! What the relay spends checking the signatures of a connection's burst of pushes
//! ([`protocol::verify_burst`]), and decoding a writer's key ([`Verifier::new`]). Not a test:
//! run by hand, and read on the same machine before and after a change (dependencies are
//! built at opt-level 2 in every profile, so the curve arithmetic is measured optimised):
//! `cargo test -p livret-shared --test verify_cost -- --ignored --nocapture`.

use std::time::Instant;

use livret_shared::envelope::{self, Channel, DossierId, Header, Kind};
use livret_shared::keys::{ContentKey, DeviceSecret, Verifier};
use livret_shared::protocol;

#[test]
#[ignore = "a measurement, run by hand"]
fn verification_cost() {
    let me = DeviceSecret::generate();
    let key = ContentKey::generate();
    let envelopes: Vec<Vec<u8>> = (1..=64u64)
        .map(|counter| {
            let h = Header {
                dossier: DossierId([3; 16]),
                epoch: 1,
                writer: me.signing_public(),
                counter,
                parent: [0; 32],
                kind: Kind::Changes,
                channel: Channel::Dossier,
            };
            envelope::seal(&h, &key, [counter as u8; 24], b"une frappe", &me)
        })
        .collect();
    let device = Verifier::new(&me.signing_public()).unwrap();
    for burst in [1usize, 8, 64] {
        let refs: Vec<&[u8]> = envelopes[..burst].iter().map(Vec::as_slice).collect();
        let rounds = 6400 / burst;
        assert!(
            protocol::verify_burst(&refs, &device)
                .iter()
                .all(Option::is_some)
        );
        let start = Instant::now();
        for _ in 0..rounds {
            std::hint::black_box(protocol::verify_burst(std::hint::black_box(&refs), &device));
        }
        let per = start.elapsed().as_secs_f64() * 1e6 / (rounds * burst) as f64;
        println!("verify_burst, bursts of {burst:2}: {per:6.1} µs per envelope");
    }
    let rounds = 2000;
    let start = Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(Verifier::new(std::hint::black_box(&me.signing_public())));
    }
    let per = start.elapsed().as_secs_f64() * 1e6 / rounds as f64;
    println!("Verifier::new (a key decoded):    {per:6.1} µs");
}
