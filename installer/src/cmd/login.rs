//! `strato login`: logs in to the cluster's gateway (the Admin Router on every master) as a user
//! of cluster.yaml's `gateway.users` (or the generated `admin`, whose password is in
//! `.strato/pki/admin-password`), and keeps the token in `.strato/token` (0600) for later
//! commands (`strato token revoke`). The password is read from `STRATO_PASSWORD`, stdin or the
//! terminal, and goes nowhere but the login request.
use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::anyhow;
use clap::Args;
use serde_json::{json, Value};

use super::job::{self, ClusterArgs, Loaded};
use crate::output::Output;
use crate::{CliError, Exit};

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  strato login                           # as admin, password asked (or STRATO_PASSWORD)
  strato login --user alice --password-stdin < pw.txt
  TOKEN=$(cat .strato/token); curl --cacert .strato/pki/ca.crt \\
      -H \"Authorization: token=$TOKEN\" https://MASTER/service/marathon/v2/apps")]
pub struct LoginArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// The user to log in as.
    #[arg(long, default_value = "admin")]
    pub user: String,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    pub password_stdin: bool,
    /// A CA certificate (PEM) to trust for the gateway instead of the cluster CA: for a gateway
    /// certificate of your own (`gateway.tls_cert`).
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
}

/// `<base>/.strato/token`.
pub fn token_path(base: &Path) -> PathBuf {
    base.join(".strato").join("token")
}

/// `https://<master>:<port>` for each master, in cluster.yaml's order.
pub fn gateway_urls(loaded: &Loaded) -> Vec<String> {
    let port = loaded.cluster.gateway.https_port;
    loaded
        .cluster
        .masters
        .iter()
        .map(|m| {
            let host = if m.address.contains(':') {
                format!("[{}]", m.address)
            } else {
                m.address.clone()
            };
            if port == 443 {
                format!("https://{host}")
            } else {
                format!("https://{host}:{port}")
            }
        })
        .collect()
}

/// An HTTPS client that trusts the cluster CA (or `ca_cert`) and nothing else.
pub fn gateway_client(
    loaded: &Loaded,
    ca_cert: Option<&Path>,
) -> Result<reqwest::Client, CliError> {
    let path = match ca_cert {
        Some(path) => path.to_path_buf(),
        None => crate::pki::pki_dir(&loaded.base).join(strato_tls::TRUST_BUNDLE),
    };
    let pem = std::fs::read(&path).map_err(|source| CliError::Read {
        path: path.clone(),
        source,
    })?;
    let roots = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|e| CliError::Usage(format!("{}: not a PEM certificate: {e}", path.display())))?;
    strato_tls::client_builder()
        .tls_certs_only(roots)
        .timeout(Duration::from_secs(30))
        .no_proxy()
        .build()
        .map_err(|e| CliError::Other(e.into()))
}

fn read_password(args: &LoginArgs) -> Result<String, CliError> {
    if let Ok(password) = std::env::var("STRATO_PASSWORD") {
        return Ok(password);
    }
    if args.password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| CliError::Usage(format!("cannot read the password from stdin: {e}")))?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_string());
    }
    if !std::io::stdin().is_terminal() {
        return Err(CliError::Usage(
            "no terminal to ask the password on: set STRATO_PASSWORD or use --password-stdin"
                .into(),
        ));
    }
    inquire::Password::new(&format!("Password for {}:", args.user))
        .without_confirmation()
        .with_display_mode(inquire::PasswordDisplayMode::Hidden)
        .prompt()
        .map_err(|e| CliError::Usage(format!("no password given: {e}")))
}

pub fn run(args: LoginArgs) -> Result<Exit, CliError> {
    let loaded = job::load(&args.cluster.config)?;
    let password = read_password(&args)?;
    let client = gateway_client(&loaded, args.ca_cert.as_deref())?;
    let runtime = tokio::runtime::Runtime::new().map_err(|e| CliError::Other(e.into()))?;
    let (url, token) = runtime.block_on(async {
        let mut failures = Vec::new();
        for url in gateway_urls(&loaded) {
            let sent = client
                .post(format!("{url}/acs/api/v1/auth/login"))
                .json(&json!({"uid": args.user, "password": password}))
                .send()
                .await;
            let response = match sent {
                Ok(response) => response,
                Err(e) => {
                    failures.push(format!("{url}: {}", strato_engine::chain(&e)));
                    continue;
                }
            };
            let status = response.status();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            if status.is_success() {
                let token = body["token"].as_str().unwrap_or_default().to_string();
                return Ok((url, token));
            }
            let why = body["description"].as_str().unwrap_or("no reason given");
            // The gateway answered: a wrong password is not retried on the next master.
            return Err(CliError::Other(anyhow!(
                "{url} refused the login: HTTP {status}: {why}"
            )));
        }
        Err(CliError::Other(anyhow!(
            "no gateway answered:\n  {}",
            failures.join("\n  ")
        )))
    })?;
    let path = token_path(&loaded.base);
    strato_atomic_file::write_with_mode(&path, format!("{token}\n").as_bytes(), 0o600).map_err(
        |source| CliError::Write {
            path: path.clone(),
            source,
        },
    )?;
    let expires = strato_gateway::claims_unverified(&token).map_or(0, |c| c.exp);
    match args.cluster.output.output {
        Output::Json => println!(
            "{}",
            json!({"url": url, "user": args.user, "expires": expires, "token_file": path})
        ),
        Output::Table => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            println!(
                "Logged in to {url} as {} (the token lasts {} h), kept in {}",
                args.user,
                expires.saturating_sub(now).div_ceil(3600),
                path.display()
            )
        }
    }
    Ok(Exit::Success)
}
