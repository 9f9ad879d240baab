//! SshTransport against the real sshd harness of strato-ssh's tests: the Transport seam and
//! fact gathering work over SSH exactly as locally.
#![cfg(target_os = "linux")]

#[path = "../../ssh/tests/common/mod.rs"]
mod common;

use std::sync::Arc;

use strato_host::{Change, GatherSpec, Host, SshTransport, Transport, UploadOptions};
use strato_ssh::Session;

#[tokio::test]
async fn ssh_transport_execs_uploads_and_gathers_facts() {
    let sshd = common::Sshd::start();
    let session = Session::connect(&sshd.target(), &sshd.options(&sshd.keys.ed25519), None)
        .await
        .expect("connect");
    let transport = Arc::new(SshTransport::new(session));
    assert_eq!(transport.address(), format!("root@127.0.0.1:{}", sshd.port));

    let path = sshd.dir.path().join("via-host");
    let host = Host::new("node-1", transport.clone());
    host.apply(Change::upload_sudo(
        vec![0, 1, 2, 255],
        path.to_str().expect("utf-8"),
        0o644,
    ))
    .await
    .expect("upload");
    let back = transport
        .download(path.to_str().expect("utf-8"), UploadOptions::default())
        .await
        .expect("download");
    assert_eq!(back, vec![0, 1, 2, 255]);

    let facts = host
        .gather_facts(&GatherSpec {
            data_dir: "/var/lib/strato".into(),
            binaries: vec!["sh".into()],
            ip_detect: Some("echo 127.0.0.1".into()),
        })
        .await
        .expect("gather over ssh");
    assert!(facts.problems.is_empty(), "{:?}", facts.problems);
    assert!(facts
        .listeners
        .as_ref()
        .is_some_and(|l| l.iter().any(|l| l.port == sshd.port)));
    assert_eq!(
        facts.ip_detect.map(|d| d.output),
        Some("127.0.0.1".to_string())
    );
}
