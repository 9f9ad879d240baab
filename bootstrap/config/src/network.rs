//! [`Network`]: DNS resolvers, how a node finds its own IP address, and the cluster's DNS domain.
use std::fmt;
use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The `network:` section; every key has a default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Network {
    /// Upstream DNS servers for names outside the cluster, `IP` or `IP:PORT`. DC/OS's default.
    pub resolvers: Vec<String>,
    /// How each node finds the IP address it announces.
    pub ip_detect: IpDetect,
    /// DNS domain for names inside the cluster (`<app>.<domain>`).
    pub domain: String,
}

impl Network {
    pub const DEFAULT_RESOLVERS: [&'static str; 2] = ["8.8.8.8", "8.8.4.4"];
    pub const DEFAULT_DOMAIN: &'static str = "strato";
}

impl Default for Network {
    fn default() -> Self {
        Network {
            resolvers: Self::DEFAULT_RESOLVERS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            ip_detect: IpDetect::Route,
            domain: Self::DEFAULT_DOMAIN.into(),
        }
    }
}

/// `route` (the source address of the default route), an interface name (`eth0`), or the path of
/// a script that prints the address (anything containing `/`, as DC/OS's `ip-detect`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum IpDetect {
    #[default]
    Route,
    Interface(String),
    /// Relative paths are relative to the directory of cluster.yaml.
    Script(PathBuf),
}

impl IpDetect {
    pub fn parse(text: &str) -> IpDetect {
        if text == "route" {
            IpDetect::Route
        } else if text.contains('/') || text.contains('\\') {
            IpDetect::Script(PathBuf::from(text))
        } else {
            IpDetect::Interface(text.to_string())
        }
    }
}

impl fmt::Display for IpDetect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IpDetect::Route => f.write_str("route"),
            IpDetect::Interface(name) => f.write_str(name),
            IpDetect::Script(path) => write!(f, "{}", path.display()),
        }
    }
}

impl Serialize for IpDetect {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for IpDetect {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|s| IpDetect::parse(&s))
    }
}

impl JsonSchema for IpDetect {
    fn schema_name() -> String {
        "IpDetect".into()
    }

    fn json_schema(gen: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
        let mut schema = String::json_schema(gen).into_object();
        schema.metadata().description = Some(
            "`route`, an interface name such as `eth0`, or a script path containing `/`".into(),
        );
        schema.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_detect_parse_tells_interfaces_from_scripts() {
        assert_eq!(IpDetect::parse("route"), IpDetect::Route);
        assert_eq!(IpDetect::parse("eth0"), IpDetect::Interface("eth0".into()));
        assert_eq!(
            IpDetect::parse("./ip-detect"),
            IpDetect::Script("./ip-detect".into())
        );
    }
}
