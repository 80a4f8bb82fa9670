//! Every place a Supabase credential rides in a request (SPEC §6 "Credentials"): the
//! `Authorization` header, the `apikey` header, and the `apikey` query parameter, which Supabase's
//! gateway (Kong key-auth, `key_in_query`) and Realtime (`/realtime/v1/websocket?apikey=`, where
//! supabase-js puts it) both read.
//!
//! The runtime joins repeated headers with `, ` (Fetch's `Headers`), and no token or key holds a
//! comma, so each comma-separated piece is a credential of its own: `apikey: anon` then
//! `apikey: sb_secret_…` arrives as `anon, sb_secret_…` and both are looked at.

/// The credentials found, in order, as the client sent them.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Credentials<'a> {
    /// Whole `Authorization` values (`Bearer …`), one per piece.
    pub authorization: Vec<&'a str>,
    /// `apikey` header pieces, then `apikey` query values.
    pub apikeys: Vec<String>,
}

fn pieces(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|p| !p.is_empty())
}

/// Whether a query key names the API key. Gateways decode query keys before matching them and some
/// match without case, so `api%6Bey` and `APIKEY` count too; `;` separates pairs for some parsers.
fn is_apikey_name(raw_key: &str) -> bool {
    url::form_urlencoded::parse(format!("{raw_key}=").as_bytes())
        .next()
        .is_some_and(|(k, _)| k.trim().eq_ignore_ascii_case("apikey"))
}

pub fn collect<'a>(headers: &'a [(String, String)], query: Option<&str>) -> Credentials<'a> {
    let mut c = Credentials::default();
    for (name, value) in headers {
        if name.eq_ignore_ascii_case("authorization") {
            c.authorization.extend(pieces(value));
        } else if name.eq_ignore_ascii_case("apikey") {
            c.apikeys.extend(pieces(value).map(str::to_string));
        }
    }
    for pair in query.unwrap_or("").split(['&', ';']) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if is_apikey_name(k) {
            let value = url::form_urlencoded::parse(format!("v={v}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default();
            c.apikeys.extend(pieces(&value).map(str::to_string));
        }
    }
    c
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn joined_headers_are_split_into_their_credentials() {
        let headers = h(&[
            ("apikey", "anon, sb_secret_x"),
            ("authorization", "Bearer a, Bearer b"),
        ]);
        let c = collect(&headers, None);
        assert_eq!(c.apikeys, vec!["anon", "sb_secret_x"]);
        assert_eq!(c.authorization, vec!["Bearer a", "Bearer b"]);
    }

    #[test]
    fn the_apikey_query_parameter_counts_in_every_spelling() {
        for q in [
            "apikey=k",
            "x=1&api%6Bey=k",
            "%61pikey=k&vsn=1.0.0",
            "APIKEY=k",
            "ApiKey=k",
            "a=1;apikey=k",
        ] {
            assert_eq!(collect(&[], Some(q)).apikeys, vec!["k"], "{q}");
        }
        assert!(collect(&[], Some("apikeys=k&xapikey=k")).apikeys.is_empty());
    }
}
