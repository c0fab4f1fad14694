//! Account self-service through the service: password change, sessions, sign-out everywhere,
//! deletion, and the rules around them (throttling, idle sessions, the session limit, the
//! race of a password change with a refresh).

use std::net::IpAddr;

use auth_persistence::audit;
use auth_persistence::db_test;
use auth_persistence::test_support::TestDb;
use auth_services::{
    AccountDeletionInput, AccountError, AuthConfig, AuthService, AuthSession, PasswordChangeInput,
    Principal, RequestContext, ThrottleConfig,
};
use secrecy::{ExposeSecret as _, SecretString};
use time::Duration;

use super::{
    ANON, ManualClock, PASSWORD, by_username, kind, register, register_input, service, service_with,
};

const NEW_PASSWORD: &str = "a brand new passphrase";

/// A request from `ip` with user agent `agent`.
fn from(ip: &str, agent: &str) -> RequestContext {
    RequestContext::new("req-1", Some(ip.parse::<IpAddr>().unwrap()))
        .with_user_agent(Some(agent.to_owned()))
}

fn change(current: &str, new: &str) -> PasswordChangeInput {
    PasswordChangeInput::parse(SecretString::from(current), SecretString::from(new)).unwrap()
}

fn deletion(password: &str) -> AccountDeletionInput {
    AccountDeletionInput::new(SecretString::from(password))
}

async fn caller(auth: &AuthService, session: &AuthSession) -> Principal {
    auth.authenticate(session.access_token.expose_secret())
        .await
        .unwrap()
}

async fn login(
    auth: &AuthService,
    password: &str,
) -> Result<AuthSession, auth_services::LoginError> {
    auth.login(&ANON, by_username("ann", password)).await
}

/// The events of the audit trail, oldest first.
async fn events(db: &TestDb) -> Vec<(String, Option<i64>, Option<String>)> {
    let mut rows = audit::recent(db.pool(), 100).await.unwrap();
    rows.reverse();
    rows.into_iter()
        .map(|r| (r.event, r.user_id, r.session_id))
        .collect()
}

db_test!(async fn a_password_change_keeps_this_session_and_ends_every_other_one(db) {
    let (auth, _) = service(db);
    let first = register(&auth).await;
    let second = login(&auth, PASSWORD).await.unwrap();
    let me = caller(&auth, &first).await;
    auth.change_password(&ANON, &me, change(PASSWORD, NEW_PASSWORD)).await.unwrap();
    assert!(auth.authenticate(first.access_token.expose_secret()).await.is_ok(), "this session stays");
    let other = auth.authenticate(second.access_token.expose_secret()).await;
    assert_eq!(kind(&other), "InvalidToken", "the other session's access token stops at once");
    let refreshed = auth.refresh(&ANON, second.refresh_token.expose_secret()).await;
    assert_eq!(kind(&refreshed), "InvalidToken");
    assert_eq!(kind(&login(&auth, PASSWORD).await), "InvalidCredentials");
    login(&auth, NEW_PASSWORD).await.unwrap();
    let trail = events(db).await;
    let changed = trail.iter().find(|(event, ..)| event == "password_changed").unwrap();
    assert_eq!((changed.1, changed.2.as_deref()), (Some(first.user.id.get()), Some(first.session_id.as_str())));
});

db_test!(async fn a_wrong_current_password_is_a_failed_login_with_the_same_answer(db) {
    let (auth, _) = service(db);
    let session = register(&auth).await;
    let me = caller(&auth, &session).await;
    let wrong = auth.change_password(&ANON, &me, change("not the password", NEW_PASSWORD)).await;
    assert!(matches!(wrong, Err(AccountError::InvalidCredentials)), "{wrong:?}");
    let wrong = auth.delete_account(&ANON, &me, deletion("not the password")).await;
    assert!(matches!(wrong, Err(AccountError::InvalidCredentials)), "{wrong:?}");
    let failed: Vec<_> = events(db).await.into_iter().filter(|(event, ..)| event == "login_failed").collect();
    assert_eq!(failed.len(), 2, "each counted and audited as a failed sign-in: {failed:?}");
    login(&auth, PASSWORD).await.expect("nothing changed");
});

db_test!(async fn password_checks_share_the_sign_in_throttling_and_lock(db) {
    let throttle = ThrottleConfig {
        ip_account_max_failures: 2,
        account_lock_after: 3,
        account_delay_after: 100,
        ..ThrottleConfig::default()
    };
    let config = AuthConfig { throttle, ..AuthConfig::default() };
    let auth = service_with(db.pool().clone(), ManualClock::new(time::OffsetDateTime::now_utc() - Duration::minutes(1)), config);
    let session = register(&auth).await;
    let me = caller(&auth, &session).await;
    let office = from("203.0.113.7", "Office");
    for _ in 0..2 {
        let wrong = auth.change_password(&office, &me, change("not the password", NEW_PASSWORD)).await;
        assert_eq!(kind(&wrong), "InvalidCredentials");
    }
    let delayed = auth.change_password(&office, &me, change(PASSWORD, NEW_PASSWORD)).await;
    assert!(matches!(delayed, Err(AccountError::RateLimited { .. })), "the address is delayed: {delayed:?}");
    // A third failure from elsewhere reaches the lock: the right password is then refused,
    // at the login as at the password check, exactly as a wrong one.
    let home = from("198.51.100.2", "Home");
    let wrong = auth.delete_account(&home, &me, deletion("not the password")).await;
    assert_eq!(kind(&wrong), "InvalidCredentials");
    let locked = auth.change_password(&from("192.0.2.1", "Cafe"), &me, change(PASSWORD, NEW_PASSWORD)).await;
    assert_eq!(kind(&locked), "InvalidCredentials");
    assert_eq!(kind(&login(&auth, PASSWORD).await), "InvalidCredentials", "locked");
    assert!(events(db).await.iter().any(|(event, ..)| event == "lockout"));
});

db_test!(async fn sessions_list_the_callers_live_ones_with_their_client_newest_first(db) {
    let (auth, clock) = service(db);
    let long_agent = "x".repeat(300);
    let first = auth.register(&from("203.0.113.7", "Phone/1.0"), register_input("Ann@Example.com", "Ann")).await.unwrap();
    clock.advance(Duration::seconds(5));
    let second = auth.login(&from("2001:db8::1", &long_agent), by_username("ann", PASSWORD)).await.unwrap();
    let me = caller(&auth, &first).await;
    let listed = auth.sessions(&me).await.unwrap();
    let ids: Vec<&str> = listed.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, [second.session_id.as_str(), first.session_id.as_str()], "newest first");
    assert_eq!((listed[0].current, listed[1].current), (false, true));
    assert_eq!(listed[1].ip.as_deref(), Some("203.0.113.7"));
    assert_eq!(listed[1].user_agent.as_deref(), Some("Phone/1.0"));
    assert_eq!(listed[0].user_agent.as_ref().map(|a| a.chars().count()), Some(256), "cut to 256");
    assert_eq!(listed[1].last_used_at, listed[1].created_at);
    // Reading (`me`, the list) leaves `last_used_at` alone; a refresh moves it and the client.
    auth.me(first.access_token.expose_secret()).await.unwrap();
    clock.advance(Duration::seconds(5));
    auth.refresh(&from("198.51.100.2", "Laptop/2.0"), first.refresh_token.expose_secret()).await.unwrap();
    let listed = auth.sessions(&me).await.unwrap();
    let mine = listed.iter().find(|s| s.current).unwrap();
    assert!(mine.last_used_at > mine.created_at);
    assert_eq!((mine.ip.as_deref(), mine.user_agent.as_deref()), (Some("198.51.100.2"), Some("Laptop/2.0")));
});

db_test!(async fn another_users_session_can_be_neither_seen_nor_revoked(db) {
    let (auth, _) = service(db);
    let ann = register(&auth).await;
    let bob = auth.register(&ANON, register_input("bob@example.com", "bob")).await.unwrap();
    let me = caller(&auth, &ann).await;
    let listed = auth.sessions(&me).await.unwrap();
    assert!(listed.iter().all(|s| s.id != bob.session_id), "Bob's session is not listed");
    let revoked = auth.revoke_session(&ANON, &me, bob.session_id.as_str()).await;
    assert!(matches!(revoked, Err(AccountError::SessionNotFound)), "{revoked:?}");
    let unknown = auth.revoke_session(&ANON, &me, "no-such-session").await;
    assert!(matches!(unknown, Err(AccountError::SessionNotFound)), "{unknown:?}");
    assert!(auth.authenticate(bob.access_token.expose_secret()).await.is_ok(), "Bob is still signed in");
});

db_test!(async fn revoking_a_session_ends_it_at_once_and_the_current_one_may_go_too(db) {
    let (auth, _) = service(db);
    let first = register(&auth).await;
    let second = login(&auth, PASSWORD).await.unwrap();
    let me = caller(&auth, &first).await;
    auth.revoke_session(&ANON, &me, second.session_id.as_str()).await.unwrap();
    assert_eq!(kind(&auth.authenticate(second.access_token.expose_secret()).await), "InvalidToken");
    assert_eq!(kind(&auth.refresh(&ANON, second.refresh_token.expose_secret()).await), "InvalidToken");
    let again = auth.revoke_session(&ANON, &me, second.session_id.as_str()).await;
    assert_eq!(kind(&again), "SessionNotFound", "a revoked session is no longer live");
    auth.revoke_session(&ANON, &me, first.session_id.as_str()).await.unwrap();
    assert_eq!(kind(&auth.authenticate(first.access_token.expose_secret()).await), "InvalidToken");
    let trail = events(db).await;
    let revoked: Vec<_> = trail.iter().filter(|(event, ..)| event == "session_revoked").map(|e| e.2.clone()).collect();
    assert_eq!(revoked, [Some(second.session_id.to_string()), Some(first.session_id.to_string())]);
});

db_test!(async fn logout_all_ends_every_session_including_the_current_one(db) {
    let (auth, _) = service(db);
    let first = register(&auth).await;
    let second = login(&auth, PASSWORD).await.unwrap();
    let bob = auth.register(&ANON, register_input("bob@example.com", "bob")).await.unwrap();
    let me = caller(&auth, &first).await;
    assert_eq!(auth.logout_all(&ANON, &me).await.unwrap(), 2);
    for session in [&first, &second] {
        assert_eq!(kind(&auth.authenticate(session.access_token.expose_secret()).await), "InvalidToken");
        assert_eq!(kind(&auth.refresh(&ANON, session.refresh_token.expose_secret()).await), "InvalidToken");
    }
    assert!(auth.authenticate(bob.access_token.expose_secret()).await.is_ok());
    assert!(events(db).await.iter().any(|(event, user, _)| event == "logout_all" && *user == Some(first.user.id.get())));
});

db_test!(async fn deleting_the_account_frees_its_names_and_never_reuses_its_id(db) {
    let (auth, _) = service(db);
    let session = register(&auth).await;
    let device = session.device_token.clone().unwrap();
    let me = caller(&auth, &session).await;
    auth.delete_account(&from("203.0.113.7", "Phone"), &me, deletion(PASSWORD)).await.unwrap();
    assert_eq!(kind(&auth.authenticate(session.access_token.expose_secret()).await), "InvalidToken");
    assert_eq!(kind(&auth.refresh(&ANON, session.refresh_token.expose_secret()).await), "InvalidToken");
    assert_eq!(kind(&login(&auth, PASSWORD).await), "InvalidCredentials");
    assert!(auth.users().get_by_id(session.user.id).await.unwrap().is_none());
    let trail = events(db).await;
    let deleted = trail.iter().find(|(event, ..)| event == "account_deleted").unwrap();
    assert_eq!(deleted.1, Some(session.user.id.get()), "the trail keeps the id");
    let again = auth.register(&ANON, register_input("ann@example.com", "ANN")).await.unwrap();
    assert!(again.user.id > session.user.id, "the id {} is not reused", session.user.id);
    // The old device token names nothing any more.
    let with_old_device = by_username("ann", PASSWORD).with_device_token(Some(device.clone()));
    let signed_in = auth.login(&ANON, with_old_device).await.unwrap();
    assert_ne!(signed_in.device_token.unwrap().expose_secret(), device.expose_secret(), "a new device token");
});

db_test!(async fn an_idle_session_is_over(db) {
    // Access tokens live 30 minutes (checked against the system clock): the idle limit is
    // shorter, so the idle session's access token is still unexpired when it is refused.
    let (pool, clock) = (db.pool().clone(), ManualClock::new(time::OffsetDateTime::now_utc() - Duration::minutes(15)));
    let config = AuthConfig { session_idle: Duration::minutes(10), ..AuthConfig::default() };
    let auth = service_with(pool, clock.clone(), config);
    let idle = register(&auth).await;
    clock.advance(Duration::minutes(12));
    let fresh = login(&auth, PASSWORD).await.unwrap();
    let refreshed = auth.refresh(&ANON, idle.refresh_token.expose_secret()).await;
    assert_eq!(kind(&refreshed), "TokenExpired");
    assert_eq!(kind(&auth.authenticate(idle.access_token.expose_secret()).await), "InvalidToken");
    let me = caller(&auth, &fresh).await;
    let listed = auth.sessions(&me).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, fresh.session_id);
    assert_eq!(kind(&auth.revoke_session(&ANON, &me, idle.session_id.as_str()).await), "SessionNotFound");
});

db_test!(async fn a_sign_in_over_the_limit_revokes_the_oldest_session(db) {
    let clock = ManualClock::new(time::OffsetDateTime::now_utc() - Duration::minutes(5));
    let config = AuthConfig { max_sessions_per_user: 2, ..AuthConfig::default() };
    let auth = service_with(db.pool().clone(), clock.clone(), config);
    let oldest = register(&auth).await;
    clock.advance(Duration::seconds(1));
    let middle = login(&auth, PASSWORD).await.unwrap();
    clock.advance(Duration::seconds(1));
    let newest = login(&auth, PASSWORD).await.unwrap();
    assert_eq!(kind(&auth.authenticate(oldest.access_token.expose_secret()).await), "InvalidToken");
    let me = caller(&auth, &newest).await;
    let ids: Vec<_> = auth.sessions(&me).await.unwrap().into_iter().map(|s| s.id).collect();
    assert_eq!(ids, [newest.session_id, middle.session_id]);
    let trail = events(db).await;
    assert!(trail.iter().any(|(event, _, session)| event == "session_revoked" && session.as_deref() == Some(oldest.session_id.as_str())));
});

db_test!(async fn a_password_change_racing_a_refresh_of_another_session_revokes_it(db) {
    let (auth, _) = service(db);
    for round in 0..6 {
        let name = format!("racer{round}");
        let email = format!("{name}@example.com");
        let mine = auth.register(&ANON, register_input(&email, &name)).await.unwrap();
        let other = auth.login(&ANON, by_username(&name, PASSWORD)).await.unwrap();
        let me = caller(&auth, &mine).await;
        let refresher = {
            let auth = auth.clone();
            let mut token = other.refresh_token.expose_secret().to_owned();
            tokio::spawn(async move {
                let mut issued = Vec::new();
                for _ in 0..5000 {
                    match auth.refresh(&ANON, &token).await {
                        Ok(next) => {
                            token = next.refresh_token.expose_secret().to_owned();
                            issued.push(next.access_token.expose_secret().to_owned());
                        }
                        Err(_) => return (issued, token),
                    }
                    tokio::task::yield_now().await;
                }
                (issued, token)
            })
        };
        tokio::task::yield_now().await;
        auth.change_password(&ANON, &me, change(PASSWORD, NEW_PASSWORD)).await.unwrap();
        // The change committed: from now on no refresh of the other session goes through.
        let (issued, last) = refresher.await.unwrap();
        assert_eq!(kind(&auth.refresh(&ANON, &last).await), "InvalidToken", "round {round}");
        for access in issued.iter().chain([other.access_token.expose_secret().to_owned()].iter()) {
            assert_eq!(kind(&auth.authenticate(access).await), "InvalidToken", "round {round}");
        }
        let listed = auth.sessions(&me).await.unwrap();
        let ids: Vec<_> = listed.into_iter().map(|s| s.id).collect();
        assert_eq!(ids, std::slice::from_ref(&mine.session_id), "round {round}: only the changing session is left");
    }
});
