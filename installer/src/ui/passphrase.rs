//! The passphrase of an encrypted SSH key, asked on the terminal (review M-12). Scripts keep
//! `STRATO_SSH_PASSPHRASE`, which is read first; without a terminal nothing is asked and an
//! encrypted key fails naming that variable. Asked at most once per key and run
//! (`strato_ssh::set_passphrase_prompt` keeps the answer in memory for the run).

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;

/// Plugs the terminal prompt into SSH key loading when stdin and stderr are a terminal.
pub fn install_prompt() {
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return;
    }
    strato_ssh::set_passphrase_prompt(Arc::new(|path: &Path| {
        inquire::Password::new(&format!("Passphrase for {}:", path.display()))
            .without_confirmation()
            .with_display_mode(inquire::PasswordDisplayMode::Hidden)
            .prompt()
            .ok()
    }));
}
