//! In-process latency: the post, home and feed handlers serving stored HTML (the
//! filesystem store keeps every post rendered in memory, as DynamoDB items hold
//! them), and rendering short, medium and long posts at publish.
//! Posts come from `BENCH_CORPUS` (see scripts/bench.sh), else `content/`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark: a panic is the report

use std::path::PathBuf;

use blog_core::store::fs::FsStore;
use blog_core::{App, Config};
use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion};

fn corpus() -> PathBuf {
    std::env::var_os("BENCH_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../content"))
}

fn get(uri: &str) -> http::Request<Bytes> {
    http::Request::builder()
        .uri(uri)
        .body(Bytes::new())
        .unwrap()
}

fn handlers(c: &mut Criterion) {
    let store = FsStore::open(corpus()).unwrap();
    let app = App::one_store(Config::for_test(), store).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let newest = rt.block_on(async {
        let now = chrono::Utc::now();
        blog_core::store::Posts::all_public(&*app.posts, now)
            .await
            .unwrap()[0]
            .slug
            .clone()
    });
    let post = format!("/posts/{newest}/");
    for (name, uri) in [
        ("post page", post.as_str()),
        ("home page", "/"),
        ("atom feed", "/feed.xml"),
    ] {
        let res = rt.block_on(blog_core::routes::handle(&app, None, get(uri)));
        assert_eq!(res.status(), 200, "{uri}");
        c.bench_function(&format!("handler/{name}"), |b| {
            b.iter(|| rt.block_on(blog_core::routes::handle(&app, None, get(uri))))
        });
    }
}

fn render_at_publish(c: &mut Criterion) {
    let mut sources: Vec<(String, String)> = std::fs::read_dir(corpus())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .map(|p| {
            (
                p.file_stem().unwrap().to_str().unwrap().to_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    sources.sort_by_key(|(_, text)| text.len());
    let pick = |q: f64| &sources[((sources.len() - 1) as f64 * q) as usize];
    for (name, (stem, text)) in [
        ("short", pick(0.1)),
        ("medium", pick(0.5)),
        ("long", pick(0.9)),
    ] {
        c.bench_function(
            &format!("publish render/{name} ({} bytes)", text.len()),
            |b| b.iter(|| blog_core::authoring::compile(text, Some(stem)).unwrap()),
        );
    }
}

criterion_group!(benches, handlers, render_at_publish);
criterion_main!(benches);
