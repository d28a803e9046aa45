//! Retries and waits, written once for every cloud.
//!
//! [`RetryPolicy::run`] retries a call while its error is throttling or transient, with
//! exponential backoff and full jitter, within an attempt limit and a total deadline.
//! [`wait_until`] polls a probe until it reports done, and on timeout says what it waited for
//! and the last state it saw.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use crate::{ErrorKind, ProviderError, Result};

/// How often and how long to retry a throttled or transiently failing call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// Delay cap before the first retry; doubles each retry.
    pub base_delay: Duration,
    /// Longest single delay.
    pub max_delay: Duration,
    /// Give up once this much time has passed since the first attempt.
    pub deadline: Duration,
}

impl Default for RetryPolicy {
    /// 12 attempts, 0.5 s doubling to 20 s, within 5 minutes: well above the SDKs' 3 attempts.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 12,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(20),
            deadline: Duration::from_secs(300),
        }
    }
}

impl RetryPolicy {
    /// The policy from the environment: `CARTO_PROVISION_RETRY_BASE_MS` shortens the base
    /// delay (tests), the rest stays at the defaults.
    pub fn from_env() -> Self {
        let mut policy = RetryPolicy::default();
        if let Some(ms) = std::env::var("CARTO_PROVISION_RETRY_BASE_MS")
            .ok()
            .and_then(|v| v.parse().ok())
        {
            policy.base_delay = Duration::from_millis(ms);
            policy.max_delay = policy
                .max_delay
                .min(Duration::from_millis(ms.saturating_mul(40)));
        }
        policy
    }

    /// The delay before retry number `retry` (1-based): full jitter over the capped exponential.
    pub fn delay(&self, retry: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << retry.saturating_sub(1).min(16));
        let cap = exp.min(self.max_delay);
        cap.mul_f64(fastrand::f64()).max(Duration::from_millis(1))
    }

    /// Runs `call` until it succeeds, fails with a non-retryable kind, or the attempts or the
    /// deadline run out; the last error is returned with the attempt count in its message.
    pub async fn run<T, F, Fut>(&self, mut call: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let start = Instant::now();
        let mut attempt = 1;
        loop {
            match call().await {
                Ok(v) => return Ok(v),
                Err(e) if e.kind.is_retryable() => {
                    let delay = self.delay(attempt);
                    if attempt >= self.max_attempts || start.elapsed() + delay > self.deadline {
                        let mut e = e;
                        e.message = format!(
                            "{} (gave up after {attempt} attempts in {:.0?})",
                            e.message,
                            start.elapsed()
                        );
                        return Err(e);
                    }
                    tracing::debug!(call = %e.call, kind = ?e.kind, attempt, ?delay, "retrying");
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// What a wait probe saw: done with a value, or not yet with a description of the state.
#[derive(Debug)]
pub enum Poll<T> {
    /// Finished.
    Ready(T),
    /// Not yet; the string is the state seen (e.g. `instance state pending`).
    Pending(String),
}

/// Polls `probe` every `interval` until it is ready or `timeout` passes. Retryable errors
/// from the probe count as "not yet"; other errors end the wait. On timeout the error names
/// `what` and the last state seen.
pub async fn wait_until<T, F, Fut>(
    what: &str,
    call: &str,
    timeout: Duration,
    interval: Duration,
    mut probe: F,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Poll<T>>>,
{
    let start = Instant::now();
    let mut last;
    loop {
        match probe().await {
            Ok(Poll::Ready(v)) => return Ok(v),
            Ok(Poll::Pending(state)) => last = state,
            Err(e) if e.kind.is_retryable() => last = e.to_string(),
            Err(e) => return Err(e),
        }
        if start.elapsed() + interval > timeout {
            return Err(ProviderError::new(
                ErrorKind::Transient,
                call,
                format!("timed out after {timeout:?} waiting for {what}; last state: {last}"),
            ));
        }
        tokio::time::sleep(interval).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn throttled() -> ProviderError {
        ProviderError::new(ErrorKind::Throttled, "ec2:DescribeInstances", "slow down")
            .with_code("RequestLimitExceeded")
    }

    #[tokio::test(start_paused = true)]
    async fn retries_throttling_then_succeeds() {
        let calls = Cell::new(0);
        let policy = RetryPolicy::default();
        let out = policy
            .run(|| {
                calls.set(calls.get() + 1);
                let n = calls.get();
                async move { if n < 5 { Err(throttled()) } else { Ok(n) } }
            })
            .await
            .unwrap();
        assert_eq!(out, 5);
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_after_max_attempts_and_says_so() {
        let calls = Cell::new(0);
        let policy = RetryPolicy {
            max_attempts: 10,
            deadline: Duration::from_secs(3600),
            ..RetryPolicy::default()
        };
        let err = policy
            .run(|| {
                calls.set(calls.get() + 1);
                async { Err::<(), _>(throttled()) }
            })
            .await
            .unwrap_err();
        assert_eq!(calls.get(), 10);
        assert!(err.message.contains("gave up after 10 attempts"), "{err}");
    }

    #[tokio::test(start_paused = true)]
    async fn does_not_retry_permission_errors() {
        let calls = Cell::new(0);
        let err = RetryPolicy::default()
            .run(|| {
                calls.set(calls.get() + 1);
                async {
                    Err::<(), _>(ProviderError::new(
                        ErrorKind::Permission,
                        "ec2:RunInstances",
                        "denied",
                    ))
                }
            })
            .await
            .unwrap_err();
        assert_eq!((calls.get(), err.kind), (1, ErrorKind::Permission));
    }

    #[test]
    fn delay_is_capped_and_jittered() {
        let p = RetryPolicy::default();
        for retry in 1..30 {
            let d = p.delay(retry);
            assert!(d <= p.max_delay && d > Duration::ZERO);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn wait_reports_last_state_on_timeout() {
        let err = wait_until(
            "instance i-1 running",
            "ec2:DescribeInstances",
            Duration::from_secs(30),
            Duration::from_secs(5),
            || async { Ok::<Poll<()>, ProviderError>(Poll::Pending("state pending".into())) },
        )
        .await
        .unwrap_err();
        assert!(
            err.message.contains("instance i-1 running") && err.message.contains("state pending"),
            "{err}"
        );
    }
}
