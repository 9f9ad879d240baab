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

#[test]
fn up_prints_every_url_once_everything_answers() {
    use std::time::Duration;

    use crate::common::cluster::{wait_until, LocalCluster};

    let scratch = tempfile::tempdir().expect("tempdir");
    let cluster = LocalCluster::start(&scratch.path().join("data"));
    let log = wait_until(Duration::from_secs(30), "the URLs on stdout", || {
        let log = cluster.log_text();
        log.contains("Press Ctrl-C").then_some(log)
    });
    let p = cluster.ports;
    for line in [
        format!("Dashboard     http://127.0.0.1:{}/", p.mesos),
        format!("Marathon API  http://127.0.0.1:{}/v2/apps", p.marathon),
        format!("Mesos API     http://127.0.0.1:{}/master/state", p.mesos),
        format!("DNS           127.0.0.1:{}", p.dns),
    ] {
        assert!(log.contains(&line), "missing `{line}` in\n{log}");
    }
    assert!(
        !log.contains("warning:"),
        "something did not answer:\n{log}"
    );
    // What the URLs promise answers.
    let (status, _) = cluster.get("/v2/apps");
    assert_eq!(status, 200);
}
