//! Every wait in the engine, in one place (k0sctl scattered fixed waits; see
//! docs/dcos-installer-notes.md §Peer installers).

use std::time::Duration;

/// Hosts worked on at once when cluster.yaml does not say (k0sctl's default).
pub const DEFAULT_HOST_CONCURRENCY: usize = 30;
/// How long a freshly started service may take to answer its health endpoint.
pub const SERVICE_HEALTHY_TIMEOUT: Duration = Duration::from_secs(300);
/// Postflight's overall wait for the cluster to settle (leader, agents registered).
pub const POSTFLIGHT_TIMEOUT: Duration = Duration::from_secs(300);
/// Pause between health polls.
pub const HEALTH_POLL_INTERVAL: Duration = Duration::from_secs(2);
/// Each health probe's own limit.
pub const HEALTH_PROBE_TIMEOUT: Duration = Duration::from_secs(15);
/// `install.sh` downloads the bundle and restarts a unit.
pub const INSTALL_TIMEOUT: Duration = Duration::from_secs(900);
/// Live events buffered per follower before a slow one misses some (it can re-read the journal).
pub const EVENT_BUFFER: usize = 4096;
/// An upgrade's pre-checks: a cluster that is not healthy now does not get upgraded.
pub const UPGRADE_PRECHECK_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a node on its new version may take to pass its gate before it is rolled back.
pub const UPGRADE_GATE_TIMEOUT: Duration = Duration::from_secs(45);
