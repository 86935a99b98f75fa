//! Deploys bring stored posts to the deployed renderer (`blog_core::rerender`), on
//! DynamoDB Local through the real SDK: posts written with an older renderer's
//! stamp are re-rendered once, byte-equal to a fresh publish, links and versions
//! intact; a publish racing the re-render wins; a run that fails halfway resumes
//! without re-rendering anything twice; and the release `drain` bootstrap answers
//! CloudFormation's Create, Update and Delete requests (events/drain/) with one
//! `/*` for a deploy that changed the renderer or the pages and none for one that
//! changed neither, its answer PUT to a pre-signed URL served here.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use blog_core::cdn::drain::{self, EVERYTHING};
use blog_core::cdn::outbox::{Outbox, OutboxState, Sent};
use blog_core::error::StoreError;
use blog_core::post::{Post, Slug};
use blog_core::rerender::{self, Job, RenderLedger, SiteVersions};
use blog_core::store::dynamo::DynamoPosts;
use blog_core::store::{Expected, IndexEntry, PostWriter, Versioned, Written};
use blog_e2e::deployment::Deployment;
use blog_e2e::events;
use blog_e2e::proxy::{CountingProxy, Fault};
use blog_e2e::{fixtures, moto};
use chrono::{DateTime, Utc};

/// A renderer and pages no build has.
fn old_versions() -> SiteVersions {
    SiteVersions {
        renderer: "0ld0ld0ld0ld0ld0".into(),
        pages: "0ld0ld0ld0ld0ld1".into(),
    }
}

/// `post` as an older renderer stored it: other HTML, and its stamp.
fn as_older_renderer_made(post: &Post) -> Post {
    Post {
        html: "<p>rendered by an older build</p>".into(),
        summary_html: "<p>older</p>".into(),
        toc: Vec::new(),
        reading_minutes: 42,
        description: if post.description_from_body {
            "older".into()
        } else {
            post.description.clone()
        },
        renderer: old_versions().renderer,
        ..post.clone()
    }
}

/// Stores every post of `posts` as an older build would have, and records the
/// older versions; returns each post's version afterwards.
async fn make_stale(posts: &DynamoPosts, slugs: &[Slug]) -> HashMap<Slug, u64> {
    let mut versions = HashMap::new();
    for slug in slugs {
        let stored = posts.current(slug).await.unwrap().unwrap();
        let written = posts
            .save(
                slug,
                as_older_renderer_made(&stored.post),
                "",
                Expected::Version(stored.version),
            )
            .await
            .unwrap();
        versions.insert(slug.clone(), written.after.unwrap().version);
    }
    let seen = posts.site_versions().await.unwrap();
    posts
        .record_versions(seen.as_ref(), &old_versions(), &[], Utc::now())
        .await
        .unwrap();
    assert_eq!(posts.site_versions().await.unwrap(), Some(old_versions()));
    // Start from an empty outbox: what follows is the re-render's alone.
    drain::drain(posts, &blog_core::cdn::LogCdn, Duration::from_secs(10))
        .await
        .unwrap();
    versions
}

async fn slugs(posts: &DynamoPosts) -> Vec<Slug> {
    posts
        .index()
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.slug)
        .collect()
}

fn far() -> Instant {
    Instant::now() + Duration::from_secs(300)
}

/// The `/*` entries pending.
fn everything_entries(state: &OutboxState) -> usize {
    state
        .pending
        .iter()
        .filter(|q| q.paths == [EVERYTHING])
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn posts_an_older_renderer_made_are_rerendered_once_as_a_fresh_publish_would_store_them() {
    let dir = fixtures::content_dir();
    let (posts, _, _, _) = fixtures::seed_aws(moto::endpoint(), dir.path()).await;
    let all = slugs(&posts).await;
    let links_before: HashMap<Slug, Post> = {
        let mut m = HashMap::new();
        for slug in &all {
            m.insert(
                slug.clone(),
                posts.current(slug).await.unwrap().unwrap().post,
            );
        }
        m
    };
    let versions = make_stale(&posts, &all).await;
    assert_eq!(posts.stale(blog_core::version::RENDERER).await.unwrap(), {
        let mut s = all.clone();
        s.sort();
        s
    });

    let progress = rerender::run(&posts, false, far(), Utc::now())
        .await
        .unwrap();
    assert_eq!(progress.rerendered.len(), all.len(), "{progress:?}");
    assert!(progress.raced.is_empty() && progress.failed.is_empty());
    assert!(progress.finished());

    let fresh: HashMap<Slug, Post> = fixtures::compile_all(dir.path())
        .into_iter()
        .map(|p| (p.slug.clone(), p))
        .collect();
    for slug in &all {
        let stored = posts.current(slug).await.unwrap().unwrap();
        // Byte-equal to publishing the same source with this build.
        assert!(
            stored.post.same_content(&fresh[slug]),
            "{slug}: stored {:?}\nfresh {:?}",
            stored.post,
            fresh[slug]
        );
        assert_eq!(stored.post.renderer, blog_core::version::RENDERER);
        // Links as they were; one write each.
        assert_eq!(stored.post.previous, links_before[slug].previous, "{slug}");
        assert_eq!(stored.post.next, links_before[slug].next, "{slug}");
        assert_eq!(stored.version, versions[slug] + 1, "{slug}");
    }
    assert_eq!(
        posts.site_versions().await.unwrap(),
        Some(SiteVersions::current())
    );
    // The posts' own paths and one `/*`, released together: one batch, `/*`.
    let state = posts.outbox().await.unwrap();
    assert_eq!(everything_entries(&state), 1);
    assert_eq!(drain::batch(&state.pending), [EVERYTHING]);
    assert!(!state.held(Utc::now()), "the hold was released");

    // A second run finds the site current and writes nothing.
    let again = rerender::run(&posts, false, far(), Utc::now())
        .await
        .unwrap();
    assert!(again.up_to_date);
    let forced = rerender::run(&posts, true, far(), Utc::now())
        .await
        .unwrap();
    assert!(forced.rerendered.is_empty() && forced.invalidation.is_none());
    for slug in &all {
        assert_eq!(
            posts.current(slug).await.unwrap().unwrap().version,
            versions[slug] + 1
        );
    }
    assert_eq!(everything_entries(&posts.outbox().await.unwrap()), 1);
}

/// The store, with a publish of `target` landing between the re-render's read of
/// it and its write.
struct PublishInBetween<'a> {
    inner: &'a DynamoPosts,
    target: Slug,
    source: String,
    published: Mutex<Option<u64>>,
}

impl PostWriter for PublishInBetween<'_> {
    async fn current(&self, slug: &Slug) -> Result<Option<Versioned>, StoreError> {
        self.inner.current(slug).await
    }

    async fn index(&self) -> Result<Vec<IndexEntry>, StoreError> {
        self.inner.index().await
    }

    async fn save(
        &self,
        slug: &Slug,
        post: Post,
        source: &str,
        expected: Expected,
    ) -> Result<Written, StoreError> {
        if *slug == self.target && self.published.lock().unwrap().is_none() {
            let Expected::Version(seen) = expected else {
                panic!("a re-render updates")
            };
            let author = blog_core::authoring::compile(&self.source, Some(slug.as_str())).unwrap();
            let w = self
                .inner
                .save(slug, author, &self.source, Expected::Version(seen))
                .await
                .unwrap();
            *self.published.lock().unwrap() = Some(w.after.unwrap().version);
        }
        self.inner.save(slug, post, source, expected).await
    }

    async fn delete(&self, slug: &Slug, version: u64) -> Result<Written, StoreError> {
        self.inner.delete(slug, version).await
    }
}

impl Outbox for PublishInBetween<'_> {
    async fn queue(
        &self,
        paths: &[String],
        now: DateTime<Utc>,
    ) -> Result<Option<String>, StoreError> {
        self.inner.queue(paths, now).await
    }
    async fn outbox(&self) -> Result<OutboxState, StoreError> {
        self.inner.outbox().await
    }
    async fn hold(&self, until: Option<DateTime<Utc>>) -> Result<(), StoreError> {
        self.inner.hold(until).await
    }
    async fn clear(&self, ids: &[String], sent: &Sent) -> Result<(), StoreError> {
        self.inner.clear(ids, sent).await
    }
}

impl RenderLedger for PublishInBetween<'_> {
    async fn stale(&self, renderer: &str) -> Result<Vec<Slug>, StoreError> {
        self.inner.stale(renderer).await
    }
    async fn site_versions(&self) -> Result<Option<SiteVersions>, StoreError> {
        self.inner.site_versions().await
    }
    async fn record_versions(
        &self,
        from: Option<&SiteVersions>,
        to: &SiteVersions,
        paths: &[String],
        now: DateTime<Utc>,
    ) -> Result<Option<String>, StoreError> {
        self.inner.record_versions(from, to, paths, now).await
    }
    async fn job(&self) -> Result<Option<Job>, StoreError> {
        self.inner.job().await
    }
    async fn set_job(&self, job: Option<&Job>) -> Result<(), StoreError> {
        self.inner.set_job(job).await
    }
    async fn requests(&self) -> Result<Vec<serde_json::Value>, StoreError> {
        self.inner.requests().await
    }
    async fn keep_request(&self, id: &str, event: &serde_json::Value) -> Result<(), StoreError> {
        self.inner.keep_request(id, event).await
    }
    async fn drop_request(&self, id: &str) -> Result<(), StoreError> {
        self.inner.drop_request(id).await
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_publish_during_the_rerender_wins() {
    let dir = fixtures::content_dir();
    let (posts, _, _, _) = fixtures::seed_aws(moto::endpoint(), dir.path()).await;
    let all = slugs(&posts).await;
    let versions = make_stale(&posts, &all).await;
    let target = all[all.len() / 2].clone();
    let source = "---\ntitle: Edited while the deploy ran\ndate: 2024-02-03\n---\nThe author's words, **now**.\n";
    let racing = PublishInBetween {
        inner: &posts,
        target: target.clone(),
        source: source.into(),
        published: Mutex::new(None),
    };
    let progress = rerender::run(&racing, false, far(), Utc::now())
        .await
        .unwrap();
    assert_eq!(progress.raced, std::slice::from_ref(&target));
    assert_eq!(progress.rerendered.len(), all.len() - 1);
    let stored = posts.current(&target).await.unwrap().unwrap();
    assert_eq!(stored.post.title, "Edited while the deploy ran");
    assert!(stored.post.html.contains("<strong>now</strong>"));
    assert_eq!(
        stored.version,
        versions[&target] + 1,
        "the publish's write only"
    );
    assert_eq!(Some(stored.version), *racing.published.lock().unwrap());
    assert_eq!(stored.post.renderer, blog_core::version::RENDERER);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_that_fails_halfway_resumes_without_rerendering_a_post_twice() {
    let dir = fixtures::content_dir();
    let (_, _, table, _) = fixtures::seed_aws(moto::endpoint(), dir.path()).await;
    let proxy = CountingProxy::start(moto::endpoint()).await;
    let sdk = moto::sdk_config(&proxy.endpoint()).await;
    let posts = DynamoPosts::new(blog_core::aws::dynamodb(&sdk), &table);
    let all = slugs(&posts).await;
    let versions = make_stale(&posts, &all).await;
    let half = all.len() / 2;
    assert!(half >= 2, "the sample content has {} posts", all.len());

    // Every write after the first `half` fails, retries included.
    proxy.inject_after("TransactWriteItems", half, Fault::Status500);
    let failed = rerender::run(&posts, false, far(), Utc::now()).await;
    assert!(
        matches!(failed, Err(StoreError::Unavailable { .. })),
        "{failed:?}"
    );
    proxy.fail(None);
    let stale = posts.stale(blog_core::version::RENDERER).await.unwrap();
    assert_eq!(stale.len(), all.len() - half, "{stale:?}");
    assert_eq!(posts.site_versions().await.unwrap(), Some(old_versions()));
    assert_eq!(everything_entries(&posts.outbox().await.unwrap()), 0);

    let resumed = rerender::run(&posts, false, far(), Utc::now())
        .await
        .unwrap();
    assert_eq!(resumed.rerendered.len(), all.len() - half, "{resumed:?}");
    for slug in &all {
        let stored = posts.current(slug).await.unwrap().unwrap();
        assert_eq!(stored.version, versions[slug] + 1, "{slug} written once");
        assert_eq!(stored.post.renderer, blog_core::version::RENDERER);
    }
    assert_eq!(everything_entries(&posts.outbox().await.unwrap()), 1);
    assert_eq!(
        posts.site_versions().await.unwrap(),
        Some(SiteVersions::current())
    );
}

fn drain_event(name: &str) -> serde_json::Value {
    serde_json::from_str(&events::load_drain(name)).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deploy_cut_short_is_continued_by_its_own_build_only_and_then_answered() {
    let dir = fixtures::content_dir();
    let (posts, _, _, _) = fixtures::seed_aws(moto::endpoint(), dir.path()).await;
    let all = slugs(&posts).await;
    let versions = make_stale(&posts, &all).await;
    let update = drain_event("cloudformation-update");

    // The deploy's invocation has no time left: it keeps the request, records
    // the run for the next invocation, and answers nothing yet.
    let cut = rerender::wake(&posts, &update, Instant::now())
        .await
        .unwrap();
    assert!(cut.due.is_empty());
    assert_eq!(cut.progress.unwrap().left, all.len());
    let job = posts.job().await.unwrap().unwrap();
    assert_eq!(job.target, SiteVersions::current());
    assert_eq!(
        posts.requests().await.unwrap(),
        std::slice::from_ref(&update)
    );

    // A run recorded by another build (code from before the deploy, woken by a
    // retried event) is not this build's to continue: nothing is written.
    posts
        .set_job(Some(&Job {
            target: old_versions(),
            ..job.clone()
        }))
        .await
        .unwrap();
    let other = rerender::wake(&posts, &drain_event("sweep"), far())
        .await
        .unwrap();
    assert!(other.progress.is_none() && other.due.is_empty());
    assert_eq!(
        posts
            .stale(blog_core::version::RENDERER)
            .await
            .unwrap()
            .len(),
        all.len()
    );

    // The record's own stream event wakes this build, which finishes the run and
    // owes the deploy its answer.
    posts.set_job(Some(&job)).await.unwrap();
    let done = rerender::wake(&posts, &drain_event("stream-insert"), far())
        .await
        .unwrap();
    let progress = done.progress.unwrap();
    assert_eq!(progress.rerendered.len(), all.len());
    assert_eq!(done.due.len(), 1);
    assert_eq!(done.due[0].0, update);
    assert_eq!(done.due[0].1.as_ref().unwrap().rerendered.len(), all.len());
    assert!(posts.job().await.unwrap().is_none());
    for slug in &all {
        assert_eq!(
            posts.current(slug).await.unwrap().unwrap().version,
            versions[slug] + 1
        );
    }

    // Its answer did not get through (nothing dropped it): the sweep owes it again,
    // as a success, the site being at this build's versions.
    let again = rerender::wake(&posts, &drain_event("sweep"), far())
        .await
        .unwrap();
    assert!(again.progress.is_none());
    assert_eq!(again.due.len(), 1);
    assert!(again.due[0].1.as_ref().unwrap().up_to_date);
    posts
        .drop_request("7bfd5b3c-4a2e-4f8d-9c1e-update000000")
        .await
        .unwrap();
    assert!(rerender::wake(&posts, &drain_event("sweep"), far())
        .await
        .unwrap()
        .due
        .is_empty());
}

/// A stand-in for the pre-signed S3 URL CloudFormation hands the function: it keeps
/// every PUT body.
struct ResponseUrl {
    base: String,
    answers: Arc<Mutex<Vec<(String, serde_json::Value)>>>,
}

impl ResponseUrl {
    async fn start() -> Self {
        let answers: Arc<Mutex<Vec<(String, serde_json::Value)>>> = Arc::default();
        let kept = answers.clone();
        let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
            let kept = kept.clone();
            async move {
                assert_eq!(req.method(), http::Method::PUT);
                let path = req.uri().path().to_owned();
                let body = axum::body::to_bytes(req.into_body(), 1 << 20)
                    .await
                    .unwrap();
                kept.lock()
                    .unwrap()
                    .push((path, serde_json::from_slice(&body).unwrap()));
                ""
            }
        });
        let addr = blog_e2e::serve_loopback(app).await;
        Self {
            base: format!("http://{addr}"),
            answers,
        }
    }

    fn event(&self, kind: &str) -> String {
        events::load_drain(&format!("cloudformation-{kind}"))
            .replace("http://127.0.0.1:9", &self.base)
    }

    fn take(&self) -> Vec<(String, serde_json::Value)> {
        std::mem::take(&mut *self.answers.lock().unwrap())
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_drain_answers_cloudformation_and_invalidates_once_per_deploy_that_changes_pages() {
    let dir = fixtures::content_dir();
    let d = Deployment::start(Some(dir.path()), Duration::from_secs(1)).await;
    let url = ResponseUrl::start().await;
    let sent = || d.cloudfront.record().accepted.len();
    let invoke = |kind: &'static str| {
        let event = url.event(kind);
        let drain = &d.drain;
        async move { drain.invoke(&event).await.unwrap() }
    };

    // Create, on a site this build wrote: nothing to re-render, nothing to send.
    let out = invoke("create").await;
    assert_eq!(out["answered"], 1, "{out}");
    let answers = url.take();
    assert_eq!(answers.len(), 1);
    let (path, body) = &answers[0];
    assert_eq!(path, "/cloudformation-response/create");
    assert_eq!(body["Status"], "SUCCESS", "{body}");
    assert_eq!(body["PhysicalResourceId"], "site-render");
    assert_eq!(body["LogicalResourceId"], "SiteRender");
    assert_eq!(body["RequestId"], "7bfd5b3c-4a2e-4f8d-9c1e-create000000");
    assert!(body["StackId"].as_str().unwrap().contains(":stack/blog/"));
    assert_eq!(
        body["Data"]["RendererVersion"],
        blog_core::version::RENDERER
    );
    assert_eq!(body["Data"]["PagesVersion"], blog_core::version::PAGES);
    assert_eq!(sent(), 0, "a deploy that changes nothing sends nothing");

    // Update after a deploy that changed the renderer: three posts an older build
    // made are re-rendered, and one `/*` goes out.
    let all = slugs(&d.posts).await;
    let stale: Vec<Slug> = all.iter().take(3).cloned().collect();
    make_stale(&d.posts, &stale).await;
    let out = invoke("update").await;
    assert_eq!(
        out["rerender"]["rerendered"].as_array().unwrap().len(),
        3,
        "{out}"
    );
    let answers = url.take();
    assert_eq!(answers[0].1["Status"], "SUCCESS");
    assert_eq!(answers[0].1["Data"]["Rerendered"], 3);
    assert_eq!(answers[0].1["PhysicalResourceId"], "site-render");
    let record = d.cloudfront.record();
    assert_eq!(record.accepted.len(), 1, "{:?}", record.accepted);
    assert_eq!(record.accepted[0].1, [EVERYTHING]);
    assert!(d
        .posts
        .stale(blog_core::version::RENDERER)
        .await
        .unwrap()
        .is_empty());
    assert!(d.posts.outbox().await.unwrap().pending.is_empty());

    // The same update again (a deploy that changed neither): no invalidation.
    invoke("update").await;
    assert_eq!(url.take()[0].1["Status"], "SUCCESS");
    assert_eq!(sent(), 1);

    // A deploy that changed only the pages (a template or style): one `/*`, no post written.
    let pages_only = SiteVersions {
        pages: old_versions().pages,
        ..SiteVersions::current()
    };
    d.posts
        .record_versions(Some(&SiteVersions::current()), &pages_only, &[], Utc::now())
        .await
        .unwrap();
    let before: Vec<u64> = {
        let mut v = Vec::new();
        for slug in &all {
            v.push(d.posts.current(slug).await.unwrap().unwrap().version);
        }
        v
    };
    let out = invoke("update").await;
    assert!(out["rerender"]["rerendered"].as_array().unwrap().is_empty());
    assert_eq!(url.take()[0].1["Data"]["Rerendered"], 0);
    let record = d.cloudfront.record();
    assert_eq!(record.accepted.len(), 2);
    assert_eq!(record.accepted[1].1, [EVERYTHING]);
    for (slug, version) in all.iter().zip(&before) {
        assert_eq!(
            d.posts.current(slug).await.unwrap().unwrap().version,
            *version
        );
    }

    // A deploy that changed only the site's settings (its title): no version
    // moves, and still one `/*`, since every page shows them.
    let mut retitled: serde_json::Value = serde_json::from_str(&url.event("update")).unwrap();
    retitled["ResourceProperties"]["Settings"] = "A new title|||UTC||".into();
    let out = d.drain.invoke(&retitled.to_string()).await.unwrap();
    assert_eq!(out["answered"], 1, "{out}");
    assert_eq!(url.take()[0].1["Status"], "SUCCESS");
    let record = d.cloudfront.record();
    assert_eq!(record.accepted.len(), 3);
    assert_eq!(record.accepted[2].1, [EVERYTHING]);

    // Delete (the stack goes): answered, nothing changes, nothing sent.
    let out = invoke("delete").await;
    assert_eq!(out["answered"], 1);
    let answers = url.take();
    assert_eq!(answers[0].0, "/cloudformation-response/delete");
    assert_eq!(answers[0].1["Status"], "SUCCESS");
    assert_eq!(answers[0].1["PhysicalResourceId"], "site-render");
    assert_eq!(sent(), 3);
    assert_eq!(
        d.posts.site_versions().await.unwrap(),
        Some(SiteVersions::current())
    );
}

/// The drain's other custom resource: the publish token's SSM parameter
/// (`events/drain/publish-token-*.json`), made on Create and removed on Delete,
/// the token itself never in an answer.
#[tokio::test(flavor = "multi_thread")]
async fn the_drain_makes_the_publish_token_on_create_and_removes_it_on_delete() {
    let d = Deployment::start(None, Duration::from_secs(1)).await;
    let url = ResponseUrl::start().await;
    let ssm = blog_core::aws::ssm(&d.sdk);
    let name = format!("/{}/publish-token", blog_e2e::unique_name("blog"));
    let event = |kind: &str, name: &str| {
        events::load_drain(&format!("publish-token-{kind}"))
            .replace("http://127.0.0.1:9", &url.base)
            .replace("/blog/publish-token", name)
    };
    let (ssm, parameter) = (&ssm, name.as_str());
    let stored = move || async move {
        ssm.get_parameter()
            .name(parameter)
            .with_decryption(true)
            .send()
            .await
            .map(|out| out.parameter.unwrap())
    };

    let out = d.drain.invoke(&event("create", &name)).await.unwrap();
    assert_eq!(out["token"], "SUCCESS", "{out}");
    let answers = url.take();
    assert_eq!(answers.len(), 1);
    let (path, body) = &answers[0];
    assert_eq!(path, "/cloudformation-response/token-create");
    assert_eq!(body["Status"], "SUCCESS", "{body}");
    assert_eq!(body["PhysicalResourceId"], name.as_str());
    assert_eq!(body["LogicalResourceId"], "PublishTokenParameter");
    assert_eq!(body["Data"]["Name"], name.as_str());
    let parameter = stored().await.unwrap();
    assert_eq!(
        parameter.r#type,
        Some(aws_sdk_ssm::types::ParameterType::SecureString)
    );
    let token = parameter.value.unwrap();
    assert_eq!(token.len(), 64, "256 bits in hex");
    assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
    assert!(blog_core::auth::Token::new(&token).is_ok());
    assert!(
        !body.to_string().contains(&token),
        "the answer never carries the token"
    );
    // The site render ignores it: no re-render ran, no request was kept.
    assert!(out.get("rerender").is_none(), "{out}");

    // A retried Create (Lambda retries an invocation that failed) keeps the token.
    let out = d.drain.invoke(&event("create", &name)).await.unwrap();
    assert_eq!(out["token"], "SUCCESS");
    let answers = url.take();
    assert!(
        answers[0].1["Reason"].as_str().unwrap().contains("kept"),
        "{:?}",
        answers[0].1
    );
    assert_eq!(stored().await.unwrap().value.unwrap(), token);

    // An Update that changes nothing keeps it too.
    let mut update: serde_json::Value = serde_json::from_str(&event("delete", &name)).unwrap();
    update["RequestType"] = "Update".into();
    update["OldResourceProperties"] = update["ResourceProperties"].clone();
    d.drain.invoke(&update.to_string()).await.unwrap();
    assert_eq!(url.take()[0].1["PhysicalResourceId"], name.as_str());
    assert_eq!(stored().await.unwrap().value.unwrap(), token);

    // A Delete whose physical id is not the parameter this resource names (a Create
    // that timed out before its answer): nothing is deleted, and it succeeds.
    let mut stray: serde_json::Value = serde_json::from_str(&event("delete", &name)).unwrap();
    stray["PhysicalResourceId"] = "2026/12/01/[$LATEST]0123456789abcdef".into();
    let out = d.drain.invoke(&stray.to_string()).await.unwrap();
    assert_eq!(out["token"], "SUCCESS", "{out}");
    url.take();
    assert_eq!(stored().await.unwrap().value.unwrap(), token);

    // Delete removes it; a second Delete (a retry) finds nothing and succeeds.
    for _ in 0..2 {
        let out = d.drain.invoke(&event("delete", &name)).await.unwrap();
        assert_eq!(out["token"], "SUCCESS", "{out}");
        let answers = url.take();
        assert_eq!(answers[0].0, "/cloudformation-response/token-delete");
        assert_eq!(answers[0].1["PhysicalResourceId"], name.as_str());
        let gone = stored().await.unwrap_err();
        assert!(
            gone.as_service_error()
                .is_some_and(|e| e.is_parameter_not_found()),
            "{gone:?}"
        );
    }

    // A plain String parameter already at the name was not made by this resource:
    // FAILED with what to delete, and it is left as it was.
    let planted = format!("/{}/publish-token", blog_e2e::unique_name("blog"));
    ssm.put_parameter()
        .name(&planted)
        .value("not-a-token")
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .send()
        .await
        .unwrap();
    let out = d.drain.invoke(&event("create", &planted)).await.unwrap();
    assert_eq!(out["token"], "FAILED", "{out}");
    let body = url.take().remove(0).1;
    let reason = body["Reason"].as_str().unwrap();
    assert!(
        reason.contains("not a SecureString") && reason.contains("delete-parameter"),
        "{body}"
    );
    let kept = ssm.get_parameter().name(&planted).send().await.unwrap();
    assert_eq!(
        kept.parameter.unwrap().value.as_deref(),
        Some("not-a-token")
    );

    // A Name that is not a parameter path: FAILED with what to fix, nothing stored,
    // and the rollback's Delete of the resource that never was succeeds.
    let out = d
        .drain
        .invoke(&event("create", "publish-token"))
        .await
        .unwrap();
    assert_eq!(out["token"], "FAILED");
    let body = url.take().remove(0).1;
    assert!(
        body["Reason"].as_str().unwrap().contains("parameter path"),
        "{body}"
    );
    let failed_id = body["PhysicalResourceId"].as_str().unwrap().to_owned();
    let mut rollback: serde_json::Value =
        serde_json::from_str(&event("delete", "publish-token")).unwrap();
    rollback["PhysicalResourceId"] = failed_id.into();
    let out = d.drain.invoke(&rollback.to_string()).await.unwrap();
    assert_eq!(out["token"], "SUCCESS", "{out}");
    assert_eq!(url.take()[0].1["Status"], "SUCCESS");
}
