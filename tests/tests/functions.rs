//! The real release `bootstrap` of every function, each behind its own Lambda
//! Runtime API on loopback, reading DynamoDB and S3 on moto's server through a
//! counting proxy. Every event in `events/` is sent to the function its route key
//! names; the answer must match the filesystem store's, byte for byte, and cost
//! the DynamoDB requests the table in `blog_e2e::events` allows.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use blog_core::routes::{handle, Function};
use blog_core::store::fs::FsStore;
use blog_core::{App, Config};
use blog_e2e::events::{self, LambdaResponse, EXPECTED};
use blog_e2e::runtime_api::bootstrap;
use blog_e2e::stack::Stack;

struct Deployment {
    stack: Stack,
    local: App<FsStore, FsStore>,
}

async fn deploy() -> Deployment {
    let stack = Stack::start(&Function::PAGES).await;
    let store = FsStore::open(stack.content.path()).unwrap();
    let local = App::one_store(Config::for_test(), store).unwrap();
    Deployment { stack, local }
}

impl Deployment {
    async fn invoke(&self, event: &str) -> LambdaResponse {
        self.stack.invoke(event).await
    }

    async fn local(&self, event: &str) -> blog_core::http::Response {
        let req = blog_core::lambda::apigw::request_from_json(event).unwrap();
        handle(&self.local, Some(events::function_for(event)), req).await
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_event_matches_the_local_site_and_costs_what_it_should() {
    let d = deploy().await;
    for (name, status, calls) in EXPECTED {
        let event = events::load(name);
        d.stack.proxy.take_calls();
        let res = d.invoke(&event).await;
        assert_eq!(res.status, *status, "{name}");
        assert_eq!(
            d.stack.proxy.take_calls(),
            *calls,
            "{name}: DynamoDB requests per view"
        );
        let local = d.local(&event).await;
        assert_eq!(res.status, local.status().as_u16(), "{name}");
        assert_eq!(
            res.body,
            local.body().to_vec(),
            "{name}: same body as the filesystem store"
        );
        for h in [
            "content-type",
            "etag",
            "cache-control",
            "content-security-policy",
            "location",
            "allow",
            "strict-transport-security",
        ] {
            let want = local
                .headers()
                .get(h)
                .map(|v| v.to_str().unwrap())
                .unwrap_or("");
            assert_eq!(res.header(h), want, "{name}: {h}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_through_the_functions() {
    let d = deploy().await;
    let post = d.invoke(&events::load("post-ok")).await;
    let html = String::from_utf8(post.body.clone()).unwrap();
    let doc = scraper::Html::parse_document(&html);
    assert!(doc.errors.is_empty(), "{:?}", doc.errors);
    assert!(html.contains("<h1>How this blog works</h1>"));
    assert!(html.contains("\"@type\":\"BlogPosting\""));

    // A conditional request with the ETag just served gets 304 and no body.
    let stale = events::load("post-if-none-match");
    let etag = d.invoke(&stale).await.header("etag").to_owned();
    let fresh = stale.replace(
        "\"\\\"00000000000000000000000000000000\\\"\"",
        &serde_json::to_string(&etag).unwrap(),
    );
    let res = d.invoke(&fresh).await;
    assert_eq!(res.status, 304);
    assert!(res.body.is_empty());

    let head = d.invoke(&events::load("home-head")).await;
    assert!(head.body.is_empty());
    assert_ne!(head.header("content-length"), "0");

    let feed = d.invoke(&events::load("feed-atom")).await;
    let parsed = feed_rs::parser::parse(feed.body.as_slice()).unwrap();
    assert_eq!(parsed.entries.len(), 7);
    assert!(!String::from_utf8(feed.body)
        .unwrap()
        .contains("scheduled-post"));
}

#[test]
fn a_function_without_its_settings_stops_and_names_the_variable() {
    let out = std::process::Command::new(bootstrap(Function::Post))
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9")
        .env("AWS_LAMBDA_FUNCTION_NAME", "blog-post")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("BLOG_BUCKET", "b")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("BLOG_TABLE"), "{stderr}");
}
