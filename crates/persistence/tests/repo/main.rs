//! Repository tests, each run on SQLite and (with `TEST_DATABASE_URL`) on PostgreSQL.
#![cfg(test)]

mod accounts;
mod retention;
mod tls;

use auth_persistence::audit::{self, NewAuditEvent};
use auth_persistence::db_test;
use auth_persistence::sessions::{self, Login, NewSession, RevokeReason, Rotate, Rotation};
use auth_persistence::signing_keys;
use auth_persistence::test_support::TestDb;
use auth_persistence::users::{self, CounterKeys, NewUser, UserKey};
use auth_persistence::{DbConfig, DbPool, RepoError, run_migrations};
use time::{Duration, OffsetDateTime};

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// No client details.
const CLIENT: sessions::Client<'static> = sessions::Client {
    ip: None,
    user_agent: None,
};

/// An idle limit no session reaches.
fn never() -> OffsetDateTime {
    OffsetDateTime::UNIX_EPOCH
}

fn ann() -> NewUser<'static> {
    NewUser {
        email: "Ann@Example.com",
        username: "Ann_1",
        hashed_password: "$argon2id$x",
        password_normalized: true,
        now: now(),
    }
}

fn new_session(id: &str) -> NewSession<'_> {
    NewSession {
        id,
        jti_hash: "h0",
        now: now(),
        expires_at: now() + Duration::days(7),
        client: sessions::Client::default(),
    }
}

/// A sign-in of `user_id` that changes nothing else.
fn login(user_id: i64, rehashed_password: Option<&str>) -> Login<'_> {
    Login {
        user_id,
        verified_hash: "$argon2id$x",
        rehashed_password,
        cleared_counters: &[],
        events: &[],
        new_device: None,
        limit: None,
    }
}

/// An audit event named `event` about nobody yet.
fn event(event: &str) -> NewAuditEvent<'_> {
    NewAuditEvent {
        occurred_at: now(),
        event,
        reason: None,
        request_id: None,
        user_id: None,
        session_id: None,
        client_ip: None,
    }
}

/// A rotation of session `sid` of `user_id` from `presented` to `next`, now, by a client with
/// no details, with no idle limit.
fn rotation<'a>(sid: &'a str, user_id: i64, presented: &'a str, next: &'a str) -> Rotate<'a> {
    Rotate {
        session_id: sid,
        user_id,
        presented_hash: presented,
        next_hash: next,
        at: now(),
        client: CLIENT,
        idle_since: never(),
    }
}

async fn user_with_session(db: &TestDb, sid: &str) -> (users::UserRecord, sessions::SessionRecord) {
    sessions::create_user_with_session(db.pool(), ann(), new_session(sid), None)
        .await
        .unwrap()
}

db_test!(async fn finds_a_user_by_id_email_and_username(db) {
    let created = users::insert(db.pool(), ann()).await.unwrap();
    assert_eq!(created.email, "Ann@Example.com", "spelling kept for display");
    assert_eq!(created.username, "Ann_1");
    assert!(created.is_active);
    assert_eq!(created.last_login, None);
    let by_id = users::find_by_id(db.pool(), created.id).await.unwrap().unwrap();
    assert_eq!(by_id, created);
    let by_email = users::find_by_email(db.pool(), "ann@EXAMPLE.com").await.unwrap().unwrap();
    assert_eq!(by_email.id, created.id);
    let by_name = users::find_by_username(db.pool(), "ANN_1").await.unwrap().unwrap();
    assert_eq!(by_name.id, created.id);
});

db_test!(async fn unknown_users_are_none(db) {
    assert!(users::find_by_id(db.pool(), 4242).await.unwrap().is_none());
    assert!(users::find_by_email(db.pool(), "nobody@example.com").await.unwrap().is_none());
    assert!(users::find_by_username(db.pool(), "nobody").await.unwrap().is_none());
});

db_test!(async fn duplicate_email_or_username_is_a_conflict_whatever_the_case(db) {
    users::insert(db.pool(), ann()).await.unwrap();
    let same_email = NewUser { username: "other", ..ann() };
    let same_name = NewUser { email: "other@example.com", username: "ann_1", ..ann() };
    let upper_email = NewUser { email: "ANN@example.COM", username: "third", ..ann() };
    for dup in [same_email, same_name, upper_email] {
        let err = users::insert(db.pool(), dup).await.unwrap_err();
        assert!(matches!(err, RepoError::Conflict), "{err:?}");
    }
});

db_test!(async fn twenty_concurrent_creates_of_one_email_give_one_account(db) {
    let names: Vec<String> = (0..20).map(|i| format!("racer{i}")).collect();
    let attempts = names.iter().map(|name| {
        let pool = db.pool().clone();
        async move {
            let user = NewUser { email: "race@example.com", username: name, ..ann() };
            users::insert(&pool, user).await
        }
    });
    let results = futures::future::join_all(attempts).await;
    let created = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(created, 1, "{results:?}");
    for result in results.iter().filter_map(|r| r.as_ref().err()) {
        assert!(matches!(result, RepoError::Conflict), "{result:?}");
    }
});

db_test!(async fn timestamps_round_trip_in_utc(db) {
    let at = time::macros::datetime!(2024-01-15 10:30:45.123456 UTC);
    let created = users::insert(db.pool(), NewUser { now: at, ..ann() }).await.unwrap();
    assert_eq!(created.created_at, at);
    let later = NewSession { now: at + Duration::seconds(1), ..new_session("s1") };
    sessions::open_for_login(db.pool(), login(created.id, None), later).await.unwrap();
    let found = users::find_by_id(db.pool(), created.id).await.unwrap().unwrap();
    assert_eq!(found.last_login, Some(at + Duration::seconds(1)));
});

db_test!(async fn updates_of_a_missing_user_are_not_found(db) {
    let err = users::update_password_hash(db.pool(), 999, "x", now()).await.unwrap_err();
    assert!(matches!(err, RepoError::NotFound), "{err:?}");
});

db_test!(async fn registration_writes_user_and_session_or_nothing(db) {
    let (user, session) = user_with_session(db, "s1").await;
    assert_eq!(session.user_id, user.id);
    assert_eq!(session.generation, 0);
    // The session id is taken: the second registration must leave no user behind.
    let other = NewUser { email: "bob@example.com", username: "bob", ..ann() };
    let err = sessions::create_user_with_session(db.pool(), other, new_session("s1"), None).await;
    assert!(matches!(err, Err(RepoError::Conflict)), "{err:?}");
    assert!(users::find_by_email(db.pool(), "bob@example.com").await.unwrap().is_none());
});

db_test!(async fn login_records_last_login_rehash_and_a_session_together(db) {
    let (user, _) = user_with_session(db, "s1").await;
    let session = sessions::open_for_login(db.pool(), login(user.id, Some("$argon2id$new")), new_session("s2"))
        .await
        .unwrap();
    assert_eq!(session.user_id, user.id);
    let found = users::find_by_id(db.pool(), user.id).await.unwrap().unwrap();
    assert_eq!(found.hashed_password, "$argon2id$new");
    assert!(found.last_login.is_some());
    // A failing session insert rolls back the last_login and the rehash.
    let again = Login { verified_hash: "$argon2id$new", ..login(user.id, Some("$argon2id$newer")) };
    let err = sessions::open_for_login(db.pool(), again, new_session("s2")).await;
    assert!(matches!(err, Err(RepoError::Conflict)), "{err:?}");
    let after = users::find_by_id(db.pool(), user.id).await.unwrap().unwrap();
    assert_eq!(after.hashed_password, "$argon2id$new");
    assert_eq!(after.last_login, found.last_login);
});

db_test!(async fn rotation_replaces_the_current_token_once(db) {
    let (user, _) = user_with_session(db, "s1").await;
    let rotated = sessions::rotate(db.pool(), rotation("s1", user.id, "h0", "h1")).await.unwrap();
    let Rotation::Rotated(session, owner) = rotated else { panic!("{rotated:?}") };
    assert_eq!(session.current_jti_hash, "h1");
    assert_eq!(session.previous_jti_hash.as_deref(), Some("h0"));
    assert_eq!(session.generation, 1);
    assert!(session.rotated_at.is_some());
    assert_eq!(owner, user, "the owner is read with the rotation");
    let again = sessions::rotate(db.pool(), rotation("s1", user.id, "h0", "hX")).await.unwrap();
    let Rotation::Stale(stale) = again else { panic!("{again:?}") };
    assert_eq!(stale.current_jti_hash, "h1", "a stale rotation changes nothing");
    let missing = sessions::rotate(db.pool(), rotation("nope", user.id, "h0", "h1")).await.unwrap();
    assert_eq!(missing, Rotation::Missing);
});

db_test!(async fn a_session_rotates_only_for_its_active_owner(db) {
    let (ann, _) = user_with_session(db, "s1").await;
    let bob = NewUser { email: "bob@example.com", username: "bob_2", ..self::ann() };
    let bob = users::insert(db.pool(), bob).await.unwrap();
    let as_bob = sessions::rotate(db.pool(), rotation("s1", bob.id, "h0", "h1")).await.unwrap();
    assert_eq!(as_bob, Rotation::Missing, "another user's session is no session of the token's");
    let nobody = sessions::rotate(db.pool(), rotation("s1", 4242, "h0", "h1")).await.unwrap();
    assert_eq!(nobody, Rotation::NoLiveUser);
    users::set_active(db.pool(), UserKey::Id(ann.id), false, now(), event("deactivated")).await.unwrap();
    let inactive = sessions::rotate(db.pool(), rotation("s1", ann.id, "h0", "h1")).await.unwrap();
    assert_eq!(inactive, Rotation::NoLiveUser);
    let session = sessions::find(db.pool(), "s1").await.unwrap().unwrap();
    assert_eq!((session.current_jti_hash.as_str(), session.generation), ("h0", 0), "nothing rotated");
});

db_test!(async fn fifty_concurrent_rotations_of_one_token_have_one_winner(db) {
    let (user, _) = user_with_session(db, "s1").await;
    let attempts = (0..50).map(|i| {
        let pool = db.pool().clone();
        async move {
            let next = format!("next{i}");
            sessions::rotate(&pool, rotation("s1", user.id, "h0", &next)).await
        }
    });
    let results = futures::future::join_all(attempts).await;
    let winners = results.iter().filter(|r| matches!(r, Ok(Rotation::Rotated(..)))).count();
    let stale = results.iter().filter(|r| matches!(r, Ok(Rotation::Stale(_)))).count();
    assert_eq!((winners, stale), (1, 49), "{results:?}");
    let session = sessions::find(db.pool(), "s1").await.unwrap().unwrap();
    assert_eq!(session.generation, 1);
});

db_test!(async fn revoked_sessions_cannot_rotate_and_revoking_twice_is_harmless(db) {
    let (user, _) = user_with_session(db, "s1").await;
    let logout = [event("logout")];
    assert!(sessions::revoke(db.pool(), "s1", RevokeReason::Logout, now(), &logout).await.unwrap());
    assert!(!sessions::revoke(db.pool(), "s1", RevokeReason::Logout, now(), &logout).await.unwrap());
    let events = audit::recent(db.pool(), 10).await.unwrap();
    assert_eq!(events.len(), 1, "the event is written with the revocation only: {events:?}");
    let session = sessions::find(db.pool(), "s1").await.unwrap().unwrap();
    assert!(session.is_revoked());
    assert_eq!(session.revoked_reason.as_deref(), Some("logout"));
    let rotated = sessions::rotate(db.pool(), rotation("s1", user.id, "h0", "h1")).await.unwrap();
    assert!(matches!(rotated, Rotation::Stale(_)), "{rotated:?}");
});

db_test!(async fn revoking_all_of_a_user_leaves_other_users_alone(db) {
    let (user, _) = user_with_session(db, "s1").await;
    sessions::open_for_login(db.pool(), login(user.id, None), new_session("s2")).await.unwrap();
    let bob = NewUser { email: "bob@example.com", username: "bob", ..ann() };
    let (_, bobs) = sessions::create_user_with_session(db.pool(), bob, new_session("s3"), None).await.unwrap();
    let revoked = sessions::revoke_all_for_user(db.pool(), user.id, RevokeReason::Admin, now()).await.unwrap();
    assert_eq!(revoked, 2);
    assert!(!sessions::find(db.pool(), &bobs.id).await.unwrap().unwrap().is_revoked());
});

db_test!(async fn deactivating_a_user_revokes_every_session(db) {
    let (user, _) = user_with_session(db, "s1").await;
    let (off, revoked) = users::set_active(db.pool(), UserKey::Email("ANN@example.com"), false, now(), event("deactivate")).await.unwrap();
    assert_eq!((off.id, off.is_active, revoked), (user.id, false, 1));
    let found = users::find_by_id(db.pool(), user.id).await.unwrap().unwrap();
    assert!(!found.is_active);
    let session = sessions::find(db.pool(), "s1").await.unwrap().unwrap();
    assert_eq!(session.revoked_reason.as_deref(), Some("deactivated"));
    users::set_active(db.pool(), UserKey::Username("ann_1"), true, now(), event("activate")).await.unwrap();
    assert!(users::find_by_id(db.pool(), user.id).await.unwrap().unwrap().is_active);
    let events = audit::recent(db.pool(), 10).await.unwrap();
    let names: Vec<_> = events.iter().map(|e| (e.event.as_str(), e.user_id)).collect();
    assert_eq!(names, [("activate", Some(user.id)), ("deactivate", Some(user.id))]);
});

db_test!(async fn device_tokens_are_stored_with_a_sign_in_and_revoked_by_deactivation(db) {
    use auth_persistence::devices::{self, NewDevice};
    let device = |id, token_hash| NewDevice { id, token_hash, now: now(), expires_at: now() + Duration::days(90) };
    let (user, _) = sessions::create_user_with_session(db.pool(), ann(), new_session("s1"), Some(device("d1", "t1"))).await.unwrap();
    let sign_in = Login { new_device: Some(device("d2", "t2")), ..login(user.id, None) };
    sessions::open_for_login(db.pool(), sign_in, new_session("s2")).await.unwrap();
    for (hash, id) in [("t1", "d1"), ("t2", "d2")] {
        let found = devices::find_by_hash(db.pool(), hash).await.unwrap().unwrap();
        assert_eq!((found.id.as_str(), found.user_id), (id, user.id));
        assert!(found.is_live(now()));
        assert!(!found.is_live(now() + Duration::days(91)), "expired after its lifetime");
    }
    assert!(devices::find_by_hash(db.pool(), "nope").await.unwrap().is_none());
    users::set_active(db.pool(), UserKey::Id(user.id), false, now(), event("deactivate")).await.unwrap();
    let revoked = devices::find_by_hash(db.pool(), "t1").await.unwrap().unwrap();
    assert!(revoked.revoked_at.is_some() && !revoked.is_live(now()));
});

db_test!(async fn an_action_on_an_unknown_user_is_not_found_and_writes_nothing(db) {
    let err = users::set_active(db.pool(), UserKey::Id(999), false, now(), event("deactivate")).await.unwrap_err();
    assert!(matches!(err, RepoError::NotFound), "{err:?}");
    let keys = |_| CounterKeys::default();
    let err = users::clear_counters(db.pool(), UserKey::Email("ghost@example.com"), keys, now(), event("unlock")).await.unwrap_err();
    assert!(matches!(err, RepoError::NotFound), "{err:?}");
    assert!(audit::recent(db.pool(), 10).await.unwrap().is_empty());
});

db_test!(async fn a_login_writes_its_events_with_its_session_and_clears_its_counters(db) {
    use auth_persistence::throttles;
    let (user, _) = user_with_session(db, "s1").await;
    throttles::hit(db.pool(), "acct:user=1", now(), now()).await.unwrap();
    let cleared = ["acct:user=1".to_owned()];
    let events = [event("login_succeeded")];
    let sign_in = Login { cleared_counters: &cleared, events: &events, ..login(user.id, None) };
    sessions::open_for_login(db.pool(), sign_in, new_session("s2")).await.unwrap();
    assert!(!throttles::clear(db.pool(), "acct:user=1").await.unwrap(), "already cleared");
    let stored = audit::recent(db.pool(), 10).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].session_id.as_deref(), Some("s2"));
});

db_test!(async fn migrations_are_idempotent(db) {
    let applied = auth_persistence::run_migrations(db.config()).await.unwrap();
    assert!(applied.is_empty(), "{applied:?}");
    db.pool().ping().await.unwrap();
});

#[tokio::test]
async fn an_unreachable_postgres_is_unavailable_not_a_hang() {
    let mut config = DbConfig::new("postgres://postgres@127.0.0.1:1/none").unwrap();
    config.acquire_timeout = std::time::Duration::from_secs(2);
    let pool = DbPool::new(&config).unwrap();
    let err = pool.ping().await.unwrap_err();
    assert!(matches!(err, RepoError::Unavailable(_)), "{err:?}");
    assert!(err.is_outage());
    let err = users::find_by_id(&pool, 1).await.unwrap_err();
    assert!(matches!(err, RepoError::Unavailable(_)), "{err:?}");
}

db_test!(async fn throttle_counters_count_restart_with_their_window_and_clear(db) {
    use auth_persistence::throttles;
    let t0 = time::macros::datetime!(2024-01-15 10:00 UTC);
    let floor = |now: OffsetDateTime| now - Duration::minutes(15);
    let first = throttles::hit(db.pool(), "k", t0, floor(t0)).await.unwrap();
    assert_eq!((first.hits, first.window_started_at, first.blocked_until), (1, t0, None));
    let second = throttles::hit(db.pool(), "k", t0 + Duration::minutes(1), floor(t0 + Duration::minutes(1))).await.unwrap();
    assert_eq!((second.hits, second.window_started_at), (2, t0));
    throttles::block(db.pool(), "k", Some(t0 + Duration::hours(1))).await.unwrap();
    let later = t0 + Duration::minutes(16);
    let restarted = throttles::hit(db.pool(), "k", later, floor(later)).await.unwrap();
    assert_eq!((restarted.hits, restarted.window_started_at), (1, later));
    assert_eq!(restarted.blocked_until, Some(t0 + Duration::hours(1)), "a block outlives the window");
    assert!(throttles::clear(db.pool(), "k").await.unwrap());
    assert!(!throttles::clear(db.pool(), "k").await.unwrap());
});

db_test!(async fn throttle_prefix_clearing_treats_wildcards_literally(db) {
    use auth_persistence::throttles;
    let now = OffsetDateTime::now_utc();
    for key in ["ipacct:a_b|1", "ipacct:a_b|2", "ipacct:axb|1", "ipacct:a%|1"] {
        throttles::hit(db.pool(), key, now, now).await.unwrap();
    }
    users::insert(db.pool(), ann()).await.unwrap();
    let by_prefix = |prefix: &'static str| move |_| CounterKeys { exact: vec![], prefixes: vec![prefix.to_owned()] };
    let ann = UserKey::Username("ann_1");
    let (_, cleared) = users::clear_counters(db.pool(), ann, by_prefix("ipacct:a_b|"), now, event("unlock")).await.unwrap();
    assert_eq!(cleared, 2);
    let (_, cleared) = users::clear_counters(db.pool(), ann, by_prefix("ipacct:a%"), now, event("unlock")).await.unwrap();
    assert_eq!(cleared, 1);
    assert!(throttles::clear(db.pool(), "ipacct:axb|1").await.unwrap());
});

db_test!(async fn concurrent_hits_on_one_key_each_get_a_distinct_count(db) {
    use auth_persistence::throttles;
    let now = OffsetDateTime::now_utc();
    let hits = (0..50).map(|_| {
        let pool = db.pool().clone();
        async move { throttles::hit(&pool, "burst", now, now - Duration::minutes(5)).await.unwrap().hits }
    });
    let mut counts = futures::future::join_all(hits).await;
    counts.sort_unstable();
    assert_eq!(counts, (1..=50).collect::<Vec<i64>>());
});

db_test!(async fn an_inactive_account_gets_no_new_session(db) {
    let (user, _) = user_with_session(db, "s1").await;
    users::set_active(db.pool(), UserKey::Id(user.id), false, now(), event("deactivate")).await.unwrap();
    let err = sessions::open_for_login(db.pool(), login(user.id, None), new_session("s2")).await;
    assert!(matches!(err, Err(RepoError::NotFound)), "{err:?}");
    assert!(sessions::find(db.pool(), "s2").await.unwrap().is_none(), "nothing written");
});

db_test!(async fn a_rehash_at_login_marks_the_hash_normalised(db) {
    let legacy = NewUser { password_normalized: false, ..ann() };
    let user = users::insert(db.pool(), legacy).await.unwrap();
    assert!(!user.password_normalized);
    sessions::open_for_login(db.pool(), login(user.id, None), new_session("s1")).await.unwrap();
    let kept = users::find_by_id(db.pool(), user.id).await.unwrap().unwrap();
    assert!(!kept.password_normalized, "no rehash, no marker");
    let sign_in = login(user.id, Some("$argon2id$new"));
    sessions::open_for_login(db.pool(), sign_in, new_session("s2")).await.unwrap();
    let upgraded = users::find_by_id(db.pool(), user.id).await.unwrap().unwrap();
    assert_eq!(upgraded.hashed_password, "$argon2id$new");
    assert!(upgraded.password_normalized);
});

db_test!(async fn emails_are_keyed_by_their_nfc_form(db) {
    let decomposed = NewUser { email: "Jose\u{301}@Example.com", ..ann() };
    let created = users::insert(db.pool(), decomposed).await.unwrap();
    for form in ["jos\u{e9}@example.com", "JOSE\u{301}@example.com"] {
        let found = users::find_by_email(db.pool(), form).await.unwrap();
        assert_eq!(found.map(|u| u.id), Some(created.id), "{form:?}");
    }
    let composed = NewUser { email: "Jos\u{e9}@example.com", username: "other", ..ann() };
    assert!(matches!(users::insert(db.pool(), composed).await, Err(RepoError::Conflict)));
});

/// Writes `email` and `key` as an older version stored them, and forgets that the data
/// migration ran, so the next `run_migrations` runs it again.
async fn store_as_before(db: &TestDb, id: i64, email: &str, key: &str) {
    db.batch_execute(&format!(
        "UPDATE users SET email = '{email}', email_normalized = '{key}' WHERE id = {id}; \
         DELETE FROM data_migrations"
    ))
    .await;
}

db_test!(async fn the_data_migration_brings_stored_emails_to_nfc(db) {
    let jose = users::insert(db.pool(), ann()).await.unwrap();
    let bob = NewUser { email: "bob@example.com", username: "bob", ..ann() };
    let bob = users::insert(db.pool(), bob).await.unwrap();
    store_as_before(db, jose.id, "Jose\u{301}@Example.com", "jose\u{301}@example.com").await;
    run_migrations(db.config()).await.unwrap();
    let migrated = users::find_by_id(db.pool(), jose.id).await.unwrap().unwrap();
    assert_eq!(migrated.email, "Jos\u{e9}@Example.com");
    let found = users::find_by_email(db.pool(), "jose\u{301}@example.com").await.unwrap();
    assert_eq!(found.map(|u| u.id), Some(jose.id));
    let untouched = users::find_by_id(db.pool(), bob.id).await.unwrap().unwrap();
    assert_eq!(untouched, bob);
    // Done once: a row written the old way afterwards is left alone.
    db.batch_execute(&format!("UPDATE users SET email = 'Jose\u{301}@Example.com' WHERE id = {}", jose.id)).await;
    run_migrations(db.config()).await.unwrap();
    let again = users::find_by_id(db.pool(), jose.id).await.unwrap().unwrap();
    assert_eq!(again.email, "Jose\u{301}@Example.com");
});

db_test!(async fn emails_that_collide_once_normalised_stop_the_migration_naming_both_ids(db) {
    let first = users::insert(db.pool(), ann()).await.unwrap();
    let second = NewUser { email: "jos\u{e9}@example.com", username: "jose", ..ann() };
    let second = users::insert(db.pool(), second).await.unwrap();
    store_as_before(db, first.id, "Jose\u{301}@Example.com", "jose\u{301}@example.com").await;
    let err = run_migrations(db.config()).await.unwrap_err();
    let message = std::error::Error::source(&err).unwrap().to_string();
    let expected = format!("users {} and {} have the same email", first.id, second.id);
    assert!(message.starts_with(&expected), "{message}");
    let kept = users::find_by_id(db.pool(), first.id).await.unwrap().unwrap();
    assert_eq!(kept.email, "Jose\u{301}@Example.com", "nothing changed");
    assert!(run_migrations(db.config()).await.is_err(), "still refused at the next start");
});

/// Writers queue in the pool instead of colliding in SQLite: with SQLite's own busy timeout
/// at 1 ms, a burst of parallel writes on all pooled connections still all succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_sqlite_writes_take_turns_instead_of_failing_busy() {
    let db = TestDb::sqlite().await;
    let mut config = db.config().clone();
    config.sqlite_busy_timeout = std::time::Duration::from_millis(1);
    config.max_connections = 4;
    let pool = DbPool::new(&config).unwrap();
    let now = OffsetDateTime::now_utc();
    let writes = (0..200).map(|n| {
        let pool = pool.clone();
        tokio::spawn(async move {
            let key = format!("burst:{}", n % 7);
            auth_persistence::throttles::hit(&pool, &key, now, now - Duration::hours(1)).await
        })
    });
    for write in futures::future::join_all(writes).await {
        write.unwrap().unwrap();
    }
    let mut total = 0;
    for n in 0..7 {
        let key = format!("burst:{n}");
        total += auth_persistence::throttles::hits(&pool, &key)
            .await
            .unwrap()
            .unwrap_or(0);
    }
    assert_eq!(total, 200);
}

fn signing_key(kid: &str, state: signing_keys::KeyState) -> signing_keys::SigningKeyRecord {
    // Whole seconds: both backends give them back unchanged.
    let now = OffsetDateTime::from_unix_timestamp(now().unix_timestamp()).unwrap();
    signing_keys::SigningKeyRecord {
        kid: kid.into(),
        algorithm: "EdDSA".into(),
        public_jwk: format!(r#"{{"kid":"{kid}"}}"#),
        private_key: "sealed".into(),
        state,
        created_at: now,
        activates_at: now,
        superseded_at: None,
        retire_after: None,
        retired_at: None,
    }
}

db_test!(async fn signing_keys_are_written_and_changed_under_the_lock(db) {
    use signing_keys::{KeyChange, KeyState};
    let first = signing_key("k1", KeyState::Active);
    let insert = KeyChange::Insert(first.clone());
    let applied = signing_keys::apply_locked(db.pool(), &|keys| {
        assert!(keys.is_empty());
        vec![insert.clone()]
    })
    .await
    .unwrap();
    assert_eq!(applied.len(), 1);
    assert_eq!(signing_keys::list(db.pool()).await.unwrap(), std::slice::from_ref(&first));
    let later = now() + Duration::days(7);
    let retire = KeyChange::Update {
        kid: "k1".into(),
        state: KeyState::Retiring,
        superseded_at: Some(now()),
        retire_after: Some(later),
        retired_at: None,
    };
    signing_keys::apply_locked(db.pool(), &|keys| {
        assert_eq!(keys[0].kid, "k1");
        vec![retire.clone()]
    })
    .await
    .unwrap();
    let stored = signing_keys::list(db.pool()).await.unwrap();
    assert_eq!(stored[0].state, KeyState::Retiring);
    assert_eq!(stored[0].retire_after.map(OffsetDateTime::unix_timestamp), Some(later.unix_timestamp()));
    assert!(!format!("{:?}", stored[0]).contains("sealed"));
});

db_test!(async fn only_one_writer_changes_the_key_set_at_a_time(db) {
    use signing_keys::{KeyChange, KeyState};
    // Each writer adds a key only if none exists: with the lock, exactly one key results.
    let add = |kid: &'static str| {
        let pool = db.pool().clone();
        async move {
            signing_keys::apply_locked(&pool, &|keys| {
                std::thread::sleep(std::time::Duration::from_millis(50));
                if keys.is_empty() {
                    vec![KeyChange::Insert(signing_key(kid, KeyState::Active))]
                } else {
                    Vec::new()
                }
            })
            .await
            .unwrap()
        }
    };
    let (a, b) = futures::join!(add("a"), add("b"));
    let inserted = [a, b].into_iter().filter(|changes| !changes.is_empty()).count();
    assert_eq!(inserted, 1);
    assert_eq!(signing_keys::list(db.pool()).await.unwrap().len(), 1);
});

/// A pooled connection the server closed while it sat idle (a restart, an idle timeout on
/// the way) is replaced before a query meets it: the checkout tests an idle connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(postgres_tests), ignore = "needs TEST_DATABASE_URL")]
async fn a_connection_the_server_closed_is_replaced_before_use() {
    let db = TestDb::postgres().await;
    let mut config = db.config().clone();
    config.max_connections = 1;
    let pool = DbPool::new(&config).unwrap();
    pool.ping().await.unwrap();
    db.batch_execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .await;
    // Longer than the idle time after which a checkout tests the connection (one second).
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    pool.ping().await.expect("the dead connection was replaced");
    assert_eq!(pool.status().size, 1, "{:?}", pool.status());
}
