//! Host ports from an agent's offered ranges, and cluster-wide service ports (10000–20000).

use std::collections::BTreeSet;

use strato_proto::PortRange;

pub const SERVICE_PORT_MIN: u32 = 10000;
pub const SERVICE_PORT_MAX: u32 = 20000;

/// Picks host ports for `requested` (0 = any; with `require_ports` the declared port itself).
/// `None` when the agent cannot satisfy them.
pub fn assign_host_ports(
    requested: &[u32],
    require_ports: bool,
    ranges: &[PortRange],
    used: &BTreeSet<u16>,
) -> Option<Vec<u16>> {
    let in_ranges = |p: u16| ranges.iter().any(|r| r.begin <= p && p <= r.end);
    let mut taken: BTreeSet<u16> = BTreeSet::new();
    let mut out = Vec::with_capacity(requested.len());
    for &want in requested {
        let port = if require_ports && want != 0 {
            let p = u16::try_from(want).ok()?;
            (in_ranges(p) && !used.contains(&p) && !taken.contains(&p)).then_some(p)?
        } else {
            ranges
                .iter()
                .flat_map(|r| r.begin..=r.end)
                .find(|p| !used.contains(p) && !taken.contains(p))?
        };
        taken.insert(port);
        out.push(port);
    }
    Some(out)
}

/// Replaces 0 service ports with free ones from 10000–20000, skipping `used`.
pub fn assign_service_ports(ports: &mut [u32], used: &BTreeSet<u32>) {
    let mut next = SERVICE_PORT_MIN;
    let mut taken: BTreeSet<u32> = ports.iter().copied().filter(|p| *p != 0).collect();
    for port in ports.iter_mut().filter(|p| **p == 0) {
        while next <= SERVICE_PORT_MAX && (used.contains(&next) || taken.contains(&next)) {
            next += 1;
        }
        if next > SERVICE_PORT_MAX {
            return;
        }
        *port = next;
        taken.insert(next);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RANGE: [PortRange; 1] = [PortRange {
        begin: 31000,
        end: 31003,
    }];

    #[test]
    fn dynamic_ports_take_the_lowest_free() {
        let used = BTreeSet::from([31000]);
        assert_eq!(
            assign_host_ports(&[0, 0], false, &RANGE, &used),
            Some(vec![31001, 31002])
        );
    }

    #[test]
    fn required_ports_must_be_free_and_offered() {
        let used = BTreeSet::from([31001]);
        assert_eq!(
            assign_host_ports(&[31002], true, &RANGE, &used),
            Some(vec![31002])
        );
        assert_eq!(assign_host_ports(&[31001], true, &RANGE, &used), None);
        assert_eq!(assign_host_ports(&[8080], true, &RANGE, &used), None);
    }

    #[test]
    fn exhausted_range_yields_none() {
        let used: BTreeSet<u16> = (31000..=31003).collect();
        assert_eq!(assign_host_ports(&[0], false, &RANGE, &used), None);
    }

    #[test]
    fn service_ports_skip_used_ones() {
        let mut ports = [0, 10005, 0];
        assign_service_ports(&mut ports, &BTreeSet::from([10000]));
        assert_eq!(ports, [10001, 10005, 10002]);
    }
}
