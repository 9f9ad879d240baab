//! [`Action`]: the ordered phase list of each job kind. Masters go before agents, and agents
//! only start when every master is healthy.
//!
//! | kind | phases |
//! |---|---|
//! | preflight | connect, detect OS, gather facts, preflight checks |
//! | deploy | the preflight phases, install masters, wait for masters, install agents, wait for agents |
//! | postflight | connect, check masters, check agents, check the masters' leader (3+ masters), check the cluster |
//! | uninstall | connect, uninstall agents, uninstall masters |
//! | upgrade | pre-checks (connect, OS, facts, masters, agents, leader, cluster: any failure ends the job), plan (versions, skew rules), upgrade masters (one at a time, leader last), agents and public agents (in batches), check the cluster |

use strato_api::JobKind;

use strato_api::Role;

use crate::phase::{Phase, AGENT_ROLES, MASTER_ROLES};
use crate::phases::{
    CheckCluster, CheckLeader, Connect, DetectOs, GatherFacts, InstallNodes, PlanUpgrade, PreCheck,
    RunPreflight, UninstallNodes, UpgradeNodes, WaitHealthy,
};
use crate::timeouts::{POSTFLIGHT_TIMEOUT, SERVICE_HEALTHY_TIMEOUT, UPGRADE_PRECHECK_TIMEOUT};

/// An ordered list of phases. The list is public so a library user can insert or replace
/// phases (k0sctl's `Phases` helpers).
pub struct Action {
    pub kind: JobKind,
    pub phases: Vec<Box<dyn Phase>>,
}

impl Action {
    /// The standard phases of `kind`.
    pub fn for_kind(kind: JobKind) -> Action {
        let front = || -> Vec<Box<dyn Phase>> {
            vec![
                Box::new(Connect),
                Box::new(DetectOs),
                Box::new(GatherFacts),
                Box::new(RunPreflight),
            ]
        };
        let phases: Vec<Box<dyn Phase>> = match kind {
            JobKind::Preflight => front(),
            JobKind::Deploy => {
                let mut p = front();
                p.push(Box::new(InstallNodes::new("Install masters", MASTER_ROLES)));
                p.push(Box::new(WaitHealthy::new(
                    "Wait for masters",
                    MASTER_ROLES,
                    SERVICE_HEALTHY_TIMEOUT,
                    true,
                )));
                p.push(Box::new(
                    InstallNodes::new("Install agents", AGENT_ROLES).after_masters(),
                ));
                p.push(Box::new(WaitHealthy::new(
                    "Wait for agents",
                    AGENT_ROLES,
                    SERVICE_HEALTHY_TIMEOUT,
                    true,
                )));
                p
            }
            JobKind::Postflight => vec![
                Box::new(Connect),
                Box::new(WaitHealthy::new(
                    "Check masters",
                    MASTER_ROLES,
                    POSTFLIGHT_TIMEOUT,
                    false,
                )),
                Box::new(WaitHealthy::new(
                    "Check agents",
                    AGENT_ROLES,
                    POSTFLIGHT_TIMEOUT,
                    false,
                )),
                Box::new(CheckLeader),
                Box::new(CheckCluster),
            ],
            JobKind::Uninstall => vec![
                Box::new(Connect),
                Box::new(UninstallNodes::new("Uninstall agents", AGENT_ROLES)),
                Box::new(UninstallNodes::new("Uninstall masters", MASTER_ROLES)),
            ],
            JobKind::Upgrade => vec![
                Box::new(PreCheck::new("Connect to hosts", Connect)),
                Box::new(PreCheck::new("Detect host operating systems", DetectOs)),
                Box::new(PreCheck::new("Gather host facts", GatherFacts)),
                Box::new(PreCheck::new(
                    "Check masters before the upgrade",
                    WaitHealthy::new("-", MASTER_ROLES, UPGRADE_PRECHECK_TIMEOUT, false),
                )),
                Box::new(PreCheck::new(
                    "Check agents before the upgrade",
                    WaitHealthy::new("-", AGENT_ROLES, UPGRADE_PRECHECK_TIMEOUT, false),
                )),
                Box::new(PreCheck::new(
                    "Check the masters' leader before the upgrade",
                    CheckLeader,
                )),
                Box::new(PreCheck::new(
                    "Check the cluster before the upgrade",
                    CheckCluster,
                )),
                Box::new(PlanUpgrade),
                Box::new(UpgradeNodes::new("Upgrade masters", MASTER_ROLES)),
                Box::new(UpgradeNodes::new("Upgrade agents", &[Role::Agent])),
                Box::new(UpgradeNodes::new(
                    "Upgrade public agents",
                    &[Role::PublicAgent],
                )),
                Box::new(CheckCluster),
            ],
        };
        Action { kind, phases }
    }

    /// The phase titles, in order.
    pub fn titles(&self) -> Vec<&str> {
        self.phases.iter().map(|p| p.title()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_has_unique_non_empty_titles() {
        for kind in JobKind::ALL {
            let action = Action::for_kind(kind);
            let titles = action.titles();
            let mut unique = titles.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(unique.len(), titles.len(), "{kind}: {titles:?}");
            assert!(titles.iter().all(|t| !t.is_empty()));
        }
    }

    #[test]
    fn deploy_installs_masters_before_agents() {
        let action = Action::for_kind(JobKind::Deploy);
        let titles = action.titles();
        assert_eq!(
            titles,
            vec![
                "Connect to hosts",
                "Detect host operating systems",
                "Gather host facts",
                "Run preflight checks",
                "Install masters",
                "Wait for masters",
                "Install agents",
                "Wait for agents",
            ]
        );
    }
}
