//! Three masters on a real three-member etcd (loopback, one process each) and one real agent:
//! one leader that every master names, writes through a standby, a killed leader replaced with
//! the tasks untouched, and writes refused (reads served) while a majority is gone.

use std::time::{Duration, Instant};

use serde_json::json;
use strato_etcd::testing::wait_healthy;

use crate::common::cluster::wait_until;
use crate::common::ha::{answers, Ha};

#[test]
fn three_masters_on_etcd_fail_over_without_touching_tasks_and_refuse_writes_without_quorum() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut ha = Ha::start(dir.path());
    let leader = ha.one_leader(Duration::from_secs(60));
    let standby = (leader + 1) % 3;

    // A write through a standby reaches the leader.
    let app = json!({"id": "/web", "cmd": "python3 -m http.server $PORT0 --bind 127.0.0.1",
                     "instances": 2, "cpus": 0.1, "mem": 32});
    // 409 on a retry means an earlier attempt was stored but its answer lost.
    wait_until(
        Duration::from_secs(30),
        "the app accepted via a standby",
        || {
            let (status, _) = ha.post(standby, "/v2/apps", &app)?;
            matches!(status, 201 | 409).then_some(())
        },
    );
    let before = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        wait_until(Duration::from_secs(60), "two running tasks", || {
            ha.task_ids(leader, "/web").filter(|ids| ids.len() == 2)
        })
    }))
    .unwrap_or_else(|_| panic!("no two running tasks of /web\n{}", ha.logs()));
    let ports = ha.task_ports(leader, "/web");
    wait_until(Duration::from_secs(30), "the app answers", || {
        ports.iter().all(|p| answers(*p)).then_some(())
    });
    // Every master serves the replicated state: the standby lists the same tasks.
    wait_until(Duration::from_secs(10), "the standby's copy", || {
        (ha.task_ids(standby, "/web")? == before).then_some(())
    });

    // The leader dies. Another master takes over; the tasks are the same and keep answering.
    // The leader's node dies: its master and the etcd member beside it.
    ha.masters[leader].kill();
    ha.etcd[leader].kill();
    let killed_at = Instant::now();
    let survivor = (leader + 1) % 3;
    wait_until(
        Duration::from_secs(30),
        "a write accepted after failover",
        || {
            // A new app, with no instances: the app under test is left alone.
            let probe = json!({"id": "/probe", "cmd": "sleep 1000", "instances": 0});
            let (status, _) = ha.post(survivor, "/v2/apps", &probe)?;
            (status == 201).then_some(())
        },
    );
    let failover = killed_at.elapsed();
    let new_leader = ha.one_leader(Duration::from_secs(30));
    assert_ne!(new_leader, leader);
    assert!(
        ports.iter().all(|p| answers(*p)),
        "the app stopped answering during failover"
    );
    eprintln!("failover: writes accepted {failover:?} after the leader was killed");

    // The old master comes back as a standby naming the new leader.
    ha.etcd[leader].restart();
    wait_healthy(&ha.etcd[leader].client_url);
    ha.masters[leader].start();
    assert_eq!(ha.one_leader(Duration::from_secs(30)), new_leader);

    // Two of three masters (and their etcd members) stop: writes 503, reads still answer.
    let others: Vec<usize> = (0..3).filter(|i| *i != new_leader).collect();
    let last = others[0];
    // The standby's own copy holds both apps (it refreshes every second).
    wait_until(
        Duration::from_secs(10),
        "the standby's copy of /probe",
        || {
            let (_, ha_state) = ha.get(last, "/strato/v1/ha")?;
            (ha_state["copy"]["apps"] == 2).then_some(())
        },
    );
    for i in [new_leader, others[1]] {
        ha.masters[i].kill();
        ha.etcd[i].kill();
    }
    let (status, body) = wait_until(Duration::from_secs(20), "a refused write", || {
        let answer = ha.post(
            last,
            "/v2/apps",
            &json!({"id": "/during", "cmd": "sleep 1000"}),
        )?;
        (answer.0 == 503).then_some(answer)
    });
    assert_eq!(status, 503);
    assert!(
        body["message"]
            .as_str()
            .unwrap_or("")
            .contains("Quorum lost"),
        "{body}"
    );
    let (status, body) = ha.get(last, "/v2/apps/probe").expect("read without quorum");
    assert_eq!(status, 200, "master-{last}: {body}\n{}", ha.logs());
    assert_eq!(body["app"]["id"], "/probe");

    // They come back: writes are accepted again, nothing was lost.
    for i in [new_leader, others[1]] {
        ha.etcd[i].restart();
        wait_healthy(&ha.etcd[i].client_url);
        ha.masters[i].start();
    }
    let leader = ha.one_leader(Duration::from_secs(60));
    wait_until(Duration::from_secs(30), "a write accepted again", || {
        let (status, _) = ha.post(
            leader,
            "/v2/apps",
            &json!({"id": "/after", "cmd": "sleep 1000", "cpus": 0.1, "mem": 16}),
        )?;
        (status == 201).then_some(())
    });
    let after = wait_until(Duration::from_secs(30), "the first app's tasks", || {
        ha.task_ids(leader, "/web").filter(|ids| ids.len() == 2)
    });
    assert_eq!(after, before, "tasks were replaced");
    assert!(ports.iter().all(|p| answers(*p)));
}
