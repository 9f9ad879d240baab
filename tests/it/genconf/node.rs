//! install.sh as a node runs it, under a scratch root with stand-ins for systemctl and ip: signed
//! and verified downloads (from a directory and over loopback HTTP), idempotent re-runs, versions
//! side by side (upgrade, rollback, pruning, a node of the layout before versions), uninstall.
use super::*;

pub(super) struct Node {
    pub(super) root: PathBuf,
    fake_bin: PathBuf,
}

impl Node {
    pub(super) fn new(project: &Project) -> Node {
        let root = project.path("node-root");
        let fake_bin = project.path("fake-bin");
        std::fs::create_dir_all(&fake_bin).expect("mkdir");
        let log = project.path("systemctl.log");
        let systemctl = format!("#!/bin/sh\necho \"$*\" >> '{}'\n", log.display());
        for (name, body) in [
            ("systemctl", systemctl.as_str()),
            ("ip", "#!/bin/sh\nexit 0\n"),
        ] {
            let path = fake_bin.join(name);
            std::fs::write(&path, body).expect("write fake");
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        // What `strato deploy` puts on a node before install.sh: the tree's public signing key,
        // made by genconf beside cluster.yaml.
        let key = project.path(".strato/pki/serve-signing.pub");
        if key.exists() {
            let dest = root.join("opt/strato/etc/tls");
            std::fs::create_dir_all(&dest).expect("mkdir");
            std::fs::copy(&key, dest.join("serve-signing.pub")).expect("copy key");
        }
        Node { root, fake_bin }
    }

    pub(super) fn run(&self, script: &Path, args: &[&str]) -> std::process::Output {
        let path = format!(
            "{}:{}",
            self.fake_bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        Command::new("sh")
            .arg(script)
            .args(args)
            .env("STRATO_ROOT", &self.root)
            .env("PATH", path)
            .output()
            .expect("run script")
    }

    pub(super) fn file(&self, rel: &str) -> String {
        std::fs::read_to_string(self.root.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }

    /// Where the symlink `rel` points (as written: relative), `None` when it is no symlink.
    pub(super) fn link(&self, rel: &str) -> Option<String> {
        std::fs::read_link(self.root.join(rel))
            .ok()
            .map(|p| p.to_string_lossy().into_owned())
    }

    /// The node's versioned layout: `current` (and `previous`) point at these versions'
    /// directories, each with its VERSION, and the units' binaries follow `current`.
    pub(super) fn assert_versions(&self, current: &str, previous: Option<&str>, binaries: &[&str]) {
        assert_eq!(
            self.link("opt/strato/current").as_deref(),
            Some(format!("versions/{current}").as_str())
        );
        assert_eq!(
            self.link("opt/strato/previous"),
            previous.map(|p| format!("versions/{p}"))
        );
        assert_eq!(
            self.file("opt/strato/current/VERSION"),
            format!("{current}\n")
        );
        if let Some(previous) = previous {
            assert_eq!(
                self.file("opt/strato/previous/VERSION"),
                format!("{previous}\n")
            );
        }
        for bin in binaries {
            assert_eq!(
                self.link(&format!("opt/strato/bin/{bin}")).as_deref(),
                Some(format!("../current/bin/{bin}").as_str()),
                "{bin} follows current"
            );
        }
    }

    /// The version directories on the node, sorted.
    pub(super) fn versions(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.root.join("opt/strato/versions"))
            .expect("versions dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

pub(super) fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn install_verifies_installs_is_idempotent_and_uninstalls() {
    let project = Project::new();
    let bundle = project.bundle();
    project
        .genconf("serve", &["--bundle", bundle.to_str().expect("utf-8")])
        .success();
    let serve = project.path("serve");
    let node = Node::new(&project);
    let install = serve.join("install.sh");
    let from = serve.to_str().expect("utf-8");

    let first = node.run(
        &install,
        &["--from", from, "--host", "10.0.0.30", "public_agent"],
    );
    assert!(first.status.success(), "{}", stderr(&first));
    assert_eq!(node.file("opt/strato/etc/ip.env"), "STRATO_IP=10.0.0.42\n");
    // The host has labels: its own agent.toml, public, with them as attributes.
    let agent_toml = node.file("opt/strato/etc/agent.toml");
    assert_eq!(
        agent_toml,
        std::fs::read_to_string(serve.join("config/hosts/10.0.0.30/agent.toml")).expect("read")
    );
    assert!(
        agent_toml.contains("public = true")
            && agent_toml.contains("attributes = { \"rack\" = \"r1\" }")
    );
    assert!(node
        .file("opt/strato/bin/strato-agent")
        .contains("echo strato-agent"));
    // The bundle's version, in its own directory, which current points at.
    node.assert_versions("0.1.0", None, &["strato-agent"]);
    assert!(node
        .file("opt/strato/versions/0.1.0/bin/strato-agent")
        .contains("echo strato-agent"));
    assert!(
        !node.root.join("opt/strato/bin/strato-master").exists(),
        "only the role's binary"
    );
    assert!(node
        .file("etc/systemd/system/strato-agent.service")
        .contains("ExecStart=/opt/strato/bin/strato-agent"));
    let log = std::fs::read_to_string(project.path("systemctl.log")).expect("log");
    assert!(
        log.contains("enable strato-agent.service") && log.contains("restart strato-agent.service"),
        "{log}"
    );

    let again = node.run(&install, &["--from", from, "public_agent"]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("nothing changed"),
        "{}",
        stderr(&again)
    );
    let log = std::fs::read_to_string(project.path("systemctl.log")).expect("log");
    assert_eq!(
        log.matches("restart").count(),
        1,
        "a re-run restarts nothing: {log}"
    );

    // A new bundle of the same version: upgrade.sh re-runs the verified install.sh, which
    // replaces the changed binary in that version's directory and restarts the unit.
    let bundle_src = project.path("bundle-src/strato-0.1.0/bin/strato-agent");
    std::fs::write(&bundle_src, "#!/bin/sh\necho strato-agent v2 \"$@\"\n").expect("new binary");
    assert_eq!(project.pack(), bundle);
    project
        .genconf("serve", &["--bundle", bundle.to_str().expect("utf-8")])
        .success();
    let upgrade = node.run(
        &node.root.join("opt/strato/bin/upgrade.sh"),
        &["--from", from],
    );
    assert!(upgrade.status.success(), "{}", stderr(&upgrade));
    assert!(node.file("opt/strato/bin/strato-agent").contains("v2"));
    node.assert_versions("0.1.0", None, &["strato-agent"]);
    assert_eq!(
        node.file("opt/strato/etc/agent.toml"),
        agent_toml,
        "the host's own config is kept"
    );
    let log = std::fs::read_to_string(project.path("systemctl.log")).expect("log");
    assert_eq!(
        log.matches("restart").count(),
        2,
        "the upgrade restarts the unit once: {log}"
    );

    let other_role = node.run(&install, &["--from", from, "master"]);
    assert!(!other_role.status.success());
    assert!(
        stderr(&other_role).contains("already a Strato public_agent"),
        "{}",
        stderr(&other_role)
    );

    let uninstall = node.run(&node.root.join("opt/strato/bin/uninstall.sh"), &[]);
    assert!(uninstall.status.success(), "{}", stderr(&uninstall));
    assert!(
        !node.root.join("opt/strato").exists(),
        "versions, current and previous go with it"
    );
    assert!(!node
        .root
        .join("etc/systemd/system/strato-agent.service")
        .exists());
    assert!(
        node.root.join("var/lib/strato").exists(),
        "data is kept without --purge"
    );
    let purge = node.run(&serve.join("uninstall.sh"), &["--purge"]);
    assert!(purge.status.success(), "{}", stderr(&purge));
    assert!(!node.root.join("var/lib/strato").exists());
}

/// Serves `dir` over HTTP on 127.0.0.1 (GET, one request per connection) for the test's life.
fn serve(dir: PathBuf) -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
            let mut request = String::new();
            let _ = reader.read_line(&mut request);
            let mut header = String::new();
            while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                header.clear();
            }
            let path = request
                .split_whitespace()
                .nth(1)
                .unwrap_or("/")
                .trim_start_matches('/');
            let body = if path.contains("..") {
                None
            } else {
                std::fs::read(dir.join(path)).ok()
            };
            let head = match &body {
                Some(b) => format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    b.len()
                ),
                None => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .into(),
            };
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body.unwrap_or_default());
        }
    });
    url
}

#[test]
fn install_downloads_the_tree_over_http() {
    let project = Project::new();
    let bundle = project.bundle();
    project
        .genconf("serve", &["--bundle", bundle.to_str().expect("utf-8")])
        .success();
    let url = serve(project.path("serve"));
    let node = Node::new(&project);
    // As on a node: fetch install.sh from the bootstrap URL, run it with that URL.
    let script = project.path("downloaded-install.sh");
    let fetched = Command::new("curl")
        .args(["-fsSL", "-o"])
        .arg(&script)
        .arg(format!("{url}/install.sh"))
        .status();
    assert!(fetched
        .expect("curl is installed (tests/run installs it)")
        .success());
    let out = node.run(&script, &["--url", &url, "master"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(node
        .file("opt/strato/etc/master.toml")
        .contains("masters = [\"10.0.0.10\", \"10.0.0.11\", \"10.0.0.12\"]"));
    assert!(node
        .file("opt/strato/bin/strato-master")
        .contains("echo strato-master"));
    // Three masters: the master also runs the bundle's etcd, started without waiting for a
    // quorum, before the master (which systemd orders after it).
    assert!(node.file("opt/strato/bin/etcd").contains("echo etcd"));
    assert!(node.file("opt/strato/bin/etcdctl").contains("echo etcdctl"));
    node.assert_versions("0.1.0", None, &["strato-master", "etcd", "etcdctl"]);
    assert!(node
        .file("etc/systemd/system/strato-etcd.service")
        .contains("--initial-cluster 10.0.0.10=https://10.0.0.10:2380,"));
    let log = std::fs::read_to_string(project.path("systemctl.log")).expect("log");
    let etcd_start = log
        .find("restart --no-block strato-etcd.service")
        .unwrap_or_else(|| panic!("etcd started without blocking:\n{log}"));
    let master_start = log
        .find("restart --no-block strato-master.service")
        .unwrap_or_else(|| panic!("master started without blocking:\n{log}"));
    assert!(etcd_start < master_start, "{log}");
    // Nothing changed: nothing restarts, etcd included.
    let again = node.run(&script, &["--url", &url, "master"]);
    assert!(again.status.success(), "{}", stderr(&again));
    let log = std::fs::read_to_string(project.path("systemctl.log")).expect("log");
    assert_eq!(
        log.matches("restart --no-block strato-etcd.service")
            .count(),
        1,
        "{log}"
    );
    assert!(
        log.contains("start --no-block strato-etcd.service"),
        "{log}"
    );
    let missing = node.run(&script, &["--url", &format!("{url}/nowhere"), "master"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains("cannot download"),
        "{}",
        stderr(&missing)
    );
}

#[test]
fn install_refuses_a_file_changed_after_genconf() {
    let project = Project::new();
    let bundle = project.bundle();
    project
        .genconf("serve", &["--bundle", bundle.to_str().expect("utf-8")])
        .success();
    let serve = project.path("serve");
    std::fs::write(
        serve.join("config/agent.toml"),
        "masters = [\"6.6.6.6:5050\"]\n",
    )
    .expect("tamper");
    let node = Node::new(&project);
    let out = node.run(
        &serve.join("install.sh"),
        &["--from", serve.to_str().expect("utf-8"), "agent"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("checksum mismatch for config/agent.toml"),
        "{}",
        stderr(&out)
    );
    assert!(
        !node.root.join("opt/strato/etc/agent.toml").exists(),
        "nothing installed"
    );
}

#[test]
fn install_without_a_bundle_says_how_to_add_one() {
    let project = Project::new();
    project
        .genconf("serve", &[])
        .success()
        .stderr(predicates::str::contains("no runtime bundle"));
    let node = Node::new(&project);
    let serve = project.path("serve");
    let out = node.run(
        &serve.join("install.sh"),
        &["--from", serve.to_str().expect("utf-8"), "agent"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--bundle"), "{}", stderr(&out));
}

/// A genconf tree with a bundle, and a node holding the cluster's signing key.
fn signed_tree() -> (Project, PathBuf, Node) {
    let project = Project::new();
    let bundle = project.bundle();
    project
        .genconf("serve", &["--bundle", bundle.to_str().expect("utf-8")])
        .success();
    let serve = project.path("serve");
    let node = Node::new(&project);
    (project, serve, node)
}

fn assert_refused(node: &Node, out: &std::process::Output, says: &str) {
    assert_eq!(out.status.code(), Some(1), "{}", stderr(out));
    assert!(stderr(out).contains(says), "{}", stderr(out));
    for file in [
        "opt/strato/etc/agent.toml",
        "opt/strato/bin",
        "opt/strato/versions",
        "opt/strato/current",
        "opt/strato/etc/role",
    ] {
        assert!(!node.root.join(file).exists(), "{file} was installed");
    }
}

/// What an attacker on the path can do to a tree guarded by checksums only: rewrite a file and
/// its SHA256SUMS line.
fn rewrite_with_matching_checksum(serve: &Path) {
    let evil = "masters = [\"6.6.6.6:5050\"]\n";
    std::fs::write(serve.join("config/agent.toml"), evil).expect("tamper");
    let sums = std::fs::read_to_string(serve.join("SHA256SUMS")).expect("sums");
    let digest = strato_render::sha256_hex(evil.as_bytes());
    let sums: String = sums
        .lines()
        .map(|l| match l.split_once("  ") {
            Some((_, "config/agent.toml")) => format!("{digest}  config/agent.toml\n"),
            _ => format!("{l}\n"),
        })
        .collect();
    std::fs::write(serve.join("SHA256SUMS"), sums).expect("rewrite sums");
}

#[test]
fn upgrade_refuses_a_tree_changed_with_matching_checksums_and_changes_nothing() {
    let (_project, serve, node) = signed_tree();
    let from = serve.to_str().expect("utf-8").to_string();
    let first = node.run(&serve.join("install.sh"), &["--from", &from, "agent"]);
    assert!(first.status.success(), "{}", stderr(&first));
    let before = node.file("opt/strato/etc/agent.toml");
    rewrite_with_matching_checksum(&serve);
    let out = node.run(
        &node.root.join("opt/strato/bin/upgrade.sh"),
        &["--from", &from],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("does not match its signature SHA256SUMS.sig"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        node.file("opt/strato/etc/agent.toml"),
        before,
        "nothing changed"
    );
}

#[test]
fn install_refuses_a_tree_changed_with_matching_checksums() {
    // Checksums alone would let this through; the signature no longer matches.
    let (_project, serve, node) = signed_tree();
    rewrite_with_matching_checksum(&serve);
    let out = node.run(
        &serve.join("install.sh"),
        &["--from", serve.to_str().expect("utf-8"), "agent"],
    );
    assert_refused(&node, &out, "does not match its signature SHA256SUMS.sig");
}

#[test]
fn install_refuses_an_unsigned_tree_and_a_node_without_the_key() {
    let (_project, serve, node) = signed_tree();
    let from = serve.to_str().expect("utf-8").to_string();
    std::fs::remove_file(serve.join("SHA256SUMS.sig")).expect("unsign");
    let out = node.run(&serve.join("install.sh"), &["--from", &from, "agent"]);
    assert_refused(&node, &out, "has no SHA256SUMS.sig: the tree is not signed");

    std::fs::remove_file(node.root.join("opt/strato/etc/tls/serve-signing.pub")).expect("rm key");
    let out = node.run(&serve.join("install.sh"), &["--from", &from, "agent"]);
    assert_refused(&node, &out, "has not been given the cluster's signing key");
}
