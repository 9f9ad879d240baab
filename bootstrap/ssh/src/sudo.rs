//! Running a command as root for a non-root login: `sudo -n -- sh -c '<command>'`. `-n` makes
//! sudo fail at once instead of waiting for a password nobody will type; we recognise that
//! failure and report it as [`SshError::SudoPasswordRequired`](crate::SshError).

use strato_text::shell_quote;

/// `command` run through `sh -c` under `sudo -n`. The whole command is one quoted argument, so
/// pipes, `&&` and redirections run as root too (plain `sudo a | b` would run only `a` as root).
pub fn sudo_wrap(command: &str) -> String {
    format!("sudo -n -- sh -c {}", shell_quote(command))
}

/// `command` as it should be sent: wrapped in sudo when `privileged` and the login user is not
/// root, unchanged otherwise.
pub fn remote_command(command: &str, privileged: bool, user: &str) -> String {
    if privileged && user != "root" {
        sudo_wrap(command)
    } else {
        command.to_string()
    }
}

/// Whether stderr shows sudo refusing for want of a password (`sudo -n` prints "a password is
/// required"; old versions say "a terminal is required to read the password").
pub fn sudo_wants_password(stderr: &[u8]) -> bool {
    let text = String::from_utf8_lossy(stderr);
    text.lines().any(|l| {
        l.starts_with("sudo:")
            && (l.contains("a password is required")
                || l.contains("a terminal is required to read the password"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sudo_wraps_the_whole_pipeline_for_non_root() {
        assert_eq!(
            remote_command("cat /etc/shadow | wc -l", true, "centos"),
            "sudo -n -- sh -c 'cat /etc/shadow | wc -l'"
        );
    }

    #[test]
    fn root_and_unprivileged_commands_are_unchanged() {
        assert_eq!(remote_command("id -u", true, "root"), "id -u");
        assert_eq!(remote_command("id -u", false, "centos"), "id -u");
    }

    #[test]
    fn sudo_password_prompt_is_recognised() {
        assert!(sudo_wants_password(b"sudo: a password is required\n"));
        assert!(sudo_wants_password(
            b"sudo: a terminal is required to read the password; either use the -S option\n"
        ));
        assert!(!sudo_wants_password(b"cat: x: No such file or directory\n"));
    }

    #[cfg(unix)]
    #[test]
    fn wrapped_command_runs_in_a_real_shell() {
        // What sudo would run, without sudo: the quoting survives a real sh.
        let cmd = "printf '%s\\n' \"it's\" && echo $((1+1))";
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("sh -c {}", shell_quote(cmd)))
            .output()
            .expect("sh runs");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "it's\n2\n");
    }
}
