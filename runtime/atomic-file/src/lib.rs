//! The one way Strato replaces a file on disk.
//!
//! Checkpoints, journals, host-key pins, the serve tree, bundles and `cluster.yaml` edits all go
//! through [`AtomicFile`], so a crash leaves either the old file or the new one, never a torn mix:
//!
//! 1. the bytes go to a uniquely named temporary file in the same directory (so the rename stays
//!    on one file system, and two concurrent writers never share a temporary name);
//! 2. the temporary file gets its mode: the one asked for, else the replaced file's, else `0600`
//!    (state is private unless a caller says otherwise);
//! 3. `fsync` the file, rename it over the destination, `fsync` the directory (without the last
//!    step the rename itself may not survive a power cut).
//!
//! Dropping an [`AtomicFile`] without [`AtomicFile::commit`] removes the temporary file.
mod atomic_file;

pub use atomic_file::{copy, write, write_with_mode, AtomicFile};
