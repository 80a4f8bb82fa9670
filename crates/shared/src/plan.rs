//! Plans are rows of `public.subscription_plans` (sql/001), so which exist is the database's word;
//! what a plan id may look like is checked here first so a malformed one never reaches it.

use serde::{Deserialize, Serialize};

/// The shape `subscription_plans_id_format` allows: `^[a-z0-9_-]{1,40}$`.
pub fn is_plan_id(id: &str) -> bool {
    (1..=40).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// A plan's limits (null = unlimited), as the admin API shows usage against them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanLimits {
    pub id: String,
    pub name: String,
    pub max_users: Option<i64>,
    pub max_contacts: Option<i64>,
    pub max_campaigns: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::is_plan_id;

    #[test]
    fn plan_ids_follow_the_table_constraint() {
        assert!(is_plan_id("pro") && is_plan_id("tiny-test") && is_plan_id("a_b"));
        assert!(!is_plan_id("") && !is_plan_id("Pro") && !is_plan_id(&"x".repeat(41)));
    }
}
