//! One task's life: sandbox, launch, health checks, and the terminal state when it ends.

use std::collections::BTreeMap;

use nix::sys::signal::Signal;
use strato_proto::{LaunchTask, TaskState};

use super::launcher::{ContainerLaunch, Exit, ExitFuture, LaunchSpec};
use super::run_as;
use super::sandbox::Sandbox;
use super::{now_millis, Executor};

/// The environment a task (and its COMMAND health checks) sees: the master's plus
/// `MESOS_SANDBOX`.
pub fn task_env(launch: &LaunchTask, sandbox: &Sandbox) -> BTreeMap<String, String> {
    let mut env = launch.env.clone();
    env.insert(
        "MESOS_SANDBOX".to_string(),
        sandbox.dir.display().to_string(),
    );
    env
}

/// `cmd` runs under `/bin/sh -c`; `args` is exec'd as given.
fn argv(launch: &LaunchTask) -> Option<Vec<String>> {
    match (&launch.cmd, &launch.args) {
        (Some(cmd), _) => Some(vec!["/bin/sh".into(), "-c".into(), cmd.clone()]),
        (None, Some(args)) if !args.is_empty() => Some(args.clone()),
        _ => None,
    }
}

/// Mesos's wording for how a command ended (`lastTaskFailure.message`).
pub fn describe(exit: &Exit) -> String {
    match exit {
        Exit::Code(code) => format!("Command exited with status {code}"),
        Exit::Signal(sig) => {
            let name = Signal::try_from(*sig)
                .map(|s| s.as_str().to_string())
                .unwrap_or_else(|_| format!("signal {sig}"));
            format!("Command terminated with signal {name}")
        }
        Exit::Unknown(why) => format!("Command ended: {why}"),
    }
}

impl Executor {
    fn fail(&self, task_id: &str, state: TaskState, message: String) {
        tracing::info!(task = %task_id, state = state.as_str(), %message, "task ended");
        self.update(task_id, |t| {
            t.status.state = state;
            t.status.message = Some(message);
        });
    }

    fn kill_requested(&self, task_id: &str) -> bool {
        self.tasks().get(task_id).is_some_and(|t| t.kill_requested)
    }

    pub(super) async fn start_and_watch(self, task_id: String) {
        let Some(launch) = self.tasks().get(&task_id).map(|t| t.launch.clone()) else {
            return;
        };
        let sandbox = Sandbox::path_for(&self.inner.work_dir, &task_id);
        if let Err(e) = sandbox.create() {
            let msg = format!("Failed to create sandbox {}: {e}", sandbox.dir.display());
            return self.fail(&task_id, TaskState::Failed, msg);
        }
        // Older masters sent only the image (host networking, no mappings).
        let container = launch.container.clone().or_else(|| {
            launch
                .docker_image
                .clone()
                .map(|image| strato_proto::ContainerSpec {
                    image,
                    ..strato_proto::ContainerSpec::default()
                })
        });
        // A container may run its image's own command.
        let argv = match (argv(&launch), &container) {
            (Some(argv), _) => Some(argv),
            (None, Some(_)) => Some(Vec::new()),
            (None, None) => None,
        };
        let Some(argv) = argv else {
            let msg = "Task has neither a command nor arguments".to_string();
            return self.fail(&task_id, TaskState::Error, msg);
        };
        if self.kill_requested(&task_id) {
            let msg = "Task killed before it started".to_string();
            return self.fail(&task_id, TaskState::Killed, msg);
        }
        // A container task stays STAGING while its image is pulled (Mesos's states).
        if container.is_none() {
            self.starting(&task_id);
        }
        let user = match run_as::resolve(
            launch.user.as_deref(),
            self.inner.task_user.as_deref(),
            run_as::agent_uid(),
        ) {
            Ok(user) => user,
            Err(e) => return self.fail(&task_id, TaskState::Failed, e.to_string()),
        };
        if let Some(user) = &user {
            // The task writes its sandbox and output files as its own user.
            if let Err(e) = sandbox.give_to(user.uid, user.gid) {
                let msg = format!("Failed to hand the sandbox to user '{}': {e}", user.name);
                return self.fail(&task_id, TaskState::Failed, msg);
            }
        }
        if !launch.fetch.is_empty() {
            let cache = self.inner.work_dir.join("fetch-cache");
            let fetched = super::fetcher::fetch_all(
                &launch.fetch,
                &sandbox.dir,
                &cache,
                &self.inner.health_http,
            )
            .await;
            if let Err(message) = fetched {
                return self.fail(&task_id, TaskState::Failed, message);
            }
            if let Some(user) = &user {
                // What was fetched belongs to the task, as its sandbox does.
                if let Err(e) = super::sandbox::give_tree_to(&sandbox.dir, user.uid, user.gid) {
                    let msg = format!("Failed to hand the fetched files to '{}': {e}", user.name);
                    return self.fail(&task_id, TaskState::Failed, msg);
                }
            }
        }
        let env = task_env(&launch, &sandbox);
        // A container runs as its image's user unless the app names one (Marathon's `user`):
        // then as that user's uid and gid on this agent, which own its sandbox. A default task
        // user is not forced on images (many need their own).
        let user = match (&container, launch.user.as_deref()) {
            (None, _) => user,
            (Some(_), None) => None,
            (Some(_), Some(name)) => match run_as::ids_of(name) {
                Ok(ids) => Some(ids),
                Err(e) => return self.fail(&task_id, TaskState::Failed, e.to_string()),
            },
        };
        let spec = LaunchSpec {
            container: container.map(|spec| ContainerLaunch {
                spec,
                shell: launch.cmd.is_some(),
            }),
            user: user.clone(),
            task_id: task_id.clone(),
            argv,
            env: env.clone(),
            sandbox: sandbox.dir.clone(),
            stdout: sandbox.stdout.clone(),
            stderr: sandbox.stderr.clone(),
            cpus: launch.cpus,
            mem: launch.mem,
        };
        let launcher = self.inner.launcher.clone();
        if spec.container.is_some() {
            let exec = self.clone();
            let id = task_id.clone();
            let progress: super::launcher::Progress = std::sync::Arc::new(move |message| {
                exec.update(&id, |t| {
                    if t.status.state == TaskState::Staging {
                        t.status.message = Some(message);
                    }
                });
            });
            if let Err(e) = launcher.prepare(&spec, progress).await {
                let msg = format!("Failed to launch task: {}", error_chain(&e));
                return self.fail(&task_id, TaskState::Failed, msg);
            }
            self.starting(&task_id);
        }
        let started = match launcher.launch(&spec).await {
            Ok(s) => s,
            Err(e) => {
                let msg = format!("Failed to launch task: {}", error_chain(&e));
                return self.fail(&task_id, TaskState::Failed, msg);
            }
        };
        let now = now_millis();
        let handle = started.handle.clone();
        self.update(&task_id, |t| {
            t.handle = Some(handle.clone());
            if !t.kill_requested {
                t.status.state = TaskState::Running;
            }
            t.status.started_at = Some(now);
        });
        tracing::info!(task = %task_id, handle = ?handle, "task running");
        if self.kill_requested(&task_id) {
            // Killed while starting: the kill found no handle, so deliver it now.
            let grace = launch.kill_grace_period_seconds;
            let worker = tokio::spawn(self.clone().escalate(
                task_id.clone(),
                handle,
                std::time::Duration::from_secs(grace),
            ));
            self.add_worker(&task_id, worker.abort_handle());
        } else {
            self.start_health_checks(&task_id, &launch, &sandbox, env, now);
        }
        self.watch_exit(task_id, started.exit).await;
    }

    fn starting(&self, task_id: &str) {
        self.update(task_id, |t| {
            if !t.kill_requested {
                t.status.state = TaskState::Starting;
                t.status.message = None;
            }
        });
    }

    /// Waits for the process to end and records the terminal state.
    pub(super) async fn watch_exit(self, task_id: String, exit: ExitFuture) {
        let exit = exit.await;
        let killed = self.kill_requested(&task_id);
        let state = match (&exit, killed) {
            (_, true) => TaskState::Killed,
            (Exit::Code(0), false) => TaskState::Finished,
            _ => TaskState::Failed,
        };
        let message = describe(&exit);
        tracing::info!(task = %task_id, state = state.as_str(), %message, "task ended");
        self.update(&task_id, |t| {
            t.status.state = state;
            t.status.message = Some(message);
            // Health checks stop with the task; the escalation (if any) has nothing left to do.
            for w in t.workers.drain(..) {
                w.abort();
            }
        });
    }

    pub(super) fn start_health_checks(
        &self,
        task_id: &str,
        launch: &LaunchTask,
        sandbox: &Sandbox,
        env: BTreeMap<String, String>,
        started_at: u64,
    ) {
        let exec = self.clone();
        let id = task_id.to_string();
        let report = std::sync::Arc::new(move |result, push| exec.set_health(&id, result, push));
        let workers = crate::health::spawn_all(
            &launch.health_checks,
            crate::health::Target {
                sandbox: sandbox.dir.clone(),
                env,
                started_at,
                // COMMAND checks run inside the task's unit (its cgroup, so its limits) and as
                // its user, as the task itself does; a container task's inside its container.
                unit: self.inner.launcher.unit(task_id),
                container: launch
                    .container
                    .is_some()
                    .then(|| crate::health::InContainer {
                        launcher: std::sync::Arc::clone(&self.inner.launcher),
                        task_id: task_id.to_string(),
                    }),
                user: run_as::resolve(
                    launch.user.as_deref(),
                    self.inner.task_user.as_deref(),
                    run_as::agent_uid(),
                )
                .ok()
                .flatten(),
            },
            self.inner.health_http.clone(),
            report,
        );
        for w in workers {
            self.add_worker(task_id, w);
        }
    }
}

/// An error and its sources, joined, for a task's message.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
