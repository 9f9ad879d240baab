//! Names outside the cluster's domain go to the configured upstream resolvers.

use std::net::SocketAddr;
use std::time::Duration;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, Record, RecordType};
use hickory_proto::xfer::Protocol;
use hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::TokioResolver;

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
    pub fn new(upstreams: &[SocketAddr]) -> Option<Self> {
        if upstreams.is_empty() {
            return None;
        }
        let mut config = ResolverConfig::new();
        for &addr in upstreams {
            config.add_name_server(NameServerConfig::new(addr, Protocol::Udp));
            config.add_name_server(NameServerConfig::new(addr, Protocol::Tcp));
        }
        let mut opts = ResolverOpts::default();
        // Clients retry themselves; one quick attempt per upstream keeps a dead upstream from
        // holding server tasks for long.
        opts.timeout = Duration::from_secs(2);
        opts.attempts = 1;
        opts.ndots = 0;
        let resolver =
            TokioResolver::builder_with_config(config, TokioConnectionProvider::default())
                .with_options(opts)
                .build();
        Some(Self { resolver })
    }

    pub async fn forward(&self, name: &Name, rtype: RecordType) -> Forwarded {
        let mut fqdn = name.clone();
        fqdn.set_fqdn(true);
        match self.resolver.lookup(fqdn, rtype).await {
            Ok(lookup) => Forwarded::Records(lookup.records().to_vec()),
            Err(err) if err.is_nx_domain() => Forwarded::Code(ResponseCode::NXDomain),
            Err(err) if err.is_no_records_found() => Forwarded::Records(Vec::new()),
            Err(err) => {
                tracing::debug!(%name, error = %err, "upstream lookup failed");
                Forwarded::Code(ResponseCode::ServFail)
            }
        }
    }
}
