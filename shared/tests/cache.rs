//! The local server's page cache over the filesystem store: pages are rendered once
//! per revision and never outlive a change, whether the change is an edit on disk,
//! a write through the store, or a scheduled post's date arriving.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use std::time::Duration;

use blog_core::page_cache::PageCache;
use blog_core::store::PostWriter;
use blog_test_support::site::*;
use chrono::{SecondsFormat, Utc};
use http::StatusCode;

async fn cached(
    cache: &PageCache,
    site: &Site,
    method: &str,
    uri: &str,
) -> blog_core::http::Response {
    cache.handle(&site.app, request(method, uri, &[])).await
}

#[tokio::test]
async fn a_page_is_rendered_once_and_answers_like_the_router() {
    let site = site();
    let cache = PageCache::new();
    for uri in [
        "/",
        "/posts/hello-world/",
        "/tags/",
        "/feed.xml",
        "/nope",
        "/posts/hello-world",
    ] {
        let direct = get(&site, uri).await;
        let first = cached(&cache, &site, "GET", uri).await;
        let hits = cache.hits();
        let second = cached(&cache, &site, "GET", uri).await;
        assert_eq!(cache.hits(), hits + 1, "{uri}: the second request is a hit");
        for res in [&first, &second] {
            assert_eq!(res.status(), direct.status(), "{uri}");
            assert_eq!(res.headers(), direct.headers(), "{uri}");
            assert_eq!(res.body(), direct.body(), "{uri}");
        }
    }
    // Conditional requests and HEAD are answered from the kept page too.
    let etag = header(&cached(&cache, &site, "GET", "/").await, "etag").to_owned();
    let res = cache
        .handle(&site.app, request("GET", "/", &[("if-none-match", &etag)]))
        .await;
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    let head = cached(&cache, &site, "HEAD", "/").await;
    assert_eq!(head.status(), StatusCode::OK);
    assert!(head.body().is_empty());
    // Other methods are never kept.
    let hits = cache.hits();
    for _ in 0..2 {
        let res = cached(&cache, &site, "POST", "/").await;
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    }
    assert_eq!(cache.hits(), hits);
}

#[tokio::test]
async fn an_edit_on_disk_replaces_the_kept_page() {
    let site = site();
    let cache = PageCache::new();
    let before = text(&cached(&cache, &site, "GET", "/posts/hello-world/").await);
    assert!(before.contains("<h1>Hello, world</h1>"));
    edit(
        &site,
        "hello-world.md",
        "title: Hello, world",
        "title: Hello, cached world",
    );
    // The watcher reports asynchronously; allow it a moment.
    let mut body = String::new();
    for _ in 0..50 {
        body = text(&cached(&cache, &site, "GET", "/posts/hello-world/").await);
        if body.contains("Hello, cached world") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        body.contains("<h1>Hello, cached world</h1>"),
        "the edit never showed"
    );
    // The home page was kept before the edit too; it lists the new title now.
    assert!(text(&cached(&cache, &site, "GET", "/").await).contains("Hello, cached world"));
}

#[tokio::test]
async fn a_write_through_the_store_shows_on_the_very_next_request() {
    let site = site();
    let cache = PageCache::new();
    let home = text(&cached(&cache, &site, "GET", "/").await);
    assert!(!home.contains("Written through the store"));
    let source = "---\ntitle: Written through the store\ndate: 2026-03-03\n---\nHi.\n";
    let post = blog_core::authoring::compile(source, None).unwrap();
    site.app
        .posts
        .save(
            &post.slug.clone(),
            post,
            source,
            blog_core::store::Expected::Absent,
        )
        .await
        .unwrap();
    // No waiting: the write installs the new snapshot before it returns.
    let home = text(&cached(&cache, &site, "GET", "/").await);
    assert!(home.contains("Written through the store"));
}

#[tokio::test]
async fn a_scheduled_post_appears_when_its_date_arrives() {
    let site = site();
    let cache = PageCache::new();
    let due = Utc::now() + chrono::Duration::seconds(4);
    std::fs::write(
        site.dir.path().join("soon.md"),
        format!(
            "---\ntitle: Due any second\ndate: {}\n---\nNow.\n",
            due.to_rfc3339_opts(SecondsFormat::Secs, true)
        ),
    )
    .unwrap();
    // Wait for the watcher, then keep the pages rendered while the post is ahead.
    let mut status = StatusCode::OK;
    for _ in 0..50 {
        status = cached(&cache, &site, "GET", "/posts/soon/").await.status();
        if site
            .app
            .posts
            .index()
            .await
            .unwrap()
            .iter()
            .any(|p| p.slug.as_str() == "soon")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Let any late watcher event land before counting hits.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        cached(&cache, &site, "GET", "/posts/soon/").await.status(),
        StatusCode::NOT_FOUND
    );
    let hits = cache.hits();
    assert_eq!(
        cached(&cache, &site, "GET", "/posts/soon/").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(cache.hits(), hits + 1, "the 404 was kept");
    assert!(!text(&cached(&cache, &site, "GET", "/").await).contains("Due any second"));
    assert!(
        Utc::now() < due,
        "the machine was too slow to see the post before its date"
    );

    tokio::time::sleep((due - Utc::now()).to_std().unwrap_or_default() + Duration::from_millis(50))
        .await;
    // Nothing on disk changed; the clock did.
    assert_eq!(
        cached(&cache, &site, "GET", "/posts/soon/").await.status(),
        StatusCode::OK
    );
    assert!(text(&cached(&cache, &site, "GET", "/").await).contains("Due any second"));
}
