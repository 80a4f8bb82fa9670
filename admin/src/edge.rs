//! The thin workers-rs edge: workerd's request in, [`crate::api::handle`] over a fetch-backed
//! [`Backend`], the answer out; the provisioning runs in `ctx.waitUntil`. The scheduled handler is
//! the reconciler.

use futures::future::LocalBoxFuture;
use serde_json::Value;
use worker::{
    event, Context, Env, Fetch, Headers, Method, Request, RequestInit, Response, ScheduleContext,
    ScheduledEvent,
};

use crate::api::{self, ApiRequest};
use crate::backend::{Backend, Reply, Service};
use crate::config::{AdminConfig, VarSource};
use crate::runner;

struct EnvVars<'a>(&'a Env);

impl VarSource for EnvVars<'_> {
    fn var(&self, name: &str) -> Option<String> {
        self.0
            .secret(name)
            .ok()
            .map(|s| s.to_string())
            .or_else(|| self.0.var(name).ok().map(|v| v.to_string()))
    }
}

struct FetchBackend {
    cfg: AdminConfig,
}

impl FetchBackend {
    async fn exchange(
        &self,
        service: Service,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<Reply, String> {
        let headers = Headers::new();
        let set = |k: &str, v: &str| headers.set(k, v).map_err(|e| e.to_string());
        let url = match service {
            Service::Rest | Service::Auth | Service::Storage => {
                set("apikey", &self.cfg.secret_key)?;
                set("authorization", &format!("Bearer {}", self.cfg.secret_key))?;
                if service == Service::Rest {
                    // Single JSON answers from rpc and PATCH, as supabase-js asks.
                    set("prefer", "return=minimal")?;
                }
                let base = match service {
                    Service::Rest => "rest",
                    Service::Storage => "storage",
                    _ => "auth",
                };
                format!("{}/{base}/v1{path}", self.cfg.supabase_url)
            }
            Service::Cloudflare => {
                set(
                    "authorization",
                    &format!("Bearer {}", self.cfg.cloudflare_token),
                )?;
                format!("{}{path}", self.cfg.cloudflare_api_url)
            }
            Service::Analytics => {
                let a = self
                    .cfg
                    .analytics
                    .as_ref()
                    .ok_or("analytics not configured")?;
                set("authorization", &format!("Bearer {}", a.token))?;
                format!("{}{path}", self.cfg.cloudflare_api_url)
            }
        };
        let method = match method {
            "GET" => Method::Get,
            "POST" => Method::Post,
            "PATCH" => Method::Patch,
            "DELETE" => Method::Delete,
            other => return Err(format!("method {other} not used")),
        };
        let mut init = RequestInit::new();
        init.with_method(method);
        match (service, body) {
            // The SQL API takes the query as the body's text.
            (Service::Analytics, Some(Value::String(sql))) => {
                set("content-type", "text/plain")?;
                init.with_body(Some(sql.into()));
            }
            (_, Some(b)) => {
                set("content-type", "application/json")?;
                init.with_body(Some(b.to_string().into()));
            }
            (_, None) => {}
        }
        init.with_headers(headers);
        let req = Request::new_with_init(&url, &init).map_err(|e| e.to_string())?;
        let mut res = Fetch::Request(req)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = res.status_code();
        let text = res.text().await.map_err(|e| e.to_string())?;
        let body = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).map_err(|_| format!("{status}: unreadable answer"))?
        };
        Ok(Reply { status, body })
    }
}

impl Backend for FetchBackend {
    fn send<'a>(
        &'a self,
        service: Service,
        method: &'a str,
        path: &'a str,
        body: Option<Value>,
    ) -> LocalBoxFuture<'a, Result<Reply, String>> {
        Box::pin(self.exchange(service, method, path, body))
    }

    fn now_s(&self) -> f64 {
        js_sys::Date::now() / 1000.0
    }
}

fn json_response(status: u16, body: &Value) -> worker::Result<Response> {
    Ok(Response::from_json(body)?.with_status(status))
}

#[event(fetch)]
pub async fn fetch(mut req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    let cfg = match AdminConfig::load(&EnvVars(&env)) {
        Ok(c) => c,
        Err(e) => return json_response(e.status(), &e.body()),
    };
    let url = req.url()?;
    let method = req.method().to_string();
    let authorization = req.headers().get("authorization").ok().flatten();
    let key = req.headers().get("idempotency-key").ok().flatten();
    let body = if method == "GET" {
        Vec::new()
    } else {
        req.bytes().await.unwrap_or_default()
    };
    let backend = FetchBackend { cfg: cfg.clone() };
    // Supabase Auth's Send Email hook: signed by standard webhooks, not an operator's token.
    if method == "POST" && url.path() == crate::email_hook::PATH {
        let h = |n: &str| req.headers().get(n).ok().flatten();
        let hook = crate::hook_config::HookConfig::load(&EnvVars(&env), &cfg);
        let mailer = hook.as_ref().ok().map(|c| crate::edge_mailer::FetchMailer {
            url: c.email_api_url.clone(),
            key: c.email_api_key.clone(),
        });
        let (id, ts, sig) = (
            h("webhook-id"),
            h("webhook-timestamp"),
            h("webhook-signature"),
        );
        let r = crate::email_hook::HookRequest {
            webhook_id: id.as_deref(),
            webhook_timestamp: ts.as_deref(),
            webhook_signature: sig.as_deref(),
            body: &body,
        };
        let none = crate::edge_mailer::FetchMailer {
            url: String::new(),
            key: String::new(),
        };
        let (status, out) =
            crate::email_hook::handle(&backend, mailer.as_ref().unwrap_or(&none), &cfg, hook, &r)
                .await;
        return json_response(status, &out);
    }
    let answer = api::handle(
        &backend,
        &cfg,
        &ApiRequest {
            method: &method,
            path: url.path(),
            query: url.query(),
            authorization: authorization.as_deref(),
            idempotency_key: key.as_deref(),
            body: &body,
        },
    )
    .await;
    if let Some(id) = answer.then_run {
        ctx.wait_until(async move {
            let b = FetchBackend { cfg };
            if let Err(e) = runner::run(&b, &b.cfg, id).await {
                worker::console_error!(
                    "{}",
                    serde_json::json!({"provisioning": id, "error": crate::backend::cause(&e)})
                );
            }
        });
    }
    json_response(answer.status, &answer.body)
}

#[event(scheduled)]
pub async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    let cfg = match AdminConfig::load(&EnvVars(&env)) {
        Ok(c) => c,
        Err(e) => {
            worker::console_error!("{}", e.body());
            return;
        }
    };
    let b = FetchBackend { cfg };
    match runner::reconcile(&b, &b.cfg).await {
        Ok(done) => {
            for (id, r) in &done {
                if let Err(e) = r {
                    worker::console_error!(
                        "{}",
                        serde_json::json!({"provisioning": id, "error": crate::backend::cause(e)})
                    );
                }
            }
            worker::console_log!("{}", serde_json::json!({"reconciled": done.len()}));
        }
        Err(e) => worker::console_error!(
            "{}",
            serde_json::json!({"reconcile_error": crate::backend::cause(&e)})
        ),
    }
    // Certificates waiting for customers' DNS, and domain changes waiting for the new one.
    match crate::domain_change::refresh_pending(&b, &b.cfg).await {
        Ok(n) => worker::console_log!("{}", serde_json::json!({"hostnames_refreshed_for": n})),
        Err(e) => worker::console_error!(
            "{}",
            serde_json::json!({"refresh_error": crate::backend::cause(&e)})
        ),
    }
}
