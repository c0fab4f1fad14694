//! Counters of what the service decided: how sign-ins, registrations and refreshes ended and
//! which throttling layer refused an attempt. They go through the `metrics` facade; each
//! handle is registered once, when the service is built, in the recorder in force then (none
//! makes them no-ops), so counting on a request costs an atomic add and allocates nothing.

use metrics::Counter;

use crate::error::{Fault, LoginError, RefreshError, RegisterError};

/// How a sign-in ended (`auth_logins_total{outcome}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LoginOutcome {
    /// A session was opened.
    Success,
    /// Unknown user, wrong password or inactive account.
    Invalid,
    /// A throttling layer refused the attempt before its password was checked.
    Throttled,
    /// The account is locked (answered like a wrong password).
    Locked,
    /// Password hashing was saturated: refused at once.
    Shed,
    /// The infrastructure failed.
    Error,
}

impl LoginOutcome {
    const LABELS: [&'static str; 6] =
        ["success", "invalid", "throttled", "locked", "shed", "error"];
}

/// How a registration ended (`auth_registrations_total{outcome}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RegisterOutcome {
    /// The account was created.
    Created,
    /// The email or username is taken.
    Conflict,
    /// The password breaks a rule.
    Invalid,
    /// The client's address spent its budget.
    Throttled,
    /// Password hashing was saturated: refused at once.
    Shed,
    /// The infrastructure failed.
    Error,
}

impl RegisterOutcome {
    const LABELS: [&'static str; 6] = [
        "created",
        "conflict",
        "invalid",
        "throttled",
        "shed",
        "error",
    ];
}

/// How a refresh ended (`auth_refreshes_total{outcome}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RefreshOutcome {
    /// The token was rotated.
    Rotated,
    /// A just-rotated token came back inside the grace window and got the same successor.
    GraceReplay,
    /// A rotated token came back after the grace window: its session was revoked.
    ReuseRevoked,
    /// The token, or its idle session, is over.
    Expired,
    /// Garbage, tampered with, revoked, or its user is gone.
    Invalid,
    /// The client's address spent its budget.
    Throttled,
    /// The infrastructure failed.
    Error,
}

impl RefreshOutcome {
    const LABELS: [&'static str; 7] = [
        "rotated",
        "grace_replay",
        "reuse_revoked",
        "expired",
        "invalid",
        "throttled",
        "error",
    ];
}

/// Which throttling layer refused an attempt (`auth_throttle_hits_total{layer}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ThrottleLayer {
    /// The budget of one client address.
    Address,
    /// The budget of the address's network.
    Network,
    /// Failures from one address on one account.
    AddressAccount,
    /// The growing delay between attempts on one account.
    AccountDelay,
    /// The account's lock.
    AccountLock,
}

impl ThrottleLayer {
    const LABELS: [&'static str; 5] = [
        "address",
        "network",
        "address_account",
        "account_delay",
        "account_lock",
    ];
}

/// One counter per label value of `label`, in the order of `values`.
fn register<const N: usize>(
    name: &'static str,
    label: &'static str,
    values: [&'static str; N],
) -> [Counter; N] {
    values.map(|value| metrics::counter!(name, label => value))
}

/// The outcome counters of one service.
#[derive(Clone)]
pub(crate) struct Outcomes {
    logins: [Counter; LoginOutcome::LABELS.len()],
    registrations: [Counter; RegisterOutcome::LABELS.len()],
    refreshes: [Counter; RefreshOutcome::LABELS.len()],
}

impl std::fmt::Debug for Outcomes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outcomes").finish_non_exhaustive()
    }
}

impl Outcomes {
    /// Registers every counter, at zero.
    pub(crate) fn register() -> Self {
        Self {
            logins: register("auth_logins_total", "outcome", LoginOutcome::LABELS),
            registrations: register(
                "auth_registrations_total",
                "outcome",
                RegisterOutcome::LABELS,
            ),
            refreshes: register("auth_refreshes_total", "outcome", RefreshOutcome::LABELS),
        }
    }

    /// Counts a sign-in.
    pub(crate) fn login(&self, outcome: LoginOutcome) {
        self.logins[outcome as usize].increment(1);
    }

    /// Counts a registration.
    pub(crate) fn registration(&self, outcome: RegisterOutcome) {
        self.registrations[outcome as usize].increment(1);
    }

    /// Counts a refresh.
    pub(crate) fn refresh(&self, outcome: RefreshOutcome) {
        self.refreshes[outcome as usize].increment(1);
    }
}

/// The throttle's refusals, by layer.
#[derive(Clone)]
pub(crate) struct ThrottleHits([Counter; ThrottleLayer::LABELS.len()]);

impl std::fmt::Debug for ThrottleHits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThrottleHits").finish_non_exhaustive()
    }
}

impl ThrottleHits {
    /// Registers every counter, at zero.
    pub(crate) fn register() -> Self {
        Self(register(
            "auth_throttle_hits_total",
            "layer",
            ThrottleLayer::LABELS,
        ))
    }

    /// Counts a refusal by `layer`.
    pub(crate) fn hit(&self, layer: ThrottleLayer) {
        self.0[layer as usize].increment(1);
    }
}

impl LoginOutcome {
    /// The outcome a sign-in's result shows (a lock is known only inside the sign-in).
    pub(crate) fn of<T>(result: &Result<T, LoginError>) -> Self {
        match result {
            Ok(_) => Self::Success,
            Err(LoginError::InvalidCredentials) => Self::Invalid,
            Err(LoginError::RateLimited { .. }) => Self::Throttled,
            Err(LoginError::Fault(Fault::Overloaded)) => Self::Shed,
            Err(LoginError::Fault(_)) => Self::Error,
        }
    }
}

impl RegisterOutcome {
    /// The outcome a registration's result shows.
    pub(crate) fn of<T>(result: &Result<T, RegisterError>) -> Self {
        match result {
            Ok(_) => Self::Created,
            Err(RegisterError::UserExists) => Self::Conflict,
            Err(RegisterError::Invalid(_)) => Self::Invalid,
            Err(RegisterError::RateLimited { .. }) => Self::Throttled,
            Err(RegisterError::Fault(Fault::Overloaded)) => Self::Shed,
            Err(RegisterError::Fault(_)) => Self::Error,
        }
    }
}

impl RefreshOutcome {
    /// The outcome a refresh's result shows (grace replays and reuse are known only inside
    /// the refresh).
    pub(crate) fn of<T>(result: &Result<T, RefreshError>) -> Self {
        match result {
            Ok(_) => Self::Rotated,
            Err(RefreshError::TokenExpired) => Self::Expired,
            Err(RefreshError::InvalidToken) => Self::Invalid,
            Err(RefreshError::RateLimited { .. }) => Self::Throttled,
            Err(RefreshError::Fault(_)) => Self::Error,
        }
    }
}
