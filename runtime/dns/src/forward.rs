//! Names outside the cluster's domain go to the configured upstream resolvers.

use std::net::SocketAddr;
use std::time::Duration;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, Record, RecordType};
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::TokioResolver;

use crate::error::DnsError;

/// Asks upstream resolvers; built once per server.
pub struct Forwarder {
    resolver: TokioResolver,
}

/// What an upstream said.
pub enum Forwarded {
    Records(Vec<Record>),
    Code(ResponseCode),
}

impl Forwarder {
    /// `None` when there are no upstreams: such queries are refused.
    pub fn new(upstreams: &[SocketAddr]) -> Result<Option<Self>, DnsError> {
        if upstreams.is_empty() {
            return Ok(None);
        }
        let mut config = ResolverConfig::from_name_servers(Vec::new());
        for &addr in upstreams {
            let connections = [ConnectionConfig::udp(), ConnectionConfig::tcp()]
                .into_iter()
                .map(|mut connection| {
                    connection.port = addr.port();
                    connection
                })
                .collect();
            config.add_name_server(NameServerConfig::new(addr.ip(), true, connections));
        }
        let mut opts = ResolverOpts::default();
        // Clients retry themselves; one quick attempt per upstream keeps a dead upstream from
        // holding server tasks for long.
        opts.timeout = Duration::from_secs(2);
        opts.attempts = 1;
        opts.ndots = 0;
        let resolver = TokioResolver::builder_with_config(config, TokioRuntimeProvider::default())
            .with_options(opts)
            .build()
            .map_err(|source| DnsError::Upstreams {
                upstreams: upstreams.to_vec(),
                source,
            })?;
        Ok(Some(Self { resolver }))
    }

    pub async fn forward(&self, name: &Name, rtype: RecordType) -> Forwarded {
        let mut fqdn = name.clone();
        fqdn.set_fqdn(true);
        match self.resolver.lookup(fqdn, rtype).await {
            Ok(lookup) => Forwarded::Records(lookup.answers().to_vec()),
            Err(err) if err.is_nx_domain() => Forwarded::Code(ResponseCode::NXDomain),
            Err(err) if err.is_no_records_found() => Forwarded::Records(Vec::new()),
            Err(err) => {
                tracing::debug!(%name, error = %err, "upstream lookup failed");
                Forwarded::Code(ResponseCode::ServFail)
            }
        }
    }
}
