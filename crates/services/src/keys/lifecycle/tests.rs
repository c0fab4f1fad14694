//! The lifecycle, step by step through two rotations, and revocation.

use auth_persistence::signing_keys::{KeyChange, KeyState, SigningKeyRecord};
use time::{Duration, OffsetDateTime};

use super::{Timing, maintain, revoke, rotate, signer};

const ALG: &str = "EdDSA";

fn record(kid: &str) -> SigningKeyRecord {
    SigningKeyRecord {
        kid: kid.into(),
        algorithm: ALG.into(),
        public_jwk: String::new(),
        private_key: String::new(),
        state: KeyState::Pending,
        created_at: OffsetDateTime::UNIX_EPOCH,
        activates_at: OffsetDateTime::UNIX_EPOCH,
        superseded_at: None,
        retire_after: None,
        retired_at: None,
    }
}

fn timing(now: OffsetDateTime) -> Timing {
    Timing {
        now,
        rotation_interval: Duration::days(30),
        publish_ahead: Duration::minutes(10),
        token_lifetime: Duration::days(7),
    }
}

/// Applies the changes `step` decides to `keys`, as the database would.
fn apply(
    keys: &mut Vec<SigningKeyRecord>,
    step: impl FnOnce(&[SigningKeyRecord]) -> Vec<KeyChange>,
) {
    let changes = step(keys);
    for change in changes {
        match change {
            KeyChange::Insert(key) => keys.push(key),
            KeyChange::Update {
                kid,
                state,
                superseded_at,
                retire_after,
                retired_at,
            } => {
                let key = keys.iter_mut().find(|k| k.kid == kid).unwrap();
                key.state = state;
                key.superseded_at = superseded_at;
                key.retire_after = retire_after;
                key.retired_at = retired_at;
            }
        }
    }
}

fn states(keys: &[SigningKeyRecord]) -> Vec<(&str, KeyState)> {
    keys.iter().map(|k| (k.kid.as_str(), k.state)).collect()
}

#[test]
fn the_first_key_signs_at_once_and_nothing_changes_until_rotation_is_near() {
    let t0 = OffsetDateTime::now_utc();
    let mut keys = Vec::new();
    apply(&mut keys, |keys| {
        maintain(keys, ALG, timing(t0), &record("a"))
    });
    assert_eq!(states(&keys), [("a", KeyState::Active)]);
    assert_eq!(keys[0].activates_at, t0);
    let quiet = t0 + Duration::days(29);
    assert!(maintain(&keys, ALG, timing(quiet), &record("b")).is_empty());
}

#[test]
fn a_key_is_published_ahead_signs_at_its_time_and_retires_after_its_tokens() {
    let t0 = OffsetDateTime::now_utc();
    let mut keys = Vec::new();
    apply(&mut keys, |keys| {
        maintain(keys, ALG, timing(t0), &record("a"))
    });

    // Ten minutes before the 30 days are up, "b" is published, due at the 30-day mark.
    let near = t0 + Duration::days(30) - Duration::minutes(10);
    apply(&mut keys, |keys| {
        maintain(keys, ALG, timing(near), &record("b"))
    });
    assert_eq!(
        states(&keys),
        [("a", KeyState::Active), ("b", KeyState::Pending)]
    );
    assert_eq!(keys[1].activates_at, t0 + Duration::days(30));
    assert_eq!(signer(&keys, ALG, near).unwrap().kid, "a");
    assert!(
        maintain(
            &keys,
            ALG,
            timing(near + Duration::minutes(5)),
            &record("x")
        )
        .is_empty()
    );

    // At its time "b" signs; "a" stays published for the longest token it may have signed.
    let switch = t0 + Duration::days(30);
    assert_eq!(signer(&keys, ALG, switch).unwrap().kid, "b");
    apply(&mut keys, |keys| {
        maintain(
            keys,
            ALG,
            timing(switch + Duration::seconds(30)),
            &record("x"),
        )
    });
    assert_eq!(
        states(&keys),
        [("a", KeyState::Retiring), ("b", KeyState::Active)]
    );
    assert_eq!(keys[0].superseded_at, Some(switch));
    assert_eq!(keys[0].retire_after, Some(switch + Duration::days(7)));

    let before = switch + Duration::days(7) - Duration::seconds(1);
    assert!(maintain(&keys, ALG, timing(before), &record("x")).is_empty());
    apply(&mut keys, |keys| {
        maintain(keys, ALG, timing(switch + Duration::days(7)), &record("x"))
    });
    assert_eq!(
        states(&keys),
        [("a", KeyState::Retired), ("b", KeyState::Active)]
    );
}

#[test]
fn a_manual_rotation_publishes_a_key_that_signs_after_the_publish_delay() {
    let t0 = OffsetDateTime::now_utc();
    let mut keys = Vec::new();
    apply(&mut keys, |keys| {
        maintain(keys, ALG, timing(t0), &record("a"))
    });
    let asked = t0 + Duration::days(3);
    apply(&mut keys, |keys| {
        rotate(keys, ALG, timing(asked), &record("b"))
    });
    assert_eq!(keys[1].state, KeyState::Pending);
    assert_eq!(keys[1].activates_at, asked + Duration::minutes(10));
    assert!(
        rotate(&keys, ALG, timing(asked), &record("c")).is_empty(),
        "already scheduled"
    );
    assert_eq!(
        signer(&keys, ALG, asked + Duration::minutes(9))
            .unwrap()
            .kid,
        "a"
    );
    assert_eq!(
        signer(&keys, ALG, asked + Duration::minutes(10))
            .unwrap()
            .kid,
        "b"
    );
}

#[test]
fn revoking_the_signing_key_replaces_it_at_once() {
    let t0 = OffsetDateTime::now_utc();
    let mut keys = Vec::new();
    apply(&mut keys, |keys| {
        maintain(keys, ALG, timing(t0), &record("a"))
    });
    let later = t0 + Duration::hours(1);
    apply(&mut keys, |keys| {
        revoke(keys, ALG, "a", later, &record("b"))
    });
    assert_eq!(
        states(&keys),
        [("a", KeyState::Revoked), ("b", KeyState::Active)]
    );
    assert_eq!(keys[0].retired_at, Some(later));
    assert_eq!(signer(&keys, ALG, later).unwrap().kid, "b");
    assert!(
        revoke(&keys, ALG, "a", later, &record("c")).is_empty(),
        "already revoked"
    );
    assert!(revoke(&keys, ALG, "nope", later, &record("c")).is_empty());
}

#[test]
fn keys_of_another_algorithm_are_ignored() {
    let t0 = OffsetDateTime::now_utc();
    let other = SigningKeyRecord {
        algorithm: "ES256".into(),
        state: KeyState::Active,
        activates_at: t0 - Duration::days(1),
        ..record("es")
    };
    let changes = maintain(&[other], ALG, timing(t0), &record("a"));
    assert!(
        matches!(&changes[..], [KeyChange::Insert(key)] if key.kid == "a" && key.state == KeyState::Active)
    );
}
