//! `strato token revoke`: ends the token `strato login` kept (or every token of a user) before it
//! expires, on every master at once (the list is in the masters' store:
//! `runtime/master/src/http/tokens.rs`).
use anyhow::anyhow;
use clap::{Args, Subcommand};
use serde_json::{json, Value};

use super::job::{self, ClusterArgs};
use super::login::{gateway_client, gateway_urls, token_path};
use crate::output::Output;
use crate::{CliError, Exit};

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Revoke the token `strato login` kept (default), or every token of a user.
    Revoke(RevokeArgs),
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  strato token revoke                    # the token in .strato/token, which is then removed
  strato token revoke --user alice       # every token alice holds now (she logs in again)")]
pub struct RevokeArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Revoke every token this user was given until now, instead of the kept one.
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
    /// A CA certificate (PEM) to trust for the gateway instead of the cluster CA.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<std::path::PathBuf>,
}

pub fn run(command: TokenCommand) -> Result<Exit, CliError> {
    match command {
        TokenCommand::Revoke(args) => revoke(args),
    }
}

fn revoke(args: RevokeArgs) -> Result<Exit, CliError> {
    let loaded = job::load(&args.cluster.config)?;
    let path = token_path(&loaded.base);
    let token = std::fs::read_to_string(&path)
        .map_err(|_| {
            CliError::Usage(format!(
                "no token in {}: run `strato login` first",
                path.display()
            ))
        })?
        .trim()
        .to_string();
    let body = match &args.user {
        Some(user) => json!({"uid": user}),
        None => {
            let claims = strato_gateway::claims_unverified(&token).ok_or_else(|| {
                CliError::Usage(format!(
                    "{} holds no token: run `strato login`",
                    path.display()
                ))
            })?;
            json!({"jti": claims.jti, "exp": claims.exp})
        }
    };
    let client = gateway_client(&loaded, args.ca_cert.as_deref())?;
    let runtime = tokio::runtime::Runtime::new().map_err(|e| CliError::Other(e.into()))?;
    let url = runtime.block_on(async {
        let mut failures = Vec::new();
        for url in gateway_urls(&loaded) {
            let sent = client
                .post(format!("{url}/strato/v1/tokens/revoke"))
                .header("Authorization", format!("token={token}"))
                .json(&body)
                .send()
                .await;
            match sent {
                Ok(response) if response.status().is_success() => return Ok(url),
                Ok(response) => {
                    let status = response.status();
                    let answer: Value = response.json().await.unwrap_or(Value::Null);
                    let why = answer["message"]
                        .as_str()
                        .or(answer["description"].as_str())
                        .unwrap_or("no reason given");
                    return Err(CliError::Other(anyhow!(
                        "{url} refused to revoke: HTTP {status}: {why}"
                    )));
                }
                Err(e) => failures.push(format!("{url}: {}", strato_engine::chain(&e))),
            }
        }
        Err(CliError::Other(anyhow!(
            "no gateway answered:\n  {}",
            failures.join("\n  ")
        )))
    })?;
    if args.user.is_none() {
        let _ = std::fs::remove_file(&path);
    }
    let what = match &args.user {
        Some(user) => format!("every token of {user}"),
        None => "the kept token".to_string(),
    };
    match args.cluster.output.output {
        Output::Json => println!("{}", json!({"revoked": body, "url": url})),
        Output::Table => println!("Revoked {what} at {url}"),
    }
    Ok(Exit::Success)
}
