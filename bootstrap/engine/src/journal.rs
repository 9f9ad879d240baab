//! The job journal: one directory per job holding `job.json` (the request and the job's
//! status), `hosts/<host>.json` (each phase a host finished or failed) and `events.jsonl`
//! (every event, in order). JSON files are replaced atomically (temporary file in the same
//! directory, fsync, rename: bottlerocket's status file), so a killed server leaves either the
//! old or the new version. A re-run of the job reads it back and skips what is done.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use strato_api::{Event, Job, JobRequest};

use crate::error::EngineError;

/// What `job.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    pub request: JobRequest,
    /// Relative paths in cluster.yaml (keys, ip-detect) are resolved against this directory.
    pub base_dir: PathBuf,
    pub job: Job,
}

/// How a phase ended on a host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PhaseState {
    Done,
    Failed,
}

/// One phase on one host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhaseRecord {
    pub state: PhaseState,
    pub message: String,
    #[serde(default)]
    pub changed: bool,
    pub at_ms: u64,
}

/// `hosts/<host>.json`: the phases a host went through in this job, by title.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostRecord {
    pub host: String,
    pub phases: BTreeMap<String, PhaseRecord>,
}

impl HostRecord {
    /// Whether `title` finished on this host.
    pub fn done(&self, title: &str) -> Option<&PhaseRecord> {
        self.phases
            .get(title)
            .filter(|r| r.state == PhaseState::Done)
    }

    /// The phase this host failed in, if any.
    pub fn failure(&self) -> Option<(&str, &PhaseRecord)> {
        self.phases
            .iter()
            .find(|(_, r)| r.state == PhaseState::Failed)
            .map(|(t, r)| (t.as_str(), r))
    }
}

/// A job's directory.
#[derive(Debug, Clone)]
pub struct Journal {
    dir: PathBuf,
}

impl Journal {
    /// The journal in `dir` (not created until something is written).
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        Journal { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Read `job.json`.
    pub fn read_job(&self) -> Result<JobRecord, EngineError> {
        read_json(&self.dir.join("job.json"))
    }

    /// Replace `job.json` atomically.
    pub fn write_job(&self, record: &JobRecord) -> Result<(), EngineError> {
        write_json(&self.dir.join("job.json"), record)
    }

    /// A host's record; empty when the host has none yet.
    pub fn read_host(&self, host: &str) -> Result<HostRecord, EngineError> {
        let path = self.host_path(host);
        if !path.exists() {
            return Ok(HostRecord {
                host: host.to_string(),
                ..HostRecord::default()
            });
        }
        read_json(&path)
    }

    /// Replace a host's record atomically.
    pub fn write_host(&self, record: &HostRecord) -> Result<(), EngineError> {
        write_json(&self.host_path(&record.host), record)
    }

    /// Append one event as a JSON line. Appends are not atomic: a kill mid-write leaves a torn
    /// last line, so the next append first ends it with a newline (the new event starts on a line
    /// of its own) and [`Journal::read_events`] skips any line that is not a whole event.
    pub fn append_event(&self, event: &Event) -> Result<(), EngineError> {
        let path = self.dir.join("events.jsonl");
        let io = |source| EngineError::Journal {
            path: path.clone(),
            source,
        };
        fs::create_dir_all(&self.dir).map_err(io)?;
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)
            .map_err(io)?;
        let mut line = serde_json::to_string(event).expect("events always serialize");
        line.push('\n');
        if ends_torn(&mut file).map_err(io)? {
            line.insert(0, '\n');
        }
        file.write_all(line.as_bytes()).map_err(io)
    }

    /// Every complete event, in order; torn or unreadable lines are skipped.
    pub fn read_events(&self) -> Result<Vec<Event>, EngineError> {
        let path = self.dir.join("events.jsonl");
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(EngineError::Journal { path, source }),
        };
        let mut events = Vec::new();
        for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            match serde_json::from_slice(line) {
                Ok(e) => events.push(e),
                Err(e) => tracing::warn!(
                    journal = %path.display(),
                    "skipping a torn event line ({} bytes): {e}",
                    line.len()
                ),
            }
        }
        Ok(events)
    }

    fn host_path(&self, host: &str) -> PathBuf {
        let safe: String = host
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.dir.join("hosts").join(format!("{safe}.json"))
    }
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, EngineError> {
    let text = fs::read(path).map_err(|source| EngineError::Journal {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_slice(&text).map_err(|source| EngineError::JournalCorrupt {
        path: path.to_path_buf(),
        source,
    })
}

/// Whether the file's last byte is not a newline (a write was cut short).
fn ends_torn(file: &mut File) -> std::io::Result<bool> {
    use std::io::{Read, Seek, SeekFrom};
    if file.metadata()?.len() == 0 {
        return Ok(false);
    }
    file.seek(SeekFrom::End(-1))?;
    let mut last = [0u8; 1];
    file.read_exact(&mut last)?;
    Ok(last[0] != b'\n')
}

/// Replace `path` atomically (`strato_atomic_file`): a crash leaves the old record or the new one.
pub(crate) fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), EngineError> {
    let text = serde_json::to_vec_pretty(value).expect("journal records always serialize");
    strato_atomic_file::write(path, &text).map_err(|source| EngineError::Journal {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_records_round_trip_and_a_torn_event_line_is_dropped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let j = Journal::at(dir.path().join("job-1"));
        let mut rec = j.read_host("fe80::1").expect("empty");
        assert!(rec.phases.is_empty());
        rec.phases.insert(
            "Install masters".into(),
            PhaseRecord {
                state: PhaseState::Done,
                message: "installed".into(),
                changed: true,
                at_ms: 1,
            },
        );
        j.write_host(&rec).expect("write");
        let back = j.read_host("fe80::1").expect("read");
        assert!(back.done("Install masters").is_some());
        assert!(back.failure().is_none());

        let e = Event {
            seq: 1,
            job: "job-1".into(),
            at_ms: 1,
            host: None,
            phase: None,
            kind: strato_api::EventKind::PhaseStarted { hosts: 1 },
        };
        j.append_event(&e).expect("append");
        let mut f = OpenOptions::new()
            .append(true)
            .open(j.dir().join("events.jsonl"))
            .expect("open");
        f.write_all(b"{\"seq\":2,\"jo").expect("torn write");
        assert_eq!(j.read_events().expect("read"), vec![e.clone()]);
    }

    #[test]
    fn events_appended_after_a_torn_line_are_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let j = Journal::at(dir.path().join("job-2"));
        let event = |seq| Event {
            seq,
            job: "job-2".into(),
            at_ms: seq,
            host: None,
            phase: None,
            kind: strato_api::EventKind::PhaseStarted { hosts: 1 },
        };
        j.append_event(&event(1)).expect("append");
        // A kill mid-write: half an event, cut inside a multi-byte character.
        let mut f = OpenOptions::new()
            .append(true)
            .open(j.dir().join("events.jsonl"))
            .expect("open");
        f.write_all(b"{\"seq\":2,\"job\":\"\xc3")
            .expect("torn write");
        // The resumed server goes on appending.
        j.append_event(&event(3)).expect("append after the tear");
        j.append_event(&event(4)).expect("append");
        assert_eq!(
            j.read_events().expect("read"),
            vec![event(1), event(3), event(4)]
        );
    }
}
