//! `strato completion <shell>`: the completion script for a shell, from the clap definitions.
use clap::{Args, CommandFactory};
use clap_complete::Shell;

use crate::cli::Cli;
use crate::{CliError, Exit};

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  strato completion bash > ~/.local/share/bash-completion/completions/strato
  strato completion zsh > \"${fpath[1]}/_strato\"
  strato completion fish > ~/.config/fish/completions/strato.fish
  strato completion powershell >> $PROFILE")]
pub struct CompletionArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

pub fn run(args: CompletionArgs) -> Result<Exit, CliError> {
    let mut command = Cli::command();
    clap_complete::generate(args.shell, &mut command, "strato", &mut std::io::stdout());
    Ok(Exit::Success)
}
