//! The Python agent, host-agent protocol, snapshot types and load cache.
