//! The real release read bootstraps when DynamoDB misbehaves or holds what no
//! current writer would store. Behind the fault-injecting proxy, every fault a
//! real table can show (a 500, throttling, a connection cut mid-answer, a 5-second
//! stall) becomes a 503 with `Retry-After` within the SDK timeouts the functions
//! set (`blog_core::aws::OPERATION_TIMEOUT`), never a wait for the Lambda timeout;
//! and an item written by hand or by an older version (a year outside 0001-9999)
//! costs the pages that show it a logged 500, while the process keeps serving.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use blog_core::routes::Function;
use blog_e2e::events::{self, LambdaResponse};
use blog_e2e::moto;
use blog_e2e::proxy::Fault;
use blog_e2e::stack::Stack;

struct Site {
    stack: Stack,
    ddb: aws_sdk_dynamodb::Client,
}

async fn site() -> Site {
    let stack = Stack::start(&[Function::Post, Function::Feed, Function::Home]).await;
    let ddb = blog_core::aws::dynamodb(&moto::sdk_config(moto::endpoint()).await);
    Site { stack, ddb }
}

impl Site {
    async fn get(&self, event: &str) -> (LambdaResponse, Duration) {
        let started = Instant::now();
        let res = self.stack.invoke(&events::load(event)).await;
        (res, started.elapsed())
    }

    async fn put(&self, item: serde_json::Value) {
        let item: HashMap<String, AttributeValue> = serde_dynamo::to_item(item).unwrap();
        self.ddb
            .put_item()
            .table_name(&self.stack.table)
            .set_item(Some(item))
            .send()
            .await
            .unwrap();
    }

    async fn delete(&self, pk: &str, sk: &str) {
        self.ddb
            .delete_item()
            .table_name(&self.stack.table)
            .key("pk", AttributeValue::S(pk.into()))
            .key("sk", AttributeValue::S(sk.into()))
            .send()
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn storage_faults_answer_503_with_retry_after_within_the_sdk_timeouts() {
    let s = site().await;
    let (ok, _) = s.get("post-ok").await;
    assert_eq!(ok.status, 200);
    for fault in [
        Fault::Status500,
        Fault::Throttle,
        Fault::Reset,
        Fault::Stall(5),
    ] {
        for (event, op) in [("post-ok", "GetItem"), ("feed-atom", "Query")] {
            s.stack.proxy.inject(op, fault);
            s.stack.proxy.take_calls();
            let (res, took) = s.get(event).await;
            let calls = s.stack.proxy.take_calls();
            res.assert_unavailable(took, &format!("{fault:?} on {op}"));
            // Retried by the SDK (3 attempts), except what the deadline cut short.
            let attempts = calls.iter().filter(|c| *c == op).count();
            assert!((1..=3).contains(&attempts), "{fault:?} on {op}: {calls:?}");
            println!("{fault:?} on {op}: 503 after {took:?}, {attempts} attempts");
            s.stack.proxy.fail(None);
            let (res, _) = s.get(event).await;
            assert_eq!(
                res.status, 200,
                "{event} after {fault:?}: the process still serves"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_item_no_writer_would_store_costs_its_pages_a_500_not_the_process() {
    let s = site().await;
    let entry = |pk: &str, sk: &str, date: &str| {
        serde_json::json!({
            "pk": pk, "sk": sk, "slug": "evil", "title": "Evil", "date": date,
            "tags": [], "description": "x", "summary_html": "<p>x</p>",
            "reading_minutes": 1, "html": "<p>x</p>",
        })
    };
    // What the previous version wrote for `updated: +10000-01-01`-style dates: a key
    // that sorts before every digit (listed as long past), and a year RSS cannot write.
    s.put(entry(
        "FEED",
        "+10000-01-01T00:00:00Z#evil",
        "+10000-01-01T00:00:00+00:00",
    ))
    .await;
    for _ in 0..2 {
        let (res, _) = s.get("feed-atom").await;
        assert_eq!(res.status, 500, "{}", String::from_utf8_lossy(&res.body));
        assert_eq!(res.header("cache-control"), "no-store");
        let (res, _) = s.get("feed-robots").await;
        assert_eq!(
            res.status, 200,
            "the feed function still serves other routes"
        );
    }
    s.delete("FEED", "+10000-01-01T00:00:00Z#evil").await;
    let (res, _) = s.get("feed-atom").await;
    assert_eq!(res.status, 200, "the feed is back once the item is gone");

    // A post item dated year -1, with its index entry.
    let mut post = entry(
        "POST#how-this-blog-works",
        "POST",
        "-0001-01-01T00:00:00+00:00",
    );
    let obj = post.as_object_mut().unwrap();
    obj.insert("slug".into(), "how-this-blog-works".into());
    obj.insert("version".into(), 9.into());
    obj.insert("draft".into(), false.into());
    obj.insert("aliases".into(), serde_json::json!([]));
    obj.insert("markdown".into(), "x".into());
    obj.insert("toc".into(), serde_json::json!([]));
    obj.insert("gsi1pk".into(), "PUBLISHED".into());
    obj.insert(
        "gsi1sk".into(),
        "-0001-01-01T00:00:00Z#how-this-blog-works".into(),
    );
    s.put(post).await;
    for _ in 0..2 {
        let (res, _) = s.get("post-ok").await;
        assert_eq!(res.status, 500, "{}", String::from_utf8_lossy(&res.body));
        let (res, _) = s.get("home-ok").await;
        assert_eq!(res.status, 500, "the home page lists it");
        let (res, _) = s.get("post-missing").await;
        assert_eq!(res.status, 404, "other posts' routes still answer");
    }
}
