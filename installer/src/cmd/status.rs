//! `strato status`: the bootstrap server's latest job and each host's state in it, then each
//! master's role (leader or standby), the leader it names and whether its store has quorum,
//! asked over SSH (`master_link.rs`).
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
        let masters = masters(&loaded).await;
        let Some(latest) = jobs.first() else {
            match request.output {
                Output::Json => println!("{}", json!({"job": null, "masters": masters})),
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
            }
            println!("{job}");
            return Ok(crate::ui::summary::exit_code(latest));
        }
        let exit = job::report_job(latest, request.output, &progress);
        print!("{}", masters_table(&masters));
        Ok(exit)
    })
}

/// Each master's `/strato/v1/ha` (role, leader, quorum, store), or why it could not be asked.
async fn masters(loaded: &super::job::Loaded) -> Vec<Value> {
    let Ok(http) = super::master_link::http() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for master in &loaded.cluster.masters {
        let answer = match super::master_link::open(loaded, master).await {
            Ok(link) => match http.get(format!("{}/strato/v1/ha", link.base)).send().await {
                Ok(response) if response.status().is_success() => {
                    response.json::<Value>().await.map_err(|e| e.to_string())
                }
                Ok(response) => Err(format!("HTTP {}", response.status())),
                Err(e) => Err(strato_engine::chain(&e)),
            },
            Err(why) => Err(why),
        };
        out.push(match answer {
            Ok(ha) => json!({"address": master.address, "role": ha["role"], "leader": ha["leader"],
                             "quorum": ha["quorum"], "store": ha["store"]}),
            Err(error) => json!({"address": master.address, "error": error}),
        });
    }
    out
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
            ]),
            None => rows.push(vec![
                text(&m["address"]),
                text(&m["role"]),
                text(&m["leader"]),
                if m["quorum"] == true { "yes" } else { "no" }.into(),
                text(&m["store"]),
            ]),
        }
    }
    format!(
        "\n{}",
        strato_text::table(&["MASTER", "ROLE", "LEADER", "QUORUM", "STORE"], &rows)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_masters_table_names_the_leader_and_the_unreachable() {
        let masters = vec![
            json!({"address": "10.0.0.1", "role": "leader", "leader": "10.0.0.1:5050", "quorum": true, "store": "etcd"}),
            json!({"address": "10.0.0.2", "role": "standby", "leader": "10.0.0.1:5050", "quorum": true, "store": "etcd"}),
            json!({"address": "10.0.0.3", "error": "connection refused"}),
        ];
        let table = masters_table(&masters);
        let lines: Vec<&str> = table.lines().filter(|l| !l.is_empty()).collect();
        assert!(lines[0].starts_with("MASTER"), "{table}");
        assert!(
            lines[1].contains("leader") && lines[1].contains("10.0.0.1:5050"),
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
}
