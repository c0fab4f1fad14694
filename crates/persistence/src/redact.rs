//! Hiding the passwords of a database URL, so the URL can be logged or shown in an error.
//!
//! The one redaction of the workspace: `DbConfig`'s `Debug`, start-up errors and the settings
//! all call [`redact_url`].

use url::{Position, Url};

/// What a password is replaced with.
const MASK: &str = "***";

/// `text` with the password of any `user:password@` and the value of any `password=` query
/// parameter (key in any case) replaced by `***`, safe to log.
///
/// The URL is read with the `url` crate, which finds the user info up to the last `@` of the
/// authority and decodes percent-encoded query keys. A password holding a raw `/`, `?` or `#`
/// ends the authority early, so the crate either refuses the URL or leaves an `@` after the
/// host; then, and for any text the crate cannot read, everything from `://` (or the start)
/// to the last `@` is hidden, keeping only a user name free of `/`, `?` and `#`. Text with
/// nothing to hide is returned unchanged.
///
/// ```
/// use auth_persistence::redact_url;
///
/// assert_eq!(redact_url("postgres://app:s3cret@db/auth"), "postgres://app:***@db/auth");
/// assert_eq!(redact_url("postgres://app:a/b@db/auth"), "postgres://app:***@db/auth");
/// assert_eq!(redact_url("postgres://db/auth?PASSWORD=x"), "postgres://db/auth?password=***");
/// assert_eq!(redact_url("sqlite://auth.db"), "sqlite://auth.db");
/// ```
pub fn redact_url(text: &str) -> String {
    Url::parse(text)
        .ok()
        .and_then(|url| redact_parsed(url, text))
        .unwrap_or_else(|| redact_unparsed(text))
}

/// The URL as the `url` crate read it, redacted; `None` when that reading cannot be trusted
/// to have found the whole password (an `@` left after the host).
fn redact_parsed(mut url: Url, text: &str) -> Option<String> {
    let mut changed = false;
    if url.password().is_some() {
        url.set_password(Some(MASK)).ok()?;
        changed = true;
    }
    if let Some(query) = url.query().and_then(redact_query) {
        url.set_query(Some(&query));
        changed = true;
    }
    if url[Position::BeforeHost..].contains('@') {
        return None;
    }
    Some(if changed { url.into() } else { text.to_owned() })
}

/// `query` with every `password=` value masked, or `None` when it has none.
fn redact_query(query: &str) -> Option<String> {
    let mut found = false;
    let pairs: Vec<&str> = query
        .split('&')
        .map(|pair| {
            if is_password_pair(pair) {
                found = true;
                "password=***"
            } else {
                pair
            }
        })
        .collect();
    found.then(|| pairs.join("&"))
}

/// Whether the `key=value` pair's key, percent-decoded, is `password` in any case.
fn is_password_pair(pair: &str) -> bool {
    url::form_urlencoded::parse(pair.as_bytes())
        .next()
        .is_some_and(|(key, _)| key.eq_ignore_ascii_case("password"))
}

/// The fallback for text the `url` crate cannot read or reads wrongly: masks `password=`
/// values, then hides everything from `://` (or the start) to the last `@`.
fn redact_unparsed(text: &str) -> String {
    let text = redact_raw_query(text);
    let (prefix, rest) = match text.split_once("://") {
        Some((scheme, rest)) => (format!("{scheme}://"), rest),
        None => (String::new(), text.as_str()),
    };
    let Some(at) = rest.rfind('@') else {
        return text.clone();
    };
    let user = rest[..at]
        .split_once(':')
        .map(|(user, _)| user)
        .filter(|user| !user.contains(['/', '?', '#']));
    match user {
        Some(user) => format!("{prefix}{user}:{MASK}@{}", &rest[at + 1..]),
        None => format!("{prefix}{MASK}@{}", &rest[at + 1..]),
    }
}

/// `text` with the value of every `password=` following a `?` or `&` masked, up to the next
/// `&` or `#`.
fn redact_raw_query(text: &str) -> String {
    const KEY: &str = "password=";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(['?', '&']) {
        let (head, tail) = rest.split_at(i + 1);
        out.push_str(head);
        rest = tail;
        if rest
            .get(..KEY.len())
            .is_some_and(|key| key.eq_ignore_ascii_case(KEY))
        {
            out.push_str(KEY);
            out.push_str(MASK);
            rest = &rest[rest.find(['&', '#']).unwrap_or(rest.len())..];
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn only_the_password_of_a_url_is_redacted() {
        assert_eq!(
            redact_url("postgres://app:s3cr@t@db:5432/auth?sslmode=require"),
            "postgres://app:***@db:5432/auth?sslmode=require"
        );
        assert_eq!(
            redact_url("postgres://u:pa/ss@db/auth"),
            "postgres://u:***@db/auth"
        );
        assert_eq!(
            redact_url("postgres://db/auth?user=u&Password=p&x=1"),
            "postgres://db/auth?user=u&password=***&x=1"
        );
        assert_eq!(
            redact_url("postgres://app@db/auth"),
            "postgres://app@db/auth"
        );
        assert_eq!(
            redact_url("postgres://u:p@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("sqlite://auth.db"), "sqlite://auth.db");
        assert_eq!(redact_url("not a url"), "not a url");
    }

    #[test]
    fn raw_slash_question_mark_and_hash_in_a_password_are_hidden() {
        for (password, shown) in [
            ("pa/ss", "postgres://u:***@db/auth"),
            ("12/ss", "postgres://u:***@db/auth"),
            ("pa?ss", "postgres://u:***@db/auth"),
            ("12?ss", "postgres://u:***@db/auth"),
            ("pa#ss", "postgres://u:***@db/auth"),
            ("12#ss", "postgres://u:***@db/auth"),
            ("a/b?c#d@e", "postgres://u:***@db/auth"),
        ] {
            let url = format!("postgres://u:{password}@db/auth");
            assert_eq!(redact_url(&url), shown, "{url}");
        }
    }

    #[test]
    fn percent_encoded_passwords_are_hidden() {
        assert_eq!(
            redact_url("postgres://u:a%2Fb%3Fc%23d%40e@db:5432/auth"),
            "postgres://u:***@db:5432/auth"
        );
    }

    #[test]
    fn a_password_query_parameter_is_hidden_in_any_case() {
        assert_eq!(
            redact_url("postgres://db/auth?password=p@ss/w?rd"),
            "postgres://db/auth?password=***"
        );
        assert_eq!(
            redact_url("postgres://db/auth?sslmode=require&PassWord=x&y=1"),
            "postgres://db/auth?sslmode=require&password=***&y=1"
        );
        assert_eq!(
            redact_url("postgres://db/auth?%70assword=x"),
            "postgres://db/auth?password=***"
        );
        assert_eq!(
            redact_url("postgres://u:p/w@db/auth?password=x@y"),
            "postgres://u:***@db/auth?password=***"
        );
    }

    #[test]
    fn unusual_text_never_shows_its_user_info() {
        assert_eq!(redact_url("sqlite://:memory:"), "sqlite://:memory:");
        assert_eq!(
            redact_url("mysql://app:s3cret@db/auth"),
            "mysql://app:***@db/auth"
        );
        assert_eq!(redact_url("app:s3cret@db/auth"), "app:***@db/auth");
        assert_eq!(redact_url("postgres://a/b:c@db"), "postgres://***@db");
        assert_eq!(redact_url("postgres://s3cret@"), "postgres://***@");
    }
}
