//! Waiting until machines answer on the SSH port: the signal that `strato deploy` can start.
use std::time::{Duration, Instant};

use tokio::net::TcpStream;

/// Wait until every `address:port` accepts a TCP connection, or `deadline` passes. Returns the
/// addresses that never answered (empty when all did).
pub async fn wait_for_ssh(addresses: &[String], port: u16, deadline: Duration) -> Vec<String> {
    let start = Instant::now();
    let mut pending: Vec<String> = addresses.to_vec();
    while !pending.is_empty() {
        let mut still = Vec::new();
        for addr in pending {
            let target = format!("{addr}:{port}");
            let ok = matches!(
                tokio::time::timeout(Duration::from_secs(3), TcpStream::connect(&target)).await,
                Ok(Ok(_))
            );
            if !ok {
                still.push(addr);
            }
        }
        pending = still;
        if pending.is_empty() || start.elapsed() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_secs(2).min(deadline.saturating_sub(start.elapsed())))
            .await;
    }
    pending
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn listening_port_answers_and_closed_port_times_out() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let open = listener.local_addr().expect("addr").port();
        let left = wait_for_ssh(&["127.0.0.1".to_string()], open, Duration::from_secs(5)).await;
        assert!(left.is_empty());
        drop(listener);
        // The port we just released is closed now: nothing answers there.
        let left = wait_for_ssh(&["127.0.0.1".to_string()], open, Duration::from_millis(300)).await;
        assert_eq!(left, vec!["127.0.0.1".to_string()]);
    }
}
