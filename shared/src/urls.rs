//! Percent-encoding for the parts of URLs the site builds and reads.

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, CONTROLS};

/// Characters escaped in one path segment (RFC 3986 pchar, minus a few that
/// confuse people or proxies).
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'\\')
    .add(b'^')
    .add(b'|')
    .add(b'[')
    .add(b']');

/// Characters escaped in a stored old path (an alias): a segment's, plus `*`, which
/// would make the path a wildcard in a CloudFront invalidation.
const ALIAS_SEGMENT: &AsciiSet = &SEGMENT.add(b'*');

/// Longest old path accepted, encoded, in bytes (CloudFront allows 4,000 per
/// invalidation path; a DynamoDB partition key 2,048).
pub const MAX_PATH_BYTES: usize = 1024;

/// Characters escaped in a query value.
const QUERY_VALUE: &AsciiSet = &SEGMENT.add(b'&').add(b'=').add(b'+').add(b':');

/// Encodes one path segment.
pub fn encode_segment(s: &str) -> String {
    utf8_percent_encode(s, SEGMENT).to_string()
}

/// Encodes one query-string value.
pub fn encode_query_value(s: &str) -> String {
    utf8_percent_encode(s, QUERY_VALUE).to_string()
}

/// Decodes a percent-encoded path segment or query value; `None` when the bytes
/// are not UTF-8.
pub fn decode(s: &str) -> Option<String> {
    percent_decode_str(s)
        .decode_utf8()
        .ok()
        .map(|c| c.into_owned())
}

/// The one spelling of a site-relative path, as aliases are stored and looked up:
/// each segment percent-decoded, then encoded again the same way, so `/über/`,
/// `/%C3%BCber/` and `/%c3%bcber/` are one path, and no stored path holds a quote, an
/// angle bracket or a `*` (it goes into CDN invalidations as it is). The error says
/// what to fix.
pub fn canonical_path(raw: &str) -> Result<String, String> {
    let bad = |rule: &str| format!("entries must {rule}, got \"{}\"", raw.escape_default());
    if raw.starts_with("http://") || raw.starts_with("https://") {
        return Err(bad(
            "be paths on this site such as /old/post/, not full URLs: write the path only",
        ));
    }
    let Some(rest) = raw.strip_prefix('/').filter(|r| !r.starts_with('/')) else {
        return Err(bad("be paths starting with a single '/'"));
    };
    let segments: Vec<&str> = rest.split('/').collect();
    let mut out = String::with_capacity(raw.len());
    for (i, segment) in segments.iter().enumerate() {
        let text = decode(segment).ok_or_else(|| bad("be UTF-8 once percent-decoded"))?;
        if text.is_empty() && i + 1 < segments.len() {
            return Err(bad("not contain '//'"));
        }
        if text == "." || text == ".." {
            return Err(bad("not contain '.' or '..' segments"));
        }
        if text.contains(['/', '?', '#', '\\']) || text.chars().any(char::is_control) {
            return Err(bad(
                "be plain paths without '?', '#', '\\', control characters or an encoded '/'",
            ));
        }
        out.push('/');
        out.extend(utf8_percent_encode(&text, ALIAS_SEGMENT));
    }
    if out.len() > MAX_PATH_BYTES {
        return Err(bad(&format!(
            "be at most {MAX_PATH_BYTES} bytes once encoded (this one is {})",
            out.len()
        )));
    }
    Ok(out)
}

/// The value of `name` in a query string (`a=1&b=2`), decoded; `+` counts as space.
pub fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    query?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == name).then(|| decode(&v.replace('+', " "))).flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_and_queries_round_trip() {
        assert_eq!(encode_segment("web dev/ü"), "web%20dev%2F%C3%BC");
        assert_eq!(decode("web%20dev%2F%C3%BC").unwrap(), "web dev/ü");
        assert_eq!(decode("%FF"), None);
        let key = "2024-01-01T08:00:00Z#a";
        let q = format!("x=1&before={}", encode_query_value(key));
        assert_eq!(query_param(Some(&q), "before").unwrap(), key);
        assert_eq!(query_param(Some("a=b+c"), "a").unwrap(), "b c");
        assert_eq!(query_param(Some("a=1"), "b"), None);
        assert_eq!(query_param(None, "b"), None);
    }

    #[test]
    fn canonical_paths() {
        for (raw, want) in [
            ("/old/", "/old/"),
            ("/über-alt/", "/%C3%BCber-alt/"),
            ("/%c3%bcber-alt/", "/%C3%BCber-alt/"),
            ("/a b/\"<x>*", "/a%20b/%22%3Cx%3E%2A"),
            ("/2024/05/01/name.html", "/2024/05/01/name.html"),
            ("/", "/"),
        ] {
            assert_eq!(canonical_path(raw).as_deref(), Ok(want), "{raw}");
        }
        for (raw, why) in [
            ("https://evil.example/", "not full URLs"),
            ("old/", "single '/'"),
            ("//host/x", "single '/'"),
            ("/a//b", "'//'"),
            ("/a/../b", "'..'"),
            ("/a/%2e%2e/b", "'..'"),
            ("/a%2Fb", "encoded '/'"),
            ("/a?b=1", "'?'"),
            ("/a#top", "'#'"),
            ("/a%00", "control"),
            ("/%FF", "UTF-8"),
        ] {
            let err = canonical_path(raw).unwrap_err();
            assert!(err.contains(why), "{raw}: {err}");
        }
        assert!(canonical_path(&format!("/{}", "é".repeat(200)))
            .unwrap_err()
            .contains("1024 bytes"));
    }
}
