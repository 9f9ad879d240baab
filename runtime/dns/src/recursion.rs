//! Who may have names outside the cluster's domain resolved through this server. Nodes live on
//! private networks (on premises and in every cloud VPC), so recursion is served to loopback,
//! private, shared-address (100.64/10, used by some clouds) and link-local clients only; anyone
//! else gets REFUSED, so a master reachable from the internet is not an open resolver (the
//! amplification vector). Names inside the domain are answered for everyone.

use std::net::IpAddr;

/// Whether `client` may use this server as a recursive resolver.
pub fn may_recurse(client: IpAddr) -> bool {
    match client {
        IpAddr::V4(ip) => {
            let [a, b, ..] = ip.octets();
            ip.is_loopback()
                || ip.is_private()
                || ip.is_link_local()
                || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(ip) => {
            let first = ip.segments()[0];
            ip.is_loopback()
                || (first & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
                || ip.to_ipv4_mapped().is_some_and(|v4| may_recurse(IpAddr::V4(v4)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_networks_may_recurse_and_the_internet_may_not() {
        for inside in [
            "127.0.0.1",
            "10.0.3.7",
            "172.16.0.9",
            "192.168.1.20",
            "100.64.0.5",
            "169.254.1.1",
            "::1",
            "fd00::12",
            "fe80::1",
            "::ffff:10.0.0.5",
        ] {
            assert!(may_recurse(inside.parse().expect("ip")), "{inside}");
        }
        for outside in [
            "8.8.8.8",
            "203.0.113.9",
            "100.128.0.1",
            "2001:db8::1",
            "::ffff:1.2.3.4",
        ] {
            assert!(!may_recurse(outside.parse().expect("ip")), "{outside}");
        }
    }
}
