//! Tasks as systemd transient units. Runs only where systemd is PID 1 and the tests run as root
//! (the agent's own rule for choosing this launcher); elsewhere it says so and returns.

use strato_agent::executor::systemd::{unit_name, SystemdLauncher};
use strato_agent::LauncherChoice;
use strato_proto::TaskState;

use crate::common::{eventually, read, task, Harness};

async fn unit_property(unit: &str, property: &str) -> String {
    let out = tokio::process::Command::new("systemctl")
        .args(["show", unit, &format!("--property={property}"), "--value"])
        .output()
        .await
        .expect("systemctl");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[tokio::test]
async fn systemd_units_run_tasks_with_limits_and_exit_codes() {
    if !SystemdLauncher::available().await {
        eprintln!("skipped: systemd is not PID 1 here or the test is not root");
        return;
    }
    let mut h = Harness::start_with(|c| c.launcher = LauncherChoice::Systemd).await;

    h.launch(&task("sd-fail.1", "echo hi; exit 4")).await;
    let failed = h.wait_state("sd-fail.1", TaskState::Failed).await;
    assert_eq!(
        failed.message.as_deref(),
        Some("Command exited with status 4")
    );
    assert_eq!(read(&h.sandbox("sd-fail.1").join("stdout")), "hi\n");

    h.launch(&task("sd-sleep.1", "sleep 300")).await;
    h.wait_state("sd-sleep.1", TaskState::Running).await;
    let unit = unit_name("sd-sleep.1");
    // The launch's 32 MiB became the unit's memory limit.
    assert_eq!(
        unit_property(&unit, "MemoryMax").await,
        (32u64 << 20).to_string()
    );
    h.kill("sd-sleep.1", Some(5)).await;
    h.wait_state("sd-sleep.1", TaskState::Killed).await;
    eventually("the unit to be gone", || async {
        (unit_property(&unit, "LoadState").await == "not-found").then_some(())
    })
    .await;
    h.stop().await;
}
