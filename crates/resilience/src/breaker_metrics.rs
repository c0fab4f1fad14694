//! A breaker's state and its transitions as metrics, through the `metrics` facade: the
//! handles are registered once, when the breaker is built (with whatever recorder is in force
//! then; none makes them no-ops), so a transition costs an atomic add.
//!
//! - `auth_circuit_breaker_state{breaker}`: 0 closed, 1 half-open, 2 open.
//! - `auth_circuit_breaker_transitions_total{breaker, from, to}`.

use metrics::{Counter, Gauge};

use crate::CircuitState;
use crate::machine::Transition;

/// The state gauge's name.
const STATE: &str = "auth_circuit_breaker_state";
/// The transition counter's name.
const TRANSITIONS: &str = "auth_circuit_breaker_transitions_total";

/// The moves a breaker can make, as `(from, to)`.
const MOVES: [(CircuitState, CircuitState); 5] = [
    (CircuitState::Closed, CircuitState::Open),
    (CircuitState::Open, CircuitState::HalfOpen),
    (CircuitState::HalfOpen, CircuitState::Open),
    (CircuitState::HalfOpen, CircuitState::Closed),
    (CircuitState::Open, CircuitState::Closed),
];

/// The gauge's value for `state`.
fn state_value(state: CircuitState) -> f64 {
    match state {
        CircuitState::Closed => 0.0,
        CircuitState::HalfOpen => 1.0,
        CircuitState::Open => 2.0,
    }
}

/// The label value of `state`.
fn label(state: CircuitState) -> &'static str {
    match state {
        CircuitState::Closed => "closed",
        CircuitState::HalfOpen => "half_open",
        CircuitState::Open => "open",
    }
}

/// The handles of one breaker.
pub(crate) struct BreakerMetrics {
    state: Gauge,
    /// One counter per entry of [`MOVES`], in that order.
    moves: [Counter; MOVES.len()],
}

impl std::fmt::Debug for BreakerMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BreakerMetrics").finish_non_exhaustive()
    }
}

impl BreakerMetrics {
    /// Registers the handles of the breaker `name`, which starts closed.
    pub(crate) fn register(name: &str) -> Self {
        let state = metrics::gauge!(STATE, "breaker" => name.to_owned());
        state.set(state_value(CircuitState::Closed));
        let moves = MOVES.map(|(from, to)| {
            metrics::counter!(
                TRANSITIONS,
                "breaker" => name.to_owned(),
                "from" => label(from),
                "to" => label(to),
            )
        });
        Self { state, moves }
    }

    /// Records a transition of the state machine; `from` is the state before it (used by a
    /// reset, which can start from open or half-open).
    pub(crate) fn record(&self, transition: Transition, from: CircuitState) {
        let (from, to) = match transition {
            Transition::Opened { .. } => (CircuitState::Closed, CircuitState::Open),
            Transition::HalfOpened => (CircuitState::Open, CircuitState::HalfOpen),
            Transition::Reopened { .. } => (CircuitState::HalfOpen, CircuitState::Open),
            Transition::Closed => (CircuitState::HalfOpen, CircuitState::Closed),
            Transition::Reset => (from, CircuitState::Closed),
        };
        self.state.set(state_value(to));
        if let Some(index) = MOVES.iter().position(|step| *step == (from, to)) {
            self.moves[index].increment(1);
        }
    }
}
