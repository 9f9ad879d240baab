//! Headless Chromium, as the dashboard tests drive it: dump the DOM after the page's script ran,
//! and take a screenshot for review.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::cluster::chromium;

/// Flags that keep Chromium off the network (only the page's loopback origin is fetched) and
/// independent of any profile.
fn base_command(profile: &Path) -> Command {
    let mut cmd = Command::new(chromium());
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--virtual-time-budget=5000",
    ]);
    cmd.arg(format!("--user-data-dir={}", profile.display()));
    cmd.stdin(Stdio::null());
    cmd
}

/// The page's DOM after its scripts ran for five seconds of virtual time.
pub fn dump_dom(url: &str, scratch: &Path) -> String {
    let mut cmd = base_command(&scratch.join("profile-dom"));
    cmd.args(["--dump-dom", url]);
    let output = run(cmd, Duration::from_secs(90));
    assert!(
        output.status.success(),
        "chromium --dump-dom {url} failed with {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Writes `<scratch>/dashboard.png`; not asserted on, kept for whoever reviews a failure.
pub fn screenshot(url: &str, scratch: &Path) {
    let mut cmd = base_command(&scratch.join("profile-shot"));
    cmd.arg(format!(
        "--screenshot={}",
        scratch.join("dashboard.png").display()
    ));
    cmd.args(["--window-size=1280,900", url]);
    let _ = run(cmd, Duration::from_secs(90));
}

fn run(mut cmd: Command, within: Duration) -> Output {
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn chromium");
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let deadline = Instant::now() + within;
    match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        Ok(output) => output.expect("wait for chromium"),
        Err(_) => {
            let pid = nix::unistd::Pid::from_raw(i32::try_from(pid).expect("pid fits i32"));
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
            panic!("chromium did not finish within {within:?}");
        }
    }
}

/// The markup of `<table id="{id}">…</table>`, so assertions look in the right table.
pub fn table<'a>(dom: &'a str, id: &str) -> &'a str {
    let start = dom
        .find(&format!("<table id=\"{id}\""))
        .unwrap_or_else(|| panic!("no table {id} in\n{dom}"));
    let end = dom[start..]
        .find("</table>")
        .map_or(dom.len(), |e| start + e);
    &dom[start..end]
}
