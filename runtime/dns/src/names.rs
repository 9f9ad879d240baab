//! Mesos-DNS naming: how an app id becomes a DNS label, and what a query name asks for.

use std::net::Ipv4Addr;

/// The framework label every Marathon app's names live under, as in Mesos-DNS.
pub const FRAMEWORK: &str = "marathon";

/// The DNS label for a Marathon app id, as Mesos-DNS derives it from Marathon's DiscoveryInfo
/// name: the path segments reversed and joined with `-` (`/group/app` → `app-group`), lower-cased,
/// with characters outside RFC 1123 (`a-z`, `0-9`, `-`) turned into `-` and the result trimmed to
/// 63 characters. `.` inside a segment also becomes `-`, as Mesos-DNS does for task labels.
pub fn app_label(app_id: &str) -> String {
    let reversed: Vec<&str> = app_id.split('/').filter(|s| !s.is_empty()).rev().collect();
    let joined = reversed.join("-").to_ascii_lowercase();
    let cleaned: String = joined
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let trimmed = cleaned.trim_matches('-');
    let mut label: String = trimmed.chars().take(63).collect();
    while label.ends_with('-') {
        label.pop();
    }
    label
}

/// The label naming one host under an app, used as SRV target: `<app>-<a>-<b>-<c>-<d>`.
pub fn host_label(app: &str, host: Ipv4Addr) -> String {
    let [a, b, c, d] = host.octets();
    format!("{app}-{a}-{b}-{c}-{d}")
}

/// What a query name inside the cluster's domain refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The zone apex, `<domain>`.
    Apex,
    /// `leader.<domain>`.
    Leader,
    /// `master.<domain>`.
    Masters,
    /// `<label>.marathon.<domain>`: the hosts of an app's running tasks.
    App(String),
    /// `<label>.marathon.slave.<domain>`: the agents running an app's tasks, or one agent by its
    /// [`host_label`] (SRV targets point here).
    AppAgent(String),
    /// `_<label>._<proto>.marathon.<domain>` (and the `.slave.` variant): the app's ports.
    Service { app: String, proto: String },
    /// Inside the domain but no name we serve.
    Unknown,
}

/// Splits a query name into what it asks for, or `None` when it lies outside `domain`.
/// `name` may carry the root dot; comparison ignores case.
pub fn classify(name: &str, domain: &str) -> Option<Target> {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    if name == domain {
        return Some(Target::Apex);
    }
    let rest = name.strip_suffix(&format!(".{domain}"))?;
    let labels: Vec<&str> = rest.split('.').collect();
    let target = match labels.as_slice() {
        ["leader"] => Target::Leader,
        ["master"] => Target::Masters,
        [svc, proto, FRAMEWORK] | [svc, proto, FRAMEWORK, "slave"] if is_service(svc, proto) => {
            Target::Service {
                app: svc[1..].to_string(),
                proto: proto[1..].to_string(),
            }
        }
        [app, FRAMEWORK] if !app.starts_with('_') => Target::App((*app).to_string()),
        [app, FRAMEWORK, "slave"] if !app.starts_with('_') => Target::AppAgent((*app).to_string()),
        _ => Target::Unknown,
    };
    Some(target)
}

fn is_service(svc: &str, proto: &str) -> bool {
    svc.len() > 1 && svc.starts_with('_') && proto.len() > 1 && proto.starts_with('_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_app_ids_are_reversed_and_joined_with_dashes() {
        assert_eq!(app_label("/web"), "web");
        assert_eq!(app_label("/prod/web"), "web-prod");
        assert_eq!(app_label("/a/b/c"), "c-b-a");
        assert_eq!(app_label("/My.App/x_y"), "x-y-my-app");
    }

    #[test]
    fn labels_are_cut_to_63_characters() {
        let long = format!("/{}", "a".repeat(80));
        assert_eq!(app_label(&long).len(), 63);
    }

    #[test]
    fn names_are_classified_case_insensitively() {
        let d = "strato";
        assert_eq!(classify("Leader.Strato.", d), Some(Target::Leader));
        assert_eq!(classify("master.strato", d), Some(Target::Masters));
        assert_eq!(
            classify("web-prod.marathon.strato.", d),
            Some(Target::App("web-prod".into()))
        );
        assert_eq!(
            classify("_web._tcp.marathon.strato.", d),
            Some(Target::Service {
                app: "web".into(),
                proto: "tcp".into()
            })
        );
        assert_eq!(
            classify("web-127-0-0-1.marathon.slave.strato.", d),
            Some(Target::AppAgent("web-127-0-0-1".into()))
        );
        assert_eq!(classify("strato.", d), Some(Target::Apex));
        assert_eq!(classify("nope.strato.", d), Some(Target::Unknown));
        assert_eq!(classify("example.com.", d), None);
        assert_eq!(classify("xstrato.", d), None);
    }
}
