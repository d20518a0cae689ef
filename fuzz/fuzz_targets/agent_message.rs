//! The agent message decoder: one line from the agent's channel, decoded as the host decodes it
//! (`serde_json` into `dg_location::protocol::ResponseEnvelope`, then the protocol version check).
//!
//! Besides "no panic, no hang, no stack overflow" (nested JSON in user metadata, chained
//! exceptions): a decoded `loaded` snapshot must serialize and decode again, because the snapshot
//! cache stores it that way, and a user error renders as the host shows it.

#![no_main]

use std::path::Path;

use dg_location::protocol::{Response, ResponseEnvelope, PROTOCOL_VERSION};
use dg_location::DefinitionsSnapshot;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The host reads the channel a line at a time into a `String`.
    let Ok(line) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(envelope) = serde_json::from_str::<ResponseEnvelope>(line) else {
        return;
    };
    let _ = (envelope.v == PROTOCOL_VERSION, envelope.id, envelope.response.kind());
    match &envelope.response {
        Response::Loaded { snapshot } => {
            let stored = serde_json::to_string(snapshot).expect("a snapshot serializes");
            let back = serde_json::from_str::<DefinitionsSnapshot>(&stored);
            assert!(back.is_ok(), "{stored}: {back:?}");
            for asset in &snapshot.assets {
                let _ = asset.key_string();
            }
        }
        Response::LoadFailed { error, .. } | Response::RunRejected { error } => {
            let _ = (error.summary(), error.location(), error.render(false), error.render(true));
            let _ = error.hint(Path::new("/project"));
        }
        _ => {}
    }
});
