//! `X-Request-ID`: a sane incoming id is kept, anything else is replaced by a UUIDv4; the
//! same id is in the header and in the error body.

use auth_tests::{Reply, TestServer, api_test, assert_error};

/// `GET path` with an `X-Request-ID` header.
async fn get_with_id(server: &TestServer, path: &str, id: &str) -> Reply {
    let request = server
        .client()
        .get(server.url(path))
        .header("x-request-id", id);
    server.send(request).await
}

/// Asserts that `id` is a version 4 UUID in its hyphenated form.
#[track_caller]
fn assert_uuid_v4(id: &str) {
    let uuid = uuid::Uuid::parse_str(id).unwrap_or_else(|e| panic!("{id:?} is not a UUID: {e}"));
    assert_eq!(uuid.get_version_num(), 4, "{id}");
    assert_eq!(uuid.hyphenated().to_string(), id);
}

api_test!(
    async fn a_sane_incoming_request_id_is_echoed(server: &TestServer) {
        let long = "a".repeat(128);
        for id in [
            "abc",
            "Req-1_2.3",
            "550e8400-e29b-41d4-a716-446655440000",
            long.as_str(),
        ] {
            let reply = get_with_id(server, "/health", id).await;
            reply.expect_status(200);
            assert_eq!(reply.header("x-request-id"), Some(id));
            let error = get_with_id(server, "/no/such/route", id).await;
            assert_eq!(assert_error(&error, 404, "NOT_FOUND").request_id, id);
        }
    }
);

api_test!(
    async fn an_insane_incoming_request_id_is_replaced_by_a_uuid(server: &TestServer) {
        let long = "a".repeat(200);
        let just_too_long = "b".repeat(129);
        for id in [
            "has spaces",
            "semi;colon",
            "",
            long.as_str(),
            just_too_long.as_str(),
        ] {
            let reply = get_with_id(server, "/health", id).await;
            reply.expect_status(200);
            assert_uuid_v4(reply.header("x-request-id").expect("a request id"));
            let error = get_with_id(server, "/no/such/route", id).await;
            assert_uuid_v4(&assert_error(&error, 404, "NOT_FOUND").request_id);
        }
    }
);

api_test!(
    async fn every_response_gets_its_own_request_id(server: &TestServer) {
        let first = server.get("/").await;
        let second = server.get("/").await;
        let first = first.header("x-request-id").expect("a request id");
        let second = second.header("x-request-id").expect("a request id");
        assert_uuid_v4(first);
        assert_uuid_v4(second);
        assert_ne!(first, second);
    }
);
