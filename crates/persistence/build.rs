//! Rebuilds the crate when a migration changes: `embed_migrations!` alone does not notice.
//!
//! Also turns `TEST_DATABASE_URL` into `cfg(postgres_tests)`: without it the PostgreSQL
//! variants written by `db_test!` are reported as ignored instead of as passed.

fn main() {
    println!("cargo::rerun-if-changed=../../migrations");
    println!("cargo::rerun-if-env-changed=TEST_DATABASE_URL");
    println!("cargo::rustc-check-cfg=cfg(postgres_tests)");
    if std::env::var_os("TEST_DATABASE_URL").is_some_and(|url| !url.is_empty()) {
        println!("cargo::rustc-cfg=postgres_tests");
    }
}
