//! End to end: the real `blog` binary serving a copy of the sample content on a free
//! port, fetched over HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use std::path::Path;

use blog_e2e::serve::BlogServe;
use blog_test_support::content::copy_dir;
use tempfile::TempDir;

/// A `blog serve` of a copy of the sample content.
struct Server {
    _serve: BlogServe,
    base: String,
    content: TempDir,
}

fn start() -> Server {
    let content = TempDir::new().unwrap();
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../content"),
        content.path(),
    );
    let serve = BlogServe::start(
        Path::new(env!("CARGO_BIN_EXE_blog")),
        &["--content", content.path().to_str().unwrap()],
        &[("BLOG_LOG".into(), "warn".into())],
    );
    Server {
        base: serve.base.clone(),
        _serve: serve,
        content,
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}

fn fetch(agent: &ureq::Agent, url: &str) -> (u16, http::HeaderMap, String) {
    let mut res = agent.get(url).call().unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let body = res.body_mut().read_to_string().unwrap();
    (status, headers, body)
}

#[test]
fn serves_every_page_type_over_http() {
    let server = start();
    let agent = agent();
    let base = &server.base;
    let pages = [
        ("/", 200, "text/html; charset=utf-8", "Latest posts"),
        (
            "/posts/how-this-blog-works/",
            200,
            "text/html; charset=utf-8",
            "<h1>How this blog works</h1>",
        ),
        ("/tags/", 200, "text/html; charset=utf-8", "<h1>Tags</h1>"),
        (
            "/tags/rust/",
            200,
            "text/html; charset=utf-8",
            "Cold starts in Rust",
        ),
        (
            "/feed.xml",
            200,
            "application/atom+xml; charset=utf-8",
            "<feed",
        ),
        (
            "/tags/rust/feed.xml",
            200,
            "application/atom+xml; charset=utf-8",
            "<feed",
        ),
        (
            "/rss.xml",
            200,
            "application/rss+xml; charset=utf-8",
            "<rss",
        ),
        (
            "/sitemap.xml",
            200,
            "application/xml; charset=utf-8",
            "<urlset",
        ),
        ("/robots.txt", 200, "text/plain; charset=utf-8", "Sitemap:"),
        (
            "/assets/architecture-b2e4c7351bdba9ad-640x260.svg",
            200,
            "image/svg+xml",
            "<svg",
        ),
        (
            "/posts/next-post-ideas/",
            404,
            "text/html; charset=utf-8",
            "Page not found",
        ),
        (
            "/no/such/page",
            404,
            "text/html; charset=utf-8",
            "Page not found",
        ),
    ];
    for (path, status, content_type, needle) in pages {
        let (got, headers, body) = fetch(&agent, &format!("{base}{path}"));
        assert_eq!(got, status, "{path}");
        assert_eq!(headers["content-type"], content_type, "{path}");
        assert!(body.contains(needle), "{path}: {needle:?} missing");
        assert!(headers.contains_key("content-security-policy"), "{path}");
        if content_type.starts_with("text/html") {
            let doc = scraper::Html::parse_document(&body);
            assert!(doc.errors.is_empty(), "{path}: {:?}", doc.errors);
        }
        if content_type.contains("atom") || content_type.contains("rss") {
            feed_rs::parser::parse(body.as_bytes()).unwrap_or_else(|e| panic!("{path}: {e}"));
        }
    }
    // The local base URL is the address actually served.
    let (_, _, home) = fetch(&agent, &format!("{base}/"));
    assert!(home.contains(&format!("<link rel=\"canonical\" href=\"{base}/\">")));
}

#[test]
fn conditional_requests_head_and_redirects_over_http() {
    let server = start();
    let agent = agent();
    let url = format!("{}/posts/hello-world/", server.base);
    let (_, headers, body) = fetch(&agent, &url);
    let etag = headers["etag"].to_str().unwrap().to_owned();
    assert_eq!(
        headers["cache-control"],
        "public, max-age=0, s-maxage=86400, stale-while-revalidate=60, stale-if-error=86400",
        "preview revalidates"
    );
    let res = agent
        .get(&url)
        .header("if-none-match", &etag)
        .call()
        .unwrap();
    assert_eq!(res.status(), 304);

    let res = agent.head(&url).call().unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-length"],
        body.len().to_string().as_str()
    );

    let res = agent
        .get(format!("{}/posts/hello-world", server.base))
        .call()
        .unwrap();
    assert_eq!(res.status(), 301);
    assert_eq!(res.headers()["location"], "/posts/hello-world/");

    let res = agent.post(&url).send("x").unwrap();
    assert_eq!(res.status(), 405);
    assert_eq!(res.headers()["allow"], "GET, HEAD");
}

#[test]
fn a_new_file_shows_without_a_restart() {
    let server = start();
    let agent = agent();
    let file = server.content.path().join("written-live.md");
    std::fs::write(
        &file,
        "---\ntitle: Written while serving\ndate: 2026-01-02\n---\nLive.\n",
    )
    .unwrap();
    let url = format!("{}/posts/written-live/", server.base);
    let mut status = 0;
    for _ in 0..50 {
        status = fetch(&agent, &url).0;
        if status == 200 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(status, 200);
}

/// `blog serve --store dynamo`: the same site from DynamoDB and S3 on moto, through
/// the stores the Lambda functions use, seeded from the sample content.
#[test]
fn serves_the_same_site_from_dynamodb_and_s3() {
    let endpoint = blog_e2e::moto::endpoint();
    let content = TempDir::new().unwrap();
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../content"),
        content.path(),
    );
    let table = blog_e2e::unique_name("serve");
    let bucket = blog_e2e::unique_name("serve-assets");
    let mut env = blog_e2e::moto::env(endpoint);
    env.push(("BLOG_LOG".into(), "warn".into()));
    let serve = BlogServe::start(
        Path::new(env!("CARGO_BIN_EXE_blog")),
        &[
            "--store",
            "dynamo",
            "--table",
            &table,
            "--bucket",
            &bucket,
            "--seed",
            content.path().to_str().unwrap(),
        ],
        &env,
    );
    let server = Server {
        base: serve.base.clone(),
        _serve: serve,
        content,
    };
    let agent = agent();
    let (status, _, home) = fetch(&agent, &format!("{}/", server.base));
    assert_eq!(status, 200);
    assert!(home.contains("Cold starts in Rust") && !home.contains("Ideas for the next posts"));
    let (status, _, post) = fetch(
        &agent,
        &format!("{}/posts/how-this-blog-works/", server.base),
    );
    assert_eq!(status, 200);
    assert!(post.contains("<h1>How this blog works</h1>"));
    let (status, headers, _) = fetch(
        &agent,
        &format!(
            "{}/assets/architecture-b2e4c7351bdba9ad-640x260.svg",
            server.base
        ),
    );
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "image/svg+xml");
    let (status, _, _) = fetch(&agent, &format!("{}/posts/scheduled-post/", server.base));
    assert_eq!(status, 404);
    let res = agent
        .get(format!("{}/architecture/", server.base))
        .call()
        .unwrap();
    assert_eq!(res.status(), 301);
}
