//! When a device tries the relay again after a connection failed or dropped: a wait that
//! doubles from a first step to a cap, back to the first step once a sync succeeds, each wait
//! drawn between its half and its whole. Pure: the caller sleeps and gives the random draw.
//!
//! Why drawn: when the relay restarts, every open app loses its connection at the same
//! instant; with fixed waits they would all come back together at 1 s, 2 s, 4 s… (the soak
//! showed 200 devices reconnecting in waves). Spread over half of each wait, they do not.

/// The reconnection schedule of one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reconnect {
    first_ms: u32,
    cap_ms: u32,
    /// The longest the next wait may be.
    next_ms: u32,
}

impl Reconnect {
    /// Waits from `first_ms` doubling to `cap_ms` (a cap below the first step is the first).
    pub fn new(first_ms: u32, cap_ms: u32) -> Reconnect {
        let first_ms = first_ms.max(1);
        Reconnect {
            first_ms,
            cap_ms: cap_ms.max(first_ms),
            next_ms: first_ms,
        }
    }

    /// A sync went through: the next failure waits the first step again.
    pub fn connected(&mut self) {
        self.next_ms = self.first_ms;
    }

    /// The wait before the next attempt, given a random draw in `[0, 1)`: between half the
    /// current step and the whole of it. The step after doubles, up to the cap.
    pub fn wait_ms(&mut self, draw: f64) -> u32 {
        let step = self.next_ms;
        self.next_ms = step.saturating_mul(2).min(self.cap_ms);
        let draw = if draw.is_finite() {
            draw.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let half = step / 2;
        half + ((step - half) as f64 * draw) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_to_the_cap_and_start_again_once_connected() {
        let mut r = Reconnect::new(1_000, 10_000);
        let longest: Vec<u32> = (0..6).map(|_| r.wait_ms(1.0)).collect();
        assert_eq!(longest, [1_000, 2_000, 4_000, 8_000, 10_000, 10_000]);
        r.connected();
        assert_eq!(
            r.wait_ms(0.0),
            500,
            "the shortest draw: half the first step"
        );
        assert_eq!(
            r.wait_ms(0.5),
            1_500,
            "2 s step, drawn halfway between 1 s and 2 s"
        );
    }

    #[test]
    fn devices_that_lost_the_relay_together_come_back_spread() {
        // Ten devices, their draws spread over [0, 1): their first waits differ.
        let waits: std::collections::BTreeSet<u32> = (0..10)
            .map(|i| Reconnect::new(1_000, 10_000).wait_ms(i as f64 / 10.0))
            .collect();
        assert_eq!(waits.len(), 10);
        assert!(waits.iter().all(|w| (500..=1_000).contains(w)));
    }

    #[test]
    fn a_bad_draw_or_odd_bounds_still_give_a_wait_within_them() {
        let mut r = Reconnect::new(0, 0);
        assert_eq!(r.wait_ms(f64::NAN), 0);
        let mut r = Reconnect::new(1_000, 10);
        assert_eq!(
            r.wait_ms(7.0),
            1_000,
            "draw clamped, cap raised to the first step"
        );
        assert_eq!(r.wait_ms(-1.0), 500);
    }
}
