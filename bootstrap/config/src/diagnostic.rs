//! `Diagnostic`: one problem found in a file, with its position and the key path as the user wrote
//! it, rendered as `FILE:LINE:COL: key.path: message` (the format editors and CI logs link to).
use std::fmt;

/// Whether a diagnostic makes the file invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The file is invalid; `strato validate` exits 1.
    Error,
    /// Worth reading, but the file is usable.
    Warning,
}

/// A 1-based line and column in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Mark {
    pub line: usize,
    pub column: usize,
}

impl Mark {
    /// The first character of a file: where problems with no better place are reported.
    pub const START: Mark = Mark { line: 1, column: 1 };
}

/// One problem, positioned in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// The file as the user named it (`cluster.yaml`, `genconf/config.yaml`).
    pub file: String,
    /// Where in the file; `None` when the problem has no place (a missing file-wide key in DC/OS
    /// style reports).
    pub mark: Option<Mark>,
    /// The key path as written in the file: `ssh.port`, `masters[1].address`; empty for the file
    /// as a whole.
    pub key: String,
    pub message: String,
}

impl Diagnostic {
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.file)?;
        if let Some(mark) = self.mark {
            write!(f, "{}:{}:", mark.line, mark.column)?;
        }
        if self.severity == Severity::Warning {
            write!(f, " warning:")?;
        }
        if !self.key.is_empty() {
            write!(f, " {}:", self.key)?;
        }
        write!(f, " {}", self.message)
    }
}

/// Every problem found in one pass, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }

    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter().filter(|d| d.is_error())
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter().filter(|d| !d.is_error())
    }

    pub fn error_count(&self) -> usize {
        self.errors().count()
    }

    /// Sort by position (problems without one first), keeping the discovery order for ties, so
    /// output reads top to bottom like the file.
    pub fn sort(&mut self) {
        self.0.sort_by_key(|d| d.mark.map(|m| (m.line, m.column)));
        self.0.dedup();
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.0 {
            writeln!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// Collects diagnostics for one file while it is read and checked.
#[derive(Debug)]
pub(crate) struct Sink {
    file: String,
    pub(crate) found: Vec<Diagnostic>,
}

impl Sink {
    pub(crate) fn new(file: impl Into<String>) -> Self {
        Sink {
            file: file.into(),
            found: Vec::new(),
        }
    }

    pub(crate) fn error(&mut self, mark: Option<Mark>, key: &str, message: impl Into<String>) {
        self.push(Severity::Error, mark, key, message.into());
    }

    pub(crate) fn warn(&mut self, mark: Option<Mark>, key: &str, message: impl Into<String>) {
        self.push(Severity::Warning, mark, key, message.into());
    }

    fn push(&mut self, severity: Severity, mark: Option<Mark>, key: &str, message: String) {
        self.found.push(Diagnostic {
            severity,
            file: self.file.clone(),
            mark,
            key: key.to_string(),
            message,
        });
    }

    pub(crate) fn finish(self) -> Diagnostics {
        let mut all = Diagnostics(self.found);
        all.sort();
        all
    }
}
