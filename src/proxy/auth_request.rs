//! What an `/auth/v1` request becomes upstream: its endpoint decided on a canonical path, invite-only
//! refusals, sign-up stamping, and one redirect target however the client carried it.
//!
//! Every rule here reads the request the way GoTrue will ([`go_form`], [`go_json`]) and edits what
//! it reads, so what the router checked is what Auth acts on. The body is read only when a rule
//! needs it: a url-encoded body (GoTrue's `ParseForm` reads it on POST/PUT/PATCH), or the JSON body
//! of an endpoint whose fields the router edits. A JSON body served with a form content type is
//! both at once to GoTrue (its handlers decode JSON whatever the type): the router treats it as
//! JSON and escapes it so that its form view holds nothing.

use super::auth_paths::{self, AuthEndpoint};
use super::go_form;
use super::go_json::{self, JsonObject};
use super::redirect::{Carriers, RedirectPolicy};
use super::signup;
use crate::error::RouterError;
use crate::request::{BodyError, BodySource, Incoming};
use crate::tenant::TenantRecord;

/// Keys of JSON bodies the router reads or sets; a client key folding to one is renamed to it.
const EDITED_KEYS: [&str; 3] = ["data", "create_user", "redirect_to"];

/// Client headers never forwarded on `/auth/v1`: redirect carriers, whose one target goes in the
/// query (GoTrue reads the `redirect_to` header first and `Referer` last).
pub const DROPPED_HEADERS: [&str; 2] = ["redirect_to", "referer"];

const FORM: &str = "application/x-www-form-urlencoded";

/// GoTrue's own cap on request bodies (`limitRequestBody(1 << 20)` in `internal/api/api.go`). A
/// url-encoded body is read up to it, not just up to the sign-up cap: SAML assertions posted to
/// `/sso/saml/acs` are forms and can be large.
const GOTRUE_MAX_BODY_BYTES: usize = 1 << 20;

/// The request's replacements: `query` is the whole new query (or the client's, unchanged), `body`
/// is `Some` when the body changed.
#[derive(Debug, Default, PartialEq)]
pub struct AuthForward {
    pub query: Option<String>,
    pub body: Option<Vec<u8>>,
}

/// Whether GoTrue (`mime.ParseMediaType` in `parsePostForm`) may read the body as a form. A type
/// that is not plain ASCII or lists several values is refused: Go lower-cases with Unicode rules
/// and reads only the first of repeated headers, where the router would see them joined.
fn form_content_type(req: &Incoming) -> Result<bool, RouterError> {
    let mut form = false;
    for (_, v) in req.headers.iter().filter(|(k, _)| k == "content-type") {
        if !v.is_ascii() || v.contains(',') {
            return Err(RouterError::InvalidBody(
                "ambiguous Content-Type (non-ASCII or several values)".into(),
            ));
        }
        let media = v.split(';').next().unwrap_or("").trim();
        form |= media.eq_ignore_ascii_case(FORM);
    }
    Ok(form)
}

async fn read(body: &mut dyn BodySource, limit: usize) -> Result<Vec<u8>, RouterError> {
    body.read_limited(limit).await.map_err(|e| match e {
        BodyError::TooLarge => RouterError::BodyTooLarge { limit },
        BodyError::Read(why) => RouterError::InvalidBody(why),
    })
}

fn lossy(values: Vec<Vec<u8>>) -> Vec<String> {
    values
        .into_iter()
        .map(|v| String::from_utf8_lossy(&v).into_owned())
        .collect()
}

pub async fn prepare(
    req: &Incoming,
    body: &mut dyn BodySource,
    tenant: &TenantRecord,
    policy: &RedirectPolicy<'_>,
    body_limit: usize,
) -> Result<AuthForward, RouterError> {
    let ep = auth_paths::classify(&req.path)?;
    signup::precheck(ep, tenant)?;
    let query = req.query.as_deref().unwrap_or("");
    let has_body = matches!(req.method.as_str(), "POST" | "PUT" | "PATCH");
    let form_typed = has_body && form_content_type(req)?;
    let raw = if has_body && (form_typed || ep.json_body_edited()) {
        let limit = if form_typed && !ep.stamps_signup() {
            body_limit.max(GOTRUE_MAX_BODY_BYTES)
        } else {
            body_limit
        };
        Some(read(body, limit).await?)
    } else {
        None
    };

    // The body's two views: a JSON object the router edits, and a url-encoded form.
    let mut json: Option<JsonObject> = None;
    let mut form: Option<&str> = None;
    let mut new_body: Option<Vec<u8>> = None;
    if let Some(raw) = &raw {
        let object_like = go_json::looks_like_object(raw);
        if ep.stamps_signup() || (ep.json_body_edited() && object_like) {
            json = Some(JsonObject::parse(raw, &EDITED_KEYS)?);
        } else if form_typed && object_like {
            if !go_json::is_valid(raw) {
                return Err(RouterError::InvalidBody(
                    "a body starting with { must be valid JSON".into(),
                ));
            }
            new_body = Some(go_json::escape_form_bytes(raw));
        } else if form_typed {
            form = Some(std::str::from_utf8(raw).map_err(|_| {
                RouterError::InvalidBody("a url-encoded body must be UTF-8".into())
            })?);
        }
    }

    if ep == AuthEndpoint::Token {
        let from_body = form.map(|f| go_form::values(f, "grant_type"));
        let from_query = go_form::values(query, "grant_type");
        let grants = from_body.iter().flatten().chain(&from_query);
        signup::check_grants(tenant, grants.map(Vec::as_slice))?;
    }

    let carriers = Carriers {
        json_body: match (&json, ep) {
            (Some(obj), AuthEndpoint::Verify | AuthEndpoint::Sso) => {
                Some(obj.string("redirect_to")?)
            }
            _ => None,
        },
        header: req.header("redirect_to").map(str::to_string),
        form_body: form.map_or_else(Vec::new, |f| lossy(go_form::values(f, "redirect_to"))),
        query: lossy(go_form::values(query, "redirect_to")),
        referer: req.header("referer").map(str::to_string),
    };
    let plan = carriers.plan(policy);

    if let Some(obj) = json.as_mut() {
        if ep.stamps_signup() {
            signup::stamp(ep, tenant, obj)?;
        }
        if let Some(target) = &plan.json_body {
            obj.set("redirect_to", target.as_str().into());
        }
        new_body = Some(obj.to_bytes());
    }
    if let Some(without) = form.and_then(|f| go_form::without(f, "redirect_to")) {
        new_body = Some(without.into_bytes());
    }

    let mut new_query = match go_form::without(query, "redirect_to") {
        Some(q) => Some(q),
        None => req.query.clone(),
    };
    if let Some(target) = &plan.query {
        let pair = go_form::pair("redirect_to", target);
        new_query = Some(match new_query.filter(|q| !q.is_empty()) {
            Some(q) => format!("{q}&{pair}"),
            None => pair,
        });
    }
    Ok(AuthForward {
        query: new_query,
        body: new_body,
    })
}
