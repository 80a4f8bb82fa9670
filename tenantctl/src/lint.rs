//! `tenantctl lint`: the isolation linter, for any database built on this schema. It reads only the
//! catalog, so a table added later is checked like the others. A tenant table is a table of an
//! exposed schema (`public` unless told) with a `tenant_id` column; its rules are the ones
//! `tenancy.enable_tenant_isolation` (sql/004) establishes, checked rather than trusted:
//!
//! - `rls`: row level security enabled and forced (forced: the owner obeys the policies too);
//! - `policy`: a policy for each of select, insert, update and delete that a client role
//!   (`anon`, `authenticated`) holds the privilege for, and every permissive policy for those roles
//!   filtering through the tenancy helper in the `(select tenancy.…())` form — permissive policies
//!   add up, so one that does not is a hole, and the bare call is evaluated per row (a policy of
//!   `false` refuses everything and passes);
//! - `index`: an index leading with `tenant_id` (every policy filters on it);
//! - `foreign_key`: a foreign key to another tenant table includes `tenant_id`, or a row could
//!   point at another tenant's row (tables the client roles cannot write are the platform's own and
//!   exempt);
//! - `search_path`: every `SECURITY DEFINER` function of the project's schemas fixes its
//!   `search_path` (or a caller's objects shadow the ones it means).

use postgres::Client;
use serde_json::{json, Value};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: &'static str,
    pub object: String,
    pub message: String,
}

impl Finding {
    pub fn to_json(&self) -> Value {
        json!({"rule": self.rule, "object": self.object, "message": self.message})
    }
}

/// Schemas whose functions are Supabase's or Postgres's own, not the project's.
const NOT_OURS: &[&str] = &[
    "pg_catalog",
    "information_schema",
    "pg_toast",
    "auth",
    "storage",
    "extensions",
    "graphql",
    "graphql_public",
    "realtime",
    "vault",
    "pgsodium",
    "supabase_functions",
    "net",
    "cron",
    "pgbouncer",
];

const COMMANDS: &[(&str, &str, &str)] = &[
    // (pg_policy.polcmd, privilege, name)
    ("r", "SELECT", "select"),
    ("a", "INSERT", "insert"),
    ("w", "UPDATE", "update"),
    ("d", "DELETE", "delete"),
];

pub fn run(db: &mut Client, schemas: &[String]) -> Result<Vec<Finding>, postgres::Error> {
    let mut out = Vec::new();
    let tables = db.query(
        "select c.oid, format('%I.%I', n.nspname, c.relname) as name, c.relrowsecurity, c.relforcerowsecurity, a.attnum
           from pg_catalog.pg_class c
           join pg_catalog.pg_namespace n on n.oid = c.relnamespace
           join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped
          where n.nspname::text = any($1::text[]) and c.relkind in ('r', 'p')
          order by 2",
        &[&schemas],
    )?;
    for t in &tables {
        let oid: postgres::types::Oid = t.get(0);
        let name: String = t.get(1);
        let attnum: i16 = t.get(4);
        if !t.get::<_, bool>(2) || !t.get::<_, bool>(3) {
            out.push(Finding {
                rule: "rls",
                object: name.clone(),
                message: "row level security is not enabled and forced".into(),
            });
        }
        policies(db, oid, &name, &mut out)?;
        let indexed = db.query_one(
            "select exists (select 1 from pg_catalog.pg_index i where i.indrelid = $1 and i.indkey[0] = $2 and i.indpred is null and i.indisvalid)",
            &[&oid, &attnum],
        )?;
        if !indexed.get::<_, bool>(0) {
            out.push(Finding {
                rule: "index",
                object: name.clone(),
                message: "no index leads with tenant_id".into(),
            });
        }
    }
    // Foreign keys from any table of these schemas to a tenant table.
    for fk in db.query(
        "select format('%s.%I', k.conrelid::regclass, k.conname), k.confrelid::regclass::text
           from pg_catalog.pg_constraint k
           join pg_catalog.pg_class c on c.oid = k.conrelid
           join pg_catalog.pg_namespace n on n.oid = c.relnamespace
          where k.contype = 'f' and n.nspname::text = any($1::text[])
            and exists (select 1 from pg_catalog.pg_attribute ta
                         where ta.attrelid = k.confrelid and ta.attname = 'tenant_id' and not ta.attisdropped)
            -- a table the client roles cannot write holds only what the platform put there
            and (has_table_privilege('authenticated', k.conrelid, 'INSERT') or has_table_privilege('authenticated', k.conrelid, 'UPDATE')
                 or has_table_privilege('anon', k.conrelid, 'INSERT') or has_table_privilege('anon', k.conrelid, 'UPDATE'))
            and not exists (select 1 from pg_catalog.pg_attribute sa
                             where sa.attrelid = k.conrelid and sa.attname = 'tenant_id' and not sa.attisdropped
                               and sa.attnum = any (k.conkey))
          order by 1",
        &[&schemas],
    )? {
        out.push(Finding {
            rule: "foreign_key",
            object: fk.get(0),
            message: format!(
                "references tenant table {} without tenant_id in the key",
                fk.get::<_, String>(1)
            ),
        });
    }
    let not_ours: Vec<String> = NOT_OURS.iter().map(|s| s.to_string()).collect();
    for f in db.query(
        "select p.oid::regprocedure::text
           from pg_catalog.pg_proc p
           join pg_catalog.pg_namespace n on n.oid = p.pronamespace
          where p.prosecdef and n.nspname::text <> all($1::text[]) and n.nspname not like 'pg\\_%'
            and not exists (select 1 from pg_catalog.pg_depend d where d.objid = p.oid and d.deptype = 'e')
            and not exists (select 1 from unnest(coalesce(p.proconfig, '{}')) c where c like 'search\\_path=%')
          order by 1",
        &[&not_ours],
    )? {
        out.push(Finding {
            rule: "search_path",
            object: f.get(0),
            message: "SECURITY DEFINER without a fixed search_path".into(),
        });
    }
    Ok(out)
}

fn policies(
    db: &mut Client,
    oid: postgres::types::Oid,
    name: &str,
    out: &mut Vec<Finding>,
) -> Result<(), postgres::Error> {
    let rows = db.query(
        "select p.polname, p.polcmd::text, p.polpermissive,
                coalesce(pg_catalog.pg_get_expr(p.polqual, p.polrelid), ''),
                coalesce(pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid), ''),
                p.polroles = '{0}' or exists (select 1 from pg_catalog.pg_roles r where r.oid = any (p.polroles) and r.rolname in ('anon', 'authenticated'))
           from pg_catalog.pg_policy p where p.polrelid = $1 order by 1",
        &[&oid],
    )?;
    for &(cmd, privilege, label) in COMMANDS {
        let granted = db.query_one(
            "select has_table_privilege('authenticated', $1::oid, $2) or has_table_privilege('anon', $1::oid, $2)",
            &[&oid, &privilege],
        )?;
        if !granted.get::<_, bool>(0) {
            continue;
        }
        let covered = rows.iter().any(|p| {
            let c: String = p.get(1);
            (c == cmd || c == "*") && p.get::<_, bool>(5)
        });
        if !covered {
            out.push(Finding {
                rule: "policy",
                object: name.to_string(),
                message: format!("no {label} policy for the client roles, which hold {privilege}"),
            });
        }
    }
    for p in &rows {
        let (policy, permissive, for_clients): (String, bool, bool) =
            (p.get(0), p.get(2), p.get(5));
        if !permissive || !for_clients {
            continue;
        }
        for expr in [p.get::<_, String>(3), p.get::<_, String>(4)] {
            // `false` refuses everything: a closed door, not a hole.
            if !expr.is_empty() && expr != "false" && !through_helper(&expr) {
                out.push(Finding {
                    rule: "policy",
                    object: format!("{name}.{policy}"),
                    message: format!(
                        "does not filter through the tenancy helper in the (select …) form: {expr}"
                    ),
                });
            }
        }
    }
    Ok(())
}

/// The expression calls a tenancy helper, and each call is a sub-select (`( SELECT tenancy.x() …`),
/// which Postgres evaluates once per statement instead of once per row.
pub fn through_helper(expr: &str) -> bool {
    let calls = expr.matches("tenancy.").count();
    let wrapped = expr.matches("SELECT tenancy.").count();
    calls > 0 && calls == wrapped
}

#[cfg(test)]
mod tests {
    use super::through_helper;

    #[test]
    fn the_helper_only_in_a_sub_select() {
        assert!(through_helper(
            "(tenant_id = ( SELECT tenancy.current_tenant_id() AS current_tenant_id))"
        ));
        assert!(!through_helper("(tenant_id = tenancy.current_tenant_id())"));
        assert!(!through_helper("true"));
        assert!(!through_helper(
            "((tenant_id = ( SELECT tenancy.current_tenant_id() AS x)) OR (tenancy.current_tenant_role() = 'owner'::text))"
        ));
    }
}
