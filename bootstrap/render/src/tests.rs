//! Tests of the whole tree: golden snapshot, determinism, manifest, ip-detect variants, writing.
use super::*;

fn example() -> RenderInput {
    RenderInput {
        cluster_name: "demo".into(),
        masters: vec!["10.0.0.10".into(), "10.0.0.11".into(), "10.0.0.12".into()],
        resolvers: vec!["8.8.8.8".into(), "1.1.1.1:53".into()],
        dns_domain: "strato".into(),
        ip_detect: IpDetect::Route,
        bootstrap_url: Some("http://10.0.0.5:8090".into()),
        labelled_agents: Vec::new(),
        task_user: "strato-task".into(),
        agent_timeout_seconds: 45,
        allow_privileged_containers: false,
        container_parameters: vec!["label".into(), "cap-drop".into()],
        gateway: GatewayInput::default(),
        container_engine: None,
    }
}

fn debian_etcd() -> strato_bundle::EtcdInfo {
    strato_bundle::EtcdInfo {
        version: "3.4.23".into(),
        min_glibc: Some("2.34".parse().expect("valid")),
    }
}

fn one_master() -> RenderInput {
    RenderInput {
        masters: vec!["10.0.0.10".into()],
        ..example()
    }
}

fn with_bundle() -> RenderOptions {
    RenderOptions {
        bootstrap_url: None,
        bundle: Some(BundleRef {
            file_name: "strato-runtime-0.1.0.tar.gz".into(),
            sha256: "0".repeat(64),
            size: 1234,
            source: None,
            etcd: Some(debian_etcd()),
            version: Some("0.1.0".into()),
        }),
        ip_detect_script: None,
    }
}

fn text(tree: &RenderedTree, path: &str) -> String {
    String::from_utf8(tree.files[path].bytes.clone()).expect("utf-8")
}

#[test]
fn rendering_twice_gives_identical_bytes() {
    let a = render_input(&example(), &with_bundle()).expect("renders");
    let b = render_input(&example(), &with_bundle()).expect("renders");
    assert_eq!(a.files, b.files);
    assert_eq!(a.manifest, b.manifest);
}

#[test]
fn manifest_lists_every_file_but_itself_with_its_hash_sorted() {
    let tree = render_input(&example(), &with_bundle()).expect("renders");
    let paths: Vec<&str> = tree
        .manifest
        .files
        .iter()
        .map(|e| e.path.as_str())
        .collect();
    let mut sorted = paths.clone();
    sorted.sort_unstable();
    assert_eq!(paths, sorted);
    for (path, file) in &tree.files {
        if path == MANIFEST_PATH {
            assert!(
                tree.manifest.get(path).is_none(),
                "the manifest does not list itself"
            );
            continue;
        }
        let entry = tree
            .manifest
            .get(path)
            .unwrap_or_else(|| panic!("{path} not in manifest"));
        assert_eq!(entry.sha256, sha256_hex(&file.bytes), "{path}");
        assert_eq!(entry.size, file.bytes.len() as u64, "{path}");
    }
    let bundle = tree
        .manifest
        .get("bundle/strato-runtime-0.1.0.tar.gz")
        .expect("bundle listed");
    assert_eq!(bundle.size, 1234);
    let sums = text(&tree, SHA256SUMS_PATH);
    assert!(sums.contains(&format!(
        "{}  bundle/strato-runtime-0.1.0.tar.gz\n",
        "0".repeat(64)
    )));
    assert!(!sums.contains("manifest.json"));
}

#[test]
fn runtime_configs_carry_the_cluster_values() {
    let tree = render_input(&example(), &with_bundle()).expect("renders");
    let master = text(&tree, "config/master.toml");
    assert!(master.contains("cluster_name = \"demo\"\n"));
    assert!(master.contains("masters = [\"10.0.0.10\", \"10.0.0.11\", \"10.0.0.12\"]\n"));
    assert!(master.contains("resolvers = [\"8.8.8.8\", \"1.1.1.1:53\"]\n"));
    assert!(master.contains("agent_timeout_seconds = 45\n"), "{master}");
    assert!(
        master.contains("allow_privileged_containers = false\n"),
        "{master}"
    );
    assert!(
        master.contains("container_parameters = [\"label\", \"cap-drop\"]\n"),
        "{master}"
    );
    let agent = text(&tree, "config/agent.toml");
    assert!(
        agent.contains("masters = [\"10.0.0.10:5050\", \"10.0.0.11:5050\", \"10.0.0.12:5050\"]\n")
    );
    assert!(agent.contains("public = false\n"));
    assert!(text(&tree, "config/public-agent.toml").contains("public = true\n"));
}

#[test]
fn labelled_agents_get_their_own_config_with_attributes() {
    let mut input = example();
    input.labelled_agents = vec![LabelledAgent {
        address: "10.0.0.30".into(),
        public: true,
        labels: vec![
            ("rack".into(), "r1".into()),
            ("zone name".into(), "a \"b\"".into()),
        ],
        hostname: None,
    }];
    let tree = render_input(&input, &with_bundle()).expect("renders");
    let text = text(&tree, "config/hosts/10.0.0.30/agent.toml");
    assert!(text.contains("public = true\n"), "{text}");
    assert!(
        text.contains("attributes = { \"rack\" = \"r1\", \"zone name\" = \"a \\\"b\\\"\" }\n"),
        "{text}"
    );
    assert!(!self::text(&tree, "config/agent.toml").contains("attributes"));
    assert!(tree
        .manifest
        .get("config/hosts/10.0.0.30/agent.toml")
        .is_some());
}

#[test]
fn an_agent_with_a_hostname_gets_its_own_config_naming_it() {
    let mut input = example();
    input.labelled_agents = vec![LabelledAgent {
        address: "10.0.0.31".into(),
        public: false,
        labels: Vec::new(),
        hostname: Some("web-1.example.com".into()),
    }];
    let tree = render_input(&input, &with_bundle()).expect("renders");
    let text = text(&tree, "config/hosts/10.0.0.31/agent.toml");
    assert!(
        text.contains("hostname = \"web-1.example.com\"\n"),
        "{text}"
    );
    assert!(!text.contains("attributes"), "{text}");
    assert!(!self::text(&tree, "config/agent.toml").contains("hostname ="));
}

#[test]
fn ip_detect_follows_network_ip_detect() {
    let route = render_input(&example(), &with_bundle()).expect("renders");
    assert!(text(&route, "ip-detect").contains("ip -4 -o route get 10.0.0.10"));

    let mut by_iface = example();
    by_iface.ip_detect = IpDetect::parse("eth1");
    let tree = render_input(&by_iface, &with_bundle()).expect("renders");
    assert!(text(&tree, "ip-detect").contains("addr show dev eth1"));

    let mut script = example();
    script.ip_detect = IpDetect::Script {
        path: "./ip-detect.sh".into(),
        content: Some("#!/bin/sh\necho 10.1.1.1\n".into()),
    };
    let tree = render_input(&script, &with_bundle()).expect("renders");
    assert_eq!(text(&tree, "ip-detect"), "#!/bin/sh\necho 10.1.1.1\n");

    script.ip_detect = IpDetect::parse("./ip-detect.sh");
    let err = render_input(&script, &with_bundle()).expect_err("content missing");
    assert!(err.to_string().contains("./ip-detect.sh"), "{err}");
}

#[test]
fn bootstrap_url_option_overrides_cluster_value() {
    let mut opts = with_bundle();
    opts.bootstrap_url = Some("http://192.168.1.2:9000".into());
    let tree = render_input(&example(), &opts).expect("renders");
    assert!(text(&tree, "install.sh").contains("DEFAULT_URL=http://192.168.1.2:9000"));
}

#[test]
fn without_a_bootstrap_url_the_scripts_need_one_given() {
    let mut local = example();
    local.bootstrap_url = None;
    let tree = render_input(&local, &with_bundle()).expect("renders");
    let install = text(&tree, "install.sh");
    assert!(install.contains("DEFAULT_URL=''\n"));
    assert!(install.contains("no bootstrap URL: pass --url URL or --from DIR"));
}

#[test]
fn values_that_would_break_a_script_are_refused() {
    let mut bad = example();
    bad.cluster_name = "demo'; rm -rf /".into();
    let err = render_input(&bad, &with_bundle()).expect_err("refused");
    assert!(err.to_string().starts_with("cluster_name:"), "{err}");
    let mut bad = example();
    bad.ip_detect = IpDetect::Interface("eth0 $(reboot)".into());
    assert!(render_input(&bad, &with_bundle()).is_err());
}

#[test]
fn write_tree_writes_every_file_with_its_mode_and_drops_stale_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tree = render_input(&example(), &with_bundle()).expect("renders");
    write_tree(&tree, dir.path()).expect("writes");
    for (path, file) in &tree.files {
        assert_eq!(
            std::fs::read(dir.path().join(path)).expect("written"),
            file.bytes,
            "{path}"
        );
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("install.sh"))
            .expect("exists")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o755);
    }
    // A bundle really present in the tree: written by write_tree from its source.
    let bundle_src = dir.path().join("src.tar.gz");
    std::fs::write(&bundle_src, b"not really a tarball").expect("write");
    let mut bundle = BundleRef::from_file(&bundle_src).expect("hash");
    assert_eq!(bundle.etcd, None, "not a bundle: no etcd in it");
    assert_eq!(bundle.version, None, "not a bundle: no version");
    bundle.etcd = Some(debian_etcd());
    bundle.version = Some("0.2.0".into());
    bundle.file_name = "strato-runtime-0.2.0.tar.gz".into();
    let opts = RenderOptions {
        bundle: Some(bundle),
        ..RenderOptions::default()
    };
    let second = render_input(&example(), &opts).expect("renders");
    write_tree(&second, dir.path()).expect("writes");
    assert_eq!(
        std::fs::read(dir.path().join("bundle/strato-runtime-0.2.0.tar.gz")).expect("copied"),
        b"not really a tarball"
    );
    assert!(!dir
        .path()
        .join("bundle/strato-runtime-0.1.0.tar.gz")
        .exists());
}

#[test]
fn a_signed_tree_keeps_its_manifest_and_signs_the_same_sums_the_same_way() {
    let pki = tempfile::tempdir().expect("tmp");
    let mut a = render_input(&example(), &with_bundle()).expect("renders");
    let manifest = a.manifest.clone();
    assert!(!a.is_signed());
    a.sign(pki.path()).expect("sign");
    assert!(a.is_signed());
    assert_eq!(a.manifest, manifest, "the signature is not in the manifest");
    assert!(a.manifest.get(SIGNATURE_PATH).is_none());

    // The same tree signed again carries the same signature (no spurious upload).
    let mut b = render_input(&example(), &with_bundle()).expect("renders");
    b.sign(pki.path()).expect("sign");
    assert_eq!(a.files[SIGNATURE_PATH], b.files[SIGNATURE_PATH]);

    // A new key signs anew, even for the same sums.
    std::fs::remove_file(pki.path().join(strato_tls::SIGNING_KEY)).expect("rm key");
    let mut c = render_input(&example(), &with_bundle()).expect("renders");
    c.sign(pki.path()).expect("sign");
    assert_ne!(a.files[SIGNATURE_PATH], c.files[SIGNATURE_PATH]);
}

#[test]
fn three_masters_run_etcd_on_the_node_ip_with_mutual_tls() {
    let tree = render_input(&example(), &with_bundle()).expect("renders");
    let unit = text(&tree, "systemd/strato-etcd.service");
    insta::assert_snapshot!("strato_etcd_service_3_masters", unit);
    // What an operator checks: peers from cluster.yaml, this node's IP and loopback only, TLS
    // both ways with the master's certificate of the etcd CA (never the cluster CA, whose agent
    // certificates must not open etcd), the data under the master's data dir.
    for expected in [
        "--initial-cluster 10.0.0.10=https://10.0.0.10:2380,10.0.0.11=https://10.0.0.11:2380,10.0.0.12=https://10.0.0.12:2380 ",
        "--listen-client-urls https://${STRATO_IP}:2379,https://127.0.0.1:2379 ",
        "--listen-peer-urls https://${STRATO_IP}:2380 ",
        "--name ${STRATO_IP} ",
        "--initial-cluster-token demo ",
        "--data-dir /var/lib/strato/master/etcd ",
        "--client-cert-auth ",
        "--peer-client-cert-auth ",
        "--cert-file /opt/strato/etc/tls/etcd.crt ",
        "--trusted-ca-file /opt/strato/etc/tls/etcd-ca.crt ",
        "--peer-trusted-ca-file /opt/strato/etc/tls/etcd-ca.crt ",
        "--peer-key-file /opt/strato/etc/tls/etcd.key ",
        "EnvironmentFile=/opt/strato/etc/ip.env\n",
    ] {
        assert!(unit.contains(expected), "missing {expected:?} in\n{unit}");
    }
    assert!(!unit.contains("0.0.0.0"));
    assert!(!unit.contains("tls/ca.crt") && !unit.contains("node.crt"));
    assert!(!unit.contains("http://"), "every etcd URL is https");
    assert!(
        unit.contains("--heartbeat-interval 50") && unit.contains("--election-timeout 500"),
        "etcd's timings: a dead member replaced within a second (docs/benchmarks.md)"
    );

    let master = text(&tree, "config/master.toml");
    insta::assert_snapshot!("master_toml_3_masters", master);
    assert!(master.contains(
        "etcd_endpoints = [\"https://10.0.0.10:2379\", \"https://10.0.0.11:2379\", \"https://10.0.0.12:2379\"]\n"
    ));
    assert!(master.contains("etcd_cert = \"/opt/strato/etc/tls/etcd.crt\"\n"));
    assert!(master.contains("etcd_key = \"/opt/strato/etc/tls/etcd.key\"\n"));
    assert!(master.contains("etcd_ca = \"/opt/strato/etc/tls/etcd-ca.crt\"\n"));
    let master_unit = text(&tree, "systemd/strato-master.service");
    assert!(master_unit.contains("Wants=network-online.target strato-etcd.service\n"));
    assert!(master_unit.contains("After=network-online.target strato-etcd.service\n"));
    assert!(text(&tree, "install.sh").contains("ETCD_CLUSTER=1\n"));
    // The tree says which etcd its masters run, for preflight's glibc check.
    assert_eq!(tree.manifest.etcd, Some(debian_etcd()));
    assert!(text(&tree, MANIFEST_PATH).contains("\"min_glibc\": \"2.34\""));
}

#[test]
fn one_master_keeps_the_embedded_store_and_needs_no_etcd() {
    let mut options = with_bundle();
    if let Some(b) = options.bundle.as_mut() {
        b.etcd = None;
    }
    let tree = render_input(&one_master(), &options).expect("a bundle without etcd is fine");
    assert!(!tree.files.contains_key("systemd/strato-etcd.service"));
    let master = text(&tree, "config/master.toml");
    insta::assert_snapshot!("master_toml_1_master", master);
    assert!(!master.contains("etcd"));
    let master_unit = text(&tree, "systemd/strato-master.service");
    assert!(!master_unit.contains("etcd"), "{master_unit}");
    assert!(master_unit.contains("Wants=network-online.target\nAfter=network-online.target\n"));
    assert!(text(&tree, "install.sh").contains("ETCD_CLUSTER=0\n"));
    assert_eq!(tree.manifest.etcd, None);
    assert!(!text(&tree, MANIFEST_PATH).contains("etcd"));
}

#[test]
fn three_masters_refuse_a_bundle_without_etcd_naming_the_flag() {
    for n in [3, 5] {
        let mut input = example();
        input.masters = (0..n).map(|i| format!("10.0.0.{}", 10 + i)).collect();
        let mut options = with_bundle();
        if let Some(b) = options.bundle.as_mut() {
            b.etcd = None;
        }
        let err = render_input(&input, &options).expect_err("no etcd in the bundle");
        let text = err.to_string();
        assert!(text.contains(&format!("{n} masters")), "{text}");
        assert!(text.contains("strato bundle --etcd PATH"), "{text}");
        assert!(text.contains("strato-runtime-0.1.0.tar.gz"), "{text}");
    }
}

#[test]
fn three_masters_must_be_given_by_ipv4_address() {
    let mut input = example();
    input.masters[1] = "master-2.example.com".into();
    let err = render_input(&input, &with_bundle()).expect_err("etcd names members by IP");
    assert!(
        err.to_string()
            .contains("\"master-2.example.com\" is not an IPv4 address"),
        "{err}"
    );
    let mut one = one_master();
    one.masters = vec!["master-1.example.com".into()];
    render_input(&one, &with_bundle()).expect("one master may be a name");
}

#[test]
fn install_sh_installs_the_bundle_as_its_manifest_version() {
    let tree = render_input(&example(), &with_bundle()).expect("renders");
    let install = text(&tree, "install.sh");
    assert!(install.contains("BUNDLE_VERSION=0.1.0\n"), "{install}");
    assert!(
        install.contains("VERSIONS_DIR=\"$PREFIX/versions\"\n"),
        "{install}"
    );
    // No bundle: nothing to install, and install.sh says so when run.
    let none = render_input(&example(), &RenderOptions::default()).expect("renders");
    assert!(text(&none, "install.sh").contains("BUNDLE_VERSION=''\n"));
}

#[test]
fn a_bundle_without_a_usable_version_is_refused_not_guessed() {
    for (version, says) in [
        (None, "has no version (it is not a strato bundle)"),
        (Some("../../etc"), "has an invalid version \"../../etc\""),
        (Some("1.0"), "MAJOR.MINOR.PATCH"),
    ] {
        let mut options = with_bundle();
        if let Some(b) = options.bundle.as_mut() {
            b.version = version.map(str::to_string);
        }
        let err = render_input(&example(), &options).expect_err("refused");
        let text = err.to_string();
        assert!(text.contains("strato-runtime-0.1.0.tar.gz"), "{text}");
        assert!(text.contains(says), "{text}");
    }
}
