//! Project Python environments via uv, and the one place child processes are spawned.
