//! Behaviour of `CircuitBreaker` through its public API, in one test binary: the state
//! transitions on a manual clock, and half-open admission under concurrency, cancellation and
//! panics.

mod half_open;
mod metrics;
mod support;
mod transitions;
