//! Confirmation for destructive commands, the same flow as `strato cloud destroy`: the operator
//! types the cluster name; `--yes` skips the question; without a terminal and without `--yes`
//! the command refuses (a script must say yes explicitly).
use std::io::{BufRead, Write};

/// How the operator agrees.
pub enum Confirm<'a> {
    /// `--yes`.
    Yes,
    /// Ask on a terminal.
    Ask {
        input: &'a mut dyn BufRead,
        prompt: &'a mut dyn Write,
    },
    /// No terminal and no `--yes`.
    NoTerminal,
}

/// The outcome of asking.
#[derive(Debug, PartialEq, Eq)]
pub enum Confirmed {
    Yes,
    /// The operator typed something else.
    No,
    /// Nobody to ask and no `--yes`.
    Refused,
}

impl Confirm<'_> {
    /// Show `what` (lines describing what will go) and have the operator type `name`.
    pub fn ask(self, what: &str, name: &str) -> std::io::Result<Confirmed> {
        match self {
            Confirm::Yes => Ok(Confirmed::Yes),
            Confirm::NoTerminal => Ok(Confirmed::Refused),
            Confirm::Ask { input, prompt } => {
                write!(prompt, "{what}Type the cluster name ({name}) to confirm: ")?;
                prompt.flush()?;
                let mut answer = String::new();
                input.read_line(&mut answer)?;
                Ok(if answer.trim() == name {
                    Confirmed::Yes
                } else {
                    Confirmed::No
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(typed: &str) -> (Confirmed, String) {
        let mut input = typed.as_bytes();
        let mut prompt = Vec::new();
        let answer = Confirm::Ask {
            input: &mut input,
            prompt: &mut prompt,
        }
        .ask("This deletes everything.\n", "demo")
        .expect("ask");
        (answer, String::from_utf8(prompt).expect("utf-8"))
    }

    #[test]
    fn only_the_exact_cluster_name_confirms() {
        let (answer, prompt) = ask("demo\n");
        assert_eq!(answer, Confirmed::Yes);
        assert_eq!(
            prompt,
            "This deletes everything.\nType the cluster name (demo) to confirm: "
        );
        assert_eq!(ask("y\n").0, Confirmed::No);
        assert_eq!(ask("").0, Confirmed::No);
    }

    #[test]
    fn yes_skips_the_question_and_no_terminal_refuses() {
        assert_eq!(Confirm::Yes.ask("", "demo").expect("ask"), Confirmed::Yes);
        assert_eq!(
            Confirm::NoTerminal.ask("", "demo").expect("ask"),
            Confirmed::Refused
        );
    }
}
