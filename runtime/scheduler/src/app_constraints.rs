//! One app's constraints during a placement round, on the field indexes: the app's task counts
//! per value (per host for `hostname`, per attribute value otherwise) for UNIQUE, MAX_PER,
//! GROUP_BY and CLUSTER, and per-value verdicts computed once for the rules that ignore counts.
//! Must agree with `allows` in runtime/scheduler/src/constraints.rs (the property tests in
//! runtime/scheduler/tests/placement_props.rs replay every placement through it).

use crate::constraints::Prepared;
use crate::fields::{FieldCache, FieldIndex};

/// Whether one more task of the app may go to an agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Fits,
    /// Not now, maybe after other placements (GROUP_BY waits for the other values to catch up).
    NotNow,
    /// Not for the rest of this round: counts only grow and capacity only shrinks while planning.
    Never,
}

#[derive(Debug)]
enum Rule {
    /// Decided by the value alone: `allowed` per value id, `missing` without the attribute.
    Static {
        allowed: Vec<bool>,
        missing: bool,
    },
    Unique,
    MaxPer(usize),
    GroupBy,
    /// CLUSTER without a value: wherever the app's first task went.
    Cluster,
}

#[derive(Debug)]
struct Tracked<'f> {
    field: &'f FieldIndex,
    rule: Rule,
    /// The app's active tasks per value id.
    counts: Vec<u32>,
    total: u32,
    /// GROUP_BY: how many values have each count, so the minimum moves in O(1).
    values_with: Vec<u32>,
    min: u32,
}

/// Used when a field was not indexed: no agent has a value.
static NO_FIELD: FieldIndex = FieldIndex {
    values: Vec::new(),
    of_agent: Vec::new(),
    agents: Vec::new(),
};

#[derive(Debug)]
pub struct AppConstraints<'f> {
    tracked: Vec<Tracked<'f>>,
}

impl<'f> AppConstraints<'f> {
    /// `placed` yields the slot index of each of the app's active tasks that counts for
    /// constraints (not being killed).
    pub fn new(
        constraints: &[Prepared],
        fields: &'f FieldCache,
        placed: &[usize],
    ) -> AppConstraints<'f> {
        let tracked = constraints
            .iter()
            .map(|c| {
                let field = fields.get(c.field()).unwrap_or(&NO_FIELD);
                let rule = match (c.static_verdict(Some("")), c.op()) {
                    (Some(_), _) => Rule::Static {
                        allowed: field
                            .values
                            .iter()
                            .map(|v| c.static_verdict(Some(v)).unwrap_or(false))
                            .collect(),
                        missing: c.static_verdict(None).unwrap_or(false),
                    },
                    (None, "UNIQUE") => Rule::Unique,
                    (None, "GROUP_BY") => Rule::GroupBy,
                    (None, "MAX_PER") => Rule::MaxPer(c.max_per().unwrap_or(0)),
                    (None, _) => Rule::Cluster,
                };
                let mut t = Tracked {
                    field,
                    rule,
                    counts: vec![0; field.values.len()],
                    total: 0,
                    values_with: vec![u32::try_from(field.values.len()).unwrap_or(u32::MAX)],
                    min: 0,
                };
                for &agent in placed {
                    t.record(agent);
                }
                t
            })
            .collect();
        AppConstraints { tracked }
    }

    pub fn verdict(&self, agent: usize) -> Verdict {
        let mut out = Verdict::Fits;
        for t in &self.tracked {
            match t.verdict(agent) {
                Verdict::Never => return Verdict::Never,
                Verdict::NotNow => out = Verdict::NotNow,
                Verdict::Fits => {}
            }
        }
        out
    }

    /// One more task of the app on `agent`.
    pub fn record(&mut self, agent: usize) {
        for t in &mut self.tracked {
            t.record(agent);
        }
    }
}

impl Tracked<'_> {
    fn count(&self, value: u32) -> u32 {
        self.counts.get(value as usize).copied().unwrap_or(0)
    }

    fn verdict(&self, agent: usize) -> Verdict {
        let here = self.field.value_of(agent);
        let yes = |ok: bool| if ok { Verdict::Fits } else { Verdict::Never };
        match (&self.rule, here) {
            (Rule::Static { allowed, .. }, Some(v)) => {
                yes(allowed.get(v as usize).copied().unwrap_or(false))
            }
            (Rule::Static { missing, .. }, None) => yes(*missing),
            (_, None) => Verdict::Never,
            (Rule::Unique, Some(v)) => yes(self.count(v) == 0),
            (Rule::MaxPer(max), Some(v)) => yes((self.count(v) as usize) < *max),
            (Rule::Cluster, Some(v)) => yes(self.total == 0 || self.count(v) > 0),
            (Rule::GroupBy, Some(v)) if self.count(v) <= self.min => Verdict::Fits,
            (Rule::GroupBy, Some(_)) => Verdict::NotNow,
        }
    }

    fn record(&mut self, agent: usize) {
        let Some(v) = self.field.value_of(agent) else {
            return;
        };
        let Some(count) = self.counts.get_mut(v as usize) else {
            return;
        };
        let before = *count as usize;
        *count += 1;
        self.total += 1;
        if self.values_with.len() <= before + 1 {
            self.values_with.resize(before + 2, 0);
        }
        self.values_with[before] = self.values_with[before].saturating_sub(1);
        self.values_with[before + 1] += 1;
        while self.values_with.get(self.min as usize) == Some(&0) {
            self.min += 1;
        }
    }
}
