//! A cancellation signal: cloned to whoever may stop a run (the Ctrl-C handler of `dg launch`, the
//! UI of `dg dev`); the run's executor waits on it alongside the worker.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::Notify;

/// Shared flag plus wake-up: once canceled, stays canceled.
#[derive(Debug, Clone, Default)]
pub struct CancelToken {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    canceled: AtomicBool,
    notify: Notify,
}

impl CancelToken {
    /// A token that is not canceled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Requests cancellation (safe from any thread, any number of times).
    pub fn cancel(&self) {
        self.inner.canceled.store(true, Ordering::SeqCst);
        self.inner.notify.notify_waiters();
    }

    /// Whether cancellation was requested.
    pub fn is_canceled(&self) -> bool {
        self.inner.canceled.load(Ordering::SeqCst)
    }

    /// Resolves once cancellation is requested (at once if it already was).
    pub async fn canceled(&self) {
        loop {
            let notified = self.inner.notify.notified();
            if self.is_canceled() {
                return;
            }
            notified.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn wakes_waiters_and_stays_canceled() {
        let token = CancelToken::new();
        let waiter = tokio::spawn({
            let token = token.clone();
            async move { token.canceled().await }
        });
        assert!(!token.is_canceled());
        token.cancel();
        waiter.await.unwrap();
        assert!(token.is_canceled());
        // Already canceled: resolves immediately.
        token.canceled().await;
    }
}
