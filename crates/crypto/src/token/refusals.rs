//! Tests: every way `TokenCodec::verify` refuses a token, most with tokens crafted by hand so
//! that each differs from a valid one in exactly one respect.

use jsonwebtoken::{Algorithm, EncodingKey};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use crate::opaque::base64url;
use crate::{CryptoError, JwtAlgorithm, JwtConfig, TokenCodec, TokenKind};

use crate::token::testing::{SECRET, codec, codec_with, config};

/// Claims of a valid access token issued now.
fn claims_now() -> Value {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    json!({
        "sub": "42", "exp": now + 600, "iat": now, "nbf": now,
        "jti": "0123456789abcdef", "sid": "s", "type": "access",
    })
}

/// A compact JWT of `header` and `claims`, signed with [`SECRET`] under `alg`, or with an empty
/// signature when `alg` is `None`.
fn craft(header: &Value, claims: &Value, alg: Option<Algorithm>) -> String {
    let message = format!(
        "{}.{}",
        base64url(header.to_string().as_bytes()),
        base64url(claims.to_string().as_bytes())
    );
    let signature = alg.map_or_else(String::new, |alg| {
        let key = EncodingKey::from_secret(SECRET.as_bytes());
        jsonwebtoken::crypto::sign(message.as_bytes(), &key, alg).unwrap()
    });
    format!("{message}.{signature}")
}

fn hs256(claims: &Value) -> String {
    craft(
        &json!({"alg": "HS256", "typ": "JWT"}),
        claims,
        Some(Algorithm::HS256),
    )
}

#[track_caller]
fn assert_invalid(codec: &TokenCodec, token: &str) {
    let result = codec.verify(token, TokenKind::Access);
    assert!(
        matches!(result, Err(CryptoError::TokenInvalid)),
        "{token}: {result:?}"
    );
}

#[test]
fn a_hand_crafted_token_verifies_so_the_refusals_below_are_meaningful() {
    let claims = codec()
        .verify(&hs256(&claims_now()), TokenKind::Access)
        .unwrap();
    assert_eq!(claims.sub, "42");
}

#[test]
fn an_expired_token_is_reported_as_expired() {
    let issued_at = OffsetDateTime::now_utc() - Duration::hours(2);
    let past = codec_with(config(), issued_at);
    for kind in [TokenKind::Access, TokenKind::Refresh] {
        let issued = past
            .issue_with_ttl(kind, "1", "s", Duration::hours(1))
            .unwrap();
        let result = codec().verify(issued.token.expose_secret(), kind);
        assert!(
            matches!(result, Err(CryptoError::TokenExpired)),
            "{kind}: {result:?}"
        );
    }
}

#[test]
fn expiry_allows_a_few_seconds_of_leeway_and_no_more() {
    let ttl = Duration::minutes(30);
    let just_expired = codec_with(
        config(),
        OffsetDateTime::now_utc() - ttl - Duration::seconds(2),
    );
    let issued = just_expired.issue(TokenKind::Access, "1", "s").unwrap();
    assert!(
        codec()
            .verify(issued.token.expose_secret(), TokenKind::Access)
            .is_ok()
    );
    let long_expired = codec_with(
        config(),
        OffsetDateTime::now_utc() - ttl - Duration::seconds(30),
    );
    let issued = long_expired.issue(TokenKind::Access, "1", "s").unwrap();
    let result = codec().verify(issued.token.expose_secret(), TokenKind::Access);
    assert!(
        matches!(result, Err(CryptoError::TokenExpired)),
        "{result:?}"
    );
}

#[test]
fn a_token_not_yet_valid_is_invalid() {
    let future = codec_with(config(), OffsetDateTime::now_utc() + Duration::hours(1));
    let issued = future.issue(TokenKind::Access, "1", "s").unwrap();
    assert_invalid(&codec(), issued.token.expose_secret());
}

#[test]
fn extracting_from_an_invalid_token_fails() {
    let result = codec()
        .verify("not.a.token", TokenKind::Access)
        .and_then(|c| c.user_id::<i64>());
    assert!(matches!(result, Err(CryptoError::TokenInvalid)));
}

#[test]
fn garbage_is_an_invalid_token() {
    let valid = hs256(&claims_now());
    let codec = codec();
    for token in [
        "",
        "garbage",
        "a.b",
        "a.b.c",
        "...",
        "Bearer x.y.z",
        &crate::random_token(),
    ] {
        assert_invalid(&codec, token);
    }
    assert_invalid(&codec, &format!("{valid}.extra"));
    assert_invalid(&codec, &format!(" {valid}"));
}

#[test]
fn a_tampered_payload_is_invalid() {
    let codec = codec();
    let issued = codec.issue(TokenKind::Access, "1", "s").unwrap();
    let parts: Vec<&str> = issued.token.expose_secret().split('.').collect();
    let mut claims = serde_json::to_value(&issued.claims).unwrap();
    claims["sub"] = "2".into();
    let forged = base64url(claims.to_string().as_bytes());
    assert_invalid(&codec, &format!("{}.{forged}.{}", parts[0], parts[2]));
}

#[test]
fn a_tampered_signature_is_invalid() {
    let token = hs256(&claims_now());
    let (message, signature) = token.rsplit_once('.').unwrap();
    let flipped = if signature.starts_with('A') { "B" } else { "A" };
    assert_invalid(&codec(), &format!("{message}.{flipped}{}", &signature[1..]));
    assert_invalid(&codec(), &format!("{message}."));
}

#[test]
fn a_token_issued_before_a_key_change_is_invalid() {
    let issued = codec().issue(TokenKind::Access, "1", "s").unwrap();
    let rotated = JwtConfig::new(SecretString::from(
        "another-secret-key-of-at-least-32-bytes",
    ));
    assert_invalid(
        &codec_with(rotated, OffsetDateTime::now_utc()),
        issued.token.expose_secret(),
    );
}

#[test]
fn a_token_signed_with_another_algorithm_is_invalid() {
    let claims = claims_now();
    for (name, alg) in [("HS384", Algorithm::HS384), ("HS512", Algorithm::HS512)] {
        let token = craft(&json!({"alg": name, "typ": "JWT"}), &claims, Some(alg));
        assert_invalid(&codec(), &token);
    }
    // The header must name the algorithm that signed it, even with the right key.
    let mislabelled = craft(&json!({"alg": "HS256"}), &claims, Some(Algorithm::HS512));
    assert_invalid(&codec(), &mislabelled);
    // And a codec pinned to HS512 refuses HS256 tokens in turn.
    let hs512 = JwtConfig {
        algorithm: JwtAlgorithm::HS512,
        ..config()
    };
    assert_invalid(
        &codec_with(hs512, OffsetDateTime::now_utc()),
        &hs256(&claims),
    );
}

#[test]
fn an_unsigned_alg_none_token_is_invalid() {
    let claims = claims_now();
    for alg in ["none", "None", "NONE"] {
        assert_invalid(
            &codec(),
            &craft(&json!({"alg": alg, "typ": "JWT"}), &claims, None),
        );
    }
    let signed_but_none = craft(&json!({"alg": "none"}), &claims, Some(Algorithm::HS256));
    assert_invalid(&codec(), &signed_but_none);
}

#[test]
fn a_time_claim_of_the_wrong_json_type_is_invalid() {
    for (claim, value) in [
        ("exp", json!("9999999999")),
        ("exp", json!(null)),
        ("exp", json!(-1)),
        ("nbf", json!("0")),
        ("iat", json!("0")),
        ("iat", json!(1.5)),
    ] {
        let mut claims = claims_now();
        claims[claim] = value;
        assert_invalid(&codec(), &hs256(&claims));
    }
}

#[test]
fn a_token_missing_any_required_claim_is_invalid() {
    for claim in ["sub", "exp", "iat", "nbf", "jti", "sid", "type"] {
        let mut claims = claims_now();
        claims.as_object_mut().unwrap().remove(claim);
        assert_invalid(&codec(), &hs256(&claims));
    }
}

#[test]
fn each_kind_is_refused_where_the_other_is_expected() {
    let codec = codec();
    let access = codec.issue(TokenKind::Access, "1", "s").unwrap();
    let refresh = codec.issue(TokenKind::Refresh, "1", "s").unwrap();
    let result = codec.verify(access.token.expose_secret(), TokenKind::Refresh);
    assert!(matches!(result, Err(CryptoError::TokenInvalid)));
    assert_invalid(&codec, refresh.token.expose_secret());
    let mut unknown = claims_now();
    unknown["type"] = "admin".into();
    assert_invalid(&codec, &hs256(&unknown));
}

#[test]
fn issuer_and_audience_are_required_and_checked_when_configured() {
    let strict = JwtConfig {
        issuer: Some("auth".into()),
        audience: Some("api".into()),
        ..config()
    };
    let codec = codec_with(strict, OffsetDateTime::now_utc());
    let mut good = claims_now();
    good["iss"] = "auth".into();
    good["aud"] = "api".into();
    assert!(codec.verify(&hs256(&good), TokenKind::Access).is_ok());
    for (claim, value) in [
        ("iss", json!("evil")),
        ("aud", json!("other")),
        ("aud", json!(["api", "x"])),
    ] {
        let mut claims = good.clone();
        claims[claim] = value;
        assert_invalid(&codec, &hs256(&claims));
    }
    for claim in ["iss", "aud"] {
        let mut claims = good.clone();
        claims.as_object_mut().unwrap().remove(claim);
        assert_invalid(&codec, &hs256(&claims));
    }
}

#[test]
fn a_token_with_an_audience_is_refused_where_none_is_configured() {
    let mut claims = claims_now();
    claims["aud"] = "api".into();
    assert_invalid(&codec(), &hs256(&claims));
}
