//! `strato init` seen from outside: real files in, real output checked.
