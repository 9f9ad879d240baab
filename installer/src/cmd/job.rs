//! The job driver shared by `preflight`, `deploy`, `postflight` and `uninstall`: load
//! cluster.yaml, reach a bootstrap server (in this process for `bootstrap: local`, otherwise
//! set up on the bootstrap host over SSH and reached through an SSH tunnel, see `remote.rs`),
//! submit the job, show live progress, print the per-host summary and map it to an exit code.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context as _};
use clap::Args;
use strato_api::{Client, Job, JobKind, JobOptions, JobRequest};
use strato_config::files::{resolve, Files, RealFiles};
use strato_config::{Bootstrap, Cluster};
use strato_render::{BundleRef, RenderOptions, RenderedTree};

use crate::output::{Output, OutputArg};
use crate::ui::progress::{Mode, Progress};
use crate::ui::summary;
use crate::{report, CliError, Exit};

/// `-c` and `-o`: every command that reads cluster.yaml and reports a job.
#[derive(Debug, Args)]
pub struct ClusterArgs {
    /// The cluster description.
    #[arg(short, long, default_value = "cluster.yaml", env = "STRATO_CONFIG")]
    pub config: PathBuf,
    #[command(flatten)]
    pub output: OutputArg,
}

/// What the bootstrap server serves to the nodes and how this machine reaches it: the commands
/// that submit a job (`status` only reads, so it takes none of these).
#[derive(Debug, Args)]
pub struct ServerArgs {
    /// Runtime bundle (.tar.gz) to serve to the nodes; default: `runtime.bundle` in cluster.yaml.
    #[arg(long, env = "STRATO_BUNDLE")]
    pub bundle: Option<PathBuf>,
    /// URL the nodes download the serve tree from; default: https://<bootstrap>:8090.
    #[arg(long, env = "STRATO_BOOTSTRAP_URL")]
    pub bootstrap_url: Option<String>,
    /// The strato-bootstrap binary to install on the bootstrap host; default: next to `strato`.
    #[arg(long, env = "STRATO_BOOTSTRAP_BIN")]
    pub bootstrap_bin: Option<PathBuf>,
    /// With `bootstrap: local`: where this machine serves the tree to the nodes.
    #[arg(long, default_value_t = DEFAULT_LISTEN)]
    pub listen: SocketAddr,
}

const DEFAULT_LISTEN: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), 8090);

impl Default for ServerArgs {
    fn default() -> Self {
        ServerArgs {
            bundle: None,
            bootstrap_url: None,
            bootstrap_bin: None,
            listen: DEFAULT_LISTEN,
        }
    }
}

/// Everything the job driver needs, assembled from each command's own flags (each command shows
/// only the flags that apply to it).
#[derive(Debug, Clone)]
pub struct JobArgs {
    pub config: PathBuf,
    pub dry_run: bool,
    pub output: Output,
    pub waive: Vec<String>,
    pub bundle: Option<PathBuf>,
    pub bootstrap_url: Option<String>,
    pub bootstrap_bin: Option<PathBuf>,
    pub listen: SocketAddr,
    /// `strato upgrade`'s choices (batch, skew allowances, rollback, gate timeout); the other
    /// fields of these options come from the fields above.
    pub upgrade: JobOptions,
}

impl JobArgs {
    /// A job with no dry run and no waivers; commands set those they take.
    pub fn new(cluster: ClusterArgs, server: ServerArgs) -> Self {
        JobArgs {
            config: cluster.config,
            dry_run: false,
            output: cluster.output.output,
            waive: Vec::new(),
            bundle: server.bundle,
            bootstrap_url: server.bootstrap_url,
            bootstrap_bin: server.bootstrap_bin,
            listen: server.listen,
            upgrade: JobOptions::default(),
        }
    }
}

/// A cluster.yaml that is valid, with where it lives.
pub struct Loaded {
    pub cluster: Cluster,
    pub base: PathBuf,
}

/// Load and validate, printing every diagnostic on failure.
pub fn load(config: &Path) -> Result<Loaded, CliError> {
    match strato_config::load(config) {
        Ok(cluster) => Ok(Loaded {
            cluster,
            base: strato_config::Source::for_path(config).base,
        }),
        Err(strato_config::LoadError::Invalid(diagnostics)) => {
            report::print_diagnostics(&diagnostics);
            Err(CliError::Other(anyhow!("{} is invalid", config.display())))
        }
        Err(err) => Err(CliError::Other(err.into())),
    }
}

/// The serve tree for `cluster`, with the bundle (required unless the job only reads hosts).
pub fn render(
    loaded: &Loaded,
    args: &JobArgs,
    url: Option<String>,
    need_bundle: bool,
) -> Result<RenderedTree, CliError> {
    let home = RealFiles.home();
    let bundle_path = bundle_path(loaded, args);
    if need_bundle && bundle_path.is_none() && !args.dry_run {
        return Err(CliError::Usage(format!(
            "no runtime bundle: run `strato bundle` (it writes {}), or pass --bundle FILE \
             (or set runtime.bundle)",
            strato_bundle::default_bundle_path().display()
        )));
    }
    let bundle = bundle_path
        .as_deref()
        .map(BundleRef::from_file)
        .transpose()
        .map_err(|e| CliError::Other(e.into()))?;
    let ip_detect_script = match &loaded.cluster.network.ip_detect {
        strato_config::IpDetect::Script(path) => {
            let path = resolve(path, &loaded.base, home.as_deref());
            Some(
                std::fs::read_to_string(&path).map_err(|source| CliError::Read {
                    path: path.clone(),
                    source,
                })?,
            )
        }
        _ => None,
    };
    let options = RenderOptions {
        bootstrap_url: url,
        bundle,
        ip_detect_script,
    };
    let mut tree = strato_render::render_tree(&loaded.cluster, &options)
        .map_err(|e| CliError::Other(e.into()))?;
    tree.sign(&crate::pki::pki_dir(&loaded.base))
        .map_err(|e| CliError::Other(e.into()))?;
    Ok(tree)
}

/// The runtime bundle: `--bundle`, else `runtime.bundle`, else the one `strato bundle` wrote
/// to its default place (so `strato bundle && strato deploy` works from a checkout).
pub fn bundle_path(loaded: &Loaded, args: &JobArgs) -> Option<PathBuf> {
    let home = RealFiles.home();
    args.bundle
        .clone()
        .or_else(|| {
            loaded
                .cluster
                .runtime
                .bundle
                .as_ref()
                .map(|b| resolve(b, &loaded.base, home.as_deref()))
        })
        .or_else(|| strato_bundle::find_default_bundle().ok())
}

/// Every file cluster.yaml names (keys, ip-detect), mapped through `map`; the cluster as YAML.
pub fn rewrite_files(
    cluster: &Cluster,
    base: &Path,
    mut map: impl FnMut(&Path) -> Result<PathBuf, CliError>,
) -> Result<String, CliError> {
    let home = RealFiles.home();
    let mut c = cluster.clone();
    let mut fix = |p: &mut Option<PathBuf>| -> Result<(), CliError> {
        if let Some(path) = p.as_mut() {
            *path = map(&resolve(path, base, home.as_deref()))?;
        }
        Ok(())
    };
    fix(&mut c.ssh.key_path)?;
    if let Some(b) = c.ssh.bastion.as_mut() {
        fix(&mut b.key_path)?;
    }
    for h in c
        .masters
        .iter_mut()
        .chain(c.agents.iter_mut())
        .chain(c.public_agents.iter_mut())
    {
        fix(&mut h.key_path)?;
    }
    fix(&mut c.gateway.tls_cert)?;
    fix(&mut c.gateway.tls_key)?;
    if let strato_config::IpDetect::Script(path) = &c.network.ip_detect {
        let mapped = map(&resolve(path, base, home.as_deref()))?;
        c.network.ip_detect = strato_config::IpDetect::Script(mapped);
    }
    // The tree is rendered here; the server never reads the bundle path (which only exists on
    // this machine).
    c.runtime.bundle = None;
    yaml_serde::to_string(&c)
        .context("cannot serialize cluster.yaml")
        .map_err(CliError::Other)
}

/// A bootstrap server to submit to, kept alive while the command runs.
pub struct Bootstrapped {
    pub client: Client,
    /// cluster.yaml as the server must see it (file paths valid on the server).
    pub cluster_text: String,
    /// A remote bootstrap host and the directory holding the SSH keys copied there for jobs.
    secrets: Option<(strato_host::Host, String)>,
    _keep: Box<dyn std::any::Any + Send>,
}

impl Bootstrapped {
    pub fn new(client: Client, cluster_text: String, keep: Box<dyn std::any::Any + Send>) -> Self {
        Bootstrapped {
            client,
            cluster_text,
            secrets: None,
            _keep: keep,
        }
    }

    /// `dir` on `host` holds copies of the operator's keys that only running jobs need.
    pub fn with_secrets(mut self, host: strato_host::Host, dir: String) -> Self {
        self.secrets = Some((host, dir));
        self
    }

    /// Removes the copied keys from the bootstrap host once no job runs there, so the host does
    /// not keep root access to every node between commands; the next command copies them again.
    /// A job the server resumes after a crash still finds them: they go only when all are done.
    pub async fn forget_secrets(&self) {
        let Some((host, dir)) = &self.secrets else {
            return;
        };
        let idle = self
            .client
            .jobs()
            .await
            .is_ok_and(|jobs| jobs.iter().all(|j| j.state.is_finished()));
        if !idle {
            return;
        }
        let remove =
            strato_host::Change::exec_sudo(format!("rm -rf {}", strato_text::shell_quote(dir)));
        if let Err(e) = host.apply_ok(remove).await {
            eprintln!(
                "warning: could not remove the SSH keys copied to the bootstrap host ({dir}): {e}"
            );
        }
    }
}

/// The address this machine uses towards `host` (for the URL nodes download from).
fn local_ip_towards(host: &str) -> Option<std::net::IpAddr> {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect((host, 22)).ok()?;
    socket.local_addr().ok().map(|a| a.ip())
}

/// `bootstrap: local`: run the bootstrap server in this process.
async fn local(
    loaded: &Loaded,
    args: &JobArgs,
    need_bundle: bool,
) -> Result<Bootstrapped, CliError> {
    let data_dir = loaded.base.join(".strato").join("bootstrap");
    let url = match &args.bootstrap_url {
        Some(u) => u.clone(),
        None => {
            let first = loaded
                .cluster
                .masters
                .first()
                .map(|m| m.address.clone())
                .unwrap_or_default();
            let ip = local_ip_towards(&first)
                .ok_or_else(|| CliError::Usage(format!("cannot tell which address {first} reaches this machine on: pass --bootstrap-url")))?;
            let host = if ip.is_ipv6() {
                format!("[{ip}]")
            } else {
                ip.to_string()
            };
            format!("https://{host}:{}", args.listen.port())
        }
    };
    let tree = render(loaded, args, Some(url.clone()), need_bundle)?;
    strato_render::write_tree(&tree, &data_dir.join("serve"))
        .map_err(|e| CliError::Other(e.into()))?;
    crate::pki::ensure(&loaded.base, &loaded.cluster.cluster_name)?;
    let token = uuid::Uuid::new_v4().simple().to_string();
    let opts = strato_bootstrap::ServerOptions {
        data_dir: data_dir.clone(),
        listen: args.listen,
        token: token.clone(),
        serve_url: Some(url),
        pki_dir: crate::pki::pki_dir(&loaded.base),
        https: true,
    };
    let connector = Arc::new(strato_engine::SshConnector::new(
        data_dir.join("known_hosts.json"),
    ));
    let server = strato_bootstrap::start(opts, connector)
        .await
        .map_err(|e| CliError::Other(anyhow!(strato_engine::chain(&e))))?;
    let operator = crate::pki::operator_tls(&loaded.base)?;
    let client = Client::with_tls(
        format!("https://127.0.0.1:{}", server.addr.port()),
        token,
        &operator,
    )
    .map_err(|e| CliError::Other(e.into()))?;
    let text = rewrite_files(&loaded.cluster, &loaded.base, |p| Ok(p.to_path_buf()))?;
    Ok(Bootstrapped::new(client, text, Box::new(server)))
}

/// How long to keep reconnecting to a bootstrap server that went away mid-job (it is
/// restarted by systemd and resumes the job from its journal).
const RECONNECT_FOR: Duration = Duration::from_secs(120);

/// Follow a job's events to its end and return the final job. If the stream breaks before the
/// job's last event (the server was restarted), reconnect and continue after the last event
/// seen.
async fn follow(client: &Client, id: &str, progress: &mut Progress) -> Result<Job, CliError> {
    let mut last_seq = 0;
    let mut lost_since: Option<Instant> = None;
    loop {
        let stream = client.events(id).await;
        match stream {
            Ok(mut events) => {
                while let Some(Ok(e)) = events.next().await {
                    if e.seq <= last_seq {
                        continue;
                    }
                    last_seq = e.seq;
                    lost_since = None;
                    progress.event(&e);
                    if e.is_final() {
                        progress.finish();
                        return client.job(id).await.map_err(|e| CliError::Other(e.into()));
                    }
                }
            }
            Err(e) if lost_since.is_some_and(|t| t.elapsed() > RECONNECT_FOR) => {
                return Err(CliError::Other(anyhow!(
                    "lost the bootstrap server while following job {id}: {e}"
                )));
            }
            Err(_) => {}
        }
        // The stream ended early. A job that finished anyway (or was given up) is reported.
        if let Ok(job) = client.job(id).await {
            if job.state.is_finished() {
                progress.finish();
                return Ok(job);
            }
        }
        if lost_since.is_some_and(|t| t.elapsed() > RECONNECT_FOR) {
            return Err(CliError::Other(anyhow!(
                "job {id} made no progress for {}s; see `strato status`",
                RECONNECT_FOR.as_secs()
            )));
        }
        if lost_since.is_none() {
            eprintln!("==> lost the event stream of job {id}; reconnecting");
            lost_since = Some(Instant::now());
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Print the end of a job and pick the exit code.
pub fn report_job(job: &Job, output: Output, progress: &Progress) -> Exit {
    match output {
        Output::Json => println!("{}", serde_json::to_string(job).unwrap_or_default()),
        Output::Table => {
            for (host, rows) in &progress.checks {
                println!("{}", summary::render_checks(host, rows));
            }
            if job.dry_run {
                print!("{}", summary::render_plan(job));
            }
            print!("{}", summary::render_summary(job));
        }
    }
    summary::exit_code(job)
}

/// Run a job of `kind` as the command line says.
pub fn run(kind: JobKind, args: &JobArgs, purge: bool) -> Result<Exit, CliError> {
    let runtime = tokio::runtime::Runtime::new().map_err(|e| CliError::Other(e.into()))?;
    runtime.block_on(run_async(kind, args, purge))
}

/// Reach the bootstrap server for `loaded`'s cluster; `None` when a dry run stopped at the
/// bootstrap host (its server is not installed yet; the plan was printed).
pub async fn bootstrap(
    loaded: &Loaded,
    args: &JobArgs,
    serve: super::remote::Serve,
) -> Result<Option<Bootstrapped>, CliError> {
    let need_bundle = serve == super::remote::Serve::TreeWithBundle;
    match &loaded.cluster.bootstrap {
        Some(Bootstrap::Local) => local(loaded, args, need_bundle).await.map(Some),
        Some(Bootstrap::Host(addr)) => super::remote::prepare(loaded, args, addr, serve).await,
        None => Err(CliError::Usage(
            "cluster.yaml has no `bootstrap:` host (cloud clusters get one from `strato cloud create`)".into(),
        )),
    }
}

/// An upgrade's bundle, checked before anything changes anywhere: every file matches its
/// checksum, and it has a binary for every role the cluster runs (etcd where masters need it).
fn check_upgrade_bundle(loaded: &Loaded, args: &JobArgs) -> Result<(), CliError> {
    let Some(path) = bundle_path(loaded, args) else {
        return Err(CliError::Usage(
            "strato upgrade needs a runtime bundle: pass --bundle FILE (or set runtime.bundle)"
                .into(),
        ));
    };
    let manifest = strato_bundle::verify(&path).map_err(|e| CliError::Other(e.into()))?;
    let c = &loaded.cluster;
    let mut needed = vec!["bin/strato-master"];
    if !(c.agents.is_empty() && c.public_agents.is_empty()) {
        needed.push("bin/strato-agent");
    }
    if c.masters.len() >= strato_render::ETCD_MIN_MASTERS {
        needed.push("bin/etcd");
    }
    let missing: Vec<&str> = needed
        .into_iter()
        .filter(|n| !manifest.files.iter().any(|f| f.path == *n))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(CliError::Usage(format!(
            "{}: the bundle has no {}, which this cluster's nodes run; nothing was changed",
            path.display(),
            missing.join(", ")
        )))
    }
}

async fn run_async(kind: JobKind, args: &JobArgs, purge: bool) -> Result<Exit, CliError> {
    let loaded = load(&args.config)?;
    if kind == JobKind::Upgrade && !args.upgrade.rollback {
        check_upgrade_bundle(&loaded, args)?;
    }
    // A rollback installs nothing new: the nodes switch to what they keep.
    let installs = kind == JobKind::Deploy || (kind == JobKind::Upgrade && !args.upgrade.rollback);
    let serve = if installs {
        super::remote::Serve::TreeWithBundle
    } else {
        super::remote::Serve::Tree
    };
    let Some(boot) = bootstrap(&loaded, args, serve).await? else {
        return Ok(Exit::Success);
    };
    let mode = match args.output {
        Output::Table => Mode::Human,
        Output::Json => Mode::Json,
    };
    let mut progress = Progress::new(mode);
    // A remote server refused this command already while a job runs there (remote.rs). The
    // in-process server of `bootstrap: local` resumes the job a crashed CLI left: follow it to its
    // end first, as nobody else can.
    let running = boot
        .client
        .jobs()
        .await
        .map_err(|e| CliError::Other(e.into()))?;
    for job in running.iter().filter(|j| !j.state.is_finished()) {
        eprintln!("==> the bootstrap server is finishing job {} first", job.id);
        follow(&boot.client, &job.id, &mut progress).await?;
    }
    let request = JobRequest {
        kind,
        cluster: boot.cluster_text.clone(),
        options: JobOptions {
            dry_run: args.dry_run,
            waivers: args.waive.clone(),
            purge,
            bootstrap_url: args.bootstrap_url.clone(),
            // A dry run does not serve the new bundle: the plan needs its version from here.
            target_version: (kind == JobKind::Upgrade && args.dry_run)
                .then(|| bundle_path(&loaded, args))
                .flatten()
                .and_then(|path| strato_bundle::read_manifest(&path).ok())
                .map(|manifest| manifest.version),
            ..args.upgrade.clone()
        },
    };
    let job = boot
        .client
        .submit(&request)
        .await
        .map_err(|e| CliError::Other(e.into()))?;
    let mut progress = Progress::new(mode);
    let job = follow(&boot.client, &job.id, &mut progress).await;
    boot.forget_secrets().await;
    let exit = report_job(&job?, args.output, &progress);
    if kind == JobKind::Deploy
        && !args.dry_run
        && args.output == Output::Table
        && exit == Exit::Success
    {
        print_gateway(&loaded);
    }
    Ok(exit)
}

/// Where to log in after a deploy, and with what.
fn print_gateway(loaded: &Loaded) {
    let Some(url) = super::login::gateway_urls(loaded).into_iter().next() else {
        return;
    };
    println!("Gateway (dashboard, Marathon at /service/marathon, DC/OS CLI): {url}/");
    if loaded.cluster.gateway.users.is_empty() {
        let file = crate::pki::pki_dir(&loaded.base).join(strato_tls::GATEWAY_ADMIN_PASSWORD);
        println!(
            "  log in as admin with the password in {} (`strato login` keeps a token)",
            file.display()
        );
    }
}

#[cfg(test)]
mod tests;
