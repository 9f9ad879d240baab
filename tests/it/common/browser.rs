//! The dashboard driven in headless Chromium by tests/browser/dashboard.mjs (playwright-core),
//! as an operator uses it: straight on a local master, or behind the gateway's login.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// Runs the driver against `url` with `app_id` (which must not exist yet) and asserts what an
/// operator would see: a refused definition shows the API's own message and deploys nothing; the
/// editor deploys; Scale gives 3 tasks; a task's output view shows a line the task printed;
/// Restart replaces every task; Suspend scales to 0; Destroy asks, then the app is gone; a job
/// run with Run now shows SUCCESS and the line it printed, and Delete removes it. `login` is
/// (user, password) for the gateway's /login.
pub fn dashboard_acts(url: &str, app_id: &str, login: Option<(&str, &str)>, screenshot: &Path) {
    let driver = super::repo_root().join("tests/browser/dashboard.mjs");
    let mut cmd = Command::new("node");
    cmd.arg(&driver)
        .args(["--url", url, "--app-id", app_id, "--line", "dash-line"])
        .args(["--timeout-ms", "150000", "--screenshot"])
        .arg(screenshot)
        .env("CHROMIUM", super::cluster::chromium());
    if let Some((user, password)) = login {
        cmd.args(["--user", user, "--password-env", "STRATO_TEST_PASSWORD"])
            .env("STRATO_TEST_PASSWORD", password);
    }
    let out = cmd.output().expect("node");
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let result: Value = serde_json::from_str(report.trim())
        .unwrap_or_else(|e| panic!("driver output is not JSON ({e}): {report}\n{stderr}"));

    if login.is_some() {
        assert_eq!(result["logged_in"], true, "login: {report}\n{stderr}");
    }
    let refused = result["refused_message"].as_str().unwrap_or_default();
    assert!(
        !refused.is_empty(),
        "no message for a refused app: {report}\n{stderr}"
    );
    assert_eq!(
        refused, result["api_message"],
        "the page must show the API's own message: {report}"
    );
    assert_eq!(result["deployed_nothing"], true, "{report}");
    let broken = result["broken_message"].as_str().unwrap_or_default();
    assert!(
        !broken.is_empty() && broken != refused,
        "no message of its own for text that is not JSON: {report}\n{stderr}"
    );
    assert_eq!(
        broken, result["broken_api_message"],
        "the page must show the API's own message for broken JSON: {report}"
    );
    assert_eq!(result["broken_deployed_nothing"], true, "{report}");
    assert_eq!(
        result["deployed"], true,
        "deploy from the editor: {report}\n{stderr}"
    );
    assert_eq!(result["scaled_tasks"], 3, "scale to 3: {report}\n{stderr}");
    assert!(
        result["log_line"]
            .as_str()
            .is_some_and(|l| l.starts_with("dash-line-")),
        "the task's output: {report}\n{stderr}"
    );
    assert_eq!(result["restarted"], true, "restart: {report}\n{stderr}");
    assert_eq!(result["suspended"], true, "suspend: {report}\n{stderr}");
    assert_eq!(result["confirm_asked"], true, "{report}");
    assert_eq!(result["destroyed"], true, "destroy: {report}\n{stderr}");
    assert_eq!(result["job_succeeded"], true, "job run: {report}\n{stderr}");
    assert_eq!(
        result["job_output"], "dash-line-job",
        "job output: {report}\n{stderr}"
    );
    assert_eq!(
        result["job_deleted"], true,
        "job delete: {report}\n{stderr}"
    );
    assert!(out.status.success(), "{report}\n{stderr}");
}
