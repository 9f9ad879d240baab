//! `strato status`: the bootstrap server's latest job and each host's state in it, then each
//! master's role (leader or standby), the leader it names, whether its store has quorum and the
//! version it runs, asked over SSH (`master_link.rs`), and each agent's role, registration and
//! version as the masters know them.
use clap::Args;
use serde_json::{json, Value};

use super::job::{self, ClusterArgs, JobArgs, ServerArgs};
use crate::output::Output;
use crate::ui::progress::{Mode, Progress};
use crate::{CliError, Exit};

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

pub fn run(args: StatusArgs) -> Result<Exit, CliError> {
    let runtime = tokio::runtime::Runtime::new().map_err(|e| CliError::Other(e.into()))?;
    // Reaching the server takes the same defaults a job command has without flags.
    let request = JobArgs::new(args.cluster, ServerArgs::default());
    runtime.block_on(async {
        let loaded = job::load(&request.config)?;
        let Some(boot) = job::bootstrap(&loaded, &request, super::remote::Serve::Unchanged).await?
        else {
            // Only a dry run stops before the server, and status never runs dry.
            return Ok(Exit::Success);
        };
        let jobs = boot.client.jobs().await;
        boot.forget_secrets().await;
        let jobs = jobs.map_err(|e| CliError::Other(e.into()))?;
        let (masters, slaves) = masters(&loaded).await;
        let agents = agents(&loaded.cluster, slaves.as_ref());
        let Some(latest) = jobs.first() else {
            match request.output {
                Output::Json => println!(
                    "{}",
                    json!({"job": null, "masters": masters, "agents": agents})
                ),
                Output::Table => println!("no jobs yet: run `strato deploy`"),
            }
            return Ok(Exit::Success);
        };
        let progress = Progress::new(match request.output {
            Output::Table => Mode::Human,
            Output::Json => Mode::Json,
        });
        if request.output == Output::Table {
            println!("latest job {} ({:?})", latest.id, latest.state);
        }
        if request.output == Output::Json {
            let mut job = serde_json::to_value(latest).unwrap_or(Value::Null);
            if let Value::Object(fields) = &mut job {
                fields.insert("masters".into(), Value::Array(masters));
                fields.insert("agents".into(), Value::Array(agents));
            }
            println!("{job}");
            return Ok(crate::ui::summary::exit_code(latest));
        }
        let exit = job::report_job(latest, request.output, &progress);
        print!("{}", masters_table(&masters));
        print!("{}", agents_table(&agents));
        Ok(exit)
    })
}

/// Each master's `/strato/v1/ha` (role, leader, quorum, store, version), or why it could not be
/// asked; and the agents `/master/slaves` lists (asked of the first master that answers).
async fn masters(loaded: &super::job::Loaded) -> (Vec<Value>, Option<Value>) {
    let Ok(http) = super::master_link::http() else {
        return (Vec::new(), None);
    };
    let mut out = Vec::new();
    let mut slaves = None;
    for master in &loaded.cluster.masters {
        let get = |link: &super::master_link::MasterLink, path: &str| {
            let request = http.get(format!("{}{path}", link.base));
            async move {
                match request.send().await {
                    Ok(response) if response.status().is_success() => {
                        response.json::<Value>().await.map_err(|e| e.to_string())
                    }
                    Ok(response) => Err(format!("HTTP {}", response.status())),
                    Err(e) => Err(strato_engine::chain(&e)),
                }
            }
        };
        let answer = match super::master_link::open(loaded, master).await {
            Ok(link) => {
                let ha = get(&link, "/strato/v1/ha").await;
                if ha.is_ok() && slaves.is_none() {
                    slaves = get(&link, "/master/slaves").await.ok();
                }
                ha
            }
            Err(why) => Err(why),
        };
        out.push(match answer {
            Ok(ha) => json!({"address": master.address, "role": ha["role"], "leader": ha["leader"],
                             "quorum": ha["quorum"], "store": ha["store"], "version": ha["version"]}),
            Err(error) => json!({"address": master.address, "error": error}),
        });
    }
    (out, slaves)
}

/// Every agent of cluster.yaml with its role, whether it is registered and the version it runs
/// (as it registered it), from `/master/slaves`; `None` when no master answered.
fn agents(cluster: &strato_config::Cluster, slaves: Option<&Value>) -> Vec<Value> {
    let listed: Vec<&Value> = slaves
        .and_then(|s| s["slaves"].as_array())
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let roles = cluster
        .agents
        .iter()
        .map(|a| (a, "agent"))
        .chain(cluster.public_agents.iter().map(|a| (a, "public_agent")));
    roles
        .map(|(agent, role)| {
            // An agent registers its name and its address (`pid`: `slave(1)@<ip>:<port>`);
            // cluster.yaml may list either.
            let found = listed.iter().find(|s| {
                let ip = s["pid"]
                    .as_str()
                    .and_then(|p| p.split_once('@'))
                    .and_then(|(_, at)| at.rsplit_once(':'))
                    .map(|(ip, _)| ip);
                s["hostname"].as_str() == Some(agent.address.as_str())
                    || ip == Some(agent.address.as_str())
            });
            match (slaves, found) {
                (None, _) => json!({"address": agent.address, "role": role, "registered": null,
                                    "version": null}),
                (Some(_), None) => json!({"address": agent.address, "role": role,
                                          "registered": false, "version": null}),
                (Some(_), Some(s)) => json!({"address": agent.address, "role": role,
                                             "registered": s["active"] != false,
                                             "version": s["strato_version"]}),
            }
        })
        .collect()
}

fn agents_table(agents: &[Value]) -> String {
    if agents.is_empty() {
        return String::new();
    }
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    };
    let rows: Vec<Vec<String>> = agents
        .iter()
        .map(|a| {
            vec![
                text(&a["address"]),
                text(&a["role"]),
                match &a["registered"] {
                    Value::Bool(true) => "yes".into(),
                    Value::Bool(false) => "no".into(),
                    _ => "unknown (no master answered)".into(),
                },
                text(&a["version"]),
            ]
        })
        .collect();
    format!(
        "\n{}",
        strato_text::table(&["AGENT", "ROLE", "REGISTERED", "VERSION"], &rows)
    )
}

fn masters_table(masters: &[Value]) -> String {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    };
    let mut rows = Vec::new();
    for m in masters {
        match m.get("error") {
            Some(error) => rows.push(vec![
                text(&m["address"]),
                format!("unreachable: {}", text(error)),
                "-".into(),
                "-".into(),
                "-".into(),
                "-".into(),
            ]),
            None => rows.push(vec![
                text(&m["address"]),
                text(&m["role"]),
                text(&m["leader"]),
                if m["quorum"] == true { "yes" } else { "no" }.into(),
                text(&m["store"]),
                text(&m["version"]),
            ]),
        }
    }
    format!(
        "\n{}",
        strato_text::table(
            &["MASTER", "ROLE", "LEADER", "QUORUM", "STORE", "VERSION"],
            &rows
        )
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_masters_table_names_the_leader_and_the_unreachable() {
        let masters = vec![
            json!({"address": "10.0.0.1", "role": "leader", "leader": "10.0.0.1:5050", "quorum": true, "store": "etcd", "version": "1.2.0"}),
            json!({"address": "10.0.0.2", "role": "standby", "leader": "10.0.0.1:5050", "quorum": true, "store": "etcd"}),
            json!({"address": "10.0.0.3", "error": "connection refused"}),
        ];
        let table = masters_table(&masters);
        let lines: Vec<&str> = table.lines().filter(|l| !l.is_empty()).collect();
        assert!(lines[0].starts_with("MASTER"), "{table}");
        assert!(
            lines[1].contains("leader")
                && lines[1].contains("10.0.0.1:5050")
                && lines[1].ends_with("1.2.0"),
            "{table}"
        );
        assert!(
            lines[2].contains("standby") && lines[2].contains("yes"),
            "{table}"
        );
        assert!(
            lines[3].contains("unreachable: connection refused"),
            "{table}"
        );
    }

    #[test]
    fn every_agent_of_cluster_yaml_shows_its_registration_and_version() {
        let cluster = strato_engine::parse_cluster(
            "cluster_name: demo\nbootstrap: 10.0.0.9\nssh: {user: root}\nmasters: [10.0.0.1]\n\
             agents: [10.0.1.1, 10.0.1.2]\npublic_agents: [10.0.2.1]\nhardware: minimal\n",
            std::path::Path::new("."),
        )
        .expect("cluster.yaml");
        let slaves = json!({"slaves": [
            {"hostname": "agent-1", "pid": "slave(1)@10.0.1.1:5051", "active": true, "strato_version": "1.2.0"},
            {"hostname": "10.0.2.1", "active": true, "strato_version": "1.1.0"},
        ]});
        let listed = agents(&cluster, Some(&slaves));
        assert_eq!(
            listed,
            vec![
                json!({"address": "10.0.1.1", "role": "agent", "registered": true, "version": "1.2.0"}),
                json!({"address": "10.0.1.2", "role": "agent", "registered": false, "version": null}),
                json!({"address": "10.0.2.1", "role": "public_agent", "registered": true, "version": "1.1.0"}),
            ]
        );
        let table = agents_table(&listed);
        assert!(
            table.contains("10.0.1.2") && table.contains(" no "),
            "{table}"
        );
        assert!(agents(&cluster, None)
            .iter()
            .all(|a| a["registered"].is_null()));
    }
}
