//! etcd-client's errors as the store's: a member that cannot reach a majority answers
//! `Unavailable` or times out, which is quorum lost for the master.

use strato_store::StoreError;

pub fn store_error(
    operation: &'static str,
    table: &'static str,
    error: etcd_client::Error,
) -> StoreError {
    use etcd_client::Error;
    let unavailable = match &error {
        Error::GRpcStatus(status) => {
            matches!(
                status.code(),
                tonic::Code::Unavailable | tonic::Code::DeadlineExceeded | tonic::Code::Cancelled
            ) || status.message().contains("timed out")
                || status.message().contains("no leader")
        }
        Error::TransportError(_) | Error::IoError(_) => true,
        _ => false,
    };
    if unavailable {
        StoreError::QuorumLost {
            message: format!("{operation}: {error}"),
        }
    } else {
        StoreError::Backend {
            operation,
            table,
            message: error.to_string(),
        }
    }
}

/// True for errors where the request never reached a member (connection refused or reset): safe
/// to send again, and with several endpoints the next try may reach a live member.
fn unreached(error: &etcd_client::Error) -> bool {
    match error {
        etcd_client::Error::TransportError(_) | etcd_client::Error::IoError(_) => true,
        etcd_client::Error::GRpcStatus(status) => {
            status.code() == tonic::Code::Unavailable
                && (status.message().contains("connect") || status.message().contains("transport"))
        }
        _ => false,
    }
}

/// Runs `call` again (up to three times, 50 ms apart) while it fails before reaching a member.
/// Every strato write is a put or delete of whole values, so a repeat is harmless.
pub(crate) async fn retrying<T, F, Fut>(mut call: F) -> Result<T, etcd_client::Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, etcd_client::Error>>,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        match call().await {
            Err(error) if attempt < 3 && unreached(&error) => {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            other => return other,
        }
    }
}
