//! The publish API under `/api/`: JSON in and out, `Authorization: Bearer <token>`
//! on every request. Served by the `publish` function and by `blog serve` alike.
//!
//! | route | methods |
//! |---|---|
//! | `/api/posts` | `GET` (every post, drafts included), `POST` (create) |
//! | `/api/posts/{slug}` | `GET` (source, version, ETag), `PUT` and `DELETE` (with `If-Match`) |
//! | `/api/assets` | `GET` (every key served and every original kept) |
//! | `/api/assets?name=` | `POST` (an image, up to [`assets::MAX_ASSET_BYTES`]) |
//! | `/api/assets/files/{assets,originals}/{key}` | `GET` (a download URL or the bytes), `PUT` (put back at that key: an export's import) |
//! | `/api/assets/uploads` | `POST` (a presigned upload for larger files) |
//! | `/api/assets/process` | `POST` (a presigned upload, once sent, made into an image set) |
//! | `/api/invalidations` | `GET` (queued, held and recently sent invalidations) |
//! | `/api/invalidations/hold` | `POST` (hold the queue, `?seconds=`), `DELETE` (release it) |
//! | `/api/rerender` | `GET` (the renderer versions, posts an older one made), `POST` (re-render them now) |

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Method, StatusCode};
use serde::Serialize;
use serde_json::Value;

use crate::app::App;
use crate::auth::Token;
use crate::cdn::outbox::Outbox;
use crate::error::AppError;
use crate::http::{problem, Request, Response};
use crate::schedule::{NoSchedules, Schedules};
use crate::store::{AssetWriter, PostWriter, Posts};

pub mod assets;
pub mod files;
pub mod invalidations;
pub mod posts;
pub mod replies;
pub mod rerender;

/// What the API adds to the app: the token it checks and where scheduled posts'
/// schedules go. (Invalidations go through the store's outbox, written with each
/// post.)
#[derive(Debug)]
pub struct Publisher<S = NoSchedules> {
    /// The publish token.
    pub token: Token,
    /// Scheduled posts' schedules.
    pub schedules: S,
}

/// The API's routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiRoute<'a> {
    /// `/api/posts`.
    Posts,
    /// `/api/posts/{slug}` (not yet validated).
    Post(&'a str),
    /// `/api/assets`.
    Assets,
    /// `/api/assets/uploads`.
    Uploads,
    /// `/api/assets/process`.
    Process,
    /// `/api/assets/files/{area}/{key}` (not yet validated).
    File(&'a str, &'a str),
    /// `/api/invalidations`.
    Invalidations,
    /// `/api/invalidations/hold`.
    Hold,
    /// `/api/rerender`.
    Rerender,
}

/// Matches a path under `/api/`.
pub fn api_route(path: &str) -> Option<ApiRoute<'_>> {
    let rest = path.strip_prefix("/api/")?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if let Some(file) = rest.strip_prefix("assets/files/") {
        let (area, key) = file.split_once('/')?;
        return Some(ApiRoute::File(area, key));
    }
    Some(match rest.split('/').collect::<Vec<_>>().as_slice() {
        ["posts"] => ApiRoute::Posts,
        ["posts", slug] if !slug.is_empty() => ApiRoute::Post(slug),
        ["assets"] => ApiRoute::Assets,
        ["assets", "uploads"] => ApiRoute::Uploads,
        ["assets", "process"] => ApiRoute::Process,
        ["invalidations"] => ApiRoute::Invalidations,
        ["invalidations", "hold"] => ApiRoute::Hold,
        ["rerender"] => ApiRoute::Rerender,
        _ => return None,
    })
}

/// A successful API answer.
#[derive(Debug)]
pub struct Answer {
    /// Status code.
    pub status: StatusCode,
    /// JSON body.
    pub body: Value,
    /// `ETag`, when the answer is one post version.
    pub etag: Option<String>,
    /// `Location`, for a create.
    pub location: Option<String>,
}

impl Answer {
    /// A 200 with `body` as JSON.
    fn ok(body: &impl Serialize) -> Self {
        Self {
            status: StatusCode::OK,
            body: to_json(body),
            etag: None,
            location: None,
        }
    }
}

/// The replies are plain structs of strings, numbers and lists: encoding them
/// cannot fail, but if it ever did the client gets `null`, never a panic.
fn to_json(body: &impl Serialize) -> Value {
    serde_json::to_value(body).unwrap_or_else(|e| {
        tracing::error!(error = %e, "cannot encode an API reply");
        Value::Null
    })
}

/// Answers one API request.
pub async fn handle<P, A, S>(app: &App<P, A>, publisher: &Publisher<S>, req: Request) -> Response
where
    P: Posts + PostWriter + Outbox + crate::rerender::RenderLedger,
    A: AssetWriter,
    S: Schedules,
{
    let path = req.uri().path().to_owned();
    let authorized = publisher.token.accepts(
        req.headers()
            .get(header::AUTHORIZATION)
            .map(HeaderValue::as_bytes),
    );
    let result = if !authorized {
        // Log the refusal, never the header.
        tracing::warn!(method = %req.method(), %path, "publish API: missing or wrong token");
        Err(AppError::Unauthorized)
    } else {
        dispatch(app, &publisher.schedules, &req).await
    };
    match result {
        Ok(answer) => respond(answer),
        Err(err) => error_response(&path, &err),
    }
}

async fn dispatch<P, A, S>(
    app: &App<P, A>,
    schedules: &S,
    req: &Request,
) -> Result<Answer, AppError>
where
    P: Posts + PostWriter + Outbox + crate::rerender::RenderLedger,
    A: AssetWriter,
    S: Schedules,
{
    let path = req.uri().path();
    let Some(route) = api_route(path) else {
        return Err(AppError::NotFound {
            path: path.to_owned(),
        });
    };
    let method = req.method();
    match (route, method) {
        (ApiRoute::Posts, &Method::GET) => posts::index(app).await,
        (ApiRoute::Posts, &Method::POST) => posts::create(app, schedules, req).await,
        (ApiRoute::Post(slug), &Method::GET) => posts::get(app, slug).await,
        (ApiRoute::Post(slug), &Method::PUT) => posts::update(app, schedules, slug, req).await,
        (ApiRoute::Post(slug), &Method::DELETE) => posts::delete(app, schedules, slug, req).await,
        (ApiRoute::Assets, &Method::GET) => files::list(app).await,
        (ApiRoute::Assets, &Method::POST) => assets::upload(app, req).await,
        (ApiRoute::File(area, key), &Method::GET) => files::fetch(app, area, key).await,
        (ApiRoute::File(area, key), &Method::PUT) => files::restore(app, area, key, req).await,
        (ApiRoute::Uploads, &Method::POST) => assets::presign(app, req).await,
        (ApiRoute::Process, &Method::POST) => assets::process(app, req).await,
        (ApiRoute::Invalidations, &Method::GET) => invalidations::show(app).await,
        (ApiRoute::Hold, &Method::POST) => invalidations::hold(app, req).await,
        (ApiRoute::Hold, &Method::DELETE) => invalidations::release(app).await,
        (ApiRoute::Rerender, &Method::GET) => rerender::show(app).await,
        (ApiRoute::Rerender, &Method::POST) => rerender::run(app).await,
        (r, m) => Err(AppError::MethodNotAllowed {
            method: m.to_string(),
            allow: match r {
                ApiRoute::Posts => "GET, POST",
                ApiRoute::Post(_) => "GET, PUT, DELETE",
                ApiRoute::Assets => "GET, POST",
                ApiRoute::File(..) => "GET, PUT",
                ApiRoute::Uploads | ApiRoute::Process => "POST",
                ApiRoute::Invalidations => "GET",
                ApiRoute::Hold => "POST, DELETE",
                ApiRoute::Rerender => "GET, POST",
            },
        }),
    }
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut res = http::Response::new(Bytes::from(format!("{body:#}\n")));
    *res.status_mut() = status;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
    );
    res
}

fn respond(answer: Answer) -> Response {
    let mut res = json_response(answer.status, &answer.body);
    let h = res.headers_mut();
    for (name, value) in [
        (header::ETAG, answer.etag),
        (header::LOCATION, answer.location),
    ] {
        if let Some(v) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
            h.insert(name, v);
        }
    }
    res
}

/// An error as JSON: the status and message from the one mapping in `http`, plus
/// the field and line when the author's input is at fault.
pub fn error_response(path: &str, err: &AppError) -> Response {
    let p = problem(path, err);
    let at = match err {
        AppError::Input(e) => Some(replies::InputAt {
            field: e.field.clone(),
            line: e.line,
        }),
        _ => None,
    };
    let body = replies::ErrorReply {
        error: p.heading,
        message: p.message,
        status: p.status.as_u16(),
        at,
    };
    let mut res = json_response(p.status, &to_json(&body));
    let h = res.headers_mut();
    match err {
        AppError::Unauthorized => {
            h.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"blog publish API\""),
            );
        }
        AppError::MethodNotAllowed { allow, .. } => {
            h.insert(header::ALLOW, HeaderValue::from_static(allow));
        }
        _ => {}
    }
    crate::http::add_retry_after(res.headers_mut(), p.status);
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_routes() {
        assert_eq!(api_route("/api/posts"), Some(ApiRoute::Posts));
        assert_eq!(api_route("/api/posts/"), Some(ApiRoute::Posts));
        assert_eq!(api_route("/api/posts/a-b"), Some(ApiRoute::Post("a-b")));
        assert_eq!(api_route("/api/assets"), Some(ApiRoute::Assets));
        assert_eq!(api_route("/api/assets/uploads"), Some(ApiRoute::Uploads));
        assert_eq!(api_route("/api/assets/process"), Some(ApiRoute::Process));
        assert_eq!(
            api_route("/api/assets/files/assets/photo-ab/480x360.avif"),
            Some(ApiRoute::File("assets", "photo-ab/480x360.avif"))
        );
        assert_eq!(api_route("/api/assets/files/originals"), None);
        assert_eq!(
            api_route("/api/invalidations"),
            Some(ApiRoute::Invalidations)
        );
        assert_eq!(api_route("/api/invalidations/hold"), Some(ApiRoute::Hold));
        for none in [
            "/api/",
            "/api/nope",
            "/api/posts/a/b",
            "/posts/a/",
            "/api/posts//",
        ] {
            assert_eq!(api_route(none), None, "{none}");
        }
    }
}
