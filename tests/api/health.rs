//! `GET /health`, `GET /health/ready` and `GET /`.

use auth_tests::{api_test, assert_json, assert_timestamp};
use serde_json::{Value, json};

api_test!(
    async fn health_says_healthy_with_the_time(server: &TestServer) {
        let reply = server.get("/health").await;
        reply.expect_status(200);
        assert_json(&reply);
        let body: Value = reply.json();
        assert_eq!(body["status"], "healthy");
        assert_timestamp(body["timestamp"].as_str().expect("a timestamp"));
        assert_eq!(
            body.as_object().map(serde_json::Map::len),
            Some(2),
            "{body}"
        );
    }
);

api_test!(
    async fn readiness_reports_the_database_ok(server: &TestServer) {
        let reply = server.get("/health/ready").await;
        reply.expect_status(200);
        assert_json(&reply);
        assert_eq!(
            reply.json::<Value>(),
            json!({"status": "ready", "checks": {"database": "ok"}})
        );
    }
);

api_test!(
    async fn the_root_names_the_api(server: &TestServer) {
        let reply = server.get("/").await;
        reply.expect_status(200);
        assert_json(&reply);
        assert_eq!(
            reply.json::<Value>(),
            json!({"message": "Auth Service API"})
        );
    }
);
