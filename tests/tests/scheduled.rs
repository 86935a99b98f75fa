//! Scheduled posts through the release `publish` and `drain` bootstraps, with
//! DynamoDB on DynamoDB Local, EventBridge Scheduler and S3 on moto, and
//! CloudFront behind the quota stand-in. moto keeps schedules but never fires
//! them and accepts any expression, so the test reads each expression back with
//! `schedule::parse_at` and fires the drain itself, with the event Scheduler would
//! send (`events/drain/scheduled.json`), before and at the due minute: a post
//! rescheduled twice has one schedule, its older neighbour links to it from that
//! minute and not before, CloudFront gets exactly the paths its becoming public
//! changed, a post drafted or deleted leaves no schedule, and the sweep sends the
//! pages of a post that turned public without its schedule firing, once.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use std::time::Duration;

use aws_sdk_scheduler::types::ActionAfterCompletion;
use blog_core::cdn::outbox::Outbox;
use blog_core::post::Slug;
use blog_core::schedule::{fire_time, parse_at, schedule_name};
use blog_core::store::{NoAssets, PostWriter};
use blog_e2e::deployment::Deployment;
use blog_e2e::events::{self, LambdaResponse};
use blog_e2e::fixtures;
use blog_e2e::throttle::api_event;
use chrono::{DateTime, Utc};
use serde_json::Value;

use blog_e2e::moto::DRAIN_ARN;

/// The deployment, seeded with the sample content.
struct Deployed {
    d: Deployment,
    _content: tempfile::TempDir,
}

impl std::ops::Deref for Deployed {
    type Target = Deployment;
    fn deref(&self) -> &Deployment {
        &self.d
    }
}

async fn deployed() -> Deployed {
    let content = fixtures::content_dir();
    Deployed {
        d: Deployment::start(Some(content.path()), Duration::from_secs(1)).await,
        _content: content,
    }
}

impl Deployed {
    async fn api(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u16, Value) {
        let out = self
            .publish
            .invoke(&api_event(method, path, headers, body.as_bytes()))
            .await
            .unwrap();
        let res = LambdaResponse::parse(&out);
        (
            res.status,
            serde_json::from_slice(&res.body).unwrap_or(Value::Null),
        )
    }

    async fn write(&self, method: &str, slug: &str, version: Option<u64>, body: &str) -> Value {
        let tag = version.map(|v| format!("\"{v}\""));
        let mut headers = vec![("content-type", "text/markdown")];
        headers.extend(tag.as_deref().map(|t| ("if-match", t)));
        let path = if method == "POST" {
            "/api/posts".to_owned()
        } else {
            format!("/api/posts/{slug}")
        };
        let (status, json) = self.api(method, &path, &headers, body).await;
        assert!(
            (200..300).contains(&status),
            "{method} {slug}: {status} {json}"
        );
        json
    }

    /// (name, expression, its time, action after completion, target ARN, input)
    async fn schedules(
        &self,
    ) -> Vec<(String, String, Option<DateTime<Utc>>, bool, String, String)> {
        let client = blog_core::aws::scheduler(&self.sdk);
        let list = client
            .list_schedules()
            .group_name(&self.group)
            .send()
            .await
            .unwrap();
        let mut out = Vec::new();
        for summary in list.schedules() {
            let name = summary.name().unwrap().to_owned();
            let s = client
                .get_schedule()
                .group_name(&self.group)
                .name(&name)
                .send()
                .await
                .unwrap();
            let expression = s.schedule_expression().unwrap().to_owned();
            let target = s.target().unwrap();
            out.push((
                name,
                expression.clone(),
                parse_at(&expression),
                s.action_after_completion() == Some(&ActionAfterCompletion::Delete),
                target.arn().to_owned(),
                target.input().unwrap_or_default().to_owned(),
            ));
        }
        out
    }

    /// The drain, fired as Scheduler would for `slug`.
    async fn fire(&self, slug: &str) -> Value {
        let event = events::load_drain("scheduled").replace("a-scheduled-post", slug);
        self.drain.invoke(&event).await.unwrap()
    }

    /// The older neighbour's page, as readers get it now.
    async fn page(&self, path: &str) -> String {
        let app = blog_core::App::new(blog_core::Config::default(), self.posts.clone(), NoAssets)
            .unwrap();
        let req = http::Request::builder()
            .uri(path)
            .body(bytes::Bytes::new())
            .unwrap();
        let res = blog_core::routes::handle(&app, None, req).await;
        assert_eq!(res.status(), 200, "{path}");
        String::from_utf8_lossy(res.body()).into_owned()
    }
}

fn source(slug: &str, date: DateTime<Utc>, extra: &str) -> String {
    format!(
        "---\ntitle: Scheduled {slug}\nslug: {slug}\ndate: {}\ntags: [scheduling]\n{extra}---\nGoes live at its minute.\n",
        date.to_rfc3339()
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scheduled_post_reaches_the_cdn_at_its_minute() {
    let d = deployed().await;
    let slug = "goes-live-soon";
    // The first whole minute at least 8 s away.
    let due = fire_time(Utc::now() + chrono::Duration::seconds(8));

    let created = d
        .write(
            "POST",
            slug,
            None,
            &source(slug, due + chrono::Duration::hours(5), ""),
        )
        .await;
    assert_eq!(created["schedule"]["status"], "set", "{created}");
    assert_eq!(created["public"], false);
    // Moved twice: still one schedule, at the last time.
    d.write(
        "PUT",
        slug,
        Some(1),
        &source(slug, due + chrono::Duration::hours(1), ""),
    )
    .await;
    let moved = d.write("PUT", slug, Some(2), &source(slug, due, "")).await;
    assert_eq!(
        moved["schedule"]["at"],
        due.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    let schedules = d.schedules().await;
    assert_eq!(schedules.len(), 1, "{schedules:?}");
    let (name, expression, at, deletes, target, input) = &schedules[0];
    assert_eq!(name, &schedule_name(&Slug::parse(slug).unwrap()));
    assert_eq!(
        *at,
        Some(due),
        "{expression} is not at(...) of the due minute"
    );
    assert!(deletes, "ActionAfterCompletion DELETE");
    assert_eq!(target, DRAIN_ARN);
    assert!(input.contains(slug), "{input}");
    let (_, list) = d.api("GET", "/api/posts", &[], "").await;
    let entry = list["posts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["slug"] == slug)
        .unwrap();
    assert_eq!(
        entry["scheduled_for"],
        due.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );

    // What the writes queued goes out first, so what follows is the schedule's.
    let out = d.drain.invoke(&events::load_drain("sweep")).await.unwrap();
    assert_eq!(out["left"], 0, "{out}");
    let sent_before = d.cloudfront.record().accepted.len();
    let older = d
        .posts
        .current(&Slug::parse(slug).unwrap())
        .await
        .unwrap()
        .unwrap()
        .post
        .previous
        .expect("an older post")
        .slug;
    let link = format!("/posts/{slug}/");

    // Before the minute: no link from the neighbour, and firing queues nothing.
    assert!(!d.page(&format!("/posts/{older}/")).await.contains(&link));
    let out = d.fire(slug).await;
    assert_eq!(out["left"], 0, "{out}");
    assert_eq!(d.cloudfront.record().accepted.len(), sent_before);

    // At the minute: the link, and exactly the paths that changed, in one batch.
    let wait = (due - Utc::now()).to_std().unwrap_or_default();
    tokio::time::sleep(wait + Duration::from_millis(50)).await;
    assert!(d.page(&format!("/posts/{older}/")).await.contains(&link));
    let out = d.fire(slug).await;
    assert_eq!(out["left"], 0, "{out}");
    let record = d.cloudfront.record();
    let batches: Vec<&Vec<String>> = record.accepted[sent_before..]
        .iter()
        .map(|(_, b)| b)
        .collect();
    let mut expected: Vec<String> = [
        "/",
        "/?*",
        "/archive/",
        "/feed.xml",
        "/rss.xml",
        "/sitemap.xml",
        "/tags/",
        "/tags/scheduling/",
        "/tags/scheduling/?*",
        "/tags/scheduling/feed.xml",
    ]
    .iter()
    .map(|p| (*p).to_owned())
    .chain([link.clone(), format!("/posts/{older}/")])
    .collect();
    expected.sort();
    assert_eq!(batches, vec![&expected]);
    assert!(d.posts.outbox().await.unwrap().pending.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn drafted_or_deleted_scheduled_posts_leave_no_schedule() {
    let d = deployed().await;
    let later = fire_time(Utc::now() + chrono::Duration::days(3));
    let (a, b) = ("drafted-later", "deleted-later");
    d.write("POST", a, None, &source(a, later, "")).await;
    d.write("POST", b, None, &source(b, later, "")).await;
    assert_eq!(d.schedules().await.len(), 2);
    let drafted = d
        .write("PUT", a, Some(1), &source(a, later, "draft: true\n"))
        .await;
    assert_eq!(drafted["schedule"]["status"], "cleared", "{drafted}");
    let deleted = d.write("DELETE", b, Some(1), "").await;
    assert_eq!(deleted["schedule"]["status"], "cleared", "{deleted}");
    assert!(d.schedules().await.is_empty(), "{:?}", d.schedules().await);
    // Undrafted: scheduled again; a stale schedule for a deleted post does nothing.
    d.write("PUT", a, Some(2), &source(a, later, "")).await;
    assert_eq!(d.schedules().await.len(), 1);
    let out = d.fire(b).await;
    assert_eq!(out["left"], 0, "{out}");

    // A post that turned public without its schedule firing (never set, failed,
    // or given up): the sweep finds it and sends its pages, once.
    let c = "schedule-never-came";
    d.write(
        "POST",
        c,
        None,
        &source(c, Utc::now() + chrono::Duration::seconds(3), ""),
    )
    .await;
    let out = d.drain.invoke(&events::load_drain("sweep")).await.unwrap();
    assert_eq!(out["left"], 0, "{out}");
    let before = d.cloudfront.record().accepted.len();
    tokio::time::sleep(Duration::from_secs(4)).await;
    d.drain.invoke(&events::load_drain("sweep")).await.unwrap();
    let record = d.cloudfront.record();
    let sent: Vec<_> = record.accepted[before..]
        .iter()
        .map(|(_, b)| b.clone())
        .collect();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0].contains(&format!("/posts/{c}/")), "{sent:?}");
    d.drain.invoke(&events::load_drain("sweep")).await.unwrap();
    assert_eq!(
        d.cloudfront.record().accepted.len(),
        before + 1,
        "sent twice"
    );
}
