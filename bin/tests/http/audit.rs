//! Audit rows written during HTTP requests carry the request id and the client address.

use auth_persistence::audit::recent;
use auth_persistence::db_test;
use serde_json::json;

use crate::support::{PASSWORD, app, post, register, send};

db_test!(async fn a_login_over_http_is_audited_with_request_id_and_address(db) {
    let app = app(db).await;
    register(&app).await;
    let login = post("/auth/login", &json!({"username": "ann", "password": PASSWORD}))
        .insert_header(("X-Request-ID", "audit-1"))
        .peer_addr("203.0.113.9:40000".parse().unwrap());
    let (status, ..) = send(&app, login).await;
    assert_eq!(status, 200);
    let events = recent(db.pool(), 10).await.unwrap();
    let event = events.iter().find(|e| e.event == "login_succeeded").expect("login audited");
    assert_eq!(event.request_id.as_deref(), Some("audit-1"));
    assert_eq!(event.client_ip.as_deref(), Some("203.0.113.9"));
    assert!(event.session_id.is_some() && event.user_id.is_some());
});
