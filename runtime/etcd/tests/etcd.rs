//! The etcd Store and Leadership against real etcd members on loopback.

use std::time::{Duration, Instant};

use strato_etcd::testing::{cluster, EtcdMember};
use strato_etcd::{connect, EtcdLeadership, EtcdOptions, EtcdStore};
use strato_store::{Leadership, Op, Store, StoreError, Table, Term};

fn options(members: &[EtcdMember]) -> EtcdOptions {
    EtcdOptions {
        endpoints: members.iter().map(|m| m.client_url.clone()).collect(),
        tls: None,
        request_timeout: Duration::from_secs(2),
    }
}

async fn store(members: &[EtcdMember]) -> EtcdStore {
    let options = options(members);
    EtcdStore::new(
        connect(&options, Some(options.request_timeout))
            .await
            .expect("connect"),
    )
}

async fn leadership(members: &[EtcdMember]) -> EtcdLeadership {
    let options = options(members);
    EtcdLeadership::new(
        connect(&options, None).await.expect("connect"),
        connect(&options, Some(options.request_timeout))
            .await
            .expect("connect"),
        Duration::from_secs(2),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commits_are_atomic_listed_by_prefix_and_survive_a_member_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut members = cluster(dir.path(), 1);
    let store = store(&members).await;
    let term = Term::solo();
    store
        .commit(
            &term,
            vec![
                Op::put(Table::Apps, "/shop/web", b"{}".to_vec()),
                Op::put(Table::AppVersions, "/shop/web@1", b"v1".to_vec()),
                Op::put(Table::AppVersions, "/shop/web@2", b"v2".to_vec()),
                Op::put(Table::AppVersions, "/shop/webx@1", b"other".to_vec()),
            ],
        )
        .await
        .expect("commit");
    let versions = store
        .list(Table::AppVersions, "/shop/web@")
        .await
        .expect("list");
    let keys: Vec<&str> = versions.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["/shop/web@1", "/shop/web@2"]);
    // 250 operations: more than etcd takes in one transaction, still all written.
    let many: Vec<Op> = (0..250)
        .map(|i| Op::put(Table::Tasks, format!("t{i:03}"), vec![b'x'; 10]))
        .collect();
    store.commit(&term, many).await.expect("big commit");
    assert_eq!(store.list(Table::Tasks, "").await.expect("list").len(), 250);
    members[0].kill();
    members[0].restart();
    strato_etcd::testing::wait_healthy(&members[0].client_url);
    let poll_deadline = Instant::now() + Duration::from_secs(15);
    let app = loop {
        match store.get(Table::Apps, "/shop/web").await {
            Ok(app) => break app,
            Err(error) if Instant::now() < poll_deadline => {
                let _ = error;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(error) => panic!("store not back after restart: {error}"),
        }
    };
    assert_eq!(app, Some(b"{}".to_vec()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_leader_at_a_time_and_a_resigned_leader_can_no_longer_write() {
    let dir = tempfile::tempdir().expect("tempdir");
    let members = cluster(dir.path(), 1);
    let store = store(&members).await;
    let first = leadership(&members).await;
    let second = leadership(&members).await;
    let term = first.campaign("10.0.0.1:5050").await.expect("first wins");
    assert_eq!(
        first.leader().await.expect("leader").as_deref(),
        Some("10.0.0.1:5050")
    );
    store
        .commit(&term, vec![Op::put(Table::Meta, "k", b"1".to_vec())])
        .await
        .expect("the leader writes");
    let contender = tokio::spawn(async move {
        let term = second.campaign("10.0.0.2:5050").await;
        (second, term)
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !contender.is_finished(),
        "a second leader while the first holds"
    );
    first.resign(&term).await.expect("resign");
    let (second, new_term) = tokio::time::timeout(Duration::from_secs(10), contender)
        .await
        .expect("the second master wins after the first resigns")
        .expect("join");
    let new_term = new_term.expect("campaign");
    assert_eq!(
        second.leader().await.expect("leader").as_deref(),
        Some("10.0.0.2:5050")
    );
    let stale = store
        .commit(&term, vec![Op::put(Table::Meta, "k", b"stale".to_vec())])
        .await;
    assert!(matches!(stale, Err(StoreError::Fenced)), "{stale:?}");
    store
        .commit(&new_term, vec![Op::put(Table::Meta, "k", b"2".to_vec())])
        .await
        .expect("the new leader writes");
    assert_eq!(
        store.get(Table::Meta, "k").await.expect("get"),
        Some(b"2".to_vec())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_whose_lease_lapses_steps_down_and_another_takes_over() {
    let dir = tempfile::tempdir().expect("tempdir");
    let members = cluster(dir.path(), 1);
    let first = leadership(&members).await;
    let term = first.campaign("10.0.0.1:5050").await.expect("first wins");
    // The second master campaigns while the first's lease is revoked behind its back (what etcd
    // does when the leader's node is cut off past the TTL).
    let second = leadership(&members).await;
    let contender = tokio::spawn(async move { second.campaign("10.0.0.2:5050").await });
    let options = options(&members);
    let mut client = connect(&options, Some(options.request_timeout))
        .await
        .expect("connect");
    client.lease_revoke(term.lease).await.expect("revoke");
    tokio::time::timeout(Duration::from_secs(5), term.ended())
        .await
        .expect("the first master learns its term ended");
    tokio::time::timeout(Duration::from_secs(10), contender)
        .await
        .expect("the second master wins")
        .expect("join")
        .expect("campaign");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_majority_commits_fail_fast_as_quorum_lost_and_succeed_once_it_returns() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut members = cluster(dir.path(), 3);
    let store = store(&members[..1]).await;
    let term = Term::solo();
    store
        .commit(&term, vec![Op::put(Table::Meta, "before", b"1".to_vec())])
        .await
        .expect("commit with quorum");
    members[1].kill();
    members[2].kill();
    let started = Instant::now();
    let refused = store
        .commit(&term, vec![Op::put(Table::Meta, "during", b"1".to_vec())])
        .await;
    assert!(
        matches!(refused, Err(StoreError::QuorumLost { .. })),
        "{refused:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    members[1].restart();
    members[2].restart();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match store
            .commit(&term, vec![Op::put(Table::Meta, "after", b"1".to_vec())])
            .await
        {
            Ok(()) => break,
            Err(error) => {
                assert!(Instant::now() < deadline, "no quorum again: {error}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    assert_eq!(
        store.get(Table::Meta, "before").await.expect("get"),
        Some(b"1".to_vec())
    );
}
