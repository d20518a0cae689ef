//! The OpenAPI 3.1 document of the JSON API, written by hand next to the handlers (a test checks
//! that every route is described and that the document validates with a generic tool).
//!
//! Hand-written rather than generated (utoipa): the API is small, the document stays readable in
//! one place, and the server avoids a proc-macro dependency for it.

use axum::Json;
use serde_json::{json, Value};

/// `GET /api/openapi.json`.
pub async fn document() -> Json<Value> {
    Json(spec())
}

fn ok(description: &str, schema: Value) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": schema } } })
}

fn error(description: &str) -> Value {
    ok(description, json!({ "$ref": "#/components/schemas/Error" }))
}

/// 429: over one of the server's limits, with `Retry-After`.
fn limited(description: &str) -> Value {
    let mut answer = error(description);
    answer["headers"] = json!({ "Retry-After": {
        "description": "Seconds to wait before asking again.", "schema": { "type": "integer", "minimum": 1 } } });
    answer
}

fn param(name: &str, location: &str, description: &str, schema: Value) -> Value {
    json!({ "name": name, "in": location, "required": location == "path", "description": description, "schema": schema })
}

/// A storage id: a signed 64-bit integer.
fn int64() -> Value {
    json!({ "type": "integer", "format": "int64", "minimum": i64::MIN, "maximum": i64::MAX })
}

fn string() -> Value {
    json!({ "type": "string" })
}

/// A server-sent event stream whose events are named `names` and carry JSON `data` of `schema`
/// (in OpenAPI 3.1 the `schema` of `text/event-stream` describes one event).
fn sse(description: &str, names: &[&str], data: Value) -> Value {
    json!({ "description": description, "content": { "text/event-stream": { "schema": {
        "type": "object", "required": ["event", "data"],
        "properties": {
            "event": { "type": "string", "enum": names },
            "data": { "type": "string", "contentMediaType": "application/json", "contentSchema": data },
            "id": { "type": "string" },
            "retry": { "type": "integer" } } } } } })
}

/// `response` with links to `(operationId, parameter, expression)`.
fn with_links(mut response: Value, links: &[(&str, &str, &str)]) -> Value {
    let mut map = serde_json::Map::new();
    for (operation, parameter, expression) in links {
        map.insert(
            (*operation).to_owned(),
            json!({ "operationId": operation, "parameters": { *parameter: expression } }),
        );
    }
    response["links"] = Value::Object(map);
    response
}

/// The whole document.
pub fn spec() -> Value {
    let mut doc = paths();
    // Every route checks `Host` first (DNS rebinding), GET included.
    if let Some(paths) = doc["paths"].as_object_mut() {
        for operation in paths.values_mut().filter_map(Value::as_object_mut) {
            for (_, op) in operation.iter_mut() {
                let responses = &mut op["responses"];
                if responses.get("403").is_none() {
                    responses["403"] = error("A request for another host name (see `--allowed-host`) or from another site.");
                }
            }
        }
    }
    doc
}

fn paths() -> Value {
    let name = param("name", "path", "The code location's name.", string());
    let id = param("id", "path", "The run id.", string());
    let run_stream = sse(
        "Server-sent events: `event` for each stored event (its storage id as `id`, data an EventRecord), `output` for captured output of a run of this server that storage does not keep as an event (no `id`; the whole output is at `/api/runs/{id}/logs`), then `end` (data `{\"status\": ...}`).",
        &["event", "output", "end"],
        json!({ "oneOf": [ { "$ref": "#/components/schemas/EventRecord" },
            { "type": "object", "required": ["run_id", "seq", "event"], "additionalProperties": false, "properties": { "run_id": string(), "seq": { "type": "integer" }, "event": { "type": "object" } } },
            { "type": "object", "required": ["status"], "properties": { "status": { "$ref": "#/components/schemas/RunStatus" } } } ] }),
    );
    let host_stream = sse(
        "Server-sent events: `locations` (every Location) at once, then a `location` or `run` message for each change.",
        &["locations", "location", "run"],
        json!({ "oneOf": [ { "type": "array", "items": { "$ref": "#/components/schemas/Location" } }, { "type": "object", "required": ["type"], "properties": { "type": { "type": "string", "enum": ["location", "run"] } } } ] }),
    );
    let statuses = "QUEUED|NOT_STARTED|STARTING|STARTED|SUCCESS|FAILURE|CANCELING|CANCELED";
    let status_list = format!("^ *({statuses})? *(, *({statuses})? *)*$");
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "dg dev API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Code locations, assets and runs of a `dg dev` server. Every request must be addressed (`Host`) to one of the server's names: `localhost`, `127.0.0.1`, `[::1]`, its `--host` address, or a name given with `--allowed-host`. Requests that change state must not come from another site (Origin / Sec-Fetch-Site are checked) and send JSON bodies as `application/json`. Errors are `{\"error\": {\"message\", \"hint\"}}`."
        },
        "paths": {
            "/api/locations": { "get": {
                "operationId": "listLocations", "summary": "Every code location with its status",
                "responses": { "200": with_links(ok("The locations, in workspace order.", json!({
                    "type": "object", "required": ["locations"],
                    "properties": { "locations": { "type": "array", "items": { "$ref": "#/components/schemas/Location" } } } })), &[
                    ("getLocation", "name", "$response.body#/locations/0/name")]) }
            } },
            "/api/locations/{name}": { "get": {
                "operationId": "getLocation", "summary": "One code location", "parameters": [name.clone()],
                "responses": { "200": ok("The location.", json!({ "$ref": "#/components/schemas/Location" })), "404": error("No such location.") }
            } },
            "/api/locations/{name}/reload": { "post": {
                "operationId": "reloadLocation", "summary": "Reload a location's code (keeps the last good snapshot until the new one loads)",
                "parameters": [name],
                "responses": { "202": ok("Reloading.", json!({ "$ref": "#/components/schemas/Location" })), "403": error("A request for another host name (see `--allowed-host`) or from another site."), "404": error("No such location."),
                    "429": limited("A reload of this location was requested less than a second ago and is still loading."),
                    "503": error("The server is shutting down.") }
            } },
            "/api/assets": { "get": {
                "operationId": "listAssets", "summary": "Assets of every loaded location",
                "parameters": [param("selection", "query", "An asset selection (`group:raw`, `+key:orders`).", string())],
                "responses": { "200": ok("The selected assets, sorted by key.", json!({
                    "type": "object", "required": ["assets"],
                    "properties": { "selection": { "type": ["string", "null"] }, "assets": { "type": "array", "items": { "$ref": "#/components/schemas/Asset" } } } })),
                    "400": error("Invalid selection.") }
            } },
            "/api/assets/{key}": { "get": {
                "operationId": "getAsset", "summary": "An asset's definition and materialization history",
                "parameters": [param("key", "path", "The asset key, parts separated by `/`.", string())],
                "responses": { "200": ok("The asset.", json!({
                    "type": "object", "required": ["asset", "metadata", "materializations"],
                    "properties": {
                        "asset": { "$ref": "#/components/schemas/Asset" },
                        "metadata": { "type": "object", "additionalProperties": true },
                        "materializations": { "type": "array", "items": { "$ref": "#/components/schemas/Materialization" } } } })),
                    "404": error("No such asset.") }
            } },
            "/api/runs": {
                "get": {
                    "operationId": "listRuns", "summary": "Runs of the instance, newest first",
                    "parameters": [
                        param("status", "query", "Comma-separated statuses (any case).", json!({ "type": "string", "pattern": status_list })),
                        param("location", "query", "Only runs of this location.", string()),
                        param("limit", "query", "At most this many (default 50).", json!({ "type": "integer", "minimum": 1, "maximum": 1000 })),
                        param("cursor", "query", "The last run id of the previous page.", string())
                    ],
                    "responses": { "200": ok("A page of runs.", json!({
                        "type": "object", "required": ["runs"],
                        "properties": { "runs": { "type": "array", "items": { "$ref": "#/components/schemas/Run" } }, "next_cursor": { "type": ["string", "null"] } } })),
                        "400": error("Invalid filter.") }
                },
                "post": {
                    "operationId": "launchRun", "summary": "Launch a run of an asset selection or a job",
                    "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/LaunchRequest" } } } },
                    "responses": {
                        "201": with_links(ok("The run was created and is starting. A selection spanning several locations runs as one run per location, upstream locations first: this is the first, `next_runs` lists the others, each launched when the one before it succeeded.", json!({ "$ref": "#/components/schemas/LaunchedRun" })), &[
                            ("getRun", "id", "$response.body#/run_id"), ("listRunEvents", "id", "$response.body#/run_id"),
                            ("streamRunEvents", "id", "$response.body#/run_id"), ("cancelRun", "id", "$response.body#/run_id")]),
                        "400": error("Invalid request or selection."), "403": error("A request for another host name (see `--allowed-host`) or from another site."),
                        "404": error("Unknown location or job."), "409": error("The location failed to load."),
                        "415": error("The body is not JSON."),
                        "429": limited("As many runs as the server allows at once are going."),
                        "503": error("The server is shutting down.") }
                }
            },
            "/api/runs/{id}": { "get": {
                "operationId": "getRun", "summary": "One run", "parameters": [id.clone()],
                "responses": { "200": ok("The run.", json!({ "$ref": "#/components/schemas/Run" })), "404": error("No such run.") }
            } },
            "/api/runs/{id}/events": { "get": {
                "operationId": "listRunEvents", "summary": "A run's events, oldest first",
                "parameters": [id.clone(),
                    param("after", "query", "Only events stored after this storage id.", int64()),
                    param("limit", "query", "At most this many (default 1000).", json!({ "type": "integer", "minimum": 1, "maximum": 10000 }))],
                "responses": { "200": ok("Events.", json!({
                    "type": "object", "required": ["events"],
                    "properties": { "events": { "type": "array", "items": { "$ref": "#/components/schemas/EventRecord" } }, "cursor": { "type": ["integer", "null"] } } })),
                    "400": error("Invalid query."), "404": error("No such run.") }
            } },
            "/api/runs/{id}/logs": { "get": {
                "operationId": "getRunLogs", "summary": "A run's captured stdout and stderr, from the instance's compute log manager",
                "parameters": [id.clone()],
                "responses": { "200": ok("One entry per capture (the steps one process executed), or why this instance's compute log manager is not read.", json!({ "$ref": "#/components/schemas/RunLogs" })),
                    "404": error("No such run."), "500": error("The instance config or a log file could not be read.") }
            } },
            "/api/runs/{id}/cancel": { "post": {
                "operationId": "cancelRun", "summary": "Cancel a run this server executes", "parameters": [id.clone()],
                "responses": { "202": ok("Canceling.", json!({ "type": "object", "properties": { "run_id": string(), "canceling": { "type": "boolean" } } })),
                    "403": error("A request for another host name (see `--allowed-host`) or from another site."), "404": error("No such run."), "409": error("Finished, or not executed by this server.") }
            } },
            "/api/runs/{id}/stream": { "get": {
                "operationId": "streamRunEvents", "summary": "Server-sent events: `event` (an EventRecord, id = storage id) for each event, then `end`",
                "parameters": [id, param("after", "query", "Start after this storage id (`Last-Event-ID` wins).", int64()),
                    param("Last-Event-ID", "header", "Resume after this storage id (what a reconnecting `EventSource` sends; ignored unless an integer).", string())],
                "responses": { "200": run_stream, "400": error("Invalid query."), "404": error("No such run."), "429": limited("Too many live streams are open.") }
            } },
            "/api/stream": { "get": {
                "operationId": "streamHost", "summary": "Server-sent events: `locations` at once, then `location` and `run` status changes",
                "responses": { "200": host_stream, "429": limited("Too many live streams are open.") }
            } }
        },
        "components": { "schemas": schemas() }
    })
}

fn schemas() -> Value {
    let opt_string = json!({ "type": ["string", "null"] });
    let opt_number = json!({ "type": ["number", "null"] });
    let string_map = json!({ "type": "object", "additionalProperties": { "type": "string" } });
    json!({
        "Error": { "type": "object", "required": ["error"], "properties": { "error": {
            "type": "object", "required": ["message"], "properties": { "message": string(), "hint": string() } } } },
        "Location": { "type": "object", "required": ["name", "root", "status", "generation", "asset_count", "stale_snapshot", "warm"], "properties": {
            "name": string(), "root": string(),
            "status": { "type": "string", "enum": ["loading", "loaded", "failed"] },
            "error": { "oneOf": [ { "type": "null" }, { "type": "object", "required": ["message"], "properties": {
                "message": string(), "traceback": opt_string.clone(), "hint": opt_string.clone() } } ] },
            "load_seconds": opt_number.clone(), "loaded_at": opt_number.clone(),
            "dagster_version": opt_string.clone(), "python_version": opt_string.clone(),
            "generation": { "type": "integer" }, "asset_count": { "type": "integer" },
            "stale_snapshot": { "type": "boolean" }, "agent_pid": { "type": ["integer", "null"] },
            "warm": { "type": "boolean", "description": "The agent has warmed up (after the location's first run); runs start faster." } } },
        "Materialization": { "type": "object", "required": ["run_id", "timestamp", "storage_id"], "properties": {
            "run_id": string(), "timestamp": { "type": "number" }, "partition": opt_string.clone(),
            "metadata": { "type": "object", "additionalProperties": true }, "storage_id": { "type": "integer" } } },
        "Asset": { "type": "object", "required": ["key", "path", "location", "group", "deps", "downstream", "is_materializable"], "properties": {
            "key": string(), "path": { "type": "array", "items": string() }, "location": string(), "group": string(),
            "description": opt_string.clone(), "kinds": { "type": "array", "items": string() }, "tags": string_map.clone(),
            "owners": { "type": "array", "items": string() }, "deps": { "type": "array", "items": string() },
            "downstream": { "type": "array", "items": string() }, "is_materializable": { "type": "boolean" },
            "is_external": { "type": "boolean" }, "partitions": { "type": ["object", "null"] },
            "code_version": opt_string.clone(), "source": opt_string.clone(), "automation_condition": opt_string.clone(),
            "latest_materialization": { "oneOf": [ { "type": "null" }, { "$ref": "#/components/schemas/Materialization" } ] } } },
        "RunStatus": { "type": "string", "enum": ["QUEUED", "NOT_STARTED", "STARTING", "STARTED", "SUCCESS", "FAILURE", "CANCELING", "CANCELED"] },
        "Run": { "type": "object", "required": ["run_id", "location", "job_name", "status", "created_at"], "properties": {
            "run_id": string(), "location": string(), "job_name": string(), "selection": opt_string.clone(),
            "partition": opt_string.clone(), "config": { "type": "object" }, "tags": string_map.clone(),
            "status": { "$ref": "#/components/schemas/RunStatus" }, "created_at": { "type": "number" },
            "updated_at": { "type": "number" }, "started_at": opt_number.clone(), "ended_at": opt_number,
            "worker": { "type": ["object", "null"] }, "heartbeat_at": { "type": ["number", "null"] } } },
        "LaunchedRun": { "allOf": [ { "$ref": "#/components/schemas/Run" }, { "type": "object", "properties": {
            "next_runs": { "type": "array", "description": "Present when the selection spans several locations: the runs after this one, in launch order; each is launched when the one before it succeeded, none after a run that failed or was canceled.",
                "items": { "type": "object", "required": ["location", "assets"], "properties": {
                    "location": string(), "assets": { "type": "array", "items": string() } } } } } } ] },
        "LaunchRequest": { "type": "object", "additionalProperties": false,
            "description": "Give exactly one of `selection` and `job` (`null` counts as not given).",
            "oneOf": [
                { "required": ["selection"], "properties": { "selection": { "type": "string" }, "job": { "type": "null" } } },
                { "required": ["job"], "properties": { "job": { "type": "string" }, "selection": { "type": "null" } } } ],
            "properties": {
            "selection": { "type": ["string", "null"], "description": "An asset selection; give this or `job`. Without `location`, one run per location it spans." },
            "job": { "type": ["string", "null"] }, "location": { "type": ["string", "null"] }, "partition": { "type": ["string", "null"] },
            "config": { "type": ["object", "null"] }, "tags": string_map } },
        "RunLogs": { "oneOf": [
            { "type": "object", "required": ["status", "directory", "logs"], "properties": {
                "status": { "const": "shown" }, "directory": { "type": "string", "description": "The folder of the run's files (`<base_dir>/<run_id>/compute_logs`)." },
                "logs": { "type": "array", "items": { "$ref": "#/components/schemas/CapturedLog" } } } },
            { "type": "object", "required": ["status", "reason"], "properties": {
                "status": { "const": "not_shown" }, "reason": string() } } ] },
        "CapturedLog": { "type": "object", "required": ["log_key", "step_keys", "stdout", "stderr", "complete", "truncated"], "properties": {
            "log_key": { "type": "string", "description": "Dagster's file key of the capture." },
            "step_keys": { "type": "array", "items": string(), "description": "The steps it covers (empty when no `LOGS_CAPTURED` event names it)." },
            "stdout": string(), "stderr": string(),
            "complete": { "type": "boolean", "description": "Capturing ended (Dagster's `.complete` file exists)." },
            "truncated": { "type": "boolean", "description": "A stream was longer than 1 MiB: only its end is given." } } },
        "EventRecord": { "type": "object", "required": ["storage_id", "run_id", "event"], "properties": {
            "storage_id": { "type": "integer" }, "run_id": string(), "seq": { "type": ["integer", "null"] },
            "event": { "type": "object", "required": ["timestamp", "type"], "properties": {
                "timestamp": { "type": "number" }, "step_key": opt_string, "type": string() },
                "additionalProperties": true } } }
    })
}
