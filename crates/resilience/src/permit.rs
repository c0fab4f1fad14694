//! The drop guard around an admitted call, so a cancelled or panicking trial cannot wedge a
//! breaker in half-open.

use crate::CircuitBreaker;
use crate::machine::{Outcome, Ticket};

/// An admitted call in progress. Dropping it unsettled (cancellation, panic) frees a trial slot.
pub(crate) struct Permit<'a> {
    breaker: &'a CircuitBreaker,
    ticket: Option<Ticket>,
}

impl<'a> Permit<'a> {
    /// Holds `ticket` for a call `breaker` just admitted.
    pub(crate) fn new(breaker: &'a CircuitBreaker, ticket: Ticket) -> Self {
        Self {
            breaker,
            ticket: Some(ticket),
        }
    }

    /// Hands the call's outcome to the breaker.
    pub(crate) fn settle(mut self, outcome: Outcome) {
        if let Some(ticket) = self.ticket.take() {
            let transition = self
                .breaker
                .with_machine(|machine, now| machine.record(ticket, outcome, now));
            self.breaker.log(transition);
        }
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if let Some(ticket) = self.ticket.take()
            && self
                .breaker
                .with_machine(|machine, _| machine.release(ticket))
        {
            tracing::debug!(
                breaker = self.breaker.name(),
                "circuit breaker trial abandoned; slot freed"
            );
        }
    }
}

/// Sorts a result into what the breaker counts; errors `is_failure` rejects are successes.
pub(crate) fn classify<T, E>(result: &Result<T, E>, is_failure: impl Fn(&E) -> bool) -> Outcome {
    match result {
        Err(err) if is_failure(err) => Outcome::Failure,
        Ok(_) | Err(_) => Outcome::Success,
    }
}
