//! Turns `TEST_DATABASE_URL` into `cfg(postgres_tests)` for the tests of this crate: the
//! PostgreSQL variants written by `auth_persistence::db_test!` are reported as ignored without it, and run
//! (failing if the server does not answer) with it. The cfg is evaluated where the macro
//! expands, so every crate that uses it needs this script.

fn main() {
    println!("cargo::rerun-if-env-changed=TEST_DATABASE_URL");
    println!("cargo::rustc-check-cfg=cfg(postgres_tests)");
    if std::env::var_os("TEST_DATABASE_URL").is_some_and(|url| !url.is_empty()) {
        println!("cargo::rustc-cfg=postgres_tests");
    }
}
