//! The `cluster.yaml` contract: the model, loading with positions, validation that reports every
//! problem at once, the JSON Schema, and conversion from DC/OS's `genconf/config.yaml`.
//!
//! Pure: no network, no host access, compiles on Linux, macOS and Windows.
