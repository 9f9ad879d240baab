//! Registering with a master, retried with jittered exponential backoff (as Mesos agents do, so
//! a master restart does not get every agent at the same instant).

use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use strato_proto::{AgentInfo, RegisterAgent, Registered, PATH_REGISTER};

use crate::client::MasterClient;
use crate::executor::Executor;

const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(15);

/// The delay before attempt `n + 1`: uniform in [d/2, d] with d = first·2ⁿ, capped.
pub fn backoff(attempt: u32) -> Duration {
    let cap = FIRST_BACKOFF
        .saturating_mul(2u32.saturating_pow(attempt.min(16)))
        .min(MAX_BACKOFF);
    let half = cap / 2;
    half + half.mul_f64(unit_random())
}

/// A number in [0, 1) from the std hasher's random keys; good enough for jitter.
fn unit_random() -> f64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// Registers (with the tasks the agent runs now) until a master accepts.
pub async fn register(client: &MasterClient, agent: &AgentInfo, exec: &Executor) -> Registered {
    let mut attempt = 0;
    loop {
        let request = RegisterAgent {
            agent: agent.clone(),
            tasks: exec.statuses(),
        };
        match client.post::<_, Registered>(PATH_REGISTER, &request).await {
            Ok(reg) => {
                tracing::info!(
                    master = %client.current_master(),
                    agent_id = %reg.agent_id,
                    tasks = request.tasks.len(),
                    "registered with master"
                );
                return reg;
            }
            Err(e) => {
                let delay = backoff(attempt);
                if attempt % 10 == 0 {
                    tracing::warn!(error = %e, retry_in = ?delay, "cannot register with a master");
                }
                attempt += 1;
                tokio::time::sleep(delay).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        for attempt in 0..30 {
            let d = backoff(attempt);
            let cap = FIRST_BACKOFF
                .saturating_mul(2u32.saturating_pow(attempt.min(16)))
                .min(MAX_BACKOFF);
            assert!(d >= cap / 2 && d <= cap, "attempt {attempt}: {d:?}");
        }
        assert!(backoff(40) <= MAX_BACKOFF);
    }
}
