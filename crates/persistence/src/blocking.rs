//! Where SQLite queries run: each pooled connection on a thread of its own, with a
//! cancellation that is safe on the current-thread runtimes Actix workers use.
//!
//! diesel-async runs each query of a `SyncConnectionWrapper` on Tokio's blocking pool. That
//! pool starts a new thread whenever a task arrives while none is idle, and a thread that has
//! just finished a 50 µs query is not idle yet: under load it grew to thirty threads for four
//! connections, each with its own allocator arena (memory) and cold caches. A connection
//! runs one query at a time, so [`ConnThread`] gives each its own thread instead, started
//! with the connection and ended with it: exactly as many query threads as open connections.
//!
//! When the awaiting future is dropped mid-query (a request timeout, a client gone),
//! diesel-async would wait for the query inside `block_in_place`, which panics on a
//! current-thread runtime. Here the thread that dropped the future waits with a plain
//! condition variable until the abandoned query has ended (at most SQLite's busy timeout for
//! a lock wait), so the connection comes back unshared and the pool can check and reuse or
//! discard it.
//!
//! A thread that exists to run SQLite work (the writer thread of
//! [`sqlite_writer`](crate::sqlite_writer)) runs its queries in place instead, through
//! [`run_inline`]: handing each statement to yet another thread would only add two thread
//! switches per statement to the one critical section every write of the process shares.

use std::cell::Cell;
use std::error::Error;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, PoisonError, mpsc};
use std::task::{Context, Poll};

use diesel_async::sync_connection_wrapper::SpawnBlocking;
use futures::FutureExt as _;
use futures::future::BoxFuture;
use tokio::sync::oneshot;

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

/// A job for a connection's thread.
type Job = Box<dyn FnOnce() + Send>;

/// The thread that runs one SQLite connection's queries. It starts with the connection (its
/// `get_runtime` is called when the connection is established) and ends when the connection,
/// which holds this, is dropped.
pub(crate) struct ConnThread {
    /// `None` when the thread could not be started: every query then fails as an error.
    jobs: Option<mpsc::Sender<Job>>,
}

impl ConnThread {
    fn start() -> Self {
        let (jobs, queue) = mpsc::channel::<Job>();
        let started = std::thread::Builder::new()
            .name("sqlite-conn".to_owned())
            .spawn(move || {
                while let Ok(job) = queue.recv() {
                    job();
                }
            });
        Self {
            jobs: started.ok().map(|_| jobs),
        }
    }
}

impl SpawnBlocking for ConnThread {
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
        let signal = EndSignal(ended.clone());
        let (sent, answer) = oneshot::channel();
        // The signal fires once the task and everything it captured are gone: after it ran,
        // after it panicked, and also when it never runs (the thread is gone), which would
        // otherwise leave the waiter below waiting forever. It is declared first, so it is
        // dropped last.
        let job: Job = Box::new(move || {
            let _signal = signal;
            let outcome = std::panic::catch_unwind(AssertUnwindSafe(task));
            // The receiver is gone when the query was abandoned: nobody wants the answer.
            let _ = sent.send(outcome);
        });
        // A job that cannot be sent is dropped here, unrun, which fires its signal.
        if let Some(jobs) = &self.jobs {
            let _ = jobs.send(job);
        }
        WaitOnDrop { answer, ended }.boxed()
    }

    fn get_runtime() -> Self {
        Self::start()
    }
}

/// Whether a blocking task has ended, and a way to wait for it.
#[derive(Default)]
struct Ended {
    done: Mutex<bool>,
    changed: Condvar,
}

/// Marks the task ended when dropped.
struct EndSignal(Arc<Ended>);

impl Drop for EndSignal {
    fn drop(&mut self) {
        *self.0.done.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.0.changed.notify_all();
    }
}

/// The task's answer; dropping it before the task ended waits for the end.
struct WaitOnDrop<R> {
    answer: oneshot::Receiver<std::thread::Result<R>>,
    ended: Arc<Ended>,
}

impl<R> Future for WaitOnDrop<R> {
    type Output = Result<R, Box<dyn Error + Send + Sync + 'static>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.answer)
            .poll(cx)
            .map(|answer| match answer {
                Ok(Ok(value)) => Ok(value),
                Ok(Err(_panic)) => Err("a SQLite task panicked".into()),
                Err(_gone) => Err("the SQLite connection's thread is gone".into()),
            })
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

    use super::ConnThread;

    fn current_thread_runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
    }

    #[test]
    fn dropping_a_running_task_on_a_current_thread_runtime_waits_for_it_without_panicking() {
        let finished = Arc::new(AtomicBool::new(false));
        let seen = finished.clone();
        current_thread_runtime().block_on(async move {
            let mut thread = ConnThread::start();
            let task = thread.spawn_blocking(move || {
                std::thread::sleep(Duration::from_millis(200));
                seen.store(true, Ordering::SeqCst);
            });
            // Polled once, then abandoned, as a timed-out request does.
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
    fn a_task_without_a_thread_fails_without_hanging_its_waiter() {
        let (sent, outcome) = std::sync::mpsc::channel();
        // On a thread of its own, so a regression fails the test instead of hanging it.
        std::thread::spawn(move || {
            let mut thread = ConnThread { jobs: None };
            let joined = futures::executor::block_on(thread.spawn_blocking(|| 42));
            sent.send(joined.is_err()).unwrap();
        });
        let refused = outcome
            .recv_timeout(Duration::from_secs(10))
            .expect("the waiter returned");
        assert!(refused, "a task that never ran reports an error");
    }

    #[test]
    fn a_panicking_task_is_an_error_and_its_thread_runs_the_next_one() {
        current_thread_runtime().block_on(async {
            let mut thread = ConnThread::start();
            let panicked = thread.spawn_blocking(|| -> i32 { panic!("boom") }).await;
            assert!(panicked.is_err());
            assert_eq!(thread.spawn_blocking(|| 42).await.unwrap(), 42);
        });
    }

    #[test]
    fn every_task_of_a_connection_runs_on_its_one_thread_and_each_connection_has_its_own() {
        current_thread_runtime().block_on(async {
            let on_thread = || std::thread::current().id();
            let (mut first, mut second) = (ConnThread::start(), ConnThread::start());
            let a = first.spawn_blocking(on_thread).await.unwrap();
            let b = first.spawn_blocking(on_thread).await.unwrap();
            let c = second.spawn_blocking(on_thread).await.unwrap();
            assert_eq!(a, b);
            assert_ne!(a, c);
            assert_ne!(a, std::thread::current().id());
        });
    }
}
