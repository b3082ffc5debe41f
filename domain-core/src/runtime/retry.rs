//! Retries and dead letters: how often a failing delivery is attempted, how long to wait between
//! attempts, and which streams are parked for which handler.
//!
//! A delivery that still fails after its last attempt is *parked*: its failure record is a dead
//! letter (`Domain::failed_deliveries`), and later events of the same stream wait behind it for
//! that handler (recorded as blocked, not run), so that a handler sees each stream in order.
//! Other streams go on. Retrying the parked delivery successfully, or skipping it, delivers the
//! ones behind it in order.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use foldhash::HashMap;
use parking_lot::Mutex;
use uuid::Uuid;

/// How many times a failing delivery is attempted before it is parked, and the backoff between
/// attempts: exponential from `first_delay`, capped at `max_delay`, each delay drawn at random
/// between half and all of it (jitter, so that handlers failing together do not retry together).
///
/// The default is one attempt for handlers delivered by `process` (sync processing: the caller
/// waits, and hears of the failure at once) and five for the engine's (async processing).
///
/// ```
/// use std::time::Duration;
/// use domain_core::RetryPolicy;
///
/// let policy = RetryPolicy::attempts(4).backoff(Duration::from_millis(50), Duration::from_secs(2));
/// assert_eq!(policy.max_attempts(), 4);
/// assert!(policy.delay_before(2) <= Duration::from_millis(50));
/// assert!(policy.delay_before(4) <= Duration::from_millis(200));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    attempts: u32,
    first_delay: Duration,
    max_delay: Duration,
}

impl RetryPolicy {
    /// `attempts` attempts in all (at least one), with a backoff from 100 ms up to 10 s.
    pub const fn attempts(attempts: u32) -> RetryPolicy {
        RetryPolicy {
            attempts: if attempts == 0 { 1 } else { attempts },
            first_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(10),
        }
    }

    /// The delay before the second attempt, and the most any delay may be.
    pub const fn backoff(mut self, first_delay: Duration, max_delay: Duration) -> RetryPolicy {
        self.first_delay = first_delay;
        self.max_delay = max_delay;
        self
    }

    /// How many attempts a delivery gets before it is parked.
    pub const fn max_attempts(&self) -> u32 {
        self.attempts
    }

    /// The delay before attempt `attempt` (2 for the first retry): `first_delay · 2^(attempt-2)`,
    /// capped at `max_delay`, then jittered down by up to half.
    pub fn delay_before(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(2).min(30);
        let full = self
            .first_delay
            .saturating_mul(1 << doublings)
            .min(self.max_delay);
        // Random bits from a v4 UUID: no RNG dependency for a little jitter.
        let random = (Uuid::new_v4().as_u128() % 1_000) as u32;
        full / 2 + (full / 2) * random / 1_000
    }

    /// The default for handlers delivered by `process` (one attempt).
    pub(crate) const SYNC: RetryPolicy = RetryPolicy::attempts(1);
    /// The default for the engine's handlers.
    pub(crate) const ASYNC: RetryPolicy = RetryPolicy::attempts(5);
}

/// How many starts may stop (crash) while delivering one event before it is parked without
/// running its handler again: a *poison* event. The attempt is counted before the handler runs,
/// for the first delivery of each subscription after a start.
pub const POISON_LIMIT: u32 = 3;

/// Each handler's retry policy, by handler path.
#[derive(Default)]
pub(crate) struct RetryPolicies {
    pub by_handler: HashMap<&'static str, RetryPolicy>,
}

impl RetryPolicies {
    pub fn of(&self, handler: &str) -> RetryPolicy {
        self.by_handler
            .get(handler)
            .copied()
            .unwrap_or(RetryPolicy::SYNC)
    }
}

/// The parked streams: handler path -> stream -> the parked delivery at its head. What this
/// process knows; loaded from the store when the domain opens.
#[derive(Default)]
pub(crate) struct Parked {
    heads: Mutex<HashMap<&'static str, HashMap<Arc<str>, Uuid>>>,
    /// Whether any stream is parked: the check on every delivery is one load when none is.
    any: AtomicBool,
}

impl Parked {
    /// The parked delivery `stream`'s events wait behind for `handler`, if any.
    pub fn head(&self, handler: &str, stream: &str) -> Option<Uuid> {
        if !self.any.load(Ordering::Relaxed) {
            return None;
        }
        self.heads.lock().get(handler)?.get(stream).copied()
    }

    /// Parks `stream` for `handler` behind delivery `id` (if it is not parked already).
    pub fn park(&self, handler: &'static str, stream: Arc<str>, id: Uuid) {
        self.heads
            .lock()
            .entry(handler)
            .or_default()
            .entry(stream)
            .or_insert(id);
        self.any.store(true, Ordering::Relaxed);
    }

    /// `next` is now the parked delivery at the head of `stream` for `handler`, or none.
    pub fn replace(&self, handler: &'static str, stream: &str, next: Option<Uuid>) {
        let mut heads = self.heads.lock();
        let streams = heads.entry(handler).or_default();
        match next {
            Some(next) => {
                streams.insert(Arc::from(stream), next);
            }
            None => {
                streams.remove(stream);
            }
        }
        let any = heads.values().any(|streams| !streams.is_empty());
        self.any.store(any, Ordering::Relaxed);
    }
}
