//! `strato genconf`: render the bootstrap serve tree (install scripts, units, runtime configs,
//! ip-detect, manifest) from cluster.yaml into a directory.
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context as _};
use clap::Args;
use strato_config::files::{resolve, Files, RealFiles};
use strato_config::Cluster;
use strato_render::{BundleRef, RenderOptions};

use crate::{report, CliError, Exit};

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  strato genconf --out-dir serve --bundle strato-runtime-0.1.0.tar.gz")]
pub struct GenconfArgs {
    /// The cluster description.
    #[arg(short, long, default_value = "cluster.yaml", env = "STRATO_CONFIG")]
    pub config: PathBuf,
    /// Directory to write the serve tree into (created if missing; files it no longer needs are removed).
    #[arg(long, value_name = "DIR", default_value = "serve")]
    pub out_dir: PathBuf,
    /// Runtime bundle (.tar.gz) to serve to the nodes; default: `runtime.bundle` in cluster.yaml.
    #[arg(long, env = "STRATO_BUNDLE")]
    pub bundle: Option<PathBuf>,
    /// URL the nodes download the tree from; default: https://<bootstrap>:8090.
    #[arg(long, env = "STRATO_BOOTSTRAP_URL")]
    pub bootstrap_url: Option<String>,
}

pub fn run(args: GenconfArgs) -> Result<Exit, CliError> {
    let cluster = match strato_config::load(&args.config) {
        Ok(cluster) => cluster,
        Err(strato_config::LoadError::Invalid(diagnostics)) => {
            report::print_diagnostics(&diagnostics);
            return Err(CliError::Other(anyhow!(
                "{} is invalid: nothing rendered",
                args.config.display()
            )));
        }
        Err(strato_config::LoadError::Read { path, source })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            return Err(CliError::Usage(format!(
                "{} does not exist (pass -c PATH or set STRATO_CONFIG; `strato init` writes one)",
                path.display()
            )));
        }
        Err(err) => return Err(CliError::Other(err.into())),
    };
    let options = render_options(&args, &cluster)?;
    let mut tree =
        strato_render::render_tree(&cluster, &options).map_err(|e| CliError::Other(e.into()))?;
    let base = args
        .config
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let pki = crate::pki::pki_dir(base);
    tree.sign(&pki).map_err(|e| CliError::Other(e.into()))?;
    strato_render::write_tree(&tree, &args.out_dir).map_err(|e| CliError::Other(e.into()))?;

    let count = tree.manifest.files.len() + 1;
    println!(
        "wrote {count} files to {} ({})",
        args.out_dir.display(),
        cluster.summary()
    );
    if options.bundle.is_none() {
        eprintln!("warning: no runtime bundle (--bundle or runtime.bundle): install.sh refuses to run until there is one");
    }
    let url = options
        .bootstrap_url
        .or_else(|| strato_render::bootstrap_url(&cluster));
    let url = url.unwrap_or_else(|| "https://BOOTSTRAP:8090".into());
    println!(
        "on each node: put {} and {} in /opt/strato/etc/tls/ (install.sh checks the tree's signature and the server's certificate with them) and the node's certificate (`strato deploy` does all three), then: curl -fsSL --cacert /opt/strato/etc/tls/ca.crt {url}/install.sh | sudo sh -s -- --url {url} master|agent|public_agent",
        pki.join(strato_tls::SIGNING_PUB).display(),
        pki.join(strato_tls::CA_CERT).display()
    );
    Ok(Exit::Success)
}

/// Reads what rendering needs from disk: the bundle's hash and the ip-detect script. Relative
/// paths in cluster.yaml are relative to its directory.
fn render_options(args: &GenconfArgs, cluster: &Cluster) -> Result<RenderOptions, CliError> {
    let base = strato_config::Source::for_path(&args.config).base;
    let home = RealFiles.home();
    let bundle_path = args.bundle.clone().or_else(|| {
        let bundle = cluster.runtime.bundle.as_ref()?;
        Some(resolve(bundle, &base, home.as_deref()))
    });
    if let Some(dir) = bundle_path.as_deref().filter(|p| p.is_dir()) {
        return Err(CliError::Usage(format!(
            "the runtime bundle {} is a directory; genconf serves a .tar.gz bundle file",
            dir.display()
        )));
    }
    let bundle = bundle_path
        .as_deref()
        .map(BundleRef::from_file)
        .transpose()
        .map_err(|e| CliError::Other(e.into()))?;
    let ip_detect_script = match &cluster.network.ip_detect {
        strato_config::IpDetect::Script(path) => {
            Some(read_script(&resolve(path, &base, home.as_deref()))?)
        }
        _ => None,
    };
    Ok(RenderOptions {
        bootstrap_url: args.bootstrap_url.clone(),
        bundle,
        ip_detect_script,
    })
}

fn read_script(path: &Path) -> Result<String, CliError> {
    std::fs::read_to_string(path)
        .with_context(|| {
            format!(
                "network.ip_detect: cannot read the script {}",
                path.display()
            )
        })
        .map_err(CliError::Other)
}
