//! Validated inputs: an email, a username and a password that passed the contract's rules.
//!
//! Parsing happens once at the edge; the service only ever sees values that are known good.
//! Error messages never echo the submitted value, so a password cannot leak through them.

use auth_errors::FieldError;
use email_address::{EmailAddress, Options};
use secrecy::{ExposeSecret, SecretString};
use unicode_normalization::UnicodeNormalization as _;

use crate::Invalid;

mod account;
mod common_passwords;

pub use account::{AccountDeletionInput, PasswordChangeInput};

/// Longest email accepted (RFC 5321's path limit).
pub const EMAIL_MAX_LEN: usize = 254;
/// Shortest and longest usernames, in characters.
pub const USERNAME_LEN: std::ops::RangeInclusive<usize> = 3..=32;
/// Shortest and longest passwords, in characters.
pub const PASSWORD_LEN: std::ops::RangeInclusive<usize> = 8..=128;
/// The values a configured minimum password length may take (`PASSWORD_MIN_LENGTH`).
pub const PASSWORD_MIN_LENGTHS: std::ops::RangeInclusive<usize> = 8..=64;

/// A syntactically valid email address, trimmed, in Unicode NFC, otherwise spelled as given.
///
/// NFC makes "é" typed as U+00E9 and as "e" + U+0301 the same address, for uniqueness and
/// look-up alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Trims `raw`, brings it to Unicode NFC and checks it is an address with a dotted domain,
    /// at most 254 characters.
    ///
    /// # Errors
    ///
    /// A [`FieldError`] on `email` saying what is wrong.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let nfc: String = raw.trim().nfc().collect();
        let trimmed = nfc.as_str();
        if trimmed.is_empty() {
            return Err(FieldError::new("email", "is required"));
        }
        if trimmed.chars().count() > EMAIL_MAX_LEN {
            return Err(FieldError::new("email", "must be at most 254 characters"));
        }
        let options = Options {
            minimum_sub_domains: 2,
            allow_domain_literal: false,
            allow_display_text: false,
            allow_long_local_parts: false,
        };
        EmailAddress::parse_with_options(trimmed, options)
            .map(|_| Self(nfc.clone()))
            .map_err(|_| FieldError::new("email", "is not a valid email address"))
    }

    /// The address as given (after trimming and NFC).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A username of 3–32 characters from `A-Z a-z 0-9 _ . -`, spelled as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    /// Checks length and characters. Usernames are not trimmed: a space is simply invalid.
    ///
    /// # Errors
    ///
    /// A [`FieldError`] on `username` saying what is wrong.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        if !USERNAME_LEN.contains(&raw.chars().count()) {
            return Err(FieldError::new("username", "must be 3 to 32 characters"));
        }
        if !raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        {
            return Err(FieldError::new(
                "username",
                "may contain only letters, digits, '_', '.' and '-'",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The username as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password that passed the policy: 8–128 characters and not a common password.
///
/// Only lengths and the common-password list are checked: no composition rules, no strength
/// score. Never trimmed. `Debug` prints `[REDACTED]`.
#[derive(Debug, Clone)]
pub struct Password(SecretString);

impl Password {
    /// Checks the policy.
    ///
    /// # Errors
    ///
    /// A [`FieldError`] on `password` saying which rule failed (never the password itself).
    pub fn parse(raw: SecretString) -> Result<Self, FieldError> {
        Self::parse_with_min(raw, *PASSWORD_LEN.start())
    }

    /// Checks the policy with a configured minimum length (at least 8).
    ///
    /// # Errors
    ///
    /// As [`Self::parse`].
    pub fn parse_with_min(raw: SecretString, min_length: usize) -> Result<Self, FieldError> {
        let text = raw.expose_secret();
        let min = min_length.max(*PASSWORD_LEN.start());
        if !(min..=*PASSWORD_LEN.end()).contains(&text.chars().count()) {
            return Err(FieldError::new(
                "password",
                format!("must be {min} to {} characters", PASSWORD_LEN.end()),
            ));
        }
        if is_common(text) {
            return Err(FieldError::new(
                "password",
                "is too common; choose one that is not on lists of leaked passwords",
            ));
        }
        Ok(Self(raw))
    }

    /// The secret, for hashing.
    pub fn secret(&self) -> &SecretString {
        &self.0
    }
}

/// Whether `password` is on the common-password list (about 100,000 leaked passwords), as
/// written or in lower case.
///
/// ```
/// use auth_services::is_common;
///
/// assert!(is_common("password"));
/// assert!(is_common("PassWord"));
/// assert!(!is_common("correct horse battery staple"));
/// ```
pub fn is_common(password: &str) -> bool {
    common_passwords::contains(password) || common_passwords::contains(&password.to_lowercase())
}

/// Registration data, each field validated.
#[derive(Debug, Clone)]
pub struct RegisterInput {
    /// Email.
    pub email: Email,
    /// Username.
    pub username: Username,
    /// Password.
    pub password: Password,
}

impl RegisterInput {
    /// Validates every field and reports all failures at once.
    ///
    /// # Errors
    ///
    /// [`Invalid`] listing each failing field.
    pub fn parse(email: &str, username: &str, password: SecretString) -> Result<Self, Invalid> {
        Self::parse_with_min(email, username, password, *PASSWORD_LEN.start())
    }

    /// As [`Self::parse`], with a configured minimum password length.
    ///
    /// # Errors
    ///
    /// [`Invalid`] listing each failing field.
    pub fn parse_with_min(
        email: &str,
        username: &str,
        password: SecretString,
        min_length: usize,
    ) -> Result<Self, Invalid> {
        let email = Email::parse(email);
        let username = Username::parse(username);
        let password = Password::parse_with_min(password, min_length);
        match (email, username, password) {
            (Ok(email), Ok(username), Ok(password)) => Ok(Self {
                email,
                username,
                password,
            }),
            (email, username, password) => Err(Invalid(
                [email.err(), username.err(), password.err()]
                    .into_iter()
                    .flatten()
                    .collect(),
            )),
        }
    }
}

/// Who is signing in: by email or by username.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginIdentifier {
    /// Look the account up by email (case-insensitive, trimmed).
    Email(String),
    /// Look the account up by username (case-insensitive).
    Username(String),
}

/// Sign-in data. The password is not checked against the policy: accounts made under older
/// rules must still sign in.
#[derive(Debug, Clone)]
pub struct LoginInput {
    /// The account to sign in to.
    pub identifier: LoginIdentifier,
    /// The password as typed.
    pub password: SecretString,
    /// A device token from an earlier sign-in, if the client has one.
    pub device_token: Option<SecretString>,
}

impl LoginInput {
    /// Accepts exactly one identifier and a non-empty password.
    ///
    /// # Errors
    ///
    /// [`Invalid`] when neither or both identifiers are given, or a field is
    /// empty or too long.
    pub fn parse(
        email: Option<&str>,
        username: Option<&str>,
        password: SecretString,
    ) -> Result<Self, Invalid> {
        let mut errors = Vec::new();
        let identifier = match (email.map(str::trim), username) {
            (Some(email), None) if fits_identifier(email) => {
                Some(LoginIdentifier::Email(email.to_owned()))
            }
            (None, Some(name)) if fits_identifier(name) => {
                Some(LoginIdentifier::Username(name.to_owned()))
            }
            (Some(_), Some(_)) => {
                errors.push(FieldError::new(
                    "email",
                    "give either email or username, not both",
                ));
                None
            }
            (None, None) => {
                errors.push(FieldError::new("email", "email or username is required"));
                None
            }
            (Some(_), None) => {
                errors.push(FieldError::new("email", "must be 1 to 254 characters"));
                None
            }
            (None, Some(_)) => {
                errors.push(FieldError::new("username", "must be 1 to 254 characters"));
                None
            }
        };
        if email
            .or(username)
            .is_some_and(|id| id.chars().any(char::is_control))
        {
            errors.push(FieldError::new(
                if email.is_some() { "email" } else { "username" },
                "must not contain control characters",
            ));
        }
        let length = password.expose_secret().chars().count();
        if length == 0 || length > *PASSWORD_LEN.end() {
            errors.push(FieldError::new("password", "must be 1 to 128 characters"));
        }
        match identifier {
            Some(identifier) if errors.is_empty() => Ok(Self {
                identifier,
                password,
                device_token: None,
            }),
            _ => Err(Invalid(errors)),
        }
    }
}

/// Whether a login identifier has 1 to [`EMAIL_MAX_LEN`] characters (not bytes, as the
/// OpenAPI `maxLength` counts them).
fn fits_identifier(identifier: &str) -> bool {
    !identifier.is_empty() && identifier.chars().count() <= EMAIL_MAX_LEN
}

/// Longest device token considered; longer ones cannot be ours and are ignored.
const DEVICE_TOKEN_MAX_LEN: usize = 256;

impl LoginInput {
    /// With the device token the client presented. One that cannot be a device token (empty or
    /// too long) is dropped: an invalid token is treated as absent, never as an error.
    #[must_use]
    pub fn with_device_token(mut self, token: Option<SecretString>) -> Self {
        self.device_token = token.filter(|token| {
            let len = token.expose_secret().len();
            (1..=DEVICE_TOKEN_MAX_LEN).contains(&len)
        });
        self
    }
}

#[cfg(test)]
mod tests;
