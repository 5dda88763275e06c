//! Retrying transient failures: 5xx, 429 (after its `Retry-After`), timeouts and
//! dropped connections, with capped exponential backoff and full jitter. Every request
//! homelab makes is idempotent (server-side apply, GET, LIST, DELETE treating 404 as
//! done), so repeating one is safe.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::client::RequestError;

/// How often and how patiently to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries in all, the first included (1 means no retry).
    pub attempts: u32,
    /// The first backoff; it doubles per retry.
    pub base: Duration,
    /// No backoff (nor `Retry-After`) waits longer than this.
    pub cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 6,
            base: Duration::from_millis(50),
            cap: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        RetryPolicy {
            attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// The wait before retry number `retry` (0 for the first retry): a random duration
    /// up to `min(cap, base * 2^retry)`, or the server's `Retry-After` when it gave one.
    pub fn backoff(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(after) = retry_after {
            return after.min(self.cap);
        }
        let ceiling = self
            .base
            .saturating_mul(1u32.checked_shl(retry.min(20)).unwrap_or(u32::MAX))
            .min(self.cap);
        // Full jitter, never below a tenth so retries do not hammer the server.
        let fraction = 0.1 + 0.9 * jitter();
        ceiling.mul_f64(fraction)
    }
}

/// Whether a failure may go away by itself.
pub(crate) fn is_transient(error: &RequestError) -> bool {
    match error {
        RequestError::Transport(_) => true,
        RequestError::Api { code, .. } => matches!(code, 429 | 500 | 502 | 503 | 504),
    }
}

/// A number in [0, 1) from a small xorshift generator seeded by the clock; jitter only
/// needs to decorrelate clients, not to be unpredictable.
fn jitter() -> f64 {
    static STATE: AtomicU64 = AtomicU64::new(0);
    let mut x = STATE.load(Ordering::Relaxed);
    if x == 0 {
        x = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9e37_79b9_7f4a_7c15)
            | 1;
    }
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    STATE.store(x, Ordering::Relaxed);
    (x >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_capped_and_honours_retry_after() {
        let p = RetryPolicy {
            attempts: 10,
            base: Duration::from_millis(100),
            cap: Duration::from_secs(1),
        };
        for retry in 0..30 {
            let b = p.backoff(retry, None);
            assert!(b <= Duration::from_secs(1), "{b:?}");
            assert!(b >= Duration::from_millis(10), "{b:?}");
        }
        assert!(p.backoff(0, None) <= Duration::from_millis(100));
        assert_eq!(
            p.backoff(0, Some(Duration::from_millis(300))),
            Duration::from_millis(300)
        );
        assert_eq!(
            p.backoff(0, Some(Duration::from_secs(60))),
            Duration::from_secs(1)
        );
    }

    #[test]
    fn transient_errors() {
        let api = |code| RequestError::Api {
            code,
            reason: String::new(),
            message: String::new(),
            causes: vec![],
        };
        assert!(is_transient(&api(503)));
        assert!(is_transient(&api(429)));
        assert!(is_transient(&RequestError::Transport("reset".into())));
        assert!(!is_transient(&api(409)));
        assert!(!is_transient(&api(422)));
    }
}
