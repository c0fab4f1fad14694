//! Two build-time settings of the binary.
//!
//! Turns `TEST_DATABASE_URL` into `cfg(postgres_tests)` for the tests of this crate: the
//! PostgreSQL variants written by `auth_persistence::db_test!` are reported as ignored without it, and run
//! (failing if the server does not answer) with it. The cfg is evaluated where the macro
//! expands, so every crate that uses it needs this script.
//!
//! Packs the binary's relative relocations (`-z pack-relative-relocs`, `DT_RELR`) when the
//! build machine's glibc can load such a binary (2.36 or newer) and it is built for that
//! machine. A position-independent executable is relocated by the loader at start: with
//! 2.7 MiB of plain relocation records, reading them kept 2.7 MiB of the file resident for
//! the life of the process; packed, they take 30 KB. Nothing changes at run time otherwise.

use std::process::Command;

fn main() {
    println!("cargo::rerun-if-env-changed=TEST_DATABASE_URL");
    println!("cargo::rustc-check-cfg=cfg(postgres_tests)");
    if std::env::var_os("TEST_DATABASE_URL").is_some_and(|url| !url.is_empty()) {
        println!("cargo::rustc-cfg=postgres_tests");
    }
    if packs_relocations() {
        println!("cargo::rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}

/// Whether the binary is built for this Linux machine and its glibc loads packed relocations.
fn packs_relocations() -> bool {
    let target = std::env::var("TARGET").unwrap_or_default();
    let host = std::env::var("HOST").unwrap_or_default();
    if target != host || !target.ends_with("-linux-gnu") {
        return false;
    }
    // "glibc 2.36" on glibc systems; anything else (no getconf, another libc) keeps the default.
    let Ok(output) = Command::new("getconf").arg("GNU_LIBC_VERSION").output() else {
        return false;
    };
    let text = String::from_utf8_lossy(&output.stdout);
    let version = text.trim().strip_prefix("glibc ").unwrap_or_default();
    let mut parts = version
        .split('.')
        .map(|part| part.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (major, minor) >= (2, 36)
}
