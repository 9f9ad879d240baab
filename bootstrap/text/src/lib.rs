//! Text Strato prints for people and for shells. Every table (job summaries, preflight checks,
//! cloud machines) and every quoted shell word (sudo wrapping, rendered scripts) comes from here,
//! so they look and behave the same everywhere. With the `clap` feature it also holds the
//! `-o/--output` flag both CLIs share.
#[cfg(feature = "clap")]
mod output_format;
mod shell_quote;
mod table;

#[cfg(feature = "clap")]
pub use output_format::{Output, OutputArg};
pub use shell_quote::shell_quote;
pub use table::table;
