//! A counting, fault-injecting proxy between a function and the emulator: every
//! request is forwarded unchanged, and DynamoDB operations (`X-Amz-Target`) are
//! recorded, so a test can assert how many requests one page view made. On demand
//! it answers one operation with a fault instead: a 500, a throttling error, a
//! connection cut mid-answer, or a stall.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use http_body_util::BodyExt;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// What the proxy does instead of forwarding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// `500 InternalServerError`, as DynamoDB answers when it fails.
    Status500,
    /// `400 ThrottlingException`, as DynamoDB answers over its request rate.
    Throttle,
    /// The connection is cut after the status line: the body never arrives.
    Reset,
    /// Nothing for this many seconds, then the connection is cut; the request never
    /// reaches the emulator (so a test knows no write landed late).
    Stall(u64),
}

#[derive(Clone)]
struct Shared {
    upstream: String,
    client: Client<hyper_util::client::legacy::connect::HttpConnector, Body>,
    calls: Arc<Mutex<Vec<String>>>,
    failing: Arc<Mutex<Option<(String, Fault)>>>,
    /// Requests of the failing operation still let through before the fault starts.
    grace: Arc<Mutex<usize>>,
}

/// A running proxy.
pub struct CountingProxy {
    addr: SocketAddr,
    calls: Arc<Mutex<Vec<String>>>,
    failing: Arc<Mutex<Option<(String, Fault)>>>,
    grace: Arc<Mutex<usize>>,
}

/// A response whose body fails after the headers: the client sees the connection
/// drop mid-answer.
fn cut() -> Response {
    let failing = futures_util::stream::once(async {
        Err::<bytes::Bytes, _>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "cut by the test proxy",
        ))
    });
    Response::builder()
        .status(200)
        .header("content-type", "application/x-amz-json-1.0")
        .header("content-length", "100")
        .body(Body::from_stream(failing))
        .unwrap()
}

fn dynamodb_error(status: u16, kind: &str) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/x-amz-json-1.0")
        .body(Body::from(format!(
            r#"{{"__type":"com.amazonaws.dynamodb.v20120810#{kind}","message":"injected by the test proxy"}}"#
        )))
        .unwrap()
}

async fn forward(State(s): State<Shared>, req: Request) -> Response {
    let (mut parts, body) = req.into_parts();
    let op = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.strip_prefix("DynamoDB_20120810."))
        .map(str::to_owned)
        // S3 names no operation in a header: its method stands for it ("S3.PUT").
        .or_else(|| {
            (!parts.headers.contains_key("x-amz-target")).then(|| format!("S3.{}", parts.method))
        });
    if let Some(op) = op {
        let fault = s
            .failing
            .lock()
            .unwrap()
            .as_ref()
            .filter(|(o, _)| *o == op)
            .map(|(_, f)| *f)
            .filter(|_| {
                let mut grace = s.grace.lock().unwrap();
                let through = *grace > 0;
                *grace = grace.saturating_sub(1);
                !through
            });
        if !op.starts_with("S3.") {
            s.calls.lock().unwrap().push(op);
        }
        match fault {
            None => {}
            Some(Fault::Status500) => return dynamodb_error(500, "InternalServerError"),
            Some(Fault::Throttle) => return dynamodb_error(400, "ThrottlingException"),
            Some(Fault::Reset) => return cut(),
            Some(Fault::Stall(secs)) => {
                tokio::time::sleep(std::time::Duration::from_secs(secs)).await;
                return cut();
            }
        }
    }
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    parts.uri = format!("{}{path}", s.upstream).parse().unwrap();
    let bytes = body.collect().await.unwrap().to_bytes();
    match s
        .client
        .request(http::Request::from_parts(parts, Body::from(bytes)))
        .await
    {
        Ok(res) => res.map(Body::new),
        Err(e) => Response::builder()
            .status(502)
            .body(Body::from(e.to_string()))
            .unwrap(),
    }
}

impl CountingProxy {
    /// Starts a proxy to `upstream` (e.g. moto's endpoint) on a free loopback port.
    pub async fn start(upstream: &str) -> Self {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let failing = Arc::new(Mutex::new(None));
        let grace = Arc::new(Mutex::new(0));
        let shared = Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            client: Client::builder(TokioExecutor::new()).build_http(),
            calls: calls.clone(),
            failing: failing.clone(),
            grace: grace.clone(),
        };
        let router = axum::Router::new().fallback(forward).with_state(shared);
        let addr = crate::serve_loopback(router).await;
        Self {
            addr,
            calls,
            failing,
            grace,
        }
    }

    /// Answers every request for DynamoDB operation `op` with a 500 from now on.
    pub fn fail(&self, op: Option<&str>) {
        *self.grace.lock().unwrap() = 0;
        *self.failing.lock().unwrap() = op.map(|o| (o.to_owned(), Fault::Status500));
    }

    /// Answers every request for DynamoDB operation `op` with `fault` from now on.
    pub fn inject(&self, op: &str, fault: Fault) {
        self.inject_after(op, 0, fault);
    }

    /// Lets `through` more requests for `op` reach the emulator, then answers every
    /// later one with `fault`: a failure in the middle of a run.
    pub fn inject_after(&self, op: &str, through: usize, fault: Fault) {
        *self.grace.lock().unwrap() = through;
        *self.failing.lock().unwrap() = Some((op.to_owned(), fault));
    }

    /// The endpoint to give the function instead of moto's.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// DynamoDB operations seen since the last call, and forgets them.
    pub fn take_calls(&self) -> Vec<String> {
        std::mem::take(&mut *self.calls.lock().unwrap())
    }
}
