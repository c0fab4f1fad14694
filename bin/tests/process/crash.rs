//! Crash durability: SIGKILL during a registration, sign-in and refresh load, a restart on
//! the same database, then every answer the clients got must still hold.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use auth_persistence::DbPool;
use auth_persistence::users::normalize;

use crate::client::{self, PASSWORD, token_ids};
use crate::database::{self, Backend};
use crate::harness::{Instance, base_env, set};

/// Client tasks sending requests at once.
const CLIENTS: usize = 8;
/// How long the load runs before the kill.
const LOAD: Duration = Duration::from_secs(2);
/// The longest the load may run while waiting for enough answers.
const MAX_LOAD: Duration = Duration::from_secs(15);

/// What the clients were told: accounts answered 201 and, per refresh chain, the refresh
/// tokens answered 200 in order.
#[derive(Debug, Default)]
struct Ledger {
    accounts: Vec<String>,
    chains: HashMap<String, Vec<String>>,
}

impl Ledger {
    /// Enough answers to make the checks meaningful: several accounts and a rotated chain.
    fn enough(&self) -> bool {
        self.accounts.len() >= CLIENTS && self.chains.values().any(|tokens| tokens.len() > 2)
    }

    fn chain(&mut self, refresh_token: &str) -> String {
        let sid = token_ids(refresh_token).sid;
        self.chains
            .entry(sid.clone())
            .or_default()
            .push(refresh_token.to_owned());
        sid
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    survives_sigkill_under_load(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(postgres_tests), ignore = "needs TEST_DATABASE_URL")]
async fn postgres() {
    survives_sigkill_under_load(Backend::Postgres).await;
}

async fn survives_sigkill_under_load(backend: Backend) {
    let db = database::fresh(backend).await;
    let mut env = base_env(&database::url(&db));
    // A token the clients saw rotated just before the kill is still inside the grace
    // window after the restart.
    set(&mut env, "REFRESH_REUSE_GRACE_SECONDS", "120");
    let mut first = Instance::start_ready(&env).await;

    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..CLIENTS)
        .map(|worker| tokio::spawn(load(worker, first.url(""), ledger.clone(), stop.clone())))
        .collect();
    // At least `LOAD`, and until there is something to check (a loaded machine is slow).
    tokio::time::sleep(LOAD).await;
    let deadline = tokio::time::Instant::now() + MAX_LOAD;
    while !ledger.lock().expect("ledger").enough() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    first.kill();
    stop.store(true, Ordering::SeqCst);
    for worker in workers {
        worker.await.expect("client task");
    }
    let ledger = Arc::into_inner(ledger)
        .expect("clients done")
        .into_inner()
        .expect("ledger");
    assert!(ledger.enough(), "too little load to test: {ledger:?}");

    let second = Instance::start_ready(&env).await;
    let http = client::client();
    let base = second.url("");
    let probe = client::register(&http, &base, "probe")
        .await
        .expect("probe");
    assert_eq!(probe.status, 201, "{:?}", probe.body);
    let probe_id = probe.body["user"]["id"].as_i64().expect("user id");

    let users = database::users_below(db.pool(), probe_id).await;
    identities_are_unique(&users, &ledger.accounts);
    audit_matches_sessions(db.pool(), &users).await;
    chains_did_not_fork(db.pool(), &http, &base, &ledger.chains).await;
    for name in &ledger.accounts {
        let login = client::login(&http, &base, name, PASSWORD)
            .await
            .expect("login");
        assert_eq!(login.status, 200, "{name} cannot sign in: {:?}", login.body);
    }
}

/// One client: registers accounts, signs in to them and refreshes its own chains in turn,
/// recording every success, until told to stop. Transport errors (the kill) are expected.
async fn load(worker: usize, base: String, ledger: Arc<Mutex<Ledger>>, stop: Arc<AtomicBool>) {
    let http = client::client();
    let mut names: Vec<String> = Vec::new();
    let mut chains: Vec<(String, String)> = Vec::new();
    let mut round = 0_usize;
    while !stop.load(Ordering::SeqCst) {
        round += 1;
        let name = format!("c{worker}n{round}");
        if let Ok(answer) = client::register(&http, &base, &name).await
            && answer.status == 201
        {
            let mut ledger = ledger.lock().expect("ledger");
            ledger.accounts.push(name.clone());
            let sid = ledger.chain(answer.refresh_token());
            chains.push((sid, answer.refresh_token().to_owned()));
            names.push(name);
        }
        if let Some(name) = names.get(round % names.len().max(1))
            && let Ok(answer) = client::login(&http, &base, name, PASSWORD).await
            && answer.status == 200
        {
            let sid = ledger.lock().expect("ledger").chain(answer.refresh_token());
            chains.push((sid, answer.refresh_token().to_owned()));
        }
        for (sid, token) in &mut chains {
            if let Ok(answer) = client::refresh(&http, &base, token).await
                && answer.status == 200
            {
                answer.refresh_token().clone_into(token);
                let mut ledger = ledger.lock().expect("ledger");
                ledger
                    .chains
                    .get_mut(sid.as_str())
                    .expect("known chain")
                    .push(token.clone());
            }
        }
    }
}

/// No email or username is held twice (without regard to case), and every account that was
/// answered 201 exists.
fn identities_are_unique(users: &[auth_persistence::users::UserRecord], accounts: &[String]) {
    let mut emails = HashSet::new();
    let mut names = HashSet::new();
    for user in users {
        assert!(
            emails.insert(normalize(&user.email)),
            "email held twice: {}",
            user.email
        );
        assert!(
            names.insert(normalize(&user.username)),
            "username held twice: {}",
            user.username
        );
    }
    for name in accounts {
        assert!(
            names.contains(&normalize(name)),
            "{name} was answered 201 but is missing"
        );
    }
}

/// State changes and their audit rows were written together: each user has its
/// registration session plus one session per `login_succeeded` row, and no row names a
/// user that does not exist.
async fn audit_matches_sessions(pool: &DbPool, users: &[auth_persistence::users::UserRecord]) {
    let rows = database::audit_rows(pool).await;
    let logins = database::events_per_user(&rows, "login_succeeded");
    let ids: HashSet<i64> = users.iter().map(|user| user.id).collect();
    for user_id in logins.keys() {
        assert!(
            ids.contains(user_id),
            "audit row for a missing user {user_id}"
        );
    }
    for user in users {
        let sessions = database::live_sessions(pool, user.id).await;
        let expected = 1 + logins.get(&user.id).copied().unwrap_or(0);
        assert_eq!(
            sessions.len(),
            expected,
            "user {}: sessions and login_succeeded rows disagree",
            user.id
        );
    }
}

/// For each chain, of the refresh tokens answered 200 only the last two can still be
/// current or within the grace window, the last one refreshes, and what it yields is the
/// chain's one stored successor.
async fn chains_did_not_fork(
    pool: &DbPool,
    http: &reqwest::Client,
    base: &str,
    chains: &HashMap<String, Vec<String>>,
) {
    for (sid, tokens) in chains {
        let stored = database::session(pool, sid).await;
        assert!(stored.revoked_at.is_none(), "chain {sid} was revoked");
        let live = [
            Some(stored.current_jti_hash.as_str()),
            stored.previous_jti_hash.as_deref(),
        ];
        let hashes: Vec<String> = tokens
            .iter()
            .map(|token| database::jti_hash(&token_ids(token).jti))
            .collect();
        let last = hashes.last().expect("a chain has a token");
        assert!(
            live.contains(&Some(last.as_str())),
            "chain {sid}: the last token answered is neither current nor previous"
        );
        for stale in hashes.iter().rev().skip(2) {
            assert!(
                !live.contains(&Some(stale.as_str())),
                "chain {sid}: an old token is still live"
            );
        }
        let next = client::refresh(http, base, tokens.last().expect("token"))
            .await
            .expect("refresh");
        assert_eq!(next.status, 200, "chain {sid}: {:?}", next.body);
        let after = database::session(pool, sid).await;
        assert_eq!(
            database::jti_hash(&token_ids(next.refresh_token()).jti),
            after.current_jti_hash,
            "chain {sid}: the successor given is not the stored one"
        );
    }
}
