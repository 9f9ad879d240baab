//! The wizard driven by a `ScriptedPrompter`: what is asked, what is refused, what is written.
use std::path::PathBuf;

use super::*;

/// A private key file with safe permissions (and its .pub), as `strato validate` wants.
fn key_file(dir: &tempfile::TempDir) -> String {
    let key = dir.path().join("id_ed25519");
    std::fs::write(&key, "not a real key\n").expect("write key");
    std::fs::write(dir.path().join("id_ed25519.pub"), "ssh-ed25519 AAAA test\n")
        .expect("write pub");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
    key.display().to_string()
}

fn check(text: &str, dir: &tempfile::TempDir) -> strato_config::Checked {
    let source = strato_config::Source {
        name: "cluster.yaml".into(),
        base: PathBuf::from(dir.path()),
    };
    strato_config::check_str(text, &source, &strato_config::RealFiles)
}

#[test]
fn wizard_retries_an_invalid_address_and_writes_a_valid_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = key_file(&dir);
    let mut prompter = ScriptedPrompter::new([
        (Key::Name, "demo"),
        (Key::Platform, "bare-metal"),
        (Key::Bootstrap, "10.0.0.5"),
        (Key::Masters, "10.0.0.300"),
        (Key::Masters, "10.0.0.10"),
        (Key::Agents, "10.0.0.10"),
        (Key::Agents, "10.0.0.20, 10.0.0.21"),
        (Key::PublicAgents, ""),
        (Key::SshUser, "centos"),
        (Key::SshPort, ""),
        (Key::SshKey, key.as_str()),
        (Key::Hardware, "minimal"),
        (Key::Resolvers, ""),
    ]);
    let draft = collect(&mut prompter, &Draft::new(), Mode::Ask).expect("answers");
    let rejected: Vec<(Key, &str)> = prompter
        .rejected
        .iter()
        .map(|(k, a, _)| (*k, a.as_str()))
        .collect();
    assert_eq!(
        rejected,
        [(Key::Masters, "10.0.0.300"), (Key::Agents, "10.0.0.10")]
    );
    assert!(
        prompter.rejected[0].2.contains("not a valid IPv4 address"),
        "{:?}",
        prompter.rejected
    );
    assert!(
        prompter.rejected[1].2.contains("already a master"),
        "{:?}",
        prompter.rejected
    );

    let text = write::render(&draft);
    let checked = check(&text, &dir);
    assert!(checked.is_valid(), "{text}\n{:?}", checked.diagnostics);
    let cluster = checked.cluster.expect("model");
    assert_eq!(
        cluster.summary(),
        "demo: 1 master, 2 agents, 0 public agents"
    );
    assert_eq!(cluster.ssh.user, "centos");
    assert_eq!(cluster.network.resolvers, ["8.8.8.8", "8.8.4.4"]);
    assert!(
        text.contains("# Masters run the scheduler"),
        "comments are written"
    );
}

#[test]
fn flags_are_not_asked_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = key_file(&dir);
    let given: Draft = [
        (Key::Name, "demo".to_owned()),
        (Key::Masters, "10.0.0.10".to_owned()),
        (Key::SshKey, key.clone()),
    ]
    .into_iter()
    .collect();
    let mut prompter = ScriptedPrompter::new([
        (Key::Platform, ""),
        (Key::Bootstrap, ""),
        (Key::Agents, ""),
        (Key::PublicAgents, ""),
        (Key::SshUser, ""),
        (Key::SshPort, ""),
        (Key::Hardware, ""),
        (Key::Resolvers, ""),
    ]);
    let draft = collect(&mut prompter, &given, Mode::Ask).expect("answers");
    assert!(!prompter.asked.contains(&Key::Name));
    assert!(!prompter.asked.contains(&Key::Masters));
    assert_eq!(draft[&Key::Bootstrap], "local");
}

#[test]
fn defaults_mode_names_every_missing_flag() {
    let dir = tempfile::tempdir().expect("tempdir");
    let given: Draft = [(Key::SshKey, key_file(&dir))].into_iter().collect();
    let err =
        collect(&mut ScriptedPrompter::default(), &given, Mode::Defaults).expect_err("missing");
    match err {
        WizardError::Missing(flags) => assert_eq!(flags, ["--name", "--masters"]),
        other => panic!("unexpected {other}"),
    }
}

#[test]
fn an_invalid_flag_is_reported_with_its_name() {
    let given: Draft = [(Key::Name, "Demo".to_owned())].into_iter().collect();
    let err =
        collect(&mut ScriptedPrompter::default(), &given, Mode::Defaults).expect_err("invalid");
    assert!(err.to_string().starts_with("--name: "), "{err}");
}

#[test]
fn even_master_counts_are_refused() {
    let given: Draft = [
        (Key::Name, "demo".to_owned()),
        (Key::Masters, "10.0.0.1,10.0.0.2".to_owned()),
    ]
    .into_iter()
    .collect();
    let err = collect(&mut ScriptedPrompter::default(), &given, Mode::Defaults).expect_err("even");
    assert!(
        err.to_string().contains("need 1, 3, 5, 7 or 9 masters"),
        "{err}"
    );
}

#[test]
fn cloud_answers_write_a_cloud_section_that_validates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = key_file(&dir);
    for (platform, extra) in [
        ("aws", vec![(Key::Region, "us-east-1")]),
        (
            "azure",
            vec![(Key::Location, "westeurope"), (Key::ResourceGroup, "")],
        ),
        (
            "gcp",
            vec![
                (Key::Project, "my-project-123"),
                (Key::Zone, "europe-west1-b"),
            ],
        ),
    ] {
        let mut script = vec![(Key::Name, "demo"), (Key::Platform, platform)];
        script.extend(extra);
        script.extend([
            (Key::AdminCidrs, "203.0.113.7/24"),
            (Key::AdminCidrs, "203.0.113.0/24"),
            (Key::Masters, "3"),
            (Key::Agents, ""),
            (Key::PublicAgents, "1"),
            (Key::SshUser, ""),
            (Key::SshPort, ""),
            (Key::SshKey, key.as_str()),
            (Key::Hardware, "production"),
            (Key::Resolvers, ""),
        ]);
        let mut prompter = ScriptedPrompter::new(script);
        let draft = collect(&mut prompter, &Draft::new(), Mode::Ask).expect("answers");
        assert_eq!(
            prompter.rejected.len(),
            1,
            "host bits in the CIDR are refused"
        );
        let text = write::render(&draft);
        let checked = check(&text, &dir);
        assert!(
            checked.is_valid(),
            "{platform}:\n{text}\n{:?}",
            checked.diagnostics
        );
        let cloud = checked
            .cluster
            .and_then(|c| c.cloud)
            .expect("cloud section");
        assert_eq!(cloud.provider.to_string(), platform);
        assert_eq!(
            (
                cloud.counts.masters,
                cloud.counts.agents,
                cloud.counts.public_agents
            ),
            (3, 2, 1)
        );
    }
}
