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
}
