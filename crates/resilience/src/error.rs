//! The error a breaker-wrapped call returns.

use std::time::Duration;

/// Why a call through a [`CircuitBreaker`](crate::CircuitBreaker) did not succeed.
///
/// Either the breaker refused to run it ([`Open`](Self::Open)), or it ran and returned its own
/// error ([`Inner`](Self::Inner)). A transport typically answers `Open` with "unavailable,
/// retry after [`retry_after`](Self::retry_after)".
///
/// ```
/// use std::time::Duration;
/// use auth_resilience::CircuitError;
///
/// let open: CircuitError<std::io::Error> = CircuitError::Open { retry_after: Duration::from_secs(4) };
/// assert!(open.is_open());
/// assert_eq!(open.retry_after(), Some(Duration::from_secs(4)));
/// ```
#[derive(Debug, thiserror::Error)]
pub enum CircuitError<E> {
    /// The circuit is open (or half-open with its trial running); the call was not made.
    #[error("circuit open")]
    Open {
        /// Time until the breaker may let a call through again.
        retry_after: Duration,
    },
    /// The call ran and failed with its own error.
    #[error(transparent)]
    Inner(E),
}

impl<E> CircuitError<E> {
    /// Whether the breaker refused the call.
    pub fn is_open(&self) -> bool {
        matches!(self, Self::Open { .. })
    }

    /// The wait suggested by a refusal; `None` for an inner error.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Open { retry_after } => Some(*retry_after),
            Self::Inner(_) => None,
        }
    }

    /// The call's own error, if it ran.
    pub fn inner(&self) -> Option<&E> {
        match self {
            Self::Open { .. } => None,
            Self::Inner(err) => Some(err),
        }
    }

    /// The call's own error by value, if it ran.
    pub fn into_inner(self) -> Option<E> {
        match self {
            Self::Open { .. } => None,
            Self::Inner(err) => Some(err),
        }
    }

    /// Converts the inner error, keeping a refusal as it is.
    pub fn map_inner<F>(self, f: impl FnOnce(E) -> F) -> CircuitError<F> {
        match self {
            Self::Open { retry_after } => CircuitError::Open { retry_after },
            Self::Inner(err) => CircuitError::Inner(f(err)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::CircuitError;

    #[derive(Debug, PartialEq)]
    struct Duplicate;

    #[test]
    fn helpers_tell_a_refusal_from_an_inner_error() {
        let open = CircuitError::<Duplicate>::Open {
            retry_after: Duration::from_secs(1),
        };
        assert!(open.is_open());
        assert_eq!(open.inner(), None);
        assert_eq!(open.into_inner(), None);

        let inner = CircuitError::Inner(Duplicate);
        assert!(!inner.is_open());
        assert_eq!(inner.retry_after(), None);
        assert_eq!(inner.inner(), Some(&Duplicate));
        assert_eq!(inner.map_inner(|_| 7).into_inner(), Some(7));
    }

    #[test]
    fn display_hides_nothing_of_the_inner_error_and_names_a_refusal() {
        let inner = CircuitError::Inner(std::io::Error::other("pool timed out"));
        assert_eq!(inner.to_string(), "pool timed out");
        let open = CircuitError::<std::io::Error>::Open {
            retry_after: Duration::ZERO,
        };
        assert_eq!(open.to_string(), "circuit open");
    }
}
