//! The `strato init` wizard: questions as data (`questions`), a `Prompter` seam that asks them
//! (`prompter`), and the commented cluster.yaml it writes (`write`). Collecting answers has no side
//! effects; the command handler writes the file.
mod checks;
pub mod prompter;
pub mod questions;
pub mod write;

pub use prompter::{PromptError, Prompter, ScriptedPrompter, TermPrompter};
pub use questions::{Draft, Key, QUESTIONS};

/// How answers that no flag gave are obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Ask a person.
    Ask,
    /// Take defaults; a question without one is missing (scripts, `--yes`, no terminal).
    Defaults,
}

#[derive(Debug, thiserror::Error)]
pub enum WizardError {
    /// A value given by a flag (or its environment variable) is invalid.
    #[error("{flag}: {message}")]
    InvalidFlag { flag: &'static str, message: String },
    /// Values with no default were neither given nor asked for.
    #[error("missing {}: pass them as flags (or STRATO_INIT_* variables), or run `strato init` in a terminal to be asked", .0.join(", "))]
    Missing(Vec<String>),
    #[error("could not ask the question `{prompt}`")]
    Prompt {
        prompt: &'static str,
        #[source]
        source: PromptError,
    },
}

/// Completes `given` (answers from flags) by asking or by defaults, checking every answer with its
/// question's validator. Returns every answer that applies, ready for `write::render`.
pub fn collect(
    prompter: &mut dyn Prompter,
    given: &Draft,
    mode: Mode,
) -> Result<Draft, WizardError> {
    let mut draft = Draft::new();
    let mut missing = Vec::new();
    for question in QUESTIONS {
        if !question.applies(&draft) {
            continue;
        }
        if let Some(value) = given.get(&question.key) {
            let value = value.trim().to_owned();
            question
                .validate(&value, &draft)
                .map_err(|message| WizardError::InvalidFlag {
                    flag: question.flag,
                    message,
                })?;
            draft.insert(question.key, value);
            continue;
        }
        let default = question.default(&draft);
        let answer = match (mode, default) {
            (Mode::Ask, default) => {
                prompter
                    .ask(question, default, &draft)
                    .map_err(|source| WizardError::Prompt {
                        prompt: question.prompt,
                        source,
                    })?
            }
            (Mode::Defaults, Some(default)) => match question.validate(&default, &draft) {
                Ok(()) => default,
                // A default can be unusable here, e.g. no SSH key at the usual path.
                Err(message) => {
                    missing.push(format!(
                        "{} (the default does not work: {message})",
                        question.flag
                    ));
                    continue;
                }
            },
            (Mode::Defaults, None) => {
                missing.push(question.flag.to_owned());
                continue;
            }
        };
        draft.insert(question.key, answer);
    }
    if missing.is_empty() {
        Ok(draft)
    } else {
        Err(WizardError::Missing(missing))
    }
}

#[cfg(test)]
mod tests;
