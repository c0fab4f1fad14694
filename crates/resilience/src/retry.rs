//! Bounded retry with capped exponential backoff, for waits such as the database at start-up.

use std::fmt::Display;
use std::future::Future;
use std::time::Duration;

use tokio::time::{Instant, sleep};

/// How [`retry`] spaces its attempts and when it gives up.
///
/// The first failed attempt is followed by `initial_delay`; each later delay is the previous
/// one times `multiplier`, never more than `max_delay`. Retrying stops once the next sleep
/// would end past `max_elapsed` since the first attempt.
///
/// ```
/// use std::time::Duration;
/// use auth_resilience::RetryPolicy;
///
/// let policy = RetryPolicy { max_elapsed: Duration::from_secs(10), ..RetryPolicy::default() };
/// assert_eq!(policy.initial_delay, Duration::from_millis(100));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// The time budget for all attempts and sleeps. Default 30 s.
    pub max_elapsed: Duration,
    /// The sleep after the first failure, capped by `max_delay`. Default 100 ms. A zero delay
    /// retries without pause until `max_elapsed`.
    pub initial_delay: Duration,
    /// The longest sleep between two attempts. Default 2 s.
    pub max_delay: Duration,
    /// Growth factor of the delay. Default 2.0; values below 1.0 (or NaN) count as 1.0.
    pub multiplier: f64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_elapsed: Duration::from_secs(30),
            initial_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(2),
            multiplier: 2.0,
        }
    }
}

impl RetryPolicy {
    /// The delay that follows `delay`: multiplied, then capped at `max_delay`.
    fn next_delay(&self, delay: Duration) -> Duration {
        let grown = delay.as_secs_f64() * self.multiplier.max(1.0);
        Duration::try_from_secs_f64(grown)
            .unwrap_or(self.max_delay)
            .min(self.max_delay)
    }
}

/// Runs `op` until it succeeds or the policy's time budget is spent.
///
/// Each failed attempt is logged at WARN with its number, the error and the next delay. The
/// sleeps use tokio's timer, so a test with paused time runs instantly.
///
/// # Errors
///
/// The last attempt's error, once sleeping again would pass
/// [`max_elapsed`](RetryPolicy::max_elapsed).
///
/// ```
/// use std::cell::Cell;
/// use std::time::Duration;
/// use auth_resilience::{retry, RetryPolicy};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let policy = RetryPolicy { initial_delay: Duration::from_millis(1), ..RetryPolicy::default() };
/// let attempts = Cell::new(0);
/// let connected = retry(&policy, || async {
///     attempts.set(attempts.get() + 1);
///     if attempts.get() < 3 { Err("connection refused") } else { Ok("connected") }
/// })
/// .await;
/// assert_eq!(connected, Ok("connected"));
/// assert_eq!(attempts.get(), 3);
/// # }
/// ```
pub async fn retry<T, E, Fut>(policy: &RetryPolicy, mut op: impl FnMut() -> Fut) -> Result<T, E>
where
    Fut: Future<Output = Result<T, E>>,
    E: Display,
{
    let start = Instant::now();
    let mut delay = policy.initial_delay.min(policy.max_delay);
    let mut attempt: u32 = 1;
    loop {
        let err = match op().await {
            Ok(value) => return Ok(value),
            Err(err) => err,
        };
        if start.elapsed().saturating_add(delay) > policy.max_elapsed {
            tracing::warn!(attempt, error = %err, elapsed = ?start.elapsed(), "attempt failed; giving up");
            return Err(err);
        }
        tracing::warn!(attempt, error = %err, next_delay = ?delay, "attempt failed; retrying");
        sleep(delay).await;
        delay = policy.next_delay(delay);
        attempt = attempt.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::time::Duration;

    use tokio::time::Instant;

    use super::{RetryPolicy, retry};

    fn ms(millis: u64) -> Duration {
        Duration::from_millis(millis)
    }

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_elapsed: ms(1000),
            initial_delay: ms(100),
            max_delay: ms(400),
            multiplier: 2.0,
        }
    }

    /// Runs `retry` with an op that fails until `succeed_on` (1-based) and notes each start.
    async fn run(policy: &RetryPolicy, succeed_on: u32) -> (Result<u32, String>, Vec<Duration>) {
        let start = Instant::now();
        let starts = RefCell::new(Vec::new());
        let result = retry(policy, || {
            starts.borrow_mut().push(start.elapsed());
            let attempt = u32::try_from(starts.borrow().len()).unwrap();
            async move {
                if attempt >= succeed_on {
                    Ok(attempt)
                } else {
                    Err(format!("attempt {attempt} refused"))
                }
            }
        })
        .await;
        (result, starts.into_inner())
    }

    #[tokio::test(start_paused = true)]
    async fn a_first_success_returns_without_sleeping() {
        let (result, starts) = run(&policy(), 1).await;
        assert_eq!(result, Ok(1));
        assert_eq!(starts, [ms(0)]);
    }

    #[tokio::test(start_paused = true)]
    async fn retry_succeeds_after_some_failures() {
        let (result, starts) = run(&policy(), 3).await;
        assert_eq!(result, Ok(3));
        assert_eq!(starts, [ms(0), ms(100), ms(300)]);
    }

    #[tokio::test(start_paused = true)]
    async fn retry_gives_up_with_the_last_error_within_max_elapsed() {
        let started = Instant::now();
        let (result, starts) = run(&policy(), u32::MAX).await;
        // Sleeps of 100, 200, 400 ms; the next 400 ms would end at 1100 ms > 1000 ms.
        assert_eq!(result, Err("attempt 4 refused".to_owned()));
        assert_eq!(starts.len(), 4);
        assert!(started.elapsed() <= policy().max_elapsed);
    }

    #[tokio::test(start_paused = true)]
    async fn delays_grow_by_the_multiplier_and_stop_at_max_delay() {
        let long = RetryPolicy {
            max_elapsed: ms(2000),
            ..policy()
        };
        let (_, starts) = run(&long, u32::MAX).await;
        let gaps: Vec<Duration> = starts
            .windows(2)
            .map(|w| w[1].saturating_sub(w[0]))
            .collect();
        assert_eq!(gaps, [ms(100), ms(200), ms(400), ms(400), ms(400), ms(400)]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_budget_shorter_than_the_first_delay_means_a_single_attempt() {
        let tight = RetryPolicy {
            max_elapsed: ms(50),
            ..policy()
        };
        let (result, starts) = run(&tight, 2).await;
        assert_eq!(result, Err("attempt 1 refused".to_owned()));
        assert_eq!(starts, [ms(0)]);
    }

    #[test]
    fn odd_multipliers_never_shrink_or_overflow_the_delay() {
        let delay = ms(300);
        for (multiplier, expected) in [
            (0.5, ms(300)),
            (f64::NAN, ms(300)),
            (f64::INFINITY, ms(400)),
            (1e300, ms(400)),
            (1.5, ms(400)),
        ] {
            let p = RetryPolicy {
                multiplier,
                ..policy()
            };
            assert_eq!(p.next_delay(delay), expected, "multiplier {multiplier}");
        }
    }

    #[test]
    fn default_policy_matches_the_documented_values() {
        let p = RetryPolicy::default();
        assert_eq!(
            (p.max_elapsed, p.initial_delay, p.max_delay),
            (Duration::from_secs(30), ms(100), Duration::from_secs(2))
        );
        assert!((p.multiplier - 2.0).abs() < f64::EPSILON);
    }
}
