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

/// Cancels `token` on the first `SIGINT` / `SIGTERM` / `SIGHUP` (Ctrl-C); a second one kills
/// every child process group at once and exits with `128 + signal`. Installed once per process.
///
/// Children lead their own process groups, so a terminal's Ctrl-C reaches only us: we decide how
/// the run ends (canceled, its worker stopped) instead of the worker dying mid-write.
pub fn cancel_on_signals(token: &CancelToken) -> std::io::Result<()> {
    use std::sync::OnceLock;
    static INSTALLED: OnceLock<()> = OnceLock::new();
    if INSTALLED.set(()).is_err() {
        return Ok(());
    }
    let mut signals =
        signal_hook::iterator::Signals::new([libc::SIGINT, libc::SIGTERM, libc::SIGHUP])?;
    let token = token.clone();
    std::thread::Builder::new()
        .name("dg-cancel".into())
        .spawn(move || {
            let mut seen = 0;
            for signal in signals.forever() {
                seen += 1;
                if seen == 1 {
                    token.cancel();
                } else {
                    dg_python::process::signal_all(libc::SIGKILL);
                    std::process::exit(128 + signal);
                }
            }
        })?;
    Ok(())
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
