//! The publish API over the filesystem store: every bad input gets a 4xx that
//! says what to fix and changes nothing on disk; good input shows on the site.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use std::collections::BTreeMap;
use std::path::Path;

use blog_core::publish;
use blog_test_support::site::{get, text, Site};
use bytes::Bytes;

use blog_test_support::api::{self, Answer, TOKEN};

fn req(
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> http::Request<Bytes> {
    api::request(method, uri, headers, body)
}

async fn call(site: &Site, r: http::Request<Bytes>) -> Answer {
    let answer = api::call(&site.app, &api::publisher(), r).await;
    assert!(!answer.json.is_null(), "every API answer is JSON");
    answer
}

/// Every file under the content folder with its bytes (the write lock file aside).
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else if p.file_name().unwrap() != ".blog.lock" {
                out.insert(
                    p.strip_prefix(root).unwrap().display().to_string(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

async fn etag(site: &Site, slug: &str) -> String {
    let r = call(
        site,
        req("GET", &format!("/api/posts/{slug}"), &[], Bytes::new()),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    r.headers["etag"].to_str().unwrap().to_owned()
}

/// (what, request, status, a phrase the message must contain, the field it names)
type Case<'a> = (&'a str, http::Request<Bytes>, u16, &'a str, Option<&'a str>);

const MD: (&str, &str) = ("content-type", "text/markdown; charset=utf-8");
const JSON: (&str, &str) = ("content-type", "application/json");
const GOOD: &str = "---\ntitle: Good\ndate: 2025-02-02\ntags: [rust]\n---\nGood body.\n";

#[tokio::test]
async fn every_bad_input_is_refused_with_what_to_fix_and_changes_nothing() {
    let site = blog_test_support::site::site();
    let hello = etag(&site, "hello-world").await;
    let stale = "\"12345\"";
    let big = format!(
        "---\ntitle: Big\ndate: 2025-01-01\n---\n{}",
        "x".repeat(200 * 1024)
    );
    let png = b"\x89PNG\r\n\x1a\n0000".to_vec();
    let mut huge_png = png.clone();
    huge_png.resize(publish::assets::MAX_ASSET_BYTES + 1, 0);
    let wrong = format!("Bearer {TOKEN}x");
    let cases: Vec<Case<'_>> = vec![
        (
            "no token",
            req("POST", "/api/posts", &[MD, ("authorization", "")], GOOD),
            401,
            "Bearer",
            None,
        ),
        (
            "wrong token",
            req("POST", "/api/posts", &[MD, ("authorization", &wrong)], GOOD),
            401,
            "Bearer",
            None,
        ),
        (
            "missing title",
            req("POST", "/api/posts", &[MD], "---\ndate: 2025-01-01\n---\nx"),
            400,
            "missing",
            Some("title"),
        ),
        (
            "bad date, with line",
            req(
                "POST",
                "/api/posts",
                &[MD],
                "---\ntitle: T\ntags: []\ndate: someday\n---\nx",
            ),
            400,
            "line 4",
            Some("date"),
        ),
        (
            "broken YAML",
            req(
                "POST",
                "/api/posts",
                &[MD],
                "---\ntitle: [unclosed\ndate: 2025-01-01\n---\nx",
            ),
            400,
            "YAML",
            None,
        ),
        (
            "invalid slug",
            req(
                "POST",
                "/api/posts",
                &[MD],
                "---\ntitle: T\ndate: 2025-01-01\nslug: Not A Slug\n---\nx",
            ),
            400,
            "a-z",
            Some("slug"),
        ),
        (
            "invalid slug in URL",
            req(
                "PUT",
                "/api/posts/Bad_Slug",
                &[MD, ("if-match", "\"1\"")],
                GOOD,
            ),
            400,
            "a-z",
            Some("slug"),
        ),
        (
            "duplicate slug",
            req(
                "POST",
                "/api/posts",
                &[MD],
                "---\ntitle: Hello again\ndate: 2025-01-01\nslug: hello-world\n---\nx",
            ),
            409,
            "already exists",
            None,
        ),
        (
            "stale If-Match",
            req(
                "PUT",
                "/api/posts/hello-world",
                &[MD, ("if-match", stale)],
                GOOD,
            ),
            412,
            "changed since",
            None,
        ),
        (
            "missing If-Match",
            req("PUT", "/api/posts/hello-world", &[MD], GOOD),
            428,
            "If-Match",
            None,
        ),
        (
            "If-Match *",
            req(
                "PUT",
                "/api/posts/hello-world",
                &[MD, ("if-match", "*")],
                GOOD,
            ),
            428,
            "ETag",
            None,
        ),
        (
            "stale delete",
            req(
                "DELETE",
                "/api/posts/hello-world",
                &[("if-match", stale)],
                Bytes::new(),
            ),
            412,
            "changed since",
            None,
        ),
        (
            "delete without If-Match",
            req("DELETE", "/api/posts/hello-world", &[], Bytes::new()),
            428,
            "If-Match",
            None,
        ),
        (
            "rename onto a post",
            req(
                "PUT",
                "/api/posts/hello-world",
                &[MD, ("if-match", &hello)],
                "---\ntitle: T\ndate: 2025-01-01\nslug: markdown-showcase\n---\nx",
            ),
            409,
            "exists",
            None,
        ),
        (
            "alias of another post",
            req(
                "POST",
                "/api/posts",
                &[MD],
                "---\ntitle: Thief\ndate: 2025-01-01\naliases: [/architecture/]\n---\nx",
            ),
            409,
            "belongs to",
            None,
        ),
        (
            "date before year 1",
            req(
                "POST",
                "/api/posts",
                &[MD],
                "---\ntitle: Hostile\ndate: -0001-01-01\n---\nx",
            ),
            400,
            "between the years 0001 and 9999",
            Some("date"),
        ),
        (
            "updated after year 9999",
            req(
                "POST",
                "/api/posts",
                &[MD],
                "---\ntitle: Hostile\ndate: 2025-01-01\nupdated: +10000-01-01\n---\nx",
            ),
            400,
            "between the years",
            Some("updated"),
        ),
        (
            "alias as a full URL",
            req(
                "POST",
                "/api/posts",
                &[MD],
                "---\ntitle: Hostile\ndate: 2025-01-01\naliases: [\"https://evil.example/\"]\n---\nx",
            ),
            400,
            "not full URLs",
            Some("aliases"),
        ),
        (
            "alias of the home page",
            req(
                "POST",
                "/api/posts",
                &[MD],
                "---\ntitle: Hostile\ndate: 2025-01-01\naliases: [/]\n---\nx",
            ),
            400,
            "the home page",
            Some("aliases"),
        ),
        (
            "alias of a feed",
            req(
                "POST",
                "/api/posts",
                &[MD],
                "---\ntitle: Hostile\ndate: 2025-01-01\naliases: [/feed.xml]\n---\nx",
            ),
            400,
            "a feed",
            Some("aliases"),
        ),
        (
            "alias of the API",
            req(
                "POST",
                "/api/posts",
                &[MD],
                "---\ntitle: Hostile\ndate: 2025-01-01\naliases: [/api/posts]\n---\nx",
            ),
            400,
            "the publish API",
            Some("aliases"),
        ),
        (
            "alias of a tag page",
            req(
                "POST",
                "/api/posts",
                &[MD],
                "---\ntitle: Hostile\ndate: 2025-01-01\naliases: [/tags/rust/]\n---\nx",
            ),
            400,
            "a tag page",
            Some("aliases"),
        ),
        (
            "alias of an asset",
            req(
                "POST",
                "/api/posts",
                &[MD],
                "---\ntitle: Hostile\ndate: 2025-01-01\naliases: [/assets/x.png]\n---\nx",
            ),
            400,
            "an asset",
            Some("aliases"),
        ),
        (
            "alias of a slashless post path",
            req(
                "POST",
                "/api/posts",
                &[MD],
                "---\ntitle: Hostile\ndate: 2025-01-01\naliases: [/posts/old]\n---\nx",
            ),
            400,
            "trailing slash",
            Some("aliases"),
        ),
        (
            "alias of the post's own page",
            req(
                "POST",
                "/api/posts",
                &[MD],
                "---\ntitle: Hostile\ndate: 2025-01-01\nslug: hostile\naliases: [/posts/hostile/]\n---\nx",
            ),
            400,
            "own address",
            Some("aliases"),
        ),
        (
            "alias of a live post's page",
            req(
                "POST",
                "/api/posts",
                &[MD],
                "---\ntitle: Hostile\ndate: 2025-01-01\naliases: [/posts/markdown-showcase/]\n---\nx",
            ),
            409,
            "is the page of the post",
            None,
        ),
        (
            "a control character feeds cannot carry",
            req(
                "POST",
                "/api/posts",
                &[MD],
                "---\ntitle: Bell\u{7}\ndate: 2025-01-01\n---\nx",
            ),
            400,
            "U+0007",
            None,
        ),
        (
            "If-Match that is no version of ours",
            req(
                "PUT",
                "/api/posts/hello-world",
                &[MD, ("if-match", "\"stale-version\"")],
                GOOD,
            ),
            412,
            "current ETag",
            None,
        ),
        (
            "If-Match that is no entity tag",
            req(
                "PUT",
                "/api/posts/hello-world",
                &[MD, ("if-match", "3")],
                GOOD,
            ),
            400,
            "entity tag",
            None,
        ),
        (
            "body over the limit",
            req("POST", "/api/posts", &[MD], big.clone()),
            413,
            "limit is 131072",
            None,
        ),
        (
            "JSON source over the limit",
            req(
                "POST",
                "/api/posts",
                &[JSON],
                serde_json::json!({"source": big}).to_string(),
            ),
            413,
            "limit is 131072",
            None,
        ),
        (
            "wrong content type",
            req("POST", "/api/posts", &[("content-type", "image/png")], GOOD),
            415,
            "text/markdown",
            None,
        ),
        (
            "no content type",
            req("POST", "/api/posts", &[], GOOD),
            415,
            "text/markdown",
            None,
        ),
        (
            "other charset",
            req(
                "POST",
                "/api/posts",
                &[("content-type", "text/markdown; charset=latin1")],
                GOOD,
            ),
            415,
            "UTF-8",
            None,
        ),
        (
            "invalid UTF-8",
            req(
                "POST",
                "/api/posts",
                &[MD],
                b"---\ntitle: T\xff\ndate: 2025-01-01\n---\n".to_vec(),
            ),
            400,
            "offset 12",
            None,
        ),
        (
            "malformed JSON",
            req("POST", "/api/posts", &[JSON], "{\"source\": "),
            400,
            "JSON",
            None,
        ),
        (
            "JSON without source",
            req("POST", "/api/posts", &[JSON], "{\"body\": \"x\"}"),
            400,
            "source",
            None,
        ),
        (
            "file name with a path",
            req(
                "POST",
                "/api/posts",
                &[JSON],
                serde_json::json!({"source": GOOD, "file_name": "../x.md"}).to_string(),
            ),
            400,
            "plain file name",
            Some("file_name"),
        ),
        (
            "HTML as an image",
            req(
                "POST",
                "/api/assets?name=a.png",
                &[],
                "<html><script>alert(1)</script>",
            ),
            415,
            "not a PNG",
            None,
        ),
        (
            "SVG",
            req(
                "POST",
                "/api/assets?name=a.svg",
                &[],
                "<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>",
            ),
            415,
            "SVG is refused",
            None,
        ),
        (
            "oversized asset",
            req("POST", "/api/assets?name=a.png", &[], huge_png),
            413,
            "presigned",
            None,
        ),
        (
            "asset name with ..",
            req("POST", "/api/assets?name=..%2Fa.png", &[], png.clone()),
            400,
            "..",
            Some("name"),
        ),
        (
            "asset name with a slash",
            req("POST", "/api/assets?name=img%2Fa.png", &[], png.clone()),
            400,
            "slashes",
            Some("name"),
        ),
        (
            "asset without a name",
            req("POST", "/api/assets", &[], png.clone()),
            400,
            "?name=",
            Some("name"),
        ),
        (
            "empty asset",
            req("POST", "/api/assets?name=a.png", &[], Bytes::new()),
            400,
            "empty",
            None,
        ),
        (
            "presign on the local store",
            req(
                "POST",
                "/api/assets/uploads",
                &[JSON],
                serde_json::json!({"name": "a.png", "size": 10, "sha256": "ab".repeat(32)})
                    .to_string(),
            ),
            400,
            "presigned",
            None,
        ),
        (
            "unknown route",
            req("GET", "/api/nothing", &[], Bytes::new()),
            404,
            "/api/nothing",
            None,
        ),
        (
            "unknown post",
            req("GET", "/api/posts/no-such-post", &[], Bytes::new()),
            404,
            "",
            None,
        ),
        (
            "update of a missing post",
            req(
                "PUT",
                "/api/posts/no-such-post",
                &[MD, ("if-match", "\"1\"")],
                GOOD,
            ),
            404,
            "",
            None,
        ),
        (
            "wrong method",
            req("PATCH", "/api/posts", &[MD], GOOD),
            405,
            "GET, POST",
            None,
        ),
    ];
    let before = snapshot(site.dir.path());
    for (what, request, status, phrase, field) in cases {
        let r = call(&site, request).await;
        assert_eq!(r.status, status, "{what}: {}", r.json);
        let message = r.json["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(phrase),
            "{what}: \"{message}\" lacks \"{phrase}\""
        );
        if let Some(f) = field {
            assert_eq!(r.json["field"].as_str(), Some(f), "{what}: {}", r.json);
        }
        assert_eq!(r.headers["cache-control"], "no-store", "{what}");
        match status {
            401 => assert!(
                r.headers["www-authenticate"]
                    .to_str()
                    .unwrap()
                    .starts_with("Bearer"),
                "{what}"
            ),
            405 => assert_eq!(r.headers["allow"], "GET, POST", "{what}"),
            _ => {}
        }
        assert_eq!(
            snapshot(site.dir.path()),
            before,
            "{what} changed the content folder"
        );
    }
}

#[tokio::test]
async fn a_published_post_appears_on_the_site_and_edits_follow_their_version() {
    let site = blog_test_support::site::site();
    let created = call(
        &site,
        req(
            "POST",
            "/api/posts",
            &[JSON],
            serde_json::json!({"source": GOOD, "file_name": "good-post.md"}).to_string(),
        ),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.json);
    assert_eq!(created.json["slug"], "good-post");
    assert_eq!(created.headers["location"], "/api/posts/good-post");
    let v1 = created.headers["etag"].to_str().unwrap().to_owned();
    assert!(text(&get(&site, "/").await).contains("Good"));
    assert!(text(&get(&site, "/tags/rust/").await).contains("/posts/good-post/"));
    assert!(text(&get(&site, "/feed.xml").await).contains("Good body."));
    assert!(site.dir.path().join("good-post.md").is_file());

    // GET shows the source and version; the source reads back as the same post.
    let got = call(&site, req("GET", "/api/posts/good-post", &[], Bytes::new())).await;
    assert_eq!(
        got.json["version"].as_str().map(|v| format!("\"{v}\"")),
        Some(v1.clone())
    );
    let source = got.json["source"].as_str().unwrap();
    assert!(
        source.contains("title: Good") && source.contains("Good body."),
        "{source}"
    );

    // An update at v1 lands; a second one at v1 is stale.
    let edit = GOOD.replace("Good body.", "Better body.");
    let r = call(
        &site,
        req(
            "PUT",
            "/api/posts/good-post",
            &[MD, ("if-match", &v1)],
            edit.clone(),
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert!(text(&get(&site, "/posts/good-post/").await).contains("Better body."));
    let again = call(
        &site,
        req(
            "PUT",
            "/api/posts/good-post",
            &[MD, ("if-match", &v1)],
            edit.replace("Better", "Other"),
        ),
    )
    .await;
    assert_eq!(again.status, 412, "{}", again.json);

    // The listing includes drafts.
    let list = call(&site, req("GET", "/api/posts", &[], Bytes::new())).await;
    let drafts: Vec<&str> = list.json["posts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["draft"] == true)
        .map(|p| p["slug"].as_str().unwrap())
        .collect();
    assert_eq!(drafts, ["next-post-ideas"]);

    // Delete removes it from the site.
    let v2 = etag(&site, "good-post").await;
    let gone = call(
        &site,
        req(
            "DELETE",
            "/api/posts/good-post",
            &[("if-match", &v2)],
            Bytes::new(),
        ),
    )
    .await;
    assert_eq!(gone.status, 200, "{}", gone.json);
    assert!(gone.json["invalidation"]["paths"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p == "/posts/good-post/"));
    assert_eq!(get(&site, "/posts/good-post/").await.status(), 404);
    assert!(!site.dir.path().join("good-post.md").exists());
}

#[tokio::test]
async fn photos_are_stored_as_a_set_by_content_and_served() {
    use blog_test_support::photos::{metadata_found, photo, Photo};
    let site = blog_test_support::site::site();
    let jpeg = photo(Photo {
        width: 300,
        height: 200,
        orientation: 1,
        seed: 3,
    });
    let r = call(
        &site,
        req("POST", "/api/assets?name=My%20Photo.JPG", &[], jpeg.clone()),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let path = r.json["path"].as_str().unwrap().to_owned();
    assert!(
        path.starts_with("/assets/my-photo-") && path.ends_with("/300x200.jpg"),
        "{path}"
    );
    assert_eq!(r.json["markdown"], format!("![my-photo]({path})"));
    assert_eq!(r.json["image"]["original_bytes"], jpeg.len());
    let variants = r.json["image"]["variants"].as_array().unwrap();
    assert_eq!(variants.len(), 3);
    for (variant, mime) in variants
        .iter()
        .zip(["image/avif", "image/webp", "image/jpeg"])
    {
        let served = get(&site, variant["path"].as_str().unwrap()).await;
        assert_eq!(served.status(), 200, "{variant}");
        assert_eq!(served.headers()["content-type"], mime);
        assert_eq!(
            served.body().len(),
            variant["bytes"].as_u64().unwrap() as usize
        );
        assert_eq!(metadata_found(served.body()), Vec::<&str>::new());
    }
    // The upload as sent is kept beside the content, not among what is served.
    let set = path
        .trim_start_matches("/assets/")
        .split('/')
        .next()
        .unwrap();
    let original = site.dir.path().join("originals").join(format!("{set}.jpg"));
    assert_eq!(std::fs::read(&original).unwrap(), jpeg);
    assert_eq!(
        get(&site, &format!("/assets/{set}.jpg")).await.status(),
        404
    );

    // A post naming the set gets a <picture> with every format.
    let post = format!("---\ntitle: Holiday\ndate: 2024-05-01\n---\n\n![A beach]({path})\n");
    let created = call(&site, req("POST", "/api/posts", &[MD], post)).await;
    assert_eq!(created.status, 201, "{}", created.json);
    let page = get(&site, "/posts/holiday/").await;
    let html = String::from_utf8_lossy(page.body());
    assert!(
        html.contains(&format!(
            "<source type=\"image/avif\" srcset=\"/{set_path} 300w\"",
            set_path = variants[0]["path"]
                .as_str()
                .unwrap()
                .trim_start_matches('/')
        )),
        "{html}"
    );
    assert!(
        html.contains(&format!("<img src=\"{path}\" srcset=\"{path} 300w\"")),
        "{html}"
    );
    assert!(html.contains("width=\"300\" height=\"200\""), "{html}");
}

#[tokio::test]
async fn uploads_that_are_not_usable_pictures_are_refused_and_nothing_is_stored() {
    let site = blog_test_support::site::site();
    let before = snapshot(site.dir.path());
    for (what, body, status, phrase) in [
        (
            "a PNG signature and nothing else",
            b"\x89PNG\r\n\x1a\nnot really a png".to_vec(),
            415,
            "could not be decoded",
        ),
        (
            "an AVIF",
            b"\0\0\0\x1cftypavif\0\0\0\0".to_vec(),
            415,
            "JPEG, PNG or WebP",
        ),
        (
            "an SVG",
            b"<svg onload=alert(1)>".to_vec(),
            415,
            "SVG is refused",
        ),
    ] {
        let r = call(&site, req("POST", "/api/assets?name=a.png", &[], body)).await;
        assert_eq!(r.status, status, "{what}: {}", r.json);
        let message = r.json["message"].as_str().unwrap_or_default();
        assert!(message.contains(phrase), "{what}: {message}");
    }
    assert_eq!(snapshot(site.dir.path()), before);
}

#[tokio::test]
async fn writes_queue_their_paths_and_a_hold_keeps_them_until_released() {
    use blog_core::cdn::drain::drain;
    use blog_core::cdn::LogCdn;
    let site = blog_test_support::site::site();
    let queue = || async { call(&site, req("GET", "/api/invalidations", &[], Bytes::new())).await };
    let empty = queue().await;
    assert_eq!(empty.status, 200, "{}", empty.json);
    assert_eq!(empty.json["pending"], serde_json::json!([]));

    // A hold out of range is refused; in range it holds.
    for bad in ["0", "901", "soon"] {
        let r = call(
            &site,
            req(
                "POST",
                &format!("/api/invalidations/hold?seconds={bad}"),
                &[],
                Bytes::new(),
            ),
        )
        .await;
        assert_eq!(r.status, 400, "{bad}: {}", r.json);
        assert!(r.json["message"].as_str().unwrap().contains("1 to 900"));
    }
    let held = call(
        &site,
        req(
            "POST",
            "/api/invalidations/hold?seconds=60",
            &[],
            Bytes::new(),
        ),
    )
    .await;
    assert_eq!(held.status, 200, "{}", held.json);

    let created = call(
        &site,
        req(
            "POST",
            "/api/posts",
            &[JSON],
            serde_json::json!({"source": GOOD, "file_name": "good-post.md"}).to_string(),
        ),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.json);
    assert_eq!(created.json["invalidation"]["status"], "queued");
    let state = queue().await;
    assert_eq!(state.json["held"], true);
    assert_eq!(state.json["pending"].as_array().unwrap().len(), 1);
    assert_eq!(
        state.json["pending"][0]["id"],
        created.json["invalidation"]["id"]
    );
    assert_eq!(
        state.json["next_batch"],
        created.json["invalidation"]["paths"]
    );

    // Held: the drain sends nothing. Released: one batch, and the queue is empty.
    let done = drain(&*site.app.posts, &LogCdn, std::time::Duration::from_secs(1))
        .await
        .unwrap();
    assert!(done.held && done.sent.is_empty());
    let released = call(
        &site,
        req("DELETE", "/api/invalidations/hold", &[], Bytes::new()),
    )
    .await;
    assert_eq!(released.status, 200, "{}", released.json);
    let done = drain(&*site.app.posts, &LogCdn, std::time::Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(done.sent.len(), 1);
    let state = queue().await;
    assert_eq!(state.json["pending"], serde_json::json!([]));
    assert_eq!(
        state.json["sent"][0]["paths"],
        created.json["invalidation"]["paths"]
    );
}
