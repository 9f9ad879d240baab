//! How many tasks an app needs launched and which to kill, given its definition and tasks:
//! scale up/down (victims by `killSelection`), rolling upgrade/restart by `upgradeStrategy`,
//! unhealthy replacement, with new tasks gated by health and [`readiness`](crate::readiness).
//! The same rule drives deployments and steady state, so a master restart
//! in the middle of a deployment simply continues.

use std::collections::BTreeSet;

use strato_runtime_types::app::KillSelection;
use strato_runtime_types::{App, TaskRecord};

use crate::{health, readiness};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KillReason {
    /// More tasks than instances.
    ScaleDown,
    /// Replaced by a task of the new version.
    Upgrade,
    /// Failed its health checks.
    Unhealthy,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AppPlan {
    pub launch: u32,
    pub kill: Vec<(String, KillReason)>,
    pub converged: bool,
}

/// The decision for one app. `tasks` are the app's active tasks; `not_ready` the ids of new tasks
/// still waiting for a readiness check.
pub fn app_plan(
    app: &App,
    tasks: &[&TaskRecord],
    now: u64,
    not_ready: &BTreeSet<String>,
) -> AppPlan {
    let mut plan = AppPlan::default();
    let mut active: Vec<&TaskRecord> = Vec::new();
    for task in tasks
        .iter()
        .copied()
        .filter(|t| t.is_active() && !t.kill_requested)
    {
        if health::should_kill(app, task, now) {
            plan.kill.push((task.id.clone(), KillReason::Unhealthy));
        } else {
            active.push(task);
        }
    }
    let config = &app.version_info.last_config_change_at;
    let (new, old): (Vec<&TaskRecord>, Vec<&TaskRecord>) = active
        .into_iter()
        .partition(|t| &t.config_version == config);
    let n = app.instances as usize;
    if old.is_empty() {
        if new.len() < n {
            plan.launch = (n - new.len()) as u32;
        } else if new.len() > n {
            for task in victims(new.clone(), app.kill_selection, |_| false)
                .into_iter()
                .take(new.len() - n)
            {
                plan.kill.push((task.id.clone(), KillReason::ScaleDown));
            }
        }
        plan.converged = new.len() == n
            && plan.kill.is_empty()
            && new.iter().all(|t| readiness::is_up(app, t, not_ready));
        return plan;
    }
    rolling(app, &new, old, not_ready, &mut plan);
    plan
}

/// One step of a rolling replacement: keep `ceil(n × minimumHealthCapacity)` healthy tasks,
/// never run more than `n + floor(n × maximumOverCapacity)` tasks.
fn rolling(
    app: &App,
    new: &[&TaskRecord],
    old: Vec<&TaskRecord>,
    not_ready: &BTreeSet<String>,
    plan: &mut AppPlan,
) {
    let n = app.instances as usize;
    let strategy = app.upgrade_strategy;
    let mut min_healthy = (n as f64 * strategy.minimum_health_capacity).ceil() as usize;
    let max_total = n + (n as f64 * strategy.maximum_over_capacity).floor() as usize;
    if min_healthy >= max_total && n > 0 {
        // (1, 0) leaves no room: Marathon then kills one old task first.
        min_healthy = max_total - 1;
    }
    let new_healthy = new
        .iter()
        .filter(|t| readiness::is_up(app, t, not_ready))
        .count();
    let keep = min_healthy.saturating_sub(new_healthy).min(old.len());
    let old_count = old.len();
    let ordered = victims(old, app.kill_selection, |t| !health::is_healthy(app, t));
    for task in ordered.into_iter().take(old_count - keep) {
        plan.kill.push((task.id.clone(), KillReason::Upgrade));
    }
    let room = max_total.saturating_sub(new.len() + keep);
    plan.launch = n.saturating_sub(new.len()).min(room) as u32;
    if new.len() > n {
        let extra = new.len() - n;
        for task in victims(new.to_vec(), app.kill_selection, |_| false)
            .into_iter()
            .take(extra)
        {
            plan.kill.push((task.id.clone(), KillReason::ScaleDown));
        }
    }
}

/// Tasks in kill order: `first` ones (e.g. unhealthy) first, then by `killSelection`.
fn victims(
    mut tasks: Vec<&TaskRecord>,
    selection: KillSelection,
    first: impl Fn(&TaskRecord) -> bool,
) -> Vec<&TaskRecord> {
    tasks.sort_by(|a, b| {
        let age = match selection {
            KillSelection::YoungestFirst => b.staged_at.cmp(&a.staged_at),
            KillSelection::OldestFirst => a.staged_at.cmp(&b.staged_at),
        };
        first(b).cmp(&first(a)).then(age).then(a.id.cmp(&b.id))
    });
    tasks
}

#[cfg(test)]
mod tests {
    use super::*;
    use strato_proto::TaskState;
    use strato_runtime_types::app::UpgradeStrategy;

    fn app(instances: u32, mhc: f64, moc: f64) -> App {
        let mut app = App {
            id: "/a".into(),
            instances,
            upgrade_strategy: UpgradeStrategy {
                minimum_health_capacity: mhc,
                maximum_over_capacity: moc,
            },
            ..App::default()
        };
        app.version_info.last_config_change_at = "v2".into();
        app
    }

    fn task(id: &str, version: &str, staged_at: u64, state: TaskState) -> TaskRecord {
        TaskRecord {
            id: id.into(),
            app_id: "/a".into(),
            agent_id: "a1".into(),
            host: "h".into(),
            version: version.into(),
            config_version: version.into(),
            state,
            staged_at,
            started_at: Some(staged_at),
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

    fn killed(plan: &AppPlan) -> Vec<&str> {
        plan.kill.iter().map(|(id, _)| id.as_str()).collect()
    }

    #[test]
    fn scale_up_launches_the_missing_tasks() {
        let t1 = task("t1", "v2", 1, TaskState::Running);
        let plan = app_plan(&app(3, 1.0, 1.0), &[&t1], 0, &BTreeSet::new());
        assert_eq!(plan.launch, 2);
        assert!(!plan.converged);
    }

    #[test]
    fn scale_down_kills_the_youngest_first() {
        let tasks: Vec<TaskRecord> = (1..=4)
            .map(|i| task(&format!("t{i}"), "v2", i, TaskState::Running))
            .collect();
        let refs: Vec<&TaskRecord> = tasks.iter().collect();
        let plan = app_plan(&app(2, 1.0, 1.0), &refs, 0, &BTreeSet::new());
        assert_eq!(killed(&plan), vec!["t4", "t3"]);
        let mut oldest = app(2, 1.0, 1.0);
        oldest.kill_selection = KillSelection::OldestFirst;
        assert_eq!(
            killed(&app_plan(&oldest, &refs, 0, &BTreeSet::new())),
            vec!["t1", "t2"]
        );
    }

    #[test]
    fn converged_when_counts_match_and_all_run() {
        let t1 = task("t1", "v2", 1, TaskState::Running);
        assert!(app_plan(&app(1, 1.0, 1.0), &[&t1], 0, &BTreeSet::new()).converged);
        let staging = task("t1", "v2", 1, TaskState::Staging);
        assert!(!app_plan(&app(1, 1.0, 1.0), &[&staging], 0, &BTreeSet::new()).converged);
    }

    #[test]
    fn upgrade_with_full_capacity_starts_new_before_killing_old() {
        let old: Vec<TaskRecord> = (1..=2)
            .map(|i| task(&format!("o{i}"), "v1", i, TaskState::Running))
            .collect();
        let refs: Vec<&TaskRecord> = old.iter().collect();
        let step1 = app_plan(&app(2, 1.0, 1.0), &refs, 0, &BTreeSet::new());
        assert_eq!((step1.launch, killed(&step1).len()), (2, 0));
        let n1 = task("n1", "v2", 10, TaskState::Running);
        let n2 = task("n2", "v2", 11, TaskState::Staging);
        let refs2 = vec![&old[0], &old[1], &n1, &n2];
        let step2 = app_plan(&app(2, 1.0, 1.0), &refs2, 0, &BTreeSet::new());
        assert_eq!(step2.launch, 0);
        assert_eq!(
            killed(&step2).len(),
            1,
            "one new task is healthy, so one old one goes"
        );
    }

    #[test]
    fn upgrade_with_zero_health_capacity_kills_all_old_at_once() {
        let old: Vec<TaskRecord> = (1..=3)
            .map(|i| task(&format!("o{i}"), "v1", i, TaskState::Running))
            .collect();
        let refs: Vec<&TaskRecord> = old.iter().collect();
        let plan = app_plan(&app(3, 0.0, 0.0), &refs, 0, &BTreeSet::new());
        assert_eq!(killed(&plan).len(), 3);
        assert_eq!(plan.launch, 3);
    }

    #[test]
    fn half_capacity_without_overcapacity_replaces_in_two_steps() {
        let old: Vec<TaskRecord> = (1..=2)
            .map(|i| task(&format!("o{i}"), "v1", i, TaskState::Running))
            .collect();
        let refs: Vec<&TaskRecord> = old.iter().collect();
        let plan = app_plan(&app(2, 0.5, 0.0), &refs, 0, &BTreeSet::new());
        assert_eq!((killed(&plan).len(), plan.launch), (1, 1));
    }

    #[test]
    fn full_capacity_without_overcapacity_still_progresses() {
        let old = [task("o1", "v1", 1, TaskState::Running)];
        let plan = app_plan(&app(1, 1.0, 0.0), &[&old[0]], 0, &BTreeSet::new());
        assert_eq!((killed(&plan).len(), plan.launch), (1, 1));
    }
}
