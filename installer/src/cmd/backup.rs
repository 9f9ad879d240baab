//! `strato backup` and `strato restore`: the cluster's state (apps, versions, deployments,
//! tasks) as one checksummed file, taken from and given back to the leading master.
//!
//! The CLI reaches a master as `master_link.rs` does (SSH, then the master's own 127.0.0.1); a
//! standby forwards to the leader, so any master that answers will do, tried in cluster.yaml's
//! order. The document is logical (`strato_store::Backup`), so it restores onto one master
//! (redb) or several (etcd), of any cluster size.
use std::path::{Path, PathBuf};

use anyhow::anyhow;
use clap::Args;
use serde_json::{json, Value};
use strato_store::Backup;

use super::job::{self, ClusterArgs, Loaded};
use super::master_link::{http, reach_a_master, MasterLink};
use crate::output::Output;
use crate::{CliError, Exit};

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  strato backup state.json               # from the first master that answers
  strato backup -o json state.json       # the summary as JSON")]
pub struct BackupArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Where to write the backup (replaced atomically, readable by you only).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  strato restore state.json              # replaces the stored apps, versions and deployments")]
pub struct RestoreArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// A file `strato backup` wrote.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

/// The master's `{"message": …}`, or the status line.
async fn refusal(response: reqwest::Response) -> String {
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    match body["message"].as_str() {
        Some(message) => format!("HTTP {status}: {message}"),
        None => format!("HTTP {status}"),
    }
}

fn summary(output: Output, action: &str, file: &Path, host: &str, backup: &Backup) {
    let counts = backup.counts();
    match output {
        Output::Json => println!(
            "{}",
            json!({"action": action, "file": file, "master": host, "sha256": backup.sha256,
                   "taken_at": backup.taken_at, "entries": counts})
        ),
        Output::Table => {
            println!("{action} {} via master {host}", file.display());
            for (table, count) in counts {
                println!("  {table:<14} {count}");
            }
            println!("  sha256         {}", backup.sha256);
        }
    }
}

/// Sends what `build` makes (given the client and the master's base URL) to the first master
/// that answers; its answer with the link, which must live while the body is read, or the
/// master's refusal as an error naming `what`.
async fn ask_a_master(
    loaded: &Loaded,
    what: &str,
    build: impl FnOnce(&reqwest::Client, &str) -> reqwest::RequestBuilder,
) -> Result<(reqwest::Response, MasterLink), CliError> {
    let http = http()?;
    let link = reach_a_master(loaded, &http).await?;
    let response = build(&http, &link.base)
        .send()
        .await
        .map_err(|e| CliError::Other(anyhow!("{}: {}", link.host, strato_engine::chain(&e))))?;
    if !response.status().is_success() {
        let why = refusal(response).await;
        return Err(CliError::Other(anyhow!(
            "master {} refused the {what}: {why}",
            link.host
        )));
    }
    Ok((response, link))
}

pub fn backup(args: BackupArgs) -> Result<Exit, CliError> {
    let loaded = job::load(&args.cluster.config)?;
    let runtime = tokio::runtime::Runtime::new().map_err(|e| CliError::Other(e.into()))?;
    runtime.block_on(async {
        let (response, link) = ask_a_master(&loaded, "backup", |http, base| {
            http.get(format!("{base}/strato/v1/backup"))
        })
        .await?;
        let backup: Backup = response.json().await.map_err(|e| {
            CliError::Other(anyhow!(
                "master {} sent an unreadable backup: {e}",
                link.host
            ))
        })?;
        backup
            .verify()
            .map_err(|e| CliError::Other(anyhow!("master {} sent a bad backup: {e}", link.host)))?;
        let text = serde_json::to_vec_pretty(&backup).map_err(|e| CliError::Other(e.into()))?;
        // The state names every app's command and environment: readable by the operator only.
        strato_atomic_file::write_with_mode(&args.file, &text, 0o600).map_err(|source| {
            CliError::Write {
                path: args.file.clone(),
                source,
            }
        })?;
        summary(
            args.cluster.output.output,
            "backed up to",
            &args.file,
            &link.host,
            &backup,
        );
        Ok(Exit::Success)
    })
}

pub fn restore(args: RestoreArgs) -> Result<Exit, CliError> {
    let text = std::fs::read(&args.file).map_err(|source| CliError::Read {
        path: args.file.clone(),
        source,
    })?;
    let backup: Backup = serde_json::from_slice(&text).map_err(|e| {
        CliError::Usage(format!(
            "{}:{}:{}: not a strato backup: {e}",
            args.file.display(),
            e.line(),
            e.column()
        ))
    })?;
    backup
        .verify()
        .map_err(|e| CliError::Usage(format!("{}: {e}", args.file.display())))?;
    let loaded = job::load(&args.cluster.config)?;
    let runtime = tokio::runtime::Runtime::new().map_err(|e| CliError::Other(e.into()))?;
    runtime.block_on(async {
        let (_, link) = ask_a_master(&loaded, "restore", |http, base| {
            http.post(format!("{base}/strato/v1/restore"))
                .header("content-type", "application/json")
                .body(text)
        })
        .await?;
        summary(
            args.cluster.output.output,
            "restored from",
            &args.file,
            &link.host,
            &backup,
        );
        Ok(Exit::Success)
    })
}
