//! Facts about a pid from `/proc/<pid>/stat`, enough to tell a live process from a reused pid.

/// `(state, start_time)` from a `/proc/<pid>/stat` line. The command name may contain spaces and
/// parentheses, so fields are counted from the last `)`.
pub fn parse_stat(text: &str) -> Option<(char, u64)> {
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state is field 3 overall, starttime field 22.
    let state = fields.first()?.chars().next()?;
    let start_time = fields.get(19)?.parse().ok()?;
    Some((state, start_time))
}

/// The start time of `pid`, if it exists and is not a zombie.
pub fn live_start_time(pid: i32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    match parse_stat(&text)? {
        ('Z' | 'X', _) => None,
        (_, start) => Some(start),
    }
}

/// True while the process that had `start_time` still runs under `pid`.
pub fn is_same_live_process(pid: i32, start_time: u64) -> bool {
    live_start_time(pid) == Some(start_time)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_with_spaces_and_parens() {
        let line = "1234 (my (odd) name) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10 18446744073709551615";
        assert_eq!(parse_stat(line), Some(('S', 987654)));
    }

    #[test]
    fn our_own_process_is_live_and_stable() {
        let pid = std::process::id() as i32;
        let start = live_start_time(pid).expect("self");
        assert!(is_same_live_process(pid, start));
        assert!(!is_same_live_process(pid, start + 1));
    }
}
