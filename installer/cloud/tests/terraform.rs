//! The Terraform modules: every `.tf` parses (hcl-rs), the three modules declare the same variables
//! and outputs, `terraform fmt -check` passes when a terraform binary is present, the examples are
//! what `strato cloud terraform` writes, and `import-terraform` reads `terraform output -json`.
mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use strato_cloud::spec::ProviderKind;
use strato_cloud::terraform::{root_main, root_variables, MODULE_OUTPUTS, MODULE_VARIABLES};

fn terraform_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../terraform")
}

fn tf_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            out.extend(tf_files(&path));
        } else if path.extension().is_some_and(|e| e == "tf") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// Labels of top-level blocks named `kind` (variable, output, resource...) in a module dir.
fn labels(module: &Path, kind: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for file in tf_files(module) {
        let body: hcl::Body = hcl::from_str(&std::fs::read_to_string(&file).expect("read"))
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for block in body.blocks().filter(|b| b.identifier() == kind) {
            out.insert(
                block
                    .labels()
                    .iter()
                    .map(|l| l.as_str().to_string())
                    .collect::<Vec<_>>()
                    .join("."),
            );
        }
    }
    out
}

#[test]
fn every_tf_file_parses() {
    let files = tf_files(&terraform_dir());
    assert!(
        files.len() >= 12 + 6,
        "expected 3 modules × 4 files and 3 examples × 2 (main.tf, variables.tf), found {files:?}"
    );
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read");
        hcl::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    }
}

#[test]
fn the_three_modules_declare_the_same_variables_and_outputs() {
    let want_vars: BTreeSet<String> = MODULE_VARIABLES.iter().map(|s| s.to_string()).collect();
    let want_outputs: BTreeSet<String> = MODULE_OUTPUTS.iter().map(|s| s.to_string()).collect();
    for provider in ["aws", "azure", "gcp"] {
        let module = terraform_dir().join("modules").join(provider);
        for file in ["main.tf", "variables.tf", "outputs.tf", "versions.tf"] {
            assert!(module.join(file).exists(), "{provider}: {file} missing");
        }
        assert_eq!(
            labels(&module, "variable"),
            want_vars,
            "{provider} variables"
        );
        assert_eq!(
            labels(&module, "output"),
            want_outputs,
            "{provider} outputs"
        );
        assert!(
            !labels(&module, "resource").is_empty(),
            "{provider} has no resources"
        );
    }
}

#[test]
fn terraform_fmt_check_when_terraform_is_installed() {
    let Ok(out) = Command::new("terraform")
        .arg("version")
        .env("CHECKPOINT_DISABLE", "1")
        .output()
    else {
        println!("SKIPPED the terraform fmt part: no terraform binary on PATH (hcl-rs parsing still ran)");
        return;
    };
    assert!(out.status.success());
    let fmt = Command::new("terraform")
        .args(["fmt", "-check", "-recursive", "-diff"])
        .arg(terraform_dir())
        .env("CHECKPOINT_DISABLE", "1")
        .env(
            "TF_CLI_CONFIG_FILE",
            if cfg!(windows) { "NUL" } else { "/dev/null" },
        )
        .output()
        .expect("run terraform fmt");
    assert!(
        fmt.status.success(),
        "terraform fmt -check failed:\n{}",
        String::from_utf8_lossy(&fmt.stdout)
    );
}

fn example_spec(provider: ProviderKind, dir: &Path) -> strato_cloud::ClusterSpec {
    let cloud = match provider {
        ProviderKind::Aws => "  provider: aws\n  region: eu-west-1\n",
        ProviderKind::Azure => {
            "  provider: azure\n  location: westeurope\n  resource_group: demo-rg\n"
        }
        ProviderKind::Gcp => "  provider: gcp\n  project: my-project\n  zone: europe-west1-b\n",
    };
    let types = match provider {
        ProviderKind::Aws => "{bootstrap: m5.large, master: m5.2xlarge, agent: m5.xlarge, public_agent: m5.xlarge}",
        ProviderKind::Azure => "{bootstrap: Standard_D2s_v5, master: Standard_D8s_v5, agent: Standard_D4s_v5, public_agent: Standard_D4s_v5}",
        ProviderKind::Gcp => "{bootstrap: e2-standard-2, master: e2-standard-8, agent: e2-standard-4, public_agent: e2-standard-4}",
    };
    let section = format!(
        "{cloud}  os: rocky-9\n  ssh_public_key: id_test.pub\n  admin_cidrs: [203.0.113.0/24]\n  instance_types: {types}\n  counts: {{masters: 3, agents: 2, public_agents: 1}}\n"
    );
    let config = common::cluster_yaml(dir, &section);
    strato_cloud::spec::load(&config).expect("spec")
}

/// `STRATO_UPDATE_EXAMPLES=1` rewrites terraform/examples from the generator.
#[test]
fn examples_are_what_strato_cloud_terraform_writes() {
    let update = std::env::var_os("STRATO_UPDATE_EXAMPLES").is_some();
    for provider in [ProviderKind::Aws, ProviderKind::Azure, ProviderKind::Gcp] {
        let tmp = tempfile::tempdir().expect("tempdir");
        let spec = example_spec(provider, tmp.path());
        let dir = terraform_dir().join("examples").join(provider.as_str());
        let files = [
            (
                "main.tf",
                root_main(provider, &format!("../../modules/{}", provider.as_str())),
            ),
            ("variables.tf", root_variables(provider)),
            (
                "terraform.tfvars.example",
                strato_cloud::terraform::tfvars(&spec),
            ),
        ];
        for (name, want) in files {
            if update {
                std::fs::create_dir_all(&dir).expect("mkdir");
                std::fs::write(dir.join(name), &want).expect("write");
            }
            let have = std::fs::read_to_string(dir.join(name)).unwrap_or_default();
            assert_eq!(
                have,
                want,
                "terraform/examples/{}/{name} is stale: run with STRATO_UPDATE_EXAMPLES=1",
                provider.as_str()
            );
        }
    }
}

#[test]
fn cloud_terraform_writes_a_root_module_that_passes_every_variable() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let spec = example_spec(ProviderKind::Gcp, tmp.path());
    let out = tmp.path().join("tf");
    let mut log = Vec::new();
    strato_cloud::cmd::terraform(&tmp.path().join("cluster.yaml"), &out, &mut log).expect("write");
    let main: hcl::Body =
        hcl::from_str(&std::fs::read_to_string(out.join("main.tf")).expect("main.tf"))
            .expect("parse main.tf");
    let module = main
        .blocks()
        .find(|b| b.identifier() == "module")
        .expect("module block");
    let args: BTreeSet<String> = module
        .body()
        .attributes()
        .map(|a| a.key().to_string())
        .filter(|k| k != "source")
        .collect();
    assert_eq!(
        args,
        MODULE_VARIABLES.iter().map(|s| s.to_string()).collect()
    );
    let tfvars: hcl::Body =
        hcl::from_str(&std::fs::read_to_string(out.join("terraform.tfvars")).expect("tfvars"))
            .expect("parse tfvars");
    let value = |k: &str| {
        tfvars
            .attributes()
            .find(|a| a.key() == k)
            .map(|a| a.expr().clone())
            .unwrap_or_else(|| panic!("{k} missing"))
    };
    assert_eq!(
        value("cluster_id"),
        hcl::Expression::from(spec.cluster_id.as_str())
    );
    assert_eq!(value("location"), hcl::Expression::from("europe-west1-b"));
    assert_eq!(value("project"), hcl::Expression::from("my-project"));
    assert_eq!(value("num_masters"), hcl::Expression::from(3u64));
    assert_eq!(
        value("ssh_public_key"),
        hcl::Expression::from(common::TEST_KEY)
    );
    assert!(
        out.join("modules/gcp/main.tf").exists() && out.join("modules/gcp/variables.tf").exists()
    );
    // The generated files are `terraform fmt` clean too, when terraform is here to say so.
    if let Ok(fmt) = Command::new("terraform")
        .args(["fmt", "-check", "-recursive"])
        .arg(&out)
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_CLI_CONFIG_FILE", "/dev/null")
        .output()
    {
        assert!(
            fmt.status.success(),
            "generated root module is not fmt-clean: {}",
            String::from_utf8_lossy(&fmt.stdout)
        );
    } else {
        println!("SKIPPED terraform fmt of the generated module: no terraform binary");
    }
}

#[test]
fn import_terraform_fills_the_hosts_and_keeps_comments() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let config = common::cluster_yaml(
        tmp.path(),
        "  provider: aws\n  region: eu-west-1\n  os: rocky-9\n  ssh_public_key: id_test.pub\n  admin_cidrs: [203.0.113.0/24]\n  \
         instance_types: {bootstrap: m5.large, master: m5.2xlarge, agent: m5.xlarge, public_agent: m5.xlarge}\n  counts: {masters: 1}\n",
    );
    let outputs = tmp.path().join("outputs.json");
    // The shape of `terraform output -json`; one agent without a public address.
    std::fs::write(
        &outputs,
        r#"{
  "bootstrap_public_ip": {"sensitive": false, "type": "string", "value": "198.51.100.5"},
  "bootstrap_private_ip": {"sensitive": false, "type": "string", "value": "10.0.1.5"},
  "master_public_ips": {"sensitive": false, "type": ["tuple", ["string"]], "value": ["198.51.100.10"]},
  "master_private_ips": {"sensitive": false, "type": ["tuple", ["string"]], "value": ["10.0.1.10"]},
  "agent_public_ips": {"sensitive": false, "type": ["tuple", ["string", "string"]], "value": ["198.51.100.20", ""]},
  "agent_private_ips": {"sensitive": false, "type": ["tuple", ["string", "string"]], "value": ["10.0.1.20", "10.0.1.21"]},
  "public_agent_public_ips": {"sensitive": false, "type": ["tuple", []], "value": []},
  "public_agent_private_ips": {"sensitive": false, "type": ["tuple", []], "value": []}
}"#,
    )
    .expect("write outputs");
    let hosts =
        strato_cloud::cmd::import_terraform(&outputs, &config, &mut Vec::new()).expect("import");
    // Nodes by private address, the bootstrap host by public one (Machine::deploy_address).
    assert_eq!(hosts.agents, vec!["10.0.1.20", "10.0.1.21"]);
    let text = std::fs::read_to_string(&config).expect("read");
    assert!(
        text.contains("bootstrap: 198.51.100.5   # replaced by the cloud's bootstrap machine")
            || text.contains("bootstrap: 198.51.100.5  #"),
        "{text}"
    );
    assert!(
        text.contains("  # filled in by strato cloud create\n  - 10.0.1.10\nagents:"),
        "{text}"
    );
    assert!(
        text.contains("agents: [10.0.1.20, 10.0.1.21]  # none yet"),
        "{text}"
    );

    std::fs::write(&outputs, r#"{"something_else": {"value": 1}}"#).expect("write");
    let err = strato_cloud::cmd::import_terraform(&outputs, &config, &mut Vec::new())
        .expect_err("not ours");
    assert!(err.to_string().ends_with("outputs.json: bootstrap_public_ip: missing: is this the output of a Strato module (terraform/modules/*)?"), "{err}");
}
