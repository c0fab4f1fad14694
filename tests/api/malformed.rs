//! Malformed HTTP over raw TCP: slow and oversized heads, framing tricks, bodies that are not
//! UTF-8 or not JSON, duplicate keys and deep nesting. Each gets a clear 4xx, and the server
//! keeps serving others (a `/health` request after each).
//!
//! Who answers: errors in the request *head* (too slow, too big, conflicting or unknown
//! `Transfer-Encoding`) are answered by Actix's HTTP parser before the application sees the
//! request, so they carry Actix's bare status (408, 431, 400) and no envelope; the
//! connection is closed. Everything about the *body* reaches the application and is
//! answered in the API.md envelope.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use auth_tests::{TestServer, api_test, assert_error};
use tokio::io::AsyncWriteExt as _;

use crate::raw_http::{RawAnswer, connect, exchange, post, read_answer};

/// Asserts that the server still answers `GET /health`.
async fn assert_serving(server: &TestServer) {
    server.get("/health").await.expect_status(200);
}

/// `POST path` with `body` as `application/json`, through the ordinary client.
async fn post_raw_json(
    server: &TestServer,
    path: &str,
    body: impl Into<reqwest::Body>,
) -> auth_tests::Reply {
    let request = server
        .client()
        .post(server.url(path))
        .header("content-type", "application/json")
        .body(body);
    server.send(request).await
}

api_test!(
    async fn a_head_sent_slower_than_the_client_timeout_is_cut_off_while_others_are_served(
        db: &TestDb,
    ) {
        let server =
            TestServer::spawn_with(db, |s| s.request_timeout = Duration::from_secs(1)).await;
        let head = b"GET /health HTTP/1.1\r\nHost: localhost\r\nUser-Agent: slow-loris\r\n\r\n";
        let (mut reader, mut writer) = connect(&server).await.into_split();
        let written = Arc::new(AtomicUsize::new(0));
        let progress = Arc::clone(&written);
        let dripping = actix_web::rt::spawn(async move {
            for byte in head {
                if writer.write_all(&[*byte]).await.is_err() {
                    break;
                }
                progress.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        // Another client is served while the slow head trickles in.
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_serving(&server).await;

        let answer = read_answer(&mut reader).await;
        assert!(
            written.load(Ordering::SeqCst) < head.len(),
            "the connection outlived the whole head"
        );
        if let RawAnswer::Response(reply) = answer {
            assert_eq!(reply.status, 408, "{}", reply.text());
        }
        dripping.abort();
        assert_serving(&server).await;
        server.stop().await;
    }
);

api_test!(
    async fn too_many_header_fields_are_refused_with_431(server: &TestServer) {
        let mut request =
            String::from("GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
        request.extend((0..120).map(|n| format!("X-Filler-{n}: {n}\r\n")));
        request.push_str("\r\n");
        let reply = exchange(server, request.as_bytes()).await.response();
        assert_eq!(reply.status, 431, "{}", reply.text());
        assert_serving(server).await;
    }
);

api_test!(
    async fn a_head_over_the_size_limit_is_refused(server: &TestServer) {
        let request = format!(
            "GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nX-Filler: {}\r\n\r\n",
            "a".repeat(200_000)
        );
        // The answer may be lost to a reset when the server closes before reading it all.
        if let RawAnswer::Response(reply) = exchange(server, request.as_bytes()).await {
            assert_eq!(reply.status, 431, "{}", reply.text());
        }
        assert_serving(server).await;
    }
);

api_test!(
    async fn content_length_with_chunked_transfer_encoding_is_refused_by_the_parser(
        server: &TestServer,
    ) {
        let request = b"POST /auth/login HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
            Content-Type: application/json\r\nContent-Length: 5\r\n\
            Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n";
        let reply = exchange(server, request).await.response();
        assert_eq!(reply.status, 400, "{}", reply.text());
        assert_serving(server).await;
    }
);

api_test!(
    async fn a_transfer_encoding_other_than_chunked_is_refused_by_the_parser(server: &TestServer) {
        for coding in [
            "gzip, chunked",
            "chunked, gzip",
            "gzip",
            "chunked\r\nTransfer-Encoding: chunked",
        ] {
            let request = format!(
                "POST /auth/login HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
                 Content-Type: application/json\r\nTransfer-Encoding: {coding}\r\n\r\n\
                 2\r\n{{}}\r\n0\r\n\r\n"
            );
            let reply = exchange(server, request.as_bytes()).await.response();
            assert_eq!(reply.status, 400, "{coding}: {}", reply.text());
            assert_serving(server).await;
        }
    }
);

api_test!(
    async fn an_invalid_chunk_size_is_a_client_error(server: &TestServer) {
        for chunks in [
            "zz\r\n{}\r\n0\r\n\r\n",
            "-2\r\n{}\r\n0\r\n\r\n",
            "fffffffffffffffffff\r\n{}\r\n0\r\n\r\n",
        ] {
            let request = format!(
                "POST /auth/login HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
                 Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n{chunks}"
            );
            let reply = exchange(server, request.as_bytes()).await.response();
            assert_eq!(reply.status, 400, "{chunks:?}: {}", reply.text());
            assert_serving(server).await;
        }
    }
);

api_test!(
    async fn invalid_utf8_in_a_json_body_is_a_validation_error(server: &TestServer) {
        let body = b"{\"email\":\"\xff\xfe@example.com\",\"password\":\"x\"}";
        let reply = exchange(server, &post("/auth/login", "application/json", body))
            .await
            .response();
        assert_error(&reply, 400, "VALIDATION_ERROR");
        let reply = post_raw_json(server, "/auth/register", body.to_vec()).await;
        assert_error(&reply, 400, "VALIDATION_ERROR");
        assert_serving(server).await;
    }
);

api_test!(
    async fn duplicate_json_keys_are_refused_naming_the_key(server: &TestServer) {
        let cases = [
            (
                "/auth/login",
                r#"{"username":"ann","username":"bob","password":"pw"}"#,
                "username",
            ),
            (
                "/auth/login",
                r#"{"email":"a@example.com","password":"x","password":"y"}"#,
                "password",
            ),
            (
                "/auth/register",
                r#"{"email":"a@example.com","email":"b@example.com","username":"ann","password":"long enough passphrase"}"#,
                "email",
            ),
            (
                "/auth/refresh",
                r#"{"refresh_token":"a","refresh_token":"b"}"#,
                "refresh_token",
            ),
        ];
        for (path, body, field) in cases {
            let reply = post_raw_json(server, path, body).await;
            let error = assert_error(&reply, 400, "VALIDATION_ERROR");
            let errors = error.errors.unwrap_or_default();
            assert!(
                errors.iter().any(|e| e.field == field),
                "{path} {body}: {errors:?}"
            );
        }
        assert_serving(server).await;
    }
);

api_test!(
    async fn deeply_nested_json_is_a_validation_error(server: &TestServer) {
        let depth = 4_000;
        let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        for body in [
            format!(r#"{{"email":{nested},"password":"x"}}"#),
            format!("{}{}", "{\"a\":".repeat(depth / 5), "}".repeat(depth / 5)),
        ] {
            let reply = post_raw_json(server, "/auth/login", body).await;
            assert_error(&reply, 400, "VALIDATION_ERROR");
        }
        // Nesting inside a field the body does not have is skipped without recursing: the
        // sign-in goes ahead (and fails, as there is no such user).
        let ignored = format!(r#"{{"ignored":{nested},"username":"ann","password":"x"}}"#);
        let reply = post_raw_json(server, "/auth/login", ignored).await;
        assert_error(&reply, 401, "INVALID_CREDENTIALS");
        assert_serving(server).await;
    }
);

api_test!(
    async fn a_body_not_declared_as_json_is_unsupported_media_type(server: &TestServer) {
        let body = br#"{"username":"ann","password":"pw"}"#;
        for content_type in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "application/jsonx",
            "multipart/form-data; boundary=x",
        ] {
            let reply = exchange(server, &post("/auth/login", content_type, body))
                .await
                .response();
            assert_error(&reply, 415, "UNSUPPORTED_MEDIA_TYPE");
        }
        let no_type = b"POST /auth/login HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
            Content-Length: 2\r\n\r\n{}";
        let reply = exchange(server, no_type).await.response();
        assert_error(&reply, 415, "UNSUPPORTED_MEDIA_TYPE");
        assert_serving(server).await;
    }
);
