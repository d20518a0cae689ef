//! Event ingestion throughput: how many events per second a backend stores for one run that emits
//! log events in batches, as the run coordinator writes them. Used by the `ingest` example and by
//! the benchmarks in `bench/`.

use std::time::{Duration, Instant};

use crate::error::Result;
use crate::event::{Event, EventKind, LogLevel, SequencedEvent};
use crate::run::{new_run_id, now, NewRun, RunStatus};
use crate::storage::Storage;

/// What to ingest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IngestSpec {
    /// Log events in all.
    pub events: u64,
    /// Events per `append_events` call.
    pub batch: u64,
}

/// What an ingestion took.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IngestReport {
    /// Events stored.
    pub events: u64,
    /// Wall time of all `append_events` calls.
    pub elapsed: Duration,
}

impl IngestReport {
    /// Events per second.
    pub fn events_per_second(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }
}

/// Creates a run and appends `spec.events` `LOG` events to it in batches of `spec.batch`.
pub async fn ingest(storage: &dyn Storage, spec: IngestSpec) -> Result<IngestReport> {
    let run_id = new_run_id();
    storage
        .create_run(&NewRun {
            run_id: run_id.clone(),
            location: "bench".into(),
            job_name: "__ASSET_JOB".into(),
            selection: None,
            partition: None,
            config: serde_json::json!({}),
            tags: Default::default(),
            status: RunStatus::Started,
            created_at: now(),
        })
        .await?;
    let batch = spec.batch.max(1);
    let start = Instant::now();
    let mut seq = 1;
    while seq <= spec.events {
        let end = (seq + batch).min(spec.events + 1);
        let events: Vec<SequencedEvent> = (seq..end)
            .map(|n| SequencedEvent {
                seq: n as i64,
                event: Event {
                    timestamp: now(),
                    step_key: Some("bench_step".into()),
                    kind: EventKind::Log {
                        level: LogLevel::Info,
                        message: format!("log line {n} of the ingestion benchmark"),
                    },
                },
                dagster_json: None,
            })
            .collect();
        storage.append_events(&run_id, &events).await?;
        seq = end;
    }
    Ok(IngestReport {
        events: spec.events,
        elapsed: start.elapsed(),
    })
}
