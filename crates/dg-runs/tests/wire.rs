//! The run wire's two halves agree: every message the agent's `wire.py` builds (its `samples()`,
//! one of every message kind and of every event type, run from the package as the binary embeds
//! it) parses with the Rust types of `dg_runs::wire` and converts to a stored event; an event's
//! `dagster` text, when the samples have one, is Dagster's `EventLogEntry` that storage reads.

use std::collections::BTreeSet;
use std::process::Command;

use dg_runs::wire::{check_version, WireEventKind, WorkerMessage};

#[test]
fn the_agents_messages_parse_with_the_rust_types() {
    let root = tempfile::tempdir().unwrap();
    let package = dg_location::package::install_in(root.path()).unwrap();
    let out = Command::new(dg_test::python::shared_python())
        .args(["-m", "_dg_agent.wire"])
        .env("PYTHONPATH", &package)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let messages: Vec<WorkerMessage> = lines
        .iter()
        .map(|line| {
            let text = line.to_string();
            WorkerMessage::parse(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
        })
        .collect();
    let Some(WorkerMessage::Hello { v, pid: 4242 }) = messages.first() else {
        panic!("the samples start with a hello: {:?}", messages.first())
    };
    // Versions 1 and 2 are both accepted while the agent moves to version 2.
    check_version(*v).unwrap();
    assert_eq!(messages.last(), Some(&WorkerMessage::End { success: true }));
    let mut seen = BTreeSet::new();
    for (n, message) in messages.iter().enumerate() {
        if let WorkerMessage::Event {
            seq,
            event,
            dagster,
        } = message
        {
            assert_eq!(*seq, n as i64, "numbered from 1 after the hello");
            if let Some(text) = dagster {
                let entry = dg_storage::dagster::serdes::parse_dagster_entry(text)
                    .unwrap_or_else(|e| panic!("{e}: {text}"));
                assert_eq!(entry.event.step_key, event.step_key, "{text}");
            }
            seen.insert(event.kind.type_name());
            let stored = dg_storage::Event::from(event.clone());
            assert_eq!(stored.kind.event_type(), event.kind.type_name());
            assert_eq!(stored.step_key, event.step_key);
        }
    }
    let all: BTreeSet<&str> = WireEventKind::TYPES.iter().copied().collect();
    assert_eq!(seen, all, "samples() covers every event type");
}
