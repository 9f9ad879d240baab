//! The PASS/WARN/FAIL table an operator reads: one row per check, columns aligned.

use super::{CheckResult, Status};

const HEADER: [&str; 5] = ["STATUS", "CHECK", "MEASURED", "REQUIRED", "MESSAGE"];

/// Render `results` as an aligned text table (no colour; the CLI may add it). A waived check
/// shows `WARN` with "(waived)" before its message.
pub fn render_table(results: &[CheckResult]) -> String {
    let rows: Vec<[String; 5]> = results
        .iter()
        .map(|r| {
            let message = if r.waived {
                format!("(waived) {}", r.message).trim_end().to_string()
            } else {
                r.message.clone()
            };
            [
                r.status.to_string(),
                r.name.clone(),
                r.measured.clone(),
                r.required.clone(),
                message,
            ]
        })
        .collect();
    let mut widths = HEADER.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: [&str; 5]| {
        let mut l = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                l.push_str(cell);
            } else {
                l.push_str(&format!("{cell:<w$}  ", w = widths[i]));
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(HEADER);
    for row in &rows {
        line([&row[0], &row[1], &row[2], &row[3], &row[4]]);
    }
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
