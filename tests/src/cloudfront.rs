//! A CloudFront stand-in that enforces the invalidation quota moto does not. From
//! the CloudFront Developer Guide ("Concurrent invalidation request maximum"): a
//! distribution may have at most 15 wildcard paths and 3,000 file paths in
//! progress at once; a CreateInvalidation beyond that fails with
//! `TooManyInvalidationsInProgress` (HTTP 400, the error shape below). Here each
//! invalidation stays in progress for a configurable time. A repeated
//! `CallerReference` with the same paths gets the first answer again without
//! counting twice, as CloudFront does; with other paths,
//! `InvalidationBatchAlreadyExists`. Everything else (and every accepted
//! invalidation) goes on to the emulator behind it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use http_body_util::BodyExt;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// The documented quota.
pub const MAX_WILDCARDS_IN_PROGRESS: usize = 15;
/// The documented quota.
pub const MAX_FILES_IN_PROGRESS: usize = 3000;

/// What the stand-in saw.
#[derive(Debug, Default, Clone)]
pub struct Record {
    /// CreateInvalidation requests received.
    pub calls: usize,
    /// Refused with `TooManyInvalidationsInProgress`.
    pub refused: usize,
    /// Accepted batches, in order, each as sent, with when.
    pub accepted: Vec<(Instant, Vec<String>)>,
}

struct InProgress {
    until: Instant,
    wildcards: usize,
    files: usize,
}

#[derive(Default)]
struct Quota {
    in_progress: Vec<InProgress>,
    /// Caller reference → (paths, the answer given).
    answered: HashMap<String, (Vec<String>, u16, bytes::Bytes, Option<String>)>,
    record: Record,
}

#[derive(Clone)]
struct Shared {
    upstream: String,
    client: Client<HttpConnector, Body>,
    busy_for: Duration,
    quota: Arc<Mutex<Quota>>,
}

/// A running stand-in.
pub struct QuotaCloudFront {
    addr: std::net::SocketAddr,
    quota: Arc<Mutex<Quota>>,
}

/// The text of every `<tag>…</tag>` in `xml`, entities decoded.
fn elements(xml: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        let Some(end) = after.find(&close) else { break };
        out.push(
            after[..end]
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&apos;", "'")
                .replace("&amp;", "&"),
        );
        rest = &after[end + close.len()..];
    }
    out
}

/// CloudFront's error document.
fn error(status: u16, code: &str, message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\"?>\n<ErrorResponse xmlns=\"http://cloudfront.amazonaws.com/doc/2020-05-31/\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>stand-in</RequestId></ErrorResponse>"
    );
    Response::builder()
        .status(status)
        .header("content-type", "text/xml")
        .header("x-amzn-requestid", "stand-in")
        .body(Body::from(body))
        .unwrap()
}

async fn handle(State(s): State<Shared>, req: Request) -> Response {
    let is_create = req.method() == http::Method::POST
        && req.uri().path().starts_with("/2020-05-31/distribution/")
        && req.uri().path().ends_with("/invalidation");
    if !is_create {
        return crate::router::forward(&s.client, &s.upstream, req).await;
    }
    let (parts, body) = req.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    let xml = String::from_utf8_lossy(&bytes).into_owned();
    let paths = elements(&xml, "Path");
    let reference = elements(&xml, "CallerReference").pop().unwrap_or_default();
    let wildcards = paths.iter().filter(|p| p.ends_with('*')).count();
    let files = paths.len() - wildcards;
    {
        let mut q = s.quota.lock().unwrap();
        q.record.calls += 1;
        if let Some((seen, status, body, location)) = q.answered.get(&reference).cloned() {
            if seen != paths {
                return error(
                    409,
                    "InvalidationBatchAlreadyExists",
                    "The caller reference was already used for another batch.",
                );
            }
            let mut res = Response::builder()
                .status(status)
                .header("content-type", "text/xml");
            if let Some(l) = location {
                res = res.header("location", l);
            }
            return res.body(Body::from(body)).unwrap();
        }
        let now = Instant::now();
        q.in_progress.retain(|i| i.until > now);
        let busy_wildcards: usize = q.in_progress.iter().map(|i| i.wildcards).sum();
        let busy_files: usize = q.in_progress.iter().map(|i| i.files).sum();
        if busy_wildcards + wildcards > MAX_WILDCARDS_IN_PROGRESS
            || busy_files + files > MAX_FILES_IN_PROGRESS
        {
            q.record.refused += 1;
            return error(
                400,
                "TooManyInvalidationsInProgress",
                "Processing your request will cause you to exceed the maximum number of in-progress wildcard invalidations.",
            );
        }
        q.in_progress.push(InProgress {
            until: now + s.busy_for,
            wildcards,
            files,
        });
    }
    let req = http::Request::from_parts(parts, Body::from(bytes));
    let res = crate::router::forward(&s.client, &s.upstream, req).await;
    let (head, body) = res.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    let mut q = s.quota.lock().unwrap();
    if head.status.is_success() {
        q.record.accepted.push((Instant::now(), paths.clone()));
        let location = head
            .headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        q.answered.insert(
            reference,
            (paths, head.status.as_u16(), body.clone(), location),
        );
    } else {
        // Not accepted after all: it is not in progress.
        q.in_progress.pop();
    }
    Response::from_parts(head, Body::from(body))
}

impl QuotaCloudFront {
    /// Starts a stand-in in front of `upstream` in which each invalidation stays in
    /// progress for `busy_for`.
    pub async fn start(upstream: &str, busy_for: Duration) -> Self {
        let quota = Arc::new(Mutex::new(Quota::default()));
        let shared = Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            client: Client::builder(TokioExecutor::new()).build_http(),
            busy_for,
            quota: quota.clone(),
        };
        let app = axum::Router::new().fallback(handle).with_state(shared);
        let addr = crate::serve_loopback(app).await;
        Self { addr, quota }
    }

    /// The endpoint to give CloudFront clients (`AWS_ENDPOINT_URL_CLOUDFRONT`).
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// What it saw so far.
    pub fn record(&self) -> Record {
        self.quota.lock().unwrap().record.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_are_read_and_decoded() {
        let xml = "<InvalidationBatch><Paths><Quantity>2</Quantity><Items><Path>/a&amp;b/</Path><Path>/?*</Path></Items></Paths><CallerReference>r-1</CallerReference></InvalidationBatch>";
        assert_eq!(elements(xml, "Path"), ["/a&b/", "/?*"]);
        assert_eq!(elements(xml, "CallerReference"), ["r-1"]);
    }
}
