//! `strato-agent`: reads the config file, applies flags, runs the agent until SIGINT/SIGTERM.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use strato_agent::AgentConfig;

#[derive(Debug, Parser)]
#[command(name = "strato-agent", version, about = "The Strato agent (port 5051)")]
struct Args {
    /// TOML config file; every key is optional.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Where tasks' sandboxes and the agent's state live (default /var/lib/strato/agent).
    #[arg(long, value_name = "DIR")]
    work_dir: Option<PathBuf>,
    /// The node's address, as the master should reach it.
    #[arg(long, env = "STRATO_IP")]
    advertise_ip: Option<String>,
    /// Port of the agent's API the master calls (default 5051).
    #[arg(long, value_name = "PORT")]
    port: Option<u16>,
    /// `host:port` of a master; repeat for several (replaces the file's list).
    #[arg(long = "master")]
    masters: Vec<String>,
    /// Kill every task when the agent stops instead of leaving them to the next agent.
    #[arg(long)]
    stop_tasks_on_shutdown: bool,
}

fn config(args: Args) -> Result<AgentConfig, String> {
    let mut config = match &args.config {
        Some(path) => AgentConfig::load(path).map_err(|e| error_chain(&e))?,
        None => AgentConfig::default(),
    };
    if let Some(v) = args.work_dir {
        config.work_dir = v;
    }
    if let Some(v) = args.advertise_ip {
        config.advertise_ip = v;
    }
    if let Some(v) = args.port {
        config.port = v;
    }
    if !args.masters.is_empty() {
        config.masters = args.masters;
    }
    config.stop_tasks_on_shutdown |= args.stop_tasks_on_shutdown;
    Ok(config)
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

async fn shutdown_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot watch SIGTERM; stopping on Ctrl-C only");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let config = match config(Args::parse()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("strato-agent: {e}");
            return ExitCode::from(2);
        }
    };
    match strato_agent::run(config, shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("strato-agent: {}", error_chain(&e));
            ExitCode::FAILURE
        }
    }
}
