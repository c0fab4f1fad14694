//! PostgreSQL's `statement_timeout` on every connection, carried in the URL's `options`
//! parameter so each new connection, pooled or for migrations, starts with it and no setup
//! query is needed.

use std::time::Duration;

use crate::{Backend, DbConfig};

/// The `options` key of a PostgreSQL URL: server settings sent at connection start-up.
const OPTIONS_KEY: &str = "options=";

impl DbConfig {
    /// These settings with `statement_timeout` set on every PostgreSQL connection, so a query
    /// that hangs (a lock never released, a server that stopped answering mid-query) fails
    /// after `timeout` with SQLSTATE 57014 instead of holding its connection and request.
    ///
    /// The timeout travels as `options=-c statement_timeout=MS` in the URL. An `options`
    /// value already in the URL is kept after it; one that already sets `statement_timeout`
    /// wins and the URL is left alone. SQLite settings are returned unchanged.
    ///
    /// ```
    /// use std::time::Duration;
    /// use auth_persistence::DbConfig;
    ///
    /// let config = DbConfig::new("postgres://app@db/auth?sslmode=disable")
    ///     .unwrap()
    ///     .with_statement_timeout(Duration::from_millis(1500));
    /// assert_eq!(
    ///     config.url(),
    ///     "postgres://app@db/auth?sslmode=disable&options=-c%20statement_timeout%3D1500"
    /// );
    /// ```
    #[must_use]
    pub fn with_statement_timeout(mut self, timeout: Duration) -> Self {
        if self.backend == Backend::Postgres {
            let ms = timeout.as_millis().max(1);
            let url = with_option(&self.url, &format!("-c%20statement_timeout%3D{ms}"));
            // The driver's settings were read from the URL when it was given: read them again,
            // or connections would start without the timeout. The URL was valid and only its
            // `options` changed, so this cannot fail; if it did, the settings stay as they were.
            // A URL whose own `options` set the timeout comes back unchanged: its value is
            // unknown here, so no client-side deadline is derived from it.
            if url != self.url
                && let Ok((target, _, _)) = super::postgres_target(&url)
            {
                self.postgres = Some(target);
                self.url = url;
                self.statement_timeout = Some(timeout);
            }
        }
        self
    }
}

/// `url` with `option` (percent-encoded) first in its `options` parameter.
fn with_option(url: &str, option: &str) -> String {
    let Some((base, query)) = url.split_once('?') else {
        return format!("{url}?{OPTIONS_KEY}{option}");
    };
    let mut found = false;
    let params: Vec<String> = query
        .split('&')
        .map(|param| match param.strip_prefix(OPTIONS_KEY) {
            Some(existing) if !found => {
                found = true;
                if existing.contains("statement_timeout") {
                    param.to_owned()
                } else {
                    format!("{OPTIONS_KEY}{option}%20{existing}")
                }
            }
            _ => param.to_owned(),
        })
        .collect();
    let mut out = format!("{base}?{}", params.join("&"));
    if !found {
        out.push('&');
        out.push_str(OPTIONS_KEY);
        out.push_str(option);
    }
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::DbConfig;

    fn with_timeout(url: &str, ms: u64) -> String {
        DbConfig::new(url)
            .unwrap()
            .with_statement_timeout(Duration::from_millis(ms))
            .url()
            .to_owned()
    }

    #[test]
    fn a_url_without_a_query_gets_the_option() {
        assert_eq!(
            with_timeout("postgres://h/db", 3000),
            "postgres://h/db?options=-c%20statement_timeout%3D3000"
        );
    }

    #[test]
    fn other_options_are_kept_after_the_timeout() {
        assert_eq!(
            with_timeout(
                "postgres://h/db?options=-c%20search_path%3Dauth&connect_timeout=5",
                200
            ),
            "postgres://h/db?options=-c%20statement_timeout%3D200%20-c%20search_path%3Dauth&\
             connect_timeout=5"
        );
    }

    #[test]
    fn connections_are_opened_with_the_timeout() {
        let config = DbConfig::new("postgres://h/db?sslmode=disable")
            .unwrap()
            .with_statement_timeout(Duration::from_millis(250));
        let driver = &config.postgres_target().unwrap().driver;
        assert_eq!(driver.get_options(), Some("-c statement_timeout=250"));
    }

    #[test]
    fn a_timeout_already_in_the_url_wins() {
        let url = "postgres://h/db?options=-c%20statement_timeout%3D9";
        assert_eq!(with_timeout(url, 200), url);
    }

    #[test]
    fn sqlite_urls_are_left_alone() {
        assert_eq!(with_timeout("sqlite://auth.db", 200), "sqlite://auth.db");
    }
}
