//! Retention and throttle keys through the binary's own wiring: `admin purge` prints what it
//! deleted per table, and a failed sign-in leaves no identifier or address in the database.

use auth_persistence::throttles;
use auth_service::admin;
use auth_service::cli::AdminCommand;
use auth_service::settings::Settings;
use auth_tests::{TestServer, api_test};
use serde_json::json;

api_test!(
    async fn admin_purge_prints_what_it_deleted_per_table(db: &TestDb) {
        db.batch_execute(
            "INSERT INTO throttles (key, hits, window_started_at, updated_at) \
         VALUES ('ip:login:old', 1, '2020-01-01 00:00:00', '2020-01-01 00:00:00');
         INSERT INTO audit_events (occurred_at, event) VALUES ('2020-01-01 00:00:00', 'old');",
        )
        .await;
        let mut settings = Settings::for_tests();
        settings.database = db.config().clone();
        let outcome = admin::run(&settings, &AdminCommand::Purge).await.unwrap();
        assert_eq!(
            outcome.to_string(),
            "purged sessions=0 device_tokens=0 throttles=1 audit_events=1"
        );
        settings.audit_retention_days = 0;
        let again = admin::run(&settings, &AdminCommand::Purge).await.unwrap();
        assert_eq!(
            again.to_string(),
            "purged sessions=0 device_tokens=0 throttles=0 audit_events=0"
        );
    }
);

api_test!(
    async fn a_failed_login_leaves_no_identifier_or_address_in_throttle_keys(db: &TestDb) {
        let server = TestServer::spawn_with(db, |s| s.rate_limit_enabled = true).await;
        let body = json!({"email": "ann@example.com", "password": "not the password"});
        server
            .post_json("/auth/login", &body)
            .await
            .expect_status(401);
        let keys = throttles::keys(db.pool()).await.unwrap();
        assert!(
            keys.len() >= 3,
            "address, network and account counters: {keys:?}"
        );
        for key in &keys {
            for raw in ["ann", "example", "127.0.0"] {
                assert!(!key.contains(raw), "{key} holds {raw}");
            }
        }
        server.stop().await;
    }
);
