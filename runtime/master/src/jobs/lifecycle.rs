//! A run's life, decided under the state lock like everything else the master decides: started
//! (by the API or a schedule), its task launched by the reconcile loop, its task's end turned
//! into SUCCESS, a retry (`restart.policy` ON_FAILURE) or FAILED, killed at its
//! `activeDeadlineSeconds` or when stopped, failed when no agent took it within
//! `maxLaunchDelay`.

use serde_json::json;
use strato_proto::TaskState;
use strato_runtime_types::job::RestartPolicy;
use strato_runtime_types::TaskRecord;
use strato_store::{Op, Table};

use super::launch;
use super::run::{new_run_id, RunRecord, RunStatus, RunTask};
use super::schedule::Due;
use crate::master::Master;
use crate::reconcile::{task_launch, AgentCall};
use crate::state::State;

/// The wait before retrying a failed attempt: doubles per attempt from 1 s, at most a minute.
fn retry_delay_ms(attempts: usize) -> u64 {
    let exponent = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(u32::MAX)
        .min(6);
    (1000u64 << exponent).min(60_000)
}

impl Master {
    fn persist_run(&self, run: &RunRecord) {
        match super::run_op(run) {
            Ok(op) => self.write(vec![op]),
            Err(error) => tracing::error!(%error, "cannot encode a job run"),
        }
    }

    /// Starts a run of `job_id`; the reconcile loop launches its task.
    pub(crate) fn start_run(
        &self,
        state: &mut State,
        job_id: &str,
        now: u64,
        starting_deadline: Option<u64>,
    ) -> Option<RunRecord> {
        let spec = state.jobs.jobs.get(job_id)?.spec.run.clone();
        let mut id = new_run_id(now);
        while state.jobs.run(job_id, &id).is_some() {
            id = new_run_id(now);
        }
        let run = RunRecord {
            id: id.clone(),
            job_id: job_id.to_string(),
            status: RunStatus::Initial,
            created_at: now,
            completed_at: None,
            tasks: Vec::new(),
            spec,
            launch_not_before: now,
            waiting_since: now,
            starting_deadline,
            stopping: false,
            reason: None,
        };
        self.persist_run(&run);
        state
            .jobs
            .runs
            .entry(job_id.to_string())
            .or_default()
            .insert(id, run.clone());
        tracing::info!(job = %job_id, run = %run.id, "job run started");
        self.metrics.jobs.run_started();
        self.wake();
        Some(run)
    }

    /// Stops a run: its live task is killed and the run fails once it has ended (at once when
    /// none runs). False when the run is unknown or already finished.
    pub(crate) fn stop_run(
        &self,
        state: &mut State,
        job_id: &str,
        run_id: &str,
        reason: &str,
        now: u64,
        calls: &mut Vec<AgentCall>,
    ) -> bool {
        let Some(run) = state.jobs.run_mut(job_id, run_id) else {
            return false;
        };
        run.stopping = true;
        run.reason = Some(reason.to_string());
        let live = run.live_task().map(|t| t.id.clone());
        let run = run.clone();
        self.persist_run(&run);
        match live {
            Some(task_id) if state.tasks.contains_key(&task_id) => {
                self.request_kill(state, &task_id, None, calls);
            }
            _ => self.finish_run(state, job_id, run_id, RunStatus::Failed, now),
        }
        true
    }

    /// Ends a run: out of the active runs, into the job's history, in one commit.
    fn finish_run(
        &self,
        state: &mut State,
        job_id: &str,
        run_id: &str,
        status: RunStatus,
        now: u64,
    ) {
        let Some(mut run) = state
            .jobs
            .runs
            .get_mut(job_id)
            .and_then(|runs| runs.remove(run_id))
        else {
            return;
        };
        if state.jobs.runs.get(job_id).is_some_and(|r| r.is_empty()) {
            state.jobs.runs.remove(job_id);
        }
        run.status = status;
        run.completed_at = Some(now);
        let mut ops = vec![Op::delete(Table::Meta, super::run_key(job_id, run_id))];
        // A deleted job keeps no history.
        if state.jobs.jobs.contains_key(job_id) {
            let history = state.jobs.history.entry(job_id.to_string()).or_default();
            history.record(&run);
            match Op::put_json(Table::Meta, super::history_key(job_id), history) {
                Ok(op) => ops.push(op),
                Err(error) => tracing::error!(%error, "cannot encode a job's history"),
            }
        }
        self.write(ops);
        self.metrics.jobs.run_finished(status == RunStatus::Success);
        match status {
            RunStatus::Success => tracing::info!(job = %job_id, run = %run_id, "job run succeeded"),
            _ => tracing::warn!(job = %job_id, run = %run_id,
                reason = run.reason.as_deref().unwrap_or(""), "job run failed"),
        }
        self.events.emit(
            "job_run_finished",
            json!({"jobId": job_id, "runId": run_id, "status": status.as_str()}),
        );
    }

    /// A run's task changed state (still alive).
    pub(crate) fn job_task_changed(&self, state: &mut State, task: &TaskRecord) {
        let Some(run_id) = &task.job_run else {
            return;
        };
        let Some(run) = state.jobs.run_mut(&task.app_id, run_id) else {
            return;
        };
        if let Some(entry) = run.task_mut(&task.id) {
            entry.state = task.state;
            entry.started_at = entry.started_at.or(task.started_at);
        }
        // Metronome's reading: a task an agent reports staging, starting or running is active.
        run.status = RunStatus::Active;
        let run = run.clone();
        self.persist_run(&run);
    }

    /// A run's task ended: the run succeeds, retries or fails.
    pub(crate) fn job_task_ended(&self, state: &mut State, task: &TaskRecord, now: u64) {
        let Some(run_id) = &task.job_run else {
            return;
        };
        let job_id = task.app_id.as_str();
        let Some(run) = state.jobs.run_mut(job_id, run_id) else {
            return;
        };
        if let Some(entry) = run.task_mut(&task.id) {
            entry.state = task.state;
            entry.completed_at = Some(now);
        }
        let message = task.message.clone().unwrap_or_default();
        let outcome = if task.state == TaskState::Finished && !run.stopping {
            Some(RunStatus::Success)
        } else if run.stopping {
            Some(RunStatus::Failed)
        } else if run.spec.restart.policy == RestartPolicy::OnFailure {
            let delay = retry_delay_ms(run.tasks.len());
            run.status = RunStatus::Initial;
            run.launch_not_before = now + delay;
            run.waiting_since = now + delay;
            tracing::info!(job = %job_id, run = %run_id, task = %task.id, %message,
                retry_in_ms = delay, "job run's task failed, retrying (ON_FAILURE)");
            None
        } else {
            run.reason = Some(format!(
                "task {} ended {}: {message}",
                task.id,
                task.state.as_str()
            ));
            Some(RunStatus::Failed)
        };
        match outcome {
            Some(status) => self.finish_run(state, job_id, run_id, status, now),
            None => {
                let run = run.clone();
                self.persist_run(&run);
                self.wake();
            }
        }
    }

    /// The reconcile loop's jobs round: schedules that are due, runs past their deadline or
    /// their launch delay, and tasks of runs that no longer exist.
    pub(crate) fn tick_jobs(&self, state: &mut State, now: u64, calls: &mut Vec<AgentCall>) {
        self.fire_schedules(state, now);
        let mut deadline_passed = Vec::new();
        let mut never_launched = Vec::new();
        for run in state.jobs.all_runs().filter(|r| !r.stopping) {
            let key = (run.job_id.clone(), run.id.clone());
            if let Some(seconds) = run.spec.restart.active_deadline_seconds {
                if run.created_at + seconds.saturating_mul(1000) <= now {
                    let reason = format!(
                        "the run passed its activeDeadlineSeconds ({seconds}) and was killed"
                    );
                    deadline_passed.push((key, reason));
                    continue;
                }
            }
            if let Some(deadline) = run.starting_deadline {
                let up = run.status == RunStatus::Active
                    || run.tasks.iter().any(|t| t.started_at.is_some());
                if !up && deadline <= now {
                    let reason = format!(
                        "its task was not up within the schedule's startingDeadlineSeconds ({} s)",
                        (deadline - run.created_at) / 1000
                    );
                    deadline_passed.push((key, reason));
                    continue;
                }
            }
            let waiting = run.live_task().is_none() && run.launch_not_before <= now;
            if waiting && run.waiting_since + run.spec.max_launch_delay.saturating_mul(1000) <= now
            {
                never_launched.push(key);
            }
        }
        for ((job_id, run_id), reason) in deadline_passed {
            self.stop_run(state, &job_id, &run_id, &reason, now, calls);
        }
        for (job_id, run_id) in never_launched {
            if let Some(run) = state.jobs.run_mut(&job_id, &run_id) {
                run.reason = Some(format!(
                    "no agent could take the run within maxLaunchDelay ({} s)",
                    run.spec.max_launch_delay
                ));
            }
            self.finish_run(state, &job_id, &run_id, RunStatus::Failed, now);
        }
        let orphans: Vec<String> = state
            .tasks
            .values()
            .filter(|t| !t.kill_requested)
            .filter(|t| {
                t.job_run
                    .as_ref()
                    .is_some_and(|run| state.jobs.run(&t.app_id, run).is_none_or(|r| r.stopping))
            })
            .map(|t| t.id.clone())
            .collect();
        for task_id in orphans {
            self.request_kill(state, &task_id, None, calls);
        }
    }

    fn fire_schedules(&self, state: &mut State, now: u64) {
        let job_ids: Vec<String> = state.jobs.jobs.keys().cloned().collect();
        for job_id in job_ids {
            let active = state.jobs.active_runs(&job_id).next().is_some();
            let Some(job) = state.jobs.jobs.get_mut(&job_id) else {
                continue;
            };
            let mut starts = Vec::new();
            let mut changed = false;
            for schedule in &mut job.schedules {
                let Some(due) = schedule.tick(now, active || !starts.is_empty()) else {
                    continue;
                };
                changed = true;
                match due {
                    Due::Start => starts
                        .push(now + schedule.spec.starting_deadline_seconds.saturating_mul(1000)),
                    Due::Skip(why) => {
                        tracing::info!(job = %job_id, schedule = %schedule.spec.id, "{why}");
                    }
                }
            }
            if changed {
                let job = job.clone();
                match super::job_op(&job) {
                    Ok(op) => self.write(vec![op]),
                    Err(error) => tracing::error!(%error, "cannot encode a job"),
                }
            }
            for deadline in starts {
                self.start_run(state, &job_id, now, Some(deadline));
            }
        }
    }

    /// Records the launch the plan made for a run (`launch::app_id`) and returns its agent call.
    pub(crate) fn record_job_launch(
        &self,
        state: &mut State,
        launch: &strato_scheduler::Launch,
        now: u64,
    ) -> Option<AgentCall> {
        let (job_id, run_id) = launch::parse_app_id(&launch.app_id)?;
        let run = state.jobs.run(job_id, run_id)?;
        if !launch::wants_launch(run, now) {
            return None;
        }
        let app = launch::run_app(run);
        let agent = state.active_agent(&launch.agent_id)?.clone();
        // Metronome's task ids: `<job>_<run>.<uuid>`.
        let task_id = format!("{job_id}_{run_id}.{}", uuid::Uuid::new_v4());
        let (mut task, mut call) = task_launch(
            &app,
            &agent,
            task_id.clone(),
            launch.host_ports.clone(),
            now,
        );
        if let AgentCall::Launch { task: launch, .. } = &mut call {
            // A job's task is no Marathon app's: its id and environment say so.
            launch.app_id = job_id.to_string();
            launch.app_version = run_id.to_string();
            launch
                .env
                .retain(|key, _| !key.starts_with("MARATHON_APP_"));
        }
        task.app_id = job_id.to_string();
        task.job_run = Some(run_id.to_string());
        let (job_id, run_id) = (job_id.to_string(), run_id.to_string());
        let run = state.jobs.run_mut(&job_id, &run_id)?;
        run.tasks.push(RunTask {
            id: task_id.clone(),
            state: TaskState::Staging,
            started_at: None,
            completed_at: None,
        });
        run.status = RunStatus::Starting;
        let run = run.clone();
        self.persist_run(&run);
        state.add_task(task);
        Some(call)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_to_a_minute() {
        assert_eq!(retry_delay_ms(1), 1000);
        assert_eq!(retry_delay_ms(2), 2000);
        assert_eq!(retry_delay_ms(7), 60_000);
        assert_eq!(retry_delay_ms(50), 60_000);
    }
}
