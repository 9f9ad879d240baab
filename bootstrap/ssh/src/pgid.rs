//! Killing a remote command on timeout. OpenSSH ignores the SSH `signal` request for root logins
//! ("session signalling requires privilege separation") and closing the channel does not stop
//! a command that neither reads nor writes, so each command first reports its process group on
//! stderr; on timeout a second channel runs `kill -KILL -- -<pgid>`. The login shell sshd starts
//! is a session leader, so every process the command starts shares that group.

/// The first stderr line every command prints (and that is removed from its stderr).
const MARKER: &str = "@@strato-pgid ";

/// `command` prefixed with the line that reports its process group (`$$` of the login shell,
/// which sshd made a session and group leader).
pub(crate) fn with_pgid_report(command: &str) -> String {
    format!("printf '{MARKER}%s\\n' \"$$\" >&2; {command}")
}

/// The command that kills process group `pgid`.
pub(crate) fn kill_command(pgid: u32) -> String {
    format!("kill -KILL -- -{pgid}")
}

/// Splits the marker line off the start of stderr, whatever the chunking.
#[derive(Debug, Default)]
pub(crate) struct PgidSniffer {
    pending: Vec<u8>,
    done: bool,
    pgid: Option<u32>,
}

impl PgidSniffer {
    /// Feed a stderr chunk; returns the bytes that belong to the command's real stderr.
    pub(crate) fn feed(&mut self, chunk: &[u8]) -> Vec<u8> {
        if self.done {
            return chunk.to_vec();
        }
        self.pending.extend_from_slice(chunk);
        let Some(nl) = self.pending.iter().position(|&b| b == b'\n') else {
            // Give up waiting once the prefix cannot be the marker any more.
            if !MARKER
                .as_bytes()
                .starts_with(&self.pending[..self.pending.len().min(MARKER.len())])
            {
                self.done = true;
                return std::mem::take(&mut self.pending);
            }
            return Vec::new();
        };
        self.done = true;
        let line = String::from_utf8_lossy(&self.pending[..nl]).into_owned();
        match line
            .strip_prefix(MARKER)
            .and_then(|p| p.trim().parse().ok())
        {
            Some(pgid) => {
                self.pgid = Some(pgid);
                self.pending.drain(..=nl);
                std::mem::take(&mut self.pending)
            }
            None => std::mem::take(&mut self.pending),
        }
    }

    /// Whatever is still held back (stderr that ended before a newline).
    pub(crate) fn finish(&mut self) -> Vec<u8> {
        self.done = true;
        std::mem::take(&mut self.pending)
    }

    /// The reported process group, once seen.
    pub(crate) fn pgid(&self) -> Option<u32> {
        self.pgid
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_is_removed_across_chunk_boundaries() {
        let mut s = PgidSniffer::default();
        let mut err = s.feed(b"@@strato-");
        err.extend(s.feed(b"pgid 4242\nwarn"));
        err.extend(s.feed(b"ing\n"));
        err.extend(s.finish());
        assert_eq!(s.pgid(), Some(4242));
        assert_eq!(err, b"warning\n");
    }

    #[test]
    fn stderr_without_marker_passes_through_unchanged() {
        let mut s = PgidSniffer::default();
        let mut err = s.feed(b"bash: oops\n");
        err.extend(s.feed(b"more\n"));
        assert_eq!(
            (s.pgid(), err.as_slice()),
            (None, &b"bash: oops\nmore\n"[..])
        );
        let mut s = PgidSniffer::default();
        let mut err = s.feed(b"@@str");
        err.extend(s.finish());
        assert_eq!(err, b"@@str");
    }

    #[cfg(unix)]
    #[test]
    fn the_prefix_reports_the_shells_pid_in_a_real_shell() {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(with_pgid_report("echo $$"))
            .output()
            .expect("sh");
        let mut s = PgidSniffer::default();
        let rest = s.feed(&out.stderr);
        assert!(rest.is_empty());
        let pid: u32 = String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .expect("pid");
        assert_eq!(s.pgid(), Some(pid));
        assert_eq!(kill_command(7), "kill -KILL -- -7");
    }
}
