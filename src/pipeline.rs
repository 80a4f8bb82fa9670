//! The request pipeline (SPEC §1) as named phases over one per-request context ([`RequestCtx`]),
//! after Pingora's `ProxyHttp`: `route_phase` → `tenant_phase` (host → tenant) → `edge_phase`
//! (what the router answers itself) → `auth_phase` (authenticate, authorise) →
//! `upstream_request` ([`Router::handle`] runs them); the edge performs the fetch, then
//! the response half runs here too (`response`: [`Router::relay`], then [`Router::outcome`], what
//! the request came to, from which its log line is made; the edge asks for it once, when the
//! response is built).

use std::cell::OnceCell;
use std::rc::Rc;

use futures::future::LocalBoxFuture;
use serde_json::json;

use crate::auth::{
    authorise, bearer, credentials, joins_tenant, Authenticator, Principal, TokenKind,
};
use crate::config::{Config, DirectorySource, Project};
use crate::cors;
use crate::directory::cache::{CachePolicy, CacheStatus, DirectoryCache};
use crate::directory::static_map::StaticDirectory;
use crate::directory::supabase::SupabaseDirectory;
use crate::error::RouterError;
use crate::host::{self, HostKind};
use crate::proxy::auth_paths;
use crate::proxy::auth_paths::AUTH_PREFIX;
use crate::proxy::auth_request;
use crate::proxy::confirm::ConfirmRequest;
use crate::proxy::headers::{header_edits, upstream_headers, HeaderEdit, TenantHeaders};
use crate::proxy::redirect::{self, RedirectPolicy, Signer};
use crate::reply::{json_reply, Reply};
use crate::request::{BodySource, Incoming};
use crate::route::{Route, METHODS};
use crate::runtime::Runtime;
use crate::runtime::{self, HttpRequest};
use crate::signed_return;
use crate::tenant::{TenantRecord, TenantStatus};

const DIRECTORY_MAX_ENTRIES: usize = 10_000;
const DIRECTORY_LOOKUP_TIMEOUT_MS: u64 = 5_000;
const BENCH_MAX_N: u64 = 100_000;

#[derive(Debug, Clone, PartialEq)]
pub enum UpstreamBody {
    /// Stream the client's body through unchanged.
    Passthrough,
    Replaced(Vec<u8>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Forward {
    pub url: String,
    pub method: String,
    pub headers: Vec<(String, String)>,
    pub body: UpstreamBody,
    pub upgrade: bool,
    pub timeout_ms: u64,
}

impl Forward {
    /// The edits that turn the client's headers (`client`, as the request came) into
    /// [`Forward::headers`]: the edge applies them to the runtime's own copy of the client's
    /// headers, where handing a whole list across cost ~60 µs a request in workerd.
    pub fn header_edits<'a>(&'a self, client: &'a [(String, String)]) -> Vec<HeaderEdit<'a>> {
        header_edits(client, &self.headers)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Reply(Reply),
    Forward(Forward),
    /// The client's request as it came, to `fetch` (the zone's origin): certificate validation.
    PassThrough,
}

/// Everything the phases learn about one request.
#[derive(Debug, Clone)]
pub struct RequestCtx {
    pub started_ms: u64,
    pub host: String,
    pub method: String,
    pub path: String,
    pub route: Route,
    pub tenant: Option<Rc<TenantRecord>>,
    pub cache: Option<CacheStatus>,
    pub token: &'static str,
    /// Where the accepted JWT's verification came from: `cached`, `verified` (this request), or
    /// `none` (no JWT, or refused). A metrics blob.
    pub token_source: &'static str,
    /// The caller's Origin header, and whether it may read our answers.
    pub origin: Option<String>,
    pub origin_allowed: bool,
    /// `scheme://host[:port]` the user is on: where auth redirects must land.
    pub user_origin: String,
    /// Every host the tenant is served on, made on first use ([`Router::hosts`]): most requests
    /// carry no Origin to judge and no redirect to keep on them.
    pub tenant_hosts: OnceCell<Vec<String>>,
    pub project_url: Option<String>,
    pub error: Option<&'static str>,
    /// A person's browser following a link (`Accept: text/html` on a page the router answers):
    /// errors are shown as a page.
    pub wants_html: bool,
}

/// What the tenant phase came to: the tenant, or an answer already (the signed return).
enum Resolved {
    Tenant(Rc<TenantRecord>),
    Answered(Action),
}

pub struct Handled {
    pub action: Action,
    pub ctx: RequestCtx,
    /// Work for `ctx.wait_until`: directory refreshes.
    pub background: Option<LocalBoxFuture<'static, ()>>,
}

enum Directory {
    Static(StaticDirectory),
    Supabase(Rc<DirectoryCache<SupabaseDirectory>>),
}

pub struct Router {
    pub config: Config,
    rt: Rc<dyn Runtime>,
    directory: Directory,
    auth: Authenticator,
}

impl Router {
    pub fn new(
        config: Config,
        rt: Rc<dyn Runtime>,
        verifier: Rc<dyn crate::auth::crypto::SignatureVerifier>,
    ) -> Self {
        let directory = match &config.directory {
            DirectorySource::Static(records) => Directory::Static(StaticDirectory::new(records)),
            DirectorySource::Supabase => Directory::Supabase(DirectoryCache::new(
                SupabaseDirectory::new(&config.shared.url, &config.shared.anon_key, rt.clone()),
                rt.clone(),
                CachePolicy {
                    ttl_ms: config.directory_ttl_s * 1000,
                    negative_ttl_ms: config.directory_negative_ttl_s * 1000,
                    stale_ms: config.directory_stale_s * 1000,
                    max_entries: DIRECTORY_MAX_ENTRIES,
                    lookup_timeout_ms: DIRECTORY_LOOKUP_TIMEOUT_MS.min(config.upstream_timeout_ms),
                },
            )),
        };
        let auth = Authenticator::new(&config, rt.clone(), verifier);
        Self {
            config,
            rt,
            directory,
            auth,
        }
    }

    pub fn now_ms(&self) -> u64 {
        self.rt.now_ms()
    }

    /// Run the request phases. Never fails: every error becomes a reply here.
    pub async fn handle(&self, req: &Incoming, body: &mut dyn BodySource) -> Handled {
        let mut ctx = RequestCtx {
            started_ms: self.rt.now_ms(),
            host: req.host.to_ascii_lowercase(),
            method: req.method.clone(),
            path: req.path.clone(),
            route: Route::of(&req.path),
            tenant: None,
            cache: None,
            token: TokenKind::None.as_str(),
            token_source: "none",
            origin: req.header("origin").map(str::to_string),
            origin_allowed: false,
            user_origin: String::new(),
            tenant_hosts: OnceCell::new(),
            project_url: None,
            error: None,
            wants_html: false,
        };
        ctx.wants_html = matches!(ctx.route, Route::AuthReturn | Route::AuthConfirm)
            && req
                .header("accept")
                .is_some_and(|a| a.contains("text/html"));
        let mut background = None;
        let action = match self.phases(req, body, &mut ctx, &mut background).await {
            Ok(action) => action,
            Err(e) => Action::Reply(self.error_reply(&mut ctx, &e)),
        };
        Handled {
            action,
            ctx,
            background,
        }
    }

    /// The phases in order, each a method over the request's context: a phase either lets the
    /// request go on or settles it (an [`Action`], or an error that becomes its reply).
    async fn phases(
        &self,
        req: &Incoming,
        body: &mut dyn BodySource,
        ctx: &mut RequestCtx,
        background: &mut Option<LocalBoxFuture<'static, ()>>,
    ) -> Result<Action, RouterError> {
        if let Some(action) = self.route_phase(req, ctx)? {
            return Ok(action);
        }
        let tenant = match self.tenant_phase(req, ctx, background).await? {
            Resolved::Tenant(t) => t,
            Resolved::Answered(action) => return Ok(action),
        };
        if let Some(action) = self.edge_phase(req, ctx, &tenant).await? {
            return Ok(action);
        }
        let project = self.config.project_for(&tenant)?;
        ctx.project_url = Some(project.url.clone());
        self.auth_phase(req, ctx, &tenant, project).await?;
        if ctx.route == Route::BenchVerify {
            return self.bench_verify(req, project).await;
        }
        self.upstream_request(req, body, ctx, &tenant, project)
            .await
    }

    /// Route phase: what the path alone decides, before any host is looked at.
    fn route_phase(&self, req: &Incoming, ctx: &RequestCtx) -> Result<Option<Action>, RouterError> {
        // Liveness answers on any host, even one we would refuse, so probes need no tenant.
        if ctx.route == Route::Health {
            return Ok(Some(Action::Reply(json_reply(
                200,
                json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")}),
            ))));
        }
        // A certificate authority validating a custom hostname must reach the origin, whatever
        // the host or the directory says: before any lookup, nothing changed.
        if ctx.route == Route::CertValidation {
            return Ok(Some(Action::PassThrough));
        }
        // A WebSocket handshake is a GET without a body (RFC 6455 §4.1); anything else carrying
        // one is malformed, and the runtime would fail it (a 5xx or its own plain-text 400) once
        // forwarded. workerd hands the Worker such a request as a GET, bodiless, but keeps its
        // framing headers: those are the trace left of a POST/PUT/… it rewrote.
        if req.names_websocket_upgrade() && (req.method != "GET" || req.declares_body()) {
            return Err(RouterError::UpgradeNotGet);
        }
        Ok(None)
    }

    /// Tenant phase: the host, normalised and classified, resolved through the directory. The
    /// platform's return host answers its signed return here and nothing else.
    async fn tenant_phase(
        &self,
        req: &Incoming,
        ctx: &mut RequestCtx,
        background: &mut Option<LocalBoxFuture<'static, ()>>,
    ) -> Result<Resolved, RouterError> {
        let host = host::normalise(&req.host)?;
        ctx.host = host.clone();
        ctx.user_origin = user_origin(&req.scheme, &req.host, &host);
        if let Some(ret) = self
            .config
            .auth_return
            .as_ref()
            .filter(|r| r.host_name == host)
        {
            if ctx.route == Route::AuthReturn {
                return Ok(Resolved::Answered(
                    self.auth_return(req, ctx, background, ret).await?,
                ));
            }
            return Err(RouterError::NoTenantForHost);
        }
        let kind = host::classify(
            &host,
            &self.config.base_domains,
            &self.config.reserved_labels,
        )?;
        if kind == HostKind::Platform {
            return Err(RouterError::NoTenantForHost);
        }
        let tenant = self.resolve(&kind, ctx, background).await?;
        ctx.tenant = Some(Rc::clone(&tenant));
        ctx.origin_allowed = ctx.origin.as_deref().is_some_and(|o| {
            cors::origin_allowed(o, self.hosts(ctx), &self.config.allowed_origins)
        });
        if tenant.status == TenantStatus::Suspended {
            return Err(RouterError::TenantSuspended);
        }
        Ok(Resolved::Tenant(tenant))
    }

    /// Edge phase: what the router answers itself on a tenant's host (preflight, the tenant
    /// profile, confirm links, its own namespace) or sends to the front end.
    async fn edge_phase(
        &self,
        req: &Incoming,
        ctx: &RequestCtx,
        tenant: &TenantRecord,
    ) -> Result<Option<Action>, RouterError> {
        if req.method == "OPTIONS" && req.header("access-control-request-method").is_some() {
            return Ok(Some(Action::Reply(self.preflight(ctx))));
        }
        match ctx.route {
            Route::TenantProfile => {
                if !matches!(req.method.as_str(), "GET" | "HEAD") {
                    return Err(RouterError::MethodNotAllowed);
                }
                return Ok(Some(Action::Reply(json_reply(
                    200,
                    tenant.public_profile(),
                ))));
            }
            Route::RouterOther | Route::AuthReturn => return Err(RouterError::NotFound),
            Route::AuthConfirm => return self.auth_confirm(req, ctx, tenant).await.map(Some),
            Route::BenchVerify | Route::BenchTrap if !self.config.bench_endpoints => {
                return Err(RouterError::NotFound)
            }
            // The one deliberate panic: tests check that the Worker answers the next request.
            Route::BenchTrap => {
                panic!("deliberate trap (POST /__router/bench/trap, BENCH_ENDPOINTS)")
            }
            Route::Frontend => return self.frontend(req, ctx, tenant).map(Some),
            _ => {}
        }
        // Refused here: the runtime cannot send unknown methods upstream.
        if !METHODS.contains(&req.method.as_str()) {
            return Err(RouterError::MethodNotAllowed);
        }
        Ok(None)
    }

    /// Authenticate and authorise phase, against the tenant's project: who the caller is, and
    /// whether they may act on this tenant. The log line's token kind is set here.
    async fn auth_phase(
        &self,
        req: &Incoming,
        ctx: &mut RequestCtx,
        tenant: &TenantRecord,
        project: &Project,
    ) -> Result<(), RouterError> {
        let principal = match self.authenticate(req, project).await {
            Ok(p) => p,
            Err(e) => {
                ctx.token = "refused";
                return Err(e);
            }
        };
        ctx.token = principal.kind.as_str();
        match authorise(&principal, tenant, self.config.allow_service_role) {
            Err(RouterError::TenantMismatch) if joins_tenant(&req.method, &req.path) => {}
            Err(e) => {
                ctx.token = "refused";
                return Err(e);
            }
            Ok(()) => {}
        }
        // Set only for an accepted caller: a refused one stays `none` (a metrics blob).
        ctx.token_source = match (&principal.claims, principal.verified_now) {
            (None, _) => "none",
            (Some(_), false) => "cached",
            (Some(_), true) => "verified",
        };
        Ok(())
    }

    /// The bearer token decides who the caller is, except that a secret key or service_role JWT
    /// in `apikey` (header or query) is service_role at Supabase's gateway whatever the bearer
    /// says. Every credential the request carries is looked at, so a harmless first value cannot
    /// hide a service credential behind it; two different ones are ambiguous and refused.
    async fn authenticate(
        &self,
        req: &Incoming,
        project: &Project,
    ) -> Result<Principal, RouterError> {
        let creds = credentials::collect(&req.headers, req.query.as_deref());
        let mut principals = Vec::with_capacity(creds.authorization.len());
        for value in &creds.authorization {
            principals.push(self.auth.authenticate(Some(value), project).await?);
        }
        let mut keys: Vec<&str> = Vec::with_capacity(creds.apikeys.len());
        for key in &creds.apikeys {
            if keys.contains(&key.as_str()) {
                continue;
            }
            keys.push(key);
            let by_key = self
                .auth
                .authenticate(Some(&format!("Bearer {key}")), project)
                .await?;
            if by_key.kind == TokenKind::ServiceRole {
                principals.insert(0, by_key);
            }
        }
        let service = principals
            .iter()
            .position(|p| p.kind == TokenKind::ServiceRole);
        if service.is_some() && !self.config.allow_service_role {
            return Err(RouterError::ServiceRoleForbidden);
        }
        if creds.authorization.len() > 1 {
            return Err(RouterError::InvalidToken(
                "more than one Authorization credential".into(),
            ));
        }
        if keys.len() > 1 {
            return Err(RouterError::AmbiguousCredentials(
                "more than one apikey (headers and query parameters)".into(),
            ));
        }
        let chosen = service.unwrap_or(0);
        Ok(if principals.is_empty() {
            Principal {
                kind: TokenKind::None,
                claims: None,
                verified_now: false,
            }
        } else {
            principals.swap_remove(chosen)
        })
    }

    async fn resolve(
        &self,
        kind: &HostKind,
        ctx: &mut RequestCtx,
        background: &mut Option<LocalBoxFuture<'static, ()>>,
    ) -> Result<Rc<TenantRecord>, RouterError> {
        let record = match &self.directory {
            Directory::Static(d) => {
                ctx.cache = Some(CacheStatus::Static);
                d.get(kind).cloned()
            }
            Directory::Supabase(cache) => {
                let lookup = cache
                    .lookup(kind)
                    .await
                    .map_err(|e| RouterError::DirectoryUnavailable(e.to_string()))?;
                ctx.cache = Some(lookup.status);
                *background = lookup.refresh;
                lookup.record.map(Rc::new)
            }
        };
        record.ok_or(RouterError::TenantNotFound)
    }

    /// The hosts of the request's tenant, made once per request; none before it is known (and
    /// nothing is kept then, so an early call cannot leave the list empty for later ones).
    fn hosts<'c>(&self, ctx: &'c RequestCtx) -> &'c [String] {
        match &ctx.tenant {
            None => &[],
            Some(t) => ctx.tenant_hosts.get_or_init(|| self.tenant_hosts(t)),
        }
    }

    /// Every host the tenant is served on: its slug under each base domain and its custom domain.
    fn tenant_hosts(&self, t: &TenantRecord) -> Vec<String> {
        let mut hosts: Vec<String> = self
            .config
            .base_domains
            .iter()
            .map(|b| format!("{}.{b}", t.slug))
            .collect();
        hosts.extend(t.custom_hosts());
        hosts
    }

    fn preflight(&self, ctx: &RequestCtx) -> Reply {
        let headers = match (&ctx.origin, ctx.origin_allowed) {
            (Some(o), true) => cors::preflight_headers(o),
            _ => Vec::new(),
        };
        Reply {
            status: 204,
            headers,
            body: Vec::new(),
        }
    }

    fn frontend(
        &self,
        req: &Incoming,
        ctx: &RequestCtx,
        tenant: &TenantRecord,
    ) -> Result<Action, RouterError> {
        let Some(origin) = &self.config.frontend_origin else {
            return Err(RouterError::NotFound);
        };
        if !METHODS.contains(&req.method.as_str()) {
            return Err(RouterError::MethodNotAllowed);
        }
        let tenant_id = tenant.id.to_string();
        let headers = upstream_headers(
            &req.headers,
            &TenantHeaders {
                tenant_id: &tenant_id,
                tenant_slug: &tenant.slug,
                apikey: None,
                forwarded_host: &ctx.host,
                forwarded_proto: &req.scheme,
                client_ip: req.client_ip.as_deref(),
                upgrade: req.is_websocket_upgrade(),
                body_replaced: false,
                drop: &[],
            },
        );
        Ok(Action::Forward(Forward {
            url: join_url(origin, &req.path, req.query.as_deref()),
            method: req.method.clone(),
            headers,
            body: UpstreamBody::Passthrough,
            upgrade: req.is_websocket_upgrade(),
            timeout_ms: self.config.upstream_timeout_ms,
        }))
    }

    async fn upstream_request(
        &self,
        req: &Incoming,
        body: &mut dyn BodySource,
        ctx: &RequestCtx,
        tenant: &TenantRecord,
        project: &Project,
    ) -> Result<Action, RouterError> {
        let mut upstream_body = UpstreamBody::Passthrough;
        let mut query = req.query.clone();
        let mut drop: &[&str] = &[];
        if ctx.route == Route::Api(AUTH_PREFIX) {
            let policy = RedirectPolicy {
                tenant_hosts: self.hosts(ctx),
                user_origin: &ctx.user_origin,
                signer: self.config.auth_return.as_ref().map(|config| Signer {
                    config,
                    tenant: tenant.id,
                    now_s: self.rt.now_ms() / 1000,
                    scheme: &req.scheme,
                    by_default: auth_paths::names_a_redirect(&req.path),
                }),
            };
            let limit = self.config.signup_max_bytes;
            let auth = auth_request::prepare(req, body, tenant, &policy, limit).await?;
            query = auth.query;
            if let Some(b) = auth.body {
                upstream_body = UpstreamBody::Replaced(b);
            }
            drop = &auth_request::DROPPED_HEADERS;
        }
        let tenant_id = tenant.id.to_string();
        let upgrade = req.is_websocket_upgrade();
        let headers = upstream_headers(
            &req.headers,
            &TenantHeaders {
                tenant_id: &tenant_id,
                tenant_slug: &tenant.slug,
                apikey: Some(&project.anon_key),
                forwarded_host: &ctx.host,
                forwarded_proto: &req.scheme,
                client_ip: req.client_ip.as_deref(),
                upgrade,
                body_replaced: matches!(upstream_body, UpstreamBody::Replaced(_)),
                drop,
            },
        );
        Ok(Action::Forward(Forward {
            url: join_url(&project.url, &req.path, query.as_deref()),
            method: req.method.clone(),
            headers,
            body: upstream_body,
            upgrade,
            timeout_ms: self.config.upstream_timeout_ms,
        }))
    }

    /// `GET /__router/auth/return` on the return host: the signed target, checked against the
    /// directory, with the query Auth added (`code`, `error…`, or an email's `token_hash`/`type`).
    async fn auth_return(
        &self,
        req: &Incoming,
        ctx: &mut RequestCtx,
        background: &mut Option<LocalBoxFuture<'static, ()>>,
        ret: &crate::config::AuthReturn,
    ) -> Result<Action, RouterError> {
        if !matches!(req.method.as_str(), "GET" | "HEAD") {
            return Err(RouterError::MethodNotAllowed);
        }
        let refused = |why: &str| RouterError::InvalidReturn(why.into());
        let mut token = None;
        let mut extra: Vec<&str> = Vec::new();
        let mut email_link = false;
        for pair in req.query.as_deref().unwrap_or("").split('&') {
            let key = url::form_urlencoded::parse(pair.as_bytes())
                .next()
                .map(|(k, _)| k.into_owned());
            match key.as_deref() {
                None => {}
                Some(signed_return::TOKEN_PARAM) if token.is_some() => {
                    return Err(refused("more than one rt"));
                }
                Some(signed_return::TOKEN_PARAM) => token = Some(pair),
                Some(k) => {
                    email_link |= k == "token_hash";
                    extra.push(pair);
                }
            }
        }
        let token = token
            .and_then(|p| p.strip_prefix("rt="))
            .ok_or_else(|| refused("no rt"))?;
        let signed = signed_return::verify(token, &ret.keys, self.rt.now_ms() / 1000)
            .map_err(|e| refused(e.as_str()))?;
        // The signed target is believed only once the directory says its host is the signed
        // tenant's: a key holder's mistake or an old record cannot send anyone elsewhere.
        let off = || refused("the target is not on the signed tenant's hosts");
        let target = &signed.target;
        let rest = target
            .strip_prefix("https://")
            .or_else(|| target.strip_prefix("http://"))
            .ok_or_else(off)?;
        let authority = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
        let path_query = &rest[authority.len()..];
        let target_host = host::normalise(authority).map_err(|_| off())?;
        let kind = host::classify(
            &target_host,
            &self.config.base_domains,
            &self.config.reserved_labels,
        )
        .map_err(|_| off())?;
        if kind == HostKind::Platform {
            return Err(off());
        }
        let tenant = match self.resolve(&kind, ctx, background).await {
            Err(RouterError::TenantNotFound) => return Err(off()),
            other => other?,
        };
        if tenant.id != signed.tenant
            || !redirect::on_tenant_host(target, &self.tenant_hosts(&tenant))
        {
            return Err(off());
        }
        ctx.tenant = Some(Rc::clone(&tenant));
        if tenant.status == TenantStatus::Suspended {
            return Err(RouterError::TenantSuspended);
        }
        let origin = &target[..target.len() - path_query.len()];
        let location = if email_link {
            // An email link: the token hash goes to the confirm route on the tenant's host.
            // `next` is a path even for a target without one (`https://host?x=1`).
            let next = format!("/{}", path_query.strip_prefix('/').unwrap_or(path_query));
            let mut q = extra.join("&");
            q.push_str("&next=");
            q.push_str(&url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>());
            format!("{origin}{}?{q}", crate::proxy::confirm::CONFIRM_PATH)
        } else if extra.is_empty() {
            target.clone()
        } else {
            let sep = if target.contains('?') { '&' } else { '?' };
            format!("{target}{sep}{}", extra.join("&"))
        };
        Ok(Action::Reply(see_other(location)))
    }

    /// `GET /__router/auth/confirm` on a tenant's host: see [`crate::proxy::confirm`].
    async fn auth_confirm(
        &self,
        req: &Incoming,
        ctx: &RequestCtx,
        tenant: &TenantRecord,
    ) -> Result<Action, RouterError> {
        // GET only: a HEAD (link scanners send them) must not spend the one-time token.
        if req.method != "GET" {
            return Err(RouterError::MethodNotAllowed);
        }
        let link = ConfirmRequest::parse(req.query.as_deref())?;
        let project = self.config.project_for(tenant)?;
        let call = self.rt.fetch(HttpRequest {
            method: "POST",
            url: format!("{}{AUTH_PREFIX}/verify", project.url),
            headers: vec![
                ("apikey".into(), project.anon_key.clone()),
                ("content-type".into(), "application/json".into()),
                ("x-tenant-id".into(), tenant.id.to_string()),
            ],
            body: Some(link.verify_body()),
        });
        let timeout_ms = self.config.upstream_timeout_ms;
        let answer = runtime::timeout(self.rt.as_ref(), timeout_ms, call)
            .await
            .ok_or(RouterError::UpstreamTimeout(timeout_ms))?
            .map_err(RouterError::UpstreamUnreachable)?;
        let location = link.location(&ctx.user_origin, answer.status, &answer.body)?;
        Ok(Action::Reply(see_other(location)))
    }

    /// Verify the caller's token `n` times, uncached: the benchmark's CPU probe.
    async fn bench_verify(&self, req: &Incoming, project: &Project) -> Result<Action, RouterError> {
        let n: u64 = req
            .query
            .as_deref()
            .and_then(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .find(|(k, _)| k == "n")
                    .and_then(|(_, v)| v.parse().ok())
            })
            .unwrap_or(1)
            .min(BENCH_MAX_N);
        let token = bearer(req.header("authorization"))?
            .ok_or_else(|| RouterError::InvalidToken("no token".into()))?;
        let alg = jsonwebtoken::decode_header(token)
            .map(|h| format!("{:?}", h.alg))
            .unwrap_or_default();
        for _ in 0..n {
            self.auth.verify(token, project).await?;
        }
        Ok(Action::Reply(json_reply(200, json!({"n": n, "alg": alg}))))
    }

    /// The request's error, as its reply (see [`RouterError::reply`]); the log line names it.
    pub fn error_reply(&self, ctx: &mut RequestCtx, err: &RouterError) -> Reply {
        ctx.error = Some(err.code());
        let cors_origin = ctx.origin.as_deref().filter(|_| ctx.origin_allowed);
        err.reply(&ctx.path, ctx.wants_html, cors_origin)
    }
}

/// A redirect the router answers itself; its target (which may carry a session in the fragment)
/// is neither cached nor leaked to the next page as a `Referer`.
fn see_other(location: String) -> Reply {
    Reply {
        status: 303,
        headers: vec![
            ("location".into(), location),
            ("cache-control".into(), "no-store".into()),
            ("referrer-policy".into(), "no-referrer".into()),
        ],
        body: Vec::new(),
    }
}

/// `scheme://host[:port]` as the user typed it, with the host normalised.
fn user_origin(scheme: &str, raw_host: &str, host: &str) -> String {
    let port = raw_host
        .trim()
        .rsplit_once(':')
        .map(|(_, p)| p)
        .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    match port {
        Some(p) if !((scheme == "https" && p == "443") || (scheme == "http" && p == "80")) => {
            format!("{scheme}://{host}:{p}")
        }
        _ => format!("{scheme}://{host}"),
    }
}

fn join_url(base: &str, path: &str, query: Option<&str>) -> String {
    match query {
        Some(q) => format!("{base}{path}?{q}"),
        None => format!("{base}{path}"),
    }
}

mod response;
pub use response::{Outcome, Relay, UpstreamHead};

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
