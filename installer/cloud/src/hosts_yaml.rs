//! Writing machine addresses into `cluster.yaml` as text edits, so the operator's comments, key
//! order and layout survive: only the values of `bootstrap`, `masters`, `agents` and
//! `public_agents` change (each is inserted at the end when missing). A serde round trip would
//! drop every comment.
use std::path::Path;

use serde_json::Value;

use crate::error::{CloudError, Result};

/// The addresses `strato deploy` reads, per role.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hosts {
    pub bootstrap: Option<String>,
    pub masters: Vec<String>,
    pub agents: Vec<String>,
    pub public_agents: Vec<String>,
}

/// Rewrite `path` with `hosts` filled in, atomically (`strato_atomic_file`).
pub fn write_hosts(path: &Path, hosts: &Hosts) -> Result<()> {
    let text = std::fs::read_to_string(path).map_err(|source| CloudError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let edited = set_hosts(&text, hosts).map_err(|message| CloudError::Config {
        file: path.display().to_string(),
        key: "hosts".into(),
        message,
    })?;
    // The operator's file keeps its mode and comments; only the host lists change.
    strato_atomic_file::write(path, edited.as_bytes()).map_err(|source| CloudError::Write {
        path: path.to_path_buf(),
        source,
    })
}

enum NewValue<'a> {
    Scalar(&'a str),
    List(&'a [String]),
}

/// `text` with the host keys replaced or inserted. Checks the result parses to the same document
/// apart from those keys, so a layout it does not understand is an error, never a corrupted file.
pub fn set_hosts(text: &str, hosts: &Hosts) -> std::result::Result<String, String> {
    let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut missing = Vec::new();
    let mut edits: Vec<(&str, NewValue)> = Vec::new();
    if let Some(b) = &hosts.bootstrap {
        edits.push(("bootstrap", NewValue::Scalar(b)));
    }
    edits.push(("masters", NewValue::List(&hosts.masters)));
    edits.push(("agents", NewValue::List(&hosts.agents)));
    edits.push(("public_agents", NewValue::List(&hosts.public_agents)));
    for (key, value) in &edits {
        match find_key(&lines, key) {
            Some(start) => {
                let end = block_end(&lines, start);
                let replacement = render(&lines[start..end], key, value);
                lines.splice(start..end, replacement);
            }
            None => missing.push(render(&[], key, value)),
        }
    }
    if !missing.is_empty() {
        while lines.last().is_some_and(|l| l.trim().is_empty()) {
            lines.pop();
        }
        lines.push(String::new());
        lines.push("# Machines created by `strato cloud create`.".to_string());
        lines.extend(missing.into_iter().flatten());
    }
    let mut out = lines.join(newline);
    out.push_str(newline);
    verify(text, &out, hosts)?;
    Ok(out)
}

/// The line where top-level `key:` starts.
fn find_key(lines: &[String], key: &str) -> Option<usize> {
    lines.iter().position(|l| {
        l.strip_prefix(key).is_some_and(|rest| {
            rest.starts_with(':') && (rest.len() == 1 || rest[1..].starts_with([' ', '\t']))
        })
    })
}

/// One past the last line of the value that starts at `start`: indented lines and `- ` items at
/// column 0 belong to it; blank lines only when more of the value follows.
fn block_end(lines: &[String], start: usize) -> usize {
    let mut end = start + 1;
    let mut k = start + 1;
    while k < lines.len() {
        let l = &lines[k];
        if l.trim().is_empty() {
            k += 1;
            continue;
        }
        if l.starts_with([' ', '\t']) || l.starts_with("- ") || l == "-" {
            k += 1;
            end = k;
            continue;
        }
        break;
    }
    end
}

/// Split a line after `key:` into its value and its trailing `# comment`.
fn split_comment(rest: &str) -> (&str, Option<&str>) {
    let mut quote: Option<char> = None;
    let mut prev_space = true;
    for (i, ch) in rest.char_indices() {
        match (quote, ch) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(ch),
            (None, '#') if prev_space => return (rest[..i].trim(), Some(&rest[i..])),
            _ => {}
        }
        prev_space = ch.is_whitespace();
    }
    (rest.trim(), None)
}

fn render(old: &[String], key: &str, value: &NewValue) -> Vec<String> {
    let (old_value, comment) = old
        .first()
        .map_or(("", None), |l| split_comment(&l[key.len() + 1..]));
    let trailer = comment.map(|c| format!("  {c}")).unwrap_or_default();
    // Whole-line comments inside the old value stay, in order, right under the key.
    let kept: Vec<String> = old
        .iter()
        .skip(1)
        .filter(|l| l.trim_start().starts_with('#'))
        .cloned()
        .collect();
    let item_prefix = old.iter().skip(1).find_map(|l| {
        let trimmed = l.trim_start();
        trimmed
            .starts_with('-')
            .then(|| format!("{}- ", &l[..l.len() - trimmed.len()]))
    });
    let mut out = Vec::new();
    match value {
        NewValue::Scalar(v) => {
            out.push(format!("{key}: {}{trailer}", scalar(v)));
            out.extend(kept);
        }
        NewValue::List(items) => match item_prefix {
            Some(prefix) if old_value.is_empty() && !items.is_empty() => {
                out.push(format!("{key}:{trailer}"));
                out.extend(kept);
                out.extend(items.iter().map(|i| format!("{prefix}{}", scalar(i))));
            }
            _ => {
                let flow = items
                    .iter()
                    .map(|i| scalar(i))
                    .collect::<Vec<_>>()
                    .join(", ");
                out.push(format!("{key}: [{flow}]{trailer}"));
                out.extend(kept);
            }
        },
    }
    out
}

/// Addresses and host names are plain scalars; anything else is quoted.
fn scalar(value: &str) -> String {
    if !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '-'))
    {
        value.to_string()
    } else {
        serde_json::Value::String(value.to_string()).to_string()
    }
}

fn verify(before: &str, after: &str, hosts: &Hosts) -> std::result::Result<(), String> {
    let parse = |t: &str| {
        strato_config::yaml_to_json(t).map_err(|e| {
            format!(
                "cannot edit this file safely: line {}: {}",
                e.mark.line, e.message
            )
        })
    };
    let mut before = parse(before)?;
    let mut after = parse(after)?;
    let list = |v: &[String]| Value::Array(v.iter().map(|s| Value::String(s.clone())).collect());
    let mut expected = vec![
        ("masters", list(&hosts.masters)),
        ("agents", list(&hosts.agents)),
        ("public_agents", list(&hosts.public_agents)),
    ];
    if let Some(b) = &hosts.bootstrap {
        expected.push(("bootstrap", Value::String(b.clone())));
    }
    let (Some(b), Some(a)) = (before.as_object_mut(), after.as_object_mut()) else {
        return Err("cannot edit this file safely: the top level is not a mapping".into());
    };
    for (key, value) in expected {
        if a.get(key) != Some(&value) {
            return Err(format!(
                "cannot edit this file safely: {key} did not come out as {value:?}; set it by hand"
            ));
        }
        a.remove(key);
        b.remove(key);
    }
    if a != b {
        return Err(
            "cannot edit this file safely: other keys would change; set the hosts by hand".into(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts() -> Hosts {
        Hosts {
            bootstrap: Some("203.0.113.5".into()),
            masters: vec![
                "203.0.113.10".into(),
                "203.0.113.11".into(),
                "203.0.113.12".into(),
            ],
            agents: vec!["203.0.113.20".into()],
            public_agents: vec!["203.0.113.30".into()],
        }
    }

    #[test]
    fn replaces_values_and_keeps_every_comment() {
        let text = "\
# My cluster. Keep this comment.
cluster_name: demo
bootstrap: local      # served from here for now
ssh:
  user: centos  # the image's user
# masters come next
masters:
  # three for quorum
  - 10.0.0.1
agents: []   # none yet
public_agents:
  - 10.0.0.9
cloud:
  provider: aws # comment in cloud
";
        let out = set_hosts(text, &hosts()).expect("edit");
        let expected = "\
# My cluster. Keep this comment.
cluster_name: demo
bootstrap: 203.0.113.5  # served from here for now
ssh:
  user: centos  # the image's user
# masters come next
masters:
  # three for quorum
  - 203.0.113.10
  - 203.0.113.11
  - 203.0.113.12
agents: [203.0.113.20]  # none yet
public_agents:
  - 203.0.113.30
cloud:
  provider: aws # comment in cloud
";
        assert_eq!(out, expected);
    }

    #[test]
    fn inserts_missing_keys_at_the_end() {
        let text = "cluster_name: demo  # hi\ncloud:\n  provider: gcp\n\n";
        let out = set_hosts(text, &hosts()).expect("edit");
        assert!(
            out.starts_with(
                "cluster_name: demo  # hi\ncloud:\n  provider: gcp\n\n# Machines created"
            ),
            "{out}"
        );
        assert!(out.ends_with("masters: [203.0.113.10, 203.0.113.11, 203.0.113.12]\nagents: [203.0.113.20]\npublic_agents: [203.0.113.30]\n"), "{out}");
    }

    #[test]
    fn second_edit_is_stable() {
        let text = "cluster_name: demo\nmasters:\n- 1.1.1.1\nagents: []\n";
        let once = set_hosts(text, &hosts()).expect("edit");
        let twice = set_hosts(&once, &hosts()).expect("edit again");
        assert_eq!(once, twice);
        assert!(
            once.contains("masters:\n- 203.0.113.10\n- 203.0.113.11\n"),
            "{once}"
        );
    }

    #[test]
    fn windows_line_endings_are_kept() {
        let text = "cluster_name: demo\r\n# hosts\r\nmasters: []\r\n";
        let out = set_hosts(text, &hosts()).expect("edit");
        assert!(
            out.contains("# hosts\r\nmasters: [203.0.113.10, 203.0.113.11, 203.0.113.12]\r\n"),
            "{out:?}"
        );
        assert!(!out.replace("\r\n", "").contains('\n'), "{out:?}");
    }

    #[test]
    fn a_layout_it_cannot_edit_safely_is_refused() {
        // A flow mapping at the top level: the key is not at the start of a line.
        let err =
            set_hosts("{cluster_name: demo, masters: [1.1.1.1]}\n", &hosts()).expect_err("refused");
        assert!(err.starts_with("cannot edit this file safely"), "{err}");
    }

    #[test]
    fn hash_inside_quotes_is_not_a_comment() {
        assert_eq!(
            split_comment(" \"a # b\"  # real"),
            ("\"a # b\"", Some("# real"))
        );
        assert_eq!(split_comment(" [a, b]"), ("[a, b]", None));
    }
}
