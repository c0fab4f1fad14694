//! `/openapi.json`, `/docs` and `/redoc` are served by the binary itself.

use actix_web::test::{self, TestRequest};
use auth_errors::ErrorCode;
use auth_persistence::db_test;

use crate::support::{app, assert_error, send};

const PATHS: [&str; 13] = [
    "/auth/register",
    "/auth/login",
    "/auth/refresh",
    "/auth/logout",
    "/auth/me",
    "/auth/password",
    "/auth/sessions",
    "/auth/sessions/{id}",
    "/auth/logout-all",
    "/health",
    "/health/ready",
    "/",
    "/.well-known/jwks.json",
];

db_test!(async fn the_openapi_document_lists_every_route_with_its_errors(db) {
    let app = app(db).await;
    let (status, _, doc) = send(&app, TestRequest::get().uri("/openapi.json")).await;
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert_eq!(doc["info"]["title"], "Auth Service");
    assert_eq!(doc["info"]["version"], "1.0.0");
    for path in PATHS {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
    assert_eq!(doc["paths"].as_object().unwrap().len(), PATHS.len());
    let register = &doc["paths"]["/auth/register"]["post"]["responses"];
    for status in ["201", "400", "409", "413", "415", "429", "500", "503"] {
        assert!(register[status].is_object(), "register {status}");
    }
    let error_ref = &register["409"]["content"]["application/json"]["schema"]["$ref"];
    assert_eq!(error_ref, "#/components/schemas/ErrorBody");
    assert!(doc["paths"]["/auth/me"]["get"]["responses"]["401"].is_object());
    assert_eq!(doc["components"]["securitySchemes"]["bearer_auth"]["scheme"], "bearer");
    assert_eq!(doc["paths"]["/auth/me"]["get"]["security"][0]["bearer_auth"], serde_json::json!([]));
    let delete_me = &doc["paths"]["/auth/me"]["delete"];
    assert_eq!(delete_me["security"][0]["bearer_auth"], serde_json::json!([]));
    let body = &delete_me["requestBody"]["content"]["application/json"]["schema"]["$ref"];
    assert_eq!(body, "#/components/schemas/DeleteAccountRequest");
    let session = &doc["components"]["schemas"]["SessionResponse"];
    let mut fields: Vec<&str> = session["properties"].as_object().unwrap().keys().map(String::as_str).collect();
    fields.sort_unstable();
    assert_eq!(fields, ["created_at", "current", "expires_at", "id", "ip", "last_used_at", "user_agent"]);
    let password = &doc["components"]["schemas"]["ChangePasswordRequest"]["properties"];
    assert_eq!(password["new_password"]["format"], "password");
    assert_eq!(password["new_password"]["minLength"], 8);
    let id = &doc["paths"]["/auth/sessions/{id}"]["delete"]["parameters"][0];
    assert_eq!((id["name"].as_str(), id["in"].as_str()), (Some("id"), Some("path")));
    let username = &doc["components"]["schemas"]["RegisterRequest"]["properties"]["username"];
    assert_eq!(username["maxLength"], 32);
    assert!(username["pattern"].is_string());
});

db_test!(async fn swagger_ui_is_served_at_docs_and_bare_docs_redirects(db) {
    let app = app(db).await;
    let res = test::call_service(&app, TestRequest::get().uri("/docs").to_request()).await;
    assert!(res.status().is_redirection());
    assert_eq!(res.headers().get("location").unwrap(), "/docs/");
    let res = test::call_service(&app, TestRequest::get().uri("/docs/").to_request()).await;
    assert_eq!(res.status(), 200);
    let html = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    let res = test::call_service(&app, TestRequest::get().uri("/docs/swagger-initializer.js").to_request()).await;
    assert_eq!(res.status(), 200);
    let js = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert!(js.contains("/openapi.json"), "{js}");
});

db_test!(async fn redoc_is_served_with_its_bundle(db) {
    let app = app(db).await;
    let res = test::call_service(&app, TestRequest::get().uri("/redoc").to_request()).await;
    assert_eq!(res.status(), 200);
    let html = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert!(html.contains("/redoc/redoc.standalone.js") && html.contains("/openapi.json"));
    assert!(!html.contains("https://"), "nothing is loaded from elsewhere");
    let res = test::call_service(&app, TestRequest::get().uri("/redoc/redoc.standalone.js").to_request()).await;
    assert_eq!(res.status(), 200);
    assert!(test::read_body(res).await.len() > 100_000);
});

db_test!(async fn other_methods_on_the_docs_routes_are_405_with_allow(db) {
    let app = app(db).await;
    let requests = [
        TestRequest::delete().uri("/openapi.json"),
        TestRequest::post().uri("/openapi.json"),
        TestRequest::post().uri("/docs"),
        TestRequest::put().uri("/docs/"),
        TestRequest::delete().uri("/docs/swagger-initializer.js"),
        TestRequest::post().uri("/redoc"),
        TestRequest::delete().uri("/redoc/redoc.standalone.js"),
        TestRequest::patch().uri("/redoc/LICENSE"),
    ];
    for req in requests {
        let response = send(&app, req).await;
        assert_error(&response, 405, ErrorCode::MethodNotAllowed);
        assert_eq!(response.1.get("allow").unwrap(), "GET");
    }
    let (status, ..) = send(&app, TestRequest::get().uri("/openapi.json")).await;
    assert_eq!(status, 200, "GET still answers");
    assert_error(&send(&app, TestRequest::delete().uri("/docsx")).await, 404, ErrorCode::NotFound);
});
