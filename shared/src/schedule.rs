//! Scheduled posts reach the CDN at their minute. A post dated in the future is
//! hidden until then, but the CDN keeps the pages it will change (listings, tags,
//! feeds, the sitemap, its older neighbour's "next" link) for a day. So a write
//! that makes a post public at a future time sets a one-time schedule for that
//! minute, whose target is the drain function; when it fires, the drain queues the
//! paths that changed ([`due_paths`]) and sends them. A schedule is named after its
//! post's slug, so setting it again replaces it and a retry never makes two.

use std::future::Future;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::post::{Neighbour, Post, Slug};

#[cfg(feature = "scheduler")]
pub mod eventbridge;

/// EventBridge Scheduler's limit on schedule names.
const MAX_NAME: usize = 64;

/// The schedule's name for `slug`: `post-<slug>`, or for a long slug its first
/// characters and a hash of the whole (names are at most 64 characters of
/// `[0-9a-zA-Z-_.]`, and slugs are `[a-z0-9-]`).
pub fn schedule_name(slug: &Slug) -> String {
    let name = format!("post-{slug}");
    if name.len() <= MAX_NAME {
        return name;
    }
    let hash = Sha256::digest(slug.as_str().as_bytes());
    let hex: String = hash[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("post-{}-{hex}", &slug.as_str()[..MAX_NAME - 6 - hex.len()])
}

/// When the schedule fires: the post's time rounded up to the whole minute
/// (Scheduler's precision), so it never fires before the post is public.
pub fn fire_time(date: DateTime<Utc>) -> DateTime<Utc> {
    let minute = TimeDelta::minutes(1);
    let floor = date.duration_trunc(minute).unwrap_or(date);
    if floor == date {
        date
    } else {
        floor + minute
    }
}

/// The schedule expression for `at`, in UTC (`at(2026-12-01T09:00:00)`).
pub fn at_expression(at: DateTime<Utc>) -> String {
    format!("at({})", at.format("%Y-%m-%dT%H:%M:%S"))
}

/// Reads an `at(...)` expression back, refusing anything Scheduler would refuse
/// (moto accepts any string, so the tests check expressions with this).
pub fn parse_at(expression: &str) -> Option<DateTime<Utc>> {
    let inner = expression.strip_prefix("at(")?.strip_suffix(')')?;
    chrono::NaiveDateTime::parse_from_str(inner, "%Y-%m-%dT%H:%M:%S")
        .ok()
        .map(|t| t.and_utc())
        .filter(|t| at_expression(*t) == expression)
}

/// What a write does to the schedules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Set (create or replace) the post's schedule to fire at this time.
    Set(Slug, DateTime<Utc>),
    /// Remove the post's schedule: it was scheduled and no longer is.
    Clear(Slug),
}

/// The schedule actions for a write from `before` to `after` at `now`: a post
/// public at a future time gets a schedule; one that was scheduled and is not any
/// more (deleted, drafted, dated in the past, renamed away) loses it.
pub fn plan(before: Option<&Post>, after: Option<&Post>, now: DateTime<Utc>) -> Vec<Action> {
    let scheduled = |p: &&Post| !p.draft && p.date.utc() > now;
    let mut actions = Vec::new();
    let set = after.filter(scheduled);
    if let Some(old) = before.filter(scheduled) {
        if set.is_none_or(|p| p.slug != old.slug) {
            actions.push(Action::Clear(old.slug.clone()));
        }
    }
    if let Some(p) = set {
        actions.push(Action::Set(p.slug.clone(), fire_time(p.date.utc())));
    }
    actions
}

/// The paths that change when `post` becomes public: its own page and aliases,
/// the listings, tags, feeds and sitemap, and its neighbours' pages, which link to
/// it from now on. Nothing when it is not public at `now` (drafted, moved later or
/// deleted since the schedule was set: a stale schedule does no harm).
pub fn due_paths(post: Option<&Post>, now: DateTime<Utc>) -> Vec<String> {
    let Some(post) = post.filter(|p| p.is_public(now)) else {
        return Vec::new();
    };
    let neighbours: Vec<Neighbour> = post
        .previous
        .iter()
        .chain(post.next.iter())
        .cloned()
        .collect();
    crate::cdn::paths::changed(None, Some(post), &neighbours, now)
}

/// A post's schedule fired: queues the paths its becoming public changed (read
/// consistently, so the post as it is now decides). Returns the entry's id.
pub async fn fire<P>(
    store: &P,
    slug: &Slug,
    now: DateTime<Utc>,
) -> Result<Option<String>, crate::error::StoreError>
where
    P: crate::store::PostWriter + crate::cdn::outbox::Outbox,
{
    let post = store.current(slug).await?.map(|v| v.post);
    let paths = due_paths(post.as_ref(), now);
    tracing::info!(%slug, paths = paths.len(), "scheduled post due");
    store.queue(&paths, now).await
}

/// How far back the sweep looks for posts that turned public: longer than its
/// 15-minute period, so consecutive sweeps overlap.
pub const SWEEP_WINDOW: TimeDelta = TimeDelta::minutes(20);

/// The sweep's backstop for schedules (one never set, one whose set failed, one
/// whose delivery Scheduler gave up on, posts dated later before this existed):
/// every post that turned public within [`SWEEP_WINDOW`] whose page no batch sent
/// or queued since its time covers gets its paths queued. Returns how many.
pub async fn sweep<P>(store: &P, now: DateTime<Utc>) -> Result<usize, crate::error::StoreError>
where
    P: crate::store::Posts + crate::store::PostWriter + crate::cdn::outbox::Outbox,
{
    let query = crate::store::ListQuery {
        tag: None,
        cursor: crate::store::Cursor::First,
        limit: 20,
        now,
    };
    let recent = store.list(&query).await?;
    let state = store.outbox().await?;
    let mut queued = 0;
    for post in recent
        .posts
        .iter()
        .filter(|p| p.date.utc() > now - SWEEP_WINDOW)
    {
        let (path, since) = (crate::post::post_path(&post.slug), post.date.utc());
        let covers = |paths: &[String]| paths.iter().any(|p| *p == path || p == "/*");
        let covered = state
            .sent
            .iter()
            .any(|s| s.sent_at >= since && covers(&s.paths))
            || state
                .pending
                .iter()
                .any(|q| q.queued_at >= since && covers(&q.paths));
        if !covered && fire(store, &post.slug, now).await?.is_some() {
            queued += 1;
        }
    }
    Ok(queued)
}

/// Why a schedule could not be set or removed (shown to the author).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct ScheduleError(pub String);

/// Where schedules live.
pub trait Schedules: Send + Sync {
    /// Creates or replaces the post's one-time schedule.
    fn set(
        &self,
        slug: &Slug,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), ScheduleError>> + Send;

    /// Removes the post's schedule; none is not an error.
    fn clear(&self, slug: &Slug) -> impl Future<Output = Result<(), ScheduleError>> + Send;
}

/// What a write did to its post's schedule, as the API reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScheduleReport {
    /// `set`, `cleared` or `failed`.
    pub status: &'static str,
    /// When it fires (RFC 3339, UTC), for `set`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// The schedule's name.
    pub name: String,
    /// Why it failed: the write stands; publishing again retries the schedule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Applies `actions`; returns the report of the last one (the post's own).
pub async fn apply<S: Schedules>(schedules: &S, actions: Vec<Action>) -> Option<ScheduleReport> {
    let mut report = None;
    for action in actions {
        let (slug, at, result) = match &action {
            Action::Set(slug, at) => (slug, Some(*at), schedules.set(slug, *at).await),
            Action::Clear(slug) => (slug, None, schedules.clear(slug).await),
        };
        if let Err(e) = &result {
            tracing::warn!(%slug, error = %e, "schedule not updated");
        }
        report = Some(ScheduleReport {
            status: match (&result, at) {
                (Err(_), _) => "failed",
                (Ok(()), Some(_)) => "set",
                (Ok(()), None) => "cleared",
            },
            at: at.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            name: schedule_name(slug),
            error: result.err().map(|e| e.0),
        });
    }
    report
}

/// No schedules: `blog serve` needs none (its page cache notices a scheduled post's
/// minute by itself, and there is no CDN to clear).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoSchedules;

impl Schedules for NoSchedules {
    async fn set(&self, _slug: &Slug, _at: DateTime<Utc>) -> Result<(), ScheduleError> {
        Ok(())
    }

    async fn clear(&self, _slug: &Slug) -> Result<(), ScheduleError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authoring::compile;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn post(date: &str, extra: &str) -> Post {
        compile(
            &format!("---\ntitle: P\nslug: p\ndate: {date}\n{extra}---\nBody.\n"),
            None,
        )
        .unwrap()
    }

    #[test]
    fn names_are_short_stable_and_distinct() {
        let short = Slug::parse("hello-world").unwrap();
        assert_eq!(schedule_name(&short), "post-hello-world");
        let a = Slug::parse(&"a".repeat(100)).unwrap();
        let b = Slug::parse(&format!("{}b", "a".repeat(99))).unwrap();
        assert_eq!(schedule_name(&a).len(), 64);
        assert_ne!(schedule_name(&a), schedule_name(&b));
        assert_eq!(schedule_name(&a), schedule_name(&a.clone()));
        assert!(schedule_name(&a)
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-'));
    }

    #[test]
    fn fire_times_round_up_to_the_minute_and_expressions_read_back() {
        assert_eq!(
            fire_time(at("2026-12-01T09:00:00Z")),
            at("2026-12-01T09:00:00Z")
        );
        assert_eq!(
            fire_time(at("2026-12-01T09:00:01Z")),
            at("2026-12-01T09:01:00Z")
        );
        assert_eq!(
            fire_time(at("2026-12-31T23:59:30Z")),
            at("2027-01-01T00:00:00Z")
        );
        let e = at_expression(at("2026-12-01T09:00:00Z"));
        assert_eq!(e, "at(2026-12-01T09:00:00)");
        assert_eq!(parse_at(&e), Some(at("2026-12-01T09:00:00Z")));
        for bad in [
            "at(not-a-date)",
            "at(2026-12-01 09:00:00)",
            "cron(0 9 * * ? *)",
            "at(2026-12-01T09:00)",
        ] {
            assert_eq!(parse_at(bad), None, "{bad}");
        }
    }

    #[test]
    fn plans_set_move_and_clear() {
        let now = at("2026-11-30T12:00:00Z");
        let future = post("2026-12-01T09:00:30Z", "");
        let slug = future.slug.clone();
        let set = Action::Set(slug.clone(), at("2026-12-01T09:01:00Z"));
        assert_eq!(plan(None, Some(&future), now), std::slice::from_ref(&set));
        // Moving the date sets again (replacing it); unchanged too (idempotent).
        assert_eq!(plan(Some(&future), Some(&future), now), [set]);
        // Drafted, deleted, or dated in the past: cleared.
        let draft = post("2026-12-01T09:00:30Z", "draft: true\n");
        let past = post("2026-01-01", "");
        for after in [Some(&draft), None, Some(&past)] {
            assert_eq!(
                plan(Some(&future), after, now),
                [Action::Clear(slug.clone())]
            );
        }
        // Never scheduled: nothing.
        assert!(plan(Some(&past), Some(&past), now).is_empty());
        assert!(plan(None, Some(&draft), now).is_empty());
    }

    #[test]
    fn due_paths_are_the_pages_the_post_joins_and_nothing_before_it_is_public() {
        let mut p = post("2026-12-01T09:00:00Z", "tags: [rust]\n");
        let older = compile("---\ntitle: Older\ndate: 2026-11-01\n---\nx\n", None).unwrap();
        p.previous = Some(Neighbour::of(&older));
        let before = at("2026-12-01T08:59:59Z");
        let after = at("2026-12-01T09:00:00Z");
        assert!(due_paths(Some(&p), before).is_empty());
        assert!(due_paths(None, after).is_empty());
        let paths = due_paths(Some(&p), after);
        for want in [
            "/",
            "/?*",
            "/archive/",
            "/posts/p/",
            "/feed.xml",
            "/rss.xml",
            "/sitemap.xml",
            "/tags/rust/",
            "/tags/rust/feed.xml",
        ] {
            assert!(paths.contains(&want.to_owned()), "{want} in {paths:?}");
        }
        // The older neighbour's page: it links to the post from now on.
        assert!(paths.contains(&"/posts/older/".to_owned()), "{paths:?}");
    }
}
