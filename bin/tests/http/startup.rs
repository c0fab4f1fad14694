//! The binary refuses bad settings and an absent database with one line and a failure exit.

use std::process::{Command, Output};

fn run_server(env: &[(&str, &str)]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_auth-service"));
    command
        .current_dir(dir.path())
        .env_clear()
        .env("LOG_LEVEL", "error");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().unwrap()
}

fn one_error_line(output: &Output) -> String {
    assert!(!output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|line| line.starts_with("error: "))
        .collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    lines[0].to_owned()
}

#[test]
fn a_bad_port_stops_the_binary_with_one_line_naming_it() {
    let line = one_error_line(&run_server(&[("PORT", "abc")]));
    assert!(line.contains("PORT"), "{line}");
}

#[test]
fn a_short_signing_key_is_refused_without_being_shown() {
    let line = one_error_line(&run_server(&[("JWT_SECRET_KEY", "too-short-key")]));
    assert!(
        line.contains("JWT_SECRET_KEY") && !line.contains("too-short-key"),
        "{line}"
    );
}

#[test]
fn a_database_that_never_answers_stops_the_binary_after_the_bounded_wait() {
    let started = std::time::Instant::now();
    let output = run_server(&[
        (
            "DATABASE_URL",
            "postgres://postgres:hunter2@127.0.0.1:1/none",
        ),
        (
            "JWT_SECRET_KEY",
            "a-test-signing-key-that-is-long-enough-000",
        ),
        ("DATABASE_STARTUP_TIMEOUT_SECONDS", "1"),
    ]);
    let line = one_error_line(&output);
    assert!(
        line.contains("database") && !line.contains("hunter2"),
        "{line}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
}
