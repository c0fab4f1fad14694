//! The cache against a stand-in server: how many fetches, and what keeps verifying.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::config::max_age;
use super::http::{Fetch, FetchFailed, FetchFuture, Fetched};
use crate::testing::{KEY_1, KEY_2, jwks};
use crate::{KeySet, RemoteConfig, RemoteJwks, Verifier, VerifyError};

/// A JWKS server in memory: what it answers, and how often it was asked.
/// What the stand-in server answers: a JWKS body and its `max-age`, or nothing (down).
type Answer = Option<(String, Option<Duration>)>;

#[derive(Debug, Clone, Default)]
struct Server {
    answer: Arc<Mutex<Answer>>,
    fetches: Arc<AtomicUsize>,
}

impl Server {
    fn serve(&self, keys: &[serde_json::Value], max_age: u64) {
        *self.answer.lock().unwrap() = Some((jwks(keys), Some(Duration::from_secs(max_age))));
    }

    fn go_down(&self) {
        *self.answer.lock().unwrap() = None;
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

impl Fetch for Server {
    fn fetch(&self) -> FetchFuture<'_> {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        let answer = self.answer.lock().unwrap().clone();
        Box::pin(async move {
            tokio::time::sleep(Duration::from_millis(10)).await;
            let (body, max_age) = answer.ok_or(FetchFailed)?;
            let keys = KeySet::from_jwks(&body).map_err(|_| FetchFailed)?;
            Ok(Fetched { keys, max_age })
        })
    }
}

fn verifier(server: &Server) -> Verifier {
    let config = RemoteConfig {
        min_ttl: Duration::from_secs(1),
        min_refetch_interval: Duration::from_secs(30),
        refresh_ahead: Duration::from_secs(10),
        ..RemoteConfig::default()
    };
    Verifier::remote(RemoteJwks::from_fetcher(Box::new(server.clone()), config))
}

/// Lets spawned background refreshes run to completion.
async fn settle() {
    tokio::time::sleep(Duration::from_secs(1)).await;
}

#[tokio::test(start_paused = true)]
async fn the_set_is_fetched_once_and_then_served_from_the_cache() {
    let server = Server::default();
    server.serve(&[KEY_1.jwk("k1")], 300);
    let verifier = verifier(&server);
    for _ in 0..5 {
        verifier.verify(&KEY_1.sign("k1", "access")).await.unwrap();
    }
    assert_eq!(server.fetches(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_flood_of_unknown_kids_costs_one_fetch() {
    let server = Server::default();
    server.serve(&[KEY_1.jwk("k1")], 300);
    let verifier = verifier(&server);
    verifier.verify(&KEY_1.sign("k1", "access")).await.unwrap();
    let forged: Vec<String> = (0..200)
        .map(|i| KEY_2.sign(&format!("forged-{i}"), "access"))
        .collect();
    let results =
        futures::future::join_all(forged.iter().map(|token| verifier.verify(token))).await;
    assert!(results.iter().all(|r| *r == Err(VerifyError::UnknownKey)));
    assert_eq!(server.fetches(), 2, "the initial fetch and one refetch");
    // The same forged ids again, later but inside the interval: no fetch.
    tokio::time::advance(Duration::from_secs(10)).await;
    assert_eq!(
        verifier.verify(&forged[0]).await.unwrap_err(),
        VerifyError::UnknownKey
    );
    assert_eq!(server.fetches(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_new_kid_is_fetched_when_the_service_rotates() {
    let server = Server::default();
    server.serve(&[KEY_1.jwk("k1")], 300);
    let verifier = verifier(&server);
    verifier.verify(&KEY_1.sign("k1", "access")).await.unwrap();
    server.serve(&[KEY_1.jwk("k1"), KEY_2.jwk("k2")], 300);
    verifier.verify(&KEY_2.sign("k2", "access")).await.unwrap();
    verifier.verify(&KEY_1.sign("k1", "access")).await.unwrap();
    assert_eq!(server.fetches(), 2);
}

#[tokio::test(start_paused = true)]
async fn stale_keys_keep_verifying_while_the_server_is_down() {
    let server = Server::default();
    server.serve(&[KEY_1.jwk("k1")], 60);
    let verifier = verifier(&server);
    verifier.verify(&KEY_1.sign("k1", "access")).await.unwrap();
    server.go_down();
    tokio::time::advance(Duration::from_secs(600)).await;
    verifier.verify(&KEY_1.sign("k1", "access")).await.unwrap();
    settle().await;
    assert_eq!(server.fetches(), 2, "a background refresh was tried");
    verifier.verify(&KEY_1.sign("k1", "access")).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn the_set_is_refreshed_in_the_background_before_it_expires() {
    let server = Server::default();
    server.serve(&[KEY_1.jwk("k1")], 60);
    let verifier = verifier(&server);
    verifier.verify(&KEY_1.sign("k1", "access")).await.unwrap();
    tokio::time::advance(Duration::from_secs(45)).await;
    verifier.verify(&KEY_1.sign("k1", "access")).await.unwrap();
    assert_eq!(server.fetches(), 1, "still fresh");
    tokio::time::advance(Duration::from_secs(6)).await;
    verifier.verify(&KEY_1.sign("k1", "access")).await.unwrap();
    settle().await;
    assert_eq!(server.fetches(), 2, "refreshed 10 s before expiry");
}

#[tokio::test(start_paused = true)]
async fn keys_retired_by_the_service_are_refused() {
    let server = Server::default();
    server.serve(&[KEY_1.jwk("k1"), KEY_2.jwk("k2")], 60);
    let verifier = verifier(&server);
    verifier.verify(&KEY_1.sign("k1", "access")).await.unwrap();
    server.serve(&[KEY_2.jwk("k2")], 60);
    tokio::time::advance(Duration::from_secs(55)).await;
    verifier.verify(&KEY_2.sign("k2", "access")).await.unwrap();
    settle().await;
    assert_eq!(
        verifier
            .verify(&KEY_1.sign("k1", "access"))
            .await
            .unwrap_err(),
        VerifyError::UnknownKey
    );
}

#[tokio::test(start_paused = true)]
async fn a_server_that_never_answered_makes_tokens_fail_without_hammering_it() {
    let server = Server::default();
    let verifier = verifier(&server);
    for _ in 0..10 {
        let err = verifier
            .verify(&KEY_1.sign("k1", "access"))
            .await
            .unwrap_err();
        assert_eq!(err, VerifyError::KeysUnavailable);
    }
    assert_eq!(server.fetches(), 1);
    server.serve(&[KEY_1.jwk("k1")], 60);
    tokio::time::advance(Duration::from_secs(31)).await;
    verifier.verify(&KEY_1.sign("k1", "access")).await.unwrap();
}

#[test]
fn cache_control_max_age_is_read_and_clamped() {
    assert_eq!(
        max_age("public, max-age=300"),
        Some(Duration::from_secs(300))
    );
    assert_eq!(max_age("no-store"), Some(Duration::ZERO));
    assert_eq!(max_age("public"), None);
    let config = RemoteConfig::default();
    assert_eq!(config.ttl(Some(Duration::ZERO)), config.min_ttl);
    assert_eq!(
        config.ttl(Some(Duration::from_secs(86_400 * 30))),
        config.max_ttl
    );
    assert_eq!(config.ttl(None), Duration::from_secs(300));
}

#[test]
fn only_http_urls_are_accepted() {
    assert!(RemoteJwks::new("ftp://example.com/jwks.json").is_err());
    assert!(RemoteJwks::new("not a url").is_err());
    assert!(RemoteJwks::new("https://example.com/.well-known/jwks.json").is_ok());
}
