//! The wizard's questions as data: what each asks, its flag, its default and its validator. The
//! validators are strato-config's (`field`), so an answer accepted here passes `strato validate`.
use std::collections::BTreeMap;

use strato_config::field;

pub use super::checks::split_list;
use super::checks::{
    agents, bootstrap, cloud_name, default_key, list, login_name, masters, resource_group, ssh_key,
};

/// Which answer a question fills; ordered as asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Key {
    Name,
    Platform,
    Region,
    Location,
    ResourceGroup,
    Project,
    Zone,
    AdminCidrs,
    Bootstrap,
    Masters,
    Agents,
    PublicAgents,
    SshUser,
    SshPort,
    SshKey,
    Hardware,
    Resolvers,
}

/// Answers so far, as typed or given by flags (trimmed).
pub type Draft = BTreeMap<Key, String>;

/// One choice of a select question: the value written to cluster.yaml and what the user sees.
#[derive(Debug)]
pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
}

#[derive(Debug)]
pub enum Kind {
    Text,
    Select(&'static [Choice]),
}

/// One question. `default` and `validate` see the earlier answers (e.g. the platform).
#[derive(Debug)]
pub struct Question {
    pub key: Key,
    /// The flag that answers it without asking (also `STRATO_INIT_<FLAG>`).
    pub flag: &'static str,
    pub prompt: &'static str,
    pub help: &'static str,
    pub kind: Kind,
    default: fn(&Draft) -> Option<String>,
    validate: fn(&str, &Draft) -> Result<(), String>,
    applies: fn(&Draft) -> bool,
}

impl Question {
    pub fn default(&self, draft: &Draft) -> Option<String> {
        (self.default)(draft)
    }

    /// Checks one answer; the message is shown under the prompt.
    pub fn validate(&self, answer: &str, draft: &Draft) -> Result<(), String> {
        if let Kind::Select(choices) = self.kind {
            if !choices.iter().any(|c| c.value == answer) {
                let names: Vec<&str> = choices.iter().map(|c| c.value).collect();
                return Err(format!("`{answer}` is not one of {}", names.join(", ")));
            }
        }
        (self.validate)(answer.trim(), draft)
    }

    /// Whether this question is asked at all, given the earlier answers.
    pub fn applies(&self, draft: &Draft) -> bool {
        (self.applies)(draft)
    }
}

pub const BARE_METAL: &str = "bare-metal";
pub const PLATFORMS: &[Choice] = &[
    Choice {
        value: BARE_METAL,
        label: "bare metal / machines you already have (SSH)",
    },
    Choice {
        value: "aws",
        label: "AWS: strato cloud create makes the machines",
    },
    Choice {
        value: "azure",
        label: "Azure: strato cloud create makes the machines",
    },
    Choice {
        value: "gcp",
        label: "Google Cloud: strato cloud create makes the machines",
    },
];
pub const HARDWARE: &[Choice] = &[
    Choice {
        value: "production",
        label:
            "production: DC/OS minimum (masters 4 CPU/32 GiB/120 GiB, agents 2 CPU/16 GiB/60 GiB)",
    },
    Choice {
        value: "minimal",
        label: "minimal: what the runtime needs (1 CPU/1 GiB/5 GiB), for tests and labs",
    },
];

pub fn platform(draft: &Draft) -> &str {
    draft.get(&Key::Platform).map_or(BARE_METAL, String::as_str)
}

pub fn is_cloud(draft: &Draft) -> bool {
    platform(draft) != BARE_METAL
}

fn always(_: &Draft) -> bool {
    true
}
fn none(_: &Draft) -> Option<String> {
    None
}
fn ok(_: &str, _: &Draft) -> Result<(), String> {
    Ok(())
}

/// Every question, in the order asked.
pub static QUESTIONS: &[Question] = &[
    Question {
        key: Key::Name,
        flag: "--name",
        prompt: "Cluster name",
        help: "lower-case letters, digits and -, e.g. demo",
        kind: Kind::Text,
        default: none,
        validate: |a, _| field::cluster_name(a),
        applies: always,
    },
    Question {
        key: Key::Platform,
        flag: "--platform",
        prompt: "Where do the nodes run?",
        help: "",
        kind: Kind::Select(PLATFORMS),
        default: |_| Some(BARE_METAL.into()),
        validate: ok,
        applies: always,
    },
    Question {
        key: Key::Region,
        flag: "--region",
        prompt: "AWS region",
        help: "e.g. us-east-1",
        kind: Kind::Text,
        default: none,
        validate: |a, _| cloud_name(a, "region"),
        applies: |d| platform(d) == "aws",
    },
    Question {
        key: Key::Location,
        flag: "--location",
        prompt: "Azure location",
        help: "e.g. westeurope",
        kind: Kind::Text,
        default: none,
        validate: |a, _| cloud_name(a, "location"),
        applies: |d| platform(d) == "azure",
    },
    Question {
        key: Key::ResourceGroup,
        flag: "--resource-group",
        prompt: "Azure resource group",
        help: "created if missing",
        kind: Kind::Text,
        default: |d| d.get(&Key::Name).map(|n| format!("strato-{n}")),
        validate: |a, _| resource_group(a),
        applies: |d| platform(d) == "azure",
    },
    Question {
        key: Key::Project,
        flag: "--project",
        prompt: "Google Cloud project id",
        help: "e.g. my-project-123",
        kind: Kind::Text,
        default: none,
        validate: |a, _| cloud_name(a, "project id"),
        applies: |d| platform(d) == "gcp",
    },
    Question {
        key: Key::Zone,
        flag: "--zone",
        prompt: "Google Cloud zone",
        help: "e.g. europe-west1-b",
        kind: Kind::Text,
        default: none,
        validate: |a, _| cloud_name(a, "zone"),
        applies: |d| platform(d) == "gcp",
    },
    Question {
        key: Key::AdminCidrs,
        flag: "--admin-cidrs",
        prompt: "Networks allowed to reach SSH and the dashboard",
        help: "CIDRs, comma-separated, e.g. 203.0.113.0/24",
        kind: Kind::Text,
        default: none,
        validate: |a, _| list(a, 1, field::cidr),
        applies: is_cloud,
    },
    Question {
        key: Key::Bootstrap,
        flag: "--bootstrap",
        prompt: "Bootstrap host (serves install files to nodes)",
        help: "an address, or `local` for this machine",
        kind: Kind::Text,
        default: |_| Some("local".into()),
        validate: |a, _| bootstrap(a),
        applies: |d| !is_cloud(d),
    },
    Question {
        key: Key::Masters,
        flag: "--masters",
        prompt: "Masters",
        help: "1, 3, 5, 7 or 9 addresses, comma-separated (cloud: how many)",
        kind: Kind::Text,
        default: |d| is_cloud(d).then(|| "1".into()),
        validate: masters,
        applies: always,
    },
    Question {
        key: Key::Agents,
        flag: "--agents",
        prompt: "Agents (run your apps)",
        help: "addresses, comma-separated; may be empty (cloud: how many)",
        kind: Kind::Text,
        default: |d| Some(if is_cloud(d) { "2" } else { "" }.into()),
        validate: |a, d| agents(a, d, &[Key::Masters]),
        applies: always,
    },
    Question {
        key: Key::PublicAgents,
        flag: "--public-agents",
        prompt: "Public agents (reachable from outside)",
        help: "addresses, comma-separated; may be empty (cloud: how many)",
        kind: Kind::Text,
        default: |d| Some(if is_cloud(d) { "0" } else { "" }.into()),
        validate: |a, d| agents(a, d, &[Key::Masters, Key::Agents]),
        applies: always,
    },
    Question {
        key: Key::SshUser,
        flag: "--ssh-user",
        prompt: "SSH user on the nodes",
        help: "needs passwordless sudo unless root",
        kind: Kind::Text,
        default: |d| {
            Some(
                if is_cloud(d) {
                    "strato"
                } else {
                    strato_config::Ssh::DEFAULT_USER
                }
                .into(),
            )
        },
        validate: |a, _| login_name(a),
        applies: always,
    },
    Question {
        key: Key::SshPort,
        flag: "--ssh-port",
        prompt: "SSH port",
        help: "",
        kind: Kind::Text,
        default: |_| Some(strato_config::Ssh::DEFAULT_PORT.to_string()),
        validate: |a, _| field::port(a).map(|_| ()),
        applies: always,
    },
    Question {
        key: Key::SshKey,
        flag: "--ssh-key",
        prompt: "SSH private key",
        help: "a file readable only by you (chmod 600)",
        kind: Kind::Text,
        default: |_| Some(default_key()),
        validate: ssh_key,
        applies: always,
    },
    Question {
        key: Key::Hardware,
        flag: "--hardware",
        prompt: "Hardware profile (checked by preflight)",
        help: "",
        kind: Kind::Select(HARDWARE),
        default: |_| Some("production".into()),
        validate: ok,
        applies: always,
    },
    Question {
        key: Key::Resolvers,
        flag: "--resolvers",
        prompt: "DNS resolvers",
        help: "IP or IP:PORT, comma-separated",
        kind: Kind::Text,
        default: |_| Some(strato_config::Network::DEFAULT_RESOLVERS.join(", ")),
        validate: |a, _| list(a, 1, field::resolver),
        applies: always,
    },
];
