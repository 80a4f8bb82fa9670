//! workerd's request as the core's [`Incoming`], and its body as a [`BodySource`].

use futures::future::LocalBoxFuture;
use futures::StreamExt;
use worker::ByteStream;

use super::headers;
use crate::error::RouterError;
use crate::request::{BodyError, BodySource, Incoming, RequestUrl};

pub fn incoming(req: &web_sys::Request) -> Result<Incoming, RouterError> {
    let raw_url = req.url();
    let url = RequestUrl::split(&raw_url)
        .ok_or_else(|| RouterError::InvalidHost("unparseable request URL".into()))?;
    let headers = headers::pairs(&req.headers());
    let host = headers
        .iter()
        .find(|(k, _)| k == "host")
        .map_or(url.authority, |(_, v)| v.as_str())
        .to_string();
    Ok(Incoming {
        method: req.method().to_ascii_uppercase(),
        scheme: url.scheme.to_string(),
        host,
        path: url.path.to_string(),
        query: url.query.map(str::to_string),
        client_ip: headers
            .iter()
            .find(|(k, _)| k == "cf-connecting-ip")
            .map(|(_, v)| v.clone()),
        headers,
    })
}

/// Reads at most `limit` bytes of the client's body, refusing more without buffering it.
pub struct RequestBody<'a>(pub &'a web_sys::Request);

impl BodySource for RequestBody<'_> {
    fn read_limited(&mut self, limit: usize) -> LocalBoxFuture<'_, Result<Vec<u8>, BodyError>> {
        Box::pin(async move {
            let declared = self
                .0
                .headers()
                .get("content-length")
                .ok()
                .flatten()
                .and_then(|v| v.trim().parse::<u64>().ok());
            if declared.is_some_and(|n| n > limit as u64) {
                return Err(BodyError::TooLarge);
            }
            let Some(body) = self.0.body() else {
                return Ok(Vec::new());
            };
            let mut stream = ByteStream::from(body);
            let mut out = Vec::new();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| BodyError::Read(e.to_string()))?;
                if out.len() + chunk.len() > limit {
                    return Err(BodyError::TooLarge);
                }
                out.extend_from_slice(&chunk);
            }
            Ok(out)
        })
    }
}
