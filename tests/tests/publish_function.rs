//! The real release `publish` and `drain` bootstraps behind loopback Runtime APIs,
//! with DynamoDB on DynamoDB Local and S3, CloudFront and SSM on moto's
//! server: the events in `events/api-*.json` get their statuses, a publish lands
//! in DynamoDB with its invalidation queued in the same write, the drain sends
//! CloudFront exactly that batch and clears it, an undeliverable batch fails the
//! drain and stays queued, storage faults answer 503 and change nothing, and the
//! token never reaches the logs.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use blog_core::cdn::outbox::{Outbox, OutboxState};
use blog_e2e::api::TOKEN;
use blog_e2e::events::{self, LambdaResponse, API_EXPECTED};
use blog_e2e::proxy::Fault;
use blog_e2e::runtime_api::RuntimeApi;
use blog_e2e::{fixtures, moto};

struct Stack {
    sdk: aws_config::SdkConfig,
    table: String,
    distribution: String,
    env: Vec<(String, String)>,
    _content: tempfile::TempDir,
}

/// Table, bucket, distribution and secret on moto; the function's environment.
async fn stack(distribution_override: Option<&str>) -> Stack {
    let content = fixtures::content_dir();
    let (_, _, table, bucket) = fixtures::seed_aws(moto::endpoint(), content.path()).await;
    let sdk = moto::sdk_config(moto::endpoint()).await;
    let real = moto::distribution(&blog_core::aws::cloudfront(&sdk)).await;
    let distribution = distribution_override.map_or(real, str::to_owned);
    let (env, _) = moto::function_env(&sdk, &table, &bucket, &distribution, None).await;
    Stack {
        sdk,
        table,
        distribution,
        env,
        _content: content,
    }
}

async fn start(env: &[(String, String)], log: Option<&std::path::Path>) -> RuntimeApi {
    let mut api = RuntimeApi::start().await;
    api.spawn_logging(
        &blog_e2e::runtime_api::bootstrap(blog_core::routes::Function::Publish),
        "blog-publish",
        env,
        log,
    );
    api
}

async fn start_drain(env: &[(String, String)]) -> RuntimeApi {
    let mut api = RuntimeApi::start().await;
    api.spawn(
        &blog_e2e::runtime_api::bootstrap_named("drain"),
        "blog-drain",
        env,
    );
    api
}

async fn outbox(s: &Stack) -> OutboxState {
    blog_core::store::dynamo::DynamoPosts::new(blog_core::aws::dynamodb(&s.sdk), &s.table)
        .outbox()
        .await
        .unwrap()
}

async fn invoke(api: &RuntimeApi, name: &str) -> LambdaResponse {
    let out = api
        .invoke(&events::load(name))
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    LambdaResponse::parse(&out)
}

fn json(res: &LambdaResponse) -> serde_json::Value {
    serde_json::from_slice(&res.body).unwrap()
}

async fn post_item(s: &Stack, slug: &str) -> Option<HashMap<String, AttributeValue>> {
    blog_core::aws::dynamodb(&s.sdk)
        .get_item()
        .table_name(&s.table)
        .key("pk", AttributeValue::S(format!("POST#{slug}")))
        .key("sk", AttributeValue::S("POST".into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
}

#[tokio::test(flavor = "multi_thread")]
async fn events_publish_into_dynamodb_and_invalidate_exactly_what_changed() {
    let s = stack(None).await;
    let log = tempfile::NamedTempFile::new().unwrap();
    let api = start(&s.env, Some(log.path())).await;
    let mut created = None;
    for (name, status) in API_EXPECTED {
        let res = invoke(&api, name).await;
        assert_eq!(
            res.status,
            *status,
            "{name}: {}",
            String::from_utf8_lossy(&res.body)
        );
        assert_eq!(res.header("content-type"), "application/json", "{name}");
        if *name == "api-create-post" {
            created = Some(json(&res));
        }
        if *status == 401 {
            assert!(
                res.header("www-authenticate").starts_with("Bearer"),
                "{name}"
            );
        }
    }
    let created = created.unwrap();
    assert_eq!(created["invalidation"]["status"], "queued", "{created}");
    assert_eq!(
        created["url"],
        "https://blog.test/posts/published-from-an-event/"
    );
    let item = post_item(&s, "published-from-an-event")
        .await
        .expect("the post is in DynamoDB");
    assert!(item["html"]
        .as_s()
        .unwrap()
        .contains("<strong>publish</strong>"));

    // Queued with the write, not sent by it.
    let queued = outbox(&s).await;
    assert_eq!(queued.pending.len(), 1, "{queued:?}");
    assert_eq!(
        Some(&queued.pending[0].id),
        created["invalidation"]["id"]
            .as_str()
            .map(str::to_owned)
            .as_ref()
    );
    assert!(
        moto::invalidations(&blog_core::aws::cloudfront(&s.sdk), &s.distribution)
            .await
            .is_empty()
    );

    // The stream wakes the drain: CloudFront records exactly one batch, the paths
    // the response reported, and the outbox keeps only the record of it.
    let drain = start_drain(&s.env).await;
    let out = drain
        .invoke(&events::load_drain("stream-insert"))
        .await
        .unwrap();
    assert_eq!(out["left"], 0, "{out}");
    let after = outbox(&s).await;
    assert!(after.pending.is_empty(), "{after:?}");
    assert_eq!(after.sent[0].entries, 1, "{after:?}");
    let mut reported: Vec<String> = created["invalidation"]["paths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_owned())
        .collect();
    reported.sort();
    assert!(
        reported.contains(&"/tags/events/".to_owned())
            && reported.contains(&"/feed.xml".to_owned()),
        "{reported:?}"
    );
    assert_eq!(after.sent[0].paths, reported);
    assert_eq!(
        moto::invalidations(&blog_core::aws::cloudfront(&s.sdk), &s.distribution).await,
        vec![reported]
    );

    // Nothing the function logged holds the token, though every event carried it.
    drop(api);
    let logged = std::fs::read_to_string(log.path()).unwrap();
    assert!(
        logged.contains("published"),
        "the log is captured: {logged}"
    );
    assert!(!logged.contains(TOKEN), "the token reached the log");
    assert!(
        !logged.contains(&TOKEN[..16]),
        "part of the token reached the log"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_undeliverable_invalidation_fails_the_drain_and_stays_queued() {
    let s = stack(Some("ENOSUCHDIST")).await;
    let api = start(&s.env, None).await;
    let res = invoke(&api, "api-create-post").await;
    assert_eq!(res.status, 201, "{}", String::from_utf8_lossy(&res.body));
    let body = json(&res);
    assert_eq!(body["invalidation"]["status"], "queued", "{body}");
    // The drain's invocation fails (so the stream retries it, then records it in
    // the on-failure queue), saying why; the entry stays for the next drain.
    let drain = start_drain(&s.env).await;
    let err = drain
        .invoke(&events::load_drain("sweep"))
        .await
        .unwrap_err();
    assert!(err.contains("NoSuchDistribution"), "{err}");
    assert!(err.contains("1 queued invalidation(s)"), "{err}");
    assert_eq!(outbox(&s).await.pending.len(), 1);
    assert!(post_item(&s, "published-from-an-event").await.is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn unreachable_storage_answers_503_and_writes_nothing() {
    let s = stack(None).await;
    // DynamoDB alone points at a closed port; the secret still loads.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let mut env = s.env.clone();
    env.push((
        "AWS_ENDPOINT_URL_DYNAMODB".into(),
        format!("http://127.0.0.1:{port}"),
    ));
    env.push(("AWS_MAX_ATTEMPTS".into(), "1".into()));
    let api = start(&env, None).await;
    let res = invoke(&api, "api-create-post").await;
    assert_eq!(res.status, 503, "{}", String::from_utf8_lossy(&res.body));
    assert!(json(&res)["message"]
        .as_str()
        .unwrap()
        .contains("nothing was changed"));
    assert!(post_item(&s, "published-from-an-event").await.is_none());
    assert!(
        moto::invalidations(&blog_core::aws::cloudfront(&s.sdk), &s.distribution)
            .await
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_storage_failure_at_any_step_answers_503_and_leaves_the_table_as_it_was() {
    let s = stack(None).await;
    let proxy = blog_e2e::proxy::CountingProxy::start(moto::endpoint()).await;
    let mut env = s.env.clone();
    env.push(("AWS_ENDPOINT_URL_DYNAMODB".into(), proxy.endpoint()));
    let api = start(&env, None).await;
    let scan = || async {
        let out = blog_core::aws::dynamodb(&s.sdk)
            .scan()
            .table_name(&s.table)
            .consistent_read(true)
            .send()
            .await
            .unwrap();
        let mut items: Vec<String> = out
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|i| canonical(&AttributeValue::M(i)))
            .collect();
        items.sort();
        items
    };
    let before = scan().await;
    // A create reads (GetItem, Query) and then writes (TransactWriteItems): each
    // fails in each way a real table can fail, within the SDK's deadline.
    for fault in [
        Fault::Status500,
        Fault::Throttle,
        Fault::Reset,
        Fault::Stall(5),
    ] {
        for op in ["GetItem", "Query", "TransactWriteItems"] {
            proxy.inject(op, fault);
            let started = std::time::Instant::now();
            let res = invoke(&api, "api-create-post").await;
            let took = started.elapsed();
            res.assert_unavailable(took, &format!("{fault:?} on {op}"));
            println!("write, {fault:?} on {op}: 503 after {took:?}");
            assert!(
                proxy.take_calls().contains(&op.to_owned()),
                "{op} was reached"
            );
            assert!(
                scan().await == before,
                "a {fault:?} on {op} changed the table"
            );
        }
    }
    proxy.fail(None);
    assert_eq!(invoke(&api, "api-create-post").await.status, 201);
    assert!(scan().await != before, "the create after the faults landed");
}

/// An attribute value as text with map keys sorted (DynamoDB maps are unordered).
fn canonical(v: &AttributeValue) -> String {
    match v {
        AttributeValue::M(m) => {
            let sorted: std::collections::BTreeMap<_, _> =
                m.iter().map(|(k, v)| (k, canonical(v))).collect();
            format!("{sorted:?}")
        }
        AttributeValue::L(l) => format!("{:?}", l.iter().map(canonical).collect::<Vec<_>>()),
        other => format!("{other:?}"),
    }
}
