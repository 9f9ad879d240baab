//! Run preflight checks: each host's facts against its role's hardware profile and needs
//! (strato-host's pure checks), then the cluster-wide checks (unique IPs, hostnames,
//! machine-ids, clock skew). A FAIL stops the host unless the operator waived that check.
//! Masters of a 3+ master cluster also need etcd's ports free and at least the glibc the
//! bundled etcd needs (the serve tree's manifest.json says which, from the bundle's manifest).

use std::collections::BTreeMap;

use async_trait::async_trait;
use strato_api::Role;
use strato_api::{CheckRow, EventKind};
use strato_host::facts::Proto;
use strato_host::preflight::worst;
use strato_host::preflight::PortSpec;
use strato_host::{
    check_cluster, check_host, CheckResult, EngineNeed, GlibcNeed, PreflightSpec, Requirements,
    Status,
};

use crate::ctx::{HostCtx, JobCtx};
use crate::error::PhaseError;
use crate::phase::{HostFailure, Outcome, Phase};

const TITLE: &str = "Run preflight checks";

pub struct RunPreflight;

/// The rows an operator reads.
pub fn rows(results: &[CheckResult]) -> Vec<CheckRow> {
    results
        .iter()
        .map(|r| CheckRow {
            name: r.name.clone(),
            status: r.status.to_string(),
            measured: r.measured.clone(),
            required: r.required.clone(),
            message: r.message.clone(),
            waived: r.waived,
        })
        .collect()
}

fn failed_names(results: &[CheckResult]) -> Vec<&str> {
    results
        .iter()
        .filter(|r| r.status == Status::Fail)
        .map(|r| r.name.as_str())
        .collect()
}

fn failure_message(names: &[&str]) -> String {
    format!(
        "preflight failed: {} (fix the host, or waive a check with --waive {})",
        names.join(", "),
        names.first().copied().unwrap_or("NAME")
    )
}

/// The failure message plus, for each failed check, what was found and what is needed.
fn failure_details(results: &[CheckResult]) -> String {
    let failed: Vec<&CheckResult> = results
        .iter()
        .filter(|r| r.status == Status::Fail)
        .collect();
    let names: Vec<&str> = failed.iter().map(|r| r.name.as_str()).collect();
    let details: Vec<String> = failed
        .iter()
        .map(|r| format!("{}: found {}, needs {}", r.name, r.measured, r.required))
        .collect();
    format!("{}; {}", failure_message(&names), details.join("; "))
}

/// What a master of a 3+ master cluster needs on top of its role: etcd's ports, and the glibc
/// the bundled etcd needs (when the serve tree says; a tree without a bundle has no etcd).
fn etcd_needs(ctx: &JobCtx, spec: &mut PreflightSpec) {
    spec.ports.extend([
        PortSpec {
            proto: Proto::Tcp,
            port: strato_render::ETCD_CLIENT_PORT,
            owner: "etcd clients",
        },
        PortSpec {
            proto: Proto::Tcp,
            port: strato_render::ETCD_PEER_PORT,
            owner: "etcd peers",
        },
    ]);
    let etcd = ctx.serve.manifest().ok().and_then(|m| m.etcd);
    if let Some((etcd, glibc)) = etcd.and_then(|e| e.min_glibc.map(|g| (e, g))) {
        spec.min_glibc = Some(GlibcNeed {
            version: (glibc.major, glibc.minor),
            by: format!("etcd {} from the runtime bundle", etcd.version),
        });
    }
}

#[async_trait]
impl Phase for RunPreflight {
    fn title(&self) -> &str {
        TITLE
    }

    async fn run(&self, ctx: &JobCtx, host: &mut HostCtx) -> Result<Outcome, PhaseError> {
        let facts = host.facts.as_ref().ok_or(PhaseError::Missing {
            host: host.name().to_string(),
            what: "the host's facts",
        })?;
        let need = ctx.cluster.hardware.requirement(host.role);
        let requirements = Requirements {
            cpus: need.cpus,
            memory_mib: u64::from(need.memory_gib) * 1024,
            disk_mib: u64::from(need.disk_gib) * 1024,
        };
        let mut spec = PreflightSpec::for_role(host.role, requirements);
        spec.waivers = ctx.waivers.clone();
        if host.role == Role::Master && ctx.uses_etcd() {
            etcd_needs(ctx, &mut spec);
        }
        if let Some(engine) = ctx
            .cluster
            .runtime
            .container_engine
            .filter(|e| *e != strato_config::runtime::ContainerEngine::None)
            .filter(|_| matches!(host.role, Role::Agent | Role::PublicAgent))
        {
            let manager = host
                .os
                .as_ref()
                .map_or(strato_host::PackageManager::Apt, |os| os.package_manager());
            let name = engine.as_str();
            spec.container_engine = Some(EngineNeed {
                engine: name.to_string(),
                // Docker 20.10 and Podman 4.0: the API versions bollard's calls need.
                min_version: if name == "docker" { (20, 10) } else { (4, 0) },
                install: manager.container_engine_install(name),
            });
        }
        if facts.strato_installed {
            // Our own services hold the role's ports on an installed node (a re-deploy).
            spec.ports.clear();
        }
        let results = check_host(facts, &spec);
        ctx.events.emit(
            Some(host.name()),
            Some(TITLE),
            EventKind::Preflight {
                checks: rows(&results),
            },
        );
        let failed = failed_names(&results);
        let verdict = worst(&results);
        let warnings = results.iter().filter(|r| r.status == Status::Warn).count();
        let outcome = if failed.is_empty() {
            Ok(Outcome::unchanged(format!(
                "{} checks: {verdict}, {warnings} warnings",
                results.len()
            )))
        } else {
            Err(PhaseError::failed(host.name(), failure_details(&results)))
        };
        host.preflight = results;
        outcome
    }

    async fn finish(&self, ctx: &JobCtx, hosts: &[&HostCtx]) -> Vec<HostFailure> {
        let with_facts: Vec<(&str, &strato_host::Facts)> = hosts
            .iter()
            .filter_map(|h| h.facts.as_ref().map(|f| (h.name(), f)))
            .collect();
        let mut by_host: BTreeMap<&str, Vec<CheckResult>> = BTreeMap::new();
        let checks = check_cluster(&with_facts, &ctx.waivers);
        for hc in &checks {
            by_host
                .entry(hc.host.as_str())
                .or_default()
                .push(hc.result.clone());
        }
        let mut failures = Vec::new();
        for (host, results) in by_host {
            ctx.events.emit(
                Some(host),
                Some(TITLE),
                EventKind::Preflight {
                    checks: rows(&results),
                },
            );
            let failed = failed_names(&results);
            if !failed.is_empty() {
                failures.push(HostFailure {
                    host: host.to_string(),
                    message: format!("{host}: {}", failure_message(&failed)),
                });
            }
        }
        failures
    }
}
