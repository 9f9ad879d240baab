//! Readiness gating (Marathon `readinessChecks`): during a deployment, a task of the new version
//! counts as up only once the master's readiness probes passed. Until then the deployment treats
//! it like an unhealthy task: it does not count towards progress and old tasks are not replaced
//! by it. Readiness never kills a task.

use std::collections::BTreeSet;

use strato_runtime_types::{App, TaskRecord};

use crate::health;

/// Up for deployment purposes: healthy ([`health::is_healthy`]) and not waiting for a readiness
/// check. `not_ready` holds the ids the master still probes.
pub fn is_up(app: &App, task: &TaskRecord, not_ready: &BTreeSet<String>) -> bool {
    health::is_healthy(app, task) && !not_ready.contains(&task.id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deployment::app_plan;
    use strato_proto::TaskState;

    fn app() -> App {
        let mut app = App {
            id: "/a".into(),
            instances: 2,
            ..App::default()
        };
        app.version_info.last_config_change_at = "v2".into();
        app
    }

    fn task(id: &str, version: &str) -> TaskRecord {
        TaskRecord {
            id: id.into(),
            app_id: "/a".into(),
            agent_id: "a1".into(),
            host: "h".into(),
            version: version.into(),
            config_version: version.into(),
            state: TaskState::Running,
            staged_at: 1,
            started_at: Some(1),
            ports: vec![],
            service_ports: vec![],
            health: vec![],
            message: None,
            kill_requested: false,
            cpus: 0.0,
            mem: 0.0,
            disk: 0.0,
            job_run: None,
        }
    }

    fn set(ids: &[&str]) -> BTreeSet<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_running_task_waiting_for_readiness_is_not_up() {
        let t = task("n1", "v2");
        assert!(is_up(&app(), &t, &set(&[])));
        assert!(!is_up(&app(), &t, &set(&["n1"])));
    }

    #[test]
    fn rolling_upgrade_keeps_old_tasks_until_new_ones_are_ready() {
        let tasks = [
            task("o1", "v1"),
            task("o2", "v1"),
            task("n1", "v2"),
            task("n2", "v2"),
        ];
        let refs: Vec<&TaskRecord> = tasks.iter().collect();
        let waiting = app_plan(&app(), &refs, 0, &set(&["n1", "n2"]));
        assert!(
            waiting.kill.is_empty(),
            "no old task goes while none is ready"
        );
        assert_eq!(waiting.launch, 0, "the new tasks already run");
        assert!(!waiting.converged);

        let one_ready = app_plan(&app(), &refs, 0, &set(&["n2"]));
        let killed: Vec<&str> = one_ready.kill.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(killed.len(), 1, "one ready new task replaces one old task");
        assert!(killed[0].starts_with('o'));

        let all_ready = app_plan(&app(), &refs, 0, &set(&[]));
        assert_eq!(all_ready.kill.len(), 2);
    }

    #[test]
    fn a_new_app_converges_only_once_its_tasks_are_ready() {
        let tasks = [task("n1", "v2"), task("n2", "v2")];
        let refs: Vec<&TaskRecord> = tasks.iter().collect();
        let waiting = app_plan(&app(), &refs, 0, &set(&["n1"]));
        assert!(!waiting.converged);
        assert!(waiting.kill.is_empty() && waiting.launch == 0);
        assert!(app_plan(&app(), &refs, 0, &set(&[])).converged);
    }
}
