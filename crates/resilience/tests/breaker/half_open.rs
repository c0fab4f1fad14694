//! The single-trial guarantee of a half-open breaker: under real concurrency, when the trial
//! is cancelled or panics, and identically for `call` and `call_sync`.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use auth_resilience::{CircuitError, CircuitState, HALF_OPEN_RETRY_AFTER};
use futures::executor::block_on;
use futures::poll;
use tokio::sync::{Barrier, Notify, mpsc};
use tokio::time::timeout;

use crate::support::{DbError, answer, half_open, is_down};

const CALLERS: usize = 50;
/// Fails a broken breaker (every caller stuck in a "trial") instead of hanging the suite.
const PATIENCE: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_concurrent_callers_on_a_half_open_breaker_run_exactly_one_trial() {
    let (breaker, _clock) = half_open();
    let breaker = Arc::new(breaker);
    let trials = Arc::new(AtomicUsize::new(0));
    let start = Arc::new(Barrier::new(CALLERS));
    let release = Arc::new(Notify::new());
    let (done, mut finished) = mpsc::unbounded_channel();

    for _ in 0..CALLERS {
        let (breaker, trials, start, release, done) = (
            Arc::clone(&breaker),
            Arc::clone(&trials),
            Arc::clone(&start),
            Arc::clone(&release),
            done.clone(),
        );
        tokio::spawn(async move {
            start.wait().await;
            let trial = async {
                trials.fetch_add(1, Ordering::SeqCst);
                release.notified().await;
                Ok::<_, DbError>(())
            };
            let _ = done.send(breaker.call(trial, is_down).await);
        });
    }

    // While the trial is held open, every other caller must come back refused.
    for _ in 1..CALLERS {
        let refused = timeout(PATIENCE, finished.recv()).await.unwrap().unwrap();
        assert!(matches!(refused, Err(CircuitError::Open { retry_after })
            if retry_after == HALF_OPEN_RETRY_AFTER));
    }
    assert_eq!(trials.load(Ordering::SeqCst), 1);
    assert_eq!(breaker.state(), CircuitState::HalfOpen);

    release.notify_one();
    let trial = timeout(PATIENCE, finished.recv()).await.unwrap().unwrap();
    assert!(trial.is_ok());
    assert_eq!(trials.load(Ordering::SeqCst), 1);
    let snap = breaker.snapshot();
    assert_eq!(snap.state, CircuitState::Closed);
    assert_eq!(snap.total_rejections, u64::try_from(CALLERS - 1).unwrap());
}

#[test]
fn a_cancelled_trial_gives_its_slot_back() {
    let (breaker, _clock) = half_open();
    block_on(async {
        let mut trial =
            Box::pin(breaker.call(std::future::pending::<Result<(), DbError>>(), is_down));
        assert!(poll!(&mut trial).is_pending());
        assert!(answer(&breaker, Ok(1)).unwrap_err().is_open());
        drop(trial);
    });
    assert_eq!(breaker.state(), CircuitState::HalfOpen);
    assert_eq!(answer(&breaker, Ok(1)).unwrap(), 1);
    assert_eq!(breaker.state(), CircuitState::Closed);
}

#[test]
fn a_panicking_trial_gives_its_slot_back() {
    let (breaker, _clock) = half_open();
    let panicked = catch_unwind(AssertUnwindSafe(|| {
        breaker.call_sync(
            || -> Result<(), DbError> { panic!("trial blew up") },
            is_down,
        )
    }));
    assert!(panicked.is_err());
    assert_eq!(
        answer(&breaker, Err(DbError::Down)).unwrap_err().inner(),
        Some(&DbError::Down)
    );
    assert_eq!(breaker.state(), CircuitState::Open);
}

#[test]
fn call_sync_and_call_reach_the_same_states_and_counts() {
    let script = [
        Err(DbError::Duplicate),
        Err(DbError::Down),
        Ok(1),
        Err(DbError::Down),
        Err(DbError::Down),
        Err(DbError::Down),
        Ok(2),
    ];
    let (sync_breaker, sync_clock) = crate::support::breaker();
    let (async_breaker, async_clock) = crate::support::breaker();
    for step in script {
        let again = match &step {
            Ok(n) => Ok(*n),
            Err(DbError::Down) => Err(DbError::Down),
            Err(DbError::Duplicate) => Err(DbError::Duplicate),
        };
        let sync_result = sync_breaker.call_sync(|| step, is_down);
        let async_result = block_on(async_breaker.call(async { again }, is_down));
        assert_eq!(format!("{sync_result:?}"), format!("{async_result:?}"));
        assert_eq!(sync_breaker.snapshot(), async_breaker.snapshot());
    }
    assert_eq!(sync_breaker.state(), CircuitState::Open);
    sync_clock.advance(crate::support::TIMEOUT);
    async_clock.advance(crate::support::TIMEOUT);
    assert_eq!(answer(&sync_breaker, Ok(3)).unwrap(), 3);
    assert_eq!(
        block_on(async_breaker.call(async { Ok::<_, DbError>(3) }, is_down)).unwrap(),
        3
    );
    assert_eq!(sync_breaker.snapshot(), async_breaker.snapshot());
}
