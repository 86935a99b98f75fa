//! Calling the publish API in process, as `blog serve` and the publish function do.

use blog_core::cdn::outbox::Outbox;
use blog_core::publish::{self, Publisher};
use blog_core::store::{AssetWriter, PostWriter, Posts};
use blog_core::App;
use bytes::Bytes;
use serde_json::Value;

/// The token every test server takes.
pub const TOKEN: &str = "test-publish-token-0123456789-abcdef";

/// A publisher with [`TOKEN`].
pub fn publisher() -> Publisher {
    Publisher {
        token: blog_core::auth::Token::new(TOKEN).unwrap(),
        schedules: blog_core::schedule::NoSchedules,
    }
}

/// An API answer.
#[derive(Debug, Clone)]
pub struct Answer {
    /// Status code.
    pub status: u16,
    /// JSON body.
    pub json: Value,
    /// `ETag`, if any.
    pub etag: Option<String>,
    /// Every header, lower-case names.
    pub headers: http::HeaderMap,
}

impl Answer {
    /// The invalidation paths of a write.
    pub fn paths(&self) -> Vec<String> {
        self.json["invalidation"]["paths"]
            .as_array()
            .map(|a| a.iter().map(|p| p.as_str().unwrap().to_owned()).collect())
            .unwrap_or_default()
    }
}

/// A request: method, path, headers (`authorization` added unless given), body.
pub fn request(
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> http::Request<Bytes> {
    let mut b = http::Request::builder().method(method).uri(path);
    if !headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("authorization"))
    {
        b = b.header("authorization", format!("Bearer {TOKEN}"));
    }
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(body.into()).unwrap()
}

/// Sends one request through the API handler.
pub async fn call<P, A>(app: &App<P, A>, p: &Publisher, req: http::Request<Bytes>) -> Answer
where
    P: Posts + PostWriter + Outbox + blog_core::rerender::RenderLedger,
    A: AssetWriter,
{
    let res = publish::handle(app, p, req).await;
    Answer {
        status: res.status().as_u16(),
        json: serde_json::from_slice(res.body()).unwrap_or(Value::Null),
        etag: res
            .headers()
            .get("etag")
            .map(|v| v.to_str().unwrap().to_owned()),
        headers: res.headers().clone(),
    }
}

/// `POST /api/posts` with a Markdown body.
pub async fn create<P, A>(app: &App<P, A>, p: &Publisher, source: &str) -> Answer
where
    P: Posts + PostWriter + Outbox + blog_core::rerender::RenderLedger,
    A: AssetWriter,
{
    let req = request(
        "POST",
        "/api/posts",
        &[("content-type", "text/markdown")],
        source.to_owned(),
    );
    call(app, p, req).await
}

/// `GET` the post's version, then `PUT` the source at it.
pub async fn update<P, A>(app: &App<P, A>, p: &Publisher, slug: &str, source: &str) -> Answer
where
    P: Posts + PostWriter + Outbox + blog_core::rerender::RenderLedger,
    A: AssetWriter,
{
    let body = Bytes::from(source.to_owned());
    at_current_version(app, p, "PUT", slug, Some("text/markdown"), body).await
}

/// `GET` the post's version, then `DELETE` at it.
pub async fn delete<P, A>(app: &App<P, A>, p: &Publisher, slug: &str) -> Answer
where
    P: Posts + PostWriter + Outbox + blog_core::rerender::RenderLedger,
    A: AssetWriter,
{
    at_current_version(app, p, "DELETE", slug, None, Bytes::new()).await
}

/// `method` on the post at `slug`, with `If-Match` its current `ETag`.
async fn at_current_version<P, A>(
    app: &App<P, A>,
    p: &Publisher,
    method: &str,
    slug: &str,
    content_type: Option<&str>,
    body: Bytes,
) -> Answer
where
    P: Posts + PostWriter + Outbox + blog_core::rerender::RenderLedger,
    A: AssetWriter,
{
    let path = format!("/api/posts/{slug}");
    let tag = current_etag(app, p, &path).await;
    let mut headers = vec![("if-match", tag.as_str())];
    headers.extend(content_type.map(|t| ("content-type", t)));
    call(app, p, request(method, &path, &headers, body)).await
}

/// The `ETag` of the post at `path` (`/api/posts/{slug}`).
async fn current_etag<P, A>(app: &App<P, A>, p: &Publisher, path: &str) -> String
where
    P: Posts + PostWriter + Outbox + blog_core::rerender::RenderLedger,
    A: AssetWriter,
{
    let current = call(app, p, request("GET", path, &[], Bytes::new())).await;
    assert_eq!(current.status, 200, "GET {path}: {}", current.json);
    current.etag.unwrap()
}
