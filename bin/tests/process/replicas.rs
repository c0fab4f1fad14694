//! Several replicas on one PostgreSQL database, with requests spread over them round-robin:
//! limits, refresh rotation and deactivation hold for the whole deployment, not per replica,
//! and replicas started together on an empty database all come up.

use std::collections::HashSet;

use futures::future::join_all;

use crate::client::{self, PASSWORD, token_ids};
use crate::database;
use crate::harness::{Instance, base_env, run_command, set};

/// Replicas in each test.
const REPLICAS: usize = 3;

/// Starts `REPLICAS` instances with `env` at the same time and waits until all are ready.
///
/// Each replica's pool is kept small: the tests run side by side on one server, whose
/// connection limit (100 by default) they share.
async fn start_together(env: &[(String, String)]) -> Vec<Instance> {
    let mut env = env.to_vec();
    set(&mut env, "DATABASE_MAX_CONNECTIONS", "4");
    let env = env.as_slice();
    let instances: Vec<Instance> = std::thread::scope(|scope| {
        let starting: Vec<_> = (0..REPLICAS)
            .map(|_| scope.spawn(|| Instance::start(env)))
            .collect();
        starting
            .into_iter()
            .map(|start| start.join().expect("start a replica"))
            .collect()
    });
    join_all(instances.iter().map(Instance::wait_ready)).await;
    instances
}

/// The base URL of the replica that takes request number `i`.
fn pick(replicas: &[Instance], i: usize) -> String {
    replicas[i % replicas.len()].url("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(postgres_tests), ignore = "needs TEST_DATABASE_URL")]
async fn replicas_started_together_on_an_empty_database_all_serve_it() {
    let db = database::empty_postgres().await;
    let replicas = start_together(&base_env(&database::url(&db))).await;
    let http = client::client();
    for (i, replica) in replicas.iter().enumerate() {
        let name = format!("start{i}");
        let created = client::register(&http, &replica.url(""), &name)
            .await
            .expect("register");
        assert_eq!(created.status, 201, "{:?}", created.body);
        // Signed in through another replica: one database, one schema.
        let login = client::login(&http, &pick(&replicas, i + 1), &name, PASSWORD)
            .await
            .expect("login");
        assert_eq!(login.status, 200, "{:?}", login.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(postgres_tests), ignore = "needs TEST_DATABASE_URL")]
async fn a_wrong_password_burst_over_replicas_checks_the_limit_in_total() {
    const BURST: usize = 200;
    /// `RATE_LIMIT_LOGIN_FAILURES_PER_IP_ACCOUNT`'s default.
    const CHECKED: usize = 5;
    let db = database::fresh(database::Backend::Postgres).await;
    let mut env = base_env(&database::url(&db));
    set(&mut env, "RATE_LIMIT_ENABLED", "true");
    let replicas = start_together(&env).await;
    let http = client::client();
    let created = client::register(&http, &pick(&replicas, 0), "target")
        .await
        .expect("register");
    assert_eq!(created.status, 201, "{:?}", created.body);

    let answers = join_all((0..BURST).map(|i| {
        let (http, base) = (http.clone(), pick(&replicas, i));
        async move {
            client::login(&http, &base, "target", "wrong password guess")
                .await
                .expect("login")
        }
    }))
    .await;
    // 401: the password was checked. 429: refused by the limit; 503: shed while waiting for
    // a hashing thread (a loaded machine), also unchecked.
    let checked = answers.iter().filter(|a| a.status == 401).count();
    let refused = answers
        .iter()
        .filter(|a| a.status == 429 || a.status == 503)
        .count();
    assert_eq!(
        (checked, refused),
        (CHECKED, BURST - CHECKED),
        "statuses: {:?}\n{}",
        answers.iter().map(|a| a.status).collect::<Vec<_>>(),
        replicas
            .iter()
            .map(Instance::output)
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(postgres_tests), ignore = "needs TEST_DATABASE_URL")]
async fn concurrent_refreshes_over_replicas_yield_one_successor() {
    const REFRESHES: usize = 50;
    let db = database::fresh(database::Backend::Postgres).await;
    let replicas = start_together(&base_env(&database::url(&db))).await;
    let http = client::client();
    let created = client::register(&http, &pick(&replicas, 0), "rotator")
        .await
        .expect("register");
    assert_eq!(created.status, 201, "{:?}", created.body);
    let token = created.refresh_token().to_owned();

    let answers = join_all((0..REFRESHES).map(|i| {
        let (http, base, token) = (http.clone(), pick(&replicas, i), token.clone());
        async move {
            client::refresh(&http, &base, &token)
                .await
                .expect("refresh")
        }
    }))
    .await;
    // Inside the grace window every concurrent refresh is given the same successor.
    // Each answer signs the successor anew (its own `iat`), so successors are told apart by
    // their `jti`.
    let successors: HashSet<String> = answers
        .iter()
        .map(|answer| {
            assert_eq!(
                answer.status,
                200,
                "{:?}\n{}",
                answer.body,
                replicas
                    .iter()
                    .map(Instance::output)
                    .collect::<Vec<_>>()
                    .join("\n")
            );
            token_ids(answer.refresh_token()).jti
        })
        .collect();
    assert_eq!(successors.len(), 1, "the chain forked");
    let successor = answers[0].refresh_token();
    let ids = token_ids(successor);
    let stored = database::session(db.pool(), &ids.sid).await;
    assert_eq!(stored.current_jti_hash, database::jti_hash(&ids.jti));
    assert_eq!(stored.generation, 1, "rotated more than once");
    let next = client::refresh(&http, &pick(&replicas, 1), successor)
        .await
        .expect("refresh");
    assert_eq!(next.status, 200, "{:?}", next.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(postgres_tests), ignore = "needs TEST_DATABASE_URL")]
async fn a_deactivation_stops_the_tokens_on_every_replica_at_once() {
    let db = database::fresh(database::Backend::Postgres).await;
    let env = base_env(&database::url(&db));
    let replicas = start_together(&env).await;
    let http = client::client();
    let created = client::register(&http, &pick(&replicas, 0), "leaver")
        .await
        .expect("register");
    assert_eq!(created.status, 201, "{:?}", created.body);
    for replica in &replicas {
        let me = client::me(&http, &replica.url(""), created.access_token())
            .await
            .expect("me");
        assert_eq!(me.status, 200, "{:?}", me.body);
    }

    let (ok, output) = run_command(&env, &["admin", "deactivate", "leaver"]);
    assert!(ok, "admin deactivate failed: {output}");
    for replica in &replicas {
        let me = client::me(&http, &replica.url(""), created.access_token())
            .await
            .expect("me");
        assert_eq!(me.status, 401, "{:?}", me.body);
        let refresh = client::refresh(&http, &replica.url(""), created.refresh_token())
            .await
            .expect("refresh");
        assert_eq!(refresh.status, 401, "{:?}", refresh.body);
    }
}
