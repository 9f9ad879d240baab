//! `-o/--output`: the one meaning of `-o` on every command that prints results (as in kubectl),
//! shared by `strato` and `strato-cloud`. Paths that commands write to have their own long flags
//! (`--out`, `--out-dir`).
use clap::{Args, ValueEnum};

/// How results are printed on stdout.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// Tables and sentences for people (live progress on stderr).
    #[default]
    #[value(alias = "text")]
    Table,
    /// JSON on stdout for programs (job commands: one event per line, then the job).
    Json,
}

/// The `-o/--output` flag, flattened into every command that prints results.
#[derive(Debug, Clone, Copy, Args)]
pub struct OutputArg {
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Output::Table)]
    pub output: Output,
}
