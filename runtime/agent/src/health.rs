//! Agent-side health checks (HTTP, HTTPS, TCP, COMMAND) with Marathon's grace, interval and
//! timeout rules. Results are reported; the master decides when an unhealthy task is killed.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use strato_proto::{HealthCheck, HealthProtocol, HealthResult, UnixMillis};
use tokio::task::AbortHandle;

use crate::executor::now_millis;

/// Receives each new result; `true` when it differs in a way the master must hear about at once
/// (first result, alive flipped, another failure).
pub type Report = Arc<dyn Fn(HealthResult, bool) + Send + Sync>;

/// What the checks of one task run against.
#[derive(Debug, Clone)]
pub struct Target {
    pub sandbox: PathBuf,
    pub env: BTreeMap<String, String>,
    /// When the task started running; the grace period counts from here.
    pub started_at: UnixMillis,
    /// The task's user: COMMAND checks run as it (`None`: as the agent).
    pub user: Option<crate::executor::run_as::RunAs>,
    /// The task's systemd unit: COMMAND checks join its cgroup, so the task's memory and CPU
    /// limits bound them too (`None`: plain processes, no limits to share).
    pub unit: Option<String>,
    /// The task's container: COMMAND checks run inside it, as Marathon's do for Docker apps.
    pub container: Option<InContainer>,
}

/// Where a container task's COMMAND checks run: its launcher's exec into its container.
#[derive(Clone)]
pub struct InContainer {
    pub launcher: Arc<dyn crate::executor::launcher::Launcher>,
    pub task_id: String,
}

impl std::fmt::Debug for InContainer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InContainer")
            .field("task_id", &self.task_id)
            .finish_non_exhaustive()
    }
}

/// What one probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    Healthy,
    Unhealthy(String),
    /// An informational 1xx answer with `ignore_http1xx`: neither success nor failure.
    Ignored,
}

/// An HTTP client suited to probes: no redirects (3xx is healthy), any certificate (Marathon
/// does not verify HTTPS checks).
pub fn http_client() -> Result<reqwest::Client, reqwest::Error> {
    strato_tls::client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .danger_accept_invalid_certs(true)
        .build()
}

/// Starts one loop per check; returns their handles so they stop with the task.
pub fn spawn_all(
    checks: &[HealthCheck],
    target: Target,
    http: reqwest::Client,
    report: Report,
) -> Vec<AbortHandle> {
    checks
        .iter()
        .enumerate()
        .map(|(index, check)| {
            let fut = run_check(
                index,
                check.clone(),
                target.clone(),
                http.clone(),
                report.clone(),
            );
            tokio::spawn(fut).abort_handle()
        })
        .collect()
}

/// Folds one probe into a result: `Some(push)` when the result changed, `None` when the probe
/// does not count (ignored, or a failure inside the grace period before any success).
pub fn apply(
    result: &mut HealthResult,
    probe: Probe,
    now: UnixMillis,
    in_grace: bool,
) -> Option<bool> {
    match probe {
        Probe::Ignored => None,
        Probe::Healthy => {
            let push = !result.alive || result.first_success.is_none();
            result.alive = true;
            result.consecutive_failures = 0;
            result.first_success.get_or_insert(now);
            result.last_success = Some(now);
            Some(push)
        }
        Probe::Unhealthy(_) if in_grace && result.first_success.is_none() => None,
        Probe::Unhealthy(cause) => {
            result.alive = false;
            result.consecutive_failures += 1;
            result.last_failure = Some(now);
            result.last_failure_cause = Some(cause);
            Some(true)
        }
    }
}

async fn run_check(
    index: usize,
    check: HealthCheck,
    target: Target,
    http: reqwest::Client,
    report: Report,
) {
    let mut result = HealthResult {
        index,
        alive: false,
        consecutive_failures: 0,
        first_success: None,
        last_success: None,
        last_failure: None,
        last_failure_cause: None,
    };
    let interval = Duration::from_secs(check.interval_seconds.max(1));
    let grace_ends = target
        .started_at
        .saturating_add(check.grace_period_seconds.saturating_mul(1000));
    loop {
        let outcome = probe(&check, &target, &http).await;
        let now = now_millis();
        if let Some(push) = apply(&mut result, outcome, now, now < grace_ends) {
            report(result.clone(), push);
        }
        tokio::time::sleep(interval).await;
    }
}

/// Runs one probe within the check's timeout.
pub async fn probe(check: &HealthCheck, target: &Target, http: &reqwest::Client) -> Probe {
    let timeout = Duration::from_secs(check.timeout_seconds.max(1));
    let attempt = async {
        match check.protocol {
            HealthProtocol::Http | HealthProtocol::Https => probe_http(check, http).await,
            HealthProtocol::Tcp => probe_tcp(check).await,
            HealthProtocol::Command => probe_command(check, target).await,
        }
    };
    match tokio::time::timeout(timeout, attempt).await {
        Ok(p) => p,
        Err(_) => Probe::Unhealthy(format!(
            "health check timed out after {}s",
            timeout.as_secs()
        )),
    }
}

async fn probe_http(check: &HealthCheck, http: &reqwest::Client) -> Probe {
    let Some(port) = check.port else {
        return Probe::Unhealthy("health check has no port".into());
    };
    let scheme = match check.protocol {
        HealthProtocol::Https => "https",
        _ => "http",
    };
    let path = check.path.as_deref().unwrap_or("/");
    let path = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    };
    let url = format!("{scheme}://127.0.0.1:{port}{path}");
    match http.get(&url).send().await {
        Ok(resp) => {
            let code = resp.status().as_u16();
            match code {
                100..=199 if check.ignore_http1xx => Probe::Ignored,
                200..=399 => Probe::Healthy,
                _ => Probe::Unhealthy(format!("{url} answered HTTP {code}")),
            }
        }
        Err(e) => Probe::Unhealthy(format!("{url}: {}", crate::executor::error_chain(&e))),
    }
}

async fn probe_tcp(check: &HealthCheck) -> Probe {
    let Some(port) = check.port else {
        return Probe::Unhealthy("health check has no port".into());
    };
    match tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
        Ok(_) => Probe::Healthy,
        Err(e) => Probe::Unhealthy(format!("cannot connect to 127.0.0.1:{port}: {e}")),
    }
}

async fn probe_command(check: &HealthCheck, target: &Target) -> Probe {
    let Some(command) = &check.command else {
        return Probe::Unhealthy("COMMAND health check has no command".into());
    };
    if let Some(container) = &target.container {
        let Some(exec) = container
            .launcher
            .exec_in_container(&container.task_id, command)
        else {
            return Probe::Unhealthy(format!(
                "cannot run command `{command}`: no container engine runs the task's container"
            ));
        };
        return match exec.await {
            Ok(0) => Probe::Healthy,
            Ok(code) => Probe::Unhealthy(format!(
                "command `{command}` exited with exit status: {code} (in the task's container)"
            )),
            Err(why) => Probe::Unhealthy(format!("cannot run command `{command}`: {why}")),
        };
    }
    let mut cmd = tokio::process::Command::new("/bin/sh");
    if let Some(user) = &target.user {
        // std drops root's supplementary groups when it switches uid.
        cmd.uid(user.uid).gid(user.gid);
    }
    match &target.unit {
        // The shell waits for a line on stdin, sent once it has been moved into the unit's
        // cgroup, so nothing of the check runs outside the task's limits.
        Some(_) => cmd
            .arg("-c")
            .arg("read -r _ || exit 125; exec /bin/sh -c \"$0\"")
            .arg(command)
            .stdin(Stdio::piped()),
        None => cmd.arg("-c").arg(command).stdin(Stdio::null()),
    };
    let child = cmd
        .envs(&target.env)
        .current_dir(&target.sandbox)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // A timed-out check is dropped; its process must not outlive it.
        .kill_on_drop(true)
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) => return Probe::Unhealthy(format!("cannot run command `{command}`: {e}")),
    };
    if let Some(unit) = &target.unit {
        if let Err(why) = join_unit(unit, &mut child).await {
            let _ = child.kill().await;
            return Probe::Unhealthy(format!(
                "cannot run command `{command}` inside the task's unit {unit}: {why}"
            ));
        }
    }
    match child.wait().await {
        Ok(s) if s.success() => Probe::Healthy,
        Ok(s) => Probe::Unhealthy(format!("command `{command}` exited with {s}")),
        Err(e) => Probe::Unhealthy(format!("cannot run command `{command}`: {e}")),
    }
}

/// Moves the waiting check process into the cgroups of `unit`'s main process, then lets it run.
/// systemd moves processes only into units that delegate their cgroup (a task unit does not,
/// so a task cannot manage its own), hence the cgroup files are written directly, as root.
async fn join_unit(unit: &str, child: &mut tokio::process::Child) -> Result<(), String> {
    use tokio::io::AsyncWriteExt;
    let pid = child.id().ok_or("the check ended at once")?;
    let out = tokio::process::Command::new("systemctl")
        .args(["show", "--property=MainPID", "--value", unit])
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|e| format!("cannot run systemctl: {e}"))?;
    let main_pid = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() || main_pid.is_empty() || main_pid == "0" {
        return Err("the task's process is not running".into());
    }
    let read = |path: String| {
        std::fs::read_to_string(&path).map_err(|e| format!("cannot read {path}: {e}"))
    };
    let task_cgroup = read(format!("/proc/{main_pid}/cgroup"))?;
    let files = crate::cgroup::procs_files(&task_cgroup, &read("/proc/self/mountinfo".into())?);
    if files.is_empty() {
        return Err("no mounted cgroup hierarchy holds the task".into());
    }
    for file in files {
        std::fs::write(&file, pid.to_string())
            .map_err(|e| format!("cannot join {}: {e}", file.display()))?;
    }
    let mut stdin = child.stdin.take().ok_or("no stdin to the check")?;
    stdin
        .write_all(b"go\n")
        .await
        .map_err(|e| format!("cannot start the check: {e}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh() -> HealthResult {
        HealthResult {
            index: 0,
            alive: false,
            consecutive_failures: 0,
            first_success: None,
            last_success: None,
            last_failure: None,
            last_failure_cause: None,
        }
    }

    #[test]
    fn failures_in_grace_do_not_count_until_the_first_success() {
        let mut r = fresh();
        assert_eq!(apply(&mut r, Probe::Unhealthy("x".into()), 1, true), None);
        assert_eq!(r.consecutive_failures, 0);
        assert_eq!(apply(&mut r, Probe::Healthy, 2, true), Some(true));
        assert!(r.alive);
        assert_eq!(r.first_success, Some(2));
        assert_eq!(apply(&mut r, Probe::Healthy, 3, true), Some(false));
        assert_eq!(r.first_success, Some(2));
        assert_eq!(r.last_success, Some(3));
        // After a success, failures count even inside the grace period.
        assert_eq!(
            apply(&mut r, Probe::Unhealthy("down".into()), 4, true),
            Some(true)
        );
        assert!(!r.alive);
        assert_eq!(r.consecutive_failures, 1);
        assert_eq!(r.last_failure_cause.as_deref(), Some("down"));
    }

    #[test]
    fn failures_after_grace_count_and_a_success_resets() {
        let mut r = fresh();
        apply(&mut r, Probe::Unhealthy("a".into()), 1, false);
        apply(&mut r, Probe::Unhealthy("b".into()), 2, false);
        assert_eq!(r.consecutive_failures, 2);
        assert_eq!(r.last_failure, Some(2));
        assert_eq!(apply(&mut r, Probe::Ignored, 3, false), None);
        apply(&mut r, Probe::Healthy, 4, false);
        assert_eq!(r.consecutive_failures, 0);
        assert!(r.alive);
        assert_eq!(r.last_failure, Some(2));
    }
}
