//! The lifecycle of signing keys, decided from the stored keys and the time alone.
//!
//! A key is published (`pending`) at least twice the JWKS `max-age` before it signs, so every
//! verifier has it in cache by then; it is `active` until the next key's activation; it is
//! then `retiring`, still published, until every token it signed (refresh tokens included)
//! has expired; then `retired`. A `revoked` key is withdrawn at once.

use auth_persistence::signing_keys::{KeyChange, KeyState, SigningKeyRecord};
use time::{Duration, OffsetDateTime};

/// What the lifecycle needs to know besides the keys.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timing {
    pub(crate) now: OffsetDateTime,
    /// How long a key signs before the next one takes over.
    pub(crate) rotation_interval: Duration,
    /// How long a new key is published before it signs: twice the JWKS `max-age`.
    pub(crate) publish_ahead: Duration,
    /// The longest a token lives (the refresh lifetime), plus slack for clock skew.
    pub(crate) token_lifetime: Duration,
}

/// The keys of `algorithm` that are published, oldest activation first.
fn published<'k>(
    keys: &'k [SigningKeyRecord],
    algorithm: &str,
) -> impl Iterator<Item = &'k SigningKeyRecord> {
    keys.iter()
        .filter(move |key| key.algorithm == algorithm && key.state.is_published())
}

/// The key that signs at `now`: the newest pending or active key whose activation has come.
pub(crate) fn signer<'a>(
    keys: &'a [SigningKeyRecord],
    algorithm: &str,
    now: OffsetDateTime,
) -> Option<&'a SigningKeyRecord> {
    published(keys, algorithm)
        .filter(|key| key.state != KeyState::Retiring && key.activates_at <= now)
        .max_by_key(|key| key.activates_at)
}

/// The changes that bring the keys of `algorithm` up to date at `timing.now`. `fresh` is a
/// new key, with its times still to set, used when one is needed.
pub(crate) fn maintain(
    keys: &[SigningKeyRecord],
    algorithm: &str,
    timing: Timing,
    fresh: &SigningKeyRecord,
) -> Vec<KeyChange> {
    let now = timing.now;
    let mut changes = Vec::new();
    let Some(signer) = signer(keys, algorithm, now) else {
        // Nothing can sign (first start, or the signing key was revoked): sign at once.
        changes.push(insert(fresh, KeyState::Active, now));
        return changes;
    };
    for key in published(keys, algorithm) {
        if key.kid == signer.kid {
            if key.state == KeyState::Pending {
                changes.push(update(key, KeyState::Active, None, None, None));
            }
        } else if key.state != KeyState::Retiring && key.activates_at <= now {
            // Superseded by the signer: keep it while its tokens may live.
            let superseded = signer.activates_at;
            let retire_after = superseded + timing.token_lifetime;
            changes.push(update(
                key,
                KeyState::Retiring,
                Some(superseded),
                Some(retire_after),
                None,
            ));
        } else if key.state == KeyState::Retiring && key.retire_after.is_some_and(|at| at <= now) {
            changes.push(update(
                key,
                KeyState::Retired,
                key.superseded_at,
                key.retire_after,
                Some(now),
            ));
        }
    }
    let scheduled = published(keys, algorithm).any(|key| key.activates_at > now);
    let due = signer.activates_at + timing.rotation_interval;
    if !scheduled && now >= due - timing.publish_ahead {
        let activates_at = due.max(now + timing.publish_ahead);
        changes.push(insert(fresh, KeyState::Pending, activates_at));
    }
    changes
}

/// The changes of a rotation asked for now: a new key published at once, signing after
/// `publish_ahead`. Nothing when one is already scheduled.
pub(crate) fn rotate(
    keys: &[SigningKeyRecord],
    algorithm: &str,
    timing: Timing,
    fresh: &SigningKeyRecord,
) -> Vec<KeyChange> {
    let scheduled = published(keys, algorithm).any(|key| key.activates_at > timing.now);
    if scheduled {
        return Vec::new();
    }
    vec![insert(
        fresh,
        KeyState::Pending,
        timing.now + timing.publish_ahead,
    )]
}

/// The changes that revoke `kid` at once; when it was the signing key, a new key signs at
/// once (verifiers fetch it when they first meet its `kid`).
pub(crate) fn revoke(
    keys: &[SigningKeyRecord],
    algorithm: &str,
    kid: &str,
    now: OffsetDateTime,
    fresh: &SigningKeyRecord,
) -> Vec<KeyChange> {
    let Some(key) = keys
        .iter()
        .find(|key| key.kid == kid && key.state.is_published())
    else {
        return Vec::new();
    };
    let was_signer = signer(keys, algorithm, now).is_some_and(|s| s.kid == kid);
    let mut changes = vec![update(
        key,
        KeyState::Revoked,
        key.superseded_at,
        key.retire_after,
        Some(now),
    )];
    if was_signer {
        changes.push(insert(fresh, KeyState::Active, now));
    }
    changes
}

fn insert(fresh: &SigningKeyRecord, state: KeyState, activates_at: OffsetDateTime) -> KeyChange {
    KeyChange::Insert(SigningKeyRecord {
        state,
        activates_at,
        ..fresh.clone()
    })
}

fn update(
    key: &SigningKeyRecord,
    state: KeyState,
    superseded_at: Option<OffsetDateTime>,
    retire_after: Option<OffsetDateTime>,
    retired_at: Option<OffsetDateTime>,
) -> KeyChange {
    KeyChange::Update {
        kid: key.kid.clone(),
        state,
        superseded_at,
        retire_after,
        retired_at,
    }
}

#[cfg(test)]
mod tests;
