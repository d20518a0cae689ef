//! Run lifecycle: coordinator, launchers, event ingestion.
