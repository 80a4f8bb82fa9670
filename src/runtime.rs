//! The little the core needs from its host runtime: a clock, a timer, and an HTTP client for the
//! requests the router makes itself (the directory RPC, the JWKS).
//!
//! workerd provides them through JS (`Date.now`, `setTimeout`, `fetch`), native tests through
//! tokio; the core stays free of both. The HTTP client is the runtime's own `fetch` rather than an
//! HTTP crate: reqwest's wasm32 backend calls that same `fetch`, but brought its own copies of
//! `http`, `base64` and friends into the .wasm (25 KiB of the gzipped bundle).

use std::future::Future;

use futures::future::{select, Either, LocalBoxFuture};

pub trait Runtime {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;
    fn sleep(&self, ms: u64) -> LocalBoxFuture<'static, ()>;
    /// One request, its answer read whole; `Err` when no answer came (network, refused request).
    fn fetch(&self, req: HttpRequest) -> LocalBoxFuture<'static, Result<HttpResponse, String>>;
}

/// A request the router makes on its own behalf: small bodies, buffered both ways.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub body: Vec<u8>,
}

/// `None` when `ms` passed before `fut` finished.
pub async fn timeout<F: Future>(rt: &dyn Runtime, ms: u64, fut: F) -> Option<F::Output> {
    let fut = std::pin::pin!(fut);
    match select(fut, rt.sleep(ms)).await {
        Either::Left((out, _)) => Some(out),
        Either::Right(_) => None,
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) mod testing {
    use std::cell::Cell;
    use std::rc::Rc;

    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// HTTP/1.1 over a plain TCP connection, for the tests' own servers on 127.0.0.1 (which answer
    /// with `content-length` and close): what workerd's `fetch` does for the adapter.
    pub async fn http_fetch(req: HttpRequest) -> Result<HttpResponse, String> {
        let url = url::Url::parse(&req.url).map_err(|e| e.to_string())?;
        let host = url.host_str().ok_or("no host")?;
        let port = url.port_or_known_default().ok_or("no port")?;
        let target = &url[url::Position::BeforePath..url::Position::AfterQuery];
        let mut sock = tokio::net::TcpStream::connect((host, port))
            .await
            .map_err(|e| e.to_string())?;
        let body = req.body.unwrap_or_default();
        let mut head = format!(
            "{} {target} HTTP/1.1\r\nhost: {host}:{port}\r\n",
            req.method
        );
        for (k, v) in &req.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str(&format!(
            "content-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        ));
        sock.write_all(head.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        let mut raw = Vec::new();
        sock.read_to_end(&mut raw)
            .await
            .map_err(|e| e.to_string())?;
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or("no end of headers")?;
        let status = std::str::from_utf8(&raw[..split])
            .ok()
            .and_then(|h| h.split(' ').nth(1))
            .and_then(|s| s.parse().ok())
            .ok_or("no status line")?;
        Ok(HttpResponse {
            status,
            body: raw[split + 4..].to_vec(),
        })
    }

    /// A clock the test moves by hand; sleeps are real tokio sleeps so timeouts can fire.
    #[derive(Default)]
    pub struct ManualClock {
        pub now: Cell<u64>,
    }

    impl ManualClock {
        pub fn at(ms: u64) -> Rc<Self> {
            Rc::new(Self { now: Cell::new(ms) })
        }
        pub fn advance(&self, ms: u64) {
            self.now.set(self.now.get() + ms);
        }
    }

    /// Wall-clock time, for tests where waiting is real.
    pub struct RealClock;

    impl Runtime for RealClock {
        fn now_ms(&self) -> u64 {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0)
        }
        fn sleep(&self, ms: u64) -> LocalBoxFuture<'static, ()> {
            Box::pin(tokio::time::sleep(std::time::Duration::from_millis(ms)))
        }
        fn fetch(&self, req: HttpRequest) -> LocalBoxFuture<'static, Result<HttpResponse, String>> {
            Box::pin(http_fetch(req))
        }
    }

    impl Runtime for ManualClock {
        fn now_ms(&self) -> u64 {
            self.now.get()
        }
        fn sleep(&self, ms: u64) -> LocalBoxFuture<'static, ()> {
            Box::pin(tokio::time::sleep(std::time::Duration::from_millis(ms)))
        }
        fn fetch(&self, req: HttpRequest) -> LocalBoxFuture<'static, Result<HttpResponse, String>> {
            Box::pin(http_fetch(req))
        }
    }
}
