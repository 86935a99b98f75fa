//! API Gateway HTTP API events (payload 2.0) to requests and back, written here
//! instead of taken from lambda_http's adapter for two reasons: it builds the URI
//! through `url::Url`, which resolves `%2e%2e` segments (`/posts/%2e%2e/` became
//! `/`, the home page) and panics on a host it cannot parse. This conversion keeps
//! `rawPath` exactly as the client sent it and cannot panic: a request it cannot
//! represent becomes a 400.

use base64::Engine as _;
use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::HeaderValue;
use lambda_http::aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use lambda_http::aws_lambda_events::encodings::Body;

use crate::http::{Request, Response};

/// The request an event describes: method, `rawPath` and `rawQueryString` as sent,
/// headers, and the body (base64-decoded when API Gateway encoded it). The error
/// says which part could not be used.
pub fn request(event: ApiGatewayV2httpRequest) -> Result<Request, String> {
    let path = event.raw_path.unwrap_or_default();
    if !path.starts_with('/') || path.contains(['?', '#']) {
        return Err(format!(
            "the path must start with '/' and hold no '?' or '#', got {path:?}"
        ));
    }
    let uri = match event.raw_query_string.as_deref() {
        Some(q) if !q.is_empty() => format!("{path}?{q}"),
        _ => path,
    };
    let uri: http::Uri = uri
        .parse()
        .map_err(|e| format!("the path or query is not a valid URI ({e})"))?;
    let body = match event.body {
        None => Bytes::new(),
        Some(b) if event.is_base64_encoded => base64::engine::general_purpose::STANDARD
            .decode(b.as_bytes())
            .map(Bytes::from)
            .map_err(|e| format!("the body is marked base64 but is not ({e})"))?,
        Some(b) => Bytes::from(b),
    };
    let mut req = http::Request::new(body);
    *req.method_mut() = event.request_context.http.method;
    *req.uri_mut() = uri;
    *req.headers_mut() = event.headers;
    Ok(req)
}

/// An event as the Runtime API hands it over (JSON), as a request.
pub fn request_from_json(json: &str) -> Result<Request, String> {
    let event: ApiGatewayV2httpRequest = serde_json::from_str(json)
        .map_err(|e| format!("not an API Gateway HTTP API event ({e})"))?;
    request(event)
}

/// Whether a response body goes to API Gateway as text (else base64).
fn is_text(res: &Response) -> bool {
    res.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| {
            t.starts_with("text/")
                || t.contains("xml")
                || t.contains("json")
                || t.contains("charset=utf-8")
        })
}

/// The event API Gateway turns into the HTTP response: text bodies stay text,
/// anything else goes base64.
pub fn response(res: Response) -> ApiGatewayV2httpResponse {
    let text = is_text(&res);
    let (parts, body) = res.into_parts();
    let mut out = ApiGatewayV2httpResponse::default();
    out.status_code = i64::from(parts.status.as_u16());
    out.headers = parts.headers;
    if !body.is_empty() {
        match String::from_utf8(body.to_vec()) {
            Ok(s) if text => out.body = Some(Body::Text(s)),
            _ => {
                out.body = Some(Body::Text(
                    base64::engine::general_purpose::STANDARD.encode(&body),
                ));
                out.is_base64_encoded = true;
            }
        }
    }
    out
}

/// A plain 400 for an event that names no representable request.
pub fn bad_event(why: &str) -> ApiGatewayV2httpResponse {
    let mut out = ApiGatewayV2httpResponse::default();
    out.status_code = 400;
    out.headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    out.body = Some(Body::Text(format!("Bad request: {why}\n")));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(json: serde_json::Value) -> ApiGatewayV2httpRequest {
        serde_json::from_value(json).unwrap()
    }

    fn base(path: &str, query: &str) -> serde_json::Value {
        serde_json::json!({
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": path,
            "rawQueryString": query,
            "headers": {"host": "example.com", "content-type": "text/plain"},
            "requestContext": {"http": {"method": "GET", "path": path}, "stage": "$default"},
            "isBase64Encoded": false
        })
    }

    #[test]
    fn raw_path_is_kept_as_sent() {
        let req = request(event(base("/posts/%2e%2e/", ""))).unwrap();
        assert_eq!(req.uri().path(), "/posts/%2e%2e/");
        let req = request(event(base(
            "/tags/web%20dev/",
            "before=2024-01-01T00%3A00%3A00Z%23a",
        )))
        .unwrap();
        assert_eq!(req.uri().path(), "/tags/web%20dev/");
        assert_eq!(
            req.uri().query(),
            Some("before=2024-01-01T00%3A00%3A00Z%23a")
        );
        assert_eq!(req.headers()["host"], "example.com");
    }

    #[test]
    fn unusable_events_are_errors_not_panics() {
        assert!(request(event(base("no-slash", ""))).is_err());
        assert!(request(event(base("/a b", ""))).is_err());
        let mut bad_body = base("/", "");
        bad_body["isBase64Encoded"] = true.into();
        bad_body["body"] = "not base64!".into();
        assert!(request(event(bad_body)).unwrap_err().contains("base64"));
    }

    #[test]
    fn bodies_round_trip() {
        let mut e = base("/api/assets", "name=a.png");
        e["isBase64Encoded"] = true.into();
        e["body"] = base64::engine::general_purpose::STANDARD
            .encode([0u8, 255, 1])
            .into();
        assert_eq!(request(event(e)).unwrap().body().as_ref(), &[0u8, 255, 1]);

        let png = http::Response::builder()
            .header("content-type", "image/png")
            .body(Bytes::from_static(&[0, 159, 1]))
            .unwrap();
        let out = response(png);
        assert!(out.is_base64_encoded);
        let html = http::Response::builder()
            .status(404)
            .header("content-type", "text/html; charset=utf-8")
            .body(Bytes::from_static(b"<p>x</p>"))
            .unwrap();
        let out = response(html);
        assert_eq!(out.status_code, 404);
        assert!(!out.is_base64_encoded);
        assert_eq!(out.body, Some(Body::Text("<p>x</p>".into())));
    }
}
