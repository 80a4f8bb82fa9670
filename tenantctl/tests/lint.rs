//! `tenantctl lint` against a throwaway PostgreSQL (scripts/pg-cluster.sh) holding the project's
//! schema: clean on it as shipped; then one broken table (or function) per rule, each found, with
//! exit code 1, in text and in JSON.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

struct Cluster {
    dir: PathBuf,
    url: String,
}

impl Cluster {
    fn start() -> Cluster {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let script = root.join("scripts/pg-cluster.sh");
        let dir = std::env::temp_dir().join(format!("tenantctl-lint-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        for args in [&["start"][..], &["load"][..]] {
            let out = Command::new("bash")
                .arg(&script)
                .args(args)
                .arg(&dir)
                .output()
                .expect("bash");
            assert!(
                out.status.success(),
                "pg-cluster.sh {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let env = std::fs::read_to_string(dir.join("env")).expect("DIR/env");
        let url = env
            .lines()
            .find_map(|l| l.trim().strip_prefix("export DATABASE_URL="))
            .expect("DATABASE_URL in DIR/env")
            .trim_matches(|c| c == '"' || c == '\'')
            .to_string();
        Cluster { dir, url }
    }

    fn sql(&self, sql: &str) {
        let mut db = postgres::Client::connect(&self.url, postgres::NoTls).expect("connect");
        db.batch_execute(sql).expect("sql");
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let _ = Command::new("bash")
            .arg(root.join("scripts/pg-cluster.sh"))
            .arg("stop")
            .arg(&self.dir)
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn lint(url: &str, json: bool) -> (i32, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tenantctl"));
    cmd.args(["lint", "--db-url", url]);
    if json {
        cmd.arg("--json");
    }
    let out = cmd.output().expect("tenantctl");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn clean_on_the_project_schema_and_one_finding_per_broken_rule() {
    let pg = Cluster::start();
    let (code, text) = lint(&pg.url, false);
    assert_eq!(code, 0, "the project's own schema passes:\n{text}");

    pg.sql(
        "
        -- rls: isolation on, then no longer forced
        create table public.lint_rls (id uuid primary key default gen_random_uuid(), tenant_id uuid);
        select tenancy.enable_tenant_isolation('public.lint_rls');
        alter table public.lint_rls no force row level security;
        -- policy: a permissive policy that lets every tenant read
        create table public.lint_policy (id uuid primary key default gen_random_uuid(), tenant_id uuid);
        select tenancy.enable_tenant_isolation('public.lint_policy');
        create policy leak on public.lint_policy for select to authenticated using (true);
        -- index: the tenant index dropped
        create table public.lint_index (id uuid primary key default gen_random_uuid(), tenant_id uuid);
        select tenancy.enable_tenant_isolation('public.lint_index');
        do $$ declare i text; begin
          select indexrelid::regclass::text into i from pg_index
           where indrelid = 'public.lint_index'::regclass and not indisprimary;
          execute 'drop index ' || i;
        end $$;
        -- foreign_key: points at another tenant table's row by id alone
        create table public.lint_parent (id uuid primary key default gen_random_uuid(), tenant_id uuid);
        select tenancy.enable_tenant_isolation('public.lint_parent');
        create table public.lint_fk (id uuid primary key default gen_random_uuid(), tenant_id uuid,
                                     parent_id uuid references public.lint_parent (id));
        select tenancy.enable_tenant_isolation('public.lint_fk');
        -- search_path: a SECURITY DEFINER function that does not fix it
        create function public.lint_definer() returns int language sql security definer as 'select 1';
        ",
    );
    let (code, out) = lint(&pg.url, true);
    assert_eq!(code, 1, "{out}");
    let v: Value = serde_json::from_str(out.trim()).expect("JSON");
    let mut found: Vec<(String, String)> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or_default().to_string(),
                f["object"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            ("foreign_key", "lint_fk.lint_fk_parent_id_fkey"),
            ("index", "public.lint_index"),
            ("policy", "public.lint_policy.leak"),
            ("rls", "public.lint_rls"),
            ("search_path", "lint_definer()"),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .to_vec(),
        "{out}"
    );
    assert_eq!(v["count"], 5);
    let (code, text) = lint(&pg.url, false);
    assert_eq!(code, 1);
    assert!(text.contains("5 finding(s)"), "{text}");
    let (code, _) = lint("postgresql://nobody@127.0.0.1:1/none", false);
    assert_eq!(code, 3, "an unreachable database is not a clean one");
}
