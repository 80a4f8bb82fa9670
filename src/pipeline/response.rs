//! The response half of the pipeline: relay (what the client sees of the upstream's answer), then
//! the request's outcome (what it came to, once: the log line, and whatever else reports on it).
//! The edge calls [`Router::relay`] when the upstream's head is in, and [`Router::outcome`] once
//! the response it hands back is built.

use uuid::Uuid;

use super::{RequestCtx, Router};
use crate::cors;
use crate::directory::cache::CacheStatus;
use crate::log::{rfc3339, RequestLog};
use crate::proxy::{cookies, redirect};
use crate::route::Route;

/// What the core reads of the upstream's response head, through the runtime's own object.
pub trait UpstreamHead {
    fn status(&self) -> u16;
    fn header(&self, name: &str) -> Option<String>;
    fn has(&self, name: &str) -> bool;
    /// Every header, in order.
    fn headers(&self) -> Vec<(String, String)>;
}

/// What the client gets of the upstream's response.
#[derive(Debug, PartialEq, Eq)]
pub enum Relay {
    /// The response object itself, headers unread where possible.
    AsIs,
    /// The same status and body with these headers.
    Rewritten(Vec<(String, String)>),
}

/// How a request ended, once it has: the one value a report on it (the log line, a metrics data
/// point) is made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome<'a> {
    pub now_ms: u64,
    pub tenant_id: Option<Uuid>,
    pub tenant_slug: Option<&'a str>,
    pub host: &'a str,
    pub method: &'a str,
    pub route: Route,
    pub status: u16,
    /// How the directory answered (`None`: not looked up).
    pub cache: Option<CacheStatus>,
    /// The kind of the caller's token (`refused` when refused).
    pub token: &'static str,
    /// Where an accepted JWT's check came from: `cached`, `verified` or `none`.
    pub token_source: &'static str,
    pub elapsed_ms: u64,
    pub error: Option<&'static str>,
}

impl Outcome<'_> {
    /// The request's log line (SPEC §1.5).
    pub fn log_line(&self) -> String {
        RequestLog {
            ts: rfc3339(self.now_ms),
            tenant: self.tenant_slug,
            host: self.host,
            method: self.method,
            route: self.route.label(),
            status: self.status,
            latency_ms: self.elapsed_ms,
            cache: self.cache.map(CacheStatus::as_str),
            token: self.token,
            error: self.error,
        }
        .to_line()
    }
}

impl Router {
    /// Relay phase: a `Location` into the project moved onto the user's host, `Set-Cookie` made
    /// host-only, CORS for the caller's origin. Most responses change in nothing, and are known
    /// not to from two headers, so the rest are read only when something may change.
    pub fn relay(&self, ctx: &RequestCtx, head: &dyn UpstreamHead) -> Relay {
        // A 101 carries the WebSocket in the response object itself: handed back untouched.
        if head.status() == 101 {
            return Relay::AsIs;
        }
        let location = head.header("location");
        if !self.relay_may_change(ctx, location.as_deref(), head.has("set-cookie")) {
            return Relay::AsIs;
        }
        let original = head.headers();
        let headers = self.relay_headers(ctx, original.clone());
        if headers == original {
            Relay::AsIs
        } else {
            Relay::Rewritten(headers)
        }
    }

    /// Whether [`Router::relay_headers`] could change anything, knowing only the upstream's
    /// `Location`: without a caller `Origin` only a `Location` into the project is rewritten.
    fn relay_may_change(
        &self,
        ctx: &RequestCtx,
        location: Option<&str>,
        sets_cookie: bool,
    ) -> bool {
        if ctx.origin.is_some() || sets_cookie {
            return true;
        }
        match (&ctx.project_url, location) {
            (Some(project_url), Some(loc)) => {
                redirect::rewrite_location(loc, project_url, &ctx.user_origin).is_some()
            }
            _ => false,
        }
    }

    /// The upstream's response headers as the client should see them.
    pub fn relay_headers(
        &self,
        ctx: &RequestCtx,
        mut headers: Vec<(String, String)>,
    ) -> Vec<(String, String)> {
        if let Some(project_url) = &ctx.project_url {
            for (k, v) in headers.iter_mut() {
                if k.eq_ignore_ascii_case("location") {
                    if let Some(moved) =
                        redirect::rewrite_location(v, project_url, &ctx.user_origin)
                    {
                        *v = moved;
                    }
                }
            }
        }
        for (k, v) in headers.iter_mut() {
            if k.eq_ignore_ascii_case("set-cookie") {
                if let Some(host_only) = cookies::host_only(v) {
                    *v = host_only;
                }
            }
        }
        cors::rewrite_response_headers(&mut headers, ctx.origin.as_deref(), ctx.origin_allowed);
        headers
    }

    /// The request ended with `status`: its outcome, now.
    pub fn outcome<'a>(&self, ctx: &'a RequestCtx, status: u16) -> Outcome<'a> {
        let now_ms = self.rt.now_ms();
        Outcome {
            now_ms,
            tenant_id: ctx.tenant.as_ref().map(|t| t.id),
            tenant_slug: ctx.tenant.as_ref().map(|t| t.slug.as_str()),
            host: &ctx.host,
            method: &ctx.method,
            route: ctx.route,
            status,
            cache: ctx.cache,
            token: ctx.token,
            token_source: ctx.token_source,
            elapsed_ms: now_ms.saturating_sub(ctx.started_ms),
            error: ctx.error,
        }
    }

    /// The request's log line: [`Router::outcome`]'s.
    pub fn log_line(&self, ctx: &RequestCtx, status: u16) -> String {
        self.outcome(ctx, status).log_line()
    }
}
