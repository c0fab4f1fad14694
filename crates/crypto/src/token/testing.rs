//! Test helpers shared by the token tests: one key and codecs pinned to a clock.

use std::sync::Arc;

use secrecy::SecretString;
use time::OffsetDateTime;

use crate::{JwtConfig, ManualClock, TokenCodec};

/// The signing key of every token test.
pub(crate) const SECRET: &str = "test-secret-key-of-at-least-32-bytes!";

/// The default configuration with [`SECRET`].
pub(crate) fn config() -> JwtConfig {
    JwtConfig::new(SecretString::from(SECRET))
}

/// A codec for `config` whose clock stands at `now`.
pub(crate) fn codec_with(config: JwtConfig, now: OffsetDateTime) -> TokenCodec {
    TokenCodec::new(config, Arc::new(ManualClock::new(now))).unwrap()
}

/// The default codec with its clock at `now`.
pub(crate) fn codec_at(now: OffsetDateTime) -> TokenCodec {
    codec_with(config(), now)
}

/// The default codec with its clock at the real now.
pub(crate) fn codec() -> TokenCodec {
    codec_at(OffsetDateTime::now_utc())
}
