//! Machine sizes the cloud layer knows: per-provider defaults, and CPU/memory of common sizes so
//! `strato validate` can tell when an instance type is below the chosen hardware profile.
//!
//! Sizes not in the table are accepted (the provider rejects unknown ones at create time); the
//! table only lets us warn early about known ones that are too small.
use crate::spec::ProviderKind;

/// Default instance types per role.
pub struct DefaultTypes {
    pub bootstrap: &'static str,
    pub master: &'static str,
    pub agent: &'static str,
    pub public_agent: &'static str,
}

pub fn default_instance_types(provider: ProviderKind) -> DefaultTypes {
    match provider {
        ProviderKind::Aws => DefaultTypes {
            bootstrap: "m5.large",
            master: "m5.2xlarge",
            agent: "m5.xlarge",
            public_agent: "m5.xlarge",
        },
        ProviderKind::Azure => DefaultTypes {
            bootstrap: "Standard_D2s_v5",
            master: "Standard_D8s_v5",
            agent: "Standard_D4s_v5",
            public_agent: "Standard_D4s_v5",
        },
        ProviderKind::Gcp => DefaultTypes {
            bootstrap: "e2-standard-2",
            master: "e2-standard-8",
            agent: "e2-standard-4",
            public_agent: "e2-standard-4",
        },
    }
}

/// vCPUs and memory of one size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Size {
    pub cpus: u32,
    pub memory_gib: f32,
}

/// (name, vCPU, GiB) per provider. Common general-purpose and burstable families only.
const AWS: &[(&str, u32, f32)] = &[
    ("t3.micro", 2, 1.0),
    ("t3.small", 2, 2.0),
    ("t3.medium", 2, 4.0),
    ("t3.large", 2, 8.0),
    ("t3.xlarge", 4, 16.0),
    ("t3.2xlarge", 8, 32.0),
    ("m5.large", 2, 8.0),
    ("m5.xlarge", 4, 16.0),
    ("m5.2xlarge", 8, 32.0),
    ("m5.4xlarge", 16, 64.0),
    ("m6i.large", 2, 8.0),
    ("m6i.xlarge", 4, 16.0),
    ("m6i.2xlarge", 8, 32.0),
    ("m6i.4xlarge", 16, 64.0),
    ("m7i.large", 2, 8.0),
    ("m7i.xlarge", 4, 16.0),
    ("m7i.2xlarge", 8, 32.0),
    ("r5.large", 2, 16.0),
    ("r5.xlarge", 4, 32.0),
    ("r5.2xlarge", 8, 64.0),
    ("c5.large", 2, 4.0),
    ("c5.xlarge", 4, 8.0),
    ("c5.2xlarge", 8, 16.0),
];
const AZURE: &[(&str, u32, f32)] = &[
    ("Standard_B2s", 2, 4.0),
    ("Standard_B2ms", 2, 8.0),
    ("Standard_B4ms", 4, 16.0),
    ("Standard_B8ms", 8, 32.0),
    ("Standard_D2s_v3", 2, 8.0),
    ("Standard_D4s_v3", 4, 16.0),
    ("Standard_D8s_v3", 8, 32.0),
    ("Standard_D2s_v5", 2, 8.0),
    ("Standard_D4s_v5", 4, 16.0),
    ("Standard_D8s_v5", 8, 32.0),
    ("Standard_D16s_v5", 16, 64.0),
    ("Standard_E4s_v5", 4, 32.0),
    ("Standard_E8s_v5", 8, 64.0),
];
const GCP: &[(&str, u32, f32)] = &[
    ("e2-medium", 2, 4.0),
    ("e2-standard-2", 2, 8.0),
    ("e2-standard-4", 4, 16.0),
    ("e2-standard-8", 8, 32.0),
    ("e2-standard-16", 16, 64.0),
    ("e2-highmem-4", 4, 32.0),
    ("n1-standard-2", 2, 7.5),
    ("n1-standard-4", 4, 15.0),
    ("n1-standard-8", 8, 30.0),
    ("n2-standard-2", 2, 8.0),
    ("n2-standard-4", 4, 16.0),
    ("n2-standard-8", 8, 32.0),
    ("n2-highmem-4", 4, 32.0),
];

/// CPU and memory of `name`, when the table knows it.
pub fn lookup(provider: ProviderKind, name: &str) -> Option<Size> {
    let table = match provider {
        ProviderKind::Aws => AWS,
        ProviderKind::Azure => AZURE,
        ProviderKind::Gcp => GCP,
    };
    table
        .iter()
        .find(|(n, _, _)| n.eq_ignore_ascii_case(name))
        .map(|&(_, cpus, memory_gib)| Size { cpus, memory_gib })
}

/// What a role needs (from the cluster's hardware profile).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Need {
    pub cpus: u32,
    pub memory_gib: f32,
}

/// `None` when `name` meets `need` or is unknown; otherwise a sentence saying what is short.
/// Memory gets 10 % slack: clouds sell "16 GiB" sizes that report a little less.
pub fn shortfall(provider: ProviderKind, name: &str, need: Need) -> Option<String> {
    let size = lookup(provider, name)?;
    let short_cpu = size.cpus < need.cpus;
    let short_mem = size.memory_gib < need.memory_gib * 0.9;
    (short_cpu || short_mem).then(|| {
        format!(
            "{name} has {} vCPU / {} GiB; the hardware profile needs {} vCPU / {} GiB",
            size.cpus, size.memory_gib, need.cpus, need.memory_gib
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_small_size_is_reported_and_big_or_unknown_is_not() {
        let production_master = Need {
            cpus: 4,
            memory_gib: 32.0,
        };
        let msg = shortfall(ProviderKind::Aws, "m5.xlarge", production_master)
            .expect("m5.xlarge is 16 GiB");
        assert!(msg.contains("4 vCPU / 16 GiB"), "{msg}");
        assert_eq!(
            shortfall(ProviderKind::Aws, "m5.2xlarge", production_master),
            None
        );
        assert_eq!(
            shortfall(ProviderKind::Gcp, "n1-standard-8", production_master),
            None,
            "30 GiB is within slack"
        );
        assert_eq!(
            shortfall(ProviderKind::Azure, "Standard_Q99", production_master),
            None
        );
    }
}
