//! Failover time of three masters on etcd (real processes on loopback: three etcd members, three
//! `strato-master`, one `strato-agent`): the leader's "node" dies (its master and the etcd member
//! beside it, both SIGKILL) and the clock runs until another master accepts a write (a POST of a
//! new app through a surviving master); then both are started again and the master waits as a
//! standby. Prints each kill and the median
//! and worst; asserts nothing about speed (docs/benchmarks.md records the figures).
//!
//! `cargo bench -p strato-tests --bench failover --profile dev` (STRATO_BENCH_KILLS=N, default 10).

#[path = "../it/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::cluster::wait_until;
use common::ha::Ha;
use serde_json::json;

fn main() {
    let kills: usize = std::env::var("STRATO_BENCH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let dir = tempfile::tempdir().expect("tempdir");
    let mut ha = Ha::start(dir.path());
    let mut times = Vec::new();
    println!("| kill | old leader | new leader | leader killed → write accepted |");
    println!("|-----:|-----------:|-----------:|-------------------------------:|");
    for kill in 1..=kills {
        let leader = ha.one_leader(Duration::from_secs(60));
        ha.masters[leader].kill();
        ha.etcd[leader].kill();
        let killed = Instant::now();
        let survivor = (leader + 1) % 3;
        let app = json!({"id": format!("/probe-{kill}"), "cmd": "sleep 1000", "instances": 0});
        wait_until(Duration::from_secs(60), "a write after failover", || {
            let (status, _) = ha.post(survivor, "/v2/apps", &app)?;
            (status == 201).then_some(())
        });
        let took = killed.elapsed();
        let new_leader = ha.one_leader(Duration::from_secs(30));
        println!(
            "| {kill} | master-{leader} | master-{new_leader} | {:.2} s |",
            took.as_secs_f64()
        );
        times.push(took);
        ha.etcd[leader].restart();
        strato_etcd::testing::wait_healthy(&ha.etcd[leader].client_url);
        ha.masters[leader].start();
        ha.one_leader(Duration::from_secs(60));
    }
    times.sort();
    let median = times[times.len() / 2];
    let worst = times[times.len() - 1];
    println!();
    println!(
        "{} kills: median {:.2} s, worst {:.2} s (goal: median < 3 s, worst < 5 s)",
        times.len(),
        median.as_secs_f64(),
        worst.as_secs_f64()
    );
}
