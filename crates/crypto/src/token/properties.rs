//! Property tests of token decoding: any text a client presents as a token is refused with
//! a token error, never a panic; and an issued token verifies with its claims intact, as its
//! own kind only.

use base64::Engine as _;
use proptest::prelude::*;
use secrecy::ExposeSecret as _;

use super::testing::codec;
use crate::{CryptoError, TokenKind};

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn kind() -> impl Strategy<Value = TokenKind> {
    prop_oneof![Just(TokenKind::Access), Just(TokenKind::Refresh)]
}

/// Asserts a refusal the HTTP layer maps to 401.
fn assert_refused(result: Result<crate::Claims, CryptoError>) -> Result<(), TestCaseError> {
    prop_assert!(
        matches!(
            result,
            Err(CryptoError::TokenInvalid | CryptoError::TokenExpired)
        ),
        "{:?}",
        result.map(|claims| claims.sub)
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_text_is_an_invalid_token(token in any::<String>(), kind in kind()) {
        assert_refused(codec().verify(&token, kind))?;
    }

    #[test]
    fn any_three_base64_parts_are_an_invalid_token(
        header in prop::collection::vec(any::<u8>(), 0..64),
        payload in prop::collection::vec(any::<u8>(), 0..128),
        signature in prop::collection::vec(any::<u8>(), 0..64),
        kind in kind(),
    ) {
        let token = format!("{}.{}.{}", b64(&header), b64(&payload), b64(&signature));
        assert_refused(codec().verify(&token, kind))?;
    }

    #[test]
    fn an_issued_token_round_trips_as_its_own_kind_only(
        subject in "[0-9]{1,18}",
        session in "[0-9a-f-]{1,36}",
        kind in kind(),
    ) {
        let codec = codec();
        let issued = codec.issue(kind, &subject, &session).unwrap();
        let claims = codec.verify(issued.token.expose_secret(), kind).unwrap();
        prop_assert_eq!(&claims.sub, &subject);
        prop_assert_eq!(&claims.sid, &session);
        prop_assert_eq!(claims.kind, kind);
        prop_assert_eq!(claims.jti, issued.claims.jti);
        let other = match kind {
            TokenKind::Access => TokenKind::Refresh,
            TokenKind::Refresh => TokenKind::Access,
        };
        assert_refused(codec.verify(issued.token.expose_secret(), other))?;
    }
}
