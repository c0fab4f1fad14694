//! The one rule for turning a typed password into the bytes that are hashed: Unicode NFKC.
//!
//! The same password typed on two platforms can arrive as different code points ("é" as
//! U+00E9, or as "e" followed by U+0301). NIST SP 800-63B §3.1.1.2 asks verifiers to apply
//! NFKC (or NFKD) before hashing, so both spellings hash alike. Every service that links this
//! crate hashes through [`normalize_password`], so they all agree on the rule.

use secrecy::{ExposeSecret as _, SecretString};
use unicode_normalization::UnicodeNormalization as _;

/// Which form of the password a stored hash was made from.
///
/// Hashes made by [`PasswordHasher::hash`](crate::PasswordHasher::hash) are always
/// [`Normalized`](Self::Normalized). Hashes made before normalisation existed (by this crate's
/// earlier versions or by the Python service) are [`Raw`](Self::Raw): they are verified against
/// the bytes as typed. The caller keeps track of which is which (for example a flag stored next
/// to the hash) and upgrades a raw hash after a successful sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordForm {
    /// Made from [`normalize_password`]'s output (NFKC).
    Normalized,
    /// Made from the password exactly as typed.
    Raw,
}

/// The NFKC form of `password`, which is what new hashes are made from.
///
/// ```
/// use auth_crypto::normalize_password;
/// use secrecy::{ExposeSecret as _, SecretString};
///
/// let composed = normalize_password(&SecretString::from("caf\u{e9}"));
/// let decomposed = normalize_password(&SecretString::from("cafe\u{301}"));
/// assert_eq!(composed.expose_secret(), decomposed.expose_secret());
/// ```
pub fn normalize_password(password: &SecretString) -> SecretString {
    SecretString::from(password.expose_secret().nfkc().collect::<String>())
}

#[cfg(test)]
mod tests {
    use secrecy::{ExposeSecret as _, SecretString};

    use super::normalize_password;

    fn normalized(s: &str) -> String {
        normalize_password(&SecretString::from(s))
            .expose_secret()
            .to_owned()
    }

    #[test]
    fn composed_and_decomposed_forms_normalise_alike() {
        assert_eq!(
            normalized("Jos\u{e9}-p\u{e4}ss"),
            normalized("Jose\u{301}-pa\u{308}ss")
        );
        assert_eq!(normalized("Jose\u{301}-pa\u{308}ss"), "Jos\u{e9}-p\u{e4}ss");
    }

    #[test]
    fn compatibility_characters_fold_to_their_plain_form() {
        assert_eq!(
            normalized("\u{ff21}\u{ff22}\u{2460}"),
            "AB1",
            "full-width letters, circled 1"
        );
        assert_eq!(normalized("\u{fb01}"), "fi", "ligature");
    }

    #[test]
    fn ascii_and_spaces_are_untouched() {
        for s in [
            "correct horse battery staple",
            "  ",
            "tab\there",
            "\u{0}nul",
        ] {
            assert_eq!(normalized(s), s);
        }
    }
}
