//! Test keys (RFC 8032 §7.1, tests 1 and 2) and tokens signed with them.

use jsonwebtoken::{EncodingKey, Header};
use serde_json::json;

/// The PKCS#8 prefix of an Ed25519 private key; the 32-byte seed follows.
const PKCS8_ED25519: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// A test key: its seed (hex) and public `x` (base64url).
pub(crate) struct TestKey {
    seed: &'static str,
    pub(crate) x: &'static str,
}

pub(crate) const KEY_1: TestKey = TestKey {
    seed: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
    x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
};

pub(crate) const KEY_2: TestKey = TestKey {
    seed: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
    x: "PUAXw-hDiVqStwqnTRt-vJyYLM8uxJaMwM1V8Sr0Zgw",
};

impl TestKey {
    /// The key as a JWK with id `kid`.
    pub(crate) fn jwk(&self, kid: &str) -> serde_json::Value {
        json!({"kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA", "kid": kid, "x": self.x})
    }

    /// A token of `kind` with header `kid`, valid for an hour, signed with this key.
    pub(crate) fn sign(&self, key_id: &str, kind: &str) -> String {
        let mut der = PKCS8_ED25519.to_vec();
        der.extend((0..32).map(|i| u8::from_str_radix(&self.seed[2 * i..2 * i + 2], 16).unwrap()));
        let mut header = Header::new(jsonwebtoken::Algorithm::EdDSA);
        header.kid = Some(key_id.to_owned());
        jsonwebtoken::encode(
            &header,
            &claims(kind, 3600),
            &EncodingKey::from_ed_der(&der),
        )
        .unwrap()
    }
}

/// Claims of the service's shape, expiring `ttl` seconds from now.
pub(crate) fn claims(kind: &str, ttl: i64) -> serde_json::Value {
    let now = jsonwebtoken::get_current_timestamp().cast_signed();
    json!({"sub": "42", "exp": now + ttl, "iat": now, "nbf": now, "jti": "j", "sid": "s", "type": kind})
}

/// A JWKS document of `keys`.
pub(crate) fn jwks(keys: &[serde_json::Value]) -> String {
    json!({ "keys": keys }).to_string()
}

/// An HS256 token of `claims` signed with `secret`, naming `kid`.
pub(crate) fn hs256(secret: &[u8], kid: Option<&str>, claims: &serde_json::Value) -> String {
    let mut header = Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(secret)).unwrap()
}
