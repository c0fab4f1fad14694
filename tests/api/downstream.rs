//! Downstream services (the actix-web and axum examples) verifying the service's EdDSA tokens
//! against its JWKS: genuine tokens pass, foreign and forged ones do not, and a key rotation
//! needs no restart of either.

use std::net::TcpListener;
use std::time::Duration;

use auth_crypto::{JwtAlgorithm, generate_signing_key};
use auth_service::cli::KeysCommand;
use auth_service::settings::Settings;
use auth_verifier::{RemoteConfig, RemoteJwks, Verifier};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{EncodingKey, Header};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{Value, json};

use auth_tests::{TestDb, TestServer, TestUser, Tokens};

/// EdDSA with a short JWKS `max-age` and reload, so a rotation takes seconds, not minutes.
fn eddsa(settings: &mut Settings) {
    settings.jwt_algorithm = JwtAlgorithm::EdDSA;
    settings.jwks_max_age = time::Duration::seconds(1);
    settings.jwt_key_reload = time::Duration::seconds(1);
    settings.jwt_key_encryption_key =
        Some(SecretString::from("a test key-encryption key, 32+ bytes"));
}

/// The two examples, running, verifying against `jwks_url`.
struct Downstream {
    urls: [String; 2],
    actix: actix_web::dev::ServerHandle,
}

impl Downstream {
    async fn start(jwks_url: &str) -> Self {
        let config = RemoteConfig {
            min_ttl: Duration::from_secs(1),
            min_refetch_interval: Duration::from_secs(1),
            ..RemoteConfig::default()
        };
        let verifier =
            || Verifier::remote(RemoteJwks::with_config(jwks_url, config.clone()).unwrap());
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let actix_url = format!("http://{}", listener.local_addr().unwrap());
        let server = auth_example_actix::serve(listener, verifier()).unwrap();
        let actix = server.handle();
        actix_web::rt::spawn(server);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let axum_url = format!("http://{}", listener.local_addr().unwrap());
        actix_web::rt::spawn(auth_example_axum::serve(listener, verifier()));
        Self {
            urls: [actix_url, axum_url],
            actix,
        }
    }

    /// The status of `GET /orders` on each example with `token`.
    async fn statuses(&self, server: &TestServer, token: &str) -> Vec<u16> {
        let mut statuses = Vec::new();
        for url in &self.urls {
            let reply = server
                .send(
                    server
                        .client()
                        .get(format!("{url}/orders"))
                        .bearer_auth(token),
                )
                .await;
            if reply.status == 401 {
                assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
                let body: Value = reply.json();
                assert!(
                    ["INVALID_TOKEN", "TOKEN_EXPIRED"]
                        .contains(&body["error_code"].as_str().unwrap())
                );
                assert!(body["request_id"].is_string() && body["timestamp"].is_string());
            }
            statuses.push(reply.status);
        }
        statuses
    }
}

fn header(token: &str) -> Value {
    let part = token.split('.').next().unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

fn claims(token: &str) -> Value {
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

fn kid(token: &str) -> String {
    header(token)["kid"].as_str().unwrap().to_owned()
}

async fn downstream_services_verify_tokens_across_a_rotation(db: &TestDb) {
    let server = TestServer::spawn_with(db, eddsa).await;
    let jwks = server.get("/.well-known/jwks.json").await;
    jwks.expect_status(200);
    assert_eq!(jwks.header("cache-control"), Some("public, max-age=1"));
    let set: Value = jwks.json();
    let published = set["keys"].as_array().unwrap().clone();
    assert_eq!(published.len(), 1);
    assert_eq!(published[0]["alg"], "EdDSA");
    assert_eq!(published[0]["use"], "sig");
    assert!(published[0].get("d").is_none(), "no private part");

    let downstream = Downstream::start(&server.url("/.well-known/jwks.json")).await;
    let user = TestUser::unique("down");
    let first = user.register(&server).await;
    let first_kid = kid(&first.access_token);
    assert_eq!(header(&first.access_token)["alg"], "EdDSA");
    assert_eq!(first_kid, published[0]["kid"]);
    assert_eq!(
        downstream.statuses(&server, &first.access_token).await,
        [200, 200]
    );
    assert_eq!(
        downstream.statuses(&server, &first.refresh_token).await,
        [401, 401]
    );

    assert_forgeries_are_refused(&server, &downstream, &first.access_token, &published[0]).await;
    rotate_then_revoke(&server, db, &downstream, &user, &first).await;

    downstream.actix.stop(false).await;
    server.stop().await;
}

/// Tokens signed with another key under the service's `kid`, and HS256 tokens "signed" with the
/// public key (an algorithm-confusion attack), are refused by the examples and the service.
async fn assert_forgeries_are_refused(
    server: &TestServer,
    downstream: &Downstream,
    genuine: &str,
    published: &Value,
) {
    let first_kid = kid(genuine);
    // Signed by a key of our own making, naming the service's key id.
    let foreign = generate_signing_key(JwtAlgorithm::EdDSA, &first_kid).unwrap();
    let mut head = Header::new(jsonwebtoken::Algorithm::EdDSA);
    head.kid = Some(first_kid.clone());
    let body = claims(genuine);
    let key = EncodingKey::from_ed_der(foreign.private_pkcs8.expose_secret());
    let forged = jsonwebtoken::encode(&head, &body, &key).unwrap();
    assert_eq!(downstream.statuses(server, &forged).await, [401, 401]);
    server
        .get_bearer("/auth/me", &forged)
        .await
        .expect_status(401);

    // HS256 "signed" with the public key, as an algorithm-confusion attack would.
    let mut head = Header::new(jsonwebtoken::Algorithm::HS256);
    head.kid = Some(first_kid);
    for secret in [
        published.to_string(),
        published["x"].as_str().unwrap().to_owned(),
    ] {
        let forged =
            jsonwebtoken::encode(&head, &body, &EncodingKey::from_secret(secret.as_bytes()))
                .unwrap();
        assert_eq!(downstream.statuses(server, &forged).await, [401, 401]);
        server
            .get_bearer("/auth/me", &forged)
            .await
            .expect_status(401);
    }
}

/// After `keys rotate` the new key signs and old tokens still pass, without restarting the
/// examples; after `keys revoke` the old key's tokens are refused everywhere.
async fn rotate_then_revoke(
    server: &TestServer,
    db: &TestDb,
    downstream: &Downstream,
    user: &TestUser,
    first: &Tokens,
) {
    let first_kid = kid(&first.access_token);
    // Rotate with the operator's command, on the server's database.
    let mut settings = Settings::for_tests();
    settings.database = db.config().clone();
    eddsa(&mut settings);
    let rotated = auth_service::keys::run(&settings, &KeysCommand::Rotate)
        .await
        .unwrap();
    assert!(rotated.to_string().contains("published"), "{rotated}");
    // Published for twice the max-age (2 s), then it signs; the server reloads every second.
    actix_web::rt::time::sleep(Duration::from_millis(3500)).await;
    let second = user.login(server).await;
    let second_kid = kid(&second.access_token);
    assert_ne!(second_kid, first_kid, "the new key signs");
    assert_eq!(
        downstream.statuses(server, &second.access_token).await,
        [200, 200]
    );
    assert_eq!(
        downstream.statuses(server, &first.access_token).await,
        [200, 200],
        "old tokens live on"
    );
    server
        .get_bearer("/auth/me", &first.access_token)
        .await
        .expect_status(200);
    let listed = auth_service::keys::run(&settings, &KeysCommand::List)
        .await
        .unwrap()
        .to_string();
    assert!(
        listed.contains(first_kid.as_str()) && listed.contains("retiring"),
        "{listed}"
    );

    // Revoked: the server refuses the old key's tokens after its reload, the examples after
    // their cache expires.
    let revoke = KeysCommand::Revoke {
        kid: first_kid.clone(),
    };
    auth_service::keys::run(&settings, &revoke).await.unwrap();
    let mut statuses = Vec::new();
    for _ in 0..20 {
        actix_web::rt::time::sleep(Duration::from_millis(500)).await;
        statuses = downstream.statuses(server, &first.access_token).await;
        if statuses == [401, 401] {
            break;
        }
    }
    assert_eq!(statuses, [401, 401]);
    server
        .get_bearer("/auth/me", &first.access_token)
        .await
        .expect_status(401);
    assert_eq!(
        downstream.statuses(server, &second.access_token).await,
        [200, 200]
    );
    let set: Value = server.get("/.well-known/jwks.json").await.json();
    assert!(
        set["keys"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k["kid"] != json!(first_kid))
    );
}

#[test]
fn sqlite() {
    auth_tests::run(async {
        let db = TestDb::sqlite().await;
        downstream_services_verify_tokens_across_a_rotation(&db).await;
    });
}

#[test]
#[cfg_attr(not(postgres_tests), ignore = "needs TEST_DATABASE_URL")]
fn postgres() {
    auth_tests::run(async {
        let db = TestDb::postgres().await;
        downstream_services_verify_tokens_across_a_rotation(&db).await;
    });
}
