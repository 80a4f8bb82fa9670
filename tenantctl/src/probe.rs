//! `tenantctl probe`: the live isolation probe (issue 15; README, "The live isolation probe").
//!
//! Against a deployment, it makes two probe tenants through the admin API (journal `probe: true`, so
//! no invitation is mailed and only they take probe users), one user in each
//! (`POST /admin/v1/tenants/:id/probe-users`: no secret key on the operator's machine), signs each
//! in through the router on its own host, and plants a canary contact in each — a random mark no
//! other row can hold. Then, both ways round, the attacker's requests: its token on the victim's
//! host (read, insert, update, delete), its own host with forged tenant headers, rows naming the
//! victim's `tenant_id` or canary, foreign tokens (signed with keys the project does not have,
//! unsigned, tampered) and calls straight to the project, bypassing the router.
//!
//! An answer holding the victim's mark is a leak. An empty answer proves nothing by itself, so after
//! every attack the victim re-reads its contacts through the router: they must still be exactly its
//! canary, unchanged (a read that fails leaves the check unproven, never passed). Whatever happens,
//! what the probe made is deleted and purged (which deletes its users), and what could not be is
//! reported.

use std::io::Read;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use serde_json::{json, Value};

use crate::admin_cmds::{escape, follow, random_key, Outcome};
use crate::args::Args;
use crate::client::{Admin, Failure};

/// What one check found.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Held,
    /// The other tenant's canary came back, or changed, or went, or a row was planted beside it.
    Leak(String),
    /// Could not be proved either way (a request or the re-read failed).
    Unproven(String),
}

#[derive(Debug, Clone)]
pub struct Check {
    pub name: String,
    pub verdict: Verdict,
}

/// A tenant's canary: the row as planted, and its mark (in its name and notes).
#[derive(Debug, Clone)]
pub struct Canary {
    pub id: String,
    pub name: String,
    pub mark: String,
}

/// Whether an answer, in any shape, holds the canary's mark. Not its row id: the attacks name that
/// id in their filters, and an error may echo a filter without having read the row.
pub fn holds(body: &str, c: &Canary) -> bool {
    body.contains(&c.mark)
}

/// The owner's own read of its contacts: exactly its canary, unchanged.
pub fn intact(status: u16, body: &str, c: &Canary) -> Verdict {
    if status != 200 {
        return Verdict::Unproven(format!("the owner's re-read answered {status}"));
    }
    let Ok(Value::Array(rows)) = serde_json::from_str::<Value>(body) else {
        return Verdict::Unproven("the owner's re-read is not a JSON array".into());
    };
    let canary = rows
        .iter()
        .find(|r| r["id"].as_str() == Some(c.id.as_str()));
    match canary {
        None => Verdict::Leak("its canary is gone".into()),
        Some(r) if r["name"].as_str() != Some(&c.name) || r["notes"].as_str() != Some(&c.mark) => {
            Verdict::Leak(format!("its canary was changed: {r}"))
        }
        Some(_) if rows.len() > 1 => Verdict::Leak(format!(
            "{} row(s) planted beside its canary",
            rows.len() - 1
        )),
        Some(_) => Verdict::Held,
    }
}

/// The baseline: the owner's read holds its canary, unchanged (other rows are the attacks' to judge).
pub fn sees_own(status: u16, body: &str, c: &Canary) -> bool {
    let Ok(Value::Array(rows)) = serde_json::from_str::<Value>(body) else {
        return false;
    };
    status == 200
        && rows.iter().any(|r| {
            r["id"].as_str() == Some(c.id.as_str())
                && r["name"].as_str() == Some(&c.name)
                && r["notes"].as_str() == Some(&c.mark)
        })
}

/// The probe's outcome: every check, and what cleanup could not remove.
pub struct Report {
    pub checks: Vec<Check>,
    pub left_behind: Vec<String>,
}

impl Report {
    pub fn leaks(&self) -> usize {
        self.checks
            .iter()
            .filter(|c| matches!(c.verdict, Verdict::Leak(_)))
            .count()
    }

    pub fn unproven(&self) -> usize {
        self.checks
            .iter()
            .filter(|c| matches!(c.verdict, Verdict::Unproven(_)))
            .count()
    }

    pub fn to_json(&self) -> Value {
        let checks: Vec<Value> = self
            .checks
            .iter()
            .map(|c| match &c.verdict {
                Verdict::Held => json!({"check": c.name, "result": "held"}),
                Verdict::Leak(d) => json!({"check": c.name, "result": "leak", "detail": d}),
                Verdict::Unproven(d) => json!({"check": c.name, "result": "unproven", "detail": d}),
            })
            .collect();
        json!({"checks": checks, "leaks": self.leaks(), "unproven": self.unproven(),
               "left_behind": self.left_behind})
    }

    pub fn lines(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .checks
            .iter()
            .map(|c| match &c.verdict {
                Verdict::Held => format!("held      {}", c.name),
                Verdict::Leak(d) => format!("LEAK      {} — {d}", c.name),
                Verdict::Unproven(d) => format!("unproven  {} — {d}", c.name),
            })
            .collect();
        for l in &self.left_behind {
            out.push(format!("left behind: {l}"));
        }
        out.push(format!(
            "{} check(s): {} held, {} leak(s), {} unproven",
            self.checks.len(),
            self.checks.len() - self.leaks() - self.unproven(),
            self.leaks(),
            self.unproven()
        ));
        out
    }

    /// Leaks are findings (exit 1); otherwise an unproven check or a leftover is an incomplete run.
    pub fn outcome(&self) -> Outcome {
        if self.leaks() > 0 {
            Outcome::Findings
        } else if self.unproven() > 0 || !self.left_behind.is_empty() {
            Outcome::Incomplete
        } else {
            Outcome::Done
        }
    }
}

struct Reply {
    status: u16,
    body: String,
}

/// Where a request goes: the router on a tenant's host, or the project itself.
#[derive(Clone, Copy)]
enum To<'a> {
    Router(&'a str),
    Project,
}

struct Probe {
    id: String,
    slug: String,
    host: String,
    user_id: String,
    token: String,
    canary: Canary,
}

struct Net {
    agent: ureq::Agent,
    /// `--router-url`: where the router is reached (the tenant's host goes in `Host`); else
    /// `https://<host>`.
    router_url: Option<String>,
    supabase_url: String,
    anon_key: String,
}

impl Net {
    fn send(
        &self,
        to: To<'_>,
        method: &str,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<Reply, String> {
        let url = match (to, &self.router_url) {
            (To::Router(_), Some(base)) => format!("{base}{path}"),
            (To::Router(host), None) => format!("https://{host}{path}"),
            (To::Project, _) => format!("{}{path}", self.supabase_url),
        };
        let mut req = self
            .agent
            .request(method, &url)
            .set("apikey", &self.anon_key)
            .set("accept", "application/json");
        if let (To::Router(host), Some(_)) = (to, &self.router_url) {
            req = req.set("host", host);
        }
        if let Some(t) = token {
            req = req.set("authorization", &format!("Bearer {t}"));
        }
        for (k, v) in headers {
            req = req.set(k, v);
        }
        let res = match body {
            Some(b) => req
                .set("content-type", "application/json")
                .send_string(&b.to_string()),
            None => req.call(),
        };
        let r = match res {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => return Err(e.to_string()),
        };
        let status = r.status();
        let body = r.into_string().map_err(|e| e.to_string())?;
        Ok(Reply { status, body })
    }

    /// The owner's contacts through the router on its own host.
    fn owner_read(&self, p: &Probe) -> Result<Reply, String> {
        self.send(
            To::Router(&p.host),
            "GET",
            "/rest/v1/contacts?select=id,name,notes,tenant_id",
            Some(&p.token),
            &[],
            None,
        )
    }

    /// The owner's contacts, checked against its canary.
    fn owner_sees_only_canary(&self, p: &Probe) -> Verdict {
        match self.owner_read(p) {
            Ok(r) => intact(r.status, &r.body, &p.canary),
            Err(e) => Verdict::Unproven(format!("the owner's re-read failed: {e}")),
        }
    }
}

/// One attack request.
struct Req<'a> {
    to: To<'a>,
    method: &'static str,
    path: String,
    token: Option<String>,
    headers: Vec<(&'static str, String)>,
    body: Option<Value>,
}

pub fn run(a: &mut Args, admin: &Admin, as_json: bool) -> Result<Outcome, Failure> {
    let hosts = a.values("--host");
    let router_url = a
        .value("--router-url")
        .map(|u| u.trim_end_matches('/').to_string());
    let supabase_url = a
        .value("--supabase-url")
        .or_else(|| std::env::var("SUPABASE_URL").ok());
    let anon_key = a
        .value("--anon-key")
        .or_else(|| std::env::var("SUPABASE_ANON_KEY").ok());
    let plan = a.value("--plan").unwrap_or_else(|| "free".into());
    if let Some(f) = a.unknown_flag() {
        return Err(usage(&format!("unknown option {f}")));
    }
    if !hosts.is_empty() && hosts.len() != 2 {
        return Err(usage(
            "probe takes two --host (or none: probe-<random> slugs)",
        ));
    }
    let (Some(supabase_url), Some(anon_key)) = (
        supabase_url.filter(|u| !u.is_empty()),
        anon_key.filter(|k| !k.is_empty()),
    ) else {
        return Err(usage(
            "probe needs --supabase-url and --anon-key (or SUPABASE_URL and SUPABASE_ANON_KEY)",
        ));
    };
    let net = Net {
        agent: ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(30))
            .build(),
        router_url,
        supabase_url: supabase_url.trim_end_matches('/').to_string(),
        anon_key,
    };
    let say = |l: &str| {
        if !as_json {
            println!("{l}");
        }
    };
    let mut made: Vec<(String, String)> = Vec::new();
    let result = setup(admin, &net, &hosts, &plan, &mut made, &say)
        .map(|(x, y)| attacks(&net, &x, &y, &say));
    let left_behind = cleanup(admin, &made, &say);
    if result.is_err() {
        for l in &left_behind {
            eprintln!("tenantctl: probe left behind {l}");
        }
    }
    let checks = result?;
    let report = Report {
        checks,
        left_behind,
    };
    if as_json {
        println!("{}", report.to_json());
    } else {
        for l in report.lines() {
            println!("{l}");
        }
    }
    Ok(report.outcome())
}

fn usage(msg: &str) -> Failure {
    Failure::Refused {
        status: 0,
        body: json!({"code": "usage", "message": msg, "details": null, "hint": null}),
    }
}

/// A failure of the deployment while setting up, as the admin API's are: 4xx refused, else unreachable.
fn setup_failure(what: &str, r: Result<Reply, String>) -> Failure {
    match r {
        Ok(r) if (400..500).contains(&r.status) => Failure::Refused {
            status: r.status,
            body: serde_json::from_str(&r.body).unwrap_or_else(|_| {
                json!({"code": "probe_setup", "message": what, "details": r.body, "hint": null})
            }),
        },
        Ok(r) => Failure::Unreachable(format!("{what}: {} {}", r.status, r.body)),
        Err(e) => Failure::Unreachable(format!("{what}: {e}")),
    }
}

fn random_hex(n: usize) -> Result<String, Failure> {
    let mut b = vec![0u8; n];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .map_err(|e| Failure::Unreachable(format!("no randomness (/dev/urandom): {e}")))?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

fn setup(
    admin: &Admin,
    net: &Net,
    hosts: &[String],
    plan: &str,
    made: &mut Vec<(String, String)>,
    say: &dyn Fn(&str),
) -> Result<(Probe, Probe), Failure> {
    let mut probes = Vec::new();
    for i in 0..2 {
        let slug = match hosts.get(i) {
            Some(h) => h.split('.').next().unwrap_or_default().to_ascii_lowercase(),
            None => format!("probe-{}", random_hex(4)?),
        };
        let body = json!({"name": format!("Isolation probe {slug}"), "slug": slug, "plan": plan,
            "admin_email": format!("owner-{}@probe.invalid", random_hex(4)?), "probe": true});
        let v = admin.call(
            "POST",
            "/admin/v1/tenants",
            Some(&body),
            Some(&random_key()),
        )?;
        let id = v["tenant"]["id"].as_str().unwrap_or_default().to_string();
        let host = v["tenant"]["host"].as_str().unwrap_or_default().to_string();
        made.push((id.clone(), slug.clone()));
        let j = follow(
            admin,
            v["provisioning"]["id"].as_str().unwrap_or_default(),
            |_| {},
        )?;
        if j["status"] != "succeeded" {
            return Err(Failure::Unreachable(format!(
                "the probe tenant {slug} was not provisioned: {}",
                j["error"]
            )));
        }
        if let Some(want) = hosts.get(i) {
            if !want.eq_ignore_ascii_case(&host) {
                return Err(usage(&format!(
                    "--host {want}: the admin makes {slug} at {host} (its base domain)"
                )));
            }
        }
        say(&format!("made probe tenant {slug} ({id}) at {host}"));
        let u = admin.call(
            "POST",
            &format!("/admin/v1/tenants/{}/probe-users", escape(&id)),
            None,
            None,
        )?;
        let creds = json!({"email": u["email"], "password": u["password"]});
        let r = net.send(
            To::Router(&host),
            "POST",
            "/auth/v1/token?grant_type=password",
            None,
            &[],
            Some(&creds),
        );
        let token = match &r {
            Ok(x) if x.status == 200 => serde_json::from_str::<Value>(&x.body)
                .ok()
                .and_then(|v| v["access_token"].as_str().map(String::from)),
            _ => None,
        }
        .ok_or_else(|| setup_failure(&format!("signing in through the router at {host}"), r))?;
        let mark = format!("canary-{}", random_hex(16)?);
        let name = format!("Probe canary {mark}");
        let r = net.send(
            To::Router(&host),
            "POST",
            "/rest/v1/contacts",
            Some(&token),
            &[("prefer", "return=representation")],
            Some(&json!({"name": name, "notes": mark})),
        );
        let canary_id = match &r {
            Ok(x) if x.status == 201 || x.status == 200 => serde_json::from_str::<Value>(&x.body)
                .ok()
                .and_then(|v| v.pointer("/0/id").and_then(Value::as_str).map(String::from)),
            _ => None,
        }
        .ok_or_else(|| setup_failure(&format!("planting the canary at {host}"), r))?;
        probes.push(Probe {
            id,
            slug,
            host,
            user_id: u["user_id"].as_str().unwrap_or_default().to_string(),
            token,
            canary: Canary {
                id: canary_id,
                name,
                mark,
            },
        });
    }
    let b = probes.pop().ok_or_else(|| usage("no probe tenant"))?;
    let a = probes.pop().ok_or_else(|| usage("no probe tenant"))?;
    // The baseline: each owner sees its canary (else no later empty answer proves anything).
    for p in [&a, &b] {
        if !net
            .owner_read(p)
            .is_ok_and(|r| sees_own(r.status, &r.body, &p.canary))
        {
            return Err(Failure::Unreachable(format!(
                "{} cannot read its own canary through the router: the probe cannot prove anything",
                p.slug
            )));
        }
    }
    Ok((a, b))
}

fn attacks(net: &Net, a: &Probe, b: &Probe, say: &dyn Fn(&str)) -> Vec<Check> {
    let mut checks = Vec::new();
    for (x, y) in [(a, b), (b, a)] {
        for (name, reqs) in plan_attacks(x, y) {
            let name = format!("{} -> {}: {name}", x.slug, y.slug);
            let verdict = attack(net, y, &reqs);
            if let Verdict::Leak(d) = &verdict {
                say(&format!("LEAK {name}: {d}"));
            }
            checks.push(Check { name, verdict });
        }
    }
    checks
}

/// Sends each request, then has the victim re-read its contacts.
fn attack(net: &Net, victim: &Probe, reqs: &[Req<'_>]) -> Verdict {
    let mut unproven = None;
    for q in reqs {
        let hdrs: Vec<(&str, &str)> = q.headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        match net.send(
            q.to,
            q.method,
            &q.path,
            q.token.as_deref(),
            &hdrs,
            q.body.as_ref(),
        ) {
            Ok(r) if holds(&r.body, &victim.canary) => {
                return Verdict::Leak(format!(
                    "{} {} answered {} with {}'s canary",
                    q.method, q.path, r.status, victim.slug
                ))
            }
            Ok(_) => {}
            Err(e) => unproven = Some(format!("{} {} could not be sent: {e}", q.method, q.path)),
        }
    }
    match net.owner_sees_only_canary(victim) {
        Verdict::Leak(d) => Verdict::Leak(format!("{}: {d}", victim.slug)),
        Verdict::Held => unproven.map_or(Verdict::Held, Verdict::Unproven),
        other => other,
    }
}

fn plan_attacks<'a>(x: &'a Probe, y: &'a Probe) -> Vec<(&'static str, Vec<Req<'a>>)> {
    let by_id = format!("/rest/v1/contacts?id=eq.{}", escape(&y.canary.id));
    let of_y = format!("/rest/v1/contacts?tenant_id=eq.{}", escape(&y.id));
    let intruder = format!("Probe intruder {}", x.canary.mark);
    let mine = Some(x.token.clone());
    let (on_y, on_x) = (To::Router(&y.host), To::Router(&x.host));
    // Reads and writes naming the victim; `plain` adds an insert naming no tenant, which on the
    // victim's host must not land there (on the attacker's own host it lands, rightly, in the
    // attacker's tenant: not sent). Each write goes twice: with `return=representation` (its answer
    // could hold the victim's row) and without (as supabase-js writes: a policy that only the
    // RETURNING's select check stops would let it through).
    let rw =
        |to: To<'a>, token: Option<String>, extra: Vec<(&'static str, String)>, plain: bool| {
            let reads = [
                format!("{by_id}&select=*"),
                format!("{of_y}&select=*"),
                "/rest/v1/contacts?select=*".to_string(),
            ];
            let mut writes = vec![
                (
                    "POST",
                    "/rest/v1/contacts".to_string(),
                    Some(json!({"tenant_id": y.id, "name": intruder})),
                ),
                (
                    "PATCH",
                    by_id.clone(),
                    Some(json!({"name": "Probe overwritten"})),
                ),
                ("PATCH", of_y.clone(), Some(json!({"notes": "overwritten"}))),
                ("DELETE", by_id.clone(), None),
                ("DELETE", of_y.clone(), None),
            ];
            if plain {
                writes.push((
                    "POST",
                    "/rest/v1/contacts".to_string(),
                    Some(json!({"name": intruder, "notes": "intruder"})),
                ));
            }
            let req = |method, path: String, prefer: Option<&str>, body: Option<Value>| {
                let mut headers = extra.clone();
                if let Some(p) = prefer {
                    headers.push(("prefer", p.to_string()));
                }
                Req {
                    to,
                    method,
                    path,
                    token: token.clone(),
                    headers,
                    body,
                }
            };
            let mut v: Vec<Req<'a>> = reads
                .into_iter()
                .map(|p| req("GET", p, None, None))
                .collect();
            for (method, path, body) in writes {
                v.push(req(
                    method,
                    path.clone(),
                    Some("return=representation"),
                    body.clone(),
                ));
                v.push(req(method, path, None, body));
            }
            v
        };
    let mut out = vec![
        (
            "its token on the other's host (read, insert, update, delete)",
            rw(on_y, mine.clone(), vec![], true),
        ),
        (
            "its own host, rows and filters naming the other tenant",
            rw(on_x, mine.clone(), vec![], false),
        ),
    ];
    // The router's own header under two spellings, and headers other proxies route by.
    for (name, header, value) in [
        (
            "its own host with a forged x-tenant-id",
            "x-tenant-id",
            y.id.clone(),
        ),
        (
            "its own host with a forged X-Tenant-Id",
            "X-Tenant-Id",
            y.id.clone(),
        ),
        (
            "its own host with a forged x-tenant-slug",
            "x-tenant-slug",
            y.slug.clone(),
        ),
        (
            "its own host with a forged x-forwarded-host",
            "x-forwarded-host",
            y.host.clone(),
        ),
        (
            "its own host with a forged x-original-host",
            "x-original-host",
            y.host.clone(),
        ),
        (
            "its own host with a forged Forwarded host",
            "forwarded",
            format!("host={}", y.host),
        ),
    ] {
        out.push((name, rw(on_x, mine.clone(), vec![(header, value)], false)));
    }
    for (name, token) in foreign_tokens(x, y) {
        out.push((name, rw(on_y, Some(token), vec![], true)));
    }
    // No token at all: the anon key alone.
    out.push((
        "anonymous (the anon key alone) on the other's host",
        rw(on_y, None, vec![], true),
    ));
    out.push((
        "anonymous, straight to the project",
        rw(To::Project, None, vec![], false),
    ));
    out.push((
        "straight to the project, bypassing the router",
        rw(To::Project, mine.clone(), vec![], false),
    ));
    out.push((
        "straight to the project with a forged x-tenant-id",
        rw(
            To::Project,
            mine,
            vec![("x-tenant-id", y.id.clone())],
            false,
        ),
    ));
    out
}

/// Tokens claiming to be the victim's user in the victim's tenant that the project never issued:
/// the attacker's own claims rewritten, then signed with keys of our own (HS256, and ES256 under the
/// project's `kid`), unsigned and expired, or kept with the real signature (tampered).
fn foreign_tokens(x: &Probe, y: &Probe) -> Vec<(&'static str, String)> {
    let mut parts = x.token.split('.');
    let (Some(h), Some(p), Some(sig)) = (parts.next(), parts.next(), parts.next()) else {
        return Vec::new();
    };
    let header: Value = decode_part(h).unwrap_or_else(|| json!({}));
    let mut claims: Value = decode_part(p).unwrap_or_else(|| json!({}));
    claims["sub"] = json!(y.user_id);
    claims["tenant_ids"] = json!([y.id]);
    claims["tenant_id"] = json!(y.id);
    claims["role"] = json!("authenticated");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut expired = claims.clone();
    expired["exp"] = json!(now.saturating_sub(3600));
    let mut key = [0u8; 32];
    let _ = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut key));
    let kid = header.get("kid").cloned();
    vec![
        (
            "a token signed with a foreign HS256 key",
            sign_hs256(&claims, &key),
        ),
        (
            "a token signed with a foreign ES256 key under the project's kid",
            sign_es256(&claims, kid, &key),
        ),
        ("an unsigned (alg none) expired token", unsigned(&expired)),
        (
            "its own token with rewritten claims (tampered)",
            format!("{h}.{}.{sig}", encode_part(&claims)),
        ),
    ]
}

fn decode_part(s: &str) -> Option<Value> {
    serde_json::from_slice(&B64.decode(s).ok()?).ok()
}

fn encode_part(v: &Value) -> String {
    B64.encode(v.to_string())
}

pub fn sign_hs256(claims: &Value, key: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let input = format!(
        "{}.{}",
        encode_part(&json!({"alg": "HS256", "typ": "JWT"})),
        encode_part(claims)
    );
    let mut mac = match Hmac::<sha2::Sha256>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return input,
    };
    mac.update(input.as_bytes());
    format!("{input}.{}", B64.encode(mac.finalize().into_bytes()))
}

fn sign_es256(claims: &Value, kid: Option<Value>, seed: &[u8; 32]) -> String {
    use p256::ecdsa::{signature::Signer, Signature, SigningKey};
    let mut header = json!({"alg": "ES256", "typ": "JWT"});
    if let Some(k) = kid {
        header["kid"] = k;
    }
    let input = format!("{}.{}", encode_part(&header), encode_part(claims));
    let Ok(key) = SigningKey::from_slice(seed) else {
        return format!("{input}.");
    };
    let sig: Signature = key.sign(input.as_bytes());
    format!("{input}.{}", B64.encode(sig.to_bytes()))
}

fn unsigned(claims: &Value) -> String {
    format!(
        "{}.{}.",
        encode_part(&json!({"alg": "none", "typ": "JWT"})),
        encode_part(claims)
    )
}

/// Deletes and purges (with the override) every tenant the probe made; answers what stayed.
fn cleanup(admin: &Admin, made: &[(String, String)], say: &dyn Fn(&str)) -> Vec<String> {
    let mut left = Vec::new();
    for (id, slug) in made {
        if id.is_empty() {
            continue;
        }
        let path = format!("/admin/v1/tenants/{}", escape(id));
        let gone =
            |r: &Result<Value, Failure>| matches!(r, Err(Failure::Refused { status: 404, .. }));
        let del = admin.call("DELETE", &path, None, None);
        // A tenant already deleted answers 409 to a second delete; the purge decides.
        if let Err(Failure::Unreachable(e)) = &del {
            left.push(format!("{slug} ({id}): delete failed: {e}"));
            continue;
        }
        let purge = admin.call(
            "POST",
            &format!("{path}/purge"),
            Some(&json!({"override": true})),
            None,
        );
        match purge {
            Ok(v) => say(&format!(
                "removed probe tenant {slug} and its user(s) {}",
                v["users"]
            )),
            Err(_) if gone(&del) => say(&format!("probe tenant {slug} was never made")),
            Err(Failure::Refused { status, body }) => left.push(format!(
                "{slug} ({id}): purge refused ({status}): {}",
                body["message"].as_str().unwrap_or_default()
            )),
            Err(Failure::Unreachable(e)) => left.push(format!("{slug} ({id}): purge failed: {e}")),
        }
    }
    left
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canary() -> Canary {
        Canary {
            id: "0b6c9f2e-1111-4111-8111-111111111111".into(),
            name: "Probe canary canary-abc".into(),
            mark: "canary-abc".into(),
        }
    }

    fn row(id: &str, name: &str, notes: &str) -> Value {
        json!({"id": id, "name": name, "notes": notes, "tenant_id": "t"})
    }

    #[test]
    fn a_canary_is_found_in_any_shape_of_answer() {
        let c = canary();
        assert!(holds(r#"[{"notes":"canary-abc"}]"#, &c));
        assert!(holds(r#"{"hint":"Probe canary canary-abc"}"#, &c));
        // Its row id alone is no leak: the attacks' filters name it, and errors may echo them.
        assert!(!holds(
            r#"{"message":"no row 0b6c9f2e-1111-4111-8111-111111111111"}"#,
            &c
        ));
        assert!(!holds("[]", &c));
        assert!(!holds(
            r#"{"code":"42501","message":"permission denied"}"#,
            &c
        ));
    }

    #[test]
    fn the_owner_must_see_exactly_its_canary_unchanged() {
        let c = canary();
        let ok = json!([row(&c.id, &c.name, &c.mark)]).to_string();
        assert_eq!(intact(200, &ok, &c), Verdict::Held);
        assert!(matches!(intact(200, "[]", &c), Verdict::Leak(d) if d.contains("gone")));
        let changed = json!([row(&c.id, "Probe overwritten", &c.mark)]).to_string();
        assert!(matches!(intact(200, &changed, &c), Verdict::Leak(d) if d.contains("changed")));
        let planted = json!([
            row(&c.id, &c.name, &c.mark),
            row("x", "Probe intruder", "intruder")
        ])
        .to_string();
        assert!(matches!(intact(200, &planted, &c), Verdict::Leak(d) if d.contains("planted")));
        // An owner who cannot read proves nothing: never a pass.
        assert!(matches!(intact(401, &ok, &c), Verdict::Unproven(_)));
        assert!(matches!(intact(200, "{}", &c), Verdict::Unproven(_)));
        // The baseline only asks for the canary: more rows are for the attacks to judge.
        assert!(sees_own(200, &planted, &c) && sees_own(200, &ok, &c));
        assert!(
            !sees_own(200, &changed, &c) && !sees_own(403, &ok, &c) && !sees_own(200, "[]", &c)
        );
    }

    #[test]
    fn leaks_are_findings_and_unproven_checks_an_incomplete_run() {
        let r = |v: Vec<Verdict>, left: Vec<String>| Report {
            checks: v
                .into_iter()
                .map(|verdict| Check {
                    name: "c".into(),
                    verdict,
                })
                .collect(),
            left_behind: left,
        };
        assert!(matches!(
            r(vec![Verdict::Held], vec![]).outcome(),
            Outcome::Done
        ));
        let leak = r(
            vec![
                Verdict::Held,
                Verdict::Leak("x".into()),
                Verdict::Unproven("y".into()),
            ],
            vec![],
        );
        assert!(matches!(leak.outcome(), Outcome::Findings));
        assert_eq!((leak.leaks(), leak.unproven()), (1, 1));
        assert_eq!(leak.to_json()["checks"][1]["result"], "leak");
        assert!(leak
            .lines()
            .last()
            .unwrap()
            .contains("1 held, 1 leak(s), 1 unproven"));
        assert!(matches!(
            r(vec![Verdict::Unproven("y".into())], vec![]).outcome(),
            Outcome::Incomplete
        ));
        assert!(matches!(
            r(vec![Verdict::Held], vec!["t".into()]).outcome(),
            Outcome::Incomplete
        ));
    }

    #[test]
    fn foreign_tokens_are_well_formed_and_claim_the_victim() {
        let claims = json!({"sub": "victim", "tenant_ids": ["b"]});
        let t = sign_hs256(&claims, b"not the project's key");
        let parts: Vec<&str> = t.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(decode_part(parts[0]).unwrap()["alg"], "HS256");
        assert_eq!(decode_part(parts[1]).unwrap(), claims);
        assert!(!parts[2].is_empty());
        let e = sign_es256(&claims, Some(json!("kid-1")), &[7u8; 32]);
        let parts: Vec<&str> = e.split('.').collect();
        assert_eq!(decode_part(parts[0]).unwrap()["kid"], "kid-1");
        assert_eq!(B64.decode(parts[2]).unwrap().len(), 64);
        assert!(unsigned(&claims).ends_with('.'));
    }
}
