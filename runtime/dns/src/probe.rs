//! Asking a DNS server one question, for readiness checks (`strato up --local` waits until its
//! DNS answers before printing the URLs).

use std::net::SocketAddr;
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RecordType};
use tokio::net::UdpSocket;

/// True when the server at `addr` answers an A query for `name` over UDP within `timeout` with
/// any response code other than SERVFAIL or REFUSED (an NXDOMAIN is still a working server).
pub async fn answers(addr: SocketAddr, name: &str, timeout: Duration) -> bool {
    tokio::time::timeout(timeout, ask(addr, name))
        .await
        .unwrap_or(false)
}

async fn ask(addr: SocketAddr, name: &str) -> bool {
    let Ok(name) = Name::from_ascii(name) else {
        return false;
    };
    let id: u16 = std::process::id() as u16;
    let mut query = Message::new(id, MessageType::Query, OpCode::Query);
    query.metadata.recursion_desired = false;
    query.queries.push(Query::query(name, RecordType::A));
    let Ok(bytes) = query.to_vec() else {
        return false;
    };
    let local: SocketAddr = if addr.is_ipv4() {
        ([127, 0, 0, 1], 0).into()
    } else {
        ([0u16; 8], 0).into()
    };
    let Ok(socket) = UdpSocket::bind(local).await else {
        return false;
    };
    if socket.send_to(&bytes, addr).await.is_err() {
        return false;
    }
    let mut buf = [0u8; 4096];
    loop {
        let Ok((len, from)) = socket.recv_from(&mut buf).await else {
            return false;
        };
        if from != addr {
            continue;
        }
        let Ok(reply) = Message::from_vec(&buf[..len]) else {
            return false;
        };
        if reply.metadata.id != id {
            continue;
        }
        return !matches!(
            reply.metadata.response_code,
            ResponseCode::ServFail | ResponseCode::Refused
        );
    }
}
