//! tenantctl, the operators' CLI (issue 15). `tenantctl lint` needs no admin service: it reads a
//! database's catalog (README, "The operator's day with tenantctl").
//!
//! Exit codes scripts can rely on: 0 clean, 1 findings, 2 usage, 3 the database could not be read.

mod lint;

use std::process::ExitCode;

const USAGE: &str = "usage: tenantctl lint --db-url URL [--schema NAME]... [--json]
  (or DATABASE_URL in the environment instead of --db-url)";

pub const EXIT_FINDINGS: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_UNREACHABLE: u8 = 3;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("lint") => lint_command(&args[1..]),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        _ => usage("unknown or missing command"),
    }
}

fn usage(why: &str) -> ExitCode {
    eprintln!("tenantctl: {why}\n{USAGE}");
    ExitCode::from(EXIT_USAGE)
}

fn lint_command(args: &[String]) -> ExitCode {
    let (mut db_url, mut schemas, mut as_json) =
        (std::env::var("DATABASE_URL").ok(), Vec::new(), false);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--db-url" => match it.next() {
                Some(v) => db_url = Some(v.clone()),
                None => return usage("--db-url needs a value"),
            },
            "--schema" => match it.next() {
                Some(v) => schemas.push(v.clone()),
                None => return usage("--schema needs a value"),
            },
            "--json" => as_json = true,
            other => return usage(&format!("unknown option {other}")),
        }
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
            eprintln!("tenantctl: cannot read the database: {e} ({e:?})");
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
