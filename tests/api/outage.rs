//! PostgreSQL going away under load and coming back, through a proxy the test cuts: every
//! answer during the outage is a 503 `SERVICE_UNAVAILABLE` with `Retry-After` (never a 500
//! or a 401), answered fast once the breaker is open; the service heals by itself within the
//! breaker's recovery time, its pool gets every connection back, and nothing is half-written.
//!
//! These cases need PostgreSQL (`TEST_DATABASE_URL`); without it they are reported as
//! ignored, like every PostgreSQL variant of `api_test!`.

#![expect(
    clippy::print_stdout,
    reason = "the measured figures are printed for the README"
)]

use std::time::{Duration, Instant};

use auth_tests::{
    FaultyProxy, Link, Reply, Sample, TestDb, TestServer, TestUser, Traffic, assert_error,
    percentile, run,
};

/// How long the breaker stays open in these tests before a trial call probes the database.
const RECOVERY: Duration = Duration::from_secs(1);
/// How long the database stays cut.
const OUTAGE: Duration = Duration::from_secs(4);
/// Generous bound on the p99 answer time while the breaker is open: this only fails when the
/// breaker is not answering at all, not when the machine is busy. The figure itself (target
/// 50 ms) is measured on the release binary by `bench/outage.py`; here the debug build of
/// the server shares two cores with the proxy and the clients.
const OPEN_P99_BOUND: Duration = Duration::from_secs(2);

/// A server on `db` whose database traffic goes through a proxy the test controls, with a
/// breaker that opens after 3 failures and probes after [`RECOVERY`].
async fn behind_proxy(db: &TestDb) -> (FaultyProxy, TestServer) {
    let (proxy, database) = FaultyProxy::in_front_of(db.config());
    let server = TestServer::spawn_with(db, |s| {
        s.database = database;
        s.database_acquire_timeout = Duration::from_secs(1);
        s.db_breaker_failures = 3;
        s.db_breaker_recovery = RECOVERY;
    })
    .await;
    (proxy, server)
}

/// One look at the health endpoints.
struct Probe {
    at: Instant,
    ready: Reply,
    live: Reply,
}

/// Polls `/health/ready` and `/health` every 100 ms for `span`.
async fn probe_health(server: &TestServer, span: Duration) -> Vec<Probe> {
    let until = Instant::now() + span;
    let mut probes = Vec::new();
    while Instant::now() < until {
        let at = Instant::now();
        let ready = server.get("/health/ready").await;
        let live = server.get("/health").await;
        probes.push(Probe { at, ready, live });
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    probes
}

/// Waits until `/health/ready` answers 200 and returns when it did.
async fn ready_again(server: &TestServer, within: Duration) -> Instant {
    let until = Instant::now() + within;
    loop {
        if server.get("/health/ready").await.status == 200 {
            return Instant::now();
        }
        assert!(Instant::now() < until, "not ready again within {within:?}");
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Asserts every answer was a success or the contract's outage answer, showing a few others.
#[track_caller]
fn assert_only_success_or_unavailable(samples: &[Sample]) {
    let others: Vec<&Sample> = samples
        .iter()
        .filter(|s| !s.succeeded() && !s.is_unavailable())
        .collect();
    assert!(
        others.is_empty(),
        "{} of {} answers were neither 2xx nor 503 SERVICE_UNAVAILABLE with Retry-After: {:?}",
        others.len(),
        samples.len(),
        &others[..others.len().min(5)]
    );
}

/// Asserts the pool has every connection back and no more than its size.
#[track_caller]
fn assert_pool_at_rest(server: &TestServer) {
    let status = server.pool().status();
    assert_eq!(
        status.size, status.available,
        "connections still checked out after the traffic stopped: {status:?}"
    );
    assert!(status.size <= status.max_size, "{status:?}");
}

/// Asserts no user exists without the session its registration opened with it.
async fn assert_no_half_registration(db: &TestDb) {
    let orphans = db
        .count(
            "SELECT COUNT(*) AS n FROM users u \
             WHERE NOT EXISTS (SELECT 1 FROM sessions s WHERE s.user_id = u.id)",
        )
        .await;
    assert_eq!(orphans, 0, "users written without their session");
}

/// A user signs up, in, refreshes and reads itself: the service works.
async fn assert_serves(server: &TestServer) {
    let user = TestUser::unique("after");
    user.register(server).await;
    let tokens = user.login(server).await;
    let reply = server
        .post_json("/auth/refresh", &tokens.refresh_body())
        .await;
    reply.expect_status(200);
    server
        .get_bearer("/auth/me", &tokens.access_token)
        .await
        .expect_status(200);
}

#[test]
#[cfg_attr(not(postgres_tests), ignore = "needs TEST_DATABASE_URL")]
fn a_postgres_outage_under_load_is_a_fast_503_and_heals_by_itself() {
    run(async {
        let db = TestDb::postgres().await;
        let (proxy, server) = behind_proxy(&db).await;
        let traffic = Traffic::start(&server, 4);
        actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
        assert!(
            traffic.samples().iter().any(Sample::succeeded),
            "the traffic works before the outage"
        );

        // Slow the link first, so transactions are mid-way when it is cut.
        proxy.set(Link::Slow(Duration::from_millis(100)));
        actix_web::rt::time::sleep(Duration::from_millis(500)).await;
        let cut = Instant::now();
        proxy.set(Link::Cut);
        let probes = probe_health(&server, OUTAGE).await;
        let restored = Instant::now();
        proxy.set(Link::Up);
        let ready = ready_again(&server, RECOVERY + Duration::from_secs(10)).await;
        actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
        let samples = traffic.stop().await;

        assert_only_success_or_unavailable(&samples);
        let in_flight = samples
            .iter()
            .filter(|s| s.started < cut && s.ended() > cut)
            .count();
        assert!(
            in_flight > 0,
            "no request was in flight when the link was cut"
        );
        let during: Vec<&Sample> = samples
            .iter()
            .filter(|s| s.started >= cut && s.ended() <= restored)
            .collect();
        assert!(
            during.iter().all(|s| s.is_unavailable()),
            "a request succeeded without a database"
        );

        for probe in &probes {
            probe.live.expect_status(200);
            assert_error(&probe.ready, 503, "SERVICE_UNAVAILABLE");
            assert!(probe.ready.header("retry-after").is_some());
        }
        let opened = probes
            .iter()
            .find(|p| p.ready.text().contains("circuit breaker open"))
            .map(|p| p.at)
            .expect("/health/ready reported the breaker open during the outage");

        // Refused by the breaker: its Retry-After is the rest of the recovery time (1 s
        // here), where a failed call through it (a trial) says 5 s.
        let open_times: Vec<Duration> = during
            .iter()
            .filter(|s| s.started >= opened && s.retry_after.as_deref() == Some("1"))
            .map(|s| s.took)
            .collect();
        let trial_times: Vec<Duration> = during
            .iter()
            .filter(|s| s.started >= opened && s.retry_after.as_deref() != Some("1"))
            .map(|s| s.took)
            .collect();
        assert!(
            open_times.len() >= 20,
            "too few answers with the breaker open"
        );
        let p99 = percentile(&open_times, 99);
        let first_success = samples
            .iter()
            .filter(|s| s.succeeded() && s.ended() > restored)
            .map(Sample::ended)
            .min()
            .expect("traffic succeeded again after the restore");
        let recovery = first_success - restored;
        println!(
            "postgres outage: {} answers refused by the open breaker, p50 {} ms, p99 {} ms \
             (max {} ms); {} calls through it (trials) failed, max {} ms; \
             first success {} ms after restore, ready after {} ms (breaker recovery {} ms); \
             {in_flight} requests in flight at the cut",
            open_times.len(),
            percentile(&open_times, 50).as_millis(),
            p99.as_millis(),
            percentile(&open_times, 100).as_millis(),
            trial_times.len(),
            percentile(&trial_times, 100).as_millis(),
            recovery.as_millis(),
            (ready - restored).as_millis(),
            RECOVERY.as_millis(),
        );
        assert!(p99 <= OPEN_P99_BOUND, "p99 {p99:?} with the breaker open");
        assert!(
            recovery <= RECOVERY + Duration::from_secs(3),
            "took {recovery:?} to succeed again"
        );

        // Once a trial call has closed the breaker (a half-open one refuses all but the
        // trial), every request succeeds again.
        let closed = ready.max(first_success) + Duration::from_millis(300);
        let settled: Vec<&Sample> = samples.iter().filter(|s| s.started >= closed).collect();
        assert!(!settled.is_empty(), "no traffic after recovery");
        assert!(
            settled.iter().all(|s| s.succeeded()),
            "failures after the service was ready again"
        );
        assert_pool_at_rest(&server);
        assert_no_half_registration(&db).await;
        assert_serves(&server).await;
        server.stop().await;
    });
}
