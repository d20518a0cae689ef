//! The agent as a long-lived process: it answers several requests over its private channel,
//! refuses unknown ones without dying, and exits on `shutdown`.

mod common;

use std::time::Duration;

use dg_location::protocol::{Request, Response};
use dg_location::Agent;
use dg_python::{EnvOptions, PythonEnvironment};

#[test]
fn one_agent_answers_many_requests() {
    let dir = tempfile::tempdir().unwrap();
    let spec = common::project(dir.path(), "prints");
    let env = PythonEnvironment::resolve(&spec.name, &spec.root, &EnvOptions::default()).unwrap();
    let timeout = Duration::from_secs(300);
    let mut agent = Agent::start(&spec.name, &env, None, timeout).unwrap();
    assert!(agent.info().python_version.starts_with("3.11"));
    assert!(agent.info().pid > 0);

    agent.ping(timeout).unwrap();
    let first = agent.load(&spec.load_target(), timeout).unwrap();
    agent.ping(timeout).unwrap();
    // A second load in the same agent reuses the imported modules and gives the same definitions.
    let second = agent.load(&spec.load_target(), timeout).unwrap();
    assert_eq!(first.assets, second.assets);

    // What user code printed is captured; the channel was never disturbed by it.
    let logs = agent.logs();
    assert!(logs
        .stdout
        .iter()
        .any(|l| l.contains("plain text on stdout")));

    // A request this agent does not know (as a newer host might send) is refused, not fatal.
    let answer = agent
        .request_json(
            serde_json::json!({"type": "no_such_request", "x": 1}),
            timeout,
        )
        .unwrap();
    match answer {
        Response::Unsupported { request, protocol } => {
            assert_eq!(request, "no_such_request");
            assert_eq!(protocol, 1);
        }
        other => panic!("expected `unsupported`, got `{}`", other.kind()),
    }
    assert!(matches!(
        agent.request(Request::Ping, timeout).unwrap(),
        Response::Pong
    ));

    let logs = agent.shutdown(Duration::from_secs(5));
    assert!(logs.stderr.iter().any(|l| l == "a warning on stderr"));
}
