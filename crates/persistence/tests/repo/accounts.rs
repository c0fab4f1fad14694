//! Self-service writes: the client a session records, idle sessions, the per-user limit,
//! listing and revoking one's own sessions, password changes and account deletion.

use auth_persistence::accounts::{self, AccountDeletion, PasswordChange};
use auth_persistence::devices::{self, NewDevice};
use auth_persistence::sessions::{Client, SessionLimit};
use auth_persistence::{audit, throttles};

use super::*;

fn device(id: &'static str, token_hash: &'static str) -> NewDevice<'static> {
    NewDevice {
        id,
        token_hash,
        now: now(),
        expires_at: now() + Duration::days(90),
    }
}

/// A session opened at `at`.
fn session_at(id: &str, at: OffsetDateTime) -> NewSession<'_> {
    NewSession {
        now: at,
        ..new_session(id)
    }
}

/// Ann with session `s1`, and Bob with session `b1`.
async fn ann_and_bob(db: &TestDb) -> (i64, i64) {
    let (ann, _) = user_with_session(db, "s1").await;
    let bob = NewUser {
        email: "bob@example.com",
        username: "bob",
        ..super::ann()
    };
    let (bob, _) = sessions::create_user_with_session(db.pool(), bob, new_session("b1"), None)
        .await
        .unwrap();
    (ann.id, bob.id)
}

db_test!(async fn a_session_records_its_client_and_a_refresh_brings_it_up_to_date(db) {
    let opened_at = now() - Duration::hours(1);
    let phone = Client { ip: Some("203.0.113.7"), user_agent: Some("Phone/1.0") };
    let first = NewSession { client: phone, ..session_at("s1", opened_at) };
    let (user, session) = sessions::create_user_with_session(db.pool(), ann(), first, None).await.unwrap();
    assert_eq!((session.ip.as_deref(), session.user_agent.as_deref()), (Some("203.0.113.7"), Some("Phone/1.0")));
    assert_eq!(session.last_used_at, session.created_at, "unused so far");
    let laptop = Client { ip: Some("2001:db8::1"), user_agent: Some("Laptop/2.0") };
    let at = now();
    let refresh = Rotate { at, client: laptop, ..rotation("s1", user.id, "h0", "h1") };
    let Rotation::Rotated(rotated, _) = sessions::rotate(db.pool(), refresh).await.unwrap() else {
        panic!("not rotated")
    };
    assert_eq!((rotated.ip.as_deref(), rotated.user_agent.as_deref()), (Some("2001:db8::1"), Some("Laptop/2.0")));
    assert!(rotated.last_used_at > rotated.created_at);
    let found = sessions::find(db.pool(), "s1").await.unwrap().unwrap();
    assert_eq!(found.user_agent.as_deref(), Some("Laptop/2.0"));
});

db_test!(async fn an_idle_session_neither_rotates_nor_counts_as_live(db) {
    let opened_at = now() - Duration::days(31);
    let (user, _) = sessions::create_user_with_session(db.pool(), ann(), session_at("s1", opened_at), None).await.unwrap();
    let idle_since = now() - Duration::days(30);
    let idle = Rotate { idle_since, ..rotation("s1", user.id, "h0", "h1") };
    let rotated = sessions::rotate(db.pool(), idle).await.unwrap();
    let Rotation::Stale(stale) = rotated else { panic!("{rotated:?}") };
    assert_eq!(stale.current_jti_hash, "h0", "nothing changed");
    assert!(stale.last_used_at <= idle_since);
    assert!(accounts::live_sessions(db.pool(), user.id, now(), idle_since).await.unwrap().is_empty());
    assert!(!accounts::revoke_session(db.pool(), user.id, "s1", now(), idle_since, &[]).await.unwrap());
    let live = accounts::live_sessions(db.pool(), user.id, now(), never()).await.unwrap();
    assert_eq!(live.len(), 1, "a shorter idle limit would still count it");
});

db_test!(async fn live_sessions_are_the_users_own_open_ones_newest_first(db) {
    let (ann, _) = ann_and_bob(db).await;
    for (id, minutes) in [("s2", 3), ("s3", 2), ("s4", 1)] {
        let opened = session_at(id, now() - Duration::minutes(minutes));
        sessions::open_for_login(db.pool(), login(ann, None), opened).await.unwrap();
    }
    let ended = NewSession { expires_at: now() - Duration::seconds(1), ..session_at("s5", now() - Duration::days(8)) };
    sessions::open_for_login(db.pool(), login(ann, None), ended).await.unwrap();
    sessions::revoke(db.pool(), "s3", RevokeReason::Logout, now(), &[]).await.unwrap();
    let live = accounts::live_sessions(db.pool(), ann, now(), never()).await.unwrap();
    let ids: Vec<&str> = live.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["s1", "s4", "s2"], "newest first; no revoked, ended or foreign session");
});

db_test!(async fn only_a_live_session_of_the_user_is_revoked_with_its_event(db) {
    let (ann, bob) = ann_and_bob(db).await;
    let events = [event("session_revoked")];
    let foreign = accounts::revoke_session(db.pool(), ann, "b1", now(), never(), &events).await.unwrap();
    assert!(!foreign, "Bob's session is not Ann's to revoke");
    assert!(!sessions::find(db.pool(), "b1").await.unwrap().unwrap().is_revoked());
    assert!(!accounts::revoke_session(db.pool(), ann, "nope", now(), never(), &events).await.unwrap());
    assert!(audit::recent(db.pool(), 10).await.unwrap().is_empty(), "no event without a change");
    assert!(accounts::revoke_session(db.pool(), ann, "s1", now(), never(), &events).await.unwrap());
    let revoked = sessions::find(db.pool(), "s1").await.unwrap().unwrap();
    assert_eq!(revoked.revoked_reason.as_deref(), Some("revoked"));
    assert!(!accounts::revoke_session(db.pool(), ann, "s1", now(), never(), &events).await.unwrap(), "once");
    assert_eq!(audit::recent(db.pool(), 10).await.unwrap().len(), 1);
    let all = accounts::revoke_all_sessions(db.pool(), bob, RevokeReason::LogoutAll, now(), &[event("logout_all")]).await.unwrap();
    assert_eq!(all, 1);
    assert_eq!(sessions::find(db.pool(), "b1").await.unwrap().unwrap().revoked_reason.as_deref(), Some("logout_all"));
});

db_test!(async fn a_sign_in_over_the_limit_revokes_the_oldest_sessions(db) {
    let (user, _) = sessions::create_user_with_session(db.pool(), ann(), session_at("s1", now() - Duration::minutes(3)), None).await.unwrap();
    let limit = SessionLimit { max: 2, idle_since: never(), event: NewAuditEvent { user_id: Some(user.id), ..event("session_revoked") } };
    for (id, minutes) in [("s2", 2), ("s3", 1)] {
        let sign_in = Login { limit: Some(limit), ..login(user.id, None) };
        sessions::open_for_login(db.pool(), sign_in, session_at(id, now() - Duration::minutes(minutes))).await.unwrap();
    }
    let live = accounts::live_sessions(db.pool(), user.id, now(), never()).await.unwrap();
    let ids: Vec<&str> = live.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["s3", "s2"]);
    let oldest = sessions::find(db.pool(), "s1").await.unwrap().unwrap();
    assert_eq!(oldest.revoked_reason.as_deref(), Some("session_limit"));
    let events = audit::recent(db.pool(), 10).await.unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!((events[0].event.as_str(), events[0].session_id.as_deref()), ("session_revoked", Some("s1")));
});

db_test!(async fn a_sign_in_far_over_the_limit_revokes_every_live_session_beyond_it_and_no_other(db) {
    let (ann, bob) = ann_and_bob(db).await;
    for (id, minutes) in [("s2", 5), ("s3", 4), ("s4", 3), ("s5", 2)] {
        sessions::open_for_login(db.pool(), login(ann, None), session_at(id, now() - Duration::minutes(minutes))).await.unwrap();
    }
    sessions::revoke(db.pool(), "s4", RevokeReason::Logout, now(), &[]).await.unwrap();
    let limit = SessionLimit { max: 2, idle_since: never(), event: NewAuditEvent { user_id: Some(ann), ..event("session_revoked") } };
    let sign_in = Login { limit: Some(limit), ..login(ann, None) };
    sessions::open_for_login(db.pool(), sign_in, session_at("s6", now() - Duration::minutes(1))).await.unwrap();
    let live = accounts::live_sessions(db.pool(), ann, now(), never()).await.unwrap();
    let ids: Vec<&str> = live.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["s1", "s6"]);
    for id in ["s5", "s3", "s2"] {
        let revoked = sessions::find(db.pool(), id).await.unwrap().unwrap();
        assert_eq!(revoked.revoked_reason.as_deref(), Some("session_limit"), "{id}");
    }
    let logged_out = sessions::find(db.pool(), "s4").await.unwrap().unwrap();
    assert_eq!(logged_out.revoked_reason.as_deref(), Some("logout"), "an ended session is not revoked again");
    assert_eq!(accounts::live_sessions(db.pool(), bob, now(), never()).await.unwrap().len(), 1, "another user's session");
    let mut revoked: Vec<String> = audit::recent(db.pool(), 10).await.unwrap().into_iter()
        .map(|e| format!("{} {}", e.event, e.session_id.unwrap_or_default())).collect();
    revoked.sort();
    assert_eq!(revoked, ["session_revoked s2", "session_revoked s3", "session_revoked s5"]);
});

db_test!(async fn a_password_change_keeps_only_the_callers_session_and_device(db) {
    let (user, _) = sessions::create_user_with_session(db.pool(), ann(), new_session("s1"), Some(device("d1", "t1"))).await.unwrap();
    let second = Login { new_device: Some(device("d2", "t2")), ..login(user.id, None) };
    sessions::open_for_login(db.pool(), second, new_session("s2")).await.unwrap();
    let (bob, _) = {
        let bob = NewUser { email: "bob@example.com", username: "bob", ..ann() };
        sessions::create_user_with_session(db.pool(), bob, new_session("b1"), Some(device("d3", "t3"))).await.unwrap()
    };
    let key = format!("acct:user={}", user.id);
    throttles::hit(db.pool(), &key, now(), never()).await.unwrap();
    let cleared = [key.clone()];
    let events = [NewAuditEvent { user_id: Some(user.id), session_id: Some("s1"), ..event("password_changed") }];
    let change = PasswordChange {
        user_id: user.id,
        verified_hash: "$argon2id$x",
        new_hash: "$argon2id$new",
        keep_session: "s1",
        keep_device: Some("d1"),
        cleared_counters: &cleared,
        at: now(),
        events: &events,
    };
    assert_eq!(accounts::change_password(db.pool(), change).await.unwrap(), 1);
    let stored = users::find_by_id(db.pool(), user.id).await.unwrap().unwrap();
    assert_eq!(stored.hashed_password, "$argon2id$new");
    assert!(stored.password_normalized);
    assert!(!sessions::find(db.pool(), "s1").await.unwrap().unwrap().is_revoked());
    let other = sessions::find(db.pool(), "s2").await.unwrap().unwrap();
    assert_eq!(other.revoked_reason.as_deref(), Some("password_changed"));
    assert!(devices::find_by_hash(db.pool(), "t1").await.unwrap().unwrap().is_live(now()));
    assert!(!devices::find_by_hash(db.pool(), "t2").await.unwrap().unwrap().is_live(now()));
    assert!(devices::find_by_hash(db.pool(), "t3").await.unwrap().unwrap().is_live(now()), "Bob's device stays");
    assert!(!sessions::find(db.pool(), "b1").await.unwrap().unwrap().is_revoked(), "Bob's session stays");
    assert_eq!(bob.email, "bob@example.com");
    assert_eq!(throttles::hit(db.pool(), &key, now(), never()).await.unwrap().hits, 1, "counters start over");
    let trail = audit::recent(db.pool(), 10).await.unwrap();
    assert_eq!((trail[0].event.as_str(), trail[0].user_id), ("password_changed", Some(user.id)));
    // A change proven against a hash that is no longer stored changes nothing.
    let stale = PasswordChange { new_hash: "$argon2id$other", keep_session: "s2", ..change };
    let err = accounts::change_password(db.pool(), stale).await.unwrap_err();
    assert!(matches!(err, RepoError::NotFound), "{err:?}");
    assert_eq!(users::find_by_id(db.pool(), user.id).await.unwrap().unwrap().hashed_password, "$argon2id$new");
    assert!(!sessions::find(db.pool(), "s1").await.unwrap().unwrap().is_revoked());
    assert_eq!(audit::recent(db.pool(), 10).await.unwrap().len(), 1);
});

db_test!(async fn deleting_an_account_takes_everything_of_it_and_frees_its_names(db) {
    let (first, _) = user_with_session(db, "s0").await;
    let bob = NewUser { email: "bob@example.com", username: "bob", ..ann() };
    let (user, _) = sessions::create_user_with_session(db.pool(), bob, new_session("s1"), Some(device("d1", "t1"))).await.unwrap();
    assert!(user.id > first.id);
    let keys = CounterKeys {
        exact: vec![format!("acct:user={}", user.id)],
        prefixes: vec![format!("ipacct:user={}|", user.id)],
    };
    let ip_key = format!("ipacct:user={}|203.0.113.7", user.id);
    for key in [&keys.exact[0], &ip_key, &"acct:user=999".to_owned()] {
        throttles::hit(db.pool(), key, now(), never()).await.unwrap();
    }
    let wrong = AccountDeletion { user_id: user.id, verified_hash: "stale", counters: keys.clone(), event: event("account_deleted") };
    assert!(matches!(accounts::delete_account(db.pool(), wrong).await, Err(RepoError::NotFound)));
    assert!(users::find_by_id(db.pool(), user.id).await.unwrap().is_some(), "nothing deleted");
    let event = NewAuditEvent { user_id: Some(user.id), ..event("account_deleted") };
    let deletion = AccountDeletion { user_id: user.id, verified_hash: "$argon2id$x", counters: keys.clone(), event };
    accounts::delete_account(db.pool(), deletion).await.unwrap();
    assert!(users::find_by_id(db.pool(), user.id).await.unwrap().is_none());
    assert!(sessions::find(db.pool(), "s1").await.unwrap().is_none());
    assert!(devices::find_by_hash(db.pool(), "t1").await.unwrap().is_none());
    for key in [&keys.exact[0], &ip_key] {
        assert_eq!(throttles::hit(db.pool(), key, now(), never()).await.unwrap().hits, 1, "{key} was deleted");
    }
    assert_eq!(throttles::hit(db.pool(), "acct:user=999", now(), never()).await.unwrap().hits, 2, "others stay");
    let trail = audit::recent(db.pool(), 10).await.unwrap();
    assert_eq!((trail[0].event.as_str(), trail[0].user_id), ("account_deleted", Some(user.id)));
    assert!(sessions::find(db.pool(), "s0").await.unwrap().is_some(), "other accounts stay");
    // The names are free again, and the new account gets a new id although the deleted one
    // had the largest.
    let again = NewUser { email: "BOB@example.com", username: "Bob", ..ann() };
    let (again, _) = sessions::create_user_with_session(db.pool(), again, new_session("s2"), None).await.unwrap();
    assert!(again.id > user.id, "{} reused", again.id);
});

db_test!(async fn a_bearer_is_checked_against_its_session_and_user_in_one_read(db) {
    let (user, session) = user_with_session(db, "s1").await;
    let (found_session, found_user) = sessions::find_with_user(db.pool(), "s1").await.unwrap().unwrap();
    assert_eq!((found_session, found_user.id), (session, user.id));
    assert!(sessions::find_with_user(db.pool(), "nope").await.unwrap().is_none());
});

db_test!(async fn a_sign_in_checked_against_a_replaced_hash_opens_nothing(db) {
    let (user, _) = user_with_session(db, "s1").await;
    let change = PasswordChange {
        user_id: user.id,
        verified_hash: "$argon2id$x",
        new_hash: "$argon2id$new",
        keep_session: "s1",
        keep_device: None,
        cleared_counters: &[],
        at: now(),
        events: &[],
    };
    accounts::change_password(db.pool(), change).await.unwrap();
    // A login that checked the old password before the change committed.
    let late = sessions::open_for_login(db.pool(), login(user.id, None), new_session("s2")).await;
    assert!(matches!(late, Err(RepoError::NotFound)), "{late:?}");
    assert!(sessions::find(db.pool(), "s2").await.unwrap().is_none());
    let current = Login { verified_hash: "$argon2id$new", ..login(user.id, None) };
    sessions::open_for_login(db.pool(), current, new_session("s2")).await.unwrap();
});
