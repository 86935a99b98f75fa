//! Invalidations under CloudFront's real quota, through the release `publish` and
//! `drain` bootstraps, DynamoDB Local, and the quota stand-in in front of moto
//! (15 wildcard and 3,000 file paths in progress; moto enforces neither):
//! the stand-in refuses what the documented quota refuses, with CloudFront's error
//! shape, and 30 publishes in 10 seconds on a distribution whose quota starts full
//! lose no invalidation: every path each publish reported reaches CloudFront in a
//! batch accepted after it, and the outbox ends empty.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_cloudfront::types::{InvalidationBatch, Paths};
use blog_core::cdn::outbox::Outbox;
use blog_e2e::cloudfront::QuotaCloudFront;
use blog_e2e::deployment::Deployment;
use blog_e2e::events::{self, LambdaResponse};
use blog_e2e::throttle::api_event;
use blog_e2e::{fixtures, moto};

/// A CloudFront client for the stand-in.
async fn client(endpoint: &str) -> aws_sdk_cloudfront::Client {
    blog_core::aws::cloudfront(&moto::sdk_config(endpoint).await)
}

async fn create(
    cf: &aws_sdk_cloudfront::Client,
    distribution: &str,
    paths: &[String],
    reference: &str,
) -> Result<
    aws_sdk_cloudfront::operation::create_invalidation::CreateInvalidationOutput,
    aws_sdk_cloudfront::error::SdkError<
        aws_sdk_cloudfront::operation::create_invalidation::CreateInvalidationError,
    >,
> {
    let batch = InvalidationBatch::builder()
        .paths(
            Paths::builder()
                .quantity(paths.len() as i32)
                .set_items(Some(paths.to_vec()))
                .build()
                .unwrap(),
        )
        .caller_reference(reference)
        .build()
        .unwrap();
    cf.create_invalidation()
        .distribution_id(distribution)
        .invalidation_batch(batch)
        .send()
        .await
}

fn wildcards(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("/{prefix}{i}/?*")).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_stand_in_enforces_the_documented_quota_with_cloudfronts_error() {
    let standin = QuotaCloudFront::start(moto::endpoint(), Duration::from_secs(2)).await;
    let cf = client(&standin.endpoint()).await;
    let id = moto::distribution(&client(moto::endpoint()).await).await;
    for i in 0..3 {
        create(&cf, &id, &wildcards(&format!("a{i}-"), 5), &format!("r{i}"))
            .await
            .unwrap();
    }
    // A 16th wildcard in progress is refused, as the SDK's typed error.
    let err = create(&cf, &id, &wildcards("b", 1), "r3")
        .await
        .unwrap_err();
    let service = err.as_service_error().expect("a service error");
    assert!(
        service.is_too_many_invalidations_in_progress(),
        "{service:?}"
    );
    // The same caller reference and paths again: the first answer, nothing new.
    let again = create(&cf, &id, &wildcards("a0-", 5), "r0").await.unwrap();
    assert!(again.invalidation.is_some());
    // File paths have a quota of their own: 3,000 fit beside the wildcards.
    let files: Vec<String> = (0..3000).map(|i| format!("/posts/p{i}/")).collect();
    create(&cf, &id, &files, "files").await.unwrap();
    let err = create(&cf, &id, &["/posts/one-more/".to_owned()], "file-3001")
        .await
        .unwrap_err();
    assert!(err
        .as_service_error()
        .unwrap()
        .is_too_many_invalidations_in_progress());
    // Once they complete, there is room again.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    create(&cf, &id, &wildcards("c", 15), "r4").await.unwrap();
    let record = standin.record();
    assert_eq!((record.calls, record.refused), (8, 2));
    assert_eq!(record.accepted.len(), 5);
}

/// One of the 30 publishes: a new post, or an edit of an earlier one at its
/// first version.
fn publish_event(i: usize) -> String {
    if i % 3 == 2 {
        let n = i - 2;
        let source = format!(
            "---\ntitle: Burst post {n}, edited\ndate: 2025-02-{:02}\ntags: [burst-{n}, shared]\n---\nEdited body {i}.\n",
            n % 28 + 1
        );
        api_event(
            "PUT",
            &format!("/api/posts/burst-post-{n}"),
            &[("content-type", "text/markdown"), ("if-match", "\"1\"")],
            source.as_bytes(),
        )
    } else {
        let source = format!(
            "---\ntitle: Burst post {i}\nslug: burst-post-{i}\ndate: 2025-02-{:02}\ntags: [burst-{i}, shared]\n---\nBody {i}.\n",
            i % 28 + 1
        );
        api_event(
            "POST",
            "/api/posts",
            &[("content-type", "text/markdown")],
            source.as_bytes(),
        )
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn thirty_publishes_in_ten_seconds_lose_no_invalidation() {
    let content = fixtures::content_dir();
    let Deployment {
        sdk: _,
        posts,
        group: _,
        publish,
        drain,
        cloudfront: standin,
        distribution,
    } = Deployment::start(Some(content.path()), Duration::from_secs(3)).await;
    let drain = Arc::new(drain);

    // The quota starts full: someone's "/*" and two batches of seven wildcards
    // are still in progress, so the first drains are refused and must wait.
    let cf = client(&standin.endpoint()).await;
    create(&cf, &distribution, &["/*".to_owned()], "manual")
        .await
        .unwrap();
    for i in 0..2 {
        create(
            &cf,
            &distribution,
            &wildcards(&format!("old{i}-"), 7),
            &format!("old{i}"),
        )
        .await
        .unwrap();
    }

    // The stream: the drain is invoked every 2 s while publishes go on (the event
    // source mapping's batching window), one invocation at a time (one shard).
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stream = tokio::spawn({
        let (drain, stop) = (drain.clone(), stop.clone());
        async move {
            let mut outcomes = Vec::new();
            loop {
                let last = stop.load(std::sync::atomic::Ordering::SeqCst);
                outcomes.push(drain.invoke(&events::load_drain("stream-insert")).await);
                if last {
                    return outcomes;
                }
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
    });

    let started = Instant::now();
    let mut reported = Vec::new();
    for i in 0..30 {
        let due = started + Duration::from_millis(333 * i as u64);
        tokio::time::sleep_until(due.into()).await;
        let sent_at = Instant::now();
        let out = publish.invoke(&publish_event(i)).await.unwrap();
        let res = LambdaResponse::parse(&out);
        let body: serde_json::Value = serde_json::from_slice(&res.body).unwrap();
        assert!(
            [200, 201].contains(&res.status),
            "publish {i}: {} {body}",
            res.status
        );
        assert_eq!(body["invalidation"]["status"], "queued", "{body}");
        let paths: Vec<String> = body["invalidation"]["paths"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap().to_owned())
            .collect();
        reported.push((sent_at, paths));
    }
    let publishing = started.elapsed();
    assert!(publishing < Duration::from_secs(12), "{publishing:?}");
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let outcomes = tokio::time::timeout(Duration::from_secs(120), stream)
        .await
        .expect("the drains finish")
        .unwrap();
    let left = posts.outbox().await.unwrap();
    assert!(left.pending.is_empty(), "still queued: {left:?}");

    // Every path of every publish is in a batch CloudFront accepted after the
    // publish started, exactly or as "/*".
    let record = standin.record();
    for (i, (at, paths)) in reported.iter().enumerate() {
        for p in paths {
            assert!(
                record.accepted.iter().any(|(when, batch)| when >= at
                    && (batch.contains(p) || batch.iter().any(|b| b == "/*"))),
                "publish {i}: {p} was never invalidated after it"
            );
        }
    }
    assert!(
        record.refused > 0,
        "the full quota was never met: {record:?}"
    );
    let failed: Vec<_> = outcomes.iter().filter(|o| o.is_err()).collect();
    let queued: usize = reported.iter().map(|(_, p)| p.len()).sum();
    let sent: usize = record.accepted.iter().skip(3).map(|(_, b)| b.len()).sum();
    println!(
        "30 publishes in {:.1} s: {} queued path(s); {} drain invocation(s) ({} failed and left their entries queued), \
         {} CreateInvalidation call(s), {} refused with TooManyInvalidationsInProgress, {} batch(es) accepted with {} path(s)",
        publishing.as_secs_f64(),
        queued,
        outcomes.len(),
        failed.len(),
        record.calls - 3,
        record.refused,
        record.accepted.len() - 3,
        sent
    );
}
