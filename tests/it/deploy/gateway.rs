//! The gateway (Admin Router) on a deployed master, as operators and their tools reach it: what
//! answers without a token, `strato login` with the generated admin password, the Marathon API
//! through `/service/marathon` for curl, marathon-python and the DC/OS CLI from PyPI, an app at
//! `/service/<name>/`, the dashboard's login in headless Chromium, bad tokens and headers, and
//! `strato token revoke`. Runs on the cluster `deploy_runs_an_app_on_real_nodes…` made.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};

use super::poll;
use crate::common::nodes::Nodes;

/// Answer 401 without a token (a route of each kind the gateway serves).
const PROTECTED: [(&str, &str); 14] = [
    ("GET", "/"),
    ("GET", "/ui/app.js"),
    ("GET", "/marathon/v2/apps"),
    ("GET", "/service/marathon/v2/apps"),
    ("POST", "/service/marathon/v2/apps/"),
    ("DELETE", "/service/marathon/v2/apps/web"),
    ("GET", "/mesos/master/state"),
    ("GET", "/mesos/state-summary"),
    ("GET", "/mesos_dns/v1/enumerate"),
    ("GET", "/service/web/"),
    ("GET", "/system/health/v1/nodes"),
    ("GET", "/strato/v1/ha"),
    ("POST", "/strato/v1/tokens/revoke"),
    ("GET", "/metrics"),
];

/// Answer anyone: health, metadata, login.
const OPEN: [&str; 6] = [
    "/system/health/v1",
    "/dcos-metadata/dcos-version.json",
    "/metadata",
    "/login",
    "/ca/dcos-ca.crt",
    "/health",
];

fn pki(dir: &Path) -> std::path::PathBuf {
    dir.join(".strato/pki")
}

/// HTTPS trusting only the cluster CA; redirects are shown, not followed.
fn client(dir: &Path) -> reqwest::blocking::Client {
    let pem = std::fs::read(pki(dir).join("ca.crt")).expect("cluster CA");
    strato_tls::blocking_client_builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&pem).expect("CA")])
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client")
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

pub(super) fn check_the_gateway(dir: &Path, config: &Path, nodes: &Nodes) {
    let master = nodes.node("master-1").ip.clone();
    let gw = format!("https://{master}");
    let http = client(dir);

    // Without a token: 401 (DC/OS's `WWW-Authenticate: acsjwt`) on every route but the open ones.
    for (method, path) in PROTECTED {
        let response = http
            .request(method.parse().expect("method"), format!("{gw}{path}"))
            .header("Content-Type", "application/json")
            .body("{}")
            .send()
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        assert_eq!(response.status().as_u16(), 401, "{method} {path}");
        assert_eq!(response.headers()["www-authenticate"], "acsjwt", "{path}");
    }
    for path in OPEN {
        let response = http.get(format!("{gw}{path}")).send().expect(path);
        assert_eq!(response.status().as_u16(), 200, "{path}");
    }
    let metadata: Value = http
        .get(format!("{gw}/metadata"))
        .send()
        .and_then(|r| r.json())
        .expect("metadata");
    assert_eq!(metadata["PUBLIC_IPV4"], master.as_str());
    // Plain HTTP only sends browsers to HTTPS.
    let plain = strato_tls::blocking_client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("plain client");
    let redirect = plain
        .get(format!("http://{master}/marathon/v2/apps?x=1"))
        .send()
        .expect("http");
    assert_eq!(redirect.status().as_u16(), 308);
    assert_eq!(
        redirect.headers()["location"],
        format!("https://{master}/marathon/v2/apps?x=1").as_str()
    );

    // `strato login` with the admin password `strato deploy` generated.
    let password = std::fs::read_to_string(pki(dir).join("admin-password"))
        .expect("admin password")
        .trim()
        .to_string();
    let out = crate::common::strato()
        .args(["login", "-c"])
        .arg(config)
        .env("STRATO_PASSWORD", &password)
        .timeout(Duration::from_secs(60))
        .output()
        .expect("strato login");
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "strato login: {said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains(&format!("Logged in to {gw} as admin")),
        "{said}"
    );
    assert!(!said.contains(&password), "the password was printed");
    let token_file = dir.join(".strato/token");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&token_file)
            .expect("token")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the token file is private");
    }
    let token = std::fs::read_to_string(&token_file)
        .expect("token")
        .trim()
        .to_string();
    let auth = format!("token={token}");

    // curl with the token, as scripts do.
    let curl = Command::new("curl")
        .args(["-fsS", "--cacert"])
        .arg(pki(dir).join("ca.crt"))
        .args(["-H", &format!("Authorization: {auth}")])
        .arg(format!("{gw}/service/marathon/v2/info"))
        .output()
        .expect("curl");
    let info: Value = serde_json::from_slice(&curl.stdout).unwrap_or(Value::Null);
    assert_eq!(
        info["name"],
        "marathon",
        "{}",
        String::from_utf8_lossy(&curl.stderr)
    );

    // /service/web/ reaches the app labelled DCOS_SERVICE_NAME=web (python's http.server).
    let page = http
        .get(format!("{gw}/service/web/"))
        .header("Authorization", &auth)
        .send()
        .expect("service web");
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.text().expect("page").contains("Directory listing"));

    // Mesos, DNS and node health through their DC/OS paths.
    let get = |path: &str| -> Value {
        http.get(format!("{gw}{path}"))
            .header("Authorization", &auth)
            .send()
            .and_then(|r| r.error_for_status())
            .and_then(|r| r.json())
            .unwrap_or_else(|e| panic!("{path}: {e}"))
    };
    assert_eq!(
        get("/mesos/master/slaves")["slaves"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    let hosts = get("/mesos_dns/v1/hosts/web.marathon.strato");
    assert!(hosts.as_array().is_some_and(|h| h.len() == 2), "{hosts}");
    let nodes_seen = get("/system/health/v1/nodes");
    assert_eq!(
        nodes_seen["nodes"].as_array().map(Vec::len),
        Some(3),
        "{nodes_seen}"
    );

    marathon_python(dir, &gw, &token);
    dcos_cli(dir, &gw, &password);
    let cluster = strato_config::load(config)
        .expect("cluster.yaml")
        .cluster_name;
    bad_input(dir, &cluster, &gw, &http, &auth);

    // `strato token revoke`: the kept token stops working on every route.
    let out = crate::common::strato()
        .args(["token", "revoke", "-c"])
        .arg(config)
        .timeout(Duration::from_secs(60))
        .output()
        .expect("strato token revoke");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!token_file.exists(), "the revoked token is forgotten");
    poll(Duration::from_secs(10), "the revoked token refused", || {
        let status = http
            .get(format!("{gw}/service/marathon/v2/apps"))
            .header("Authorization", &auth)
            .send()
            .ok()?
            .status();
        (status.as_u16() == 401).then_some(())
    });

    // Last: the browser logs in afresh, then deploys, scales, reads a task's output and destroys
    // an app through the gateway, with the session cookie alone.
    browser_login(dir, &gw, &password);
    crate::common::browser::dashboard_acts(
        &format!("{gw}/"),
        "/dash/hello",
        Some(("admin", &password)),
        &dir.join("dashboard-acting.png"),
    );
}

/// marathon-python (`auth_token`, verifying with the cluster CA) drives an app's lifecycle
/// through `/service/marathon`.
fn marathon_python(dir: &Path, gw: &str, token: &str) {
    let script = r#"
import sys, time
from marathon import MarathonClient, MarathonApp
url, token, ca = sys.argv[1:4]
c = MarathonClient(url, auth_token=token, verify=ca)
c.create_app("py-app", MarathonApp(cmd="sleep 600", cpus=0.1, mem=16, instances=1))
assert any(a.id == "/py-app" for a in c.list_apps()), "listed"
def running(n):
    deadline = time.time() + 90
    while not (c.get_app("py-app").tasks_running == n and not c.get_app("py-app").deployments):
        assert time.time() < deadline, f"{n} tasks running"
        time.sleep(0.5)
running(1)
c.scale_app("py-app", instances=2)
running(2)
c.delete_app("py-app", force=True)
print("ok")
"#;
    let python = crate::common::cluster::marathon_python();
    let out = Command::new(python)
        .args(["-c", script, &format!("{gw}/service/marathon"), token])
        .arg(pki(dir).join("ca.crt"))
        .output()
        .expect("python");
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("ok"),
        "marathon-python through the gateway: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The DC/OS CLI from PyPI: `cluster setup` with a login, then its Marathon commands.
fn dcos_cli(dir: &Path, gw: &str, password: &str) {
    let dcos = crate::common::repo_root().join(".venv/bin/dcos");
    assert!(
        dcos.exists(),
        "{} is missing: run tests/run (need_dcos_venv)",
        dcos.display()
    );
    let home = tempfile::tempdir().expect("home");
    let run = |args: &[&str]| -> (bool, String) {
        let mut cmd = Command::new(&dcos);
        cmd.args(args)
            .env("HOME", home.path())
            .env("DCOS_DIR", home.path().join("dcos"))
            .current_dir(home.path());
        for var in [
            "DCOS_URL",
            "DCOS_ACS_TOKEN",
            "DCOS_SSL_VERIFY",
            "DCOS_CLUSTER",
            "DCOS_MARATHON_URL",
        ] {
            cmd.env_remove(var);
        }
        let out = cmd.output().expect("dcos");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    };
    let ca = pki(dir).join("ca.crt");
    let (ok, said) = run(&[
        "cluster",
        "setup",
        gw,
        &format!("--ca-certs={}", ca.display()),
        "--username=admin",
        &format!("--password={password}"),
    ]);
    assert!(ok, "dcos cluster setup: {said}");
    let app = home.path().join("cli-app.json");
    std::fs::write(
        &app,
        json!({"id": "/cli-app", "cmd": "sleep 600", "cpus": 0.1, "mem": 16, "instances": 1})
            .to_string(),
    )
    .expect("app file");
    let (ok, said) = run(&["marathon", "app", "add", &app.display().to_string()]);
    assert!(
        ok && said.contains("Created deployment"),
        "dcos marathon app add: {said}"
    );
    let (ok, said) = run(&["marathon", "app", "list"]);
    assert!(
        ok && said.contains("/cli-app"),
        "dcos marathon app list: {said}"
    );
    let (ok, said) = run(&["marathon", "app", "show", "/cli-app"]);
    assert!(
        ok && said.contains("\"/cli-app\""),
        "dcos marathon app show: {said}"
    );
    let (ok, said) = run(&["marathon", "deployment", "list", "--json"]);
    assert!(ok, "dcos marathon deployment list: {said}");
    let (ok, said) = run(&["marathon", "app", "update", "/cli-app", "instances=2"]);
    assert!(ok, "dcos marathon app update: {said}");
    poll(
        Duration::from_secs(90),
        "two running /cli-app tasks in `dcos marathon task list`",
        || {
            let (ok, said) = run(&["marathon", "task", "list", "/cli-app", "--json"]);
            let tasks: Value = serde_json::from_str(said.trim()).ok()?;
            let running = tasks
                .as_array()?
                .iter()
                .filter(|t| t["appId"] == "/cli-app" && t["state"] == "TASK_RUNNING")
                .count();
            (ok && running == 2).then_some(())
        },
    );
    // And the table a person reads.
    let (ok, said) = run(&["marathon", "task", "list"]);
    assert!(
        ok && said.contains("/cli-app") && said.contains("HEALTHY"),
        "{said}"
    );
    let (ok, said) = run(&["marathon", "app", "remove", "/cli-app"]);
    assert!(ok, "dcos marathon app remove: {said}");
    poll(
        Duration::from_secs(30),
        "/cli-app gone from `dcos marathon app list`",
        || {
            let (ok, said) = run(&["marathon", "app", "list"]);
            (ok && !said.contains("/cli-app")).then_some(())
        },
    );
}

/// The dashboard's login page in headless Chromium: a wrong password shows the gateway's message,
/// the right one opens the dashboard (which shows /web), and the page keeps neither the password
/// nor a token a script could read.
fn browser_login(dir: &Path, gw: &str, password: &str) {
    let driver = crate::common::repo_root().join("tests/browser/login.mjs");
    let shot = dir.join("dashboard-after-login.png");
    let out = Command::new("node")
        .arg(&driver)
        .args([
            "--url",
            gw,
            "--user",
            "admin",
            "--password-env",
            "STRATO_TEST_PASSWORD",
        ])
        .args(["--expect", "/web", "--timeout-ms", "60000", "--screenshot"])
        .arg(&shot)
        .env("STRATO_TEST_PASSWORD", password)
        .env("CHROMIUM", crate::common::cluster::chromium())
        .output()
        .expect("node");
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "the dashboard login in Chromium: {report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: Value = serde_json::from_str(report.trim()).expect("driver JSON");
    assert_eq!(result["logged_in"], true, "{report}");
    assert_eq!(result["cookie_visible_to_script"], false, "{report}");
}

/// Wrong passwords, tokens that are expired or another cluster's, and an over-long header get
/// clear 4xx answers, and the gateway goes on serving.
fn bad_input(dir: &Path, cluster: &str, gw: &str, http: &reqwest::blocking::Client, auth: &str) {
    let wrong = http
        .post(format!("{gw}/acs/api/v1/auth/login"))
        .json(&json!({"uid": "admin", "password": "not-the-password"}))
        .send()
        .expect("login");
    assert_eq!(wrong.status().as_u16(), 401);
    let secret = std::fs::read(pki(dir).join("gateway-token.secret")).expect("secret");
    let ours = strato_gateway::TokenKey::new(secret.trim_ascii(), cluster).expect("key");
    let (expired, _) = ours.issue("admin", Duration::from_secs(60), now() - 3600);
    let theirs =
        strato_gateway::TokenKey::new(b"another cluster's token secret, 32+ bytes", cluster)
            .expect("key");
    let (foreign, _) = theirs.issue("admin", Duration::from_secs(3600), now());
    for (token, says) in [(expired, "expired"), (foreign, "not valid")] {
        let response = http
            .get(format!("{gw}/service/marathon/v2/apps"))
            .header("Authorization", format!("token={token}"))
            .send()
            .expect("request");
        assert_eq!(response.status().as_u16(), 401);
        let body: Value = response.json().expect("json");
        assert!(
            body["description"]
                .as_str()
                .is_some_and(|d| d.contains(says)),
            "{body}"
        );
    }
    let long = http
        .get(format!("{gw}/service/marathon/v2/apps"))
        .header("Authorization", auth)
        .header("X-Padding", "x".repeat(20_000))
        .send()
        .expect("long header");
    assert_eq!(long.status().as_u16(), 431);
    let alive = http
        .get(format!("{gw}/service/marathon/v2/apps"))
        .header("Authorization", auth)
        .send()
        .expect("alive");
    assert_eq!(alive.status().as_u16(), 200);
}

/// On a standby master: the admin logs in at its gateway, reads the apps and writes through it
/// (the standby's master forwards to the leader).
pub(super) fn a_standby_serves_the_same(dir: &Path, standby: &str, leader: &str) {
    let gw = format!("https://{standby}");
    let http = client(dir);
    let password = std::fs::read_to_string(pki(dir).join("admin-password"))
        .expect("admin password")
        .trim()
        .to_string();
    let login: Value = http
        .post(format!("{gw}/acs/api/v1/auth/login"))
        .json(&json!({"uid": "admin", "password": password}))
        .send()
        .and_then(|r| r.error_for_status())
        .and_then(|r| r.json())
        .expect("login at the standby's gateway");
    let auth = format!("token={}", login["token"].as_str().expect("token"));
    let named: Value = http
        .get(format!("{gw}/service/marathon/v2/leader"))
        .header("Authorization", &auth)
        .send()
        .and_then(|r| r.json())
        .expect("leader");
    assert_eq!(named["leader"], format!("{leader}:8080").as_str());
    let apps: Value = http
        .get(format!("{gw}/service/marathon/v2/apps"))
        .header("Authorization", &auth)
        .send()
        .and_then(|r| r.json())
        .expect("apps");
    assert!(
        apps["apps"]
            .as_array()
            .is_some_and(|a| a.iter().any(|a| a["id"] == "/web")),
        "{apps}"
    );
    let created = http
        .post(format!("{gw}/service/marathon/v2/apps"))
        .header("Authorization", &auth)
        .json(&json!({"id": "/via-standby", "cmd": "sleep 600", "cpus": 0.1, "mem": 16, "instances": 0}))
        .send()
        .expect("post through the standby");
    assert_eq!(
        created.status().as_u16(),
        201,
        "{}",
        created.text().unwrap_or_default()
    );
    let removed = http
        .delete(format!("{gw}/service/marathon/v2/apps/via-standby"))
        .header("Authorization", &auth)
        .send()
        .expect("delete through the standby");
    assert_eq!(removed.status().as_u16(), 200);
}
