//! SQLite failing under the service: a full database and a database locked by another
//! connection answer 503 `SERVICE_UNAVAILABLE` (never a 500), write nothing by halves, and
//! the service serves again once the fault is gone, without a restart.

use std::time::{Duration, Instant};

use auth_persistence::test_support::on_every_connection;
use auth_tests::{Reply, TestDb, TestServer, TestUser, assert_error, run};

/// How long the breaker stays open in these tests.
const RECOVERY: Duration = Duration::from_secs(1);
/// The request timeout of these tests: far above every bound asserted, so a 503 that comes
/// from it (and not from the database layer) fails the bound.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(8);

/// A server on a fresh SQLite database with a short busy timeout and a quick breaker.
async fn sqlite_server(db: &TestDb) -> TestServer {
    TestServer::spawn_with(db, |s| {
        s.database.sqlite_busy_timeout = Duration::from_millis(300);
        s.database_acquire_timeout = Duration::from_secs(1);
        s.db_breaker_failures = 3;
        s.db_breaker_recovery = RECOVERY;
        s.request_timeout = REQUEST_TIMEOUT;
    })
    .await
}

/// `POST /auth/register` for `user`, timed.
async fn register(server: &TestServer, user: &TestUser) -> (Reply, Duration) {
    let started = Instant::now();
    let reply = server
        .post_json("/auth/register", &user.register_body())
        .await;
    (reply, started.elapsed())
}

/// Asserts the contract's outage answer.
#[track_caller]
fn assert_unavailable(reply: &Reply) {
    assert_error(reply, 503, "SERVICE_UNAVAILABLE");
    let wait = reply
        .header("retry-after")
        .and_then(|v| v.parse::<u64>().ok());
    assert!(wait.is_some_and(|secs| secs >= 1), "Retry-After: {wait:?}");
}

/// Registers `user` until it succeeds, allowing only 503s meanwhile, for at most `within`.
async fn register_once_healed(server: &TestServer, user: &TestUser, within: Duration) {
    let until = Instant::now() + within;
    loop {
        let (reply, _) = register(server, user).await;
        if reply.status == 201 {
            return;
        }
        assert_unavailable(&reply);
        assert!(Instant::now() < until, "still failing after {within:?}");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

/// How many users have `email`.
async fn users_with_email(db: &TestDb, email: &str) -> i64 {
    db.count(&format!(
        "SELECT COUNT(*) AS n FROM users WHERE email = '{email}'"
    ))
    .await
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

/// Asserts the pool has every connection back.
#[track_caller]
fn assert_pool_at_rest(server: &TestServer) {
    let status = server.pool().status();
    assert_eq!(status.size, status.available, "{status:?}");
}

#[test]
fn a_full_sqlite_database_is_a_503_writes_nothing_and_heals_when_space_returns() {
    run(async {
        let db = TestDb::sqlite().await;
        let server = sqlite_server(&db).await;
        // Every connection of the server's pool may grow the file no further (SQLite raises
        // the limit to the current size); registrations fill the free space of its pages.
        on_every_connection(server.pool(), "PRAGMA max_page_count = 1").await;
        let mut registered = 0_i64;
        let mut refused = None;
        for _ in 0..300 {
            let user = TestUser::unique("full");
            let (reply, _) = register(&server, &user).await;
            if reply.status == 201 {
                registered += 1;
                continue;
            }
            assert_unavailable(&reply);
            refused = Some(user);
            break;
        }
        let refused = refused.expect("the database filled up");
        assert_eq!(users_with_email(&db, &refused.email).await, 0);
        assert_eq!(
            db.count("SELECT COUNT(*) AS n FROM users").await,
            registered
        );
        assert_no_half_registration(&db).await;

        on_every_connection(server.pool(), "PRAGMA max_page_count = 1073741823").await;
        register_once_healed(&server, &refused, RECOVERY + Duration::from_secs(4)).await;
        assert_eq!(users_with_email(&db, &refused.email).await, 1);
        assert_no_half_registration(&db).await;
        assert_pool_at_rest(&server);
        server.stop().await;
    });
}

#[test]
fn a_sqlite_database_locked_past_the_busy_timeout_is_a_503_and_heals_when_released() {
    run(async {
        let db = TestDb::sqlite().await;
        let server = sqlite_server(&db).await;
        let ann = TestUser::unique("ann");
        ann.register(&server).await;

        let lock = db.hold("BEGIN EXCLUSIVE;");
        let bob = TestUser::unique("bob");
        for _ in 0..4 {
            let (reply, took) = register(&server, &bob).await;
            assert_unavailable(&reply);
            assert!(took < Duration::from_secs(3), "took {took:?}");
            let login = serde_json::json!({"email": ann.email, "password": ann.password});
            let reply = server.post_json("/auth/login", &login).await;
            assert_unavailable(&reply);
        }
        lock.release();

        assert_eq!(users_with_email(&db, &bob.email).await, 0);
        register_once_healed(&server, &bob, RECOVERY + Duration::from_secs(4)).await;
        ann.login(&server).await;
        assert_no_half_registration(&db).await;
        assert_pool_at_rest(&server);
        server.stop().await;
    });
}

#[test]
fn a_request_timing_out_inside_a_locked_sqlite_query_leaves_the_service_whole() {
    run(async {
        let db = TestDb::sqlite().await;
        // The busy timeout outlasts the request timeout: the handler is dropped while its
        // query waits inside SQLite.
        let server = TestServer::spawn_with(&db, |s| {
            s.database.sqlite_busy_timeout = Duration::from_secs(3);
            s.database_acquire_timeout = Duration::from_secs(5);
            s.db_breaker_recovery = RECOVERY;
            s.request_timeout = Duration::from_secs(1);
        })
        .await;
        let ann = TestUser::unique("ann");
        ann.register(&server).await;

        let lock = db.hold("BEGIN EXCLUSIVE;");
        let bob = TestUser::unique("bob");
        let cut_short = futures::future::join_all((0..3).map(|_| register(&server, &bob))).await;
        for (reply, _) in &cut_short {
            assert_unavailable(reply);
        }
        lock.release();
        // The abandoned queries finish inside SQLite (busy timeout) before the pool gets
        // their connections back.
        actix_web::rt::time::sleep(Duration::from_secs(3)).await;

        register_once_healed(&server, &bob, Duration::from_secs(6)).await;
        for _ in 0..8 {
            ann.login(&server).await;
        }
        assert_no_half_registration(&db).await;
        assert_pool_at_rest(&server);
        server.stop().await;
    });
}
