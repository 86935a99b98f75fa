//! The Lambda half of `scripts/bench.sh`: cold starts of every read function's release
//! bootstrap, of a minimal lambda_http function and of the Flask peer, all behind the
//! same loopback Runtime API; peak RSS after 1,000 invocations; DynamoDB requests per
//! page view. Prints one JSON object.
//!
//! Usage: bench-lambda RUNS CORPUS_DIR FLASK_BOOTSTRAP

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark harness: a panic is the report

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use blog_e2e::proxy::CountingProxy;
use blog_e2e::runtime_api::RuntimeApi;
use blog_e2e::{events, fixtures, moto, workspace};
use serde_json::json;

struct Target {
    name: &'static str,
    program: PathBuf,
    event: String,
    env: Vec<(String, String)>,
}

fn post_event(slug: &str) -> String {
    events::load("post-ok").replace("how-this-blog-works", slug)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// Spawn → first poll of `/next` (init), and spawn → first response, in ms.
async fn cold_start(t: &Target) -> (f64, f64) {
    let mut api = RuntimeApi::start().await;
    let started = Instant::now();
    api.spawn_command(Command::new(&t.program), t.name, &t.env);
    let out = api
        .invoke(&t.event)
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", t.name));
    let answered = started.elapsed();
    let status = out["statusCode"].as_u64().unwrap_or(0);
    assert_eq!(
        status,
        200,
        "{}: first response {}",
        t.name,
        &out.to_string()[..out.to_string().len().min(600)]
    );
    let init = api.first_poll().unwrap().duration_since(started);
    (init.as_secs_f64() * 1e3, answered.as_secs_f64() * 1e3)
}

fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runs: usize = args[1].parse().unwrap();
    let corpus = std::fs::canonicalize(&args[2]).unwrap();
    let flask = PathBuf::from(&args[3]);

    let endpoint = moto::endpoint();
    let (_, _, table, bucket) = fixtures::seed_aws(endpoint, &corpus).await;
    let proxy = CountingProxy::start(endpoint).await;
    let mut env = moto::env(&proxy.endpoint());
    env.push(("BLOG_TABLE".into(), table));
    env.push(("BLOG_BUCKET".into(), bucket));
    env.push(("BLOG_BASE_URL".into(), "https://blog.test".into()));
    let slug = newest_public_slug(&corpus);
    let lambda = |f: &str| workspace().join(format!("target/lambda/blog-{f}/bootstrap"));
    let targets = vec![
        Target {
            name: "home",
            program: lambda("home"),
            event: events::load("home-ok"),
            env: env.clone(),
        },
        Target {
            name: "post",
            program: lambda("post"),
            event: post_event(&slug),
            env: env.clone(),
        },
        Target {
            name: "tags",
            program: lambda("tags"),
            event: events::load("tag-ok"),
            env: env.clone(),
        },
        Target {
            name: "feed",
            program: lambda("feed"),
            event: events::load("feed-atom"),
            env: env.clone(),
        },
        Target {
            name: "hello",
            program: lambda("hello"),
            event: events::load("home-ok"),
            env: env.clone(),
        },
        Target {
            name: "flask",
            program: flask,
            event: post_event(&slug),
            env: vec![("BLOG_CONTENT".into(), corpus.display().to_string())],
        },
    ];

    // The Flask peer installs its virtualenv on first use: pay that before timing.
    cold_start(&targets[5]).await;

    let mut cold = serde_json::Map::new();
    for t in &targets {
        let mut init = Vec::new();
        let mut first = Vec::new();
        for _ in 0..runs {
            let (i, f) = cold_start(t).await;
            init.push(i);
            first.push(f);
        }
        init.sort_by(f64::total_cmp);
        first.sort_by(f64::total_cmp);
        cold.insert(
            t.name.into(),
            json!({
                "runs": runs,
                "init_p50_ms": percentile(&init, 50.0), "init_p95_ms": percentile(&init, 95.0),
                "first_p50_ms": percentile(&first, 50.0), "first_p95_ms": percentile(&first, 95.0),
            }),
        );
        eprintln!("cold start {}: done", t.name);
    }

    // DynamoDB requests for one view of each page type, on a warm function.
    let mut requests = serde_json::Map::new();
    let mut rss = serde_json::Map::new();
    for t in targets.iter().take(4) {
        let mut api = RuntimeApi::start().await;
        api.spawn_command(Command::new(&t.program), t.name, &t.env);
        api.invoke(&t.event).await.unwrap();
        proxy.take_calls();
        api.invoke(&t.event).await.unwrap();
        requests.insert(t.name.into(), json!(proxy.take_calls()));
        for _ in 0..1000 {
            api.invoke(&t.event).await.unwrap();
        }
        rss.insert(t.name.into(), json!(peak_rss_kib(api.pid().unwrap())));
        proxy.take_calls();
        eprintln!("1,000 invocations of {}: done", t.name);
    }
    let report = json!({ "cold_start": cold, "dynamodb_requests_per_view": requests, "peak_rss_kib_after_1000": rss });
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
    std::thread::sleep(Duration::from_millis(10));
}

/// The newest published post of the corpus, by file date (what the home page shows first).
fn newest_public_slug(corpus: &Path) -> String {
    let posts = fixtures::compile_all(corpus);
    posts
        .iter()
        .filter(|p| !p.draft)
        .max_by_key(|p| p.sort_key())
        .unwrap()
        .slug
        .to_string()
}
