//! Agent restarts: running tasks are re-attached (same process, not restarted); tasks that died
//! meanwhile are reported; `stop_tasks_on_shutdown` kills them instead.

use strato_agent::Agent;
use strato_proto::TaskState;

use crate::common::{config, eventually, process_alive, read, task, FakeMaster, Harness};

/// A task that records each start and its pid, then sleeps under the same pid.
fn sleeper(id: &str) -> strato_proto::LaunchTask {
    task(id, "echo start >> starts; echo $$ > pid; exec sleep 300")
}

async fn pid_of(h: &Harness, id: &str) -> i32 {
    let path = h.sandbox(id).join("pid");
    eventually("the task's pid file", || async {
        read(&path).trim().parse::<i32>().ok()
    })
    .await
}

async fn restart_keeping_tasks(h: &mut Harness) {
    let old = h.agent.take().expect("agent running");
    let agent_id = old.info().id.clone();
    old.stop().await;
    let agent = Agent::start(config(&h.master, h.work.path(), false))
        .await
        .expect("agent restarts");
    assert_eq!(agent.info().id, agent_id, "same agent id after a restart");
    h.agent = Some(agent);
}

#[tokio::test]
async fn restarted_agent_reattaches_to_running_task() {
    let master = FakeMaster::start().await;
    let work = tempfile::tempdir().expect("work dir");
    let first = Agent::start(config(&master, work.path(), false))
        .await
        .expect("agent starts");
    let mut h = Harness {
        master,
        work,
        agent: Some(first),
        http: strato_tls::client(),
    };
    h.launch(&sleeper("keep.1")).await;
    h.wait_state("keep.1", TaskState::Running).await;
    let pid = pid_of(&h, "keep.1").await;

    restart_keeping_tasks(&mut h).await;
    assert!(process_alive(pid), "the task survived the agent stop");

    let s = h.wait_state("keep.1", TaskState::Running).await;
    assert!(s.started_at.is_some());
    assert_eq!(
        read(&h.sandbox("keep.1").join("starts")),
        "start\n",
        "not restarted"
    );
    assert_eq!(
        read(&h.sandbox("keep.1").join("pid")).trim(),
        pid.to_string()
    );
    // The new agent told the master about it when registering.
    let second = eventually("the second registration", || async {
        h.master.with(|r| r.registrations.get(1).cloned())
    })
    .await;
    let reported = second.tasks.iter().find(|t| t.task_id == "keep.1");
    assert_eq!(reported.map(|t| t.state), Some(TaskState::Running));

    // The re-attached task can still be killed, and its end is seen.
    h.kill("keep.1", Some(5)).await;
    let killed = h.wait_state("keep.1", TaskState::Killed).await;
    assert!(killed.message.is_some());
    eventually("the process to be gone", || async {
        (!process_alive(pid)).then_some(())
    })
    .await;
    h.stop().await;
}

#[tokio::test]
async fn task_that_died_while_the_agent_was_down_is_failed() {
    let master = FakeMaster::start().await;
    let work = tempfile::tempdir().expect("work dir");
    let first = Agent::start(config(&master, work.path(), false))
        .await
        .expect("agent starts");
    let mut h = Harness {
        master,
        work,
        agent: Some(first),
        http: strato_tls::client(),
    };
    h.launch(&sleeper("gone.1")).await;
    h.wait_state("gone.1", TaskState::Running).await;
    let pid = pid_of(&h, "gone.1").await;
    let old = h.agent.take().expect("agent");
    old.stop().await;

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .expect("kill the task behind the agent's back");
    eventually("the process to be gone", || async {
        (!process_alive(pid)).then_some(())
    })
    .await;

    h.agent = Some(
        Agent::start(config(&h.master, h.work.path(), false))
            .await
            .expect("agent restarts"),
    );
    let failed = h.wait_state("gone.1", TaskState::Failed).await;
    let message = failed.message.unwrap_or_default();
    assert!(message.contains("while the agent was down"), "{message}");
    assert_eq!(
        read(&h.sandbox("gone.1").join("starts")),
        "start\n",
        "not restarted"
    );
    h.stop().await;
}

#[tokio::test]
async fn stop_tasks_on_shutdown_kills_the_tasks() {
    let mut h = Harness::start().await;
    h.launch(&sleeper("bye.1")).await;
    h.wait_state("bye.1", TaskState::Running).await;
    let pid = pid_of(&h, "bye.1").await;
    h.stop().await;
    eventually("the process to be gone", || async {
        (!process_alive(pid)).then_some(())
    })
    .await;
    let states = h.master.states_of("bye.1");
    assert_eq!(states.last(), Some(&TaskState::Killed), "{states:?}");
}

#[tokio::test]
async fn restart_of_a_harness_agent_keeps_finished_tasks_listed() {
    let mut h = Harness::start().await;
    h.launch(&task("done.1", "true")).await;
    h.wait_state("done.1", TaskState::Finished).await;
    restart_keeping_tasks(&mut h).await;
    let s = h.wait_state("done.1", TaskState::Finished).await;
    assert_eq!(s.message.as_deref(), Some("Command exited with status 0"));
    h.stop().await;
}
