//! `strato up` argument errors, before anything starts.

use predicates::prelude::predicate;

use crate::common::strato;

#[test]
fn up_without_local_is_a_usage_error() {
    strato()
        .arg("up")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--local"));
}

#[test]
fn a_bad_task_port_range_is_a_usage_error_naming_the_flag() {
    let scratch = tempfile::tempdir().expect("tempdir");
    strato()
        .args(["up", "--local", "--task-ports", "32000-31000", "--data-dir"])
        .arg(scratch.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--task-ports"));
}
