//! The route table and the dispatcher. Each route module turns a request into a
//! [`Reply`] or an [`AppError`]; errors become pages in `http::error_reply` only.

use chrono::{DateTime, Utc};
use http::{Method, StatusCode};

use crate::app::App;
use crate::error::AppError;
use crate::http::{error_reply, finish, Reply, Request, Response};
use crate::post::{post_path, Slug};
use crate::store::{Assets, Posts};

pub mod archive;
pub mod assets;
pub mod feed;
pub mod listing;
pub mod post;
pub mod tags;

/// Every page route the site answers, with its path parameter (still percent-encoded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route<'a> {
    /// `/` and its older pages (`?before=`, `?after=`).
    Home,
    /// `/posts/{slug}/`.
    Post(&'a str),
    /// `/tags/`.
    TagIndex,
    /// `/tags/{tag}/` and its older pages.
    Tag(&'a str),
    /// `/tags/{tag}/feed.xml`.
    TagFeed(&'a str),
    /// `/feed.xml` (Atom).
    Atom,
    /// `/rss.xml` (RSS 2.0).
    Rss,
    /// `/sitemap.xml`.
    Sitemap,
    /// `/robots.txt`.
    Robots,
    /// `/assets/{key}`.
    Asset(&'a str),
    /// `/archive/`: every post, by year.
    Archive,
    /// `/subscribe/`: the feeds, explained.
    Subscribe,
    /// `/favicon.ico`.
    Favicon,
    /// A known page without its trailing slash: redirect to the canonical URL.
    AddSlash,
}

/// The Lambda functions, one per group of routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    /// `/` and its older pages.
    Home,
    /// `/posts/{slug}/`, and the API's default route: it answers every path, so a
    /// request that no other route matched (an alias, a missing slash, an asset when
    /// the API is called without CloudFront, a typo) still gets the right answer.
    /// The archive, the subscribe page and the icon reach it that way.
    Post,
    /// `/tags/` and `/tags/{tag}/`.
    Tags,
    /// Feeds, sitemap and robots.txt.
    Feed,
    /// The publish API under `/api/` (no page routes).
    Publish,
}

impl Function {
    /// Every function.
    pub const ALL: [Function; 5] = [
        Function::Home,
        Function::Post,
        Function::Tags,
        Function::Feed,
        Function::Publish,
    ];

    /// The functions that serve pages: they only read.
    pub const PAGES: [Function; 4] = [
        Function::Home,
        Function::Post,
        Function::Tags,
        Function::Feed,
    ];

    /// The function's name: its crate is `functions/<name>`, its package `blog-<name>`.
    pub fn name(self) -> &'static str {
        match self {
            Function::Home => "home",
            Function::Post => "post",
            Function::Tags => "tags",
            Function::Feed => "feed",
            Function::Publish => "publish",
        }
    }

    /// Whether this function answers route `r`.
    pub fn serves(self, r: &Route<'_>) -> bool {
        self != Function::Publish
            && matches!(
                (self, r),
                (Function::Home, Route::Home)
                    | (Function::Post, _)
                    | (_, Route::AddSlash)
                    | (Function::Tags, Route::TagIndex | Route::Tag(_))
                    | (
                        Function::Feed,
                        Route::Atom
                            | Route::Rss
                            | Route::Sitemap
                            | Route::Robots
                            | Route::TagFeed(_)
                    )
            )
    }
}

/// (API Gateway route key, function): what `template.yaml` and `events/` are checked
/// against. `ANY` so that a wrong method reaches the function and gets 405 with
/// `Allow`; greedy `{x+}` parameters so trailing slashes match.
pub const ROUTES: &[(&str, Function)] = &[
    ("ANY /", Function::Home),
    ("ANY /posts/{slug+}", Function::Post),
    ("ANY /tags", Function::Tags),
    ("ANY /tags/{tag+}", Function::Tags),
    ("ANY /tags/{tag}/feed.xml", Function::Feed),
    ("ANY /feed.xml", Function::Feed),
    ("ANY /rss.xml", Function::Feed),
    ("ANY /sitemap.xml", Function::Feed),
    ("ANY /robots.txt", Function::Feed),
    ("ANY /api/{proxy+}", Function::Publish),
    ("$default", Function::Post),
];

/// The slug a raw (percent-encoded) path segment names, if it is a valid one.
pub fn slug_of(raw: &str) -> Option<Slug> {
    crate::urls::decode(raw).and_then(|s| Slug::parse(&s).ok())
}

/// Whether a path belongs to the publish API.
pub fn is_api(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}

/// Matches a path against the route table. A missing trailing slash is redirected
/// only for a valid slug or tag: anything else (`/posts/%2e%2e`) is not found, and
/// so may still be an alias, instead of a cacheable 301 to another bad path.
pub fn route(path: &str) -> Option<Route<'_>> {
    let segments: Vec<&str> = path.strip_prefix('/')?.split('/').collect();
    let r = match segments.as_slice() {
        [""] => Route::Home,
        ["feed.xml"] => Route::Atom,
        ["rss.xml"] => Route::Rss,
        ["sitemap.xml"] => Route::Sitemap,
        ["robots.txt"] => Route::Robots,
        ["favicon.ico"] => Route::Favicon,
        ["archive", ""] => Route::Archive,
        ["subscribe", ""] => Route::Subscribe,
        ["archive" | "subscribe"] => Route::AddSlash,
        ["posts", slug, ""] if !slug.is_empty() => Route::Post(slug),
        ["posts", slug] if slug_of(slug).is_some() => Route::AddSlash,
        ["tags", ""] => Route::TagIndex,
        ["tags"] => Route::AddSlash,
        ["tags", tag, ""] if !tag.is_empty() => Route::Tag(tag),
        ["tags", tag] if tags::parse_tag(tag).is_ok() => Route::AddSlash,
        ["tags", tag, "feed.xml"] if !tag.is_empty() => Route::TagFeed(tag),
        // `/assets` alone has no key (slicing it as `/assets/…` panicked: found
        // by fuzzing, kept in the table test below).
        ["assets", _, ..] => Route::Asset(path.strip_prefix("/assets/")?),
        _ => return None,
    };
    Some(r)
}

/// The slug whose page `path` is (`/posts/{slug}/`), if it is one.
pub fn page_slug(path: &str) -> Option<Slug> {
    match route(path)? {
        Route::Post(raw) => slug_of(raw),
        _ => None,
    }
}

/// What the site itself serves at `path` (canonical, percent-encoded), when that
/// is not a post's page: an alias there would hijack the page or never be reached.
/// Post pages are free only while no post has that slug, which the writer checks.
pub fn reserved(path: &str) -> Option<&'static str> {
    if is_api(path) {
        return Some("the publish API");
    }
    Some(match route(path)? {
        Route::Post(_) => return None,
        Route::Home => "the home page",
        Route::TagIndex | Route::Tag(_) => "a tag page",
        Route::TagFeed(_) | Route::Atom | Route::Rss => "a feed",
        Route::Sitemap => "the sitemap",
        Route::Robots => "robots.txt",
        Route::Asset(_) => "an asset (CloudFront sends /assets/ to S3)",
        Route::Archive => "the archive",
        Route::Subscribe => "the subscribe page",
        Route::Favicon => "the site icon",
        Route::AddSlash => "redirected by the site to the same path with a trailing slash",
    })
}

/// Answers a page request. `function`: the function answering, which serves
/// only its routes (any other path is not found there, and may still be an
/// alias); `None` serves every route (the local server).
pub async fn handle<P: Posts, A: Assets>(
    app: &App<P, A>,
    function: Option<Function>,
    req: Request,
) -> Response {
    let reply = reply(app, &req, function, Utc::now()).await;
    finish(&app.config, app.templates.csp(), &req, reply)
}

/// The reply to a page request as of `now`, before the headers every response
/// shares and the conditional-request handling (`http::finish`): what a cache
/// may keep. With `function`, only that function's routes are served.
pub async fn reply<P: Posts, A: Assets>(
    app: &App<P, A>,
    req: &Request,
    function: Option<Function>,
    now: DateTime<Utc>,
) -> Reply {
    let path = req.uri().path();
    let result = match route(path).filter(|r| function.is_none_or(|f| f.serves(r))) {
        Some(r) => serve(app, req, r, now).await,
        None => Err(AppError::NotFound {
            path: path.to_owned(),
        }),
    };
    resolve(app, req, result).await
}

/// Runs one route, after the method check every page route shares.
pub async fn serve<P: Posts, A: Assets>(
    app: &App<P, A>,
    req: &Request,
    r: Route<'_>,
    now: DateTime<Utc>,
) -> Result<Reply, AppError> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return Err(AppError::MethodNotAllowed {
            method: req.method().to_string(),
            allow: "GET, HEAD",
        });
    }
    let query = req.uri().query();
    match r {
        Route::Home => listing::get(app, None, query, now).await,
        Route::Tag(tag) => listing::get(app, Some(tags::parse_tag(tag)?), query, now).await,
        Route::Post(slug) => post::get(app, slug, now).await,
        Route::TagIndex => tags::index(app, now).await,
        Route::TagFeed(tag) => feed::atom(app, Some(tags::parse_tag(tag)?), now).await,
        Route::Atom => feed::atom(app, None, now).await,
        Route::Rss => feed::rss(app, now).await,
        Route::Sitemap => feed::sitemap(app, now).await,
        Route::Robots => feed::robots(app),
        Route::Asset(key) => assets::get(app, key).await,
        Route::Archive => archive::get(app, now).await,
        Route::Subscribe => archive::subscribe(app),
        Route::Favicon => Ok(Reply::ok(
            "image/x-icon",
            crate::render::FAVICON_ICO,
            crate::http::Caching::Asset,
        )),
        Route::AddSlash => {
            let mut location = format!("{}/", req.uri().path());
            if let Some(q) = query {
                location = format!("{location}?{q}");
            }
            Ok(Reply::redirect(StatusCode::MOVED_PERMANENTLY, location))
        }
    }
}

/// Turns a route's result into a reply: a 404 first gets a chance to be an alias
/// (an old URL of a post), then errors become pages.
async fn resolve<P: Posts, A: Assets>(
    app: &App<P, A>,
    req: &Request,
    result: Result<Reply, AppError>,
) -> Reply {
    let path = req.uri().path();
    match result {
        Ok(reply) => reply,
        Err(AppError::NotFound { .. }) if matches!(*req.method(), Method::GET | Method::HEAD) => {
            // Aliases are stored in one spelling (`urls::canonical_path`); a path
            // that has none (not UTF-8, a '..' segment) is no alias.
            let lookup = match crate::urls::canonical_path(path) {
                Ok(canonical) => app.posts.alias(&canonical).await,
                Err(_) => Ok(None),
            };
            match lookup {
                Ok(Some(slug)) => Reply::redirect(StatusCode::MOVED_PERMANENTLY, post_path(&slug)),
                Ok(None) => error_reply(
                    &app.templates,
                    path,
                    &AppError::NotFound {
                        path: path.to_owned(),
                    },
                ),
                Err(e) => error_reply(&app.templates, path, &e.into()),
            }
        }
        Err(e) => error_reply(&app.templates, path, &e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_route_table() {
        let cases = [
            ("/", Some(Route::Home)),
            ("/posts/hello/", Some(Route::Post("hello"))),
            ("/posts/hello", Some(Route::AddSlash)),
            ("/posts/%2e%2e", None),
            ("/posts/Hello", None),
            ("/tags/a%2Fb", None),
            ("/posts/", None),
            ("/tags/", Some(Route::TagIndex)),
            ("/tags", Some(Route::AddSlash)),
            ("/tags/web%20dev/", Some(Route::Tag("web%20dev"))),
            ("/tags/rust", Some(Route::AddSlash)),
            ("/tags/rust/feed.xml", Some(Route::TagFeed("rust"))),
            ("/feed.xml", Some(Route::Atom)),
            ("/rss.xml", Some(Route::Rss)),
            ("/sitemap.xml", Some(Route::Sitemap)),
            ("/robots.txt", Some(Route::Robots)),
            ("/favicon.ico", Some(Route::Favicon)),
            ("/archive/", Some(Route::Archive)),
            ("/archive", Some(Route::AddSlash)),
            ("/subscribe/", Some(Route::Subscribe)),
            ("/subscribe", Some(Route::AddSlash)),
            ("/archive/2024/", None),
            ("/assets/img/a.png", Some(Route::Asset("img/a.png"))),
            ("/assets", None),
            ("/assets/", Some(Route::Asset(""))),
            ("/nope", None),
            ("/posts/a/b/", None),
            ("", None),
        ];
        for (path, want) in cases {
            assert_eq!(route(path), want, "{path}");
        }
    }

    #[test]
    fn reserved_paths() {
        for path in [
            "/",
            "/feed.xml",
            "/rss.xml",
            "/sitemap.xml",
            "/robots.txt",
            "/api",
            "/api/posts",
            "/tags",
            "/tags/",
            "/tags/rust/",
            "/tags/rust/feed.xml",
            "/assets/a.png",
            "/posts/hello",
            "/archive/",
            "/subscribe/",
            "/favicon.ico",
        ] {
            assert!(reserved(path).is_some(), "{path}");
        }
        for path in [
            "/posts/hello/",
            "/post/hello/",
            "/2024/05/01/x.html",
            "/posts/Old/",
            "/feed",
        ] {
            assert_eq!(reserved(path), None, "{path}");
        }
    }
}
