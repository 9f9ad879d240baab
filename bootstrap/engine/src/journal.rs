//! The job journal: one directory per job holding `job.json` (the request and the job's
//! status), `hosts/<host>.json` (each phase a host finished or failed) and `events.jsonl`
//! (every event, in order). JSON files are replaced atomically (temporary file in the same
//! directory, fsync, rename: bottlerocket's status file), so a killed server leaves either the
//! old or the new version. A re-run of the job reads it back and skips what is done.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
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

    /// Append one event as a JSON line. Appends are not atomic; [`Journal::read_events`] drops
    /// a torn last line.
    pub fn append_event(&self, event: &Event) -> Result<(), EngineError> {
        let path = self.dir.join("events.jsonl");
        let io = |source| EngineError::Journal {
            path: path.clone(),
            source,
        };
        fs::create_dir_all(&self.dir).map_err(io)?;
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io)?;
        let mut line = serde_json::to_string(event).expect("events always serialize");
        line.push('\n');
        file.write_all(line.as_bytes()).map_err(io)
    }

    /// Every complete event, in order.
    pub fn read_events(&self) -> Result<Vec<Event>, EngineError> {
        let path = self.dir.join("events.jsonl");
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(EngineError::Journal { path, source }),
        };
        let mut events = Vec::new();
        for line in BufReader::new(file).lines() {
            let line = line.map_err(|source| EngineError::Journal {
                path: path.clone(),
                source,
            })?;
            // A line torn by a kill mid-write is the last one: stop there.
            match serde_json::from_str(&line) {
                Ok(e) => events.push(e),
                Err(_) => break,
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

/// Write to a temporary file beside `path`, fsync, rename over `path`.
pub(crate) fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), EngineError> {
    let io = |source| EngineError::Journal {
        path: path.to_path_buf(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(io)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    let text = serde_json::to_vec_pretty(value).expect("journal records always serialize");
    tmp.write_all(&text).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
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
        assert_eq!(j.read_events().expect("read"), vec![e]);
    }
}
