//! The admin API as tenantctl speaks it: JSON over HTTP(S) with the operator's bearer token
//! (an aal2 access token of a platform admin, README "The admin service"). Every failure is one
//! [`Failure`], which decides the exit code (main.rs documents them).

use serde_json::Value;

pub struct Admin {
    base: String,
    token: String,
    agent: ureq::Agent,
}

#[derive(Debug)]
pub enum Failure {
    /// The API answered 4xx: its PostgREST-shaped body.
    Refused { status: u16, body: Value },
    /// Nothing usable came back (network, 5xx, unreadable body).
    Unreachable(String),
}

impl Admin {
    pub fn new(base: &str, token: &str) -> Admin {
        Admin {
            base: base.trim_end_matches('/').to_string(),
            token: token.to_string(),
            agent: ureq::AgentBuilder::new()
                .timeout(std::time::Duration::from_secs(30))
                .build(),
        }
    }

    pub fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        idempotency_key: Option<&str>,
    ) -> Result<Value, Failure> {
        let mut req = self
            .agent
            .request(method, &format!("{}{path}", self.base))
            .set("authorization", &format!("Bearer {}", self.token))
            .set("accept", "application/json");
        if let Some(k) = idempotency_key {
            req = req.set("idempotency-key", k);
        }
        let res = match body {
            Some(b) => req
                .set("content-type", "application/json")
                .send_string(&b.to_string()),
            None => req.call(),
        };
        let (status, text) = match res {
            Ok(r) => (r.status(), r.into_string()),
            Err(ureq::Error::Status(s, r)) => (s, r.into_string()),
            Err(e) => return Err(Failure::Unreachable(e.to_string())),
        };
        let text = text.map_err(|e| Failure::Unreachable(e.to_string()))?;
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        match status {
            200..=299 => Ok(value),
            400..=499 => Err(Failure::Refused {
                status,
                body: value,
            }),
            _ => Err(Failure::Unreachable(format!("{status}: {value}"))),
        }
    }
}
