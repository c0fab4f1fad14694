//! `GET /metrics` on the private metrics listener: the Prometheus text format, outcome
//! counters that move with the requests of this server only, route labels from the route
//! table, and nothing on the public port.

use auth_tests::{Reply, TestDb, TestServer, TestUser, api_test, assert_error};
use serde_json::json;

/// Starts a server on `db` with the metrics listener on a free port.
async fn with_metrics(db: &TestDb) -> TestServer {
    TestServer::spawn_with(db, |settings| settings.metrics_port = Some(0)).await
}

/// The rendered metrics, after checking the answer's status and media type.
async fn scrape(server: &TestServer) -> String {
    let reply: Reply = server.scrape().await;
    reply.expect_status(200);
    assert_eq!(
        reply.media_type(),
        Some("text/plain"),
        "{:?}",
        reply.header("content-type")
    );
    reply.text()
}

/// The whole-number value of the sample `name{labels}` (labels in any order), 0 when it is absent.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> u64 {
    let wanted: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.rsplit_once(' '))
        .find(|(series, _)| {
            let (metric, rest) = series.split_once('{').unwrap_or((series, "}"));
            let mut found: Vec<&str> = rest
                .trim_end_matches('}')
                .split(',')
                .filter(|pair| !pair.is_empty())
                .collect();
            found.sort_unstable();
            let mut wanted: Vec<&str> = wanted.iter().map(String::as_str).collect();
            wanted.sort_unstable();
            metric == name && found == wanted
        })
        .map_or(0, |(_, value)| value.parse().expect("a whole number"))
}

fn logins(text: &str, outcome: &str) -> u64 {
    sample(text, "auth_logins_total", &[("outcome", outcome)])
}

api_test!(
    async fn the_metrics_port_serves_the_prometheus_text_format(db: &TestDb) {
        let server = with_metrics(db).await;
        let text = scrape(&server).await;
        for line in [
            "# TYPE auth_logins_total counter",
            "# TYPE auth_registrations_total counter",
            "# TYPE auth_refreshes_total counter",
            "# TYPE auth_throttle_hits_total counter",
            "# TYPE auth_password_hashing_queue_depth gauge",
            "# TYPE auth_db_pool_max_size gauge",
            "# TYPE auth_circuit_breaker_state gauge",
            "# TYPE auth_circuit_breaker_transitions_total counter",
            "# TYPE auth_build_info gauge",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in:\n{text}"
            );
        }
        let version = env!("CARGO_PKG_VERSION");
        assert_eq!(sample(&text, "auth_build_info", &[("version", version)]), 1);
        assert_eq!(
            sample(
                &text,
                "auth_circuit_breaker_state",
                &[("breaker", "database")]
            ),
            0
        );
        assert!(sample(&text, "auth_db_pool_max_size", &[]) >= 1, "{text}");
        // Registered before anything happened, at zero.
        assert!(
            text.contains("auth_logins_total{outcome=\"locked\"} 0"),
            "{text}"
        );
        // Only /metrics is served there, and other paths answer in the envelope.
        let base = server.metrics_url().expect("metrics on");
        let other = server
            .send(server.client().get(format!("{base}/health")))
            .await;
        assert_error(&other, 404, "NOT_FOUND");
        server.stop().await;
    }
);

api_test!(
    async fn a_success_and_a_wrong_password_move_their_login_outcomes(db: &TestDb) {
        let server = with_metrics(db).await;
        let ann = TestUser::unique("ann");
        ann.register(&server).await;
        let before = scrape(&server).await;
        ann.login(&server).await;
        let wrong = json!({"email": ann.email, "password": "not-the-password"});
        assert_error(
            &server.post_json("/auth/login", &wrong).await,
            401,
            "INVALID_CREDENTIALS",
        );
        let after = scrape(&server).await;
        assert_eq!(logins(&after, "success") - logins(&before, "success"), 1);
        assert_eq!(logins(&after, "invalid") - logins(&before, "invalid"), 1);
        for untouched in ["throttled", "locked", "shed", "error"] {
            assert_eq!(
                logins(&after, untouched),
                logins(&before, untouched),
                "{untouched}"
            );
        }
        let created = ("outcome", "created");
        assert_eq!(sample(&after, "auth_registrations_total", &[created]), 1);
        let hashed = sample(&after, "auth_password_hashing_duration_seconds_count", &[]);
        assert!(hashed >= 3, "a hash and two verifications: {hashed}");
        server.stop().await;
    }
);

api_test!(
    async fn requests_are_labelled_by_route_pattern_never_by_raw_path(db: &TestDb) {
        let server = with_metrics(db).await;
        let tokens = TestUser::unique("bob").register(&server).await;
        server
            .get_bearer("/auth/me", &tokens.access_token)
            .await
            .expect_status(200);
        assert_error(&server.get("/random/123?x=y").await, 404, "NOT_FOUND");
        let text = scrape(&server).await;
        let requests = "auth_http_requests_total";
        let me = [("route", "/auth/me"), ("method", "GET"), ("status", "200")];
        assert_eq!(sample(&text, requests, &me), 1, "{text}");
        let lost = [("route", "unmatched"), ("method", "GET"), ("status", "404")];
        assert_eq!(sample(&text, requests, &lost), 1, "{text}");
        let timed = [("route", "/auth/me"), ("method", "GET")];
        assert_eq!(
            sample(&text, "auth_http_request_duration_seconds_count", &timed),
            1
        );
        assert!(!text.contains("/random") && !text.contains("x=y"), "{text}");
        server.stop().await;
    }
);

api_test!(
    async fn the_public_port_has_no_metrics(db: &TestDb) {
        let server = with_metrics(db).await;
        assert_error(&server.get("/metrics").await, 404, "NOT_FOUND");
        assert_ne!(server.metrics_url(), Some(server.base_url()));
        server.stop().await;
    }
);

api_test!(
    async fn metrics_are_off_unless_a_port_is_set(db: &TestDb) {
        let server = TestServer::spawn(db).await;
        assert_eq!(
            server.metrics_url(),
            None,
            "the test settings keep metrics off"
        );
        assert_error(&server.get("/metrics").await, 404, "NOT_FOUND");
        server.stop().await;
    }
);
