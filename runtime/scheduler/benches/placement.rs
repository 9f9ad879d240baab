//! Placement throughput: 1,000 simulated agents, 10,000 tasks. Prints a table.
//!
//! `cargo bench -p strato-scheduler --bench placement`

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use strato_proto::{PortRange, Resources, TaskState};
use strato_runtime_types::{App, TaskRecord};
use strato_scheduler::{plan, AgentView, AppInput, PlanInput};

const AGENTS: usize = 1_000;
const APPS: usize = 10;
const PER_APP: u32 = 1_000;

fn agents() -> Vec<AgentView> {
    (0..AGENTS)
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

fn apps(constraints: &[&[&str]]) -> Vec<App> {
    (0..APPS)
        .map(|i| {
            let mut app = App {
                id: format!("/bench/app-{i}"),
                cmd: Some("sleep 1000".into()),
                instances: PER_APP,
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
fn place_all(agents: &[AgentView], apps: &[App]) -> (Duration, Vec<TaskRecord>) {
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
    let out = plan(&input);
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
    let out = plan(&input);
    assert!(
        out.launches.is_empty() && out.kills.is_empty(),
        "a converged cluster needs nothing"
    );
    started.elapsed()
}

fn main() {
    let agents = agents();
    println!(
        "placement: {AGENTS} agents, {APPS} apps x {PER_APP} instances = {} tasks",
        APPS as u32 * PER_APP
    );
    println!(
        "{:<34} {:>8} {:>12} {:>14}",
        "scenario", "placed", "plan (ms)", "tasks/s"
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
        let apps = apps(constraints);
        let (elapsed, tasks) = place_all(&agents, &apps);
        let rate = tasks.len() as f64 / elapsed.as_secs_f64();
        println!(
            "{name:<34} {:>8} {:>12.1} {:>14.0}",
            tasks.len(),
            elapsed.as_secs_f64() * 1000.0,
            rate
        );
        if name == "no constraints" {
            let replan = steady_state(&agents, &apps, &tasks);
            println!(
                "{:<34} {:>8} {:>12.1} {:>14}",
                "steady-state replan (converged)",
                0,
                replan.as_secs_f64() * 1000.0,
                "-"
            );
        }
    }
}
