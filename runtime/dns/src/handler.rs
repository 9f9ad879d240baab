//! Turns each DNS request into an answer: authoritative inside the domain, forwarded outside it
//! for clients on the cluster's networks (`recursion.rs`), REFUSED for anyone else.

use std::sync::Arc;

use hickory_proto::op::{Edns, Header, HeaderCounts, MessageType, Metadata, OpCode, ResponseCode};
use hickory_proto::rr::Record;
use hickory_server::net::runtime::Time;
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::zone_handler::{MessageResponse, MessageResponseBuilder};

use crate::forward::{Forwarded, Forwarder};
use crate::records::{self, Answer};
use crate::recursion::may_recurse;
use crate::view::DnsView;

pub struct Handler {
    pub domain: String,
    pub view: Arc<dyn DnsView>,
    pub forwarder: Option<Forwarder>,
}

#[async_trait::async_trait]
impl RequestHandler for Handler {
    async fn handle_request<R: ResponseHandler, T: Time>(
        &self,
        request: &Request,
        mut response: R,
    ) -> ResponseInfo {
        let mut builder = MessageResponseBuilder::from_message_request(request);
        // Answer EDNS with EDNS, capped at the fragmentation-safe 1232 bytes (DNS flag day 2020).
        let edns = request.edns.as_ref().map(|asked| {
            let mut edns = Edns::new();
            edns.set_max_payload(asked.max_payload().clamp(512, 1232));
            edns.set_version(0);
            edns
        });
        if let Some(edns) = edns.as_ref() {
            builder.edns(edns);
        }
        let asked = &request.metadata;
        if asked.message_type != MessageType::Query || asked.op_code != OpCode::Query {
            return send(
                &mut response,
                builder.error_msg(asked, ResponseCode::NotImp),
            )
            .await;
        }
        let info = match request.request_info() {
            Ok(info) => info,
            Err(_) => {
                return send(
                    &mut response,
                    builder.error_msg(asked, ResponseCode::FormErr),
                )
                .await
            }
        };
        let name = info.query.name().into();
        let rtype = info.query.query_type();

        let recursion = self.forwarder.is_some() && may_recurse(request.src().ip());
        let mut header = Metadata::response_from_request(asked);
        header.recursion_available = recursion;

        let snapshot = self.view.snapshot();
        if let Some(answer) = records::lookup(&snapshot, &self.domain, &name, rtype) {
            header.authoritative = true;
            let soa = [records::soa(&self.domain)];
            let (answers, additionals, code) = match answer {
                Answer::Records {
                    answers,
                    additionals,
                } => (answers, additionals, ResponseCode::NoError),
                Answer::NoData => (Vec::new(), Vec::new(), ResponseCode::NoError),
                Answer::NxDomain => (Vec::new(), Vec::new(), ResponseCode::NXDomain),
            };
            header.response_code = code;
            let authority: &[Record] = if answers.is_empty() { &soa } else { &[] };
            let message = builder.build(
                header,
                answers.iter(),
                &[],
                authority.iter(),
                additionals.iter(),
            );
            return send(&mut response, message).await;
        }

        let Some(forwarder) = self.forwarder.as_ref().filter(|_| recursion) else {
            return send(
                &mut response,
                builder.error_msg(asked, ResponseCode::Refused),
            )
            .await;
        };
        match forwarder.forward(&name, rtype).await {
            Forwarded::Records(answers) => {
                let message = builder.build(header, answers.iter(), &[], &[], &[]);
                send(&mut response, message).await
            }
            Forwarded::Code(code) => {
                header.response_code = code;
                send(&mut response, builder.build_no_records(header)).await
            }
        }
    }
}

async fn send<'a, R: ResponseHandler>(
    response: &mut R,
    message: MessageResponse<
        '_,
        'a,
        impl Iterator<Item = &'a Record> + Send + 'a,
        impl Iterator<Item = &'a Record> + Send + 'a,
        impl Iterator<Item = &'a Record> + Send + 'a,
        impl Iterator<Item = &'a Record> + Send + 'a,
    >,
) -> ResponseInfo {
    match response.send_response(message).await {
        Ok(info) => info,
        Err(err) => {
            tracing::debug!(error = %err, "cannot send DNS response");
            let mut metadata = Metadata::new(0, MessageType::Response, OpCode::Query);
            metadata.response_code = ResponseCode::ServFail;
            Header {
                metadata,
                counts: HeaderCounts::default(),
            }
            .into()
        }
    }
}
