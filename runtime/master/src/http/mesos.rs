//! Mesos-style read endpoints (docs/marathon-contract.md §Mesos endpoints): `/master/state`
//! (and `/state`), `/master/state-summary`, `/master/slaves`, `/master/health` (and `/health`), `/redirect`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use serde_json::{json, Value};
use strato_proto::{PortRange, Resources};
use strato_runtime_types::path::PathId;
use strato_runtime_types::version::runtime_version;
use strato_runtime_types::TaskRecord;

use crate::master::Master;
use crate::registry::seconds;
use crate::state::{AgentEntry, State as MasterState};

pub fn routes() -> Router<Arc<Master>> {
    Router::new()
        .route("/master/state", get(state))
        .route("/state", get(state))
        .route("/master/state.json", get(state))
        .route("/master/state-summary", get(summary))
        .route("/state-summary", get(summary))
        .route("/master/slaves", get(slaves))
        .route("/master/health", get(health))
        .route("/health", get(health))
        .route("/master/redirect", get(redirect))
        .route("/redirect", get(redirect))
}

async fn health() -> StatusCode {
    StatusCode::OK
}

async fn redirect(State(master): State<Arc<Master>>) -> Response {
    let Some(leader) = master.leader_address().await else {
        return (StatusCode::SERVICE_UNAVAILABLE, "no leader is elected").into_response();
    };
    let location = format!("//{}", leader.mesos);
    (
        StatusCode::TEMPORARY_REDIRECT,
        [(header::LOCATION, location)],
    )
        .into_response()
}

/// Mesos's text form of port ranges: `[31000-31000, 31005-31010]`.
fn ranges_text(ranges: &[PortRange]) -> String {
    let parts: Vec<String> = ranges
        .iter()
        .map(|r| format!("{}-{}", r.begin, r.end))
        .collect();
    format!("[{}]", parts.join(", "))
}

fn ports_text(ports: &[u16]) -> String {
    ranges_text(
        &ports
            .iter()
            .map(|p| PortRange { begin: *p, end: *p })
            .collect::<Vec<_>>(),
    )
}

fn resources_json(r: &Resources) -> Value {
    json!({"cpus": r.cpus, "mem": r.mem, "disk": r.disk, "gpus": 0, "ports": ranges_text(&r.ports)})
}

fn used_on(state: &MasterState, agent_id: &str) -> Value {
    let tasks: Vec<&TaskRecord> = state
        .tasks_of_agent(agent_id)
        .filter(|t| t.is_active())
        .collect();
    let ports: Vec<u16> = tasks.iter().flat_map(|t| t.ports.iter().copied()).collect();
    json!({
        "cpus": tasks.iter().map(|t| t.cpus).sum::<f64>(),
        "mem": tasks.iter().map(|t| t.mem).sum::<f64>(),
        "disk": tasks.iter().map(|t| t.disk).sum::<f64>(),
        "gpus": 0,
        "ports": ports_text(&ports),
    })
}

fn agent_json(state: &MasterState, agent: &AgentEntry) -> Value {
    let info = &agent.info;
    json!({
        "id": info.id,
        "pid": format!("slave(1)@{}:{}", info.address, info.port),
        "hostname": info.hostname,
        "port": info.port,
        "registered_time": seconds(agent.registered_at),
        "reregistered_time": seconds(agent.last_seen),
        // Not in Mesos's shape: the dashboard's node page shows them.
        "last_heartbeat": seconds(agent.last_seen),
        "role": info.role,
        "resources": resources_json(&info.resources),
        "unreserved_resources": resources_json(&info.resources),
        "used_resources": used_on(state, &info.id),
        "offered_resources": {"cpus": 0.0, "mem": 0.0, "disk": 0.0, "gpus": 0},
        "reserved_resources": if info.role == strato_proto::ROLE_DEFAULT { json!({}) } else { json!({info.role.clone(): resources_json(&info.resources)}) },
        "attributes": info.attributes,
        "active": agent.active,
        "deactivated": !agent.active,
        "version": info.version,
        // What the agent registered: its bundle's VERSION (strato_runtime_types::version).
        "strato_version": info.version,
        "capabilities": [],
    })
}

/// A task as Mesos's `/master/state` shows it, written straight from the record (at 100,000
/// tasks, building `Value`s first was most of the answer's time).
#[derive(Serialize)]
struct MesosTask<'a> {
    id: &'a str,
    name: String,
    framework_id: &'a str,
    executor_id: &'static str,
    slave_id: &'a str,
    state: &'static str,
    resources: TaskResources,
    role: &'static str,
    statuses: [TaskStatusOut<'a>; 1],
    user: &'static str,
    labels: [u8; 0],
    discovery: Discovery,
}

#[derive(Serialize)]
struct TaskResources {
    cpus: f64,
    mem: f64,
    disk: f64,
    gpus: u8,
    ports: String,
}

#[derive(Serialize)]
struct TaskStatusOut<'a> {
    state: &'static str,
    timestamp: f64,
    container_status: ContainerStatus<'a>,
}

#[derive(Serialize)]
struct ContainerStatus<'a> {
    network_infos: [NetworkInfo<'a>; 1],
}

#[derive(Serialize)]
struct NetworkInfo<'a> {
    ip_addresses: [IpAddressOut<'a>; 1],
}

#[derive(Serialize)]
struct IpAddressOut<'a> {
    protocol: &'static str,
    ip_address: &'a str,
}

#[derive(Serialize)]
struct Discovery {
    visibility: &'static str,
    name: String,
    ports: DiscoveryPorts,
}

#[derive(Serialize)]
struct DiscoveryPorts {
    ports: Vec<DiscoveryPort>,
}

#[derive(Serialize)]
struct DiscoveryPort {
    number: u16,
    protocol: &'static str,
}

fn task_out<'a>(
    state: &'a MasterState,
    task: &'a TaskRecord,
    framework_id: &'a str,
) -> MesosTask<'a> {
    let ip = state
        .agents
        .get(&task.agent_id)
        .map_or("", |a| a.info.address.as_str());
    let name = PathId::normalise(&task.app_id).hostname();
    MesosTask {
        id: &task.id,
        name: name.clone(),
        framework_id,
        executor_id: "",
        slave_id: &task.agent_id,
        state: task.state.as_str(),
        resources: TaskResources {
            cpus: task.cpus,
            mem: task.mem,
            disk: task.disk,
            gpus: 0,
            ports: ports_text(&task.ports),
        },
        role: "*",
        statuses: [TaskStatusOut {
            state: task.state.as_str(),
            timestamp: seconds(task.started_at.unwrap_or(task.staged_at)),
            container_status: ContainerStatus {
                network_infos: [NetworkInfo {
                    ip_addresses: [IpAddressOut {
                        protocol: "IPv4",
                        ip_address: ip,
                    }],
                }],
            },
        }],
        user: "root",
        labels: [],
        discovery: Discovery {
            visibility: "FRAMEWORK",
            name,
            ports: DiscoveryPorts {
                ports: task
                    .ports
                    .iter()
                    .map(|p| DiscoveryPort {
                        number: *p,
                        protocol: "tcp",
                    })
                    .collect(),
            },
        },
    }
}

/// Which framework's tasks: Marathon's (apps) or Metronome's (job runs), as DC/OS showed two.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Framework {
    Marathon,
    Metronome,
}

/// A framework of `/master/state`: its facts, and its tasks written straight from the records.
#[derive(Serialize)]
struct FrameworkOut<'a> {
    #[serde(flatten)]
    facts: Value,
    tasks: Vec<MesosTask<'a>>,
    completed_tasks: Vec<MesosTask<'a>>,
}

fn framework_json<'a>(
    master: &Master,
    state: &'a MasterState,
    framework: Framework,
    id: &'a str,
) -> FrameworkOut<'a> {
    let config = &master.config;
    let jobs = framework == Framework::Metronome;
    let mine = |t: &&TaskRecord| t.is_job() == jobs;
    let active: Vec<&TaskRecord> = state
        .tasks
        .values()
        .filter(|t| t.is_active())
        .filter(mine)
        .collect();
    let completed: Vec<MesosTask<'a>> = state
        .completed
        .iter()
        .filter(mine)
        .map(|t| task_out(state, t, id))
        .collect();
    let name = match framework {
        Framework::Marathon => "marathon",
        Framework::Metronome => "metronome",
    };
    let facts = json!({
        "id": id,
        "name": name,
        "pid": format!("scheduler@{}:{}", config.advertise_ip, config.marathon_port),
        "hostname": config.advertise_ip,
        "webui_url": format!("http://{}:{}", config.advertise_ip, config.marathon_port),
        "active": true,
        "connected": true,
        "recovered": false,
        "user": "root",
        "failover_timeout": 604800.0,
        "checkpoint": true,
        "role": "*",
        "roles": ["*", strato_proto::ROLE_PUBLIC],
        "principal": "",
        "registered_time": seconds(state.started_at),
        "reregistered_time": seconds(state.started_at),
        "unregistered_time": 0,
        "capabilities": ["PARTITION_AWARE"],
        "used_resources": {
            "cpus": active.iter().map(|t| t.cpus).sum::<f64>(),
            "mem": active.iter().map(|t| t.mem).sum::<f64>(),
            "disk": active.iter().map(|t| t.disk).sum::<f64>(),
            "gpus": 0,
        },
        "offered_resources": {"cpus": 0.0, "mem": 0.0, "disk": 0.0, "gpus": 0},
        "unreachable_tasks": [],
        "offers": [],
        "executors": [],
    });
    FrameworkOut {
        facts,
        tasks: active.iter().map(|t| task_out(state, t, id)).collect(),
        completed_tasks: completed,
    }
}

/// `/master/state`: its facts, and the frameworks with their tasks written straight out.
#[derive(Serialize)]
struct StateOut<'a> {
    #[serde(flatten)]
    facts: Value,
    frameworks: [FrameworkOut<'a>; 2],
}

async fn state(State(master): State<Arc<Master>>) -> Response {
    let config = &master.config;
    let s = master.view();
    let pid = format!("master@{}:{}", config.advertise_ip, config.mesos_port);
    let metronome_id = format!("{}-metronome", s.framework_id);
    let facts = json!({
        "version": "1.12.0",
        "strato_version": runtime_version(),
        "git_sha": "",
        "build_date": "",
        "start_time": seconds(s.started_at),
        "elected_time": seconds(s.started_at),
        "id": master.master_id,
        "pid": pid,
        "hostname": config.advertise_ip,
        "activated_slaves": s.agents.values().filter(|a| a.active).count(),
        "deactivated_slaves": 0,
        "unreachable_slaves": s.agents.values().filter(|a| !a.active).count(),
        "cluster": config.cluster_name,
        "cluster_id": s.cluster_id,
        "leader": pid,
        "leader_info": {
            "id": master.master_id, "pid": pid, "port": config.mesos_port, "hostname": config.advertise_ip,
            "address": {"hostname": config.advertise_ip, "ip": config.advertise_ip, "port": config.mesos_port},
        },
        "log_dir": "",
        "flags": {
            "port": config.mesos_port.to_string(),
            "cluster": config.cluster_name,
            "agent_ping_timeout": format!("{}secs", config.agent_timeout_seconds),
            "work_dir": config.data_dir.display().to_string(),
        },
        "slaves": s.agents.values().map(|a| agent_json(&s, a)).collect::<Vec<_>>(),
        "completed_frameworks": [],
        "orphan_tasks": [],
        "unregistered_frameworks": [],
    });
    let out = StateOut {
        facts,
        frameworks: [
            framework_json(&master, &s, Framework::Marathon, &s.framework_id),
            framework_json(&master, &s, Framework::Metronome, &metronome_id),
        ],
    };
    Json(out).into_response()
}

async fn summary(State(master): State<Arc<Master>>) -> Json<Value> {
    let config = &master.config;
    let s = master.view();
    let running = s.tasks.values().filter(|t| t.is_running()).count();
    let slaves: Vec<Value> = s
        .agents
        .values()
        .map(|a| {
            let mut agent = agent_json(&s, a);
            agent["TASK_RUNNING"] = json!(s
                .tasks
                .values()
                .filter(|t| t.agent_id == a.info.id && t.is_running())
                .count());
            agent
        })
        .collect();
    Json(json!({
        "hostname": config.advertise_ip,
        "cluster": config.cluster_name,
        "slaves": slaves,
        "frameworks": [{
            "id": s.framework_id, "name": "marathon", "active": true, "TASK_RUNNING": running,
            "webui_url": format!("http://{}:{}", config.advertise_ip, config.marathon_port),
        }],
    }))
}

async fn slaves(State(master): State<Arc<Master>>) -> Json<Value> {
    let s = master.view();
    Json(json!({"slaves": s.agents.values().map(|a| agent_json(&s, a)).collect::<Vec<_>>()}))
}
