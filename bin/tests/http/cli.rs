//! The operations commands of the binary: `migrate` applies what is pending and says so,
//! `serve` with `MIGRATE_ON_START=false` refuses a database that is behind, `check-config`
//! prints the settings without secrets or exits 1 with the reason, and `healthcheck` probes a
//! running instance.

use std::process::Output;

use auth_persistence::test_support::TestDb;
use auth_persistence::{db_test, pending_migrations};
use auth_service::startup;

use crate::support::settings;

/// Runs the binary with `args` and `env`, from an empty directory so no `.env` is picked up.
async fn run(args: &'static [&'static str], env: Vec<(&'static str, String)>) -> Output {
    tokio::task::spawn_blocking(move || {
        let dir = tempfile::tempdir().unwrap();
        std::process::Command::new(env!("CARGO_BIN_EXE_auth-service"))
            .args(args)
            .current_dir(dir.path())
            .env_remove("LOG_LEVEL")
            .env_remove("DATABASE_URL")
            .envs(env)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_applies_what_is_pending_and_serve_refuses_a_schema_that_is_behind() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("ops.db").display());
    let env = |extra: &[(&'static str, &str)]| {
        let mut env = vec![("DATABASE_URL", url.clone()), ("PORT", "0".to_owned())];
        env.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
        env
    };

    let refused = run(&["serve"], env(&[("MIGRATE_ON_START", "false")])).await;
    assert_eq!(refused.status.code(), Some(1));
    let stderr = text(&refused.stderr);
    let line = stderr.lines().last().unwrap_or_default();
    assert!(
        line.starts_with("error: database schema is behind: "),
        "{stderr}"
    );
    assert!(line.contains("run `auth-service migrate`"), "{line}");

    let applied = run(&["migrate"], env(&[])).await;
    assert!(applied.status.success(), "{}", text(&applied.stderr));
    assert!(
        text(&applied.stdout).starts_with("applied "),
        "{}",
        text(&applied.stdout)
    );
    let config = auth_persistence::DbConfig::new(url.clone()).unwrap();
    assert!(pending_migrations(&config).await.unwrap().is_empty());

    let again = run(&["migrate"], env(&[])).await;
    assert_eq!(
        text(&again.stdout),
        "database schema is current; nothing to apply\n"
    );
}

db_test!(async fn a_migrated_database_has_nothing_pending_and_migrating_again_applies_nothing(db) {
    assert!(pending_migrations(db.config()).await.unwrap().is_empty());
    let mut settings = settings(db);
    settings.migrate_on_start = false;
    assert!(startup::migrate(&settings).await.unwrap().is_empty());
    // With nothing pending, a start without migrating goes ahead.
    startup::wire(&settings, auth_crypto::PasswordConfig::for_tests()).await.unwrap();
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_config_prints_the_settings_without_secrets_or_the_reason_they_are_refused() {
    let secret = "a-secret-jwt-key-that-must-never-be-printed-0123456789";
    let db_password = "hunter2-db-password";
    let ok = run(
        &["check-config"],
        vec![
            ("JWT_SECRET_KEY", secret.to_owned()),
            (
                "DATABASE_URL",
                format!("postgres://auth:{db_password}@db.internal:5432/auth"),
            ),
        ],
    )
    .await;
    let stdout = text(&ok.stdout);
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    assert!(stdout.ends_with("configuration is valid\n"), "{stdout}");
    assert!(stdout.contains("db.internal"), "{stdout}");
    assert!(
        !stdout.contains(secret) && !stdout.contains(db_password),
        "{stdout}"
    );

    let bad = run(&["check-config"], vec![("PORT", "eighty".to_owned())]).await;
    assert_eq!(bad.status.code(), Some(1));
    assert!(bad.stdout.is_empty());
    let stderr = text(&bad.stderr);
    assert!(
        stderr.starts_with("error: ") && stderr.contains("PORT"),
        "{stderr}"
    );
}

#[actix_web::test]
async fn healthcheck_succeeds_against_a_ready_instance_and_fails_without_one() {
    let db = TestDb::sqlite().await;
    let mut settings = settings(&db);
    settings.port = 0;
    let app = startup::Application::build_with_passwords(
        settings,
        auth_crypto::PasswordConfig::for_tests(),
    )
    .await
    .unwrap();
    let port = app.port().to_string();
    let handle = app.handle();
    let server = actix_web::rt::spawn(app.run_until_stopped());

    let ready = run(
        &["healthcheck"],
        vec![("HOST", "0.0.0.0".to_owned()), ("PORT", port.clone())],
    )
    .await;
    assert!(ready.status.success(), "{}", text(&ready.stderr));
    assert!(ready.stdout.is_empty() && ready.stderr.is_empty());

    handle.stop(true).await;
    server.await.unwrap().unwrap();
    let down = run(&["healthcheck", "--timeout", "1"], vec![("PORT", port)]).await;
    assert_eq!(down.status.code(), Some(1));
    assert!(
        text(&down.stderr).starts_with("unhealthy: 127.0.0.1:"),
        "{}",
        text(&down.stderr)
    );
}
