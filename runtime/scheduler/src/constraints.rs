//! Marathon placement constraints (`[field, OPERATOR, value?]`) on `hostname` and agent
//! attributes: UNIQUE, CLUSTER, GROUP_BY, LIKE, UNLIKE, MAX_PER, IS.

use std::collections::BTreeMap;

use regex::Regex;

use crate::cluster::AgentSlot;

/// The value of a constraint field on an agent (`hostname`/`@hostname` or an attribute).
pub fn field_value<'a>(agent: &'a AgentSlot, field: &str) -> Option<&'a str> {
    match field {
        "hostname" | "@hostname" => Some(agent.hostname.as_str()),
        other => agent
            .attributes
            .get(other.trim_start_matches('@'))
            .map(String::as_str),
    }
}

/// A constraint ready for evaluation (its regex compiled once per placement round).
#[derive(Debug, Clone)]
pub struct Prepared {
    field: String,
    op: String,
    value: Option<String>,
    regex: Option<Regex>,
}

impl Prepared {
    /// `None` for a malformed constraint (validation rejects those before they get here).
    pub fn new(constraint: &[String]) -> Option<Prepared> {
        let (field, op, value) = match constraint {
            [f, op] => (f.clone(), op.clone(), None),
            [f, op, v] => (f.clone(), op.clone(), Some(v.clone())),
            _ => return None,
        };
        let regex = match op.as_str() {
            "LIKE" | "UNLIKE" => {
                Some(Regex::new(&format!("^(?:{})$", value.as_deref().unwrap_or(""))).ok()?)
            }
            _ => None,
        };
        Some(Prepared {
            field,
            op,
            value,
            regex,
        })
    }

    pub fn field(&self) -> &str {
        &self.field
    }

    pub fn op(&self) -> &str {
        &self.op
    }

    /// MAX_PER's limit; `None` when the value is missing or not a number (then nothing fits).
    pub fn max_per(&self) -> Option<usize> {
        self.value.as_deref().and_then(|v| v.parse::<usize>().ok())
    }

    /// The verdict for a candidate whose field has value `here` when it does not depend on the
    /// app's placed tasks (IS, LIKE, UNLIKE, CLUSTER with a value, MAX_PER with a bad number,
    /// unknown operators); `None` when it does (UNIQUE, MAX_PER, GROUP_BY, CLUSTER without a
    /// value). The placement indexes evaluate this once per distinct value.
    pub fn static_verdict(&self, here: Option<&str>) -> Option<bool> {
        let value = self.value.as_deref();
        let matches = |h: &str| self.regex.as_ref().is_some_and(|re| re.is_match(h));
        match self.op.as_str() {
            "UNIQUE" | "GROUP_BY" => None,
            "CLUSTER" => value.filter(|v| !v.is_empty()).map(|v| here == Some(v)),
            "IS" => Some(here.is_some() && here == value),
            "LIKE" => Some(here.is_some_and(matches)),
            "UNLIKE" => Some(here.is_none_or(|h| !matches(h))),
            "MAX_PER" => self.max_per().is_none().then_some(false),
            _ => Some(false),
        }
    }
}

/// Whether one more task of the app may go to `candidate`. `placed` counts the app's active
/// tasks per value of the constraint's field; `group_min` is the smallest of those counts over
/// every value the field takes on active agents (for GROUP_BY; see [`group_min`]).
pub fn allows(
    constraint: &Prepared,
    candidate: &AgentSlot,
    placed: &BTreeMap<String, usize>,
    group_min: usize,
) -> bool {
    let here = field_value(candidate, &constraint.field);
    if let Some(verdict) = constraint.static_verdict(here) {
        return verdict;
    }
    let count_here = here.and_then(|v| placed.get(v)).copied().unwrap_or(0);
    match constraint.op.as_str() {
        "UNIQUE" => here.is_some() && count_here == 0,
        "CLUSTER" => here.is_some_and(|h| placed.is_empty() || placed.contains_key(h)),
        "MAX_PER" => here.is_some() && constraint.max_per().is_some_and(|max| count_here < max),
        "GROUP_BY" => here.is_some() && count_here <= group_min,
        _ => false,
    }
}

/// The fewest tasks on any value of the field, over `all_values` (0 when a value has none).
pub fn group_min(placed: &BTreeMap<String, usize>, all_values: &[String]) -> usize {
    all_values
        .iter()
        .map(|v| placed.get(v).copied().unwrap_or(0))
        .min()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(host: &str, rack: Option<&str>) -> AgentSlot {
        let mut slot = AgentSlot::for_test(host);
        if let Some(rack) = rack {
            slot.attributes.insert("rack".into(), rack.into());
        }
        slot
    }

    fn c(parts: &[&str]) -> Prepared {
        Prepared::new(&parts.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .expect("valid constraint")
    }

    #[test]
    fn unique_hostname_refuses_a_second_task_on_the_host() {
        let placed = BTreeMap::from([("h1".to_string(), 1)]);
        assert!(!allows(
            &c(&["hostname", "UNIQUE"]),
            &agent("h1", None),
            &placed,
            0
        ));
        assert!(allows(
            &c(&["hostname", "UNIQUE"]),
            &agent("h2", None),
            &placed,
            0
        ));
    }

    #[test]
    fn cluster_pins_to_the_value_or_first_placement() {
        assert!(allows(
            &c(&["rack", "CLUSTER", "r1"]),
            &agent("h", Some("r1")),
            &BTreeMap::new(),
            0
        ));
        assert!(!allows(
            &c(&["rack", "CLUSTER", "r1"]),
            &agent("h", Some("r2")),
            &BTreeMap::new(),
            0
        ));
        let placed = BTreeMap::from([("r2".to_string(), 1)]);
        assert!(!allows(
            &c(&["rack", "CLUSTER"]),
            &agent("h", Some("r1")),
            &placed,
            0
        ));
    }

    #[test]
    fn like_and_unlike_full_match_and_unlike_accepts_missing_attributes() {
        assert!(allows(
            &c(&["rack", "LIKE", "r[12]"]),
            &agent("h", Some("r1")),
            &BTreeMap::new(),
            0
        ));
        assert!(!allows(
            &c(&["rack", "LIKE", "r"]),
            &agent("h", Some("r1")),
            &BTreeMap::new(),
            0
        ));
        assert!(allows(
            &c(&["rack", "UNLIKE", "r1"]),
            &agent("h", None),
            &BTreeMap::new(),
            0
        ));
        assert!(!allows(
            &c(&["rack", "UNLIKE", "r1"]),
            &agent("h", Some("r1")),
            &BTreeMap::new(),
            0
        ));
    }

    #[test]
    fn max_per_and_group_by_balance_values() {
        let placed = BTreeMap::from([("r1".to_string(), 2)]);
        assert!(!allows(
            &c(&["rack", "MAX_PER", "2"]),
            &agent("h", Some("r1")),
            &placed,
            0
        ));
        assert!(allows(
            &c(&["rack", "MAX_PER", "2"]),
            &agent("h", Some("r2")),
            &placed,
            0
        ));
        let values = vec!["r1".to_string(), "r2".to_string()];
        assert!(!allows(
            &c(&["rack", "GROUP_BY"]),
            &agent("h", Some("r1")),
            &placed,
            group_min(&placed, &values)
        ));
        assert!(allows(
            &c(&["rack", "GROUP_BY"]),
            &agent("h", Some("r2")),
            &placed,
            group_min(&placed, &values)
        ));
    }

    #[test]
    fn is_compares_the_attribute_exactly() {
        assert!(allows(
            &c(&["rack", "IS", "r1"]),
            &agent("h", Some("r1")),
            &BTreeMap::new(),
            0
        ));
        assert!(!allows(
            &c(&["rack", "IS", "r1"]),
            &agent("h", None),
            &BTreeMap::new(),
            0
        ));
    }
}
