//! Query strings and url-encoded bodies read the way Go's `net/url.ParseQuery` reads them, since
//! that is how Supabase Auth (GoTrue) sees what the router forwards: pairs split on `&`, a key
//! holding `;` is an error and skipped, `+` is a space, a bad `%`-escape is an error and skips its
//! pair. Edits keep every other pair byte for byte.

/// Go's `url.QueryUnescape`: `None` where Go returns an error.
pub fn unescape(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = b.get(i + 1..i + 3)?;
                let hi = (hex[0] as char).to_digit(16)?;
                let lo = (hex[1] as char).to_digit(16)?;
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Some(out)
}

/// `(key, value)` as Go decodes the pair `raw`, or `None` where Go skips it.
fn decode_pair(raw: &str) -> Option<(Vec<u8>, Vec<u8>)> {
    if raw.contains(';') {
        return None;
    }
    let (k, v) = raw.split_once('=').unwrap_or((raw, ""));
    Some((unescape(k)?, unescape(v)?))
}

/// Every value Go's `Form` holds under `name`, in order.
pub fn values(raw: &str, name: &str) -> Vec<Vec<u8>> {
    raw.split('&')
        .filter_map(decode_pair)
        .filter(|(k, _)| k == name.as_bytes())
        .map(|(_, v)| v)
        .collect()
}

/// Whether pair `raw` names `name` for Go, or for a reader that also splits on `;`.
fn names(raw: &str, name: &str) -> bool {
    raw.split(';').any(|part| {
        let k = part.split_once('=').map_or(part, |(k, _)| k);
        unescape(k).is_some_and(|k| k == name.as_bytes())
    })
}

/// `raw` without the pairs naming `name`; `None` when there were none.
pub fn without(raw: &str, name: &str) -> Option<String> {
    if !raw.split('&').any(|p| names(p, name)) {
        return None;
    }
    Some(
        raw.split('&')
            .filter(|p| !p.is_empty() && !names(p, name))
            .collect::<Vec<_>>()
            .join("&"),
    )
}

/// One `name=value` pair, encoded so that Go decodes exactly `value`.
pub fn pair(name: &str, value: &str) -> String {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!("{}={}", enc(name), enc(value))
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn keys_are_matched_after_decoding_as_go_does() {
        for q in [
            "redirect_to=x",
            "redirect%5Fto=x",
            "%72edirect_to=x",
            "redirect_t%6F=x",
            "a=1&redirect_to=x&b=2",
        ] {
            assert_eq!(values(q, "redirect_to"), vec![b"x".to_vec()], "{q}");
        }
        for q in [
            "redirect_to;=x",
            "redirect+to=x",
            "REDIRECT_TO=x",
            "redirect_to%zz=x",
            "redirect_to=%zz",
        ] {
            assert!(values(q, "redirect_to").is_empty(), "{q}");
        }
        assert_eq!(values("k=a+b%21", "k"), vec![b"a b!".to_vec()]);
    }

    #[test]
    fn without_drops_every_spelling_and_keeps_the_rest_verbatim() {
        assert_eq!(
            without("a=%7E+1&redirect%5Fto=x&x;redirect_to=y&b", "redirect_to").as_deref(),
            Some("a=%7E+1&b")
        );
        assert_eq!(without("a=1&b=2", "redirect_to"), None);
    }

    #[test]
    fn a_pair_decodes_back_to_its_value() {
        let p = pair("redirect_to", "https://acme.app.example/a?b=c&d=e f");
        assert_eq!(
            values(&p, "redirect_to"),
            vec![b"https://acme.app.example/a?b=c&d=e f".to_vec()]
        );
    }
}
