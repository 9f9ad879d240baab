//! Container tasks on the machine's Docker engine: a restarted agent finds its running container
//! again (the same container, not a new one), a kill stops and removes it, and a container
//! labelled as a task the agent does not know is removed when the agent starts.

use std::process::Command;

use strato_agent::Agent;
use strato_proto::{ContainerSpec, TaskState};

use crate::common::{config, eventually, read, task, FakeMaster, Harness};

const IMAGE: &str = "strato-test-busybox:1";

fn image() {
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/container-image.sh");
    let made = Command::new("sh")
        .arg(script)
        .arg(IMAGE)
        .output()
        .expect("sh");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
}

fn docker(args: &[&str]) -> String {
    let out = Command::new("docker").args(args).output().expect("docker");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Container ids (running or not) labelled as `task`.
fn containers_of(task: &str) -> Vec<String> {
    docker(&[
        "ps",
        "-aq",
        "--filter",
        &format!("label=strato.task-id={task}"),
    ])
    .lines()
    .map(str::to_string)
    .collect()
}

fn with_engine(master: &FakeMaster, work: &std::path::Path) -> strato_agent::AgentConfig {
    let mut cfg = config(master, work, false);
    cfg.container_engine = "auto".into();
    cfg
}

#[tokio::test]
async fn a_restarted_agent_keeps_its_containers_and_removes_orphans() {
    image();
    let master = FakeMaster::start().await;
    let work = tempfile::tempdir().expect("work dir");
    let first = Agent::start(with_engine(&master, work.path()))
        .await
        .expect("agent starts");
    assert!(
        first
            .info()
            .container_engine
            .as_deref()
            .is_some_and(|e| e.starts_with("docker")),
        "the agent advertises its engine: {:?}",
        first.info().container_engine
    );
    let mut h = Harness {
        master,
        work,
        agent: Some(first),
        http: strato_tls::client(),
    };
    let mut t = task(
        "ctr-keep.1",
        "echo start >> /mnt/mesos/sandbox/starts; exec sleep 300",
    );
    t.container = Some(ContainerSpec {
        image: IMAGE.into(),
        ..ContainerSpec::default()
    });
    h.launch(&t).await;
    h.wait_state("ctr-keep.1", TaskState::Running).await;
    let before = containers_of("ctr-keep.1");
    assert_eq!(before.len(), 1, "{before:?}");
    let starts = h.sandbox("ctr-keep.1").join("starts");
    eventually("the container's first start", || async {
        (read(&starts) == "start\n").then_some(())
    })
    .await;

    // A container some earlier agent left, of a task nobody knows.
    let orphan = docker(&[
        "run",
        "-d",
        "--label",
        "strato.task-id=ctr-orphan.1",
        IMAGE,
        "sleep",
        "300",
    ]);
    assert!(!orphan.is_empty(), "the orphan runs");

    // Restart the agent, keeping tasks.
    let old = h.agent.take().expect("agent");
    old.stop().await;
    let second = Agent::start(with_engine(&h.master, h.work.path()))
        .await
        .expect("agent restarts");
    h.agent = Some(second);
    h.wait_state("ctr-keep.1", TaskState::Running).await;
    assert_eq!(
        containers_of("ctr-keep.1"),
        before,
        "the same container, not a new one"
    );
    assert_eq!(read(&starts), "start\n", "not restarted");
    assert!(
        containers_of("ctr-orphan.1").is_empty(),
        "the orphan was removed"
    );

    // A kill stops the container and removes it.
    h.kill("ctr-keep.1", Some(2)).await;
    h.wait_state("ctr-keep.1", TaskState::Killed).await;
    eventually("the killed task's container removed", || async {
        containers_of("ctr-keep.1").is_empty().then_some(())
    })
    .await;
    h.stop().await;
}
