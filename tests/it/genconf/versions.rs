//! Versions side by side on a node (`/opt/strato/versions/<V>`, `current`, `previous`):
//! install.sh switches and prunes, upgrade.sh rolls back without the serve tree, an etcd master's
//! member restarts only when its etcd changes, a node of the old layout is moved to the new one.

use super::node::{stderr, Node};
use super::*;

/// A serve tree (`serve-<version>`) whose bundle is stamped `version` (as `strato bundle
/// --version` stamps it): stand-in binaries that print their name and version, and a stand-in
/// etcd that prints `etcd`.
fn versioned_tree(project: &Project, version: &str, etcd: &str) -> PathBuf {
    let bins = project.path(&format!("bundle-src/{version}/bin"));
    std::fs::create_dir_all(&bins).expect("mkdir");
    for bin in ["strato-master", "strato-agent"] {
        std::fs::write(
            bins.join(bin),
            format!("#!/bin/sh\necho {bin} {version} \"$@\"\n"),
        )
        .expect("bin");
    }
    std::fs::write(bins.join("etcd"), format!("#!/bin/sh\necho etcd {etcd}\n")).expect("etcd");
    std::fs::write(bins.join("etcdctl"), "#!/bin/sh\necho etcdctl\n").expect("etcdctl");
    let files = ["strato-agent", "strato-master"]
        .into_iter()
        .map(|name| strato_bundle::PackFile {
            path: format!("bin/{name}"),
            source: bins.join(name),
            mode: strato_bundle::BINARY_MODE,
        })
        .collect();
    let inputs = strato_bundle::PackInputs {
        version: strato_bundle::VERSION.into(),
        target: "x86_64-unknown-linux-gnu".into(),
        files,
        etcd_version: None,
    }
    .with_version(version)
    .expect("a valid version")
    .with_etcd(&strato_bundle::EtcdSource {
        etcd: bins.join("etcd"),
        etcdctl: Some(bins.join("etcdctl")),
        version: "3.5.17".into(),
    });
    let bundle = strato_bundle::pack(&inputs, &project.path("bundles"))
        .expect("pack")
        .path;
    assert!(bundle.to_string_lossy().contains(version));
    let out = format!("serve-{version}");
    project
        .genconf(&out, &["--bundle", bundle.to_str().expect("utf-8")])
        .success();
    project.path(&out)
}

fn systemctl_log(project: &Project) -> String {
    std::fs::read_to_string(project.path("systemctl.log")).unwrap_or_default()
}

/// Install 0.1.0, upgrade to 0.2.0 beside it, roll back (without the serve tree), forward
/// again, then 0.3.0: the version neither current nor previous is removed.
#[test]
fn versions_live_side_by_side_and_roll_back_without_the_serve_tree() {
    let project = Project::new();
    let a = versioned_tree(&project, "0.1.0", "same");
    let b = versioned_tree(&project, "0.2.0", "same");
    let c = versioned_tree(&project, "0.3.0", "same");
    let node = Node::new(&project);
    let upgrade = node.root.join("opt/strato/bin/upgrade.sh");
    let restarts = || {
        systemctl_log(&project)
            .matches("restart strato-agent.service")
            .count()
    };
    let from = |tree: &Path| tree.to_str().expect("utf-8").to_string();

    let out = node.run(&a.join("install.sh"), &["--from", &from(&a), "agent"]);
    assert!(out.status.success(), "{}", stderr(&out));
    node.assert_versions("0.1.0", None, &["strato-agent"]);
    assert_eq!(restarts(), 1);
    // With nothing before it, there is nothing to roll back to: said, and nothing changes.
    let out = node.run(&upgrade, &["--rollback"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no previous version to roll back to"),
        "{}",
        stderr(&out)
    );
    node.assert_versions("0.1.0", None, &["strato-agent"]);
    assert_eq!(restarts(), 1);

    let out = node.run(&upgrade, &["--from", &from(&b)]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("switched") && stderr(&out).contains("from 0.1.0 to 0.2.0"),
        "{}",
        stderr(&out)
    );
    node.assert_versions("0.2.0", Some("0.1.0"), &["strato-agent"]);
    assert!(node
        .file("opt/strato/bin/strato-agent")
        .contains("echo strato-agent 0.2.0"));
    assert!(node
        .file("opt/strato/versions/0.1.0/bin/strato-agent")
        .contains("echo strato-agent 0.1.0"));
    assert_eq!(restarts(), 2, "the switch restarts the unit");
    // The same version again changes nothing.
    let out = node.run(&upgrade, &["--from", &from(&b)]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("nothing changed"), "{}", stderr(&out));
    node.assert_versions("0.2.0", Some("0.1.0"), &["strato-agent"]);
    assert_eq!(restarts(), 2);

    // Rollback needs nothing but the node: no --from, and the trees are gone.
    let away = project.path("trees-away");
    std::fs::create_dir_all(&away).expect("mkdir");
    for tree in [&a, &b] {
        std::fs::rename(tree, away.join(tree.file_name().expect("name"))).expect("move away");
    }
    let out = node.run(&upgrade, &["--rollback"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("upgrade.sh: rolled back to 0.1.0"),
        "{}",
        stderr(&out)
    );
    node.assert_versions("0.1.0", Some("0.2.0"), &["strato-agent"]);
    assert!(node
        .file("opt/strato/bin/strato-agent")
        .contains("echo strato-agent 0.1.0"));
    assert_eq!(restarts(), 3, "the rollback restarts the unit");
    let out = node.run(&upgrade, &["--rollback", "--from", &from(&c)]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("--rollback"), "{}", stderr(&out));
    for tree in [&a, &b] {
        std::fs::rename(away.join(tree.file_name().expect("name")), tree).expect("move back");
    }

    // Forward again, then a third version: 0.1.0, neither current nor previous, is removed.
    let out = node.run(&upgrade, &["--from", &from(&b)]);
    assert!(out.status.success(), "{}", stderr(&out));
    node.assert_versions("0.2.0", Some("0.1.0"), &["strato-agent"]);
    assert_eq!(restarts(), 4);
    let out = node.run(&upgrade, &["--from", &from(&c)]);
    assert!(out.status.success(), "{}", stderr(&out));
    node.assert_versions("0.3.0", Some("0.2.0"), &["strato-agent"]);
    assert_eq!(node.versions(), ["0.2.0", "0.3.0"]);
    assert!(
        stderr(&out).contains("removed version 0.1.0"),
        "{}",
        stderr(&out)
    );
    assert!(node
        .file("opt/strato/bin/strato-agent")
        .contains("echo strato-agent 0.3.0"));
    assert_eq!(restarts(), 5);

    // A rollback then a new version: the version rolled back from is the one removed.
    let out = node.run(&upgrade, &["--rollback"]);
    assert!(out.status.success(), "{}", stderr(&out));
    node.assert_versions("0.2.0", Some("0.3.0"), &["strato-agent"]);
    let out = node.run(&upgrade, &["--from", &from(&a)]);
    assert!(out.status.success(), "{}", stderr(&out));
    node.assert_versions("0.1.0", Some("0.2.0"), &["strato-agent"]);
    assert_eq!(node.versions(), ["0.1.0", "0.2.0"]);
}

/// On an etcd master the etcd member restarts only when its bytes differ between the versions;
/// the master restarts on every switch.
#[test]
fn an_etcd_master_restarts_etcd_only_when_the_versions_differ_in_it() {
    let project = Project::new();
    let a = versioned_tree(&project, "0.1.0", "3.5.17");
    let b = versioned_tree(&project, "0.2.0", "3.5.17");
    let c = versioned_tree(&project, "0.3.0", "3.5.18");
    let node = Node::new(&project);
    let upgrade = node.root.join("opt/strato/bin/upgrade.sh");
    let count = |what: &str| systemctl_log(&project).matches(what).count();
    let etcd = "restart --no-block strato-etcd.service";
    let master = "restart --no-block strato-master.service";
    let bins = ["strato-master", "etcd", "etcdctl"];
    let from = |tree: &Path| tree.to_str().expect("utf-8").to_string();

    let out = node.run(&a.join("install.sh"), &["--from", &from(&a), "master"]);
    assert!(out.status.success(), "{}", stderr(&out));
    node.assert_versions("0.1.0", None, &bins);
    assert_eq!((count(etcd), count(master)), (1, 1));

    let out = node.run(&upgrade, &["--from", &from(&b)]);
    assert!(out.status.success(), "{}", stderr(&out));
    node.assert_versions("0.2.0", Some("0.1.0"), &bins);
    assert_eq!(
        (count(etcd), count(master)),
        (1, 2),
        "the same etcd runs on"
    );

    let out = node.run(&upgrade, &["--from", &from(&c)]);
    assert!(out.status.success(), "{}", stderr(&out));
    node.assert_versions("0.3.0", Some("0.2.0"), &bins);
    assert_eq!(
        node.file("opt/strato/bin/etcd"),
        "#!/bin/sh\necho etcd 3.5.18\n"
    );
    assert_eq!(
        (count(etcd), count(master)),
        (2, 3),
        "a new etcd restarts it"
    );

    let out = node.run(&upgrade, &["--rollback"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("rolled back to 0.2.0"),
        "{}",
        stderr(&out)
    );
    node.assert_versions("0.2.0", Some("0.3.0"), &bins);
    assert_eq!(
        node.file("opt/strato/bin/etcd"),
        "#!/bin/sh\necho etcd 3.5.17\n"
    );
    assert_eq!((count(etcd), count(master)), (3, 4));
    let log = systemctl_log(&project);
    assert!(
        log.rfind(etcd) < log.rfind(master),
        "etcd before the master: {log}"
    );
}

/// A node installed before versions were kept side by side (binaries as files in bin/): the
/// next install moves it to the versioned layout, with no previous version to roll back to.
#[test]
fn a_node_of_the_layout_before_versions_is_moved_to_it() {
    let project = Project::new();
    let a = versioned_tree(&project, "0.1.0", "same");
    let node = Node::new(&project);
    let bin = node.root.join("opt/strato/bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    std::fs::write(bin.join("strato-agent"), "#!/bin/sh\necho the old agent\n").expect("old");
    let etc = node.root.join("opt/strato/etc");
    std::fs::write(etc.join("role"), "agent\n").expect("role");

    let from = a.to_str().expect("utf-8");
    let out = node.run(&a.join("install.sh"), &["--from", from, "agent"]);
    assert!(out.status.success(), "{}", stderr(&out));
    node.assert_versions("0.1.0", None, &["strato-agent"]);
    assert!(node
        .file("opt/strato/bin/strato-agent")
        .contains("echo strato-agent 0.1.0"));
    assert_eq!(
        systemctl_log(&project)
            .matches("restart strato-agent.service")
            .count(),
        1
    );
    let out = node.run(
        &node.root.join("opt/strato/bin/upgrade.sh"),
        &["--rollback"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no previous version to roll back to"),
        "{}",
        stderr(&out)
    );
}
