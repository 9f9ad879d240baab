//! Task lifecycle through the agent's HTTP API with real processes.

use strato_proto::TaskState;

use crate::common::{eventually, read, task, Harness};

#[tokio::test]
async fn cmd_task_runs_then_finishes_with_stdout_in_the_sandbox() {
    let mut h = Harness::start().await;
    let t = task("echo.1", "echo hello from $MESOS_TASK_ID; echo oops >&2");
    assert_eq!(h.launch(&t).await, reqwest::StatusCode::ACCEPTED);
    let done = h.wait_state("echo.1", TaskState::Finished).await;
    assert_eq!(
        done.message.as_deref(),
        Some("Command exited with status 0")
    );
    assert!(done.started_at.is_some());
    assert_eq!(done.ports, vec![31001]);
    let sandbox = h.sandbox("echo.1");
    assert_eq!(read(&sandbox.join("stdout")), "hello from echo.1\n");
    assert_eq!(read(&sandbox.join("stderr")), "oops\n");
    // Every step was pushed to the master, in order.
    let states = eventually("updates delivered", || async {
        let s = h.master.states_of("echo.1");
        (s.last() == Some(&TaskState::Finished)).then_some(s)
    })
    .await;
    assert_eq!(
        states,
        vec![
            TaskState::Staging,
            TaskState::Starting,
            TaskState::Running,
            TaskState::Finished
        ]
    );
    h.stop().await;
}

#[tokio::test]
async fn long_task_is_reported_running() {
    let mut h = Harness::start().await;
    h.launch(&task("sleeper.1", "sleep 300")).await;
    let running = h.wait_state("sleeper.1", TaskState::Running).await;
    assert_eq!(running.app_id, "/test/app");
    h.stop().await;
}

#[tokio::test]
async fn task_sees_the_marathon_environment_and_its_sandbox() {
    let mut h = Harness::start().await;
    h.launch(&task("env.1", "env; pwd")).await;
    h.wait_state("env.1", TaskState::Finished).await;
    let sandbox = h.sandbox("env.1");
    let out = read(&sandbox.join("stdout"));
    for line in [
        "PORT0=31001".to_string(),
        "PORTS=31001".to_string(),
        "HOST=127.0.0.1".to_string(),
        "MARATHON_APP_ID=/test/app".to_string(),
        "MESOS_TASK_ID=env.1".to_string(),
        format!("MESOS_SANDBOX={}", sandbox.display()),
        // pwd: the task runs in its sandbox.
        sandbox.display().to_string(),
    ] {
        assert!(
            out.lines().any(|l| l == line),
            "{line} missing from:\n{out}"
        );
    }
    h.stop().await;
}

#[tokio::test]
async fn args_are_executed_without_a_shell() {
    let mut h = Harness::start().await;
    let mut t = task("args.1", "");
    t.cmd = None;
    t.args = Some(vec!["/bin/echo".into(), "$PORT0".into(), "a b".into()]);
    h.launch(&t).await;
    h.wait_state("args.1", TaskState::Finished).await;
    assert_eq!(read(&h.sandbox("args.1").join("stdout")), "$PORT0 a b\n");
    h.stop().await;
}

#[tokio::test]
async fn failed_exit_is_task_failed_with_the_exit_code() {
    let mut h = Harness::start().await;
    h.launch(&task("fail.1", "exit 3")).await;
    let failed = h.wait_state("fail.1", TaskState::Failed).await;
    assert_eq!(
        failed.message.as_deref(),
        Some("Command exited with status 3")
    );
    h.stop().await;
}

#[tokio::test]
async fn missing_program_is_task_failed() {
    let mut h = Harness::start().await;
    let mut t = task("noprog.1", "");
    t.cmd = None;
    t.args = Some(vec!["/nonexistent/program".into()]);
    h.launch(&t).await;
    let failed = h.wait_state("noprog.1", TaskState::Failed).await;
    let message = failed.message.unwrap_or_default();
    assert!(message.contains("/nonexistent/program"), "{message}");
    h.stop().await;
}

#[tokio::test]
async fn kill_sends_sigterm_which_ends_the_task() {
    let mut h = Harness::start().await;
    let mut t = task("term.1", "sleep 300");
    // A long grace period: the task must end on SIGTERM, long before SIGKILL would come.
    t.kill_grace_period_seconds = 120;
    h.launch(&t).await;
    h.wait_state("term.1", TaskState::Running).await;
    assert_eq!(h.kill("term.1", None).await, reqwest::StatusCode::ACCEPTED);
    let killed = h.wait_state("term.1", TaskState::Killed).await;
    assert_eq!(
        killed.message.as_deref(),
        Some("Command terminated with signal SIGTERM")
    );
    h.stop().await;
}

#[tokio::test]
async fn kill_escalates_to_sigkill_after_the_grace_period() {
    let mut h = Harness::start().await;
    // The shell ignores TERM and so does the sleep it starts (ignored signals are inherited).
    let t = task(
        "stubborn.1",
        "trap '' TERM; echo ready; sleep 300; echo survived",
    );
    h.launch(&t).await;
    let stdout = h.sandbox("stubborn.1").join("stdout");
    eventually("the task to ignore TERM", || async {
        read(&stdout).contains("ready").then_some(())
    })
    .await;
    assert_eq!(
        h.kill("stubborn.1", Some(1)).await,
        reqwest::StatusCode::ACCEPTED
    );
    let killed = h.wait_state("stubborn.1", TaskState::Killed).await;
    assert_eq!(
        killed.message.as_deref(),
        Some("Command terminated with signal SIGKILL")
    );
    assert!(!read(&stdout).contains("survived"));
    let states = eventually("KILLED pushed", || async {
        let s = h.master.states_of("stubborn.1");
        (s.last() == Some(&TaskState::Killed)).then_some(s)
    })
    .await;
    assert!(
        states.ends_with(&[TaskState::Killing, TaskState::Killed]),
        "{states:?}"
    );
    h.stop().await;
}

#[tokio::test]
async fn docker_task_fails_like_mesos_without_a_container_runtime() {
    let mut h = Harness::start().await;
    let mut t = task("docker.1", "nginx -g 'daemon off;'");
    t.docker_image = Some("nginx:1.27".into());
    assert_eq!(h.launch(&t).await, reqwest::StatusCode::ACCEPTED);
    let failed = h.wait_state("docker.1", TaskState::Failed).await;
    let message = failed.message.unwrap_or_default();
    assert!(
        message.contains("no containerizer on this agent can run Docker image"),
        "{message}"
    );
    assert!(message.contains("nginx:1.27"), "{message}");
    // The agent is still serving.
    assert_eq!(
        h.http
            .get(h.url("/health"))
            .send()
            .await
            .expect("health")
            .text()
            .await
            .expect("body"),
        "ok"
    );
    h.stop().await;
}

#[tokio::test]
async fn bad_requests_get_clear_errors() {
    let mut h = Harness::start().await;
    assert_eq!(
        h.launch(&task("../escape", "true")).await,
        reqwest::StatusCode::BAD_REQUEST
    );
    assert_eq!(
        h.kill("nobody.1", None).await,
        reqwest::StatusCode::NOT_FOUND
    );
    // Launching the same task twice starts it once.
    let t = task("once.1", "echo started");
    h.launch(&t).await;
    assert_eq!(h.launch(&t).await, reqwest::StatusCode::ACCEPTED);
    h.wait_state("once.1", TaskState::Finished).await;
    assert_eq!(read(&h.sandbox("once.1").join("stdout")), "started\n");
    h.stop().await;
}

#[tokio::test]
async fn state_endpoint_describes_the_agent() {
    let mut h = Harness::start().await;
    let state: serde_json::Value = h
        .http
        .get(h.url("/state"))
        .send()
        .await
        .expect("state")
        .json()
        .await
        .expect("json");
    assert_eq!(state["resources"]["ports"], "[31000-32000]");
    assert_eq!(
        state["strato_version"],
        strato_runtime_types::version::runtime_version()
    );
    assert!(state["resources"]["cpus"].as_f64().unwrap_or(0.0) >= 1.0);
    let mesos_path: serde_json::Value = h
        .http
        .get(h.url("/slave(1)/state"))
        .send()
        .await
        .expect("state")
        .json()
        .await
        .expect("json");
    assert_eq!(mesos_path["id"], state["id"]);
    assert!(state["pid"]
        .as_str()
        .unwrap_or("")
        .starts_with("slave(1)@127.0.0.1:"));
    h.stop().await;
}

#[tokio::test]
async fn tasks_run_as_their_app_user_or_the_agent_default() {
    let root = nix::unistd::geteuid().is_root();
    let mut h = Harness::start_with(|c| c.task_user = Some("nobody".into())).await;
    // The agent's work dir must be reachable for other users, as /var/lib/strato/agent is.
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(h.work.path(), std::fs::Permissions::from_mode(0o755))
            .expect("chmod work dir");
    }
    let t = task("who.1", "id -un; touch made-here");
    assert_eq!(h.launch(&t).await, reqwest::StatusCode::ACCEPTED);
    if root {
        h.wait_state("who.1", TaskState::Finished).await;
        let sandbox = h.sandbox("who.1");
        assert_eq!(read(&sandbox.join("stdout")), "nobody\n");
        use std::os::unix::fs::MetadataExt;
        let owner = std::fs::metadata(sandbox.join("made-here"))
            .expect("file")
            .uid();
        assert_ne!(owner, 0, "the task's files are its user's");
    } else {
        // An agent that is not root cannot switch users, and says so.
        let failed = h.wait_state("who.1", TaskState::Failed).await;
        assert!(failed
            .message
            .unwrap_or_default()
            .contains("cannot start tasks as 'nobody'"),);
    }

    // An app's own user that the agent does not have fails the task, naming the user.
    let mut t = task("who.2", "id -un");
    t.user = Some("no-such-user-q7".into());
    assert_eq!(h.launch(&t).await, reqwest::StatusCode::ACCEPTED);
    let failed = h.wait_state("who.2", TaskState::Failed).await;
    assert_eq!(
        failed.message.as_deref(),
        Some("Failed to launch task: user 'no-such-user-q7' does not exist on this agent")
    );
    h.stop().await;
}
