//! The gateway (Admin Router) in front of a real master: what needs a token, logins, the
//! Marathon API and a service through it, and bad tokens and headers.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use strato_gateway::TokenKey;
use strato_tls::{ClusterCa, MemberRequest, MemberRole};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::cluster::{eventually, test_config, Cluster};

pub(crate) const SECRET: &str = "a-test-token-secret-of-more-than-32-bytes";
const PASSWORD: &str = "correct horse battery staple";
/// The service account `ci`'s key pair (Ed25519, made for this test).
const ED_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIEO/FVR42bqY7W1egPmhzWBiHkfk4PhtYnZLb8NEve74\n-----END PRIVATE KEY-----\n";
const ED_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEABli16BTHgOoYfSt1s+v+2+O3YYIfnYrLdRpACKg6IUs=\n-----END PUBLIC KEY-----\n";

/// A master with the gateway on 127.0.0.1 (a certificate from a test CA), one user `alice`.
pub(crate) async fn cluster(dir: &std::path::Path) -> (Cluster, reqwest::Client) {
    let ca = ClusterCa::load_or_create(&dir.join("pki"), "gw").expect("CA");
    let issued = ca
        .issue(&MemberRequest {
            role: MemberRole::Master,
            name: "gateway".into(),
            ips: vec!["127.0.0.1".parse().expect("ip")],
            dns: Vec::new(),
        })
        .expect("issue");
    std::fs::write(dir.join("gw.crt"), &issued.cert_pem).expect("cert");
    std::fs::write(dir.join("gw.key"), &issued.key_pem).expect("key");
    std::fs::write(dir.join("secret"), SECRET).expect("secret");
    let accounts = json!({
        "users": [{
            "name": "alice",
            "password_hash": strato_gateway::hash_password(PASSWORD).expect("hash"),
        }],
        "service_accounts": [{"name": "ci", "public_key": ED_PUBLIC}],
    });
    std::fs::write(dir.join("accounts.json"), accounts.to_string()).expect("accounts");
    let data = dir.join("data");
    let mut config = test_config(&data);
    config.cluster_name = "gw".into();
    config.gateway_port = Some(0);
    config.gateway_cert = Some(dir.join("gw.crt"));
    config.gateway_key = Some(dir.join("gw.key"));
    config.gateway_token_secret = Some(dir.join("secret"));
    config.gateway_accounts = Some(dir.join("accounts.json"));
    let cluster = Cluster::start_with(config).await;
    let ca_pem = std::fs::read(ca.dir().join(strato_tls::CA_CERT)).expect("ca");
    let client = strato_tls::client_builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&ca_pem).expect("ca cert")])
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    (cluster, client)
}

async fn login(client: &reqwest::Client, gw: &str, uid: &str, password: &str) -> reqwest::Response {
    client
        .post(format!("{gw}/acs/api/v1/auth/login"))
        .json(&json!({"uid": uid, "password": password}))
        .send()
        .await
        .expect("login")
}

#[tokio::test]
async fn every_route_but_health_metadata_and_login_needs_a_token() {
    let dir = tempfile::tempdir().expect("tmp");
    let (cluster, client) = cluster(dir.path()).await;
    let gw = cluster.gateway.clone().expect("gateway");
    let protected = [
        ("GET", "/"),
        ("GET", "/ui/app.js"),
        ("GET", "/marathon/v2/apps"),
        ("GET", "/service/marathon/v2/apps"),
        ("POST", "/service/marathon/v2/apps/"),
        ("GET", "/service/metronome/v1/jobs"),
        ("POST", "/service/metronome/v1/jobs"),
        ("GET", "/mesos/master/state"),
        ("GET", "/mesos_dns/v1/enumerate"),
        ("GET", "/service/web/"),
        ("GET", "/system/health/v1/nodes"),
        ("GET", "/v2/apps"),
        ("GET", "/strato/v1/ha"),
        ("POST", "/strato/v1/tokens/revoke"),
        ("GET", "/metrics"),
        ("GET", "/strato/v1/metrics/history"),
    ];
    for (method, path) in protected {
        let response = client
            .request(method.parse().expect("method"), format!("{gw}{path}"))
            .header("Content-Type", "application/json")
            .body("{}")
            .send()
            .await
            .expect("request");
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "{method} {path}"
        );
        assert_eq!(
            response.headers()["www-authenticate"],
            "acsjwt",
            "{method} {path}"
        );
    }
    for path in [
        "/dcos-metadata/dcos-version.json",
        "/metadata",
        "/system/health/v1",
        "/login",
    ] {
        let response = client
            .get(format!("{gw}{path}"))
            .send()
            .await
            .expect("open");
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
    // The CA for DC/OS tools to pin is open too (none here: the gateway has its own certificate).
    let ca = client
        .get(format!("{gw}/ca/dcos-ca.crt"))
        .send()
        .await
        .expect("ca");
    assert_eq!(ca.status(), StatusCode::NOT_FOUND);
    // A browser without a token is sent to the login page.
    let page = client
        .get(format!("{gw}/"))
        .header("Accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert_eq!(page.headers()["location"], "/login");
    cluster.stop().await;
}

#[tokio::test]
async fn a_logged_in_user_drives_marathon_and_reaches_a_service_through_the_gateway() {
    let dir = tempfile::tempdir().expect("tmp");
    let (cluster, client) = cluster(dir.path()).await;
    cluster.add_agent("a1", "*", &[]).await;
    let gw = cluster.gateway.clone().expect("gateway");

    let refused = login(&client, &gw, "alice", "wrong").await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let refused = login(&client, &gw, "mallory", PASSWORD).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let response = login(&client, &gw, "alice", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .to_string();
    assert!(cookie.starts_with("dcos-acs-auth-cookie="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("Secure"),
        "{cookie}"
    );
    let token = response.json::<Value>().await.expect("json")["token"]
        .as_str()
        .expect("token")
        .to_string();
    let auth = format!("token={token}");

    // The DC/OS CLI posts to /v2/apps/ with a trailing slash.
    let app = json!({
        "id": "/web", "cmd": "serve", "cpus": 0.1, "mem": 16, "instances": 1,
        "portDefinitions": [{"port": 0}],
        "labels": {"DCOS_SERVICE_NAME": "web"},
    });
    let created = client
        .post(format!("{gw}/service/marathon/v2/apps/"))
        .header("Authorization", &auth)
        .json(&app)
        .send()
        .await
        .expect("post");
    assert_eq!(
        created.status(),
        StatusCode::CREATED,
        "{}",
        created.text().await.unwrap_or_default()
    );
    let port = eventually(10, "web running", || {
        let (client, gw, auth) = (client.clone(), gw.clone(), auth.clone());
        async move {
            let body: Value = client
                .get(format!("{gw}/marathon/v2/apps/web/tasks"))
                .header(
                    "Authorization",
                    format!("Bearer {}", auth.trim_start_matches("token=")),
                )
                .send()
                .await
                .ok()?
                .json()
                .await
                .ok()?;
            let task = body["tasks"].as_array()?.first()?.clone();
            (task["state"] == "TASK_RUNNING").then(|| task["ports"][0].as_u64())?
        }
    })
    .await;
    // What the task would serve: a page that names the path it was asked for, and an echo
    // after an upgrade (a websocket's handshake shape).
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port as u16))
        .await
        .expect("bind the task's port");
    let service = axum::Router::new()
        .route(
            "/echo",
            axum::routing::get(|mut request: axum::extract::Request| async move {
                let upgrade = hyper::upgrade::on(&mut request);
                tokio::spawn(async move {
                    if let Ok(upgraded) = upgrade.await {
                        let mut io = hyper_util::rt::TokioIo::new(upgraded);
                        let mut buf = [0u8; 64];
                        if let Ok(n) = io.read(&mut buf).await {
                            let _ = io.write_all(&buf[..n]).await;
                        }
                    }
                });
                axum::response::Response::builder()
                    .status(101)
                    .header("connection", "upgrade")
                    .header("upgrade", "echo")
                    .body(axum::body::Body::empty())
                    .expect("101")
            }),
        )
        .fallback(|request: axum::extract::Request| async move {
            let forwarded = request
                .headers()
                .get("x-forwarded-prefix")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            let leaked = request.headers().contains_key("authorization");
            format!("web {} prefix={forwarded} leaked={leaked}", request.uri())
        });
    tokio::spawn(async move { axum::serve(listener, service).await });
    let page = client
        .get(format!("{gw}/service/web/hello?x=1"))
        .header("Authorization", &auth)
        .send()
        .await
        .expect("service");
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(
        page.text().await.expect("text"),
        "web /hello?x=1 prefix=/service/web leaked=false"
    );
    let upgraded = client
        .get(format!("{gw}/service/web/echo"))
        .header("Authorization", &auth)
        .header("Connection", "upgrade")
        .header("Upgrade", "echo")
        .version(reqwest::Version::HTTP_11)
        .send()
        .await
        .expect("upgrade");
    assert_eq!(upgraded.status(), StatusCode::SWITCHING_PROTOCOLS);
    let mut stream = upgraded.upgrade().await.expect("upgraded");
    stream.write_all(b"ping").await.expect("write");
    let mut echoed = [0u8; 4];
    tokio::time::timeout(Duration::from_secs(5), stream.read_exact(&mut echoed))
        .await
        .expect("echo in time")
        .expect("echo");
    assert_eq!(&echoed, b"ping");

    // An app's own path through /service/marathon (its id is a path parameter of the master's).
    let shown = client
        .get(format!("{gw}/service/marathon/v2/apps/web"))
        .header("Authorization", &auth)
        .send()
        .await
        .expect("show");
    assert_eq!(shown.status(), StatusCode::OK);

    // Jobs through /service/metronome, as the DC/OS CLI reaches them.
    let job = client
        .post(format!("{gw}/service/metronome/v1/jobs"))
        .header("Authorization", &auth)
        .json(&serde_json::json!({"id": "gw.job", "run": {"cmd": "true", "cpus": 0.1, "mem": 32, "disk": 0}}))
        .send()
        .await
        .expect("create job");
    assert_eq!(job.status(), StatusCode::CREATED);
    let jobs: Value = client
        .get(format!("{gw}/service/metronome/v1/jobs"))
        .header("Authorization", &auth)
        .send()
        .await
        .expect("list jobs")
        .json()
        .await
        .expect("json");
    assert_eq!(jobs[0]["id"], "gw.job");

    // The other front doors: Mesos, DNS as JSON, the nodes.
    let get = |path: &'static str| {
        let (client, gw, auth) = (client.clone(), gw.clone(), auth.clone());
        async move {
            let response = client
                .get(format!("{gw}{path}"))
                .header("Authorization", auth)
                .send()
                .await
                .expect("get");
            (
                response.status(),
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let (status, state) = get("/mesos/master/state").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(state["slaves"].as_array().map(Vec::len), Some(1));
    let (status, hosts) = get("/mesos_dns/v1/hosts/web.marathon.strato").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(hosts[0]["ip"], "127.0.0.1");
    let (status, nodes) = get("/system/health/v1/nodes").await;
    assert_eq!(status, StatusCode::OK);
    assert!(nodes["nodes"]
        .as_array()
        .is_some_and(|n| n.iter().any(|n| n["role"] == "agent")));

    // The cookie alone works too (the dashboard's way).
    let with_cookie = client
        .get(format!("{gw}/v2/apps"))
        .header("Cookie", cookie.split(';').next().expect("pair"))
        .send()
        .await
        .expect("cookie");
    assert_eq!(with_cookie.status(), StatusCode::OK);

    // Revoked: refused from then on.
    let claims: Value = {
        use base64::Engine;
        let payload = token.split('.').nth(1).expect("payload");
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .expect("b64"),
        )
        .expect("claims")
    };
    let revoked = client
        .post(format!("{gw}/strato/v1/tokens/revoke"))
        .header("Authorization", &auth)
        .json(&json!({"jti": claims["jti"], "exp": claims["exp"]}))
        .send()
        .await
        .expect("revoke");
    assert_eq!(revoked.status(), StatusCode::OK);
    eventually(5, "the revoked token refused", || {
        let get = get("/v2/apps");
        async move { (get.await.0 == StatusCode::UNAUTHORIZED).then_some(()) }
    })
    .await;
    cluster.stop().await;
}

#[tokio::test]
async fn bad_tokens_long_headers_and_guessing_get_clear_answers_and_the_gateway_lives() {
    let dir = tempfile::tempdir().expect("tmp");
    let (cluster, client) = cluster(dir.path()).await;
    let gw = cluster.gateway.clone().expect("gateway");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_secs();
    let ours = TokenKey::new(SECRET.as_bytes(), "gw").expect("key");
    let (expired, _) = ours.issue("alice", Duration::from_secs(60), now - 3600);
    let theirs = TokenKey::new(b"another cluster's secret, 32 bytes+", "gw").expect("key");
    let (foreign, _) = theirs.issue("alice", Duration::from_secs(3600), now);
    for (token, says) in [(expired, "expired"), (foreign, "not valid")] {
        let response = client
            .get(format!("{gw}/marathon/v2/apps"))
            .header("Authorization", format!("token={token}"))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let body: Value = response.json().await.expect("json");
        assert!(
            body["description"]
                .as_str()
                .is_some_and(|d| d.contains(says)),
            "{body}"
        );
    }
    let long = client
        .get(format!("{gw}/marathon/v2/apps"))
        .header("X-Padding", "x".repeat(20_000))
        .send()
        .await
        .expect("long header");
    assert_eq!(long.status(), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    let bad_body = client
        .post(format!("{gw}/acs/api/v1/auth/login"))
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("bad body");
    assert_eq!(bad_body.status(), StatusCode::BAD_REQUEST);
    // Guessing: five failures, then 429 even for the right password, with Retry-After.
    for _ in 0..5 {
        assert_eq!(
            login(&client, &gw, "alice", "guess").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let limited = login(&client, &gw, "alice", PASSWORD).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers().contains_key("retry-after"));
    let alive = client
        .get(format!("{gw}/metadata"))
        .send()
        .await
        .expect("alive");
    assert_eq!(alive.status(), StatusCode::OK);
    cluster.stop().await;
}

#[tokio::test]
async fn a_service_account_logs_in_with_a_jwt_its_key_signed() {
    let dir = tempfile::tempdir().expect("tmp");
    let (cluster, client) = cluster(dir.path()).await;
    let gw = cluster.gateway.clone().expect("gateway");
    let sign = |uid: &str, exp: u64| {
        let key = jsonwebtoken::EncodingKey::from_ed_pem(ED_PRIVATE.as_bytes()).expect("key");
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA),
            &json!({"uid": uid, "exp": exp}),
            &key,
        )
        .expect("sign")
    };
    let later = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        + 300;
    let login = |body: Value| {
        let (client, gw) = (client.clone(), gw.clone());
        async move {
            client
                .post(format!("{gw}/acs/api/v1/auth/login"))
                .json(&body)
                .send()
                .await
                .expect("login")
        }
    };
    // Signed for another uid, or the account's key claiming to be alice: refused.
    let wrong = login(json!({"uid": "ci", "token": sign("alice", later)})).await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let posing = login(json!({"uid": "alice", "token": sign("alice", later)})).await;
    assert_eq!(posing.status(), StatusCode::UNAUTHORIZED);
    let answer = login(json!({"uid": "ci", "token": sign("ci", later)})).await;
    assert_eq!(answer.status(), StatusCode::OK);
    let token = answer.json::<Value>().await.expect("json")["token"]
        .as_str()
        .expect("token")
        .to_string();
    let apps = client
        .get(format!("{gw}/service/marathon/v2/apps"))
        .header("Authorization", format!("token={token}"))
        .send()
        .await
        .expect("apps");
    assert_eq!(apps.status(), StatusCode::OK);
    cluster.stop().await;
}
