//! The real Metronome client from PyPI (dcos-metronome 0.3.0) against `strato up --local`:
//! tests/python/test_metronome_client.py creates jobs, runs them to success and to failure
//! (ON_FAILURE retries, activeDeadlineSeconds), manages schedules, stops runs and deletes jobs,
//! and checks the 409s and 422s. Schedule timing is tested with a clock in
//! runtime/master/src/jobs/tests.rs rather than by waiting for minutes here.

use crate::common::cluster::{run_python_client, LocalCluster};

#[test]
fn the_metronome_client_drives_jobs_on_a_local_cluster() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let cluster = LocalCluster::start(&scratch.path().join("data"));
    // dcos-metronome's generated protobuf code predates protobuf's C implementations.
    run_python_client(
        &cluster,
        "test_metronome_client.py",
        "STRATO_METRONOME_URL",
        &[("PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION", "python")],
    );
}
