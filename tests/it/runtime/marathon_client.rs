//! The real `marathon` client from PyPI against `strato up --local`: tests/python/
//! test_marathon_client.py covers create, list, get, update, scale, restart, rollback, kill,
//! delete, deployments, queue, info, leader, the event stream, and groups (create, get, list,
//! update, rollback, scale, delete).

use std::process::Command;

use crate::common::cluster::{marathon_python, LocalCluster};
use crate::common::repo_root;

#[test]
fn the_marathon_python_client_drives_a_local_cluster() {
    let python = marathon_python();
    let scratch = tempfile::tempdir().expect("tempdir");
    let cluster = LocalCluster::start(&scratch.path().join("data"));
    let script = repo_root().join("tests/python/test_marathon_client.py");
    let output = Command::new(&python)
        .arg(&script)
        .env("STRATO_MARATHON_URL", cluster.marathon_url(""))
        .env("PYTHONUNBUFFERED", "1")
        .output()
        .expect("run the marathon client script");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{} failed ({})\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}\n{}",
        script.display(),
        output.status,
        cluster.log_text()
    );
    assert!(
        stdout.contains("PASSED"),
        "the script did not reach its end:\n{stdout}"
    );
}
