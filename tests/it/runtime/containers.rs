//! Apps in containers on `strato up --local` with the machine's Docker engine: a BRIDGE app
//! serves HTTP on the host port the API reports, a HOST app on its `PORT0`, scaling leaves exactly
//! as many containers (found by the task labels), deleting removes them, and an image that cannot
//! be pulled fails the task with the engine's reason; a job's run with an image runs in a
//! container. The image is made offline: `docker import`
//! of a rootfs holding Debian's static busybox (`tests/container-image.sh`).

use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};

use crate::common::cluster::{wait_until, LocalCluster};

const IMAGE: &str = "strato-test-busybox:1";

fn image() {
    crate::common::container_image(IMAGE);
}

/// Ids of `app`'s running containers, found by the task label.
fn container_ids(app: &str) -> Vec<String> {
    let out = Command::new("docker")
        .args([
            "ps",
            "-q",
            "--filter",
            &format!("label=strato.app-id={app}"),
        ])
        .output()
        .expect("docker ps");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

fn containers_of(app: &str) -> usize {
    container_ids(app).len()
}

/// The page at `http://127.0.0.1:port/`, if it answers.
pub(super) fn fetch(port: u64) -> Option<String> {
    let client = strato_tls::blocking_client_builder()
        .timeout(Duration::from_secs(5))
        .build()
        .ok()?;
    client
        .get(format!("http://127.0.0.1:{port}/"))
        .send()
        .ok()?
        .text()
        .ok()
}

fn first_port(app: &Value) -> u64 {
    app["tasks"][0]["ports"][0].as_u64().expect("a host port")
}

#[test]
fn docker_apps_run_serve_scale_and_fail_with_the_engines_reason() {
    image();
    let scratch = tempfile::tempdir().expect("tempdir");
    let cluster = LocalCluster::start_with(
        &scratch.path().join("data"),
        &[],
        &["--container-parameters", "label,cap-drop"],
    );

    // BRIDGE: container port 8080 published on the host port Marathon assigned.
    let bridge = json!({
        "id": "/ctr-web",
        "cmd": "httpd -f -p 8080 -h /www",
        "cpus": 0.1, "mem": 32, "instances": 1,
        "container": {"type": "DOCKER", "docker": {"image": IMAGE},
                      "portMappings": [{"containerPort": 8080, "hostPort": 0, "protocol": "tcp",
                                        "name": "http"}]},
        "networks": [{"mode": "container/bridge"}],
        // Checked on the mapped host port.
        "healthChecks": [{"protocol": "HTTP", "path": "/health", "portIndex": 0,
                          "intervalSeconds": 1, "timeoutSeconds": 1,
                          "gracePeriodSeconds": 10, "maxConsecutiveFailures": 2}],
        // The deployment ends only once the master reached it there too.
        "readinessChecks": [{"name": "ready", "protocol": "HTTP", "path": "/health",
                             "portName": "http", "intervalSeconds": 1}],
    });
    let (status, body) = cluster.post("/v2/apps", &bridge);
    assert_eq!(status, 201, "{body}");
    let app = cluster.wait_running("/ctr-web", 1, Duration::from_secs(120));
    let port = first_port(&app);
    let page = wait_until(Duration::from_secs(30), "the bridge app answering", || {
        fetch(port)
    });
    assert_eq!(page, "hello from a container\n");
    assert_eq!(containers_of("/ctr-web"), 1);
    // DNS names the container's host port (Mesos-DNS's SRV) on the agent's address.
    let srv = crate::runtime::dns::query(
        cluster.dns_addr(),
        "_ctr-web._tcp.marathon.strato.",
        hickory_net::proto::rr::RecordType::SRV,
    );
    let srv_ports: Vec<u64> = srv
        .answers
        .iter()
        .filter_map(|r| match &r.data {
            hickory_net::proto::rr::RData::SRV(s) => Some(u64::from(s.port)),
            _ => None,
        })
        .collect();
    assert_eq!(srv_ports, vec![port], "SRV of /ctr-web");

    // It stops answering its health check: the task is killed and replaced by a healthy one.
    let first_task = app["tasks"][0]["id"].as_str().expect("task id").to_string();
    let container = container_ids("/ctr-web").remove(0);
    let broke = Command::new("docker")
        .args(["exec", &container, "rm", "/www/health"])
        .output()
        .expect("docker exec");
    assert!(
        broke.status.success(),
        "{}",
        String::from_utf8_lossy(&broke.stderr)
    );
    wait_until(Duration::from_secs(90), "a healthy replacement", || {
        let app = cluster.app("/ctr-web")?;
        let task = app["tasks"].as_array()?.first()?.clone();
        let healthy = task["healthCheckResults"][0]["alive"] == true;
        (task["id"] != first_task.as_str() && healthy && app["tasks"].as_array()?.len() == 1)
            .then_some(())
    });
    wait_until(Duration::from_secs(30), "the old container removed", || {
        (containers_of("/ctr-web") == 1 && container_ids("/ctr-web") != [container.clone()])
            .then_some(())
    });

    // HOST: the container binds the host port it was given.
    let host = json!({
        "id": "/ctr-host",
        "cmd": "httpd -f -p $PORT0 -h /www",
        "cpus": 0.1, "mem": 32, "instances": 1,
        "portDefinitions": [{"port": 0}],
        "container": {"type": "DOCKER", "docker": {"image": IMAGE}},
    });
    let (status, body) = cluster.post("/v2/apps", &host);
    assert_eq!(status, 201, "{body}");
    let app = cluster.wait_running("/ctr-host", 1, Duration::from_secs(120));
    let port = first_port(&app);
    wait_until(Duration::from_secs(30), "the host app answering", || {
        fetch(port)
    });

    // Marathon's `user`: the container runs as that user's ids on the agent, which own the
    // sandbox it writes to (read back through the master's files API, as an operator would).
    // Its COMMAND health check runs inside the container (only the image has /www), as that user.
    let as_nobody = json!({
        "id": "/ctr-nobody",
        "cmd": "id -u > $MESOS_SANDBOX/ids && id -g >> $MESOS_SANDBOX/ids && exec sleep 600",
        "user": "nobody",
        "cpus": 0.1, "mem": 32, "instances": 1,
        "container": {"type": "DOCKER", "docker": {"image": IMAGE}},
        "healthChecks": [{"protocol": "COMMAND", "intervalSeconds": 1, "gracePeriodSeconds": 60,
            "command": {"value": "test -f /www/health && id -u > $MESOS_SANDBOX/check-ids"}}],
    });
    let (status, body) = cluster.post("/v2/apps", &as_nobody);
    assert_eq!(status, 201, "{body}");
    let app = cluster.wait_running("/ctr-nobody", 1, Duration::from_secs(120));
    let task = app["tasks"][0]["id"].as_str().expect("task id").to_string();
    let nobody = nix::unistd::User::from_name("nobody")
        .expect("passwd")
        .expect("a nobody user");
    let want = format!("{}\n{}\n", nobody.uid, nobody.gid);
    wait_until(Duration::from_secs(30), "the container's ids", || {
        let (status, read) = cluster.get(&format!(
            "/strato/v1/tasks/{task}/files/read?path=ids&offset=0&length=100"
        ));
        (status == 200 && read["data"] == want.as_str()).then_some(())
    });
    wait_until(
        Duration::from_secs(60),
        "the check healthy, run in the container",
        || {
            let (_, app) = cluster.get("/v2/apps/ctr-nobody");
            let (status, read) = cluster.get(&format!(
                "/strato/v1/tasks/{task}/files/read?path=check-ids&offset=0&length=100"
            ));
            let ran_inside = status == 200 && read["data"] == format!("{}\n", nobody.uid).as_str();
            (app["app"]["tasksHealthy"] == 1 && ran_inside).then_some(())
        },
    );
    let (status, body) = cluster.delete("/v2/apps/ctr-nobody");
    assert_eq!(status, 200, "{body}");

    // Docker parameters: those the cluster allows reach the engine (a label, capabilities
    // dropped); another is refused before any task exists.
    let with_parameters = json!({
        "id": "/ctr-params", "cmd": "exec sleep 600", "cpus": 0.1, "mem": 32, "instances": 1,
        "container": {"type": "DOCKER", "docker": {"image": IMAGE, "parameters": [
            {"key": "label", "value": "team=web"}, {"key": "cap-drop", "value": "ALL"}]}},
    });
    let (status, body) = cluster.post("/v2/apps", &with_parameters);
    assert_eq!(status, 201, "{body}");
    cluster.wait_running("/ctr-params", 1, Duration::from_secs(120));
    let id = container_ids("/ctr-params").remove(0);
    let inspected = Command::new("docker")
        .args([
            "inspect",
            "--format",
            "{{index .Config.Labels \"team\"}} {{.HostConfig.CapDrop}}",
            &id,
        ])
        .output()
        .expect("docker inspect");
    assert_eq!(
        String::from_utf8_lossy(&inspected.stdout).trim(),
        "web [ALL]"
    );
    let (status, body) = cluster.delete("/v2/apps/ctr-params");
    assert_eq!(status, 200, "{body}");
    let not_allowed = json!({
        "id": "/ctr-hostname", "cmd": "exec sleep 600", "cpus": 0.1, "mem": 32,
        "container": {"type": "DOCKER", "docker": {"image": IMAGE, "parameters": [
            {"key": "hostname", "value": "web-1"}]}},
    });
    let (status, body) = cluster.post("/v2/apps", &not_allowed);
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        body["details"][0]["path"],
        "/container/docker/parameters(0)/key"
    );

    // Scaling up and down leaves exactly that many containers.
    let (status, body) = cluster.put("/v2/apps/ctr-web", &json!({"instances": 3}));
    assert_eq!(status, 200, "{body}");
    cluster.wait_running("/ctr-web", 3, Duration::from_secs(120));
    wait_until(Duration::from_secs(30), "3 containers", || {
        (containers_of("/ctr-web") == 3).then_some(())
    });
    let (status, body) = cluster.put("/v2/apps/ctr-web", &json!({"instances": 1}));
    assert_eq!(status, 200, "{body}");
    wait_until(Duration::from_secs(60), "1 container", || {
        (containers_of("/ctr-web") == 1).then_some(())
    });

    // An image no registry serves fails the task with the engine's reason, not a loop of nothing.
    let missing = json!({
        "id": "/ctr-missing", "cmd": "sleep 600", "cpus": 0.1, "mem": 16, "instances": 1,
        "container": {"type": "DOCKER", "docker": {"image": "127.0.0.1:9/strato/missing:1"}},
    });
    let (status, body) = cluster.post("/v2/apps", &missing);
    assert_eq!(status, 201, "{body}");
    let failure = wait_until(Duration::from_secs(60), "the pull failure", || {
        let app = cluster.app("/ctr-missing")?;
        let message = app["lastTaskFailure"]["message"].as_str()?.to_string();
        Some(message)
    });
    assert!(
        failure.contains("pulling image '127.0.0.1:9/strato/missing:1'"),
        "{failure}"
    );

    // A job whose run has a Docker image runs in a container: only the image has /www, so the
    // run succeeds there and would fail on the host.
    let job = json!({"id": "ctr.job", "run": {"cmd": "test -d /www", "cpus": 0.1, "mem": 32, "disk": 0,
                                               "docker": {"image": IMAGE}}});
    let (status, body) = cluster.post("/v1/jobs", &job);
    assert_eq!(status, 201, "{body}");
    let (status, body) = cluster.post("/v1/jobs/ctr.job/runs", &json!({}));
    assert_eq!(status, 201, "{body}");
    let history = wait_until(Duration::from_secs(60), "the job's run to finish", || {
        let (_, job) = cluster.get("/v1/jobs/ctr.job?embed=history");
        let h = job["history"].clone();
        (h["successCount"].as_u64()? + h["failureCount"].as_u64()? > 0).then_some(h)
    });
    assert_eq!(history["successCount"], 1, "{history}");

    // Deleting the apps removes their containers.
    for id in ["ctr-web", "ctr-host", "ctr-missing"] {
        let (status, _) = cluster.delete(&format!("/v2/apps/{id}"));
        assert_eq!(status, 200);
    }
    wait_until(Duration::from_secs(60), "no containers left", || {
        (containers_of("/ctr-web") + containers_of("/ctr-host") == 0).then_some(())
    });
}

/// Debian's docker-registry of the test's own on 127.0.0.1, behind a password; stopped on drop.
struct Registry {
    child: std::process::Child,
    port: u16,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_registry(dir: &std::path::Path, user: &str, password: &str) -> Registry {
    let hashed = Command::new("htpasswd")
        .args(["-Bbn", user, password])
        .output()
        .expect("htpasswd (apache2-utils)");
    assert!(hashed.status.success(), "htpasswd failed");
    std::fs::write(dir.join("htpasswd"), &hashed.stdout).expect("write htpasswd");
    let port = crate::common::cluster::free_port();
    let config = format!(
        "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {root}\n\
         http:\n  addr: 127.0.0.1:{port}\n\
         auth:\n  htpasswd:\n    realm: strato-test\n    path: {htpasswd}\n",
        root = dir.join("data").display(),
        htpasswd = dir.join("htpasswd").display(),
    );
    std::fs::write(dir.join("config.yml"), config).expect("write registry config");
    let log = std::fs::File::create(dir.join("registry.log")).expect("registry log");
    let child = Command::new("/usr/bin/docker-registry")
        .arg("serve")
        .arg(dir.join("config.yml"))
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .expect("docker-registry");
    let registry = Registry { child, port };
    // Up once it asks for the password.
    let http = strato_tls::blocking_client_builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("http client");
    wait_until(Duration::from_secs(30), "the registry answering", || {
        let status = http
            .get(format!("http://127.0.0.1:{port}/v2/"))
            .send()
            .ok()?
            .status();
        (status.as_u16() == 401).then_some(())
    });
    registry
}

fn docker_cli(config: &std::path::Path, args: &[&str], stdin: Option<&str>) {
    use std::io::Write;
    let mut child = Command::new("docker")
        .arg("--config")
        .arg(config)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("docker");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
    } else {
        drop(child.stdin.take());
    }
    let out = child.wait_with_output().expect("docker");
    assert!(
        out.status.success(),
        "docker {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// An image of its own (busybox and 3 MB of random bytes, so no layer is on the engine already),
/// pushed to the registry on `port` and then removed locally; its name in the registry.
fn big_image(dir: &std::path::Path, cli: &std::path::Path, port: u16) -> String {
    use std::io::Read;
    let root = dir.join("big-root");
    std::fs::create_dir_all(root.join("bin")).expect("rootfs");
    std::fs::copy("/bin/busybox", root.join("bin/busybox")).expect("busybox");
    std::os::unix::fs::symlink("busybox", root.join("bin/sh")).expect("sh");
    let mut noise = vec![0u8; 3_000_000];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut noise))
        .expect("random bytes");
    std::fs::write(root.join("noise"), noise).expect("noise");
    let tar = dir.join("big.tar");
    let made = Command::new("tar")
        .arg("-C")
        .arg(&root)
        .arg("-cf")
        .arg(&tar)
        .arg(".")
        .status()
        .expect("tar");
    assert!(made.success());
    let name = "strato/big:1";
    let local = format!("127.0.0.1:{port}/{name}");
    docker_cli(cli, &["import", &tar.display().to_string(), &local], None);
    docker_cli(cli, &["push", &local], None);
    docker_cli(cli, &["rmi", &local], None);
    name.to_string()
}

/// A TCP proxy on 127.0.0.1 to `upstream` that passes the upstream's bytes on at about
/// `bytes_per_second` (so a pull through it takes a while); runs until the test process ends.
fn slow_proxy(upstream: u16, bytes_per_second: usize) -> u16 {
    use std::io::{Read, Write};
    use std::net::{Shutdown, TcpListener, TcpStream};
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
    let port = listener.local_addr().expect("proxy addr").port();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                    return;
                };
                let (Ok(mut from_client), Ok(mut to_server)) =
                    (client.try_clone(), server.try_clone())
                else {
                    return;
                };
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut from_client, &mut to_server);
                    let _ = to_server.shutdown(Shutdown::Write);
                });
                let (mut from_server, mut to_client) = (server, client);
                let mut chunk = [0u8; 16 * 1024];
                while let Ok(n) = from_server.read(&mut chunk) {
                    if n == 0 || to_client.write_all(&chunk[..n]).is_err() {
                        break;
                    }
                    // The throttle itself, not a wait for something.
                    std::thread::sleep(Duration::from_secs_f64(n as f64 / bytes_per_second as f64));
                }
                let _ = to_client.shutdown(Shutdown::Write);
            });
        }
    });
    port
}

/// `docker login` to the registry on 127.0.0.1:`port` as `strato`, into the config dir `cli`.
fn login(cli: &std::path::Path, port: u16, password: &str) {
    let registry = format!("127.0.0.1:{port}");
    docker_cli(
        cli,
        &["login", "-u", "strato", "--password-stdin", &registry],
        Some(password),
    );
}

/// The last task failure's message of `app`, once it has one.
fn failure_of(cluster: &LocalCluster, app: &str) -> String {
    wait_until(Duration::from_secs(120), &format!("{app} failing"), || {
        let (_, body) = cluster.get(&format!("/v2/apps{app}?embed=app.lastTaskFailure"));
        body["app"]["lastTaskFailure"]["message"]
            .as_str()
            .map(str::to_string)
    })
}

/// A private registry: the agent pulls with the credentials `docker login` left in the Docker
/// config.json it reads ($DOCKER_CONFIG), a slow pull shows its progress while STAGING; without
/// credentials the registry's refusal, and for a registry that is not there the engine's reason,
/// end up in `lastTaskFailure`.
#[test]
fn images_are_pulled_from_a_private_registry_with_the_agents_credentials() {
    image();
    let dir = tempfile::tempdir().expect("tempdir");
    let password = "registry-s3cret";
    let registry = start_registry(dir.path(), "strato", password);
    let port = registry.port;
    let cli = dir.path().join("docker");
    let remote = format!("127.0.0.1:{port}/strato/busybox:1");
    login(&cli, port, password);
    docker_cli(&cli, &["tag", IMAGE, &remote], None);
    docker_cli(&cli, &["push", &remote], None);
    // Only the registry has it under this name now: the agent must pull it.
    docker_cli(&cli, &["rmi", &remote], None);

    let cli_dir = cli.display().to_string();
    let cluster = LocalCluster::start_with_env(
        &dir.path().join("cluster"),
        &[("DOCKER_CONFIG", cli_dir.as_str())],
    );
    let app = |id: &str, image: &str| {
        json!({"id": id, "cmd": "exec sleep 600", "cpus": 0.1, "mem": 32, "instances": 1,
            "container": {"type": "DOCKER", "docker": {"image": image, "forcePullImage": true}}})
    };
    let (status, body) = cluster.post("/v2/apps", &app("/from-registry", &remote));
    assert_eq!(status, 201, "{body}");
    cluster.wait_running("/from-registry", 1, Duration::from_secs(120));

    // A pull that takes a while (3 MB of its own, through a proxy passing ~300 kB/s): the task
    // is STAGING with the pull's progress in its status message, then runs.
    let big = big_image(dir.path(), &cli, port);
    let proxy = slow_proxy(port, 300_000);
    login(&cli, proxy, password);
    let slow = format!("127.0.0.1:{proxy}/{big}");
    let (status, body) = cluster.post("/v2/apps", &app("/slow-pull", &slow));
    assert_eq!(status, 201, "{body}");
    let progress = wait_until(
        Duration::from_secs(60),
        "pull progress while STAGING",
        || {
            let (_, list) = cluster.get("/strato/v1/tasks?app=/slow-pull");
            list["tasks"].as_array()?.iter().find_map(|t| {
                let message = t["message"].as_str()?;
                (t["state"] == "TASK_STAGING" && message.contains(" MB"))
                    .then(|| message.to_string())
            })
        },
    );
    assert!(
        progress.starts_with(&format!("Pulling image '{slow}': ")),
        "{progress}"
    );
    cluster.wait_running("/slow-pull", 1, Duration::from_secs(120));

    // The same registry by a name the config has no credentials for: refused by the registry.
    let anonymous = format!("localhost:{port}/strato/busybox:1");
    let (status, body) = cluster.post("/v2/apps", &app("/no-credentials", &anonymous));
    assert_eq!(status, 201, "{body}");
    let refused = failure_of(&cluster, "/no-credentials");
    assert!(
        refused.contains(&anonymous)
            && (refused.contains("no basic auth credentials") || refused.contains("unauthorized")),
        "{refused}"
    );

    // No registry at all on that port.
    let closed = crate::common::cluster::free_port();
    let nowhere = format!("127.0.0.1:{closed}/strato/busybox:1");
    let (status, body) = cluster.post("/v2/apps", &app("/no-registry", &nowhere));
    assert_eq!(status, 201, "{body}");
    let unreachable = failure_of(&cluster, "/no-registry");
    assert!(
        unreachable.contains(&nowhere) && unreachable.contains("connection refused"),
        "{unreachable}"
    );
    drop(cluster);
    drop(registry);
}
