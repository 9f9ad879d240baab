//! The Metronome v1 API over HTTP: job CRUD with embed, runs started, listed and stopped,
//! schedules, and every refusal in Metronome's shapes (400, 404, 409, 422), with the master
//! alive after each.

use reqwest::Method;
use serde_json::{json, Value};

use crate::cluster::{eventually, Cluster};

fn job(id: &str) -> Value {
    json!({"id": id, "description": "nightly numbers", "labels": {"team": "data"},
           "run": {"cmd": "sleep 100", "cpus": 0.1, "mem": 32, "disk": 0}})
}

async fn cluster_with_agent(dir: &std::path::Path) -> Cluster {
    let cluster = Cluster::start(dir).await;
    cluster.add_agent("a1", "*", &[("rack", "r1")]).await;
    cluster
}

#[tokio::test]
async fn a_job_is_created_run_listed_stopped_and_deleted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = cluster_with_agent(dir.path()).await;

    let (status, created) = cluster
        .send(Method::POST, "/v1/jobs", Some(job("reports.nightly")))
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["run"]["restart"], json!({"policy": "NEVER"}));
    assert_eq!(created["run"]["maxLaunchDelay"], 3600);
    let (status, again) = cluster
        .send(Method::POST, "/v1/jobs", Some(job("reports.nightly")))
        .await;
    assert_eq!(
        (status, again),
        (409, json!({"message": "Job with this id already exists"}))
    );

    let (status, run) = cluster
        .send(Method::POST, "/v1/jobs/reports.nightly/runs", None)
        .await;
    assert_eq!(status, 201, "{run}");
    assert_eq!(run["status"], "INITIAL");
    assert_eq!(run["completedAt"], Value::Null);
    let run_id = run["id"].as_str().expect("run id").to_string();
    assert!(
        run["createdAt"]
            .as_str()
            .expect("createdAt")
            .ends_with("+0000"),
        "{run}"
    );

    // The task starts on the agent; the run is active, with its task.
    let active = eventually(10, "the run active", || async {
        let (_, run) = cluster
            .get(&format!("/v1/jobs/reports.nightly/runs/{run_id}"))
            .await;
        (run["status"] == "ACTIVE").then_some(run)
    })
    .await;
    let task_id = active["tasks"][0]["id"]
        .as_str()
        .expect("task id")
        .to_string();
    assert!(
        task_id.starts_with(&format!("reports.nightly_{run_id}.")),
        "{active}"
    );
    assert_eq!(active["tasks"][0]["status"], "TASK_RUNNING");
    let launch = &cluster.agents.launches()[0].1;
    assert_eq!(launch.cmd.as_deref(), Some("sleep 100"));
    assert!(
        !launch.env.contains_key("MARATHON_APP_ID"),
        "{:?}",
        launch.env
    );

    // A job's task is not a Marathon task, but Mesos shows it under a framework of its own.
    let (_, tasks) = cluster.get("/v2/tasks").await;
    assert_eq!(tasks["tasks"], json!([]));
    let (_, mesos) = cluster.get("/master/state").await;
    let metronome = mesos["frameworks"]
        .as_array()
        .expect("frameworks")
        .iter()
        .find(|f| f["name"] == "metronome")
        .expect("a metronome framework");
    assert_eq!(metronome["tasks"][0]["id"], task_id.as_str());

    let (_, listed) = cluster
        .get("/v1/jobs?embed=activeRuns&embed=historySummary")
        .await;
    assert_eq!(
        listed[0]["activeRuns"][0]["id"],
        run_id.as_str(),
        "{listed}"
    );
    assert_eq!(
        listed[0]["historySummary"],
        json!({"successCount": 0, "failureCount": 0, "lastSuccessAt": null, "lastFailureAt": null})
    );
    let (_, bare) = cluster.get("/v1/jobs/reports.nightly").await;
    assert!(
        bare.get("activeRuns").is_none() && bare.get("schedules").is_none(),
        "{bare}"
    );

    let (status, refused) = cluster
        .send(Method::DELETE, "/v1/jobs/reports.nightly", None)
        .await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(
        refused["message"],
        "There are active job runs. Override with stopCurrentJobRuns=true"
    );

    let (status, stopped) = cluster
        .send(
            Method::POST,
            &format!("/v1/jobs/reports.nightly/runs/{run_id}/actions/stop"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{stopped}");
    assert_eq!(stopped["status"], "FAILED");
    eventually(10, "the stopped run in failed history", || async {
        let (_, job) = cluster.get("/v1/jobs/reports.nightly?embed=history").await;
        (job["history"]["failureCount"] == 1).then_some(job)
    })
    .await;
    assert!(cluster.agents.kills().contains(&task_id));
    let (status, gone) = cluster
        .get(&format!("/v1/jobs/reports.nightly/runs/{run_id}"))
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        gone,
        json!({"jobSpec": "reports.nightly", "id": run_id, "message": "Job Run not found"})
    );

    let (status, deleted) = cluster
        .send(Method::DELETE, "/v1/jobs/reports.nightly", None)
        .await;
    assert_eq!(
        (status, deleted["id"].clone()),
        (200, json!("reports.nightly"))
    );
    let (status, body) = cluster.get("/v1/jobs/reports.nightly").await;
    assert_eq!(
        (status, body),
        (
            404,
            json!({"id": "reports.nightly", "message": "Job not found"})
        )
    );
    cluster.stop().await;
}

#[tokio::test]
async fn a_job_deleted_with_stop_current_job_runs_kills_its_task() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = cluster_with_agent(dir.path()).await;
    cluster
        .send(Method::POST, "/v1/jobs", Some(job("batch")))
        .await;
    cluster
        .send(Method::POST, "/v1/jobs/batch/runs", None)
        .await;
    let task = eventually(10, "the task launched", || async {
        cluster
            .agents
            .launches()
            .first()
            .map(|(_, l)| l.task_id.clone())
    })
    .await;
    let (status, _) = cluster
        .send(
            Method::DELETE,
            "/v1/jobs/batch?stopCurrentJobRuns=true",
            None,
        )
        .await;
    assert_eq!(status, 200);
    eventually(10, "the task killed", || async {
        cluster.agents.kills().contains(&task).then_some(())
    })
    .await;
    assert_eq!(cluster.get("/v1/jobs").await.1, json!([]));
    cluster.stop().await;
}

#[tokio::test]
async fn schedules_are_created_replaced_and_deleted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = cluster_with_agent(dir.path()).await;
    cluster
        .send(Method::POST, "/v1/jobs", Some(job("backup")))
        .await;
    let schedule = json!({"id": "nightly", "cron": "30 2 * * *", "timezone": "Europe/Berlin",
                          "concurrencyPolicy": "FORBID"});
    let (status, made) = cluster
        .send(
            Method::POST,
            "/v1/jobs/backup/schedules",
            Some(schedule.clone()),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    assert_eq!(made["startingDeadlineSeconds"], 900);
    assert_eq!(made["enabled"], true);
    // 02:30 in Berlin is 01:30 UTC in winter.
    assert!(
        made["nextRunAt"]
            .as_str()
            .expect("nextRunAt")
            .contains("T01:30:00.000+0000"),
        "{made}"
    );
    let (status, body) = cluster
        .send(Method::POST, "/v1/jobs/backup/schedules", Some(schedule))
        .await;
    assert_eq!(
        (status, body),
        (
            409,
            json!({"message": "A schedule with id nightly already exists"})
        )
    );
    let (status, body) = cluster
        .send(
            Method::POST,
            "/v1/jobs/backup/schedules",
            Some(json!({"id": "second", "cron": "* * * * *"})),
        )
        .await;
    assert_eq!(
        (status, body),
        (
            409,
            json!({"message": "Only one schedule supported at the moment"})
        )
    );

    let (_, with) = cluster.get("/v1/jobs/backup?embed=schedules").await;
    assert_eq!(with["schedules"][0]["id"], "nightly");

    let (status, replaced) = cluster
        .send(
            Method::PUT,
            "/v1/jobs/backup/schedules/nightly",
            Some(json!({"id": "nightly", "cron": "0 4 * * *", "enabled": false})),
        )
        .await;
    assert_eq!(status, 200, "{replaced}");
    assert_eq!(
        (replaced["cron"].clone(), replaced["nextRunAt"].clone()),
        (json!("0 4 * * *"), Value::Null)
    );

    assert_eq!(
        cluster
            .send(Method::DELETE, "/v1/jobs/backup/schedules/nightly", None)
            .await
            .0,
        200
    );
    let (status, body) = cluster.get("/v1/jobs/backup/schedules/nightly").await;
    assert_eq!(
        (status, body),
        (
            404,
            json!({"id": "nightly", "message": "Schedule not found"})
        )
    );
    assert_eq!(cluster.get("/v1/jobs/backup/schedules").await.1, json!([]));
    cluster.stop().await;
}

#[tokio::test]
async fn bad_input_gets_metronomes_errors_and_the_master_stays_up() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = cluster_with_agent(dir.path()).await;
    cluster
        .send(Method::POST, "/v1/jobs", Some(job("etl")))
        .await;

    let cases = [
        (
            "/v1/jobs/etl/schedules",
            json!({"id": "bad", "cron": "every minute"}),
            "/cron",
            "Can not read cron expression \"every minute\"",
        ),
        (
            "/v1/jobs/etl/schedules",
            json!({"id": "tz", "cron": "* * * * *", "timezone": "Mars/Olympus"}),
            "/timezone",
            "No time zone found with this id: \"Mars/Olympus\"",
        ),
        (
            "/v1/jobs",
            json!({"id": "Bad_Id", "run": {"cmd": "x", "cpus": 1, "mem": 32, "disk": 0}}),
            "/id",
            "'Bad_Id' does not match pattern",
        ),
        (
            "/v1/jobs",
            json!({"id": "a", "run": {"cpus": 1, "mem": 32, "disk": 0}}),
            "/run",
            "Cmd, Docker or UCR image must be specified",
        ),
        (
            "/v1/jobs",
            json!({"id": "a", "run": {"cmd": "x", "cpus": 1, "mem": 32}}),
            "/run",
            "Property disk missing.",
        ),
        (
            "/v1/jobs",
            json!({"id": "a", "run": {"cmd": "x", "cpus": 1, "mem": 32, "disk": 0,
                                                "restart": {"policy": "SOMETIMES"}}}),
            "/run/restart/policy",
            "unknown variant",
        ),
    ];
    for (path, body, at, error) in cases {
        let (status, answer) = cluster.send(Method::POST, path, Some(body.clone())).await;
        assert_eq!(status, 422, "{body} → {answer}");
        assert_eq!(answer["message"], "Object is not valid", "{answer}");
        let detail = &answer["details"][0];
        assert_eq!(detail["path"], at, "{answer}");
        assert!(
            detail["errors"][0].as_str().expect("error").contains(error),
            "{answer}"
        );
    }

    let (status, body) = cluster.get("/v1/jobs?embed=everything").await;
    assert_eq!(status, 400);
    assert_eq!(
        body["message"],
        "Unknown embed options. Valid options are: activeRuns, schedules, history, historySummary"
    );
    let (status, body) = cluster.get("/v1/jobs/NOT_AN_ID").await;
    assert_eq!(
        (status, body["message"].clone()),
        (400, json!("Not a valid id: NOT_AN_ID"))
    );
    let (status, body) = cluster.send(Method::POST, "/v1/jobs/nope/runs", None).await;
    assert_eq!(
        (status, body),
        (404, json!({"id": "nope", "message": "Job not found"}))
    );

    // Still serving.
    assert_eq!(cluster.get("/v1/jobs/etl").await.0, 200);
    cluster.stop().await;
}
