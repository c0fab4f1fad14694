//! The future of [`CircuitBreaker::call`], written as a state machine of its own: an
//! `async fn` would keep the wrapped future twice in its state (as an argument, and again
//! pinned while awaiting it), and every request's future carries that size through each
//! layer that wraps a database call.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use pin_project_lite::pin_project;

use crate::permit::{Permit, classify};
use crate::{CircuitBreaker, CircuitError};

pin_project! {
    /// A call through a [`CircuitBreaker`]: asks the breaker for a permit when first polled,
    /// then runs the wrapped future and counts its outcome. Dropped while the wrapped future
    /// runs, it counts nothing and gives a half-open trial slot back.
    #[must_use = "futures do nothing unless polled"]
    pub struct Call<'a, Fut, F> {
        pub(crate) breaker: &'a CircuitBreaker,
        #[pin]
        pub(crate) op: Fut,
        pub(crate) is_failure: F,
        pub(crate) permit: Option<Permit<'a>>,
        pub(crate) admitted: bool,
    }
}

impl<T, E, Fut, F> Future for Call<'_, Fut, F>
where
    Fut: Future<Output = Result<T, E>>,
    F: Fn(&E) -> bool,
{
    type Output = Result<T, CircuitError<E>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if !*this.admitted {
            *this.admitted = true;
            match this.breaker.acquire() {
                Ok(permit) => *this.permit = Some(permit),
                Err(refused) => return Poll::Ready(Err(refused)),
            }
        }
        let result = ready!(this.op.poll(cx));
        if let Some(permit) = this.permit.take() {
            permit.settle(classify(&result, &*this.is_failure));
        }
        Poll::Ready(result.map_err(CircuitError::Inner))
    }
}
