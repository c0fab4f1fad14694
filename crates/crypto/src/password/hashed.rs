//! The values a password check produces: a stored hash that never prints, and the verdict.

use std::fmt;

/// A password hash as stored: an argon2 PHC string or a bcrypt string.
///
/// Its `Debug` output is redacted so it cannot leak into logs by accident; it has no `Display`.
///
/// ```
/// use auth_crypto::HashedPassword;
///
/// let stored = HashedPassword::new("$2b$12$Yj7Pgxu2MJ.s.KBG9cNY4.zpBTzbdaSH2gkVKriR7YjAG69JJtFai".into());
/// assert_eq!(format!("{stored:?}"), "HashedPassword([REDACTED])");
/// assert!(stored.as_str().starts_with("$2b$"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct HashedPassword(String);

impl HashedPassword {
    /// Wraps a hash read from storage. It is not checked here; [`verify`] checks it.
    ///
    /// [`verify`]: crate::PasswordHasher::verify
    pub fn new(hash: String) -> Self {
        Self(hash)
    }

    /// The hash string, to store or to verify against.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The hash string, by value.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Debug for HashedPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HashedPassword([REDACTED])")
    }
}

/// The outcome of checking a password against a stored hash.
///
/// ```
/// use auth_crypto::Verification;
///
/// assert!(Verification::Match { needs_rehash: false }.is_match());
/// assert!(!Verification::Mismatch.is_match());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// The password is wrong.
    Mismatch,
    /// The password is right.
    Match {
        /// The stored hash uses another scheme or weaker parameters than configured: hash the
        /// password again and store the new hash.
        needs_rehash: bool,
    },
}

impl Verification {
    /// Whether the password was right.
    pub fn is_match(&self) -> bool {
        matches!(self, Self::Match { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::{HashedPassword, Verification};

    #[test]
    fn debug_output_never_shows_the_hash() {
        let hash = "$argon2id$v=19$m=8,t=1,p=1$c29tZXNhbHQ$aGFzaGhhc2hoYXNo".to_owned();
        let shown = format!(
            "{:?} {:#?}",
            HashedPassword::new(hash.clone()),
            HashedPassword::new(hash)
        );
        assert!(!shown.contains("argon2"), "{shown}");
        assert!(!shown.contains("c29tZXNhbHQ"), "{shown}");
        assert!(shown.contains("[REDACTED]"));
    }

    #[test]
    fn the_hash_string_round_trips() {
        let stored = HashedPassword::new("$2b$04$abc".to_owned());
        assert_eq!(stored.as_str(), "$2b$04$abc");
        assert_eq!(stored.clone(), stored);
        assert_eq!(stored.into_string(), "$2b$04$abc");
    }

    #[test]
    fn only_a_match_is_a_match() {
        assert!(Verification::Match { needs_rehash: true }.is_match());
        assert!(!Verification::Mismatch.is_match());
    }
}
