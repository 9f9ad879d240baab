//! The real `marathon` client from PyPI against `strato up --local`: tests/python/
//! test_marathon_client.py covers create, list, get, update, scale, restart, rollback, kill,
//! delete, deployments, queue, info, leader, the event stream, and groups (create, get, list,
//! update, rollback, scale, delete).

use crate::common::cluster::{run_python_client, LocalCluster};

#[test]
fn the_marathon_python_client_drives_a_local_cluster() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let cluster = LocalCluster::start(&scratch.path().join("data"));
    run_python_client(
        &cluster,
        "test_marathon_client.py",
        "STRATO_MARATHON_URL",
        &[],
    );
}
