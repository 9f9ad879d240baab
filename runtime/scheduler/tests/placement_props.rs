//! Property tests of `plan` on generated clusters: every launch replayed in order against the
//! string-level constraint rules (`allows` in runtime/scheduler/src/constraints.rs) and the
//! agents' capacity, a converged cluster planning nothing, and the limited planner's spread
//! staying within the stated bound of the exhaustive one (docs/benchmarks.md §Scheduler placement).

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use strato_proto::{PortRange, Resources, TaskState};
use strato_runtime_types::app::PortDefinition;
use strato_runtime_types::{App, TaskRecord};
use strato_scheduler::constraints::{allows, field_value, group_min, Prepared};
use strato_scheduler::placement::slots;
use strato_scheduler::spread::Spread;
use strato_scheduler::{plan_with, AgentView, AppInput, Launch, Limit, Plan, PlanInput};

/// Every constraint kind, on `hostname` and on the `rack` attribute (which some agents lack).
const CONSTRAINTS: &[&[&str]] = &[
    &["hostname", "UNIQUE"],
    &["hostname", "MAX_PER", "2"],
    &["rack", "MAX_PER", "3"],
    &["rack", "UNIQUE"],
    &["rack", "GROUP_BY"],
    &["hostname", "GROUP_BY"],
    &["rack", "CLUSTER"],
    &["rack", "CLUSTER", "r1"],
    &["rack", "LIKE", "r[01]"],
    &["rack", "UNLIKE", "r0"],
    &["rack", "IS", "r2"],
    &["@hostname", "LIKE", "h1.*"],
];

fn agent_strategy() -> impl Strategy<Value = (u8, u8, u8, u8, bool, bool)> {
    // cpus in halves, mem in 256 MiB, ports offered, rack (4 = none), public role, containers.
    (
        1u8..16,
        1u8..32,
        0u8..6,
        0u8..5,
        prop::bool::weighted(0.1),
        any::<bool>(),
    )
}

fn agents(specs: &[(u8, u8, u8, u8, bool, bool)]) -> Vec<AgentView> {
    specs
        .iter()
        .enumerate()
        .map(
            |(i, &(cpus, mem, ports, rack, public, containers))| AgentView {
                id: format!("a{i}"),
                hostname: format!("h{i}"),
                role: if public { "slave_public" } else { "*" }.into(),
                attributes: if rack < 4 {
                    BTreeMap::from([("rack".to_string(), format!("r{rack}"))])
                } else {
                    BTreeMap::new()
                },
                resources: Resources {
                    cpus: f64::from(cpus) * 0.5,
                    mem: f64::from(mem) * 256.0,
                    disk: 10_000.0,
                    ports: vec![PortRange {
                        begin: 31000,
                        end: 31000 + u16::from(ports),
                    }],
                },
                active: i % 13 != 12,
                containers,
            },
        )
        .collect()
}

fn app_strategy() -> impl Strategy<Value = (u8, u8, u8, u8, Vec<usize>)> {
    // instances, cpus in tenths, mem in 64 MiB, host ports, constraint indexes.
    (
        1u8..40,
        1u8..10,
        1u8..8,
        0u8..3,
        prop::collection::vec(0..CONSTRAINTS.len(), 0..3),
    )
}

fn apps(specs: &[(u8, u8, u8, u8, Vec<usize>)]) -> Vec<App> {
    specs
        .iter()
        .enumerate()
        .map(|(i, (instances, cpus, mem, ports, constraints))| {
            let mut app = App {
                id: format!("/p/app-{i}"),
                instances: u32::from(*instances),
                cpus: f64::from(*cpus) * 0.1,
                mem: f64::from(*mem) * 64.0,
                port_definitions: vec![PortDefinition::default(); usize::from(*ports)],
                constraints: constraints
                    .iter()
                    .map(|&c| CONSTRAINTS[c].iter().map(|s| s.to_string()).collect())
                    .collect(),
                ..App::default()
            };
            app.version_info.last_config_change_at = "v1".into();
            app
        })
        .collect()
}

fn input<'a>(agents: &'a [AgentView], apps: &'a [App], tasks: &'a [TaskRecord]) -> PlanInput<'a> {
    PlanInput {
        now: 0,
        agents,
        apps: apps
            .iter()
            .map(|app| AppInput {
                app,
                launch_not_before: None,
                dependencies_ready: true,
                not_ready: BTreeSet::new(),
            })
            .collect(),
        tasks: tasks.iter().collect(),
    }
}

fn running(launches: &[Launch], apps: &[App]) -> Vec<TaskRecord> {
    launches
        .iter()
        .enumerate()
        .map(|(n, l)| {
            let app = apps
                .iter()
                .find(|a| a.id == l.app_id)
                .expect("launches name planned apps");
            TaskRecord {
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
                cpus: app.cpus,
                mem: app.mem,
                disk: app.disk,
                job_run: None,
            }
        })
        .collect()
}

/// Replays the launches in plan order on fresh slots: each must fit the agent's role, engine,
/// cpus, mem, disk and ports and be allowed by every constraint given the app's earlier launches.
fn check_replay(agents: &[AgentView], apps: &[App], plan: &Plan) -> Result<(), TestCaseError> {
    let mut slots = slots(agents, &[]);
    // Per app, per constraint: launches counted by field value.
    let mut placed: BTreeMap<&str, Vec<BTreeMap<String, usize>>> = BTreeMap::new();
    for launch in &plan.launches {
        let app = apps
            .iter()
            .find(|a| a.id == launch.app_id)
            .expect("launches name planned apps");
        let prepared: Vec<Prepared> = app
            .constraints
            .iter()
            .filter_map(|c| Prepared::new(c))
            .collect();
        let all_values: Vec<Vec<String>> = prepared
            .iter()
            .map(|c| {
                let set: BTreeSet<String> = slots
                    .iter()
                    .filter_map(|s| field_value(s, c.field()).map(str::to_string))
                    .collect();
                set.into_iter().collect()
            })
            .collect();
        let counts = placed
            .entry(app.id.as_str())
            .or_insert_with(|| vec![BTreeMap::new(); prepared.len()]);
        let i = slots
            .iter()
            .position(|s| s.id == launch.agent_id)
            .ok_or_else(|| TestCaseError::fail("launch on an unknown or inactive agent"))?;
        for (c, constraint) in prepared.iter().enumerate() {
            let min = group_min(&counts[c], &all_values[c]);
            prop_assert!(
                allows(constraint, &slots[i], &counts[c], min),
                "{:?} broken by {launch:?}",
                app.constraints[c]
            );
        }
        let slot = &mut slots[i];
        prop_assert!(app.accepted_roles().contains(&slot.role));
        prop_assert!(slot.cpus + 1e-9 >= app.cpus, "cpus over-committed");
        prop_assert!(slot.mem + 1e-9 >= app.mem, "mem over-committed");
        prop_assert!(slot.disk + 1e-9 >= app.disk, "disk over-committed");
        prop_assert_eq!(launch.host_ports.len(), app.requested_host_ports().len());
        for port in &launch.host_ports {
            prop_assert!(
                slot.port_ranges
                    .iter()
                    .any(|r| r.begin <= *port && *port <= r.end),
                "port outside the offer"
            );
            prop_assert!(slot.used_ports.insert(*port), "port used twice");
        }
        slot.cpus -= app.cpus;
        slot.mem -= app.mem;
        slot.disk -= app.disk;
        for (c, constraint) in prepared.iter().enumerate() {
            if let Some(value) = field_value(slot, constraint.field()) {
                *counts[c].entry(value.to_string()).or_insert(0) += 1;
            }
        }
    }
    Ok(())
}

fn spread(agents: &[AgentView], plan: &Plan, apps: &[App]) -> Spread {
    let cpus = |id: &str| apps.iter().find(|a| a.id == id).map_or(0.0, |a| a.cpus);
    Spread::of(
        agents,
        plan.launches
            .iter()
            .map(|l| (l.agent_id.as_str(), cpus(&l.app_id))),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn every_launch_fits_and_honours_every_constraint(
        agent_specs in prop::collection::vec(agent_strategy(), 1..40),
        app_specs in prop::collection::vec(app_strategy(), 1..5),
        limit in prop_oneof![Just(Limit::Log2Agents), Just(Limit::Candidates(1)), Just(Limit::All)],
    ) {
        let agents = agents(&agent_specs);
        let apps = apps(&app_specs);
        let plan = plan_with(&input(&agents, &apps, &[]), limit);
        check_replay(&agents, &apps, &plan)?;
        let wanted: u32 = apps.iter().map(|a| a.instances).sum();
        let missing: u32 = plan.unplaced.values().sum();
        prop_assert_eq!(plan.launches.len() as u32 + missing, wanted);
    }

    #[test]
    fn a_converged_cluster_plans_nothing(
        agent_specs in prop::collection::vec(agent_strategy(), 1..40),
        app_specs in prop::collection::vec(app_strategy(), 1..5),
    ) {
        let agents = agents(&agent_specs);
        let mut apps = apps(&app_specs);
        let first = plan_with(&input(&agents, &apps, &[]), Limit::default());
        let tasks = running(&first.launches, &apps);
        // Again with the same instances: what did not fit still does not.
        let again = plan_with(&input(&agents, &apps, &tasks), Limit::default());
        prop_assert!(again.launches.is_empty() && again.kills.is_empty());
        // Instances set to what runs: converged, nothing to do.
        for app in &mut apps {
            app.instances = tasks.iter().filter(|t| t.app_id == app.id).count() as u32;
        }
        let converged = plan_with(&input(&agents, &apps, &tasks), Limit::default());
        prop_assert!(converged.launches.is_empty() && converged.kills.is_empty());
        prop_assert_eq!(converged.converged.len(), apps.len());
    }
}

/// Room-rich clusters (as in the bench) with uneven agent sizes: the limited planner's spread
/// must stay within the bound of the exhaustive one.
fn roomy_agents(specs: &[(u8, u8)]) -> Vec<AgentView> {
    specs
        .iter()
        .enumerate()
        .map(|(i, &(cpus, rack))| AgentView {
            id: format!("a{i}"),
            hostname: format!("h{i}"),
            role: "*".into(),
            attributes: BTreeMap::from([("rack".to_string(), format!("r{}", rack % 4))]),
            resources: Resources {
                cpus: 16.0 + f64::from(cpus),
                mem: 65_536.0 + f64::from(cpus) * 1024.0,
                disk: 100_000.0,
                ports: vec![PortRange {
                    begin: 31000,
                    end: 32000,
                }],
            },
            active: true,
            containers: false,
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]

    #[test]
    fn limited_spread_stays_within_the_bound_of_exhaustive(
        agent_specs in prop::collection::vec((0u8..16, 0u8..8), 20..200),
        app_specs in prop::collection::vec(
            (1u8..120, 1u8..5, 1u8..4, 0u8..2, prop::collection::vec(
                prop_oneof![Just(1usize), Just(4), Just(2)], 0..2)),
            1..6,
        ),
    ) {
        let agents = roomy_agents(&agent_specs);
        let apps = apps(&app_specs);
        let limited = plan_with(&input(&agents, &apps, &[]), Limit::default());
        let exhaustive = plan_with(&input(&agents, &apps, &[]), Limit::All);
        prop_assert_eq!(limited.launches.len(), exhaustive.launches.len());
        let (l, e) = (spread(&agents, &limited, &apps), spread(&agents, &exhaustive, &apps));
        prop_assert!(l.max_tasks <= e.max_tasks + MAX_TASKS_SLACK, "{l:?} vs {e:?}");
        prop_assert!(l.cpu_cv <= e.cpu_cv + CPU_CV_SLACK, "{l:?} vs {e:?}");
    }
}

/// The stated bound (docs/benchmarks.md §Scheduler placement): at most this many more tasks on
/// the busiest agent than the exhaustive planner (worst seen over 5,500 generated clusters of
/// 20–200 agents: 3, once; 2 otherwise)...
const MAX_TASKS_SLACK: usize = 3;
/// ...and at most this much more coefficient of variation of used cpus (worst seen: +0.38, on
/// lightly loaded clusters of a few dozen agents; on average the limited planner's is lower).
const CPU_CV_SLACK: f64 = 0.4;
