//! What a run worker writes on its run socket (see `dg-location/agent/dg_run.py`): JSON objects,
//! one per line, tagged by `t`. Events carry the worker's sequence number (1, 2, 3, ...) and the
//! event in dg-storage's own serialised form, so the host stores them without translating.

use dg_storage::Event;
use serde::Deserialize;

/// One message from a run worker.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum WorkerMessage {
    /// First message: the worker's process id (also its process group).
    Hello {
        /// Process id.
        pid: u32,
    },
    /// An event of the run.
    Event {
        /// The worker's number for it within the run, from 1.
        seq: i64,
        /// The event.
        event: Event,
    },
    /// Last message: the run is over.
    End {
        /// Whether Dagster reported success.
        success: bool,
    },
}

impl WorkerMessage {
    /// Parses one line.
    pub fn parse(line: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dg_storage::EventKind;

    #[test]
    fn parses_the_three_kinds() {
        assert!(matches!(
            WorkerMessage::parse(r#"{"t":"hello","pid":12}"#).unwrap(),
            WorkerMessage::Hello { pid: 12 }
        ));
        let msg = WorkerMessage::parse(
            r#"{"t":"event","seq":3,"event":{"timestamp":1.5,"step_key":"a","type":"STDOUT","text":"hi"}}"#,
        )
        .unwrap();
        let WorkerMessage::Event { seq, event } = msg else {
            panic!("not an event")
        };
        assert_eq!(seq, 3);
        assert_eq!(event.step_key.as_deref(), Some("a"));
        assert_eq!(event.kind, EventKind::Stdout { text: "hi".into() });
        assert!(matches!(
            WorkerMessage::parse(r#"{"t":"end","success":false}"#).unwrap(),
            WorkerMessage::End { success: false }
        ));
    }

    #[test]
    fn null_optional_fields_are_accepted() {
        let msg = WorkerMessage::parse(
            r#"{"t":"event","seq":1,"event":{"timestamp":1.0,"step_key":null,"type":"ASSET_MATERIALIZATION","asset_key":["a"],"partition":null,"metadata":{}}}"#,
        )
        .unwrap();
        assert!(matches!(msg, WorkerMessage::Event { .. }));
    }
}
