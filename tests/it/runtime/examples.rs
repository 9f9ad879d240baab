//! Every app definition in examples/apps/ runs on `strato up --local` (healthy where it has checks),
//! the container one on the machine's Docker engine.

use std::time::Duration;

use serde_json::Value;

use crate::common::cluster::LocalCluster;
use crate::common::repo_root;

#[test]
fn every_example_app_runs_on_a_local_cluster() {
    let dir = repo_root().join("examples/apps");
    let mut examples: Vec<_> = std::fs::read_dir(&dir)
        .expect("examples/apps exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    examples.sort();
    assert!(
        examples.len() >= 3,
        "expected at least three examples in {}",
        dir.display()
    );

    // The container example names busybox:1.36; no registry is reachable here, so the engine is
    // given the test's busybox image under that name, as a pull would have left it.
    crate::common::container_image("strato-test-busybox:1");
    let tagged = std::process::Command::new("docker")
        .args(["tag", "strato-test-busybox:1", "busybox:1.36"])
        .status()
        .expect("docker tag");
    assert!(tagged.success());

    let scratch = tempfile::tempdir().expect("tempdir");
    let cluster = LocalCluster::start(&scratch.path().join("data"));
    let mut apps = Vec::new();
    for path in &examples {
        let text = std::fs::read_to_string(path).expect("read example");
        let app: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let (status, body) = cluster.post("/v2/apps", &app);
        assert_eq!(
            status,
            201,
            "{}: create answered {status}: {body}",
            path.display()
        );
        apps.push(app);
    }
    for app in &apps {
        let id = app["id"].as_str().expect("example has an id");
        let instances = app["instances"].as_u64().unwrap_or(1);
        cluster.wait_running(id, instances, Duration::from_secs(90));
    }
}
