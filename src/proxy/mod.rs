//! Forwarding rules (SPEC §1.4, §6): which upstream, which headers, and the rewrites Supabase Auth
//! needs to stay on the tenant's own domain and to create no user it should not. Pure functions
//! over plain data, except `auth_request`, which reads the body when a rule needs it.

pub mod auth_paths;
pub mod auth_request;
pub mod confirm;
pub mod cookies;
pub mod go_form;
pub mod go_json;
pub mod headers;
pub mod identity_headers;
pub mod redirect;
pub mod signup;
