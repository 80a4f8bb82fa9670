//! The request as the runtime hands it over to the core, and its body, read only on demand.

use futures::future::LocalBoxFuture;

/// The request as the runtime handed it over; header names lowercase.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub method: String,
    pub scheme: String,
    pub host: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: Vec<(String, String)>,
    pub client_ip: Option<String>,
}

/// The parts of the runtime's request URL the router reads. The runtime hands over a URL it has
/// already parsed and serialised (WHATWG), so splitting it is enough: parsing it again with the
/// `url` crate cost ~10 µs a request in workerd's profile.
#[derive(Debug, PartialEq, Eq)]
pub struct RequestUrl<'a> {
    pub scheme: &'a str,
    /// `host[:port]`, without any userinfo.
    pub authority: &'a str,
    pub path: &'a str,
    pub query: Option<&'a str>,
}

impl<'a> RequestUrl<'a> {
    pub fn split(url: &'a str) -> Option<Self> {
        let (scheme, rest) = url.split_once("://")?;
        let rest = rest.split_once('#').map_or(rest, |(r, _)| r);
        let (authority, target) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
        let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let (path, query) = match target.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (target, None),
        };
        if scheme.is_empty() || authority.is_empty() {
            return None;
        }
        Some(Self {
            scheme,
            authority,
            path: if path.is_empty() { "/" } else { path },
            query,
        })
    }
}

impl Incoming {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn is_websocket_upgrade(&self) -> bool {
        self.header("upgrade")
            .is_some_and(|u| u.eq_ignore_ascii_case("websocket"))
    }

    /// A `Content-Length` other than 0, or any `Transfer-Encoding`.
    pub(crate) fn declares_body(&self) -> bool {
        self.headers.iter().any(|(k, v)| {
            k.eq_ignore_ascii_case("transfer-encoding")
                || (k.eq_ignore_ascii_case("content-length") && v.trim() != "0")
        })
    }

    /// `websocket` anywhere in the `Upgrade` token list, which is what the runtime acts on.
    pub(crate) fn names_websocket_upgrade(&self) -> bool {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("upgrade"))
            .flat_map(|(_, v)| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case("websocket"))
    }
}

#[derive(Debug)]
pub enum BodyError {
    TooLarge,
    Read(String),
}

/// The request body, read only when a rule needs it (sign-up stamping).
pub trait BodySource {
    fn read_limited(&mut self, limit: usize) -> LocalBoxFuture<'_, Result<Vec<u8>, BodyError>>;
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn request_url_splits_into_scheme_authority_path_and_query() {
        let u = RequestUrl::split("https://acme.app.example/rest/v1/x?select=id,name&limit=10")
            .unwrap();
        assert_eq!(
            u,
            RequestUrl {
                scheme: "https",
                authority: "acme.app.example",
                path: "/rest/v1/x",
                query: Some("select=id,name&limit=10"),
            }
        );
        let u = RequestUrl::split("http://user:pw@ACME.app.example:8787?q=1#frag").unwrap();
        assert_eq!(
            (u.authority, u.path, u.query),
            ("ACME.app.example:8787", "/", Some("q=1"))
        );
        let u = RequestUrl::split("http://h.example/a/b?").unwrap();
        assert_eq!((u.path, u.query), ("/a/b", Some("")));
        let u = RequestUrl::split("http://h.example/a?b=c?d#e?f").unwrap();
        assert_eq!((u.path, u.query), ("/a", Some("b=c?d")));
    }

    #[test]
    fn request_url_without_scheme_or_host_is_refused() {
        for bad in [
            "",
            "acme.app.example/x",
            "://acme.app.example/x",
            "https:///x",
            "https://?q",
        ] {
            assert_eq!(RequestUrl::split(bad), None, "{bad:?}");
        }
    }
}
