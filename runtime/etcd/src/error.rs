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
