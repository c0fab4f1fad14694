//! The retention purge: what is past its time goes, in batches; everything live stays.

use auth_persistence::retention::{self, Cutoffs, PURGE_LOCK_KEY, Purged};
use auth_persistence::test_support::TestDb;
use auth_persistence::{Backend, db_test, sessions, throttles, users};
use time::{Duration, OffsetDateTime};

use super::{ann, now};

/// `now + offset` as a timestamp literal both backends read.
fn at(offset: Duration) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    (OffsetDateTime::now_utc() + offset).format(format).unwrap()
}

fn days(n: i64) -> Duration {
    Duration::days(n)
}

/// The cut-offs of a 7-day token lifetime, a 1-day counter reset and a 365-day audit trail.
fn cutoffs() -> Cutoffs {
    let now = now();
    Cutoffs {
        sessions_ended_before: now - days(8),
        devices_expired_before: now,
        throttles_hit_before: now - days(1),
        now,
        audit_before: Some(now - days(365)),
    }
}

/// Everything that is left, as a purge with every cut-off far ahead counts it.
async fn remaining(db: &TestDb) -> Purged {
    let later = now() + days(10_000);
    let all = Cutoffs {
        sessions_ended_before: later,
        devices_expired_before: later,
        throttles_hit_before: later,
        now: later,
        audit_before: Some(later),
    };
    retention::purge(db.pool(), &all, 1_000)
        .await
        .unwrap()
        .unwrap()
}

async fn fill(db: &TestDb) -> i64 {
    let user = users::insert(db.pool(), ann()).await.unwrap().id;
    let session = |id: &str, used: i64, expires: i64, revoked: Option<i64>| {
        let revoked = revoked.map_or("NULL".to_owned(), |d| format!("'{}'", at(days(d))));
        format!(
            "INSERT INTO sessions (id, user_id, current_jti_hash, created_at, last_used_at, \
             expires_at, revoked_at) VALUES ('{id}', {user}, 'h-{id}', '{c}', '{u}', '{e}', {revoked});",
            c = at(days(used)),
            u = at(days(used)),
            e = at(days(expires)),
        )
    };
    let device = |id: &str, expires: i64| {
        format!(
            "INSERT INTO device_tokens (id, user_id, token_hash, created_at, expires_at) \
             VALUES ('{id}', {user}, 'hash-{id}', '{c}', '{e}');",
            c = at(days(-100)),
            e = at(days(expires)),
        )
    };
    let counter = |key: &str, updated: Duration, blocked: Option<Duration>| {
        let blocked = blocked.map_or("NULL".to_owned(), |d| format!("'{}'", at(d)));
        format!(
            "INSERT INTO throttles (key, hits, window_started_at, blocked_until, updated_at) \
             VALUES ('{key}', 3, '{u}', {blocked}, '{u}');",
            u = at(updated),
        )
    };
    let audit = |event: &str, occurred: i64| {
        format!(
            "INSERT INTO audit_events (occurred_at, event, user_id) VALUES ('{}', '{event}', {user});",
            at(days(occurred))
        )
    };
    let sql = [
        // Ended long ago, whether revoked, used to its end or left idle: every token of them
        // has expired.
        session("old-revoked", -30, -23, Some(-29)),
        session("old-ended", -40, -33, None),
        session("old-idle", -20, -13, None),
        // Ended three days ago, after the cut-off: kept until a token lifetime and a margin
        // have passed since its end.
        session("ended-recently", -8, -3, None),
        // Left idle six days ago, not ended: kept until its end (idleness is checked when a
        // token is presented; the purge goes by the end alone).
        session("idle-not-ended", -6, 1, None),
        // Revoked yesterday: a token of it may still be presented (reuse detection).
        session("revoked-recently", -1, 6, Some(-1)),
        // Live.
        session("live", 0, 6, None),
        device("device-old", -1),
        device("device-live", 30),
        counter("acct:email=old", days(-2), None),
        counter("ip:login:old", days(-3), Some(days(-2))),
        counter(
            "lock:email=still-locked",
            days(-2),
            Some(Duration::hours(1)),
        ),
        counter("acct:email=live", Duration::hours(-1), None),
        audit("old", -400),
        audit("recent", -1),
    ]
    .concat();
    db.batch_execute(&sql).await;
    user
}

db_test!(async fn purge_deletes_what_is_past_its_time_and_keeps_the_rest(db) {
    fill(db).await;
    let purged = retention::purge(db.pool(), &cutoffs(), 1_000).await.unwrap();
    assert_eq!(
        purged,
        Some(Purged { sessions: 3, device_tokens: 1, throttles: 2, audit_events: 1 })
    );
    for kept in ["ended-recently", "idle-not-ended", "revoked-recently", "live"] {
        assert!(sessions::find(db.pool(), kept).await.unwrap().is_some(), "{kept}");
    }
    assert!(sessions::find(db.pool(), "old-revoked").await.unwrap().is_none());
    assert_eq!(throttles::hits(db.pool(), "acct:email=live").await.unwrap(), Some(3));
    assert_eq!(
        throttles::hits(db.pool(), "lock:email=still-locked").await.unwrap(),
        Some(3),
        "a lock that still lasts keeps its counter"
    );
    assert_eq!(throttles::hits(db.pool(), "acct:email=old").await.unwrap(), None);
    let audit = auth_persistence::audit::recent(db.pool(), 10).await.unwrap();
    assert_eq!(audit.iter().map(|e| e.event.as_str()).collect::<Vec<_>>(), ["recent"]);
    // A second run finds nothing more; what is left is exactly the live rows.
    let again = retention::purge(db.pool(), &cutoffs(), 1_000).await.unwrap();
    assert_eq!(again, Some(Purged::default()));
    assert_eq!(
        remaining(db).await,
        Purged { sessions: 4, device_tokens: 1, throttles: 2, audit_events: 1 }
    );
});

db_test!(async fn audit_events_are_kept_forever_without_a_retention_period(db) {
    fill(db).await;
    let keep_all = Cutoffs { audit_before: None, ..cutoffs() };
    let purged = retention::purge(db.pool(), &keep_all, 1_000).await.unwrap().unwrap();
    assert_eq!(purged.audit_events, 0);
    assert_eq!(auth_persistence::audit::recent(db.pool(), 10).await.unwrap().len(), 2);
});

db_test!(async fn more_rows_than_one_batch_are_all_deleted(db) {
    let user = users::insert(db.pool(), ann()).await.unwrap().id;
    let old = at(days(-400));
    let recursive = |insert: &str| {
        format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 250) {insert}"
        )
    };
    let stamp = match db.pool().backend() {
        Backend::Postgres => format!("CAST('{old}' AS TIMESTAMP)"),
        Backend::Sqlite => format!("'{old}'"),
    };
    db.batch_execute(&recursive(&format!(
        "INSERT INTO audit_events (occurred_at, event, user_id) SELECT {stamp}, 'old', {user} FROM n"
    )))
    .await;
    db.batch_execute(&recursive(&format!(
        "INSERT INTO throttles (key, hits, window_started_at, updated_at) \
         SELECT 'ip:login:' || i, 1, {stamp}, {stamp} FROM n"
    )))
    .await;
    // 250 rows each, 100 per statement: three statements per table, the last one short.
    let purged = retention::purge(db.pool(), &cutoffs(), 100).await.unwrap().unwrap();
    assert_eq!((purged.audit_events, purged.throttles), (250, 250));
    assert_eq!(remaining(db).await, Purged::default());
});

/// PostgreSQL only: a purge while another session holds the lock skips the round.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(postgres_tests), ignore = "needs TEST_DATABASE_URL")]
async fn a_purge_skips_while_another_replica_holds_the_lock() {
    use diesel_async::{AsyncConnection as _, AsyncPgConnection, SimpleAsyncConnection as _};

    let db = TestDb::postgres().await;
    fill(&db).await;
    let mut other = AsyncPgConnection::establish(db.config().url())
        .await
        .unwrap();
    other
        .batch_execute(&format!("SELECT pg_advisory_lock({PURGE_LOCK_KEY})"))
        .await
        .unwrap();
    assert_eq!(
        retention::purge(db.pool(), &cutoffs(), 1_000)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        remaining_count_of_sessions(&db).await,
        7,
        "nothing was deleted"
    );
    other
        .batch_execute(&format!("SELECT pg_advisory_unlock({PURGE_LOCK_KEY})"))
        .await
        .unwrap();
    let purged = retention::purge(db.pool(), &cutoffs(), 1_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(purged.sessions, 3, "the lock is free again");
}

async fn remaining_count_of_sessions(db: &TestDb) -> usize {
    let mut left = 0;
    for id in [
        "old-revoked",
        "old-ended",
        "old-idle",
        "ended-recently",
        "idle-not-ended",
        "revoked-recently",
        "live",
    ] {
        left += usize::from(sessions::find(db.pool(), id).await.unwrap().is_some());
    }
    left
}
