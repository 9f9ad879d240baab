//! The PASS/WARN/FAIL table an operator reads: one row per check, columns aligned.

use super::{CheckResult, Status};

const HEADER: [&str; 5] = ["STATUS", "CHECK", "MEASURED", "REQUIRED", "MESSAGE"];

/// Render `results` as an aligned text table (no colour; the CLI may add it). A waived check
/// shows `WARN` with "(waived)" before its message.
pub fn render_table(results: &[CheckResult]) -> String {
    let rows: Vec<Vec<String>> = results
        .iter()
        .map(|r| {
            let message = if r.waived {
                format!("(waived) {}", r.message).trim_end().to_string()
            } else {
                r.message.clone()
            };
            vec![
                r.status.to_string(),
                r.name.clone(),
                r.measured.clone(),
                r.required.clone(),
                message,
            ]
        })
        .collect();
    let mut out = strato_text::table(&HEADER, &rows);
    let count = |s| results.iter().filter(|r| r.status == s).count();
    let warnings = count(Status::Warn);
    out.push_str(&format!(
        "{} passed, {warnings} {}, {} failed\n",
        count(Status::Pass),
        if warnings == 1 { "warning" } else { "warnings" },
        count(Status::Fail)
    ));
    out
}
