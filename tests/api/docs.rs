//! `GET /openapi.json`, Swagger UI under `/docs/` and ReDoc at `/redoc`: complete, and
//! working offline (every asset comes from the server itself).

use auth_tests::{Reply, TestServer, api_test, assert_json};
use serde_json::Value;

/// Every operation of the contract: path, method, success status, and the error statuses
/// its documentation must list.
const OPERATIONS: [(&str, &str, &str, &[&str]); 14] = [
    (
        "/auth/register",
        "post",
        "201",
        &["400", "409", "413", "415"],
    ),
    ("/auth/login", "post", "200", &["400", "401", "413", "415"]),
    ("/auth/refresh", "post", "200", &["400", "401"]),
    ("/auth/logout", "post", "204", &["400", "401"]),
    ("/auth/me", "get", "200", &["401"]),
    (
        "/auth/password",
        "post",
        "204",
        &["400", "401", "413", "415", "429"],
    ),
    ("/auth/sessions", "get", "200", &["401"]),
    ("/auth/sessions/{id}", "delete", "204", &["401", "404"]),
    ("/auth/logout-all", "post", "204", &["401"]),
    (
        "/auth/me",
        "delete",
        "204",
        &["400", "401", "413", "415", "429"],
    ),
    ("/health", "get", "200", &[]),
    ("/health/ready", "get", "200", &["503"]),
    ("/", "get", "200", &[]),
    ("/.well-known/jwks.json", "get", "200", &[]),
];

const ERROR_BODY: &str = "#/components/schemas/ErrorBody";

/// The values of every `src="…"` and `href="…"` attribute in `html`.
fn asset_refs(html: &str) -> Vec<String> {
    let mut refs = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        for (at, _) in html.match_indices(attribute) {
            let rest = &html[at + attribute.len()..];
            refs.push(rest[..rest.find('"').expect("a closed attribute")].to_owned());
        }
    }
    refs
}

/// The server path of `reference` on a page under `dir` (ending in `/`), or `None` for an
/// inline `data:` URL, which needs no request; fails on any URL that leaves the server.
#[track_caller]
fn resolve(server: &TestServer, dir: &str, reference: &str) -> Option<String> {
    if reference.starts_with("data:") {
        return None;
    }
    if let Some(own) = reference.strip_prefix(server.base_url()) {
        return Some(own.to_owned());
    }
    assert!(!reference.contains("//"), "{reference} leaves the server");
    assert!(
        !reference.contains(':'),
        "{reference} is not a relative URL"
    );
    Some(match reference.strip_prefix('/') {
        Some(_) => reference.to_owned(),
        None => format!("{dir}{}", reference.trim_start_matches("./")),
    })
}

/// Asserts that no `http(s)://` URL in `text` points anywhere but the server.
#[track_caller]
fn assert_no_foreign_urls(server: &TestServer, text: &str) {
    for scheme in ["http://", "https://"] {
        for (at, _) in text.match_indices(scheme) {
            assert!(
                text[at..].starts_with(server.base_url()),
                "a foreign URL: {}",
                &text[at..text.len().min(at + 80)]
            );
        }
    }
}

/// The extension of `path` (`js` for `/docs/index.js`), or "".
fn extension(path: &str) -> &str {
    path.rsplit_once('.').map_or("", |(_, extension)| extension)
}

/// Loads `path` and asserts 200 with a media type fitting its extension.
async fn assert_asset(server: &TestServer, path: &str) -> Reply {
    let reply = server.get(path).await;
    assert_eq!(reply.status, 200, "{path}");
    let media_type = reply.media_type().unwrap_or_default().to_owned();
    let expected = match extension(path) {
        "js" => "javascript",
        "css" => "text/css",
        "png" => "image/png",
        _ => "",
    };
    assert!(media_type.contains(expected), "{path} is {media_type}");
    assert!(!reply.body.is_empty(), "{path} is empty");
    reply
}

/// Asserts 200 and an HTML media type, and returns the page.
#[track_caller]
fn assert_html(reply: &Reply) -> String {
    reply.expect_status(200);
    assert_eq!(reply.media_type(), Some("text/html"));
    reply.text()
}

api_test!(
    async fn the_openapi_document_describes_every_operation_and_its_errors(server: &TestServer) {
        let reply = server.get("/openapi.json").await;
        reply.expect_status(200);
        assert_json(&reply);
        let doc: Value = reply.json();
        assert!(
            doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
            "{}",
            doc["openapi"]
        );
        let paths = doc["paths"].as_object().expect("paths");
        let methods = ["get", "post", "put", "patch", "delete"];
        let documented: usize = paths
            .values()
            .filter_map(Value::as_object)
            .map(|ops| ops.keys().filter(|m| methods.contains(&m.as_str())).count())
            .sum();
        assert_eq!(documented, OPERATIONS.len(), "{:?}", paths.keys());
        for (path, method, success, errors) in OPERATIONS {
            let responses = &doc["paths"][path][method]["responses"];
            let statuses = responses
                .as_object()
                .unwrap_or_else(|| panic!("{method} {path}"));
            assert!(
                statuses.contains_key(success),
                "{method} {path} lacks {success}"
            );
            for status in errors {
                assert!(
                    statuses.contains_key(*status),
                    "{method} {path} lacks {status}"
                );
            }
            for (status, response) in statuses.iter().filter(|(s, _)| s.as_str() >= "400") {
                let schema = &response["content"]["application/json"]["schema"]["$ref"];
                assert_eq!(schema, ERROR_BODY, "{method} {path} {status}");
            }
        }
        let error_body = &doc["components"]["schemas"]["ErrorBody"]["properties"];
        for field in ["detail", "error_code", "timestamp", "request_id", "errors"] {
            assert!(error_body.get(field).is_some(), "ErrorBody lacks {field}");
        }
    }
);

api_test!(
    async fn the_openapi_document_has_the_bearer_scheme_on_me(server: &TestServer) {
        let doc: Value = server.get("/openapi.json").await.json();
        let schemes = doc["components"]["securitySchemes"]
            .as_object()
            .expect("security schemes");
        let (name, _) = schemes
            .iter()
            .find(|(_, s)| {
                s["type"] == "http"
                    && s["scheme"]
                        .as_str()
                        .is_some_and(|v| v.eq_ignore_ascii_case("bearer"))
            })
            .expect("an HTTP bearer scheme");
        let bearer_operations = [
            ("/auth/me", "get"),
            ("/auth/me", "delete"),
            ("/auth/password", "post"),
            ("/auth/sessions", "get"),
            ("/auth/sessions/{id}", "delete"),
            ("/auth/logout-all", "post"),
        ];
        for (path, method) in bearer_operations {
            let operation = &doc["paths"][path][method];
            let required = operation["security"]
                .as_array()
                .unwrap_or_else(|| panic!("{method} {path} has no security"));
            assert!(
                required.iter().any(|r| r.get(name).is_some()),
                "{method} {path}: {required:?}"
            );
            assert!(
                operation["responses"]["401"]["headers"]
                    .get("WWW-Authenticate")
                    .is_some(),
                "{method} {path}"
            );
        }
        let login = &doc["paths"]["/auth/login"]["post"];
        assert!(login.get("security").is_none_or(|s| {
            s.as_array()
                .is_some_and(|a| a.iter().all(|r| r.get(name).is_none()))
        }));
    }
);

api_test!(
    async fn docs_redirects_to_the_swagger_ui_directory(server: &TestServer) {
        let reply = server.get("/docs").await;
        assert!(
            matches!(reply.status, 301 | 302 | 303 | 307 | 308),
            "status {}",
            reply.status
        );
        let location = reply.header("location").expect("a Location header");
        assert!(
            location == "/docs/" || location == server.url("/docs/"),
            "{location}"
        );
    }
);

api_test!(
    async fn swagger_ui_loads_every_asset_from_the_server(server: &TestServer) {
        let html = assert_html(&server.get("/docs/").await);
        assert_no_foreign_urls(server, &html);
        let refs = asset_refs(&html);
        let paths: Vec<String> = refs
            .iter()
            .filter_map(|r| resolve(server, "/docs/", r))
            .collect();
        assert!(
            paths.iter().any(|p| extension(p) == "js"),
            "no script in {refs:?}"
        );
        assert!(
            paths.iter().any(|p| extension(p) == "css"),
            "no stylesheet in {refs:?}"
        );
        for path in &paths {
            assert_asset(server, path).await;
        }
        let initializer = "/docs/swagger-initializer.js";
        assert!(paths.iter().any(|p| p == initializer), "{paths:?}");
        let initializer = assert_asset(server, initializer).await.text();
        assert!(initializer.contains("\"/openapi.json\""), "{initializer}");
        assert!(
            !initializer.contains("{{"),
            "an unfilled template: {initializer}"
        );
        assert_no_foreign_urls(server, &initializer);
    }
);

api_test!(
    async fn redoc_loads_its_bundle_from_the_server(server: &TestServer) {
        let html = assert_html(&server.get("/redoc").await);
        assert_no_foreign_urls(server, &html);
        let refs = asset_refs(&html);
        assert!(
            refs.iter().any(|r| r == "/redoc/redoc.standalone.js"),
            "{refs:?}"
        );
        for reference in &refs {
            if let Some(path) = resolve(server, "/redoc/", reference) {
                assert_asset(server, &path).await;
            }
        }
        let bundle = assert_asset(server, "/redoc/redoc.standalone.js").await;
        assert!(
            bundle.body.len() > 100 * 1024,
            "{} bytes",
            bundle.body.len()
        );
        assert!(
            html.contains("/openapi.json"),
            "ReDoc reads the server's document"
        );
    }
);
