//! [`Runner`]: the job lifecycle for the bootstrap server (and the CLI's in-process mode).
//! It validates a [`JobRequest`], creates the job's journal, runs it on a task, serves status
//! and events, and on start resumes every job the journal shows as unfinished. Dropping the
//! runner aborts running jobs; their journals let the next runner resume them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use strato_api::{Event, Job, JobKind, JobRequest, JobState};
use strato_config::{RealFiles, Source};
use strato_host::Waivers;
use strato_tls::ClusterCa;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

use crate::action::Action;
use crate::connector::Connector;
use crate::ctx::{hosts_of, JobCtx, ServeTree};
use crate::error::EngineError;
use crate::events::{now_ms, EventBus};
use crate::journal::{JobRecord, Journal};
use crate::manager::Manager;
use crate::timeouts::{DEFAULT_HOST_CONCURRENCY, POSTFLIGHT_TIMEOUT};

/// What every job of a runner shares.
pub struct RunnerEnv {
    pub connector: Arc<dyn Connector>,
    /// The serve tree; its `url` is the default when neither the request nor cluster.yaml's
    /// `bootstrap:` gives one.
    pub serve: ServeTree,
    /// Relative paths in submitted cluster.yaml texts resolve against this.
    pub base_dir: PathBuf,
    /// The cluster CA (`ca.crt`, `ca.key`): deploys issue each node its certificate from it,
    /// and make it here on the first deploy.
    pub pki_dir: PathBuf,
}

struct Live {
    bus: Arc<EventBus>,
    status: Arc<Mutex<Job>>,
    task: JoinHandle<()>,
}

/// Jobs under `jobs_dir`, one directory each.
pub struct Runner {
    jobs_dir: PathBuf,
    env: RunnerEnv,
    live: Mutex<HashMap<String, Live>>,
    /// Held from the busy check until the job is live, so two submits cannot both pass it.
    admission: Mutex<()>,
}

impl Drop for Runner {
    fn drop(&mut self) {
        for live in self
            .live
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .values()
        {
            live.task.abort();
        }
    }
}

/// Replayed events plus, for a job still running, the live receiver (drop live events whose
/// `seq` is at or below the last replayed one).
pub struct Follow {
    pub replay: Vec<Event>,
    pub live: Option<broadcast::Receiver<Event>>,
}

impl Runner {
    pub fn new(jobs_dir: impl Into<PathBuf>, env: RunnerEnv) -> Self {
        Runner {
            jobs_dir: jobs_dir.into(),
            env,
            live: Mutex::new(HashMap::new()),
            admission: Mutex::new(()),
        }
    }

    /// Validate the request, write the job's journal and start it. Must be called inside a
    /// tokio runtime. Errors are the request's fault (bad cluster.yaml, unknown waiver).
    pub fn submit(&self, request: JobRequest) -> Result<Job, EngineError> {
        let id = format!(
            "{}-{}-{}",
            request.kind,
            now_ms(),
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        let cluster = parse_cluster(&request.cluster, &self.env.base_dir)?;
        // Refuse a request that cannot start before anything is written, so no job is left
        // behind for the next server to retry.
        Waivers::new(&request.options.waivers)
            .map_err(|e| EngineError::InvalidWaiver(e.to_string()))?;
        if needs_serve_tree(&request) {
            self.env.serve.digest()?;
        }
        let job = Job {
            id: id.clone(),
            kind: request.kind,
            state: JobState::Pending,
            dry_run: request.options.dry_run,
            cluster_name: cluster.cluster_name.clone(),
            created_ms: now_ms(),
            finished_ms: None,
            hosts: hosts_of(&cluster).into_iter().map(|h| h.status).collect(),
            planned: Vec::new(),
            error: None,
        };
        let record = JobRecord {
            request,
            base_dir: self.env.base_dir.clone(),
            job: job.clone(),
        };
        let _admission = self.admission.lock().unwrap_or_else(|e| e.into_inner());
        if changes_nodes(&record.request) {
            if let Some(running) = self.running_change() {
                return Err(EngineError::Busy { job: running });
            }
        }
        let journal = Journal::at(self.jobs_dir.join(&id));
        journal.write_job(&record)?;
        self.start(record, journal, false)?;
        Ok(job)
    }

    /// A live job that changes nodes, if any.
    fn running_change(&self) -> Option<String> {
        let map = self.live.lock().unwrap_or_else(|e| e.into_inner());
        map.iter()
            .filter(|(_, l)| !l.task.is_finished())
            .find(|(_, l)| {
                let job = l.status.lock().unwrap_or_else(|e| e.into_inner());
                !job.state.is_finished()
                    && !job.dry_run
                    && matches!(
                        job.kind,
                        JobKind::Deploy | JobKind::Uninstall | JobKind::Upgrade
                    )
            })
            .map(|(id, _)| id.clone())
    }

    /// Start every job whose journal says it did not finish (the server was stopped or killed
    /// mid-job). Returns their ids.
    pub fn resume_unfinished(&self) -> Vec<String> {
        let mut resumed = Vec::new();
        for (dir, record) in self.scan() {
            if record.job.state.is_finished() || self.is_live(&record.job.id) {
                continue;
            }
            let id = record.job.id.clone();
            let journal = Journal::at(dir);
            match self.start(record.clone(), journal.clone(), true) {
                Ok(()) => resumed.push(id),
                Err(e) => {
                    // Record why, so the job is not retried on every start.
                    tracing::warn!(job = %id, "cannot resume: {e}");
                    let mut record = record;
                    record.job.state = JobState::Failed;
                    record.job.error = Some(format!("cannot resume: {}", crate::chain(&e)));
                    record.job.finished_ms = Some(now_ms());
                    if let Err(e) = journal.write_job(&record) {
                        tracing::warn!(job = %id, "cannot record the failure: {e}");
                    }
                }
            }
        }
        resumed
    }

    /// Every job, newest first.
    pub fn list(&self) -> Vec<Job> {
        let mut jobs: Vec<Job> = self
            .scan()
            .into_iter()
            .map(|(_, r)| self.live_status(&r.job.id).unwrap_or(r.job))
            .collect();
        jobs.sort_by(|a, b| b.created_ms.cmp(&a.created_ms).then(b.id.cmp(&a.id)));
        jobs
    }

    /// One job's status.
    pub fn job(&self, id: &str) -> Result<Job, EngineError> {
        if let Some(job) = self.live_status(id) {
            return Ok(job);
        }
        Ok(self.journal(id)?.read_job()?.job)
    }

    /// The job's events so far, and live ones while it runs.
    pub fn follow(&self, id: &str) -> Result<Follow, EngineError> {
        let journal = self.journal(id)?;
        // Subscribe before reading the journal, so nothing falls between the two.
        let live = {
            let map = self.live.lock().unwrap_or_else(|e| e.into_inner());
            map.get(id)
                .filter(|l| !l.task.is_finished())
                .map(|l| l.bus.subscribe())
        };
        Ok(Follow {
            replay: journal.read_events()?,
            live,
        })
    }

    /// Abort every running job where it stands, as a killed server would; the journals keep
    /// their progress for [`Runner::resume_unfinished`].
    pub fn shutdown(&self) {
        for live in self.live.lock().unwrap_or_else(|e| e.into_inner()).values() {
            live.task.abort();
        }
    }

    /// Wait until the job ends, polling its status (for the in-process CLI and tests).
    pub async fn wait(&self, id: &str, timeout: Duration) -> Result<Job, EngineError> {
        let until = Instant::now() + timeout;
        loop {
            let job = self.job(id)?;
            if job.state.is_finished() || Instant::now() >= until {
                return Ok(job);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn journal(&self, id: &str) -> Result<Journal, EngineError> {
        let safe = !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        let dir = self.jobs_dir.join(id);
        if !safe || !dir.join("job.json").is_file() {
            return Err(EngineError::UnknownJob(id.to_string()));
        }
        Ok(Journal::at(dir))
    }

    fn is_live(&self, id: &str) -> bool {
        let map = self.live.lock().unwrap_or_else(|e| e.into_inner());
        map.get(id).is_some_and(|l| !l.task.is_finished())
    }

    fn live_status(&self, id: &str) -> Option<Job> {
        let map = self.live.lock().unwrap_or_else(|e| e.into_inner());
        map.get(id)
            .map(|l| l.status.lock().unwrap_or_else(|e| e.into_inner()).clone())
    }

    fn scan(&self) -> Vec<(PathBuf, JobRecord)> {
        let Ok(entries) = std::fs::read_dir(&self.jobs_dir) else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter_map(|e| {
                let dir = e.path();
                Journal::at(&dir).read_job().ok().map(|r| (dir, r))
            })
            .collect()
    }

    fn start(&self, record: JobRecord, journal: Journal, resumed: bool) -> Result<(), EngineError> {
        let request = &record.request;
        let cluster = parse_cluster(&request.cluster, &record.base_dir)?;
        let waivers = Waivers::new(&request.options.waivers)
            .map_err(|e| EngineError::InvalidWaiver(e.to_string()))?;
        let url = request
            .options
            .bootstrap_url
            .clone()
            .or_else(|| strato_render::bootstrap_url(&cluster))
            .unwrap_or_else(|| self.env.serve.url.clone());
        let bus = Arc::new(EventBus::new(record.job.id.clone(), journal.clone()));
        let parallelism = match cluster.ssh.parallelism {
            0 => DEFAULT_HOST_CONCURRENCY,
            n => n,
        };
        // Only a deploy (and an upgrade, which installs as a deploy does) issues certificates;
        // loading once here keeps parallel hosts from racing to make the CA.
        let installs = matches!(request.kind, JobKind::Deploy | JobKind::Upgrade);
        let ca = match installs {
            true => {
                let ca = ClusterCa::load_or_create(&self.env.pki_dir, &cluster.cluster_name)
                    .map_err(EngineError::Pki)?;
                // `strato` makes it with the CA; a server given an older PKI makes its own.
                strato_tls::ensure_token_secret(&self.env.pki_dir).map_err(EngineError::Pki)?;
                Some(Arc::new(ca))
            }
            false => None,
        };
        let etcd_ca = match installs {
            true => Some(Arc::new(
                ClusterCa::load_or_create(
                    &self.env.pki_dir.join(strato_tls::ETCD_CA_DIR),
                    &format!("{} etcd", cluster.cluster_name),
                )
                .map_err(EngineError::Pki)?,
            )),
            false => None,
        };
        let signing_pub = match installs {
            true => Some(read_signing_pub(&self.env.pki_dir)?),
            false => None,
        };
        let gateway_key = std::fs::read(self.env.pki_dir.join(strato_tls::GATEWAY_TOKEN_SECRET))
            .ok()
            .and_then(|secret| {
                strato_gateway::TokenKey::new(secret.trim_ascii(), &cluster.cluster_name).ok()
            });
        let ctx = Arc::new(JobCtx {
            id: record.job.id.clone(),
            gateway_key,
            ca,
            etcd_ca,
            signing_pub,
            kind: request.kind,
            deadline: deadline(request.kind, cluster.ssh.job_timeout_seconds),
            cluster,
            base_dir: record.base_dir.clone(),
            options: request.options.clone(),
            waivers,
            serve: ServeTree {
                dir: self.env.serve.dir.clone(),
                url,
            },
            connector: self.env.connector.clone(),
            events: bus.clone(),
            parallelism,
        });
        if needs_serve_tree(request) {
            ctx.serve.digest()?;
        }
        let status = Arc::new(Mutex::new(record.job.clone()));
        let action = Action::for_kind(request.kind);
        let manager = Manager::new(ctx, journal, record.clone(), status.clone());
        let task = tokio::spawn(async move {
            manager.run(&action, resumed).await;
        });
        let id = record.job.id.clone();
        self.live
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, Live { bus, status, task });
        Ok(())
    }
}

/// Deploys, upgrades and uninstalls change nodes (dry runs do not); checks may run beside them.
fn changes_nodes(request: &JobRequest) -> bool {
    !request.options.dry_run
        && matches!(
            request.kind,
            JobKind::Deploy | JobKind::Uninstall | JobKind::Upgrade
        )
}

/// Every kind but preflight reads the serve tree (install and uninstall scripts, ip-detect).
/// The public key the serve tree was signed with (`strato_render`'s `RenderedTree::sign` put it
/// beside the CA). Without it nodes could not verify the tree, so a deploy stops here.
fn read_signing_pub(pki_dir: &Path) -> Result<String, EngineError> {
    let path = pki_dir.join(strato_tls::SIGNING_PUB);
    std::fs::read_to_string(&path)
        .map_err(|source| EngineError::Pki(strato_tls::TlsError::Read { path, source }))
}

fn needs_serve_tree(request: &JobRequest) -> bool {
    request.kind != JobKind::Preflight
}

/// The job's deadline: `ssh.job_timeout_seconds`, and for postflight one overall wait
/// ([`POSTFLIGHT_TIMEOUT`]) for every node and cluster check together.
fn deadline(kind: JobKind, job_timeout_seconds: u64) -> Instant {
    let job = Instant::now() + Duration::from_secs(job_timeout_seconds);
    match kind {
        JobKind::Postflight => job.min(Instant::now() + POSTFLIGHT_TIMEOUT),
        JobKind::Preflight | JobKind::Deploy | JobKind::Uninstall | JobKind::Upgrade => job,
    }
}

/// Parse and validate a cluster.yaml text; every problem on its own line.
pub fn parse_cluster(text: &str, base: &Path) -> Result<strato_config::Cluster, EngineError> {
    let source = Source {
        name: "cluster.yaml".into(),
        base: base.to_path_buf(),
    };
    let checked = strato_config::check_str(text, &source, &RealFiles);
    match checked.cluster {
        Some(c) if !checked.diagnostics.has_errors() => Ok(c),
        _ => Err(EngineError::InvalidCluster(
            checked
                .diagnostics
                .0
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join("\n"),
        )),
    }
}
