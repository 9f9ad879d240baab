//! `strato-bootstrap serve --data-dir DIR --listen ADDR --token-file FILE`: parse flags, start
//! the server, stop on Ctrl-C or SIGTERM.
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use strato_bootstrap::{start, ServerOptions};
use strato_engine::SshConnector;

#[derive(Parser)]
#[command(
    name = "strato-bootstrap",
    version,
    about = "The Strato bootstrap server"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the genconf tree and the job API.
    Serve {
        /// Holds jobs/, serve/ (the genconf tree), pki/ (the cluster CA) and known_hosts.json.
        #[arg(long, default_value = "/var/lib/strato-bootstrap")]
        data_dir: PathBuf,
        /// API and file server address (nodes download from it: use the node-facing address).
        #[arg(long, default_value = "0.0.0.0:8090")]
        listen: SocketAddr,
        /// File holding the API's bearer token.
        #[arg(long)]
        token_file: PathBuf,
        /// URL nodes download the tree from when cluster.yaml's `bootstrap:` gives none.
        #[arg(long)]
        serve_url: Option<String>,
        /// Serve plain HTTP instead of HTTPS with a certificate of the cluster CA in
        /// DATA_DIR/pki (only behind another TLS front end; nodes then need an https URL of it).
        #[arg(long)]
        plain_http: bool,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let Command::Serve {
        data_dir,
        listen,
        token_file,
        serve_url,
        plain_http,
    } = Cli::parse().command;
    let token = match std::fs::read_to_string(&token_file) {
        Ok(t) if !t.trim().is_empty() => t.trim().to_string(),
        Ok(_) => {
            eprintln!("strato-bootstrap: {} is empty", token_file.display());
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!(
                "strato-bootstrap: cannot read {}: {e}",
                token_file.display()
            );
            return ExitCode::from(2);
        }
    };
    let connector = Arc::new(SshConnector::new(data_dir.join("known_hosts.json")));
    let opts = ServerOptions {
        pki_dir: data_dir.join("pki"),
        data_dir,
        listen,
        token,
        serve_url,
        https: !plain_http,
    };
    match start(opts, connector).await {
        Ok(server) => {
            server.until(shutdown_signal()).await;
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("strato-bootstrap: {}", strato_engine::chain(&e));
            ExitCode::FAILURE
        }
    }
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
