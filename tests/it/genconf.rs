//! `strato genconf` seen from outside: real files in, real output checked.
