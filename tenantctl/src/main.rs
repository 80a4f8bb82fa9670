//! tenantctl, the operators' CLI (issue 15; README, "The operator's day with tenantctl").
//!
//! Over the admin API (`--url`/`TENANTCTL_URL`, `--token`/`TENANTCTL_TOKEN`): create, list, show,
//! suspend, resume, delete, purge, domain, top (the busiest tenants), and probe (the live isolation
//! probe, also through the router and the project). Needing no admin service: lint (a database's catalog).
//!
//! Exit codes scripts can rely on:
//!   0 done (lint: no finding; probe: every check held)   1 lint findings, probe leaks   2 usage
//!   3 unreachable (the database, the admin API, or its 5xx; probe: a check left unproven, or
//!     something it made could not be removed)
//!   4 refused by the admin API (4xx: unauthorised, not found, conflict, invalid)
//!   5 a provisioning ran and failed (its steps were compensated)

mod admin_cmds;
mod args;
mod client;
mod lint;
mod probe;
mod top;

use std::process::ExitCode;

use args::Args;
use client::{Admin, Failure};

const USAGE: &str = "usage: tenantctl [--url URL] [--token TOKEN] [--json] COMMAND ...
  create --name NAME --plan PLAN --admin-email EMAIL [--slug SLUG] [--domain HOST] [--idempotency-key K]
  list [--status active|suspended] [--q TEXT] [--limit N] [--cursor SLUG]
  show ID | suspend ID | resume ID | delete ID | purge ID [--override] | domain ID HOSTNAME
  top [--since TIME|15m|6h|7d] [--until TIME] [--limit N]   (the busiest tenants, from Analytics Engine)
  probe --supabase-url URL --anon-key KEY [--router-url URL] [--host A --host B] [--plan PLAN]
  lint --db-url URL [--schema NAME]...   (no admin service; DATABASE_URL also works)
URL and TOKEN also from TENANTCTL_URL and TENANTCTL_TOKEN (an aal2 platform-admin access token).";

pub const EXIT_FINDINGS: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_UNREACHABLE: u8 = 3;
pub const EXIT_REFUSED: u8 = 4;
pub const EXIT_PROVISIONING_FAILED: u8 = 5;

fn main() -> ExitCode {
    let mut a = Args::new(std::env::args().skip(1).collect());
    let as_json = a.flag("--json");
    if a.flag("--help") || a.flag("-h") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let url = a
        .value("--url")
        .or_else(|| std::env::var("TENANTCTL_URL").ok());
    let token = a
        .value("--token")
        .or_else(|| std::env::var("TENANTCTL_TOKEN").ok());
    let Some(cmd) = a.take_command() else {
        return usage("a command is required");
    };
    if cmd == "lint" {
        return lint_command(&mut a, as_json);
    }
    let (Some(url), Some(token)) = (
        url.filter(|u| !u.is_empty()),
        token.filter(|t| !t.is_empty()),
    ) else {
        return usage("--url and --token (or TENANTCTL_URL and TENANTCTL_TOKEN) are required");
    };
    let admin = Admin::new(&url, &token);
    let r = if cmd == "top" {
        top::run(&mut a, &admin, as_json)
    } else if cmd == "probe" {
        probe::run(&mut a, &admin, as_json)
    } else {
        admin_cmds::run(&cmd, &mut a, &admin, as_json)
    };
    if let Some(f) = a.unknown_flag() {
        return usage(&format!("unknown option {f}"));
    }
    match r {
        Ok(admin_cmds::Outcome::Done) => ExitCode::SUCCESS,
        Ok(admin_cmds::Outcome::ProvisioningFailed) => ExitCode::from(EXIT_PROVISIONING_FAILED),
        Ok(admin_cmds::Outcome::Findings) => ExitCode::from(EXIT_FINDINGS),
        Ok(admin_cmds::Outcome::Incomplete) => ExitCode::from(EXIT_UNREACHABLE),
        Err(Failure::Refused { status: 0, body }) => {
            usage(body["message"].as_str().unwrap_or("usage"))
        }
        Err(Failure::Refused { status, body }) => {
            if as_json {
                println!("{body}");
            }
            eprintln!(
                "tenantctl: refused ({status} {}): {}{}",
                body["code"].as_str().unwrap_or(""),
                body["message"].as_str().unwrap_or(""),
                body["details"]
                    .as_str()
                    .map(|d| format!(" — {d}"))
                    .unwrap_or_default()
            );
            ExitCode::from(EXIT_REFUSED)
        }
        Err(Failure::Unreachable(e)) => {
            eprintln!("tenantctl: the admin API is unreachable: {e}");
            ExitCode::from(EXIT_UNREACHABLE)
        }
    }
}

fn usage(why: &str) -> ExitCode {
    eprintln!("tenantctl: {why}\n{USAGE}");
    ExitCode::from(EXIT_USAGE)
}

fn lint_command(a: &mut Args, as_json: bool) -> ExitCode {
    let db_url = a
        .value("--db-url")
        .or_else(|| std::env::var("DATABASE_URL").ok());
    let mut schemas = a.values("--schema");
    if let Some(f) = a.unknown_flag() {
        return usage(&format!("unknown option {f}"));
    }
    let Some(db_url) = db_url.filter(|u| !u.is_empty()) else {
        return usage("--db-url (or DATABASE_URL) is required");
    };
    if schemas.is_empty() {
        schemas.push("public".into());
    }
    let findings = postgres::Client::connect(&db_url, postgres::NoTls)
        .and_then(|mut db| lint::run(&mut db, &schemas));
    let findings = match findings {
        Ok(f) => f,
        Err(e) => {
            eprintln!("tenantctl: cannot read the database: {e}");
            return ExitCode::from(EXIT_UNREACHABLE);
        }
    };
    if as_json {
        let list: Vec<_> = findings.iter().map(lint::Finding::to_json).collect();
        println!(
            "{}",
            serde_json::json!({"findings": list, "count": findings.len()})
        );
    } else {
        for f in &findings {
            println!("{:<12} {:<48} {}", f.rule, f.object, f.message);
        }
        println!("{} finding(s)", findings.len());
    }
    if findings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FINDINGS)
    }
}
