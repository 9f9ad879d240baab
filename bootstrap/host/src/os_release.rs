//! `/etc/os-release` (os-release(5)): `KEY=value` lines, values optionally in double quotes
//! (with `\"`, `\\`, `` \` `` and `\$` escapes) or single quotes, `#` comments, blank lines.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The fields of os-release that drive OS detection, plus all of them raw.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OsRelease {
    /// `ID`, lower-case; `linux` when absent (the spec's default).
    pub id: String,
    /// `ID_LIKE`, split on spaces.
    pub id_like: Vec<String>,
    /// `VERSION_ID` (e.g. `9.4`, `24.04`, `3975.2.2`), empty when absent (Debian testing).
    pub version_id: String,
    /// `VARIANT_ID` (e.g. `coreos` on Fedora CoreOS), empty when absent.
    pub variant_id: String,
    /// `NAME`, `Linux` when absent.
    pub name: String,
    /// `PRETTY_NAME`, falling back to `NAME VERSION_ID`.
    pub pretty_name: String,
    /// Every key, unquoted.
    pub fields: BTreeMap<String, String>,
}

/// A line that is not `KEY=value`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("os-release line {line}: {message}: {text:?}")]
pub struct OsReleaseError {
    pub line: usize,
    pub message: &'static str,
    pub text: String,
}

impl OsRelease {
    /// Parse the file's text. Unknown keys are kept; malformed lines are errors naming the line.
    pub fn parse(text: &str) -> Result<OsRelease, OsReleaseError> {
        let mut fields = BTreeMap::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let err = |message| OsReleaseError {
                line: i + 1,
                message,
                text: raw.to_string(),
            };
            let (key, value) = line
                .split_once('=')
                .ok_or_else(|| err("expected KEY=value"))?;
            let valid_key = !key.is_empty()
                && key
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
            if !valid_key {
                return Err(err("invalid key"));
            }
            fields.insert(key.to_string(), unquote(value).map_err(err)?);
        }
        let get = |k: &str| fields.get(k).cloned().unwrap_or_default();
        let id = match get("ID") {
            id if id.is_empty() => "linux".to_string(),
            id => id.to_ascii_lowercase(),
        };
        let name = match get("NAME") {
            n if n.is_empty() => "Linux".to_string(),
            n => n,
        };
        let version_id = get("VERSION_ID");
        let pretty_name = match get("PRETTY_NAME") {
            p if !p.is_empty() => p,
            _ if version_id.is_empty() => name.clone(),
            _ => format!("{name} {version_id}"),
        };
        Ok(OsRelease {
            id,
            id_like: get("ID_LIKE")
                .split_whitespace()
                .map(str::to_ascii_lowercase)
                .collect(),
            version_id,
            variant_id: get("VARIANT_ID").to_ascii_lowercase(),
            name,
            pretty_name,
            fields,
        })
    }

    /// Whether `ID` or `ID_LIKE` names `family`.
    pub fn is_like(&self, family: &str) -> bool {
        self.id == family || self.id_like.iter().any(|l| l == family)
    }

    /// The leading number of `VERSION_ID` (`9` of `9.4`, `24` of `24.04`).
    pub fn major_version(&self) -> Option<u32> {
        self.version_id.split('.').next()?.parse().ok()
    }
}

fn unquote(value: &str) -> Result<String, &'static str> {
    let value = value.trim();
    if let Some(inner) = value.strip_prefix('"') {
        let inner = inner.strip_suffix('"').ok_or("unterminated double quote")?;
        let mut out = String::with_capacity(inner.len());
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some(e @ ('"' | '\\' | '`' | '$')) => out.push(e),
                    Some(other) => {
                        out.push('\\');
                        out.push(other);
                    }
                    None => return Err("trailing backslash"),
                },
                c => out.push(c),
            }
        }
        Ok(out)
    } else if let Some(inner) = value.strip_prefix('\'') {
        Ok(inner
            .strip_suffix('\'')
            .ok_or("unterminated single quote")?
            .to_string())
    } else {
        Ok(value.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_values_comments_and_id_like_are_parsed() {
        let r = OsRelease::parse(
            "# comment\n\nNAME=\"Rocky Linux\"\nID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\n\
             VERSION_ID=\"9.4\"\nPRETTY_NAME='Rocky Linux 9.4 (Blue Onyx)'\n\
             X=\"a \\\"quoted\\\" \\$word\"\n",
        )
        .expect("parses");
        assert_eq!(r.id, "rocky");
        assert_eq!(r.id_like, vec!["rhel", "centos", "fedora"]);
        assert_eq!(r.version_id, "9.4");
        assert_eq!(r.major_version(), Some(9));
        assert_eq!(r.pretty_name, "Rocky Linux 9.4 (Blue Onyx)");
        assert_eq!(r.fields["X"], "a \"quoted\" $word");
        assert!(r.is_like("rhel") && r.is_like("rocky") && !r.is_like("debian"));
    }

    #[test]
    fn missing_id_defaults_to_linux() {
        let r = OsRelease::parse("NAME=Foo\n").expect("parses");
        assert_eq!((r.id.as_str(), r.pretty_name.as_str()), ("linux", "Foo"));
    }

    #[test]
    fn malformed_lines_are_errors_naming_the_line() {
        let e = OsRelease::parse("ID=debian\nthis is not valid\n").expect_err("bad line");
        assert_eq!(e.line, 2);
        assert!(e
            .to_string()
            .starts_with("os-release line 2: expected KEY=value"));
        let e = OsRelease::parse("NAME=\"unterminated\n").expect_err("bad quote");
        assert_eq!(e.message, "unterminated double quote");
    }
}
