//! The one "is this path under that prefix" rule, shared by the middleware that treat the
//! documentation and health routes apart.

/// Whether `path` is `prefix` itself or lies below it (`/docs`, `/docs/…`), and not merely
/// starts with the same letters (`/docsx`).
pub fn is_under(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::is_under;

    #[test]
    fn a_path_is_under_a_prefix_only_at_a_segment_boundary() {
        assert!(is_under("/docs", "/docs"));
        assert!(is_under("/docs/", "/docs"));
        assert!(is_under("/docs/x", "/docs"));
        assert!(!is_under("/docsx", "/docs"));
        assert!(!is_under("/doc", "/docs"));
        assert!(!is_under("/api/docs", "/docs"));
    }
}
