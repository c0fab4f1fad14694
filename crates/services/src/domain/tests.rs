//! Tests of the validated inputs: every rule of the contract, accepted and refused.

use crate::Invalid;
use secrecy::SecretString;

use super::{
    EMAIL_MAX_LEN, Email, LoginIdentifier, LoginInput, Password, RegisterInput, Username, is_common,
};

fn secret(s: &str) -> SecretString {
    SecretString::from(s)
}

#[test]
fn emails_are_trimmed_and_kept_as_spelled() {
    assert_eq!(
        Email::parse("  Ann@Example.com \n").unwrap().as_str(),
        "Ann@Example.com"
    );
    assert!(Email::parse("user.name+tag@sub.example.org").is_ok());
}

#[test]
fn emails_are_kept_in_nfc() {
    let decomposed = Email::parse("Jose\u{301}@example.com").unwrap();
    assert_eq!(decomposed.as_str(), "Jos\u{e9}@example.com");
    assert_eq!(decomposed, Email::parse("Jos\u{e9}@example.com").unwrap());
}

#[test]
fn malformed_or_oversized_emails_are_refused() {
    let long = format!("{}@example.com", "a".repeat(250));
    for bad in [
        "",
        "   ",
        "plainaddress",
        "@example.com",
        "ann@",
        "ann@localhost",
        "a b@c.de",
        &long,
    ] {
        let err = Email::parse(bad).unwrap_err();
        assert_eq!(err.field, "email", "{bad}");
    }
}

#[test]
fn usernames_take_3_to_32_of_the_allowed_characters() {
    for good in ["ann", "A.b-c_9", &"x".repeat(32)] {
        assert_eq!(Username::parse(good).unwrap().as_str(), good);
    }
    for bad in [
        "ab",
        &"x".repeat(33),
        "ann smith",
        "ann@example.com",
        "émile",
        " ann",
        "ann!",
    ] {
        assert_eq!(Username::parse(bad).unwrap_err().field, "username", "{bad}");
    }
}

#[test]
fn passwords_need_8_to_128_characters_counted_as_characters() {
    assert!(Password::parse(secret("Tr0ub4dor&3x")).is_ok());
    assert!(
        Password::parse(secret(&"é".repeat(128))).is_ok(),
        "256 bytes but 128 characters"
    );
    for bad in ["short", "", &"z".repeat(129)] {
        let err = Password::parse(secret(bad)).unwrap_err();
        assert_eq!(err.field, "password");
        assert!(
            !err.message.contains(bad) || bad.is_empty(),
            "never echoes the password"
        );
    }
}

#[test]
fn common_passwords_are_refused_ignoring_case() {
    for common in [
        "password123",
        "PASSWORD123",
        "qwertyuiop",
        "QwErTyUiOp",
        "iloveyou",
    ] {
        assert!(is_common(common), "{common}");
        let err = Password::parse(secret(common)).unwrap_err();
        assert!(err.message.contains("common"), "{}", err.message);
    }
    assert!(!is_common("correct horse battery staple"));
}

#[test]
fn passwords_are_not_trimmed() {
    // With the spaces it is long enough; trimmed it would not be.
    assert!(Password::parse(secret("  abc12  ")).is_ok());
}

#[test]
fn registration_reports_every_failing_field_at_once() {
    let Err(Invalid(fields)) = RegisterInput::parse("nope", "x", secret("short")) else {
        panic!("expected a validation error");
    };
    let names: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(names, ["email", "username", "password"]);
    assert!(RegisterInput::parse("ann@example.com", "ann", secret("a long passphrase")).is_ok());
}

#[test]
fn login_needs_exactly_one_identifier_and_a_password() {
    let ok = LoginInput::parse(Some(" ann@example.com "), None, secret("pw")).unwrap();
    assert_eq!(
        ok.identifier,
        LoginIdentifier::Email("ann@example.com".into())
    );
    let ok = LoginInput::parse(None, Some("ann"), secret("pw")).unwrap();
    assert_eq!(ok.identifier, LoginIdentifier::Username("ann".into()));
    for (email, username, password) in [
        (None, None, "pw"),
        (Some("a@b.co"), Some("ann"), "pw"),
        (Some(""), None, "pw"),
        (None, Some(""), "pw"),
        (Some("a@b.co"), None, ""),
    ] {
        let result = LoginInput::parse(email, username, secret(password));
        assert!(
            matches!(result, Err(Invalid(ref f)) if !f.is_empty()),
            "{email:?} {username:?}"
        );
    }
}

#[test]
fn login_identifiers_with_control_characters_are_refused() {
    for (email, username) in [
        (Some("a\u{0}@b.co"), None),
        (None, Some("ann\u{0}")),
        (None, Some("a\nb")),
    ] {
        let result = LoginInput::parse(email, username, secret("pw"));
        assert!(matches!(result, Err(Invalid(_))), "{email:?} {username:?}");
    }
}

#[test]
fn login_identifier_lengths_count_characters_not_bytes() {
    // 254 two-byte characters: within the documented 254 characters, 508 bytes.
    let long = "é".repeat(EMAIL_MAX_LEN);
    assert!(LoginInput::parse(None, Some(&long), secret("pw")).is_ok());
    assert!(LoginInput::parse(Some(&long), None, secret("pw")).is_ok());
    let too_long = "é".repeat(EMAIL_MAX_LEN + 1);
    assert!(LoginInput::parse(None, Some(&too_long), secret("pw")).is_err());
}
