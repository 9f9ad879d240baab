//! `strato passwd`: an argon2id hash of a password, for cluster.yaml's `gateway.users` (the
//! password itself never goes into the file, a log or the masters).
use std::io::{BufRead, IsTerminal};

use clap::Args;

use crate::{CliError, Exit};

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  strato passwd                          # asks twice, prints the hash
  echo \"$PW\" | strato passwd --stdin     # for scripts

Paste the hash into cluster.yaml:
  gateway:
    users:
      - name: alice
        password_hash: \"$argon2id$v=19$...\"")]
pub struct PasswdArgs {
    /// Read the password from the first line of standard input instead of asking.
    #[arg(long)]
    pub stdin: bool,
}

/// The shortest password accepted.
const MIN_LENGTH: usize = 8;

pub fn run(args: PasswdArgs) -> Result<Exit, CliError> {
    let password = if args.stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| CliError::Usage(format!("cannot read the password from stdin: {e}")))?;
        line.trim_end_matches(['\r', '\n']).to_string()
    } else {
        if !std::io::stdin().is_terminal() {
            return Err(CliError::Usage(
                "no terminal to ask the password on: pass it on stdin with --stdin".into(),
            ));
        }
        inquire::Password::new("Password:")
            .with_display_mode(inquire::PasswordDisplayMode::Hidden)
            .with_custom_confirmation_message("Again:")
            .prompt()
            .map_err(|e| CliError::Usage(format!("no password given: {e}")))?
    };
    if password.chars().count() < MIN_LENGTH {
        return Err(CliError::Usage(format!(
            "the password is too short: at least {MIN_LENGTH} characters"
        )));
    }
    let hash = strato_gateway::hash_password(&password)
        .map_err(|e| CliError::Other(anyhow::anyhow!("hashing the password: {e}")))?;
    println!("{hash}");
    Ok(Exit::Success)
}
