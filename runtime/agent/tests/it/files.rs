//! The files API over a real task's sandbox: what the master proxies to operators.

use serde_json::Value;
use strato_proto::TaskState;

use crate::common::{task, Harness};

async fn get(h: &Harness, path: &str, query: &[(&str, &str)]) -> (u16, String) {
    let response = h
        .http
        .get(h.url(path))
        .query(query)
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

#[tokio::test]
async fn a_finished_tasks_sandbox_is_browsed_read_and_downloaded() {
    let mut h = Harness::start().await;
    h.launch(&task(
        "files.1",
        "echo hello; echo oops >&2; mkdir -p sub; echo x > sub/f",
    ))
    .await;
    h.wait_state("files.1", TaskState::Finished).await;
    let dir = h.sandbox("files.1").display().to_string();

    let (status, body) = get(&h, "/files/browse", &[("path", &dir)]).await;
    assert_eq!(status, 200, "{body}");
    let entries = json(&body);
    let paths: Vec<&str> = entries
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|e| e["path"].as_str())
        .collect();
    for name in ["stderr", "stdout", "sub"] {
        assert!(
            paths.contains(&format!("{dir}/{name}").as_str()),
            "{name} in {body}"
        );
    }
    let stdout_entry = entries
        .as_array()
        .and_then(|a| a.iter().find(|e| e["path"] == format!("{dir}/stdout")))
        .expect("stdout listed");
    assert_eq!(stdout_entry["size"], 6);
    for key in ["mode", "mtime", "nlink", "uid", "gid"] {
        assert!(!stdout_entry[key].is_null(), "{key} in {stdout_entry}");
    }

    let stdout = format!("{dir}/stdout");
    let (status, body) = get(&h, "/files/read", &[("path", &stdout), ("offset", "0")]).await;
    assert_eq!(
        (status, json(&body)),
        (200, serde_json::json!({"data": "hello\n", "offset": 0}))
    );
    let (_, body) = get(
        &h,
        "/files/read",
        &[("path", &stdout), ("offset", "1"), ("length", "3")],
    )
    .await;
    assert_eq!(json(&body), serde_json::json!({"data": "ell", "offset": 1}));
    // Where a tail starts: the size, no data.
    for query in [
        vec![("path", stdout.as_str()), ("offset", "-1")],
        vec![("path", stdout.as_str())],
    ] {
        let (_, body) = get(&h, "/files/read", &query).await;
        assert_eq!(json(&body), serde_json::json!({"data": "", "offset": 6}));
    }

    let response = h
        .http
        .get(h.url("/files/download"))
        .query(&[("path", format!("{dir}/stderr"))])
        .send()
        .await
        .expect("download");
    assert_eq!(response.status(), 200);
    assert!(response
        .headers()
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("stderr")));
    assert_eq!(response.text().await.expect("body"), "oops\n");
    h.stop().await;
}

#[tokio::test]
async fn paths_outside_the_sandboxes_are_refused_with_a_message() {
    let mut h = Harness::start().await;
    h.launch(&task("files.2", "ln -s /etc/hostname out; echo done"))
        .await;
    h.wait_state("files.2", TaskState::Finished).await;
    let dir = h.sandbox("files.2").display().to_string();
    for path in [
        format!("{dir}/../../../../etc/hostname"),
        "/etc/hostname".to_string(),
        format!("{dir}/out"),
    ] {
        for route in ["/files/read", "/files/browse", "/files/download"] {
            let (status, body) = get(&h, route, &[("path", &path), ("offset", "0")]).await;
            assert_eq!(status, 403, "{route} {path}: {body}");
            assert!(json(&body)["message"].is_string(), "{body}");
        }
    }
    let (status, body) = get(&h, "/files/read", &[("path", &format!("{dir}/nope"))]).await;
    assert_eq!(status, 404, "{body}");
    assert!(json(&body)["message"]
        .as_str()
        .is_some_and(|m| m.contains("nope")));
    let (status, _) = get(
        &h,
        "/files/read",
        &[("path", &format!("{dir}/stdout")), ("offset", "x")],
    )
    .await;
    assert_eq!(status, 400);
    h.stop().await;
}

#[tokio::test]
async fn state_names_the_work_dir_and_each_tasks_sandbox() {
    let mut h = Harness::start().await;
    h.launch(&task("files.3", "sleep 60")).await;
    h.wait_state("files.3", TaskState::Running).await;
    let state: Value = h
        .http
        .get(h.url("/state"))
        .send()
        .await
        .expect("state")
        .json()
        .await
        .expect("json");
    assert_eq!(
        state["flags"]["work_dir"],
        h.work.path().display().to_string()
    );
    let executor = state["executors"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["id"] == "files.3"))
        .expect("the task's executor");
    assert_eq!(
        executor["directory"],
        h.sandbox("files.3").display().to_string()
    );
    h.stop().await;
}
