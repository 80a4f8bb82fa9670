//! The production directory: `POST /rest/v1/rpc/resolve_tenant`, the one PostgREST call the
//! router makes, through the runtime's HTTP client (workerd's `fetch`; tokio in native tests).

use std::rc::Rc;

use futures::future::LocalBoxFuture;
use serde_json::{json, Value};

use super::{record_matches, DirectoryError, LookupResult, TenantSource};
use crate::host::HostKind;
use crate::runtime::{HttpRequest, Runtime};
use crate::tenant::TenantRecord;

/// Routing records are small; anything bigger is not a routing record. The schema keeps every record
/// far below this: branding at most 16 KiB (`tenants_branding_size`, sql/015) and at most 50
/// hostnames (sql/018), every other field bounded by its own check (supabase/tests/branding_bound.sql
/// and tenant_domains.sql measure the largest record the schema allows).
const MAX_ANSWER_BYTES: usize = 64 * 1024;

pub struct SupabaseDirectory {
    rpc_url: String,
    headers: Vec<(String, String)>,
    rt: Rc<dyn Runtime>,
}

impl SupabaseDirectory {
    pub fn new(project_url: &str, anon_key: &str, rt: Rc<dyn Runtime>) -> Self {
        let mut headers = vec![
            ("apikey".to_string(), anon_key.to_string()),
            ("content-type".to_string(), "application/json".to_string()),
            ("accept".to_string(), "application/json".to_string()),
        ];
        // A legacy anon key is a JWT and doubles as bearer; publishable keys must not be sent as one.
        if anon_key.starts_with("eyJ") {
            headers.push(("authorization".to_string(), format!("Bearer {anon_key}")));
        }
        Self {
            rpc_url: format!("{project_url}/rest/v1/rpc/resolve_tenant"),
            headers,
            rt,
        }
    }

    /// The RPC body: the router classifies the host, the database knows nothing of base domains.
    pub fn rpc_params(key: &HostKind) -> Option<Value> {
        match key {
            HostKind::Slug(s) => Some(json!({ "p_slug": s })),
            HostKind::CustomDomain(d) => Some(json!({ "p_domain": d })),
            HostKind::Platform => None,
        }
    }
}

pub fn parse_answer(key: &HostKind, body: &[u8]) -> LookupResult {
    if body.len() > MAX_ANSWER_BYTES {
        return Err(DirectoryError::Malformed("answer too large".into()));
    }
    let value: Value =
        serde_json::from_slice(body).map_err(|e| DirectoryError::Malformed(e.to_string()))?;
    // PostgREST returns a scalar function's json as is; some setups wrap it in a one-row array.
    let value = match value {
        Value::Array(mut rows) if rows.len() <= 1 => rows.pop().unwrap_or(Value::Null),
        v => v,
    };
    if value.is_null() {
        return Ok(None);
    }
    let record: TenantRecord =
        serde_json::from_value(value).map_err(|e| DirectoryError::Malformed(e.to_string()))?;
    if !record_matches(key, &record) {
        return Err(DirectoryError::Malformed(
            "record does not match the requested host".into(),
        ));
    }
    Ok(Some(record))
}

impl TenantSource for SupabaseDirectory {
    fn lookup(&self, key: &HostKind) -> LocalBoxFuture<'static, LookupResult> {
        let Some(params) = Self::rpc_params(key) else {
            return Box::pin(async { Ok(None) });
        };
        let answer = self.rt.fetch(HttpRequest {
            method: "POST",
            url: self.rpc_url.clone(),
            headers: self.headers.clone(),
            body: Some(params.to_string()),
        });
        let key = key.clone();
        Box::pin(async move {
            let resp = answer.await.map_err(DirectoryError::Transport)?;
            if !(200..300).contains(&resp.status) {
                return Err(DirectoryError::Status(resp.status));
            }
            parse_answer(&key, &resp.body)
        })
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::runtime::testing::RealClock;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn directory(url: &str, anon_key: &str) -> SupabaseDirectory {
        SupabaseDirectory::new(url, anon_key, Rc::new(RealClock))
    }

    const ACME: &str = r#"{"id":"11111111-1111-4111-8111-111111111111","slug":"acme","name":"Acme","status":"active","custom_domain":"crm.acme.com","signup":"open","branding":{},"placement":null}"#;

    #[test]
    fn null_answer_is_not_found() {
        assert_eq!(
            parse_answer(&HostKind::Slug("x".into()), b"null").unwrap(),
            None
        );
        assert_eq!(
            parse_answer(&HostKind::Slug("x".into()), b"[]").unwrap(),
            None
        );
    }

    #[test]
    fn a_record_for_another_host_is_refused() {
        let r = parse_answer(&HostKind::Slug("globex".into()), ACME.as_bytes());
        assert!(matches!(r, Err(DirectoryError::Malformed(_))));
        let r = parse_answer(
            &HostKind::CustomDomain("crm.globex.com".into()),
            ACME.as_bytes(),
        );
        assert!(matches!(r, Err(DirectoryError::Malformed(_))));
    }

    /// Found by the static-directory property (src/properties/static_directory.rs): a tenant's
    /// second hostname (`domains`, migration 018) resolved to its record, which was then refused
    /// because only `custom_domain` was compared, a 503 for a host the tenant owns.
    #[test]
    fn a_record_is_accepted_for_any_of_its_domains() {
        let two = ACME.replace(
            r#""signup""#,
            r#""domains":["crm.acme.com","WWW.Acme.com."],"signup""#,
        );
        for host in ["crm.acme.com", "www.acme.com"] {
            let r = parse_answer(&HostKind::CustomDomain(host.into()), two.as_bytes());
            assert!(matches!(r, Ok(Some(_))), "{host}: {r:?}");
        }
        let r = parse_answer(&HostKind::CustomDomain("other.com".into()), two.as_bytes());
        assert!(matches!(r, Err(DirectoryError::Malformed(_))));
    }

    #[test]
    fn garbage_answers_are_malformed() {
        for body in [&b"<html>"[..], b"{\"id\":1}", b"[1,2]"] {
            assert!(parse_answer(&HostKind::Slug("acme".into()), body).is_err());
        }
    }

    /// One-shot HTTP server: answers one request and hands back what it received.
    async fn serve_once(
        status: &'static str,
        body: &'static str,
    ) -> (String, tokio::task::JoinHandle<String>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let handle = tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 8192];
            let mut got = Vec::new();
            loop {
                let n = sock.read(&mut buf).await.unwrap();
                got.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&got).to_string();
                if let Some(idx) = text.find("\r\n\r\n") {
                    let len = text
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap())
                        })
                        .unwrap_or(0);
                    if got.len() >= idx + 4 + len {
                        break;
                    }
                }
                if n == 0 {
                    break;
                }
            }
            let resp = format!("HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
            sock.write_all(resp.as_bytes()).await.unwrap();
            String::from_utf8_lossy(&got).to_string()
        });
        (url, handle)
    }

    #[tokio::test]
    async fn rpc_sends_the_slug_and_the_anon_key() {
        let (url, seen) = serve_once("200 OK", ACME).await;
        let d = directory(&url, "sb_publishable_abc");
        let r = d
            .lookup(&HostKind::Slug("acme".into()))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(r.slug, "acme");
        let req = seen.await.unwrap();
        assert!(
            req.starts_with("POST /rest/v1/rpc/resolve_tenant "),
            "{req}"
        );
        assert!(req
            .to_ascii_lowercase()
            .contains("apikey: sb_publishable_abc"));
        assert!(
            !req.to_ascii_lowercase().contains("authorization:"),
            "publishable key is not a bearer"
        );
        assert!(req.ends_with(r#"{"p_slug":"acme"}"#), "{req}");
    }

    #[tokio::test]
    async fn rpc_sends_the_domain_for_custom_domains() {
        let (url, seen) = serve_once("200 OK", ACME).await;
        let d = directory(&url, "eyJlegacy");
        d.lookup(&HostKind::CustomDomain("crm.acme.com".into()))
            .await
            .unwrap()
            .unwrap();
        let req = seen.await.unwrap();
        assert!(req.ends_with(r#"{"p_domain":"crm.acme.com"}"#), "{req}");
        assert!(req
            .to_ascii_lowercase()
            .contains("authorization: bearer eyjlegacy"));
    }

    #[tokio::test]
    async fn http_errors_are_directory_errors() {
        let (url, _seen) = serve_once("503 Service Unavailable", "{}").await;
        let d = directory(&url, "k");
        assert_eq!(
            d.lookup(&HostKind::Slug("acme".into())).await,
            Err(DirectoryError::Status(503))
        );
    }

    #[tokio::test]
    async fn unreachable_directory_is_a_transport_error() {
        let d = directory("http://127.0.0.1:9", "k");
        assert!(matches!(
            d.lookup(&HostKind::Slug("acme".into())).await,
            Err(DirectoryError::Transport(_))
        ));
    }
}
