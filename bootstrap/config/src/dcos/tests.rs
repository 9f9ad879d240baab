//! The DC/OS import's verdicts on small configs; the CLI tests cover the fixture files.
use std::path::Path;

use super::*;
use crate::files::fake::FakeFiles;

const VALID: &str = "bootstrap_url: http://10.0.0.5:8080\ncluster_name: demo\nmaster_discovery: static\nexhibitor_storage_backend: static\nmaster_list: [10.0.0.10]\n";

fn files() -> FakeFiles {
    FakeFiles::default()
        .with_file("/w/genconf/ip-detect", 0o755)
        .with_file("/w/genconf/ssh_key", 0o600)
}

fn run(text: &str) -> Import {
    import(text, "config.yaml", Path::new("/w"), &files())
}

fn errors(import: &Import) -> Vec<String> {
    import
        .diagnostics
        .errors()
        .map(|d| format!("{}: {}", d.key, d.message))
        .collect()
}

#[test]
fn import_converts_a_valid_static_config() {
    let import = run(VALID);
    assert_eq!(errors(&import), Vec::<String>::new());
    let cluster = import.cluster.expect("converted");
    assert_eq!(
        cluster.bootstrap,
        Some(crate::Bootstrap::Host("10.0.0.5".into()))
    );
    assert_eq!(cluster.masters, vec![crate::Host::new("10.0.0.10")]);
    assert_eq!(cluster.ssh.user, "centos");
    assert_eq!(
        cluster.ssh.key_path.as_deref(),
        Some(Path::new("/w/genconf/ssh_key"))
    );
    assert_eq!(
        import.ip_detect_script.as_deref(),
        Some(Path::new("/w/genconf/ip-detect"))
    );
    assert_eq!(
        cluster.network.ip_detect,
        IpDetect::Script("./ip-detect".into())
    );
}

#[test]
fn import_lists_every_missing_required_key() {
    let import = run("agent_list: [10.0.0.20]\n");
    assert!(import.cluster.is_none());
    assert_eq!(
        errors(&import),
        [
            "bootstrap_url: Must set bootstrap_url, no way to calculate value.",
            "cluster_name: Must set cluster_name, no way to calculate value.",
            "master_discovery: Must set master_discovery, no way to calculate value.",
            "exhibitor_storage_backend: Must set exhibitor_storage_backend, no way to calculate value.",
        ]
    );
}

#[test]
fn import_reads_booleans_as_pyyaml_does() {
    let plain = run(&format!("{VALID}check_time: yes\n"));
    assert_eq!(
        errors(&plain),
        Vec::<String>::new(),
        "plain yes is a YAML 1.1 boolean"
    );
    let quoted = run(&format!("{VALID}check_time: 'yes'\n"));
    assert_eq!(
        errors(&quoted),
        ["check_time: Must be one of 'true', 'false'. Got 'yes'."]
    );
}

#[test]
fn import_maps_file_urls_to_a_local_bootstrap() {
    let import = run(&VALID.replace("http://10.0.0.5:8080", "file:///opt/dcos_install_tmp"));
    assert_eq!(
        import.cluster.expect("converted").bootstrap,
        Some(crate::Bootstrap::Local)
    );
}

#[test]
fn import_warns_about_unknown_and_unused_keys() {
    let import = run(&format!(
        "{VALID}log_directory: /genconf/logs\nsecurity: strict\nmaster_lst: []\n"
    ));
    assert!(import.cluster.is_some());
    let warnings: Vec<String> = import
        .diagnostics
        .warnings()
        .map(|d| d.key.clone())
        .collect();
    assert_eq!(
        warnings,
        ["bootstrap_url", "log_directory", "security", "master_lst"]
    );
    let typo = import.diagnostics.warnings().last().expect("warning");
    assert!(
        typo.message.contains("did you mean `master_list`?"),
        "{}",
        typo.message
    );
}

#[test]
fn host_path_maps_genconf_like_the_dcos_container() {
    let cwd = Path::new("/w");
    assert_eq!(
        host_path("genconf/ip-detect", cwd),
        Path::new("/w/genconf/ip-detect")
    );
    assert_eq!(
        host_path("/genconf/ip-detect", cwd),
        Path::new("/w/genconf/ip-detect")
    );
    assert_eq!(host_path("/opt/key", cwd), Path::new("/opt/key"));
}

#[test]
fn render_writes_yaml_that_loads_back() {
    let cluster = run(VALID).cluster.expect("converted");
    let text = render(&cluster, "genconf/config.yaml");
    let back: Cluster = yaml_serde::from_str(&text).expect("rendered yaml loads");
    assert_eq!(back, cluster);
}
