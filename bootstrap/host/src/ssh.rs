//! [`Transport`] over one SSH session (strato-ssh).

use async_trait::async_trait;
use strato_ssh::Session;

use crate::transport::{ExecOptions, ExecOutput, Transport, TransportError, UploadOptions};

/// A node reached over SSH. Clones share the session's connection.
#[derive(Debug, Clone)]
pub struct SshTransport {
    session: Session,
}

impl SshTransport {
    /// Connect (see [`Session::connect`] for retries and limits) and wrap the session.
    pub async fn connect(
        target: &strato_ssh::Target,
        opts: &strato_ssh::ConnectOptions,
        deadline: Option<std::time::Instant>,
    ) -> Result<Self, strato_ssh::SshError> {
        Ok(SshTransport::new(
            Session::connect(target, opts, deadline).await?,
        ))
    }

    /// Wrap a connected session.
    pub fn new(session: Session) -> Self {
        SshTransport { session }
    }

    /// The session, e.g. to open a port forward or read the host key to pin.
    pub fn session(&self) -> &Session {
        &self.session
    }
}

#[async_trait]
impl Transport for SshTransport {
    fn address(&self) -> String {
        self.session.target().to_string()
    }

    async fn exec(&self, command: &str, opts: ExecOptions) -> Result<ExecOutput, TransportError> {
        Ok(self.session.exec(command, opts).await?)
    }

    async fn upload(
        &self,
        data: &[u8],
        path: &str,
        mode: u32,
        opts: UploadOptions,
    ) -> Result<(), TransportError> {
        Ok(self.session.upload(data, path, mode, opts).await?)
    }

    async fn download(&self, path: &str, opts: UploadOptions) -> Result<Vec<u8>, TransportError> {
        Ok(self.session.download(path, opts).await?)
    }
}
