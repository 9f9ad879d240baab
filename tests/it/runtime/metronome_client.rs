//! The real Metronome client from PyPI (dcos-metronome 0.3.0) against `strato up --local`:
//! tests/python/test_metronome_client.py creates jobs, runs them to success and to failure
//! (ON_FAILURE retries, activeDeadlineSeconds), manages schedules, stops runs and deletes jobs,
//! and checks the 409s and 422s. Schedule timing is tested with a clock in
//! runtime/master/src/jobs/tests.rs rather than by waiting for minutes here.

use std::process::Command;

use crate::common::cluster::{marathon_python, LocalCluster};
use crate::common::repo_root;

#[test]
fn the_metronome_client_drives_jobs_on_a_local_cluster() {
    let python = marathon_python();
    let scratch = tempfile::tempdir().expect("tempdir");
    let cluster = LocalCluster::start(&scratch.path().join("data"));
    let script = repo_root().join("tests/python/test_metronome_client.py");
    let output = Command::new(&python)
        .arg(&script)
        .env("STRATO_METRONOME_URL", cluster.marathon_url(""))
        // dcos-metronome's generated protobuf code predates protobuf's C implementations.
        .env("PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION", "python")
        .env("PYTHONUNBUFFERED", "1")
        .output()
        .expect("run the metronome client script");
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
