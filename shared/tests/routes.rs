//! One handler test per route, through `routes::handle` over the filesystem store:
//! status, headers and body, including 304, HEAD, 404, 405, drafts, future posts
//! and aliases.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use blog_core::Config;
use blog_test_support::site::*;
use http::StatusCode;

#[tokio::test]
async fn home_lists_public_posts_newest_first() {
    let site = site();
    let res = get(&site, "/").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "content-type"), "text/html; charset=utf-8");
    let doc = well_formed_html(&text(&res));
    let titles = select_texts(&doc, "article.summary h2");
    assert_eq!(
        titles,
        [
            "Cold starts in Rust: what a millisecond costs",
            "Everything Markdown can do here",
            "Moving a Flask blog without changing a post",
            "How this blog works",
            "Hello, world",
            "Renamed post",
            "Flask named file",
        ]
    );
    let body = text(&res);
    assert!(!body.contains("Ideas for the next posts"), "draft listed");
    assert!(!body.contains("From the future"), "future post listed");
    assert_eq!(
        select_attr(&doc, "link[rel=canonical]", "href").unwrap(),
        "https://blog.test/"
    );
}

#[tokio::test]
async fn home_pages_older_and_newer_by_cursor() {
    let config = Config {
        per_page: 3,
        ..Config::for_test()
    };
    let site = site_with(5, config);
    // 7 public sample/extra posts + 5 series posts = 12, newest first; 3 per page.
    let mut seen = Vec::new();
    let mut uri = "/".to_owned();
    let mut pages = 0;
    loop {
        let res = get(&site, &uri).await;
        assert_eq!(res.status(), StatusCode::OK, "{uri}");
        let doc = well_formed_html(&text(&res));
        seen.extend(select_texts(&doc, "article.summary h2"));
        pages += 1;
        assert_eq!(
            select_texts(&doc, "li.where"),
            [format!("Page {pages} of 4")],
            "{uri}"
        );
        if pages > 1 {
            let newer = select_attr(&doc, "li.newer a", "href").expect("newer link on older pages");
            assert!(newer.starts_with("/?after="), "{newer}");
        }
        match select_attr(&doc, "li.older a", "href") {
            Some(next) => uri = next,
            None => break,
        }
    }
    assert_eq!(pages, 4);
    assert_eq!(seen.len(), 12);
    assert_eq!(seen.last().unwrap(), "Series part 1");
    let mut dedup = seen.clone();
    dedup.dedup();
    assert_eq!(dedup, seen, "no post shown twice");

    // Walking back with "newer" from the last page ends at "/" through a redirect.
    let doc = well_formed_html(&text(&get(&site, &uri).await));
    let mut newer = select_attr(&doc, "li.newer a", "href").unwrap();
    let mut hops = 0;
    loop {
        let res = get(&site, &newer).await;
        hops += 1;
        if res.status() == StatusCode::FOUND {
            assert_eq!(header(&res, "location"), "/");
            break;
        }
        let doc = well_formed_html(&text(&res));
        newer = select_attr(&doc, "li.newer a", "href").unwrap();
        assert!(hops < 5, "newer links loop");
    }
}

#[tokio::test]
async fn bad_cursors_are_400_with_a_reason() {
    let site = site();
    for uri in [
        "/?before=yesterday",
        "/?after=2026-01-01T00:00:00Z%23Not%20A%20Slug",
        "/?before=2026-01-01T00:00:00Z%23a&after=2026-01-01T00:00:00Z%23a",
    ] {
        let res = get(&site, uri).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{uri}");
        let body = text(&res);
        assert!(
            body.contains("before=") || body.contains("after="),
            "{uri}: says which parameter"
        );
        well_formed_html(&body);
    }
}

#[tokio::test]
async fn post_page_has_its_metadata() {
    let site = site();
    let res = get(&site, "/posts/how-this-blog-works/").await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = text(&res);
    let doc = well_formed_html(&body);
    assert_eq!(select_texts(&doc, "h1"), ["How this blog works"]);
    assert_eq!(
        select_attr(&doc, "link[rel=canonical]", "href").unwrap(),
        "https://blog.test/posts/how-this-blog-works/"
    );
    assert_eq!(
        select_attr(&doc, "meta[property='og:type']", "content").unwrap(),
        "article"
    );
    assert!(select_attr(&doc, "meta[name=description]", "content")
        .unwrap()
        .starts_with("One small Rust function per route"));
    assert_eq!(
        select_attr(&doc, "meta[name='twitter:card']", "content").unwrap(),
        "summary"
    );
    assert!(select_attr(
        &doc,
        "link[rel=alternate][type='application/atom+xml']",
        "href"
    )
    .is_some());
    assert_eq!(
        select_attr(&doc, "time", "datetime").unwrap(),
        "2026-10-05T08:30:00+00:00"
    );
    assert!(body
        .contains("updated <time datetime=\"2026-11-20T00:00:00+00:00\">20 November 2026</time>"));
    // JSON-LD parses and describes this post.
    let ld = select_texts(&doc, "script[type='application/ld+json']")
        .pop()
        .unwrap();
    let ld: serde_json::Value = serde_json::from_str(&ld).unwrap();
    assert_eq!(ld["@type"], "BlogPosting");
    assert_eq!(ld["headline"], "How this blog works");
    assert_eq!(ld["dateModified"], "2026-11-20T00:00:00+00:00");
    // Long post: table of contents; neighbours link both ways.
    assert_eq!(select_texts(&doc, ".toc li").len(), 5);
    assert_eq!(
        select_attr(&doc, ".pager .older a", "href").unwrap(),
        "/posts/hello-world/"
    );
    assert_eq!(
        select_attr(&doc, ".pager .newer a", "href").unwrap(),
        "/posts/migrating-from-flask/"
    );
    // Tags link to their pages.
    assert_eq!(
        select_texts(&doc, "article .tags a"),
        ["architecture", "aws", "rust"]
    );
}

#[tokio::test]
async fn newest_post_does_not_link_to_a_scheduled_one() {
    let site = site();
    let doc = well_formed_html(&text(&get(&site, "/posts/cold-starts-in-rust/").await));
    assert_eq!(
        select_attr(&doc, ".pager .newer a", "href"),
        None,
        "the 2999 post is not public"
    );
    assert!(select_attr(&doc, ".pager .older a", "href").is_some());
}

#[tokio::test]
async fn drafts_future_posts_and_unknown_slugs_are_404() {
    let site = site();
    for uri in [
        "/posts/next-post-ideas/",
        "/posts/future-post/",
        "/posts/no-such-post/",
        "/posts/Bad%20Slug/",
        "/posts/%FF/",
    ] {
        let res = get(&site, uri).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{uri}");
        let doc = well_formed_html(&text(&res));
        assert_eq!(select_texts(&doc, "h1"), ["Page not found"], "{uri}");
        assert_eq!(
            select_attr(&doc, "meta[name=robots]", "content").unwrap(),
            "noindex"
        );
        assert_eq!(header(&res, "cache-control"), "public, max-age=60");
    }
}

#[tokio::test]
async fn url_encoded_slugs_are_decoded() {
    let site = site();
    assert_eq!(
        get(&site, "/posts/hello%2Dworld/").await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn conditional_get_and_head() {
    let site = site();
    let first = get(&site, "/posts/hello-world/").await;
    let etag = header(&first, "etag").to_owned();
    assert!(
        etag.starts_with('"') && etag.len() == 34,
        "strong etag: {etag}"
    );
    let again = blog_core::routes::handle(
        &site.app,
        None,
        request("GET", "/posts/hello-world/", &[("if-none-match", &etag)]),
    )
    .await;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert!(again.body().is_empty());
    assert_eq!(header(&again, "etag"), etag);

    let head =
        blog_core::routes::handle(&site.app, None, request("HEAD", "/posts/hello-world/", &[]))
            .await;
    assert_eq!(head.status(), StatusCode::OK);
    assert!(head.body().is_empty());
    assert_eq!(
        header(&head, "content-length"),
        first.body().len().to_string()
    );
    assert_eq!(header(&head, "etag"), etag);
}

#[tokio::test]
async fn other_methods_get_405_with_allow() {
    let site = site();
    for (method, uri) in [
        ("POST", "/"),
        ("PUT", "/posts/hello-world/"),
        ("DELETE", "/tags/"),
        ("PATCH", "/feed.xml"),
    ] {
        let res = blog_core::routes::handle(&site.app, None, request(method, uri, &[])).await;
        assert_eq!(
            res.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {uri}"
        );
        assert_eq!(header(&res, "allow"), "GET, HEAD");
        well_formed_html(&text(&res));
    }
}

#[tokio::test]
async fn aliases_and_missing_slashes_redirect_permanently() {
    let site = site();
    for (uri, to) in [
        ("/2019/old-name.html", "/posts/renamed/"),
        ("/posts/old-name/", "/posts/renamed/"),
        ("/posts/Old_File_Name/", "/posts/old-file-name/"),
        // A non-ASCII alias, however the client spells its escapes.
        ("/%C3%BCber-alt/", "/posts/renamed/"),
        ("/%c3%bcber-alt/", "/posts/renamed/"),
        ("/a%20%3Cb%3E*", "/posts/renamed/"),
        ("/posts/hello-world", "/posts/hello-world/"),
        ("/tags", "/tags/"),
        ("/tags/rust", "/tags/rust/"),
    ] {
        let res = get(&site, uri).await;
        assert_eq!(res.status(), StatusCode::MOVED_PERMANENTLY, "{uri}");
        assert_eq!(header(&res, "location"), to, "{uri}");
    }
    // Not a slug: no redirect to another bad path first, and no alias lookup.
    for uri in [
        "/posts/%2e%2e",
        "/posts/%2e%2e/",
        "/posts/Bad_Slug",
        "/tags/%FF",
    ] {
        let res = get(&site, uri).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{uri}");
    }
}

#[tokio::test]
async fn assets_carry_the_cdn_policy_and_pages_their_own() {
    let site = site();
    let page = get(&site, "/").await;
    let csp = header(&page, "content-security-policy");
    assert!(csp.contains("style-src 'sha256-"), "{csp}");
    let png = get(&site, "/assets/architecture-b2e4c7351bdba9ad-640x260.svg").await;
    assert_eq!(png.status(), StatusCode::OK);
    assert_eq!(
        header(&png, "content-security-policy"),
        blog_core::http::ASSET_CSP
    );
}

#[tokio::test]
async fn tag_index_counts_public_posts() {
    let site = site();
    let res = get(&site, "/tags/").await;
    assert_eq!(res.status(), StatusCode::OK);
    let doc = well_formed_html(&text(&res));
    let rows = select_texts(&doc, "main li");
    assert!(rows.contains(&"rust (2 posts)".to_owned()), "{rows:?}");
    assert!(rows.contains(&"web dev (1 post)".to_owned()), "{rows:?}");
    assert!(
        !rows.iter().any(|r| r.starts_with("meta (2")),
        "draft's tag counted: {rows:?}"
    );
    assert!(select_attr(&doc, "a[href='/tags/web%20dev/']", "href").is_some());
}

#[tokio::test]
async fn tag_pages_with_spaces_and_unicode() {
    let site = site();
    for uri in [
        "/tags/web%20dev/",
        "/tags/%C3%BCn%C3%AFcode/",
        "/tags/Web%20Dev/",
    ] {
        let res = get(&site, uri).await;
        assert_eq!(res.status(), StatusCode::OK, "{uri}");
        let doc = well_formed_html(&text(&res));
        assert_eq!(
            select_texts(&doc, "article.summary h2"),
            ["Renamed post"],
            "{uri}"
        );
        assert!(select_attr(&doc, "link[rel=alternate][title$='(Atom)']", "href").is_some());
    }
    let doc = well_formed_html(&text(&get(&site, "/tags/rust/").await));
    assert_eq!(
        select_texts(&doc, "article.summary h2").len(),
        2,
        "future post excluded"
    );
    assert_eq!(
        get(&site, "/tags/nothing-here/").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn atom_feed_parses_with_full_content_and_stable_ids() {
    let site = site();
    let res = get(&site, "/feed.xml").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        header(&res, "content-type"),
        "application/atom+xml; charset=utf-8"
    );
    let feed = feed_rs::parser::parse(res.body().as_ref()).unwrap();
    assert_eq!(feed.feed_type, feed_rs::model::FeedType::Atom);
    assert_eq!(feed.entries.len(), 7);
    let first = &feed.entries[0];
    assert_eq!(
        first.title.as_ref().unwrap().content,
        "Cold starts in Rust: what a millisecond costs"
    );
    assert_eq!(
        first.id,
        "tag:blog.test,2026-11-02:/posts/cold-starts-in-rust/"
    );
    assert!(first
        .content
        .as_ref()
        .unwrap()
        .body
        .as_ref()
        .unwrap()
        .contains("<h2 id=\"what-still-costs-time\">"));
    assert!(feed
        .entries
        .iter()
        .all(|e| !e.id.contains("future") && !e.id.contains("next-post-ideas")));
    // Rendering again yields the same ids and bytes.
    assert_eq!(get(&site, "/feed.xml").await.body(), res.body());
    roxmltree::Document::parse(&text(&res)).unwrap();
}

#[tokio::test]
async fn tag_feed_and_rss() {
    let site = site();
    let feed =
        feed_rs::parser::parse(get(&site, "/tags/rust/feed.xml").await.body().as_ref()).unwrap();
    assert_eq!(feed.entries.len(), 2);
    assert_eq!(
        get(&site, "/tags/nothing-here/feed.xml").await.status(),
        StatusCode::NOT_FOUND
    );

    let res = get(&site, "/rss.xml").await;
    assert_eq!(
        header(&res, "content-type"),
        "application/rss+xml; charset=utf-8"
    );
    let rss = feed_rs::parser::parse(res.body().as_ref()).unwrap();
    assert_eq!(rss.feed_type, feed_rs::model::FeedType::RSS2);
    assert_eq!(rss.entries.len(), 7);
    assert_eq!(
        rss.entries[0].id,
        "tag:blog.test,2026-11-02:/posts/cold-starts-in-rust/"
    );
    roxmltree::Document::parse(&text(&res)).unwrap();
}

#[tokio::test]
async fn sitemap_lists_public_pages_only() {
    let site = site();
    let res = get(&site, "/sitemap.xml").await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = text(&res);
    let xml = roxmltree::Document::parse(&body).unwrap();
    let locs: Vec<&str> = xml
        .descendants()
        .filter(|n| n.has_tag_name("loc"))
        .filter_map(|n| n.text())
        .collect();
    assert!(locs.contains(&"https://blog.test/"));
    assert!(locs.contains(&"https://blog.test/posts/hello-world/"));
    assert!(locs.contains(&"https://blog.test/tags/web%20dev/"));
    assert!(
        !locs
            .iter()
            .any(|l| l.contains("next-post-ideas") || l.contains("future-post")),
        "{locs:?}"
    );
    assert_eq!(locs.iter().filter(|l| l.contains("/posts/")).count(), 7);
}

#[tokio::test]
async fn robots_points_at_the_sitemap() {
    let site = site();
    let res = get(&site, "/robots.txt").await;
    assert_eq!(header(&res, "content-type"), "text/plain; charset=utf-8");
    assert!(text(&res).contains("Sitemap: https://blog.test/sitemap.xml"));
}

#[tokio::test]
async fn assets_are_served_with_their_type_and_never_outside_the_folder() {
    let site = site();
    let res = get(&site, "/assets/architecture-b2e4c7351bdba9ad-640x260.svg").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "content-type"), "image/svg+xml");
    // Named by its content: a year, never revalidated.
    assert_eq!(
        header(&res, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert!(
        header(&res, "content-security-policy").starts_with("default-src 'none'"),
        "SVG cannot run script"
    );
    std::fs::write(site.dir.path().join("secret.txt"), "no").unwrap();
    for uri in [
        "/assets/../secret.txt",
        "/assets/%2e%2e/secret.txt",
        "/assets/missing.png",
        "/assets/",
        "/assets/.hidden",
    ] {
        assert_eq!(
            get(&site, uri).await.status(),
            StatusCode::NOT_FOUND,
            "{uri}"
        );
    }
}

#[tokio::test]
async fn every_html_response_carries_the_security_headers() {
    let site = site();
    let css_hash_policy = site.app.templates.csp().to_owned();
    assert!(css_hash_policy.contains("style-src 'sha256-"));
    assert!(!css_hash_policy.contains("unsafe-inline"));
    for uri in [
        "/",
        "/posts/hello-world/",
        "/tags/",
        "/tags/rust/",
        "/nope",
        "/?before=x",
    ] {
        let res = get(&site, uri).await;
        assert_eq!(
            header(&res, "content-security-policy"),
            css_hash_policy,
            "{uri}"
        );
        assert!(css_hash_policy.contains("frame-ancestors 'none'"));
        assert_eq!(header(&res, "x-content-type-options"), "nosniff", "{uri}");
        assert_eq!(
            header(&res, "referrer-policy"),
            "strict-origin-when-cross-origin",
            "{uri}"
        );
        assert!(
            header(&res, "strict-transport-security").starts_with("max-age="),
            "{uri}"
        );
        let body = text(&res);
        assert!(
            !body.contains("<script>") && !body.contains("<script src"),
            "{uri}: no executable script"
        );
    }
}

#[tokio::test]
async fn the_inline_stylesheet_matches_the_csp_hash() {
    use base64::Engine as _;
    use sha2::Digest as _;
    let site = site();
    let body = text(&get(&site, "/").await);
    let css = body
        .split("<style>")
        .nth(1)
        .unwrap()
        .split("</style>")
        .next()
        .unwrap();
    let hash =
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(css.as_bytes()));
    assert!(site
        .app
        .templates
        .csp()
        .contains(&format!("'sha256-{hash}'")));
}

#[tokio::test]
async fn edits_show_on_the_next_request() {
    let site = site();
    edit(
        &site,
        "hello-world.md",
        "title: Hello, world",
        "title: Hello, edited world",
    );
    std::fs::write(
        site.dir.path().join("brand-new.md"),
        "---\ntitle: Brand new\ndate: 2026-01-01\n---\nNew.\n",
    )
    .unwrap();
    // The watcher reports asynchronously; allow it a moment.
    let mut body = String::new();
    for _ in 0..50 {
        body = text(&get(&site, "/posts/hello-world/").await);
        if body.contains("Hello, edited world") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(body.contains("<h1>Hello, edited world</h1>"));
    assert_eq!(
        get(&site, "/posts/brand-new/").await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_broken_file_is_skipped_and_reported_with_its_line() {
    let site = site();
    std::fs::write(
        site.dir.path().join("broken.md"),
        "---\ntitle: Broken\ndate: someday\n---\n",
    )
    .unwrap();
    let mut errors = Vec::new();
    for _ in 0..50 {
        errors = site.app.posts.errors().unwrap();
        if !errors.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].file.as_deref(), Some("broken.md"));
    assert_eq!(errors[0].field.as_deref(), Some("date"));
    assert_eq!(errors[0].line, Some(3));
    assert_eq!(
        get(&site, "/").await.status(),
        StatusCode::OK,
        "the rest of the site still works"
    );
}

#[tokio::test]
async fn post_pages_stay_within_the_weight_budget() {
    use std::io::Write as _;
    let site = site();
    for uri in [
        "/",
        "/posts/how-this-blog-works/",
        "/posts/markdown-showcase/",
        "/posts/hello-world/",
        "/tags/",
        "/feed.xml",
    ] {
        let body = get(&site, uri).await.into_body();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&body).unwrap();
        let gzipped = gz.finish().unwrap().len();
        println!("{uri}: {} bytes, {gzipped} gzipped", body.len());
        if uri.starts_with("/posts/") {
            assert!(
                gzipped <= 14 * 1024,
                "{uri} is {gzipped} bytes gzipped; the budget is 14 KB"
            );
        }
    }
}

#[tokio::test]
async fn the_archive_lists_every_public_post_by_year() {
    let site = site_with(5, Config::for_test());
    let res = get(&site, "/archive/").await;
    assert_eq!(res.status(), StatusCode::OK);
    let doc = well_formed_html(&text(&res));
    let titles = select_texts(&doc, "ul.archive a");
    assert_eq!(
        titles.len(),
        12,
        "every public post, one line each: {titles:?}"
    );
    assert_eq!(
        titles.first().unwrap(),
        "Cold starts in Rust: what a millisecond costs"
    );
    let body = text(&res);
    assert!(!body.contains("Ideas for the next posts"), "draft listed");
    assert!(!body.contains("From the future"), "future post listed");
    let years = select_texts(&doc, "section.year h2");
    let mut sorted = years.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    sorted.dedup();
    assert_eq!(years, sorted, "years newest first, each once");
    assert_eq!(
        select_attr(&doc, "nav[aria-label=Site] a[aria-current=page]", "href").unwrap(),
        "/archive/"
    );
    let res = get(&site, "/archive").await;
    assert_eq!(res.status(), StatusCode::MOVED_PERMANENTLY);
    assert_eq!(header(&res, "location"), "/archive/");
}

#[tokio::test]
async fn subscribe_explains_the_feeds_and_the_icon_is_served() {
    let site = site();
    let res = get(&site, "/subscribe/").await;
    assert_eq!(res.status(), StatusCode::OK);
    let doc = well_formed_html(&text(&res));
    let links = select_texts(&doc, "dl.feeds a");
    assert_eq!(
        links,
        ["https://blog.test/feed.xml", "https://blog.test/rss.xml"]
    );
    let home = well_formed_html(&text(&get(&site, "/").await));
    assert_eq!(
        select_attr(&home, "nav[aria-label=Site] a[aria-current=page]", "href").unwrap(),
        "/"
    );
    assert!(select_attr(&home, "link[rel=icon]", "href")
        .unwrap()
        .starts_with("data:image/svg+xml,"));
    let icon = get(&site, "/favicon.ico").await;
    assert_eq!(icon.status(), StatusCode::OK);
    assert_eq!(header(&icon, "content-type"), "image/x-icon");
    assert!(icon.body().starts_with(&[0, 0, 1, 0]), "an ICO file");
}

#[tokio::test]
async fn feeds_use_absolute_urls() {
    let site = site();
    let body = text(&get(&site, "/feed.xml").await);
    assert!(
        body.contains("src=&quot;https://blog.test/assets/"),
        "images absolute in entries"
    );
    assert!(!body.contains("src=&quot;/"), "{body}");
    assert!(!body.contains("href=&quot;/"), "{body}");
}
