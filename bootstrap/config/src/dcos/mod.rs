//! `strato config import-dcos`: read a DC/OS 1.x `genconf/config.yaml`, reach the verdict DC/OS
//! 1.13's own validation reaches (genconf scope, plus its SSH-scope list checks), and convert a
//! valid config into a [`Cluster`]. The key table is in [`keys`].
//!
//! Deliberate improvements over DC/OS: errors carry line numbers; null and float values are errors
//! instead of a crash; unknown and duplicate keys are warnings instead of silence.
mod convert;
pub mod keys;
mod rules;
mod value;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::diagnostic::{Diagnostics, Mark, Sink};
use crate::files::FileState;
use crate::yaml::{self, Value};
use crate::{Cluster, Files, IpDetect};

/// The name the ip-detect script gets next to the written cluster.yaml.
pub const IP_DETECT_NAME: &str = "ip-detect";

/// The outcome of an import.
#[derive(Debug, Clone)]
pub struct Import {
    /// The converted cluster; `None` when DC/OS would reject the config or Strato cannot use it.
    pub cluster: Option<Cluster>,
    /// DC/OS-style errors (`key: message`, by DC/OS names) and warnings.
    pub diagnostics: Diagnostics,
    /// The ip-detect script to copy next to the output as [`IP_DETECT_NAME`] (already referenced
    /// as `./ip-detect` by `cluster.network.ip_detect`).
    pub ip_detect_script: Option<PathBuf>,
}

/// The top-level keys as DC/OS sees them: stringified values, last duplicate wins.
pub(crate) struct Config {
    values: BTreeMap<String, (Option<String>, Mark)>,
    sink: Sink,
    bad_lists: Vec<String>,
}

impl Config {
    pub(crate) fn has(&self, key: &str) -> bool {
        self.values.contains_key(key)
    }

    pub(crate) fn get(&self, key: &str) -> Option<String> {
        self.values.get(key).and_then(|(v, _)| v.clone())
    }

    fn mark(&self, key: &str) -> Option<Mark> {
        self.values.get(key).map(|(_, m)| *m)
    }

    pub(crate) fn error(&mut self, key: &str, message: impl Into<String>) {
        let mark = self.mark(key);
        self.sink.error(mark, key, message);
    }

    pub(crate) fn warn(&mut self, key: &str, message: impl Into<String>) {
        let mark = self.mark(key);
        self.sink.warn(mark, key, message);
    }

    /// A list value; a malformed list is reported once.
    pub(crate) fn list(&mut self, key: &str) -> Option<Vec<String>> {
        match value::string_list(&self.get(key)?) {
            Ok(items) => Some(items),
            Err(e) => {
                if !self.bad_lists.iter().any(|k| k == key) {
                    self.bad_lists.push(key.to_string());
                    self.error(key, e);
                }
                None
            }
        }
    }

    pub(crate) fn list_quiet(&self, key: &str) -> Option<Vec<String>> {
        value::string_list(&self.get(key)?).ok()
    }
}

/// Check and convert a DC/OS config. `name` is printed in diagnostics; relative paths in the
/// config (`genconf/ip-detect`, `ssh_key_path`) resolve against `cwd`, as in DC/OS.
pub fn import(text: &str, name: &str, cwd: &Path, files: &dyn Files) -> Import {
    let mut sink = Sink::new(name);
    let failed = |sink: Sink| Import {
        cluster: None,
        diagnostics: sink.finish(),
        ip_detect_script: None,
    };
    let root = match yaml::parse(text) {
        Ok(root) => root,
        Err(e) => {
            sink.error(
                Some(e.mark),
                "",
                format!(
                    "Unable to load configuration file. Invalid YAML in {name}: {}",
                    e.message
                ),
            );
            return failed(sink);
        }
    };
    let Value::Map(entries) = root.value else {
        let found = root.value.kind();
        sink.error(
            Some(root.mark),
            "",
            format!("expected a mapping of DC/OS configuration keys, found {found}"),
        );
        return failed(sink);
    };
    let mut config = Config {
        values: BTreeMap::new(),
        sink,
        bad_lists: Vec::new(),
    };
    for entry in &entries {
        if let Some((_, first)) = config.values.get(&entry.key) {
            let message = format!(
                "duplicate key (also on line {}); DC/OS silently uses this last value",
                first.line
            );
            config.sink.warn(Some(entry.key_mark), &entry.key, message);
        }
        let stringified = match value::stringify(&entry.value) {
            Ok(s) => Some(s),
            Err(e) => {
                config.sink.error(Some(entry.value.mark), &entry.key, e);
                None
            }
        };
        config
            .values
            .insert(entry.key.clone(), (stringified, entry.key_mark));
    }
    unknown_keys(&mut config);
    rules::check(&mut config);
    let ip_detect_script = ip_detect(&mut config, cwd, files);
    if config.sink.found.iter().any(|d| d.is_error()) {
        return failed(config.sink);
    }
    let cluster = convert::convert(&mut config, cwd, files).map(|mut cluster| {
        if ip_detect_script.is_some() {
            cluster.network.ip_detect =
                IpDetect::Script(PathBuf::from(format!("./{IP_DETECT_NAME}")));
        }
        cluster
    });
    let cluster = if config.sink.found.iter().any(|d| d.is_error()) {
        None
    } else {
        cluster
    };
    Import {
        cluster,
        diagnostics: config.sink.finish(),
        ip_detect_script,
    }
}

fn unknown_keys(c: &mut Config) {
    let present: Vec<String> = c.values.keys().cloned().collect();
    for key in present {
        if keys::is_dcos_key(&key) {
            continue;
        }
        let message = match crate::decode::closest(&key, keys::all()) {
            Some(best) => {
                format!("unknown to DC/OS 1.13, which ignores it silently; did you mean `{best}`?")
            }
            None => "unknown to DC/OS 1.13, which ignores it silently; not imported".to_string(),
        };
        c.warn(&key, message);
    }
}

/// DC/OS runs in a container with `genconf/` mounted at `/genconf`, so `genconf/x` and
/// `/genconf/x` both mean `<cwd>/genconf/x`; other relative paths are relative to `cwd` too.
pub(crate) fn host_path(value: &str, cwd: &Path) -> PathBuf {
    let trimmed = value
        .strip_prefix('/')
        .filter(|rest| rest.starts_with("genconf/"))
        .unwrap_or(value);
    let path = Path::new(trimmed);
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        cwd.join(path)
    }
}

/// DC/OS requires the ip-detect script (and the public one, when set) to exist.
fn ip_detect(c: &mut Config, cwd: &Path, files: &dyn Files) -> Option<PathBuf> {
    let mut script = None;
    for (key, default) in [
        ("ip_detect_filename", Some("genconf/ip-detect")),
        ("ip_detect_public_filename", None),
    ] {
        let Some(value) = c.get(key).or(default.map(str::to_string)) else {
            continue;
        };
        let path = host_path(&value, cwd);
        if matches!(files.state(&path), FileState::File { .. }) {
            if key == "ip_detect_filename" {
                script = Some(path);
            }
        } else {
            c.error(key, format!("ip-detect script `{value}` must exist"));
        }
    }
    script
}

/// cluster.yaml text for an imported cluster, with a header saying where it came from.
pub fn render(cluster: &Cluster, from: &str) -> String {
    let body = yaml_serde::to_string(cluster).expect("the cluster model always serializes to YAML");
    format!(
        "# Converted from the DC/OS config {from} by `strato config import-dcos`.\n\
         # Check it with `strato validate`; see examples/cluster.yaml for every key.\n{body}"
    )
}

#[cfg(test)]
mod tests;
