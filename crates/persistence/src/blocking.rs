//! Where SQLite queries run: Tokio's blocking pool, with a cancellation that is safe on the
//! current-thread runtimes Actix workers use.
//!
//! diesel-async runs each query of a `SyncConnectionWrapper` on the blocking pool and, when
//! the awaiting future is dropped mid-query (a request timeout, a client gone), waits for the
//! query inside `block_in_place`. That panics on a current-thread runtime, and the wrapper
//! then meets its connection still shared and panics again. [`BlockingPool`] waits instead
//! with a plain condition variable: the thread that dropped the future blocks until the
//! abandoned query has ended (at most SQLite's busy timeout for a lock wait), and the
//! connection comes back unshared, so the pool can check and reuse or discard it.
//!
//! A thread that exists to run SQLite work (the writer thread of
//! [`sqlite_writer`](crate::sqlite_writer)) runs its queries in place instead, through
//! [`run_inline`]: handing each statement to yet another thread would only add two thread
//! switches per statement to the one critical section every write of the process shares.

use std::cell::Cell;
use std::error::Error;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::task::{Context, Poll};

use diesel_async::sync_connection_wrapper::SpawnBlocking;
use futures::FutureExt as _;
use futures::future::BoxFuture;
use tokio::task::JoinHandle;

thread_local! {
    /// Set while this thread runs SQLite work in place (see [`run_inline`]).
    static INLINE: Cell<bool> = const { Cell::new(false) };
}

/// Runs `work` with every SQLite query it starts executed at once on this thread, instead of
/// on the blocking pool. Only for a thread that blocks on nothing but SQLite (never an async
/// worker).
pub(crate) fn run_inline<R>(work: impl FnOnce() -> R) -> R {
    /// Clears the flag however `work` ends, a panic included.
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            INLINE.with(|inline| inline.set(false));
        }
    }
    INLINE.with(|inline| inline.set(true));
    let _reset = Reset;
    work()
}

/// Whether this thread runs SQLite work in place (inside [`run_inline`]).
pub(crate) fn is_inline() -> bool {
    INLINE.with(Cell::get)
}

/// Runs blocking tasks on Tokio's blocking pool of the current runtime.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct BlockingPool;

impl SpawnBlocking for BlockingPool {
    fn spawn_blocking<'a, R>(
        &mut self,
        task: impl FnOnce() -> R + Send + 'static,
    ) -> BoxFuture<'a, Result<R, Box<dyn Error + Send + Sync + 'static>>>
    where
        R: Send + 'static,
    {
        if is_inline() {
            return futures::future::ready(Ok(task())).boxed();
        }
        let ended = Arc::new(Ended::default());
        let job = Job {
            task,
            _signal: EndSignal(ended.clone()),
        };
        // The signal fires once the task and everything it captured are gone: after it ran,
        // after it panicked, and also when it never runs (a runtime shutting down drops
        // queued tasks unrun), which would otherwise leave the waiter below waiting forever.
        let handle = tokio::task::spawn_blocking(move || {
            let Job { task, _signal } = job;
            task()
        });
        WaitOnDrop { handle, ended }
            .map(|joined| joined.map_err(Box::from))
            .boxed()
    }

    fn get_runtime() -> Self {
        Self
    }
}

/// Whether a blocking task has ended, and a way to wait for it.
#[derive(Default)]
struct Ended {
    done: Mutex<bool>,
    changed: Condvar,
}

/// A task and its end signal. Fields drop in declaration order, so a job dropped unrun
/// drops the task (and the connection it holds) before it signals.
struct Job<F> {
    task: F,
    _signal: EndSignal,
}

/// Marks the task ended when dropped.
struct EndSignal(Arc<Ended>);

impl Drop for EndSignal {
    fn drop(&mut self) {
        *self.0.done.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.0.changed.notify_all();
    }
}

/// The task's handle; dropping it before the task ended waits for the end.
struct WaitOnDrop<R> {
    handle: JoinHandle<R>,
    ended: Arc<Ended>,
}

impl<R> Future for WaitOnDrop<R> {
    type Output = Result<R, tokio::task::JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.handle).poll(cx)
    }
}

impl<R> Drop for WaitOnDrop<R> {
    fn drop(&mut self) {
        let mut done = self
            .ended
            .done
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        while !*done {
            done = self
                .ended
                .changed
                .wait(done)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    use diesel_async::sync_connection_wrapper::SpawnBlocking as _;

    use super::BlockingPool;

    #[test]
    fn dropping_a_running_task_on_a_current_thread_runtime_waits_for_it_without_panicking() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let finished = Arc::new(AtomicBool::new(false));
        let seen = finished.clone();
        runtime.block_on(async move {
            let task = BlockingPool.spawn_blocking(move || {
                std::thread::sleep(Duration::from_millis(200));
                seen.store(true, Ordering::SeqCst);
            });
            // Polled once so the task runs, then abandoned, as a timed-out request does.
            let mut task = Box::pin(task);
            assert!(futures::poll!(&mut task).is_pending());
            drop(task);
            assert!(
                finished.load(Ordering::SeqCst),
                "the drop waited for the task"
            );
        });
    }

    #[test]
    fn a_task_the_shut_down_runtime_never_runs_ends_without_hanging_its_waiter() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let handle = runtime.handle().clone();
        runtime.shutdown_timeout(Duration::ZERO);
        let (sent, outcome) = std::sync::mpsc::channel();
        // On a thread of its own, so a regression fails the test instead of hanging it.
        std::thread::spawn(move || {
            let _entered = handle.enter();
            let joined = futures::executor::block_on(BlockingPool.spawn_blocking(|| 42));
            sent.send(joined.is_err()).unwrap();
        });
        let refused = outcome
            .recv_timeout(Duration::from_secs(10))
            .expect("the waiter returned");
        assert!(refused, "a task that never ran reports an error");
    }

    #[test]
    fn a_finished_task_returns_its_value() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let answer = runtime.block_on(async { BlockingPool.spawn_blocking(|| 42).await });
        assert_eq!(answer.unwrap(), 42);
    }
}
