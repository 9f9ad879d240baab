//! Placement throughput and spread: 1,000 simulated agents × 10,000 tasks and 10,000 agents ×
//! 100,000 tasks, per constraint kind, with the converged re-plan and the spread of the default
//! (limited) planner next to the exhaustive one ([`Limit::All`], O(agents) per task). Prints a
//! table; `STRATO_BENCH_SMALL=1` runs only the 1,000-agent cluster.
//!
//! `cargo bench -p strato-scheduler --bench placement`

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use strato_proto::{PortRange, Resources, TaskState};
use strato_runtime_types::{App, TaskRecord};
use strato_scheduler::spread::Spread;
use strato_scheduler::{plan_with, AgentView, AppInput, Limit, PlanInput};

const APPS: usize = 10;

fn agents(count: usize) -> Vec<AgentView> {
    (0..count)
        .map(|i| AgentView {
            id: format!("agent-{i}"),
            hostname: format!("node-{i}.example"),
            role: "*".into(),
            containers: false,
            attributes: BTreeMap::from([("rack".to_string(), format!("r{}", i % 20))]),
            resources: Resources {
                cpus: 32.0,
                mem: 131_072.0,
                disk: 1_000_000.0,
                ports: vec![PortRange {
                    begin: 31000,
                    end: 32000,
                }],
            },
            active: true,
        })
        .collect()
}

fn apps(per_app: u32, constraints: &[&[&str]]) -> Vec<App> {
    (0..APPS)
        .map(|i| {
            let mut app = App {
                id: format!("/bench/app-{i}"),
                cmd: Some("sleep 1000".into()),
                instances: per_app,
                cpus: 0.1,
                mem: 64.0,
                constraints: constraints
                    .iter()
                    .map(|c| c.iter().map(|s| s.to_string()).collect())
                    .collect(),
                ..App::default()
            };
            app.version_info.last_config_change_at = "v1".into();
            app
        })
        .collect()
}

/// Plans every task from scratch, then turns the launches into running tasks.
fn place_all(agents: &[AgentView], apps: &[App], limit: Limit) -> (Duration, Vec<TaskRecord>) {
    let input = PlanInput {
        now: 0,
        agents,
        apps: apps
            .iter()
            .map(|app| AppInput {
                app,
                launch_not_before: None,
                dependencies_ready: true,
                not_ready: Default::default(),
            })
            .collect(),
        tasks: Vec::new(),
    };
    let started = Instant::now();
    let out = plan_with(&input, limit);
    let elapsed = started.elapsed();
    let tasks = out
        .launches
        .iter()
        .enumerate()
        .map(|(n, l)| TaskRecord {
            id: format!("t{n}"),
            app_id: l.app_id.clone(),
            agent_id: l.agent_id.clone(),
            host: String::new(),
            version: "v1".into(),
            config_version: "v1".into(),
            state: TaskState::Running,
            staged_at: n as u64,
            started_at: Some(n as u64),
            ports: l.host_ports.clone(),
            service_ports: Vec::new(),
            health: Vec::new(),
            message: None,
            kill_requested: false,
            cpus: 0.1,
            mem: 64.0,
            disk: 0.0,
            job_run: None,
        })
        .collect();
    (elapsed, tasks)
}

fn steady_state(agents: &[AgentView], apps: &[App], tasks: &[TaskRecord]) -> Duration {
    let input = PlanInput {
        now: 0,
        agents,
        apps: apps
            .iter()
            .map(|app| AppInput {
                app,
                launch_not_before: None,
                dependencies_ready: true,
                not_ready: Default::default(),
            })
            .collect(),
        tasks: tasks.iter().collect(),
    };
    let started = Instant::now();
    let out = plan_with(&input, Limit::default());
    assert!(
        out.launches.is_empty() && out.kills.is_empty(),
        "a converged cluster needs nothing"
    );
    started.elapsed()
}

fn spread(agents: &[AgentView], tasks: &[TaskRecord]) -> Spread {
    Spread::of(agents, tasks.iter().map(|t| (t.agent_id.as_str(), t.cpus)))
}

fn scale(agent_count: usize, per_app: u32, exhaustive: bool) {
    let agents = agents(agent_count);
    println!(
        "\n{agent_count} agents, {APPS} apps x {per_app} instances = {} tasks (limit {} candidates)",
        APPS as u32 * per_app,
        Limit::default().resolve(agent_count)
    );
    println!(
        "{:<34} {:>7} {:>10} {:>9} {:>10} {:>9} {:>14} {:>14}",
        "scenario",
        "placed",
        "plan (ms)",
        "tasks/s",
        "re-plan ms",
        "exh tasks/s",
        "max/agent l|e",
        "cpu CV l|e"
    );
    let scenarios: [(&str, &[&[&str]]); 4] = [
        ("no constraints", &[]),
        ("hostname MAX_PER 2", &[&["hostname", "MAX_PER", "2"]]),
        ("rack GROUP_BY", &[&["rack", "GROUP_BY"]]),
        (
            "rack LIKE r1.*, hostname UNIQUE",
            &[&["rack", "LIKE", "r1.*"], &["hostname", "UNIQUE"]],
        ),
    ];
    for (name, constraints) in scenarios {
        let apps = apps(per_app, constraints);
        let (elapsed, tasks) = place_all(&agents, &apps, Limit::default());
        let rate = tasks.len() as f64 / elapsed.as_secs_f64();
        let replan = steady_state(&agents, &apps, &tasks);
        let limited = spread(&agents, &tasks);
        let (exh_rate, exh) = if exhaustive {
            let (exh_elapsed, exh_tasks) = place_all(&agents, &apps, Limit::All);
            (
                format!("{:.0}", exh_tasks.len() as f64 / exh_elapsed.as_secs_f64()),
                Some(spread(&agents, &exh_tasks)),
            )
        } else {
            ("-".to_string(), None)
        };
        let (exh_max, exh_cv) = exh.map_or(("-".to_string(), "-".to_string()), |e| {
            (e.max_tasks.to_string(), format!("{:.4}", e.cpu_cv))
        });
        println!(
            "{name:<34} {:>7} {:>10.1} {:>9.0} {:>10.2} {:>9} {:>14} {:>14}",
            tasks.len(),
            elapsed.as_secs_f64() * 1000.0,
            rate,
            replan.as_secs_f64() * 1000.0,
            exh_rate,
            format!("{}|{exh_max}", limited.max_tasks),
            format!("{:.4}|{exh_cv}", limited.cpu_cv),
        );
    }
}

fn main() {
    scale(1_000, 1_000, true);
    if std::env::var_os("STRATO_BENCH_SMALL").is_none() {
        scale(10_000, 10_000, true);
    }
}
