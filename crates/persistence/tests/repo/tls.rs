//! PostgreSQL over TLS against this machine's server (`ssl = on`, Debian's snake-oil
//! certificate, which names only `localhost`). PostgreSQL only.

use auth_persistence::test_support::postgres_url;
use auth_persistence::{DbConfig, DbPool, RepoError, run_migrations};
use diesel::QueryableByName;
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl as _};

/// The certificate the server presents, trusted as its own root.
const SNAKEOIL: &str = "/etc/ssl/certs/ssl-cert-snakeoil.pem";

/// The test server's URL with `host` and a query string.
fn url_with(host: &str, query: &str) -> String {
    let base = postgres_url().expect("TEST_DATABASE_URL");
    let parsed = url::Url::parse(&base).unwrap();
    let mut changed = parsed.clone();
    changed.set_host(Some(host)).unwrap();
    changed.set_query(None);
    format!("{changed}?{query}")
}

fn unique_name(what: &str) -> String {
    format!("tls_{what}_{}", std::process::id())
}

#[derive(QueryableByName)]
struct Ssl {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    ssl: bool,
}

/// Whether each server session named `application_name` is encrypted.
async fn encrypted(application_name: &str) -> Vec<bool> {
    let mut observer = AsyncPgConnection::establish(&postgres_url().unwrap())
        .await
        .unwrap();
    let rows: Vec<Ssl> = diesel::sql_query(
        "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
         WHERE a.application_name = $1",
    )
    .bind::<diesel::sql_types::Text, _>(application_name)
    .load(&mut observer)
    .await
    .unwrap();
    rows.into_iter().map(|row| row.ssl).collect()
}

/// Opens `n` pooled connections at once (so the pool really holds `n`) and keeps the pool.
async fn pool_of(url: &str, n: usize) -> DbPool {
    let pool = DbPool::new(&DbConfig::new(url).unwrap()).unwrap();
    let pings = (0..n).map(|_| pool.ping());
    for outcome in futures::future::join_all(pings).await {
        outcome.unwrap();
    }
    pool
}

fn tls_error(err: RepoError) -> String {
    match err {
        RepoError::Tls(message) => message,
        other => panic!("expected a TLS error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(postgres_tests), ignore = "needs TEST_DATABASE_URL")]
async fn require_encrypts_every_connection_of_the_pool() {
    let name = unique_name("require");
    let url = url_with(
        "127.0.0.1",
        &format!("sslmode=require&application_name={name}"),
    );
    run_migrations(&DbConfig::new(&*url).unwrap())
        .await
        .unwrap();
    let pool = pool_of(&url, 3).await;
    let seen = encrypted(&name).await;
    assert!(seen.len() >= 2, "{seen:?}");
    assert!(seen.iter().all(|ssl| *ssl), "{seen:?}");
    pool.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(postgres_tests), ignore = "needs TEST_DATABASE_URL")]
async fn prefer_is_tls_on_this_server_and_disable_is_not() {
    let preferred = unique_name("prefer");
    let pool = pool_of(
        &url_with("127.0.0.1", &format!("application_name={preferred}")),
        2,
    )
    .await;
    let seen = encrypted(&preferred).await;
    assert!(!seen.is_empty() && seen.iter().all(|ssl| *ssl), "{seen:?}");
    pool.close();

    let plain = unique_name("disable");
    let url = url_with(
        "127.0.0.1",
        &format!("sslmode=disable&application_name={plain}"),
    );
    let pool = pool_of(&url, 2).await;
    let seen = encrypted(&plain).await;
    assert!(!seen.is_empty() && seen.iter().all(|ssl| !*ssl), "{seen:?}");
    pool.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(postgres_tests), ignore = "needs TEST_DATABASE_URL")]
async fn verify_full_checks_the_host_name_and_verify_ca_only_the_chain() {
    let query = format!("sslmode=verify-full&sslrootcert={SNAKEOIL}");
    // The certificate names localhost.
    let by_name = url_with("localhost", &query);
    run_migrations(&DbConfig::new(&*by_name).unwrap())
        .await
        .unwrap();
    pool_of(&by_name, 1).await.close();
    // Not 127.0.0.1: refused at start with one clear line, and by the pool too.
    let by_address = url_with("127.0.0.1", &query);
    let err = run_migrations(&DbConfig::new(&*by_address).unwrap())
        .await
        .unwrap_err();
    assert_eq!(
        tls_error(err),
        "database TLS: certificate not valid for name 127.0.0.1"
    );
    let pool = DbPool::new(&DbConfig::new(&*by_address).unwrap()).unwrap();
    let err = pool.ping().await.unwrap_err();
    assert!(
        format!("{err:?}").contains("database TLS: certificate not valid for name 127.0.0.1"),
        "{err:?}"
    );
    // verify-ca trusts the chain whatever the name.
    let chain_only = url_with(
        "127.0.0.1",
        &format!("sslmode=verify-ca&sslrootcert={SNAKEOIL}"),
    );
    run_migrations(&DbConfig::new(&*chain_only).unwrap())
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(postgres_tests), ignore = "needs TEST_DATABASE_URL")]
async fn a_root_the_certificate_does_not_chain_to_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let wrong = dir.path().join("wrong-root.pem");
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    std::fs::write(&wrong, params.self_signed(&key).unwrap().pem()).unwrap();
    for mode in ["verify-full", "verify-ca", "require"] {
        let url = url_with(
            "localhost",
            &format!("sslmode={mode}&sslrootcert={}", wrong.display()),
        );
        let err = run_migrations(&DbConfig::new(&*url).unwrap())
            .await
            .unwrap_err();
        assert_eq!(tls_error(err), "database TLS: unknown issuer", "{mode}");
    }
}
