//! Go itself on the fuzzers' corpora: every sign-up and redirect input the corpora hold is run
//! through the router's auth-request rules and what would go upstream is read by Go's own
//! `net/http`, `net/url` and `encoding/json` (the oracle in `tests/go-oracle/`, as GoTrue reads
//! it). Go must find the router's tenant in every stamped body, `create_user: false` on an
//! invite-only OTP, and no redirect target off the tenant's hosts. `scripts/fuzz.sh` runs it after
//! the fuzzers; `src/properties/go_model.rs` is the same reading restated in Rust, for speed.
//!
//!   GO_ORACLE=/path/to/gotrue-view cargo run --release --features fuzzing --example go_replay -- \
//!       fuzz/corpus/signup_body fuzz/corpus/redirect_targets

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;
use tenant_router::properties::auth_call::{Forwarded, TENANT_ID};
use tenant_router::properties::{redirect_targets, signup_body};

enum Expect {
    Stamped { create_user_false: bool },
    Redirect { reads_json: bool },
}

fn main() {
    let oracle = std::env::var("GO_ORACLE").expect("GO_ORACLE: the built tests/go-oracle binary");
    let mut cases: Vec<(String, Forwarded, Expect)> = Vec::new();
    for dir in std::env::args().skip(1) {
        let signup = dir.contains("signup_body");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let Ok(data) = std::fs::read(e.path()) else {
                continue;
            };
            let name = e.path().display().to_string();
            if signup {
                if let Some((f, cu)) = signup_body::forwarded(&data) {
                    cases.push((
                        name,
                        f,
                        Expect::Stamped {
                            create_user_false: cu,
                        },
                    ));
                }
            } else if let Some((f, rj)) = redirect_targets::forwarded(&data) {
                cases.push((name, f, Expect::Redirect { reads_json: rj }));
            }
        }
    }
    let mut child = Command::new(&oracle)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the oracle runs");
    let input: String = cases
        .iter()
        .map(|(_, f, _)| f.oracle_line() + "\n")
        .collect();
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().expect("the oracle answers");
    writer.join().expect("writer").expect("oracle stdin");
    let answers: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("an oracle answer"))
        .collect();
    assert_eq!(answers.len(), cases.len(), "one answer per request");
    let mut wrong = 0;
    for ((name, _, expect), a) in cases.iter().zip(&answers) {
        let problem = match expect {
            Expect::Stamped { create_user_false } => {
                if a["json_tenant_id"] != TENANT_ID {
                    Some(format!("Go reads tenant {}", a["json_tenant_id"]))
                } else if *create_user_false && a["json_create_user"] != false {
                    Some("Go reads create_user true".into())
                } else {
                    None
                }
            }
            Expect::Redirect { reads_json } => {
                let mut targets: Vec<String> = a["redirect_form"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect();
                targets.push(a["redirect_header"].as_str().unwrap_or("").into());
                targets.push(a["referer"].as_str().unwrap_or("").into());
                if *reads_json {
                    targets.push(a["json_redirect_to"].as_str().unwrap_or("").into());
                }
                targets
                    .iter()
                    .find(|t| !t.is_empty() && !redirect_targets::on_tenant_host(t))
                    .map(|t| format!("Go reads redirect target {t:?}"))
            }
        };
        if let Some(p) = problem {
            wrong += 1;
            if wrong <= 10 {
                eprintln!("{name}: {p}");
            }
        }
    }
    println!(
        "go-replay: {} passed, {} failed",
        cases.len() - wrong,
        wrong
    );
    std::process::exit(if wrong == 0 { 0 } else { 1 });
}
