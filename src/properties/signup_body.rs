//! Sign-up body stamping (SPEC §1.4): whatever JSON a client posts to a user-creating endpoint, the
//! body that goes upstream, decoded as Go's `encoding/json` decodes it into GoTrue's params (keys
//! without case under Unicode folding, the last member winning, objects merged into `data`), has
//! exactly the router's tenant in `data.tenant_id`, and on an invite-only tenant `create_user` is
//! false; a url-encoded reading of it finds no redirect. Anything else is refused with a 4xx.

use serde_json::Value;

use super::auth_call::{run, tenant, Forwarded, TENANT_ID};
use super::go_model::{query_values, struct_fields, Field};
use crate::error::RouterError;
use crate::proxy::auth_request::AuthForward;

const PATHS: [&str; 4] = [
    "/auth/v1/signup",
    "/auth/v1/otp",
    "/auth/v1/magiclink",
    "/auth/v1/OTP/",
];
const PARAMS: [(&str, Field); 3] = [
    ("data", Field::Map),
    ("create_user", Field::Scalar),
    ("redirect_to", Field::Scalar),
];

struct Input<'a> {
    path: &'static str,
    otp: bool,
    invite_only: bool,
    content_type: &'static str,
    body: &'a [u8],
}

/// Input: a selector byte (bits 0–1: the endpoint, bit 2: invite-only, bit 3: a form content
/// type), then the body.
fn input(data: &[u8]) -> Input<'_> {
    let (sel, body) = super::selector(data);
    let path = PATHS[(sel & 3) as usize];
    Input {
        path,
        otp: path.eq_ignore_ascii_case("/auth/v1/otp") || path == "/auth/v1/OTP/",
        invite_only: sel & 4 != 0,
        content_type: if sel & 8 != 0 {
            "application/x-www-form-urlencoded"
        } else {
            "application/json"
        },
        body,
    }
}

fn forward(i: &Input) -> Result<AuthForward, RouterError> {
    let headers = [("content-type", i.content_type)];
    run(
        "POST",
        i.path,
        None,
        &headers,
        i.body,
        &tenant(i.invite_only),
    )
}

/// What goes upstream for `data`, when the router forwards it, and whether Go must read
/// `create_user: false` from it.
pub fn forwarded(data: &[u8]) -> Option<(Forwarded, bool)> {
    let i = input(data);
    let out = forward(&i).ok()?;
    let f = Forwarded {
        method: "POST",
        url: i.path.to_string(),
        headers: vec![("Content-Type".into(), i.content_type.into())],
        body: out.body?,
    };
    Some((f, i.invite_only && i.otp))
}

pub fn check(data: &[u8]) {
    let i = input(data);
    let (path, otp, invite_only, body) = (i.path, i.otp, i.invite_only, i.body);
    let out = match forward(&i) {
        Ok(out) => out,
        Err(e) => {
            assert!((400..500).contains(&e.status()), "{body:?} gave {e:?}");
            return;
        }
    };
    assert!(!invite_only || otp, "invite-only {path} let a body through");
    let sent = out
        .body
        .unwrap_or_else(|| panic!("{path} forwarded an unstamped body"));
    let go = struct_fields(&sent, &PARAMS)
        .unwrap_or_else(|| panic!("Go cannot decode {:?}", String::from_utf8_lossy(&sent)));
    let shown = || String::from_utf8_lossy(&sent).into_owned();
    assert_eq!(
        go.get("data").and_then(|d| d.get("tenant_id")),
        Some(&Value::String(TENANT_ID.into())),
        "Go reads another tenant from {}",
        shown()
    );
    if invite_only {
        assert_eq!(
            go.get("create_user"),
            Some(&Value::Bool(false)),
            "{}",
            shown()
        );
    }
    let text = String::from_utf8_lossy(&sent);
    for name in ["redirect_to", "data", "create_user"] {
        assert!(
            query_values(&text, name).is_empty(),
            "a form reader finds {name} in {text}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::strategies::{config, from};
    use proptest::prelude::*;

    const FRAGMENTS: &[&str] = &[
        "{",
        "}",
        "\"data\"",
        "\"DATA\"",
        "\"dat\\u0061\"",
        ":",
        ",",
        "\"tenant_id\"",
        "\"evil\"",
        "null",
        "\"create_user\"",
        "\"create_uſer\"",
        "\"CREATE_USER\"",
        "true",
        "false",
        "[",
        "]",
        "\"email\"",
        "\"a@b\"",
        "&redirect_to=",
        "%",
        " ",
        "1",
    ];

    #[test]
    fn known_shapes() {
        for b in [
            r#"{"email":"a@b","data":{"tenant_id":"evil"}}"#,
            r#"{"email":"a@b","DATA":{"tenant_id":"evil"},"data":null}"#,
            r#"{"email":"a@b","create_uſer":true}"#,
            r#"{"email":"a@b","create_user":null}"#,
        ] {
            for sel in 0..16u8 {
                let mut d = vec![sel];
                d.extend_from_slice(b.as_bytes());
                super::check(&d);
            }
        }
    }

    proptest! {
        #![proptest_config(config(3000))]
        #[test]
        fn bodies(sel in 0u8..16, b in from(FRAGMENTS, 16)) {
            let mut d = vec![sel];
            d.extend_from_slice(format!("{{\"email\":\"a@b\",{b}").as_bytes());
            super::check(&d);
            d.truncate(1);
            d.extend_from_slice(b.as_bytes());
            super::check(&d);
        }
    }
}
