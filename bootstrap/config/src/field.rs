//! Validators for single values, shared by `strato validate` and the `strato init` wizard (which
//! checks each answer as it is typed). Each returns a lower-case message without a trailing period.
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// Longest cluster name: one DNS label.
pub const MAX_CLUSTER_NAME: usize = 63;

/// `demo`, `prod-eu-1`: lower-case letters, digits and `-`, starting with a letter, not ending with
/// `-`, at most 63 characters (it is used in DNS names and cloud resource names).
pub fn cluster_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("must not be empty".into());
    }
    if name.len() > MAX_CLUSTER_NAME {
        return Err(format!(
            "must be at most {MAX_CLUSTER_NAME} characters, got {}",
            name.len()
        ));
    }
    let ok_chars = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let starts = name.as_bytes()[0].is_ascii_lowercase();
    if !ok_chars || !starts || name.ends_with('-') {
        return Err(format!(
            "`{name}` must use lower-case letters, digits and `-`, start with a letter and not end with `-`"
        ));
    }
    Ok(())
}

/// A Unix user name useradd accepts everywhere: a lower-case letter or `_`, then lower-case
/// letters, digits, `_` or `-`, at most 32 characters (the portable form of POSIX and shadow-utils).
pub fn user_name(name: &str) -> Result<(), String> {
    let mut bytes = name.bytes();
    let first_ok = bytes
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b == b'_');
    let rest_ok =
        bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if !first_ok || !rest_ok || name.len() > 32 {
        return Err(format!(
            "`{name}` is not a user name: a lower-case letter or `_`, then lower-case letters, digits, `_` or `-`, at most 32 characters"
        ));
    }
    Ok(())
}

/// An IPv4 address, an IPv6 address, or a host name (RFC 1123).
pub fn address(text: &str) -> Result<(), String> {
    if text.is_empty() {
        return Err("must not be empty".into());
    }
    if text.parse::<IpAddr>().is_ok() {
        return Ok(());
    }
    let looks_numeric = text
        .split('.')
        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if looks_numeric {
        return Err(format!("`{text}` is not a valid IPv4 address"));
    }
    if text.contains(':') {
        return Err(format!(
            "`{text}` is not a valid address (give the SSH port as `port:` in a host mapping)"
        ));
    }
    hostname(text)
        .map_err(|why| format!("`{text}` is not an IP address or a valid host name: {why}"))
}

pub(crate) fn hostname(text: &str) -> Result<(), &'static str> {
    if text.len() > 253 {
        return Err("longer than 253 characters");
    }
    for label in text.trim_end_matches('.').split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err("each dot-separated part must be 1-63 characters");
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err("only letters, digits, `-` and `.` are allowed");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err("a part may not start or end with `-`");
        }
    }
    Ok(())
}

/// A TCP port, 1-65535.
pub fn port(text: &str) -> Result<u16, String> {
    match text.trim().parse::<u32>() {
        Ok(p @ 1..=65535) => Ok(p as u16),
        Ok(p) => Err(format!("must be between 1 and 65535, got {p}")),
        Err(_) => Err(format!("`{text}` is not a port number")),
    }
}

/// A DNS resolver: `IP` or `IP:PORT` (IPv6 with a port as `[IP]:PORT`).
pub fn resolver(text: &str) -> Result<(), String> {
    if text.parse::<IpAddr>().is_ok() {
        return Ok(());
    }
    if let Ok(sock) = text.parse::<SocketAddr>() {
        return if sock.port() == 0 {
            Err("port must be between 1 and 65535, got 0".into())
        } else {
            Ok(())
        };
    }
    if let Some((ip, p)) = text.rsplit_once(':') {
        if ip.parse::<Ipv4Addr>().is_ok() {
            return port(p).map(|_| ()).map_err(|e| format!("port {e}"));
        }
    }
    Err(format!("`{text}` is not `IP` or `IP:PORT`"))
}

/// A network in CIDR notation (`203.0.113.0/24`, `2001:db8::/32`).
pub fn cidr(text: &str) -> Result<(), String> {
    match text.parse::<ipnet::IpNet>() {
        Ok(net) if net.trunc() == net => Ok(()),
        Ok(net) => Err(format!(
            "`{text}` has host bits set; did you mean `{}`?",
            net.trunc()
        )),
        Err(_) => Err(format!(
            "`{text}` is not a network in CIDR notation (like 203.0.113.0/24)"
        )),
    }
}

/// A DNS domain such as `strato` or `cluster.example.com`.
pub fn domain(text: &str) -> Result<(), String> {
    if text.parse::<IpAddr>().is_ok() {
        return Err(format!("`{text}` is an IP address, not a domain"));
    }
    hostname(text).map_err(|why| format!("`{text}` is not a valid domain: {why}"))
}

/// A network interface name such as `eth0` or `ens192` (Linux allows at most 15 characters).
pub fn interface(text: &str) -> Result<(), String> {
    let ok = !text.is_empty()
        && text.len() <= 15
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'@'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{text}` is not `route`, an interface name (like eth0) or a script path containing `/`"
        ))
    }
}

/// A list of hosts typed on one line: `10.0.0.1, 10.0.0.2 node3`. Each must be a valid address and
/// appear once. An empty line is an empty list.
pub fn host_list(text: &str) -> Result<Vec<String>, String> {
    let hosts: Vec<String> = text
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    for (i, host) in hosts.iter().enumerate() {
        address(host)?;
        if hosts[..i].contains(host) {
            return Err(format!("`{host}` is listed twice"));
        }
    }
    Ok(hosts)
}

/// A runtime version: `MAJOR.MINOR.PATCH` with an optional `-PRERELEASE`.
pub fn version(text: &str) -> Result<(), String> {
    let core = text.split_once('-').map_or(text, |(core, _)| core);
    let parts: Vec<&str> = core.split('.').collect();
    let numeric = parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if numeric && !text.ends_with('-') {
        Ok(())
    } else {
        Err(format!("`{text}` is not a version like 1.2.3"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names_are_the_portable_form() {
        for ok in ["strato-task", "nobody", "_svc", "app1"] {
            assert!(user_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "Root", "1abc", "a b", "a;rm", &"a".repeat(33)] {
            assert!(user_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cluster_name_accepts_dns_labels_only() {
        assert!(cluster_name("demo-1").is_ok());
        assert!(cluster_name("Demo").is_err());
        assert!(cluster_name("1demo").is_err());
        assert!(cluster_name("demo-").is_err());
        assert!(cluster_name("").is_err());
        assert!(cluster_name(&"a".repeat(64)).is_err());
    }

    #[test]
    fn address_accepts_ips_and_host_names() {
        for ok in [
            "10.0.0.1",
            "::1",
            "fe80::1",
            "node-1",
            "node1.example.com",
            "localhost",
        ] {
            assert!(address(ok).is_ok(), "{ok}");
        }
        for bad in [
            "10.0.0.256",
            "10.0.0",
            "<master-ip>",
            "-node",
            "a..b",
            "10.0.0.1:22",
            "",
        ] {
            assert!(address(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn port_and_resolver_check_ranges() {
        assert_eq!(port("22"), Ok(22));
        assert!(port("0").is_err());
        assert!(port("65536").is_err());
        assert!(resolver("8.8.8.8").is_ok());
        assert!(resolver("10.0.0.2:5353").is_ok());
        assert!(resolver("[2001:db8::1]:53").is_ok());
        assert!(resolver("10.0.0.2:0").is_err());
        assert!(resolver("10.0.0.2:99999").is_err());
        assert!(resolver("dns.example.com").is_err());
    }

    #[test]
    fn cidr_rejects_host_bits_and_garbage() {
        assert!(cidr("203.0.113.0/24").is_ok());
        assert!(cidr("0.0.0.0/0").is_ok());
        let err = cidr("203.0.113.7/24").expect_err("host bits");
        assert!(err.contains("203.0.113.0/24"), "{err}");
        assert!(cidr("203.0.113.0").is_err());
    }

    #[test]
    fn host_list_splits_on_commas_and_spaces() {
        assert_eq!(
            host_list("10.0.0.1, 10.0.0.2 node3").expect("valid"),
            vec!["10.0.0.1", "10.0.0.2", "node3"]
        );
        assert_eq!(host_list("  ").expect("empty"), Vec::<String>::new());
        assert!(host_list("10.0.0.1, 10.0.0.1").is_err());
        assert!(host_list("10.0.0.1, 10.0.0.999").is_err());
    }

    #[test]
    fn version_wants_three_numbers() {
        assert!(version("1.2.3").is_ok());
        assert!(version("0.1.0-rc.1").is_ok());
        assert!(version("1.2").is_err());
        assert!(version("v1.2.3").is_err());
    }
}
