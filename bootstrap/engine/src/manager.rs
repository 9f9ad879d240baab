//! [`Manager`]: runs an [`Action`]'s phases in order, each over its hosts with bounded
//! concurrency. A host that fails is marked failed and skipped by later phases; the others go
//! on. Agents wait for healthy masters. Each host's phases are journaled, so running the same
//! job again (after a kill) skips what is done.

use std::sync::{Arc, Mutex};

use futures_util::stream::{self, StreamExt};
use strato_api::{EventKind, HostState, Job, JobState, Role};

use crate::action::Action;
use crate::ctx::{hosts_of, HostCtx, JobCtx};
use crate::error::chain;
use crate::events::now_ms;
use crate::journal::{HostRecord, JobRecord, Journal, PhaseRecord, PhaseState};
use crate::phase::Phase;

/// Runs one job. The live [`Job`] snapshot is updated at every host transition; `job.json` at
/// every phase boundary.
pub struct Manager {
    ctx: Arc<JobCtx>,
    journal: Journal,
    record: Mutex<JobRecord>,
    live: Arc<Mutex<Job>>,
}

struct Slot {
    host: HostCtx,
    record: HostRecord,
}

impl Manager {
    /// `record` is the job as last saved; `live` is what status readers see.
    pub fn new(
        ctx: Arc<JobCtx>,
        journal: Journal,
        record: JobRecord,
        live: Arc<Mutex<Job>>,
    ) -> Self {
        Manager {
            ctx,
            journal,
            record: Mutex::new(record),
            live,
        }
    }

    /// Run every phase, then report. Never returns early: per-host failures end up in the
    /// returned job's host list. `resumed` says the journal may hold earlier progress.
    pub async fn run(&self, action: &Action, resumed: bool) -> Job {
        let ctx = &*self.ctx;
        let mut slots: Vec<Slot> = hosts_of(&ctx.cluster)
            .into_iter()
            .map(|host| self.restore(host))
            .collect();
        self.update(|job| job.state = JobState::Running);
        for s in &slots {
            self.publish(&s.host);
        }
        // job.json says so at once, not only after the first phase (which may wait long on an
        // unreachable host).
        self.save();
        ctx.events.emit(
            None,
            None,
            EventKind::JobStarted {
                kind: ctx.kind,
                hosts: slots.len(),
                resumed,
            },
        );
        for phase in &action.phases {
            self.run_phase(phase.as_ref(), &mut slots).await;
            self.save();
        }
        let mut planned = Vec::new();
        for s in slots.iter_mut() {
            if !s.host.is_out() {
                s.host.status.state = HostState::Succeeded;
            }
            if let Some(h) = &s.host.host {
                planned.extend(
                    h.planned()
                        .into_iter()
                        .map(|p| format!("{}: {}", p.host, p.description)),
                );
            }
            self.publish(&s.host);
        }
        let state = if slots
            .iter()
            .all(|s| s.host.status.state == HostState::Succeeded)
        {
            JobState::Succeeded
        } else {
            JobState::Failed
        };
        self.update(|job| {
            job.state = state;
            job.finished_ms = Some(now_ms());
            job.planned = planned;
        });
        self.save();
        ctx.events
            .emit(None, None, EventKind::JobFinished { state });
        self.snapshot()
    }

    /// The job as it stands.
    pub fn snapshot(&self) -> Job {
        self.live.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn restore(&self, mut host: HostCtx) -> Slot {
        let record = match self.journal.read_host(host.name()) {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(
                    host = host.name(),
                    "unreadable host record, starting over: {e}"
                );
                HostRecord {
                    host: host.name().to_string(),
                    ..HostRecord::default()
                }
            }
        };
        if let Some((title, r)) = record.failure() {
            host.status.state = HostState::Failed;
            host.status.phase = Some(title.to_string());
            host.status.message = r.message.clone();
        }
        host.status.changed = record.phases.values().any(|r| r.changed);
        Slot { host, record }
    }

    async fn run_phase(&self, phase: &dyn Phase, slots: &mut [Slot]) {
        let ctx = &*self.ctx;
        let title = phase.title();
        let selected = |s: &Slot| phase.roles().contains(&s.host.role) && !s.host.is_out();
        if phase.needs_healthy_masters() {
            let sick: Vec<String> = slots
                .iter()
                .filter(|s| s.host.role == Role::Master && s.host.is_out())
                .map(|s| s.host.name().to_string())
                .collect();
            if !sick.is_empty() {
                let reason = format!("not started: master {} is not healthy", sick.join(", "));
                for s in slots.iter_mut().filter(|s| selected(s)) {
                    s.host.status.state = HostState::Skipped;
                    s.host.status.phase = Some(title.to_string());
                    s.host.status.message = reason.clone();
                    self.publish(&s.host);
                    ctx.events.emit(
                        Some(s.host.name()),
                        Some(title),
                        EventKind::HostSkipped {
                            reason: reason.clone(),
                        },
                    );
                }
                return;
            }
        }
        let count = slots.iter().filter(|s| selected(s)).count();
        if count == 0 {
            return;
        }
        let serial = {
            let hosts: Vec<&HostCtx> = slots
                .iter()
                .filter(|s| selected(s))
                .map(|s| &s.host)
                .collect();
            phase.one_at_a_time(ctx, &hosts)
        };
        for s in slots.iter_mut() {
            s.host.one_at_a_time = serial;
        }
        let limit = if serial { 1 } else { ctx.parallelism.max(1) };
        let batch = {
            let hosts: Vec<&HostCtx> = slots
                .iter()
                .filter(|s| selected(s))
                .map(|s| &s.host)
                .collect();
            phase.batch(ctx, &hosts)
        };
        ctx.events
            .emit(None, Some(title), EventKind::PhaseStarted { hosts: count });
        tracing::info!(
            phase = title,
            hosts = count,
            serial,
            ?batch,
            "running phase"
        );
        let mut chosen: Vec<&mut Slot> = slots.iter_mut().filter(|s| selected(s)).collect();
        chosen.sort_by_key(|s| phase.order(&s.host));
        match batch {
            None => {
                stream::iter(chosen)
                    .for_each_concurrent(limit, |slot| self.run_on(phase, slot))
                    .await
            }
            Some(size) => {
                let mut failed: Option<String> = None;
                for group in chosen.chunks_mut(size.max(1)) {
                    if let Some(host) = &failed {
                        let reason = format!("not started: {host} failed in an earlier batch");
                        for slot in group.iter_mut() {
                            self.skip(title, slot, &reason);
                        }
                        continue;
                    }
                    stream::iter(group.iter_mut())
                        .for_each_concurrent(None, |slot| self.run_on(phase, slot))
                        .await;
                    failed = group
                        .iter()
                        .find(|s| s.host.is_out() && s.host.status.phase.as_deref() == Some(title))
                        .map(|s| s.host.name().to_string());
                }
            }
        }

        let done: Vec<&HostCtx> = slots
            .iter()
            .filter(|s| selected(s))
            .map(|s| &s.host)
            .collect();
        let failures = phase.finish(ctx, &done).await;
        for f in &failures {
            if let Some(slot) = slots.iter_mut().find(|s| s.host.name() == f.host) {
                self.fail(title, slot, f.message.clone());
            }
        }
        let failed = slots
            .iter()
            .filter(|s| phase.roles().contains(&s.host.role))
            .filter(|s| s.host.status.phase.as_deref() == Some(title) && s.host.is_out())
            .count();
        ctx.events
            .emit(None, Some(title), EventKind::PhaseFinished { failed });
        if failed > 0 && phase.stops_job() {
            let which: Vec<String> = slots
                .iter()
                .filter(|s| s.host.status.phase.as_deref() == Some(title) && s.host.is_out())
                .map(|s| s.host.name().to_string())
                .collect();
            let reason = format!("not started: {title} failed on {}", which.join(", "));
            for slot in slots.iter_mut().filter(|s| !s.host.is_out()) {
                self.skip(title, slot, &reason);
            }
        }
    }

    /// Takes `slot`'s host out of the job without running it, saying why.
    fn skip(&self, title: &str, slot: &mut Slot, reason: &str) {
        slot.host.status.state = HostState::Skipped;
        slot.host.status.phase = Some(title.to_string());
        slot.host.status.message = reason.to_string();
        self.publish(&slot.host);
        self.ctx.events.emit(
            Some(slot.host.name()),
            Some(title),
            EventKind::HostSkipped {
                reason: reason.to_string(),
            },
        );
    }

    async fn run_on(&self, phase: &dyn Phase, slot: &mut Slot) {
        let ctx = &*self.ctx;
        let title = phase.title();
        if !phase.should_run(ctx, &slot.host) {
            return;
        }
        if phase.journaled() {
            if let Some(r) = slot.record.done(title) {
                let reason = format!("done in an earlier run: {}", r.message);
                slot.host.status.changed |= r.changed;
                ctx.events.emit(
                    Some(slot.host.name()),
                    Some(title),
                    EventKind::HostSkipped { reason },
                );
                return;
            }
        }
        slot.host.status.state = HostState::Running;
        slot.host.status.phase = Some(title.to_string());
        self.publish(&slot.host);
        ctx.events
            .emit(Some(slot.host.name()), Some(title), EventKind::HostStarted);
        let result = if ctx.dry_run() {
            phase.dry_run(ctx, &mut slot.host).await
        } else {
            phase.run(ctx, &mut slot.host).await
        };
        self.report_planned(title, &mut slot.host);
        match result {
            Ok(outcome) => {
                slot.host.status.message = outcome.message.clone();
                slot.host.status.changed |= outcome.changed;
                if phase.journaled() {
                    self.journal_phase(
                        slot,
                        title,
                        PhaseState::Done,
                        &outcome.message,
                        outcome.changed,
                    );
                }
                self.publish(&slot.host);
                ctx.events.emit(
                    Some(slot.host.name()),
                    Some(title),
                    EventKind::HostDone {
                        message: outcome.message,
                        changed: outcome.changed,
                    },
                );
            }
            Err(e) => self.fail(title, slot, chain(&e)),
        }
    }

    fn fail(&self, title: &str, slot: &mut Slot, message: String) {
        // Status and events already name the host.
        let prefix = format!("{}: ", slot.host.name());
        let message = message
            .strip_prefix(&prefix)
            .map(str::to_string)
            .unwrap_or(message);
        tracing::debug!(host = slot.host.name(), phase = title, "{message}");
        slot.host.status.state = HostState::Failed;
        slot.host.status.phase = Some(title.to_string());
        slot.host.status.message = message.clone();
        self.journal_phase(slot, title, PhaseState::Failed, &message, false);
        self.publish(&slot.host);
        self.ctx.events.emit(
            Some(slot.host.name()),
            Some(title),
            EventKind::HostFailed { message },
        );
    }

    fn journal_phase(
        &self,
        slot: &mut Slot,
        title: &str,
        state: PhaseState,
        message: &str,
        changed: bool,
    ) {
        slot.record.phases.insert(
            title.to_string(),
            PhaseRecord {
                state,
                message: message.to_string(),
                changed,
                at_ms: now_ms(),
            },
        );
        if let Err(e) = self.journal.write_host(&slot.record) {
            tracing::warn!(host = slot.host.name(), "cannot journal: {e}");
        }
    }

    fn report_planned(&self, title: &str, host: &mut HostCtx) {
        let Some(h) = &host.host else { return };
        let planned = h.planned();
        for p in planned.iter().skip(host.planned_seen) {
            self.ctx.events.emit(
                Some(&p.host),
                Some(title),
                EventKind::Planned {
                    description: p.description.clone(),
                },
            );
        }
        host.planned_seen = planned.len();
    }

    fn publish(&self, host: &HostCtx) {
        self.update(|job| {
            if let Some(h) = job
                .hosts
                .iter_mut()
                .find(|h| h.host == host.status.host && h.role == host.status.role)
            {
                *h = host.status.clone();
            } else {
                job.hosts.push(host.status.clone());
            }
        });
    }

    fn update(&self, f: impl FnOnce(&mut Job)) {
        f(&mut self.live.lock().unwrap_or_else(|e| e.into_inner()));
    }

    fn save(&self) {
        let mut record = self.record.lock().unwrap_or_else(|e| e.into_inner());
        record.job = self.snapshot();
        if let Err(e) = self.journal.write_job(&record) {
            tracing::warn!(job = %record.job.id, "cannot save the job: {e}");
        }
    }
}
