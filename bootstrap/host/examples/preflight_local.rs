//! Gather facts on this machine and print the preflight table for a role:
//! `cargo run -p strato-host --example preflight_local -- agent`.

#[cfg(unix)]
#[tokio::main]
async fn main() {
    use std::sync::Arc;
    use strato_host::{
        check_host, render_table, GatherSpec, Host, LocalTransport, PreflightSpec, Requirements,
        Role,
    };

    let role = match std::env::args().nth(1).as_deref() {
        Some("master") => Role::Master,
        Some("bootstrap") => Role::Bootstrap,
        _ => Role::Agent,
    };
    let host = Host::new("local", Arc::new(LocalTransport::new()));
    // The default ip-detect: the source address of the default route.
    let ip_detect = "ip -4 route get 1.1.1.1 | sed -n 's/.* src \\([0-9.]*\\).*/\\1/p'";
    let spec = GatherSpec::new("/var/lib/strato", Some(ip_detect.to_string()));
    let facts = match host.gather_facts(&spec).await {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    let req = Requirements {
        cpus: 2,
        memory_mib: 4096,
        disk_mib: 20 * 1024,
    };
    print!(
        "{}",
        render_table(&check_host(&facts, &PreflightSpec::for_role(role, req)))
    );
    if !facts.problems.is_empty() {
        eprintln!("problems: {:?}", facts.problems);
    }
}

#[cfg(not(unix))]
fn main() {
    eprintln!("the local transport is Unix only");
}
