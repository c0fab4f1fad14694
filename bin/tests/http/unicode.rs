//! Unicode over HTTP: an address and a password typed decomposed reach the account registered
//! with their composed spelling.

use auth_errors::ErrorCode;
use auth_persistence::db_test;
use serde_json::json;

use crate::support::{app, assert_error, post, send};

db_test!(async fn a_decomposed_email_and_password_sign_in_to_the_composed_account(db) {
    let app = app(db).await;
    let composed = json!({
        "email": "jos\u{e9}@example.com",
        "username": "jose",
        "password": "Cr\u{e8}me br\u{fb}l\u{e9}e du jour",
    });
    let (status, _, body) = send(&app, post("/auth/register", &composed)).await;
    assert_eq!(status, 201, "{body}");
    let decomposed = json!({
        "email": "Jose\u{301}@example.com",
        "password": "Cre\u{300}me bru\u{302}le\u{301}e du jour",
    });
    let (status, _, body) = send(&app, post("/auth/login", &decomposed)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"]["username"], "jose");
    let again = json!({
        "email": "jose\u{301}@example.com",
        "username": "jose2",
        "password": "another long passphrase",
    });
    let response = send(&app, post("/auth/register", &again)).await;
    assert_error(&response, 409, ErrorCode::UserExists);
});
