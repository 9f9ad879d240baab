//! Health checks against real tasks: HTTP, TCP and COMMAND, turning healthy and unhealthy.

use strato_proto::{HealthCheck, HealthProtocol, HealthResult, TaskState, TaskStatus};

use crate::common::{free_port, task, Harness};

fn check(protocol: HealthProtocol, port: Option<u16>) -> HealthCheck {
    HealthCheck {
        protocol,
        path: None,
        port,
        command: None,
        grace_period_seconds: 0,
        interval_seconds: 1,
        timeout_seconds: 1,
        max_consecutive_failures: 3,
        ignore_http1xx: false,
    }
}

fn result(status: &TaskStatus, index: usize) -> Option<&HealthResult> {
    status.health.iter().find(|h| h.index == index)
}

fn alive(index: usize) -> impl Fn(&TaskStatus) -> bool {
    move |t| result(t, index).is_some_and(|h| h.alive)
}

fn failing(index: usize, failures: u32) -> impl Fn(&TaskStatus) -> bool {
    move |t| result(t, index).is_some_and(|h| !h.alive && h.consecutive_failures >= failures)
}

#[tokio::test]
async fn http_check_follows_the_served_status() {
    let mut h = Harness::start().await;
    let port = free_port();
    // python's http.server serves the sandbox: /healthy answers 200 while the file exists.
    let mut t = task(
        "web.1",
        &format!("touch healthy; exec python3 -m http.server {port} --bind 127.0.0.1"),
    );
    let mut c = check(HealthProtocol::Http, Some(port));
    c.path = Some("/healthy".into());
    t.health_checks = vec![c];
    h.launch(&t).await;
    let up = h.wait_task("web.1", "HTTP check alive", alive(0)).await;
    let r = result(&up, 0).expect("result");
    assert_eq!(r.consecutive_failures, 0);
    assert!(r.first_success.is_some() && r.last_success.is_some());

    std::fs::remove_file(h.sandbox("web.1").join("healthy")).expect("remove marker");
    let down = h
        .wait_task("web.1", "HTTP check failing", failing(0, 2))
        .await;
    let cause = result(&down, 0)
        .and_then(|r| r.last_failure_cause.clone())
        .unwrap_or_default();
    assert!(cause.contains("404"), "{cause}");
    assert_eq!(
        down.state,
        TaskState::Running,
        "the agent never kills for health"
    );
    // The master heard the change without waiting for a heartbeat too.
    let pushed = h.master.with(|r| {
        r.updates
            .iter()
            .any(|u| u.status.task_id == "web.1" && u.status.health.iter().any(|x| !x.alive))
    });
    assert!(pushed);
    h.stop().await;
}

#[tokio::test]
async fn tcp_check_is_alive_on_an_open_port_and_failing_on_a_closed_one() {
    let mut h = Harness::start().await;
    let open = free_port();
    let closed = free_port();
    let mut t = task(
        "tcp.1",
        &format!("exec python3 -m http.server {open} --bind 127.0.0.1"),
    );
    t.health_checks = vec![
        check(HealthProtocol::Tcp, Some(open)),
        check(HealthProtocol::Tcp, Some(closed)),
    ];
    h.launch(&t).await;
    let s = h
        .wait_task("tcp.1", "open port alive, closed port failing twice", |s| {
            alive(0)(s) && failing(1, 2)(s)
        })
        .await;
    let cause = result(&s, 1)
        .and_then(|r| r.last_failure_cause.clone())
        .unwrap_or_default();
    assert!(cause.contains(&closed.to_string()), "{cause}");
    h.stop().await;
}

#[tokio::test]
async fn command_check_runs_in_the_sandbox_with_the_task_env() {
    let mut h = Harness::start().await;
    let mut t = task("cmdcheck.1", "sleep 300");
    let mut c = check(HealthProtocol::Command, None);
    c.command = Some("test -f \"$MESOS_SANDBOX/ok\" && test \"$PORT0\" = 31001".into());
    t.health_checks = vec![c];
    h.launch(&t).await;
    h.wait_task("cmdcheck.1", "COMMAND check failing", failing(0, 1))
        .await;
    std::fs::write(h.sandbox("cmdcheck.1").join("ok"), "").expect("marker");
    let s = h
        .wait_task("cmdcheck.1", "COMMAND check alive", alive(0))
        .await;
    assert_eq!(result(&s, 0).map(|r| r.consecutive_failures), Some(0));
    h.stop().await;
}

#[tokio::test]
async fn failures_inside_the_grace_period_are_not_reported() {
    let mut h = Harness::start().await;
    let closed = free_port();
    let mut t = task("grace.1", "sleep 300");
    let mut ok = check(HealthProtocol::Command, None);
    ok.command = Some("true".into());
    let mut in_grace = check(HealthProtocol::Tcp, Some(closed));
    in_grace.grace_period_seconds = 300;
    t.health_checks = vec![ok, in_grace];
    h.launch(&t).await;
    // Both checks share the interval; once check 0 has succeeded twice, check 1 has failed at
    // least once, inside its grace period.
    let s = h
        .wait_task("grace.1", "two successes of check 0", |s| {
            result(s, 0).is_some_and(|r| r.last_success > r.first_success)
        })
        .await;
    assert!(result(&s, 1).is_none(), "{:?}", s.health);
    h.stop().await;
}

#[tokio::test]
async fn https_check_accepts_a_self_signed_certificate() {
    if std::process::Command::new("openssl")
        .arg("version")
        .output()
        .is_err()
    {
        eprintln!("skipped: openssl is not installed");
        return;
    }
    let mut h = Harness::start().await;
    let port = free_port();
    let server = format!(
        "import http.server, ssl\n\
         s = http.server.HTTPServer(('127.0.0.1', {port}), http.server.SimpleHTTPRequestHandler)\n\
         c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n\
         c.load_cert_chain('cert.pem', 'key.pem')\n\
         s.socket = c.wrap_socket(s.socket, server_side=True)\n\
         s.serve_forever()\n"
    );
    std::fs::create_dir_all(h.sandbox("tls.1")).expect("sandbox");
    std::fs::write(h.sandbox("tls.1").join("server.py"), server).expect("server script");
    let mut t = task(
        "tls.1",
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
         -keyout key.pem -out cert.pem -days 1 -subj /CN=localhost 2>/dev/null \
         && exec python3 server.py",
    );
    t.health_checks = vec![check(HealthProtocol::Https, Some(port))];
    h.launch(&t).await;
    let s = h.wait_task("tls.1", "HTTPS check alive", alive(0)).await;
    assert_eq!(result(&s, 0).map(|r| r.consecutive_failures), Some(0));
    h.stop().await;
}
