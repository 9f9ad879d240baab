//! Which tasks failed their health checks badly enough to be killed and replaced.

use strato_runtime_types::{App, TaskRecord};

/// True when a check reached `maxConsecutiveFailures` after its grace period. Marathon-run checks
/// with 0 never kill; Mesos-run ones (`MESOS_*`, `COMMAND`) with 0 kill on the first failure.
pub fn should_kill(app: &App, task: &TaskRecord, now: u64) -> bool {
    task.health.iter().any(|result| {
        let Some(check) = app.health_checks.get(result.index) else {
            return false;
        };
        let limit = match (check.max_consecutive_failures, check.is_mesos_check()) {
            (0, false) => return false,
            (0, true) => 1,
            (n, _) => n,
        };
        let grace_over = task.started_at.is_some_and(|started| {
            now.saturating_sub(started) >= check.grace_period_seconds * 1000
        });
        !result.alive
            && result.consecutive_failures >= limit
            && (grace_over || result.first_success.is_some())
    })
}

/// Healthy for deployment purposes: running, and alive on every check the app has.
pub fn is_healthy(app: &App, task: &TaskRecord) -> bool {
    task.is_running()
        && (app.health_checks.is_empty()
            || (task.health.len() >= app.health_checks.len()
                && task.health.iter().all(|h| h.alive)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use strato_proto::{HealthResult, TaskState};
    use strato_runtime_types::health::HealthCheckDef;

    pub(crate) fn running(started_at: u64, failures: u32, alive: bool) -> TaskRecord {
        TaskRecord {
            id: "t".into(),
            app_id: "/a".into(),
            agent_id: "a1".into(),
            host: "h".into(),
            version: "v".into(),
            config_version: "v".into(),
            state: TaskState::Running,
            staged_at: 0,
            started_at: Some(started_at),
            ports: vec![],
            service_ports: vec![],
            health: vec![HealthResult {
                index: 0,
                alive,
                consecutive_failures: failures,
                first_success: None,
                last_success: None,
                last_failure: None,
                last_failure_cause: None,
            }],
            message: None,
            kill_requested: false,
            cpus: 0.0,
            mem: 0.0,
            disk: 0.0,
            job_run: None,
        }
    }

    fn app(max: u32, protocol: &str) -> App {
        App {
            health_checks: vec![HealthCheckDef {
                protocol: protocol.into(),
                grace_period_seconds: 10,
                max_consecutive_failures: max,
                ..HealthCheckDef::default()
            }],
            ..App::default()
        }
    }

    #[test]
    fn failures_inside_the_grace_period_are_ignored() {
        assert!(!should_kill(&app(3, "HTTP"), &running(0, 5, false), 5_000));
        assert!(should_kill(&app(3, "HTTP"), &running(0, 3, false), 10_000));
        assert!(!should_kill(&app(3, "HTTP"), &running(0, 2, false), 10_000));
    }

    #[test]
    fn zero_failures_never_kills_marathon_checks_but_kills_mesos_ones() {
        assert!(!should_kill(&app(0, "HTTP"), &running(0, 9, false), 60_000));
        assert!(should_kill(
            &app(0, "MESOS_HTTP"),
            &running(0, 1, false),
            60_000
        ));
    }

    #[test]
    fn healthy_needs_every_check_alive() {
        assert!(is_healthy(&app(3, "HTTP"), &running(0, 0, true)));
        assert!(!is_healthy(&app(3, "HTTP"), &running(0, 1, false)));
        assert!(is_healthy(&App::default(), &running(0, 1, false)));
    }
}
