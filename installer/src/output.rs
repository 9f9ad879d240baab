//! `-o/--output` (defined in strato-text, shared with `strato-cloud`).
pub use strato_text::{Output, OutputArg};
