//! Tasks as systemd transient services (`systemd-run`), so `MemoryMax` and `CPUQuota` apply and
//! the task outlives the agent. Used where systemd is PID 1.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use tokio::process::Command;

use super::launcher::{
    BoxFuture, Exit, ExitFuture, LaunchError, LaunchSpec, Launcher, Started, StopSignal, TaskHandle,
};
use super::process;

const POLL: Duration = Duration::from_millis(500);

#[derive(Debug, Default, Clone)]
pub struct SystemdLauncher {
    /// Task units get a read-only system, a read-only /home and their own /tmp. These need a
    /// mount namespace, which systemd cannot make in an unprivileged container.
    pub sandboxing: bool,
}

/// The unit properties of [`SystemdLauncher::sandboxing`].
const SANDBOXING_PROBE: [&str; 3] = [
    "--property=ProtectSystem=strict",
    "--property=ProtectHome=read-only",
    "--property=PrivateTmp=yes",
];

impl SystemdLauncher {
    /// A launcher with sandboxing where a probe unit with those properties runs.
    pub async fn with_probed_sandboxing() -> Self {
        let probe = format!("--unit=strato-probe-sandbox-{}", std::process::id());
        let sandboxing = Command::new("systemd-run")
            .args(["--quiet", "--wait", "--collect", &probe])
            .args(SANDBOXING_PROBE)
            .arg("/bin/true")
            .output()
            .await
            .map(|o| o.status.success())
            .unwrap_or(false);
        SystemdLauncher { sandboxing }
    }

    /// True when systemd is PID 1, the agent runs as root (the system manager refuses transient
    /// units to other users without a polkit prompt) and a probe unit actually runs.
    pub async fn available() -> bool {
        use std::os::unix::fs::MetadataExt;
        if !Path::new("/run/systemd/system").is_dir() {
            return false;
        }
        // /proc/self belongs to the effective user.
        if std::fs::metadata("/proc/self").map(|m| m.uid()).ok() != Some(0) {
            return false;
        }
        let probe = format!("--unit=strato-probe-{}", std::process::id());
        Command::new("systemd-run")
            .args(["--quiet", "--wait", "--collect", &probe, "/bin/true"])
            .output()
            .await
            .map(|o| o.status.success())
            .unwrap_or(false)
    }
}

/// The unit a task runs as.
pub fn unit_name(task_id: &str) -> String {
    format!("strato-task-{task_id}.service")
}

/// `systemd-run` arguments for a task. `RemainAfterExit` keeps the unit (and its exit status)
/// after the main process ends, even while no agent runs; the agent stops it once it has read it.
/// The task never gains privileges (setuid binaries do nothing), runs as its user, and with
/// `sandboxing` sees the system read-only except its sandbox.
pub fn systemd_run_args(spec: &LaunchSpec, sandboxing: bool) -> Vec<String> {
    let mut args = vec![
        format!("--unit={}", unit_name(&spec.task_id)),
        "--quiet".to_string(),
        "--property=RemainAfterExit=yes".to_string(),
        "--property=KillMode=control-group".to_string(),
        format!("--property=WorkingDirectory={}", spec.sandbox.display()),
        format!("--property=StandardOutput=append:{}", spec.stdout.display()),
        format!("--property=StandardError=append:{}", spec.stderr.display()),
        "--property=NoNewPrivileges=yes".to_string(),
    ];
    if let Some(user) = &spec.user {
        args.push(format!("--property=User={}", user.uid));
        args.push(format!("--property=Group={}", user.gid));
    }
    if sandboxing {
        args.push("--property=ProtectSystem=strict".to_string());
        args.push(format!(
            "--property=ReadWritePaths={}",
            spec.sandbox.display()
        ));
        args.push("--property=ProtectHome=read-only".to_string());
        // A private /tmp would hide a sandbox that lives under /tmp.
        if !spec.sandbox.starts_with("/tmp") {
            args.push("--property=PrivateTmp=yes".to_string());
        }
    }
    if spec.mem > 0.0 {
        args.push(format!("--property=MemoryMax={}M", spec.mem.ceil() as u64));
    }
    if spec.cpus > 0.0 {
        args.push(format!(
            "--property=CPUQuota={}%",
            (spec.cpus * 100.0).ceil() as u64
        ));
    }
    for (k, v) in &spec.env {
        args.push(format!("--setenv={k}={v}"));
    }
    args.push("--".to_string());
    args.extend(spec.argv.iter().cloned());
    args
}

/// Unit properties as `systemctl show` prints them.
pub fn parse_show(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The unit's outcome once its main process has ended, `None` while it runs.
pub fn exit_from_show(props: &BTreeMap<String, String>) -> Option<Exit> {
    let get = |k: &str| props.get(k).map(String::as_str).unwrap_or("");
    if get("LoadState") == "not-found" {
        return Some(Exit::Unknown(
            "the systemd unit is gone; its exit code is unknown".into(),
        ));
    }
    let ended = match get("ActiveState") {
        "failed" | "inactive" => true,
        "active" => get("SubState") == "exited",
        _ => false,
    };
    if !ended {
        return None;
    }
    let status: i32 = get("ExecMainStatus").parse().unwrap_or(0);
    // ExecMainCode is a CLD_* value: 1 exited, 2 killed, 3 dumped core.
    Some(match get("ExecMainCode") {
        "1" => Exit::Code(status),
        "2" | "3" => Exit::Signal(status),
        _ => Exit::Unknown(format!(
            "the systemd unit ended ({}); its exit code is unknown",
            get("Result")
        )),
    })
}

async fn show(unit: &str) -> Option<BTreeMap<String, String>> {
    let out = Command::new("systemctl")
        .args([
            "show",
            unit,
            "--property=LoadState,ActiveState,SubState,Result,ExecMainCode,ExecMainStatus",
        ])
        .output()
        .await
        .ok()?;
    out.status
        .success()
        .then(|| parse_show(&String::from_utf8_lossy(&out.stdout)))
}

/// Stops and forgets an ended unit so its name can be reused and nothing lingers.
async fn clean_up(unit: &str) {
    let _ = Command::new("systemctl")
        .args(["stop", unit])
        .output()
        .await;
    let _ = Command::new("systemctl")
        .args(["reset-failed", unit])
        .output()
        .await;
}

fn watch(unit: String) -> ExitFuture {
    Box::pin(async move {
        loop {
            if let Some(exit) = show(&unit).await.as_ref().and_then(exit_from_show) {
                clean_up(&unit).await;
                return exit;
            }
            tokio::time::sleep(POLL).await;
        }
    })
}

impl Launcher for SystemdLauncher {
    fn name(&self) -> &'static str {
        "systemd"
    }

    fn unit(&self, task_id: &str) -> Option<String> {
        Some(unit_name(task_id))
    }

    fn launch<'a>(&'a self, spec: &'a LaunchSpec) -> BoxFuture<'a, Result<Started, LaunchError>> {
        Box::pin(async move {
            let unit = unit_name(&spec.task_id);
            let out = Command::new("systemd-run")
                .args(systemd_run_args(spec, self.sandboxing))
                .output()
                .await
                .map_err(|source| LaunchError::Spawn {
                    program: "systemd-run".into(),
                    source,
                })?;
            if !out.status.success() {
                return Err(LaunchError::SystemdRun {
                    unit,
                    stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
                });
            }
            Ok(Started {
                handle: TaskHandle::Unit { name: unit.clone() },
                exit: watch(unit),
            })
        })
    }

    fn attach<'a>(&'a self, handle: &'a TaskHandle) -> BoxFuture<'a, Option<ExitFuture>> {
        Box::pin(async move {
            match handle {
                TaskHandle::Unit { name } => {
                    let props = show(name).await?;
                    if props.get("LoadState").map(String::as_str) != Some("loaded") {
                        return None;
                    }
                    Some(watch(name.clone()))
                }
                TaskHandle::Process { pid, start_time } => process::attach_pid(*pid, *start_time),
                // Containers go to the container launcher (`routed.rs`).
                TaskHandle::Container { .. } => None,
            }
        })
    }

    fn signal<'a>(
        &'a self,
        handle: &'a TaskHandle,
        signal: StopSignal,
    ) -> BoxFuture<'a, Result<(), LaunchError>> {
        Box::pin(async move {
            match handle {
                TaskHandle::Unit { name } => {
                    let sig = match signal {
                        StopSignal::Term => "--signal=SIGTERM",
                        StopSignal::Kill => "--signal=SIGKILL",
                    };
                    // A unit already gone makes systemctl fail; that is fine for a kill.
                    let _ = Command::new("systemctl")
                        .args(["kill", "--kill-whom=all", sig, name])
                        .output()
                        .await;
                    Ok(())
                }
                TaskHandle::Process { pid, start_time } => {
                    process::signal_group(*pid, *start_time, signal)
                }
                TaskHandle::Container { .. } => Ok(()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn run_args_apply_limits_env_and_output_files() {
        let spec = LaunchSpec {
            container: None,
            task_id: "web.1".into(),
            argv: vec!["/bin/sh".into(), "-c".into(), "echo hi".into()],
            env: [("PORT0".to_string(), "31000".to_string())].into(),
            sandbox: PathBuf::from("/w/sandboxes/web.1"),
            stdout: PathBuf::from("/w/sandboxes/web.1/stdout"),
            stderr: PathBuf::from("/w/sandboxes/web.1/stderr"),
            cpus: 0.5,
            mem: 128.0,
            user: None,
        };
        let args = systemd_run_args(&spec, false);
        for expected in [
            "--unit=strato-task-web.1.service",
            "--property=MemoryMax=128M",
            "--property=CPUQuota=50%",
            "--property=WorkingDirectory=/w/sandboxes/web.1",
            "--property=StandardOutput=append:/w/sandboxes/web.1/stdout",
            "--setenv=PORT0=31000",
        ] {
            assert!(args.iter().any(|a| a == expected), "{expected} in {args:?}");
        }
        let dashdash = args.iter().position(|a| a == "--").expect("--");
        assert_eq!(&args[dashdash + 1..], &spec.argv[..]);
    }

    #[test]
    fn a_task_runs_as_its_user_without_new_privileges_and_sandboxed_where_possible() {
        let spec = LaunchSpec {
            container: None,
            task_id: "web.2".into(),
            argv: vec!["/bin/true".into()],
            env: BTreeMap::new(),
            sandbox: PathBuf::from("/var/lib/strato/agent/sandboxes/web.2"),
            stdout: PathBuf::from("/var/lib/strato/agent/sandboxes/web.2/stdout"),
            stderr: PathBuf::from("/var/lib/strato/agent/sandboxes/web.2/stderr"),
            cpus: 0.1,
            mem: 32.0,
            user: Some(crate::executor::run_as::RunAs {
                name: "nobody".into(),
                uid: 65534,
                gid: 65534,
            }),
        };
        let args = systemd_run_args(&spec, true);
        for expected in [
            "--property=User=65534",
            "--property=Group=65534",
            "--property=NoNewPrivileges=yes",
            "--property=ProtectSystem=strict",
            "--property=ReadWritePaths=/var/lib/strato/agent/sandboxes/web.2",
            "--property=ProtectHome=read-only",
            "--property=PrivateTmp=yes",
        ] {
            assert!(args.iter().any(|a| a == expected), "{expected} in {args:?}");
        }
        let dashdash = args.iter().position(|a| a == "--").expect("--");
        assert!(args[..dashdash].iter().all(|a| a != "/bin/true"));

        // Without sandboxing (an unprivileged container): user and no new privileges only.
        let plain = systemd_run_args(&spec, false);
        assert!(plain.iter().any(|a| a == "--property=User=65534"));
        assert!(!plain.iter().any(|a| a.contains("ProtectSystem")));

        // A sandbox under /tmp keeps the real /tmp.
        let mut tmp = spec.clone();
        tmp.sandbox = PathBuf::from("/tmp/agent/sandboxes/web.2");
        let args = systemd_run_args(&tmp, true);
        assert!(!args.iter().any(|a| a.contains("PrivateTmp")), "{args:?}");
    }

    #[test]
    fn exit_is_read_from_unit_properties() {
        let running = parse_show("LoadState=loaded\nActiveState=active\nSubState=running\n");
        assert_eq!(exit_from_show(&running), None);
        let done = parse_show(
            "LoadState=loaded\nActiveState=active\nSubState=exited\nExecMainCode=1\nExecMainStatus=0\n",
        );
        assert_eq!(exit_from_show(&done), Some(Exit::Code(0)));
        let failed = parse_show(
            "LoadState=loaded\nActiveState=failed\nResult=exit-code\nExecMainCode=1\nExecMainStatus=3\n",
        );
        assert_eq!(exit_from_show(&failed), Some(Exit::Code(3)));
        let killed = parse_show(
            "LoadState=loaded\nActiveState=failed\nResult=signal\nExecMainCode=2\nExecMainStatus=9\n",
        );
        assert_eq!(exit_from_show(&killed), Some(Exit::Signal(9)));
    }
}
