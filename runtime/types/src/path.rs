//! Marathon path ids (`/group/app`): segment syntax, normalisation and the names derived from them.

use std::sync::OnceLock;

use regex::Regex;

/// An absolute, normalised app or group id such as `/shop/db`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PathId(String);

const RESERVED_LAST: [&str; 3] = ["restart", "tasks", "versions"];

fn segment_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"^(([a-z0-9]|[a-z0-9][a-z0-9\-]*[a-z0-9])\.)*([a-z0-9]|[a-z0-9][a-z0-9\-]*[a-z0-9])$",
        )
        .expect("static regex")
    })
}

impl PathId {
    /// Normalises `app`, `/app`, `//a/b/` to an absolute id without checking segment syntax.
    pub fn normalise(raw: &str) -> PathId {
        let segments: Vec<&str> = raw.split('/').filter(|s| !s.is_empty()).collect();
        PathId(format!("/{}", segments.join("/")))
    }

    /// Checks Marathon's segment syntax; the error is Marathon's wording.
    pub fn parse(raw: &str) -> Result<PathId, String> {
        let id = PathId::normalise(raw);
        if id.0 == "/" {
            return Err("path must not be empty".into());
        }
        for segment in id.segments() {
            if !segment_regex().is_match(segment) {
                return Err(format!(
                    "must fully match regular expression '^(([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])\\.)*([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])|(\\.|\\.\\.)$' (segment '{segment}')"
                ));
            }
        }
        if let Some(last) = id.segments().last() {
            if RESERVED_LAST.contains(&last) {
                return Err(format!("must not end with '{last}'"));
            }
        }
        Ok(id)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split('/').filter(|s| !s.is_empty())
    }

    /// The parent group (`/` for a top-level app).
    pub fn parent(&self) -> PathId {
        let segments: Vec<&str> = self.segments().collect();
        PathId::normalise(&segments[..segments.len().saturating_sub(1)].join("/"))
    }

    /// Marathon's "safe" id used in task ids: `/shop/db` → `shop_db`.
    pub fn safe(&self) -> String {
        self.segments().collect::<Vec<_>>().join("_")
    }

    /// Mesos task name: reversed path joined by dots, `/shop/db` → `db.shop`.
    pub fn hostname(&self) -> String {
        let mut segments: Vec<&str> = self.segments().collect();
        segments.reverse();
        segments.join(".")
    }
}

impl std::fmt::Display for PathId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_and_doubled_slashes_normalise() {
        assert_eq!(PathId::normalise("app").as_str(), "/app");
        assert_eq!(PathId::normalise("//shop/db/").as_str(), "/shop/db");
    }

    #[test]
    fn uppercase_and_reserved_names_are_rejected() {
        assert!(PathId::parse("/MyApp").is_err());
        assert!(PathId::parse("/a/-b").is_err());
        assert!(PathId::parse("/a/tasks").is_err());
        assert!(PathId::parse("/a.b/c-d").is_ok());
    }

    #[test]
    fn derived_names() {
        let id = PathId::normalise("/shop/db");
        assert_eq!(id.safe(), "shop_db");
        assert_eq!(id.hostname(), "db.shop");
        assert_eq!(id.parent().as_str(), "/shop");
        assert_eq!(PathId::normalise("/x").parent().as_str(), "/");
    }
}
