//! PostgreSQL that answers slowly: a delayed network (through a proxy) and a statement held
//! up by a lock. Both end as a 503 `SERVICE_UNAVAILABLE` well before the request timeout —
//! the client-side deadline of every database call (acquire timeout plus statement timeout)
//! bounds the first, `DATABASE_STATEMENT_TIMEOUT_MS` the second — and the service recovers
//! by itself when the database is quick again.
//!
//! These cases need PostgreSQL (`TEST_DATABASE_URL`); without it they are reported as
//! ignored.

use std::time::{Duration, Instant};

use auth_tests::{FaultyProxy, Link, Reply, TestDb, TestServer, TestUser, assert_error, run};
use serde_json::{Value, json};

/// How long the breaker stays open in these tests.
const RECOVERY: Duration = Duration::from_secs(1);
/// The request timeout of these tests: far above every bound asserted, so a 503 that comes
/// from it (and not from the database layer) fails the bound.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(8);
/// The longest a slow-database request may take here.
const BOUND: Duration = Duration::from_secs(4);

/// Sends `login` for `user`, timed.
async fn login(server: &TestServer, user: &TestUser) -> (Reply, Duration) {
    let body = json!({"email": user.email, "password": user.password});
    let started = Instant::now();
    let reply = server.post_json("/auth/login", &body).await;
    (reply, started.elapsed())
}

/// Asserts the contract's outage answer, in less than [`BOUND`].
#[track_caller]
fn assert_unavailable_in_bound(reply: &Reply, took: Duration) {
    assert_error(reply, 503, "SERVICE_UNAVAILABLE");
    assert!(reply.header("retry-after").is_some());
    assert!(
        took < BOUND,
        "took {took:?}: not bounded by the database layer"
    );
}

/// Signs `user` in until it succeeds, allowing only 503s meanwhile, for at most `within`.
async fn login_once_healed(server: &TestServer, user: &TestUser, within: Duration) {
    let until = Instant::now() + within;
    loop {
        let (reply, _) = login(server, user).await;
        if reply.status == 200 {
            return;
        }
        assert_error(&reply, 503, "SERVICE_UNAVAILABLE");
        assert!(Instant::now() < until, "still failing after {within:?}");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Asserts the pool has every connection back.
#[track_caller]
fn assert_pool_at_rest(server: &TestServer) {
    let status = server.pool().status();
    assert_eq!(status.size, status.available, "{status:?}");
}

#[test]
#[cfg_attr(not(postgres_tests), ignore = "needs TEST_DATABASE_URL")]
fn a_slow_postgres_link_is_a_bounded_503_and_heals_when_it_is_quick_again() {
    run(async {
        let db = TestDb::postgres().await;
        let (proxy, database) = FaultyProxy::in_front_of(db.config());
        let server = TestServer::spawn_with(&db, |s| {
            s.database = database;
            s.database_max_connections = Some(2);
            s.database_acquire_timeout = Duration::from_secs(1);
            s.database_statement_timeout = Some(Duration::from_millis(500));
            s.db_breaker_failures = 3;
            s.db_breaker_recovery = RECOVERY;
            s.request_timeout = REQUEST_TIMEOUT;
        })
        .await;
        let ann = TestUser::unique("ann");
        ann.register(&server).await;

        proxy.set(Link::Slow(Duration::from_secs(3)));
        for _ in 0..5 {
            let (reply, took) = login(&server, &ann).await;
            assert_unavailable_in_bound(&reply, took);
        }
        proxy.set(Link::Up);

        login_once_healed(&server, &ann, RECOVERY + Duration::from_secs(8)).await;
        ann.login(&server).await;
        // Connections abandoned mid-query come back (or are replaced) once their late
        // answers arrive.
        actix_web::rt::time::sleep(Duration::from_secs(1)).await;
        assert_pool_at_rest(&server);
        server.stop().await;
    });
}

#[test]
#[cfg_attr(not(postgres_tests), ignore = "needs TEST_DATABASE_URL")]
fn a_statement_blocked_by_a_lock_is_cancelled_by_the_statement_timeout() {
    run(async {
        let db = TestDb::postgres().await;
        let server = TestServer::spawn_with(&db, |s| {
            s.database_statement_timeout = Some(Duration::from_millis(300));
            s.db_breaker_failures = 3;
            s.db_breaker_recovery = RECOVERY;
            s.request_timeout = REQUEST_TIMEOUT;
        })
        .await;
        let ann = TestUser::unique("ann");
        ann.register(&server).await;

        let lock = db.hold("BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE;");
        for _ in 0..3 {
            let (reply, took) = login(&server, &ann).await;
            assert_unavailable_in_bound(&reply, took);
        }
        // The cancelled statements counted as outages: the breaker is open although the
        // database answers a query that needs no lock.
        let ready = server.get("/health/ready").await;
        let body = assert_error(&ready, 503, "SERVICE_UNAVAILABLE");
        assert!(
            body.detail.contains("circuit breaker is open"),
            "{}",
            body.detail
        );
        let (reply, took) = login(&server, &ann).await;
        assert_unavailable_in_bound(&reply, took);
        assert!(
            took < Duration::from_millis(200),
            "the open breaker answers at once"
        );
        lock.release();

        login_once_healed(&server, &ann, RECOVERY + Duration::from_secs(4)).await;
        let ready: Value = server.get("/health/ready").await.json();
        assert_eq!(ready["status"], "ready");
        assert_pool_at_rest(&server);
        server.stop().await;
    });
}
