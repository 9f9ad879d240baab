//! A run's life driven with a test clock: the reconcile round is called with chosen times and
//! agents' reports are applied as they would arrive.

use std::sync::Arc;

use serde_json::json;
use strato_proto::{RegisterAgent, TaskState, TaskStatus};
use strato_runtime_types::job::JobSpec;
use strato_runtime_types::job_schedule::ScheduleSpec;
use strato_runtime_types::time::now_millis;

use super::{JobRecord, RunStatus, ScheduleRecord};
use crate::master::Master;
use crate::reconcile::AgentCall;
use crate::testing::master;

async fn with_agent() -> Arc<Master> {
    let master = master().await;
    master.register(RegisterAgent {
        agent: crate::testing::agent_info("a1"),
        tasks: Vec::new(),
    });
    master
}

fn add_job(master: &Master, run: serde_json::Value, schedule: Option<serde_json::Value>, now: u64) {
    let spec = JobSpec::from_value(json!({"id": "nightly.report", "run": run})).expect("job");
    let schedules = schedule
        .map(|s| ScheduleRecord::new(ScheduleSpec::from_value(s).expect("schedule"), now))
        .into_iter()
        .collect();
    master
        .lock()
        .jobs
        .jobs
        .insert("nightly.report".into(), JobRecord { spec, schedules });
}

/// One reconcile round at `now` (the agent kept alive), and the tasks it launched.
fn round(master: &Master, now: u64) -> (Vec<String>, Vec<String>) {
    master.lock().agents.get_mut("a1").expect("agent").last_seen = now;
    let mut launched = Vec::new();
    let mut killed = Vec::new();
    for call in master.reconcile_once(now) {
        match call {
            AgentCall::Launch { task, .. } => launched.push(task.task_id),
            AgentCall::Kill { task_id, .. } => killed.push(task_id),
        }
    }
    (launched, killed)
}

fn report(master: &Master, task_id: &str, state: TaskState, now: u64) {
    let status = TaskStatus {
        task_id: task_id.into(),
        app_id: "nightly.report".into(),
        state,
        message: Some(format!("{} on purpose", state.as_str())),
        timestamp: now,
        staged_at: now,
        started_at: (state == TaskState::Running).then_some(now),
        ports: Vec::new(),
        health: Vec::new(),
    };
    let mut kills = Vec::new();
    master.apply_status(
        &mut master.lock(),
        "a1",
        "http://127.0.0.1:5051",
        &status,
        now,
        &mut kills,
    );
}

fn run_status(master: &Master, run_id: &str) -> Option<RunStatus> {
    master
        .lock()
        .jobs
        .run("nightly.report", run_id)
        .map(|r| r.status)
}

const RUN: fn() -> serde_json::Value =
    || json!({"cmd": "report", "cpus": 0.5, "mem": 64, "disk": 0});

#[tokio::test]
async fn a_run_launches_one_task_and_its_success_goes_to_history() {
    let master = with_agent().await;
    let now = now_millis();
    add_job(&master, RUN(), None, now);
    let run = master
        .start_run(&mut master.lock(), "nightly.report", now, None)
        .expect("run");
    assert_eq!(run.status, RunStatus::Initial);
    let (launched, _) = round(&master, now);
    assert_eq!(launched.len(), 1, "one task per run");
    assert!(launched[0].starts_with(&format!("nightly.report_{}.", run.id)));
    assert_eq!(round(&master, now + 10).0.len(), 0, "never a second task");
    assert_eq!(run_status(&master, &run.id), Some(RunStatus::Starting));
    report(&master, &launched[0], TaskState::Running, now + 20);
    assert_eq!(run_status(&master, &run.id), Some(RunStatus::Active));
    report(&master, &launched[0], TaskState::Finished, now + 30);
    assert_eq!(
        run_status(&master, &run.id),
        None,
        "finished runs leave /runs"
    );
    let state = master.lock();
    let history = &state.jobs.history["nightly.report"];
    assert_eq!((history.success_count, history.failure_count), (1, 0));
    assert_eq!(history.successful[0].tasks, launched);
    drop(state);
    assert_eq!(
        round(&master, now + 40).0.len(),
        0,
        "a finished run is not relaunched"
    );
}

#[tokio::test]
async fn on_failure_retries_until_the_deadline_kills_the_run() {
    let master = with_agent().await;
    let now = now_millis();
    let mut run_spec = RUN();
    run_spec["restart"] = json!({"policy": "ON_FAILURE", "activeDeadlineSeconds": 10});
    add_job(&master, run_spec, None, now);
    let run = master
        .start_run(&mut master.lock(), "nightly.report", now, None)
        .expect("run");
    let (first, _) = round(&master, now);
    report(&master, &first[0], TaskState::Failed, now + 100);
    assert_eq!(
        run_status(&master, &run.id),
        Some(RunStatus::Initial),
        "waits to retry"
    );
    assert!(
        round(&master, now + 500).0.is_empty(),
        "not before the retry delay"
    );
    let (second, _) = round(&master, now + 1200);
    assert_eq!(second.len(), 1, "retried");
    report(&master, &second[0], TaskState::Running, now + 1300);
    // The run is still going at its deadline: its task is killed, the run fails.
    let (_, killed) = round(&master, now + 10_000);
    assert_eq!(killed, second);
    report(&master, &second[0], TaskState::Killed, now + 10_100);
    assert_eq!(run_status(&master, &run.id), None);
    let state = master.lock();
    let history = &state.jobs.history["nightly.report"];
    assert_eq!((history.success_count, history.failure_count), (0, 1));
    assert_eq!(
        history.failed[0].tasks,
        vec![first[0].clone(), second[0].clone()]
    );
}

#[tokio::test]
async fn never_fails_the_run_on_the_first_failure() {
    let master = with_agent().await;
    let now = now_millis();
    add_job(&master, RUN(), None, now);
    let run = master
        .start_run(&mut master.lock(), "nightly.report", now, None)
        .expect("run");
    let (first, _) = round(&master, now);
    report(&master, &first[0], TaskState::Failed, now + 100);
    assert_eq!(run_status(&master, &run.id), None);
    assert!(
        round(&master, now + 120_000).0.is_empty(),
        "no retry under NEVER"
    );
    assert_eq!(
        master.lock().jobs.history["nightly.report"].failure_count,
        1
    );
}

#[tokio::test]
async fn a_lost_agent_counts_as_a_failed_attempt() {
    let master = with_agent().await;
    let now = now_millis();
    let mut run_spec = RUN();
    run_spec["restart"] = json!({"policy": "ON_FAILURE"});
    add_job(&master, run_spec, None, now);
    let run = master
        .start_run(&mut master.lock(), "nightly.report", now, None)
        .expect("run");
    let (first, _) = round(&master, now);
    report(&master, &first[0], TaskState::Running, now + 100);
    // The agent falls silent past its timeout: its tasks are lost (no app waits for them).
    let silent = now + master.config.agent_timeout_seconds * 1000 + 1000;
    master.reconcile_once(silent);
    assert_eq!(run_status(&master, &run.id), Some(RunStatus::Initial));
    let tasks = master
        .lock()
        .jobs
        .run("nightly.report", &run.id)
        .expect("run")
        .tasks
        .clone();
    assert_eq!(tasks[0].state, TaskState::Lost);
}

#[tokio::test]
async fn an_every_minute_forbid_schedule_starts_on_time_and_never_two_at_once() {
    let master = with_agent().await;
    let now = now_millis();
    add_job(
        &master,
        RUN(),
        Some(json!({"id": "every-minute", "cron": "* * * * *", "concurrencyPolicy": "FORBID"})),
        now,
    );
    let next = |master: &Master| {
        master.lock().jobs.jobs["nightly.report"].schedules[0]
            .next_run_at
            .expect("armed")
    };
    let first_due = next(&master);
    assert_eq!(first_due % 60_000, 0, "on the minute");
    assert!(round(&master, first_due - 1).0.is_empty(), "not early");
    let (launched, _) = round(&master, first_due + 50);
    assert_eq!(launched.len(), 1, "started on time");
    report(&master, &launched[0], TaskState::Running, first_due + 100);
    // Still running a minute later: FORBID skips that start.
    let second_due = next(&master);
    assert_eq!(second_due, first_due + 60_000);
    assert!(round(&master, second_due + 50).0.is_empty());
    assert_eq!(master.lock().jobs.active_runs("nightly.report").count(), 1);
    report(
        &master,
        &launched[0],
        TaskState::Finished,
        second_due + 1000,
    );
    let (third, _) = round(&master, second_due + 60_050);
    assert_eq!(
        third.len(),
        1,
        "the next minute starts again once the run ended"
    );
}

#[tokio::test]
async fn jobs_runs_and_history_survive_a_restart() {
    let store = Arc::new(strato_store::MemoryStore::new());
    let first = Master::new(
        crate::MasterConfig::default(),
        store.clone(),
        Arc::new(crate::testing::NoAgents),
    )
    .await
    .expect("master");
    let now = now_millis();
    let spec = JobSpec::from_value(json!({"id": "nightly.report", "run": RUN()})).expect("job");
    let job = JobRecord {
        spec,
        schedules: vec![ScheduleRecord::new(
            ScheduleSpec::from_value(json!({"id": "daily", "cron": "0 3 * * *"})).expect("s"),
            now,
        )],
    };
    first.write(vec![super::job_op(&job).expect("op")]);
    first
        .lock()
        .jobs
        .jobs
        .insert("nightly.report".into(), job.clone());
    let run = first
        .start_run(&mut first.lock(), "nightly.report", now, None)
        .expect("run");
    first.durable().await.expect("durable");

    let second = Master::new(
        crate::MasterConfig::default(),
        store,
        Arc::new(crate::testing::NoAgents),
    )
    .await
    .expect("master");
    let state = second.lock();
    assert_eq!(state.jobs.jobs["nightly.report"], job);
    assert_eq!(state.jobs.run("nightly.report", &run.id), Some(&run));
}
