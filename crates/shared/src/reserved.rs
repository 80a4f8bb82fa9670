//! Labels under a base domain that are the platform, never a tenant (`admin.<base>` is the admin
//! service): the router refuses to route them, the admin service refuses them as slugs.

pub const DEFAULT_RESERVED_LABELS: [&str; 5] = ["www", "api", "app", "admin", "auth"];
