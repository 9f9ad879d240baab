//! The history the dashboard charts draw (`GET /strato/v1/metrics/history`): every
//! `metrics_history_interval_ms` (10 s by default) a sample of the published state's cluster
//! totals and per-agent figures, the last [`KEEP`] kept in memory, oldest first. A master takes
//! one sample as it starts serving (`lib.rs::serve`), so a fresh master has a point at once;
//! after a restart or failover the history starts again.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Serialize, Serializer};
use strato_runtime_types::time::{iso, now_millis};

use crate::master::Master;
use crate::state::State;

/// An hour of 10-second samples.
pub(crate) const KEEP: usize = 360;

/// One sample; serialized as the endpoint's `points[]` entries.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Point {
    #[serde(serialize_with = "rfc3339")]
    pub time: u64,
    pub cpus_used: f64,
    pub cpus_total: f64,
    pub mem_used: f64,
    pub mem_total: f64,
    pub disk_used: f64,
    pub disk_total: f64,
    pub tasks_running: usize,
    /// Staging and starting.
    pub tasks_staging: usize,
    pub agents_active: usize,
    /// Active agents by id.
    pub agents: BTreeMap<String, AgentPoint>,
}

/// One active agent in a sample: its resources, what its active tasks reserve, and how many.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AgentPoint {
    pub hostname: String,
    pub cpus_used: f64,
    pub cpus_total: f64,
    pub mem_used: f64,
    pub mem_total: f64,
    pub disk_used: f64,
    pub disk_total: f64,
    pub tasks: usize,
}

/// Unix milliseconds as RFC 3339 UTC (`2026-01-02T03:04:05.678Z`).
fn rfc3339<S: Serializer>(millis: &u64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&iso(*millis))
}

/// The sample of `state` at `now` (Unix milliseconds): the cluster totals as `/metrics` counts
/// them (`cluster.rs`), and each active agent's share.
pub(crate) fn sample(state: &State, now: u64) -> Point {
    let f = super::cluster::figures(state);
    let mut agents: BTreeMap<String, AgentPoint> = state
        .agents
        .iter()
        .filter(|(_, a)| a.active)
        .map(|(id, a)| {
            let r = &a.info.resources;
            let point = AgentPoint {
                hostname: a.info.hostname.clone(),
                cpus_total: r.cpus,
                mem_total: r.mem,
                disk_total: r.disk,
                ..AgentPoint::default()
            };
            (id.clone(), point)
        })
        .collect();
    for task in state.tasks.values().filter(|t| t.is_active()) {
        if let Some(agent) = agents.get_mut(&task.agent_id) {
            agent.cpus_used += task.cpus;
            agent.mem_used += task.mem;
            agent.disk_used += task.disk;
            agent.tasks += 1;
        }
    }
    Point {
        time: now,
        cpus_used: f.cpus_used,
        cpus_total: f.cpus_total,
        mem_used: f.mem_used,
        mem_total: f.mem_total,
        disk_used: f.disk_used,
        disk_total: f.disk_total,
        tasks_running: f.tasks_running,
        tasks_staging: f.tasks_staging,
        agents_active: f.agents_active,
        agents,
    }
}

/// The last [`KEEP`] samples. Readers copy out the `Arc`s and serialize without the lock.
pub(crate) struct History {
    interval: Duration,
    points: Mutex<VecDeque<Arc<Point>>>,
}

impl History {
    pub(crate) fn new(interval: Duration) -> History {
        History {
            interval,
            points: Mutex::new(VecDeque::with_capacity(KEEP)),
        }
    }

    pub(crate) fn interval(&self) -> Duration {
        self.interval
    }

    /// Adds a sample, dropping the oldest beyond [`KEEP`].
    pub(crate) fn record(&self, point: Point) {
        let mut points = self.lock();
        while points.len() >= KEEP {
            points.pop_front();
        }
        points.push_back(Arc::new(point));
    }

    /// The samples, oldest first.
    pub(crate) fn points(&self) -> Vec<Arc<Point>> {
        self.lock().iter().cloned().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Arc<Point>>> {
        // A push or a copy cannot leave the ring inconsistent, so a poisoned lock is still good.
        self.points
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}

/// The endpoint's body: `{"intervalSeconds": 10, "points": [...]}`.
pub(crate) struct Body {
    pub interval: Duration,
    pub points: Vec<Arc<Point>>,
}

impl Serialize for Body {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut body = serializer.serialize_struct("History", 2)?;
        let millis = self.interval.as_millis();
        // Whole seconds as an integer (`10`), as the dashboard reads it; tests' short intervals
        // as a fraction.
        if millis.is_multiple_of(1000) {
            body.serialize_field("intervalSeconds", &self.interval.as_secs())?;
        } else {
            body.serialize_field("intervalSeconds", &self.interval.as_secs_f64())?;
        }
        body.serialize_field("points", &Points(&self.points))?;
        body.end()
    }
}

struct Points<'a>(&'a [Arc<Point>]);

impl Serialize for Points<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|p| p.as_ref()))
    }
}

impl Master {
    /// Samples the published state into the history now.
    pub(crate) fn sample_history(&self) {
        self.history.record(sample(&self.view(), now_millis()));
    }
}

/// Samples every interval until `stop` turns true (the first sample is `serve`'s).
pub(crate) async fn run(master: Arc<Master>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut ticks = tokio::time::interval(master.history.interval());
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first tick is immediate; `serve` took that sample already.
    ticks.tick().await;
    loop {
        tokio::select! {
            _ = ticks.tick() => master.sample_history(),
            _ = stop.changed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use strato_proto::TaskState;
    use strato_runtime_types::TaskRecord;

    use super::*;
    use crate::state::AgentEntry;

    fn agent(id: &str, active: bool) -> AgentEntry {
        AgentEntry {
            info: crate::testing::agent_info(id),
            registered_at: 0,
            last_seen: 0,
            active,
        }
    }

    fn task(id: &str, agent: &str, state: TaskState) -> TaskRecord {
        TaskRecord {
            id: id.into(),
            app_id: "/web".into(),
            agent_id: agent.into(),
            host: format!("{agent}.example"),
            version: "v".into(),
            config_version: "v".into(),
            state,
            staged_at: 0,
            started_at: None,
            ports: Vec::new(),
            service_ports: Vec::new(),
            health: Vec::new(),
            message: None,
            kill_requested: false,
            cpus: 0.5,
            mem: 64.0,
            disk: 10.0,
            job_run: None,
        }
    }

    fn point(time: u64) -> Point {
        sample(&State::default(), time)
    }

    #[test]
    fn the_ring_keeps_the_last_hour_oldest_first() {
        let history = History::new(Duration::from_secs(10));
        for time in 0..(KEEP as u64 + 5) {
            history.record(point(time));
        }
        let points = history.points();
        assert_eq!(points.len(), KEEP);
        assert_eq!(points[0].time, 5, "the five oldest were dropped");
        assert_eq!(points[KEEP - 1].time, KEEP as u64 + 4);
        assert!(points.windows(2).all(|w| w[0].time < w[1].time));
    }

    #[test]
    fn a_sample_has_cluster_totals_and_each_active_agents_figures() {
        let mut state = State::default();
        state.agents.insert("a1".into(), agent("a1", true));
        state.agents.insert("a2".into(), agent("a2", true));
        state.agents.insert("gone".into(), agent("gone", false));
        for (id, agent, task_state) in [
            ("t1", "a1", TaskState::Running),
            ("t2", "a1", TaskState::Staging),
            ("t3", "a2", TaskState::Running),
        ] {
            state.add_task(task(id, agent, task_state));
        }
        let p = sample(&state, 1_767_323_045_678);
        assert_eq!(p.agents_active, 2);
        assert_eq!((p.cpus_total, p.cpus_used), (8.0, 1.5));
        assert_eq!((p.mem_total, p.mem_used), (8192.0, 192.0));
        assert_eq!((p.disk_total, p.disk_used), (2000.0, 30.0));
        assert_eq!((p.tasks_running, p.tasks_staging), (2, 1));
        assert_eq!(p.agents.len(), 2, "only active agents");
        let a1 = &p.agents["a1"];
        assert_eq!(a1.hostname, "a1.example");
        assert_eq!((a1.cpus_used, a1.cpus_total, a1.tasks), (1.0, 4.0, 2));
        assert_eq!((a1.mem_used, a1.disk_used), (128.0, 20.0));
        assert_eq!(p.agents["a2"].tasks, 1);
    }

    #[test]
    fn the_body_has_the_shape_the_dashboard_reads() {
        let mut state = State::default();
        state.agents.insert("a1".into(), agent("a1", true));
        let body = Body {
            interval: Duration::from_secs(10),
            points: vec![Arc::new(sample(&state, 1_767_323_045_678))],
        };
        let json = serde_json::to_value(&body).expect("json");
        assert_eq!(
            json,
            serde_json::json!({"intervalSeconds": 10, "points": [{
                "time": "2026-01-02T03:04:05.678Z", "cpusUsed": 0.0, "cpusTotal": 4.0,
                "memUsed": 0.0, "memTotal": 4096.0, "diskUsed": 0.0, "diskTotal": 1000.0,
                "tasksRunning": 0, "tasksStaging": 0, "agentsActive": 1,
                "agents": {"a1": {"hostname": "a1.example", "cpusUsed": 0.0, "cpusTotal": 4.0,
                    "memUsed": 0.0, "memTotal": 4096.0, "diskUsed": 0.0, "diskTotal": 1000.0,
                    "tasks": 0}}}]})
        );
    }
}
