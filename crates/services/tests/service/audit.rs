//! The audit trail records each security event with its request context, never a secret.

use auth_persistence::audit::{AuditRecord, recent};
use auth_persistence::db_test;
use auth_services::{AuthConfig, RequestContext, ThrottleConfig, UserRef};
use secrecy::ExposeSecret as _;
use time::OffsetDateTime;

use super::{ANON, ManualClock, PASSWORD, by_username, register, service_with};

fn context(request_id: &str) -> RequestContext {
    RequestContext {
        request_id: Some(request_id.to_owned()),
        client_ip: Some("203.0.113.9".parse().unwrap()),
        user_agent: None,
    }
}

async fn events(db: &auth_persistence::test_support::TestDb) -> Vec<AuditRecord> {
    let mut events = recent(db.pool(), 100).await.unwrap();
    events.reverse();
    events
}

db_test!(async fn every_security_event_is_recorded_with_its_context(db) {
    let throttle = ThrottleConfig { account_lock_after: 2, account_delay_after: 1_000, ..ThrottleConfig::default() };
    let clock = ManualClock::new(OffsetDateTime::now_utc() - time::Duration::hours(1));
    let auth = service_with(db.pool().clone(), clock.clone(), AuthConfig { throttle, ..AuthConfig::default() });
    let registered = register(&auth).await;
    let user = UserRef::Id(registered.user.id);
    let user_id = registered.user.id.get();
    let session = auth.login(&context("r-login"), by_username("ann", PASSWORD)).await.unwrap();
    auth.logout(&context("r-logout"), session.refresh_token.expose_secret()).await.unwrap();
    let first = auth.login(&ANON, by_username("ann", PASSWORD)).await.unwrap();
    auth.refresh(&ANON, first.refresh_token.expose_secret()).await.unwrap();
    clock.advance(time::Duration::seconds(30));
    auth.refresh(&ANON, first.refresh_token.expose_secret()).await.unwrap_err();
    for _ in 0..2 {
        auth.login(&context("r-wrong"), by_username("ann", "wrong password")).await.unwrap_err();
    }
    auth.admin().unlock(&ANON, &user).await.unwrap();
    auth.admin().deactivate(&ANON, &user).await.unwrap();

    let events = events(db).await;
    let names: Vec<&str> = events.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(
        names,
        [
            "login_succeeded", "logout", "login_succeeded", "refresh_reuse_detected",
            "login_failed", "login_failed", "lockout", "unlock", "deactivate",
        ]
    );
    let login = &events[0];
    assert_eq!(login.request_id.as_deref(), Some("r-login"));
    assert_eq!(login.client_ip.as_deref(), Some("203.0.113.9"));
    assert_eq!(login.user_id, Some(user_id));
    assert_eq!(login.session_id.as_deref(), Some(session.session_id.as_str()));
    assert_eq!(events[1].session_id.as_deref(), Some(session.session_id.as_str()));
    assert_eq!(events[3].session_id.as_deref(), Some(first.session_id.as_str()));
    assert_eq!(events[4].reason.as_deref(), Some("wrong_password"), "the internal reason is kept");
    assert!(events.iter().all(|e| e.user_id == Some(user_id)));
    let stored = format!("{events:?}");
    assert!(!stored.contains(PASSWORD) && !stored.contains("wrong password") && !stored.contains("eyJ"));
});

db_test!(async fn an_unknown_user_login_is_recorded_without_a_user(db) {
    let auth = service_with(db.pool().clone(), ManualClock::new(OffsetDateTime::now_utc()), AuthConfig::default());
    auth.login(&ANON, by_username("ghost", PASSWORD)).await.unwrap_err();
    let events = events(db).await;
    assert_eq!(events.len(), 1);
    assert_eq!((events[0].event.as_str(), events[0].reason.as_deref(), events[0].user_id), ("login_failed", Some("unknown_user"), None));
    assert_eq!(events[0].request_id, None, "no context outside a request");
});
