//! Server-sent events: the live event log of a run (`/api/runs/{id}/stream`) and the host's
//! location and run status changes (`/api/stream`).
//!
//! A run stream reads the instance's storage (so runs started by `dg launch` in another process
//! stream too): it wakes when this host stores an event of the run, and polls otherwise (every
//! 500 ms, slowing down to every [`MAX_POLL`] while nothing new comes). Each event carries its
//! storage id as the SSE `id`, so a reconnecting `EventSource` resumes after the last event it saw
//! (`Last-Event-ID`); the stream sends `end` once the run has finished and every event was sent.
//! Captured output of a run of this host that storage did not store as an event (Dagster keeps it
//! in compute-log files, `GET /api/runs/{id}/logs`) is sent as it comes as `output` messages (no
//! `id`: they are not replayed on reconnection).
//!
//! Bounds: a stream ends as soon as its client goes away (not at its next event), when the server
//! stops, and for a run when the run ends (a run whose worker died is ended by the orphan monitor).
//! At most [`MAX_STREAMS`] streams are open at once; one more is answered 429 with `Retry-After`.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use dg_host::locations::HostEvent;
use futures_util::Stream;
use serde::Deserialize;
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};
use tokio_stream::wrappers::ReceiverStream;

use super::error::ApiError;
use super::runs::get_run;
use crate::state::AppState;

/// How often a run stream looks at storage when nothing woke it, at first.
const POLL: Duration = Duration::from_millis(500);
/// The longest wait between two looks while the run stays quiet.
pub const MAX_POLL: Duration = Duration::from_secs(4);
/// Live streams (run streams and host streams together) one server keeps open at once.
pub const MAX_STREAMS: usize = 64;
/// What a client over the limit is told to wait.
const STREAMS_RETRY_AFTER: Duration = Duration::from_secs(5);

/// The permits of open streams (one per stream, held by its task).
pub fn stream_slots() -> Arc<Semaphore> {
    Arc::new(Semaphore::new(MAX_STREAMS))
}

fn open_stream(state: &AppState) -> Result<OwnedSemaphorePermit, ApiError> {
    state.streams.clone().try_acquire_owned().map_err(|_| {
        ApiError::too_many(
            format!("this server already has {MAX_STREAMS} live streams open, its limit"),
            STREAMS_RETRY_AFTER,
        )
        .with_hint(Some(
            "Close other pages of this server, or poll `GET /api/runs/{id}/events?after=<cursor>` instead."
                .into(),
        ))
    })
}

/// Query of a run stream.
#[derive(Debug, Default, Deserialize)]
pub struct StreamQuery {
    /// Start after this storage id (the `Last-Event-ID` header wins).
    pub after: Option<i64>,
}

/// `GET /api/runs/{id}/stream`: the run's events as `event` messages, then `end`.
pub async fn run_stream(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<StreamQuery>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    get_run(&state, &id).await?;
    let permit = open_stream(&state)?;
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i64>().ok());
    let mut cursor = resume.or(query.after);
    let (tx, rx) = mpsc::channel::<Result<Event, Infallible>>(256);
    let mut wake = state.runs.subscribe();
    let mut output = state.runs.subscribe_output();
    let mut stopping = state.stopping.clone();
    tokio::spawn(async move {
        let _permit = permit;
        let mut poll = POLL;
        loop {
            // Read the status first: events stored before a terminal status are all visible after.
            let finished =
                matches!(state.storage.get_run(&id).await, Ok(Some(r)) if r.status.is_terminal());
            let Ok(events) = state.storage.events_after(&id, cursor, 500).await else {
                break;
            };
            let full_page = events.len() == 500;
            poll = if events.is_empty() {
                (poll * 2).min(MAX_POLL)
            } else {
                POLL
            };
            for record in events {
                cursor = Some(record.storage_id);
                let event = Event::default()
                    .event("event")
                    .id(record.storage_id.to_string())
                    .json_data(&record)
                    .unwrap_or_default();
                if tx.send(Ok(event)).await.is_err() {
                    return;
                }
            }
            if finished && !full_page {
                let run = state.storage.get_run(&id).await.ok().flatten();
                let data = serde_json::json!({ "status": run.map(|r| r.status.to_string()) });
                let _ = tx
                    .send(Ok(Event::default().event("end").data(data.to_string())))
                    .await;
                return;
            }
            if full_page {
                continue;
            }
            let deadline = tokio::time::sleep(poll);
            tokio::pin!(deadline);
            loop {
                tokio::select! {
                    _ = &mut deadline => break,
                    _ = stopping.changed() => return,
                    // The client went away: stop now, not at the run's next event.
                    _ = tx.closed() => return,
                    got = output.recv() => match got {
                        Ok(line) if line.run_id == id => {
                            let event = Event::default()
                                .event("output")
                                .json_data(&*line)
                                .unwrap_or_default();
                            if tx.send(Ok(event)).await.is_err() {
                                return;
                            }
                        }
                        Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                        Err(_) => { (&mut deadline).await; break }
                    },
                    got = wake.recv() => match got {
                        Ok(run) if run == id => break,
                        Ok(_) => continue,
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => break,
                        Err(_) => { (&mut deadline).await; break }
                    },
                }
            }
        }
    });
    Ok(Sse::new(ReceiverStream::new(rx)).keep_alive(KeepAlive::default()))
}

/// `GET /api/stream`: `locations` (every location, at once), then a `location` or `run` message
/// for each change.
pub async fn host_stream(
    State(state): State<AppState>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let permit = open_stream(&state)?;
    let (tx, rx) = mpsc::channel::<Result<Event, Infallible>>(256);
    let mut events = state.host.subscribe();
    let mut stopping = state.stopping.clone();
    let initial = Event::default()
        .event("locations")
        .json_data(state.host.locations())
        .unwrap_or_default();
    tokio::spawn(async move {
        let _permit = permit;
        if tx.send(Ok(initial)).await.is_err() {
            return;
        }
        loop {
            let event = tokio::select! {
                _ = stopping.changed() => return,
                _ = tx.closed() => return,
                got = events.recv() => match got {
                    Ok(event) => event,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(_) => return,
                },
            };
            let name = match &event {
                HostEvent::Location { .. } => "location",
                HostEvent::Run { .. } => "run",
            };
            let sse = Event::default()
                .event(name)
                .json_data(&event)
                .unwrap_or_default();
            if tx.send(Ok(sse)).await.is_err() {
                return;
            }
        }
    });
    Ok(Sse::new(ReceiverStream::new(rx)).keep_alive(KeepAlive::default()))
}
