//! Answer checks the wizard needs beyond strato-config's field validators: lists, master counts,
//! one role per host, cloud names, and the SSH key file as `strato validate` will see it.
use std::path::Path;

use strato_config::files::{expand_home, FileState, Files, RealFiles};
use strato_config::{field, Cluster};

use super::questions::{is_cloud, Draft, Key};

/// Splits a one-line list on commas and spaces.
pub fn split_list(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

pub(super) fn list(
    text: &str,
    min: usize,
    each: fn(&str) -> Result<(), String>,
) -> Result<(), String> {
    let items = split_list(text);
    if items.len() < min {
        return Err("give at least one value".into());
    }
    items.iter().try_for_each(|i| each(i))
}

pub(super) fn bootstrap(text: &str) -> Result<(), String> {
    if text == strato_config::Bootstrap::LOCAL {
        Ok(())
    } else {
        field::address(text)
    }
}

pub(super) fn count(text: &str) -> Result<usize, String> {
    text.parse::<usize>()
        .map_err(|_| format!("`{text}` is not a number of machines"))
}

pub(super) fn masters(text: &str, draft: &Draft) -> Result<(), String> {
    let n = if is_cloud(draft) {
        count(text)?
    } else {
        field::host_list(text)?.len()
    };
    if Cluster::MASTER_COUNTS.contains(&n) {
        Ok(())
    } else {
        Err(format!(
            "need 1, 3, 5, 7 or 9 masters (an odd number keeps a quorum), got {n}"
        ))
    }
}

/// Agents or public agents: valid, and not already given another role.
pub(super) fn agents(text: &str, draft: &Draft, others: &[Key]) -> Result<(), String> {
    if is_cloud(draft) {
        return count(text).map(|_| ());
    }
    let hosts = field::host_list(text)?;
    for key in others {
        let taken = draft.get(key).map(|t| split_list(t)).unwrap_or_default();
        if let Some(dup) = hosts.iter().find(|h| taken.contains(h)) {
            let role = if *key == Key::Masters {
                "a master"
            } else {
                "an agent"
            };
            return Err(format!("`{dup}` is already {role}; a node has one role"));
        }
    }
    Ok(())
}

pub(super) fn login_name(text: &str) -> Result<(), String> {
    let ok = text.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(())
    } else {
        Err(format!("`{text}` is not a login name"))
    }
}

pub(super) fn cloud_name(text: &str, what: &str) -> Result<(), String> {
    let ok = !text.is_empty()
        && text.starts_with(|c: char| c.is_ascii_lowercase())
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{text}` is not a {what} (lower-case letters, digits and -)"
        ))
    }
}

pub(super) fn resource_group(text: &str) -> Result<(), String> {
    let ok = (1..=90).contains(&text.len())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '(' | ')'))
        && !text.ends_with('.');
    if ok {
        Ok(())
    } else {
        Err(format!("`{text}` is not an Azure resource group name"))
    }
}

/// The first of the usual key files that exists, else the ed25519 one.
pub(super) fn default_key() -> String {
    let files = RealFiles;
    ["~/.ssh/id_ed25519", "~/.ssh/id_ecdsa", "~/.ssh/id_rsa"]
        .into_iter()
        .find(|k| {
            matches!(
                files.state(&expand_home(Path::new(k), files.home().as_deref())),
                FileState::File { .. }
            )
        })
        .unwrap_or("~/.ssh/id_ed25519")
        .to_owned()
}

/// The key must exist and (on Unix) not be readable by others, as `strato validate` demands; cloud
/// platforms also need its `.pub` to put on the machines.
pub(super) fn ssh_key(text: &str, draft: &Draft) -> Result<(), String> {
    let files = RealFiles;
    let path = expand_home(Path::new(text), files.home().as_deref());
    match files.state(&path) {
        FileState::Missing => {
            return Err(format!(
                "{} does not exist (create one with ssh-keygen -t ed25519)",
                path.display()
            ))
        }
        FileState::Directory => {
            return Err(format!("{} is a directory, not a key file", path.display()))
        }
        FileState::File { mode: Some(mode) } if mode & 0o077 != 0 => {
            return Err(format!(
                "{} can be read by others (mode {mode:o}); run chmod 600 {}",
                path.display(),
                path.display()
            ))
        }
        FileState::File { .. } => {}
    }
    if is_cloud(draft) {
        let public = format!("{}.pub", path.display());
        if !matches!(files.state(Path::new(&public)), FileState::File { .. }) {
            return Err(format!(
                "{public} does not exist: cloud machines get the public key"
            ));
        }
    }
    Ok(())
}
