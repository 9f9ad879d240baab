/// Quote `s` as one POSIX shell word: plain words (letters, digits, `-_./=:,+@%`) stay as they
/// are, anything else is single-quoted with each `'` written as `'\''`.
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b))
    {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_words_stay_and_the_rest_is_single_quoted() {
        assert_eq!(shell_quote("strato-agent.service"), "strato-agent.service");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote("$(reboot)"), "'$(reboot)'");
    }

    #[test]
    fn the_shell_reads_back_exactly_the_input() {
        for input in ["it's", "a\nb", "$HOME `x` \"q\" \\", "ünïcødé ✓", ""] {
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("printf %s {}", shell_quote(input)))
                .output()
                .expect("sh");
            assert_eq!(String::from_utf8_lossy(&out.stdout), input);
        }
    }
}
