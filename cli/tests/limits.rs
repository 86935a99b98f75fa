//! Publishing under AWS's real limits, on DynamoDB Local (isolated transactions,
//! unlike moto's):
//!
//! - races through `blog serve --store dynamo`: 30 concurrent creates of one slug
//!   give one 201 and 29 × 409; 20 concurrent creates of different slugs all land,
//!   with previous/next links equal to links computed from scratch; 100 concurrent
//!   PUTs with one `If-Match` give one 200 and 99 × 412;
//! - `blog import` of the 200-post benchmark corpus into the release `publish`
//!   bootstrap behind an API Gateway stand-in throttled as the template's route
//!   (5 a second, burst 10): no failure, and one coalesced invalidation for the
//!   whole run; then a run at 20 requests a second meets 429s and still loses
//!   nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use std::path::Path;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use blog_core::cdn::outbox::Outbox;
use blog_core::post::{Post, Slug};
use blog_core::store::dynamo::DynamoPosts;
use blog_core::store::Posts;
use blog_e2e::api::TOKEN;
use blog_e2e::cloudfront::QuotaCloudFront;
use blog_e2e::deployment::Deployment;
use blog_e2e::runtime_api::RuntimeApi;
use blog_e2e::serve::BlogServe;
use blog_e2e::throttle::Gateway;
use blog_e2e::{events, moto};

/// A fresh, empty table and bucket.
async fn empty_site() -> (aws_config::SdkConfig, String, String) {
    let sdk = moto::sdk_config(moto::endpoint()).await;
    let (table, bucket) = blog_e2e::deployment::empty_site(&sdk).await;
    (sdk, table, bucket)
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// One API request; returns the status.
fn send(base: &str, method: &str, path: &str, body: String, if_match: Option<&str>) -> u16 {
    let mut req = http::Request::builder()
        .method(method)
        .uri(format!("{base}{path}"))
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("content-type", "text/markdown");
    if let Some(tag) = if_match {
        req = req.header("if-match", tag);
    }
    let res = agent().run(req.body(body.into_bytes()).unwrap()).unwrap();
    res.status().as_u16()
}

/// Sends every request at once (threads released together); returns the statuses.
fn at_once(base: &str, requests: Vec<(&'static str, String, String, Option<String>)>) -> Vec<u16> {
    let barrier = Arc::new(Barrier::new(requests.len()));
    let threads: Vec<_> = requests
        .into_iter()
        .map(|(method, path, body, tag)| {
            let (base, barrier) = (base.to_owned(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                send(&base, method, &path, body, tag.as_deref())
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}

/// [`at_once`] off the async runtime.
async fn race(
    base: &str,
    requests: Vec<(&'static str, String, String, Option<String>)>,
) -> Vec<u16> {
    let base = base.to_owned();
    tokio::task::spawn_blocking(move || at_once(&base, requests))
        .await
        .unwrap()
}

fn count(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

fn serve_dynamo(table: &str, bucket: &str) -> BlogServe {
    let mut env = moto::env(moto::endpoint());
    env.push(("BLOG_TOKEN".into(), TOKEN.into()));
    BlogServe::start(
        Path::new(env!("CARGO_BIN_EXE_blog")),
        &["--store", "dynamo", "--table", table, "--bucket", bucket],
        &env,
    )
}

/// The most attempts any write needed, from the server's log (colour codes
/// removed).
fn most_attempts(log: &str) -> u32 {
    let mut plain = String::new();
    let mut escape = false;
    for c in log.chars() {
        match (escape, c) {
            (false, '\u{1b}') => escape = true,
            (true, 'm') => escape = false,
            (true, _) => {}
            (false, c) => plain.push(c),
        }
    }
    plain
        .lines()
        .filter(|l| l.contains("another publish landed first"))
        .filter_map(|l| {
            l.split("attempt=")
                .nth(1)?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .max()
        .map_or(1, |retries: u32| retries + 1)
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_writes_on_dynamodb_local_keep_one_winner_and_consistent_links() {
    let (sdk, table, bucket) = empty_site().await;
    let server = serve_dynamo(&table, &bucket);
    let base = server.base.clone();

    // 30 creates of one slug: one lands, 29 are told the slug is taken.
    let contested: Vec<_> = (0..30)
        .map(|i| {
            let body = format!(
                "---\ntitle: Contested {i}\nslug: contested\ndate: 2025-03-01\n---\nVersion {i}.\n"
            );
            ("POST", "/api/posts".to_owned(), body, None)
        })
        .collect();
    let statuses = race(&base, contested).await;
    assert_eq!(
        (count(&statuses, 201), count(&statuses, 409)),
        (1, 29),
        "{statuses:?}"
    );

    // 20 creates of different slugs: all land, and the links agree with the order.
    let distinct: Vec<_> = (0..20)
        .map(|i| {
            let body = format!(
                "---\ntitle: Racer {i}\nslug: racer-{i:02}\ndate: 2025-04-{:02}\n---\nBody {i}.\n",
                i % 10 + 1
            );
            ("POST", "/api/posts".to_owned(), body, None)
        })
        .collect();
    let statuses = race(&base, distinct).await;
    assert_eq!(count(&statuses, 201), 20, "{statuses:?}");
    let posts = DynamoPosts::new(blog_core::aws::dynamodb(&sdk), &table);
    let mut stored: Vec<Post> = Vec::new();
    for slug in (0..20)
        .map(|i| format!("racer-{i:02}"))
        .chain(["contested".to_owned()])
    {
        stored.push(
            posts
                .get(&Slug::parse(&slug).unwrap())
                .await
                .unwrap()
                .unwrap(),
        );
    }
    stored.sort_by_key(Post::sort_key);
    for (i, post) in stored.iter().enumerate() {
        let older = i.checked_sub(1).map(|j| stored[j].slug.clone());
        let newer = stored.get(i + 1).map(|p| p.slug.clone());
        assert_eq!(
            (
                post.previous.as_ref().map(|n| n.slug.clone()),
                post.next.as_ref().map(|n| n.slug.clone())
            ),
            (older, newer),
            "links of {}",
            post.slug
        );
    }

    // 100 PUTs naming one version: one lands, 99 are told it is stale.
    let edits: Vec<_> = (0..100)
        .map(|i| {
            let body = format!(
                "---\ntitle: Contested\nslug: contested\ndate: 2025-03-01\n---\nEdit {i}.\n"
            );
            (
                "PUT",
                "/api/posts/contested".to_owned(),
                body,
                Some("\"1\"".to_owned()),
            )
        })
        .collect();
    let statuses = race(&base, edits).await;
    assert_eq!(
        (count(&statuses, 200), count(&statuses, 412)),
        (1, 99),
        "{statuses:?}"
    );
    println!(
        "races on DynamoDB Local: 30 creates of one slug 1 x 201 + 29 x 409; 20 creates of different slugs 20 x 201, links consistent; \
         100 PUTs with one If-Match 1 x 200 + 99 x 412; most attempts one write needed: {}",
        most_attempts(&server.log())
    );
}

/// The publish function behind a throttled API Gateway stand-in, on an empty
/// site, with CloudFront behind the quota stand-in.
struct Deployed {
    gateway: Gateway,
    drain: RuntimeApi,
    cloudfront: QuotaCloudFront,
    posts: DynamoPosts,
}

async fn deployed() -> Deployed {
    let d = Deployment::start(None, Duration::from_secs(5)).await;
    Deployed {
        gateway: Gateway::start(d.publish, 5.0, 10.0).await,
        drain: d.drain,
        cloudfront: d.cloudfront,
        posts: d.posts,
    }
}

fn corpus(posts: usize, seed: u32) -> tempfile::TempDir {
    let dir = tempfile::TempDir::new().unwrap();
    let script = blog_e2e::workspace().join("../shared/bench/make_corpus.py");
    let ok = std::process::Command::new("python3")
        .arg(&script)
        .arg(dir.path())
        .args(["--posts", &posts.to_string(), "--seed", &seed.to_string()])
        .status()
        .unwrap_or_else(|e| panic!("python3 {}: {e}", script.display()));
    assert!(ok.success(), "{} failed", script.display());
    dir
}

/// `blog import` at `rate`; returns (took, stdout, success).
async fn import(endpoint: &str, dir: &Path, rate: &str) -> (Duration, String, bool) {
    let (endpoint, dir, rate) = (endpoint.to_owned(), dir.to_owned(), rate.to_owned());
    tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_blog"))
            .args(["import", dir.to_str().unwrap(), "--rate", &rate])
            .env_clear()
            .env("BLOG_ENDPOINT", endpoint)
            .env("BLOG_TOKEN", TOKEN)
            .env("BLOG_LOG", "warn")
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (started.elapsed(), text, out.status.success())
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn importing_the_corpus_through_the_throttled_route_loses_nothing_and_invalidates_once() {
    let site = deployed().await;
    let mut rows = Vec::new();
    for (name, posts, seed, rate) in [
        ("default rate (4/s)", 200, 7, "4"),
        ("--rate 20", 40, 11, "20"),
    ] {
        let dir = corpus(posts, seed);
        let before = (site.gateway.counts(), site.cloudfront.record());
        let (took, out, ok) = import(&site.gateway.endpoint(), dir.path(), rate).await;
        assert!(ok, "{name}: {out}");
        assert!(
            out.contains(&format!("imported {posts} of {posts} file(s)")),
            "{name}: {out}"
        );
        // Everything the run queued waits for the hold; releasing it wakes the
        // drain (the stream's REMOVE record), which sends one batch.
        let queued = site.posts.outbox().await.unwrap();
        assert!(
            !queued.pending.is_empty() && !queued.held(chrono::Utc::now()),
            "{name}: {queued:?}"
        );
        let out = site
            .drain
            .invoke(&events::load_drain("hold-released"))
            .await
            .unwrap();
        assert_eq!(out["left"], 0, "{name}: {out}");
        let (gateway, cloudfront) = (site.gateway.counts(), site.cloudfront.record());
        let batches = &cloudfront.accepted[before.1.accepted.len()..];
        assert_eq!(batches.len(), 1, "{name}: {batches:?}");
        let requests = gateway.requests - before.0.requests;
        let throttled = gateway.throttled - before.0.throttled;
        if rate == "4" {
            assert_eq!(throttled, 0, "{name}: the paced run met the throttle");
        } else {
            assert!(throttled > 0, "{name}: 20/s never met the throttle");
        }
        rows.push(format!(
            "| {name} | {posts} | {:.1} s | {requests} | {throttled} | {} | {} ({}) | 0 |",
            took.as_secs_f64(),
            cloudfront.calls - before.1.calls,
            batches[0].1.len(),
            batches[0].1.join(" "),
        ));
    }
    println!("| import run | posts | time | requests | 429s | CreateInvalidation calls | paths invalidated | failures |");
    println!("|---|---|---|---|---|---|---|---|");
    for r in rows {
        println!("{r}");
    }
}
