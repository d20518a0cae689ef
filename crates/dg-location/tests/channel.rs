//! The agent's channel against unruly user code: values JSON has no word for (NaN, infinities,
//! lone surrogates) arrive as Dagster shows them; user code writing to file descriptor 3 (where
//! the host hands the channel over) cannot disturb it; an answer to a request that was never sent
//! is refused; a message over the size limit fails the request clearly.

mod common;

use std::time::Duration;

use dg_location::protocol::Response;
use dg_location::{Agent, LoadError};
use dg_python::{EnvOptions, PythonEnvironment};
use serde_json::json;

const TIMEOUT: Duration = Duration::from_secs(300);

fn start(dir: &std::path::Path, name: &str) -> (Agent, dg_location::LocationSpec) {
    let spec = common::project(dir, name);
    let env = PythonEnvironment::resolve(&spec.name, &spec.root, &EnvOptions::default()).unwrap();
    let agent = Agent::start(&spec.name, &env, None, TIMEOUT).unwrap();
    (agent, spec)
}

#[test]
fn nan_infinity_and_lone_surrogates_arrive_as_dagster_shows_them() {
    let dir = tempfile::tempdir().unwrap();
    let (mut agent, spec) = start(dir.path(), "odd_values");
    let snapshot = agent.load(&spec.load_target(), TIMEOUT).unwrap();
    let metadata = &snapshot.assets[0].metadata;
    let value = |key: &str| metadata[key].value.clone();
    // Python's `str()` of the float, as Dagster's UI shows it.
    assert_eq!(value("nan"), json!("nan"));
    assert_eq!(value("inf"), json!("inf"));
    assert_eq!(value("ninf"), json!("-inf"));
    assert_eq!(value("fraction"), json!(0.5));
    assert_eq!(metadata["float_value"].type_name, "FloatMetadataValue");
    assert_eq!(value("float_value"), json!("nan"));
    assert_eq!(value("nested"), json!({"values": ["nan", 1.5]}));
    // A lone surrogate becomes U+FFFD; a pair of surrogates is the character they encode.
    assert_eq!(value("lone_surrogate"), json!("a\u{FFFD}b"));
    assert_eq!(value("surrogate_pair"), json!("\u{1F600}"));
    agent.ping(TIMEOUT).unwrap();
    agent.shutdown(Duration::from_secs(5));
}

#[test]
fn user_code_writing_to_fd_3_cannot_disturb_the_channel() {
    let dir = tempfile::tempdir().unwrap();
    let (mut agent, spec) = start(dir.path(), "fd3_writer");
    let snapshot = agent.load(&spec.load_target(), TIMEOUT).unwrap();
    assert_eq!(snapshot.assets[0].key[..], ["fd3_asset"]);
    // The channel is still in step: every later request gets its own answer.
    for _ in 0..3 {
        agent.ping(TIMEOUT).unwrap();
    }
    let again = agent.load(&spec.load_target(), TIMEOUT).unwrap();
    assert_eq!(again.assets, snapshot.assets);
    let logs = agent.shutdown(Duration::from_secs(5));
    assert!(logs.stdout.iter().any(|l| l == "wrote to fd 3"), "{logs:?}");
}

#[test]
fn an_answer_to_a_request_never_sent_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (mut agent, spec) = start(dir.path(), "forged_answer");
    let pid = agent.info().pid;
    let err = match agent.load(&spec.load_target(), TIMEOUT) {
        Ok(snapshot) => panic!("took a forged answer: {snapshot:?}"),
        Err(err) => err,
    };
    assert!(matches!(err, LoadError::Protocol { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains(
            "`loaded` answers request 999, but the host waits for the answer to request 1"
        ),
        "{text}"
    );
    // An agent out of step is not trusted again: it was stopped.
    assert!(!alive(pid), "agent {pid} still runs");
    assert!(agent.ping(TIMEOUT).is_err());
}

#[test]
fn a_message_over_the_limit_fails_the_request_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let (mut agent, spec) = start(dir.path(), "odd_values");
    // The snapshot holds a description of 100,000 bytes.
    agent.set_max_message_bytes(64 * 1024);
    let pid = agent.info().pid;
    let err = agent.load(&spec.load_target(), TIMEOUT).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, LoadError::MessageTooLarge { .. }), "{text}");
    assert!(
        text.contains("code location `odd_values`: the agent sent a message of more than 64 KiB"),
        "{text}"
    );
    let hint = dg_core::Diagnostic::hint(&err).unwrap();
    assert!(hint.contains("very large"), "{hint}");
    assert!(!alive(pid), "agent {pid} still runs");
    // The limit is checked as the message arrives, so a normal one passes.
    let (mut agent, spec) = start(dir.path(), "fd3_writer");
    agent.set_max_message_bytes(64 * 1024);
    agent.load(&spec.load_target(), TIMEOUT).unwrap();
    assert!(matches!(
        agent
            .request_json(json!({"type": "ping"}), TIMEOUT)
            .unwrap(),
        Response::Pong
    ));
}

fn alive(pid: u32) -> bool {
    // A killed agent may linger as a zombie for a moment until it is reaped.
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    !stat.is_empty() && !stat.split(") ").nth(1).is_some_and(|r| r.starts_with('Z'))
}
