//! Three masters on the bundled etcd and two agents, deployed to real nodes: one leader every
//! master names, a killed leader replaced with the tasks untouched and answering, the old
//! master back as a standby, writes refused (reads served) while two masters are down, a
//! backup restored onto wiped state without doubling a task, and an upgrade that moves the
//! masters one at a time, the leader last.

use std::time::{Duration, Instant};

use reqwest::blocking::Client;
use serde_json::{json, Value};

use super::{member_client, operator_files, poll, strato_job};
use crate::common::nodes::{docker, NodeSpec, Nodes};

const MASTERS: [&str; 3] = ["master-1", "master-2", "master-3"];

fn write_cluster_yaml(dir: &std::path::Path, nodes: &Nodes) -> std::path::PathBuf {
    let ip = |name: &str| nodes.node(name).ip.clone();
    let text = format!(
        "cluster_name: e2e-ha\n\
         bootstrap: {boot}\n\
         ssh:\n  user: root\n  key_path: {key}\n\
         masters: [{m1}, {m2}, {m3}]\n\
         agents: [{a1}, {a2}]\n\
         hardware: minimal\n",
        boot = ip("bootstrap"),
        key = nodes.key_path().display(),
        m1 = ip("master-1"),
        m2 = ip("master-2"),
        m3 = ip("master-3"),
        a1 = ip("agent-1"),
        a2 = ip("agent-2"),
    );
    let path = dir.join("cluster.yaml");
    std::fs::write(&path, text).expect("write cluster.yaml");
    path
}

struct Api<'a> {
    http: Client,
    nodes: &'a Nodes,
}

impl Api<'_> {
    fn ip(&self, master: &str) -> String {
        self.nodes.node(master).ip.clone()
    }

    fn get(&self, master: &str, path: &str) -> Option<(u16, Value)> {
        let response = self
            .http
            .get(format!("https://{}:8080{path}", self.ip(master)))
            .send()
            .ok()?;
        let status = response.status().as_u16();
        Some((status, response.json().unwrap_or(Value::Null)))
    }

    fn post(&self, master: &str, path: &str, body: &Value) -> Option<(u16, Value)> {
        let response = self
            .http
            .post(format!("https://{}:8080{path}", self.ip(master)))
            .json(body)
            .send()
            .ok()?;
        let status = response.status().as_u16();
        Some((status, response.json().unwrap_or(Value::Null)))
    }

    /// PUTs `body` to `/v2/apps{id}` on `master` until it is accepted (200 or 201: a retry of a
    /// write whose answer was lost is accepted too); panics with the last answer after `within`.
    fn put_until_accepted(&self, master: &str, id: &str, body: &Value, within: Duration) {
        let deadline = Instant::now() + within;
        let mut last = None;
        while Instant::now() < deadline {
            let answer = self
                .http
                .put(format!("https://{}:8080/v2/apps{id}", self.ip(master)))
                .json(body)
                .send()
                .map(|r| (r.status().as_u16(), r.text().unwrap_or_default()));
            match answer {
                Ok((200 | 201, _)) => return,
                other => last = Some(format!("{other:?}")),
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("{master} did not accept PUT /v2/apps{id} within {within:?}; last answer: {last:?}");
    }

    /// The leading master once every master in `up` names it and it alone says it leads.
    fn one_leader(&self, up: &[&str], within: Duration) -> String {
        poll(within, "one leader every master names", || {
            let mut leaders = Vec::new();
            for master in up {
                let (_, ha) = self.get(master, "/strato/v1/ha")?;
                if ha["role"] == "leader" {
                    leaders.push(master.to_string());
                }
                let (status, named) = self.get(master, "/v2/leader")?;
                if status != 200 {
                    return None;
                }
                named["leader"].as_str()?;
            }
            let [leader] = &leaders[..] else { return None };
            let expected = format!("{}:8080", self.ip(leader));
            up.iter()
                .all(|m| {
                    self.get(m, "/v2/leader")
                        .is_some_and(|(_, v)| v["leader"] == expected.as_str())
                })
                .then(|| leader.clone())
        })
    }

    /// /web's running tasks: (id, host ip, port), sorted.
    fn web_tasks(&self, master: &str) -> Option<Vec<(String, String, u64)>> {
        let (status, body) = self.get(master, "/v2/apps/web/tasks")?;
        if status != 200 {
            return None;
        }
        let mut tasks: Vec<(String, String, u64)> = body["tasks"]
            .as_array()?
            .iter()
            .filter(|t| t["state"] == "TASK_RUNNING")
            .filter_map(|t| {
                let host = t["host"].as_str()?;
                let node = self
                    .nodes
                    .nodes
                    .iter()
                    .find(|n| n.name == host || n.ip == host)?;
                Some((
                    t["id"].as_str()?.to_string(),
                    node.ip.clone(),
                    t["ports"][0].as_u64()?,
                ))
            })
            .collect();
        tasks.sort();
        Some(tasks)
    }
}

fn answers(plain: &Client, tasks: &[(String, String, u64)]) -> bool {
    tasks.iter().all(|(_, host, port)| {
        plain
            .get(format!("http://{host}:{port}/"))
            .send()
            .is_ok_and(|r| r.status().is_success())
    })
}

fn strato(args: &[&str], config: &std::path::Path) -> std::process::Output {
    let out = crate::common::strato()
        .env("STRATO_LOG_FILE", config.with_file_name("strato.log"))
        .args(args)
        .arg("-c")
        .arg(config)
        .timeout(Duration::from_secs(300))
        .output()
        .expect("run strato");
    eprintln!(
        "strato {args:?}: {}\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn three_masters_fail_over_keep_tasks_survive_quorum_loss_and_restore_a_backup() {
    let nodes = Nodes::start(&[
        NodeSpec::named("bootstrap"),
        NodeSpec::named("master-1"),
        NodeSpec::named("master-2"),
        NodeSpec::named("master-3"),
        NodeSpec::named("agent-1"),
        NodeSpec::named("agent-2"),
    ]);
    crate::bundle::dev_bundle();
    let dir = tempfile::tempdir().expect("tmp");
    let config = write_cluster_yaml(dir.path(), &nodes);

    let out = strato_job("deploy", &config);
    assert!(out.status.success(), "strato deploy of 3 masters failed");
    let out = strato_job("postflight", &config);
    assert!(out.status.success(), "strato postflight failed");

    let api = Api {
        http: member_client(&operator_files(dir.path()), strato_tls::MemberRole::Master),
        nodes: &nodes,
    };
    let plain = strato_tls::blocking_client_builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("http client");
    let leader = api.one_leader(&MASTERS, Duration::from_secs(120));
    let standby = MASTERS.iter().find(|m| **m != leader).expect("a standby");

    // etcd answers masters only: an agent's certificate of the cluster CA is refused, the master's
    // etcd certificate is accepted.
    let etcd_url = format!("https://{}:2379/version", nodes.node("master-1").ip);
    let as_agent = nodes.exec(
        nodes.node("agent-1"),
        &format!(
            "curl -sS -k --max-time 5 --cert /opt/strato/etc/tls/node.crt \
             --key /opt/strato/etc/tls/node.key {etcd_url}"
        ),
    );
    assert!(
        !as_agent.status.success(),
        "etcd answered an agent: {}",
        String::from_utf8_lossy(&as_agent.stdout)
    );
    let as_master = nodes.exec(
        nodes.node("master-2"),
        &format!(
            "curl -sS --max-time 5 --cacert /opt/strato/etc/tls/etcd-ca.crt \
             --cert /opt/strato/etc/tls/etcd.crt --key /opt/strato/etc/tls/etcd.key {etcd_url}"
        ),
    );
    assert!(
        String::from_utf8_lossy(&as_master.stdout).contains("etcdserver"),
        "etcd refused a master: {}",
        String::from_utf8_lossy(&as_master.stderr)
    );

    // `strato status` names the leading master.
    let out = strato(&["status"], &config);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let leader_ip = nodes.node(&leader).ip.clone();
    assert!(
        text.lines()
            .any(|l| l.starts_with(&format!("{leader_ip} ")) && l.contains(" leader ")),
        "strato status does not show {leader_ip} leading:\n{text}"
    );

    // One job at a time, and `strato status` during a deploy leaves the bootstrap server alone
    // (review M-4): with agent-2 frozen the deploy waits on it; status and a second deploy
    // meanwhile change no byte of the serve tree, do not replace the server's binary (the deploy
    // installed the bundle's) and do not restart it; the second deploy is refused naming the
    // running job; the first deploy's CLI follows its job to the end.
    let paused = nodes.node("agent-2");
    let boot = nodes.node("bootstrap");
    docker(&["pause", &paused.container]);
    let log_path = dir.path().join("deploy-during-status.log");
    let log = std::fs::File::create(&log_path).expect("log");
    // The first deploy waits long on the frozen agent (60 s per connect attempt), so it still
    // runs whatever status and the second deploy take on a loaded machine.
    let waiting = config.with_file_name("cluster-waiting.yaml");
    let text = std::fs::read_to_string(&config).expect("cluster.yaml");
    std::fs::write(
        &waiting,
        text.replacen("ssh:\n", "ssh:\n  connect_timeout_seconds: 60\n", 1),
    )
    .expect("write");
    let mut first = std::process::Command::new(crate::common::bin_path("strato"))
        .env("STRATO_LOG_FILE", config.with_file_name("strato-first.log"))
        .args(["deploy", "-c"])
        .arg(&waiting)
        .arg("--bundle")
        .arg(crate::bundle::dev_bundle())
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .expect("start a deploy");
    let running = "grep -lE '\"state\": ?\"running\"' /var/lib/strato-bootstrap/jobs/*/job.json";
    let deadline = Instant::now() + Duration::from_secs(120);
    while !nodes.exec(boot, running).status.success() {
        let ended = first.try_wait().ok().flatten();
        if ended.is_some() || Instant::now() >= deadline {
            let _ = first.kill();
            docker(&["unpause", &paused.container]);
            let said = std::fs::read_to_string(&log_path).unwrap_or_default();
            panic!("the deploy's job was not seen running (deploy ended: {ended:?}):\n{said}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let server = "cd /var/lib/strato-bootstrap/serve && find . -type f | sort | xargs sha256sum; \
                  sha256sum /opt/strato-bootstrap/bin/strato-bootstrap; \
                  systemctl show -p MainPID -p ExecMainStartTimestamp strato-bootstrap";
    let job_id = String::from_utf8_lossy(&nodes.exec(boot, running).stdout)
        .lines()
        .next()
        .and_then(|path| path.rsplit('/').nth(1))
        .expect("the running job's directory")
        .to_string();
    let before = String::from_utf8_lossy(&nodes.exec(boot, server).stdout).into_owned();
    let out = strato(&["status"], &config);
    assert!(out.status.code().is_some(), "strato status did not run");
    // A second deploy meanwhile is refused, naming the running job (exit 5, busy).
    let second = strato_job("deploy", &config);
    let second_said = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(5), "{second_said}");
    assert!(
        second_said.contains(&format!("running job {job_id} (deploy)")),
        "{second_said}"
    );
    let after = String::from_utf8_lossy(&nodes.exec(boot, server).stdout).into_owned();
    assert!(before.contains("strato-bootstrap") && before.contains("MainPID="));
    assert_eq!(
        before, after,
        "strato status or a second deploy changed the bootstrap server under a running deploy"
    );
    docker(&["unpause", &paused.container]);
    // The deploy ends as a deploy does: every node done (0), or agent-2 failed alone after its
    // connect timed out (4); either way its CLI waited for the job's end.
    let finished = first.wait().expect("the deploy");
    let said = std::fs::read_to_string(&log_path).unwrap_or_default();
    match finished.code() {
        Some(0) => {}
        Some(4) => assert!(
            said.contains(&format!("cannot connect: root@{}:22", paused.ip)),
            "{said}"
        ),
        other => panic!("deploy during status ended {other:?}:\n{said}"),
    }
    assert!(
        !nodes.exec(boot, running).status.success(),
        "the deploying CLI exited while its job still ran:\n{said}"
    );

    // An app posted through a standby runs on both agents.
    let app = json!({"cmd": "exec python3 -m http.server $PORT0", "instances": 2,
                     "cpus": 0.1, "mem": 32, "portDefinitions": [{"port": 0}],
                     "constraints": [["hostname", "UNIQUE"]]});
    api.put_until_accepted(standby, "/web", &app, Duration::from_secs(60));
    let before = poll(Duration::from_secs(120), "2 running tasks of /web", || {
        api.web_tasks(&leader).filter(|t| t.len() == 2)
    });
    poll(Duration::from_secs(60), "/web answering", || {
        answers(&plain, &before).then_some(())
    });
    let (_, versions) = api.get(&leader, "/v2/apps/web/versions").expect("versions");
    // A standby's gateway serves the same: a login there, the leader's Marathon behind it.
    super::gateway::a_standby_serves_the_same(
        dir.path(),
        &nodes.node(standby).ip,
        &nodes.node(&leader).ip,
    );

    // The leader's node dies. Another master accepts writes; the tasks stay the same.
    let leader_node = nodes.node(&leader);
    docker(&["kill", &leader_node.container]);
    let killed = Instant::now();
    let survivors: Vec<&str> = MASTERS.iter().copied().filter(|m| *m != leader).collect();
    let probe = json!({"cmd": "sleep 1000", "instances": 0});
    api.put_until_accepted(survivors[0], "/probe", &probe, Duration::from_secs(60));
    eprintln!(
        "failover on real nodes: writes accepted {:?} after the leader's node was killed",
        killed.elapsed()
    );
    let new_leader = api.one_leader(&survivors, Duration::from_secs(60));
    // Every surviving master keeps answering DNS, where leader.<domain> names the new leader, and
    // serves the dashboard.
    let new_leader_ip: std::net::Ipv4Addr = nodes.node(&new_leader).ip.parse().expect("ip");
    for master in &survivors {
        let ip: std::net::IpAddr = nodes.node(master).ip.parse().expect("ip");
        poll(
            Duration::from_secs(10),
            "leader.strato naming the new leader",
            || {
                let answer = crate::runtime::dns::query(
                    std::net::SocketAddr::new(ip, 53),
                    "leader.strato.",
                    hickory_net::proto::rr::RecordType::A,
                );
                answer
                .answers
                .iter()
                .any(|r| matches!(&r.data, hickory_net::proto::rr::RData::A(a) if a.0 == new_leader_ip))
                .then_some(())
            },
        );
        let page = api
            .http
            .get(format!("https://{ip}:5050/"))
            .send()
            .expect("the dashboard");
        assert!(
            page.status().is_success(),
            "{master}'s dashboard: {}",
            page.status()
        );
    }
    assert_eq!(
        api.web_tasks(&new_leader),
        Some(before.clone()),
        "tasks changed in the failover"
    );
    assert!(
        answers(&plain, &before),
        "/web stopped answering in the failover"
    );

    // The old master's node comes back: it rejoins as a standby naming the new leader.
    docker(&["start", &leader_node.container]);
    assert_eq!(
        api.one_leader(&MASTERS, Duration::from_secs(180)),
        new_leader
    );

    // Two masters' nodes stop: the last one refuses writes with 503 and still serves reads.
    let last = *survivors
        .iter()
        .find(|m| **m != new_leader)
        .expect("a standby survivor");
    let down: Vec<&str> = MASTERS.iter().copied().filter(|m| *m != last).collect();
    poll(
        Duration::from_secs(20),
        "the last master's copy of /probe",
        || {
            let (_, ha) = api.get(last, "/strato/v1/ha")?;
            (ha["copy"]["apps"] == 2).then_some(())
        },
    );
    for master in &down {
        docker(&["stop", "-t", "1", &nodes.node(master).container]);
    }
    let (status, body) = poll(Duration::from_secs(30), "a refused write", || {
        let answer = api.post(
            last,
            "/v2/apps",
            &json!({"id": "/during", "cmd": "sleep 1000"}),
        )?;
        (answer.0 == 503).then_some(answer)
    });
    assert!(
        body["message"]
            .as_str()
            .unwrap_or("")
            .contains("Quorum lost"),
        "{status} {body}"
    );
    let (status, body) = api
        .get(last, "/v2/apps/web")
        .expect("a read without quorum");
    assert_eq!(status, 200, "{body}");
    for master in &down {
        docker(&["start", &nodes.node(master).container]);
    }
    let leader = api.one_leader(&MASTERS, Duration::from_secs(180));
    let after = json!({"cmd": "sleep 1000", "instances": 0});
    api.put_until_accepted(&leader, "/after", &after, Duration::from_secs(60));
    assert_eq!(
        api.web_tasks(&leader),
        Some(before.clone()),
        "tasks changed while quorum was lost"
    );

    // Backup, wipe every stored key, restore: the app and its versions are back, two tasks run.
    let file = dir.path().join("state.json");
    let out = strato(&["backup", file.to_str().expect("utf-8")], &config);
    assert!(out.status.success(), "strato backup failed");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&file).expect("backup").permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
    for master in MASTERS {
        let out = nodes.exec(nodes.node(master), "systemctl stop strato-master");
        assert!(out.status.success());
    }
    let m1 = nodes.node("master-1");
    let wipe = nodes.exec(
        m1,
        &format!(
            "ETCDCTL_API=3 /opt/strato/bin/etcdctl --endpoints https://{}:2379 \
             --cacert /opt/strato/etc/tls/etcd-ca.crt --cert /opt/strato/etc/tls/etcd.crt \
             --key /opt/strato/etc/tls/etcd.key del --prefix /strato/",
            m1.ip
        ),
    );
    assert!(
        wipe.status.success(),
        "wipe: {}",
        String::from_utf8_lossy(&wipe.stderr)
    );
    for master in MASTERS {
        let out = nodes.exec(nodes.node(master), "systemctl start strato-master");
        assert!(out.status.success());
    }
    let leader = api.one_leader(&MASTERS, Duration::from_secs(120));
    assert_eq!(
        api.get(&leader, "/v2/apps/web").map(|(s, _)| s),
        Some(404),
        "the state was not wiped"
    );
    let out = strato(&["restore", file.to_str().expect("utf-8")], &config);
    assert!(out.status.success(), "strato restore failed");
    let (status, _) = api
        .get(&leader, "/v2/apps/web")
        .expect("the app after restore");
    assert_eq!(status, 200);
    assert_eq!(
        api.get(&leader, "/v2/apps/web/versions").map(|(_, v)| v),
        Some(versions)
    );
    // The app settles on two running tasks, each answering, with exactly two processes on the
    // agents: tasks the wiped masters found unowned were killed, and the restored records of
    // those are replaced, never doubled (where they run is the scheduler's choice).
    let processes = || -> usize {
        ["agent-1", "agent-2"]
            .iter()
            .map(|agent| {
                let count = nodes.exec(nodes.node(agent), "pgrep -c -f '[h]ttp.server' || true");
                String::from_utf8_lossy(&count.stdout)
                    .trim()
                    .parse::<usize>()
                    .unwrap_or(0)
            })
            .sum()
    };
    let after = poll(
        Duration::from_secs(180),
        "2 running tasks of /web after restore, answering, 2 processes",
        || {
            let running = processes();
            assert!(
                running <= 2,
                "{running} copies of /web's task on the agents"
            );
            let tasks = api.web_tasks(&leader).filter(|t| t.len() == 2)?;
            (running == 2 && answers(&plain, &tasks)).then_some(tasks)
        },
    );

    // `strato upgrade` to the next minor version: masters one at a time with the leader last,
    // every node on the new version, /web's tasks the same ones and answering.
    let parts: Vec<u64> = strato_bundle::VERSION
        .split('.')
        .map(|p| p.parse().expect("numeric version"))
        .collect();
    let next = format!("{}.{}.0", parts[0], parts[1] + 1);
    let bundle = super::upgrade::restamped(dir.path(), &next, None, true);
    let leader = api.one_leader(&MASTERS, Duration::from_secs(60));
    let out = crate::common::strato()
        .env(
            "STRATO_LOG_FILE",
            config.with_file_name("strato-upgrade.log"),
        )
        .args(["upgrade", "--yes", "-c"])
        .arg(&config)
        .arg("--bundle")
        .arg(&bundle)
        .timeout(Duration::from_secs(900))
        .output()
        .expect("strato upgrade");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "strato upgrade of 3 masters failed:\n{said}"
    );
    let upgraded: Vec<&str> = said
        .lines()
        .filter(|l| l.contains(": Upgrade masters: upgraded"))
        .filter_map(|l| l.split(':').next().map(str::trim))
        .collect();
    assert_eq!(upgraded.len(), 3, "{said}");
    assert_eq!(
        upgraded.last().copied(),
        Some(nodes.node(&leader).ip.as_str()),
        "the leader ({leader}) was not upgraded last:\n{said}"
    );
    for node in MASTERS.iter().chain(&["agent-1", "agent-2"]) {
        let out = nodes.exec(nodes.node(node), "cat /opt/strato/current/VERSION");
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), next, "{node}");
    }
    let leader = api.one_leader(&MASTERS, Duration::from_secs(120));
    assert_eq!(
        api.web_tasks(&leader),
        Some(after.clone()),
        "tasks changed in the upgrade"
    );
    assert!(
        answers(&plain, &after),
        "/web stopped answering in the upgrade"
    );
}
