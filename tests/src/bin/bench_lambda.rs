//! The Lambda half of `scripts/bench.sh`: cold starts of every read function's release
//! bootstrap, of a minimal lambda_http function and of the Flask peer, all behind the
//! same loopback Runtime API; peak RSS after 1,000 invocations; DynamoDB requests per
//! page view. Prints one JSON object.
//!
//! Every cold start runs under the CPU share of a Lambda memory size (`cpu_share`),
//! at 128, 256, 512 and 1,024 MB and on the whole machine. The read functions reach
//! the emulator over HTTPS, as on AWS: through a TLS proxy (`tls_proxy`, with the chain
//! in TLS_DIR: ca.pem, chain.pem, leaf.key), trusted by the `bench-tls` builds in
//! TLS_LAMBDA_DIR; `post-http` is the same post function over plain HTTP, so the
//! difference is what the TLS handshake adds.
//!
//! Usage: bench-lambda RUNS CORPUS_DIR FLASK_BOOTSTRAP TLS_DIR TLS_LAMBDA_DIR

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark harness: a panic is the report

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use blog_e2e::cpu_share::{self, CpuShare};
use blog_e2e::proxy::CountingProxy;
use blog_e2e::runtime_api::RuntimeApi;
use blog_e2e::tls_proxy::TlsProxy;
use blog_e2e::{events, fixtures, moto, workspace};
use serde_json::json;

struct Target {
    name: &'static str,
    program: PathBuf,
    event: String,
    env: Vec<(String, String)>,
}

/// The memory sizes the cold starts run at (each under its CPU share), and `None`:
/// the whole machine, as a reference.
const MEMORY_SIZES: [Option<u32>; 5] = [None, Some(128), Some(256), Some(512), Some(1_024)];
/// Warm invocations timed after each target's last cold start.
const WARM_INVOCATIONS: usize = 200;

fn post_event(slug: &str) -> String {
    events::load("post-ok").replace("how-this-blog-works", slug)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Spawn → first poll of `/next` (init), and spawn → first response, in ms. The
/// function stays up (in `api`, confined to `share`) for warm invocations.
async fn cold_start(t: &Target, memory: Option<u32>) -> (f64, f64, RuntimeApi, Option<CpuShare>) {
    let share = memory.map(|mb| CpuShare::new(mb).unwrap());
    let mut cmd = Command::new(&t.program);
    let gate = share.as_ref().map(|s| s.confine(&mut cmd).unwrap());
    let mut env = t.env.clone();
    env.push((
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE".into(),
        memory.unwrap_or(cpu_share::FULL_VCPU_MB).to_string(),
    ));
    let mut api = RuntimeApi::start().await;
    let started = match gate {
        None => {
            let started = Instant::now();
            api.spawn_command(cmd, t.name, &env);
            started
        }
        // `spawn` returns after exec, which waits for the gate: open it from here.
        Some(gate) => tokio::task::block_in_place(|| {
            std::thread::scope(|scope| {
                let spawner = scope.spawn(|| api.spawn_command(cmd, t.name, &env));
                let started = gate.open().unwrap();
                spawner.join().unwrap();
                started
            })
        }),
    };
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
    (ms(init), ms(answered), api, share)
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
    let tls_dir = PathBuf::from(&args[4]);
    let tls_lambdas = PathBuf::from(&args[5]);

    let endpoint = moto::endpoint();
    let (_, _, table, bucket) = fixtures::seed_aws(endpoint, &corpus).await;
    let proxy = CountingProxy::start(endpoint).await;
    let site = vec![
        ("BLOG_TABLE".to_string(), table),
        ("BLOG_BUCKET".to_string(), bucket),
        ("BLOG_BASE_URL".to_string(), "https://blog.test".to_string()),
    ];
    // As deployed: HTTPS to the endpoint (a TLS proxy in front of the counting proxy),
    // trusting the bench CA as well as the pinned roots.
    let tls_proxy = TlsProxy::start(
        &proxy.endpoint(),
        &tls_dir.join("chain.pem"),
        &tls_dir.join("leaf.key"),
    )
    .await;
    let mut tls = moto::env(&tls_proxy.endpoint());
    tls.extend(site.clone());
    tls.push((
        "BLOG_BENCH_CA".into(),
        tls_dir.join("ca.pem").display().to_string(),
    ));
    let mut plain = moto::env(&proxy.endpoint());
    plain.extend(site);
    let slug = newest_public_slug(&corpus);
    let lambda = |f: &str| tls_lambdas.join(format!("blog-{f}/bootstrap"));
    let targets = vec![
        Target {
            name: "home",
            program: lambda("home"),
            event: events::load("home-ok"),
            env: tls.clone(),
        },
        Target {
            name: "post",
            program: lambda("post"),
            event: post_event(&slug),
            env: tls.clone(),
        },
        Target {
            name: "tags",
            program: lambda("tags"),
            event: events::load("tag-ok"),
            env: tls.clone(),
        },
        Target {
            name: "feed",
            program: lambda("feed"),
            event: events::load("feed-atom"),
            env: tls.clone(),
        },
        Target {
            name: "post-http",
            program: lambda("post"),
            event: post_event(&slug),
            env: plain.clone(),
        },
        Target {
            name: "hello",
            program: workspace().join("target/lambda/blog-hello/bootstrap"),
            event: events::load("home-ok"),
            env: plain.clone(),
        },
        Target {
            name: "flask",
            program: flask,
            event: post_event(&slug),
            env: vec![("BLOG_CONTENT".into(), corpus.display().to_string())],
        },
    ];

    // The Flask peer installs its virtualenv on first use: pay that before timing.
    drop(cold_start(&targets[6], None).await);

    let mut cold = serde_json::Map::new();
    for memory in MEMORY_SIZES {
        let label = memory.map_or("unlimited".to_string(), |mb| mb.to_string());
        let mut at_size = serde_json::Map::new();
        for t in &targets {
            let mut init = Vec::new();
            let mut first = Vec::new();
            let mut warm = Vec::new();
            let mut handshake = Vec::new();
            for run in 0..runs {
                tls_proxy.take_handshakes();
                let (i, f, api, share) = cold_start(t, memory).await;
                init.push(i);
                first.push(f);
                if let Some(first_handshake) = tls_proxy.take_handshakes().first() {
                    handshake.push(ms(*first_handshake));
                }
                if run + 1 == runs {
                    for _ in 0..WARM_INVOCATIONS {
                        let sent = Instant::now();
                        api.invoke(&t.event).await.unwrap();
                        warm.push(ms(sent.elapsed()));
                    }
                }
                drop(api);
                drop(share);
            }
            for v in [&mut init, &mut first, &mut warm, &mut handshake] {
                v.sort_by(f64::total_cmp);
            }
            // What Lambda would bill for the warm views: each rounded up to the ms.
            let billed = warm.iter().map(|ms| ms.ceil().max(1.0)).sum::<f64>() / warm.len() as f64;
            at_size.insert(
                t.name.into(),
                json!({
                    "runs": runs,
                    "quota_us": memory.map(cpu_share::quota_us),
                    "init_p50_ms": percentile(&init, 50.0), "init_p95_ms": percentile(&init, 95.0),
                    "first_p50_ms": percentile(&first, 50.0), "first_p95_ms": percentile(&first, 95.0),
                    "warm_p50_ms": percentile(&warm, 50.0), "warm_p99_ms": percentile(&warm, 99.0),
                    "warm_billed_mean_ms": billed,
                    "tls_handshake_p50_ms": (!handshake.is_empty()).then(|| percentile(&handshake, 50.0)),
                    "tls_handshake_p95_ms": (!handshake.is_empty()).then(|| percentile(&handshake, 95.0)),
                }),
            );
            eprintln!("cold start {} at {label}: done", t.name);
        }
        cold.insert(label, at_size.into());
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
    let report = json!({ "warm_invocations": WARM_INVOCATIONS, "cold_start": cold, "dynamodb_requests_per_view": requests, "peak_rss_kib_after_1000": rss });
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
