//! A deployment: the change an API call made, tracked until the apps it touches converge.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::app::App;

/// Marathon's deployment actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeploymentAction {
    StartApplication,
    StopApplication,
    ScaleApplication,
    RestartApplication,
}

impl DeploymentAction {
    pub fn as_str(self) -> &'static str {
        match self {
            DeploymentAction::StartApplication => "StartApplication",
            DeploymentAction::StopApplication => "StopApplication",
            DeploymentAction::ScaleApplication => "ScaleApplication",
            DeploymentAction::RestartApplication => "RestartApplication",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeploymentStep {
    pub action: DeploymentAction,
    pub app_id: String,
}

/// A deployment as stored. Steps are grouped by dependency order; each step's actions run together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deployment {
    pub id: String,
    pub version: String,
    pub steps: Vec<Vec<DeploymentStep>>,
    /// The apps as they were before, for a rollback (`None` = the app did not exist).
    pub previous: BTreeMap<String, Option<App>>,
}

impl Deployment {
    pub fn affected_apps(&self) -> Vec<String> {
        let mut apps: Vec<String> = self
            .steps
            .iter()
            .flatten()
            .map(|s| s.app_id.clone())
            .collect();
        apps.sort();
        apps.dedup();
        apps
    }

    pub fn affects(&self, app_id: &str) -> bool {
        self.steps.iter().flatten().any(|s| s.app_id == app_id)
    }

    /// Marathon's deployment JSON; `current_step` is 1-based.
    pub fn to_marathon_json(&self, current_step: usize) -> Value {
        let action = |s: &DeploymentStep| json!({"action": s.action.as_str(), "app": s.app_id});
        let current = self
            .steps
            .get(current_step.saturating_sub(1))
            .cloned()
            .unwrap_or_default();
        json!({
            "id": self.id,
            "version": self.version,
            "affectedApps": self.affected_apps(),
            "affectedPods": [],
            "steps": self.steps.iter().map(|step| json!({"actions": step.iter().map(action).collect::<Vec<_>>()})).collect::<Vec<_>>(),
            "currentActions": current.iter().map(|s| json!({"action": s.action.as_str(), "app": s.app_id, "readinessCheckResults": []})).collect::<Vec<_>>(),
            "currentStep": current_step,
            "totalSteps": self.steps.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marathon_json_lists_steps_and_current_actions() {
        let deployment = Deployment {
            id: "d1".into(),
            version: "2015-09-29T15:59:51.164Z".into(),
            steps: vec![vec![DeploymentStep {
                action: DeploymentAction::StartApplication,
                app_id: "/a".into(),
            }]],
            previous: BTreeMap::new(),
        };
        let json = deployment.to_marathon_json(1);
        assert_eq!(json["affectedApps"], json!(["/a"]));
        assert_eq!(json["currentActions"][0]["action"], "StartApplication");
        assert_eq!(json["totalSteps"], 1);
    }
}
