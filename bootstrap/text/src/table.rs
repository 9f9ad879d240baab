use unicode_width::UnicodeWidthStr;

/// A borderless, left-aligned table (kubectl style): columns two spaces apart, sized by display
/// width (so `ü` or `✓` do not shift a column), the last column unpadded, no trailing spaces.
/// A row shorter than the header leaves its last columns empty.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.width()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.width());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut l = String::new();
        for (i, cell) in cells.enumerate() {
            l.push_str(cell);
            if i + 1 < widths.len() {
                let pad = widths[i].saturating_sub(cell.width()) + 2;
                l.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(&mut header.iter().copied());
    for row in rows {
        line(&mut row.iter().map(String::as_str));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up_by_display_width() {
        let out = table(
            &["HOST", "STATE", "MESSAGE"],
            &[
                vec!["nœud-ü".into(), "ok".into(), "installed".into()],
                vec!["10.0.0.12".into(), "FAILED".into(), String::new()],
                vec!["✓✓".into()],
            ],
        );
        assert_eq!(
            out,
            "HOST       STATE   MESSAGE\n\
             nœud-ü     ok      installed\n\
             10.0.0.12  FAILED\n\
             ✓✓\n"
        );
    }
}
