//! Properties of the parsers that see request bytes, each a `check(bytes)` that panics when the
//! router's answer breaks what it promises (not only when it panics itself).
//!
//! One definition, two drivers: the cargo-fuzz targets in `fuzz/` (nightly, millions of inputs,
//! `scripts/fuzz.sh`) and the proptest cases at the bottom of each file (stable, `cargo test`,
//! seconds). Compiled only for those two (`cfg(test)` or the `fuzzing` feature), never into the
//! .wasm. The expected behaviour is restated here from SPEC and from the Go sources Supabase Auth
//! runs, not read back from the code under test.

pub mod go_model;
pub mod header_rewrite;
pub mod host_key;
pub mod redirect_targets;
pub mod request_paths;
pub mod signup_body;
pub mod static_directory;
pub mod token;

use std::future::Future;
use std::task::{Context, Poll, Waker};

/// Runs a future that never waits on the outside world (every body and clock here is in memory).
pub(crate) fn ready<F: Future>(fut: F) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("a property's future waited on I/O"),
    }
}

/// Splits fuzz input into `n` text fields at `\n` (the last takes the rest), lossily as UTF-8:
/// one byte string drives several inputs of one request.
pub(crate) fn fields(data: &[u8], n: usize) -> Vec<String> {
    let mut out: Vec<String> = data
        .splitn(n, |b| *b == b'\n')
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect();
    out.resize(n, String::new());
    out
}

/// The first byte as a selector, and the rest.
pub(crate) fn selector(data: &[u8]) -> (u8, &[u8]) {
    match data.split_first() {
        Some((b, rest)) => (*b, rest),
        None => (0, data),
    }
}

#[cfg(test)]
pub(crate) mod strategies {
    //! Inputs for the stable runs: text made of the fragments the parsers care about, so a few
    //! hundred cases reach the interesting branches that a fuzzer finds by itself.
    use proptest::prelude::*;

    pub fn from(fragments: &'static [&'static str], max: usize) -> impl Strategy<Value = String> {
        proptest::collection::vec(proptest::sample::select(fragments), 0..max)
            .prop_map(|v| v.concat())
    }

    pub fn config(cases: u32) -> ProptestConfig {
        ProptestConfig {
            failure_persistence: None,
            ..ProptestConfig::with_cases(cases)
        }
    }
}

/// An `/auth/v1` request as the pipeline hands it to `auth_request::prepare`, on a tenant whose
/// hosts are [`auth_call::HOSTS`].
pub mod auth_call {
    use futures::future::LocalBoxFuture;

    use crate::error::RouterError;
    use crate::proxy::auth_request::{prepare, AuthForward};
    use crate::proxy::redirect::RedirectPolicy;
    use crate::request::{BodyError, BodySource, Incoming};
    use crate::tenant::{SignupPolicy, TenantRecord, TenantStatus};

    pub const TENANT_ID: &str = "6f1c2a3e-0000-4000-8000-00000000ac4e";
    pub const HOSTS: [&str; 3] = ["acme.app.example", "crm.acme.test", "www.acme.test"];
    pub const ORIGIN: &str = "https://acme.app.example";
    pub const BODY_LIMIT: usize = 65_536;

    struct Body(Vec<u8>);

    impl BodySource for Body {
        fn read_limited(&mut self, limit: usize) -> LocalBoxFuture<'_, Result<Vec<u8>, BodyError>> {
            let r = if self.0.len() > limit {
                Err(BodyError::TooLarge)
            } else {
                Ok(self.0.clone())
            };
            Box::pin(async move { r })
        }
    }

    /// A request as it leaves the router for Supabase Auth, for Go's own reading of it
    /// (`examples/go_replay.rs`, through the oracle in `tests/go-oracle/`).
    pub struct Forwarded {
        pub method: &'static str,
        /// Path and query.
        pub url: String,
        pub headers: Vec<(String, String)>,
        pub body: Vec<u8>,
    }

    impl Forwarded {
        /// One line of the oracle's input.
        pub fn oracle_line(&self) -> String {
            use base64::Engine;
            serde_json::json!({
                "method": self.method,
                "url": self.url,
                "headers": self.headers.iter().map(|(k, v)| [k, v]).collect::<Vec<_>>(),
                "body_base64": base64::engine::general_purpose::STANDARD.encode(&self.body),
            })
            .to_string()
        }
    }

    pub fn tenant(invite_only: bool) -> TenantRecord {
        TenantRecord {
            id: TENANT_ID.parse().expect("a UUID"),
            slug: "acme".into(),
            name: "Acme".into(),
            status: TenantStatus::Active,
            custom_domain: Some(HOSTS[1].into()),
            domains: vec![HOSTS[1].into(), HOSTS[2].into()],
            signup: if invite_only {
                SignupPolicy::InviteOnly
            } else {
                SignupPolicy::Open
            },
            branding: serde_json::Value::Null,
            placement: None,
        }
    }

    pub fn run(
        method: &str,
        path: &str,
        query: Option<&str>,
        headers: &[(&str, &str)],
        body: &[u8],
        tenant: &TenantRecord,
    ) -> Result<AuthForward, RouterError> {
        let req = Incoming {
            method: method.into(),
            scheme: "https".into(),
            host: HOSTS[0].into(),
            path: path.into(),
            query: query.map(String::from),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
                .collect(),
            client_ip: None,
        };
        let hosts: Vec<String> = HOSTS.map(String::from).to_vec();
        // Unsigned mode (no AUTH_RETURN_HOST): every target must be on a tenant host. The signed
        // returns have their own suite (tests/worker/auth_return.test.mjs, src/signed_return.rs).
        let policy = RedirectPolicy {
            tenant_hosts: &hosts,
            user_origin: ORIGIN,
            signer: None,
        };
        super::ready(prepare(
            &req,
            &mut Body(body.to_vec()),
            tenant,
            &policy,
            BODY_LIMIT,
        ))
    }
}
