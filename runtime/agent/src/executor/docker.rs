//! Tasks in containers, through the Docker Engine API (bollard), which Podman's service socket
//! speaks too. A task's container is named `strato-<task id>` and labelled with the task and app,
//! so a restarted agent finds its running containers again (`attach`) instead of starting new
//! ones. Its stdout and stderr are copied into the sandbox files like a command task's, and the
//! sandbox is mounted at `/mnt/mesos/sandbox` as Mesos's Docker containerizer does.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use bollard::models::{ContainerCreateBody, HostConfig, PortBinding};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, CreateImageOptionsBuilder, KillContainerOptionsBuilder,
    LogsOptionsBuilder, RemoveContainerOptionsBuilder,
};
use bollard::Docker;
use futures_util::StreamExt;
use strato_proto::{ContainerNetwork, ContainerSpec};
use strato_runtime_types::docker_parameters::{size_bytes, ulimit};
use tokio::io::AsyncWriteExt;

use super::launcher::{
    BoxFuture, ContainerExec, Exit, ExitFuture, LaunchError, LaunchSpec, Launcher, Progress,
    Started, StopSignal, TaskHandle,
};

/// Where the sandbox appears inside the container (Mesos's path, which apps rely on).
pub const SANDBOX_IN_CONTAINER: &str = "/mnt/mesos/sandbox";
/// Labels every task container carries.
pub const LABEL_TASK: &str = "strato.task-id";
pub const LABEL_APP: &str = "strato.app-id";

/// The sockets tried, in order, when the agent's config names none.
const DEFAULT_SOCKETS: [&str; 3] = [
    "/var/run/docker.sock",
    "/run/podman/podman.sock",
    "/run/user/0/podman/podman.sock",
];

pub struct DockerLauncher {
    docker: Docker,
    /// `docker 28.2.2` or `podman 4.3.1`: what the agent advertises.
    engine: String,
}

/// Removes a container, running or not (its task has ended or is unknown).
async fn remove(docker: &Docker, name: &str) -> Result<(), bollard::errors::Error> {
    let options = RemoveContainerOptionsBuilder::new().force(true).build();
    docker.remove_container(name, Some(options)).await
}

fn container_name(task_id: &str) -> String {
    format!("strato-{task_id}")
}

fn engine_error(task: &str, what: &str, error: impl std::fmt::Display) -> LaunchError {
    LaunchError::Container {
        task: task.to_string(),
        message: format!("{what}: {error}"),
    }
}

impl DockerLauncher {
    /// The engine at `socket` (or the first default socket that answers), `None` when none does.
    pub async fn connect(socket: Option<&Path>) -> Option<Self> {
        let candidates: Vec<PathBuf> = match socket {
            Some(path) => vec![path.to_path_buf()],
            None => DEFAULT_SOCKETS.iter().map(PathBuf::from).collect(),
        };
        for path in candidates.iter().filter(|p| p.exists()) {
            let Ok(docker) = Docker::connect_with_socket(
                &path.display().to_string(),
                120,
                bollard::API_DEFAULT_VERSION,
            ) else {
                continue;
            };
            let Ok(version) = docker.version().await else {
                continue;
            };
            let name = version
                .components
                .as_ref()
                .and_then(|c| c.first())
                .map(|c| c.name.to_ascii_lowercase())
                .filter(|n| n.contains("podman"))
                .map_or("docker", |_| "podman");
            let engine = format!("{name} {}", version.version.unwrap_or_default());
            tracing::info!(socket = %path.display(), %engine, "container engine found");
            return Some(Self { docker, engine });
        }
        None
    }

    pub fn engine(&self) -> &str {
        &self.engine
    }

    async fn pull(&self, task: &str, image: &str, progress: &Progress) -> Result<(), LaunchError> {
        let (name, tag) = match image.rsplit_once(':').filter(|(_, t)| !t.contains('/')) {
            Some((name, tag)) => (name, tag),
            None => (image, "latest"),
        };
        let options = CreateImageOptionsBuilder::new()
            .from_image(name)
            .tag(tag)
            .build();
        let credentials =
            super::registry_auth::credentials(&super::registry_auth::config_path(), image);
        let mut steps = self.docker.create_image(Some(options), None, credentials);
        let mut layers = PullProgress::default();
        progress(format!("Pulling image '{image}'"));
        let mut said = std::time::Instant::now();
        while let Some(step) = steps.next().await {
            let step =
                step.map_err(|e| engine_error(task, &format!("pulling image '{image}'"), e))?;
            layers.add(&step);
            // At most one status a second: each goes to the master.
            if said.elapsed() >= std::time::Duration::from_secs(1) {
                progress(layers.message(image));
                said = std::time::Instant::now();
            }
        }
        Ok(())
    }

    /// Copies the container's output into the sandbox files until it ends.
    fn pump_logs(&self, name: String, stdout: PathBuf, stderr: PathBuf) {
        let docker = self.docker.clone();
        tokio::spawn(async move {
            let open = |path: PathBuf| async move {
                tokio::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .await
                    .ok()
            };
            let (Some(mut out), Some(mut err)) = (open(stdout).await, open(stderr).await) else {
                return;
            };
            let options = LogsOptionsBuilder::new()
                .follow(true)
                .stdout(true)
                .stderr(true)
                .build();
            let mut logs = docker.logs(&name, Some(options));
            while let Some(Ok(chunk)) = logs.next().await {
                let _ = match chunk {
                    bollard::container::LogOutput::StdErr { message } => {
                        err.write_all(&message).await
                    }
                    other => out.write_all(&other.into_bytes()).await,
                };
            }
        });
    }

    /// Resolves with the container's exit, then removes it.
    fn exit_of(&self, name: String) -> ExitFuture {
        let docker = self.docker.clone();
        Box::pin(async move {
            let mut wait = docker.wait_container(&name, None);
            let exit = match wait.next().await {
                Some(Ok(answer)) => Exit::Code(answer.status_code as i32),
                Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => {
                    Exit::Code(code as i32)
                }
                Some(Err(error)) => Exit::Unknown(format!("waiting for the container: {error}")),
                None => Exit::Unknown("the container engine stopped answering".into()),
            };
            let _ = remove(&docker, &name).await;
            exit
        })
    }
}

impl DockerLauncher {
    /// Removes containers labelled as tasks that `known` does not list (their agent's state was
    /// lost, or they outlived a crash mid-launch); returns how many.
    pub async fn remove_orphans(&self, known: &[String]) -> usize {
        let filters = HashMap::from([("label", vec![LABEL_TASK])]);
        let options = bollard::query_parameters::ListContainersOptionsBuilder::new()
            .all(true)
            .filters(&filters)
            .build();
        let Ok(found) = self.docker.list_containers(Some(options)).await else {
            return 0;
        };
        let mut removed = 0;
        for container in found {
            let task = container
                .labels
                .as_ref()
                .and_then(|l| l.get(LABEL_TASK))
                .cloned()
                .unwrap_or_default();
            if known.contains(&task) {
                continue;
            }
            let Some(id) = container.id else { continue };
            if remove(&self.docker, &id).await.is_ok() {
                tracing::info!(task = %task, container = %id, "removed the container of a task this agent does not know");
                removed += 1;
            }
        }
        removed
    }
}

/// What an image pull has done so far, from the engine's progress messages: bytes of each layer
/// downloaded out of its size, and layers complete.
#[derive(Debug, Default)]
pub struct PullProgress {
    /// Layer id → (downloaded, total) bytes.
    layers: std::collections::BTreeMap<String, (i64, i64)>,
    done: std::collections::BTreeSet<String>,
}

impl PullProgress {
    pub fn add(&mut self, step: &bollard::models::CreateImageInfo) {
        let Some(id) = step.id.clone() else {
            return;
        };
        let status = step.status.as_deref().unwrap_or_default();
        if let Some(detail) = &step.progress_detail {
            if status == "Downloading" {
                let entry = self.layers.entry(id.clone()).or_default();
                entry.0 = detail.current.unwrap_or(entry.0);
                entry.1 = detail.total.unwrap_or(entry.1);
            }
        }
        if matches!(
            status,
            "Download complete" | "Pull complete" | "Already exists"
        ) {
            if let Some(entry) = self.layers.get_mut(&id) {
                entry.0 = entry.1;
            }
            self.done.insert(id);
        }
    }

    /// `Pulling image 'x': 1.2 of 3.4 MB, 1 of 3 layers done`.
    pub fn message(&self, image: &str) -> String {
        let mb = |bytes: i64| bytes as f64 / 1_000_000.0;
        let (current, total) = self
            .layers
            .values()
            .fold((0, 0), |(c, t), (lc, lt)| (c + lc, t + lt));
        let layers = self.layers.len().max(self.done.len());
        format!(
            "Pulling image '{image}': {:.1} of {:.1} MB, {} of {layers} layers done",
            mb(current),
            mb(total),
            self.done.len()
        )
    }
}

/// The create request for `spec`'s container.
pub fn create_body(
    spec: &LaunchSpec,
    container: &ContainerSpec,
    shell: bool,
) -> ContainerCreateBody {
    let mut env: Vec<String> = spec
        .env
        .iter()
        .filter(|(k, _)| k.as_str() != "MESOS_SANDBOX")
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    env.push(format!("MESOS_SANDBOX={SANDBOX_IN_CONTAINER}"));
    let mut labels = HashMap::from([(LABEL_TASK.to_string(), spec.task_id.clone())]);
    if let Some(app) = spec.env.get("MARATHON_APP_ID") {
        labels.insert(LABEL_APP.to_string(), app.clone());
    }
    let bridge = container.network == ContainerNetwork::Bridge;
    let mut bindings: HashMap<String, Option<Vec<PortBinding>>> = HashMap::new();
    let mut exposed = Vec::new();
    if bridge {
        for mapping in &container.port_mappings {
            let key = format!("{}/{}", mapping.container_port, mapping.protocol);
            exposed.push(key.clone());
            bindings.insert(
                key,
                Some(vec![PortBinding {
                    host_ip: None,
                    host_port: Some(mapping.host_port.to_string()),
                }]),
            );
        }
    }
    // `cmd` runs under `/bin/sh -c` in place of the image's entrypoint; `args` go to it.
    let (entrypoint, cmd) = match (shell, spec.argv.is_empty()) {
        (_, true) => (None, None),
        (true, false) => (Some(spec.argv[..2].to_vec()), Some(spec.argv[2..].to_vec())),
        (false, false) => (None, Some(spec.argv.clone())),
    };
    let mut body = ContainerCreateBody {
        image: Some(container.image.clone()),
        // Numeric: the name need not exist in the image, the ids own the sandbox.
        user: spec.user.as_ref().map(|u| format!("{}:{}", u.uid, u.gid)),
        entrypoint,
        cmd,
        env: Some(env),
        labels: Some(labels),
        exposed_ports: bridge.then_some(exposed),
        host_config: Some(HostConfig {
            network_mode: Some(if bridge { "bridge" } else { "host" }.into()),
            port_bindings: bridge.then_some(bindings),
            nano_cpus: Some((spec.cpus * 1e9) as i64),
            memory: Some((spec.mem * 1024.0 * 1024.0) as i64),
            binds: Some(binds(spec, container)),
            privileged: Some(container.privileged),
            ..HostConfig::default()
        }),
        ..ContainerCreateBody::default()
    };
    apply_parameters(&mut body, &container.parameters);
    body
}

/// Marathon's `docker.parameters` the master allowed, as the engine's API fields (the flags
/// `docker run` would map them to; `strato_proto::DOCKER_PARAMETERS`). A value the master's
/// validation would have refused is skipped.
fn apply_parameters(body: &mut ContainerCreateBody, parameters: &[(String, String)]) {
    for (key, value) in parameters {
        let host = body.host_config.get_or_insert_with(HostConfig::default);
        match key.as_str() {
            "label" => {
                if let Some((name, v)) = value.split_once('=') {
                    body.labels
                        .get_or_insert_with(HashMap::new)
                        .insert(name.to_string(), v.to_string());
                }
            }
            "env" => body.env.get_or_insert_with(Vec::new).push(value.clone()),
            "cap-add" => host
                .cap_add
                .get_or_insert_with(Vec::new)
                .push(value.clone()),
            "cap-drop" => host
                .cap_drop
                .get_or_insert_with(Vec::new)
                .push(value.clone()),
            "hostname" => body.hostname = Some(value.clone()),
            "workdir" => body.working_dir = Some(value.clone()),
            "shm-size" => host.shm_size = size_bytes(value),
            "ulimit" => {
                if let Some((name, soft, hard)) = ulimit(value) {
                    host.ulimits.get_or_insert_with(Vec::new).push(
                        bollard::models::ResourcesUlimits {
                            name: Some(name),
                            soft: Some(soft),
                            hard: Some(hard),
                        },
                    );
                }
            }
            _ => {}
        }
    }
}

/// The sandbox at Mesos's path, then the app's volumes (relative host paths in the sandbox; the
/// master refused any that would leave it).
fn binds(spec: &LaunchSpec, container: &ContainerSpec) -> Vec<String> {
    let mut binds = vec![format!("{}:{SANDBOX_IN_CONTAINER}", spec.sandbox.display())];
    for volume in &container.volumes {
        let host = if volume.host_path.starts_with('/') {
            PathBuf::from(&volume.host_path)
        } else {
            let inside = spec.sandbox.join(&volume.host_path);
            // Docker would make a missing source as root; the sandbox's own dir is made here.
            let _ = std::fs::create_dir_all(&inside);
            inside
        };
        let mode = if volume.read_only { "ro" } else { "rw" };
        binds.push(format!(
            "{}:{}:{mode}",
            host.display(),
            volume.container_path
        ));
    }
    binds
}

impl Launcher for DockerLauncher {
    fn name(&self) -> &'static str {
        "docker"
    }

    fn prepare<'a>(
        &'a self,
        spec: &'a LaunchSpec,
        progress: Progress,
    ) -> BoxFuture<'a, Result<(), LaunchError>> {
        Box::pin(async move {
            let Some(container) = &spec.container else {
                return Ok(());
            };
            let image = container.spec.image.as_str();
            if container.spec.force_pull || self.docker.inspect_image(image).await.is_err() {
                self.pull(&spec.task_id, image, &progress).await?;
            }
            Ok(())
        })
    }

    fn exec_in_container(&self, task_id: &str, command: &str) -> Option<ContainerExec> {
        let docker = self.docker.clone();
        let name = container_name(task_id);
        let command = command.to_string();
        Some(Box::pin(async move {
            // The container's own user runs it (the task's, `create_body`), in the sandbox.
            let config = bollard::exec::CreateExecOptions {
                cmd: Some(vec!["/bin/sh".to_string(), "-c".to_string(), command]),
                attach_stdout: Some(true),
                attach_stderr: Some(true),
                working_dir: Some(SANDBOX_IN_CONTAINER.to_string()),
                ..Default::default()
            };
            let exec = docker
                .create_exec(&name, config)
                .await
                .map_err(|e| format!("cannot exec in container {name}: {e}"))?;
            let started = docker
                .start_exec(&exec.id, None)
                .await
                .map_err(|e| format!("cannot exec in container {name}: {e}"))?;
            // Its output is not kept; reading it to the end is how the exec is waited for.
            if let bollard::exec::StartExecResults::Attached { mut output, .. } = started {
                while output.next().await.is_some() {}
            }
            let inspected = docker
                .inspect_exec(&exec.id)
                .await
                .map_err(|e| format!("cannot exec in container {name}: {e}"))?;
            inspected
                .exit_code
                .ok_or_else(|| format!("the engine reported no exit code for the exec in {name}"))
        }))
    }

    fn launch<'a>(&'a self, spec: &'a LaunchSpec) -> BoxFuture<'a, Result<Started, LaunchError>> {
        Box::pin(async move {
            let task = spec.task_id.as_str();
            let Some(container) = &spec.container else {
                return Err(engine_error(task, "launching", "no container in the task"));
            };
            let name = container_name(task);
            // A container of this task left by an agent that died mid-launch.
            let _ = remove(&self.docker, &name).await;
            let body = create_body(spec, &container.spec, container.shell);
            let options = CreateContainerOptionsBuilder::new().name(&name).build();
            self.docker
                .create_container(Some(options), body)
                .await
                .map_err(|e| engine_error(task, "creating the container", e))?;
            self.pump_logs(name.clone(), spec.stdout.clone(), spec.stderr.clone());
            if let Err(error) = self.docker.start_container(&name, None).await {
                let _ = remove(&self.docker, &name).await;
                return Err(engine_error(task, "starting the container", error));
            }
            Ok(Started {
                handle: TaskHandle::Container { name: name.clone() },
                exit: self.exit_of(name),
            })
        })
    }

    fn attach<'a>(&'a self, handle: &'a TaskHandle) -> BoxFuture<'a, Option<ExitFuture>> {
        Box::pin(async move {
            let TaskHandle::Container { name } = handle else {
                return None;
            };
            let found = self.docker.inspect_container(name, None).await.ok()?;
            let state = found.state.unwrap_or_default();
            if state.running == Some(true) {
                return Some(self.exit_of(name.clone()));
            }
            // It ended while no agent watched: its exit code is still known.
            let code = state.exit_code.unwrap_or(-1) as i32;
            let _ = remove(&self.docker, name).await;
            Some(Box::pin(async move { Exit::Code(code) }))
        })
    }

    fn signal<'a>(
        &'a self,
        handle: &'a TaskHandle,
        signal: StopSignal,
    ) -> BoxFuture<'a, Result<(), LaunchError>> {
        Box::pin(async move {
            let TaskHandle::Container { name } = handle else {
                return Ok(());
            };
            let signal = match signal {
                StopSignal::Term => "SIGTERM",
                StopSignal::Kill => "SIGKILL",
            };
            let options = KillContainerOptionsBuilder::new().signal(signal).build();
            match self.docker.kill_container(name, Some(options)).await {
                Ok(()) => Ok(()),
                // Gone, or not running any more: nothing to stop.
                Err(bollard::errors::Error::DockerResponseServerError {
                    status_code: 404 | 409,
                    ..
                }) => Ok(()),
                Err(error) => Err(engine_error(name, "stopping the container", error)),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowed_parameters_become_the_engine_api_fields() {
        let mut body = ContainerCreateBody::default();
        let parameters: Vec<(String, String)> = [
            ("label", "team=web"),
            ("env", "MODE=fast"),
            ("cap-add", "NET_ADMIN"),
            ("cap-drop", "ALL"),
            ("hostname", "web-1"),
            ("workdir", "/srv"),
            ("shm-size", "64m"),
            ("ulimit", "nofile=1024:2048"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        apply_parameters(&mut body, &parameters);
        let host = body.host_config.as_ref().expect("host config");
        assert_eq!(
            body.labels.as_ref().and_then(|l| l.get("team")),
            Some(&"web".to_string())
        );
        assert_eq!(body.env, Some(vec!["MODE=fast".to_string()]));
        assert_eq!(host.cap_add, Some(vec!["NET_ADMIN".to_string()]));
        assert_eq!(host.cap_drop, Some(vec!["ALL".to_string()]));
        assert_eq!(body.hostname.as_deref(), Some("web-1"));
        assert_eq!(body.working_dir.as_deref(), Some("/srv"));
        assert_eq!(host.shm_size, Some(64 << 20));
        let ulimit = &host.ulimits.as_ref().expect("ulimits")[0];
        assert_eq!(
            (ulimit.name.as_deref(), ulimit.soft, ulimit.hard),
            (Some("nofile"), Some(1024), Some(2048))
        );
    }
}
