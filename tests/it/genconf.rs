//! `strato genconf` seen from outside: a real cluster.yaml in, the serve tree checked as a node
//! would use it (checksums, shellcheck, install/re-install/uninstall under a scratch root).
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::strato;

/// A cluster directory: cluster.yaml, a 0600 SSH key, an ip-detect script, a runtime bundle.
struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new() -> Project {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path();
        std::fs::write(p.join("id_ed25519"), "key\n").expect("key");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(p.join("id_ed25519"), std::fs::Permissions::from_mode(0o600))
                .expect("chmod");
        }
        std::fs::write(p.join("ip-detect.sh"), "#!/bin/sh\necho 10.0.0.42\n").expect("ip-detect");
        std::fs::write(
            p.join("cluster.yaml"),
            "cluster_name: demo\nbootstrap: 10.0.0.5\nssh:\n  user: centos\n  key_path: id_ed25519\n\
             masters: [10.0.0.10, 10.0.0.11, 10.0.0.12]\nagents: [10.0.0.20]\npublic_agents: [{address: 10.0.0.30, labels: {rack: r1}}]\n\
             network:\n  resolvers: [8.8.8.8]\n  ip_detect: ./ip-detect.sh\n",
        )
        .expect("cluster.yaml");
        Project { dir }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// A runtime bundle holding stand-in binaries that only print their arguments, with a
    /// stand-in etcd (the fixture has three masters).
    #[cfg(unix)]
    fn bundle(&self) -> PathBuf {
        let staging = self.path("bundle-src/strato-0.1.0/bin");
        std::fs::create_dir_all(&staging).expect("mkdir");
        for bin in ["strato-master", "strato-agent", "etcd", "etcdctl"] {
            std::fs::write(staging.join(bin), format!("#!/bin/sh\necho {bin} \"$@\"\n"))
                .expect("bin");
        }
        self.pack()
    }

    /// Packs `bundle-src/strato-0.1.0/bin` into a strato bundle whose manifest names the
    /// stand-in etcd as 3.5.17 (as `strato bundle --etcd F --etcd-version 3.5.17` would).
    fn pack(&self) -> PathBuf {
        pack_bundle(&self.path("bundle-src/strato-0.1.0/bin"), self.dir.path())
    }

    fn genconf(&self, out: &str, extra: &[&str]) -> assert_cmd::assert::Assert {
        strato()
            .current_dir(self.dir.path())
            .args(["genconf", "-c", "cluster.yaml", "--out-dir", out])
            .args(extra)
            .assert()
    }
}

/// A strato bundle of every file in `bin_dir` (`etcd` and `etcdctl` as the bundle's etcd,
/// version 3.5.17), written into `out`.
fn pack_bundle(bin_dir: &Path, out: &Path) -> PathBuf {
    let mut files: Vec<strato_bundle::PackFile> = std::fs::read_dir(bin_dir)
        .expect("read bin dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name != "etcd" && name != "etcdctl")
        .map(|name| strato_bundle::PackFile {
            path: format!("bin/{name}"),
            source: bin_dir.join(&name),
            mode: strato_bundle::BINARY_MODE,
        })
        .collect();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let inputs = strato_bundle::PackInputs {
        version: "0.1.0".into(),
        target: "x86_64-unknown-linux-gnu".into(),
        files,
        etcd_version: None,
    };
    let etcd = strato_bundle::EtcdSource {
        etcd: bin_dir.join("etcd"),
        etcdctl: Some(bin_dir.join("etcdctl")).filter(|p| p.is_file()),
        version: "3.5.17".into(),
    };
    strato_bundle::pack(&inputs.with_etcd(&etcd), out)
        .expect("pack the bundle")
        .path
}

fn read_tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path
                    .strip_prefix(dir)
                    .expect("under dir")
                    .to_string_lossy()
                    .replace('\\', "/");
                files.push((rel, std::fs::read(&path).expect("read")));
            }
        }
    }
    files.sort();
    files
}

/// The golden serve tree of tests/fixtures/genconf/cluster.yaml: every file, with a header each.
#[test]
fn golden_tree_for_the_fixture_cluster() {
    let project = Project::new();
    std::fs::copy(
        crate::common::fixture("genconf/cluster.yaml"),
        project.path("cluster.yaml"),
    )
    .expect("copy");
    // A bundle of stand-ins with a stand-in etcd: the fixture has three masters.
    let bins = project.path("bins");
    std::fs::create_dir_all(&bins).expect("mkdir");
    for name in ["strato-master", "strato-agent", "etcd"] {
        std::fs::write(bins.join(name), format!("a stand-in {name}\n")).expect("bin");
    }
    let bundle = pack_bundle(&bins, project.path("").as_path());
    project
        .genconf("serve", &["--bundle", bundle.to_str().expect("utf-8")])
        .success();
    // The signature is made with this run's fresh key: checked by the node tests
    // (genconf/node.rs), not comparable here.
    let dump: String = read_tree(&project.path("serve"))
        .into_iter()
        .filter(|(path, _)| !path.starts_with("bundle/") && path != "SHA256SUMS.sig")
        .map(|(path, bytes)| format!("===== {path}\n{}", String::from_utf8_lossy(&bytes)))
        .collect();
    insta::assert_snapshot!("genconf_fixture_tree", dump);
}

#[test]
fn genconf_is_deterministic_and_its_manifest_matches_the_files() {
    let project = Project::new();
    project.genconf("a", &[]).success();
    project.genconf("b", &[]).success();
    let a = read_tree(&project.path("a"));
    assert_eq!(a, read_tree(&project.path("b")), "two renders differ");

    let manifest: serde_json::Value = serde_json::from_slice(
        &a.iter()
            .find(|(p, _)| p == "manifest.json")
            .expect("manifest")
            .1,
    )
    .expect("json");
    let listed: Vec<&str> = manifest["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| f["path"].as_str().expect("path"))
        .collect();
    let on_disk: Vec<&str> = a
        .iter()
        .map(|(p, _)| p.as_str())
        .filter(|p| *p != "manifest.json" && *p != "SHA256SUMS.sig")
        .collect();
    assert_eq!(listed, on_disk, "manifest lists exactly the files, sorted");
    // The signature covers SHA256SUMS, which lists every other file; the manifest leaves it out
    // so that signing anew never changes the tree's digest.
    assert!(
        a.iter().any(|(p, _)| p == "SHA256SUMS.sig"),
        "the tree is signed"
    );
    for file in manifest["files"].as_array().expect("files") {
        let path = file["path"].as_str().expect("path");
        let bytes = &a
            .iter()
            .find(|(p, _)| p == path)
            .expect("listed file exists")
            .1;
        assert_eq!(file["size"].as_u64(), Some(bytes.len() as u64), "{path}");
        let sum = Command::new("sha256sum")
            .arg(project.path("a").join(path))
            .output()
            .expect("sha256sum");
        let sum = String::from_utf8_lossy(&sum.stdout);
        assert_eq!(
            file["sha256"].as_str(),
            sum.split_whitespace().next(),
            "{path}"
        );
    }
    let ip_detect = &a
        .iter()
        .find(|(p, _)| p == "ip-detect")
        .expect("ip-detect")
        .1;
    assert_eq!(
        ip_detect, b"#!/bin/sh\necho 10.0.0.42\n",
        "the script from network.ip_detect is copied"
    );
}

#[test]
fn genconf_refuses_an_invalid_cluster_yaml_naming_the_line() {
    let project = Project::new();
    std::fs::write(
        project.path("cluster.yaml"),
        "cluster_name: demo\nmasters: [10.0.0.300]\n",
    )
    .expect("write");
    project
        .genconf("serve", &[])
        .code(1)
        .stderr(predicates::str::contains("cluster.yaml:2:"))
        .stderr(predicates::str::contains("nothing rendered"));
    assert!(!project.path("serve").exists());
}

#[test]
fn genconf_without_cluster_yaml_is_a_usage_error() {
    let project = Project::new();
    strato()
        .current_dir(project.path(""))
        .args(["genconf", "-c", "nowhere.yaml", "--out-dir", "serve"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("nowhere.yaml does not exist"));
}

#[test]
fn every_rendered_script_passes_shellcheck() {
    let shellcheck = Command::new("shellcheck").arg("--version").output();
    assert!(
        shellcheck.is_ok_and(|o| o.status.success()),
        "shellcheck is not installed: run tests/run (it installs it) or apt-get install shellcheck"
    );
    let project = Project::new();
    // Route and interface ip-detect variants are rendered from templates too: check all three.
    let original = std::fs::read_to_string(project.path("cluster.yaml")).expect("read");
    for (ip_detect, out) in [("./ip-detect.sh", "s1"), ("route", "s2"), ("eth0", "s3")] {
        let yaml = original.replace(
            "ip_detect: ./ip-detect.sh",
            &format!("ip_detect: {ip_detect}"),
        );
        std::fs::write(project.path("cluster.yaml"), yaml).expect("write");
        project.genconf(out, &[]).success();
        let scripts: Vec<PathBuf> = read_tree(&project.path(out))
            .into_iter()
            .filter(|(path, bytes)| path.ends_with(".sh") || bytes.starts_with(b"#!/bin/sh"))
            .map(|(path, _)| project.path(out).join(path))
            .collect();
        assert!(
            scripts.len() >= 4,
            "install, upgrade, uninstall, ip-detect: {scripts:?}"
        );
        let result = Command::new("shellcheck")
            .args(["-s", "sh", "-S", "style"])
            .args(&scripts)
            .output()
            .expect("run shellcheck");
        assert!(
            result.status.success(),
            "shellcheck ({ip_detect}):\n{}",
            String::from_utf8_lossy(&result.stdout)
        );
    }
}

/// install.sh as a node runs it (Unix: the scripts are POSIX sh).
#[cfg(unix)]
mod node;
mod versions;

#[test]
fn genconf_of_three_masters_refuses_a_bundle_without_etcd_naming_the_flag() {
    let project = Project::new();
    let bins = project.path("bins");
    std::fs::create_dir_all(&bins).expect("mkdir");
    for name in strato_bundle::NODE_BINARIES {
        std::fs::write(bins.join(name), "#!/bin/sh\n").expect("bin");
    }
    let info = strato_bundle::pack(
        &strato_bundle::PackInputs::node_binaries(&bins).expect("inputs"),
        &project.path("out"),
    )
    .expect("pack");
    project
        .genconf("serve", &["--bundle", info.path.to_str().expect("utf-8")])
        .code(1)
        .stderr(predicates::str::contains(
            "3 masters keep their state in etcd",
        ))
        .stderr(predicates::str::contains("strato bundle --etcd PATH"));
    assert!(!project.path("serve").exists());

    // One master needs no etcd: the same bundle renders.
    let yaml = std::fs::read_to_string(project.path("cluster.yaml")).expect("read");
    std::fs::write(
        project.path("cluster.yaml"),
        yaml.replace(
            "masters: [10.0.0.10, 10.0.0.11, 10.0.0.12]",
            "masters: [10.0.0.10]",
        ),
    )
    .expect("write");
    project
        .genconf("serve", &["--bundle", info.path.to_str().expect("utf-8")])
        .success();
    assert!(!project.path("serve/systemd/strato-etcd.service").exists());
}
