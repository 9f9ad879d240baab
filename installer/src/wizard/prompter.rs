//! The `Prompter` seam: how a question reaches a person. `TermPrompter` asks in the terminal
//! (inquire); `ScriptedPrompter` answers from a list, for tests.
use std::collections::VecDeque;

use super::questions::{Draft, Key, Kind, Question};

#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    /// Ctrl-C or Esc.
    #[error("cancelled")]
    Cancelled,
    #[error("cannot talk to the terminal")]
    Terminal(#[source] std::io::Error),
    /// A scripted prompter was asked something its script does not answer.
    #[error("no scripted answer for {0:?}")]
    Unscripted(Key),
}

/// Asks one question until an answer passes its validator, and returns that answer.
pub trait Prompter {
    fn ask(
        &mut self,
        question: &'static Question,
        default: Option<String>,
        draft: &Draft,
    ) -> Result<String, PromptError>;
}

/// Asks in the terminal, showing the validator's message under the prompt as the user types.
#[derive(Debug, Default)]
pub struct TermPrompter;

impl Prompter for TermPrompter {
    fn ask(
        &mut self,
        question: &'static Question,
        default: Option<String>,
        draft: &Draft,
    ) -> Result<String, PromptError> {
        use inquire::validator::Validation;
        let answer = match question.kind {
            Kind::Select(choices) => {
                let labels: Vec<&str> = choices.iter().map(|c| c.label).collect();
                let start = default
                    .as_deref()
                    .and_then(|d| choices.iter().position(|c| c.value == d))
                    .unwrap_or(0);
                let picked = inquire::Select::new(question.prompt, labels)
                    .with_starting_cursor(start)
                    .raw_prompt()
                    .map_err(map_err)?;
                choices[picked.index].value.to_owned()
            }
            Kind::Text => {
                let draft = draft.clone();
                let validator = move |answer: &str| {
                    Ok(match question.validate(answer.trim(), &draft) {
                        Ok(()) => Validation::Valid,
                        Err(message) => Validation::Invalid(message.into()),
                    })
                };
                let mut prompt = inquire::Text::new(question.prompt).with_validator(validator);
                if !question.help.is_empty() {
                    prompt = prompt.with_help_message(question.help);
                }
                if let Some(default) = default.as_deref() {
                    prompt = prompt.with_default(default);
                }
                prompt.prompt().map_err(map_err)?.trim().to_owned()
            }
        };
        Ok(answer)
    }
}

fn map_err(err: inquire::InquireError) -> PromptError {
    match err {
        inquire::InquireError::IO(io) => PromptError::Terminal(io),
        inquire::InquireError::NotTTY => {
            PromptError::Terminal(std::io::Error::other("standard input is not a terminal"))
        }
        _ => PromptError::Cancelled,
    }
}

/// Answers from a script of `(question, typed text)`, in order. An answer that fails validation is
/// recorded in `rejected` with its message and the next scripted answer for that question is
/// tried, as a person would retype. An empty answer takes the default.
#[derive(Debug, Default)]
pub struct ScriptedPrompter {
    script: VecDeque<(Key, String)>,
    /// `(question, answer, validator message)` for every rejected answer.
    pub rejected: Vec<(Key, String, String)>,
    /// Every question asked, in order.
    pub asked: Vec<Key>,
}

impl ScriptedPrompter {
    pub fn new<'a>(script: impl IntoIterator<Item = (Key, &'a str)>) -> Self {
        ScriptedPrompter {
            script: script.into_iter().map(|(k, a)| (k, a.to_owned())).collect(),
            ..Self::default()
        }
    }
}

impl Prompter for ScriptedPrompter {
    fn ask(
        &mut self,
        question: &'static Question,
        default: Option<String>,
        draft: &Draft,
    ) -> Result<String, PromptError> {
        self.asked.push(question.key);
        loop {
            let (key, typed) = match self.script.front() {
                Some((key, _)) if *key == question.key => {
                    self.script.pop_front().expect("front exists")
                }
                _ => return Err(PromptError::Unscripted(question.key)),
            };
            let answer = match (typed.trim(), &default) {
                ("", Some(default)) => default.clone(),
                (text, _) => text.to_owned(),
            };
            match question.validate(&answer, draft) {
                Ok(()) => return Ok(answer),
                Err(message) => self.rejected.push((key, answer, message)),
            }
        }
    }
}
