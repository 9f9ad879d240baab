//! The systemd unit of the bootstrap server on a separate bootstrap host
//! (`templates/systemd/strato-bootstrap.service.tera`).
use serde::Serialize;
use tera::Context;

use crate::engine::{engine, render};
use crate::error::RenderError;

/// Where the bootstrap server lives on its host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BootstrapUnitInput {
    pub cluster_name: String,
    /// Absolute path of `strato-bootstrap`.
    pub bin: String,
    /// The server's data directory (journal, serve tree, token).
    pub data_dir: String,
    /// `ADDRESS:PORT` the server listens on.
    pub listen: String,
    /// The URL nodes download from; its host goes into the server's certificate.
    pub serve_url: String,
}

/// Renders the unit. Paths and the address are refused when they hold anything a unit file or
/// a command line would read differently (spaces, newlines, quotes).
pub fn render_bootstrap_unit(input: &BootstrapUnitInput) -> Result<String, RenderError> {
    for (key, value) in [
        ("bin", &input.bin),
        ("data_dir", &input.data_dir),
        ("listen", &input.listen),
        ("serve_url", &input.serve_url),
    ] {
        if value.is_empty()
            || value
                .chars()
                .any(|c| c.is_whitespace() || "\"'\\%$;".contains(c))
        {
            return Err(RenderError::InvalidValue {
                key,
                message: format!("{value:?} cannot go into a systemd unit"),
            });
        }
    }
    let tera = engine()?;
    let context = Context::from_serialize(input).map_err(|source| RenderError::Template {
        template: "systemd/strato-bootstrap.service.tera".into(),
        source,
    })?;
    render(&tera, "systemd/strato-bootstrap.service.tera", &context)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> BootstrapUnitInput {
        BootstrapUnitInput {
            cluster_name: "demo".into(),
            bin: "/opt/strato-bootstrap/bin/strato-bootstrap".into(),
            data_dir: "/var/lib/strato-bootstrap".into(),
            listen: "10.0.0.5:8090".into(),
            serve_url: "https://10.0.0.5:8090".into(),
        }
    }

    #[test]
    fn the_unit_starts_the_server_with_its_token_file() {
        let unit = render_bootstrap_unit(&input()).expect("renders");
        assert!(unit.contains(
            "ExecStart=/opt/strato-bootstrap/bin/strato-bootstrap serve --data-dir /var/lib/strato-bootstrap --listen 10.0.0.5:8090 --serve-url https://10.0.0.5:8090 --token-file /var/lib/strato-bootstrap/token\n"
        ));
        assert!(unit.contains("Restart=on-failure"));
        assert!(unit.contains("WantedBy=multi-user.target"));
    }

    #[test]
    fn a_path_with_a_space_is_refused() {
        let mut bad = input();
        bad.data_dir = "/var/lib/strato bootstrap".into();
        let err = render_bootstrap_unit(&bad).expect_err("refused");
        assert!(err.to_string().contains("data_dir"), "{err}");
    }
}
