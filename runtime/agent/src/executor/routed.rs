//! Which launcher a task goes to: a task with a container to the container engine (when the
//! agent found one), every other task to the host launcher (systemd units or processes).

use std::sync::Arc;

use super::docker::DockerLauncher;
use super::launcher::{
    BoxFuture, ContainerExec, ExitFuture, LaunchError, LaunchSpec, Launcher, Progress, Started,
    StopSignal, TaskHandle,
};

pub struct Routed {
    pub host: Arc<dyn Launcher>,
    pub containers: Option<Arc<DockerLauncher>>,
}

impl Launcher for Routed {
    fn name(&self) -> &'static str {
        self.host.name()
    }

    fn launch<'a>(&'a self, spec: &'a LaunchSpec) -> BoxFuture<'a, Result<Started, LaunchError>> {
        match (&spec.container, &self.containers) {
            (None, _) => self.host.launch(spec),
            (Some(_), Some(engine)) => engine.launch(spec),
            (Some(container), None) => {
                let error = LaunchError::Container {
                    task: spec.task_id.clone(),
                    message: format!(
                        "no containerizer on this agent can run Docker image '{}' (no Docker or \
                         Podman socket answers)",
                        container.spec.image
                    ),
                };
                Box::pin(async move { Err(error) })
            }
        }
    }

    fn attach<'a>(&'a self, handle: &'a TaskHandle) -> BoxFuture<'a, Option<ExitFuture>> {
        match (handle, &self.containers) {
            (TaskHandle::Container { .. }, Some(engine)) => engine.attach(handle),
            (TaskHandle::Container { .. }, None) => Box::pin(async { None }),
            _ => self.host.attach(handle),
        }
    }

    fn unit(&self, task_id: &str) -> Option<String> {
        self.host.unit(task_id)
    }

    fn prepare<'a>(
        &'a self,
        spec: &'a LaunchSpec,
        progress: Progress,
    ) -> BoxFuture<'a, Result<(), LaunchError>> {
        match (&spec.container, &self.containers) {
            (Some(_), Some(engine)) => engine.prepare(spec, progress),
            // No engine: launch says so.
            _ => Box::pin(async { Ok(()) }),
        }
    }

    fn exec_in_container(&self, task_id: &str, command: &str) -> Option<ContainerExec> {
        self.containers
            .as_ref()?
            .exec_in_container(task_id, command)
    }

    fn signal<'a>(
        &'a self,
        handle: &'a TaskHandle,
        signal: StopSignal,
    ) -> BoxFuture<'a, Result<(), LaunchError>> {
        match (handle, &self.containers) {
            (TaskHandle::Container { .. }, Some(engine)) => engine.signal(handle, signal),
            (TaskHandle::Container { .. }, None) => Box::pin(async { Ok(()) }),
            _ => self.host.signal(handle, signal),
        }
    }
}
