//! Graceful shutdown: SIGTERM lets in-flight requests finish, closes the listener at once
//! and exits 0 within `SHUTDOWN_TIMEOUT_SECONDS`; a request still running at that deadline
//! is cut without leaving half an account behind.
//!
//! Slow requests come from expensive Argon2 parameters, set through the ordinary
//! `ARGON2_*` settings: nothing test-only is compiled into the binary.

use std::net::TcpStream;
use std::time::{Duration, Instant};

use auth_persistence::users;

use crate::client;
use crate::database::{self, Backend};
use crate::harness::{Instance, base_env, set};

/// Registrations running when SIGTERM arrives.
const IN_FLIGHT: usize = 4;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_in_flight_requests_and_refuses_new_ones() {
    let db = database::fresh(Backend::Sqlite).await;
    let mut env = base_env(&database::url(&db));
    // A second or more per registration: sent and still running when the signal arrives,
    // also on a loaded machine.
    set(&mut env, "ARGON2_MEMORY_KIB", "16384");
    set(&mut env, "ARGON2_ITERATIONS", "20");
    set(&mut env, "REQUEST_TIMEOUT_SECONDS", "20");
    set(&mut env, "REFRESH_REUSE_GRACE_SECONDS", "30");
    set(&mut env, "HASHING_THREADS", "2");
    set(&mut env, "HASHING_QUEUE_TIMEOUT_MS", "10000");
    set(&mut env, "SHUTDOWN_TIMEOUT_SECONDS", "20");
    let mut instance = Instance::start_ready(&env).await;
    let base = instance.url("");
    let requests: Vec<_> = (0..IN_FLIGHT)
        .map(|i| {
            let base = base.clone();
            tokio::spawn(async move {
                client::register(&client::client(), &base, &format!("drain{i}")).await
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(1)).await;

    let signalled = Instant::now();
    instance.terminate();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let refused = TcpStream::connect(("127.0.0.1", instance.port()));
    assert!(
        refused.is_err(),
        "a new connection was accepted after SIGTERM"
    );
    for request in requests {
        let answer = request
            .await
            .expect("client task")
            .expect("an in-flight request was cut");
        assert_eq!(
            answer.status,
            201,
            "{:?}\n{}",
            answer.body,
            instance.output()
        );
    }
    let status = tokio::task::spawn_blocking(move || {
        let status = instance.wait_exit(Duration::from_secs(20));
        (status, instance.output())
    })
    .await
    .expect("wait");
    let (status, output) = status;
    let status = status.unwrap_or_else(|| panic!("still running 20 s after SIGTERM:\n{output}"));
    assert!(status.success(), "exit {status:?}:\n{output}");
    assert!(signalled.elapsed() < Duration::from_secs(20));
    for i in 0..IN_FLIGHT {
        let user = users::find_by_username(db.pool(), &format!("drain{i}"))
            .await
            .expect("query");
        assert!(user.is_some(), "drain{i} was answered 201 but is missing");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_running_at_the_deadline_is_cut_whole() {
    let db = database::fresh(Backend::Sqlite).await;
    let mut env = base_env(&database::url(&db));
    // Seconds per registration (start-up makes one such hash too), and one second to drain.
    set(&mut env, "ARGON2_MEMORY_KIB", "131072");
    set(&mut env, "HASHING_MAX_MEMORY_KIB", "131072");
    set(&mut env, "ARGON2_ITERATIONS", "20");
    set(&mut env, "HASHING_THREADS", "2");
    set(&mut env, "HASHING_QUEUE_TIMEOUT_MS", "10000");
    set(&mut env, "REQUEST_TIMEOUT_SECONDS", "20");
    set(&mut env, "REFRESH_REUSE_GRACE_SECONDS", "30");
    set(&mut env, "SHUTDOWN_TIMEOUT_SECONDS", "1");
    let mut instance = Instance::start_ready(&env).await;
    let base = instance.url("");
    let names = ["cut0", "cut1"];
    let requests: Vec<_> = names
        .iter()
        .map(|name| {
            let (base, name) = (base.clone(), (*name).to_owned());
            tokio::spawn(async move { client::register(&client::client(), &base, &name).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;

    let signalled = Instant::now();
    instance.terminate();
    let (status, output) = tokio::task::spawn_blocking(move || {
        let status = instance.wait_exit(Duration::from_secs(10));
        (status, instance.output())
    })
    .await
    .expect("wait");
    let exited_after = signalled.elapsed();
    let status = status.unwrap_or_else(|| panic!("still running 10 s after SIGTERM:\n{output}"));
    assert!(status.success(), "exit {status:?}:\n{output}");
    assert!(
        exited_after < Duration::from_secs(3),
        "took {exited_after:?} to stop with a 1 s shutdown timeout"
    );
    let mut answered = Vec::new();
    for request in requests {
        let answer = request.await.expect("client task");
        answered.push(matches!(&answer, Ok(answer) if answer.status == 201));
    }
    // Each hash takes seconds, so the deadline cuts at least one registration; one that
    // finished before it was rightly answered.
    assert!(
        answered.contains(&false),
        "no registration outlasted the deadline"
    );
    for (name, created) in names.into_iter().zip(answered) {
        let user = users::find_by_username(db.pool(), name)
            .await
            .expect("query");
        if created {
            assert!(user.is_some(), "{name} was answered 201 but is missing");
        }
        if let Some(user) = user {
            let sessions = database::live_sessions(db.pool(), user.id).await;
            assert_eq!(sessions.len(), 1, "{name} exists without its session");
        }
    }
}
