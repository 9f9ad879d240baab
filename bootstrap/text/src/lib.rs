//! Text Strato prints for people and for shells. Every table (job summaries, preflight checks,
//! cloud machines) and every quoted shell word (sudo wrapping, rendered scripts) comes from here,
//! so they look and behave the same everywhere.
mod shell_quote;
mod table;

pub use shell_quote::shell_quote;
pub use table::table;
