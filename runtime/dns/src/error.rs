//! What starting or running the DNS server can fail with.

use std::net::SocketAddr;

#[derive(Debug, thiserror::Error)]
pub enum DnsError {
    #[error("{key} = {value:?} is not an IP address{}", if *key == "resolvers" { " (with an optional port)" } else { "" })]
    Address { key: &'static str, value: String },
    #[error("dns domain {domain:?} is not a valid DNS name")]
    Domain {
        domain: String,
        #[source]
        source: hickory_proto::ProtoError,
    },
    #[error("cannot listen for DNS on udp {addr}")]
    BindUdp {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot listen for DNS on tcp {addr}")]
    BindTcp {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the DNS server on {addr} stopped with an error")]
    Serve {
        addr: SocketAddr,
        #[source]
        source: hickory_server::net::NetError,
    },
    #[error("cannot set up forwarding to the upstream resolvers {upstreams:?}")]
    Upstreams {
        upstreams: Vec<SocketAddr>,
        #[source]
        source: hickory_server::net::NetError,
    },
}
