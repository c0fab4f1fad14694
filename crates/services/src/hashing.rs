//! Password hashing on a fixed set of threads with a fixed memory budget, behind a bounded
//! queue that sheds load instead of growing.
//!
//! Argon2id is deliberately slow and memory-hard. Each hashing thread owns one
//! [`HashingMemory`] for the configured parameters and reuses it, so the memory spent on
//! hashing is exactly `threads × m_cost` however many sign-ins arrive, and no hash allocates.
//! A request first takes a [`Slot`]: at most `queue_depth` requests wait for one, each at most
//! `queue_timeout`; any more are refused at once with [`Fault::Overloaded`], before they touch
//! the database or a throttling counter.
//!
//! A slot is a turn on a hashing thread, and each thread has two turns out at once when the
//! queue allows it: the one it hashes and the next, whose request reads the account and counts
//! the attempt meanwhile. Under load a thread so goes from one hash straight to the next. With
//! one turn per thread it waited for every request's database work between two hashes, and on
//! a virtual machine a core that idles even a millisecond makes the next hash a third slower
//! (`bench/RESULTS.md` has the figures).

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use auth_crypto::{
    CryptoError, HashedPassword, HashingMemory, PasswordForm, PasswordHasher, Verification,
};
use metrics::{Gauge, Histogram};
use secrecy::SecretString;
use thread_priority::ThreadPriority;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};

use crate::error::{Fault, Invalid, RegisterError};

/// How many passwords are hashed at once and how many requests may wait for it.
///
/// ```
/// use auth_services::HashingLimits;
///
/// let limits = HashingLimits::for_threads(2);
/// assert_eq!(limits.queue_depth, 128);
/// assert_eq!(limits.queue_timeout.as_millis(), 2000);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashingLimits {
    /// Hashing threads, each with its own Argon2 memory (default: the number of cores).
    pub threads: usize,
    /// Requests that may wait for a thread; more are shed at once (default: 64 per thread).
    pub queue_depth: usize,
    /// The longest a request waits for a thread before it is shed (default: 2 s).
    pub queue_timeout: Duration,
}

impl HashingLimits {
    /// `threads` hashing threads with the default queue for them.
    pub fn for_threads(threads: usize) -> Self {
        let threads = threads.max(1);
        Self {
            threads,
            queue_depth: 64 * threads,
            queue_timeout: Duration::from_secs(2),
        }
    }
}

impl Default for HashingLimits {
    /// One thread per core.
    fn default() -> Self {
        Self::for_threads(std::thread::available_parallelism().map_or(2, usize::from))
    }
}

/// Why a new password could not be hashed.
#[derive(Debug)]
pub(crate) enum HashError {
    /// The scheme cannot take this password (bcrypt over 72 bytes).
    Invalid(Invalid),
    /// The hashing backend failed or is overloaded.
    Fault(Fault),
}

impl From<HashError> for RegisterError {
    fn from(err: HashError) -> Self {
        match err {
            HashError::Invalid(invalid) => Self::Invalid(invalid),
            HashError::Fault(fault) => Self::Fault(fault),
        }
    }
}

impl From<Fault> for HashError {
    fn from(fault: Fault) -> Self {
        Self::Fault(fault)
    }
}

/// Work a hashing thread runs with its hasher and its memory.
type Job = Box<dyn FnOnce(&PasswordHasher, &mut HashingMemory) + Send>;

/// The hashing threads and the queue in front of them.
#[derive(Debug)]
pub(crate) struct HashingPool {
    jobs: mpsc::Sender<Job>,
    /// Permits for the requests waiting or hashing: `threads + queue_depth`.
    admitted: Arc<Semaphore>,
    /// Permits for the requests holding a turn on a thread: [`turns`] of them.
    turns: Arc<Semaphore>,
    queue_timeout: Duration,
    meters: HashingMeters,
    shed_log: ShedLog,
}

/// How often the log says that sign-ins are being shed. Every shed request is counted in the
/// outcome metrics; the log only needs to say that it is happening, and how much.
const SHED_LOG_EVERY: Duration = Duration::from_secs(1);

/// Rate limit of the shed warning: under an overload that sheds tens of thousands of requests
/// a second, one line a second with the count instead of one line per request, which would
/// flood the log and spend the workers' time formatting it.
#[derive(Debug)]
struct ShedLog {
    /// The shortest time between two reports.
    every: Duration,
    /// When the pool started: the clock the next report is kept on.
    epoch: Instant,
    /// Milliseconds after `epoch` from which the next shed is reported.
    next_ms: AtomicU64,
    /// Sheds not reported yet.
    pending: AtomicU64,
}

impl ShedLog {
    fn new(every: Duration) -> Self {
        Self {
            every,
            epoch: Instant::now(),
            next_ms: AtomicU64::new(0),
            pending: AtomicU64::new(0),
        }
    }

    /// Counts one shed request; returns how many to report when a report is due.
    fn shed(&self) -> Option<u64> {
        self.pending.fetch_add(1, Ordering::Relaxed);
        let now = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        let next = self.next_ms.load(Ordering::Relaxed);
        if now < next {
            return None;
        }
        let every = u64::try_from(self.every.as_millis()).unwrap_or(u64::MAX);
        let after = now.saturating_add(every);
        // One caller wins the report; the others count towards the next one.
        self.next_ms
            .compare_exchange(next, after, Ordering::Relaxed, Ordering::Relaxed)
            .ok()?;
        Some(self.pending.swap(0, Ordering::Relaxed))
    }
}

/// The hashing metrics, registered once with the pool (no-ops without a recorder).
#[derive(Clone)]
struct HashingMeters {
    /// `auth_password_hashing_duration_seconds`: one hash or verification on its thread.
    duration: Histogram,
    /// `auth_password_hashing_queue_wait_seconds`: from asking for a slot to getting a turn on
    /// a thread (or being shed after the queue timeout).
    queue_wait: Histogram,
    /// `auth_password_hashing_queue_depth`: requests waiting for a turn now.
    queue_depth: Gauge,
}

impl std::fmt::Debug for HashingMeters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HashingMeters").finish_non_exhaustive()
    }
}

impl HashingMeters {
    fn register() -> Self {
        Self {
            duration: metrics::histogram!("auth_password_hashing_duration_seconds"),
            queue_wait: metrics::histogram!("auth_password_hashing_queue_wait_seconds"),
            queue_depth: metrics::gauge!("auth_password_hashing_queue_depth"),
        }
    }
}

/// One request counted in the queue-depth gauge until it is dropped.
struct Waiting<'a>(&'a Gauge);

impl<'a> Waiting<'a> {
    fn enter(gauge: &'a Gauge) -> Self {
        gauge.increment(1.0);
        Self(gauge)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.decrement(1.0);
    }
}

impl HashingPool {
    /// Starts `limits.threads` hashing threads, each allocating its memory once, up front.
    /// They stop when the pool is dropped.
    ///
    /// # Errors
    ///
    /// The OS error when a thread cannot be started.
    pub(crate) fn start(hasher: &PasswordHasher, limits: HashingLimits) -> std::io::Result<Self> {
        let threads = limits.threads.max(1);
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for index in 0..threads {
            let (hasher, queue) = (hasher.clone(), queue.clone());
            std::thread::Builder::new()
                .name(format!("hashing-{index}"))
                .spawn(move || work(&hasher, &queue))?;
        }
        Ok(Self {
            jobs,
            admitted: Arc::new(Semaphore::new(threads + limits.queue_depth)),
            turns: Arc::new(Semaphore::new(turns(threads, limits.queue_depth))),
            queue_timeout: limits.queue_timeout,
            meters: HashingMeters::register(),
            shed_log: ShedLog::new(SHED_LOG_EVERY),
        })
    }

    /// Waits for a hashing thread: refused at once with [`Fault::Overloaded`] when the queue
    /// is full, and after `queue_timeout` when no thread frees up in time.
    ///
    /// Take the slot before anything else a request does, so a shed request leaves no trace.
    /// The slot holds its turn until it is used or dropped; a hash it runs waits at most for
    /// the one hash before it on its thread.
    pub(crate) async fn slot(&self) -> Result<Slot<'_>, Fault> {
        let admitted = self.admitted.clone().try_acquire_owned();
        let admitted = admitted.map_err(|_| self.overloaded("the hashing queue is full"))?;
        let (started, waiting) = (Instant::now(), Waiting::enter(&self.meters.queue_depth));
        let turn = tokio::time::timeout(self.queue_timeout, self.turns.clone().acquire_owned());
        let turn = turn.await;
        drop(waiting);
        self.meters.queue_wait.record(started.elapsed());
        let turn = turn
            .map_err(|_| self.overloaded("no hashing thread freed up in time"))?
            .map_err(Fault::internal)?;
        Ok(Slot {
            pool: self,
            permits: (admitted, turn),
        })
    }

    /// Hashes a new password as soon as a slot is free: [`slot`](Self::slot), then
    /// [`Slot::hash`].
    pub(crate) async fn hash(&self, password: SecretString) -> Result<HashedPassword, HashError> {
        self.slot().await?.hash(password).await
    }

    /// A shed request: counted, and reported in the log at most once a second.
    fn overloaded(&self, why: &'static str) -> Fault {
        if let Some(shed) = self.shed_log.shed() {
            tracing::warn!(
                reason = why,
                shed,
                "sign-ins shed: password hashing is saturated"
            );
        }
        Fault::Overloaded
    }
}

/// How many requests hold a turn on the hashing threads at once: two per thread, one hashing
/// and the next getting ready, but never more than may be in the queue besides the threads
/// (with no queue, a request only gets a thread that is free).
fn turns(threads: usize, queue_depth: usize) -> usize {
    threads + threads.min(queue_depth)
}

/// One hashing thread: takes jobs until the pool is gone. A job that panics is contained, so
/// the thread and its memory stay in service.
fn work(hasher: &PasswordHasher, queue: &Mutex<mpsc::Receiver<Job>>) {
    // The lowest normal priority: a request that needs no hashing (health, me, refresh)
    // preempts hashing at once instead of waiting for a time slice. Hashing still gets every
    // cycle nobody else wants, so sign-in throughput is unchanged on an otherwise idle CPU.
    if let Err(err) = thread_priority::set_current_thread_priority(ThreadPriority::Min) {
        tracing::debug!(error = ?err, "hashing thread keeps the default priority");
    }
    let mut memory = HashingMemory::for_config(hasher.config());
    loop {
        let job = match queue.lock() {
            Ok(receiver) => receiver.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else { return };
        let ran = std::panic::catch_unwind(AssertUnwindSafe(|| job(hasher, &mut memory)));
        if ran.is_err() {
            tracing::error!("a password hashing job panicked; its request fails");
        }
    }
}

/// A turn on a hashing thread: one hash or verification, then the turn goes to the next
/// request.
#[derive(Debug)]
pub(crate) struct Slot<'a> {
    pool: &'a HashingPool,
    permits: (OwnedSemaphorePermit, OwnedSemaphorePermit),
}

impl Slot<'_> {
    async fn run<T: Send + 'static>(
        self,
        work: impl FnOnce(&PasswordHasher, &mut HashingMemory) -> T + Send + 'static,
    ) -> Result<T, Fault> {
        let (reply, answer) = oneshot::channel();
        let span = tracing::Span::current();
        let permits = self.permits;
        let duration = self.pool.meters.duration.clone();
        let job: Job = Box::new(move |hasher, memory| {
            // A caller that went away (closed connection, timeout) needs no work done.
            if reply.is_closed() {
                return;
            }
            let started = Instant::now();
            let outcome = span.in_scope(|| work(hasher, memory));
            duration.record(started.elapsed());
            // The thread is free before the caller hears back, so a caller that takes the
            // next slot as soon as it has its answer finds it free.
            drop(permits);
            let _ = reply.send(outcome);
        });
        let sent = self.pool.jobs.send(job);
        sent.map_err(|_| Fault::internal("the password hashing threads are gone"))?;
        answer.await.map_err(Fault::internal)
    }

    /// Hashes the NFKC form of a new password with the configured scheme.
    pub(crate) async fn hash(self, password: SecretString) -> Result<HashedPassword, HashError> {
        match self
            .run(move |h, memory| h.hash_in(&password, memory))
            .await?
        {
            Ok(hash) => Ok(hash),
            Err(CryptoError::PasswordTooLong { max_bytes }) => Err(HashError::Invalid(
                Invalid::field("password", format!("must be at most {max_bytes} bytes")),
            )),
            Err(other) => Err(HashError::Fault(Fault::internal(other))),
        }
    }

    /// Verifies `password` against `stored`, made from the `form` of the password: exactly one
    /// verification whatever the form. A stored hash that cannot be used (malformed,
    /// parameters over the limits) counts as a mismatch after a dummy verification, so the
    /// answer and its timing stay those of a wrong password. A failing hashing backend is an
    /// internal error, not a wrong password.
    pub(crate) async fn verify(
        self,
        password: SecretString,
        stored: String,
        form: PasswordForm,
    ) -> Result<Verification, Fault> {
        self.run(
            move |h, memory| match h.verify_in(&password, &stored, form, memory) {
                Err(CryptoError::MalformedHash | CryptoError::HostileHash) => {
                    tracing::error!("stored password hash is unusable; treating as a mismatch");
                    h.dummy_verify_in(&password, memory);
                    Ok(Verification::Mismatch)
                }
                other => other,
            },
        )
        .await?
        .map_err(Fault::internal)
    }

    /// Spends the time of one verification for an account that does not exist.
    pub(crate) async fn dummy_verify(self, password: SecretString) -> Result<(), Fault> {
        self.run(move |h, memory| h.dummy_verify_in(&password, memory))
            .await
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use auth_crypto::{PasswordConfig, PasswordForm, PasswordHasher, Verification};
    use secrecy::SecretString;

    use super::{HashingLimits, HashingPool};
    use crate::error::Fault;

    fn pool(limits: HashingLimits) -> HashingPool {
        let hasher = PasswordHasher::new(PasswordConfig::for_tests()).unwrap();
        HashingPool::start(&hasher, limits).unwrap()
    }

    /// One hashing thread with a queue of `queue_depth` waiting at most `queue_timeout`.
    fn one_thread(queue_depth: usize, queue_timeout: Duration) -> HashingPool {
        pool(HashingLimits {
            threads: 1,
            queue_depth,
            queue_timeout,
        })
    }

    fn secret(s: &str) -> SecretString {
        SecretString::from(s)
    }

    #[tokio::test]
    async fn hashes_and_verifies_on_the_hashing_threads() {
        let pool = pool(HashingLimits::for_threads(2));
        let stored = pool.hash(secret("pw-one-two")).await.unwrap();
        let slot = pool.slot().await.unwrap();
        let thread = slot
            .run(|_, _| std::thread::current().name().map(str::to_owned))
            .await
            .unwrap();
        assert!(thread.unwrap().starts_with("hashing-"));
        let verdict = pool.slot().await.unwrap().verify(
            secret("pw-one-two"),
            stored.into_string(),
            PasswordForm::Normalized,
        );
        assert!(verdict.await.unwrap().is_match());
    }

    #[tokio::test]
    async fn every_job_reuses_the_memory_of_its_thread() {
        let pool = pool(HashingLimits::for_threads(1));
        let mut seen = Vec::new();
        for _ in 0..3 {
            let slot = pool.slot().await.unwrap();
            let address = slot.run(|_, memory| std::ptr::from_ref(memory) as usize);
            seen.push(address.await.unwrap());
        }
        assert!(seen.windows(2).all(|pair| pair[0] == pair[1]), "{seen:?}");
    }

    #[tokio::test]
    async fn a_busy_thread_gives_the_next_request_its_turn_at_once_and_runs_it_next() {
        let pool = one_thread(8, Duration::from_secs(30));
        let first = pool.slot().await.unwrap();
        let next = futures_poll_once(Box::pin(pool.slot())).await;
        let next = next
            .expect("the thread's next turn is given at once")
            .unwrap();
        let waiting = pool.slot();
        tokio::pin!(waiting);
        assert!(
            futures_poll_once(waiting.as_mut()).await.is_none(),
            "a third request waits: a thread has two turns out at most"
        );
        let order = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (one, two) = (order.clone(), order.clone());
        let hashing = first.run(move |_, _| {
            std::thread::sleep(Duration::from_millis(50));
            one.lock().unwrap().push("first");
        });
        let queued = next.run(move |_, _| two.lock().unwrap().push("next"));
        let (hashed, ran) = tokio::join!(hashing, queued);
        hashed.unwrap();
        ran.unwrap();
        assert_eq!(*order.lock().unwrap(), ["first", "next"]);
        assert!(
            waiting.await.is_ok(),
            "a finished turn goes to the waiting request"
        );
    }

    #[tokio::test]
    async fn a_full_queue_sheds_at_once() {
        let pool = one_thread(2, Duration::from_secs(30));
        let (_hashing, _next) = (pool.slot().await.unwrap(), pool.slot().await.unwrap());
        let waiting = pool.slot();
        tokio::pin!(waiting);
        assert!(
            futures_poll_once(waiting.as_mut()).await.is_none(),
            "the third request waits in the queue"
        );
        // The fourth is refused on its first poll: it never waits.
        let shed = futures_poll_once(Box::pin(pool.slot())).await;
        assert!(matches!(shed, Some(Err(Fault::Overloaded))), "{shed:?}");
    }

    #[tokio::test]
    async fn a_request_waiting_longer_than_the_timeout_is_shed() {
        let pool = one_thread(8, Duration::from_millis(200));
        let (_hashing, _next) = (pool.slot().await.unwrap(), pool.slot().await.unwrap());
        let started = std::time::Instant::now();
        let shed = pool.slot().await.unwrap_err();
        assert!(matches!(shed, Fault::Overloaded), "{shed:?}");
        assert!(started.elapsed() >= Duration::from_millis(200));
    }

    #[tokio::test]
    async fn without_a_queue_a_request_gets_only_a_free_thread() {
        let pool = one_thread(0, Duration::from_secs(30));
        let first = pool.slot().await.unwrap();
        assert!(matches!(pool.slot().await, Err(Fault::Overloaded)));
        first.dummy_verify(secret("x")).await.unwrap();
        let verdict = pool.slot().await.unwrap().verify(
            secret("x"),
            "not a hash".to_owned(),
            PasswordForm::Normalized,
        );
        assert_eq!(verdict.await.unwrap(), Verification::Mismatch);
    }

    #[tokio::test]
    async fn a_panicking_job_leaves_the_thread_in_service() {
        let pool = pool(HashingLimits::for_threads(1));
        let failed = pool.slot().await.unwrap().run(|_, _| panic!("boom"));
        assert!(matches!(failed.await, Err(Fault::Internal(_))));
        let stored = pool.hash(secret("still here")).await.unwrap();
        assert!(stored.as_str().starts_with("$argon2id$"));
    }

    /// Polls `future` once: `Some` if it is ready, `None` if it waits.
    async fn futures_poll_once<F: std::future::Future + Unpin>(future: F) -> Option<F::Output> {
        let mut future = future;
        std::future::poll_fn(|cx| {
            std::task::Poll::Ready(match std::pin::Pin::new(&mut future).poll(cx) {
                std::task::Poll::Ready(value) => Some(value),
                std::task::Poll::Pending => None,
            })
        })
        .await
    }

    #[test]
    fn the_shed_warning_reports_the_first_shed_then_at_most_one_count_per_interval() {
        let log = super::ShedLog::new(Duration::from_millis(50));
        assert_eq!(log.shed(), Some(1), "the first shed is reported at once");
        assert_eq!(log.shed(), None);
        assert_eq!(log.shed(), None);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(
            log.shed(),
            Some(3),
            "the next report counts every shed since the last"
        );
        assert_eq!(log.shed(), None);
    }
}
