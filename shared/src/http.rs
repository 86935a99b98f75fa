//! From route results to HTTP responses: caching headers, strong ETags and 304s,
//! HEAD, security headers, and the one place where errors become status codes.

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Method, StatusCode};

use crate::config::Config;
use crate::error::{AppError, StoreError};
use crate::render::{PageMeta, Templates};

/// A request as handlers see it (Lambda events and local requests both become this).
pub type Request = http::Request<Bytes>;
/// A response as handlers produce it.
pub type Response = http::Response<Bytes>;

/// How long caches may keep a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caching {
    /// Pages and feeds: long at the CDN (publish invalidates), short in browsers.
    Page,
    /// Files under `/assets/` whose name may be reused for new bytes.
    Asset,
    /// Files under `/assets/` named by their content (`store::is_content_addressed`).
    Immutable,
    /// Errors and temporary redirects: a minute everywhere.
    Short,
    /// Never stored (server errors).
    NoStore,
}

/// What a route produces, before the common headers are added.
#[derive(Debug, Clone)]
pub struct Reply {
    /// Status code.
    pub status: StatusCode,
    /// `Content-Type`.
    pub content_type: String,
    /// The full body (stripped later for HEAD and 304).
    pub body: Bytes,
    /// Cache lifetime class.
    pub caching: Caching,
    /// `Location`, for redirects.
    pub location: Option<String>,
    /// `Allow`, for 405.
    pub allow: Option<&'static str>,
}

impl Reply {
    /// A 200 response with this type and body.
    pub fn ok(content_type: impl Into<String>, body: impl Into<Bytes>, caching: Caching) -> Self {
        Self {
            status: StatusCode::OK,
            content_type: content_type.into(),
            body: body.into(),
            caching,
            location: None,
            allow: None,
        }
    }

    /// A 200 HTML page.
    pub fn html(body: String) -> Self {
        Self::ok("text/html; charset=utf-8", body, Caching::Page)
    }

    /// A redirect: 301 for moved content, 302 for "the newest page is elsewhere".
    pub fn redirect(status: StatusCode, location: String) -> Self {
        let caching = if status == StatusCode::MOVED_PERMANENTLY {
            Caching::Page
        } else {
            Caching::Short
        };
        Self {
            status,
            content_type: "text/plain; charset=utf-8".into(),
            body: Bytes::from(format!("Moved to {location}\n")),
            caching,
            location: Some(location),
            allow: None,
        }
    }
}

/// A strong validator for `body`: a 128-bit content hash.
pub fn etag(body: &[u8]) -> String {
    format!("\"{:032x}\"", xxhash_rust::xxh3::xxh3_128(body))
}

/// Whether an `If-None-Match` header value matches `tag`.
fn none_match(header: &str, tag: &str) -> bool {
    header
        .split(',')
        .map(str::trim)
        .any(|t| t == "*" || t == tag || t.strip_prefix("W/") == Some(tag))
}

/// How long a cache may keep serving a page past its lifetime while it fetches a new
/// copy, and while the origin fails (500, 502, 503, 504 or a timeout). CloudFront
/// honours both (Developer Guide, "Manage how long content stays in the cache
/// (expiration)"). An invalidated page is removed from the edge caches, not marked
/// stale, so invalidation stays exact: only pages nothing changed are served stale.
pub const STALE_WHILE_REVALIDATE_SECS: u32 = 60;
/// A day: a DynamoDB outage of up to a day past a page's `s-maxage` is invisible
/// to readers of pages the CDN has held before.
pub const STALE_IF_ERROR_SECS: u32 = 86_400;

/// Seconds a client is asked to wait after a 503 (storage unavailable).
pub const RETRY_AFTER_SECS: u32 = 5;

/// The policy for `/assets/*`, the same as the one the CDN adds to files it serves
/// from S3 (`SecurityHeadersPolicy` in template.yaml; a test compares them), so an
/// SVG opened on its own renders alike locally and deployed.
pub const ASSET_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Asks the client to come back later when `status` is 503 (pages and the API alike).
pub fn add_retry_after(headers: &mut header::HeaderMap, status: StatusCode) {
    if status == StatusCode::SERVICE_UNAVAILABLE {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
    }
}

fn cache_control(config: &Config, caching: Caching) -> String {
    match caching {
        Caching::Page => format!(
            "public, max-age={}, s-maxage={}, stale-while-revalidate={STALE_WHILE_REVALIDATE_SECS}, stale-if-error={STALE_IF_ERROR_SECS}",
            config.browser_max_age, config.cdn_max_age
        ),
        Caching::Asset => "public, max-age=86400, s-maxage=31536000".to_owned(),
        Caching::Immutable => "public, max-age=31536000, immutable".to_owned(),
        Caching::Short => "public, max-age=60".to_owned(),
        Caching::NoStore => "no-store".to_owned(),
    }
}

/// Adds the common headers, answers conditional requests with 304, and drops the
/// body for HEAD.
pub fn finish(config: &Config, csp: &str, req: &Request, reply: Reply) -> Response {
    let mut res = http::Response::new(Bytes::new());
    *res.status_mut() = reply.status;
    let h = res.headers_mut();
    let mut put = |name: header::HeaderName, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(name, v);
        }
    };
    put(header::CONTENT_TYPE, &reply.content_type);
    put(header::CACHE_CONTROL, &cache_control(config, reply.caching));
    let csp = if matches!(reply.caching, Caching::Asset | Caching::Immutable) {
        ASSET_CSP
    } else {
        csp
    };
    put(header::CONTENT_SECURITY_POLICY, csp);
    put(
        header::STRICT_TRANSPORT_SECURITY,
        "max-age=63072000; includeSubDomains",
    );
    put(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    put(header::REFERRER_POLICY, "strict-origin-when-cross-origin");
    put(header::X_FRAME_OPTIONS, "DENY");
    if let Some(location) = &reply.location {
        put(header::LOCATION, location);
    }
    if let Some(allow) = reply.allow {
        put(header::ALLOW, allow);
    }
    let mut body = reply.body;
    if reply.status == StatusCode::OK {
        let tag = etag(&body);
        put(header::ETAG, &tag);
        let matches = req
            .headers()
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| none_match(v, &tag));
        if matches {
            *res.status_mut() = StatusCode::NOT_MODIFIED;
            res.headers_mut().remove(header::CONTENT_TYPE);
            return res;
        }
    }
    add_retry_after(res.headers_mut(), reply.status);
    res.headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    if req.method() == Method::HEAD {
        body = Bytes::new();
    }
    *res.body_mut() = body;
    res
}

/// An error as the client sees it: status, a short heading, and what to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The status code.
    pub status: StatusCode,
    /// A short title.
    pub heading: &'static str,
    /// What went wrong and what to do, safe to show (never a secret or a cause).
    pub message: String,
}

/// The only mapping from error to status. 4xx messages say what to fix; 5xx
/// messages are generic and the cause goes to the log.
pub fn problem(path: &str, err: &AppError) -> Problem {
    let (status, heading, message) = match err {
        AppError::NotFound { .. } => (
            StatusCode::NOT_FOUND,
            "Page not found",
            format!("There is no page at {path}. It may have moved, or the link may be mistyped."),
        ),
        AppError::MethodNotAllowed { method, allow } => (
            StatusCode::METHOD_NOT_ALLOWED,
            "Method not allowed",
            format!("{path} does not accept {method} requests; it accepts {allow}."),
        ),
        AppError::BadRequest(why) => (StatusCode::BAD_REQUEST, "Bad request", why.clone()),
        AppError::Input(e) => (StatusCode::BAD_REQUEST, "Invalid post", e.to_string()),
        AppError::Unauthorized => (
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "Send the publish token as \"Authorization: Bearer <token>\".".to_owned(),
        ),
        AppError::PreconditionRequired(why) => (
            StatusCode::PRECONDITION_REQUIRED,
            "Precondition required",
            why.clone(),
        ),
        AppError::TooLarge(why) => (StatusCode::PAYLOAD_TOO_LARGE, "Too large", why.clone()),
        AppError::UnsupportedMediaType(why) => (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported media type",
            why.clone(),
        ),
        AppError::Store(StoreError::Unavailable { context, .. }) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "Temporarily unavailable",
            format!("The blog cannot reach its storage right now ({context}); nothing was changed. Please try again in a minute."),
        ),
        AppError::Store(StoreError::Conflict(why)) => {
            (StatusCode::CONFLICT, "Conflict", why.clone())
        }
        AppError::Store(StoreError::Stale(why)) => (
            StatusCode::PRECONDITION_FAILED,
            "Precondition failed",
            format!("{why}: fetch it again and reapply your edit"),
        ),
        AppError::Store(e @ StoreError::TooLarge { .. }) => {
            (StatusCode::PAYLOAD_TOO_LARGE, "Too large", e.to_string())
        }
        AppError::Store(StoreError::Corrupt(_)) | AppError::Render(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong",
            "Something went wrong on our side. It has been logged; please try again later."
                .to_owned(),
        ),
    };
    if status.is_server_error() {
        tracing::error!(error = %err, source = ?std::error::Error::source(err), %path, "request failed");
    }
    Problem {
        status,
        heading,
        message,
    }
}

/// An error as an HTML page.
pub fn error_reply(templates: &Templates, path: &str, err: &AppError) -> Reply {
    let Problem {
        status,
        heading,
        message,
    } = problem(path, err);
    let meta = PageMeta {
        title: heading.to_owned(),
        description: message.clone(),
        og_type: "website",
        noindex: true,
        ..PageMeta::default()
    };
    let ctx = minijinja::context! { page => meta, heading => heading, message => message };
    let body = templates.render("error.html", ctx).unwrap_or_else(|e| {
        tracing::error!(error = %e, "error page failed to render");
        format!("{heading}\n")
    });
    Reply {
        status,
        content_type: "text/html; charset=utf-8".into(),
        body: body.into(),
        caching: if status.is_server_error() {
            Caching::NoStore
        } else {
            Caching::Short
        },
        location: None,
        allow: match err {
            AppError::MethodNotAllowed { allow, .. } => Some(allow),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(headers: &[(&str, &str)], method: Method) -> Request {
        let mut b = http::Request::builder().method(method).uri("/x");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(Bytes::new()).unwrap()
    }

    #[test]
    fn etag_304_and_head() {
        let c = Config::for_test();
        let page = || Reply::html("<p>hi</p>".into());
        let res = finish(&c, "csp", &get(&[], Method::GET), page());
        let tag = res.headers()["etag"].to_str().unwrap().to_owned();
        assert_eq!(tag, etag(b"<p>hi</p>"));
        assert_eq!(
            res.headers()["cache-control"],
            "public, max-age=300, s-maxage=86400, stale-while-revalidate=60, stale-if-error=86400"
        );
        assert_eq!(res.body().as_ref(), b"<p>hi</p>");

        for inm in [
            tag.as_str(),
            &format!("\"other\", {tag}"),
            "*",
            &format!("W/{tag}"),
        ] {
            let res = finish(
                &c,
                "csp",
                &get(&[("if-none-match", inm)], Method::GET),
                page(),
            );
            assert_eq!(res.status(), StatusCode::NOT_MODIFIED, "{inm}");
            assert!(res.body().is_empty());
            assert_eq!(res.headers()["etag"], tag.as_str());
        }
        let res = finish(
            &c,
            "csp",
            &get(&[("if-none-match", "\"stale\"")], Method::GET),
            page(),
        );
        assert_eq!(res.status(), StatusCode::OK);

        let res = finish(&c, "csp", &get(&[], Method::HEAD), page());
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.body().is_empty());
        assert_eq!(res.headers()["content-length"], "9");
    }

    #[test]
    fn security_headers_on_every_response() {
        let c = Config::for_test();
        let res = finish(
            &c,
            "default-src 'none'",
            &get(&[], Method::GET),
            Reply::redirect(StatusCode::FOUND, "/".into()),
        );
        for h in [
            "content-security-policy",
            "strict-transport-security",
            "x-content-type-options",
            "referrer-policy",
            "x-frame-options",
        ] {
            assert!(res.headers().contains_key(h), "{h}");
        }
        assert_eq!(res.headers()["location"], "/");
        assert!(
            !res.headers().contains_key("etag"),
            "no validator on redirects"
        );
    }
}
