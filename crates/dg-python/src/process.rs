//! The one module that spawns child processes: `uv`, the agent, and later run workers and `dg dev`'s
//! children all start here.
//!
//! What it guarantees for every child:
//! - it leads its own process group, so a terminal's Ctrl-C reaches only the host, which decides
//!   (see [`install_signal_forwarding`]) and a child's own children are ended with it;
//! - the whole group is killed when the [`ManagedChild`] is dropped. (`PR_SET_PDEATHSIG` is not
//!   used: Linux sends it when the *thread* that spawned the child exits, which would kill a warm
//!   agent started from a short-lived worker thread. A child with a private channel sees EOF on it
//!   when the host dies, and the agent exits then.);
//! - stdout and stderr are inherited, discarded, or captured line by line (kept in a bounded
//!   buffer and, optionally, streamed to a callback as they arrive); a line longer than
//!   [`MAX_LINE_BYTES`] (a progress bar redrawn with `\r`, binary output) is cut into pieces of at
//!   most that size, so a child that never writes a newline cannot grow the host's memory;
//! - optionally, a private channel: one end of a Unix socket pair is passed to the child as an
//!   inherited file descriptor ([`CHANNEL_FD`]), never its stdin/stdout;
//! - it is tracked from the moment it is spawned: [`end_all`] (a host that exits) reaches every
//!   child still running, and refuses children spawned after it; a [`Scope`] (one load of a code
//!   location) reaches every child spawned on its thread, so a superseded load can be cancelled;
//! - waiting for it is bounded: once the child has exited, its output is read for at most
//!   [`OUTPUT_DRAIN`] more (a process it left behind in another group, such as a run worker forked
//!   by an agent or a daemon that called `setsid`, may hold the pipe for ever).

use std::cell::RefCell;
use std::collections::{HashSet, VecDeque};
use std::io::{self, BufRead, BufReader, Read};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The file descriptor number at which a child finds its end of the private channel.
pub const CHANNEL_FD: i32 = 3;

/// How many captured lines per stream are kept (the oldest are dropped first).
pub const MAX_CAPTURED_LINES: usize = 2000;

/// The longest captured line, in bytes; longer lines arrive as several pieces of at most this size.
pub const MAX_LINE_BYTES: usize = 16 * 1024;

/// How many bytes of captured lines per stream are kept (the oldest lines are dropped first).
pub const MAX_CAPTURED_BYTES: usize = 4 * 1024 * 1024;
/// How long [`ManagedChild::wait`] keeps reading a child's output after the child has exited. The
/// readers of a pipe that another process still holds are left to finish on their own.
pub const OUTPUT_DRAIN: Duration = Duration::from_secs(2);

/// Which output stream a captured line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// A callback that receives every captured line as it arrives.
pub type LineSink = Arc<dyn Fn(Stream, &str) + Send + Sync>;

/// What happens to a child's stdout or stderr.
#[derive(Clone, Default)]
pub enum Output {
    /// Shared with the host's own stream (uv's progress bars show as they would in a terminal).
    Inherit,
    /// Discarded.
    Null,
    /// Captured line by line into the child's buffer.
    #[default]
    Capture,
}

/// A child to start: the command plus what to do with its output.
pub struct ChildSpec {
    /// The command, with its arguments, working directory and environment already set.
    pub command: Command,
    pub stdout: Output,
    pub stderr: Output,
    /// Also receives every captured line as it arrives (for streaming logs).
    pub sink: Option<LineSink>,
    /// Open a private channel to the child at [`CHANNEL_FD`].
    pub channel: bool,
}

impl ChildSpec {
    /// A child whose output is captured, with no channel.
    pub fn new(command: Command) -> Self {
        Self {
            command,
            stdout: Output::Capture,
            stderr: Output::Capture,
            sink: None,
            channel: false,
        }
    }
}

/// Captured output of a child, newest lines last (at most [`MAX_CAPTURED_LINES`] and
/// [`MAX_CAPTURED_BYTES`] per stream).
#[derive(Debug, Default, Clone)]
pub struct Captured {
    pub stdout: VecDeque<String>,
    pub stderr: VecDeque<String>,
    bytes: [usize; 2],
}

impl Captured {
    fn push(&mut self, stream: Stream, line: String) {
        let (buf, bytes) = match stream {
            Stream::Stdout => (&mut self.stdout, &mut self.bytes[0]),
            Stream::Stderr => (&mut self.stderr, &mut self.bytes[1]),
        };
        *bytes += line.len();
        buf.push_back(line);
        while buf.len() > MAX_CAPTURED_LINES || (*bytes > MAX_CAPTURED_BYTES && buf.len() > 1) {
            if let Some(old) = buf.pop_front() {
                *bytes -= old.len();
            }
        }
    }

    /// The last `n` lines of stderr, joined.
    pub fn stderr_tail(&self, n: usize) -> String {
        let skip = self.stderr.len().saturating_sub(n);
        self.stderr
            .iter()
            .skip(skip)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// A running child in its own process group; the group is killed when this is dropped.
pub struct ManagedChild {
    child: Child,
    pgid: i32,
    captured: Arc<Mutex<Captured>>,
    readers: Vec<JoinHandle<()>>,
    channel: Option<UnixStream>,
    status: Option<ExitStatus>,
    /// The scope it was spawned in, if any (it leaves it when it ends).
    scope: Option<Scope>,
    /// Disconnects when every output reader has finished (each holds a sender and sends nothing).
    readers_done: mpsc::Receiver<()>,
}

impl ManagedChild {
    /// Starts the child described by `spec`.
    pub fn spawn(spec: ChildSpec) -> io::Result<Self> {
        let ChildSpec {
            mut command,
            stdout,
            stderr,
            sink,
            channel,
        } = spec;
        command.stdin(Stdio::null());
        command.stdout(stdio(&stdout));
        command.stderr(stdio(&stderr));
        let pair = if channel {
            Some(UnixStream::pair()?)
        } else {
            None
        };
        let child_fd = pair.as_ref().map(|(_, theirs)| theirs.as_raw_fd());
        // SAFETY: the closure runs between fork and exec and only calls async-signal-safe functions
        // (setpgid, dup2, fcntl) on values computed before the fork.
        #[allow(unsafe_code)]
        unsafe {
            command.pre_exec(move || prepare_child(child_fd));
        }
        let mut child = command.spawn()?;
        let pgid = child.id() as i32;
        let scope = Scope::current();
        if let Err(refused) = track(pgid, scope.as_ref()) {
            // The host is exiting, or this child's load was cancelled while it was being spawned.
            signal_group(pgid, libc::SIGKILL);
            let _ = child.wait();
            return Err(refused);
        }
        let captured = Arc::new(Mutex::new(Captured::default()));
        let mut readers = Vec::new();
        let (done, readers_done) = mpsc::channel();
        if let Some(out) = child.stdout.take() {
            let (captured, sink, done) = (captured.clone(), sink.clone(), done.clone());
            readers.push(reader(out, Stream::Stdout, captured, sink, done));
        }
        if let Some(err) = child.stderr.take() {
            readers.push(reader(err, Stream::Stderr, captured.clone(), sink, done));
        }
        // Our copy of the child's end must close, so that we see EOF when the child exits.
        let channel = pair.map(|(ours, theirs)| {
            drop(theirs);
            ours
        });
        Ok(Self {
            child,
            pgid,
            captured,
            readers,
            channel,
            status: None,
            scope,
            readers_done,
        })
    }

    /// The child's process id (also its process group id).
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The host's end of the private channel, if one was requested (can be taken once).
    pub fn take_channel(&mut self) -> Option<UnixStream> {
        self.channel.take()
    }

    /// Sends `signal` (a `libc::SIG*` number) to the child's whole process group.
    pub fn signal(&self, signal: i32) {
        if self.status.is_none() {
            signal_group(self.pgid, signal);
        }
    }

    /// Whether the child has exited; reaps it if so.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        if self.status.is_none() {
            self.status = self.child.try_wait()?;
            if self.status.is_some() {
                self.finished();
            }
        }
        Ok(self.status)
    }

    /// Waits at most `timeout` for the child to exit, returning the moment it does: the wait
    /// blocks on a pidfd of the child, which becomes readable when it exits.
    pub fn wait_timeout(&mut self, timeout: Duration) -> io::Result<Option<ExitStatus>> {
        if let Some(status) = self.try_wait()? {
            return Ok(Some(status));
        }
        let deadline = Instant::now() + timeout;
        let pidfd = pidfd(self.child.id());
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match &pidfd {
                Some(fd) => wait_readable(fd, left),
                // A kernel without pidfds (before Linux 5.3): look again every 10 ms.
                None => std::thread::sleep(left.min(Duration::from_millis(10))),
            }
            if let Some(status) = self.try_wait()? {
                return Ok(Some(status));
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
        }
    }

    /// Waits for the child to exit and for its output to be read: fully, unless a process in
    /// another group still holds the pipe [`OUTPUT_DRAIN`] after the child exited (then what was
    /// read so far is what [`ManagedChild::captured`] has, and the readers finish on their own).
    pub fn wait(&mut self) -> io::Result<ExitStatus> {
        let status = match self.status {
            Some(status) => status,
            None => {
                let status = self.child.wait()?;
                self.status = Some(status);
                self.finished();
                status
            }
        };
        let deadline = Instant::now() + OUTPUT_DRAIN;
        // Readers send nothing: this returns when the last one ends (the channel disconnects) or
        // at the deadline.
        let _ = self
            .readers_done
            .recv_timeout(deadline.saturating_duration_since(Instant::now()));
        for reader in self.readers.drain(..) {
            if reader.is_finished() {
                let _ = reader.join();
            }
        }
        Ok(status)
    }

    /// Asks the group to stop (`SIGTERM`), then kills it (`SIGKILL`) after `grace`; returns the
    /// exit status.
    pub fn terminate(&mut self, grace: Duration) -> io::Result<ExitStatus> {
        self.signal(libc::SIGTERM);
        if self.wait_timeout(grace)?.is_none() {
            self.kill();
        }
        self.wait()
    }

    /// Kills the whole group at once.
    pub fn kill(&mut self) {
        if self.status.is_none() {
            signal_group(self.pgid, libc::SIGKILL);
        }
    }

    /// A copy of the output captured so far.
    pub fn captured(&self) -> Captured {
        self.captured.lock().expect("capture lock").clone()
    }

    fn finished(&mut self) {
        // The leader is gone but members of its group may live on: end them too.
        signal_group(self.pgid, libc::SIGKILL);
        untrack(self.pgid, self.scope.as_ref());
    }
}

impl Drop for ManagedChild {
    fn drop(&mut self) {
        if self.status.is_none() {
            signal_group(self.pgid, libc::SIGKILL);
            let _ = self.child.wait();
            self.status = self.child.try_wait().ok().flatten();
            untrack(self.pgid, self.scope.as_ref());
        }
    }
}

/// Runs `spec` to completion and returns its status and captured output.
pub fn run(spec: ChildSpec) -> io::Result<(ExitStatus, Captured)> {
    let mut child = ManagedChild::spawn(spec)?;
    let status = child.wait()?;
    Ok((status, child.captured()))
}

/// Sends `signal` to the process group of every live child of this process.
pub fn signal_all(signal: i32) {
    for pgid in live_groups() {
        signal_group(pgid, signal);
    }
}

/// Ends every child of this process for good, for a host that is about to exit: from now on no
/// child can be spawned (spawning fails, and a child whose spawn was under way is killed), every
/// tracked group (see [`adopt_group`]) gets `SIGTERM`, and those not reaped within `grace` get
/// `SIGKILL`. Returns how many groups had to be killed.
pub fn end_all(grace: Duration) -> usize {
    let groups = {
        let mut registry = registry().lock().expect("registry lock");
        registry.closed = true;
        registry.groups.clone()
    };
    for &pgid in &groups {
        signal_group(pgid, libc::SIGTERM);
    }
    let deadline = Instant::now() + grace;
    let mut registry = registry().lock().expect("registry lock");
    loop {
        let left: Vec<i32> = registry
            .groups
            .iter()
            .copied()
            .filter(|g| groups.contains(g) && group_exists(*g))
            .collect();
        if left.is_empty() {
            return 0;
        }
        let now = Instant::now();
        if now >= deadline {
            drop(registry);
            for &pgid in &left {
                signal_group(pgid, libc::SIGKILL);
            }
            return left.len();
        }
        // Woken as soon as a child is reaped; an adopted group that ends stays registered until
        // its guard drops, so whether groups still exist is looked at again after `RECHECK`.
        registry = wait_for_change(registry, (deadline - now).min(RECHECK));
    }
}

/// How long, after a forwarded signal ended every child, the host gets to report it and exit on its
/// own before the forwarding thread exits for it. Only a host that does not react waits this long;
/// 0.5 s was too short on a loaded machine (the report was lost now and then).
const REPORT_WINDOW: Duration = Duration::from_secs(2);

/// How often [`end_all`] looks again at groups that ended without leaving the registry.
const RECHECK: Duration = Duration::from_millis(50);

/// Kills every tracked group at once and refuses new children (a second Ctrl-C).
pub fn kill_all() {
    let groups = {
        let mut registry = registry().lock().expect("registry lock");
        registry.closed = true;
        registry.groups.clone()
    };
    for pgid in groups {
        signal_group(pgid, libc::SIGKILL);
    }
}

/// Tracks a process group this process did not spawn itself but must end with its children (a
/// run worker forked by an agent, leading its own group) until the returned guard is dropped.
/// After [`end_all`] the group is killed at once instead.
pub fn adopt_group(pgid: u32) -> AdoptedGroup {
    let pgid = i32::try_from(pgid).unwrap_or(0);
    if pgid <= 1 {
        return AdoptedGroup { pgid: 0 };
    }
    if track(pgid, None).is_err() {
        signal_group(pgid, libc::SIGKILL);
        return AdoptedGroup { pgid: 0 };
    }
    AdoptedGroup { pgid }
}

/// A group tracked by [`adopt_group`]; dropping it stops tracking (the group is not signalled).
#[derive(Debug)]
pub struct AdoptedGroup {
    pgid: i32,
}

impl Drop for AdoptedGroup {
    fn drop(&mut self) {
        if self.pgid > 0 {
            untrack(self.pgid, None);
        }
    }
}

/// The children of one piece of work (one load of a code location): every child spawned on a
/// thread that has [entered](Scope::enter) the scope belongs to it until it ends, and
/// [`Scope::cancel`] kills them all and refuses new ones. Cheap to clone.
#[derive(Clone, Default)]
pub struct Scope {
    inner: Arc<Mutex<ScopeState>>,
}

#[derive(Default)]
struct ScopeState {
    groups: HashSet<i32>,
    canceled: bool,
    released: bool,
}

thread_local! {
    static CURRENT_SCOPE: RefCell<Option<Scope>> = const { RefCell::new(None) };
}

impl Scope {
    /// A scope with no children.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes this the scope of children spawned on the current thread until the guard is dropped.
    pub fn enter(&self) -> ScopeGuard {
        let previous = CURRENT_SCOPE.with(|c| c.replace(Some(self.clone())));
        ScopeGuard { previous }
    }

    /// Kills every child of the scope now (whole groups) and makes spawning in it fail, unless the
    /// scope was [released](Scope::release).
    pub fn cancel(&self) {
        let groups = {
            let mut state = self.inner.lock().expect("scope lock");
            if state.released {
                return;
            }
            state.canceled = true;
            std::mem::take(&mut state.groups)
        };
        for pgid in groups {
            signal_group(pgid, libc::SIGKILL);
        }
    }

    /// Whether [`Scope::cancel`] was called (and took effect).
    pub fn is_canceled(&self) -> bool {
        self.inner.lock().expect("scope lock").canceled
    }

    /// Hands the children over to whoever holds them: a later [`Scope::cancel`] does nothing.
    /// Returns false when the scope had already been cancelled.
    pub fn release(&self) -> bool {
        let mut state = self.inner.lock().expect("scope lock");
        if state.canceled {
            return false;
        }
        state.released = true;
        state.groups.clear();
        true
    }

    fn current() -> Option<Scope> {
        CURRENT_SCOPE.with(|c| c.borrow().clone())
    }
}

/// Restores the previous scope of the thread when dropped.
pub struct ScopeGuard {
    previous: Option<Scope>,
}

impl Drop for ScopeGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        CURRENT_SCOPE.with(|c| *c.borrow_mut() = previous);
    }
}

/// Sends `SIGINT` to every live child group, as a forwarded Ctrl-C (for hosts that handle the
/// signal themselves, see [`install_signal_forwarding`]).
pub fn interrupt_all() {
    signal_all(libc::SIGINT);
}

/// Installs (once) handlers for `SIGINT`, `SIGTERM` and `SIGHUP` that forward the signal to every
/// live child group, give them `grace` to end, kill what is left and exit with `128 + signal`
/// (when every child ended in time, after [`REPORT_WINDOW`], so the host can report it first).
///
/// Children run in their own process groups, so without this a Ctrl-C would end the host but leave
/// its children running. Long-running hosts (`dg dev`) that want their own shutdown can instead
/// handle the signals themselves and call [`signal_all`].
pub fn install_signal_forwarding(grace: Duration) -> io::Result<()> {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    if INSTALLED.get().is_some() {
        return Ok(());
    }
    let mut signals =
        signal_hook::iterator::Signals::new([libc::SIGINT, libc::SIGTERM, libc::SIGHUP])?;
    let _ = INSTALLED.set(());
    std::thread::Builder::new()
        .name("dg-signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                signal_all(signal);
                let deadline = Instant::now() + grace;
                let mut registry = registry().lock().expect("registry lock");
                while !registry.groups.is_empty() {
                    let now = Instant::now();
                    if now >= deadline {
                        break;
                    }
                    registry = wait_for_change(registry, deadline - now);
                }
                let ended = registry.groups.is_empty();
                drop(registry);
                signal_all(libc::SIGKILL);
                if ended {
                    // The host's own thread saw its child end too and is reporting the interruption
                    // (`uv sync` was interrupted, and what to do): let it finish and exit first.
                    std::thread::sleep(REPORT_WINDOW);
                }
                std::process::exit(128 + signal);
            }
        })?;
    Ok(())
}

/// Every live child group of this process, and whether new children are refused.
#[derive(Default)]
struct Registry {
    groups: HashSet<i32>,
    closed: bool,
}

fn registry() -> &'static Mutex<Registry> {
    static REGISTRY: OnceLock<Mutex<Registry>> = OnceLock::new();
    REGISTRY.get_or_init(Default::default)
}

/// Notified whenever a group leaves the registry.
fn registry_changed() -> &'static Condvar {
    static CHANGED: Condvar = Condvar::new();
    &CHANGED
}

/// Blocks until a group leaves the registry or `timeout` passes.
fn wait_for_change(
    registry: MutexGuard<'static, Registry>,
    timeout: Duration,
) -> MutexGuard<'static, Registry> {
    registry_changed()
        .wait_timeout(registry, timeout)
        .expect("registry lock")
        .0
}

/// A pidfd of process `pid` (Linux 5.3 and later), readable once the process exits.
fn pidfd(pid: u32) -> Option<std::os::fd::OwnedFd> {
    let pid = rustix::process::Pid::from_raw(i32::try_from(pid).ok()?)?;
    rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()).ok()
}

/// Blocks until `fd` is readable or `timeout` passes (a signal may end it early: callers look
/// again).
fn wait_readable(fd: &std::os::fd::OwnedFd, timeout: Duration) {
    use rustix::event::{poll, PollFd, PollFlags, Timespec};
    let timeout = Timespec::try_from(timeout).ok();
    let _ = poll(&mut [PollFd::new(fd, PollFlags::IN)], timeout.as_ref());
}

/// Records a new child group (and in its scope); refused once [`end_all`] ran or the scope was
/// cancelled. One lock order: registry, then scope.
fn track(pgid: i32, scope: Option<&Scope>) -> io::Result<()> {
    let mut registry = registry().lock().expect("registry lock");
    if registry.closed {
        return Err(io::Error::other(
            "dg is shutting down: no new process is started",
        ));
    }
    if let Some(scope) = scope {
        let mut state = scope.inner.lock().expect("scope lock");
        if state.canceled {
            return Err(io::Error::other(
                "this load was superseded by a newer one and cancelled",
            ));
        }
        if !state.released {
            state.groups.insert(pgid);
        }
    }
    registry.groups.insert(pgid);
    Ok(())
}

fn untrack(pgid: i32, scope: Option<&Scope>) {
    registry()
        .lock()
        .expect("registry lock")
        .groups
        .remove(&pgid);
    registry_changed().notify_all();
    if let Some(scope) = scope {
        scope.inner.lock().expect("scope lock").groups.remove(&pgid);
    }
}

fn live_groups() -> Vec<i32> {
    registry()
        .lock()
        .expect("registry lock")
        .groups
        .iter()
        .copied()
        .collect()
}

/// Whether any process is left in group `pgid` (a zombie leader still counts until reaped).
fn group_exists(pgid: i32) -> bool {
    // SAFETY: killpg with signal 0 only checks for existence and permission.
    #[allow(unsafe_code)]
    let found = unsafe { libc::killpg(pgid, 0) } == 0;
    found || io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// Sends `signal` to the process group of `pid` when `pid` leads it (a run worker, a fresh
/// agent), and to `pid` alone otherwise: a process still in its parent's group (a worker forked a
/// moment ago, before its `setpgid`) must not take the warm agent and its other runs with it.
pub fn signal_worker(pid: u32, signal: i32) {
    let Ok(pid) = i32::try_from(pid) else { return };
    if pid <= 1 {
        return;
    }
    // SAFETY: getpgid/getpgrp/kill have no memory-safety preconditions; stale ids yield ESRCH.
    #[allow(unsafe_code)]
    let leads_own_group = unsafe { libc::getpgid(pid) == pid && pid != libc::getpgrp() };
    if leads_own_group {
        signal_group(pid, signal);
    } else {
        // SAFETY: as above.
        #[allow(unsafe_code)]
        unsafe {
            libc::kill(pid, signal);
        }
    }
}

/// The one `killpg` of dg: sends `signal` to every process of group `pgid`.
fn signal_group(pgid: i32, signal: i32) {
    // SAFETY: killpg has no memory-safety preconditions; a stale group id only yields ESRCH.
    #[allow(unsafe_code)]
    unsafe {
        libc::killpg(pgid, signal);
    }
}

fn stdio(output: &Output) -> Stdio {
    match output {
        Output::Inherit => Stdio::inherit(),
        Output::Null => Stdio::null(),
        Output::Capture => Stdio::piped(),
    }
}

/// Runs in the child between fork and exec.
fn prepare_child(channel_fd: Option<i32>) -> io::Result<()> {
    #[allow(unsafe_code)]
    // SAFETY: only async-signal-safe libc calls on plain integers.
    unsafe {
        if libc::setpgid(0, 0) != 0 {
            return Err(io::Error::last_os_error());
        }
        if let Some(fd) = channel_fd {
            if fd == CHANNEL_FD {
                // dup2 onto itself keeps FD_CLOEXEC set: clear it explicitly.
                libc::fcntl(fd, libc::F_SETFD, 0);
            } else if libc::dup2(fd, CHANNEL_FD) < 0 {
                return Err(io::Error::last_os_error());
            }
        }
    }
    Ok(())
}

fn reader<R: Read + Send + 'static>(
    source: R,
    stream: Stream,
    captured: Arc<Mutex<Captured>>,
    sink: Option<LineSink>,
    done: mpsc::Sender<()>,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        // Dropped when the thread ends, which is what the waiting side sees.
        let _done = done;
        let mut lines = LineReader::new(BufReader::new(source), MAX_LINE_BYTES);
        while let Ok(Some(bytes)) = lines.next_line() {
            let text = String::from_utf8_lossy(bytes);
            let line = text.trim_end_matches(['\n', '\r']);
            if let Some(sink) = &sink {
                sink(stream, line);
            }
            captured
                .lock()
                .expect("capture lock")
                .push(stream, line.to_owned());
        }
    })
}

/// Reads lines of at most `max` bytes: a longer line is returned in pieces, each cut before a
/// UTF-8 character rather than inside it, so memory stays bounded whatever the child writes.
pub struct LineReader<R> {
    source: R,
    max: usize,
    line: Vec<u8>,
    /// The start of a character cut off the previous piece, carried to the next one.
    carry: Vec<u8>,
}

impl<R: BufRead> LineReader<R> {
    /// Reads from `source`, returning lines (or pieces) of at most `max` bytes (at least 4).
    pub fn new(source: R, max: usize) -> Self {
        Self {
            source,
            max: max.max(4),
            line: Vec::new(),
            carry: Vec::new(),
        }
    }

    /// The next line with its newline (a piece of a long line has none); `None` at end of input.
    pub fn next_line(&mut self) -> io::Result<Option<&[u8]>> {
        self.line.clear();
        self.line.append(&mut self.carry);
        loop {
            let available = match self.source.fill_buf() {
                Ok(available) => available,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if available.is_empty() {
                return Ok((!self.line.is_empty()).then_some(self.line.as_slice()));
            }
            let room = self.max - self.line.len();
            let window = &available[..available.len().min(room)];
            if let Some(at) = window.iter().position(|b| *b == b'\n') {
                self.line.extend_from_slice(&window[..=at]);
                self.source.consume(at + 1);
                return Ok(Some(self.line.as_slice()));
            }
            let taken = window.len();
            self.line.extend_from_slice(window);
            self.source.consume(taken);
            if self.line.len() == self.max {
                let cut = utf8_cut(&self.line);
                self.carry.extend_from_slice(&self.line[cut..]);
                self.line.truncate(cut);
                return Ok(Some(self.line.as_slice()));
            }
        }
    }
}

/// Where to cut `bytes` so that no UTF-8 character is split: before a trailing incomplete
/// character, else at the end.
fn utf8_cut(bytes: &[u8]) -> usize {
    let len = bytes.len();
    for back in 1..=3.min(len) {
        let byte = bytes[len - back];
        if byte & 0xC0 == 0x80 {
            continue; // a continuation byte: look further back for the lead byte
        }
        let width = match byte {
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF7 => 4,
            _ => 1,
        };
        return if width > back { len - back } else { len };
    }
    len
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut cmd = Command::new("sh");
        cmd.arg("-c").arg(script);
        cmd
    }

    fn pieces(input: &[u8], max: usize) -> Vec<Vec<u8>> {
        let mut reader = LineReader::new(BufReader::with_capacity(7, input), max);
        let mut out = Vec::new();
        while let Some(line) = reader.next_line().unwrap() {
            out.push(line.to_vec());
        }
        out
    }

    #[test]
    fn long_lines_are_cut_into_pieces_without_splitting_characters() {
        assert_eq!(pieces(b"ab\ncd", 8), [b"ab\n".to_vec(), b"cd".to_vec()]);
        assert_eq!(
            pieces(b"0123456789\n", 4),
            [&b"0123"[..], b"4567", b"89\n"].map(<[u8]>::to_vec)
        );
        // `é` is two bytes: never cut between them.
        let text = "aé\rbé\r".repeat(1000);
        let out = pieces(text.as_bytes(), 16);
        assert!(out
            .iter()
            .all(|p| p.len() <= 16 && std::str::from_utf8(p).is_ok()));
        assert_eq!(out.concat(), text.as_bytes());
        // Invalid UTF-8 still comes through, in bounded pieces.
        let out = pieces(&[0xFF; 50], 16);
        assert!(out.iter().all(|p| p.len() <= 16));
        assert_eq!(out.concat().len(), 50);
    }

    #[test]
    fn output_without_newlines_is_captured_in_bounded_pieces() {
        // 8 MiB of a progress bar redrawn with `\r` and never a newline.
        let script = "i=0; while [ $i -lt 128 ]; do head -c 65536 /dev/zero | tr '\\0' '#'; printf '\\r'; i=$((i+1)); done";
        let (status, out) = run(ChildSpec::new(sh(script))).unwrap();
        assert!(status.success());
        assert!(out.stdout.iter().all(|l| l.len() <= MAX_LINE_BYTES));
        let kept: usize = out.stdout.iter().map(String::len).sum();
        assert!(kept <= MAX_CAPTURED_BYTES, "{kept} bytes kept");
        assert!(
            out.stdout.back().unwrap().ends_with('#'),
            "the newest output is kept"
        );
    }

    #[test]
    fn captures_both_streams_and_exit_status() {
        let (status, out) = run(ChildSpec::new(sh("echo out; echo err >&2; exit 3"))).unwrap();
        assert_eq!(status.code(), Some(3));
        assert_eq!(out.stdout, ["out"]);
        assert_eq!(out.stderr, ["err"]);
    }

    #[test]
    fn channel_is_at_fd_3_and_not_stdout() {
        let mut spec = ChildSpec::new(sh("echo private >&3; echo public"));
        spec.channel = true;
        let mut child = ManagedChild::spawn(spec).unwrap();
        let mut channel = child.take_channel().unwrap();
        let mut text = String::new();
        channel.read_to_string(&mut text).unwrap();
        child.wait().unwrap();
        assert_eq!(text, "private\n");
        assert_eq!(child.captured().stdout, ["public"]);
    }

    #[test]
    fn dropping_kills_the_whole_group() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("grandchild.pid");
        let script = format!("sleep 300 & echo $! > {}; wait", pid_file.display());
        let child = ManagedChild::spawn(ChildSpec::new(sh(&script))).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !pid_file.exists() || std::fs::read_to_string(&pid_file).unwrap().is_empty() {
            assert!(Instant::now() < deadline, "grandchild never started");
            std::thread::sleep(Duration::from_millis(10));
        }
        let grandchild: i32 = std::fs::read_to_string(&pid_file)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        drop(child);
        // The grandchild was re-parented and is reaped by init; poll until it is gone.
        let gone = (0..500).any(|_| {
            std::thread::sleep(Duration::from_millis(10));
            // SAFETY: signal 0 only checks for existence.
            #[allow(unsafe_code)]
            let alive = unsafe { libc::kill(grandchild, 0) } == 0;
            !alive || is_zombie(grandchild)
        });
        assert!(gone, "grandchild {grandchild} survived the drop");
    }

    fn is_zombie(pid: i32) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| s.split(") ").nth(1).is_some_and(|r| r.starts_with('Z')))
            .unwrap_or(true)
    }

    /// Waits (bounded) until `file` holds a pid.
    fn read_pid(file: &std::path::Path) -> i32 {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(pid) = std::fs::read_to_string(file)
                .ok()
                .and_then(|t| t.trim().parse().ok())
            {
                return pid;
            }
            assert!(Instant::now() < deadline, "no pid in {}", file.display());
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn a_detached_grandchild_holding_the_output_does_not_hang_the_wait() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("detached.pid");
        // The grandchild leads a session of its own (out of reach of the group kill) and keeps the
        // child's stdout and stderr open for five minutes.
        let script = format!(
            "setsid sleep 300 & echo $! > {}; echo done",
            pid_file.display()
        );
        let mut child = ManagedChild::spawn(ChildSpec::new(sh(&script))).unwrap();
        let detached = read_pid(&pid_file);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let status = child.terminate(Duration::from_secs(5));
            let _ = tx.send((status.map(|s| s.code()), child.captured()));
        });
        let outcome = rx.recv_timeout(Duration::from_secs(120));
        // SAFETY: plain kill of a pid this test started.
        #[allow(unsafe_code)]
        unsafe {
            libc::kill(detached, libc::SIGKILL);
        }
        let (status, captured) = outcome.expect("the wait returned while the pipe is still held");
        assert_eq!(status.unwrap(), Some(0));
        assert_eq!(captured.stdout, ["done"], "output before the exit is kept");
    }

    #[test]
    fn a_cancelled_scope_kills_its_children_and_refuses_new_ones() {
        let scope = Scope::new();
        let spawned = {
            let _in = scope.enter();
            ManagedChild::spawn(ChildSpec::new(sh("sleep 300"))).unwrap()
        };
        // Outside the scope: not its child.
        let mut outside = ManagedChild::spawn(ChildSpec::new(sh("sleep 300"))).unwrap();
        let mut spawned = spawned;
        scope.cancel();
        let status = spawned.wait_timeout(Duration::from_secs(60)).unwrap();
        assert!(
            status.is_some_and(|s| !s.success()),
            "the scope's child ended"
        );
        assert!(
            outside.try_wait().unwrap().is_none(),
            "others are untouched"
        );
        outside.kill();
        let _in = scope.enter();
        let refused = ManagedChild::spawn(ChildSpec::new(sh("sleep 300")));
        assert!(refused.is_err(), "a cancelled scope spawns nothing");
    }

    #[test]
    fn a_released_scope_leaves_its_children_alone() {
        let scope = Scope::new();
        let mut child = {
            let _in = scope.enter();
            ManagedChild::spawn(ChildSpec::new(sh("sleep 300"))).unwrap()
        };
        assert!(scope.release());
        scope.cancel();
        assert!(!scope.is_canceled());
        assert!(child.try_wait().unwrap().is_none(), "still running");
        child.kill();
    }

    #[test]
    fn terminate_stops_a_child_that_ignores_nothing() {
        let mut child = ManagedChild::spawn(ChildSpec::new(sh("sleep 300"))).unwrap();
        assert!(child.try_wait().unwrap().is_none());
        let status = child.terminate(Duration::from_secs(5)).unwrap();
        assert!(!status.success());
    }
}
