//! Validated inputs of the self-service operations: a password change and an account
//! deletion, each proven with the current password.

use auth_crypto::normalize_password;
use auth_errors::FieldError;
use secrecy::{ExposeSecret as _, SecretString};

use super::{PASSWORD_LEN, Password};
use crate::Invalid;

/// A password change: the current password, which is checked like a sign-in, and a new one
/// that follows the registration rules and differs from it.
#[derive(Debug, Clone)]
pub struct PasswordChangeInput {
    /// The password the account has now (not checked against the policy: it was set under
    /// the rules of its day).
    pub current_password: SecretString,
    /// The password it is to have.
    pub new_password: Password,
    /// The device token the client holds, if any: it stays valid, and the check of the
    /// current password is throttled in that device's bucket.
    pub device_token: Option<SecretString>,
}

impl PasswordChangeInput {
    /// Validates the new password with the default minimum length.
    ///
    /// # Errors
    ///
    /// [`Invalid`] naming `new_password`.
    pub fn parse(current: SecretString, new: SecretString) -> Result<Self, Invalid> {
        Self::parse_with_min(current, new, *PASSWORD_LEN.start())
    }

    /// Validates the new password: the registration rules with `min_length`, and different
    /// from the current one (compared in the NFKC form that is hashed, so two spellings of
    /// one password count as the same).
    ///
    /// # Errors
    ///
    /// [`Invalid`] naming `new_password`; the message never echoes either password.
    pub fn parse_with_min(
        current: SecretString,
        new: SecretString,
        min_length: usize,
    ) -> Result<Self, Invalid> {
        let same = normalize_password(&current).expose_secret()
            == normalize_password(&new).expose_secret();
        let new_password = Password::parse_with_min(new, min_length).map_err(renamed)?;
        if same {
            return Err(Invalid::field(
                "new_password",
                "must differ from the current password",
            ));
        }
        Ok(Self {
            current_password: current,
            new_password,
            device_token: None,
        })
    }

    /// With the device token the client holds (body field or cookie).
    #[must_use]
    pub fn with_device_token(mut self, token: Option<SecretString>) -> Self {
        self.device_token = token;
        self
    }
}

/// The deletion of an account, proven with its password.
#[derive(Debug, Clone)]
pub struct AccountDeletionInput {
    /// The account's password.
    pub password: SecretString,
    /// The device token the client holds, if any: the password check is throttled in that
    /// device's bucket.
    pub device_token: Option<SecretString>,
}

impl AccountDeletionInput {
    /// A deletion proven with `password`.
    pub fn new(password: SecretString) -> Self {
        Self {
            password,
            device_token: None,
        }
    }

    /// With the device token the client holds (body field or cookie).
    #[must_use]
    pub fn with_device_token(mut self, token: Option<SecretString>) -> Self {
        self.device_token = token;
        self
    }
}

/// A password rule's failure, on the field that carries the new password.
fn renamed(err: FieldError) -> Invalid {
    Invalid::field("new_password", err.message)
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;

    use super::PasswordChangeInput;

    fn parse(current: &str, new: &str) -> Result<PasswordChangeInput, crate::Invalid> {
        PasswordChangeInput::parse(SecretString::from(current), SecretString::from(new))
    }

    #[test]
    fn the_new_password_follows_the_registration_rules_under_its_own_name() {
        for (new, message) in [
            ("short", "must be 8 to 128 characters"),
            ("password123", "is too common"),
        ] {
            let err = parse("an old passphrase", new).unwrap_err();
            assert_eq!(err.0.len(), 1);
            assert_eq!(err.0[0].field, "new_password");
            assert!(
                err.0[0].message.starts_with(message),
                "{}",
                err.0[0].message
            );
        }
        assert!(
            parse("x", "a brand new passphrase").is_ok(),
            "the current one is not judged"
        );
    }

    #[test]
    fn the_new_password_must_differ_from_the_current_one_in_its_hashed_form() {
        let err = parse("a long passphrase", "a long passphrase").unwrap_err();
        assert_eq!(err.0[0].field, "new_password");
        assert_eq!(err.0[0].message, "must differ from the current password");
        // U+FF41 is "a" once NFKC-normalised, as the hash sees it.
        let err = parse("a long passphrase", "\u{ff41} long passphrase").unwrap_err();
        assert_eq!(err.0[0].field, "new_password");
        assert!(
            !format!("{err:?}").contains("passphrase"),
            "never echoes a password"
        );
    }
}
