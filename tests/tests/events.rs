//! Handler tests from the event files: each `events/*.json` is parsed by
//! `blog_core::lambda::apigw`, as the functions do, and answered by the
//! function its route key names, over the filesystem store.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use blog_core::routes::{handle, Function};
use blog_core::store::fs::FsStore;
use blog_core::{App, Config};
use blog_e2e::events::{self, EXPECTED};
use blog_e2e::fixtures;

fn app(dir: &std::path::Path) -> App<FsStore, FsStore> {
    let store = FsStore::open(dir).unwrap();
    App::one_store(Config::for_test(), store).unwrap()
}

async fn answer(app: &App<FsStore, FsStore>, name: &str) -> blog_core::http::Response {
    let text = events::load(name);
    let req = blog_core::lambda::apigw::request_from_json(&text)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    handle(app, Some(events::function_for(&text)), req).await
}

#[test]
fn every_event_file_has_an_expectation_and_a_route() {
    let names = events::names();
    let expected: Vec<String> = EXPECTED
        .iter()
        .map(|(n, _, _)| (*n).to_owned())
        .chain(events::API_EXPECTED.iter().map(|(n, _)| (*n).to_owned()))
        .collect();
    let mut sorted = expected.clone();
    sorted.sort();
    assert_eq!(names, sorted, "events/ and EXPECTED list the same events");
    for name in &names {
        events::function_for(&events::load(name));
    }
}

#[tokio::test]
async fn every_publish_event_gets_its_status_from_the_api() {
    let dir = fixtures::content_dir();
    let app = app(dir.path());
    let publisher = blog_e2e::api::publisher();
    for (name, status) in events::API_EXPECTED {
        let text = events::load(name);
        assert_eq!(
            events::function_for(&text),
            blog_core::routes::Function::Publish,
            "{name}"
        );
        let req = blog_core::lambda::apigw::request_from_json(&text)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let res = blog_core::publish::handle(&app, &publisher, req).await;
        assert_eq!(
            res.status().as_u16(),
            *status,
            "{name}: {}",
            String::from_utf8_lossy(res.body())
        );
    }
    // The event's post is on the site, and its image is served.
    let page = blog_core::routes::handle(
        &app,
        None,
        http::Request::get("/posts/published-from-an-event/")
            .body(bytes::Bytes::new())
            .unwrap(),
    )
    .await;
    assert_eq!(page.status(), 200);
}

#[tokio::test]
async fn every_event_gets_its_status_from_its_function() {
    let dir = fixtures::content_dir();
    let app = app(dir.path());
    for (name, status, _) in EXPECTED {
        let res = answer(&app, name).await;
        assert_eq!(res.status().as_u16(), *status, "{name}");
        assert!(
            res.headers().contains_key("content-security-policy"),
            "{name}"
        );
    }
}

#[tokio::test]
async fn event_details() {
    let dir = fixtures::content_dir();
    let app = app(dir.path());
    let body = |res: &blog_core::http::Response| String::from_utf8(res.body().to_vec()).unwrap();

    let res = answer(&app, "post-ok").await;
    assert!(body(&res).contains("<h1>How this blog works</h1>"));
    let res = answer(&app, "post-head").await;
    assert!(res.body().is_empty());
    assert_ne!(res.headers()["content-length"], "0");
    let res = answer(&app, "post-via-cloudfront").await;
    assert!(
        body(&res).contains("https://blog.test/posts/cold-starts-in-rust/"),
        "canonical from settings, not Host"
    );
    let res = answer(&app, "default-alias").await;
    assert_eq!(res.headers()["location"], "/posts/how-this-blog-works/");
    let res = answer(&app, "post-missing-slash").await;
    assert_eq!(res.headers()["location"], "/posts/hello-world/");
    let res = answer(&app, "home-post-method").await;
    assert_eq!(res.headers()["allow"], "GET, HEAD");
    let res = answer(&app, "tag-space").await;
    assert!(body(&res).contains("Everything Markdown can do here"));
    let res = answer(&app, "tag-unicode").await;
    assert!(body(&res).contains("Posts tagged “über”"));
    let res = answer(&app, "home-older-page").await;
    let older = body(&res);
    assert!(
        older.contains("How this blog works") && !older.contains("Cold starts in Rust"),
        "older than the cursor only"
    );
    let res = answer(&app, "tag-older-page").await;
    assert!(!body(&res).contains("Cold starts in Rust"));

    // If-None-Match with the page's current ETag gets 304.
    let etag = answer(&app, "post-if-none-match").await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    let text = events::load("post-if-none-match").replace(
        "\"\\\"00000000000000000000000000000000\\\"\"",
        &serde_json::to_string(&etag).unwrap(),
    );
    let req = blog_core::lambda::apigw::request_from_json(&text).unwrap();
    let res = handle(&app, Some(Function::Post), req).await;
    assert_eq!(res.status(), 304);
}

#[tokio::test]
async fn a_function_does_not_answer_another_functions_routes() {
    let dir = fixtures::content_dir();
    let app = app(dir.path());
    let req = blog_core::lambda::apigw::request_from_json(&events::load("tags-ok")).unwrap();
    let res = handle(&app, Some(Function::Home), req).await;
    assert_eq!(res.status(), 404);
    let req = blog_core::lambda::apigw::request_from_json(&events::load("tags-ok")).unwrap();
    let res = handle(&app, Some(Function::Post), req).await;
    assert_eq!(res.status(), 200, "the default route answers everything");
}
