//! The author's commands against a real `blog serve`: publish, update, upload,
//! delete and import show on the served site; two updates racing with one version
//! have exactly one winner, every time; the token never reaches a log; and with
//! `--store dynamo` a publish lands in DynamoDB and the server's drain sends
//! CloudFront its exact invalidation batch.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use std::path::Path;
use std::process::Output;

use assert_cmd::Command;
use blog_e2e::api::TOKEN;
use blog_e2e::fixtures;
use blog_e2e::serve::BlogServe;
use blog_test_support::content::copy_dir;
use tempfile::TempDir;

fn content() -> TempDir {
    let dir = TempDir::new().unwrap();
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../content"),
        dir.path(),
    );
    dir
}

fn env() -> Vec<(String, String)> {
    vec![
        ("BLOG_TOKEN".into(), TOKEN.into()),
        ("BLOG_LOG".into(), "debug".into()),
    ]
}

fn serve(dir: &Path) -> BlogServe {
    BlogServe::start(
        Path::new(env!("CARGO_BIN_EXE_blog")),
        &["--content", dir.to_str().unwrap()],
        &env(),
    )
}

fn blog(server: &str, args: &[&str], token: &str) -> Output {
    Command::cargo_bin("blog")
        .unwrap()
        .args(args)
        .env_clear()
        .env("BLOG_ENDPOINT", server)
        .env("BLOG_TOKEN", token)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}

fn fetch(url: &str) -> (u16, String) {
    let mut res = agent().get(url).call().unwrap();
    let bytes = res.body_mut().read_to_vec().unwrap();
    (
        res.status().as_u16(),
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

const POST: &str = "---\ntitle: Fresh from the terminal\ndate: 2025-03-01\ntags: [rust, cli]\n---\nWritten locally, published with **blog publish**.\n";

#[test]
fn publish_update_upload_delete_show_on_the_served_site() {
    let dir = content();
    let server = serve(dir.path());
    let base = server.base.as_str();
    let work = TempDir::new().unwrap();
    let file = work.path().join("fresh-post.md");
    std::fs::write(&file, POST).unwrap();
    let f = file.to_str().unwrap();

    let out = blog(base, &["publish", f], TOKEN);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&format!("created {base}/posts/fresh-post/")),
        "{}",
        stdout(&out)
    );
    for page in [
        "/",
        "/tags/cli/",
        "/tags/rust/",
        "/feed.xml",
        "/rss.xml",
        "/tags/cli/feed.xml",
        "/posts/fresh-post/",
    ] {
        let (status, body) = fetch(&format!("{base}{page}"));
        assert_eq!(status, 200, "{page}");
        assert!(
            body.contains("Fresh from the terminal"),
            "{page} lacks the new post"
        );
    }
    // The server's drain logs the batch a CDN would get within its one-second
    // tick, and `blog status` shows it sent with nothing left queued.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !server.log().contains("would invalidate") {
        assert!(std::time::Instant::now() < deadline, "{}", server.log());
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(
        server.log().contains("/tags/cli/feed.xml"),
        "{}",
        server.log()
    );
    let status = blog(base, &["status"], TOKEN);
    assert!(status.status.success(), "{}", stderr(&status));
    let shown = stdout(&status);
    assert!(
        shown.contains("nothing queued") && shown.contains("sent ") && shown.contains("1 write(s)"),
        "{shown}"
    );

    // A post dated later says when it goes live, in UTC, to the minute (rounded up).
    let later = work.path().join("later.md");
    std::fs::write(
        &later,
        "---\ntitle: Later\ndate: 2099-03-01T08:59:30+01:00\n---\nNot yet.\n",
    )
    .unwrap();
    let out = blog(base, &["publish", later.to_str().unwrap()], TOKEN);
    assert!(
        stdout(&out).contains("scheduled for 2099-03-01 08:00 UTC"),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );

    // Publishing again is a no-op; an edit updates at the current version.
    let out = blog(base, &["publish", f], TOKEN);
    assert!(stdout(&out).starts_with("unchanged"), "{}", stdout(&out));
    std::fs::write(&file, POST.replace("Written locally", "Edited locally")).unwrap();
    let out = blog(base, &["publish", f], TOKEN);
    assert!(
        stdout(&out).starts_with("updated"),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(fetch(&format!("{base}/posts/fresh-post/"))
        .1
        .contains("Edited locally"));

    // An image: made into a set, stored by content, served, and the Markdown to
    // paste printed.
    let png = work.path().join("dot.png");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../content/assets/diagram.png"),
        &png,
    )
    .unwrap();
    let out = blog(base, &["upload", png.to_str().unwrap()], TOKEN);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("made 3 files from 240×120"),
        "{}",
        stderr(&out)
    );
    let markdown = stdout(&out);
    let path = markdown
        .trim()
        .strip_prefix("![dot](")
        .and_then(|m| m.strip_suffix(')'))
        .unwrap_or_else(|| panic!("{markdown}"));
    assert_eq!(fetch(&format!("{base}{path}")).0, 200);
    let svg = work.path().join("x.svg");
    std::fs::write(&svg, "<svg onload=\"alert(1)\"/>").unwrap();
    let out = blog(base, &["upload", svg.to_str().unwrap()], TOKEN);
    assert!(
        !out.status.success() && stderr(&out).contains("SVG is refused"),
        "{}",
        stderr(&out)
    );

    // Bad input is reported with its line, and publishes nothing.
    let bad = work.path().join("bad.md");
    std::fs::write(&bad, "---\ntitle: Bad\ndate: not-a-date\n---\nx").unwrap();
    let out = blog(base, &["publish", bad.to_str().unwrap()], TOKEN);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("line 3") && stderr(&out).contains("\"date\""),
        "{}",
        stderr(&out)
    );

    let out = blog(base, &["delete", "fresh-post"], TOKEN);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(fetch(&format!("{base}/posts/fresh-post/")).0, 404);
    assert!(!fetch(&format!("{base}/"))
        .1
        .contains("Fresh from the terminal"));
}

#[test]
fn import_takes_other_engines_folders_lists_failures_and_is_safe_to_rerun() {
    let dir = content();
    let server = serve(dir.path());
    let base = server.base.as_str();
    let src = TempDir::new().unwrap();
    let files: &[(&str, &str)] = &[
        ("_posts/2024-02-03-jekyll-post.md", "---\nlayout: post\ntitle: From Jekyll\ntags: [ruby]\n---\nJekyll body.\n"),
        ("content/posts/hugo-bundle/index.md", "---\ntitle: From Hugo\ndate: 2024-03-04T10:00:00Z\ndraft: false\ntags: [go]\n---\nHugo body.\n"),
        ("content/posts/_index.md", "---\ntitle: Section\n---\n"),
        ("zola/zola-post.md", "+++\ntitle = \"From Zola\"\ndate = 2024-04-05\n[taxonomies]\ntags = [\"zola\"]\n+++\nZola body.\n"),
        ("pages/flask-page.md", "title: From Flask\ndate: 2024-05-06\npublished: true\n\nFlask body.\n"),
        ("pages/broken.md", "---\ndate: 2024-01-01\n---\nNo title.\n"),
    ];
    for (name, text) in files {
        let path = src.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let dir_arg = src.path().to_str().unwrap();
    let out = blog(base, &["import", dir_arg], TOKEN);
    assert!(!out.status.success(), "a failed file fails the import");
    let text = stdout(&out);
    assert!(text.contains("imported 4 of 5"), "{text}");
    assert!(
        text.contains("broken.md") && text.contains("\"title\" is missing"),
        "{text}"
    );
    for (slug, title) in [
        ("jekyll-post", "From Jekyll"),
        ("hugo-bundle", "From Hugo"),
        ("zola-post", "From Zola"),
        ("flask-page", "From Flask"),
    ] {
        let (status, body) = fetch(&format!("{base}/posts/{slug}/"));
        assert_eq!(status, 200, "{slug}");
        assert!(body.contains(title), "{slug}");
    }
    assert!(fetch(&format!("{base}/posts/jekyll-post/"))
        .1
        .contains("2024-02-03"));
    assert!(fetch(&format!("{base}/tags/zola/")).1.contains("From Zola"));
    assert!(fetch(&format!("{base}/tags/go/")).1.contains("From Hugo"));
    // Again: nothing new, nothing duplicated, the same one failure.
    let out = blog(base, &["import", dir_arg], TOKEN);
    assert!(
        stdout(&out).contains("imported 4 of 5") && stdout(&out).contains("4 unchanged"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn two_updates_with_one_version_have_exactly_one_winner_every_time() {
    let dir = content();
    let server = serve(dir.path());
    let url = format!("{}/api/posts/hello-world", server.base);
    let original = std::fs::read_to_string(dir.path().join("hello-world.md")).unwrap();
    for round in 0..25 {
        let mut res = agent()
            .get(&url)
            .header("authorization", format!("Bearer {TOKEN}"))
            .call()
            .unwrap();
        assert_eq!(res.status(), 200);
        let tag = res.headers()["etag"].to_str().unwrap().to_owned();
        let _ = res.body_mut().read_to_string();
        let bodies: Vec<String> = (0..2)
            .map(|i| original.replace("Hello", &format!("Hello {round}-{i}")))
            .collect();
        let statuses: Vec<(u16, String)> = std::thread::scope(|s| {
            let handles: Vec<_> = bodies
                .iter()
                .map(|body| {
                    let (url, tag) = (&url, &tag);
                    s.spawn(move || {
                        let res = agent()
                            .put(url)
                            .header("authorization", format!("Bearer {TOKEN}"))
                            .header("content-type", "text/markdown")
                            .header("if-match", tag)
                            .send(body.as_str())
                            .unwrap();
                        (res.status().as_u16(), body.clone())
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let mut codes: Vec<u16> = statuses.iter().map(|(c, _)| *c).collect();
        codes.sort_unstable();
        assert_eq!(codes, [200, 412], "round {round}");
        let winner = &statuses.iter().find(|(c, _)| *c == 200).unwrap().1;
        assert_eq!(
            &std::fs::read_to_string(dir.path().join("hello-world.md")).unwrap(),
            winner,
            "round {round}"
        );
    }
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.ends_with(".tmp").then_some(name)
        })
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn the_token_never_reaches_a_log_or_an_error() {
    let dir = content();
    let server = serve(dir.path());
    let base = server.base.as_str();
    let wrong = format!("{TOKEN}-but-wrong");
    let out = blog(base, &["delete", "hello-world"], &wrong);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("401"), "{}", stderr(&out));
    assert!(!stderr(&out).contains(&wrong[..20]) && !stdout(&out).contains(&wrong[..20]));
    let post = TempDir::new().unwrap();
    let file = post.path().join("p.md");
    std::fs::write(&file, POST).unwrap();
    assert!(blog(base, &["publish", file.to_str().unwrap()], TOKEN)
        .status
        .success());
    let log = server.log();
    assert!(
        log.contains("missing or wrong token") && log.contains("published"),
        "{log}"
    );
    assert!(
        !log.contains(&TOKEN[..20]),
        "the token reached the server's debug log"
    );
    assert!(!log.contains(&wrong[..20]));

    // Without BLOG_TOKEN the server makes one, prints it once on stdout, logs it nowhere.
    let other = BlogServe::start(
        Path::new(env!("CARGO_BIN_EXE_blog")),
        &["--content", dir.path().to_str().unwrap()],
        &[("BLOG_LOG".into(), "debug".into())],
    );
    assert!(!other.log().contains("Publish API token"));
}

#[tokio::test(flavor = "multi_thread")]
async fn on_dynamodb_a_publish_lands_in_the_table_and_cloudfront_records_the_batch() {
    let endpoint = blog_e2e::moto::endpoint();
    let dir = fixtures::content_dir();
    let (_, _, table, bucket) = fixtures::seed_aws(endpoint, dir.path()).await;
    let sdk = blog_e2e::moto::sdk_config(endpoint).await;
    let cf = blog_core::aws::cloudfront(&sdk);
    let id = blog_e2e::moto::distribution(&cf).await;
    let mut env = blog_e2e::moto::env(endpoint);
    env.extend(self::env());
    let server = BlogServe::start(
        Path::new(env!("CARGO_BIN_EXE_blog")),
        &[
            "--store",
            "dynamo",
            "--table",
            &table,
            "--bucket",
            &bucket,
            "--distribution",
            &id,
        ],
        &env,
    );
    let base = server.base.clone();
    let work = TempDir::new().unwrap();
    let file = work.path().join("fresh-post.md");
    std::fs::write(&file, POST).unwrap();
    let out = tokio::task::spawn_blocking({
        let (base, f) = (base.clone(), file.clone());
        move || blog(&base, &["publish", f.to_str().unwrap()], TOKEN)
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(
        stdout(&out).contains("path(s) queued for invalidation"),
        "{}",
        stdout(&out)
    );
    let home = tokio::task::spawn_blocking(move || fetch(&format!("{base}/")))
        .await
        .unwrap();
    assert!(home.1.contains("Fresh from the terminal"));
    let item = blog_core::aws::dynamodb(&sdk)
        .get_item()
        .table_name(&table)
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S("POST#fresh-post".into()),
        )
        .key(
            "sk",
            aws_sdk_dynamodb::types::AttributeValue::S("POST".into()),
        )
        .send()
        .await
        .unwrap()
        .item
        .expect("the post is in DynamoDB");
    assert_eq!(item["title"].as_s().unwrap(), "Fresh from the terminal");
    // The server's drain sends the queued batch within its one-second tick.
    let mut batches = Vec::new();
    for _ in 0..100 {
        batches = blog_e2e::moto::invalidations(&cf, &id).await;
        if !batches.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(batches.len(), 1);
    for p in [
        "/",
        "/?*",
        "/archive/",
        "/posts/fresh-post/",
        "/tags/cli/",
        "/tags/cli/feed.xml",
        "/feed.xml",
        "/rss.xml",
        "/sitemap.xml",
        "/tags/",
    ] {
        assert!(
            batches[0].contains(&p.to_owned()),
            "{p} not in {:?}",
            batches[0]
        );
    }
}
