//! `auth-service admin …`: deactivating an account revokes its sessions, so its tokens stop
//! working at once; activating lets it sign in again; an unknown user is an error. The actions
//! run on the same database as an in-process app, and the binary itself is run once per
//! backend to check what it prints.

use std::process::Output;

use actix_web::test::TestRequest;
use auth_errors::ErrorCode;
use auth_persistence::test_support::TestDb;
use auth_persistence::{DbConfig, db_test};
use auth_service::admin::{self, AdminError, Outcome, parse_user};
use auth_service::cli::AdminCommand;
use auth_services::{AdminService, UserId, UserRef};
use serde_json::{Value, json};

use crate::support::{
    PASSWORD, app, assert_error, post, register, register_body, send, settings, wiring,
};

/// The administration service of the production wiring on `db`.
async fn users(db: &TestDb) -> AdminService {
    wiring(&settings(db)).await.state.auth.admin()
}

fn me(token: &Value) -> TestRequest {
    TestRequest::get().uri("/auth/me").insert_header((
        "Authorization",
        format!("Bearer {}", token.as_str().unwrap()),
    ))
}

fn login(identifier: (&str, &str)) -> TestRequest {
    post(
        "/auth/login",
        &json!({identifier.0: identifier.1, "password": PASSWORD}),
    )
}

db_test!(async fn deactivating_by_email_revokes_every_session_and_me_answers_401_at_once(db) {
    let app = app(db).await;
    let registered = register(&app).await;
    let (status, _, second) = send(&app, login(("username", "ann"))).await;
    assert_eq!(status, 200, "{second}");
    let (status, ..) = send(&app, me(&registered["access_token"])).await;
    assert_eq!(status, 200);

    let who = UserRef::Email("ANN@example.com".into());
    let outcome = admin::deactivate(&users(db).await, &who).await.unwrap();
    let id = registered["user"]["id"].as_i64().unwrap();
    assert_eq!(outcome, Outcome::Deactivated { id, username: "Ann".into(), sessions_revoked: 2 });
    assert_eq!(outcome.to_string(), format!("deactivated user {id} (Ann); revoked 2 sessions"));

    for token in [&registered["access_token"], &second["access_token"]] {
        assert_error(&send(&app, me(token)).await, 401, ErrorCode::InvalidToken);
    }
    let refresh = post("/auth/refresh", &json!({"refresh_token": second["refresh_token"]}));
    assert_error(&send(&app, refresh).await, 401, ErrorCode::InvalidToken);
    assert_error(&send(&app, login(("email", "ann@example.com"))).await, 401, ErrorCode::InvalidCredentials);
});

db_test!(async fn deactivating_by_username_or_id_finds_the_same_account(db) {
    let app = app(db).await;
    let registered = register(&app).await;
    let id = registered["user"]["id"].as_i64().unwrap();
    let users = users(db).await;
    let by_name = admin::deactivate(&users, &parse_user("aNN").unwrap()).await.unwrap();
    assert_eq!(by_name, Outcome::Deactivated { id, username: "Ann".into(), sessions_revoked: 1 });
    assert_error(&send(&app, me(&registered["access_token"])).await, 401, ErrorCode::InvalidToken);
    let by_id = admin::deactivate(&users, &parse_user(&format!("id:{id}")).unwrap()).await.unwrap();
    assert_eq!(by_id, Outcome::Deactivated { id, username: "Ann".into(), sessions_revoked: 0 });
});

db_test!(async fn activating_lets_the_user_sign_in_again_but_old_sessions_stay_revoked(db) {
    let app = app(db).await;
    let registered = register(&app).await;
    let users = users(db).await;
    let who = UserRef::Username("ann".into());
    admin::deactivate(&users, &who).await.unwrap();
    let outcome = admin::activate(&users, &who).await.unwrap();
    assert_eq!(outcome.to_string(), format!("activated user {} (Ann)", registered["user"]["id"]));
    assert_error(&send(&app, me(&registered["access_token"])).await, 401, ErrorCode::InvalidToken);
    let (status, _, fresh) = send(&app, login(("email", "ann@example.com"))).await;
    assert_eq!(status, 200, "{fresh}");
    let (status, ..) = send(&app, me(&fresh["access_token"])).await;
    assert_eq!(status, 200);
});

db_test!(async fn an_unknown_user_is_an_error_and_changes_nothing(db) {
    let app = app(db).await;
    let registered = register(&app).await;
    let users = users(db).await;
    for who in [UserRef::Id(UserId::new(999_999)), UserRef::Email("nobody@example.com".into()), UserRef::Username("nobody".into())] {
        let err = admin::deactivate(&users, &who).await.unwrap_err();
        assert!(matches!(&err, AdminError::UnknownUser(named) if *named == who), "{err:?}");
        assert!(matches!(admin::activate(&users, &who).await, Err(AdminError::UnknownUser(_))));
    }
    assert_eq!(
        admin::deactivate(&users, &UserRef::Id(UserId::new(999_999))).await.unwrap_err().to_string(),
        "no user with id 999999"
    );
    let (status, ..) = send(&app, me(&registered["access_token"])).await;
    assert_eq!(status, 200, "Ann is untouched");
});

db_test!(async fn run_migrates_and_acts_on_the_configured_database(db) {
    let app = app(db).await;
    register(&app).await;
    let command = AdminCommand::Deactivate { user: UserRef::Username("ann".into()) };
    let outcome = admin::run(&settings(db), &command).await.unwrap();
    assert!(outcome.to_string().ends_with("(Ann); revoked 1 session"), "{outcome}");
    let mut unreachable = settings(db);
    unreachable.database = DbConfig::new("postgres://postgres@127.0.0.1:1/none").unwrap();
    unreachable.database_startup_timeout = std::time::Duration::ZERO;
    let err = admin::run(&unreachable, &command).await.unwrap_err();
    assert!(matches!(err, AdminError::Startup(_)), "{err:?}");
});

/// Runs the binary with `args` on `db`, from an empty directory so no `.env` is picked up.
async fn run_binary(db: &TestDb, args: &'static [&'static str]) -> Output {
    let url = db.config().url().to_owned();
    tokio::task::spawn_blocking(move || {
        let dir = tempfile::tempdir().unwrap();
        std::process::Command::new(env!("CARGO_BIN_EXE_auth-service"))
            .args(args)
            .current_dir(dir.path())
            .env("DATABASE_URL", url)
            .env_remove("LOG_LEVEL")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

db_test!(async fn the_binary_prints_one_line_and_fails_loudly_for_an_unknown_user(db) {
    let app = app(db).await;
    let registered = register(&app).await;
    let id = registered["user"]["id"].as_i64().unwrap();

    let done = run_binary(db, &["admin", "deactivate", "ann@example.com"]).await;
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert!(done.status.success(), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&done.stdout), format!("deactivated user {id} (Ann); revoked 1 session\n"));
    assert!(stderr.is_empty(), "{stderr}");
    assert_error(&send(&app, me(&registered["access_token"])).await, 401, ErrorCode::InvalidToken);

    let missing = run_binary(db, &["admin", "activate", "nobody"]).await;
    assert_eq!(missing.status.code(), Some(1));
    assert!(missing.stdout.is_empty());
    assert_eq!(String::from_utf8_lossy(&missing.stderr), "error: no user with username nobody\n");

    let usage = run_binary(db, &["admin", "deactivate"]).await;
    assert_eq!(usage.status.code(), Some(2), "clap's usage error");
});

db_test!(async fn unlocking_lets_a_locked_account_sign_in_again(db) {
    let mut locked_settings = settings(db);
    locked_settings.throttle.account_lock_after = 2;
    locked_settings.throttle.account_delay_after = 1_000;
    let app = crate::support::app_with(locked_settings).await;
    register(&app).await;
    let wrong = || post("/auth/login", &json!({"username": "ann", "password": "a wrong password"}));
    for _ in 0..2 {
        assert_error(&send(&app, wrong()).await, 401, ErrorCode::InvalidCredentials);
    }
    let locked = send(&app, login(("username", "ann"))).await;
    assert_error(&locked, 401, ErrorCode::InvalidCredentials);
    let outcome = admin::unlock(&users(db).await, &UserRef::Email("ANN@example.com".into())).await.unwrap();
    let Outcome::Unlocked { counters_cleared, .. } = &outcome else { panic!("{outcome:?}") };
    assert!(*counters_cleared >= 1);
    assert!(outcome.to_string().starts_with("unlocked user "), "{outcome}");
    let (status, ..) = send(&app, login(("username", "ann"))).await;
    assert_eq!(status, 200);
    let unknown = admin::unlock(&users(db).await, &UserRef::Username("nobody".into())).await;
    assert!(matches!(unknown, Err(AdminError::UnknownUser(_))));
});

db_test!(async fn an_all_digit_target_is_a_username_not_an_id(db) {
    let app = app(db).await;
    let registered = register(&app).await;
    let (status, _, body) = send(&app, post("/auth/register", &register_body("num@example.com", "1337"))).await;
    assert_eq!(status, 201, "{body}");
    let numeric = body["user"]["id"].as_i64().unwrap();
    let users = users(db).await;
    let by_name = admin::deactivate(&users, &parse_user("1337").unwrap()).await.unwrap();
    assert_eq!(by_name, Outcome::Deactivated { id: numeric, username: "1337".into(), sessions_revoked: 1 });
    let (status, ..) = send(&app, me(&registered["access_token"])).await;
    assert_eq!(status, 200, "another account is untouched");
});

db_test!(async fn sessions_lists_the_live_ones_and_revoke_sessions_ends_them_but_keeps_the_account(db) {
    let app = app(db).await;
    let registered = register(&app).await;
    let (status, _, second) = send(&app, login(("username", "ann"))).await;
    assert_eq!(status, 200, "{second}");
    let users = users(db).await;
    let who = UserRef::Username("ann".into());

    let listed = admin::list_sessions(&users, &who).await.unwrap();
    let Outcome::Sessions { sessions, .. } = &listed else { panic!("{listed:?}") };
    assert_eq!(sessions.len(), 2);
    assert!(sessions.iter().all(|s| !s.current), "the operator holds none of them");
    let text = listed.to_string();
    assert!(text.starts_with(&format!("user {} (Ann) has 2 sessions live", registered["user"]["id"])), "{text}");
    assert_eq!(text.lines().count(), 3, "{text}");
    for session in sessions {
        assert!(text.contains(session.id.as_str()), "{text}");
    }

    let revoked = admin::revoke_sessions(&users, &who).await.unwrap();
    assert!(revoked.to_string().ends_with("out everywhere; revoked 2 sessions"), "{revoked}");
    for token in [&registered["access_token"], &second["access_token"]] {
        assert_error(&send(&app, me(token)).await, 401, ErrorCode::InvalidToken);
    }
    let Outcome::Sessions { sessions, .. } = admin::list_sessions(&users, &who).await.unwrap() else { panic!() };
    assert!(sessions.is_empty());
    let (status, ..) = send(&app, login(("email", "ann@example.com"))).await;
    assert_eq!(status, 200, "the account stays active");
    let unknown = admin::revoke_sessions(&users, &UserRef::Username("nobody".into())).await;
    assert!(matches!(unknown, Err(AdminError::UnknownUser(_))));
});

db_test!(async fn set_password_applies_the_policy_revokes_sessions_and_lifts_the_lock(db) {
    let mut locked_settings = settings(db);
    locked_settings.throttle.account_lock_after = 2;
    locked_settings.throttle.account_delay_after = 1_000;
    let app = crate::support::app_with(locked_settings).await;
    let registered = register(&app).await;
    let wrong = || post("/auth/login", &json!({"username": "ann", "password": "a wrong password"}));
    for _ in 0..2 {
        assert_error(&send(&app, wrong()).await, 401, ErrorCode::InvalidCredentials);
    }
    let users = users(db).await;
    let who = UserRef::Email("ann@example.com".into());

    for weak in ["short", "password123"] {
        let err = admin::set_password(&users, &who, weak.into()).await.unwrap_err();
        assert!(err.to_string().starts_with("password refused: password "), "{err}");
    }
    let (status, ..) = send(&app, me(&registered["access_token"])).await;
    assert_eq!(status, 200, "a refused password changes nothing");

    let new = "a brand new passphrase";
    let done = admin::set_password(&users, &who, new.into()).await.unwrap();
    assert!(done.to_string().ends_with("(Ann); revoked 1 session"), "{done}");
    assert!(!done.to_string().contains(new));
    assert_error(&send(&app, me(&registered["access_token"])).await, 401, ErrorCode::InvalidToken);
    assert_error(&send(&app, login(("username", "ann"))).await, 401, ErrorCode::InvalidCredentials);
    let (status, _, body) = send(&app, post("/auth/login", &json!({"username": "ann", "password": new}))).await;
    assert_eq!(status, 200, "the new password works and the lock is lifted: {body}");

    let unknown = admin::set_password(&users, &UserRef::Username("nobody".into()), new.into()).await;
    assert!(matches!(unknown, Err(AdminError::UnknownUser(_))));
});

#[test]
fn the_new_password_is_the_first_line_without_its_line_ending() {
    let read = |input: &str| {
        admin::read_password(input.as_bytes())
            .map(|p| secrecy::ExposeSecret::expose_secret(&p).to_owned())
    };
    assert_eq!(
        read("  spaced pass  \r\nsecond line").unwrap(),
        "  spaced pass  "
    );
    assert_eq!(read("no newline").unwrap(), "no newline");
    for empty in ["", "\n", "\r\n"] {
        assert!(
            matches!(read(empty), Err(AdminError::Input(_))),
            "{empty:?}"
        );
    }
}

/// Runs the binary with `args` on `db`, `stdin` piped in.
async fn run_binary_with_input(
    db: &TestDb,
    args: &'static [&'static str],
    stdin: &'static str,
) -> Output {
    use std::io::Write as _;
    let url = db.config().url().to_owned();
    tokio::task::spawn_blocking(move || {
        let dir = tempfile::tempdir().unwrap();
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_auth-service"))
            .args(args)
            .current_dir(dir.path())
            .env("DATABASE_URL", url)
            .env("ARGON2_MEMORY_KIB", "7168")
            .env("ARGON2_ITERATIONS", "5")
            .env_remove("LOG_LEVEL")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap()
}

db_test!(async fn the_binary_reads_the_new_password_from_stdin_and_never_prints_it(db) {
    let app = app(db).await;
    let registered = register(&app).await;
    let id = registered["user"]["id"].as_i64().unwrap();
    let new = "piped in passphrase 42";

    let done = run_binary_with_input(db, &["admin", "set-password", "ann"], "piped in passphrase 42\n").await;
    let (stdout, stderr) = (String::from_utf8_lossy(&done.stdout), String::from_utf8_lossy(&done.stderr));
    assert!(done.status.success(), "{stderr}");
    assert_eq!(stdout, format!("set the password of user {id} (Ann); revoked 1 session\n"));
    assert!(!stdout.contains(new) && !stderr.contains(new));
    let (status, _, body) = send(&app, post("/auth/login", &json!({"username": "ann", "password": new}))).await;
    assert_eq!(status, 200, "{body}");

    let empty = run_binary_with_input(db, &["admin", "set-password", "ann"], "").await;
    assert_eq!(empty.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&empty.stderr), "error: cannot read the new password from standard input: no password given\n");

    let listed = run_binary_with_input(db, &["admin", "sessions", "ann"], "").await;
    assert!(listed.status.success(), "{}", String::from_utf8_lossy(&listed.stderr));
    assert!(String::from_utf8_lossy(&listed.stdout).starts_with(&format!("user {id} (Ann) has 1 session live")), "the sign-in with the new password");
});
