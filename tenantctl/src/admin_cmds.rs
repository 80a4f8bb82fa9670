//! The commands over the admin API: create (following the provisioning journal step by step),
//! list, show, suspend, resume, delete, purge and domain. Human output by default, the API's JSON
//! with `--json`.

use std::collections::HashMap;
use std::io::Read;

use serde_json::{json, Value};

use crate::args::Args;
use crate::client::{Admin, Failure};

/// What a command ended with; main.rs turns it into an exit code.
pub enum Outcome {
    Done,
    /// A provisioning ran and failed (compensated): exit code 5.
    ProvisioningFailed,
    /// probe: a leak (exit code 1).
    Findings,
    /// probe: no leak, but a check could not be proved or something it made was left (exit code 3).
    Incomplete,
}

pub fn run(cmd: &str, a: &mut Args, admin: &Admin, as_json: bool) -> Result<Outcome, Failure> {
    let out = match cmd {
        "create" => return create(a, admin, as_json),
        "list" => {
            let mut q = Vec::new();
            for k in ["status", "q", "limit", "cursor"] {
                if let Some(v) = a.value(&format!("--{k}")) {
                    q.push(format!("{k}={}", escape(&v)));
                }
            }
            let path = format!("/admin/v1/tenants?{}", q.join("&"));
            let v = admin.call("GET", &path, None, None)?;
            if !as_json {
                for t in v["tenants"].as_array().into_iter().flatten() {
                    println!(
                        "{:<36}  {:<24} {:<10} {}",
                        s(&t["id"]),
                        s(&t["slug"]),
                        s(&t["status"]),
                        s(&t["name"])
                    );
                }
                if let Some(c) = v["next_cursor"].as_str() {
                    println!("more: --cursor {c}");
                }
            }
            v
        }
        "show" => {
            let v = admin.call("GET", &tenant_path(a, "")?, None, None)?;
            if !as_json {
                println!("{} ({}) {}", s(&v["name"]), s(&v["slug"]), s(&v["status"]));
                println!(
                    "plan {}  members {}",
                    s(&v["plan"]["id"]),
                    v["member_count"]
                );
                for h in v["hostnames"].as_array().into_iter().flatten() {
                    println!(
                        "  {} status {} certificate {}",
                        s(&h["hostname"]),
                        s(&h["status"]),
                        s(&h["ssl_status"])
                    );
                }
            }
            v
        }
        "suspend" | "resume" => {
            let v = admin.call("POST", &tenant_path(a, &format!("/{cmd}"))?, None, None)?;
            human(
                as_json,
                &format!("{} is {}", s(&v["slug"]), s(&v["status"])),
            );
            v
        }
        "delete" => {
            let v = admin.call("DELETE", &tenant_path(a, "")?, None, None)?;
            human(
                as_json,
                &format!(
                    "{} is deleted; its purge is due after {}",
                    s(&v["slug"]),
                    s(&v["purge_after"])
                ),
            );
            v
        }
        "purge" => {
            let over = a.flag("--override");
            let path = tenant_path(a, "/purge")?;
            let v = admin.call("POST", &path, Some(&json!({ "override": over })), None)?;
            if !as_json {
                println!(
                    "purged {}{}",
                    s(&v["tenant_id"]),
                    if v["resumed"] == true {
                        " (finishing an earlier purge)"
                    } else {
                        ""
                    }
                );
                for (t, n) in v["tables"].as_object().into_iter().flatten() {
                    println!("  {t:<32} {n} row(s)");
                }
                println!("  storage objects {}", v["objects"]);
                println!("  hostnames {}", v["hostnames"]);
                println!("  auth users {}", v["users"]);
            }
            v
        }
        "domain" => {
            let host = a
                .positional(1)
                .ok_or_else(|| usage("domain TENANT_ID HOSTNAME"))?;
            let path = tenant_path(a, "")?;
            let v = admin.call(
                "PATCH",
                &path,
                Some(&json!({ "custom_domain": host })),
                None,
            )?;
            if !as_json {
                for h in v["hostnames"].as_array().into_iter().flatten() {
                    println!(
                        "{} status {} certificate {}",
                        s(&h["hostname"]),
                        s(&h["status"]),
                        s(&h["ssl_status"])
                    );
                    for r in h["verification"].as_array().into_iter().flatten() {
                        println!("  set {}", r);
                    }
                }
            }
            v
        }
        other => return Err(usage(&format!("unknown command {other}"))),
    };
    if as_json {
        println!("{out}");
    }
    Ok(Outcome::Done)
}

fn create(a: &mut Args, admin: &Admin, as_json: bool) -> Result<Outcome, Failure> {
    let mut body = json!({});
    for (flag, field) in [
        ("--name", "name"),
        ("--plan", "plan"),
        ("--admin-email", "admin_email"),
        ("--slug", "slug"),
        ("--domain", "custom_domain"),
        ("--signup", "signup"),
    ] {
        if let Some(v) = a.value(flag) {
            body[field] = Value::String(v);
        }
    }
    // A retry with the same key answers the first provisioning (never a second company).
    let key = a.value("--idempotency-key").unwrap_or_else(random_key);
    let v = admin.call("POST", "/admin/v1/tenants", Some(&body), Some(&key))?;
    let id = v["provisioning"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if !as_json {
        println!(
            "provisioning {id} for {} (Idempotency-Key {key})",
            s(&v["tenant"]["slug"])
        );
    }
    // Follow the journal: one line per step as its status changes.
    let journal = follow(admin, &id, |st| {
        if !as_json {
            let err = st["error"]
                .as_str()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default();
            println!("  {:<16} {}{err}", s(&st["name"]), s(&st["status"]));
        }
    })?;
    if as_json {
        println!(
            "{}",
            json!({"provisioning": journal, "tenant": v["tenant"]})
        );
    } else {
        println!(
            "{}: {} at {}",
            s(&journal["status"]),
            s(&v["tenant"]["id"]),
            s(&v["tenant"]["host"])
        );
    }
    Ok(if journal["status"] == "succeeded" {
        Outcome::Done
    } else {
        Outcome::ProvisioningFailed
    })
}

/// Polls provisioning `id` until it succeeded or failed, calling `on_step` with each step whose
/// status changed; answers the finished journal.
pub fn follow(admin: &Admin, id: &str, mut on_step: impl FnMut(&Value)) -> Result<Value, Failure> {
    let mut seen: HashMap<String, String> = HashMap::new();
    loop {
        let j = admin.call(
            "GET",
            &format!("/admin/v1/provisionings/{}", escape(id)),
            None,
            None,
        )?;
        for st in j["steps"].as_array().into_iter().flatten() {
            let (name, status) = (s(&st["name"]), s(&st["status"]));
            if seen.get(&name) != Some(&status) {
                on_step(st);
                seen.insert(name, status);
            }
        }
        if matches!(j["status"].as_str(), Some("succeeded" | "failed")) {
            return Ok(j);
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
}

fn tenant_path(a: &Args, tail: &str) -> Result<String, Failure> {
    let id = a
        .positional(0)
        .ok_or_else(|| usage("a TENANT_ID is required"))?;
    Ok(format!("/admin/v1/tenants/{}{tail}", escape(&id)))
}

pub(crate) fn usage(msg: &str) -> Failure {
    Failure::Refused {
        status: 0,
        body: json!({"code": "usage", "message": msg, "details": null, "hint": null}),
    }
}

fn human(as_json: bool, line: &str) {
    if !as_json {
        println!("{line}");
    }
}

fn s(v: &Value) -> String {
    v.as_str()
        .map(String::from)
        .unwrap_or_else(|| v.to_string())
}

pub fn escape(v: &str) -> String {
    v.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

pub fn random_key() -> String {
    let mut b = [0u8; 16];
    let ok = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut b));
    if ok.is_err() {
        // No /dev/urandom: the clock, which is unique enough for one operator's retries.
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        b = t.to_le_bytes();
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}
