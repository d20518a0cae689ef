//! Headless Chromium for the browser tests: the one place that knows which binary to start
//! (`DG_TEST_CHROMIUM`, default `chromium` on `PATH`), with which flags (a fresh profile, no GPU,
//! no network services of its own) and what to say when it is missing.

use std::io;
use std::process::Command;

use dg_config::env::DG_TEST_CHROMIUM;

/// A `chromium --headless` command with a fresh profile, ready for a test's own arguments.
pub struct HeadlessChromium {
    /// The command: add the mode (`--dump-dom`, `--remote-debugging-port=0`) and the URL.
    pub command: Command,
    /// The binary started.
    pub program: String,
    /// The profile folder, removed when this is dropped (keep it while the browser runs).
    pub profile: tempfile::TempDir,
}

impl HeadlessChromium {
    /// The command for a window of `width` x `height` pixels.
    pub fn new(width: u32, height: u32) -> Self {
        let program = std::env::var(DG_TEST_CHROMIUM).unwrap_or_else(|_| "chromium".to_owned());
        let profile = tempfile::tempdir().expect("create a browser profile folder");
        let mut command = Command::new(&program);
        command
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ])
            .arg(format!("--window-size={width},{height}"))
            .arg(format!("--user-data-dir={}", profile.path().display()));
        Self {
            command,
            program,
            profile,
        }
    }

    /// Fails the test with the fix when the browser cannot be started (never a skip).
    pub fn start_failed(&self, error: io::Error) -> ! {
        panic!(
            "cannot start `{}` ({error}); install Chromium (`apt-get install chromium`) or set \
             `{DG_TEST_CHROMIUM}` to its path",
            self.program
        )
    }
}
