//! Registration, heartbeats and re-registration against a fake master.

use strato_agent::Agent;
use strato_proto::{TaskState, ROLE_DEFAULT};

use crate::common::{config, eventually, task, FakeMaster, Harness};

#[tokio::test]
async fn registers_with_the_first_master_that_answers_and_heartbeats() {
    let master = FakeMaster::start().await;
    let work = tempfile::tempdir().expect("work dir");
    let mut cfg = config(&master, work.path(), true);
    // Nothing listens on port 1 on loopback: the agent must move on to the next master.
    cfg.masters = vec!["127.0.0.1:1".into(), master.addr.to_string()];
    cfg.attributes.insert("rack".into(), "r1".into());
    let agent = Agent::start(cfg).await.expect("agent starts");
    let port = agent.local_addr().port();
    let mut h = Harness {
        master,
        work,
        agent: Some(agent),
        http: strato_tls::client(),
    };

    let reg = eventually("a registration", || async {
        h.master.with(|r| r.registrations.first().cloned())
    })
    .await;
    assert_eq!(reg.agent.port, port);
    assert_eq!(reg.agent.address, "127.0.0.1");
    assert_eq!(reg.agent.role, ROLE_DEFAULT);
    // The bundle's VERSION file (none beside test binaries: the crate version).
    assert_eq!(
        reg.agent.version,
        strato_runtime_types::version::runtime_version()
    );
    assert_eq!(
        reg.agent.attributes.get("rack").map(String::as_str),
        Some("r1")
    );
    assert!(reg.agent.resources.cpus >= 1.0);
    assert!(reg.agent.resources.mem > 0.0);
    assert_eq!(reg.agent.resources.ports[0].begin, 31000);
    assert!(reg.tasks.is_empty());

    // Heartbeats carry every task's status.
    h.launch(&task("hb.1", "sleep 300")).await;
    h.wait_state("hb.1", TaskState::Running).await;
    eventually("a heartbeat listing the running task", || async {
        h.master.with(|r| {
            r.heartbeats
                .iter()
                .any(|b| {
                    b.agent_id == reg.agent.id
                        && b.tasks
                            .iter()
                            .any(|t| t.task_id == "hb.1" && t.state == TaskState::Running)
                })
                .then_some(())
        })
    })
    .await;
    h.stop().await;
}

#[tokio::test]
async fn registers_again_when_the_master_forgets_the_agent() {
    let mut h = Harness::start().await;
    eventually("first registration", || async {
        h.master
            .with(|r| (!r.registrations.is_empty()).then_some(()))
    })
    .await;
    h.launch(&task("again.1", "sleep 300")).await;
    h.wait_state("again.1", TaskState::Running).await;

    h.master
        .known
        .store(false, std::sync::atomic::Ordering::SeqCst);
    let again = eventually("a second registration", || async {
        h.master.with(|r| r.registrations.get(1).cloned())
    })
    .await;
    assert_eq!(
        again.agent.id,
        h.master.with(|r| r.registrations[0].agent.id.clone())
    );
    assert!(again
        .tasks
        .iter()
        .any(|t| t.task_id == "again.1" && t.state == TaskState::Running));
    h.stop().await;
}

#[tokio::test]
async fn updates_made_while_no_master_answers_are_delivered_later() {
    // Reserve a port for the master, start the agent first, then the master on that port.
    let work = tempfile::tempdir().expect("work dir");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let placeholder = FakeMaster {
        addr,
        recorded: Default::default(),
        known: Default::default(),
    };
    let agent = Agent::start(config(&placeholder, work.path(), true))
        .await
        .expect("agent starts");
    let url = format!("http://{}", agent.local_addr());
    let http = strato_tls::client();
    http.post(format!("{url}/v1/tasks"))
        .json(&task("early.1", "true"))
        .send()
        .await
        .expect("launch");

    let master = FakeMaster::start_on(addr).await;
    let states = eventually("the early task's updates", || async {
        let s = master.states_of("early.1");
        (s.last() == Some(&TaskState::Finished)).then_some(s)
    })
    .await;
    assert_eq!(states.first(), Some(&TaskState::Staging));
    agent.stop().await;
}
