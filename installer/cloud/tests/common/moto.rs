//! moto in server mode on 127.0.0.1, started per test on a free port with AWS-like validation of
//! AMIs, instance types and key pairs. A missing moto fails the test: it never passes silently.
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Moto {
    child: Child,
    pub url: String,
}

/// Pythons to try, in order: `STRATO_MOTO_PYTHON`, the repository's `.venv` (tests/run
/// installs moto there), `python3`.
fn candidates() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::env::var_os("STRATO_MOTO_PYTHON")
        .map(PathBuf::from)
        .into_iter()
        .collect();
    out.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python"));
    out.push(PathBuf::from("python3"));
    out
}

fn has_moto(python: &PathBuf) -> bool {
    Command::new(python)
        .args(["-c", "import moto.server, flask"])
        .output()
        .is_ok_and(|o| o.status.success())
}

impl Moto {
    pub fn start() -> Moto {
        let tried = candidates();
        let Some(python) = tried.iter().find(|p| has_moto(p)).cloned() else {
            panic!(
                "moto is not installed (tried {}): run tests/run (it installs moto[server] into .venv) or `pip install 'moto[server]'`; \
                 the AWS tests need it and do not skip",
                tried.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
            )
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("free port")
            .local_addr()
            .expect("addr")
            .port();
        let child = Command::new(&python)
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .env("MOTO_ENABLE_AMI_VALIDATION", "true")
            .env("MOTO_EC2_ENABLE_INSTANCE_TYPE_VALIDATION", "true")
            .env("MOTO_ENABLE_KEYPAIR_VALIDATION", "true")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto");
        let moto = Moto {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "moto did not listen on 127.0.0.1:{port} within 30 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }

    /// The environment the AWS SDK needs to talk to this moto with fake credentials.
    pub fn set_fake_credentials() {
        std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
        std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
        std::env::remove_var("AWS_PROFILE");
    }

    /// An EC2 client on this moto, for checking what the code under test did.
    pub async fn client(&self, region: &str) -> aws_sdk_ec2::Client {
        Self::set_fake_credentials();
        let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_sdk_ec2::config::Region::new(region.to_string()))
            .endpoint_url(&self.url)
            .load()
            .await;
        aws_sdk_ec2::Client::new(&conf)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
