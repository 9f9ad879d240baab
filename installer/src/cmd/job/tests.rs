//! The job driver: cluster.yaml rewriting for the server, and following a job across a server
//! restart.

use super::*;

#[tokio::test]
async fn following_survives_a_server_restart_mid_job() {
    use strato_engine::testing::*;
    use strato_engine::{Journal, StaticConnector};
    use strato_host::Transport;

    let (_d, dir) = tempdir();
    let yaml = small_cluster();
    serve_tree(&dir, &yaml);
    let operator = operator_tls(&dir.join("pki"));
    let start = |listen: SocketAddr, nodes: Vec<(&'static str, Arc<dyn Transport>)>| {
        let mut connector = StaticConnector::new();
        for (addr, t) in nodes {
            connector = connector.with(addr, t);
        }
        strato_bootstrap::start(
            strato_bootstrap::ServerOptions {
                data_dir: dir.clone(),
                listen,
                token: "t".into(),
                serve_url: None,
                pki_dir: dir.join("pki"),
                https: true,
            },
            Arc::new(connector),
        )
    };
    let reached = Arc::new(tokio::sync::Notify::new());
    let hang = Hang {
        inner: fresh_node(AGENT_2, 3),
        prefix: "sh /opt/strato/tmp/install.sh".into(),
        reached: reached.clone(),
    };
    let first: Vec<(&'static str, Arc<dyn Transport>)> = vec![
        (MASTER, Arc::new(fresh_node(MASTER, 1))),
        (AGENT_1, Arc::new(fresh_node(AGENT_1, 2))),
        (AGENT_2, Arc::new(hang)),
    ];
    let server = start("127.0.0.1:0".parse().expect("addr"), first)
        .await
        .expect("start");
    let addr = server.addr;
    let client = Client::with_tls(format!("https://{addr}"), "t", &operator).expect("client");
    let job = client
        .submit(&request(JobKind::Deploy, &yaml, JobOptions::default()))
        .await
        .expect("submit");
    let follower = {
        let (client, id) = (client.clone(), job.id.clone());
        tokio::spawn(async move {
            let mut progress = Progress::new(Mode::Json);
            follow(&client, &id, &mut progress).await
        })
    };
    tokio::time::timeout(Duration::from_secs(30), reached.notified())
        .await
        .expect("agent 2 hangs");
    let journal = Journal::at(dir.join("jobs").join(&job.id));
    let until = Instant::now() + Duration::from_secs(30);
    while journal
        .read_host(AGENT_1)
        .expect("record")
        .done("Install agents")
        .is_none()
    {
        assert!(Instant::now() < until, "agent 1 never finished");
        tokio::task::yield_now().await;
    }
    drop(server);
    let second: Vec<(&'static str, Arc<dyn Transport>)> = vec![
        (MASTER, Arc::new(fresh_node(MASTER, 1))),
        (AGENT_1, Arc::new(fresh_node(AGENT_1, 2))),
        (AGENT_2, Arc::new(fresh_node(AGENT_2, 3))),
    ];
    // The old listener closes once its aborted task is dropped: retry the bind briefly.
    let until = Instant::now() + Duration::from_secs(10);
    let _server = loop {
        match start(addr, second.clone()).await {
            Ok(s) => break s,
            Err(e) => assert!(Instant::now() < until, "cannot restart on {addr}: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let done = tokio::time::timeout(Duration::from_secs(60), follower)
        .await
        .expect("the follower finishes")
        .expect("task")
        .expect("job");
    assert_eq!(
        done.state,
        strato_api::JobState::Succeeded,
        "{:#?}",
        done.hosts
    );
}

#[test]
fn rewritten_cluster_yaml_is_valid_for_the_server_with_the_new_paths() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = dir.path().join("id_ed25519");
    std::fs::write(&key, "not really a key").expect("key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
    let text = "cluster_name: demo\nbootstrap: 10.0.0.1\nssh:\n  key_path: ./id_ed25519\n\
                masters: [10.0.0.2]\nagents: [{address: 10.0.0.3, port: 2222}]\nhardware: minimal\n";
    let config = dir.path().join("cluster.yaml");
    std::fs::write(&config, text).expect("cluster.yaml");
    let loaded = load(&config).expect("valid");
    let moved = dir.path().join("server-copy");
    std::fs::copy(&key, &moved).expect("copy");
    let yaml = rewrite_files(&loaded.cluster, &loaded.base, |p| {
        assert_eq!(p, key.as_path());
        Ok(moved.clone())
    })
    .expect("rewrite");
    let back = strato_engine::parse_cluster(&yaml, Path::new("/nonexistent"))
        .expect("valid on the server");
    assert_eq!(back.ssh.key_path.as_deref(), Some(moved.as_path()));
    assert_eq!(back.agents[0].port, Some(2222));
    assert_eq!(back.hardware, loaded.cluster.hardware);
}
