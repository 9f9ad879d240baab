//! Live progress from a job's events: a line per host (indicatif) on a terminal, plain lines
//! otherwise, or one JSON event per line with `-o json`.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use strato_api::{CheckRow, Event, EventKind};

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Bars on a terminal, lines otherwise (stderr).
    Human,
    /// Each event as a JSON line on stdout.
    Json,
}

/// Receives events in order and draws them.
pub struct Progress {
    mode: Mode,
    multi: Option<MultiProgress>,
    bars: BTreeMap<String, ProgressBar>,
    /// Preflight rows per host, printed at the end.
    pub checks: BTreeMap<String, Vec<CheckRow>>,
}

impl Progress {
    pub fn new(mode: Mode) -> Self {
        let multi = (mode == Mode::Human && std::io::stderr().is_terminal() && !super::quiet())
            .then(MultiProgress::new);
        Progress {
            mode,
            multi,
            bars: BTreeMap::new(),
            checks: BTreeMap::new(),
        }
    }

    fn bar(&mut self, host: &str) -> Option<&ProgressBar> {
        let multi = self.multi.as_ref()?;
        if !self.bars.contains_key(host) {
            let bar = multi.add(ProgressBar::new_spinner());
            bar.set_style(
                ProgressStyle::with_template("{spinner} {prefix:<18} {wide_msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.set_prefix(host.to_string());
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            self.bars.insert(host.to_string(), bar);
        }
        self.bars.get(host)
    }

    /// Show one event.
    pub fn event(&mut self, e: &Event) {
        if let EventKind::Preflight { checks } = &e.kind {
            if let Some(h) = &e.host {
                self.checks
                    .entry(h.clone())
                    .or_default()
                    .extend(checks.clone());
            }
        }
        if self.mode == Mode::Json {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{}", serde_json::to_string(e).unwrap_or_default());
            return;
        }
        if super::quiet() {
            return; // -q: the summary on stdout and errors only
        }
        if self.multi.is_none() && matches!(e.kind, EventKind::HostStarted) {
            return; // a line per host per phase start is noise without bars
        }
        let Some(line) = describe(e) else { return };
        let host = e.host.clone().unwrap_or_default();
        let failed = matches!(e.kind, EventKind::HostFailed { .. });
        match (self.multi.is_some() && !host.is_empty(), self.bar(&host)) {
            (true, Some(bar)) => {
                if failed {
                    bar.abandon_with_message(format!("FAILED {line}"));
                } else {
                    bar.set_message(line);
                }
            }
            _ if host.is_empty() => eprintln!("==> {line}"),
            _ => eprintln!("    {host}: {line}"),
        }
    }

    /// Stop the bars (keeping their last line).
    pub fn finish(&mut self) {
        for bar in self.bars.values() {
            if !bar.is_finished() {
                bar.finish();
            }
        }
    }
}

/// One human line for an event, or `None` for events not worth a line.
pub fn describe(e: &Event) -> Option<String> {
    let phase = e.phase.as_deref().unwrap_or("");
    Some(match &e.kind {
        EventKind::JobStarted {
            kind,
            hosts,
            resumed,
        } => format!(
            "{} {kind} on {hosts} hosts",
            if *resumed { "resuming" } else { "starting" }
        ),
        EventKind::PhaseStarted { hosts } => format!("{phase} ({hosts} hosts)"),
        EventKind::HostStarted => format!("{phase}…"),
        EventKind::Progress { message } => format!("{phase}: {message}"),
        EventKind::HostDone { message, .. } => format!("{phase}: {message}"),
        EventKind::HostSkipped { reason } => format!("{phase}: skipped ({reason})"),
        EventKind::HostFailed { message } => format!("{phase}: {message}"),
        EventKind::Planned { description } => description.clone(),
        EventKind::Preflight { .. } | EventKind::PhaseFinished { .. } => return None,
        EventKind::JobFinished { state } => format!("finished: {state:?}").to_lowercase(),
    })
}
