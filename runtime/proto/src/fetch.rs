//! Marathon's `fetch` (and legacy `uris`): files the agent puts in the sandbox before the task.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchUri {
    /// `http://`, `https://` or `file://` (a path on the agent).
    pub uri: String,
    /// Unpack `.tar`, `.tar.gz`/`.tgz` and `.zip` into the sandbox (or `dest_path`).
    #[serde(default)]
    pub extract: bool,
    /// Make the file executable (when not extracted).
    #[serde(default)]
    pub executable: bool,
    /// Keep a copy on the agent, keyed by the URI, for the next task that fetches it.
    #[serde(default)]
    pub cache: bool,
    /// Where in the sandbox (relative); default the URI's file name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dest_path: Option<String>,
}
