//! The HTTP side of the process tests: a client, the calls they make, and reading the claims
//! of a token the service issued.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// The password of every account these tests create.
pub const PASSWORD: &str = "correct horse battery staple";

/// A client without proxies or redirects, with a bound on each request.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("HTTP client")
}

/// A status and a JSON body (`Null` when the body is empty or not JSON).
#[derive(Debug, Clone)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The decoded body.
    pub body: Value,
}

impl Answer {
    /// The refresh token of a token response.
    pub fn refresh_token(&self) -> &str {
        self.body["refresh_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no refresh token in {:?}", self.body))
    }

    /// The access token of a token response.
    pub fn access_token(&self) -> &str {
        self.body["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no access token in {:?}", self.body))
    }
}

/// Sends `request`; a transport error (refused, reset, cut) is `Err`.
pub async fn send(request: reqwest::RequestBuilder) -> Result<Answer, reqwest::Error> {
    let response = request.send().await?;
    let status = response.status().as_u16();
    let bytes = response.bytes().await?;
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Ok(Answer { status, body })
}

/// `POST /auth/register` for `name` (`name@example.com`).
pub async fn register(
    client: &reqwest::Client,
    base: &str,
    name: &str,
) -> Result<Answer, reqwest::Error> {
    let body =
        json!({"email": format!("{name}@example.com"), "username": name, "password": PASSWORD});
    send(client.post(format!("{base}/auth/register")).json(&body)).await
}

/// `POST /auth/login` by username with `password`.
pub async fn login(
    client: &reqwest::Client,
    base: &str,
    name: &str,
    password: &str,
) -> Result<Answer, reqwest::Error> {
    let body = json!({"username": name, "password": password});
    send(client.post(format!("{base}/auth/login")).json(&body)).await
}

/// `POST /auth/refresh`.
pub async fn refresh(
    client: &reqwest::Client,
    base: &str,
    refresh_token: &str,
) -> Result<Answer, reqwest::Error> {
    let body = json!({"refresh_token": refresh_token});
    send(client.post(format!("{base}/auth/refresh")).json(&body)).await
}

/// `GET /auth/me` with `access_token`.
pub async fn me(
    client: &reqwest::Client,
    base: &str,
    access_token: &str,
) -> Result<Answer, reqwest::Error> {
    send(
        client
            .get(format!("{base}/auth/me"))
            .bearer_auth(access_token),
    )
    .await
}

/// The claims of a token this service issued (read, not verified).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenIds {
    /// The token's id.
    pub jti: String,
    /// Its session (refresh chain).
    pub sid: String,
}

/// Reads `jti` and `sid` from `token`'s payload.
pub fn token_ids(token: &str) -> TokenIds {
    let payload = token.split('.').nth(1).expect("a JWT");
    let claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url payload"))
            .expect("JSON claims");
    TokenIds {
        jti: claims["jti"].as_str().expect("jti").to_owned(),
        sid: claims["sid"].as_str().expect("sid").to_owned(),
    }
}
