//! `strato-master`: load the config, apply flags, run until SIGINT/SIGTERM.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use strato_master::MasterConfig;

/// The Strato master (Mesos-style endpoints, agent registry, Marathon API v2).
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// TOML config file; every key optional.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Where the master keeps its state (the config's `data_dir`; default /var/lib/strato/master).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// The address agents and clients reach this master at (default 127.0.0.1).
    #[arg(long, env = "STRATO_IP")]
    advertise_ip: Option<String>,
    /// Port of the Mesos-style endpoints agents register with (default 5050).
    #[arg(long, value_name = "PORT")]
    mesos_port: Option<u16>,
    /// Port of the Marathon API v2 (default 8080).
    #[arg(long, value_name = "PORT")]
    marathon_port: Option<u16>,
    /// Port of the DNS server for task names (default 53).
    #[arg(long, value_name = "PORT")]
    dns_port: Option<u16>,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    let mut config = match &args.config {
        Some(path) => match MasterConfig::load(path) {
            Ok(config) => config,
            Err(error) => {
                eprintln!("error: {error}");
                return ExitCode::from(2);
            }
        },
        None => MasterConfig::default(),
    };
    config.data_dir = args.data_dir.unwrap_or(config.data_dir);
    config.advertise_ip = args.advertise_ip.unwrap_or(config.advertise_ip);
    config.mesos_port = args.mesos_port.unwrap_or(config.mesos_port);
    config.marathon_port = args.marathon_port.unwrap_or(config.marathon_port);
    config.dns_port = args.dns_port.unwrap_or(config.dns_port);
    match strato_master::run(config, shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let mut message = error.to_string();
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                message.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
