//! `strato task list` and `strato task log`: an app's tasks, running and recently finished, and
//! their output, read through a master (`/strato/v1/tasks`, `runtime/master/src/http/files.rs`)
//! from the agent's sandbox, as `dcos task log` did. A deployed cluster is reached through its
//! gateway with the token `strato login` kept and the cluster CA (`login.rs`); `--master-url`
//! names a master's API directly (`strato up --local`: `http://127.0.0.1:5050`).
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::anyhow;
use clap::{Args, Subcommand};
use serde_json::{json, Value};

use super::job;
use super::login::{gateway_client, gateway_urls, token_path};
use crate::output::{Output, OutputArg};
use crate::{CliError, Exit};

/// How often `--follow` asks for new output.
const POLL: Duration = Duration::from_secs(1);
/// The most the master's agents answer per read (`runtime/agent/src/files.rs`).
const READ_CHUNK: u64 = 1 << 20;
/// The most `log` reads back to find its last lines.
const MAX_TAIL_WINDOW: u64 = 8 << 20;

#[derive(Debug, Subcommand)]
pub enum TaskCommand {
    /// List tasks (of one app, or all), running ones first, then recently finished ones.
    List(ListArgs),
    /// Print a task's stdout or stderr: its last lines, and with --follow what it writes next.
    Log(LogArgs),
}

/// How to reach a master's API.
#[derive(Debug, Args)]
pub struct ReachArgs {
    /// The cluster description (its masters' gateways, `.strato/token`, the cluster CA).
    #[arg(short, long, default_value = "cluster.yaml", env = "STRATO_CONFIG")]
    pub config: PathBuf,
    /// Ask this master API directly instead of cluster.yaml's gateways (no login needed), e.g.
    /// http://127.0.0.1:5050 for `strato up --local`.
    #[arg(long, value_name = "URL", env = "STRATO_MASTER_URL")]
    pub master_url: Option<String>,
    /// A CA certificate (PEM) to trust for the gateway instead of the cluster CA.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  strato task list -c cluster.yaml                 # every app's tasks
  strato task list /web -c cluster.yaml
  strato task list --master-url http://127.0.0.1:5050   # strato up --local")]
pub struct ListArgs {
    /// Only this app's tasks (`/web`).
    pub app: Option<String>,
    #[command(flatten)]
    pub reach: ReachArgs,
    #[command(flatten)]
    pub output: OutputArg,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  strato task log /web -c cluster.yaml             # the last 10 lines of /web's newest task
  strato task log --follow /web -c cluster.yaml    # and what it writes next, across restarts
  strato task log --stderr --lines 50 web.6c1f2a3e-0b1d-11ef-8d1e-0242ac110002")]
pub struct LogArgs {
    /// An app id (its newest task: a running one, else the last finished) or a task id.
    pub app_or_task: String,
    /// Keep printing what the task writes; when it ends and the app starts another, go on with
    /// that one's output.
    #[arg(short, long)]
    pub follow: bool,
    /// The task's stderr instead of its stdout.
    #[arg(long)]
    pub stderr: bool,
    /// How many of the last lines to print first.
    #[arg(short = 'n', long, value_name = "N", default_value_t = 10)]
    pub lines: usize,
    #[command(flatten)]
    pub reach: ReachArgs,
}

pub fn run(command: TaskCommand) -> Result<Exit, CliError> {
    let runtime = tokio::runtime::Runtime::new().map_err(|e| CliError::Other(e.into()))?;
    match command {
        TaskCommand::List(args) => runtime.block_on(list(args)),
        TaskCommand::Log(args) => runtime.block_on(log(args)),
    }
}

/// A master's API: the first base URL that answers, with the gateway token when there is one.
struct Api {
    http: reqwest::Client,
    bases: Vec<String>,
    token: Option<String>,
}

impl Api {
    fn new(reach: &ReachArgs) -> Result<Api, CliError> {
        if let Some(url) = &reach.master_url {
            return Ok(Api {
                http: super::master_link::http()?,
                bases: vec![url.trim_end_matches('/').to_string()],
                token: None,
            });
        }
        let loaded = job::load(&reach.config)?;
        let path = token_path(&loaded.base);
        let token = std::fs::read_to_string(&path)
            .map_err(|_| {
                CliError::Usage(format!(
                    "no token in {}: run `strato login` first (or give --master-url)",
                    path.display()
                ))
            })?
            .trim()
            .to_string();
        Ok(Api {
            http: gateway_client(&loaded, reach.ca_cert.as_deref())?,
            bases: gateway_urls(&loaded),
            token: Some(token),
        })
    }

    /// GET `path` as JSON; a refusal is an error with the master's message.
    async fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Value, CliError> {
        let (status, body) = self.answer(path, query).await?;
        if status.is_success() {
            Ok(body)
        } else {
            Err(refusal(path, status, &body))
        }
    }

    /// GET `path`: the status and JSON body of the first master that answers.
    async fn answer(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<(reqwest::StatusCode, Value), CliError> {
        let mut failures = Vec::new();
        for base in &self.bases {
            let mut request = self.http.get(format!("{base}{path}")).query(query);
            if let Some(token) = &self.token {
                request = request.header("Authorization", format!("token={token}"));
            }
            match request.send().await {
                Ok(response) => {
                    let status = response.status();
                    return Ok((status, response.json().await.unwrap_or(Value::Null)));
                }
                Err(e) => failures.push(format!("{base}: {}", strato_engine::chain(&e))),
            }
        }
        Err(CliError::Other(anyhow!(
            "no master answered:\n  {}",
            failures.join("\n  ")
        )))
    }

    async fn tasks(&self, app: Option<&str>) -> Result<Vec<Value>, CliError> {
        let query: Vec<(&str, String)> = app.map(|a| ("app", a.to_string())).into_iter().collect();
        let body = self.get("/strato/v1/tasks", &query).await?;
        Ok(body["tasks"].as_array().cloned().unwrap_or_default())
    }

    /// `/files/read` of a task's file: the data from `offset`, or the size with `offset` -1.
    async fn read(
        &self,
        task: &str,
        file: &str,
        offset: i64,
        length: u64,
    ) -> Result<(String, u64), CliError> {
        let path = format!("/strato/v1/tasks/{task}/files/read");
        let query = [
            ("path", file.to_string()),
            ("offset", offset.to_string()),
            ("length", length.to_string()),
        ];
        let (status, body) = self.answer(&path, &query).await?;
        if status == reqwest::StatusCode::NOT_FOUND {
            // A task just launched has no sandbox yet (the task itself is known: it was
            // listed): nothing written so far.
            return Ok((String::new(), u64::try_from(offset).unwrap_or(0)));
        }
        if !status.is_success() {
            return Err(refusal(&path, status, &body));
        }
        let data = body["data"].as_str().unwrap_or_default().to_string();
        Ok((data, body["offset"].as_u64().unwrap_or(0)))
    }
}

/// A master's refusal, with its message.
fn refusal(path: &str, status: reqwest::StatusCode, body: &Value) -> CliError {
    let why = body["message"]
        .as_str()
        .or(body["description"].as_str())
        .unwrap_or("no reason given");
    CliError::Other(anyhow!("{path}: HTTP {status}: {why}"))
}

/// `/web` for `web` or `/web/`.
fn app_id(text: &str) -> String {
    format!("/{}", text.trim_matches('/'))
}

async fn list(args: ListArgs) -> Result<Exit, CliError> {
    let api = Api::new(&args.reach)?;
    let app = args.app.as_deref().map(app_id);
    let tasks = api.tasks(app.as_deref()).await?;
    match args.output.output {
        Output::Json => println!("{}", json!({ "tasks": tasks })),
        Output::Table => print!("{}", tasks_table(&tasks)),
    }
    Ok(Exit::Success)
}

fn tasks_table(tasks: &[Value]) -> String {
    let text = |v: &Value| v.as_str().unwrap_or("-").to_string();
    let rows: Vec<Vec<String>> = tasks
        .iter()
        .map(|t| {
            vec![
                text(&t["appId"]),
                text(&t["id"]),
                text(&t["host"]),
                text(&t["state"]),
                text(&t["startedAt"]),
                t["message"].as_str().unwrap_or("").to_string(),
            ]
        })
        .collect();
    strato_text::table(
        &["APP", "TASK", "HOST", "STATE", "STARTED", "MESSAGE"],
        &rows,
    )
}

/// The task `app_or_task` names: a task id as is, an app's or a job's newest task (the list is running
/// tasks first, newest first, then finished ones, newest first).
fn pick(tasks: &[Value], app_or_task: &str) -> Option<(String, String)> {
    let entry = |t: &Value| {
        Some((
            t["id"].as_str()?.to_string(),
            t["appId"].as_str()?.to_string(),
        ))
    };
    if let Some(task) = tasks.iter().find(|t| t["id"] == app_or_task) {
        return entry(task);
    }
    let app = app_id(app_or_task);
    tasks
        .iter()
        .find(|t| t["appId"] == app.as_str())
        // A job's tasks carry the job's id (`reports.nightly`), which has no leading slash.
        .or_else(|| tasks.iter().find(|t| t["appId"] == app_or_task))
        .and_then(entry)
}

/// Where the last `lines` lines of `text` start (a final newline ends the last line).
fn last_lines_start(text: &str, lines: usize) -> Option<usize> {
    let body = text.strip_suffix('\n').unwrap_or(text);
    if lines == 0 {
        return Some(text.len());
    }
    body.rmatch_indices('\n').nth(lines - 1).map(|(i, _)| i + 1)
}

async fn log(args: LogArgs) -> Result<Exit, CliError> {
    let api = Api::new(&args.reach)?;
    let file = if args.stderr { "stderr" } else { "stdout" };
    let tasks = api.tasks(None).await?;
    let (mut task, app) = pick(&tasks, &args.app_or_task).ok_or_else(|| {
        CliError::Other(anyhow!(
            "no task or app {} is known to the master (`strato task list` lists them)",
            args.app_or_task
        ))
    })?;
    let (_, size) = api.read(&task, file, -1, 0).await?;
    let mut offset = tail(&api, &task, file, size, args.lines).await?;
    if !args.follow {
        return Ok(Exit::Success);
    }
    loop {
        let (data, _) = api.read(&task, file, offset as i64, READ_CHUNK).await?;
        if !data.is_empty() {
            offset += data.len() as u64;
            print_out(&data);
            continue;
        }
        tokio::time::sleep(POLL).await;
        let (_, size) = api.read(&task, file, -1, 0).await?;
        if size < offset {
            // Rotated (`runtime/agent/src/executor/log_rotate.rs`): go on from the start.
            offset = 0;
            continue;
        }
        if size > offset {
            continue;
        }
        // Nothing new: has the task ended and the app started another?
        let tasks = api.tasks(Some(&app)).await?;
        let ended = tasks
            .iter()
            .find(|t| t["id"] == task.as_str())
            .is_none_or(|t| t["active"] == false);
        let newest = tasks.first().and_then(|t| t["id"].as_str());
        if let Some(next) = newest.filter(|n| ended && *n != task) {
            eprintln!("==> {task} ended; following {next}, which replaced it");
            task = next.to_string();
            offset = 0;
        }
    }
}

/// Prints the last `lines` lines of a file of `size` bytes; returns where the file ends.
async fn tail(api: &Api, task: &str, file: &str, size: u64, lines: usize) -> Result<u64, CliError> {
    let mut window = READ_CHUNK.min(size);
    loop {
        let start = size - window;
        let mut text = String::new();
        let mut at = start;
        while at < size {
            let (data, _) = api
                .read(task, file, at as i64, READ_CHUNK.min(size - at))
                .await?;
            if data.is_empty() {
                break;
            }
            at += data.len() as u64;
            text.push_str(&data);
        }
        let found = last_lines_start(&text, lines);
        if found.is_some() || start == 0 || window >= MAX_TAIL_WINDOW {
            print_out(&text[found.unwrap_or(0)..]);
            return Ok(at);
        }
        window = (window * 2).min(size).min(MAX_TAIL_WINDOW);
    }
}

fn print_out(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_app_or_a_job_picks_its_first_listed_task_and_a_task_id_itself() {
        let tasks = vec![
            json!({"id": "web.2", "appId": "/web", "active": true}),
            json!({"id": "db.1", "appId": "/db", "active": true}),
            json!({"id": "web.1", "appId": "/web", "active": false}),
            json!({"id": "reports.nightly_20261204020000aB3xZ.1", "appId": "reports.nightly"}),
        ];
        let pair = |t: &str, a: &str| Some((t.to_string(), a.to_string()));
        assert_eq!(pick(&tasks, "/web"), pair("web.2", "/web"));
        assert_eq!(pick(&tasks, "web"), pair("web.2", "/web"));
        assert_eq!(pick(&tasks, "web.1"), pair("web.1", "/web"));
        assert_eq!(pick(&tasks, "/nope"), None);
        assert_eq!(
            pick(&tasks, "reports.nightly"),
            pair("reports.nightly_20261204020000aB3xZ.1", "reports.nightly")
        );
    }

    #[test]
    fn the_last_lines_start_after_the_nth_newline_from_the_end() {
        let text = "a\nb\nc\n";
        assert_eq!(
            last_lines_start(text, 2).map(|i| &text[i..]),
            Some("b\nc\n")
        );
        assert_eq!(last_lines_start(text, 3), None, "needs more of the file");
        assert_eq!(last_lines_start("a\nb", 1).map(|i| &"a\nb"[i..]), Some("b"));
        assert_eq!(last_lines_start(text, 0), Some(text.len()));
    }

    #[test]
    fn the_table_lists_app_task_host_and_state() {
        let table = tasks_table(&[json!({"id": "web.1", "appId": "/web", "host": "10.0.0.5",
            "state": "TASK_FAILED", "message": "Command exited with status 1"})]);
        let row = table.lines().nth(1).expect("a row");
        for part in ["/web", "web.1", "10.0.0.5", "TASK_FAILED", "status 1"] {
            assert!(row.contains(part), "{part} in {table}");
        }
    }
}
