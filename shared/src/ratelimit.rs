//! A token bucket: at most `burst` at once, then `per_second` on average. Pure: the caller
//! passes the time, so the relay, tests and fuzzing use the same logic.

/// Tokens are counted in thousandths so that slow rates refill smoothly.
const MILLI: u64 = 1_000;

#[derive(Debug, Clone)]
pub struct TokenBucket {
    burst: u64,
    per_second: u64,
    /// Available tokens, in thousandths.
    tokens: u64,
    last_ms: u64,
}

impl TokenBucket {
    /// A full bucket at `now_ms`.
    pub fn new(burst: u32, per_second: u32, now_ms: u64) -> TokenBucket {
        TokenBucket {
            burst: u64::from(burst),
            per_second: u64::from(per_second),
            tokens: u64::from(burst) * MILLI,
            last_ms: now_ms,
        }
    }

    /// Takes one token if there is one. A clock going backwards refills nothing.
    pub fn take(&mut self, now_ms: u64) -> bool {
        let elapsed = now_ms.saturating_sub(self.last_ms);
        self.last_ms = self.last_ms.max(now_ms);
        // elapsed ms × per second = thousandths of tokens.
        let refill = elapsed.saturating_mul(self.per_second);
        self.tokens = self.tokens.saturating_add(refill).min(self.burst * MILLI);
        if self.tokens >= MILLI {
            self.tokens -= MILLI;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_the_rate() {
        let mut b = TokenBucket::new(3, 2, 10_000);
        assert!((0..3).all(|_| b.take(10_000)));
        assert!(!b.take(10_000), "burst spent");
        assert!(!b.take(10_400), "0.8 of a token");
        assert!(b.take(10_500), "one token after half a second at 2/s");
        assert!(!b.take(10_500));
        // A long pause refills to the burst, not beyond.
        assert_eq!((0..10).filter(|_| b.take(60_000)).count(), 3);
        // The clock going back does not refill.
        assert!(!b.take(1_000));
    }
}
