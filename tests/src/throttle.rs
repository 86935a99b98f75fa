//! An API Gateway stand-in for the publish route: HTTP on loopback in, payload
//! 2.0 events to a function behind a Runtime API out, with the route's throttle
//! enforced, which no emulator does. API Gateway throttles with a token bucket
//! (API Gateway Developer Guide, "Throttle requests to your HTTP APIs"): the rate
//! refills it, the burst is its size, and a request finding it empty is refused
//! with 429 `{"message":"Too Many Requests"}` without reaching the function. The
//! template sets 5 a second, burst 10, on `ANY /api/{proxy+}`.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use base64::Engine as _;
use http_body_util::BodyExt;

use crate::events::LambdaResponse;
use crate::runtime_api::RuntimeApi;

/// What the gateway saw.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    /// Requests received.
    pub requests: usize,
    /// Refused with 429.
    pub throttled: usize,
}

struct Bucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn take(&mut self) -> bool {
        let now = Instant::now();
        self.tokens =
            (self.tokens + now.duration_since(self.at).as_secs_f64() * self.rate).min(self.burst);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[derive(Clone)]
struct Shared {
    function: Arc<RuntimeApi>,
    bucket: Arc<Mutex<Bucket>>,
    counts: Arc<Mutex<Counts>>,
}

/// A running gateway.
pub struct Gateway {
    addr: std::net::SocketAddr,
    counts: Arc<Mutex<Counts>>,
}

/// The payload 2.0 event API Gateway sends for `req` on the publish route.
pub fn event(parts: &http::request::Parts, body: &[u8]) -> serde_json::Value {
    let mut headers = serde_json::Map::new();
    for (name, value) in &parts.headers {
        let value = value.to_str().unwrap_or_default();
        headers
            .entry(name.as_str())
            .and_modify(|v| *v = format!("{},{value}", v.as_str().unwrap()).into())
            .or_insert_with(|| value.into());
    }
    let path = parts.uri.path();
    serde_json::json!({
        "version": "2.0",
        "routeKey": "ANY /api/{proxy+}",
        "rawPath": path,
        "rawQueryString": parts.uri.query().unwrap_or(""),
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "standin",
            "domainName": "standin.execute-api.us-east-1.amazonaws.com",
            "http": {
                "method": parts.method.as_str(),
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "blog"
            },
            "requestId": "stand-in",
            "routeKey": "ANY /api/{proxy+}",
            "stage": "$default",
            "time": "30/Nov/2026:00:00:00 +0000",
            "timeEpoch": 1_795_996_800_000_u64
        },
        "pathParameters": { "proxy": path.trim_start_matches("/api/") },
        "isBase64Encoded": true,
        "body": base64::engine::general_purpose::STANDARD.encode(body),
    })
}

async fn handle(State(s): State<Shared>, req: Request) -> Response {
    s.counts.lock().unwrap().requests += 1;
    if !s.bucket.lock().unwrap().take() {
        s.counts.lock().unwrap().throttled += 1;
        return Response::builder()
            .status(429)
            .header("content-type", "application/json")
            .body(Body::from(r#"{"message":"Too Many Requests"}"#))
            .unwrap();
    }
    let (parts, body) = req.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    let out = match s.function.invoke(&event(&parts, &body).to_string()).await {
        Ok(out) => LambdaResponse::parse(&out),
        Err(e) => {
            return Response::builder()
                .status(500)
                .body(Body::from(format!(
                    r#"{{"message":"Internal Server Error: {e}"}}"#
                )))
                .unwrap()
        }
    };
    let mut res = Response::builder().status(out.status);
    for (name, value) in &out.headers {
        if let Some(v) = value.as_str() {
            res = res.header(name.as_str(), v);
        }
    }
    res.body(Body::from(out.body)).unwrap()
}

impl Gateway {
    /// A gateway to `function` throttled to `rate` requests a second, burst `burst`.
    pub async fn start(function: RuntimeApi, rate: f64, burst: f64) -> Self {
        let counts = Arc::new(Mutex::new(Counts::default()));
        let shared = Shared {
            function: Arc::new(function),
            bucket: Arc::new(Mutex::new(Bucket {
                rate,
                burst,
                tokens: burst,
                at: Instant::now(),
            })),
            counts: counts.clone(),
        };
        let app = axum::Router::new().fallback(handle).with_state(shared);
        let addr = crate::serve_loopback(app).await;
        Self { addr, counts }
    }

    /// `http://127.0.0.1:<port>`: the site's URL for the CLI.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// What it saw so far.
    pub fn counts(&self) -> Counts {
        *self.counts.lock().unwrap()
    }
}

/// The event for a request to the publish API with the test token.
pub fn api_event(method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> String {
    let mut req = http::Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {}", crate::api::TOKEN));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let (parts, ()) = req.body(()).unwrap().into_parts();
    event(&parts, body).to_string()
}
