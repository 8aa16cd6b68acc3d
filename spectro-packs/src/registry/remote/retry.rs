//! The one retry mechanism of the registry client: a budget of attempts and time,
//! exponential backoff with jitter, `Retry-After` (capped), and "progress resets the
//! budget" for long transfers — where a restart from byte 0 is not progress. Every
//! request path (plain requests, token fetches, upload sessions, chunk and download
//! resumes) counts its retries here.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};

/// When and how often requests are retried.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First backoff delay; doubles per retry, with ±50 % jitter.
    pub base_delay: Duration,
    /// Largest backoff delay.
    pub max_delay: Duration,
    /// Largest `Retry-After` honoured (longer values are capped to this).
    pub max_retry_after: Duration,
    /// No retry starts after this much time since the first attempt.
    pub max_total: Duration,
}

builder!(RetryPolicy {
    with_max_retries => max_retries: u32,
    with_base_delay => base_delay: Duration,
    with_max_delay => max_delay: Duration,
    with_max_retry_after => max_retry_after: Duration,
    with_max_total => max_total: Duration,
});

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 5,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(4),
            max_retry_after: Duration::from_secs(30),
            max_total: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// Backoff before retry number `attempt` (0-based), with jitter.
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.max_delay);
        exp.mul_f64(0.5 + fastrand::f64())
    }
}

/// Whether a status is worth retrying (the request may succeed later).
pub(crate) fn retryable_status(s: StatusCode) -> bool {
    matches!(s.as_u16(), 408 | 429 | 500 | 502 | 503 | 504)
}

/// New bytes that count as progress: a server that drops every connection after a few
/// bytes must not reset the budget for ever.
const PROGRESS_QUANTUM: u64 = 32 << 10;

/// The retry budget of one logical operation.
#[derive(Debug, Clone)]
pub(crate) struct Retrier {
    policy: RetryPolicy,
    attempt: u32,
    started: Instant,
    /// Furthest position reached so far (bytes sent or received).
    high_water: u64,
}

impl Retrier {
    pub(crate) fn new(policy: &RetryPolicy) -> Self {
        Retrier {
            policy: policy.clone(),
            attempt: 0,
            started: Instant::now(),
            high_water: 0,
        }
    }

    /// The operation reached byte `pos`. Getting at least [`PROGRESS_QUANTUM`] further
    /// than ever before restarts the budget, so a long transfer survives several drops;
    /// falling back (a restart from zero) changes nothing.
    pub(crate) fn progress(&mut self, pos: u64) {
        if pos >= self.high_water.saturating_add(PROGRESS_QUANTUM) {
            self.high_water = pos;
            self.attempt = 0;
            self.started = Instant::now();
        }
    }

    /// The delay before the next retry (`Retry-After` when the answer carried one,
    /// capped; else backoff), counting it; `None` when the budget is spent.
    pub(crate) fn next_delay(&mut self, headers: Option<&HeaderMap>) -> Option<Duration> {
        if self.attempt >= self.policy.max_retries
            || self.started.elapsed() >= self.policy.max_total
        {
            return None;
        }
        let delay = headers
            .and_then(|h| {
                h.get(RETRY_AFTER)?
                    .to_str()
                    .ok()?
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .map(|s| Duration::from_secs(s).min(self.policy.max_retry_after))
            .unwrap_or_else(|| self.policy.backoff(self.attempt));
        self.attempt += 1;
        Some(delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_caps() {
        let p = RetryPolicy::default();
        for a in 0..10 {
            let d = p.backoff(a);
            let nominal = p.base_delay.saturating_mul(1 << a).min(p.max_delay);
            assert!(
                d >= nominal.mul_f64(0.5) && d <= nominal.mul_f64(1.5),
                "{a}: {d:?}"
            );
        }
    }

    #[test]
    fn budget_counts_attempts_and_caps_retry_after() {
        let p = RetryPolicy::default()
            .with_max_retries(2)
            .with_max_retry_after(Duration::from_secs(3));
        let mut r = Retrier::new(&p);
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, "3600".parse().unwrap());
        assert_eq!(r.next_delay(Some(&h)), Some(Duration::from_secs(3)));
        assert!(r.next_delay(None).is_some());
        assert_eq!(r.next_delay(None), None, "budget of 2 retries spent");
    }

    #[test]
    fn only_real_progress_restarts_the_budget() {
        let p = RetryPolicy::default().with_max_retries(1);
        let mut r = Retrier::new(&p);
        assert!(r.next_delay(None).is_some());
        // A few bytes more than before: a server dropping every connection early.
        r.progress(100);
        assert_eq!(r.next_delay(None), None);
        let mut r = Retrier::new(&p);
        assert!(r.next_delay(None).is_some());
        r.progress(PROGRESS_QUANTUM);
        assert!(
            r.next_delay(None).is_some(),
            "a quantum of progress restarts"
        );
        // Back to zero (a server ignoring Range) is not progress.
        r.progress(0);
        assert_eq!(r.next_delay(None), None);
    }
}
